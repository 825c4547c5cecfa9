"""Evaluate the built-in default model against the fit's data sets: chi^2 per data set and
the residual plots (data and model above, data / model below).

The default model (``galprop_py/models/milky_way.toml``) is run without its leptons and its
emission (no nucleus is made from them: the nuclei are the same), at its own resolution or
coarsened (``--coarse``: the fit's 21 x 81 cells and 40 momenta); its spectra
are compared with the data sets of ``config.toml``'s ``[fit]`` block through
:mod:`galprop_py.fit.chi2` (re-modulated with that block's potentials: AMS-02 with the
default model's ``modulation.phi_gv``, ACE-CRIS and ISOMAX with their own), and with the
Voyager 1 p and He LIS below 0.5 GeV/n.  ``--config MODEL.toml`` evaluates another model
file instead of the built-in one (e.g. a copy of ``milky_way.toml`` with new fitted values).
``--leptons`` runs the model with its leptons instead (no emission) and compares its own
TOA spectra (electrons and antiprotons modulated with ``modulation.phi_negative_gv``,
positrons with ``phi_gv``) with AMS-02 electrons, positrons and the positron fraction over
1-1000 GeV.  Run from this folder:

    ../../.venv/bin/python evaluate.py [--coarse] [--config MODEL.toml] [--out DIR] [--leptons]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from galprop_py import observations
from galprop_py.config import config_from_dict, default_model_path, load_config
from galprop_py.fit.chi2 import Chi2, Comparison, LocalSpectra, with_energy_axis
from galprop_py.fit.config import FitBlock, FitDataset
from galprop_py.fit.output import plot_residuals
from galprop_py.run import run

HERE = Path(__file__).parent
LEPTONS = ("electron", "positron", "antiproton")
VOYAGER = (("voyager1_proton", "H"), ("voyager1_helium", "He"))


def nuclei_config(coarse: bool, model: Path | None = None):
    """The model's nuclei (``model``: a model TOML, default the built-in one)."""
    data = load_config(model or default_model_path()).dump()
    data["species"] = [s for s in data["species"] if s["name"] not in LEPTONS]
    data["emission"]["enabled"] = False
    data["output"]["plot"] = False
    if coarse:
        fit_grid = load_config(HERE / "config.toml").grid
        data["grid"].update(n_r=fit_grid.n_r, n_z=fit_grid.n_z)
        data["momentum"]["n"] = 40
    return config_from_dict(data)


#: AMS-02 lepton data sets (Phys. Rep. 894, 2021) and the run's curves they measure
LEPTON_SETS = (
    ("ams02_electron", "e-", "e-"),
    ("ams02_positron", "e+", "e+"),
    ("ams02_positron_fraction", "e+/(e+ + e-)", "positron_fraction"),
)


def evaluate_leptons(model: Path | None, coarse: bool, out: Path) -> None:
    """chi^2 of the model's own lepton TOA spectra against AMS-02 (1-1000 GeV)."""
    data = load_config(model or default_model_path()).dump()
    data["emission"]["enabled"] = False
    data["output"]["plot"] = False
    if coarse:
        data["momentum"]["n"] = 40
    cfg = config_from_dict(data)
    t0 = time.perf_counter()
    result = run(cfg, progress=False, write_output=False)
    print(f"solve {time.perf_counter() - t0:.1f} s; phi {cfg.modulation.phi_gv} GV, "
          f"negative charges {cfg.modulation.phi_negative_gv} GV")  # fmt: skip
    pool = {**result.elements, **result.ratios}
    print("| data set | model | range [GeV] | points | chi^2 | chi^2 / point |")
    print("|---|---|---|---|---|---|")
    for name, label, key in LEPTON_SETS:
        curve = with_energy_axis(pool[key])
        data = observations.load(name)
        for lo, hi in ((1.0, 1000.0), (1.0, 10.0), (10.0, 1000.0)):
            spec = FitDataset(name=name, model=label, x_min=lo, x_max=hi, phi_group="run")
            comp = Comparison(spec, data)
            r = comp.residuals({label: curve})
            value = float(r @ r)
            print(f"| {name} | {label} | {lo:g}-{hi:g} | {comp.points} | {value:.1f} | "
                  f"{value / comp.points:.2f} |")  # fmt: skip
            if (lo, hi) == (1.0, 1000.0):
                plot_residuals(comp, {label: curve}, value, out / f"fit_{name}.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coarse", action="store_true", help="the fit's grid, 40 momenta")
    ap.add_argument("--out", default=str(HERE / "plots"), help="folder of the residual plots")
    ap.add_argument(
        "--config", type=Path, default=None, help="model TOML to evaluate (default: built-in)"
    )
    ap.add_argument("--leptons", action="store_true", help="AMS-02 e-, e+, e+ fraction")
    args = ap.parse_args()
    if args.leptons:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        evaluate_leptons(args.config, args.coarse, out)
        return
    cfg = nuclei_config(args.coarse, args.config)
    fit_block = load_config(HERE / "config.toml").fit
    # the Voyager 1 LIS below 0.5 GeV/n, also where the [fit] block leaves it out
    have = {d.name for d in fit_block.datasets}
    extra = [{"name": n, "model": m, "x_max": 0.5} for n, m in VOYAGER if n not in have]
    fit_block = FitBlock(**{**fit_block.model_dump(), "datasets": [
        *fit_block.model_dump()["datasets"], *extra]})  # fmt: skip
    phis = {g: m.initial for g, m in fit_block.modulation.items()}
    phis["ams02"] = cfg.modulation.phi_gv
    t0 = time.perf_counter()
    result = run(cfg, progress=False, write_output=False)
    seconds = time.perf_counter() - t0
    local = LocalSpectra.from_result(result)
    chi2 = Chi2(fit_block)
    curves = chi2.curves(local, phis)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"grid {cfg.grid.n_r} x {cfg.grid.n_z} x {cfg.momentum.n}, solve {seconds:.1f} s")
    print(f"potentials: {phis}")
    print("| data set | model | points | chi^2 | chi^2 / point |")
    print("|---|---|---|---|---|")
    for comp in chi2.comparisons:
        r = comp.residuals(curves[comp.phi_group])
        value = float(r @ r)
        print(f"| {comp.name} | {comp.model} | {comp.points} | {value:.1f} | "
              f"{value / comp.points:.2f} |")  # fmt: skip
        plot_residuals(comp, curves[comp.phi_group], value, out / f"fit_{comp.name}.png")


if __name__ == "__main__":
    main()
