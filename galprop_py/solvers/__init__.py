"""Implicit solvers: one steady-state KSP solve per species, or implicit time stepping."""

from .petsc import LinearSolver, SolveInfo, SolverError
from .steady import solve_steady, steady_solver
from .transient import TimeIntegrator

__all__ = [
    "LinearSolver",
    "SolveInfo",
    "SolverError",
    "TimeIntegrator",
    "solve_steady",
    "steady_solver",
]
