"""The fit: free config parameters and force-field potentials against the ``[fit]`` datasets.

Each evaluation sets the parameter values into a copy of the config (the dumped config with
the values as overrides, validated by :func:`galprop_py.config.config_from_dict`), solves it
with :func:`galprop_py.run.run` (in memory, no files) and computes chi^2 on each dataset's
own axis (:mod:`galprop_py.fit.chi2`).

The potentials of ``[fit.modulation]`` are parameters of the minimiser like the others (so
HESSE gives their errors and correlations), but changing one costs no solve: the run's LIS
is kept (a small cache keyed by the config parameters' values) and re-modulated.  The
numerical derivatives of MIGRAD in phi are therefore free.

With ``fit.gradient = "analytic"`` (the default) the minimisers get d chi^2 / d theta and the
Jacobian of the residuals from forward sensitivities of the linear systems
(:mod:`galprop_py.fit.gradients`): MIGRAD its gradient and the Gauss-Newton Hessian 2 J^T J
(also HESSE's matrix), least_squares its Jacobian.  On the closure fit of the tests
(D0, an injection index, one potential; 1 rank) MIGRAD + HESSE took 12 model solves (7 of
them with sensitivities) instead of 54, least_squares 7 instead of 35; the Gauss-Newton
errors are within 0.5 % of the numerical HESSE ones on the noisy closure.

The solves reuse grids, decomposition, production rates and gas densities and leave the
setup's objects out of the per-solve garbage collection (:mod:`galprop_py.fit.build_once`;
``Evaluator(..., build_once=False)``: fresh :func:`galprop_py.run.run` calls, the same chi^2).
On the closure fit (1 rank, finite differences) 93 chi^2 calls took 0.68 s instead of 11.0 s.

Parameters with ``log = true`` are fitted as log10 of the value: the minimiser's coordinates
(``FitResult.coordinates``), in which the covariance is given; ``FitResult.errors`` are the
errors of the values themselves (linearised: ln 10 x value x error of log10).

On MPI every rank runs the same minimiser on the same numbers: the model is solved by all
ranks of ``comm`` together and its LIS broadcast from rank 0, so every rank takes the same
steps.  Only rank 0 writes (:mod:`galprop_py.fit.output`).
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Config, ConfigError, apply_overrides, config_from_dict
from ..messages import info
from .chi2 import Chi2, LocalSpectra


@dataclass
class Coordinate:
    """One coordinate of the minimiser: a config key (``kind = "config"``) or a force-field
    potential (``kind = "phi"``, name ``phi.<group>``), possibly log10 of the value."""

    name: str
    kind: str
    log: bool
    initial: float  # in the minimiser's coordinate
    lower: float
    upper: float

    @property
    def label(self) -> str:
        return f"log10({self.name})" if self.log else self.name

    def value(self, u: float) -> float:
        return float(10.0**u) if self.log else float(u)

    def coordinate(self, value: float) -> float:
        return float(np.log10(value)) if self.log else float(value)


def coordinates(cfg: Config) -> tuple[list[Coordinate], dict[str, float]]:
    """The free coordinates of a fit (config parameters, then free potentials) and the
    fixed potentials."""
    fit = cfg.fit
    out = []
    for p in fit.parameters:
        c = Coordinate(p.key, "config", p.log, 0.0, 0.0, 0.0)
        c.initial, c.lower, c.upper = (c.coordinate(v) for v in (p.initial, p.min, p.max))
        out.append(c)
    fixed = {}
    for g, m in fit.modulation.items():
        if m.free:
            out.append(Coordinate(f"phi.{g}", "phi", False, m.initial, m.min, m.max))
        else:
            fixed[g] = m.initial
    return out, fixed


def _numeric_key(data: dict, key: str) -> None:
    """Refuse a parameter key that is not a real-valued key of the config."""
    node = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise ConfigError(f"fit.parameters key {key!r}: no such config key")
    if isinstance(node, bool) or not isinstance(node, float | int):
        raise ConfigError(f"fit.parameters key {key!r}: not a number (it is {node!r})")
    if isinstance(node, int):
        raise ConfigError(f"fit.parameters key {key!r}: an integer key; fits vary real numbers")


class Evaluator:
    """chi^2 of a config's ``[fit]`` for minimiser coordinates; solves only when the config
    parameters change (LIS cache)."""

    def __init__(
        self, cfg: Config, comm=None, data: Mapping | None = None, cache_size=16, build_once=True
    ):
        from petsc4py import PETSc

        from .build_once import BuildCache

        if cfg.fit is None:
            raise ConfigError("the config has no [fit] block: nothing to fit")
        self.cfg = cfg
        self.base = cfg.dump()
        self.base["output"]["plot"] = False
        for p in cfg.fit.parameters:
            _numeric_key(self.base, p.key)
        if cfg.fit.gradient == "analytic" and cfg.run.mode != "steady":
            raise ConfigError(
                f"fit.gradient = 'analytic' needs run.mode = 'steady' (not {cfg.run.mode!r}); "
                "use fit.gradient = 'none'"
            )
        self.chi2 = Chi2(cfg.fit, data)
        self.coords, self.fixed_phi = coordinates(cfg)
        self.comm = comm or PETSc.COMM_WORLD
        self.mpi = self.comm.tompi4py()
        self.cache_size = cache_size
        # grids, decomposition, production rates, gas built once (galprop_py.fit.build_once)
        self.build = BuildCache(self.comm) if build_once else None
        self._cache: OrderedDict[tuple, LocalSpectra] = OrderedDict()
        self.calls = 0
        self.solve_seconds: list[float] = []
        from .jacobian import TangentCache

        self.tangents = TangentCache()  # solves with sensitivities (fit.gradient = "analytic")
        self.config_for(self._config_values(self.initial()))  # a bad key fails now

    def initial(self) -> np.ndarray:
        return np.array([c.initial for c in self.coords], float)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([c.lower for c in self.coords], float),
            np.array([c.upper for c in self.coords], float),
        )

    def _config_values(self, u) -> tuple[float, ...]:
        return tuple(c.value(x) for c, x in zip(self.coords, u, strict=True) if c.kind == "config")

    def phis(self, u) -> dict[str, float]:
        out = dict(self.fixed_phi)
        for c, x in zip(self.coords, u, strict=True):
            if c.kind == "phi":
                out[c.name.removeprefix("phi.")] = float(x)
        return out

    def config_data(self, values: tuple[float, ...], phis: Mapping[str, float] | None = None):
        """The config dict with ``values`` for the config parameters (and ``phis``: the
        modulation groups' initial values, ``modulation.phi_gv`` the normalisation's)."""
        data = copy.deepcopy(self.base)
        keys = [p.key for p in self.cfg.fit.parameters]
        apply_overrides(data, [f"{k}={float(v)!r}" for k, v in zip(keys, values, strict=True)])
        if phis:
            ng = self.cfg.fit.norm_group()
            if ng is not None:
                data["modulation"]["phi_gv"] = float(phis[ng])
            for g, phi in phis.items():
                data["fit"]["modulation"][g]["initial"] = float(phi)
        for p, v in zip(self.cfg.fit.parameters, values, strict=True):
            # a refit starts from here: keep the start value inside its bounds
            p_data = next(q for q in data["fit"]["parameters"] if q["key"] == p.key)
            p_data["initial"] = float(min(max(v, p.min), p.max))
        return data

    def config_for(self, values: tuple[float, ...]) -> Config:
        try:
            return config_from_dict(self.config_data(values))
        except ConfigError as exc:
            params = zip(self.cfg.fit.parameters, values, strict=True)
            shown = ", ".join(f"{p.key} = {v:g}" for p, v in params)
            raise ConfigError(f"fit parameters ({shown}): {exc}") from None

    def local(self, values: tuple[float, ...]) -> LocalSpectra:
        """The run's LIS for these config parameter values (solved, or from the cache)."""
        if values in self._cache:
            self._cache.move_to_end(values)
            return self._cache[values]
        from ..run import run

        cfg = self.config_for(values)
        t0 = time.perf_counter()
        if self.build is not None:
            result = self.build.solve(cfg)
        else:
            result = run(cfg, comm=self.comm, progress=False, write_output=False)
        local = LocalSpectra.from_result(result)
        del result
        # every rank takes rank 0's numbers: the minimisers on all ranks stay in step
        local.parts = self.mpi.bcast(local.parts, root=0)
        self.solve_seconds.append(time.perf_counter() - t0)
        self._cache[values] = local
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return local

    def residuals(self, u) -> dict[str, np.ndarray]:
        self.calls += 1
        return self.chi2.residuals(self.local(self._config_values(u)), self.phis(u))

    def residual_vector(self, u) -> np.ndarray:
        return np.concatenate(list(self.residuals(u).values()))

    def __call__(self, u) -> float:
        r = self.residual_vector(u)
        return float(r @ r)

    def jacobian(self, u) -> np.ndarray:
        """d residuals / d u from forward sensitivities (:mod:`galprop_py.fit.gradients`)."""
        from .jacobian import residual_jacobian

        return residual_jacobian(self, u)[1]

    def gradient(self, u) -> np.ndarray:
        """d chi^2 / d u from forward sensitivities (:mod:`galprop_py.fit.gradients`)."""
        from .jacobian import chi2_gradient

        return chi2_gradient(self, u)

    def hessian(self, u) -> np.ndarray:
        """The Gauss-Newton Hessian 2 J^T J of chi^2 from the same Jacobian."""
        jac = self.jacobian(u)
        return 2.0 * jac.T @ jac


@dataclass
class FitResult:
    """What a fit found; ``covariance`` and ``correlation`` are in ``coordinates``."""

    minimiser: str
    valid: bool
    message: str
    names: list[str]
    coordinates: list[str]
    fit_values: list[float]
    fit_errors: list[float]
    values: dict[str, float]
    errors: dict[str, float]
    fixed: dict[str, float]
    covariance: np.ndarray
    correlation: np.ndarray
    chi2: dict[str, float]
    points: dict[str, int]
    calls: int
    solves: int
    seconds: float
    solve_seconds: list[float] = field(default_factory=list)
    best_config: dict = field(default_factory=dict)
    gradient_evaluations: int = 0  # fit.gradient = "analytic": Jacobians from sensitivities

    @property
    def chi2_total(self) -> float:
        return float(sum(self.chi2.values()))

    @property
    def dof(self) -> int:
        return int(sum(self.points.values()) - len(self.names))

    def as_dict(self) -> dict:
        """``fit_result.json``."""
        return {
            "minimiser": self.minimiser,
            "valid": self.valid,
            "message": self.message,
            "chi2_total": self.chi2_total,
            "points_total": int(sum(self.points.values())),
            "free_parameters": len(self.names),
            "dof": self.dof,
            "chi2": self.chi2,
            "points": self.points,
            "chi2_per_point": {n: self.chi2[n] / self.points[n] for n in self.chi2},
            "parameters": self.names,
            "coordinates": self.coordinates,
            "best": self.values,
            "errors": self.errors,
            "fixed": self.fixed,
            "best_coordinates": dict(zip(self.coordinates, self.fit_values, strict=True)),
            "errors_coordinates": dict(zip(self.coordinates, self.fit_errors, strict=True)),
            "covariance": np.asarray(self.covariance).tolist(),
            "correlation": np.asarray(self.correlation).tolist(),
            "chi2_calls": self.calls,
            "model_solves": self.solves,
            "gradient_evaluations": self.gradient_evaluations,
            "seconds": self.seconds,
            "seconds_per_solve": float(np.median(self.solve_seconds)) if self.solve_seconds else 0,
        }


def _correlation(cov: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(d, d)
    return np.where(np.outer(d, d) > 0, corr, 0.0)


def _migrad(ev: Evaluator) -> tuple[np.ndarray, np.ndarray, bool, str]:
    from iminuit import Minuit

    fit = ev.cfg.fit
    lo, hi = ev.bounds()
    derivatives = {}
    if fit.gradient == "analytic":
        # MIGRAD's steps and HESSE's matrix from the sensitivities: the Gauss-Newton Hessian
        # (no numerical second derivatives, each of which costs a solve)
        derivatives = dict(grad=ev.gradient, hessian=ev.hessian)
    m = Minuit(ev, ev.initial(), name=[c.label for c in ev.coords], **derivatives)
    m.errordef = Minuit.LEAST_SQUARES
    m.limits = list(zip(lo, hi, strict=True))
    m.errors = 0.02 * (hi - lo)
    m.tol = fit.tolerance
    m.migrad(ncall=fit.max_evaluations)
    m.hesse()
    fmin = m.fmin
    flags = {
        "is_above_max_edm": "EDM above the tolerance",
        "has_reached_call_limit": "call limit (fit.max_evaluations) reached",
        "has_parameters_at_limit": "a parameter at its bound",
        "hesse_failed": "HESSE failed",
        "has_posdef_covar": None,
    }
    notes = [t for k, t in flags.items() if t and getattr(fmin, k, False)]
    if not getattr(fmin, "has_posdef_covar", True):
        notes.append("covariance not positive definite (forced)")
    message = "MIGRAD: valid minimum" if fmin.is_valid else "MIGRAD: invalid minimum"
    if notes:
        message += " (" + "; ".join(notes) + ")"
    message += f", EDM = {fmin.edm:.2g}"
    n = len(lo)
    cov = np.array(m.covariance, float) if m.covariance is not None else np.full((n, n), np.nan)
    return np.array(m.values, float), cov, bool(fmin.is_valid), message


def _central_jacobian(ev: Evaluator, u: np.ndarray, r0: np.ndarray) -> np.ndarray:
    """d residuals / d u by central differences (one-sided at a bound), steps 1e-3 of each
    coordinate's range."""
    lo, hi = ev.bounds()
    jac = np.empty((r0.size, u.size))
    for i in range(u.size):
        h = 1e-3 * (hi[i] - lo[i])
        up, down = u.copy(), u.copy()
        up[i], down[i] = min(u[i] + h, hi[i]), max(u[i] - h, lo[i])
        r_up = ev.residual_vector(up) if up[i] > u[i] else r0
        r_down = ev.residual_vector(down) if down[i] < u[i] else r0
        jac[:, i] = (r_up - r_down) / (up[i] - down[i])
    return jac


def _least_squares(ev: Evaluator) -> tuple[np.ndarray, np.ndarray, bool, str]:
    from scipy.optimize import least_squares

    fit = ev.cfg.fit
    lo, hi = ev.bounds()
    tol = 1e-8 * fit.tolerance
    if fit.gradient == "analytic":
        jacobian = ev.jacobian
    else:
        jacobian = lambda u: _central_jacobian(ev, u, ev.residual_vector(u))  # noqa: E731
    res = least_squares(
        ev.residual_vector,
        ev.initial(),
        jac=jacobian,
        bounds=(lo, hi),
        x_scale=hi - lo,
        ftol=tol,
        xtol=tol,
        gtol=tol,
        max_nfev=fit.max_evaluations,
    )
    jac = jacobian(res.x)
    cov = np.linalg.pinv(jac.T @ jac)  # chi^2 = |r|^2: covariance (J^T J)^-1
    return res.x, cov, bool(res.success), f"least_squares: {res.message}"


def minimise(ev: Evaluator) -> FitResult:
    """Run the ``[fit]`` minimiser from the initial values."""
    t0 = time.perf_counter()
    minimiser = ev.cfg.fit.minimiser
    if not ev.coords:
        u, cov, valid, message = ev.initial(), np.zeros((0, 0)), True, "no free parameters"
    elif minimiser == "migrad":
        u, cov, valid, message = _migrad(ev)
    else:
        u, cov, valid, message = _least_squares(ev)
    fit_errors = np.sqrt(np.clip(np.diag(cov), 0, None))
    values = {c.name: c.value(x) for c, x in zip(ev.coords, u, strict=True)}
    errors = {
        c.name: float(np.log(10.0) * c.value(x) * e) if c.log else float(e)
        for c, x, e in zip(ev.coords, u, fit_errors, strict=True)
    }
    chi2 = {n: float(r @ r) for n, r in ev.residuals(u).items()}
    phis = ev.phis(u)
    return FitResult(
        minimiser=minimiser,
        valid=valid,
        message=message,
        names=[c.name for c in ev.coords],
        coordinates=[c.label for c in ev.coords],
        fit_values=[float(x) for x in u],
        fit_errors=[float(e) for e in fit_errors],
        values=values,
        errors=errors,
        fixed={f"phi.{g}": v for g, v in ev.fixed_phi.items()},
        covariance=cov,
        correlation=_correlation(cov),
        chi2=chi2,
        points=ev.chi2.points(),
        calls=ev.calls,
        solves=len(ev.solve_seconds),
        seconds=time.perf_counter() - t0,
        solve_seconds=list(ev.solve_seconds),
        gradient_evaluations=ev.tangents.evaluations,
        best_config=ev.config_data(ev._config_values(u), phis),
    )


def fit(cfg: Config, comm=None, data: Mapping | None = None, write: bool = True) -> FitResult:
    """Fit ``cfg``'s ``[fit]`` block; with ``write``, rank 0 writes the best fit
    (``best_fit.toml``), ``fit_result.json`` and a residual plot per dataset in
    ``run.output_dir`` (the directory is locked while the fit runs).

    ``data`` replaces datasets by name (mock data)."""
    from petsc4py import PETSc

    from ..io.safety import OutputLock, on_rank0
    from .output import write_fit

    comm = comm or PETSc.COMM_WORLD
    mpi = comm.tompi4py()
    ev = Evaluator(cfg, comm, data)
    out_dir = Path(cfg.run.output_dir)
    lock = OutputLock(out_dir, mpi, cfg.run.name) if write else nullcontext()
    with lock:
        info(
            f"fit {cfg.run.name!r}: {len(ev.coords)} free parameter(s) "
            f"({', '.join(c.label for c in ev.coords) or 'none'}), "
            f"{len(ev.chi2.comparisons)} dataset(s), {cfg.fit.minimiser}"
        )
        result = minimise(ev)
        info(
            f"fit done: chi2 = {result.chi2_total:.4g} for {sum(result.points.values())} points, "
            f"{result.solves} model solves in {result.seconds:.1f} s; {result.message}"
        )
        for name, value in result.values.items():
            info(f"  {name} = {value:.6g} +- {result.errors[name]:.3g}")
        if write:
            paths = on_rank0(
                mpi, write_fit, result, ev, out_dir, context="cannot write the fit results"
            )
            info(f"fit results written: {', '.join(str(p) for p in paths)}")
    return result
