"""Nothing lost, nothing hung (issue 11, items 1, 2, 5 and 8): results are written to a
temporary name and renamed; an error on one rank stops every rank with the same line; one
output directory takes one run at a time; a chain link stopped by its signal exits 0."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from util import GALPROP_CLI, mpi_job_env, on_rank0, run_job

from galprop_py.config import config_from_dict
from galprop_py.io import hdf5, safety
from galprop_py.run import run

RANK = MPI.COMM_WORLD.rank
SIZE = MPI.COMM_WORLD.size
ROOT = Path(__file__).resolve().parents[1]


def _data(out, n_z=21, mode="steady", d0=3.0e28, n_p=6, **blocks):
    data = {
        "run": {"mode": mode, "output_dir": str(out)},
        "grid": {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": n_z},
        "momentum": {"min": 1.0, "max": 100.0, "n": n_p, "boundary": "closed"},
        "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
        "diffusion": {"d0_cm2_s": d0, "delta": 0.0, "eta": 0.0},
        "gas": {"model": "none"},
        "losses": {"ionisation": False, "coulomb": False, "spallation": False},
        "source": {"profile": "thin_disc"},
        "normalization": {"enabled": False},
        "output": {"plot": False},
    }
    for block, values in blocks.items():
        data.setdefault(block, {}).update(values)
    return data


def _run(data, **kw):
    return run(config_from_dict(data), progress=False, **kw)


def _flux(path):
    with h5py.File(path) as f:
        return f["species/H1/flux"][...]


def _same_error_everywhere(err) -> str:
    msg = str(err.value)
    assert MPI.COMM_WORLD.allgather(msg) == [msg] * SIZE
    assert "\n" not in msg
    return msg


@pytest.fixture
def previous(tmp_path_shared):
    """A finished run's result file and its flux (every rank)."""
    res = _run(_data(tmp_path_shared))
    flux = _flux(res.output_file) if RANK == 0 else None
    return res.output_file, MPI.COMM_WORLD.bcast(flux, root=0)


def _intact(path, flux):
    """The previous result is still there, unchanged; no temporary file or lock is left."""

    def check():
        np.testing.assert_array_equal(_flux(path), flux)
        assert not path.with_name(path.name + ".tmp").exists()
        assert not path.with_name(path.name + ".reserve").exists()
        assert not (path.parent / safety.LOCK_NAME).exists()

    on_rank0(check)


def test_result_is_renamed_into_place(previous):
    path, _ = previous

    def check():
        with h5py.File(path) as f:
            assert f.attrs["content"] == "result"
        assert sorted(p.name for p in path.parent.iterdir()) == ["result.h5"]

    on_rank0(check)


@pytest.mark.parallel
def test_write_error_on_one_rank_stops_every_rank(previous, monkeypatch):
    """A disk error on rank 0 alone (it writes the small datasets) while the result is being
    written: every rank raises the same one-line OSError, the previous result is intact."""
    path, flux = previous
    original = h5py.Dataset.__setitem__

    def failing(self, key, value):
        if RANK == 0 and self.name.endswith("/sun/flux_toa"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, key, value)

    monkeypatch.setattr(h5py.Dataset, "__setitem__", failing)
    with pytest.raises(OSError) as err:
        _run(_data(path.parent, d0=5.0e28))
    msg = _same_error_everywhere(err)
    assert f"cannot write the result file {str(path)!r}" in msg and "No space left" in msg
    _intact(path, flux)


@pytest.mark.parallel
def test_failed_rename_stops_every_rank(previous, monkeypatch):
    """Renaming the finished file (rank 0 alone) fails: no rank hangs in a barrier."""
    path, flux = previous
    original = os.replace

    def failing(src, dst):
        if str(dst) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return original(src, dst)

    monkeypatch.setattr(hdf5.os, "replace", failing)
    with pytest.raises(PermissionError) as err:
        _run(_data(path.parent, d0=5.0e28))
    msg = _same_error_everywhere(err)
    assert "cannot rename" in msg and "Permission denied" in msg
    _intact(path, flux)


@pytest.mark.parallel
def test_read_error_on_the_last_rank_stops_every_rank(tmp_path_shared, monkeypatch):
    """The last rank alone cannot read its part of a checkpoint: all ranks stop with its
    message (no rank goes on to a collective call the others never make)."""
    data = _data(tmp_path_shared / "a", mode="transient", time={"dt_myr": 1.0, "t_end_myr": 2.0})
    _run(data)
    ck = tmp_path_shared / "a" / "checkpoint.h5"
    original = hdf5.ParallelFile.read_distributed

    def failing(self, name, decomp):
        if RANK == SIZE - 1:
            raise OSError(errno.EIO, "Input/output error")
        return original(self, name, decomp)

    monkeypatch.setattr(hdf5.ParallelFile, "read_distributed", failing)
    data["run"]["output_dir"] = str(tmp_path_shared / "b")
    data["time"]["t_end_myr"] = 4.0
    with pytest.raises(OSError) as err:
        _run(data, restart=str(ck))
    msg = _same_error_everywhere(err)
    assert "dataset /state/H1 is damaged" in msg and "Input/output error" in msg


def test_plot_error_on_rank0_stops_every_rank(tmp_path_shared, monkeypatch):
    import galprop_py.run as run_module

    def failing(cfg, result, png):
        raise OSError(errno.EROFS, "Read-only file system", str(png))

    monkeypatch.setattr(run_module, "_plot", failing)
    with pytest.raises(OSError) as err:
        _run(_data(tmp_path_shared, output={"plot": True}))
    assert "cannot write the plot" in _same_error_everywhere(err)


def test_not_enough_space_is_refused_at_start(previous, monkeypatch):
    path, flux = previous
    monkeypatch.setattr(safety, "free_bytes", lambda d: 1000)
    with pytest.raises(OSError) as err:
        _run(_data(path.parent, d0=5.0e28))
    msg = _same_error_everywhere(err)
    assert "not enough disk space" in msg and "0.001 MB free" in msg, msg
    _intact(path, flux)


@pytest.fixture
def tiny_disk(tmp_path_shared):
    """A 1 MB tmpfs (root only; skipped otherwise)."""
    mount = tmp_path_shared / "disk"
    ok = False
    if RANK == 0:
        mount.mkdir()
        if os.geteuid() == 0 and shutil.which("mount"):
            cmd = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]
            ok = subprocess.run(cmd, capture_output=True).returncode == 0
    ok = MPI.COMM_WORLD.bcast(ok, root=0)
    if not ok:
        pytest.skip("needs root and mount to make a small file system")
    yield mount
    MPI.COMM_WORLD.Barrier()
    if RANK == 0:
        subprocess.run(["umount", str(mount)], capture_output=True)


@pytest.mark.parallel
def test_real_full_disk_while_writing(tiny_disk, monkeypatch):
    """A file system that fills up during the write of a result (parallel HDF5 on several
    ranks): one line on every rank, previous result intact, the temporary file gone."""
    first = _run(_data(tiny_disk))
    flux = MPI.COMM_WORLD.bcast(_flux(first.output_file) if RANK == 0 else None, root=0)
    # the check of the free space before writing would refuse this one; skip it so that the
    # disk really fills up inside the HDF5 writes
    monkeypatch.setattr(safety, "free_bytes", lambda d: None)
    with pytest.raises(OSError) as err:
        _run(_data(tiny_disk, n_z=1001, n_p=200))
    msg = _same_error_everywhere(err)
    # MPI-IO does not pass the errno on: then the message names the full file system
    assert "the result file" in msg, msg
    assert "No space left on device" in msg or "the file system is full" in msg, msg
    _intact(first.output_file, flux)


# --- the lock of an output directory ------------------------------------------------------------
def _write_lock(directory: Path, pid: int) -> Path:
    import json
    import socket

    lock = directory / safety.LOCK_NAME
    if RANK == 0:
        directory.mkdir(parents=True, exist_ok=True)
        record = {"host": socket.gethostname(), "pid": pid, "started": "x", "run": "other"}
        lock.write_text(json.dumps(record))
    MPI.COMM_WORLD.Barrier()
    return lock


@pytest.mark.parallel
def test_second_run_into_a_locked_directory_is_refused(previous):
    """Another live run holds the directory (pid 1 runs on every host): refused at start,
    with one line naming the lock; its lock and the previous result stay."""
    path, flux = previous
    lock = _write_lock(path.parent, 1)
    t0 = time.perf_counter()
    with pytest.raises(OSError) as err:
        _run(_data(path.parent, d0=5.0e28))
    assert time.perf_counter() - t0 < 1.0
    msg = _same_error_everywhere(err)
    assert "is in use by another run" in msg and str(lock) in msg and "process 1" in msg

    def check():
        assert lock.exists()
        np.testing.assert_array_equal(_flux(path), flux)
        lock.unlink()

    on_rank0(check)


def test_stale_lock_is_replaced(previous, capfd):
    """A lock whose process no longer runs on this host (killed with SIGKILL) is stale: the
    run replaces it with a warning and removes its own lock at the end."""
    path, _ = previous
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lock = _write_lock(path.parent, gone.pid)
    _run(_data(path.parent, d0=5.0e28))
    err = capfd.readouterr().err

    def check():
        assert "removing the stale lock" in err
        assert not lock.exists()

    on_rank0(check)


def test_lock_is_removed_after_a_failed_run(previous, monkeypatch):
    path, flux = previous
    monkeypatch.setattr(safety, "free_bytes", lambda d: 1000)
    with pytest.raises(OSError):
        _run(_data(path.parent, d0=5.0e28))
    _intact(path, flux)  # includes: no lock left


# --- real jobs (their own mpirun) ---------------------------------------------------------------
_SLOW = (
    '[run]\nmode = "transient"\noutput_dir = "out"\n'
    '[grid]\ngeometry = "slab1d"\nn_z = 801\n'
    "[momentum]\nn = 40\n"
    '[[species]]\nname = "H1"\n'
    "[time]\ndt_myr = 0.001\nt_end_myr = 1000.0\n"
    "[output]\nplot = false\n"
)


def _env():
    return mpi_job_env(PYTHONUNBUFFERED="1")


def _start(cmd, cwd):
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = proc.stdout.readline()  # printed once the signal handlers are in place
    assert "mode transient" in first, first + proc.stderr.read()
    return proc


_MPI_RUN = ["mpirun", "-n", "2", *GALPROP_CLI, "run"]


@pytest.mark.serial
@pytest.mark.skipif(SIZE > 1, reason="spawns its own MPI job")
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs mpirun")
def test_two_parallel_runs_into_one_directory(tmp_path):
    """Two 2-rank runs into one output directory: the second stops at start with one line
    (it used to hang in the rename of the finished file); the first goes on, and stops
    cleanly on SIGUSR1 with its checkpoint."""
    (tmp_path / "slow.toml").write_text(_SLOW)
    first = _start([*_MPI_RUN, "slow.toml", "--no-progress"], tmp_path)
    try:
        second = run_job([*_MPI_RUN, "slow.toml", "--no-progress"], _env(), tmp_path, timeout=60)
        lines = [x for x in second.stderr.splitlines() if x.startswith("galprop-py")]
        assert second.returncode == 2, second.stderr
        assert len(lines) == 1 and "is in use by another run" in lines[0], second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGUSR1)
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert "checkpoint written" in out
    assert not (tmp_path / "out" / safety.LOCK_NAME).exists()


@pytest.mark.serial
@pytest.mark.skipif(SIZE > 1, reason="spawns its own MPI job")
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs mpirun")
@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGTERM])
def test_chain_link_stopped_by_signal_exits_0(tmp_path, sig):
    """jobs/transient_chain.slurm run as SLURM runs it (the batch shell gets --signal=B:USR1,
    or SIGTERM from scancel): the ranks write their checkpoint and the link exits 0, so the
    job ends COMPLETED (it exited 138 before); the next link resumes from the checkpoint."""
    (tmp_path / "slow.toml").write_text(_SLOW)
    env = dict(_env(), GALPROP_HOME=str(ROOT), GALPROP_VENV=str(Path(sys.executable).parents[1]))
    script = ROOT / "jobs" / "transient_chain.slurm"
    link = subprocess.Popen(
        ["bash", str(script), "slow.toml"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = link.stdout.readline()
    assert "mode transient" in first, first
    time.sleep(1.0)
    link.send_signal(sig)
    out, _ = link.communicate(timeout=60)
    assert link.returncode == 0, first + out
    ck = tmp_path / "out" / "checkpoint.h5"
    with h5py.File(ck) as f:
        t_stop = float(f["clock"].attrs["t_myr"])
    assert 0.0 < t_stop < 1000.0
    nxt = run_job(
        ["bash", str(script), "slow.toml", f"time.t_end_myr={t_stop + 0.002}"],
        env,
        tmp_path,
        timeout=120,
    )
    assert nxt.returncode == 0, nxt.stdout + nxt.stderr
    assert f"restarted from out/checkpoint.h5 at t = {t_stop:g} Myr" in nxt.stdout
