"""Entry point for the solver: kappa_par(R) and kappa_perp(R) from a turbulence model.

The turbulence is the composite slab + two-dimensional model of Bieber, Wanner & Matthaeus
(1996, JGR 101, 2511): a fraction ``slab_fraction`` of the energy ``(delta B / B0)^2`` in
slab modes, the rest in 2D modes, both with the spectrum of
:class:`~.turbulence.TurbulenceSpectrum` (outer scale ``L``, inertial index ``q``, optional
dissipation range).  Then

* ``kappa_par`` from quasi-linear pitch-angle scattering by the slab modes with resonance
  broadening ``Delta_mu`` (:mod:`~.quasilinear`), plus, if a fast-mode amplitude is given,
  transit-time damping by isotropic fast modes (:mod:`~.transit_time_damping`): the two
  ``D_mumu`` add before the ``mu`` integral;
* ``kappa_perp`` from NLGC with the 2D and slab parts (default) or from the slab field-line
  random walk (:mod:`~.perpendicular`).

Everything is cgs; the operators convert with :func:`galprop_py.units.diffusion_to_internal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..physics.kinematics import beta as beta_of
from ..physics.kinematics import momentum_from_rigidity
from ..physics.species import Species
from ..units import C_CM_S, KM_CM, PC_CM
from .perpendicular import kappa_perp_field_line_random_walk, kappa_perp_nlgc
from .quasilinear import graded_mu_grid, parallel_diffusion_coefficient, pitch_angle_diffusion_slab
from .transit_time_damping import ttd_pitch_angle_diffusion
from .turbulence import TurbulenceSpectrum


@dataclass(frozen=True)
class TurbulenceParameters:
    """Parameters of the turbulence that scatters cosmic rays.

    Attributes
    ----------
    delta_b_over_b : float
        Total RMS amplitude ``delta B / B0`` of the Alfvenic (slab + 2D) turbulence.
    spectral_index : float
        Inertial-range index ``q`` (5/3 Kolmogorov, 3/2 Kraichnan).
    outer_scale_pc : float
        Outer scale ``L`` [pc]; ``k_min = 2 pi / L``.
    dissipation_scale_cm : float
        Scale where the dissipation range starts [cm] (0: unbounded inertial range).
    dissipation_index : float or None
        Spectral index of the dissipation range (None: sharp end at the dissipation scale).
    slab_fraction : float
        Fraction of the energy in slab modes (0.2 in the solar wind).
    broadening : float
        ``Delta_mu`` of the resonance broadening (0: sharp QLT, which needs a spectrum that
        never ends, otherwise kappa_par is infinite).
    fast_mode_delta_b_over_b : float
        Amplitude of isotropic fast-mode turbulence for TTD (0: none).
    fast_mode_spectral_index : float
        Its spectral index (3/2, Cho & Lazarian 2002).
    fast_speed_km_s : float
        Fast-mode phase speed [km/s].
    perpendicular_model : {"nlgc", "flrw"}
        Perpendicular transport theory.
    """

    delta_b_over_b: float = 0.5
    spectral_index: float = 5.0 / 3.0
    outer_scale_pc: float = 50.0
    dissipation_scale_cm: float = 0.0
    dissipation_index: float | None = 3.0
    slab_fraction: float = 0.2
    broadening: float = 0.1
    fast_mode_delta_b_over_b: float = 0.0
    fast_mode_spectral_index: float = 1.5
    fast_speed_km_s: float = 30.0
    perpendicular_model: Literal["nlgc", "flrw"] = "nlgc"

    def __post_init__(self) -> None:
        if not 0.0 < self.slab_fraction <= 1.0:
            raise ValueError("slab_fraction must lie in (0, 1]")
        if self.perpendicular_model not in ("nlgc", "flrw"):
            raise ValueError("perpendicular_model must be 'nlgc' or 'flrw'")

    def spectrum(self) -> TurbulenceSpectrum:
        """Spectrum of the whole Alfvenic turbulence."""
        return TurbulenceSpectrum.from_scales(
            self.delta_b_over_b,
            self.spectral_index,
            self.outer_scale_pc * PC_CM,
            self.dissipation_scale_cm,
            self.dissipation_index,
        )

    def fast_mode_spectrum(self) -> TurbulenceSpectrum:
        """Spectrum of the fast modes (same scales, their own amplitude and index)."""
        return TurbulenceSpectrum.from_scales(
            self.fast_mode_delta_b_over_b,
            self.fast_mode_spectral_index,
            self.outer_scale_pc * PC_CM,
            self.dissipation_scale_cm,
            self.dissipation_index,
        )


def tabulate_diffusion(
    rigidity_gv: ArrayLike,
    species: Species,
    b_gauss: float,
    turbulence: TurbulenceParameters | None = None,
    *,
    mu_nodes_per_decade: int = 8,
    mu_min: float = 1e-9,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Parallel and perpendicular diffusion coefficients on a rigidity grid.

    Parameters
    ----------
    rigidity_gv : array_like
        Rigidities [GV] (1-D or scalar).
    species : Species
        The particle (mass and charge set the speed at a given rigidity).
    b_gauss : float
        Mean (regular) field strength [G].
    turbulence : TurbulenceParameters, optional
        Turbulence model (defaults of :class:`TurbulenceParameters`).
    mu_nodes_per_decade, mu_min : int, float
        Pitch-angle quadrature (:func:`~.quasilinear.graded_mu_grid`).

    Returns
    -------
    kappa_par_cm2_s, kappa_perp_cm2_s : ndarray
        Diffusion coefficients [cm^2/s] with the shape of ``rigidity_gv``.
    """
    turb = TurbulenceParameters() if turbulence is None else turbulence
    rigidity = np.asarray(rigidity_gv, dtype=float)
    total = turb.spectrum()
    slab = total.scaled(turb.slab_fraction)
    two_d = total.scaled(1.0 - turb.slab_fraction) if turb.slab_fraction < 1.0 else None
    fast = turb.fast_mode_spectrum() if turb.fast_mode_delta_b_over_b > 0.0 else None
    mu, w = graded_mu_grid(mu_nodes_per_decade, mu_min)
    kappa_par = np.empty(rigidity.size)
    kappa_perp = np.empty(rigidity.size)
    for i, r in enumerate(rigidity.ravel()):
        beta = float(beta_of(momentum_from_rigidity(r, species.charge), species.mass))
        speed = beta * C_CM_S
        d_mumu = pitch_angle_diffusion_slab(mu, r, beta, b_gauss, slab, broadening=turb.broadening)
        if fast is not None:
            d_mumu = d_mumu + ttd_pitch_angle_diffusion(
                mu,
                r,
                beta,
                b_gauss,
                fast,
                turb.fast_speed_km_s * KM_CM,
                broadening=turb.broadening,
            )
        kappa_par[i] = parallel_diffusion_coefficient(mu, w, d_mumu, speed)
        if not np.isfinite(kappa_par[i]):
            raise ValueError(
                f"kappa_par is infinite at R = {r:g} GV (D_mumu = 0 near 90 degrees): "
                "set a resonance broadening > 0 or a fast-mode amplitude for TTD"
            )
        if turb.perpendicular_model == "flrw":
            perp = kappa_perp_field_line_random_walk(speed, slab, kappa_par[i])
        else:
            perp = kappa_perp_nlgc(speed, kappa_par[i], two_d, slab)
        kappa_perp[i] = perp.kappa_perp_cm2_s
    return kappa_par.reshape(rigidity.shape), kappa_perp.reshape(rigidity.shape)
