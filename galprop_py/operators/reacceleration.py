"""Diffusive reacceleration:  d/dp [ p^2 D_pp d/dp (psi / p^2) ]  (second-order Fermi).

Conservative in momentum with zero flux through both grid ends; the coefficient on each
neighbour is non-positive, so the operator keeps psi non-negative.  D_pp of the model
follows Seo & Ptuskin (1994, Ap&SS 213, 351): D_pp D_xx = 4 p^2 v_A^2 / (3 delta (4 - delta^2)
(4 - delta) w)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Operator


class MomentumDiffusion(Operator):
    name = "reacceleration"

    def is_active(self, coeffs) -> bool:
        return bool(coeffs.momentum_diffusion)

    def assemble(self, system, coeffs, decomp) -> None:
        dpp = coeffs.momentum_diffusion.evaluate(decomp.local_centers())  # at edges
        p, pe, dp = coeffs.p, coeffs.p_edges, coeffs.dp
        n = p.size
        dpp = np.ascontiguousarray(np.broadcast_to(dpp, system.shape[:-1] + (n + 1,)))
        _momentum_diffusion(
            system.diag.reshape(-1, n),
            system.p_upper.reshape(-1, n),
            system.p_lower.reshape(-1, n),
            dpp.reshape(-1, n + 1),
            pe[1:-1] ** 2,
            p[1:] - p[:-1],
            1.0 / p**2,
            np.asarray(dp, dtype=float),
        )


@njit(cache=True)
def _momentum_diffusion(diag, upper, lower, dpp, pe2, dpc, inv_p2, dp):  # pragma: no cover
    """Per cell, with w_e = p_e^2 D_pp,e / (p_e - p_(e-1)) on the inner edges (0 at both
    ends): diag_k += (w_(k+1) + w_k) / p_k^2 / dp_k, upper_k += -w_(k+1) / p_(k+1)^2 / dp_k,
    lower_k += -w_k / p_(k-1)^2 / dp_k (the numpy expressions' order of operations)."""
    cells, n = diag.shape
    w = np.zeros(n + 1)
    for c in range(cells):
        for e in range(1, n):
            w[e] = pe2[e - 1] * dpp[c, e] / dpc[e - 1]
        for k in range(n):
            diag[c, k] += (w[k + 1] + w[k]) * inv_p2[k] / dp[k]
            if k < n - 1:
                upper[c, k] += -w[k + 1] * inv_p2[k + 1] / dp[k]
            if k > 0:
                lower[c, k] += -w[k] * inv_p2[k - 1] / dp[k]
