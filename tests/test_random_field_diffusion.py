"""diffusion.spatial = 'random_field': D(x) ~ (B0 / B0_sun)^q (dB / dB_sun)^-2 at fixed rigidity.

Quasi-linear theory (../shared/reference/theory.md, "Quasi-Linear Theory (QLT) of Scattering";
Jokipii 1966, ApJ 146, 480): lambda_par ~ r_g^(2-q) L^(q-1) (B0 / dB)^2 with r_g = R / B0,
so s(x) = (B0 / B0_sun)^-(2-q) ((dB / B0)_sun / (dB / B0)(x))^2.  Checked against:

* the Jansson & Farrar 2012 field (2012a Table 1, regular; 2012b Table 1, random) evaluated in
  this file from the papers' formulas at the Sun, in disc region 6 and 2 kpc above the plane;
* user tables with linear B0(y), dB(x) (trilinear interpolation is exact), where s is known in
  closed form: s = 1/4 where dB is twice the Sun's at the same B0;
* the tensor: kappa_par and kappa_perp both carry s; D_pp carries 1 / s;
* a steady 3D run along JF12 with it converges and is non-negative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from mpi4py import MPI
from util import SMALL_3D, cell_centres, galaxy_model, raises_one_line, small_3d_data

from galprop_py import units
from galprop_py.config import ConfigError, config_from_dict
from galprop_py.run import run

Q_KOLMOGOROV = 5.0 / 3.0


# --- JF12 from the papers (only on the grid's +x axis, the paper's -x axis, azimuth 0) --------
def _logistic(x, h, w):
    return 1.0 / (1.0 + math.exp(-2.0 * (abs(x) - h) / w))


def _jf12_on_x_axis(r, z):
    """(|B_regular|, B_random) [muG] of JF12 at grid (r, 0, z), r > 5 kpc, z >= 0, from
    2012a eqs. and Table 1 (disc, toroidal halo, X field) and 2012b Table 1 (random).  On the
    +x axis of the grid the spiral through the point crosses it at r itself, so the disc region
    is the interval of r_1..r_8 = 5.1, 6.3, 7.1, 8.3, 9.8, 11.4, 12.7, 15.5 kpc holding r."""
    radii = (5.1, 6.3, 7.1, 8.3, 9.8, 11.4, 12.7, 15.5)
    region = next(i for i, ri in enumerate(radii) if r <= ri)
    b_disc = (0.1, 3.0, -0.9, -0.8, -2.0, -4.2, 0.0)[region]  # region 8 is not needed here
    b_rand = (10.81, 6.96, 9.59, 6.96, 1.96, 16.34, 37.29, 10.35)[region]
    pitch = math.radians(11.5)
    l_disc = _logistic(z, 0.40, 0.27)
    disc = b_disc * 5.0 / r * (1.0 - l_disc)
    b_r, b_phi = disc * math.sin(pitch), disc * math.cos(pitch)
    # toroidal halo, north: B_n = 1.4 muG, r_n = 9.22 kpc, w_h = 0.2 kpc, z0 = 5.3 kpc
    b_phi += math.exp(-abs(z) / 5.3) * l_disc * 1.4 * (1.0 - _logistic(r, 9.22, 0.20))
    # X field: B_X = 4.6 muG, Theta_X0 = 49 deg, r_X^c = 4.8 kpc, r_X = 2.9 kpc (outer part)
    theta0 = math.radians(49.0)
    r_p = r - abs(z) / math.tan(theta0)
    assert r_p > 4.8
    b_x = 4.6 * math.exp(-r_p / 2.9) * r_p / r
    b_r += b_x * math.cos(theta0)
    b_z = b_x * math.sin(theta0)
    regular = math.sqrt(b_r**2 + b_phi**2 + b_z**2)
    # random: disc b_i (5 kpc / r) exp(-z^2 / 2 (0.61 kpc)^2) and halo 4.68 muG
    # exp(-r / 10.97 kpc) exp(-z^2 / 2 (2.84 kpc)^2), in quadrature
    rand_disc = b_rand * 5.0 / r * math.exp(-0.5 * (z / 0.61) ** 2)
    rand_halo = 4.68 * math.exp(-r / 10.97) * math.exp(-0.5 * (z / 2.84) ** 2)
    return regular, math.hypot(rand_disc, rand_halo)


#: the blocks that take the place of SMALL_3D's: the Sun at 8.5 kpc, JF12, the random-field D
RANDOM_FIELD_3D = {
    "sun": {"r_kpc": 8.5},
    "losses": {**SMALL_3D["losses"], "b_field_model": "jf12"},
    "diffusion": {"spatial": "random_field"},
}


def _config(**blocks):
    """SMALL_3D with RANDOM_FIELD_3D; ``blocks`` update it."""
    return config_from_dict(small_3d_data(replace=RANDOM_FIELD_3D, **blocks))


def _at(s, x, y, z):
    return float(s([np.array([x]), np.array([y]), np.array([z])])[0])


@pytest.mark.serial
def test_jf12_factor_against_the_papers():
    """s = 1 at the Sun exactly; in disc region 6 (10.5, 0, 0) and in the halo (8.5, 0, 2)
    s = (B0 / B0_sun)^q (dB / dB_sun)^-2 with B0, dB of JF12 computed here from the papers'
    formulas and tables (rel 1e-10), for Kolmogorov (q = 5/3) and Kraichnan (q = 3/2).  The
    hand values: B0, dB = (1.046, 2.445) muG at the Sun, (1.890, 7.986) in region 6 (s = 0.251
    for q = 5/3), (1.023, 1.683) at z = 2 kpc (s = 2.03): within a factor 4 of the Sun's D.
    """
    b0_sun, db_sun = _jf12_on_x_axis(8.5, 0.0)
    # by hand: dB_sun = hypot(1.96 * 5 / 8.5, 4.68 exp(-8.5 / 10.97)) = hypot(1.153, 2.156)
    assert db_sun == pytest.approx(2.445, abs=1e-3)
    for q in (Q_KOLMOGOROV, 1.5):
        model = galaxy_model(_config(diffusion={"spatial_parameters": {"q": q, "s_min": 1e-3}}))
        s = model.diffusion_spatial_factor()
        assert _at(s, 8.5, 0.0, 0.0) == 1.0
        for x, z in ((10.5, 0.0), (8.5, 2.0)):
            b0, db = _jf12_on_x_axis(x, z)
            expected = (b0 / b0_sun) ** q * (db / db_sun) ** -2
            assert 1e-3 < expected < 100.0
            assert _at(s, x, 0.0, z) == pytest.approx(expected, rel=1e-10), (q, x, z)


# --- user tables with a closed-form s -----------------------------------------------------------
def _write_table(path, random=True):
    """B = (3 + 0.1 y, 0, 0) muG, B_random = 1 + 0.1 (x - 8.5) muG on x in [0, 20], y, z in
    [-12, 12], [-3, 3] kpc: linear, so the trilinear interpolation is exact."""
    import h5py

    x, y, z = np.linspace(0.0, 20.0, 5), np.linspace(-12.0, 12.0, 4), np.linspace(-3.0, 3.0, 3)
    xx, yy, _ = np.meshgrid(x, y, z, indexing="ij")
    with h5py.File(path, "w") as f:
        f["x"], f["y"], f["z"] = x, y, z
        f["Bx"], f["By"], f["Bz"] = 3.0 + 0.1 * yy, 0.0 * xx, 0.0 * xx
        if random:
            f["B_random"] = 1.0 + 0.1 * (xx - 8.5)
    return str(path)


def _table_config(path, outside="nearest", **spatial):
    return _config(
        losses={"b_field_model": "table", "b_field_parameters": {"path": path, "outside": outside}},
        diffusion={"spatial": "random_field", "spatial_parameters": spatial},
    )


@pytest.mark.serial
def test_table_factor_in_closed_form(tmp_path):
    """Uniform B0 and dB doubled from the Sun's (x = 18.5): s = 1/4 (the (B0/dB)^2 of QLT);
    B0 up by 7/6 at the same dB (y = 5): s = (7/6)^q; both, and off the plane (rel 1e-12);
    where dB = 0.15 muG (x = 0) s = (1/0.15)^2 = 44.4, cut to s_max = 10 when asked, and the
    floor b_floor_ug = 0.5 makes it (1/0.5)^2 = 4."""
    path = _write_table(tmp_path / "field.h5")
    s = galaxy_model(_table_config(path)).diffusion_spatial_factor()
    assert _at(s, 8.5, 0.0, 0.0) == 1.0
    assert _at(s, 18.5, 0.0, 0.0) == pytest.approx(0.25, rel=1e-12)
    assert _at(s, 8.5, 5.0, 0.0) == pytest.approx((3.5 / 3.0) ** Q_KOLMOGOROV, rel=1e-12)
    expected = (2.5 / 3.0) ** Q_KOLMOGOROV / 1.5**2  # y = -5, x = 13.5: dB = 1.5
    assert _at(s, 13.5, -5.0, 1.7) == pytest.approx(expected, rel=1e-12)
    assert _at(s, 0.0, 0.0, 0.0) == pytest.approx(1.0 / 0.15**2, rel=1e-12)
    s_cut = galaxy_model(_table_config(path, s_max=10.0)).diffusion_spatial_factor()
    assert _at(s_cut, 0.0, 0.0, 0.0) == pytest.approx(10.0, rel=1e-14)
    s_floor = galaxy_model(_table_config(path, b_floor_ug=0.5)).diffusion_spatial_factor()
    assert _at(s_floor, 0.0, 0.0, 0.0) == pytest.approx(4.0, rel=1e-12)
    s_q = galaxy_model(_table_config(path, q=1.5)).diffusion_spatial_factor()
    assert _at(s_q, 8.5, 5.0, 0.0) == pytest.approx((3.5 / 3.0) ** 1.5, rel=1e-12)


@pytest.mark.serial
def test_tensor_and_reacceleration_carry_the_factor(tmp_path):
    """Anisotropic tensor along the table's field (kperp/kpar = 0.1): every component at the
    cell centres is s(x) times that of the uniform run (kappa_par and kappa_perp alike, 1e-12);
    D_pp is the uniform one divided by s (1e-12), so D_pp D is unchanged."""
    path = _write_table(tmp_path / "field.h5")
    common = {"model": "anisotropic", "field_model": "table", "kperp_over_kpar": 0.1,
              "field_parameters": {"path": path, "outside": "nearest"}}  # fmt: skip
    losses = {"b_field_model": "table", "b_field_parameters": {"path": path, "outside": "nearest"}}
    va = {"v_alfven_km_s": 30.0}
    coeffs = {}
    for spatial in ("random_field", "uniform"):
        cfg = _config(losses=losses, diffusion={**common, "spatial": spatial}, reacceleration=va)
        model = galaxy_model(cfg)
        coeffs[spatial] = (model, model.coefficients(model.species[0]))
    model, c = coeffs["random_field"]
    centres = cell_centres(model)
    s = model.diffusion_spatial_factor()(centres)[..., None]
    assert s.min() < 0.5 and s.max() > 3.0  # the factor varies on this grid
    for i, j in ((0, 0), (1, 1), (2, 2), (0, 1)):
        got = c.diffusion.component(i, j, centres, (0, 1, 2))
        ref = coeffs["uniform"][1].diffusion.component(i, j, centres, (0, 1, 2))
        np.testing.assert_allclose(got, s * ref, rtol=1e-12, atol=1e-300)
    kpar = c.diffusion.kappa_par
    np.testing.assert_allclose(c.diffusion.kappa_perp, 0.1 * kpar, rtol=1e-14)
    dpp = c.momentum_diffusion.evaluate(centres)
    uniform = model.momentum_diffusion(
        c.species, c.p, c.p_edges, kpar, units.velocity_to_internal(30.0)
    )
    np.testing.assert_allclose(dpp * s, np.broadcast_to(uniform, dpp.shape), rtol=1e-12)


@pytest.mark.serial
def test_bad_input_is_one_line(tmp_path):
    """Field models without a random part, a table without B_random, the quasilinear tensor
    and out-of-range parameters: one-line errors naming diffusion.spatial (or the parameter)."""
    no_random = _write_table(tmp_path / "regular.h5", random=False)
    cases = [
        ({"losses": {"b_field_model": "exponential_disc"}},
         "diffusion.spatial = 'random_field' needs the random-field strength of "
         "losses.b_field_model; 'exponential_disc'"),
        ({"losses": {"b_field_model": "table", "b_field_parameters": {"path": no_random}}},
         "diffusion.spatial = 'random_field' needs the random-field strength of "
         "losses.b_field_model; 'table': its table has no 'B_random'"),
        ({"diffusion": {"spatial": "random_field", "model": "quasilinear"}},
         "config block diffusion: diffusion.spatial = 'random_field' does not apply to "
         "diffusion.model = 'quasilinear'"),
    ]  # fmt: skip
    for blocks, start in cases:
        with raises_one_line(ValueError, start=start):
            galaxy_model(_config(**blocks)).diffusion_spatial_factor()
    for params, text in (
        ({"s_min": 2.0}, "diffusion.spatial_parameters.s_min = 2.0"),
        ({"q": 2.5}, "diffusion.spatial_parameters.q = 2.5"),
        ({"alpha": 0.3}, "diffusion.spatial_parameters.alpha = 0.3: unknown parameter"),
    ):
        with raises_one_line(ConfigError, text):
            _config(diffusion={"spatial": "random_field", "spatial_parameters": params})


@pytest.mark.parallel
def test_steady_run_along_jf12():
    """Steady 3D run, 4 momenta, anisotropic (kperp/kpar = 0.1, the default scheme) along JF12
    with s(x) of its random field: it converges, psi >= -1e-12 max psi, and psi differs from
    the run without the factor by more than 5% of its maximum somewhere (the factor reaches
    the operator; on this coarse grid the maximum itself moves by 0.2%)."""
    diffusion = {"model": "anisotropic", "field_model": "jf12", "kperp_over_kpar": 0.1,
                 "delta": 0.0, "eta": 0.0}  # fmt: skip
    psi = {}
    for spatial in ("random_field", "uniform"):
        res = run(
            _config(diffusion={**diffusion, "spatial": spatial}), progress=False,
            write_output=False,
        )  # fmt: skip
        psi[spatial] = np.asarray(res.states["H1"])
        lo = MPI.COMM_WORLD.allreduce(float(psi[spatial].min()), op=MPI.MIN)
        hi = MPI.COMM_WORLD.allreduce(float(psi[spatial].max()), op=MPI.MAX)
        assert hi > 0 and lo >= -1e-12 * hi
    change = MPI.COMM_WORLD.allreduce(
        float(np.abs(psi["random_field"] - psi["uniform"]).max()), op=MPI.MAX
    )
    assert change > 0.05 * hi, (change, hi)
