"""The parameter-scan example (Python API) on a coarse grid."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "examples" / "parameter_scan"))
import scan  # noqa: E402


@pytest.mark.slow
def test_scan_prefers_the_default_slope():
    """chi^2 of the modulated protons against AMS-02 (5-500 GeV, 52 points) is lowest near the
    default model's delta = 0.5 and at least 5x worse at 0.3 and 0.7 (coarse grid; measured
    149.5, 12861 and 26332)."""
    res = {
        d: c
        for d, c, _ in scan.scan([0.3, 0.5, 0.7], ["grid.n_r=21", "grid.n_z=41", "momentum.n=60"])
    }
    assert res[0.5] < res[0.3] / 5 and res[0.5] < res[0.7] / 5, res
