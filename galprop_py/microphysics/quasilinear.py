"""Quasi-linear pitch-angle scattering by slab Alfvenic turbulence and parallel diffusion.

Pitch-angle diffusion (Jokipii 1966, ApJ 146, 480; with waves Schlickeiser 1989, ApJ 336,
243).  For transverse fluctuations depending on ``z`` only (slab geometry), with energy
spectrum ``E(k)`` normalised to ``B0^2`` (:class:`~.turbulence.TurbulenceSpectrum`), waves
moving with ``+-v_A`` along the field carrying fractions ``w_+`` and ``w_-`` of the power and
the relative parallel speed ``u_j = v mu - j v_A``::

    D_mumu = sum_j w_j Omega^2 (1 - mu^2) (1 - j mu v_A / v)^2 / 4
                  * int_0^inf E(k) [R(k u_j - Omega) + R(k u_j + Omega)] dk

with the resonance function ``R`` of :func:`~.resonance.resonance_function`.  For the sharp
resonance ``R = pi delta`` only ``k = Omega / |u_j|`` contributes::

    D_mumu = sum_j w_j (pi / 4) Omega^2 (1 - mu^2) (1 - j mu v_A / v)^2 E(Omega/|u_j|) / |u_j|

which for magnetostatic fluctuations (``v_A = 0``) is the familiar
``(pi / 4) Omega (1 - mu^2) k_res E(k_res)``, ``k_res = 1 / (r_g |mu|)``.

Resonance broadening.  Replacing the unperturbed helix by an orbit whose parallel velocity
wanders by ``v Delta_mu`` decorrelates a wave ``k`` at the rate ``Gamma = k v Delta_mu``
(the broadening used by Yan & Lazarian 2008, ApJ 673, 942, who estimate
``Delta_mu ~ (delta B_par / B0)^(1/2)`` from the magnetic-mirror wandering of ``mu``; we keep
``Delta_mu`` a constant parameter and a Lorentzian rather than their Gaussian profile).
Because ``Gamma`` grows with ``k``, the broadening does not let the energy-containing scales
scatter non-resonantly, and at ``mu = 0`` the resonance sits at ``k ~ 1 / (r_g Delta_mu)``
instead of ``k = inf``: ``D_mumu(0) > 0``.

Parallel diffusion.  With ``D_mumu`` known, ``kappa_par = (v^2 / 8) int (1 - mu^2)^2 / D_mumu
dmu`` (Jokipii 1966; Hasselmann & Wibberenz 1968) and ``lambda_par = 3 kappa_par / v``.  If
``D_mumu`` vanishes near ``mu = 0`` (sharp resonance with a dissipation range or a sharp end
of the spectrum) the integral diverges: the "90 degree problem".
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..units import C_CM_S
from .gyration import gyrofrequency_rad_s, gyroradius_cm
from .resonance import ResonanceShape, resonance_function
from .turbulence import TurbulenceSpectrum


def _wave_families(alfven_speed_cm_s: float, forward_fraction: float) -> list[tuple[int, float]]:
    """``(direction j, power fraction w_j)``; one magnetostatic family when ``v_A = 0``."""
    if alfven_speed_cm_s == 0.0:
        return [(0, 1.0)]
    if not 0.0 <= forward_fraction <= 1.0:
        raise ValueError("forward_fraction must lie in [0, 1]")
    return [(+1, forward_fraction), (-1, 1.0 - forward_fraction)]


def pitch_angle_diffusion_slab(
    mu: ArrayLike,
    rigidity_gv: float,
    beta: float,
    b_gauss: float,
    spectrum: TurbulenceSpectrum,
    *,
    alfven_speed_cm_s: float = 0.0,
    forward_fraction: float = 0.5,
    broadening: float = 0.0,
    resonance_shape: ResonanceShape = "lorentzian",
    k_points_per_decade: int = 100,
) -> NDArray[np.float64]:
    """Pitch-angle Fokker-Planck coefficient ``D_mumu(mu)`` [1/s] of slab turbulence.

    Parameters
    ----------
    mu : array_like
        Pitch-angle cosines.
    rigidity_gv : float
        Particle rigidity [GV].
    beta : float
        Particle speed ``v / c``.
    b_gauss : float
        Mean field ``B0`` [G].
    spectrum : TurbulenceSpectrum
        Slab spectrum ``E(k_par) / B0^2``.
    alfven_speed_cm_s : float
        Speed of the Alfven waves (0: magnetostatic turbulence).
    forward_fraction : float
        Fraction of the wave power moving along ``+B0`` (with ``v_A > 0``).
    broadening : float
        ``Delta_mu`` of the resonance broadening (0: sharp QLT resonance).
    resonance_shape : {"lorentzian", "gaussian"}
        Profile of the broadened resonance (:func:`~.resonance.resonance_function`).
    k_points_per_decade : int
        Resolution of the wavenumber integral of the broadened resonance.

    Returns
    -------
    ndarray
        ``D_mumu`` with the shape of ``mu`` [1/s].
    """
    mu = np.asarray(mu, dtype=float)
    v = beta * C_CM_S
    omega = float(gyrofrequency_rad_s(rigidity_gv, beta, b_gauss))
    families = _wave_families(alfven_speed_cm_s, forward_fraction)
    if broadening < 0:
        raise ValueError("broadening must be >= 0")
    total = np.zeros_like(mu)
    if broadening == 0.0:
        for j, weight in families:
            u = np.abs(v * mu - j * alfven_speed_cm_s)
            with np.errstate(divide="ignore", invalid="ignore"):
                k_res = omega / u
                e_over_u = np.where(u > 0.0, spectrum.energy(k_res) / u, 0.0)
            electric = (1.0 - j * mu * alfven_speed_cm_s / v) ** 2
            total += weight * 0.25 * math.pi * omega**2 * (1.0 - mu * mu) * electric * e_over_u
        return total
    r_g = float(gyroradius_cm(rigidity_gv, b_gauss))
    k, w = spectrum.wavenumber_grid(
        k_points_per_decade,
        k_low_per_cm=1e-3 * min(spectrum.k_min_per_cm, 1.0 / r_g),
        k_high_per_cm=1e3 / (r_g * broadening),
    )
    energy_weights = spectrum.energy(k) * w
    gamma = k * v * broadening
    flat = mu.reshape(-1, 1)
    for j, weight in families:
        u = v * flat - j * alfven_speed_cm_s
        resonant = resonance_function(k * u - omega, gamma, resonance_shape)
        resonant += resonance_function(k * u + omega, gamma, resonance_shape)
        integral = resonant @ energy_weights
        electric = (1.0 - j * mu.ravel() * alfven_speed_cm_s / v) ** 2
        part = weight * 0.25 * omega**2 * (1.0 - mu.ravel() ** 2) * electric * integral
        total += part.reshape(mu.shape)
    return total


def uniform_mu_grid(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Midpoints of ``n`` equal cells on [-1, 1] and their weights (``2 / n``).

    Refining it brings the nodes closer to ``mu = 0`` (the smallest is ``1/n`` for even n).
    """
    if n < 2:
        raise ValueError("need n >= 2")
    edges = np.linspace(-1.0, 1.0, n + 1)
    return 0.5 * (edges[:-1] + edges[1:]), np.full(n, 2.0 / n)


def graded_mu_grid(
    nodes_per_decade: int = 8, mu_min: float = 1e-9
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pitch-angle quadrature clustered towards ``mu = 0``.

    Gauss-Legendre panels of ``nodes_per_decade`` points in ``ln|mu|``, one per decade from
    ``mu_min`` to 1, plus one Gauss-Legendre panel on ``[0, mu_min]``, mirrored to negative
    ``mu``.  Suited to integrands that vary on a scale ``~|mu|`` near 90 degrees.
    """
    if not 0.0 < mu_min < 1.0:
        raise ValueError("need 0 < mu_min < 1")
    x, wx = np.polynomial.legendre.leggauss(nodes_per_decade)
    n_decades = math.ceil(-math.log10(mu_min))
    edges = np.linspace(math.log(mu_min), 0.0, n_decades + 1)
    nodes, weights = [0.5 * mu_min * (x + 1.0)], [0.5 * mu_min * wx]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        s = 0.5 * (b - a) * x + 0.5 * (a + b)
        nodes.append(np.exp(s))
        weights.append(0.5 * (b - a) * wx * np.exp(s))
    pos, wpos = np.concatenate(nodes), np.concatenate(weights)
    order = np.argsort(pos)
    pos, wpos = pos[order], wpos[order]
    return np.concatenate([-pos[::-1], pos]), np.concatenate([wpos[::-1], wpos])


def parallel_diffusion_coefficient(
    mu: ArrayLike, mu_weights: ArrayLike, d_mumu_s: ArrayLike, speed_cm_s: ArrayLike
) -> NDArray[np.float64]:
    """``kappa_par = (v^2 / 8) int (1 - mu^2)^2 / D_mumu dmu`` [cm^2/s] on a quadrature.

    Parameters
    ----------
    mu, mu_weights : array_like
        Quadrature nodes and weights on [-1, 1].
    d_mumu_s : array_like
        ``D_mumu`` at the nodes [1/s], shape ``(..., n_mu)``.
    speed_cm_s : array_like
        Particle speed(s) [cm/s], broadcastable to the leading shape.

    Returns
    -------
    ndarray
        ``kappa_par``; ``inf`` where ``D_mumu = 0`` at a node with ``|mu| < 1``.
    """
    mu = np.asarray(mu, dtype=float)
    d = np.asarray(d_mumu_s, dtype=float)
    numerator = (1.0 - mu * mu) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(numerator > 0.0, numerator / d, 0.0)
    integrand = np.where((numerator > 0.0) & (d <= 0.0), np.inf, integrand)
    v = np.asarray(speed_cm_s, dtype=float)
    return v * v / 8.0 * (integrand @ np.asarray(mu_weights, dtype=float))


def mean_free_path_cm(kappa_par_cm2_s: ArrayLike, speed_cm_s: ArrayLike) -> NDArray:
    """Parallel mean free path ``lambda_par = 3 kappa_par / v`` [cm]."""
    return 3.0 * np.asarray(kappa_par_cm2_s, dtype=float) / np.asarray(speed_cm_s, dtype=float)


def slab_parallel_diffusion(
    rigidity_gv: float,
    beta: float,
    b_gauss: float,
    spectrum: TurbulenceSpectrum,
    *,
    broadening: float = 0.0,
    alfven_speed_cm_s: float = 0.0,
    mu_grid: tuple[NDArray, NDArray] | None = None,
    k_points_per_decade: int = 100,
) -> float:
    """``kappa_par`` [cm^2/s] of slab turbulence for one rigidity (QLT, optionally broadened).

    The default pitch-angle quadrature is :func:`graded_mu_grid` down to ``mu = 1e-9``.
    """
    mu, w = graded_mu_grid() if mu_grid is None else mu_grid
    d = pitch_angle_diffusion_slab(
        mu,
        rigidity_gv,
        beta,
        b_gauss,
        spectrum,
        alfven_speed_cm_s=alfven_speed_cm_s,
        broadening=broadening,
        k_points_per_decade=k_points_per_decade,
    )
    return float(parallel_diffusion_coefficient(mu, w, d, beta * C_CM_S))


def inertial_range_mean_free_path_cm(
    rigidity_gv: ArrayLike, b_gauss: float, spectrum: TurbulenceSpectrum
) -> NDArray[np.float64]:
    """Closed-form QLT ``lambda_par`` for a pure power law ``E = C k^-q`` at all resonant
    ``k`` (sharp resonance, magnetostatic, ``k_min r_g <= 1``, no end of the spectrum)::

        lambda_par = 6 r_g^(2 - q) / (pi C (2 - q) (4 - q))   [cm]

    which is ``proportional to R^(2 - q)`` (``R^(1/3)`` Kolmogorov, ``R^(1/2)`` Kraichnan).
    """
    q = spectrum.spectral_index
    if not 1.0 < q < 2.0:
        raise ValueError("the closed form needs 1 < q < 2")
    r_g = gyroradius_cm(rigidity_gv, b_gauss)
    return 6.0 * r_g ** (2.0 - q) / (math.pi * spectrum.normalisation * (2.0 - q) * (4.0 - q))
