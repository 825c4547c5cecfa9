"""Continuous energy losses  d/dp (|pdot| psi)  (ionisation, Coulomb, bremsstrahlung,
synchrotron, inverse Compton), upwind in momentum.  Rates come from the numba kernels of
:mod:`galprop_py.physics.energy_losses` via the model, already converted to GeV/c per Myr."""

from __future__ import annotations

from .base import Operator
from .momentum_flux import add_momentum_drift


class ContinuousLosses(Operator):
    name = "energy_losses"

    def __init__(self, momentum_boundary: str = "outflow", scheme: str = "quadratic"):
        self.momentum_boundary = momentum_boundary
        self.scheme = scheme

    def is_active(self, coeffs) -> bool:
        return bool(coeffs.energy_loss)

    def assemble(self, system, coeffs, decomp) -> None:
        rate = coeffs.energy_loss.evaluate(decomp.local_centers())  # |dp/dt| at edges
        add_momentum_drift(
            system, -rate, coeffs.p, coeffs.p_edges, self.momentum_boundary, self.scheme
        )
