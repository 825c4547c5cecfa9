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
