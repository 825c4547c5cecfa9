"""Diffusion tensor of ``diffusion.model = "quasilinear"``: coefficients from a turbulence model.

For each species, ``kappa_par(R)`` and ``kappa_perp(R)`` are tabulated on the species' own
momentum grid (cell centres) by :func:`galprop_py.microphysics.coefficients.tabulate_diffusion`
from the ``[diffusion.turbulence]`` block (quasi-linear pitch-angle scattering by slab modes
with resonance broadening; NLGC or field-line random walk across the field) and converted from
cm^2/s to kpc^2/Myr.  With ``drift = true`` the antisymmetric coefficient of the weak-scattering
limit, ``kappa_A = v r_g / 3 = v R / (3 B)``
(:func:`galprop_py.microphysics.drifts.drift_coefficient_cm2_s`, charge sign kept), is added.

The tensor ``kappa_ij = kperp delta_ij + (kpar - kperp) b_i b_j + kA eps_ijk b_k`` uses the
direction ``b`` of the model field: ``diffusion.field_direction`` for the uniform field model
(a unit vector in the geometry's frame, see :class:`~galprop_py.operators.base.DiffusionTensor`).
The coefficients do not depend on position (one field strength ``b_field_ug``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import units
from ..config import Config, TurbulenceBlock
from ..microphysics.coefficients import TurbulenceParameters, tabulate_diffusion
from ..microphysics.drifts import drift_coefficient_cm2_s
from ..operators.base import DiffusionTensor
from ..physics import kinematics
from ..physics.species import Species


def turbulence_parameters(block: TurbulenceBlock) -> TurbulenceParameters:
    """The microphysics parameters of a ``[diffusion.turbulence]`` block (unbounded inertial
    range, no fast modes)."""
    return TurbulenceParameters(
        delta_b_over_b=block.delta_b_over_b,
        spectral_index=block.spectral_index,
        outer_scale_pc=block.outer_scale_pc,
        broadening=block.broadening,
        slab_fraction=block.slab_fraction,
        perpendicular_model=block.perpendicular_model,
    )


def tabulate(
    block: TurbulenceBlock, species: Species, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(kappa_par, kappa_perp, kappa_A or None)`` [kpc^2/Myr] at momenta ``p`` [GeV/c]."""
    if species.charge == 0:
        raise ValueError(
            f"diffusion.model = 'quasilinear' needs charged particles; {species.name} is neutral"
        )
    rigidity = kinematics.rigidity(p, species.charge)
    b_gauss = block.b_field_ug * units.GAUSS_PER_MICROGAUSS
    try:
        kpar, kperp = tabulate_diffusion(rigidity, species, b_gauss, turbulence_parameters(block))
    except ValueError as exc:
        raise ValueError(f"config block diffusion.turbulence: {exc}") from None
    kappa_a = None
    if block.drift:
        signed = np.sign(species.charge) * rigidity
        kappa_a = units.diffusion_to_internal(
            drift_coefficient_cm2_s(signed, kinematics.beta(p, species.mass), b_gauss)
        )
    return units.diffusion_to_internal(kpar), units.diffusion_to_internal(kperp), kappa_a


def uniform_field_direction(direction) -> Callable:
    """Constant unit vector ``b`` as the tensor's ``field_direction(coords)``."""
    b = np.asarray(direction, dtype=float)
    norm = np.linalg.norm(b) if b.shape == (3,) else 0.0
    if not norm > 0:
        raise ValueError(
            f"config key diffusion.field_direction = {list(direction)!r}: need 3 components, "
            "not all zero"
        )
    b = tuple(b / norm)
    return lambda coords: b


def diffusion_tensor(
    cfg: Config, species: Species, p: np.ndarray, field_direction: Callable | None = None
) -> DiffusionTensor:
    """The anisotropic tensor of ``species`` at its cell-centre momenta ``p`` [GeV/c].

    ``field_direction`` (a callable ``coords -> (b_0, b_1, b_2)``) overrides the uniform
    field of the config; without it ``diffusion.field_model`` must be ``"uniform"``.
    """
    d = cfg.diffusion
    if field_direction is None:
        if d.field_model != "uniform":
            raise ValueError(
                f"config key diffusion.field_model = {d.field_model!r}: pass the model's "
                "field_direction (GalaxyModel.field_direction) for non-uniform fields"
            )
        field_direction = uniform_field_direction(d.field_direction)
    kpar, kperp, kappa_a = tabulate(d.turbulence, species, p)
    return DiffusionTensor(
        kappa_par=kpar, kappa_perp=kperp, kappa_a=kappa_a, field_direction=field_direction
    )
