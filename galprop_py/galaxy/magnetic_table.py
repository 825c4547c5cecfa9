"""A user's magnetic field from an HDF5 table, interpolated trilinearly (model name ``table``).

Registered in :mod:`.magnetic` for the strength (``losses.b_field_model = "table"``) and the
direction (``diffusion.field_model = "table"``) with the parameter ``path``.  Units: kpc,
microgauss; the grid's frame (galactocentric, the Sun on +x, z to the north Galactic pole).

=================  ==============  ==================================================
dataset            shape           content
=================  ==============  ==================================================
``x``, ``y``, ``z``  (n,) each      node coordinates [kpc], increasing, n >= 2
``Bx``, ``By``,    (nx, ny, nz)    the regular field's Cartesian components [muG],
``Bz``                             finite
``B_random``       (nx, ny, nz)    optional: rms strength of the random field [muG],
                                   finite, >= 0 (the ``random`` / ``total`` strengths)
=================  ==============  ==================================================

Each component is interpolated linearly in x, y and z (exact for fields that are trilinear
in the node cells, e.g. B = (y z, x z, x y), which is solenoidal; in general trilinear
interpolation of a solenoidal field leaves div B of order |B| h^2 / L^2 inside cells, h the
node spacing, L the field's scale).  Outside the table the field is zero (``outside =
"zero"``, default) or that of the nearest face.  Every rank reads the file (cached until it
changes); a missing file, dataset or a bad shape is a one-line ValueError naming the file.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from .registry import ModelParameters
from .tables import multilinear

AXES = ("x", "y", "z")
COMPONENTS = ("Bx", "By", "Bz")
RANDOM = "B_random"


@dataclass(frozen=True)
class FieldTable:
    """The datasets of a magnetic-field table (see the module docstring)."""

    path: str
    nodes: tuple[np.ndarray, np.ndarray, np.ndarray]
    components: tuple[np.ndarray, np.ndarray, np.ndarray]
    random: np.ndarray | None


def read_field_table(path: str) -> FieldTable:
    """Read and check the table in ``path``; ValueError in one line naming the file."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError:
        raise ValueError(f"magnetic field table {path!r} is not an HDF5 file") from None
    with f:
        missing = [d for d in AXES + COMPONENTS if d not in f]
        if missing:
            raise ValueError(
                f"magnetic field table {path!r} has no dataset {missing[0]!r} (needs "
                f"{', '.join(AXES + COMPONENTS)}; optional {RANDOM})"
            )
        nodes = []
        for a in AXES:
            n = np.asarray(f[a][()], float)
            if n.ndim != 1 or n.size < 2 or not np.all(np.diff(n) > 0):
                raise ValueError(
                    f"magnetic field table {path!r}: dataset {a!r} must be 1D with at least 2 "
                    f"increasing values [kpc], got shape {n.shape}"
                )
            nodes.append(n)
        shape = tuple(n.size for n in nodes)
        values = {}
        for name in COMPONENTS + ((RANDOM,) if RANDOM in f else ()):
            v = np.asarray(f[name][()], float)
            if v.shape != shape:
                raise ValueError(
                    f"magnetic field table {path!r}: dataset {name!r} has shape {v.shape}, "
                    f"expected (nx, ny, nz) = {shape}"
                )
            if not np.all(np.isfinite(v)) or (name == RANDOM and np.any(v < 0)):
                raise ValueError(
                    f"magnetic field table {path!r}: dataset {name!r} must be finite"
                    + (" and >= 0" if name == RANDOM else "")
                )
            values[name] = v
    comps = tuple(values[c] for c in COMPONENTS)
    return FieldTable(path, tuple(nodes), comps, values.get(RANDOM))


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> FieldTable:
    return read_field_table(path)


def load_field_table(path: str) -> FieldTable:
    """The table in ``path`` (cached until the file changes); ValueError in one line."""
    if not os.path.isfile(path):
        raise ValueError(f"magnetic field table {path!r} not found (relative to {os.getcwd()!r})")
    return _load(os.path.abspath(path), os.path.getmtime(path))


class TableFieldParameters(ModelParameters):
    path: str = Field(description="HDF5 file with x, y, z, Bx, By, Bz (optional B_random)")
    outside: Literal["zero", "nearest"] = Field(
        "zero", description="beyond the table: zero field, or that of the nearest face"
    )
    component: Literal["regular", "random", "total"] = Field(
        "regular",
        description="strength model: |B| of Bx, By, Bz; B_random; sqrt(|B|^2 + B_random^2)",
    )

    @field_validator("path")
    @classmethod
    def _readable(cls, path: str) -> str:
        load_field_table(path)
        return path

    @model_validator(mode="after")
    def _has_random(self):
        if self.component != "regular" and load_field_table(self.path).random is None:
            raise ValueError(
                f"component {self.component!r} needs the dataset {RANDOM!r}, which "
                f"{self.path!r} does not have"
            )
        return self


def _points(x, y, z):
    return np.broadcast_arrays(*(np.asarray(c, float) for c in (x, y, z)))


def field(x, y, z, p: TableFieldParameters):
    """(B_x, B_y, B_z) [muG] interpolated at grid Cartesian (x, y, z) [kpc]."""
    t = load_field_table(p.path)
    pts = _points(x, y, z)
    return tuple(multilinear(t.nodes, v, pts, p.outside) for v in t.components)


def random_strength(x, y, z, p: TableFieldParameters) -> np.ndarray:
    """B_random [muG] interpolated at (x, y, z); ValueError if the table has none."""
    t = load_field_table(p.path)
    if t.random is None:
        raise ValueError(f"magnetic field table {p.path!r} has no dataset {RANDOM!r}")
    return multilinear(t.nodes, t.random, _points(x, y, z), p.outside)


def strength(x, y, z, p: TableFieldParameters, name: str = "table") -> np.ndarray:
    """|B| [muG] of ``p.component`` at (x, y, z); x, y None (not a 3D grid) is an error."""
    if x is None or y is None:
        raise ValueError(f"losses.b_field_model = {name!r}: a 3D table needs a cartesian3d grid")
    if p.component == "random":
        return random_strength(x, y, z, p)
    bx, by, bz = field(x, y, z, p)
    b2 = bx * bx + by * by + bz * bz
    if p.component == "total":
        b2 = b2 + random_strength(x, y, z, p) ** 2
    return np.sqrt(b2)


def direction(coords, geometry, p: TableFieldParameters, name: str = "table"):
    """B/|B| on a cartesian3d grid; where B = 0 the azimuthal phi_hat (x_hat on the axis):
    the diffusion tensor needs b b^T only, so the sign there does not matter."""
    if geometry != "cartesian3d":
        raise ValueError(
            f"config key diffusion.field_model = {name!r}: a 3D table needs a cartesian3d "
            f"grid, not {geometry}"
        )
    bx, by, bz = field(coords[0], coords[1], coords[2], p)
    norm = np.sqrt(bx * bx + by * by + bz * bz)
    zero = norm <= 0.0
    x, y, _ = _points(coords[0], coords[1], coords[2])
    r = np.hypot(x, y)
    on_axis = r <= 0.0
    safe_r = np.where(on_axis, 1.0, r)
    ex = np.where(on_axis, 1.0, -y / safe_r)
    ey = np.where(on_axis, 0.0, x / safe_r)
    safe = np.where(zero, 1.0, norm)
    return (
        np.where(zero, ex, bx / safe),
        np.where(zero, ey, by / safe),
        np.where(zero, 0, bz / safe),
    )
