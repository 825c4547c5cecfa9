"""Guiding-centre drifts against analytic fields (issue 3: guiding-centre drifts).

Tolerances: second-order finite differences with h/L <= 1/40 give relative errors below
1e-3; we use 3e-3 on interior points.
"""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py.microphysics.drifts import (
    averaged_drift_velocity,
    curvature_drift_velocity,
    drift_coefficient_cm2_s,
    gradient_drift_velocity,
    sample_field,
)
from galprop_py.microphysics.gyration import gyroradius_cm
from galprop_py.units import C_CM_S, GV_STATVOLT, KPC_CM

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

B0 = 3e-6  # G
R_GV, BETA = 10.0, 0.99
R_SV = R_GV * GV_STATVOLT
V = BETA * C_CM_S
RTOL = 3e-3
MU_NODES, MU_WEIGHTS = np.polynomial.legendre.leggauss(6)  # exact for mu^2 averages


def _pitch_angle_average(fg, rigidity_gv):
    total = 0.0
    for mu, w in zip(MU_NODES, MU_WEIGHTS, strict=True):
        total = total + 0.5 * w * (
            gradient_drift_velocity(fg, rigidity_gv, BETA, mu)
            + curvature_drift_velocity(fg, rigidity_gv, BETA, mu)
        )
    return total


def _azimuthal_cylindrical(power):
    r = np.linspace(1.0, 2.0, 41) * KPC_CM
    z = np.linspace(-0.1, 0.1, 5) * KPC_CM

    def field(rr, zz):
        return 0.0 * rr, B0 * (rr / KPC_CM) ** power, 0.0 * zz

    inner = (slice(2, -2), slice(None))
    return sample_field(field, (r, z), "cylindrical"), r[:, None], inner


def _azimuthal_cartesian(power):
    x = np.linspace(1.0, 2.0, 41) * KPC_CM
    y = np.linspace(0.5, 1.5, 41) * KPC_CM
    z = np.linspace(-0.05, 0.05, 3) * KPC_CM

    def field(xx, yy, zz):
        rr = np.hypot(xx, yy)
        b = B0 * (rr / KPC_CM) ** power
        return -b * yy / rr, b * xx / rr, 0.0 * zz

    fg = sample_field(field, (x, y, z))
    inner = (slice(2, -2), slice(2, -2), slice(None))
    return fg, np.hypot(x[:, None, None], y[None, :, None]) + 0 * z, inner


@pytest.mark.parametrize("builder", [_azimuthal_cylindrical, _azimuthal_cartesian])
def test_curl_free_azimuthal_field_drifts_add(builder):
    # B_phi = B0 r0 / r is curl-free but curl(B/B^2) = 2 z_hat / (B0 r0) != 0: the gradient
    # and curvature drifts both point along +z (positive charge) and add up.
    fg, r, inner = builder(-1)
    b = fg.strength_gauss
    mu = 0.4
    vg = gradient_drift_velocity(fg, R_GV, BETA, mu)
    vc = curvature_drift_velocity(fg, R_GV, BETA, mu)
    np.testing.assert_allclose(vg[-1][inner], (V * (1 - mu**2) * R_SV / (2 * b * r))[inner], RTOL)
    np.testing.assert_allclose(vc[-1][inner], (V * mu**2 * R_SV / (b * r))[inner], RTOL)
    assert np.max(np.abs(vg[:-1][(slice(None),) + inner])) < 1e-6 * np.max(vg[-1])
    avg = averaged_drift_velocity(fg, R_GV, BETA)
    np.testing.assert_allclose(avg[-1][inner], (2 * V * R_SV / (3 * b * r))[inner], RTOL)
    np.testing.assert_allclose(_pitch_angle_average(fg, R_GV)[-1][inner], avg[-1][inner], RTOL)


@pytest.mark.parametrize("builder", [_azimuthal_cylindrical, _azimuthal_cartesian])
def test_b_proportional_to_r_drifts_cancel_on_average(builder):
    # B_phi ~ r: curl(B/B^2) = 0, so the gradient drift (-z) and the curvature drift (+z)
    # cancel in the pitch-angle average, although each is non-zero.
    fg, r, inner = builder(+1)
    b = fg.strength_gauss
    scale = (V * R_SV / (b * r))[inner]
    vg = gradient_drift_velocity(fg, R_GV, BETA, 0.0)
    np.testing.assert_allclose(vg[-1][inner], -0.5 * scale, RTOL)
    mean = _pitch_angle_average(fg, R_GV)[-1][inner]
    assert np.max(np.abs(mean / scale)) < 1e-3
    assert np.max(np.abs(averaged_drift_velocity(fg, R_GV, BETA)[-1][inner] / scale)) < 1e-3


def _dipole_field(xx, yy, zz):
    r = np.sqrt(xx**2 + yy**2 + zz**2)
    m = B0 * KPC_CM**3  # moment along +z
    return (3 * m * zz * xx / r**5, 3 * m * zz * yy / r**5, m * (3 * zz**2 - r**2) / r**5)


def _dipole_grad_strength(xx, yy, zz):
    r2 = xx**2 + yy**2 + zz**2
    s = np.sqrt(r2 + 3 * zz**2)
    m = B0 * KPC_CM**3
    grads = []
    for c, extra in ((xx, 0.0), (yy, 0.0), (zz, 3 * zz)):
        grads.append(m * ((c + extra) / (s * r2**2) - 4 * c * s / r2**3))
    return np.stack(grads), m * s / r2**2


def test_dipole_gradient_drift_direction_and_magnitude():
    x = np.linspace(2.0, 3.0, 41) * KPC_CM
    y = np.linspace(-0.5, 0.5, 41) * KPC_CM
    z = np.linspace(-0.5, 0.5, 41) * KPC_CM
    fg = sample_field(_dipole_field, (x, y, z))
    xx, yy, zz = np.meshgrid(x, y, z, indexing="ij")
    grad_b, b = _dipole_grad_strength(xx, yy, zz)
    np.testing.assert_allclose(fg.strength_gauss, b, rtol=1e-12)
    mu = 0.3
    expected = 0.5 * V * (1 - mu**2) * R_SV / b**2 * np.cross(fg.unit_vector, grad_b, axis=0)
    got = gradient_drift_velocity(fg, R_GV, BETA, mu)
    inner = (slice(None), slice(2, -2), slice(2, -2), slice(2, -2))
    scale = np.max(np.abs(expected[inner]))
    assert np.max(np.abs(got[inner] - expected[inner])) < RTOL * scale
    # in the equatorial plane: |v| = (3/2) v (1 - mu^2) r_g / r along +phi (positive charge)
    j0, k0 = 20, 20  # y = 0, z = 0
    r = x[2:-2]
    r_g = gyroradius_cm(R_GV, b[2:-2, j0, k0])
    np.testing.assert_allclose(got[1, 2:-2, j0, k0], 1.5 * V * (1 - mu**2) * r_g / r, RTOL)
    # curvature radius r/3 at the equator; vacuum field: <v_d> = (2 v R / 3) b x grad B / B^2
    vc = curvature_drift_velocity(fg, R_GV, BETA, mu)
    np.testing.assert_allclose(vc[1, 2:-2, j0, k0], 3 * V * mu**2 * r_g / r, RTOL)
    avg = averaged_drift_velocity(fg, R_GV, BETA)
    vacuum = 2 * V * R_SV / 3 / b**2 * np.cross(fg.unit_vector, grad_b, axis=0)
    assert np.max(np.abs(avg[inner] - vacuum[inner])) < RTOL * np.max(np.abs(vacuum[inner]))
    # a negative charge drifts the other way
    np.testing.assert_allclose(gradient_drift_velocity(fg, -R_GV, BETA, mu), -got, rtol=1e-14)


def test_uniform_field_has_no_drift():
    c = np.linspace(0.0, 1.0, 5) * KPC_CM
    b = np.array([1.0, -2.0, 0.5]) * 1e-6
    fg = sample_field(np.broadcast_to(b[:, None, None, None], (3, 5, 5, 5)), (c, c, c))
    for v in (
        gradient_drift_velocity(fg, R_GV, BETA, 0.2),
        curvature_drift_velocity(fg, R_GV, BETA, 0.7),
        averaged_drift_velocity(fg, R_GV, BETA),
    ):
        # zero up to the round-off of the finite differences (v r_g / L ~ 1e3 cm/s here)
        assert np.max(np.abs(v)) < 1e-12 * V * gyroradius_cm(R_GV, B0) / KPC_CM


def test_drift_coefficient_is_v_rg_over_3():
    kappa_a = drift_coefficient_cm2_s(R_GV, BETA, B0)
    assert kappa_a == pytest.approx(V * gyroradius_cm(R_GV, B0) / 3, rel=1e-14)
    # 1 GV, 1 muG: r_g = 3.3356e12 cm (benchmarks B10 quotes 3.3e12)
    assert gyroradius_cm(1.0, 1e-6) == pytest.approx(3.3356e12, rel=1e-4)


def test_grid_validation():
    c = np.linspace(0.0, 1.0, 4)
    with pytest.raises(ValueError):
        sample_field(np.zeros((3, 4, 4)), (c, c), "cylindrical")  # r = 0 on the grid
    with pytest.raises(ValueError):
        sample_field(np.zeros((3, 4, 4, 3)), (c, c, c))
