"""Pseudo-particle (stochastic differential equation) solver: an independent check of the grid.

The spatial transport equation for the density n(x, t) (conservative form, theory.md)

    dn/dt = div(kappa . grad n) - div(u n) - lambda n + q(x)

with kappa_ij = kperp delta_ij + (kpar - kperp) b_i b_j + kA eps_ijk b_k, a constant wind u
and a constant catastrophic loss rate lambda is the forward Kolmogorov (Fokker-Planck)
equation of the Ito process (Gardiner, Handbook of Stochastic Methods, ch. 4; for
cosmic rays Kopp et al. 2012, Comput. Phys. Commun. 183, 530; Strauss & Effenberger 2017,
Space Sci. Rev. 212, 151)

    dx = (u + div kappa) dt + B dW,    B B^T = 2 kappa_sym,
    B  = sqrt(2 kpar) b b^T + sqrt(2 kperp) (I - b b^T),
    (div kappa)_i = d_j kappa_ij = (kpar - kperp) d_j (b_i b_j) + kA (curl b)_i,

integrated with the Euler-Maruyama scheme (exact in distribution for uniform coefficients).
Losses enter as the weight exp(-lambda t) of a particle history (no killing, less variance).

Boundaries, per axis: ``"absorbing"`` (free escape, n = 0; the particle is removed when it
leaves, and between two steps that both end inside it is removed with the Brownian-bridge
probability exp(-d0 d1 / (kappa_nn dt)) of having touched the face, d0 and d1 the distances
of the two ends from the face; Gobet 2000, Stoch. Proc. Appl. 87, 167 -- this turns the O(sqrt dt)
exit error of a plain Euler walk into O(dt); exact for one flat face and uniform
coefficients, the product over faces is an approximation at edges and corners) or
``"periodic"``.  Infinite bounds (free space) are allowed.

Estimators (``mode``):

``"steady"``  continuous injection at rate Q [particles/Myr]: n(x) = Q E[residence time in
    dx] / dx.  A history's residence time is sum_k dt 1(x(t_k) in dx) exp(-lambda t_k) over
    the times t_k = (k + 1 - U) dt, U uniform in [0, 1) per history (the first step is
    (1 - U) dt long): a randomly shifted Riemann sum, whose expectation is the time integral
    exactly, whatever dt (no start-up error at the source).
``"continuous"``  the source switched on at t = 0: n(x, t) = Q int_0^t G(x, s) ds, the same
    sum over the t_k < t (dt reduced to t / ceil(t / dt)).
``"burst"``  Q particles released at t = 0: n(x, t) from the positions at t.

Densities are given in bins (cell counting on a regular box grid: the bin average of n) and
at points (product biweight kernel K(u) = 15/16 (1 - u^2)^2 of half-width h per axis: bias
(h^2 / 14) lap n; points closer than h to an absorbing face are biased low).  Standard errors
are the exact Monte Carlo ones: the standard deviation of the per-history contributions over
sqrt(N) (the source sampling included).

MPI: every rank runs its share of the particles with its own stream, SeedSequence(seed)
spawned by rank and then by chunk (numba's generator seeded per chunk inside the kernel), and
the sums are reduced.  Results are reproducible for a given seed and number of ranks; on a
different number of ranks they are another valid sample.

Units: the solver's internal ones (:mod:`galprop_py.units`): kpc, Myr, kappa in kpc^2/Myr,
u in kpc/Myr, lambda in 1/Myr.  Densities come out in [Q] Myr kpc^-3 (steady, continuous)
or [Q] kpc^-3 (burst).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

MODES = ("steady", "continuous", "burst")
BOUNDARIES = ("absorbing", "periodic")


def _bad(key: str, value, allowed: str) -> ValueError:
    return ValueError(f"sde.{key} = {value!r}: allowed {allowed}")


def _vec3(key: str, value, allow_inf: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float).reshape(3)
    except (TypeError, ValueError):
        raise _bad(key, value, "three numbers") from None
    if np.any(np.isnan(arr)) or (not allow_inf and not np.all(np.isfinite(arr))):
        raise _bad(key, value, "three finite numbers" + (" or +-inf" if allow_inf else ""))
    return arr


def _number(key: str, value, minimum: float = 0.0, strict: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _bad(key, value, "a number") from None
    if not math.isfinite(v) or v < minimum or (strict and v == minimum):
        raise _bad(key, value, f"a finite number {'>' if strict else '>='} {minimum:g}")
    return v


# --- sources -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PointSource:
    """All particles start at ``position`` [kpc]."""

    position: Sequence[float]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.broadcast_to(_vec3("source.position", self.position), (n, 3)).copy()


@dataclass(frozen=True)
class GaussianSource:
    """q(x) = Q N(x; centre, diag(sigma^2)); particles drawn outside an absorbing box are lost
    (the box holds the source only where it is inside), as on the grid."""

    centre: Sequence[float]
    sigma: float | Sequence[float]

    def _sig(self) -> np.ndarray:
        sig = np.broadcast_to(np.asarray(self.sigma, float), (3,)).copy()
        if not np.all(np.isfinite(sig)) or np.any(sig <= 0.0):
            raise _bad("source.sigma", self.sigma, "numbers > 0")
        return sig

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        c = _vec3("source.centre", self.centre)
        return c + self._sig() * rng.standard_normal((n, 3))

    def density(self, x, y, z) -> np.ndarray:
        """Source profile q(x) / Q [kpc^-3] (for a grid solver's source)."""
        c, s = _vec3("source.centre", self.centre), self._sig()
        u = ((x - c[0]) / s[0]) ** 2 + ((y - c[1]) / s[1]) ** 2 + ((z - c[2]) / s[2]) ** 2
        return np.exp(-0.5 * u) / ((2.0 * np.pi) ** 1.5 * np.prod(s))


@dataclass(frozen=True)
class UniformSource:
    """q(x) = Q / V uniform in the box [lower, upper] (e.g. a thin disc: a box of small height)."""

    lower: Sequence[float]
    upper: Sequence[float]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        lo, hi = _vec3("source.lower", self.lower), _vec3("source.upper", self.upper)
        if np.any(hi < lo):
            raise _bad("source.upper", self.upper, "each component >= source.lower")
        return lo + (hi - lo) * rng.random((n, 3))


# --- the problem -------------------------------------------------------------------------
@dataclass
class SDEProblem:
    """Box, transport coefficients and boundaries (internal units, module docstring).

    ``field`` is a constant vector (normalised here) or a callable ``f(x, y, z) -> (bx, by,
    bz)`` evaluated on ``field_nodes`` nodes spanning the (finite) box, normalised, and
    interpolated trilinearly; the drift div kappa is taken from second-order differences on
    the same nodes."""

    lower: Sequence[float]
    upper: Sequence[float]
    kappa_par: float
    kappa_perp: float
    field: Sequence[float] | Callable = (0.0, 0.0, 1.0)
    field_nodes: Sequence[int] = (33, 33, 33)
    kappa_a: float = 0.0
    wind: Sequence[float] = (0.0, 0.0, 0.0)
    loss_rate: float = 0.0
    boundaries: Sequence[str] = ("absorbing", "absorbing", "absorbing")

    def __post_init__(self):
        self.lower = _vec3("lower", self.lower, allow_inf=True)
        self.upper = _vec3("upper", self.upper, allow_inf=True)
        if np.any(self.upper <= self.lower):
            raise _bad("upper", list(self.upper), "each component > sde.lower")
        self.kappa_par = _number("kappa_par", self.kappa_par, strict=True)
        self.kappa_perp = _number("kappa_perp", self.kappa_perp)
        self.kappa_a = _number("kappa_a", self.kappa_a, minimum=-math.inf)
        self.wind = _vec3("wind", self.wind)
        self.loss_rate = _number("loss_rate", self.loss_rate)
        self.boundaries = tuple(self.boundaries)
        if len(self.boundaries) != 3 or any(b not in BOUNDARIES for b in self.boundaries):
            raise _bad("boundaries", self.boundaries, f"three of {', '.join(BOUNDARIES)}")
        for a, kind in enumerate(self.boundaries):
            if kind == "periodic" and not np.isfinite(self.upper[a] - self.lower[a]):
                raise _bad("boundaries", self.boundaries, "'periodic' only on finite axes")
        if not callable(self.field):
            b = _vec3("field", self.field)
            if np.linalg.norm(b) == 0.0:
                raise _bad("field", self.field, "a non-zero vector or a callable")
            self.field = b / np.linalg.norm(b)

    @property
    def absorbing(self) -> np.ndarray:
        fin = np.isfinite(self.lower) & np.isfinite(self.upper)
        return np.array([k == "absorbing" for k in self.boundaries]) & fin

    def tensor(self, b) -> np.ndarray:
        """Symmetric part of kappa for the unit vector b [kpc^2/Myr]."""
        b = np.asarray(b, float)
        return self.kappa_perp * np.eye(3) + (self.kappa_par - self.kappa_perp) * np.outer(b, b)

    def field_tables(self):
        """(nodes lower corner, node spacing, b on the nodes, drift div kappa on the nodes)."""
        if not callable(self.field):
            z = np.zeros((2, 2, 2, 3))
            return np.zeros(3), np.ones(3), z + self.field, z
        if not np.all(np.isfinite(self.upper - self.lower)):
            raise _bad("field", "callable", "a constant vector when the box is infinite")
        nodes = np.asarray(self.field_nodes, int).reshape(3)
        if np.any(nodes < 3):
            raise _bad("field_nodes", list(nodes), "three integers >= 3")
        axes = [np.linspace(self.lower[a], self.upper[a], nodes[a]) for a in range(3)]
        h = np.array([ax[1] - ax[0] for ax in axes])
        x, y, z = np.meshgrid(*axes, indexing="ij")
        b = np.stack(np.broadcast_arrays(*self.field(x, y, z)), axis=-1).astype(float)
        norm = np.linalg.norm(b, axis=-1, keepdims=True)
        if np.any(norm == 0.0) or not np.all(np.isfinite(b)):
            raise _bad("field", "callable", "a finite, non-zero vector at every node")
        b = b / norm
        drift = np.zeros_like(b)
        dk = self.kappa_par - self.kappa_perp
        for i in range(3):
            for j in range(3):
                drift[..., i] += dk * np.gradient(b[..., i] * b[..., j], h[j], axis=j, edge_order=2)
        if self.kappa_a != 0.0:
            g = [
                [np.gradient(b[..., k], h[j], axis=j, edge_order=2) for j in range(3)]
                for k in range(3)
            ]
            curl = np.stack([g[2][1] - g[1][2], g[0][2] - g[2][0], g[1][0] - g[0][1]], axis=-1)
            drift += self.kappa_a * curl
        return self.lower.copy(), h, np.ascontiguousarray(b), np.ascontiguousarray(drift)

    def default_dt(self) -> float:
        """1e-3 L^2 / kpar, L the narrowest finite axis (1 in kpc when all are infinite)."""
        widths = (self.upper - self.lower)[np.isfinite(self.upper - self.lower)]
        length = widths.min() if widths.size else 1.0
        return 1e-3 * length**2 / self.kappa_par


@dataclass(frozen=True)
class BinGrid:
    """Regular bins over [lower, upper] with ``shape`` bins per axis (cell counting)."""

    lower: Sequence[float]
    upper: Sequence[float]
    shape: Sequence[int]

    def arrays(self):
        lo, hi = _vec3("bins.lower", self.lower), _vec3("bins.upper", self.upper)
        shape = np.asarray(self.shape, dtype=np.int64).reshape(3)
        if np.any(shape < 1) or np.any(hi <= lo):
            raise _bad("bins", (list(lo), list(hi), list(shape)), "upper > lower, shape >= 1")
        return lo, (hi - lo) / shape, shape

    def centers(self) -> list[np.ndarray]:
        lo, h, shape = self.arrays()
        return [lo[a] + (np.arange(shape[a]) + 0.5) * h[a] for a in range(3)]

    @property
    def volume(self) -> float:
        _, h, _ = self.arrays()
        return float(np.prod(h))


@dataclass
class SDEResult:
    """Global (reduced) estimates; ``positions``/``weights``: this rank's survivors (burst)."""

    density: np.ndarray | None  # bins, shape BinGrid.shape
    stderr: np.ndarray | None
    point_density: np.ndarray | None
    point_stderr: np.ndarray | None
    n_particles: int
    n_steps: int
    n_escaped: int
    n_truncated: int  # histories stopped at max_steps (steady): should be 0
    dt: float
    wall_s: float  # slowest rank
    positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def particles_per_s(self) -> float:
        return self.n_particles / max(self.wall_s, 1e-12)

    @property
    def steps_per_s(self) -> float:
        return self.n_steps / max(self.wall_s, 1e-12)


# --- the kernel ----------------------------------------------------------------------------
@njit(cache=True)
def _interpolate(tab, lo, h, x, out):
    """Trilinear interpolation of the node table ``tab`` (nx, ny, nz, 3) at x (clamped)."""
    idx = np.empty(3, np.int64)
    frac = np.empty(3)
    for a in range(3):
        n = tab.shape[a]
        s = (x[a] - lo[a]) / h[a]
        i = min(max(int(math.floor(s)), 0), n - 2)
        idx[a] = i
        frac[a] = min(max(s - i, 0.0), 1.0)
    for c in range(3):
        out[c] = 0.0
    for di in range(2):
        wi = frac[0] if di else 1.0 - frac[0]
        for dj in range(2):
            wj = frac[1] if dj else 1.0 - frac[1]
            for dk in range(2):
                w = wi * wj * (frac[2] if dk else 1.0 - frac[2])
                for c in range(3):
                    out[c] += w * tab[idx[0] + di, idx[1] + dj, idx[2] + dk, c]


@njit(cache=True)
def _histories(
    seed, x0, lo, hi, absorbing, periodic, kpar, kperp, bconst, varying, flo, fh, btab, dtab,
    wind, loss, dt, n_end, burst, max_steps, blo, bh, bshape, s1, s2, pts, ph, p1, p2,
    out_pos, out_w, stats,
):  # fmt: skip
    """Run the histories starting at x0 (n, 3); add their sums to s1, s2 (bins), p1, p2
    (points) and stats (steps, escaped, truncated).  n_end < 0: until escape."""
    np.random.seed(seed)
    nb = s1.size
    acc = np.zeros(nb)
    flag = np.zeros(nb, np.int8)
    touched = np.empty(nb, np.int64)
    pacc = np.zeros(pts.shape[0])
    sq_par, sq_perp = math.sqrt(2.0 * kpar * dt), math.sqrt(2.0 * kperp * dt)
    b = bconst.copy()
    drift = np.zeros(3)
    x = np.empty(3)
    xn = np.empty(3)
    xi = np.empty(3)
    steps = 0
    for ip in range(x0.shape[0]):
        ntouch = 0
        pacc[:] = 0.0
        alive = True
        for a in range(3):
            x[a] = x0[ip, a]
            if periodic[a]:
                x[a] = lo[a] + (x[a] - lo[a]) % (hi[a] - lo[a])
            elif absorbing[a] and (x[a] <= lo[a] or x[a] >= hi[a]):
                alive = False
        k = 0  # steps taken
        t = 0.0
        while alive:
            finish = k == n_end
            if finish and not burst:
                break
            if not finish:
                if k >= max_steps:
                    stats[2] += 1
                    break
                # the first step of a residence history is (0, dt] long at random: the sum of
                # dt g(t_k) over the shifted times is then an unbiased estimate of int g dt
                tau = dt if (burst or k > 0) else (1.0 - np.random.random()) * dt
                root = math.sqrt(tau / dt)
                if varying:
                    _interpolate(btab, flo, fh, x, b)
                    nrm = math.sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2])
                    for a in range(3):
                        b[a] /= nrm
                    _interpolate(dtab, flo, fh, x, drift)
                bxi = 0.0
                for a in range(3):
                    xi[a] = np.random.standard_normal()
                    bxi += b[a] * xi[a]
                escaped = False
                for a in range(3):
                    xn[a] = x[a] + (wind[a] + drift[a]) * tau + root * sq_perp * xi[a]
                    xn[a] += root * (sq_par - sq_perp) * bxi * b[a]
                    if absorbing[a] and (xn[a] <= lo[a] or xn[a] >= hi[a]):
                        escaped = True
                if not escaped:
                    # Brownian bridge: probability that the path touched a face between the steps
                    survive = 1.0
                    for a in range(3):
                        if absorbing[a]:
                            knn_tau = (kperp + (kpar - kperp) * b[a] * b[a]) * tau
                            e_lo = (x[a] - lo[a]) * (xn[a] - lo[a]) / knn_tau
                            e_hi = (hi[a] - x[a]) * (hi[a] - xn[a]) / knn_tau
                            if e_lo < 40.0:
                                survive *= 1.0 - math.exp(-e_lo)
                            if e_hi < 40.0:
                                survive *= 1.0 - math.exp(-e_hi)
                    if survive < 1.0 and np.random.random() >= survive:
                        escaped = True
                steps += 1
                if escaped:
                    stats[1] += 1
                    break
                for a in range(3):
                    x[a] = xn[a]
                    if periodic[a]:
                        x[a] = lo[a] + (x[a] - lo[a]) % (hi[a] - lo[a])
                k += 1
                t += tau
                if burst:
                    continue
            w = math.exp(-loss * t) if loss > 0.0 else 1.0
            if finish:  # burst: the position at t_end
                for a in range(3):
                    out_pos[ip, a] = x[a]
                out_w[ip] = w
            else:  # residence: dt at each of the shifted times
                w *= dt
            if nb > 0:  # cell counting (inline: a call costs as much as a step)
                c = 0
                for a in range(3):
                    i = int(math.floor((x[a] - blo[a]) / bh[a]))
                    if i < 0 or i >= bshape[a]:
                        c = -1
                        break
                    c = c * bshape[a] + i
                if c >= 0:
                    if flag[c] == 0:
                        flag[c] = 1
                        touched[ntouch] = c
                        ntouch += 1
                    acc[c] += w
            for j in range(pts.shape[0]):  # product biweight kernel at the points
                kern = w
                for a in range(3):
                    u = (x[a] - pts[j, a]) / ph[a]
                    if abs(u) >= 1.0:
                        kern = 0.0
                        break
                    kern *= 0.9375 * (1.0 - u * u) ** 2 / ph[a]
                pacc[j] += kern
            if finish:
                break
        if not alive:
            stats[1] += 1
        for j in range(ntouch):
            c = touched[j]
            s1[c] += acc[c]
            s2[c] += acc[c] * acc[c]
            acc[c] = 0.0
            flag[c] = 0
        for j in range(pts.shape[0]):
            p1[j] += pacc[j]
            p2[j] += pacc[j] * pacc[j]
    stats[0] += steps


# --- the driver ----------------------------------------------------------------------------
def _mpi_comm(comm):
    from mpi4py import MPI

    if comm is None:
        return MPI.COMM_WORLD
    return comm.tompi4py() if hasattr(comm, "tompi4py") else comm


def _mean_and_error(s1, s2, n, scale):
    mean = s1 / n
    var = np.maximum(s2 - s1 * s1 / n, 0.0) / max(n - 1, 1)
    return scale * mean, scale * np.sqrt(var / n)


def simulate(
    problem: SDEProblem,
    source,
    *,
    mode: str = "steady",
    t_end: float | None = None,
    n_particles: int = 100_000,
    source_strength: float = 1.0,
    dt: float | None = None,
    seed: int = 0,
    bins: BinGrid | None = None,
    points=None,
    bandwidth=None,
    comm=None,
    chunk: int = 1 << 15,
    max_steps: int = 10_000_000,
    keep_positions: bool = False,
) -> SDEResult:
    """Density estimates of ``problem`` with ``source`` (a PointSource, GaussianSource,
    UniformSource or any object with ``sample(rng, n) -> (n, 3)``).

    ``n_particles`` is the total over the ranks of ``comm`` (mpi4py or PETSc communicator;
    default COMM_WORLD).  ``source_strength`` Q: rate [1/Myr] (steady, continuous) or number
    (burst).  ``dt`` [Myr] defaults to :meth:`SDEProblem.default_dt` (rounded down to divide
    ``t_end``).  ``bins``: a :class:`BinGrid`; ``points`` (m, 3) [kpc] with the kernel
    half-width ``bandwidth`` (number or three) [kpc].  Steady histories with losses stop at
    t = 40 / loss_rate (weight e^-40)."""
    if mode not in MODES:
        raise _bad("mode", mode, ", ".join(MODES))
    n_particles = int(_number("n_particles", n_particles, minimum=2))
    q = _number("source_strength", source_strength, minimum=-math.inf)
    dt = problem.default_dt() if dt is None else _number("dt", dt, strict=True)
    if mode == "steady":
        if problem.loss_rate > 0.0:
            n_end = math.ceil(40.0 / (problem.loss_rate * dt))
        elif problem.absorbing.any():
            n_end = -1
        else:
            raise _bad("boundaries", problem.boundaries, "an absorbing finite axis (steady mode)")
    else:
        if t_end is None:
            raise _bad("t_end", t_end, f"a time > 0 [Myr] for mode {mode!r}")
        t_end = _number("t_end", t_end, strict=True)
        n_end = max(math.ceil(t_end / dt - 1e-9), 1)
        dt = t_end / n_end
    burst = mode == "burst"

    if bins is not None:
        blo, bh, bshape = bins.arrays()
        nbins = int(np.prod(bshape))
    else:
        blo, bh, bshape, nbins = np.zeros(3), np.ones(3), np.ones(3, np.int64), 0
    if points is not None:
        pts = np.ascontiguousarray(np.asarray(points, float).reshape(-1, 3))
        if bandwidth is None:
            raise _bad("bandwidth", bandwidth, "a kernel half-width > 0 [kpc] with points")
        ph = np.broadcast_to(np.asarray(bandwidth, float), (3,)).copy()
        if not np.all(np.isfinite(ph)) or np.any(ph <= 0.0):
            raise _bad("bandwidth", bandwidth, "numbers > 0 [kpc]")
    else:
        pts, ph = np.zeros((0, 3)), np.ones(3)
    flo, fh, btab, dtab = problem.field_tables()
    varying = callable(problem.field)
    bconst = np.zeros(3) + (btab[0, 0, 0] if not varying else (0.0, 0.0, 1.0))

    mpi = _mpi_comm(comm)
    rank, size = mpi.Get_rank(), mpi.Get_size()
    n_local = n_particles // size + (1 if rank < n_particles % size else 0)
    n_chunks = max(math.ceil(n_local / chunk), 1)
    streams = np.random.SeedSequence(seed).spawn(size)[rank].spawn(n_chunks)
    s1, s2 = np.zeros(nbins), np.zeros(nbins)
    p1, p2 = np.zeros(len(pts)), np.zeros(len(pts))
    stats = np.zeros(3, np.int64)
    positions, weights = [], []
    absorbing = problem.absorbing
    periodic = np.array([k == "periodic" for k in problem.boundaries])
    t0 = time.perf_counter()
    for c, stream in enumerate(streams):
        n = min(chunk, n_local - c * chunk)
        x0 = np.ascontiguousarray(source.sample(np.random.default_rng(stream), n), dtype=float)
        out_pos = np.zeros((n if burst else 0, 3))
        out_w = np.zeros(n if burst else 0)
        _histories(
            int(stream.generate_state(1, np.uint32)[0]), x0, problem.lower, problem.upper,
            absorbing, periodic, problem.kappa_par, problem.kappa_perp, bconst, varying, flo,
            fh, btab, dtab, problem.wind, problem.loss_rate, dt, n_end, burst, max_steps, blo,
            bh, bshape, s1, s2, pts, ph, p1, p2, out_pos, out_w, stats,
        )  # fmt: skip
        if burst and keep_positions:
            keep = out_w > 0.0
            positions.append(out_pos[keep])
            weights.append(out_w[keep])
    wall = time.perf_counter() - t0

    from mpi4py import MPI

    sums = np.concatenate([s1, s2, p1, p2, stats.astype(float), [n_local]])
    mpi.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
    wall = mpi.allreduce(wall, op=MPI.MAX)
    s1, s2 = sums[:nbins], sums[nbins : 2 * nbins]
    m = len(pts)
    p1, p2 = sums[2 * nbins : 2 * nbins + m], sums[2 * nbins + m : 2 * nbins + 2 * m]
    steps, escaped, truncated, n_tot = (int(round(v)) for v in sums[2 * nbins + 2 * m :])
    density = stderr = pd = pe = None
    if bins is not None:
        density, stderr = _mean_and_error(s1, s2, n_tot, q / bins.volume)
        density, stderr = density.reshape(tuple(bshape)), stderr.reshape(tuple(bshape))
    if points is not None:
        pd, pe = _mean_and_error(p1, p2, n_tot, q)
    return SDEResult(
        density, stderr, pd, pe, n_tot, steps, escaped, truncated, dt, wall,
        np.concatenate(positions) if positions else np.zeros((0, 3)),
        np.concatenate(weights) if weights else np.zeros(0),
    )  # fmt: skip


# --- the same problem on the grid --------------------------------------------------------
def grid_steady_density(
    problem: SDEProblem, profile, shape, scheme="centred", source_strength=1.0, rtol=1e-10
):
    """The package's steady finite-volume solution of ``problem`` (all faces free escape) on
    a uniform ``shape`` grid over the box: returns (cell centres per axis, n (nx, ny, nz)),
    the full array on every rank of PETSc.COMM_WORLD.  ``profile(x, y, z)`` is the source
    density per unit Q [kpc^-3] (e.g. :meth:`GaussianSource.density`); diffusion operator
    scheme ``scheme``, the wind by the hybrid scheme, the loss rate as catastrophic losses.
    Two momentum points with identical coefficients (the grid needs two; the first is
    returned)."""
    from ..decomposition import Decomposition
    from ..grid import MomentumGrid, make_spatial_grid
    from ..operators.advection import WindAdvection
    from ..operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
    from ..operators.catastrophic import CatastrophicLosses
    from ..operators.diffusion import SpatialDiffusion
    from ..physics.species import PROTON
    from ..solvers import LinearSolver, solve_steady
    from ..transport import SpeciesTransport

    if not (problem.absorbing.all() and not callable(problem.field)):
        raise _bad("boundaries", problem.boundaries, "finite absorbing faces, constant field")
    ext = {n: (problem.lower[a], problem.upper[a]) for a, n in enumerate("xyz")}
    grid = make_spatial_grid("cartesian3d", ext, dict(zip("xyz", shape, strict=True)))
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 2.0, 2)
    dec = Decomposition(grid, mg.n)
    b, ones = tuple(problem.field), np.ones(mg.n)
    tensor = DiffusionTensor(
        problem.kappa_par * ones,
        problem.kappa_perp * ones,
        kappa_a=problem.kappa_a * ones if problem.kappa_a else None,
        field_direction=lambda coords: b,
    )
    coeffs = SpeciesCoefficients(
        PROTON, mg.momentum(PROTON), mg.momentum_edges(PROTON), diffusion=tensor,
        source=SeparableField().add(lambda c: profile(*c), source_strength * ones),
    )  # fmt: skip
    ops = [SpatialDiffusion(scheme)]
    if np.any(problem.wind):
        coeffs.wind = lambda a, coords: problem.wind[a]
        ops.append(WindAdvection("hybrid"))
    if problem.loss_rate > 0.0:
        coeffs.catastrophic = SeparableField().add(None, problem.loss_rate * ones)
        ops.append(CatastrophicLosses())
    transport = SpeciesTransport(dec, coeffs, ops)
    solver = LinearSolver(
        dec.comm, "sde_grid_", {"ksp_rtol": rtol, "ksp_norm_type": "unpreconditioned"}
    )
    x, _ = solve_steady(transport, solver)
    full = dec.gather_to_all(dec.local_array(x))[..., 0]
    for obj in (x, solver, transport):
        obj.destroy()
    return [ax.centers for ax in grid.axes], full
