"""B12 of benchmarks.md: anisotropic diffusion of a point-like release in a uniform field.

A Gaussian of width sigma0 = 2 cells, released at t = 0 in the middle of a 41^3 box
(h = 1, free escape at the faces, 20 cells from the centre, i.e. > 5 final widths along b),
spreads with covariance C(t) = sigma0^2 I + 2 t (kperp I + (kpar - kperp) b b^T).  The
covariance is measured from global sums over cells (cell volumes, all ranks) at t = 6
(kpar = 1, so the variance along b grows by 12 h^2) and its growth C(t) - C(0) is compared
with :func:`galprop_py.analytic.anisotropic_gaussian_covariance`.

Why the moment tolerances are tight (1e-3 where a few per cent would pass the benchmark): both
schemes reproduce the second moments exactly.  The discrete operator is exact on quadratics
and conserves particles, so sum x_i x_j A psi = -2 K_ij sum psi for any psi away from the
boundary, semi-discretely and for every theta-scheme step.  The only errors are the escape
through the faces (measured < 1e-5 of the mass) and the solver tolerance.  The discretisation
error shows in the shape instead, checked against the analytic Gaussian (sigma0 = 2 h, so a
few per cent).  For the monotone scheme the exact moment growth is that of the tensor it
actually diffuses with, K + diag(added) (see :mod:`galprop_py.operators.diffusion`): that is
checked to 1e-3 and the extra spreading it means is reported.

Time stepping: Crank-Nicolson with backward-Euler start ("cn-be", the default), dt = 0.5.
With an M-matrix A (axis-aligned field, or the monotone scheme), both halves of the step keep
psi >= 0 when dt/2 * A_ii <= 1 (A_ii = 2.004 along an axis, 1.57 for the monotone oblique
case below), so the non-negativity checks test the spatial scheme, not the time scheme.

Every momentum point is an independent copy of the problem, so the two momentum points carry
two anisotropies at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from mpi4py import MPI

from galprop_py import analytic
from galprop_py.decomposition import Decomposition
from galprop_py.grid import MomentumGrid, make_spatial_grid
from galprop_py.operators.base import DiffusionTensor, SpeciesCoefficients
from galprop_py.operators.diffusion import SpatialDiffusion
from galprop_py.physics.species import PROTON
from galprop_py.solvers import TimeIntegrator
from galprop_py.transport import SpeciesTransport

N_CELLS = 41  # per axis, h = 1
SIGMA0 = 2.0  # initial width [cells]
DT = 0.5
T_END = 6.0
KPAR = 1.0
OBLIQUE = (1.0, 2.0, 3.0)  # oblique to all grid axes


@dataclass
class Release:
    """Result of one point-like release; per momentum point (first axis) where it applies."""

    b: np.ndarray  # unit field direction
    kperp: np.ndarray
    growth: np.ndarray  # C(T_END) - C(0), shape (n_p, 3, 3)
    mass_kept: np.ndarray  # N(T_END) / N(0)
    mean: np.ndarray  # centroid at T_END, (n_p, 3)
    min_over_max: np.ndarray  # per step: global min psi / global max psi, (n_steps, n_p)
    shape_error: np.ndarray  # max |psi - Gaussian| / max Gaussian at T_END
    added_fraction: float  # SpatialDiffusion.max_added_fraction (monotone scheme)

    def expected(self, p: int) -> np.ndarray:
        return analytic.anisotropic_gaussian_covariance(T_END, KPAR, self.kperp[p], self.b)

    def along_b(self, cov: np.ndarray) -> float:
        return float(self.b @ cov @ self.b)

    def across_b(self, cov: np.ndarray) -> float:
        """Mean variance over the two directions perpendicular to b: tr(P C P) / 2."""
        proj = np.eye(3) - np.outer(self.b, self.b)
        return float(np.trace(proj @ cov @ proj) / 2.0)


def _moments(dec: Decomposition, local: np.ndarray):
    """Mass, centroid and covariance per momentum point from global sums over cells."""
    vol = dec.local_cell_volumes()[..., None]
    coords = [np.broadcast_to(c, dec.box.c_shape)[..., None] for c in dec.local_centers()]
    w = vol * local
    sums = [np.sum(w, axis=(0, 1, 2))]
    sums += [np.sum(w * c, axis=(0, 1, 2)) for c in coords]
    sums += [np.sum(w * ci * cj, axis=(0, 1, 2)) for ci in coords for cj in coords]
    total = np.array(sums)
    dec.comm.tompi4py().Allreduce(MPI.IN_PLACE, total, op=MPI.SUM)
    mass = total[0]
    mean = (total[1:4] / mass).T  # (n_p, 3)
    second = (total[4:] / mass).T.reshape(-1, 3, 3)
    return mass, mean, second - mean[:, :, None] * mean[:, None, :]


def _release(b, kperp, scheme: str) -> Release:
    half = 0.5 * N_CELLS
    grid = make_spatial_grid(
        "cartesian3d",
        {"x": (-half, half), "y": (-half, half), "z": (-half, half)},
        {"x": N_CELLS, "y": N_CELLS, "z": N_CELLS},
    )
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 2.0, 2)
    dec = Decomposition(grid, mg.n)
    unit_b = np.asarray(b, float) / np.linalg.norm(b)
    kperp = np.asarray(kperp, float)
    tensor = DiffusionTensor(
        kappa_par=KPAR * np.ones(mg.n),
        kappa_perp=kperp,
        field_direction=lambda coords: tuple(unit_b),
    )
    coeffs = SpeciesCoefficients(
        PROTON, mg.momentum(PROTON), mg.momentum_edges(PROTON), diffusion=tensor
    )
    diffusion = SpatialDiffusion(scheme)
    integrator = TimeIntegrator(SpeciesTransport(dec, coeffs, [diffusion]), DT, "cn-be")

    psi = dec.create_vec()
    x, y, z = dec.local_centers()
    with dec.writable(psi) as arr:
        arr[...] = np.exp(-(x**2 + y**2 + z**2) / (2.0 * SIGMA0**2))[..., None]
    mass0, _, cov0 = _moments(dec, dec.local_array(psi))

    comm = dec.comm.tompi4py()
    min_over_max = []

    def check_sign(t, vec):
        local = dec.local_array(vec)
        lo, hi = local.min(axis=(0, 1, 2)), local.max(axis=(0, 1, 2))
        comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)  # buffer reductions: arrays, not objects
        comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
        min_over_max.append(lo / hi)

    integrator.advance(psi, 0.0, T_END, callback=check_sign)
    local = dec.local_array(psi)
    mass, mean, cov = _moments(dec, local)

    # the analytic Gaussian with the initial mass: peak sigma0^3 / sqrt(det C), at a centre
    pos = np.stack(np.broadcast_arrays(x, y, z), axis=-1)
    shape_error = []
    for p in range(mg.n):
        cov_t = SIGMA0**2 * np.eye(3) + analytic.anisotropic_gaussian_covariance(
            T_END, KPAR, kperp[p], unit_b
        )
        peak = SIGMA0**3 / np.sqrt(np.linalg.det(cov_t))
        exact = peak * np.exp(-0.5 * np.einsum("...i,ij,...j->...", pos, np.linalg.inv(cov_t), pos))
        err = comm.allreduce(float(np.max(np.abs(local[..., p] - exact))), op=MPI.MAX)
        shape_error.append(err / peak)
    integrator.solver.destroy()
    return Release(
        unit_b,
        kperp,
        cov - cov0,
        mass / mass0,
        mean,
        np.array(min_over_max),
        np.array(shape_error),
        diffusion.max_added_fraction,
    )


def _rel(measured: float, expected: float) -> float:
    return abs(measured / expected - 1.0)


@pytest.mark.parallel
@pytest.mark.parametrize("scheme", ["centred", "monotone"])
def test_b12_field_along_grid_axis(scheme):
    """b along y, kpar/kperp = 1e3 and 10.  Growth of the variance along b and across it
    within 1e-3 of 2 kpar t and 2 kperp t (measured 7e-5, the escape through the faces, and
    2e-7), off-diagonal growth < 1e-6 of 2 kpar t, centroid at the origin; density
    never negative (min >= -1e-12 max after every step; measured > 0); shape within 2% of the
    analytic Gaussian (measured 0.65% and 1.8%).  Without cross terms both schemes are the
    same 7-point operator."""
    rel = _release((0.0, 1.0, 0.0), [1e-3, 1e-1], scheme)
    assert rel.added_fraction == 0.0
    for p in range(2):
        exp = rel.expected(p)
        along, across = rel.along_b(rel.growth[p]), rel.across_b(rel.growth[p])
        print(
            f"\n{scheme} kpar/kperp = {KPAR / rel.kperp[p]:g}: along b {along:.6f} "
            f"(exact {rel.along_b(exp):.6f}), across b {across:.6e} "
            f"(exact {rel.across_b(exp):.6e}), mass kept {rel.mass_kept[p]:.7f}, "
            f"shape error {rel.shape_error[p]:.4f}, min/max {rel.min_over_max[:, p].min():.2e}"
        )
        assert _rel(along, rel.along_b(exp)) < 1e-3
        assert _rel(across, rel.across_b(exp)) < 1e-3
        assert np.max(np.abs(rel.growth[p] - exp)[~np.eye(3, dtype=bool)]) < 1e-6 * 2 * KPAR * T_END
        assert np.max(np.abs(rel.mean[p])) < 1e-8
        assert rel.shape_error[p] < 0.02
    assert rel.min_over_max.min() >= -1e-12


@pytest.mark.parallel
def test_b12_oblique_field_centred_scheme():
    """b = (1, 2, 3)/sqrt(14), centred (face-based) scheme, kpar/kperp = 10 (the benchmark
    case) and 100.
    Growth along b (2 kpar t = 12) and across b (mean of the two perpendicular directions,
    2 kperp t) within 1e-3 (measured 3e-6 and 6e-7 at ratio 10), the whole covariance growth
    matrix within 1e-4 of 2 kpar t (measured 2.3e-6); shape within 3% (ratio 10, measured
    2.3%) and 5% (ratio 100, measured 3.8%) of the analytic Gaussian.  The cross terms put
    negative weights in the matrix: the undershoot is printed (-3.2e-4 of the maximum at
    ratio 10, -1.7e-3 at ratio 100), not asserted."""
    rel = _release(OBLIQUE, [1e-1, 1e-2], "centred")
    for p, shape_tol in ((0, 0.03), (1, 0.05)):
        exp = rel.expected(p)
        along, across = rel.along_b(rel.growth[p]), rel.across_b(rel.growth[p])
        print(
            f"\ncentred oblique kpar/kperp = {KPAR / rel.kperp[p]:g}: along b {along:.6f} "
            f"(exact {rel.along_b(exp):.6f}), across b {across:.6f} "
            f"(exact {rel.across_b(exp):.6f}), max |dC - exact| "
            f"{np.max(np.abs(rel.growth[p] - exp)):.2e}, shape error {rel.shape_error[p]:.4f}, "
            f"min/max {rel.min_over_max[:, p].min():.2e}"
        )
        assert _rel(along, rel.along_b(exp)) < 1e-3
        assert _rel(across, rel.across_b(exp)) < 1e-3
        assert np.max(np.abs(rel.growth[p] - exp)) < 1e-4 * 2 * KPAR * T_END
        assert np.max(np.abs(rel.mean[p])) < 1e-8
        assert rel.shape_error[p] < shape_tol


def _tensor(kpar, kperp, b) -> np.ndarray:
    """K = kperp I + (kpar - kperp) b b^T."""
    return analytic.anisotropic_gaussian_covariance(0.5, kpar, kperp, b)  # 2 t K at t = 1/2


def _monotone_effective_tensor(kpar, kperp, b) -> np.ndarray:
    """The tensor the monotone scheme diffuses with on a grid of equal spacings:
    K + diag(added), added_a = max(sum_{b != a} |K_ab| - K_aa, 0) (module docstring of
    galprop_py.operators.diffusion), computed here independently of the operator."""
    k = _tensor(kpar, kperp, b)
    off = np.abs(k - np.diag(np.diag(k))).sum(axis=1)
    return k + np.diag(np.maximum(off - np.diag(k), 0.0))


@pytest.mark.parallel
def test_b12_oblique_strong_anisotropy_monotone():
    """b = (1, 2, 3)/sqrt(14), kpar/kperp = 1e3 (and 10), monotone scheme.

    * Non-negativity: min psi >= -1e-12 max psi after every step (measured > 0: an M-matrix).
    * Moments: the growth is exactly 2 t K_eff, K_eff = K + diag(added) with
      added = (0.284, 0.284, 0) kpar at ratio 1e3 (0.157, 0.157, 0) kpar at ratio 10: checked
      to 1e-3 of 2 kpar t (measured 2.3e-6 of it).
    * Along b the variance grows 10.2% too fast at ratio 1e3 (5.6% at ratio 10).  Asserted in
      (9%, 11%) and (5%, 7%): a value outside means the decomposition changed, to be looked at.
    * Across b the added diffusion dominates: the mean perpendicular variance grows with an
      extra diffusivity of 0.234 kpar at ratio 1e3, 235 times the physical 2 kperp t
      (0.129 kpar, 2.3 times, at ratio 10), and the peak is 40% (21%) low.  This is the known
      price of a positive linear scheme on the 27-point stencil for a field far from the
      lattice directions; the centred scheme has no such error but undershoots (next test).
      Asserted below 0.24 kpar (0.14 kpar).
    """
    rel = _release(OBLIQUE, [1e-3, 1e-1], "monotone")
    assert rel.min_over_max.min() >= -1e-12
    bounds = {0: ((0.09, 0.11), 0.24), 1: ((0.05, 0.07), 0.14)}  # (along excess, extra perp)
    for p, (along_excess_range, max_extra_perp) in bounds.items():
        exp = rel.expected(p)
        k_eff = _monotone_effective_tensor(KPAR, rel.kperp[p], rel.b)
        exp_eff = 2.0 * T_END * k_eff
        along, across = rel.along_b(rel.growth[p]), rel.across_b(rel.growth[p])
        along_excess = along / rel.along_b(exp) - 1.0
        extra_perp_kappa = (across - rel.across_b(exp)) / (2.0 * T_END)
        print(
            f"\nmonotone oblique kpar/kperp = {KPAR / rel.kperp[p]:g}: along b {along:.5f} "
            f"(exact {rel.along_b(exp):.5f}, excess {along_excess:.4f}), across b "
            f"{across:.5f} (exact {rel.across_b(exp):.5f}, {across / rel.across_b(exp):.1f}x; "
            f"extra perpendicular diffusivity {extra_perp_kappa / KPAR:.4f} kpar), "
            f"max |dC - 2t K_eff| {np.max(np.abs(rel.growth[p] - exp_eff)):.2e}, "
            f"shape error {rel.shape_error[p]:.3f}, min/max {rel.min_over_max[:, p].min():.2e}, "
            f"max added fraction {rel.added_fraction:.3f}"
        )
        assert np.max(np.abs(rel.growth[p] - exp_eff)) < 1e-3 * 2 * KPAR * T_END
        assert along_excess_range[0] < along_excess < along_excess_range[1]
        assert 0.0 < extra_perp_kappa < max_extra_perp * KPAR
    # the operator's own report of the clipping: added_x / K_xx at ratio 1e3
    k_eff = _monotone_effective_tensor(KPAR, 1e-3, rel.b)
    k = _tensor(KPAR, 1e-3, rel.b)
    assert rel.added_fraction == pytest.approx(np.max((np.diag(k_eff) - np.diag(k)) / np.diag(k)))


@pytest.mark.parallel
def test_b12_centred_scheme_undershoots_for_strong_oblique_anisotropy():
    """Why the monotone scheme exists: the centred scheme at kpar/kperp = 1e3 and oblique b
    keeps the moments exact (1e-3; measured 2e-6 along, 2e-5 across) but the density goes
    negative (measured -2.1e-3 of the maximum; asserted between -1e-2 and -1e-4)."""
    rel = _release(OBLIQUE, [1e-3, 1e-3], "centred")
    exp = rel.expected(0)
    along, across = rel.along_b(rel.growth[0]), rel.across_b(rel.growth[0])
    undershoot = rel.min_over_max[:, 0].min()
    print(
        f"\ncentred oblique kpar/kperp = 1e3: along b {along:.6f} (exact "
        f"{rel.along_b(exp):.6f}), across b {across:.6e} (exact {rel.across_b(exp):.6e}), "
        f"min/max {undershoot:.3e}, shape error {rel.shape_error[0]:.4f}"
    )
    assert _rel(along, rel.along_b(exp)) < 1e-3
    assert _rel(across, rel.across_b(exp)) < 1e-3
    assert -1e-2 < undershoot < -1e-4
