"""The Galactic magnetic field by name: its strength |B| (synchrotron losses, field-dependent
diffusion) and its direction b = B/|B| (anisotropic diffusion).

Frames.  Galactocentric, right-handed, z to the north Galactic pole; on Cartesian grids the
Sun is on the +x axis at ``(sun.r_kpc, 0, sun.z_kpc)``, so that the Galactic rotation (clockwise
seen from the north) is along -y at the Sun and the direction l = 90 deg is -y.  Directions are
returned in the grid's frame: (x, y, z) on Cartesian grids and on the slab (whose axis is z),
(r, phi, z) on cylindrical grids, phi counter-clockwise seen from the north.

Strength (``losses.b_field_model``, ``[losses.b_field_parameters]``), in muG
    * ``exponential_disc`` (the built-in model, kept as it was): B = B_sun exp[-(R - R_sun)/R_B
      - |z|/z_B], the total field of Strong, Moskalenko & Reimer 2000 (ApJ 537, 763: 5 muG,
      R_B = 10 kpc, z_B = 2 kpc); the keys ``losses.b_field_ug``,
      ``b_field_scale_radius_kpc``, ``b_field_scale_height_kpc`` are its parameters;
    * ``uniform``: B = ``b_ug`` everywhere;
    * ``pshirkov2011_ass``, ``pshirkov2011_bss``: |B| of the regular field below (3D grids);
    * ``jf12``: Jansson & Farrar 2012 (:mod:`.magnetic_jf12`; regular, striated, random);
    * ``table``: a user HDF5 field (:mod:`.magnetic_table`).

Direction (``diffusion.field_model``, ``[diffusion.field_parameters]``)
    * ``uniform``: ``diffusion.field_direction`` everywhere (in the grid's frame);
    * ``spiral``: b = sin p r_hat + cos p phi_hat in the disc plane, p =
      ``diffusion.pitch_angle_deg`` (azimuthal for p = 0; b_z = 0; horizontal on a slab);
    * ``pshirkov2011_ass``, ``pshirkov2011_bss``: B/|B| of the regular field below (3D grids);
    * ``jf12``, ``table``: B/|B| of the JF12 regular field, of a user HDF5 field (3D grids).

Pshirkov et al. 2011 (ApJ 738, 192), the regular field fitted to Faraday rotation measures of
extragalactic sources, with their best-fit parameters (R_sun = 8.5 kpc).  Disc
(logarithmic spiral, their eq. 3, after Han & Qiao 1994 and Tinyakov & Tkachev 2002)::

    B_r = D(r, theta) sin p,  B_theta = D(r, theta) cos p,   D = b(r) g(psi) exp(-|z| / z0)
    psi = theta - ln(r / R_sun) / tan p + Phi,   Phi = ln(1 + d / R_sun) / tan p - pi/2
    b(r) = B0 R_sun / (max(r, R_c) cos Phi)

with theta the paper's azimuth, 0 at the Sun and increasing clockwise seen from the north
(Han & Qiao's convention; here theta = -phi and theta_hat = -phi_hat), g = cos for the
bisymmetric field (BSS: the field reverses, first at d = -0.6 kpc from the Sun towards the
centre) and g = |cos| for the axisymmetric one (ASS: no reversal of the direction).  At the Sun
|B| = B0 = 2 muG pointing to l = 90 deg + p.  ASS: p = -5 deg, BSS: p = -6 deg; z0 = 1 kpc,
R_c = 5 kpc.  Halo (their eq. 8, toroidal, opposite above and below the plane)::

    B_phi = B0_H (r / R0_H) exp(1 - r / R0_H) / (1 + ((|z| - z0_H) / z1_H)^2)

along +phi_hat in the north and -phi_hat (with B0_H of the south) for z <= 0; z0_H = 1.3 kpc,
R0_H = 8 kpc, z1_H = 0.25 kpc for |z| < z0_H and 0.4 kpc beyond; B0_H = 4 muG in the north,
2 muG (ASS) or 4 muG (BSS) in the south.  The conventions (the paper's azimuth, the halo's
sign) follow CRPropa's PT11Field, which implements the same equations with the Sun at -x (the
field here is that one turned by 180 deg about the z axis).  The disc field is
divergence-free for r > R_c (field lines are the curves psi = const and r b(r) is constant);
inside R_c, where b is held constant, div B = b(R_c) g(psi) sin p / r (the paper's model is not
solenoidal there); the halo is divergence-free.  JF12: :mod:`.magnetic_jf12`.

A pitch angle p of this module's ``spiral`` (counter-clockwise phi) describes the same field
lines as Pshirkov's -p: their p = -5 deg is a trailing spiral of 5 deg, ``spiral`` with p = +5.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, field_validator

from . import magnetic_jf12, magnetic_table
from .registry import ModelParameters, Registry

STRENGTH = Registry("magnetic field strength")
DIRECTION = Registry("magnetic field direction")

#: geometries whose frame has an azimuth or is the slab's; direction models need one of them
DISC_GEOMETRIES = ("cylindrical2d", "cartesian3d", "slab1d")
R_SUN_SMR2000_KPC = 8.5  # the solar radius of Strong, Moskalenko & Reimer 2000


# --- strength ---------------------------------------------------------------------------------
class ExponentialDiscParameters(ModelParameters):
    b_sun_ug: float = Field(5.0, ge=0.0, le=1.0e3, description="= losses.b_field_ug")
    r_scale_kpc: float = Field(10.0, gt=0.0, description="= losses.b_field_scale_radius_kpc")
    z_scale_kpc: float = Field(2.0, gt=0.0, description="= losses.b_field_scale_height_kpc")


@STRENGTH.register(
    "exponential_disc",
    "Strong, Moskalenko & Reimer 2000, ApJ 537, 763 (total field 5 muG at the Sun, "
    "R_B = 10 kpc, z_B = 2 kpc)",
    ExponentialDiscParameters,
    "B_sun exp[-(R - R_sun)/R_B - |z|/z_B] (R_sun: the configured Sun)",
    context=("sun_r_kpc",),
)
def exponential_disc(r, z, p: ExponentialDiscParameters, sun_r_kpc=None):
    r_sun = R_SUN_SMR2000_KPC if sun_r_kpc is None else sun_r_kpc
    r = np.asarray(r, float)
    z = np.asarray(z, float)
    arg = np.zeros(np.broadcast_shapes(np.shape(r), np.shape(z)))
    arg = arg - (r - r_sun) / p.r_scale_kpc
    arg = arg - np.abs(z) / p.z_scale_kpc
    return p.b_sun_ug * np.exp(arg)


class UniformStrengthParameters(ModelParameters):
    b_ug: float = Field(5.0, ge=0.0, le=1.0e3, description="field strength")


@STRENGTH.register("uniform", "-", UniformStrengthParameters, "B = b_ug everywhere")
def uniform_strength(r, z, p: UniformStrengthParameters):
    return np.full(np.broadcast_shapes(np.shape(r), np.shape(z)), p.b_ug)


def _azimuth(x, y):
    """(cos phi, sin phi) of Cartesian (x, y), broadcast together (phi = 0 on the z axis)."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    r = np.hypot(x, y)
    safe = np.where(r > 0, r, 1.0)
    return np.where(r > 0, x / safe, 1.0), np.where(r > 0, y / safe, 0.0)


# --- direction --------------------------------------------------------------------------------
class UniformDirectionParameters(ModelParameters):
    direction: tuple[float, float, float] = Field(
        (0.0, 1.0, 0.0), description="= diffusion.field_direction (the grid's frame)"
    )

    @field_validator("direction")
    @classmethod
    def _nonzero(cls, v):
        if not any(v):
            raise ValueError("need 3 components, not all zero")
        return v


@DIRECTION.register(
    "uniform",
    "-",
    UniformDirectionParameters,
    "diffusion.field_direction everywhere, in the grid's frame",
    context=("coords", "geometry"),
)
def uniform_direction(r, z, p: UniformDirectionParameters, coords=None, geometry=None):
    b = np.asarray(p.direction, float)
    return tuple(b / np.linalg.norm(b))


class SpiralParameters(ModelParameters):
    pitch_angle_deg: float = Field(
        11.5, ge=-90.0, le=90.0, description="= diffusion.pitch_angle_deg (0: azimuthal)"
    )


@DIRECTION.register(
    "spiral",
    "-",
    SpiralParameters,
    "logarithmic spiral of pitch angle p: b = sin p r_hat + cos p phi_hat, b_z = 0",
    context=("coords", "geometry"),
)
def spiral_direction(r, z, p: SpiralParameters, coords=None, geometry=None):
    if geometry not in DISC_GEOMETRIES:
        raise ValueError(
            "config key diffusion.field_model = 'spiral': a disc field needs a cylindrical, "
            f"Cartesian or slab grid, not {geometry}"
        )
    sp, cp = np.sin(np.radians(p.pitch_angle_deg)), np.cos(np.radians(p.pitch_angle_deg))
    if geometry != "cartesian3d":
        return sp, cp, 0.0
    cos_phi, sin_phi = _azimuth(coords[0], coords[1])
    bx = sp * cos_phi - cp * sin_phi
    by = sp * sin_phi + cp * cos_phi
    return bx, by, np.zeros_like(bx)


# --- Pshirkov et al. 2011 -----------------------------------------------------------------------
class Pshirkov2011Parameters(ModelParameters):
    b0_ug: float = Field(2.0, ge=0.0, le=100.0, description="disc field at the Sun")
    pitch_deg: float = Field(-5.0, ge=-45.0, le=45.0, description="ASS: -5, BSS: -6")
    d_kpc: float = Field(-0.6, gt=-8.0, lt=8.0, description="Sun to the first reversal")
    r_c_kpc: float = Field(5.0, gt=0.0, le=20.0, description="b(r) constant inside")
    z0_kpc: float = Field(1.0, gt=0.0, le=20.0, description="disc scale height")
    r_sun_kpc: float = Field(8.5, gt=0.0, le=20.0, description="R_sun of the fit")
    halo: bool = Field(True, description="add the toroidal halo field")
    b0_halo_north_ug: float = Field(4.0, ge=0.0, le=100.0)
    b0_halo_south_ug: float = Field(2.0, ge=0.0, le=100.0, description="ASS: 2, BSS: 4")
    z0_halo_kpc: float = Field(1.3, gt=0.0, le=20.0)
    r0_halo_kpc: float = Field(8.0, gt=0.0, le=50.0)
    z1_inner_kpc: float = Field(0.25, gt=0.0, le=20.0, description="z1_H for |z| < z0_H")
    z1_outer_kpc: float = Field(0.4, gt=0.0, le=20.0, description="z1_H for |z| >= z0_H")

    @field_validator("pitch_deg")
    @classmethod
    def _nonzero(cls, v):
        if v == 0.0:
            raise ValueError("must be nonzero (the spiral is ln r / tan p)")
        return v


class Pshirkov2011BssParameters(Pshirkov2011Parameters):
    pitch_deg: float = Field(-6.0, ge=-45.0, le=45.0, description="ASS: -5, BSS: -6")
    b0_halo_south_ug: float = Field(4.0, ge=0.0, le=100.0, description="ASS: 2, BSS: 4")


def pshirkov2011_field(x, y, z, p: Pshirkov2011Parameters, bisymmetric: bool):
    """(B_x, B_y, B_z) [muG] of Pshirkov et al. 2011 at Cartesian (x, y, z) [kpc] (module
    docstring: the Sun on +x; disc ASS (``bisymmetric=False``) or BSS, plus the halo)."""
    x, y, z = np.broadcast_arrays(*(np.asarray(c, float) for c in (x, y, z)))
    r = np.hypot(x, y)
    cos_phi, sin_phi = _azimuth(x, y)
    phi = np.arctan2(y, x)
    pitch = math.radians(p.pitch_deg)
    sp, cp = math.sin(pitch), math.cos(pitch)
    cot = cp / sp
    big_phi = cot * math.log1p(p.d_kpc / p.r_sun_kpc) - 0.5 * math.pi
    psi = -phi - cot * np.log(np.maximum(r, 1e-9) / p.r_sun_kpc) + big_phi
    g = np.cos(psi) if bisymmetric else np.abs(np.cos(psi))
    amp = p.b0_ug * p.r_sun_kpc / (np.maximum(r, p.r_c_kpc) * math.cos(big_phi))
    amp = amp * g * np.exp(-np.abs(z) / p.z0_kpc)
    # B = amp (sin p r_hat + cos p theta_hat); theta_hat = -phi_hat = (s, -c), r_hat = (c, s)
    bx = amp * (sp * cos_phi + cp * sin_phi)
    by = amp * (sp * sin_phi - cp * cos_phi)
    if p.halo:
        az = np.abs(z)
        z1 = np.where(az < p.z0_halo_kpc, p.z1_inner_kpc, p.z1_outer_kpc)
        b0 = np.where(z > 0, p.b0_halo_north_ug, -p.b0_halo_south_ug)
        x_h = r / p.r0_halo_kpc
        bh = b0 * x_h * np.exp(1.0 - x_h) / (1.0 + ((az - p.z0_halo_kpc) / z1) ** 2)
        bx = bx - bh * sin_phi
        by = by + bh * cos_phi
    return bx, by, np.zeros_like(bx)


def pshirkov2011_strength(x, y, z, p: Pshirkov2011Parameters, bisymmetric: bool, name: str):
    """|B| [muG] of :func:`pshirkov2011_field`; ``x``, ``y`` None (not a 3D grid) is an error."""
    if x is None or y is None:
        raise ValueError(
            f"losses.b_field_model = {name!r}: the field is not axisymmetric and needs a "
            "cartesian3d grid"
        )
    bx, by, _ = pshirkov2011_field(x, y, z, p, bisymmetric)
    return np.hypot(bx, by)


def pshirkov2011_direction(coords, geometry, p: Pshirkov2011Parameters, bisymmetric, name):
    """B/|B| of :func:`pshirkov2011_field` on a cartesian3d grid; where the field vanishes (a
    reversal of the BSS disc, the axis, far away) the disc spiral's line element."""
    if geometry != "cartesian3d":
        raise ValueError(
            f"config key diffusion.field_model = {name!r}: the field is not axisymmetric and "
            f"needs a cartesian3d grid, not {geometry}"
        )
    bx, by, bz = pshirkov2011_field(coords[0], coords[1], coords[2], p, bisymmetric)
    norm = np.hypot(bx, by)
    zero = norm <= 1e-12 * max(p.b0_ug, 1e-300)
    c, s = _azimuth(coords[0], coords[1])
    pitch = math.radians(p.pitch_deg)
    sx = math.sin(pitch) * c + math.cos(pitch) * s
    sy = math.sin(pitch) * s - math.cos(pitch) * c
    safe = np.where(zero, 1.0, norm)
    return np.where(zero, sx, bx / safe), np.where(zero, sy, by / safe), bz


PSHIRKOV2011 = "Pshirkov, Tinyakov, Kronberg & Newton-McGee 2011, ApJ 738, 192 (eqs. 3, 8)"


@STRENGTH.register(
    "pshirkov2011_ass",
    PSHIRKOV2011 + ", best fit (ASS disc + antisymmetric halo)",
    Pshirkov2011Parameters,
    "|B| of the axisymmetric (ASS) spiral disc + toroidal halo field",
    context=("x", "y"),
)
def pshirkov2011_ass_strength(r, z, p, x=None, y=None):
    return pshirkov2011_strength(x, y, z, p, False, "pshirkov2011_ass")


@STRENGTH.register(
    "pshirkov2011_bss",
    PSHIRKOV2011 + ", best fit (BSS disc + antisymmetric halo)",
    Pshirkov2011BssParameters,
    "|B| of the bisymmetric (BSS) spiral disc + toroidal halo field",
    context=("x", "y"),
)
def pshirkov2011_bss_strength(r, z, p, x=None, y=None):
    return pshirkov2011_strength(x, y, z, p, True, "pshirkov2011_bss")


@DIRECTION.register(
    "pshirkov2011_ass",
    PSHIRKOV2011 + ", best fit (ASS disc + antisymmetric halo)",
    Pshirkov2011Parameters,
    "B/|B| of the axisymmetric (ASS) spiral disc + toroidal halo field",
    context=("coords", "geometry"),
)
def pshirkov2011_ass_direction(r, z, p, coords=None, geometry=None):
    return pshirkov2011_direction(coords, geometry, p, False, "pshirkov2011_ass")


@DIRECTION.register(
    "pshirkov2011_bss",
    PSHIRKOV2011 + ", best fit (BSS disc + antisymmetric halo)",
    Pshirkov2011BssParameters,
    "B/|B| of the bisymmetric (BSS) spiral disc + toroidal halo field",
    context=("coords", "geometry"),
)
def pshirkov2011_bss_direction(r, z, p, coords=None, geometry=None):
    return pshirkov2011_direction(coords, geometry, p, True, "pshirkov2011_bss")


# --- Jansson & Farrar 2012 and user tables (magnetic_jf12.py, magnetic_table.py) ---------------
@STRENGTH.register(
    "jf12",
    magnetic_jf12.REFERENCE,
    magnetic_jf12.JF12Parameters,
    "JF12 |B|: regular (disc + toroidal halo + X field), + striated, random or total",
    context=("x", "y"),
)
def jf12_strength(r, z, p, x=None, y=None):
    return magnetic_jf12.strength(x, y, z, p)


@DIRECTION.register(
    "jf12",
    magnetic_jf12.REFERENCE,
    magnetic_jf12.JF12Parameters,
    "B/|B| of the JF12 regular field (disc + toroidal halo + X field)",
    context=("coords", "geometry"),
)
def jf12_direction(r, z, p, coords=None, geometry=None):
    return magnetic_jf12.direction(coords, geometry, p)


@STRENGTH.register(
    "table",
    "user table",
    magnetic_table.TableFieldParameters,
    "|B| of a user HDF5 field (x, y, z, Bx, By, Bz, optional B_random), trilinear",
    context=("x", "y"),
)
def table_strength(r, z, p, x=None, y=None):
    return magnetic_table.strength(x, y, z, p)


@DIRECTION.register(
    "table",
    "user table",
    magnetic_table.TableFieldParameters,
    "B/|B| of a user HDF5 field (x, y, z, Bx, By, Bz), trilinear",
    context=("coords", "geometry"),
)
def table_direction(r, z, p, coords=None, geometry=None):
    return magnetic_table.direction(coords, geometry, p)


# --- for the config and the galaxy model --------------------------------------------------------
def direction_field(name: str, params: ModelParameters, geometry: str):
    """b(coords) of direction model ``name`` on a grid of ``geometry`` (a callable returning
    the three components in the grid's frame); constants where b does not vary.  The model is
    tried once at the origin, so that a grid it cannot describe is an error now."""
    function = DIRECTION.get(name).function
    if name == "uniform" or (name == "spiral" and geometry != "cartesian3d"):
        b = function(None, None, params, geometry=geometry)
        return lambda coords, b=b: b
    function(None, None, params, coords=[np.zeros(1)] * 3, geometry=geometry)

    def direction(coords):
        return function(None, None, params, coords=coords, geometry=geometry)

    return direction


def regular_and_random_parameters(name: str, params: ModelParameters, key: str):
    """(regular, random) parameters of strength model ``name``: ``params`` with ``component``
    set to "regular" and "random", for models with a random field (``jf12``; ``table`` when
    its file has ``B_random``).  Other models: a one-line ValueError naming ``key`` (the
    config key that asked for the split) and the model."""
    has_random = name == "jf12" or (
        name == "table" and magnetic_table.load_field_table(params.path).random is not None
    )
    if not has_random:
        why = "its table has no 'B_random' dataset" if name == "table" else "it has none"
        raise ValueError(
            f"{key} needs the random-field strength of losses.b_field_model; {name!r}: {why} "
            "(allowed: 'jf12', or 'table' with B_random)"
        )
    return (
        params.model_copy(update={"component": "regular"}),
        params.model_copy(update={"component": "random"}),
    )


STRENGTH_NAMES = STRENGTH.names()
DIRECTION_NAMES = DIRECTION.names()

#: keys of the [losses] / [diffusion] blocks that are the parameters of one model (kept from
#: before the registry): they fill that model's parameters, the parameter tables win
STRENGTH_BLOCK_KEYS = {
    "exponential_disc": {
        "b_field_ug": "b_sun_ug",
        "b_field_scale_radius_kpc": "r_scale_kpc",
        "b_field_scale_height_kpc": "z_scale_kpc",
    }
}
DIRECTION_BLOCK_KEYS = {
    "uniform": {"field_direction": "direction"},
    "spiral": {"pitch_angle_deg": "pitch_angle_deg"},
}


def _block_parameters(registry, table, name, parameters, block, key, model_key):
    """Parameters of model ``name``: the block keys that belong to it (``table[name]``: block
    key -> parameter), updated by the parameter table ``parameters``.  A block key of another
    model set to anything but its default is an error (it would be ignored)."""
    mine = table.get(name, {})
    for k, value in block.items():
        if k in mine:
            continue
        owner = next(m for m, keys in table.items() if k in keys)
        default = registry.get(owner).parameters.model_fields[table[owner][k]].default
        if value != default:
            prefix = model_key.split(".")[0]
            raise ValueError(
                f"{prefix}.{k} = {value!r} is a parameter of {model_key} = {owner!r}, not of "
                f"{name!r} (its parameters go in [{key}])"
            )
    merged = {mine[k]: v for k, v in block.items() if k in mine}
    merged.update(parameters)
    return registry.get(name).parse(merged, key=key)


def strength_parameters(name: str, parameters: dict, **block) -> ModelParameters:
    """Validated parameters of strength model ``name`` from ``[losses.b_field_parameters]``
    and the [losses] keys of :data:`STRENGTH_BLOCK_KEYS` (``b_field_ug=...``); ValueError in
    one line for a bad parameter or a block key that the model does not use set to anything
    but its default."""
    return _block_parameters(
        STRENGTH, STRENGTH_BLOCK_KEYS, name, parameters, block,
        "losses.b_field_parameters", "losses.b_field_model",
    )  # fmt: skip


def direction_parameters(name: str, parameters: dict, **block) -> ModelParameters:
    """Validated parameters of direction model ``name`` from ``[diffusion.field_parameters]``
    and the [diffusion] keys ``field_direction``, ``pitch_angle_deg`` (as
    :func:`strength_parameters`)."""
    block = {k: (tuple(v) if k == "field_direction" else v) for k, v in block.items()}
    return _block_parameters(
        DIRECTION, DIRECTION_BLOCK_KEYS, name, parameters, block,
        "diffusion.field_parameters", "diffusion.field_model",
    )  # fmt: skip
