"""Synchrotron emissivity of isotropic electrons/positrons in a tangled magnetic field.

Single particle (Rybicki & Lightman 1979, eqs. 6.17-6.18; Ginzburg & Syrovatskii 1965):
``P(nu, alpha) = sqrt(3) e^3 B sin(alpha) / (m c^2) F(nu / (nu_c sin alpha))`` with
``nu_c = 3 e B gamma^2 / (4 pi m c)`` and ``F(x) = x int_x^inf K_5/3``.

Random pitch angles: the exact average over an isotropic distribution of sin(alpha),
``<P>(nu) = sqrt(3) e^3 B / (m c^2) R(nu / nu_c)``, ``R(x) = int_0^pi/2 sin^2 a F(x / sin a) da``,
has the closed form of Crusius & Schlickeiser 1986 (A&A 164, L16):

    R(x) = (x^2 / 2) K_4/3(x/2) K_1/3(x/2) - (3/20) x^3 [K_4/3(x/2)^2 - K_1/3(x/2)^2],

used directly by :func:`pitch_averaged_kernel` (scipy Bessel functions; checked against the
numerical average to 1e-9 in the tests).  The numba cell kernel interpolates ln R on a
uniform grid of ln x (1e-7 <= x <= 200, 1400 nodes; relative error < 1e-4 for x < 20),
with the exact x^(1/3) power law below the table and zero above (R(200) ~ 1e-85).
The electron spectrum is integrated with :func:`galprop_py.emission.pi0.log_grid_quadrature`
(T^s n linear in ln T, s = 3 by default).  ``gamma = 1 + T / m_e c^2``; the formula
assumes gamma >> 1 (no cyclotron or Razin effects, no self-absorption).

Units: frequencies in Hz, kinetic energies in GeV, ``n_e`` in cm^-3 GeV^-1 (electrons plus
positrons as the caller sums them), B in microgauss; the emissivity
``j_nu = (1/4 pi) int n(T) <P>(nu, T) dT`` in erg s^-1 Hz^-1 sr^-1 cm^-3.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from numba import njit
from scipy.special import kv

from ..units import C_CM_S, E_CHARGE_ESU, GAUSS_PER_MICROGAUSS, M_E_G, M_E_GEV
from .pi0 import log_grid_quadrature

__all__ = [
    "nu_critical_hz",
    "pitch_averaged_kernel",
    "synchrotron_emissivity",
    "synchrotron_emissivity_cells",
    "synchrotron_power_per_electron",
]

_NU_C0 = 3.0 * E_CHARGE_ESU / (4.0 * math.pi * M_E_G * C_CM_S)  # Hz per gauss per gamma^2
_P0 = math.sqrt(3.0) * E_CHARGE_ESU**3 / (M_E_G * C_CM_S**2)  # erg s^-1 Hz^-1 per gauss
_LNX_MIN, _LNX_MAX, _N_TAB = math.log(1e-7), math.log(200.0), 1400


def nu_critical_hz(gamma, b_microgauss):
    """``nu_c = 3 e B gamma^2 / (4 pi m_e c)`` [Hz] for B in microgauss."""
    return _NU_C0 * b_microgauss * GAUSS_PER_MICROGAUSS * np.asarray(gamma, dtype=float) ** 2


def pitch_averaged_kernel(x) -> np.ndarray:
    """R(x): F averaged over isotropic pitch angles (Crusius & Schlickeiser 1986)."""
    x = np.asarray(x, dtype=float)
    y = 0.5 * np.maximum(x, 1e-300)
    k43, k13 = kv(4.0 / 3.0, y), kv(1.0 / 3.0, y)
    with np.errstate(over="ignore", invalid="ignore"):
        r = 0.5 * x**2 * k43 * k13 - 0.15 * x**3 * (k43 * k43 - k13 * k13)
    return np.where((x > 0.0) & np.isfinite(r), np.maximum(r, 0.0), 0.0)


def synchrotron_power_per_electron(nu_hz, gamma, b_microgauss) -> np.ndarray:
    """Pitch-angle averaged spectral power of one electron [erg s^-1 Hz^-1]."""
    b_g = float(b_microgauss) * GAUSS_PER_MICROGAUSS
    nu = np.asarray(nu_hz, dtype=float)
    g = np.asarray(gamma, dtype=float)
    return _P0 * b_g * pitch_averaged_kernel(nu / (_NU_C0 * b_g * g * g))


def _check(nu_hz, b_name, b):
    nu = np.atleast_1d(np.asarray(nu_hz, dtype=float))
    if nu.ndim != 1 or np.any(~np.isfinite(nu)) or np.any(nu <= 0.0):
        raise ValueError("synchrotron nu_hz must be a 1-d array of positive frequencies [Hz]")
    b = np.asarray(b, dtype=float)
    if np.any(~np.isfinite(b)) or np.any(b < 0.0):
        raise ValueError(f"synchrotron {b_name} must be finite and >= 0 microgauss")
    return nu, b


def synchrotron_emissivity(
    nu_hz, t_e, n_e_per_gev, b_microgauss: float, n_sub: int = 4, index_ref: float = 3.0
) -> np.ndarray:
    """Synchrotron emissivity j_nu [erg s^-1 Hz^-1 sr^-1 cm^-3] of one cell.

    ``n_e_per_gev`` [cm^-3 GeV^-1] on the increasing log grid ``t_e`` [GeV]; random field
    of strength ``b_microgauss``.  Uses the exact R(x).
    """
    nu, b = _check(nu_hz, "b_microgauss", b_microgauss)
    n = np.asarray(n_e_per_gev, dtype=float)
    t_sub, w = log_grid_quadrature(t_e, n_sub, index_ref, name="synchrotron t_e")
    if n.shape != (w.shape[1],):
        raise ValueError(f"synchrotron n_e_per_gev has shape {n.shape}, t_e has {w.shape[1]}")
    if float(b) == 0.0:
        return np.zeros_like(nu)
    gam = 1.0 + t_sub / M_E_GEV
    p = synchrotron_power_per_electron(nu[:, None], gam[None, :], float(b))
    return p @ (w @ n) / (4.0 * math.pi)


@cache
def _ln_r_table() -> np.ndarray:
    lnx = np.linspace(_LNX_MIN, _LNX_MAX, _N_TAB)
    r = pitch_averaged_kernel(np.exp(lnx))
    return np.log(np.maximum(r, 1e-300))


@njit(cache=True)
def _r_interp(x, ln_r):
    if x <= 0.0:
        return 0.0
    lx = math.log(x)
    n = ln_r.shape[0]
    dl = (_LNX_MAX - _LNX_MIN) / (n - 1)
    if lx < _LNX_MIN:
        return math.exp(ln_r[0] + (lx - _LNX_MIN) / 3.0)
    if lx >= _LNX_MAX:
        return 0.0
    f = (lx - _LNX_MIN) / dl
    i = int(f)
    if i >= n - 1:
        i = n - 2
    u = f - i
    return math.exp((1.0 - u) * ln_r[i] + u * ln_r[i + 1])


@njit(cache=True)
def _cells_kernel(nu, gam2, left, w_left, w_right, n_cells, b_gauss, ln_r, out):
    n_cell = n_cells.shape[0]
    n_s = gam2.shape[0]
    nsub = np.empty(n_s)
    for c in range(n_cell):
        b = b_gauss[c]
        for s in range(n_s):
            i = left[s]
            nsub[s] = w_left[s] * n_cells[c, i] + w_right[s] * n_cells[c, i + 1]
        for k in range(nu.shape[0]):
            if b <= 0.0:
                out[c, k] = 0.0
                continue
            acc = 0.0
            for s in range(n_s):
                if nsub[s] != 0.0:
                    acc += nsub[s] * _r_interp(nu[k] / (_NU_C0 * b * gam2[s]), ln_r)
            out[c, k] = _P0 * b * acc / (4.0 * math.pi)
    return out


def synchrotron_emissivity_cells(
    nu_hz, t_e, n_cells, b_cells, n_sub: int = 4, index_ref: float = 3.0
) -> np.ndarray:
    """Synchrotron emissivity of many cells [erg s^-1 Hz^-1 sr^-1 cm^-3].

    Parameters
    ----------
    nu_hz : array_like, shape (n_nu,)
        Frequencies [Hz].
    t_e : array_like, shape (n_T,)
        Increasing log grid of electron kinetic energy [GeV].
    n_cells : array_like, shape (..., n_T)
        Electron (+ positron) density per unit kinetic energy [cm^-3 GeV^-1] per cell.
    b_cells : array_like, shape (...)
        Random-field strength per cell [microgauss].

    Returns
    -------
    numpy.ndarray, shape (..., n_nu)
    """
    nu, b = _check(nu_hz, "b_cells", b_cells)
    n = np.asarray(n_cells, dtype=float)
    t_sub, w = log_grid_quadrature(t_e, n_sub, index_ref, name="synchrotron t_e")
    if n.shape[-1:] != (w.shape[1],) or b.shape != n.shape[:-1]:
        raise ValueError(
            f"synchrotron n_cells shape {n.shape} needs (..., {w.shape[1]}) and b_cells shape "
            f"{b.shape} must equal n_cells.shape[:-1]"
        )
    lead = n.shape[:-1]
    n2 = np.ascontiguousarray(n.reshape(-1, w.shape[1]))
    b2 = np.ascontiguousarray(b.reshape(-1) * GAUSS_PER_MICROGAUSS)
    gam2 = (1.0 + t_sub / M_E_GEV) ** 2
    # each sub-point lies in one interval: only two weights per row are non-zero
    t_grid = np.asarray(t_e, dtype=float)
    left = np.clip(np.searchsorted(t_grid, t_sub) - 1, 0, t_grid.size - 2)
    rows = np.arange(t_sub.size)
    w_left = np.ascontiguousarray(w[rows, left])
    w_right = np.ascontiguousarray(w[rows, left + 1])
    out = np.empty((n2.shape[0], nu.size))
    _cells_kernel(nu, gam2, left, w_left, w_right, n2, b2, _ln_r_table(), out)
    return out.reshape(*lead, nu.size)
