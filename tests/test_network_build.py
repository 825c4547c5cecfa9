"""The network of a run: species from [network], channels, decays and the solve order."""

from __future__ import annotations

import pytest
from util import slab_config

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.network.build import build_network, solve_groups, species_blocks
from galprop_py.physics.species import species_from_name


def _network_config(**network):
    data = slab_config(n_z=9).model_dump()
    data.pop("species")
    data["network"] = {"z_min": 1, "z_max": 8, **network}
    data["gas"] = {"model": "uniform", "n_h_cm3": 1.0, "f_he": 0.1}
    data["losses"]["spallation"] = True
    return data


def _species(*names):
    return [species_from_name(n) for n in names]


def test_solve_groups_orders_parents_first_and_finds_cycles():
    """A hand-made graph with a 2-cycle (H1 <-> H2), a decay that raises Z at equal A
    (Be10 -> B10) and fragmentation: every component after all components feeding it."""
    sp = _species("C12", "B10", "Be10", "Be9", "H1", "H2", "He4")
    edges = {
        "C12": {"B10", "Be10", "Be9", "He4", "H1"},
        "Be10": {"B10", "Be9"},
        "He4": {"H2", "H1"},
        "H1": {"H2"},
        "H2": {"H1"},
    }
    groups = solve_groups(sp, edges)
    flat = [n for g in groups for n in g]
    assert sorted(flat) == sorted(s.name for s in sp)
    assert {"H1", "H2"} in [set(g) for g in groups]  # the cycle is one component
    pos = {n: i for i, g in enumerate(groups) for n in g}
    for parent, kids in edges.items():
        for kid in kids:
            if pos[parent] != pos[kid]:
                assert pos[parent] < pos[kid], (parent, kid, groups)
    # ready components go heaviest first: C12 first, and Be10 (A = 10) before Be9
    assert groups[0] == ["C12"] and pos["Be10"] < pos["Be9"]


def test_network_species_from_nuclear_data():
    """z_max = 8 with a 1 kyr limit: all stable isotopes H..O plus 10Be and 14C (bare
    half-lives 1.39 Myr and 5.7 kyr); 7Be decays only by electron capture, so it is stable
    as a bare nucleus and is propagated.  Abundances: Lodders (2003) element ratios to H
    split by isotopic fraction (e.g. C/H = 7.079e6 / 2.431e10 by number, C13 1.1% of C)."""
    cfg = config_from_dict(_network_config())
    names = {b.name for b in species_blocks(cfg)}
    expected = {
        "H1", "H2", "He3", "He4", "Li6", "Li7", "Be7", "Be9", "Be10", "B10", "B11",
        "C12", "C13", "C14", "N14", "N15", "O16", "O17", "O18",
    }  # fmt: skip
    assert names == expected
    blocks = {b.name: b for b in species_blocks(cfg)}
    c_over_h = 7.079e6 / 2.431e10  # Lodders 2003, Table 2 (Si = 1e6)
    assert blocks["C12"].abundance + blocks["C13"].abundance == pytest.approx(c_over_h, rel=0.01)
    assert blocks["C13"].abundance / blocks["C12"].abundance == pytest.approx(
        1.1078 / 98.8922, rel=0.01
    )
    assert blocks["Be10"].abundance == 0.0 and blocks["C14"].abundance == 0.0


def test_element_overrides_and_explicit_species():
    """[network.elements.C] sets the element, split by isotopes; an explicit [[species]]
    replaces the network isotope of its name; an override outside z_min..z_max is refused."""
    data = _network_config(elements={"C": {"abundance": 3.0e-3, "injection": {"indices": [2.2]}}})
    data["species"] = [{"name": "O16", "abundance": 0.5}, {"name": "electron", "abundance": 0.01}]
    cfg = config_from_dict(data)
    blocks = {b.name: b for b in species_blocks(cfg)}
    assert blocks["C12"].abundance + blocks["C13"].abundance == pytest.approx(3.0e-3, rel=1e-12)
    assert blocks["C12"].injection.indices == [2.2]
    assert blocks["O16"].abundance == 0.5 and "electron" in blocks
    with pytest.raises(ConfigError, match="network.elements key 'Fe'"):
        config_from_dict(_network_config(elements={"Fe": {"abundance": 1.0}}))
    with pytest.raises(ConfigError, match="Xx"):
        config_from_dict(_network_config(elements={"Xx": {"abundance": 1.0}}))


def test_channels_decays_feed_daughters_and_order():
    """10Be -> 10B and 14C -> 14N are decay channels; C12 -> B11 a fragmentation channel;
    the order solves Be10 before B10 (a decay raises Z at equal A)."""
    net = build_network(config_from_dict(_network_config()))
    kinds = {(ch.parent, child, ch.kind) for child, chs in net.channels.items() for ch in chs}
    assert ("Be10", "B10", "decay") in kinds
    assert ("C14", "N14", "decay") in kinds
    assert ("C12", "B11", "fragmentation") in kinds
    order = [s.name for s in net.species]
    assert order.index("Be10") < order.index("B10")
    assert order.index("C14") < order.index("N14")
    for child, chs in net.channels.items():
        for ch in chs:
            same = any(child in g and ch.parent in g for g in net.groups)
            assert same or order.index(ch.parent) < order.index(child)


def test_long_half_life_limit_folds_short_lived_nuclei():
    """With a 10 Myr limit 10Be and 14C are not propagated: their production goes to 10B and
    14N (cumulative channels: C12 -> Be10 counts for B10)."""
    net = build_network(config_from_dict(_network_config(half_life_min_myr=10.0)))
    names = {s.name for s in net.species}
    assert "Be10" not in names and "C14" not in names
    terms = [t for ch in net.channels["B10"] if ch.parent == "C12" for t in ch.terms]
    assert ((4, 10), 1.0) in terms and ((5, 10), 1.0) in terms


def test_duplicate_species_refused():
    data = slab_config().model_dump()
    data["species"] = [{"name": "H1"}, {"name": "H1"}]
    with pytest.raises(ConfigError, match="'H1' is listed twice"):
        config_from_dict(data)


@pytest.mark.parametrize("model,filename", [
    ("crosec", "xsecs_total_CROSEC_0.1_100_1.1.txt"),
    ("tripathi99", "xsecs_total_Tripathi99_0.1_100_1.1.txt"),
])  # fmt: skip
def test_inelastic_model_key_sets_the_spallation_rate(model, filename):
    """cross_sections.inelastic picks the table: the C12 destruction rate in uniform gas
    without helium is n_H v sigma with sigma the raw table row at the table's nodes
    (read here from the file; 1e-10 relative at 10 nodes)."""
    from pathlib import Path

    import numpy as np

    from galprop_py import units
    from galprop_py.models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
    from galprop_py.physics import kinematics

    data = _network_config()
    data["gas"]["f_he"] = 0.0
    data["momentum"] = {"min": 0.1 * 1.1**10, "max": 0.1 * 1.1**19, "n": 10}
    data["cross_sections"] = {"inelastic": model}
    cfg = config_from_dict(data)
    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    gal = GalaxyModel(cfg, grid, mgrid)
    c12 = gal._by_name["C12"]
    p = mgrid.momentum(c12)
    rate = gal.coefficients(c12).catastrophic.evaluate([np.zeros(1)])[0]
    path = Path(__file__).parents[1] / "galprop_py" / "data" / "nuclear" / filename
    row = next(
        np.array(line.split()[2:], float)
        for line in path.read_text().splitlines()
        if line.split()[:2] == ["6", "12"]
    )
    v = kinematics.velocity_cm_s(p, c12.mass)
    expected = 1.0 * v * row[10:20] * units.MB_CM2 * units.MYR_S
    np.testing.assert_allclose(rate, expected, rtol=1e-10)
