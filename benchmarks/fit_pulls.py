"""Pull distributions of the fit over repeated mocks (issue 8: "the fit recovers known
parameters from mock data made by the code with noise").

The model is the closure fit of ``tests/test_fit.py`` (``tests/util.py``: ``closure_data``,
``closure_mock``): a proton slab (17 cells, 24 momenta, losses, reacceleration) with three
free coordinates, log10 D0, the injection index above 7 GV and the force-field potential of
the AMS-02 period, against AMS-02 protons (rigidity, 2-1000 GV) and the Voyager 1 LIS.
``--model boron_carbon`` (``tests/util.py``: ``bc_closure_data``): a slab network (C12 and
O16 primaries, B10 and B11 secondaries, protons normalised) with log10 D0, delta, log10 of
the C12 source abundance and the potential free, against AMS-02 B/C and carbon (rigidity,
3-1000 GV).  Each mock k is the model at the true values on the datasets' own points, scattered by
Gaussian noise with the data's relative total errors (``numpy.random.default_rng([seed,
k])``), or with one relative error for every point (``--relative-error 0.03``).  Each mock is
fitted with the package's fitter (:func:`galprop_py.fit.fitter.fit`: MIGRAD + HESSE with the
analytic gradient and the Gauss-Newton Hessian, or ``--minimiser least_squares``) from the
config's start values, away from the truth.

Pulls are taken in the minimiser's coordinates (``FitResult.coordinates``; log10 D0, since
D0 has ``log = true``), where the errors are computed: pull = (u_fit - u_true) / sigma_u.
For a linear model with Gaussian errors they are standard normal: mean 0 (standard error
1 / sqrt(N)), standard deviation 1 (standard error ~ 1 / sqrt(2 (N - 1))), 68.3 % within 1
sigma, and chi^2 / dof has mean 1 (standard error sqrt(2 / dof) / sqrt(N)).

    .venv/bin/python benchmarks/fit_pulls.py [--n 50] [--minimiser least_squares]
        [--seed 0] [--relative-error 0.03] [--model boron_carbon]
    mpirun -n 2 .venv/bin/python benchmarks/fit_pulls.py      # 2 fits at once, same numbers

Units: the coordinates' own (log10 of cm^2/s, dimensionless index, GV).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from dataclasses import dataclass
from math import erf, sqrt
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from util import BC_TRUE, CLOSURE_TRUE, bc_closure_data, closure_data, closure_mock  # noqa: E402

#: the closure models: config dict (minimiser=...) and the true values
MODELS = {
    "protons": (closure_data, CLOSURE_TRUE),
    "boron_carbon": (bc_closure_data, BC_TRUE),
}

#: fraction of a standard normal within 1 sigma
WITHIN_ONE_SIGMA = erf(1 / sqrt(2))


@dataclass
class MockFits:
    """The fits of N mocks; arrays (N, parameters) in the minimiser's coordinates."""

    minimiser: str
    coordinates: list[str]
    true: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    chi2: np.ndarray
    dof: int
    valid: np.ndarray
    at_bound: np.ndarray
    seconds: np.ndarray  # wall time of each fit() call
    solves: np.ndarray
    calls: np.ndarray
    #: the pulls of the model linearised at the truth for the same noise (see mock_fits)
    linear: np.ndarray
    linear_errors: np.ndarray  # sigma of that linear model, (parameters,)
    wall: float = 0.0  # seconds for all mocks (on ``ranks`` ranks)
    ranks: int = 1

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    def pulls(self, error_scale: float = 1.0) -> np.ndarray:
        """(u_fit - u_true) / (error_scale x sigma_u), per mock and coordinate."""
        return (self.values - self.true) / (error_scale * self.errors)


def mock_fits(
    n=50, minimiser="migrad", seed=0, relative_error=None, world=None, model="protons"
) -> MockFits:
    """Fit ``n`` mocks of the closure ``model`` (:data:`MODELS`; noise seed ``[seed, k]`` for
    mock k) with ``minimiser``; ``relative_error`` as :func:`util.closure_mock` (``None``:
    the data's).

    The mocks are shared out over the ranks of ``world`` (an mpi4py communicator, default
    COMM_WORLD): rank r fits mocks r, r + size, ... alone (``PETSc.COMM_SELF``), and every
    rank gets all fits, in mock order.  Each fit is thus the serial computation: the numbers
    do not depend on the number of ranks.

    With each mock the pulls of the model linearised at the truth are computed for the same
    noise z (the residuals at the truth are -z): Delta u = (J^T J)^-1 J^T z, J the Jacobian of
    the residuals at the truth (sensitivities, one solve), pull Delta u_j / sqrt(C_jj) with
    C = (J^T J)^-1.  They are exactly standard normal, so the difference between the fitted
    and the linear pulls of the same mocks is what nonlinearity and the fit's own errors
    add, free of the sample's fluctuation."""
    from mpi4py import MPI
    from petsc4py import PETSc

    from galprop_py.config import config_from_dict
    from galprop_py.fit.fitter import Evaluator, fit

    world = world or MPI.COMM_WORLD
    start = time.perf_counter()
    comm = PETSc.COMM_SELF
    make, values = MODELS[model]
    cfg = config_from_dict(make(minimiser=minimiser))
    truth = Evaluator(cfg, comm)  # solves the true model once for all mocks
    coords = truth.coords
    lo, hi = truth.bounds()
    u_true = np.array([c.coordinate(values[c.name]) for c in coords])
    with contextlib.redirect_stdout(io.StringIO()):
        clean = closure_mock(None, relative_error, evaluator=truth, truth=values)
        linear = Evaluator(cfg, comm, data=clean)
        jac = linear.jacobian(u_true)
    names = [c.name for c in linear.chi2.comparisons]
    cov = np.linalg.inv(jac.T @ jac)
    gain = cov @ jac.T
    sigma_lin = np.sqrt(np.diag(cov))
    mine = []
    for k in range(world.rank, n, world.size):
        with contextlib.redirect_stdout(io.StringIO()):  # the solves' and fit's progress lines
            mock = closure_mock([seed, k], relative_error, evaluator=truth, truth=values)
            t0 = time.perf_counter()
            res = fit(cfg, comm=comm, data=mock, write=False)
            seconds = time.perf_counter() - t0
        z = np.concatenate([(mock[d].y - clean[d].y) / clean[d].y_err_lo for d in names])
        u = np.array(res.fit_values)
        bound = (u - lo < 1e-6 * (hi - lo)) | (hi - u < 1e-6 * (hi - lo))
        mine.append((k, u, np.array(res.fit_errors), res.chi2_total, res.dof, res.valid, bound,
                     seconds, res.solves, res.calls, gain @ z / sigma_lin))  # fmt: skip
    rows = sorted((row for part in world.allgather(mine) for row in part), key=lambda r: r[0])
    cols = list(zip(*rows, strict=True))[1:]
    return MockFits(
        minimiser=minimiser,
        coordinates=[c.label for c in coords],
        true=u_true,
        values=np.array(cols[0]),
        errors=np.array(cols[1]),
        chi2=np.array(cols[2]),
        dof=int(cols[3][0]),
        valid=np.array(cols[4]),
        at_bound=np.array(cols[5]),
        seconds=np.array(cols[6]),
        solves=np.array(cols[7]),
        calls=np.array(cols[8]),
        linear=np.array(cols[9]),
        linear_errors=sigma_lin,
        wall=world.allreduce(time.perf_counter() - start, op=MPI.MAX),
        ranks=world.size,
    )


def pull_statistics(pulls: np.ndarray) -> dict[str, np.ndarray]:
    """Per column of ``pulls`` (N, parameters): the mean and its standard error s / sqrt(N),
    the width s (sample standard deviation) and its standard error s / sqrt(2 (N - 1)) (a
    normal sample), the fraction within 1 and its binomial standard error (at 68.3 %)."""
    n = pulls.shape[0]
    width = pulls.std(axis=0, ddof=1)
    return {
        "mean": pulls.mean(axis=0),
        "mean_err": width / np.sqrt(n),
        "width": width,
        "width_err": width / np.sqrt(2 * (n - 1)),
        "within_1": np.mean(np.abs(pulls) < 1, axis=0),
        "within_1_err": np.full(
            pulls.shape[1], np.sqrt(WITHIN_ONE_SIGMA * (1 - WITHIN_ONE_SIGMA) / n)
        ),
    }


def report(mf: MockFits) -> str:
    """The table the benchmark prints."""
    st = pull_statistics(mf.pulls())
    lines = [
        f"{mf.n} mocks, {mf.minimiser}; pulls (u_fit - u_true) / sigma in the fit's "
        f"coordinates; {int(mf.valid.sum())} valid fits, {int(mf.at_bound.any(axis=1).sum())} "
        "with a parameter at a bound",
        f"{'coordinate':38s} {'true':>9s} {'mean pull':>15s} {'width':>15s} "
        f"{'within 1 (0.683)':>17s} {'sigma (median)':>14s}",
    ]
    for j, name in enumerate(mf.coordinates):
        lines.append(
            f"{name:38s} {mf.true[j]:9.6g} {st['mean'][j]:+7.3f} +- {st['mean_err'][j]:5.3f} "
            f"{st['width'][j]:7.3f} +- {st['width_err'][j]:5.3f} "
            f"{st['within_1'][j]:8.3f} +- {st['within_1_err'][j]:5.3f} "
            f"{np.median(mf.errors[:, j]):14.4g}"
        )
    lin = pull_statistics(mf.linear)
    lines.append(
        "the model linearised at the truth, same noise (exactly standard normal): mean, width; "
        "rms of (pull - linear pull); median sigma / linear sigma"
    )
    for j, name in enumerate(mf.coordinates):
        diff = np.sqrt(np.mean((mf.pulls()[:, j] - mf.linear[:, j]) ** 2))
        lines.append(
            f"{name:38s} {'':9s} {lin['mean'][j]:+7.3f} +- {lin['mean_err'][j]:5.3f} "
            f"{lin['width'][j]:7.3f} +- {lin['width_err'][j]:5.3f} {diff:8.4f} "
            f"{np.median(mf.errors[:, j]) / mf.linear_errors[j]:23.4f}"
        )
    red = mf.chi2 / mf.dof
    lines.append(
        f"chi^2/dof: mean {red.mean():.3f} +- {np.sqrt(2 / mf.dof / mf.n):.3f} expected 1 "
        f"(dof = {mf.dof}); per fit: {np.mean(mf.seconds):.3f} s, {np.mean(mf.solves):.1f} "
        f"model solves, {np.mean(mf.calls):.1f} chi^2 calls; all {mf.n} in {mf.wall:.1f} s on "
        f"{mf.ranks} rank(s)"
    )
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="number of mocks (default 50)")
    ap.add_argument("--minimiser", choices=("migrad", "least_squares"), default="migrad")
    ap.add_argument("--model", choices=tuple(MODELS), default="protons", help="closure model")
    ap.add_argument("--seed", type=int, default=0, help="mock k uses default_rng([seed, k])")
    ap.add_argument(
        "--relative-error",
        type=float,
        default=None,
        help="one relative error for every mock point (default: the data's own errors)",
    )
    args = ap.parse_args(argv)
    if args.n < 2:
        raise SystemExit(f"--n = {args.n}: need at least 2 mocks for a width")
    if args.relative_error is not None and not args.relative_error > 0:
        raise SystemExit(f"--relative-error = {args.relative_error}: must be > 0")
    import petsc4py

    petsc4py.init(sys.argv[:1])
    from mpi4py import MPI

    mf = mock_fits(args.n, args.minimiser, args.seed, args.relative_error, model=args.model)
    if MPI.COMM_WORLD.rank == 0:
        print(report(mf))


if __name__ == "__main__":
    main()
