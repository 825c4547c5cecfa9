"""Helpers shared by the tests: configs of idealised problems run through the user path."""

from __future__ import annotations

import numpy as np

from galprop_py.config import config_from_dict


def slab_config(n_z=81, h=4.0, d0=3.0e28, v=0.0, mode="steady", **extra):
    """B1/B2/B5-type slab: constant D, thin-disc source, no gas, no losses."""
    data = {
        "run": {"mode": mode, "output_dir": "unused"},
        "grid": {"geometry": "slab1d", "z_max_kpc": h, "n_z": n_z},
        "momentum": {"min": 1.0, "max": 100.0, "n": 6, "boundary": "closed"},
        "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
        "diffusion": {"d0_cm2_s": d0, "delta": 0.0, "eta": 0.0},
        "wind": {"v0_km_s": v},
        "gas": {"model": "none"},
        "losses": {"ionisation": False, "coulomb": False, "spallation": False},
        "source": {"profile": "thin_disc"},
        "normalization": {"enabled": False},
        "output": {"plot": False},
    }
    for key, value in extra.items():
        block, name = key.split("__")
        data.setdefault(block, {})[name] = value
    return config_from_dict(data)


def integrated_density(result, name="H1"):
    """Momentum-integrated density sum_k psi_k dp_k on the whole grid (every rank)."""
    sp = result.model._by_name[name]
    dp = np.diff(result.model.momentum.momentum_edges(sp))
    full = result.decomp.gather_to_all(result.states[name])
    return full @ dp


def total_source(result, name="H1"):
    """Total source per unit disc area, sum_k S_k dp_k (thin disc of unit surface density)."""
    sp = result.model._by_name[name]
    p = result.model.momentum.momentum(sp)
    dp = np.diff(result.model.momentum.momentum_edges(sp))
    coeffs = result.model.coefficients(sp)
    spectrum = coeffs.source.terms[0][1]
    assert spectrum.shape == p.shape
    return float(spectrum @ dp)


def b3_network_data(n_z=81, h=4.0, n_h=1.0):
    """The B3 setup as a config dict: C12 (280 mb) -> B10 (250 mb, produced with 70 mb), same
    A/Z, thin-disc source, gas (no helium) only in the central disc cell, spallation on."""
    dz = 2 * h / n_z
    data = slab_config(n_z=n_z, h=h).model_dump()
    data["species"] = [
        {"name": "C12", "sigma_inelastic_mb": 280.0, "injection": {"indices": [2.2]}},
        {"name": "B10", "abundance": 0.0, "sigma_inelastic_mb": 250.0, "parents": {"C12": 70.0}},
    ]
    data["gas"] = {
        "model": "uniform",
        "n_h_cm3": n_h,
        "f_he": 0.0,
        "disc_half_thickness_kpc": 0.5 * dz,
    }
    data["losses"]["spallation"] = True
    return data


# --- the closure fit (moved here from test_fit.py; test_fit, test_fit_gradients, test_fit_pulls
# and benchmarks/fit_pulls.py use it) ---------------------------------------------------------
TRUE_D0, TRUE_GAMMA, TRUE_PHI = 4.0e28, 2.39, 0.6
MOCK_ERROR = 0.03  # relative error of the mock points
#: the true values of the closure fit's parameters (values, not the minimiser's coordinates)
CLOSURE_TRUE = {"diffusion.d0_cm2_s": TRUE_D0, "species.0.injection.indices.1": TRUE_GAMMA,
                "phi.ams": TRUE_PHI}  # fmt: skip


def closure_data(output_dir="unused", minimiser="migrad") -> dict:
    """A slab with protons (17 cells, 24 momenta), the galaxy's losses and reacceleration;
    [fit]: D0 (log), the injection index above 7 GV and one potential, against AMS-02
    protons (rigidity) and Voyager 1 (LIS), started away from the truth."""
    return {
        "run": {"output_dir": str(output_dir), "name": "closure"},
        "grid": {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": 17},
        "momentum": {"min": 0.01, "max": 1.0e4, "n": 24},
        "species": [
            {
                "name": "H1",
                "injection": {"indices": [1.9, TRUE_GAMMA], "breaks_gv": [7.0], "smoothness": 0.2},
            }
        ],
        "diffusion": {"d0_cm2_s": TRUE_D0, "delta": 0.5},
        "reacceleration": {"v_alfven_km_s": 20.0},
        "source": {"profile": "thin_disc"},
        "modulation": {"phi_gv": TRUE_PHI},
        # smooth chi^2 for the finite differences of the minimisers
        "solver": {"petsc": {"steady_ksp_rtol": 1e-10}},
        "output": {"plot": False},
        "fit": {
            "minimiser": minimiser,
            "tolerance": 0.01,
            "parameters": [
                {"key": "diffusion.d0_cm2_s", "initial": 6e28, "min": 1e28, "max": 2e29,
                 "log": True},
                {"key": "species.0.injection.indices.1", "initial": 2.3, "min": 2.0, "max": 2.8},
            ],
            "datasets": [
                {"name": "ams02_proton_rigidity", "model": "H", "x_min": 2.0, "x_max": 1000.0,
                 "phi_group": "ams"},
                {"name": "voyager1_proton", "model": "H", "x_min": 0.02},
            ],
            "modulation": {"ams": {"initial": 0.45, "min": 0.1, "max": 1.5}},
        },
    }  # fmt: skip


def closure_mock(noise_seed=None, relative_error=MOCK_ERROR, evaluator=None) -> dict:
    """Mock points: the model at the true values (:data:`CLOSURE_TRUE`) on each dataset's own
    points (and axis), with symmetric errors, optionally scattered by Gaussian noise of that
    size (``numpy.random.default_rng(noise_seed)``; datasets in the [fit] order).

    ``relative_error``: one relative error for every point (3 %), or ``None``: each point's
    own relative total error in the shipped dataset (mean of its lower and upper errors over
    its value) times the model.  ``evaluator``: an :class:`~galprop_py.fit.fitter.Evaluator`
    of the closure config to reuse (its LIS cache then holds the truth: one solve for many
    mocks); by default a new one."""
    import dataclasses

    from galprop_py.fit.fitter import Evaluator

    ev = evaluator or Evaluator(config_from_dict(closure_data()))
    u = np.array([c.coordinate(CLOSURE_TRUE[c.name]) for c in ev.coords])
    curves = ev.chi2.curves(ev.local(ev._config_values(u)), ev.phis(u))
    rng = np.random.default_rng(noise_seed)
    mock = {}
    for c in ev.chi2.comparisons:
        m = c.model_values(curves[c.phi_group])
        if relative_error is None:
            rel = 0.5 * (c.err_lo + c.err_hi) / c.y
        else:
            rel = np.full(m.size, float(relative_error))
        y = m if noise_seed is None else m * (1 + rel * rng.standard_normal(m.size))
        err = rel * m
        mock[c.name] = dataclasses.replace(c.data, x=c.x, y=y, y_err_lo=err, y_err_hi=err)
    return mock
