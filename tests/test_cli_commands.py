"""The commands of issue 11: config --toml, validate, info, plot, --version, progress, and the
checkpoint rotation and wall-time snapshots of [output].

Run in-process through the command line's entry function (:func:`galprop_py.cli.main`) on 1
and on 2 ranks: exit codes the same on every rank, errors one line from rank 0."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import tomllib
from mpi4py import MPI
from pydantic import BaseModel
from util import SLAB_TOML, cli_error_problems

from galprop_py.cli import main
from galprop_py.config import load_config

RANK = MPI.COMM_WORLD.rank
SIZE = MPI.COMM_WORLD.size
ROOT = Path(__file__).parents[1]

TIME = "[time]\ndt_myr = 1.0\nt_end_myr = {t_end}\n"


def _all(value):
    return MPI.COMM_WORLD.allgather(value)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A steady config and its result, a transient config and its checkpoint."""
    root = tmp_path_factory.mktemp("cli") if RANK == 0 else None
    root = Path(MPI.COMM_WORLD.bcast(str(root) if root else None, root=0))
    f = {
        "root": root,
        "steady": root / "steady.toml",
        "transient": root / "transient.toml",
        "result": root / "out" / "result.h5",
        "ck": root / "ck" / "checkpoint.h5",
        "text": root / "notes.txt",
        "foreign": root / "foreign.h5",
    }
    if RANK == 0:
        f["steady"].write_text(SLAB_TOML.format(mode="steady", out=root / "out"))
        f["transient"].write_text(
            SLAB_TOML.format(mode="transient", out=root / "ck") + TIME.format(t_end=2.0)
        )
        f["text"].write_text("not a result\n")
        with h5py.File(f["foreign"], "w") as h5:
            h5["x"] = np.arange(3.0)
    MPI.COMM_WORLD.Barrier()
    assert _all(main(["run", str(f["steady"]), "--no-progress"])) == [0] * SIZE
    assert _all(main(["run", str(f["transient"]), "--no-progress"])) == [0] * SIZE
    return f


def _one_error_line(err: str, *fragments) -> list[str]:
    """Problems with stderr of a failed command: one line from rank 0 naming the fragments
    (those of every rank)."""
    return sum(_all(cli_error_problems(err, fragments)), [])


# --- config --toml ----------------------------------------------------------------------------
def _fields_set(model, path="") -> dict:
    """Which keys were given, block by block (checks depend on it, as on the values)."""
    out = {path: set(model.model_fields_set)}
    for name in type(model).model_fields:
        v = getattr(model, name)
        items = (
            [(name, v)]
            if isinstance(v, BaseModel)
            else [(f"{name}.{i}", x) for i, x in enumerate(v)]
            if isinstance(v, list)
            else [(f"{name}.{k}", x) for k, x in v.items()]
            if isinstance(v, dict)
            else []
        )
        for key, x in items:
            if isinstance(x, BaseModel):
                out.update(_fields_set(x, f"{path}.{key}"))
    return out


def test_config_toml_round_trip_gives_the_same_config(files, capsys, tmp_path_shared):
    """``galprop-py config X --toml > x.toml``: loading x.toml gives a config equal to X with
    the overrides (values, and which keys were given)."""
    overrides = [
        "diffusion.delta=0.41",
        "species.0.abundance=0.5",
        "grid.boundaries.z_max='closed'",
    ]
    code = main(["config", str(files["steady"]), *overrides, "--toml"])
    out = capsys.readouterr().out
    assert _all(code) == [0] * SIZE
    path = tmp_path_shared / "resolved.toml"
    if RANK == 0:
        assert "``" not in out
        path.write_text(out)
    MPI.COMM_WORLD.Barrier()
    want = load_config(files["steady"], overrides)
    got = load_config(path)
    assert got == want and got.dump() == want.dump()
    assert _fields_set(got) == _fields_set(want)


@pytest.mark.serial  # config parsing and TOML text on one process (no main, no MPI)
@pytest.mark.parametrize(
    "config",
    [None, "examples/milky_way/config.toml", "examples/full_network/config.toml",
     "examples/fit/config.toml", "examples/electrons/config.toml"],
)  # fmt: skip
def test_config_toml_round_trip_of_the_shipped_configs(config, tmp_path):
    """The built-in model and the examples (a [network] without explicit species, a [fit]
    block, a non-grey-body ISRF) survive the TOML text unchanged."""
    from galprop_py.cli_info import config_toml

    cfg = load_config(ROOT / config if config else None)
    data = tomllib.loads(config_toml(cfg))
    from galprop_py.config import config_from_dict

    back = config_from_dict(data)
    assert back == cfg and back.dump() == cfg.dump()
    assert _fields_set(back) == _fields_set(cfg)


def test_config_formats_exclude_each_other(files, capsys):
    code = main(["config", str(files["steady"]), "--toml", "--json"])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, "--toml and --json")


# --- validate -----------------------------------------------------------------------------------
def test_validate_builds_the_model_and_solves_nothing(files, capsys, tmp_path_shared):
    """Grid and sizes as the config says (21 cells x 6 momenta = 126 unknowns per species);
    nothing is written (the output directory is not even created)."""
    out_dir = tmp_path_shared / "never"
    code = main(["validate", str(files["steady"]), f"run.output_dir='{out_dir}'"])
    out = capsys.readouterr().out
    assert _all(code) == [0] * SIZE
    if RANK == 0:
        assert "slab1d (21,)" in out and "z -4..4 kpc (21 cells)" in out
        assert "126 per species" in out and "1: H1" in out
        assert "6 nodes 1..100 GeV/n" in out
    assert not out_dir.exists()


def test_validate_bad_input_is_one_line(files, capsys):
    code = main(["validate", str(files["steady"]), "grid.n_z=banana"])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, "grid.n_z = 'banana'")
    code = main(["validate", str(files["steady"]), "source.r_max_kpc=1"])
    err = capsys.readouterr().err  # found only with the grid built: check_model
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, "source.r_max_kpc = 1", "no cell")


# --- info ---------------------------------------------------------------------------------------
def test_info_on_a_result_and_a_checkpoint(files, capsys):
    code = main(["info", str(files["result"])])
    out = capsys.readouterr().out
    assert _all(code) == [0] * SIZE
    if RANK == 0:
        for text in ("galprop-py result", "1: H1", "z -4..4 kpc (21 cells)", "steady state",
                     "6 nodes 1..100 GeV/n", "off (source units)", "named"):  # fmt: skip
            assert text in out, (text, out)
    code = main(["info", str(files["ck"])])
    out = capsys.readouterr().out
    assert _all(code) == [0] * SIZE
    if RANK == 0:
        # dt = 1 Myr up to t_end = 2 Myr: the final checkpoint is at step 2 (the heading
        # line holds the file's path and wraps where the temporary path is long)
        flat = " ".join(out.split())
        assert "galprop-py checkpoint" in flat and "t = 2 Myr, step 2" in flat, out


@pytest.mark.parametrize(
    "name,fragments",
    [
        ("text", ["notes.txt", "not an HDF5 file"]),
        ("foreign", ["foreign.h5", "galprop-py did not write"]),
        ("missing", ["missing.h5", "not found"]),
        ("root", ["is a directory"]),
    ],
)
def test_info_refuses_other_files_in_one_line(name, fragments, files, capsys):
    path = files["root"] / "missing.h5" if name == "missing" else files[name]
    code = main(["info", str(path)])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, *fragments)


# --- plot ---------------------------------------------------------------------------------------
def test_plot_writes_a_png(files, capsys):
    png = files["root"] / "h1.png"
    code = main(["plot", str(files["result"]), "--species", "H1", "--output", str(png)])
    capsys.readouterr()
    assert _all(code) == [0] * SIZE
    assert _all(png.is_file() and png.stat().st_size > 10_000) == [True] * SIZE


@pytest.mark.parametrize(
    "extra,fragments",
    [
        (["--species", "Xx"], ["--species 'Xx'", "H1"]),
        (["--ratio", "B/C"], ["--ratio 'B/C'"]),
        (["--bogus"], ["--bogus"]),
    ],
)
def test_plot_bad_request_is_one_line(extra, fragments, files, capsys):
    code = main(["plot", str(files["result"]), *extra])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, *fragments)


def test_plot_refuses_a_checkpoint(files, capsys):
    code = main(["plot", str(files["ck"])])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, "is a checkpoint, not a result file")


# --- version, help ------------------------------------------------------------------------------
def test_version_and_help_have_no_markup(capsys):
    from galprop_py import __version__

    assert _all(main(["--version"])) == [0] * SIZE
    out = capsys.readouterr().out
    assert out == (f"galprop-py {__version__}\n" if RANK == 0 else "")
    for command in ([], ["run"], ["config"], ["validate"], ["info"], ["plot"], ["fit"], ["scan"]):
        assert _all(main([*command, "--help"])) == [0] * SIZE
        out = capsys.readouterr().out
        if RANK == 0:
            assert out.startswith("Usage: galprop-py") and "``" not in out, out
        else:
            assert out == ""


def test_missing_file_argument_is_one_line(capsys):
    code = main(["info"])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, "FILE", "galprop-py info --help")


# --- progress -----------------------------------------------------------------------------------
def test_steady_progress_counts_species_and_leaves_the_solution_alone():
    """The bar reaches species done = total (H1, He4, C12 and its secondary B10: 4), and the
    densities are the same, bit for bit, as without it."""
    from util import b3_network_data

    from galprop_py.cli_info import steady_progress
    from galprop_py.config import config_from_dict
    from galprop_py.run import run
    from galprop_py.solvers import network

    data = b3_network_data(n_z=21)
    data["species"] = [{"name": "H1"}, {"name": "He4"}, *data["species"]]
    cfg = config_from_dict(data)
    plain = run(cfg, progress=False, write_output=False)
    with steady_progress(RANK == 0) as bar:
        shown = run(cfg, progress=False, write_output=False)
    assert network.PROGRESS == []  # the listener is gone after the block
    if RANK == 0:
        task = bar.tasks[0]
        assert task.total == 4 and task.completed == 4
    for name, state in plain.states.items():
        assert np.array_equal(state, shown.states[name]), name


# --- checkpoints and snapshots ------------------------------------------------------------------
def _clock(path: Path) -> float:
    with h5py.File(path, "r") as h5:
        return float(h5["/clock"].attrs["t_myr"])


@pytest.mark.parallel
@pytest.mark.parametrize("keep", [1, 3])
def test_keep_last_k_checkpoints(keep, tmp_path_shared, capsys):
    """dt = 1 Myr to 4 Myr with a checkpoint every 1 Myr and one at the end: written at
    t = 1, 2, 3, 4, 4; kept: the last ``keep``, newest first, each a complete checkpoint that
    a restart accepts; nothing else is left beside them."""
    out = tmp_path_shared / f"keep{keep}"
    cfg = tmp_path_shared / f"keep{keep}.toml"
    if RANK == 0:
        cfg.write_text(SLAB_TOML.format(mode="transient", out=out) + TIME.format(t_end=4.0))
    MPI.COMM_WORLD.Barrier()
    args = ["output.checkpoint_every_myr=1", f"output.keep_checkpoints={keep}"]
    code = main(["run", str(cfg), "--no-progress", *args])
    capsys.readouterr()
    assert _all(code) == [0] * SIZE
    written = [1.0, 2.0, 3.0, 4.0, 4.0]
    names = ["checkpoint.h5"] + [f"checkpoint.{i}.h5" for i in range(1, keep)]
    if RANK == 0:
        kept = sorted(p.name for p in out.iterdir() if p.name.startswith("checkpoint"))
        assert kept == sorted(names), kept
        assert [_clock(out / n) for n in names] == written[::-1][:keep]
    MPI.COMM_WORLD.Barrier()
    # every kept file is a complete checkpoint of this run: --restart takes the oldest too
    oldest = out / names[-1]
    code = main(["run", str(cfg), "--no-progress", *args, "--restart", str(oldest)])
    capsys.readouterr()
    assert _all(code) == [0] * SIZE


@pytest.mark.serial  # renames in a directory of this process's own (no MPI)
def test_rotation_keeps_the_newest_complete(tmp_path):
    """Rotation by renames: after each new checkpoint the names hold the newest K, and a
    rotation that fails (no new file) leaves checkpoint.h5 in place."""
    from galprop_py.run import rotate_checkpoints

    ck = tmp_path / "checkpoint.h5"
    for text in "ABCD":
        (tmp_path / "checkpoint.new.h5").write_text(text)
        if text == "A":
            (tmp_path / "checkpoint.new.h5").rename(ck)
        else:
            rotate_checkpoints(ck, 3)
    names = ["checkpoint.h5", "checkpoint.1.h5", "checkpoint.2.h5"]
    assert [(tmp_path / n).read_text() for n in names] == ["D", "C", "B"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    with pytest.raises(FileNotFoundError):
        rotate_checkpoints(ck, 3)
    assert ck.read_text() == "D"


@pytest.mark.parallel
def test_wall_time_snapshots(tmp_path_shared, capsys):
    """output.snapshot_wall_s shorter than any step: a snapshot after every step (4 steps of
    1 Myr), none from the simulated-time schedule (unset)."""
    out = tmp_path_shared / "snapwall"
    cfg = tmp_path_shared / "snapwall.toml"
    if RANK == 0:
        cfg.write_text(SLAB_TOML.format(mode="transient", out=out) + TIME.format(t_end=4.0))
    MPI.COMM_WORLD.Barrier()
    code = main(["run", str(cfg), "--no-progress", "output.snapshot_wall_s=1e-9"])
    capsys.readouterr()
    assert _all(code) == [0] * SIZE
    snaps = sorted(p.name for p in (out / "snapshots").iterdir())
    assert snaps == [f"t_{t:012.4f}.h5" for t in (1.0, 2.0, 3.0, 4.0)]


def test_keep_checkpoints_out_of_range_is_one_line(files, capsys):
    code = main(["run", str(files["transient"]), "--no-progress", "output.keep_checkpoints=0"])
    err = capsys.readouterr().err
    assert _all(code) == [2] * SIZE
    assert not _one_error_line(err, "output.keep_checkpoints = 0")


@pytest.mark.serial
def test_one_blas_thread_per_rank_unless_the_environment_says_otherwise():
    """Importing galprop_py before numpy sets one BLAS/OpenMP thread per process (ranks
    are the parallelism; galprop_py/__init__.py), and keeps a value the user set."""
    import os
    import subprocess
    import sys

    code = (
        "import galprop_py, os; "
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["1", "1"], out.stderr
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["2", "1"], out.stderr
