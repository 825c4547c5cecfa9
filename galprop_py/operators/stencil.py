"""Rank-local rows of a linear transport operator in stencil form, turned into a PETSc matrix.

Every physical operator adds coefficients to a :class:`StencilSystem`; the system knows, for
each owned (cell, momentum) row, the coefficient on the same unknown (``diag``), on the same
momentum at a spatial neighbour (``spatial[offset]``) and on the neighbouring momenta of the
same cell (``p_lower``/``p_upper``).  The sign convention is that of the operator ``A`` in

    d psi / dt = -A psi + S,        steady state:  A psi = S,

so loss-like terms add positive diagonal entries.  Conversion to PETSc (:meth:`to_petsc`)
uses the DMDA's global numbering; neighbours outside the physical domain get column -1,
which PETSc ignores.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from petsc4py import PETSc

from ..decomposition import Decomposition


class StencilSystem:
    def __init__(self, decomp: Decomposition):
        self.decomp = decomp
        self.shape = decomp.box.c_shape + (decomp.dof,)
        self.diag = np.zeros(self.shape)
        self.spatial: dict[tuple[int, ...], np.ndarray] = {}
        # coefficients on psi[k + d] of the same cell, d = -2..2 (d != 0)
        self.p_band = {d: np.zeros(self.shape) for d in (-2, -1, 1, 2)}

    @property
    def p_lower(self) -> np.ndarray:
        """Coefficient on psi[k-1]."""
        return self.p_band[-1]

    @property
    def p_upper(self) -> np.ndarray:
        """Coefficient on psi[k+1]."""
        return self.p_band[1]

    def add_spatial(self, offset: tuple[int, ...], coeff: np.ndarray) -> None:
        """Add ``coeff`` (broadcastable to the local row shape) to the neighbour at ``offset``
        (physical axis order). A zero offset adds to the diagonal."""
        offset = tuple(int(o) for o in offset)
        if not any(offset):
            self.diag += coeff
            return
        if offset not in self.spatial:
            self.spatial[offset] = np.zeros(self.shape)
        self.spatial[offset] += coeff

    def scaled_plus_diagonal(self, scale: float, shift: float) -> StencilSystem:
        """The system ``shift * I + scale * A`` (for implicit time steps)."""
        new = StencilSystem(self.decomp)
        new.diag = shift + scale * self.diag
        new.spatial = {k: scale * v for k, v in self.spatial.items()}
        new.p_band = {d: scale * v for d, v in self.p_band.items()}
        return new

    def apply_local(self, psi_ghosted: np.ndarray) -> np.ndarray:
        """A psi for the owned rows, given psi with its DMDA ghost layer
        (:meth:`Decomposition.halo_exchange`): a matrix-free application of the operator,
        independent of the PETSc matrix (used to check the assembly)."""
        dec = self.decomp
        d = dec.grid.dim
        box, ghost = dec.box, dec._ghost
        # owned box padded by one cell per side; cells outside the domain stay zero
        padded = np.zeros(tuple(n + 2 for n in box.c_shape) + (dec.dof,))
        sl = []
        for ax in reversed(range(d)):
            lo = ghost.starts[ax] - (box.starts[ax] - 1)
            sl.append(slice(lo, lo + ghost.shape[ax]))
        padded[tuple(sl)] = psi_ghosted

        def view(offset):
            return padded[
                tuple(
                    slice(1 + offset[ax], 1 + offset[ax] + box.shape[ax])
                    for ax in reversed(range(d))
                )
            ]

        centre = view((0,) * d)
        out = self.diag * centre
        for off, c in self.spatial.items():
            out += c * view(off)
        for k, c in self.p_band.items():
            if k > 0:
                out[..., :-k] += c[..., :-k] * centre[..., k:]
            else:
                out[..., -k:] += c[..., -k:] * centre[..., :k]
        return out

    # --- PETSc ------------------------------------------------------------------------------------
    def pattern_key(self) -> tuple:
        """What fixes the sparsity pattern with explicit zeros kept (:class:`MatrixPool`)."""
        return (tuple(sorted(self.spatial)), tuple(sorted(self.p_band)))

    def _slots(self, keep_zeros: bool = False):
        """(column, value) arrays per stencil slot, flattened over the owned rows; with
        ``keep_zeros`` every slot and every in-domain neighbour is kept (a fixed pattern)."""
        dec = self.decomp
        npts = dec.dof
        k = np.arange(npts, dtype=np.int64)
        own = dec.neighbour_blocks((0,) * dec.grid.dim)[..., None] * npts
        yield (own + k).reshape(-1), self.diag.reshape(-1)
        for off, vals in sorted(self.spatial.items()):
            if not keep_zeros and not np.any(vals):
                continue
            blocks = dec.neighbour_blocks(off)[..., None]
            cols = np.where(blocks >= 0, blocks * npts + k, -1)
            if not keep_zeros:
                cols = np.where(vals != 0.0, cols, -1)
            yield np.broadcast_to(cols, self.shape).reshape(-1), vals.reshape(-1)
        for d, vals in sorted(self.p_band.items()):
            if not keep_zeros and not np.any(vals):
                continue
            valid = (k + d >= 0) & (k + d < npts)
            cols = np.broadcast_to(np.where(valid, own + k + d, -1), self.shape)
            yield cols.reshape(-1), vals.reshape(-1)

    def to_petsc(self) -> PETSc.Mat:
        """Assemble the parallel AIJ matrix of the owned rows.

        The stencil slots become compressed rows (missing neighbours dropped, columns sorted
        as PETSc requires, by the numba kernel :func:`compress_rows`) handed to PETSc in one
        call, which also preallocates exactly."""
        dec = self.decomp
        slots = list(self._slots())
        cols = np.stack([c for c, _ in slots])  # (slots, rows): each slot contiguous
        vals = np.stack([v for _, v in slots]).astype(PETSc.ScalarType, copy=False)
        del slots
        nrows = cols.shape[1]
        indptr = np.empty(nrows + 1, dtype=PETSc.IntType)
        col_idx = np.empty(cols.size, dtype=PETSc.IntType)
        values = np.empty(cols.size, dtype=PETSc.ScalarType)
        nnz = compress_rows(cols, vals, indptr, col_idx, values)
        del cols, vals
        nglobal = dec.grid_unknowns
        mat = PETSc.Mat().createAIJ(
            size=((nrows, nglobal), (nrows, nglobal)),
            csr=(indptr, col_idx[:nnz], values[:nnz]),
            comm=dec.comm,
        )
        mat.assemble()
        return mat


class MatrixPool:
    """One PETSc matrix refilled for every system of the same stencil shape.

    Species of a run share the grid and the stencil's slots, so with explicit zeros kept
    their matrices have the same sparsity pattern: the matrix is allocated once and only its
    values change, which lets PETSc keep the symbolic parts of a preconditioner (ILU
    fill, multigrid coarse operators) and keeps memory independent of the species count.
    A system with another slot set gets a new matrix."""

    def __init__(self, decomp: Decomposition):
        self.decomp = decomp
        self.mat: PETSc.Mat | None = None
        self._key = None
        self._indptr = self._col_idx = self._src = None
        self.refills = 0

    def matrix(self, system: StencilSystem) -> PETSc.Mat:
        slots = list(system._slots(keep_zeros=True))
        vals = np.stack([v for _, v in slots]).astype(PETSc.ScalarType, copy=False)
        key = system.pattern_key()
        if key != self._key:
            cols = np.stack([c for c, _ in slots])
            nrows = cols.shape[1]
            indptr = np.empty(nrows + 1, dtype=PETSc.IntType)
            col_idx = np.empty(cols.size, dtype=PETSc.IntType)
            where = np.empty(cols.size, dtype=PETSc.ScalarType)
            position = np.arange(cols.size, dtype=PETSc.ScalarType).reshape(cols.shape)
            nnz = compress_rows(cols, position, indptr, col_idx, where)
            self._indptr, self._col_idx = indptr, col_idx[:nnz].copy()
            self._src = where[:nnz].astype(np.int64)
            self.destroy()
            nglobal = self.decomp.grid_unknowns
            self.mat = PETSc.Mat().createAIJ(
                size=((nrows, nglobal), (nrows, nglobal)),
                csr=(self._indptr, self._col_idx, vals.reshape(-1)[self._src]),
                comm=self.decomp.comm,
            )
            self._key = key
        else:
            self.mat.setValuesCSR(self._indptr, self._col_idx, vals.reshape(-1)[self._src])
            self.refills += 1
        self.mat.assemble()
        return self.mat

    def destroy(self) -> None:
        if self.mat is not None:
            self.mat.destroy()
            self.mat = None
            self._key = None


@njit(cache=True)
def compress_rows(cols, vals, indptr, col_idx, values):
    """Compressed sparse rows from stencil slots.

    ``cols``/``vals`` are (slots, rows); a column < 0 marks a missing entry.  Each row's
    entries are insertion-sorted by column (a handful per row).  Fills ``indptr`` (rows + 1)
    and the first nnz entries of ``col_idx``/``values``; returns nnz."""
    nslots, nrows = cols.shape
    pos = 0
    indptr[0] = 0
    for r in range(nrows):
        start = pos
        for s in range(nslots):
            c = cols[s, r]
            if c < 0:
                continue
            v = vals[s, r]
            j = pos
            while j > start and col_idx[j - 1] > c:
                col_idx[j] = col_idx[j - 1]
                values[j] = values[j - 1]
                j -= 1
            col_idx[j] = c
            values[j] = v
            pos += 1
        indptr[r + 1] = pos
    return pos


def warm_up() -> None:
    """Compile :func:`compress_rows` (numba caches it on disk) for the types used here; call
    once before launching many ranks so they do not all compile at the same time."""
    cols = np.array([[0, -1], [1, 0]], dtype=np.int64)
    vals = np.ones((2, 2), dtype=PETSc.ScalarType)
    compress_rows(
        cols,
        vals,
        np.empty(3, PETSc.IntType),
        np.empty(4, PETSc.IntType),
        np.empty(4, PETSc.ScalarType),
    )
