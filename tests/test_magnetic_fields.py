"""Magnetic fields by name (galprop_py.galaxy.magnetic): values printed in the papers, div B of
the 3D models on a grid, and the galaxy model's thin methods over the registry.

div B is taken by second-order central differences on a Cartesian grid (B_z = 0 in every model
here, so div B = dB_x/dx + dB_y/dy) and measured as max |div B| / (max |B| / 1 kpc).  A
solenoidal field leaves only the truncation error, which falls as h^2; where a model is not
solenoidal the differences reproduce its analytic divergence.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from mpi4py import MPI
from util import SMALL_3D, galaxy_model, raises_one_line, small_3d_data

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.galaxy import magnetic
from galprop_py.run import run

ASS = magnetic.STRENGTH.get("pshirkov2011_ass")
BSS = magnetic.STRENGTH.get("pshirkov2011_bss")


def _field(name, x, y, z, **params):
    model = ASS if name == "ass" else BSS
    return magnetic.pshirkov2011_field(x, y, z, model.parse(params), name == "bss")


def _model(data):
    return galaxy_model(config_from_dict(data))


def _grid_config(geometry="cartesian3d", **blocks):
    """SMALL_3D on ``geometry`` (n_r = 9 added, for cylindrical2d); ``blocks`` update it."""
    grid = {**SMALL_3D["grid"], "geometry": geometry, "n_r": 9}
    return small_3d_data(replace={"grid": grid}, **blocks)


# --- values printed in the papers -------------------------------------------------------------
def test_strong2000_exponential_disc():
    """Strong, Moskalenko & Reimer 2000: B = 5 muG exp(-(R - R_sun)/10 kpc - |z|/2 kpc): 5 muG at
    the Sun, 5/e muG 10 kpc further out and 2 kpc above the plane (1e-14)."""
    m = magnetic.STRENGTH.get("exponential_disc")
    assert m(8.5, 0.0) == pytest.approx(5.0, rel=1e-14)
    assert m(8.3, 0.0, sun_r_kpc=8.3) == pytest.approx(5.0, rel=1e-14)
    assert m(18.5, 0.0) == pytest.approx(5.0 / math.e, rel=1e-14)
    assert m(8.5, -2.0) == pytest.approx(5.0 / math.e, rel=1e-14)


@pytest.mark.parametrize("name,pitch", [("ass", -5.0), ("bss", -6.0)])
def test_pshirkov2011_disc_at_the_sun(name, pitch):
    """Pshirkov et al. 2011, best fits: the disc field at the Sun (8.5, 0, 0) is B0 = 2 muG
    (1e-12) with pitch angle p = -5 deg (ASS) or -6 deg (BSS) (1e-10 deg), pointing to
    l = 90 deg + p; l = 90 deg is -y and l = 0 is -x (towards the centre) in this frame."""
    bx, by, bz = _field(name, 8.5, 0.0, 0.0, halo=False)
    assert math.hypot(bx, by) == pytest.approx(2.0, rel=1e-12) and bz == 0.0
    b_r, b_phi = bx, by  # at azimuth 0
    assert math.degrees(math.atan2(b_r, -b_phi)) == pytest.approx(pitch, abs=1e-10)
    lon = math.radians(90.0 + pitch)
    np.testing.assert_allclose([bx / 2.0, by / 2.0], [-math.cos(lon), -math.sin(lon)], atol=1e-12)


def test_pshirkov2011_bss_reverses_at_d():
    """BSS: the first reversal is d = -0.6 kpc from the Sun towards the centre, at R = 7.9 kpc
    on the Sun-centre line: B = 0 there (1e-12 muG) and the azimuthal component changes sign
    across it; ASS: |B| = 0 there too but the direction does not reverse."""
    assert math.hypot(*_field("bss", 7.9, 0.0, 0.0, halo=False)[:2]) < 1e-12
    inner, outer = (_field("bss", r, 0.0, 0.0, halo=False)[1] for r in (7.7, 8.1))
    assert inner * outer < 0
    assert math.hypot(*_field("ass", 7.9, 0.0, 0.0, halo=False)[:2]) < 1e-12
    inner, outer = (_field("ass", r, 0.0, 0.0, halo=False)[1] for r in (7.7, 8.1))
    assert inner * outer > 0


@pytest.mark.parametrize("name,south", [("ass", 2.0), ("bss", 4.0)])
def test_pshirkov2011_halo_peak(name, south):
    """The halo (eq. 8) peaks at R = R0_H = 8 kpc, |z| = z0_H = 1.3 kpc with B0_H = 4 muG in the
    north and 2 (ASS) / 4 (BSS) muG in the south, toroidal and opposite across the plane
    (1e-12); at 0.4 kpc above the peak it is half of it (z1 = 0.4 kpc beyond z0_H)."""
    north = _field(name, 8.0, 0.0, 1.3, b0_ug=0.0)
    s = _field(name, 8.0, 0.0, -1.3, b0_ug=0.0)
    assert north[0] == pytest.approx(0.0, abs=1e-15) and north[1] == pytest.approx(4.0, rel=1e-12)
    assert s[1] == pytest.approx(-south, rel=1e-12)
    assert _field(name, 8.0, 0.0, 1.7, b0_ug=0.0)[1] == pytest.approx(2.0, rel=1e-12)


def test_pshirkov2011_strength_and_direction_are_the_vector_field():
    """|B| of the strength models and B/|B| of the direction models are those of the vector
    field (1e-14), the direction falling back to the disc spiral where B = 0 (BSS reversal)."""
    rng = np.random.default_rng(1)
    x, y, z = rng.uniform(-12, 12, 50), rng.uniform(-12, 12, 50), rng.uniform(-3, 3, 50)
    for name, bss in (("pshirkov2011_ass", False), ("pshirkov2011_bss", True)):
        params = magnetic.STRENGTH.get(name).parse({})
        bx, by, _ = magnetic.pshirkov2011_field(x, y, z, params, bss)
        strength = magnetic.STRENGTH.get(name)(np.hypot(x, y), z, params, x=x, y=y)
        np.testing.assert_allclose(strength, np.hypot(bx, by), rtol=1e-14)
        d = magnetic.DIRECTION.get(name)(
            None, None, params, coords=[x, y, z], geometry="cartesian3d"
        )
        np.testing.assert_allclose(d[0] * strength, bx, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(d[1] * strength, by, rtol=1e-12, atol=1e-14)
    params = magnetic.DIRECTION.get("pshirkov2011_bss").parse({"halo": False})
    d = magnetic.DIRECTION.get("pshirkov2011_bss")(
        None, None, params, coords=[np.array([7.9]), np.array([0.0]), np.array([0.0])],
        geometry="cartesian3d",
    )  # fmt: skip
    p = math.radians(-6.0)
    np.testing.assert_allclose([d[0][0], d[1][0]], [math.sin(p), -math.cos(p)], atol=1e-12)


# --- div B --------------------------------------------------------------------------------------
def _divergence(field, h, box=14.0, z_levels=(-1.6, -0.4, 0.3, 1.3, 2.2)):
    """Central-difference div B on the x-y planes of a grid of spacing h; returns (x, y, z,
    div, |B|, finite) on the interior points."""
    axis = np.arange(-box, box + 0.5 * h, h)
    x, y, z = np.meshgrid(axis, axis, np.asarray(z_levels), indexing="ij")
    bx, by, bz = field(x, y, z)
    assert np.all(bz == 0.0)
    div = (bx[2:, 1:-1] - bx[:-2, 1:-1] + by[1:-1, 2:] - by[1:-1, :-2]) / (2.0 * h)
    inner = (slice(1, -1), slice(1, -1))
    return x[inner], y[inner], z[inner], div, np.hypot(bx, by)[inner]


def _kink_free(x, y, h, pitch_deg, d=-0.6, r_sun=8.5):
    """Points whose x-y stencil does not cross a zero of the ASS disc's |cos psi| (a kink)."""
    cot = 1.0 / math.tan(math.radians(pitch_deg))
    big_phi = cot * math.log1p(d / r_sun) - 0.5 * math.pi
    ok = np.ones(x.shape, bool)
    sign0 = None
    for dx, dy in ((0, 0), (h, 0), (-h, 0), (0, h), (0, -h)):
        xx, yy = x + dx, y + dy
        psi = -np.arctan2(yy, xx) - cot * np.log(np.hypot(xx, yy) / r_sun) + big_phi
        sign = np.sign(np.cos(psi))
        sign0 = sign if sign0 is None else sign0
        ok &= sign == sign0
    return ok


@pytest.mark.parametrize("name", ["ass", "bss"])
def test_pshirkov2011_is_solenoidal_outside_r_c(name):
    """Disc + halo, 6 <= R <= 13 kpc (outside R_c = 5 kpc; ASS: away from the kinks of |cos|):
    max |div B| / (max |B| / kpc) < 2e-3 at h = 0.05 kpc (measured 6.1e-4 ASS, 3.4e-4 BSS), and
    order 2 +- 0.2 from h = 0.1 to 0.05 kpc: what is left is the truncation error.  Each of
    dB_x/dx, dB_y/dy alone is of order |B| / kpc."""
    pitch = -5.0 if name == "ass" else -6.0
    ratios = []
    for h in (0.1, 0.05):
        x, y, z, div, b = _divergence(lambda x, y, z: _field(name, x, y, z), h)
        r = np.hypot(x, y)
        mask = (r >= 6.0) & (r <= 13.0)
        if name == "ass":
            mask &= _kink_free(x, y, h, pitch)
        ratios.append(np.max(np.abs(div[mask])) / np.max(b[mask]))
    order = math.log2(ratios[0] / ratios[1])
    assert ratios[1] < 2e-3 and abs(order - 2.0) < 0.2, (ratios, order)


def test_pshirkov2011_core_has_the_papers_divergence():
    """Inside R_c the paper holds b(r) = b(R_c), so the BSS disc has div B = b(R_c) cos(psi)
    sin(p) exp(-|z|/z0) / r: the differences converge to it at order 2 +- 0.1 (h = 0.02, 0.01
    kpc, 2 <= R <= 4.5 kpc; max difference 1.1e-2 of the maximum of |div B| at h = 0.01: the
    tightly wound inner spiral, k = cot(p) / R = 4.8 / kpc at 2 kpc, needs fine cells)."""
    params = BSS.parse({"halo": False})
    p = math.radians(params.pitch_deg)
    cot = 1.0 / math.tan(p)
    big_phi = cot * math.log1p(params.d_kpc / params.r_sun_kpc) - 0.5 * math.pi
    b_rc = params.b0_ug * params.r_sun_kpc / (params.r_c_kpc * math.cos(big_phi))
    errors = []
    for h in (0.02, 0.01):
        x, y, z, div, _ = _divergence(
            lambda x, y, z: magnetic.pshirkov2011_field(x, y, z, params, True), h, box=4.6,
            z_levels=(0.0, 0.7),
        )  # fmt: skip
        r = np.hypot(x, y)
        mask = (r >= 2.0) & (r <= 4.5)
        psi = -np.arctan2(y, x) - cot * np.log(r / params.r_sun_kpc) + big_phi
        expected = b_rc * np.cos(psi) * math.sin(p) * np.exp(-np.abs(z)) / r
        errors.append(np.max(np.abs(div - expected)[mask]) / np.max(np.abs(expected[mask])))
    order = math.log2(errors[0] / errors[1])
    assert errors[1] < 2e-2 and abs(order - 2.0) < 0.1, (errors, order)


def test_spiral_with_exponential_disc_divergence():
    """direction 'spiral' times strength 'exponential_disc' (the pair the anisotropic model and
    the synchrotron losses use): with p = 0 (azimuthal) div B = 0 up to the truncation error
    (< 5e-4 of |B| / kpc, order 2 +- 0.1 from h = 0.1 to 0.05); with p = 11.5 deg it is not
    solenoidal, div B = B sin p (1/r - 1/R_B), which the differences reproduce (5e-3 of its
    maximum at h = 0.05, measured 3.0e-3).  2 <= R <= 13 kpc (p = 0: measured 2.3e-4)."""
    strength = magnetic.STRENGTH.get("exponential_disc")

    def field(pitch):
        params = magnetic.DIRECTION.get("spiral").parse({"pitch_angle_deg": pitch})

        def f(x, y, z):
            b = strength(np.hypot(x, y), z, {}, sun_r_kpc=8.3)
            d = magnetic.DIRECTION.get("spiral")(
                None, None, params, coords=[x, y, z], geometry="cartesian3d"
            )
            return b * d[0], b * d[1], b * d[2]

        return f

    ratios = []
    for h in (0.1, 0.05):
        x, y, z, div, b = _divergence(field(0.0), h)
        r = np.hypot(x, y)
        mask = (r >= 2.0) & (r <= 13.0)
        ratios.append(np.max(np.abs(div[mask])) / np.max(b[mask]))
    order = math.log2(ratios[0] / ratios[1])
    assert ratios[1] < 5e-4 and abs(order - 2.0) < 0.1, (ratios, order)
    x, y, z, div, b = _divergence(field(11.5), 0.05)
    r = np.hypot(x, y)
    mask = (r >= 2.0) & (r <= 13.0)
    expected = b * math.sin(math.radians(11.5)) * (1.0 / r - 1.0 / 10.0)
    err = np.max(np.abs(div - expected)[mask]) / np.max(np.abs(expected[mask]))
    assert err < 5e-3, err


# --- the galaxy model over the registry ---------------------------------------------------------
def test_galaxy_model_defaults_unchanged():
    """magnetic_energy_profile of the default exponential disc is bit for bit the old
    _exponential_disc(B_sun, R_B, z_B)^2; the spiral direction of a cylindrical grid is the
    constant (sin p, cos p, 0) (exact)."""
    model = _model(_grid_config("cylindrical2d", diffusion={"field_model": "spiral"}))
    lo = model.cfg.losses
    coords = [np.linspace(0.0, 20.0, 7)[:, None], np.linspace(-3.0, 3.0, 5)[None, :]]
    old = model._exponential_disc(
        coords, lo.b_field_ug, lo.b_field_scale_radius_kpc, lo.b_field_scale_height_kpc
    )
    assert np.array_equal(model.magnetic_energy_profile(coords), old * old)
    p = np.radians(11.5)
    assert model.field_direction()(coords) == (np.sin(p), np.cos(p), 0.0)


def test_galaxy_model_pshirkov_on_a_3d_grid():
    """losses.b_field_model and diffusion.field_model = 'pshirkov2011_bss' on a 3D grid: the
    model's |B|^2 and b(x) are those of the vector field (1e-14)."""
    data = _grid_config(
        losses={"b_field_model": "pshirkov2011_bss"},
        diffusion={"model": "anisotropic", "field_model": "pshirkov2011_bss"},
    )
    model = _model(data)
    coords = [np.array([8.5, -3.0, 5.0]), np.array([0.0, 7.0, -6.0]), np.array([0.0, 1.0, -0.5])]
    bx, by, _ = _field("bss", *coords)
    np.testing.assert_allclose(model.magnetic_energy_profile(coords), bx**2 + by**2, rtol=1e-14)
    b = model.field_direction()(coords)
    np.testing.assert_allclose(b[0], bx / np.hypot(bx, by), rtol=1e-14)
    np.testing.assert_allclose(b[1], by / np.hypot(bx, by), rtol=1e-14)


@pytest.mark.parametrize(
    "blocks,start",
    [
        (
            {"losses": {"b_field_model": "uniform", "b_field_scale_radius_kpc": 3.0}},
            "config block losses: losses.b_field_scale_radius_kpc = 3.0 is a parameter of "
            "losses.b_field_model = 'exponential_disc', not of 'uniform'",
        ),
        (
            {"losses": {"b_field_model": "pshirkov2011_ass", "b_field_parameters": {"b_ug": 1}}},
            "config block losses: losses.b_field_parameters.b_ug = 1: unknown parameter of "
            "magnetic field strength model 'pshirkov2011_ass'; allowed: b0_ug, pitch_deg",
        ),
        (
            {"diffusion": {"field_model": "pshirkov2011_ass", "pitch_angle_deg": 5.0}},
            "config block diffusion: diffusion.pitch_angle_deg = 5.0 is a parameter of "
            "diffusion.field_model = 'spiral', not of 'pshirkov2011_ass'",
        ),
        (
            {"diffusion": {"field_model": "spiral", "field_direction": [1.0, 0.0, 0.0]}},
            "config block diffusion: diffusion.field_direction = (1.0, 0.0, 0.0) is a parameter "
            "of diffusion.field_model = 'uniform', not of 'spiral'",
        ),
        (
            {
                "diffusion": {
                    "field_model": "pshirkov2011_bss",
                    "field_parameters": {"pitch_deg": 0},
                }
            },
            "config block diffusion: diffusion.field_parameters.pitch_deg = 0: must be nonzero",
        ),
    ],
)
def test_field_keys_of_other_models_are_one_line_errors(blocks, start):
    with raises_one_line(ConfigError, start=start):
        config_from_dict(_grid_config(**blocks))


def test_pshirkov_needs_a_3d_grid():
    """The Pshirkov fields are not axisymmetric: on a cylindrical grid the direction model is
    refused when the tensor is built, the strength model when it is evaluated (one line)."""
    model = _model(
        _grid_config(
            "cylindrical2d",
            diffusion={"model": "anisotropic", "field_model": "pshirkov2011_ass"},
            losses={"b_field_model": "pshirkov2011_ass"},
        )
    )
    with pytest.raises(ValueError, match=r"^config key diffusion.field_model = 'pshirkov2011_ass"):
        model.field_direction()
    with pytest.raises(
        ValueError, match=r"^losses.b_field_model = 'pshirkov2011_ass'.*cartesian3d"
    ):
        model.magnetic_energy_profile([np.array([8.0]), np.array([0.0])])


@pytest.mark.parallel
def test_anisotropic_run_along_the_pshirkov_field():
    """A steady 3D run with kappa along the Pshirkov BSS field (kpar/kperp = 20, monotone
    scheme) and D ~ |B|^-1/3 of the same field: it converges and psi >= -1e-12 max."""
    data = _grid_config(
        losses={"ionisation": False, "b_field_model": "pshirkov2011_bss"},
        diffusion={
            "model": "anisotropic",
            "field_model": "pshirkov2011_bss",
            "kperp_over_kpar": 0.05,
            "delta": 0.0,
            "eta": 0.0,
            "spatial": "field_strength",
        },
    )
    res = run(config_from_dict(data), progress=False, write_output=False)
    lo = MPI.COMM_WORLD.allreduce(float(res.states["H1"].min()), op=MPI.MIN)
    hi = MPI.COMM_WORLD.allreduce(float(res.states["H1"].max()), op=MPI.MAX)
    assert hi > 0 and lo >= -1e-12 * hi
