"""The DMDA that splits the spatial grid across MPI ranks.

Layout: space is decomposed by a DMDA of dimension 1-3; the momentum points of a cell are the
DMDA's degrees of freedom, so a cell's whole spectrum lives on one rank and the momentum
operators (losses, reacceleration, adiabatic term) never need communication.  Only spatial
couplings cross ranks, through the DMDA ghost layer (width 1, box stencil for the mixed
derivatives of the anisotropic diffusion tensor); assembled matrices may couple cells further
apart (the Selling scheme's lattice vectors): :meth:`Decomposition.neighbour_blocks` numbers
them from the ownership ranges and PETSc's MatMult gathers them.

Array convention for rank-local data: C-ordered numpy arrays of shape
``(n_{d-1}, ..., n_1, n_0, n_p)``, i.e. the physical axis order reversed, which is PETSc's
memory order (axis 0 fastest, the degrees of freedom innermost).  :meth:`Decomposition.to_physical`
turns such an array into physical axis order ``(n_0, ..., n_{d-1}, n_p)``.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from petsc4py import PETSc

from ..grid import SpatialGrid


@dataclass(frozen=True)
class LocalBox:
    """Cells owned by this rank: ``starts[a] <= i_a < stops[a]`` for each physical axis a."""

    starts: tuple[int, ...]
    stops: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Owned cells per physical axis."""
        return tuple(e - s for s, e in zip(self.starts, self.stops, strict=True))

    @property
    def c_shape(self) -> tuple[int, ...]:
        """Shape of rank-local arrays (physical axes reversed)."""
        return tuple(reversed(self.shape))

    @property
    def ncells(self) -> int:
        return int(np.prod(self.shape))


class Decomposition:
    """Owns the DMDA for a spatial grid with ``dof`` momentum points per cell."""

    def __init__(self, grid: SpatialGrid, dof: int, comm=None, da=None):
        """``da``: an existing DMDA to build on (e.g. ``da.coarsen()`` of a finer one, for
        geometric multigrid: :mod:`galprop_py.solvers.multigrid`); its sizes must be
        ``grid.shape``, its dof ``dof``, its stencil a box of width 1.  Not destroyed here."""
        self.grid = grid
        self.dof = int(dof)
        if da is not None:
            self.comm = da.getComm()
            self._adopt(da)
            return
        self.comm = comm if comm is not None else PETSc.COMM_WORLD
        nranks = self.comm.getSize()
        try:
            da = PETSc.DMDA().create(
                dim=grid.dim,
                dof=self.dof,
                sizes=grid.shape,
                stencil_width=1,
                stencil_type=PETSc.DMDA.StencilType.BOX,
                boundary_type=(PETSc.DM.BoundaryType.NONE,) * grid.dim,
                comm=self.comm,
            )
        except PETSc.Error:
            raise ValueError(
                f"grid of {grid.shape} cells cannot be split over {nranks} MPI ranks (every "
                "rank needs at least one cell along each split axis); use fewer ranks or more "
                "cells"
            ) from None
        self._adopt(da)

    def _adopt(self, da) -> None:
        """Take ``da`` as this decomposition's DMDA: check it fits the grid, then build the
        local boxes and index maps."""
        sizes, dof = tuple(int(n) for n in da.getSizes()), int(da.getDof())
        width, box = da.getStencilWidth(), da.getStencilType() == PETSc.DMDA.StencilType.BOX
        if sizes != tuple(self.grid.shape) or dof != self.dof or width != 1 or not box:
            raise ValueError(
                f"DMDA of {sizes} cells x {dof} dof (stencil width {width}, box {box}) does not "
                f"fit a grid of {tuple(self.grid.shape)} cells x {self.dof} momenta with a box "
                "stencil of width 1"
            )
        self.da = da
        ranges = self.da.getRanges()
        self.box = LocalBox(tuple(r[0] for r in ranges), tuple(r[1] for r in ranges))
        granges = self.da.getGhostRanges()
        self._ghost = LocalBox(tuple(r[0] for r in granges), tuple(r[1] for r in granges))
        self.row_start, self.row_end = self.da.createGlobalVec().getOwnershipRange()
        self._padded_blocks = self._global_block_indices()

    @property
    def grid_unknowns(self) -> int:
        """Global number of unknowns (cells x momentum points)."""
        return int(np.prod(self.grid.shape)) * self.dof

    # --- index maps --------------------------------------------------------------------------
    def _global_block_indices(self) -> np.ndarray:
        """Global (PETSc-ordered) cell indices on the owned box padded by one cell per side;
        -1 marks cells outside the physical domain."""
        lgmap = self.da.getLGMap()
        g = self._ghost
        nghost = g.ncells
        local = np.arange(nghost, dtype=PETSc.IntType)
        blocks = np.asarray(lgmap.applyBlock(local), dtype=np.int64).reshape(g.c_shape)
        padded = np.full(tuple(n + 2 for n in self.box.c_shape), -1, dtype=np.int64)
        sl = []
        for a in reversed(range(self.grid.dim)):
            lo = g.starts[a] - (self.box.starts[a] - 1)
            sl.append(slice(lo, lo + g.shape[a]))
        padded[tuple(sl)] = blocks
        return padded

    def neighbour_blocks(self, offset: tuple[int, ...]) -> np.ndarray:
        """Global cell index of the neighbour at ``offset`` (physical axis order) of every owned
        cell, as a rank-local C-ordered array; -1 where the neighbour is outside the domain.
        Offsets longer than the ghost layer (wide stencils: the Selling scheme of
        :mod:`galprop_py.operators.anisotropic_selling`) are mapped through the DMDA's
        ownership ranges (no communication)."""
        if any(abs(int(o)) > 1 for o in offset):
            return self._far_blocks(tuple(int(o) for o in offset))
        sl = []
        for a in reversed(range(self.grid.dim)):
            o = offset[a]
            sl.append(slice(1 + o, 1 + o + self.box.shape[a]))
        return self._padded_blocks[tuple(sl)]

    def _far_blocks(self, offset: tuple[int, ...]) -> np.ndarray:
        """:meth:`neighbour_blocks` for any offset."""
        index = [
            self.expand(np.arange(self.box.starts[a], self.box.stops[a]) + offset[a], a)
            for a in range(self.grid.dim)
        ]
        return np.broadcast_to(self.global_blocks(index), self.box.c_shape)

    def ownership_tables(self):
        """The DMDA's global numbering as tables (no communication): PETSc numbers the cells
        rank by rank (ranks in the process grid, first axis fastest), each rank's box in
        natural order inside.  Per physical axis a (rows padded to the longest axis / the
        most ranks): ``rank_of[a, j]`` the process-grid coordinate owning global index j,
        ``pos_of[a, j]`` j's position in that rank's box, ``width_of[a, r]`` the box width
        of coordinate r; ``nproc`` ranks per axis; ``rank_start`` the first global cell of
        each rank.  Used by :meth:`global_blocks` and by compiled kernels."""
        ranges = [np.asarray(r, dtype=np.int64) for r in self.da.getOwnershipRanges()]
        dim = self.grid.dim
        nmax = max(ax.n for ax in self.grid.axes)
        rank_of = np.zeros((dim, nmax), dtype=np.int64)
        pos_of = np.zeros((dim, nmax), dtype=np.int64)
        width_of = np.zeros((dim, max(r.size for r in ranges)), dtype=np.int64)
        sizes = np.ones((), dtype=np.int64)  # cells of each rank, rank-local layout
        for a, r in enumerate(ranges):
            edges = np.concatenate([[0], np.cumsum(r)])
            j = np.arange(self.grid.axes[a].n)
            owner = np.searchsorted(edges, j, side="right") - 1
            rank_of[a, : j.size], pos_of[a, : j.size] = owner, j - edges[owner]
            width_of[a, : r.size] = r
            sizes = sizes * self.expand(r, a)
        rank_start = np.concatenate([[0], np.cumsum(sizes.reshape(-1))]).astype(np.int64)
        nproc = np.array([r.size for r in ranges], dtype=np.int64)
        return rank_of, pos_of, width_of, nproc, rank_start

    def global_blocks(self, index: list[np.ndarray]) -> np.ndarray:
        """PETSc global cell index of the cells at global integer coordinates ``index`` (one
        array per physical axis, broadcastable), -1 outside the domain
        (:meth:`ownership_tables`)."""
        rank_of, pos_of, width_of, nproc, rank_start = self.ownership_tables()
        rank_id = np.zeros((), dtype=np.int64)
        local = np.zeros((), dtype=np.int64)
        inside = np.ones((), dtype=bool)
        rank_stride, cell_stride = 1, np.ones((), dtype=np.int64)
        for a, ax in enumerate(self.grid.axes):
            j = np.asarray(index[a], dtype=np.int64)
            jc = np.clip(j, 0, ax.n - 1)
            r = rank_of[a, jc]
            inside = inside & (j >= 0) & (j < ax.n)
            rank_id = rank_id + r * rank_stride
            rank_stride *= int(nproc[a])
            local = local + pos_of[a, jc] * cell_stride
            cell_stride = cell_stride * width_of[a, r]
        return np.where(inside, rank_start[rank_id] + local, -1).astype(np.int64)

    # --- geometry of the owned box -------------------------------------------------------------
    def owned_slice(self, a: int) -> slice:
        return slice(self.box.starts[a], self.box.stops[a])

    def expand(self, values: np.ndarray, a: int) -> np.ndarray:
        """Reshape a 1D array along physical axis ``a`` to broadcast over rank-local arrays
        (without the momentum axis)."""
        shape = [1] * self.grid.dim
        shape[self.grid.dim - 1 - a] = -1
        return np.asarray(values).reshape(shape)

    def local_centers(self) -> list[np.ndarray]:
        """Owned cell centres per physical axis, each broadcastable (rank-local layout)."""
        return [
            self.expand(ax.centers[self.owned_slice(a)], a) for a, ax in enumerate(self.grid.axes)
        ]

    def local_cell_volumes(self) -> np.ndarray:
        vol = np.ones(self.box.c_shape)
        for a, ax in enumerate(self.grid.axes):
            vol = vol * self.expand(ax.widths[self.owned_slice(a)], a)
        return vol

    # --- vectors ---------------------------------------------------------------------------------
    def create_vec(self) -> PETSc.Vec:
        return self.da.createGlobalVec()

    def local_array(self, vec: PETSc.Vec) -> np.ndarray:
        """Read-only view of the owned part of a global Vec, shape ``box.c_shape + (dof,)``."""
        return vec.getArray(readonly=True).reshape(self.box.c_shape + (self.dof,))

    @contextmanager
    def writable(self, vec: PETSc.Vec):
        """Context manager yielding a writable view of the owned part of ``vec``.

        Writing through it bumps the Vec's state on exit, so PETSc's cached norms stay right
        (a plain ``getArray()`` write would leave a stale cached norm)."""
        with vec as arr:
            yield arr.reshape(self.box.c_shape + (self.dof,))

    def to_physical(self, local: np.ndarray) -> np.ndarray:
        """Rank-local array (reversed axes) to physical axis order (axes first, extra last)."""
        d = self.grid.dim
        extra = local.ndim - d
        perm = tuple(reversed(range(d))) + tuple(range(d, d + extra))
        return local.transpose(perm)

    def from_physical(self, phys: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.to_physical(phys))

    def global_slices(self) -> tuple[slice, ...]:
        """Slices of the owned box in a global array in physical axis order."""
        return tuple(self.owned_slice(a) for a in range(self.grid.dim))

    def gather_to_all(self, local: np.ndarray) -> np.ndarray:
        """Full global array (physical order) on every rank. For small diagnostics and tests."""
        from mpi4py import MPI

        comm = self.comm.tompi4py()
        phys = self.to_physical(local)
        extra = phys.shape[self.grid.dim :]
        full = np.zeros(self.grid.shape + extra)
        full[self.global_slices()] = phys
        comm.Allreduce(MPI.IN_PLACE, full, op=MPI.SUM)
        return full

    def halo_exchange(self, vec: PETSc.Vec) -> np.ndarray:
        """Owned values plus one ghost layer (DMDA global-to-local), rank-local layout."""
        loc = self.da.createLocalVec()
        self.da.globalToLocal(vec, loc)
        arr = loc.getArray().reshape(self._ghost.c_shape + (self.dof,)).copy()
        loc.destroy()
        return arr
