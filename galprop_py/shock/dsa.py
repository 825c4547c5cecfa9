"""Time-dependent diffusive shock acceleration of test particles at a planar shock.

The Parker equation in one dimension (x along the flow, shock at x = 0, upstream x < 0)

    d psi/dt + d/dx (u psi) - d/dx (kappa d psi/dx) + d/dp (pdot psi) = Q,
    pdot = -(p/3) du/dx,   Q = Q0 delta(x) delta(p - p0)

for the density per unit momentum psi = 4 pi p^2 f, solved with the package's machinery: a
``slab1d`` grid (axis "z" = x), :class:`~galprop_py.operators.SpatialDiffusion` with
kappa(p) times a spatial factor (1 upstream, kappa2/kappa1 downstream),
:class:`~galprop_py.operators.WindAdvection` (hybrid: centred where the cell Peclet
number is at most 2) with u(x), and :class:`~galprop_py.operators.AdiabaticEnergyChange`,
whose div u comes from the same face velocities and so acts only where u changes: in the
shock cell for a sharp jump.  Time steps are :class:`~galprop_py.solvers.TimeIntegrator`
steps; the steady state is :func:`~galprop_py.solvers.solve_steady`.

Flow profile (``profile``): ``"sharp"``: u = u1 on every face left of the shock cell,
u2 right of it, so the whole compression (u2 - u1)/h0 sits in the one cell of width h0
centred on x = 0 where the particles are injected; ``"smooth"``: u = u2 + (u1 - u2)
(1 - tanh(x/w))/2 with w = ``smoothing_cells`` h0.  What converges: the spectral slope
tends to 3r/(r-1) as h0 kappa1(p0)/u1 -> 0 for both (tests/test_shock_dsa.py measures the
order); a smooth shock of fixed *physical* width w gives the steeper spectrum of a finite
shock (Drury, Axford & Summers 1982) wherever kappa/u1 is not much larger than w, so a
smoothing over a fixed number of cells converges to the sharp result, a fixed width does
not.  kappa changes from kappa1 to kappa2 with the same profile.

Grid: the shock cell has width h0 = ``finest_cell_fraction`` kappa1(p0)/u1 and the cells
grow geometrically (ratio <= ``max_cell_growth``) to the free-escape boundary at x = -L
(psi = 0 on the face: Dirichlet zero, nothing enters) and to the downstream boundary at X2,
an outflow: the advective flux leaves with the cell value and kappa is set to zero on that
face only (zero diffusive flux, the exact condition for the uniform downstream solution).
Momenta: log-spaced from p0 (the centre of the injection cell) to p_max with
``momenta_per_decade`` points; above p_max particles leave the grid.

Diffusion: Bohm kappa = r_g v / 3 (mean free path = gyroradius, -> r_g c / 3 for p >> mc)
with B1 upstream and B2 downstream (default B2 = B1), or a power law kappa_cm2_s
(p/p_ref)^index upstream times ``kappa_downstream_factor`` downstream.

Units: input as in :mod:`galprop_py.shock.config`; inside the solver kpc, Myr, GeV/c
(:mod:`galprop_py.units`); results in cm^-3 (GeV/c)^-1 (psi), yr, pc.  The closed forms to
compare with are in :mod:`galprop_py.shock.analytic`.  Spherical geometry is not done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..decomposition import Decomposition
from ..grid import FREE_ESCAPE, Axis, SpatialGrid
from ..microphysics.gyration import gyroradius_cm
from ..operators import REGISTRY
from ..operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from ..physics.kinematics import beta
from ..physics.species import PROTON
from ..solvers import LinearSolver, TimeIntegrator, solve_steady
from ..solvers.petsc import set_default_options
from ..solvers.steady import scaled_solve
from ..transport import SpeciesTransport
from ..units import (
    C_CM_S,
    CM2_S_TO_KPC2_MYR,
    GAUSS_PER_MICROGAUSS,
    KPC_CM,
    MYR_S,
    PC_CM,
    YR_S,
    velocity_to_internal,
)
from . import analytic
from .config import ShockBlock

KPC_PC = KPC_CM / PC_CM
MYR_YR = MYR_S / YR_S
#: density per unit momentum: kpc^-3 (GeV/c)^-1 -> cm^-3 (GeV/c)^-1
PSI_TO_CGS = 1.0 / KPC_CM**3
#: flux per unit momentum: kpc^-2 Myr^-1 (GeV/c)^-1 -> cm^-2 s^-1 (GeV/c)^-1
FLUX_TO_CGS = 1.0 / (KPC_CM**2 * MYR_S)

#: KSP of the shock solves: block Jacobi with exact LU blocks (one block per rank, so a
#: direct solve on one rank) inside GMRES; the spectra span many decades below the
#: injection value, which ILU(0) + BiCGStab resolves poorly.  On 2 ranks GMRES needs ~40
#: iterations per time step and stalls near 1e-10 for right-hand sides spanning many
#: decades (the A^-1 psi solve), hence rtol 1e-11; one rank is a direct solve.
SOLVER_DEFAULTS = {
    "ksp_type": "gmres",
    "pc_type": "bjacobi",
    "ksp_rtol": 1e-11,
    "ksp_norm_type": "unpreconditioned",
}
SOLVER_OPTIONS = {"sub_pc_type": "lu", "ksp_gmres_restart": 400}


def shock_solver(comm, prefix: str, guess: bool = False) -> LinearSolver:
    """A KSP with prefix ``prefix`` (``shock_steady_``, ``shock_transient_``)."""
    set_default_options(prefix, SOLVER_OPTIONS)
    return LinearSolver(comm, prefix, SOLVER_DEFAULTS | {"ksp_initial_guess_nonzero": guess})


def kappa_cm2_s(cfg: ShockBlock, p_gev, side: str = "upstream") -> np.ndarray:
    """kappa(p) [cm^2/s] of a proton upstream or downstream of the shock."""
    p = np.asarray(p_gev, dtype=float)
    if cfg.diffusion == "bohm":
        b = cfg.b_upstream_microgauss
        if side == "downstream" and cfg.b_downstream_microgauss is not None:
            b = cfg.b_downstream_microgauss
        r_g = gyroradius_cm(p / PROTON.charge, b * GAUSS_PER_MICROGAUSS)
        return r_g * beta(p, PROTON.mass) * C_CM_S / 3.0
    k = cfg.kappa_cm2_s * (p / cfg.kappa_p_ref_gev) ** cfg.kappa_index
    return k * (cfg.kappa_downstream_factor if side == "downstream" else 1.0)


def downstream_ratio(cfg: ShockBlock) -> float:
    """kappa2/kappa1 (independent of p for both diffusion models)."""
    if cfg.diffusion == "bohm":
        b2 = cfg.b_downstream_microgauss or cfg.b_upstream_microgauss
        return cfg.b_upstream_microgauss / b2
    return cfg.kappa_downstream_factor


def stretched_side(h0: float, length: float, growth: float) -> np.ndarray:
    """Edges h0/2 < e_1 < ... < e_n = length of cells growing by a constant ratio <= growth
    from the width h0 (the first cell next to the shock cell has width h0 * ratio)."""
    span = length - 0.5 * h0
    if span < 2.0 * h0:
        raise ValueError(f"a side of {length:g} is shorter than 2.5 shock cells of {h0:g}")

    def total(g, n):
        return h0 * g * (g**n - 1.0) / (g - 1.0)

    n = 1
    while total(growth, n) < span:
        n += 1
    g = brentq(lambda g: total(g, n) - span, 1.0 + 1e-12, growth) if n > 1 else span / h0
    widths = h0 * g ** np.arange(1, n + 1)
    edges = 0.5 * h0 + np.cumsum(widths)
    edges[-1] = length
    return edges


@dataclass
class ShockModel:
    """The discretised problem; lengths in kpc, times in Myr, kappa in kpc^2/Myr."""

    config: ShockBlock
    u1: float
    u2: float
    h0: float
    escape_length: float
    downstream_length: float
    p: np.ndarray
    p_edges: np.ndarray
    grid: SpatialGrid
    decomp: Decomposition
    coeffs: SpeciesCoefficients
    transport: SpeciesTransport
    shock_index: int
    q0: float  # injection rate per area [kpc^-2 Myr^-1]

    @property
    def x_pc(self) -> np.ndarray:
        return self.grid.axes[0].centers * KPC_PC

    def kappa1(self, p) -> np.ndarray:
        """Upstream kappa [kpc^2/Myr]."""
        return kappa_cm2_s(self.config, p, "upstream") * CM2_S_TO_KPC2_MYR

    def kappa2(self, p) -> np.ndarray:
        return kappa_cm2_s(self.config, p, "downstream") * CM2_S_TO_KPC2_MYR

    def theory_mean_time_yr(self, p) -> np.ndarray:
        """Drury's mean acceleration time from p0 [yr]."""
        t = analytic.mean_acceleration_time(
            p, self.kappa1, self.kappa2, self.u1, self.u2, self.p[0]
        )
        return np.asarray(t) * MYR_YR

    def theory_time_sigma_yr(self, p) -> np.ndarray:
        v = analytic.acceleration_time_variance(
            p, self.kappa1, self.kappa2, self.u1, self.u2, self.p[0]
        )
        return np.sqrt(np.asarray(v)) * MYR_YR

    def gather(self, vec) -> np.ndarray:
        """psi (n_x, n_p) in internal units on every rank."""
        return self.decomp.gather_to_all(self.decomp.local_array(vec))

    def destroy(self) -> None:
        self.transport.destroy()


def build_model(cfg: ShockBlock, comm=None) -> ShockModel:
    """Grid, coefficients and operators of the shock problem (module docstring)."""
    u1 = velocity_to_internal(cfg.shock_speed_km_s)
    u2 = u1 / cfg.compression_ratio
    p0 = cfg.injection_momentum_gev
    n_dec = math.log10(cfg.p_max_gev / p0)
    n_p = int(round(n_dec * cfg.momenta_per_decade)) + 1
    p = p0 * 10.0 ** (np.arange(n_p) / cfg.momenta_per_decade)
    ln = np.log(p)
    half = 0.5 * (ln[1] - ln[0])
    p_edges = np.exp(np.concatenate([[ln[0] - half], 0.5 * (ln[1:] + ln[:-1]), [ln[-1] + half]]))

    kappa1 = kappa_cm2_s(cfg, p, "upstream") * CM2_S_TO_KPC2_MYR
    ratio = downstream_ratio(cfg)
    h0 = cfg.finest_cell_fraction * kappa1[0] / u1
    escape = cfg.escape_distance_pc / KPC_PC
    if cfg.downstream_extent_pc is None:
        down = 3.0 * cfg.compression_ratio * ratio * escape
    else:
        down = cfg.downstream_extent_pc / KPC_PC
    for key, length in (("escape_distance_pc", escape), ("downstream_extent_pc", down)):
        if length < 5.0 * h0:
            raise ValueError(
                f"shock.{key} = {length * KPC_PC:g}: must be at least 5 shock cells "
                f"({5 * h0 * KPC_PC:.3g} pc, from shock.finest_cell_fraction)"
            )
    right = stretched_side(h0, down, cfg.max_cell_growth)
    left = stretched_side(h0, escape, cfg.max_cell_growth)
    edges = np.concatenate([-left[::-1], [-0.5 * h0, 0.5 * h0], right])
    axis = Axis("z", edges, lower=FREE_ESCAPE, upper=FREE_ESCAPE)
    grid = SpatialGrid("slab1d", [axis])
    shock_index = left.size
    dec = Decomposition(grid, n_p, comm)

    width = cfg.smoothing_cells * h0

    def upstream_fraction(x):
        x = np.asarray(x, dtype=float)
        if cfg.profile == "sharp":
            return (x < 0.0).astype(float)
        return 0.5 * (1.0 - np.tanh(x / width))

    def wind(a, coords):
        return u2 + (u1 - u2) * upstream_fraction(coords[0])

    def kappa_factor(coords):
        x = np.asarray(coords[0], dtype=float)
        s = upstream_fraction(x)
        factor = s + ratio * (1.0 - s)
        # the outflow face: no diffusive flux (the downstream solution is uniform)
        return np.where(x >= edges[-1] * (1.0 - 1e-12), 0.0, factor)

    def shock_cell(coords):
        return np.where(np.abs(np.asarray(coords[0])) < 0.25 * h0, 1.0 / h0, 0.0)

    q0 = cfg.injection_rate_cm2_s * KPC_CM**2 * MYR_S
    spectrum = np.zeros(n_p)
    spectrum[0] = q0 / (p_edges[1] - p_edges[0])
    coeffs = SpeciesCoefficients(
        PROTON,
        p,
        p_edges,
        diffusion=DiffusionTensor(kappa1, spatial_factor=kappa_factor),
        wind=wind,
        source=SeparableField().add(shock_cell, spectrum),
    )
    ops = [
        REGISTRY["diffusion"](),
        REGISTRY["advection"]("hybrid"),
        REGISTRY["adiabatic"]("outflow", "quadratic"),
    ]
    tr = SpeciesTransport(dec, coeffs, ops)
    return ShockModel(
        cfg, u1, u2, h0, escape, down, p, p_edges, grid, dec, coeffs, tr, shock_index, q0
    )


def steady_state(model: ShockModel) -> np.ndarray:
    """Steady psi (n_x, n_p) [kpc^-3 (GeV/c)^-1] on every rank."""
    solver = shock_solver(model.decomp.comm, "shock_steady_")
    try:
        x, _ = solve_steady(model.transport, solver)
    finally:
        solver.destroy()
    psi = model.gather(x)
    x.destroy()
    return psi


def laplace_mean_time_yr(model: ShockModel, psi_steady: np.ndarray) -> np.ndarray:
    """The mean acceleration time of the *discrete* system at the shock [yr]:
    int_0^inf (psi_inf - psi(t)) dt = A^-1 psi_inf for psi(0) = 0, divided by psi_inf
    (one more steady solve; :func:`run_time_dependent` tends to it as its steps shrink and
    equals it for backward Euler at any step size)."""
    dec = model.decomp
    solver = shock_solver(dec.comm, "shock_steady_")
    rhs = dec.from_physical(psi_steady[dec.global_slices()])
    y = dec.create_vec()
    y.set(0.0)
    try:
        scaled_solve(
            dec, solver, model.transport.matrix(), model.transport.system().diag, rhs, y,
            what="mean acceleration time (A^-1 psi)",
        )  # fmt: skip
    finally:
        solver.destroy()
    moment = model.gather(y)
    y.destroy()
    i = model.shock_index
    with np.errstate(divide="ignore", invalid="ignore"):
        return moment[i] / psi_steady[i] * MYR_YR


@dataclass
class ShockHistory:
    """A time-dependent run: the spectrum at the shock after every step."""

    times_yr: np.ndarray  # (n_t + 1,), from 0
    psi_shock: np.ndarray  # (n_t + 1, n_p) internal units
    psi_final: np.ndarray  # (n_x, n_p)
    scheme: str

    def mean_time_yr(self, psi_inf: np.ndarray) -> np.ndarray:
        """int (1 - psi/psi_inf) dt over the run [yr]: the right-end sum for backward Euler
        (the exact discrete first moment, see :func:`laplace_mean_time_yr`), the
        trapezoidal rule otherwise; short of the full mean where psi has not converged."""
        one = 1.0 - self.psi_shock / psi_inf
        dt = np.diff(self.times_yr)[:, None]
        if self.scheme == "backward_euler":
            return np.sum(dt * one[1:], axis=0)
        return np.sum(dt * 0.5 * (one[1:] + one[:-1]), axis=0)

    def second_moment_yr2(self, psi_inf: np.ndarray) -> np.ndarray:
        """int 2 t (1 - psi/psi_inf) dt = <t^2> of the acceleration time (trapezoidal)."""
        one = 1.0 - self.psi_shock / psi_inf
        w = 2.0 * self.times_yr[:, None] * one
        return np.sum(np.diff(self.times_yr)[:, None] * 0.5 * (w[1:] + w[:-1]), axis=0)

    def rise_time_yr(self, psi_inf: np.ndarray, level: float = 0.5) -> np.ndarray:
        """First time psi/psi_inf reaches ``level`` at each momentum (nan if never)."""
        frac = self.psi_shock / psi_inf
        out = np.full(frac.shape[1], np.nan)
        for k in range(frac.shape[1]):
            above = np.nonzero(frac[:, k] >= level)[0]
            if above.size and above[0] > 0:
                j = above[0]
                a, b = frac[j - 1, k], frac[j, k]
                t0, t1 = self.times_yr[j - 1], self.times_yr[j]
                out[k] = t0 + (level - a) / (b - a) * (t1 - t0)
        return out


def time_steps_myr(model: ShockModel, age_yr: float | None = None) -> np.ndarray:
    """Step sizes [Myr]: ``steps_per_doubling`` steps at dt0, then at 2 dt0, ... to the age
    (the last one shortened); dt0 = ``first_step_yr`` or 1% of the mean acceleration time
    scale at p0, 3/(u1-u2) (kappa1/u1 + kappa2/u2) at p0."""
    cfg = model.config
    age = (cfg.age_yr if age_yr is None else age_yr) / MYR_YR
    if cfg.first_step_yr is not None:
        dt = cfg.first_step_yr / MYR_YR
    else:
        p0 = model.p[0]
        scale = 3.0 / (model.u1 - model.u2) * (model.kappa1(p0) / model.u1)
        scale += 3.0 / (model.u1 - model.u2) * (model.kappa2(p0) / model.u2)
        dt = 0.01 * float(scale)
    steps, t = [], 0.0
    while t < age * (1.0 - 1e-12):
        for _ in range(cfg.steps_per_doubling):
            step = min(dt, age - t)
            steps.append(step)
            t += step
            if t >= age * (1.0 - 1e-12):
                break
        dt *= 2.0
    return np.array(steps)


def run_time_dependent(model: ShockModel, age_yr: float | None = None) -> ShockHistory:
    """Inject from t = 0 into an empty domain and step to the age (``time_scheme``)."""
    dec = model.decomp
    steps = time_steps_myr(model, age_yr)
    solver = shock_solver(dec.comm, "shock_transient_", guess=True)
    ti = TimeIntegrator(model.transport, steps[0], model.config.time_scheme, solver)
    psi = dec.create_vec()
    psi.set(0.0)
    i = model.shock_index
    times, shock = [0.0], [np.zeros(model.p.size)]
    t = 0.0
    try:
        for dt in steps:
            if dt != ti.dt:  # one cached operator at a time (the steps only grow)
                for mat, _ in ti._ops.values():
                    mat.destroy()
                ti._ops.clear()
            ti.dt = dt
            t = ti.step(psi, t)
            times.append(t * MYR_YR)
            shock.append(model.gather(psi)[i])
    finally:
        solver.destroy()
    final = model.gather(psi)
    psi.destroy()
    return ShockHistory(np.array(times), np.array(shock), final, model.config.time_scheme)


def escape_flux_cgs(model: ShockModel, psi: np.ndarray) -> np.ndarray:
    """Flux per unit momentum through the free-escape face x = -L [cm^-2 s^-1 (GeV/c)^-1]:
    kappa1 psi(first cell) / (distance to the face), as the diffusion operator has it."""
    ax = model.grid.axes[0]
    d = ax.centers[0] - ax.edges[0]
    return model.kappa1(model.p) * psi[0] / d * FLUX_TO_CGS


def outflow_flux_cgs(model: ShockModel, psi: np.ndarray) -> np.ndarray:
    """Advective flux per unit momentum through the downstream face: u2 psi(last cell)."""
    return model.u2 * psi[-1] * FLUX_TO_CGS


def local_slope(p: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """d ln psi / d ln p by centred differences (length n - 2, at p[1:-1])."""
    ln_p, ln_psi = np.log(p), np.log(np.maximum(psi, 1e-300))
    return (ln_psi[2:] - ln_psi[:-2]) / (ln_p[2:] - ln_p[:-2])


def fitted_slope(p: np.ndarray, psi: np.ndarray, p_lo: float, p_hi: float) -> float:
    """Least-squares d ln psi / d ln p over p_lo <= p <= p_hi."""
    sel = (p >= p_lo) & (p <= p_hi)
    return float(np.polyfit(np.log(p[sel]), np.log(psi[sel]), 1)[0])


def write_escape_spectrum(path, p: np.ndarray, flux_cgs: np.ndarray) -> None:
    """CSV ``p_gev,q_per_cm2_s_gev`` of the escaping spectrum: particles per unit shock area,
    time and momentum; times the shock area it is a source spectrum Q(p) [s^-1 (GeV/c)^-1].
    No galaxy run reads spectra from a table yet: this is the format one would take."""
    header = "p_gev,q_per_cm2_s_gev"
    np.savetxt(path, np.column_stack([p, flux_cgs]), delimiter=",", header=header, comments="")
