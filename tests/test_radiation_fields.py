"""Interstellar radiation fields by name (galprop_py.galaxy.radiation) and the inverse-Compton
loss on tabulated spectra (galprop_py.physics.energy_losses).

* the tabulated-spectrum Klein-Nishina loss against the grey-body one for tabulated Planck
  spectra (1e-3) and against the Thomson limit (4/3) sigma_T c gamma^2 U (constants from
  scipy, independent of galprop_py.units);
* the built-in grey bodies bit for bit as before the registry; a tabulated copy of them
  through the config and the galaxy model (1e-3 at 1, 10, 100, 1000 GeV), and through a run;
* the table reader exact on its nodes; Mathis, Mezger & Panagia 1983 against printed numbers;
* one-line errors (the suite also runs on 2 ranks).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from scipy import constants as sc
from scipy.integrate import quad

from galprop_py import units
from galprop_py.config import ConfigError, config_from_dict, load_config
from galprop_py.galaxy import radiation
from galprop_py.galaxy.radiation import ISRF
from galprop_py.grid import MomentumGrid
from galprop_py.models.galaxy import GalaxyModel, build_spatial_grid, galactic_rz
from galprop_py.operators.base import SeparableField
from galprop_py.physics import energy_losses as el
from galprop_py.physics import kinematics
from galprop_py.physics.species import ELECTRON

# independent constants (CODATA via scipy)
SIGMA_T = sc.physical_constants["Thomson cross section"][0] * 1e4  # cm^2
C = sc.c * 100.0  # cm/s
ME = sc.physical_constants["electron mass energy equivalent in MeV"][0] * 1e-3  # GeV
KB_EV = sc.k / sc.e  # eV/K
A_RAD_EV = 8 * math.pi**5 * KB_EV**4 / (15 * (sc.h / sc.e * sc.c * 100) ** 3)  # eV cm^-3 K^-4
ERG_EV = 1e-7 / sc.e

GEV = np.array([1.0, 10.0, 100.0, 1000.0])  # total electron energies of the checks


def momentum(e_gev):
    return np.sqrt(np.asarray(e_gev) ** 2 - ME**2)


def planck_per_ev(e_ev, t_k, u_ev_cm3):
    """du/d eps [eV cm^-3 eV^-1] of a Planck spectrum scaled to the energy density u."""
    kt = KB_EV * t_k
    x = np.asarray(e_ev) / kt
    with np.errstate(over="ignore"):
        return u_ev_cm3 * 15 / math.pi**4 * x**3 / np.expm1(x) / kt


ENERGIES_EV = np.logspace(-7, 1.5, 851)  # 100 per decade: CMB to starlight


def grey_body_table(path, r, z, bodies=radiation.DEFAULT_GREY_BODIES, r_sun=8.3):
    """Write a tabulated copy of the grey bodies on the (r, z) nodes (HDF5, layout of
    galprop_py.galaxy.radiation) and return its energy_density."""
    rr, zz = np.meshgrid(r, z, indexing="ij")
    u = np.zeros(rr.shape + ENERGIES_EV.shape)
    for g in bodies:
        arg = np.zeros(rr.shape)
        if g.scale_radius_kpc is not None:
            arg -= (rr - r_sun) / g.scale_radius_kpc
        if g.scale_height_kpc is not None:
            arg -= np.abs(zz) / g.scale_height_kpc
        u_rz = g.energy_density_ev_cm3 * np.exp(arg)
        u += u_rz[..., None] * planck_per_ev(ENERGIES_EV, g.temperature_k, 1.0)
    with h5py.File(path, "w") as f:
        f["r"], f["z"], f["photon_energy"], f["energy_density"] = r, z, ENERGIES_EV, u
    return u


# --- energy_losses: the tabulated-spectrum Klein-Nishina loss ----------------------------------
@pytest.mark.serial  # a function of one process (no grid, no MPI)
@pytest.mark.parametrize("t_k", [2.7255, 35.0, 4000.0])
def test_tabulated_kn_loss_equals_grey_body_loss(t_k):
    """A Planck spectrum tabulated at 100 energies per decade (1e-4 kT to 60 kT), interpolated
    log-log, loses energy as the grey body of the same U: 1e-3 from 10 MeV to 100 TeV (the
    log-log interpolation of the table gives ~1.6e-4 at all energies; the grey body's G(b)
    table is good to ~2e-4, which sets the spread of the ratio)."""
    kt = KB_EV * t_k
    e = np.logspace(math.log10(1e-4 * kt), math.log10(60 * kt), 580)
    p = momentum(np.array([0.01, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5]))
    tab = el.inverse_compton_kn_loss_tabulated(p, e, planck_per_ev(e, t_k, 0.7))
    grey = el.inverse_compton_kn_loss(p, [t_k], [0.7])
    np.testing.assert_allclose(tab, grey, rtol=1e-3)
    assert np.ptp(tab / grey) < 4e-4


@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_tabulated_kn_loss_against_direct_quadrature():
    """The KN suppression of a finely tabulated Planck spectrum (1000 energies per decade)
    against nested adaptive quadrature of the Blumenthal & Gould kernel, coded here: 5e-5 at
    b = 4 gamma kT / m_e c^2 = 0.1, 1, 30."""

    def f_mono(gam):
        def integrand(q):
            gq = gam * q
            f = 2 * q * math.log(q) + (1 + 2 * q) * (1 - q) + 0.5 * gq * gq * (1 - q) / (1 + gq)
            return q * f / (1 + gq) ** 3

        return 9.0 * quad(integrand, 0.0, 1.0, points=[min(0.5, 1.0 / gam)], limit=200)[0]

    t_k = 1000.0
    kt = KB_EV * t_k
    e = np.logspace(math.log10(1e-5 * kt), math.log10(70 * kt), 6845)
    for b in (0.1, 1.0, 30.0):
        g = 15 / math.pi**4 * quad(lambda x, b=b: x**3 / math.expm1(x) * f_mono(b * x), 1e-6, 60)[0]
        p = momentum([b * ME / (4 * kt * 1e-9) * ME])  # gamma = b m_e / 4 kT
        tab = el.inverse_compton_kn_loss_tabulated(p, e, planck_per_ev(e, t_k, 1.0))
        assert tab[0] / el.inverse_compton_thomson_loss(p, 1.0)[0] == pytest.approx(g, rel=5e-5)


@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_tabulated_kn_loss_thomson_limit():
    """Low energies (30-300 MeV on CMB and dust): b = (4/3) sigma_T c gamma^2 U (1e-3; the
    rate has gamma^2 beta^2 and the KN correction is < 1e-4 here), U = the table's energy
    density; and the photon lines carry exactly the energy density of the log-log
    interpolant (power laws integrated by hand, 1e-12)."""
    e_gev = np.array([0.03, 0.1, 0.3])
    for t_k, u in ((2.7255, 0.26), (30.0, 0.3)):
        kt = KB_EV * t_k
        e = np.logspace(math.log10(1e-3 * kt), math.log10(50 * kt), 300)
        dens = planck_per_ev(e, t_k, u)
        # energy density of the log-log interpolant, interval by interval
        s = np.log(dens[1:] / dens[:-1]) / np.log(e[1:] / e[:-1])
        u_table = np.sum(
            dens[:-1] * e[:-1] ** -s * (e[1:] ** (s + 1) - e[:-1] ** (s + 1)) / (s + 1)
        )
        lines = el.photon_lines(e, dens)[1]
        assert lines.sum() == pytest.approx(u_table, rel=1e-12)
        rate = el.inverse_compton_kn_loss_tabulated(momentum(e_gev), e, dens)
        gamma = e_gev / ME
        thomson = 4 / 3 * SIGMA_T * C * gamma**2 * u_table * 1e-9  # GeV/s
        np.testing.assert_allclose(rate, thomson, rtol=1e-3)


@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_photon_lines_stacked_spectra_and_zeros():
    """Several spectra at once equal one at a time; an interval with a zero end is empty."""
    e = np.array([1e-3, 1e-2, 1e-1, 1.0])
    dens = np.array([[1.0, 0.5, 0.0, 1e-3], [2.0, 1.0, 0.1, 1e-2]])
    eps, w = el.photon_lines(e, dens)
    for k in range(2):
        np.testing.assert_array_equal(w[k], el.photon_lines(e, dens[k])[1])
    assert np.all(w[0, 6:18] == 0.0) and np.all(w[1] > 0)
    p = momentum(GEV)
    stacked = el.inverse_compton_kn_loss_lines(p, eps, w)
    assert stacked.shape == (2, 4)
    np.testing.assert_allclose(stacked[1], el.inverse_compton_kn_loss_lines(p, eps, w[1]))


# --- the table reader -------------------------------------------------------------------------
@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_table_reader_exact_on_nodes(tmp_path):
    """du/d eps at every (r, z, eps) node is the table's value bit for bit; between nodes it
    is linear in r and z and a power law in eps; outside: nearest edge or zero; a z >= 0 table
    is mirrored."""
    rng = np.random.default_rng(7)
    r, z, e = np.array([0.0, 2.0, 5.0, 9.0]), np.array([0.0, 0.5, 2.0]), np.logspace(-3, 1, 9)
    u = rng.uniform(0.1, 2.0, (4, 3, 9))
    u[1, 2, 4] = 0.0
    path = tmp_path / "isrf.h5"
    with h5py.File(path, "w") as f:
        f["r"], f["z"], f["photon_energy"], f["energy_density"] = r, z, e, u
    fld = radiation.radiation_field("table", {"file": str(path)})
    rr, zz = np.meshgrid(r, z, indexing="ij")
    np.testing.assert_array_equal(fld.spectral_density(rr, zz, e), u)
    np.testing.assert_array_equal(fld.spectral_density(rr, -zz, e), u)  # mirrored
    # midpoints: arithmetic in r, geometric in energy
    mid = fld.spectral_density(1.0, 0.5, e)
    np.testing.assert_allclose(mid, 0.5 * (u[0, 1] + u[1, 1]), rtol=1e-14)
    e_mid = np.sqrt(e[2] * e[3])
    np.testing.assert_allclose(
        fld.spectral_density(5.0, 2.0, [e_mid])[0], math.sqrt(u[2, 2, 2] * u[2, 2, 3]), rtol=1e-13
    )
    assert fld.spectral_density(2.0, 2.0, [math.sqrt(e[3] * e[4])])[0] == 0.0  # zero end
    assert np.all(fld.spectral_density(5.0, 0.0, [1e-4, 20.0]) == 0.0)  # beyond the energies
    np.testing.assert_array_equal(fld.spectral_density(15.0, 3.0, e), u[3, 2])  # nearest
    zero = radiation.radiation_field("table", {"file": str(path), "outside": "zero"})
    assert np.all(zero.spectral_density(15.0, 0.0, e) == 0.0)
    np.testing.assert_array_equal(zero.spectral_density(9.0, 2.0, e), u[3, 2])
    # the energy density is the integral of the interpolated spectrum
    lines = el.photon_lines(e, u[2, 1])[1].sum()
    assert fld.energy_density(5.0, 0.5) == pytest.approx(lines, rel=1e-14)
    assert ISRF.get("table")(5.0, -0.5, {"file": str(path)}) == pytest.approx(lines, rel=1e-14)


@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_table_loss_terms_reproduce_node_rates(tmp_path):
    """The separable terms of a table's IC loss reproduce each node's rate to 1e-9 and are
    few (the spectra are mixtures of three shapes)."""
    r, z = np.linspace(0.0, 16.0, 9), np.linspace(-3.0, 3.0, 7)
    grey_body_table(tmp_path / "grey.h5", r, z)
    fld = radiation.radiation_field("table", {"file": str(tmp_path / "grey.h5")})
    p = momentum(np.logspace(-2, 4, 40))
    terms = fld.inverse_compton_terms(p)
    assert 1 <= len(terms) <= 12
    nodes = fld.node_rates(p)
    rr, zz = np.meshgrid(r, z, indexing="ij")
    total = sum(prof(rr, zz)[..., None] * rate for prof, rate in terms)
    np.testing.assert_allclose(total, nodes, rtol=1e-9)


# --- the models through the config and the galaxy model -----------------------------------------
def _electron_loss(overrides, points=None, mg=None):
    cfg = load_config(None, ["gas.model=none", "losses.b_field_ug=0.0", *overrides])
    grid = build_spatial_grid(cfg)
    mg = mg or MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 0.1, 1e4, 30)
    model = GalaxyModel(cfg, grid, mg)
    field = model.coefficients(ELECTRON).energy_loss
    pe = mg.momentum_edges(ELECTRON)
    to_gev_s = kinematics.beta(pe, ELECTRON.mass) / units.MYR_S
    return pe, field.evaluate(points) * to_gev_s, model


def test_default_grey_bodies_bit_for_bit():
    """The built-in model (isrf_model = 'grey_bodies', losses.photon_fields) gives the
    electron loss field of the code before the registry, bit for bit, on the 2D grid and on a
    slab and a sphere."""
    for geometry in ("cylindrical2d", "slab1d", "spherical1d"):
        cfg = load_config(None, [f"grid.geometry={geometry}"])
        assert cfg.losses.isrf_model == "grey_bodies"
        grid = build_spatial_grid(cfg)
        mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 0.1, 1e4, 12)
        model = GalaxyModel(cfg, grid, mg)
        coords = np.meshgrid(*[a.centers for a in grid.axes], indexing="ij")
        got = model.coefficients(ELECTRON).energy_loss
        pe = mg.momentum_edges(ELECTRON)
        to_pdot = units.MYR_S / kinematics.beta(pe, ELECTRON.mass)
        before = SeparableField()  # the loop of GalaxyModel._lepton_losses before the registry
        for term in got.terms[: len(got.terms) - len(cfg.losses.photon_fields)]:
            before.add(*term)
        for ph in cfg.losses.photon_fields:
            ic = el.inverse_compton_kn_loss(pe, [ph.temperature_k], [1.0])

            def old_profile(c, ph=ph, model=model):
                return model._exponential_disc(
                    c, ph.energy_density_ev_cm3, ph.scale_radius_kpc, ph.scale_height_kpc
                )

            before.add(old_profile, ic * to_pdot)
        np.testing.assert_array_equal(got.evaluate(coords), before.evaluate(coords))


def test_tabulated_grey_bodies_through_the_model(tmp_path):
    """losses.isrf_model = 'table' with a tabulated copy of today's grey bodies: the electron
    IC loss at the table's nodes equals today's to 1e-3 at 1, 10, 100, 1000 GeV (directly and
    over the whole momentum grid of the galaxy model)."""
    r, z = np.linspace(0.3, 16.3, 17), np.linspace(-3.0, 3.0, 13)  # 8.3 kpc and z = 0, 1.0
    path = tmp_path / "grey.h5"
    grey_body_table(path, r, z)
    points = [np.array([8.3, 4.3, 12.3]), np.array([0.0, 1.0, -2.5])]
    over = ["losses.isrf_model=table", f"losses.isrf_parameters={{file = '{path}'}}"]
    pe, table, model = _electron_loss(over, points)
    _, grey, _ = _electron_loss([], points)
    np.testing.assert_allclose(table, grey, rtol=1e-3)
    # directly, at the four energies
    fld = radiation.radiation_field("table", {"file": str(path)})
    p = momentum(GEV)
    got = sum(prof(*points)[:, None] * rate for prof, rate in fld.inverse_compton_terms(p))
    default = radiation.radiation_field("grey_bodies")
    want = sum(prof(*points)[:, None] * rate for prof, rate in default.inverse_compton_terms(p))
    np.testing.assert_allclose(got, want, rtol=1e-3)
    # and the Sun's rate is the sum of the three grey bodies
    sun = el.inverse_compton_kn_loss(p, [2.7255, 35.0, 4000.0], [0.261, 0.3, 0.6])
    np.testing.assert_allclose(got[0], sun, rtol=1e-3)
    assert model.cfg.losses.isrf_model == "table"


def test_table_run_matches_grey_bodies(tmp_path_shared):
    """An electron run (2D, IC losses only) with a table of the grey bodies on the grid's cell
    centres gives the spectra of the grey-body run to 1e-3, on any number of ranks."""
    data = {
        "run": {"output_dir": "unused"},
        "grid": {"r_max_kpc": 12.0, "n_r": 12, "z_max_kpc": 3.0, "n_z": 12},
        "momentum": {"min": 1.0, "max": 1000.0, "n": 24},
        "species": [{"name": "electron", "injection": {"indices": [2.4]}}],
        "diffusion": {"d0_cm2_s": 3e28, "delta": 0.4},
        "gas": {"model": "none"},
        "losses": {"b_field_ug": 0.0},
        "source": {"profile": "uniform"},
        "normalization": {"enabled": False},
        "output": {"plot": False},
    }
    from galprop_py.run import run

    grey_cfg = config_from_dict(data)
    grid = build_spatial_grid(grey_cfg)
    r, z = (a.centers for a in grid.axes)
    path = tmp_path_shared / "grey_cells.h5"
    if MPI.COMM_WORLD.rank == 0:
        grey_body_table(path, r, z)
    MPI.COMM_WORLD.Barrier()
    data["losses"].update(isrf_model="table", isrf_parameters={"file": str(path)})
    table_cfg = config_from_dict(data)
    states = []
    for cfg in (grey_cfg, table_cfg):
        res = run(cfg, progress=False, write_output=False)
        states.append(res.decomp.gather_to_all(res.states["electron"]))
    np.testing.assert_allclose(states[1], states[0], rtol=1e-3, atol=1e-12 * states[0].max())


# --- Mathis, Mezger & Panagia 1983 ---------------------------------------------------------------
@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_mathis1983_printed_numbers():
    """MMP83 (with W_4000 = 1.65e-13, Draine 2011 Table 12.1): starlight energy density
    8.64e-13 erg cm^-3 (Draine's three digits: 0.2%); the 6-13.6 eV band 1.14 times Habing's
    5.29e-14 erg cm^-3 (Draine 2011: G0 = 1.14; 0.5%); the UV plateau 4 pi J = 2.045e-2
    erg cm^-2 s^-1 um^-1 (exact); each black body W a T^4 beyond 0.246 um (the 3000 and
    4000 K bodies have < 1e-3 of their energy below it; 7500 K: 4.5%); the CMB a T^4."""
    fld = radiation.radiation_field("mathis1983")
    u = {c.name: c.energy_density_sun for c in fld.components}
    star = sum(v for k, v in u.items() if k != "cmb")
    assert star / ERG_EV == pytest.approx(8.64e-13, rel=2e-3)
    e = np.logspace(math.log10(6.0), math.log10(13.6), 40001)
    band = np.trapezoid(fld.spectral_density(8.3, 0.0, e), e) / ERG_EV
    assert band / 5.29e-14 == pytest.approx(1.14, rel=5e-3)
    assert radiation.mmp83_uv_4pi_j(0.12) == 2.045e-2
    assert radiation.mmp83_uv_4pi_j([0.09, 0.25]).tolist() == [0.0, 0.0]
    for t_k, w, rel in ((3000.0, 4e-13, 1e-4), (4000.0, 1.65e-13, 1e-3)):
        assert u[f"stars_{t_k:.0f}k"] == pytest.approx(w * A_RAD_EV * t_k**4, rel=rel)
    assert u["stars_7500k"] / (1e-14 * A_RAD_EV * 7500.0**4) == pytest.approx(0.955, abs=2e-3)
    assert u["cmb"] == pytest.approx(A_RAD_EV * 2.7255**4, rel=1e-9)
    # the total is the integral of the spectrum; uniform without scales
    e_all = np.logspace(-6, math.log10(13.6), 200001)
    total = np.trapezoid(fld.spectral_density(8.3, 0.0, e_all), e_all)
    assert total == pytest.approx(sum(u.values()), rel=1e-4)
    assert ISRF.get("mathis1983")(3.0, 1.0) == pytest.approx(sum(u.values()), rel=1e-14)
    no_cmb = ISRF.get("mathis1983")(8.3, 0.0, {"cmb": False})
    assert no_cmb == pytest.approx(star, rel=1e-14)


@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_mathis1983_ic_loss_thomson_limit_and_suppression():
    """Its IC loss at 30 MeV is (4/3) sigma_T c gamma^2 U (1e-3); at 1 TeV the starlight is
    deep in the Klein-Nishina regime (below 10% of Thomson) while the CMB is not (> 90%)."""
    fld = radiation.radiation_field("mathis1983", r_sun_kpc=8.5)
    p = momentum([0.03, 1000.0])
    rates = {
        c.name: prof(8.5, 0.0) * rate
        for c, (prof, rate) in zip(fld.components, fld.inverse_compton_terms(p), strict=True)
    }
    total = sum(rates.values())
    gamma = 0.03 / ME
    u_total = fld.energy_density(8.5, 0.0)
    assert total[0] == pytest.approx(4 / 3 * SIGMA_T * C * gamma**2 * u_total * 1e-9, rel=1e-3)
    thomson = 4 / 3 * SIGMA_T * C * (1000.0 / ME) ** 2 * 1e-9
    for name, rate in rates.items():
        u = fld.components[[c.name for c in fld.components].index(name)].energy_density_sun
        if name == "cmb":
            assert rate[1] / (thomson * u) > 0.9
        else:
            assert rate[1] / (thomson * u) < 0.1


@pytest.mark.serial  # a function of one process (no grid, no MPI)
def test_every_model_has_a_reference_and_evaluates(tmp_path):
    r, z = np.array([4.0, 8.3, 12.0]), np.array([0.0, 0.5, -1.0])
    grey_body_table(tmp_path / "t.h5", np.linspace(0, 16, 5), np.linspace(-3, 3, 5))
    params = {"table": {"file": str(tmp_path / "t.h5")}}
    for name, model in ISRF.models.items():
        assert model.reference and model.summary
        u = model(r, z, params.get(name))
        assert u.shape == (3,) and np.all(u > 0)
        d = model(r, z, params.get(name), photon_energy_ev=[1e-3, 1.0])
        assert d.shape == (3, 2) and np.all(d > 0)
    assert "mathis1983" in ISRF.table()


def test_config_keys_reach_the_model():
    """losses.isrf_model = 'mathis1983' with [losses.isrf_parameters]: the electron loss
    differs from the built-in model's by that model's IC minus the grey bodies' IC at the Sun
    (1e-10 of the IC)."""
    sun = [np.array([8.3]), np.array([0.0])]
    pe, rate, model = _electron_loss(
        ["losses.isrf_model=mathis1983", "losses.isrf_parameters={w_4000k = 1.0e-13}"], sun
    )
    _, rate_grey, _ = _electron_loss([], sun)

    def ic(fld):
        return sum(prof(8.3, 0.0) * rate for prof, rate in fld.inverse_compton_terms(pe))

    mathis = ic(radiation.radiation_field("mathis1983", {"w_4000k": 1.0e-13}))
    grey = ic(radiation.radiation_field("grey_bodies"))
    np.testing.assert_allclose(rate[0] - rate_grey[0], mathis - grey, rtol=1e-10, atol=0)
    assert model.cfg.losses.isrf_parameters == {"w_4000k": 1.0e-13}


# --- one-line errors ---------------------------------------------------------------------------
def _one_line(data) -> str:
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_config_errors_are_one_line(tmp_path):
    msg = _one_line({"losses": {"isrf_model": "porter2017"}})
    assert "losses.isrf_model = 'porter2017'" in msg and "'mathis1983'" in msg
    msg = _one_line({"losses": {"isrf_model": "mathis1983", "isrf_parameters": {"file": "x"}}})
    assert "losses.isrf_parameters.file = 'x': unknown parameter" in msg and "w_4000k" in msg
    msg = _one_line({"losses": {"isrf_model": "mathis1983", "isrf_parameters": {"w_3000k": -1}}})
    assert "losses.isrf_parameters.w_3000k = -1" in msg and "0.0 <= w_3000k" in msg
    msg = _one_line({"losses": {"isrf_model": "mathis1983", "photon_fields": []}})
    assert "losses.photon_fields" in msg and "'mathis1983' does not use them" in msg
    msg = _one_line({"losses": {"isrf_model": "table"}})
    assert "losses.isrf_parameters.file: required parameter" in msg
    msg = _one_line({"losses": {"isrf_model": "table", "isrf_parameters": {"file": "no.h5"}}})
    assert "losses.isrf_parameters.file = 'no.h5'" in msg and "not found" in msg
    bad = {"photon_fields": [{"name": "x", "temperature_k": -3.0, "energy_density_ev_cm3": 1}]}
    msg = _one_line({"losses": bad})
    assert "losses.photon_fields.0.temperature_k = -3.0" in msg


def _write(path, **datasets):
    with h5py.File(path, "w") as f:
        for k, v in datasets.items():
            f[k] = v


@pytest.mark.parametrize(
    "datasets, expected",
    [
        ({"r": [0, 1], "z": [0, 1], "photon_energy": [1, 2]}, "no dataset 'energy_density'"),
        ({"r": [0, 1], "photon_energy": [1, 2], "energy_density": np.ones((2, 2, 2))}, "'z'"),
        (
            {"r": [0, 1], "z": [0, 1], "photon_energy": [1, 2], "energy_density": np.ones((2, 2))},
            "energy_density has shape (2, 2), expected (n_r, n_z, n_e) = (2, 2, 2)",
        ),
        (
            {
                "r": [1, 0],
                "z": [0, 1],
                "photon_energy": [1, 2],
                "energy_density": np.ones((2,) * 3),
            },
            "dataset 'r' must be 1D with at least 2 increasing values",
        ),
        (
            {
                "r": [0, 1],
                "z": [0, 1],
                "photon_energy": [0, 2],
                "energy_density": np.ones((2,) * 3),
            },
            "photon_energy must be positive",
        ),
        (
            {
                "r": [0, 1],
                "z": [0, 1],
                "photon_energy": [1, 2],
                "energy_density": -np.ones((2,) * 3),
            },
            "energy_density must be finite and >= 0",
        ),
    ],
)
def test_bad_tables_are_one_line_errors(tmp_path, datasets, expected):
    path = tmp_path / "bad.h5"
    _write(path, **datasets)
    msg = _one_line({"losses": {"isrf_model": "table", "isrf_parameters": {"file": str(path)}}})
    assert f"losses.isrf_parameters.file = '{path}'" in msg and expected in msg


def test_a_file_that_is_not_hdf5_is_one_line(tmp_path):
    path = tmp_path / "isrf.txt"
    path.write_text("r z e u\n")
    msg = _one_line({"losses": {"isrf_model": "table", "isrf_parameters": {"file": str(path)}}})
    assert "is not an HDF5 file" in msg


def test_galactic_rz_is_what_the_terms_see():
    """The galaxy model hands the terms galactocentric (r, z): on a slab r = r_sun."""
    cfg = load_config(None, ["grid.geometry=slab1d"])
    grid = build_spatial_grid(cfg)
    model = GalaxyModel(cfg, grid, MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1, 10, 4))
    seen = []
    on_grid = model._photon_profile(lambda r, z: seen.append((r, z)) or np.ones(np.shape(z)))
    on_grid([grid.axes[0].centers])
    r, z = galactic_rz([grid.axes[0].centers], "slab1d", cfg.sun.r_kpc)
    np.testing.assert_array_equal(seen[0][0], r)
    np.testing.assert_array_equal(seen[0][1], z)


def _without_mpirun_notices(text: str) -> list[str]:
    """The output lines, less mpirun's own notices (blocks between lines of dashes)."""
    lines, inside = [], False
    for line in text.strip().splitlines():
        if set(line.strip()) == {"-"}:
            inside = not inside
        elif not inside:
            lines.append(line)
    return lines


def test_command_line_table_error_is_one_line(tmp_path_shared, capsys):
    """`galprop-py config` with a table that lacks a dataset, through the command line's entry
    function in this process (on 1 and on 2 ranks): exit code 2 on every rank and exactly one
    line, from rank 0."""
    from util import cli_error_problems

    from galprop_py.cli import main

    path = tmp_path_shared / "bad.h5"
    if MPI.COMM_WORLD.rank == 0:
        _write(path, r=[0, 1], z=[0, 1], photon_energy=[1, 2])
    MPI.COMM_WORLD.Barrier()
    capsys.readouterr()
    table = f'losses.isrf_parameters={{file = "{path}"}}'
    code = main(["config", "losses.isrf_model=table", table])
    err = capsys.readouterr().err
    fragments = ["galprop-py: error: config block losses:", "no dataset 'energy_density'"]
    problems = sum(MPI.COMM_WORLD.allgather(cli_error_problems(err, fragments)), [])
    assert MPI.COMM_WORLD.allgather(code) == [2] * MPI.COMM_WORLD.size
    assert not problems, problems


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="spawns its own MPI job")
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="needs mpirun")
def test_command_line_table_error_is_one_line_as_a_two_rank_job(tmp_path):
    """The same as a real job, ``mpirun -n 2``: exit code 2 and exactly one line from the
    program (rank 0 reports; mpirun adds its own notice)."""
    ranks = 2
    _write(tmp_path / "bad.h5", r=[0, 1], z=[0, 1], photon_energy=[1, 2])
    env = dict(
        os.environ,
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_rmaps_base_oversubscribe="1",
    )
    cmd = ["mpirun", "-n", str(ranks), sys.executable, "-m", "galprop_py", "config"]
    cmd += ["losses.isrf_model=table", 'losses.isrf_parameters={file = "bad.h5"}']
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    lines = _without_mpirun_notices(proc.stdout + proc.stderr)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("galprop-py: error: config block losses:")
    assert "no dataset 'energy_density'" in lines[0]
