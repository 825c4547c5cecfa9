"""The DMDA decomposition and the matrix assembly agree with a matrix-free application of
the same operator through the DMDA halo exchange, on any rank count."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from galprop_py.decomposition import Decomposition
from galprop_py.grid import MomentumGrid, make_spatial_grid
from galprop_py.operators import REGISTRY
from galprop_py.operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from galprop_py.physics.species import PROTON
from galprop_py.transport import SpeciesTransport


@pytest.mark.parallel
@pytest.mark.parametrize("geometry", ["cylindrical2d", "cartesian3d"])
def test_matrix_equals_matrix_free_operator(geometry):
    """Anisotropic diffusion (box stencil with cross terms), wind, adiabatic term,
    reacceleration and losses (momentum bands up to +-2): A x from the assembled PETSc
    matrix equals the stencil applied to x with its DMDA ghost layer, to 1e-12 relative,
    for a random x.  Checks global numbering, ghost ranges and the CSR assembly."""
    if geometry == "cylindrical2d":
        grid = make_spatial_grid(geometry, {"r": (0, 5), "z": (-2, 2)}, {"r": 9, "z": 12})
    else:
        grid = make_spatial_grid(
            geometry, {"x": (-2, 2), "y": (-2, 2), "z": (-1, 1)}, {"x": 7, "y": 8, "z": 6}
        )
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 0.1, 100.0, 8)
    dec = Decomposition(grid, mg.n)
    p, pe = mg.momentum(PROTON), mg.momentum_edges(PROTON)
    b = np.array([0.3, 0.5, 0.8]) / np.linalg.norm([0.3, 0.5, 0.8])
    coeffs = SpeciesCoefficients(
        PROTON,
        p,
        pe,
        diffusion=DiffusionTensor(
            0.3 * np.ones(mg.n),
            0.01 * np.ones(mg.n),
            0.05 * np.ones(mg.n),
            field_direction=lambda c: tuple(b),
        ),
        wind=lambda a, c: 0.2 * np.tanh(np.asarray(c[-1])),
        momentum_diffusion=SeparableField().add(None, 0.01 * pe**2),
        energy_loss=SeparableField().add(None, 0.05 * pe),
    )
    for scheme in ("monotone", "centred"):
        ops = [
            REGISTRY["diffusion"](scheme),
            REGISTRY["advection"](),
            REGISTRY["adiabatic"](),
            REGISTRY["reacceleration"](),
            REGISTRY["energy_losses"](),
        ]
        tr = SpeciesTransport(dec, coeffs, ops)
        x = dec.create_vec()
        rng = np.random.default_rng(1234)
        full = rng.random(grid.shape + (mg.n,))  # the same global x on every rank
        with dec.writable(x) as a:
            a[...] = dec.from_physical(full[dec.global_slices()])
        y = dec.create_vec()
        tr.matrix().mult(x, y)
        free = tr.system().apply_local(dec.halo_exchange(x))
        err = np.max(np.abs(dec.local_array(y) - free))
        scale = np.max(np.abs(free))
        err = MPI.COMM_WORLD.allreduce(err, op=MPI.MAX)
        scale = MPI.COMM_WORLD.allreduce(scale, op=MPI.MAX)
        assert err <= 1e-12 * scale, (scheme, err, scale)
        for v in (x, y):
            v.destroy()
        tr.destroy()


def test_cut_strength_counts_faces_on_equal_cells():
    """Cells of equal width in every direction: every cut face carries 1/(2d) of a cell's
    diffusive row (a 2d-point Laplacian), so a cut costs its number of faces / (2d)."""
    from galprop_py.decomposition.dmda import cut_strength

    grid = make_spatial_grid(
        "cartesian3d", {"x": (-6, 6), "y": (-4, 4), "z": (-2, 2)}, {"x": 24, "y": 16, "z": 8}
    )
    assert cut_strength(grid, (2, 1, 1)) == pytest.approx(16 * 8 / 6, rel=1e-12)
    assert cut_strength(grid, (1, 1, 2)) == pytest.approx(24 * 16 / 6, rel=1e-12)
    assert cut_strength(grid, (2, 2, 1)) == pytest.approx((16 * 8 + 24 * 8) / 6, rel=1e-12)


def test_process_grid_keeps_strong_couplings_on_one_rank():
    """The default galaxy's sinh z cells (36 pc at the disc, 0.49 kpc in r): PETSc's split of
    z on 2 ranks falls at the disc, where the face carries ~1/2 of a row; a split in r drops
    at most 1/3 per face (the halo's widest z cells) and ~1/360 at the disc, so r is split.
    Equal cells: PETSc's choice stands (the smallest surface, no better one)."""
    from galprop_py.decomposition.dmda import cut_strength, process_grid

    grid = make_spatial_grid(
        "cylindrical2d", {"r": (0, 20), "z": (-8, 8)}, {"r": 41, "z": 81}, refinement={"z": 20.0}
    )
    assert cut_strength(grid, (1, 2)) > 0.45 * 41
    assert process_grid(grid, 2, (1, 2)) == (2, 1)
    uniform = make_spatial_grid("cylindrical2d", {"r": (0, 20), "z": (-10, 10)}, {"r": 40, "z": 40})
    assert process_grid(uniform, 2, (1, 2)) == (1, 2)
    assert process_grid(uniform, 4, (2, 2)) == (2, 2)


@pytest.mark.parallel
def test_decomposition_splits_the_default_grid_in_r():
    """On 2 ranks the default model's grid is split along r (the test above), on 1 rank not
    at all; every cell is owned once."""
    grid = make_spatial_grid(
        "cylindrical2d", {"r": (0, 20), "z": (-8, 8)}, {"r": 41, "z": 81}, refinement={"z": 20.0}
    )
    dec = Decomposition(grid, 4)
    size = MPI.COMM_WORLD.size
    procs = tuple(int(p) for p in dec.da.getProcSizes())
    if size == 2:
        assert procs == (2, 1)
    assert int(np.prod(procs)) == size
    owned = MPI.COMM_WORLD.allreduce(dec.box.ncells)
    assert owned == 41 * 81
