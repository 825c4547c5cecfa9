"""Fits of leptons: AMS-02 electrons, positrons and the positron fraction on their energy
axis, electrons made by two normalisation groups (their own primaries, the nuclei's
secondaries), a gradient through a normalisation target, and the build cache solving only
the species whose sources changed."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from util import closure_mock

from galprop_py import units
from galprop_py.config import config_from_dict
from galprop_py.fit import jacobian
from galprop_py.fit.build_once import BuildCache
from galprop_py.fit.fitter import Evaluator, fit
from galprop_py.run import run

#: the truth of the closure fit: electron index above the break, their flux at 20 GeV, phi
TRUE = {
    "species.2.injection.indices.1": 2.7,
    "species.2.normalize_to.1": 0.03,
    "phi.leptons": 0.6,
}


def _leptons(values=None) -> dict:
    """A slab (17 cells, 32 momenta) with protons and helium under [normalization], primary
    electrons under their own normalize_to (and the nuclei's secondary electrons), secondary
    positrons; [fit]: the electrons' high index, their flux at 20 GeV (log) and one
    potential against AMS-02 e-, e+ and the positron fraction (2-500 GeV)."""
    values = {**TRUE, **(values or {})}
    data = {
        "run": {"name": "leptons"},
        "grid": {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": 17},
        "momentum": {"min": 0.01, "max": 1.0e4, "n": 32},
        "species": [
            {"name": "H1", "injection": {"indices": [2.3]}},
            {"name": "He4", "abundance": 0.08, "injection": {"indices": [2.25]}},
            {
                "name": "electron",
                "injection": {
                    "indices": [1.6, values["species.2.injection.indices.1"]],
                    "breaks_gv": [4.0],
                    "smoothness": 0.2,
                },
                "normalize_to": [20.0, values["species.2.normalize_to.1"]],
            },
            {"name": "positron", "abundance": 0.0},
        ],
        "diffusion": {"d0_cm2_s": 4e28, "delta": 0.45},
        "source": {"profile": "thin_disc"},
        "modulation": {"phi_gv": values["phi.leptons"]},
        "solver": {"petsc": {"steady_ksp_rtol": 1e-11}},
        "output": {"plot": False},
        "fit": {
            "minimiser": "least_squares",
            "tolerance": 0.01,
            "parameters": [
                {"key": "species.2.injection.indices.1", "initial": 2.55, "min": 2.2, "max": 3.2},
                {"key": "species.2.normalize_to.1", "initial": 0.05, "min": 1e-3, "max": 1.0,
                 "log": True},
            ],
            "datasets": [
                {"name": "ams02_electron", "model": "e-", "x_min": 2.0, "x_max": 500.0,
                 "phi_group": "leptons"},
                {"name": "ams02_positron", "model": "e+", "x_min": 2.0, "x_max": 500.0,
                 "phi_group": "leptons"},
                {"name": "ams02_positron_fraction", "model": "e+/(e+ + e-)", "x_min": 2.0,
                 "x_max": 500.0, "phi_group": "leptons"},
            ],
            "modulation": {"leptons": {"initial": 0.45, "min": 0.1, "max": 1.5}},
        },
    }  # fmt: skip
    return data


def _sun(result) -> dict:
    return {n: s["lis"] for n, s in result.sun_spectra.items()}


def test_the_cache_solves_only_what_a_source_change_reaches():
    """After a solve, a new electron index re-solves the electrons alone (nothing is made
    from them); a new proton index re-solves the protons and what they feed (secondary
    electrons and positrons), not helium; a new D0 re-solves everything.  Every result
    equals a fresh run of its config, every species' LIS to 1e-10."""
    base = _leptons()
    del base["fit"]
    cache = BuildCache()
    cache.solve(config_from_dict(base))
    assert cache.stats.species_solved == 4

    def step(changes, solved):
        cfg = config_from_dict(changes)
        before = cache.stats.species_solved
        got = _sun(cache.solve(cfg))
        assert cache.stats.species_solved - before == solved, changes
        ref = _sun(run(cfg, progress=False, write_output=False))
        for name, lis in ref.items():
            np.testing.assert_allclose(got[name], lis, rtol=1e-10, atol=0, err_msg=name)

    e_index = _leptons({"species.2.injection.indices.1": 2.9})
    del e_index["fit"]
    step(e_index, 1)
    p_index = _leptons({"species.2.injection.indices.1": 2.9})
    del p_index["fit"]
    p_index["species"][0]["injection"]["indices"] = [2.4]
    step(p_index, 3)  # H1, electron, positron
    d0 = copy.deepcopy(p_index)
    d0["diffusion"]["d0_cm2_s"] = 5e28
    step(d0, 4)
    # responses larger than keep_bytes are not kept: everything is solved again
    small = BuildCache(keep_bytes=0)
    small.solve(config_from_dict(base))
    small.solve(config_from_dict(e_index))
    assert small.stats.species_solved == 8


def test_energy_axis_is_the_total_energy():
    """The model at an AMS-02 electron point E is the e- curve at kinetic energy E - m_e c^2
    (flux per GeV the same for dE and dT)."""
    ev = Evaluator(config_from_dict(_leptons()))
    u = ev.initial()
    curves = ev.chi2.curves(ev.local(ev._config_values(u)), ev.phis(u))["leptons"]
    c = next(c for c in ev.chi2.comparisons if c.name == "ams02_electron")
    e = curves["e-"]
    expect = np.exp(np.interp(np.log(c.x - units.M_E_GEV), np.log(e["t_n"]), np.log(e["toa"])))
    np.testing.assert_allclose(c.model_values({"e-": e}), expect, rtol=2e-4)
    assert c.x[0] == pytest.approx(2.0, rel=0.3)


def test_lepton_jacobian_equals_differences_of_full_solves():
    """The residual Jacobian (sensitivities for the index, the renormalised spectra for the
    electrons' own normalisation target, re-modulation for phi) equals central differences
    of full re-solves (steps 1e-3 of the ranges) to 1e-4 of each column's largest value."""
    ev = Evaluator(config_from_dict(_leptons()))
    u = ev.initial()
    r0, jac = jacobian.residual_jacobian(ev, u)
    assert ev.build.stats.species_solved == 4
    lo, hi = ev.bounds()

    def res(x):
        return np.concatenate(list(ev.residuals(x).values()))

    np.testing.assert_allclose(r0, res(u), rtol=1e-9, atol=1e-9)
    for j in range(u.size):
        h = 1e-3 * (hi[j] - lo[j])
        up, down = u.copy(), u.copy()
        up[j] += h
        down[j] -= h
        fd = (res(up) - res(down)) / (2 * h)
        scale = float(np.max(np.abs(fd)))
        assert scale > 0, ev.coords[j].name
        np.testing.assert_allclose(
            jac[:, j], fd, rtol=0, atol=1e-4 * scale, err_msg=ev.coords[j].name
        )
    # each later solve is the electrons' alone: the index up, down, and back at its value
    # for the first flux step (the cache compares with its last solve); the second flux step
    # and phi need none
    assert ev.build.stats.species_solved == 4 + 3


def test_lepton_closure_recovers_the_truth(tmp_path_shared):
    """least_squares with the analytic Jacobian, from a start 0.15 off in the index and
    x1.7 in the flux, recovers index, flux and potential from noise-free mock AMS-02 e-, e+
    and positron-fraction points to 1e-3, and writes a residual plot per dataset."""
    data = _leptons()
    data["run"]["output_dir"] = str(tmp_path_shared)  # rank 0 writes, every rank reads
    cfg = config_from_dict(data)
    mock = closure_mock(None, 0.02, evaluator=Evaluator(cfg), truth=TRUE)  # 2 % errors
    res = fit(cfg, data=mock)
    assert res.valid, res.message
    for name, true in TRUE.items():
        assert res.values[name] == pytest.approx(true, rel=1e-3), (name, res.values)
    assert res.chi2_total < 1e-4
    for name in ("ams02_electron", "ams02_positron", "ams02_positron_fraction"):
        assert (tmp_path_shared / f"fit_{name}.png").stat().st_size > 10_000


def test_charge_sign_potential_is_kept_by_remodulation():
    """A run with ``modulation.phi_negative_gv`` normalises its electrons' own target at that
    potential: re-normalised for phi_gv 0.4 -> 0.8, every species' LIS equals a full run at
    phi_gv = 0.8 with the same phi_negative_gv (1e-10), and so do the positive species' TOA
    at 0.8 and the electrons' TOA at their own 0.7."""
    from galprop_py.fit.chi2 import LocalSpectra

    def runs(phi):
        data = _leptons({"phi.leptons": phi})
        del data["fit"]
        data["modulation"]["phi_negative_gv"] = 0.7
        return run(config_from_dict(data), progress=False, write_output=False)

    first, other = runs(0.4), runs(0.8)
    local = LocalSpectra.from_result(first)
    lis = local.normalised_lis(0.8)
    for name, s in other.sun_spectra.items():
        np.testing.assert_allclose(lis[name], s["lis"], rtol=1e-10, err_msg=name)
    positive, negative = local.curves(0.8, 0.8), local.curves(0.7, 0.8)
    for name in ("H1", "He4", "positron"):
        np.testing.assert_allclose(
            positive[name]["toa"], other.sun_spectra[name]["toa"], rtol=1e-10, err_msg=name
        )
    np.testing.assert_allclose(
        negative["electron"]["toa"], other.sun_spectra["electron"]["toa"], rtol=1e-10
    )
