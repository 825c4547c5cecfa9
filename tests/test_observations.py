"""Observation loaders (galprop_py.observations): spot values read from the shipped files,
row counts, axes and units, citations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from galprop_py import observations
from galprop_py.physics.kinematics import momentum_from_kinetic
from galprop_py.units import FLUX_UNIT, M_P_GEV

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

_PER_GV = "m^-2 s^-1 sr^-1 GV^-1"

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


def _mev(e_min, e_max=None):
    """A Voyager 1 energy read from the tables: MeV/n -> GeV/n (a bin centre for Table 9)."""
    return (e_min if e_max is None else 0.5 * (e_min + e_max)) * 1e-3


def _per_mev(j, sig=None, sys=None):
    """A Voyager 1 intensity (or its stat and syst errors in quadrature): per MeV/n -> GeV/n."""
    return (j if sig is None else math.hypot(sig, sys)) * 1e3


# (name, rows, x axis, x unit, y unit, first row (x, y, lo, hi), last row (x, y, lo, hi)),
# read by eye from the shipped files (sorted by x), converted to GeV/n and per GeV/n
NUCLEAR = [
    (
        "ams02_bc_rigidity", 66, "rigidity", "GV", "1",
        (2.27156, 0.2947, 1.40543e-2, 1.40543e-2),
        (2071.23, 0.04461, 1.29716e-2, 1.29716e-2),
    ),
    (
        "ams02_helium_rigidity", 68, "rigidity", "GV", _PER_GV,
        (2.03099, 59.68, 1.359, 1.359),
        (2306.32, 2.463e-6, 1.96109e-7, 1.96109e-7),
    ),
    (
        "ams02_carbon_rigidity", 66, "rigidity", "GV", _PER_GV,
        (2.271, 1.793, *[math.hypot(3e-3, 5.2e-2)] * 2),
        (2021.0, 1.17e-7, *[math.hypot(4.7e-9, 8.8e-9)] * 2),
    ),
    (
        "ams02_oxygen_rigidity", 48, "rigidity", "GV", _PER_GV,
        (2.271, 1.658, *[math.hypot(3e-3, 5.7e-2)] * 2),
        (1853.0, 1.502e-7, *[math.hypot(6.1e-9, 1.17e-8)] * 2),
    ),
    (
        "pamela_bc_rigidity", 18, "rigidity", "GV", "1",
        (2.193, 0.312, *[math.hypot(9e-3, 2.1e-2)] * 2),
        (198.8, 0.11, *[math.hypot(3e-2, 8e-3)] * 2),
    ),
    (
        "heao3_bc", 14, "kinetic_energy_per_nucleon", "GeV/n", "1",
        (0.62, 0.321, 7.5e-3, 7.5e-3),
        (35.0, 0.121, 2.4e-3, 2.4e-3),
    ),
    (
        "ace_cris_be10_be9", 2, "kinetic_energy_per_nucleon", "GeV/n", "1",
        (0.106771, 0.115, 0.013, 0.013),
        (0.131909, 0.122, 0.016, 0.016),
    ),
    (
        "isomax_be10_be9", 2, "kinetic_energy_per_nucleon", "GeV/n", "1",
        (0.51475, 0.195, 5.307542e-2, 5.307542e-2),
        (1.51523, 0.317, 1.168118e-1, 1.168118e-1),
    ),
    (  # the file's first row (0.254951 GeV/n) is second after sorting
        "balloons_be10_be9", 3, "kinetic_energy_per_nucleon", "GeV/n", "1",
        (0.25, 0.37, 0.163, 0.163),
        (0.5, 0.22, 0.11, 0.11),
    ),
    (  # Table 8: E_plot column
        "voyager1_helium_2016", 16, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(3.8), _per_mev(1.530), *[_per_mev(0, 7.964e-2, 7.650e-2)] * 2),
        (_mev(571.0), _per_mev(4.235e-1), *[_per_mev(0, 2.131e-2, 2.118e-2)] * 2),
    ),
    (  # Table 9, left block, first row of the file
        "voyager1_lithium", 4, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(36.3, 44.3), _per_mev(2.08e-3), *[_per_mev(0, 4.77e-4, 1.04e-4)] * 2),
        (_mev(72.5, 88.3), _per_mev(2.38e-3), *[_per_mev(0, 4.65e-4, 1.19e-4)] * 2),
    ),
    (
        "voyager1_boron", 9, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(5.0, 12.5), _per_mev(2.14e-3), *[_per_mev(0, 3.81e-4, 1.07e-4)] * 2),
        (_mev(95.0, 117.3), _per_mev(5.70e-3), *[_per_mev(0, 6.56e-4, 2.85e-4)] * 2),
    ),
    (
        "voyager1_carbon", 12, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(5.4, 6.4), _per_mev(1.79e-2), *[_per_mev(0, 3.04e-3, 8.95e-4)] * 2),
        (_mev(111.5, 137.0), _per_mev(3.39e-2), *[_per_mev(0, 2.17e-3, 1.69e-3)] * 2),
    ),
    (
        "voyager1_oxygen", 14, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(7.1, 8.5), _per_mev(2.02e-2), *[_per_mev(0, 2.80e-3, 1.01e-3)] * 2),
        (_mev(131.3, 160.3), _per_mev(3.47e-2), *[_per_mev(0, 2.16e-3, 1.73e-3)] * 2),
    ),
    (  # Table 9, left block, last row before the zero padding
        "voyager1_sodium", 4, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(7.8, 19.6), _per_mev(4.39e-4), *[_per_mev(0, 1.34e-4, 2.20e-5)] * 2),
        (_mev(79.0, 198.0), _per_mev(6.78e-4), *[_per_mev(0, 8.39e-5, 3.39e-5)] * 2),
    ),
    (  # Table 9, right block, first row of the file
        "voyager1_magnesium", 10, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(8.3, 14.9), _per_mev(3.21e-3), *[_per_mev(0, 5.05e-4, 1.61e-4)] * 2),
        (_mev(165.6, 203.3), _per_mev(5.03e-3), *[_per_mev(0, 5.02e-4, 2.51e-4)] * 2),
    ),
    (  # Table 9, right block, last row of the file
        "voyager1_nickel", 3, "kinetic_energy_per_nucleon", "GeV/n", FLUX_UNIT,
        (_mev(11.3, 30.7), _per_mev(1.94e-4), *[_per_mev(0, 6.94e-5, 9.71e-6)] * 2),
        (_mev(120.0, 322.0), _per_mev(9.21e-5), *[_per_mev(0, 2.28e-5, 4.60e-6)] * 2),
    ),
]  # fmt: skip


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


@pytest.mark.parametrize("name, rows, axis, x_unit, y_unit, first, last", NUCLEAR)
def test_nuclear_loaders_first_and_last_rows(name, rows, axis, x_unit, y_unit, first, last):
    d = observations.load(name)
    assert len(d.x) == rows
    assert (d.x_axis, d.x_unit, d.y_unit) == (axis, x_unit, y_unit)
    assert np.all(np.diff(d.x) > 0)
    assert np.all(d.y > 0) and np.all(d.y_err_lo > 0) and np.all(d.y_err_hi > 0)
    for i, row in ((0, first), (-1, last)):
        got = (d.x[i], d.y[i], d.y_err_lo[i], d.y_err_hi[i])
        assert got == pytest.approx(row, rel=1e-12), (name, i)


def test_every_dataset_has_an_axis_units_and_a_header():
    axes = {"rigidity": "GV", "kinetic_energy_per_nucleon": "GeV/n", "energy": "GeV"}
    for name in observations.available():
        d = observations.load(name)
        assert axes[d.x_axis] == d.x_unit, name
        assert d.y_unit in ("1", FLUX_UNIT, _PER_GV, "m^-2 s^-1 sr^-1 GeV^-1"), name
        assert "commit" in observations.header(name) and "(" in d.label, name


def test_ams02_and_pamela_nuclei_stay_on_rigidity():
    # published in rigidity: the loaders must not move them to T/n (2.27 GV is ~0.6 GeV/n)
    for name in (
        "ams02_proton_rigidity",
        "ams02_helium_rigidity",
        "ams02_carbon_rigidity",
        "ams02_oxygen_rigidity",
        "ams02_bc_rigidity",
        "pamela_bc_rigidity",
    ):
        d = observations.load(name)
        assert d.x_axis == observations.RIGIDITY and d.x_unit == "GV", name
        assert d.x[0] > 1.0, name


def test_voyager1_table9_reads_both_blocks():
    # 67 rows in the left block (Li..Na, padded with one row of zeros), 68 in the right (Mg..Ni)
    names = observations.VOYAGER1_ELEMENTS
    assert len(names) == 25 and "Co" not in names and {"B", "C", "O", "Fe", "Ni"} <= set(names)
    sizes = {sym: len(observations.load(n).x) for sym, n in names.items()}
    left = ("Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na")
    assert sum(sizes[s] for s in left) == 67
    assert sum(sizes.values()) - sum(sizes[s] for s in left) == 68
    for sym, n in names.items():
        d = observations.load(n)
        assert d.quantity.startswith(f"{sym} flux") and "ApJ 831, 18 (2016)" in d.label
        assert np.all((d.x > 1e-3) & (d.x < 0.4)), n  # 5-330 MeV/n, in GeV/n


def test_voyager1_helium_tables_agree():
    # Stone et al. 2013 and Cummings et al. 2016 (MeV/n tables converted here): same LIS
    stone = observations.load("voyager1_helium")
    cummings = observations.load("voyager1_helium_2016")
    j = np.exp(np.interp(np.log(cummings.x[-1]), np.log(stone.x), np.log(stone.y)))
    assert j == pytest.approx(cummings.y[-1], rel=0.05)


def test_loader_units_and_citations():
    p = observations.load("ams02_proton")
    assert p.x_unit == "GeV/n" and p.y_unit == FLUX_UNIT and "PRL 114, 171103" in p.label
    assert p.x_axis == observations.KINETIC_ENERGY_PER_NUCLEON
    assert "Science 341, 150" in observations.load("voyager1_helium").label
    assert observations.load("ams02_bc").y_unit == "1"
    assert "commit" in observations.header("ams02_helium")
    cites = {
        "ams02_bc_rigidity": "PRL 120, 021101 (2018)",
        "ams02_helium_rigidity": "PRL 119, 251101 (2017)",
        "ams02_carbon_rigidity": "Phys. Rep. 894",
        "ams02_oxygen_rigidity": "Phys. Rep. 894",
        "pamela_bc_rigidity": "ApJ 791, 93 (2014)",
        "heao3_bc": "Engelmann et al., A&A 233, 96 (1990)",
        "ace_cris_be10_be9": "ApJ 563, 768 (2001)",
        "isomax_be10_be9": "ApJ 611, 892 (2004)",
        "voyager1_helium_2016": "Cummings et al., ApJ 831, 18 (2016)",
    }
    for name, cite in cites.items():
        assert cite in observations.load(name).label, name


def test_proton_energy_and_rigidity_files_agree():
    # same AMS-02 measurement: dJ/dT = dJ/dR * E / p for protons
    ekn, rig = observations.load("ams02_proton"), observations.load("ams02_proton_rigidity")
    p = momentum_from_kinetic(ekn.x[0], M_P_GEV)
    j_from_r = np.interp(p, rig.x, rig.y) * (ekn.x[0] + M_P_GEV) / p
    assert j_from_r == pytest.approx(ekn.y[0], rel=0.02)


def test_unknown_dataset_names_key_and_choices():
    with pytest.raises(ValueError, match=r"'pamela_proton'.*ams02_bc.*voyager1_proton"):
        observations.load("pamela_proton")
