"""Quasi-linear scattering, the 90 degree problem and its cures (issue 3: quasi-linear theory).

Setting: B0 = 3 muG, slab turbulence delta B / B0 = 0.5 with outer scale 50 pc.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py.microphysics.gyration import gyroradius_cm
from galprop_py.microphysics.quasilinear import (
    graded_mu_grid,
    inertial_range_mean_free_path_cm,
    mean_free_path_cm,
    parallel_diffusion_coefficient,
    pitch_angle_diffusion_slab,
    slab_parallel_diffusion,
    uniform_mu_grid,
)
from galprop_py.microphysics.transit_time_damping import (
    bessel_integral_closed_form,
    gyro_filtered_energy,
    ttd_pitch_angle_diffusion,
)
from galprop_py.microphysics.turbulence import TurbulenceSpectrum
from galprop_py.units import C_CM_S, PC_CM

# functions of one process (no grid, no PETSc, no MPI): the 2-rank pass would only repeat
# them
pytestmark = pytest.mark.serial

B0 = 3e-6
BETA = 0.9999
V = BETA * C_CM_S
OUTER = 50 * PC_CM
R_TWO_DECADES = np.geomspace(1.0, 100.0, 5)  # GV; k_min r_g ~ 1e-7 .. 1e-5: inertial range


def _slope(x, y):
    return np.polyfit(np.log(x), np.log(y), 1)[0]


@pytest.mark.parametrize("q", [5 / 3, 3 / 2])
def test_unbounded_power_law_matches_closed_form(q):
    # sharp QLT, spectrum k^-q without end: lambda_par = 6 r_g^(2-q) / (pi C (2-q)(4-q));
    # the graded mu grid misses ~ (1e-9)^(2-q) of the integral: tolerance 2e-3
    spectrum = TurbulenceSpectrum.from_scales(0.5, q, OUTER)
    lam = [
        mean_free_path_cm(slab_parallel_diffusion(r, BETA, B0, spectrum), V) for r in R_TWO_DECADES
    ]
    np.testing.assert_allclose(
        lam, inertial_range_mean_free_path_cm(R_TWO_DECADES, B0, spectrum), rtol=2e-3
    )
    assert _slope(R_TWO_DECADES, lam) == pytest.approx(2 - q, abs=1e-3)


@pytest.mark.parametrize("q", [5 / 3, 3 / 2])
def test_mean_free_path_slope_with_broadening_and_dissipation(q):
    # the realistic model: dissipation range (p = 3) from 1e9 cm, resonance broadening
    # Delta_mu = 0.1.  Issue 3: lambda_par ~ R^(2 - q) to +-0.02 over two decades.
    spectrum = TurbulenceSpectrum.from_scales(0.5, q, OUTER, 1e9, 3.0)
    lam = [
        mean_free_path_cm(slab_parallel_diffusion(r, BETA, B0, spectrum, broadening=0.1), V)
        for r in R_TWO_DECADES
    ]
    assert _slope(R_TWO_DECADES, lam) == pytest.approx(2 - q, abs=0.02)
    local = np.diff(np.log(lam)) / np.diff(np.log(R_TWO_DECADES))
    assert np.all(np.abs(local - (2 - q)) < 0.02)


# 90 degree problem: dissipation range from k_max = 20 / r_g (10 GV), so that the uniform
# mu grids below reach |mu| < 1 / (k_max r_g) = 0.05 where D_mumu ~ mu^(p - 1) = mu^2.
NINETY_SPECTRUM = TurbulenceSpectrum.from_scales(0.5, 5 / 3, OUTER, 3.5e12, 3.0)
REFINEMENTS = (100, 200, 400, 800, 1600, 3200)


def _kappa_uniform(n, **options):
    mu, w = uniform_mu_grid(n)
    d = pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, NINETY_SPECTRUM, **options)
    return float(parallel_diffusion_coefficient(mu, w, d, V))


def test_ninety_degree_problem_kappa_grows_without_bound():
    # sharp resonance: D_mumu(0) = 0 and kappa_par ~ 1/mu_min ~ N grows with every refinement;
    # the doubling ratio tends to 2^(p - 2) = 2 (> 1.9 at the finest levels)
    kappas = np.array([_kappa_uniform(n) for n in REFINEMENTS])
    assert np.all(np.diff(kappas) > 0)
    ratios = kappas[1:] / kappas[:-1]
    assert np.all(ratios[-3:] > 1.9)
    assert kappas[-1] > 20 * kappas[0]
    mu = np.array([0.0, 1e-3])
    assert np.all(pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, NINETY_SPECTRUM) < 1e-12)


def test_sharp_end_of_spectrum_gives_infinite_kappa():
    # no dissipation range: D_mumu = 0 for |mu| < 1 / (k_max r_g): kappa_par = inf
    spectrum = TurbulenceSpectrum.from_scales(0.5, 5 / 3, OUTER, 3.5e12, None)
    mu, w = uniform_mu_grid(200)
    d = pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, spectrum)
    assert np.isinf(parallel_diffusion_coefficient(mu, w, d, V))


@pytest.mark.parametrize("shape", ["lorentzian", "gaussian"])
def test_resonance_broadening_gives_converged_kappa(shape):
    # Delta_mu = 0.1: D_mumu(0) > 0; kappa_par changes by < 1e-5 between the last two
    # refinements and agrees with the graded quadrature to 1e-5
    options = {"broadening": 0.1, "resonance_shape": shape}
    kappas = np.array([_kappa_uniform(n, **options) for n in (200, 400, 800, 1600)])
    assert np.all(np.isfinite(kappas))
    assert abs(kappas[-1] / kappas[-2] - 1) < 1e-5
    mu, w = graded_mu_grid(16)
    d = pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, NINETY_SPECTRUM, **options)
    assert float(parallel_diffusion_coefficient(mu, w, d, V)) == pytest.approx(kappas[-1], rel=1e-5)
    d0 = pitch_angle_diffusion_slab(0.0, 10.0, BETA, B0, NINETY_SPECTRUM, **options)
    assert d0 > 0.0


def test_broadened_tends_to_sharp():
    # away from 90 degrees, Delta_mu -> 0 recovers the sharp QLT value: second order for the
    # Gaussian profile (3e-4 at Delta_mu = 1e-3, k resolved with 2000 points per decade), first
    # order for the Lorentzian (its heavy tails): halving Delta_mu halves the error (+-10%)
    spectrum = TurbulenceSpectrum.from_scales(0.5, 5 / 3, OUTER)
    mu = np.array([0.3, 0.6, 0.9])
    sharp = pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, spectrum)

    def broad(delta_mu, shape, points):
        return pitch_angle_diffusion_slab(
            mu,
            10.0,
            BETA,
            B0,
            spectrum,
            broadening=delta_mu,
            resonance_shape=shape,
            k_points_per_decade=points,
        )

    np.testing.assert_allclose(broad(1e-3, "gaussian", 2000), sharp, rtol=3e-4)
    error_wide = broad(4e-3, "lorentzian", 500)[:2] / sharp[:2] - 1
    error_narrow = broad(2e-3, "lorentzian", 1000)[:2] / sharp[:2] - 1
    np.testing.assert_allclose(error_wide / error_narrow, 2.0, rtol=0.1)


def test_magnetostatic_form_and_alfven_waves():
    spectrum = TurbulenceSpectrum.from_scales(0.5, 5 / 3, OUTER)
    r_g = float(gyroradius_cm(10.0, B0))
    mu = np.array([-0.7, 0.2, 0.5])
    d = pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, spectrum)
    k_res = 1.0 / (r_g * np.abs(mu))
    expected = 0.25 * math.pi * (V / r_g) * (1 - mu**2) * k_res * spectrum.energy(k_res)
    np.testing.assert_allclose(d, expected, rtol=1e-12)
    # balanced Alfven waves: symmetric in mu; v_A -> 0 recovers the magnetostatic result
    mus = np.array([0.1, 0.4, 0.8])
    waves = pitch_angle_diffusion_slab(mus, 10.0, BETA, B0, spectrum, alfven_speed_cm_s=1e8)
    mirrored = pitch_angle_diffusion_slab(-mus, 10.0, BETA, B0, spectrum, alfven_speed_cm_s=1e8)
    np.testing.assert_allclose(waves, mirrored, rtol=1e-12)
    slow = pitch_angle_diffusion_slab(mus, 10.0, BETA, B0, spectrum, alfven_speed_cm_s=1e-3)
    np.testing.assert_allclose(
        slow, pitch_angle_diffusion_slab(mus, 10.0, BETA, B0, spectrum), 1e-9
    )
    # at mu = 0 waves resonate at k = Omega / v_A: D(0) = (pi/4) Omega^2 E(Omega / v_A) / v_A,
    # here deep in the dissipation range, so tiny: waves do not cure the 90 degree problem
    v_a = 1e6
    omega = V / r_g
    d0 = pitch_angle_diffusion_slab(0.0, 10.0, BETA, B0, NINETY_SPECTRUM, alfven_speed_cm_s=v_a)
    e_res = NINETY_SPECTRUM.energy(omega / v_a)
    assert d0 == pytest.approx(0.25 * math.pi * omega**2 * e_res / v_a, rel=1e-12)
    assert d0 < 1e-6 * pitch_angle_diffusion_slab(0.5, 10.0, BETA, B0, NINETY_SPECTRUM)


# --- transit-time damping by fast modes -------------------------------------------------
FAST = TurbulenceSpectrum.from_scales(0.1, 1.5, OUTER, 3.5e12, 3.0)
FAST_SPEED = 3e6  # 30 km/s


@pytest.mark.parametrize("q", [1.5, 5 / 3])
def test_gyro_filtered_energy_closed_form(q):
    # G(a) = C [a^(q-2) I_q + k_min^(2-q) (1/2 - 1/(2-q))] for k_min a << 1, no k_max: the
    # closed form of the inertial range plus the flat range's correction; 2e-4 relative
    spectrum = TurbulenceSpectrum.from_scales(0.1, q, OUTER)
    a = np.array([0.3, 1.0]) * float(gyroradius_cm(10.0, B0))
    k1 = spectrum.k_min_per_cm
    expected = spectrum.normalisation * (
        a ** (q - 2) * bessel_integral_closed_form(q) + k1 ** (2 - q) * (0.5 - 1 / (2 - q))
    )
    np.testing.assert_allclose(gyro_filtered_energy(a, spectrum), expected, rtol=2e-4)


def test_sharp_ttd_closed_form_and_gap():
    spectrum = TurbulenceSpectrum.from_scales(0.1, 1.5, OUTER)
    mu = np.array([0.01, 0.2, 0.7])
    d = ttd_pitch_angle_diffusion(mu, 10.0, BETA, B0, spectrum, FAST_SPEED)
    r_g = float(gyroradius_cm(10.0, B0))
    x_r = FAST_SPEED / (V * mu)
    a_r = r_g * np.sqrt(1 - x_r**2) * np.sqrt(1 - mu**2)
    g = spectrum.normalisation * a_r**-0.5 * bessel_integral_closed_form(1.5)
    expected = math.pi * V * (1 - mu**2) ** 2 / (8 * mu) * x_r**2 * (1 - x_r**2) * g
    np.testing.assert_allclose(d, expected, rtol=2e-3)
    # no TTD for |mu| < v_f / v: the sharp resonance leaves a gap around 90 degrees
    gap = ttd_pitch_angle_diffusion(np.array([0.0, 5e-5, -5e-5]), 10.0, BETA, B0, spectrum, 3e6)
    assert np.all(gap == 0.0)


def test_broadened_ttd_fills_the_gap_and_tends_to_sharp():
    mu = np.array([0.0, 5e-5, 0.5])
    broad = ttd_pitch_angle_diffusion(mu, 10.0, BETA, B0, FAST, FAST_SPEED, broadening=0.1)
    assert np.all(broad[:2] > 0.0)
    sharp = ttd_pitch_angle_diffusion(mu[2:], 10.0, BETA, B0, FAST, FAST_SPEED)
    narrow = ttd_pitch_angle_diffusion(mu[2:], 10.0, BETA, B0, FAST, FAST_SPEED, broadening=0.01)
    assert narrow[0] == pytest.approx(sharp[0], rel=1e-3)


def test_ttd_gives_converged_kappa():
    # sharp slab scattering (90 degree problem) plus broadened TTD: kappa_par finite and
    # converged to 1e-4 under doubling of the uniform mu grid
    def kappa(n):
        mu, w = uniform_mu_grid(n)
        d = pitch_angle_diffusion_slab(mu, 10.0, BETA, B0, NINETY_SPECTRUM)
        d = d + ttd_pitch_angle_diffusion(mu, 10.0, BETA, B0, FAST, FAST_SPEED, broadening=0.1)
        return float(parallel_diffusion_coefficient(mu, w, d, V))

    k200, k400, k800 = kappa(200), kappa(400), kappa(800)
    assert np.isfinite(k800)
    assert abs(k800 / k400 - 1) < 1e-4 and abs(k400 / k200 - 1) < 1e-4
    # and far below the sharp-slab value on the same grid (which keeps growing)
    assert k800 < 0.1 * _kappa_uniform(800)


def test_mu_quadratures():
    # both grids integrate smooth functions on [-1, 1]; the graded one also mu^(1-q) near 0
    for mu, w in (uniform_mu_grid(400), graded_mu_grid(8)):
        assert np.sum(w) == pytest.approx(2.0, rel=1e-12)
        assert np.sum(w * mu**2) == pytest.approx(2 / 3, rel=1e-5)
        np.testing.assert_allclose(mu, -mu[::-1], atol=1e-15)
    mu, w = graded_mu_grid(8, 1e-12)
    # int_-1^1 |mu|^(-2/3) dmu = 6; the panel on [0, mu_min] misses ~ mu_min^(1/3) = 1e-4
    assert np.sum(w * np.abs(mu) ** (-2 / 3)) == pytest.approx(6.0, rel=2e-4)
