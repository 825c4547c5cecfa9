"""Gamma rays from pi0 decay in collisions of cosmic-ray nuclei with interstellar H and He.

Reference: E. Kafexhiu, F. Aharonian, A. M. Taylor & G. S. Vila 2014, PRD 90, 123014
("KATV14"; arXiv:1406.7369).  Everything below is written from the paper's equations and
tables; equation and table numbers refer to it.

pp differential cross section (:func:`dsigma_de_gamma_pp_mb_gev`)
    ``dsigma/dE_gamma = A_max(T_p) F(T_p, E_gamma)`` (eq. 8) with

    * the pi0 production cross section sigma_pi: below T_p = 2 GeV the fit to data,
      one-pion (eqs. 2-4, Breit-Wigner resonance M_res = 1.1883 GeV, Gamma_res = 0.2264 GeV)
      plus two-pion production (eq. 5, from T_p = 0.56 GeV); above 2 GeV the inelastic
      cross section (eq. 1, :func:`~galprop_py.physics.cross_sections.sigma_pp_inelastic_mb`)
      times the mean pi0 multiplicity, eq. 6 for 2-5 GeV and eq. 7 with Table IV above;
    * the kinematic maximum E_gamma^max (eq. 10) and the variables Y, X (eq. 9);
    * the shape F (eq. 11, Table V with kappa and mu of eqs. 14-15) and the peak A_max
      (eq. 12, Table VII).

    High-energy model (``model``): "geant4" (Geant 4.10.0 at all energies), "pythia8"
    (Geant4 up to T_p = 50 GeV, Pythia 8.18 above; the default, also naima's default),
    "sibyll" or "qgsjet" (Geant4 up to 100 GeV, SIBYLL 2.1 / QGSJET-I above).  The paper
    quotes an accuracy of <= 20 % for the parametrised spectra.

Nuclei (:func:`nuclear_enhancement`)
    KATV14 section IV: the gamma-ray cross section of a projectile A_p (energy T per
    nucleon) on a target A_t is the pp one at T_p = T times the wounded-nucleon factor

        R = [A_p sigma_pA_t(T) + A_t sigma_pA_p(T)] / (2 sigma_pp(T)),

    (the mean number of wounded nucleons over 2, times sigma_AB / sigma_pp), with the
    proton-nucleus reaction cross sections of Sihver et al. 1993 (PRC 47, 1225) as used by
    KATV14: ``sigma_pA = 58.1 mb [1 + A^1/3 - beta_0 (1 + A^-1/3)]^2 G(T)``,
    ``beta_0 = 2.247 - 0.915 (1 + A^-1/3)``, with the energy rise
    ``G(T) = 1 + ln max(1, sigma_pp(T) / sigma_pp(1 TeV))`` (sigma_p1 = sigma_pp itself, so
    R = 1 for pp).  Below T = 1 GeV per nucleon R is held at its 1 GeV value: it grows
    without bound towards the pp threshold (sigma_pp -> 0) while sub-threshold production
    in nuclei is not part of the model (naima makes the same choice).

Emissivity kernel (:func:`pi0_kernel`)
    ``eps(E_gamma) = (1/4 pi) int dT n(T) v(T) [dsigma_H/dE + f_He dsigma_He/dE]`` per H
    atom, written as ``(1/4 pi) sum_j K[:, j] n_j`` on the caller's log grid of T per
    nucleon.  The quadrature (:func:`log_grid_quadrature`) interpolates ``T^s n(T)``
    linearly in ln T between grid nodes (a local power law with a reference index s,
    2.7 by default) and integrates the kinematics with Gauss-Legendre sub-points in ln T,
    splitting intervals at the energies where the parametrisation changes branch (0.28,
    0.56, 1, 2, 4, 5, 20, 50, 100 GeV).  Exact for ``n ~ T^-s`` up to the sub-sampling
    error; for a local slope s' the interpolation error is ~ h^2 (s - s')^2 / 12 (h the
    grid step in ln T).  Measured against a 1.01-ratio grid with 8 sub-points, for
    0.1 GeV < E_gamma < 1 TeV and 4 sub-points: 6e-5 (s' = 2.7), 1.4e-3 (s' = 2.0),
    1.0e-3 (s' = 3.3) on a 1.2-ratio grid; 6e-4 / 3e-4 on a 1.1-ratio grid; 7e-3 / 5e-3
    on a 1.5-ratio grid.  Nothing is emitted from outside the grid.

Units: E_gamma and T in GeV (T per nucleon for nuclei), cross sections in mb
(``units.MB_CM2``), densities per unit kinetic energy in cm^-3 GeV^-1, the kernel in
cm^3 s^-1 (so that K n is photons s^-1 GeV^-1 per H atom before the 1/4 pi).
"""

from __future__ import annotations

import numpy as np

from ..physics.cross_sections import M_PI0_GEV, T_PP_THRESHOLD_GEV, sigma_pp_inelastic_mb
from ..units import AMU_GEV, C_CM_S, M_P_GEV, MB_CM2

__all__ = [
    "PI0_MODELS",
    "dsigma_de_gamma_pp_mb_gev",
    "e_gamma_max",
    "log_grid_quadrature",
    "nuclear_enhancement",
    "pi0_kernel",
    "sigma_pi0_mb",
]

PI0_MODELS = ("geant4", "pythia8", "sibyll", "qgsjet")

_MP = M_P_GEV
_MPI = M_PI0_GEV
_TTH = T_PP_THRESHOLD_GEV

# KATV14 Table IV: a1..a5 of the mean pi0 multiplicity, eq. 7
_A_MULT = {
    "geant4": (0.728, 0.596, 0.491, 0.2503, 0.117),
    "pythia8": (0.652, 0.0016, 0.488, 0.1928, 0.483),
    "sibyll": (5.436, 0.254, 0.072, 0.075, 0.166),
    "qgsjet": (0.908, 0.0009, 6.089, 0.176, 0.448),
}
# KATV14 Table V: (lambda, alpha, beta, gamma) of F, eq. 11, above the model's transition
_F_HIGH = {
    "geant4": (3.0, 0.5, 4.9, 1.0),
    "pythia8": (3.5, 0.5, 4.0, 1.0),
    "sibyll": (3.55, 0.5, 3.6, 1.0),
    "qgsjet": (3.55, 0.5, 4.5, 1.0),
}
# KATV14 Table VII: (b1, b2, b3) of A_max, eq. 12
_B_GEANT4_LOW = (9.53, 0.52, 0.054)  # 1 <= T_p < 5 GeV
_B_HIGH = {
    "geant4": (9.13, 0.35, 9.7e-3),  # T_p >= 5 GeV
    "pythia8": (9.06, 0.3795, 0.01105),
    "sibyll": (10.77, 0.412, 0.01264),
    "qgsjet": (13.16, 0.4419, 0.01439),
}
# T_p [GeV] above which the high-energy model replaces Geant4 (KATV14 Table IV)
_T_TRANSITION = {"geant4": np.inf, "pythia8": 50.0, "sibyll": 100.0, "qgsjet": 100.0}

_M_RES, _G_RES = 1.1883, 0.2264  # eq. 4 [GeV]
_SIGMA0_MB = 7.66e-3  # eq. 2
_SIGMA_R0_MB = 58.1  # Sihver et al. 1993 as in KATV14 section IV
_T_P0_GEV = 1.0e3  # reference energy of G(T)
_T_FREEZE_GEV = 1.0  # R held below this kinetic energy per nucleon
_TARGET_A = {"H": 1, "He": 4}
# kinetic energies [GeV] where the parametrisation changes branch (the integrand jumps)
_BREAKS_GEV = (_TTH, 0.56, 1.0, 2.0, 4.0, 5.0, 20.0, 50.0, 100.0)


def _check_model(model: str) -> str:
    key = str(model).lower()
    if key not in PI0_MODELS:
        raise ValueError(f"pi0 model={model!r} is not known; allowed: {', '.join(PI0_MODELS)}")
    return key


def _s(t_p):
    return 2.0 * _MP * (t_p + 2.0 * _MP)


def e_pi_max_lab(t_p):
    """Maximum pi0 energy in the lab [GeV] for proton kinetic energy ``t_p`` (KATV14 eq. 10)."""
    t_p = np.maximum(np.asarray(t_p, dtype=float), _TTH)
    s = _s(t_p)
    rs = np.sqrt(s)
    e_cm = (s - 4.0 * _MP**2 + _MPI**2) / (2.0 * rs)
    p_cm = np.sqrt(np.maximum(e_cm**2 - _MPI**2, 0.0))
    g_cm = (t_p + 2.0 * _MP) / rs
    b_cm = np.sqrt(1.0 - 1.0 / g_cm**2)
    return g_cm * (e_cm + p_cm * b_cm)


def e_gamma_max(t_p):
    """Maximum gamma-ray energy in the lab [GeV] (KATV14 eq. 10)."""
    g_pi = e_pi_max_lab(t_p) / _MPI
    b_pi = np.sqrt(np.maximum(1.0 - 1.0 / g_pi**2, 0.0))
    return 0.5 * _MPI * g_pi * (1.0 + b_pi)


def _sigma_pi_low_mb(t_p):
    """One- plus two-pion production below 2 GeV, KATV14 eqs. 2-5 [mb]."""
    s = _s(t_p)
    rs = np.sqrt(s)
    eta2 = ((s - _MPI**2 - 4.0 * _MP**2) ** 2 - 16.0 * _MPI**2 * _MP**2) / (4.0 * _MPI**2 * s)
    eta = np.sqrt(np.maximum(eta2, 0.0))
    g = np.sqrt(_M_RES**2 * (_M_RES**2 + _G_RES**2))
    k = np.sqrt(8.0) * _M_RES * _G_RES * g / (np.pi * np.sqrt(_M_RES**2 + g))
    f_bw = _MP * k / (((rs - _MP) ** 2 - _M_RES**2) ** 2 + _M_RES**2 * _G_RES**2)
    one = _SIGMA0_MB * eta**1.95 * (1.0 + eta + eta**5) * f_bw**1.86
    two = np.where(t_p >= 0.56, 5.7 / (1.0 + np.exp(-9.3 * (t_p - 1.4))), 0.0)
    return one + two


def _multiplicity(t_p, a):
    xi = np.maximum(t_p - 3.0, 0.0) / _MP
    a1, a2, a3, a4, a5 = a
    return a1 * xi**a4 * (1.0 + np.exp(-a2 * xi**a5)) * (1.0 - np.exp(-a3 * xi**0.25))


def sigma_pi0_mb(t_p, model: str = "pythia8") -> np.ndarray:
    """pi0 production cross section sigma_pi [mb] of pp collisions (KATV14 eqs. 2-7)."""
    model = _check_model(model)
    t_p = np.asarray(t_p, dtype=float)
    tt = np.maximum(t_p, _TTH)
    low = _sigma_pi_low_mb(tt)
    q = (tt - _TTH) / _MP
    mid = -6.0e-3 + 0.237 * q - 0.023 * q * q  # eq. 6, 2 <= T_p < 5 GeV
    high = np.where(
        tt > _T_TRANSITION[model],
        _multiplicity(tt, _A_MULT[model]),
        _multiplicity(tt, _A_MULT["geant4"]),
    )
    mult = np.where(tt < 5.0, mid, high)
    sigma = np.where(tt < 2.0, low, sigma_pp_inelastic_mb(tt) * mult)
    return np.where(t_p > _TTH, np.maximum(sigma, 0.0), 0.0)


def _a_max_mb_gev(t_p, sigma_pi, model):
    """Peak of the differential cross section [mb/GeV], KATV14 eq. 12 and Table VII."""
    theta = t_p / _MP
    ln_t = np.log(theta)
    b_hi = np.array(_B_HIGH[model])
    b_g4 = np.array(_B_HIGH["geant4"])
    b_lo = np.array(_B_GEANT4_LOW)
    use_hi = (t_p > _T_TRANSITION[model])[..., None]
    b = np.where(use_hi, b_hi, np.where((t_p >= 5.0)[..., None], b_g4, b_lo))
    high = b[..., 0] * theta ** (-b[..., 1]) * np.exp(b[..., 2] * ln_t**2) * sigma_pi / _MP
    low = 5.9 * sigma_pi / e_pi_max_lab(t_p)
    return np.where(t_p < 1.0, low, high)


def _shape(t_p, e_gamma, model):
    """F(T_p, E_gamma) of KATV14 eq. 11 with Table V; zero beyond the kinematic limit."""
    e_max = e_gamma_max(t_p)
    y = e_gamma + _MPI**2 / (4.0 * e_gamma)
    y_max = e_max + _MPI**2 / (4.0 * e_max)
    x = np.clip((y - _MPI) / np.maximum(y_max - _MPI, 1e-300), 0.0, 1.0)
    theta = t_p / _MP
    kappa = 3.29 - 0.2 * theta**-1.5  # eq. 14
    qq = np.maximum(t_p - 1.0, 0.0) / _MP
    mu = 1.25 * qq**1.25 * np.exp(-1.25 * qq)  # eq. 15
    lam_hi, alp_hi, bet_hi, gam_hi = _F_HIGH[model]
    # parameters by T_p range (Table V); Geant4 rows up to the model's transition
    lam = np.where(t_p <= 1.0, 1.0, 3.0)
    alpha = np.where(t_p <= 20.0, 1.0, 0.5)
    beta = np.select(
        [t_p <= 1.0, t_p <= 4.0, t_p <= 20.0, t_p <= 100.0],
        [kappa, mu + 2.45, 1.5 * mu + 4.95, 4.2],
        4.9,
    )
    gam = np.select([t_p <= 1.0, t_p <= 4.0, t_p <= 20.0], [0.0, mu + 1.45, mu + 1.5], 1.0)
    hi = t_p > _T_TRANSITION[model]
    lam = np.where(hi, lam_hi, lam)
    alpha = np.where(hi, alp_hi, alpha)
    beta = np.where(hi, bet_hi, beta)
    gam = np.where(hi, gam_hi, gam)
    c = lam * _MPI / y_max
    f = (1.0 - x**alpha) ** beta / (1.0 + x / c) ** gam
    return np.where(x < 1.0, f, 0.0)


def dsigma_de_gamma_pp_mb_gev(e_gamma, t_p, model: str = "pythia8") -> np.ndarray:
    """pp -> gamma differential cross section dsigma/dE_gamma [mb/GeV] (KATV14 eq. 8).

    Parameters
    ----------
    e_gamma : array_like
        Gamma-ray energy [GeV] (> 0).
    t_p : array_like
        Proton kinetic energy [GeV]; broadcast against ``e_gamma``.
    model : str
        High-energy model of KATV14 Tables IV, V, VII (see the module docstring).

    Returns
    -------
    numpy.ndarray
        The broadcast shape of ``e_gamma`` and ``t_p``; zero below the pp threshold
        (0.2797 GeV) and above the kinematic limit E_gamma^max(T_p).
    """
    model = _check_model(model)
    e_gamma = np.asarray(e_gamma, dtype=float)
    t_p = np.asarray(t_p, dtype=float)
    if np.any(e_gamma <= 0.0):
        raise ValueError("pi0 e_gamma must be > 0 GeV")
    e_gamma, t_p = np.broadcast_arrays(e_gamma, t_p)
    above = t_p > _TTH
    tt = np.where(above, t_p, 2.0 * _TTH)  # placeholder where below threshold
    sig = sigma_pi0_mb(tt, model)
    out = _a_max_mb_gev(tt, sig, model) * _shape(tt, e_gamma, model)
    return np.where(above, out, 0.0)


# ----------------------------------------------------------------------------------------
# nuclei
# ----------------------------------------------------------------------------------------
def _sigma_p_nucleus_geometric_mb(a: int) -> float:
    """Sihver et al. 1993 proton-nucleus reaction cross section [mb], as in KATV14."""
    a13 = a ** (1.0 / 3.0)
    beta0 = 2.247 - 0.915 * (1.0 + 1.0 / a13)
    return _SIGMA_R0_MB * (1.0 + a13 - beta0 * (1.0 + 1.0 / a13)) ** 2


def _parse_projectile(projectile) -> tuple[int, int]:
    try:
        z, a = (int(v) for v in projectile)
    except (TypeError, ValueError):
        raise ValueError(
            f"pi0 projectile={projectile!r} must be a (Z, A) pair of integers"
        ) from None
    if a < 1 or z < 1 or z > a:
        raise ValueError(f"pi0 projectile={projectile!r}: need 1 <= Z <= A")
    return z, a


def sigma_p_nucleus_mb(a: int, t_n) -> np.ndarray:
    """Proton-nucleus inelastic cross section [mb] of KATV14 section IV (A = 1: pp, eq. 1)."""
    t = np.maximum(np.asarray(t_n, dtype=float), _T_FREEZE_GEV)
    if a == 1:
        return sigma_pp_inelastic_mb(t)
    ratio = sigma_pp_inelastic_mb(t) / sigma_pp_inelastic_mb(_T_P0_GEV)
    g = 1.0 + np.log(np.maximum(ratio, 1.0))
    return _sigma_p_nucleus_geometric_mb(a) * g


def nuclear_enhancement(projectile, target: str, t_n) -> np.ndarray:
    """Gamma-ray yield of projectile on target relative to pp at the same T per nucleon.

    ``R = [A_p sigma_pA_t + A_t sigma_pA_p] / (2 sigma_pp)`` (KATV14 section IV, wounded
    nucleons; see the module docstring), held at its 1 GeV/n value below 1 GeV/n.

    Parameters
    ----------
    projectile : (Z, A)
        Cosmic-ray nucleus; protons are (1, 1).
    target : {"H", "He"}
        Interstellar target atom.
    t_n : array_like
        Kinetic energy per nucleon [GeV/n].
    """
    _, a_p = _parse_projectile(projectile)
    if target not in _TARGET_A:
        raise ValueError(f"pi0 target={target!r} is not known; allowed: H, He")
    a_t = _TARGET_A[target]
    t_n = np.asarray(t_n, dtype=float)
    if a_p == 1 and a_t == 1:
        return np.ones_like(t_n)
    s_pp = sigma_p_nucleus_mb(1, t_n)
    return (a_p * sigma_p_nucleus_mb(a_t, t_n) + a_t * sigma_p_nucleus_mb(a_p, t_n)) / (2.0 * s_pp)


# ----------------------------------------------------------------------------------------
# quadrature on the caller's log grid
# ----------------------------------------------------------------------------------------
def log_grid_quadrature(
    t_grid, n_sub: int = 4, index_ref: float = 2.7, name: str = "t_grid", breakpoints=()
):
    """Sub-points and weights that integrate ``int g(T) n(T) dT`` from grid values n_j.

    Between nodes, ``T^s n(T)`` (s = ``index_ref``) is interpolated linearly in ln T, and
    each interval is integrated with ``n_sub`` Gauss-Legendre points in ln T; an interval
    that contains one of ``breakpoints`` (energies where g jumps) is split there, each piece
    with its own ``n_sub`` points.

    Returns
    -------
    t_sub : numpy.ndarray, shape (n_points,)
        Sub-points [GeV], increasing.
    weights : numpy.ndarray, shape (n_points, n_T)
        ``int g n dT ~ sum_s g(t_sub[s]) sum_j weights[s, j] n_j`` [GeV]; row s has its
        non-zero entries in the columns of the two nodes around t_sub[s].
    """
    t = np.asarray(t_grid, dtype=float)
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(t <= 0.0):
        raise ValueError(f"{name} must be a 1-d array of >= 2 positive energies [GeV]")
    if np.any(np.diff(t) <= 0.0):
        raise ValueError(f"{name} must be strictly increasing")
    if int(n_sub) < 1:
        raise ValueError(f"n_sub={n_sub!r} must be >= 1")
    x = np.log(t)
    nodes, w = np.polynomial.legendre.leggauss(int(n_sub))
    g = 0.5 * (nodes + 1.0)  # in (0, 1)
    # pieces [a, b] in ln T with the index of their interval
    cuts = np.log(np.asarray([b for b in breakpoints if t[0] < b < t[-1]], dtype=float))
    edges = np.unique(np.concatenate([x, cuts]))
    a, b = edges[:-1], edges[1:]
    interval = np.clip(np.searchsorted(x, 0.5 * (a + b)) - 1, 0, t.size - 2)
    xs = a[:, None] + (b - a)[:, None] * g[None, :]  # (n_piece, n_sub)
    ts = np.exp(xs)
    ws = 0.5 * (b - a)[:, None] * w[None, :] * ts  # dT = T dx
    h = (x[interval + 1] - x[interval])[:, None]
    u = (xs - x[interval][:, None]) / h
    n_pts = xs.size
    weights = np.zeros((n_pts, t.size))
    rows = np.arange(n_pts)
    left = np.repeat(interval, int(n_sub))
    t_left = t[interval][:, None]
    t_right = t[interval + 1][:, None]
    weights[rows, left] = (ws * (1.0 - u) * (t_left / ts) ** index_ref).ravel()
    weights[rows, left + 1] = (ws * u * (t_right / ts) ** index_ref).ravel()
    return ts.ravel(), weights


def pi0_kernel(
    e_gamma,
    t_n_parent,
    projectile=(1, 1),
    f_he: float = 0.0,
    model: str = "pythia8",
    n_sub: int = 4,
    index_ref: float = 2.7,
) -> np.ndarray:
    """Emissivity kernel K [cm^3 s^-1] of pi0-decay gamma rays per interstellar H atom.

    ``eps(E_gamma) = (1/4 pi) sum_j K[:, j] n(T_j)`` is the emissivity per H atom
    [photons s^-1 sr^-1 GeV^-1] of a projectile density ``n(T_j)`` [cm^-3 (GeV/n)^-1] on
    the gas H + f_he He.  K contains the projectile speed, the cross sections on H and He
    (:func:`nuclear_enhancement`) and the quadrature weights (:func:`log_grid_quadrature`).

    Parameters
    ----------
    e_gamma : array_like, shape (n_gamma,)
        Gamma-ray energies [GeV].
    t_n_parent : array_like, shape (n_T,)
        Increasing log grid of kinetic energy per nucleon [GeV/n].
    projectile : (Z, A)
        Projectile nucleus, protons by default.
    f_he : float
        n_He / n_H of the gas.
    model, n_sub, index_ref
        High-energy model; sub-points per interval; reference index of the interpolation.
    """
    _, a_p = _parse_projectile(projectile)
    f_he = float(f_he)
    if not np.isfinite(f_he) or f_he < 0.0:
        raise ValueError(f"pi0 f_he={f_he!r} must be a finite number >= 0")
    e = np.atleast_1d(np.asarray(e_gamma, dtype=float))
    if e.ndim != 1 or np.any(~np.isfinite(e)) or np.any(e <= 0.0):
        raise ValueError("pi0 e_gamma must be a 1-d array of positive energies [GeV]")
    t_sub, w = log_grid_quadrature(
        t_n_parent, n_sub, index_ref, name="pi0 t_n_parent", breakpoints=_BREAKS_GEV
    )
    mass_n = M_P_GEV if a_p == 1 else AMU_GEV
    v = C_CM_S * np.sqrt(t_sub * (t_sub + 2.0 * mass_n)) / (t_sub + mass_n)
    r = nuclear_enhancement(projectile, "H", t_sub)
    if f_he > 0.0:
        r = r + f_he * nuclear_enhancement(projectile, "He", t_sub)
    ds = dsigma_de_gamma_pp_mb_gev(e[:, None], t_sub[None, :], model) * MB_CM2
    return (ds * (v * r)[None, :]) @ w
