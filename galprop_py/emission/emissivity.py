"""Per-cell emissivities of a run: pi0 decay, inverse Compton, bremsstrahlung, synchrotron.

The processes' kernels (:mod:`.pi0`, :mod:`.inverse_compton`, :mod:`.bremsstrahlung`,
:mod:`.synchrotron`) act on densities per unit kinetic energy (per nucleon for nuclei) on the
run's momentum grid.  A run holds, per species, the density per unit momentum per particle
psi [kpc^-3 (GeV/c)^-1] (rank-local arrays ``decomp.box.c_shape + (n_p,)``); with
T = A T_n and dT/dp = beta c,

    n(T_n) = psi dp/dT_n = A psi / beta        [cm^-3 (GeV/n)^-1 after kpc^-3 -> cm^-3],

the same conversion as :func:`galprop_py.spectra.flux_from_density` (J = v n / 4 pi).
Every kernel is applied to all owned cells of a species in one matrix product (cells
flattened to rows).

Targets (what each process sees; :class:`galprop_py.models.galaxy.GalaxyModel`):

* pi0: every nucleus of the run (Z >= 1; antiprotons and leptons excluded) on the target gas
  n_H(x) = ``target_density`` (neutral n_HI + 2 n_H2 plus ionised n_HII) with helium
  n_He = f_He n_H (``gas.f_he``), ``eps = n_H (1/4 pi) sum_nuclei K_nucleus @ n_nucleus``
  (:func:`~.pi0.pi0_kernel`, Kafexhiu et al. 2014 with its nuclear enhancement);
* bremsstrahlung: electrons + positrons on the neutral gas, whose H nuclei (n_HI + 2 n_H2,
  ``gas_density``) radiate as H atoms (the molecule's two atoms screen like two atoms; the
  binding changes the form factor little, as in Strong, Moskalenko & Reimer 2000, ApJ 537,
  763), neutral helium f_He n_neutral (He atoms), and ionised hydrogen n_HII
  (``ionised_target_density``: a proton and a free electron, unshielded);
* inverse Compton: electrons + positrons on the ISRF of ``losses.isrf_model``
  (:func:`galprop_py.galaxy.radiation.radiation_field`).  A field of separable components
  (grey bodies, Mathis et al. 1983) gives one kernel per component, ``eps = (1/4 pi) sum_c
  U_c(x) K_c @ n_e`` with K_c for unit energy density; a tabulated field is used cell by
  cell: its spectral density at the table's photon energies becomes lines (trapezoid in
  ln eps), and ``eps[c, g] = (1/4 pi) sum_{k, j} L[g, j, k] N[c, k] n_e[c, j]`` with the
  monochromatic Klein-Nishina kernels L, in chunks of cells;
* synchrotron: electrons + positrons in the total field strength B(x) of
  ``losses.b_field_model`` (:func:`~.synchrotron.synchrotron_emissivity_cells`, random
  pitch angles).

Units: gamma-ray emissivities in photons cm^-3 s^-1 sr^-1 GeV^-1 (:data:`GAMMA_UNIT`) at the
photon energies ``e_gamma`` [GeV]; synchrotron in erg cm^-3 s^-1 Hz^-1 sr^-1
(:data:`SYNCHROTRON_UNIT`) at ``nu_hz``.  Results are rank-local, shape
``decomp.box.c_shape + (n_energies,)``; no communication.
"""

from __future__ import annotations

import math

import numpy as np

from .. import units
from ..models.galaxy import galactic_rz
from ..physics import kinematics
from .bremsstrahlung import bremsstrahlung_kernel
from .inverse_compton import _jones_matrix, ic_kernel
from .pi0 import log_grid_quadrature, pi0_kernel
from .synchrotron import synchrotron_emissivity_cells

__all__ = [
    "GAMMA_PROCESSES",
    "GAMMA_UNIT",
    "PROCESSES",
    "SYNCHROTRON_UNIT",
    "bremsstrahlung_emissivity",
    "emitters",
    "inverse_compton_emissivity",
    "kinetic_density",
    "pi0_emissivity",
    "synchrotron_emissivity",
]

GAMMA_PROCESSES = ("pi0", "inverse_compton", "bremsstrahlung")
PROCESSES = GAMMA_PROCESSES + ("synchrotron",)
GAMMA_UNIT = "photons cm^-3 s^-1 sr^-1 GeV^-1"
SYNCHROTRON_UNIT = "erg cm^-3 s^-1 Hz^-1 sr^-1"
#: cells per chunk of the tabulated-ISRF einsum (memory ~ chunk x n_gamma x n_T x 8 bytes)
IC_TABLE_CHUNK = 512
_FOUR_PI = 4.0 * math.pi


def kinetic_density(species, p, psi) -> tuple[np.ndarray, np.ndarray]:
    """(T_n [GeV/n], n [cm^-3 (GeV/n)^-1]) of a density per unit momentum ``psi``
    [kpc^-3 (GeV/c)^-1] (last axis momentum): ``n = A psi / beta`` (module docstring)."""
    p = np.asarray(p, dtype=float)
    t_n = kinematics.kinetic_energy(p, species.mass) / species.mass_number
    factor = species.mass_number / kinematics.beta(p, species.mass) / units.KPC_CM**3
    return t_n, np.asarray(psi, dtype=float) * factor


def emitters(model, process: str) -> list:
    """The species of ``model`` that emit in ``process``: nuclei (Z >= 1) for pi0, electrons
    and positrons for the others."""
    if process == "pi0":
        return [s for s in model.species if not s.is_lepton and s.charge >= 1]
    if process in ("inverse_compton", "bremsstrahlung", "synchrotron"):
        return [s for s in model.species if s.is_lepton]
    raise ValueError(f"emission process {process!r}: allowed {', '.join(PROCESSES)}")


def _rows(decomp, model, sp, states) -> tuple[np.ndarray, np.ndarray]:
    """(T grid, densities as (ncells, n_p)) of one species."""
    p = model.momentum.momentum(sp)
    t, n = kinetic_density(sp, p, states[sp.name])
    return t, n.reshape(-1, p.size)


def _field(decomp, fn) -> np.ndarray:
    """A field of position on the owned cells, flattened to (ncells,)."""
    coords = decomp.local_centers()
    return np.broadcast_to(np.asarray(fn(coords), dtype=float), decomp.box.c_shape).reshape(-1)


def _shaped(decomp, flat: np.ndarray) -> np.ndarray:
    return flat.reshape(decomp.box.c_shape + (flat.shape[-1],))


def pi0_emissivity(model, decomp, states, e_gamma, pi0_model: str = "pythia8") -> np.ndarray:
    """pi0-decay emissivity of every nucleus on H + He gas [photons cm^-3 s^-1 sr^-1 GeV^-1]."""
    e = np.asarray(e_gamma, dtype=float)
    ncells = decomp.box.ncells
    per_h = np.zeros((ncells, e.size))
    f_he = model.cfg.gas.f_he
    for sp in emitters(model, "pi0"):
        t, n = _rows(decomp, model, sp, states)
        k = pi0_kernel(e, t, (sp.charge, sp.mass_number), f_he, pi0_model)
        per_h += n @ k.T
    n_h = _field(decomp, model.target_density)
    return _shaped(decomp, per_h * n_h[:, None] / _FOUR_PI)


def _lepton_rows(decomp, model, states):
    """[(T grid, (ncells, n_p) densities)] of electrons + positrons, summed when they share
    a grid (the usual case)."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for sp in emitters(model, "bremsstrahlung"):
        t, n = _rows(decomp, model, sp, states)
        for i, (t0, n0) in enumerate(out):
            if t0.shape == t.shape and np.allclose(t0, t, rtol=1e-13, atol=0.0):
                out[i] = (t0, n0 + n)
                break
        else:
            out.append((t, n))
    return out


def bremsstrahlung_emissivity(model, decomp, states, e_gamma) -> np.ndarray:
    """Bremsstrahlung of electrons + positrons on neutral H, neutral He and ionised H
    [photons cm^-3 s^-1 sr^-1 GeV^-1]."""
    e = np.asarray(e_gamma, dtype=float)
    out = np.zeros((decomp.box.ncells, e.size))
    n_neutral = _field(decomp, model.gas_density)
    n_ion = _field(decomp, model.ionised_target_density)
    f_he = model.cfg.gas.f_he
    targets = [("HI", n_neutral), ("He", f_he * n_neutral), ("HII", n_ion)]
    for t, n in _lepton_rows(decomp, model, states):
        for target, dens in targets:
            if not np.any(dens > 0):
                continue
            k = bremsstrahlung_kernel(e, t, target)
            out += dens[:, None] * (n @ k.T)
    return _shaped(decomp, out / _FOUR_PI)


def _photon_grid(spectrum) -> np.ndarray:
    """Photon energies [eV] on which a unit-energy-density spectrum is sampled for the IC
    kernel: 1e-3 kT .. 40 kT for a Planck shape (121 nodes, the Wien tail is below 3e-13 of
    the peak there), the spectrum's own edges with <= 0.05 steps in ln eps otherwise."""
    from ..galaxy.radiation import PlanckSpectrum

    if isinstance(spectrum, PlanckSpectrum):
        kt = units.K_B_EV_K * spectrum.temperature_k
        return np.geomspace(1e-3 * kt, 40.0 * kt, 121)
    edges = np.asarray(spectrum.edges, dtype=float)
    pieces = [
        np.geomspace(lo, hi, max(8, math.ceil(math.log(hi / lo) / 0.05)) + 1)[:-1]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.append(np.concatenate(pieces), edges[-1])


def line_kernels(e_gamma, t_e, photon_energy_ev, n_sub: int = 4, index_ref: float = 3.0):
    """Monochromatic IC kernels L [cm^3 s^-1 per photon cm^-3], shape (n_gamma, n_T, n_eps):
    ``(1/4 pi) sum_j L[g, j, k] n_e(T_j)`` is the emissivity [photons s^-1 sr^-1 GeV^-1 cm^-3]
    of the electrons ``n_e`` [cm^-3 GeV^-1] on one photon per cm^3 of energy
    ``photon_energy_ev[k]`` (Jones 1968 kernel of :mod:`.inverse_compton`)."""
    e = np.ascontiguousarray(np.atleast_1d(e_gamma), dtype=np.float64)
    t_sub, w = log_grid_quadrature(t_e, n_sub, index_ref, name="IC t_e")
    gam = np.ascontiguousarray(1.0 + t_sub / units.M_E_GEV)
    eps = np.atleast_1d(np.asarray(photon_energy_ev, dtype=float)) * units.EV_GEV
    out = np.empty((e.size, eps.size, w.shape[1]))
    one = np.ones(1)
    buf = np.empty((e.size, gam.size))
    for k in range(eps.size):
        _jones_matrix(e, gam, eps[k : k + 1], one, buf)
        out[:, k, :] = buf @ w
    return out.transpose(0, 2, 1)


def _trapezoid_ln(eps: np.ndarray) -> np.ndarray:
    """Weights of the trapezoid rule in ln eps on the nodes ``eps``."""
    h = np.diff(np.log(eps))
    w = np.zeros(eps.size)
    w[:-1] += 0.5 * h
    w[1:] += 0.5 * h
    return w


def inverse_compton_emissivity(model, decomp, states, e_gamma, field=None) -> np.ndarray:
    """IC emissivity of electrons + positrons on the run's ISRF (or ``field``)
    [photons cm^-3 s^-1 sr^-1 GeV^-1]."""
    from ..galaxy.radiation import ComponentField, radiation_field

    cfg = model.cfg
    lo = cfg.losses
    if field is None:
        field = radiation_field(
            lo.isrf_model, lo.isrf_parameters, cfg.sun.r_kpc, photon_fields=lo.photon_fields_dicts()
        )
    e = np.asarray(e_gamma, dtype=float)
    out = np.zeros((decomp.box.ncells, e.size))
    leptons = _lepton_rows(decomp, model, states)
    if not leptons:
        return _shaped(decomp, out)
    r, z = galactic_rz(decomp.local_centers(), decomp.grid.geometry, cfg.sun.r_kpc)
    shape = decomp.box.c_shape
    r = np.broadcast_to(np.asarray(r, float), shape).reshape(-1)
    z = np.broadcast_to(np.asarray(z, float), shape).reshape(-1)
    if isinstance(field, ComponentField):
        for comp in field.components:
            u = np.asarray(comp.profile(r, z), dtype=float)
            if not np.any(u > 0):
                continue
            eps = _photon_grid(comp.spectrum)
            dn = comp.spectrum.density(eps) / eps  # photons cm^-3 eV^-1 per eV cm^-3
            for t, n in leptons:
                k = ic_kernel(e, t, eps, dn)
                out += u[:, None] * (n @ k.T)
        return _shaped(decomp, out / _FOUR_PI)
    # a tabulated field: lines at the table's photon energies, cell by cell
    eps = np.asarray(field.table.photon_energy, dtype=float)
    # photons per line: int (dn/d eps) eps d ln eps with dn/d eps = (du/d eps) / eps
    w_ln = _trapezoid_ln(eps)
    for t, n in leptons:
        lk = line_kernels(e, t, eps)
        for c0 in range(0, r.size, IC_TABLE_CHUNK):
            c1 = min(c0 + IC_TABLE_CHUNK, r.size)
            dens = field.spectral_density(r[c0:c1], z[c0:c1], eps)  # eV cm^-3 eV^-1
            lines = dens * w_ln[None, :]  # photons cm^-3 per line
            out[c0:c1] += np.einsum("gjk,ck,cj->cg", lk, lines, n[c0:c1], optimize=True)
    return _shaped(decomp, out / _FOUR_PI)


def synchrotron_emissivity(model, decomp, states, nu_hz) -> np.ndarray:
    """Synchrotron emissivity of electrons + positrons in B(x) [erg cm^-3 s^-1 Hz^-1 sr^-1],
    with the field the synchrotron losses use (regular plus random where the model has a
    random part: :meth:`GalaxyModel.synchrotron_field_parameters`)."""
    nu = np.asarray(nu_hz, dtype=float)
    out = np.zeros((decomp.box.ncells, nu.size))
    params = model.synchrotron_field_parameters()
    b = _field(decomp, lambda coords: model.field_strength(coords, params))
    for t, n in _lepton_rows(decomp, model, states):
        out += synchrotron_emissivity_cells(nu, t, n, b)
    return _shaped(decomp, out)
