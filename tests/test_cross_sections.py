"""Nuclear tables, parametrisations and lifetimes of galprop_py.physics.cross_sections."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py.network import nuclides
from galprop_py.physics import cross_sections as cs
from galprop_py.units import M_P_G, MYR_S

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial


def test_energy_grid_matches_table_definition():
    t = cs.table_energy_grid()
    assert t.shape == (100,)
    assert t[0] == pytest.approx(0.1)
    assert np.allclose(t[1:] / t[:-1], 1.1)
    assert t[-1] == pytest.approx(0.1 * 1.1**99)  # 1.25 TeV/n


def test_table_shapes():
    crosec = cs.read_inelastic_table("crosec")
    tripathi = cs.read_inelastic_table("tripathi99")
    frag = cs.read_fragmentation_table()
    assert len(crosec) == 20 and len(tripathi) == 23 and len(frag) == 203
    for table in (crosec, tripathi, frag):
        assert all(v.shape == (100,) for v in table.values())
    assert (6, 12) in crosec and (2, 4) not in crosec and (2, 4) in tripathi


def test_spot_values_from_raw_files():
    # first / last columns of rows read by eye from the raw text files
    crosec = cs.read_inelastic_table("crosec")
    assert crosec[(26, 56)][0] == 732.635 and crosec[(26, 56)][1] == 716.775
    assert crosec[(16, 32)][0] == 473.044
    tripathi = cs.read_inelastic_table("tripathi99")
    assert tripathi[(26, 56)][0] == 751.494 and tripathi[(14, 28)][0] == 470.376
    frag = cs.read_fragmentation_table()
    assert frag[((26, 56), (16, 32))][0] == 0.20277
    assert frag[((16, 32), (14, 28))][0] == 44.6506
    assert frag[((6, 12), (5, 11))][0] == 61.3027  # C12 -> B11 at 0.1 GeV/n
    assert frag[((6, 12), (5, 11))][-1] == 52.4009


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="crosec"):
        cs.read_inelastic_table("glauber")


def test_interpolation_exact_on_nodes_and_held_outside():
    grid = cs.table_energy_grid()
    row = cs.read_inelastic_table("crosec")[(6, 12)]
    assert np.array_equal(cs.sigma_inelastic_h_mb(grid, 6, 12), row)
    assert cs.sigma_inelastic_h_mb(1e5, 6, 12) == row[-1]
    assert cs.sigma_inelastic_h_mb(0.01, 6, 12) == row[0]
    # between two nodes: linear in ln T, so the geometric mean gives the arithmetic mean
    mid = math.sqrt(grid[10] * grid[11])
    assert cs.sigma_inelastic_h_mb(mid, 6, 12) == pytest.approx(0.5 * (row[10] + row[11]))


def test_fragmentation_lookup_and_missing_channel():
    grid = cs.table_energy_grid()
    row = cs.read_fragmentation_table()[((8, 16), (5, 10))]
    assert np.array_equal(cs.sigma_fragmentation_h_mb(grid, (8, 16), (5, 10)), row)
    assert np.all(cs.sigma_fragmentation_h_mb(grid[:3], (5, 10), (8, 16)) == 0.0)


def test_fallbacks_tripathi_then_letaw():
    he4 = cs.sigma_inelastic_h_mb(cs.table_energy_grid(), 2, 4)
    assert np.array_equal(he4, cs.read_inelastic_table("tripathi99")[(2, 4)])
    ni58 = cs.sigma_inelastic_h_mb(10.0, 28, 58)  # in neither table
    assert ni58 == pytest.approx(cs.sigma_letaw_mb(10.0, 58))
    # Letaw et al. 1983 agrees with CROSEC for C12 at 10 GeV/n to ~5%
    assert cs.sigma_letaw_mb(10.0, 12) == pytest.approx(cs.sigma_inelastic_h_mb(10.0, 6, 12), 0.05)


def test_sigma_pp_kafexhiu():
    assert cs.T_PP_THRESHOLD_GEV == pytest.approx(0.2797, abs=1e-4)
    s = cs.sigma_pp_inelastic_mb([0.2, 10.0, 100.0, 1e3])
    assert s[0] == 0.0
    # eq. 1 of Kafexhiu et al. 2014: 29.5 mb at 10 GeV, 31.3 mb at 100 GeV, 34.9 mb at 1 TeV
    assert s[1:] == pytest.approx([29.47, 31.28, 34.90], abs=0.02)
    assert np.all((s[1:3] > 29.0) & (s[1:3] < 40.0))
    assert np.array_equal(cs.sigma_inelastic_h_mb([10.0], 1, 1), cs.sigma_pp_inelastic_mb([10.0]))


def test_helium_factor_documented_value():
    assert cs.K_HE == pytest.approx(2.519842, rel=1e-6)  # 4^(2/3)
    assert cs.helium_target_factor(0.1) == pytest.approx((1 + 0.1 * 2.519842) / 1.1, 1e-6)
    assert cs.helium_target_factor(0.0) == 1.0
    with pytest.raises(ValueError):
        cs.helium_target_factor(-0.1)


def test_spallation_rate_is_n_v_sigma():
    t_n, n_h, f_he = 10.0, 1.0, 0.1
    rate = cs.spallation_rate_per_s(t_n, 6, 12, n_h, f_he)
    v = cs.velocity_cm_s_per_nucleon(t_n, 6, 12)
    sigma = cs.sigma_inelastic_h_mb(t_n, 6, 12) * 1e-27
    assert rate == pytest.approx(n_h * v * sigma * (1 + cs.K_HE * f_he), rel=1e-12)
    # C12 at 1 H atom per cm^3: destruction time ~ 3.4 Myr
    assert 1.0 / (rate * MYR_S) == pytest.approx(3.4, rel=0.05)


def test_leaky_box_benchmark_b3():
    ratio = cs.secondary_to_primary_leaky_box(280.0, 250.0, 70.0, 7.31, 1.4 * M_P_G)
    assert ratio == pytest.approx(0.1227, abs=5e-5)


def test_mean_life_is_the_network_decay_table():
    """cs.mean_life_myr is a thin wrapper of galprop_py.network.nuclides (the one decay
    table): 10Be t1/2 = 1.387 Myr (Chmeleff et al. 2010) -> tau = 2.001 Myr (1e-3)."""
    assert cs.mean_life_myr(4, 10) == pytest.approx(1.387 / math.log(2), rel=1e-3)
    for za in ((6, 14), (13, 26), (25, 54), (26, 60), (4, 7), (5, 11)):
        assert cs.mean_life_myr(*za) == nuclides.cosmic_ray_mean_life_myr(za)
    assert cs.mean_life_myr(5, 11) is None  # stable
    assert cs.mean_life_myr(4, 7) is None  # pure EC: stable when bare


def test_nuclei_list():
    nuclei = cs.read_nuclei_list()
    assert len(nuclei) == 90
    first = nuclei[0]
    assert (first.z, first.a, first.is_tertiary, first.decay_time_myr) == (-1, 1, False, None)
    assert nuclei[1].is_tertiary and (nuclei[1].z, nuclei[1].a) == (1, 1)
    by_za = {(n.z, n.a): n for n in nuclei if not n.is_tertiary}
    assert by_za[(1, 1)].ism_fraction_percent == pytest.approx(99.99806)
    assert by_za[(6, 12)].injection_slope == pytest.approx(4.33)
    # the list's own (older) decay times, returned as written
    assert by_za[(4, 10)].decay_time_myr == pytest.approx(2.178)
    assert by_za[(25, 54)].decay_time_myr == pytest.approx(0.909)
    radioactive = {za for za, n in by_za.items() if n.decay_time_myr is not None}
    assert radioactive <= set(nuclides.DECAYS)


def test_pbar_nuclear_scaling_in_the_fragmentation_regions():
    """Korsmeier, Donato & Di Mauro 2018 (PRD 97, 103019): sigma_inv(A_P A_T) = sigma_inv(pp)
    (A_P A_T)^D1 [A_P^D2 F_pro + A_T^D2 (1 - F_pro)], D1 = 0.828, D2 = 0.145, with the NA49
    overlap F_pro = 0 for x_f < -0.25 and 1 for x_f > 0.25.  A slow pbar from a 1 TeV/n
    projectile is backward (target side) at every angle, one at half the maximum energy
    forward: there the ratios to pp are these constants (and p He backward = He p forward)."""
    from galprop_py.physics import antiprotons as ap

    d1, d2 = 0.828, 0.145
    t_n = 1e3
    backward, forward = 0.1, 0.5 * ap.pbar_max_kinetic_energy_gev(t_n)
    expected = {  # (projectile, target): (backward, forward)
        ((1, 1), "He"): (4.0 ** (d1 + d2), 4.0**d1),
        ((2, 4), "H"): (4.0**d1, 4.0 ** (d1 + d2)),
        ((2, 4), "He"): (16.0**d1 * 4.0**d2, 16.0**d1 * 4.0**d2),
    }
    t = np.array([backward, forward])
    pp = ap.dsigma_dt_pbar_mb_gev(t, t_n)
    assert np.all(pp > 0.0)
    for (projectile, target), ratios in expected.items():
        ratio = ap.dsigma_dt_pbar_mb_gev(t, t_n, projectile, target) / pp
        assert ratio == pytest.approx(ratios, rel=1e-12)
