"""Energy-loss rates against benchmarks.md (B7, B11), PDG numbers and textbook limits.

Reference values are recomputed here with ``scipy.constants`` (CODATA), independently of
``galprop_py.units``, so a wrong constant or unit conversion in the module shows up.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import constants as sc
from scipy.integrate import quad

from galprop_py.physics import energy_losses as el
from galprop_py.physics.kinematics import momentum_from_kinetic
from galprop_py.physics.species import PROTON, species_from_name
from galprop_py.units import M_E_GEV, M_P_GEV, MYR_S, magnetic_energy_density_ev_cm3

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

# independent constants (CODATA via scipy), cgs / GeV
R_E = sc.physical_constants["classical electron radius"][0] * 100.0  # cm
C = sc.c * 100.0  # cm/s
ME = sc.physical_constants["electron mass energy equivalent in MeV"][0] * 1e-3  # GeV
MP = sc.physical_constants["proton mass energy equivalent in MeV"][0] * 1e-3  # GeV
MP_G = sc.m_p * 1000.0  # g
SIGMA_T = sc.physical_constants["Thomson cross section"][0] * 1e4  # cm^2
KB_EV = sc.k / sc.e  # eV/K
HBAR_C_GEV_CM = sc.hbar * sc.c / sc.e * 1e-9 * 100.0  # GeV cm


def b11_grammage_loss(t_n, z, a, f_he, he_electrons=2.0):
    """B11 per-nucleon dE/dX [GeV cm^2/g] coded from benchmarks.md; ``he_electrons`` is the
    electron count of He (B11 as printed corresponds to 1, the physical value is 2)."""
    gamma = 1.0 + t_n / MP
    bg2 = gamma**2 - 1.0
    beta2 = bg2 / gamma**2
    q_max = 2.0 * ME * bg2 / (1.0 + 2.0 * gamma * ME / (a * MP))

    def bx(i_ev):
        return math.log(2.0 * ME * bg2 * q_max / (i_ev * 1e-9) ** 2) - 2.0 * beta2

    pref = 2.0 * math.pi * R_E**2 * ME * z**2 / (MP_G * (1.0 + 4.0 * f_he) * a * beta2)
    return pref * (bx(19.0) + he_electrons * f_he * bx(44.0))


def b11_rate(t_n, z, a, n_h, f_he, he_electrons=2.0):
    """dT/dt per particle [GeV/s] = A v rho dE/dX with rho = n_H m_p (1 + 4 f_He)."""
    gamma = 1.0 + t_n / MP
    v = C * math.sqrt(1.0 - 1.0 / gamma**2)
    rho = n_h * MP_G * (1.0 + 4.0 * f_he)
    return a * v * rho * b11_grammage_loss(t_n, z, a, f_he, he_electrons)


# ---------------------------------------------------------------------------------------
# B7: Thomson coefficient, loss time, U_B
# ---------------------------------------------------------------------------------------
def test_b7_thomson_coefficient_and_loss_time():
    # benchmarks.md B7: b0 = 1.02e-16 GeV^-1 s^-1 for 1 eV/cm^3, loss time 311 Myr at 1 GeV;
    # tolerance 1% (the quoted numbers have 3 digits).
    assert el.thomson_b0(1.0) == pytest.approx(1.02e-16, rel=0.01)
    p = momentum_from_kinetic(1.0 - M_E_GEV, M_E_GEV)  # E = 1 GeV
    rate = el.inverse_compton_thomson_loss(p, 1.0)
    assert 1.0 / rate / MYR_S == pytest.approx(311.0, rel=0.01)
    # independent: 4 sigma_T c U / (3 m_e^2), U in GeV/cm^3
    assert el.thomson_b0(1.0) == pytest.approx(4 * SIGMA_T * C * 1e-9 / (3 * ME**2), rel=1e-6)


def test_b7_magnetic_energy_density_and_synchrotron():
    # B7: U_B = 0.0248 eV/cm^3 at 1 muG (1%); synchrotron = Thomson formula with U_B.
    assert magnetic_energy_density_ev_cm3(1.0) == pytest.approx(0.0248, rel=0.01)
    e = np.array([1.0, 10.0, 100.0])
    p = momentum_from_kinetic(e - M_E_GEV, M_E_GEV)
    sync = el.synchrotron_loss(p, 3.0)
    assert sync == pytest.approx(1.02e-16 * 0.0248 * 9.0 * e**2, rel=0.01)


# ---------------------------------------------------------------------------------------
# inverse Compton, Klein-Nishina
# ---------------------------------------------------------------------------------------
def test_kn_tends_to_thomson():
    # E kT << (m_e c^2)^2: CMB (2.725 K) and dust (30 K) at 1-10 GeV, b <= 2e-4;
    # tolerance 2% (brief); the B7 number 1.02e-16 is the reference.
    e = np.array([1.0, 3.0, 10.0])
    p = momentum_from_kinetic(e - M_E_GEV, M_E_GEV)
    kn = el.inverse_compton_kn_loss(p, [2.725, 30.0], [0.26, 0.3])
    assert kn == pytest.approx(1.02e-16 * 0.56 * e**2, rel=0.02)


def test_kn_suppressed_deep_in_kn_regime():
    # starlight (5000 K) on a 1e5 GeV electron: b = 4 gamma k T / m_e c^2 ~ 660; the rate
    # must be far below Thomson (< 1%) and grow only logarithmically with energy.
    p = np.array([1e5, 1e6])
    kn = el.inverse_compton_kn_loss(p, [5000.0], [1.0])
    thomson = el.inverse_compton_thomson_loss(p, 1.0)
    assert np.all(kn / thomson < 0.01)
    assert 1.0 < kn[1] / kn[0] < 2.0


def test_kn_extreme_limit_blumenthal_gould():
    # Blumenthal & Gould 1970 extreme-KN rate in a Planck field:
    # sigma_T c (m_e c^2 kT)^2 / (16 (hbar c)^3) [ln(4 gamma kT / m_e c^2) - 5/6 - C_E - C_l],
    # C_l = -zeta'(2)/zeta(2) computed here; tolerance 0.5% at b >= 1e3 (subleading terms).
    zeta2 = math.pi**2 / 6.0
    dzeta2 = -0.9375482543158437  # zeta'(2)
    c_l = -dzeta2 / zeta2
    t_k = 5000.0
    kt = KB_EV * t_k * 1e-9
    for b in (1e3, 1e4, 1e5):
        gamma = b * ME / (4.0 * kt)
        p = math.sqrt(gamma**2 - 1.0) * ME
        u_ev = (math.pi**2 / 15.0) * kt**4 / HBAR_C_GEV_CM**3 * 1e9  # black body, eV/cm^3
        rate = el.inverse_compton_kn_loss([p], [t_k], [u_ev])[0]
        bracket = math.log(b) - 5.0 / 6.0 - np.euler_gamma - c_l
        ref = SIGMA_T * C * (ME * kt) ** 2 / (16.0 * HBAR_C_GEV_CM**3) * bracket
        assert rate == pytest.approx(ref, rel=5e-3)


def test_kn_table_against_direct_quadrature():
    # G(b) from nested adaptive quadrature of the Jones / Blumenthal-Gould kernel, coded
    # independently here; tolerance 1e-3 (table interpolation).
    def f_mono(gam):
        def integrand(q):
            gq = gam * q
            f = 2 * q * math.log(q) + (1 + 2 * q) * (1 - q) + 0.5 * gq * gq * (1 - q) / (1 + gq)
            return q * f / (1 + gq) ** 3

        return 9.0 * quad(integrand, 0.0, 1.0, points=[min(0.5, 1.0 / gam)], limit=200)[0]

    for b in (0.1, 1.0, 30.0):
        g = (
            15
            / math.pi**4
            * quad(lambda x, b=b: x**3 / math.expm1(x) * f_mono(b * x), 1e-6, 60, limit=200)[0]
        )
        assert el.klein_nishina_planck_factor(b) == pytest.approx(g, rel=1e-3)


# ---------------------------------------------------------------------------------------
# nuclei: ionisation (B11) and Coulomb
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("t_n", [0.01, 0.1, 1.0, 10.0, 100.0])
@pytest.mark.parametrize("f_he", [0.0, 0.08])
def test_nucleus_ionisation_matches_b11(t_n, f_he):
    # B11 coded independently (scipy constants, grammage form times v rho) with 2 electrons
    # per He atom; tolerance 1e-6 (CODATA 2018 in units.py vs scipy's CODATA set).
    p = momentum_from_kinetic(t_n, M_P_GEV)
    rate = el.nucleus_ionisation_loss(p, M_P_GEV, 1, 1, 1.0, f_he)
    assert rate == pytest.approx(b11_rate(t_n, 1, 1, 1.0, f_he), rel=1e-6)


def test_proton_ionisation_pdg_minimum():
    # PDG "Atomic and nuclear properties": minimum dE/dx of H2 gas 4.103 MeV cm^2/g (per g
    # of hydrogen, <Z/A> = 0.992; B11 counts per m_p, +0.8%).  Tolerance 2%.
    t = np.logspace(-1, 2, 400)
    p = momentum_from_kinetic(t, M_P_GEV)
    rate = el.nucleus_ionisation_loss(p, M_P_GEV, 1, 1, 1.0, 0.0)  # n_H = 1 cm^-3
    v = C * p / np.sqrt(p**2 + M_P_GEV**2)
    dedx_mev_cm2_g = rate / v / MP_G * 1e3
    assert dedx_mev_cm2_g.min() == pytest.approx(4.103, rel=0.02)
    # the H/He mix: mass-weighted PDG minima (H2 4.103, He 1.937 MeV cm^2/g) with
    # f_He = 0.08; He mass fraction 0.32/1.32.  Tolerance 2%; B11 as printed (one He
    # electron) gives 6% less and fails this.
    mix = el.nucleus_ionisation_loss(p, M_P_GEV, 1, 1, 1.0, 0.08) / v / (MP_G * 1.32) * 1e3
    pdg_mix = (1.0 * 4.103 + 0.32 * 1.937) / 1.32
    assert mix.min() == pytest.approx(pdg_mix, rel=0.02)


def test_proton_ionisation_mannheim_schlickeiser_number():
    # Mannheim & Schlickeiser 1994 fit: -dE/dt = 1.82e-7 n_H (1 + 0.0185 ln beta) 2 beta^2 /
    # (1e-6 + 2 beta^3) eV/s (neutral H).  Tolerance 10% at 0.5-2 GeV (the fit has no
    # relativistic rise).
    t = np.array([0.5, 1.0, 2.0])
    p = momentum_from_kinetic(t, M_P_GEV)
    beta = p / np.sqrt(p**2 + M_P_GEV**2)
    ms94 = 1.82e-16 * (1 + 0.0185 * np.log(beta)) * 2 * beta**2 / (1e-6 + 2 * beta**3)
    assert el.nucleus_ionisation_loss(p, M_P_GEV, 1, 1, 1.0, 0.0) == pytest.approx(ms94, rel=0.1)


@pytest.mark.parametrize("name", ["He4", "C12", "Fe56"])
def test_nucleus_losses_scale_as_z2_over_a(name):
    # per-nucleon loss at equal T/n (equal beta, gamma) scales as Z^2/A relative to protons;
    # residual from Q_max and Coulomb-log mass terms < 1e-3.
    sp = species_from_name(name)
    beta_gamma = np.array([0.3, 1.0, 5.0])  # same beta, gamma for both species
    p_p = beta_gamma * PROTON.mass
    p_n = beta_gamma * sp.mass
    ratio = sp.charge**2 / sp.mass_number
    ion_p = el.nucleus_ionisation_loss(p_p, PROTON.mass, 1, 1, 1.0)
    ion_n = el.nucleus_ionisation_loss(p_n, sp.mass, sp.charge, sp.mass_number, 1.0)
    assert ion_n / sp.mass_number / ion_p == pytest.approx(np.full(3, ratio), rel=1e-3)
    cou_p = el.nucleus_coulomb_loss(p_p, PROTON.mass, 1, 0.1, 8000.0)
    cou_n = el.nucleus_coulomb_loss(p_n, sp.mass, sp.charge, 0.1, 8000.0)
    assert cou_n / sp.mass_number / cou_p == pytest.approx(np.full(3, ratio), rel=1e-3)


def test_coulomb_loss_independent_and_limits():
    # Mannheim & Schlickeiser 1994 form coded here with scipy constants; 1e-6.
    t, n_e, t_e = 1.0, 0.05, 1e4
    gamma = 1 + t / MP
    beta = math.sqrt(1 - 1 / gamma**2)
    x_m = (3 * math.sqrt(math.pi) / 4) ** (1 / 3) * math.sqrt(2 * KB_EV * 1e-9 * t_e / ME)
    ln_l = 0.5 * math.log(
        ME**2
        * MP
        * gamma**2
        * beta**4
        / (math.pi * R_E * HBAR_C_GEV_CM**2 * n_e * (MP + 2 * gamma * ME))
    )
    ref = 4 * math.pi * R_E**2 * C * ME * n_e * ln_l * beta**2 / (x_m**3 + beta**3)
    p = momentum_from_kinetic(t, M_P_GEV)
    assert el.nucleus_coulomb_loss([p], M_P_GEV, 1, n_e, t_e)[0] == pytest.approx(ref, rel=1e-6)
    # ln(Lambda) for a GeV proton in the warm ISM is ~38 (b_max/b_min ~ 1e16)
    assert 30.0 < ln_l < 45.0
    # log-slope in beta: ~ +2 well below the thermal electron speed x_m (rate ~ beta^2
    # ln Lambda), ~ -1 well above it (rate ~ ln Lambda / beta); ln Lambda adds < 0.2.
    for beta0, lo, hi in ((x_m / 100, 2.0, 2.2), (30 * x_m, -1.0, -0.8)):
        pb = M_P_GEV * beta0 * np.array([1.0, 1.01]) / math.sqrt(1 - beta0**2)
        r = el.nucleus_coulomb_loss(pb, M_P_GEV, 1, n_e, t_e)
        assert lo < math.log(r[1] / r[0]) / math.log(1.01) < hi


# ---------------------------------------------------------------------------------------
# electrons: ionisation, bremsstrahlung, totals
# ---------------------------------------------------------------------------------------
def test_electron_ionisation_ultrarelativistic_longair():
    # Longair (2011) / Ginzburg (1979): -dE/dt = 7.64e-15 N (3 ln gamma + 19.8) eV/s, N in
    # m^-3, for gamma >> 1 in neutral H; tolerance 1%.
    gamma = np.array([1e2, 1e4, 1e6])
    p = np.sqrt(gamma**2 - 1) * M_E_GEV
    ref = 7.64e-15 * 1e6 * (3 * np.log(gamma) + 19.8) * 1e-9  # n = 1 cm^-3, GeV/s
    assert el.electron_ionisation_loss(p, 1.0, 0.0) == pytest.approx(ref, rel=0.01)


def test_bremsstrahlung_radiation_length_hydrogen():
    # high-energy limit: loss time = X0 / (m_p n c), X0(H) = 63.04 g/cm^2 (PDG); tolerance
    # 3% (the (Z^2 + Z)/18 term in the rate adds ~1%, m_H vs m_p 0.1%).
    p = np.array([1e2, 1e3, 1e4])
    t_loss = p / el.electron_bremsstrahlung_loss(p, 1.0, 0.0)
    assert t_loss == pytest.approx(np.full(3, 63.04 / (MP_G * C)), rel=0.03)
    # He: X0 = 94.32 g/cm^2, m_He = 4.0026 u; pure-He gas as f_he -> large with n_h tiny
    he_only = el.electron_bremsstrahlung_loss(p, 1e-6, 1e6) - el.electron_bremsstrahlung_loss(
        p, 1e-6, 0.0
    )
    t_he = p / he_only
    assert t_he == pytest.approx(np.full(3, 94.32 / (4.0026 * sc.atomic_mass * 1e3 * C)), rel=0.03)


def test_bremsstrahlung_unscreened_regime():
    # at gamma = 10 the unscreened Blumenthal & Gould formula holds:
    # 4 alpha r_e^2 c T Z(Z+1)(ln 2 gamma - 1/3) with Z(Z+1) = 2 for H; 1e-6.
    gamma = 10.0
    p = math.sqrt(gamma**2 - 1) * M_E_GEV
    ref = 4 * sc.alpha * R_E**2 * C * (gamma - 1) * ME * 2 * (math.log(2 * gamma) - 1 / 3)
    assert el.electron_bremsstrahlung_loss([p], 1.0, 0.0)[0] == pytest.approx(ref, rel=1e-6)


def test_electron_total_and_grid_consistent():
    # the total is the sum of the parts, and the grid kernel reproduces it cell by cell
    p = np.logspace(-3, 4, 30)
    temps, u = [2.725, 40.0, 4000.0], [0.26, 0.3, 0.6]
    tot = el.electron_total_loss(p, 0.7, 5.0, temps, u)
    parts = (
        el.electron_ionisation_loss(p, 0.7)
        + el.electron_bremsstrahlung_loss(p, 0.7)
        + el.synchrotron_loss(p, 5.0)
        + el.inverse_compton_kn_loss(p, temps, u)
    )
    np.testing.assert_allclose(tot, parts, rtol=1e-12)
    grid = el.electron_total_loss_grid(p, [0.7, 0.0], [5.0, 1.0], temps, [u, [0.26, 0.0, 0.0]])
    np.testing.assert_allclose(grid[0], tot, rtol=1e-12)
    np.testing.assert_allclose(
        grid[1], el.electron_total_loss(p, 0.0, 1.0, temps, [0.26, 0.0, 0.0]), rtol=1e-12
    )
    assert np.all(grid > 0)


def test_nucleus_grid_consistent():
    p = momentum_from_kinetic(np.logspace(-3, 3, 25), M_P_GEV)
    grid = el.nucleus_total_loss_grid(p, M_P_GEV, 1, 1, [1.0, 0.1], [0.0, 0.05], [8e3, 1e4])
    for c, (nh, ne, te) in enumerate([(1.0, 0.0, 8e3), (0.1, 0.05, 1e4)]):
        np.testing.assert_allclose(
            grid[c], el.nucleus_total_loss(p, M_P_GEV, 1, 1, nh, ne, te), rtol=1e-12
        )
    assert np.all(grid >= 0)
