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
Run from this folder:

    ../../.venv/bin/python evaluate.py [--coarse] [--config MODEL.toml] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from galprop_py.config import config_from_dict, default_model_path, load_config
from galprop_py.fit.chi2 import Chi2, LocalSpectra
from galprop_py.fit.config import FitBlock
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coarse", action="store_true", help="the fit's grid, 40 momenta")
    ap.add_argument("--out", default=str(HERE / "plots"), help="folder of the residual plots")
    ap.add_argument(
        "--config", type=Path, default=None, help="model TOML to evaluate (default: built-in)"
    )
    args = ap.parse_args()
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
