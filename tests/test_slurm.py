"""The job scripts of jobs/ under a real single-node SLURM (issue 11).

A module fixture starts a private cluster with ``scripts/slurm_local.sh`` (munged, slurmctld,
slurmd as root; config, key, sockets, state and logs under the test's tmp directory, free
ports; Debian's slurm-wlm 22.05 and munge from ``scripts/setup_env.sh``) and stops it on
teardown, also when a test fails.  The tests skip, with the reason, when not root, when the
binaries or mpirun are missing, or when the node is not idle within 30 s.

What is checked (the conservation law here is "a restart continues the same run": with the
same time step and scheme a chained run repeats the uninterrupted one's arithmetic, so they
agree to round-off, 1e-10 relative):

* a chain of three links (``jobs/submit_chain.sh 3``, afterany dependencies, each link
  ``--restart auto``): link 1 is stopped by SIGUSR1 to its batch shell (``scancel --batch
  --signal=USR1``, what ``--signal=B:USR1@...`` delivers), link 2 by SIGTERM to its batch
  shell; every link ends COMPLETED with ExitCode 0:0 (``scontrol show job`` and the
  jobcomp/filetxt record), each restart starts where the previous link stopped, and the
  final result equals an uninterrupted run of the same config on the same 2 ranks;
* SLURM's own ``--signal=B:USR1@45`` of a 1-minute time limit stops a link before the limit:
  COMPLETED, exit 0, the checkpoint written (SLURM sends the signal from its periodic
  time-limit check, every ~30 s, so it arrives 15-45 s after the start).

Times are wall-clock seconds.  The whole file takes ~40 s on a quiet 2-core machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pytest
from mpi4py import MPI

ROOT = Path(__file__).resolve().parents[1]
SLURM_LOCAL = ROOT / "scripts" / "slurm_local.sh"
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "scancel", "sinfo")
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"

pytestmark = [
    pytest.mark.serial,
    pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="starts its own SLURM and MPI jobs"),
]

# 8000 steps of 2 kyr (~3 s on a quiet core): a link must still be running when the test
# signals it (with 300 steps link 2 finished the whole run before its signal on a quiet machine)
T_END = 16.0
CHAIN_CONFIG = f"""
[run]
mode = "transient"
output_dir = "out"
[grid]
geometry = "slab1d"
n_z = 101
[momentum]
n = 16
[[species]]
name = "H1"
[time]
dt_myr = 0.002
t_end_myr = {T_END}
[output]
plot = false
checkpoint_every_myr = 0.5
"""


@dataclass
class Cluster:
    """A running private SLURM: its directory, the environment that talks to it."""

    dir: Path
    env: dict
    start_s: float
    measured: dict = field(default_factory=dict)

    def cmd(self, *args, cwd=None, env=None, timeout=30) -> str:
        proc = subprocess.run(
            list(args),
            cwd=cwd,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert proc.returncode == 0, f"{args}: {proc.stdout}{proc.stderr}"
        return proc.stdout

    def job(self, job_id: str) -> dict:
        """``scontrol show job -o``: the job's fields (finished jobs stay MinJobAge = 600 s)."""
        line = self.cmd("scontrol", "show", "job", "-o", job_id)
        return dict(re.findall(r"(\w+)=(\S*)", line))

    def wait_done(self, job_id: str, timeout: float) -> dict:
        """Wait until the job has ended (any final state); its fields.  SIGNALING is not an
        end: scontrol shows it while slurmctld delivers a --signal to a running job."""
        active = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SIGNALING")

        def ended():
            info = self.job(job_id)
            return None if info["JobState"] in active else info

        return wait_for(ended, timeout, f"job {job_id} to end", self)

    def logs(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            f = self.dir / name
            if f.is_file():
                parts.append(f"--- {name} (tail)\n" + "\n".join(f.read_text().splitlines()[-15:]))
        return "\n".join(parts)


def wait_for(predicate, timeout: float, what: str, cluster: Cluster | None = None, every=0.25):
    """Poll ``predicate`` until it returns something true; fail (never hang) after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = cluster.logs() if cluster is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{extra}")
        time.sleep(every)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root: scripts/slurm_local.sh runs munged, slurmctld and slurmd as root")
    missing = [b for b in DAEMONS if shutil.which(b, path=SBIN_PATH) is None]
    if missing:
        pytest.skip(
            f"SLURM/munge not installed ({', '.join(missing)} missing; scripts/setup_env.sh "
            "installs slurm-wlm and munge as root)"
        )
    if shutil.which("mpirun") is None:
        pytest.skip("needs mpirun")
    d = tmp_path_factory.mktemp("slurm")
    env = dict(os.environ, PATH=SBIN_PATH, SLURM_LOCAL_TIMEOUT="30")
    for k in [k for k in env if k.startswith("SLURM_") and k != "SLURM_LOCAL_TIMEOUT"]:
        del env[k]  # a test run inside a SLURM job must not talk to the site's cluster
    try:
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                ["bash", str(SLURM_LOCAL), "start", str(d)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            rc, err = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            rc, err = None, str(e.stderr or "")
        if rc != 0:
            pytest.skip(f"the local SLURM did not come up within 30 s (rc {rc}): {err[-1500:]}")
        env["SLURM_CONF"] = str(d / "slurm.conf")
        cluster = Cluster(d, env, time.monotonic() - t0)
        yield cluster
    finally:
        subprocess.run(
            ["bash", str(SLURM_LOCAL), "stop", str(d)],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )


def _job_env(cluster: Cluster) -> dict:
    return dict(
        cluster.env,
        GALPROP_HOME=str(ROOT),
        GALPROP_VENV=str(Path(sys.executable).parents[1]),
        PYTHONUNBUFFERED="1",
    )


def _stops(text: str) -> list[float]:
    return [
        float(x) for x in re.findall(r"signal received: checkpoint written at t = (\S+) Myr", text)
    ]


def _restarts(text: str) -> list[float]:
    return [
        float(x) for x in re.findall(r"restarted from out/checkpoint.h5 at t = (\S+) Myr", text)
    ]


def _result(path: Path) -> dict:
    with h5py.File(path) as f:
        return {
            "flux": f["species/H1/flux"][...],
            "flux_toa": f["species/H1/sun/flux_toa"][...],
            "t_myr": float(f.attrs["t_myr"]),
            "norm": float(f.attrs["normalisation_factor"]),
        }


def test_chain_of_three_links_completes_with_the_uninterrupted_result(slurm, tmp_path):
    env = _job_env(slurm)
    chain, ref = tmp_path / "chain", tmp_path / "ref"
    for d in (chain, ref):
        d.mkdir()
        (d / "run.toml").write_text(CHAIN_CONFIG)
    # the uninterrupted run, same launcher and ranks as a link, outside SLURM, meanwhile
    ref_env = {k: v for k, v in env.items() if k != "SLURM_CONF"}
    reference = subprocess.Popen(
        [
            "bash",
            "-c",
            f'source "{ROOT}/scripts/mpi_env.sh"; exec $MPIRUN -q -n 2 "$@"',
            "mpi",
            sys.executable,
            "-m",
            "galprop_py",
            "run",
            "--no-progress",
            "run.toml",
        ],
        cwd=ref,
        env=ref_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        t0 = time.monotonic()
        out = slurm.cmd(
            "bash", str(ROOT / "jobs" / "submit_chain.sh"), "3", "run.toml", cwd=chain, env=env
        )
        ids = re.findall(r"submitted link \d/3: job (\d+)", out)
        assert len(ids) == 3, out
        outputs = [chain / f"galprop-chain-{i}.out" for i in ids]
        ckpt = chain / "out" / "checkpoint.h5"

        def text(k):
            return outputs[k].read_text() if outputs[k].is_file() else ""

        # link 1: running with its first periodic checkpoint (t = 0.5 Myr), then SIGUSR1
        wait_for(ckpt.is_file, 90, "link 1's first checkpoint", slurm)
        slurm.cmd("scancel", "--batch", "--signal=USR1", ids[0])
        j1 = slurm.wait_done(ids[0], 60)
        # link 2: restarted, then one more checkpoint, then SIGTERM to its batch shell
        wait_for(lambda: _restarts(text(1)), 90, "link 2 to restart", slurm)
        inode = ckpt.stat().st_ino
        wait_for(lambda: ckpt.stat().st_ino != inode, 60, "link 2's own checkpoint", slurm)
        slurm.cmd("scancel", "--batch", "--signal=TERM", ids[1])
        j2 = slurm.wait_done(ids[1], 60)
        j3 = slurm.wait_done(ids[2], 120)
        slurm.measured["chain_s"] = time.monotonic() - t0
        ref_out, _ = reference.communicate(timeout=120)
    finally:
        if reference.poll() is None:  # SIGTERM: mpirun takes its ranks down with it
            reference.terminate()
            try:
                reference.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                reference.kill()
                reference.communicate(timeout=30)
    assert reference.returncode == 0, ref_out
    logs = "\n".join(f"--- link {k + 1}\n{text(k)}" for k in range(3))
    for j in (j1, j2, j3):
        assert (j["JobState"], j["ExitCode"]) == ("COMPLETED", "0:0"), f"{j}\n{logs}"
    # the accounting record of jobcomp/filetxt says the same
    comp = (slurm.dir / "jobcomp.txt").read_text()
    for i in ids:
        assert re.search(rf"JobId={i} .*JobState=COMPLETED .*ExitCode=0:0", comp), comp
    # each link stopped by its signal before the end; each restart where the previous stopped
    (t1,), (t2,) = _stops(text(0)), _stops(text(1))
    assert 0.5 <= t1 < t2 < T_END, logs
    assert _restarts(text(1)) == [t1] and _restarts(text(2)) == [t2], logs
    assert not _stops(text(2)) and "result written: out/result.h5" in text(2), logs
    a, b = _result(chain / "out" / "result.h5"), _result(ref / "out" / "result.h5")
    assert a["t_myr"] == pytest.approx(T_END, rel=1e-12)
    assert a["t_myr"] == pytest.approx(b["t_myr"], rel=1e-12)
    assert a["norm"] == pytest.approx(b["norm"], rel=1e-10)
    errors = {}
    for key in ("flux", "flux_toa"):
        errors[key] = float(np.max(np.abs(a[key] - b[key])) / np.max(np.abs(b[key])))
        assert errors[key] <= 1e-10, (key, errors[key])
    slurm.measured.update(
        t_stops=(t1, t2), run_times=[j["RunTime"] for j in (j1, j2, j3)], errors=errors
    )
    print(f"\nSLURM up in {slurm.start_s:.1f} s; chain {slurm.measured}")


def test_slurm_own_signal_stops_the_link_before_its_time_limit(slurm, tmp_path):
    """--time=1 --signal=B:USR1@45: SLURM itself signals the batch shell (15-45 s after the
    start); the link checkpoints, exits 0 and ends COMPLETED before the limit."""
    (tmp_path / "run.toml").write_text(
        CHAIN_CONFIG.replace(f"t_end_myr = {T_END}", "t_end_myr = 1e4")
    )
    t0 = time.monotonic()
    job_id = (
        slurm.cmd(
            "sbatch",
            "--parsable",
            "--time=1",
            "--signal=B:USR1@45",
            "--ntasks=1",
            str(ROOT / "jobs" / "transient_chain.slurm"),
            "run.toml",
            cwd=tmp_path,
            env=_job_env(slurm),
        )
        .strip()
        .split(";")[0]
    )
    j = slurm.wait_done(job_id, 100)
    wall = time.monotonic() - t0
    out = (tmp_path / f"galprop-chain-{job_id}.out").read_text()
    assert (j["JobState"], j["ExitCode"]) == ("COMPLETED", "0:0"), f"{j}\n{out}\n{slurm.logs()}"
    (t_stop,) = _stops(out)
    with h5py.File(tmp_path / "out" / "checkpoint.h5") as f:
        assert float(f["clock"].attrs["t_myr"]) == pytest.approx(t_stop, rel=1e-6)
    minutes, seconds = (int(x) for x in j["RunTime"].split(":")[-2:])
    assert 60 * minutes + seconds < 60, j["RunTime"]
    print(
        f"\n--signal link: RunTime {j['RunTime']}, stopped at t = {t_stop:g} Myr, wall {wall:.0f} s"
    )
