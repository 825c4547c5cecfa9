"""A starburst nucleus (M 82 / NGC 253-like) from a run: calorimetry, escape and loss times,
gamma-ray and radio spectra.

The run is an ordinary steady state (``examples/starburst/``): a uniform nucleus of radius
R (gas ``hi_model = "uniform_region"`` or ``gas.model = "uniform"``, source
``uniform_region`` or ``uniform``) on a ``spherical1d`` grid (free escape at the grid
radius) or a ``cylindrical2d`` grid (a disc in a halo), with diffusion, a wind, losses and
protons, helium, primary electrons and secondary electrons and positrons.

Definitions (every rate is the model's own, from :class:`~galprop_py.models.galaxy.GalaxyModel`)
    * injected power of species s: ``L_inj = int dV int dp q(x, p) T(p)`` with the primary
      source q of the run (normalised like the states) and T the kinetic energy per
      particle;
    * pion-production power: ``L_pp = int dV int dp T lambda_pp(x, p) psi(x, p)`` with
      ``lambda_pp = n_H v (sigma_H + f_He sigma_He)``, the inelastic (catastrophic) loss rate
      the transport solves with.  The model removes a nucleus at its first inelastic
      collision, so its energy sink per collision is the whole T (inelasticity 1 in the
      model's bookkeeping; of it a fraction K_pi0 ~ 0.17 goes into pi0 and their photons,
      Aharonian & Atoyan 2000, A&A 362, 937, and about twice that into charged pions);
    * calorimetric fraction ``f_cal = L_pp / L_inj`` summed over the nuclei.  This is the
      energy fraction taken by inelastic collisions, the quantity whose leaky-box estimate
      is ``f_cal = 1 / (1 + t_pp / t_esc)`` with ``t_pp = 1 / lambda_pp`` (Lacki et al.
      2011, ApJ 734, 107, eq. 4, with their t_pp = 1 / (n sigma c eta) and eta = 1 here).
      The pi0 photons then carry ``L_gamma(pi0) <= f_cal L_inj / 3`` (each of the three
      pion charges gets at most a third of what the collisions take); the measured ratio
      ``L_gamma(pi0) / L_pp`` is the effective K_pi0.  (Taking 3 L_gamma(pi0) as "the
      pion power" would instead fold the cross-section model of the photons into f_cal.)

Times, at each energy, from the model's D, wind and gas in the source region (R the
source radius, R_b the free-escape radius, h and H the source and halo half-heights;
formulas from the steady diffusion equation with a uniform source, derived in
``examples/starburst/README.md``):

    * ``t_pp = 1 / <lambda_pp>_Q`` (source-weighted average);
    * ``t_diff``: the mean time a particle injected uniformly spends inside the source region
      (returns from outside included); spherical: ``t_diff = R^2 / (15 D) + R^2 / (3 D)
      (1 - R / R_b)`` (R^2 / 15 D for R = R_b, exact); cylindrical: ``1/t_diff = 1/t_z +
      1/t_r`` with the slab ``t_z = (h H - 2 h^2 / 3) / D`` and the infinite cylinder
      ``t_r = a^2 / (8 D) + a^2 / (2 D) ln(R_b / a)`` (an estimate);
    * ``t_adv``: the mean over the source of the time the wind ``u = v0 + g s`` (s = r or
      |z|) takes to carry a particle out of the source region: ``R / (4 v0)`` for a
      constant radial wind, ``R / (3 v)`` for a linear one ``u = v r / R``, ``h / (2 v0)``
      for a constant vertical wind;
    * ``t_ad = 3 / <div u>_Q``: adiabatic loss time (``R / v`` for the linear wind);
    * ``t_esc = 1 / (1/t_diff + 1/t_adv)``.

Luminosities ``L_E = 4 pi int eps dV`` [photons s^-1 GeV^-1] of the emissivities of
:mod:`galprop_py.emission.emissivity` on any energy grid, fluxes at a distance
``L / (4 pi d^2)``; units GeV, erg, s, cm, Hz, Jy, Mpc (:mod:`galprop_py.units`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from mpi4py import MPI

from .. import units
from ..emission import emissivity as em
from ..emission.skymap import integrate_power_law
from ..galaxy import sources as source_models
from ..physics import kinematics

#: the 4 pi or 2 pi that ``grid.cell_volumes`` leaves out
VOLUME_FACTOR = {"spherical1d": 4.0 * math.pi, "cylindrical2d": 2.0 * math.pi, "cartesian3d": 1.0}
GAMMA_PROCESSES = ("pi0", "inverse_compton", "bremsstrahlung")
M82_DISTANCE_MPC = 3.5  # the distance of the VERITAS paper (Acciari et al. 2009, Nature 462, 770)
_GEV_MYR_TO_ERG_S = units.GEV_ERG / units.MYR_S


def _sum(decomp, value):
    return decomp.comm.tompi4py().allreduce(value, op=MPI.SUM)


def cell_volumes_kpc3(decomp) -> np.ndarray:
    """Volumes of this rank's cells [kpc^3] with the 4 pi (spherical) or 2 pi (cylindrical)."""
    geo = decomp.grid.geometry
    if geo not in VOLUME_FACTOR:
        raise ValueError(
            f"grid.geometry = {geo!r}: a starburst needs a volume, allowed "
            f"{', '.join(map(repr, VOLUME_FACTOR))}"
        )
    return decomp.local_cell_volumes() * VOLUME_FACTOR[geo]


def _check_result(result) -> None:
    own = [b.name for b in result.config.species if b.normalize_to is not None]
    if own:
        raise ValueError(
            f"species.normalize_to is set for {', '.join(own)}: a starburst scales all species "
            "together (by their source abundances); remove normalize_to"
        )


def _kinetic(model, sp):
    p = model.momentum.momentum(sp)
    dp = np.diff(model.momentum.momentum_edges(sp))
    return p, kinematics.kinetic_energy(p, sp.mass), dp


def injected_power(result, name: str) -> np.ndarray:
    """Primary injection of species ``name`` per momentum cell [erg/s]: int dV q T dp."""
    _check_result(result)
    model, decomp = result.model, result.decomp
    sp = model._by_name[name]
    p, t, dp = _kinetic(model, sp)
    source = model.coefficients(sp).source
    if source is None:
        return np.zeros(p.size)
    q = source.evaluate(decomp.local_centers())
    vol = cell_volumes_kpc3(decomp)
    local = np.tensordot(vol, q, axes=(tuple(range(vol.ndim)),) * 2) * t * dp
    return _sum(decomp, local) * result.normalisation * _GEV_MYR_TO_ERG_S


def inelastic_rate(model, sp, coords) -> np.ndarray | None:
    """lambda_pp = n_H v (sigma_H + f_He sigma_He) [1/Myr] at ``coords`` (+ momentum axis):
    the gas-proportional terms of the species' catastrophic losses; None without them."""
    cat = model.coefficients(sp).catastrophic
    terms = [(prof, s) for prof, s in (cat.terms if cat else []) if prof == model.target_density]
    if not terms:
        return None
    return sum(np.asarray(prof(coords), float)[..., None] * s for prof, s in terms)


def pp_loss_power(result, name: str) -> np.ndarray:
    """Power removed by inelastic collisions per momentum cell [erg/s]: int dV T lambda psi dp."""
    model, decomp = result.model, result.decomp
    sp = model._by_name[name]
    p, t, dp = _kinetic(model, sp)
    lam = inelastic_rate(model, sp, decomp.local_centers())
    if lam is None:
        return np.zeros(p.size)
    vol = cell_volumes_kpc3(decomp)
    w = lam * np.asarray(result.states[name])
    local = np.tensordot(vol, w, axes=(tuple(range(vol.ndim)),) * 2) * t * dp
    return _sum(decomp, local) * _GEV_MYR_TO_ERG_S


def nuclei(model) -> list[str]:
    return [s.name for s in model.species if not s.is_lepton and s.charge >= 1]


@dataclass
class Calorimetry:
    """Injected and pion-production powers [erg/s] per nucleus, and f_cal = L_pp / L_inj."""

    l_inj_erg_s: dict[str, float]
    l_pp_erg_s: dict[str, float]

    @property
    def l_inj(self) -> float:
        return float(sum(self.l_inj_erg_s.values()))

    @property
    def l_pp(self) -> float:
        return float(sum(self.l_pp_erg_s.values()))

    @property
    def f_cal(self) -> float:
        return self.l_pp / self.l_inj if self.l_inj > 0 else float("nan")


def calorimetry(result, names=None) -> Calorimetry:
    """:class:`Calorimetry` of the nuclei of a run (or of ``names``)."""
    names = nuclei(result.model) if names is None else list(names)
    inj = {n: float(np.sum(injected_power(result, n))) for n in names}
    pp = {n: float(np.sum(pp_loss_power(result, n))) for n in names}
    return Calorimetry(inj, pp)


# --- the source region and the times -------------------------------------------------------
@dataclass
class Region:
    """The source region of a run [kpc]: radius, half-height (cylinder), free-escape radius
    and halo half-height of the grid."""

    geometry: str
    radius: float
    half_height: float | None
    boundary_radius: float
    halo_height: float | None


def source_region(cfg) -> Region:
    """The uniform source region of ``cfg`` (``source.profile`` 'uniform' or
    'uniform_region'); ValueError for other profiles."""
    s, g = cfg.source, cfg.grid
    if g.geometry not in ("spherical1d", "cylindrical2d"):
        raise ValueError(
            f"grid.geometry = {g.geometry!r}: the starburst times need 'spherical1d' or "
            "'cylindrical2d'"
        )
    halo = g.z_max_kpc if g.geometry == "cylindrical2d" else None
    if s.profile == "uniform":
        radius = min(s.r_max_kpc, g.r_max_kpc)
        return Region(g.geometry, radius, halo, g.r_max_kpc, halo)
    if s.profile == "uniform_region":
        p = source_models.SOURCES.get("uniform_region").parse(s.parameters, "source.parameters")
        radius = min(p.radius_kpc, s.r_max_kpc, g.r_max_kpc)
        if g.geometry == "spherical1d" or p.shape == "sphere":
            # a ball in 2D: its mean half-height over the area is 2R/3 (a slab estimate)
            h = radius if g.geometry == "spherical1d" else 2.0 * radius / 3.0
            return Region(g.geometry, radius, h if halo else None, g.r_max_kpc, halo)
        return Region(g.geometry, radius, min(p.half_height_kpc, halo), g.r_max_kpc, halo)
    raise ValueError(
        f"source.profile = {s.profile!r}: the starburst times need a uniform source region, "
        "allowed 'uniform', 'uniform_region'"
    )


def diffusion_time(region: Region, d) -> np.ndarray:
    """Mean escape time by diffusion of a uniform source [Myr] for D = ``d`` [kpc^2/Myr]."""
    d = np.asarray(d, float)
    a, rb = region.radius, region.boundary_radius
    if region.geometry == "spherical1d":
        return a * a / (15.0 * d) + a * a / (3.0 * d) * (1.0 - a / rb)
    h, hh = region.half_height, region.halo_height
    t_z = (h * hh - 2.0 * h * h / 3.0) / d
    t_r = a * a / (8.0 * d) + a * a / (2.0 * d) * math.log(rb / a)
    return 1.0 / (1.0 / t_z + 1.0 / t_r)


def _travel_time(s0, s_max, v0, g):
    """Time from s0 to s_max in u = v0 + g s [Myr] (v0 in kpc/Myr, g in 1/Myr)."""
    if g > 0:
        return np.log((v0 + g * s_max) / (v0 + g * s0)) / g
    return (s_max - s0) / v0


def advection_time(region: Region, v0: float, g: float) -> float:
    """Mean over a uniform source of the time the wind u = v0 + g s takes to carry a
    particle out of the source region (r = R, or |z| = h) [Myr]: the time it spends among
    the gas and sources (the wind brings nothing back); inf without a wind.  ``v0``
    [kpc/Myr], ``g`` [1/Myr]."""
    if v0 <= 0 and g <= 0:
        return math.inf
    x, w = np.polynomial.legendre.leggauss(200)
    s = 0.5 * (x + 1.0)  # s / size in (0, 1)
    if region.geometry == "spherical1d":
        a = region.radius
        if v0 <= 0:  # linear wind: <ln(R / r0)> = 1/3 over the ball
            return 1.0 / (3.0 * g)
        weight = 3.0 * s * s * 0.5 * w  # uniform in the ball
        return float(np.sum(weight * _travel_time(a * s, a, v0, g)))
    h = region.half_height
    if v0 <= 0:  # <ln(h / z0)> = 1 over 0 < z0 < h
        return 1.0 / g
    return float(np.sum(0.5 * w * _travel_time(h * s, h, v0, g)))


def adiabatic_time(region: Region, v0: float, g: float) -> float:
    """3 / <div u> over the source [Myr]: spherical <div u> = 3 v0 / R + 3 g, cylindrical
    g + v0 / h (the jump of u_z across the disc spread over the source)."""
    if region.geometry == "spherical1d":
        rate = v0 / region.radius + g
    else:
        rate = (g + v0 / region.half_height) / 3.0
    return 1.0 / rate if rate > 0 else math.inf


@dataclass
class EscapeTimes:
    """Times [Myr] of one species at its kinetic energies ``t_kin_gev`` (per particle)."""

    species: str
    t_kin_gev: np.ndarray
    t_pp_myr: np.ndarray
    t_diff_myr: np.ndarray
    t_adv_myr: float
    t_ad_myr: float
    region: Region
    injected_erg_s: np.ndarray = field(repr=False)  # per momentum cell, the weights

    @property
    def t_esc_myr(self) -> np.ndarray:
        return 1.0 / (1.0 / self.t_diff_myr + 1.0 / self.t_adv_myr)

    def f_leaky(self, adiabatic: bool = False) -> np.ndarray:
        """1 / (1 + t_pp / t_esc) per energy; ``adiabatic`` adds 1 / t_ad to the escape rate."""
        rate = 1.0 / self.t_esc_myr + (1.0 / self.t_ad_myr if adiabatic else 0.0)
        return 1.0 / (1.0 + self.t_pp_myr * rate)

    def f_leaky_mean(self, adiabatic: bool = False) -> float:
        """The leaky-box f weighted by the injected power."""
        w = self.injected_erg_s
        return float(np.sum(w * self.f_leaky(adiabatic)) / np.sum(w))


def escape_times(result, name: str = "H1") -> EscapeTimes:
    """:class:`EscapeTimes` of species ``name`` from the run's own D, wind and gas."""
    model, decomp, cfg = result.model, result.decomp, result.config
    region = source_region(cfg)
    sp = model._by_name[name]
    p, t, dp = _kinetic(model, sp)
    coords = decomp.local_centers()
    vol = cell_volumes_kpc3(decomp)
    q = model.source_profile(coords) * vol
    q_sum = _sum(decomp, float(np.sum(q)))
    lam = inelastic_rate(model, sp, coords)
    if lam is None:
        t_pp = np.full(p.size, math.inf)
    else:
        lam_q = _sum(decomp, np.tensordot(q, lam, axes=(tuple(range(q.ndim)),) * 2)) / q_sum
        t_pp = 1.0 / lam_q
    d = model.diffusion_law(sp, p)
    spatial = model.diffusion_spatial_factor()
    if spatial is not None:
        origin = [np.zeros(1) for _ in decomp.grid.axes]
        d = d * float(np.asarray(spatial(origin)).ravel()[0])
    v0 = units.velocity_to_internal(cfg.wind.v0_km_s)
    g = units.velocity_to_internal(cfg.wind.dv_dz_km_s_kpc)
    return EscapeTimes(
        name,
        t,
        t_pp,
        diffusion_time(region, d),
        advection_time(region, v0, g),
        adiabatic_time(region, v0, g),
        region,
        injected_power(result, name),
    )


# --- emission -------------------------------------------------------------------------------
def _luminosity(decomp, eps) -> np.ndarray:
    vol = cell_volumes_kpc3(decomp) * units.KPC_CM**3
    local = 4.0 * math.pi * np.tensordot(vol, eps, axes=(tuple(range(vol.ndim)),) * 2)
    return _sum(decomp, local)


def gamma_luminosities(result, e_gamma_gev, processes=GAMMA_PROCESSES) -> dict[str, np.ndarray]:
    """L_E = 4 pi int eps dV [photons s^-1 GeV^-1] of each process with emitters in the run
    (collective)."""
    model, decomp, states = result.model, result.decomp, result.states
    e = np.asarray(e_gamma_gev, float)
    out = {}
    for proc in processes:
        if not em.emitters(model, proc):
            continue
        if proc == "pi0":
            eps = em.pi0_emissivity(model, decomp, states, e, result.config.emission.pi0_model)
        elif proc == "inverse_compton":
            eps = em.inverse_compton_emissivity(model, decomp, states, e)
        elif proc == "bremsstrahlung":
            eps = em.bremsstrahlung_emissivity(model, decomp, states, e)
        else:
            raise ValueError(f"emission process {proc!r}: allowed {', '.join(GAMMA_PROCESSES)}")
        out[proc] = _luminosity(decomp, eps)
    return out


def synchrotron_luminosity(result, nu_hz) -> np.ndarray:
    """L_nu = 4 pi int eps_nu dV [erg s^-1 Hz^-1] (collective); zeros without leptons."""
    nu = np.asarray(nu_hz, float)
    if not em.emitters(result.model, "synchrotron"):
        return np.zeros(nu.size)
    eps = em.synchrotron_emissivity(result.model, result.decomp, result.states, nu)
    return _luminosity(result.decomp, eps)


def energy_luminosity_erg_s(e_gamma_gev, l_e) -> float:
    """int E L_E dE [erg/s] over the energy nodes (exact for power laws between nodes)."""
    e = np.asarray(e_gamma_gev, float)
    return integrate_power_law(e, e * np.asarray(l_e, float)) * units.GEV_ERG


def flux_at(luminosity, distance_mpc: float):
    """L / (4 pi d^2): photons cm^-2 s^-1 GeV^-1 for L_E, erg cm^-2 s^-1 Hz^-1 for L_nu."""
    d = distance_mpc * units.MPC_CM
    return np.asarray(luminosity, float) / (4.0 * math.pi * d * d)


# --- one summary ----------------------------------------------------------------------------
@dataclass
class StarburstSummary:
    """Everything a starburst run gives, scaled so that the nuclei inject ``l_cr_erg_s``."""

    scale: float
    calorimetry: Calorimetry  # already scaled
    times: EscapeTimes
    e_gamma_gev: np.ndarray
    gamma: dict[str, np.ndarray]  # L_E [photons s^-1 GeV^-1]
    nu_hz: np.ndarray
    l_nu: np.ndarray  # [erg s^-1 Hz^-1]
    distance_mpc: float
    lepton_injected_erg_s: float

    def l_gamma_erg_s(self, process: str, e_min_gev: float = 0.0) -> float:
        """The luminosity of ``process`` above ``e_min_gev`` [erg/s]."""
        sel = self.e_gamma_gev >= e_min_gev
        return energy_luminosity_erg_s(self.e_gamma_gev[sel], self.gamma[process][sel])

    def gamma_flux(self, process: str | None = None) -> np.ndarray:
        """dN/dE at the distance [photons cm^-2 s^-1 GeV^-1]; the sum of all without process."""
        lum = sum(self.gamma.values()) if process is None else self.gamma[process]
        return flux_at(lum, self.distance_mpc)

    def radio_jy(self) -> np.ndarray:
        return flux_at(self.l_nu, self.distance_mpc) / units.JY_CGS

    def lines(self) -> list[str]:
        c, t = self.calorimetry, self.times
        i10 = int(np.argmin(np.abs(np.log(t.t_kin_gev / 10.0))))
        out = [
            f"L_inj (nuclei) = {c.l_inj:.3e} erg/s, L_pp = {c.l_pp:.3e} erg/s, "
            f"f_cal = {c.f_cal:.3f} (leaky box {t.f_leaky_mean():.3f}, with adiabatic "
            f"losses {t.f_leaky_mean(True):.3f})",
            f"at T = {t.t_kin_gev[i10]:.3g} GeV: t_pp = {t.t_pp_myr[i10]:.3g} Myr, t_diff = "
            f"{t.t_diff_myr[i10]:.3g} Myr, t_adv = {t.t_adv_myr:.3g} Myr, t_ad = "
            f"{t.t_ad_myr:.3g} Myr, t_esc = {t.t_esc_myr[i10]:.3g} Myr",
            f"L_inj (primary electrons) = {self.lepton_injected_erg_s:.3e} erg/s",
        ]
        for proc in self.gamma:
            out.append(
                f"L_gamma({proc}) = {self.l_gamma_erg_s(proc):.3e} erg/s (all E), "
                f"{self.l_gamma_erg_s(proc, 0.1):.3e} erg/s (> 100 MeV)"
            )
        if "pi0" in self.gamma and c.l_pp > 0:
            ratio = self.l_gamma_erg_s("pi0") / c.l_pp
            out.append(f"L_gamma(pi0) / L_pp = {ratio:.3f} (budget: <= 1/3)")
        for nu, s in zip(self.nu_hz, self.radio_jy(), strict=True):
            out.append(f"S({nu / 1e9:.3g} GHz) = {s:.3g} Jy at {self.distance_mpc:g} Mpc")
        return out


def summarise(
    result,
    l_cr_erg_s: float | None = None,
    distance_mpc: float = M82_DISTANCE_MPC,
    e_gamma_gev=None,
    nu_hz=None,
) -> StarburstSummary:
    """Calorimetry, H1 times, gamma-ray and synchrotron luminosities of a run, all scaled by
    ``l_cr_erg_s / L_inj(nuclei)`` (the equations are linear; None: as the run is)."""
    if l_cr_erg_s is not None and not (l_cr_erg_s > 0 and math.isfinite(l_cr_erg_s)):
        raise ValueError(f"l_cr_erg_s = {l_cr_erg_s!r}: allowed a finite power > 0 erg/s")
    if not (distance_mpc > 0 and math.isfinite(distance_mpc)):
        raise ValueError(f"distance_mpc = {distance_mpc!r}: allowed a finite distance > 0 Mpc")
    cal = calorimetry(result)
    scale = 1.0 if l_cr_erg_s is None else l_cr_erg_s / cal.l_inj
    cal = Calorimetry(
        {k: v * scale for k, v in cal.l_inj_erg_s.items()},
        {k: v * scale for k, v in cal.l_pp_erg_s.items()},
    )
    e = np.geomspace(1e-2, 1e5, 57) if e_gamma_gev is None else np.asarray(e_gamma_gev, float)
    nu = np.geomspace(1e8, 1e11, 13) if nu_hz is None else np.asarray(nu_hz, float)
    gamma = {k: v * scale for k, v in gamma_luminosities(result, e).items()}
    l_nu = synchrotron_luminosity(result, nu) * scale
    leptons = [s.name for s in result.model.species if s.is_lepton]
    l_lep = sum(float(np.sum(injected_power(result, n))) for n in leptons) * scale
    times = escape_times(result, "H1" if "H1" in result.model._by_name else nuclei(result.model)[0])
    return StarburstSummary(scale, cal, times, e, gamma, nu, l_nu, distance_mpc, l_lep)
