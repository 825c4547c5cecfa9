"""A complete run from a config: steady state or time-dependent, then output and plot.

Python API::

    from galprop_py.config import load_config
    from galprop_py.run import run
    result = run(load_config("examples/milky_way/config.toml"))
    result.sun_spectra["H1"]["toa"]
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from . import __version__, checks, stop_signal, units
from .config import Config
from .decomposition import Decomposition
from .diagnostics import value_at_point
from .io.hdf5 import (
    RunIdentity,
    atomic_file,
    dataset_bytes,
    load_checkpoint,
    write_checkpoint,
    write_run_metadata,
)
from .io.safety import OutputLock, on_rank0
from .messages import info
from .models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
from .network.build import species_blocks
from .solvers import TimeIntegrator
from .solvers.network import normalise, solve_network
from .solvers.petsc import set_default_options
from .spectra import (
    element_spectra,
    flux_at,
    flux_from_density,
    ratio_label,
    ratio_spectra,
    scale,
    species_spectrum,
)
from .transport import SpeciesTransport, default_operators


@dataclass
class RunResult:
    config: Config
    decomp: Decomposition
    model: GalaxyModel
    states: dict[str, np.ndarray]  # rank-local densities, normalised
    solve_info: dict = field(default_factory=dict)
    sun_spectra: dict = field(default_factory=dict)
    normalisation: float = 1.0
    #: steady: {species: {normalisation group: its part of the LIS at the Sun}}
    sun_groups: dict = field(default_factory=dict)
    elements: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # steady: StageTimes per species
    emission: object | None = None  # galprop_py.emission.products.EmissionResult ([emission])
    t_myr: float | None = None
    output_file: Path | None = None


def _apply_solver_options(cfg: Config) -> None:
    """Config ``[solver.petsc]`` entries are PETSc options (``steady_ksp_type = "gmres"``);
    the command line still wins because it is already in the database."""
    set_default_options("", {k.lstrip("-"): str(v) for k, v in cfg.solver.petsc.items()})


#: log-momentum step above which leptons do not use the quadratic momentum scheme
COARSE_LN_P_STEP = 0.4


def momentum_scheme(cfg: Config, momentum, species=None) -> str:
    """The momentum scheme of ``species``: ``momentum.scheme``, except for electrons and
    positrons on grids coarser than :data:`COARSE_LN_P_STEP` in ln p (fewer than ~5.7
    points per decade), which take the first-order monotone upwind scheme: there the
    quadratic face values of their steep, loss-shaped spectra make the system indefinite
    (measured: the default model with electrons on 12 momenta did not converge with any
    Krylov solver; upwind took 8 iterations)."""
    scheme = cfg.momentum.scheme
    if species is None or scheme != "quadratic" or not species.is_lepton:
        return scheme
    step = float(np.max(np.diff(np.log(momentum.nodes))))
    return "upwind" if step > COARSE_LN_P_STEP else scheme


def _operators(cfg: Config, momentum=None, species=None):
    scheme = momentum_scheme(cfg, momentum, species) if momentum is not None else None
    return default_operators(
        cfg.momentum.boundary,
        cfg.diffusion.scheme,
        cfg.wind.scheme,
        scheme or cfg.momentum.scheme,
    )


def _coarse_lepton_notice(cfg, model) -> None:
    coarse = [
        s.name
        for s in model.species
        if momentum_scheme(cfg, model.momentum, s) != cfg.momentum.scheme
    ]
    if coarse:
        info(
            f"warning: momentum grid coarser than {COARSE_LN_P_STEP} in ln p: "
            f"{', '.join(coarse)} use momentum.scheme = 'upwind' (first order); give more "
            "momentum points (momentum.n) for the second-order scheme"
        )


def sun_position(cfg: Config):
    geo = cfg.grid.geometry
    s = cfg.sun
    return {
        "slab1d": (s.z_kpc,),
        "spherical1d": (s.r_kpc,),
        "cylindrical2d": (s.r_kpc, s.z_kpc),
        "cartesian3d": (s.r_kpc, 0.0, s.z_kpc),
    }[geo]


def _sun_spectra(cfg, model, decomp, states):
    point = sun_position(cfg)
    out = {}
    for sp in model.species:
        p = model.momentum.momentum(sp)
        lis = flux_from_density(sp, p, value_at_point(decomp, states[sp.name], point))
        out[sp.name] = species_spectrum(sp, p, lis, cfg.modulation)
    return out


def _normalise(cfg, spectra, states) -> float:
    """Time-dependent runs: scale to the measured local (TOA) flux: species with their own
    ``normalize_to`` alone, all others together by [normalization] (the global factor is
    returned).  Steady runs use :func:`galprop_py.solvers.network.normalise`, which also
    carries an own factor to the species' secondaries."""
    own = {b.name: b.normalize_to for b in cfg.species if b.normalize_to is not None}
    norm = cfg.normalization
    factors = {}
    if norm.enabled and norm.species in spectra:
        f = norm.flux / flux_at(spectra[norm.species], norm.t_n_gev)
        factors = {name: f for name in spectra}
    for name, (t_n, flux) in own.items():
        if name in spectra:
            factors[name] = flux / flux_at(spectra[name], t_n)
    for name, f in factors.items():
        states[name] *= f
        scale(spectra[name], f)
    return factors.get(norm.species, 1.0)


class _StopFlag:
    """Set by SIGTERM/SIGUSR1 (SLURM --signal); every rank takes rank 0's decision."""

    def __init__(self):
        # a signal that came before this run could act on it (stop_signal.hold) counts
        self.flag = stop_signal.pending()
        for sig in stop_signal.STOP_SIGNALS:
            try:
                signal.signal(sig, self._handler)
            except (ValueError, OSError):
                pass
        stop_signal.taken()

    def _handler(self, signum, frame):
        self.flag = True

    def agreed(self, comm) -> bool:
        return bool(comm.bcast(self.flag, root=0)) or bool(comm.allreduce(self.flag, op=MPI.LOR))


def run(
    cfg: Config,
    comm=None,
    restart: str | None = None,
    progress: bool = True,
    write_output: bool = True,
) -> RunResult:
    """Solve the model of ``cfg``; write the HDF5 result and the plot unless told not to.

    A run that writes (a result, or the checkpoints of a time-dependent run) holds the lock
    of its output directory (:class:`galprop_py.io.safety.OutputLock`) from start to end;
    requests, grid size, model and free space are checked before anything large is
    allocated (:mod:`galprop_py.checks`).  Every error stops all ranks with one line."""
    comm = comm or PETSc.COMM_WORLD
    mpi = comm.tompi4py()
    checks.check_request(cfg, restart, mpi)
    if not (write_output or cfg.run.mode == "transient"):
        return _run(cfg, comm, restart, progress, write_output)
    with OutputLock(cfg.run.output_dir, mpi, cfg.run.name):
        return _run(cfg, comm, restart, progress, write_output)


def prepare_solve(cfg: Config, mpi) -> None:
    """What every solve of ``cfg`` does before it builds a grid: the config's PETSc options
    into the options database, then the size check (before any grid-sized array)."""
    _apply_solver_options(cfg)
    checks.check_size(cfg, len(species_blocks(cfg)), mpi)


def solve_steady_network(
    cfg: Config, model, decomp, comm, timings=None, after_component=None, known=None
):
    """The steady network solve of a run (:func:`galprop_py.solvers.network.solve_network`
    with the run's operators per species): ``(responses, solve_info)``.  Runs, the fit's
    build-once cache and its sensitivity solves all go through here, so they solve the same
    systems; ``after_component`` is solve_network's hook (the fit's sensitivities), ``known``
    its species that are not solved again (the fit's build cache).

    The stencil arrays are dropped once a species' matrix exists (only its diagonal is
    kept), except for the limited scheme, whose Picard steps refill from them."""
    keep = cfg.diffusion.scheme == "limited"

    def make_transport(sp, pool):
        ops = _operators(cfg, model.momentum, sp)
        return SpeciesTransport(decomp, model.coefficients(sp), ops, pool=pool, keep_system=keep)

    return solve_network(
        model,
        decomp,
        make_transport,
        comm,
        timings=timings,
        after_component=after_component,
        known=known,
    )


def _run(cfg, comm, restart, progress, write_output) -> RunResult:
    mpi = comm.tompi4py()
    if cfg.run.mode == "transient":
        stop = _StopFlag()  # before anything slow
    else:
        stop = None
        stop_signal.release()  # a steady run ends on SIGTERM as Python's default has it
    prepare_solve(cfg, mpi)
    grid = build_spatial_grid(cfg)
    mgrid = build_momentum_grid(cfg)
    model = GalaxyModel(cfg, grid, mgrid)
    decomp = Decomposition(grid, mgrid.n, comm)
    checks.check_model(cfg, model, decomp)
    if write_output or cfg.run.mode == "transient":
        checks.check_disk(cfg, decomp, len(model.species), mpi)
    info(
        f"galprop-py {__version__}, run {cfg.run.name!r}: {grid.geometry} grid {grid.shape} "
        f"x {mgrid.n} momenta, "
        f"{len(model.species)} species, {mpi.size} rank(s), mode {cfg.run.mode}"
    )
    result = RunResult(cfg, decomp, model, {})
    _coarse_lepton_notice(cfg, model)
    transports = {}
    if cfg.run.mode == "steady":
        responses, result.solve_info = solve_steady_network(
            cfg, model, decomp, comm, timings=result.timings
        )
        result.states, result.sun_spectra, result.normalisation, result.sun_groups = normalise(
            cfg, model, decomp, responses
        )
    else:
        transports = {
            sp.name: SpeciesTransport(decomp, model.coefficients(sp), _operators(cfg, mgrid, sp))
            for sp in model.species
        }
        _run_transient(cfg, decomp, model, transports, result, restart, progress, stop)
        result.sun_spectra = _sun_spectra(cfg, model, decomp, result.states)
        result.normalisation = _normalise(cfg, result.sun_spectra, result.states)
    result.elements = element_spectra(result.sun_spectra, model)
    result.ratios = ratio_spectra(result.sun_spectra, result.elements, model)
    if cfg.emission.enabled:
        from .emission.products import compute_emission

        result.emission = compute_emission(cfg, model, decomp, result.states)
    out_dir = Path(cfg.run.output_dir)
    if write_output:
        result.output_file = write_result(out_dir / cfg.output.file, result, mpi)
    for tr in transports.values():
        tr.destroy()
    release_petsc_garbage(comm)
    if write_output and cfg.output.plot:
        png = out_dir / (Path(cfg.output.file).stem + "_spectra.png")
        on_rank0(mpi, _plot, cfg, result, png, context=f"cannot write the plot {str(png)!r}")
        info(f"plot written: {png}")
    if write_output and result.emission is not None:
        _emission_files(cfg, result, mpi)
    return result


def _plot(cfg, result, png: Path) -> None:
    """The local spectra of a result (rank 0 only)."""
    from .plotting import plot_network, plot_spectra

    curves = dict(result.sun_spectra)
    curves.update(result.elements)
    if any(e in result.elements for e in ("B", "C", "O")):
        # a nuclear network: p, He, C, O, B/C and 10Be/9Be on the data's own axes
        curves.update({ratio_label(k): v for k, v in result.ratios.items()})
        plot_network(curves, png, title=cfg.run.name)
        return
    curves.update({ratio_label(k): v for k, v in result.ratios.items()})
    names = [s for s in ("H1", "He4", "electron", "positron") if s in curves]
    ratios = [r for r in ("B/C", "pbar/p", "e+/(e+ + e-)") if r in curves]
    if not names and not ratios:
        names = list(result.sun_spectra)[:4]
    plot_spectra(curves, names, png, ratios=ratios)


def _emission_files(cfg, result, mpi) -> None:
    """The FITS maps beside the result file and, with output.plot, a map PNG (rank 0)."""
    from .emission import products

    em = result.emission
    if em.maps and cfg.emission.fits:
        paths = on_rank0(
            mpi,
            products.write_emission_fits,
            result.output_file,
            em,
            context="cannot write the FITS sky maps",
        )
        info(f"sky maps written: {', '.join(str(p) for p in paths or [])}")
    if em.maps and cfg.output.plot:
        png = result.output_file.with_name(result.output_file.stem + "_map.png")
        done = on_rank0(
            mpi,
            products.plot_emission_map,
            result.output_file,
            em,
            png,
            context=f"cannot write the map plot {str(png)!r}",
        )
        if done is not None:
            info(f"map plot written: {png}")


def release_petsc_garbage(comm) -> None:
    """Destroy unreferenced PETSc objects collectively, now, on every rank.

    Python frees objects at times that differ between ranks (rank 0 does more work, e.g.
    plotting); leaving parallel objects to the garbage collector can deadlock at exit."""
    import gc

    gc.collect()
    PETSc.garbage_cleanup(comm)


def _run_transient(cfg, decomp, model, transports, result, restart, progress, stop):
    mpi = decomp.comm.tompi4py()
    tcfg = cfg.time
    out_dir = Path(cfg.run.output_dir)
    ckpt = out_dir / "checkpoint.h5"
    t = 0.0
    step = 0
    states = {sp.name: np.zeros(decomp.box.c_shape + (decomp.dof,)) for sp in model.species}
    identity = RunIdentity.of_run(
        cfg.dump(), decomp.grid, model.momentum, [sp.name for sp in model.species]
    )
    clock = {}
    if restart:
        ck = load_checkpoint(restart, decomp, mpi, expect=identity)
        if ck.t_myr > tcfg.t_end_myr * (1 + 1e-12):
            raise ValueError(
                f"checkpoint {restart!r} is at t = {ck.t_myr:g} Myr, past time.t_end_myr = "
                f"{tcfg.t_end_myr:g}"
            )
        states.update(ck.states)
        t, step, clock = ck.t_myr, ck.step, ck.clock
        info(f"restarted from {restart} at t = {t:g} Myr (step {step})")
    elif cfg.source.time_profile == "burst":
        for sp in model.species:
            states[sp.name] = transports[sp.name].source() * cfg.source.burst_duration_myr
    vecs = {}
    for name, arr in states.items():
        v = decomp.create_vec()
        with decomp.writable(v) as a:
            a[...] = arr
        vecs[name] = v
    from .operators.anisotropic_limited import LimiterOptions

    limiter = LimiterOptions.of(cfg)
    integrators = {
        sp.name: TimeIntegrator(transports[sp.name], tcfg.dt_myr, tcfg.scheme, limiter=limiter)
        for sp in model.species
    }
    if clock:
        # the same run continues: the integrators' own state (cn-be: the backward-Euler
        # start-up is done) comes from the checkpoint, unless the step or scheme changed
        same = clock.get("scheme") == tcfg.scheme and clock.get("dt_myr") == tcfg.dt_myr
        for integ in integrators.values():
            integ.restore_state(clock if same else {})
        if not same and "steps_done" in clock:
            info(
                f"time step or scheme changed (checkpoint: {clock.get('scheme')}, dt = "
                f"{clock.get('dt_myr')} Myr): the scheme starts again"
            )

    def save_checkpoint():
        states_now = {n: decomp.local_array(v) for n, v in vecs.items()}
        integ_state = next(iter(integrators.values())).state() if integrators else {}
        keep = cfg.output.keep_checkpoints
        write_checkpoint(
            ckpt if keep == 1 else ckpt.with_name("checkpoint.new.h5"),
            decomp,
            states_now,
            t,
            step,
            cfg.dump(),
            mpi,
            identity=identity,
            clock={"dt_myr": float(tcfg.dt_myr), "scheme": tcfg.scheme, **integ_state},
        )
        if keep > 1:
            on_rank0(mpi, rotate_checkpoints, ckpt, keep, context="cannot rotate the checkpoints")

    wall0 = time.time()
    last_ckpt_wall = last_snap_wall = wall0
    stopped = False  # the same on every rank: set only on an agreed stop
    next_ckpt = (t + cfg.output.checkpoint_every_myr) if cfg.output.checkpoint_every_myr else None
    every_snap = cfg.output.snapshot_every_myr
    next_snap = (np.floor(t / every_snap + 1e-9) + 1) * every_snap if every_snap else None
    nsteps = int(np.ceil((tcfg.t_end_myr - t) / tcfg.dt_myr - 1e-9))
    bar = None
    if progress and mpi.rank == 0 and nsteps > 0:
        from tqdm import tqdm

        bar = tqdm(total=nsteps, unit="step", desc="time steps", mininterval=1.0)
    while t < tcfg.t_end_myr - 1e-9 * tcfg.dt_myr:
        dt = min(tcfg.dt_myr, tcfg.t_end_myr - t)
        before = {n: decomp.local_array(v).copy() for n, v in vecs.items()}
        for sp in model.species:
            integ = integrators[sp.name]
            # parents (solved first) are already at t + dt: production enters the step at
            # both time levels, weighted by the scheme (solvers/transient.py)
            now = {n: decomp.local_array(v) for n, v in vecs.items()}
            extra = model.secondary_source(sp, now, decomp)
            extra_old = model.secondary_source(sp, before, decomp)
            saved = integ.dt
            integ.dt = dt
            integ.step(vecs[sp.name], t, extra, extra_old)
            integ.dt = saved
        t += dt
        step += 1
        if bar is not None:
            bar.update(1)
        wall_due = cfg.output.checkpoint_wall_s and (
            mpi.bcast(time.time() - last_ckpt_wall, root=0) >= cfg.output.checkpoint_wall_s
        )
        snap_time_due = next_snap is not None and t >= next_snap - 1e-9
        snap_wall_due = cfg.output.snapshot_wall_s and (
            mpi.bcast(time.time() - last_snap_wall, root=0) >= cfg.output.snapshot_wall_s
        )
        if snap_time_due or snap_wall_due:
            write_snapshot(out_dir, decomp, model, vecs, t, step, cfg)
            last_snap_wall = time.time()
            if snap_time_due:
                next_snap += every_snap
        time_due = next_ckpt is not None and t >= next_ckpt - 1e-9
        stopping = stop.agreed(mpi)
        if wall_due or time_due or stopping:
            save_checkpoint()
            last_ckpt_wall = time.time()
            if time_due:
                next_ckpt += cfg.output.checkpoint_every_myr
            if stopping:
                info(f"signal received: checkpoint written at t = {t:g} Myr; stopping")
                stopped = True
                break
    if bar is not None:
        bar.close()
    if not stopped:
        # a final checkpoint makes chained jobs idempotent: a later "--restart auto" link
        # finds the run complete instead of starting it again
        save_checkpoint()
    result.t_myr = t
    from .solvers.network import StageTimes

    for name, integ in integrators.items():
        result.timings[name] = StageTimes(diffusion=integ.diagnostics())
        integ.destroy()
    for name, v in vecs.items():
        result.states[name] = decomp.local_array(v).copy()
        v.destroy()


def rotate_checkpoints(ckpt: Path, keep: int) -> None:
    """Make the complete ``checkpoint.new.h5`` beside ``ckpt`` the newest checkpoint and keep
    ``keep`` in all: ``checkpoint.<i>.h5`` becomes ``checkpoint.<i+1>.h5`` (the oldest is
    dropped), ``ckpt`` is hard-linked as ``checkpoint.1.h5``, then the new file replaces
    ``ckpt``.  Every step is an atomic rename, so ``ckpt`` always exists and is the newest
    complete checkpoint (rank 0 only)."""
    older = [ckpt.with_name(f"checkpoint.{i}.h5") for i in range(1, keep)]
    for i in range(len(older) - 1, 0, -1):
        if older[i - 1].exists():
            os.replace(older[i - 1], older[i])
    if ckpt.exists():
        tmp = older[0].with_name(older[0].name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(ckpt, tmp)
        except OSError:  # a file system without hard links
            shutil.copy2(ckpt, tmp)
        os.replace(tmp, older[0])
    os.replace(ckpt.with_name("checkpoint.new.h5"), ckpt)


def write_snapshot(out_dir: Path, decomp, model, vecs, t: float, step: int, cfg) -> Path:
    """``<output_dir>/snapshots/t_<t in Myr>.h5``: every species' flux on the whole grid at
    simulated time t (global datasets, same layout as the result file, not normalised)."""
    path = out_dir / "snapshots" / f"t_{t:012.4f}.h5"
    need = dataset_bytes(decomp, len(model.species))
    with atomic_file(path, decomp.comm.tompi4py(), f"the snapshot {str(path)!r}", need) as f:
        write_run_metadata(f, cfg.dump(), "snapshot")
        f.write_attrs("/", {"t_myr": float(t), "step": int(step)})
        for sp in model.species:
            p = model.momentum.momentum(sp)
            flux = flux_from_density(sp, p, decomp.local_array(vecs[sp.name]))
            f.write_distributed(
                f"/species/{sp.name}/flux",
                decomp,
                flux,
                {
                    "unit": units.FLUX_UNIT + " (source units, not normalised)",
                    "axes": ",".join(decomp.grid.axis_names) + ",momentum",
                },
            )
    return path


def write_result(path: Path, result: RunResult, comm) -> Path:
    """The result file, written to ``<path>.tmp`` and renamed when complete: a failure on
    any rank (a full disk) leaves the previous result intact and stops every rank."""
    from .io.scales import label_result

    decomp, model, cfg = result.decomp, result.model, result.config
    need = dataset_bytes(decomp, len(model.species))
    with atomic_file(path, comm, f"the result file {str(path)!r}", need) as f:
        write_run_metadata(f, cfg.dump(), "result")
        f.write_attrs(
            "/",
            {
                "normalisation_factor": result.normalisation,
                "t_myr": -1.0 if result.t_myr is None else result.t_myr,
            },
        )
        for ax in decomp.grid.axes:
            f.write_small(f"/grid/{ax.name}", ax.centers, {"unit": "kpc", "what": "cell centres"})
            f.write_small(f"/grid/{ax.name}_edges", ax.edges, {"unit": "kpc"})
        f.write_attrs(
            "/grid", {"geometry": decomp.grid.geometry, "axes": ",".join(decomp.grid.axis_names)}
        )
        unit = "GeV/n" if model.momentum.axis == "kinetic_energy_per_nucleon" else "GV"
        own = any(b.normalize_to is not None for b in cfg.species)
        normalised = (
            "normalised" if cfg.normalization.enabled or own else "source units, not normalised"
        )
        f.write_small(
            "/momentum/nodes", model.momentum.nodes, {"unit": unit, "axis": model.momentum.axis}
        )
        for sp in model.species:
            g = f"/species/{sp.name}"
            p = model.momentum.momentum(sp)
            f.write_attrs(
                g, {"charge": sp.charge, "mass_number": sp.mass_number, "mass_gev": sp.mass}
            )
            f.write_small(f"{g}/momentum", p, {"unit": "GeV/c", "what": "momentum per particle"})
            f.write_distributed(
                f"{g}/flux",
                decomp,
                flux_from_density(sp, p, result.states[sp.name]),
                {
                    "unit": units.FLUX_UNIT,
                    "axes": ",".join(decomp.grid.axis_names) + ",momentum",
                    "what": "isotropic intensity J(T_n) = v/(4 pi) dn/dT_n, " + normalised,
                },
            )
            _write_local(f, f"{g}/sun", result.sun_spectra[sp.name], cfg, "flux")
        for sym, s in result.elements.items():
            _write_local(f, f"/sun/elements/{sym}", s, cfg, "flux")
        for name, s in result.ratios.items():
            _write_local(f, f"/sun/ratios/{name}", s, cfg, "ratio")
        f.write_attrs("/sun", {"position_kpc": np.asarray(sun_position(cfg), float)})
        # what the diffusion scheme added (monotone) or limited (limited), per species and
        # over all (counts summed, fractions and residuals their maximum)
        per_species = {
            n: st.diffusion for n, st in result.timings.items() if getattr(st, "diffusion", None)
        }
        overall = {"scheme": cfg.diffusion.scheme}
        summed = ("solves", "picard_iterations", "krylov_iterations", "wall_s", "limiter_s")
        for name, diag in per_species.items():
            f.write_attrs(f"/diagnostics/diffusion/{name}", diag)
            for k, v in diag.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    overall[k] = overall.get(k, 0) + v if k in summed else max(overall.get(k, v), v)
        f.write_attrs("/diagnostics/diffusion", overall)
        if result.emission is not None:
            from .emission.products import write_emission

            write_emission(f, decomp, result.emission)
        label_result(f)  # named dimensions and CF units (collective)
    info(f"result written: {path}")
    return path


def _write_local(f, group: str, s: dict, cfg, what: str) -> None:
    """A local spectrum (:mod:`galprop_py.spectra`) on both axes: ``kinetic_energy_per_nucleon``,
    ``rigidity``, ``<what>_lis``, ``<what>_toa`` (per GeV/n for fluxes) and
    ``<what>_lis_rigidity``, ``<what>_toa_rigidity`` (per GV)."""
    flux = what == "flux"
    if cfg.modulation.model == "spherical_parker":
        sp = cfg.modulation.spherical_parker
        modulated = {
            "modulation": "spherical Parker equation (galprop_py.heliosphere.parker)",
            "kappa0_cm2_s": sp.kappa0_cm2_s,
            "v_sw_km_s": sp.v_sw_km_s,
            "r_hp_au": sp.r_hp_au,
        }
    else:
        modulated = {
            "phi_gv": cfg.modulation.phi_gv,
            "modulation": "force field (Gleeson & Axford 1968)",
        }
        if cfg.modulation.phi_negative_gv is not None:
            modulated["phi_negative_gv"] = cfg.modulation.phi_negative_gv
    u_t = units.FLUX_UNIT if flux else "1"
    u_r = units.FLUX_PER_GV_UNIT if flux else "1"
    f.write_small(f"{group}/kinetic_energy_per_nucleon", s["t_n"], {"unit": "GeV/n"})
    f.write_small(f"{group}/rigidity", s["rigidity"], {"unit": "GV"})
    f.write_small(
        f"{group}/{what}_lis", s["lis"], {"unit": u_t, "axis": "kinetic energy per nucleon"}
    )
    f.write_small(
        f"{group}/{what}_toa",
        s["toa"],
        {"unit": u_t, "axis": "kinetic energy per nucleon", **modulated},
    )
    f.write_small(f"{group}/{what}_lis_rigidity", s["lis_r"], {"unit": u_r, "axis": "rigidity"})
    f.write_small(
        f"{group}/{what}_toa_rigidity", s["toa_r"], {"unit": u_r, "axis": "rigidity", **modulated}
    )
