"""What every transport operator receives: the coefficients of one species on the local grid.

Coefficient fields are given as functions of position (evaluated where an operator needs them:
at cell centres or at faces, so no halo exchange of coefficients is ever needed) times arrays
over momentum.  A :class:`SeparableField` is a sum of such products, which covers gas-density
weighted losses, spatial profiles times injection spectra and so on without storing a full
(cells x momenta) array per physical process.

Units are the solver's internal ones (see :mod:`galprop_py.units`): kpc, Myr, GeV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ..decomposition import Decomposition
from ..physics.species import Species

#: A spatial profile: takes a list of coordinate arrays (physical axis order, broadcastable
#: to each other) and returns an array broadcastable to their common shape.
Profile = Callable[[Sequence[np.ndarray]], np.ndarray]


def _uniform(coords):
    return np.ones(np.broadcast_shapes(*[np.shape(c) for c in coords]))


@njit(cache=True)
def _separable_sum(profiles, spectra, out):  # pragma: no cover
    """out[c, k] = sum_j profiles[j, c] spectra[j, k], the terms added in order j = 0, 1, ..."""
    nterms, cells = profiles.shape
    n = spectra.shape[1]
    for c in range(cells):
        for k in range(n):
            acc = profiles[0, c] * spectra[0, k]
            for j in range(1, nterms):
                acc = acc + profiles[j, c] * spectra[j, k]
            out[c, k] = acc


@dataclass
class SeparableField:
    """sum_j profile_j(x) * spectrum_j(p); spectra live on momentum centres or edges."""

    terms: list[tuple[Profile | None, np.ndarray]] = field(default_factory=list)

    def add(self, profile: Profile | None, spectrum: np.ndarray) -> SeparableField:
        self.terms.append((profile, np.asarray(spectrum, dtype=float)))
        return self

    def __bool__(self) -> bool:
        return bool(self.terms)

    def evaluate(self, coords: Sequence[np.ndarray]) -> np.ndarray:
        """Array of shape broadcast(coords) + (n_momentum,).

        The terms are summed in their order, s_0 a_0 + s_1 a_1 + ..., in one pass over
        the cells by :func:`_separable_sum` (the numbers of the term-by-term numpy sum, bit
        for bit, without a temporary per term)."""
        profiles = [
            _uniform(coords) if profile is None else np.asarray(profile(coords), float)
            for profile, _ in self.terms
        ]
        spectra = [spectrum for _, spectrum in self.terms]
        if not profiles:
            return None
        n = spectra[0].shape
        if any(sp.ndim != 1 or sp.shape != n for sp in spectra):
            out = None
            for s, spectrum in zip(profiles, spectra, strict=True):
                term = s[..., None] * spectrum
                out = term if out is None else out + term
            return out
        shape = np.broadcast_shapes(*(s.shape for s in profiles))
        cells = int(np.prod(shape))
        stacked = np.empty((len(profiles), cells))
        for j, s in enumerate(profiles):
            stacked[j] = np.broadcast_to(s, shape).reshape(-1)
        out = np.empty((cells, n[0]))
        _separable_sum(stacked, np.stack(spectra), out)
        return out.reshape(shape + n)


@dataclass
class DiffusionTensor:
    """kappa_ij = kperp delta_ij + (kpar - kperp) b_i b_j + kA eps_ijk b_k.

    ``kappa_par`` (and ``kappa_perp``, ``kappa_a``) are momentum arrays [kpc^2/Myr] multiplied
    by ``spatial_factor(x)``. ``field_direction(coords)`` returns the three components of the
    unit vector b in the geometry's orthonormal frame ((x, y, z); (r, phi, z) in cylindrical,
    (r, theta, phi) in spherical).  With ``field_direction = None`` the tensor is the scalar
    kappa_par delta_ij.
    """

    kappa_par: np.ndarray
    kappa_perp: np.ndarray | None = None
    kappa_a: np.ndarray | None = None
    spatial_factor: Profile | None = None
    field_direction: Callable | None = None

    @property
    def is_scalar(self) -> bool:
        return self.field_direction is None

    def component(self, i: int, j: int, coords, frame_axes: Sequence[int]) -> np.ndarray:
        """kappa_{ij} between grid axes i and j at ``coords``: shape broadcast(coords) + (n_p,)."""
        s = _uniform(coords) if self.spatial_factor is None else self.spatial_factor(coords)
        s = np.asarray(s, dtype=float)[..., None]
        if self.is_scalar:
            return s * self.kappa_par if i == j else np.zeros_like(s * self.kappa_par)
        b = self.field_direction(coords)
        fi, fj = frame_axes[i], frame_axes[j]
        kperp = self.kappa_perp if self.kappa_perp is not None else 0.0 * self.kappa_par
        bi = np.asarray(b[fi], float)[..., None]
        bj = np.asarray(b[fj], float)[..., None]
        out = (self.kappa_par - kperp) * bi * bj
        if i == j:
            out = out + kperp
        elif self.kappa_a is not None:
            k = 3 - fi - fj
            eps = _levi_civita(fi, fj, k)
            out = out + eps * self.kappa_a * np.asarray(b[k], float)[..., None]
        return s * out


def _levi_civita(i: int, j: int, k: int) -> int:
    return int((i - j) * (j - k) * (k - i) / 2)


@dataclass
class SpeciesCoefficients:
    """All coefficients of the transport equation for one species.

    Attributes (internal units):
        species: the particle species.
        p, p_edges: momentum per particle at cell centres / edges [GeV/c].
        diffusion: spatial diffusion tensor, or None.
        wind: function (axis, coords) -> velocity component along that grid axis [kpc/Myr].
        momentum_diffusion: D_pp at momentum edges [(GeV/c)^2/Myr] as a separable field.
        energy_loss: |dp/dt| of continuous losses at momentum edges [GeV/c / Myr].
        catastrophic: loss rate at momentum centres [1/Myr] (spallation, decay).
        source: injection rate density at momentum centres [per volume per GeV/c per Myr].
        source_time: optional factor g(t) multiplying ``source`` (time-dependent runs).
        source_time_integral: optional exact integral of g over [t0, t1]; time steps use
            it (or, without it, g at the step midpoint) so that a source switched on or off
            inside a step injects exactly what it should.
    """

    species: Species
    p: np.ndarray
    p_edges: np.ndarray
    diffusion: DiffusionTensor | None = None
    wind: Callable | None = None
    momentum_diffusion: SeparableField | None = None
    energy_loss: SeparableField | None = None
    catastrophic: SeparableField | None = None
    source: SeparableField | None = None
    source_time: Callable[[float], float] | None = None
    source_time_integral: Callable[[float, float], float] | None = None

    @property
    def dp(self) -> np.ndarray:
        return np.diff(self.p_edges)


FRAME_AXES = {
    # grid axis -> index in the geometry's 3D orthonormal frame
    "slab1d": (2,),
    "spherical1d": (0,),
    "cylindrical2d": (0, 2),
    "cartesian3d": (0, 1, 2),
}


class Operator:
    """Interface of a physical operator: add its part of A (and nothing else) to a system."""

    name = "operator"

    def assemble(self, system, coeffs: SpeciesCoefficients, decomp: Decomposition) -> None:
        raise NotImplementedError

    def is_active(self, coeffs: SpeciesCoefficients) -> bool:
        return True


def face_coordinates(decomp: Decomposition, a: int, side: int):
    """Coordinates of the owned cells' faces on ``side`` (-1 lower, +1 upper) of axis ``a``.

    Returns (coords, info) where coords are broadcastable coordinate arrays with axis ``a`` at
    the face, and info holds 1D arrays along axis ``a``: ``geo`` = g(face)/w(cell),
    ``h`` = centre-to-centre distance (interior) or centre-to-face (domain boundary),
    ``d_own`` = centre-to-face distance, ``interior`` (neighbour exists) and
    ``boundary_open`` (free-escape boundary face).

    They depend on the grid alone, so they are kept per decomposition (every species and
    operator asks again): the arrays are read-only, the list and dict returned are fresh.
    """
    cache = decomp.__dict__.setdefault("_face_coordinates", {})
    if (a, side) not in cache:
        coords, info = _face_coordinates(decomp, a, side)
        for arr in list(coords) + list(info.values()):
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        cache[(a, side)] = (coords, info)
    coords, info = cache[(a, side)]
    return list(coords), dict(info)


def _face_coordinates(decomp: Decomposition, a: int, side: int):
    """:func:`face_coordinates`, computed."""
    ax = decomp.grid.axes[a]
    i = np.arange(decomp.box.starts[a], decomp.box.stops[a])
    face = ax.edges[i + (1 if side > 0 else 0)]
    nb = i + side
    interior = (nb >= 0) & (nb < ax.n)
    centers = ax.centers
    nb_c = centers[np.clip(nb, 0, ax.n - 1)]
    h = np.where(interior, np.abs(nb_c - centers[i]), np.abs(face - centers[i]))
    kind = ax.lower if side < 0 else ax.upper
    boundary_open = (~interior) & (kind == "free_escape")
    geo = ax.face_metric(face) / ax.widths[i]
    coords = decomp.local_centers()
    coords[a] = decomp.expand(face, a)
    info = {
        "geo": decomp.expand(geo, a),
        "h": decomp.expand(h, a),
        "interior": decomp.expand(interior, a),
        "d_own": decomp.expand(np.abs(face - centers[i]), a),
        "boundary_open": decomp.expand(boundary_open, a),
        "face": face,
    }
    return coords, info


def unit_offset(dim: int, a: int, side: int) -> tuple[int, ...]:
    off = [0] * dim
    off[a] = side
    return tuple(off)
