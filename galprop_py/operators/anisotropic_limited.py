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
``rtol``.  The linear solves are inexact: each starts from the previous iterate and is asked
for a residual of ``eta`` times the current nonlinear one (never below 0.01 rtol), so the
early iterates, which the next limiter evaluation changes anyway, cost a few Krylov
iterations; the last ones are solved to 0.01-0.1 rtol.  The KSP keeps its type,
preconditioner and options prefix (a run's ``steady_`` or ``transient_`` solver); its
tolerance is set by the Picard loop and restored afterwards.  The limiter is applied to the
spatial couplings of whatever linear system it is given (the diffusion alone, or a species'
full operator, so a centred wind is limited with it); momentum couplings are kept as they
are (positivity then also needs them non-positive, as the upwind momentum schemes are).

The limiter (the antidiffusive fluxes, Zalesak's P, Q, R, the factors alpha_ij and the
Picard matrix rows) is two numba kernels over the owned cells (:func:`_zalesak_bounds`,
:func:`_picard_rows`) that write the matrix values straight into a fixed CSR pattern;
neighbours on other ranks come from the DMDA halo exchange (two per evaluation: u and
R^+-).  :meth:`LimitedDiffusion.summary` is what a log line or a result file carries
(Picard and Krylov iterations, fraction of antidiffusion removed).

``gamma`` (default 3): on the 2D B12 release (kpar/kperp = 100, h = 0.98) gamma = 1, 3, 10
leave across-b variance errors of 2.8, 0.46, 0.27 for 13, 20, 39 Picard iterations per
step; 3 is the compromise.  Measured orders and costs: tests/test_anisotropic_convergence.py,
tests/test_limited_runs.py and benchmarks/anisotropic_point_release.py.

Units: those of the system it is given (the solver's kpc, Myr, GeV/c).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI
from numba import njit
from petsc4py import PETSc

from ..decomposition import Decomposition
from .stencil import StencilSystem, compress_rows

#: defaults of ``diffusion.limiter_gamma`` and of the Picard tolerance of the operator
DEFAULT_GAMMA = 3.0
DEFAULT_RTOL = 1e-10
#: linear tolerance of a Picard step: ``ETA`` times the nonlinear residual it starts from
ETA = 0.1
#: Picard steps mixed by Anderson acceleration (0: plain Picard)
ANDERSON = 3


@dataclass
class LimiterStats:
    """What the limiter did (global over ranks): Picard and Krylov iterations, time, and how
    much antidiffusion was removed: ``removed_fraction`` = 1 - sum |alpha a| / sum |a| at the
    last evaluation, ``max_removed_fraction`` the largest over the run."""

    picard_iterations: int = 0
    linear_iterations: int = 0
    solves: int = 0
    wall_s: float = 0.0
    limiter_s: float = 0.0  # of which: limiter evaluations and matrix refills
    last_residual: float = 0.0
    removed_fraction: float = 0.0
    max_removed_fraction: float = 0.0
    history: list[int] = field(default_factory=list)  # Picard iterations per solve


class _Halo:
    """Owned values plus one ghost layer, padded to the owned box + 1 cell per side (zeros
    outside the physical domain), flattened to (padded cells, dof)."""

    def __init__(self, dec: Decomposition):
        self.dec = dec
        self.vec = dec.create_vec()
        d = dec.grid.dim
        sl = []
        for ax in reversed(range(d)):
            lo = dec._ghost.starts[ax] - (dec.box.starts[ax] - 1)
            sl.append(slice(lo, lo + dec._ghost.shape[ax]))
        self._ghost_slice = tuple(sl)
        self.padded_shape = tuple(n + 2 for n in dec.box.c_shape)
        # flat padded index of every owned cell (C order of the rank-local arrays)
        flat = np.arange(int(np.prod(self.padded_shape)), dtype=np.int64)
        inner = (slice(1, -1),) * d
        self.owned = np.ascontiguousarray(flat.reshape(self.padded_shape)[inner].reshape(-1))
        # physical axis a is C axis d-1-a: its stride is the product of the faster sizes
        self._strides = [int(np.prod(self.padded_shape[d - a :], dtype=np.int64)) for a in range(d)]

    def stride(self, offset) -> int:
        """Flat padded index shift of a neighbour at ``offset`` (physical axis order)."""
        return sum(int(o) * s for o, s in zip(offset, self._strides, strict=True))

    def pad(self, local: np.ndarray) -> np.ndarray:
        dec = self.dec
        with dec.writable(self.vec) as arr:
            arr[...] = local
        padded = np.zeros(self.padded_shape + (dec.dof,))
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


@njit(cache=True)
def _zalesak_bounds(up, owned, strides, dcoef, lcoef, gamma, r_plus, r_minus, s_plus, s_minus):
    """Zalesak's ratios R_i^+- = min(1, gamma S_i^+- / P_i^+-) for every owned row, with
    P^+- = sum_j max/min(0, a_ij), a_ij = -d_ij (u_j - u_i), and S^+- = sum_j l_ij
    max/min(0, u_j - u_i) (stored: the Picard weights need them).  ``up``: u on the padded
    box, flattened (padded cells, dof); ``owned``: the owned cells' flat indices; the
    coefficients (cells, dof, offsets) vanish towards missing neighbours."""
    ncell, npts = r_plus.shape
    noff = strides.size
    for c in range(ncell):
        i = owned[c]
        for k in range(npts):
            ui = up[i, k]
            pp = 0.0
            pm = 0.0
            sp = 0.0
            sm = 0.0
            for o in range(noff):
                diff = up[i + strides[o], k] - ui
                a = -dcoef[c, k, o] * diff
                if a > 0.0:
                    pp += a
                else:
                    pm += a
                if diff > 0.0:
                    sp += lcoef[c, k, o] * diff
                else:
                    sm += lcoef[c, k, o] * diff
            r_plus[c, k] = min(1.0, gamma * sp / pp) if pp > 0.0 else 1.0
            r_minus[c, k] = min(1.0, gamma * sm / pm) if pm < 0.0 else 1.0
            s_plus[c, k] = sp
            s_minus[c, k] = sm


@njit(cache=True)
def _picard_rows(
    up, rpp, rmp, owned, strides, dcoef, lcoef, low_diag, low_sp, r_plus, r_minus,
    s_plus, s_minus, scale, shift, pos, csr, au,
):  # fmt: skip
    """The limited antidiffusion F_i = sum_j alpha_ij a_ij, alpha_ij = min(R_i^+, R_j^-) for
    a_ij > 0 and min(R_i^-, R_j^+) otherwise (``rpp``/``rmp``: R^+- on the padded box),
    A(u) u = L u - F (spatial part: ``au``), and the Picard rows shift + scale (L + W(u))
    written into ``csr`` at the positions ``pos`` (rows, slots: diagonal, then the offsets; -1:
    no entry), w_ij = l_ij F_i / S_i^+- on the side of the sign of F_i.  Returns
    (sum |a|, sum |alpha a|)."""
    ncell, npts = r_plus.shape
    noff = strides.size
    total = 0.0
    kept = 0.0
    for c in range(ncell):
        i = owned[c]
        for k in range(npts):
            row = c * npts + k
            ui = up[i, k]
            flux = 0.0
            lu = low_diag[c, k] * ui
            for o in range(noff):
                j = i + strides[o]
                uj = up[j, k]
                a = -dcoef[c, k, o] * (uj - ui)
                lu += low_sp[c, k, o] * uj
                if a > 0.0:
                    alpha = min(r_plus[c, k], rmp[j, k])
                elif a < 0.0:
                    alpha = min(r_minus[c, k], rpp[j, k])
                else:
                    alpha = 0.0
                flux += alpha * a
                total += abs(a)
                kept += abs(alpha * a)
            rp = flux / s_plus[c, k] if (flux > 0.0 and s_plus[c, k] > 0.0) else 0.0
            rm = flux / s_minus[c, k] if (flux < 0.0 and s_minus[c, k] < 0.0) else 0.0
            wsum = 0.0
            for o in range(noff):
                diff = up[i + strides[o], k] - ui
                w = 0.0
                if diff > 0.0:
                    w = lcoef[c, k, o] * rp
                elif diff < 0.0:
                    w = lcoef[c, k, o] * rm
                wsum += w
                q = pos[row, 1 + o]
                if q >= 0:
                    csr[q] = scale * (low_sp[c, k, o] - w)
            csr[pos[row, 0]] = shift + scale * (low_diag[c, k] + wsum)
            au[c, k] = lu - flux
    return total, kept


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
            block-Jacobi/ILU(0), unpreconditioned residual); its type and preconditioner are
            used, its tolerance is set per Picard step (module docstring).
        eta: linear tolerance of a Picard step relative to the nonlinear residual.
        anderson: depth of the Anderson acceleration of the Picard iterations (0: off).
    """

    def __init__(
        self,
        system: StencilSystem,
        gamma: float = DEFAULT_GAMMA,
        rtol: float = DEFAULT_RTOL,
        max_iterations: int = 200,
        solver=None,
        eta: float = ETA,
        anderson: int = ANDERSON,
    ):
        if not gamma >= 1.0:
            raise ValueError(f"diffusion.limiter_gamma = {gamma!r}: must be >= 1")
        if not 0.0 < rtol < 1.0:
            raise ValueError(f"diffusion.limiter_rtol = {rtol!r}: allowed 0 < rtol < 1")
        if not 0.0 < eta < 1.0:
            raise ValueError(f"limiter eta = {eta!r}: allowed 0 < eta < 1")
        from ..solvers.petsc import LinearSolver

        self.high = system
        self.dec = dec = system.decomp
        self.gamma = float(gamma)
        self.rtol = float(rtol)
        self.eta = float(eta)
        if not (isinstance(anderson, int | np.integer) and anderson >= 0):
            raise ValueError(f"limiter anderson = {anderson!r}: allowed integers >= 0")
        self.anderson = int(anderson)
        self.max_iterations = int(max_iterations)
        self.halo = _Halo(dec)
        self.stats = LimiterStats()
        self._own_solver = solver is None
        self.solver = solver or LinearSolver(
            dec.comm,
            "limited_",
            {"ksp_norm_type": "unpreconditioned", "ksp_initial_guess_nonzero": True},
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
        # (cells, dof, offsets) coefficient stacks for the kernels (offsets innermost)
        npts = dec.dof
        ncell = dec.box.ncells
        self._strides = np.array([self.halo.stride(o) for o in self.offsets], dtype=np.int64)

        def stack(coeffs):
            out = np.zeros((ncell, npts, len(self.offsets)))
            for j, o in enumerate(self.offsets):
                out[:, :, j] = coeffs[o].reshape(ncell, npts)
            return out

        self._d, self._l, self._low_sp = stack(self.d), stack(self.l), stack(low.spatial)
        self._low_diag = np.ascontiguousarray(low.diag.reshape(ncell, npts))
        self._bands = {kk: v for kk, v in low.p_band.items() if np.any(v)}
        self._build_pattern()
        self._mat = None

    # --- the fixed CSR pattern of the Picard matrices ---------------------------------------
    def _build_pattern(self) -> None:
        dec = self.dec
        npts = dec.dof
        kk = np.arange(npts, dtype=np.int64)
        own = dec.neighbour_blocks((0,) * dec.grid.dim).reshape(-1, 1) * npts
        slots = [(own + kk).reshape(-1)]
        for off in self.offsets:
            blocks = dec.neighbour_blocks(off).reshape(-1, 1)
            slots.append(np.where(blocks >= 0, blocks * npts + kk, -1).reshape(-1))
        for d in sorted(self._bands):
            valid = (kk + d >= 0) & (kk + d < npts)
            slots.append(np.where(valid, own + kk + d, -1).reshape(-1))
        cols = np.ascontiguousarray(np.stack(slots))
        nslots, nrows = cols.shape
        indptr = np.empty(nrows + 1, dtype=PETSc.IntType)
        col_idx = np.empty(cols.size, dtype=PETSc.IntType)
        where = np.empty(cols.size, dtype=PETSc.ScalarType)
        position = np.arange(cols.size, dtype=PETSc.ScalarType).reshape(cols.shape)
        nnz = compress_rows(cols, position, indptr, col_idx, where)
        pos = np.full(cols.size, -1, dtype=np.int64)
        pos[where[:nnz].astype(np.int64)] = np.arange(nnz)
        self._indptr, self._col_idx = indptr, col_idx[:nnz].copy()
        self._pos = np.ascontiguousarray(pos.reshape(nslots, nrows).T)  # (rows, slots)
        self._csr = np.zeros(nnz, dtype=PETSc.ScalarType)
        # the momentum bands are fixed: their CSR positions and values
        self._band_pos = []
        for s, d in enumerate(sorted(self._bands), start=1 + len(self.offsets)):
            p = self._pos[:, s]
            ok = p >= 0
            self._band_pos.append((p[ok], self._bands[d].reshape(-1)[ok]))

    # --- the nonlinear operator ------------------------------------------------------------------
    def _evaluate(self, u: np.ndarray, scale: float, shift: float) -> np.ndarray:
        """Fill the Picard matrix values shift I + scale (L + W(u)) and return A(u) u
        (rank-local); records the removed fraction."""
        t0 = time.perf_counter()
        dec = self.dec
        npts = dec.dof
        ncell = dec.box.ncells
        up = self.halo.pad(u).reshape(-1, npts)
        r_plus = np.empty((ncell, npts))
        r_minus = np.empty((ncell, npts))
        s_plus = np.empty((ncell, npts))
        s_minus = np.empty((ncell, npts))
        _zalesak_bounds(
            up, self.halo.owned, self._strides, self._d, self._l, self.gamma,
            r_plus, r_minus, s_plus, s_minus,
        )  # fmt: skip
        shape = dec.box.c_shape + (npts,)
        rpp = self.halo.pad(r_plus.reshape(shape)).reshape(-1, npts)
        rmp = self.halo.pad(r_minus.reshape(shape)).reshape(-1, npts)
        au = np.empty((ncell, npts))
        total, kept = _picard_rows(
            up, rpp, rmp, self.halo.owned, self._strides, self._d, self._l, self._low_diag,
            self._low_sp, r_plus, r_minus, s_plus, s_minus, float(scale), float(shift),
            self._pos, self._csr, au,
        )  # fmt: skip
        for where, vals in self._band_pos:
            self._csr[where] = scale * vals
        au = au.reshape(shape)
        ul = u.reshape(shape)
        for kk, c in self._bands.items():
            if kk > 0:
                au[..., :-kk] += c[..., :-kk] * ul[..., kk:]
            else:
                au[..., -kk:] += c[..., -kk:] * ul[..., :kk]
        comm = dec.comm.tompi4py()
        total, kept = comm.allreduce(np.array([total, kept]), op=MPI.SUM)
        removed = float(1.0 - kept / total) if total > 0.0 else 0.0
        self.stats.removed_fraction = removed
        self.stats.max_removed_fraction = max(self.stats.max_removed_fraction, removed)
        self.stats.limiter_s += time.perf_counter() - t0
        return au

    def apply(self, u: np.ndarray) -> np.ndarray:
        """A(u) u for the owned rows (rank-local array in, rank-local array out)."""
        return self._evaluate(u, 1.0, 0.0)

    def _matrix(self) -> PETSc.Mat:
        """The Picard matrix with the values of the last :meth:`_evaluate` (one Mat,
        refilled: the preconditioner keeps its symbolic set-up)."""
        if self._mat is None:
            nrows = self._pos.shape[0]
            nglobal = self.dec.grid_unknowns
            self._mat = PETSc.Mat().createAIJ(
                size=((nrows, nglobal), (nrows, nglobal)),
                csr=(self._indptr, self._col_idx, self._csr),
                comm=self.dec.comm,
            )
        else:
            self._mat.setValuesCSR(self._indptr, self._col_idx, self._csr)
        self._mat.assemble()
        return self._mat

    def picard_diagonal(self) -> np.ndarray:
        """Diagonal of the last Picard matrix (rank-local)."""
        return self._csr[self._pos[:, 0]].reshape(self.dec.box.c_shape + (self.dec.dof,))

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

    def _weights(self, rhs: np.ndarray) -> np.ndarray:
        """Per momentum point 1 / |rhs_k|^2 (global): the inner product of the Anderson
        least squares, so that every momentum counts alike (spectra span decades)."""
        axes = tuple(range(rhs.ndim - 1))
        n2 = np.sum(rhs**2, axis=axes)
        self.dec.comm.tompi4py().Allreduce(MPI.IN_PLACE, n2, op=MPI.SUM)
        top = n2.max() if n2.size else 0.0
        return 1.0 / np.where(n2 > 0.0, n2, top if top > 0.0 else 1.0)

    def _anderson(self, fs, gs, weights) -> np.ndarray:
        """Anderson's mixing (type II; Walker & Ni 2011, SIAM J. Numer. Anal. 49, 1715,
        Eq. 2.3): with f_j = G(u_j) - u_j, gamma minimises |f_k - sum_j gamma_j (f_{j+1} -
        f_j)| and the next input is G(u_k) - sum_j gamma_j (g_{j+1} - g_j)."""
        df = [b - a for a, b in zip(fs[:-1], fs[1:], strict=True)]
        dg = [b - a for a, b in zip(gs[:-1], gs[1:], strict=True)]
        m = len(df)
        axes = tuple(range(fs[-1].ndim - 1))
        gram = np.empty((m, m + 1))
        for a in range(m):
            for b in range(a, m):
                gram[a, b] = np.sum(weights * np.sum(df[a] * df[b], axis=axes))
            gram[a, m] = np.sum(weights * np.sum(df[a] * fs[-1], axis=axes))
        self.dec.comm.tompi4py().Allreduce(MPI.IN_PLACE, gram, op=MPI.SUM)
        for a in range(m):
            for b in range(a):
                gram[a, b] = gram[b, a]
        mat, vec = gram[:, :m], gram[:, m]
        reg = 1e-12 * max(np.trace(mat), 1e-300)
        gamma = np.linalg.solve(mat + reg * np.eye(m), vec)
        out = gs[-1].copy()
        for j in range(m):
            out -= gamma[j] * dg[j]
        return out

    def solve(self, rhs: np.ndarray, psi, scale: float = 1.0, shift: float = 0.0, what=""):
        """Solve (shift I + scale A(u)) u = rhs by Picard iterations; ``psi`` (a Vec) holds
        the initial guess and receives the solution.  Returns the Picard iterations.

        With ``anderson`` > 0 the input of each Picard step is Anderson's mixing of the last
        ``anderson`` + 1 steps; once the nonlinear residual is below rtol, one plain Picard
        step follows, so that the result is an M-matrix solve (non-negative), and plain
        steps continue until its residual is below rtol again."""
        from ..solvers.petsc import SolverError
        from ..solvers.steady import scaled_solve

        dec = self.dec
        ksp = self.solver.ksp
        tolerances = ksp.getTolerances()  # rtol, atol, divtol, max_it
        guess = ksp.getInitialGuessNonzero()
        ksp.setInitialGuessNonzero(True)
        weights = self._weights(rhs) if self.anderson else None
        fs, gs = [], []
        mixed = False  # psi holds a mixed iterate, not a Picard output
        plain = self.anderson == 0
        last = np.inf
        t0 = time.perf_counter()
        try:
            for it in range(self.max_iterations + 1):
                u = dec.local_array(psi).copy()
                au = self._evaluate(u, scale, shift)
                res = self._residual(rhs - (shift * u + scale * au), rhs)
                self.stats.last_residual = res
                if res <= self.rtol and not mixed:
                    break
                if res <= self.rtol or res > 2.0 * last:
                    fs, gs = [], []  # converged (finish plainly) or diverging: restart
                    plain = plain or res <= self.rtol
                last = res
                if it == self.max_iterations:
                    raise SolverError(
                        f"{what or 'limited anisotropic diffusion'}: Picard iterations did "
                        f"not converge in {self.max_iterations} (residual {res:.3e}, rtol "
                        f"{self.rtol:g}); raise diffusion.limiter_rtol or use another "
                        "diffusion.scheme"
                    )
                lin = max(self.eta * min(res, 1.0), 0.01 * self.rtol)
                ksp.setTolerances(rtol=lin, atol=tolerances[1], max_it=tolerances[3])
                info = scaled_solve(
                    dec, self.solver, self._matrix(), self.picard_diagonal(), rhs, psi,
                    what or "limited diffusion",
                )  # fmt: skip
                self.stats.linear_iterations += info.iterations
                mixed = False
                if not plain:
                    g = dec.local_array(psi).copy()
                    fs.append(g - u)
                    gs.append(g)
                    del fs[: -(self.anderson + 1)], gs[: -(self.anderson + 1)]
                    if len(fs) > 1:
                        with dec.writable(psi) as arr:
                            arr[...] = self._anderson(fs, gs, weights)
                        mixed = True
        finally:
            ksp.setTolerances(rtol=tolerances[0], atol=tolerances[1], max_it=tolerances[3])
            ksp.setInitialGuessNonzero(guess)
        self.stats.picard_iterations += it
        self.stats.solves += 1
        self.stats.history.append(it)
        self.stats.wall_s += time.perf_counter() - t0
        return it

    def steady(self, source: np.ndarray, psi) -> int:
        """Steady state A(u) u = source; ``psi`` holds the guess (zero is fine)."""
        return self.solve(source, psi, what="steady state with limited diffusion")

    def theta_step(self, psi, dt: float, theta: float = 1.0, source=None, what="") -> int:
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
        return self.solve(
            rhs, psi, scale=theta, shift=1.0 / dt, what=what or f"time step dt = {dt:g}"
        )

    def summary(self) -> dict:
        """What the limiter did, for the log and the result file (global numbers)."""
        st = self.stats
        return {
            "scheme": "limited",
            "limiter_gamma": self.gamma,
            "limiter_rtol": self.rtol,
            "max_low_order_diffusion": self.added_diffusion,
            "removed_antidiffusion_fraction": st.removed_fraction,
            "max_removed_antidiffusion_fraction": st.max_removed_fraction,
            "solves": st.solves,
            "picard_iterations": st.picard_iterations,
            "max_picard_iterations": max(st.history, default=0),
            "krylov_iterations": st.linear_iterations,
            "last_relative_residual": st.last_residual,
            "wall_s": st.wall_s,
            "limiter_s": st.limiter_s,
        }

    def destroy(self) -> None:
        self.halo.destroy()
        if self._mat is not None:
            self._mat.destroy()
            self._mat = None
        if self._own_solver:
            self.solver.destroy()


# --- the scheme in runs --------------------------------------------------------------------------
#: Picard tolerance of runs (``diffusion.limiter_rtol``): the steady KSP's 1e-6
RUN_RTOL = 1e-6


@dataclass(frozen=True)
class LimiterOptions:
    """``diffusion.limiter_gamma`` and ``diffusion.limiter_rtol`` of a run."""

    gamma: float = DEFAULT_GAMMA
    rtol: float = RUN_RTOL

    @classmethod
    def of(cls, cfg) -> LimiterOptions:
        """From a :class:`~galprop_py.config.Config` (or None: the defaults)."""
        block = getattr(cfg, "diffusion", None)
        if block is None:
            return cls()
        return cls(float(block.limiter_gamma), float(block.limiter_rtol))


def diffusion_operator(transport):
    """The :class:`~galprop_py.operators.diffusion.SpatialDiffusion` of a species' transport
    (None without diffusion)."""
    return next((op for op in transport.operators if op.name == "diffusion"), None)


def is_limited(transport) -> bool:
    """Whether the species is to be solved with the limited scheme."""
    op = diffusion_operator(transport)
    return op is not None and op.scheme == "limited"


def limited_operator(transport, solver, options: LimiterOptions | None = None):
    """The :class:`LimitedDiffusion` of a species' whole operator (its linear system with the
    centred diffusion), solving with ``solver``; None unless the scheme is ``"limited"``."""
    if not is_limited(transport):
        return None
    options = options or LimiterOptions()
    return LimitedDiffusion(transport.system(), options.gamma, options.rtol, solver=solver)


def record_summary(transport, op: LimitedDiffusion) -> dict:
    """Store what ``op`` did on the species' diffusion operator (its ``diagnostics()``) and
    return the summary."""
    summary = op.summary()
    diffusion_operator(transport).limiter_summary = summary
    return summary


def summary_line(diag: dict) -> str:
    """One log fragment for a diffusion operator's diagnostics ('' for a linear scheme that
    added nothing)."""
    if diag.get("scheme") == "limited" and diag.get("solves"):
        return (
            f"limited diffusion: {diag['picard_iterations']} Picard iterations "
            f"(max {diag['max_picard_iterations']} per solve), removed "
            f"{diag['max_removed_antidiffusion_fraction']:.3f} of the antidiffusion"
        )
    if diag.get("scheme") == "monotone" and diag.get("max_cross_field_fraction", 0.0) > 0.0:
        return (
            f"monotone diffusion: added cross-field diffusion up to "
            f"{diag['max_cross_field_fraction']:.3g} kappa_perp"
        )
    if diag.get("scheme") == "selling" and diag.get("lattice_vectors"):
        return (
            f"selling diffusion: {diag['lattice_vectors']} lattice vectors up to "
            f"{diag['max_reach_cells']} cells, nothing added"
        )
    return ""
