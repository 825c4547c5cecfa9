"""Line-of-sight integration of a volume emissivity to HEALPix sky maps.

Given a volume emissivity ``eps(x, E)`` on the cells of the run's spatial grid (any quantity
per unit volume and per steradian: gamma rays in photons cm^-3 s^-1 sr^-1 GeV^-1, synchrotron
in erg cm^-3 s^-1 Hz^-1 sr^-1, ...), :func:`sky_map` computes the intensity seen from the Sun

    I(l, b, E) = int_0^s_max eps(x_sun + s d(l, b), E) ds

on a HEALPix map (healpy, RING ordering, Galactic coordinates).  Lengths are in kpc inside,
converted to cm with :data:`galprop_py.units.KPC_CM`, so the map has the emissivity's unit
times cm (photons cm^-2 s^-1 sr^-1 GeV^-1 for the gamma-ray emissivity).

Frame and direction convention
------------------------------
The Galactic centre is at the origin, z points to the North Galactic Pole, and the Sun is at
``(r, z) = (R_sun, z_sun)`` (``cylindrical2d``) or ``(x, y, z) = (+R_sun, 0, z_sun)``
(``cartesian3d``).  Longitude l = 0 looks at the Galactic centre and l = 90 deg along the
Galactic rotation, which in this frame is -y:

    d(l, b) = (-cos b cos l, -cos b sin l, sin b).

HEALPix's own pixel vector for (theta, phi) = (90 deg - b, l) is (cos b cos l, cos b sin l,
sin b), so d is that vector with its x and y components negated.

Method
------
The emissivity is constant in each cell (the finite-volume value), and each ray is cut at
every face of the cells this rank owns: the planes x/y/z = edge (3D), and the cylinders
r = edge (the two roots of the quadratic |x_h + s d_h|^2 = r_edge^2, in the cancellation-free
form) and planes z = edge (2D).  Between two consecutive cuts the ray is inside one cell, found
from the position of the midpoint, so the path lengths are exact and the integral of a
piecewise constant emissivity has only round-off error.  A ray that lies in a face (the
plane z = edge through a Sun on a cell face, seen at b = 0) gets the mean of the cells on the
two sides.  The work is vectorised over rays
(chunks of pixels); the ray/cell lengths of a chunk form a sparse matrix that multiplies the
rank's emissivities for all energies at once.

Parallel: every rank integrates only the cells it owns, and the maps are summed over ranks
with one ``Allreduce``, so every rank returns the full map and the result does not depend on
the decomposition beyond round-off (the cuts that bound a segment inside a cell are the faces
of that cell, computed identically on any rank).

Several rays per pixel (``oversample = k``, a power of 2): the map is computed at nside k and
averaged over the k^2 sub-pixels of each pixel (the HEALPix NESTED hierarchy, equal areas), so
the value is the mean intensity over the pixel rather than the value at its centre.

:func:`luminosity` gives the whole-galaxy luminosity ``4 pi int eps dV`` and its energy
integral; :func:`region_spectrum` the mean intensity in a (l, b) box.
"""

from __future__ import annotations

import healpy as hp
import numpy as np
from mpi4py import MPI
from scipy import sparse

from .. import units
from ..io.safety import every_rank

GEOMETRIES = ("cylindrical2d", "cartesian3d")
#: default number of (ray, cut) pairs handled at once (memory per chunk ~ 10 arrays of this)
CHUNK_ELEMENTS = 2_000_000


# --- checks ------------------------------------------------------------------------------
def _check_geometry(grid) -> None:
    if grid.geometry not in GEOMETRIES:
        raise ValueError(
            f"grid.geometry = {grid.geometry!r}: sky maps need a geometry with a Galactic "
            f"plane, allowed {list(GEOMETRIES)}"
        )


def _check_nside(nside, key: str = "nside") -> int:
    if isinstance(nside, bool) or not isinstance(nside, (int, np.integer)):
        raise ValueError(f"{key} = {nside!r}: allowed a power of 2 (1, 2, 4, ..., 2^29)")
    if not hp.isnsideok(int(nside), nest=True):
        raise ValueError(f"{key} = {nside!r}: allowed a power of 2 (1, 2, 4, ..., 2^29)")
    return int(nside)


def sun_position(geometry: str, r_sun_kpc: float, z_sun_kpc: float) -> np.ndarray:
    """The Sun in the 3D frame of the ray tracing [kpc]: (R_sun, 0, z_sun) for both geometries
    (in 2D the azimuth of the Sun is arbitrary: the emissivity does not depend on it)."""
    if geometry not in GEOMETRIES:
        raise ValueError(f"grid.geometry = {geometry!r}: allowed {list(GEOMETRIES)}")
    if not np.isfinite(r_sun_kpc) or r_sun_kpc < 0:
        raise ValueError(f"sun.r_kpc = {r_sun_kpc!r}: allowed a finite radius >= 0 kpc")
    if not np.isfinite(z_sun_kpc):
        raise ValueError(f"sun.z_kpc = {z_sun_kpc!r}: allowed a finite height in kpc")
    return np.array([float(r_sun_kpc), 0.0, float(z_sun_kpc)])


def directions(nside: int, nest: bool = False, pixels: np.ndarray | None = None) -> np.ndarray:
    """Unit vectors d(l, b) of the pixel centres, shape (npix, 3), in the frame above."""
    if pixels is None:
        pixels = np.arange(hp.nside2npix(nside))
    vx, vy, vz = hp.pix2vec(nside, pixels, nest=nest)
    return np.stack([-vx, -vy, vz], axis=1)


def max_path_kpc(grid, sun: np.ndarray) -> float:
    """An upper bound of the length of any ray from ``sun`` inside the grid [kpc]: the distance
    to the farthest point of the grid's bounding box (or cylinder)."""
    if grid.geometry == "cylindrical2d":
        r_hi = grid.axes[0].edges[-1]
        ze = grid.axes[1].edges
        horiz = r_hi + np.hypot(sun[0], sun[1])
        vert = max(abs(ze[0] - sun[2]), abs(ze[-1] - sun[2]))
        return float(np.hypot(horiz, vert))
    corner = [
        max(abs(ax.edges[0] - s), abs(ax.edges[-1] - s))
        for ax, s in zip(grid.axes, sun, strict=True)
    ]
    return float(np.linalg.norm(corner))


# --- ray / face cuts --------------------------------------------------------------------
def _plane_cuts(o: float, d: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Path parameters (m, n_edges) where the rays o + s d cross the planes x = edges; inf for
    rays parallel to the planes."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (edges[None, :] - o) / d[:, None]
    t[~np.isfinite(t)] = np.inf
    return t


def cylinder_cuts(ox: float, oy: float, dx: np.ndarray, dy: np.ndarray, radii: np.ndarray):
    """Both path parameters where the rays (ox, oy) + s (dx, dy) (horizontal part) cross the
    cylinders r = radii: arrays (m, n) s_minus <= s_plus, inf where the ray misses a cylinder.

    Roots of a s^2 + 2 b s + c = 0 with a = dx^2 + dy^2, b = ox dx + oy dy,
    c = ox^2 + oy^2 - r^2, from q = -(b + sign(b) sqrt(b^2 - a c)): s = q / a and c / q."""
    a = (dx * dx + dy * dy)[:, None]
    b = (ox * dx + oy * dy)[:, None]
    c = (ox * ox + oy * oy) - radii[None, :] ** 2
    disc = b * b - a * c
    hit = (disc > 0) & (a > 0)
    root = np.sqrt(np.where(hit, disc, 0.0))
    q = -(b + np.where(b >= 0, root, -root))
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.where(hit, q / a, np.inf)
        s2 = np.where(hit & (q != 0), c / q, np.where(hit, -s1, np.inf))
    return np.minimum(s1, s2), np.maximum(s1, s2)


class _LocalTracer:
    """Ray tracing through the cells one rank owns."""

    def __init__(self, decomp, sun: np.ndarray, s_max: float):
        self.grid = decomp.grid
        self.sun = sun
        self.s_max = float(s_max)
        self.starts = decomp.box.starts
        self.stops = decomp.box.stops
        self.c_shape = decomp.box.c_shape
        self.global_edges = [ax.edges for ax in self.grid.axes]
        self.local_edges = [
            ax.edges[s : e + 1]
            for ax, s, e in zip(self.grid.axes, self.starts, self.stops, strict=True)
        ]
        self.cylindrical = self.grid.geometry == "cylindrical2d"
        n_cuts = sum(e.size for e in self.local_edges)
        if self.cylindrical:
            n_cuts += self.local_edges[0].size  # two roots per cylinder
        self.n_cuts = n_cuts + 2  # the ray's start and end

    def _in_box(self, d: np.ndarray) -> np.ndarray:
        """Rays that can meet the owned box (a cheap superset test: entry < exit of the box's
        bounding slabs, and in 2D of the outer cylinder)."""
        lo = np.zeros(d.shape[0])
        hi = np.full(d.shape[0], self.s_max)
        if self.cylindrical:
            pairs = [(2, self.local_edges[1])]
            r_hi = self.local_edges[0][-1:]
            s1, s2 = cylinder_cuts(self.sun[0], self.sun[1], d[:, 0], d[:, 1], r_hi)
            vertical = (d[:, 0] ** 2 + d[:, 1] ** 2) == 0
            inside = np.hypot(self.sun[0], self.sun[1]) <= r_hi[0]
            lo = np.maximum(lo, np.where(vertical, -np.inf if inside else np.inf, s1[:, 0]))
            hi = np.minimum(hi, np.where(vertical, np.inf if inside else -np.inf, s2[:, 0]))
        else:
            pairs = [(a, self.local_edges[a]) for a in range(3)]
        for a, e in pairs:
            t = _plane_cuts(self.sun[a], d[:, a], e[[0, -1]])
            parallel = ~np.isfinite(t[:, 0])
            t_lo = np.minimum(t[:, 0], t[:, 1])
            t_hi = np.maximum(t[:, 0], t[:, 1])
            inside = (e[0] <= self.sun[a]) & (self.sun[a] <= e[-1])
            t_lo = np.where(parallel, -np.inf if inside else np.inf, t_lo)
            t_hi = np.where(parallel, np.inf if inside else -np.inf, t_hi)
            lo = np.maximum(lo, t_lo)
            hi = np.minimum(hi, t_hi)
        return hi > lo

    def cuts(self, d: np.ndarray) -> np.ndarray:
        """Sorted path parameters of all face crossings in [0, s_max], shape (m, n_cuts)."""
        parts = [np.zeros((d.shape[0], 1)), np.full((d.shape[0], 1), self.s_max)]
        if self.cylindrical:
            s1, s2 = cylinder_cuts(self.sun[0], self.sun[1], d[:, 0], d[:, 1], self.local_edges[0])
            parts += [s1, s2, _plane_cuts(self.sun[2], d[:, 2], self.local_edges[1])]
        else:
            parts += [_plane_cuts(self.sun[a], d[:, a], self.local_edges[a]) for a in range(3)]
        t = np.concatenate(parts, axis=1)
        np.clip(t, 0.0, self.s_max, out=t)  # -inf/inf -> ends: zero-length segments
        t.sort(axis=1)
        return t

    def lengths(self, d: np.ndarray) -> sparse.csr_matrix:
        """Path lengths [kpc] of the rays ``d`` (m, 3) in the owned cells: a sparse (m, ncells)
        matrix, columns in the C order of the rank-local arrays."""
        m = d.shape[0]
        ncells = int(np.prod(self.c_shape))
        rays = np.flatnonzero(self._in_box(d))
        if rays.size == 0:
            return sparse.csr_matrix((m, ncells))
        dd = d[rays]
        t = self.cuts(dd)
        ds = np.diff(t, axis=1)
        mid = 0.5 * (t[:, 1:] + t[:, :-1])
        pos = [self.sun[k] + mid * dd[:, k : k + 1] for k in range(3)]
        if self.cylindrical:
            coords = [np.hypot(pos[0], pos[1]), pos[2]]
        else:
            coords = pos
        seg = ds > 0
        upper, on_face = [], []
        for a, x in enumerate(coords):
            e = self.global_edges[a]
            i = np.searchsorted(e, x, side="right") - 1
            upper.append(i)
            face = seg & (np.searchsorted(e, x, side="left") - 1 != i)
            if self.cylindrical and a == 0:
                face &= x > 0  # r = 0 is the axis, not a face between two cells
            on_face.append(face)
        # a segment that lies in a face (a ray in the plane z = edge, e.g. b = 0 with the Sun
        # on a cell face) belongs to the cells on both sides: half to each (per such axis)
        n_faces = np.sum(on_face, axis=0)
        weight = np.where(seg, ds * 0.5**n_faces, 0.0)
        rows, cols, vals = [], [], []
        self._entries(rays, upper, weight, seg, rows, cols, vals)
        split = n_faces > 0
        if np.any(split):
            for mask in range(1, 2 ** len(coords)):
                lower = [bool(mask >> a & 1) for a in range(len(coords))]
                sel = split.copy()
                for a, low in enumerate(lower):
                    if low:
                        sel &= on_face[a]
                if not np.any(sel):
                    continue
                idx = [i - 1 if low else i for i, low in zip(upper, lower, strict=True)]
                self._entries(rays, idx, weight, sel, rows, cols, vals)
        row, col, val = (np.concatenate(v) for v in (rows, cols, vals))
        return sparse.csr_matrix((val, (row, col)), shape=(m, ncells))

    def _entries(self, rays, idx, weight, sel, rows, cols, vals) -> None:
        """Append the (ray, local cell, length) entries of the segments ``sel`` whose global
        cell indices ``idx`` (per physical axis) this rank owns."""
        keep = sel.copy()
        for a, i in enumerate(idx):
            keep &= (i >= self.starts[a]) & (i < self.stops[a])
        local = tuple(idx[a][keep] - self.starts[a] for a in reversed(range(len(idx))))
        rows.append(np.broadcast_to(rays[:, None], keep.shape)[keep])
        cols.append(np.ravel_multi_index(local, self.c_shape))
        vals.append(weight[keep])


def _trace_nested(decomp, eps_flat, nside, k, sun, s_max, chunk_elements) -> np.ndarray:
    """This rank's part of the map in NESTED order [emissivity unit x kpc], shape (npix, n_E):
    the mean over the k^2 NESTED children (at nside k nside) of each pixel."""
    n_e = eps_flat.shape[1]
    out = np.zeros((hp.nside2npix(nside), n_e))
    if eps_flat.size == 0 or not np.any(eps_flat != 0):
        return out
    tracer = _LocalTracer(decomp, sun, s_max)
    kk = k * k
    step = max(1, int(chunk_elements) // (tracer.n_cuts * kk))  # parent pixels per chunk
    for p0 in range(0, out.shape[0], step):
        p1 = min(p0 + step, out.shape[0])
        children = np.arange(p0 * kk, p1 * kk)
        d = directions(nside * k, nest=True, pixels=children)
        out[p0:p1] = (tracer.lengths(d) @ eps_flat).reshape(p1 - p0, kk, n_e).mean(axis=1)
    return out


# --- public API --------------------------------------------------------------------------
def sky_map(
    decomp,
    eps_local: np.ndarray,
    nside: int,
    s_max_kpc: float | None = None,
    oversample: int = 1,
    r_sun_kpc: float = 8.3,
    z_sun_kpc: float = 0.0,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> np.ndarray:
    """Line-of-sight integral of ``eps_local`` to a HEALPix map (RING, Galactic), on every rank.

    Parameters
    ----------
    decomp: the run's :class:`~galprop_py.decomposition.Decomposition` (collective call).
    eps_local: this rank's emissivities, shape ``decomp.box.c_shape + (n_E,)`` (or without the
        last axis for one energy), per cm^3 and per sr (e.g. photons cm^-3 s^-1 sr^-1 GeV^-1).
    nside: HEALPix resolution of the map (a power of 2).
    s_max_kpc: length of the line of sight [kpc]; None integrates to the edge of the grid.
    oversample: rays per pixel edge (a power of 2): each pixel is the mean of oversample^2
        sub-pixel rays.
    r_sun_kpc, z_sun_kpc: the Sun (config ``sun.r_kpc``, ``sun.z_kpc``).

    Returns the intensity maps, shape ``(n_E, 12 nside^2)``, in the emissivity's unit times cm.
    """
    comm = decomp.comm.tompi4py()
    with every_rank(comm):  # a rank's bad input stops every rank, before the reduction
        grid = decomp.grid
        _check_geometry(grid)
        nside = _check_nside(nside)
        k = _check_nside(oversample, "oversample")
        eps = np.asarray(eps_local, dtype=float)
        c_shape = decomp.box.c_shape
        if eps.shape == c_shape:
            eps = eps[..., None]
        if eps.ndim != len(c_shape) + 1 or eps.shape[:-1] != c_shape:
            raise ValueError(
                f"eps_local shape {eps.shape}: allowed the rank-local cell shape {c_shape} "
                "followed by the energy axis (physical axes reversed, as decomp.box.c_shape)"
            )
        sun = sun_position(grid.geometry, r_sun_kpc, z_sun_kpc)
        if s_max_kpc is None:
            s_max = max_path_kpc(grid, sun) * (1.0 + 1e-9) + 1e-9
        elif not np.isfinite(s_max_kpc) or s_max_kpc <= 0:
            raise ValueError(f"s_max_kpc = {s_max_kpc!r}: allowed a length > 0 kpc (or None)")
        else:
            s_max = float(s_max_kpc)
        nest = _trace_nested(
            decomp, eps.reshape(-1, eps.shape[-1]), nside, k, sun, s_max, chunk_elements
        )
    if comm.Get_size() > 1:
        comm.Allreduce(MPI.IN_PLACE, nest, op=MPI.SUM)
    nest *= units.KPC_CM
    ring2nest = hp.ring2nest(nside, np.arange(hp.nside2npix(nside)))
    return np.ascontiguousarray(nest[ring2nest].T)


def local_cell_volumes_cm3(decomp) -> np.ndarray:
    """Volumes of this rank's cells [cm^3] (rank-local layout), including the 2 pi r of the
    rings in ``cylindrical2d`` (``grid.cell_volumes`` leaves it out); ``spherical1d`` shells
    4 pi (r_hi^3 - r_lo^3) / 3 (luminosities only: no line of sight in 1D)."""
    if decomp.grid.geometry == "spherical1d":
        edges = decomp.grid.axes[0].edges[
            decomp.owned_slice(0).start : decomp.owned_slice(0).stop + 1
        ]
        shells = 4.0 * np.pi / 3.0 * (edges[1:] ** 3 - edges[:-1] ** 3)
        return decomp.expand(shells, 0) * units.KPC_CM**3
    _check_geometry(decomp.grid)
    vol = decomp.local_cell_volumes() * units.KPC_CM**3
    if decomp.grid.geometry == "cylindrical2d":
        vol = vol * 2.0 * np.pi
    return vol


def integrate_power_law(x: np.ndarray, y: np.ndarray) -> float:
    """int y dx over the nodes ``x``, exact for y a power law between neighbouring nodes
    (trapezoid on an interval where y is not positive at both ends)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x1, x2, y1, y2 = x[:-1], x[1:], y[:-1], y[1:]
    pos = (y1 > 0) & (y2 > 0)
    total = np.sum(np.where(pos, 0.0, 0.5 * (y1 + y2) * (x2 - x1)))
    if np.any(pos):
        x1, x2, y1, y2 = x1[pos], x2[pos], y1[pos], y2[pos]
        lx = np.log(x2 / x1)
        g = np.log(y2 / y1) / lx + 1.0  # y x ~ x^g
        gl = g * lx
        small = np.abs(gl) < 1e-8
        factor = np.where(small, lx * (1.0 + 0.5 * gl), np.expm1(gl) / np.where(small, 1, g))
        total += np.sum(y1 * x1 * factor)
    return float(total)


def luminosity(decomp, eps_local: np.ndarray, energies_gev: np.ndarray):
    """Whole-galaxy luminosity of an emissivity (collective call; result on every rank).

    Returns ``(l_e, l_erg_s)``: ``l_e = 4 pi int eps dV`` per energy, shape (n_E,) (photons
    s^-1 GeV^-1 for eps in photons cm^-3 s^-1 sr^-1 GeV^-1), and ``l_erg_s = int E l_e dE``
    [erg s^-1] over the energy nodes (exact for power laws between nodes)."""
    comm = decomp.comm.tompi4py()
    with every_rank(comm):
        eps = np.asarray(eps_local, dtype=float)
        c_shape = decomp.box.c_shape
        energies = np.atleast_1d(np.asarray(energies_gev, dtype=float))
        if eps.shape[:-1] != c_shape or eps.shape[-1] != energies.size:
            raise ValueError(
                f"eps_local shape {eps.shape}: allowed {c_shape + (energies.size,)} "
                "(rank-local cells, then one value per energy)"
            )
        if energies.ndim != 1 or np.any(energies <= 0) or np.any(np.diff(energies) <= 0):
            raise ValueError(f"energies_gev = {energies!r}: allowed increasing energies > 0 GeV")
        vol = local_cell_volumes_cm3(decomp)
        l_e = 4.0 * np.pi * np.tensordot(vol, eps, axes=(tuple(range(vol.ndim)),) * 2)
    if comm.Get_size() > 1:
        comm.Allreduce(MPI.IN_PLACE, l_e, op=MPI.SUM)
    l_erg = (
        integrate_power_law(energies, energies * l_e) * units.GEV_ERG if energies.size > 1 else 0.0
    )
    return l_e, l_erg


def pixel_lonlat(nside: int) -> tuple[np.ndarray, np.ndarray]:
    """Galactic longitude [0, 360) and latitude of the RING pixel centres [deg]."""
    lon, lat = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), lonlat=True)
    return np.mod(lon, 360.0), lat


def region_mask(nside: int, l_range_deg, b_range_deg, abs_b: bool = False) -> np.ndarray:
    """Pixels (RING) whose centres lie in the box l0 <= l <= l1, b0 <= b <= b1 [deg].

    The longitude range may wrap through 0: (-30, 30) and (330, 30) are the same 60 deg.
    ``abs_b`` applies the latitude range to |b| (e.g. (10, 90): both hemispheres off the
    plane)."""
    nside = _check_nside(nside)
    l0, l1 = (float(v) for v in l_range_deg)
    b0, b1 = (float(v) for v in b_range_deg)
    width = l1 - l0 if l1 > l0 else l1 - l0 + 360.0
    if not (np.isfinite(width) and 0 < width <= 360.0) or l1 == l0:
        raise ValueError(
            f"l_range_deg = {l_range_deg!r}: allowed (l0, l1) in deg, l0 != l1, "
            "spanning at most 360 deg (it may wrap through 0)"
        )
    lo_b = 0.0 if abs_b else -90.0
    if not (lo_b <= b0 < b1 <= 90.0):
        raise ValueError(f"b_range_deg = {b_range_deg!r}: allowed {lo_b:g} <= b0 < b1 <= 90 deg")
    lon, lat = pixel_lonlat(nside)
    b = np.abs(lat) if abs_b else lat
    in_l = np.mod(lon - l0, 360.0) <= width + 1e-12
    return in_l & (b >= b0) & (b <= b1)


def region_spectrum(maps, nside: int, l_range_deg, b_range_deg, abs_b: bool = False):
    """Mean intensity over the pixels of a (l, b) box (see :func:`region_mask`): shape (n_E,)
    for maps (n_E, npix), a number for one map (npix,).  Pixels have equal areas, so this is
    the solid-angle average."""
    maps = np.asarray(maps, dtype=float)
    npix = hp.nside2npix(_check_nside(nside))
    if maps.shape[-1] != npix:
        raise ValueError(f"maps of {maps.shape[-1]} pixels: nside = {nside} needs {npix}")
    mask = region_mask(nside, l_range_deg, b_range_deg, abs_b)
    if not mask.any():
        raise ValueError(
            f"l_range_deg = {l_range_deg!r}, b_range_deg = {b_range_deg!r}: no pixel centre of "
            f"nside {nside} in the region; allowed a larger region or a finer map"
        )
    return maps[..., mask].mean(axis=-1)
