"""The nuclear network of a run: its species, who produces whom, and the solve order.

Species
    With a ``[network]`` block: every isotope of ``z_min..z_max`` that is stable or long-lived
    as a bare nucleus (:func:`galprop_py.network.nuclides.network_nuclides`), with source
    abundances from the named composition split into isotopes by its isotopic fractions and
    scaled per element (``[network.elements.<symbol>]``); explicit ``[[species]]`` blocks
    are added and replace a network isotope of the same name.  Without it: the ``[[species]]``.

Channels (what feeds a child c)
    * fragmentation of a nucleus P of the run on the gas, for each tabulated channel P -> F of
      the chosen production model whose fragment F is c, or is short-lived and decays to c
      (:func:`~galprop_py.network.nuclides.fold`: the table's channel then counts for c with
      the branching of that chain);
    * radioactive decay of a long-lived P of the run whose (folded) decay products include c,
      with the branching of the bare-nucleus decay;
    * explicit ``parents = {P = sigma_mb}`` of a ``[[species]]`` block replace the tabulated
      fragmentation channels of that child (decays still feed it).

Solve order
    Fragmentation lowers A, decays keep it, and a few channels raise it (p + p -> d), so the
    production graph can have cycles.  Its strongly connected components (Tarjan 1972, SIAM
    J. Comput. 1, 146) are solved in a topological order of the component graph, heaviest
    first among the ready ones; the members of a component of more than one species are
    iterated (Gauss-Seidel) until their secondary sources settle.  Every species is thus
    solved after all its parents.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from ..config import Config, SpeciesBlock
from ..messages import info
from ..physics.species import Species, element_symbol, species_from_name

Nuclide = tuple[int, int]


@dataclass(frozen=True)
class Channel:
    """One parent of a child.

    ``kind`` is ``"fragmentation"`` (``terms``: the tabulated fragments folded into the
    child, with the fraction of each that ends in it), ``"decay"`` (``weight``: branching into
    the child) or ``"explicit"`` (``sigma_mb``: a constant cross section on H from the
    config)."""

    parent: str
    kind: str
    terms: tuple[tuple[Nuclide, float], ...] = ()
    weight: float = 1.0
    sigma_mb: float | None = None
    product: str = ""  # "spectral" channels: antiproton, positron, electron or tertiary


@dataclass
class Network:
    species: list[Species]  # in solve order
    blocks: dict[str, SpeciesBlock]
    channels: dict[str, list[Channel]] = field(default_factory=dict)
    groups: list[list[str]] = field(default_factory=list)  # components, in solve order

    def parents(self, name: str) -> set[str]:
        return {ch.parent for ch in self.channels.get(name, [])}


def isotope_name(nuclide: Nuclide) -> str:
    z, a = nuclide
    return f"{element_symbol(z)}{a}"


def _nuclide(sp: Species) -> Nuclide | None:
    if sp.is_lepton or sp.charge <= 0:
        return None
    return (sp.charge, sp.mass_number)


def species_blocks(cfg: Config) -> list[SpeciesBlock]:
    """The run's species blocks: the network's isotopes (if any), then the explicit ones."""
    explicit = (
        list(cfg.species) if (cfg.network is None or "species" in cfg.model_fields_set) else []
    )
    if cfg.network is None:
        return explicit
    from . import composition, nuclides

    net = cfg.network
    try:
        comp = composition.composition(net.composition)
    except (ValueError, OSError) as exc:
        raise ValueError(f"config key network.composition = {net.composition!r}: {exc}") from None
    element_total: dict[int, float] = {}
    for (z, _a), x in comp.items():
        element_total[z] = element_total.get(z, 0.0) + x
    h1 = comp.get((1, 1), 0.0)
    by_name = {b.name: b for b in explicit}
    blocks = []
    for nuc in nuclides.network_nuclides(net.z_min, net.z_max, net.half_life_min_myr):
        name = isotope_name(nuc)
        if name in by_name:
            continue
        z = nuc[0]
        override = net.elements.get(element_symbol(z))
        total = element_total.get(z, 0.0)
        fraction = comp.get(nuc, 0.0) / total if total > 0 else 0.0
        if override is not None and override.abundance is not None:
            element = override.abundance
        else:
            element = total / h1 if h1 > 0 else 0.0
        injection = net.injection
        if override is not None and override.injection is not None:
            injection = override.injection
        blocks.append(
            SpeciesBlock(name=name, abundance=element * fraction, injection=injection.model_copy())
        )
    return blocks + explicit


def _sort_key(sp: Species):
    return (-sp.mass_number, -abs(sp.charge), sp.name)


def solve_groups(species: list[Species], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of the graph ``parent -> children`` (``edges``), in an
    order where every component comes after all components that feed it; among components
    ready at the same time the heaviest (largest A, then Z) goes first."""
    by_name = {s.name: s for s in species}
    names = sorted(by_name, key=lambda n: _sort_key(by_name[n]))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0

    def strongconnect(root: str) -> None:  # iterative Tarjan
        nonlocal counter
        work = [(root, iter(sorted(edges.get(root, ()), key=lambda n: _sort_key(by_name[n]))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for child in it:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    kids = sorted(edges.get(child, ()), key=lambda n: _sort_key(by_name[n]))
                    work.append((child, iter(kids)))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                comps.append(sorted(comp, key=lambda n: _sort_key(by_name[n])))

    for n in names:
        if n not in index:
            strongconnect(n)
    comp_of = {n: i for i, c in enumerate(comps) for n in c}
    indeg = [0] * len(comps)
    succ: list[set[int]] = [set() for _ in comps]
    for parent, kids in edges.items():
        for kid in kids:
            a, b = comp_of[parent], comp_of[kid]
            if a != b and b not in succ[a]:
                succ[a].add(b)
                indeg[b] += 1
    heap = [(_sort_key(by_name[c[0]]), i) for i, c in enumerate(comps) if indeg[i] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, i = heapq.heappop(heap)
        order.append(comps[i])
        for j in succ[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(heap, (_sort_key(by_name[comps[j][0]]), j))
    return order


def build_network(cfg: Config) -> Network:
    """Species, channels and solve order of ``cfg`` (see the module docstring)."""
    from . import cross_sections as xs
    from . import nuclides

    blocks = []
    species = []
    for block in species_blocks(cfg):
        try:
            sp = species_from_name(block.name)
        except ValueError as exc:
            raise ValueError(f"config key species.name = {block.name!r}: {exc}") from None
        if sp.name != block.name:  # an alias ("pbar", "e+"): one name everywhere
            if any(b.name == sp.name for b in blocks):
                raise ValueError(
                    f"config key species.name = {block.name!r}: {sp.name!r} is already a species"
                )
            block = block.model_copy(update={"name": sp.name})
        species.append(sp)
        blocks.append(block)
    block_of = {b.name: b for b in blocks}
    of_nuclide = {_nuclide(s): s.name for s in species if _nuclide(s) is not None}
    limit = cfg.network.half_life_min_myr if cfg.network is not None else 0.0
    channels: dict[str, list[Channel]] = {s.name: [] for s in species}

    # fragmentation: the production table, folded through short-lived fragments
    frag_terms: dict[tuple[str, str], list[tuple[Nuclide, float]]] = {}
    table = xs.production_channels(cfg.cross_sections.production)
    for (proj, frag), _values in table.items():
        parent = of_nuclide.get(proj)
        if parent is None:
            continue
        for target, fraction in nuclides.fold(frag, limit):
            child = of_nuclide.get(target)
            if child is None or child == parent or block_of[child].parents:
                continue
            frag_terms.setdefault((parent, child), []).append((frag, fraction))
    for (parent, child), terms in sorted(frag_terms.items()):
        channels[child].append(Channel(parent, "fragmentation", terms=tuple(terms)))
    # explicit constant cross sections of [[species]] blocks
    for block in blocks:
        for parent, sigma in block.parents.items():
            if parent not in block_of:
                raise ValueError(
                    f"config key species.parents of {block.name!r}: {parent!r} is not a species "
                    "of the run"
                )
            channels[block.name].append(Channel(parent, "explicit", sigma_mb=float(sigma)))
    # radioactive decays of long-lived species
    for sp in species:
        nuc = _nuclide(sp)
        d = nuclides.decay(nuc) if nuc is not None else None
        if d is None or d.mean_life_myr is None:
            continue
        for daughter, branching in d.daughters:
            for target, fraction in nuclides.fold(daughter, limit):
                child = of_nuclide.get(target)
                if child is not None and child != sp.name:
                    channels[child].append(Channel(sp.name, "decay", weight=branching * fraction))
    # secondary antiprotons, positrons and electrons (integrals over the parent spectra)
    from .particles import particle_channels

    for child, chs in particle_channels(cfg, species, Channel).items():
        channels[child].extend(chs)
    edges: dict[str, set[str]] = {}
    for child, chs in channels.items():
        for ch in chs:
            edges.setdefault(ch.parent, set()).add(child)
    groups = solve_groups(species, edges)
    by_name = {s.name: s for s in species}
    ordered = [by_name[n] for g in groups for n in g]
    net = Network(ordered, block_of, channels, groups)
    orphans = [s.name for s in ordered if block_of[s.name].abundance == 0 and not channels[s.name]]
    if orphans:
        info(
            "warning: no source and no production channel for "
            + ", ".join(orphans)
            + f" (production model {cfg.cross_sections.production!r}); they stay zero"
        )
    return net
