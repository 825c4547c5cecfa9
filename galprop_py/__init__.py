"""galprop-py: MPI-parallel cosmic-ray transport in galaxies (Parker equation, PETSc solvers)."""

__version__ = "0.1.0"
