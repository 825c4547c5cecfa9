"""Spiral-arm source and gas models (galprop_py.galaxy.spiral_arms): the arms of Faucher-Giguere
& Kaspi 2006 (ApJ 643, 332, Table 2: theta(r) = k ln(r / r0) + theta0, the Sun at theta =
pi / 2) pass through the density maxima; the azimuthal average equals the axisymmetric model
(by construction, checked by quadrature); the total source rate on a 3D grid is the
axisymmetric model's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from util import arms_3d_data, cell_centres, galaxy_model, raises_one_line

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.galaxy import gas, sources

pytestmark = pytest.mark.serial

#: FGK06 Table 2: (k [rad], r0 [kpc], theta0 [rad]); their frame has the Sun at theta = pi/2
FGK06 = {
    "norma": (4.25, 3.48, 1.57),
    "carina_sagittarius": (4.25, 3.48, 4.71),
    "perseus": (4.89, 4.90, 4.09),
    "crux_scutum": (4.89, 4.90, 0.95),
}
SOURCE = sources.SOURCES.get("spiral_arms")


def _ring(r, n=4096):
    phi = (np.arange(n) + 0.5) * 2.0 * math.pi / n - math.pi
    return phi, r * np.cos(phi), r * np.sin(phi)


def _wrap(a):
    return (np.asarray(a) + math.pi) % (2.0 * math.pi) - math.pi


@pytest.mark.parametrize("r", [3.0, 5.0, 7.0, 8.5, 11.0, 14.0])
def test_arm_centre_lines_are_the_density_maxima(r):
    """At fixed r the source density (lorimer2006 x arms, arm_fraction 1, narrow arms of width
    0.02 r) has exactly four local maxima in azimuth, each within 0.002 rad of an arm of FGK06's
    formula, phi = k ln(r / r0) + theta0 - pi/2 (the grid's phi = 0 is the Sun's azimuth,
    FGK06's pi/2).  With the default width 0.07 r (sigma_phi ~ 0.3 rad) neighbouring arms
    overlap where they come within ~1 rad (r ~ 3 kpc) and shift the maxima (0.07 rad there)."""
    phi, x, y = _ring(r, 8192)
    s = SOURCE(np.hypot(x, y), 0.0, {"width_fraction": 0.02}, x=x, y=y)
    peaks = phi[(s > np.roll(s, 1)) & (s > np.roll(s, -1))]
    assert peaks.size == 4, peaks
    for k, r0, t0 in FGK06.values():
        expected = k * math.log(r / r0) + t0 - math.pi / 2
        assert np.min(np.abs(_wrap(peaks - expected))) < 2e-3, (r, expected, peaks)


def test_sun_between_sagittarius_and_perseus():
    """Along the Sun-centre line (phi = 0) the density has radial maxima where FGK06's
    Carina-Sagittarius (7.29 kpc) and Perseus (10.58 kpc) arms cross it, within 0.15 kpc (the
    radial envelope shifts a radial maximum slightly), one on each side of the Sun (8.5 kpc)."""
    r = np.linspace(6.0, 12.0, 6001)
    s = SOURCE(r, 0.0, {"profile": "uniform"}, x=r, y=0.0 * r)
    peaks = r[1:-1][(s[1:-1] > s[:-2]) & (s[1:-1] > s[2:])]
    for name in ("carina_sagittarius", "perseus"):
        k, r0, t0 = FGK06[name]
        r_arm = r0 * math.exp((math.pi / 2 + 2 * math.pi - t0) / k)
        assert np.min(np.abs(peaks - r_arm)) < 0.15, (name, r_arm, peaks)
    assert np.any((peaks > 7.0) & (peaks < 7.5)) and np.any((peaks > 10.3) & (peaks < 10.9))


@pytest.mark.parametrize("width", [0.03, 0.07, 0.2])
@pytest.mark.parametrize("r", [0.5, 4.0, 8.5, 16.0])
def test_source_azimuthal_average_is_the_axisymmetric_profile(r, width):
    """<S(r, phi, z)>_phi equals the base profile (green2015 and ferriere2001) at r and z = 0,
    0.3 kpc (4096 azimuths, the trapezoid rule on a periodic function: 1e-10), for any arm
    width and arm fraction."""
    phi, x, y = _ring(r)
    for profile in ("green2015", "ferriere2001"):
        base = sources.SOURCES.get(profile)
        for z in (0.0, 0.3):
            params = {"profile": profile, "width_fraction": width, "arm_fraction": 0.8}
            s = SOURCE(np.full_like(x, r), z, params, x=x, y=y)
            assert s.mean() == pytest.approx(float(base(r, z)), rel=1e-10)


@pytest.mark.parametrize(
    "registry,params",
    [
        (gas.HI, {"base": "gordon_burton1976"}),
        (gas.HI, {"base": "analytic", "arm_fraction": 1.0}),
        (gas.H2, {"base": "bronfman1988"}),
        (gas.H2, {"base": "ferriere2001", "base_parameters": {"r_min_kpc": 4.0}}),
    ],
)
def test_gas_azimuthal_average_is_the_axisymmetric_model(registry, params):
    """Spiral-arm H I / H2: <n(r, phi, z)>_phi = the base model at r = 3, 6, 8.5, 12 kpc, z = 0,
    0.1 kpc (1e-10); with arm_fraction 0.5 the arm / inter-arm contrast at 8.5 kpc is between 2
    and 4 (the docstring's ~3)."""
    model = registry.get("spiral_arms")
    p = model.parse(params)
    base = registry.get(p.base)
    x_co = gas.x_co_law("strong2004")
    for r in (3.0, 6.0, 8.5, 12.0):
        phi, x, y = _ring(r)
        for z in (0.0, 0.1):
            n = model(np.full_like(x, r), z, p, x=x, y=y, x_co=x_co)
            expected = float(base(r, z, p.base_parameters, x_co=x_co))
            assert n.mean() == pytest.approx(expected, rel=1e-10, abs=1e-300)
            if r == 8.5 and z == 0.0 and p.arm_fraction == 0.5:
                assert 2.0 < n.max() / n.min() < 4.0


def test_total_source_rate_on_a_3d_grid():
    """The galaxy model on a cartesian3d grid (|x|, |y| <= 16 kpc, 161 x 161 x 5 cells, h =
    0.2 kpc) with source.profile = 'spiral_arms' (lorimer2006): sum S dV equals that of
    'lorimer2006' within 0.5% (the grid samples arms of width 0.07 r; measured 0.04%).  On a
    cylindrical grid the model is its azimuthal average, the base profile (exact)."""
    totals = {}
    for profile, params in (("spiral_arms", {"profile": "lorimer2006"}), ("lorimer2006", {})):
        cfg = config_from_dict(arms_3d_data(source={"profile": profile, "parameters": params}))
        model = galaxy_model(cfg)
        dv = model.grid.cell_volumes()
        totals[profile] = float(np.sum(model.source_profile(cell_centres(model)) * dv))
    assert totals["spiral_arms"] == pytest.approx(totals["lorimer2006"], rel=5e-3), totals
    profiles = []
    for profile in ("spiral_arms", "lorimer2006"):
        grid = {"geometry": "cylindrical2d", "n_r": 9, "n_z": 5}
        model = galaxy_model(config_from_dict(arms_3d_data(grid=grid, source={"profile": profile})))
        profiles.append(model.source_profile(cell_centres(model)))
    assert np.array_equal(profiles[0], profiles[1]) and profiles[1].max() > 0


def test_gas_on_a_3d_grid_and_bad_parameters():
    """gas.hi_model = gas.h2_model = 'spiral_arms' through the galaxy model: n_HI + 2 n_H2 of
    the modulated models (1e-13); bad nested parameters are one-line ConfigErrors naming the
    key."""
    arms_gas = {"model": "analytic", "hi_model": "spiral_arms", "h2_model": "spiral_arms"}
    model = galaxy_model(config_from_dict(arms_3d_data(gas=arms_gas)))
    x, y, z = np.array([8.3, -4.0, 2.0]), np.array([0.0, 6.0, -9.0]), np.array([0.0, 0.1, -0.05])
    hi, h2 = gas.HI.get("spiral_arms"), gas.H2.get("spiral_arms")
    r = np.hypot(x, y)
    x_co = gas.x_co_law("constant")
    expected = hi(r, z, {}, x=x, y=y) + 2.0 * h2(r, z, {}, x=x, y=y, x_co=x_co)
    np.testing.assert_allclose(model.gas_density([x, y, z]), expected, rtol=1e-13)
    bad = [
        ({"source": {"profile": "spiral_arms", "parameters": {"profile_parameters": {"B": -1}}}},
         "source.parameters.profile_parameters.B = -1"),
        ({"source": {"profile": "spiral_arms", "parameters": {"profile": "thin_disc"}}},
         "source.parameters.profile = 'thin_disc'"),
        ({"gas": {"model": "analytic", "hi_model": "spiral_arms",
                  "hi_parameters": {"arm_fraction": 2}}},
         "gas.hi_parameters.arm_fraction = 2"),
    ]  # fmt: skip
    for blocks, text in bad:
        with raises_one_line(ConfigError, text):
            config_from_dict(arms_3d_data(**blocks))
