"""Positive, linear, convergent anisotropic diffusion from Selling's decomposition of the tensor.

Any symmetric positive definite d x d matrix M (d = 2, 3) is a sum of non-negative multiples
of rank-one matrices along integer lattice vectors,

    M = sum_k lambda_k e_k e_k^T,   lambda_k >= 0,  e_k in Z^d,  k = 1..d(d+1)/2,

given by an M-obtuse superbase (b_0, ..., b_d) of Z^d (sum b_i = 0, b_i^T M b_j <= 0 for
i != j): lambda_ij = -b_i^T M b_j with e_ij = b_k^perp in 2D ({i, j, k} = {0, 1, 2}) and
e_ij = b_k x b_l in 3D ({i, j, k, l} = {0, 1, 2, 3}).  Selling's algorithm finds the
superbase from the canonical one by the flips (b_i, b_j, b_k) -> (-b_i, b_j, b_i - b_j) (2D)
and (b_i, b_j, b_k, b_l) -> (-b_i, b_j, b_k + b_i, b_l + b_i) (3D) while some b_i^T M b_j > 0
(Selling 1874, J. reine angew. Math. 77, 143; as a finite-difference stencil: Fehrenbach &
Mirebeau 2014, J. Math. Imaging Vis. 49, 123, Sec. 2-3; Mirebeau 2016, SIAM J. Numer.
Anal. 54, 1582).  The vectors grow with the anisotropy: their components reach about
sqrt(kappa_par / kappa_perp) cells for a field oblique to the lattice.

Discretisation (finite volumes, operator convention of :mod:`.stencil`: d psi/dt = -A psi):
the symmetric tensor in index units, M(x) = H^-1 kappa H^-1 (H = diag of the cell widths),
is decomposed at every cell centre; each lattice vector e carries a two-point flux between
cells i and j = i + e with the weight lambda_e averaged over the two cells,

    (A psi)_i = sum_e  F_e(i) [ (lam_e(i) + lam_e(i + e)) / 2 (psi_i - psi_{i+e})
                              + (lam_e(i) + lam_e(i - e)) / 2 (psi_i - psi_{i-e}) ],

with the geometry factor F = prod_a g_a(mid) hbar_a / w_a(i) (cylindrical r: r_mid / r_i;
1 on uniform Cartesian axes) that makes the volume-weighted pair coefficients symmetric
(conservative).  Every off-diagonal entry is non-positive and every row sums to zero
inside: an M-matrix, so psi >= 0 for non-negative sources and starts (discrete maximum
principle), by a *linear* solve.  Consistency: sum_e lam_e e e^T = M exactly, so with a
uniform tensor the discrete second moments grow exactly as 2 kappa t (no numerical cross-
field diffusion at any resolution, any anisotropy); with a varying tensor the scheme is the
conservative discretisation of sum_e d_e (lam_e d_e psi) = div(kappa grad psi), second order
where the decomposition is smooth and first order where its superbase switches.

Boundaries (as the other schemes): a pair whose neighbour lies beyond a free-escape face
takes psi = 0 where the segment between the two cells crosses that face (its diagonal weight
divided by the fraction of the segment inside: 2 for an axis vector, psi = 0 on the face as
in the axis fluxes of :mod:`.diffusion`); one beyond a closed or axis face carries no flux.
Momentum dependence: the vectors depend only on kappa_perp / kappa_par, so momenta with the
same ratio share one decomposition, scaled by kappa_par(p).  The antisymmetric (drift) part is not
decomposed: :mod:`.diffusion` adds it with centred cross terms.

Costs: a row has an entry per vector (and sign) that its own or its neighbours'
decomposition uses (13 in 3D for a uniform tensor, 7 in 2D).  Unit vectors go to the
stencil's dense slots, longer ones to its per-cell far slots (``StencilSystem.set_far``:
as many slots as the most far neighbours of one cell, however many distinct vectors the
field needs across the grid); their columns come from the DMDA's global numbering, so
vectors longer than one cell need no wider ghost layer.  :data:`MAX_REACH` bounds the
vectors' components (a run that needs more stops with a one-line error).

Units: those of the tensor (kpc^2/Myr) over the grid's kpc.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI
from numba import njit

#: largest vector component (cells) a run may use; kappa_par / kappa_perp ~ MAX_REACH^2
MAX_REACH = 24
#: flips of Selling's algorithm per point before it counts as failed
MAX_FLIPS = 20000


@njit(cache=True)
def _form(b, m, i, j):
    """b_i^T m b_j."""
    s = 0.0
    for a in range(m.shape[0]):
        for c in range(m.shape[0]):
            s += b[i, a] * m[a, c] * b[j, c]
    return s


@njit(cache=True)
def _selling(m, vecs, lams, tol):
    """Selling decomposition of the d x d SPD ``m`` (d = 2, 3): writes d(d+1)/2 vectors and
    weights; returns the number of flips (-1 if :data:`MAX_FLIPS` did not suffice).  A flip
    of the pair (i, j) negates b_i and adds 2 b_i / (d - 1) to the other vectors, which
    keeps the sum zero: (-b_i, b_j, b_i - b_j) in 2D, (-b_i, b_j, b_k + b_i, b_l + b_i) in
    3D (module docstring)."""
    d = m.shape[0]
    b = np.zeros((d + 1, d), dtype=np.int64)
    for a in range(d):
        b[a, a] = 1
        b[d, a] = -1
    step = 2 // (d - 1)
    flips = 0
    while True:
        found = False
        for i in range(d + 1):
            for j in range(i + 1, d + 1):
                if _form(b, m, i, j) > tol:
                    for a in range(d):
                        bi = b[i, a]
                        b[i, a] = -bi
                        for k in range(d + 1):
                            if k != i and k != j:
                                b[k, a] += step * bi
                    found = True
                    break
            if found:
                break
        if not found:
            break
        flips += 1
        if flips > MAX_FLIPS:
            return -1
    # e_ij: orthogonal to the vectors other than b_i, b_j (b_k^perp in 2D, b_k x b_l in 3D)
    n = 0
    for i in range(d + 1):
        for j in range(i + 1, d + 1):
            k, ll = -1, -1
            for q in range(d + 1):
                if q != i and q != j:
                    if k < 0:
                        k = q
                    else:
                        ll = q
            if d == 2:
                vecs[n, 0] = -b[k, 1]
                vecs[n, 1] = b[k, 0]
            else:
                vecs[n, 0] = b[k, 1] * b[ll, 2] - b[k, 2] * b[ll, 1]
                vecs[n, 1] = b[k, 2] * b[ll, 0] - b[k, 0] * b[ll, 2]
                vecs[n, 2] = b[k, 0] * b[ll, 1] - b[k, 1] * b[ll, 0]
            lams[n] = max(-_form(b, m, i, j), 0.0)
            n += 1
    return flips


@njit(cache=True)
def _decompose_all(mats, vecs, lams, rel_tol):
    """Decompose ``mats`` (n, d, d) into ``vecs`` (n, K, d), ``lams`` (n, K); vectors are
    canonical (first non-zero component positive).  Returns the number of failed points."""
    n, d = mats.shape[0], mats.shape[1]
    failed = 0
    for p in range(n):
        m = mats[p]
        tr = 0.0
        for a in range(d):
            tr += m[a, a]
        tol = rel_tol * tr
        if _selling(m, vecs[p], lams[p], tol) < 0:
            failed += 1
        for k in range(vecs.shape[1]):
            for a in range(d):
                if vecs[p, k, a] != 0:
                    if vecs[p, k, a] < 0:
                        for c in range(d):
                            vecs[p, k, c] = -vecs[p, k, c]
                    break
    return failed


def decompose(mats: np.ndarray, rel_tol: float = 1e-13) -> tuple[np.ndarray, np.ndarray, int]:
    """Selling decompositions of a stack of SPD matrices ``mats`` (..., d, d), d = 2 or 3:
    vectors (..., K, d) (int, canonical sign) and weights (..., K) with
    sum_k lams[k] vecs[k] vecs[k]^T = mats; K = 3 (2D) or 6 (3D).  Also the number of points
    where the algorithm did not finish (their weights are then not a decomposition)."""
    mats = np.asarray(mats, dtype=float)
    d = mats.shape[-1]
    if d not in (2, 3) or mats.shape[-2] != d:
        raise ValueError(f"Selling decomposition of {mats.shape[-2:]} matrices: need 2x2 or 3x3")
    flat = np.ascontiguousarray(mats.reshape(-1, d, d))
    nk = 3 if d == 2 else 6
    vecs = np.zeros((flat.shape[0], nk, d), dtype=np.int64)
    lams = np.zeros((flat.shape[0], nk))
    failed = _decompose_all(flat, vecs, lams, rel_tol)
    lead = mats.shape[:-2]
    return vecs.reshape(lead + (nk, d)), lams.reshape(lead + (nk,)), int(failed)


# --- assembly ------------------------------------------------------------------------------------
def _ratio_groups(tensor, n_p: int):
    """Momentum points with the same kappa_perp / kappa_par share one decomposition:
    (representative index per group, group of each momentum)."""
    kpar = np.broadcast_to(np.asarray(tensor.kappa_par, float), (n_p,))
    kperp = tensor.kappa_perp
    kperp = np.zeros(n_p) if kperp is None else np.broadcast_to(np.asarray(kperp, float), (n_p,))
    if np.any(kpar <= 0) or np.any(kperp <= 0):
        raise ValueError(
            f"diffusion.scheme = 'selling': needs kappa_par > 0 and kappa_perp > 0 at "
            f"every momentum (got kappa_perp/kappa_par down to {np.min(kperp / kpar):.3g}); "
            "use 'limited' or 'centred' for kappa_perp = 0"
        )
    ratio = kperp / kpar
    keys = np.round(np.log(ratio), 10)
    reps, group = np.unique(keys, return_inverse=True)
    first = np.array([int(np.flatnonzero(group == g)[0]) for g in range(reps.size)])
    return first, group.reshape(-1), kpar


def _index_tensor(tensor, coords, frame, dim, widths, reps):
    """Symmetric tensor in index units M_ab = kappa_ab / (w_a w_b) at ``coords`` for the
    representative momenta: shape (cells..., groups, d, d)."""
    comps = {}
    for a in range(dim):
        for b in range(a, dim):
            kab = tensor.component(a, b, coords, frame)[..., reps]
            if a != b:
                kab = 0.5 * (kab + tensor.component(b, a, coords, frame)[..., reps])
            comps[a, b] = kab / (widths[a] * widths[b])[..., None]
    shape = np.broadcast_shapes(*(c.shape for c in comps.values()))
    m = np.empty(shape + (dim, dim))
    for (a, b), c in comps.items():
        m[..., a, b] = c
        m[..., b, a] = c
    return m


def _box_coordinates(decomp, pad: int):
    """Cell-centre coordinates, widths and global indices of the owned box padded by ``pad``
    cells per side (indices beyond the domain clipped to its edge cells for the tensor), each
    per physical axis and broadcastable (rank-local layout)."""
    coords, widths, index = [], [], []
    for a, ax in enumerate(decomp.grid.axes):
        j = np.arange(decomp.box.starts[a] - pad, decomp.box.stops[a] + pad)
        jc = np.clip(j, 0, ax.n - 1)
        coords.append(decomp.expand(ax.centers[jc], a))
        widths.append(decomp.expand(ax.edges[jc + 1] - ax.edges[jc], a))
        index.append(j)
    return coords, widths, index


class SellingStencil:
    """What one assembly of the Selling scheme used (for the log and the result file)."""

    def __init__(self):
        self.vectors: list[tuple[int, ...]] = []
        self.reach = 0
        self.groups = 0

    def summary(self) -> dict:
        return {
            "lattice_vectors": len(self.vectors),
            "max_reach_cells": int(self.reach),
            "ratio_groups": int(self.groups),
            "max_added_fraction": 0.0,
            "max_cross_field_fraction": 0.0,
        }


def assemble_selling(system, decomp, tensor, frame, max_reach: int = MAX_REACH):
    """Add the symmetric part of ``tensor``'s diffusion to ``system`` by the Selling scheme
    (module docstring); returns a :class:`SellingStencil`.  Collective (every rank
    assembles): the reach is the same on all ranks."""
    dim = decomp.grid.dim
    comm = decomp.comm.tompi4py()
    reps, group, kpar = _ratio_groups(tensor, decomp.dof)
    # pass 1: the owned cells give the reach
    coords, widths, _ = _box_coordinates(decomp, 0)
    m = _index_tensor(tensor, coords, frame, dim, widths, reps)
    vecs, lams, failed = decompose(np.broadcast_to(m, decomp.box.c_shape + m.shape[-3:]))
    failed = comm.allreduce(failed, op=MPI.SUM)
    used = np.abs(vecs).max(axis=-1)[lams > 0.0]
    reach = comm.allreduce(int(used.max(initial=0)), op=MPI.MAX)
    if failed or reach > max_reach:
        raise ValueError(
            f"diffusion.scheme = 'selling': the tensor needs lattice vectors of {reach} cells "
            f"(allowed up to {max_reach}; kappa_par/kappa_perp up to ~{max_reach**2} for an "
            "oblique field): use 'limited', or a smaller anisotropy"
        )
    # pass 2: decompositions on the owned box padded by the reach (the neighbours' weights)
    coords, widths, index = _box_coordinates(decomp, reach)
    m = _index_tensor(tensor, coords, frame, dim, widths, reps)
    pshape = tuple(len(index[a]) for a in reversed(range(dim)))
    vecs, lams, _ = decompose(np.broadcast_to(m, pshape + m.shape[-3:]))
    npad, ngroups = int(np.prod(pshape)), len(reps)
    vecs = vecs.reshape(npad, ngroups, -1, dim)
    lams = lams.reshape(npad, ngroups, -1)
    nown = decomp.box.ncells
    padded = np.array([len(index[a]) for a in range(dim)], dtype=np.int64)
    owned = np.array(decomp.box.shape, dtype=np.int64)
    cap = 4 * vecs.shape[2]
    while True:
        offs = np.zeros((nown, cap, dim), dtype=np.int64)
        weights = np.zeros((nown, cap, ngroups))
        count = np.zeros(nown, dtype=np.int64)
        if _row_pairs(vecs, lams, padded, owned, reach, offs, weights, count):
            break
        cap *= 2
    out = SellingStencil()
    out.reach, out.groups = reach, ngroups
    # the distinct vectors (diagnostics), as integer keys in base 2 reach + 1
    used = np.arange(cap)[None, :] < count[:, None]
    key = np.unique(_offset_keys(offs, reach)[used])
    key = np.unique(np.concatenate(comm.allgather(key)))
    vectors = [_offset_of_key(k, reach, dim) for k in key]
    vectors = [v for v in vectors if v > (0,) * dim]
    out.vectors = vectors
    scale = kpar / kpar[reps][group]  # lambda(p) = lambda(rep) kappa_par(p) / kappa_par(rep)
    _add_entries(system, decomp, offs, weights, count, used, group, scale, reach)
    return out


@njit(cache=True)
def _unravel(q, shape, out):
    """Physical-axis coordinates of flat rank-local index ``q`` (first axis fastest)."""
    for a in range(shape.size):
        out[a] = q % shape[a]
        q //= shape[a]


@njit(cache=True)
def _row_pairs(vecs, lams, padded, owned, pad, offs, weights, count):
    """Each owned row's two-point couplings: cell q of the padded box adds lam_e(q) / 2 to
    the pairs (q, q + e) and (q, q - e) of its own row and of the rows q +- e (the pair
    weight is the mean of the two cells' weights).  ``offs``/``weights`` (rows, cap, ...)
    get each row's distinct offsets and their weights per ratio group; returns False if a
    row needs more than ``cap`` entries."""
    npad, ngroups, nk, dim = vecs.shape
    cap = offs.shape[1]
    x = np.zeros(dim, dtype=np.int64)
    y = np.zeros(dim, dtype=np.int64)
    e = np.zeros(dim, dtype=np.int64)
    for q in range(npad):
        _unravel(q, padded, x)
        for g in range(ngroups):
            for k in range(nk):
                lam = lams[q, g, k]
                if lam <= 0.0:
                    continue
                for s in (1, -1):
                    for a in range(dim):
                        e[a] = s * vecs[q, g, k, a]
                    # row q: entry +e; row q + e: entry -e
                    for side in (0, 1):
                        row, inside = 0, True
                        stride = 1
                        for a in range(dim):
                            y[a] = x[a] + (e[a] if side == 1 else 0) - pad
                            if y[a] < 0 or y[a] >= owned[a]:
                                inside = False
                                break
                            row += y[a] * stride
                            stride *= owned[a]
                        if not inside:
                            continue
                        sign = 1 if side == 0 else -1
                        found = -1
                        for j in range(count[row]):
                            same = True
                            for a in range(dim):
                                if offs[row, j, a] != sign * e[a]:
                                    same = False
                                    break
                            if same:
                                found = j
                                break
                        if found < 0:
                            if count[row] >= cap:
                                return False
                            found = count[row]
                            for a in range(dim):
                                offs[row, found, a] = sign * e[a]
                            count[row] += 1
                        weights[row, found, g] += 0.5 * lam
    return True


def _offset_keys(offs: np.ndarray, reach: int) -> np.ndarray:
    """Offsets (..., d) with components in [-reach, reach] as integers in base 2 reach + 1
    (first axis most significant)."""
    key = np.zeros(offs.shape[:-1], dtype=np.int64)
    for a in range(offs.shape[-1]):
        key = (2 * reach + 1) * key + offs[..., a] + reach
    return key


def _offset_of_key(key: int, reach: int, dim: int) -> tuple[int, ...]:
    """The offset of :func:`_offset_keys`' ``key``."""
    digits = []
    for _ in range(dim):
        digits.append(int(key % (2 * reach + 1)) - reach)
        key //= 2 * reach + 1
    return tuple(reversed(digits))


def _axis_tables(decomp, reach: int):
    """Per axis a, owned index l and offset o in [-reach, reach] (column o + reach): whether
    the neighbour is inside the domain, beyond a free-escape face, its geometry factor
    g(mid) hbar / w(i), the fraction of the pair's segment inside the domain and its global
    index; padded to the longest owned axis."""
    dim = decomp.grid.dim
    width = 2 * reach + 1
    lmax = max(decomp.box.shape)
    ok = np.zeros((dim, lmax, width), dtype=np.bool_)
    esc = np.zeros((dim, lmax, width), dtype=np.bool_)
    fac = np.ones((dim, lmax, width))
    frac = np.ones((dim, lmax, width))
    tgt = np.zeros((dim, lmax, width), dtype=np.int64)
    o = np.arange(-reach, reach + 1)[None, :]
    for a, ax in enumerate(decomp.grid.axes):
        i = np.arange(decomp.box.starts[a], decomp.box.stops[a])[:, None]
        j = i + o
        inside = (j >= 0) & (j < ax.n)
        jc = np.clip(j, 0, ax.n - 1)
        width_i = ax.edges[i + 1] - ax.edges[i]
        cj = np.where(inside, ax.centers[jc], ax.centers[i] + o * width_i)
        hbar = 0.5 * (width_i + (ax.edges[jc + 1] - ax.edges[jc]))
        g = ax.face_metric(np.maximum(0.5 * (ax.centers[i] + cj), 0.0)) if ax.radial_power else 1
        # psi = 0 where the segment leaves through a free-escape face
        face = np.where(o < 0, ax.edges[0], ax.edges[-1])
        step = np.where(inside, 1.0, cj - ax.centers[i])
        n = i.shape[0]
        ok[a, :n] = inside
        esc[a, :n] = (~inside) & np.where(
            o < 0, ax.lower == "free_escape", ax.upper == "free_escape"
        )
        fac[a, :n] = g * hbar / ax.widths[i]
        frac[a, :n] = np.where(inside, 1.0, (face - ax.centers[i]) / step)
        tgt[a, :n] = jc
    return ok, esc, fac, frac, tgt


def _add_entries(system, decomp, offs, weights, count, used, group, scale, reach):
    """Every row's couplings (:func:`_row_pairs`; ``used`` marks each row's first ``count``
    entries) into ``system``: geometry factor and
    boundary rules, the diagonal, the unit offsets into dense slots, the longer ones into
    far slots (one numba pass, :func:`_fill_entries`)."""
    dim, dof = decomp.grid.dim, decomp.dof
    ncells = decomp.box.ncells
    axis, owners = _axis_tables(decomp, reach), decomp.ownership_tables()
    far_entry = used & (np.abs(offs).max(axis=2) > 1)
    # unit offsets as base-3 keys (as the kernel computes them); which of them occur
    key = _offset_keys(np.clip(offs, -1, 1), 1)
    present = np.unique(key[used & ~far_entry])
    unit_of_key = np.full(3**dim, -1, dtype=np.int64)
    unit_of_key[present] = np.arange(present.size)
    units = np.zeros((present.size, ncells, dof))
    nfar = int(far_entry.sum(axis=1).max(initial=0))
    far_blocks = np.full((nfar, ncells), -1, dtype=np.int64)
    far_values = np.zeros((nfar, ncells, dof))
    far_count = np.zeros(ncells, dtype=np.int64)
    owned = np.array(decomp.box.shape, dtype=np.int64)
    diag = system.diag.reshape(ncells, dof)
    _fill_entries(
        offs, weights, count, group.astype(np.int64), scale, owned, reach, *axis, *owners,
        unit_of_key, diag, units, far_blocks, far_values, far_count,
    )  # fmt: skip
    for k, code in enumerate(present):
        off = _offset_of_key(code, 1, dim)
        values = units[k].reshape(system.shape)
        if off in system.spatial:
            system.spatial[off] += values
        else:
            system.spatial[off] = values
    system.set_far(far_blocks, far_values, reach)


@njit(cache=True)
def _fill_entries(
    offs, weights, count, group, scale, owned, reach, ok, esc, fac, frac, tgt,
    rank_of, pos_of, width_of, nproc, rank_start,
    unit_of_key, diag, units, far_blocks, far_values, far_count,
):  # fmt: skip
    nrows, _, dim = offs.shape
    dof = diag.shape[1]
    loc = np.zeros(dim, dtype=np.int64)
    for c in range(nrows):
        _unravel(c, owned, loc)
        for j in range(count[c]):
            inside, open_ = True, True
            factor, cross = 1.0, 1.0
            far = False
            key = 0
            for a in range(dim):
                o = offs[c, j, a]
                col = o + reach
                if not ok[a, loc[a], col]:
                    inside = False
                    if not esc[a, loc[a], col]:
                        open_ = False
                factor *= fac[a, loc[a], col]
                cross = min(cross, frac[a, loc[a], col])
                if o > 1 or o < -1:
                    far = True
                key = 3 * key + min(max(o, -1), 1) + 1
            if not open_:
                continue
            wdiag = factor if inside else factor / cross
            if inside and far:
                block, rank, stride, cstride = 0, 0, 1, 1
                for a in range(dim):
                    jg = tgt[a, loc[a], offs[c, j, a] + reach]
                    r = rank_of[a, jg]
                    rank += r * stride
                    stride *= nproc[a]
                    block += pos_of[a, jg] * cstride
                    cstride *= width_of[a, r]
                s = far_count[c]
                far_blocks[s, c] = rank_start[rank] + block
                far_count[c] += 1
            for p in range(dof):
                t = weights[c, j, group[p]] * scale[p]
                diag[c, p] += t * wdiag
                if inside:
                    if far:
                        far_values[far_count[c] - 1, c, p] = -t * factor
                    else:
                        units[unit_of_key[key], c, p] -= t * factor
