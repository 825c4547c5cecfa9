"""The bad-input table (issue 11): what a hostile but fair user types.

For every case: exit code 2 on every rank, one line on stderr (from rank 0 only) naming the
key and the value, no traceback, no hang (a time-out), and the previous result in the output
directory intact.  The cases run through the command line's entry function in-process (on 1
and on 2 ranks), a handful again as real jobs under ``mpirun -n 2``."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import time
from pathlib import Path

import h5py
import pytest
from mpi4py import MPI
from util import GALPROP_CLI, SLAB_TOML, cli_error_problems, mpi_job_env, run_job

from galprop_py.cli import main
from galprop_py.io.safety import LOCK_NAME

RANK = MPI.COMM_WORLD.rank
SIZE = MPI.COMM_WORLD.size

TRANSIENT = "\n[time]\ndt_myr = 1.0\nt_end_myr = 2.0\n"
TEN_SPECIES = (
    "species=["
    + ",".join(
        f"{{name='{n}'}}"
        for n in ("H1", "He4", "C12", "O16", "N14", "Ne20", "Mg24", "Si28", "Fe56", "He3")
    )
    + "]"
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Configs, a previous result, a checkpoint and the broken files the cases name."""
    root = tmp_path_factory.mktemp("bad_input") if RANK == 0 else None
    root = Path(MPI.COMM_WORLD.bcast(str(root) if root else None, root=0))
    out, ckdir, locked = root / "out", root / "ckrun", root / "locked"
    f = {
        "root": root,
        "out": out,
        "base": root / "base.toml",
        "base_t": root / "base_t.toml",
        "ck": ckdir / "checkpoint.h5",
        "result": out / "result.h5",
        "cfgdir": root / "a_directory",
        "latin1": root / "latin1.toml",
        "broken": root / "broken.toml",
        "binary": root / "binary.toml",
        "missing": root / "missing.toml",
        "afile": root / "afile",
        "locked": locked,
        "damaged": root / "damaged.h5",
    }
    if RANK == 0:
        f["base"].write_text(SLAB_TOML.format(mode="steady", out=out))
        f["base_t"].write_text(SLAB_TOML.format(mode="transient", out=out) + TRANSIENT)
        f["cfgdir"].mkdir()
        f["latin1"].write_bytes('[run]\nname = "Sch\xf6n"\n'.encode("latin-1"))
        f["broken"].write_text("[grid\nn_z = 3\n")
        f["afile"].write_text("a plain file\n")
    MPI.COMM_WORLD.Barrier()
    assert main(["run", str(f["base"]), "--no-progress"]) == 0
    assert main(["run", str(f["base"]), f"run.output_dir='{locked}'", "--no-progress"]) == 0
    assert main(
        ["run", str(f["base_t"]), f"run.output_dir='{ckdir}'", "--no-progress"]
    ) == 0  # fmt: skip
    if RANK == 0:
        (out / "sub").mkdir()
        f["binary"].write_bytes(f["result"].read_bytes())
        # another live run holds this directory (pid 1 runs on every host)
        record = {"host": socket.gethostname(), "pid": 1, "started": "-", "run": "other"}
        (locked / LOCK_NAME).write_text(json.dumps(record))
        # a checkpoint with one flipped bit in its state
        shutil.copy(f["ck"], f["damaged"])
        with h5py.File(f["damaged"]) as h5:
            chunk = h5["state/H1"].id.get_chunk_info(0)
        with open(f["damaged"], "r+b") as fh:
            fh.seek(chunk.byte_offset + 20)
            b = fh.read(1)
            fh.seek(-1, 1)
            fh.write(bytes([b[0] ^ 0x01]))
    MPI.COMM_WORLD.Barrier()
    f["sha"] = _sha(f["result"]) if RANK == 0 else None
    f["sha_locked"] = _sha(locked / "result.h5") if RANK == 0 else None
    return f


# (id, arguments, fragments the one line must contain); <name> are paths of ``files``
R, RT = ["run", "<base>", "--no-progress"], ["run", "<base_t>", "--no-progress"]
CASES = [
    # --- overrides that cannot be parsed ---
    ("override-into-value", [*R, "grid.n_z.x=1"], ["grid.n_z.x=1", "grid.n_z = 21"]),
    ("override-index-range", [*R, "species.7.abundance=1"], ["species.7.abundance", "'7'"]),
    ("override-index-word", [*R, "species.x.abundance=1"], ["species.x.abundance", "'x'"]),
    ("override-index-negative", [*R, "species.-1.abundance=1"], ["species.-1", "'-1'"]),
    (
        "override-index-unwritten-list",
        [*R, "losses.photon_fields.1.energy_density_ev_cm3=0.4"],
        [
            "losses.photon_fields.1.energy_density_ev_cm3",
            "not written",
            "losses.photon_fields=[...]",
        ],
    ),
    ("override-no-key", [*R, "=5"], ["'=5'", "block.key=value"]),
    ("override-empty-part", [*R, "grid..n_z=3"], ["'grid..n_z=3'"]),
    ("override-trailing-dot", [*R, "grid.=5"], ["'grid.=5'"]),
    ("override-leading-dot", [*R, ".n_z=5"], ["'.n_z=5'"]),
    ("override-block-as-value", [*R, "grid=5"], ["grid = 5"]),
    ("override-list-as-value", [*R, "species=5"], ["species = 5"]),
    # --- values of the wrong type or range ---
    ("int-word", [*R, "grid.n_z=banana"], ["grid.n_z = 'banana'"]),
    ("int-too-small", [*R, "grid.n_z=1"], ["grid.n_z = 1"]),
    ("int-fraction", [*R, "grid.n_z=21.5"], ["grid.n_z = 21.5"]),
    ("literal", [*R, "grid.geometry=torus"], ["grid.geometry = 'torus'"]),
    ("inf", [*R, "diffusion.d0_cm2_s=inf"], ["diffusion.d0_cm2_s = inf", "finite"]),
    ("minus-inf", [*R, "diffusion.d0_cm2_s=-inf"], ["diffusion.d0_cm2_s = -inf"]),
    ("nan", [*R, "wind.v0_km_s=nan"], ["wind.v0_km_s = nan"]),
    ("inf-in-parameters", [*R, "source.parameters.r0_kpc=inf"], ["source.parameters.r0_kpc"]),
    ("inf-in-petsc", [*R, "solver.petsc.ksp_rtol=inf"], ["solver.petsc.ksp_rtol = inf"]),
    ("negative", [*R, "diffusion.d0_cm2_s=-1"], ["diffusion.d0_cm2_s = -1"]),
    ("bool-for-float", [*R, "diffusion.delta=true"], ["diffusion.delta = true", "boolean"]),
    ("bool-for-int", [*R, "momentum.n=true"], ["momentum.n = true"]),
    ("bool-in-list", [*R, "species.0.injection.indices=[true]"], ["indices = [true]"]),
    ("bool-abundance", [*R, "species.0.abundance=false"], ["species.0.abundance = false"]),
    ("negative-wind", [*R, "wind.v0_km_s=-5"], ["wind.v0_km_s = -5"]),
    ("too-many-momenta", [*R, "momentum.n=1000"], ["momentum.n = 1000"]),
    ("momentum-order", [*R, "momentum.max=0.5"], ["momentum.max = 0.5", "momentum.min"]),
    ("phi-range", [*R, "modulation.phi_gv=5"], ["modulation.phi_gv = 5"]),
    (
        "phi-negative-without-force-field",
        [*R, "modulation.model=spherical_parker", "modulation.phi_negative_gv=0.8"],
        ["phi_negative_gv = 0.8", "'spherical_parker' does not use it"],
    ),
    (
        "phi-without-force-field",
        [*R, "modulation.model=spherical_parker", "modulation.phi_gv=0.5"],
        ["phi_gv = 0.5", "'spherical_parker' does not use it", "modulation.phi_gv="],
    ),
    ("scheme", [*RT, "time.scheme=rk4"], ["time.scheme = 'rk4'"]),
    ("zero-step", [*RT, "time.dt_myr=0"], ["time.dt_myr = 0"]),
    ("mode", [*R, "run.mode=sometimes"], ["run.mode = 'sometimes'"]),
    ("empty-file-name", [*R, "output.file=''"], ["output.file = ''"]),
    ("injection-lengths", [*R, "species.0.injection.indices=[2.0,2.4]"], ["breaks_gv"]),
    ("normalize-to-length", [*R, "species.0.normalize_to=[100]"], ["normalize_to", "[100]"]),
    ("boundary-kind", [*R, "grid.boundaries.z_max='sticky'"], ["grid.boundaries.z_max"]),
    ("source-profile", [*R, "source.profile=nosuch"], ["source.profile = 'nosuch'"]),
    ("unknown-key", [*R, "wind.speed=3"], ["wind.speed = 3", "unknown key"]),
    ("unknown-block", [*R, "nosuch.x=1"], ["nosuch", "unknown key"]),
    ("unknown-top-key", [*R, "x=1"], ["config key x = 1", "unknown key"]),
    ("unknown-element", [*R, "species.0.name=Xx99"], ["species", "'Xx99'"]),
    # --- silent physics mistakes ---
    ("no-species", [*R, "species=[]"], ["species = []"]),
    ("duplicate-species", [*R, "species=[{name='H1'},{name='H1'}]"], ["'H1' is listed twice"]),
    ("sun-above-halo", [*R, "sun.z_kpc=7"], ["sun.z_kpc = 7", "grid.z_max_kpc = 4"]),
    (
        "sun-beyond-disc",
        [*R, "grid.geometry=cylindrical2d", "grid.n_r=5", "sun.r_kpc=30"],
        ["sun.r_kpc = 30", "grid.r_max_kpc = 20"],
    ),
    (
        "normalisation-species-absent",
        [*R, "normalization.enabled=true", "normalization.species=C12"],
        ["normalization.species = 'C12'"],
    ),
    ("source-outside-grid", [*R, "source.r_max_kpc=1"], ["source.r_max_kpc = 1", "no cell"]),
    ("window-in-steady", [*R, "source.time_profile=window"], ["source.time_profile = 'window'"]),
    (
        "window-reversed",
        [*RT, "source.time_profile=window", "source.t_on_myr=5", "source.t_off_myr=2"],
        ["source.t_on_myr = 5", "source.t_off_myr = 2"],
    ),
    ("t-on-without-window", [*RT, "source.t_on_myr=3"], ["source.t_on_myr = 3"]),
    ("burst-duration-constant", [*RT, "source.burst_duration_myr=2"], ["burst_duration_myr = 2"]),
    ("face-of-other-geometry", [*R, "grid.boundaries.r_max='closed'"], ["'r_max'", "slab1d"]),
    ("no-such-face", [*R, "grid.boundaries.z_top='closed'"], ["'z_top'"]),
    # --- sizes ---
    (
        "nonzeros-overflow",
        [*R, "grid.n_z=200000000"],
        ["grid.n_z x momentum.n = 200000000 x 6", "matrix nonzeros per rank", "32-bit"],
    ),
    (
        "unknowns-overflow",
        [*R, "grid.n_z=100000000", "momentum.n=400"],
        ["grid.n_z x momentum.n = 100000000 x 400", "32-bit index range"],
    ),
    (
        "memory",
        [*RT, "grid.n_z=50000000", TEN_SPECIES],
        ["grid.n_z x momentum.n = 50000000 x 6", "GB of memory", "available"],
    ),
    # --- files ---
    ("config-is-directory", ["run", "<cfgdir>"], ["<cfgdir>", "is a directory"]),
    ("config-not-utf8", ["run", "<latin1>"], ["<latin1>", "not UTF-8", "0xf6"]),
    ("config-not-toml", ["run", "<broken>"], ["<broken>", "not valid TOML"]),
    ("config-binary", ["run", "<binary>"], ["<binary>", "not UTF-8"]),
    ("config-missing", ["run", "<missing>"], ["<missing>", "not found"]),
    ("output-file-is-directory", [*R, "output.file=sub"], ["output.file = 'sub'", "directory"]),
    ("output-dir-is-file", [*R, "run.output_dir='<afile>'"], ["run.output_dir", "<afile>"]),
    (
        "output-dir-under-file",
        [*R, "run.output_dir='<afile>/sub'"],
        ["cannot create the output directory", "<afile>/sub"],
    ),
    ("output-dir-locked", [*R, "run.output_dir='<locked>'"], ["<locked>", "in use"]),
    # --- restarts ---
    ("restart-steady", [*R, "--restart", "<ck>"], ["--restart", "<ck>", "steady"]),
    ("restart-missing", [*RT, "--restart", "<missing>"], ["<missing>", "not found"]),
    ("restart-directory", [*RT, "--restart", "<cfgdir>"], ["<cfgdir>", "directory"]),
    ("restart-result-file", [*RT, "--restart", "<result>"], ["<result>", "result file"]),
    ("restart-text-file", [*RT, "--restart", "<afile>"], ["<afile>"]),
    ("restart-other-grid", [*RT, "grid.n_z=11", "--restart", "<ck>"], ["grid.n_z = 21 there"]),
    (
        "restart-missing-species",
        [*RT, "species=[{name='H1'},{name='He4'}]", "--restart", "<ck>"],
        ["species He4 not in the checkpoint"],
    ),
    (
        "restart-other-physics",
        [*RT, "diffusion.d0_cm2_s=4e28", "--restart", "<ck>"],
        ["diffusion.d0_cm2_s = 3e+28 there, 4e+28 here"],
    ),
    (
        "restart-other-momenta",
        [*RT, "momentum.n=8", "--restart", "<ck>"],
        ["momentum grid", "6 points", "8 points"],
    ),
    ("restart-damaged", [*RT, "--restart", "<damaged>"], ["<damaged>", "damaged"]),
    ("restart-past-end", [*RT, "time.t_end_myr=1", "--restart", "<ck>"], ["past time.t_end"]),
    # --- the command line ---
    ("unknown-option", [*R, "--bogus"], ["--bogus"]),
    ("unknown-command", ["frobnicate"], ["'frobnicate'"]),
    ("second-config", ["run", "<base>", "<broken>"], ["<broken>", "block.key=value"]),
    ("restart-without-file", ["run", "--restart"], ["--restart", "expected one argument"]),
    ("config-command", ["config", "<base>", "grid.n_z=1"], ["grid.n_z = 1"]),
]
assert len(CASES) >= 60


def _fill(text: str, f) -> str:
    """``<name>`` in ``text`` becomes the path ``f[name]``."""
    return re.sub(r"<(\w+)>", lambda m: str(f[m.group(1)]), text)


def _argv(case, f):
    return [_fill(a, f) for a in case[1]]


def _check_intact(f):
    problem = None
    if RANK == 0:
        leftovers = [p.name for p in f["out"].iterdir() if p.name not in ("result.h5", "sub")]
        if _sha(f["result"]) != f["sha"] or _sha(f["locked"] / "result.h5") != f["sha_locked"]:
            problem = "the previous result changed"
        elif leftovers:
            problem = f"left in the output directory: {leftovers}"  # a temporary file, a lock
    problem = MPI.COMM_WORLD.bcast(problem, root=0)
    assert problem is None, problem


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, files, capsys):
    argv = _argv(case, files)
    t0 = time.perf_counter()
    code = main(argv)
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    # collected on every rank, then checked together (no rank runs ahead)
    problems = cli_error_problems(err, [_fill(x, files) for x in case[2]])
    if "Traceback" in err:
        problems.append("traceback")
    if elapsed > 3.0:  # typically 0.01-0.3 s
        problems.append(f"took {elapsed:.1f} s")
    problems = sum(MPI.COMM_WORLD.allgather(problems), [])
    assert MPI.COMM_WORLD.allgather(code) == [2] * SIZE
    _check_intact(files)
    assert not problems, problems


# every case already runs in-process on 1 and on 2 ranks (test_bad_input); the real jobs add
# the process around it (exit status, stderr of every rank, MPI's exit after an error), once
# per stage at which the error is found: the config's values, the model built on its grid, the
# checkpoint read with the decomposition (PETSc objects) in place.  (override-into-value,
# config-not-utf8 and output-file-is-directory, jobs here before, fail before the model is
# built, as inf does.)
SUBPROCESS_CASES = [
    "inf",
    "sun-above-halo",
    "restart-other-grid",
]


@pytest.mark.serial
@pytest.mark.skipif(SIZE > 1, reason="spawns its own MPI job")
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs mpirun")
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_as_a_two_rank_job(name, files):
    """The same under ``mpirun -q -n 2`` (``-q``: no help banner of mpirun's own): exit 2,
    one line on stderr, no traceback on any rank, within the time-out."""
    case = next(c for c in CASES if c[0] == name)
    cmd = ["mpirun", "-q", "-n", "2", *GALPROP_CLI, *_argv(case, files)]
    out = run_job(cmd, mpi_job_env(), timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("galprop-py: error: "), out.stderr
    for fragment in case[2]:
        assert _fill(fragment, files) in lines[0]
    _check_intact(files)


def test_keys_of_another_geometry_are_a_warning(files, capsys):
    """``grid.n_r`` on a slab (left over from switching geometry, say) is ignored with one
    warning from rank 0; the run goes on."""
    out = files["root"] / "warned"
    code = main(["run", str(files["base"]), "grid.n_r=11", f"run.output_dir='{out}'"])
    err = capsys.readouterr().err
    assert MPI.COMM_WORLD.allgather(code) == [0] * SIZE
    expected = (
        "[galprop-py] warning: grid.n_r = 11 does not apply to grid.geometry = 'slab1d'"
        if RANK == 0
        else ""
    )
    assert err.startswith(expected) and err.count("warning") == (1 if RANK == 0 else 0), err
