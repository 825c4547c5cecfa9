"""The ``[shock]`` configuration block of a diffusive-shock-acceleration run (pydantic).

Kept inside the shock package: the galaxy run pipeline does not read it.  Keys carry their
units (``_km_s``, ``_microgauss``, ``_cm2_s``, ``_gev``, ``_pc``, ``_yr``); an unknown key, an
out-of-range value or a key that does not apply to the chosen options raises
:class:`galprop_py.config.ConfigError` with one line naming the key, the value and what is
allowed.  See :mod:`galprop_py.shock.dsa` for the physics and the numerics behind each key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import tomllib
from pydantic import Field, ValidationError, model_validator

from ..config import Block, ConfigError, _format_error, apply_overrides


class ShockBlock(Block):
    """``[shock]``: a planar shock, upstream x < 0 flowing into downstream x > 0."""

    shock_speed_km_s: float = Field(5000.0, gt=0, lt=3.0e5, description="upstream speed u1")
    compression_ratio: float = Field(4.0, gt=1, le=7, description="r = u1/u2")
    diffusion: Literal["bohm", "power_law"] = Field(
        "bohm", description="bohm: kappa = r_g v / 3; power_law: kappa_cm2_s (p/p_ref)^index"
    )
    b_upstream_microgauss: float = Field(3.0, gt=0, description="field for Bohm diffusion")
    b_downstream_microgauss: float | None = Field(
        None, gt=0, description="downstream field (Bohm); default: the upstream field"
    )
    kappa_cm2_s: float = Field(1.0e22, gt=0, description="power law: kappa1 at p_ref")
    kappa_p_ref_gev: float = Field(1.0, gt=0, description="power law: reference momentum")
    kappa_index: float = Field(1.0, ge=0, le=2, description="power law: kappa ~ p^index")
    kappa_downstream_factor: float = Field(1.0, gt=0, description="power law: kappa2/kappa1")
    injection_momentum_gev: float = Field(1.0, gt=0, description="p0 of the delta injection")
    injection_rate_cm2_s: float = Field(1.0, gt=0, description="particles per area and time")
    p_max_gev: float = Field(1.0e5, gt=0, description="top of the momentum grid")
    momenta_per_decade: int = Field(20, ge=4, le=100)
    escape_distance_pc: float = Field(1.0, gt=0, description="free-escape boundary upstream")
    downstream_extent_pc: float | None = Field(
        None, gt=0, description="outflow boundary; default 3 r (kappa2/kappa1) L"
    )
    finest_cell_fraction: float = Field(
        0.1, gt=0, le=1, description="shock cell width over kappa1(p0)/u1"
    )
    max_cell_growth: float = Field(1.05, gt=1, le=1.5, description="width ratio of neighbours")
    profile: Literal["sharp", "smooth"] = Field("sharp", description="flow profile u(x)")
    smoothing_cells: float = Field(2.0, gt=0, le=50, description="smooth: tanh width / h0")
    age_yr: float = Field(1000.0, gt=0, description="end of the time-dependent run")
    first_step_yr: float | None = Field(
        None, gt=0, description="default: 1% of the mean acceleration time scale at p0"
    )
    steps_per_doubling: int = Field(10, ge=1, le=1000, description="steps before dt doubles")
    time_scheme: Literal["backward_euler", "cn-be"] = "backward_euler"

    @model_validator(mode="after")
    def _check(self):
        if self.p_max_gev < 10.0 * self.injection_momentum_gev:
            raise ValueError(
                f"shock.p_max_gev = {self.p_max_gev:g} must be at least 10 "
                f"shock.injection_momentum_gev = {self.injection_momentum_gev:g}"
            )
        uses = {
            "bohm": ("b_upstream_microgauss", "b_downstream_microgauss"),
            "power_law": (
                "kappa_cm2_s", "kappa_p_ref_gev", "kappa_index", "kappa_downstream_factor",
            ),
        }  # fmt: skip
        for kind, keys in uses.items():
            for key in keys:
                if kind != self.diffusion and self._changed(key):
                    raise ValueError(
                        f"shock.{key} = {getattr(self, key)!r} does not apply to "
                        f"shock.diffusion = {self.diffusion!r}"
                    )
        if self.profile != "smooth" and self._changed("smoothing_cells"):
            raise ValueError(
                f"shock.smoothing_cells = {self.smoothing_cells:g} does not apply to "
                f"shock.profile = {self.profile!r}"
            )
        if self.first_step_yr is not None and self.first_step_yr >= self.age_yr:
            raise ValueError(
                f"shock.first_step_yr = {self.first_step_yr:g} must be below "
                f"shock.age_yr = {self.age_yr:g}"
            )
        return self


class _ShockFile(Block):
    shock: ShockBlock = Field(default_factory=ShockBlock)


def shock_config(data: dict | None = None, **keys) -> ShockBlock:
    """Validate the keys of a ``[shock]`` block (a dict and/or keyword arguments)."""
    block = dict(data or {}) | keys
    wrapped = {"shock": block}
    try:
        return _ShockFile.model_validate(wrapped).shock
    except ValidationError as err:
        raise ConfigError(_format_error(err, wrapped)) from None


def load_shock_config(path: str | Path, overrides: list[str] | None = None) -> ShockBlock:
    """Read the ``[shock]`` block of a TOML file, with ``shock.key=value`` overrides."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    data = apply_overrides(data, list(overrides or []))
    extra = sorted(set(data) - {"shock"})
    if extra:
        raise ConfigError(f"config block {extra[0]}: unknown block (allowed: shock)")
    shock = data.get("shock", {})
    if not isinstance(shock, dict):
        raise ConfigError(f"config key shock = {shock!r}: must be a table of keys")
    return shock_config(shock)
