"""Four logarithmic spiral arms that modulate an axisymmetric source or gas density (3D grids).

Two arm sets, chosen by the parameter ``arms``: ``"fgk2006"`` (default) and
``"steiman_cameron2010"``.

Arms ``fgk2006`` (Faucher-Giguere & Kaspi 2006, ApJ 643, 332, section 3.2.1 and their Table 2, after
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

Arms ``steiman_cameron2010`` (Steiman-Cameron, Wolfire & Hollenbach 2010, ApJ 722, 1460: the
four-arm fit to the COBE-FIRAS [C II] 158 micron and [N II] 205 micron emission, their Table 2,
R_sun = 8.5 kpc; the numbers as reprinted in A&A 644, A72 (2020), Table 2, "values as given in
Steiman-Cameron et al. (2010) for their four-arm model fitted to the ISM distribution traced by
[C II] emission"): arm i is the logarithmic spiral r = a_i exp(beta_i theta), i.e. theta_i(r) =
ln(r / a_i) / beta_i, in the same frame as FGK06 (the Sun at (0, 8.5 kpc), theta_sun = pi / 2,
counter-clockwise: phi = theta - pi / 2 here), with a Gaussian azimuthal profile exp(-(theta -
theta_i(r))^2 / delta^2), delta = 15 deg (sigma_phi = delta / sqrt 2), and amplitudes A_i:

===================  ==========  ===============  =======
arm                  a_i [kpc]   beta_i [1/rad]   A_i
===================  ==========  ===============  =======
Sagittarius-Carina   0.246       0.242            169
Scutum-Crux          0.608       0.279            266
Perseus              0.449       0.249            339
Norma-Cygnus         0.378       0.240            176
===================  ==========  ===============  =======

(pitch angles atan(beta_i) = 13.6, 15.6, 14.0, 13.5 deg).  Seen from the Sun the centre lines
are tangent to the lines of sight at l = 50.5 deg (Sagittarius), 284.3 deg (Carina), 29.7 deg
(Scutum), 307.2 deg (Crux), next to the observed tangencies 49-50, 282-284, 30-31 and 308-310
deg (e.g. the compilation in Hou & Han 2014, A&A 569, A125, Table 3).  The arms cross the
Sun-centre line (phi = 0) between the Sun and the centre at 7.53 kpc (Sagittarius-Carina) and
5.44 kpc (Scutum-Crux), beyond it at 11.25 kpc (Norma-Cygnus) and 15.17 kpc (Perseus; its
previous winding at 3.17 kpc).  With ``arm_weights = "paper"`` (default) arm i carries the share
A_i / sum A of the arm density (the paper's relative [C II] emissivities), with "equal" 1/4
each.  The paper's radial envelope (exp(-|r - 2.9 kpc| / sigma_r), sigma_r = 0.7 kpc inside and
3.1 kpc outside) and its vertical profile (sigma_z = 70 pc) describe the [C II] emissivity; here
the radial and vertical profiles are those of the base model.  Some codes list the same
numbers under other arm names (e.g. "Norma" for a = 0.246 kpc): the names above are the ones
whose tangencies the numbers reproduce.

Arm profile.  FGK06 place each pulsar on an arm centre line and displace it by a Gaussian of
sigma = 0.07 r (``width_fraction``).  Here the density across arm j is a Gaussian of the
perpendicular distance to its centre line, d = r |phi - phi_j(r)| sin p_j for an azimuthal
offset at fixed r (p_j the pitch angle), i.e. a Gaussian in phi of width sigma_phi = w / sin
p_j, wrapped over 2 pi and normalised to azimuthal mean 1 at every r::

    M(r, phi) = (1 - f) + f sum_j c_j (2 pi)^(1/2) / sigma_phi,j
                sum_n exp(-(phi - phi_j(r) + 2 pi n)^2 / (2 sigma_phi,j^2))

with f = ``arm_fraction`` the share of the density in the arms (FGK06: 1, all pulsars born
in arms) and c_j the arm weights (1/4 each for FGK06; sum c_j = 1).  For
``steiman_cameron2010`` sigma_phi,j = delta / sqrt 2 (``width_deg`` = delta) at every r.
The modulated density is ``n_axi(r, z) M(r, phi)``: its azimuthal average equals the
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
from pydantic import Field, ValidationInfo, field_validator, model_validator

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

STEIMAN_CAMERON2010 = (
    "Steiman-Cameron, Wolfire & Hollenbach 2010, ApJ 722, 1460, Table 2 (four arms fitted to "
    "COBE-FIRAS [C II] / [N II]), Gaussian azimuthal width delta = 15 deg"
)
#: (name, a [kpc], beta [1/rad], A) of Steiman-Cameron et al. 2010, Table 2: r = a e^(beta theta)
SC2010_ARMS = (
    ("sagittarius_carina", 0.246, 0.242, 169.0),
    ("scutum_crux", 0.608, 0.279, 266.0),
    ("perseus", 0.449, 0.249, 339.0),
    ("norma_cygnus", 0.378, 0.240, 176.0),
)
SC2010_WIDTH_DEG = 15.0  # delta of exp(-(theta - theta_i)^2 / delta^2)
FGK2006_WIDTH_FRACTION = 0.07
#: the reference of the ``spiral_arms`` models (both arm sets)
REFERENCE = FGK2006 + "; or (arms = 'steiman_cameron2010') " + STEIMAN_CAMERON2010
ARM_SETS = ("fgk2006", "steiman_cameron2010")

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


def arm_lines(arms: str = "fgk2006"):
    """(name, k [rad], r_0 [kpc], theta_0 [rad], weight) of each arm of set ``arms``: the
    centre line theta = k ln(r / r_0) + theta_0 in the FGK06 / SC10 frame (Steiman-Cameron's
    r = a e^(beta theta) is k = 1 / beta, r_0 = a, theta_0 = 0); weights A_i / sum A for
    SC10 (module docstring), 1/4 for FGK06."""
    if arms == "fgk2006":
        return tuple((n, k, r0, t0, 0.25) for n, k, r0, t0 in FGK2006_ARMS)
    if arms == "steiman_cameron2010":
        total = sum(a[3] for a in SC2010_ARMS)
        return tuple((n, 1.0 / b, a, 0.0, w / total) for n, a, b, w in SC2010_ARMS)
    raise ValueError(f"arms = {arms!r}: allowed: {', '.join(repr(a) for a in ARM_SETS)}")


def arm_modulation(
    x,
    y,
    width_fraction: float | None = None,
    arm_fraction: float = 1.0,
    arms: str = "fgk2006",
    width_deg: float | None = None,
    arm_weights: str = "paper",
):
    """M(r, phi) of the module docstring at grid (x, y) [kpc]: azimuthal mean 1 at every r.
    FGK06 arms: Gaussian across the arm of width ``width_fraction`` r (default 0.07); SC10:
    exp(-(delta phi)^2 / delta^2) with delta = ``width_deg`` (default 15 deg) and the paper's
    arm amplitudes (``arm_weights = "paper"``) or equal ones ("equal")."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    r = np.hypot(x, y)
    phi = np.arctan2(y, x)
    lines = arm_lines(arms)
    total = np.zeros(r.shape)
    for _, k, r0, theta0, weight in lines:
        if arms == "fgk2006":
            w = FGK2006_WIDTH_FRACTION if width_fraction is None else width_fraction
            sigma = w * math.sqrt(1.0 + k * k)  # w / sin p, tan p = 1 / k
        else:
            delta = SC2010_WIDTH_DEG if width_deg is None else width_deg
            sigma = math.radians(delta) / math.sqrt(2.0)
        if arm_weights == "equal":
            weight = 1.0 / len(lines)
        d = phi - arm_azimuth(r, k, r0, theta0)
        wrapped = sum(np.exp(-0.5 * ((d + 2.0 * math.pi * n) / sigma) ** 2) for n in range(-3, 4))
        total += weight * wrapped * math.sqrt(2.0 * math.pi) / sigma
    return (1.0 - arm_fraction) + arm_fraction * total


class _ArmParameters(ModelParameters):
    arms: Literal[ARM_SETS] = Field(
        "fgk2006", description="arm set: fgk2006 (FGK06 Table 2) or steiman_cameron2010"
    )
    width_fraction: float | None = Field(
        None, gt=0.0, le=0.2, description="fgk2006: Gaussian arm width / r (default 0.07)"
    )
    width_deg: float | None = Field(
        None, gt=0.0, le=90.0, description="steiman_cameron2010: delta [deg] (default 15)"
    )
    arm_weights: Literal["paper", "equal"] = Field(
        "paper", description="steiman_cameron2010: the paper's A_i, or equal arms"
    )

    @field_validator("width_fraction", "width_deg", "arm_weights")
    @classmethod
    def _belongs_to_the_arm_set(cls, value, info: ValidationInfo):
        owner = "fgk2006" if info.field_name == "width_fraction" else "steiman_cameron2010"
        arms = info.data.get("arms", "fgk2006")
        if value is not None and arms != owner:
            raise ValueError(f"only for arms = {owner!r}, not {arms!r}")
        return value


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
    modulation = arm_modulation(
        x, y, p.width_fraction, p.arm_fraction, p.arms, p.width_deg, p.arm_weights
    )
    return density * modulation
