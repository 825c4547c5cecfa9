"""Typed run configuration (TOML), validated with pydantic.

Blocks mirror the physics: ``[run] [grid] [momentum] [[species]] [diffusion] [wind]
[reacceleration] [gas] [losses] [source] [normalization] [sun] [modulation] [solver] [time]
[output]``.  Every key carries its unit in its name (``_kpc``, ``_cm2_s``, ``_km_s``, ``_gev``,
``_gv``, ``_myr``).  Unknown keys and out-of-range values raise :class:`ConfigError` with one
line naming the key, the value and what is allowed.  ``block.key=value`` overrides from the
command line are applied before validation.

The defaults of the schema below are fallbacks for keys a file leaves out; the built-in
model users run without a config (:func:`load_config` with no path, the command line without
a file) is ``galprop_py/models/milky_way.toml``, whose fitted values differ from them.
"""

from __future__ import annotations

import math
import types
import typing
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .emission import pi0 as pi0_models
from .galaxy import gas as gas_models
from .galaxy import magnetic as magnetic_models
from .galaxy import radiation as radiation_models
from .galaxy import sources as source_models
from .galaxy import transport as transport_models


class ConfigError(ValueError):
    """Invalid configuration; the message is one line for the user."""


def _bool_for_number(value, annotation) -> bool:
    """Whether ``value`` holds a boolean where ``annotation`` wants a number (pydantic would
    take ``true`` as 1.0); containers are checked item by item."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if isinstance(value, bool) and any(a is bool or a is Any for a in options):
            return False
        return any(_bool_for_number(value, a) for a in options)
    if isinstance(value, bool):
        return annotation in (float, int)
    if isinstance(value, list | tuple) and origin in (list, tuple) and args:
        if origin is tuple and len(args) == len(value) and Ellipsis not in args:
            return any(_bool_for_number(v, a) for v, a in zip(value, args, strict=True))
        return any(_bool_for_number(v, args[0]) for v in value)
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        return any(_bool_for_number(v, args[1]) for v in value.values())
    return False


class Block(BaseModel):
    """A config block: unknown keys, infinite or NaN values and booleans where a number is
    expected are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value, info: ValidationInfo):
        field = cls.model_fields.get(info.field_name)
        if field is not None and _bool_for_number(value, field.annotation):
            raise PydanticCustomError("bool_not_number", "expected a number, not a boolean")
        return value

    def _changed(self, name: str) -> bool:
        """Whether key ``name`` was given with a value other than its default."""
        if name not in self.model_fields_set:
            return False
        field = type(self).model_fields[name]
        default = field.get_default(call_default_factory=True)
        return getattr(self, name) != default


class RunBlock(Block):
    name: str = "galprop"
    mode: Literal["steady", "transient"] = "steady"
    output_dir: str = "output"


#: the axes and keys of each geometry (other grid keys do not apply)
GRID_AXES = {
    "slab1d": ("z",),
    "spherical1d": ("r",),
    "cylindrical2d": ("r", "z"),
    "cartesian3d": ("x", "y", "z"),
}
GRID_KEYS = {
    "slab1d": ("z_max_kpc", "n_z", "z_refinement", "boundaries"),
    "spherical1d": ("r_max_kpc", "n_r", "boundaries"),
    "cylindrical2d": ("r_max_kpc", "n_r", "z_max_kpc", "n_z", "z_refinement", "boundaries"),
    "cartesian3d": (
        "x_max_kpc", "n_x", "y_max_kpc", "n_y", "z_max_kpc", "n_z", "z_refinement", "boundaries",
    ),
}  # fmt: skip


class GridBlock(Block):
    geometry: Literal["slab1d", "spherical1d", "cylindrical2d", "cartesian3d"] = "cylindrical2d"
    r_max_kpc: float = Field(20.0, gt=0)
    n_r: int = Field(41, ge=3)
    z_max_kpc: float = Field(4.0, gt=0, description="halo half-height")
    n_z: int = Field(81, ge=3)
    x_max_kpc: float = Field(20.0, gt=0)
    n_x: int = Field(41, ge=3)
    y_max_kpc: float = Field(20.0, gt=0)
    n_y: int = Field(41, ge=3)
    boundaries: dict[str, Literal["free_escape", "closed"]] = Field(default_factory=dict)
    z_refinement: float = Field(
        1.0,
        ge=1.0,
        le=100.0,
        description="outermost / central z cell width (sinh-spaced cells, finest at the "
        "disc); 1 = uniform",
    )

    def inapplicable_keys(self) -> list[str]:
        """Keys given (with other than their default values) that this geometry does not
        use, e.g. ``grid.n_r`` of a slab: a warning at the start of a run."""
        keys = GRID_KEYS[self.geometry]
        return [
            f"grid.{name} = {getattr(self, name)!r} does not apply to grid.geometry = "
            f"{self.geometry!r} (ignored; its keys: {', '.join(keys)})"
            for name in type(self).model_fields
            if name not in keys and name != "geometry" and self._changed(name)
        ]

    @model_validator(mode="after")
    def _check_boundaries(self):
        allowed = {f"{a}_{s}" for a in "xyzr" for s in ("min", "max")}
        for key in self.boundaries:
            if key not in allowed:
                raise ValueError(f"grid.boundaries key {key!r} not allowed; use {sorted(allowed)}")
        faces = [f"{a}_{s}" for a in GRID_AXES[self.geometry] for s in ("min", "max")]
        faces = [f for f in faces if f != "r_min"]  # r = 0 is the symmetry axis
        for key in self.boundaries:
            if key not in faces:
                raise ValueError(
                    f"grid.boundaries key {key!r} does not apply to grid.geometry = "
                    f"{self.geometry!r} (its faces: {', '.join(faces)}; r = 0 is an axis)"
                )
        return self


class MomentumBlock(Block):
    axis: Literal["kinetic_energy_per_nucleon", "rigidity"] = "kinetic_energy_per_nucleon"
    min: float = Field(0.01, gt=0, description="GeV/n or GV")
    max: float = Field(1.0e4, gt=0)
    n: int = Field(90, ge=4, le=400)
    boundary: Literal["outflow", "closed"] = "outflow"
    scheme: Literal["quadratic", "upwind"] = "quadratic"

    @model_validator(mode="after")
    def _order(self):
        if self.max <= self.min:
            raise ValueError(f"momentum.max = {self.max} must exceed momentum.min = {self.min}")
        return self


class InjectionBlock(Block):
    indices: list[float] = Field(default_factory=lambda: [2.35])
    breaks_gv: list[float] = Field(default_factory=list)
    smoothness: float = Field(0.0, ge=0, description="0 = sharp breaks")
    cutoff_gv: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _lengths(self):
        if len(self.indices) != len(self.breaks_gv) + 1:
            raise ValueError(
                f"injection.indices has {len(self.indices)} values; need len(breaks_gv) + 1 = "
                f"{len(self.breaks_gv) + 1}"
            )
        return self


class SpeciesBlock(Block):
    name: str
    abundance: float = Field(
        1.0, ge=0, description="source abundance relative to H1 at the reference rigidity"
    )
    injection: InjectionBlock = Field(default_factory=InjectionBlock)
    sigma_inelastic_mb: float | None = Field(
        None, gt=0, description="constant total inelastic cross section on H (overrides tables)"
    )
    parents: dict[str, float] = Field(
        default_factory=dict,
        description="production cross sections [mb] from parent species (overrides tables)",
    )
    normalize_to: tuple[float, float] | None = Field(
        None,
        description="(T_n [GeV/n], flux [m^-2 s^-1 sr^-1 (GeV/n)^-1]): scale this species on "
        "its own to that local flux instead of using [normalization]",
    )


class TurbulenceBlock(Block):
    """``[diffusion.turbulence]``: the turbulence of ``diffusion.model = "quasilinear"``
    (composite slab + 2D Alfvenic turbulence, :mod:`galprop_py.microphysics.coefficients`)."""

    delta_b_over_b: float = Field(0.5, gt=0, le=10.0, description="RMS delta B / B0")
    spectral_index: float = Field(
        5.0 / 3.0, gt=1.0, lt=2.0, description="q of E(k) ~ k^-q (5/3 Kolmogorov, 3/2 Kraichnan)"
    )
    outer_scale_pc: float = Field(50.0, gt=0, description="outer scale L, k_min = 2 pi / L")
    broadening: float = Field(
        0.1, gt=0, le=1.0, description="resonance broadening Delta_mu (0: kappa_par = inf)"
    )
    slab_fraction: float = Field(0.2, gt=0, le=1.0, description="energy fraction in slab modes")
    perpendicular_model: Literal["nlgc", "flrw"] = "nlgc"
    b_field_ug: float = Field(3.0, gt=0, description="regular field strength B0")
    drift: bool = Field(False, description="add the drift coefficient kappa_A = v r_g / 3")


class DiffusionBlock(Block):
    model: Literal["scalar", "anisotropic", "quasilinear"] = "scalar"
    d0_cm2_s: float = Field(4.0e28, gt=0, description="at reference rigidity r0_gv")
    r0_gv: float = Field(4.0, gt=0)
    delta: float = Field(0.4, ge=0, le=1.0)
    eta: float = Field(1.0, description="power of beta")
    breaks_gv: list[float] = Field(default_factory=list)
    deltas_above: list[float] = Field(default_factory=list)
    scheme: Literal["monotone", "centred", "limited", "selling"] = Field(
        "selling",
        description="discretisation of an anisotropic tensor (galprop_py.operators.diffusion): "
        "selling (default: positive, convergent and linear; two-point fluxes along the "
        "lattice vectors of Selling's decomposition of the tensor, whose stencil widens "
        "with the anisotropy, up to 24 cells), monotone (positive, adds cross-field "
        "diffusion for oblique fields), centred (second order, can undershoot), limited "
        "(positive and convergent: flux-corrected centred scheme, Picard iterations; "
        "transient runs need time.scheme = 'backward_euler')",
    )
    limiter_gamma: float = Field(
        3.0, ge=1.0, description="scheme 'limited': scale of the limiter bounds (>= 1)"
    )
    limiter_rtol: float = Field(
        1e-6, gt=0.0, lt=1.0, description="scheme 'limited': Picard relative residual"
    )
    kperp_over_kpar: float = Field(0.1, gt=0, le=1.0)
    field_direction: list[float] = Field(
        default_factory=lambda: [0.0, 1.0, 0.0],
        description="unit vector of the regular field in the grid's frame: (x, y, z), or "
        "(r, phi, z) for cylindrical grids",
    )
    field_model: Literal[magnetic_models.DIRECTION_NAMES] = Field(
        "uniform",
        description="direction of the regular field (galprop_py.galaxy.magnetic.DIRECTION): "
        "uniform: field_direction everywhere; spiral: a disc field along logarithmic spiral "
        "arms of pitch angle pitch_angle_deg (azimuthal for 0); pshirkov2011_ass/_bss (3D)",
    )
    pitch_angle_deg: float = Field(11.5, ge=-90.0, le=90.0, description="field_model 'spiral'")
    field_parameters: dict[str, Any] = Field(
        default_factory=dict, description="parameters of field_model (defaults: its paper)"
    )
    spatial: Literal[transport_models.SPATIAL_NAMES] = Field(
        "uniform",
        description="spatial factor s(x) of D (galprop_py.galaxy.transport.SPATIAL): uniform, "
        "exponential_z, two_zone, field_strength (|B| of losses.b_field_model), random_field "
        "(quasi-linear: regular and random strengths of losses.b_field_model)",
    )
    spatial_parameters: dict[str, Any] = Field(
        default_factory=dict, description="parameters of the spatial factor"
    )
    turbulence: TurbulenceBlock = Field(default_factory=TurbulenceBlock)

    def field_model_parameters(self):
        """Validated parameters of ``field_model`` (:mod:`galprop_py.galaxy.magnetic`)."""
        return magnetic_models.direction_parameters(
            self.field_model,
            self.field_parameters,
            field_direction=self.field_direction,
            pitch_angle_deg=self.pitch_angle_deg,
        )

    def spatial_model_parameters(self):
        """Validated parameters of ``spatial`` (:mod:`galprop_py.galaxy.transport`)."""
        return transport_models.SPATIAL.get(self.spatial).parse(
            self.spatial_parameters, key="diffusion.spatial_parameters"
        )

    @model_validator(mode="after")
    def _breaks(self):
        if len(self.breaks_gv) != len(self.deltas_above):
            raise ValueError(
                f"diffusion.deltas_above has {len(self.deltas_above)} values; need one per "
                f"break in diffusion.breaks_gv ({len(self.breaks_gv)})"
            )
        if any(b <= a for a, b in zip(self.breaks_gv, self.breaks_gv[1:], strict=False)):
            raise ValueError(f"diffusion.breaks_gv = {self.breaks_gv} must increase")
        if len(self.field_direction) != 3 or not any(self.field_direction):
            raise ValueError(
                f"diffusion.field_direction = {self.field_direction}: need 3 components, "
                "not all zero"
            )
        self.field_model_parameters()
        self.spatial_model_parameters()
        if self.spatial in ("field_strength", "random_field") and self.model == "quasilinear":
            raise ValueError(
                f"diffusion.spatial = {self.spatial!r} does not apply to diffusion.model = "
                "'quasilinear' (its coefficients take the field strength of [diffusion.turbulence])"
            )
        return self


class WindBlock(Block):
    v0_km_s: float = Field(0.0, ge=0, description="wind speed at the disc, along +-z")
    dv_dz_km_s_kpc: float = Field(0.0, ge=0)
    scheme: Literal["upwind", "hybrid"] = "hybrid"


class ReaccelerationBlock(Block):
    """``[reacceleration]``: D_pp D = w(delta) p^2 v_A^2 with the model's w
    (:mod:`galprop_py.galaxy.transport`); none for v_A = 0."""

    v_alfven_km_s: float = Field(0.0, ge=0)
    model: Literal[transport_models.REACCELERATION_NAMES] = Field(
        "seo_ptuskin1994",
        description="seo_ptuskin1994: w = 4 / (3 delta (4 - delta^2)(4 - delta)); "
        "ptuskin2003: the same without the 4/3",
    )

    @model_validator(mode="after")
    def _check_model(self):
        if self.model != "seo_ptuskin1994" and self.v_alfven_km_s == 0:
            raise ValueError(
                f"reacceleration.model = {self.model!r} needs reacceleration.v_alfven_km_s > 0 "
                "(there is no reacceleration at v_A = 0)"
            )
        return self


class GasBlock(Block):
    """``[gas]``: neutral gas (``model``: the H I and H2 models by name, a uniform layer, or
    none) and ionised gas (``hii_model``); models and references in
    :mod:`galprop_py.galaxy.gas`, ``python -m galprop_py.galaxy`` lists them."""

    model: Literal["analytic", "uniform", "none"] = Field(
        "analytic",
        description="analytic: n_HI of hi_model + 2 n_H2 of h2_model; uniform: n_h_cm3 in "
        "|z| <= disc_half_thickness_kpc; none: no neutral gas",
    )
    hi_model: Literal[gas_models.HI_NAMES] = Field(
        "analytic", description="H I model of model = 'analytic' (galprop_py.galaxy.gas.HI)"
    )
    hi_parameters: dict[str, Any] = Field(default_factory=dict)
    h2_model: Literal[gas_models.H2_NAMES] = Field(
        "analytic",
        description="H2 model of model = 'analytic'; 'analytic' (the built-in) extrapolates "
        "Ferriere 2001 inside 3 kpc, 'ferriere2001' does not, 'bronfman1988' is GALPROP's",
    )
    h2_parameters: dict[str, Any] = Field(default_factory=dict)
    hii_model: Literal[gas_models.HII_NAMES] = Field(
        "none", description="ionised hydrogen (a spallation target, Coulomb losses)"
    )
    hii_parameters: dict[str, Any] = Field(default_factory=dict)
    x_co: Literal[gas_models.XCO_NAMES] = Field(
        "constant", description="X_CO(R) of CO-based H2 models: constant or strong2004"
    )
    x_co_cm2_k_km_s: float = Field(
        gas_models.XCO_SM96, gt=0, le=1e22, description="X_CO of x_co = 'constant'"
    )
    n_h_cm3: float = Field(1.0, ge=0, description="uniform model only")
    f_he: float = Field(0.1, ge=0, le=0.5, description="He/H by number")
    disc_half_thickness_kpc: float = Field(0.1, gt=0, description="uniform model only")

    @model_validator(mode="after")
    def _check_models(self):
        neutral = {"hi_model": "analytic", "h2_model": "analytic"}
        for key, default in neutral.items():
            value = getattr(self, key)
            if self.model != "analytic" and value != default:
                raise ValueError(
                    f"gas.{key} = {value!r} needs gas.model = 'analytic' (got "
                    f"{self.model!r}, whose neutral gas is {self.model})"
                )
        xco_default = (self.x_co, self.x_co_cm2_k_km_s) == ("constant", gas_models.XCO_SM96)
        if not xco_default and self.h2_model not in gas_models.CO_BASED_H2:
            raise ValueError(
                f"gas.x_co = {self.x_co!r}, gas.x_co_cm2_k_km_s = {self.x_co_cm2_k_km_s!r}: "
                f"X_CO applies to the CO-based H2 models {list(gas_models.CO_BASED_H2)}, not "
                f"to gas.h2_model = {self.h2_model!r}"
            )
        registries = {"hi": gas_models.HI, "h2": gas_models.H2, "hii": gas_models.HII}
        for part, registry in registries.items():
            name = getattr(self, f"{part}_model")
            registry.get(name).parse(
                getattr(self, f"{part}_parameters"), key=f"gas.{part}_parameters"
            )
        return self


class PhotonFieldBlock(Block):
    """A grey-body photon field: Planck shape of ``temperature_k``, energy density at the Sun
    ``energy_density_ev_cm3``, falling off exponentially in r and |z| (uniform without scales)."""

    name: str
    temperature_k: float = Field(gt=0)
    energy_density_ev_cm3: float = Field(ge=0)
    scale_radius_kpc: float | None = Field(None, gt=0)
    scale_height_kpc: float | None = Field(None, gt=0)


class LossesBlock(Block):
    ionisation: bool = True
    coulomb: bool = True
    spallation: bool = True
    n_e_cm3: float = Field(0.025, ge=0, description="ionised gas at the mid-plane")
    n_e_scale_height_kpc: float = Field(
        1.0, gt=0, description="exponential scale height of the warm ionised gas"
    )
    t_e_k: float = Field(1.0e4, gt=0)
    b_field_ug: float = Field(
        5.0, ge=0, description="total field at the Sun (b_field_model 'exponential_disc')"
    )
    b_field_scale_radius_kpc: float = Field(10.0, gt=0, description="exponential_disc only")
    b_field_scale_height_kpc: float = Field(2.0, gt=0, description="exponential_disc only")
    b_field_model: Literal[magnetic_models.STRENGTH_NAMES] = Field(
        "exponential_disc",
        description="field strength |B| (synchrotron, diffusion.spatial = 'field_strength'), "
        "galprop_py.galaxy.magnetic.STRENGTH: exponential_disc (Strong et al. 2000), uniform, "
        "pshirkov2011_ass, pshirkov2011_bss (3D)",
    )
    b_field_parameters: dict[str, Any] = Field(
        default_factory=dict, description="parameters of b_field_model (defaults: its paper)"
    )
    synchrotron_field: Literal["total", "b_field_model"] = Field(
        "total",
        description="B^2 of the synchrotron losses: total = every component of b_field_model "
        "(jf12: (1 + beta) B_reg^2 + B_rand^2; table: B_reg^2 + B_random^2 with a B_random "
        "dataset; other models: |B|^2); b_field_model = |B|^2 of its configured component",
    )

    def b_field_model_parameters(self):
        """Validated parameters of ``b_field_model`` (:mod:`galprop_py.galaxy.magnetic`)."""
        return magnetic_models.strength_parameters(
            self.b_field_model,
            self.b_field_parameters,
            b_field_ug=self.b_field_ug,
            b_field_scale_radius_kpc=self.b_field_scale_radius_kpc,
            b_field_scale_height_kpc=self.b_field_scale_height_kpc,
        )

    @model_validator(mode="after")
    def _check_b_field(self):
        self.b_field_model_parameters()
        return self

    photon_fields: list[PhotonFieldBlock] = Field(
        default_factory=lambda: [
            PhotonFieldBlock(name="cmb", temperature_k=2.7255, energy_density_ev_cm3=0.261),
            PhotonFieldBlock(
                name="infrared",
                temperature_k=35.0,
                energy_density_ev_cm3=0.3,
                scale_radius_kpc=5.0,
                scale_height_kpc=2.0,
            ),
            PhotonFieldBlock(
                name="starlight",
                temperature_k=4000.0,
                energy_density_ev_cm3=0.6,
                scale_radius_kpc=5.0,
                scale_height_kpc=2.0,
            ),
        ],
        description="grey-body photon fields for inverse Compton (Klein-Nishina): the "
        "fields of isrf_model = 'grey_bodies'",
    )
    isrf_model: Literal[radiation_models.NAMES] = Field(
        "grey_bodies",
        description="interstellar radiation field for inverse Compton "
        "(galprop_py.galaxy.radiation): grey_bodies (photon_fields), mathis1983, table",
    )
    isrf_parameters: dict[str, Any] = Field(
        default_factory=dict, description="parameters of isrf_model's model"
    )

    @model_validator(mode="after")
    def _check_isrf(self):
        if self.isrf_model != "grey_bodies" and "photon_fields" in self.model_fields_set:
            raise ValueError(
                f"losses.photon_fields are the grey bodies of losses.isrf_model = "
                f"'grey_bodies'; losses.isrf_model = {self.isrf_model!r} does not use them"
            )
        radiation_models.block_parameters(
            self.isrf_model, self.isrf_parameters, photon_fields=self.photon_fields_dicts()
        )
        return self

    def photon_fields_dicts(self) -> list[dict]:
        """``photon_fields`` as the parameters of the 'grey_bodies' model."""
        return [f.model_dump() for f in self.photon_fields]


class SourceBlock(Block):
    """``[source]``: the source density by name (``profile``) with its parameters
    (``[source.parameters]``), see :mod:`galprop_py.galaxy.sources`; the time profile."""

    profile: Literal[source_models.NAMES] = Field(
        "snr",
        description="a model of galprop_py.galaxy.sources.SOURCES, e.g. lorimer2006, "
        "case_bhattacharya1998, yusifov_kucuk2004, ferriere2001, green2015, table",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="parameters of the profile's model (defaults: paper)"
    )
    z_scale_kpc: float = Field(0.1, gt=0, description="scale height of profile 'snr' only")
    r_max_kpc: float = Field(
        15.0, gt=0, description="sources are zero beyond this galactocentric radius (every profile)"
    )
    sigma_kpc: float = Field(0.2, gt=0, description="width of profile 'gaussian' only")
    time_profile: Literal["constant", "window", "burst"] = Field(
        "constant",
        description="constant; window: on for t_on_myr <= t < t_off_myr; burst: the source "
        "times burst_duration_myr is the initial state and nothing is injected later",
    )
    t_on_myr: float = Field(0.0, ge=0)
    t_off_myr: float = Field(1.0e30, gt=0)
    burst_duration_myr: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _check_parameters(self):
        source_models.block_parameters(
            self.profile, self.parameters, z_scale_kpc=self.z_scale_kpc, sigma_kpc=self.sigma_kpc
        )
        return self

    @model_validator(mode="after")
    def _check_time_window(self):
        if self.time_profile == "window" and not self.t_on_myr < self.t_off_myr:
            raise ValueError(
                f"source.t_on_myr = {self.t_on_myr:g} is not before source.t_off_myr = "
                f"{self.t_off_myr:g}: the window would never be on"
            )
        uses = {"window": ("t_on_myr", "t_off_myr"), "burst": ("burst_duration_myr",)}
        for key in ("t_on_myr", "t_off_myr", "burst_duration_myr"):
            if key not in uses.get(self.time_profile, ()) and self._changed(key):
                raise ValueError(
                    f"source.{key} = {getattr(self, key):g} does not apply to "
                    f"source.time_profile = {self.time_profile!r}"
                )
        return self


class NormalizationBlock(Block):
    species: str = "H1"
    t_n_gev: float = Field(100.0, gt=0)
    flux: float = Field(
        4.45e-2, gt=0, description="m^-2 s^-1 sr^-1 (GeV/n)^-1 at the Sun (AMS-02 at 100 GeV)"
    )
    enabled: bool = True


class SunBlock(Block):
    r_kpc: float = Field(8.3, ge=0)
    z_kpc: float = 0.0


class SphericalParkerBlock(Block):
    """``[modulation.spherical_parker]``: the 1D spherical Parker model
    (:mod:`galprop_py.heliosphere.parker`); kappa = kappa0 beta (R/GV)^a (r/AU)^b."""

    r_hp_au: float = Field(120.0, gt=1.0, le=1000.0, description="heliopause radius [AU]")
    v_sw_km_s: float = Field(400.0, ge=0.0, le=3000.0, description="solar-wind speed [km/s]")
    kappa0_cm2_s: float = Field(
        1.6e21,
        gt=1e17,
        le=1e26,
        description="kappa at R = 1 GV and r = 1 AU, divided by beta [cm^2/s]",
    )
    a: float = Field(1.0, ge=0.0, le=3.0, description="rigidity exponent of kappa")
    b: float = Field(1.0, ge=-2.0, le=3.0, description="radial exponent of kappa")
    n_r: int = Field(64, ge=8, le=4000, description="radial cells, 1 AU to r_hp")
    n_rigidity: int = Field(96, ge=8, le=4000, description="rigidity points of its grid")
    inner_boundary: Literal["zero_streaming", "reflecting"] = "zero_streaming"


class ModulationBlock(Block):
    model: Literal["force_field", "spherical_parker"] = "force_field"
    phi_gv: float = Field(0.6, ge=0, le=3.0, description="force-field potential [GV]")
    phi_negative_gv: float | None = Field(
        None,
        ge=0,
        le=3.0,
        description="force-field potential [GV] of negatively charged particles (electrons, "
        "antiprotons) when it differs from phi_gv (charge-sign dependent modulation); "
        "None: phi_gv",
    )
    spherical_parker: SphericalParkerBlock = Field(default_factory=SphericalParkerBlock)

    @model_validator(mode="after")
    def _potentials_need_force_field(self):
        # the force-field potentials, set (in the file or by an override) with another model,
        # would be silently ignored: refused, with the way to unset them
        if self.model == "force_field":
            return self
        for key in ("phi_gv", "phi_negative_gv"):
            value = getattr(self, key)
            if key in self.model_fields_set and value is not None:
                raise ValueError(
                    f"{key} = {value:g} is a force-field potential; model = {self.model!r} "
                    "does not use it (allowed only with model = 'force_field'; leave it out, "
                    f"or unset it with modulation.{key}= on the command line)"
                )
        return self


class SolverBlock(Block):
    petsc: dict[str, str | float | int | bool] = Field(default_factory=dict)


class TimeBlock(Block):
    dt_myr: float = Field(1.0, gt=0)
    t_end_myr: float = Field(100.0, gt=0)
    scheme: Literal["backward_euler", "crank_nicolson", "cn-be"] = "cn-be"


class OutputBlock(Block):
    file: str = Field("result.h5", min_length=1, description="result file in run.output_dir")
    plot: bool = True
    checkpoint_every_myr: float | None = Field(None, gt=0)
    checkpoint_wall_s: float | None = Field(None, gt=0)
    snapshot_every_myr: float | None = Field(
        None,
        gt=0,
        description="transient runs: whole-grid fluxes every this many Myr into "
        "<output_dir>/snapshots/",
    )
    snapshot_wall_s: float | None = Field(
        None,
        gt=0,
        description="transient runs: also a snapshot whenever this many seconds of wall time "
        "have passed since the last one",
    )
    keep_checkpoints: int = Field(
        1,
        ge=1,
        le=1000,
        description="checkpoints kept: checkpoint.h5 (the newest), checkpoint.1.h5, ... "
        "(older ones, rotated when a new one is complete)",
    )


class ElementBlock(Block):
    """``[network.elements.<symbol>]``: one element's source, overriding the network's."""

    abundance: float | None = Field(
        None,
        ge=0,
        description="source abundance of the element (all isotopes) relative to H1 at the "
        "reference rigidity; isotopes split by the composition's isotopic fractions; "
        "unset: the composition's element abundance relative to H",
    )
    injection: InjectionBlock | None = Field(None, description="unset: network.injection")


class NetworkBlock(Block):
    """``[network]``: the species of the run from the nuclear data (every stable or long-lived
    isotope of z_min..z_max), see :mod:`galprop_py.network`.  Explicit ``[[species]]``
    blocks are added to it and override a network isotope of the same name."""

    z_min: int = Field(1, ge=1, le=28)
    z_max: int = Field(26, ge=1, le=28)
    half_life_min_myr: float = Field(
        1.0e-3,
        gt=0,
        description="nuclei whose half-life as bare nuclei is shorter are not propagated: "
        "their production goes to their decay products",
    )
    composition: str = Field(
        "lodders2003", description="source isotopic composition: a named table or a CSV path"
    )
    injection: InjectionBlock = Field(default_factory=InjectionBlock)
    elements: dict[str, ElementBlock] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self):
        if self.z_max < self.z_min:
            raise ValueError(f"network.z_max = {self.z_max} is below network.z_min = {self.z_min}")
        from .physics.species import element_charge

        for sym in self.elements:
            try:
                z = element_charge(sym)
            except ValueError as exc:
                raise ValueError(f"network.elements key {sym!r}: {exc}") from None
            if not self.z_min <= z <= self.z_max:
                raise ValueError(
                    f"network.elements key {sym!r}: Z = {z} is outside network.z_min.."
                    f"z_max = {self.z_min}..{self.z_max}"
                )
        return self


class CrossSectionsBlock(Block):
    """``[cross_sections]``: the nuclear cross sections by name (references in
    :mod:`galprop_py.network.cross_sections`)."""

    inelastic: Literal["crosec", "tripathi99"] = "crosec"
    production: Literal["evoli2018+webber03_coste12", "webber03_coste12", "evoli2018"] = (
        "evoli2018+webber03_coste12"
    )
    secondary_parents_z_max: int = Field(
        2,
        ge=1,
        le=28,
        description="nuclei with Z up to this make secondary antiprotons, positrons and electrons",
    )
    secondary_leptons: bool = Field(
        True,
        description="positrons and electrons made by nuclei on the gas (off: electrons are "
        "primaries only)",
    )
    tertiary_antiprotons: bool = Field(
        True,
        description="antiprotons scattered without annihilation reappear at lower energy "
        "(tertiaries); off: that part of the inelastic cross section is no loss",
    )


class EmissionBlock(Block):
    """``[emission]``: photon emission of the run's cosmic rays (:mod:`galprop_py.emission`):
    per-cell emissivities, luminosities and HEALPix sky maps seen from the Sun."""

    enabled: bool = False
    processes: list[Literal["pi0", "inverse_compton", "bremsstrahlung", "synchrotron"]] = Field(
        default_factory=lambda: ["pi0", "inverse_compton", "bremsstrahlung", "synchrotron"],
        description="processes to compute (each needs its emitters: nuclei for pi0, "
        "electrons/positrons for the others)",
    )
    e_gamma_min_gev: float = Field(0.1, gt=0, description="lowest gamma-ray energy")
    e_gamma_max_gev: float = Field(1.0e3, gt=0, description="highest gamma-ray energy")
    n_e_gamma: int = Field(21, ge=1, le=200, description="log-spaced gamma-ray energies")
    synchrotron_frequencies_hz: list[float] = Field(
        default_factory=lambda: [4.08e8, 1.4e9, 2.3e10], description="synchrotron frequencies"
    )
    nside: int = Field(32, ge=1, le=1024, description="HEALPix resolution (a power of 2)")
    oversample: int = Field(1, ge=1, le=16, description="rays per pixel edge (a power of 2)")
    s_max_kpc: float | None = Field(
        None, gt=0, description="line-of-sight length; unset: to the edge of the grid"
    )
    maps: bool = Field(True, description="sky maps (line-of-sight integrals)")
    fits: bool = Field(True, description="also <output_dir>/<stem>_maps.fits (needs maps)")
    pi0_model: Literal[pi0_models.PI0_MODELS] = Field(
        "pythia8", description="high-energy model of Kafexhiu et al. 2014"
    )

    @model_validator(mode="after")
    def _check_emission(self):
        for key in ("nside", "oversample"):
            value = getattr(self, key)
            if value & (value - 1):
                raise ValueError(f"emission.{key} = {value}: allowed a power of 2 (1, 2, 4, ...)")
        if not self.processes:
            raise ValueError(
                "emission.processes = []: allowed a non-empty subset of pi0, inverse_compton, "
                "bremsstrahlung, synchrotron"
            )
        if len(set(self.processes)) != len(self.processes):
            raise ValueError(f"emission.processes = {self.processes}: a process is listed twice")
        if self.n_e_gamma > 1 and not self.e_gamma_max_gev > self.e_gamma_min_gev:
            raise ValueError(
                f"emission.e_gamma_max_gev = {self.e_gamma_max_gev:g} must exceed "
                f"emission.e_gamma_min_gev = {self.e_gamma_min_gev:g} (n_e_gamma > 1)"
            )
        if "synchrotron" in self.processes and not self.synchrotron_frequencies_hz:
            raise ValueError(
                "emission.synchrotron_frequencies_hz = []: synchrotron needs at least one "
                "frequency > 0 Hz"
            )
        bad = [f for f in self.synchrotron_frequencies_hz if not f > 0]
        if bad:
            raise ValueError(
                f"emission.synchrotron_frequencies_hz = {self.synchrotron_frequencies_hz}: "
                "allowed frequencies > 0 Hz"
            )
        if self.fits and not self.maps and "fits" in self.model_fields_set:
            raise ValueError("emission.fits = true needs emission.maps = true")
        return self


# [fit] subclasses Block: imported once Block exists (galprop_py/fit/config.py)
from .fit.config import FitBlock  # noqa: E402


class Config(Block):
    run: RunBlock = Field(default_factory=RunBlock)
    grid: GridBlock = Field(default_factory=GridBlock)
    momentum: MomentumBlock = Field(default_factory=MomentumBlock)
    species: list[SpeciesBlock] = Field(
        default_factory=lambda: [SpeciesBlock(name="H1"), SpeciesBlock(name="He4", abundance=0.08)]
    )
    diffusion: DiffusionBlock = Field(default_factory=DiffusionBlock)
    wind: WindBlock = Field(default_factory=WindBlock)
    reacceleration: ReaccelerationBlock = Field(default_factory=ReaccelerationBlock)
    gas: GasBlock = Field(default_factory=GasBlock)
    losses: LossesBlock = Field(default_factory=LossesBlock)
    source: SourceBlock = Field(default_factory=SourceBlock)
    normalization: NormalizationBlock = Field(default_factory=NormalizationBlock)
    sun: SunBlock = Field(default_factory=SunBlock)
    modulation: ModulationBlock = Field(default_factory=ModulationBlock)
    solver: SolverBlock = Field(default_factory=SolverBlock)
    time: TimeBlock = Field(default_factory=TimeBlock)
    output: OutputBlock = Field(default_factory=OutputBlock)
    network: NetworkBlock | None = None
    cross_sections: CrossSectionsBlock = Field(default_factory=CrossSectionsBlock)
    fit: FitBlock | None = None
    emission: EmissionBlock = Field(default_factory=EmissionBlock)

    @model_validator(mode="after")
    def _check_run(self):
        """Checks across blocks: species, the Sun inside the grid, time profiles."""
        if not self.species and self.network is None:
            raise ValueError(
                "species = []: a run needs at least one [[species]] (or a [network] block)"
            )
        names = [b.name for b in self.species]
        norm = self.normalization
        if self.network is None and norm.enabled and names and norm.species not in names:
            raise ValueError(
                f"normalization.species = {norm.species!r} is not among the species "
                f"({', '.join(names)}); name one of them or set normalization.enabled = false"
            )
        g, sun = self.grid, self.sun
        outside = []
        if g.geometry in ("slab1d", "cylindrical2d", "cartesian3d") and abs(sun.z_kpc) > (
            g.z_max_kpc
        ):
            outside.append(f"sun.z_kpc = {sun.z_kpc:g} (grid.z_max_kpc = {g.z_max_kpc:g})")
        if g.geometry in ("spherical1d", "cylindrical2d") and sun.r_kpc > g.r_max_kpc:
            outside.append(f"sun.r_kpc = {sun.r_kpc:g} (grid.r_max_kpc = {g.r_max_kpc:g})")
        if g.geometry == "cartesian3d" and sun.r_kpc > g.x_max_kpc:
            outside.append(
                f"sun.r_kpc = {sun.r_kpc:g} (the Sun is at x = r, y = 0; grid.x_max_kpc = "
                f"{g.x_max_kpc:g})"
            )
        if outside:
            raise ValueError(f"the Sun is outside the grid: {'; '.join(outside)}")
        if self.run.mode == "steady" and self.source.time_profile != "constant":
            raise ValueError(
                f"source.time_profile = {self.source.time_profile!r} needs run.mode = "
                "'transient' (a steady state has a constant source)"
            )
        return self

    @model_validator(mode="after")
    def _unique_species(self):
        seen = set()
        for block in self.species:
            if block.name in seen:
                raise ValueError(f"species.name = {block.name!r} is listed twice")
            seen.add(block.name)
            if block.normalize_to is not None and block.name == self.normalization.species:
                raise ValueError(
                    f"species {block.name!r} has its own normalize_to and is also "
                    "normalization.species: use one of them"
                )
        return self

    @model_validator(mode="after")
    def _check_emission_grid(self):
        e = self.emission
        flat = self.grid.geometry not in ("cylindrical2d", "cartesian3d")
        if e.enabled and e.maps and flat and "maps" not in e.model_fields_set:
            # maps by default only where there is a Galactic plane to look along: a 1D run
            # of a model with [emission] (the default model on grid.geometry = slab1d) keeps
            # its emissivities and luminosities (the emission log line says so)
            object.__setattr__(e, "maps", False)
        if e.enabled and e.maps and flat:
            raise ValueError(
                f"emission.maps = true needs grid.geometry 'cylindrical2d' or 'cartesian3d' "
                f"(a Galactic plane to look along), not {self.grid.geometry!r}; set "
                "emission.maps = false for emissivities and luminosities only"
            )
        return self

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _format_error(err: ValidationError, data: dict) -> str:
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    value = data
    try:
        for part in first["loc"]:
            value = value[part]
    except (KeyError, IndexError, TypeError):
        value = first.get("input")
    msg = first["msg"]
    if first["type"] == "value_error":
        # a check across several keys of a block: its message names the keys itself
        msg = msg.removeprefix("Value error, ")
        return " ".join((f"config block {loc}: {msg}" if loc else f"config: {msg}").split())
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "literal_error":
        msg = "allowed: " + first["ctx"]["expected"]
    elif first["type"] == "finite_number":
        msg = "must be a finite number (inf and nan are not allowed)"
    return " ".join(f"config key {loc} = {_show(value)}: {msg}".split())


def _show(value) -> str:
    """A config value as the user wrote it (TOML spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def _non_finite(node, prefix: str = "") -> str | None:
    """The dotted key of the first infinite or NaN number in raw config data, or None."""
    if isinstance(node, float) and not math.isfinite(node):
        return prefix
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for k, v in items:
        found = _non_finite(v, f"{prefix}.{k}" if prefix else str(k))
        if found is not None:
            return found
    return None


def _parse_value(text: str):
    """An override's value as TOML (``1e28``, ``true``, ``[2.2, 2.4]``, ``"x"``), else the text
    itself as a string."""
    if "\n" in text or "\r" in text:
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``block.key=value`` strings (values parsed as TOML, else kept as strings); list
    entries are addressed by index (``species.0.abundance=0.9``).  ``block.key=`` (nothing
    after ``=``) unsets a key the file sets, so that its default applies (a key the file
    does not set, or a list entry, is an error).  A malformed override is a
    :class:`ConfigError` naming it."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected block.key=value")
        key, text = item.split("=", 1)
        parts = [p.strip() for p in key.strip().split(".")]
        if not key.strip() or any(not p for p in parts):
            raise ConfigError(f"override {item!r}: expected block.key=value (an empty key)")
        node = data
        path = []
        for i, part in enumerate(parts[:-1]):
            path.append(part)
            where = ".".join(path)
            if isinstance(node, dict) and part not in node and parts[i + 1].isdigit():
                raise ConfigError(
                    f"override {item!r}: {where} is not written in the config file, so its "
                    f"entries cannot be addressed by index; give the whole list ({where}=[...])"
                )
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(
                        f"override {item!r}: {'.'.join(path[:-1])} has {len(node)} entries, "
                        f"addressed as 0..{len(node) - 1}, not {part!r}"
                    )
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
            else:
                break
            if not isinstance(node, dict | list):
                raise ConfigError(
                    f"override {item!r}: config key {where} = {_show(node)} is a value, not a "
                    "block with keys"
                )
        last = parts[-1]
        if not text.strip():
            if isinstance(node, list):
                raise ConfigError(
                    f"override {item!r}: a list entry cannot be unset; give the whole list "
                    f"({'.'.join(parts[:-1])}=[...])"
                )
            if not isinstance(node, dict) or last not in node:
                raise ConfigError(
                    f"override {item!r}: {'.'.join(parts)} is not set in the config file, so "
                    "there is nothing to unset (block.key= unsets a key the file sets)"
                )
            del node[last]
            continue
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ConfigError(
                    f"override {item!r}: {'.'.join(parts[:-1])} has {len(node)} entries, "
                    f"addressed as 0..{len(node) - 1}, not {last!r}"
                )
            node[int(last)] = _parse_value(text.strip())
        else:
            node[last] = _parse_value(text.strip())
    return data


def config_from_dict(data: dict) -> Config:
    """Validate raw config data; any problem is a :class:`ConfigError` of one line."""
    if not isinstance(data, dict):
        raise ConfigError(f"config must be a table of blocks, not {type(data).__name__}")
    key = _non_finite(data)
    if key is not None:
        value = data
        for part in key.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        raise ConfigError(
            f"config key {key} = {value!r}: must be a finite number (inf and nan are not allowed)"
        )
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_error(err, data)) from None


def default_model_path() -> Path:
    """The built-in Milky Way model (``galprop_py/models/milky_way.toml``)."""
    from importlib import resources

    return Path(str(resources.files("galprop_py.models") / "milky_way.toml"))


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a TOML file (the built-in Milky Way model when ``path`` is None) and apply
    ``block.key=value`` overrides; list entries are addressed by index
    (``species.0.abundance=0.9``)."""
    path = Path(path) if path is not None else default_model_path()
    label = f"config file {str(path)!r}"
    if path.is_dir():
        raise ConfigError(f"{label} is a directory, not a TOML file")
    if not path.is_file():
        raise ConfigError(f"{label} not found")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{label} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{label} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "TOML files are UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(" ".join(f"{label} is not valid TOML: {exc}".split())) from None
    return config_from_dict(apply_overrides(data, overrides or []))
