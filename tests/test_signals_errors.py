"""What a user meets when things go wrong: a signal mid-run, a solver that fails."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest
from mpi4py import MPI
from petsc4py import PETSc
from util import GALPROP_CLI, mpi_job_env, run_job, slab_config

from galprop_py.run import run
from galprop_py.solvers import SolverError


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own MPI job")
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs mpirun")
def test_sigusr1_writes_checkpoint_and_restart_finishes(tmp_path):
    """A 2-rank transient run that gets SIGUSR1 (SLURM --signal) writes a checkpoint, stops
    with exit code 0, and `--restart auto` on 1 rank continues it to the end time."""
    cfg = tmp_path / "slow.toml"
    cfg.write_text(
        '[run]\nmode = "transient"\noutput_dir = "out"\n'
        '[grid]\ngeometry = "cylindrical2d"\nn_r = 41\nn_z = 81\n'
        "[momentum]\nn = 40\n"
        '[[species]]\nname = "H1"\n'
        "[time]\ndt_myr = 0.01\nt_end_myr = 1000.0\n"
        "[output]\nplot = false\n"
    )
    env = mpi_job_env()
    cmd = ["mpirun", "-n", "2", *GALPROP_CLI, "run", str(cfg), "--no-progress"]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    first = proc.stdout.readline()  # printed once the handlers are in place
    assert "mode transient" in first, first
    time.sleep(3.0)
    proc.send_signal(signal.SIGUSR1)
    out, _ = proc.communicate(timeout=120)
    out = first + out
    assert proc.returncode == 0, out
    assert "checkpoint written" in out, out
    ck = tmp_path / "out" / "checkpoint.h5"
    assert ck.is_file() and not (tmp_path / "out" / "checkpoint.h5.tmp").exists()
    import h5py

    with h5py.File(ck) as f:
        t_stop = float(f["/clock"].attrs["t_myr"])
    assert 0.0 < t_stop < 1000.0
    # continue on one rank, with a shorter end time so the test stays quick
    cmd = [*GALPROP_CLI, "run", str(cfg), "--no-progress", "--restart", "auto"]
    out2 = run_job([*cmd, f"time.t_end_myr={t_stop + 0.05}"], env, tmp_path, timeout=300)
    assert out2.returncode == 0, out2.stdout + out2.stderr
    assert "restarted from" in out2.stdout
    with h5py.File(tmp_path / "out" / "result.h5") as f:
        assert float(f.attrs["t_myr"]) == pytest.approx(t_stop + 0.05)


def _wait_until_held(proc, sig, timeout=30.0) -> None:
    """Until ``proc`` catches ``sig`` (its SigCgt mask in /proc): stop_signal.hold has run."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt"))
        except (OSError, StopIteration):
            mask = 0
        if mask >> (int(sig) - 1) & 1:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    raise AssertionError(f"{sig!r} never caught by the starting process")


def _signal_during_start_up(cmd, cwd, sig) -> tuple[int, str]:
    """Start ``cmd``, send it ``sig`` as soon as the program holds it and before PETSc is
    loaded (during the imports), and return its exit status and output."""
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    _wait_until_held(proc, sig)
    with open(f"/proc/{proc.pid}/maps") as f:
        assert "petsc" not in f.read(), "caught only once PETSc was loaded: not during start-up"
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own process")
@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs /proc")
def test_signal_during_start_up_stops_a_transient_run_with_its_checkpoint(tmp_path):
    """SIGUSR1 that comes while the program still imports numpy/PETSc/numba (seconds before
    the run installs its handler; the CI failure of SLURM's own --signal) is kept: the run
    stops at its first step with a checkpoint and exits 0, instead of dying with 138."""
    cfg = tmp_path / "slow.toml"
    cfg.write_text(
        '[run]\nmode = "transient"\noutput_dir = "out"\n'
        '[grid]\ngeometry = "slab1d"\nn_z = 41\n'
        "[momentum]\nn = 8\n"
        '[[species]]\nname = "H1"\n'
        "[time]\ndt_myr = 0.01\nt_end_myr = 1000.0\n"
        "[output]\nplot = false\n"
    )
    code, out = _signal_during_start_up(
        [*GALPROP_CLI, "run", str(cfg), "--no-progress"], tmp_path, signal.SIGUSR1
    )
    assert code == 0, out
    assert "checkpoint written" in out, out
    import h5py

    with h5py.File(tmp_path / "out" / "checkpoint.h5") as f:
        assert 0.0 < float(f["/clock"].attrs["t_myr"]) <= 0.01 + 1e-12  # its first step


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own process")
@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs /proc")
def test_signal_during_start_up_still_ends_a_steady_run(tmp_path):
    """A steady run has no checkpoint to write: SIGTERM during its start-up ends it as
    Python's default does (status -15), after the program held it through the imports."""
    code, out = _signal_during_start_up(
        [*GALPROP_CLI, "run", "grid.n_r=11", "grid.n_z=11", "--no-progress"],
        tmp_path,
        signal.SIGTERM,
    )
    assert code == -signal.SIGTERM, out
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").rglob("*.h5"))


def test_solver_failure_names_the_species():
    """A steady solve that cannot converge (one iteration allowed) stops with one line that
    names the species and the option to change."""
    opts = PETSc.Options()
    opts.setValue("steady_ksp_max_it", "1")
    try:
        with pytest.raises(SolverError) as err:
            run(slab_config(n_z=41, v=10.0), progress=False, write_output=False)
    finally:
        opts.delValue("steady_ksp_max_it")
    msg = str(err.value)
    assert "species H1" in msg and "-steady_ksp_type" in msg and "\n" not in msg


@pytest.mark.parallel
def test_too_many_ranks_for_the_grid_is_a_clear_error():
    """Three cells on four ranks: a one-line ValueError instead of a PETSc traceback."""
    from galprop_py.decomposition import Decomposition
    from galprop_py.grid import make_spatial_grid

    grid = make_spatial_grid("slab1d", {"z": (-1.0, 1.0)}, {"z": 3})
    if MPI.COMM_WORLD.size <= 3:
        Decomposition(grid, 2)  # fine
    else:
        with pytest.raises(ValueError, match="cannot be split over 4 MPI ranks"):
            Decomposition(grid, 2)


def test_unavailable_preconditioner_is_one_line():
    """-steady_pc_type with a type this PETSc lacks: a SolverError naming the option."""
    opts = PETSc.Options()
    opts.setValue("steady_pc_type", "no_such_pc")
    try:
        with pytest.raises(SolverError) as err:
            run(slab_config(n_z=21), progress=False, write_output=False)
    finally:
        opts.delValue("steady_pc_type")
    assert "-steady_pc_type" in str(err.value) and "\n" not in str(err.value)
