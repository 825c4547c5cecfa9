"""Build grids and per-species transport coefficients from a :class:`~galprop_py.config.Config`.

This is the one place where config units become solver units (via :mod:`galprop_py.units`)
and where the physical ingredients (gas, sources, diffusion law, losses, cross sections) are
combined into :class:`~galprop_py.operators.base.SpeciesCoefficients`.

Diffusion law (GALPROP convention): D(R) = D0 beta^eta (R / R0)^delta, with optional breaks
above which the slope changes to the listed ``deltas_above`` (continuous at each break).
Reacceleration: D_pp = 4 p^2 v_A^2 / (3 delta (4 - delta^2) (4 - delta) D) (Seo & Ptuskin 1994).
Wind: u_z = sign(z) (v0 + dv/dz |z|) (radial for the spherical geometry).
"""

from __future__ import annotations

import numpy as np

from .. import units
from ..config import Config
from ..grid import MomentumGrid, SpatialGrid, make_spatial_grid
from ..operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from ..physics import cross_sections, energy_losses, injection, kinematics
from ..physics.species import Species, species_from_name
from . import gas, quasilinear_diffusion

REFERENCE_RIGIDITY_GV = 10.0  # where source abundances are defined


# --- grids -------------------------------------------------------------------------------------
def build_spatial_grid(cfg: Config) -> SpatialGrid:
    g = cfg.grid
    geo = g.geometry
    if geo == "slab1d":
        ext, cells = {"z": (-g.z_max_kpc, g.z_max_kpc)}, {"z": g.n_z}
    elif geo == "spherical1d":
        ext, cells = {"r": (0.0, g.r_max_kpc)}, {"r": g.n_r}
    elif geo == "cylindrical2d":
        ext = {"r": (0.0, g.r_max_kpc), "z": (-g.z_max_kpc, g.z_max_kpc)}
        cells = {"r": g.n_r, "z": g.n_z}
    else:
        ext = {
            "x": (-g.x_max_kpc, g.x_max_kpc),
            "y": (-g.y_max_kpc, g.y_max_kpc),
            "z": (-g.z_max_kpc, g.z_max_kpc),
        }
        cells = {"x": g.n_x, "y": g.n_y, "z": g.n_z}
    refinement = {"z": g.z_refinement} if "z" in ext else {}
    return make_spatial_grid(geo, ext, cells, g.boundaries, refinement)


def build_momentum_grid(cfg: Config) -> MomentumGrid:
    m = cfg.momentum
    return MomentumGrid.log_spaced(m.axis, m.min, m.max, m.n)


def ordered_species(cfg: Config) -> list[Species]:
    """Species of the config, heaviest first (parents are solved before their fragments)."""
    species = []
    for block in cfg.species:
        try:
            species.append(species_from_name(block.name))
        except ValueError as exc:
            raise ValueError(f"config key species.name = {block.name!r}: {exc}") from None
    return sorted(species, key=lambda s: (-s.mass_number, -abs(s.charge), s.name))


# --- geometry helpers -------------------------------------------------------------------------
def galactic_rz(coords, geometry: str, sun_r: float):
    """Galactocentric cylindrical (r, z) of grid coordinates, for gas and source profiles."""
    if geometry == "cylindrical2d":
        return coords[0], coords[1]
    if geometry == "cartesian3d":
        return np.hypot(coords[0], coords[1]), coords[2]
    if geometry == "slab1d":
        return np.full_like(np.asarray(coords[0], float), sun_r), coords[0]
    return coords[0], np.zeros_like(np.asarray(coords[0], float))  # spherical: radius, z = 0


def z_axis_index(geometry: str) -> int | None:
    return {"slab1d": 0, "cylindrical2d": 1, "cartesian3d": 2}.get(geometry)


def _cell_average_delta(z, edges):
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


class GalaxyModel:
    """Everything position-dependent of a config: gas, sources, wind, diffusion law."""

    def __init__(self, cfg: Config, grid: SpatialGrid, momentum: MomentumGrid):
        self.cfg = cfg
        self.grid = grid
        self.momentum = momentum
        self.species = ordered_species(cfg)
        self.blocks = {b.name: b for b in cfg.species}
        self._by_name = {s.name: s for s in self.species}

    # --- fields of position --------------------------------------------------------------------
    def gas_density(self, coords):
        """H nuclei in neutral gas [cm^-3]."""
        g = self.cfg.gas
        r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
        if g.model == "none":
            return np.zeros(np.broadcast_shapes(np.shape(r), np.shape(z)))
        if g.model == "uniform":
            if z_axis_index(self.grid.geometry) is None:
                return np.full(np.broadcast_shapes(np.shape(r), np.shape(z)), g.n_h_cm3)
            zz = np.broadcast_to(z, np.broadcast_shapes(np.shape(r), np.shape(z)))
            return np.where(np.abs(zz) <= g.disc_half_thickness_kpc, g.n_h_cm3, 0.0)
        return gas.n_h_nuclei(r, z)

    def field_direction(self):
        """Unit vector b(x) of the regular field in the grid's frame (a callable of coords).

        ``spiral``: b = sin(p) r_hat + cos(p) phi_hat in the disc plane (p the pitch angle),
        i.e. (sin p, cos p, 0) in the (r, phi, z) frame of cylindrical grids and rotated with
        the azimuth on Cartesian grids (b = x_hat on the z axis itself); on a slab it is
        horizontal (b_z = 0)."""
        d = self.cfg.diffusion
        geo = self.grid.geometry
        if d.field_model == "uniform":
            b = np.asarray(d.field_direction, float)
            b = b / np.linalg.norm(b)
            return lambda coords, b=b: tuple(b)
        if geo == "spherical1d":
            raise ValueError(
                "config key diffusion.field_model = 'spiral': a disc field needs a cylindrical, "
                "Cartesian or slab grid, not spherical1d"
            )
        sp, cp = np.sin(np.radians(d.pitch_angle_deg)), np.cos(np.radians(d.pitch_angle_deg))
        if geo in ("cylindrical2d", "slab1d"):
            return lambda coords: (sp, cp, 0.0)

        def cartesian(coords):
            x, y = np.broadcast_arrays(np.asarray(coords[0], float), np.asarray(coords[1], float))
            r = np.hypot(x, y)
            safe = np.where(r > 0, r, 1.0)
            cos_phi = np.where(r > 0, x / safe, 1.0)
            sin_phi = np.where(r > 0, y / safe, 0.0)
            bx = sp * cos_phi - cp * sin_phi
            by = sp * sin_phi + cp * cos_phi
            return bx, by, np.zeros_like(bx)

        return cartesian

    def ionised_gas_profile(self, coords):
        """n_e / n_e(mid-plane): exp(-|z| / h) (warm ionised medium; Gaensler et al. 2008
        find h = 1.8 kpc, Cordes & Lazio 2002 about 1 kpc), 1 without a z axis."""
        return self._exponential_disc(coords, 1.0, None, self.cfg.losses.n_e_scale_height_kpc)

    def source_time_factor(self, t: float) -> float:
        s = self.cfg.source
        if s.time_profile == "window":
            return 1.0 if s.t_on_myr <= t < s.t_off_myr else 0.0
        if s.time_profile == "burst":
            return 0.0
        return 1.0

    def source_time_integral(self, t0: float, t1: float) -> float:
        s = self.cfg.source
        if s.time_profile == "window":
            return max(0.0, min(t1, s.t_off_myr) - max(t0, s.t_on_myr))
        if s.time_profile == "burst":
            return 0.0
        return t1 - t0

    def source_profile(self, coords):
        s = self.cfg.source
        r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
        shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
        if s.profile == "uniform":
            return np.ones(shape)
        if s.profile == "gaussian":
            d2 = sum(np.asarray(c, float) ** 2 for c in coords)
            return np.broadcast_to(np.exp(-0.5 * d2 / s.sigma_kpc**2), shape)
        zi = z_axis_index(self.grid.geometry)
        if s.profile == "thin_disc":
            if zi is None:
                raise ValueError("source.profile = 'thin_disc' needs a grid with a z axis")
            edges = self.grid.axes[zi].edges
            return np.broadcast_to(_cell_average_delta(np.asarray(z, float), edges), shape)
        prof = injection.pulsar_snr_profile(r, z, z_scale=s.z_scale_kpc, r_max=s.r_max_kpc)
        return np.broadcast_to(prof, shape)

    def wind(self, axis: int, coords):
        w = self.cfg.wind
        v0 = units.velocity_to_internal(w.v0_km_s)
        dvdz = units.velocity_to_internal(w.dv_dz_km_s_kpc)
        geo = self.grid.geometry
        target = 0 if geo == "spherical1d" else z_axis_index(geo)
        if axis != target:
            return 0.0
        x = np.asarray(coords[axis], float)
        return np.sign(x) * (v0 + dvdz * np.abs(x))

    # --- momentum laws ----------------------------------------------------------------------
    def diffusion_law(self, species: Species, p: np.ndarray) -> np.ndarray:
        """D(p) [kpc^2/Myr] of the config's rigidity law."""
        d = self.cfg.diffusion
        rig = kinematics.rigidity(p, species.charge)
        beta = kinematics.beta(p, species.mass)
        log_d = np.log(d.d0_cm2_s) + d.delta * np.log(rig / d.r0_gv)
        slope = d.delta
        for rb, new in zip(d.breaks_gv, d.deltas_above, strict=True):
            log_d = log_d + (new - slope) * np.log(np.maximum(rig / rb, 1.0))
            slope = new
        return units.diffusion_to_internal(beta**d.eta * np.exp(log_d))

    def coefficients(self, species: Species) -> SpeciesCoefficients:
        cfg = self.cfg
        p = self.momentum.momentum(species)
        pe = self.momentum.momentum_edges(species)
        d_centres = self.diffusion_law(species, p)
        tensor = DiffusionTensor(kappa_par=d_centres)
        if cfg.diffusion.model == "anisotropic":
            tensor = DiffusionTensor(
                kappa_par=d_centres,
                kappa_perp=cfg.diffusion.kperp_over_kpar * d_centres,
                field_direction=self.field_direction(),
            )
        elif cfg.diffusion.model == "quasilinear":
            tensor = quasilinear_diffusion.diffusion_tensor(cfg, species, p, self.field_direction())
        coeffs = SpeciesCoefficients(species, p, pe, diffusion=tensor)
        if cfg.wind.v0_km_s > 0 or cfg.wind.dv_dz_km_s_kpc > 0:
            coeffs.wind = self.wind
        va = units.velocity_to_internal(cfg.reacceleration.v_alfven_km_s)
        if va > 0:
            coeffs.momentum_diffusion = SeparableField().add(
                None, self.momentum_diffusion(species, p, pe, tensor.kappa_par, va)
            )
        coeffs.energy_loss = self._energy_losses(species, pe)
        coeffs.catastrophic = self._catastrophic(species, p)
        coeffs.source = self._primary_source(species, p)
        if cfg.source.time_profile != "constant":
            coeffs.source_time = self.source_time_factor
            coeffs.source_time_integral = self.source_time_integral
        return coeffs

    def momentum_diffusion(self, species, p, pe, kappa_centres, va) -> np.ndarray:
        """D_pp [(GeV/c)^2/Myr] at the momentum edges, Seo & Ptuskin (1994):
        D_pp D = 4 p^2 v_A^2 / (3 delta (4 - delta^2) (4 - delta)), with D the scalar law and
        its delta, or, for quasilinear diffusion, kappa_par interpolated to the edges and
        delta = d ln kappa_par / d ln p there (clipped to [0.05, 1.9], inside 0 < delta < 2
        where the formula holds)."""
        if self.cfg.diffusion.model != "quasilinear":
            delta = self.cfg.diffusion.delta
            d_edges = self.diffusion_law(species, pe)
        else:
            lnp, lnk = np.log(p), np.log(kappa_centres)
            d_edges = np.exp(np.interp(np.log(pe), lnp, lnk))
            slope = np.gradient(lnk, lnp)
            delta = np.clip(np.interp(np.log(pe), lnp, slope), 0.05, 1.9)
        w = 4.0 / (3.0 * delta * (4.0 - delta**2) * (4.0 - delta))
        return w * pe**2 * va**2 / d_edges

    def _energy_losses(self, species: Species, pe: np.ndarray) -> SeparableField | None:
        lo = self.cfg.losses
        field = SeparableField()
        beta = kinematics.beta(pe, species.mass)
        to_pdot = units.MYR_S / beta  # dT/dt [GeV/s] -> dp/dt [GeV/c per Myr]
        if species.is_lepton:
            return self._lepton_losses(pe, to_pdot)
        if lo.ionisation and self.cfg.gas.model != "none":
            rate = energy_losses.nucleus_ionisation_loss(
                pe, species.mass, species.charge, species.mass_number, 1.0, self.cfg.gas.f_he
            )
            field.add(self.gas_density, rate * to_pdot)
        if lo.coulomb and lo.n_e_cm3 > 0:
            # linear in n_e up to the Coulomb logarithm, evaluated at the mid-plane density
            rate = energy_losses.nucleus_coulomb_loss(
                pe, species.mass, species.charge, lo.n_e_cm3, lo.t_e_k
            )
            field.add(self.ionised_gas_profile, rate * to_pdot)
        return field or None

    def _lepton_losses(self, pe: np.ndarray, to_pdot: np.ndarray) -> SeparableField | None:
        """Electron/positron losses: ionisation and bremsstrahlung on the neutral gas,
        synchrotron in B(x)^2, inverse Compton (Klein-Nishina) on each photon field."""
        lo = self.cfg.losses
        f_he = self.cfg.gas.f_he
        field = SeparableField()
        if self.cfg.gas.model != "none":
            gas_rate = energy_losses.electron_bremsstrahlung_loss(pe, 1.0, f_he)
            if lo.ionisation:
                gas_rate = gas_rate + energy_losses.electron_ionisation_loss(pe, 1.0, f_he)
            field.add(self.gas_density, gas_rate * to_pdot)
        if lo.b_field_ug > 0:
            sync = energy_losses.synchrotron_loss(pe, 1.0)  # at 1 muG, scales as B^2
            field.add(self.magnetic_energy_profile, sync * to_pdot)
        for ph in lo.photon_fields:
            if ph.energy_density_ev_cm3 <= 0:
                continue
            ic = energy_losses.inverse_compton_kn_loss(pe, [ph.temperature_k], [1.0])
            field.add(self._photon_profile(ph), ic * to_pdot)
        return field or None

    def _exponential_disc(self, coords, value, r_scale, z_scale):
        """value * exp(-(r - r_sun)/r_scale - |z|/z_scale) (a None scale is no fall-off)."""
        r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
        shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
        arg = np.zeros(np.broadcast_shapes(np.shape(r), np.shape(z)))
        if r_scale is not None:
            arg = arg - (np.asarray(r, float) - self.cfg.sun.r_kpc) / r_scale
        if z_scale is not None and z_axis_index(self.grid.geometry) is not None:
            arg = arg - np.abs(np.asarray(z, float)) / z_scale
        return np.broadcast_to(value * np.exp(arg), shape)

    def magnetic_energy_profile(self, coords):
        """(B / muG)^2 with B = B_sun exp(-(r - r_sun)/R_B - |z|/z_B) (exponential disc, as
        in Strong, Moskalenko & Reimer 2000, ApJ 537, 763)."""
        lo = self.cfg.losses
        b = self._exponential_disc(
            coords, lo.b_field_ug, lo.b_field_scale_radius_kpc, lo.b_field_scale_height_kpc
        )
        return b * b

    def _photon_profile(self, ph):
        def profile(coords):
            return self._exponential_disc(
                coords, ph.energy_density_ev_cm3, ph.scale_radius_kpc, ph.scale_height_kpc
            )

        return profile

    def _catastrophic(self, species: Species, p: np.ndarray) -> SeparableField | None:
        """Spallation on the gas (n v sigma) and radioactive decay 1/(gamma tau) [1/Myr]."""
        field = SeparableField()
        if not species.is_lepton and species.charge > 0:
            tau = cross_sections.mean_life_myr(species.charge, species.mass_number)
            if tau is not None:
                field.add(None, 1.0 / (kinematics.gamma(p, species.mass) * tau))
        lo = self.cfg.losses
        if not lo.spallation or self.cfg.gas.model == "none" or species.is_lepton:
            return field or None
        block = self.blocks.get(species.name)
        t_n = kinematics.kinetic_energy(p, species.mass) / species.mass_number
        he = self._per_h_atom_factor()
        v = kinematics.velocity_cm_s(p, species.mass)
        if block is not None and block.sigma_inelastic_mb is not None:
            rate = v * block.sigma_inelastic_mb * units.MB_CM2 * he
        elif species.charge == 1 and species.mass_number == 1:
            sigma = cross_sections.sigma_pp_inelastic_mb(t_n * species.mass_number)
            rate = v * sigma * units.MB_CM2 * he
        else:
            rate = cross_sections.spallation_rate_per_s(
                t_n, species.charge, species.mass_number, 1.0, self.cfg.gas.f_he
            )
        return field.add(self.gas_density, rate * units.MYR_S)

    def _primary_source(self, species: Species, p: np.ndarray) -> SeparableField | None:
        block = self.blocks.get(species.name)
        if block is None or block.abundance == 0:
            return None
        inj = block.injection
        spectrum = injection.broken_power_law(
            p,
            species.charge,
            inj.breaks_gv,
            inj.indices,
            reference_rigidity=REFERENCE_RIGIDITY_GV,
            smoothness=inj.smoothness,
            cutoff_rigidity=inj.cutoff_gv,
        )
        return SeparableField().add(self.source_profile, block.abundance * spectrum)

    def _per_h_atom_factor(self) -> float:
        """Targets per H atom weighted by cross section: 1 + K_He f_He (helium scaled
        geometrically, see physics.cross_sections.helium_target_factor)."""
        f_he = self.cfg.gas.f_he
        return cross_sections.helium_target_factor(f_he) * (1.0 + f_he)

    # --- secondaries --------------------------------------------------------------------------
    def production_cross_sections(self, species: Species) -> dict[str, np.ndarray]:
        """{parent name: sigma [mb] on the common T/n grid} for the parents of ``species``."""
        block = self.blocks.get(species.name)
        out = {}
        t_n = self.momentum.kinetic_per_nucleon(species)
        explicit = block.parents if block is not None else {}
        for parent in self.species:
            if parent.mass_number <= species.mass_number or parent.is_lepton:
                continue
            if parent.name in explicit:
                out[parent.name] = np.full(t_n.shape, float(explicit[parent.name]))
            elif not explicit and species.charge > 0 and not species.is_lepton:
                sig = cross_sections.sigma_fragmentation_h_mb(
                    t_n, (parent.charge, parent.mass_number), (species.charge, species.mass_number)
                )
                if np.any(sig > 0):
                    out[parent.name] = sig
        return out

    def secondary_source(self, species: Species, parents: dict, decomp) -> np.ndarray | None:
        """Production rate of ``species`` from solved parents' rank-local densities."""
        sigmas = self.production_cross_sections(species)
        if not sigmas:
            return None
        if self.momentum.axis != "kinetic_energy_per_nucleon":
            raise ValueError(
                "momentum.axis = 'rigidity' cannot be used with secondary production; use "
                "'kinetic_energy_per_nucleon' (fragments keep the kinetic energy per nucleon)"
            )
        coords = decomp.local_centers()
        n_gas = np.asarray(self.gas_density(coords), float)[..., None]
        he = self._per_h_atom_factor()
        total = 0.0
        for name, sigma in sigmas.items():
            parent = self._by_name[name]
            if name not in parents:
                continue
            v = kinematics.velocity_cm_s(self.momentum.momentum(parent), parent.mass)
            rate = v * sigma * units.MB_CM2 * he * units.MYR_S  # per Myr per (H cm^-3)
            ratio = parent.mass_number / species.mass_number
            total = total + n_gas * rate * ratio * parents[name]
        return None if np.isscalar(total) else total
