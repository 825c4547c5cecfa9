"""The network solved through the user path against calculations done here: a leaky box
with three generations and a radioactive link, and a radioactive secondary in a slab with a
wind (analytic surviving fraction)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from util import slab_config

from galprop_py import units
from galprop_py.config import config_from_dict
from galprop_py.physics import kinematics
from galprop_py.run import run

TAU_BE10_MYR = 1.387 / math.log(2.0)  # half-life 1.387 Myr (Chmeleff et al. 2010)


def _closed_box(species, n_h=1.0):
    data = slab_config(n_z=8).model_dump()
    data["grid"]["boundaries"] = {"z_min": "closed", "z_max": "closed"}
    data["momentum"] = {"min": 0.1, "max": 100.0, "n": 12, "boundary": "closed"}
    data["species"] = species
    data["source"]["profile"] = "uniform"
    data["gas"] = {"model": "uniform", "n_h_cm3": n_h, "f_he": 0.0, "disc_half_thickness_kpc": 10}
    data["losses"] = {"ionisation": False, "coulomb": False, "spallation": True}
    return config_from_dict(data)


def test_three_generations_with_decay_match_a_leaky_box(tight_steady_rtol):
    """O16 -> C12 -> Be10 -> B10 (decay), with O16 -> Be10 and C12 -> B10 branches, in a
    closed uniform box (no escape, no energy changes: a leaky box without escape).  Per
    kinetic energy per nucleon the densities n_i obey
        0 = Q_i - (n_H v sigma_i + [i = Be10] / (gamma tau)) n_i + sum_j n_H v sigma_ji n_j
            + [i = B10] n_Be10 / (gamma tau),
    solved here as a 4 x 4 system at every energy.  Agreement 1e-6 (solver rtol 1e-13)."""
    sig = {"O16": 300.0, "C12": 280.0, "Be10": 200.0, "B10": 220.0}
    prod = {("O16", "C12"): 60.0, ("O16", "Be10"): 10.0, ("C12", "Be10"): 15.0,
            ("C12", "B10"): 20.0}  # fmt: skip
    abundance = {"O16": 1.0, "C12": 0.5, "Be10": 0.0, "B10": 0.0}
    species = [
        {
            "name": n,
            "abundance": abundance[n],
            "sigma_inelastic_mb": sig[n],
            "parents": {p: s for (p, c), s in prod.items() if c == n},
        }
        for n in sig
    ]
    n_h = 1.0
    res = run(_closed_box(species, n_h), progress=False, write_output=False)
    names = list(sig)
    sp = {n: res.model._by_name[n] for n in names}
    # per T/n: n_i = psi_i dp_i/dT_n = psi_i A_i / beta;  Q_i likewise
    p = {n: res.model.momentum.momentum(sp[n]) for n in names}
    beta = kinematics.beta(p["O16"], sp["O16"].mass)
    gamma = kinematics.gamma(p["O16"], sp["O16"].mass)
    v = beta * units.C_CM_S
    to_t = {n: sp[n].mass_number / kinematics.beta(p[n], sp[n].mass) for n in names}
    q = {n: res.model.coefficients(sp[n]).source.terms[0][1] * to_t[n]
         if abundance[n] > 0 else np.zeros_like(v) for n in names}  # fmt: skip
    decay = 1.0 / (gamma * TAU_BE10_MYR * units.MYR_S)  # 1/s
    expected = np.zeros((len(names), v.size))
    for k in range(v.size):
        m = np.zeros((4, 4))
        for i, n in enumerate(names):
            m[i, i] = n_h * v[k] * sig[n] * units.MB_CM2 + (decay[k] if n == "Be10" else 0.0)
            for j, par in enumerate(names):
                if (par, n) in prod:
                    m[i, j] -= n_h * v[k] * prod[(par, n)] * units.MB_CM2
        m[names.index("B10"), names.index("Be10")] -= decay[k]
        rhs = np.array([q[n][k] for n in names]) / units.MYR_S  # per Myr -> per s
        expected[:, k] = np.linalg.solve(m, rhs)
    for i, n in enumerate(names):
        psi = res.decomp.gather_to_all(res.states[n])
        got = psi.reshape(-1, v.size) * to_t[n]
        np.testing.assert_allclose(
            got, np.broadcast_to(expected[i], got.shape), rtol=1e-6, err_msg=n
        )


def _number_at(res, name, cell):
    """Momentum-integrated density of ``name`` in ``cell`` (every rank)."""
    dp = np.diff(res.model.momentum.momentum_edges(res.model._by_name[name]))
    return res.decomp.gather_to_all(res.states[name])[cell] @ dp


def _surviving_fraction(d, u, tau_eff, h, gamma_loss):
    """N_R(0) / N_S(0) in a slab |z| <= h with free escape, constant D and wind u sign(z),
    for a radioactive and a stable secondary made in the same thin disc (equal production
    and equal disc losses gamma_loss = n_H v sigma x disc thickness [kpc/Myr]).  Above the
    disc D N'' - u N' - N / tau_eff = 0 gives N = N0 e^{a z} sinh(k (h - z)) / sinh(k h),
    a = u / 2D, k = sqrt(a^2 + 1 / (D tau_eff)); the jump at the disc,
    2 D N0 (a + k coth(k h)) + gamma_loss N0 = q, gives N0 (stable: k = a)."""
    a = u / (2.0 * d)
    k = math.sqrt(a * a + 1.0 / (d * tau_eff))
    stable = 2.0 * d * (a + a / math.tanh(a * h)) + gamma_loss
    radioactive = 2.0 * d * (a + k / math.tanh(k * h)) + gamma_loss
    return stable / radioactive


def test_radioactive_secondary_in_a_wind_surviving_fraction(tight_steady_rtol):
    """Be10 and Be9 made from C12 in the disc (gas in the central cell only), slab with
    constant D and wind: the ratio Be10/Be9 at the disc against the analytic surviving
    fraction above.  The momentum grid spans 1e-6 in T_n (gamma constant to 5e-7) with closed
    ends, so the momentum-integrated densities obey the spatial equation exactly (the
    adiabatic term of the wind only moves particles in momentum).  Error below 2e-3 at
    n_z = 161 and convergence order 2 +- 0.3 (41, 81, 161, 321 cells)."""
    h, d0, v_km_s = 4.0, 3.0e28, 10.0
    d = units.diffusion_to_internal(d0)
    u = units.velocity_to_internal(v_km_s)
    errors = []
    for n_z in (41, 81, 161, 321):
        dz = 2 * h / n_z
        data = slab_config(n_z=n_z, h=h, d0=d0, v=v_km_s).model_dump()
        data["momentum"] = {"min": 1.0, "max": 1.000001, "n": 4, "boundary": "closed"}
        data["species"] = [
            {"name": "C12", "sigma_inelastic_mb": 280.0},
            {"name": "Be10", "abundance": 0.0, "sigma_inelastic_mb": 200.0,
             "parents": {"C12": 10.0}},
            {"name": "Be9", "abundance": 0.0, "sigma_inelastic_mb": 200.0,
             "parents": {"C12": 10.0}},
        ]  # fmt: skip
        data["gas"] = {"model": "uniform", "n_h_cm3": 1.0, "f_he": 0.0,
                       "disc_half_thickness_kpc": 0.5 * dz}  # fmt: skip
        data["losses"]["spallation"] = True
        res = run(config_from_dict(data), progress=False, write_output=False)
        be10 = res.model._by_name["Be10"]
        p = res.model.momentum.momentum(be10)
        mid = n_z // 2

        n10, n9 = (_number_at(res, name, mid) for name in ("Be10", "Be9"))
        gamma = float(np.mean(kinematics.gamma(p, be10.mass)))
        v = float(np.mean(kinematics.velocity_cm_s(p, be10.mass)))
        loss = 1.0 * v * 200.0 * units.MB_CM2 * units.MYR_S * dz  # n v sigma x thickness
        expected = _surviving_fraction(d, u, gamma * TAU_BE10_MYR, h, loss)
        errors.append(abs(n10 / n9 - expected) / expected)
    assert 0.05 < expected < 0.5  # a real test of the decay
    assert errors[2] < 2e-3, errors
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2.0) < 0.3), (errors, orders)


@pytest.mark.parametrize("scheme,order", [("backward_euler", 1.0), ("cn-be", 2.0)])
def test_secondary_keeps_the_time_order_of_the_scheme(scheme, order):
    """The B3 network (C12 -> B10) from zero, 60 Myr with dt = 0.5, 0.25, 0.125, 0.0625 Myr:
    the differences of B10 between successive step sizes shrink at the scheme's order (1 +-
    0.25 for backward Euler, 2 +- 0.25 for CN-BE), because production enters each step at
    both time levels.  Measured for CN-BE: orders 1.96, 2.15 (1.76, 1.74, 1.81 from dt = 4
    Myr: pre-asymptotic); with the parents' new state only (the earlier coupling) 0.97, 0.98."""
    from util import b3_network_data

    sols = []
    for dt in (0.5, 0.25, 0.125, 0.0625):
        data = b3_network_data(n_z=41, h=4.0)
        data["run"]["mode"] = "transient"
        data["time"] = {"dt_myr": dt, "t_end_myr": 60.0, "scheme": scheme}
        data["solver"] = {"petsc": {"transient_ksp_rtol": 1e-13}}
        res = run(config_from_dict(data), progress=False, write_output=False)
        sols.append(res.decomp.gather_to_all(res.states["B10"]))
    diffs = [np.max(np.abs(a - b)) for a, b in zip(sols[:-1], sols[1:], strict=True)]
    orders = np.log2(np.array(diffs[:-1]) / np.array(diffs[1:]))
    assert np.all(np.abs(orders - order) < 0.25), (diffs, orders)
