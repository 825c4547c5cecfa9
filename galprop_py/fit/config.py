"""The ``[fit]`` block: what a fit varies, what it compares with, how it minimises.

Example::

    [fit]
    minimiser = "migrad"                 # iminuit MIGRAD + HESSE; or "least_squares" (scipy)
    gradient = "analytic"                # forward sensitivities; or "none" (finite differences)
    parameters = [
      { key = "diffusion.d0_cm2_s", initial = 4.0e28, min = 1.0e28, max = 2.0e29, log = true },
      { key = "species.1.injection.indices.1", initial = 2.39, min = 2.0, max = 2.8 },
    ]
    datasets = [
      { name = "ams02_proton_rigidity", model = "H", x_min = 5.0, x_max = 1000.0,
        phi_group = "ams02" },
      { name = "voyager1_proton", model = "H", x_min = 0.01 },   # a LIS: no phi_group
    ]
    [fit.modulation]
    ams02 = { initial = 0.6, min = 0.2, max = 1.2, free = true }

* ``parameters``: any numeric config key (dotted, list entries by index as in overrides);
  ``log = true`` fits log10 of the value (bounds must then be positive).  The force-field
  potential is not one of them: it is ``[fit.modulation]``.
* ``datasets``: a dataset of :mod:`galprop_py.observations` by name, the run's species,
  element or ratio it measures (``"H1"``, ``"H"``, ``"He"``, ``"C"``, ``"B/C"``,
  ``"Be10/Be9"``), the range ``x_min..x_max`` on the dataset's own axis (rigidity [GV] for
  AMS-02 nuclei and ratios, T/n [GeV/n] for Voyager 1, HEAO-3, ACE-CRIS, ISOMAX, energy
  [GeV] for the AMS-02 electrons, positrons and positron fraction) and the
  potential it shares (``phi_group``); a local interstellar measurement (Voyager 1 beyond
  the heliopause) has none and is compared with the LIS.
* ``sampling`` (optional, ``[fit.sampling]``): posterior sampling with emcee after the fit
  (``galprop-py fit``) or alone (``galprop-py sample``), :mod:`galprop_py.fit.sampling`::

      [fit.sampling]
      sampler = "emcee"      # the affine-invariant ensemble sampler (Goodman & Weare 2010)
      walkers = 16           # at least twice the free coordinates
      steps = 500
      burn_in = 100          # steps left out of the posterior statistics
      seed = 1
      init_spread = 0.01     # start ball: this fraction of each coordinate's range

* ``modulation``: one force-field potential [GV] per data-taking period.  The run's
  normalisation (``[normalization]``, own ``normalize_to``) is on the flux modulated with
  ``normalization_phi_group``'s potential (needed when there are several groups).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .. import observations
from ..config import Block

#: datasets a fit can use: fluxes and ratios of nuclei on rigidity or T/n
FIT_AXES = (observations.RIGIDITY, observations.KINETIC_ENERGY_PER_NUCLEON, observations.ENERGY)
#: the curves of a run that a dataset on the energy axis (AMS-02 e-, e+ and the positron
#: fraction, published against the particles' energy) is compared with
LEPTON_CURVES = ("electron", "positron", "e-", "e+", "e+/(e+ + e-)")
DATASET_NAMES = tuple(
    n for n in observations.available() if observations.DATASETS[n].x_axis in FIT_AXES
)


class FitParameter(Block):
    """One free parameter: a config key, its start value and bounds."""

    key: str = Field(min_length=1, description="dotted config key, e.g. diffusion.d0_cm2_s")
    initial: float
    min: float
    max: float
    log: bool = Field(False, description="fit log10 of the value")

    @model_validator(mode="after")
    def _check(self):
        k = self.key
        if k.startswith("fit.") or k in ("modulation.phi_gv", "modulation.phi_negative_gv"):
            raise ValueError(
                f"parameter key {k!r} cannot be fitted: the force-field potentials are "
                "[fit.modulation] groups"
            )
        if not self.min < self.max:
            raise ValueError(
                f"parameter {k!r}: min = {self.min:g} must be below max = {self.max:g}"
            )
        if not self.min <= self.initial <= self.max:
            raise ValueError(
                f"parameter {k!r}: initial = {self.initial:g} is outside min..max = "
                f"{self.min:g}..{self.max:g}"
            )
        if self.log and self.min <= 0:
            raise ValueError(f"parameter {k!r}: log = true needs min > 0, not {self.min:g}")
        return self


class FitDataset(Block):
    """One dataset, the model curve it is compared with, its range and its potential."""

    name: Literal[DATASET_NAMES] = Field(description="galprop_py.observations dataset")
    model: str = Field(
        min_length=1, description="species, element or ratio of the run: H1, H, He, B/C, ..."
    )
    x_min: float | None = Field(None, gt=0, description="on the dataset's own axis")
    x_max: float | None = Field(None, gt=0)
    phi_group: str | None = Field(None, description="[fit.modulation] group; none for a LIS")

    @model_validator(mode="after")
    def _check(self):
        from ..spectra import RATIOS, ratio_key, ratio_label

        ds = observations.DATASETS[self.name]
        ratio_data = ds.y_unit == "1"
        if ratio_data != ("/" in self.model):
            what = "a ratio" if ratio_data else "a flux"
            raise ValueError(
                f"dataset {self.name!r} is {what} ({ds.quantity}); model = {self.model!r} is "
                f"{'not ' if ratio_data else ''}a ratio"
            )
        if ratio_data and ratio_key(self.model) not in RATIOS:
            allowed = ", ".join(ratio_label(r) for r in RATIOS)
            raise ValueError(f"model = {self.model!r}: not a ratio of the run (allowed: {allowed})")
        if ds.x_axis == observations.ENERGY:
            if self.model not in LEPTON_CURVES:
                raise ValueError(
                    f"dataset {self.name!r} is on the leptons' energy axis; model = "
                    f"{self.model!r} is not a lepton curve (allowed: {', '.join(LEPTON_CURVES)})"
                )
        if self.x_min is not None and self.x_max is not None and not self.x_min < self.x_max:
            raise ValueError(
                f"dataset {self.name!r}: x_min = {self.x_min:g} must be below x_max = "
                f"{self.x_max:g}"
            )
        lis = observations.is_interstellar(self.name)
        if lis and self.phi_group is not None:
            raise ValueError(
                f"dataset {self.name!r} is a local interstellar spectrum: it has no phi_group "
                f"(given {self.phi_group!r})"
            )
        if not lis and self.phi_group is None:
            raise ValueError(
                f"dataset {self.name!r} is measured in the heliosphere: it needs a phi_group "
                "(a [fit.modulation] group)"
            )
        return self


class ModulationGroup(Block):
    """``[fit.modulation.<group>]``: one force-field potential phi [GV]."""

    initial: float = Field(ge=0, le=3.0)
    min: float = Field(0.0, ge=0, le=3.0)
    max: float = Field(3.0, ge=0, le=3.0)
    free: bool = True

    @model_validator(mode="after")
    def _check(self):
        if not self.min < self.max:
            raise ValueError(f"min = {self.min:g} must be below max = {self.max:g}")
        if not self.min <= self.initial <= self.max:
            raise ValueError(
                f"initial = {self.initial:g} is outside min..max = {self.min:g}..{self.max:g}"
            )
        return self


class SamplingBlock(Block):
    """``[fit.sampling]``: an emcee ensemble over the fit's coordinates (flat priors inside
    the bounds, log-likelihood -chi^2 / 2)."""

    sampler: Literal["emcee"] = "emcee"
    walkers: int = Field(16, ge=2, le=100_000, description="ensemble size (>= 2 ndim)")
    steps: int = Field(500, ge=1, le=10_000_000)
    burn_in: int = Field(100, ge=0, description="first steps left out of the statistics")
    seed: int = Field(1, ge=0, le=2**32 - 1)
    init_spread: float = Field(
        0.01,
        gt=0,
        le=0.5,
        description="walkers start in a Gaussian ball of this fraction of each coordinate's "
        "range around the initial values",
    )

    @model_validator(mode="after")
    def _check(self):
        if not self.burn_in < self.steps:
            raise ValueError(
                f"burn_in = {self.burn_in} must be below steps = {self.steps} (no samples left)"
            )
        return self


class FitBlock(Block):
    """``[fit]``: free parameters, datasets, force-field potentials, minimiser."""

    parameters: list[FitParameter] = Field(default_factory=list)
    datasets: list[FitDataset] = Field(min_length=1)
    modulation: dict[str, ModulationGroup] = Field(default_factory=dict)
    normalization_phi_group: str | None = Field(
        None,
        description="the group whose potential the run's normalisation uses (default: the "
        "only group)",
    )
    minimiser: Literal["migrad", "least_squares"] = "migrad"
    gradient: Literal["analytic", "none"] = Field(
        "analytic",
        description="analytic: d chi^2 / d theta from forward sensitivities of the linear "
        "systems (galprop_py.fit.gradients; steady runs); none: the minimiser's own finite "
        "differences",
    )
    tolerance: float = Field(
        0.1, gt=0, description="MIGRAD: Minuit.tol (EDM < 0.002 tol); least_squares: 1e-8 tol"
    )
    max_evaluations: int = Field(1000, ge=1, description="calls of the chi^2 function")
    plots: bool = Field(True, description="a model/data residual plot per dataset")
    sampling: SamplingBlock | None = Field(
        None, description="posterior sampling (galprop_py.fit.sampling); none: no sampling"
    )

    @model_validator(mode="after")
    def _check(self):
        keys = [p.key for p in self.parameters]
        for k in keys:
            if keys.count(k) > 1:
                raise ValueError(f"parameter key {k!r} is listed twice")
        names = [d.name for d in self.datasets]
        for n in names:
            if names.count(n) > 1:
                raise ValueError(f"dataset {n!r} is listed twice")
        groups = set(self.modulation)
        for d in self.datasets:
            if d.phi_group is not None and d.phi_group not in groups:
                raise ValueError(
                    f"dataset {d.name!r}: phi_group = {d.phi_group!r} is not a [fit.modulation] "
                    f"group (groups: {', '.join(sorted(groups)) or 'none'})"
                )
        used = {d.phi_group for d in self.datasets}
        for g in self.modulation:
            if g not in used:
                raise ValueError(f"modulation group {g!r} is used by no dataset")
        ng = self.normalization_phi_group
        if ng is not None and ng not in groups:
            raise ValueError(
                f"normalization_phi_group = {ng!r} is not a [fit.modulation] group (groups: "
                f"{', '.join(sorted(groups)) or 'none'})"
            )
        if ng is None and len(groups) > 1:
            raise ValueError(
                f"normalization_phi_group is needed with several modulation groups "
                f"({', '.join(sorted(groups))}): the run is normalised on one modulated flux"
            )
        s = self.sampling
        ndim = len(self.parameters) + sum(m.free for m in self.modulation.values())
        if s is not None and s.walkers < 2 * ndim:
            raise ValueError(
                f"sampling.walkers = {s.walkers}: emcee needs at least twice the {ndim} free "
                f"coordinate(s), i.e. walkers >= {2 * ndim}"
            )
        return self

    def norm_group(self) -> str | None:
        """The group whose potential the normalisation uses (None: the run's phi_gv)."""
        if self.normalization_phi_group is not None:
            return self.normalization_phi_group
        return next(iter(self.modulation), None)
