"""The Selling scheme of anisotropic diffusion (issue 10: operators/anisotropic_selling.py).

* Selling's decomposition is exact: sum_k lambda_k e_k e_k^T = M with lambda_k >= 0 and
  integer e_k, for random SPD matrices up to an anisotropy of 1e6 (an algebraic identity,
  to 1e-12 |e|^2 relative: the flips stop at 1e-13 of the trace).
* The assembled matrix is an M-matrix (off-diagonals <= 0, interior row sums 0, boundary
  row sums >= 0) and conservative (V A symmetric, V the cell volumes) for a field that turns
  in space, in cartesian3d and cylindrical2d (r, z), on 1, 2 and 4 ranks.
* B12 point release (benchmarks.md; driver benchmarks/anisotropic_point_release.py) in 3D
  with b = (1, 2, 3)/sqrt 14 oblique to all axes at kpar/kperp = 10, 100, 1000: parallel and
  perpendicular variance growth within 2% of 2 kappa t (the issue's target), psi >= -1e-12
  max psi, the error across b falling with refinement at order >= 1; and along (1, sqrt 2,
  pi), which no short lattice vector follows, within 2% on h = 0.98.
* A field that turns (circular field lines, kpar/kperp = 10): the steady solution of a
  manufactured problem converges at order >= 1 in L2.
* All ranks and one rank give the same release.
* Bad input: kappa_perp = 0 and a reach beyond MAX_REACH are one-line errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc

from galprop_py.decomposition import Decomposition
from galprop_py.grid import MomentumGrid, make_spatial_grid
from galprop_py.operators import anisotropic_selling as selling
from galprop_py.operators.anisotropic_limited import summary_line
from galprop_py.operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from galprop_py.operators.diffusion import SpatialDiffusion
from galprop_py.operators.stencil import StencilSystem
from galprop_py.physics.species import PROTON
from galprop_py.solvers.steady import solve_steady
from galprop_py.transport import SpeciesTransport

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from anisotropic_point_release import point_release  # noqa: E402


def _tensor(b, ratio):
    b = np.asarray(b, float) / np.linalg.norm(b)
    return np.eye(b.size) / ratio + (1.0 - 1.0 / ratio) * np.outer(b, b)


@pytest.mark.serial
@pytest.mark.parametrize("dim", [2, 3])
def test_decomposition_is_exact_and_obtuse(dim):
    rng = np.random.default_rng(7)
    mats = []
    for ratio in (1.0, 10.0, 1e3, 1e6):
        for _ in range(50):
            m = _tensor(rng.normal(size=dim), ratio)
            scale = rng.uniform(0.2, 5.0, size=dim)  # unequal cell widths
            mats.append(m / np.outer(scale, scale))
    mats = np.array(mats)
    vecs, lams, failed = selling.decompose(mats)
    assert failed == 0
    assert np.all(lams >= 0.0)
    rebuilt = np.einsum("nk,nka,nkb->nab", lams, vecs.astype(float), vecs.astype(float))
    # exact up to the stopping tolerance of the flips (1e-13 of the trace; the weights left
    # below it are clipped at 0) times the vectors' lengths squared
    scale = np.abs(mats).max(axis=(1, 2))
    length2 = np.max(np.sum(vecs.astype(float) ** 2, axis=-1) * (lams > 0), axis=-1)
    err = np.abs(rebuilt - mats).max(axis=(1, 2)) / scale
    assert np.all(err < 1e-12 * np.maximum(length2, 1.0))
    # canonical signs: the first non-zero component of every vector is positive
    first = np.array([v[np.flatnonzero(v)[0]] for v in vecs.reshape(-1, dim) if np.any(v)])
    assert np.all(first > 0)


@pytest.mark.serial
def test_decomposition_of_a_diagonal_matrix_is_the_axes():
    """A diagonal tensor needs no diagonal neighbours: the weights are its entries on the
    axis vectors (the standard 5/7-point scheme)."""
    m = np.diag([3.0, 0.5, 2.0])
    vecs, lams, _ = selling.decompose(m[None])
    used = {tuple(v): lam for v, lam in zip(vecs[0], lams[0], strict=True) if lam > 1e-14}
    assert used == pytest.approx({(1, 0, 0): 3.0, (0, 1, 0): 0.5, (0, 0, 1): 2.0}, rel=1e-14)


def _turning_field_3d(c):
    x, y, z = c
    bx = 1.0 + 0.5 * np.sin(1.3 * y) + 0.0 * x
    by = np.cos(0.9 * x) + 0.3 * z
    bz = 0.4 + 0.3 * np.sin(0.7 * (x + y)) + 0.0 * z
    n = np.sqrt(bx**2 + by**2 + bz**2)
    return bx / n, by / n, bz / n


def _turning_field_rz(c):
    r, z = c[0], c[-1]
    br = np.cos(0.8 * z) + 0.0 * r
    bphi = 0.5 + 0.2 * r
    bz = 0.6 * np.sin(0.5 * r) + 0.2
    n = np.sqrt(br**2 + bphi**2 + bz**2)
    return br / n, bphi / n, bz / n


def _matrix(geometry, ratio=30.0, comm=None):
    if geometry == "cartesian3d":
        grid = make_spatial_grid(
            "cartesian3d",
            {"x": (-2, 2), "y": (-2, 2), "z": (-1, 1)},
            {"x": 13, "y": 12, "z": 11},
            {},
        )
        field = _turning_field_3d
    else:
        grid = make_spatial_grid(
            "cylindrical2d", {"r": (0, 4), "z": (-1, 1)}, {"r": 12, "z": 9}, {"z_max": "closed"}
        )
        field = _turning_field_rz
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 10.0, 3)
    dec = Decomposition(grid, mg.n, comm=comm)
    kpar = np.array([1.0, 2.0, 4.0])
    tensor = DiffusionTensor(kappa_par=kpar, kappa_perp=kpar / ratio, field_direction=field)
    coeffs = SpeciesCoefficients(
        PROTON, mg.momentum(PROTON), mg.momentum_edges(PROTON), diffusion=tensor
    )
    system = StencilSystem(dec)
    op = SpatialDiffusion("selling")
    op.assemble(system, coeffs, dec)
    return dec, system.to_petsc(), op


@pytest.mark.parallel
@pytest.mark.parametrize("geometry", ["cartesian3d", "cylindrical2d"])
def test_matrix_is_a_conservative_m_matrix(geometry):
    dec, mat, op = _matrix(geometry)
    diag = op.diagnostics()
    assert diag["lattice_vectors"] > 3  # the turning field uses diagonals
    assert diag["max_added_fraction"] == 0.0
    n, reach = diag["lattice_vectors"], diag["max_reach_cells"]
    assert f"{n} lattice vectors up to {reach} cells" in summary_line(diag)
    rows = range(*mat.getOwnershipRange())
    comm = MPI.COMM_WORLD
    worst_off, worst_sum = 0.0, 0.0
    diag = mat.getDiagonal()
    dmax = comm.allreduce(float(diag.getArray().max()), op=MPI.MAX)
    for i in rows:
        cols, vals = mat.getRow(i)
        off = vals[cols != i]
        worst_off = max(worst_off, float(off.max(initial=0.0)))
        worst_sum = min(worst_sum, float(vals.sum()))
    assert comm.allreduce(worst_off, op=MPI.MAX) <= 0.0
    assert comm.allreduce(worst_sum, op=MPI.MIN) > -1e-12 * dmax
    # V A symmetric: the pair fluxes are the same seen from both cells
    vol = dec.create_vec()
    with dec.writable(vol) as arr:
        arr[...] = dec.local_cell_volumes()[..., None]
    va = mat.copy()
    va.diagonalScale(L=vol)
    diff = va.copy()
    diff.axpy(-1.0, va.transpose(PETSc.Mat()))
    assert diff.norm(PETSc.NormType.INFINITY) < 1e-12 * va.norm(PETSc.NormType.INFINITY)
    # interior rows sum to zero: A applied to a constant vanishes away from open faces
    ones, out = dec.create_vec(), dec.create_vec()
    ones.set(1.0)
    mat.mult(ones, out)
    reach = op.diagnostics()["max_reach_cells"]
    inner = np.ones(dec.box.c_shape, dtype=bool)  # farther than the reach from open faces
    for a, ax in enumerate(dec.grid.axes):
        j = np.arange(dec.box.starts[a], dec.box.stops[a])
        lo = reach if ax.lower == "free_escape" else 0
        hi = ax.n - reach if ax.upper == "free_escape" else ax.n
        inner = inner & dec.expand((j >= lo) & (j < hi), a)
    row_sums = np.abs(dec.local_array(out))[inner]
    assert comm.allreduce(int(inner.sum()), op=MPI.SUM) > 0
    assert comm.allreduce(float(row_sums.max(initial=0.0)), op=MPI.MAX) < 1e-12 * dmax
    for v in (vol, va, diff, ones, out, mat):
        v.destroy()


@pytest.mark.parallel
def test_point_release_3d_variances_within_two_percent():
    """B12 at kpar/kperp = 10, 100, 1000, b = (1, 2, 3)/sqrt 14, on n = 21 and 31 (h = 1.9
    and 1.3).  Measured across-b errors on n = 21: -3.9e-5, -9.0e-4, -9.1e-3; on n = 31:
    -1.3e-5, -2.7e-4, -2.6e-3 (orders 2.8, 3.1, 3.2); on n = 41: -7.8e-6, -1.2e-4, -1.2e-3
    (the limited scheme at n = 41: +0.014, +0.41, +4.5; the monotone scheme: +1.3, +22,
    +234 at every resolution).  What is left is the tail that long jumps carry out of the
    box, which shrinks with h."""
    runs = [point_release("selling", n, ratios=(10.0, 100.0, 1000.0)) for n in (21, 31)]
    for r in runs:
        print(
            f"\nselling n = {r.n}: across {r.across_error}, along {r.along_error}, "
            f"min/max {r.min_over_max}, Krylov {r.linear_iterations}"
        )
        assert np.all(np.abs(r.across_error) < 0.02)
        assert np.all(np.abs(r.along_error) < 0.02)
        assert np.all(r.min_over_max >= -1e-12)
    across = np.abs(np.array([r.across_error for r in runs]))
    order = np.log(across[0] / across[1]) / np.log(31 / 21)
    print("order across b:", order)
    assert np.all(order >= 1.0)


@pytest.mark.parallel
def test_all_ranks_and_one_rank_agree():
    """The 3D release at kpar/kperp = 1000 (lattice vectors of up to 10 cells, crossing the
    rank boundaries) on all ranks and on each rank alone: the same positivity, and relative
    variance errors equal to 1e-7 (the Krylov tolerance 1e-10 on psi, amplified by
    sigma0^2 / (2 kperp t) = 330 in the across-b growth; measured 1.2e-8 on 4 ranks).  The
    matrices themselves agree to 5e-16 (A x on 1 and 4 ranks)."""
    world = point_release("selling", 17, ratios=(1000.0,))
    alone = point_release("selling", 17, ratios=(1000.0,), comm=PETSc.COMM_SELF)
    assert world.across_error[0] == pytest.approx(alone.across_error[0], rel=0, abs=1e-7)
    assert world.along_error[0] == pytest.approx(alone.along_error[0], rel=0, abs=1e-7)
    assert world.min_over_max[0] >= 0.0 and alone.min_over_max[0] >= 0.0


@pytest.mark.serial
def test_point_release_irrational_direction_within_two_percent(monkeypatch):
    """The same release along b = (1, sqrt 2, pi)/|.|, a direction of no lattice vector (its
    vectors reach 9 cells at ratio 1000), on n = 41 (h = 0.98): measured across-b errors
    -1.5e-5, -3.2e-4, -1.8e-2 and along b -1.5e-4, -1.0e-3, -1.7e-2; on n = 61: -9.7e-6,
    -1.2e-4, -6.2e-3 and -9.1e-5, -3.2e-4, -4.2e-3; on n = 21 -0.124 at ratio 1000 (jumps of
    9 cells carry the tail out of the box: mass kept 0.9973)."""
    import anisotropic_point_release as apr

    monkeypatch.setitem(apr.OBLIQUE, 3, (1.0, np.sqrt(2.0), np.pi))
    r = apr.point_release("selling", 41, ratios=(10.0, 100.0, 1000.0))
    print(f"\nacross {r.across_error}, along {r.along_error}, {r.diagnostics}")
    assert np.all(np.abs(r.across_error) < 0.02)
    assert np.all(np.abs(r.along_error) < 0.02)
    assert np.all(r.min_over_max >= -1e-12)
    assert r.diagnostics["max_reach_cells"] > 3  # the long vectors were used


def _ring(n, ratio, comm=None):
    """Steady -div(kappa grad psi) = S with circular field lines around the z axis in a
    2-cell-thick cartesian3d box (closed z faces): for psi = exp(-r^2 / 2 sigma^2) the
    parallel part does nothing and S = -kperp Laplacian(psi) (manufactured solution).
    Returns the relative L2 error of psi."""
    half, sigma = 1.0, 1.0 / 6.0
    grid = make_spatial_grid(
        "cartesian3d",
        {"x": (-half, half), "y": (-half, half), "z": (-0.5, 0.5)},
        {"x": n, "y": n, "z": 2},
        {"z_min": "closed", "z_max": "closed"},
    )
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 2.0, 2)
    dec = Decomposition(grid, mg.n, comm=comm)
    kperp = np.full(mg.n, 1.0 / ratio)

    def field(c):
        r = np.sqrt(c[0] ** 2 + c[1] ** 2)
        return -c[1] / r, c[0] / r, 0.0 * c[0]

    def profile(c):
        r2 = c[0] ** 2 + c[1] ** 2
        return np.exp(-r2 / (2 * sigma**2)) * (2 / sigma**2 - r2 / sigma**4) + 0.0 * c[2]

    tensor = DiffusionTensor(kappa_par=np.ones(mg.n), kappa_perp=kperp, field_direction=field)
    coeffs = SpeciesCoefficients(
        PROTON,
        mg.momentum(PROTON),
        mg.momentum_edges(PROTON),
        diffusion=tensor,
        source=SeparableField().add(profile, kperp),
    )
    x, _ = solve_steady(SpeciesTransport(dec, coeffs, [SpatialDiffusion("selling")]))
    c = dec.local_centers()
    exact = np.exp(-(c[0] ** 2 + c[1] ** 2) / (2 * sigma**2))[..., None]
    vol = dec.local_cell_volumes()[..., None]
    local = dec.local_array(x)
    comm = dec.comm.tompi4py()
    err = comm.allreduce(float(np.sum(vol * (local - exact) ** 2)), op=MPI.SUM)
    norm = comm.allreduce(float(np.sum(vol * np.broadcast_to(exact, local.shape) ** 2)))
    x.destroy()
    return np.sqrt(err / norm)


@pytest.mark.usefixtures("tight_steady_rtol")
def test_turning_field_converges():
    """Circular field lines, kpar/kperp = 10, n = 20, 40, 80: measured errors 0.38, 0.17,
    0.056 (orders 1.2, 1.6; 0.016 at n = 160); the centred scheme (not positive) 0.079,
    0.025, 0.0068.  At kpar/kperp = 100 the same grids are still pre-asymptotic for this
    scheme (0.93, 0.86, 0.64, 0.35 at n = 20 .. 160: its lattice vectors reach 16 cells,
    wider than sigma at these resolutions)."""
    errors = [_ring(n, 10.0) for n in (20, 40, 80)]
    print("\nring errors:", errors)
    orders = np.log(np.array(errors[:-1]) / np.array(errors[1:])) / np.log(2.0)
    assert errors[-1] < 0.1
    assert np.all(orders >= 1.0)


@pytest.mark.serial
def test_bad_input_is_one_line():
    grid = make_spatial_grid("cartesian3d", {k: (0, 1) for k in "xyz"}, {k: 4 for k in "xyz"}, {})
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 2.0, 2)
    dec = Decomposition(grid, mg.n)
    p, pe = mg.momentum(PROTON), mg.momentum_edges(PROTON)
    b = (0.3, 0.5, 0.81)
    zero = DiffusionTensor(np.ones(2), np.zeros(2), field_direction=lambda c: b)
    with pytest.raises(ValueError, match=r"^diffusion.scheme = 'selling'.*kappa_perp > 0") as e:
        SpatialDiffusion("selling").assemble(StencilSystem(dec), SpeciesCoefficients(
            PROTON, p, pe, diffusion=zero), dec)  # fmt: skip
    assert "\n" not in str(e.value)
    wide = DiffusionTensor(np.ones(2), np.full(2, 1e-8), field_direction=lambda c: b)
    with pytest.raises(ValueError, match=r"lattice vectors of \d+ cells \(allowed up to 24") as e:
        SpatialDiffusion("selling").assemble(StencilSystem(dec), SpeciesCoefficients(
            PROTON, p, pe, diffusion=wide), dec)  # fmt: skip
    assert "\n" not in str(e.value)


@pytest.mark.parallel
@pytest.mark.parametrize("geometry", ["cartesian3d", "cylindrical2d"])
def test_far_neighbours_match_the_ghost_layer(geometry):
    """The global numbering of wide-stencil neighbours (computed from the DMDA's ownership
    ranges) equals the ghost layer's for every offset of the 3^d box, and a far offset's
    neighbour is the cell reached by repeated unit steps."""
    if geometry == "cartesian3d":
        grid = make_spatial_grid(
            "cartesian3d", {k: (0, 1) for k in "xyz"}, {"x": 7, "y": 6, "z": 5}, {}
        )
    else:
        grid = make_spatial_grid("cylindrical2d", {"r": (0, 1), "z": (-1, 1)}, {"r": 9, "z": 7}, {})
    dec = Decomposition(grid, 2)
    comm = MPI.COMM_WORLD
    bad = 0
    for off in np.ndindex(*(3,) * grid.dim):
        off = tuple(o - 1 for o in off)
        bad += int(np.any(dec.neighbour_blocks(off) != dec._far_blocks(off)))
    assert comm.allreduce(bad, op=MPI.SUM) == 0
    # a far offset through the global natural index: (i + o) in natural order -> PETSc order
    ao = dec.da.getAO()
    shape = grid.shape
    off = (3, -2, 2)[: grid.dim]
    blocks = dec.neighbour_blocks(off)
    idx = np.meshgrid(
        *[np.arange(dec.box.starts[a], dec.box.stops[a]) for a in range(grid.dim)], indexing="ij"
    )
    target = [i + o for i, o in zip(idx, off, strict=True)]
    inside = np.all([(t >= 0) & (t < n) for t, n in zip(target, shape, strict=True)], axis=0)
    natural = np.zeros_like(idx[0])
    stride = 1
    for a in range(grid.dim):
        natural = natural + np.clip(target[a], 0, shape[a] - 1) * stride
        stride *= shape[a]
    # the DMDA's AO numbers unknowns (cell x dof): cell c's first unknown is c * dof
    first = (natural.reshape(-1) * dec.dof).astype(PETSc.IntType)
    expected = np.asarray(ao.app2petsc(first)) // dec.dof
    expected = np.where(inside.reshape(-1), expected, -1).reshape(natural.shape)
    got = dec.to_physical(blocks)
    assert comm.allreduce(int(np.sum(got != expected)), op=MPI.SUM) == 0


def _oblique_run_config(**diffusion):
    from util import small_3d_data

    from galprop_py.config import config_from_dict

    base = {"model": "anisotropic", "field_direction": [0.3, 0.5, 0.81], "delta": 0.0,
            "eta": 0.0, "kperp_over_kpar": 0.05}  # fmt: skip
    return config_from_dict(small_3d_data(diffusion={**base, **diffusion}))


@pytest.mark.parallel
def test_config_scheme_reaches_the_run():
    """``diffusion.scheme`` from the config: the default is selling (its diagnostics in the
    result: lattice vectors beyond the 3^3 box, nothing added), psi >= 0; "monotone" on the
    same model adds cross-field diffusion (reported) and gives another psi."""
    from galprop_py.run import run

    psi, diags = {}, {}
    for scheme in (None, "monotone"):
        extra = {} if scheme is None else {"scheme": scheme}
        res = run(_oblique_run_config(**extra), progress=False, write_output=False)
        psi[scheme] = np.asarray(res.states["H1"])
        diags[scheme] = res.timings["H1"].diffusion
    assert diags[None]["scheme"] == "selling"
    assert diags[None]["max_reach_cells"] > 1 and diags[None]["max_added_fraction"] == 0.0
    assert diags["monotone"]["max_cross_field_fraction"] > 0.1
    comm = MPI.COMM_WORLD
    hi = comm.allreduce(float(psi[None].max()), op=MPI.MAX)
    assert comm.allreduce(float(psi[None].min()), op=MPI.MIN) >= -1e-12 * hi
    change = comm.allreduce(float(np.abs(psi[None] - psi["monotone"]).max()), op=MPI.MAX)
    assert change > 0.01 * hi, (change, hi)


def test_reach_error_stops_a_run_with_one_line(tmp_path_shared, capsys):
    """A run whose tensor needs longer vectors than MAX_REACH stops through the command line
    with exit status 2 and one line on rank 0 (the reach is agreed over the ranks first, so
    every rank stops at the same place), and writes no result."""
    from util import cli_error_problems, small_3d_data

    from galprop_py.cli import main
    from galprop_py.fit.output import toml_text

    data = small_3d_data(
        diffusion={"model": "anisotropic", "field_direction": [0.3, 0.5, 0.81],
                   "kperp_over_kpar": 1e-6},
        run={"output_dir": str(tmp_path_shared / "out")},
    )  # fmt: skip
    path = tmp_path_shared / "cfg.toml"
    if MPI.COMM_WORLD.rank == 0:
        path.write_text(toml_text(data))
    MPI.COMM_WORLD.barrier()
    capsys.readouterr()
    code = main(["run", str(path), "--no-progress"])
    err = capsys.readouterr().err
    problems = cli_error_problems(err, ["diffusion.scheme = 'selling'", "allowed up to 24"])
    problems += [] if code == 2 else [f"exit status {code}"]
    problems = sum(MPI.COMM_WORLD.allgather(problems), [])
    assert not problems, problems
    assert not (tmp_path_shared / "out" / "result.h5").exists()
