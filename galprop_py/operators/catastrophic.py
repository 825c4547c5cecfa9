"""Catastrophic losses -psi / tau: spallation on the gas (n v sigma) and radioactive decay
(1 / (gamma tau_0)).  The model supplies the total rate [1/Myr] as a separable field."""

from __future__ import annotations

from .base import Operator


class CatastrophicLosses(Operator):
    name = "catastrophic"

    def is_active(self, coeffs) -> bool:
        return bool(coeffs.catastrophic)

    def assemble(self, system, coeffs, decomp) -> None:
        system.diag += coeffs.catastrophic.evaluate(decomp.local_centers())
