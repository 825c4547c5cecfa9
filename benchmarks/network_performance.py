"""Steady state of the whole full-network example (Z <= 26 + electrons, 2D 41 x 81 x 90).

    mpirun -n 2 python benchmarks/network_performance.py [block.key=value ...] [-steady_...]

Prints a table per species (coefficients, assembly, preconditioner set-up, Krylov solve,
iterations; stage times are wall times), the totals per stage, the wall and CPU time of
the whole process (from interpreter start, imports included; on a shared machine compare
CPU times) and the peak resident memory of every rank (independent of the load).  The result is not
written (output.plot = false, no HDF5) unless ``--write`` is given.
"""

from __future__ import annotations

import resource
import sys
import time

T_START = time.perf_counter()

import petsc4py  # noqa: E402

from galprop_py.cli import _split_petsc  # noqa: E402

ARGS, PETSC_ARGS = _split_petsc(sys.argv[1:])
petsc4py.init([sys.argv[0]] + PETSC_ARGS)
from pathlib import Path  # noqa: E402

from petsc4py import PETSc  # noqa: E402

from galprop_py.config import load_config  # noqa: E402
from galprop_py.run import run  # noqa: E402

EXAMPLE = Path(__file__).parents[1] / "examples" / "full_network" / "config.toml"


def main() -> None:
    write = "--write" in ARGS
    overrides = [a for a in ARGS if a != "--write"]
    cfg = load_config(EXAMPLE, ["output.plot=false", "run.output_dir='output/bench'"] + overrides)
    comm = PETSc.COMM_WORLD
    mpi = comm.tompi4py()
    t0 = time.perf_counter()
    res = run(cfg, progress=False, write_output=write)
    t_run = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = mpi.gather(usage.ru_maxrss / 1024.0, root=0)
    cpu = mpi.gather(usage.ru_utime + usage.ru_stime, root=0)
    if mpi.rank != 0:
        return
    keys = ("coefficients_s", "assembly_s", "setup_s", "solve_s")
    print(f"\n{'species':>10s} {'coeff':>7s} {'assem':>7s} {'setup':>7s} {'solve':>7s} {'its':>5s}")
    totals = dict.fromkeys(keys, 0.0)
    its = 0
    for name, st in res.timings.items():
        vals = [getattr(st, k) for k in keys]
        for k, v in zip(keys, vals, strict=True):
            totals[k] += v
        its += st.iterations
        print(f"{name:>10s} " + " ".join(f"{v:7.3f}" for v in vals) + f" {st.iterations:5d}")
    print(f"{'total':>10s} " + " ".join(f"{totals[k]:7.2f}" for k in keys) + f" {its:5d}")
    print(
        f"\n{len(res.timings)} species on {mpi.size} rank(s); run() {t_run:.2f} s; whole process "
        f"{time.perf_counter() - T_START:.2f} s (imports, grid and network set-up included)"
    )
    print("CPU time of the whole process per rank [s]: " + ", ".join(f"{c:.1f}" for c in cpu))
    print("peak resident memory per rank [MB]: " + ", ".join(f"{m:.0f}" for m in rss))


if __name__ == "__main__":
    main()
