"""The DMDA that splits the spatial grid across MPI ranks.

Layout: space is decomposed by a DMDA of dimension 1-3; the momentum points of a cell are the
DMDA's degrees of freedom, so a cell's whole spectrum lives on one rank and the momentum
operators (losses, reacceleration, adiabatic term) never need communication.  Only spatial
couplings cross ranks, through the DMDA ghost layer (width 1, box stencil for the mixed
derivatives of the anisotropic diffusion tensor); assembled matrices may couple cells further
apart (the Selling scheme's lattice vectors): :meth:`Decomposition.neighbour_blocks` numbers
them from the ownership ranges and PETSc's MatMult gathers them.

Process grid (:func:`process_grid`): PETSc splits each axis into near-equal ranges on the
process grid that minimises the cut surface.  Every cut drops the couplings across it from
the block-Jacobi preconditioners (the multigrid smoothers), which is harmless where the
coupling across the cut is weak compared with the rest of a cell's row and costly where it
dominates: on the default galaxy's sinh z cells (36 pc at the disc, 0.5 kpc in r) PETSc's
choice for 2 ranks cuts z at the disc, where the z coupling is ~190 times the radial one.
So the process grid is the one whose cuts drop the least relative coupling
(:func:`cut_strength`), where that is less than half of PETSc's choice; on grids with equal
cells in every direction PETSc's choice stands.

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

#: fewest cells per rank along a split axis for a process grid chosen by :func:`process_grid`
#: (coarse multigrid levels need a few cells per rank)
MIN_CELLS_PER_RANK = 8

#: :func:`process_grid` replaces PETSc's choice only by one whose cuts drop less than this
#: fraction of the relative coupling PETSc's cuts drop
CUT_GAIN = 0.5


def _ranges(n: int, p: int) -> list[int]:
    """PETSc's default split of ``n`` cells over ``p`` ranks (PetscSplitOwnership)."""
    return [n // p + (1 if i < n % p else 0) for i in range(p)]


def _factorisations(nranks: int, dim: int):
    """Every process grid (p_0, ..., p_{dim-1}) with prod p = ``nranks``."""
    if dim == 1:
        yield (nranks,)
        return
    for p in range(1, nranks + 1):
        if nranks % p == 0:
            for rest in _factorisations(nranks // p, dim - 1):
                yield (p,) + rest


def cut_strength(grid: SpatialGrid, procs: tuple[int, ...]) -> float:
    """Coupling dropped by the cuts of the process grid ``procs``: over the faces of every cut,
    the sum of (1/d_a^2) / (2 sum_b 1/h_b^2), the share of a cell's diffusive row (a 2d-point
    Laplacian with the cell widths h_b) that the face normal to axis a carries (d_a the
    distance of the cell centres across it).  Equal cells in every direction: 1/(2d) per cut
    face, so this ranks process grids like PETSc's smallest surface."""
    inv2 = [1.0 / np.diff(ax.edges) ** 2 for ax in grid.axes]
    total = 0.0
    for a, (ax, p) in enumerate(zip(grid.axes, procs, strict=True)):
        if p == 1:
            continue
        # the rest of the row on the cut plane: sum over the other axes' 1 / h_b^2
        plane = np.zeros(())
        for b in range(grid.dim):
            if b != a:
                shape = [1] * grid.dim
                shape[b] = -1
                plane = plane + inv2[b].reshape(shape)
        plane = np.broadcast_to(plane, tuple(1 if b == a else n.n for b, n in enumerate(grid.axes)))
        for c in np.cumsum(_ranges(ax.n, p))[:-1]:
            across = 1.0 / (ax.centers[c] - ax.centers[c - 1]) ** 2
            total += float(np.sum(across / (2.0 * (across + plane))))
    return total


def process_grid(grid: SpatialGrid, nranks: int, petsc_choice: tuple[int, ...]) -> tuple[int, ...]:
    """The process grid for ``grid`` on ``nranks`` ranks: the one whose cuts drop the least
    coupling (:func:`cut_strength`, at least :data:`MIN_CELLS_PER_RANK` cells per rank along
    split axes) where that is below :data:`CUT_GAIN` times PETSc's choice, else PETSc's."""
    best, best_cost = tuple(petsc_choice), cut_strength(grid, tuple(petsc_choice))
    limit = CUT_GAIN * best_cost
    for procs in _factorisations(nranks, grid.dim):
        if any(
            p > 1 and ax.n < MIN_CELLS_PER_RANK * p for ax, p in zip(grid.axes, procs, strict=True)
        ):
            continue
        cost = cut_strength(grid, procs)
        if cost < limit and cost < best_cost:
            best, best_cost = procs, cost
    return best


def _coarse_ranges(fine: list[int], stencil_width: int = 1) -> list[int]:
    """Ownership ranges of a vertex-coarsened axis (n_c = (n - 1) / 2 + 1, coarse point j on
    fine point 2j) over the same ranks, each rank's coarse points within one stencil width of
    its fine ones: the rule of PETSc's DMCoarsen for a non-periodic DMDA
    (DMDACoarsenOwnershipRanges), so that the DMDA interpolation can be built."""
    m, ratio, s = len(fine), 2, stencil_width
    remaining = 1 + (sum(fine) - 1) // ratio
    out, start_c, start_f = [], 0, 0
    for i, lf in enumerate(fine):
        want = remaining // (m - i) + (1 if remaining % (m - i) else 0)
        if i < m - 1:
            next_f = start_f + lf
            while next_f // ratio < start_c + want - s:
                want -= 1
            while (next_f - 1 + ratio - 1) // ratio > start_c + want - 1 + s:
                want += 1
            if (
                want <= 0
                or want > remaining
                or next_f // ratio < start_c + want - s
                or (next_f - 1 + ratio - 1) // ratio > start_c + want - 1 + s
            ):
                raise ValueError(f"no coarse ownership ranges for the fine ranges {fine}")
        out.append(want)
        start_c, start_f, remaining = start_c + want, start_f + lf, remaining - want
    return out


def coarsen_da(da, factors: tuple[int, ...]):
    """The DMDA of ``da`` coarsened by ``factors`` (2: vertex-coarsened, (n - 1) / 2 + 1
    cells; 1: kept) per axis on the same process grid, the rank ranges nested as in PETSc's
    ``da.coarsen()`` (which this is when every factor is 2).  Raises ValueError (or
    PETSc.Error) when an axis cannot be coarsened over its ranks."""
    factors = tuple(int(f) for f in factors)
    if any(f not in (1, 2) for f in factors):
        raise ValueError(f"coarsening factors {factors}: 1 or 2 per axis")
    if all(f == 2 for f in factors):
        return da.coarsen()
    sizes = [int(n) for n in da.getSizes()]
    ranges = []
    for n, f, r in zip(sizes, factors, da.getOwnershipRanges(), strict=True):
        r = [int(x) for x in r]
        if f == 1:
            ranges.append(r)
            continue
        if (n - 1) % 2:
            raise ValueError(f"an axis of {n} cells cannot be vertex-coarsened (odd n needed)")
        ranges.append(_coarse_ranges(r, int(da.getStencilWidth())))
    coarse = [(n - 1) // 2 + 1 if f == 2 else n for n, f in zip(sizes, factors, strict=True)]
    return PETSc.DMDA().create(
        dim=da.getDim(),
        dof=da.getDof(),
        sizes=coarse,
        proc_sizes=da.getProcSizes(),
        ownership_ranges=ranges,
        stencil_width=da.getStencilWidth(),
        stencil_type=da.getStencilType(),
        boundary_type=da.getBoundaryType(),
        comm=da.getComm(),
    )


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
            da = self._create_da(grid, None)
            petsc_choice = tuple(int(p) for p in da.getProcSizes())
            procs = process_grid(grid, nranks, petsc_choice)
            if procs != petsc_choice:
                da.destroy()
                da = self._create_da(grid, procs)
        except PETSc.Error:
            raise ValueError(
                f"grid of {grid.shape} cells cannot be split over {nranks} MPI ranks (every "
                "rank needs at least one cell along each split axis); use fewer ranks or more "
                "cells"
            ) from None
        self._adopt(da)

    def _create_da(self, grid: SpatialGrid, procs: tuple[int, ...] | None):
        return PETSc.DMDA().create(
            dim=grid.dim,
            dof=self.dof,
            sizes=grid.shape,
            proc_sizes=procs,
            stencil_width=1,
            stencil_type=PETSc.DMDA.StencilType.BOX,
            boundary_type=(PETSc.DM.BoundaryType.NONE,) * grid.dim,
            comm=self.comm,
        )

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
