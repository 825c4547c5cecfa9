"""Build once per fit or scan group what the varied parameters do not change.

A fit or a scan solves the same model many times with different transport, source or
modulation parameters.  :func:`galprop_py.run.run` builds everything afresh each time; a
:class:`BuildCache` (one per evaluator, i.e. per MPI sub-communicator) keeps

* the spatial and momentum grids, keyed on ``[grid]`` and ``[momentum]``;
* the domain decomposition (the PETSc DMDA) on the cache's communicator, same key;
* the secondary-production rates of every network channel (fragmentation cross sections
  times velocity, the spectral matrices of antiprotons and leptons, decays:
  :class:`galprop_py.operators.production.SecondaryProduction`) and
* the neutral-gas density on the coordinates asked for (cell centres, faces),

keyed on the *model* part of the config: the whole config except the blocks and keys that
only the transport, the sources, the normalisation and the modulation read
(:data:`VARIABLE_BLOCKS`, :data:`VARIABLE_SPECIES_KEYS`, :data:`VARIABLE_NETWORK_KEYS`).
Any other change (gas, cross sections, losses, the Sun, species list) is a different key
and is built anew, so a cache hit can never return something the config changed.  The
network itself (species order, blocks with abundances and injection spectra, channels) is
rebuilt per solve: it is cheap (milliseconds) and the blocks carry the varied source
parameters.

Garbage collection.  Each solve ends with a full ``gc.collect()`` on every rank before the
collective destruction of PETSc objects (:func:`galprop_py.run.release_petsc_garbage`).  With
the ~1.6e5 objects of the imported packages that collection took 0.116 s, ~90 % of a
solve of the closure fit's model (17 cells x 24 momenta).  The cache freezes the objects that
exist before a solve (``gc.freeze()``: moved out of the collector's generations, so the
collection at the end looks only at what the solve made) and unfreezes them afterwards
(both O(1) list splices; nothing is left frozen, cyclic garbage from before is collected by
the next collection).

Species that did not change are not solved again.  The cache keeps the responses of its
last steady solve.  When the next config differs from it only in the sources of some
species (``[[species]]`` ``abundance`` / ``injection``, the sources that
``network.elements`` and ``network.injection`` give the network's isotopes, and
``normalize_to`` values, which act after the solve) and in blocks that act after the solve
(:data:`POST_SOLVE_BLOCKS`), only those species and everything they feed through the
network are solved; the others take the kept responses
(:func:`galprop_py.solvers.network.solve_network`'s ``known``).  A fit of the electrons'
injection in the default model solves the electrons (and nothing made from them) instead of
22 species; the responses kept cost one copy of the densities (kept only up to
:data:`KEEP_RESPONSES_BYTES` per rank).

Only steady runs are solved here; a transient config goes to :func:`galprop_py.run.run`
unchanged (still inside the freeze).  Nothing is written (``write_output = False``), which is
how fits and scans run.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI

from ..config import Config

#: config blocks that only the transport, the sources, the normalisation, the modulation and
#: the bookkeeping read: changing them keeps every cached object
VARIABLE_BLOCKS = (
    "diffusion",
    "reacceleration",
    "wind",
    "source",
    "normalization",
    "modulation",
    "run",
    "output",
    "solver",
    "time",
    "fit",
    "emission",
)
#: keys of a ``[[species]]`` entry that only its source and normalisation read
VARIABLE_SPECIES_KEYS = ("abundance", "injection", "normalize_to")
#: keys of ``[network]`` that only the sources of its isotopes read (their blocks)
VARIABLE_NETWORK_KEYS = ("injection", "elements")
#: the last solve's responses are kept only up to this size per rank [bytes] (2D networks:
#: a few MB; a 3D network of many species would double its densities' memory)
KEEP_RESPONSES_BYTES = 512e6
#: blocks that act only after the steady solve (normalisation, modulation, emission, what is
#: written): a change there keeps every species' response
POST_SOLVE_BLOCKS = ("normalization", "modulation", "output", "fit", "emission")


def _solve_dump(cfg: Config) -> dict:
    """What the steady responses depend on: the config without :data:`POST_SOLVE_BLOCKS`,
    the run block's mode only, and of ``normalize_to`` only whether it is set (it makes a
    species its own normalisation group).  With a ``[network]``, ``species`` lists the
    blocks of every species of the run (:func:`galprop_py.network.build.species_blocks`:
    the isotopes with the sources that ``network.injection`` and ``network.elements`` give
    them, then the explicit ones), and those two keys are left out of ``network``: a change
    of an element's source is a change of its isotopes' sources."""
    data = copy.deepcopy(cfg.dump())
    for block in POST_SOLVE_BLOCKS:
        data.pop(block, None)
    data["run"] = {"mode": data.get("run", {}).get("mode")}
    if cfg.network is not None:
        from ..network.build import species_blocks

        for key in VARIABLE_NETWORK_KEYS:
            data["network"].pop(key, None)
        data["species"] = [b.model_dump(mode="json") for b in species_blocks(cfg)]
    for sp in data.get("species", []):
        sp["normalize_to"] = sp.get("normalize_to") is not None
    return data


def changed_sources(old: dict, new: dict) -> set[str] | None:
    """The species whose ``[[species]]`` entries differ between two :func:`_solve_dump`
    dumps, if nothing else differs; None otherwise."""
    a, b = dict(old), dict(new)
    sa, sb = a.pop("species", []), b.pop("species", [])
    if a != b or [s.get("name") for s in sa] != [s.get("name") for s in sb]:
        return None
    return {x["name"] for x, y in zip(sa, sb, strict=True) if x != y}


def fed_by(model, names: set[str]) -> set[str]:
    """``names`` and every species of ``model`` that they feed, directly or not."""
    out, todo = set(names), list(names)
    children: dict[str, list[str]] = {}
    for sp in model.species:
        for parent in model.network.parents(sp.name):
            children.setdefault(parent, []).append(sp.name)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _digest(data) -> str:
    text = json.dumps(data, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def model_key(cfg: Config) -> str:
    """The digest of what the cached production rates and gas densities depend on."""
    data = copy.deepcopy(cfg.dump())
    for block in VARIABLE_BLOCKS:
        data.pop(block, None)
    for sp in data.get("species", []):
        for key in VARIABLE_SPECIES_KEYS:
            sp.pop(key, None)
    if data.get("network") is not None:
        for key in VARIABLE_NETWORK_KEYS:
            data["network"].pop(key, None)
    return _digest(data)


def grid_key(cfg: Config) -> str:
    """The digest of ``[grid]`` and ``[momentum]`` (grids and decomposition)."""
    data = cfg.dump()
    return _digest({"grid": data["grid"], "momentum": data["momentum"]})


def _coords_digest(coords) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for c in coords:
        a = np.ascontiguousarray(c, dtype=float)
        digest.update(repr(a.shape).encode())
        digest.update(a.tobytes())
    return digest.digest()


@dataclass
class _ModelParts:
    """What models of one :func:`model_key` share."""

    rates: dict = field(default_factory=dict)  # SecondaryProduction._rates: child -> rates
    gas: dict = field(default_factory=dict)  # coords digest -> read-only n_H [cm^-3]


@dataclass
class CacheStats:
    solves: int = 0
    species_solved: int = 0  # species solved (not taken from the last solve)
    species_reused: int = 0
    grid_builds: int = 0
    model_builds: int = 0
    seconds: list[float] = field(default_factory=list)


@contextmanager
def frozen_heap():
    """Objects that exist now are left out of garbage collections until the block ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class BuildCache:
    """Steady solves of configs that differ in transport/source/modulation parameters on one
    PETSc communicator, reusing grids, decomposition, production rates and gas densities.

    :meth:`solve` returns what :func:`galprop_py.run.run` (``write_output=False``) returns,
    to round-off (the tests compare chi^2 to 1e-12)."""

    def __init__(self, comm=None, max_models: int = 4, keep_bytes: float = KEEP_RESPONSES_BYTES):
        from petsc4py import PETSc

        self.comm = comm or PETSc.COMM_WORLD
        self.max_models = max_models
        self.keep_bytes = keep_bytes
        self._grids: dict[str, tuple] = {}  # grid key -> (grid, mgrid, decomp)
        self._models: dict[str, _ModelParts] = {}
        self._last: tuple[dict, dict] | None = None  # (_solve_dump, responses) of the last solve
        self.stats = CacheStats()

    def grids(self, cfg: Config):
        """(spatial grid, momentum grid, Decomposition) of ``cfg``, built once per key."""
        from ..decomposition import Decomposition
        from ..models.galaxy import build_momentum_grid, build_spatial_grid

        key = grid_key(cfg)
        hit = self._grids.get(key)
        if hit is None:
            if len(self._grids) >= self.max_models:
                self._grids.pop(next(iter(self._grids)))  # its DMDA: collected, destroyed
            grid = build_spatial_grid(cfg)
            mgrid = build_momentum_grid(cfg)
            hit = (grid, mgrid, Decomposition(grid, mgrid.n, self.comm))
            self._grids[key] = hit
            self.stats.grid_builds += 1
        return hit

    def _parts_for(self, cfg: Config) -> _ModelParts:
        key = model_key(cfg) + grid_key(cfg)
        parts = self._models.get(key)
        if parts is None:
            if len(self._models) >= self.max_models:
                self._models.pop(next(iter(self._models)))
            parts = self._models[key] = _ModelParts()
            self.stats.model_builds += 1
        return parts

    def model(self, cfg: Config, grid, mgrid):
        """A :class:`~galprop_py.models.galaxy.GalaxyModel` of ``cfg`` sharing the cached
        production rates and gas densities."""
        from ..models.galaxy import GalaxyModel

        parts = self._parts_for(cfg)

        class SharedModel(GalaxyModel):
            def gas_density(self, coords):
                key = _coords_digest(coords)
                hit = parts.gas.get(key)
                if hit is None:
                    hit = np.asarray(GalaxyModel.gas_density(self, coords), float)
                    hit.setflags(write=False)
                    parts.gas[key] = hit
                return hit

        model = SharedModel(cfg, grid, mgrid)
        model.production._rates = parts.rates
        return model

    def _known_responses(self, dump: dict, model, must_solve: set[str] | None) -> dict:
        """The last solve's responses of the species that a config (its :func:`_solve_dump`)
        leaves as they were: not among the species whose sources changed, nor
        ``must_solve``, nor fed by either."""
        if self._last is None:
            return {}
        last, responses = self._last
        changed = changed_sources(last, dump)
        if changed is None:
            return {}
        solve = fed_by(model, changed | (must_solve or set()))
        return {n: r for n, r in responses.items() if n not in solve}

    def solve_network(self, cfg: Config, model, decomp, must_solve=None, **kw):
        """:func:`galprop_py.run.solve_steady_network` of ``cfg`` that takes the species
        :meth:`_known_responses` leaves from the last solve, and keeps this one's responses
        for the next (``kw``: its ``timings``, ``after_component``)."""
        from ..run import solve_steady_network

        dump = _solve_dump(cfg)
        known = self._known_responses(dump, model, must_solve)
        self._last = None  # its arrays are not needed beyond ``known``
        responses, solve_info = solve_steady_network(
            cfg, model, decomp, self.comm, known=known, **kw
        )
        size = sum(a.nbytes for groups in responses.values() for a in groups.values())
        if self.comm.tompi4py().allreduce(size, op=MPI.MAX) <= self.keep_bytes:
            self._last = (dump, responses)
        self.stats.species_reused += len(known)
        self.stats.species_solved += len(responses) - len(known)
        return responses, solve_info

    def solve(self, cfg: Config):
        """The steady solve of ``cfg`` (a :class:`galprop_py.run.RunResult`, nothing
        written)."""
        from .. import checks
        from ..run import (
            RunResult,
            _coarse_lepton_notice,
            prepare_solve,
            release_petsc_garbage,
            run,
        )
        from ..solvers.network import normalise
        from ..spectra import element_spectra, ratio_spectra

        t0 = time.perf_counter()
        with frozen_heap():
            if cfg.run.mode != "steady":
                result = run(cfg, comm=self.comm, progress=False, write_output=False)
                self.stats.seconds.append(time.perf_counter() - t0)
                return result
            mpi = self.comm.tompi4py()
            checks.check_request(cfg, None, mpi)
            prepare_solve(cfg, mpi)
            grid, mgrid, decomp = self.grids(cfg)
            model = self.model(cfg, grid, mgrid)
            checks.check_model(cfg, model, decomp)
            result = RunResult(cfg, decomp, model, {})
            _coarse_lepton_notice(cfg, model)
            responses, result.solve_info = self.solve_network(
                cfg, model, decomp, timings=result.timings
            )
            states, spectra, factor, groups = normalise(cfg, model, decomp, responses)
            result.states, result.sun_spectra = states, spectra
            result.normalisation, result.sun_groups = factor, groups
            del responses
            result.elements = element_spectra(result.sun_spectra, model)
            result.ratios = ratio_spectra(result.sun_spectra, result.elements, model)
            if cfg.emission.enabled:
                from ..emission.products import compute_emission

                result.emission = compute_emission(cfg, model, decomp, result.states)
            release_petsc_garbage(self.comm)
        self.stats.solves += 1
        self.stats.seconds.append(time.perf_counter() - t0)
        return result

    def clear(self) -> None:
        """Drop every cached object (the DMDAs are destroyed at the next collection)."""
        self._grids.clear()
        self._models.clear()
        self._last = None
