"""The 3D Milky Way example (examples/milky_way_3d: anisotropic diffusion along JF12, spiral-arm
sources and gas) and the random field in the synchrotron losses.

Checks against independent numbers: the JF12 field computed here from
:mod:`galprop_py.galaxy.magnetic_jf12` (Jansson & Farrar 2012a, b), the synchrotron rate
(4/3) sigma_T c beta^2 gamma^2 B^2 / 8 pi (Rybicki & Lightman 1979, eq. 6.7b) written out
here, the AMS-02 proton flux the example is normalised to (PRL 114, 171103: 4.45e-2 m^-2 s^-1
sr^-1 GeV^-1 at 100 GeV), and the elongation of a steady density around a compact source
along b when kappa_perp < kappa_par (1 for an isotropic tensor, at most sqrt(kpar / kperp)).
"""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from util import config_differences

from galprop_py import units
from galprop_py.config import config_from_dict, load_config
from galprop_py.diagnostics import value_at_point
from galprop_py.galaxy import magnetic_jf12
from galprop_py.galaxy.sources import SnrParameters
from galprop_py.models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
from galprop_py.physics.species import species_from_name
from galprop_py.run import run

EXAMPLE = Path(__file__).parents[1] / "examples" / "milky_way_3d" / "config.toml"
COARSE = ["grid.n_x=21", "grid.n_y=21", "grid.n_z=17", "momentum.n=8", "output.plot=false"]
SUN = (8.5, 0.0, 0.0)  # the example's sun.r_kpc


def _model(cfg):
    return GalaxyModel(cfg, build_spatial_grid(cfg), build_momentum_grid(cfg))


def _point(xyz):
    return [np.array([c], float) for c in xyz]


# --- the example's configuration ---------------------------------------------------------------
@pytest.mark.serial
def test_example_config_is_the_specified_model():
    """81 x 81 x 65 cells on [-20, 20]^2 x [-8, 8] kpc (40 / 81 = 0.494 kpc in x, y; z cells
    sinh-spaced, finest at the disc, the outermost about 5 times the central one); protons and
    helium on kinetic energy per nucleon; anisotropic diffusion along JF12 with kperp / kpar =
    0.1; spiral-arm sources and gas; normalised to AMS-02 protons at 100 GeV (exact)."""
    cfg = load_config(EXAMPLE)
    grid = build_spatial_grid(cfg)
    assert grid.shape == (81, 81, 65)
    for ax, top in zip(grid.axes[:2], (20.0, 20.0), strict=True):
        np.testing.assert_allclose(np.diff(ax.edges), 40 / 81, rtol=1e-12)
        assert ax.edges[0] == pytest.approx(-top) and ax.edges[-1] == pytest.approx(top)
    z = grid.axes[2].edges
    assert (z[0], z[-1]) == (pytest.approx(-8.0), pytest.approx(8.0))
    np.testing.assert_allclose(z, -z[::-1], atol=1e-12)
    w = np.diff(z)
    # the sinh map's slope ratio is cosh(a) = 5; the finite cells' width ratio 4.83
    assert w[0] / w[32] == pytest.approx(5.0, rel=0.05) and np.all(w[:32] > w[1:33])
    assert {s.name for s in cfg.species} == {"H1", "He4"}
    assert cfg.momentum.axis == "kinetic_energy_per_nucleon"
    d = cfg.diffusion
    assert (d.model, d.field_model, d.kperp_over_kpar) == ("anisotropic", "jf12", 0.1)
    assert cfg.source.profile == "spiral_arms"
    assert (cfg.gas.hi_model, cfg.gas.h2_model) == ("spiral_arms", "spiral_arms")
    assert (cfg.sun.r_kpc, cfg.sun.z_kpc) == (SUN[0], SUN[2])
    n = cfg.normalization
    assert (n.species, n.t_n_gev, n.flux) == ("H1", 100.0, 4.45e-2)


@pytest.mark.serial
def test_example_is_the_default_galaxy():
    """The default model's galaxy in 3D: its halo height, kperp = the default's scalar D law
    (d0, r0, delta, eta, breaks and slopes) with kpar = 10 kperp, its v_A and wind, the gas
    and source models whose azimuthal averages are the default's (the arms' base models and
    parameters), its losses, normalisation and potential; its H1 and He4 source blocks.
    What differs on purpose: the Sun at 8.5 kpc (README), the grid."""
    ex, default = load_config(EXAMPLE), load_config(None)
    diff = []
    assert ex.grid.z_max_kpc == default.grid.z_max_kpc
    d, d0 = ex.diffusion, default.diffusion
    assert d.d0_cm2_s * d.kperp_over_kpar == pytest.approx(d0.d0_cm2_s, rel=1e-12)
    for key in ("r0_gv", "delta", "eta", "breaks_gv", "deltas_above"):
        diff += config_differences(getattr(d, key), getattr(d0, key), f"diffusion.{key}")
    for block in ("wind", "reacceleration", "normalization", "modulation", "cross_sections"):
        diff += config_differences(getattr(ex, block), getattr(default, block), block)
    g, g0 = ex.gas, default.gas
    assert (g.hi_parameters["base"], g.h2_parameters["base"]) == (g0.hi_model, g0.h2_model)
    assert (g.model, g.f_he, g.x_co) == (g0.model, g0.f_he, g0.x_co)
    assert ex.source.parameters["profile"] == default.source.profile
    assert SnrParameters().z_scale_kpc == default.source.z_scale_kpc
    assert ex.source.r_max_kpc == default.source.r_max_kpc
    for key in ("ionisation", "coulomb", "spallation"):
        assert getattr(ex.losses, key) == getattr(default.losses, key), key
    shared = {s.name: s for s in default.species}
    for s in ex.species:
        for key in ("abundance", "injection"):
            diff += config_differences(getattr(s, key), getattr(shared[s.name], key), s.name)
    assert not diff, "examples/milky_way_3d differs from the default galaxy: " + "; ".join(diff)


@pytest.mark.serial
def test_field_direction_at_the_sun_is_jf12():
    """b at the Sun and at two points off the plane = B_reg / |B_reg| of magnetic_jf12
    (1e-13); at the Sun (8.5 kpc, JF12's region 5, b_5 < 0) b points mostly along -phi_hat =
    -y (towards l = 90 deg, b_y < -0.9) and inwards, the X field adds 0 < b_z < 0.3."""
    model = _model(load_config(EXAMPLE, COARSE))
    direction = model.field_direction()
    p = magnetic_jf12.JF12Parameters()
    for xyz in (SUN, (8.3, 0.0, 0.6), (-5.0, 6.0, -1.2)):
        b = np.array(magnetic_jf12.regular_field(*_point(xyz), p))[:, 0]
        got = np.array([np.asarray(c, float).ravel()[0] for c in direction(_point(xyz))])
        np.testing.assert_allclose(got, b / np.linalg.norm(b), rtol=1e-13, atol=1e-15)
    got = np.array([np.asarray(c, float).ravel()[0] for c in direction(_point(SUN))])
    assert got[0] < 0 and got[1] < -0.9 and 0 < got[2] < 0.3


# --- the random field in the synchrotron losses ------------------------------------------------
def _electron_config(**losses):
    return config_from_dict(
        {
            "grid": {"geometry": "cartesian3d", "n_x": 9, "n_y": 9, "n_z": 7,
                     "x_max_kpc": 12.0, "y_max_kpc": 12.0, "z_max_kpc": 3.0},
            "momentum": {"min": 1.0, "max": 100.0, "n": 4},
            "species": [{"name": "electron", "injection": {"indices": [2.0]}}],
            "gas": {"model": "none"},
            "losses": {"ionisation": False, "coulomb": False, "b_field_model": "jf12", **losses},
            "source": {"profile": "gaussian", "sigma_kpc": 3.0},
            "normalization": {"enabled": False},
            "output": {"plot": False},
        }
    )  # fmt: skip


def _synchrotron_pdot(model, coords):
    """dp/dt [GeV/c per Myr] of the electron's synchrotron term at ``coords`` and momenta."""
    sp = species_from_name("electron")
    coeffs = model.coefficients(sp)
    terms = [(f, s) for f, s in coeffs.energy_loss.terms if f == model.magnetic_energy_profile]
    assert len(terms) == 1
    profile, spectrum = terms[0]
    return np.asarray(profile(coords), float)[..., None] * spectrum, coeffs.p_edges


@pytest.mark.serial
def test_synchrotron_losses_take_the_total_jf12_field():
    """The electrons' synchrotron loss at four points = (4/3) sigma_T c beta^2 gamma^2 B^2 /
    (8 pi) with B^2 = (1 + beta_stri) |B_reg|^2 + B_rand^2 of JF12 (2012a regular and
    striated, 2012b random), computed here (1e-10); with losses.synchrotron_field =
    'b_field_model' the configured component (regular: |B_reg|^2) instead.  At the Sun the
    random field dominates: B_total^2 / B_reg^2 > 5."""
    p = magnetic_jf12.JF12Parameters()
    xyz = [np.array([8.3, -4.0, 3.0, 6.0]), np.array([0.0, 6.0, -2.0, 6.0]),
           np.array([0.0, 0.3, -1.0, 0.1])]  # fmt: skip
    b_reg = magnetic_jf12.regular_field(*xyz, p)
    reg2 = sum(c * c for c in b_reg)
    total2 = (1.0 + p.beta_striated) * reg2 + magnetic_jf12.random_strength(*xyz, p) ** 2
    assert total2[0] / reg2[0] > 5.0
    for cfg, b2 in ((_electron_config(), total2),
                    (_electron_config(synchrotron_field="b_field_model"), reg2)):  # fmt: skip
        model = _model(cfg)
        got, pe = _synchrotron_pdot(model, xyz)
        m = units.M_E_GEV
        gamma = np.sqrt(1.0 + (pe / m) ** 2)
        beta = pe / (m * gamma)
        u_b = (b2 * 1e-12)[:, None] / (8.0 * math.pi)  # erg/cm^3, B in G
        de_dt = 4.0 / 3.0 * units.SIGMA_T_CM2 * units.C_CM_S * beta**2 * gamma**2 * u_b
        expected = de_dt / units.GEV_ERG / beta * units.MYR_S  # dT/dt = v dp/dt
        np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.serial
def test_other_field_models_keep_their_strength_for_synchrotron():
    """Models without a random component: B^2 of synchrotron = |B|^2 of the model (the
    default exponential disc, 5 muG at the Sun: 25, 1e-14)."""
    cfg = _electron_config(b_field_model="exponential_disc")
    model = _model(cfg)
    sun = model.sun_coords()  # the configured Sun (8.3 kpc)
    assert float(np.asarray(model.magnetic_energy_profile(sun)).ravel()[0]) == pytest.approx(
        25.0, rel=1e-14
    )


# --- runs --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_coarse_example_runs_and_gives_the_ams02_flux_at_the_sun():
    """The example on 21 x 21 x 17 cells x 8 momenta (1 and 2 ranks): the proton LIS at the
    Sun is finite and positive at every momentum, and the TOA flux at 100 GeV is AMS-02's
    4.45e-2 (the normalisation; 1e-6); helium is positive too; the Sun's spectrum (a value
    shared by all ranks) is the same on every rank."""
    cfg = load_config(EXAMPLE, COARSE)
    res = run(cfg, progress=False, write_output=False)
    h1 = res.sun_spectra["H1"]
    assert np.all(np.isfinite(h1["lis"])) and np.all(h1["lis"] > 0)
    assert np.all(res.sun_spectra["He4"]["lis"] > 0)
    at100 = np.exp(np.interp(np.log(100.0), np.log(h1["t_n"]), np.log(h1["toa"])))
    assert at100 == pytest.approx(4.45e-2, rel=1e-6)
    lis = MPI.COMM_WORLD.allgather(np.asarray(h1["lis"]))
    for other in lis[1:]:
        np.testing.assert_array_equal(other, lis[0])


def _blob_table(path: Path, centre, sigma):
    """An HDF5 source table with a Gaussian blob of width ``sigma`` [kpc] at ``centre``."""
    x = np.linspace(-14.0, 14.0, 113)
    z = np.linspace(-2.0, 2.0, 33)
    xx, yy, zz = np.meshgrid(x, x, z, indexing="ij")
    d2 = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (zz - centre[2]) ** 2
    with h5py.File(path, "w") as f:
        for name, axis in (("x", x), ("y", x), ("z", z)):
            f[name] = axis
        f["density"] = np.exp(-0.5 * d2 / sigma**2)
    return str(path)


def _fall_distance(res, centre, u, along, level=0.5):
    """Distance from ``centre`` along the unit vector ``u`` at which psi (lowest momentum)
    falls to ``level`` times its value at the centre (linear in ln psi between samples)."""
    d = np.linspace(0.0, 5.0, 41)
    psi = np.array([value_at_point(res.decomp, res.states["H1"], centre + s * u)[0] for s in d])
    assert np.all(psi > 0), along
    ln = np.log(psi / psi[0])
    k = int(np.argmax(ln < math.log(level)))
    assert k > 0, along
    w = (math.log(level) - ln[k - 1]) / (ln[k] - ln[k - 1])
    return d[k - 1] + w * (d[k] - d[k - 1])


def _blob_run(folder: Path, kperp_over_kpar):
    path = folder / "blob.h5"
    if MPI.COMM_WORLD.rank == 0:
        _blob_table(path, SUN, 0.4)
    MPI.COMM_WORLD.Barrier()
    cfg = config_from_dict(
        {
            "grid": {"geometry": "cartesian3d", "n_x": 57, "n_y": 57, "n_z": 17,
                     "x_max_kpc": 14.0, "y_max_kpc": 14.0, "z_max_kpc": 2.0},
            "momentum": {"min": 1.0, "max": 100.0, "n": 4},
            "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
            "diffusion": {"model": "anisotropic", "scheme": "centred", "field_model": "jf12",
                          "kperp_over_kpar": kperp_over_kpar, "d0_cm2_s": 4.0e29},
            "reacceleration": {"v_alfven_km_s": 0.0},
            "gas": {"model": "none"},
            "losses": {"ionisation": False, "coulomb": False, "spallation": False},
            "source": {"profile": "table", "parameters": {"file": str(path)}, "r_max_kpc": 30.0},
            "normalization": {"enabled": False},
            "output": {"plot": False},
        }
    )  # fmt: skip
    return run(cfg, progress=False, write_output=False)


@pytest.mark.slow
def test_density_elongates_along_the_local_jf12_field(tmp_path):
    """A compact source (Gaussian, sigma 0.4 kpc) at the Sun, kperp / kpar = 0.1, JF12 field,
    free escape at |z| = 2 kpc: in the plane z = 0 the distance at which psi falls to 1/10 of
    its central value is larger along the in-plane projection u of b than across it (mean of
    both senses) by a factor 1.5-3.2: sqrt(k_uu / kperp) = 3.1 bounds it for a point source in
    a uniform field; the field lines curving away from the straight line u and the source
    width make it 1.80 here.  With an isotropic tensor (kperp = kpar) the two agree within 3%
    (measured 1.004)."""
    tmp = Path(MPI.COMM_WORLD.bcast(str(tmp_path)))  # rank 0's folder, written by rank 0
    centre = np.array(SUN)
    b = np.array(magnetic_jf12.regular_field(*_point(SUN), magnetic_jf12.JF12Parameters()))
    u = np.array([b[0, 0], b[1, 0], 0.0])
    u /= np.linalg.norm(u)
    w = np.array([-u[1], u[0], 0.0])
    aspects = {}
    for ratio in (0.1, 1.0):
        sub = tmp / f"r{ratio}"
        if MPI.COMM_WORLD.rank == 0:
            sub.mkdir(exist_ok=True)
        MPI.COMM_WORLD.Barrier()
        res = _blob_run(sub, ratio)
        along = 0.5 * sum(_fall_distance(res, centre, s * u, "b", 0.1) for s in (1, -1))
        across = 0.5 * sum(_fall_distance(res, centre, s * w, "perp", 0.1) for s in (1, -1))
        aspects[ratio] = along / across
    assert 1.5 < aspects[0.1] < 3.2, aspects
    assert aspects[1.0] == pytest.approx(1.0, abs=0.03), aspects
