"""One matrix refilled per species (fixed sparsity with explicit zeros) equals each
species' own assembled matrix."""

from __future__ import annotations

import numpy as np
import pytest
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
