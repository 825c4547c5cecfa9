"""Sky-map files: HEALPix maps of several emission processes in HDF5 and FITS.

Maps are ``(n_E, npix)`` arrays (RING ordering, Galactic coordinates, one map per energy),
one per process (``"pi0"``, ``"inverse_compton"``, ...).  Energies are in GeV in the
arguments and in the HDF5 file; the FITS file follows the GALPROP / Fermi-LAT convention of
an ``ENERGIES`` table in MeV (converted with :data:`galprop_py.units.MEV_GEV`).

HDF5 layout (inside the group the caller gives, e.g. ``/skymaps`` of the run's file):

* ``energies_gev``: (n_E,), attribute ``units = "GeV"``;
* ``<process>``: (n_E, npix) float64, attributes ``units``, ``ordering = "RING"``,
  ``nside``, ``coordsys = "G"``.

FITS layout (the HEALPix binary-table convention of the HEALPix primer, Gorski et al. 2005,
ApJ 622, 759, and of GALPROP's ``healpix`` output as read by gammapy's ``galprop2`` reader):

* primary HDU: empty;
* one BINTABLE per process, ``EXTNAME`` = the process name, one row per pixel and one column
  ``Bin0 .. Bin{n_E-1}`` per energy (float64, ``TUNITi`` = the map unit), header keys
  ``PIXTYPE = 'HEALPIX'``, ``ORDERING = 'RING'``, ``NSIDE``, ``FIRSTPIX``, ``LASTPIX``,
  ``INDXSCHM = 'IMPLICIT'``, ``OBJECT = 'FULLSKY'``, ``COORDSYS = 'G'``;
* ``ENERGIES``: one column ``Energy`` [MeV].

``healpy.read_map(path, field=i, hdu=k)`` reads the map of energy i of the k-th process
(k = 1 is the first).  Both writers are serial: call them on one rank.  The FITS file is
written under a temporary name and renamed, so a reader never sees a partial file.
"""

from __future__ import annotations

import os
from pathlib import Path

import healpy as hp
import numpy as np
from astropy.io import fits

from .. import units as _units

ENERGIES_DATASET = "energies_gev"


def _check(maps: dict, energies_gev, nside: int, unit) -> tuple[np.ndarray, dict]:
    """Validate the arguments of the writers; returns the energies and a unit per process."""
    if not isinstance(nside, (int, np.integer)) or not hp.isnsideok(int(nside), nest=True):
        raise ValueError(f"nside = {nside!r}: allowed a power of 2 (1, 2, 4, ...)")
    energies = np.atleast_1d(np.asarray(energies_gev, dtype=float))
    if energies.ndim != 1 or np.any(energies <= 0):
        raise ValueError(f"energies_gev = {energies_gev!r}: allowed energies > 0 GeV")
    if not maps:
        raise ValueError("maps = {}: allowed a dict of at least one process name -> map")
    npix = hp.nside2npix(int(nside))
    for name, m in maps.items():
        shape = np.shape(m)
        if shape != (energies.size, npix):
            raise ValueError(
                f"maps[{name!r}] shape {shape}: allowed ({energies.size}, {npix}) "
                f"(one map per energy of nside {nside})"
            )
        if not isinstance(name, str) or not name or "/" in name or name == ENERGIES_DATASET:
            raise ValueError(
                f"maps key {name!r}: allowed a non-empty process name without '/' other "
                f"than {ENERGIES_DATASET!r}"
            )
    if isinstance(unit, str):
        unit_of = {name: unit for name in maps}
    else:
        missing = [name for name in maps if name not in unit]
        if missing:
            raise ValueError(f"units: no unit for {missing}; allowed a string or a dict per map")
        unit_of = {name: str(unit[name]) for name in maps}
    return energies, unit_of


def write_maps_hdf5(h5group, maps: dict, energies_gev, nside: int, units: str | dict) -> None:
    """Write the maps of every process into an open h5py group (layout in the module doc).

    ``units`` is one unit string for all maps or a dict process -> unit string."""
    energies, unit_of = _check(maps, energies_gev, nside, units)
    for key in [ENERGIES_DATASET, *maps]:
        if key in h5group:
            del h5group[key]
    e = h5group.create_dataset(ENERGIES_DATASET, data=energies)
    e.attrs["units"] = "GeV"
    for name, m in maps.items():
        ds = h5group.create_dataset(name, data=np.asarray(m, dtype=np.float64))
        ds.attrs["units"] = unit_of[name]
        ds.attrs["ordering"] = "RING"
        ds.attrs["nside"] = int(nside)
        ds.attrs["coordsys"] = "G"


def read_maps_hdf5(h5group) -> tuple[dict, np.ndarray, int, dict]:
    """(maps, energies_gev, nside, units) from a group written by :func:`write_maps_hdf5`."""
    if ENERGIES_DATASET not in h5group:
        raise ValueError(f"HDF5 group {h5group.name!r} holds no sky maps (no {ENERGIES_DATASET})")
    energies = np.asarray(h5group[ENERGIES_DATASET][()], dtype=float)
    maps, unit_of, nside = {}, {}, None
    for name, ds in h5group.items():
        if name == ENERGIES_DATASET or "nside" not in ds.attrs:
            continue
        maps[name] = np.asarray(ds[()])
        unit_of[name] = str(ds.attrs["units"])
        nside = int(ds.attrs["nside"])
    return maps, energies, nside, unit_of


def _map_hdu(name: str, m: np.ndarray, nside: int, unit: str) -> fits.BinTableHDU:
    cols = [
        fits.Column(name=f"Bin{i}", format="D", unit=unit, array=np.asarray(m[i], np.float64))
        for i in range(m.shape[0])
    ]
    hdu = fits.BinTableHDU.from_columns(cols, name=name)
    h = hdu.header
    h["PIXTYPE"] = ("HEALPIX", "HEALPix pixelisation")
    h["ORDERING"] = ("RING", "pixel ordering scheme")
    h["NSIDE"] = (int(nside), "resolution parameter")
    h["FIRSTPIX"] = (0, "first pixel index")
    h["LASTPIX"] = (hp.nside2npix(nside) - 1, "last pixel index")
    h["INDXSCHM"] = ("IMPLICIT", "indexing: implicit (full sky, row = pixel)")
    h["OBJECT"] = ("FULLSKY", "full-sky map")
    h["COORDSYS"] = ("G", "Galactic coordinates")
    h["BUNIT"] = (unit, "map unit")
    h["NBINS"] = (m.shape[0], "number of energies (columns)")
    h["PROCESS"] = (name, "emission process")
    return hdu


def write_maps_fits(path, maps: dict, energies_gev, nside: int, units: str | dict) -> Path:
    """Write the maps to a FITS file (layout in the module doc), atomically; returns the path.

    ``units`` is one unit string for all maps or a dict process -> unit string."""
    energies, unit_of = _check(maps, energies_gev, nside, units)
    path = Path(path)
    hdus = [fits.PrimaryHDU()]
    for name, m in maps.items():
        hdus.append(_map_hdu(name, np.asarray(m), int(nside), unit_of[name]))
    e_mev = energies / _units.MEV_GEV
    ecol = fits.Column(name="Energy", format="D", unit="MeV", array=e_mev)
    hdus.append(fits.BinTableHDU.from_columns([ecol], name="ENERGIES"))
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        fits.HDUList(hdus).writeto(tmp, overwrite=True)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_maps_fits(path) -> tuple[dict, np.ndarray, int, dict]:
    """(maps, energies_gev, nside, units) from a file written by :func:`write_maps_fits`."""
    maps, unit_of, nside = {}, {}, None
    with fits.open(path) as hdul:
        if "ENERGIES" not in hdul:
            raise ValueError(f"{path}: no ENERGIES extension; not a sky-map file")
        energies = np.asarray(hdul["ENERGIES"].data["Energy"], dtype=float) * _units.MEV_GEV
        for hdu in hdul[1:]:
            if hdu.header.get("PIXTYPE") != "HEALPIX":
                continue
            n = int(hdu.header["NBINS"])
            name = str(hdu.header.get("PROCESS", hdu.name))
            maps[name] = np.stack([np.asarray(hdu.data[f"Bin{i}"], dtype=float) for i in range(n)])
            unit_of[name] = str(hdu.header.get("BUNIT", ""))
            nside = int(hdu.header["NSIDE"])
    return maps, energies, nside, unit_of


def read_maps(path, group: str | None = None) -> tuple[dict, np.ndarray, int, dict]:
    """(maps, energies_gev, nside, units) from a FITS (.fits, .fit, .fits.gz) or HDF5 file.

    In HDF5 the maps are read from ``group``, by default the file's root if it holds them,
    else ``/skymaps``."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"maps_file = '{path}': no such file")
    if path.name.endswith((".fits", ".fit", ".fits.gz", ".fit.gz")):
        return read_maps_fits(path)
    import h5py

    with h5py.File(path, "r") as f:
        if group is None:
            group = "/" if ENERGIES_DATASET in f else "skymaps"
        if group not in f:
            raise ValueError(f"group = {group!r}: not in '{path}'; allowed {sorted(f.keys())}")
        return read_maps_hdf5(f[group])
