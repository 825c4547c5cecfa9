"""Test setup shared by the serial and the MPI runs.

Under ``mpirun`` every rank runs the same tests in the same order; only rank 0 reports.
Markers: ``serial`` (run only without MPI), ``parallel`` (also run on 4 ranks: the
decomposition matters), ``slow``.
"""

from __future__ import annotations

import gc
import os
import sys

import petsc4py

petsc4py.init(sys.argv[:1])
import pytest  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

RANK = MPI.COMM_WORLD.rank
SIZE = MPI.COMM_WORLD.size


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: run only in the serial pass")
    config.addinivalue_line("markers", "parallel: decomposition matters; also run on 4 ranks")
    if RANK != 0:
        # only rank 0 talks; the others still run every test
        sys.stdout = open(os.devnull, "w")
        config.option.verbose = -2


def pytest_collection_modifyitems(config, items):
    if SIZE > 1:
        return
    # nothing to skip serially


@pytest.fixture(autouse=True)
def _petsc_garbage():
    """Destroy dropped PETSc objects collectively after each test (avoids exit deadlocks)."""
    yield
    gc.collect()
    PETSc.garbage_cleanup(PETSc.COMM_WORLD)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test's teardown (its gc.collect and garbage_cleanup), freeze the survivors, so
    that the next test's collect scans only what that test made: a full collect over the
    ~1.5e5 objects of the imported packages took 0.16-0.4 s, 40% of the suite's time.  At
    the end of each module unfreeze, collect and clean up, so that cycles released by module
    fixtures are still destroyed (collectively: every rank runs the same items in the same
    order)."""
    yield
    if nextitem is None or nextitem.module is not item.module:
        gc.unfreeze()
        gc.collect()
        PETSc.garbage_cleanup(PETSc.COMM_WORLD)
    gc.freeze()


@pytest.fixture(autouse=True)
def _own_solver_options():
    """Remove the PETSc options a test added to the database: a run puts its config's
    [solver.petsc] options there (where the command line has not set them) and leaves them,
    and a later run would take them as its own."""
    opts = PETSc.Options()
    before = set(opts.getAll())
    yield
    for key in set(opts.getAll()) - before:
        opts.delValue(key)


@pytest.fixture
def comm():
    return PETSc.COMM_WORLD


@pytest.fixture
def tmp_path_shared(tmp_path_factory):
    """A temporary directory with the same path on every rank (for collective file I/O)."""
    path = tmp_path_factory.mktemp("shared") if RANK == 0 else None
    path = MPI.COMM_WORLD.bcast(str(path) if path else None, root=0)
    from pathlib import Path

    return Path(path)


@pytest.fixture
def tight_steady_rtol():
    """Steady solves to a relative residual of 1e-13 for this test.

    Convergence-order tests need the discretisation error, not the solver's, at their finest
    grid; and some spectra span more than ~8 decades with the source at one end (shock
    acceleration).  The default tolerance (1e-6 on the momentum-scaled residual) leaves
    errors of order 1e-5..1e-4 that depend on the rank count (block-Jacobi ILU is exact
    only on one rank for 1D problems)."""
    opts = PETSc.Options()
    opts.setValue("steady_ksp_rtol", "1e-13")
    yield
    opts.delValue("steady_ksp_rtol")
