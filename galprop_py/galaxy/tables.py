"""User tables of a source density or a gas density, read from HDF5 or text and interpolated.

Layouts (lengths in kpc; values in the unit of the ingredient: relative for sources, cm^-3
for gas):

* HDF5, (r, z) grid: 1D datasets ``r`` (n_r) and ``z`` (n_z) and the values ``dataset``
  (n_r, n_z);
* HDF5, 3D grid: ``x``, ``y``, ``z`` and ``dataset`` (n_x, n_y, n_z), for Cartesian grids;
* HDF5, radial: ``r`` and ``dataset`` (n_r), times ``exp(-|z| / z_scale_kpc)``;
* text (``#`` comments): three columns ``r z value``, one row per node of a rectangular (r, z)
  grid in any order, or two columns ``r value`` (radial, times ``exp(-|z| / z_scale_kpc)``).

Axes must increase.  Values are interpolated linearly in each coordinate; outside the table they
are 0 (``outside = "zero"``) or those of the nearest edge (``"nearest"``).  A relative path is
relative to the working directory.  Every rank reads the file (it is small) once per run.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from .registry import ModelParameters


class TableParameters(ModelParameters):
    file: str = Field(description="HDF5 (.h5, .hdf5) or text file")
    dataset: str = Field("density", description="HDF5 dataset of the values")
    z_scale_kpc: float | None = Field(
        None, gt=0, le=100, description="scale height of a radial (r-only) table"
    )
    outside: Literal["zero", "nearest"] = "zero"

    @field_validator("file")
    @classmethod
    def _exists(cls, path: str) -> str:
        if not os.path.isfile(path):
            raise ValueError(f"file {path!r} not found (relative to {os.getcwd()!r})")
        return path


@dataclass(frozen=True)
class Table:
    """Values on a rectangular grid: ``axes`` names ("r", "z", "x", "y"), their nodes."""

    axes: tuple[str, ...]
    nodes: tuple[np.ndarray, ...]
    values: np.ndarray

    def __post_init__(self):
        if self.values.shape != tuple(n.size for n in self.nodes):
            raise ValueError(
                f"table values have shape {self.values.shape}, axes {self.axes} have "
                f"{tuple(n.size for n in self.nodes)} nodes"
            )
        for name, n in zip(self.axes, self.nodes, strict=True):
            if n.size < 2 or np.any(np.diff(n) <= 0):
                raise ValueError(f"table axis {name!r} needs at least 2 increasing nodes")

    def __call__(self, points: dict[str, np.ndarray], outside: str = "zero") -> np.ndarray:
        arrays = np.broadcast_arrays(*(np.asarray(points[a], float) for a in self.axes))
        return multilinear(self.nodes, self.values, arrays, outside)


def multilinear(nodes, values, points, outside="zero"):
    """Linear interpolation on a rectangular grid (any dimension), vectorised."""
    shape = points[0].shape
    flat = [np.ravel(p) for p in points]
    inside = np.ones(flat[0].shape, bool)
    idx, frac = [], []
    for n, p in zip(nodes, flat, strict=True):
        inside &= (p >= n[0]) & (p <= n[-1])
        q = np.clip(p, n[0], n[-1])
        i = np.clip(np.searchsorted(n, q, side="right") - 1, 0, n.size - 2)
        idx.append(i)
        frac.append((q - n[i]) / (n[i + 1] - n[i]))
    out = np.zeros(flat[0].shape)
    for corner in range(2 ** len(nodes)):
        weight = np.ones(flat[0].shape)
        index = []
        for d in range(len(nodes)):
            up = (corner >> d) & 1
            weight = weight * (frac[d] if up else 1.0 - frac[d])
            index.append(idx[d] + up)
        out += weight * values[tuple(index)]
    if outside == "zero":
        out = np.where(inside, out, 0.0)
    return out.reshape(shape)


def _read_hdf5(path: str, dataset: str) -> Table:
    import h5py

    with h5py.File(path, "r") as f:
        if dataset not in f:
            raise ValueError(f"table {path!r} has no dataset {dataset!r}")
        values = np.asarray(f[dataset][()], float)
        names = ("x", "y", "z") if values.ndim == 3 else ("r", "z") if values.ndim == 2 else ("r",)
        missing = [a for a in names if a not in f]
        if missing:
            raise ValueError(
                f"table {path!r}: a {values.ndim}D dataset {dataset!r} needs the axis "
                f"datasets {list(names)}; missing {missing}"
            )
        nodes = tuple(np.asarray(f[a][()], float).ravel() for a in names)
    return Table(names, nodes, values)


def _read_text(path: str) -> Table:
    data = np.atleast_2d(np.loadtxt(path, comments="#", dtype=float))
    if data.shape[1] == 2:
        order = np.argsort(data[:, 0])
        return Table(("r",), (data[order, 0],), data[order, 1])
    if data.shape[1] != 3:
        raise ValueError(f"text table {path!r}: need 2 (r value) or 3 (r z value) columns")
    r, ir = np.unique(data[:, 0], return_inverse=True)
    z, iz = np.unique(data[:, 1], return_inverse=True)
    if data.shape[0] != r.size * z.size:
        raise ValueError(
            f"text table {path!r}: {data.shape[0]} rows do not fill a {r.size} x {z.size} "
            "(r, z) grid"
        )
    values = np.full((r.size, z.size), np.nan)
    values[ir, iz] = data[:, 2]
    if np.isnan(values).any():
        raise ValueError(f"text table {path!r}: some (r, z) nodes appear twice, others never")
    return Table(("r", "z"), (r, z), values)


@functools.lru_cache(maxsize=16)
def _load(path: str, dataset: str, mtime: float) -> Table:
    if path.lower().endswith((".h5", ".hdf5", ".he5")):
        return _read_hdf5(path, dataset)
    return _read_text(path)


def load_table(path: str, dataset: str = "density") -> Table:
    """The table in ``path`` (cached until the file changes)."""
    return _load(os.path.abspath(path), dataset, os.path.getmtime(path))


def evaluate_table(r, z, p: TableParameters, x=None, y=None) -> np.ndarray:
    """Interpolate the table of ``p`` at galactocentric (r, z), or (x, y, z) for a 3D table."""
    table = load_table(p.file, p.dataset)
    if table.axes == ("x", "y", "z"):
        if x is None or y is None:
            raise ValueError(f"table {p.file!r} is 3D (x, y, z): it needs a cartesian3d grid")
        return table({"x": x, "y": y, "z": z}, p.outside)
    if table.axes == ("r",):
        if p.z_scale_kpc is None:
            raise ValueError(f"table {p.file!r} is radial (r only): set its parameter z_scale_kpc")
        radial = table({"r": r}, p.outside)
        return radial * np.exp(-np.abs(np.asarray(z, float)) / p.z_scale_kpc)
    return table({"r": r, "z": z}, p.outside)
