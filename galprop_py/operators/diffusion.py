"""Spatial diffusion  div(kappa . grad psi)  with a scalar or full anisotropic tensor.

Finite volumes on the cell-centred grid; boundary faces: free escape (psi = 0 on the face, at
half a cell), closed and axis faces carry no flux.

Three linear discretisations of the tensor (``scheme``), and a nonlinear one:

``"centred"``
    Normal flux kappa_aa d_a psi by the two-point difference; cross terms kappa_ab d_b psi
    on each face by the average of the centred b-differences of the two cells sharing it
    (the face-centred, *asymmetric* scheme in the terms of Guenter et al. 2005, J. Comput.
    Phys. 209, 354; their symmetric scheme puts the fluxes at the cell corners).  Second
    order and accurate for strong anisotropy (B12 moments to 1e-5), but the cross terms put
    coefficients of both signs in the matrix, so psi can undershoot below zero near steep
    gradients (-2e-3 of the peak at kappa_par/kappa_perp = 1e3 in
    tests/test_anisotropic_diffusion.py).

``"monotone"``
    The symmetric part of the tensor is split into non-negative diffusion along lattice
    directions: kappa = sum_a alpha_a e_a e_a^T + sum_{a<b} mu_ab v_ab v_ab^T, with
    v_ab = h_a e_a + sign(kappa_ab) h_b e_b the diagonal to the neighbouring cell,
    mu_ab = |kappa_ab| / (h_a h_b) and alpha_a = kappa_aa - sum_b |kappa_ab| h_a / h_b.
    Each term is a two-point flux with a non-negative weight, so the matrix is an M-matrix
    and psi >= 0 (positive-coefficient scheme, e.g. Motzkin & Wasow 1953; Weickert 1998).
    Where alpha_a would be negative (a field far from the lattice directions with
    kappa_par/kappa_perp large) it is set to zero, which adds extra diffusion along axis a
    that keeps positivity; :attr:`SpatialDiffusion.max_added_fraction` reports it.  The
    added diffusion depends only on the spacing ratios, so it does NOT vanish under
    refinement: the scheme then solves another equation.  Its cross-field part, at most
    sum_a added_a (1 - b_a^2) in any direction across b (|P e_a|^2 = 1 - b_a^2 with P the
    projector across b; the bound is reached in 2D), relative to kappa_perp, is
    :attr:`SpatialDiffusion.max_cross_field_fraction` (per-axis maxima over the faces,
    summed); a run warns once when it exceeds :data:`CROSS_FIELD_WARNING` (10%).  The
    antisymmetric (drift) part is non-dissipative and uses the centred cross terms in both
    schemes.  Measured cost of positivity (B12, field oblique to all axes,
    benchmarks/anisotropic_point_release.py): at kappa_par/kappa_perp = 1e3 the variance
    across b grows 234 times too fast (0.23 kappa_par of extra diffusion), at ratio 10
    2.3 times too fast, identically on h = 1.9, 0.98 and 0.66.

``"selling"`` (default for anisotropic tensors)
    Positive, linear and convergent: the symmetric tensor in index units is split by Selling's
    decomposition into non-negative diffusion along integer lattice vectors (exact: no
    diffusion is added or clipped), each a two-point flux to the cell that vector reaches
    (:mod:`galprop_py.operators.anisotropic_selling`).  The vectors get longer with the
    anisotropy (about sqrt(kappa_par / kappa_perp) cells for an oblique field), so the
    stencil widens and, where the field turns on the scale of the stencil, the error grows.
    B12 at kappa_par/kappa_perp = 10/100/1000 on h = 0.98: across-b variance errors
    8e-6/1.2e-4/1.2e-3 for b = (1, 2, 3)/sqrt 14, 1.5e-5/3.2e-4/1.8e-2 along (1, sqrt 2, pi).

``"limited"``
    Assembles the ``"centred"`` matrix; the solvers (:func:`galprop_py.solvers.steady.
    solve_steady`, :class:`galprop_py.solvers.transient.TimeIntegrator`) then solve with
    the flux-corrected, positive and convergent operator built on it,
    :class:`galprop_py.operators.anisotropic_limited.LimitedDiffusion` (Picard iterations;
    ``limiter_gamma``, ``limiter_rtol``).  What the limiter did is
    :meth:`SpatialDiffusion.diagnostics` once a solver has recorded it.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI
from numba import njit

from ..messages import notice
from .anisotropic_selling import assemble_selling
from .base import FRAME_AXES, Operator, SpeciesCoefficients, face_coordinates, unit_offset

SCHEMES = ("monotone", "centred", "limited", "selling")

#: Numerical cross-field diffusion of the monotone scheme, relative to kappa_perp, above
#: which a run warns.
CROSS_FIELD_WARNING = 0.1


class SpatialDiffusion(Operator):
    name = "diffusion"

    def __init__(self, scheme: str = "selling"):
        if scheme not in SCHEMES:
            raise ValueError(f"diffusion.scheme = {scheme!r}: allowed {', '.join(SCHEMES)}")
        self.scheme = scheme
        self.max_added_fraction = 0.0
        self.max_cross_field_fraction = 0.0
        self.limiter_summary: dict = {}  # set by the solvers of a "limited" scheme
        self.selling_summary: dict = {}  # set by the last assembly of a "selling" scheme
        self._warned = False

    def diagnostics(self) -> dict:
        """What the scheme added, for the log and the result file: monotone: the largest
        extra diffusion along an axis (fraction of kappa_aa) and its cross-field part
        (fraction of kappa_perp); limited: :meth:`LimitedDiffusion.summary` (Picard
        iterations, fraction of the antidiffusion removed)."""
        out = {"scheme": self.scheme}
        if self.scheme == "monotone":
            out["max_added_fraction"] = self.max_added_fraction
            out["max_cross_field_fraction"] = self.max_cross_field_fraction
        elif self.scheme == "limited":
            out.update(self.limiter_summary)
        elif self.scheme == "selling":
            out.update(self.selling_summary)
        return out

    def is_active(self, coeffs: SpeciesCoefficients) -> bool:
        return coeffs.diffusion is not None

    def assemble(self, system, coeffs, decomp) -> None:
        tensor = coeffs.diffusion
        dim = decomp.grid.dim
        frame = FRAME_AXES[decomp.grid.geometry]
        if self.scheme == "selling" and not tensor.is_scalar and dim > 1:
            stencil = assemble_selling(system, decomp, tensor, frame)
            self.selling_summary = stencil.summary()
            _antisymmetric_cross(system, decomp, tensor, frame)
            return
        if tensor.is_scalar:
            _assemble_scalar(system, decomp, tensor)
            return
        monotone = self.scheme == "monotone" and not tensor.is_scalar and dim > 1
        cross_field = 0.0
        for a in range(dim):
            axis_cross = 0.0
            for side in (-1, 1):
                coords, info = face_coordinates(decomp, a, side)
                kaa = tensor.component(a, a, coords, frame)
                geo, h = info["geo"][..., None], info["h"][..., None]
                interior = info["interior"][..., None]
                open_ = info["boundary_open"][..., None]
                reduction = 0.0
                for b in range(dim if not tensor.is_scalar else 0):
                    if b == a:
                        continue
                    kab = tensor.component(a, b, coords, frame)
                    kba = tensor.component(b, a, coords, frame)
                    sym, anti = 0.5 * (kab + kba), 0.5 * (kab - kba)
                    if monotone:
                        hb = decomp.expand(_spacing(decomp, b), b)[..., None]
                        reduction = reduction + np.abs(sym) * h / hb
                        cross = anti
                    else:
                        cross = kab
                    if np.any(cross):
                        _centred_cross(system, decomp, a, side, b, cross, geo, interior)
                if monotone:
                    reduced = kaa - reduction
                    added = np.maximum(-reduced, 0.0)
                    if np.any(added):
                        frac = float(np.max(added / np.maximum(kaa, 1e-300)))
                        self.max_added_fraction = max(self.max_added_fraction, frac)
                        perp = _cross_field_part(tensor, coords, frame, a, added)
                        axis_cross = max(axis_cross, perp)
                    kaa = np.maximum(reduced, 0.0)
                t = geo * kaa / h
                system.diag += t * (interior | open_)
                system.add_spatial(unit_offset(dim, a, side), -t * interior)
            cross_field += axis_cross
        if monotone:
            for a in range(dim):
                for b in range(a + 1, dim):
                    _diagonal_fluxes(system, decomp, tensor, frame, a, b)
            self._report_cross_field(decomp, cross_field)

    def _report_cross_field(self, decomp, local_fraction: float) -> None:
        """Global maximum of the monotone scheme's numerical cross-field diffusion over
        kappa_perp (collective: every rank assembles); warn once above 10%."""
        frac = decomp.comm.tompi4py().allreduce(local_fraction, op=MPI.MAX)
        self.max_cross_field_fraction = max(self.max_cross_field_fraction, frac)
        if frac > CROSS_FIELD_WARNING and not self._warned:
            self._warned = True
            notice(
                f"diffusion.scheme = 'monotone' adds numerical cross-field diffusion of up to "
                f"{frac:.3g} kappa_perp (more than {CROSS_FIELD_WARNING:g}; it does not vanish "
                "under refinement): the field is too oblique to the grid for this "
                "kappa_perp/kappa_par; diffusion.scheme = 'limited' (positive) or "
                "'centred' converge"
            )


def _assemble_scalar(system, decomp, tensor) -> None:
    """A scalar tensor: the two-point fluxes of every face, t = g kappa / h on the
    diagonal (interior and free-escape faces) and -t on the neighbour (interior faces),
    one pass per face (:func:`_scalar_faces`; the numbers of the general path, bit for
    bit)."""
    dim = decomp.grid.dim
    shape = decomp.box.c_shape
    kpar = np.asarray(tensor.kappa_par, dtype=float)
    if kpar.ndim != 1:  # not a momentum array: the general path's broadcasting
        kpar = np.broadcast_to(kpar, system.shape).reshape(-1, system.shape[-1])
    else:
        kpar = np.broadcast_to(kpar, (1, system.shape[-1]))
    diag = system.diag.reshape(-1, system.shape[-1])
    for a in range(dim):
        for side in (-1, 1):
            coords, info = face_coordinates(decomp, a, side)
            if tensor.spatial_factor is None:
                sf = np.ones(shape)
            else:
                sf = np.asarray(tensor.spatial_factor(coords), dtype=float)
            offset = unit_offset(dim, a, side)
            if offset not in system.spatial:
                system.spatial[offset] = np.zeros(system.shape)
            cells = [
                np.ascontiguousarray(np.broadcast_to(v, shape), dtype=float).reshape(-1)
                for v in (sf, info["geo"], info["h"])
            ]
            interior = np.broadcast_to(info["interior"], shape).reshape(-1)
            open_ = np.broadcast_to(info["boundary_open"], shape).reshape(-1)
            _scalar_faces(
                diag,
                system.spatial[offset].reshape(-1, system.shape[-1]),
                *cells,
                np.ascontiguousarray(interior),
                np.ascontiguousarray(open_),
                np.ascontiguousarray(kpar),
            )


@njit(cache=True)
def _scalar_faces(diag, neighbour, s, geo, h, interior, open_, kpar):  # pragma: no cover
    """t = geo (s kappa) / h per (cell, momentum), in that order of operations; diag += t on
    interior and open faces, neighbour -= t on interior ones (``kpar`` one row for every
    cell, or a row per cell)."""
    cells, n = diag.shape
    per_cell = kpar.shape[0] > 1
    for c in range(cells):
        inside, out = interior[c], open_[c]
        if not (inside or out):
            continue
        row = c if per_cell else 0
        for k in range(n):
            t = geo[c] * (s[c] * kpar[row, k]) / h[c]
            diag[c, k] += t
            if inside:
                neighbour[c, k] -= t


def _antisymmetric_cross(system, decomp, tensor, frame) -> None:
    """The antisymmetric (drift) part of the tensor, (kappa_ab - kappa_ba) / 2, by centred
    cross terms on every face (it is non-dissipative: no positive split exists)."""
    if tensor.kappa_a is None:
        return
    dim = decomp.grid.dim
    for a in range(dim):
        for side in (-1, 1):
            coords, info = face_coordinates(decomp, a, side)
            geo, interior = info["geo"][..., None], info["interior"][..., None]
            for b in range(dim):
                if b == a:
                    continue
                kab = tensor.component(a, b, coords, frame)
                kba = tensor.component(b, a, coords, frame)
                anti = 0.5 * (kab - kba)
                if np.any(anti):
                    _centred_cross(system, decomp, a, side, b, anti, geo, interior)


def _cross_field_part(tensor, coords, frame, a, added) -> float:
    """max over the faces of added_a (1 - b_a^2) / kappa_perp: the largest diffusivity
    across b that extra diffusion ``added`` along axis a brings."""
    b = tensor.field_direction(coords)
    ba = np.asarray(b[frame[a]], float)[..., None]
    s = 1.0 if tensor.spatial_factor is None else tensor.spatial_factor(coords)
    s = np.asarray(s, float)[..., None]
    kperp = 0.0 if tensor.kappa_perp is None else tensor.kappa_perp
    kperp = s * kperp
    perp = added * (1.0 - ba**2)
    ratio = np.where(perp > 0.0, perp / np.maximum(kperp, 1e-300), 0.0)
    return float(np.max(ratio))


def _spacing(decomp, b):
    """Local grid spacing along axis b at the owned cells (centre distances, uniform-safe)."""
    ax = decomp.grid.axes[b]
    j = np.arange(decomp.box.starts[b], decomp.box.stops[b])
    return ax.edges[j + 1] - ax.edges[j]


def _centred_cross(system, decomp, a, side, b, kab, geo, interior):
    """Flux -kab d_b psi on the face (a, side), on interior faces: d_b psi is the average of
    the centred b-differences of the two cells sharing the face.  Beyond the domain in b the
    value is mirrored (closed/axis) or zero (free escape)."""
    dim = decomp.grid.dim
    ax_b = decomp.grid.axes[b]
    c = ax_b.centers
    j = np.arange(decomp.box.starts[b], decomp.box.stops[b])
    has_hi = j + 1 < ax_b.n
    has_lo = j - 1 >= 0
    hi = np.where(has_hi, c[np.minimum(j + 1, ax_b.n - 1)], ax_b.edges[-1])
    lo = np.where(has_lo, c[np.maximum(j - 1, 0)], ax_b.edges[0])
    span = decomp.expand(hi - lo, b)[..., None]
    w = 0.5 * side * geo * (-kab) / span * interior
    for cell_shift in (0, side):
        for sb, exists, kind in ((1, has_hi, ax_b.upper), (-1, has_lo, ax_b.lower)):
            off = [0] * dim
            off[a] = cell_shift
            off[b] = sb
            ex = decomp.expand(exists, b)[..., None]
            coeff = sb * w
            system.add_spatial(tuple(off), coeff * ex)
            if kind in ("closed", "axis"):
                off_m = list(off)
                off_m[b] = 0
                system.add_spatial(tuple(off_m), coeff * (~ex))


def _diagonal_fluxes(system, decomp, tensor, frame, a, b):
    """Two-point fluxes mu_ab (psi(c + v) - psi(c)) to the diagonal neighbours in the (a, b)
    plane, with mu_ab = max(+-kappa_ab, 0) / (h_a h_b) on the diagonal of matching sign."""
    dim = decomp.grid.dim
    axa, axb = decomp.grid.axes[a], decomp.grid.axes[b]
    ia = np.arange(decomp.box.starts[a], decomp.box.stops[a])
    ib = np.arange(decomp.box.starts[b], decomp.box.stops[b])
    ha = _spacing(decomp, a)
    hb = _spacing(decomp, b)
    for sa in (-1, 1):
        for sb in (-1, 1):
            fa = axa.edges[ia + (sa > 0)]  # the shared corner between c and c + v
            fb = axb.edges[ib + (sb > 0)]
            coords = decomp.local_centers()
            coords[a] = decomp.expand(fa, a)
            coords[b] = decomp.expand(fb, b)
            kab = tensor.component(a, b, coords, frame)
            kba = tensor.component(b, a, coords, frame)
            sym = 0.5 * (kab + kba)
            mu = np.maximum(sa * sb * sym, 0.0)
            # metric weight g(corner) h / w per axis (1 on Cartesian axes)
            wa = axa.face_metric(fa) * ha / axa.widths[ia]
            wb = axb.face_metric(fb) * hb / axb.widths[ib]
            weight = decomp.expand(wa / ha, a) * decomp.expand(wb / hb, b)
            na, nb = ia + sa, ib + sb
            in_a = (na >= 0) & (na < axa.n)
            in_b = (nb >= 0) & (nb < axb.n)
            open_a = (~in_a) & ((axa.lower if sa < 0 else axa.upper) == "free_escape")
            open_b = (~in_b) & ((axb.lower if sb < 0 else axb.upper) == "free_escape")
            e_in = decomp.expand(in_a, a) & decomp.expand(in_b, b)
            e_open = (decomp.expand(in_a | open_a, a) & decomp.expand(in_b | open_b, b)) & ~e_in
            t = mu * weight[..., None]
            system.diag += t * (e_in | e_open)[..., None]
            off = [0] * dim
            off[a], off[b] = sa, sb
            system.add_spatial(tuple(off), -t * e_in[..., None])
