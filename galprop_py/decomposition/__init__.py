"""Domain decomposition: a PETSc DMDA owns the grid, each rank's ranges and the halo exchange."""

from .dmda import Decomposition

__all__ = ["Decomposition"]
