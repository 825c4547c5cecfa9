"""Scans in job-array slices merged into one table (galprop_py.fit.scan, scan-merge), and the
build-once cache of fits and scans (galprop_py.fit.build_once) against fresh runs."""

from __future__ import annotations

import copy

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc
from test_fit import _data

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.fit.build_once import BuildCache
from galprop_py.fit.fitter import Evaluator
from galprop_py.fit.output import toml_text
from galprop_py.fit.scan import (
    array_index_from_env,
    array_slice,
    merge_scan,
    parse_vary,
    part_directory,
    scan,
    write_scan,
)
from galprop_py.run import run

VARY = ["diffusion.delta=0.45,0.5,0.55", "species.0.injection.indices.1=2.3,2.4"]  # 6 points


def _h5_equal(a, b, skip=("config_json",)):
    """Every dataset and attribute of two HDF5 files equal (the parts' config attributes
    differ only by ``run.output_dir`` where noted)."""
    with h5py.File(a) as fa, h5py.File(b) as fb:
        names_a, names_b = [], []
        fa.visit(names_a.append)
        fb.visit(names_b.append)
        assert sorted(names_a) == sorted(names_b)
        for name in names_a:
            if isinstance(fa[name], h5py.Dataset):
                np.testing.assert_array_equal(fa[name][...], fb[name][...], err_msg=name)
            assert dict(fa[name].attrs) == dict(fb[name].attrs), name
        for k in set(fa.attrs) | set(fb.attrs):
            if k not in skip:
                assert fa.attrs[k] == fb.attrs[k], k


def test_array_slices_cover_every_point_once():
    """Contiguous slices, lengths differing by one at most, in order."""
    for n, size in [(6, 4), (7, 7), (5, 1), (100, 7)]:
        got = [list(array_slice(n, k, size)) for k in range(size)]
        assert sum(got, []) == list(range(n))
        assert max(map(len, got)) - min(map(len, got)) <= 1
    assert array_index_from_env({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5"}) == 2
    assert array_index_from_env({"SLURM_ARRAY_TASK_ID": "3"}) == 3


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: array_slice(4, 0, 5), "--array-size 5 is more than the scan's 4 point(s)"),
        (lambda: array_slice(4, 4, 2), "--array-index 4: allowed 0..1"),
        (lambda: array_slice(4, 0, 0), "--array-size 0: expected a positive"),
        (lambda: array_index_from_env({}), "needs SLURM_ARRAY_TASK_ID"),
        (lambda: array_index_from_env({"SLURM_ARRAY_TASK_ID": "x"}), "SLURM_ARRAY_TASK_ID = 'x'"),
    ],
)
def test_bad_array_options_are_one_line(call, fragment):
    with pytest.raises(ConfigError) as e:
        call()
    assert fragment in str(e.value) and "\n" not in str(e.value), str(e.value)


@pytest.mark.parallel
def test_merged_slices_equal_the_single_job_scan(tmp_path_shared):
    """6 points in 4 slices (1, 2, 1, 2 points), each written as a part and merged: the
    merged scan.h5 equals the one-job scan.h5 dataset by dataset, bit for bit (the same
    solves), and scan.csv is the same text; a missing slice and a part of another scan are
    refused."""
    cfg = config_from_dict(_data(tmp_path_shared))
    varies = parse_vary(VARY)
    whole = scan(cfg, varies)
    single, arrays = tmp_path_shared / "single", tmp_path_shared / "array"
    rank0 = MPI.COMM_WORLD.rank == 0
    if rank0:
        write_scan(whole, cfg, single)
    for k in range(4):
        part = scan(cfg, varies, array_index=k, array_size=4)
        assert part.indices.tolist() == list(array_slice(6, k, 4))
        if rank0:
            write_scan(part, cfg, part_directory(arrays, k))
    if not rank0:
        return
    merged, config = merge_scan(arrays)
    assert config == cfg.dump()
    write_scan(merged, config, arrays)
    _h5_equal(single / "scan.h5", arrays / "scan.h5", skip=())
    assert (single / "scan.csv").read_text() == (arrays / "scan.csv").read_text()
    assert merged.values.tolist()[1] == [0.45, 2.4]
    # a part of another scan (other values), then a missing slice
    other = scan(cfg, parse_vary(["diffusion.delta=0.4,0.5", VARY[1]]), comm=MPI.COMM_SELF,
                 array_index=1, array_size=4)  # fmt: skip
    write_scan(other, cfg, part_directory(arrays, 1))
    with pytest.raises(ConfigError, match="varies other keys or values: not a part of the same"):
        merge_scan(arrays)
    (part_directory(arrays, 1) / "scan.h5").unlink()
    with pytest.raises(ConfigError, match=r"slice\(s\) 1 of 4 missing") as e:
        merge_scan(arrays)
    assert "\n" not in str(e.value)


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="the command line on COMM_WORLD, serially")
def test_cli_array_tasks_and_merge(tmp_path, monkeypatch):
    """``galprop-py scan --array-size 2`` twice (the slice from SLURM_ARRAY_TASK_ID -
    SLURM_ARRAY_TASK_MIN, then from --array-index) and ``scan-merge`` give the table of
    ``galprop-py scan`` in one job; the option errors are one line with exit code 2."""
    from galprop_py.cli import main

    data = _data(tmp_path / "array")
    path = tmp_path / "scan.toml"
    path.write_text(toml_text(data))
    vary = [a for v in VARY for a in ("--vary", v)]
    single = f"run.output_dir={str(tmp_path / 'single')!r}"
    assert main(["scan", str(path), *vary, single]) == 0
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "11")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "10")
    assert main(["scan", str(path), *vary, "--array-size", "2"]) == 0  # slice 1
    assert (part_directory(tmp_path / "array", 1) / "scan.h5").is_file()
    assert main(["scan-merge", str(tmp_path / "array")]) == 2  # slice 0 missing
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID")
    assert main(["scan", str(path), *vary, "--array-size", "2", "--array-index", "0"]) == 0
    assert main(["scan-merge", str(tmp_path / "array")]) == 0
    _h5_equal(tmp_path / "single" / "scan.h5", tmp_path / "array" / "scan.h5")
    with h5py.File(tmp_path / "array" / "scan.h5") as f:
        assert f["species/H1/flux_toa"].shape == (6, 24)
        assert "array_size" not in f.attrs
    for args in (["--array-size", "7"], ["--array-index", "1"], ["--array-size", "2"]):
        assert main(["scan", str(path), *vary, *args]) == 2
    assert main(["scan-merge", str(tmp_path / "nowhere")]) == 2


# --- build once ---------------------------------------------------------------------------------
def test_build_once_gives_the_same_chi2_as_fresh_runs():
    """The closure fit's chi^2 with the cache equals the one from fresh runs (1e-12) at 6
    points of D0, index and phi; grids, decomposition and the model parts were built once."""
    cfg = config_from_dict(_data())
    cached, fresh = Evaluator(cfg), Evaluator(cfg, build_once=False)
    rng = np.random.default_rng(2)
    lo, hi = cached.bounds()
    for _ in range(6):
        u = lo + (hi - lo) * rng.uniform(0.2, 0.8, lo.size)
        assert cached(u) == pytest.approx(fresh(u), rel=1e-12, abs=0)
    assert cached.build.stats.solves == 6 and fresh.build is None
    assert cached.build.stats.grid_builds == 1 and cached.build.stats.model_builds == 1


def _leptons_and_antiprotons() -> dict:
    """Protons and helium making secondary positrons, electrons and antiprotons (spectral
    channels, the tertiary self-cycle), C12 fragmenting into B11 (tabulated channels)."""
    data = _data()
    del data["fit"]
    data["momentum"] = {"min": 0.01, "max": 1.0e4, "n": 24}
    data["species"] = [
        {"name": "C12", "abundance": 3e-3},
        {"name": "B11", "abundance": 0.0},
        {"name": "He4", "abundance": 0.1},
        data["species"][0],
        {"name": "positron", "abundance": 0.0},
        {"name": "antiproton", "abundance": 0.0},
    ]
    data["solver"] = {"petsc": {"steady_ksp_type": "bcgs", "steady_pc_type": "bjacobi"}}
    return data


@pytest.mark.parallel
def test_build_once_spectra_equal_run_when_transport_and_gas_change():
    """A network with spectral and tabulated production channels: the cache's spectra equal
    run()'s (1e-12, every species, LIS and TOA) for a sequence that changes D0 and an
    injection index (cache kept), then gas.f_he and momentum.n (rebuilt: new keys)."""
    base = _leptons_and_antiprotons()
    steps = [
        {},
        {"diffusion": {"d0_cm2_s": 6e28}, "species.3.injection.indices.1": 2.5},
        {"gas": {"f_he": 0.2}},
        {"momentum": {"n": 20}},
    ]
    cache = BuildCache(PETSc.COMM_WORLD)
    data = copy.deepcopy(base)
    for change in steps:
        for key, value in change.items():
            if "." in key:
                data["species"][3]["injection"]["indices"][1] = value
            else:
                data.setdefault(key, {}).update(value)
        cfg = config_from_dict(copy.deepcopy(data))
        got = cache.solve(cfg)
        ref = run(cfg, progress=False, write_output=False)
        assert set(got.sun_spectra) == set(ref.sun_spectra) >= {"positron", "antiproton", "B11"}
        for name, s in ref.sun_spectra.items():
            for key in ("lis", "toa", "lis_r"):
                np.testing.assert_allclose(got.sun_spectra[name][key], s[key], rtol=1e-12,
                                           atol=0, err_msg=f"{name} {key} {change}")  # fmt: skip
        for name, s in ref.ratios.items():
            np.testing.assert_allclose(got.ratios[name]["toa"], s["toa"], rtol=1e-12)
    assert cache.stats.solves == 4
    assert cache.stats.model_builds == 3  # the first, f_He, momentum.n
    assert cache.stats.grid_builds == 2  # the first, momentum.n


@pytest.mark.slow
@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own processes")
def test_sbatch_script_outside_slurm(tmp_path):
    """jobs/scan_array.sbatch as SLURM runs it (the array variables set by hand, --array=1-2:
    SLURM_ARRAY_TASK_MIN 1), then scan-merge: the one-job table."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[1]
    path = tmp_path / "scan.toml"
    path.write_text(toml_text(_data(tmp_path / "array")))
    vary = [a for v in VARY for a in ("--vary", v)]
    env = dict(os.environ, SLURM_ARRAY_TASK_COUNT="2", SLURM_ARRAY_TASK_MIN="1",
               SLURM_SUBMIT_DIR=str(tmp_path), GALPROP_HOME=str(root), GALPROP_LAUNCH="env",
               GALPROP_VENV=str(Path(sys.executable).parents[1]))  # fmt: skip
    for task in ("1", "2"):
        out = subprocess.run(
            ["bash", str(root / "jobs" / "scan_array.sbatch"), str(path), *vary],
            env=dict(env, SLURM_ARRAY_TASK_ID=task), capture_output=True, text=True,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
    from galprop_py.cli import main

    assert main(["scan-merge", str(tmp_path / "array")]) == 0
    cfg = config_from_dict(_data(tmp_path / "array"))
    write_scan(scan(cfg, parse_vary(VARY)), cfg, tmp_path / "single")
    _h5_equal(tmp_path / "single" / "scan.h5", tmp_path / "array" / "scan.h5")
