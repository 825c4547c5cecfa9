"""The B/C example (nuclear network from the shipped fragmentation tables) on a coarse grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from galprop_py.config import load_config
from galprop_py.run import element_spectra, run

EXAMPLE = Path(__file__).parents[1] / "examples" / "boron_carbon" / "config.toml"


@pytest.mark.slow
def test_boron_to_carbon_example_is_close_to_ams02():
    """B/C at 10 GeV/n within 20% of AMS-02 (0.205, PRL 117, 231102) and its slope over
    20-500 GeV/n within 0.1 of the measured -0.33: the example has the default model's
    galaxy (fitted to AMS-02 B/C with the H..Si network); this checks the coarse grid keeps
    it and that the network (tables, heaviest-first solves, isotope sums, modulation) holds
    together.  20%: the example's O, N, C parents lack what the default adds to boron, the
    elements above O (about 8%) and N15, O17, O18 and the Be10 decay (a few %).  Measured:
    0.177 (-13.5%) and -0.392."""
    cfg = load_config(EXAMPLE, ["grid.n_r=21", "grid.n_z=41", "momentum.n=40", "output.plot=false"])
    res = run(cfg, progress=False, write_output=False)
    el = element_spectra(res.sun_spectra, res.model)
    t = el["B"]["t_n"]
    bc = el["B"]["toa"] / el["C"]["toa"]
    at10 = np.exp(np.interp(np.log(10.0), np.log(t), np.log(bc)))
    assert at10 == pytest.approx(0.205, rel=0.20), at10
    sel = (t > 20) & (t < 500)
    slope = np.polyfit(np.log(t[sel]), np.log(bc[sel]), 1)[0]
    assert slope == pytest.approx(-0.33, abs=0.1), slope
