"""Geometric multigrid for the steady solve with coarse operators rediscretised on coarse grids.

The steady KSP (prefix ``steady_``; FGMRES in 1D/2D, BiCGStab with a fixed coarse solve in
3D: :func:`~galprop_py.solvers.steady.steady_solver`) is preconditioned by one V-cycle of
geometric multigrid in space: the DMDA is coarsened (``da.coarsen()``: vertex-based, coarse point j
sits on fine point 2j, n_c = (n - 1) / 2 + 1, the rank ranges stay nested; in 1D/2D a much
finer axis alone, below), every coarse
cell keeps all its momenta, interpolation P is the DMDA's (multi)linear one and restriction
is P^T.  Instead of Galerkin operators P^T A P (one sparse triple product per species and
level, and in 3D 27-point coarse stencils times the momentum couplings: 7.3 GB per rank for
81 x 81 x 41 x 32), each coarse operator is the same species' transport operator assembled
again on a coarse grid (:class:`~galprop_py.transport.SpeciesTransport` with the species'
coefficients, which are functions of position times momentum arrays, on a coarse
:class:`~galprop_py.decomposition.Decomposition`): the same stencil, about 1/2^d of the
previous level's cost and memory, refilled in place per species (:class:`~galprop_py.
operators.stencil.MatrixPool`, so the ILU symbolic set-up of each level is kept).

Semi-coarsening (:func:`coarsening_plan`, 1D/2D).  The default galaxy's z cells are sinh-
spaced, 36 pc at the disc against 0.49 kpc in r: there the z coupling of a row is ~190 times
the radial one, and halving both axes leaves the smoother (ILU(0), r the faster index) a
coarse-grid correction that misses what the disc's z coupling needs.  So an axis whose
narrowest cell is at most a quarter (:data:`SEMI_COARSENING`) of the widest of the axes'
narrowest cells is halved alone (:func:`~galprop_py.decomposition.dmda.coarsen_da` with
factor 1 on the others): 41 x 81 -> 41 x 41 -> 41 x 21 -> 21 x 11 -> 11 x 6.  Measured on the
default model (Z <= 8, leptons, antiprotons; emission off; 2 ranks, with the process grid of
:mod:`galprop_py.decomposition.dmda` split in r), with a threshold of 1/2 then: nuclei 7-12
-> 5-7 iterations, electrons 37 -> 11, positrons 15 -> 5; all species 461 -> 185
iterations, whole process 13.6 -> 11.5 s (with the antiprotons' Galerkin local couplings
below).  PETSc's split in z and full coarsening, the state before: 531 iterations, 16.8 s.
Threshold 1/2 against 1/4 (1/2: 41 x 81 -> 41 x 41 -> 41 x 21 -> 41 x 11 -> 21 x 6, the fourth
level twice and the coarsest 4 times as large as with 1/4), full-network
example on 2 ranks, session 15: 527 -> 478 iterations, solve 15.9 -> 14.1 s, local spectra
9.9e-6 -> 6.5e-6 from a 1e-11 solve.  (Session 12 kept 1/2 because the lepton of
tests/test_multigrid.py was then 1.004e-5 from its tight solve at one momentum; that
momentum's density is 2.5e-14 of the largest, below the floor of the solve's momentum
scale, :data:`~galprop_py.solvers.steady.SCALE_RANGE`, which resolves nothing that small;
above it the error is 4.6e-7.)  A V-cycle on such a hierarchy costs up to 2 fine smoothings
instead of 4/3.  3D grids keep full coarsening (not measured with semi-coarsening).

Coarse grid (:func:`coarsened_grid`): coarse cell j has its node on fine centre 2j, its
edges are ``[fine edge 0, fine centre 1, fine centre 3, ..., fine centre n-2, fine edge n]``,
so the coarse cells tile the same domain with the same boundary kinds and radial power.
The two boundary cells are 1.5 fine cells wide; their node stays on the fine boundary
node (``Axis.nodes``), where the interpolation puts it: with nodes at the cell midpoints
the coarse boundary rows differed from the Galerkin ones by 40% for every n (a smooth
vector, tests/test_multigrid.py), with the fine nodes by 6.9%, 4.2%, 2.3%, 1.2% for
n = 9, 17, 33, 65 (first order), and a 2D test problem took 7 instead of 8 iterations.

Scaling.  A fine row is a per-volume balance (a density rate), and the restriction P^T sums
about 2^d fine residuals into a coarse one, so for smooth u, P^T A P u ~ diag(P^T 1) A_c u
(A_c the rediscretised operator).  Level l's rows are therefore multiplied by the row sums
of the composite restriction, w_l = P_{l+1}^T w_{l+1}, w_fine = 1
(tests/test_multigrid.py compares this with the Galerkin operator on smooth vectors).  The
steady solve's momentum scaling diag(1/s) A diag(s) (:func:`~galprop_py.solvers.steady.
scaled_solve`; s depends only on momentum, which P does not mix) is applied to every level.

Cell-local operators (continuous losses, catastrophic losses, momentum diffusion:
:data:`LOCAL_OPERATORS`) couple only the momenta of one cell, with coefficients that vary in
space.  Sampled at the coarse nodes they misrepresent what the restriction collects from
the fine cells wherever the coefficient changes over a coarse cell (a thin gas disc under
72-290 pc coarse cells: the coarse rows of a nucleus's losses missed the Galerkin ones by
O(1), tests/test_multigrid.py).  So:

* nuclei: the local terms are evaluated at the coarse nodes like the rest.  Restriction
  averages of each term's profile ((R_l b) / (R_l 1), whose coarse rows sum exactly to the
  Galerkin ones) converged the same for nuclei but took the default model's first antiproton
  sweep past 1000 iterations (79 with node samples): not used.  Galerkin local couplings
  (below) take the default model's nuclei from 5-7 to 3-4 iterations but cost more set-up
  than they save (whole process 13.3 s instead of 11.5 s on 2 ranks);
* leptons and antiprotons: the local operators are coarsened by Galerkin, term by term
  (antiprotons: the default model's 8 sweeps 185 -> 59 iterations with semi-coarsening, whose
  first sweep took 130 with node samples); a term b(x) L(p)
  becomes (R_l diag(b) R_l^T) (x) L, a 3^d-point spatial stencil (a scalar triple product
  on a one-unknown-per-cell DMDA) times the term's momentum stencil
  (:meth:`LevelHierarchy.local_couplings`, ``StencilSystem.coupled``), exactly P^T A_local P.
  Their synchrotron and inverse-Compton losses dominate diffusion on the coarse cells of
  the halo and change size and momentum shape across it; with restriction averages
  (lumped) the default model's electrons took 82 iterations, with node samples 143, with
  Galerkin local couplings 11, as with P^T A P everywhere (1 rank).  Lumping only the
  spatial spread of the momentum bands gave 298, only that of the diagonal 82: the full
  Kronecker structure is needed.  Nuclei keep 5-point instead of 45-point coarse rows in
  2D and converge as with Galerkin operators (8-9 iterations).

The rest of each coarse operator (diffusion, wind, adiabatic term) is rediscretised.  A
coarse level whose matrix object changes (another stencil pattern: a lepton after the
nuclei) resets PCMG, which otherwise kept the previous level matrices for its residuals
(the full-network example's electrons: 32 instead of 10 iterations).

A solve that does not hand over its transport (:meth:`MultigridSolver.prepare_levels`
before :meth:`~MultigridSolver.set_operator`) gets Galerkin coarse operators P^T A P
computed from the matrix it set (tests/test_multigrid.py).  Runs and the fit's
sensitivities hand over the transport; the limited scheme uses the plain Galerkin solver
instead (``rediscretise=False``: :func:`~galprop_py.solvers.network.solve_network`), as does
``-steady_pc_mg_galerkin both`` on the command line.

Units: none of its own (the operators' internal units, :mod:`galprop_py.units`).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools

import numpy as np
from petsc4py import PETSc

from ..decomposition import Decomposition
from ..decomposition.dmda import coarsen_da
from ..grid import Axis, SpatialGrid
from ..operators.base import SeparableField, SpeciesCoefficients
from ..operators.stencil import MatrixPool, StencilSystem
from ..transport import SpeciesTransport
from .petsc import LinearSolver
from .smoothing import SmoothingStep

GALERKIN_OPTION = "steady_pc_mg_galerkin"

#: the operators that act within a cell (no spatial coupling) and their coefficient fields,
#: which for leptons are coarsened by Galerkin (module docstring)
LOCAL_OPERATORS = {
    "energy_losses": "energy_loss",
    "catastrophic": "catastrophic",
    "reacceleration": "momentum_diffusion",
}


def galerkin_local_operators(coeffs: SpeciesCoefficients) -> bool:
    """Whether the species' cell-local operators get Galerkin coarse couplings (leptons,
    antiprotons) or are evaluated at the coarse nodes (nuclei): module docstring."""
    return coeffs.species.is_lepton or coeffs.species.charge < 0


def coarsened_axis(ax: Axis) -> Axis:
    """The axis of (n - 1) / 2 + 1 cells whose cell j is centred on fine centre 2j (module
    docstring); ``ax.n`` must be odd and at least 3."""
    n = ax.n
    if n % 2 == 0 or n < 3:
        raise ValueError(f"axis {ax.name}: {n} cells cannot be coarsened (odd, >= 3 needed)")
    edges = np.concatenate([[ax.edges[0]], ax.centers[1:-1:2], [ax.edges[-1]]])
    return Axis(ax.name, edges, ax.lower, ax.upper, ax.radial_power, nodes=ax.centers[::2])


def coarsened_grid(grid: SpatialGrid, factors: tuple[int, ...] | None = None) -> SpatialGrid:
    """The grid of :func:`~galprop_py.decomposition.dmda.coarsen_da` of the grid's DMDA by
    ``factors`` (2: coarsened, 1: kept; default every axis coarsened, ``da.coarsen()``)."""
    factors = factors or (2,) * grid.dim
    axes = [coarsened_axis(ax) if f == 2 else ax for ax, f in zip(grid.axes, factors, strict=True)]
    return SpatialGrid(grid.geometry, axes)


#: semi-coarsening (1D/2D): an axis whose narrowest cell is at most this fraction of the
#: widest of the axes' narrowest cells is coarsened alone (module docstring)
SEMI_COARSENING = 0.25


def _can_halve(ax: Axis) -> bool:
    return (ax.n - 1) % 2 == 0 and (ax.n - 1) // 2 + 1 >= 3


def coarsening_plan(grid: SpatialGrid) -> list[tuple[int, ...]]:
    """The coarsening steps of the multigrid hierarchy of ``grid``, finest first: per step the
    factor of each axis (2 coarsened, 1 kept).  Every axis is halved while all can be (odd
    number of cells, at least 3 left); in 1D and 2D an axis much finer than the others
    (:data:`SEMI_COARSENING`) is halved alone until it is not (module docstring)."""
    plan, level = [], grid
    while True:
        h = [float(np.min(np.diff(ax.edges))) for ax in level.axes]
        strong = [x <= SEMI_COARSENING * max(h) for x in h]
        if grid.dim <= 2 and any(strong):
            factors = tuple(2 if st else 1 for st in strong)
        else:
            factors = (2,) * grid.dim
        if not all(_can_halve(ax) for ax, f in zip(level.axes, factors, strict=True) if f == 2):
            return plan
        plan.append(factors)
        level = coarsened_grid(level, factors)


def _interpolations(das: list) -> list[PETSc.Mat | None]:
    """The DMDA interpolations from each of ``das`` (coarsest first) to the next: entry l maps
    level l - 1 to level l (None at l = 0)."""
    out: list[PETSc.Mat | None] = [None]
    for lo, hi in zip(das[:-1], das[1:], strict=True):
        mat, vec = lo.createInterpolation(hi)
        if vec is not None:
            vec.destroy()
        out.append(mat)
    return out


class LevelHierarchy:
    """Coarse decompositions, interpolations, row weights and matrix pools of ``levels``
    multigrid levels on ``decomp`` (index 0 coarsest, ``levels - 1`` the fine grid)."""

    def __init__(self, decomp: Decomposition, levels: int):
        if levels < 2:
            raise ValueError(f"multigrid needs at least 2 levels, got {levels}")
        # finest step first; levels past the plan (asked for explicitly) halve every axis
        # while the DMDA allows it
        plan = coarsening_plan(decomp.grid)
        plan += [(2,) * decomp.grid.dim] * (levels - 1 - len(plan))
        self.plan = plan[: levels - 1]
        self.decomps = [decomp]
        self._own_das = []
        for factors in self.plan:
            fine = self.decomps[0]
            da = coarsen_da(fine.da, factors)
            self._own_das.append(da)
            self.decomps.insert(
                0, Decomposition(coarsened_grid(fine.grid, factors), fine.dof, da=da)
            )
        # interpolation[l] maps level l - 1 to level l (None at l = 0)
        self.interpolation = _interpolations([d.da for d in self.decomps])
        # row weights of the composite restriction (1 on the fine grid), per cell: the same
        # for every momentum (the interpolation acts on each momentum alike), so stored with
        # a momentum axis of length 1
        self.weights: list[np.ndarray] = [None] * levels
        w = decomp.create_vec()
        w.set(1.0)
        self.weights[-1] = np.ones(decomp.box.c_shape + (1,))
        for lvl in range(levels - 1, 0, -1):
            wc = self.decomps[lvl - 1].create_vec()
            self.interpolation[lvl].multTranspose(w, wc)
            self.weights[lvl - 1] = self.decomps[lvl - 1].local_array(wc)[..., :1].copy()
            w.destroy()
            w = wc
        w.destroy()
        self.pools = [MatrixPool(d) for d in self.decomps[:-1]]
        self._for = None  # the transport whose coarse operators the pools hold
        self._scale: np.ndarray | None = None  # the momentum scaling applied to them
        # the scalar (one unknown per cell) hierarchy of the Galerkin cell-local couplings,
        # made when a species first needs it
        self._scalar_das: list[PETSc.DMDA] = []
        self._scalar_interp: list[PETSc.Mat | None] = []

    def _scalar_hierarchy(self) -> None:
        if self._scalar_das:
            return
        das = [self.decomps[-1].da.duplicate(dof=1)]
        for factors in self.plan:
            das.insert(0, coarsen_da(das[0], factors))
        self._scalar_das = das
        self._scalar_interp = _interpolations(das)

    @property
    def levels(self) -> int:
        return len(self.decomps)

    def coarse_transport(
        self, transport: SpeciesTransport, level: int, local: dict | None = None
    ) -> SpeciesTransport:
        """The species' transport on coarse ``level`` (matrix from that level's pool), its
        coefficients evaluated at the coarse nodes; with ``local`` (that level's entry of
        :meth:`local_couplings`) the cell-local operators are those Galerkin couplings."""
        ops = []
        for op in transport.operators:
            if local is not None and op.name in LOCAL_OPERATORS:
                continue  # added below as Galerkin couplings
            op = copy.copy(op)
            if hasattr(op, "_warned"):  # the fine grid's assembly reports the diffusion
                op._warned = True
            ops.append(op)
        tr = SpeciesTransport(
            self.decomps[level], transport.coeffs, ops, pool=self.pools[level], keep_system=False
        )
        if local is not None:
            system = tr.system()
            for (offset, d), values in local.items():
                system.add_coupled(offset, d, values)
        return tr

    def local_couplings(self, transport: SpeciesTransport) -> list[dict]:
        """Per coarse level (coarsest first), the Galerkin couplings of the transport's
        cell-local operators as {(offset, momentum shift): values}: the sum over their terms
        of (R b R^T)(offset) / w times the term's momentum stencil (module docstring; divided
        by the row weight w, which the level's rows get afterwards)."""
        out = [{} for _ in range(self.levels - 1)]
        for op in transport.operators:
            name = LOCAL_OPERATORS.get(op.name)
            if name is None:
                continue
            for profile, spectrum in getattr(transport.coeffs, name).terms:
                stencil = self._momentum_stencil(op, transport.coeffs, name, spectrum)
                for level, coupling in enumerate(self._galerkin_profile(profile)):
                    w = self.weights[level][..., 0]
                    for offset, values in coupling.items():
                        cell = (values / w)[..., None]
                        for d, band in stencil.items():
                            key = (offset, d)
                            term = cell * band
                            if key in out[level]:
                                out[level][key] += term
                            else:
                                out[level][key] = term
        return out

    def _momentum_stencil(self, op, coeffs, name, spectrum) -> dict[int, np.ndarray]:
        """The momentum stencil (shift -> coefficients over momentum) of ``op`` for one term
        with a uniform profile: the local operators are linear in each term."""
        dec = self.decomps[0]
        one = dataclasses.replace(coeffs, **{name: SeparableField().add(None, spectrum)})
        system = StencilSystem(dec)
        op.assemble(system, one, dec)
        if system.spatial or system.coupled:
            raise RuntimeError(f"operator {op.name} is not cell-local")
        out = {0: system.diag.reshape(-1, dec.dof)[0].copy()}
        for d, band in system.p_band.items():
            row = band.reshape(-1, dec.dof)[0]
            if np.any(row):
                out[d] = row.copy()
        return out

    def _galerkin_profile(self, profile) -> list[dict[tuple[int, ...], np.ndarray]]:
        """Per coarse level (coarsest first), R_l diag(b) R_l^T of the fine profile b (None:
        uniform) as stencil values over the level's owned cells per spatial offset, R_l the
        composite restriction of one scalar field (the DMDA's interpolation transposed)."""
        fine = self.decomps[-1]
        coords = fine.local_centers()
        shape = np.broadcast_shapes(*map(np.shape, coords))
        if profile is None:
            values = np.ones(shape)
        else:
            values = np.broadcast_to(np.asarray(profile(coords), dtype=float), shape)
        self._scalar_hierarchy()
        v = self._scalar_das[-1].createGlobalVec()
        v.setArray(np.ascontiguousarray(values).reshape(-1))
        n = v.getLocalSize()
        mat = PETSc.Mat().createAIJ(
            size=((n, PETSc.DECIDE), (n, PETSc.DECIDE)), nnz=(1, 0), comm=fine.comm
        )
        mat.setDiagonal(v)
        mat.assemble()
        v.destroy()
        out = []
        for lvl in range(self.levels - 1, 0, -1):
            coarse = mat.ptap(self._scalar_interp[lvl])
            mat.destroy()
            mat = coarse
            out.insert(0, _stencil_values(mat, self.decomps[lvl - 1]))
        mat.destroy()
        return out

    def operators(self, transport: SpeciesTransport, scale: np.ndarray) -> list[PETSc.Mat]:
        """The coarse operators (coarsest first) of ``transport``, row-weighted and in the
        momentum scaling ``scale`` (diag(w / s) A_c diag(s)); assembled only for a new
        transport, otherwise rescaled in place."""
        scale = np.asarray(scale, dtype=float)
        if transport is not self._for:
            self._for, self._scale = None, None
            local = None
            if galerkin_local_operators(transport.coeffs):
                local = self.local_couplings(transport)
            for lvl in range(self.levels - 1):
                tr = self.coarse_transport(
                    transport, lvl, local=None if local is None else local[lvl]
                )
                tr.matrix()
                tr.destroy()  # the pool keeps the matrix
            self._for = transport
            left_factor, right_factor = 1.0 / scale, scale
            weighted = True
        else:
            left_factor, right_factor = self._scale / scale, scale / self._scale
            weighted = False
        mats = [pool.mat for pool in self.pools]
        for lvl, mat in enumerate(mats):
            dec = self.decomps[lvl]
            left, right = dec.create_vec(), dec.create_vec()
            with dec.writable(left) as a:
                a[...] = left_factor * (self.weights[lvl] if weighted else 1.0)
            with dec.writable(right) as a:
                a[...] = right_factor
            mat.diagonalScale(left, right)
            left.destroy()
            right.destroy()
        self._scale = scale.copy()
        return mats

    def forget(self) -> None:
        """Drop the link to the last transport (its coefficients may be freed)."""
        self._for, self._scale = None, None

    def destroy(self) -> None:
        for pool in self.pools:
            pool.destroy()
        for mat in self.interpolation:
            if mat is not None:
                mat.destroy()
        for da in self._own_das:
            da.destroy()
        for mat in self._scalar_interp:
            if mat is not None:
                mat.destroy()
        for da in self._scalar_das:
            da.destroy()
        self.pools, self.interpolation, self._own_das = [], [], []
        self._scalar_das, self._scalar_interp = [], []
        self._for = None


def _stencil_values(mat: PETSc.Mat, dec: Decomposition) -> dict[tuple[int, ...], np.ndarray]:
    """The owned rows of a scalar (one unknown per cell) matrix on ``dec``'s cells as stencil
    values per spatial offset in {-1, 0, 1}^dim (rank-local cell arrays); every entry of
    the matrix must lie on such an offset."""
    indptr, cols, vals = mat.getValuesCSR()
    nrows = indptr.size - 1
    big = int(mat.getSize()[1])
    rows = np.repeat(np.arange(nrows, dtype=np.int64), np.diff(indptr))
    keys = rows * big + cols.astype(np.int64)  # sorted: rows, then columns, ascending
    out = {}
    found_sum = np.zeros(nrows)
    for offset in itertools.product((-1, 0, 1), repeat=dec.grid.dim):
        blocks = np.asarray(dec.neighbour_blocks(offset), dtype=np.int64).reshape(-1)
        query = np.arange(nrows, dtype=np.int64) * big + blocks
        pos = np.minimum(np.searchsorted(keys, query), max(keys.size - 1, 0))
        hit = (blocks >= 0) & (keys.size > 0) & (keys[pos] == query)
        values = np.where(hit, vals[pos], 0.0)
        if np.any(values):
            out[offset] = values.reshape(dec.box.c_shape)
        found_sum += values
    total = np.add.reduceat(vals, indptr[:-1]) if vals.size else np.zeros(nrows)
    total[np.diff(indptr) == 0] = 0.0
    if not np.allclose(found_sum, total, rtol=1e-12, atol=1e-300):
        raise RuntimeError("Galerkin coarse coupling outside the 3^dim neighbourhood")
    return out


class MultigridSolver(LinearSolver):
    """The steady KSP with geometric multigrid whose coarse operators are rediscretised
    (module docstring).  ``defaults`` as for :class:`~galprop_py.solvers.petsc.LinearSolver`
    (``pc_type = "mg"``, ``pc_mg_levels``); a user's ``-steady_pc_type`` other than mg, or
    ``-steady_pc_mg_levels 1``, leaves a plain solver without the hierarchy."""

    def __init__(self, comm, decomp: Decomposition, defaults: dict, max_levels: int):
        super().__init__(comm, "steady_", defaults)
        pc = self.ksp.getPC()
        self.hierarchy: LevelHierarchy | None = None
        self._levels: list[PETSc.Mat] | None = None  # the operators handed to the levels
        self._armed = None  # the fine matrix prepare_levels was called for
        self._galerkin: list[PETSc.Mat] = []
        self._set_levels: list[PETSc.Mat] | None = None  # the level operators PCMG holds
        self._residuals: dict[int, PETSc.Vec] = {}  # PCMG's residual vectors per level
        if pc.getType() != "mg":
            return
        levels = pc.getMGLevels()
        if levels > max_levels:
            raise ValueError(
                f"-steady_pc_mg_levels = {levels}: the grid {decomp.grid.shape} on "
                f"{decomp.comm.getSize()} rank(s) allows at most {max_levels} levels"
            )
        if levels >= 2:
            self.hierarchy = LevelHierarchy(decomp, levels)
            self._set_interpolation()

    def _set_interpolation(self) -> None:
        pc = self.ksp.getPC()
        for lvl in range(1, self.hierarchy.levels):
            pc.setMGInterpolation(lvl, self.hierarchy.interpolation[lvl])

    def reset(self) -> None:
        super().reset()  # PCReset_MG drops the interpolations and level operators
        if self.hierarchy is not None:
            self._set_interpolation()

    def prepare_levels(self, transport: SpeciesTransport, scale: np.ndarray, mat) -> None:
        """Rediscretise ``transport`` on the coarse levels in the momentum scaling ``scale``
        for the next :meth:`set_operator` of ``mat`` (its fine matrix, already scaled)."""
        if self.hierarchy is None:
            return
        self._levels = self.hierarchy.operators(transport, scale)
        self._armed = mat

    def set_operator(self, mat: PETSc.Mat, amat: PETSc.Mat | None = None) -> None:
        levels = None
        if self.hierarchy is not None:
            if self._armed is not mat or self._levels is None:
                self._levels = self._galerkin_levels(mat)
            self._armed = None
            levels = list(self._levels)
        # new matrix objects on any level (a pool reallocated for another stencil pattern):
        # PCMG keeps its levels' residual operators until it is reset
        changed = mat is not self._mat or (
            levels is not None
            and self._set_levels is not None
            and any(a is not b for a, b in zip(levels, self._set_levels, strict=True))
        )
        if self._mat is not None and changed:
            self.reset()
        self._mat = mat
        self._set_levels = levels
        self.ksp.setOperators(mat if amat is None else amat, mat)
        if self.hierarchy is not None:
            pc = self.ksp.getPC()
            # PCMG smooths and takes residuals on the finest level with the KSP's operator by
            # default (useAmat): a shell ``amat`` stays with the Krylov method alone, and
            # would otherwise stay in the level's residual after the solve
            pc.setUseAmat(False)
            for lvl, a in enumerate(self._levels):
                pc.getMGSmoother(lvl).setOperators(a)
            pc.getMGSmoother(self.hierarchy.levels - 1).setOperators(mat)
            # PCMG's residual vectors, shared with the SmoothingStep smoothers
            for lvl in range(1, self.hierarchy.levels):
                pc.setMGR(lvl, self._residual(lvl))
        self.ksp.setUp()
        if self.hierarchy is not None:
            shared = pc.getMGType() == PETSc.PC.MGType.MULTIPLICATIVE
            for lvl in range(1, self.hierarchy.levels):
                smoother = pc.getMGSmoother(lvl)
                if smoother.getType() == "python":
                    ctx = smoother.getPythonContext()
                    if isinstance(ctx, SmoothingStep):
                        ctx.share(self._residual(lvl) if shared else None)

    def _residual(self, lvl: int) -> PETSc.Vec:
        """The residual vector of level ``lvl`` (made once per hierarchy)."""
        if lvl not in self._residuals:
            self._residuals[lvl] = self.hierarchy.decomps[lvl].create_vec()
        return self._residuals[lvl]

    def _galerkin_levels(self, mat: PETSc.Mat) -> list[PETSc.Mat]:
        """P^T A P on every coarse level (for a caller without its transport)."""
        for a in self._galerkin:
            a.destroy()
        self._galerkin = []
        fine = mat
        for lvl in range(self.hierarchy.levels - 1, 0, -1):
            fine = fine.ptap(self.hierarchy.interpolation[lvl])
            self._galerkin.insert(0, fine)
        self.hierarchy.forget()
        return list(self._galerkin)

    def destroy(self) -> None:
        super().destroy()
        for a in self._galerkin:
            a.destroy()
        self._galerkin = []
        for v in self._residuals.values():
            v.destroy()
        self._residuals = {}
        if self.hierarchy is not None:
            self.hierarchy.destroy()
            self.hierarchy = None


def galerkin_requested() -> bool:
    """Whether the options database asks for Galerkin coarse operators
    (``-steady_pc_mg_galerkin`` other than ``none``): the former multigrid path."""
    opts = PETSc.Options()
    if not opts.hasName(GALERKIN_OPTION):
        return False
    value = opts.getString(GALERKIN_OPTION, "")
    return value.lower() not in ("none", "false", "0", "no")
