"""chi^2 of a run against datasets, each on its own axis, for any force-field potential.

The local interstellar spectra (LIS) at the Sun do not depend on the solar modulation, so a
run is solved once and re-modulated for every potential phi (:class:`LocalSpectra`): each
species' LIS goes through :func:`galprop_py.spectra.species_spectrum`, elements and ratios
are rebuilt from the species with :func:`~galprop_py.spectra.element_spectra` and
:func:`~galprop_py.spectra.ratio_spectra`, exactly as a run does.  The one place phi enters
the LIS is the normalisation, which is on the *modulated* flux: a normalisation group's
factor is recomputed for the potential of ``fit.normalization_phi_group``, so that the
re-modulated spectra equal those of a full run with that ``modulation.phi_gv``.

A dataset is compared on the axis it was published on (``ObservedSpectrum.x_axis``):
rigidity curves (``rigidity``, ``toa_r`` / ``lis_r``, per GV; ratios at equal rigidity) for
AMS-02 and PAMELA, kinetic energy per nucleon (``t_n``, ``toa`` / ``lis``) for Voyager 1,
HEAO-3, ACE-CRIS, ISOMAX, and energy (E = T + m_e c^2, per GeV) for the AMS-02 electrons,
positrons and positron fraction.  The model is interpolated log-log at the data points inside
``x_min..x_max``; each point's error is its total error on the side towards the model
(upper error where the model is above the point).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .. import observations, units
from ..observations import ENERGY, KINETIC_ENERGY_PER_NUCLEON, RIGIDITY, ObservedSpectrum
from ..solvers.network import group_factors, normalisation_targets, source_group
from ..spectra import (
    element_spectra,
    flux_at,
    loglog,
    ratio_label,
    ratio_spectra,
    species_spectrum,
)
from .config import LEPTON_CURVES, FitBlock, FitDataset

#: curve keys on each axis: abscissa, LIS, TOA (the energy axis: leptons' total energy,
#: per GeV of which the flux is the flux per GeV of kinetic energy)
AXIS_KEYS = {
    KINETIC_ENERGY_PER_NUCLEON: ("t_n", "lis", "toa"),
    RIGIDITY: ("rigidity", "lis_r", "toa_r"),
    ENERGY: ("energy", "lis", "toa"),
}


def with_energy_axis(curve: dict) -> dict:
    """A lepton curve (species, ``e-``/``e+`` or the positron fraction) with the total energy
    E = T + m_e c^2 [GeV] of its points as ``"energy"`` (one particle, A = 1), the axis the
    AMS-02 lepton data are published on."""
    return {**curve, "energy": np.asarray(curve["t_n"]) + units.M_E_GEV}


@dataclass
class LocalSpectra:
    """The normalised LIS of every species at the Sun from one run, split by the
    normalisation groups that make it, and what re-modulating them needs (plain arrays and
    dataclasses: no PETSc object, picklable).

    ``parts[name][group]`` is the part of ``name``'s LIS that ``group``'s sources make, times
    the group's factor in the run; their sum is the LIS.  A species made by several groups
    (B10 from C12 with its own ``normalize_to`` and from O16 under ``[normalization]``;
    secondary electrons in the run's electrons) is re-normalised exactly: every group's
    factor is solved for again, together, at the new potential."""

    species: list  # galprop_py.physics.species.Species, in the run's order
    momenta: dict[str, np.ndarray]  # GeV/c per particle
    parts: dict[str, dict[str, np.ndarray]]  # normalised at run_phi
    momentum_grid: object  # galprop_py.grid.MomentumGrid (element and ratio grids)
    run_phi: float
    #: group -> (target species, T_n [GeV/n], flux)
    targets: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    #: the run's ``modulation.phi_negative_gv``: negatively charged targets (electrons) are
    #: normalised at it, whatever the normalisation potential of the fit
    run_phi_negative: float | None = None
    #: the parts or targets are not the run's (the Jacobian's LIS + t dLIS, other targets):
    #: the factors are solved for at every potential, the run's too
    renormalise: bool = False

    @classmethod
    def from_result(cls, result) -> LocalSpectra:
        """From a :class:`galprop_py.run.RunResult` (its ``sun_groups``; a result without
        them, a transient run's, has one group per species)."""
        cfg, model = result.config, result.model
        if cfg.modulation.model != "force_field":
            raise ValueError(
                f"modulation.model = {cfg.modulation.model!r}: fits and scans re-modulate with "
                "the force field only; use modulation.model = 'force_field'"
            )
        names = [sp.name for sp in model.species]
        if cfg.run.mode == "transient":  # each species is scaled on its own
            parts = {
                n: {source_group(model, n): np.asarray(s["lis"], float).copy()}
                for n, s in result.sun_spectra.items()
            }
        else:
            parts = {
                n: {g: np.asarray(a, float).copy() for g, a in groups.items()}
                for n, groups in result.sun_groups.items()
            }
        return cls(
            species=list(model.species),
            momenta={sp.name: model.momentum.momentum(sp) for sp in model.species},
            parts=parts,
            momentum_grid=model.momentum,
            run_phi=float(cfg.modulation.phi_gv),
            targets=normalisation_targets(cfg, model, names),
            run_phi_negative=cfg.modulation.phi_negative_gv,
        )

    @property
    def lis(self) -> dict[str, np.ndarray]:
        """Each species' LIS as the run normalised it (the sum of its parts)."""
        return {n: sum(g.values()) for n, g in self.parts.items()}

    @property
    def _model(self):
        """What :func:`element_spectra` and :func:`ratio_spectra` read of a model."""
        return _Axes(self.species, self.momentum_grid)

    def factors(self, phi_norm: float) -> dict[str, float]:
        """Each group's factor, relative to the run's, that puts every normalisation target
        on its flux when modulated with ``phi_norm`` (negative charges: with the run's
        ``phi_negative_gv`` if it has one), as the run solved for them
        (:func:`galprop_py.solvers.network.group_factors`)."""
        if phi_norm == self.run_phi and not self.renormalise:
            return {g: 1.0 for groups in self.parts.values() for g in groups}
        by_name = {sp.name: sp for sp in self.species}

        def toa(name, lis, t_n):
            sp = by_name[name]
            phi = phi_norm
            if self.run_phi_negative is not None and sp.charge < 0:
                phi = self.run_phi_negative
            return flux_at(species_spectrum(sp, self.momenta[name], lis, phi), t_n)

        return group_factors(self.targets, self.parts, toa)

    def normalised_lis(self, phi_norm: float) -> dict[str, np.ndarray]:
        """The LIS as a run with ``modulation.phi_gv = phi_norm`` normalises it."""
        f = self.factors(phi_norm)
        return {n: sum(f[g] * a for g, a in groups.items()) for n, groups in self.parts.items()}

    def curves(self, phi: float, phi_norm: float) -> dict[str, dict]:
        """Every species, element and ratio (``"B/C"``) at the Sun, modulated with ``phi``
        [GV], the normalisation taken at ``phi_norm``: the spectra of a run with
        ``modulation.phi_gv = phi_norm``, re-modulated to ``phi``."""
        lis = self.normalised_lis(phi_norm)
        spectra = {
            sp.name: species_spectrum(sp, self.momenta[sp.name], lis[sp.name], phi)
            for sp in self.species
        }
        model = self._model
        elements = element_spectra(spectra, model)
        ratios = ratio_spectra(spectra, elements, model)
        out = {**spectra, **elements, **{ratio_label(k): v for k, v in ratios.items()}}
        for name in LEPTON_CURVES:
            if name in out:
                out[name] = with_energy_axis(out[name])
        return out


@dataclass
class _Axes:
    species: list
    momentum: object


class Comparison:
    """One dataset against one model curve, on the dataset's axis and range."""

    def __init__(self, spec: FitDataset, data: ObservedSpectrum):
        if data.x_axis not in AXIS_KEYS:
            raise ValueError(f"dataset {spec.name!r}: x axis {data.x_axis!r} cannot be fitted")
        self.spec = spec
        self.name = spec.name
        self.model = spec.model
        self.phi_group = spec.phi_group
        lo = spec.x_min if spec.x_min is not None else -np.inf
        hi = spec.x_max if spec.x_max is not None else np.inf
        sel = (data.x >= lo) & (data.x <= hi)
        if not sel.any():
            raise ValueError(
                f"dataset {spec.name!r} has no points in x_min..x_max = {lo:g}..{hi:g} "
                f"{data.x_unit} (its points: {data.x[0]:g}..{data.x[-1]:g})"
            )
        self.data = data
        self.x, self.y = data.x[sel], data.y[sel]
        self.err_lo, self.err_hi = data.y_err_lo[sel], data.y_err_hi[sel]
        x_key, lis_key, toa_key = AXIS_KEYS[data.x_axis]
        self.x_key, self.y_key = x_key, lis_key if spec.phi_group is None else toa_key

    @property
    def points(self) -> int:
        return int(self.x.size)

    def model_values(self, curves: Mapping[str, dict]) -> np.ndarray:
        """The model at the data points (log-log interpolation of its curve)."""
        if self.model not in curves:
            raise ValueError(
                f"dataset {self.name!r}: model = {self.model!r} is not in the run (it has: "
                f"{', '.join(curves)})"
            )
        c = curves[self.model]
        x = np.asarray(c[self.x_key])
        if self.x[0] < x[0] * (1 - 1e-12) or self.x[-1] > x[-1] * (1 + 1e-12):
            unit = self.data.x_unit
            raise ValueError(
                f"dataset {self.name!r}: points at {self.x[0]:g}..{self.x[-1]:g} {unit} are "
                f"outside the model's {self.model} curve ({x[0]:g}..{x[-1]:g} {unit}); narrow "
                "x_min/x_max or widen momentum.min/max"
            )
        return loglog(x, c[self.y_key], self.x)

    def residuals(self, curves: Mapping[str, dict]) -> np.ndarray:
        """(model - data) / error, the error on the side towards the model."""
        m = self.model_values(curves)
        err = np.where(m > self.y, self.err_hi, self.err_lo)
        return (m - self.y) / err


class Chi2:
    """chi^2 of local spectra against the datasets of a ``[fit]`` block.

    ``data`` replaces datasets by name (mock data in tests: an :class:`ObservedSpectrum`
    with the dataset's axis)."""

    def __init__(self, fit: FitBlock, data: Mapping[str, ObservedSpectrum] | None = None):
        data = dict(data or {})
        self.fit = fit
        self.norm_group = fit.norm_group()
        self.comparisons = [
            Comparison(d, data[d.name] if d.name in data else observations.load(d.name))
            for d in fit.datasets
        ]

    def phi_norm(self, phis: Mapping[str, float], local: LocalSpectra) -> float:
        return phis[self.norm_group] if self.norm_group is not None else local.run_phi

    def curves(self, local: LocalSpectra, phis: Mapping[str, float]) -> dict:
        """Curves per phi group (``None``: the LIS, with the normalisation's potential)."""
        phi_norm = self.phi_norm(phis, local)
        out = {}
        for c in self.comparisons:
            g = c.phi_group
            if g not in out:
                out[g] = local.curves(phi_norm if g is None else phis[g], phi_norm)
        return out

    def residuals(self, local: LocalSpectra, phis: Mapping[str, float]) -> dict[str, np.ndarray]:
        curves = self.curves(local, phis)
        return {c.name: c.residuals(curves[c.phi_group]) for c in self.comparisons}

    def chi2(self, local: LocalSpectra, phis: Mapping[str, float]) -> dict[str, float]:
        """chi^2 per dataset."""
        return {n: float(np.sum(r * r)) for n, r in self.residuals(local, phis).items()}

    def points(self) -> dict[str, int]:
        return {c.name: c.points for c in self.comparisons}
