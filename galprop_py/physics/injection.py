"""Cosmic-ray source terms: injection spectra in rigidity and spatial source profiles.

The source term of species ``s`` is ``q(x, p) = profile(x) * spectrum(p)``, with the
spectrum normalised to 1 at a reference rigidity (the absolute normalisation is set by the
model, e.g. to a measured flux).

Spectrum
    Broken power law in rigidity ``R = p / |Z|`` [GV] with any number of breaks, sharp or
    smooth, and an optional exponential cutoff:
    ``dN/dp  ~  R^(-g_0) prod_i S_s(R / R_i)^(-(g_{i+1} - g_i)) exp(-R / R_c)``,
    where ``S_0(x) = max(x, 1)`` (sharp break) and, for a smoothness ``s > 0``,
    ``ln S_s(x) = s ln(1 + x^(1/s))``: ``s`` is the width of the break in ln R, the same
    for every break whatever its change of index (cf. the smoothly broken power law of the
    AMS-02 proton fit, Aguilar et al. 2015, PRL 114, 171103, whose smoothness parameter
    is scaled by the change of index).
    Momentum and rigidity differ by the constant ``|Z|``, so ``dN/dp`` and ``dN/dR`` have
    the same shape.

Spatial profiles (galactocentric cylindrical radius ``r`` and height ``z`` in kpc)
    * pulsar / supernova-remnant profile ``(r/r_sun)^a exp(-b (r - r_sun)/r_sun)
      exp(-|z|/z_s)`` (``pulsar_snr_profile``, now in :mod:`galprop_py.galaxy.sources` with
      the other named source models): Lorimer et al. 2006 (MNRAS 372, 777) pulsars, a = 1.9,
      b = 5.0, r_sun = 8.5 kpc (the default); Green 2015 (MNRAS 454, 1517) SNRs, a = 1.09,
      b = 3.87.  It peaks at ``r = a r_sun / b``.
    * uniform and normalised Gaussian-point profiles, for tests and idealised problems.

Kernels (``@njit``) are pure functions of contiguous float64 arrays and scalars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from ..galaxy.sources import pulsar_snr_profile  # noqa: F401  (moved there; kept importable)

LORIMER_2006 = (1.9, 5.0)  # (a, b) of the pulsar radial profile, r_sun = 8.5 kpc
GREEN_2015 = (1.09, 3.87)  # (a, b) of the SNR radial profile, r_sun = 8.5 kpc
R_SUN_KPC = 8.5


# --- spectrum ---------------------------------------------------------------------------
@njit(cache=True)
def _log_broken_power_law(rigidity, break_rigidities, indices, smoothness, cutoff_rigidity):
    ln_r = math.log(rigidity)
    value = -indices[0] * ln_r
    for i in range(break_rigidities.shape[0]):
        x = ln_r - math.log(break_rigidities[i])
        if smoothness > 0.0:
            y = x / smoothness  # s ln(1 + e^y), written without overflow
            ln_s = smoothness * (max(y, 0.0) + math.log1p(math.exp(-abs(y))))
        else:
            ln_s = max(x, 0.0)
        value -= (indices[i + 1] - indices[i]) * ln_s
    if cutoff_rigidity > 0.0 and cutoff_rigidity < math.inf:
        value -= rigidity / cutoff_rigidity
    return value


@njit(cache=True)
def broken_power_law_kernel(
    p, charge, break_rigidities, indices, smoothness, cutoff_rigidity, reference_rigidity, out
):
    """Fill ``out`` with the broken-power-law spectrum at momenta ``p`` [GeV/c].

    ``indices`` has ``len(break_rigidities) + 1`` entries; ``smoothness`` 0 gives sharp
    breaks; ``cutoff_rigidity`` <= 0 or inf means no cutoff.  ``out`` equals 1 at
    ``reference_rigidity`` [GV]; momenta <= 0 give 0.
    """
    ref = _log_broken_power_law(
        reference_rigidity, break_rigidities, indices, smoothness, cutoff_rigidity
    )
    z = abs(charge)
    for j in range(p.shape[0]):
        if p[j] <= 0.0:
            out[j] = 0.0
        else:
            out[j] = math.exp(
                _log_broken_power_law(
                    p[j] / z, break_rigidities, indices, smoothness, cutoff_rigidity
                )
                - ref
            )
    return out


def broken_power_law(
    p: ArrayLike,
    charge: int,
    break_rigidities: Sequence[float],
    indices: Sequence[float],
    reference_rigidity: float = 1.0,
    smoothness: float = 0.0,
    cutoff_rigidity: float | None = None,
) -> np.ndarray:
    """Injection spectrum dN/dp (shape only), a broken power law in rigidity.

    Parameters
    ----------
    p : array_like
        Momentum per particle [GeV/c]; rigidity is ``p / |charge|``.
    charge : int
        Charge number Z of the species (sign ignored).
    break_rigidities : sequence of float
        Break rigidities [GV], increasing (may be empty).
    indices : sequence of float
        Spectral indices (dN/dR ~ R^-index) below the first break, between breaks and
        above the last: ``len(break_rigidities) + 1`` values.
    reference_rigidity : float
        Rigidity [GV] where the spectrum equals 1.
    smoothness : float
        Width of each break in ln R; 0 for sharp breaks.
    cutoff_rigidity : float or None
        Rigidity [GV] of an exponential cutoff ``exp(-R / R_c)``; None for none.

    Returns
    -------
    numpy.ndarray
        Spectrum of the shape of ``p``, 1 at ``reference_rigidity``.
    """
    breaks = np.ascontiguousarray(break_rigidities, dtype=np.float64).ravel()
    gam = np.ascontiguousarray(indices, dtype=np.float64).ravel()
    if gam.shape[0] != breaks.shape[0] + 1:
        raise ValueError(
            f"need len(indices) = len(break_rigidities) + 1, got {gam.shape[0]} indices "
            f"for {breaks.shape[0]} breaks"
        )
    if np.any(breaks <= 0.0) or np.any(np.diff(breaks) <= 0.0):
        raise ValueError(f"break_rigidities must be positive and increasing, got {breaks}")
    if smoothness < 0.0:
        raise ValueError(f"smoothness must be >= 0, got {smoothness}")
    if reference_rigidity <= 0.0:
        raise ValueError(f"reference_rigidity must be positive, got {reference_rigidity}")
    if charge == 0:
        raise ValueError("charge must be nonzero (rigidity is p / |Z|)")
    arr = np.asarray(p, dtype=np.float64)
    flat = np.ascontiguousarray(arr.ravel())
    out = np.empty_like(flat)
    cutoff = math.inf if cutoff_rigidity is None else float(cutoff_rigidity)
    broken_power_law_kernel(
        flat, float(charge), breaks, gam, float(smoothness), cutoff, float(reference_rigidity), out
    )
    return out.reshape(arr.shape)


@njit(cache=True)
def injection_rate(profile, spectrum, out):
    """Fill ``out[i, j] = profile[i] * spectrum[j]``: the source term of the local cells
    (flattened, ``ncell``) on the momentum grid (``np``); ``out`` is (ncell, np),
    C-contiguous.  Returns ``out``."""
    for i in range(profile.shape[0]):
        q = profile[i]
        for j in range(spectrum.shape[0]):
            out[i, j] = q * spectrum[j]
    return out


# --- spatial profiles -------------------------------------------------------------------
def uniform_profile(*coords: ArrayLike) -> np.ndarray:
    """A profile equal to 1 everywhere, on the broadcast shape of ``coords``."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in coords)) if coords else ()
    return np.ones(shape)


def gaussian_point_profile(
    coords: Sequence[ArrayLike], center: Sequence[float], sigma: float, dimension: int | None = None
) -> np.ndarray:
    """Normalised Gaussian blob ``exp(-d^2 / 2 sigma^2) / (2 pi sigma^2)^(dimension/2)``.

    Parameters
    ----------
    coords : sequence of array_like
        Coordinate arrays (broadcast together), e.g. ``(x, y, z)`` or ``(r, z)`` [kpc].
    center : sequence of float
        Position of the point, one value per coordinate.
    sigma : float
        Width [kpc].
    dimension : int or None
        Dimension of the normalisation (default ``len(coords)``); use 3 for a point on the
        axis of a cylindrical ``(r, z)`` grid, where ``d^2 = r^2 + (z - z0)^2``.

    Returns
    -------
    numpy.ndarray
        Profile whose integral over the ``dimension``-dimensional space is 1.
    """
    if len(coords) != len(center):
        raise ValueError("need one center value per coordinate")
    if sigma <= 0.0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=float) for c in coords))
    d2 = sum((c - c0) ** 2 for c, c0 in zip(arrays, center, strict=True))
    dim = len(coords) if dimension is None else dimension
    return np.exp(-0.5 * d2 / sigma**2) / (2.0 * math.pi * sigma**2) ** (0.5 * dim)
