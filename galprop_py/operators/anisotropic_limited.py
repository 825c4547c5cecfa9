"""Positive, convergent anisotropic diffusion: algebraic flux correction of the centred scheme.

The centred (face-based, "asymmetric" in the terms of Guenter et al. 2005, J. Comput. Phys.
209, 354) discretisation ``K`` of div(kappa . grad psi) is second order but has off-diagonal
matrix entries of the wrong sign wherever the tensor is not diagonally dominant on the
lattice, so psi can go negative.  Following the algebraic flux correction (AFC) of Kuzmin,
Shashkov & Svyatskiy (2009, J. Comput. Phys. 228, 3448, Sec. 3-4) and the flux limiter of
Zalesak (1979, J. Comput. Phys. 31, 335):

1. Discrete diffusion ``D`` with d_ij = max(0, k_ij, k_ji) on every pair of neighbours
   (i, j) (operator convention of :mod:`.stencil`: d psi/dt = -A psi + S, so a positive
   off-diagonal entry is the wrong sign) turns K into the low-order Z-matrix
   ``L = K + D``: (L u)_i = (K u)_i + sum_j d_ij (u_i - u_j).  L has zero row sums in the
   interior; it is the positive scheme, but diffuses by O(kappa_ab h^0) too much.
2. The removed part is put back as antidiffusive fluxes a_ij = d_ij (u_i - u_j) into cell i
   (a_ji = -a_ij: conservative), limited by a symmetric factor alpha_ij in [0, 1]:

       A(u) u = L u - sum_j alpha_ij(u) a_ij(u).

   Zalesak's limiter with the bounds of the low-order fluxes themselves:
   P_i^+- = sum_j max/min(0, a_ij),  Q_i^+- = gamma sum_j l_ij max/min(0, u_j - u_i)
   (l_ij = -L_ij >= 0), R_i^+- = min(1, Q_i^+- / P_i^+-), and alpha_ij = min(R_i^+, R_j^-)
   for a_ij > 0, min(R_i^-, R_j^+) otherwise.  Then F_i = sum_j alpha_ij a_ij lies in
   [Q_i^-, Q_i^+], so it can be written as F_i = sum_j w_ij (u_j - u_i) with w_ij >= 0:
   the converged nonlinear system is an M-matrix system with solution-dependent
   coefficients, which gives the discrete maximum principle and psi >= 0 for S >= 0 and a
   non-negative start (backward Euler unconditionally; a theta < 1 step also needs
   dt (1 - theta) A_ii <= 1 for its explicit half).  Where no limiting is needed
   (alpha = 1, smooth regions) the scheme is the centred one, so the added diffusion
   vanishes under refinement.

Solution (:class:`LimitedDiffusion`): Picard iterations in which every iterate solves the
linear system with the matrix ``L + W(u_k)``, W the w_ij above evaluated at the previous
iterate (an M-matrix: every iterate is non-negative, up to the Krylov tolerance), with the
momentum-scaled KSP of :func:`galprop_py.solvers.steady.scaled_solve`, until the nonlinear
residual (matrix-free, per momentum point, relative to the right-hand side) is below
``rtol``.  The limiter is applied to the spatial couplings of whatever linear system it is
given (the diffusion alone, or a species' full operator); momentum couplings are kept as
they are.  :meth:`LimitedDiffusion.summary` is what a log line or a result file should
carry (Picard and Krylov iterations, fraction of antidiffusion removed).

``gamma`` (default 3): on the 2D B12 release (kpar/kperp = 100, h = 0.98) gamma = 1, 3, 10
leave across-b variance errors of 2.8, 0.46, 0.27 for 13, 20, 39 Picard iterations per
step; 3 is the compromise.  Measured orders and costs: tests/test_anisotropic_convergence.py
and benchmarks/anisotropic_point_release.py.

Units: those of the system it is given (the solver's kpc, Myr, GeV/c).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI

from ..decomposition import Decomposition
from .stencil import StencilSystem


@dataclass
class LimiterStats:
    """What the limiter did (global over ranks): Picard and Krylov iterations, time, and how
    much antidiffusion was removed: ``removed_fraction`` = 1 - sum |alpha a| / sum |a| at the
    last evaluation, ``max_removed_fraction`` the largest over the run."""

    picard_iterations: int = 0
    linear_iterations: int = 0
    solves: int = 0
    wall_s: float = 0.0
    last_residual: float = 0.0
    removed_fraction: float = 0.0
    max_removed_fraction: float = 0.0
    history: list[int] = field(default_factory=list)  # Picard iterations per solve


class _Halo:
    """Owned values plus one ghost layer, padded to the owned box + 1 cell per side (zeros
    outside the physical domain), and shifted views of it."""

    def __init__(self, dec: Decomposition):
        self.dec = dec
        self.vec = dec.create_vec()
        d = dec.grid.dim
        sl = []
        for ax in reversed(range(d)):
            lo = dec._ghost.starts[ax] - (dec.box.starts[ax] - 1)
            sl.append(slice(lo, lo + dec._ghost.shape[ax]))
        self._ghost_slice = tuple(sl)

    def pad(self, local: np.ndarray) -> np.ndarray:
        dec = self.dec
        with dec.writable(self.vec) as arr:
            arr[...] = local
        padded = np.zeros(tuple(n + 2 for n in dec.box.c_shape) + (dec.dof,))
        padded[self._ghost_slice] = dec.halo_exchange(self.vec)
        return padded

    def view(self, padded: np.ndarray, offset) -> np.ndarray:
        d = self.dec.grid.dim
        shape = self.dec.box.shape
        return padded[
            tuple(slice(1 + offset[ax], 1 + offset[ax] + shape[ax]) for ax in reversed(range(d)))
        ]

    def destroy(self) -> None:
        self.vec.destroy()


def _global_max(comm, value: float) -> float:
    return comm.tompi4py().allreduce(float(value), op=MPI.MAX)


class LimitedDiffusion:
    """The flux-corrected operator A(u) built from a linear high-order ``system`` (module
    docstring), with Picard solvers for a steady state and theta-scheme time steps.

    Args:
        system: the high-order linear system (e.g. the ``"centred"`` diffusion of a species,
            plus any other linear operators); it is not modified.
        gamma: scale of the limiter bounds Q^+- (>= 1; larger removes less antidiffusion).
        rtol: nonlinear relative residual at which the Picard iterations stop.
        max_iterations: Picard iterations allowed per solve (a
            :class:`~galprop_py.solvers.petsc.SolverError` beyond).
        solver: the KSP of the linear steps (default: prefix ``limited_``, BiCGStab +
            block-Jacobi/ILU(0), true residual 1e-2 rtol).
    """

    def __init__(
        self,
        system: StencilSystem,
        gamma: float = 3.0,
        rtol: float = 1e-10,
        max_iterations: int = 200,
        solver=None,
    ):
        if not gamma >= 1.0:
            raise ValueError(f"diffusion.limiter_gamma = {gamma!r}: must be >= 1")
        if not 0.0 < rtol < 1.0:
            raise ValueError(f"diffusion.limiter_rtol = {rtol!r}: allowed 0 < rtol < 1")
        from ..solvers.petsc import LinearSolver

        self.high = system
        self.dec = dec = system.decomp
        self.gamma = float(gamma)
        self.rtol = float(rtol)
        self.max_iterations = int(max_iterations)
        self.halo = _Halo(dec)
        self.stats = LimiterStats()
        self._own_solver = solver is None
        self.solver = solver or LinearSolver(
            dec.comm,
            "limited_",
            {
                "ksp_rtol": 0.01 * self.rtol,
                "ksp_norm_type": "unpreconditioned",
                "ksp_initial_guess_nonzero": True,
            },
        )
        offsets = set(system.spatial) | {tuple(-o for o in off) for off in system.spatial}
        self.offsets = sorted(offsets)
        self.mask = {
            off: (dec.neighbour_blocks(off) >= 0)[..., None].astype(float) for off in self.offsets
        }
        zero = np.zeros(system.shape)
        k = {off: system.spatial.get(off, zero) * self.mask[off] for off in self.offsets}
        # d_ij = max(0, k_ij, k_ji): k_ji is the neighbour's row entry at the opposite offset
        self.d = {}
        for off in self.offsets:
            back = tuple(-o for o in off)
            k_ji = self.halo.view(self.halo.pad(k[back]), off)
            self.d[off] = np.maximum(np.maximum(k[off], k_ji), 0.0) * self.mask[off]
        low = StencilSystem(dec)
        low.diag = system.diag + sum(self.d.values())
        low.spatial = {off: k[off] - self.d[off] for off in self.offsets}
        low.p_band = {key: v.copy() for key, v in system.p_band.items()}
        self.low = low
        # l_ij = -L_ij >= 0 (round-off of k - max(k, .) can leave -0)
        self.l = {off: np.maximum(-low.spatial[off], 0.0) * self.mask[off] for off in self.offsets}
        self.added_diffusion = max(
            (_global_max(dec.comm, np.max(v)) for v in self.d.values()), default=0.0
        )
        self._pool = None

    # --- the nonlinear operator ------------------------------------------------------------------
    def _limit(self, u: np.ndarray):
        """Limited antidiffusion F(u) (rank-local), the Picard weights' ratios, the
        neighbour differences, and sum |a|, sum |alpha a| (local)."""
        halo, g = self.halo, self.gamma
        up = halo.pad(u)
        diffs, a = {}, {}
        p_plus = np.zeros_like(u)
        p_minus = np.zeros_like(u)
        s_plus = np.zeros_like(u)  # sum_j l_ij max(0, u_j - u_i)
        s_minus = np.zeros_like(u)
        for off in self.offsets:
            diff = (halo.view(up, off) - u) * self.mask[off]
            diffs[off] = diff
            a[off] = -self.d[off] * diff
            p_plus += np.maximum(a[off], 0.0)
            p_minus += np.minimum(a[off], 0.0)
            s_plus += self.l[off] * np.maximum(diff, 0.0)
            s_minus += self.l[off] * np.minimum(diff, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r_plus = np.where(p_plus > 0.0, np.minimum(1.0, g * s_plus / p_plus), 1.0)
            r_minus = np.where(p_minus < 0.0, np.minimum(1.0, g * s_minus / p_minus), 1.0)
        rp_pad, rm_pad = halo.pad(r_plus), halo.pad(r_minus)
        flux = np.zeros_like(u)
        total = kept = 0.0
        for off in self.offsets:
            alpha = np.where(
                a[off] > 0.0,
                np.minimum(r_plus, halo.view(rm_pad, off)),
                np.minimum(r_minus, halo.view(rp_pad, off)),
            )
            flux += alpha * a[off]
            total += float(np.sum(np.abs(a[off])))
            kept += float(np.sum(np.abs(alpha * a[off])))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_plus = np.where((flux > 0.0) & (s_plus > 0.0), flux / s_plus, 0.0)
            ratio_minus = np.where((flux < 0.0) & (s_minus < 0.0), flux / s_minus, 0.0)
        return flux, ratio_plus, ratio_minus, diffs, total, kept

    def apply(self, u: np.ndarray) -> np.ndarray:
        """A(u) u for the owned rows (rank-local array in, rank-local array out)."""
        flux = self._limit(u)[0]
        return self._low_apply(u) - flux

    def _low_apply(self, u: np.ndarray) -> np.ndarray:
        self.halo.vec.setArray(u.reshape(-1))
        return self.low.apply_local(self.dec.halo_exchange(self.halo.vec))

    def picard_system(self, u: np.ndarray, scale: float = 1.0, shift: float = 0.0):
        """``shift I + scale (L + W(u))`` with W the M-matrix form of the limited
        antidiffusion at u (module docstring), and A(u) u."""
        flux, rp, rm, diffs, total, kept = self._limit(u)
        system = StencilSystem(self.dec)
        system.diag = self.low.diag.copy()
        system.spatial = {off: v.copy() for off, v in self.low.spatial.items()}
        system.p_band = {key: v.copy() for key, v in self.low.p_band.items()}
        for off in self.offsets:
            diff = diffs[off]
            w = self.l[off] * (rp * (diff > 0.0) + rm * (diff < 0.0))
            system.diag += w
            system.spatial[off] -= w
        comm = self.dec.comm.tompi4py()
        total, kept = comm.allreduce(np.array([total, kept]), op=MPI.SUM)
        removed = 1.0 - kept / total if total > 0.0 else 0.0
        self.stats.removed_fraction = removed
        self.stats.max_removed_fraction = max(self.stats.max_removed_fraction, removed)
        return system.scaled_plus_diagonal(scale, shift), self._low_apply(u) - flux

    # --- solvers -------------------------------------------------------------------------------
    def _residual(self, res: np.ndarray, rhs: np.ndarray) -> float:
        """max over momentum points of |res_k| / |rhs_k| (2-norms over all cells)."""
        axes = tuple(range(res.ndim - 1))
        sums = np.stack([np.sum(res**2, axis=axes), np.sum(rhs**2, axis=axes)])
        self.dec.comm.tompi4py().Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
        ok = sums[1] > 0.0
        if not ok.any():
            return float(np.sqrt(sums[0].max()))
        return float(np.max(np.sqrt(sums[0][ok] / sums[1][ok])))

    def solve(self, rhs: np.ndarray, psi, scale: float = 1.0, shift: float = 0.0, what=""):
        """Solve (shift I + scale A(u)) u = rhs by Picard iterations; ``psi`` (a Vec) holds
        the initial guess and receives the solution.  Returns the Picard iterations."""
        from ..solvers.petsc import SolverError
        from ..solvers.steady import scaled_solve
        from .stencil import MatrixPool

        if self._pool is None:
            self._pool = MatrixPool(self.dec)
        dec = self.dec
        t0 = time.perf_counter()
        for it in range(self.max_iterations + 1):
            u = dec.local_array(psi).copy()
            system, au = self.picard_system(u, scale, shift)
            res = self._residual(rhs - (shift * u + scale * au), rhs)
            self.stats.last_residual = res
            if res <= self.rtol:
                break
            if it == self.max_iterations:
                raise SolverError(
                    f"{what or 'limited anisotropic diffusion'}: Picard iterations did not "
                    f"converge in {self.max_iterations} (residual {res:.3e}, rtol "
                    f"{self.rtol:g}); raise max_iterations or use another diffusion.scheme"
                )
            mat = self._pool.matrix(system)
            info = scaled_solve(
                dec, self.solver, mat, system.diag, rhs, psi, what or "limited diffusion"
            )
            self.stats.linear_iterations += info.iterations
        self.stats.picard_iterations += it
        self.stats.solves += 1
        self.stats.history.append(it)
        self.stats.wall_s += time.perf_counter() - t0
        return it

    def steady(self, source: np.ndarray, psi) -> int:
        """Steady state A(u) u = source; ``psi`` holds the guess (zero is fine)."""
        return self.solve(source, psi, what="steady state with limited diffusion")

    def theta_step(self, psi, dt: float, theta: float = 1.0, source=None) -> int:
        """One theta-scheme step of d psi/dt = -A(psi) psi + source, in place:
        (I/dt + theta A(u)) u = psi/dt - (1 - theta) A(psi) psi + source."""
        if not dt > 0.0:
            raise ValueError(f"time.dt_myr = {dt!r}: must be > 0")
        if not 0.5 <= theta <= 1.0:
            raise ValueError(f"time theta = {theta!r}: allowed 0.5 <= theta <= 1")
        u0 = self.dec.local_array(psi).copy()
        rhs = u0 / dt
        if theta < 1.0:
            rhs = rhs - (1.0 - theta) * self.apply(u0)
        if source is not None:
            rhs = rhs + source
        return self.solve(rhs, psi, scale=theta, shift=1.0 / dt, what=f"time step dt = {dt:g}")

    def summary(self) -> dict:
        """What the limiter did, for the log and the result file (global numbers)."""
        st = self.stats
        return {
            "scheme": "limited",
            "limiter_gamma": self.gamma,
            "max_low_order_diffusion": self.added_diffusion,
            "max_removed_antidiffusion_fraction": st.max_removed_fraction,
            "solves": st.solves,
            "picard_iterations": st.picard_iterations,
            "krylov_iterations": st.linear_iterations,
            "last_relative_residual": st.last_residual,
            "wall_s": st.wall_s,
        }

    def destroy(self) -> None:
        self.halo.destroy()
        if self._pool is not None:
            self._pool.destroy()
        if self._own_solver:
            self.solver.destroy()
