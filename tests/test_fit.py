"""Fit mode: closure on mock data made by the code, the force field re-applied without a
new solve, config errors, and scans on MPI sub-communicators."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc
from util import CLOSURE_TRUE as TRUE
from util import closure_data as _data
from util import closure_mock as _mock
from util import config_differences

from galprop_py.config import ConfigError, config_from_dict, load_config
from galprop_py.fit.chi2 import LocalSpectra
from galprop_py.fit.fitter import Evaluator, fit
from galprop_py.fit.scan import _record, parse_vary, scan, write_scan
from galprop_py.run import run

ROOT = Path(__file__).parents[1]


def test_closure_noise_free_recovers_the_truth(tmp_path_shared):
    """MIGRAD + HESSE from a start 50 % off in D0 and 0.09 in the index recovers the true
    D0, index and potential to 1e-3, and writes a best fit that runs, the JSON and plots."""
    res = fit(config_from_dict(_data(tmp_path_shared)), data=_mock())
    assert res.valid, res.message
    for name, true in TRUE.items():
        assert res.values[name] == pytest.approx(true, rel=1e-3), (name, res.values)
        assert res.errors[name] > 0
    assert res.chi2_total < 1e-3
    # the phi derivatives cost no solve
    assert res.solves < res.calls
    best = load_config(tmp_path_shared / "best_fit.toml")
    assert best.diffusion.d0_cm2_s == pytest.approx(res.values["diffusion.d0_cm2_s"], rel=1e-14)
    assert best.species[0].injection.indices[1] == res.values["species.0.injection.indices.1"]
    assert best.modulation.phi_gv == res.values["phi.ams"]
    assert best.fit.modulation["ams"].initial == res.values["phi.ams"]
    out = json.loads((tmp_path_shared / "fit_result.json").read_text())
    assert out["points"] == {"ams02_proton_rigidity": 66, "voyager1_proton": 11}
    cov = np.array(out["covariance"])
    assert cov.shape == (3, 3) and np.allclose(cov, cov.T)
    assert np.allclose(np.diag(out["correlation"]), 1.0)
    for name in out["points"]:
        assert (tmp_path_shared / f"fit_{name}.png").stat().st_size > 10_000


@pytest.mark.serial
def test_closure_with_noise_within_two_sigma():
    """Mock points scattered by their 3 % errors (fixed seed): every parameter within 2 of
    its HESSE errors of the truth, and chi^2 per degree of freedom as expected for the noise
    (74 dof: 95 % of chi^2 in 52..99)."""
    res = fit(config_from_dict(_data()), data=_mock(noise_seed=1), write=False)
    assert res.valid, res.message
    for name, true in TRUE.items():
        assert abs(res.values[name] - true) < 2 * res.errors[name], (name, res.values, res.errors)
    assert 52 < res.chi2_total < 99


@pytest.mark.serial
def test_closure_least_squares():
    """scipy least_squares (central-difference Jacobian) recovers the truth as well; its
    covariance (J^T J)^-1 matches HESSE's errors of the same problem within 20 %."""
    mock = _mock()
    res = fit(config_from_dict(_data(minimiser="least_squares")), data=mock, write=False)
    assert res.valid, res.message
    for name, true in TRUE.items():
        assert res.values[name] == pytest.approx(true, rel=1e-3), (name, res.values)
    hesse = fit(config_from_dict(_data()), data=mock, write=False)
    for name in TRUE:
        assert res.errors[name] == pytest.approx(hesse.errors[name], rel=0.2)


def _network(phi, electrons=False) -> dict:
    """C12 feeding B10 and B11, protons and helium, the global normalisation on the TOA flux
    (and electrons on their own, optionally)."""
    data = _data()
    del data["fit"]
    data["species"] = [
        {"name": "C12", "abundance": 3e-3},
        {"name": "B11", "abundance": 0.0},
        {"name": "B10", "abundance": 0.0},
        {"name": "He4", "abundance": 0.1},
        data["species"][0],
    ]
    data["solver"] = {"petsc": {}}
    if electrons:
        # primary electrons with their own normalisation, and the secondaries that the
        # nuclei make under the global one: a species made by two groups
        data["species"].append({"name": "electron", "normalize_to": [10.0, 0.1]})
        data["solver"] = {"petsc": {"steady_ksp_type": "bcgs", "steady_pc_type": "bjacobi"}}
    data["modulation"] = {"phi_gv": phi}
    return data


@pytest.mark.parametrize("electrons", [False, True])
def test_remodulation_equals_a_full_run(electrons):
    """The spectra of a run at phi = 0.4 re-modulated to 0.8 (normalisations redone on the
    flux modulated with 0.8) equal a full run at phi = 0.8: every species, element and
    ratio (B/C), LIS and TOA, on both axes, to 1e-10 (with electrons: primaries under their
    own normalize_to plus the nuclei's secondaries, two groups solved for together)."""
    first = run(config_from_dict(_network(0.4, electrons)), progress=False, write_output=False)
    other = run(config_from_dict(_network(0.8, electrons)), progress=False, write_output=False)
    if electrons:
        assert set(first.sun_groups["electron"]) == {"electron", "[normalization]"}
    local = LocalSpectra.from_result(first)
    curves = local.curves(0.8, 0.8)
    ref = {**other.sun_spectra, **other.elements}
    ref.update({k.replace("_", "/"): v for k, v in other.ratios.items()})
    assert "B/C" in ref and set(curves) == set(ref)
    for name, spectrum in ref.items():
        for key in ("t_n", "rigidity", "lis", "toa", "lis_r", "toa_r"):
            np.testing.assert_allclose(curves[name][key], spectrum[key], rtol=1e-10, err_msg=name)


@pytest.mark.parametrize("phi", [0.3, 0.8])
def test_mixed_normalisation_groups_remodulate_like_a_full_run(phi):
    """B10 made by C12 (own normalize_to) and by O16 (global normalisation) has a part from
    each group: a run at phi = 0.5 re-modulated to phi (both factors solved again, together)
    equals a full run at phi, every species, element and ratio, to 1e-10."""

    def network(phi_gv):
        data = _network(phi_gv)
        data["species"] = [
            {"name": "O16", "abundance": 3e-3},
            {"name": "C12", "abundance": 3e-3, "normalize_to": [10.0, 1.0]},
            {"name": "B10", "abundance": 0.0},
            data["species"][-1],
        ]
        return data

    first = run(config_from_dict(network(0.5)), progress=False, write_output=False)
    other = run(config_from_dict(network(phi)), progress=False, write_output=False)
    assert set(first.sun_groups["B10"]) == {"C12", "[normalization]"}
    local = LocalSpectra.from_result(first)
    curves = local.curves(phi, phi)
    ref = {**other.sun_spectra, **other.elements}
    ref.update({k.replace("_", "/"): v for k, v in other.ratios.items()})
    assert "B/C" in ref
    for name, spectrum in ref.items():
        for key in ("lis", "toa", "lis_r", "toa_r"):
            np.testing.assert_allclose(curves[name][key], spectrum[key], rtol=1e-10, err_msg=name)


def _fit_with(**changes) -> dict:
    data = _data()
    for path, value in changes.items():
        node = data["fit"]
        *head, last = path.split("__")
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return data


BAD_FIT = [
    (dict(minimiser="simplex"), "fit.minimiser = 'simplex': allowed: 'migrad' or"),
    (dict(datasets__0__name="ams03"), "fit.datasets.0.name = 'ams03': allowed: 'ace_cris"),
    (dict(datasets__0__colour=1), "fit.datasets.0.colour = 1: unknown key"),
    (dict(datasets__0__model="B/C"), "'ams02_proton_rigidity' is a flux"),
    (dict(datasets__0__name="ams02_electron"), "is on the leptons' energy axis; model = 'H'"),
    (dict(datasets__0__phi_group="solar"), "phi_group = 'solar' is not a [fit.modulation]"),
    (dict(datasets__1__phi_group="ams"), "'voyager1_proton' is a local interstellar"),
    (dict(datasets__0__x_min=2000.0), "x_min = 2000 must be below x_max = 1000"),
    (dict(parameters__0__min=0.0), "log = true needs min > 0"),
    (dict(parameters__1__initial=3.0), "initial = 3 is outside min..max = 2..2.8"),
    (dict(parameters__1__key="modulation.phi_gv"), "the force-field potentials are"),
    (dict(parameters__1__key="diffusion.d0_cm2_s"), "'diffusion.d0_cm2_s' is listed twice"),
    (dict(modulation__ams__initial=True), "fit.modulation.ams.initial = true: expected a number"),
    (dict(modulation__spare={"initial": 0.5}), "modulation group 'spare' is used by no dataset"),
]  # fmt: skip


@pytest.mark.serial  # config validation on one process (no MPI)
@pytest.mark.parametrize(("changes", "fragment"), BAD_FIT)
def test_fit_config_errors_are_one_line(changes, fragment):
    with pytest.raises(ConfigError) as e:
        config_from_dict(_fit_with(**changes))
    assert fragment in str(e.value) and "\n" not in str(e.value), str(e.value)


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("diffusion.d0", "key 'diffusion.d0': no such config key"),
        ("grid.n_z", "'grid.n_z': an integer key"),
        ("diffusion.scheme", "'diffusion.scheme': not a number"),
    ],
)
def test_parameter_keys_must_be_real_config_numbers(key, fragment):
    data = _fit_with(parameters__1__key=key)
    with pytest.raises(ConfigError) as e:
        Evaluator(config_from_dict(data))
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_dataset_outside_the_model_or_not_in_the_run():
    """A model curve the run does not have, and data outside the momentum grid: one line
    each, at the first evaluation."""
    ev = Evaluator(config_from_dict(_fit_with(datasets__0__model="He")))
    with pytest.raises(ValueError, match="model = 'He' is not in the run") as e:
        ev(ev.initial())
    assert "\n" not in str(e.value)
    ev = Evaluator(config_from_dict(_fit_with(datasets__1__x_min=None)))
    with pytest.raises(ValueError, match="outside the model's H curve") as e:
        ev(ev.initial())
    assert "\n" not in str(e.value)


def _scan_config():
    """The closure model in 2D (9 x 17 cells: the slab's 17 cells cannot be coarsened for
    multigrid on 4 ranks), solved to rtol 1e-12."""
    data = _data()
    data["grid"] = {"geometry": "cylindrical2d", "r_max_kpc": 20.0, "n_r": 9, "z_max_kpc": 4.0,
                    "n_z": 17}  # fmt: skip
    data["source"] = {"profile": "snr"}
    data["solver"] = {"petsc": {"steady_ksp_rtol": 1e-12}}
    return config_from_dict(data)


VARY = ["diffusion.delta=0.45,0.55", "species.0.injection.indices.1=2.3,2.4"]


def _serial_loop(cfg, varies):
    """The reference: each point solved alone on this rank (COMM_SELF), in order."""
    from galprop_py.fit.chi2 import Chi2

    chi2 = Chi2(cfg.fit)
    phis = {g: m.initial for g, m in cfg.fit.modulation.items()}
    out = []
    for d in varies[0][1]:
        for g in varies[1][1]:
            data = copy.deepcopy(cfg.dump())
            data["diffusion"]["delta"] = float(d)
            data["species"][0]["injection"]["indices"][1] = float(g)
            res = run(config_from_dict(data), comm=PETSc.COMM_SELF, progress=False,
                      write_output=False)  # fmt: skip
            out.append(_record(res, chi2, phis))
    return out


@pytest.mark.parallel
def test_scan_is_the_same_on_any_number_of_sub_communicators(tmp_path_shared):
    """A 2 x 2 scan on one sub-communicator per rank (on 2 ranks: two models at once) equals
    each point solved alone (1e-12); on one sub-communicator of all ranks it agrees to the
    solver tolerance (1e-8 at rtol 1e-12).  The table written has one row per point."""
    cfg = _scan_config()
    varies = parse_vary(VARY)
    per_rank = scan(cfg, varies, group_size=1)
    together = scan(cfg, varies, group_size=MPI.COMM_WORLD.size)
    ref = _serial_loop(cfg, varies)
    assert per_rank.values.tolist() == [[0.45, 2.3], [0.45, 2.4], [0.55, 2.3], [0.55, 2.4]]
    for i, rec in enumerate(ref):
        for name, s in rec["species"].items():
            got = per_rank.spectra["species"][name]
            np.testing.assert_allclose(got["flux_toa"][i], s["toa"], rtol=1e-12)
            np.testing.assert_allclose(got["flux_lis_rigidity"][i], s["lis_r"], rtol=1e-12)
        for name, value in rec["chi2"].items():
            assert per_rank.chi2[name][i] == pytest.approx(value, rel=1e-12)
    for cat, entries in per_rank.spectra.items():
        for name, arrays in entries.items():
            for label, arr in arrays.items():
                np.testing.assert_allclose(together.spectra[cat][name][label], arr, rtol=1e-8)
    for name, arr in per_rank.chi2.items():
        np.testing.assert_allclose(together.chi2[name], arr, rtol=1e-8)
    if MPI.COMM_WORLD.rank == 0:
        write_scan(per_rank, cfg, tmp_path_shared)
        with h5py.File(tmp_path_shared / "scan.h5") as f:
            assert f["species/H1/flux_toa"].shape == (4, 24)
            assert f["parameters/diffusion.delta"][...].tolist() == [0.45, 0.45, 0.55, 0.55]
            assert f["chi2/total"].shape == (4,)
        lines = (tmp_path_shared / "scan.csv").read_text().splitlines()
        assert len(lines) == 5 and lines[0].startswith("point,diffusion.delta,")


@pytest.mark.serial  # parsing of --vary on one process (no MPI)
@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (["diffusion.delta"], "expected key=value1,value2"),
        (["diffusion.delta=0.4,,0.5"], "expected key=value1,value2"),
        (["diffusion.delta=0.4,big"], "value 'big' is not a number"),
        (["diffusion.delta=0.4", "diffusion.delta=0.5"], "given twice"),
        ([], "at least one --vary"),
    ],
)
def test_bad_vary_is_one_line(items, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_vary(items)


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "galprop_py", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.serial
def test_fit_example_is_in_the_default_galaxy():
    """examples/fit is the default model's galaxy (every block that shapes the transport and
    the spectra, and the default's H1 and He4 blocks) on a coarser grid (its r cells and
    momenta only); the other species are the secondaries He3 and H2."""
    example = load_config(ROOT / "examples" / "fit" / "config.toml")
    default = load_config(None)
    diff = []
    for block in ("diffusion", "wind", "reacceleration", "gas", "losses", "source",
                  "normalization", "sun", "modulation", "cross_sections"):  # fmt: skip
        diff += config_differences(getattr(example, block), getattr(default, block), block)
    grid, grid0 = example.grid.model_dump(), default.grid.model_dump()
    momentum, momentum0 = example.momentum.model_dump(), default.momentum.model_dump()
    assert (grid.pop("n_r"), momentum.pop("n")) == (21, 40)
    grid0.pop("n_r"), momentum0.pop("n")
    diff += config_differences(grid, grid0, "grid") + config_differences(
        momentum, momentum0, "momentum"
    )
    ex = {s.name: s for s in example.species}
    de = {s.name: s for s in default.species}
    diff += [d for n in ("H1", "He4") for d in config_differences(ex[n], de[n], f"species.{n}")]
    assert not diff, "examples/fit differs from the default model: " + "; ".join(diff)
    assert set(ex) == {"H1", "He4", "He3", "H2"}
    assert ex["He3"].abundance == 0.0 and ex["H2"].abundance == 0.0


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own processes")
def test_cli_fit_and_scan_of_the_example(tmp_path, capsys, monkeypatch):
    """The example config (coarse grid, few calls) through ``galprop-py fit`` and ``scan``;
    input errors are one line with exit code 2 (one as a process of its own, the others
    through the command line's entry function in this process: the same code from argv on)."""
    from galprop_py.cli import main

    example = str(ROOT / "examples" / "fit" / "config.toml")
    coarse = ["grid.n_r=9", "grid.n_z=17", "momentum.n=24", f"run.output_dir={str(tmp_path)!r}"]
    out = _cli("fit", example, *coarse, "fit.max_evaluations=40", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "fit_result.json").read_text())
    assert set(result["chi2"]) == {"ams02_proton_rigidity", "ams02_helium_rigidity",
                                   "voyager1_proton"}  # fmt: skip
    assert load_config(tmp_path / "best_fit.toml").fit is not None
    out = _cli("scan", example, *coarse, "--vary", "diffusion.delta=0.45,0.5", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert len((tmp_path / "scan.csv").read_text().splitlines()) == 3
    errors = [
        (("fit", str(ROOT / "galprop_py" / "models" / "milky_way.toml")), "no [fit] block"),
        (("scan", example, "--vary", "diffusion.delta=0.4,x"), "value 'x' is not a number"),
        (("fit", example, "fit.minimiser=newton"), "fit.minimiser = 'newton': allowed"),
    ]
    for k, (args, fragment) in enumerate(errors):
        if k == 0:
            out = _cli(*args, cwd=tmp_path)
            code, err = out.returncode, out.stderr
        else:
            monkeypatch.chdir(tmp_path)  # as the process's cwd
            capsys.readouterr()
            code = main(list(args))
            err = capsys.readouterr().err
        assert code == 2, err
        assert fragment in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1, err
