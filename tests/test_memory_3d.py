"""Issue 7 (3D steady memory and time): the 3D multigrid smoother ``SmoothingStep``, the
consuming assembly (stencil pages handed back while the matrix fills) and the lean solve
(no scaling vectors, source or diagonal held during the iterations) give the same solution
as the former path and as a tight solve, on the default Milky Way physics."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc

from galprop_py.cli import _default_config_path
from galprop_py.config import load_config
from galprop_py.decomposition import Decomposition
from galprop_py.models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
from galprop_py.run import _operators
from galprop_py.solvers.multigrid import MultigridSolver
from galprop_py.solvers.steady import solve_steady, steady_solver
from galprop_py.transport import SpeciesTransport

#: 25 x 25 x 13 cells coarsen to 13 x 13 x 7 and 7 x 7 x 4: three multigrid levels
OVERRIDES = [
    "grid.geometry='cartesian3d'",
    "grid.n_x=25",
    "grid.n_y=25",
    "grid.n_z=13",
    "momentum.n=8",
    "momentum.min=0.1",
]


def _protons(overrides=OVERRIDES):
    cfg = load_config(str(_default_config_path()), overrides)
    cfg.species = [s for s in cfg.species if s.name == "H1"]
    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    dec = Decomposition(grid, mgrid.n, PETSc.COMM_WORLD)
    model = GalaxyModel(cfg, grid, mgrid)
    return dec, model.coefficients(model.species[0]), _operators(cfg)


def _solve(dec, coeffs, ops, rtol=None, options=None):
    """Steady protons with the 3D default solver (``options``: PETSc options set while it is
    made and set up: PCMG reads its levels' options then); returns the rank-local density
    and the iterations."""
    opts = PETSc.Options()
    options = options or {}
    for k, v in options.items():
        opts.setValue(k, v)
    try:
        solver = steady_solver(dec.comm, dec)
        assert isinstance(solver, MultigridSolver) and solver.hierarchy.levels == 3
        if rtol is not None:
            solver.ksp.setTolerances(rtol=rtol)
        tr = SpeciesTransport(dec, coeffs, ops, keep_system=False)
        x, info = solve_steady(tr, solver)
        smoother = solver.ksp.getPC().getMGSmoother(2).getType()
    finally:
        for k in options:
            opts.delValue(k)
    assert smoother == options.get("steady_mg_levels_ksp_type", "python")
    psi = dec.local_array(x).copy()
    x.destroy()
    solver.destroy()
    tr.destroy()
    return psi, info.iterations


def _max_rel(a, b, comm) -> float:
    """Largest |a - b| / max|b| per momentum over all cells (every rank)."""
    axes = tuple(range(a.ndim - 1))
    local = np.stack([np.max(np.abs(a - b), axis=axes), np.max(np.abs(b), axis=axes)])
    glob = np.empty_like(local)
    comm.tompi4py().Allreduce(local, glob, op=MPI.MAX)
    return float(np.max(glob[0] / glob[1]))


@pytest.mark.parallel
def test_smoothing_step_is_richardson_sor():
    """The python smoother does the steps of Richardson + SOR (one symmetric local SOR step
    from x is x + M^-1 (b - A x)): same iterations, same solution to rounding (1e-9 of each
    momentum's largest density)."""
    dec, coeffs, ops = _protons()
    new, its_new = _solve(dec, coeffs, ops)
    old, its_old = _solve(dec, coeffs, ops, options={"steady_mg_levels_ksp_type": "richardson"})
    assert its_new == its_old
    assert _max_rel(new, old, dec.comm) < 1e-9


@pytest.mark.parallel
def test_default_3d_solve_matches_tight_reference():
    """The default 3D solve (rtol 1e-6) against the former smoother solved to rtol 1e-10:
    within 1e-5 of each momentum's largest density."""
    dec, coeffs, ops = _protons()
    psi, _ = _solve(dec, coeffs, ops)
    ref, _ = _solve(
        dec, coeffs, ops, rtol=1e-10, options={"steady_mg_levels_ksp_type": "richardson"}
    )
    assert _max_rel(psi, ref, dec.comm) < 1e-5


def _csr(mat):
    indptr, cols, vals = mat.getValuesCSR()
    return indptr.copy(), cols.copy(), vals.copy()


@pytest.mark.parallel
def test_consuming_assembly_gives_the_same_matrix():
    """to_petsc(consume=True) makes the same matrix bit for bit; afterwards the system keeps
    only its diagonal (its other slots were handed back) and says so."""
    dec, coeffs, ops = _protons()
    kept = SpeciesTransport(dec, coeffs, ops)
    system = kept.system()
    ref = _csr(system.to_petsc())
    diag = system.diag.copy()
    lean = SpeciesTransport(dec, coeffs, ops, keep_system=False).system()
    got = _csr(lean.to_petsc(consume=True))
    for a, b in zip(ref, got, strict=True):
        assert np.array_equal(a, b)
    assert lean.consumed and not lean.spatial and not lean.far_values
    assert np.array_equal(lean.diag, diag)
