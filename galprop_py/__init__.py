"""galprop-py: MPI-parallel cosmic-ray transport in galaxies (Parker equation, PETSc solvers).

One thread per MPI rank for the BLAS/LAPACK under numpy and scipy, unless the environment
says otherwise: the code's parallelism is its ranks, and a threaded BLAS on every rank
oversubscribes the cores.  It matters where small dense products sit next to MPI waits
(the network's initial guesses, :mod:`galprop_py.solvers.guess`): full-network example,
4 ranks on 2 cores, 63-65 s with OpenBLAS's default threads against 36.5 s with one.  The
setting only takes effect if it is made before numpy is first imported, so it is made
here, at the package's import.
"""

import os as _os

for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
del _name

__version__ = "0.1.0"
