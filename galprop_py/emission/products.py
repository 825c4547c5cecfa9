"""Emission products of a run: emissivities, the values at the Sun, luminosities, sky maps,
and their files (``[emission]`` of the config).

:func:`compute_emission` (collective) evaluates the per-cell emissivities of
:mod:`.emissivity` for ``emission.processes`` on the normalised states of a run, then

* the emissivity at the Sun (multilinear interpolation between cell centres,
  :func:`galprop_py.diagnostics.value_at_point`), and for pi0 and bremsstrahlung also per
  H atom (the kernels on the local cosmic rays without the gas density, He atoms with
  f_He: the gas emissivity Fermi-LAT measures, Abdo et al. 2009, ApJ 703, 1249);
* the luminosities ``4 pi int eps dV`` (:func:`.skymap.luminosity`; for synchrotron the
  power int L_nu dnu);
* the HEALPix maps ``I = int eps ds`` seen from the Sun (:func:`.skymap.sky_map`), when
  ``emission.maps``.

Files: :func:`write_emission` puts everything into the open result file under
``/emission`` (collective; layout below) and :func:`write_emission_fits` the gamma-ray maps
into ``<stem>_maps.fits`` and the synchrotron maps into ``<stem>_synchrotron_maps.fits``
(:func:`.maps_io.write_maps_fits`, rank 0).

HDF5 layout (every dataset has a ``unit`` attribute):

=====================================  =====================================================
``/emission/energies_gev``             gamma-ray energies [GeV]
``/emission/frequencies_hz``           synchrotron frequencies [Hz]
``/emission/emissivity/<process>``     per cell (grid axes, energy) [GAMMA_UNIT or sync.]
``/emission/sun/<process>``            at the Sun; ``pi0_per_h_atom``,
                                       ``bremsstrahlung_per_h_atom`` [photons s^-1 sr^-1
                                       GeV^-1 per H atom (with f_He He)]
``/emission/luminosity/<process>``     [photons s^-1 GeV^-1] or [erg s^-1 Hz^-1], attribute
                                       ``total_erg_s``
``/emission/maps``                     the gamma-ray maps (:mod:`.maps_io` layout)
``/emission/synchrotron_maps``         the synchrotron maps: ``energies_gev`` = h nu, and
                                       ``frequencies_hz``
=====================================  =====================================================

Units: GeV, Hz, cm, s, sr; maps in photons cm^-2 s^-1 sr^-1 GeV^-1 (gamma rays) and
erg cm^-2 s^-1 Hz^-1 sr^-1 (synchrotron).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import units
from ..diagnostics import value_at_point
from ..messages import info
from . import emissivity as em
from .skymap import integrate_power_law, luminosity, sky_map

GAMMA_MAP_UNIT = "photons cm^-2 s^-1 sr^-1 GeV^-1"
SYNCHROTRON_MAP_UNIT = "erg cm^-2 s^-1 Hz^-1 sr^-1"
PER_H_UNIT = "photons s^-1 sr^-1 GeV^-1 per H atom"


@dataclass
class EmissionResult:
    """The emission of a run (every array but ``emissivity`` is the same on every rank)."""

    e_gamma_gev: np.ndarray
    frequencies_hz: np.ndarray
    emissivity: dict[str, np.ndarray] = field(default_factory=dict)  # rank-local
    sun: dict[str, np.ndarray] = field(default_factory=dict)
    luminosity: dict[str, np.ndarray] = field(default_factory=dict)
    luminosity_erg_s: dict[str, float] = field(default_factory=dict)
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # (n_E, npix) RING
    nside: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # process -> why not computed
    seconds: float = 0.0

    @property
    def gamma_processes(self) -> list[str]:
        return [p for p in self.emissivity if p != "synchrotron"]

    def unit(self, process: str) -> str:
        return em.SYNCHROTRON_UNIT if process == "synchrotron" else em.GAMMA_UNIT

    def map_unit(self, process: str) -> str:
        return SYNCHROTRON_MAP_UNIT if process == "synchrotron" else GAMMA_MAP_UNIT


def gamma_energies(block) -> np.ndarray:
    """The log-spaced gamma-ray energies [GeV] of an ``[emission]`` block."""
    if block.n_e_gamma == 1:
        return np.array([float(block.e_gamma_min_gev)])
    return np.geomspace(block.e_gamma_min_gev, block.e_gamma_max_gev, block.n_e_gamma)


def pi0_per_h_atom_at(cfg, model, decomp, states, e_gamma, point) -> np.ndarray:
    """pi0 emissivity per H atom (He included with f_He) of the nuclei at ``point``
    [photons s^-1 sr^-1 GeV^-1] (collective)."""
    from .pi0 import pi0_kernel

    out = np.zeros(np.size(e_gamma))
    for sp in em.emitters(model, "pi0"):
        p = model.momentum.momentum(sp)
        t, n = em.kinetic_density(sp, p, value_at_point(decomp, states[sp.name], point))
        k = pi0_kernel(
            e_gamma, t, (sp.charge, sp.mass_number), cfg.gas.f_he, cfg.emission.pi0_model
        )
        out += k @ n
    return out / (4.0 * np.pi)


def bremsstrahlung_per_h_atom_at(cfg, model, decomp, states, e_gamma, point) -> np.ndarray:
    """Bremsstrahlung per H atom of neutral gas (H + f_He He atoms) of the electrons and
    positrons at ``point`` [photons s^-1 sr^-1 GeV^-1] (collective)."""
    from .bremsstrahlung import bremsstrahlung_kernel

    out = np.zeros(np.size(e_gamma))
    for sp in em.emitters(model, "bremsstrahlung"):
        p = model.momentum.momentum(sp)
        t, n = em.kinetic_density(sp, p, value_at_point(decomp, states[sp.name], point))
        k = bremsstrahlung_kernel(e_gamma, t, "HI")
        k = k + cfg.gas.f_he * bremsstrahlung_kernel(e_gamma, t, "He")
        out += k @ n
    return out / (4.0 * np.pi)


def compute_emission(cfg, model, decomp, states) -> EmissionResult:
    """Emissivities, values at the Sun, luminosities and maps of ``cfg.emission.processes``
    (collective: every rank calls it with its rank-local ``states``)."""
    t0 = time.perf_counter()
    block = cfg.emission
    e = gamma_energies(block)
    nu = np.asarray(block.synchrotron_frequencies_hz, dtype=float)
    res = EmissionResult(e, nu, nside=int(block.nside) if block.maps else 0)
    point = [float(c[0]) for c in model.sun_coords()]
    for proc in block.processes:
        if not em.emitters(model, proc):
            who = "nuclei" if proc == "pi0" else "electrons or positrons"
            res.skipped[proc] = f"no {who} in the run"
            info(f"emission: {proc} skipped (no {who} in the run)")
            continue
        if proc == "pi0":
            eps = em.pi0_emissivity(model, decomp, states, e, block.pi0_model)
            res.sun["pi0_per_h_atom"] = pi0_per_h_atom_at(cfg, model, decomp, states, e, point)
        elif proc == "inverse_compton":
            eps = em.inverse_compton_emissivity(model, decomp, states, e)
        elif proc == "bremsstrahlung":
            eps = em.bremsstrahlung_emissivity(model, decomp, states, e)
            res.sun["bremsstrahlung_per_h_atom"] = bremsstrahlung_per_h_atom_at(
                cfg, model, decomp, states, e, point
            )
        else:
            eps = em.synchrotron_emissivity(model, decomp, states, nu)
        energies = nu if proc == "synchrotron" else e
        res.emissivity[proc] = eps
        res.sun[proc] = value_at_point(decomp, eps, point)
        if energies.size > 1 and np.all(np.diff(energies) > 0):
            l_e, l_erg = luminosity(decomp, eps, energies)
            if proc == "synchrotron":
                l_erg = integrate_power_law(energies, l_e)  # int L_nu d nu [erg/s]
        else:
            l_e, _ = luminosity(decomp, eps, np.sort(energies))
            l_erg = float("nan")
        res.luminosity[proc] = l_e
        res.luminosity_erg_s[proc] = float(l_erg)
    if block.maps and res.emissivity:
        # one ray tracing for every process: the energies of all processes side by side
        s = cfg.sun
        stacked = np.concatenate(list(res.emissivity.values()), axis=-1)
        maps = sky_map(
            decomp, stacked, block.nside, block.s_max_kpc, block.oversample, s.r_kpc, s.z_kpc
        )
        start = 0
        for proc, eps in res.emissivity.items():
            stop = start + eps.shape[-1]
            res.maps[proc] = np.ascontiguousarray(maps[start:stop])
            start = stop
    res.seconds = time.perf_counter() - t0
    done = ", ".join(res.emissivity) or "nothing"
    flat = decomp.grid.geometry not in ("cylindrical2d", "cartesian3d")
    note = " (no sky maps on a 1D grid: emissivities and luminosities)" if flat else ""
    info(f"emission: {done} in {res.seconds:.1f} s{note}")
    return res


def _maps_group(h5, name: str):
    return h5.require_group(name)


def write_emission(f, decomp, res: EmissionResult) -> None:
    """``/emission`` of the result file (a :class:`galprop_py.io.hdf5.ParallelFile`;
    collective, layout in the module docstring)."""
    from .maps_io import write_maps_hdf5

    f.write_small("/emission/energies_gev", res.e_gamma_gev, {"unit": "GeV"})
    f.write_small("/emission/frequencies_hz", res.frequencies_hz, {"unit": "Hz"})
    axes = ",".join(decomp.grid.axis_names)
    for proc, eps in res.emissivity.items():
        sync = proc == "synchrotron"
        what = "frequency" if sync else "gamma-ray energy"
        f.write_distributed(
            f"/emission/emissivity/{proc}",
            decomp,
            eps,
            {"unit": res.unit(proc), "axes": f"{axes},{'frequency' if sync else 'energy'}"},
        )
        f.write_small(
            f"/emission/sun/{proc}", res.sun[proc], {"unit": res.unit(proc), "axis": what}
        )
        f.write_small(
            f"/emission/luminosity/{proc}",
            res.luminosity[proc],
            {
                "unit": "erg s^-1 Hz^-1" if sync else "photons s^-1 GeV^-1",
                "axis": what,
                "total_erg_s": res.luminosity_erg_s[proc],
                "what": "4 pi int eps dV over the grid",
            },
        )
    for name in ("pi0_per_h_atom", "bremsstrahlung_per_h_atom"):
        if name in res.sun:
            f.write_small(
                f"/emission/sun/{name}",
                res.sun[name],
                {"unit": PER_H_UNIT, "axis": "gamma-ray energy", "what": "H + f_He He atoms"},
            )
    f.write_attrs("/emission", {"seconds": res.seconds, "nside": res.nside})
    if not res.maps:
        return
    gamma = {p: m for p, m in res.maps.items() if p != "synchrotron"}
    groups = []
    if gamma:
        groups.append(("/emission/maps", gamma, res.e_gamma_gev, GAMMA_MAP_UNIT))
    if "synchrotron" in res.maps:
        e_nu = units.H_PLANCK_EV_S * res.frequencies_hz * units.EV_GEV
        groups.append(
            ("/emission/synchrotron_maps", {"synchrotron": res.maps["synchrotron"]}, e_nu,
             SYNCHROTRON_MAP_UNIT)
        )  # fmt: skip
    for name, maps, energies, unit in groups:

        def write(name=name, maps=maps, energies=energies, unit=unit):
            if f.h5 is not None:  # every rank of a parallel file, rank 0 otherwise
                write_maps_hdf5(_maps_group(f.h5, name), maps, energies, res.nside, unit)

        f._checked(write)
    if "synchrotron" in res.maps:
        f.write_small(
            "/emission/synchrotron_maps/frequencies_hz", res.frequencies_hz, {"unit": "Hz"}
        )


def fits_paths(output_file: Path) -> tuple[Path, Path]:
    """``<stem>_maps.fits`` (gamma rays) and ``<stem>_synchrotron_maps.fits`` beside the
    result file."""
    output_file = Path(output_file)
    stem = output_file.stem
    return (
        output_file.with_name(f"{stem}_maps.fits"),
        output_file.with_name(f"{stem}_synchrotron_maps.fits"),
    )


def write_emission_fits(output_file: Path, res: EmissionResult) -> list[Path]:
    """The FITS map files of :func:`fits_paths` (serial: rank 0)."""
    from .maps_io import write_maps_fits

    gamma_path, sync_path = fits_paths(output_file)
    written = []
    gamma = {p: m for p, m in res.maps.items() if p != "synchrotron"}
    if gamma:
        written.append(
            write_maps_fits(gamma_path, gamma, res.e_gamma_gev, res.nside, GAMMA_MAP_UNIT)
        )
    if "synchrotron" in res.maps:
        e_nu = units.H_PLANCK_EV_S * res.frequencies_hz * units.EV_GEV
        written.append(
            write_maps_fits(
                sync_path,
                {"synchrotron": res.maps["synchrotron"]},
                e_nu,
                res.nside,
                SYNCHROTRON_MAP_UNIT,
            )
        )
    return written


def plot_process(res: EmissionResult) -> str | None:
    """The process of the run's map plot: pi0 if it has a positive map, else the first
    gamma-ray process with one, else synchrotron; None without maps."""
    order = ["pi0"] + [p for p in res.maps if p != "pi0"]
    for proc in order:
        if proc in res.maps and np.any(np.asarray(res.maps[proc]) > 0):
            return proc
    return None


def plot_emission_map(result_file: Path, res: EmissionResult, png: Path) -> Path | None:
    """Mollweide PNG of :func:`plot_process` at ~1 GeV (synchrotron: 408 MHz or the lowest
    frequency), read back from the result file (rank 0)."""
    from .plot_maps import plot_map

    proc = plot_process(res)
    if proc is None:
        return None
    if proc == "synchrotron":
        energy = units.H_PLANCK_EV_S * float(np.min(res.frequencies_hz)) * units.EV_GEV
        return plot_map(result_file, proc, energy, png, group="/emission/synchrotron_maps")
    return plot_map(result_file, proc, 1.0, png, group="/emission/maps")
