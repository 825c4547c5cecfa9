"""Closed forms of test-particle diffusive shock acceleration at a planar shock.

The shock sits at x = 0, the flow runs along +x from upstream (x < 0, speed u1) to
downstream (x > 0, u2 = u1 / r); kappa1(p), kappa2(p) are the diffusion coefficients on the
two sides (uniform in space on each side).  Any consistent units (the callers use the
solver's kpc, Myr, GeV/c); ``f`` is the isotropic phase-space density, and the density per
unit momentum is psi = 4 pi p^2 f.

* Spectrum at the shock (Krymsky 1977; Bell 1978; Blandford & Ostriker 1978):
  f ~ p^-q with q = 3r/(r-1), i.e. psi ~ p^(2-q) (4 and -2 for r = 4).
* Moments of the acceleration time (Drury 1983, Rep. Prog. Phys. 46, 973, sec. 3.6): the
  Laplace transform in time of the equations (upstream decay rate
  (u + sqrt(u^2 + 4 kappa s)) / 2 kappa, downstream (u - sqrt(...)) / 2 kappa) in the jump
  condition at the shock gives, to second order in s,
  d ln f~/d ln p = -q - 3/(u1-u2) [s a(p) - s^2 b(p)] with a = kappa1/u1 + kappa2/u2 and
  b = kappa1^2/u1^3 + kappa2^2/u2^3.  For a source switched on at t = 0,
  F(p, t) = f(p, t) / f(p, inf) is the distribution function of the acceleration time, with
  mean  t_acc = 3/(u1-u2) int_{p0}^p a dp'/p'  (benchmarks.md B10) and variance
  sigma^2 = 6/(u1-u2) int_{p0}^p b dp'/p'.  The mean is  int_0^inf (1 - F) dt.
  For Bohm-like kappa ~ p at r = 4 with kappa2 = kappa1: t_acc = 20 kappa/u1^2 and
  sigma = sqrt(260) kappa/u1^2 = 0.81 t_acc, a broad distribution: the half-rise time of
  F is well below t_acc.
* Free escape at x = -L upstream (f(-L) = 0), steady state (e.g. Caprioli, Amato & Blasi
  2010, Astropart. Phys. 33, 307, eqs. 5-7; Reville, Kirk & Duffy 2009): upstream
  f = f0 (exp(u1 x/kappa1) - exp(-u1 L/kappa1)) / (1 - exp(-u1 L/kappa1)), uniform
  downstream, and the jump condition gives
  f0(p) ~ p^-q exp(-q int_{p0}^p dp'/p' / (exp(u1 L/kappa1(p')) - 1));
  the escaping flux through x = -L is  u1 f0 / (exp(u1 L/kappa1) - 1)  per unit area.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq

from ..analytic import dsa_slope

Kappa = Callable[[float], float]


def spectral_index(compression: float) -> float:
    """q of f ~ p^-q at the shock: 3 r / (r - 1); psi = 4 pi p^2 f ~ p^(2 - q)."""
    return dsa_slope(compression)


def _log_integral(fn: Callable[[float], float], p0: float, p: float) -> float:
    if p <= p0:
        return 0.0
    val, _ = quad(lambda lnp: fn(math.exp(lnp)), math.log(p0), math.log(p), epsrel=1e-10)
    return val


def mean_acceleration_time(
    p, kappa1: Kappa, kappa2: Kappa, u1: float, u2: float, p0: float
) -> np.ndarray:
    """Drury's mean acceleration time 3/(u1-u2) int_{p0}^p (kappa1/u1 + kappa2/u2) dp'/p'."""

    def a(q):
        return kappa1(q) / u1 + kappa2(q) / u2

    pv = np.atleast_1d(np.asarray(p, float))
    out = np.array([3.0 / (u1 - u2) * _log_integral(a, p0, x) for x in pv])
    return out if np.ndim(p) else float(out[0])


def acceleration_time_variance(
    p, kappa1: Kappa, kappa2: Kappa, u1: float, u2: float, p0: float
) -> np.ndarray:
    """Variance 6/(u1-u2) int_{p0}^p (kappa1^2/u1^3 + kappa2^2/u2^3) dp'/p' (module doc)."""

    def b(q):
        return kappa1(q) ** 2 / u1**3 + kappa2(q) ** 2 / u2**3

    pv = np.atleast_1d(np.asarray(p, float))
    out = np.array([6.0 / (u1 - u2) * _log_integral(b, p0, x) for x in pv])
    return out if np.ndim(p) else float(out[0])


def escape_suppression(p, kappa1: Kappa, u1: float, escape_length: float, q: float, p0: float):
    """f0(p) / (power law p^-q) of the steady spectrum with free escape at x = -L:
    exp(-q int_{p0}^p dp'/p' / (exp(u1 L / kappa1(p')) - 1)) (module doc)."""

    def g(x):
        a = u1 * escape_length / kappa1(x)
        return 0.0 if a > 700.0 else 1.0 / math.expm1(a)

    pv = np.atleast_1d(np.asarray(p, float))
    order = np.argsort(pv)
    out = np.empty(pv.size)
    acc, last = 0.0, p0
    for i in order:
        x = max(pv[i], p0)
        acc += _log_integral(g, last, x)
        last = x
        out[i] = math.exp(-q * acc)
    return out if np.ndim(p) else float(out[0])


def escape_cutoff_momentum(
    kappa1: Kappa, u1: float, escape_length: float, q: float, p0: float, level: float = math.e
) -> float:
    """Momentum where the escape suppression falls to 1/level (1/e by default)."""
    p_hi = p0
    while escape_suppression(p_hi, kappa1, u1, escape_length, q, p0) > 1.0 / level:
        p_hi *= 2.0
        if p_hi > 1e30 * p0:
            raise ValueError("no cutoff: kappa1 does not grow enough with p")
    target = -math.log(level)

    def h(lnp):
        s = escape_suppression(math.exp(lnp), kappa1, u1, escape_length, q, p0)
        return math.log(max(s, 1e-300)) - target

    return math.exp(brentq(h, math.log(max(p0, p_hi / 2.0)), math.log(p_hi), xtol=1e-10))


def escape_flux_ratio(p, kappa1: Kappa, u1: float, escape_length: float):
    """Escaping flux through x = -L over u1 f0(p): 1 / (exp(u1 L / kappa1) - 1)."""
    pv = np.atleast_1d(np.asarray(p, float))
    a = u1 * escape_length / np.array([kappa1(x) for x in pv])
    out = np.where(a > 700.0, 0.0, 1.0 / np.expm1(np.minimum(a, 700.0)))
    return out if np.ndim(p) else float(out[0])
