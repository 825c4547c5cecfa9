"""Adiabatic energy change in a divergent wind: pdot = -(p/3) div u (Parker 1965).

Together with the conservative advection this is the Parker term u.grad f - (p/3)(div u) df/dp
written for psi = 4 pi p^2 f.  div u comes from the same face velocities as the advection, so a
wind blowing out of a thin disc cools particles in the disc cell only (div u = 2V/dz there).
"""

from __future__ import annotations

import numpy as np

from .advection import wind_divergence
from .base import Operator
from .momentum_flux import add_momentum_drift


class AdiabaticEnergyChange(Operator):
    name = "adiabatic"

    def __init__(self, momentum_boundary: str = "outflow", scheme: str = "quadratic"):
        self.momentum_boundary = momentum_boundary
        self.scheme = scheme

    def is_active(self, coeffs) -> bool:
        return coeffs.wind is not None

    def assemble(self, system, coeffs, decomp) -> None:
        div = wind_divergence(coeffs, decomp)
        if not np.any(div):
            return
        pdot = -(coeffs.p_edges / 3.0) * div[..., None]
        add_momentum_drift(
            system, pdot, coeffs.p, coeffs.p_edges, self.momentum_boundary, self.scheme
        )
