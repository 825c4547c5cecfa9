"""Interstellar radiation fields (ISRF) by name (``losses.isrf_model``).

A model gives the photon energy density per unit photon energy ``du/d eps`` [eV cm^-3 eV^-1]
at galactocentric cylindrical radius ``r`` and height ``z`` [kpc], as a radiation field
(:func:`radiation_field`) with

* ``energy_density(r, z)``: the total energy density [eV cm^-3];
* ``spectral_density(r, z, photon_energy_ev)``: ``du/d eps``, shape broadcast(r, z) + (n_eps,)
  (what inverse-Compton emission needs);
* ``inverse_compton_terms(p)``: the Klein-Nishina IC loss rate of an electron of momentum
  ``p`` [GeV/c] as a sum of separable terms ``profile(r, z) x rate(p)`` [GeV/s] (what the
  loss operator needs).

Analytic models are lists of components, each a spectrum shape of unit energy density
times an energy-density profile ``U(r, z)`` [eV cm^-3]; a table is one non-separable field.
Calling a registry entry, ``ISRF.get(name)(r, z, params)``, gives the total energy density,
with ``photon_energy_ev=...`` the spectral density.

=============  ====================================================================  =========
name           what                                                                  reference
=============  ====================================================================  =========
grey_bodies    ``losses.photon_fields``: diluted Planck spectra of temperature T,     -
               energy density U at the Sun, ``U exp(-(r - r_sun)/R - |z|/H)``
               (uniform without scales); the built-in default (CMB 0.261, dust
               35 K 0.3, starlight 4000 K 0.6 eV cm^-3)
mathis1983     the local ISRF of Mathis, Mezger & Panagia 1983 (D_G = 10 kpc): the   MMP83
               UV fit 4 pi J_lambda = 38.57 lambda^3.4172 (0.0912-0.110 um),
               2.045e-2 (0.110-0.134 um), 7.115e-4 lambda^-1.6678 (0.134-0.246 um)
               erg cm^-2 s^-1 um^-1, and beyond 0.246 um three diluted black bodies
               (W, T) = (1e-14, 7500 K), (1.65e-13, 4000 K), (4e-13, 3000 K), plus
               the CMB; uniform (valid near the Sun) unless given scales
table          a user HDF5 table (layout below)                                      -
=============  ====================================================================  =========

MMP83's printed W of the 4000 K component is 1.0e-13; Draine (2011, Physics of the
Interstellar and Intergalactic Medium, Table 12.1) uses 1.65e-13, which reproduces the paper's
tabulated field (parameter ``w_4000k``).  With it the starlight energy density is 8.64e-13 erg cm^-3
(Draine's value) and the 6-13.6 eV band 1.14 times Habing's 5.29e-14 erg cm^-3.  The dust
emission (far infrared) is not part of the model.

Table layout (HDF5, every rank reads the file; lengths in kpc, energies in eV):

=================  ================  =====================================================
dataset            shape             content
=================  ================  =====================================================
``r``              (n_r,)            galactocentric radius [kpc], increasing, n_r >= 2
``z``              (n_z,)            height [kpc], increasing, n_z >= 2; a table with
                                     z >= 0 only is mirrored (evaluated at ``|z|``)
``photon_energy``  (n_e,)            photon energy [eV], positive, increasing, n_e >= 2
``energy_density`` (n_r, n_z, n_e)   du/d eps [eV cm^-3 eV^-1], finite, >= 0
=================  ================  =====================================================

The field at (r, z) is the bilinear combination of the spectra of the four surrounding nodes,
each interpolated log-log in energy (a power law between two energies; zero on an interval
with a zero end, and outside the energy range): exact on the nodes.  Outside the (r, z)
range the field is that of the nearest edge (``outside = "nearest"``, default) or zero.
For the loss operator the rates of the nodes are split into the fewest separable terms (a
truncated singular value decomposition in momentum, to 1e-10 of each node's rate).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from ..units import C_CM_S, EV_ERG, H_PLANCK_EV_S, K_B_EV_K
from .registry import ModelParameters, Registry

ISRF = Registry("radiation field")

R_SUN_DEFAULT_KPC = 8.3  # = sun.r_kpc's default: where "at the Sun" is without a run
HC_EV_UM = H_PLANCK_EV_S * C_CM_S * 1e4  # h c [eV um]: lambda [um] = HC_EV_UM / eps [eV]
_PLANCK_NORM = 8.0 * math.pi / (H_PLANCK_EV_S * C_CM_S) ** 3  # 8 pi / (h c)^3 [eV^-3 cm^-3]

Profile = Callable[[np.ndarray, np.ndarray], np.ndarray]


# --- spectra of unit energy density --------------------------------------------------------
@dataclass(frozen=True)
class PlanckSpectrum:
    """The black-body shape of ``temperature_k`` with unit energy density (1 eV cm^-3)."""

    temperature_k: float

    def density(self, photon_energy_ev) -> np.ndarray:
        """du/d eps [eV^-1] per unit energy density."""
        kt = K_B_EV_K * self.temperature_k
        x = np.asarray(photon_energy_ev, float) / kt
        with np.errstate(over="ignore"):
            shape = x**3 / np.expm1(np.where(x > 0, x, 1.0))
        return np.where((x > 0) & (x < 700.0), 15.0 / math.pi**4 * shape / kt, 0.0)


@dataclass(frozen=True, eq=False)
class LineSpectrum:
    """A spectrum of unit energy density given by ``function`` (du/d eps, any normalisation)
    on ``[edges[0], edges[-1]]`` [eV] and its photon lines (Gauss-Legendre points in ln eps
    on sub-intervals of the ``edges``, whose breaks are those of the function)."""

    function: Callable[[np.ndarray], np.ndarray]
    edges: tuple[float, ...]
    energies_ev: np.ndarray = field(init=False)
    weights: np.ndarray = field(init=False)
    norm: float = field(init=False)

    def __post_init__(self):
        nodes = []
        for lo, hi in zip(self.edges[:-1], self.edges[1:], strict=True):
            n = max(1, math.ceil(math.log(hi / lo) / 0.25))  # sub-intervals <= 0.25 in ln eps
            nodes.append(np.exp(np.linspace(math.log(lo), math.log(hi), n + 1))[:-1])
        e = np.append(np.concatenate(nodes), self.edges[-1])
        x, wg = np.polynomial.legendre.leggauss(8)
        ln_e = np.log(e)
        width = np.diff(ln_e)
        eps = np.exp(ln_e[:-1, None] + 0.5 * (x + 1.0)[None, :] * width[:, None])
        w = 0.5 * wg[None, :] * width[:, None] * eps * self.function(eps)
        norm = float(np.sum(w))
        object.__setattr__(self, "energies_ev", eps.ravel())
        object.__setattr__(self, "weights", w.ravel() / norm)
        object.__setattr__(self, "norm", norm)

    def density(self, photon_energy_ev) -> np.ndarray:
        """du/d eps [eV^-1] per unit energy density."""
        return self.function(np.asarray(photon_energy_ev, float)) / self.norm


@dataclass(frozen=True, eq=False)
class Component:
    """One part of a radiation field: ``spectrum`` (unit energy density) times the energy
    density ``profile(r, z)`` [eV cm^-3], which is ``energy_density_sun`` at the Sun."""

    name: str
    spectrum: PlanckSpectrum | LineSpectrum
    profile: Profile
    energy_density_sun: float


class ComponentField:
    """A radiation field made of separable components (:class:`Component`)."""

    def __init__(self, name: str, components: tuple[Component, ...]):
        self.name = name
        self.components = tuple(components)

    def energy_density(self, r, z) -> np.ndarray:
        """Total energy density [eV cm^-3] at (r, z) [kpc]."""
        shape = np.broadcast_shapes(np.shape(r), np.shape(z))
        return sum((c.profile(r, z) for c in self.components), np.zeros(shape))

    def spectral_density(self, r, z, photon_energy_ev) -> np.ndarray:
        """du/d eps [eV cm^-3 eV^-1], shape broadcast(r, z) + (n_eps,)."""
        eps = np.atleast_1d(np.asarray(photon_energy_ev, float))
        shape = np.broadcast_shapes(np.shape(r), np.shape(z)) + eps.shape
        out = np.zeros(shape)
        for c in self.components:
            out = out + np.asarray(c.profile(r, z))[..., None] * c.spectrum.density(eps)
        return out

    def inverse_compton_terms(self, p) -> list[tuple[Profile, np.ndarray]]:
        """``[(profile(r, z), rate(p) [GeV/s per eV cm^-3]), ...]``, one per component with
        nonzero energy density; the IC loss rate is ``sum profile x rate``."""
        from ..physics import energy_losses

        terms = []
        for c in self.components:
            if c.energy_density_sun <= 0:
                continue
            if isinstance(c.spectrum, PlanckSpectrum):
                rate = energy_losses.inverse_compton_kn_loss(p, [c.spectrum.temperature_k], [1.0])
            else:
                s = c.spectrum
                rate = energy_losses.inverse_compton_kn_loss_lines(p, s.energies_ev, s.weights)
            terms.append((c.profile, rate))
        return terms


def exponential_profile(u_sun, scale_radius, scale_height, r_sun) -> Profile:
    """``u_sun exp(-(r - r_sun)/scale_radius - |z|/scale_height)`` (a None scale: no fall-off),
    in the order of operations of the galaxy model's exponential discs (bit for bit)."""

    def profile(r, z):
        arg = np.zeros(np.broadcast_shapes(np.shape(r), np.shape(z)))
        if scale_radius is not None:
            arg = arg - (np.asarray(r, float) - r_sun) / scale_radius
        if scale_height is not None:
            arg = arg - np.abs(np.asarray(z, float)) / scale_height
        return u_sun * np.exp(arg)

    return profile


# --- tables --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RadiationTable:
    """du/d eps [eV cm^-3 eV^-1] on nodes ``r`` x ``z`` [kpc] x ``photon_energy`` [eV]."""

    path: str
    r: np.ndarray
    z: np.ndarray
    photon_energy: np.ndarray
    energy_density: np.ndarray

    @property
    def mirrored(self) -> bool:
        """True for a table with z >= 0 only (evaluated at |z|)."""
        return bool(self.z[0] >= 0.0)


DATASETS = ("r", "z", "photon_energy", "energy_density")


def _read_radiation_table(path: str) -> RadiationTable:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError:
        raise ValueError(f"ISRF table {path!r} is not an HDF5 file") from None
    with f:
        missing = [d for d in DATASETS if d not in f]
        if missing:
            raise ValueError(
                f"ISRF table {path!r} has no dataset {missing[0]!r} (needs {list(DATASETS)})"
            )
        r, z, e = (np.asarray(f[d][()], float) for d in DATASETS[:3])
        u = np.asarray(f["energy_density"][()], float)
    for name, axis in (("r", r), ("z", z), ("photon_energy", e)):
        if axis.ndim != 1 or axis.size < 2 or np.any(np.diff(axis) <= 0):
            raise ValueError(
                f"ISRF table {path!r}: dataset {name!r} must be 1D with at least 2 increasing "
                f"values (shape {axis.shape})"
            )
    if e[0] <= 0:
        raise ValueError(f"ISRF table {path!r}: photon_energy must be positive [eV]")
    if u.shape != (r.size, z.size, e.size):
        raise ValueError(
            f"ISRF table {path!r}: energy_density has shape {u.shape}, expected (n_r, n_z, "
            f"n_e) = {(r.size, z.size, e.size)}"
        )
    if not np.all(np.isfinite(u)) or np.any(u < 0):
        raise ValueError(f"ISRF table {path!r}: energy_density must be finite and >= 0")
    return RadiationTable(path, r, z, e, u)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> RadiationTable:
    return _read_radiation_table(path)


def load_radiation_table(path: str) -> RadiationTable:
    """The ISRF table in ``path`` (cached until the file changes); ValueError in one line."""
    if not os.path.isfile(path):
        raise ValueError(f"ISRF table {path!r} not found (relative to {os.getcwd()!r})")
    return _load(os.path.abspath(path), os.path.getmtime(path))


def loglog_spectra(photon_energy, values, eps) -> np.ndarray:
    """Spectra ``values`` (..., n_e) on ``photon_energy`` interpolated log-log at ``eps``
    (n,): shape (..., n); exact on the nodes, zero outside them and on intervals with a zero
    end."""
    eps = np.atleast_1d(np.asarray(eps, float))
    n = photon_energy.size
    i = np.clip(np.searchsorted(photon_energy, eps, side="right") - 1, 0, n - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(eps / photon_energy[i]) / np.log(photon_energy[i + 1] / photon_energy[i])
    v0, v1 = values[..., i], values[..., i + 1]
    positive = (v0 > 0) & (v1 > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        between = np.where(positive, v0 * (np.where(positive, v1 / v0, 1.0) ** t), 0.0)
    out = np.where(t <= 0.0, v0, np.where(t >= 1.0, v1, between))
    inside = (eps >= photon_energy[0]) & (eps <= photon_energy[-1])
    return np.where(inside, out, 0.0)


def bilinear(r_nodes, z_nodes, values, r, z, outside: str = "nearest") -> np.ndarray:
    """``values`` (n_r, n_z, ...) interpolated linearly in r and z at the points (r, z)
    (broadcast together): shape broadcast(r, z) + values.shape[2:]; exact on the nodes."""
    rr, zz = np.broadcast_arrays(np.asarray(r, float), np.asarray(z, float))
    shape = rr.shape
    rr, zz = rr.ravel(), zz.ravel()
    inside = np.ones(rr.shape, bool)
    idx, frac = [], []
    for nodes, x in ((r_nodes, rr), (z_nodes, zz)):
        inside &= (x >= nodes[0]) & (x <= nodes[-1])
        q = np.clip(x, nodes[0], nodes[-1])
        i = np.clip(np.searchsorted(nodes, q, side="right") - 1, 0, nodes.size - 2)
        idx.append(i)
        frac.append((q - nodes[i]) / (nodes[i + 1] - nodes[i]))
    (i, j), (fr, fz) = idx, frac
    extra = (slice(None),) + (None,) * (values.ndim - 2)
    fr, fz = fr[extra], fz[extra]
    out = (1.0 - fr) * (1.0 - fz) * values[i, j]
    out = out + fr * (1.0 - fz) * values[i + 1, j]
    out = out + (1.0 - fr) * fz * values[i, j + 1]
    out = out + fr * fz * values[i + 1, j + 1]
    if outside == "zero":
        out = np.where(inside[extra], out, 0.0)
    return out.reshape(shape + values.shape[2:])


class TabulatedField:
    """A radiation field interpolated in a :class:`RadiationTable`."""

    def __init__(self, table: RadiationTable, outside: str = "nearest"):
        self.name = "table"
        self.table = table
        self.outside = outside

    def _points(self, r, z):
        z = np.asarray(z, float)
        return r, (np.abs(z) if self.table.mirrored else z)

    def node_energy_density(self) -> np.ndarray:
        """Energy density [eV cm^-3] of each node's log-log spectrum, (n_r, n_z)."""
        from ..physics.energy_losses import photon_lines

        t = self.table
        return photon_lines(t.photon_energy, t.energy_density)[1].sum(axis=-1)

    def energy_density(self, r, z) -> np.ndarray:
        """Total energy density [eV cm^-3] at (r, z) [kpc]."""
        r, z = self._points(r, z)
        t = self.table
        return bilinear(t.r, t.z, self.node_energy_density(), r, z, self.outside)

    def spectral_density(self, r, z, photon_energy_ev) -> np.ndarray:
        """du/d eps [eV cm^-3 eV^-1], shape broadcast(r, z) + (n_eps,)."""
        r, z = self._points(r, z)
        t = self.table
        nodes = loglog_spectra(t.photon_energy, t.energy_density, photon_energy_ev)
        return bilinear(t.r, t.z, nodes, r, z, self.outside)

    def node_rates(self, p) -> np.ndarray:
        """IC loss rate [GeV/s] of each node's spectrum at momenta ``p`` (1D): (n_r, n_z, n_p)."""
        from ..physics import energy_losses

        t = self.table
        eps, _ = energy_losses.photon_lines(t.photon_energy, t.energy_density[:1, :1])
        rates = energy_losses.inverse_compton_kn_line_rates(np.asarray(p, float), eps)
        flat = t.energy_density.reshape(-1, t.photon_energy.size)
        out = np.empty((flat.shape[0], rates.shape[1]))
        for lo in range(0, flat.shape[0], 256):  # bounded memory for big tables
            w = energy_losses.photon_lines(t.photon_energy, flat[lo : lo + 256])[1]
            out[lo : lo + 256] = w @ rates
        return out.reshape(t.r.size, t.z.size, -1)

    def inverse_compton_terms(self, p, rtol: float = 1e-10) -> list[tuple[Profile, np.ndarray]]:
        """``[(profile(r, z), rate(p) [GeV/s]), ...]`` whose sum is the IC loss rate of the
        bilinearly interpolated node rates, to ``rtol`` of each node's rate (at each momentum
        relative to the Thomson rate of the node's energy density)."""
        from ..physics.energy_losses import inverse_compton_thomson_loss

        p = np.asarray(p, float)
        rates = self.node_rates(p)
        nr, nz, n_p = rates.shape
        thomson = np.maximum(inverse_compton_thomson_loss(p, 1.0), np.finfo(float).tiny)
        m = rates.reshape(nr * nz, n_p) / thomson  # effective energy density, <= U
        row = np.max(np.abs(m), axis=1)
        row = np.where(row > 0, row, 1.0)
        u, s, vt = np.linalg.svd(m / row[:, None], full_matrices=False)
        us = u * s
        tail = np.sqrt(np.cumsum((us**2)[:, ::-1], axis=1)[:, ::-1])  # residual of rank k
        tail = np.append(tail, np.zeros((tail.shape[0], 1)), axis=1)
        rank = int(np.argmax(np.all(tail <= rtol, axis=0)))
        t = self.table
        terms = []
        for k in range(rank):
            coeff = (row * us[:, k]).reshape(nr, nz)

            def profile(r, z, coeff=coeff):
                r, z = self._points(r, z)
                return bilinear(t.r, t.z, coeff, r, z, self.outside)

            terms.append((profile, vt[k] * thomson))
        return terms


# --- the models ------------------------------------------------------------------------------
_BUILDERS: dict[str, Callable[..., ComponentField | TabulatedField]] = {}


def _register(name: str, reference: str, parameters: type[ModelParameters], summary: str):
    """Register ``builder(params, r_sun_kpc) -> field``; the registry entry evaluates the
    field's energy density (or, with ``photon_energy_ev``, its spectral density)."""

    def wrap(builder):
        def evaluate(r, z, p, photon_energy_ev=None, r_sun_kpc=None):
            fld = builder(p, R_SUN_DEFAULT_KPC if r_sun_kpc is None else r_sun_kpc)
            if photon_energy_ev is None:
                return fld.energy_density(r, z)
            return fld.spectral_density(r, z, photon_energy_ev)

        ISRF.register(name, reference, parameters, summary, ("photon_energy_ev", "r_sun_kpc"))(
            evaluate
        )
        _BUILDERS[name] = builder
        return builder

    return wrap


class GreyBody(ModelParameters):
    """One grey body of ``grey_bodies`` (the fields of ``[[losses.photon_fields]]``)."""

    name: str
    temperature_k: float = Field(gt=0)
    energy_density_ev_cm3: float = Field(ge=0, description="at the Sun")
    scale_radius_kpc: float | None = Field(None, gt=0)
    scale_height_kpc: float | None = Field(None, gt=0)


DEFAULT_GREY_BODIES = (
    GreyBody(name="cmb", temperature_k=2.7255, energy_density_ev_cm3=0.261),
    GreyBody(
        name="infrared",
        temperature_k=35.0,
        energy_density_ev_cm3=0.3,
        scale_radius_kpc=5.0,
        scale_height_kpc=2.0,
    ),
    GreyBody(
        name="starlight",
        temperature_k=4000.0,
        energy_density_ev_cm3=0.6,
        scale_radius_kpc=5.0,
        scale_height_kpc=2.0,
    ),
)


class GreyBodiesParameters(ModelParameters):
    photon_fields: tuple[GreyBody, ...] = Field(
        DEFAULT_GREY_BODIES, description="= losses.photon_fields"
    )


@_register(
    "grey_bodies",
    "-",
    GreyBodiesParameters,
    "diluted Planck spectra (losses.photon_fields), U_sun exp(-(r - r_sun)/R - |z|/H)",
)
def grey_bodies(p: GreyBodiesParameters, r_sun_kpc: float) -> ComponentField:
    return ComponentField(
        "grey_bodies",
        tuple(
            Component(
                g.name,
                PlanckSpectrum(g.temperature_k),
                exponential_profile(
                    g.energy_density_ev_cm3, g.scale_radius_kpc, g.scale_height_kpc, r_sun_kpc
                ),
                g.energy_density_ev_cm3,
            )
            for g in p.photon_fields
        ),
    )


# Mathis, Mezger & Panagia 1983: the UV fit (4 pi J_lambda [erg cm^-2 s^-1 um^-1], lambda in
# um) and the diluted black bodies beyond LAMBDA_SPLIT_UM
MMP83_UV = (
    (0.0912, 0.110, 38.57, 3.4172),
    (0.110, 0.134, 2.045e-2, 0.0),
    (0.134, 0.246, 7.115e-4, -1.6678),
)
LAMBDA_SPLIT_UM = 0.246
CMB_TEMPERATURE_K = 2.7255  # Fixsen 2009, ApJ 707, 916


def mmp83_uv_4pi_j(lambda_um) -> np.ndarray:
    """MMP83's UV fit 4 pi J_lambda [erg cm^-2 s^-1 um^-1] at ``lambda_um``; 0 outside
    0.0912-0.246 um."""
    lam = np.asarray(lambda_um, float)
    out = np.zeros(lam.shape)
    for lo, hi, a, n in MMP83_UV:
        sel = (lam >= lo) & (lam < hi)
        out = np.where(sel, a * np.power(np.where(sel, lam, 1.0), n), out)
    return out


def mmp83_uv_density(photon_energy_ev) -> np.ndarray:
    """du/d eps [eV cm^-3 eV^-1] of MMP83's UV fit: (4 pi J_lambda / c) |d lambda / d eps|."""
    e = np.asarray(photon_energy_ev, float)
    lam = HC_EV_UM / np.where(e > 0, e, 1.0)
    return np.where(e > 0, mmp83_uv_4pi_j(lam) / C_CM_S * lam / e / EV_ERG, 0.0)


def diluted_planck_density(photon_energy_ev, temperature_k, dilution, e_max_ev=math.inf):
    """du/d eps [eV cm^-3 eV^-1] of a black body of ``temperature_k`` times ``dilution``,
    below ``e_max_ev``: W 8 pi eps^3 / ((h c)^3 (exp(eps / kT) - 1))."""
    e = np.asarray(photon_energy_ev, float)
    x = e / (K_B_EV_K * temperature_k)
    ok = (x > 0) & (x < 700.0) & (e < e_max_ev)
    xs = np.where(ok, x, 1.0)
    return np.where(ok, dilution * _PLANCK_NORM * e**3 / np.expm1(xs), 0.0)


class Mathis1983Parameters(ModelParameters):
    w_7500k: float = Field(1.0e-14, ge=0.0, le=1e-6, description="dilution of the 7500 K body")
    w_4000k: float = Field(
        1.65e-13,
        ge=0.0,
        le=1e-6,
        description="dilution of the 4000 K body (MMP83 print 1.0e-13; 1.65e-13 fits their "
        "tables, Draine 2011)",
    )
    w_3000k: float = Field(4.0e-13, ge=0.0, le=1e-6, description="dilution of the 3000 K body")
    cmb: bool = Field(True, description="add the CMB (Planck, 2.7255 K, Fixsen 2009)")
    scale_radius_kpc: float | None = Field(
        None, gt=0, description="exponential radial scale of the starlight (not from the paper)"
    )
    scale_height_kpc: float | None = Field(
        None, gt=0, description="exponential scale height of the starlight (not from the paper)"
    )


@_register(
    "mathis1983",
    "Mathis, Mezger & Panagia 1983, A&A 128, 212 (local ISRF, D_G = 10 kpc); W_4000 = 1.65e-13 "
    "as in Draine 2011, Table 12.1",
    Mathis1983Parameters,
    "local starlight: MMP83's UV fit and three diluted black bodies, plus the CMB",
)
def mathis1983(p: Mathis1983Parameters, r_sun_kpc: float) -> ComponentField:
    e_split = HC_EV_UM / LAMBDA_SPLIT_UM
    uv_edges = tuple(HC_EV_UM / lam for lam in (0.246, 0.134, 0.110, 0.0912))
    parts = [("uv", mmp83_uv_density, uv_edges)]
    for t_k, w in ((7500.0, p.w_7500k), (4000.0, p.w_4000k), (3000.0, p.w_3000k)):
        kt = K_B_EV_K * t_k
        if w > 0:
            fn = functools.partial(
                diluted_planck_density, temperature_k=t_k, dilution=w, e_max_ev=e_split
            )
            parts.append((f"stars_{t_k:.0f}k", fn, (1e-3 * kt, min(50.0 * kt, e_split))))
    components = []
    for name, fn, edges in parts:
        spectrum = LineSpectrum(fn, edges)
        u_sun = spectrum.norm
        profile = exponential_profile(u_sun, p.scale_radius_kpc, p.scale_height_kpc, r_sun_kpc)
        components.append(Component(name, spectrum, profile, u_sun))
    if p.cmb:
        u_cmb = math.pi**4 / 15.0 * _PLANCK_NORM * (K_B_EV_K * CMB_TEMPERATURE_K) ** 4
        profile = exponential_profile(u_cmb, None, None, r_sun_kpc)
        components.append(Component("cmb", PlanckSpectrum(CMB_TEMPERATURE_K), profile, u_cmb))
    return ComponentField("mathis1983", tuple(components))


class TableISRFParameters(ModelParameters):
    file: str = Field(description="HDF5 file with r, z, photon_energy, energy_density")
    outside: Literal["nearest", "zero"] = Field(
        "nearest", description="beyond the table's (r, z) range: the nearest edge, or zero"
    )

    @field_validator("file")
    @classmethod
    def _readable(cls, path: str) -> str:
        load_radiation_table(path)  # one-line ValueError for a missing file or a bad layout
        return path


@_register(
    "table",
    "user table",
    TableISRFParameters,
    "du/d eps from a user HDF5 table (r, z, photon_energy, energy_density)",
)
def table(p: TableISRFParameters, r_sun_kpc: float) -> TabulatedField:
    return TabulatedField(load_radiation_table(p.file), p.outside)


# --- for the config and the galaxy model --------------------------------------------------------
NAMES = ISRF.names()

#: keys of the [losses] block that are the parameters of one model (kept from before the
#: registry): they are the defaults of that model's parameters, [losses.isrf_parameters] wins
BLOCK_KEYS = {"grey_bodies": ("photon_fields",)}


def block_parameters(model: str, parameters: dict, **block_values) -> ModelParameters:
    """Validated parameters of ``model`` from ``losses.isrf_parameters`` and, for
    'grey_bodies', ``losses.photon_fields`` (ValueError naming the key otherwise)."""
    merged = {k: block_values[k] for k in BLOCK_KEYS.get(model, ()) if k in block_values}
    merged.update(parameters)
    return ISRF.get(model).parse(merged, key="losses.isrf_parameters")


def radiation_field(
    model: str, parameters=None, r_sun_kpc: float = R_SUN_DEFAULT_KPC, **block_values
) -> ComponentField | TabulatedField:
    """The radiation field of ``model`` with ``parameters`` (a dict or parsed parameters) and
    the [losses] keys of :data:`BLOCK_KEYS` (``photon_fields=[...]``), "at the Sun" meaning at
    ``r_sun_kpc``."""
    if isinstance(parameters, ModelParameters):
        p = ISRF.get(model).parse(parameters)
    else:
        p = block_parameters(model, dict(parameters or {}), **block_values)
    return _BUILDERS[model](p, r_sun_kpc)
