"""The galaxy model's catastrophic terms: radioactive decay and spallation on H + He."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from util import slab_config

from galprop_py import units
from galprop_py.config import config_from_dict
from galprop_py.physics import cross_sections, kinematics
from galprop_py.run import run


def test_decay_only_steady_state_is_source_times_lifetime(tight_steady_rtol):
    """Be10 with no gas, closed boundaries, uniform source: the steady state is S gamma tau
    with tau = 2.001 Myr (half-life 1.387 Myr, Chmeleff et al. 2010); 1e-8 relative."""
    data = slab_config(n_z=8).model_dump()
    data["grid"]["boundaries"] = {"z_min": "closed", "z_max": "closed"}
    data["species"] = [{"name": "Be10", "injection": {"indices": [2.2]}}]
    data["source"]["profile"] = "uniform"
    data["losses"] = {"ionisation": False, "coulomb": False, "spallation": False}
    res = run(config_from_dict(data), progress=False, write_output=False)
    be10 = res.model._by_name["Be10"]
    p = res.model.momentum.momentum(be10)
    src = res.model.coefficients(be10).source.terms[0][1]
    tau = cross_sections.mean_life_myr(4, 10)
    assert tau == pytest.approx(1.387 / np.log(2.0), rel=1e-4)
    psi = res.decomp.gather_to_all(res.states["Be10"])
    expected = src * kinematics.gamma(p, be10.mass) * tau
    np.testing.assert_allclose(psi, np.broadcast_to(expected, psi.shape), rtol=1e-8)


def test_proton_spallation_rate_counts_helium_per_h_atom():
    """Catastrophic rate of protons in uniform gas: n_H v (sigma_pp + f_He sigma_pHe), with
    sigma_pp of Kafexhiu et al. 2014 and sigma_pHe the 4He + p row of the Tripathi et al.
    1999 table (the same collision: a 4He nucleus at T_n on protons at rest), read here from
    the raw file and interpolated in ln T (1e-12 relative)."""
    data = slab_config(n_z=8).model_dump()
    data["gas"] = {"model": "uniform", "n_h_cm3": 2.0, "f_he": 0.1, "disc_half_thickness_kpc": 10.0}
    data["losses"]["spallation"] = True
    cfg = config_from_dict(data)
    res = run(cfg, progress=False, write_output=False)
    h1 = res.model._by_name["H1"]
    p = res.model.momentum.momentum(h1)
    rate = res.model.coefficients(h1).catastrophic.evaluate([np.zeros(1)])[0]
    t = kinematics.kinetic_energy(p, h1.mass)
    path = (
        Path(__file__).parents[1] / "galprop_py/data/nuclear/xsecs_total_Tripathi99_0.1_100_1.1.txt"
    )
    row = next(
        np.array(line.split()[2:], float)
        for line in path.read_text().splitlines()
        if line.split()[:2] == ["2", "4"]
    )
    grid = 0.1 * 1.1 ** np.arange(100)
    sigma_phe = np.interp(np.log(t), np.log(grid), row)
    expected = (
        2.0
        * kinematics.velocity_cm_s(p, h1.mass)
        * (cross_sections.sigma_pp_inelastic_mb(t) + 0.1 * sigma_phe)
        * units.MB_CM2
        * units.MYR_S
    )
    np.testing.assert_allclose(rate, expected, rtol=1e-12)


def test_electron_synchrotron_steady_state_b7a_through_the_model():
    """B7a through the config path: electrons injected uniformly (E^-2.2) in a closed box
    with synchrotron losses only (B = 10 muG, U_B = 2.48 eV/cm^3): the steady spectrum is
    Q0/((alpha-1) b0) [E^-(alpha+1) - E_max^(1-alpha) E^-2], E_max = the grid's top edge.
    1% over 1-300 GeV with 80 points over 1-3000 GeV (quadratic scheme: measured 0.49%, at
    the lowest cells).
    Only synchrotron acts: the model's photon-field list is empty."""
    from galprop_py import analytic
    from galprop_py.physics.energy_losses import thomson_b0

    data = slab_config(n_z=8).model_dump()
    data["grid"]["boundaries"] = {"z_min": "closed", "z_max": "closed"}
    data["momentum"] = {"min": 1.0, "max": 3000.0, "n": 80, "boundary": "outflow"}
    data["species"] = [{"name": "electron", "injection": {"indices": [2.2]}}]
    data["source"]["profile"] = "uniform"
    data["losses"] = {
        "ionisation": False,
        "coulomb": False,
        "spallation": False,
        "b_field_ug": 10.0,
        "b_field_scale_radius_kpc": 1e9,
        "b_field_scale_height_kpc": 1e9,
        "photon_fields": [],
    }
    res = run(config_from_dict(data), progress=False, write_output=False)
    el = res.model._by_name["electron"]
    p = res.model.momentum.momentum(el)
    e = np.sqrt(p**2 + el.mass**2)
    e_top = np.sqrt(res.model.momentum.momentum_edges(el)[-1] ** 2 + el.mass**2)
    src = res.model.coefficients(el).source.terms[0][1]
    q0 = src[0] * p[0] ** 2.2  # injection = q0 p^-2.2
    b0 = thomson_b0(units.magnetic_energy_density_ev_cm3(10.0)) * units.MYR_S
    psi = res.decomp.gather_to_all(res.states["electron"])[3]
    exact = analytic.electron_loss_steady(e, q0, 2.2, b0, e_top)
    sel = (e > 1.0) & (e < 300.0)
    err = np.max(np.abs(psi[sel] / exact[sel] - 1.0))
    print(f"max relative error {err:.2e}")
    assert err < 0.01


def test_default_lepton_losses_are_wired():
    """Electrons in the default galaxy lose energy through all four channels: the rate at the
    Sun equals the sum of the kernels for the local gas, B and photon fields (1e-10)."""
    from galprop_py.cli import _default_config_path
    from galprop_py.config import load_config
    from galprop_py.grid import MomentumGrid
    from galprop_py.models.galaxy import GalaxyModel, build_spatial_grid
    from galprop_py.physics import energy_losses
    from galprop_py.physics.species import ELECTRON

    cfg = load_config(str(_default_config_path()))
    grid = build_spatial_grid(cfg)
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 0.1, 1e4, 30)
    model = GalaxyModel(cfg, grid, mg)
    pe = mg.momentum_edges(ELECTRON)
    rate = model.coefficients(ELECTRON).energy_loss.evaluate([np.array([8.3]), np.array([0.0])])
    n_h = float(model.gas_density([np.array([8.3]), np.array([0.0])])[0])
    lo = cfg.losses
    expected = (
        (
            energy_losses.electron_ionisation_loss(pe, n_h, cfg.gas.f_he)
            + energy_losses.electron_bremsstrahlung_loss(pe, n_h, cfg.gas.f_he)
            + energy_losses.synchrotron_loss(pe, lo.b_field_ug * np.exp(-(8.3 - 8.3)))
            + energy_losses.inverse_compton_kn_loss(
                pe,
                [f.temperature_k for f in lo.photon_fields],
                [f.energy_density_ev_cm3 for f in lo.photon_fields],
            )
        )
        * units.MYR_S
        / kinematics.beta(pe, ELECTRON.mass)
    )
    np.testing.assert_allclose(rate[0], expected, rtol=1e-10)
