"""Where the memory of one species' assembly and solve goes (protons, default Milky Way).

    python benchmarks/memory_profile.py 3d-small          # 41 x 41 x 21 x 16, 1 rank
    mpirun -n 2 python benchmarks/memory_profile.py 3d    # 81 x 81 x 41 x 32
    ... [block.key=value ...] [-steady_...]

Per stage (coefficients, each operator's assembly, the PETSc matrix, the solve): the peak
of Python-side (numpy) memory during the stage and what it leaves allocated (tracemalloc;
PETSc's own storage is not traced), and the resident-set high-water mark (ru_maxrss)
after the stage, all per rank in MB, with the stencil arrays' and the matrix's size (12
bytes per nonzero: value and 32-bit column) for comparison.  Memory does not depend on
the machine's load.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import petsc4py

sys.path.insert(0, str(Path(__file__).parent))
from galprop_py.cli import _split_petsc  # noqa: E402

ARGS, PETSC_ARGS = _split_petsc(sys.argv[1:])
petsc4py.init([sys.argv[0]] + PETSC_ARGS)
from petsc4py import PETSc  # noqa: E402
from steady_performance import CASES  # noqa: E402

from galprop_py.cli import _default_config_path  # noqa: E402
from galprop_py.config import load_config  # noqa: E402
from galprop_py.decomposition import Decomposition  # noqa: E402
from galprop_py.models.galaxy import (  # noqa: E402
    GalaxyModel,
    build_momentum_grid,
    build_spatial_grid,
)
from galprop_py.run import _operators  # noqa: E402
from galprop_py.solvers import solve_steady, steady_solver  # noqa: E402
from galprop_py.transport import SpeciesTransport  # noqa: E402

MB = 1.0 / 2**20


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    case = ARGS[0] if ARGS else "3d-small"
    cases = CASES
    cfg = load_config(str(_default_config_path()), cases[case] + ARGS[1:])
    cfg.species = [s for s in cfg.species if s.name == "H1"]
    comm = PETSc.COMM_WORLD
    mpi = comm.tompi4py()
    rows = []

    def stage(name, fn):
        tracemalloc.start()
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append((name, peak * MB, cur * MB, rss_mb(), time.process_time() - c0,
                     time.perf_counter() - w0))  # fmt: skip
        return out

    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    decomp = Decomposition(grid, mgrid.n, comm)
    model = GalaxyModel(cfg, grid, mgrid)
    coeffs = stage("coefficients", lambda: model.coefficients(model.species[0]))
    tr = SpeciesTransport(decomp, coeffs, _operators(cfg))
    from galprop_py.operators.stencil import StencilSystem

    system = StencilSystem(decomp)
    for op in tr.operators:
        stage(f"op {op.name}", lambda op=op: op.assemble(system, coeffs, decomp))
    tr._system = system
    mat = stage("matrix", tr.matrix)
    solver = steady_solver(comm, decomp)
    x, info = stage("solve", lambda: solve_steady(tr, solver))
    minfo = mat.getInfo()
    stencil_mb = system.diag.nbytes * (1 + len(system.spatial) + len(system.p_band)) * MB
    allrows = mpi.gather(rows, root=0)
    if mpi.rank == 0:
        print(
            f"case {case}: {grid.shape} x {mgrid.n} = {decomp.grid_unknowns:,} unknowns, "
            f"{mpi.size} rank(s); rank 0: stencil arrays {stencil_mb:.0f} MB "
            f"({1 + len(system.spatial) + len(system.p_band)} slots), PETSc matrix "
            f"~{12 * minfo['nz_used'] * MB:.0f} MB (12 bytes per nonzero), "
            f"{int(minfo['nz_used']):,} nonzeros; "
            f"{solver.ksp.getType()}/{solver.ksp.getPC().getType()} {info.iterations} its"
        )
        print(f"{'stage':>22s} {'py peak':>8s} {'py left':>8s} {'maxrss':>8s} {'cpu s':>7s} "
              f"{'wall s':>7s}  (MB per rank; rank 0, other ranks' maxrss after)")  # fmt: skip
        for i, r in enumerate(rows):
            others = ", ".join(f"{ar[i][3]:.0f}" for ar in allrows[1:])
            print(f"{r[0]:>22s} {r[1]:8.0f} {r[2]:8.0f} {r[3]:8.0f} {r[4]:7.2f} {r[5]:7.2f}"
                  + (f"  [{others}]" if others else ""))  # fmt: skip
    x.destroy()
    solver.destroy()
    tr.destroy()


if __name__ == "__main__":
    main()
