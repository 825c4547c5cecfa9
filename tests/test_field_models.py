"""Spatially varying regular field (spiral disc field) in the anisotropic tensor."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from galprop_py.config import config_from_dict
from galprop_py.run import run


def _spiral_config(geometry, pitch, n=(21, 21, 11), ratio=0.01, scheme="monotone"):
    return config_from_dict(
        {
            "run": {"output_dir": "unused"},
            "grid": {
                "geometry": geometry,
                "r_max_kpc": 10.0,
                "x_max_kpc": 10.0,
                "y_max_kpc": 10.0,
                "z_max_kpc": 2.0,
                "n_r": n[0],
                "n_x": n[0],
                "n_y": n[1],
                "n_z": n[2],
            },
            "momentum": {"min": 1.0, "max": 100.0, "n": 4},
            "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
            "diffusion": {
                "model": "anisotropic",
                "field_model": "spiral",
                "pitch_angle_deg": pitch,
                "kperp_over_kpar": ratio,
                "delta": 0.0,
                "eta": 0.0,
                "scheme": scheme,
            },
            "gas": {"model": "none"},
            "losses": {"ionisation": False, "coulomb": False, "spallation": False},
            "source": {"profile": "gaussian", "sigma_kpc": 2.0},
            "normalization": {"enabled": False},
            "output": {"plot": False},
        }
    )


def test_spiral_tensor_components_3d():
    """kappa_ij = kperp delta_ij + (kpar - kperp) b_i b_j with b = sin p r_hat + cos p phi_hat
    at a point of azimuth 30 degrees (1e-12)."""
    cfg = _spiral_config("cartesian3d", 20.0)
    res = run(cfg, progress=False, write_output=False)
    sp = res.model.species[0]
    tensor = res.model.coefficients(sp).diffusion
    phi, p = np.radians(30.0), np.radians(20.0)
    x, y = 3.0 * np.cos(phi), 3.0 * np.sin(phi)
    coords = [np.array([x]), np.array([y]), np.array([0.5])]
    b = np.array(
        [
            np.sin(p) * np.cos(phi) - np.cos(p) * np.sin(phi),
            np.sin(p) * np.sin(phi) + np.cos(p) * np.cos(phi),
            0.0,
        ]
    )
    kpar = tensor.kappa_par[0]
    expected = 0.01 * kpar * np.eye(3) + 0.99 * kpar * np.outer(b, b)
    for i in range(3):
        for j in range(3):
            got = tensor.component(i, j, coords, (0, 1, 2))[0, 0]
            assert got == pytest.approx(expected[i, j], rel=1e-12, abs=1e-14 * kpar)


@pytest.mark.parallel
def test_spiral_field_3d_is_non_negative_and_2d_consistent():
    """Steady 3D run with a spiral field (b turning with the azimuth, oblique to the grid
    almost everywhere), kpar/kperp = 100, monotone scheme: psi >= -1e-12 max in every cell.
    In 2D (r, z) the same field gives the r-z tensor kappa_rr = kperp + (kpar - kperp)
    sin^2 p, kappa_zz = kperp, kappa_rz = 0 (1e-12)."""
    res = run(_spiral_config("cartesian3d", 11.5), progress=False, write_output=False)
    local_min = float(res.states["H1"].min())
    glob_min = MPI.COMM_WORLD.allreduce(local_min, op=MPI.MIN)
    glob_max = MPI.COMM_WORLD.allreduce(float(res.states["H1"].max()), op=MPI.MAX)
    assert glob_min >= -1e-12 * glob_max
    res2 = run(_spiral_config("cylindrical2d", 11.5), progress=False, write_output=False)
    t2 = res2.model.coefficients(res2.model.species[0]).diffusion
    coords = [np.array([4.0]), np.array([0.3])]
    kpar = t2.kappa_par[0]
    s2 = np.sin(np.radians(11.5)) ** 2
    kk = t2.component(0, 0, coords, (0, 2))[0, 0]
    assert kk == pytest.approx(kpar * (0.01 + 0.99 * s2), rel=1e-12)
    assert t2.component(1, 1, coords, (0, 2))[0, 0] == pytest.approx(0.01 * kpar, rel=1e-12)
    assert t2.component(0, 1, coords, (0, 2))[0, 0] == pytest.approx(0.0, abs=1e-15)
