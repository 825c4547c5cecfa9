"""Cosmic-ray source densities of the Milky Way by name (``source.profile``).

Each model is a relative source density of galactocentric cylindrical radius ``r`` and height
``z`` [kpc] (arbitrary normalisation: the run normalises the spectra to a measured flux).  Radial
fits take the solar radius of the paper's fit, ``r_sun_kpc``, as a parameter (8.5 kpc in all of
them); papers that fit only the surface density get an exponential ``exp(-|z| / z_scale_kpc)``
with GALPROP's nominal 0.2 kpc (``source_distribution.cc``), marked "not from the paper".
``source.r_max_kpc`` (every profile, applied by the galaxy model) sets sources to zero beyond.

========================  ==========================================================  ========
name                      reference                                                   z
========================  ==========================================================  ========
lorimer2006               Lorimer et al. 2006, MNRAS 372, 777, eq. (10): pulsars      0.33 kpc
                          (R/R_sun)^B exp[-C (R - R_sun)/R_sun], B = 1.9, C = 5.0
snr                       the same shape, the scale height ``source.z_scale_kpc``     0.1 kpc
                          (the built-in model's profile, kept as it was)
case_bhattacharya1998     Case & Bhattacharya 1998, ApJ 504, 761, eq. (14): shell     0.2 kpc*
                          SNRs, (R/R_sun)^alpha exp[-beta (R - R_sun)/R_sun],
                          alpha = 2.00, beta = 3.53
yusifov_kucuk2004         Yusifov & Kucuk 2004, A&A 422, 545, eq. (15): pulsars,      0.2 kpc*
                          ((R + R1)/(R_sun + R1))^a exp[-b (R - R_sun)/(R_sun + R1)],
                          a = 1.64, b = 4.01, R1 = 0.55 kpc
ferriere2001              Ferriere 2001, RvMP 73, 1031: supernova rates per volume,   paper's
                          type Ia 7.3 kpc^-3 Myr^-1 exp[-(R - R_sun)/4.5 kpc]
                          exp(-|z|/325 pc) and type II 50 kpc^-3 Myr^-1
                          [0.79 exp(-(z/212 pc)^2) + 0.21 exp(-(z/636 pc)^2)] x
                          {exp[-(R^2 - R_sun^2)/(6.8 kpc)^2], R >= 3.7 kpc;
                          3.55 exp[-((R - 3.7 kpc)/2.1 kpc)^2], R < 3.7 kpc}
green2015                 Green 2015, MNRAS 454, 1517: SNRs, the power-law /          0.2 kpc*
                          exponential of Case & Bhattacharya with alpha = 1.09,
                          beta = 3.87
uniform                   1 everywhere                                                -
uniform_region            1 inside a sphere (radius_kpc) or a cylinder (radius_kpc,   -
                          |z| <= half_height_kpc), 0 outside: a starburst nucleus
thin_disc                 delta(z), uniform in r: the cell average on the grid        -
gaussian                  exp(-d^2 / 2 sigma^2), d the distance to the grid origin    -
                          (width ``source.sigma_kpc``)
table                     a user table: (r, z) or 3D (x, y, z) HDF5, (r, z) or r      -
                          text (:mod:`galprop_py.galaxy.tables`)
========================  ==========================================================  ========

``*`` not from the paper (it fits the surface density only).  The peak of the power-law /
exponential form is at ``R = alpha R_sun / beta`` (Lorimer: 3.2 kpc; Case & Bhattacharya:
4.8 kpc; Green: 2.4 kpc); Yusifov & Kucuk's at ``a (R_sun + R1) / b - R1`` = 3.15 kpc.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from . import spiral_arms
from .registry import ModelParameters, NoParameters, Registry
from .tables import TableParameters, evaluate_table

SOURCES = Registry("source")

R_SUN_FITS_KPC = 8.5  # the solar radius of every fit below


# --- the power-law / exponential family -------------------------------------------------------
def pulsar_snr_profile(
    r: ArrayLike,
    z: ArrayLike,
    a: float = 1.9,
    b: float = 5.0,
    r_sun: float = R_SUN_FITS_KPC,
    z_scale: float = 0.2,
    r_max: float | None = None,
) -> np.ndarray:
    """``(r/r_sun)^a exp(-b (r - r_sun)/r_sun) exp(-|z| / z_scale)``, 1 at (r_sun, 0).

    The radial form of Lorimer et al. 2006 (a = B = 1.9, b = C = 5.0, the defaults), Case &
    Bhattacharya 1998 (2.00, 3.53) and Green 2015 (1.09, 3.87); it peaks at ``a r_sun / b``.

    Parameters
    ----------
    r, z : array_like
        Galactocentric cylindrical radius and height [kpc] (broadcast together).
    a, b : float
        Power-law index and exponential slope.
    r_sun : float
        Solar radius [kpc] of the fit.
    z_scale : float
        Exponential scale height [kpc].
    r_max : float or None
        Radius [kpc] beyond which the profile is zero; None for no truncation.

    Returns
    -------
    numpy.ndarray
        The profile on the broadcast shape of ``r`` and ``z``.
    """
    if z_scale <= 0.0 or r_sun <= 0.0:
        raise ValueError("z_scale and r_sun must be positive")
    r_arr, z_arr = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(z, dtype=float))
    x = r_arr / r_sun
    with np.errstate(divide="ignore"):
        radial = np.power(x, a) * np.exp(-b * (x - 1.0))
    prof = radial * np.exp(-np.abs(z_arr) / z_scale)
    if r_max is not None:
        prof = np.where(r_arr > r_max, 0.0, prof)
    return prof


class Lorimer2006Parameters(ModelParameters):
    B: float = Field(1.9, ge=0.0, le=10.0, description="power-law index (paper: 1.9 +- 0.3)")
    C: float = Field(5.0, gt=0.0, le=30.0, description="exponential slope (paper: 5.0 +- 0.6)")
    r_sun_kpc: float = Field(R_SUN_FITS_KPC, gt=0.0, le=20.0, description="R_sun of the fit")
    z_scale_kpc: float = Field(
        0.33, gt=0.0, le=10.0, description="exponential scale height (paper: 330 pc)"
    )


@SOURCES.register(
    "lorimer2006",
    "Lorimer et al. 2006, MNRAS 372, 777, eq. (10) (NE2001 distances) and the 330 pc "
    "exponential scale height of the abstract",
    Lorimer2006Parameters,
    "pulsar surface density (R/R_sun)^B exp[-C (R - R_sun)/R_sun] x exp(-|z|/z_scale)",
)
def lorimer2006(r, z, p: Lorimer2006Parameters):
    return pulsar_snr_profile(r, z, p.B, p.C, p.r_sun_kpc, p.z_scale_kpc)


class SnrParameters(Lorimer2006Parameters):
    z_scale_kpc: float = Field(0.1, gt=0.0, le=100.0, description="= source.z_scale_kpc")


@SOURCES.register(
    "snr",
    "Lorimer et al. 2006, MNRAS 372, 777, eq. (10), with the scale height source.z_scale_kpc",
    SnrParameters,
    "the built-in model's profile: lorimer2006 with the scale height source.z_scale_kpc",
)
def snr(r, z, p: SnrParameters):
    return pulsar_snr_profile(r, z, p.B, p.C, p.r_sun_kpc, p.z_scale_kpc)


class CaseBhattacharya1998Parameters(ModelParameters):
    alpha: float = Field(2.0, ge=0.0, le=10.0, description="paper: 2.00 +- 0.67")
    beta: float = Field(3.53, gt=0.0, le=30.0, description="paper: 3.53 +- 0.77")
    r_sun_kpc: float = Field(R_SUN_FITS_KPC, gt=0.0, le=20.0)
    z_scale_kpc: float = Field(0.2, gt=0.0, le=10.0, description="not from the paper")


@SOURCES.register(
    "case_bhattacharya1998",
    "Case & Bhattacharya 1998, ApJ 504, 761, eq. (14) (R_sun = 8.5 kpc)",
    CaseBhattacharya1998Parameters,
    "shell-SNR surface density (R/R_sun)^alpha exp[-beta (R - R_sun)/R_sun], peak near 5 kpc",
)
def case_bhattacharya1998(r, z, p: CaseBhattacharya1998Parameters):
    return pulsar_snr_profile(r, z, p.alpha, p.beta, p.r_sun_kpc, p.z_scale_kpc)


class Green2015Parameters(CaseBhattacharya1998Parameters):
    alpha: float = Field(1.09, ge=0.0, le=10.0)
    beta: float = Field(3.87, gt=0.0, le=30.0)


@SOURCES.register(
    "green2015",
    "Green 2015, MNRAS 454, 1517 (best-fitting power-law/exponential model, R_sun = 8.5 kpc)",
    Green2015Parameters,
    "SNR surface density (R/R_sun)^alpha exp[-beta (R - R_sun)/R_sun], alpha 1.09, beta 3.87",
)
def green2015(r, z, p: Green2015Parameters):
    return pulsar_snr_profile(r, z, p.alpha, p.beta, p.r_sun_kpc, p.z_scale_kpc)


class YusifovKucuk2004Parameters(ModelParameters):
    a: float = Field(1.64, ge=0.0, le=10.0, description="paper: 1.64 +- 0.11")
    b: float = Field(4.01, gt=0.0, le=30.0, description="paper: 4.01 +- 0.24")
    r1_kpc: float = Field(0.55, ge=0.0, le=10.0, description="paper: 0.55 +- 0.10 kpc")
    r_sun_kpc: float = Field(R_SUN_FITS_KPC, gt=0.0, le=20.0)
    z_scale_kpc: float = Field(0.2, gt=0.0, le=10.0, description="not from the paper")


@SOURCES.register(
    "yusifov_kucuk2004",
    "Yusifov & Kucuk 2004, A&A 422, 545, eq. (15) (NE2001 distances, R_sun = 8.5 kpc)",
    YusifovKucuk2004Parameters,
    "pulsar surface density ((R + R1)/(R_sun + R1))^a exp[-b (R - R_sun)/(R_sun + R1)]",
)
def yusifov_kucuk2004(r, z, p: YusifovKucuk2004Parameters):
    r_arr, z_arr = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    x = (r_arr + p.r1_kpc) / (p.r_sun_kpc + p.r1_kpc)
    radial = np.power(x, p.a) * np.exp(-p.b * (r_arr - p.r_sun_kpc) / (p.r_sun_kpc + p.r1_kpc))
    return radial * np.exp(-np.abs(z_arr) / p.z_scale_kpc)


# --- Ferriere 2001: supernova rates -------------------------------------------------------------
class Ferriere2001Parameters(ModelParameters):
    supernovae: Literal["all", "Ia", "II"] = Field(
        "all", description="type Ia, core-collapse (type II) or both"
    )
    r_sun_kpc: float = Field(R_SUN_FITS_KPC, gt=0.0, le=20.0)


def ferriere2001_rate_ia(r, z, r_sun=R_SUN_FITS_KPC):
    """Type Ia supernovae per unit volume [kpc^-3 Myr^-1] (Ferriere 2001)."""
    r = np.asarray(r, float)
    z = np.asarray(z, float)
    return 7.3 * np.exp(-(r - r_sun) / 4.5 - np.abs(z) / 0.325)


def ferriere2001_rate_ii(r, z, r_sun=R_SUN_FITS_KPC):
    """Type II (core-collapse) supernovae per unit volume [kpc^-3 Myr^-1] (Ferriere 2001);
    the factor 3.55 of the inner branch makes it continuous at 3.7 kpc (to 0.05%)."""
    r = np.asarray(r, float)
    z = np.asarray(z, float)
    vertical = 0.79 * np.exp(-((z / 0.212) ** 2)) + 0.21 * np.exp(-((z / 0.636) ** 2))
    outer = np.exp(-(r**2 - r_sun**2) / 6.8**2)
    inner = 3.55 * np.exp(-(((r - 3.7) / 2.1) ** 2))
    return 50.0 * vertical * np.where(r >= 3.7, outer, inner)


@SOURCES.register(
    "ferriere2001",
    "Ferriere 2001, RvMP 73, 1031: the type Ia and type II supernova rates R(R, Z) "
    "(surface rates 4.8 and 27 kpc^-2 Myr^-1 at the Sun)",
    Ferriere2001Parameters,
    "supernova rate per volume [kpc^-3 Myr^-1], type Ia + II (or one type)",
)
def ferriere2001(r, z, p: Ferriere2001Parameters):
    rate = 0.0
    if p.supernovae in ("all", "Ia"):
        rate = rate + ferriere2001_rate_ia(r, z, p.r_sun_kpc)
    if p.supernovae in ("all", "II"):
        rate = rate + ferriere2001_rate_ii(r, z, p.r_sun_kpc)
    return rate


# --- idealised profiles and tables ------------------------------------------------------------
@SOURCES.register("uniform", "-", NoParameters, "1 everywhere (inside source.r_max_kpc)")
def uniform(r, z, p):
    return np.ones(np.broadcast_shapes(np.shape(r), np.shape(z)))


class UniformRegionParameters(ModelParameters):
    """A region of uniform density: a sphere of ``radius_kpc`` about the origin, or a disc
    (cylinder) of that radius and half-height ``half_height_kpc`` (a starburst nucleus)."""

    shape: Literal["sphere", "cylinder"] = Field("sphere", description="sphere or cylinder")
    radius_kpc: float = Field(0.25, gt=0.0, le=1.0e3, description="(cylindrical) radius")
    half_height_kpc: float = Field(0.1, gt=0.0, le=1.0e3, description="cylinder only")


def uniform_region_mask(r, z, p: UniformRegionParameters) -> np.ndarray:
    """1 inside the region of ``p``, 0 outside, at cylindrical (r, z) [kpc]; on spherical
    grids (z = 0) both shapes are the ball r <= radius_kpc."""
    r_arr, z_arr = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    if p.shape == "sphere":
        inside = np.hypot(r_arr, z_arr) <= p.radius_kpc
    else:
        inside = (r_arr <= p.radius_kpc) & (np.abs(z_arr) <= p.half_height_kpc)
    return inside.astype(float)


@SOURCES.register(
    "uniform_region",
    "-",
    UniformRegionParameters,
    "1 inside a sphere of radius_kpc or a cylinder radius_kpc x |z| <= half_height_kpc, 0 "
    "outside (a starburst nucleus)",
)
def uniform_region(r, z, p: UniformRegionParameters):
    return uniform_region_mask(r, z, p)


def cell_average_delta(z, edges):
    """Cell average of delta(z) for cells with centres ``z`` on the axis with cell ``edges``
    (any spacing; shared half and half if 0 is on a face)."""
    z = np.asarray(z, float)
    idx = np.clip(np.searchsorted(edges, z) - 1, 0, edges.size - 2)
    lo, hi = edges[idx], edges[idx + 1]
    width = hi - lo
    tol = 1e-12 * width
    inside = (lo < -tol) & (hi > tol)
    on_face = (np.abs(lo) <= tol) | (np.abs(hi) <= tol)
    return inside / width + on_face / (2.0 * width)


@SOURCES.register(
    "thin_disc",
    "-",
    NoParameters,
    "delta(z) (cell-averaged on the grid), uniform in r: unit surface density",
    context=("z_edges",),
)
def thin_disc(r, z, p, z_edges=None):
    if z_edges is None:
        raise ValueError("source.profile = 'thin_disc' needs a grid with a z axis")
    dz = cell_average_delta(np.asarray(z, float), np.asarray(z_edges, float))
    return np.broadcast_to(dz, np.broadcast_shapes(np.shape(r), np.shape(dz)))


class GaussianParameters(ModelParameters):
    sigma_kpc: float = Field(0.2, gt=0.0, le=1.0e4, description="= source.sigma_kpc")


@SOURCES.register(
    "gaussian",
    "-",
    GaussianParameters,
    "exp(-d^2 / 2 sigma^2), d the distance to the origin of the grid coordinates",
    context=("coords",),
)
def gaussian(r, z, p: GaussianParameters, coords=None):
    if coords is None:
        coords = (r, z)
    d2 = sum(np.asarray(c, float) ** 2 for c in coords)
    return np.exp(-0.5 * d2 / p.sigma_kpc**2)


@SOURCES.register(
    "table",
    "user table",
    TableParameters,
    "interpolated in a user table (HDF5 or text, see galprop_py.galaxy.tables)",
    context=("x", "y"),
)
def table(r, z, p: TableParameters, x=None, y=None):
    return evaluate_table(r, z, p, x=x, y=y)


@SOURCES.register(
    "spiral_arms",
    spiral_arms.REFERENCE,
    spiral_arms.SpiralArmSourceParameters,
    "an axisymmetric profile (profile) modulated by four spiral arms (3D grids, see "
    "galprop_py.galaxy.spiral_arms); azimuthal average = the profile",
    context=("x", "y"),
)
def spiral_arms_source(r, z, p, x=None, y=None):
    base = SOURCES.get(p.profile)
    return spiral_arms.modulated(base, p.profile_parameters, r, z, p, x, y)


# --- for the config and the galaxy model --------------------------------------------------------
NAMES = SOURCES.names()

#: keys of the [source] block that are the parameters of one profile (kept from before the
#: registry): they are the defaults of that profile's parameters, [source.parameters] wins
BLOCK_KEYS = {"snr": ("z_scale_kpc",), "gaussian": ("sigma_kpc",)}


def block_parameters(profile: str, parameters: dict, **block_values) -> ModelParameters:
    """Validated parameters of ``profile`` from ``[source.parameters]`` and, for 'snr' and
    'gaussian', the block keys of :data:`BLOCK_KEYS` (ValueError naming the key otherwise)."""
    merged = {k: block_values[k] for k in BLOCK_KEYS.get(profile, ()) if k in block_values}
    merged.update(parameters)
    return SOURCES.get(profile).parse(merged, key="source.parameters")
