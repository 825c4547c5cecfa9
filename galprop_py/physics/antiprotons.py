"""Secondary and tertiary antiproton cross sections.

Production (p, He, ... on H and He gas)
---------------------------------------
Lorentz-invariant cross section of Korsmeier, Donato & Di Mauro 2018 (PRD 97, 103019,
"Param. II": the functional form of Winkler 2017, JCAP 02, 048, refit to NA61 p+p and
LHCb p+He data; coefficients C1..C16, D1, D2 as given there and in the authors' public
CRXS code, github.com/dimauromattia/CRXS), in the nucleon-nucleon centre-of-mass frame:

    sigma_inv^0 = R sigma_in C5 (1 - x_R)^C6 [1 + X (m_T - m_p)]^(-1 / (X C7)),
    X = C8 ln^2(sqrt(s) / 4 m_p),  sigma_in = C11 + C12 ln sqrt(s) + C13 ln^2 sqrt(s) [mb],
    R = 1 for sqrt(s) >= 10 GeV, else
    R = [1 + C9 (10 - sqrt(s))^5] exp[C10 (10 - sqrt(s)) (x_R - x_R,min)^2],

with ``x_R = E*/E*_max``, ``E*_max = (s - 8 m_p^2) / (2 sqrt(s))``, ``x_R,min = m_p / E*_max``,
energies in GeV.  The exponent of ``(10 - sqrt(s))`` inside the exponential is 1, as in the
authors' public CRXS code (github.com/dimauromattia/CRXS) with which Param. II was fitted.

Antineutrons and hyperons (as in Winkler 2017 and Korsmeier et al. 2018):
``sigma_inv(pp -> pbar, all) = sigma_inv^0 (2 + Delta_IS + 2 Delta_Lambda)``:
prompt pbar (1), prompt nbar that decays to pbar (1 + Delta_IS; isospin violation
``Delta_IS = C14 / (1 + (s / C15)^C16)``), and pbar and nbar from anti-hyperon decays
(``Delta_Lambda = 0.81 [C1 + C2 / (1 + (C3 / s)^C4)]``, 0.81 = branching ratio into pbar).

Nuclei (Korsmeier et al. 2018): projectile A_P on target A_T, with the projectile overlap
function F_pro(x_f) from NA49 p+C data (values as tabulated in CRXS), ``x_f = 2 p_L* /
sqrt(s)`` in the nucleon-nucleon frame:

    f = (A_P A_T)^D1 [A_P^D2 F_pro(x_f) + A_T^D2 (1 - F_pro(x_f))],   D1 = 0.828, D2 = 0.145.

The paper weights each side for prompt pbar by (1 + Delta_IS N/A); the prompt nbar weight is
(1 + Delta_IS Z/A), so the sum pbar + nbar is (2 + Delta_IS) per participating side for any
nucleus; together with the hyperons this gives ``sigma_inv = sigma_inv^0 f (2 + Delta_IS + 2
Delta_Lambda)`` (exact for pp, where f = 1).  Any projectile (Z, A) is allowed through this
scaling; the fit covers p, He (and C data).  Energies per nucleon: ``s = 2 m_p (T_n + 2 m_p)``.

Lab frame: ``dsigma/dT = 2 pi p int dcos(theta) sigma_inv``; the cos(theta) integral is done
by Gauss-Legendre quadrature in ``ln(1 - cos theta)`` between the kinematic limit and a
cut-off far inside the forward peak, which resolves the forward peak at all energies.

Losses of antiprotons on H (Tan & Ng 1983, J. Phys. G 9, 227; as used in GALPROP, Moskalenko
et al. 2002, ApJ 565, 280):
``sigma_ann = 661 (1 + 0.0115 T^-0.774 - 0.948 T^0.0151) mb`` (T < 15.5 GeV),
``36 T^-0.5 mb`` above; total inelastic ``24.7 (1 + 0.584 T^-0.115 + 0.856 T^-0.566) mb``;
non-annihilating inelastic = total - annihilation for T <= 13.3 GeV and the p-p inelastic
cross section above (Tan & Ng's high-energy limit).  Helium targets: geometric factor
``4^(2/3)`` of :data:`galprop_py.physics.cross_sections.K_HE` (same convention as nuclei).

Units: energies in GeV (parents: kinetic energy per nucleon), cross sections in mb,
differential ones in mb/GeV per projectile nucleus per target atom; invariant ones in
mb GeV^-2.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..units import M_P_GEV
from .cross_sections import K_HE, sigma_pp_inelastic_mb

__all__ = [
    "PBAR_HE_TARGET_FACTOR",
    "delta_hyperon",
    "delta_isospin",
    "dsigma_dt_pbar_mb_gev",
    "dsigma_dt_tertiary_mb_gev",
    "invariant_pbar_prompt_pp_mb_gev2",
    "nuclear_factor",
    "pbar_max_kinetic_energy_gev",
    "sigma_in_pp_winkler_mb",
    "sigma_pbar_annihilation_mb",
    "sigma_pbar_inelastic_nonannihilating_mb",
    "sigma_pbar_total_inelastic_mb",
    "threshold_kinetic_energy_per_nucleon_gev",
]

M_P = M_P_GEV

# Korsmeier, Donato & Di Mauro 2018, Param. II (C1..C16) and the nuclear D1, D2.
_C = {
    1: 0.31,
    2: 0.30,
    3: 146.0**2,  # GeV^2
    4: 0.9,
    5: 5.01767e-2,  # GeV^-2
    6: 7.79045,
    7: 1.64809e-1,  # GeV
    8: 0.038,
    9: 4.74370e-4,
    10: 3.70480,
    11: 30.9,  # mb
    12: -1.74,  # mb
    13: 0.71,  # mb
    14: 0.114,
    15: 144.0**2,  # GeV^2
    16: 0.51,
}
D1 = 0.828
D2 = 0.145
HYPERON_BRANCHING = 0.81  # fraction of anti-Lambda and anti-Sigma decays giving a pbar

# Overlap function F_pro(x_f) (NA49 p+C, as tabulated by Korsmeier et al. 2018 / CRXS).
_XF_NODES = np.linspace(-0.25, 0.25, 21)
_F_PRO = np.array(
    [0.0, 0.0003, 0.0008, 0.0027, 0.010, 0.035, 0.110, 0.197, 0.295, 0.4, 0.5,
     0.6, 0.705, 0.803, 0.890, 0.965, 0.990, 0.9973, 0.9992, 0.9997, 1.0]
)  # fmt: skip

PBAR_HE_TARGET_FACTOR = K_HE  # sigma(pbar He) / sigma(pbar H) = 4^(2/3)

_TARGETS = {"H": 1, "He": 4}
_N_NODES = 96  # Gauss-Legendre nodes of the angular integral
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_N_NODES)
_PT_FLOOR_GEV = 1e-3  # forward cut-off of the angular integral, in transverse momentum
# the constants as the kernel :func:`_dsigma_rows` takes them: C1..C16 at their index, then
# the hyperon branching ratio (index 0 unused)
_C_KERNEL = np.array([0.0] + [_C[i] for i in range(1, 17)] + [HYPERON_BRANCHING])


# ----------------------------------------------------------------------------------------
# centre-of-mass ingredients
# ----------------------------------------------------------------------------------------
def _s_nn(t_n):
    """Nucleon-nucleon s [GeV^2] for kinetic energy per nucleon ``t_n`` on a nucleon at rest."""
    return 2.0 * M_P * (np.asarray(t_n, dtype=float) + 2.0 * M_P)


def threshold_kinetic_energy_per_nucleon_gev() -> float:
    """pbar production threshold in N N collisions, T_n = 6 m_p (s = 16 m_p^2) [GeV]."""
    return 6.0 * M_P


def sigma_in_pp_winkler_mb(sqrt_s):
    """Inelastic pp cross section of the fit, C11 + C12 ln sqrt(s) + C13 ln^2 sqrt(s) [mb]."""
    ln_rs = np.log(np.asarray(sqrt_s, dtype=float))
    return _C[11] + _C[12] * ln_rs + _C[13] * ln_rs**2


def delta_isospin(s):
    """Isospin enhancement of nbar over pbar, C14 / (1 + (s / C15)^C16); ``s`` in GeV^2."""
    return _C[14] / (1.0 + (np.asarray(s, dtype=float) / _C[15]) ** _C[16])


def delta_hyperon(s):
    """pbar from anti-hyperon decays per prompt pbar, 0.81 [C1 + C2 / (1 + (C3/s)^C4)]."""
    s = np.asarray(s, dtype=float)
    return HYPERON_BRANCHING * (_C[1] + _C[2] / (1.0 + (_C[3] / s) ** _C[4]))


def invariant_pbar_prompt_pp_mb_gev2(s, e_star, pt):
    """Prompt pbar invariant cross section E d^3 sigma / dp^3 in pp [mb GeV^-2].

    ``s`` [GeV^2], ``e_star`` pbar energy in the centre-of-mass frame [GeV], ``pt``
    transverse momentum [GeV]; broadcast.  Zero below threshold and for x_R >= 1.
    """
    s, e_star, pt = np.broadcast_arrays(
        np.asarray(s, float), np.asarray(e_star, float), np.asarray(pt, float)
    )
    sqrt_s = np.sqrt(s)
    open_ = s > 16.0 * M_P**2
    e_max = np.where(open_, (s - 8.0 * M_P**2) / (2.0 * sqrt_s), 1.0)
    x_r = e_star / e_max
    inside = open_ & (x_r < 1.0)
    x_r = np.where(inside, x_r, 0.5)
    m_t = np.sqrt(pt * pt + M_P * M_P)
    big_x = np.maximum(_C[8] * np.log(sqrt_s / (4.0 * M_P)) ** 2, 1e-12)
    pt_shape = np.exp(-np.log1p(big_x * (m_t - M_P)) / (big_x * _C[7]))
    d10 = np.maximum(10.0 - sqrt_s, 0.0)
    r_low = (1.0 + _C[9] * d10**5) * np.exp(_C[10] * d10 * (x_r - M_P / e_max) ** 2)
    value = r_low * sigma_in_pp_winkler_mb(sqrt_s) * _C[5] * (1.0 - x_r) ** _C[6] * pt_shape
    return np.where(inside, value, 0.0)


def overlap_projectile(x_f):
    """Projectile overlap function F_pro(x_f): 0 below -0.25, 1 above 0.25 (NA49 p+C)."""
    return np.interp(np.asarray(x_f, dtype=float), _XF_NODES, _F_PRO)


def nuclear_factor(a_projectile: int, a_target: int, x_f):
    """Korsmeier et al. 2018 scaling f(A_P, A_T, x_f) of sigma_inv from pp (1 for pp)."""
    f_pro = overlap_projectile(x_f)
    scale = float(a_projectile * a_target) ** D1
    return scale * (a_projectile**D2 * f_pro + a_target**D2 * (1.0 - f_pro))


# ----------------------------------------------------------------------------------------
# lab frame
# ----------------------------------------------------------------------------------------
def _check_projectile_target(projectile, target) -> tuple[int, int]:
    try:
        z, a = (int(v) for v in projectile)
    except (TypeError, ValueError):
        raise ValueError(
            f"projectile={projectile!r}: expected a (Z, A) pair of integers, e.g. (1, 1) or (2, 4)"
        ) from None
    if z < 1 or a < z:
        raise ValueError(f"projectile=({z}, {a}): need Z >= 1 and A >= Z")
    if target not in _TARGETS:
        raise ValueError(f"target={target!r}: allowed targets are 'H' and 'He'")
    return a, _TARGETS[target]


def pbar_max_kinetic_energy_gev(t_parent_n):
    """Largest lab kinetic energy of a pbar from N N at ``t_parent_n`` [GeV/n]; 0 below threshold.

    The pbar takes ``E*_max = (s - 8 m_p^2) / 2 sqrt(s)`` (recoiling p p p system at rest
    in the CM frame) and is emitted forward.
    """
    t_n = np.asarray(t_parent_n, dtype=float)
    s = _s_nn(t_n)
    sqrt_s = np.sqrt(s)
    e_max = np.maximum((s - 8.0 * M_P**2) / (2.0 * sqrt_s), M_P)
    p_max = np.sqrt(e_max**2 - M_P**2)
    gamma = (t_n + 2.0 * M_P) / sqrt_s
    beta_gamma = np.sqrt(np.maximum(t_n * (t_n + 2.0 * M_P), 0.0)) / sqrt_s
    t_max = gamma * e_max + beta_gamma * p_max - M_P
    return np.where(s > 16.0 * M_P**2, t_max, 0.0)


@njit(cache=True, error_model="numpy")
def _dsigma_rows(
    t_pbar, t_n, nuclear, scale, a_p_d2, a_t_d2, c, m_p, pt_floor, gl_x, gl_w, xf_nodes, f_pro, out
):
    """Fill ``out`` with dsigma/dT [mb/GeV] for 1-d arrays ``t_pbar`` [GeV], ``t_n`` [GeV/n].

    The numba kernel behind :func:`dsigma_dt_pbar_mb_gev`: one (t_pbar, t_n) pair at a
    time and one Gauss-Legendre node at a time, with no temporaries of size rows x nodes.
    Per node it evaluates :func:`invariant_pbar_prompt_pp_mb_gev2` and
    :func:`nuclear_factor` (``np.interp`` on the F_pro nodes, held at 0 and 1 outside), per
    row :func:`delta_isospin` and :func:`delta_hyperon`, with the same kinematics as the
    numpy functions.  Two rearrangements, for speed (the kernel is bound by libm calls): the
    three factors ``(1 - x_R)^C6``, the m_T shape and R's exponential are one ``exp`` of
    the sum of their logarithms (one exp and a log1p instead of a pow and two exps, ~20%
    faster), and the node sum runs in sequence where numpy sums pairwise.  Both change
    only the rounding: the kernel and the numpy expressions agree to 5e-15 (relative) from
    1e-2 to 1e4 GeV in T_pbar and 1 to 1e5 GeV/n in T_n, pp, pHe, He p and He He, and to
    1e-13 at the kinematic maximum (dsigma/dT < 1e-90 mb/GeV there, ln of the shape ~ -300).
    The constants come in as arguments (numba would freeze module globals into its on-disk
    cache): ``c[1..16]`` the C_i of Param. II (``c[0]`` unused; ``c[17]`` the hyperon
    branching ratio), ``m_p`` [GeV], ``pt_floor`` the forward cut-off [GeV], ``gl_x``,
    ``gl_w`` the quadrature rule on [-1, 1], ``xf_nodes``, ``f_pro`` the overlap table.
    ``nuclear`` False for p on H (f = 1 exactly), else the factor is
    ``scale (a_p_d2 F_pro + a_t_d2 (1 - F_pro))`` with ``scale = (A_P A_T)^D1``,
    ``a_p_d2 = A_P^D2``, ``a_t_d2 = A_T^D2``.
    """
    m_p2 = m_p * m_p
    n_xf = xf_nodes.shape[0]
    for i in range(t_pbar.shape[0]):
        out[i] = 0.0
        tp, tn = t_pbar[i], t_n[i]
        s = 2.0 * m_p * (tn + 2.0 * m_p)
        sqrt_s = math.sqrt(s)
        e = tp + m_p
        p = math.sqrt(max(tp * (tp + 2.0 * m_p), 0.0))
        gamma = (tn + 2.0 * m_p) / sqrt_s
        beta = math.sqrt(max(tn * (tn + 2.0 * m_p), 0.0)) / (tn + 2.0 * m_p)
        e_max = (s - 8.0 * m_p2) / (2.0 * sqrt_s)
        if not (s > 16.0 * m_p2 and p > 0.0):  # below threshold (or NaN input)
            continue
        cos_min = (e - e_max / gamma) / (beta * p)
        if not cos_min < 1.0:  # beyond the kinematic maximum
            continue
        w_max = 1.0 - max(cos_min, -1.0)  # w = 1 - cos(theta) in (0, 2]
        w_lo = min(0.5 * (pt_floor / p) ** 2, 1e-6 * w_max)
        half = 0.5 * math.log(w_max / w_lo)
        ln_w_lo = math.log(w_lo)
        # per-row parts of the invariant cross section
        x_r_min = m_p / e_max
        ln_rs = math.log(sqrt_s)
        sigma_c5 = (c[11] + c[12] * ln_rs + c[13] * ln_rs**2) * c[5]  # sigma_in C5
        ln_x = math.log(sqrt_s / (4.0 * m_p))
        big_x = max(c[8] * ln_x**2, 1e-12)
        d10 = max(10.0 - sqrt_s, 0.0)
        r_pre = 1.0 + c[9] * d10**5.0
        r_arg = c[10] * d10
        integral = 0.0
        inv_first = 0.0
        for k in range(gl_x.shape[0]):
            w = math.exp(ln_w_lo + half * (gl_x[k] + 1.0))
            cos_t = 1.0 - w
            e_star = gamma * (e - beta * p * cos_t)
            x_r = e_star / e_max
            inv = 0.0
            if x_r < 1.0:
                sin_t = math.sqrt(max(w * (2.0 - w), 0.0))
                pt = p * sin_t
                m_t = math.sqrt(pt * pt + m_p * m_p)
                # ln of (1 - x_R)^C6 [1 + X (m_T - m_p)]^(-1 / (X C7)) and of R's exponential
                ln_shape = c[6] * math.log1p(-x_r)
                ln_shape -= math.log1p(big_x * (m_t - m_p)) / (big_x * c[7])
                prefactor = sigma_c5
                if d10 > 0.0:  # sqrt(s) < 10 GeV (above, R = 1 exactly)
                    ln_shape += r_arg * (x_r - x_r_min) ** 2
                    prefactor *= r_pre
                inv = prefactor * math.exp(ln_shape)
                if nuclear:
                    p_l_star = gamma * (p * cos_t - beta * e)
                    x_f = 2.0 * p_l_star / sqrt_s
                    # np.interp(x_f, xf_nodes, f_pro): held at the end values outside
                    if x_f <= xf_nodes[0]:
                        f = f_pro[0]
                    elif x_f >= xf_nodes[n_xf - 1]:
                        f = f_pro[n_xf - 1]
                    else:
                        lo, hi = 0, n_xf - 1  # xf_nodes[lo] <= x_f < xf_nodes[hi]
                        while hi - lo > 1:
                            mid = (lo + hi) // 2
                            if xf_nodes[mid] <= x_f:
                                lo = mid
                            else:
                                hi = mid
                        if x_f == xf_nodes[lo]:
                            f = f_pro[lo]
                        else:
                            slope = (f_pro[hi] - f_pro[lo]) / (xf_nodes[hi] - xf_nodes[lo])
                            f = slope * (x_f - xf_nodes[lo]) + f_pro[lo]
                    inv = inv * (scale * (a_p_d2 * f + a_t_d2 * (1.0 - f)))
            if k == 0:
                inv_first = inv
            integral += gl_w[k] * inv * w
        integral = half * integral
        integral += w_lo * inv_first  # the sliver 0 < w < w_lo, integrand constant there
        delta_is = c[14] / (1.0 + (s / c[15]) ** c[16])
        delta_hyp = c[17] * (c[1] + c[2] / (1.0 + (c[3] / s) ** c[4]))
        factor = 2.0 + delta_is + 2.0 * delta_hyp
        out[i] = 2.0 * math.pi * p * integral * factor


def dsigma_dt_pbar_mb_gev(t_pbar, t_parent_n, projectile=(1, 1), target="H"):
    """Antiproton production dsigma/dT_pbar in the lab frame [mb/GeV].

    Args:
        t_pbar: pbar kinetic energy [GeV].
        t_parent_n: projectile kinetic energy per nucleon [GeV/n] (broadcast with t_pbar).
        projectile: (Z, A) of the projectile nucleus; (1, 1) and (2, 4) are fitted, others
            use the same A scaling.
        target: "H" or "He".

    Returns:
        dsigma/dT per projectile nucleus per target atom, including antineutron and
        anti-hyperon decays (see the module docstring); zero below the threshold
        T_n = 6 m_p and above :func:`pbar_max_kinetic_energy_gev`.
    """
    a_p, a_t = _check_projectile_target(projectile, target)
    t_pbar, t_n = np.broadcast_arrays(
        np.asarray(t_pbar, dtype=float), np.asarray(t_parent_n, dtype=float)
    )
    shape = t_pbar.shape
    flat_t = np.ascontiguousarray(t_pbar.ravel())
    flat_n = np.ascontiguousarray(t_n.ravel())
    out = np.empty(flat_t.size)
    # the scalars of nuclear_factor, computed as there
    scale = float(a_p * a_t) ** D1
    a_p_d2, a_t_d2 = float(a_p**D2), float(a_t**D2)
    _dsigma_rows(
        flat_t, flat_n, (a_p, a_t) != (1, 1), scale, a_p_d2, a_t_d2, _C_KERNEL, M_P,
        _PT_FLOOR_GEV, _GL_X, _GL_W, _XF_NODES, _F_PRO, out,
    )  # fmt: skip
    return out.reshape(shape)


# ----------------------------------------------------------------------------------------
# antiproton losses on H (Tan & Ng 1983)
# ----------------------------------------------------------------------------------------
_T_ANN_SWITCH = 15.5  # GeV
_T_NONANN_SWITCH = 13.3  # GeV


def sigma_pbar_annihilation_mb(t_pbar):
    """pbar p annihilation cross section [mb] (Tan & Ng 1983); ``t_pbar`` in GeV.

    Fitted from 50 MeV; below that the formula is extrapolated (it rises as T falls).
    """
    t = np.maximum(np.asarray(t_pbar, dtype=float), 1e-6)
    low = 661.0 * (1.0 + 0.0115 * t**-0.774 - 0.948 * t**0.0151)
    high = 36.0 * t**-0.5
    return np.where(t < _T_ANN_SWITCH, np.maximum(low, 0.0), high)


def _sigma_inelastic_tan_ng_mb(t):
    return 24.7 * (1.0 + 0.584 * t**-0.115 + 0.856 * t**-0.566)


def sigma_pbar_inelastic_nonannihilating_mb(t_pbar):
    """pbar p inelastic non-annihilating cross section [mb] (Tan & Ng 1983).

    Total inelastic minus annihilation up to 13.3 GeV (clipped at 0, which matters only
    below ~15 MeV), the p-p inelastic cross section (Kafexhiu et al. 2014) above.
    """
    t = np.maximum(np.asarray(t_pbar, dtype=float), 1e-6)
    low = np.maximum(_sigma_inelastic_tan_ng_mb(t) - sigma_pbar_annihilation_mb(t), 0.0)
    return np.where(t <= _T_NONANN_SWITCH, low, sigma_pp_inelastic_mb(t))


def sigma_pbar_total_inelastic_mb(t_pbar):
    """pbar p total inelastic cross section = annihilation + non-annihilating [mb].

    Equal to Tan & Ng's fit ``24.7 (1 + 0.584 T^-0.115 + 0.856 T^-0.566)`` up to 13.3 GeV
    (where that fit exceeds the annihilation part).
    """
    return sigma_pbar_annihilation_mb(t_pbar) + sigma_pbar_inelastic_nonannihilating_mb(t_pbar)


def dsigma_dt_tertiary_mb_gev(t_out, t_in):
    """Tertiary redistribution dsigma/dT' [mb/GeV] per H atom: sigma_nonann(T)/T, 0 < T' < T.

    The usual approximation (Tan & Ng 1983; Moskalenko et al. 2002): after a
    non-annihilating inelastic collision the pbar kinetic energy is uniform in (0, T).
    ``t_out`` (T') and ``t_in`` (T) in GeV, broadcast.  Scale by PBAR_HE_TARGET_FACTOR
    for a He atom.
    """
    t_out, t_in = np.broadcast_arrays(np.asarray(t_out, float), np.asarray(t_in, float))
    inside = (t_out > 0.0) & (t_out < t_in)
    safe_in = np.where(t_in > 0.0, t_in, 1.0)
    value = sigma_pbar_inelastic_nonannihilating_mb(safe_in) / safe_in
    return np.where(inside, value, 0.0)
