"""The matrix assembly paths and their memory: the streamed CSR assembly of a stencil system
(fresh and through a refilled :class:`MatrixPool`) against an independent entry-by-entry
construction from the stencil arrays, and the Python-side memory it needs."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from mpi4py import MPI

from galprop_py.decomposition import Decomposition
from galprop_py.grid import MomentumGrid, make_spatial_grid
from galprop_py.operators import REGISTRY, stencil
from galprop_py.operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from galprop_py.operators.stencil import MatrixPool
from galprop_py.physics.species import PROTON
from galprop_py.transport import SpeciesTransport


def _problem(geometry: str, b_direction, n_p: int = 6):
    if geometry == "cylindrical2d":
        grid = make_spatial_grid(geometry, {"r": (0, 5), "z": (-2, 2)}, {"r": 9, "z": 12})
    else:
        grid = make_spatial_grid(
            geometry, {"x": (-2, 2), "y": (-2, 2), "z": (-1, 1)}, {"x": 7, "y": 6, "z": 5}
        )
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 0.1, 100.0, n_p)
    dec = Decomposition(grid, mg.n)
    p, pe = mg.momentum(PROTON), mg.momentum_edges(PROTON)
    b = np.asarray(b_direction, float) / np.linalg.norm(b_direction)
    coeffs = SpeciesCoefficients(
        PROTON,
        p,
        pe,
        diffusion=DiffusionTensor(
            0.3 * np.ones(mg.n), 0.01 * np.ones(mg.n), field_direction=lambda c: tuple(b)
        ),
        wind=lambda a, c: 0.2 * np.tanh(np.asarray(c[-1])),
        momentum_diffusion=SeparableField().add(None, 0.01 * pe**2),
        energy_loss=SeparableField().add(None, 0.05 * pe),
    )
    ops = [
        REGISTRY["diffusion"]("centred"),
        REGISTRY["advection"](),
        REGISTRY["adiabatic"](),
        REGISTRY["reacceleration"](),
        REGISTRY["energy_losses"](),
    ]
    return dec, coeffs, ops


def _expected_rows(system, keep_zeros: bool) -> dict:
    """{global row: {column: value}} straight from the stencil arrays, entry by entry: the
    diagonal always; a spatial neighbour inside the domain if its coefficient is nonzero
    (any coefficient with ``keep_zeros``); a momentum band inside the momentum range if the
    band is nonzero somewhere on this rank (always with ``keep_zeros``)."""
    dec = system.decomp
    dof = dec.dof
    own = dec.neighbour_blocks((0,) * dec.grid.dim).reshape(-1)
    rows: dict[int, dict[int, float]] = {}
    diag = system.diag.reshape(-1, dof)
    for c in range(own.size):
        for k in range(dof):
            rows[dec.row_start + c * dof + k] = {int(own[c]) * dof + k: diag[c, k]}
    for off, arr in system.spatial.items():
        vals = arr.reshape(-1, dof)
        blocks = dec.neighbour_blocks(off).reshape(-1)
        for c in range(own.size):
            if blocks[c] < 0:
                continue
            for k in range(dof):
                if keep_zeros or vals[c, k] != 0.0:
                    rows[dec.row_start + c * dof + k][int(blocks[c]) * dof + k] = vals[c, k]
    for d, arr in system.p_band.items():
        vals = arr.reshape(-1, dof)
        if not keep_zeros and not np.any(vals):
            continue
        for c in range(own.size):
            for k in range(dof):
                if 0 <= k + d < dof:
                    rows[dec.row_start + c * dof + k][int(own[c]) * dof + k + d] = vals[c, k]
    return rows


def _assert_same(mat, expected: dict, what: str) -> None:
    indptr, cols, vals = mat.getValuesCSR()
    r0 = mat.getOwnershipRange()[0]
    assert indptr.size - 1 == len(expected), what
    for i in range(indptr.size - 1):
        row = expected[r0 + i]
        got_c = cols[indptr[i] : indptr[i + 1]]
        got_v = vals[indptr[i] : indptr[i + 1]]
        want_c = np.array(sorted(row))
        assert np.array_equal(got_c, want_c), (what, r0 + i)
        assert np.array_equal(got_v, np.array([row[c] for c in want_c])), (what, r0 + i)


@pytest.mark.parallel
@pytest.mark.parametrize("coo", [False, True])
@pytest.mark.parametrize("geometry", ["cylindrical2d", "cartesian3d"])
def test_streamed_assembly_equals_entry_by_entry(geometry, coo, monkeypatch):
    """The PETSc rows of ``to_petsc`` (zeros dropped), ``to_petsc(keep_zeros=True)`` and a
    pool refill (streamed rows or COO values) are, entry for entry and bit for bit, the
    stencil's couplings (pattern and values from :func:`_expected_rows`), with blocks of 7
    rows (so rows of many blocks, and
    blocks split inside a cell's momenta, are exercised), on any rank count.  The field
    along x makes the x-cross terms vanish: those slots are zero and dropped."""
    monkeypatch.setattr(stencil, "CHUNK_ROWS", 7)
    dec, coeffs, ops = _problem(
        geometry, (1.0, 0.0, 0.0) if geometry != "cylindrical2d" else (1.0, 0.0, 0.6)
    )
    system = SpeciesTransport(dec, coeffs, ops).system()
    expected = _expected_rows(system, keep_zeros=False)
    mat = system.to_petsc()
    _assert_same(mat, expected, "to_petsc")
    full = _expected_rows(system, keep_zeros=True)
    n_drop = sum(len(r) for r in full.values()) - sum(len(r) for r in expected.values())
    if geometry == "cartesian3d":  # some couplings are exactly zero and must be gone
        assert MPI.COMM_WORLD.allreduce(n_drop) > 0
    pool = MatrixPool(dec, coo=coo)
    _assert_same(pool.matrix(system), full, "pool, first fill")
    # a second system of the same pattern: another species' coefficients
    coeffs2 = SpeciesCoefficients(
        PROTON,
        coeffs.p,
        coeffs.p_edges,
        diffusion=DiffusionTensor(
            0.7 * np.ones(dec.dof),
            0.02 * np.ones(dec.dof),
            field_direction=coeffs.diffusion.field_direction,
        ),
        wind=coeffs.wind,
        momentum_diffusion=SeparableField().add(None, 0.03 * coeffs.p_edges**2),
        energy_loss=SeparableField().add(None, 0.02 * coeffs.p_edges),
    )
    system2 = SpeciesTransport(dec, coeffs2, ops).system()
    assert system2.pattern_key() == system.pattern_key()
    refilled = pool.matrix(system2)
    assert pool.refills == 1
    _assert_same(refilled, _expected_rows(system2, keep_zeros=True), "pool, refilled")
    mat.destroy()
    pool.destroy()


@pytest.mark.parallel
def test_assembly_makes_no_copy_of_the_system(monkeypatch):
    """Python-side memory of building and of refilling a matrix (tracemalloc peak: numpy
    arrays, not PETSc's own storage) stays below a quarter of the stencil arrays it reads.
    The former path stacked int64 columns and float64 values of every slot (>= 2 times the
    system); the streamed one needs the per-row counts (8 bytes per row, 11% of this
    system) and one block of rows (1024 rows here, so that the bound holds on any rank
    count)."""
    monkeypatch.setattr(stencil, "CHUNK_ROWS", 1024)
    grid = make_spatial_grid("cylindrical2d", {"r": (0, 12), "z": (-4, 4)}, {"r": 41, "z": 81})
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 0.01, 1e5, 90)
    dec = Decomposition(grid, mg.n)
    p, pe = mg.momentum(PROTON), mg.momentum_edges(PROTON)
    coeffs = SpeciesCoefficients(
        PROTON,
        p,
        pe,
        diffusion=DiffusionTensor(0.1 * (p / p[0]) ** 0.5),
        momentum_diffusion=SeparableField().add(None, 0.01 * pe**2),
        energy_loss=SeparableField().add(None, 0.05 * pe),
    )
    ops = [REGISTRY["diffusion"](), REGISTRY["reacceleration"](), REGISTRY["energy_losses"]()]
    system = SpeciesTransport(dec, coeffs, ops).system()
    system_bytes = system.diag.nbytes * (1 + len(system.spatial) + len(system.p_band))

    def peaks_of(pool):
        peaks = []
        for _ in range(2):  # the first call allocates, the second refills
            tracemalloc.start()
            pool.matrix(system)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        pool.destroy()
        return peaks

    streamed = peaks_of(MatrixPool(dec, coo=False))
    tracemalloc.start()
    system.to_petsc().destroy()
    streamed.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    assert max(streamed) < 0.25 * system_bytes, (streamed, system_bytes)
    # the COO pool (1D/2D default): its index arrays and masks once (measured 1.3 times the
    # system), then refills into its kept value buffer
    made, refilled = peaks_of(MatrixPool(dec, coo=True))
    assert made < 3.0 * system_bytes, (made, system_bytes)
    assert refilled < 0.25 * system_bytes, (refilled, system_bytes)


@pytest.mark.parallel
def test_released_system_gives_the_same_solve():
    """``keep_system=False`` drops the stencil arrays once the matrix exists: the diagonal
    the scaled solve needs is still the operator's (bit for bit), the steady solution is the
    same as with the arrays kept (bit for bit: same matrix, same scaling), and asking for
    the system again assembles the same arrays."""
    from galprop_py.solvers.steady import solve_steady, steady_solver

    dec, coeffs, ops = _problem("cylindrical2d", (1.0, 0.0, 0.6))
    coeffs.source = SeparableField().add(
        lambda c: np.exp(-(np.asarray(c[-1]) ** 2)), coeffs.p**-2.0
    )
    kept = SpeciesTransport(dec, coeffs, ops)
    lean = SpeciesTransport(dec, coeffs, ops, keep_system=False)
    lean.matrix()
    assert lean._system is None
    assert np.array_equal(lean.diagonal(), kept.system().diag)
    solver = steady_solver(dec.comm)
    x1, _ = solve_steady(kept, solver)
    solver.reset()
    x2, _ = solve_steady(lean, solver)
    assert np.array_equal(dec.local_array(x1), dec.local_array(x2))
    again = lean.system()
    assert np.array_equal(again.diag, kept.system().diag)
    assert again.pattern_key() == kept.system().pattern_key()
    for off, arr in kept.system().spatial.items():
        assert np.array_equal(again.spatial[off], arr), off
    solver.destroy()
    for v in (x1, x2):
        v.destroy()
