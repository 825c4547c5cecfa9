"""Nuclear data of the network: decays, compositions, cross sections by name, helium target.

Every number below is a value quoted by an evaluation or a paper, a value read by eye from
the raw data files, or a value worked out by hand from a published formula; each check
states its tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py.network import composition as comp
from galprop_py.network import cross_sections as xs
from galprop_py.network import nuclides as nu
from galprop_py.physics import cross_sections as tables

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

LN2 = math.log(2.0)
DAY_MYR = 1e-6 / 365.25


# ----------------------------------------------------------------------------------------
# decay table
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "nuclide, half_life_myr, tolerance_myr",
    [
        # Chmeleff et al. 2010 (1.387 +- 0.012 Myr); Korschinek et al. 2010 (1.386 +- 0.016)
        ((4, 10), 1.387, 0.012),
        ((6, 14), 5.70e-3, 0.03e-3),  # NUBASE2020 5.70(3) kyr
        ((13, 26), 0.717, 0.024),  # NUBASE2020 717(24) kyr
        ((17, 36), 0.301, 0.002),  # NUBASE2020 3.01(2)e5 yr
        ((19, 40), 1248.0, 3.0),  # NUBASE2020 1.248(3) Gyr
        ((25, 53), 3.7, 0.4),  # NUBASE2020 3.7(4) Myr
        ((26, 60), 2.62, 0.04),  # Rugel et al. 2009 2.62 +- 0.04 Myr
        ((4, 7), 53.22 * DAY_MYR, 0.06 * DAY_MYR),  # NUBASE2020 53.22(6) d
        ((28, 56), 6.075 * DAY_MYR, 0.010 * DAY_MYR),  # NUBASE2020 6.075(10) d
        ((25, 54), 312.19 * DAY_MYR, 0.03 * DAY_MYR),  # LNHB/DDEP 312.19(3) d
        ((27, 60), 5.27e-6, 0.005e-6),  # 5.27 yr
    ],
)
def test_laboratory_half_lives_are_the_evaluated_values(nuclide, half_life_myr, tolerance_myr):
    """Laboratory half-lives within the quoted uncertainty of the evaluation / measurement."""
    d = nu.decay(nuclide)
    assert d is not None and d.reference
    assert abs(d.lab_half_life_myr - half_life_myr) <= tolerance_myr


def test_be10_mean_life_two_myr():
    """10Be: tau = 1.387 / ln 2 = 2.001 Myr (README of the shared data: 2.00 Myr; 1e-3)."""
    assert nu.cosmic_ray_mean_life_myr((4, 10)) == pytest.approx(2.001, rel=1e-3)
    assert nu.decay((4, 10)).daughters == (((5, 10), 1.0),)


@pytest.mark.parametrize(
    "nuclide, branch, daughter",
    [
        ((13, 26), 0.817, (12, 26)),  # 26Al beta+ 81.7% (ENSDF A = 26)
        ((17, 36), 0.981, (18, 36)),  # 36Cl beta- 98.1% (NUBASE2020)
        ((19, 40), 0.8928, (20, 40)),  # 40K beta- 89.28% (NUBASE2020)
    ],
)
def test_mixed_decayers_keep_the_partial_half_life_of_the_other_branch(nuclide, branch, daughter):
    """Bare mixed decayers: t1/2 / branching of the non-EC branch (to 1e-12), one daughter."""
    d = nu.decay(nuclide)
    assert d.cosmic_ray_half_life_myr == pytest.approx(d.lab_half_life_myr / branch, rel=1e-12)
    assert d.daughters == ((daughter, 1.0),)


def test_al26_and_mn54_bare_half_lives():
    """26Al: 0.717 / 0.817 = 0.878 Myr (1e-3); 54Mn: the beta- partial half-life of
    Zaerpoor et al. 1997, (4.94 +- 0.06 +- 0.85) x 10^5 yr (exact), decaying to 54Fe."""
    assert nu.decay((13, 26)).cosmic_ray_half_life_myr == pytest.approx(0.878, rel=1e-3)
    mn54 = nu.decay((25, 54))
    assert mn54.cosmic_ray_half_life_myr == 0.494
    assert mn54.daughters == (((26, 54), 1.0),)
    assert mn54.lab_daughters == (((24, 54), 1.0),)  # EC in the laboratory


def test_fe60_chain():
    """60Fe (2.62 Myr, Rugel et al. 2009) -> 60Co (5.27 yr) -> 60Ni, beta- both."""
    assert nu.decay((26, 60)).daughters == (((27, 60), 1.0),)
    assert nu.decay((27, 60)).daughters == (((28, 60), 1.0),)
    assert nu.decay((28, 60)) is None


@pytest.mark.parametrize(
    "nuclide",
    [
        (4, 7),
        (18, 37),
        (20, 41),
        (22, 44),
        (23, 49),
        (23, 50),
        (24, 51),
        (25, 53),
        (26, 55),
        (27, 57),
        (28, 56),
        (28, 59),
    ],
)
def test_pure_electron_capture_is_stable_when_bare(nuclide):
    """Pure-EC decayers: no bare decay (exact), one laboratory daughter with Z - 1."""
    d = nu.decay(nuclide)
    assert d.cosmic_ray_half_life_myr is None and d.daughters == () and d.mean_life_myr is None
    assert nu.cosmic_ray_mean_life_myr(nuclide) is None
    ((lab, b),) = d.lab_daughters
    assert lab == (nuclide[0] - 1, nuclide[1]) and b == 1.0


def test_decay_table_is_consistent():
    """Branchings sum to 1 (1e-12), A is kept, every entry cites a reference; stable
    nuclides are not in the table."""
    for nuc, d in nu.DECAYS.items():
        assert d.nuclide == nuc and d.reference
        assert d.lab_daughters and (d.daughters == ()) == (d.cosmic_ray_half_life_myr is None)
        for branches in [d.lab_daughters] + ([d.daughters] if d.daughters else []):
            assert sum(b for _, b in branches) == pytest.approx(1.0, abs=1e-12)
            assert all(dau[1] == nuc[1] for dau, _ in branches)
    assert nu.decay((6, 12)) is None and nu.cosmic_ray_mean_life_myr((26, 56)) is None
    with pytest.raises(ValueError, match="branchings"):
        nu.Decay((4, 10), 1.0, "beta-", 1.0, (((5, 10), 0.5),), "x")
    with pytest.raises(ValueError, match="keeps A"):
        nu.Decay((4, 10), 1.0, "beta-", 1.0, (((5, 11), 1.0),), "x")


def test_every_radioactive_table_nuclide_is_in_the_decay_table():
    """The nuclides of the nuclei list and of the production tables that are not in the
    solar-system table (so not stable or primordial) are all in DECAYS; the primordial
    radioactive ones that are in both are 40K, 48Ca and 50V."""
    solar = set(comp.read_solar_system_2003())
    listed = nu.table_nuclides()
    assert listed - solar <= set(nu.DECAYS)
    assert {(4, 10), (6, 14), (13, 26), (17, 36), (25, 54), (26, 60), (24, 48)} <= listed - solar
    assert solar & set(nu.DECAYS) & listed == {(19, 40), (20, 48), (23, 50)}


# ----------------------------------------------------------------------------------------
# long-lived, fold, network nuclides
# ----------------------------------------------------------------------------------------
def test_fold_of_chains():
    """At a 1 kyr limit 60Fe is long-lived and 60Co folds into 60Ni; at 10 Myr 10Be -> 10B,
    26Al -> 26Mg, 60Fe -> 60Co -> 60Ni, 54Mn -> 54Fe; 48Cr -> 48V -> 48Ti at any limit
    above 1 yr; stable and bare-stable nuclides fold into themselves (all exact)."""
    assert nu.is_long_lived((26, 60), 1e-3) and nu.fold((26, 60), 1e-3) == [((26, 60), 1.0)]
    assert not nu.is_long_lived((27, 60), 1e-3)
    assert nu.fold((27, 60), 1e-3) == [((28, 60), 1.0)]
    assert nu.fold((4, 10), 10.0) == [((5, 10), 1.0)]
    assert nu.fold((13, 26), 10.0) == [((12, 26), 1.0)]
    assert nu.fold((26, 60), 10.0) == [((28, 60), 1.0)]
    assert nu.fold((25, 54), 10.0) == [((26, 54), 1.0)]
    assert nu.fold((24, 48), 1e-6) == [((22, 48), 1.0)]
    assert nu.fold((6, 12), 10.0) == [((6, 12), 1.0)]
    assert nu.fold((25, 53), 1e9) == [((25, 53), 1.0)]  # pure EC: stable when bare
    assert nu.fold((19, 40), 10.0) == [((19, 40), 1.0)]  # 1398 Myr bare
    assert nu.fold((19, 40), 2000.0) == [((20, 40), 1.0)]


def test_bad_limits_and_ranges():
    with pytest.raises(ValueError, match="half_life_min_myr"):
        nu.fold((4, 10), -1.0)
    with pytest.raises(ValueError, match="half_life_min_myr"):
        nu.is_long_lived((4, 10), float("nan"))
    with pytest.raises(ValueError, match="z_max"):
        nu.network_nuclides(10, 5, 1e-3)


def test_network_nuclides_1_to_28_at_one_kyr():
    """Long-lived at 1 kyr: the radioactive clocks are in, 60Co (5.3 yr) and 48Cr out;
    sorted, Z in range; bare-stable EC nuclides (7Be, 53Mn, 55Fe) are in."""
    nn = nu.network_nuclides(1, 28, 1e-3)
    assert nn == sorted(nn) and all(1 <= z <= 28 for z, _ in nn)
    for inside in [
        (1, 1),
        (1, 2),
        (2, 3),
        (2, 4),
        (4, 10),
        (6, 14),
        (13, 26),
        (17, 36),
        (25, 54),
        (26, 60),
        (19, 40),
        (4, 7),
        (25, 53),
        (26, 55),
        (26, 56),
        (28, 64),
    ]:
        assert inside in nn
    for outside in [(27, 60), (24, 48), (23, 48), (6, 11), (29, 63)]:
        assert outside not in nn
    assert nu.network_nuclides(0, 2, 1e-3) == [(1, 1), (1, 2), (2, 3), (2, 4)]


def test_network_nuclides_at_ten_myr_drops_the_clocks():
    nn = nu.network_nuclides(1, 28, 10.0)
    for gone in [(4, 10), (6, 14), (13, 26), (17, 36), (25, 54), (26, 60)]:
        assert gone not in nn
    assert (19, 40) in nn and (25, 53) in nn and (12, 26) in nn


def test_nuclide_label():
    assert nu.nuclide_label((4, 10)) == "10Be" and nu.nuclide_label((92, 238)) == "238U"
    assert len(nu.ELEMENT_SYMBOLS) == 92
    with pytest.raises(ValueError):
        nu.nuclide_label((0, 1))


# ----------------------------------------------------------------------------------------
# compositions
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "z, total, rel",
    [
        # Lodders 2003, Table 1 (N, Si = 1e6); rel: rounding of the isotopic values
        (14, 1.000e6, 1e-3),
        (26, 8.38e5, 1e-3),
        (6, 7.079e6, 1e-3),
        (8, 1.413e7, 1e-3),
        (1, 2.431e10, 1e-3),
        (2, 2.343e9, 1e-3),
    ],
)
def test_lodders_2003_element_totals(z, total, rel):
    ab = comp.read_solar_system_2003()
    assert sum(x for (zz, _a), x in ab.items() if zz == z) == pytest.approx(total, rel=rel)


def test_lodders_2003_isotopes_as_written():
    """Rows read by eye from solarsystem_abundances2003.txt (exact)."""
    ab = comp.composition("lodders2003")
    assert ab[(1, 1)] == 2.431e10 and ab[(1, 2)] == 4.716e5
    assert ab[(26, 56)] == 768900 and ab[(28, 58)] == 32541 and ab[(92, 238)] == 0.009238
    assert ab[(19, 40)] == 0.431  # primordial radioactive: kept as tabulated
    assert all(z >= 1 for z, _ in ab)  # antiparticle rows skipped
    assert ab == comp.read_solar_system_2003() and "lodders2003" in comp.COMPOSITIONS


def test_user_composition_file(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("# my source\nZ, A, abundance\n6, 12, 1.0e6\n8,16, 2e6  # oxygen\n\n")
    assert comp.composition(str(good)) == {(6, 12): 1.0e6, (8, 16): 2.0e6}


@pytest.mark.parametrize(
    "line, problem",
    [
        ("6, 12", "3 comma-separated"),
        ("six, 12, 1", "integers"),
        ("6, 12, lots", "a number"),
        ("6, 12, -1", ">= 0"),
        ("6, 12, nan", "finite"),
        ("7, 6, 1", "not a nucleus"),
        ("0, 1, 1", "not a nucleus"),
        ("6, 12, 1\n6, 12, 2", "twice"),
    ],
)
def test_user_composition_errors_name_file_and_line(tmp_path, line, problem):
    bad = tmp_path / "bad.csv"
    bad.write_text("# header comment\n1, 1, 1e10\n" + line + "\n")
    with pytest.raises(ValueError, match=problem) as err:
        comp.composition(str(bad))
    lineno = 2 + len(line.splitlines())  # the last line written is the bad one
    assert "bad.csv" in str(err.value) and f"line {lineno}:" in str(err.value)


def test_unknown_composition_name():
    with pytest.raises(ValueError, match="lodders2003"):
        comp.composition("anders_grevesse_1989")


# ----------------------------------------------------------------------------------------
# production cross sections
# ----------------------------------------------------------------------------------------
def test_webber_grid():
    """41 log-spaced points, 0.01..10 GeV/n (crams reader of this file); exact to 1e-12."""
    g = xs.production_energy_grid("webber03_coste12")
    assert g.shape == (41,)
    assert g[0] == pytest.approx(0.01, rel=1e-12) and g[-1] == pytest.approx(10.0, rel=1e-12)
    assert np.allclose(g[1:] / g[:-1], 10 ** (3 / 40), rtol=1e-12)
    assert np.allclose(xs.production_energy_grid("evoli2018"), 0.1 * 1.1 ** np.arange(100))


def test_webber_raw_lines_read_by_eye():
    """Values of sigProdWebber03+Coste12.txt rows read by eye (exact)."""
    ch = xs.production_channels("webber03_coste12")
    c_b11 = ch[((6, 12), (5, 11))]  # row '5 11 6 12'
    assert (c_b11[0], c_b11[10], c_b11[20], c_b11[40]) == (0.0, 49.23177, 59.78312, 47.0)
    assert ch[((14, 28), (13, 26))][0] == 30.8 and ch[((14, 28), (13, 26))][40] == 21.4
    assert ch[((8, 16), (4, 10))][20] == 1.6 and ch[((8, 16), (4, 10))][40] == 2.4
    assert ch[((1, 1), (1, 2))][27] == 2.993653  # p + p -> d, kept
    assert ch[((6, 12), (5, 10))][27] == 16.85848


def test_webber_channels_and_exclusions():
    """2989 non-zero rows less the 6 electron-attachment rows; the excluded rows are in the
    file with hundreds of mb, and are the only rows other than p + p -> d with A_frag >=
    A_proj; no short-lived fragment but 48Cr at a 1 kyr limit."""
    ch = xs.production_channels("webber03_coste12")
    assert len(ch) == 2989 - 6
    assert all(v.shape == (41,) and np.any(v > 0) and not v.flags.writeable for v in ch.values())
    raw = dict(xs._webber_rows())
    for (proj, frag), reason in xs.EXCLUDED_CHANNELS.items():
        assert (proj, frag) not in ch and reason
        assert frag == (proj[0] - 1, proj[1]) and raw[(proj, frag)].max() > 100.0
        assert np.all(xs.sigma_production_h_mb([0.1, 1.0], proj, frag, "webber03_coste12") == 0)
    assert [k for k in ch if k[1][1] >= k[0][1]] == [((1, 1), (1, 2))]
    fragments = {f for _, f in ch}
    assert {f for f in fragments if not nu.is_long_lived(f, 1e-3)} == {(24, 48)}
    assert (6, 11) not in xs.listed_fragments("webber03_coste12")
    assert not any(f[0] == 3 for f in fragments)  # Li rows are all zero in this table


def test_evoli_channels():
    """203 channels of xsecs_0.1_100_1.1.txt; C12 -> B11 at 0.1 GeV/n = 61.3027 mb (raw)."""
    ch = xs.production_channels("evoli2018")
    assert len(ch) == 203 and ch[((6, 12), (5, 11))][0] == 61.3027


def test_production_interpolation():
    """Exact on the nodes; linear in ln T (geometric mean of two nodes -> arithmetic mean of
    the values, 1e-12); end values held; absent channel 0."""
    g = xs.production_energy_grid("webber03_coste12")
    row = xs.production_channels("webber03_coste12")[((6, 12), (5, 11))]
    key = ((6, 12), (5, 11))
    assert np.array_equal(xs.sigma_production_h_mb(g, *key, "webber03_coste12"), row)
    mid = math.sqrt(g[20] * g[21])
    assert xs.sigma_production_h_mb(mid, *key, "webber03_coste12") == pytest.approx(
        0.5 * (row[20] + row[21]), rel=1e-12
    )
    assert xs.sigma_production_h_mb(1e3, *key, "webber03_coste12") == 47.0
    assert xs.sigma_production_h_mb(1e-3, *key, "webber03_coste12") == 0.0
    assert np.all(xs.sigma_production_h_mb([1.0], (5, 11), (6, 12), "evoli2018") == 0.0)


def test_unknown_models_and_targets():
    with pytest.raises(ValueError, match="webber03_coste12"):
        xs.production_channels("silberberg_tsao")
    with pytest.raises(ValueError, match="crosec"):
        xs.sigma_inelastic_mb(1.0, (6, 12), "glauber")
    with pytest.raises(ValueError, match="He"):
        xs.sigma_inelastic_mb(1.0, (6, 12), "crosec", target="CO")
    with pytest.raises(ValueError, match="He"):
        xs.sigma_production_mb(1.0, (6, 12), (5, 11), "evoli2018", target="Ne")


# ----------------------------------------------------------------------------------------
# inelastic cross sections and the helium target
# ----------------------------------------------------------------------------------------
def test_inelastic_on_hydrogen_is_the_table():
    """H target: the crosec / tripathi99 rows (exact on the nodes; raw values 732.635,
    751.494 mb for 56Fe at 0.1 GeV/n)."""
    g = tables.table_energy_grid()
    assert np.array_equal(
        xs.sigma_inelastic_mb(g, (6, 12), "crosec"), tables.read_inelastic_table("crosec")[(6, 12)]
    )
    assert xs.sigma_inelastic_mb(0.1, (26, 56), "crosec") == 732.635
    assert xs.sigma_inelastic_mb(0.1, (26, 56), "tripathi99") == 751.494


@pytest.mark.parametrize("a, ratio", [(12, 1.83174), (16, 1.80299), (56, 1.68294)])
def test_ferrando_total_ratio(a, ratio):
    """sigma_He / sigma_H = 2.10 A^-0.055 (Ferrando et al. 1988) for C, O, Fe; values worked
    out by hand (1e-5), energy independent, and applied by sigma_inelastic_mb(target='He')."""
    z = {12: 6, 16: 8, 56: 26}[a]
    t = np.array([0.2, 1.0, 30.0])
    assert np.allclose(xs.helium_inelastic_ratio(t, (z, a)), ratio, rtol=1e-5)
    he = xs.sigma_inelastic_mb(t, (z, a), "tripathi99", target="He")
    assert np.allclose(he, ratio * xs.sigma_inelastic_mb(t, (z, a), "tripathi99"), rtol=1e-5)


def test_proton_on_helium_is_helium_on_hydrogen():
    """p + 4He at rest = 4He + p at rest at equal T/n: the tripathi99 4He row (raw values
    124.595 mb at 0.1 GeV/n, 111.86 mb at 11.74 GeV/n; exact)."""
    assert xs.sigma_inelastic_mb(0.1, (1, 1), "tripathi99", target="He") == 124.595
    t50 = tables.table_energy_grid()[49]
    assert xs.sigma_inelastic_mb(t50, (1, 1), "crosec", target="He") == 111.86
    # the ratio to sigma_pp (Kafexhiu et al. 2014 eq. 1: 29.47 mb at 10 GeV, 7e-4)
    p_he = xs.sigma_inelastic_mb(10.0, (1, 1), "crosec", target="He")
    assert xs.helium_inelastic_ratio(10.0, (1, 1)) == pytest.approx(p_he / 29.47, rel=1e-3)
    assert np.all(np.isfinite(xs.helium_inelastic_ratio([0.01, 0.28, 0.3], (1, 1))))


@pytest.mark.parametrize(
    "t_n, projectile, fragment, expected",
    [
        # exp(mu |dZ - F Delta|^1.43) worked out by hand from the coefficients:
        # 12C -> 11B at 0.73 GeV/n: mu 0.047, Delta 3.45, F -0.76: exp(0.047 * 3.622^1.43)
        (0.73, (6, 12), (5, 11), 1.34456),
        # 16O -> 12C at 0.43 GeV/n: mu 0.082, Delta 2.45, F -0.41: exp(0.082 * 3.0045^1.43)
        (0.43, (8, 16), (6, 12), 1.48497),
        # 56Fe -> 48Ti at 1.51 GeV/n: mu 0.031, Delta 4.40, F 1.00: exp(0.031 * 0.40^1.43)
        (1.51, (26, 56), (22, 48), 1.00840),
        # held outside 0.43..1.51 GeV/n
        (10.0, (26, 56), (22, 48), 1.00840),
        (0.1, (8, 16), (6, 12), 1.48497),
    ],
)
def test_ferrando_partial_ratio(t_n, projectile, fragment, expected):
    """Partial He/H ratios of Ferrando et al. 1988 at their fitted projectiles (1e-5)."""
    assert xs.helium_production_ratio(t_n, projectile, fragment) == pytest.approx(
        expected, rel=1e-5
    )
    h = xs.sigma_production_mb(t_n, projectile, fragment, "evoli2018")
    he = xs.sigma_production_mb(t_n, projectile, fragment, "evoli2018", target="He")
    assert he == pytest.approx(expected * h, rel=1e-5)


def test_ferrando_ranges():
    """F(Z) takes its fitted values at C, O, Fe (exact to 1e-12); dZ beyond Z/2 is held at
    Z/2; light projectiles use the total ratio; a fragment above the projectile is an
    error; helium_target_factor dispatches."""
    assert [xs.ferrando_f(z) for z in (6, 8, 26)] == pytest.approx([-0.76, -0.41, 1.0], abs=1e-12)
    deep = xs.helium_production_ratio(1.0, (26, 56), (2, 4))
    assert deep == pytest.approx(xs.helium_production_ratio(1.0, (26, 56), (13, 27)), rel=1e-12)
    assert xs.helium_production_ratio(1.0, (2, 4), (1, 2)) == pytest.approx(
        xs.helium_inelastic_ratio(1.0, (2, 4)), rel=1e-12
    )
    with pytest.raises(ValueError, match="above"):
        xs.helium_production_ratio(1.0, (6, 12), (7, 12))
    assert xs.helium_target_factor(1.0, (6, 12)) == xs.helium_inelastic_ratio(1.0, (6, 12))
    assert xs.helium_target_factor(1.0, (6, 12), (5, 11)) == xs.helium_production_ratio(
        1.0, (6, 12), (5, 11)
    )


def test_merged_production_model_takes_evoli_where_listed():
    """The default merged model: a channel listed by Evoli et al. 2018 (12C -> 7Li, absent from
    Webber/Coste) comes from that table, an unlisted one (56Fe -> 55Mn) from Webber/Coste;
    both exactly as the single-table models give them."""
    t = np.array([0.05, 0.3, 2.0, 50.0])
    merged = xs.COMBINED
    np.testing.assert_array_equal(
        xs.sigma_production_h_mb(t, (6, 12), (3, 7), merged),
        xs.sigma_production_h_mb(t, (6, 12), (3, 7), "evoli2018"),
    )
    assert np.all(xs.sigma_production_h_mb(t, (6, 12), (3, 7), "webber03_coste12") == 0)
    assert np.all(xs.sigma_production_h_mb(t, (6, 12), (3, 7), merged) > 0)
    np.testing.assert_array_equal(
        xs.sigma_production_h_mb(t, (26, 56), (25, 55), merged),
        xs.sigma_production_h_mb(t, (26, 56), (25, 55), "webber03_coste12"),
    )
    keys = set(xs.production_channels(merged))
    assert keys == set(xs.production_channels("evoli2018")) | set(
        xs.production_channels("webber03_coste12")
    )
