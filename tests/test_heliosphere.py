"""The spherical Parker heliosphere (galprop_py.heliosphere.parker) against the force-field
limit (Gleeson & Axford 1968, ApJ 154, 1011), a first-order prediction of the reflecting
inner boundary, grid convergence, a no-wind exact solution and AMS-02 protons."""

from __future__ import annotations

import numpy as np
import pytest
from petsc4py import PETSc
from scipy.optimize import brentq, minimize_scalar

from galprop_py import observations
from galprop_py.config import ConfigError, config_from_dict
from galprop_py.heliosphere.parker import (
    ParkerModel,
    ParkerParameters,
    force_field_potential,
    spherical_parker,
)
from galprop_py.physics import kinematics
from galprop_py.physics.modulation import force_field, force_field_analytic
from galprop_py.physics.species import PROTON
from galprop_py.spectra import species_spectrum
from galprop_py.units import AU_CM, KM_CM, M_P_GEV


def lis_b8(t):
    """benchmarks.md B8 LIS, J ~ (T + m_p)^-2.7 per GeV."""
    return (np.asarray(t) + M_P_GEV) ** -2.7


def lis_vp15(t):
    """Proton LIS of Vos & Potgieter 2015 (ApJ 815, 119, eq. 4), fitted to Voyager 1 and
    PAMELA: J = 2.70 T^1.12 / beta^2 ((T + 0.67) / 1.67)^-3.93 m^-2 s^-1 sr^-1 MeV^-1,
    T in GeV; returned per GeV."""
    t = np.asarray(t, dtype=float)
    b2 = kinematics.beta(kinematics.momentum_from_kinetic(t, M_P_GEV), M_P_GEV) ** 2
    return 2.70e3 * t**1.12 / b2 * ((t + 0.67) / 1.67) ** -3.93


def solve(params, rigidity, lis=lis_b8, comm=None):
    t = kinematics.kinetic_energy(rigidity, M_P_GEV)
    model = ParkerModel(params, PROTON, rigidity, comm=comm)
    sol = model.solve(lis(t))
    model.destroy()
    return sol


def phi_eff(t, factor, lis=lis_b8):
    """The force-field potential that gives modulation ``factor`` at T = t."""

    def g(phi):
        return force_field_analytic(np.array([t]), lis, phi, M_P_GEV, 1, 1)[0] / lis(t) - factor

    return brentq(g, 1e-7, 5.0, xtol=1e-12)


def test_no_wind_is_the_lis_everywhere():
    """V = 0: psi = psi_LIS solves the equation with any kappa (exact, 1e-9)."""
    rig = np.geomspace(0.1, 100.0, 30)
    sol = solve(ParkerParameters(v_sw_km_s=0.0, n_r=20, b=0.5), rig)
    np.testing.assert_allclose(sol.psi / sol.psi_lis, 1.0, rtol=1e-9)
    np.testing.assert_allclose(sol.modulation_factor, 1.0, rtol=1e-9)


def test_force_field_potential_formula():
    """phi = V r0 ln(r_hp / r_obs) / (3 kappa0) for b = 1; V (r_hp - r_obs) / (3 kappa0) for
    b = 0 (closed forms of int V / (3 kappa_1) dr), 1e-12."""
    prm = ParkerParameters(kappa0_cm2_s=2e21, b=1.0)
    v = 400.0 * KM_CM
    assert force_field_potential(prm) == pytest.approx(v * AU_CM * np.log(120.0) / 6e21, rel=1e-12)
    prm0 = ParkerParameters(kappa0_cm2_s=5e22, b=0.0)
    assert force_field_potential(prm0) == pytest.approx(v * 119.0 * AU_CM / 15e22, rel=1e-12)
    with pytest.raises(ValueError, match=r"^modulation.spherical_parker.a = 1.5"):
        force_field_potential(ParkerParameters(a=1.5))


@pytest.mark.parametrize("rigidity", [2.0, 5.0])
def test_force_field_limit(rigidity):
    """kappa = kappa0 beta R (r/AU) (a = b = 1): the 1 AU spectrum's effective force-field
    potential approaches phi = int V / (3 kappa_1) dr as eps = V r / kappa(1 GV) falls.
    Measured phi_eff/phi - 1 at 2 GV: -3.6%, -1.4%, -0.36% for eps = 0.37, 0.093, 0.023
    (5 GV: -2.2%, -0.6%, -0.08%): within 5% at the realistic eps = 0.37 (phi = 0.6 GV),
    within 0.5% at eps = 0.023, and falling at least 2x per 4x in eps (first order in eps,
    as the neglected streaming term of Gleeson & Axford)."""
    rig = np.geomspace(0.1, 1000.0, 121)
    k = int(np.argmin(np.abs(rig - rigidity)))
    t = kinematics.kinetic_energy(rig[k], M_P_GEV)
    errors = []
    for kappa0 in (1.6e21, 6.4e21, 2.56e22):
        prm = ParkerParameters(kappa0_cm2_s=kappa0, n_r=64)
        sol = solve(prm, rig)
        phi = force_field_potential(prm)
        errors.append(abs(phi_eff(t, sol.modulation_factor[k]) / phi - 1.0))
    assert errors[0] < 0.05
    assert errors[-1] < 0.005
    assert errors[1] < errors[0] / 2.0 and errors[2] < errors[1] / 2.0
    # and the spectrum itself at phi = 0.6 GV: |J_Parker / J_FF - 1| within 6% from 1 to
    # 20 GV (measured at most 5.0%, near 1.3 GV; 0.08% at 20 GV)
    prm = ParkerParameters(kappa0_cm2_s=1.6e21, n_r=64)
    sol = solve(prm, rig)
    tt = kinematics.kinetic_energy(rig, M_P_GEV)
    ff = force_field_analytic(tt, lis_b8, force_field_potential(prm), M_P_GEV, 1, 1)
    sel = (rig > 1.0) & (rig < 20.0)
    assert np.max(np.abs(sol.observer[sel] / ff[sel] - 1.0)) < 0.06


def test_reflecting_inner_boundary_offset():
    """A reflecting face at r_in (J_r = 0) leaves streaming S(r_in) = (C - 1) V f, carried
    out as r^-2: to first order in eps the potential is low by (1/2)(1 - 1/C)/ln(r_hp/r_in)
    (kappa ~ r).  At 10 and 20 GV, eps = 0.023, C = (2 + 2.7 beta^2)/3 (J ~ (T+m)^-2.7):
    predicted -3.74% / -3.75%, measured within 0.3% (absolute)."""
    rig = np.geomspace(0.1, 1000.0, 121)
    prm = ParkerParameters(kappa0_cm2_s=2.56e22, inner_boundary="reflecting")
    sol = solve(prm, rig)
    phi = force_field_potential(prm)
    for r_gv in (10.0, 20.0):
        k = int(np.argmin(np.abs(rig - r_gv)))
        t = kinematics.kinetic_energy(rig[k], M_P_GEV)
        b2 = kinematics.beta(rig[k], M_P_GEV) ** 2
        c = (2.0 + 2.7 * b2) / 3.0
        predicted = -0.5 * (1.0 - 1.0 / c) * (1.0 - 120.0**-2) / np.log(120.0)
        measured = phi_eff(t, sol.modulation_factor[k]) / phi - 1.0
        assert measured == pytest.approx(predicted, abs=3e-3)


def test_inner_boundary_choice():
    """Moving the inner face to 0.05 AU (observer interpolated at 1 AU) both conditions give
    the same 1 AU spectrum (ln J within 1e-3 from 0.5 to 50 GV); with the face at 1 AU,
    zero streaming stays within 1% of that from 1 to 50 GV (measured 0.5%), reflecting is
    off by 7% at 1 GV."""
    rig = np.geomspace(0.2, 200.0, 97)
    out = {}
    for ib in ("zero_streaming", "reflecting"):
        for r_in, n_r in ((1.0, 64), (0.05, 104)):
            prm = ParkerParameters(n_r=n_r, r_inner_au=r_in, inner_boundary=ib)
            out[ib, r_in] = solve(prm, rig).modulation_factor
    deep = out["zero_streaming", 0.05]
    sel = (rig > 0.5) & (rig < 50.0)
    assert np.max(np.abs(np.log(out["reflecting", 0.05] / deep))[sel]) < 1e-3
    sel = (rig > 1.0) & (rig < 50.0)
    assert np.max(np.abs(np.log(out["zero_streaming", 1.0] / deep))[sel]) < 0.01
    k = int(np.argmin(np.abs(rig - 1.0)))
    assert abs(np.log(out["reflecting", 1.0][k] / deep[k])) > 0.05


@pytest.mark.parametrize(("inner", "min_order"), [("reflecting", 2.2), ("zero_streaming", 1.4)])
def test_grid_convergence(inner, min_order):
    """n_r and n_R doubled together (nested rigidity nodes): max |d ln J_1AU| over 0.5-30 GV
    between successive grids falls with observed order log2(d_h / d_h/2).  Measured:
    reflecting 2.7, 2.6 (second-order operators); zero streaming 2.9, 1.6 (its face flux
    uses the first cell's value: first order at that face).  The 64 x 121 grid is within
    1e-3 of the 128 x 241 one."""
    levels = [(16, 31), (32, 61), (64, 121), (128, 241)]
    coarse = np.geomspace(0.3, 300.0, 31)
    sel = (coarse >= 0.5) & (coarse <= 30.0)
    res = []
    for lev, (n_r, n_rig) in enumerate(levels):
        prm = ParkerParameters(n_r=n_r, inner_boundary=inner)
        rig = np.geomspace(0.3, 300.0, n_rig)
        res.append(np.log(solve(prm, rig).modulation_factor[:: 2**lev]))
    d = [np.max(np.abs(res[i] - res[i + 1])[sel]) for i in range(3)]
    orders = np.log2(np.array(d[:-1]) / np.array(d[1:]))
    assert np.all(orders > min_order), orders
    assert d[-1] < 1e-3


def test_ams02_fit_gives_force_field_sized_potential():
    """kappa0 fitted (1 parameter, scipy bounded scalar minimisation of chi^2) to AMS-02
    protons below 10 GV (Aguilar et al. 2015, PRL 114, 171103; total errors) with the
    Vos & Potgieter 2015 LIS, a = b = 1, V = 400 km/s, r_hp = 120 AU.  Measured: kappa0 =
    1.41e21 cm^2/s, phi = int V/(3 kappa_1) dr = 0.68 GV; the force field fitted to the same
    data with the same LIS: 0.65 GV; the force field fitted to the Parker spectrum: 0.6-0.7.
    Required: both potentials in 0.4-0.8 GV (the force field's size for 2011-2013)."""
    ams = observations.load("ams02_proton_rigidity")
    sel = ams.x < 10.0
    x, y, err = ams.x[sel], ams.y[sel], ams.y_err_hi[sel]
    t_data = kinematics.kinetic_energy(x, M_P_GEV)
    per_gv = kinematics.beta(x, M_P_GEV)  # dT/dR for protons
    rig = np.geomspace(0.2, 100.0, 80)
    t = kinematics.kinetic_energy(rig, M_P_GEV)

    def model(log_kappa0):
        prm = ParkerParameters(kappa0_cm2_s=10.0**log_kappa0, n_r=48)
        sol = solve(prm, rig, lis=lis_vp15)
        factor = np.exp(np.interp(np.log(x), np.log(rig), np.log(sol.modulation_factor)))
        return lis_vp15(t_data) * per_gv * factor, prm, sol

    def chi2(log_kappa0):
        return float(np.sum(((model(log_kappa0)[0] - y) / err) ** 2))

    fit = minimize_scalar(chi2, bounds=(20.0, 23.0), method="bounded", options={"xatol": 1e-4})
    _, prm, sol = model(fit.x)
    phi = force_field_potential(prm)
    assert 0.4 < phi < 0.8

    def chi2_ff(phi_gv):
        m = force_field_analytic(t_data, lis_vp15, phi_gv, M_P_GEV, 1, 1) * per_gv
        return float(np.sum(((m - y) / err) ** 2))

    phi_data = minimize_scalar(chi2_ff, bounds=(0.05, 2.0), method="bounded").x
    assert 0.4 < phi_data < 0.8
    for r_gv in (2.0, 5.0, 10.0):
        k = int(np.argmin(np.abs(rig - r_gv)))
        assert 0.4 < phi_eff(t[k], sol.modulation_factor[k], lis=lis_vp15) < 0.8


def test_config_block_and_dispatch():
    """[modulation] model = "spherical_parker" reaches species_spectrum: its TOA equals
    spherical_parker() with the block's parameters (1e-12); the default stays the force field
    (identical to force_field())."""
    cfg = config_from_dict(
        {
            "modulation": {
                "model": "spherical_parker",
                "spherical_parker": {"kappa0_cm2_s": 2e21, "n_r": 24, "n_rigidity": 40},
            }
        }
    )
    t_n = np.geomspace(0.1, 100.0, 25)
    p = kinematics.momentum_from_kinetic(t_n, M_P_GEV)
    lis = lis_b8(t_n)
    got = species_spectrum(PROTON, p, lis, cfg.modulation)
    prm = ParkerParameters(kappa0_cm2_s=2e21, n_r=24, n_rigidity=40)
    np.testing.assert_allclose(got["toa"], spherical_parker(t_n, lis, prm, PROTON), rtol=1e-12)
    assert np.all(got["toa"] < lis)
    default = config_from_dict({}).modulation
    assert default.model == "force_field"
    spec = species_spectrum(PROTON, p, lis, default)
    ff = force_field(spec["t_n"], lis, default.phi_gv, M_P_GEV, 1, 1)
    np.testing.assert_array_equal(spec["toa"], ff)
    np.testing.assert_array_equal(species_spectrum(PROTON, p, lis, 0.6)["toa"], ff)


@pytest.mark.parametrize(
    ("block", "match"),
    [
        ({"model": "drift3d"}, r"modulation\.model"),
        ({"spherical_parker": {"kappa_0": 1e21}}, r"modulation\.spherical_parker\.kappa_0"),
        ({"spherical_parker": {"r_hp_au": 0.5}}, r"modulation\.spherical_parker\.r_hp_au"),
        ({"spherical_parker": {"inner_boundary": "free"}}, r"inner_boundary"),
    ],
)
def test_bad_modulation_config(block, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict({"modulation": block})


def test_bad_parameters():
    with pytest.raises(ValueError, match=r"^modulation.spherical_parker.observer_au = 200"):
        ParkerParameters(observer_au=200.0)
    with pytest.raises(ValueError, match=r"^modulation.spherical_parker.inner_boundary"):
        ParkerParameters(inner_boundary="free")


@pytest.mark.parallel
def test_rank_invariance():
    """The model on COMM_WORLD (the radial axis split over the ranks) gives the COMM_SELF
    answer to 1e-6 (both solved to a scaled residual of 1e-11 with other block-Jacobi
    preconditioners; measured 1.3e-8 on 2 ranks, at the lowest rigidity)."""
    rig = np.geomspace(0.2, 100.0, 40)
    prm = ParkerParameters(n_r=32)
    world = solve(prm, rig, comm=PETSc.COMM_WORLD)
    alone = solve(prm, rig)
    np.testing.assert_allclose(world.observer, alone.observer, rtol=1e-6)
    np.testing.assert_allclose(world.psi, alone.psi, rtol=1e-6)
