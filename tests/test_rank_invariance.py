"""The same run gives the same numbers on any number of ranks."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc

from galprop_py.cli import _default_config_path
from galprop_py.config import load_config
from galprop_py.run import run


@pytest.mark.parallel
def test_default_model_same_on_all_ranks_and_alone(tight_steady_rtol):
    """The default model (coarse grid) solved on all ranks together equals the same model
    solved by each rank alone (PETSc.COMM_SELF): local spectra to 1e-8 relative at every
    energy with the solver at rtol 1e-13 (on 1 rank the two runs are the same run)."""
    cfg = load_config(
        str(_default_config_path()),
        ["grid.n_r=17", "grid.n_z=33", "momentum.n=32", "output.plot=false"],
    )
    together = run(cfg, progress=False, write_output=False)
    alone = run(cfg, comm=PETSc.COMM_SELF, progress=False, write_output=False)
    for name in ("H1", "He4"):
        a = together.sun_spectra[name]["lis"]
        b = alone.sun_spectra[name]["lis"]
        assert np.max(np.abs(a / b - 1.0)) < 1e-8, name
    # and every rank agrees on the result it reports
    mine = together.sun_spectra["H1"]["lis"]
    first = MPI.COMM_WORLD.bcast(mine, root=0)
    assert np.array_equal(mine, first)


@pytest.mark.parallel
def test_full_network_same_on_all_ranks_and_alone(tight_steady_rtol):
    """The full-network example (Z <= 26: 78 nuclei, electrons, positrons, antiprotons; coarse
    grid) on all ranks
    together and on each rank alone: the elements and ratios at the Sun agree to 1e-8 with
    the solver at rtol 1e-13, so the solve order, the channels and the normalisation groups
    do not depend on the decomposition."""
    from pathlib import Path

    path = Path(__file__).parents[1] / "examples" / "full_network" / "config.toml"
    cfg = load_config(path, ["grid.n_r=9", "grid.n_z=17", "momentum.n=32", "output.plot=false"])
    together = run(cfg, progress=False, write_output=False)
    alone = run(cfg, comm=PETSc.COMM_SELF, progress=False, write_output=False)
    assert len(together.model.species) == 81
    for name in ("H", "He", "B", "C", "O", "Fe"):
        a, b = together.elements[name]["toa"], alone.elements[name]["toa"]
        assert np.max(np.abs(a / b - 1.0)) < 1e-8, name
    for name in ("B_C", "Be10_Be9", "SubFe_Fe", "H2_He4"):
        a, b = together.ratios[name]["toa_r"], alone.ratios[name]["toa_r"]
        assert np.max(np.abs(a / b - 1.0)) < 1e-8, name
