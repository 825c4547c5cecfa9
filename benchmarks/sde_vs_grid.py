"""The pseudo-particle (SDE) solver against the grid solver on a 3D anisotropic steady case.

    python benchmarks/sde_vs_grid.py [n_particles] [dt]        # default 400000, 0.02 Myr
    mpirun -n 2 python benchmarks/sde_vs_grid.py 400000         # particles split over ranks

Case (as tests/test_sde_validation.py::test_grid_centred_scheme_oblique_field): box
[-1, 1]^3 kpc with free escape, b = (1, 2, 3)/sqrt(14), kpar = 1, kperp = 0.1 kpc^2/Myr,
Gaussian source (sigma 0.2 kpc) at (0.1, -0.1, 0), steady.  The SDE gives the averages over
the cells of an 11^3 grid; the grid solver is run on 11^3 and 33^3 cells (each 11^3 cell =
27 cells of the finer grid), Richardson-extrapolated (A33 + (A33 - A11)/8) with the
correction as its uncertainty.  Printed: SDE throughput, MC errors, a table at eight cells
for the centred and the monotone scheme, and summaries over all cells above 20% of the
peak (median and largest relative deviation, chi^2/dof with both errors).
"""

from __future__ import annotations

import sys
import time

import petsc4py

petsc4py.init(sys.argv[:1])
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

from galprop_py.validation import BinGrid, GaussianSource, SDEProblem, simulate  # noqa: E402
from galprop_py.validation.sde import grid_steady_density  # noqa: E402

CELLS = [(5, 5, 5), (6, 6, 7), (4, 4, 3), (7, 5, 4), (5, 7, 5), (3, 6, 6), (6, 3, 5), (5, 5, 8)]


def main() -> None:
    n_particles = int(float(sys.argv[1])) if len(sys.argv) > 1 else 400_000
    dt = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
    rank = MPI.COMM_WORLD.rank

    def say(*a):
        if rank == 0:
            print(*a, flush=True)

    b = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
    problem = SDEProblem((-1.0,) * 3, (1.0,) * 3, 1.0, 0.1, field=b)
    source = GaussianSource((0.1, -0.1, 0.0), 0.2)
    bins = BinGrid((-1.0,) * 3, (1.0,) * 3, (11, 11, 11))
    simulate(problem, source, n_particles=2000, dt=dt, bins=bins)  # compile (or load cache)
    res = simulate(problem, source, n_particles=n_particles, dt=dt, bins=bins, seed=1)
    say(
        f"SDE: {res.n_particles} particles on {MPI.COMM_WORLD.size} rank(s), dt = {res.dt} Myr, "
        f"{res.n_steps / res.n_particles:.1f} steps/particle, {res.wall_s:.2f} s: "
        f"{res.particles_per_s:.3g} particles/s, {res.steps_per_s:.3g} steps/s"
    )
    peak = res.density.max()
    big = res.density > 0.2 * peak
    rel_err = res.stderr[big] / res.density[big]
    say(
        f"MC relative error in the {big.sum()} cells above 20% of the peak: median "
        f"{np.median(rel_err):.2%}, max {rel_err.max():.2%}; truncated histories "
        f"{res.n_truncated}"
    )
    for scheme in ("centred", "monotone"):
        t0 = time.perf_counter()
        g11 = grid_steady_density(problem, source.density, (11, 11, 11), scheme)[1]
        g33 = grid_steady_density(problem, source.density, (33, 33, 33), scheme)[1]
        wall = time.perf_counter() - t0
        a33 = g33.reshape(11, 3, 11, 3, 11, 3).mean(axis=(1, 3, 5))
        ext, unc = a33 + (a33 - g11) / 8.0, np.abs(a33 - g11) / 8.0
        say(f"\n{scheme} scheme (grid solves 11^3 + 33^3: {wall:.2f} s)")
        say(f"{'cell':>12} {'SDE':>8} {'+-MC':>7} {'grid 11':>8} {'grid 33':>8} {'extrap':>8} "
            f"{'+-disc':>7} {'(SDE-ex)/ex':>11} {'z':>6}")  # fmt: skip
        for c in CELLS:
            z = (res.density[c] - ext[c]) / np.hypot(res.stderr[c], unc[c])
            say(
                f"{str(c):>12} {res.density[c]:8.4f} {res.stderr[c]:7.4f} {g11[c]:8.4f} "
                f"{a33[c]:8.4f} {ext[c]:8.4f} {unc[c]:7.4f} "
                f"{(res.density[c] - ext[c]) / ext[c]:+11.2%} {z:+6.1f}"
            )
        dev = (res.density[big] - ext[big]) / ext[big]
        z = (res.density[big] - ext[big]) / np.hypot(res.stderr[big], unc[big])
        coarse = (g11[big] - a33[big]) / a33[big]
        say(
            f"all {big.sum()} cells: (SDE - grid)/grid median {np.median(dev):+.2%}, "
            f"largest {dev[np.argmax(np.abs(dev))]:+.2%}; chi^2/dof {np.mean(z**2):.2f}; "
            f"grid 11 vs 33: median {np.median(coarse):+.2%}, largest "
            f"{coarse[np.argmax(np.abs(coarse))]:+.2%}"
        )


if __name__ == "__main__":
    main()
