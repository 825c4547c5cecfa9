"""Rank-local rows of a linear transport operator in stencil form, turned into a PETSc matrix.

Every physical operator adds coefficients to a :class:`StencilSystem`; the system knows, for
each owned (cell, momentum) row, the coefficient on the same unknown (``diag``), on the same
momentum at a spatial neighbour (``spatial[offset]``), on the neighbouring momenta of the
same cell (``p_lower``/``p_upper``) and, for Galerkin-type coarse operators only
(:mod:`galprop_py.solvers.multigrid`), on momentum k + d at a spatial neighbour
(``coupled[(offset, d)]``).  The sign convention is that of the operator ``A`` in

    d psi / dt = -A psi + S,        steady state:  A psi = S,

so loss-like terms add positive diagonal entries.  Conversion to PETSc (:meth:`to_petsc`)
uses the DMDA's global numbering; neighbours outside the physical domain have no entry.
It is streamed: each row's entries are counted, the AIJ matrix is preallocated exactly and
filled a block of rows at a time by numba kernels, so besides PETSc's own storage it needs
only the per-row counts (8 bytes per row) and one block (issue 7: the former stacked copies
of every slot's columns and values took ~3 times the stencil arrays).
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import zlib

import numpy as np
from mpi4py import MPI
from numba import njit
from petsc4py import PETSc

from ..decomposition import Decomposition

#: the farthest momentum shift d an operator row couples (psi[k + d], |d| <= 2: the
#: momentum bands and the Galerkin couplings); :mod:`galprop_py.solvers.guess` relies on it
MOMENTUM_REACH = 2


class StencilSystem:
    def __init__(self, decomp: Decomposition):
        self.decomp = decomp
        self.shape = decomp.box.c_shape + (decomp.dof,)
        self.diag = np.zeros(self.shape)
        self.spatial: dict[tuple[int, ...], np.ndarray] = {}
        # coefficients on psi[k + d] of the same cell, d = -2..2 (d != 0)
        self.p_band = {d: np.zeros(self.shape) for d in (-2, -1, 1, 2)}
        # coefficients on psi[k + d] of the cell at a spatial offset (offset, d)
        self.coupled: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
        # far couplings (offsets beyond the 3^d box, different per cell: the Selling scheme's
        # lattice vectors; :meth:`set_far`): slot j holds each cell's j-th far neighbour
        # (global cell index, -1 for none) and its coefficients, so rows carry only their own
        # far entries
        self.far_blocks: list[np.ndarray] = []
        self.far_values: list[np.ndarray] = []
        self.far_reach = 0  # largest offset component of a far entry
        self.consumed = False  # its slots were handed back by a consuming to_petsc/refill

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

    def add_coupled(self, offset: tuple[int, ...], d: int, coeff: np.ndarray) -> None:
        """Add ``coeff`` to the coefficient on momentum k + ``d`` of the neighbour at
        ``offset`` (d = 0: :meth:`add_spatial`; offset 0: the momentum bands)."""
        offset, d = tuple(int(o) for o in offset), int(d)
        if abs(d) > MOMENTUM_REACH:
            raise ValueError(f"momentum shift {d}: at most {MOMENTUM_REACH} either way")
        if d == 0:
            self.add_spatial(offset, coeff)
        elif not any(offset):
            self.p_band[d] += coeff
        else:
            key = (offset, d)
            if key not in self.coupled:
                self.coupled[key] = np.zeros(self.shape)
            self.coupled[key] += coeff

    def set_far(self, blocks: np.ndarray, values: np.ndarray, reach: int) -> None:
        """Set the far couplings: ``blocks`` (slots, cells) global cell index of each owned
        cell's neighbour in that slot (-1: none; a cell's slots couple distinct columns, none
        of them in the 3^d box), ``values`` (slots, cells, dof) their coefficients, ``reach``
        the largest offset component they use (for :meth:`apply_local`'s check)."""
        if self.far_blocks:
            raise RuntimeError("this stencil system has far couplings already")
        self.far_blocks, self.far_values = list(blocks), list(values)
        self.far_reach = int(reach) if len(blocks) else 0

    def scaled_plus_diagonal(self, scale: float, shift: float) -> StencilSystem:
        """The system ``shift * I + scale * A`` (for implicit time steps)."""
        new = StencilSystem(self.decomp)
        new.diag = shift + scale * self.diag
        new.spatial = {k: scale * v for k, v in self.spatial.items()}
        new.p_band = {d: scale * v for d, v in self.p_band.items()}
        new.coupled = {k: scale * v for k, v in self.coupled.items()}
        new.far_blocks = list(self.far_blocks)
        new.far_values = [scale * v for v in self.far_values]
        new.far_reach = self.far_reach
        return new

    def apply_local(self, psi_ghosted: np.ndarray) -> np.ndarray:
        """A psi for the owned rows, given psi with its DMDA ghost layer
        (:meth:`Decomposition.halo_exchange`): a matrix-free application of the operator,
        independent of the PETSc matrix (used to check the assembly)."""
        dec = self.decomp
        d = dec.grid.dim
        offsets = list(self.spatial) + [o for o, _ in self.coupled]
        wide = max([self.far_reach] + [max(map(abs, off)) for off in offsets])
        if wide > 1:
            raise ValueError(
                f"a matrix-free application needs stencils of one cell; this system couples "
                f"cells {wide} apart (diffusion.scheme = 'selling'): use the assembled matrix"
            )
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
        for (off, k), c in self.coupled.items():
            v = view(off)
            if k > 0:
                out[..., :-k] += c[..., :-k] * v[..., k:]
            else:
                out[..., -k:] += c[..., -k:] * v[..., :k]
        return out

    # --- PETSc ------------------------------------------------------------------------------------
    def pattern_key(self) -> tuple:
        """What fixes the sparsity pattern with explicit zeros kept (:class:`MatrixPool`).
        With far couplings it includes a checksum of their columns on every rank (collective:
        every rank decides alike whether a matrix can be refilled)."""
        far = ()
        comm = self.decomp.comm.tompi4py()
        if comm.allreduce(len(self.far_blocks), op=MPI.MAX):
            crc = 0
            for b in self.far_blocks:
                crc = zlib.crc32(np.ascontiguousarray(b).view(np.uint8), crc)
            far = tuple(comm.allgather((len(self.far_blocks), crc)))
        return (
            tuple(sorted(self.spatial)),
            tuple(sorted(self.p_band)),
            tuple(sorted(self.coupled)),
            far,
        )

    def _slots(self, keep_zeros: bool = False):
        """The stencil slots as (cell blocks, momentum shift, values, drop zeros): the global
        cell index of the coupled cell per owned cell (-1 outside the domain, C order), the
        shift d of the coupled momentum (column = block * dof + k + d) and the (cells, dof)
        values.  The diagonal and the momentum bands keep every entry of the pattern, a
        spatial slot drops its zero values unless ``keep_zeros``; without ``keep_zeros`` a
        slot that is zero everywhere is left out."""
        dec = self.decomp
        zero = (0,) * dec.grid.dim
        entries = [(zero, 0, self.diag, False)]
        entries += [(off, 0, v, not keep_zeros) for off, v in self.spatial.items()]
        entries += [(zero, d, v, False) for d, v in self.p_band.items()]
        entries += [(off, d, v, False) for (off, d), v in self.coupled.items()]
        # in the order of their columns inside a rank's box (the first physical axis runs
        # fastest, then the momentum shift), so that rows are filled mostly by appending
        entries.sort(key=lambda e: (tuple(reversed(e[0])), e[1]))
        blocks_of = {}
        for off, d, vals, drop in entries:
            if not (keep_zeros or np.any(vals)) and (any(off) or d):
                continue
            if off not in blocks_of:
                blocks_of[off] = np.ascontiguousarray(dec.neighbour_blocks(off)).reshape(-1)
            yield blocks_of[off], d, vals.reshape(-1, dec.dof), drop
        # far slots: their columns are unsorted among the others (insertion sort per row)
        for blocks, vals in zip(self.far_blocks, self.far_values, strict=True):
            yield blocks, 0, vals, not keep_zeros

    def _fill(self, mat: PETSc.Mat, slots: list, counts: np.ndarray, consume=False) -> None:
        """Insert the rows of ``slots`` into the preallocated ``mat``, :data:`CHUNK_ROWS`
        rows at a time (sorted compressed rows built by :func:`insert_slot`), so that no
        array of the size of the whole matrix is made besides PETSc's own.  With
        ``consume`` the pages of the value slots other than the diagonal are handed back
        as their rows are inserted (:class:`_PageRelease`)."""
        dec = self.decomp
        dof = dec.dof
        ncells = dec.box.ncells
        step = max(1, CHUNK_ROWS // dof)
        release = None
        if consume:
            release = _PageRelease(
                [v for _b, _d, v, _drop in slots if not np.may_share_memory(v, self.diag)]
            )
        for c0 in range(0, ncells, step):
            c1 = min(ncells, c0 + step)
            rows = counts[c0 * dof : c1 * dof]
            indptr = np.zeros(rows.size + 1, dtype=PETSc.IntType)
            np.cumsum(rows, out=indptr[1:])
            fill = np.zeros(rows.size, dtype=PETSc.IntType)
            col_idx = np.empty(int(indptr[-1]), dtype=PETSc.IntType)
            values = np.empty(int(indptr[-1]), dtype=PETSc.ScalarType)
            for blocks, d, vals, drop in slots:
                insert_slot(blocks, d, vals, drop, c0, c1, indptr, fill, col_idx, values)
            rowmap = np.arange(dec.row_start + c0 * dof, dec.row_start + c1 * dof)
            mat.setValuesIJV(indptr, col_idx, values, rowmap=rowmap.astype(PETSc.IntType))
            if release is not None:
                release.upto(c1, c1 == ncells)

    def _preallocated(self, slots: list) -> tuple[PETSc.Mat, np.ndarray]:
        """An AIJ matrix preallocated exactly for ``slots`` and the entries per row."""
        dec = self.decomp
        nrows = dec.box.ncells * dec.dof
        d_nnz = np.zeros(nrows, dtype=PETSc.IntType)
        o_nnz = np.zeros(nrows, dtype=PETSc.IntType)
        for blocks, d, vals, drop in slots:
            count_slot(blocks, d, vals, drop, dec.row_start, dec.row_end, d_nnz, o_nnz)
        nglobal = dec.grid_unknowns
        mat = PETSc.Mat().createAIJ(
            size=((nrows, nglobal), (nrows, nglobal)), nnz=(d_nnz, o_nnz), comm=dec.comm
        )
        mat.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
        d_nnz += o_nnz
        return mat, d_nnz

    def to_petsc(self, keep_zeros: bool = False, consume: bool = False) -> PETSc.Mat:
        """Assemble the parallel AIJ matrix of the owned rows.

        Exactly preallocated from a count of each row's entries, then filled block of rows
        by block of rows (:meth:`_fill`); missing neighbours and, unless ``keep_zeros``, zero
        spatial couplings are dropped.  With ``keep_zeros`` the pattern depends only on
        :meth:`pattern_key` and the decomposition (:class:`MatrixPool`).

        ``consume``: the system is not used afterwards, except its diagonal: the memory of
        its other slots is handed back while the matrix fills (their values then read as
        zeros), so that the stencil arrays and the matrix are not resident at the same time
        (81 x 81 x 41 x 32 protons on 2 ranks: the assembly's high-water mark per rank
        1347 -> 1045 MB)."""
        slots = list(self._slots(keep_zeros))
        mat, counts = self._preallocated(slots)
        self._fill(mat, slots, counts, consume)
        if consume:
            self._consumed()
        mat.assemble()
        return mat

    def refill(self, mat: PETSc.Mat, consume: bool = False) -> None:
        """Overwrite the values of ``mat`` (made by ``to_petsc(keep_zeros=True)`` from a
        system with the same :meth:`pattern_key`) with this system's (``consume``: as for
        :meth:`to_petsc`)."""
        slots = list(self._slots(keep_zeros=True))
        dec = self.decomp
        counts = np.zeros(dec.box.ncells * dec.dof, dtype=PETSc.IntType)
        for blocks, d, _vals, _drop in slots:
            count_row_slot(blocks, d, dec.dof, counts)
        self._fill(mat, slots, counts, consume)
        if consume:
            self._consumed()
        mat.assemble()

    def _consumed(self) -> None:
        """Forget the slots whose memory :meth:`_fill` handed back (only the diagonal
        stays): a later use finds them missing instead of reading zeros."""
        self.spatial, self.coupled = {}, {}
        self.p_band = {d: None for d in self.p_band}
        self.far_blocks, self.far_values, self.far_reach = [], [], 0
        self.consumed = True

    def coo_entries(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """The fixed pattern (explicit zeros kept) as global COO rows and columns, and per
        slot of :meth:`_slots` the mask of its kept (cell, momentum) entries, in the order
        :meth:`coo_values` gives the values."""
        dec = self.decomp
        dof = dec.dof
        k = np.arange(dof)
        slots = list(self._slots(keep_zeros=True))
        masks = [
            (blocks[:, None] >= 0) & ((k + d >= 0) & (k + d < dof))[None, :]
            for blocks, d, _vals, _drop in slots
        ]
        total = sum(int(m.sum()) for m in masks)
        rows = np.empty(total, dtype=PETSc.IntType)
        cols = np.empty(total, dtype=PETSc.IntType)
        cell_rows = dec.row_start + np.arange(dec.box.ncells)[:, None] * dof
        pos = 0
        for (blocks, d, _vals, _drop), mask in zip(slots, masks, strict=True):
            n = int(mask.sum())
            rows[pos : pos + n] = (cell_rows + k[None, :])[mask]
            cols[pos : pos + n] = (blocks[:, None] * dof + (k + d)[None, :])[mask]
            pos += n
        return rows, cols, masks

    def coo_values(self, masks: list[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        """The values in the order of :meth:`coo_entries` (same pattern key), written into
        ``out`` (reused across refills) when given.  Each slot's kept entries are gathered
        by :func:`gather_slot` (the same entries as its mask, in the same order)."""
        total = sum(int(np.count_nonzero(m)) for m in masks)
        if out is None or out.size != total:
            out = np.empty(total, dtype=PETSc.ScalarType)
        pos = 0
        for blocks, d, vals, _drop in self._slots(keep_zeros=True):
            pos = gather_slot(blocks, d, vals, out, pos)
        if pos != total:
            raise RuntimeError(f"stencil slots hold {pos} entries, the pattern {total}")
        return out


class _PageRelease:
    """Hands the pages of (cells, dof) C-contiguous value arrays back to the system as their
    leading cells have been consumed (``madvise(MADV_DONTNEED)``: the memory stays mapped
    and reads as zeros afterwards, so the arrays must not be used again; Linux only, a
    no-op elsewhere).  Whole pages strictly inside each array's data are released, at
    least :data:`RELEASE_BYTES` at a time, so that while the AIJ matrix is filled block of
    rows by block of rows its growth is offset by the stencil's shrinking."""

    def __init__(self, arrays: list[np.ndarray]):
        self._madvise = _madvise()
        self.arrays = [a for a in arrays if a.flags.c_contiguous and a.nbytes >= _PAGE]
        self.done = [0] * len(self.arrays)  # bytes from each array's start released

    def upto(self, cells: int, last: bool = False) -> None:
        if self._madvise is None:
            return
        for i, a in enumerate(self.arrays):
            row_bytes = a.nbytes // max(a.shape[0], 1)
            end = a.nbytes if last else cells * row_bytes
            if not last and end - self.done[i] < RELEASE_BYTES:
                continue
            base = a.ctypes.data
            lo = -(-(base + self.done[i]) // _PAGE) * _PAGE
            hi = ((base + end) // _PAGE) * _PAGE
            if hi > lo:
                self._madvise(lo, hi - lo, _MADV_DONTNEED)
            self.done[i] = end


_PAGE = mmap.PAGESIZE
_MADV_DONTNEED = 4  # Linux
#: least amount of one array released at once by :class:`_PageRelease`
RELEASE_BYTES = 4 << 20
_MADVISE = False


def _madvise():
    """libc's madvise (Linux), or None."""
    global _MADVISE
    if _MADVISE is False:
        _MADVISE = None
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).madvise
                fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
                fn.restype = ctypes.c_int
                _MADVISE = fn
            except (OSError, AttributeError):
                pass
    return _MADVISE


#: rows per block of :meth:`StencilSystem._fill` (a block's compressed rows take ~12 bytes
#: per entry: a few MB)
CHUNK_ROWS = 1 << 14


class MatrixPool:
    """One PETSc matrix refilled for every system of the same stencil shape.

    Species of a run share the grid and the stencil's slots, so with explicit zeros kept
    their matrices have the same sparsity pattern: the matrix is allocated once and only its
    values change, which lets PETSc keep the symbolic parts of a preconditioner (ILU
    fill, multigrid coarse operators) and keeps memory independent of the species count.
    A refill writes the values straight into the matrix, a block of rows at a time (no copy
    of the system, no stored index map).  A system with another slot set gets a new
    matrix."""

    def __init__(self, decomp: Decomposition, coo: bool | None = None):
        self.decomp = decomp
        self.mat: PETSc.Mat | None = None
        self._key = None
        self.refills = 0
        # COO refills (PETSc's MatSetValuesCOO: one scatter instead of MatSetValues row by
        # row) keep an index map of the matrix's size (~16 bytes per entry): 1D/2D only
        self.coo = decomp.grid.dim <= 2 if coo is None else coo
        self._masks: list[np.ndarray] | None = None
        self._values: np.ndarray | None = None  # the COO values, reused by every refill

    def matrix(self, system: StencilSystem, consume: bool = False) -> PETSc.Mat:
        """The pool's matrix holding ``system`` (``consume``: the system is not used
        afterwards except its diagonal, :meth:`StencilSystem.to_petsc`; the COO path
        ignores it)."""
        key = system.pattern_key()
        if key != self._key:
            self.destroy()
            if self.coo:
                self.mat = self._coo_matrix(system)
            else:
                self.mat = system.to_petsc(keep_zeros=True, consume=consume)
            self._key = key
        else:
            if self.coo:
                self._values = system.coo_values(self._masks, self._values)
                self.mat.setValuesCOO(self._values)
            else:
                system.refill(self.mat, consume=consume)
            self.refills += 1
        return self.mat

    def _coo_matrix(self, system: StencilSystem) -> PETSc.Mat:
        dec = self.decomp
        rows, cols, self._masks = system.coo_entries()
        nrows = dec.box.ncells * dec.dof
        nglobal = dec.grid_unknowns
        mat = PETSc.Mat().create(comm=dec.comm)
        mat.setSizes(((nrows, nglobal), (nrows, nglobal)))
        mat.setType(PETSc.Mat.Type.AIJ)
        mat.setPreallocationCOO(rows, cols)
        del rows, cols
        self._values = system.coo_values(self._masks)
        mat.setValuesCOO(self._values)
        mat.assemble()
        return mat

    def destroy(self) -> None:
        if self.mat is not None:
            self.mat.destroy()
            self.mat = None
            self._key = None
            self._masks, self._values = None, None


@njit(cache=True)
def count_slot(blocks, d, vals, drop, row_start, row_end, d_nnz, o_nnz):
    """Add one slot's entries per row to ``d_nnz`` (columns owned by this rank, in
    [row_start, row_end)) and ``o_nnz`` (the others); see :meth:`StencilSystem._slots`."""
    ncells, dof = vals.shape
    for c in range(ncells):
        b = blocks[c]
        if b < 0:
            continue
        for k in range(dof):
            kk = k + d
            if kk < 0 or kk >= dof:
                continue
            if drop and vals[c, k] == 0.0:
                continue
            col = b * dof + kk
            if row_start <= col < row_end:
                d_nnz[c * dof + k] += 1
            else:
                o_nnz[c * dof + k] += 1


@njit(cache=True)
def gather_slot(blocks, d, vals, out, pos):
    """Copy one slot's in-domain entries (cell with a neighbour, 0 <= k + d < dof; cells
    first, then momenta) into ``out`` from ``pos`` on; returns the next position."""
    ncells, dof = vals.shape
    for c in range(ncells):
        if blocks[c] < 0:
            continue
        for k in range(dof):
            if 0 <= k + d < dof:
                out[pos] = vals[c, k]
                pos += 1
    return pos


@njit(cache=True)
def count_row_slot(blocks, d, dof, counts):
    """Entries per row of one slot with every in-domain entry kept (a fixed pattern)."""
    for c in range(blocks.size):
        if blocks[c] < 0:
            continue
        for k in range(dof):
            if 0 <= k + d < dof:
                counts[c * dof + k] += 1


@njit(cache=True)
def insert_slot(blocks, d, vals, drop, c0, c1, indptr, fill, col_idx, values):
    """Insert one slot's entries of cells [c0, c1) into compressed rows: row r of the block
    spans ``indptr[r]:indptr[r + 1]``, ``fill[r]`` entries are already there; each new entry
    is insertion-sorted by column (a handful per row)."""
    dof = vals.shape[1]
    for c in range(c0, c1):
        b = blocks[c]
        if b < 0:
            continue
        for k in range(dof):
            kk = k + d
            if kk < 0 or kk >= dof:
                continue
            v = vals[c, k]
            if drop and v == 0.0:
                continue
            col = b * dof + kk
            r = (c - c0) * dof + k
            start = indptr[r]
            j = start + fill[r]
            while j > start and col_idx[j - 1] > col:
                col_idx[j] = col_idx[j - 1]
                values[j] = values[j - 1]
                j -= 1
            col_idx[j] = col
            values[j] = v
            fill[r] += 1


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
    """Compile the assembly kernels (numba caches them on disk) for the types used here; call
    once before launching many ranks so they do not all compile at the same time."""
    blocks = np.array([0, -1], dtype=np.int64)
    v2 = np.ones((2, 2))
    i32 = PETSc.IntType
    d_nnz, o_nnz = np.zeros(4, i32), np.zeros(4, i32)
    count_slot(blocks, 0, v2, True, 0, 4, d_nnz, o_nnz)
    count_row_slot(blocks, 1, 2, d_nnz)
    gather_slot(blocks, 1, v2, np.empty(4, PETSc.ScalarType), 0)
    indptr = np.arange(5, dtype=i32)
    insert_slot(
        blocks, 0, v2, True, 0, 2, indptr, np.zeros(4, i32), np.zeros(4, i32), v2[0].repeat(2)
    )
    cols = np.array([[0, -1], [1, 0]], dtype=np.int64)
    vals = np.ones((2, 2), dtype=PETSc.ScalarType)
    compress_rows(
        cols,
        vals,
        np.empty(3, PETSc.IntType),
        np.empty(4, PETSc.IntType),
        np.empty(4, PETSc.ScalarType),
    )
    from ..physics.antiprotons import dsigma_dt_pbar_mb_gev
    from .base import _separable_sum
    from .diffusion import _scalar_faces
    from .momentum_flux import _add_drift, _flows
    from .reacceleration import _momentum_diffusion

    dsigma_dt_pbar_mb_gev(1.0, 100.0)
    one, two = np.ones(2), np.ones((2, 2))
    _separable_sum(two, two, np.empty((2, 2)))
    _scalar_faces(two, two.copy(), one, one, one, one > 0, one > 0, two)
    _momentum_diffusion(two, two.copy(), two.copy(), np.ones((2, 3)), one[:1], one[:1], one, one)

    pdot = np.ones((2, 3))
    edges, rows = np.array([1], dtype=np.intp), np.array([0], dtype=np.intp)
    _flows(pdot, 1, 1, 3)
    _add_drift(np.zeros((2, 2)), pdot, 1, 1, 3, edges, rows, np.ones(1))
