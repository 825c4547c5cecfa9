"""The solver's entry point ``tabulate_diffusion`` (issue 3: coupling, library side)."""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py.microphysics.coefficients import TurbulenceParameters, tabulate_diffusion
from galprop_py.microphysics.perpendicular import field_line_diffusion_cm
from galprop_py.physics.kinematics import beta, momentum_from_rigidity
from galprop_py.physics.species import PROTON, species_from_name
from galprop_py.units import C_CM_S

# functions of one process (no grid, no PETSc, no MPI): the 2-rank pass would only repeat
# them
pytestmark = pytest.mark.serial

B0 = 3e-6


def test_shapes_and_kolmogorov_slope():
    # ultra-relativistic, inertial range: kappa_par ~ R^(1/3) to +-0.02 (10 GV .. 1 TV)
    r = np.geomspace(10.0, 1000.0, 5)
    kappa_par, kappa_perp = tabulate_diffusion(r, PROTON, B0)
    assert kappa_par.shape == r.shape == kappa_perp.shape
    slope = np.polyfit(np.log(r), np.log(kappa_par), 1)[0]
    assert slope == pytest.approx(1 / 3, abs=0.02)
    assert np.all(kappa_perp < kappa_par) and np.all(kappa_perp > 0)
    k_scalar, _ = tabulate_diffusion(10.0, PROTON, B0)
    assert k_scalar.shape == () and float(k_scalar) == pytest.approx(kappa_par[0], rel=1e-12)


def test_species_enter_through_speed_at_fixed_rigidity():
    # at equal rigidity the orbits coincide and kappa ~ v: ratio = beta ratio (1e-10)
    helium = species_from_name("He4")
    r = np.array([0.5, 2.0])
    k_p, _ = tabulate_diffusion(r, PROTON, B0, TurbulenceParameters(perpendicular_model="flrw"))
    k_he, _ = tabulate_diffusion(r, helium, B0, TurbulenceParameters(perpendicular_model="flrw"))
    b_p = beta(momentum_from_rigidity(r, 1), PROTON.mass)
    b_he = beta(momentum_from_rigidity(r, 2), helium.mass)
    np.testing.assert_allclose(k_he / k_p, b_he / b_p, rtol=1e-10)


def test_flrw_option_and_ttd_option():
    turb = TurbulenceParameters(perpendicular_model="flrw", slab_fraction=0.2)
    _, k_perp = tabulate_diffusion(100.0, PROTON, B0, turb)
    slab = turb.spectrum().scaled(0.2)
    v = float(beta(100.0, PROTON.mass)) * C_CM_S
    assert float(k_perp) == pytest.approx(0.5 * v * field_line_diffusion_cm(slab), rel=1e-12)
    # fast-mode TTD adds scattering: kappa_par decreases
    k_alone, _ = tabulate_diffusion(10.0, PROTON, B0, TurbulenceParameters())
    k_ttd, _ = tabulate_diffusion(
        10.0, PROTON, B0, TurbulenceParameters(fast_mode_delta_b_over_b=0.1)
    )
    assert k_ttd < k_alone


def test_sharp_qlt_with_finite_spectrum_is_refused():
    turb = TurbulenceParameters(broadening=0.0, dissipation_scale_cm=1e12, dissipation_index=None)
    with pytest.raises(ValueError, match="infinite"):
        tabulate_diffusion(10.0, PROTON, B0, turb)
    with pytest.raises(ValueError):
        TurbulenceParameters(perpendicular_model="bohm")
