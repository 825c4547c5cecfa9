"""Transport laws by name (galprop_py.galaxy.transport): reacceleration models, the spatial
factor s(x) of D, and the config keys that choose them.

Slab solutions (thin disc Q delta(z), free escape at |z| = H, steady, no losses):
-d/dz (D(z) dN/dz) = Q delta(z) with D dN/dz = -Q/2 sign(z) (the flux is constant on each side)
and N(+-H) = 0, so N(z) = (Q/2) int_|z|^H dz' / D(z').

* two zones, D = D1 for |z| < h, D2 above: N = (Q/2) [(H - h)/D2 + (h - |z|)/D1] inside,
  (Q/2) (H - |z|)/D2 outside (N continuous, D dN/dz = -Q/2 on both sides of the interface);
* exponential, D = D0 exp(|z|/z_d): N = (Q z_d / 2 D0) [exp(-|z|/z_d) - exp(-H/z_d)].

The finite volumes take a two-point flux D_face (N_i+1 - N_i)/h between centres.  With the
harmonic mean of D over the centre-to-centre interval as D_face (``faces = "harmonic"``, the
default) that flux is exactly (Q/2) for both laws, so the discrete solution is exact (tolerance
1e-8, solver rtol 1e-13) for any interface position; with point values at the faces
(``faces = "point"``) the exponential law converges at order 2 (midpoint rule for int dz/D)
and a jump on a face at order 1 (the face sees one side only).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from util import integrated_density, slab_config, total_source

from galprop_py import units
from galprop_py.config import ConfigError, config_from_dict, load_config
from galprop_py.galaxy import transport
from galprop_py.grid import MomentumGrid
from galprop_py.models.galaxy import GalaxyModel, build_spatial_grid
from galprop_py.physics import kinematics
from galprop_py.run import run

H = 4.0
D_CM2_S = 3.0e28
D = units.diffusion_to_internal(D_CM2_S)


def _solve(cfg):
    return run(cfg, progress=False, write_output=False)


def _model(cfg):
    grid = build_spatial_grid(cfg)
    m = cfg.momentum
    return GalaxyModel(cfg, grid, MomentumGrid.log_spaced(m.axis, m.min, m.max, m.n))


def two_zone_slab(z, q, d1, d2, h_in, h):
    z = np.abs(np.asarray(z, float))
    inside = 0.5 * q * ((h - h_in) / d2 + (h_in - z) / d1)
    return np.where(z <= h_in, inside, 0.5 * q * (h - z) / d2)


def exponential_slab(z, q, d0, z_d, h):
    z = np.abs(np.asarray(z, float))
    return 0.5 * q * z_d / d0 * (np.exp(-z / z_d) - np.exp(-h / z_d))


def _slab_error(n_z, spatial, params, exact):
    res = _solve(
        slab_config(n_z=n_z, diffusion__spatial=spatial, diffusion__spatial_parameters=params)
    )
    z = res.decomp.grid.axes[0].centers
    ref = exact(z, total_source(res))
    return np.max(np.abs(integrated_density(res) - ref)) / ref.max()


# --- reacceleration ---------------------------------------------------------------------------
REACC = {
    "seo_ptuskin1994": lambda d: 4.0 / (3.0 * d * (4.0 - d**2) * (4.0 - d)),
    "ptuskin2003": lambda d: 1.0 / (d * (4.0 - d**2) * (4.0 - d)),
}


@pytest.mark.parametrize("name", list(REACC))
def test_reacceleration_model_gives_its_formula_at_the_momentum_edges(name):
    """D_pp at every momentum edge = w(delta) p^2 v_A^2 / D(p) with w of the model and D =
    D0 beta^eta (R/R0)^delta computed here (1e-12): seo_ptuskin1994 w = 4 / (3 delta (4 -
    delta^2)(4 - delta)), ptuskin2003 the same without 4/3."""
    delta, va_km_s = 0.4, 25.0
    cfg = slab_config(
        diffusion__delta=delta,
        diffusion__eta=1.0,
        diffusion__r0_gv=4.0,
        reacceleration__v_alfven_km_s=va_km_s,
        reacceleration__model=name,
    )
    model = _model(cfg)
    sp = model.species[0]
    coeffs = model.coefficients(sp)
    (profile, dpp), *rest = coeffs.momentum_diffusion.terms
    assert profile is None and not rest
    pe = model.momentum.momentum_edges(sp)
    rig, beta = kinematics.rigidity(pe, sp.charge), kinematics.beta(pe, sp.mass)
    d_edges = units.diffusion_to_internal(D_CM2_S * beta * (rig / 4.0) ** delta)
    va = units.velocity_to_internal(va_km_s)
    np.testing.assert_allclose(dpp, REACC[name](delta) * pe**2 * va**2 / d_edges, rtol=1e-12)


def test_reacceleration_models_differ_by_four_thirds():
    """w_seo_ptuskin1994 / w_ptuskin2003 = 4/3 for every delta (1e-14), and the D_pp of the
    two models differ by that factor at every edge (1e-14)."""
    deltas = np.linspace(0.1, 1.0, 10)
    ratio = transport.reacceleration_factor(
        "seo_ptuskin1994", deltas
    ) / transport.reacceleration_factor("ptuskin2003", deltas)
    np.testing.assert_allclose(ratio, 4.0 / 3.0, rtol=1e-14)
    dpp = {}
    for name in REACC:
        cfg = slab_config(
            diffusion__delta=0.33,
            reacceleration__v_alfven_km_s=30.0,
            reacceleration__model=name,
        )
        model = _model(cfg)
        dpp[name] = model.coefficients(model.species[0]).momentum_diffusion.terms[0][1]
    np.testing.assert_allclose(dpp["seo_ptuskin1994"] / dpp["ptuskin2003"], 4 / 3, rtol=1e-14)


def test_built_in_model_keeps_seo_ptuskin1994():
    """The built-in model's reacceleration is Seo & Ptuskin 1994 with its delta = 0.5:
    w = 4 / (3 * 0.5 * 3.75 * 3.5) = 0.2032 (1e-14), and D_pp at the edges is that w times
    p^2 v_A^2 / D (1e-12)."""
    cfg = load_config(None, ["grid.n_r=5", "grid.n_z=5", "momentum.n=8", "diffusion.delta=0.5"])
    assert cfg.reacceleration.model == "seo_ptuskin1994"
    assert transport.reacceleration_factor("seo_ptuskin1994", 0.5) == pytest.approx(
        4.0 / (3.0 * 0.5 * 3.75 * 3.5), rel=1e-14
    )
    model = _model(cfg)
    sp = model.species[0]
    pe = model.momentum.momentum_edges(sp)
    va = units.velocity_to_internal(cfg.reacceleration.v_alfven_km_s)
    dpp = model.coefficients(sp).momentum_diffusion.terms[0][1]
    w = 4.0 / (3.0 * 0.5 * 3.75 * 3.5)
    np.testing.assert_allclose(dpp, w * pe**2 * va**2 / model.diffusion_law(sp, pe), rtol=1e-12)


# --- spatial factors in the slab --------------------------------------------------------------
@pytest.mark.parametrize(
    "n_z,h_in",
    [
        (40, 1.0),  # the interface on a face
        (41, -4.0 + 8.0 * 25.5 / 41),  # on a cell centre
        (41, 1.05),  # inside a cell, between face and centre
        (81, 2.5),
    ],
)
def test_two_zone_slab_is_exact(n_z, h_in, tight_steady_rtol):
    """B1 with D = D1 below |z| = h_in and 3 D1 above (harmonic faces): the discrete solution
    is the piecewise-linear analytic one wherever the interface lies (1e-8)."""
    params = {"h_in_kpc": h_in, "ratio": 3.0}
    err = _slab_error(
        n_z, "two_zone", params, lambda z, q: two_zone_slab(z, q, D, 3.0 * D, h_in, H)
    )
    assert err < 1e-8, err


def test_two_zone_with_point_faces_is_first_order(tight_steady_rtol):
    """With point values at the faces the face on the interface takes the inner D only: error
    ~ h, order 1 +- 0.1 between n_z = 40, 80, 160 (the interface at 1 kpc stays on a face)."""
    params = {"h_in_kpc": 1.0, "ratio": 3.0, "faces": "point"}
    errors = [
        _slab_error(n, "two_zone", params, lambda z, q: two_zone_slab(z, q, D, 3 * D, 1.0, H))
        for n in (40, 80, 160)
    ]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.1), (errors, orders)


def test_exponential_slab_is_exact_with_harmonic_faces(tight_steady_rtol):
    """D = D0 exp(|z| / 2 kpc) (harmonic faces): N = Q z_d / 2 D0 [e^{-|z|/z_d} - e^{-H/z_d}]
    at the cell centres to 1e-8, odd and even n_z (z = 0 a centre or a face)."""
    for n_z in (41, 40):
        err = _slab_error(
            n_z,
            "exponential_z",
            {"z_d_kpc": 2.0},
            lambda z, q: exponential_slab(z, q, D, 2.0, H),
        )
        assert err < 1e-8, (n_z, err)


def test_exponential_slab_with_point_faces_is_second_order(tight_steady_rtol):
    """Point values of D at the faces: order 2 +- 0.1 between n_z = 41, 81, 161, error < 1e-3 at
    81 cells."""
    params = {"z_d_kpc": 2.0, "faces": "point"}
    errors = [
        _slab_error(n, "exponential_z", params, lambda z, q: exponential_slab(z, q, D, 2.0, H))
        for n in (41, 81, 161)
    ]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[1] < 1e-3
    assert np.all(np.abs(orders - 2.0) < 0.1), (errors, orders)


def test_reacceleration_uses_the_local_diffusion_coefficient():
    """With D(z) = D0 exp(|z|/z_d): kappa_zz at the cell centres is D(p) exp(|z|/z_d) and D_pp
    is D_pp(z = 0) exp(-|z|/z_d) (1e-12): D_pp D is the same everywhere."""
    cfg = slab_config(
        n_z=21,
        diffusion__delta=0.4,
        diffusion__spatial="exponential_z",
        diffusion__spatial_parameters={"z_d_kpc": 1.5},
        reacceleration__v_alfven_km_s=30.0,
    )
    model = _model(cfg)
    sp = model.species[0]
    coeffs = model.coefficients(sp)
    z = model.grid.axes[0].centers
    s = np.exp(np.abs(z) / 1.5)[:, None]
    kzz = coeffs.diffusion.component(0, 0, [z], (2,))
    np.testing.assert_allclose(kzz, s * coeffs.diffusion.kappa_par, rtol=1e-12)
    dpp = coeffs.momentum_diffusion.evaluate([z])
    uniform = model.momentum_diffusion(
        sp, coeffs.p, coeffs.p_edges, coeffs.diffusion.kappa_par, units.velocity_to_internal(30.0)
    )
    np.testing.assert_allclose(dpp, uniform / s, rtol=1e-12)
    np.testing.assert_allclose(dpp * s, np.broadcast_to(uniform, dpp.shape), rtol=1e-12)


def test_field_strength_factor_follows_the_exponential_disc():
    """diffusion.spatial = 'field_strength' with the exponential disc B = B_sun exp(-(r -
    r_sun)/10 - |z|/2): s = (B / B_sun)^(-1/3) = exp((r - r_sun)/30 + |z|/6) (1e-12); 1 at
    the Sun; with alpha = 1/2 (Kraichnan) the exponent halves; the floor caps s."""
    base = {
        "grid": {"geometry": "cylindrical2d", "n_r": 11, "n_z": 11},
        "momentum": {"n": 6},
        "species": [{"name": "H1"}],
        "diffusion": {"spatial": "field_strength"},
        "output": {"plot": False},
    }
    model = _model(config_from_dict(base))
    s = model.diffusion_spatial_factor()
    r, z = np.array([[2.0], [8.3], [15.0]]), np.array([[0.0, 1.0, -3.0]])
    expected = np.exp((r - 8.3) / 30.0 + np.abs(z) / 6.0)
    np.testing.assert_allclose(s([r, z]), expected, rtol=1e-12)
    assert s([np.array([8.3]), np.array([0.0])])[0] == pytest.approx(1.0, rel=1e-14)
    base["diffusion"]["spatial_parameters"] = {"alpha": 0.5, "b_floor_ug": 1.0}
    s2 = _model(config_from_dict(base)).diffusion_spatial_factor()
    got = s2([r, z])
    b = 5.0 * np.exp(-(r - 8.3) / 10.0 - np.abs(z) / 2.0)
    np.testing.assert_allclose(got, (np.maximum(b, 1.0) / 5.0) ** -0.5, rtol=1e-12)
    assert got.max() == pytest.approx(5.0**0.5, rel=1e-12)  # the floor at 1 muG


def test_uniform_spatial_factor_changes_nothing():
    """The default diffusion.spatial = 'uniform' leaves the tensor without a spatial factor and
    D_pp without a profile (the operators see exactly what they saw before)."""
    model = _model(slab_config(reacceleration__v_alfven_km_s=30.0, diffusion__delta=0.4))
    coeffs = model.coefficients(model.species[0])
    assert coeffs.diffusion.spatial_factor is None
    assert coeffs.momentum_diffusion.terms[0][0] is None


# --- config keys ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra,start",
    [
        (
            {"diffusion__spatial_parameters": {"z_d_kpc": 2.0}},
            "config block diffusion: diffusion.spatial_parameters.z_d_kpc = 2.0: unknown "
            "parameter of diffusion spatial factor model 'uniform'; allowed: none",
        ),
        (
            {
                "diffusion__spatial": "two_zone",
                "diffusion__spatial_parameters": {"h_in_kpc": 1, "ratio": 2, "z_d_kpc": 2},
            },
            "config block diffusion: diffusion.spatial_parameters.z_d_kpc = 2: unknown "
            "parameter of diffusion spatial factor model 'two_zone'; allowed: h_in_kpc, ratio, "
            "faces",
        ),
        (
            {"diffusion__spatial": "exponential_z"},
            "config block diffusion: diffusion.spatial_parameters.z_d_kpc: required parameter "
            "of diffusion spatial factor model 'exponential_z' is missing",
        ),
        (
            {
                "diffusion__spatial": "exponential_z",
                "diffusion__spatial_parameters": {"z_d_kpc": -1},
            },
            "config block diffusion: diffusion.spatial_parameters.z_d_kpc = -1: Input should be "
            "greater than 0",
        ),
        (
            {"diffusion__spatial": "field_strength", "diffusion__model": "quasilinear"},
            "config block diffusion: diffusion.spatial = 'field_strength' does not apply to "
            "diffusion.model = 'quasilinear'",
        ),
        (
            {"diffusion__spatial": "anisotropic_z"},
            "config key diffusion.spatial = 'anisotropic_z': allowed: 'uniform', "
            "'exponential_z', 'two_zone', 'field_strength' or 'random_field'",
        ),
        (
            {"reacceleration__model": "ptuskin2003"},
            "config block reacceleration: reacceleration.model = 'ptuskin2003' needs "
            "reacceleration.v_alfven_km_s > 0",
        ),
        (
            {"reacceleration__model": "seo_ptuskin1995", "reacceleration__v_alfven_km_s": 20},
            "config key reacceleration.model = 'seo_ptuskin1995': allowed: 'seo_ptuskin1994' or "
            "'ptuskin2003'",
        ),
    ],
)
def test_keys_a_law_does_not_use_are_one_line_errors(extra, start):
    with pytest.raises(ConfigError) as err:
        slab_config(**extra)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(start), msg


def test_a_z_law_needs_a_z_axis():
    """exponential_z on a spherical grid: a one-line ValueError naming the key when the model
    is built."""
    cfg = config_from_dict(
        {
            "grid": {"geometry": "spherical1d", "n_r": 11},
            "momentum": {"n": 6},
            "species": [{"name": "H1"}],
            "diffusion": {"spatial": "exponential_z", "spatial_parameters": {"z_d_kpc": 2.0}},
            "output": {"plot": False},
        }
    )
    model = _model(cfg)
    with pytest.raises(ValueError, match=r"^diffusion.spatial = 'exponential_z' needs a grid"):
        model.coefficients(model.species[0])


def test_harmonic_face_values():
    """At a face the two-zone factor is the harmonic mean over the centre-to-centre interval
    (1e-14): interface at 1.05 between centres 0.9 and 1.1 -> (0.2 / (0.15 + 0.05/3)) = 1.2;
    at a centre it is the point value; exponential: 1 / mean(exp(-|z|/z_d)) on the interval."""
    edges = np.linspace(-4.0, 4.0, 41)
    centres = 0.5 * (edges[1:] + edges[:-1])
    two = transport.SPATIAL.get("two_zone")
    assert two(8.3, edges[25], {"h_in_kpc": 1.05, "ratio": 3.0}, z_edges=edges) == (
        pytest.approx(1.2, rel=1e-14)
    )
    assert two(8.3, centres[25], {"h_in_kpc": 1.05, "ratio": 3.0}, z_edges=edges) == 3.0
    exp = transport.SPATIAL.get("exponential_z")
    a, b = centres[24], centres[25]
    mean = 2.0 * (math.exp(-a / 2.0) - math.exp(-b / 2.0)) / (b - a)
    assert exp(8.3, edges[25], {"z_d_kpc": 2.0}, z_edges=edges) == pytest.approx(1 / mean, 1e-14)
    # the boundary face: the interval from the last centre to the face
    a = centres[-1]
    mean = 2.0 * (math.exp(-a / 2.0) - math.exp(-4.0 / 2.0)) / (4.0 - a)
    assert exp(8.3, edges[-1], {"z_d_kpc": 2.0}, z_edges=edges) == pytest.approx(1 / mean, 1e-14)
