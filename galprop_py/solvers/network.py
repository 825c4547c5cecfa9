"""Steady state of a whole network, normalised to the data.

Species are solved in the network's order (:mod:`galprop_py.network.build`): each after all
its parents, the members of a production cycle (p + p -> d with d -> p) iterated until their
secondary sources settle (relative change below :data:`CYCLE_RTOL`).  A species that feeds
itself alone (tertiary antiprotons) is solved once with that production in its operator
(:class:`~galprop_py.solvers.steady.SelfCoupled`); the limited diffusion scheme, whose
Picard steps take no such operator, iterates it like a cycle.

Normalisation.  The problem is linear in the sources, so every density is a sum of the
responses to groups of sources that are scaled together: the species with their own
``normalize_to`` each form a group, all others the global group of ``[normalization]``.  A
species is solved once for each group that reaches it (its own source's group and its
parents' groups), so a species scaled on its own carries its secondaries with it.  The group
factors f_g are then found from the local fluxes: f_g = F_g / J_g(T_g), with J_g the
modulated (TOA) flux of the group's reference species summed over all groups' responses
(fixed-point iteration; the groups couple only through secondaries).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from ..diagnostics import value_at_point
from ..messages import info, warn
from ..operators.anisotropic_limited import (
    LimiterOptions,
    diffusion_operator,
    limited_operator,
    record_summary,
    summary_line,
)
from ..operators.stencil import MatrixPool
from ..spectra import flux_at, flux_from_density, species_spectrum
from .steady import solve_steady, steady_solver

GLOBAL = "[normalization]"
#: callables ``f(species, solved, total)`` told before and after each species' solve (a
#: progress bar: :func:`galprop_py.cli_info.steady_progress`); ``solved`` counts distinct
#: species done, ``total`` the species of the network
PROGRESS: list = []
CYCLE_RTOL = 1e-7
MAX_SWEEPS = 20
#: solve a species that feeds itself alone (tertiary antiprotons) with that production in
#: its operator (one Krylov solve) instead of sweeps of solves on it as a source.  Full
#: network, 2 ranks: the antiprotons' 57 iterations in 7 sweeps -> see README, Performance
SELF_COUPLING_IN_OPERATOR = True


def _relative_change(old, new, comm) -> float:
    diff = float(np.max(np.abs(new - old))) if new.size else 0.0
    ref = float(np.max(np.abs(new))) if new.size else 0.0
    diff, ref = comm.allreduce(diff, op=MPI.MAX), comm.allreduce(ref, op=MPI.MAX)
    return diff / ref if ref > 0 else diff


def source_group(model, name: str) -> str:
    block = model.blocks.get(name)
    return name if block is not None and block.normalize_to is not None else GLOBAL


@dataclass
class StageTimes:
    """Wall times [s] of one species' steady solve (summed over its source groups)."""

    coefficients_s: float = 0.0
    assembly_s: float = 0.0
    setup_s: float = 0.0
    solve_s: float = 0.0
    iterations: int = 0
    groups: int = 0
    diffusion: dict | None = None  # SpatialDiffusion.diagnostics() of the last solve


def solve_network(
    model, decomp, make_transport, comm, timings=None, after_component=None, known=None
) -> tuple[dict, dict]:
    """Responses ``{species: {group: rank-local density}}`` and solve information per species;
    ``timings`` (a dict) receives a :class:`StageTimes` per species.  ``after_component(names,
    transports, solver, responses)``, if given, is called once a component of the network is
    solved, while its transports and the solver (its preconditioner set up for the last
    species) still exist (forward sensitivities, :mod:`galprop_py.fit.gradients`).

    ``make_transport(species, pool)`` builds a species' :class:`SpeciesTransport` whose
    matrix comes from ``pool`` (a :class:`~galprop_py.operators.stencil.MatrixPool`, or None
    for a matrix of its own); it is destroyed once its component of the network is solved,
    so memory does not grow with the number of species.

    ``known`` (``{species: {group: rank-local density}}``) gives species that are not solved
    again: a component of the network all of whose members are in it takes those responses
    (in the same place of the solve order, so the initial guesses of the species after it
    are the same) and gets no ``after_component`` call; its solve information is None.
    The caller guarantees that they are what a solve would give (the fit's build cache:
    the same config except sources of other species, :mod:`galprop_py.fit.build_once`)."""
    mpi = comm.tompi4py()
    known = known or {}
    # the limited scheme's Picard steps keep the Galerkin multigrid (they refill the matrix
    # from its own stencil arrays, without the transport that rediscretises)
    scheme = getattr(getattr(getattr(model, "cfg", None), "diffusion", None), "scheme", None)
    solver = steady_solver(comm, decomp, rediscretise=scheme != "limited")
    pool = MatrixPool(decomp)
    responses: dict[str, dict[str, np.ndarray]] = {}
    solved: set[str] = set()  # species solved at least once (PROGRESS)
    solve_info: dict = {}
    by_name = {s.name: s for s in model.species}
    try:
        for group in model.network.groups:
            if all(n in known for n in group):
                for n in group:
                    responses[n] = known[n]
                    solve_info[n] = None
                    solved.add(n)
                continue
            transports = {}
            for n in group:
                t0 = time.perf_counter()
                # one shared, refilled matrix, except in a cycle (its members alternate)
                transports[n] = make_transport(by_name[n], None if len(group) > 1 else pool)
                t1 = time.perf_counter()
                transports[n].matrix()
                stage = StageTimes(coefficients_s=t1 - t0, assembly_s=time.perf_counter() - t1)
                if timings is not None:
                    timings[n] = stage
            # a cycle, or a species feeding itself (tertiary antiprotons) that is not solved
            # with its self-production in the operator
            self_fed = any(n in model.network.parents(n) for n in group)
            implicit = (
                SELF_COUPLING_IN_OPERATOR and len(group) == 1 and self_fed and scheme != "limited"
            )
            cyclic = len(group) > 1 or (self_fed and not implicit)
            for sweep in range(MAX_SWEEPS if cyclic else 1):
                change = 0.0
                for name in group:
                    for report in list(PROGRESS):
                        report(name, len(solved), len(model.species))
                    used = solver
                    new = _solve_species(
                        model, decomp, transports[name], used, responses, implicit,
                        last_use=not cyclic and after_component is None,
                    )  # fmt: skip
                    solved.add(name)
                    for report in list(PROGRESS):
                        report(name, len(solved), len(model.species))
                    if timings is not None:
                        st = timings[name]
                        for inf in new["__infos__"]:
                            st.setup_s += inf.setup_s
                            st.solve_s += inf.solve_s
                            st.iterations += inf.iterations
                        st.groups = len(new["__infos__"])
                    new.pop("__infos__")
                    info_s = new.pop("__info__")
                    diffusion = new.pop("__diffusion__")
                    if timings is not None:
                        timings[name].diffusion = diffusion
                    for g, arr in new.items():
                        old = responses.get(name, {}).get(g)
                        if old is not None:
                            change = max(change, _relative_change(old, arr, mpi))
                        elif sweep > 0:
                            change = 1.0
                    responses[name] = new
                    solve_info[name] = info_s
                if cyclic and sweep > 0 and change < CYCLE_RTOL:
                    info(f"  cycle {', '.join(group)}: converged after {sweep + 1} sweeps")
                    break
            else:
                if cyclic:
                    warn(
                        f"cycle {', '.join(group)}: relative change {change:.1e} after "
                        f"{MAX_SWEEPS} sweeps"
                    )
            if after_component is not None:
                after_component(group, transports, used, responses)
            for tr in transports.values():
                tr.destroy()
    finally:
        solver.destroy()
        pool.destroy()
    return responses, solve_info


#: how many previously solved species' densities make a species' initial guess
GUESS_TEMPLATES = 2


def _solve_species(
    model, decomp, transport, solver, responses, implicit=False, last_use=False
) -> dict:
    """The species' responses by source group; ``implicit``: its production from its own
    density goes into the operator (:func:`~galprop_py.solvers.steady.solve_steady`'s
    ``self_coupling``) instead of the source; ``last_use``: nothing uses the transport's
    matrix after the last group's solve (``solve_steady``'s ``last_use``)."""
    sp = transport.species
    coupling = model.self_coupling(sp, decomp) if implicit else None
    own = source_group(model, sp.name)
    has_source = model.blocks[sp.name].abundance > 0 if sp.name in model.blocks else False
    groups = {own} if has_source else set()
    for parent in model.network.parents(sp.name):
        groups.update(responses.get(parent, {}))
    out: dict = {"__infos__": []}
    iterations, t0, last = 0, time.perf_counter(), None
    # diffusion.scheme = "limited": one Picard operator for all the species' source groups
    limiter = limited_operator(transport, solver, LimiterOptions.of(getattr(model, "cfg", None)))
    order = sorted(groups)
    try:
        for i, g in enumerate(order):
            parents = {
                p: r[g] for p, r in responses.items() if g in r and not (implicit and p == sp.name)
            }
            extra = model.secondary_source(sp, parents, decomp)
            if extra is None and g != own:
                continue
            guess = responses.get(sp.name, {}).get(g)  # the previous sweep of a cycle
            # otherwise the last GUESS_TEMPLATES species solved for the same group, scaled
            # per momentum (solvers/guess.py; full-network example on 2 ranks: 527
            # iterations, 3 templates 505, 4 468, at more cost for the fit than they save)
            template = None
            if guess is None:
                found = [r[g] for r in reversed(responses.values()) if g in r]
                template = found[:GUESS_TEMPLATES] or None
            x, last = solve_steady(
                transport, solver, extra, own_source=(g == own and has_source), guess=guess,
                limiter=limiter, template=template, self_coupling=coupling,
                last_use=last_use and i == len(order) - 1,
            )  # fmt: skip
            out[g] = decomp.local_array(x).copy()
            x.destroy()
            iterations += last.iterations
            out["__infos__"].append(last)
    finally:
        if limiter is not None:
            record_summary(transport, limiter)
            limiter.destroy()
    op = diffusion_operator(transport)
    out["__diffusion__"] = {} if op is None else op.diagnostics()
    if last is None:  # nothing reaches it: zero
        out[own] = np.zeros(decomp.box.c_shape + (decomp.dof,))
    else:
        extra_line = summary_line(out["__diffusion__"])
        info(
            f"  {sp.name:>10s}: {iterations} iterations ({len(out) - 2} source group(s)), relative "
            f"residual {last.relative_residual:.2e}, {time.perf_counter() - t0:.2f} s"
            + (f"; {extra_line}" if extra_line else "")
        )
    out["__info__"] = last
    return out


def normalisation_targets(cfg, model, names) -> dict[str, tuple[str, float, float]]:
    """{group: (reference species, T_n [GeV/n], flux)}: the global group of [normalization]
    (if enabled and its species is among ``names``) and every species with its own
    ``normalize_to``."""
    targets = {}
    norm = cfg.normalization
    if norm.enabled and norm.species in names:
        targets[GLOBAL] = (norm.species, norm.t_n_gev, norm.flux)
    for name in names:
        block = model.blocks.get(name)
        if block is not None and block.normalize_to is not None:
            targets[name] = (name, *block.normalize_to)
    return targets


def group_factors(targets, lis, toa_at, no_flux=None) -> dict[str, float]:
    """The factor of every normalisation group that puts each target ``{group: (species,
    T_n [GeV/n], flux)}`` on its flux, all together: ``lis[species][group]`` is the part of
    a species' LIS that the group makes at factor 1, ``toa_at(species, lis, t_n)`` its
    modulated flux at t_n.  The TOA flux is linear in the LIS up to the log-log
    interpolation of the force field, so Newton-like steps with the group's own TOA flux as
    the slope converge in a few steps (to 1e-13).  A target whose group gives no flux at
    its energy calls ``no_flux(species, t_n)`` (which may raise), or keeps factor 1."""
    factors = {g: 1.0 for r in lis.values() for g in r}
    own = {}
    for g, (name, t_n, _flux) in targets.items():
        own[g] = toa_at(name, lis[name][g], t_n) if g in lis[name] else 0.0
        if not own[g] > 0 and no_flux is not None:
            no_flux(name, t_n)
    for _ in range(50):
        worst = 0.0
        for g, (name, t_n, flux) in targets.items():
            if not own[g] > 0:
                continue
            now = toa_at(name, sum(factors.get(h, 1.0) * j for h, j in lis[name].items()), t_n)
            factors[g] = factors.get(g, 1.0) + (flux - now) / own[g]
            worst = max(worst, abs(flux - now) / flux)
        if worst < 1e-13:
            break
    return factors


def normalise(cfg, model, decomp, responses) -> tuple[dict, dict, float, dict]:
    """Group factors from the TOA fluxes at the Sun; returns the normalised rank-local states,
    the Sun's spectra, the global factor and each species' LIS at the Sun by group
    (``{species: {group: factor * LIS}}``, what a fit re-normalises: fit.chi2.LocalSpectra)."""
    from ..run import sun_position

    point = sun_position(cfg)
    phi = cfg.modulation  # a [modulation] block: force field or spherical Parker
    lis: dict[str, dict[str, np.ndarray]] = {}
    for sp in model.species:
        p = model.momentum.momentum(sp)
        lis[sp.name] = {
            g: flux_from_density(sp, p, value_at_point(decomp, arr, point))
            for g, arr in responses[sp.name].items()
        }
    targets = normalisation_targets(cfg, model, list(lis))
    by_name = {s.name: s for s in model.species}

    def toa_at(name, flux_lis, t_n):
        sp = by_name[name]
        return flux_at(species_spectrum(sp, model.momentum.momentum(sp), flux_lis, phi), t_n)

    def no_flux(name, t_n):
        raise ValueError(
            f"normalisation to {name!r} at {t_n} GeV/n: its sources give no flux there"
        )

    factors = group_factors(targets, lis, toa_at, no_flux)

    def combined(name):
        return sum(factors.get(g, 1.0) * j for g, j in lis[name].items())

    for g, (name, t_n, flux) in targets.items():
        if not factors[g] > 0:
            raise ValueError(
                f"normalisation to {name!r}: {flux:g} at {t_n} GeV/n is below what its "
                "parents alone give"
            )
    states = {}
    spectra = {}
    for sp in model.species:
        states[sp.name] = sum(factors.get(g, 1.0) * a for g, a in responses[sp.name].items())
        spectra[sp.name] = species_spectrum(sp, model.momentum.momentum(sp), combined(sp.name), phi)
    groups = {n: {g: factors.get(g, 1.0) * j for g, j in r.items()} for n, r in lis.items()}
    return states, spectra, factors.get(GLOBAL, 1.0), groups
