"""Bremsstrahlung of cosmic-ray electrons/positrons on neutral H, He and ionised hydrogen.

Cross section (Bethe & Heitler 1934 in the form of Blumenthal & Gould 1970, RMP 42, 237,
section 3, eqs. 3.1-3.4; ultra-relativistic Born approximation):

    dsigma/d eps = (4 alpha r_e^2 / eps) [ (1 + (E_f/E_i)^2) phi_1(delta) / 4
                                          - (2/3) (E_f/E_i) phi_2(delta) / 4 ],

E_i, E_f = E_i - eps the electron's total energies, ``delta = eps m c^2 / (2 E_i E_f)`` the
minimum momentum transfer in units of m c.  The screening functions follow from the
target's atomic form factor F(q) and incoherent scattering function S(q) (BG70 eq. 3.3;
Tsai 1974, RMP 46, 815, eqs. 3.9-3.10), with ``C(q) = (Z - F)^2 + S``:

    phi_1 = 4 (Z^2 + Z) [ln(1/delta) - 1/2] + 4 int_delta^1 (q - delta)^2 / q^3 [C - Z^2 - Z] dq
    phi_2 = 4 (Z^2 + Z) [ln(1/delta) - 1/2]
            + 4 int_delta^1 [q^3 - 6 delta^2 q ln(q/delta) + 3 delta^2 q - 4 delta^3] / q^4
              [C - Z^2 - Z] dq

(the first term is the unshielded limit of BG70 eq. 3.1 for the nucleus plus Z atomic
electrons; the integrals are the screening corrections, zero for delta >> alpha).

* "HI": the exact hydrogen 1s form factor ``f = (1 + (q / 2 alpha)^2)^-2``, ``F = f``,
  ``S = 1 - f^2``.  Complete screening gives phi_1(0) = 45.82, phi_2(0) = 44.48
  (BG70's values: 45.79, 44.46).
* "He": hydrogenic 1s^2 with the variational charge 27/16 (F = 2 f, S = 2 (1 - f^2),
  no correlation).  The complete-screening radiation integral agrees with Tsai's
  Hartree-Fock L_rad, L'_rad for He to 0.1 %; BG70's He values (134.60, 131.40) are
  ~10 % higher than both (the existing energy-loss module uses Tsai's).
* "HII": ionised hydrogen, one proton plus one free electron, unshielded, Z^2 + Z = 2
  (electron-electron bremsstrahlung taken equal to electron-proton, its ultra-relativistic
  limit, BG70 section 3.3).

The screening functions are tabulated once on a log grid of delta (1e-7 ... 1) by
adaptive quadrature; below 1e-7 the complete-screening values are used.  Validity:
E_i >> m c^2 (Born, ultra-relativistic).  Below ~10 MeV electron kinetic energy the
non-relativistic corrections (Elwert factor, Koch & Motz 1959 3BN) that Strong,
Moskalenko & Reimer 2000 use are not included (errors of tens of % there).

Kernel: ``eps(E_gamma) = (1/4 pi) sum_j K[:, j] n_e(T_j)`` [photons s^-1 sr^-1 GeV^-1] per
target atom (H atom, He atom, or H ion) with K [cm^3 s^-1] = v dsigma/d eps times the
:func:`galprop_py.emission.pi0.log_grid_quadrature` weights.  Units: GeV, cm, s.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.integrate import quad

from ..units import ALPHA_FS, C_CM_S, M_E_GEV, R_E_CM
from .pi0 import log_grid_quadrature

__all__ = [
    "BREMS_TARGETS",
    "bremsstrahlung_kernel",
    "dsigma_de_gamma_brems_cm2_gev",
    "screening_functions",
]

BREMS_TARGETS = ("HI", "He", "HII")
_Z = {"HI": 1, "He": 2, "HII": 1}
_Z_EFF_HE = 27.0 / 16.0
_LN_D_MIN, _LN_D_MAX, _N_D = math.log(1e-7), 0.0, 281


def _check_target(target: str) -> str:
    if target not in BREMS_TARGETS:
        raise ValueError(
            f"bremsstrahlung target={target!r} is not known; allowed: {', '.join(BREMS_TARGETS)}"
        )
    return target


def _screening_excess(q, target):
    """C(q) - (Z^2 + Z) (<= 0; zero for q >> alpha)."""
    if target == "HI":
        f = 1.0 / (1.0 + (q / (2.0 * ALPHA_FS)) ** 2) ** 2
        return (1.0 - f) ** 2 + (1.0 - f * f) - 2.0
    f = 1.0 / (1.0 + (q / (2.0 * ALPHA_FS * _Z_EFF_HE)) ** 2) ** 2
    return 4.0 * (1.0 - f) ** 2 + 2.0 * (1.0 - f * f) - 6.0


def _corrections(delta, target):
    lo = max(delta, 1e-14)
    pts = [p for p in (2.0 * ALPHA_FS, 20.0 * ALPHA_FS) if lo < p < 1.0]

    def g1(q):
        return (q - delta) ** 2 / q**3 * _screening_excess(q, target)

    def g2(q):
        poly = q**3 + 3.0 * delta**2 * q - 4.0 * delta**3
        if delta > 0.0:
            poly -= 6.0 * delta**2 * q * math.log(q / delta)
        return poly / q**4 * _screening_excess(q, target)

    c1 = quad(g1, lo, 1.0, limit=400, points=pts or None)[0]
    c2 = quad(g2, lo, 1.0, limit=400, points=pts or None)[0]
    return 4.0 * c1, 4.0 * c2


@cache
def _tables(target: str):
    ln_d = np.linspace(_LN_D_MIN, _LN_D_MAX, _N_D)
    zz = _Z[target] ** 2 + _Z[target]
    base = 4.0 * zz * (-ln_d - 0.5)
    c = np.array([_corrections(math.exp(x), target) for x in ln_d])
    return ln_d, base + c[:, 0], base + c[:, 1]


def screening_functions(delta, target: str):
    """phi_1(delta), phi_2(delta) of BG70 section 3 for ``target`` (see module docstring)."""
    target = _check_target(target)
    delta = np.asarray(delta, dtype=float)
    zz = _Z[target] ** 2 + _Z[target]
    unshielded = 4.0 * zz * (np.log(1.0 / np.maximum(delta, 1e-300)) - 0.5)
    if target == "HII":
        return unshielded, unshielded.copy()
    ln_d, p1, p2 = _tables(target)
    x = np.clip(np.log(np.maximum(delta, 1e-300)), ln_d[0], ln_d[-1])
    phi1 = np.interp(x, ln_d, p1)
    phi2 = np.interp(x, ln_d, p2)
    beyond = delta >= 1.0
    return np.where(beyond, unshielded, phi1), np.where(beyond, unshielded, phi2)


def dsigma_de_gamma_brems_cm2_gev(e_gamma, t_e, target: str) -> np.ndarray:
    """Bremsstrahlung cross section dsigma/dE_gamma [cm^2 GeV^-1] per target atom (or ion).

    ``e_gamma`` [GeV] and electron kinetic energy ``t_e`` [GeV] broadcast; zero for
    E_gamma >= T_e.
    """
    target = _check_target(target)
    eg = np.asarray(e_gamma, dtype=float)
    te = np.asarray(t_e, dtype=float)
    eg, te = np.broadcast_arrays(eg, te)
    e_i = (te + M_E_GEV) / M_E_GEV
    k = eg / M_E_GEV
    e_f = e_i - k
    ok = (eg > 0.0) & (e_f > 1.0)
    e_f = np.where(ok, e_f, 2.0)
    kk = np.where(ok, k, 1.0)
    delta = kk / (2.0 * e_i * e_f)
    phi1, phi2 = screening_functions(delta, target)
    r = e_f / e_i
    val = (1.0 + r * r) * phi1 / 4.0 - (2.0 / 3.0) * r * phi2 / 4.0
    out = 4.0 * ALPHA_FS * R_E_CM**2 / np.where(ok, eg, 1.0) * np.maximum(val, 0.0)
    return np.where(ok, out, 0.0)


def bremsstrahlung_kernel(
    e_gamma, t_e, target: str, n_sub: int = 4, index_ref: float = 3.0
) -> np.ndarray:
    """Bremsstrahlung emissivity kernel K [cm^3 s^-1] per target atom (or H ion).

    ``eps(E_gamma) = (1/4 pi) sum_j K[:, j] n_e(T_j)`` in photons s^-1 sr^-1 GeV^-1 per
    target; multiply by the target density [cm^-3] for the emissivity per volume.

    Parameters
    ----------
    e_gamma : array_like, shape (n_gamma,)
        Photon energies [GeV].
    t_e : array_like, shape (n_T,)
        Increasing log grid of electron (or positron) kinetic energy [GeV].
    target : {"HI", "He", "HII"}
        Neutral hydrogen atoms, neutral helium atoms, or ionised hydrogen.
    """
    target = _check_target(target)
    e = np.atleast_1d(np.asarray(e_gamma, dtype=float))
    if e.ndim != 1 or np.any(~np.isfinite(e)) or np.any(e <= 0.0):
        raise ValueError("bremsstrahlung e_gamma must be a 1-d array of positive energies [GeV]")
    t_sub, w = log_grid_quadrature(t_e, n_sub, index_ref, name="bremsstrahlung t_e")
    v = C_CM_S * np.sqrt(t_sub * (t_sub + 2.0 * M_E_GEV)) / (t_sub + M_E_GEV)
    ds = dsigma_de_gamma_brems_cm2_gev(e[:, None], t_sub[None, :], target)
    return (ds * v[None, :]) @ w
