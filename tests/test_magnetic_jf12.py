"""JF12 (Jansson & Farrar 2012a, ApJ 757, 14; 2012b, ApJL 761, L11), the user HDF5 field, and
div B of every 3D field model on a grid.

The JF12 checks use the numbers printed in Table 1 of 2012a / 2012b and properties the paper
states (b_8 from flux conservation, straight X-field lines that conserve flux, the local field
along the 11.5 deg spiral).  div B is taken by second-order central differences on a Cartesian
grid of spacing h and quoted as max |div B| h / max |B| over the points whose 7-point stencil
stays inside one smooth piece of the model: the net flux out of a cell of side h relative to
the flux through one face.
"""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
from util import galaxy_model, raises_one_line, small_3d_data

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.galaxy import magnetic, magnetic_jf12, magnetic_table

pytestmark = pytest.mark.serial

P = magnetic_jf12.JF12Parameters()
PITCH = math.radians(11.5)
TABLE1_B = (0.1, 3.0, -0.9, -0.8, -2.0, -4.2, 0.0, 2.7)  # 2012a Table 1, b_1..b_8 [muG]
ARMS = (5.1, 6.3, 7.1, 8.3, 9.8, 11.4, 12.7, 15.5)  # 2012a: the boundaries at the paper's -x


def _jf12(x, y, z, **kw):
    return magnetic_jf12.regular_field(x, y, z, magnetic_jf12.JF12Parameters(**kw))


def _cyl(bx, by, x, y):
    """(B_r, B_phi) of Cartesian components at (x, y)."""
    phi = np.arctan2(y, x)
    return bx * np.cos(phi) + by * np.sin(phi), -bx * np.sin(phi) + by * np.cos(phi)


def _logistic(x, x0, w):
    return 1.0 / (1.0 + math.exp(-2.0 * (abs(x) - x0) / w))


# --- the disc ----------------------------------------------------------------------------------
def test_b8_from_flux_conservation_matches_table1():
    """Table 1 prints b_8 = 2.7 muG as fixed by flux conservation: from the printed b_1..b_7
    and the region widths Delta phi_i = ln(r_i / r_{i-1}) / tan 11.5 deg it is 2.76 muG; the
    rounding of b_1..b_7 to 0.1 muG allows |b_8 - 2.7| up to ~0.27, asserted < 0.1.  The eight
    widths add up to 2 pi (1e-12)."""
    widths = magnetic_jf12.region_azimuthal_widths(11.5)
    assert widths.sum() == pytest.approx(2.0 * math.pi, rel=1e-12)
    r0 = ARMS[-1] * math.exp(-2.0 * math.pi * math.tan(PITCH))
    expected = np.log(np.array(ARMS) / np.array((r0,) + ARMS[:-1])) / math.tan(PITCH)
    np.testing.assert_allclose(widths, expected, rtol=1e-14)
    assert abs(magnetic_jf12.b8_flux_conserving(P) - TABLE1_B[7]) < 0.1


@pytest.mark.parametrize("i", range(8))
@pytest.mark.parametrize("phi", [0.0, 1.3, -2.4])
def test_disc_field_on_each_region_is_b_i_5kpc_over_r(i, phi):
    """Disc only, z = 0: in region i (between the spirals through r_{i-1} and r_i on the Sun's
    side, followed to azimuth phi) B = b_i (5 kpc / r) (1 - L(0, 0.4, 0.27)) along sin(11.5)
    r_hat + cos(11.5) phi_hat (1e-12; b_8 = 2.757, the flux-conserving value, to 0.1 of Table
    1).  A region whose spiral at phi leaves 5 < r < 20 kpc is skipped."""
    r0 = ARMS[-1] * math.exp(-2.0 * math.pi * math.tan(PITCH))
    lo, hi = (r0,) + ARMS[:-1], ARMS
    r_axis = 0.5 * (lo[i] + hi[i])
    r = r_axis * math.exp(phi * math.tan(PITCH))
    if not 5.0 < r < 20.0:
        pytest.skip("the region's spiral is outside the spiral disc at this azimuth")
    x, y = r * math.cos(phi), r * math.sin(phi)
    bx, by, bz = _jf12(x, y, 0.0, toroidal_halo=False, x_field=False)
    b_i = TABLE1_B[i] if i < 7 else magnetic_jf12.b8_flux_conserving(P)
    amp = b_i * 5.0 / r * (1.0 - _logistic(0.0, 0.40, 0.27))
    b_r, b_phi = _cyl(bx, by, x, y)
    assert bz == 0.0
    assert b_r == pytest.approx(amp * math.sin(PITCH), rel=1e-12, abs=1e-15)
    assert b_phi == pytest.approx(amp * math.cos(PITCH), rel=1e-12, abs=1e-15)
    if i == 7:
        assert b_i == pytest.approx(2.7, abs=0.1)


def test_molecular_ring_and_limits():
    """3 < r < 5 kpc: azimuthal b_ring (5 kpc / r) (1 - L(z)) with b_ring = 0.1 muG (1e-12);
    no disc field inside 3 kpc and beyond 20 kpc; nothing within 1 kpc of the centre or beyond
    20 kpc (spherical) for the whole field."""
    for r in (3.5, 4.5):
        bx, by, _ = _jf12(0.0, r, 0.2, toroidal_halo=False, x_field=False)
        assert bx == pytest.approx(-0.1 * 5.0 / r * (1 - _logistic(0.2, 0.4, 0.27)), rel=1e-12)
        assert by == pytest.approx(0.0, abs=1e-15)
    for r in (2.0, 20.5):
        assert _jf12(r, 0.0, 0.0, toroidal_halo=False, x_field=False) == (0.0, 0.0, 0.0)
    assert _jf12(0.5, 0.3, 0.2) == (0.0, 0.0, 0.0)
    assert _jf12(12.0, 0.0, 16.1) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("r_cyl", [7.0, 10.0, 15.0])
def test_disc_net_flux_through_a_cylinder_vanishes(r_cyl):
    """The disc's net flux through the cylinder r = r_cyl, |z| < 1 kpc, int B_r r dphi dz, is
    zero (how b_8 is defined, checked here by quadrature instead of the region widths): below
    2e-4 of int |B_r| r dphi dz (20000 azimuths; the region edges cost ~1/N)."""
    phi = (np.arange(20000) + 0.5) * 2.0 * math.pi / 20000
    z = np.linspace(-1.0, 1.0, 21)[:, None]
    x, y = r_cyl * np.cos(phi)[None, :], r_cyl * np.sin(phi)[None, :]
    bx, by, _ = _jf12(x, y, z, toroidal_halo=False, x_field=False)
    b_r, _ = _cyl(bx, by, x, y)
    assert abs(b_r.sum()) < 2e-4 * np.abs(b_r).sum()


def test_local_field_at_the_sun():
    """At the paper's Sun (8.5 kpc, region 5, b_5 = -2.0 muG) the disc field is |b_5| (5/8.5)
    (1 - L(0)) = 1.119 muG pointing to l = 90 - 11.5 = 78.5 deg (clockwise, along the local
    spiral; l = 0 is -x, l = 90 deg is -y in this frame) (1e-10).  The whole regular field adds
    the X field (0.245 muG at 49 deg elevation, outwards in the north) and the toroidal halo:
    its horizontal part still points within l = 75..90 deg."""
    bx, by, bz = _jf12(8.5, 0.0, 0.0, toroidal_halo=False, x_field=False)
    assert math.hypot(bx, by) == pytest.approx(2.0 * 5 / 8.5 * (1 - _logistic(0, 0.4, 0.27)))
    assert math.degrees(math.atan2(-by, -bx)) == pytest.approx(78.5, abs=1e-10)
    bx, by, bz = _jf12(8.5, 0.0, 0.0)
    assert 75.0 < math.degrees(math.atan2(-by, -bx)) < 90.0
    _, _, bz_x = _jf12(8.5, 0.0, 0.0, disc=False, toroidal_halo=False)
    assert bz_x == pytest.approx(4.6 * math.exp(-8.5 / 2.9) * math.sin(math.radians(49.0)))


# --- halo and X field --------------------------------------------------------------------------
@pytest.mark.parametrize("r,z", [(6.0, 1.0), (9.22, 2.0), (12.0, -3.0), (16.7, -0.5)])
def test_toroidal_halo_formula(r, z):
    """Toroidal halo (2012a with Table 1): B_phi = exp(-|z|/5.3) L(z, 0.4, 0.27) B_n,s
    (1 - L(r, r_n,s, 0.2)), B_n = 1.4 muG, r_n = 9.22 kpc north, B_s = -1.1 muG, r_s = 16.7
    kpc south (1e-12); at r = r_n,s it is half its inner value."""
    bx, by, bz = _jf12(0.0, r, z, disc=False, x_field=False)
    b0, rh = (1.4, 9.22) if z >= 0 else (-1.1, 16.7)
    expected = math.exp(-abs(z) / 5.3) * _logistic(z, 0.4, 0.27) * b0 * (1 - _logistic(r, rh, 0.2))
    assert -bx == pytest.approx(expected, rel=1e-12) and by == pytest.approx(0.0, abs=1e-15)
    if r == rh:
        inner = math.exp(-abs(z) / 5.3) * _logistic(z, 0.4, 0.27) * b0
        assert -bx == pytest.approx(0.5 * inner, rel=1e-12)


def _x_only(x, y, z):
    return _jf12(x, y, z, disc=False, toroidal_halo=False, r_inner_kpc=0.0, r_outer_kpc=100.0)


@pytest.mark.parametrize("r_p", [1.5, 3.0, 6.0, 9.0])
def test_x_field_lines_are_straight_and_conserve_flux(r_p):
    """The X field's lines are straight in (r, z), through (r_p, 0) at the elevation Theta_X0 =
    49 deg (r_p > r_X^c = 4.8 kpc) or atan(r_X^c tan Theta_X0 / r_p) (inside), pointing up on
    both sides and outwards in the north; flux conservation along a line (2012a, the X field):
    |B| r / r_p (outside) or |B| (r / r_p)^2 (inside) equals B_X exp(-r_p / r_X) (1e-12)."""
    inner = r_p < 4.8
    theta = math.atan(4.8 * math.tan(math.radians(49.0)) / r_p) if inner else math.radians(49.0)
    b_mid = 4.6 * math.exp(-r_p / 2.9)
    for z in (0.0, 0.4, 1.5, -0.7, -2.5):
        r = r_p + abs(z) / math.tan(theta)
        bx, by, bz = _x_only(r, 0.0, z)
        assert by == pytest.approx(0.0, abs=1e-14)
        assert math.atan2(bz, abs(bx)) == pytest.approx(theta, abs=1e-12)
        assert bz > 0 and (bx > 0) == (z >= 0)
        conserved = math.hypot(bx, bz) * ((r / r_p) ** 2 if inner else r / r_p)
        assert conserved == pytest.approx(b_mid, rel=1e-12)


# --- random and striated -----------------------------------------------------------------------
def test_random_field_table1_of_2012b():
    """2012b, Table 1: at z = 0 in region i (r > 5 kpc) the disc random field is b_i (5 kpc/r),
    b_5 = 1.96 muG at the Sun, in quadrature with the halo 4.68 exp(-r / 10.97) muG; b_int =
    7.63 muG inside 5 kpc; Gaussians in z of 0.61 / 2.84 kpc (1e-12).  Striated: sqrt(beta) =
    sqrt(1.36) = 1.17, 2012b's "rms strength ~20% larger than the regular field" (0.05)."""
    rnd = magnetic_jf12.random_strength
    halo = 4.68 * math.exp(-8.5 / 10.97)
    assert rnd(8.5, 0.0, 0.0, P) == pytest.approx(math.hypot(1.96 * 5 / 8.5, halo), rel=1e-12)
    z = 0.61
    disc = 7.63 * math.exp(-0.5)
    halo = 4.68 * math.exp(-4.0 / 10.97) * math.exp(-0.5 * (z / 2.84) ** 2)
    assert rnd(0.0, 4.0, z, P) == pytest.approx(math.hypot(disc, halo), rel=1e-12)
    assert rnd(19.0, 0.0, 8.0, P) == 0.0
    assert math.sqrt(P.beta_striated) == pytest.approx(1.2, abs=0.05)
    x, y, zz = np.array([8.5, -3.0, 6.0]), np.array([0.0, 5.0, -7.0]), np.array([0.0, 0.3, -1.0])
    bx, by, bz = magnetic_jf12.regular_field(x, y, zz, P)
    b2 = bx**2 + by**2 + bz**2
    for comp, expected in (
        ("regular", np.sqrt(b2)),
        ("regular+striated", np.sqrt(2.36 * b2)),
        ("random", rnd(x, y, zz, P)),
        ("total", np.sqrt(2.36 * b2 + rnd(x, y, zz, P) ** 2)),
    ):
        got = magnetic.STRENGTH.get("jf12")(np.hypot(x, y), zz, {"component": comp}, x=x, y=y)
        np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_direction_is_the_regular_field():
    """diffusion.field_model 'jf12': B/|B| of the regular field (1e-13), unit length, and the
    spiral line element where B = 0 (inside 1 kpc)."""
    rng = np.random.default_rng(3)
    x, y, z = rng.uniform(-15, 15, 200), rng.uniform(-15, 15, 200), rng.uniform(-4, 4, 200)
    b = magnetic_jf12.regular_field(x, y, z, P)
    norm = np.sqrt(sum(c * c for c in b))
    d = magnetic.DIRECTION.get("jf12")(None, None, {}, coords=[x, y, z], geometry="cartesian3d")
    for k in range(3):
        np.testing.assert_allclose(d[k] * norm, b[k], rtol=1e-13, atol=1e-14)
    d0 = magnetic_jf12.direction([np.array([0.3]), np.array([0.0]), np.array([0.0])],
                                 "cartesian3d", P)  # fmt: skip
    np.testing.assert_allclose([d0[0][0], d0[1][0], d0[2][0]],
                               [math.sin(PITCH), math.cos(PITCH), 0.0], atol=1e-14)  # fmt: skip


# --- the user table ----------------------------------------------------------------------------
def _write(path, **datasets):
    with h5py.File(path, "w") as f:
        for k, v in datasets.items():
            f[k] = v
    return str(path)


def _trilinear_table(tmp_path, random=True):
    """B = (1 + y z, -2 + x z, 0.5 + x y): solenoidal and trilinear (interpolated exactly)."""
    x, y, z = np.linspace(-4, 4, 9), np.linspace(-3, 5, 5), np.linspace(-2, 2, 6)
    xx, yy, zz = np.meshgrid(x, y, z, indexing="ij")
    data = dict(x=x, y=y, z=z, Bx=1 + yy * zz, By=-2 + xx * zz, Bz=0.5 + xx * yy)
    if random:
        data["B_random"] = 3.0 + 0.0 * xx
    return _write(tmp_path / "b.h5", **data)


def test_table_interpolates_trilinear_fields_exactly(tmp_path):
    """Trilinear interpolation reproduces a field that is trilinear in each cell (1e-12) off
    the nodes; zero outside by default, the nearest face with outside = 'nearest'; strength
    components regular / random / total."""
    path = _trilinear_table(tmp_path)
    rng = np.random.default_rng(0)
    x, y, z = rng.uniform(-4, 4, 300), rng.uniform(-3, 5, 300), rng.uniform(-2, 2, 300)
    p = magnetic.STRENGTH.get("table").parse({"path": path})
    bx, by, bz = magnetic_table.field(x, y, z, p)
    np.testing.assert_allclose(bx, 1 + y * z, atol=1e-12)
    np.testing.assert_allclose(by, -2 + x * z, atol=1e-12)
    np.testing.assert_allclose(bz, 0.5 + x * y, atol=1e-12)
    out = magnetic_table.field(np.array([5.0]), np.array([0.0]), np.array([0.0]), p)
    assert all(c[0] == 0.0 for c in out)
    near = magnetic.STRENGTH.get("table").parse({"path": path, "outside": "nearest"})
    assert magnetic_table.field(5.0, 0.0, 1.0, near)[1] == pytest.approx(-2 + 4.0, abs=1e-12)
    s = magnetic.STRENGTH.get("table")
    b = np.sqrt(bx**2 + by**2 + bz**2)
    np.testing.assert_allclose(s(None, z, {"path": path}, x=x, y=y), b, rtol=1e-14)
    np.testing.assert_allclose(s(None, z, {"path": path, "component": "random"}, x=x, y=y), 3.0)
    tot = s(None, z, {"path": path, "component": "total"}, x=x, y=y)
    np.testing.assert_allclose(tot, np.sqrt(b * b + 9.0), rtol=1e-14)


def test_table_bad_files_are_one_line_errors(tmp_path):
    """A missing file, a missing dataset, a bad shape, a non-increasing axis, a random
    component without B_random: one-line ValueErrors naming the file and the dataset."""
    m = magnetic.STRENGTH.get("table")
    ax = np.linspace(0, 1, 3)
    good = dict(x=ax, y=ax, z=ax, Bx=np.zeros((3, 3, 3)), By=np.zeros((3, 3, 3)))
    cases = [
        ({"path": str(tmp_path / "none.h5")}, "not found"),
        ({"path": _write(tmp_path / "a.h5", **good)}, "has no dataset 'Bz'"),
        (
            {"path": _write(tmp_path / "b.h5", **good, Bz=np.zeros((3, 3, 2)))},
            "dataset 'Bz' has shape (3, 3, 2), expected (nx, ny, nz) = (3, 3, 3)",
        ),
        (
            {"path": _write(tmp_path / "c.h5", **{**good, "y": ax[::-1]}, Bz=np.zeros((3,) * 3))},
            "dataset 'y' must be 1D with at least 2 increasing values",
        ),
        (
            {
                "path": _write(tmp_path / "d.h5", **good, Bz=np.zeros((3,) * 3)),
                "component": "random",
            },
            "needs the dataset 'B_random'",
        ),
    ]
    for params, text in cases:
        with raises_one_line(ValueError, text, "losses.b_field_parameters", params["path"]):
            m.parse(params, key="losses.b_field_parameters")


# --- div B on a grid ---------------------------------------------------------------------------
def _divergence(field, h, box, z_levels, label=None):
    """Central-difference div B at the points (x, y, z_level) of a grid of spacing h; returns
    (x, y, z, div, |B|, ok) with ok: all 7 stencil points have the same ``label``."""
    axis = np.arange(-box, box + 0.5 * h, h)
    zs = np.concatenate([[zc - h, zc, zc + h] for zc in z_levels])
    x, y, z = np.meshgrid(axis, axis, zs, indexing="ij")
    bx, by, bz = (np.broadcast_to(c, x.shape) for c in field(x, y, z))
    mid = slice(1, None, 3)
    c = (slice(1, -1), slice(1, -1), mid)
    div = (bx[2:, 1:-1, mid] - bx[:-2, 1:-1, mid]) / (2 * h)
    div = div + (by[1:-1, 2:, mid] - by[1:-1, :-2, mid]) / (2 * h)
    div = div + (bz[1:-1, 1:-1, 2::3] - bz[1:-1, 1:-1, 0::3]) / (2 * h)
    b = np.sqrt(bx[c] ** 2 + by[c] ** 2 + bz[c] ** 2)
    ok = np.ones(div.shape, bool)
    if label is not None:
        lab = label(x, y, z)
        centre = lab[c]
        for nb in (lab[2:, 1:-1, mid], lab[:-2, 1:-1, mid], lab[1:-1, 2:, mid],
                   lab[1:-1, :-2, mid], lab[1:-1, 1:-1, 2::3], lab[1:-1, 1:-1, 0::3]):  # fmt: skip
            ok &= nb == centre
    return x[c], y[c], z[c], div, b, ok


def _jf12_pieces(x, y, z):
    """Label of the smooth piece of JF12 a point is in (disc region, r = 3, 5, 20 kpc, the side
    of z = 0 and of the X cone r_p = r_X^c, inside the 1-20 kpc shell)."""
    r = np.hypot(x, y)
    region = magnetic_jf12.disc_region(r, np.arctan2(y, x))
    cone = r < 4.8 + np.abs(z) / math.tan(math.radians(49.0))
    d = np.sqrt(r * r + z * z)
    bits = (r > 3, r > 5, r < 20, z >= 0, cone, d >= 1, d <= 20)
    return region + sum(b.astype(int) << (3 + k) for k, b in enumerate(bits))


def test_jf12_div_b():
    """JF12 (all three parts) at z = -1.3, 0.25, 2.0 kpc, |x|, |y| <= 12 kpc: where the stencil
    stays in one smooth piece, max |div B| h / max |B| < 2e-3 at h = 0.1 kpc and < 3e-4 at
    0.05 kpc, falling at least as h^2 (ratio > 3.5): the truncation error (measured 1.5e-3,
    2.0e-4, ratio 7.6: h is not yet << the 0.1 kpc scale of the halo's radial logistic, w_h =
    0.2 kpc, where the maximum sits, r = r_n = 9.22 kpc; beyond 12 kpc, measured 2.6e-3 at h =
    0.1 kpc, at r_s = 16.7 kpc).  Not small where the model is not solenoidal: stencils across
    r = 5 kpc (the azimuthal ring meets the spiral; an analytic surface divergence): |div B| h
    / |B| measured 0.11 (median) to 1.6 (max), asserted max > 0.02; across the region edges (a
    tangential jump, no true divergence, but O(jump / h) differences) up to 9.8 (|B| is small
    on one side); across r = 20 kpc (the disc is cut) max |div B| h / max |B| = 0.54."""
    out = []
    for h, box in ((0.1, 12.0), (0.05, 12.0)):
        x, y, z, div, b, ok = _divergence(lambda *c: _jf12(*c), h, box, (-1.3, 0.25, 2.0),
                                          _jf12_pieces)  # fmt: skip
        out.append(np.max(np.abs(div[ok])) * h / np.max(b[ok]))
        if h == 0.1:
            r = np.hypot(x, y)
            ring_edge = (~ok) & (np.abs(r - 5.0) < h) & (np.abs(z) < 0.5)
            across = np.max(np.abs(div[ring_edge]) * h / b[ring_edge])
            assert ok.mean() > 0.7
    assert out[0] < 2e-3 and out[1] < 3e-4 and out[0] / out[1] > 3.5, out
    assert across > 0.02, across


def _pshirkov(bisymmetric):
    params = magnetic.STRENGTH.get("pshirkov2011_bss" if bisymmetric else "pshirkov2011_ass")
    p = params.parse({})
    return lambda x, y, z: magnetic.pshirkov2011_field(x, y, z, p, bisymmetric)


def _pshirkov_pieces(pitch_deg):
    """r > R_c = 5 kpc, the side of z = 0 (the halo's sign), and for the ASS disc the sign of
    cos psi (|cos psi| has kinks)."""
    cot = 1.0 / math.tan(math.radians(pitch_deg))
    big_phi = cot * math.log1p(-0.6 / 8.5) - 0.5 * math.pi

    def label(x, y, z):
        r = np.hypot(x, y)
        psi = -np.arctan2(y, x) - cot * np.log(np.maximum(r, 1e-9) / 8.5) + big_phi
        kink = (np.cos(psi) > 0).astype(int) if pitch_deg == -5.0 else 0
        return (r > 5.0).astype(int) + 2 * (z > 0) + 4 * kink + 8 * (np.abs(z) < 1.3)

    return label


def _spiral_with_disc(x, y, z):
    d = magnetic.DIRECTION.get("spiral")(None, None, {"pitch_angle_deg": 0.0},
                                         coords=[x, y, z], geometry="cartesian3d")  # fmt: skip
    b = magnetic.STRENGTH.get("exponential_disc")(np.hypot(x, y), z, {})
    return b * d[0], b * d[1], b * d[2]


def _uniform(x, y, z):
    d = magnetic.DIRECTION.get("uniform")(None, None, {"direction": (1.0, 2.0, -0.5)})
    return tuple(3.0 * c + 0.0 * x for c in d)


@pytest.mark.parametrize(
    "name,field,label,r_min,tol",
    [
        ("pshirkov2011_ass", _pshirkov(False), _pshirkov_pieces(-5.0), 5.5, 2e-3),
        ("pshirkov2011_bss", _pshirkov(True), _pshirkov_pieces(-6.0), 5.5, 2e-3),
        ("spiral p=0 x exponential_disc", _spiral_with_disc, None, 2.0, 2e-4),
        ("uniform", _uniform, None, 0.0, 1e-14),
    ],
)
def test_other_models_div_b(name, field, label, r_min, tol):
    """Pshirkov ASS / BSS (r >= 5.5 kpc, outside R_c; away from |z| = z0_H = 1.3 kpc where the
    halo's z1 jumps and z = 0 where it flips; ASS: away from the kinks of |cos psi|), the
    azimuthal spiral times the exponential disc and a uniform field, h = 0.1 kpc, |x|, |y| <=
    14 kpc, z = -0.6, 0.35, 2.1 kpc: max |div B| h / max |B| < tol (measured ASS 4.7e-4, BSS
    2.5e-4, spiral 9.0e-5, uniform 0).  Inside R_c the Pshirkov disc has the paper's own
    divergence (tests/test_magnetic_fields.py); a spiral of nonzero pitch is not solenoidal."""
    x, y, z, div, b, ok = _divergence(field, 0.1, 14.0, (-0.6, 0.35, 2.1), label)
    ok &= np.hypot(x, y) >= r_min
    ratio = np.max(np.abs(div[ok])) * 0.1 / np.max(b[ok])
    assert ratio < tol, (name, ratio)


def test_table_div_b(tmp_path):
    """The user table: a solenoidal trilinear field stays solenoidal after interpolation
    (max |div B| h / max |B| < 1e-12, h = 0.37 kpc, not a multiple of the node spacing).
    JF12's disc + halo tabulated at 0.1 kpc in one smooth piece (region 4, 7.35 < x < 8.05,
    1.2 < z < 1.3) and sampled at h = 0.05 kpc: max |div B| h / max |B| < 1e-5 (measured
    1.2e-7, the field itself 3.1e-8: trilinear interpolation is not solenoidal, its error is
    O(node spacing^2 / scale^2))."""
    path = _trilinear_table(tmp_path, random=False)
    p = magnetic.STRENGTH.get("table").parse({"path": path})
    x, y, z, div, b, _ = _divergence(lambda *c: magnetic_table.field(*c, p), 0.37, 2.9, (0.5,))
    assert np.max(np.abs(div)) * 0.37 / np.max(b) < 1e-12
    nodes = (np.arange(7.2, 8.21, 0.1), np.arange(-0.5, 0.51, 0.1), np.arange(0.6, 1.91, 0.1))
    xx, yy, zz = np.meshgrid(*nodes, indexing="ij")
    bx, by, bz = _jf12(xx, yy, zz, x_field=False)
    path = _write(tmp_path / "jf12.h5", x=nodes[0], y=nodes[1], z=nodes[2], Bx=bx, By=by, Bz=bz)
    p = magnetic.STRENGTH.get("table").parse({"path": path})

    def shifted(x, y, z):
        return magnetic_table.field(x + 7.7, y, z + 1.25, p)

    x, y, z, div, b, _ = _divergence(shifted, 0.05, 0.35, (0.0,))
    assert np.max(np.abs(div)) * 0.05 / np.max(b) < 1e-5


# --- config and the galaxy model ---------------------------------------------------------------
def test_galaxy_model_with_jf12_and_table(tmp_path):
    """losses.b_field_model / diffusion.field_model = 'jf12' and 'table' on a 3D grid: the
    model's |B|^2 and b(x) are those of the fields (1e-13); a bad parameter is a one-line
    ConfigError naming the key."""
    data = small_3d_data(
        losses={"b_field_model": "jf12", "b_field_parameters": {"component": "total"}},
        diffusion={"model": "anisotropic", "field_model": "jf12"},
    )
    model = galaxy_model(config_from_dict(data))
    coords = [np.array([8.3, -3.0, 5.0]), np.array([0.0, 7.0, -6.0]), np.array([0.02, 1.0, -0.5])]
    p = magnetic_jf12.JF12Parameters(component="total")
    np.testing.assert_allclose(model.magnetic_energy_profile(coords),
                               magnetic_jf12.strength(*coords, p) ** 2, rtol=1e-13)  # fmt: skip
    b = magnetic_jf12.regular_field(*coords, P)
    norm = np.sqrt(sum(c * c for c in b))
    got = model.field_direction()(coords)
    for k in range(3):
        np.testing.assert_allclose(got[k], b[k] / norm, rtol=1e-13, atol=1e-15)
    path = _trilinear_table(tmp_path)
    losses = {"b_field_model": "table", "b_field_parameters": {"path": path}}
    model = galaxy_model(config_from_dict(small_3d_data(losses=losses)))
    x, y, z = coords
    expected = (1 + y * z) ** 2 + (-2 + x * z) ** 2 + (0.5 + x * y) ** 2
    inside = (np.abs(x) <= 4) & (y >= -3) & (y <= 5) & (np.abs(z) <= 2)
    np.testing.assert_allclose(model.magnetic_energy_profile(coords), np.where(inside, expected, 0),
                               rtol=1e-12)  # fmt: skip
    with raises_one_line(ConfigError, "losses.b_field_parameters.h_disk_kpc = -1"):
        losses = {"b_field_model": "jf12", "b_field_parameters": {"h_disk_kpc": -1}}
        config_from_dict(small_3d_data(losses=losses))
