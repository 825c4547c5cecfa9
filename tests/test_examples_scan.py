"""The parameter-scan example (Python API) on a coarse grid."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "examples" / "parameter_scan"))
import scan  # noqa: E402


def _slope(result, e1=100.0, e2=1000.0) -> float:
    s = result.sun_spectra["H1"]
    lj = np.interp(np.log([e1, e2]), np.log(s["t_n"]), np.log(s["lis"]))
    return float((lj[1] - lj[0]) / np.log(e2 / e1))


@pytest.mark.slow
# serial only: the slope of two runs of the default model and the example's chi^2 (a pure
# function of the spectra); rank invariance of the default model is test_rank_invariance.py's
@pytest.mark.serial
def test_scan_steepens_the_spectrum_by_the_change_of_delta():
    """Where diffusion dominates (100-1000 GeV: losses and reacceleration negligible) the
    propagated spectrum goes as Q / D, i.e. E^-(gamma + delta) (e.g. Strong, Moskalenko &
    Ptuskin 2007, ARNPS 57, 285, sec. 3): from delta = 0.3 to 0.7 the local slope of the
    LIS changes by -0.4, within 0.04 (spallation flattens it slightly); the scan's chi^2 is
    finite and counts the AMS-02 points between 5 and 500 GeV."""
    from galprop_py.config import load_config
    from galprop_py.run import run

    # one slope: the default model's breaks in delta (4.3 and 266 GV) taken out
    over = [
        "grid.n_r=11",  # the slope of Q / D does not need the disc resolved: -0.411 here,
        "grid.n_z=21",  # -0.409 on 21 x 41 x 60 (6 times the time)
        "momentum.n=40",
        "output.plot=false",
        "diffusion.breaks_gv=[]",
        "diffusion.deltas_above=[]",
    ]
    slopes = {}
    for delta in (0.3, 0.7):
        cfg = load_config(None, [f"diffusion.delta={delta}", *over])
        res = run(cfg, progress=False, write_output=False)
        slopes[delta] = _slope(res)
        chi2, n = scan.chi2_protons(res)
        assert np.isfinite(chi2) and chi2 > 0
        assert n == int(
            np.sum(
                (scan.observations.load("ams02_proton").x >= 5)
                & (scan.observations.load("ams02_proton").x <= 500)
            )
        )
    assert slopes[0.7] - slopes[0.3] == pytest.approx(-0.4, abs=0.04), slopes
