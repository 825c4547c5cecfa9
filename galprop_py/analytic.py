"""Analytic solutions of the transport equation used as benchmarks (shared/reference/benchmarks.md).

Conventions: thin source disc Q delta(z), free escape at |z| = H, wind V sign(z).
"""

from __future__ import annotations

import numpy as np


def slab_diffusion(z, q, d, h):
    """B1 (Ginzburg & Syrovatskii 1964): N(z) = Q (H - |z|) / (2 D)."""
    return q / (2.0 * d) * (h - np.abs(z))


def slab_diffusion_wind(z, q, d, v, h):
    """B2 (Jones 1979; Jones et al. 2001): N(z) = Q/(2V) [1 - exp(-V (H - |z|)/D)]."""
    return q / (2.0 * v) * (1.0 - np.exp(-v * (h - np.abs(z)) / d))


def grammage_slab(mu, v, d, h, wind=0.0):
    """Grammage at the disc X = mu v H / (2D) (B1), or (mu v / 2V)(1 - exp(-VH/D)) (B2)."""
    if wind == 0.0:
        return mu * v * h / (2.0 * d)
    return mu * v / (2.0 * wind) * (1.0 - np.exp(-wind * h / d))


def secondary_to_primary(sigma_ps, sigma_s, grammage, mean_mass):
    """B3: N_s/N_p = sigma_ps / (m_bar / X + sigma_s) (cross sections per target particle)."""
    return sigma_ps / (mean_mass / grammage + sigma_s)


def slab_time_dependent(z, t, q, d, h, nterms=20000):
    """B5: N(z, t) from N = 0 at t = 0 with a constant disc source (Fourier series).

    The terms fall as 1/n^2, so the truncation error is about 1/(4 nterms) of N(0)."""
    z = np.asarray(z, float)
    k = (2 * np.arange(nterms) + 1) * np.pi / (2.0 * h)
    amp = q / (h * d * k**2) * (1.0 - np.exp(-d * k**2 * t))
    return np.cos(np.multiply.outer(z, k)) @ amp


def electron_loss_steady(e, q0, alpha, b0, e_max):
    """B7a: uniform source Q0 E^-alpha (E < E_max), losses b0 E^2, steady state."""
    e = np.asarray(e, float)
    n = q0 / ((alpha - 1.0) * b0) * (e ** (-alpha - 1.0) - e_max ** (1.0 - alpha) * e**-2)
    return np.where(e < e_max, n, 0.0)


def electron_burst(r, t, e, q0, alpha, b0, d0, delta):
    """B7b: burst at r = 0, t = 0 with D = D0 E^delta and b0 E^2 losses (Atoyan et al. 1995).

    Returns N(r, t, E) per unit volume and energy (0 above E = 1/(b0 t))."""
    e = np.asarray(e, float)
    r = np.asarray(r, float)
    x = 1.0 - b0 * t * e
    ok = x > 0
    xs = np.where(ok, x, 1.0)
    if b0 > 0:
        e0 = e / xs
        rd2 = 4.0 * d0 * (e ** (delta - 1.0) - e0 ** (delta - 1.0)) / (b0 * (1.0 - delta))
        rd2 = np.where(ok, rd2, 1.0)
    else:
        rd2 = 4.0 * d0 * e**delta * t
    n = q0 * e**-alpha * xs ** (alpha - 2.0) * np.exp(-(r**2) / rd2) / (np.pi**1.5 * rd2**1.5)
    return np.where(ok, n, 0.0)


def dsa_slope(compression: float) -> float:
    """B10: momentum index q of f ~ p^-q behind a shock of compression ratio r: 3r/(r-1)."""
    return 3.0 * compression / (compression - 1.0)


def anisotropic_gaussian_covariance(t, kpar, kperp, b):
    """B12: covariance 2 t (kperp I + (kpar - kperp) b b^T) of a point release."""
    b = np.asarray(b, float) / np.linalg.norm(b)
    return 2.0 * t * (kperp * np.eye(b.size) + (kpar - kperp) * np.outer(b, b))
