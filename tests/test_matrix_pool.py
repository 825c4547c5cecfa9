"""One matrix refilled per species (fixed sparsity with explicit zeros) equals each
species' own assembled matrix."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc

from galprop_py.config import load_config
from galprop_py.decomposition import Decomposition
from galprop_py.models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
from galprop_py.operators.stencil import MatrixPool
from galprop_py.physics.species import species_from_name
from galprop_py.run import _operators
from galprop_py.transport import SpeciesTransport


@pytest.mark.parallel
def test_refilled_matrix_equals_fresh_assembly():
    """Fe56, then C12, then an electron through one pool: each refilled matrix times a
    random vector equals that species' own matrix times it (1e-13 relative), on any rank
    count; the pool allocated one matrix for the nuclei (same slots) and refilled it."""
    cfg = load_config(None, ["grid.n_r=9", "grid.n_z=17", "momentum.n=12", "output.plot=false"])
    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    dec = Decomposition(grid, mgrid.n, PETSc.COMM_WORLD)
    model = GalaxyModel(cfg, grid, mgrid)
    pool = MatrixPool(dec)
    rng = np.random.default_rng(1)
    x = dec.create_vec()
    with dec.writable(x) as a:
        a[...] = rng.random(a.shape)
    for name in ("Fe56", "C12", "electron"):
        coeffs = model.coefficients(species_from_name(name))
        pooled = SpeciesTransport(dec, coeffs, _operators(cfg), pool=pool).matrix()
        own = SpeciesTransport(dec, coeffs, _operators(cfg)).matrix()
        y1, y2 = dec.create_vec(), dec.create_vec()
        pooled.mult(x, y1)
        own.mult(x, y2)
        y1.axpy(-1.0, y2)
        assert y1.norm() <= 1e-13 * y2.norm(), name
        own.destroy()
    assert pool.refills >= 1
    pool.destroy()


@pytest.mark.parallel
def test_a_last_use_solve_leaves_no_scaled_matrix_behind():
    """A steady solve marked ``last_use`` leaves the pool's matrix in its momentum scaling
    and the transport forgets it: the transport's next ``matrix()`` refills the same pool
    matrix, which then equals the species' own assembly again (1e-13), and the solution
    equals that of a solve that unscales (1e-12); also for a transport that drops its
    stencil once the matrix is built (as runs do: the refill assembles it again)."""
    from galprop_py.solvers.steady import solve_steady, steady_solver

    cfg = load_config(None, ["grid.n_r=9", "grid.n_z=17", "momentum.n=12", "output.plot=false"])
    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    dec = Decomposition(grid, mgrid.n, PETSc.COMM_WORLD)
    model = GalaxyModel(cfg, grid, mgrid)
    coeffs = model.coefficients(species_from_name("C12"))
    pool = MatrixPool(dec)
    solver = steady_solver(dec.comm, dec)
    sols = []
    for last_use, keep in ((False, True), (True, True), (True, False)):
        tr = SpeciesTransport(dec, coeffs, _operators(cfg), pool=pool, keep_system=keep)
        x, _ = solve_steady(tr, solver, last_use=last_use)
        sols.append(dec.local_array(x).copy())
        x.destroy()
        refilled = tr.matrix()  # after a last use: the pool's matrix, refilled
        own = SpeciesTransport(dec, coeffs, _operators(cfg)).matrix()
        v, y1, y2 = dec.create_vec(), dec.create_vec(), dec.create_vec()
        v.set(1.0)
        refilled.mult(v, y1)
        own.mult(v, y2)
        y1.axpy(-1.0, y2)
        assert y1.norm() <= 1e-13 * y2.norm(), last_use
        own.destroy()
        tr.destroy()
    ref = np.max(np.abs(sols[0]), initial=0.0)
    ref = dec.comm.tompi4py().allreduce(ref, op=MPI.MAX)
    for sol in sols[1:]:
        np.testing.assert_allclose(sol, sols[0], rtol=0, atol=1e-12 * ref)
    solver.destroy()
    pool.destroy()
