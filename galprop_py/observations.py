"""Published cosmic-ray measurements shipped with the package, for plots and fits.

Each dataset is a table in ``galprop_py/data/observations/`` with its provenance header
(source, commit, publication, columns, units; see the README there).  ``load(name)`` returns
an :class:`ObservedSpectrum` whose ``label`` carries the citation, so a legend built from it
credits the measurement.

Error bars are total errors: the file's total-error columns where it has them (CRDB/USINE
10-column and SSDC 4-column formats), statistical and systematic errors added in quadrature
otherwise (KISS/CRDB 6-column format).

Example::

    from galprop_py import observations
    ams = observations.load("ams02_proton")   # x: T per nucleon [GeV/n], y: flux
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from .units import FLUX_UNIT

__all__ = ["DATASETS", "ObservedSpectrum", "available", "load", "read_table", "header"]

_FLUX_PER_GEV = "m^-2 s^-1 sr^-1 GeV^-1"
_FLUX_PER_GV = "m^-2 s^-1 sr^-1 GV^-1"

_AMS_P = "AMS Collab., Aguilar et al., PRL 114, 171103 (2015)"
_AMS_HE = "AMS Collab., Aguilar et al., PRL 115, 211101 (2015)"
_AMS_BC = "AMS Collab., Aguilar et al., PRL 117, 231102 (2016)"
_AMS_LEP = "AMS Collab., Phys. Rep. 894, 1 (2021)"
_VOY = "Stone et al., Science 341, 150 (2013)"


@dataclass(frozen=True)
class _Dataset:
    filename: str
    fmt: str  # "crdb10", "kiss6" or "ssdc4"
    x_unit: str
    y_unit: str
    label: str
    quantity: str


DATASETS: dict[str, _Dataset] = {
    "ams02_proton": _Dataset(
        "ams02_proton_flux_PRL2015_ekn_statsys.dat",
        "crdb10",
        "GeV/n",
        FLUX_UNIT,
        f"AMS-02 protons ({_AMS_P})",
        "H flux vs kinetic energy per nucleon",
    ),
    "ams02_proton_rigidity": _Dataset(
        "ams02_proton_flux_PRL2015_rigidity.txt",
        "ssdc4",
        "GV",
        _FLUX_PER_GV,
        f"AMS-02 protons ({_AMS_P})",
        "H flux vs rigidity",
    ),
    "ams02_helium": _Dataset(
        "ams02_helium_flux_PRL2015_ekn_statsys.dat",
        "crdb10",
        "GeV/n",
        FLUX_UNIT,
        f"AMS-02 helium ({_AMS_HE})",
        "He flux vs kinetic energy per nucleon",
    ),
    "ams02_bc": _Dataset(
        "ams02_BC_ratio_PRL2016_ekn.txt",
        "kiss6",
        "GeV/n",
        "1",
        f"AMS-02 B/C ({_AMS_BC})",
        "B/C vs kinetic energy per nucleon",
    ),
    "ams02_electron": _Dataset(
        "ams02_electron_flux_PhysRep2021.txt",
        "kiss6",
        "GeV",
        _FLUX_PER_GEV,
        f"AMS-02 electrons ({_AMS_LEP})",
        "e- flux vs energy",
    ),
    "ams02_positron": _Dataset(
        "ams02_positron_flux_PhysRep2021.txt",
        "kiss6",
        "GeV",
        _FLUX_PER_GEV,
        f"AMS-02 positrons ({_AMS_LEP})",
        "e+ flux vs energy",
    ),
    "ams02_positron_fraction": _Dataset(
        "ams02_positron_fraction_PhysRep2021.txt",
        "kiss6",
        "GeV",
        "1",
        f"AMS-02 positron fraction ({_AMS_LEP})",
        "e+/(e+ + e-) vs energy",
    ),
    "voyager1_proton": _Dataset(
        "voyager1_proton_LIS_Stone2013_crdb.dat",
        "crdb10",
        "GeV/n",
        FLUX_UNIT,
        f"Voyager 1 protons ({_VOY})",
        "H flux (LIS) vs kinetic energy per nucleon",
    ),
    "voyager1_helium": _Dataset(
        "voyager1_helium_LIS_Stone2013_crdb.dat",
        "crdb10",
        "GeV/n",
        FLUX_UNIT,
        f"Voyager 1 helium ({_VOY})",
        "He flux (LIS) vs kinetic energy per nucleon",
    ),
}

_NCOLS = {"crdb10": 10, "kiss6": 6, "ssdc4": 4}


@dataclass(frozen=True)
class ObservedSpectrum:
    """One measured spectrum or ratio.

    Attributes:
        name: the key it was loaded by.
        x: abscissa (energy per nucleon, energy or rigidity; see ``x_unit``), increasing.
        y: measured flux or ratio.
        y_err_lo, y_err_hi: total lower / upper error on ``y`` (positive numbers).
        x_unit, y_unit: units of ``x`` and ``y`` ("1" for a dimensionless ratio).
        label: short description with the publication, for plot legends.
        quantity: what is measured, in words.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    y_err_lo: np.ndarray
    y_err_hi: np.ndarray
    x_unit: str
    y_unit: str
    label: str
    quantity: str


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(DATASETS)


def _dataset(name: str) -> _Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(
            f"unknown observational dataset {name!r}; allowed: {', '.join(available())}"
        ) from None


def _text(filename: str) -> str:
    path = resources.files("galprop_py") / "data" / "observations" / filename
    return path.read_text(encoding="utf-8")


def header(name: str) -> str:
    """The provenance header and original comment lines of a dataset's file."""
    text = _text(_dataset(name).filename)
    return "\n".join(line for line in text.splitlines() if line.startswith("#"))


def read_table(text: str, ncols: int) -> np.ndarray:
    """Parse a whitespace table, skipping ``#`` comment and blank lines.

    Returns an array of shape (rows, ncols); a row with another number of columns is an
    error that names the line.
    """
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        fields = s.split()
        if len(fields) != ncols:
            raise ValueError(f"line {lineno}: expected {ncols} columns, found {len(fields)}")
        rows.append([float(v) for v in fields])
    return np.array(rows, dtype=float).reshape(-1, ncols)


def load(name: str) -> ObservedSpectrum:
    """Load the dataset ``name`` (see :func:`available`), sorted by increasing ``x``."""
    ds = _dataset(name)
    t = read_table(_text(ds.filename), _NCOLS[ds.fmt])
    if ds.fmt == "crdb10":  # <E> Elo Eup y stat_lo stat_up syst_lo syst_up tot_lo tot_up
        x, y, lo, hi = t[:, 0], t[:, 3], t[:, 8], t[:, 9]
    elif ds.fmt == "kiss6":  # x y stat_lo stat_hi syst_lo syst_hi
        x, y = t[:, 0], t[:, 1]
        lo, hi = np.hypot(t[:, 2], t[:, 4]), np.hypot(t[:, 3], t[:, 5])
    else:  # ssdc4: R flux tot_lo tot_hi
        x, y, lo, hi = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
    order = np.argsort(x, kind="stable")
    return ObservedSpectrum(
        name=name,
        x=x[order],
        y=y[order],
        y_err_lo=np.abs(lo[order]),
        y_err_hi=np.abs(hi[order]),
        x_unit=ds.x_unit,
        y_unit=ds.y_unit,
        label=ds.label,
        quantity=ds.quantity,
    )
