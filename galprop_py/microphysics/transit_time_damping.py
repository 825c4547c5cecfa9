"""Transit-time damping (TTD): pitch-angle scattering by compressive fast modes.

A particle with magnetic moment feels the mirror force of the field-strength fluctuations,
``dmu/dt = -(v (1 - mu^2) / 2 B0) d(delta B_par)/dz`` (gyro-averaged over the orbit, which
multiplies a mode of perpendicular wavenumber ``k_perp`` by ``2 J_1(w) / w``,
``w = k_perp r_g sqrt(1 - mu^2)``).  The Landau resonance ``k_par v mu = omega`` (``n = 0``,
:mod:`~.resonance`) then gives the quasi-linear coefficient (Schlickeiser & Miller 1998, ApJ
492, 352; Yan & Lazarian 2002 PRL 89, 281102 and 2008 ApJ 673, 942)::

    D_mumu = (v^2 (1 - mu^2)^2 / 4) int d^3k k_par^2 P_par(k) R(k_par v mu - omega) [2 J_1(w)/w]^2

for fast modes with ``omega = k v_f``.  We take the fast-mode turbulence isotropic (Cho &
Lazarian 2002, PRL 88, 245001) with one-dimensional spectrum ``E_f(k)``
(:class:`~.turbulence.TurbulenceSpectrum`, ``q = 3/2``), ``P(k) = E_f / (4 pi k^2)``, and
``P_par = sin^2(theta) P`` from the fast-mode polarisation (:mod:`~.mhd_waves`:
``|delta B_par| / |delta B| = sin theta``), and the phase speed ``v_f`` independent of angle
(exact for low and high plasma beta).  With ``x = cos theta``::

    D_mumu = (v^2 (1 - mu^2)^2 / 8) int_-1^1 dx x^2 (1 - x^2) l(x) G(r_g sqrt(1-x^2) sqrt(1-mu^2))

    G(a) = int E_f(k) k [2 J_1(k a) / (k a)]^2 dk,   l(x) = k R(k (x v mu - v_f)) (k-free)

Sharp resonance: ``l = pi delta(x v mu - v_f)``, so only ``x_r = v_f / (v mu)`` contributes
and TTD is impossible for ``|mu| < v_f / v``::

    D_mumu = (pi v (1 - mu^2)^2 / (8 |mu|)) x_r^2 (1 - x_r^2) G(a_r)

Broadened resonance (Yan & Lazarian 2008): width ``Gamma = |k_par| v Delta_mu``, so
``l(x) = R(x v mu - v_f; |x| v Delta_mu)``, finite at ``mu = 0``: TTD then scatters
particles through 90 degrees.  The default profile is the Gaussian of Yan & Lazarian; with a
Lorentzian the slowly decaying tails let the strongly weighted ``k_par ~ k`` modes act far
off resonance, and for ``|mu| >> Delta_mu`` the result no longer tends to the sharp one.
The energy change of the particle in the wave frame is neglected (``v >> v_f``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gamma as gamma_function
from scipy.special import j1

from ..units import C_CM_S
from .gyration import gyroradius_cm
from .resonance import ResonanceShape, resonance_function
from .turbulence import TurbulenceSpectrum

_ASYMPTOTIC_ARGUMENT = 50.0


def gyro_average_factor(w: ArrayLike) -> NDArray[np.float64]:
    """``[2 J_1(w) / w]^2``, replaced by its mean ``4 / (pi w^3)`` for ``w > 50`` (the
    oscillation is then unresolved on logarithmic grids and averages out)."""
    w = np.asarray(w, dtype=float)
    small = w < 1e-8
    safe = np.where(small, 1.0, w)
    exact = (2.0 * j1(safe) / safe) ** 2
    mean = 4.0 / (math.pi * safe**3)
    return np.where(small, 1.0, np.where(w > _ASYMPTOTIC_ARGUMENT, mean, exact))


def bessel_integral_closed_form(spectral_index: float) -> float:
    """``int_0^inf y^(1-q) [2 J_1(y)/y]^2 dy = 4 Gamma(q+1) Gamma(1-q/2) /
    (2^(q+1) Gamma(1+q/2)^2 Gamma(2+q/2))`` for ``0 < q < 2`` (Weber-Schafheitlin;
    Gradshteyn & Ryzhik 6.574.2)."""
    q = spectral_index
    if not 0.0 < q < 2.0:
        raise ValueError("needs 0 < q < 2")
    return (
        4.0
        * gamma_function(q + 1.0)
        * gamma_function(1.0 - 0.5 * q)
        / (2.0 ** (q + 1.0) * gamma_function(1.0 + 0.5 * q) ** 2 * gamma_function(2.0 + 0.5 * q))
    )


def gyro_filtered_energy(
    a_cm: ArrayLike, spectrum: TurbulenceSpectrum, k_points_per_decade: int = 100
) -> NDArray[np.float64]:
    """``G(a) = int E(k) k [2 J_1(k a)/(k a)]^2 dk`` [1/cm] for Larmor-disc radii ``a``."""
    a = np.asarray(a_cm, dtype=float)
    a_min = float(np.min(a[a > 0])) if np.any(a > 0) else 1.0
    k, w = spectrum.wavenumber_grid(k_points_per_decade, k_high_per_cm=1e4 / a_min)
    weights = spectrum.energy(k) * k * w
    return gyro_average_factor(np.multiply.outer(a, k)) @ weights


def ttd_pitch_angle_diffusion(
    mu: ArrayLike,
    rigidity_gv: float,
    beta: float,
    b_gauss: float,
    spectrum: TurbulenceSpectrum,
    fast_speed_cm_s: float,
    *,
    broadening: float = 0.0,
    resonance_shape: ResonanceShape = "gaussian",
    x_points_per_decade: int = 100,
    k_points_per_decade: int = 100,
) -> NDArray[np.float64]:
    """``D_mumu(mu)`` [1/s] from transit-time damping by isotropic fast modes.

    Parameters
    ----------
    mu : array_like
        Pitch-angle cosines.
    rigidity_gv, beta, b_gauss : float
        Particle rigidity [GV], speed ``v/c`` and mean field [G].
    spectrum : TurbulenceSpectrum
        Fast-mode spectrum ``E_f(k) / B0^2`` (its ``delta_b_over_b`` is the fast-mode
        amplitude).
    fast_speed_cm_s : float
        Fast-mode phase speed [cm/s] (``v_A`` at low beta; see :mod:`~.mhd_waves`).
    broadening : float
        ``Delta_mu`` of the resonance broadening (0: sharp resonance).
    resonance_shape : {"gaussian", "lorentzian"}
        Profile of the broadened resonance (:func:`~.resonance.resonance_function`).
    x_points_per_decade, k_points_per_decade : int
        Resolution of the ``cos theta`` and ``k`` integrals.
    """
    mu = np.asarray(mu, dtype=float)
    v = beta * C_CM_S
    r_g = float(gyroradius_cm(rigidity_gv, b_gauss))
    if broadening < 0:
        raise ValueError("broadening must be >= 0")
    if fast_speed_cm_s <= 0 or fast_speed_cm_s >= v:
        raise ValueError("need 0 < fast_speed_cm_s < v")
    # G(a) tabulated once in log a, interpolated in log-log
    a_table = np.geomspace(1e-6 * r_g, r_g, 121)
    log_g = np.log(gyro_filtered_energy(a_table, spectrum, k_points_per_decade))

    def g_of(a: NDArray) -> NDArray:
        return np.exp(np.interp(np.log(np.maximum(a, a_table[0])), np.log(a_table), log_g))

    sin_alpha = np.sqrt(np.maximum(1.0 - mu * mu, 0.0))
    if broadening == 0.0:
        abs_mu = np.abs(mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_r = np.where(abs_mu > 0, fast_speed_cm_s / (v * abs_mu), np.inf)
            ok = x_r <= 1.0
            x_r = np.where(ok, x_r, 0.0)
            a_r = r_g * np.sqrt(1.0 - x_r**2) * sin_alpha
            d = math.pi * v * sin_alpha**4 / (8.0 * np.where(ok, abs_mu, 1.0))
            d = d * x_r**2 * (1.0 - x_r**2) * g_of(a_r)
        return np.where(ok, d, 0.0)
    x_low = 1e-3 * fast_speed_cm_s / v
    n_x = max(int(math.ceil(x_points_per_decade * -math.log10(x_low))), 8)
    x_pos = np.geomspace(x_low, 1.0, n_x)
    ln_x = np.log(x_pos)
    w_pos = np.zeros_like(x_pos)
    w_pos[:-1] += 0.5 * np.diff(ln_x)
    w_pos[1:] += 0.5 * np.diff(ln_x)
    x = np.concatenate([-x_pos[::-1], x_pos])
    wx = np.concatenate([w_pos[::-1], w_pos]) * np.abs(x)  # weights for int dx
    flat_mu = mu.reshape(-1, 1)
    profile = resonance_function(
        x * v * flat_mu - fast_speed_cm_s, np.abs(x) * v * broadening, resonance_shape
    )
    a = r_g * np.sqrt(np.maximum(1.0 - x * x, 0.0)) * np.sqrt(np.maximum(1.0 - flat_mu**2, 0.0))
    integrand = x * x * (1.0 - x * x) * profile * g_of(a)
    d = v * v * (1.0 - flat_mu.ravel() ** 2) ** 2 / 8.0 * (integrand @ wx)
    return d.reshape(mu.shape)
