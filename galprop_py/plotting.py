"""Spectra plots: model LIS and modulated (TOA) fluxes against published data.

The input is a plain mapping, so the plots need no solver::

    results = {"H": {"t_n": t, "lis": j_lis, "toa": j_toa}, "He": {...}, "B/C": {...}}
    plot_spectra(results, ["H", "He"], "spectra.png", ratios=["B/C"])

Per entry ``t_n`` is the kinetic energy per nucleon [GeV/n] (energy [GeV] for leptons) and
``lis`` / ``toa`` are fluxes J in ``units.FLUX_UNIT`` (either may be left out).  An entry may
also hold the same spectra against rigidity: ``rigidity`` [GV] with ``lis_r`` / ``toa_r``
fluxes per GV.  A ratio entry (``"B/C"``, ``"Be10/Be9"``) holds the ratio itself (on both
axes), or is computed from the ``"B"`` and ``"C"`` entries: at equal T/n, and at equal
rigidity from their fluxes per GV.

Every dataset is drawn on the axis it was published on (:data:`PANEL_DATA`): a panel whose
model entry has rigidity curves gets two plots side by side, against rigidity (AMS-02,
PAMELA) and against kinetic energy per nucleon (Voyager 1, HEAO-3, 10Be/9Be).  Without
rigidity curves a panel has the T/n plot only, where the AMS-02 points converted to T/n by
CRDB are shown instead (:data:`T_N_WITHOUT_RIGIDITY`).  Fluxes are drawn as ``x^index J``
(index 2.7 by default) on log axes; ratios unweighted.  :func:`plot_network` draws the
panels p, He, C, O, B/C and 10Be/9Be of a run's local spectra.

Matplotlib is used through its object API with the Agg canvas: no pyplot, no global backend
switch, safe on clusters without a display.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import observations
from .observations import KINETIC_ENERGY_PER_NUCLEON, RIGIDITY, VOYAGER1_ELEMENTS
from .spectra import loglog

__all__ = [
    "NETWORK_PANELS",
    "PANEL_DATA",
    "RATIO_DATA",
    "SPECIES_DATA",
    "T_N_WITHOUT_RIGIDITY",
    "data_over_model",
    "network_figure",
    "network_panels",
    "plot_network",
    "plot_spectra",
    "spectra_figure",
]

_T_N, _R = KINETIC_ENERGY_PER_NUCLEON, RIGIDITY
#: result-entry keys of each x axis: abscissa, LIS, TOA
_MODEL_KEYS = {_T_N: ("t_n", "lis", "toa"), _R: ("rigidity", "lis_r", "toa_r")}

#: Observational datasets of each panel, by the x axis they were published on.
PANEL_DATA: dict[str, dict[str, tuple[str, ...]]] = {
    "H": {_R: ("ams02_proton_rigidity",), _T_N: ("voyager1_proton",)},
    "He": {_R: ("ams02_helium_rigidity",), _T_N: ("voyager1_helium", "voyager1_helium_2016")},
    "C": {_R: ("ams02_carbon_rigidity",), _T_N: (VOYAGER1_ELEMENTS["C"],)},
    "O": {_R: ("ams02_oxygen_rigidity",), _T_N: (VOYAGER1_ELEMENTS["O"],)},
    **{s: {_T_N: (n,)} for s, n in VOYAGER1_ELEMENTS.items() if s not in ("C", "O")},
    "electron": {_T_N: ("ams02_electron",)},
    "positron": {_T_N: ("ams02_positron",)},
    "B/C": {_R: ("ams02_bc_rigidity", "pamela_bc_rigidity"), _T_N: ("heao3_bc",)},
    "Be10/Be9": {_T_N: ("ace_cris_be10_be9", "isomax_be10_be9", "balloons_be10_be9")},
    "e+/(e+ + e-)": {_T_N: ("ams02_positron_fraction",)},
    "pbar/p": {},  # no antiproton data shipped
}
#: AMS-02 points converted to T/n by CRDB: shown on a panel without rigidity curves only.
T_N_WITHOUT_RIGIDITY: dict[str, tuple[str, ...]] = {
    "H": ("ams02_proton",),
    "He": ("ams02_helium",),
    "B/C": ("ams02_bc",),
}
#: Datasets of each species / ratio panel when the model has no rigidity curves.
SPECIES_DATA: dict[str, tuple[str, ...]] = {
    k: T_N_WITHOUT_RIGIDITY.get(k, ()) + v.get(_T_N, ())
    for k, v in PANEL_DATA.items()
    if "/" not in k
}
RATIO_DATA: dict[str, tuple[str, ...]] = {
    k: T_N_WITHOUT_RIGIDITY.get(k, ()) + v.get(_T_N, ()) for k, v in PANEL_DATA.items() if "/" in k
}
#: The panels of :func:`plot_network`: data key, result names tried in turn.  "H" (H1 + H2)
#: is preferred to "H1": AMS-02 and Voyager 1 count all Z = 1 nuclei.
NETWORK_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("H", ("H", "H1", "p", "proton")),
    ("He", ("He", "He4")),
    ("C", ("C",)),
    ("O", ("O",)),
    ("B/C", ("B/C",)),
    ("Be10/Be9", ("Be10/Be9", "10Be/9Be")),
    ("electron", ("e-", "electron")),
    ("positron", ("e+", "positron")),
    ("e+/(e+ + e-)", ("e+/(e+ + e-)",)),
    ("pbar/p", ("pbar/p",)),
)

_ALIASES = {
    "H1": "H",
    "p": "H",
    "proton": "H",
    "He4": "He",
    "e-": "electron",
    "e+": "positron",
    "antiproton": "pbar",
    "10Be/9Be": "Be10/Be9",
}
_TITLES = {
    "H": "protons",
    "He": "helium",
    "C": "carbon",
    "O": "oxygen",
    "electron": "electrons",
    "positron": "positrons",
}
_MARKERS = ("o", "s", "^", "D")
#: weight of the electron, positron panels (E^3 J)
LEPTON_INDEX = 3.0
#: last part of the label of a data / model axes (``"<name>|<x axis>|data/model"``)
RESIDUAL_LABEL = "data/model"
_ISOTOPE = re.compile(r"^([A-Z][a-z]?)(\d+)$")


@dataclass(frozen=True)
class _Plot:
    """One axes: a panel's model curves and data on one x axis."""

    kind: str  # "species" or "ratio"
    name: str  # key in the results
    key: str  # key in PANEL_DATA
    axis: str  # RIGIDITY or KINETIC_ENERGY_PER_NUCLEON
    x: np.ndarray
    curves: dict[str, np.ndarray]
    data: tuple[str, ...]


def _entry(results: Mapping, name: str) -> Mapping:
    try:
        return results[name]
    except KeyError:
        raise ValueError(
            f"no results for {name!r}; results has: {', '.join(map(str, results))}"
        ) from None


def _axis_curves(entry: Mapping, name: str, axis: str):
    """(x, {"lis": .., "toa": ..}) of an entry on one axis, or None if it has none."""
    xk, lis_k, toa_k = _MODEL_KEYS[axis]
    if xk not in entry:
        return None
    x = np.asarray(entry[xk], dtype=float)
    curves = {
        k: np.asarray(entry[src], dtype=float)
        for k, src in (("lis", lis_k), ("toa", toa_k))
        if src in entry
    }
    if not curves:
        return None
    for k, v in curves.items():
        if v.shape != x.shape:
            src = _MODEL_KEYS[axis][1 if k == "lis" else 2]
            raise ValueError(f"results[{name!r}][{src!r}] has shape {v.shape}, {xk} {x.shape}")
    return x, curves


def _species_curves(results: Mapping, name: str) -> dict:
    entry = _entry(results, name)
    out = {}
    for axis in (_R, _T_N):
        c = _axis_curves(entry, name, axis)
        if c is not None:
            out[axis] = c
    if not out:
        if "t_n" not in entry and "rigidity" not in entry:
            raise ValueError(
                f"results[{name!r}] needs 't_n' (kinetic energy per nucleon, GeV/n) "
                "and/or 'rigidity' (GV)"
            )
        raise ValueError(f"results[{name!r}] needs 'lis' and/or 'toa' ('lis_r'/'toa_r')")
    return out


def _ratio_curves(results: Mapping, ratio: str) -> dict:
    if ratio in results:
        return _species_curves(results, ratio)
    num, den = ratio.split("/")
    c_num, c_den = _species_curves(results, num), _species_curves(results, den)
    out = {}
    for axis in (_R, _T_N):
        if axis not in c_num or axis not in c_den:
            continue
        (x_num, f_num), (x_den, f_den) = c_num[axis], c_den[axis]
        r = {}
        for k in ("lis", "toa"):
            if k in f_num and k in f_den:
                # denominator moved onto the numerator's grid, linearly in log-log
                d = np.exp(np.interp(np.log(x_num), np.log(x_den), np.log(f_den[k])))
                r[k] = f_num[k] / d
        if r:
            out[axis] = (x_num, r)
    if not out:
        raise ValueError(f"{num!r} and {den!r} share no 'lis' or 'toa' curve for {ratio!r}")
    return out


def _panel_plots(results: Mapping, kind: str, name: str) -> list[_Plot]:
    """The axes of one panel: rigidity (if model and data have it), then T/n."""
    key = _ALIASES.get(name, name)
    model = _species_curves(results, name) if kind == "species" else _ratio_curves(results, name)
    by_axis = PANEL_DATA.get(key, {})
    plots = []
    if _R in model and (by_axis.get(_R) or _T_N not in model):
        plots.append(_Plot(kind, name, key, _R, *model[_R], by_axis.get(_R, ())))
    if _T_N in model:
        converted = () if plots else T_N_WITHOUT_RIGIDITY.get(key, ())
        plots.append(_Plot(kind, name, key, _T_N, *model[_T_N], converted + by_axis.get(_T_N, ())))
    return plots


def _pretty(name: str) -> str:
    """Ratio or isotope name for labels: "Be10/Be9" -> "$^{10}$Be/$^{9}$Be"."""
    parts = []
    for part in name.split("/"):
        m = _ISOTOPE.match(part)
        parts.append(rf"$^{{{m.group(2)}}}${m.group(1)}" if m else part)
    return "/".join(parts)


def _draw_model(ax, x, curves, weight_index: float) -> None:
    styles = {"lis": ("--", "model LIS"), "toa": ("-", "model TOA (modulated)")}
    for key, values in curves.items():
        ls, label = styles[key]
        y = x**weight_index * np.asarray(values, float)
        # log axes: round-off zeros and floors (1e-300) are not drawn; they would stretch
        # the autoscaled range over hundreds of decades
        top = np.max(y, initial=0.0, where=np.isfinite(y))
        y = np.where(y > 1e-30 * top, y, np.nan) if top > 0 else np.full_like(y, np.nan)
        ax.plot(x, y, ls=ls, color="k", lw=1.5, label=label)


def _draw_data(ax, data: Sequence[observations.ObservedSpectrum], weight_index: float) -> None:
    for i, d in enumerate(data):
        w = d.x**weight_index
        ax.errorbar(
            d.x,
            w * d.y,
            yerr=[w * d.y_err_lo, w * d.y_err_hi],
            fmt=_MARKERS[i % len(_MARKERS)],
            ms=3,
            lw=0.8,
            color=f"C{i}",
            label=d.label,
        )


def data_over_model(x, curves: Mapping, d: observations.ObservedSpectrum):
    """Data / model of one dataset at its own points: the model's LIS for a local
    interstellar spectrum (Voyager 1), its TOA spectrum otherwise (the LIS where a run has
    no TOA), interpolated linearly in (ln x, ln J).  Returns (x, ratio, err_lo, err_hi) of
    the points inside the model's x range with a positive model value there."""
    key = "lis" if observations.is_interstellar(d.name) or "toa" not in curves else "toa"
    x = np.asarray(x, float)
    y = np.asarray(curves[key], float)
    good = (x > 0) & (y > 0) & np.isfinite(y)
    keep = np.zeros(d.x.shape, bool)
    m = np.full(d.x.shape, np.nan)
    if good.sum() >= 2:
        xs, ys = x[good], y[good]
        keep = (d.x >= xs[0]) & (d.x <= xs[-1])
        m[keep] = loglog(xs, ys, d.x[keep])
    return d.x[keep], d.y[keep] / m[keep], d.y_err_lo[keep] / m[keep], d.y_err_hi[keep] / m[keep]


def _draw_residuals(ax, p: _Plot, data: Sequence[observations.ObservedSpectrum]) -> None:
    """data / model of each dataset below its plot, in the colours and markers above."""
    for i, d in enumerate(data):
        x, r, lo, hi = data_over_model(p.x, p.curves, d)
        ax.errorbar(x, r, yerr=[lo, hi], fmt=_MARKERS[i % len(_MARKERS)], ms=3, lw=0.8,
                    color=f"C{i}")  # fmt: skip
    ax.axhline(1.0, color="k", lw=1.0)
    ax.set_ylabel("data / model")
    ax.set_xscale("log")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_label(f"{p.name}|{p.axis}|{RESIDUAL_LABEL}")


def _x_label(axis: str, lepton: bool) -> str:
    if axis == _R:
        return "R [GV]"
    return "E [GeV]" if lepton else r"$E_\mathrm{kn}$ [GeV/n]"


def _flux_label(axis: str, lepton: bool, w: float) -> str:
    if axis == _R:
        sym, unit = "R", "GV"
    else:
        sym, unit = ("E", "GeV") if lepton else (r"E_\mathrm{kn}", "(GeV/n)")
    head = rf"${sym}^{{{w:g}}}\,J$" if w != 0 else r"$J$"
    tail = "" if w == 1 else rf" {unit}$^{{{w - 1:g}}}$"
    return rf"{head} [m$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}${tail}]"


def _fit_to_data(ax, p: _Plot, data, w: float, set_x: bool) -> None:
    """Axis ranges around the data: x a factor 2 beyond them, y over data and model there."""
    if not data:
        return
    xs = np.concatenate([d.x for d in data])
    lo, hi = (xs.min() / 2.0, xs.max() * 2.0) if set_x else ax.get_xlim()
    if set_x:
        ax.set_xlim(lo, hi)
    vals = [d.x**w * (d.y - d.y_err_lo) for d in data] + [d.x**w * (d.y + d.y_err_hi) for d in data]
    inside = (p.x >= lo) & (p.x <= hi)
    vals += [p.x[inside] ** w * c[inside] for c in p.curves.values()]
    v = np.concatenate(vals)
    v = v[np.isfinite(v)]
    if p.kind == "ratio":
        if v.size:
            ax.set_ylim(0.0, 1.15 * v.max())
        return
    v = v[v > 0]
    if v.size:
        ax.set_ylim(v.min() / 1.5, v.max() * 1.5)


def spectra_figure(
    results: Mapping[str, Mapping[str, Sequence[float]]],
    species_list: Sequence[str],
    *,
    ratios: Sequence[str] = (),
    index: float = 2.7,
    index_t_n: float | None = None,
    show_data: bool = True,
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
    xlim_rigidity: tuple[float, float] | None = None,
    ylim_decades: float | None = 5.0,
    fit_to_data: bool = False,
    residuals: bool = False,
) -> Figure:
    """The figure of :func:`plot_spectra` (same arguments, less the file): for notebooks and
    tests.  Each axes is labelled ``"<name>|<x axis>"`` (``ax.get_label()``), e.g.
    ``"B/C|rigidity"``, ``"H|kinetic_energy_per_nucleon"``; with ``residuals`` a plot with
    data gets a data / model axes below it (:func:`data_over_model`), labelled
    ``"<name>|<x axis>|data/model"``."""
    panels = [("species", s) for s in species_list] + [("ratio", r) for r in ratios]
    if not panels:
        raise ValueError("nothing to plot: give at least one species or ratio")
    groups = [_panel_plots(results, kind, name) for kind, name in panels]
    pairs = any(len(g) == 2 for g in groups)
    ncols = (4 if len(groups) > 1 else 2) if pairs else min(len(groups), 2)
    slots, s = [], 0
    for g in groups:
        if len(g) == 2 and s % 2:  # keep a panel's two plots side by side
            s += 1
        slots.append(s)
        s += len(g)
    nrows = math.ceil(s / ncols)
    width, height = (5.2, 4.0) if pairs else (6.4, 4.8)
    if residuals:
        height *= 1.3
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    if residuals:
        grid = fig.add_gridspec(nrows, ncols)
        cells = [grid[i // ncols, i % ncols].subgridspec(2, 1, height_ratios=[3, 1], hspace=0)
                 for i in range(nrows * ncols)]  # fmt: skip
        axes = [fig.add_subplot(c[0]) for c in cells]
    else:
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    used = {slot + i for slot, g in zip(slots, groups, strict=True) for i in range(len(g))}
    for i, ax in enumerate(axes):
        ax.set_visible(i in used)

    for slot, group in zip(slots, groups, strict=True):
        for i, p in enumerate(group):
            ax = axes[slot + i]
            lepton = p.key in ("electron", "positron", "e+/(e+ + e-)")
            if p.kind == "ratio":
                w = 0.0
            elif lepton:
                w = LEPTON_INDEX  # E^3 J, as AMS-02 shows electrons and positrons
            elif p.axis == _T_N and index_t_n is not None:
                w = index_t_n
            else:
                w = index
            data = [observations.load(n) for n in p.data] if show_data else []
            _draw_model(ax, p.x, p.curves, w)
            _draw_data(ax, data, w)
            ax.set_xscale("log")
            lim = xlim_rigidity if p.axis == _R else xlim
            if lim is not None:
                ax.set_xlim(*lim)
            if p.kind == "species":
                ax.set_yscale("log")
                ax.set_ylabel(_flux_label(p.axis, lepton, w))
                ax.set_title(_TITLES.get(p.key, _pretty(p.name)))
            else:
                ax.set_ylabel(f"{_pretty(p.name)} (dimensionless)")
                ax.set_title(_pretty(p.name))
            if fit_to_data:
                _fit_to_data(ax, p, data, w, set_x=lim is None)
            elif p.kind == "species" and ylim_decades is not None:
                top = ax.get_ylim()[1]
                ax.set_ylim(top * 10.0**-ylim_decades, top)
            ax.set_xlabel(_x_label(p.axis, lepton))
            ax.set_label(f"{p.name}|{p.axis}")
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=6.5, loc="best")
            if residuals and data:
                below = fig.add_subplot(cells[slot + i][1], sharex=ax)
                _draw_residuals(below, p, data)
                below.set_xlabel(ax.get_xlabel())
                ax.xaxis.label.set_visible(False)
                ax.tick_params(labelbottom=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_spectra(
    results: Mapping[str, Mapping[str, Sequence[float]]],
    species_list: Sequence[str],
    out_png: str | Path,
    *,
    ratios: Sequence[str] = (),
    index: float = 2.7,
    index_t_n: float | None = None,
    show_data: bool = True,
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
    xlim_rigidity: tuple[float, float] | None = None,
    ylim_decades: float | None = 5.0,
    fit_to_data: bool = False,
    residuals: bool = False,
    dpi: int = 120,
) -> Path:
    """Plot x^index-weighted fluxes, one panel per species, plus optional ratio panels.

    Args:
        results: {name: {"t_n": [GeV/n], "lis": J, "toa": J}}, J in m^-2 s^-1 sr^-1 (GeV/n)^-1;
            optionally also "rigidity" [GV], "lis_r", "toa_r" (per GV).
        species_list: panels to draw, e.g. ``["H", "He"]`` (aliases "p", "H1", "He4",
            "e-", "e+" accepted for the data overlay; the results key is used as given).
        out_png: output file.
        ratios: ratio panels, e.g. ``["B/C", "Be10/Be9"]``, drawn unweighted.
        index: weighting exponent of the flux panels (x^index J).
        index_t_n: weighting exponent on the kinetic-energy axes, if not ``index`` (0 draws
            the plain flux: Voyager 1 spans 3-600 MeV/n).
        show_data: overlay the published points listed in PANEL_DATA.
        title: figure title.
        xlim: kinetic-energy range of all panels [GeV/n], e.g. ``(0.1, 1e3)``.
        xlim_rigidity: rigidity range [GV] of the rigidity panels.
        ylim_decades: flux panels show this many decades below their highest curve or
            point (the modulated spectrum otherwise drags the axis down to ~1e-6); None for
            matplotlib's automatic range.
        fit_to_data: ranges around each plot's data instead (x a factor 2 beyond the points
            unless xlim / xlim_rigidity is given; y over the points and the model there).
        residuals: a data / model axes below each plot with data (:func:`data_over_model`).
        dpi: resolution of the PNG.

    Returns:
        The path of the written PNG.
    """
    fig = spectra_figure(
        results,
        species_list,
        ratios=ratios,
        index=index,
        index_t_n=index_t_n,
        show_data=show_data,
        title=title,
        xlim=xlim,
        xlim_rigidity=xlim_rigidity,
        ylim_decades=ylim_decades,
        fit_to_data=fit_to_data,
        residuals=residuals,
    )
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


def network_panels(spectra: Mapping) -> tuple[list[str], list[str]]:
    """Species and ratio names of the :data:`NETWORK_PANELS` that ``spectra`` can fill: the
    first name present of each panel; a ratio also if both its parts are present."""
    species, ratios = [], []
    for key, names in NETWORK_PANELS:
        for name in names:
            if "/" in key:
                if name in spectra or (
                    name.count("/") == 1 and all(part in spectra for part in name.split("/"))
                ):
                    ratios.append(name)
                    break
            elif name in spectra:
                species.append(name)
                break
    return species, ratios


def network_figure(
    spectra: Mapping, *, index: float = 2.7, index_t_n: float = 0.0, title: str | None = None
) -> Figure:
    """The figure of :func:`plot_network`."""
    species, ratios = network_panels(spectra)
    if not species and not ratios:
        wanted = ", ".join(names[0] for _, names in NETWORK_PANELS)
        raise ValueError(f"nothing to plot: spectra has none of {wanted}")
    return spectra_figure(
        spectra,
        species,
        ratios=ratios,
        index=index,
        index_t_n=index_t_n,
        title=title,
        fit_to_data=True,
        residuals=True,
    )


def plot_network(
    spectra: Mapping,
    path: str | Path,
    *,
    index: float = 2.7,
    index_t_n: float = 0.0,
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Local spectra of a nuclear network against the shipped data, each on its own axis.

    Panels p, He, C, O, B/C and 10Be/9Be (those whose entry is in ``spectra``; a ratio also
    from its two parts): AMS-02 (and PAMELA B/C) against rigidity from the entries'
    ``rigidity`` / ``lis_r`` / ``toa_r``, Voyager 1, HEAO-3 and the 10Be/9Be measurements
    against kinetic energy per nucleon from ``t_n`` / ``lis`` / ``toa``.  Below each plot
    with data, data / model of each dataset (Voyager 1 against the LIS, the others against
    the TOA spectrum).

    Args:
        spectra: {name: {"t_n": GeV/n, "lis", "toa": per GeV/n, "rigidity": GV,
            "lis_r", "toa_r": per GV}}; ratios ("B/C", "Be10/Be9") hold the ratio.
        path: output PNG.
        index: fluxes against rigidity are drawn as R^index J.
        index_t_n: fluxes against T/n as T_n^index_t_n J (plain J by default).
        title: figure title.
        dpi: resolution of the PNG.

    Returns:
        The path of the written PNG.

    Raises:
        ValueError: ``spectra`` fills none of the panels.
    """
    fig = network_figure(spectra, index=index, index_t_n=index_t_n, title=title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out
