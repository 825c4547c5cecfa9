"""diffusion.model = "quasilinear": a propagation whose diffusion tensor comes from turbulence.

The B3 setup of the slab benchmarks (C12 -> B10, constant cross sections, gas only in the
disc cell, thin-disc source, no energy changes, no wind) with kappa_par(R) and kappa_perp(R)
tabulated by the microphysics library and the regular field along z, so that
kappa_zz = kappa_par.  Then N_B/N_C = sigma_ps / (m/X + sigma_s) with X = mu v H / (2 kappa_par)
(B3, exact for the discrete problem) and at high rigidity, where m/X >> sigma_s,
d ln(B/C) / d ln R = -d ln kappa_par / d ln R = -(2 - q): -1/3 for Kolmogorov turbulence,
-1/2 for Kraichnan.
"""

from __future__ import annotations

import numpy as np
import pytest
from util import b3_network_data, slab_config

from galprop_py import analytic, units
from galprop_py.config import ConfigError, config_from_dict
from galprop_py.microphysics.coefficients import tabulate_diffusion
from galprop_py.microphysics.drifts import drift_coefficient_cm2_s
from galprop_py.models.quasilinear_diffusion import tabulate, turbulence_parameters
from galprop_py.physics import kinematics
from galprop_py.physics.species import species_from_name
from galprop_py.run import run

H = 4.0
N_Z = 81
DZ = 2 * H / N_Z
N_H = 0.1  # cm^-3 in the disc cell: grammage small enough that escape dominates above 1 TV
SIGMA_PS, SIGMA_S = 70e-27, 250e-27  # cm^2


def _b3_quasilinear(q: float, **turbulence):
    data = b3_network_data(n_z=N_Z, h=H, n_h=N_H)
    # T/n = 100 GeV/n .. 10 TeV/n: R = 2 A/Z T/n ~ 0.2 .. 20 TV for C12 and B10 (A/Z = 2)
    data["momentum"] = {"min": 100.0, "max": 1.0e4, "n": 21, "boundary": "closed"}
    data["diffusion"] = {
        "model": "quasilinear",
        "field_direction": [0.0, 0.0, 1.0],
        "turbulence": {"spectral_index": q, **turbulence},
    }
    return run(config_from_dict(data), progress=False, write_output=False)


@pytest.mark.parametrize("q", [5.0 / 3.0, 1.5], ids=["kolmogorov", "kraichnan"])
def test_secondary_to_primary_slope_from_turbulence(q, tight_steady_rtol):
    """B/C in the disc: (1) equals the leaky-box formula with D = kappa_par of the library
    (1e-6, as B3), so the tensor's zz component is kappa_par; (2) its slope fitted over
    R = 1 .. 20 TV is -(2 - q) within 0.03.

    Tolerance: the library's kappa_par follows R^(2-q) to +-0.02 in slope in the inertial
    range (its own test; here 0.338 and 0.501 are measured), and the spallation term flattens
    the ratio's slope by (2 - q) sigma_s X / (m + sigma_s X) < 0.01, since sigma_s X / m < 0.02
    over the fit range (asserted).  The measured slopes are -0.338 and -0.498."""
    res = _b3_quasilinear(q)
    i0 = N_Z // 2
    dens = {s: res.decomp.gather_to_all(res.states[s])[i0] for s in ("C12", "B10")}
    c12 = res.model._by_name["C12"]
    p = res.model.momentum.momentum(c12)
    rig = kinematics.rigidity(p, c12.charge)
    ratio = (10 * dens["B10"]) / (12 * dens["C12"])  # per-T/n densities: A psi

    kpar_cm2_s, _ = tabulate_diffusion(
        rig, c12, 3.0e-6, turbulence_parameters(res.config.diffusion.turbulence)
    )
    v = kinematics.velocity_cm_s(p, c12.mass)
    mu = N_H * units.M_P_G * DZ * units.KPC_CM  # g/cm^2 of the disc cell
    x = mu * v * H * units.KPC_CM / (2.0 * kpar_cm2_s)
    expected = analytic.secondary_to_primary(SIGMA_PS, SIGMA_S, x, units.M_P_G)
    np.testing.assert_allclose(ratio, expected, rtol=1e-6)

    fit = rig >= 1.0e3
    assert fit.sum() >= 8
    assert np.max(SIGMA_S * x[fit] / units.M_P_G) < 0.02  # escape dominates
    slope = np.polyfit(np.log(rig[fit]), np.log(ratio[fit]), 1)[0]
    assert slope == pytest.approx(-(2.0 - q), abs=0.03), slope


def _coefficients(direction, **turbulence):
    cfg = slab_config(
        diffusion__model="quasilinear",
        diffusion__field_direction=direction,
        diffusion__turbulence=turbulence,
    )
    res = run(cfg, progress=False, write_output=False)
    sp = res.model._by_name["H1"]
    return res, sp, res.model.coefficients(sp)


def test_field_direction_selects_parallel_or_perpendicular():
    """Field along z: kappa_zz = kappa_par; field along x: kappa_zz = kappa_perp; both equal
    the library's values converted to kpc^2/Myr (NLGC and FLRW)."""
    for model in ("nlgc", "flrw"):
        for direction, which in (([0.0, 0.0, 2.0], 0), ([1.0, 0.0, 0.0], 1)):
            res, sp, coeffs = _coefficients(direction, perpendicular_model=model)
            tensor = coeffs.diffusion
            coords = res.decomp.local_centers()
            kzz = tensor.component(0, 0, coords, (2,))
            ref = tabulate_diffusion(
                kinematics.rigidity(coeffs.p, sp.charge),
                sp,
                3.0e-6,
                turbulence_parameters(res.config.diffusion.turbulence),
            )[which]
            np.testing.assert_allclose(
                kzz, np.broadcast_to(units.diffusion_to_internal(ref), kzz.shape), rtol=1e-12
            )
            assert tensor.kappa_a is None


def test_drift_adds_kappa_a():
    """drift = true sets kappa_A = v r_g / 3 with the config's regular field."""
    res, sp, coeffs = _coefficients([0.0, 0.0, 1.0], drift=True, b_field_ug=5.0)
    rig = kinematics.rigidity(coeffs.p, sp.charge)
    expected = drift_coefficient_cm2_s(rig, kinematics.beta(coeffs.p, sp.mass), 5.0e-6)
    np.testing.assert_allclose(
        coeffs.diffusion.kappa_a, units.diffusion_to_internal(expected), rtol=1e-12
    )


def test_reacceleration_with_quasilinear_diffusion():
    """v_A > 0 with quasilinear diffusion: D_pp = 4 p^2 v_A^2 / (3 delta (4 - delta^2)
    (4 - delta) kappa_par) with kappa_par interpolated to the momentum edges and its local
    slope as delta (Kolmogorov: delta = 1/3 in the inertial range).  Checked at an interior
    edge against the formula with kappa_par and delta from the two neighbouring centres (2%:
    the model takes the slope from centred differences), and the run converges."""
    from galprop_py import units
    from galprop_py.run import run

    cfg = slab_config(diffusion__model="quasilinear", reacceleration__v_alfven_km_s=30.0)
    res = run(cfg, progress=False, write_output=False)
    sp = res.model.species[0]
    co = res.model.coefficients(sp)
    p, pe = co.p, co.p_edges
    kpar = co.diffusion.kappa_par
    dpp = co.momentum_diffusion.terms[0][1]
    j = p.size // 2
    lnp, lnk = np.log(p), np.log(kpar)
    delta = (lnk[j] - lnk[j - 1]) / (lnp[j] - lnp[j - 1])
    kap = np.exp(0.5 * (lnk[j] + lnk[j - 1]))
    va = units.velocity_to_internal(30.0)
    w = 4.0 / (3.0 * delta * (4.0 - delta**2) * (4.0 - delta))
    # edge j lies midway (in ln p) between centres j-1 and j on this log grid
    expected = w * pe[j] ** 2 * va**2 / kap
    assert dpp[j] == pytest.approx(expected, rel=2e-2)
    assert res.solve_info[sp.name].reason.startswith("CONVERGED")


def test_tabulation_of_another_species():
    """Helium at the same momenta: kappa_par > kappa_perp > 0, no drift by default."""
    sp = species_from_name("He4")
    cfg = slab_config(diffusion__model="quasilinear")
    kpar, kperp, ka = tabulate(cfg.diffusion.turbulence, sp, np.array([10.0, 100.0]))
    assert np.all(kpar > kperp) and np.all(kperp > 0) and ka is None


@pytest.mark.parametrize(
    "key,value,words",
    [
        ("spectral_index", 2.5, "less than 2"),
        ("spectral_index", 1.0, "greater than 1"),
        ("delta_b_over_b", 0.0, "greater than 0"),
        ("outer_scale_pc", -50.0, "greater than 0"),
        ("broadening", 0.0, "greater than 0"),
        ("slab_fraction", 1.5, "less than or equal to 1"),
        ("b_field_ug", 0.0, "greater than 0"),
        ("perpendicular_model", "bohm", "allowed"),
        ("drift", "maybe", "boolean"),
        ("outer_scale", 50.0, "unknown key"),
    ],
)
def test_config_rejects_bad_turbulence(key, value, words):
    with pytest.raises(ConfigError) as err:
        slab_config(diffusion__model="quasilinear", diffusion__turbulence={key: value})
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"config key diffusion.turbulence.{key} = {value!r}:"), msg
    assert words in msg, msg
