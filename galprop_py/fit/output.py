"""What a fit writes (rank 0): the best fit as a runnable TOML, ``fit_result.json`` and a
model/data residual plot per dataset.

:func:`toml_text` writes a config dict (as :meth:`galprop_py.config.Config.dump` gives it)
as TOML that :func:`galprop_py.config.load_config` reads back to the same config: blocks as
tables, lists of blocks (``[[species]]``) as arrays of tables with inline tables inside,
``None`` (an unset key) left out.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np

from ..observations import ENERGY, RIGIDITY

#: axis label and the symbol of the flux weighting, by the dataset's axis
_AXES = {
    RIGIDITY: ("rigidity [GV]", "R"),
    ENERGY: ("energy [GeV]", "E"),
}
_T_N_AXIS = ("kinetic energy per nucleon [GeV/n]", "(T/n)")

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(k: str) -> str:
    """A TOML key: bare if it can be, quoted otherwise."""
    return k if _BARE_KEY.match(k) else json.dumps(k)


def toml_value(v) -> str:
    """A JSON-like value (number, string, list, dict) as a TOML value (inline tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v!r} to TOML")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string (JSON escapes are TOML escapes)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        items = [f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_table_list(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(lines: list[str], path: str, data: dict) -> None:
    plain = {k: v for k, v in data.items() if v is not None and not isinstance(v, dict)}
    plain = {k: v for k, v in plain.items() if not _is_table_list(v)}
    for k, v in plain.items():
        lines.append(f"{toml_key(k)} = {toml_value(v)}")
    for k, v in data.items():
        sub = f"{path}.{toml_key(k)}" if path else toml_key(k)
        if isinstance(v, dict):
            lines.extend(["", f"[{sub}]"])
            _table(lines, sub, v)
        elif _is_table_list(v):
            for item in v:
                lines.extend(["", f"[[{sub}]]"])
                for ik, iv in item.items():
                    if iv is not None:
                        lines.append(f"{toml_key(ik)} = {toml_value(iv)}")


def toml_text(data: dict, header: str = "") -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    _table(lines, "", data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_fit(result, ev, out_dir: Path) -> list[Path]:
    """Rank 0: ``best_fit.toml``, ``fit_result.json``, ``fit_<dataset>.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    best = out_dir / "best_fit.toml"
    shown = "\n".join(
        f"  {n} = {result.values[n]:.6g} +- {result.errors[n]:.3g}" for n in result.names
    )
    header = (
        f"Best fit of run {ev.cfg.run.name!r} ({result.message}).\n"
        f"chi2 = {result.chi2_total:.6g} for {sum(result.points.values())} points, "
        f"{len(result.names)} free parameters:\n{shown}\n"
        "Run it with: galprop-py run best_fit.toml (refit: galprop-py fit best_fit.toml)"
    )
    _atomic_write(best, toml_text(result.best_config, header))
    js = out_dir / "fit_result.json"
    _atomic_write(js, json.dumps(result.as_dict(), indent=2) + "\n")
    paths = [best, js]
    if ev.cfg.fit.plots:
        u = np.array(result.fit_values, float)
        local = ev.local(ev._config_values(u))
        curves = ev.chi2.curves(local, ev.phis(u))
        for comp in ev.chi2.comparisons:
            png = out_dir / f"fit_{comp.name}.png"
            plot_residuals(comp, curves[comp.phi_group], result.chi2[comp.name], png)
            paths.append(png)
    return paths


def plot_residuals(comp, curves: dict, chi2: float, path: Path) -> None:
    """Data and model (flux x x^2.7, ratios as they are) above, data / model below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 5.6))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    ratio = comp.data.y_unit == "1"
    axis, sym = _AXES.get(comp.data.x_axis, _T_N_AXIS)
    w = 0.0 if ratio else (3.0 if comp.data.x_axis == ENERGY else 2.7)  # leptons: E^3 J
    c = curves[comp.model]
    x_all = np.asarray(c[comp.x_key])
    inside = (x_all >= comp.x[0] / 1.5) & (x_all <= comp.x[-1] * 1.5)
    xm, ym = x_all[inside], np.asarray(c[comp.y_key])[inside]
    what = "LIS" if comp.phi_group is None else f"TOA, phi group {comp.phi_group!r}"
    top.plot(xm, ym * xm**w, color="C0", label=f"model {comp.model} ({what})")
    scale = comp.x**w
    top.errorbar(
        comp.x, comp.y * scale, yerr=[comp.err_lo * scale, comp.err_hi * scale],
        fmt="o", ms=3, color="k", label=comp.data.label,
    )  # fmt: skip
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_ylabel(comp.model if ratio else f"{sym}$^{{{w:g}}}$ J  (J in {comp.data.y_unit})")
    top.set_title(f"{comp.name}: chi2 = {chi2:.4g} for {comp.points} points", fontsize=10)
    top.legend(fontsize=7)
    m = comp.model_values(curves)
    bottom.errorbar(comp.x, comp.y / m, yerr=[comp.err_lo / m, comp.err_hi / m], fmt="o", ms=3,
                    color="k")  # fmt: skip
    bottom.axhline(1.0, color="C0")
    bottom.set_ylabel("data / model")
    bottom.set_xlabel(axis)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
