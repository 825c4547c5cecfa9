"""Integrals over a parent spectrum sampled on the momentum nodes, as one matrix.

Secondary antiprotons and leptons, and the photons of every emission process, are made by
parents of all energies:

    Q(E) = int dp psi(p) g(E, p)

with psi the parents' density per unit momentum on the run's nodes p_j and g the product of
velocity and differential cross section (or an emission kernel).  Between two nodes psi is
taken as the blend of the two local power laws of a reference slope s anchored at the nodes,

    psi(p) = (1 - t) psi_j (p / p_j)^-s + t psi_{j+1} (p / p_{j+1})^-s,
    t = ln(p / p_j) / ln(p_{j+1} / p_j),

which is exact for a power law of slope s and second order in the log step for any smooth
spectrum; the integral over each interval uses Gauss-Legendre points in ln p.  Outside the
nodes the parents are zero (the grid is the run's whole range).  The result is a matrix W
with int dp psi g = sum_k g(p_k) sum_j W[k, j] psi_j, so that for child (or photon) energies
E_i the production is one matrix product per cell block, M = g(E_i, p_k) @ W.
"""

from __future__ import annotations

import numpy as np

#: reference slope of the interpolation (a cosmic-ray spectrum per unit momentum ~ p^-2.7)
REFERENCE_SLOPE = 2.7
#: Gauss-Legendre points per momentum interval
POINTS_PER_INTERVAL = 8


def parent_quadrature(
    p_nodes, points: int = POINTS_PER_INTERVAL, slope: float = REFERENCE_SLOPE
) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature points ``p_k`` [same unit as p_nodes] and weights ``W[k, j]`` for
    int_{p_0}^{p_last} dp psi(p) g(p) = sum_k g(p_k) (W @ psi)[k]."""
    p = np.asarray(p_nodes, float)
    if p.ndim != 1 or p.size < 2 or np.any(np.diff(p) <= 0):
        raise ValueError("parent_quadrature: momentum nodes must be increasing, at least two")
    x, w = np.polynomial.legendre.leggauss(points)
    t = 0.5 * (x + 1.0)  # (points,) in (0, 1)
    wt = 0.5 * w
    lnp = np.log(p)
    du = np.diff(lnp)  # (n-1,)
    u = lnp[:-1, None] + du[:, None] * t[None, :]  # (n-1, points)
    pk = np.exp(u)
    jac = pk * du[:, None] * wt[None, :]  # dp = p du
    lo = (1.0 - t)[None, :] * (pk / p[:-1, None]) ** -slope * jac
    hi = t[None, :] * (pk / p[1:, None]) ** -slope * jac
    n_int = p.size - 1
    weights = np.zeros((n_int * points, p.size))
    rows = np.arange(n_int * points).reshape(n_int, points)
    weights[rows, np.arange(n_int)[:, None]] = lo
    weights[rows, np.arange(1, p.size)[:, None]] = hi
    return pk.ravel(), weights


def production_matrix(kernel_values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """M[i, j] = sum_k kernel_values[i, k] W[k, j]: ``kernel_values`` on (child energies,
    quadrature points)."""
    return np.asarray(kernel_values, float) @ weights


def apply_matrix(matrix: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """q[..., i] = sum_j M[i, j] psi[..., j] for rank-local arrays (cells first, momentum
    last): one matrix product over all cells."""
    shape = psi.shape[:-1]
    flat = psi.reshape(-1, psi.shape[-1])
    return (flat @ matrix.T).reshape(shape + (matrix.shape[0],))
