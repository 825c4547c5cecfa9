"""Gradients of chi^2 from forward sensitivities (galprop_py/fit/gradients.py): the
differentiated systems against their analytic derivatives, the sensitivities and d chi^2 /
d theta against central differences of full re-solves (rtol 1e-12), and the fits that use
them (on 1 and 2 ranks)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_fit import TRUE, _data, _mock
from util import raises_one_line

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.fit import gradients
from galprop_py.fit.fitter import Evaluator, fit
from galprop_py.models.galaxy import REFERENCE_RIGIDITY_GV
from galprop_py.operators import REGISTRY
from galprop_py.run import _operators
from galprop_py.transport import SpeciesTransport

#: d chi^2 / d theta against central differences: the issue's 1e-4
FD_RTOL = 1e-4


def _slab(parameters, species=None, datasets=None, **changes) -> dict:
    """The closure slab of test_fit (17 cells, 24 momenta, losses, reacceleration), solved to
    rtol 1e-12, with other free parameters."""
    data = _data()
    data["solver"] = {"petsc": {"steady_ksp_rtol": 1e-12}}
    if species is not None:
        data["species"] = species
    data["fit"]["parameters"] = parameters
    if datasets is not None:
        data["fit"]["datasets"] = datasets
    for key, value in changes.items():
        data[key] = value
    return data


def _central_differences(ev, u, step=1e-3) -> np.ndarray:
    """d chi^2 / d u by central differences of full solves, steps 1e-3 of each range."""
    lo, hi = ev.bounds()
    out = np.empty(u.size)
    for j in range(u.size):
        h = step * (hi[j] - lo[j])
        up, down = u.copy(), u.copy()
        up[j] += h
        down[j] -= h
        out[j] = (ev(up) - ev(down)) / (2 * h)
    return out


def _noisy_mock(cfg, u_true, seed=3) -> dict:
    """Mock points of ``cfg``'s datasets: the model at ``u_true`` scattered by 3 % (symmetric
    errors, so no residual changes its error side)."""
    ev = Evaluator(cfg)
    curves = ev.chi2.curves(ev.local(ev._config_values(u_true)), ev.phis(u_true))
    rng = np.random.default_rng(seed)
    out = {}
    for c in ev.chi2.comparisons:
        m = c.model_values(curves[c.phi_group])
        y = m * (1 + 0.03 * rng.standard_normal(m.size))
        out[c.name] = dataclasses.replace(c.data, x=c.x, y=y, y_err_lo=0.03 * m, y_err_hi=0.03 * m)
    return out


# --- the differentiated systems -------------------------------------------------------------
def test_differentiated_systems_match_the_analytic_derivatives():
    """Central differences of the assembled systems (no solve) applied to a smooth psi:
    d A / d log10 D0 = ln 10 (A_diff - A_reacc) (D_pp ~ 1/D0), d A / d v_A = 2 A_reacc / v_A,
    and for a single power law d S / d gamma = -ln(R / R_ref) S, d S / d a = S / a; to 1e-7
    of the largest entry."""
    params = [
        {"key": "diffusion.d0_cm2_s", "initial": 4e28, "min": 1e28, "max": 2e29, "log": True},
        {"key": "reacceleration.v_alfven_km_s", "initial": 20.0, "min": 0.0, "max": 40.0},
        {"key": "species.0.injection.indices.0", "initial": 2.3, "min": 2.0, "max": 2.8},
        {"key": "species.0.abundance", "initial": 1.0, "min": 0.5, "max": 2.0},
    ]
    species = [{"name": "H1", "injection": {"indices": [2.3]}}]
    ev = Evaluator(config_from_dict(_slab(params, species)))
    u = ev.initial()
    cfg = ev.config_for(ev._config_values(u))
    from galprop_py.decomposition import Decomposition
    from galprop_py.models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid

    grid, mgrid = build_spatial_grid(cfg), build_momentum_grid(cfg)
    model = GalaxyModel(cfg, grid, mgrid)
    dec = Decomposition(grid, mgrid.n, ev.comm)
    sp = model.species[0]
    coeffs = model.coefficients(sp)
    base = SpeciesTransport(dec, coeffs, _operators(cfg, mgrid, sp))
    z = dec.local_centers()[0][..., None]
    p = coeffs.p
    psi = np.exp(-np.abs(z) / 2.0) * p**-2.7 * (1 + 0.1 * np.sin(3 * np.log(p)))
    psi_g = gradients.ghosted(dec, psi)

    def part(op):
        return SpeciesTransport(dec, coeffs, [op]).system().apply_local(psi_g)

    a_diff = part(REGISTRY["diffusion"](cfg.diffusion.scheme))
    a_reac = part(REGISTRY["reacceleration"]())
    source = base.source()
    rigidity = p / abs(sp.charge)
    expected = [
        -np.log(10.0) * (a_diff - a_reac),
        -2.0 / 20.0 * a_reac,
        -np.log(rigidity / REFERENCE_RIGIDITY_GV) * source,
        source / 1.0,
    ]
    derivs = gradients.derivatives(ev, u, cfg, model)
    assert [d.key for d in derivs] == [q["key"] for q in params]
    g = "[normalization]"
    for d, want in zip(derivs, expected, strict=True):
        got = gradients.differentiated_terms(
            dec, d, base, model, _operators, {g: psi_g}, {g: {}}, g
        )[g]
        scale = dec.comm.tompi4py().allreduce(float(np.max(np.abs(want))), op=max)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7 * scale, err_msg=d.key)
    base.destroy()


# --- sensitivities and gradients against full re-solves --------------------------------------
def test_sensitivities_of_a_cycle_equal_differences_of_full_runs():
    """H1 <-> H2 (p + p -> d, d -> p: a production cycle swept to convergence) and He4,
    without normalisation: d LIS / d theta of every species from the sensitivities equals
    central differences of full runs (steps 1e-3 of the range) to 1e-4 of its largest
    value, for log10 D0 and the helium fraction of the gas (spallation and production);
    the LIS itself is the run's (1e-12)."""
    params = [
        {"key": "diffusion.d0_cm2_s", "initial": 4e28, "min": 1e28, "max": 2e29, "log": True},
        {"key": "gas.f_he", "initial": 0.1, "min": 0.05, "max": 0.15},
    ]
    species = [
        {"name": "H1", "injection": {"indices": [2.35]}},
        {"name": "H2", "abundance": 0.0},
        {"name": "He4", "abundance": 0.08},
    ]
    data = _slab(params, species, normalization={"enabled": False})
    data["fit"]["datasets"] = [{"name": "voyager1_proton", "model": "H", "x_min": 0.02}]
    data["fit"]["modulation"] = {}
    ev = Evaluator(config_from_dict(data))
    u = ev.initial()
    tg = gradients.solve_tangents(ev, u)
    ref = ev.local(ev._config_values(u))
    assert set(tg.local.lis) == {"H1", "H2", "He4"}
    for name, lis in ref.lis.items():
        np.testing.assert_allclose(tg.local.lis[name], lis, rtol=1e-12, err_msg=name)
    lo, hi = ev.bounds()
    for j in range(u.size):
        h = 1e-3 * (hi[j] - lo[j])
        up, down = u.copy(), u.copy()
        up[j] += h
        down[j] -= h
        lis_up = ev.local(ev._config_values(up)).lis
        lis_down = ev.local(ev._config_values(down)).lis
        for name in ref.lis:
            fd = (lis_up[name] - lis_down[name]) / (2 * h)
            scale = float(np.max(np.abs(fd)))
            assert scale > 0, name
            np.testing.assert_allclose(
                sum(tg.dlis[j][name].values()), fd, rtol=0, atol=FD_RTOL * scale, err_msg=(name, j)
            )


def test_gradient_of_every_parameter_kind_matches_central_differences():
    """Slab with protons and helium: d chi^2 / d theta for log10 D0, delta, v_A, an
    injection index, the helium abundance and the potential against central differences
    of full re-solves (rtol 1e-12), each to 1e-4 relative."""
    params = [
        {"key": "diffusion.d0_cm2_s", "initial": 5e28, "min": 1e28, "max": 2e29, "log": True},
        {"key": "diffusion.delta", "initial": 0.45, "min": 0.3, "max": 0.7},
        {"key": "reacceleration.v_alfven_km_s", "initial": 25.0, "min": 0.0, "max": 40.0},
        {"key": "species.0.injection.indices.1", "initial": 2.35, "min": 2.0, "max": 2.8},
        {"key": "species.1.abundance", "initial": 0.07, "min": 0.03, "max": 0.15},
    ]
    species = [
        _data()["species"][0],
        {"name": "He4", "abundance": 0.09, "injection": {"indices": [2.3]}},
    ]
    datasets = [
        {"name": "ams02_proton_rigidity", "model": "H", "x_min": 2.0, "x_max": 1000.0,
         "phi_group": "ams"},
        {"name": "ams02_helium_rigidity", "model": "He", "x_min": 2.0, "x_max": 1000.0,
         "phi_group": "ams"},
        {"name": "voyager1_proton", "model": "H", "x_min": 0.02},
    ]  # fmt: skip
    cfg = config_from_dict(_slab(params, species, datasets))
    u_true = np.array([np.log10(4e28), 0.5, 20.0, 2.39, 0.09, 0.6])
    ev = Evaluator(cfg, data=_noisy_mock(cfg, u_true))
    u = ev.initial()
    grad = ev.gradient(u)
    fd = _central_differences(ev, u)
    assert np.all(np.abs(fd) > 0)
    np.testing.assert_allclose(grad, fd, rtol=FD_RTOL)
    assert ev.tangents.evaluations == 1 and len(ev.tangents.seconds) == 1


def test_gradient_of_a_2d_network_matches_central_differences():
    """Cylindrical 9 x 17 cells (multigrid), C12 -> B11, B10 with protons: d chi^2 / d theta
    for log10 D0, the carbon abundance, the helium fraction of the gas (in A and in the
    production of boron) and the potential, against B/C, C and p, each to 1e-4 relative of
    central differences of full re-solves (rtol 1e-12)."""
    params = [
        {"key": "diffusion.d0_cm2_s", "initial": 5e28, "min": 1e28, "max": 2e29, "log": True},
        {"key": "species.0.abundance", "initial": 3.5e-3, "min": 1e-3, "max": 1e-2},
        {"key": "gas.f_he", "initial": 0.1, "min": 0.05, "max": 0.15},
    ]
    species = [
        {"name": "C12", "abundance": 3e-3},
        {"name": "B11", "abundance": 0.0},
        {"name": "B10", "abundance": 0.0},
        _data()["species"][0],
    ]
    datasets = [
        {"name": "ams02_bc_rigidity", "model": "B/C", "x_min": 2.0, "x_max": 1000.0,
         "phi_group": "ams"},
        {"name": "ams02_carbon_rigidity", "model": "C", "x_min": 2.0, "x_max": 1000.0,
         "phi_group": "ams"},
        {"name": "ams02_proton_rigidity", "model": "H", "x_min": 2.0, "x_max": 1000.0,
         "phi_group": "ams"},
    ]  # fmt: skip
    data = _slab(params, species, datasets, source={"profile": "snr"})
    data["grid"] = {"geometry": "cylindrical2d", "r_max_kpc": 20.0, "n_r": 9, "z_max_kpc": 4.0,
                    "n_z": 17}  # fmt: skip
    cfg = config_from_dict(data)
    u_true = np.array([np.log10(4e28), 3e-3, 0.1, 0.6])
    ev = Evaluator(cfg, data=_noisy_mock(cfg, u_true))
    u = ev.initial()
    grad = ev.gradient(u)
    fd = _central_differences(ev, u)
    np.testing.assert_allclose(grad, fd, rtol=FD_RTOL)


def test_jacobian_of_network_element_abundances_matches_central_differences():
    """A [network] of Ne, Na, Mg with protons (slab, 17 cells, 24 momenta), free
    ``network.elements.Ne.abundance`` (log10) and ``network.elements.Mg.abundance`` (linear)
    against Voyager 1 Ne and Mg: d residuals / d u from the sensitivities equals central
    differences of full re-solves (rtol 1e-12, steps 1e-3 of the ranges) to 1e-4 of each
    column's largest entry (measured: 3.5e-6 log Ne, the differences' own h^2 error; 1e-10
    Mg), the normalisation on H1 (which the fragments of Ne and Mg feed) included: the Mg
    residuals depend on Ne through it alone.  The build cache's solves, which take the
    species that a changed element does not feed from the last solve, are those of fresh
    runs.  A round-off negative LIS value of a species no dataset reads (the positron tail
    of the full network: -7e-12 of 1e4) changes no column (it made every column zero: the
    step of the post-solve chain's differences was set by |dLIS| / max(LIS, 1e-300))."""
    params = [
        {"key": "network.elements.Ne.abundance", "initial": 1.5e-4, "min": 1.34e-5,
         "max": 1.34e-3, "log": True},
        {"key": "network.elements.Mg.abundance", "initial": 2.2e-4, "min": 1e-4, "max": 4e-4},
    ]  # fmt: skip
    species = [_data()["species"][0]]
    datasets = [
        {"name": "voyager1_neon", "model": "Ne", "x_max": 0.5},
        {"name": "voyager1_magnesium", "model": "Mg", "x_max": 0.5},
    ]
    data = _slab(params, species, datasets)
    data["fit"]["modulation"] = {}
    data["network"] = {
        "z_min": 10,
        "z_max": 12,
        "injection": {"indices": [2.3]},
        "elements": {"Ne": {"abundance": 1.34e-4}, "Mg": {"abundance": 2.43e-4}},
    }
    ev = Evaluator(config_from_dict(data))
    u = ev.initial()
    jac = ev.jacobian(u)
    lo, hi = ev.bounds()
    points = []
    for j in range(u.size):
        h = 1e-3 * (hi[j] - lo[j])
        up, down = u.copy(), u.copy()
        up[j] += h
        down[j] -= h
        fd = (ev.residual_vector(up) - ev.residual_vector(down)) / (2 * h)
        scale = float(np.max(np.abs(fd)))
        assert scale > 0, j  # the abundance reaches the model
        np.testing.assert_allclose(jac[:, j], fd, rtol=0, atol=FD_RTOL * scale, err_msg=j)
        points += [up, down]
    # a change of Ne alone: Mg and Na were taken from the last solve
    assert ev.build.stats.species_reused >= 2 * 4
    fresh = Evaluator(config_from_dict(data), build_once=False)
    for x in points[:2]:
        np.testing.assert_allclose(ev.residual_vector(x), fresh.residual_vector(x), rtol=1e-10)
    # a round-off negative value of Na23 (read by no dataset) with a sensitivity there
    tg = ev.tangents.get(ev, u)
    group = next(iter(tg.local.parts["Na23"]))
    part = tg.local.parts["Na23"][group]
    part[-1] = -1e-16 * float(np.max(np.abs(part)))
    for d in tg.dlis:
        d["Na23"][group][-1] = 1e-3 * abs(part[-1])
    np.testing.assert_allclose(ev.jacobian(u), jac, rtol=1e-10, atol=0)


# --- used by the fit ------------------------------------------------------------------------
def test_closure_fit_with_analytic_gradients():
    """MIGRAD with the sensitivities' gradient and Gauss-Newton Hessian recovers the truth
    of test_fit's noise-free closure to 1e-3, with HESSE errors; each gradient is one solve
    with sensitivities, counted among the model solves."""
    data = _data()
    data["fit"]["gradient"] = "analytic"
    res = fit(config_from_dict(data), data=_mock(), write=False)
    assert res.valid, res.message
    for name, true in TRUE.items():
        assert res.values[name] == pytest.approx(true, rel=1e-3), (name, res.values)
        assert res.errors[name] > 0
    assert 0 < res.gradient_evaluations
    assert res.as_dict()["gradient_evaluations"] == res.gradient_evaluations
    assert res.solves <= res.calls + res.gradient_evaluations


@pytest.mark.serial
@pytest.mark.slow
def test_analytic_gradients_save_model_solves():
    """The same closure with fit.gradient = "none" (the minimisers' own finite differences):
    MIGRAD + HESSE needs more than twice the model solves of the analytic gradients, and
    both find the same minimum (1e-4 in every coordinate) with HESSE errors agreeing within
    2 %; least_squares with the analytic Jacobian recovers the truth to 1e-3 with fewer
    solves than with its central-difference Jacobian."""
    mock = _mock()
    runs = {}
    for minimiser in ("migrad", "least_squares"):
        for gradient in ("analytic", "none"):
            data = _data(minimiser=minimiser)
            data["fit"]["gradient"] = gradient
            runs[minimiser, gradient] = fit(config_from_dict(data), data=mock, write=False)
            assert runs[minimiser, gradient].valid, runs[minimiser, gradient].message
    a, n = runs["migrad", "analytic"], runs["migrad", "none"]
    assert 2 * a.solves < n.solves, (a.solves, n.solves)
    np.testing.assert_allclose(a.fit_values, n.fit_values, rtol=1e-4)
    np.testing.assert_allclose(a.fit_errors, n.fit_errors, rtol=0.02)
    a, n = runs["least_squares", "analytic"], runs["least_squares", "none"]
    for name, true in TRUE.items():
        assert a.values[name] == pytest.approx(true, rel=1e-3), (name, a.values)
    assert a.solves < n.solves, (a.solves, n.solves)


# --- what is refused --------------------------------------------------------------------------
def test_bad_gradient_option_is_one_line():
    data = _data()
    data["fit"]["gradient"] = "adjoint"
    with raises_one_line(ConfigError, "fit.gradient = 'adjoint': allowed: 'analytic' or 'none'"):
        config_from_dict(data)


def test_parameters_the_sensitivities_cannot_take_are_refused():
    """A parameter that moves the grid, and a time-dependent run: one line naming the key
    and the way out (fit.gradient = 'none')."""
    data = _data()
    data["fit"]["parameters"].append(
        {"key": "grid.z_max_kpc", "initial": 4.0, "min": 3.0, "max": 6.0}
    )
    ev = Evaluator(config_from_dict(data))
    with raises_one_line(
        ValueError, "parameter 'grid.z_max_kpc' changes the spatial grid", "fit.gradient = 'none'"
    ):
        ev.gradient(ev.initial())
    data = _data()
    data["run"]["mode"] = "transient"
    data["time"] = {"dt_myr": 1.0, "t_end_myr": 2.0}
    with pytest.raises(ConfigError, match="fit.gradient = 'analytic' needs run.mode") as e:
        Evaluator(config_from_dict(data))
    assert "use fit.gradient = 'none'" in str(e.value) and "\n" not in str(e.value)
    data["fit"]["gradient"] = "none"
    Evaluator(config_from_dict(data))
