"""Steady state: one residual-controlled implicit solve A psi = S per species.

Spectra span many decades (a proton LIS falls by ~1e11 between 1 GeV and 10 TeV; a
loss-steepened electron spectrum by more), while a Krylov stopping test looks at one norm
of the whole vector, dominated by the largest momenta's values.  So the system is solved in
scaled unknowns: psi = s_k chi with s_k, per momentum point, the largest local estimate
|S| / A_diag over the cells (gaps filled by log-interpolation), and the equations are divided
by the same s_k.  This is a diagonal similarity transform: the ILU factors are just rescaled,
but the stopping test then asks for the same relative accuracy at every momentum
(which takes a few more iterations than an unscaled solve to the same tolerance).
"""

from __future__ import annotations

import time

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from ..decomposition.dmda import coarsen_da
from ..operators.anisotropic_limited import (
    LimitedDiffusion,
    is_limited,
    limited_operator,
    record_summary,
)
from ..transport import SpeciesTransport
from .guess import GUESS_RTOL_FACTOR, scaled_guess
from .multigrid import GALERKIN_OPTION, MultigridSolver, coarsening_plan, galerkin_requested
from .petsc import (
    RETRY_RESIDUAL_FACTOR,
    LinearSolver,
    SolveInfo,
    SolverError,
    set_code_defaults,
)


def multigrid_levels(grid) -> int:
    """Levels of geometric multigrid the grid allows
    (:func:`~galprop_py.solvers.multigrid.coarsening_plan`: halve every axis while each has an
    odd number of cells and at least 3 remain; in 1D/2D a much finer axis alone first)."""
    return len(coarsening_plan(grid)) + 1


#: The multigrid defaults of the steady KSP (options prefix ``steady_``), used where the grid
#: allows at least 3 levels: FGMRES preconditioned by one V-cycle of geometric multigrid in
#: space (the DMDA coarsened, each coarse cell keeping all its momenta; coarse operators
#: rediscretised, :mod:`galprop_py.solvers.multigrid`, or Galerkin ones with
#: ``-steady_pc_mg_galerkin both``), one Richardson step of block-Jacobi/ILU(0) as smoother,
#: and 10 GMRES iterations with block-Jacobi/ILU(0) on the coarsest grid.  FGMRES because
#: that coarse solve makes the preconditioner vary from one application to the next.
MULTIGRID_OPTIONS = {
    "mg_levels_ksp_type": "richardson",
    "mg_levels_ksp_max_it": 1,
    "mg_levels_pc_type": "bjacobi",
    "mg_coarse_ksp_type": "gmres",
    "mg_coarse_ksp_max_it": 10,
    "mg_coarse_ksp_norm_type": "preconditioned",  # GMRES's own (left preconditioning)
    "mg_coarse_pc_type": "bjacobi",
}

#: 3D: the same V-cycle with a fixed coarse solve (5 Richardson steps of block-Jacobi/ILU(0),
#: no convergence test), so that the preconditioner is one linear operator and BiCGStab
#: (about 8 vectors) can take it in place of FGMRES (two vectors per iteration).  81 x 81 x 41
#: x 32 protons, 2 loaded ranks: 4 BiCGStab iterations, solve 4.6 s CPU, peak 2.3 GB per rank,
#: against BiCGStab + block-Jacobi/ILU(0) 53 iterations, 11.7 s, 2.0 GB and FGMRES + multigrid
#: 7 iterations, 6.4 s, 3.3 GB.  In 2D the fixed coarse solve cost as much and left the full
#: network's spectra 1.2e-5 from a tight solve (5e-6 with GMRES on the coarse grid).
#: The level smoother is one step of (processor-local symmetric) SOR, which needs no factor:
#: the ILU(0) factor of the fine level is as large as its matrix.  Measured on 2 ranks (same
#: conditions, ILU(0) -> SOR): those protons 4 -> 8 iterations, solve 7.7 -> 8.5 s, peak 2.31 ->
#: 1.77 GB per rank; examples/milky_way_3d (selling scheme) 152 -> 168 s, 10.9 -> 7.7 GB.
#: The SOR steps are taken by :class:`~galprop_py.solvers.smoothing.SmoothingStep` (the same
#: iterates as Richardson + SOR, one work vector instead of two and no per-call vector in
#: MatSOR): those protons peak 1769 -> 1518 MB per rank with the lean solve (issue 7).
MULTIGRID_3D_OPTIONS = MULTIGRID_OPTIONS | {
    "mg_levels_ksp_type": "python",
    "mg_levels_ksp_python_type": "galprop_py.solvers.smoothing.SmoothingStep",
    "mg_levels_pc_type": "sor",
    "mg_coarse_ksp_type": "richardson",
    "mg_coarse_ksp_max_it": 5,
    "mg_coarse_ksp_norm_type": "none",
}


#: Krylov iterations allowed to a multigrid-preconditioned steady solve (``-steady_ksp_max_it``)
MULTIGRID_MAX_IT = 1000

#: relative residual of a multigrid-preconditioned steady solve (``-steady_ksp_rtol``).  With
#: semi-coarsening (:mod:`galprop_py.solvers.multigrid`, threshold 1/2, session 12, before the
#: initial guesses of :mod:`galprop_py.solvers.guess`) the full-network example (default
#: galaxy, 81 species, 2 ranks) converges in 553 iterations at 1e-6, but its local spectra
#: (above 1e-8 of each maximum) are then up to 8.9e-5 from a 1e-11 solve (median 1.4e-5);
#: at 1e-7: 675 iterations, 30.2 instead of 28.8 s, up to 1.6e-5 (median 1.9e-6), closer than
#: the former path (full coarsening, z split at the disc: 1627 iterations, 44.4 s, up to 5.0e-5)
MULTIGRID_RTOL = 1e-7

#: FGMRES restart of the 2D multigrid solve (``-steady_ksp_gmres_restart``): nuclei converge
#: in 5-10 iterations, so PETSc's 30 mostly keeps 60 vectors of the fine grid for nothing.
#: Full-network example (default galaxy, rtol 1e-7): 1 rank 38.4 -> 35.1 s, 1021 -> 984 MiB
#: peak (restart 5: 35.2 s, 960 MiB; 15: 35.8 s, 1007 MiB); 2 ranks 22.7 -> 20.6 s, 659 ->
#: 645 MiB, 670 -> 630 iterations (the antiprotons' first sweep 45 before and after)
MULTIGRID_RESTART = 10


def _coarsenable(decomp, levels: int) -> int:
    """How many of ``levels`` the DMDA's partition allows: PETSc refuses a coarse grid with
    too few cells for the ranks along an axis (a 17-cell slab on 4 ranks stops at 5 cells)."""
    made, cur = [], decomp.da
    try:
        for factors in coarsening_plan(decomp.grid)[: levels - 1]:
            cur = coarsen_da(cur, factors)
            made.append(cur)
    except (PETSc.Error, ValueError):
        pass
    for c in made:
        c.destroy()
    return len(made) + 1


def steady_solver(comm, decomp=None, rediscretise: bool = True) -> LinearSolver:
    """The steady-state KSP (prefix ``steady_``), stopped when the true (unpreconditioned)
    residual of the momentum-scaled system falls by 1e-6 (1e-7 with multigrid:
    :data:`MULTIGRID_RTOL`).

    With ``decomp`` (grids that coarsen to at least 3 levels): geometric multigrid, FGMRES
    in 1D/2D (:data:`MULTIGRID_OPTIONS`), BiCGStab with a fixed coarse solve in 3D
    (:data:`MULTIGRID_3D_OPTIONS`), whose coarse operators are rediscretised
    (:class:`~galprop_py.solvers.multigrid.MultigridSolver`; pass the transport to
    :func:`scaled_solve`) unless ``rediscretise`` is False or ``-steady_pc_mg_galerkin``
    asks for Galerkin ones (then 1D/2D only: in 3D the Galerkin coarse operators,
    27-point stencils times the momentum couplings, took the 81 x 81 x 41 x 32 proton case
    to 7.3 GB per rank and 40 s on 2 ranks, BiCGStab 2.3 GB, 15.5 s); otherwise BiCGStab +
    block-Jacobi/ILU(0) (``-steady_pc_type bjacobi``).  Galerkin multigrid: 5 iterations
    for any nucleus of the full-network example on one rank, 8 on two, against 40-54 for
    BiCGStab.
    Measured on the default model with BiCGStab: the local spectra agree with a 1e-13 solve
    to 3e-5 at every energy on 1 and 2 ranks (the preconditioned norm needs 41 iterations
    for 3e-6; without the scaling, rtol 1e-8 left errors of 1e-4 in the tails); with
    multigrid the full network's (Z <= 8) agree with a 1e-11 solve to 2.4e-7.  Every option
    can be changed with ``-steady_...`` on the command line."""
    # a nonzero guess is used when given (the previous sweep of a production cycle); the
    # stopping test stays relative to |b|, so a good guess only saves iterations
    defaults = {
        "ksp_rtol": 1e-6,
        "ksp_norm_type": "unpreconditioned",
        "ksp_initial_guess_nonzero": True,
    }
    if decomp is None:
        return LinearSolver(comm, "steady_", defaults)
    levels = _coarsenable(decomp, multigrid_levels(decomp.grid))
    galerkin = galerkin_requested() or not rediscretise
    three_d = decomp.grid.dim > 2
    if levels < 3 or (three_d and galerkin):
        return LinearSolver(comm, "steady_", defaults, dm=decomp.da)
    # the levels' options are read when PCMG is set up, so they live in the database
    set_code_defaults("steady_", MULTIGRID_3D_OPTIONS if three_d else MULTIGRID_OPTIONS)
    ksp_type = "bcgs" if three_d else "fgmres"
    # multigrid takes 5-50 iterations; a solve that needs 1000 is failing: stop it with
    # the solver's one-line error (after the left-preconditioned retry) instead of running
    # through PETSc's 20000 for minutes
    defaults |= {
        "ksp_type": ksp_type,
        "pc_type": "mg",
        "pc_mg_levels": levels,
        "ksp_max_it": MULTIGRID_MAX_IT,
        "ksp_rtol": MULTIGRID_RTOL,
    }
    if not three_d:
        defaults["ksp_gmres_restart"] = MULTIGRID_RESTART
    if not galerkin:
        return MultigridSolver(comm, decomp, defaults, levels)
    # Galerkin coarse operators, asked for only while this KSP reads its options (a
    # persistent database entry would read as the user's choice in later solvers)
    opts = PETSc.Options()
    added = not opts.hasName(GALERKIN_OPTION)
    if added:
        opts.setValue(GALERKIN_OPTION, "both")
    try:
        return LinearSolver(comm, "steady_", defaults, dm=decomp.da)
    finally:
        if added:
            opts.delValue(GALERKIN_OPTION)


#: smallest scale relative to the largest (:func:`momentum_scaling`)
SCALE_RANGE = 1e-12


def momentum_scaling(decomp, rhs: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """Scale s_k of the solution at momentum point k (same on every rank)."""
    dof = rhs.shape[-1]
    est = _local_estimate(rhs.reshape(-1, dof), diag.reshape(-1, dof))
    glob = np.empty_like(est)
    decomp.comm.tompi4py().Allreduce(est, glob, op=MPI.MAX)
    k = np.arange(glob.size)
    ok = glob > 1e-300 * max(glob.max(), 1e-300)
    if not ok.any():
        return np.ones_like(glob)
    scale = np.exp(np.interp(k, k[ok], np.log(glob[ok])))
    # a source that vanishes at some momenta (secondary leptons below the pion threshold)
    # does not make the density vanish there (cooled particles arrive): bound the range of
    # the scale so that the scaled system stays well conditioned
    return np.maximum(scale, SCALE_RANGE * scale.max())


#: rows (cells) per block of :func:`_local_estimate`
_ESTIMATE_ROWS = 1 << 13


def _local_estimate(rhs: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """max over the rows of |rhs| / max(|diag|, 1e-300) per column, a block of rows at a time
    (no temporaries of the arrays' size; the same numbers: a maximum is exact)."""
    est = np.zeros(rhs.shape[1])
    for r0 in range(0, rhs.shape[0], _ESTIMATE_ROWS):
        r = np.abs(rhs[r0 : r0 + _ESTIMATE_ROWS])
        r /= np.maximum(np.abs(diag[r0 : r0 + _ESTIMATE_ROWS]), 1e-300)
        np.maximum(est, r.max(axis=0), out=est)
    return est


def scaled_solve(
    dec,
    solver: LinearSolver,
    mat: PETSc.Mat,
    diag: np.ndarray,
    rhs: np.ndarray,
    x,
    what: str,
    transport: SpeciesTransport | None = None,
) -> SolveInfo:
    """Solve ``mat x = rhs`` in momentum-scaled unknowns (module docstring): psi = s chi with
    s from :func:`momentum_scaling` of ``rhs`` and the matrix diagonal ``diag`` (rank-local
    arrays).  ``x`` holds the initial guess (used if the solver takes one) and the solution;
    the matrix is left as it was.  ``transport`` (whose matrix ``mat`` is) lets a
    :class:`~galprop_py.solvers.multigrid.MultigridSolver` rediscretise it on its coarse
    grids (without it, it uses Galerkin coarse operators); its time is ``setup_s``."""
    scale = momentum_scaling(dec, rhs, diag)
    b = _scaled_rhs(dec, rhs, scale)
    return _solve_scaled(dec, solver, mat, scale, b, x, what, transport)


def _scaled_rhs(dec, rhs: np.ndarray, scale: np.ndarray) -> PETSc.Vec:
    """The right-hand side rhs / s of the scaled system as a new Vec."""
    b = dec.create_vec()
    with dec.writable(b) as arr:
        np.divide(rhs, scale, out=arr)
    return b


def _scale_matrix(dec, mat: PETSc.Mat, left: np.ndarray, right: np.ndarray, work=None) -> None:
    """mat <- diag(left) mat diag(right) for per-momentum factors.  With ``work`` (a Vec of
    the grid whose values are no longer needed) the rows and then the columns are scaled
    through it (no new vector; the same numbers: PETSc scales rows, then columns, in one
    pass too), otherwise through two new vectors in one pass."""
    if work is not None:
        with dec.writable(work) as a:
            a[...] = left
        mat.diagonalScale(work, None)
        with dec.writable(work) as a:
            a[...] = right
        mat.diagonalScale(None, work)
        return
    lvec, rvec = dec.create_vec(), dec.create_vec()
    with dec.writable(lvec) as a:
        a[...] = left
    with dec.writable(rvec) as a:
        a[...] = right
    mat.diagonalScale(lvec, rvec)
    lvec.destroy()
    rvec.destroy()


class SelfCoupled:
    """Shell operator ``y = A x - T x`` of a species that feeds itself (tertiary
    antiprotons), in the solve's momentum-scaled unknowns: ``A`` the assembled (scaled)
    matrix, ``T`` the cell-local production of the species from its own density
    (``apply``, on unscaled rank-local arrays: x = chi s, T_scaled chi = T(s chi) / s).
    The Krylov method iterates on A - T, preconditioned by A's multigrid: one solve in
    place of a fixed-point iteration of solves on the production (network solver)."""

    def __init__(self, dec, mat: PETSc.Mat, apply, scale: np.ndarray):
        self.dec, self.mat, self.apply, self.scale = dec, mat, apply, scale

    def mult(self, _shell, x: PETSc.Vec, y: PETSc.Vec) -> None:
        self.mat.mult(x, y)
        q = self.apply(self.dec.local_array(x) * self.scale)
        q /= self.scale
        with self.dec.writable(y) as arr:
            arr -= q

    @classmethod
    def shell(cls, dec, mat: PETSc.Mat, apply, scale: np.ndarray) -> PETSc.Mat:
        op = PETSc.Mat().createPython(mat.getSizes(), cls(dec, mat, apply, scale), mat.getComm())
        op.setUp()
        return op


def _solve_scaled(
    dec, solver, mat, scale, b, x, what, transport, self_coupling=None, restore=True
) -> SolveInfo:
    """:func:`scaled_solve` from the scaled right-hand side ``b`` (a Vec, destroyed here).
    No scaling vector lives during the iterations (the memory peak of a 3D solve): the
    matrix is scaled through two new vectors before, and unscaled through ``b`` after; the
    factors are those of the former kept vectors (1/s, then their reciprocals), bit for
    bit."""
    inv = 1.0 / scale
    _scale_matrix(dec, mat, inv, scale)
    with dec.writable(x) as a:
        a *= inv  # the guess in scaled unknowns
    # undo the scaling of the cached operator afterwards (time stepping may reuse it)
    undo = (dec, mat, 1.0 / inv, 1.0 / scale)
    shell = None if self_coupling is None else SelfCoupled.shell(dec, mat, self_coupling, scale)
    ksp_type = solver.ksp.getType()
    if shell is not None and ksp_type == "bcgs":
        # right-preconditioned BiCGStab on the shell A - T stopped "converged" with a true
        # residual of 26 |b| (tests/test_antiparticle_network.py, 11 x 9 cells, block-Jacobi;
        # cause not found); flexible BiCGStab, which does not unwind the preconditioner
        # at the end, reaches the residual it reports
        solver.ksp.setType(SELF_COUPLED_BCGS)
    try:
        t0 = time.perf_counter()
        if transport is not None and isinstance(solver, MultigridSolver):
            solver.prepare_levels(transport, scale, mat)
        solver.set_operator(mat, shell)
        t1 = time.perf_counter()
        info = solver.solve(b, x, what=what)
        info.setup_s, info.solve_s = t1 - t0, time.perf_counter() - t1
        if shell is not None:
            _check_true_residual(shell, b, x, solver, info, what)
    except BaseException:
        _scale_matrix(*undo)  # b may still be locked by the interrupted solve
        b.destroy()
        raise
    finally:
        if shell is not None:
            solver.ksp.setOperators(mat, mat)  # later solves with this solver see A alone
            shell.destroy()
            solver.ksp.setType(ksp_type)
    if restore or transport is None or not transport.forget_pooled_matrix():
        _scale_matrix(*undo, work=b)
    b.destroy()
    with dec.writable(x) as a:
        a *= 1.0 / inv
    return info


#: the Krylov method of a self-coupled solve (:class:`SelfCoupled`) whose solver is BiCGStab
SELF_COUPLED_BCGS = "fbcgs"


def _check_true_residual(shell, b, x, solver, info, what) -> None:
    """Stop with a one-line error when a self-coupled solve's true residual |b - (A - T) x|
    is above :data:`~galprop_py.solvers.petsc.RETRY_RESIDUAL_FACTOR` times the tolerance
    (what the Krylov method reports is its recurrence; one product of the shell)."""
    r = b.duplicate()
    shell.mult(x, r)
    r.aypx(-1.0, b)
    true = r.norm() / max(b.norm(), 1e-300)
    r.destroy()
    rtol = solver.ksp.getTolerances()[0]
    if true > RETRY_RESIDUAL_FACTOR * rtol:
        raise SolverError(
            f"{what}: {solver.ksp.getType()} reported a relative residual of "
            f"{info.relative_residual:.2e} but the true one is {true:.2e}; try "
            f"-{solver.prefix}ksp_type fgmres"
        )


def _solve_scale(transport: SpeciesTransport, source: np.ndarray, self_coupling) -> np.ndarray:
    """The solve's :func:`momentum_scaling`, estimated from the source and, for a species
    that feeds itself, also from what the local estimate |S| / A_diag makes (its
    tertiaries: below the production threshold the secondary source vanishes, while the
    density there is the tertiaries', up to 1e12 above the scale floor a zero source
    gives)."""
    diag = transport.diagonal()
    if self_coupling is not None:
        made = self_coupling(np.abs(source) / np.maximum(np.abs(diag), 1e-300))
        source = np.abs(source) + np.abs(made)
    return momentum_scaling(transport.decomp, source, diag)


def solve_steady(
    transport: SpeciesTransport,
    solver: LinearSolver | None = None,
    extra_source=None,
    own_source: bool = True,
    guess: np.ndarray | None = None,
    limiter=None,
    template: np.ndarray | None = None,
    self_coupling=None,
    last_use: bool = False,
) -> tuple[PETSc.Vec, SolveInfo]:
    """Steady-state density of one species.

    ``extra_source`` (rank-local array) is added to the species' own source (left out with
    ``own_source=False``), e.g. secondary production from already-solved parents; ``guess``
    (rank-local array) starts the iteration (zero without); without it, ``template`` (a list
    of other species' solutions) gives a :func:`scaled_guess`, whose solve then stops at
    :data:`GUESS_RTOL_FACTOR` times the solver's rtol.

    ``self_coupling`` (``psi -> q`` on rank-local arrays, cell-local and linear: the
    species' production from its own density) is solved with the operator, A psi - T psi
    = S (:class:`SelfCoupled`), instead of being iterated as a source by the caller.

    ``last_use``: nothing uses the transport's matrix after this solve (the network's last
    solve of a species): a pool's matrix is then left in the solve's scaling and forgotten
    by the transport (a later ``matrix()`` refills it), which saves unscaling it (one
    ``diagonalScale`` of the fine matrix per species; 0.45 s per rank for the full network).

    With ``diffusion.scheme = "limited"`` the nonlinear limited operator is solved by Picard
    iterations (:class:`~galprop_py.operators.anisotropic_limited.LimitedDiffusion`) whose
    linear steps use ``solver`` (its type and preconditioner; the tolerance is the Picard
    loop's): ``limiter`` is that operator (kept across source groups by the caller) or its
    :class:`~galprop_py.operators.anisotropic_limited.LimiterOptions` (default ones
    without); the returned info counts the Krylov iterations of all Picard steps.
    """
    dec = transport.decomp
    if self_coupling is not None and is_limited(transport):
        raise ValueError(
            "diffusion.scheme = 'limited' cannot solve a species that feeds itself "
            f"({transport.species.name}) with that production in its operator; iterate it "
            "as a source instead (solvers.network does)"
        )
    own = solver is None
    solver = solver or steady_solver(dec.comm)
    source = transport.source() if own_source else np.zeros(dec.box.c_shape + (dec.dof,))
    if extra_source is not None:
        source = source + extra_source
    x = dec.create_vec()
    tighter = False
    # the scale of the solve (not used by the limited scheme's Picard steps)
    scale = None if is_limited(transport) else _solve_scale(transport, source, self_coupling)
    if guess is None and template and not is_limited(transport):
        guess, _ = scaled_guess(transport, source, template, self_coupling, scale)
        tighter = guess is not None
    if guess is None:
        x.set(0.0)
    else:
        with dec.writable(x) as arr:
            arr[...] = guess
    what = f"steady state of species {transport.species.name}"
    if is_limited(transport):
        info = _solve_limited(transport, solver, limiter, source, x, what)
    else:
        tolerances = solver.ksp.getTolerances()
        if tighter:
            solver.ksp.setTolerances(rtol=GUESS_RTOL_FACTOR * tolerances[0])
        # the scaled right-hand side as a Vec, then the source arrays are dropped: they are
        # not held during the iterations (the memory peak of a 3D solve)
        mat = transport.matrix()
        b = _scaled_rhs(dec, source, scale)
        del source, extra_source, guess
        try:
            info = _solve_scaled(
                dec, solver, mat, scale, b, x, what, transport, self_coupling, not last_use
            )
        finally:
            if tighter:
                solver.ksp.setTolerances(rtol=tolerances[0])
    if own:
        solver.destroy()
    return x, info


def _solve_limited(transport, solver, limiter, source, x, what) -> SolveInfo:
    """Picard solve of the limited scheme (:func:`solve_steady`)."""
    op = limiter if isinstance(limiter, LimitedDiffusion) else None
    own_op = op is None
    if own_op:
        op = limited_operator(transport, solver, limiter)
    krylov0, t0 = op.stats.linear_iterations, time.perf_counter()
    try:
        op.solve(source, x, what=what)
        if own_op:
            record_summary(transport, op)
    finally:
        if own_op:
            op.destroy()
    rhs_norm = float(np.sqrt(transport.decomp.comm.tompi4py().allreduce(np.sum(source**2))))
    return SolveInfo(
        iterations=op.stats.linear_iterations - krylov0,
        residual_norm=op.stats.last_residual * rhs_norm,
        rhs_norm=rhs_norm,
        reason="PICARD_CONVERGED",
        reason_code=1,
        solve_s=time.perf_counter() - t0,
    )
