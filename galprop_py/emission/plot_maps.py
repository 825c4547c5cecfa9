"""Plots of sky-map files: Mollweide maps and the spectrum of a sky region.

* :func:`plot_map`: one process at one energy (the map nearest in log energy) in Galactic
  Mollweide projection (healpy's :class:`~healpy.projector.MollweideProj`: l = 0 at the
  centre, l increasing to the left, as ``healpy.mollview``), logarithmic colour scale, the
  map unit on the colour bar, a 30 deg graticule;
* :func:`plot_region_spectrum`: the mean intensity of every process (and their sum) in an
  (l, b) box, as ``E^power I(E)`` against E [GeV] on log axes.

The input is a file written by :mod:`galprop_py.emission.maps_io` (FITS or HDF5).  Matplotlib
is used through its object API with the Agg canvas (no pyplot, no global backend switch), as
:mod:`galprop_py.plotting`.  Serial: call on one rank.
"""

from __future__ import annotations

from pathlib import Path

import healpy as hp
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .maps_io import read_maps
from .skymap import region_spectrum


def _pick_process(maps: dict, process: str, path) -> np.ndarray:
    if process not in maps:
        raise ValueError(f"process = {process!r}: not in '{path}'; allowed {sorted(maps)}")
    return maps[process]


def nearest_energy_index(energies_gev: np.ndarray, energy_gev: float) -> int:
    """Index of the energy nearest to ``energy_gev`` in log E."""
    if not np.isfinite(energy_gev) or energy_gev <= 0:
        raise ValueError(f"energy_gev = {energy_gev!r}: allowed an energy > 0 GeV")
    return int(np.argmin(np.abs(np.log(np.asarray(energies_gev) / energy_gev))))


def _graticule(ax, proj, step_deg: float = 30.0) -> None:
    lat = np.linspace(-90.0, 90.0, 181)
    for lon in np.arange(-180.0 + step_deg, 180.0, step_deg):
        x, y = proj.ang2xy(np.full_like(lat, lon), lat, lonlat=True)
        ax.plot(x, y, color="0.6", lw=0.4)
    lon = np.linspace(-179.999, 179.999, 361)
    for b in np.arange(-90.0 + step_deg, 90.0, step_deg):
        x, y = proj.ang2xy(lon, np.full_like(lon, b), lonlat=True)
        ax.plot(x, y, color="0.6", lw=0.4)


def plot_map(
    maps_file,
    process: str,
    energy_gev: float,
    png,
    group: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    xsize: int = 1200,
) -> Path:
    """Mollweide map of ``process`` at the energy nearest ``energy_gev``; returns the png path.

    The colour scale is logarithmic from ``vmin`` (default: the smallest positive pixel, at
    most 6 decades below the maximum) to ``vmax`` (default: the maximum); pixels <= 0 are
    drawn in the colour map's "under" colour."""
    maps, energies, nside, unit_of = read_maps(maps_file, group)
    m = _pick_process(maps, process, maps_file)
    i = nearest_energy_index(energies, energy_gev)
    sky = np.asarray(m[i], dtype=float)
    positive = sky[sky > 0]
    if positive.size == 0:
        raise ValueError(
            f"process = {process!r} at {energies[i]:g} GeV: the map has no positive pixel; "
            "a log colour scale needs one"
        )
    hi = float(vmax) if vmax is not None else float(positive.max())
    lo = float(vmin) if vmin is not None else max(float(positive.min()), hi * 1e-6)
    if not (0 < lo < hi):
        raise ValueError(f"vmin = {lo!r}, vmax = {hi!r}: allowed 0 < vmin < vmax")

    proj = hp.projector.MollweideProj(xsize=int(xsize))
    img = proj.projmap(sky, lambda x, y, z: hp.vec2pix(nside, x, y, z))
    outside = ~np.isfinite(img)
    img = np.ma.masked_array(np.where(outside, lo, np.maximum(img, lo * 0.5)), mask=outside)

    fig = Figure(figsize=(9.0, 5.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cmap = _cmap()
    shown = ax.imshow(
        img, origin="lower", extent=proj.get_extent(), norm=LogNorm(lo, hi), cmap=cmap
    )
    _graticule(ax, proj)
    ax.set_xlim(-2.02, 2.02)
    ax.set_ylim(-1.02, 1.02)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{process}, E = {energies[i]:.4g} GeV (nside {nside})")
    cb = fig.colorbar(shown, ax=ax, orientation="horizontal", fraction=0.05, pad=0.04)
    cb.set_label(unit_of.get(process, ""))
    png = Path(png)
    fig.savefig(png, dpi=110)
    return png


def _cmap():
    from matplotlib import colormaps

    return colormaps["magma"].with_extremes(under="0.85", bad="white")


def plot_region_spectrum(
    maps_file,
    png,
    l_range_deg=(-30.0, 30.0),
    b_range_deg=(-5.0, 5.0),
    processes=None,
    abs_b: bool = False,
    energy_power: float = 2.0,
    group: str | None = None,
) -> Path:
    """Mean intensity of each process (default: all in the file) and of their sum in the box
    ``l_range_deg`` x ``b_range_deg`` (see :func:`~galprop_py.emission.skymap.region_mask`),
    drawn as E^energy_power I against E; returns the png path."""
    maps, energies, nside, unit_of = read_maps(maps_file, group)
    names = list(maps) if processes is None else list(processes)
    if not names:
        raise ValueError("processes = []: allowed None (all) or a list of process names")
    spectra = {
        n: region_spectrum(
            _pick_process(maps, n, maps_file), nside, l_range_deg, b_range_deg, abs_b
        )
        for n in names
    }
    unit = unit_of.get(names[0], "")
    if len(names) > 1 and len({unit_of.get(n, "") for n in names}) == 1:
        spectra["total"] = np.sum([spectra[n] for n in names], axis=0)

    fig = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    weight = energies**energy_power
    for name, s in spectra.items():
        y = np.where(s > 0, s * weight, np.nan)
        style = {"color": "k", "lw": 2.0} if name == "total" else {}
        ax.plot(energies, y, label=name, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("E [GeV]")
    p = f"{energy_power:g}"
    ax.set_ylabel(f"E^{p} I  [GeV^{p} {unit}]")
    l0, l1 = l_range_deg
    b0, b1 = b_range_deg
    bname = "|b|" if abs_b else "b"
    ax.set_title(f"{l0:g} <= l <= {l1:g} deg, {b0:g} <= {bname} <= {b1:g} deg")
    ax.legend(fontsize="small")
    fig.tight_layout()
    png = Path(png)
    fig.savefig(png, dpi=110)
    return png
