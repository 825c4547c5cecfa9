"""Spatial and momentum grids (global, rank-independent descriptions).

Spatial grids are cell-centred finite-volume grids.  Four geometries are supported:

=================  =========  ============================  ==============================
geometry           axes       cell "width" factor w(i)      face metric g(face)
=================  =========  ============================  ==============================
``slab1d``         z          dz                            1
``spherical1d``    r          (r+^3 - r-^3) / 3             r_face^2
``cylindrical2d``  r, z       (r+^2 - r-^2) / 2 , dz        r_face , 1
``cartesian3d``    x, y, z    dx, dy, dz                    1, 1, 1
=================  =========  ============================  ==============================

The cell volume is the product of the per-axis widths and the area of a face normal to axis
``a`` is g_a(face) times the widths of the other axes, so a flux divergence along ``a`` is
``g_a(face) / w_a(i) * flux``: every geometry factor is one-dimensional.  At ``r = 0`` the
face metric vanishes, which is the regularity condition on the axis (no boundary needed).

The momentum grid is log-spaced in the user's axis (kinetic energy per nucleon or rigidity);
the unknown of cell k is the density per unit momentum per nucleon averaged over the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .physics import kinematics
from .physics.species import Species

GEOMETRIES = {
    "slab1d": ("z",),
    "spherical1d": ("r",),
    "cylindrical2d": ("r", "z"),
    "cartesian3d": ("x", "y", "z"),
}

#: boundary kinds at a domain face
FREE_ESCAPE = "free_escape"  # f = 0 on the face (Dirichlet)
CLOSED = "closed"  # zero flux
AXIS = "axis"  # r = 0: zero face area, regular solution


@dataclass
class Axis:
    """One spatial axis: cell edges, centres and the boundary kind at each end."""

    name: str
    edges: np.ndarray
    lower: str = FREE_ESCAPE
    upper: str = FREE_ESCAPE
    radial_power: int = 0  # 0 Cartesian, 1 cylindrical r, 2 spherical r
    #: the cells' nodes if not their midpoints (coarse multigrid grids, whose boundary cells
    #: keep the fine grid's node: :func:`galprop_py.solvers.multigrid.coarsened_grid`)
    nodes: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.edges = np.asarray(self.edges, dtype=float)
        if self.edges.ndim != 1 or self.edges.size < 3 or np.any(np.diff(self.edges) <= 0):
            raise ValueError(f"axis {self.name}: edges must increase, with at least 2 cells")
        if self.radial_power and self.edges[0] < 0:
            raise ValueError(f"axis {self.name}: radius cannot be negative")
        if self.nodes is not None:
            self.nodes = np.asarray(self.nodes, dtype=float)
            ok = self.nodes.shape == (self.n,) and np.all(
                (self.edges[:-1] < self.nodes) & (self.nodes < self.edges[1:])
            )
            if not ok:
                raise ValueError(f"axis {self.name}: one node strictly inside every cell needed")

    @property
    def n(self) -> int:
        return self.edges.size - 1

    @property
    def centers(self) -> np.ndarray:
        """Cell nodes: the midpoints of the edges unless ``nodes`` are given."""
        if self.nodes is not None:
            return self.nodes
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def widths(self) -> np.ndarray:
        """Per-axis volume factor w(i) (see module docstring)."""
        lo, hi = self.edges[:-1], self.edges[1:]
        k = self.radial_power + 1
        return (hi**k - lo**k) / k

    def face_metric(self, x_face: np.ndarray) -> np.ndarray:
        """g(face): r_face^power (1 for Cartesian axes)."""
        return np.asarray(x_face, dtype=float) ** self.radial_power


@dataclass
class SpatialGrid:
    geometry: str
    axes: list[Axis]

    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Cells per axis, in axis order (r, z) / (x, y, z)."""
        return tuple(a.n for a in self.axes)

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def cell_volumes(self) -> np.ndarray:
        """Global cell volumes (without the 2 pi or 4 pi of curvilinear geometries)."""
        vols = self.axes[0].widths
        for ax in self.axes[1:]:
            vols = np.multiply.outer(vols, ax.widths)
        return vols


def uniform_axis(name, lo, hi, n, lower=FREE_ESCAPE, upper=FREE_ESCAPE, radial_power=0):
    return Axis(name, np.linspace(lo, hi, n + 1), lower, upper, radial_power)


def refined_edges(lo: float, hi: float, n: int, refinement: float) -> np.ndarray:
    """Cell edges on [lo, hi], symmetric about the middle, finest there: a sinh map whose
    outermost cells are ``refinement`` times wider than the central one (1 = uniform)."""
    xi = np.linspace(-1.0, 1.0, n + 1)
    if refinement <= 1.0:
        u = xi
    else:
        a = np.arccosh(refinement)
        u = np.sinh(a * xi) / np.sinh(a)
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    edges = mid + half * u
    edges[0], edges[-1] = lo, hi
    return edges


def make_spatial_grid(
    geometry: str,
    extents: dict,
    cells: dict,
    boundaries: dict | None = None,
    refinement: dict | None = None,
):
    """Build a grid from extents {axis: (lo, hi)} [kpc] and cell counts {axis: n}.

    ``boundaries`` maps ``"<axis>_min"``/``"<axis>_max"`` to ``"free_escape"`` or ``"closed"``.
    A radial axis starting at 0 gets the regular axis condition automatically.
    ``refinement`` maps an axis to the width ratio of its outermost and central cells
    (:func:`refined_edges`), e.g. ``{"z": 4.0}`` for cells four times finer at the disc.
    """
    if geometry not in GEOMETRIES:
        raise ValueError(f"grid.geometry = {geometry!r}: allowed {sorted(GEOMETRIES)}")
    boundaries = boundaries or {}
    axes = []
    for name in GEOMETRIES[geometry]:
        lo, hi = extents[name]
        power = 0
        if name == "r":
            power = 1 if geometry == "cylindrical2d" else 2
        lower = boundaries.get(f"{name}_min", FREE_ESCAPE)
        upper = boundaries.get(f"{name}_max", FREE_ESCAPE)
        if power and lo == 0.0:
            lower = AXIS
        ratio = (refinement or {}).get(name, 1.0)
        if ratio > 1.0:
            edges = refined_edges(lo, hi, cells[name], ratio)
            axes.append(Axis(name, edges, lower, upper, power))
        else:
            axes.append(uniform_axis(name, lo, hi, cells[name], lower, upper, power))
    return SpatialGrid(geometry, axes)


@dataclass
class MomentumGrid:
    """Log-spaced grid in kinetic energy per nucleon (or rigidity) shared by all species.

    ``nodes`` are the user's axis values (cell centres); ``edges`` are geometric midpoints,
    extended by half a log-step at both ends.
    """

    axis: str  # "kinetic_energy_per_nucleon" [GeV/n] or "rigidity" [GV]
    nodes: np.ndarray
    edges: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = np.asarray(self.nodes, dtype=float)
        ln = np.log(self.nodes)
        mid = 0.5 * (ln[1:] + ln[:-1])
        e = np.concatenate([[ln[0] - (mid[0] - ln[0])], mid, [ln[-1] + (ln[-1] - mid[-1])]])
        self.edges = np.exp(e)

    @classmethod
    def log_spaced(cls, axis: str, vmin: float, vmax: float, n: int) -> MomentumGrid:
        if axis not in ("kinetic_energy_per_nucleon", "rigidity"):
            raise ValueError(
                f"momentum.axis = {axis!r}: allowed 'kinetic_energy_per_nucleon', 'rigidity'"
            )
        return cls(axis, np.geomspace(vmin, vmax, n))

    @property
    def n(self) -> int:
        return self.nodes.size

    def _to_momentum(self, values: np.ndarray, species: Species) -> np.ndarray:
        """Momentum per particle [GeV/c]."""
        if self.axis == "rigidity":
            return kinematics.momentum_from_rigidity(values, species.charge)
        return kinematics.momentum_from_kinetic(values * species.mass_number, species.mass)

    def momentum(self, species: Species) -> np.ndarray:
        """Cell-centre momenta per particle [GeV/c]."""
        return self._to_momentum(self.nodes, species)

    def momentum_edges(self, species: Species) -> np.ndarray:
        return self._to_momentum(self.edges, species)

    def kinetic_per_nucleon(self, species: Species) -> np.ndarray:
        """Cell-centre kinetic energies per nucleon [GeV/n]."""
        return kinematics.kinetic_energy(self.momentum(species), species.mass) / species.mass_number
