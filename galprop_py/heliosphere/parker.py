"""Spherically symmetric solar modulation: the steady Parker equation from 1 AU to the
heliopause, solved on the package's finite-volume grid with its operators and PETSc solver.

Equation (Parker 1965, Planet. Space Sci. 13, 9), for the isotropic distribution f(r, p)
in a radial solar wind of constant speed V::

    (1/r^2) d/dr (r^2 kappa df/dr) - V df/dr + (2V / 3r) p df/dp = 0,

kappa(r, R) = kappa_0 beta (R / 1 GV)^a (r / 1 AU)^b.  In the package's unknown
psi = 4 pi p^2 f (density per unit momentum) this is div(kappa grad psi) - div(V psi)
+ d/dp [(p/3)(div V) psi] = 0, i.e. exactly the galactic transport problem in
``spherical1d`` geometry with a wind: :class:`~galprop_py.operators.SpatialDiffusion`
(scalar), :class:`~galprop_py.operators.WindAdvection` (hybrid centred/upwind) and
:class:`~galprop_py.operators.AdiabaticEnergyChange` (quadratic upwind in ln p) are used
unchanged on a grid of geometrically growing cells (finest at 1 AU).  Lengths are in AU and
times in seconds inside this module (the operators are unit-free); the momentum axis is a
log-spaced rigidity axis (:class:`~galprop_py.grid.MomentumGrid`).

Boundaries (:class:`HeliosphereBoundaries`):

* heliopause r_hp (outer): Dirichlet, psi = psi_LIS on the face.  The diffusive flux uses
  the half-cell difference to the face value; the advective outflow V psi uses the face
  value where the half-cell Peclet number V h / kappa is at most 1 and the cell value
  (upwind) where the boundary layer of width kappa / V is not resolved, which keeps the
  scheme positive.
* inner face r_in (1 AU by default), a closed face in the sense of particle number; the
  wind still crosses it (div V counts it, so adiabatic cooling is right in the first cell).
  "Free" (psi = 0) is excluded: the observer sits there and nothing absorbs cosmic rays at
  1 AU.  Two conditions, ``inner_boundary``:

  ``"zero_streaming"`` (default)
      the differential streaming S = 4 pi p^2 (C V f - kappa df/dr) vanishes, C = -(1/3)
      d ln f / d ln p the Compton-Getting factor.  In psi the radial flux through the face
      is then J_r = V psi - kappa dpsi/dr = (V/3) d(p psi)/dp, whose momentum integral
      (V/3)[p psi] is zero: no particles are created or absorbed inside r_in, the cooling
      there only shifts them in momentum.  Discretised with p psi on the momentum edges
      (mean of the two cells), so the sum over the grid telescopes exactly.  This is the
      condition of the force-field solution (S = 0 everywhere, Gleeson & Axford 1968).
  ``"reflecting"``
      J_r = 0 at every momentum.  Then S(r_in) = (C - 1) V f != 0, and r^2 S carries it
      outwards: for kappa ~ r (b = 1) the force-field potential comes out lower by
      (1/2) (1 - 1/C) / ln(r_hp / r_in) (3.7% for f ~ p^-4.7 and 1 to 120 AU; measured in
      the tests), a dependence on where the grid starts that "zero_streaming" avoids.

  At r_in = observer the spectrum is the quadratic extrapolation of the first three cell
  values to the face (interpolation through three centres otherwise).
* momentum: outflow at low rigidity (cooled particles leave), nothing enters at the top;
  the grid is extended above the highest rigidity asked for (``extension``) so that this
  missing inflow does not reach the requested range.

Force-field limit (Gleeson & Axford 1968, ApJ 154, 1011): for kappa = beta R kappa_1(r)
(a = 1) and V r / kappa << 1 the solution approaches the force field with
phi = int_{r_in}^{r_hp} V / (3 kappa_1) dr (:func:`force_field_potential`).

Limits (documented, not modelled): no gradient and curvature drifts, so no charge-sign or
solar-polarity dependence (those need 2D/3D models, e.g. Jokipii, Levy & Hubbard 1977, ApJ
213, 861); no latitude dependence, no termination shock or heliosheath; V constant; steady
state (no solar-cycle time dependence); no energy losses other than adiabatic.

Units: r in AU, V in km/s, kappa_0 in cm^2/s (at R = 1 GV, r = 1 AU, divided by beta),
rigidity in GV, intensities in any flux unit per GeV/n (the problem is linear).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import astuple, dataclass

import numpy as np
from petsc4py import PETSc

from .. import units
from ..decomposition import Decomposition
from ..grid import FREE_ESCAPE, Axis, MomentumGrid, SpatialGrid
from ..operators import AdiabaticEnergyChange, SpatialDiffusion, WindAdvection
from ..operators.base import (
    FRAME_AXES,
    DiffusionTensor,
    Operator,
    SpeciesCoefficients,
    face_coordinates,
)
from ..physics import kinematics
from ..physics.species import Species
from ..solvers.petsc import LinearSolver
from ..solvers.steady import scaled_solve
from ..transport import SpeciesTransport

#: reference radius of kappa's radial law [AU]
R0_AU = 1.0
#: PETSc options prefix of the heliosphere's linear solver (``-helio_ksp_type ...``)
PREFIX = "helio_"
#: residual reduction of the (momentum-scaled) heliosphere solve: tight, the system is small
RTOL = 1e-11
#: conditions at the inner face (module docstring)
INNER_BOUNDARIES = ("zero_streaming", "reflecting")


@dataclass(frozen=True)
class ParkerParameters:
    """The spherical Parker model.

    Attributes:
        r_hp_au: heliopause radius (outer Dirichlet boundary) [AU].
        v_sw_km_s: radial solar-wind speed [km/s].
        kappa0_cm2_s: kappa_0 [cm^2/s]: kappa(r, R) = kappa_0 beta (R/GV)^a (r/AU)^b.
        a, b: rigidity and radial exponents of kappa.
        n_r: radial cells (geometrically growing from r_inner_au to r_hp_au).
        n_rigidity: rigidity points (log-spaced) of the heliosphere's own momentum grid.
        r_inner_au: inner (reflecting) face [AU].
        observer_au: where the spectrum is read [AU], r_inner_au <= observer_au < r_hp_au.
        extension: the grid's top rigidity is this factor above the highest one asked for.
        inner_boundary: ``"zero_streaming"`` (default) or ``"reflecting"`` (module docstring).
    """

    r_hp_au: float = 120.0
    v_sw_km_s: float = 400.0
    kappa0_cm2_s: float = 1.6e21
    a: float = 1.0
    b: float = 1.0
    n_r: int = 64
    n_rigidity: int = 96
    r_inner_au: float = 1.0
    observer_au: float = 1.0
    extension: float = 10.0
    inner_boundary: str = "zero_streaming"

    def __post_init__(self) -> None:
        checks = (
            ("r_inner_au", self.r_inner_au > 0.0, "> 0"),
            ("r_hp_au", self.r_hp_au > self.r_inner_au, f"> r_inner_au = {self.r_inner_au}"),
            (
                "observer_au",
                self.r_inner_au <= self.observer_au < self.r_hp_au,
                f"in [r_inner_au, r_hp_au) = [{self.r_inner_au}, {self.r_hp_au})",
            ),
            ("v_sw_km_s", self.v_sw_km_s >= 0.0, ">= 0"),
            ("kappa0_cm2_s", self.kappa0_cm2_s > 0.0, "> 0"),
            ("n_r", self.n_r >= 4, ">= 4"),
            ("n_rigidity", self.n_rigidity >= 4, ">= 4"),
            ("extension", self.extension >= 1.0, ">= 1"),
            (
                "inner_boundary",
                self.inner_boundary in INNER_BOUNDARIES,
                " or ".join(repr(x) for x in INNER_BOUNDARIES),
            ),
        )
        for key, ok, allowed in checks:
            if not ok:
                raise ValueError(
                    f"modulation.spherical_parker.{key} = {getattr(self, key)!r}: must be {allowed}"
                )

    @property
    def v_au_s(self) -> float:
        """Wind speed [AU/s]."""
        return self.v_sw_km_s * units.KM_CM / units.AU_CM

    @property
    def kappa0_au2_s(self) -> float:
        """kappa_0 [AU^2/s]."""
        return self.kappa0_cm2_s / units.AU_CM**2


def force_field_potential(params: ParkerParameters) -> float:
    """phi = int_{r_obs}^{r_hp} V / (3 kappa_1(r)) dr [GV] of the force-field limit
    (Gleeson & Axford 1968) for kappa = beta R kappa_1(r), kappa_1 = kappa_0 (r/AU)^b / GV:
    needs a = 1."""
    if params.a != 1.0:
        raise ValueError(
            f"modulation.spherical_parker.a = {params.a!r}: the force-field potential needs "
            "kappa proportional to beta R (a = 1)"
        )
    x0, x1, b = params.observer_au / R0_AU, params.r_hp_au / R0_AU, params.b
    radial = np.log(x1 / x0) if b == 1.0 else (x1 ** (1 - b) - x0 ** (1 - b)) / (1 - b)
    v_cm_s = params.v_sw_km_s * units.KM_CM
    return float(v_cm_s * R0_AU * units.AU_CM * radial / (3.0 * params.kappa0_cm2_s))


def radial_edges(params: ParkerParameters) -> np.ndarray:
    """Cell edges [AU]: geometric from r_inner_au to r_hp_au (constant d ln r)."""
    return np.geomspace(params.r_inner_au, params.r_hp_au, params.n_r + 1)


class HeliosphereBoundaries(Operator):
    """Turns the package's free-escape faces of the radial axis into the heliosphere's
    boundaries (module docstring): removes the zero-value diffusion term of the inner face
    (reflecting), adds the zero-streaming flux there if asked, and, at the heliopause, moves
    the advective outflow to the known face value where the half-cell Peclet number is at
    most 1.  :meth:`source` is the matching right-hand side for a given psi_LIS."""

    name = "heliosphere_boundaries"

    def __init__(self, inner: str = "zero_streaming"):
        if inner not in INNER_BOUNDARIES:
            raise ValueError(
                f"modulation.spherical_parker.inner_boundary = {inner!r}: allowed "
                + ", ".join(repr(x) for x in INNER_BOUNDARIES)
            )
        self.inner = inner

    def is_active(self, coeffs) -> bool:
        return True

    def _face(self, coeffs, decomp, side):
        coords, info = face_coordinates(decomp, 0, side)
        open_ = info["boundary_open"][..., None]
        kaa = coeffs.diffusion.component(0, 0, coords, FRAME_AXES[decomp.grid.geometry])
        geo, h = info["geo"][..., None], info["h"][..., None]
        u = np.asarray(coeffs.wind(0, coords), float)[..., None] if coeffs.wind else 0.0
        u = np.broadcast_to(u, kaa.shape)
        face_value = u * h <= kaa
        return open_, geo * kaa / h, geo * u, face_value

    def assemble(self, system, coeffs, decomp) -> None:
        open_in, t_in, adv_in, _ = self._face(coeffs, decomp, -1)
        system.diag -= np.broadcast_to(t_in * open_in, system.shape)
        if self.inner == "zero_streaming" and np.any(open_in):
            _zero_streaming(system, coeffs, adv_in * open_in)
        open_out, _, adv, face_value = self._face(coeffs, decomp, +1)
        system.diag -= np.broadcast_to(adv * (open_out & face_value), system.shape)

    def source(self, coeffs, decomp, psi_lis: np.ndarray) -> np.ndarray:
        """Right-hand side of the owned rows for psi = psi_LIS(p) on the heliopause face."""
        open_out, t, adv, face_value = self._face(coeffs, decomp, +1)
        coeff = (t - adv * face_value) * open_out
        return np.broadcast_to(coeff * psi_lis, decomp.box.c_shape + (decomp.dof,)).copy()


def _zero_streaming(system, coeffs, geo_v) -> None:
    """Outward (-r) flux -(V/3) d(p psi)/dp through the inner face of the cells where
    ``geo_v`` = g(face) V / w(cell) is non-zero: G_e = p_e psi_e on the momentum edges
    (mean of the two cells inside, the end cell's value at the two ends), and row k gets
    -(1/3) geo_v (G_{k+1/2} - G_{k-1/2}) / dp_k."""
    pe, dp = coeffs.p_edges, coeffs.dp
    n = coeffs.p.size
    c = -geo_v / 3.0  # shape (cells, n_p), zero away from the face
    for k in range(n):
        hi = pe[k + 1] / dp[k]
        lo = pe[k] / dp[k]
        # G_{k+1/2}: mean of cells k, k+1 (cell k alone at the top end)
        if k + 1 < n:
            system.diag[..., k] += c[..., k] * hi * 0.5
            system.p_band[1][..., k] += c[..., k] * hi * 0.5
        else:
            system.diag[..., k] += c[..., k] * hi
        # - G_{k-1/2}: mean of cells k-1, k (cell k alone at the bottom end)
        if k > 0:
            system.diag[..., k] -= c[..., k] * lo * 0.5
            system.p_band[-1][..., k] -= c[..., k] * lo * 0.5
        else:
            system.diag[..., k] -= c[..., k] * lo


@dataclass
class ParkerSolution:
    """Steady solution: ``r`` cell centres [AU], ``rigidity`` [GV], ``psi`` (n_r, n_R) in
    the units of the LIS given, ``observer`` psi at ``params.observer_au`` (n_R)."""

    params: ParkerParameters
    r: np.ndarray
    rigidity: np.ndarray
    psi: np.ndarray
    observer: np.ndarray
    psi_lis: np.ndarray
    iterations: int

    @property
    def modulation_factor(self) -> np.ndarray:
        """J_observer / J_LIS at each rigidity (equal rigidity = equal momentum)."""
        return self.observer / self.psi_lis


def _lagrange(x, xs, ys):
    """Quadratic Lagrange value at x through (xs[i], ys[i]) i = 0..2 (ys rows)."""
    x0, x1, x2 = xs
    w0 = (x - x1) * (x - x2) / ((x0 - x1) * (x0 - x2))
    w1 = (x - x0) * (x - x2) / ((x1 - x0) * (x1 - x2))
    w2 = (x - x0) * (x - x1) / ((x2 - x0) * (x2 - x1))
    return w0 * ys[0] + w1 * ys[1] + w2 * ys[2]


class ParkerModel:
    """The discretised heliosphere for one species on a rigidity grid; the matrix and the
    KSP are built once, :meth:`solve` takes any LIS.

    Args:
        params: :class:`ParkerParameters` (its ``n_rigidity`` is ignored: ``rigidity`` is
            the grid).
        species: the particle (|Z|, A, mass; the sign of Z plays no part: no drifts).
        rigidity: log-spaced rigidity nodes [GV] (at least 4, increasing).
        comm: PETSc communicator (default ``COMM_SELF``: every rank solves the small problem
            alone, so callers on any subset of ranks get the same answer without a
            collective call).
    """

    def __init__(self, params: ParkerParameters, species: Species, rigidity, comm=None):
        self.params = params
        self.species = species
        self.momentum_grid = MomentumGrid("rigidity", np.asarray(rigidity, dtype=float))
        if self.momentum_grid.n < 4 or np.any(np.diff(self.momentum_grid.nodes) <= 0):
            raise ValueError("heliosphere rigidity grid: at least 4 increasing nodes")
        self.comm = comm if comm is not None else PETSc.COMM_SELF
        axis = Axis("r", radial_edges(params), FREE_ESCAPE, FREE_ESCAPE, radial_power=2)
        self.grid = SpatialGrid("spherical1d", [axis])
        self.decomp = Decomposition(self.grid, self.momentum_grid.n, self.comm)
        self.coeffs = self._coefficients()
        self.boundaries = HeliosphereBoundaries(params.inner_boundary)
        ops = [
            SpatialDiffusion("centred"),
            WindAdvection("hybrid"),
            AdiabaticEnergyChange("outflow", "quadratic"),
            self.boundaries,
        ]
        self.transport = SpeciesTransport(self.decomp, self.coeffs, ops)
        self.solver = LinearSolver(
            self.comm, PREFIX, {"ksp_rtol": RTOL, "ksp_norm_type": "unpreconditioned"}
        )

    @property
    def rigidity(self) -> np.ndarray:
        return self.momentum_grid.nodes

    def kappa(self, r_au, rigidity) -> np.ndarray:
        """kappa(r, R) [cm^2/s] (for plots and checks)."""
        p = kinematics.momentum_from_rigidity(rigidity, self.species.charge)
        beta = kinematics.beta(p, self.species.mass)
        prm = self.params
        return (
            prm.kappa0_cm2_s
            * beta
            * np.asarray(rigidity) ** prm.a
            * (np.asarray(r_au) / R0_AU) ** prm.b
        )

    def _coefficients(self) -> SpeciesCoefficients:
        sp, prm = self.species, self.params
        p = self.momentum_grid.momentum(sp)
        p_edges = self.momentum_grid.momentum_edges(sp)
        rig = kinematics.rigidity(p, sp.charge)
        kappa_p = prm.kappa0_au2_s * kinematics.beta(p, sp.mass) * rig**prm.a
        b = prm.b
        tensor = DiffusionTensor(
            kappa_par=kappa_p, spatial_factor=lambda c: (np.asarray(c[0], float) / R0_AU) ** b
        )
        v = prm.v_au_s

        def wind(axis, coords):
            return np.full(np.shape(coords[0]), v)

        return SpeciesCoefficients(sp, p, p_edges, diffusion=tensor, wind=wind if v > 0.0 else None)

    def solve(self, psi_lis) -> ParkerSolution:
        """Steady psi(r, R) for psi = ``psi_lis`` (on :attr:`rigidity`) at the heliopause."""
        dec = self.decomp
        psi_lis = np.asarray(psi_lis, dtype=float)
        if psi_lis.shape != (dec.dof,) or not np.all(np.isfinite(psi_lis)):
            raise ValueError(f"psi_lis must be {dec.dof} finite values on the rigidity grid")
        rhs = self.boundaries.source(self.coeffs, dec, psi_lis)
        x = dec.create_vec()
        x.set(0.0)
        info = scaled_solve(
            dec,
            self.solver,
            self.transport.matrix(),
            self.transport.system().diag,
            rhs,
            x,
            what=f"heliospheric modulation of {self.species.name}",
        )
        psi = dec.gather_to_all(dec.local_array(x).copy())
        x.destroy()
        r = self.grid.axes[0].centers
        obs = self.params.observer_au
        i = int(np.clip(np.searchsorted(r, obs) - 1, 0, r.size - 3))
        observer = _lagrange(obs, r[i : i + 3], psi[i : i + 3])
        return ParkerSolution(
            self.params, r, self.rigidity, psi, observer, psi_lis, info.iterations
        )

    def destroy(self) -> None:
        self.transport.destroy()
        self.solver.destroy()
        self.decomp.da.destroy()


def rigidity_grid(params: ParkerParameters, r_min: float, r_max: float) -> np.ndarray:
    """The heliosphere's rigidity nodes [GV]: ``n_rigidity`` log-spaced from ``r_min`` to
    ``extension * r_max``."""
    return np.geomspace(r_min, params.extension * r_max, params.n_rigidity)


_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


def model_for(params: ParkerParameters, species: Species, rigidity) -> ParkerModel:
    """A (cached) :class:`ParkerModel` on ``COMM_SELF``: repeated calls with the same model,
    species and grid (normalisation loops) reuse the matrix and the preconditioner."""
    rig = np.asarray(rigidity, dtype=float)
    key = (astuple(params), astuple(species), rig.tobytes())
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    model = ParkerModel(params, species, rig)
    _CACHE[key] = model
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)[1].destroy()
    return model


def _loglog(x, y, x_new):
    """log-log interpolation, power-law extrapolation from the end pairs."""
    lx, ly, ln = np.log(x), np.log(y), np.log(x_new)
    out = np.interp(ln, lx, ly)
    lo, hi = ln < lx[0], ln > lx[-1]
    if np.any(lo):
        out[lo] = ly[0] + (ly[1] - ly[0]) / (lx[1] - lx[0]) * (ln[lo] - lx[0])
    if np.any(hi):
        out[hi] = ly[-1] + (ly[-1] - ly[-2]) / (lx[-1] - lx[-2]) * (ln[hi] - lx[-1])
    return np.exp(out)


def spherical_parker(t_n, j_lis, params: ParkerParameters, species: Species) -> np.ndarray:
    """Modulate a tabulated LIS with the spherical Parker model (the counterpart of
    :func:`galprop_py.physics.modulation.force_field`).

    ``t_n`` [GeV/n] positive, increasing; ``j_lis`` the LIS at ``t_n`` (any flux unit per
    GeV/n, positive).  The LIS is carried log-log (power-law extrapolation above the last
    point) to the heliosphere's own rigidity grid (:func:`rigidity_grid` over the range of
    ``t_n``), the modulation factor J_1AU / J_LIS found there is interpolated back in
    log-log and applied: the result is J at ``params.observer_au`` at ``t_n``."""
    t = np.asarray(t_n, dtype=float)
    j = np.asarray(j_lis, dtype=float)
    if t.ndim != 1 or t.shape != j.shape or t.size < 2:
        raise ValueError("t_n and j_lis must be 1D arrays of equal length >= 2")
    if np.any(t <= 0.0) or np.any(np.diff(t) <= 0.0) or np.any(~(j > 0.0)):
        raise ValueError("t_n must be positive and increasing and j_lis positive")
    p = kinematics.momentum_from_kinetic(t * species.mass_number, species.mass)
    rig = kinematics.rigidity(p, species.charge)
    grid = rigidity_grid(params, rig[0], rig[-1])
    model = model_for(params, species, grid)
    # psi per unit momentum is proportional to J per unit kinetic energy (dT/dp = v)
    sol = model.solve(_loglog(rig, j, grid))
    factor = _loglog(grid, np.maximum(sol.modulation_factor, 1e-300), rig)
    return j * factor
