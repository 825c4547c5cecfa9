"""Scan the diffusion slope delta with the Python API and compare with AMS-02 protons.

    python scan.py                      # delta = 0.30 ... 0.65 on the default grid
    mpirun -n 2 python scan.py          # the same, each model solved on 2 ranks

For each delta the default Milky Way model is solved in memory (no files), the modulated
proton flux is compared with AMS-02 (PRL 114, 171103) between 5 and 500 GeV, and the
chi^2 (total errors) is printed.  This is the loop GALPROP users write around config
files and a binary; here it is a few lines of Python.
"""

from __future__ import annotations

import sys

import numpy as np
from mpi4py import MPI

from galprop_py import observations
from galprop_py.config import load_config
from galprop_py.run import run


def chi2_protons(result, e_min: float = 5.0, e_max: float = 500.0) -> tuple[float, int]:
    """chi^2 and number of points of the model's TOA protons against AMS-02."""
    data = observations.load("ams02_proton")
    sel = (data.x >= e_min) & (data.x <= e_max)
    s = result.sun_spectra["H1"]
    model = np.exp(np.interp(np.log(data.x[sel]), np.log(s["t_n"]), np.log(s["toa"])))
    err = 0.5 * (data.y_err_lo[sel] + data.y_err_hi[sel])
    return float(np.sum(((model - data.y[sel]) / err) ** 2)), int(sel.sum())


def scan(deltas, overrides=()) -> list[tuple[float, float, int]]:
    out = []
    for delta in deltas:
        cfg = load_config(None, [f"diffusion.delta={delta}", "output.plot=false", *overrides])
        res = run(cfg, progress=False, write_output=False)
        chi2, n = chi2_protons(res)
        out.append((delta, chi2, n))
        if MPI.COMM_WORLD.rank == 0:
            print(f"delta = {delta:.2f}: chi2 = {chi2:9.1f} for {n} AMS-02 points", flush=True)
    return out


def main(argv=None) -> None:
    overrides = list(sys.argv[1:] if argv is None else argv)
    results = scan(np.round(np.arange(0.30, 0.651, 0.05), 2), overrides)
    best = min(results, key=lambda r: r[1])
    if MPI.COMM_WORLD.rank == 0:
        print(f"best delta on this grid: {best[0]:.2f} (chi2 = {best[1]:.1f})")


if __name__ == "__main__":
    main()
