"""A result file as labelled arrays: xarray Datasets with named dimensions, coordinates and units.

::

    from galprop_py.io.labelled import open_result
    res = open_result("output/milky_way/milky_way.h5")
    res["species/H1/sun"].flux_toa.sel(kinetic_energy_per_nucleon=100.0, method="nearest")
    res["species/H1"].flux               # (r, z, momentum), with the grid's r and z
    res["sun/ratios/B_C"].ratio_toa_rigidity
    local = res["local"]                 # every species' spectra, dimension "species"

:func:`open_result` returns a dict of Datasets by HDF5 group of the result file (layout in
README "Output files"; dimensions from :mod:`galprop_py.io.scales`), read with ``xarray`` and
``engine="h5netcdf"``:

* ``"species/<name>/sun"``, ``"sun/elements/<symbol>"``, ``"sun/ratios/<name>"`` -- the local
  spectra on their two axes, dimensions ``kinetic_energy_per_nucleon`` [GeV/n] and
  ``rigidity`` [GV];
* ``"species/<name>"`` -- the whole-grid flux with dimensions ``<axes>..., momentum`` and
  the cell centres [kpc] of the grid as coordinates;
* ``"grid"`` -- cell centres and edges;
* ``"local"`` -- every species' local LIS and TOA fluxes stacked on a dimension ``species``
  (coordinate of names) and the node index ``node``, with 2-D coordinates
  ``kinetic_energy_per_nucleon(species, node)`` and ``rigidity(species, node)`` (each
  species has its own energy grid where the momentum axis is rigidity).

Units are the ``units`` attribute of every variable (CF), the strings of
:mod:`galprop_py.units`.  The arrays are loaded into memory (``load=False`` keeps them lazy:
then close the Datasets when done).  A file written before its dimensions were labelled is
refused with one line; ``open_result(path, label=True)`` labels it in place first (needs
write access).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np


def _check(path: Path) -> None:
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory, not a result file")
    if not path.is_file():
        raise FileNotFoundError(f"result file {str(path)!r} not found")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{str(path)!r} is not an HDF5 file (galprop-py results are HDF5)")


def result_groups(h5: h5py.File) -> list[str]:
    """The groups :func:`open_result` returns, in file order (sorted names)."""
    groups = ["grid"] if "grid" in h5 else []
    for name in sorted(h5.get("species", {})):
        groups.append(f"species/{name}")
        if f"species/{name}/sun" in h5:
            groups.append(f"species/{name}/sun")
    groups += [f"sun/elements/{s}" for s in sorted(h5.get("sun/elements", {}))]
    groups += [f"sun/ratios/{s}" for s in sorted(h5.get("sun/ratios", {}))]
    return groups


def open_result(path, load: bool = True, label: bool = False) -> dict:
    """The Datasets of a result file by group (module docstring).

    Args:
        path: a galprop-py result file (``<output_dir>/<output.file>``).
        load: read the arrays into memory and close the file (else lazy Datasets).
        label: label an older file's dimensions in place first (it is modified).

    Raises:
        FileNotFoundError, ValueError: no such file, not HDF5, not a galprop-py result.
    """
    import xarray as xr

    path = Path(path)
    _check(path)
    with h5py.File(path, "r") as h5:
        if h5.attrs.get("code") != "galprop-py" or h5.attrs.get("content") != "result":
            what = h5.attrs.get("content")
            raise ValueError(
                f"{str(path)!r} is not a galprop-py result file"
                + (f" (it is a {what})" if what else "")
            )
        labelled = "Conventions" in h5.attrs
        groups = result_groups(h5)
        axes = [a for a in str(h5["grid"].attrs.get("axes", "")).split(",") if a]
    if not labelled:
        if not label:
            raise ValueError(
                f"{str(path)!r} has no named dimensions (written by an older galprop-py): "
                "open_result(path, label=True) labels it in place"
            )
        from .scales import label_h5

        with h5py.File(path, "r+") as h5:
            label_h5(h5)
    out = {}
    for g in groups:
        ds = xr.open_dataset(path, engine="h5netcdf", group=g, phony_dims="sort")
        if load:
            ds = ds.load()
            ds.close()
        out[g] = ds
    grid = out.get("grid")
    for g in groups:
        if g.startswith("species/") and g.count("/") == 1 and grid is not None:
            coords = {a: grid[a] for a in axes if a in out[g].dims}
            out[g] = out[g].assign_coords(coords)
    out["local"] = _stack_local(out)
    return out


def _stack_local(out: dict):
    """Every species' local spectra on one Dataset (dimension ``species``)."""
    import xarray as xr

    names = [g.split("/")[1] for g in out if g.startswith("species/") and g.endswith("/sun")]
    if not names:
        return xr.Dataset()
    suns = [out[f"species/{n}/sun"] for n in names]
    n = {s.sizes["kinetic_energy_per_nucleon"] for s in suns}
    if len(n) != 1:
        return xr.Dataset()  # different grids: use the per-species groups
    data = {}
    for var in ("flux_lis", "flux_toa", "flux_lis_rigidity", "flux_toa_rigidity"):
        arr = np.stack([s[var].values for s in suns])
        data[var] = (("species", "node"), arr, dict(suns[0][var].attrs))
    coords = {"species": ("species", names)}
    for c in ("kinetic_energy_per_nucleon", "rigidity"):
        arr = np.stack([s[c].values for s in suns])
        coords[c] = (("species", "node"), arr, dict(suns[0][c].attrs))
    return xr.Dataset(data, coords=coords)
