"""What a network run writes and how it is normalised: elements, ratios, the rigidity axis,
normalisation on the modulated flux, and own normalisations that carry their secondaries."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from util import slab_config

from galprop_py.config import config_from_dict
from galprop_py.physics import kinematics
from galprop_py.physics.modulation import force_field
from galprop_py.run import run

T_REF = 10.0  # GeV/n


def _box(species, normalization=None, phi=0.5):
    """Closed uniform box (no escape, no energy changes, spallation on uniform gas)."""
    data = slab_config(n_z=6).model_dump()
    data["grid"]["boundaries"] = {"z_min": "closed", "z_max": "closed"}
    data["momentum"] = {"min": 0.1, "max": 1000.0, "n": 24, "boundary": "closed"}
    data["species"] = species
    data["source"]["profile"] = "uniform"
    data["gas"] = {"model": "uniform", "n_h_cm3": 1.0, "f_he": 0.1, "disc_half_thickness_kpc": 10}
    data["losses"] = {"ionisation": False, "coulomb": False, "spallation": True}
    data["normalization"] = normalization or {"enabled": False}
    data["modulation"] = {"phi_gv": phi}
    return config_from_dict(data)


def _toa_at(res, name, t_ref=T_REF):
    s = res.sun_spectra[name]
    return float(np.exp(np.interp(np.log(t_ref), np.log(s["t_n"]), np.log(s["toa"]))))


SPECIES = [
    {"name": "O16", "sigma_inelastic_mb": 300.0},
    {"name": "C12", "sigma_inelastic_mb": 280.0, "parents": {"O16": 60.0}},
    {"name": "B10", "abundance": 0.0, "sigma_inelastic_mb": 220.0,
     "parents": {"C12": 20.0, "O16": 10.0}},
]  # fmt: skip


def _species(c_abundance, o_abundance, c_norm=None):
    out = [dict(s) for s in SPECIES]
    out[0]["abundance"] = o_abundance
    out[1]["abundance"] = c_abundance
    if c_norm is not None:
        out[1]["normalize_to"] = [T_REF, c_norm]
    return out


def test_own_normalisation_carries_its_secondaries(tight_steady_rtol):
    """C12 scaled on its own to F_C, O16 (with everything else) by [normalization] to F_O,
    both on the modulated flux at 10 GeV/n.  The problem is linear, so the result must be
    f_C x (C12 alone) + f_O x (O16 alone), with f_C, f_O from the TOA fluxes of the two
    separate runs (O16 also feeds C12: f_O is found together with f_C).  Checked: the
    normalised TOA fluxes (1e-10) and B10 everywhere against that superposition (1e-8)."""
    f_c_target, f_o_target = 2.0e-3, 3.0e-3
    norm = {"species": "O16", "t_n_gev": T_REF, "flux": f_o_target, "enabled": True}
    both = run(_box(_species(0.7, 1.0, c_norm=f_c_target), norm), progress=False,
               write_output=False)  # fmt: skip
    c_only = run(_box(_species(0.7, 0.0)), progress=False, write_output=False)
    o_only = run(_box(_species(0.0, 1.0)), progress=False, write_output=False)
    assert _toa_at(both, "C12") == pytest.approx(f_c_target, rel=1e-10)
    assert _toa_at(both, "O16") == pytest.approx(f_o_target, rel=1e-10)
    # O16 alone sets f_O; C12 = f_C C12(C alone) + f_O C12(O alone) sets f_C (TOA is linear)
    f_o = f_o_target / _toa_at(o_only, "O16")
    f_c = (f_c_target - f_o * _toa_at(o_only, "C12")) / _toa_at(c_only, "C12")
    for name in ("C12", "B10"):
        expected = f_c * c_only.states[name] + f_o * o_only.states[name]
        np.testing.assert_allclose(both.states[name], expected, rtol=1e-8, err_msg=name)
    assert both.normalisation == pytest.approx(f_o, rel=1e-10)


def test_global_normalisation_is_on_the_modulated_flux(tight_steady_rtol):
    """[normalization] matches the TOA flux at T_n (force field, Gleeson & Axford 1968,
    evaluated here from the LIS, log-log between its nodes): J_TOA(T) = J_LIS(T + Z phi / A)
    T (T + 2m) / ((T + Z phi/A)(T + Z phi/A + 2m)) per nucleon, m = the mass per nucleon;
    1e-6."""
    t = float(np.geomspace(0.1, 1000.0, 24)[12])  # a node: no interpolation of the TOA
    norm = {"species": "C12", "t_n_gev": t, "flux": 1.0e-2, "enabled": True}
    res = run(_box(_species(1.0, 0.0), norm, phi=0.6), progress=False, write_output=False)
    s = res.sun_spectra["C12"]
    m = res.model._by_name["C12"].mass / 12
    shift = 6 * 0.6 / 12
    lis = np.exp(np.interp(np.log(t + shift), np.log(s["t_n"]), np.log(s["lis"])))
    toa = lis * t * (t + 2 * m) / ((t + shift) * (t + shift + 2 * m))
    assert toa == pytest.approx(1.0e-2, rel=1e-6)
    assert s["toa"] == pytest.approx(force_field(s["t_n"], s["lis"], 0.6, m, 6, 12))


def test_elements_ratios_and_rigidity_axis_in_the_result_file(tmp_path_shared, tight_steady_rtol):
    """B10 + B11 from C12 and O16: /sun/elements/B is the isotope sum on T/n (exact on the
    nodes); every flux on rigidity is J_T dT_n/dR, with dT_n/dR taken here by differencing
    T_n(R) = (sqrt((Z R)^2 + m^2) - m) / A; /sun/ratios/B_C is B/C on both axes; units
    recorded.  Same file on any rank count (the datasets are global)."""
    species = _species(1.0, 1.0) + [
        {"name": "B11", "abundance": 0.0, "sigma_inelastic_mb": 230.0,
         "parents": {"C12": 40.0, "O16": 20.0}},
    ]  # fmt: skip
    cfg = _box(species)
    cfg.run.output_dir = str(tmp_path_shared)
    cfg.output.plot = False
    res = run(cfg, progress=False, write_output=True)
    with h5py.File(res.output_file, "r") as f:
        b10 = f["species/B10/sun/flux_lis"][...]
        b11 = f["species/B11/sun/flux_lis"][...]
        b = f["sun/elements/B/flux_lis"][...]
        c = f["sun/elements/C/flux_lis"][...]
        t_n = f["sun/elements/B/kinetic_energy_per_nucleon"][...]
        np.testing.assert_allclose(b, b10 + b11, rtol=1e-12)
        np.testing.assert_allclose(f["sun/ratios/B_C/ratio_lis"][...], b / c, rtol=1e-12)
        r10 = f["species/B10/sun/rigidity"][...]
        j10_r = f["species/B10/sun/flux_lis_rigidity"][...]
        assert f["species/B10/sun/flux_lis_rigidity"].attrs["unit"] == "m^-2 s^-1 sr^-1 GV^-1"
        assert f["sun/elements/B/rigidity"].attrs["unit"] == "GV"
        r_b = f["sun/elements/B/rigidity"][...]
        j_b_r = f["sun/elements/B/flux_lis_rigidity"][...]
        j_c_r = f["sun/elements/C/flux_lis_rigidity"][...]
        r_c = f["sun/elements/C/rigidity"][...]
        ratio_r = f["sun/ratios/B_C/ratio_lis_rigidity"][...]
        r_ratio = f["sun/ratios/B_C/rigidity"][...]
    m = res.model._by_name["B10"].mass

    def t_of_r(r):
        return (np.sqrt((5 * r) ** 2 + m**2) - m) / 10

    eps = 1e-6
    dtdr = (t_of_r(r10 * (1 + eps)) - t_of_r(r10 * (1 - eps))) / (2 * eps * r10)
    np.testing.assert_allclose(j10_r, b10 * dtdr, rtol=1e-8)
    assert np.allclose(t_n, res.model.momentum.nodes)
    p10 = kinematics.momentum_from_rigidity(r10, 5)
    assert np.allclose(kinematics.kinetic_energy(p10, m) / 10, t_n)
    # the element on its rigidity grid and the ratio there, inside the range every isotope has
    sel = (r_ratio > 2.0) & (r_ratio < 500.0)
    j_b = np.interp(np.log(r_ratio[sel]), np.log(r_b), np.log(j_b_r))
    j_c = np.interp(np.log(r_ratio[sel]), np.log(r_c), np.log(j_c_r))
    np.testing.assert_allclose(ratio_r[sel], np.exp(j_b - j_c), rtol=1e-3)
