"""Moments n, J, u of the distribution function (issue 3: kinematics and moments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from galprop_py.microphysics.moments import (
    energy_density,
    mean_speed_cm_s,
    number_density,
    particle_flux,
    power_law_energy_density_ultrarelativistic,
    power_law_number_density,
)
from galprop_py.physics.kinematics import total_energy
from galprop_py.units import C_CM_S, M_E_GEV, M_P_GEV

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

P1, P2 = 0.1, 1.0e4  # GeV/c
# trapezoid in ln p with 200 points per decade: error ~ (h^2/12) (4 - s)^2 ~ 2e-5
P_GRID = np.geomspace(P1, P2, 1001)
RTOL_GRID = 1e-4


@pytest.mark.parametrize("index", [2.0, 3.0, 4.7])
def test_power_law_number_density(index):
    f = 2.5 * P_GRID**-index
    n = number_density(f, P_GRID)
    assert n == pytest.approx(power_law_number_density(2.5, index, P1, P2), rel=RTOL_GRID)


@pytest.mark.parametrize("index", [2.2, 4.0, 4.7])
@pytest.mark.parametrize("mass", [M_P_GEV, M_E_GEV])
def test_power_law_energy_density_relativistic(index, mass):
    # reference: quad of the analytic integrand 4 pi A p^(2-s) sqrt(p^2 + m^2) (in ln p)
    def integrand(ln_p):
        p = math.exp(ln_p)
        return 4.0 * math.pi * p ** (3.0 - index) * math.sqrt(p * p + mass * mass)

    exact = quad(integrand, math.log(P1), math.log(P2), epsrel=1e-12, limit=200)[0]
    u = energy_density(P_GRID**-index, P_GRID, mass)
    assert u == pytest.approx(exact, rel=RTOL_GRID)


def test_energy_density_ultrarelativistic_limit():
    # for p >> m the relativistic u tends to the closed form with E = p c; 1e-4 (m/p1 ~ 1e-5)
    p = np.geomspace(100.0, 1.0e6, 801)
    u = energy_density(p**-4.5, p, M_E_GEV)
    ur = power_law_energy_density_ultrarelativistic(1.0, 4.5, 100.0, 1.0e6)
    assert u == pytest.approx(ur, rel=RTOL_GRID)
    # kinetic energy density = total minus m n
    kin = energy_density(p**-4.5, p, M_P_GEV, include_rest_mass=False)
    tot = energy_density(p**-4.5, p, M_P_GEV)
    assert kin == pytest.approx(tot - M_P_GEV * number_density(p**-4.5, p), rel=1e-12)


def test_isotropic_f_carries_no_flux():
    f = np.outer([1.0, 3.0], P_GRID**-4.7)  # two spatial cells
    # isotropic form: exactly zero
    assert np.all(particle_flux(f, P_GRID, M_P_GEV) == 0.0)
    # the same f on a symmetric Gauss-Legendre mu grid: zero to round-off
    mu, w = np.polynomial.legendre.leggauss(16)
    f_mu = np.repeat(f[:, np.newaxis, :], mu.size, axis=1)
    j = particle_flux(f_mu, P_GRID, M_P_GEV, mu=mu, mu_weights=w)
    n = number_density(f_mu, P_GRID, mu=mu, mu_weights=w)
    assert np.all(np.abs(j) <= 1e-14 * n * C_CM_S)
    np.testing.assert_allclose(n, number_density(f, P_GRID), rtol=1e-13)


def test_dipole_anisotropy_flux_and_spatial_axes():
    # f = f0 (1 + 3 delta mu): J = delta n <v> exactly in mu; momentum-last, spatial axes kept
    delta = np.array([[1e-3, -2e-3, 0.0], [5e-4, 0.0, 1e-2]])  # (2, 3) spatial grid
    mu, w = np.polynomial.legendre.leggauss(8)
    f0 = P_GRID**-4.7
    f = f0 * (1.0 + 3.0 * delta[..., None, None] * mu[:, None])
    j = particle_flux(f, P_GRID, M_P_GEV, mu=mu, mu_weights=w)
    n0 = number_density(f0, P_GRID)
    expected = delta * n0 * mean_speed_cm_s(f0, P_GRID, M_P_GEV)
    # round-off of the mu quadrature only (delta = 0 cells give ~1e-15 n0 c)
    np.testing.assert_allclose(j, expected, rtol=1e-12, atol=1e-14 * n0 * C_CM_S)
    # the vector form along a field direction
    b_hat = np.array([0.0, 0.6, 0.8])
    jv = particle_flux(f, P_GRID, M_P_GEV, mu=mu, mu_weights=w, b_hat=b_hat)
    assert jv.shape == (2, 3, 3)
    np.testing.assert_allclose(jv[..., 2], 0.8 * j, rtol=1e-14)


def test_mean_speed_uses_relativistic_velocity():
    # a narrow distribution around p = 1 GeV/c: <v> = c p / E for protons (1e-6)
    p = np.geomspace(0.999, 1.001, 201)
    v = mean_speed_cm_s(np.ones_like(p), p, M_P_GEV)
    assert v == pytest.approx(C_CM_S / total_energy(1.0, M_P_GEV), rel=1e-6)


def test_trapezoid_mu_weights_and_errors():
    mu = np.linspace(-1.0, 1.0, 2001)
    f = np.ones((mu.size, P_GRID.size)) * P_GRID**-4.0
    n = number_density(f, P_GRID, mu=mu)
    assert n == pytest.approx(number_density(P_GRID**-4.0, P_GRID), rel=1e-12)
    with pytest.raises(ValueError):
        number_density(f[:, :-1], P_GRID, mu=mu)
    with pytest.raises(ValueError):
        number_density(P_GRID, P_GRID[::-1])
