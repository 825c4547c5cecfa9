"""Posterior sampling (galprop_py.fit.sampling): a known Gaussian posterior through the
parallel map, the same chain on any number of sub-communicators, a tiny real-model run
that writes its chain, and the [fit.sampling] config errors."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc
from test_fit import _data

from galprop_py.config import ConfigError, config_from_dict
from galprop_py.fit.fitter import Coordinate, Evaluator
from galprop_py.fit.sampling import log_probability, sample, start_ball

MEAN = np.array([0.3, -1.2])
SIGMA = np.array([0.5, 0.2])
RHO = 0.6
COV = np.array(
    [[SIGMA[0] ** 2, RHO * SIGMA[0] * SIGMA[1]], [RHO * SIGMA[0] * SIGMA[1], SIGMA[1] ** 2]]
)


class Gaussian:
    """A fake evaluator: chi^2 = (u - MEAN)^T COV^-1 (u - MEAN), bounds more than 10 sigma
    away (the truncation changes mean and std by less than 1e-20); counts its calls."""

    def __init__(self, comm):
        self.comm = comm
        self.coords = [
            Coordinate("a", "config", False, 0.0, -5.0, 5.0),
            Coordinate("b", "config", True, 0.0, -4.0, 2.0),
        ]
        self.icov = np.linalg.inv(COV)
        self.calls = 0

    def initial(self):
        return np.array([c.initial for c in self.coords])

    def bounds(self):
        return (np.array([c.lower for c in self.coords]), np.array([c.upper for c in self.coords]))

    def __call__(self, u):
        self.calls += 1
        d = np.asarray(u) - MEAN
        return float(d @ self.icov @ d)


def _cfg(tmp, **sampling):
    data = _data(tmp)
    data["fit"]["sampling"] = {"walkers": 32, "steps": 1000, "burn_in": 200, "seed": 3}
    data["fit"]["sampling"].update(sampling)
    return config_from_dict(data)


@pytest.mark.serial
def test_gaussian_posterior_mean_and_std_within_mc_error(tmp_path_shared):
    """A correlated 2D Gaussian (means 0.3, -1.2; sigmas 0.5, 0.2; rho 0.6): the sampled
    means within 4 Monte-Carlo errors (std sqrt(tau / N), tau from the chain) of the truth,
    the standard deviations within 4 x sigma sqrt(tau / 2N), the correlation within 0.1,
    with the chain after the burn-in longer than 20 tau; acceptance of the stretch move in
    0.2..0.9; the files are written."""
    res = sample(_cfg(tmp_path_shared), evaluator_factory=Gaussian)
    steps, walkers = res.chain.shape[0] - res.burn_in, res.chain.shape[1]
    assert res.chain.shape == (1000, 32, 2)
    assert np.all(res.autocorr > 1) and steps > 20 * np.max(res.autocorr), res.autocorr
    n_eff = walkers * steps / np.max(res.autocorr)
    np.testing.assert_array_less(np.abs(res.mean - MEAN), 4 * res.mc_error)
    np.testing.assert_array_less(np.abs(res.std - SIGMA), 4 * SIGMA / np.sqrt(2 * n_eff))
    assert np.corrcoef(res.samples.T)[0, 1] == pytest.approx(RHO, abs=0.1)
    assert 0.2 < np.mean(res.acceptance) < 0.9
    # every proposal inside the bounds evaluated once, by one sub-communicator
    assert res.evaluations == 32 * 1001 - np.sum(~np.isfinite(res.log_prob))
    if MPI.COMM_WORLD.rank == 0:
        with h5py.File(tmp_path_shared / "chain.h5") as f:
            np.testing.assert_array_equal(f["chain"][...], res.chain)
            np.testing.assert_allclose(f["posterior/mean"][...], res.mean)
        out = json.loads((tmp_path_shared / "posterior.json").read_text())
        assert out["coordinates"] == ["a", "log10(b)"]
        assert out["mean"]["b"] == pytest.approx(np.mean(10.0 ** res.samples[:, 1]), rel=1e-12)
        assert (tmp_path_shared / "posterior_corner.png").stat().st_size > 10_000


@pytest.mark.parallel
def test_the_chain_does_not_depend_on_the_sub_communicators(tmp_path_shared):
    """One sub-communicator per rank and one of all ranks give the same chain, bit for bit
    (every rank runs the sampler on the same numbers); each sub-communicator evaluated its
    share of the rows."""
    size = MPI.COMM_WORLD.size
    cfg = _cfg(tmp_path_shared, walkers=16, steps=40, burn_in=10)
    made = []

    def factory(comm):
        made.append(Gaussian(comm))
        return made[-1]

    split = sample(cfg, group_size=1, evaluator_factory=factory, write=False)
    together = sample(cfg, group_size=size, evaluator_factory=Gaussian, write=False)
    np.testing.assert_array_equal(split.chain, together.chain)
    np.testing.assert_array_equal(split.log_prob, together.log_prob)
    total = MPI.COMM_WORLD.allreduce(made[0].calls)
    assert total == split.evaluations
    if size > 1:  # 8 rows per half-ensemble: every rank had some
        assert 0 < made[0].calls < total


def test_log_probability_is_minus_half_chi2_inside_the_bounds():
    """Rows outside the bounds are -inf and never evaluated; a non-finite chi^2 is -inf."""
    seen = []

    def chi2(rows):
        seen.extend(map(tuple, rows))
        return np.array([1.0 if r[0] < 0.5 else np.nan for r in rows])

    log_p = log_probability(chi2, [0.0, 0.0], [1.0, 1.0])
    out = log_p(np.array([[0.2, 0.2], [1.5, 0.2], [0.7, 0.7]]))
    assert out[0] == -0.5 and out[1] == -np.inf and out[2] == -np.inf
    assert seen == [(0.2, 0.2), (0.7, 0.7)]


def test_start_ball_is_inside_the_bounds():
    pos = start_ball([0.0, 1.0], [0.0, -1.0], [1.0, 1.0], 64, 0.3, seed=1)
    assert pos.shape == (64, 2)
    assert np.all(pos >= [0.0, -1.0]) and np.all(pos <= [1.0, 1.0])
    assert np.all(np.std(pos, axis=0) > 0.05)


@pytest.mark.parallel
def test_tiny_real_model_run_writes_its_chain(tmp_path_shared):
    """The closure model (D0, index, phi) with 6 walkers x 3 steps: finishes on 1 or 2
    ranks, writes the chain; log p in it is -chi^2/2 of a fresh evaluator at that point on
    one rank, as the sub-communicators of one rank solved it (1e-12)."""
    cfg = _cfg(tmp_path_shared, walkers=6, steps=3, burn_in=1, init_spread=0.05)
    res = sample(cfg)
    assert res.chain.shape == (3, 6, 3)
    assert np.all((res.acceptance >= 0) & (res.acceptance <= 1))
    ev = Evaluator(cfg, PETSc.COMM_SELF)
    for step, walker in [(0, 0), (2, 5)]:
        lp = res.log_prob[step, walker]
        assert np.isfinite(lp)
        assert lp == pytest.approx(-0.5 * ev(res.chain[step, walker]), rel=1e-12)
    if MPI.COMM_WORLD.rank == 0:
        with h5py.File(tmp_path_shared / "chain.h5") as f:
            assert f["chain"].shape == (3, 6, 3)
            assert f["log_prob"].shape == (3, 6)
            assert json.loads(f.attrs["coordinates"])[0] == "log10(diffusion.d0_cm2_s)"
        out = json.loads((tmp_path_shared / "posterior.json").read_text())
        assert out["walkers"] == 6 and out["samples"] == 12


@pytest.mark.parametrize(
    ("sampling", "fragment"),
    [
        ({"walkers": 4}, "sampling.walkers = 4: emcee needs at least twice the 3 free"),
        ({"steps": 10, "burn_in": 10}, "burn_in = 10 must be below steps = 10"),
        ({"sampler": "ultranest"}, "fit.sampling.sampler = 'ultranest': allowed: 'emcee'"),
        ({"thin": 2}, "fit.sampling.thin = 2: unknown key"),
        ({"init_spread": 0.0}, "fit.sampling.init_spread = 0"),
        ({"seed": -1}, "fit.sampling.seed = -1"),
    ],
)
def test_sampling_config_errors_are_one_line(sampling, fragment):
    data = _data()
    data["fit"]["sampling"] = sampling
    with pytest.raises(ConfigError) as e:
        config_from_dict(data)
    assert fragment in str(e.value) and "\n" not in str(e.value), str(e.value)


@pytest.mark.serial
@pytest.mark.skipif(MPI.COMM_WORLD.size > 1, reason="the command line on COMM_WORLD, serially")
def test_cli_fit_then_sample_and_sample_alone(tmp_path):
    """``galprop-py fit`` with [fit.sampling] samples after the minimiser, its walkers around
    the minimum; ``galprop-py sample`` on the best fit's TOML samples alone; a config without
    [fit] is one line with exit code 2."""
    from galprop_py.cli import main
    from galprop_py.fit.output import toml_text

    data = _data(tmp_path)
    data["fit"]["sampling"] = {"walkers": 6, "steps": 2, "burn_in": 1, "init_spread": 1e-3}
    path = tmp_path / "fit.toml"
    path.write_text(toml_text(data))
    assert main(["fit", str(path), "fit.max_evaluations=30", "--group-size", "1"]) == 0
    best = json.loads((tmp_path / "fit_result.json").read_text())["best_coordinates"]
    with h5py.File(tmp_path / "chain.h5") as f:
        start = f["chain"][0]
    # 1e-3 of each range around the minimum, after one stretch move at most
    lo, hi = np.array([28.0, 2.0, 0.1]), np.array([np.log10(2e29), 2.8, 1.5])
    centre = np.array(list(best.values()))
    assert np.all(np.abs(start - centre) < 0.05 * (hi - lo)), (start, centre)
    (tmp_path / "chain.h5").unlink()
    assert main(["sample", str(tmp_path / "best_fit.toml"), "fit.sampling.steps=3"]) == 0
    with h5py.File(tmp_path / "chain.h5") as f:
        assert f["chain"].shape == (3, 6, 3)
    del data["fit"]
    path.write_text(toml_text(data))
    assert main(["sample", str(path)]) == 2
