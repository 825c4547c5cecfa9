"""Named dimensions for result files: HDF5 dimension scales and CF ``units`` attributes.

A result file (:func:`galprop_py.run.write_result`) holds plain datasets whose axes are
named only in an ``axes`` attribute; netCDF readers (``xarray`` with ``engine="h5netcdf"``)
then see ``phony_dim_N``.  :func:`label_result` turns the axis datasets into HDF5 dimension
scales (the HDF5 Dimension Scale specification, HDF Group 2005, which netCDF-4 uses for its
dimensions) and attaches them to every dataset on those axes:

* ``/grid/<axis>`` (cell centres, kpc) and ``/grid/<axis>_edges``: scales of their own; soft
  links ``/<axis>`` at the root make the spatial dimensions visible to every group (netCDF-4
  dimensions are visible in the group that defines them and its sub-groups);
* ``/species/<name>/flux`` (grid axes x momentum): dimensions ``<axis>...`` and ``momentum``
  (the scale ``/species/<name>/momentum``, GeV/c per particle);
* the local spectra (``species/<name>/sun``, ``sun/elements/<symbol>``, ``sun/ratios/<name>``):
  ``<what>_lis`` / ``<what>_toa`` on the dimension ``kinetic_energy_per_nucleon`` and
  ``<what>_lis_rigidity`` / ``<what>_toa_rigidity`` on ``rigidity`` (each axis is a grid of
  its own: the element sums and ratios are interpolated onto common grids);
* ``/momentum/nodes`` is the scale ``nodes``.

Every dataset with a ``unit`` attribute also gets the CF attribute ``units`` (CF conventions
1.10, section 3.1) with the same text (the unit strings of :mod:`galprop_py.units`), and the
root gets ``Conventions = "CF-1.10"``.

Collective: with parallel h5py every rank calls :func:`label_result` with the same file; all
its operations are metadata (attributes and links) with the same values on every rank, done
in one deterministic order (sorted names), and checked on every rank
(:func:`galprop_py.io.safety.agree`).  Without parallel h5py only rank 0 holds the file.
"""

from __future__ import annotations

import h5py

from .safety import agree

#: the local spectra: (dataset suffix, dimension) for what = "flux" or "ratio"
LOCAL_AXES = (
    ("lis", "kinetic_energy_per_nucleon"),
    ("toa", "kinetic_energy_per_nucleon"),
    ("lis_rigidity", "rigidity"),
    ("toa_rigidity", "rigidity"),
)


def _scale(dset: h5py.Dataset, name: str) -> None:
    if not dset.is_scale:
        dset.make_scale(name)


def _attach(dset: h5py.Dataset, index: int, scale: h5py.Dataset) -> None:
    if not any(s == scale for s in dset.dims[index].values()):
        dset.dims[index].attach_scale(scale)


def _units(h5: h5py.File) -> None:
    """CF ``units`` beside every ``unit`` attribute (visited in a fixed order)."""
    names = []
    h5.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
    for n in sorted(names):
        d = h5[n]
        if "unit" in d.attrs and "units" not in d.attrs:
            unit = d.attrs["unit"]
            d.attrs["units"] = unit.decode() if isinstance(unit, bytes) else str(unit)


def _local(g: h5py.Group, what: str) -> None:
    """One local spectrum group (module docstring)."""
    scales = {}
    for dim in ("kinetic_energy_per_nucleon", "rigidity"):
        if dim in g:
            _scale(g[dim], dim)
            scales[dim] = g[dim]
    for suffix, dim in LOCAL_AXES:
        name = f"{what}_{suffix}"
        if name in g and dim in scales and g[name].shape == scales[dim].shape:
            _attach(g[name], 0, scales[dim])


def _label(h5: h5py.File) -> None:
    axes = []
    if "grid" in h5:
        axes = [a for a in str(h5["grid"].attrs.get("axes", "")).split(",") if a]
        for ax in axes:
            _scale(h5[f"grid/{ax}"], ax)
            if f"grid/{ax}_edges" in h5:
                _scale(h5[f"grid/{ax}_edges"], f"{ax}_edges")
            if ax not in h5:
                h5[ax] = h5py.SoftLink(f"/grid/{ax}")
    if "momentum/nodes" in h5:
        _scale(h5["momentum/nodes"], "nodes")
    for name in sorted(h5.get("species", {})):
        g = h5[f"species/{name}"]
        if "momentum" in g:
            _scale(g["momentum"], "momentum")
        if "flux" in g and len(g["flux"].shape) == len(axes) + 1:
            flux = g["flux"]
            for i, ax in enumerate(axes):
                if h5[f"grid/{ax}"].shape[0] == flux.shape[i]:
                    _attach(flux, i, h5[f"grid/{ax}"])
            if "momentum" in g and g["momentum"].shape[0] == flux.shape[-1]:
                _attach(flux, len(axes), g["momentum"])
        if "sun" in g:
            _local(g["sun"], "flux")
    for sym in sorted(h5.get("sun/elements", {})):
        _local(h5[f"sun/elements/{sym}"], "flux")
    for ratio in sorted(h5.get("sun/ratios", {})):
        _local(h5[f"sun/ratios/{ratio}"], "ratio")
    _units(h5)
    h5.attrs["Conventions"] = "CF-1.10"


def label_h5(h5: h5py.File) -> None:
    """Label an open, writable result file (one process: a file written serially, or a
    result written before labelling existed: ``h5py.File(path, "r+")``)."""
    _label(h5)


def label_result(f) -> None:
    """Label the result file being written (a :class:`galprop_py.io.hdf5.ParallelFile`),
    collectively, before it is closed; an error on any rank is raised on every rank."""
    error = None
    try:
        if f.h5 is not None:
            _label(f.h5)
    except Exception as exc:
        error = OSError(f"cannot label the dimensions of {f.what}: {exc}")
    agree(f.comm, error)
