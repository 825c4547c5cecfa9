"""Secondary electron and positron production cross sections (pi and K decays).

p-p: Kamae et al. 2006 (ApJ 647, 692; erratum ApJ 662, 779), valid for proton kinetic
energies from 0.488 GeV to 512 TeV (pion production between its threshold, 0.28-0.29
GeV, and 0.488 GeV is not in the fit and is zero here).  The inclusive cross section is the sum
of the non-diffractive, diffractive, Delta(1232) and res(1600) components,

    dsigma/dln(E) = r(y) F_nd(x) W_nd(x) + F_diff(x) W_diff(x)
                    + F_Delta(x) W(x) + F_res(x) W(x)          [mb],

with ``x = log10(E/GeV)``, ``y = log10(T_p/TeV)``, the Gaussian-like F of the paper
(with its lepton parameter tables, :mod:`.secondary_leptons_kamae`) and the
kinematic cut-offs ``W_nd = [1 + exp(W_l (L_min - x))]^-1 [1 + exp(W_h (x - L_max))]^-1``
(``L_min = -2.6``, ``L_max = 0.94 (0.96) log10(T_p/GeV)`` for e+ (e-), ``W_l = 15 (20)``,
``W_h = 47 (45)``; Kamae Table 2) and ``W = [1 + exp(75 (x - log10 T_p))]^-1``.  The
model includes all pi, K (and hyperon) decays of the Pythia-based simulation it was fitted
to.  E is the lepton total energy (E = T + m_e) and ``dsigma/dT = (dsigma/dlnE) / E``.
The paper's "dsigma/dlogE" is per unit natural logarithm of E (while its argument x uses
log10): read per log10(E), the e+ multiplicity at 158 GeV/c would be 1.5, half of the
NA49 pi+ multiplicity alone (3.02, Alt et al. 2006, EPJC 45, 343); per ln(E) it is 3.5,
in line with pi+ + K+ (the tests check this).
Energy conservation is imposed exactly: zero for E > T_p (the kinetic energy available to
produced particles in p + p -> p + p + X), where the smooth Kamae cut-offs still leak.

Above 512 TeV Feynman scaling is assumed: ``dsigma/dlnE (E, T_p) = dsigma/dlnE
(E T_0/T_p, T_0)`` with ``T_0 = 512 TeV`` (the inelastic cross section rises only
logarithmically there).

Nuclei (p-He, He-p, He-He and other (Z, A)): the wounded-nucleon model (Bialas,
Bleszynski & Czyz 1976, Nucl. Phys. B 111, 461), in which the yield per collision scales
with the number of participating nucleons N_part / 2.  With <N_part> sigma_AB =
A sigma_pB + B sigma_pA (Glauber), the production cross section per nucleus-nucleus pair
at equal energy per nucleon is

    sigma(A B -> e X) = sigma(p p -> e X) (A sigma_pB + B sigma_pA) / (2 sigma_pp),

with the inelastic cross sections of :mod:`galprop_py.physics.cross_sections`
(sigma_pp: Kafexhiu et al. 2014, eq. 1, re-exported here as ``sigma_pp_inelastic_mb``;
p-He and p-A from the nuclear tables there).  At 10 GeV/n this is 3.9 for p-He and
15 for He-He.
The lepton spectrum shape per nucleon is taken from p-p.

Units: energies in GeV (parents: kinetic energy per nucleon), cross sections in mb,
dsigma/dT in mb/GeV per projectile nucleus per target atom.
"""

from __future__ import annotations

import numpy as np

from ..units import M_E_GEV
from .cross_sections import sigma_inelastic_h_mb, sigma_pp_inelastic_mb
from .secondary_leptons_kamae import T_P_MAX_GEV, electron_parameters, positron_parameters

__all__ = [
    "dsigma_dlne_pp_mb",
    "dsigma_dt_lepton_mb_gev",
    "sigma_pp_inelastic_mb",
    "wounded_nucleon_factor",
]

_L_MIN = -2.6
# Kamae et al. 2006, Table 2: (L_max coefficient, W_l, W_h) of the non-diffractive cut-off
_ND_CUTOFF = {+1: (0.94, 15.0, 47.0), -1: (0.96, 20.0, 45.0)}
_W_RES = 75.0
_TARGET_A = {"H": (1, 1), "He": (2, 4)}


def _fermi(arg):
    """1 / (1 + exp(arg)) without overflow."""
    return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(arg)))


def _kamae_sum(x, tp, charge):
    """Kamae dsigma/dln(E) [mb] at log10(E) = x and proton kinetic energy tp, same shape."""
    par = positron_parameters(tp) if charge > 0 else electron_parameters(tp)
    a, b, c, d = par["nd"], par["diff"], par["delta"], par["res"]
    log_tp = np.log10(np.maximum(tp, 1e-30))
    l_coef, w_l, w_h = _ND_CUTOFF[charge]
    with np.errstate(over="ignore", invalid="ignore"):
        xa3 = x - a[3]
        xa8 = x - a[8]
        p1 = xa3 * (1.0 + a[2] * xa3)
        p2 = xa8 * (1.0 + xa8 * (a[6] + a[7] * xa8))
        f_nd = a[0] * np.exp(-a[1] * p1 * p1) + a[4] * np.exp(-a[5] * p2 * p2)
        f_nd = f_nd * _fermi(w_l * (_L_MIN - x)) * _fermi(w_h * (x - l_coef * log_tp))
        f_nd = np.maximum(f_nd, 0.0) * par["r_nd"]

        cut = _fermi(_W_RES * (x - log_tp))
        q1 = (x - b[2]) / (1.0 + b[3] * (x - b[2]))
        q2 = (x - b[6]) / (1.0 + b[7] * (x - b[6]))
        f_diff = b[0] * np.exp(-b[1] * q1 * q1) + b[4] * np.exp(-b[5] * q2 * q2)
        f_diff = np.maximum(f_diff * cut, 0.0)

        xc = x - c[2]
        qc = xc / (1.0 + xc * (c[3] + c[4] * xc))
        f_delta = np.maximum(c[0] * np.exp(-c[1] * qc * qc) * cut, 0.0)

        xd = x - d[2]
        qd = xd / (1.0 + xd * (d[3] + d[4] * xd))
        f_res = np.maximum(d[0] * np.exp(-d[1] * qd * qd) * cut, 0.0)
    total = f_nd + f_diff + f_delta + f_res
    return np.nan_to_num(total, nan=0.0, posinf=0.0, neginf=0.0)


def dsigma_dlne_pp_mb(e_lepton, t_p, charge=+1):
    """Kamae et al. 2006 p-p inclusive dsigma/dln(E) [mb] of e+ (charge +1) or e- (-1).

    ``e_lepton`` total lepton energy [GeV], ``t_p`` proton kinetic energy [GeV]; broadcast.
    Zero for E > T_p and below the p-p threshold; Feynman scaling above 512 TeV.
    """
    if charge not in (1, -1):
        raise ValueError(f"charge={charge!r}: allowed values are +1 (e+) and -1 (e-)")
    e, tp = np.broadcast_arrays(np.asarray(e_lepton, float), np.asarray(t_p, float))
    scale = np.maximum(tp / T_P_MAX_GEV, 1.0)  # Feynman scaling above the fitted range
    tp_eval = tp / scale
    with np.errstate(divide="ignore"):
        x = np.log10(np.maximum(e / scale, 1e-300))
    value = _kamae_sum(x, tp_eval, charge)
    return np.where((e <= tp) & (e > 0.0), value, 0.0)


def _parse_nucleus(name: str, nucleus) -> tuple[int, int]:
    try:
        z, a = (int(v) for v in nucleus)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}={nucleus!r}: expected a (Z, A) pair of integers, e.g. (1, 1) or (2, 4)"
        ) from None
    if z < 1 or a < z:
        raise ValueError(f"{name}=({z}, {a}): need Z >= 1 and A >= Z")
    return z, a


def _sigma_p_nucleus_mb(t_n, nucleus):
    if tuple(nucleus) == (1, 1):
        return sigma_pp_inelastic_mb(t_n)
    return sigma_inelastic_h_mb(t_n, *nucleus)


def wounded_nucleon_factor(t_n, projectile=(1, 1), target="H"):
    """(A sigma_pB + B sigma_pA) / (2 sigma_pp) at ``t_n`` [GeV/n] (1 for p-p; see module doc)."""
    proj = _parse_nucleus("projectile", projectile)
    if target not in _TARGET_A:
        raise ValueError(f"target={target!r}: allowed targets are 'H' and 'He'")
    targ = _TARGET_A[target]
    t_n = np.asarray(t_n, dtype=float)
    if proj == (1, 1) and targ == (1, 1):
        return np.ones_like(t_n)
    s_pp = sigma_pp_inelastic_mb(t_n)
    s_p_targ = _sigma_p_nucleus_mb(t_n, targ)
    s_p_proj = _sigma_p_nucleus_mb(t_n, proj)
    num = proj[1] * s_p_targ + targ[1] * s_p_proj
    return np.where(s_pp > 0.0, num / (2.0 * np.where(s_pp > 0.0, s_pp, 1.0)), 0.0)


def dsigma_dt_lepton_mb_gev(t_lepton, t_parent_n, charge=+1, projectile=(1, 1), target="H"):
    """dsigma/dT of secondary e+ (charge +1) or e- (charge -1) [mb/GeV].

    Args:
        t_lepton: lepton kinetic energy [GeV].
        t_parent_n: projectile kinetic energy per nucleon [GeV/n] (broadcast with t_lepton).
        charge: +1 for positrons, -1 for electrons.
        projectile: (Z, A) of the projectile; target: "H" or "He".

    Returns:
        dsigma/dT per projectile nucleus per target atom: Kamae et al. 2006 for p-p times
        :func:`wounded_nucleon_factor` for nuclei.
    """
    if charge not in (1, -1):
        raise ValueError(f"charge={charge!r}: allowed values are +1 (e+) and -1 (e-)")
    wounded_nucleon_factor(1.0, projectile, target)  # validates projectile and target
    t_l, t_n = np.broadcast_arrays(np.asarray(t_lepton, float), np.asarray(t_parent_n, float))
    e = t_l + M_E_GEV
    value = dsigma_dlne_pp_mb(e, t_n, charge) / e
    if tuple(projectile) != (1, 1) or target != "H":
        value = value * wounded_nucleon_factor(t_n, projectile, target)
    return np.where(t_l > 0.0, value, 0.0)
