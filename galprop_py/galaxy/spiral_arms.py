"""Four logarithmic spiral arms that modulate an axisymmetric source or gas density (3D grids).

Arms (Faucher-Giguere & Kaspi 2006, ApJ 643, 332, section 3.2.1 and their Table 2, after
Wainscoat et al. 1992, R_sun = 8.5 kpc): the centre line of arm j is ``theta(r) = k_j ln(r /
r_0j) + theta_0j`` in their frame (the centre at the origin, the Sun at (x, y) = (0, 8.5 kpc),
theta counter-clockwise seen from the north Galactic pole, so that the arms trail the clockwise
rotation), with

===================  ========  ==========  ===============
arm                  k [rad]   r_0 [kpc]   theta_0 [rad]
===================  ========  ==========  ===============
Norma                4.25      3.48        1.57
Carina-Sagittarius   4.25      3.48        4.71
Perseus              4.89      4.90        4.09
Crux-Scutum          4.89      4.90        0.95
===================  ========  ==========  ===============

(pitch angles atan(1 / k) = 13.2 and 11.5 deg).  This code's grid has the Sun on +x at azimuth
phi = 0 with phi counter-clockwise seen from the north as well, so phi = theta - pi / 2.  The
Sun (8.5 kpc) then lies between the Carina-Sagittarius arm (7.3 kpc on the Sun-centre line)
and Perseus (10.6 kpc).  The arms are galactocentric: ``sun.r_kpc`` = 8.3 does not move them.

Arm profile.  FGK06 place each pulsar on an arm centre line and displace it by a Gaussian of
sigma = 0.07 r (``width_fraction``).  Here the density across arm j is a Gaussian of the
perpendicular distance to its centre line, d = r |phi - phi_j(r)| sin p_j for an azimuthal
offset at fixed r (p_j the pitch angle), i.e. a Gaussian in phi of width sigma_phi = w / sin
p_j, wrapped over 2 pi and normalised to azimuthal mean 1 at every r::

    M(r, phi) = (1 - f) + f / 4 sum_j (2 pi)^(1/2) / sigma_phi,j
                sum_n exp(-(phi - phi_j(r) + 2 pi n)^2 / (2 sigma_phi,j^2))

with f = ``arm_fraction`` the share of the density in the arms (FGK06: 1, all pulsars born
in arms).  The modulated density is ``n_axi(r, z) M(r, phi)``: its azimuthal average equals the
axisymmetric model at every (r, z), so the total source rate and the gas mass are those of the
axisymmetric model (up to the grid's sampling of the arms).  FGK06's extra azimuthal blur near
the centre (theta_corr = theta_rand exp(-0.35 r / kpc)) is not modelled.

On grids without an azimuth (cylindrical2d, slab1d, spherical1d) the model is its azimuthal
average, the base model: a 2D run with ``spiral_arms`` is the axisymmetric run.

Registered as ``spiral_arms`` in :mod:`.sources` (``source.profile``; a base radial profile by
name, ``profile``) and in :mod:`.gas` for H I and H2 (``base``); ``arm_fraction`` of the gas
(0.5: arm/inter-arm contrast 2.5-3.3 for w = 0.07, not from a paper) is a choice.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from .registry import ModelParameters

FGK2006 = (
    "Faucher-Giguere & Kaspi 2006, ApJ 643, 332, Table 2 (four arms, after Wainscoat et al. "
    "1992), Gaussian arm width 0.07 r"
)
#: (name, k [rad], r_0 [kpc], theta_0 [rad]) of FGK06, Table 2
FGK2006_ARMS = (
    ("norma", 4.25, 3.48, 1.57),
    ("carina_sagittarius", 4.25, 3.48, 4.71),
    ("perseus", 4.89, 4.90, 4.09),
    ("crux_scutum", 4.89, 4.90, 0.95),
)
THETA_SUN_FGK = 0.5 * math.pi  # the Sun's azimuth in FGK06's frame (it is at (0, 8.5 kpc))

#: axisymmetric models an arm pattern may modulate (they take no grid context)
SOURCE_BASES = (
    "lorimer2006",
    "snr",
    "case_bhattacharya1998",
    "yusifov_kucuk2004",
    "ferriere2001",
    "green2015",
    "uniform",
)
HI_BASES = ("analytic", "gordon_burton1976")
H2_BASES = ("analytic", "ferriere2001", "bronfman1988")


def arm_azimuth(r, k: float, r0: float, theta0: float) -> np.ndarray:
    """Grid azimuth phi in (-pi, pi] [rad] of an arm's centre line at radius r [kpc]."""
    r = np.maximum(np.asarray(r, float), 1e-12)
    phi = k * np.log(r / r0) + theta0 - THETA_SUN_FGK
    return np.pi - np.mod(np.pi - phi, 2.0 * np.pi)


def arm_modulation(x, y, width_fraction: float = 0.07, arm_fraction: float = 1.0):
    """M(r, phi) of the module docstring at grid (x, y) [kpc]: azimuthal mean 1 at every r."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    r = np.hypot(x, y)
    phi = np.arctan2(y, x)
    arms = np.zeros(r.shape)
    for _, k, r0, theta0 in FGK2006_ARMS:
        sigma = width_fraction * math.sqrt(1.0 + k * k)  # w / sin p, tan p = 1 / k
        d = phi - arm_azimuth(r, k, r0, theta0)
        wrapped = sum(np.exp(-0.5 * ((d + 2.0 * math.pi * n) / sigma) ** 2) for n in range(-3, 4))
        arms += wrapped * math.sqrt(2.0 * math.pi) / sigma
    return (1.0 - arm_fraction) + arm_fraction * arms / len(FGK2006_ARMS)


class _ArmParameters(ModelParameters):
    width_fraction: float = Field(
        0.07, gt=0.0, le=0.2, description="Gaussian arm width / r (FGK06: 0.07)"
    )


class SpiralArmSourceParameters(_ArmParameters):
    profile: Literal[SOURCE_BASES] = Field("lorimer2006", description="axisymmetric profile")
    profile_parameters: dict[str, Any] = Field(
        default_factory=dict, description="its parameters (defaults: its paper)"
    )
    arm_fraction: float = Field(1.0, ge=0.0, le=1.0, description="share in the arms (FGK06: 1)")

    @model_validator(mode="after")
    def _base(self):
        from .sources import SOURCES

        SOURCES.get(self.profile).parse(
            self.profile_parameters, key="source.parameters.profile_parameters"
        )
        return self


class _GasArmParameters(_ArmParameters):
    base_parameters: dict[str, Any] = Field(
        default_factory=dict, description="parameters of the base model"
    )
    arm_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="share in the arms (not from a paper)"
    )


class SpiralArmHIParameters(_GasArmParameters):
    base: Literal[HI_BASES] = Field("gordon_burton1976", description="axisymmetric H I model")

    @model_validator(mode="after")
    def _base(self):
        from .gas import HI

        HI.get(self.base).parse(self.base_parameters, key="gas.hi_parameters.base_parameters")
        return self


class SpiralArmH2Parameters(_GasArmParameters):
    base: Literal[H2_BASES] = Field("bronfman1988", description="axisymmetric H2 model")

    @model_validator(mode="after")
    def _base(self):
        from .gas import H2

        H2.get(self.base).parse(self.base_parameters, key="gas.h2_parameters.base_parameters")
        return self


def modulated(base, base_parameters, r, z, p: _ArmParameters, x=None, y=None, **context):
    """``base(r, z, base_parameters, **context) * arm_modulation(x, y)`` (``base`` a
    registry entry).  Without x, y (grids other than cartesian3d) the azimuthal average of the
    arms, which is the base model itself: an axisymmetric grid sees the arms averaged out."""
    density = base(r, z, base_parameters, **context)
    if x is None or y is None:
        return density
    return density * arm_modulation(x, y, p.width_fraction, p.arm_fraction)
