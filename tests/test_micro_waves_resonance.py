"""MHD wave speeds and polarisation, and the resonance table (issue 3: MHD waves, resonances)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import trapezoid

from galprop_py.microphysics.mhd_waves import (
    alfven_speed_cm_s,
    phase_speeds,
    polarisation,
    sound_speed_cm_s,
    wave_matrix,
)
from galprop_py.microphysics.resonance import (
    GYRORESONANCE,
    TRANSIT_TIME_DAMPING,
    can_resonate,
    landau_resonant_mu,
    resonance_function,
    resonant_parallel_wavenumber,
    scattering_channels,
)

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

GAMMA = 5.0 / 3.0
THETA = np.linspace(0.0, math.pi / 2, 19)


def test_low_beta_limit():
    # beta -> 0: fast isotropic at v_A, slow -> c_s cos(theta); relative 1e-5 at beta = 1e-6
    beta = 1e-6
    s = phase_speeds(beta, THETA)
    cs = math.sqrt(0.5 * GAMMA * beta)
    np.testing.assert_allclose(s.fast, 1.0, rtol=1e-5)
    np.testing.assert_allclose(s.slow, cs * np.cos(THETA), rtol=1e-5, atol=1e-15)
    np.testing.assert_allclose(s.alfven, np.cos(THETA), atol=1e-15)


def test_high_beta_limit():
    # beta -> inf: fast -> c_s (isotropic sound), slow -> v_A cos(theta); 1e-5 at beta = 1e6
    beta = 1e6
    s = phase_speeds(beta, THETA)
    cs = math.sqrt(0.5 * GAMMA * beta)
    np.testing.assert_allclose(s.fast / cs, 1.0, rtol=1e-5)
    np.testing.assert_allclose(s.slow, np.cos(THETA), rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("beta", [0.01, 0.5, 1.2, 10.0])
def test_ordering_and_invariants(beta):
    s = phase_speeds(beta, THETA)
    cs2 = 0.5 * GAMMA * beta
    eps = 1e-12
    assert np.all(s.slow <= s.alfven + eps)  # slow <= v_A |cos theta|
    assert np.all(s.slow <= math.sqrt(min(1.0, cs2)) * np.cos(THETA) + eps)
    assert np.all(s.alfven <= s.fast + eps)
    assert np.all(s.fast >= math.sqrt(max(1.0, cs2)) - eps)
    np.testing.assert_allclose(s.fast**2 + s.slow**2, 1.0 + cs2, rtol=1e-13)
    np.testing.assert_allclose(s.fast**2 * s.slow**2, cs2 * np.cos(THETA) ** 2, atol=1e-13)
    # at theta = 0 the fast speed is max(v_A, c_s), the slow one min(v_A, c_s)
    s0 = phase_speeds(beta, 0.0)
    assert float(s0.fast) == pytest.approx(math.sqrt(max(1.0, cs2)), rel=1e-13)
    assert float(s0.slow) == pytest.approx(math.sqrt(min(1.0, cs2)), rel=1e-13)


@pytest.mark.parametrize("beta", [0.05, 3.0])
@pytest.mark.parametrize("theta", [0.3, 1.0, 1.4])
def test_polarisation(beta, theta):
    speeds = phase_speeds(beta, theta)
    matrix = wave_matrix(beta, theta)
    for mode in ("alfven", "slow", "fast"):
        pol = polarisation(mode, beta, theta)
        # an eigenvector of the MHD wave equation with eigenvalue (omega/k)^2
        np.testing.assert_allclose(
            matrix @ pol.displacement, speeds.of(mode) ** 2 * pol.displacement, atol=1e-12
        )
    alfven = polarisation("alfven", beta, theta)
    assert alfven.delta_b_parallel_fraction == 0.0 and alfven.density_compression == 0.0
    assert not alfven.has_compressive_delta_b and alfven.has_transverse_delta_b
    for mode in ("slow", "fast"):
        pol = polarisation(mode, beta, theta)
        assert pol.delta_b_parallel_fraction == pytest.approx(math.sin(theta), rel=1e-12)
        assert pol.has_compressive_delta_b and pol.density_compression > 0.0
        # delta B is perpendicular to k (div B = 0)
        k_hat = np.array([math.sin(theta), 0.0, math.cos(theta)])
        assert abs(pol.delta_b @ k_hat) < 1e-14


def test_parallel_fast_mode_is_transverse():
    # along B0 (low beta) the fast mode is the transverse (Alfvenic) wave: no TTD at theta = 0
    pol = polarisation("fast", 0.1, 0.0)
    assert pol.delta_b_parallel_fraction == 0.0 and pol.has_transverse_delta_b
    assert not can_resonate("fast", 0, 0.1, 0.0)


def test_dimensional_speeds():
    # 1 muG, 1 proton/cm^3: v_A = 2.18 km/s; beta = 2 / gamma gives c_s = v_A
    v_a = alfven_speed_cm_s(1e-6, 1.0)
    assert v_a == pytest.approx(2.18e5, rel=2e-3)
    assert sound_speed_cm_s(2.0 / GAMMA, v_a) == pytest.approx(v_a, rel=1e-14)


def test_scattering_table():
    table = scattering_channels()
    assert table == {
        "alfven": {GYRORESONANCE: True, TRANSIT_TIME_DAMPING: False},
        "slow": {GYRORESONANCE: True, TRANSIT_TIME_DAMPING: True},
        "fast": {GYRORESONANCE: True, TRANSIT_TIME_DAMPING: True},
    }
    for n in (-2, -1, 1, 2):
        assert can_resonate("alfven", n)
    assert not can_resonate("alfven", 0, plasma_beta=5.0, theta_rad=1.2)


def test_resonant_wavenumber():
    v, omega = 3e10, 0.1
    mu = np.array([-0.5, 0.25, 1.0])
    k = resonant_parallel_wavenumber(1, mu, v, omega)
    # magnetostatic: |k_par| = Omega / (v |mu|) = 1 / (r_g |mu|), and the resonance holds
    np.testing.assert_allclose(np.abs(k), omega / (v * np.abs(mu)), rtol=1e-15)
    np.testing.assert_allclose(0.0 - k * v * mu, 1 * omega, rtol=1e-15)
    # with waves: omega - k v mu = n Omega for omega = k u_par
    u = 3e6
    for n in (-2, -1, 1, 2):
        k = resonant_parallel_wavenumber(n, mu, v, omega, u)
        np.testing.assert_allclose(k * u - k * v * mu, n * omega, rtol=1e-12)
    assert np.isinf(resonant_parallel_wavenumber(1, 0.0, v, omega))
    with pytest.raises(ValueError):
        resonant_parallel_wavenumber(0, mu, v, omega)
    # TTD: v mu = u_par; impossible for waves faster than the particle
    assert landau_resonant_mu(u, v) == pytest.approx(1e-4)
    assert np.isnan(landau_resonant_mu(2 * v, v))


@pytest.mark.parametrize("shape", ["lorentzian", "gaussian"])
def test_resonance_function_normalised(shape):
    # integral over the mismatch is pi for any width (trapezoid on a wide, fine grid: 1e-3)
    a = np.linspace(-4e3, 4e3, 800001)
    for width in (0.5, 2.0):
        area = trapezoid(resonance_function(a, width, shape), a)
        assert area == pytest.approx(math.pi, rel=1e-3)
