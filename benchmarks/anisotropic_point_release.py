"""B12 of /work/shared/reference/benchmarks.md: a point-like release in anisotropic diffusion,
measured for the four discretisations of the tensor (``monotone``, ``centred``,
``limited``, ``selling``) on a refinement sequence.

    python benchmarks/anisotropic_point_release.py [3d|2d] [n1 n2 ...] [scheme ...]

A Gaussian of width SIGMA0 released at t = 0 in the middle of the box [-HALF, HALF]^d (free
escape at the faces) in a uniform field b oblique to all grid axes, kpar = 1 and
kpar/kperp = 10, 100, 1000 (one momentum point each: the problems are independent), spreads
with covariance sigma0^2 I + 2 t (kperp I + (kpar - kperp) b b^T) (B12;
:func:`galprop_py.analytic.anisotropic_gaussian_covariance`).  Backward Euler, dt = DT, to
T_END.  Printed per scheme, resolution and anisotropy: the relative errors of the variance
growth along b and across b (mean over the perpendicular directions), the most negative
psi / max psi over all steps, Picard iterations per step (limited) and Krylov iterations,
and the wall time.  :func:`point_release` is also what tests/test_anisotropic_convergence.py
runs (in 2D, on small grids).  Units: kpc and Myr throughout (any consistent units: the
problem is scale free).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

HALF = 20.0  # half width of the box
SIGMA0 = 2.0
DT = 0.5
T_END = 6.0
KPAR = 1.0
OBLIQUE = {3: (1.0, 2.0, 3.0), 2: (1.0, 2.0)}


@dataclass
class ReleaseResult:
    scheme: str
    n: int
    b: np.ndarray
    kperp: np.ndarray
    along_error: np.ndarray  # per momentum point: relative error of the variance growth
    across_error: np.ndarray
    min_over_max: np.ndarray  # most negative psi / max psi over all steps, per momentum
    mass_kept: np.ndarray
    picard_per_step: float  # limited only (0 otherwise)
    linear_iterations: int
    wall_s: float
    removed_fraction: float  # limited: largest fraction of antidiffusion removed
    added_fraction: float  # monotone: SpatialDiffusion.max_added_fraction
    cross_field_fraction: float  # monotone: SpatialDiffusion.max_cross_field_fraction
    diagnostics: dict  # SpatialDiffusion.diagnostics() (selling: lattice vectors, reach)


def _moments(dec, local, d):
    """Mass, centroid and covariance in the first ``d`` coordinates per momentum point
    (global sums over cells)."""
    axes = (0, 1, 2)
    vol = dec.local_cell_volumes()[..., None]
    coords = [np.broadcast_to(c, dec.box.c_shape)[..., None] for c in dec.local_centers()[:d]]
    w = vol * local
    sums = [np.sum(w, axis=axes)]
    sums += [np.sum(w * c, axis=axes) for c in coords]
    sums += [np.sum(w * ci * cj, axis=axes) for ci in coords for cj in coords]
    total = np.array(sums)
    dec.comm.tompi4py().Allreduce(MPI.IN_PLACE, total, op=MPI.SUM)
    mass = total[0]
    mean = (total[1 : 1 + d] / mass).T
    second = (total[1 + d :] / mass).T.reshape(-1, d, d)
    return mass, second - mean[:, :, None] * mean[:, None, :]


def point_release(
    scheme: str,
    n: int,
    ratios=(10.0, 100.0, 1000.0),
    dim: int = 3,
    gamma: float = 3.0,
    comm=None,
):
    """Run the release for one ``scheme`` on n^dim cells (``comm``: the ranks, default all);
    returns a :class:`ReleaseResult`."""
    from galprop_py.decomposition import Decomposition
    from galprop_py.grid import MomentumGrid, make_spatial_grid
    from galprop_py.operators.anisotropic_limited import LimitedDiffusion
    from galprop_py.operators.base import DiffusionTensor, SpeciesCoefficients
    from galprop_py.operators.diffusion import SpatialDiffusion
    from galprop_py.operators.stencil import StencilSystem
    from galprop_py.physics.species import PROTON
    from galprop_py.solvers import TimeIntegrator
    from galprop_py.transport import SpeciesTransport

    # 2D: a 3D grid two cells thick in z with closed z faces, the field in the x-y plane
    extents = {"x": (-HALF, HALF), "y": (-HALF, HALF), "z": (-HALF, HALF)}
    cells = {"x": n, "y": n, "z": n}
    boundaries = {}
    if dim == 2:
        extents["z"], cells["z"] = (-0.5, 0.5), 2
        boundaries = {"z_min": "closed", "z_max": "closed"}
    grid = make_spatial_grid("cartesian3d", extents, cells, boundaries)
    ratios = np.atleast_1d(np.asarray(ratios, float))
    asked = ratios.size
    if asked == 1:  # the momentum grid needs two points: a copy of the problem
        ratios = np.repeat(ratios, 2)
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 2.0, ratios.size)
    dec = Decomposition(grid, mg.n, comm=comm)
    b = np.asarray(OBLIQUE[dim], float)
    b /= np.linalg.norm(b)
    b3 = tuple(b) if dim == 3 else (b[0], b[1], 0.0)
    kperp = KPAR / ratios
    tensor = DiffusionTensor(
        kappa_par=KPAR * np.ones(mg.n), kappa_perp=kperp, field_direction=lambda c: b3
    )
    coeffs = SpeciesCoefficients(
        PROTON, mg.momentum(PROTON), mg.momentum_edges(PROTON), diffusion=tensor
    )
    psi = dec.create_vec()
    centres = dec.local_centers()[:dim]
    r2 = sum(c**2 for c in centres)
    with dec.writable(psi) as arr:
        arr[...] = np.exp(-r2 / (2.0 * SIGMA0**2))[..., None]
    mass0, cov0 = _moments(dec, dec.local_array(psi), dim)
    comm = dec.comm.tompi4py()
    worst = np.full(mg.n, np.inf)

    def check_sign(vec):
        local = dec.local_array(vec)
        lo = local.min(axis=(0, 1, 2))
        hi = local.max(axis=(0, 1, 2))
        comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
        comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
        np.minimum(worst, lo / hi, out=worst)

    nsteps = int(round(T_END / DT))
    t0 = time.perf_counter()
    picard = linear = 0
    removed = added = cross = 0.0
    diagnostics = {}
    if scheme == "limited":
        system = StencilSystem(dec)
        SpatialDiffusion("centred").assemble(system, coeffs, dec)
        op = LimitedDiffusion(system, gamma=gamma)
        for _ in range(nsteps):
            op.theta_step(psi, DT, 1.0)
            check_sign(psi)
        picard, linear = op.stats.picard_iterations, op.stats.linear_iterations
        removed = op.stats.max_removed_fraction
        op.destroy()
    else:
        diffusion = SpatialDiffusion(scheme)
        integ = TimeIntegrator(SpeciesTransport(dec, coeffs, [diffusion]), DT, "backward_euler")
        for _ in range(nsteps):
            integ.step(psi, 0.0)
            linear += integ.last_info.iterations
            check_sign(psi)
        integ.solver.destroy()
        added = diffusion.max_added_fraction
        cross = diffusion.max_cross_field_fraction
        diagnostics = diffusion.diagnostics()
    wall = time.perf_counter() - t0
    mass, cov = _moments(dec, dec.local_array(psi), dim)
    growth = cov - cov0
    proj = np.eye(dim) - np.outer(b, b)
    along_err, across_err = [], []
    for p in range(mg.n):
        exact = 2.0 * T_END * (kperp[p] * np.eye(dim) + (KPAR - kperp[p]) * np.outer(b, b))
        along = b @ growth[p] @ b
        across = np.trace(proj @ growth[p] @ proj) / (dim - 1)
        along_err.append(along / (b @ exact @ b) - 1.0)
        across_err.append(across / (np.trace(proj @ exact @ proj) / (dim - 1)) - 1.0)
    psi.destroy()
    keep = slice(0, asked)
    return ReleaseResult(
        scheme, n, b, kperp[keep], np.array(along_err)[keep], np.array(across_err)[keep],
        worst[keep], (mass / mass0)[keep], picard / nsteps, linear, wall, removed, added, cross,
        diagnostics,
    )  # fmt: skip


def main(argv):
    dim = 3 if not argv or argv[0] != "2d" else 2
    sizes = [int(a) for a in argv if a.isdigit()] or ([21, 41] if dim == 3 else [21, 41, 81])
    rank0 = MPI.COMM_WORLD.rank == 0
    if rank0:
        print(
            f"B12 point release, {dim}D, b = {OBLIQUE[dim]}, box +-{HALF}, sigma0 {SIGMA0}, "
            f"backward Euler dt {DT}, t {T_END}, ranks {MPI.COMM_WORLD.size}"
        )
        print(
            "scheme     n    h     kpar/kperp  along_err   across_err  min/max     "
            "picard/step  krylov  wall_s  extra"
        )
    schemes = [a for a in argv if not a.isdigit() and a not in ("2d", "3d")]
    for scheme in schemes or ("monotone", "centred", "limited", "selling"):
        for n in sizes:
            res = point_release(scheme, n, dim=dim)
            if not rank0:
                continue
            extra = {
                "monotone": f"added {res.added_fraction:.3f} kaa, cross-field "
                f"{res.cross_field_fraction:.3g} kperp",
                "centred": "",
                "limited": f"removed {res.removed_fraction:.3f} of antidiffusion",
                "selling": f"{res.diagnostics.get('lattice_vectors', 0)} lattice vectors, "
                f"reach {res.diagnostics.get('max_reach_cells', 0)} cells",
            }[scheme]
            for p in range(res.kperp.size):
                print(
                    f"{scheme:9s} {n:4d} {2 * HALF / n:5.3f} {KPAR / res.kperp[p]:8.0f}    "
                    f"{res.along_error[p]:+.3e}  {res.across_error[p]:+.3e}  "
                    f"{res.min_over_max[p]:+.2e}  {res.picard_per_step:8.1f}   "
                    f"{res.linear_iterations:6d}  {res.wall_s:6.1f}  {extra}",
                    flush=True,
                )


if __name__ == "__main__":
    import petsc4py

    petsc4py.init(sys.argv[:1])
    main(sys.argv[1:])
