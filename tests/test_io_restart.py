"""Parallel HDF5 output and checkpoints: global datasets, restart on any rank count."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from util import integrated_density, slab_config

from galprop_py.config import config_from_dict
from galprop_py.decomposition import Decomposition
from galprop_py.grid import make_spatial_grid
from galprop_py.io import read_checkpoint, write_checkpoint
from galprop_py.run import run


def _transient(tmp, t_end, restart=None, every=None):
    cfg = slab_config(
        n_z=41,
        v=10.0,
        mode="transient",
        time__dt_myr=2.0,
        time__t_end_myr=t_end,
        time__scheme="backward_euler",
    )
    data = cfg.model_dump()
    data["run"]["output_dir"] = str(tmp)
    data["output"]["checkpoint_every_myr"] = every
    return run(config_from_dict(data), progress=False, restart=restart)


@pytest.mark.parallel
def test_checkpoint_roundtrip_global_layout(tmp_path_shared):
    """A checkpoint holds global arrays in physical axis order: what a rank writes is read
    back by the rank that owns those cells, whatever the rank count, and a plain h5py read
    shows the global array."""
    grid = make_spatial_grid("cylindrical2d", {"r": (0, 4), "z": (-2, 2)}, {"r": 9, "z": 13})
    dec = Decomposition(grid, 5)
    r, z = dec.local_centers()
    local = (r * 100 + z)[..., None] + np.arange(5)
    path = tmp_path_shared / "ck.h5"
    write_checkpoint(path, dec, {"H1": local}, 12.5, 7, {"a": 1})
    states, t, step, _ = read_checkpoint(path, dec)
    assert (t, step) == (12.5, 7)
    np.testing.assert_array_equal(states["H1"], local)
    if MPI.COMM_WORLD.rank == 0:
        with h5py.File(path, "r") as f:
            arr = f["/state/H1"][...]
        assert arr.shape == (9, 13, 5)
        rc, zc = grid.axes[0].centers, grid.axes[1].centers
        np.testing.assert_allclose(arr[3, 4, 2], rc[3] * 100 + zc[4] + 2)
    assert not (tmp_path_shared / "ck.h5.tmp").exists()


@pytest.mark.parallel
def test_restart_continues_the_same_run(tmp_path_shared):
    """10 steps in one go equal 5 steps, a checkpoint, and 5 more steps after a restart
    (backward Euler; agreement to 1e-9, the solver tolerance)."""
    full = _transient(tmp_path_shared / "a", 20.0)
    _transient(tmp_path_shared / "b", 10.0, every=10.0)
    ck = tmp_path_shared / "b" / "checkpoint.h5"
    assert ck.exists()
    resumed = _transient(tmp_path_shared / "c", 20.0, restart=str(ck))
    assert resumed.t_myr == pytest.approx(20.0)
    a, b = integrated_density(full), integrated_density(resumed)
    assert np.max(np.abs(a - b)) / a.max() < 1e-9


def test_result_file_is_self_describing(tmp_path_shared):
    """The result file has units on every dataset, the resolved config and the version."""
    cfg = slab_config(n_z=21)
    data = cfg.model_dump()
    data["run"]["output_dir"] = str(tmp_path_shared)
    res = run(config_from_dict(data), progress=False)
    if MPI.COMM_WORLD.rank == 0:
        with h5py.File(res.output_file, "r") as f:
            assert f.attrs["code"] == "galprop-py"
            assert "config_json" in f.attrs
            assert f["grid/z"].attrs["unit"] == "kpc"
            flux = f["species/H1/flux"]
            assert flux.shape == (21, 6)
            assert "m^-2 s^-1 sr^-1" in flux.attrs["unit"]
            assert f["species/H1/sun/flux_toa"].attrs["phi_gv"] == pytest.approx(0.6)


def test_snapshots_every_interval(tmp_path_shared):
    """output.snapshot_every_myr = 4 over 10 Myr writes snapshots at 4 and 8 Myr, each with
    the global flux array and its time; the 8 Myr one differs from the 4 Myr one."""
    cfg = slab_config(n_z=21, mode="transient", time__dt_myr=1.0, time__t_end_myr=10.0)
    data = cfg.model_dump()
    data["run"]["output_dir"] = str(tmp_path_shared)
    data["output"]["snapshot_every_myr"] = 4.0
    run(config_from_dict(data), progress=False)
    files = sorted((tmp_path_shared / "snapshots").glob("t_*.h5"))
    assert [f.name for f in files] == ["t_0000004.0000.h5", "t_0000008.0000.h5"]
    with h5py.File(files[0]) as a, h5py.File(files[1]) as b:
        assert a.attrs["t_myr"] == 4.0 and b.attrs["t_myr"] == 8.0
        fa, fb = a["species/H1/flux"][...], b["species/H1/flux"][...]
    assert fa.shape == (21, 6) and np.all(fb >= fa) and np.any(fb > fa)
