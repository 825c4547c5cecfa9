"""Spectra plots: model LIS and modulated (TOA) fluxes against published data.

The input is a plain mapping, so the plots need no solver::

    results = {"H": {"t_n": t, "lis": j_lis, "toa": j_toa}, "He": {...}, "B/C": {...}}
    plot_spectra(results, ["H", "He"], "spectra.png", ratios=["B/C"])

per species ``t_n`` is the kinetic energy per nucleon [GeV/n] (energy [GeV] for leptons) and
``lis`` / ``toa`` are fluxes J in ``units.FLUX_UNIT`` (either may be left out).  A ratio entry
(``"B/C"``) holds the ratio itself, or is computed from the ``"B"`` and ``"C"`` entries.
Fluxes are drawn as ``E^index J`` (index 2.7 by default) against ``E`` on log axes, with the
AMS-02 and Voyager 1 points of :mod:`galprop_py.observations` (citations in the legend).

Matplotlib is used through its object API with the Agg canvas: no pyplot, no global backend
switch, safe on clusters without a display.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import observations

__all__ = ["plot_spectra", "SPECIES_DATA", "RATIO_DATA"]

#: Observational datasets overlaid on each species panel.
SPECIES_DATA: dict[str, tuple[str, ...]] = {
    "H": ("ams02_proton", "voyager1_proton"),
    "He": ("ams02_helium", "voyager1_helium"),
    "electron": ("ams02_electron",),
    "positron": ("ams02_positron",),
}
#: Observational datasets overlaid on each ratio panel.
RATIO_DATA: dict[str, tuple[str, ...]] = {"B/C": ("ams02_bc",)}

_ALIASES = {
    "H1": "H",
    "p": "H",
    "proton": "H",
    "He4": "He",
    "e-": "electron",
    "e+": "positron",
}
_TITLES = {"H": "protons", "He": "helium", "electron": "electrons", "positron": "positrons"}
_MARKERS = ("o", "s", "^", "D")


def _entry(results: Mapping, name: str) -> Mapping:
    try:
        return results[name]
    except KeyError:
        raise ValueError(
            f"no results for {name!r}; results has: {', '.join(map(str, results))}"
        ) from None


def _curves(entry: Mapping, name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if "t_n" not in entry:
        raise ValueError(f"results[{name!r}] needs 't_n' (kinetic energy per nucleon, GeV/n)")
    t_n = np.asarray(entry["t_n"], dtype=float)
    curves = {k: np.asarray(entry[k], dtype=float) for k in ("lis", "toa") if k in entry}
    if not curves:
        raise ValueError(f"results[{name!r}] needs 'lis' and/or 'toa'")
    for k, v in curves.items():
        if v.shape != t_n.shape:
            raise ValueError(f"results[{name!r}][{k!r}] has shape {v.shape}, t_n {t_n.shape}")
    return t_n, curves


def _ratio_curves(results: Mapping, ratio: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if ratio in results:
        return _curves(results[ratio], ratio)
    num, den = ratio.split("/")
    t_num, c_num = _curves(_entry(results, num), num)
    t_den, c_den = _curves(_entry(results, den), den)
    out = {}
    for k in c_num.keys() & c_den.keys():
        # denominator moved onto the numerator's grid, linearly in log-log
        d = np.exp(np.interp(np.log(t_num), np.log(t_den), np.log(c_den[k])))
        out[k] = c_num[k] / d
    if not out:
        raise ValueError(f"{num!r} and {den!r} share no 'lis' or 'toa' curve for {ratio!r}")
    return t_num, out


def _draw_model(ax, t_n, curves, weight_index: float) -> None:
    styles = {"lis": ("--", "model LIS"), "toa": ("-", "model TOA (modulated)")}
    for key, values in curves.items():
        ls, label = styles[key]
        y = t_n**weight_index * np.asarray(values, float)
        y = np.where(y > 0, y, np.nan)  # log axes: round-off zeros are not drawn
        ax.plot(t_n, y, ls=ls, color="k", lw=1.5, label=label)


def _draw_data(ax, names: Sequence[str], weight_index: float) -> None:
    for i, name in enumerate(names):
        d = observations.load(name)
        w = d.x**weight_index
        ax.errorbar(
            d.x,
            w * d.y,
            yerr=[w * d.y_err_lo, w * d.y_err_hi],
            fmt=_MARKERS[i % len(_MARKERS)],
            ms=3,
            lw=0.8,
            label=d.label,
        )


def plot_spectra(
    results: Mapping[str, Mapping[str, Sequence[float]]],
    species_list: Sequence[str],
    out_png: str | Path,
    *,
    ratios: Sequence[str] = (),
    index: float = 2.7,
    show_data: bool = True,
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
    ylim_decades: float | None = 5.0,
    dpi: int = 120,
) -> Path:
    """Plot E^index-weighted fluxes, one panel per species, plus optional ratio panels.

    Args:
        results: {name: {"t_n": [GeV/n], "lis": J, "toa": J}}, J in m^-2 s^-1 sr^-1 (GeV/n)^-1.
        species_list: panels to draw, e.g. ``["H", "He"]`` (aliases "p", "H1", "He4",
            "e-", "e+" accepted for the data overlay; the results key is used as given).
        out_png: output file.
        ratios: ratio panels, e.g. ``["B/C"]``, drawn unweighted on a log energy axis.
        index: weighting exponent of the flux panels (E^index J).
        show_data: overlay the published points listed in SPECIES_DATA / RATIO_DATA.
        title: figure title.
        xlim: energy range of all panels [GeV/n], e.g. ``(0.1, 1e3)``; default: automatic.
        ylim_decades: flux panels show this many decades below their highest curve or
            point (the modulated spectrum otherwise drags the axis down to ~1e-6); None for
            matplotlib's automatic range.
        dpi: resolution of the PNG.

    Returns:
        The path of the written PNG.
    """
    panels = [("species", s) for s in species_list] + [("ratio", r) for r in ratios]
    if not panels:
        raise ValueError("nothing to plot: give at least one species or ratio")
    ncols = min(len(panels), 2)
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(6.4 * ncols, 4.8 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)

    for ax, (kind, name) in zip(axes, panels, strict=False):
        if kind == "species":
            t_n, curves = _curves(_entry(results, name), name)
            key = _ALIASES.get(name, name)
            _draw_model(ax, t_n, curves, index)
            if show_data:
                _draw_data(ax, SPECIES_DATA.get(key, ()), index)
            ax.set_yscale("log")
            if ylim_decades is not None:
                top = ax.get_ylim()[1]
                ax.set_ylim(top * 10.0**-ylim_decades, top)
            lepton = key in ("electron", "positron")
            ax.set_xlabel("E [GeV]" if lepton else r"$E_\mathrm{kn}$ [GeV/n]")
            e_sym = "E" if lepton else r"E_\mathrm{kn}"
            e_unit = "GeV" if lepton else "(GeV/n)"
            ax.set_ylabel(
                rf"${e_sym}^{{{index:g}}}\,J$ "
                rf"[m$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}$ {e_unit}$^{{{index - 1:g}}}$]"
            )
            ax.set_title(_TITLES.get(key, name))
        else:
            t_n, curves = _ratio_curves(results, name)
            _draw_model(ax, t_n, curves, 0.0)
            if show_data:
                _draw_data(ax, RATIO_DATA.get(name, ()), 0.0)
            ax.set_xlabel(r"$E_\mathrm{kn}$ [GeV/n]")
            ax.set_ylabel(name)
            ax.set_title(name)
        ax.set_xscale("log")
        if xlim is not None:
            ax.set_xlim(*xlim)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=6.5, loc="best")

    if title:
        fig.suptitle(title)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out
