"""Injection spectra and source profiles (galprop_py.physics.injection)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py.physics import injection as inj

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial


def log_slope(f, x, h=1e-5):
    """Central-difference d ln f / d ln x."""
    return (math.log(f(x * math.exp(h))) - math.log(f(x * math.exp(-h)))) / (2 * h)


def spectrum_at(rigidity, charge=1, **kw):
    return float(inj.broken_power_law(np.array([rigidity * abs(charge)]), charge, **kw)[0])


@pytest.mark.parametrize("charge", [1, 2, -1, 26])
def test_sharp_break_slopes_continuity_and_normalisation(charge):
    # two sharp breaks (one softening, one hardening); slopes exact to 1e-6 away from the
    # breaks, continuity at the break to 1e-8 relative, normalisation exactly 1 at R_ref.
    kw = dict(break_rigidities=[5.0, 300.0], indices=[1.8, 2.45, 2.2], reference_rigidity=10.0)
    for r, idx in ((1.0, 1.8), (40.0, 2.45), (3000.0, 2.2)):
        assert log_slope(lambda x: spectrum_at(x, charge, **kw), r) == pytest.approx(-idx, abs=1e-6)
    for rb in (5.0, 300.0):
        lo, hi = (
            spectrum_at(rb * (1 - 1e-10), charge, **kw),
            spectrum_at(rb * (1 + 1e-10), charge, **kw),
        )
        assert hi / lo == pytest.approx(1.0, abs=1e-8)
    assert spectrum_at(10.0, charge, **kw) == pytest.approx(1.0, abs=1e-14)

    # independent closed form of the piecewise power law (normalised at 10 GV)
    def closed(r):
        if r < 5.0:
            return (r / 5.0) ** -1.8 * (5.0 / 10.0) ** -2.45
        if r < 300.0:
            return (r / 10.0) ** -2.45
        return (r / 300.0) ** -2.2 * (300.0 / 10.0) ** -2.45

    for r in (0.3, 2.0, 7.0, 100.0, 1e4):
        assert spectrum_at(r, charge, **kw) == pytest.approx(closed(r), rel=1e-12)


def test_rigidity_uses_abs_charge():
    # He (Z=2) at p = 2R has the proton spectrum at R
    p = np.array([2.0, 20.0, 200.0])
    he = inj.broken_power_law(p, 2, [10.0], [2.0, 2.5])
    prot = inj.broken_power_law(p / 2, 1, [10.0], [2.0, 2.5])
    np.testing.assert_allclose(he, prot, rtol=1e-14)


def test_smooth_break_limits():
    # smooth break, width s = 0.1 in ln R: slopes approach the asymptotic indices far from
    # the break (1e-3 at 2 decades away), the log-slope at the break is the mean of the
    # two indices (exact for this form), normalisation 1 at R_ref.
    kw = dict(break_rigidities=[300.0], indices=[2.8, 2.6], reference_rigidity=30.0, smoothness=0.1)
    assert log_slope(lambda x: spectrum_at(x, **kw), 3.0) == pytest.approx(-2.8, abs=1e-3)
    assert log_slope(lambda x: spectrum_at(x, **kw), 3e4) == pytest.approx(-2.6, abs=1e-3)
    assert log_slope(lambda x: spectrum_at(x, **kw), 300.0) == pytest.approx(-2.7, abs=1e-6)
    assert spectrum_at(30.0, **kw) == pytest.approx(1.0, abs=1e-14)
    # smooth -> sharp as s -> 0 (away from the break)
    sharp = dict(kw, smoothness=0.0)
    assert spectrum_at(3000.0, **dict(kw, smoothness=1e-3)) == pytest.approx(
        spectrum_at(3000.0, **sharp), rel=1e-6
    )


def test_exponential_cutoff():
    # f_cut / f_nocut = exp(-(R - R_ref)/R_c) (normalised at R_ref); 1e-12
    r = np.array([1.0, 1e3, 1e5, 1e6])
    kw = dict(break_rigidities=[], indices=[2.3], reference_rigidity=10.0)
    cut = inj.broken_power_law(r, 1, cutoff_rigidity=1e5, **kw)
    nocut = inj.broken_power_law(r, 1, **kw)
    np.testing.assert_allclose(cut / nocut, np.exp(-(r - 10.0) / 1e5), rtol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="indices"):
        inj.broken_power_law([1.0], 1, [5.0], [2.0])
    with pytest.raises(ValueError, match="increasing"):
        inj.broken_power_law([1.0], 1, [5.0, 2.0], [2.0, 2.1, 2.2])


def test_injection_rate_is_outer_product():
    rng = np.random.default_rng(1)
    prof = rng.random(37)
    spec = inj.broken_power_law(np.logspace(-1, 4, 23), 1, [5.0], [2.0, 2.4])
    out = np.empty((37, 23))
    res = inj.injection_rate(prof, spec, out)
    assert res is out and out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.outer(prof, spec))


@pytest.mark.parametrize("ab", [inj.LORIMER_2006, inj.GREEN_2015])
def test_radial_profile_peak(ab):
    # d/dr [r^a exp(-b r / r_sun)] = 0 at r = a r_sun / b; numerical argmax on a 1 pc grid
    a, b = ab
    r = np.linspace(0.0, 20.0, 20001)
    prof = inj.pulsar_snr_profile(r, 0.0, a=a, b=b)
    assert r[np.argmax(prof)] == pytest.approx(a * inj.R_SUN_KPC / b, abs=1e-3)
    assert inj.pulsar_snr_profile(inj.R_SUN_KPC, 0.0, a=a, b=b) == pytest.approx(1.0)


def test_profile_z_dependence_and_truncation():
    z = np.array([0.0, 0.2, -0.4])
    prof = inj.pulsar_snr_profile(5.0, z, z_scale=0.2)
    np.testing.assert_allclose(prof / prof[0], np.exp(-np.abs(z) / 0.2), rtol=1e-14)
    assert inj.pulsar_snr_profile(16.0, 0.0, r_max=15.0) == 0.0
    assert inj.pulsar_snr_profile(np.zeros((3, 4)), 0.0).shape == (3, 4)


def test_uniform_and_gaussian_profiles():
    assert np.all(inj.uniform_profile(np.zeros(4), np.zeros((2, 1))) == 1.0)
    assert inj.uniform_profile(np.zeros((2, 1)), np.zeros(4)).shape == (2, 4)
    # 3D Gaussian on a cylindrical (r, z) grid integrates to 1: int 2 pi r dr dz; 1e-5
    # (trapezoid error ~2e-6 at 1e-3 kpc steps)
    r = np.linspace(0.0, 2.0, 2001)
    z = np.linspace(-2.0, 2.0, 4001)
    rr, zz = np.meshgrid(r, z, indexing="ij")
    g = inj.gaussian_point_profile((rr, zz), (0.0, 0.0), 0.2, dimension=3)
    total = np.trapezoid(np.trapezoid(g, z, axis=1) * 2 * np.pi * r, r)
    assert total == pytest.approx(1.0, rel=1e-5)
    # 1D: peak value 1 / (sqrt(2 pi) sigma)
    assert inj.gaussian_point_profile((np.array([1.0]),), (1.0,), 0.5)[0] == pytest.approx(
        1.0 / (math.sqrt(2 * math.pi) * 0.5)
    )
