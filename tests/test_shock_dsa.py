"""Diffusive shock acceleration at a planar shock (galprop_py.shock, issue 12).

Every check compares the numerical solution with a closed form of test-particle DSA
(galprop_py/shock/analytic.py): the power law f ~ p^-3r/(r-1) (Krymsky 1977; Bell 1978;
Blandford & Ostriker 1978), the upstream precursor, Drury's (1983, Rep. Prog. Phys. 46, 973)
mean and variance of the acceleration time, the steady spectrum with a free-escape boundary
(Caprioli, Amato & Blasi 2010, Astropart. Phys. 33, 307), and particle conservation.
The spectra are psi = 4 pi p^2 f (density per unit momentum): psi ~ p^(2 - q).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py.config import ConfigError
from galprop_py.microphysics.gyration import gyroradius_cm
from galprop_py.shock import analytic, dsa
from galprop_py.shock.config import shock_config
from galprop_py.units import C_CM_S, KPC_CM

# kappa = 1e22 cm^2/s (p / GeV): kappa(p0)/u1 = 2e13 cm at u1 = 5000 km/s
POWER_LAW = {"diffusion": "power_law", "kappa_cm2_s": 1e22, "kappa_index": 1.0}
#: L with u1 L / kappa1(1 GeV) = 100: the cutoff near 100 GeV
L_100 = 100.0 * 1e22 / 5e8 / (KPC_CM * 1e-3)


def _shock_spectrum(**keys):
    model = dsa.build_model(shock_config(POWER_LAW | keys))
    psi = dsa.steady_state(model)
    return model, psi


@pytest.mark.parametrize("compression", [4.0, 2.5])
def test_power_law_slope(compression):
    """Steady psi at the shock ~ p^(2-q), q = 3r/(r-1) (f ~ p^-q; -2 for r = 4, -3 for
    r = 2.5) over 10-100 p0, far below the escape cutoff (u1 L/kappa = 1e5 at 100 p0):
    within 0.05 (measured -0.0008 for r = 4, -0.0026 for r = 2.5 at 20 momenta/decade)."""
    model, psi = _shock_spectrum(
        compression_ratio=compression, p_max_gev=1e3, escape_distance_pc=0.1
    )
    slope = dsa.fitted_slope(model.p, psi[model.shock_index], 10.0, 100.0)
    expected = 2.0 - analytic.spectral_index(compression)
    assert slope == pytest.approx(expected, abs=0.05)
    model.destroy()


@pytest.mark.serial  # 13 steady solves; decomposition-independent numerics
def test_slope_convergence():
    """Grid convergence of the slope (r = 2.5).  Momentum grid: the error falls with order
    >= 2 from 10 to 20 to 40 points per decade (measured -0.045, -0.0026, +0.0001: order
    4.1, 4.7; the quadratic face values).  Space, sharp jump: the steady slope does not
    depend on the shock cell (the conservative scheme gives the exact jump condition, since
    the total upstream flux vanishes and downstream is uniform): the same to 1e-4 for
    h0 = 1 and 1/16 of kappa/u1 (constant kappa).  Smooth profile over 2 cells: error
    proportional to the width (order 1 +- 0.15 from h0 = 1/4 to 1/16 kappa/u1; measured
    -0.50, -0.25, -0.125)."""
    expected = 2.0 - analytic.spectral_index(2.5)
    errors = []
    for n in (10, 20, 40):
        m, psi = _shock_spectrum(
            compression_ratio=2.5, p_max_gev=1e3, escape_distance_pc=0.1, momenta_per_decade=n
        )
        errors.append(abs(dsa.fitted_slope(m.p, psi[m.shock_index], 10, 100) - expected))
        m.destroy()
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 2.0), (errors, orders)
    const = POWER_LAW | {"kappa_index": 0.0, "compression_ratio": 2.5, "p_max_gev": 1e3}
    const |= {"escape_distance_pc": 1e-3, "momenta_per_decade": 40}
    sharp, smooth = [], []
    for frac in (1.0, 0.25, 0.0625):
        for profile, out in (("sharp", sharp), ("smooth", smooth)):
            if profile == "sharp" and frac == 0.25:
                continue
            cfg = shock_config(const | {"finest_cell_fraction": frac, "profile": profile})
            m = dsa.build_model(cfg)
            psi = dsa.steady_state(m)
            out.append(dsa.fitted_slope(m.p, psi[m.shock_index], 10, 100) - expected)
            m.destroy()
    assert abs(sharp[0] - sharp[1]) < 1e-4 and abs(sharp[1]) < 1e-3, sharp
    orders = np.log2(np.array(smooth[:-1]) / np.array(smooth[1:])) / 2.0
    assert np.all(np.abs(orders - 1.0) < 0.15), (smooth, orders)


def test_upstream_precursor_and_downstream():
    """Steady upstream profile f0 (exp(u1 x/kappa) - exp(-u1 L/kappa)) / (1 - exp(-u1 L/kappa))
    at p = 10 and 100 p0 (L = 100 kappa(p0)/u1) over x where it exceeds 1e-3 of f0: within
    1% of f0 (measured 3e-4 and 2e-4); downstream uniform to 1e-6 (measured 4e-14)."""
    model, psi = _shock_spectrum(p_max_gev=1e4, escape_distance_pc=L_100, momenta_per_decade=20)
    i = model.shock_index
    x = model.grid.axes[0].centers
    for p_target in (10.0, 100.0):
        k = int(np.argmin(np.abs(model.p - p_target)))
        a = model.u1 / float(model.kappa1(model.p[k]))
        exact = (np.exp(a * x[:i]) - np.exp(-a * model.escape_length)) / (
            1.0 - np.exp(-a * model.escape_length)
        )
        ratio = psi[:i, k] / psi[i, k]
        sel = exact > 1e-3
        assert np.max(np.abs(ratio[sel] - exact[sel])) < 0.01, (p_target, ratio[sel] - exact[sel])
        down = psi[i:, k] / psi[i, k]
        assert np.max(np.abs(down - 1.0)) < 1e-6
    model.destroy()


@pytest.mark.parametrize("compression", [4.0, 2.5])
def test_escape_cutoff(compression):
    """Free escape at L = 100 kappa1(p0)/u1 (kappa ~ p: the diffusion length equals L at
    p_L = 100 p0).  Steady spectrum at the shock over the power law, normalised at 3 p0,
    against exp(-q int dp'/p' / (exp(u1 L/kappa1) - 1)) (CAB 2010): within 1% (r = 4) / 2%
    (r = 2.5) where the analytic ratio exceeds 0.1, 5% down to 0.01 (measured 0.4% and 1%
    / 0.2% and 4%); the 1/e point p_cut within 2% of the analytic one (measured 93.1 vs
    93.5, 83.7 vs 84.3) and within a factor 2 of p_L (0.94 and 0.84 p_L).  The escaping
    flux through x = -L against u1 f0 / (exp(u1 L/kappa1) - 1) (f0 the numerical one): the
    number within 1% (measured 0.12%, 0.26%), per momentum within 5% where above 0.1 of
    its peak (measured 1.7%, 3.5%: the cells at x = -L are 5% of L wide); particles
    injected = escaped + advected downstream to 1e-6 (measured 1e-14 on one rank, a direct
    solve; 1.8e-8 on two, GMRES to rtol 1e-11; the momentum grid ends at 100 p_L)."""
    q = analytic.spectral_index(compression)
    model, psi = _shock_spectrum(
        compression_ratio=compression, p_max_gev=1e4, escape_distance_pc=L_100
    )
    p, ps = model.p, psi[model.shock_index]
    k0 = int(np.argmin(np.abs(p - 3.0)))
    num = ps / (ps[k0] * (p / p[k0]) ** (2.0 - q))
    exact = analytic.escape_suppression(p, model.kappa1, model.u1, model.escape_length, q, p[0])
    exact = exact / exact[k0]
    high = (exact > 0.1) & (p > 2.0)
    tol = 0.01 if compression == 4.0 else 0.02
    assert np.max(np.abs(num[high] / exact[high] - 1.0)) < tol
    mid = (exact > 0.01) & (p > 2.0)
    assert np.max(np.abs(num[mid] / exact[mid] - 1.0)) < 0.05
    p_l = model.u1 * model.escape_length / float(model.kappa1(1.0))
    pc_exact = analytic.escape_cutoff_momentum(model.kappa1, model.u1, model.escape_length, q, p[0])
    j = int(np.nonzero((num < 1.0 / math.e) & (p > 2.0))[0][0])
    pc_num = math.exp(np.interp(-1.0, np.log(num[[j, j - 1]]), np.log(p[[j, j - 1]])))
    assert pc_num == pytest.approx(pc_exact, rel=0.02)
    assert 0.5 < pc_num / p_l < 2.0
    esc = dsa.escape_flux_cgs(model, psi)
    ratio = analytic.escape_flux_ratio(p, model.kappa1, model.u1, model.escape_length)
    esc_exact = model.u1 * ps * ratio * dsa.FLUX_TO_CGS
    big = esc_exact > 0.1 * esc_exact.max()
    assert np.max(np.abs(esc[big] / esc_exact[big] - 1.0)) < 0.05
    dp = np.diff(model.p_edges)
    assert np.sum(esc * dp) / np.sum(esc_exact * dp) == pytest.approx(1.0, abs=0.01)
    out = dsa.outflow_flux_cgs(model, psi)
    balance = np.sum((esc + out) * dp) / model.config.injection_rate_cm2_s
    assert balance == pytest.approx(1.0, abs=1e-6)
    model.destroy()


@pytest.mark.serial  # ~300 steps of GMRES/block-LU each on 2 ranks: too slow for that pass
@pytest.mark.parametrize("compression,kappa2", [(4.0, 1.0), (2.5, 0.5)])
def test_acceleration_time(compression, kappa2):
    """Time-dependent run (Crank-Nicolson after two backward-Euler half steps, dt/t <= 5%)
    from an empty domain with a constant injection.  F(p, t) = psi/psi_steady at the shock
    is the distribution of acceleration times; against Drury (1983):
    mean int (1 - F) dt vs t_acc = 3/(u1-u2) int (kappa1/u1 + kappa2/u2) dp/p, and its
    standard deviation vs sqrt(6/(u1-u2) int (kappa1^2/u1^3 + kappa2^2/u2^3) dp/p), at
    4-50 p0 where F(age) > 0.999: within 2% (the brief asks 10%; measured <= 1.1% and
    <= 0.7%).  "Reached": F(p, t) = 1 - 1/e at t within 10% of t_acc(p) at 10-50 p0
    (measured 0.92-0.93 t_acc for r = 4, 1.03 for r = 2.5; 0.89 at 4 p0 for r = 4, where
    the distribution has not yet its self-similar shape; the half-rise time is 0.76 and
    0.90 t_acc: the distribution is broad, sigma = 0.81 t_acc for r = 4)."""
    model = dsa.build_model(
        shock_config(
            POWER_LAW
            | {
                "compression_ratio": compression,
                "kappa_downstream_factor": kappa2,
                "p_max_gev": 300.0,
                "escape_distance_pc": 0.0065,
                "age_yr": 15.0,
                "time_scheme": "cn-be",
            }
        )
    )
    psi_inf = dsa.steady_state(model)[model.shock_index]
    hist = dsa.run_time_dependent(model)
    p = model.p
    sel = (p >= 4.0) & (p <= 50.0)
    assert np.all(hist.psi_shock[-1, sel] / psi_inf[sel] > 0.999)
    mean = hist.mean_time_yr(psi_inf)
    theory = model.theory_mean_time_yr(p[sel])
    np.testing.assert_allclose(mean[sel], theory, rtol=0.02)
    sigma = np.sqrt(hist.second_moment_yr2(psi_inf) - mean**2)
    np.testing.assert_allclose(sigma[sel], model.theory_time_sigma_yr(p[sel]), rtol=0.02)
    reached = hist.rise_time_yr(psi_inf, 1.0 - 1.0 / math.e)
    high = p[sel] >= 10.0
    np.testing.assert_allclose(reached[sel][high], theory[high], rtol=0.10)
    model.destroy()


@pytest.mark.serial  # on 2 ranks GMRES/block-LU needs ~40 iterations a step (~4 min)
def test_backward_euler_first_moment_identity():
    """Backward Euler from psi = 0: sum dt_n (psi_inf - psi_{n+1}) = A^-1 (psi_inf - psi_N)
    for any steps (telescoping (1 + dt A) psi_{n+1} = psi_n + dt S), so the right-end sum
    of 1 - F equals the discrete A^-1 psi_inf / psi_inf of one more steady solve where
    psi_N has converged (F > 1 - 1e-7): to 1e-6 with steps growing 2x every 5."""
    model = dsa.build_model(
        shock_config(
            POWER_LAW
            | {
                "p_max_gev": 100.0,
                "momenta_per_decade": 10,
                "escape_distance_pc": 0.002,
                "age_yr": 5.0,
                "steps_per_doubling": 5,
            }
        )
    )
    psi = dsa.steady_state(model)
    psi_inf = psi[model.shock_index]
    hist = dsa.run_time_dependent(model)
    laplace = dsa.laplace_mean_time_yr(model, psi)
    ok = (hist.psi_shock[-1] / psi_inf > 1.0 - 1e-7) & (model.p > 1.5)
    assert ok.sum() >= 5
    np.testing.assert_allclose(hist.mean_time_yr(psi_inf)[ok], laplace[ok], rtol=1e-6)
    model.destroy()


def test_bohm_diffusion_coefficient():
    """Bohm kappa = r_g v / 3: B10's r_g = 3.3e12 cm (E/GeV)(B/muG)^-1 gives kappa = 1.1e23
    cm^2/s (r_g c/3) at 1 TeV and 3 muG: within 1.5% (B10's rounded constant; the exact one
    is 3.3356e12); at 1 GeV/c the speed v = 0.73 c lowers it by that factor."""
    cfg = shock_config(b_upstream_microgauss=3.0, b_downstream_microgauss=12.0)
    b10 = 3.3e12 * 1000.0 / 3.0 * C_CM_S / 3.0
    assert float(dsa.kappa_cm2_s(cfg, 1000.0)) == pytest.approx(b10, rel=0.015)
    assert float(dsa.kappa_cm2_s(cfg, 1000.0, "downstream")) == pytest.approx(b10 / 4, rel=0.015)
    beta = 1.0 / math.hypot(1.0, 0.93827208816)
    exact = float(gyroradius_cm(1.0, 3e-6)) * beta * C_CM_S / 3.0
    assert float(dsa.kappa_cm2_s(cfg, 1.0)) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(
    "keys,words",
    [
        ({"compression_ratio": 1.0}, "shock.compression_ratio = 1.0"),
        ({"shock_speed": 5.0}, "shock.shock_speed = 5.0: unknown key"),
        ({"profile": "tanh"}, "shock.profile = 'tanh': allowed"),
        ({"kappa_index": 0.5}, "shock.kappa_index = 0.5 does not apply to shock.diffusion"),
        ({"smoothing_cells": 4.0}, "does not apply to shock.profile = 'sharp'"),
        ({"p_max_gev": 5.0}, "shock.p_max_gev = 5 must be at least 10"),
        ({"age_yr": float("nan")}, "shock.age_yr"),
    ],
)
def test_bad_input(keys, words):
    """Bad [shock] keys: one-line ConfigError (a ValueError) naming key, value, what is allowed."""
    with pytest.raises(ValueError) as err:
        shock_config(keys)
    assert isinstance(err.value, ConfigError)
    msg = str(err.value)
    assert "\n" not in msg and words in msg, msg


def test_escape_distance_too_short():
    """An escape boundary inside the shock's first cells is refused, naming the key."""
    cfg = shock_config(POWER_LAW | {"escape_distance_pc": 1e-7})
    with pytest.raises(ValueError, match="shock.escape_distance_pc"):
        dsa.build_model(cfg)
