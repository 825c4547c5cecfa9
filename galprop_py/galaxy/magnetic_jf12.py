"""The Jansson & Farrar 2012 (JF12) Galactic magnetic field: regular, striated and random parts.

References: Jansson & Farrar 2012a, ApJ 757, 14 (the regular field and its Table 1, and
the striated field's beta), 2012b, ApJL 761, L11 (the random field, its Table 1).  Units: kpc,
microgauss.  Registered by name ``jf12`` in :mod:`.magnetic` (strength and direction).

Frame.  JF12 put the Sun at x = -8.5 kpc (right-handed, z to the north Galactic pole, so that
the rotation is along +y at the Sun).  This code's 3D grid has the Sun on +x and the rotation
along -y at the Sun (:mod:`.magnetic`): the two frames differ by a rotation of 180 deg about the
z axis, which keeps the handedness and every cylindrical component.  So the field is evaluated
in cylindrical components (B_r, B_phi, B_z) of the paper at the paper's azimuth phi_JF = phi +
pi (phi = atan2(y, x) of the grid) and turned back with the grid's (r_hat, phi_hat): the
paper's -x axis (phi_JF = pi, where the spiral regions are tabulated) is the grid's +x axis,
the Sun's side.  This is the same 180-deg turn as the Pshirkov et al. 2011 model of
:mod:`.magnetic` (whose check of the local direction, l = 90 deg + p, passes in this frame).
The model is galactocentric: the paper's Sun is at 8.5 kpc, in disc region 5; at the Sun's
azimuth the region boundary r_4 = 8.3 kpc passes through 8.3 kpc, so ``sun.r_kpc`` = 8.3 puts
the Sun exactly on the boundary of regions 4 and 5, where the local direction jumps
(examples/milky_way_3d uses 8.5 kpc).

Regular field (2012a), B = B_disc + B_halo + B_X, zero within 1 kpc of the centre and beyond
20 kpc (spherical radius; ``r_inner_kpc``, ``r_outer_kpc``)::

    L(z, h, w) = 1 / (1 + exp(-2 (|z| - h) / w))                         (logistic)
    disc, 5 < r < 20 kpc:  B = b_i (5 kpc / r) (1 - L(z, h_disk, w_disk)) b_hat,
                           b_hat = sin i r_hat + cos i phi_hat
    ring, 3 < r < 5 kpc:   B = b_ring (5 kpc / r) (1 - L(z, h_disk, w_disk)) phi_hat
    toroidal halo:         B_phi = exp(-|z| / z0) L(z, h_disk, w_disk) B_n,s (1 - L(r, r_n,s, w_h))
    X field, r_p > r_X^c:  r_p = r - |z| / tan Theta_X0, |B| = B_X exp(-r_p / r_X) r_p / r,
                           elevation Theta_X0
             r_p < r_X^c:  r_p = r r_X^c / (r_X^c + |z| / tan Theta_X0),
                           |B| = B_X exp(-r_p / r_X) (r_p / r)^2,
                           elevation atan(r_X^c tan Theta_X0 / r_p)
    B_X: B_z = |B| sin Theta > 0 on both sides, B_r = sign(z) |B| cos Theta

with the pitch i = 11.5 deg and region i of the disc (i = 1..8) bounded by the logarithmic
spirals r = r_{i-1} e^{phi tan i}, r = r_i e^{phi tan i} crossing the grid's +x axis at
r_1..r_8 = 5.1, 6.3, 7.1, 8.3, 9.8, 11.4, 12.7, 15.5 kpc (r_0 = r_8 e^{-2 pi tan i}: the eight
regions cover 2 pi).  b_8 is not a free parameter: the disc's net flux through any cylinder
must vanish, sum_i b_i Delta phi_i = 0 with Delta phi_i = ln(r_i / r_{i-1}) / tan i, which
gives 2.76 muG from the printed b_1..b_7 (Table 1 prints 2.7).  Table 1 (best fit): b_1..b_7 =
0.1, 3.0, -0.9, -0.8, -2.0, -4.2, 0.0 muG, b_ring = 0.1 muG, h_disk = 0.40 kpc, w_disk =
0.27 kpc; B_n = 1.4, B_s = -1.1 muG, r_n = 9.22 kpc, r_s > 16.7 kpc (the bound is used),
w_h = 0.20 kpc, z0 = 5.3 kpc; B_X = 4.6 muG, Theta_X0 = 49 deg, r_X^c = 4.8 kpc, r_X =
2.9 kpc.  Negative b_i point inwards-clockwise: at the Sun (region 5, b_5 = -2.0 muG) the disc
field is 2.0 (5 / 8.5) (1 - L(0)) = 1.12 muG towards l = 90 - 11.5 = 78.5 deg.

The inner X-field elevation is written as atan(r_X^c tan Theta_X0 / r_p), which equals the
paper's atan(|z| / (r - r_p)) off the plane and is its limit at z = 0 (CRPropa's JF12Field
puts 90 deg at z = 0 exactly instead).  The 1 kpc / 20 kpc spherical cut-offs and the (5 kpc
/ r) of the ring are as in CRPropa's JF12Field (the community's reference implementation).

Divergence.  The disc is solenoidal inside each region and the field is tangent to the region
boundaries (no flux through them); the logistic factor in z does not spoil it (B_disc is
horizontal); the halo is azimuthal and axisymmetric; the X field conserves flux along its
straight field lines.  Not solenoidal (surface sources, as published; Kleimann et al. 2019,
ApJ 877, 76): the cylinder r = 5 kpc (the azimuthal ring meets the spiral, whose B_r there
integrates to zero over azimuth because of b_8 but not locally), r = 20 kpc (the disc is cut)
and the spheres of 1 and 20 kpc.  The X field also has a kink (B_r changes sign) at z = 0 and
a jump of |B| (tangential, factor r_X^c / r) on the cone r_p = r_X^c; the disc a tangential
jump on every region boundary: centred differences across them are O(jump / h) although the
field has no divergence there.

Random field (2012b, Table 1): b_1..b_8 = 10.81, 6.96, 9.59, 6.96, 1.96, 16.34, 37.29,
10.35 muG in the same regions times (5 kpc / r) for r > 5 kpc, b_int = 7.63 muG for r < 5 kpc,
times exp(-z^2 / 2 z_0^2), z_0 = 0.61 kpc; halo B_0 exp(-r / r_0) exp(-z^2 / 2 z_0^2), B_0 =
4.68 muG, r_0 = 10.97 kpc, z_0 = 2.84 kpc; added in quadrature, zero beyond 20 kpc (spherical).
Striated field (2012a): rms^2 = beta B_reg^2, beta = 1.36 (2012b: "rms strength ~ 20% larger
than the regular field").
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from .registry import ModelParameters

REFERENCE = (
    "Jansson & Farrar 2012, ApJ 757, 14 (regular field, Table 1; striated beta) and ApJL 761, "
    "L11 (random field, Table 1)"
)

#: where the boundaries of the disc regions cross the grid's +x axis (the paper's -x axis) [kpc]
ARM_RADII_KPC = (5.1, 6.3, 7.1, 8.3, 9.8, 11.4, 12.7, 15.5)
R_RING_INNER_KPC = 3.0
R_SPIRAL_INNER_KPC = 5.0
R_DISC_OUTER_KPC = 20.0
R_REF_KPC = 5.0  # the disc strengths b_i are at r = 5 kpc (b_i 5 kpc / r)
RANDOM_ARMS_UG = (10.81, 6.96, 9.59, 6.96, 1.96, 16.34, 37.29, 10.35)  # 2012b, Table 1


def _b(default, doc=""):
    return Field(default, ge=-100.0, le=100.0, description=doc)


class JF12Parameters(ModelParameters):
    """Table 1 of Jansson & Farrar 2012a (regular, beta) and 2012b (random)."""

    b1_ug: float = _b(0.1, "disc region 1 at 5 kpc")
    b2_ug: float = _b(3.0)
    b3_ug: float = _b(-0.9)
    b4_ug: float = _b(-0.8)
    b5_ug: float = _b(-2.0, "the Sun's region")
    b6_ug: float = _b(-4.2)
    b7_ug: float = _b(0.0, "b8 follows from flux conservation")
    b_ring_ug: float = _b(0.1, "molecular ring 3-5 kpc, azimuthal")
    h_disk_kpc: float = Field(0.40, gt=0.0, le=10.0)
    w_disk_kpc: float = Field(0.27, gt=0.0, le=10.0)
    pitch_deg: float = Field(11.5, gt=0.0, lt=60.0, description="spiral pitch angle")
    b_north_ug: float = _b(1.4, "toroidal halo, north")
    b_south_ug: float = _b(-1.1, "toroidal halo, south")
    r_north_kpc: float = Field(9.22, gt=0.0, le=50.0)
    r_south_kpc: float = Field(16.7, gt=0.0, le=50.0, description="paper: > 16.7")
    w_halo_kpc: float = Field(0.20, gt=0.0, le=10.0)
    z0_halo_kpc: float = Field(5.3, gt=0.0, le=50.0)
    b_x_ug: float = _b(4.6, "X field at r_p = 0")
    theta_x0_deg: float = Field(49.0, gt=0.0, lt=90.0)
    r_xc_kpc: float = Field(4.8, gt=0.0, le=50.0)
    r_x_kpc: float = Field(2.9, gt=0.0, le=50.0)
    disc: bool = Field(True, description="include the disc (spiral regions + ring)")
    toroidal_halo: bool = Field(True, description="include the toroidal halo")
    x_field: bool = Field(True, description="include the X (poloidal) field")
    r_inner_kpc: float = Field(1.0, ge=0.0, le=10.0, description="B = 0 inside (spherical)")
    r_outer_kpc: float = Field(20.0, gt=1.0, le=100.0, description="B = 0 beyond (spherical)")
    beta_striated: float = Field(1.36, ge=0.0, le=100.0, description="B_stri^2 = beta B^2")
    b_int_random_ug: float = Field(7.63, ge=0.0, le=100.0, description="random, r < 5 kpc")
    b_arms_random_ug: tuple[float, float, float, float, float, float, float, float] = Field(
        RANDOM_ARMS_UG, description="random field of the 8 regions at 5 kpc"
    )
    z0_random_disk_kpc: float = Field(0.61, gt=0.0, le=50.0)
    b0_random_halo_ug: float = Field(4.68, ge=0.0, le=100.0)
    r0_random_halo_kpc: float = Field(10.97, gt=0.0, le=100.0)
    z0_random_halo_kpc: float = Field(2.84, gt=0.0, le=100.0)
    component: Literal["regular", "regular+striated", "random", "total"] = Field(
        "regular",
        description="strength model: |B_reg|, sqrt(1 + beta) |B_reg|, B_random, or "
        "sqrt((1 + beta) B_reg^2 + B_random^2)",
    )


def logistic(x, x0: float, w: float):
    """L(x, x0, w) = 1 / (1 + exp(-2 (|x| - x0) / w)) (JF12a, the disc-halo transition)."""
    arg = np.clip(-2.0 * (np.abs(np.asarray(x, float)) - x0) / w, -700.0, 700.0)
    return 1.0 / (1.0 + np.exp(arg))


def region_azimuthal_widths(pitch_deg: float = 11.5) -> np.ndarray:
    """Delta phi_i [rad] of the 8 disc regions at any fixed r (they add up to 2 pi)."""
    t = math.tan(math.radians(pitch_deg))
    radii = np.asarray(ARM_RADII_KPC)
    inner = np.concatenate([[radii[-1] * math.exp(-2.0 * math.pi * t)], radii[:-1]])
    if np.any(inner >= radii):
        raise ValueError(
            f"pitch_deg = {pitch_deg}: the 8 JF12 regions overlap (need r_8 e^(-2 pi tan i) "
            f"< r_1 = {radii[0]} kpc); allowed: pitch_deg > ~9.9"
        )
    return np.log(radii / inner) / t


def b8_flux_conserving(p: JF12Parameters) -> float:
    """b_8 [muG] from sum_i b_i Delta phi_i = 0 (no net flux of the disc through a cylinder)."""
    widths = region_azimuthal_widths(p.pitch_deg)
    b = np.array([p.b1_ug, p.b2_ug, p.b3_ug, p.b4_ug, p.b5_ug, p.b6_ug, p.b7_ug])
    return float(-np.dot(b, widths[:7]) / widths[7])


def disc_strengths(p: JF12Parameters) -> np.ndarray:
    """b_1..b_8 [muG] at 5 kpc (b_8 from flux conservation)."""
    b = [p.b1_ug, p.b2_ug, p.b3_ug, p.b4_ug, p.b5_ug, p.b6_ug, p.b7_ug]
    return np.array(b + [b8_flux_conserving(p)])


def disc_region(r, phi, pitch_deg: float = 11.5) -> np.ndarray:
    """Index 0..7 of the disc region at (r, phi) of the grid (phi = atan2(y, x)): the spiral
    through the point crosses the +x axis at r_x = r e^{-phi tan i} (any winding), reduced to
    (r_8 e^{-2 pi tan i}, r_8]; region i has r_{i-1} < r_x <= r_i."""
    t = math.tan(math.radians(pitch_deg))
    period = 2.0 * math.pi * t
    top = math.log(ARM_RADII_KPC[-1])
    u = np.log(np.maximum(np.asarray(r, float), 1e-300)) - np.asarray(phi, float) * t
    u = top - np.mod(top - u, period)
    return np.searchsorted(np.log(ARM_RADII_KPC), u, side="left").clip(0, 7)


def _cylindrical(x, y, z):
    x, y, z = np.broadcast_arrays(*(np.asarray(c, float) for c in (x, y, z)))
    r = np.hypot(x, y)
    safe = np.where(r > 0, r, 1.0)
    cos_phi = np.where(r > 0, x / safe, 1.0)
    sin_phi = np.where(r > 0, y / safe, 0.0)
    return x, y, z, r, cos_phi, sin_phi


def regular_field_cylindrical(r, phi, z, p: JF12Parameters):
    """(B_r, B_phi, B_z) [muG] of the regular field at grid cylindrical (r, phi, z) [kpc]."""
    r, phi, z = np.broadcast_arrays(*(np.asarray(c, float) for c in (r, phi, z)))
    b_r, b_phi, b_z = np.zeros(r.shape), np.zeros(r.shape), np.zeros(r.shape)
    l_disk = logistic(z, p.h_disk_kpc, p.w_disk_kpc)
    safe_r = np.maximum(r, 1e-12)
    if p.disc:
        pitch = math.radians(p.pitch_deg)
        scale = R_REF_KPC / safe_r * (1.0 - l_disk)
        ring = (r > R_RING_INNER_KPC) & (r <= R_SPIRAL_INNER_KPC)
        spiral = (r > R_SPIRAL_INNER_KPC) & (r < R_DISC_OUTER_KPC)
        b_arm = disc_strengths(p)[disc_region(r, phi, p.pitch_deg)] * scale
        b_r += np.where(spiral, b_arm * math.sin(pitch), 0.0)
        b_phi += np.where(spiral, b_arm * math.cos(pitch), 0.0)
        b_phi += np.where(ring, p.b_ring_ug * scale, 0.0)
    if p.toroidal_halo:
        north = z >= 0
        b0 = np.where(north, p.b_north_ug, p.b_south_ug)
        r_h = np.where(north, p.r_north_kpc, p.r_south_kpc)
        radial = 1.0 - 1.0 / (1.0 + np.exp(np.clip(-2.0 * (r - r_h) / p.w_halo_kpc, -700, 700)))
        b_phi += np.exp(-np.abs(z) / p.z0_halo_kpc) * l_disk * b0 * radial
    if p.x_field:
        bx_r, bx_z = x_field(r, z, p)
        b_r += bx_r
        b_z += bx_z
    d = np.hypot(r, z)
    keep = (d >= p.r_inner_kpc) & (d <= p.r_outer_kpc)
    return np.where(keep, b_r, 0.0), np.where(keep, b_phi, 0.0), np.where(keep, b_z, 0.0)


def x_field(r, z, p: JF12Parameters):
    """(B_r, B_z) [muG] of the X field (JF12a, the out-of-plane "X" component)."""
    r, z = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    az = np.abs(z)
    tan0 = math.tan(math.radians(p.theta_x0_deg))
    r_c = p.r_xc_kpc + az / tan0  # the cone r_p = r_X^c
    inner = r < r_c
    safe_r = np.maximum(r, 1e-12)
    rp_in = r * p.r_xc_kpc / r_c
    rp_out = r - az / tan0
    rp = np.where(inner, rp_in, rp_out)
    ratio = np.where(r > 0, rp / safe_r, 1.0)
    mag = p.b_x_ug * np.exp(-rp / p.r_x_kpc) * np.where(inner, ratio**2, ratio)
    theta_in = np.arctan2(p.r_xc_kpc * tan0, np.maximum(rp_in, 0.0))
    theta = np.where(inner, theta_in, math.radians(p.theta_x0_deg))
    sign = np.where(z < 0, -1.0, 1.0)
    return sign * mag * np.cos(theta), mag * np.sin(theta)


def regular_field(x, y, z, p: JF12Parameters):
    """(B_x, B_y, B_z) [muG] of the regular JF12 field at grid Cartesian (x, y, z) [kpc]."""
    x, y, z, r, c, s = _cylindrical(x, y, z)
    b_r, b_phi, b_z = regular_field_cylindrical(r, np.arctan2(y, x), z, p)
    return b_r * c - b_phi * s, b_r * s + b_phi * c, b_z


def random_strength(x, y, z, p: JF12Parameters) -> np.ndarray:
    """rms strength [muG] of the random (isotropic) field of JF12b at grid (x, y, z) [kpc]."""
    x, y, z, r, _, _ = _cylindrical(x, y, z)
    arms = np.asarray(p.b_arms_random_ug)[disc_region(r, np.arctan2(y, x), p.pitch_deg)]
    disc = np.where(r > R_SPIRAL_INNER_KPC, arms * R_REF_KPC / np.maximum(r, 1e-12), 0.0)
    disc = np.where(r <= R_SPIRAL_INNER_KPC, p.b_int_random_ug, disc)
    disc = disc * np.exp(-0.5 * (z / p.z0_random_disk_kpc) ** 2)
    halo = p.b0_random_halo_ug * np.exp(-r / p.r0_random_halo_kpc)
    halo = halo * np.exp(-0.5 * (z / p.z0_random_halo_kpc) ** 2)
    total = np.hypot(disc, halo)
    return np.where(np.sqrt(r * r + z * z) <= R_DISC_OUTER_KPC, total, 0.0)


def strength(x, y, z, p: JF12Parameters, name: str = "jf12") -> np.ndarray:
    """|B| [muG] of ``p.component`` (regular, regular+striated, random, total)."""
    if x is None or y is None:
        raise ValueError(
            f"losses.b_field_model = {name!r}: the field is not axisymmetric and needs a "
            "cartesian3d grid"
        )
    if p.component == "random":
        return random_strength(x, y, z, p)
    bx, by, bz = regular_field(x, y, z, p)
    b2 = bx * bx + by * by + bz * bz
    if p.component == "regular":
        return np.sqrt(b2)
    b2 = (1.0 + p.beta_striated) * b2
    if p.component == "total":
        b2 = b2 + random_strength(x, y, z, p) ** 2
    return np.sqrt(b2)


def direction(coords, geometry, p: JF12Parameters, name: str = "jf12"):
    """B/|B| of the regular field on a cartesian3d grid; where it vanishes (|r| < 1 kpc, beyond
    20 kpc) the disc spiral's line element (sin i r_hat + cos i phi_hat)."""
    if geometry != "cartesian3d":
        raise ValueError(
            f"config key diffusion.field_model = {name!r}: the field is not axisymmetric and "
            f"needs a cartesian3d grid, not {geometry}"
        )
    bx, by, bz = regular_field(coords[0], coords[1], coords[2], p)
    norm = np.sqrt(bx * bx + by * by + bz * bz)
    scale = max(abs(p.b_x_ug), abs(p.b_north_ug), abs(p.b_south_ug), 1e-300)
    zero = norm <= 1e-12 * scale
    _, _, _, _, c, s = _cylindrical(coords[0], coords[1], coords[2])
    pitch = math.radians(p.pitch_deg)
    sx = math.sin(pitch) * c - math.cos(pitch) * s
    sy = math.sin(pitch) * s + math.cos(pitch) * c
    safe = np.where(zero, 1.0, norm)
    return (
        np.where(zero, sx, bx / safe),
        np.where(zero, sy, by / safe),
        np.where(zero, 0, bz / safe),
    )
