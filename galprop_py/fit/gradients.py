"""d chi^2 / d theta from the linear systems: forward sensitivities of the steady network.

The steady density of a species and source group solves A(theta) psi = S(theta) +
P(theta) psi_parents (:mod:`galprop_py.solvers.network`).  Differentiating,

    A d psi / d theta_i = dS/d theta_i - (dA/d theta_i) psi + P (d psi_parents / d theta_i)
                          + (dP/d theta_i) psi_parents,

one more linear system per free parameter with the *same* matrix: it is solved with the KSP
and preconditioner of the primary solve (kept by ``PCSetReusePreconditioner``, in the
primary solve's momentum scaling of :func:`galprop_py.solvers.steady.scaled_solve`), inside
the network solve (its ``after_component`` hook), species after species, so that
a child's secondary source carries its parents' sensitivities (production is linear in the
parents' densities).  A production cycle is swept until the sensitivities settle
(:data:`~galprop_py.solvers.network.CYCLE_RTOL`).

What is differentiated how:

* dA/d theta, dS/d theta, dP/d theta: central differences of the *assembled* stencil systems
  (:class:`~galprop_py.operators.stencil.StencilSystem`, applied matrix-free to psi), sources
  and production rates of the config at theta +- h (h = :data:`SYSTEM_STEP` of the
  coordinate's range; second-order one-sided differences at a bound).  No solve is involved
  and every config key works (diffusion D0 and delta, v_A, injection indices, abundances,
  gas, cross sections); for a key that enters linearly the difference is exact up to
  rounding.  The tests check them against the analytic derivatives: d A / d ln D0 = A_diff -
  A_reacc (D_pp ~ 1/D0), dS / d a = S / a, dS / d gamma = -ln(R / R_ref) S.  A key of the
  sources only (:func:`_is_source_key`: a species' or a ``network.elements`` element's
  abundance or injection, ``network.injection``) has dA = dP = 0; only the sources of the
  species whose blocks it changes are differenced.
* The rest -- the Sun's value, the normalisation factors f = F / J(T_ref) (which depend on
  theta), the force-field modulation, element sums and ratios, the log-log interpolation at
  the data points -- costs no solve and is differentiated along the sensitivity direction:
  the residuals of the local spectra LIS +- t dLIS (renormalised as the run does, relative
  perturbation t |dLIS| / |LIS| = :data:`TANGENT_STEP`) by central differences, whose own
  error is O(t^2) since that chain is smooth for a fixed potential.
* The force-field potentials: central differences (:data:`PHI_STEP` GV) of the re-modulated
  residuals (no solve).

Checked against central differences of full re-solves (rtol 1e-12, steps 1e-3 of the
ranges): a proton/helium slab agrees to 4e-6 (log D0), 4e-6 (delta), 1e-5 (v_A), 7e-6
(injection index), 5e-8 (He abundance), 3e-5 (phi); a 2D C/B/p network to 2e-6 (log D0),
2e-7 (C abundance), 4e-8 (gas f_He, in A and in the boron production), 9e-6 (phi); a slab
network of Ne, Na, Mg and H1 (residuals, normalised on H1) to 3.5e-6 (log10 of the Ne
element abundance, the differences' own h^2 error) and 1e-10 (Mg abundance, linear).

Cost: one network solve plus one preconditioned solve per parameter and species group
(no new preconditioner), against 2 full runs per parameter for central differences.
Measured (1 rank, busy machine): slab, 4 parameters: 0.27 s against 0.21 s for a plain
solve (x1.3; 21 iterations in 4 sensitivity solves, the primary 5); 2D 33 x 33 network (C12,
B11, B10, H1), 5 parameters: 1.76 s against 0.57 s (x3.1, instead of 10 solves): 20
sensitivity solves of 9 iterations each (as the primary solves) 0.45 s, the systems
assembled at theta +- h 0.32 s, their configs and models 0.12 s.  Memory: the
sensitivities of every species, group and parameter are kept until the solve ends.

Units: derivatives are per unit of the minimiser's coordinate (log10 of the value for
``log = true``).  Steady runs only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from ..diagnostics import value_at_point
from ..solvers.multigrid import MultigridSolver
from ..solvers.network import CYCLE_RTOL, MAX_SWEEPS, normalise, source_group
from ..solvers.steady import momentum_scaling
from ..spectra import flux_from_density
from .chi2 import LocalSpectra

#: step of the assembled systems' differences, relative to the coordinate's range
SYSTEM_STEP = 1e-4
#: largest relative change of any LIS value in the differences of the post-solve chain
TANGENT_STEP = 1e-6
#: step [GV] of the force-field potentials' differences
PHI_STEP = 1e-5
#: config sections whose keys do not enter the production rates (their dP/d theta is 0)
_NO_PRODUCTION = ("diffusion.", "reacceleration.", "wind.", "source.", "losses.")


def _is_source_key(key: str) -> bool:
    """Whether a config key sets only the source blocks of some species (their abundance and
    injection spectrum): ``species.K.abundance``, ``species.K.injection...``,
    ``network.elements.<X>.abundance``, ``network.elements.<X>.injection...``,
    ``network.injection...``.  Neither the systems A nor the production rates P depend on
    it; of the sources only those of the species whose blocks it changes do."""
    parts = key.split(".")
    if parts[0] == "species":
        return len(parts) > 2 and parts[2] in ("injection", "abundance")
    if parts[0] == "network" and len(parts) > 1:
        if parts[1] == "injection":
            return True
        return parts[1] == "elements" and len(parts) > 3 and parts[3] in ("injection", "abundance")
    return False


def _affects_production(key: str) -> bool:
    return not (key.startswith(_NO_PRODUCTION) or _is_source_key(key))


#: keys of a ``[[species]]`` entry that act after the solve (normalisation targets)
_TARGET_KEYS = ("normalize_to",)


def _is_target_key(key: str) -> bool:
    """Whether a config key sets a normalisation target (``[normalization]``, a species'
    ``normalize_to``): no system depends on it."""
    parts = key.split(".")
    return parts[0] == "normalization" or (
        parts[0] == "species" and len(parts) > 2 and parts[2] in _TARGET_KEYS
    )


def _reached_species(derivs) -> set[str] | None:
    """The species whose sources the coordinates of ``derivs`` set (source keys,
    :func:`_is_source_key`: the species whose blocks they change); None when a key reaches
    further (transport, gas, cross sections)."""
    out = set()
    for d in derivs:
        if _is_target_key(d.key):  # acts after the solve
            continue
        if d.sources is None:
            return None
        out |= d.sources
    return out


def _changed_blocks(model, model_p) -> set[str]:
    """The species whose source blocks differ between two models of one network."""
    out = set()
    for name in {*model.blocks, *model_p.blocks}:
        a, b = model.blocks.get(name), model_p.blocks.get(name)
        if (a is None) != (b is None) or (a is not None and a.model_dump() != b.model_dump()):
            out.add(name)
    return out


@dataclass
class Tangents:
    """The local spectra of one parameter point and their derivatives:
    ``dlis[i][species][group]`` = d LIS_group / d u_i (``LocalSpectra.parts``) at fixed
    normalisation factors (the factors' change comes from the renormalisation in
    :func:`galprop_py.fit.jacobian.residual_jacobian`)."""

    local: LocalSpectra
    dlis: list[dict[str, dict[str, np.ndarray]]]
    seconds: float = 0.0
    primary_iterations: int = 0
    sensitivity_iterations: int = 0
    sensitivity_solves: int = 0


# --- finite-difference stencils of the assembled systems --------------------------------------
def _stencil(u: float, h: float, lower: float, upper: float) -> list[tuple[int, float]]:
    """(offset in steps, weight) of a second-order derivative estimate at u."""
    if lower <= u - h and u + h <= upper:
        return [(1, 0.5 / h), (-1, -0.5 / h)]
    if u + 2 * h <= upper:
        return [(0, -1.5 / h), (1, 2.0 / h), (2, -0.5 / h)]
    return [(0, 1.5 / h), (-1, -2.0 / h), (-2, 0.5 / h)]


@dataclass
class _Derivative:
    """How to differentiate the systems by one coordinate: weights of the models at the
    stencil's points (offset 0: the solved model itself)."""

    key: str
    points: list[tuple[object, float]]  # (GalaxyModel or None for the base, weight)
    production: bool
    #: a key of the sources only (:func:`_is_source_key`): the species whose source blocks
    #: it changes (the others have dS = dA = dP = 0); None: any key
    sources: set[str] | None = None


def _same_structure(key, cfg, model, cfg_p, model_p, grid, mgrid) -> None:
    """Refuse a parameter whose change alters what the differences assume fixed."""
    from ..models.galaxy import build_momentum_grid, build_spatial_grid
    from ..run import sun_position
    from ..solvers.network import normalisation_targets

    def refuse(what):
        raise ValueError(
            f"fit.gradient = 'analytic': parameter {key!r} changes {what}, which the "
            "sensitivities hold fixed; use fit.gradient = 'none' for it"
        )

    g = build_spatial_grid(cfg_p)
    if g.geometry != grid.geometry or any(
        not np.array_equal(a.edges, b.edges) for a, b in zip(g.axes, grid.axes, strict=True)
    ):
        refuse("the spatial grid")
    if not np.array_equal(build_momentum_grid(cfg_p).nodes, mgrid.nodes):
        refuse("the momentum grid")
    if sun_position(cfg_p) != sun_position(cfg):
        refuse("the Sun's position")
    names = [s.name for s in model.species]
    if [s.name for s in model_p.species] != names or model_p.network.groups != (
        model.network.groups
    ):
        refuse("the species network")
    # a normalisation target's own value is differentiated without the systems
    # (residual_jacobian); any other key must leave the targets as they are
    if not _is_target_key(key) and normalisation_targets(cfg_p, model_p, names) != (
        normalisation_targets(cfg, model, names)
    ):
        refuse("the normalisation")
    for n in names:
        a, b = model.blocks.get(n), model_p.blocks.get(n)
        if (a is not None and a.abundance > 0) != (b is not None and b.abundance > 0):
            refuse(f"which species have sources ({n})")
    if cfg_p.modulation.phi_gv != cfg.modulation.phi_gv:
        refuse("the run's potential")


def derivatives(ev, u, cfg, model) -> list[_Derivative]:
    """The stencil of every config coordinate of the Evaluator ``ev`` at ``u``."""
    from ..models.galaxy import GalaxyModel

    out = []
    for j, c in enumerate(ev.coords):
        if c.kind != "config":
            continue
        h = SYSTEM_STEP * (c.upper - c.lower)
        points = []
        sources = set() if _is_source_key(c.name) else None
        for off, w in _stencil(float(u[j]), h, c.lower, c.upper):
            if off == 0:
                points.append((None, w))
                continue
            up = np.array(u, float)
            up[j] += off * h
            cfg_p = ev.config_for(ev._config_values(up))
            model_p = GalaxyModel(cfg_p, model.grid, model.momentum)
            _same_structure(c.name, cfg, model, cfg_p, model_p, model.grid, model.momentum)
            points.append((model_p, w))
            if sources is not None:
                sources |= _changed_blocks(model, model_p)
        out.append(_Derivative(c.name, points, _affects_production(c.name), sources))
    return out


def _species(model, name: str):
    return next(s for s in model.species if s.name == name)


def operator_transport(decomp, model, species_name: str, operators):
    """The :class:`~galprop_py.transport.SpeciesTransport` of a species of ``model`` (no
    PETSc matrix is made unless asked for)."""
    from ..transport import SpeciesTransport

    sp = _species(model, species_name)
    return SpeciesTransport(
        decomp, model.coefficients(sp), operators(model.cfg, model.momentum, sp)
    )


def ghosted(decomp, local: np.ndarray) -> np.ndarray:
    """A rank-local array with its DMDA ghost layer (for ``StencilSystem.apply_local``)."""
    v = decomp.create_vec()
    with decomp.writable(v) as a:
        a[...] = local
    out = decomp.halo_exchange(v)
    v.destroy()
    return out


def differentiated_terms(
    dec, deriv: _Derivative, transport, model, operators, psis: dict, parents: dict, own_group
) -> dict[str, np.ndarray]:
    """Per source group g: dS/du - (dA/du) psi_g + (dP/du) psi_parents of one species for one
    coordinate, from the differences of the systems assembled at the stencil's points
    (rank-local arrays).  ``psis[g]``: psi_g with its ghost layer (:func:`ghosted`);
    ``parents[g]``: the parents' densities of group g; ``own_group``: the group of the
    species' own source (None without one)."""
    name = transport.species.name
    rhs = {g: np.zeros(transport.decomp.box.c_shape + (dec.dof,)) for g in psis}
    # a source key (deriv.production False): dA = dP = 0, and dS = 0 but for its species
    source_only = deriv.sources is not None
    if source_only and (own_group not in rhs or name not in deriv.sources):
        return rhs
    for m, w in deriv.points:
        tr = transport if m is None else operator_transport(dec, m, name, operators)
        system = None if source_only else tr.system()
        src = tr.source() if own_group is not None else None
        for g, psi_g in psis.items():
            if system is not None:
                rhs[g] -= w * system.apply_local(psi_g)
            if src is not None and g == own_group:
                rhs[g] += w * src
            if deriv.production and parents.get(g):
                pm = model if m is None else m
                q = pm.secondary_source(_species(pm, name), parents[g], dec)
                if q is not None:
                    rhs[g] += w * q
        if m is not None:
            tr.destroy()
    return rhs


# --- the sensitivity solves (a hook of solve_network) -----------------------------------------
class _Sensitivities:
    """``after_component`` of :func:`solve_network`: the sensitivities of every species and
    group, ``self.d[species][group][i]`` (rank-local arrays)."""

    def __init__(self, model, decomp, derivs: list[_Derivative], operators):
        self.model, self.decomp, self.derivs, self.operators = model, decomp, derivs, operators
        self.d: dict[str, dict[str, list[np.ndarray]]] = {}
        self.iterations = 0
        self.solves = 0
        self.seconds = 0.0

    def _terms(self, name, transport, responses):
        """Per group: (primary rhs, [rhs_i without the parents' sensitivities])."""
        model, dec = self.model, self.decomp
        sp = transport.species
        own = source_group(model, name)
        block = model.blocks.get(name)
        has_source = block is not None and block.abundance > 0
        groups = sorted(responses[name])
        out = {}
        for g in groups:
            psi = responses[name][g]
            parents = {p: r[g] for p, r in responses.items() if g in r}
            primary = transport.source() if (g == own and has_source) else np.zeros(psi.shape)
            extra = model.secondary_source(sp, parents, dec)
            if extra is not None:
                primary = primary + extra
            out[g] = (primary, [], ghosted(dec, psi), parents)
        psis = {g: out[g][2] for g in groups}
        parents = {g: out[g][3] for g in groups}
        own_group = own if has_source else None
        for d in self.derivs:  # one derivative's systems at a time
            rhs = differentiated_terms(
                dec, d, transport, model, self.operators, psis, parents, own_group
            )
            for g in groups:
                out[g][1].append(rhs[g])
        return {g: (primary, fixed) for g, (primary, fixed, _, _) in out.items()}

    def __call__(self, group, transports, solver, responses):
        t0 = time.perf_counter()
        model, dec = self.model, self.decomp
        mpi = dec.comm.tompi4py()
        terms = {n: self._terms(n, transports[n], responses) for n in group}
        cyclic = len(group) > 1 or any(n in model.network.parents(n) for n in group)
        # the preconditioner is set up for the last solve of the network: the last member's
        # last group (in sorted order), in that group's momentum scaling
        last = group[-1]
        pc_for = (last, sorted(responses[last])[-1]) if responses[last] else None
        for sweep in range(MAX_SWEEPS if cyclic else 1):
            change = 0.0
            for n in group:
                sp = transports[n].species
                new = {}
                order = sorted(terms[n], key=lambda g, n=n: (n, g) != pc_for)
                for g in order:
                    primary, fixed = terms[n][g]
                    rhs = []
                    for i, base in enumerate(fixed):
                        dpar = {p: r[g][i] for p, r in self.d.items() if g in r and p != n}
                        if n in self.d and g in self.d[n]:
                            dpar[n] = self.d[n][g][i]  # a species feeding itself
                        q = model.secondary_source(sp, dpar, dec) if dpar else None
                        rhs.append(base if q is None else base + q)
                    new[g] = self._solve(
                        transports[n], solver, primary, rhs, reuse=(n, g) == pc_for
                    )
                    pc_for = (n, g)
                    for i, arr in enumerate(new[g]):
                        old = self.d.get(n, {}).get(g)
                        if old is not None:
                            diff = float(np.max(np.abs(arr - old[i]), initial=0.0))
                            ref = float(np.max(np.abs(arr), initial=0.0))
                            diff = mpi.allreduce(diff, op=MPI.MAX)
                            ref = mpi.allreduce(ref, op=MPI.MAX)
                            change = max(change, diff / ref if ref > 0 else diff)
                        elif sweep > 0:
                            change = 1.0
                self.d[n] = new
            if not cyclic or (sweep > 0 and change < CYCLE_RTOL):
                break
        self.seconds += time.perf_counter() - t0

    def _solve(self, transport, solver, primary, rhs_list, reuse: bool) -> list[np.ndarray]:
        """Solve A x = rhs for each rhs in the primary solve's momentum scaling; ``reuse``:
        keep the preconditioner already set up for this matrix and scaling."""
        dec = self.decomp
        mpi = dec.comm.tompi4py()
        basis = primary
        if mpi.allreduce(not np.any(primary), op=MPI.LAND):  # the primary solve was skipped
            basis = sum((np.abs(r) for r in rhs_list), np.zeros(primary.shape))
            reuse = False
            if mpi.allreduce(not np.any(basis), op=MPI.LAND):
                return [np.zeros(primary.shape) for _ in rhs_list]
        mat = transport.matrix()
        scale = momentum_scaling(dec, basis, transport.diagonal())
        left, right, b, x = (dec.create_vec() for _ in range(4))
        with dec.writable(left) as a:
            a[...] = 1.0 / scale
        with dec.writable(right) as a:
            a[...] = scale
        mat.diagonalScale(left, right)
        pc = solver.ksp.getPC()
        out = []
        try:
            pc.setReusePreconditioner(bool(reuse))
            if isinstance(solver, MultigridSolver):  # coarse levels rediscretised, as in run()
                solver.prepare_levels(transport, scale, mat)
            solver.set_operator(mat)
            for rhs in rhs_list:
                with dec.writable(b) as a:
                    a[...] = rhs / scale
                x.set(0.0)
                info = solver.solve(b, x, what=f"sensitivity of species {transport.species.name}")
                self.iterations += info.iterations
                self.solves += 1
                out.append(dec.local_array(x).copy() * scale)
        finally:
            pc.setReusePreconditioner(False)
            left.reciprocal()
            right.reciprocal()
            mat.diagonalScale(left, right)
            for v in (left, right, b, x):
                v.destroy()
        return out


# --- one solve with sensitivities -------------------------------------------------------------
def solve_tangents(ev, u) -> Tangents:
    """The network solve of the Evaluator ``ev``'s model at minimiser coordinates ``u`` and
    the sensitivities of its local spectra to every config coordinate (every rank gets rank
    0's numbers).  With the Evaluator's build cache (:mod:`galprop_py.fit.build_once`) the
    grids, decomposition and parameter-independent model parts are reused, and the objects
    alive before the solve are left out of its garbage collections."""
    from .build_once import frozen_heap

    with frozen_heap():
        return _solve_tangents(ev, u)


def _solve_tangents(ev, u) -> Tangents:
    from .. import checks
    from ..decomposition import Decomposition
    from ..models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
    from ..run import (
        RunResult,
        _operators,
        prepare_solve,
        release_petsc_garbage,
        solve_steady_network,
        sun_position,
    )

    t0 = time.perf_counter()
    comm = ev.comm
    mpi = comm.tompi4py()
    cfg = ev.config_for(ev._config_values(u))
    if cfg.run.mode != "steady":
        raise ValueError(
            f"fit.gradient = 'analytic' needs run.mode = 'steady' (not {cfg.run.mode!r}); "
            "use fit.gradient = 'none'"
        )
    checks.check_request(cfg, None, mpi)
    prepare_solve(cfg, mpi)
    build = getattr(ev, "build", None)
    if build is not None:
        grid, mgrid, decomp = build.grids(cfg)
        model = build.model(cfg, grid, mgrid)
    else:
        grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
        model = GalaxyModel(cfg, grid, mgrid)
        decomp = Decomposition(grid, mgrid.n, comm)
    checks.check_model(cfg, model, decomp)
    derivs = derivatives(ev, u, cfg, model)
    hook = _Sensitivities(model, decomp, derivs, _operators)
    timings: dict = {}
    # species that no free parameter reaches and that the cache's last solve left as they
    # are: not solved again, their sensitivities are 0
    reached = _reached_species(derivs)
    if build is not None and reached is not None:
        responses, solve_info = build.solve_network(
            cfg, model, decomp, reached, timings=timings, after_component=hook
        )
    else:
        responses, solve_info = solve_steady_network(
            cfg, model, decomp, comm, timings=timings, after_component=hook
        )
    states, spectra, norm, groups = normalise(cfg, model, decomp, responses)
    local = LocalSpectra.from_result(
        RunResult(cfg, decomp, model, states, solve_info, spectra, norm, sun_groups=groups)
    )
    point = sun_position(cfg)
    dlis: list[dict[str, dict[str, np.ndarray]]] = [{} for _ in derivs]
    for sp in model.species:
        p = model.momentum.momentum(sp)
        for g, a in responses[sp.name].items():
            # the group's part of the LIS is its factor times its response
            raw = flux_from_density(sp, p, value_at_point(decomp, a, point))
            den = float(raw @ raw)
            factor = float(local.parts[sp.name][g] @ raw) / den if den > 0 else 1.0
            d = hook.d.get(sp.name, {}).get(g)
            for i in range(len(derivs)):
                dlis[i].setdefault(sp.name, {})[g] = (
                    factor * flux_from_density(sp, p, value_at_point(decomp, d[i], point))
                    if d is not None
                    else np.zeros(p.size)
                )
    primary_its = sum(st.iterations for st in timings.values())
    del states, responses, hook.d
    release_petsc_garbage(comm)
    local.parts = mpi.bcast(local.parts, root=0)
    dlis = mpi.bcast(dlis, root=0)
    return Tangents(
        local,
        dlis,
        seconds=time.perf_counter() - t0,
        primary_iterations=primary_its,
        sensitivity_iterations=hook.iterations,
        sensitivity_solves=hook.solves,
    )


__all__ = [
    "PHI_STEP",
    "SYSTEM_STEP",
    "TANGENT_STEP",
    "Tangents",
    "derivatives",
    "differentiated_terms",
    "ghosted",
    "operator_transport",
    "solve_tangents",
]
