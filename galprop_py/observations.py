"""Published cosmic-ray measurements shipped with the package, for plots and fits.

Each dataset is a table in ``galprop_py/data/observations/`` with its provenance header
(source, commit, publication, columns, units; see the README there).  ``load(name)`` returns
an :class:`ObservedSpectrum` whose ``label`` carries the citation, so a legend built from it
credits the measurement, and whose ``x_axis`` says what the abscissa is: rigidity [GV],
kinetic energy per nucleon [GeV/n] or (leptons) energy [GeV].  Data are kept on the axis they
were published on: AMS-02 and PAMELA nuclei and B/C in rigidity, Voyager 1, HEAO-3 and the
10Be/9Be measurements in kinetic energy per nucleon.

Error bars are total errors, kept as (lower, upper) pairs: the file's total-error columns
where it has them (CRDB/USINE 10-column and SSDC 4-column formats), statistical and
systematic errors added in quadrature otherwise (KISS/CRDB 6-column format, Voyager 1 tables
of Cummings et al. 2016).  Tables in MeV/n are converted to GeV/n (fluxes to per GeV/n) with
:mod:`galprop_py.units`.

Example::

    from galprop_py import observations
    ams = observations.load("ams02_proton")   # x: T per nucleon [GeV/n], y: flux
    bc = observations.load("ams02_bc_rigidity")   # x: rigidity [GV], y: B/C
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from .units import FLUX_UNIT, energy_mev_to_gev, flux_per_mev_to_per_gev

__all__ = [
    "DATASETS",
    "ENERGY",
    "KINETIC_ENERGY_PER_NUCLEON",
    "RIGIDITY",
    "VOYAGER1_ELEMENTS",
    "ObservedSpectrum",
    "available",
    "header",
    "is_interstellar",
    "load",
    "read_table",
]

#: values of ``x_axis``
RIGIDITY = "rigidity"
KINETIC_ENERGY_PER_NUCLEON = "kinetic_energy_per_nucleon"
ENERGY = "energy"

_FLUX_PER_GEV = "m^-2 s^-1 sr^-1 GeV^-1"
_FLUX_PER_GV = "m^-2 s^-1 sr^-1 GV^-1"

_AMS_P = "AMS Collab., Aguilar et al., PRL 114, 171103 (2015)"
_AMS_HE = "AMS Collab., Aguilar et al., PRL 115, 211101 (2015)"
_AMS_BC = "AMS Collab., Aguilar et al., PRL 117, 231102 (2016)"
_AMS_HE17 = "AMS Collab., Aguilar et al., PRL 119, 251101 (2017)"
_AMS_BC18 = "AMS Collab., Aguilar et al., PRL 120, 021101 (2018)"
_AMS_2021 = "AMS Collab., Phys. Rep. 894, 1 (2021)"
_PAMELA_BC = "PAMELA Collab., Adriani et al., ApJ 791, 93 (2014)"
_HEAO3 = "HEAO-3-C2, Engelmann et al., A&A 233, 96 (1990)"
_ACE = "ACE-CRIS, Yanasak et al., ApJ 563, 768 (2001)"
_ISOMAX = "ISOMAX, Hams et al., ApJ 611, 892 (2004)"
_BALLOONS = "older balloon flights, DRAGON2 data compilation"
_VOY = "Stone et al., Science 341, 150 (2013)"
_VOY16 = "Cummings et al., ApJ 831, 18 (2016)"

_TABLE9 = "voyager1_Zgt2_LIS_Cummings2016_table9.txt"
#: elements of Cummings et al. (2016) Table 9: dataset name suffix, symbol, Z
_VOYAGER1_ELEMENTS = (
    ("lithium", "Li", 3),
    ("beryllium", "Be", 4),
    ("boron", "B", 5),
    ("carbon", "C", 6),
    ("nitrogen", "N", 7),
    ("oxygen", "O", 8),
    ("fluorine", "F", 9),
    ("neon", "Ne", 10),
    ("sodium", "Na", 11),
    ("magnesium", "Mg", 12),
    ("aluminium", "Al", 13),
    ("silicon", "Si", 14),
    ("phosphorus", "P", 15),
    ("sulphur", "S", 16),
    ("chlorine", "Cl", 17),
    ("argon", "Ar", 18),
    ("potassium", "K", 19),
    ("calcium", "Ca", 20),
    ("scandium", "Sc", 21),
    ("titanium", "Ti", 22),
    ("vanadium", "V", 23),
    ("chromium", "Cr", 24),
    ("manganese", "Mn", 25),
    ("iron", "Fe", 26),
    ("nickel", "Ni", 28),
)


@dataclass(frozen=True)
class _Dataset:
    filename: str
    fmt: str  # "crdb10", "kiss6", "ssdc4", "cummings8" or "cummings9"
    x_unit: str
    y_unit: str
    label: str
    quantity: str
    x_axis: str  # RIGIDITY, KINETIC_ENERGY_PER_NUCLEON or ENERGY
    charge: int = 0  # "cummings9": the element's Z


def _ds(filename, fmt, x_axis, y_unit, label, quantity, charge=0) -> _Dataset:
    x_unit = {RIGIDITY: "GV", KINETIC_ENERGY_PER_NUCLEON: "GeV/n", ENERGY: "GeV"}[x_axis]
    return _Dataset(filename, fmt, x_unit, y_unit, label, quantity, x_axis, charge)


_T_N, _R = KINETIC_ENERGY_PER_NUCLEON, RIGIDITY

DATASETS: dict[str, _Dataset] = {
    "ams02_proton": _ds(
        "ams02_proton_flux_PRL2015_ekn_statsys.dat",
        "crdb10",
        _T_N,
        FLUX_UNIT,
        f"AMS-02 protons ({_AMS_P})",
        "H flux vs kinetic energy per nucleon",
    ),
    "ams02_proton_rigidity": _ds(
        "ams02_proton_flux_PRL2015_rigidity.txt",
        "ssdc4",
        _R,
        _FLUX_PER_GV,
        f"AMS-02 protons ({_AMS_P})",
        "H flux vs rigidity",
    ),
    "ams02_helium": _ds(
        "ams02_helium_flux_PRL2015_ekn_statsys.dat",
        "crdb10",
        _T_N,
        FLUX_UNIT,
        f"AMS-02 helium ({_AMS_HE})",
        "He flux vs kinetic energy per nucleon",
    ),
    "ams02_helium_rigidity": _ds(
        "ams02_helium_flux_PRL2017_rigidity.txt",
        "ssdc4",
        _R,
        _FLUX_PER_GV,
        f"AMS-02 helium ({_AMS_HE17})",
        "He flux vs rigidity",
    ),
    "ams02_carbon_rigidity": _ds(
        "ams02_C_flux_PhysRep2021_rigidity.txt",
        "kiss6",
        _R,
        _FLUX_PER_GV,
        f"AMS-02 carbon ({_AMS_2021})",
        "C flux vs rigidity",
    ),
    "ams02_oxygen_rigidity": _ds(
        "ams02_O_flux_PhysRep2021_rigidity.txt",
        "kiss6",
        _R,
        _FLUX_PER_GV,
        f"AMS-02 oxygen ({_AMS_2021})",
        "O flux vs rigidity",
    ),
    "ams02_bc": _ds(
        "ams02_BC_ratio_PRL2016_ekn.txt",
        "kiss6",
        _T_N,
        "1",
        f"AMS-02 B/C ({_AMS_BC})",
        "B/C vs kinetic energy per nucleon",
    ),
    "ams02_bc_rigidity": _ds(
        "ams02_BC_ratio_PRL2018_rigidity.txt",
        "ssdc4",
        _R,
        "1",
        f"AMS-02 B/C ({_AMS_BC18})",
        "B/C vs rigidity",
    ),
    "pamela_bc_rigidity": _ds(
        "pamela_BC_ratio_2014_rigidity.txt",
        "kiss6",
        _R,
        "1",
        f"PAMELA B/C ({_PAMELA_BC})",
        "B/C vs rigidity",
    ),
    "heao3_bc": _ds(
        "heao3_BC_ratio_Engelmann1990.dat",
        "crdb10",
        _T_N,
        "1",
        f"HEAO-3 B/C ({_HEAO3})",
        "B/C vs kinetic energy per nucleon",
    ),
    "ace_cris_be10_be9": _ds(
        "be10_be9_ACE_CRIS.dat",
        "crdb10",
        _T_N,
        "1",
        f"ACE-CRIS 10Be/9Be ({_ACE})",
        "10Be/9Be (TOA) vs kinetic energy per nucleon",
    ),
    "isomax_be10_be9": _ds(
        "be10_be9_ISOMAX.dat",
        "crdb10",
        _T_N,
        "1",
        f"ISOMAX 10Be/9Be ({_ISOMAX})",
        "10Be/9Be (TOA) vs kinetic energy per nucleon",
    ),
    "balloons_be10_be9": _ds(
        "be10_be9_balloons.dat",
        "crdb10",
        _T_N,
        "1",
        f"balloons 10Be/9Be ({_BALLOONS})",
        "10Be/9Be (TOA) vs kinetic energy per nucleon",
    ),
    "ams02_electron": _ds(
        "ams02_electron_flux_PhysRep2021.txt",
        "kiss6",
        ENERGY,
        _FLUX_PER_GEV,
        f"AMS-02 electrons ({_AMS_2021})",
        "e- flux vs energy",
    ),
    "ams02_positron": _ds(
        "ams02_positron_flux_PhysRep2021.txt",
        "kiss6",
        ENERGY,
        _FLUX_PER_GEV,
        f"AMS-02 positrons ({_AMS_2021})",
        "e+ flux vs energy",
    ),
    "ams02_positron_fraction": _ds(
        "ams02_positron_fraction_PhysRep2021.txt",
        "kiss6",
        ENERGY,
        "1",
        f"AMS-02 positron fraction ({_AMS_2021})",
        "e+/(e+ + e-) vs energy",
    ),
    "voyager1_proton": _ds(
        "voyager1_proton_LIS_Stone2013_crdb.dat",
        "crdb10",
        _T_N,
        FLUX_UNIT,
        f"Voyager 1 protons ({_VOY})",
        "H flux (LIS) vs kinetic energy per nucleon",
    ),
    "voyager1_helium": _ds(
        "voyager1_helium_LIS_Stone2013_crdb.dat",
        "crdb10",
        _T_N,
        FLUX_UNIT,
        f"Voyager 1 helium ({_VOY})",
        "He flux (LIS) vs kinetic energy per nucleon",
    ),
    "voyager1_helium_2016": _ds(
        "voyager1_helium_LIS_Cummings2016_table8.txt",
        "cummings8",
        _T_N,
        FLUX_UNIT,
        f"Voyager 1 helium ({_VOY16})",
        "He flux (LIS) vs kinetic energy per nucleon",
    ),
}
DATASETS.update(
    {
        f"voyager1_{name}": _ds(
            _TABLE9,
            "cummings9",
            _T_N,
            FLUX_UNIT,
            f"Voyager 1 {name} ({_VOY16})",
            f"{symbol} flux (LIS) vs kinetic energy per nucleon",
            charge=z,
        )
        for name, symbol, z in _VOYAGER1_ELEMENTS
    }
)

#: Voyager 1 datasets of Cummings et al. (2016) Table 9 by element symbol ("C": "voyager1_carbon")
VOYAGER1_ELEMENTS: dict[str, str] = {sym: f"voyager1_{name}" for name, sym, _ in _VOYAGER1_ELEMENTS}

_NCOLS = {"crdb10": 10, "kiss6": 6, "ssdc4": 4, "cummings8": 8, "cummings9": 16}


@dataclass(frozen=True)
class ObservedSpectrum:
    """One measured spectrum or ratio.

    Attributes:
        name: the key it was loaded by.
        x: abscissa (energy per nucleon, energy or rigidity; see ``x_axis``), increasing.
        y: measured flux or ratio.
        y_err_lo, y_err_hi: total lower / upper error on ``y`` (positive numbers).
        x_unit, y_unit: units of ``x`` and ``y`` ("1" for a dimensionless ratio).
        label: short description with the publication, for plot legends.
        quantity: what is measured, in words.
        x_axis: what ``x`` is: ``"rigidity"`` [GV], ``"kinetic_energy_per_nucleon"``
            [GeV/n] or ``"energy"`` [GeV].
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
    x_axis: str


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(DATASETS)


def is_interstellar(name: str) -> bool:
    """Whether a dataset is a local interstellar spectrum (Voyager 1 beyond the heliopause):
    compared with a model's LIS, every other dataset with its modulated (TOA) spectrum."""
    return "(LIS)" in _dataset(name).quantity


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


def _journal_table(text: str) -> str:
    """The numeric rows of a table copied from a journal's ASCII version: the title, caption
    and column-heading lines after the provenance header start with a letter or '(' and are
    dropped."""
    keep = []
    for line in text.splitlines():
        s = line.strip()
        if s and (s[0].isdigit() or s[0] in "+-."):
            keep.append(line)
    return "\n".join(keep)


def _cummings_table9(t: np.ndarray, charge: int) -> np.ndarray:
    """Rows of element Z from Cummings et al. (2016) Table 9: two blocks of
    ``Z E_min E_max J sig sys Counts TT`` side by side (the left block is padded with a row of
    zeros); returns the (E_min, E_max, J, sig, sys) columns."""
    both = np.vstack([t[:, :8], t[:, 8:]])
    return both[both[:, 0] == charge][:, 1:6]


def load(name: str) -> ObservedSpectrum:
    """Load the dataset ``name`` (see :func:`available`), sorted by increasing ``x``."""
    ds = _dataset(name)
    text = _text(ds.filename)
    if ds.fmt.startswith("cummings"):
        text = _journal_table(text)
    t = read_table(text, _NCOLS[ds.fmt])
    if ds.fmt == "crdb10":  # <E> Elo Eup y stat_lo stat_up syst_lo syst_up tot_lo tot_up
        x, y, lo, hi = t[:, 0], t[:, 3], t[:, 8], t[:, 9]
    elif ds.fmt == "kiss6":  # x y stat_lo stat_hi syst_lo syst_hi
        x, y = t[:, 0], t[:, 1]
        lo, hi = np.hypot(t[:, 2], t[:, 4]), np.hypot(t[:, 3], t[:, 5])
    elif ds.fmt == "ssdc4":  # R flux tot_lo tot_hi
        x, y, lo, hi = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
    else:
        if ds.fmt == "cummings8":  # E_min E_max E_plot [MeV/n] J sig sys Counts TT
            x_mev, j, sig, sys = t[:, 2], t[:, 3], t[:, 4], t[:, 5]
        else:  # bin centre (E_min + E_max) / 2, as Table 8's E_plot
            e_min, e_max, j, sig, sys = _cummings_table9(t, ds.charge).T
            x_mev = 0.5 * (e_min + e_max)
        x = energy_mev_to_gev(x_mev)
        y = flux_per_mev_to_per_gev(j)
        lo = hi = flux_per_mev_to_per_gev(np.hypot(sig, sys))
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
        x_axis=ds.x_axis,
    )
