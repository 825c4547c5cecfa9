"""Macroscopic moments of the phase-space distribution: n, J and u.

The distribution ``f`` is a phase-space density [cm^-3 (GeV/c)^-3] given on a momentum grid
(any strictly increasing grid, normally logarithmic), with momentum as the **last** axis.
Leading axes are spatial and are kept.  Two forms are accepted:

* isotropic ``f(x, p)``, shape ``(..., n_p)``: ``d^3p = 4 pi p^2 dp``;
* gyrotropic ``f(x, mu, p)``, shape ``(..., n_mu, n_p)``, with ``mu`` the cosine of the pitch
  angle about the local field direction: ``d^3p = 2 pi p^2 dp dmu``.

The moments are

* number density  ``n = int f d^3p``                              [cm^-3]
* particle flux   ``J = int v(p) mu f d^3p`` along the field      [cm^-2 s^-1]
* energy density  ``u = int E(p) f d^3p``                         [GeV cm^-3]

with the relativistic ``E = sqrt(p^2 + m^2)`` and ``v = c^2 p / E`` of
:mod:`galprop_py.physics.kinematics`.  The momentum integral is the trapezoidal rule in
``ln p`` (integrand ``p^3 f``), second order in the grid spacing; the ``mu`` integral uses the
given quadrature weights (trapezoidal in ``mu`` if none are given).  For a gyrotropic
distribution the flux is directed along the field, ``J = J_par b_hat``: pass ``b_hat`` to get
the vector.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import trapezoid

from ..physics.kinematics import total_energy, velocity_cm_s


def _log_momentum_integral(integrand_times_p: NDArray[np.float64], p_gev: NDArray) -> NDArray:
    """Trapezoidal ``int g dp = int (g p) d ln p`` over the last axis."""
    return trapezoid(integrand_times_p, x=np.log(p_gev), axis=-1)


def _check_momentum(p_gev: ArrayLike, f: NDArray) -> NDArray[np.float64]:
    p = np.asarray(p_gev, dtype=float)
    if p.ndim != 1 or p.size < 2 or np.any(np.diff(p) <= 0.0) or p[0] <= 0.0:
        raise ValueError("p_gev must be a positive, strictly increasing 1-D grid")
    if f.shape[-1] != p.size:
        raise ValueError(f"last axis of f has {f.shape[-1]} points, p_gev has {p.size}")
    return p


def _mu_weights(mu: ArrayLike, mu_weights: ArrayLike | None) -> tuple[NDArray, NDArray]:
    m = np.asarray(mu, dtype=float)
    if m.ndim != 1 or np.any(np.abs(m) > 1.0):
        raise ValueError("mu must be a 1-D grid inside [-1, 1]")
    if mu_weights is None:
        if np.any(np.diff(m) <= 0.0):
            raise ValueError("mu must be increasing when no mu_weights are given")
        w = np.zeros_like(m)
        dm = np.diff(m)
        w[:-1] += 0.5 * dm
        w[1:] += 0.5 * dm
    else:
        w = np.asarray(mu_weights, dtype=float)
        if w.shape != m.shape:
            raise ValueError("mu_weights must have the shape of mu")
    return m, w


def _solid_angle_integral(
    f: NDArray, mu: ArrayLike | None, mu_weights: ArrayLike | None, power_of_mu: int
) -> NDArray:
    """``int d Omega mu^k f``: ``4 pi f`` (k = 0) for isotropic f, else ``2 pi sum w mu^k f``."""
    if mu is None:
        return 4.0 * math.pi * f if power_of_mu == 0 else np.zeros_like(f)
    m, w = _mu_weights(mu, mu_weights)
    if f.ndim < 2 or f.shape[-2] != m.size:
        raise ValueError(f"gyrotropic f needs a mu axis of {m.size} points at axis -2")
    weight = w * m**power_of_mu
    return 2.0 * math.pi * np.einsum("...ij,i->...j", f, weight)


def number_density(
    f: ArrayLike,
    p_gev: ArrayLike,
    mu: ArrayLike | None = None,
    mu_weights: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Number density ``n = int f d^3p`` [cm^-3].

    Parameters
    ----------
    f : array_like
        Phase-space density [cm^-3 (GeV/c)^-3], shape ``(..., n_p)`` (isotropic) or
        ``(..., n_mu, n_p)`` (gyrotropic, with ``mu`` given).
    p_gev : array_like
        Momentum grid [GeV/c], strictly increasing.
    mu, mu_weights : array_like, optional
        Pitch-angle cosines and their quadrature weights (sum 2 over [-1, 1]).

    Returns
    -------
    ndarray
        ``n`` with the leading (spatial) shape of ``f``.
    """
    f = np.asarray(f, dtype=float)
    p = _check_momentum(p_gev, f)
    angular = _solid_angle_integral(f, mu, mu_weights, 0)
    return _log_momentum_integral(angular * p**3, p)


def particle_flux(
    f: ArrayLike,
    p_gev: ArrayLike,
    mass_gev: float,
    mu: ArrayLike | None = None,
    mu_weights: ArrayLike | None = None,
    b_hat: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Particle flux ``J = int v mu f d^3p`` along the field [cm^-2 s^-1].

    Parameters
    ----------
    f : array_like
        Phase-space density [cm^-3 (GeV/c)^-3]; see :func:`number_density` for the shapes.
        An isotropic ``f`` (no ``mu``) carries no flux and gives exactly zero.
    p_gev : array_like
        Momentum grid [GeV/c].
    mass_gev : float
        Rest energy of the particle [GeV], for ``v = c^2 p / E``.
    mu, mu_weights : array_like, optional
        Pitch-angle grid and weights of a gyrotropic ``f``.
    b_hat : array_like, optional
        Unit vector of the field, shape ``(..., 3)`` broadcastable to the spatial shape; if
        given the flux vector ``J_par b_hat`` is returned with a trailing axis of 3.

    Returns
    -------
    ndarray
        ``J_par`` (spatial shape) or the vector ``J`` (spatial shape + (3,)).
    """
    f = np.asarray(f, dtype=float)
    p = _check_momentum(p_gev, f)
    angular = _solid_angle_integral(f, mu, mu_weights, 1)
    j_par = _log_momentum_integral(angular * p**3 * velocity_cm_s(p, mass_gev), p)
    if b_hat is None:
        return j_par
    return j_par[..., np.newaxis] * np.asarray(b_hat, dtype=float)


def energy_density(
    f: ArrayLike,
    p_gev: ArrayLike,
    mass_gev: float,
    mu: ArrayLike | None = None,
    mu_weights: ArrayLike | None = None,
    include_rest_mass: bool = True,
) -> NDArray[np.float64]:
    """Energy density ``u = int E f d^3p`` [GeV cm^-3].

    Parameters
    ----------
    f, p_gev, mu, mu_weights
        As in :func:`number_density`.
    mass_gev : float
        Rest energy [GeV].
    include_rest_mass : bool
        ``True`` (default) weights with the total energy ``E``; ``False`` with the kinetic
        energy ``E - m``.
    """
    f = np.asarray(f, dtype=float)
    p = _check_momentum(p_gev, f)
    energy = total_energy(p, mass_gev)
    if not include_rest_mass:
        energy = p * p / (energy + mass_gev)
    angular = _solid_angle_integral(f, mu, mu_weights, 0)
    return _log_momentum_integral(angular * p**3 * energy, p)


def mean_speed_cm_s(
    f: ArrayLike,
    p_gev: ArrayLike,
    mass_gev: float,
) -> NDArray[np.float64]:
    """Density-weighted mean speed ``<v> = int v f d^3p / n`` of an isotropic ``f`` [cm/s]."""
    f = np.asarray(f, dtype=float)
    p = _check_momentum(p_gev, f)
    flux_speed = _log_momentum_integral(4.0 * math.pi * f * p**3 * velocity_cm_s(p, mass_gev), p)
    return flux_speed / number_density(f, p)


def power_law_number_density(amplitude: float, index: float, p1_gev: float, p2_gev: float) -> float:
    """Closed-form ``n`` of ``f = A p^-s`` for ``p1 <= p <= p2`` [cm^-3].

    ``n = 4 pi A (p2^(3-s) - p1^(3-s)) / (3 - s)``, and ``4 pi A ln(p2/p1)`` for ``s = 3``.
    """
    a = 3.0 - index
    if abs(a) < 1e-12:
        return 4.0 * math.pi * amplitude * math.log(p2_gev / p1_gev)
    return 4.0 * math.pi * amplitude * (p2_gev**a - p1_gev**a) / a


def power_law_energy_density_ultrarelativistic(
    amplitude: float, index: float, p1_gev: float, p2_gev: float
) -> float:
    """Closed-form ``u`` of ``f = A p^-s`` with ``E = p c`` (massless limit) [GeV cm^-3].

    ``u = 4 pi A (p2^(4-s) - p1^(4-s)) / (4 - s)``, and ``4 pi A ln(p2/p1)`` for ``s = 4``.
    """
    a = 4.0 - index
    if abs(a) < 1e-12:
        return 4.0 * math.pi * amplitude * math.log(p2_gev / p1_gev)
    return 4.0 * math.pi * amplitude * (p2_gev**a - p1_gev**a) / a
