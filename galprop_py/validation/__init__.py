"""Independent checks of the grid solver: a pseudo-particle (SDE) solver (:mod:`.sde`)."""

from .sde import (
    BinGrid,
    GaussianSource,
    PointSource,
    SDEProblem,
    SDEResult,
    UniformSource,
    simulate,
)

__all__ = [
    "BinGrid",
    "GaussianSource",
    "PointSource",
    "SDEProblem",
    "SDEResult",
    "UniformSource",
    "simulate",
]
