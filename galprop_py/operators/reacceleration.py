"""Diffusive reacceleration:  d/dp [ p^2 D_pp d/dp (psi / p^2) ]  (second-order Fermi).

Conservative in momentum with zero flux through both grid ends; the coefficient on each
neighbour is non-positive, so the operator keeps psi non-negative.  D_pp of the model
follows Seo & Ptuskin (1994, Ap&SS 213, 351): D_pp D_xx = 4 p^2 v_A^2 / (3 delta (4 - delta^2)
(4 - delta) w)."""

from __future__ import annotations

import numpy as np

from .base import Operator


class MomentumDiffusion(Operator):
    name = "reacceleration"

    def is_active(self, coeffs) -> bool:
        return bool(coeffs.momentum_diffusion)

    def assemble(self, system, coeffs, decomp) -> None:
        dpp = coeffs.momentum_diffusion.evaluate(decomp.local_centers())  # at edges
        p, pe, dp = coeffs.p, coeffs.p_edges, coeffs.dp
        w = np.zeros_like(dpp)
        w[..., 1:-1] = pe[1:-1] ** 2 * dpp[..., 1:-1] / (p[1:] - p[:-1])
        inv_p2 = 1.0 / p**2
        system.diag += (w[..., 1:] + w[..., :-1]) * inv_p2 / dp
        system.p_upper[..., :-1] += -w[..., 1:-1] * inv_p2[1:] / dp[:-1]
        system.p_lower[..., 1:] += -w[..., 1:-1] * inv_p2[:-1] / dp[1:]
