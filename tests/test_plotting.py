"""Observation loaders and the spectra plot (galprop_py.observations, galprop_py.plotting)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py import observations
from galprop_py.physics.kinematics import momentum_from_kinetic
from galprop_py.plotting import plot_spectra
from galprop_py.units import FLUX_UNIT, M_P_GEV

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# (name, rows, first x, first y, first lower error, first upper error), read from the files;
# the 6-column files give stat and syst errors, combined here in quadrature
FIRST_ROWS = [
    ("ams02_proton", 72, 4.897115e-01, 8.315478e02, 3.556453e01, 3.556453e01),
    ("ams02_proton_rigidity", 72, 1.07634, 6.26900e02, 2.68119e01, 2.68119e01),
    ("ams02_helium", 68, 4.465960e-01, 1.637003e02, 3.262715e00, 3.262715e00),
    ("ams02_bc", 67, 4.465e-01, 3.210e-01, *[math.hypot(1.8e-3, 1.54e-2)] * 2),
    ("ams02_electron", 75, 5.685e-01, 1.731e01, *[math.hypot(0.21, 0.78)] * 2),
    ("ams02_positron", 74, 5.685e-01, 2.669e00, *[math.hypot(0.109, 0.141)] * 2),
    ("ams02_positron_fraction", 74, 5.685e-01, 1.309e-01, *[math.hypot(4.9e-3, 3.3e-3)] * 2),
    ("voyager1_proton", 19, 3.71e-03, 2.006e04, 304.0, 308.0),
    ("voyager1_helium", 22, 3.34e-03, 1.459e03, 163.0, 163.0),
]


@pytest.mark.parametrize("name, rows, x0, y0, lo0, hi0", FIRST_ROWS)
def test_loaders_first_row_monotonic_positive(name, rows, x0, y0, lo0, hi0):
    d = observations.load(name)
    assert d.name == name and len(d.x) == rows
    assert d.x.shape == d.y.shape == d.y_err_lo.shape == d.y_err_hi.shape
    assert np.all(np.diff(d.x) > 0)
    assert np.all(d.y > 0) and np.all(d.y_err_lo >= 0) and np.all(d.y_err_hi >= 0)
    assert (d.x[0], d.y[0]) == pytest.approx((x0, y0), rel=1e-12)
    assert (d.y_err_lo[0], d.y_err_hi[0]) == pytest.approx((lo0, hi0), rel=1e-12)
    assert "(" in d.label and d.x_unit and d.y_unit


def test_loader_units_and_citations():
    p = observations.load("ams02_proton")
    assert p.x_unit == "GeV/n" and p.y_unit == FLUX_UNIT and "PRL 114, 171103" in p.label
    assert "Science 341, 150" in observations.load("voyager1_helium").label
    assert observations.load("ams02_bc").y_unit == "1"
    assert "commit" in observations.header("ams02_helium")


def test_proton_energy_and_rigidity_files_agree():
    # same AMS-02 measurement: dJ/dT = dJ/dR * E / p for protons
    ekn, rig = observations.load("ams02_proton"), observations.load("ams02_proton_rigidity")
    p = momentum_from_kinetic(ekn.x[0], M_P_GEV)
    j_from_r = np.interp(p, rig.x, rig.y) * (ekn.x[0] + M_P_GEV) / p
    assert j_from_r == pytest.approx(ekn.y[0], rel=0.02)


def test_unknown_dataset_names_key_and_choices():
    with pytest.raises(ValueError, match=r"'pamela_proton'.*ams02_bc.*voyager1_proton"):
        observations.load("pamela_proton")


def _synthetic_results():
    t = np.logspace(-2, 3, 60)
    phi = 0.6  # GV, force field (Gleeson & Axford 1968)

    def lis(t_n, norm, gamma, m=0.938):
        return norm * (t_n + m) ** -gamma

    def toa(t_n, norm, gamma, z_over_a):
        big_phi = z_over_a * phi
        m = 0.938
        return (
            lis(t_n + big_phi, norm, gamma)
            * t_n
            * (t_n + 2 * m)
            / ((t_n + big_phi) * (t_n + big_phi + 2 * m))
        )

    return {
        "H": {"t_n": t, "lis": lis(t, 2.0e4, 2.8), "toa": toa(t, 2.0e4, 2.8, 1.0)},
        "He": {"t_n": t, "lis": lis(t, 1.5e3, 2.7), "toa": toa(t, 1.5e3, 2.7, 0.5)},
        "B": {"t_n": t, "lis": 0.3 * lis(t, 1.0, 3.1), "toa": 0.3 * toa(t, 1.0, 3.1, 0.5)},
        "C": {"t_n": t, "lis": lis(t, 1.0, 2.75), "toa": toa(t, 1.0, 2.75, 0.5)},
    }


def test_plot_spectra_writes_png(tmp_path):
    out = plot_spectra(
        _synthetic_results(), ["H", "He"], tmp_path / "sub" / "spectra.png", ratios=["B/C"]
    )
    data = out.read_bytes()
    assert out.exists() and len(data) > 10_000 and data[:8] == PNG_MAGIC


def test_plot_spectra_explicit_ratio_and_missing_species(tmp_path):
    t = np.logspace(-1, 3, 20)
    results = {"B/C": {"t_n": t, "toa": 0.3 * t**-0.4}}
    out = plot_spectra(results, [], tmp_path / "bc.png", ratios=["B/C"], show_data=False)
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="'He'"):
        plot_spectra(results, ["He"], tmp_path / "x.png")
