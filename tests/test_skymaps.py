"""Line-of-sight sky maps (emission.skymap), map files (emission.maps_io) and map plots.

Every reference here is geometry: the exact path length of a ray in a slab, a box and a ring
cell (written independently of the module: slab method for boxes, interval algebra for
rings), the solid-angle identity int I dOmega = int eps dV / s^2, the volume of a cylinder,
and the areas of sky regions.
"""

from __future__ import annotations

import healpy as hp
import numpy as np
import pytest
from petsc4py import PETSc

from galprop_py import units
from galprop_py.decomposition import Decomposition
from galprop_py.emission.skymap import (
    integrate_power_law,
    luminosity,
    region_mask,
    region_spectrum,
    sky_map,
)
from galprop_py.grid import Axis, SpatialGrid, make_spatial_grid

R_SUN = 8.3


def _grid2d(r_max=20.0, h=1.0):
    """Non-uniform r edges (linear then log) and z edges with +-h as edges."""
    re = np.concatenate([np.linspace(0.0, 10.0, 21), np.geomspace(10.0, r_max, 8)[1:]])
    ze = np.concatenate(
        [np.linspace(-3 * h, -h, 5), np.linspace(-h, h, 9)[1:], np.linspace(h, 3 * h, 5)[1:]]
    )
    return SpatialGrid("cylindrical2d", [Axis("r", re, radial_power=1), Axis("z", ze)])


def _grid3d(h=1.0):
    xe = np.concatenate([np.linspace(-12.0, 6.0, 10), np.linspace(6.0, 12.0, 7)[1:]])
    ye = np.linspace(-10.0, 10.0, 13)
    ze = np.concatenate(
        [np.linspace(-3 * h, -h, 3), np.linspace(-h, h, 6)[1:], np.linspace(h, 3 * h, 3)[1:]]
    )
    return SpatialGrid("cartesian3d", [Axis("x", xe), Axis("y", ye), Axis("z", ze)])


def _local(dec, full):
    """Rank-local part (reversed axes) of a global array in physical axis order."""
    return dec.from_physical(full[dec.global_slices()])


def _dirs(nside):
    """Ray directions of the RING pixel centres, d = (-cos b cos l, -cos b sin l, sin b),
    written from (l, b) here rather than taken from the module."""
    lon, lat = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), lonlat=True)
    lr, br = np.radians(lon), np.radians(lat)
    return np.stack([-np.cos(br) * np.cos(lr), -np.cos(br) * np.sin(lr), np.sin(br)], axis=1)


def _box_chord(o, d, lo, hi, s_max=np.inf):
    """Length of the rays o + s d, 0 <= s <= s_max, inside the box lo <= x <= hi (slab
    method: entry = max of the per-axis entries, exit = min of the exits)."""
    t0 = np.zeros(d.shape[0])
    t1 = np.full(d.shape[0], s_max)
    for a in range(3):
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (lo[a] - o[a]) / d[:, a]
            tb = (hi[a] - o[a]) / d[:, a]
        par = d[:, a] == 0
        inside = lo[a] <= o[a] <= hi[a]
        enter = np.where(par, -np.inf if inside else np.inf, np.minimum(ta, tb))
        leave = np.where(par, np.inf if inside else -np.inf, np.maximum(ta, tb))
        t0 = np.maximum(t0, enter)
        t1 = np.minimum(t1, leave)
    return np.maximum(t1 - t0, 0.0)


def _in_face_factor(o, d, lo, hi, axes):
    """1/2 per axis a (of ``axes``) for the rays that lie in a face plane x_a = lo_a or hi_a
    of the cell: such a ray is shared by the cells on both sides (module convention)."""
    f = np.ones(d.shape[0])
    for a in axes:
        if o[a] == lo[a] or o[a] == hi[a]:
            f = np.where(d[:, a] == 0, 0.5 * f, f)
    return f


def _disc_interval(o, d, radius):
    """[s-, s+] where the horizontal distance of o + s d from the z axis is <= radius
    (textbook roots of the quadratic); an empty interval (0, 0) if the ray misses."""
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = o[0] * d[:, 0] + o[1] * d[:, 1]
    c = o[0] ** 2 + o[1] ** 2 - radius**2
    disc = b * b - a * c
    ok = (disc > 0) & (a > 0)
    sq = np.sqrt(np.where(ok, disc, 0.0))
    aa = np.where(ok, a, 1.0)
    lo = np.where(ok, (-b - sq) / aa, 0.0)
    hi = np.where(ok, (-b + sq) / aa, 0.0)
    vertical = a == 0
    if radius >= np.hypot(o[0], o[1]):
        lo = np.where(vertical, -np.inf, lo)
        hi = np.where(vertical, np.inf, hi)
    return lo, hi


def _ring_chord(o, d, r1, r2, z1, z2):
    """Length of the rays (s >= 0) inside the ring cell r1 <= r <= r2, z1 <= z <= z2:
    |disc(r2) & slab| - |disc(r1) & slab|, the slab being z1 <= z <= z2 and s >= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ta, tb = (z1 - o[2]) / d[:, 2], (z2 - o[2]) / d[:, 2]
    par = d[:, 2] == 0
    inside = z1 <= o[2] <= z2
    zlo = np.maximum(0.0, np.where(par, -np.inf if inside else np.inf, np.minimum(ta, tb)))
    zhi = np.where(par, np.inf if inside else -np.inf, np.maximum(ta, tb))

    def overlap(lo, hi):
        return np.maximum(np.minimum(hi, zhi) - np.maximum(lo, zlo), 0.0)

    out = overlap(*_disc_interval(o, d, r2))
    if r1 > 0:
        out = out - overlap(*_disc_interval(o, d, r1))
    return out


# --- analytic skies ------------------------------------------------------------------------
@pytest.mark.parallel
def test_uniform_slab_2d_exact():
    """Uniform slab |z| < h, Sun in the mid-plane (cylindrical2d): I = eps0 min(h / sin|b|,
    s_R), s_R the distance to the grid's outer cylinder (rays at low |b| leave the grid
    first): every pixel to 1e-10 relative, for three energies, and with a line of sight cut at
    s_max = 0.5 kpc: I = eps0 min(0.5, h / sin|b|)."""
    h, r_max, nside = 1.0, 20.0, 16
    grid = _grid2d(r_max, h)
    dec = Decomposition(grid, 3)
    scale = np.array([1.0, 2.5, 1e-3])
    full = (np.abs(grid.axes[1].centers) < h)[None, :, None] * scale * np.ones(grid.shape + (3,))
    eps = _local(dec, full)
    d = _dirs(nside)
    with np.errstate(divide="ignore"):
        s_slab = np.where(d[:, 2] != 0, h / np.abs(d[:, 2]), np.inf)
    lo, hi = _disc_interval(np.array([R_SUN, 0, 0]), d, r_max)
    s_r = np.where(np.isfinite(hi), hi, np.inf)
    assert np.sum(s_r < s_slab) > 20  # the grid edge matters for some pixels
    for s_max, expect in ((None, np.minimum(s_slab, s_r)), (0.5, np.minimum(s_slab, 0.5))):
        maps = sky_map(dec, eps, nside, s_max_kpc=s_max, r_sun_kpc=R_SUN)
        assert maps.shape == (3, hp.nside2npix(nside))
        ref = expect[None, :] * scale[:, None] * units.KPC_CM
        assert np.max(np.abs(maps / ref - 1.0)) < 1e-10


@pytest.mark.parallel
def test_uniform_slab_3d_exact_sun_above_plane():
    """Uniform slab |z| < h in cartesian3d, Sun at z_sun = 0.2 kpc: I = eps0 min((h - z_sun)
    / sin b (b > 0) or (h + z_sun) / |sin b| (b < 0), distance to the box's x/y faces):
    every pixel to 1e-10 relative."""
    h, z_sun, nside = 1.0, 0.2, 16
    grid = _grid3d(h)
    dec = Decomposition(grid, 1)
    full = np.zeros(grid.shape + (1,))
    full[:, :, np.abs(grid.axes[2].centers) < h] = 4.0
    maps = sky_map(dec, _local(dec, full), nside, r_sun_kpc=R_SUN, z_sun_kpc=z_sun)
    d = _dirs(nside)
    o = np.array([R_SUN, 0.0, z_sun])
    with np.errstate(divide="ignore"):
        s_slab = np.where(d[:, 2] > 0, (h - z_sun) / d[:, 2], (-h - z_sun) / d[:, 2])
    s_slab[d[:, 2] == 0] = np.inf
    lo = [grid.axes[a].edges[0] for a in range(3)]
    hi = [grid.axes[a].edges[-1] for a in range(3)]
    s_box = _box_chord(o, d, lo, hi)
    ref = 4.0 * np.minimum(s_slab, s_box) * units.KPC_CM
    assert np.sum(s_box < s_slab) > 20
    assert np.max(np.abs(maps[0] / ref - 1.0)) < 1e-10


# --- single cells ---------------------------------------------------------------------------
def test_single_cell_path_lengths_3d():
    """One emitting cell per energy (eps = 1): energy 0 a cell away from the Sun, energy 1 the
    cell that holds the Sun, on its face y = 0; every pixel's I / KPC_CM equals the
    slab-method chord of the pixel-centre ray to 1e-9 kpc (half of it for the rays in the
    plane y = 0, which the two cells at that face share)."""
    nside = 16
    grid = _grid3d()
    dec = Decomposition(grid, 2)
    o = np.array([R_SUN, 0.0, 0.0])
    full = np.zeros(grid.shape + (2,))
    far = (10, 7, 6)  # x in [7, 8], y in [1.67, 3.33], z in [0.6, 1]
    sun_cell = tuple(int(np.searchsorted(grid.axes[a].edges, o[a], "right") - 1) for a in range(3))
    full[far + (0,)] = 1.0
    full[sun_cell + (1,)] = 1.0
    maps = sky_map(dec, _local(dec, full), nside, r_sun_kpc=R_SUN) / units.KPC_CM
    d = _dirs(nside)
    for k, cell in enumerate((far, sun_cell)):
        lo = [grid.axes[a].edges[cell[a]] for a in range(3)]
        hi = [grid.axes[a].edges[cell[a] + 1] for a in range(3)]
        ref = _box_chord(o, d, lo, hi) * _in_face_factor(o, d, lo, hi, range(3))
        assert np.count_nonzero(ref) > 5
        assert np.max(np.abs(maps[k] - ref)) < 1e-9


def test_single_ring_path_lengths_2d():
    """One emitting ring cell per energy (cylindrical2d): energy 0 a ring inside the solar
    circle, off the plane; energy 1 the ring cell that holds the Sun, on its face z = 0.
    Every pixel's I / KPC_CM equals the ring chord from interval algebra on the textbook
    roots to 1e-9 kpc (half of it for the b = 0 rays, in the face z = 0)."""
    nside = 16
    grid = _grid2d()
    dec = Decomposition(grid, 2)
    o = np.array([R_SUN, 0.0, 0.0])
    full = np.zeros(grid.shape + (2,))
    ir_sun = int(np.searchsorted(grid.axes[0].edges, R_SUN, "right") - 1)
    iz_sun = int(np.searchsorted(grid.axes[1].edges, 0.0, "right") - 1)
    cells = ((6, 9), (ir_sun, iz_sun))
    for k, (ir, iz) in enumerate(cells):
        full[ir, iz, k] = 1.0
    maps = sky_map(dec, _local(dec, full), nside, r_sun_kpc=R_SUN) / units.KPC_CM
    d = _dirs(nside)
    re, ze = grid.axes[0].edges, grid.axes[1].edges
    for k, (ir, iz) in enumerate(cells):
        ref = _ring_chord(o, d, re[ir], re[ir + 1], ze[iz], ze[iz + 1])
        ref *= _in_face_factor(o, d, [0, 0, ze[iz]], [0, 0, ze[iz + 1]], [2])
        assert np.count_nonzero(ref) > 5
        assert np.max(np.abs(maps[k] - ref)) < 1e-9


def _gauss(lo, hi, n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (hi - lo) * x + 0.5 * (hi + lo), 0.5 * (hi - lo) * w


def test_sky_integral_equals_volume_integral_over_distance_squared():
    """int I dOmega = int eps dV / s^2 (s = distance from the Sun) for one emitting cell, the
    right side by Gauss-Legendre quadrature (16 points per axis; trapezoid in azimuth for the
    ring).  The map side is a pixel sum at nside 32 with 4 x 4 rays per pixel: agreement to
    0.3 % (measured 0.02 % for the box and 0.12 % for the ring); with one ray per pixel
    the box to 1 % (measured 0.03 %)."""
    nside = 32
    omega = hp.nside2pixarea(nside)
    # box cell of a 3D grid, ~25 deg across from the Sun
    grid = make_spatial_grid(
        "cartesian3d", {"x": (-2, 10), "y": (-6, 6), "z": (-2, 2)}, {"x": 6, "y": 6, "z": 4}
    )
    dec = Decomposition(grid, 1)
    full = np.zeros(grid.shape + (1,))
    cell = (1, 3, 2)  # x in [0, 2], y in [0, 2], z in [0, 1]
    full[cell + (0,)] = 1.0
    nodes = [
        _gauss(grid.axes[a].edges[cell[a]], grid.axes[a].edges[cell[a] + 1], 16) for a in range(3)
    ]
    xs, ys, zs = np.meshgrid(*[n[0] for n in nodes], indexing="ij")
    ws = np.einsum("i,j,k->ijk", *[n[1] for n in nodes])
    ref = np.sum(ws / ((xs - R_SUN) ** 2 + ys**2 + zs**2)) * units.KPC_CM
    for oversample, tol in ((4, 3e-3), (1, 1e-2)):
        m = sky_map(dec, _local(dec, full), nside, oversample=oversample, r_sun_kpc=R_SUN)
        assert abs(m.sum() * omega / ref - 1.0) < tol, oversample

    # ring cell of a 2D grid: r in [2, 3], z in [0.5, 1]
    grid = make_spatial_grid("cylindrical2d", {"r": (0, 10), "z": (-2, 2)}, {"r": 10, "z": 8})
    dec = Decomposition(grid, 1)
    full = np.zeros(grid.shape + (1,))
    full[2, 5, 0] = 1.0
    rr, wr = _gauss(2.0, 3.0, 16)
    zz, wz = _gauss(0.5, 1.0, 16)
    phi = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)
    r3, z3, p3 = np.meshgrid(rr, zz, phi, indexing="ij")
    s2 = (r3 * np.cos(p3) - R_SUN) ** 2 + (r3 * np.sin(p3)) ** 2 + z3**2
    w3 = np.einsum("i,j->ij", wr, wz)[:, :, None] * (2 * np.pi / phi.size)
    ref = np.sum(w3 * r3 / s2) * units.KPC_CM
    m = sky_map(dec, _local(dec, full), nside, oversample=4, r_sun_kpc=R_SUN)
    assert abs(m.sum() * omega / ref - 1.0) < 3e-3


# --- direction convention ------------------------------------------------------------------
def test_direction_convention():
    """A cell at the Galactic centre lights (l, b) = (0, 0) and not l = 180 or +-90; a cell at
    -y of the Sun lights l = 90 (Galactic rotation) and not l = 270; a cell above the Sun
    lights b = 90.  In 2D the map is mirror-symmetric, I(l, b) = I(-l, b), to 1e-12."""
    nside = 16
    grid = make_spatial_grid(
        "cartesian3d", {"x": (-11, 11), "y": (-11, 11), "z": (-3, 3)}, {"x": 11, "y": 11, "z": 3}
    )  # 2 kpc cells, the GC at the centre of cell (5, 5, 1), the Sun in cell (9, 5, 1)
    dec = Decomposition(grid, 3)
    full = np.zeros(grid.shape + (3,))
    full[5, 5, 1, 0] = 1.0  # around the Galactic centre
    full[9, 3, 1, 1] = 1.0  # x = R_sun, y in [-5, -3]
    full[9, 5, 2, 2] = 1.0  # z in [1, 3] above the Sun
    maps = sky_map(dec, _local(dec, full), nside, r_sun_kpc=R_SUN)

    def pix(l_deg, b_deg):
        return hp.ang2pix(nside, l_deg, b_deg, lonlat=True)

    assert maps[0, pix(0, 0)] > 0
    assert maps[0, pix(180, 0)] == 0 and maps[0, pix(90, 0)] == 0 and maps[0, pix(270, 0)] == 0
    assert maps[1, pix(90, 0)] > 0 and maps[1, pix(270, 0)] == 0 and maps[1, pix(0, 0)] == 0
    assert maps[2, pix(0, 89)] > 0 and maps[2, pix(0, -89)] == 0

    grid = _grid2d()
    dec = Decomposition(grid, 1)
    rng = np.random.default_rng(7)
    m = sky_map(dec, _local(dec, rng.random(grid.shape + (1,))), nside, r_sun_kpc=R_SUN)[0]
    lon, lat = hp.pix2ang(nside, np.arange(m.size), lonlat=True)
    mirror = hp.ang2pix(nside, -lon, lat, lonlat=True)
    assert np.max(np.abs(m[mirror] - m)) < 1e-12 * m.max()


# --- decomposition ---------------------------------------------------------------------------
@pytest.mark.parallel
@pytest.mark.parametrize("geometry", ["cylindrical2d", "cartesian3d"])
def test_same_map_on_all_ranks_and_alone(geometry):
    """A random emissivity mapped by all ranks together (each its own cells, one Allreduce)
    equals the map of the same emissivity by each rank alone (PETSc.COMM_SELF), to 1e-12
    relative, with 2 x 2 rays per pixel (on one rank both runs are the same computation)."""
    grid = _grid2d() if geometry == "cylindrical2d" else _grid3d()
    rng = np.random.default_rng(2024)
    full = rng.random(grid.shape + (2,))
    together = Decomposition(grid, 2)
    alone = Decomposition(grid, 2, comm=PETSc.COMM_SELF)
    a = sky_map(together, _local(together, full), 8, oversample=2, r_sun_kpc=R_SUN)
    b = sky_map(alone, _local(alone, full), 8, oversample=2, r_sun_kpc=R_SUN)
    assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


# --- luminosity ------------------------------------------------------------------------------
@pytest.mark.parallel
def test_luminosity_of_uniform_cylinder_and_box():
    """A uniform cylinder r < 5, |z| < 0.5 kpc of eps = eps0 E^-2.7: L(E) = 4 pi eps(E) pi R^2
    H (to 1e-12), and int E L dE = 4 pi eps0 pi R^2 H (E1^-0.7 - E2^-0.7) / 0.7 GeV -> erg
    (to 1e-10: the power-law integration is exact).  The same for a box in cartesian3d.
    Where the integrand is not positive the rule falls back to the trapezoid: int of
    (0, 1, 1) on (1, 2, 3) is 1.5."""
    assert abs(integrate_power_law([1.0, 2.0, 3.0], [0.0, 1.0, 1.0]) - 1.5) < 1e-14
    energies = np.geomspace(0.1, 1000.0, 9)
    eps0 = 3e-25
    spec = eps0 * energies**-2.7
    e_int = (energies[0] ** -0.7 - energies[-1] ** -0.7) / 0.7 * units.GEV_ERG
    grid = make_spatial_grid("cylindrical2d", {"r": (0, 10), "z": (-2, 2)}, {"r": 20, "z": 8})
    dec = Decomposition(grid, energies.size)
    inside = np.outer(grid.axes[0].centers < 5.0, np.abs(grid.axes[1].centers) < 0.5)
    full = inside[:, :, None] * spec
    vol = np.pi * 5.0**2 * 1.0 * units.KPC_CM**3
    l_e, l_erg = luminosity(dec, _local(dec, full), energies)
    assert np.max(np.abs(l_e / (4 * np.pi * spec * vol) - 1.0)) < 1e-12
    assert abs(l_erg / (4 * np.pi * eps0 * vol * e_int) - 1.0) < 1e-10

    grid = make_spatial_grid(
        "cartesian3d", {"x": (-4, 4), "y": (-4, 4), "z": (-2, 2)}, {"x": 8, "y": 4, "z": 8}
    )
    dec = Decomposition(grid, energies.size)
    full = np.zeros(grid.shape + (energies.size,))
    full[2:6, 1:3, 3:5] = spec  # x in [-2, 2], y in [-2, 2], z in [-0.5, 0.5]
    vol = 4.0 * 4.0 * 1.0 * units.KPC_CM**3
    l_e, l_erg = luminosity(dec, _local(dec, full), energies)
    assert np.max(np.abs(l_e / (4 * np.pi * spec * vol) - 1.0)) < 1e-12
    assert abs(l_erg / (4 * np.pi * eps0 * vol * e_int) - 1.0) < 1e-10


# --- regions -------------------------------------------------------------------------------
def test_region_areas_and_wrapping_longitudes():
    """HEALPix pixels have equal areas, so pixel counts give solid angles: the box |l| < 30
    (given as (-30, 30) and as (330, 30)) holds 1/6 of the sky and |b| > 30 half of it
    (1 - sin 30 deg), both to 1 % at nside 64; the mean of a map equal to the longitude
    (in (-180, 180]) over |l| < 30 is 0 (the pixel centres are mirror-symmetric) and over
    0 < l < 30 it is 15 deg to 0.2 deg."""
    nside = 64
    npix = hp.nside2npix(nside)
    wrap = region_mask(nside, (-30, 30), (-90, 90))
    assert np.array_equal(wrap, region_mask(nside, (330, 30), (-90, 90)))
    assert abs(wrap.sum() / npix - 1.0 / 6.0) < 0.01 / 6.0
    high = region_mask(nside, (0, 360), (30, 90), abs_b=True)
    assert abs(high.sum() / npix - 0.5) < 0.005
    lon, _ = hp.pix2ang(nside, np.arange(npix), lonlat=True)
    signed = np.where(lon > 180, lon - 360, lon)
    two = np.stack([signed, 2 * signed])
    assert np.max(np.abs(region_spectrum(two, nside, (-30, 30), (-90, 90)))) < 1e-9
    assert abs(region_spectrum(signed, nside, (0, 30), (-10, 10)) - 15.0) < 0.5
    with pytest.raises(ValueError, match="b_range_deg"):
        region_spectrum(signed, nside, (0, 30), (10, -10))
    with pytest.raises(ValueError, match="l_range_deg"):
        region_spectrum(signed, nside, (10, 10), (-10, 10))
    with pytest.raises(ValueError, match="no pixel"):
        region_spectrum(signed, nside, (0, 0.1), (0.0, 0.1))


# --- bad input -------------------------------------------------------------------------------
def test_bad_input_messages():
    """Refused: a geometry without a Galactic plane, an nside or oversample that is not a
    power of 2, an emissivity of the wrong shape, a negative line of sight; each message
    names the key and the value."""
    slab = make_spatial_grid("slab1d", {"z": (-1, 1)}, {"z": 4})
    with pytest.raises(ValueError, match="grid.geometry = 'slab1d'"):
        sky_map(Decomposition(slab, 1), np.zeros((4, 1)), 4)
    grid = make_spatial_grid("cylindrical2d", {"r": (0, 10), "z": (-2, 2)}, {"r": 4, "z": 4})
    dec = Decomposition(grid, 1)
    eps = np.zeros(dec.box.c_shape + (1,))
    with pytest.raises(ValueError, match="nside = 3"):
        sky_map(dec, eps, 3)
    with pytest.raises(ValueError, match="oversample = 3"):
        sky_map(dec, eps, 4, oversample=3)
    with pytest.raises(ValueError, match="eps_local shape"):
        sky_map(
            dec,
            np.zeros(dec.box.shape + (2,))
            if dec.box.shape[0] != dec.box.shape[1]
            else np.zeros((1, 1, 1)),
            4,
        )
    with pytest.raises(ValueError, match="s_max_kpc = -1"):
        sky_map(dec, eps, 4, s_max_kpc=-1.0)
    with pytest.raises(ValueError, match="sun.r_kpc"):
        sky_map(dec, eps, 4, r_sun_kpc=float("nan"))


# --- files and plots -------------------------------------------------------------------------
def _example_maps(nside=8):
    npix = hp.nside2npix(nside)
    rng = np.random.default_rng(3)
    return {
        "pi0": rng.random((3, npix)) * 1e-6,
        "inverse_compton": rng.random((3, npix)) * 1e-7,
    }


@pytest.mark.serial
def test_fits_round_trip_via_healpy(tmp_path):
    """write_maps_fits: healpy.read_map(path, field=i, hdu=k) returns map i of process k
    bit for bit (float64), the header says HEALPix/RING/nside/Galactic, the ENERGIES table
    holds the energies in MeV, no temporary file is left, and read_maps gives it all back."""
    from astropy.io import fits

    from galprop_py.emission.maps_io import read_maps, write_maps_fits

    nside, energies = 8, np.array([0.1, 1.0, 10.0])
    maps = _example_maps(nside)
    path = write_maps_fits(
        tmp_path / "maps.fits",
        maps,
        energies,
        nside,
        {"pi0": "cm^-2 s^-1 sr^-1 GeV^-1", "inverse_compton": "cm^-2 s^-1"},
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps.fits"]
    for k, name in enumerate(maps, start=1):
        for i in range(3):
            m = hp.read_map(path, field=i, hdu=k, dtype=np.float64)
            assert np.array_equal(m, maps[name][i]), (name, i)
    with fits.open(path) as hdul:
        h = hdul["PI0"].header
        assert (h["PIXTYPE"], h["ORDERING"], h["NSIDE"], h["COORDSYS"]) == (
            "HEALPIX",
            "RING",
            nside,
            "G",
        )
        assert h["TUNIT1"] == "cm^-2 s^-1 sr^-1 GeV^-1"
        assert np.allclose(hdul["ENERGIES"].data["Energy"], energies * 1e3, rtol=1e-15)
        assert hdul["ENERGIES"].columns["Energy"].unit == "MeV"
    back, e, ns, un = read_maps(path)
    assert ns == nside and np.allclose(e, energies, rtol=1e-15)
    assert all(np.array_equal(back[n], maps[n]) for n in maps)
    assert un["inverse_compton"] == "cm^-2 s^-1"


@pytest.mark.serial
def test_hdf5_maps_attributes_and_round_trip(tmp_path):
    """write_maps_hdf5: every map dataset has units, ordering = RING, nside, coordsys = G, the
    energies are stored in GeV, and read_maps returns the same arrays."""
    import h5py

    from galprop_py.emission.maps_io import read_maps, write_maps_hdf5

    nside, energies = 8, np.array([0.1, 1.0, 10.0])
    maps = _example_maps(nside)
    path = tmp_path / "run.h5"
    with h5py.File(path, "w") as f:
        write_maps_hdf5(f.create_group("skymaps"), maps, energies, nside, "cm^-2 s^-1 sr^-1")
    with h5py.File(path, "r") as f:
        g = f["skymaps"]
        assert g["energies_gev"].attrs["units"] == "GeV"
        for name in maps:
            a = g[name].attrs
            assert (a["units"], a["ordering"], int(a["nside"]), a["coordsys"]) == (
                "cm^-2 s^-1 sr^-1",
                "RING",
                nside,
                "G",
            )
    back, e, ns, un = read_maps(path)
    assert ns == nside and np.array_equal(e, energies)
    assert all(np.array_equal(back[n], maps[n]) for n in maps)
    with h5py.File(path, "a") as f, pytest.raises(ValueError, match=r"maps\['pi0'\] shape"):
        write_maps_hdf5(f["skymaps"], {"pi0": maps["pi0"][:2]}, energies, nside, "x")


@pytest.mark.serial
def test_plots_write_png(tmp_path):
    """plot_map and plot_region_spectrum write PNG files from a FITS and an HDF5 map file;
    an unknown process is refused with its name and the allowed ones."""
    import h5py

    from galprop_py.emission.maps_io import write_maps_fits, write_maps_hdf5
    from galprop_py.emission.plot_maps import plot_map, plot_region_spectrum

    nside, energies = 8, np.array([0.1, 1.0, 10.0])
    maps = _example_maps(nside)
    maps["pi0"][1, :10] = 0.0  # zeros on a log scale
    fpath = write_maps_fits(tmp_path / "m.fits", maps, energies, nside, "cm^-2 s^-1 sr^-1 GeV^-1")
    hpath = tmp_path / "m.h5"
    with h5py.File(hpath, "w") as f:
        write_maps_hdf5(f, maps, energies, nside, "cm^-2 s^-1 sr^-1 GeV^-1")
    for src in (fpath, hpath):
        png = plot_map(src, "pi0", 1.2, tmp_path / f"map_{src.suffix[1:]}.png", xsize=300)
        spec = plot_region_spectrum(
            src, tmp_path / f"spec_{src.suffix[1:]}.png", (-30, 30), (-90, 90)
        )
        for p in (png, spec):
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="process = 'synchrotron'.*allowed"):
        plot_map(fpath, "synchrotron", 1.0, tmp_path / "x.png")


def test_luminosity_of_a_uniform_sphere():
    """spherical1d: a uniform sphere r < 0.25 kpc of emissivity eps0 (cell edges at 0.25):
    L = 4 pi eps0 (4/3) pi R^3 to 1e-12, on any number of ranks."""
    grid = make_spatial_grid("spherical1d", {"r": (0, 1.0)}, {"r": 20})
    energies = np.array([1.0, 10.0])
    dec = Decomposition(grid, energies.size)
    eps0 = 2e-20
    full = (grid.axes[0].centers < 0.25)[:, None] * np.array([eps0, eps0])
    l_e, _ = luminosity(dec, _local(dec, full), energies)
    vol = 4.0 / 3.0 * np.pi * 0.25**3 * units.KPC_CM**3
    assert np.max(np.abs(l_e / (4 * np.pi * eps0 * vol) - 1.0)) < 1e-12
