"""The galaxy model's catastrophic terms: radioactive decay and spallation on H + He."""

from __future__ import annotations

import numpy as np
import pytest
from util import slab_config

from galprop_py import units
from galprop_py.config import config_from_dict
from galprop_py.physics import cross_sections, kinematics
from galprop_py.run import run


def test_decay_only_steady_state_is_source_times_lifetime():
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
    """Catastrophic rate of protons in uniform gas: n_H v sigma_pp (1 + K_He f_He), K_He =
    4^(2/3) (1e-12 relative; sigma_pp from Kafexhiu et al. 2014)."""
    data = slab_config(n_z=8).model_dump()
    data["gas"] = {"model": "uniform", "n_h_cm3": 2.0, "f_he": 0.1,
                   "disc_half_thickness_kpc": 10.0}
    data["losses"]["spallation"] = True
    cfg = config_from_dict(data)
    res = run(cfg, progress=False, write_output=False)
    h1 = res.model._by_name["H1"]
    p = res.model.momentum.momentum(h1)
    rate = res.model.coefficients(h1).catastrophic.evaluate([np.zeros(1)])[0]
    t = kinematics.kinetic_energy(p, h1.mass)
    expected = (2.0 * kinematics.velocity_cm_s(p, h1.mass)
                * cross_sections.sigma_pp_inelastic_mb(t) * units.MB_CM2
                * (1.0 + 4.0 ** (2.0 / 3.0) * 0.1) * units.MYR_S)
    np.testing.assert_allclose(rate, expected, rtol=1e-12)
