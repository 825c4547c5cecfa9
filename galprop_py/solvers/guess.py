"""Initial guesses of a network's steady solves from other species' solutions.

A species solved after others has a density of much the same spatial shape as theirs, with
another spectrum.  :func:`scaled_guess` takes the last few solutions t_j (the network's
templates) and looks for momentum-dependent factors alpha_j(k) such that
psi_0 = sum_j alpha_j(k) t_j nearly solves A psi = S.

The factors minimise the *true* residual |(S - A psi_0) / s| of the solve's momentum-scaled
system (s the solve's momentum scale, :func:`~galprop_py.solvers.steady.momentum_scaling`).
The operator couples momentum k to k - 2 .. k + 2 in the same and the neighbouring cells
(:data:`~galprop_py.operators.stencil.MOMENTUM_REACH`), so A applied to t_j restricted to
the momenta k = c (mod 5) gives, on each row momentum q, the response to the one momentum
k of colour c within reach of q: five products per template hold every column
A (t_j e_k) of the least-squares problem (a colouring of the momentum band).  The normal
equations, m n_p unknowns, are summed over the cells of every rank (a few thousand numbers)
and solved alike on each rank.

The former fit minimised |S_k - sum_j alpha_jk (A t_j)_k| momentum by momentum, i.e. it
applied the factors after A.  Where the factors change from one momentum to the next that
is not the residual of the guess: in the full-network example (2 ranks) that fit claimed
1e-4 - 1e-3 of |S| for most species while the true residuals were 1e-2 - 1e3, and a third
of the guesses were worse than none.

A species that feeds itself (``self_coupling`` T: the antiprotons' tertiaries, cell-local
but coupling every momentum to all lower ones) cannot be coloured; its T-part is fitted
after T as before, and the guess is judged by its true residual (one more product).
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from ..operators.stencil import MOMENTUM_REACH

#: a scaled guess (:func:`scaled_guess`) is used only below this relative residual
GUESS_MAX_RESIDUAL = 0.5
#: a solve from a scaled guess stops at this times the solver's rtol: from a guess the
#: stopping test relative to |b| leaves more error (full-network example, 1 rank, against
#: a 1e-11 solve: 1.2e-5 at rtol 1e-6 with the guess, 4.6e-6 without; 6.0e-6 at 3e-7 with
#: it, in 378 instead of 474 iterations)
GUESS_RTOL_FACTOR = 0.3


def _products(transport, arrays):
    """A x for each rank-local array x of the iterable ``arrays`` (the transport's matrix,
    unscaled), yielded one at a time: two work vectors for all of them, and no list of
    grid-sized arrays (the colouring's 5 m products in 3D)."""
    dec = transport.decomp
    v, w = dec.create_vec(), dec.create_vec()
    mat = transport.matrix()
    try:
        for x in arrays:
            with dec.writable(v) as a:
                a[...] = x
            mat.mult(v, w)
            yield dec.local_array(w).copy()
    finally:
        v.destroy()
        w.destroy()


def colour_columns(n_p: int) -> np.ndarray:
    """(n_p, colours): the momentum k of colour c within reach of row momentum q (k = c mod
    colours, |k - q| <= :data:`MOMENTUM_REACH`), -1 where it lies off the grid."""
    colours = 2 * MOMENTUM_REACH + 1
    q = np.arange(n_p)[:, None]
    lo = q - MOMENTUM_REACH
    k = lo + (np.arange(colours)[None, :] - lo) % colours
    return np.where((k >= 0) & (k < n_p), k, -1)


def scaled_guess(
    transport, rhs: np.ndarray, templates, self_coupling=None, scale=None
) -> tuple[np.ndarray | None, float]:
    """An initial guess sum_j alpha_j(k) t_j for ``A psi = rhs`` (``(A - T) psi = rhs`` with
    ``self_coupling`` T, :class:`~galprop_py.solvers.steady.SelfCoupled`) from other
    species' solutions t_j (rank-local arrays, a list), the factors minimising the true
    residual in the solve's momentum scaling (``scale``, made here when None; module
    docstring).  Every rank gets the same factors.  Returns ``(guess, relative residual)``,
    or ``(None, 1.0)`` when that residual is not below :data:`GUESS_MAX_RESIDUAL` (that of
    a zero guess is 1)."""
    dec = transport.decomp
    if scale is None:
        from .steady import _solve_scale

        scale = _solve_scale(transport, rhs, self_coupling)
    m, n_p = len(templates), rhs.shape[-1]
    colours = 2 * MOMENTUM_REACH + 1
    k = np.arange(n_p)
    cells = int(np.prod(rhs.shape[:-1]))
    extra = m if self_coupling is not None else 0
    # u[q, j * colours + c, cell]: row q of the column of unknown (j, index[q, ...]), i.e.
    # of A (t_j e_k) with e_k momentum k alone, in the scaled rows
    u = np.empty((n_p, m * colours + extra, cells))
    bands = transport.momentum_bands()
    if bands is not None:
        # A = A_0 + bands: A (t e_k) is (A_0 t)_k on row k and band_d t_k on row k - d
        index = np.full((n_p, m * colours), -1)
        for j, (t, a0) in enumerate(zip(templates, _products(transport, templates), strict=True)):
            t2 = t.reshape(cells, n_p)
            a0 = a0.reshape(cells, n_p)
            for d, band in bands.items():
                band = band.reshape(cells, n_p)
                lo, hi = max(0, -d), n_p - max(0, d)  # rows q with q + d on the grid
                part = band[:, lo:hi] * t2[:, lo + d : hi + d]
                a0[:, lo:hi] -= part
                part /= scale[lo:hi]
                col = j * colours + d + MOMENTUM_REACH
                u[:lo, col, :] = 0.0
                u[hi:, col, :] = 0.0
                u[lo:hi, col, :] = part.T
                index[lo:hi, col] = j * n_p + k[lo:hi] + d
            col = j * colours + MOMENTUM_REACH
            u[:, col, :] = (a0 / scale).T
            index[:, col] = j * n_p + k
    else:
        # colouring: A (t_j restricted to k = c mod colours) holds, on row q, the response
        # to the one momentum of colour c within reach (module docstring)
        masks = [(k % colours == c).astype(float) for c in range(colours)]
        masked = (t * mask for t in templates for mask in masks)
        for col, prod in enumerate(_products(transport, masked)):
            u[:, col, :] = (prod.reshape(cells, n_p) / scale).T
        column = colour_columns(n_p)  # (n_p, colours)
        index = np.where(
            column[:, None, :] >= 0, np.arange(m)[None, :, None] * n_p + column[:, None, :], -1
        ).reshape(n_p, m * colours)
    if self_coupling is not None:
        # T couples beyond the colouring's reach: its part, -T t_j on row q, is fitted with
        # the factor of (j, q), i.e. after T (approximate)
        for j, t in enumerate(templates):
            u[:, m * colours + j, :] = -(self_coupling(t) / scale).reshape(cells, n_p).T
        index = np.concatenate([index, np.arange(m)[None, :] * n_p + k[:, None]], axis=1)
    b = (rhs / scale).reshape(cells, n_p).T[:, :, None]  # (n_p, cells, 1)
    gram_q = np.matmul(u, u.transpose(0, 2, 1))
    proj_q = np.matmul(u, b)[:, :, 0]
    norm_b = np.array([np.sum(b * b)])
    mpi = dec.comm.tompi4py()
    for arr in (gram_q, proj_q, norm_b):
        mpi.Allreduce(MPI.IN_PLACE, arr, op=MPI.SUM)
    if not norm_b[0] > 0:
        return None, 1.0
    size = m * n_p
    valid = index >= 0
    pairs = valid[:, :, None] & valid[:, None, :]
    flat = np.maximum(index, 0)
    gram = np.zeros(size * size)
    np.add.at(gram, (flat[:, :, None] * size + flat[:, None, :])[pairs], gram_q[pairs])
    gram = gram.reshape(size, size)
    proj = np.zeros(size)
    np.add.at(proj, index[valid], proj_q[valid])
    alpha = _normal_solve(gram, proj)
    coef = np.where(valid, alpha[flat], 0.0)  # (n_p, columns)
    res = b[:, :, 0] - np.matmul(coef[:, None, :], u)[:, 0, :]
    del u
    total = np.array([np.sum(res * res)])
    mpi.Allreduce(MPI.IN_PLACE, total, op=MPI.SUM)
    alpha = alpha.reshape(m, n_p)
    guess = sum(alpha[j] * templates[j] for j in range(m))
    if self_coupling is not None:
        # judged by the true residual: the T-part above was fitted after T
        (ag,) = _products(transport, [guess])
        r = (rhs - ag + self_coupling(guess)) / scale
        total = np.array([np.sum(r * r)])
        mpi.Allreduce(MPI.IN_PLACE, total, op=MPI.SUM)
    ratio = float(np.sqrt(total[0] / norm_b[0]))
    if not ratio < GUESS_MAX_RESIDUAL:
        return None, 1.0
    return guess, ratio


#: relative ridge added to the equilibrated normal equations of :func:`scaled_guess`
#: (templates that are nearly proportional at some momenta make them singular there)
RIDGE = 1e-12


def _normal_solve(gram: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """Least-squares factors from the normal equations ``gram alpha = proj``: unknowns with
    no column (zero diagonal) stay 0, the rest are equilibrated to a unit diagonal and
    solved by Cholesky with a ridge of :data:`RIDGE` (an SVD when that fails)."""
    alpha = np.zeros(proj.size)
    d = np.diag(gram)
    used = d > 0
    if not np.any(used):
        return alpha
    inv = 1.0 / np.sqrt(d[used])
    g = gram[np.ix_(used, used)] * inv[:, None] * inv[None, :]
    p = proj[used] * inv
    g[np.diag_indices_from(g)] += RIDGE
    try:
        low = np.linalg.cholesky(g)
        y = np.linalg.solve(low, p)
        x = np.linalg.solve(low.T, y)
    except np.linalg.LinAlgError:
        x = np.linalg.lstsq(g, p, rcond=1e-12)[0]
    alpha[used] = x * inv
    return alpha
