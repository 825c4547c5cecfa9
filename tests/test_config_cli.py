"""Config validation (one-line errors naming the key), overrides and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mpi4py import MPI

from galprop_py.cli import _split_petsc
from galprop_py.config import ConfigError, apply_overrides, config_from_dict, load_config


@pytest.mark.parametrize(
    "data,fragment",
    [
        ({"grid": {"n_z": 1}}, "grid.n_z = 1"),
        ({"grid": {"geometry": "torus"}}, "grid.geometry = 'torus'"),
        ({"diffusion": {"d0_cm2_s": -1.0}}, "diffusion.d0_cm2_s = -1.0"),
        ({"momentum": {"min": 10.0, "max": 1.0}}, "momentum.max = 1.0 must exceed"),
        ({"wind": {"speed": 3}}, "wind.speed = 3: unknown key"),
        (
            {"species": [{"name": "H1", "injection": {"indices": [2.0, 2.4]}}]},
            "need len(breaks_gv) + 1",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_key(data, fragment):
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    msg = str(err.value)
    assert fragment in msg
    assert "\n" not in msg


def test_defaults_and_overrides():
    cfg = load_config(None, ["diffusion.delta=0.5", "grid.n_r=21", "run.name=test"])
    assert cfg.diffusion.delta == 0.5 and cfg.grid.n_r == 21 and cfg.run.name == "test"
    assert apply_overrides({}, ["a.b.c=[1, 2]"]) == {"a": {"b": {"c": [1, 2]}}}


def test_an_override_with_no_value_unsets_a_key():
    """``block.key=`` removes a key the file sets, so the block's default applies (the
    default model sets phi_gv = 0.317; ModulationBlock's default is 0.6) and the key counts
    as not set; a key the file does not set (a misspelt one) and a list entry are errors."""
    cfg = load_config(None, ["modulation.phi_gv=", "wind.v0_km_s="])
    assert cfg.modulation.phi_gv == type(cfg.modulation).model_fields["phi_gv"].default == 0.6
    assert "phi_gv" not in cfg.modulation.model_fields_set
    assert "v0_km_s" not in cfg.wind.model_fields_set
    with pytest.raises(ConfigError, match=r"sun.nosuch is not set in the config file"):
        load_config(None, ["sun.nosuch="])
    with pytest.raises(ConfigError, match=r"a list entry cannot be unset"):
        load_config(None, ["diffusion.breaks_gv.0="])
    # the Parker model on the default: the force-field potentials unset, nothing refused
    parker = load_config(
        None,
        ["modulation.model=spherical_parker", "modulation.phi_gv=", "modulation.phi_negative_gv="],
    )
    assert parker.modulation.model == "spherical_parker"
    with pytest.raises(ConfigError, match=r"phi_gv = 0.317 is a force-field potential"):
        load_config(None, ["modulation.model=spherical_parker", "modulation.phi_negative_gv="])


def test_default_model_file_is_valid():
    from galprop_py.cli import _default_config_path

    cfg = load_config(str(_default_config_path()))
    assert cfg.grid.geometry == "cylindrical2d"
    assert {s.name for s in cfg.species} == {"H1", "He4", "electron", "positron", "antiproton"}


def test_petsc_options_are_separated():
    ours, petsc = _split_petsc(
        ["run", "a.toml", "x.y=1", "-steady_ksp_type", "gmres", "-log_view", "--restart", "ck.h5"]
    )
    assert ours == ["run", "a.toml", "x.y=1", "--restart", "ck.h5"]
    assert petsc == ["-steady_ksp_type", "gmres", "-log_view"]


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own process")
def test_cli_reports_bad_key_without_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "galprop_py", "run", "grid.n_z=banana"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 2
    assert "grid.n_z = 'banana'" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own process")
def test_cli_default_model_small_grid_end_to_end(tmp_path):
    """The default Milky Way model (coarse grid) runs from the command line and writes its
    HDF5 result and PNG; the local modulated (TOA) H spectrum is normalised to AMS-02 at
    100 GeV."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "galprop_py",
            "run",
            "--no-progress",
            "grid.n_r=11",
            "grid.n_z=21",
            "momentum.n=40",
            f"run.output_dir={str(tmp_path)!r}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "milky_way.h5").stat().st_size > 10_000
    assert (tmp_path / "milky_way_spectra.png").stat().st_size > 10_000
    import h5py
    import numpy as np

    with h5py.File(tmp_path / "milky_way.h5") as f:
        t = f["species/H1/sun/kinetic_energy_per_nucleon"][...]
        toa = f["species/H1/sun/flux_toa"][...]
    value = np.exp(np.interp(np.log(100.0), np.log(t), np.log(toa)))
    assert value == pytest.approx(4.45e-2, rel=1e-6)
    # the example's plot script reads the same file
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples" / "milky_way"))
    import plot_result

    png = plot_result.main(str(tmp_path / "milky_way.h5"), str(tmp_path / "again.png"))
    assert png.stat().st_size > 10_000
