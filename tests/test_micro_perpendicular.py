"""Perpendicular diffusion: FLRW and NLGC against closed-form limits (issue 3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py.microphysics.perpendicular import (
    field_line_diffusion_cm,
    kappa_perp_field_line_random_walk,
    kappa_perp_nlgc,
    nlgc_long_mean_free_path_cm,
    nlgc_short_mean_free_path_ratio,
)
from galprop_py.microphysics.turbulence import TurbulenceSpectrum
from galprop_py.units import C_CM_S, PC_CM

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

L_OUTER = 50 * PC_CM
V = C_CM_S


@pytest.mark.parametrize("q", [5 / 3, 3 / 2])
def test_field_line_diffusion_closed_form(q):
    # flat range below k_min: E(0) = (dB/B)^2 (q - 1) / (q k_min), so
    # D_FL = pi E(0) / 4 = (dB/B)^2 (q - 1) L / (8 q)  and  D_FL = (dB/B)^2 l_c / 2
    slab = TurbulenceSpectrum.from_scales(0.3, q, L_OUTER)
    d_fl = field_line_diffusion_cm(slab)
    assert d_fl == pytest.approx(0.09 * (q - 1) * L_OUTER / (8 * q), rel=1e-12)
    assert d_fl == pytest.approx(0.5 * 0.09 * slab.correlation_length_cm, rel=1e-12)
    kappa_par = 1e29
    perp = kappa_perp_field_line_random_walk(V, slab, kappa_par)
    assert perp.kappa_perp_cm2_s == pytest.approx(0.5 * V * d_fl, rel=1e-14)
    assert perp.ratio_to_parallel == pytest.approx(perp.kappa_perp_cm2_s / kappa_par)


def test_random_phase_field_lines_spread_as_d_fl():
    # Monte Carlo: slab fields b_x(z) = sum_n A_n cos(k_n z + phi_n) with A_n^2 = E(k_n) dk_n
    # (so <b_x^2> = (dB/B)^2 / 2); the field-line displacement x(Z) = int b_x dz is summed
    # analytically per mode.  <x^2> / (2 Z) at Z = 1000 / k_min must equal D_FL: 4000 lines,
    # statistical error ~ sqrt(2/4000) = 2.2%, tolerance 8%.
    slab = TurbulenceSpectrum.from_scales(0.3, 5 / 3, L_OUTER, 1e-3 * L_OUTER, 3.0)
    z = 1e3 / slab.k_min_per_cm
    edges = np.geomspace(1e-3 / z, 10 * slab.k_max_per_cm, 401)
    k = np.sqrt(edges[1:] * edges[:-1])
    amplitude = np.sqrt(slab.energy(k) * np.diff(edges))
    rng = np.random.default_rng(20240603)
    phases = rng.uniform(0.0, 2 * math.pi, size=(4000, k.size))
    x = np.sum(amplitude / k * (np.sin(k * z + phases) - np.sin(phases)), axis=1)
    assert np.mean(x**2) / (2 * z) == pytest.approx(field_line_diffusion_cm(slab), rel=0.08)


def test_nlgc_short_mean_free_path_limit():
    # lambda_par << all scales: kappa_perp / kappa_par = a^2 (dB_2D^2 + dB_slab^2) / 2 (1e-3)
    two_d = TurbulenceSpectrum(0.4, 5 / 3, 2 * math.pi / L_OUTER, 200 * math.pi / L_OUTER)
    slab = TurbulenceSpectrum(0.2, 5 / 3, 2 * math.pi / L_OUTER, 200 * math.pi / L_OUTER)
    lam = 1e-6 * L_OUTER
    perp = kappa_perp_nlgc(V, V * lam / 3, two_d, slab)
    expected = nlgc_short_mean_free_path_ratio(math.sqrt(0.4**2 + 0.2**2))
    assert perp.ratio_to_parallel == pytest.approx(expected, rel=1e-3)


def test_nlgc_long_mean_free_path_limit():
    # 2D turbulence, lambda_par >> L: lambda_perp = (sqrt(3) pi a^2 E(0) / 4)^(2/3)
    # lambda_par^(1/3) (Shalchi et al. 2004); 1e-3 relative at lambda_par = 1e6 L
    two_d = TurbulenceSpectrum.from_scales(0.5, 5 / 3, L_OUTER)
    lam = np.array([1e6, 1e7]) * L_OUTER
    lam_perp = [3 * kappa_perp_nlgc(V, V * x / 3, two_d).kappa_perp_cm2_s / V for x in lam]
    np.testing.assert_allclose(lam_perp, nlgc_long_mean_free_path_cm(lam, two_d), rtol=1e-3)
    slope = math.log(lam_perp[1] / lam_perp[0]) / math.log(10.0)
    assert slope == pytest.approx(1 / 3, abs=2e-3)


def test_nlgc_ratio_decreases_with_mean_free_path():
    two_d = TurbulenceSpectrum.from_scales(0.5, 5 / 3, L_OUTER)
    ratios = [
        kappa_perp_nlgc(V, V * x * L_OUTER / 3, two_d).ratio_to_parallel
        for x in (1e-3, 1e-1, 1e1, 1e3)
    ]
    assert np.all(np.diff(ratios) < 0)
    assert ratios[0] <= nlgc_short_mean_free_path_ratio(0.5) * (1 + 1e-9)
    with pytest.raises(ValueError):
        kappa_perp_nlgc(V, math.inf, two_d)
