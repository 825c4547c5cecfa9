"""Force-field solar modulation against benchmarks.md B8 (Gleeson & Axford 1968)."""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py.physics.modulation import force_field, force_field_analytic
from galprop_py.physics.species import PROTON, species_from_name
from galprop_py.units import M_P_GEV

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial


def lis(t):
    """B8 example LIS, J ~ (T + m_p)^-2.7."""
    return (np.asarray(t) + M_P_GEV) ** -2.7


def test_b8_example_tabulated_lis():
    # B8: J_TOA / J_LIS at T = 1 GeV is 0.2497 for phi = 0.6 GV (protons); tolerance 1e-3
    # relative (the quoted value has 4 digits).  The LIS is tabulated on a log grid
    # (40 points per decade) that does not contain T + Phi = 1.6 GeV, so the log-log
    # interpolation is exercised.
    t = np.logspace(-2, 3, 201)
    assert not np.any(np.isclose(t, 1.6, rtol=1e-6))
    j_toa = force_field(t, lis(t), 0.6, PROTON.mass_per_nucleon, 1, 1)
    ratio = np.interp(0.0, np.log(t), np.log(j_toa / lis(t)))  # at T = 1 GeV (ln 1 = 0)
    assert np.exp(ratio) == pytest.approx(0.2497, rel=1e-3)
    # and on the whole grid, the interpolated result matches the analytic one to 1e-3
    exact = force_field_analytic(t, lis, 0.6, PROTON.mass_per_nucleon, 1, 1)
    np.testing.assert_allclose(j_toa, exact, rtol=1e-3)


def test_b8_analytic_value():
    # B8 value with the exact LIS; 1e-3 relative
    r = force_field_analytic(np.array([1.0]), lis, 0.6, M_P_GEV, 1, 1)[0] / lis(1.0)
    assert r == pytest.approx(0.2497, rel=1e-3)


def test_zero_potential_returns_lis():
    t = np.logspace(-1, 2, 50)
    j = lis(t)
    np.testing.assert_array_equal(force_field(t, j, 0.0, M_P_GEV, 1, 1), j)


def test_nucleus_uses_z_over_a_and_extrapolates_power_law():
    # He4 with phi: shift Phi = (2/4) phi; a pure power law LIS in T + m is not a power law
    # in T, so use J = T^-2.7 (exact under log-log interpolation and extrapolation): the
    # result must equal the analytic one to 1e-10, also where T + Phi exceeds the grid.
    he = species_from_name("He4")
    t = np.logspace(-1, 2, 61)
    j = t**-2.7
    got = force_field(t, j, 1.0, he.mass_per_nucleon, he.charge, he.mass_number)
    exact = force_field_analytic(t, lambda x: x**-2.7, 1.0, he.mass_per_nucleon, 2, 4)
    np.testing.assert_allclose(got, exact, rtol=1e-10)
    phi_shift = (t + 0.5) ** -2.7 / j  # J_LIS(T + 0.5) / J_LIS(T): 0.5 GeV/n shift
    m2 = 2 * he.mass_per_nucleon
    liouville = t * (t + m2) / ((t + 0.5) * (t + 0.5 + m2))
    np.testing.assert_allclose(got / j, phi_shift * liouville, rtol=1e-10)


def test_bad_input():
    with pytest.raises(ValueError):
        force_field([1.0, 0.5], [1.0, 1.0], 0.5, M_P_GEV, 1, 1)
    with pytest.raises(ValueError):
        force_field([1.0, 2.0], [1.0, 1.0], -0.5, M_P_GEV, 1, 1)


def test_charge_sign_dependent_potential():
    """``modulation.phi_negative_gv`` modulates electrons and antiprotons with its own
    potential, positive charges with ``phi_gv``: each TOA equals the force-field formula
    J(T) = J_LIS(T + |Z| phi) T (T + 2m) / ((T + |Z| phi)(T + |Z| phi + 2m)) (Gleeson &
    Axford 1968) of its potential, for a power-law LIS (exact under log-log interpolation)."""
    from galprop_py.config import ModulationBlock
    from galprop_py.physics.modulation import modulate

    block = ModulationBlock(phi_gv=0.3, phi_negative_gv=0.7)
    t = np.geomspace(0.05, 200.0, 300)
    for name, phi in (("electron", 0.7), ("antiproton", 0.7), ("positron", 0.3), ("H1", 0.3)):
        sp = species_from_name(name)
        toa = modulate(t, t**-3.0, block, sp)
        ts = t + phi
        expect = ts**-3.0 * t * (t + 2 * sp.mass) / (ts * (ts + 2 * sp.mass))
        inside = t < 100.0  # the LIS grid must reach T + phi
        np.testing.assert_allclose(toa[inside], expect[inside], rtol=1e-10, err_msg=name)
    same = ModulationBlock(phi_gv=0.3)
    e = species_from_name("electron")
    np.testing.assert_array_equal(modulate(t, t**-3.0, same, e), modulate(t, t**-3.0, 0.3, e))
