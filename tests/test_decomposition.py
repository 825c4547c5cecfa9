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
