"""Interstellar gas of the Milky Way by name: H I, H2 and H II number densities [cm^-3].

Functions of galactocentric cylindrical radius ``r`` and height ``z`` [kpc].  H2 densities are
molecules per cm^3 (H nuclei count twice: :func:`n_h_nuclei`); H II is ionised hydrogen
(n_e ~ n_HII).

H I (``gas.hi_model``)
    * ``analytic`` (the built-in model, kept as it was): the vertical profile of Dickey &
      Lockman 1990 (ARA&A 28, 215, Table 2: Gaussians of 0.395 and 0.107 cm^-3 with FWHM 212
      and 530 pc plus an exponential of 0.064 cm^-3 and 403 pc, 0.57 cm^-3 in all at the
      mid-plane, 4 < R < 8 kpc) times a smooth radial factor, flat from a hole at ~3 kpc to
      12 kpc and exponential (4 kpc) beyond: a stand-in for Ferriere 2001's H I surface density;
    * ``gordon_burton1976``: GALPROP's H I (Moskalenko et al. 2002, ApJ 565, 280): the
      mid-plane density of Gordon & Burton 1976 (ApJ 208, 346, Table 1) divided by their
      0.33 cm^-3 at 4-8 kpc, times Dickey & Lockman's profile for R <= 8 kpc and the flaring
      Gaussian of Cox, Kruegel & Mezger 1986 (A&A 155, 380), 0.57 exp[-(z / 0.0523 kpc
      e^{0.11 R})^2], for R >= 10 kpc, linear in R between; beyond 15.75 kpc the last value
      falls off as exp(-(R - 15.75)/3 kpc).  The table as transcribed in GALPROP's nH.cc.

H2 (``gas.h2_model``)
    * ``analytic`` (the built-in model, kept as it was): the molecular ring of Ferriere 2001
      (RvMP 73, 1031): 0.58 cm^-3 (R/R_sun)^-0.58 exp{-[(R - 4.5)^2 - (R_sun - 4.5)^2] /
      2.9^2} exp{-[z / (0.081 kpc (R/R_sun)^0.58)]^2} -- applied at every R, although the paper
      gives it for R > 3 kpc only.  This extrapolation is why its H2 column is 2x GALPROP's at
      the Sun and 5-30x at 2-6 kpc (see :func:`vertical_column_cm2`);
    * ``ferriere2001``: the same formula only where the paper gives it, R >= 3 kpc; inside,
      n_H2 = 0: the paper describes the inner Galaxy separately (a molecular-poor region and,
      within a few hundred pc, the Central Molecular Zone), which is not modelled here;
    * ``bronfman1988``: GALPROP's H2: the CO volume emissivity epsilon(R) [K km s^-1 kpc^-1],
      the mid-plane offset z0(R) and the half width at half maximum z_1/2(R) of Bronfman et
      al. 1988 (ApJ 324, 248, Table 3, columns 4, 7, 10; R_sun = 8.5 kpc), interpolated
      linearly in R (to 0 at R = 0 inside the first row at 2.25 kpc, 0 beyond 10.25 kpc), and
      n_H2 = X_CO(R) epsilon(R) exp[-ln 2 ((z - z0)/z_1/2)^2] / (1 kpc in cm).  X_CO(R) is
      ``gas.x_co``: ``constant`` (``gas.x_co_cm2_k_km_s``, 1.9e20 of Strong & Mattox 1996, A&A
      308, L21, as GALPROP) or ``strong2004`` (Strong et al. 2004, A&A 422, L47: 0.4, 0.6,
      0.8, 1.5, 10 x 1e20 for R < 3.5, 3.5-5.5, 5.5-7.5, 7.5-9.5, > 9.5 kpc).

H II (``gas.hii_model``)
    * ``cordes1991``: Cordes et al. 1991 (Nature 354, 121, eq. 6 and Table 1, annular
      Gaussian): 0.025 cm^-3 exp(-|z|/1 kpc) exp[-(R/20 kpc)^2] + 0.200 cm^-3
      exp(-|z|/0.15 kpc) exp[-((R - 4 kpc)/2 kpc)^2] (GALPROP's nHII model 1).

H I also has ``uniform_region``: ``n_cm3`` inside a sphere or a cylinder (a starburst
nucleus, :func:`galprop_py.galaxy.sources.uniform_region_mask`), 0 outside.

Every ingredient also has ``table`` (:mod:`galprop_py.galaxy.tables`, values in cm^-3) and
``none``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from . import spiral_arms
from .registry import ModelParameters, NoParameters, Registry
from .sources import UniformRegionParameters, uniform_region_mask
from .tables import TableParameters, evaluate_table

HI = Registry("H I")
H2 = Registry("H2")
HII = Registry("H II")

R_SUN_GAS_KPC = 8.5  # solar radius of the fits below
KPC_CM = 3.0856775814913673e21
LN2 = math.log(2.0)


def _zeros(r, z):
    return np.zeros(np.broadcast_shapes(np.shape(r), np.shape(z)))


# --- H I --------------------------------------------------------------------------------------
DL90_COMPONENTS = ((0.395, 0.212), (0.107, 0.530))  # (n [cm^-3], FWHM [kpc]) of the Gaussians
DL90_EXPONENTIAL = (0.064, 0.403)  # (n [cm^-3], scale height [kpc])


def dickey_lockman1990(z):
    """H I density [cm^-3] vs height z [kpc] at 4 < R < 8 kpc (Dickey & Lockman 1990, Table 2):
    Gaussians of 0.395 and 0.107 cm^-3 with FWHM 212 and 530 pc and an exponential of
    0.064 cm^-3 with scale height 403 pc; 0.566 cm^-3 at z = 0."""
    z = np.abs(np.asarray(z, float))
    (n1, w1), (n2, w2) = DL90_COMPONENTS
    n3, h3 = DL90_EXPONENTIAL
    return (
        n1 * np.exp(-4.0 * LN2 * (z / w1) ** 2)
        + n2 * np.exp(-4.0 * LN2 * (z / w2) ** 2)
        + n3 * np.exp(-z / h3)
    )


def n_hi(r, z):
    """The built-in (``analytic``) atomic hydrogen density [cm^-3]."""
    z = np.abs(np.asarray(z, float))
    r = np.asarray(r, float)
    vertical = (
        0.395 * np.exp(-0.5 * (z / 0.0902) ** 2)
        + 0.107 * np.exp(-0.5 * (z / 0.225) ** 2)
        + 0.064 * np.exp(-z / 0.403)
    )
    radial = (1.0 - np.exp(-((r / 3.0) ** 4))) * np.exp(-np.maximum(r - 12.0, 0.0) / 4.0)
    return vertical * radial


@HI.register(
    "analytic",
    "Dickey & Lockman 1990, ARA&A 28, 215, Table 2 (vertical); ad-hoc radial factor",
    NoParameters,
    "the built-in H I: Dickey & Lockman's vertical profile x a smooth radial factor",
)
def _hi_analytic(r, z, p):
    return n_hi(r, z)


# Gordon & Burton 1976, Table 1 (col. 1: bin edges [kpc], col. 3: n_HI [cm^-3]), as in GALPROP
GB76_R_KPC = np.array(
    [0.0, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0]
    + [10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0, 15.5, 16.0]
)
GB76_N_CM3 = np.array(
    [0.10, 0.13, 0.14, 0.16, 0.19, 0.25, 0.30, 0.33, 0.32, 0.31, 0.30, 0.37, 0.38, 0.36, 0.32]
    + [0.29, 0.38, 0.40, 0.25, 0.23, 0.32, 0.36, 0.32, 0.25, 0.16, 0.10, 0.09, 0.08, 0.06, 0.00]
)
GB76_DISC_CM3 = 0.33  # their mean mid-plane density at 4-8 kpc
DL90_MIDPLANE_CM3 = 0.57


def gordon_burton1976_midplane(r):
    """GB76 mid-plane n_HI [cm^-3]: linear between bin centres, the first value inside the
    first centre, exp(-(R - 15.75)/3 kpc) beyond the last (GALPROP's nHI)."""
    r = np.asarray(r, float)
    centres = 0.5 * (GB76_R_KPC[:-1] + GB76_R_KPC[1:])  # 1.0, 2.25, ..., 15.75 kpc
    values = GB76_N_CM3[:-1]
    inner = np.interp(r, centres, values)
    outer = values[-1] * np.exp(-(r - centres[-1]) / 3.0)
    return np.where(r > centres[-1], outer, inner)


def cox1986_flare(r, z):
    """H I vertical profile of the outer Galaxy [cm^-3]: 0.57 exp[-(z / 0.0523 e^{0.11 R})^2]
    (Cox, Kruegel & Mezger 1986, as GALPROP)."""
    r = np.asarray(r, float)
    z = np.asarray(z, float)
    return DL90_MIDPLANE_CM3 * np.exp(-((z / (0.0523 * np.exp(0.11 * r))) ** 2))


@HI.register(
    "gordon_burton1976",
    "Gordon & Burton 1976, ApJ 208, 346, Table 1 (radial); Dickey & Lockman 1990 (z, R < 8 "
    "kpc); Cox et al. 1986, A&A 155, 380 (z, R > 10 kpc); as GALPROP (Moskalenko et al. 2002)",
    NoParameters,
    "GALPROP's H I: Gordon & Burton's mid-plane density x Dickey & Lockman / Cox profiles",
)
def gordon_burton1976(r, z, p):
    r, z = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    fz_inner = dickey_lockman1990(z)
    fz_outer = cox1986_flare(r, z)
    w = np.clip((r - 8.0) / 2.0, 0.0, 1.0)  # 0 for R <= 8 kpc, 1 for R >= 10 kpc
    fz = (1.0 - w) * fz_inner + w * fz_outer
    return fz * gordon_burton1976_midplane(r) / GB76_DISC_CM3


@HI.register(
    "table", "user table", TableParameters, "n_HI [cm^-3] from a user table", context=("x", "y")
)
def _hi_table(r, z, p, x=None, y=None):
    return evaluate_table(r, z, p, x=x, y=y)


@HI.register("none", "-", NoParameters, "no atomic gas")
def _hi_none(r, z, p):
    return _zeros(r, z)


class UniformRegionGasParameters(UniformRegionParameters):
    n_cm3: float = Field(200.0, ge=0.0, le=1.0e6, description="density inside the region")


@HI.register(
    "uniform_region",
    "-",
    UniformRegionGasParameters,
    "n_cm3 inside a sphere of radius_kpc or a cylinder radius_kpc x |z| <= half_height_kpc, "
    "0 outside (a starburst nucleus; galprop_py.galaxy.sources.uniform_region_mask)",
)
def _hi_uniform_region(r, z, p: UniformRegionGasParameters):
    return p.n_cm3 * uniform_region_mask(r, z, p)


@HI.register(
    "spiral_arms",
    spiral_arms.REFERENCE,
    spiral_arms.SpiralArmHIParameters,
    "an axisymmetric H I model (base) modulated by four spiral arms (3D grids, see "
    "galprop_py.galaxy.spiral_arms); azimuthal average = the base model",
    context=("x", "y"),
)
def _hi_spiral_arms(r, z, p, x=None, y=None):
    return spiral_arms.modulated(HI.get(p.base), p.base_parameters, r, z, p, x, y)


# --- H2 ---------------------------------------------------------------------------------------
class Ferriere2001H2Parameters(ModelParameters):
    r_sun_kpc: float = Field(R_SUN_GAS_KPC, gt=0.0, le=20.0, description="R_sun of the fit")


def ferriere2001_h2(r, z, r_sun=R_SUN_GAS_KPC):
    """Ferriere 2001's molecular ring [molecules cm^-3] (her formula for R > 3 kpc)."""
    r = np.maximum(np.asarray(r, float), 1e-3)
    z = np.asarray(z, float)
    x = r / r_sun
    radial = 0.58 * x**-0.58 * np.exp(-((r - 4.5) ** 2 - (r_sun - 4.5) ** 2) / 2.9**2)
    return radial * np.exp(-((z / (0.081 * x**0.58)) ** 2))


def n_h2(r, z):
    """The built-in (``analytic``) molecular hydrogen density [molecules cm^-3]: Ferriere's
    ring at every R (see the module docstring)."""
    return ferriere2001_h2(r, z, R_SUN_GAS_KPC)


@H2.register(
    "analytic",
    "Ferriere 2001, RvMP 73, 1031 (molecular ring), extrapolated inside 3 kpc",
    Ferriere2001H2Parameters,
    "the built-in H2: Ferriere's ring formula at every R, also inside 3 kpc where it is not valid",
)
def _h2_analytic(r, z, p: Ferriere2001H2Parameters):
    return ferriere2001_h2(r, z, p.r_sun_kpc)


class Ferriere2001ValidParameters(Ferriere2001H2Parameters):
    r_min_kpc: float = Field(
        3.0, ge=3.0, le=20.0, description="inner edge of validity (paper: R > 3 kpc)"
    )


@H2.register(
    "ferriere2001",
    "Ferriere 2001, RvMP 73, 1031 (molecular ring, valid for R > 3 kpc)",
    Ferriere2001ValidParameters,
    "Ferriere's molecular ring for R >= 3 kpc, no H2 inside (the inner Galaxy is not modelled)",
)
def ferriere2001(r, z, p: Ferriere2001ValidParameters):
    r, z = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    return np.where(r >= p.r_min_kpc, ferriere2001_h2(r, z, p.r_sun_kpc), 0.0)


# Bronfman et al. 1988, Table 3 (R_sun = 8.5 kpc), as GALPROP: R [kpc] (col. 1), CO volume
# emissivity [K km s^-1 kpc^-1] (col. 4), z0 [kpc] (col. 7), z_1/2 HWHM [kpc] (col. 10); the
# first row (R = 0) and the last (10.25 kpc) are GALPROP's ends of the table
B88_R_KPC = np.array(
    [0.00, 2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5.25, 5.75]
    + [6.25, 6.75, 7.25, 7.75, 8.25, 8.75, 9.25, 9.75, 10.25]
)
B88_EMISSIVITY = np.array(
    [0.0, 1.5, 3.3, 5.8, 5.5, 8.4, 9.0, 9.6, 8.6, 9.1, 7.9, 9.2, 7.7, 5.0, 3.6, 4.8, 1.7, 0.0]
)
B88_Z0_KPC = np.array(
    [0.039, 0.039, 0.036, 0.000, -0.008, 0.001, -0.010, -0.001, -0.004]
    + [-0.019, -0.022, -0.014, -0.009, -0.004, 0.013, -0.004, -0.020, -0.020]
)
B88_ZHALF_KPC = np.array(
    [0.077, 0.077, 0.080, 0.061, 0.065, 0.071, 0.072, 0.082, 0.083]
    + [0.073, 0.063, 0.058, 0.072, 0.080, 0.066, 0.023, 0.147, 0.147]
)


# X_CO laws [H2 molecules cm^-2 (K km s^-1)^-1] (gas.x_co)
XCO_STRONG2004_EDGES_KPC = np.array([3.5, 5.5, 7.5, 9.5])
XCO_STRONG2004 = np.array([0.4, 0.6, 0.8, 1.5, 10.0]) * 1e20
XCO_LAWS = ("constant", "strong2004")
XCO_SM96 = 1.9e20  # Strong & Mattox 1996, GALPROP's constant


def x_co_law(name: str, constant: float = XCO_SM96):
    """X_CO(R) [cm^-2 (K km/s)^-1] of ``gas.x_co``: 'constant' or 'strong2004' (steps)."""
    if name == "constant":
        return lambda r: np.full(np.shape(r), float(constant))
    if name == "strong2004":
        return lambda r: XCO_STRONG2004[
            np.searchsorted(XCO_STRONG2004_EDGES_KPC, np.asarray(r, float), side="right")
        ]
    raise ValueError(f"gas.x_co = {name!r}: allowed: {', '.join(map(repr, XCO_LAWS))}")


def bronfman1988_co(r, z):
    """CO volume emissivity [K km s^-1 kpc^-1] at (r, z) from Bronfman et al. 1988, Table 3."""
    r, z = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    eps = np.interp(r, B88_R_KPC, B88_EMISSIVITY, right=0.0)
    z0 = np.interp(r, B88_R_KPC, B88_Z0_KPC)
    zh = np.interp(r, B88_R_KPC, B88_ZHALF_KPC)
    return eps * np.exp(-LN2 * ((z - z0) / zh) ** 2)


@H2.register(
    "bronfman1988",
    "Bronfman et al. 1988, ApJ 324, 248, Table 3 (CO emissivity, z0, z_1/2), x X_CO(R) "
    "(gas.x_co); as GALPROP",
    NoParameters,
    "GALPROP's H2: Bronfman's CO emissivity x X_CO, Gaussian in z of Bronfman's width",
    context=("x_co",),
)
def bronfman1988(r, z, p, x_co=None):
    x_co = x_co or x_co_law("constant")
    r_arr = np.broadcast_to(np.asarray(r, float), np.broadcast_shapes(np.shape(r), np.shape(z)))
    return bronfman1988_co(r, z) * x_co(r_arr) / KPC_CM


@H2.register(
    "table",
    "user table",
    TableParameters,
    "n_H2 [molecules cm^-3] from a user table",
    context=("x", "y"),
)
def _h2_table(r, z, p, x=None, y=None):
    return evaluate_table(r, z, p, x=x, y=y)


@H2.register("none", "-", NoParameters, "no molecular gas")
def _h2_none(r, z, p):
    return _zeros(r, z)


@H2.register(
    "spiral_arms",
    spiral_arms.REFERENCE,
    spiral_arms.SpiralArmH2Parameters,
    "an axisymmetric H2 model (base) modulated by four spiral arms (3D grids, see "
    "galprop_py.galaxy.spiral_arms); azimuthal average = the base model",
    context=("x", "y", "x_co"),
)
def _h2_spiral_arms(r, z, p, x=None, y=None, x_co=None):
    return spiral_arms.modulated(H2.get(p.base), p.base_parameters, r, z, p, x, y, x_co=x_co)


#: H2 models that convert CO with X_CO (gas.x_co applies to them only)
CO_BASED_H2 = ("bronfman1988",)


# --- H II -------------------------------------------------------------------------------------
class Cordes1991Parameters(ModelParameters):
    n1_cm3: float = Field(0.025, ge=0.0, le=10.0, description="thick disc, mid-plane at R = 0")
    h1_kpc: float = Field(1.0, gt=0.0, le=20.0, description="thick-disc scale height")
    a1_kpc: float = Field(20.0, gt=0.0, le=100.0, description="thick-disc radial scale")
    n2_cm3: float = Field(0.200, ge=0.0, le=10.0, description="annulus, mid-plane peak")
    h2_kpc: float = Field(0.15, gt=0.0, le=20.0, description="annulus scale height")
    a2_kpc: float = Field(2.0, gt=0.0, le=100.0, description="annulus radial width")
    r2_kpc: float = Field(4.0, ge=0.0, le=30.0, description="annulus radius")


@HII.register(
    "cordes1991",
    "Cordes et al. 1991, Nature 354, 121, eq. (6) and Table 1 (annular Gaussian); as GALPROP",
    Cordes1991Parameters,
    "ionised hydrogen: thick disc + annulus at 4 kpc",
)
def cordes1991(r, z, p: Cordes1991Parameters):
    r = np.asarray(r, float)
    z = np.abs(np.asarray(z, float))
    thick = p.n1_cm3 * np.exp(-z / p.h1_kpc) * np.exp(-((r / p.a1_kpc) ** 2))
    ring = p.n2_cm3 * np.exp(-z / p.h2_kpc) * np.exp(-(((r - p.r2_kpc) / p.a2_kpc) ** 2))
    return thick + ring


@HII.register(
    "table", "user table", TableParameters, "n_HII [cm^-3] from a user table", context=("x", "y")
)
def _hii_table(r, z, p, x=None, y=None):
    return evaluate_table(r, z, p, x=x, y=y)


@HII.register("none", "-", NoParameters, "no ionised gas")
def _hii_none(r, z, p):
    return _zeros(r, z)


# --- totals and columns -----------------------------------------------------------------------
def n_h_nuclei(r, z):
    """The built-in model's hydrogen nuclei in neutral gas, n_HI + 2 n_H2 [cm^-3]."""
    return n_hi(r, z) + 2.0 * n_h2(r, z)


def vertical_column_cm2(density, r, z_max_kpc: float = 10.0, n: int = 40001) -> np.ndarray:
    """int density(r, z) dz over |z| <= z_max_kpc [cm^-2] (trapezoid on ``n`` points), for each
    radius of ``r``; ``density(r, z)`` in cm^-3."""
    r = np.atleast_1d(np.asarray(r, float))
    z = np.linspace(-z_max_kpc, z_max_kpc, n)
    values = density(r[:, None], z[None, :])
    return np.trapezoid(values, z, axis=1) * KPC_CM


HI_NAMES = HI.names()
H2_NAMES = H2.names()
HII_NAMES = HII.names()
XCO_NAMES: tuple[Literal["constant", "strong2004"], ...] = XCO_LAWS
