"""Helpers shared by the tests: configs of idealised problems run through the user path."""

from __future__ import annotations

import numpy as np

from galprop_py.config import config_from_dict


def slab_config(n_z=81, h=4.0, d0=3.0e28, v=0.0, mode="steady", **extra):
    """B1/B2/B5-type slab: constant D, thin-disc source, no gas, no losses."""
    data = {
        "run": {"mode": mode, "output_dir": "unused"},
        "grid": {"geometry": "slab1d", "z_max_kpc": h, "n_z": n_z},
        "momentum": {"min": 1.0, "max": 100.0, "n": 6, "boundary": "closed"},
        "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
        "diffusion": {"d0_cm2_s": d0, "delta": 0.0, "eta": 0.0},
        "wind": {"v0_km_s": v},
        "gas": {"model": "none"},
        "losses": {"ionisation": False, "coulomb": False, "spallation": False},
        "source": {"profile": "thin_disc"},
        "normalization": {"enabled": False},
        "output": {"plot": False},
    }
    for key, value in extra.items():
        block, name = key.split("__")
        data.setdefault(block, {})[name] = value
    return config_from_dict(data)


def integrated_density(result, name="H1"):
    """Momentum-integrated density sum_k psi_k dp_k on the whole grid (every rank)."""
    sp = result.model._by_name[name]
    dp = np.diff(result.model.momentum.momentum_edges(sp))
    full = result.decomp.gather_to_all(result.states[name])
    return full @ dp


def total_source(result, name="H1"):
    """Total source per unit disc area, sum_k S_k dp_k (thin disc of unit surface density)."""
    sp = result.model._by_name[name]
    p = result.model.momentum.momentum(sp)
    dp = np.diff(result.model.momentum.momentum_edges(sp))
    coeffs = result.model.coefficients(sp)
    spectrum = coeffs.source.terms[0][1]
    assert spectrum.shape == p.shape
    return float(spectrum @ dp)


def b3_network_data(n_z=81, h=4.0, n_h=1.0):
    """The B3 setup as a config dict: C12 (280 mb) -> B10 (250 mb, produced with 70 mb), same
    A/Z, thin-disc source, gas (no helium) only in the central disc cell, spallation on."""
    dz = 2 * h / n_z
    data = slab_config(n_z=n_z, h=h).model_dump()
    data["species"] = [
        {"name": "C12", "sigma_inelastic_mb": 280.0, "injection": {"indices": [2.2]}},
        {"name": "B10", "abundance": 0.0, "sigma_inelastic_mb": 250.0, "parents": {"C12": 70.0}},
    ]
    data["gas"] = {
        "model": "uniform",
        "n_h_cm3": n_h,
        "f_he": 0.0,
        "disc_half_thickness_kpc": 0.5 * dz,
    }
    data["losses"]["spallation"] = True
    return data
