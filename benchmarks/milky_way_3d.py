"""Steady-state benchmark of the 3D Milky Way example (examples/milky_way_3d: protons and
helium, anisotropic diffusion along the JF12 field, spiral-arm sources and gas).

    mpirun -n 2 python benchmarks/milky_way_3d.py                 # the example as it is
    mpirun -n 2 python benchmarks/milky_way_3d.py --quick         # 41 x 41 x 33 x 8
    ... [--write] [block.key=value ...] [-steady_ksp_type gmres ...]

Runs the example through :func:`galprop_py.run.run` (the path ``galprop-py run`` takes) and
prints, per species, the wall times of the stages (coefficients, assembly, preconditioner
set-up, solve) and the Krylov iterations; then the whole run's wall time and the peak resident
memory and CPU time (user + system, whole process) of every rank
(``resource.getrusage(RUSAGE_SELF)``, gathered on rank 0).
``--write`` also writes the result file (output/ of the example, or ``run.output_dir=...``).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import petsc4py

from galprop_py.cli import _split_petsc  # noqa: E402

ARGS, PETSC_ARGS = _split_petsc(sys.argv[1:])
petsc4py.init([sys.argv[0]] + PETSC_ARGS)
from petsc4py import PETSc  # noqa: E402

from galprop_py.config import load_config  # noqa: E402
from galprop_py.run import run  # noqa: E402

EXAMPLE = Path(__file__).parents[1] / "examples" / "milky_way_3d" / "config.toml"
QUICK = ["grid.n_x=41", "grid.n_y=41", "grid.n_z=33", "momentum.n=8"]


def main() -> None:
    flags = {a for a in ARGS if a.startswith("--")}
    unknown = flags - {"--quick", "--write"}
    if unknown:
        raise SystemExit(f"unknown option {sorted(unknown)[0]}; allowed: --quick, --write")
    overrides = [a for a in ARGS if not a.startswith("--")]
    write = "--write" in flags
    base = QUICK if "--quick" in flags else []
    cfg = load_config(str(EXAMPLE), base + ["output.plot=false"] + overrides)
    if write and not any(o.startswith("run.output_dir") for o in overrides):
        cfg.run.output_dir = str(EXAMPLE.parent / "output")
    comm = PETSc.COMM_WORLD
    mpi = comm.tompi4py()
    mpi.Barrier()
    t0 = time.perf_counter()
    res = run(cfg, comm=comm, progress=False, write_output=write)
    mpi.Barrier()
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peaks = mpi.gather(usage.ru_maxrss / 1024.0, root=0)
    cpus = mpi.gather(usage.ru_utime + usage.ru_stime, root=0)
    if mpi.rank != 0:
        return
    g = cfg.grid
    n_cells = g.n_x * g.n_y * g.n_z
    print(
        f"milky_way_3d{' --quick' if 'quick' in str(flags) else ''}: grid {g.n_x} x {g.n_y} "
        f"x {g.n_z} x {cfg.momentum.n} momenta = {n_cells * cfg.momentum.n:,} unknowns per "
        f"species, {len(res.timings)} species, {mpi.size} rank(s), scheme "
        f"{cfg.diffusion.scheme}"
    )
    print(f"  {'species':>8} {'coeffs':>8} {'assembly':>9} {'setup':>8} {'solve':>8}  iterations")
    for name, st in res.timings.items():
        print(
            f"  {name:>8} {st.coefficients_s:8.2f} {st.assembly_s:9.2f} {st.setup_s:8.2f} "
            f"{st.solve_s:8.2f}  {st.iterations}"
        )
    print(f"  whole run (grid, model, checks, solves, normalisation) {wall:.2f} s")
    # on a shared machine the wall time is an upper bound: the CPU time is what the run used
    print("  CPU time per rank (whole process) [s]: " + ", ".join(f"{c:.1f}" for c in cpus))
    print("  peak memory per rank [MB]: " + ", ".join(f"{p:.0f}" for p in peaks))
    h1 = res.sun_spectra.get("H1")
    if h1 is not None:
        import numpy as np

        f10 = float(np.exp(np.interp(np.log(10.0), np.log(h1["t_n"]), np.log(h1["toa"]))))
        print(f"  H1 TOA flux at 10 GeV at the Sun: {f10:.4g} m^-2 s^-1 sr^-1 GeV^-1")
    if res.output_file is not None:
        print(f"  result: {res.output_file}")


if __name__ == "__main__":
    main()
