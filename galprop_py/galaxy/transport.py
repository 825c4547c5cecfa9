"""Transport laws by name: the rigidity law D(R), its spatial factor s(x) and reacceleration.

D(x, R) = s(x) D(R).  The rigidity law (GALPROP's convention, Strong & Moskalenko 1998, ApJ
509, 212) is D(R) = D0 beta^eta (R/R0)^delta with optional breaks above which the slope
changes to ``deltas_above`` (continuous at each break): :func:`rigidity_power_law`.  A
break is the high-rigidity break of Genolini et al. 2017 (PRL 119, 241101, eq. 2) (or the
low-rigidity one of their SLIM model, Genolini et al. 2019, PRD 99, 123028),
D = D0 beta^eta (R/R0)^delta [1 + (R/R_b)^(Delta/s)]^(-s), Delta = delta - delta_high, in its
sharp limit s -> 0 (a smooth break would need the smoothness passed from the galaxy model:
not implemented).

Spatial factor s(x) (``diffusion.spatial``, ``[diffusion.spatial_parameters]``); 1 in the
mid-plane (or at the Sun), so that ``d0_cm2_s`` keeps its meaning there:

``uniform`` (default)
    s = 1: D the same everywhere (as before this registry).
``exponential_z``
    s = exp(|z| / z_d): diffusion faster away from the disc, as DRAGON's ``Exp`` profile
    (Evoli, Gaggero, Grasso & Maccione 2008, JCAP 10, 018; ``z_d`` is their z_t).
``two_zone``
    s = 1 for |z| < h_in (the inner halo around the disc), s = ``ratio`` above: the two-halo
    geometry of Tomassetti 2012 (ApJ 752, L13) with a rigidity-independent ratio
    D_outer/D_inner (his outer zone also changes the slope delta -> delta + Delta, which is
    not a product s(x) D(R) and is not implemented).
``field_strength``
    s = (max(|B(x)|, b_floor) / B_sun)^(-alpha) with |B| the strength model of
    ``losses.b_field_model`` (:mod:`.magnetic`) and B_sun its value at the Sun.  Quasi-linear
    theory (Jokipii 1966, ApJ 146, 480; ../shared/reference/theory.md) gives lambda_par ~
    r_g^(2-q) L^(q-1) (B/delta B)^2 for E(k) ~ k^-q, so at fixed rigidity (r_g ~ 1/B) and fixed
    delta B/B, D ~ B^-(2-q): alpha = 1/3 for Kolmogorov (q = 5/3, the default), 1/2 for
    Kraichnan (q = 3/2).  ``b_floor_ug`` (a numerical floor, not from a paper) keeps D finite
    where a model field vanishes (reversals, the far halo).
``random_field``
    The local turbulence level of a field model with a random component (``jf12``, a user
    ``table`` with ``B_random``; ``losses.b_field_model``).  Quasi-linear theory
    (../shared/reference/theory.md, "Quasi-Linear Theory (QLT) of Scattering"; Jokipii 1966):
    for a power spectrum E(k) ~ k^-q of the fluctuations, normalised to their energy dB^2 /
    8 pi with outer scale L, the resonant wavenumber is k_res ~ Omega / v ~ 1 / r_g, D_mumu ~
    Omega (dB / B0)^2 (k_res L)^(1-q) (theory.md's Omega^(2-q) at fixed turbulence) and
    lambda_par ~ v / D_mumu gives lambda_par ~ r_g^(2-q) L^(q-1) (B0 / dB)^2, r_g = R / B0 in
    the regular (mean) field B0.  At fixed rigidity and fixed L this is a product of a
    function of R and a function of x::

        s(x) = (B0 / B0_sun)^-(2-q) ((dB / B0)_sun / (dB / B0))^2 = (B0 / B0_sun)^q (dB / dB_sun)^-2

    with B0 = |B_regular| and dB = the rms random strength of the model, each first raised to
    ``b_floor_ug``, and s clipped to [``s_min``, ``s_max``] after the normalisation (s = 1 at
    the Sun exactly, so ``d0_cm2_s`` keeps its meaning there).  At fixed dB / B0 it is
    ``field_strength`` with alpha = 2 - q.  Choices (documented, not from a paper): L is the
    same everywhere (theory.md gives no law for it); JF12's striated field is neither mean
    field nor isotropic turbulence and is not counted (B0 = the coherent field only); the
    floors and clips are numerical (B0 -> 0 at field reversals makes s -> 0, a diffusion
    barrier; dB -> 0 in the far halo makes s -> infinity); ``q`` is independent of
    ``diffusion.delta`` (the rigidity law is the configured one; QLT would give delta = 2 - q).
    For the anisotropic tensor the same s multiplies kappa_par and kappa_perp (kperp/kpar
    fixed): theory.md says QLT does not predict kappa_perp (field-line wandering dominates), so
    no separate law for it is assumed.  JF12 has dB / B0 ~ 2 at the Sun and more in the arms,
    outside the weak-turbulence regime (dB / B0 << 1) where the formula is derived: only the
    relative scaling is used.  Not for ``diffusion.model = "quasilinear"`` (its coefficients
    take one turbulence level, [diffusion.turbulence]).  Defaults: q = 5/3, b_floor_ug =
    0.01, s in [0.01, 100]; faces take point values (as ``field_strength``).

Faces.  The z-dependent factors are exact on the finite-volume grid: at a cell face (a
coordinate on one of the grid's z edges) they return the harmonic mean of s over the interval
between the two cell centres that share the face (between the centre and the face at the
domain boundary), ``faces = "harmonic"`` (default).  The two-point flux
D_face (psi_{i+1} - psi_i) / h is then the exact flux of a 1D steady problem whatever D(z)
does between the centres, also for a jump of D inside a cell; ``faces = "point"`` takes the
value at the face (second order for smooth s, first order for a jump between faces).

Reacceleration (``reacceleration.model``): D_pp D = w(delta) p^2 v_A^2 with D the local
spatial diffusion coefficient (so D_pp ~ 1 / s(x)) and delta its rigidity slope:

``seo_ptuskin1994`` (default)
    w = 4 / (3 delta (4 - delta^2) (4 - delta)): Seo & Ptuskin 1994, ApJ 431, 705, with the
    level of turbulence w = 1 (absorbed in v_A); GALPROP's ``diff_reacc = 1``, DRAGON's
    ``Ptuskin94``.
``ptuskin2003``
    w = 1 / (delta (4 - delta^2) (4 - delta)), the same without the factor 4/3: GALPROP's
    ``diff_reacc = 2`` (D_pp.cc, "Ptuskin 2003", after Berezinskii et al. 1990, Astrophysics of
    Cosmic Rays, ch. 9), DRAGON's ``Ptuskin03``.  Smaller by exactly 3/4 for the same v_A.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from .registry import ModelParameters, NoParameters, Registry

SPATIAL = Registry("diffusion spatial factor")
REACCELERATION = Registry("reacceleration")


# --- the rigidity law -------------------------------------------------------------------------
def rigidity_power_law(rigidity, beta, d0_cm2_s, r0_gv, delta, eta, breaks_gv, deltas_above):
    """D [cm^2/s] = d0 beta^eta (R/R0)^delta, the slope changing to ``deltas_above[k]`` above
    ``breaks_gv[k]`` (continuous at each break)."""
    log_d = np.log(d0_cm2_s) + delta * np.log(rigidity / r0_gv)
    slope = delta
    for rb, new in zip(breaks_gv, deltas_above, strict=True):
        log_d = log_d + (new - slope) * np.log(np.maximum(rigidity / rb, 1.0))
        slope = new
    return beta**eta * np.exp(log_d)


# --- spatial factors --------------------------------------------------------------------------
Faces = Literal["harmonic", "point"]


@SPATIAL.register("uniform", "-", NoParameters, "s = 1: D the same everywhere")
def uniform(r, z, p):
    return np.ones(np.broadcast_shapes(np.shape(r), np.shape(z)))


def _face_intervals(z, z_edges):
    """For coordinates ``z``: (on_face, a, b) with [a, b] the centre-to-centre interval of the
    face a coordinate lies on (centre-to-boundary at the domain ends)."""
    edges = np.asarray(z_edges, float)
    centres = 0.5 * (edges[1:] + edges[:-1])
    n = centres.size
    z = np.asarray(z, float)
    k = np.clip(np.searchsorted(edges, z), 1, n)
    k = np.where(np.abs(z - edges[k - 1]) < np.abs(z - edges[k]), k - 1, k)
    on_face = np.abs(z - edges[k]) <= 1e-9 * (edges[-1] - edges[0])
    a = np.where(k > 0, centres[np.maximum(k - 1, 0)], edges[0])
    b = np.where(k < n, centres[np.minimum(k, n - 1)], edges[-1])
    return on_face, a, b


def _need_z(name, z_edges):
    if z_edges is None:
        raise ValueError(
            f"diffusion.spatial = {name!r} needs a grid with a z axis (slab1d, cylindrical2d, "
            "cartesian3d)"
        )


class ExponentialZParameters(ModelParameters):
    z_d_kpc: float = Field(gt=0.0, le=1.0e3, description="e-folding height of D (z_t)")
    faces: Faces = Field("harmonic", description="face values: harmonic means or point values")


def _exp_integral(z, z_d):
    """int_0^z exp(-|t| / z_d) dt (odd in z)."""
    return np.sign(z) * z_d * -np.expm1(-np.abs(z) / z_d)


@SPATIAL.register(
    "exponential_z",
    "Evoli, Gaggero, Grasso & Maccione 2008, JCAP 10, 018 (DRAGON's 'Exp' profile)",
    ExponentialZParameters,
    "s = exp(|z| / z_d)",
    context=("z_edges",),
)
def exponential_z(r, z, p: ExponentialZParameters, z_edges=None):
    _need_z("exponential_z", z_edges)
    r, z = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    s = np.exp(np.abs(z) / p.z_d_kpc)
    if p.faces == "point":
        return s
    on_face, a, b = _face_intervals(z, z_edges)
    inverse_mean = (_exp_integral(b, p.z_d_kpc) - _exp_integral(a, p.z_d_kpc)) / (b - a)
    return np.where(on_face, 1.0 / inverse_mean, s)


class TwoZoneParameters(ModelParameters):
    h_in_kpc: float = Field(gt=0.0, le=1.0e3, description="half-thickness of the inner zone")
    ratio: float = Field(gt=0.0, le=1.0e6, description="D_outer / D_inner")
    faces: Faces = Field("harmonic", description="face values: harmonic means or point values")


@SPATIAL.register(
    "two_zone",
    "Tomassetti 2012, ApJ 752, L13 (two-halo model; here with a rigidity-independent ratio)",
    TwoZoneParameters,
    "s = 1 for |z| < h_in, ratio for |z| > h_in",
    context=("z_edges",),
)
def two_zone(r, z, p: TwoZoneParameters, z_edges=None):
    _need_z("two_zone", z_edges)
    r, z = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    h = p.h_in_kpc
    s = np.where(np.abs(z) <= h, 1.0, p.ratio)
    if p.faces == "point":
        return s
    on_face, a, b = _face_intervals(z, z_edges)
    inner = np.clip(np.minimum(b, h) - np.maximum(a, -h), 0.0, None)
    inverse_mean = (inner + (b - a - inner) / p.ratio) / (b - a)
    return np.where(on_face, 1.0 / inverse_mean, s)


class FieldStrengthParameters(ModelParameters):
    alpha: float = Field(
        1.0 / 3.0, ge=0.0, le=2.0, description="D ~ B^-alpha; 2 - q: 1/3 Kolmogorov"
    )
    b_floor_ug: float = Field(0.1, gt=0.0, le=1.0e3, description="|B| below this counts as it")


@SPATIAL.register(
    "field_strength",
    "Jokipii 1966, ApJ 146, 480 (quasi-linear lambda ~ r_g^(2-q) at fixed delta B / B)",
    FieldStrengthParameters,
    "s = (max(|B|, b_floor) / B_sun)^-alpha, |B| of losses.b_field_model",
    context=("coords", "field_strength", "b_sun_ug"),
)
def field_strength(
    r, z, p: FieldStrengthParameters, coords=None, field_strength=None, b_sun_ug=None
):
    if field_strength is None or b_sun_ug is None:
        raise ValueError("diffusion.spatial = 'field_strength' needs a field strength model")
    b = np.maximum(np.asarray(field_strength(coords), float), p.b_floor_ug)
    return (b / max(b_sun_ug, p.b_floor_ug)) ** (-p.alpha)


class RandomFieldParameters(ModelParameters):
    q: float = Field(
        5.0 / 3.0, ge=1.0, le=2.0, description="E(k) ~ k^-q: 5/3 Kolmogorov, 3/2 Kraichnan"
    )
    b_floor_ug: float = Field(
        0.01, gt=0.0, le=1.0e3, description="B0 and dB below this count as it (numerical)"
    )
    s_min: float = Field(0.01, gt=0.0, le=1.0, description="s below this counts as it")
    s_max: float = Field(100.0, ge=1.0, le=1.0e6, description="s above this counts as it")


def random_field_factor(b0, db, b0_sun, db_sun, p: RandomFieldParameters):
    """s = clip((B0 / B0_sun)^q (dB / dB_sun)^-2, s_min, s_max) with every strength [muG]
    first raised to ``b_floor_ug`` (module docstring, ``random_field``)."""
    f = p.b_floor_ug
    b0 = np.maximum(np.asarray(b0, float), f) / max(b0_sun, f)
    db = np.maximum(np.asarray(db, float), f) / max(db_sun, f)
    return np.clip(b0**p.q / (db * db), p.s_min, p.s_max)


@SPATIAL.register(
    "random_field",
    "Jokipii 1966, ApJ 146, 480 (quasi-linear lambda ~ r_g^(2-q) L^(q-1) (B0 / dB)^2; "
    "../shared/reference/theory.md)",
    RandomFieldParameters,
    "s = (B0 / B0_sun)^q (dB / dB_sun)^-2, B0 and dB the regular and random strengths of "
    "losses.b_field_model",
    context=("coords", "regular_strength", "random_strength", "sun_strengths"),
)
def random_field(
    r,
    z,
    p: RandomFieldParameters,
    coords=None,
    regular_strength=None,
    random_strength=None,
    sun_strengths=None,
):
    if regular_strength is None or random_strength is None or sun_strengths is None:
        raise ValueError(
            "diffusion.spatial = 'random_field' needs the regular and random strengths of a "
            "field model (losses.b_field_model = 'jf12', or 'table' with B_random)"
        )
    b0_sun, db_sun = sun_strengths
    return random_field_factor(regular_strength(coords), random_strength(coords), b0_sun, db_sun, p)


# --- reacceleration ---------------------------------------------------------------------------
@REACCELERATION.register(
    "seo_ptuskin1994",
    "Seo & Ptuskin 1994, ApJ 431, 705 (w = 1); GALPROP diff_reacc = 1",
    NoParameters,
    "D_pp D = 4 p^2 v_A^2 / (3 delta (4 - delta^2) (4 - delta))",
)
def seo_ptuskin1994(delta, p=None):
    return 4.0 / (3.0 * delta * (4.0 - delta**2) * (4.0 - delta))


@REACCELERATION.register(
    "ptuskin2003",
    "GALPROP diff_reacc = 2 (D_pp.cc, 'Ptuskin 2003', after Berezinskii et al. 1990); "
    "DRAGON 'Ptuskin03'",
    NoParameters,
    "D_pp D = p^2 v_A^2 / (delta (4 - delta^2) (4 - delta)): Seo & Ptuskin without the 4/3",
)
def ptuskin2003(delta, p=None):
    return 1.0 / (delta * (4.0 - delta**2) * (4.0 - delta))


def reacceleration_factor(name: str, delta):
    """w(delta) of reacceleration model ``name``: D_pp D = w p^2 v_A^2 (``delta`` a number or
    an array over momentum).  Both models hold for 0 < delta < 2 (w diverges at delta = 0):
    a ValueError names the key otherwise."""
    d = np.asarray(delta, float)
    if not np.all((d > 0.0) & (d < 2.0)):
        bad = float(d.flat[np.argmax(~((d > 0.0) & (d < 2.0)))])
        raise ValueError(
            f"diffusion.delta = {bad:g} with reacceleration: w(delta) of "
            f"reacceleration.model = {name!r} needs 0 < delta < 2 (or v_alfven_km_s = 0)"
        )
    return REACCELERATION.get(name).function(delta)


SPATIAL_NAMES = SPATIAL.names()
REACCELERATION_NAMES = REACCELERATION.names()
