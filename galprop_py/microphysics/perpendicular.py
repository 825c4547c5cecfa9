"""Perpendicular diffusion: field-line random walk and nonlinear guiding-centre theory.

(A review of both: Shalchi 2009, *Nonlinear Cosmic Ray Diffusion Theories*, Springer.)

Field-line random walk (FLRW; Jokipii 1966, ApJ 146, 480; Jokipii & Parker 1969).  In slab
turbulence a field line wanders as ``<dx^2> = 2 D_FL |dz|`` with the field-line diffusion
coefficient (a length)::

    D_FL = int_0^inf <b_x(0) b_x(z)> dz / B0^2 = pi E(0) / (4) = (delta B / B0)^2 l_c / 2

(``E(k)/B0^2`` the slab spectrum summed over both transverse components, ``l_c`` the
correlation length of one component).  A particle streaming freely along the wandering line
with speed ``|v mu|`` averaged over an isotropic distribution (``<|mu|> = 1/2``) spreads as
``<dx^2> = 2 (v / 2) D_FL t``, hence the FLRW coefficient used here::

    kappa_perp = v D_FL / 2

valid while the particle does not retrace its path (``lambda_par`` larger than the
correlation length; for ``lambda_par << l_c`` compound sub-diffusion sets in, Kota & Jokipii
2000, ApJ 531, 1067).

Nonlinear guiding centre theory (NLGC; Matthaeus, Qin, Bieber & Zank 2003, ApJ 590, L53).
The guiding centre follows the field lines and decorrelates through parallel scattering and
its own perpendicular diffusion; for slab plus two-dimensional (2D) turbulence::

    kappa_perp = (a^2 v^2 / 3) [ int_0^inf E_2D(k) / 2 / (v / lambda_par + k^2 kappa_perp) dk
                               + int_0^inf E_s(k)  / 2 / (v / lambda_par + k^2 kappa_par) dk ]

(spectra normalised to ``B0^2``; ``E/2`` is the share of one transverse component), an
implicit equation solved here by bracketing.  ``a^2 = 1/3`` from simulations.  Two closed
forms follow and are used as checks:

* short mean free path (``v / lambda_par`` dominates the denominators):
  ``kappa_perp / kappa_par = a^2 (delta B / B0)^2 / 2``;
* long mean free path, 2D part with a flat energy range ``E_2D(k) ~ E_2D(0)`` (Shalchi,
  Bieber, Matthaeus & Qin 2004, ApJ 616, 617)::

      lambda_perp = (sqrt(3) pi a^2 E_2D(0) / 4)^(2/3) lambda_par^(1/3)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from .turbulence import TurbulenceSpectrum

NLGC_A_SQUARED = 1.0 / 3.0


class PerpendicularDiffusion(NamedTuple):
    """Perpendicular diffusion coefficient and its ratio to the parallel one."""

    kappa_perp_cm2_s: float
    ratio_to_parallel: float


def field_line_diffusion_cm(slab: TurbulenceSpectrum) -> float:
    """Field-line diffusion coefficient ``D_FL = pi E(0) / 4`` [cm] of slab turbulence."""
    return 0.25 * math.pi * slab.energy_at_zero


def kappa_perp_field_line_random_walk(
    speed_cm_s: float, slab: TurbulenceSpectrum, kappa_par_cm2_s: float
) -> PerpendicularDiffusion:
    """FLRW ``kappa_perp = v D_FL / 2`` [cm^2/s] (Jokipii 1966).

    Parameters
    ----------
    speed_cm_s : float
        Particle speed [cm/s].
    slab : TurbulenceSpectrum
        Slab spectrum (sets ``D_FL``).
    kappa_par_cm2_s : float
        Parallel diffusion coefficient, for the reported ratio.
    """
    kappa = 0.5 * speed_cm_s * field_line_diffusion_cm(slab)
    return PerpendicularDiffusion(kappa, kappa / kappa_par_cm2_s)


def _lorentz_weighted_energy(
    spectrum: TurbulenceSpectrum, rate: float, diffusion: float, points_per_decade: int
) -> float:
    """``int_0^inf E(k) / (rate + k^2 diffusion) dk``: flat range analytically, rest on a grid."""
    e0, k1 = spectrum.energy_at_zero, spectrum.k_min_per_cm
    scale = math.sqrt(diffusion / rate)
    flat = e0 * math.atan(k1 * scale) / math.sqrt(rate * diffusion)
    k, w = spectrum.wavenumber_grid(points_per_decade, k_low_per_cm=k1)
    rest = float(np.sum(spectrum.energy(k) * w / (rate + k * k * diffusion)))
    return flat + rest


def kappa_perp_nlgc(
    speed_cm_s: float,
    kappa_par_cm2_s: float,
    two_d: TurbulenceSpectrum | None,
    slab: TurbulenceSpectrum | None = None,
    a_squared: float = NLGC_A_SQUARED,
    k_points_per_decade: int = 50,
) -> PerpendicularDiffusion:
    """NLGC perpendicular diffusion [cm^2/s] (Matthaeus et al. 2003), solved iteratively.

    Parameters
    ----------
    speed_cm_s : float
        Particle speed [cm/s].
    kappa_par_cm2_s : float
        Parallel diffusion coefficient (``lambda_par = 3 kappa_par / v``).
    two_d : TurbulenceSpectrum or None
        Spectrum of the 2D component ``E_2D(k_perp) / B0^2`` (None: slab only, for which
        NLGC is explicit).
    slab : TurbulenceSpectrum, optional
        Slab component ``E_s(k_par) / B0^2`` (adds a term independent of ``kappa_perp``).
    a_squared : float
        NLGC constant ``a^2`` (1/3).
    k_points_per_decade : int
        Resolution of the wavenumber integrals.
    """
    v = speed_cm_s
    rate = v * v / (3.0 * kappa_par_cm2_s)  # v / lambda_par
    prefactor = a_squared * v * v / 6.0
    if not (np.isfinite(kappa_par_cm2_s) and kappa_par_cm2_s > 0):
        raise ValueError("NLGC needs a finite, positive kappa_par")
    if two_d is None and slab is None:
        raise ValueError("give a 2D and/or a slab spectrum")
    slab_term = 0.0
    if slab is not None:
        slab_term = _lorentz_weighted_energy(slab, rate, kappa_par_cm2_s, k_points_per_decade)
    if two_d is None:
        kappa = prefactor * slab_term
        return PerpendicularDiffusion(kappa, kappa / kappa_par_cm2_s)

    def excess(kappa: float) -> float:
        two_d_term = _lorentz_weighted_energy(two_d, rate, kappa, k_points_per_decade)
        return kappa - prefactor * (two_d_term + slab_term)

    # the right-hand side decreases with kappa_perp: twice its value at 0 brackets the root
    upper = 2.0 * prefactor * (two_d.delta_b_over_b**2 / rate + slab_term)
    kappa = brentq(excess, upper * 1e-12, upper, xtol=upper * 1e-15, rtol=1e-12)
    return PerpendicularDiffusion(kappa, kappa / kappa_par_cm2_s)


def nlgc_short_mean_free_path_ratio(
    delta_b_over_b: float, a_squared: float = NLGC_A_SQUARED
) -> float:
    """``kappa_perp / kappa_par = a^2 (delta B / B0)^2 / 2`` of NLGC for ``lambda_par -> 0``."""
    return 0.5 * a_squared * delta_b_over_b**2


def nlgc_long_mean_free_path_cm(
    lambda_par_cm: NDArray | float, two_d: TurbulenceSpectrum, a_squared: float = NLGC_A_SQUARED
) -> NDArray[np.float64]:
    """``lambda_perp = (sqrt(3) pi a^2 E_2D(0) / 4)^(2/3) lambda_par^(1/3)`` [cm] of NLGC for
    long mean free paths (Shalchi et al. 2004)."""
    base = math.sqrt(3.0) * math.pi * a_squared * two_d.energy_at_zero / 4.0
    return base ** (2.0 / 3.0) * np.asarray(lambda_par_cm, dtype=float) ** (1.0 / 3.0)
