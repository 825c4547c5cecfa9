"""Steady state: one residual-controlled implicit solve A psi = S per species."""

from __future__ import annotations

from petsc4py import PETSc

from ..transport import SpeciesTransport
from .petsc import LinearSolver, SolveInfo


def steady_solver(comm) -> LinearSolver:
    """The steady-state KSP (prefix ``steady_``): BiCGStab + block-Jacobi/ILU(0), stopped at
    a relative residual of 1e-8 (benchmarks/steady_performance.py measured the choices)."""
    return LinearSolver(comm, "steady_", {"ksp_rtol": "1e-8"})


def solve_steady(
    transport: SpeciesTransport, solver: LinearSolver | None = None, extra_source=None
) -> tuple[PETSc.Vec, SolveInfo]:
    """Steady-state density of one species.

    ``extra_source`` (rank-local array) is added to the species' own source, e.g. secondary
    production from already-solved parents.
    """
    dec = transport.decomp
    own = solver is None
    solver = solver or steady_solver(dec.comm)
    solver.set_operator(transport.matrix())
    rhs = dec.create_vec()
    with dec.writable(rhs) as arr:
        arr[...] = transport.source()
        if extra_source is not None:
            arr += extra_source
    x = dec.create_vec()
    x.set(0.0)
    info = solver.solve(rhs, x, what=f"steady state of species {transport.species.name}")
    rhs.destroy()
    if own:
        solver.destroy()
    return x, info
