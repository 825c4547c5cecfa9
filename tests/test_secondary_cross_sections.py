"""Secondary antiproton and e+- production, pbar loss and tertiary cross sections.

Checks against kinematics (thresholds, maximum energies), Lorentz invariance, an
independent adaptive quadrature, accelerator data (NA49 multiplicities, PDG pbar p cross
sections) and conservation laws.  Pure functions of energies: serial pass only.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import integrate

from galprop_py.physics import antiprotons as ap
from galprop_py.physics import secondary_leptons as sl
from galprop_py.physics.cross_sections import sigma_pp_inelastic_mb
from galprop_py.units import M_E_GEV, M_P_GEV

pytestmark = pytest.mark.serial

M_P = M_P_GEV
M_PI_CHARGED = 0.13957039  # GeV (PDG)


def _t_from_plab(p):
    return np.hypot(p, M_P) - M_P


def _integral_over_t(func, t_max, n=4000, t_min=1e-5):
    t = np.geomspace(t_min, t_max, n)
    return t, func(t)


# ----------------------------------------------------------------------------------------
# antiproton production: kinematics
# ----------------------------------------------------------------------------------------
def test_pbar_zero_below_threshold_and_open_above():
    t_pbar = np.geomspace(0.01, 10.0, 50)
    t_th = ap.threshold_kinetic_energy_per_nucleon_gev()
    assert t_th == pytest.approx(6.0 * M_P)
    for proj, targ in [((1, 1), "H"), ((1, 1), "He"), ((2, 4), "H"), ((2, 4), "He")]:
        below = ap.dsigma_dt_pbar_mb_gev(t_pbar, 0.999 * t_th, proj, targ)
        assert np.all(below == 0.0)
        above = ap.dsigma_dt_pbar_mb_gev(t_pbar, 1.2 * t_th, proj, targ)
        assert above.max() > 0.0 and np.all(above >= 0.0)


@pytest.mark.parametrize("t_n", [7.0, 20.0, 300.0, 1e4])
def test_pbar_energy_never_exceeds_kinematic_maximum(t_n):
    """The pbar takes at most E*_max in the CM frame; T_pbar <= T_n - 2 m_p (ppp + pbar)."""
    t_max = ap.pbar_max_kinetic_energy_gev(t_n)
    assert 0.0 < t_max <= t_n - 2.0 * M_P
    beyond = ap.dsigma_dt_pbar_mb_gev(t_max * np.array([1.0001, 1.01, 1.5, 10.0]), t_n)
    assert np.all(beyond == 0.0)
    inside = ap.dsigma_dt_pbar_mb_gev(t_max * np.array([0.2, 0.5]), t_n)
    assert np.all(inside > 0.0)


def _dsigma_reference(t_pbar, t_n, a_p=1, a_t=1):
    """Independent adaptive quadrature in theta of 2 pi p int sigma_inv dcos(theta)."""
    s = ap._s_nn(t_n)
    sqrt_s = np.sqrt(s)
    e, p = t_pbar + M_P, np.sqrt(t_pbar * (t_pbar + 2 * M_P))
    gamma = (t_n + 2 * M_P) / sqrt_s
    beta = np.sqrt(t_n * (t_n + 2 * M_P)) / (t_n + 2 * M_P)
    e_max = (s - 8 * M_P**2) / (2 * sqrt_s)
    cos_min = max((e - e_max / gamma) / (beta * p), -1.0)
    if cos_min >= 1.0:
        return 0.0

    def integrand(theta):
        c, sn = np.cos(theta), np.sin(theta)
        e_star = gamma * (e - beta * p * c)
        value = float(ap.invariant_pbar_prompt_pp_mb_gev2(s, e_star, p * sn))
        p_l = gamma * (p * c - beta * e)
        return value * float(ap.nuclear_factor(a_p, a_t, 2 * p_l / sqrt_s)) * sn

    theta_max = np.arccos(cos_min)
    marks = [min(theta_max, k * 0.3 / p) for k in (1, 3, 10)]
    value = integrate.quad(integrand, 0.0, theta_max, limit=500, epsrel=1e-10, points=marks)[0]
    return 2 * np.pi * p * value * (2 + ap.delta_isospin(s) + 2 * ap.delta_hyperon(s))


@pytest.mark.parametrize(
    "t_pbar,t_n", [(0.5, 10.0), (1.0, 8.0), (2.0, 20.0), (10.0, 100.0), (1e3, 1e5), (30.0, 60.0)]
)
def test_pbar_angular_quadrature_matches_adaptive_integration(t_pbar, t_n):
    """Gauss-Legendre in ln(1 - cos) vs scipy adaptive quad in theta: 1e-6 relative."""
    for (z, a), targ, a_t in [((1, 1), "H", 1), ((2, 4), "He", 4)]:
        ours = ap.dsigma_dt_pbar_mb_gev(t_pbar, t_n, (z, a), targ)
        ref = _dsigma_reference(t_pbar, t_n, a, a_t)
        assert ours == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("t_n", [10.0, 157.06])
def test_pbar_lab_integral_equals_cm_phase_space_integral(t_n):
    """Lorentz invariance: int dT dsigma/dT (lab) = int d^3p*/E* sigma_inv (CM), 0.3%."""
    s = ap._s_nn(t_n)
    e_max = (s - 8 * M_P**2) / (2 * np.sqrt(s))
    p_max = np.sqrt(e_max**2 - M_P**2)

    def inner(p_l):
        def f(pt):
            e_star = np.sqrt(M_P**2 + p_l**2 + pt**2)
            return float(ap.invariant_pbar_prompt_pp_mb_gev2(s, e_star, pt)) * pt / e_star

        pt_max = np.sqrt(max(p_max**2 - p_l**2, 0.0))
        return integrate.quad(f, 0.0, pt_max, limit=200, epsrel=1e-8)[0]

    cm = 2 * 2 * np.pi * integrate.quad(inner, 0.0, p_max, limit=200, epsrel=1e-7)[0]
    cm *= 2 + ap.delta_isospin(s) + 2 * ap.delta_hyperon(s)
    t, ds = _integral_over_t(
        lambda x: ap.dsigma_dt_pbar_mb_gev(x, t_n), ap.pbar_max_kinetic_energy_gev(t_n), 6000
    )
    lab = integrate.trapezoid(ds, t)
    assert lab == pytest.approx(cm, rel=3e-3)


# ----------------------------------------------------------------------------------------
# antiproton production: published numbers
# ----------------------------------------------------------------------------------------
def test_prompt_pbar_multiplicity_na49():
    """NA49 p+p at 158 GeV/c: <n_pbar> = 0.0386 (Anticic et al. 2010, EPJC 65, 9; prompt,
    feed-down corrected; the data are part of the Param. II fit).  Tolerance 15%."""
    t_n = _t_from_plab(158.0)
    s = ap._s_nn(t_n)
    t, ds = _integral_over_t(
        lambda x: ap.dsigma_dt_pbar_mb_gev(x, t_n), ap.pbar_max_kinetic_energy_gev(t_n)
    )
    sigma_all = integrate.trapezoid(ds, t)
    prompt = sigma_all / (2 + ap.delta_isospin(s) + 2 * ap.delta_hyperon(s))
    multiplicity = prompt / ap.sigma_in_pp_winkler_mb(np.sqrt(s))
    assert multiplicity == pytest.approx(0.0386, rel=0.15)


def test_pbar_source_term_from_power_law_peaks_near_2_gev():
    """q(T) = int dT_p p^-2.7 dsigma/dT peaks at ~2 GeV (source-term figures of di Mauro
    et al. 2014 and Korsmeier et al. 2018); accepted window 1.5-3 GeV."""
    t_p = np.geomspace(5.7, 1e5, 300)
    t_pbar = np.geomspace(0.1, 100.0, 60)
    flux = (t_p * (t_p + 2 * M_P)) ** (-2.7 / 2)
    q = integrate.trapezoid(
        ap.dsigma_dt_pbar_mb_gev(t_pbar[:, None], t_p[None, :]) * flux, t_p, axis=1
    )
    assert 1.5 <= t_pbar[np.argmax(q)] <= 3.0


def test_pbar_isospin_and_hyperon_factors():
    """Near threshold nbar exceed pbar by ~11% (Winkler 2017), falling at high s;
    Delta_Lambda rises from 0.81*0.31 to 0.81*0.61."""
    s_low, s_high = 16 * M_P**2, 1e7
    assert ap.delta_isospin(s_low) == pytest.approx(0.114, rel=0.05)
    assert ap.delta_isospin(s_high) < 0.2 * ap.delta_isospin(s_low)
    assert ap.delta_hyperon(s_low) == pytest.approx(0.81 * 0.31, rel=0.01)
    assert ap.delta_hyperon(s_high) == pytest.approx(0.81 * 0.61, rel=0.01)


def test_pbar_nuclear_scaling_limits_and_frame_invariance():
    """f = 1 for pp; the total production cross section is frame independent, so
    p + He (He at rest) equals He + p (p at rest) at the same energy per nucleon."""
    x_f = np.linspace(-1, 1, 41)
    assert np.allclose(ap.nuclear_factor(1, 1, x_f), 1.0)
    for t_n in (20.0, 1000.0):
        t_max = ap.pbar_max_kinetic_energy_gev(t_n)
        sig = {}
        t = np.geomspace(1e-5, t_max, 4000)
        for key in [((1, 1), "H"), ((1, 1), "He"), ((2, 4), "H")]:
            sig[key] = integrate.trapezoid(ap.dsigma_dt_pbar_mb_gev(t, t_n, *key), t)
        assert sig[((1, 1), "He")] == pytest.approx(sig[((2, 4), "H")], rel=2e-3)
        assert 2.5 < sig[((1, 1), "He")] / sig[((1, 1), "H")] < 4.5


def test_pbar_broadcasting_and_speed():
    t = np.geomspace(0.1, 1e3, 100)
    t_n = np.geomspace(1.0, 1e5, 100)
    start = time.perf_counter()
    out = ap.dsigma_dt_pbar_mb_gev(t[:, None], t_n[None, :], (2, 4), "He")
    elapsed = time.perf_counter() - start
    assert out.shape == (100, 100) and np.all(np.isfinite(out)) and np.all(out >= 0)
    assert elapsed < 1.0
    row = ap.dsigma_dt_pbar_mb_gev(t[5], t_n)
    assert np.array_equal(row, ap.dsigma_dt_pbar_mb_gev(np.full(100, t[5]), t_n))
    assert np.allclose(row, ap.dsigma_dt_pbar_mb_gev(t[:, None], t_n[None, :])[5], rtol=0)


# ----------------------------------------------------------------------------------------
# antiproton losses and tertiaries
# ----------------------------------------------------------------------------------------
# PDG compilation (pbar p total and elastic, as distributed with CRXS): p_lab [GeV/c],
# sigma_tot (Abrams 70, Galbraith 65, Carroll 76, Carroll 76), sigma_el (Coupland 77,
# Johnson 80, Ayres 76, Ward 79) [mb]
_PDG_PBAR_P = [(2.0, 90.23, 32.4), (12.0, 51.7, 11.34), (50.0, 43.93, 8.2), (100.0, 42.12, 7.39)]


@pytest.mark.parametrize("p_lab,sigma_tot,sigma_el", _PDG_PBAR_P)
def test_pbar_total_inelastic_against_pdg_data(p_lab, sigma_tot, sigma_el):
    """sigma_inel = sigma_tot - sigma_el (PDG data), tolerance 8%."""
    ours = ap.sigma_pbar_total_inelastic_mb(_t_from_plab(p_lab))
    assert ours == pytest.approx(sigma_tot - sigma_el, rel=0.08)


def test_pbar_loss_cross_sections_consistent():
    t = np.geomspace(0.02, 1e4, 300)
    ann = ap.sigma_pbar_annihilation_mb(t)
    non = ap.sigma_pbar_inelastic_nonannihilating_mb(t)
    assert np.all(ann > 0) and np.all(non >= 0)
    assert np.allclose(ap.sigma_pbar_total_inelastic_mb(t), ann + non)
    assert np.all(ann[t < 0.5] > non[t < 0.5])  # annihilation dominates at low energy
    assert np.all(non[t > 20] > 3 * ann[t > 20])  # and is small at high energy
    # Tan & Ng fit itself (below 13.3 GeV): 24.7 (1 + 0.584 T^-0.115 + 0.856 T^-0.566)
    t_low = np.array([0.1, 1.0, 10.0])
    fit = 24.7 * (1 + 0.584 * t_low**-0.115 + 0.856 * t_low**-0.566)
    assert np.allclose(ap.sigma_pbar_total_inelastic_mb(t_low), fit, rtol=1e-12)
    # the piecewise definitions (annihilation at 15.5 GeV, non-annihilating at 13.3 GeV)
    # join within 5%
    for t_sw, func in (
        (15.5, ap.sigma_pbar_annihilation_mb),
        (13.3, ap.sigma_pbar_inelastic_nonannihilating_mb),
    ):
        lo, hi = func(np.array([t_sw * (1 - 1e-6), t_sw * (1 + 1e-6)]))
        assert hi == pytest.approx(lo, rel=0.05)


def test_tertiary_redistribution_conserves_number_and_halves_energy():
    t_in = 7.0
    t_out = np.linspace(0.0, 10.0, 100001)
    ds = ap.dsigma_dt_tertiary_mb_gev(t_out, t_in)
    sigma_non = ap.sigma_pbar_inelastic_nonannihilating_mb(t_in)
    assert integrate.trapezoid(ds, t_out) == pytest.approx(sigma_non, rel=1e-3)
    mean = integrate.trapezoid(ds * t_out, t_out) / integrate.trapezoid(ds, t_out)
    assert mean == pytest.approx(t_in / 2, rel=1e-3)
    assert np.all(ds[t_out > t_in] == 0.0) and ds[0] == 0.0


# ----------------------------------------------------------------------------------------
# secondary leptons
# ----------------------------------------------------------------------------------------
def _lepton_integrals(t_p, charge, projectile=(1, 1), target="H"):
    t = np.geomspace(1e-5, t_p, 6000)
    ds = sl.dsigma_dt_lepton_mb_gev(t, t_p, charge, projectile, target)
    return integrate.trapezoid(ds, t), integrate.trapezoid(ds * t, t)


def test_leptons_zero_below_pion_threshold_and_above_available_energy():
    """No e+- below the pi+ production threshold; E_e <= T_p (energy conservation)."""
    t_th = ((2 * M_P + M_PI_CHARGED) ** 2 - 4 * M_P**2) / (2 * M_P)  # pp -> pp pi+ pi- is higher
    t_e = np.geomspace(1e-4, 10.0, 60)
    for q in (1, -1):
        assert np.all(sl.dsigma_dt_lepton_mb_gev(t_e, 0.99 * t_th, q) == 0.0)
        for t_p in (1.0, 30.0, 1e4):
            beyond = sl.dsigma_dt_lepton_mb_gev(t_p * np.array([1.0, 1.1, 3.0]), t_p, q)
            assert np.all(beyond == 0.0)
            inside = sl.dsigma_dt_lepton_mb_gev(np.array([0.01, 0.1]) * t_p, t_p, q)
            assert np.all(inside > 0.0)


def test_lepton_multiplicities_against_na49():
    """p+p at 158 GeV/c: every pi+ and K+ ends as one e+ (pi -> mu -> e; K mostly via mu or
    pi), likewise pi-, K- for e-.  NA49: <pi+> = 3.018, <pi-> = 2.360 (Alt et al. 2006,
    EPJC 45, 343), <K+> = 0.227, <K-> = 0.130 (Anticic et al. 2010, EPJC 68, 1).
    Tolerance 15% (neglects K0 and hyperon decays, ~5%)."""
    t_p = _t_from_plab(158.0)
    sigma = sigma_pp_inelastic_mb(t_p)
    n_pos = _lepton_integrals(t_p, +1)[0] / sigma
    n_ele = _lepton_integrals(t_p, -1)[0] / sigma
    assert n_pos == pytest.approx(3.018 + 0.227, rel=0.15)
    assert n_ele == pytest.approx(2.360 + 0.130, rel=0.15)


@pytest.mark.parametrize("t_p", [1.0, 3.0, 30.0, 1e3, 1e5])
def test_lepton_charge_balance_and_energy_bound(t_p):
    """pp has charge +2: e+ exceed e-.  Energy: e+- get on average 0.787 * 0.35 = 0.28 of
    the parent pion energy (pi -> mu nu, mu -> e nu nu), and pions carry less than T_p,
    so int T (e+ + e-) dsigma/dT < 0.3 sigma_inel T_p."""
    n_pos, e_pos = _lepton_integrals(t_p, +1)
    n_ele, e_ele = _lepton_integrals(t_p, -1)
    assert n_pos > n_ele > 0.0
    assert e_pos + e_ele < 0.3 * sigma_pp_inelastic_mb(t_p) * t_p


def test_electrons_suppressed_below_pi_minus_threshold():
    """pp -> pp pi+ pi- opens at T_p = 4 m_pi + 2 m_pi^2/m_p = 0.60 GeV: below it only
    e+ are allowed; the fit's leakage must stay below 2% of e+."""
    t_p = 0.5
    n_pos = _lepton_integrals(t_p, +1)[0]
    n_ele = _lepton_integrals(t_p, -1)[0]
    assert n_pos > 0.0 and n_ele < 0.02 * n_pos


def test_lepton_nuclear_factor_against_fitted_pbar_scaling():
    """Wounded-nucleon factor for p-He is 1 for pp and within 15% of the p-He/p-p ratio of
    the pbar cross sections, whose A scaling was fitted to LHCb p-He data."""
    t_n = np.array([20.0, 100.0, 1000.0])
    assert np.allclose(sl.wounded_nucleon_factor(t_n, (1, 1), "H"), 1.0)
    wn = sl.wounded_nucleon_factor(t_n, (1, 1), "He")
    for t_i, w in zip(t_n, wn, strict=True):
        t = np.geomspace(1e-5, ap.pbar_max_kinetic_energy_gev(t_i), 4000)
        on_he = integrate.trapezoid(ap.dsigma_dt_pbar_mb_gev(t, t_i, (1, 1), "He"), t)
        on_h = integrate.trapezoid(ap.dsigma_dt_pbar_mb_gev(t, t_i), t)
        assert w == pytest.approx(on_he / on_h, rel=0.15)
    # He-He: (4 sigma_pHe + 4 sigma_pHe) / (2 sigma_pp); p-He: (sigma_pHe + 4 sigma_pp) / ...
    sigma_phe_over_pp = 2 * wn[1] - 4
    he_he = sl.wounded_nucleon_factor(100.0, (2, 4), "He")
    assert he_he == pytest.approx(4 * sigma_phe_over_pp, rel=1e-12)


def test_lepton_scaling_extrapolation_is_continuous():
    t = np.array([1.0, 100.0, 1e4])
    below = sl.dsigma_dt_lepton_mb_gev(t, 511999.0, +1)
    above = sl.dsigma_dt_lepton_mb_gev(t, 512001.0, +1)
    assert np.allclose(above, below, rtol=1e-3)


def test_lepton_broadcasting_speed_and_mass():
    t = np.geomspace(1e-3, 1e4, 100)
    t_n = np.geomspace(0.3, 1e6, 100)
    start = time.perf_counter()
    out = sl.dsigma_dt_lepton_mb_gev(t[:, None], t_n[None, :], -1, (2, 4), "He")
    assert time.perf_counter() - start < 1.0
    assert out.shape == (100, 100) and np.all(np.isfinite(out)) and np.all(out >= 0)
    # dsigma/dT = (dsigma/dlnE) / E with E = T + m_e
    e = 0.05 + M_E_GEV
    assert sl.dsigma_dt_lepton_mb_gev(0.05, 10.0, 1) == pytest.approx(
        sl.dsigma_dlne_pp_mb(e, 10.0, 1) / e, rel=1e-12
    )


# ----------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------
def test_bad_input_messages():
    with pytest.raises(ValueError, match="target='C'"):
        ap.dsigma_dt_pbar_mb_gev(1.0, 10.0, target="C")
    with pytest.raises(ValueError, match="projectile=\\(0, 1\\)"):
        ap.dsigma_dt_pbar_mb_gev(1.0, 10.0, projectile=(0, 1))
    with pytest.raises(ValueError, match="projectile='He'"):
        sl.dsigma_dt_lepton_mb_gev(1.0, 10.0, projectile="He")
    with pytest.raises(ValueError, match="charge=0"):
        sl.dsigma_dt_lepton_mb_gev(1.0, 10.0, charge=0)
    with pytest.raises(ValueError, match="target='D'"):
        sl.dsigma_dt_lepton_mb_gev(1.0, 10.0, target="D")
