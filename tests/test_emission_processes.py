"""Photon emission processes (issue 9): pi0 decay, inverse Compton, bremsstrahlung, synchrotron.

Every check is against an analytic solution, a published number or an independent code
(naima 0.10, Zabalza 2015, whose models are written from the same papers but independently):

* pi0: naima PionDecay with the Kafexhiu et al. 2014 Pythia8 model (naima's default
  ``hiEmodel``, transition at 50 GeV, as ours), ``nuclear_enhancement=False``,
  ``useLUT=False``; naima multiplies by c instead of v, so it is given n(T) beta(T).
  Photon number (pi0 -> 2 gamma) within the paper's quoted accuracy.
* IC: Rybicki & Lightman eq. 7.31 (Thomson limit, power law on a black body);
  Blumenthal & Gould 1970 extreme Klein-Nishina loss asymptote; energy_losses' independent
  G(b) table; naima InverseCompton (Khangulyan, Aharonian & Kelner 2014 approximations).
* bremsstrahlung: BG70 complete-screening phi_1(0), phi_2(0) for H; Tsai 1974 radiation
  logarithms (energy_losses.BREMS_STRONG_*); the unshielded limit; naima Bremsstrahlung on
  ionised hydrogen (Baring et al. 1999 e-e plus Bethe-Heitler e-p).
* synchrotron: numerical pitch-angle average of F(x); Rybicki & Lightman eqs. 6.35-6.36
  with the isotropic average of sin(alpha)^((p+1)/2); naima Synchrotron (Aharonian, Kelner &
  Prosekin 2010 random-field approximation); energy_losses.synchrotron_loss.
"""

from __future__ import annotations

import math

import astropy.units as u
import naima
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gamma as gamma_fn
from scipy.special import kv, zeta

from galprop_py import observations
from galprop_py.emission import bremsstrahlung as br
from galprop_py.emission import inverse_compton as ic
from galprop_py.emission import pi0
from galprop_py.emission import synchrotron as sy
from galprop_py.physics import energy_losses as el
from galprop_py.units import (
    ALPHA_FS,
    AMU_GEV,
    C_CM_S,
    E_CHARGE_ESU,
    EV_GEV,
    GAUSS_PER_MICROGAUSS,
    GEV_ERG,
    H_PLANCK_EV_S,
    K_B_EV_K,
    M_E_G,
    M_E_GEV,
    M_P_GEV,
    R_E_CM,
)

pytestmark = pytest.mark.serial  # no MPI in these kernels

T_CMB = 2.7255  # K (Fixsen 2009)


class _Dist:
    """naima particle distribution dN/dE (E total energy) from a function of kinetic energy."""

    def __init__(self, mass_gev, fn):
        self.mass, self.fn = mass_gev, fn

    def __call__(self, e):
        t = np.maximum(e.to_value(u.GeV) - self.mass, 1e-30)
        return self.fn(t) / u.GeV


def _beta(t, m):
    return np.sqrt(t * (t + 2 * m)) / (t + m)


# ----------------------------------------------------------------------------------------
# pi0
# ----------------------------------------------------------------------------------------
def test_pi0_cross_section_against_naima_kafexhiu():
    """dsigma/dE_gamma against naima's independent KATV14 code (Pythia8): 0.5 %."""
    model = naima.models.PionDecay(
        naima.models.PowerLaw(1 / u.eV, 1 * u.TeV, 2.7), nuclear_enhancement=False, useLUT=False
    )
    for t_p in [0.35, 0.6, 0.9, 1.5, 3.0, 4.5, 8.0, 30.0, 70.0, 300.0, 1e4, 1e5]:
        e_max = float(pi0.e_gamma_max(t_p))
        eg = np.geomspace(0.03, 0.98 * e_max, 6)
        mine = pi0.dsigma_de_gamma_pp_mb_gev(eg, t_p)
        ref = np.array([model._diffsigma(np.array([t_p + M_P_GEV]), e)[0] for e in eg]) * 1e27
        keep = ref > 0
        assert keep.sum() >= 3
        np.testing.assert_allclose(mine[keep], ref[keep], rtol=5e-3)


def test_pi0_photon_number_is_two_per_pion():
    """pi0 -> 2 gamma: int dsigma/dE dE = 2 sigma_pi within 15 % (KATV14 quote <= 20 %)."""
    for t_p in [0.3, 0.5, 1.5, 3.0, 4.5, 15.0, 60.0, 1e3, 1e5]:
        e_max = float(pi0.e_gamma_max(t_p))
        n = quad(
            lambda e, tp=t_p: float(pi0.dsigma_de_gamma_pp_mb_gev(e, tp)),
            1e-6,
            e_max,
            limit=400,
            points=[pi0.M_PI0_GEV / 2],
        )[0]
        assert n / (2 * float(pi0.sigma_pi0_mb(t_p))) == pytest.approx(1.0, abs=0.15)


def test_pi0_emissivity_against_naima():
    """Power-law protons: emissivity per H atom equals naima's to 1 % for 1-1000 GeV."""
    t = np.geomspace(0.1, 1e6, 121)  # ratio 1.2

    def spec(tt):
        return 1e-9 * (tt / 10.0) ** -2.7

    eg = np.geomspace(1.0, 1000.0, 7)
    mine = pi0.pi0_kernel(eg, t) @ spec(t) / (4 * np.pi)
    model = naima.models.PionDecay(
        _Dist(M_P_GEV, lambda tt: spec(tt) * _beta(tt, M_P_GEV)),
        nh=1 / u.cm**3,
        nuclear_enhancement=False,
        useLUT=False,
        Epmax=1e6 * u.GeV,
    )
    ref = model.flux(eg * u.GeV, distance=0).to_value(1 / (u.s * u.GeV)) / (4 * np.pi)
    np.testing.assert_allclose(mine, ref, rtol=0.01)


@pytest.mark.parametrize("slope", [2.0, 2.7, 3.3])
def test_pi0_quadrature_on_a_coarse_grid(slope):
    """Ratio-1.2 grid, 4 sub-points, vs a ratio-1.02 grid with 8: 0.2 % for 0.1 GeV-1 TeV."""
    eg = np.geomspace(0.1, 1000.0, 5)
    coarse = np.geomspace(0.3, 1e6, 75)
    fine = np.geomspace(0.3, 1e6, 700)
    a = pi0.pi0_kernel(eg, coarse, n_sub=4) @ coarse**-slope
    b = pi0.pi0_kernel(eg, fine, n_sub=8) @ fine**-slope
    np.testing.assert_allclose(a, b, rtol=2e-3)


def test_nuclear_enhancement_structure():
    """R = 1 for pp; symmetric in projectile/target; He on H = p on He; f_he adds He."""
    t = np.array([0.5, 1.0, 10.0, 1e3, 1e5])
    np.testing.assert_array_equal(pi0.nuclear_enhancement((1, 1), "H", t), 1.0)
    np.testing.assert_allclose(
        pi0.nuclear_enhancement((2, 4), "H", t), pi0.nuclear_enhancement((1, 1), "He", t)
    )
    r = pi0.nuclear_enhancement((2, 4), "H", t)
    # above 10 GeV/n a He nucleus (4 nucleons) yields between A^(2/3) and A times pp
    assert np.all(r[2:] > 4 ** (2 / 3)) and np.all(r[2:] < 4.0)
    # held below 1 GeV/n
    assert r[0] == r[1]
    eg = np.array([1.0, 10.0])
    tt = np.geomspace(0.3, 1e5, 60)
    ratio = (pi0.pi0_kernel(eg, tt, f_he=0.1) @ tt**-2.7) / (pi0.pi0_kernel(eg, tt) @ tt**-2.7)
    r_he = pi0.nuclear_enhancement((1, 1), "He", tt)
    assert np.all(ratio - 1 > 0.1 * r_he.min()) and np.all(ratio - 1 < 0.1 * r_he.max())


def _lis_from_data(low_name, high_name, z_over_a, mass, t, phi_gv=0.65):
    """Voyager 1 below 0.35 GeV/n joined log-log to AMS-02 demodulated with the force field
    (phi = 0.65 GV, the README's 0.6-0.7 GV for the 2011-2013 data); power law above."""
    lo, hi = observations.load(low_name), observations.load(high_name)
    t_lis = hi.x + z_over_a * phi_gv
    j_lis = hi.y * t_lis * (t_lis + 2 * mass) / (hi.x * (hi.x + 2 * mass))
    x, y = np.r_[lo.x, t_lis], np.r_[lo.y, j_lis]
    slope = np.polyfit(np.log(x[-8:]), np.log(y[-8:]), 1)[0]
    j = np.exp(np.interp(np.log(t), np.log(x), np.log(y)))
    j = np.where(t > x[-1], y[-1] * (t / x[-1]) ** slope, j)
    beta = np.sqrt(t * (t + 2 * mass)) / (t + mass)
    return 4 * np.pi * j * 1e-4 / (beta * C_CM_S)  # m^-2 -> cm^-2; n = 4 pi J / v


def test_local_emissivity_per_h_atom_fermi():
    """Local HI emissivity above 300 MeV: Abdo et al. 2009 (ApJ 703, 1249, abstract)
    measured (0.66 +- 0.02) e-26 photons s^-1 sr^-1 per H atom (+-10 % syst).  Model: pi0
    from p and He (LIS from Voyager 1 + demodulated AMS-02) on H + 0.1 He, plus
    bremsstrahlung of AMS-02 e-/e+ (none below 1.2 GeV).  Z > 2 nuclei (~5-10 %) and the
    low-energy electrons are missing, so the model lies below: agree within 25 %
    (KATV14 <= 20 %, data 10 % syst)."""
    t = np.geomspace(0.3, 1e5, 120)
    n_p = _lis_from_data("voyager1_proton", "ams02_proton", 1.0, M_P_GEV, t)
    n_he = _lis_from_data("voyager1_helium", "ams02_helium", 0.5, AMU_GEV, t)
    eg = np.geomspace(0.3, 1e3, 120)
    q = pi0.pi0_kernel(eg, t, (1, 1), 0.1) @ n_p + pi0.pi0_kernel(eg, t, (2, 4), 0.1) @ n_he
    te = np.geomspace(1e-2, 1e4, 120)
    n_e = 0.0
    for name in ("ams02_electron", "ams02_positron"):
        d = observations.load(name)
        e_lis = d.x + 0.65
        j = np.exp(np.interp(np.log(te), np.log(e_lis), np.log(d.y * (e_lis / d.x) ** 2)))
        n_e = n_e + np.where(te < e_lis[0], 0.0, 4 * np.pi * j * 1e-4 / C_CM_S)
    q = (
        q
        + (br.bremsstrahlung_kernel(eg, te, "HI") + 0.1 * br.bremsstrahlung_kernel(eg, te, "He"))
        @ n_e
    )
    q_300 = np.trapezoid(q * eg, np.log(eg)) / (4 * np.pi)
    assert q_300 == pytest.approx(0.66e-26, rel=0.25)


def test_pi0_bad_input():
    with pytest.raises(ValueError, match="model"):
        pi0.dsigma_de_gamma_pp_mb_gev(1.0, 10.0, model="epos")
    with pytest.raises(ValueError, match="target"):
        pi0.nuclear_enhancement((1, 1), "C", 10.0)
    with pytest.raises(ValueError, match="f_he"):
        pi0.pi0_kernel([1.0], np.geomspace(1, 10, 5), f_he=-0.1)
    with pytest.raises(ValueError, match="t_n_parent"):
        pi0.pi0_kernel([1.0], [10.0, 1.0])
    with pytest.raises(ValueError, match="projectile"):
        pi0.pi0_kernel([1.0], np.geomspace(1, 10, 5), projectile=(3, 2))


# ----------------------------------------------------------------------------------------
# inverse Compton
# ----------------------------------------------------------------------------------------
def _cmb(n=121):
    eps = np.geomspace(1e-7, 1e-1, n)
    return eps, ic.black_body_density(eps, T_CMB)


def test_black_body_energy_density():
    """U = a T^4 = 0.26057 eV cm^-3 at 2.7255 K (a = 4.7220e-3 eV cm^-3 K^-4)."""
    eps, dens = _cmb(1201)
    u_bb = np.trapezoid(eps**2 * dens, np.log(eps))
    assert u_bb == pytest.approx(4.72205e-3 * T_CMB**4, rel=1e-4)


def test_ic_thomson_limit_against_rybicki_lightman():
    """Power-law electrons on the CMB, Thomson limit: R&L eq. 7.31 to 0.3 %."""
    eps, dens = _cmb()
    p = 3.0
    t = np.geomspace(1e-3, 1e5, 161)
    n = (t + M_E_GEV) ** -p  # exactly C gamma^-p per unit gamma with C = m_e^(1-p)
    eg = np.geomspace(1e-6, 1e-2, 5)  # 1 keV - 10 MeV
    mine = ic.ic_kernel(eg, t, eps, dens) @ n
    c_gamma = M_E_GEV ** (1 - p)
    kt = K_B_EV_K * T_CMB * EV_GEV
    hc = H_PLANCK_EV_S * C_CM_S * EV_GEV
    bb = 8 * math.pi / hc**3 * kt ** ((p + 5) / 2) * gamma_fn((p + 5) / 2) * zeta((p + 5) / 2)
    coef = (p * p + 4 * p + 11) / ((p + 3) ** 2 * (p + 5) * (p + 1))
    power = math.pi * C_CM_S * R_E_CM**2 * 2 ** (p + 3) * coef * c_gamma * eg ** (-(p - 1) / 2) * bb
    np.testing.assert_allclose(mine, power / eg, rtol=3e-3)


def test_ic_power_equals_loss_rates():
    """Emitted power of one electron = Thomson loss (gamma <= 1e4) and = the KN loss of
    energy_losses (independent G(b) table) for gamma up to 1e8 on the CMB: 1 %."""
    eps, dens = _cmb()
    u_bb = np.trapezoid(eps**2 * dens, np.log(eps))
    gam = np.array([1e3, 1e4, 1e6, 1e8])
    p = np.sqrt(gam**2 - 1) * M_E_GEV
    powers = []
    for g in gam:
        e_e = g * M_E_GEV
        e1 = np.unique(np.r_[np.geomspace(1e-16, 0.5, 2000), 1 - np.geomspace(0.5, 1e-12, 1500)])
        s = ic.ic_spectrum_per_electron(e1 * e_e, [g], eps, dens)[:, 0]
        powers.append(np.trapezoid(s * e1 * e_e, e1 * e_e))
    powers = np.array(powers)
    np.testing.assert_allclose(powers[:2], el.inverse_compton_thomson_loss(p[:2], u_bb), rtol=1e-3)
    np.testing.assert_allclose(powers, el.inverse_compton_kn_loss(p, [T_CMB], [u_bb]), rtol=0.01)


@pytest.mark.parametrize("b", [1e3, 1e4])
def test_ic_klein_nishina_asymptote(b):
    """Deep KN on a black body: P / P_Thomson -> 45 (ln b - 5/6 - C_E - C_l) / (4 pi^2 b^2)
    (Blumenthal & Gould 1970, b = 4 gamma k T / m c^2): 1 % at b = 1e3, 0.3 % at 1e4."""
    t_k = 1e4
    kt = K_B_EV_K * t_k
    eps = np.geomspace(1e-4 * kt, 50 * kt, 150)
    dens = ic.black_body_density(eps, t_k)
    u_bb = np.trapezoid(eps**2 * dens, np.log(eps))
    g = b * M_E_GEV / EV_GEV / (4 * kt)
    e_e = g * M_E_GEV
    e1 = np.unique(np.r_[np.geomspace(1e-14, 0.5, 2000), 1 - np.geomspace(0.5, 1e-14, 2000)])
    s = ic.ic_spectrum_per_electron(e1 * e_e, [g], eps, dens)[:, 0]
    ratio = np.trapezoid(s * e1 * e_e, e1 * e_e) / el.inverse_compton_thomson_loss(e_e, u_bb)
    c_e, c_l = 0.5772156649, 0.5699609309
    asym = 45 / (4 * math.pi**2 * b**2) * (math.log(b) - 5 / 6 - c_e - c_l)
    assert ratio == pytest.approx(asym, rel=0.01 if b < 5e3 else 3e-3)


@pytest.mark.parametrize("seed", ["CMB", "star"])
def test_ic_against_naima(seed):
    """Power-law electrons on the CMB (Thomson to KN) and on a 5000 K grey body of
    1 eV cm^-3 (deep KN above 100 GeV): naima to 2 %."""
    if seed == "CMB":
        t_k, w, fields = T_CMB, 1.0, ["CMB"]
    else:
        t_k = 5000.0
        u1 = 4.72205e-3 * t_k**4
        w, fields = 1.0 / u1, [["star", t_k * u.K, 1 * u.eV / u.cm**3]]
    kt = K_B_EV_K * t_k
    eps = np.geomspace(1e-4 * kt, 50 * kt, 150)
    dens = ic.black_body_density(eps, t_k, dilution=w)
    p = 2.8
    t = np.geomspace(1e-3, 1e5, 161)
    model = naima.models.InverseCompton(
        _Dist(M_E_GEV, lambda tt: tt**-p),
        seed_photon_fields=fields,
        Eemin=1.1e-3 * u.GeV,
        Eemax=1e5 * u.GeV,
        nEed=300,
    )
    eg = np.geomspace(1e-5, 1e3, 9)  # electrons end at 1e5 GeV
    ref = model.flux(eg * u.GeV, distance=0).to_value(1 / (u.s * u.GeV))
    mine = ic.ic_kernel(eg, t, eps, dens) @ t**-p
    np.testing.assert_allclose(mine, ref, rtol=0.02)


def test_ic_bad_input():
    eps, dens = _cmb(11)
    with pytest.raises(ValueError, match="t_kelvin"):
        ic.black_body_density(eps, -3.0)
    with pytest.raises(ValueError, match="photon_density_per_ev_cm3"):
        ic.ic_kernel([1.0], np.geomspace(1, 10, 4), eps, dens[:-1])
    with pytest.raises(ValueError, match="photon_energy_ev"):
        ic.ic_kernel([1.0], np.geomspace(1, 10, 4), eps[::-1], dens)


# ----------------------------------------------------------------------------------------
# bremsstrahlung
# ----------------------------------------------------------------------------------------
def test_brems_complete_screening_hydrogen_bg70():
    """phi_1(0) = 45.79, phi_2(0) = 44.46 for H (BG70 section 3.2): 0.2 %."""
    phi1, phi2 = br.screening_functions(1e-10, "HI")
    assert phi1 == pytest.approx(45.79, rel=2e-3)
    assert phi2 == pytest.approx(44.46, rel=2e-3)


@pytest.mark.parametrize("target,tsai", [("HI", el.BREMS_STRONG_H), ("He", el.BREMS_STRONG_HE)])
def test_brems_radiation_integral_matches_tsai(target, tsai):
    """int eps dsigma = 4 alpha r_e^2 E [phi_1/3 - phi_2/12] equals Tsai 1974's
    Z^2 (L_rad - f) + Z L'_rad + (Z^2 + Z)/18 (H: 11.565, He: 30.73): 0.5 %."""
    te = 1e3
    e_i = te + M_E_GEV
    eg = np.linspace(0.0, te, 200001)[1:-1]
    ds = br.dsigma_de_gamma_brems_cm2_gev(eg, te, target)
    integral = np.trapezoid(ds * eg, eg) / (4 * ALPHA_FS * R_E_CM**2 * e_i)
    assert integral == pytest.approx(tsai, rel=5e-3)


def test_brems_high_energy_limit():
    """E dsigma/dE at E << E_e, complete screening: 4 alpha r_e^2 (phi_1/2 - phi_2/6) with
    BG70's phi(0) for H: a constant, 0.3 %."""
    te = np.array([1e2, 1e3, 1e4])
    eg = 1e-4 * te
    val = eg * br.dsigma_de_gamma_brems_cm2_gev(eg, te, "HI")
    ref = 4 * ALPHA_FS * R_E_CM**2 * (45.79 / 2 - 44.46 / 6)
    np.testing.assert_allclose(val, ref, rtol=3e-3)


def test_brems_weak_shielding_equals_ionised():
    """delta >> alpha (low E_e, E_gamma ~ E_e): atomic electrons act as free ones, HI = HII
    (unshielded BG70 eq. 3.1 with Z^2 + Z = 2): 1 %."""
    te = np.array([2.0, 5.0, 10.0]) * M_E_GEV
    eg = 0.5 * te
    np.testing.assert_allclose(
        br.dsigma_de_gamma_brems_cm2_gev(eg, te, "HI"),
        br.dsigma_de_gamma_brems_cm2_gev(eg, te, "HII"),
        rtol=0.01,
    )


def test_brems_against_naima_ionised():
    """Ionised hydrogen, power-law electrons: naima (e-p + e-e) to 1 % for 0.1-1000 GeV."""
    p = 2.5
    t = np.geomspace(1e-3, 1e5, 161)
    model = naima.models.Bremsstrahlung(
        _Dist(M_E_GEV, lambda tt: (tt + M_E_GEV) ** -p),
        n0=1 / u.cm**3,
        Eemin=1.001 * M_E_GEV * u.GeV,
        Eemax=1e5 * u.GeV,
        nEed=400,
    )
    model.weight_ee = 1.0
    model.weight_ep = 1.0
    eg = np.geomspace(0.1, 1e3, 5)
    ref = model.flux(eg * u.GeV, distance=0).to_value(1 / (u.s * u.GeV))
    mine = br.bremsstrahlung_kernel(eg, t, "HII") @ (t + M_E_GEV) ** -p
    np.testing.assert_allclose(mine, ref, rtol=0.01)


def test_brems_power_equals_loss_rate():
    """Radiated power = energy_losses.electron_bremsstrahlung_loss in complete screening
    (gamma >= 2e5) for H and He: 1 %."""
    for te in [1e2, 1e4]:
        eg = np.linspace(0.0, te, 100001)[1:-1]
        mom = math.sqrt(te * (te + 2 * M_E_GEV))
        p_h = C_CM_S * np.trapezoid(br.dsigma_de_gamma_brems_cm2_gev(eg, te, "HI") * eg, eg)
        p_he = C_CM_S * np.trapezoid(br.dsigma_de_gamma_brems_cm2_gev(eg, te, "He") * eg, eg)
        loss_h = el.electron_bremsstrahlung_loss(mom, 1.0, 0.0)
        loss_he = el.electron_bremsstrahlung_loss(mom, 1.0, 1.0) - loss_h
        assert p_h == pytest.approx(float(loss_h), rel=0.01)
        assert p_he == pytest.approx(float(loss_he), rel=0.01)


def test_brems_bad_input():
    with pytest.raises(ValueError, match="target"):
        br.bremsstrahlung_kernel([1.0], np.geomspace(1, 10, 4), "H2")


# ----------------------------------------------------------------------------------------
# synchrotron
# ----------------------------------------------------------------------------------------
def test_synchrotron_pitch_average_closed_form():
    """Crusius & Schlickeiser R(x) = int_0^pi/2 sin^2 a F(x / sin a) da numerically: 1e-6."""

    def f_sync(x):
        return x * quad(lambda s: kv(5 / 3, s), x, np.inf, limit=200)[0]

    for x in [1e-3, 0.1, 1.0, 5.0]:
        num = quad(lambda a, xx=x: np.sin(a) ** 2 * f_sync(xx / np.sin(a)), 1e-9, np.pi / 2)[0]
        assert float(sy.pitch_averaged_kernel(x)) == pytest.approx(num, rel=1e-6)


def _power_law_rl(nu, p, c_gamma, b_mug):
    """R&L eqs. 6.35-6.36 per unit frequency, averaged over isotropic pitch angles, per sr."""
    b = b_mug * GAUSS_PER_MICROGAUSS
    nu_c0 = 3 * E_CHARGE_ESU * b / (4 * math.pi * M_E_G * C_CM_S)
    mu = (p - 3) / 2
    mom = 2 ** (mu + 1) / (mu + 2) * gamma_fn(mu / 2 + 7 / 3) * gamma_fn(mu / 2 + 2 / 3)
    avg = math.sqrt(math.pi) / 2 * gamma_fn((p + 5) / 4) / gamma_fn((p + 7) / 4)
    p0 = math.sqrt(3) * E_CHARGE_ESU**3 * b / (M_E_G * C_CM_S**2)
    return p0 * c_gamma * 0.5 * (nu / nu_c0) ** ((1 - p) / 2) * mom * avg / (4 * math.pi)


@pytest.mark.parametrize("p", [2.2, 3.0])
def test_synchrotron_power_law_against_rybicki_lightman(p):
    """Power-law electrons in 3 muG, 0.1-100 GHz: R&L 6.36 with pitch average to 0.3 %."""
    t = np.geomspace(1e-3, 1e4, 141)
    n = (t + M_E_GEV) ** -p
    nu = np.geomspace(1e8, 1e11, 7)
    mine = sy.synchrotron_emissivity(nu, t, n, 3.0)
    ref = _power_law_rl(nu, p, M_E_GEV ** (1 - p), 3.0)
    np.testing.assert_allclose(mine, ref, rtol=3e-3)


def test_synchrotron_against_naima():
    """naima Synchrotron (random field) to 1 %."""
    p = 3.0
    t = np.geomspace(1e-3, 1e4, 141)
    nu = np.geomspace(1e7, 1e12, 6)
    mine = sy.synchrotron_emissivity(nu, t, t**-p, 3.0)
    model = naima.models.Synchrotron(
        _Dist(M_E_GEV, lambda tt: tt**-p), B=3e-6 * u.G, Eemin=1.1e-3 * u.GeV, Eemax=1e4 * u.GeV
    )
    e_ph = (nu * u.Hz).to(u.eV, equivalencies=u.spectral())
    sed = model.flux(e_ph, distance=0) * e_ph * (e_ph / (nu * u.Hz))
    ref = sed.to_value(u.erg / u.s / u.Hz) / (4 * math.pi)
    np.testing.assert_allclose(mine, ref, rtol=0.01)


def test_synchrotron_power_equals_loss_rate():
    """int <P> d nu = (4/3) sigma_T c gamma^2 beta^2 U_B (energy_losses.synchrotron_loss): 1e-3."""
    for g, b in [(1e3, 3.0), (1e5, 10.0)]:
        nu = np.geomspace(1e-6, 1e3, 4000) * float(sy.nu_critical_hz(g, b))
        pw = np.trapezoid(sy.synchrotron_power_per_electron(nu, g, b) * nu, np.log(nu))
        loss = el.synchrotron_loss(math.sqrt(g * g - 1) * M_E_GEV, b) * GEV_ERG  # erg/s
        assert pw == pytest.approx(float(loss), rel=1e-3)


def test_synchrotron_cells_match_single_cell():
    """numba cell kernel = exact single-cell emissivity (table interpolation): 1e-3."""
    t = np.geomspace(1e-3, 1e4, 81)
    rng = np.random.default_rng(3)
    n = np.exp(-np.log(t)[None, None, :] * rng.uniform(2.0, 3.5, (2, 3, 1))) * 1e-12
    b = rng.uniform(0.5, 20.0, (2, 3))
    b[1, 2] = 0.0
    nu = np.geomspace(1e7, 1e12, 5)
    out = sy.synchrotron_emissivity_cells(nu, t, n, b)
    assert out.shape == (2, 3, 5)
    for idx in np.ndindex(2, 3):
        ref = sy.synchrotron_emissivity(nu, t, n[idx], b[idx])
        np.testing.assert_allclose(out[idx], ref, rtol=1e-3, atol=0.0)
    assert np.all(out[1, 2] == 0.0)


def test_synchrotron_bad_input():
    t = np.geomspace(1e-3, 1e4, 11)
    with pytest.raises(ValueError, match="b_cells"):
        sy.synchrotron_emissivity_cells([1e9], t, np.ones((2, 11)), np.ones(3))
    with pytest.raises(ValueError, match="b_microgauss"):
        sy.synchrotron_emissivity([1e9], t, np.ones(11), -1.0)
    with pytest.raises(ValueError, match="nu_hz"):
        sy.synchrotron_emissivity([-1e9], t, np.ones(11), 1.0)
