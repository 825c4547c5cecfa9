"""Posterior sampling of a fit's coordinates with emcee, walkers solved on MPI sub-communicators.

The posterior is the fit's own chi^2 (:class:`galprop_py.fit.fitter.Evaluator`, every
dataset on its own axis, potentials re-modulated): log p(u) = -chi^2(u) / 2 inside the
bounds of every coordinate, -inf outside (flat priors in the minimiser's coordinates, i.e.
uniform in log10 of a value for ``log = true`` parameters).  The sampler is emcee's
affine-invariant ensemble (Goodman & Weare 2010, Comm. App. Math. Comp. Sci. 5, 65;
Foreman-Mackey et al. 2013, PASP 125, 306) with its default stretch move.

Parallel evaluation.  emcee is called with ``vectorize = True``: it hands over one half of
the ensemble at a time (the stretch move updates the halves in turn).  The ranks are split
into sub-communicators of ``group_size`` ranks (as in :mod:`galprop_py.fit.scan`);
sub-communicator ``c`` of ``n`` solves the rows ``c, c + n, ...`` of the proposals inside the
bounds (each with its own Evaluator, grids and decomposition built once,
:mod:`galprop_py.fit.build_once`) and every rank receives all chi^2 values
(``allgather``).  Every rank runs the same sampler from the same seed on the same numbers,
so all ranks hold the same chain; it does not depend on how the rows were distributed.

Output (rank 0, ``run.output_dir``): ``chain.h5`` (the chain in the minimiser's coordinates,
``(steps, walkers, ndim)``, its log-probabilities, the acceptance fraction of each walker,
the integrated autocorrelation time of each coordinate), ``posterior.json`` (mean and
standard deviation after the burn-in, in the coordinates and of the values themselves, with
their Monte-Carlo errors std sqrt(tau / N)) and ``posterior_corner.png`` (the one- and
two-dimensional marginals).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Config, ConfigError
from ..messages import info

#: an autocorrelation estimate is reliable when the chain is this many times longer (emcee)
AUTOCORR_FACTOR = 50


def _named(names, values) -> dict:
    """{name: value} for JSON, a non-finite value as null."""
    return {n: (float(v) if np.isfinite(v) else None) for n, v in zip(names, values, strict=True)}


@dataclass
class SamplingResult:
    """An emcee run: the chain (steps, walkers, ndim) in the minimiser's coordinates."""

    names: list[str]
    labels: list[str]
    log: list[bool]
    chain: np.ndarray
    log_prob: np.ndarray
    acceptance: np.ndarray  # (walkers,)
    autocorr: np.ndarray  # (ndim,) integrated autocorrelation time [steps]
    burn_in: int
    seed: int
    evaluations: int = 0  # model chi^2 evaluations (proposals inside the bounds)
    seconds: float = 0.0
    best: np.ndarray = field(default_factory=lambda: np.zeros(0))  # highest log p sampled

    @property
    def samples(self) -> np.ndarray:
        """The chain after the burn-in, walkers merged: (samples, ndim)."""
        return self.chain[self.burn_in :].reshape(-1, self.chain.shape[2])

    @property
    def mean(self) -> np.ndarray:
        return self.samples.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        return self.samples.std(axis=0, ddof=1)

    @property
    def mc_error(self) -> np.ndarray:
        """Monte-Carlo error of the posterior means: std sqrt(tau / (walkers x steps))."""
        steps, walkers = self.chain.shape[0] - self.burn_in, self.chain.shape[1]
        tau = np.maximum(self.autocorr, 1.0)
        return self.std * np.sqrt(tau / (walkers * steps))

    @property
    def autocorr_reliable(self) -> bool:
        steps = self.chain.shape[0] - self.burn_in
        return bool(np.all(np.isfinite(self.autocorr)) and steps > AUTOCORR_FACTOR * np.max(
            self.autocorr, initial=0.0
        ))  # fmt: skip

    def values(self) -> np.ndarray:
        """The samples as parameter values (10^u for log coordinates)."""
        s = self.samples.copy()
        for j, is_log in enumerate(self.log):
            if is_log:
                s[:, j] = 10.0 ** s[:, j]
        return s

    def as_dict(self) -> dict:
        """``posterior.json``."""
        vals = self.values()
        steps, walkers, ndim = self.chain.shape
        return {
            "sampler": "emcee",
            "parameters": self.names,
            "coordinates": self.labels,
            "walkers": walkers,
            "steps": steps,
            "burn_in": self.burn_in,
            "seed": self.seed,
            "samples": int(vals.shape[0]),
            "acceptance_fraction": float(np.mean(self.acceptance)),
            "acceptance_fraction_per_walker": self.acceptance.tolist(),
            "autocorr_steps": _named(self.labels, self.autocorr),
            "autocorr_reliable": self.autocorr_reliable,
            "mean_coordinates": _named(self.labels, self.mean),
            "std_coordinates": _named(self.labels, self.std),
            "mc_error_coordinates": _named(self.labels, self.mc_error),
            "mean": _named(self.names, vals.mean(axis=0)),
            "std": _named(self.names, vals.std(axis=0, ddof=1)),
            "best_sampled_coordinates": dict(zip(self.labels, self.best.tolist(), strict=True)),
            "best_sampled_chi2": float(-2.0 * np.max(self.log_prob)),
            "model_evaluations": self.evaluations,
            "seconds": self.seconds,
            "evaluations_per_second": self.evaluations / self.seconds if self.seconds else 0.0,
        }


class SubcommunicatorMap:
    """chi^2 of rows of coordinates, one evaluator per sub-communicator of ``group_size``
    ranks of ``comm`` (mpi4py, default ``COMM_WORLD``); ``factory(petsc_comm)`` makes the
    evaluator (anything with ``__call__(u) -> chi^2`` that gives the same number on every
    rank of its communicator)."""

    def __init__(self, factory: Callable, group_size: int = 1, comm=None):
        from mpi4py import MPI
        from petsc4py import PETSc

        from ..io.safety import agree

        self.world = comm or MPI.COMM_WORLD
        if group_size < 1 or self.world.size % group_size:
            raise ConfigError(
                f"--group-size {group_size} does not divide the {self.world.size} rank(s) into "
                "equal sub-communicators"
            )
        self.group_size = group_size
        self.n_sub = self.world.size // group_size
        self.color = self.world.rank // group_size
        self.sub = self.world.Split(self.color, self.world.rank)
        self.psub = PETSc.Comm(self.sub)
        self.evaluations = 0  # this sub-communicator's
        self.evaluator = None
        error = None
        try:
            self.evaluator = factory(self.psub)
        except Exception as exc:
            error = exc
        try:
            agree(self.world, error)
        except Exception:
            self.close()
            raise

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """chi^2 of each row (n, ndim) on every rank."""
        from ..io.safety import agree

        rows = np.asarray(rows, float)
        mine, error = {}, None
        try:
            for i in range(self.color, len(rows), self.n_sub):
                chi2 = float(self.evaluator(rows[i]))
                self.evaluations += 1
                if self.sub.rank == 0:
                    mine[i] = chi2
        except Exception as exc:
            error = exc
        # one collective per call: the values and whether anybody failed
        parts = self.world.allgather((mine, error is not None))
        if any(failed for _, failed in parts):
            agree(self.world, error)  # raises the lowest failing rank's error everywhere
        out = np.full(len(rows), np.nan)
        for part, _ in parts:
            for i, chi2 in part.items():
                out[i] = chi2
        return out

    def total_evaluations(self) -> int:
        """Evaluations of all sub-communicators (collective)."""
        return int(self.world.allreduce(self.evaluations if self.sub.rank == 0 else 0))

    def close(self) -> None:
        from ..run import release_petsc_garbage

        if self.sub is None:
            return
        self.evaluator = None
        release_petsc_garbage(self.psub)
        self.sub.Free()
        self.sub = None


def log_probability(chi2_rows: Callable, lower, upper) -> Callable:
    """emcee's vectorised log p: -chi^2 / 2 inside the bounds (only those rows are
    evaluated), -inf outside or where chi^2 is not finite."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)

    def log_p(rows):
        rows = np.atleast_2d(rows)
        inside = np.all((rows >= lower) & (rows <= upper), axis=1)
        out = np.full(len(rows), -np.inf)
        if inside.any():
            chi2 = np.asarray(chi2_rows(rows[inside]), float)
            out[inside] = np.where(np.isfinite(chi2), -0.5 * chi2, -np.inf)
        return out

    return log_p


def start_ball(initial, lower, upper, walkers: int, spread: float, seed: int) -> np.ndarray:
    """Walkers in a Gaussian ball of ``spread`` x range around ``initial``, folded back
    inside the bounds."""
    initial, lower, upper = (np.asarray(a, float) for a in (initial, lower, upper))
    width = upper - lower
    rng = np.random.default_rng(seed)
    pos = initial + spread * width * rng.standard_normal((walkers, initial.size))
    pos = np.where(pos < lower, 2 * lower - pos, pos)
    pos = np.where(pos > upper, 2 * upper - pos, pos)
    return np.clip(pos, lower, upper)


def run_ensemble(log_p: Callable, start: np.ndarray, steps: int, seed: int, progress=True):
    """emcee's ensemble from ``start`` (walkers, ndim) for ``steps`` steps: the sampler."""
    import emcee

    walkers, ndim = start.shape
    sampler = emcee.EnsembleSampler(walkers, ndim, log_p, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    every = max(1, steps // 10)
    t0 = time.perf_counter()
    for k, _ in enumerate(sampler.sample(start, iterations=steps), start=1):
        if progress and (k % every == 0 or k == steps):
            acc = float(np.mean(sampler.acceptance_fraction))
            info(f"  step {k}/{steps}: acceptance {acc:.2f}, {time.perf_counter() - t0:.1f} s")
    return sampler


def autocorrelation(chain: np.ndarray) -> np.ndarray:
    """emcee's integrated autocorrelation time of each coordinate [steps], estimated however
    short the chain is (its reliability: :attr:`SamplingResult.autocorr_reliable`)."""
    from emcee.autocorr import integrated_time

    if chain.shape[0] < 2:
        return np.full(chain.shape[2], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):  # a coordinate no walker moved in
        return np.asarray(integrated_time(chain, tol=0, quiet=True), float)


def sample(
    cfg: Config,
    comm=None,
    group_size: int = 1,
    data=None,
    write: bool = True,
    evaluator_factory: Callable | None = None,
) -> SamplingResult:
    """Sample the posterior of ``cfg``'s ``[fit]`` coordinates with ``[fit.sampling]`` (its
    defaults if the block is absent), walkers starting around the parameters' initial values
    (a best fit's ``best_fit.toml`` starts them at the minimum); with ``write``, rank 0 writes
    the chain, ``posterior.json`` and the corner plot in ``run.output_dir``.

    ``data`` replaces datasets by name (mock data); ``evaluator_factory(petsc_comm)``
    replaces the model's chi^2 (tests)."""
    from mpi4py import MPI

    from ..io.safety import OutputLock, on_rank0
    from .config import SamplingBlock
    from .fitter import Evaluator

    if cfg.fit is None:
        raise ConfigError("the config has no [fit] block: nothing to sample")
    settings = cfg.fit.sampling or SamplingBlock()
    world = comm or MPI.COMM_WORLD
    factory = evaluator_factory or (lambda c: Evaluator(cfg, c, data))
    out_dir = Path(cfg.run.output_dir)
    t0 = time.perf_counter()
    pmap = SubcommunicatorMap(factory, group_size, world)
    try:
        ev = pmap.evaluator
        coords = ev.coords
        lo, hi = ev.bounds()
        if len(coords) == 0:
            raise ConfigError("[fit]: no free parameters to sample")
        if settings.walkers < 2 * len(coords):
            raise ConfigError(
                f"fit.sampling.walkers = {settings.walkers}: emcee needs at least twice the "
                f"{len(coords)} free coordinate(s), i.e. walkers >= {2 * len(coords)}"
            )
        info(
            f"sampling {cfg.run.name!r}: emcee, {settings.walkers} walkers x {settings.steps} "
            f"steps over {', '.join(c.label for c in coords)}; {pmap.n_sub} "
            f"sub-communicator(s) of {group_size} rank(s)"
        )
        start = start_ball(
            ev.initial(), lo, hi, settings.walkers, settings.init_spread, settings.seed
        )
        sampler = run_ensemble(
            log_probability(pmap, lo, hi), start, settings.steps, settings.seed + 1
        )
        chain = sampler.get_chain()
        log_prob = sampler.get_log_prob()
        evaluations = pmap.total_evaluations()
    finally:
        pmap.close()
    k = np.unravel_index(np.argmax(log_prob), log_prob.shape)
    result = SamplingResult(
        names=[c.name for c in coords],
        labels=[c.label for c in coords],
        log=[bool(c.log) for c in coords],
        chain=chain,
        log_prob=log_prob,
        acceptance=np.asarray(sampler.acceptance_fraction, float),
        autocorr=autocorrelation(chain[settings.burn_in :]),
        burn_in=settings.burn_in,
        seed=settings.seed,
        evaluations=evaluations,
        seconds=time.perf_counter() - t0,
        best=chain[k[0], k[1]].copy(),
    )
    info(
        f"sampling done: {evaluations} model evaluations in {result.seconds:.1f} s, "
        f"acceptance {np.mean(result.acceptance):.2f}, autocorrelation "
        f"{', '.join(f'{t:.1f}' for t in result.autocorr)} steps"
        + ("" if result.autocorr_reliable else f" (chain shorter than {AUTOCORR_FACTOR} tau)")
    )
    for j, label in enumerate(result.labels):
        info(f"  {label} = {result.mean[j]:.6g} +- {result.std[j]:.3g}")
    if write:
        with OutputLock(out_dir, world, cfg.run.name):
            paths = on_rank0(
                world, write_sampling, result, cfg, out_dir, context="cannot write the chain"
            )
        info(f"posterior written: {', '.join(str(p) for p in paths)}")
    return result


def write_sampling(result: SamplingResult, cfg: Config, out_dir: Path) -> list[Path]:
    """Rank 0: ``chain.h5``, ``posterior.json``, ``posterior_corner.png``."""
    import h5py

    from .. import __version__

    out_dir.mkdir(parents=True, exist_ok=True)
    h5 = out_dir / "chain.h5"
    tmp = h5.with_name(h5.name + ".tmp")
    summary = result.as_dict()
    with h5py.File(tmp, "w") as f:
        f.attrs["code_version"] = __version__
        f.attrs["config_json"] = json.dumps(cfg.dump())
        f.attrs["parameters"] = json.dumps(result.names)
        f.attrs["coordinates"] = json.dumps(result.labels)
        f.attrs["burn_in"] = result.burn_in
        f.attrs["seed"] = result.seed
        f.attrs["what"] = (
            "emcee chain (steps, walkers, ndim) in the fit's coordinates (log10 for log "
            "parameters); log_prob = -chi^2/2"
        )
        ds = f.create_dataset("chain", data=result.chain)
        ds.attrs["axes"] = json.dumps(["step", "walker", "coordinate"])
        f.create_dataset("log_prob", data=result.log_prob)
        f.create_dataset("acceptance_fraction", data=result.acceptance)
        f.create_dataset("autocorr_steps", data=result.autocorr)
        f.create_dataset("posterior/mean", data=result.mean)
        f.create_dataset("posterior/std", data=result.std)
        f.create_dataset("posterior/mc_error", data=result.mc_error)
        f["posterior"].attrs["summary_json"] = json.dumps(summary)
    os.replace(tmp, h5)
    js = out_dir / "posterior.json"
    tmp = js.with_name(js.name + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, js)
    png = out_dir / "posterior_corner.png"
    plot_corner(result.samples, result.labels, png, marks=result.mean)
    return [h5, js, png]


def plot_corner(samples: np.ndarray, labels: list[str], path: Path, marks=None) -> None:
    """One-dimensional marginals on the diagonal, two-dimensional ones (histograms) below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = samples.shape[1]
    size = max(3.0, 2.2 * n)
    fig = Figure(figsize=(size, size))
    FigureCanvasAgg(fig)
    axes = np.atleast_2d(fig.subplots(n, n, squeeze=False))
    bins = int(np.clip(np.sqrt(samples.shape[0]) / 2, 10, 40))
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(samples[:, j], bins=bins, histtype="step", color="k")
                ax.set_yticks([])
                if marks is not None:
                    ax.axvline(marks[j], color="C0")
            else:
                ax.hist2d(samples[:, j], samples[:, i], bins=bins, cmap="Greys")
                if marks is not None:
                    ax.plot(marks[j], marks[i], "o", color="C0", ms=3)
            if i == n - 1:
                ax.set_xlabel(labels[j], fontsize=8)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(labels[i], fontsize=8)
            elif j > 0:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=6)
    fig.suptitle(f"posterior marginals ({samples.shape[0]} samples)", fontsize=9)
    fig.savefig(path, dpi=100)
