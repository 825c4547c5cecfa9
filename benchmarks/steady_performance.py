"""Steady-state performance of one species (protons) on the default Milky Way physics.

    python benchmarks/steady_performance.py 2d                 # (a) 41 x 81 x 90, 1 rank
    mpirun -n 2 python benchmarks/steady_performance.py 3d     # (b) 81 x 81 x 41 x 32
    ... [block.key=value ...] [-steady_ksp_type gmres ...]

Prints wall and CPU times of the stages (coefficients, assembly, solve; CPU time is what
to compare on a shared machine), Krylov iterations, the final relative residual, the
resident-memory high-water mark after assembly and the peak of every rank.  The stencil
arrays are dropped once the matrix is built (``SpeciesTransport(keep_system=False)``).
"""

from __future__ import annotations

import resource
import sys
import time

import petsc4py

from galprop_py.cli import _split_petsc  # noqa: E402

ARGS, PETSC_ARGS = _split_petsc(sys.argv[1:])
petsc4py.init([sys.argv[0]] + PETSC_ARGS)
from petsc4py import PETSc  # noqa: E402

from galprop_py.config import load_config  # noqa: E402
from galprop_py.decomposition import Decomposition  # noqa: E402
from galprop_py.models.galaxy import (  # noqa: E402
    GalaxyModel,
    build_momentum_grid,
    build_spatial_grid,
)
from galprop_py.physics.species import species_from_name  # noqa: E402
from galprop_py.run import _operators  # noqa: E402
from galprop_py.solvers import solve_steady, steady_solver  # noqa: E402
from galprop_py.transport import SpeciesTransport  # noqa: E402

CASES = {
    "3d-small": [
        "grid.geometry='cartesian3d'",
        "grid.n_x=41",
        "grid.n_y=41",
        "grid.n_z=21",
        "momentum.n=16",
        "momentum.min=0.1",
    ],
    "2d": ["grid.n_r=41", "grid.n_z=81", "momentum.n=90"],
    "3d": [
        "grid.geometry='cartesian3d'",
        "grid.n_x=81",
        "grid.n_y=81",
        "grid.n_z=41",
        "momentum.n=32",
        "momentum.min=0.1",
    ],
}


def main() -> None:
    args = ARGS
    case = args[0] if args else "2d"
    overrides = CASES[case] + args[1:]
    from galprop_py.cli import _default_config_path

    cfg = load_config(str(_default_config_path()), overrides)
    cfg.species = [s for s in cfg.species if s.name == "H1"]
    comm = PETSc.COMM_WORLD
    mpi = comm.tompi4py()

    def stamp():
        mpi.Barrier()
        return time.perf_counter()

    cpu = time.process_time

    tw = stamp()
    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    GalaxyModel(cfg, grid, mgrid).coefficients(species_from_name("H1"))  # load numba kernels
    t0, c0 = stamp(), cpu()
    decomp = Decomposition(grid, mgrid.n, comm)
    model = GalaxyModel(cfg, grid, mgrid)
    coeffs = model.coefficients(model.species[0])
    t1, c1 = stamp(), cpu()
    tr = SpeciesTransport(decomp, coeffs, _operators(cfg), keep_system=False)
    tr.matrix()
    c2 = cpu()
    t2 = stamp()
    rss_assembly = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    solver = steady_solver(comm, decomp)  # what runs use: multigrid where the grid allows
    x, info = solve_steady(tr, solver)
    c3 = cpu()
    t3 = stamp()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    peaks = mpi.gather(peak_mb, root=0)
    after_assembly = mpi.gather(rss_assembly, root=0)
    cpus = mpi.gather((c1 - c0, c2 - c1, c3 - c2), root=0)
    nnz = tr.matrix().getInfo()["nz_used"]
    if mpi.rank == 0:
        n = decomp.grid_unknowns
        print(
            f"case {case}: grid {grid.shape} x {mgrid.n} momenta = {n:,} unknowns, "
            f"{mpi.size} rank(s), matrix nonzeros {int(nnz):,}"
        )
        print(f"  (first call: numba kernels loaded from cache in {t0 - tw:.3f} s, not counted)")
        cmax = [max(c[i] for c in cpus) for i in range(3)]
        print(f"  coefficients {t1 - t0:7.3f} s wall, {cmax[0]:7.3f} s CPU (slowest rank)")
        print(f"  assembly     {t2 - t1:7.3f} s wall, {cmax[1]:7.3f} s CPU")
        print(
            f"  solve        {t3 - t2:7.3f} s wall, {cmax[2]:7.3f} s CPU ({solver.ksp.getType()}/"
            f"{solver.ksp.getPC().getType()}, {info.iterations} iterations, relative "
            f"residual {info.relative_residual:.2e})"
        )
        hier = getattr(solver, "hierarchy", None)
        if hier is not None:
            shapes = " -> ".join("x".join(map(str, d.grid.shape)) for d in reversed(hier.decomps))
            print(f"  multigrid    {hier.levels} levels, rediscretised: {shapes}")
        print(f"  total        {t3 - t0:7.3f} s (assembly + solve {t3 - t1:.3f} s)")
        print(
            "  memory per rank [MB]: after assembly "
            + ", ".join(f"{p:.0f}" for p in after_assembly)
            + "; peak "
            + ", ".join(f"{p:.0f}" for p in peaks)
        )
    x.destroy()
    solver.destroy()
    tr.destroy()


if __name__ == "__main__":
    main()
