"""Build grids and per-species transport coefficients from a :class:`~galprop_py.config.Config`.

This is the one place where config units become solver units (via :mod:`galprop_py.units`)
and where the physical ingredients (gas, sources, diffusion law, losses, cross sections) are
combined into :class:`~galprop_py.operators.base.SpeciesCoefficients`.

Diffusion law (GALPROP convention): D(x, R) = s(x) D0 beta^eta (R / R0)^delta, with optional
breaks above which the slope changes to the listed ``deltas_above`` (continuous at each break)
and the spatial factor s(x) of ``diffusion.spatial``; reacceleration D_pp D = w(delta) p^2 v_A^2
of ``reacceleration.model`` (default Seo & Ptuskin 1994); both in
:mod:`galprop_py.galaxy.transport`.
Magnetic field strength and direction by name: :mod:`galprop_py.galaxy.magnetic`.
Wind: u_z = sign(z) (v0 + dv/dz |z|) (radial for the spherical geometry).

Random field.  Synchrotron losses take B_total^2 = B_reg^2 + B_rand^2 of models that have a
random component (``losses.synchrotron_field``, :meth:`GalaxyModel.synchrotron_field_parameters`).
The quasilinear tensor (``diffusion.model = "quasilinear"``) is NOT fed with the model's
delta B / B per cell: its kappa_par(p), kappa_perp(p) are tabulated once for one
``[diffusion.turbulence]`` (delta_b_over_b, b_field_ug) and the tensor is a momentum table
times one spatial factor s(x) shared by both.  A delta B / B(x) changes kappa_par and
kappa_perp by different, non-power-law factors (resonance broadening, the outer scale, NLGC's
kappa_perp ~ kappa_par^(1/3)), so it is not one s(x); it would need a tensor tabulated per
cell (or on a delta B / B grid and interpolated), which DiffusionTensor does not hold.
For the scalar and anisotropic models ``diffusion.spatial = "random_field"`` takes the
delta B / B of the field model per cell as one factor s(x) (lambda_par ~ r_g^(2-q) (B0/dB)^2
at fixed rigidity, :mod:`galprop_py.galaxy.transport`), shared by kappa_par and kappa_perp.
"""

from __future__ import annotations

import numpy as np

from .. import units
from ..config import Config
from ..galaxy import gas, magnetic, sources, transport
from ..grid import MomentumGrid, SpatialGrid, make_spatial_grid
from ..network.build import build_network
from ..operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from ..operators.production import SecondaryProduction
from ..physics import energy_losses, injection, kinematics
from ..physics.species import Species
from . import quasilinear_diffusion

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
    """Species of the config in solve order: every species after all its parents (the
    network's order, :func:`galprop_py.network.build.build_network`)."""
    from ..network.build import build_network

    return build_network(cfg).species


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


#: cell average of delta(z) on an axis with the given cell edges (the ``thin_disc`` source;
#: it lives in :mod:`galprop_py.galaxy.sources`)
_cell_average_delta = sources.cell_average_delta


def _xy_context(coords, geometry: str) -> dict:
    """x, y [kpc] of Cartesian grids, for models that take them (3D tables)."""
    return {"x": coords[0], "y": coords[1]} if geometry == "cartesian3d" else {}


def _memoised_on_coords(function, size: int = 16):
    """``function(coords)`` remembered by the coordinate values (a digest of each array's
    shape and bytes), for 3D field directions: the diffusion operator asks for b on the same
    faces once per tensor component and per species, and a JF12 evaluation costs ~30 times
    the digest.  The arrays returned are read-only (shared between calls)."""
    import hashlib

    cache: dict = {}

    def remembered(coords):
        digest = hashlib.blake2b(digest_size=16)
        for c in coords:
            a = np.ascontiguousarray(c, dtype=float)
            digest.update(repr(a.shape).encode())
            digest.update(a.tobytes())
        key = digest.digest()
        hit = cache.get(key)
        if hit is None:
            hit = tuple(np.asarray(v, float) for v in function(coords))
            for v in hit:
                v.setflags(write=False)
            if len(cache) >= size:
                cache.pop(next(iter(cache)))
            cache[key] = hit
        return hit

    return remembered


class GalaxyModel:
    """Everything position-dependent of a config: gas, sources, wind, diffusion law."""

    def __init__(self, cfg: Config, grid: SpatialGrid, momentum: MomentumGrid):
        self.cfg = cfg
        self.grid = grid
        self.momentum = momentum
        self.network = build_network(cfg)
        self.species = self.network.species
        self.blocks = self.network.blocks
        self._by_name = {s.name: s for s in self.species}
        self.production = SecondaryProduction(self, self.network)

    # --- fields of position --------------------------------------------------------------------
    def gas_density(self, coords):
        """H nuclei in neutral gas [cm^-3]: n_HI + 2 n_H2 of ``gas.hi_model`` and
        ``gas.h2_model`` (:mod:`galprop_py.galaxy.gas`) for ``gas.model = "analytic"``;
        ``gas.n_h_cm3`` within ``|z| <= gas.disc_half_thickness_kpc`` for "uniform"; 0 for
        "none"."""
        g = self.cfg.gas
        r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
        if g.model == "none":
            return np.zeros(np.broadcast_shapes(np.shape(r), np.shape(z)))
        if g.model == "uniform":
            if z_axis_index(self.grid.geometry) is None:
                return np.full(np.broadcast_shapes(np.shape(r), np.shape(z)), g.n_h_cm3)
            zz = np.broadcast_to(z, np.broadcast_shapes(np.shape(r), np.shape(z)))
            return np.where(np.abs(zz) <= g.disc_half_thickness_kpc, g.n_h_cm3, 0.0)
        context = _xy_context(coords, self.grid.geometry)
        context["x_co"] = gas.x_co_law(g.x_co, g.x_co_cm2_k_km_s)
        n_hi = gas.HI.get(g.hi_model)(r, z, g.hi_parameters, **context)
        n_h2 = gas.H2.get(g.h2_model)(r, z, g.h2_parameters, **context)
        return n_hi + 2.0 * n_h2

    def ionised_target_density(self, coords):
        """Ionised hydrogen n_HII [cm^-3] of ``gas.hii_model`` (:mod:`galprop_py.galaxy.gas`),
        0 without one: a spallation target (and, with an H II model, the Coulomb-loss n_e)."""
        g = self.cfg.gas
        shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
        if g.hii_model == "none":
            return np.zeros(shape)
        r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
        model = gas.HII.get(g.hii_model)
        n = model(r, z, g.hii_parameters, **_xy_context(coords, self.grid.geometry))
        return np.broadcast_to(n, shape)

    def field_direction(self):
        """Unit vector b(x) of the regular field in the grid's frame (a callable of coords):
        ``diffusion.field_model`` of :mod:`galprop_py.galaxy.magnetic` (``uniform``,
        ``spiral``: b = sin(p) r_hat + cos(p) phi_hat in the disc plane, rotated with the
        azimuth on Cartesian grids, horizontal on a slab; Pshirkov et al. 2011 on 3D grids)."""
        cached = getattr(self, "_field_direction", None)
        if cached is not None:
            return cached
        d = self.cfg.diffusion
        direction = magnetic.direction_field(
            d.field_model, d.field_model_parameters(), self.grid.geometry
        )
        if self.grid.geometry == "cartesian3d" and d.field_model != "uniform":
            direction = _memoised_on_coords(direction)
        self._field_direction = direction
        return direction

    def field_strength(self, coords, parameters=None):
        """|B| [muG] of ``losses.b_field_model`` (:mod:`galprop_py.galaxy.magnetic`) with its
        configured parameters, or with ``parameters`` (:meth:`synchrotron_field_parameters`)."""
        lo = self.cfg.losses
        r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
        shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
        context = {"sun_r_kpc": self.cfg.sun.r_kpc, **_xy_context(coords, self.grid.geometry)}
        params = lo.b_field_model_parameters() if parameters is None else parameters
        b = magnetic.STRENGTH.get(lo.b_field_model)(r, z, params, **context)
        return np.broadcast_to(b, shape)

    def synchrotron_field_parameters(self):
        """Parameters of ``losses.b_field_model`` for the synchrotron losses.

        Synchrotron losses go with the energy density of the whole field, B_total^2 = B_reg^2
        + B_rand^2 (the pitch-angle-averaged rate of a particle in a field with a random part,
        e.g. Jansson & Farrar 2012b, whose synchrotron maps use all components).  With
        ``losses.synchrotron_field = "total"`` (default) models with a random component take
        ``component = "total"``: JF12 (1 + beta) B_reg^2 + B_rand^2 (regular, striated and
        random, :mod:`galprop_py.galaxy.magnetic_jf12`), a user table B_reg^2 + B_random^2
        where it has a ``B_random`` dataset (:mod:`galprop_py.galaxy.magnetic_table`); models
        without a ``component`` (exponential_disc, uniform, Pshirkov 2011) are used as they
        are.  ``"b_field_model"``: the configured component."""
        lo = self.cfg.losses
        params = lo.b_field_model_parameters()
        if lo.synchrotron_field != "total" or "component" not in type(params).model_fields:
            return params
        if lo.b_field_model == "table":
            from ..galaxy import magnetic_table

            if magnetic_table.load_field_table(params.path).random is None:
                return params
        return params.model_copy(update={"component": "total"})

    def sun_coords(self) -> list[np.ndarray]:
        """Grid coordinates of the Sun (sun.r_kpc, azimuth 0, sun.z_kpc), one point."""
        s = self.cfg.sun
        point = {
            "slab1d": (s.z_kpc,),
            "spherical1d": (s.r_kpc,),
            "cylindrical2d": (s.r_kpc, s.z_kpc),
            "cartesian3d": (s.r_kpc, 0.0, s.z_kpc),
        }[self.grid.geometry]
        return [np.array([c], float) for c in point]

    def field_strength_at_sun(self) -> float:
        """|B| [muG] of ``losses.b_field_model`` at the Sun."""
        return float(self.field_strength(self.sun_coords())[0])

    def ionised_gas_profile(self, coords):
        """n_e / losses.n_e_cm3 (the Coulomb losses are evaluated at losses.n_e_cm3 and scaled
        by this): n_HII of ``gas.hii_model`` / n_e_cm3 where an H II model is configured;
        otherwise exp(-|z| / h) with h = losses.n_e_scale_height_kpc (warm ionised medium;
        Gaensler et al. 2008 find h = 1.8 kpc, Cordes & Lazio 2002 about 1 kpc), 1 without a
        z axis."""
        lo = self.cfg.losses
        if self.cfg.gas.hii_model != "none" and lo.n_e_cm3 > 0:
            return self.ionised_target_density(coords) / lo.n_e_cm3
        return self._exponential_disc(coords, 1.0, None, lo.n_e_scale_height_kpc)

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
        """Relative source density of ``source.profile`` (a model of
        :mod:`galprop_py.galaxy.sources` with ``[source.parameters]``), zero beyond
        ``source.r_max_kpc`` (galactocentric cylindrical radius; the radius on spherical
        grids, the Sun's radius on a slab)."""
        s = self.cfg.source
        geo = self.grid.geometry
        r, z = galactic_rz(coords, geo, self.cfg.sun.r_kpc)
        shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
        params = sources.block_parameters(
            s.profile, s.parameters, z_scale_kpc=s.z_scale_kpc, sigma_kpc=s.sigma_kpc
        )
        zi = z_axis_index(geo)
        context = {"coords": coords, "z_edges": None if zi is None else self.grid.axes[zi].edges}
        context.update(_xy_context(coords, geo))
        prof = sources.SOURCES.get(s.profile)(r, z, params, **context)
        r_arr = np.broadcast_to(np.asarray(r, float), np.broadcast_shapes(np.shape(r), prof.shape))
        return np.broadcast_to(np.where(r_arr > s.r_max_kpc, 0.0, prof), shape)

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
        """D(p) [kpc^2/Myr] of the config's rigidity law
        (:func:`galprop_py.galaxy.transport.rigidity_power_law`), where s(x) = 1."""
        d = self.cfg.diffusion
        rig = kinematics.rigidity(p, species.charge)
        beta = kinematics.beta(p, species.mass)
        law = transport.rigidity_power_law(
            rig, beta, d.d0_cm2_s, d.r0_gv, d.delta, d.eta, d.breaks_gv, d.deltas_above
        )
        return units.diffusion_to_internal(law)

    def diffusion_spatial_factor(self):
        """s(x) of ``diffusion.spatial`` (:mod:`galprop_py.galaxy.transport`) as a profile of
        coords, None for ``uniform``: D(x, p) = s(x) D(p)."""
        d = self.cfg.diffusion
        if d.spatial == "uniform":
            return None
        geo = self.grid.geometry
        model = transport.SPATIAL.get(d.spatial)
        params = d.spatial_model_parameters()
        zi = z_axis_index(geo)
        context = {"z_edges": None if zi is None else self.grid.axes[zi].edges}
        if d.spatial == "field_strength":
            b_sun = self.field_strength_at_sun()
            if not b_sun > 0:
                raise ValueError(
                    "diffusion.spatial = 'field_strength' needs a field at the Sun; "
                    f"losses.b_field_model = {self.cfg.losses.b_field_model!r} gives {b_sun}"
                )
            context.update(field_strength=self.field_strength, b_sun_ug=b_sun)
        elif d.spatial == "random_field":
            context.update(self._random_field_context())

        def profile(coords):
            r, z = galactic_rz(coords, geo, self.cfg.sun.r_kpc)
            shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
            return np.broadcast_to(model(r, z, params, coords=coords, **context), shape)

        profile(self.sun_coords())  # a grid the law cannot use is an error now
        return profile

    def _random_field_context(self) -> dict:
        """Regular and random strengths [muG] of ``losses.b_field_model`` (callables of
        coords) and their values at the Sun, for ``diffusion.spatial = "random_field"``."""
        key = "diffusion.spatial = 'random_field'"  # (with "quasilinear": refused by the config)
        lo = self.cfg.losses
        regular, random = magnetic.regular_and_random_parameters(
            lo.b_field_model, lo.b_field_model_parameters(), key
        )
        sun = self.sun_coords()
        at_sun = (
            float(self.field_strength(sun, regular)[0]),
            float(self.field_strength(sun, random)[0]),
        )
        if not min(at_sun) > 0:
            raise ValueError(
                f"{key} needs a regular and a random field at the Sun; losses.b_field_model = "
                f"{lo.b_field_model!r} gives B0 = {at_sun[0]:g}, dB = {at_sun[1]:g} muG"
            )

        def strengths(coords):
            return self.field_strength(coords, regular), self.field_strength(coords, random)

        if self.grid.geometry == "cartesian3d":  # asked for once per tensor component
            strengths = _memoised_on_coords(strengths)
        return {
            "regular_strength": lambda coords: strengths(coords)[0],
            "random_strength": lambda coords: strengths(coords)[1],
            "sun_strengths": at_sun,
        }

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
        spatial = self.diffusion_spatial_factor()
        tensor.spatial_factor = spatial
        coeffs = SpeciesCoefficients(species, p, pe, diffusion=tensor)
        if cfg.wind.v0_km_s > 0 or cfg.wind.dv_dz_km_s_kpc > 0:
            coeffs.wind = self.wind
        va = units.velocity_to_internal(cfg.reacceleration.v_alfven_km_s)
        if va > 0:
            # D_pp ~ 1 / D(x, p): the local D carries 1 / s(x)
            inverse = None if spatial is None else (lambda coords: 1.0 / spatial(coords))
            coeffs.momentum_diffusion = SeparableField().add(
                inverse, self.momentum_diffusion(species, p, pe, tensor.kappa_par, va)
            )
        coeffs.energy_loss = self._energy_losses(species, pe)
        coeffs.catastrophic = self._catastrophic(species, p)
        coeffs.source = self._primary_source(species, p)
        if cfg.source.time_profile != "constant":
            coeffs.source_time = self.source_time_factor
            coeffs.source_time_integral = self.source_time_integral
        return coeffs

    def momentum_diffusion(self, species, p, pe, kappa_centres, va) -> np.ndarray:
        """D_pp [(GeV/c)^2/Myr] at the momentum edges where s(x) = 1 (the spatial factor
        divides it in :meth:`coefficients`): D_pp D = w(delta) p^2 v_A^2 of
        ``reacceleration.model`` (:func:`galprop_py.galaxy.transport.reacceleration_factor`;
        default Seo & Ptuskin 1994, w = 4 / (3 delta (4 - delta^2) (4 - delta))), with D the
        scalar law and its delta, or, for quasilinear diffusion, kappa_par interpolated to the
        edges and delta = d ln kappa_par / d ln p there (clipped to [0.05, 1.9], inside
        0 < delta < 2 where the formula holds)."""
        if self.cfg.diffusion.model != "quasilinear":
            delta = self.cfg.diffusion.delta
            d_edges = self.diffusion_law(species, pe)
        else:
            lnp, lnk = np.log(p), np.log(kappa_centres)
            d_edges = np.exp(np.interp(np.log(pe), lnp, lnk))
            slope = np.gradient(lnk, lnp)
            delta = np.clip(np.interp(np.log(pe), lnp, slope), 0.05, 1.9)
        w = transport.reacceleration_factor(self.cfg.reacceleration.model, delta)
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
        synchrotron in B(x)^2, inverse Compton (Klein-Nishina) on the ISRF of losses.isrf_model."""
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
        from ..galaxy import radiation  # losses.isrf_model; grey_bodies: losses.photon_fields

        isrf = radiation.radiation_field(
            lo.isrf_model,
            lo.isrf_parameters,
            self.cfg.sun.r_kpc,
            photon_fields=lo.photon_fields_dicts(),
        )
        for profile, ic in isrf.inverse_compton_terms(pe):
            field.add(self._photon_profile(profile), ic * to_pdot)
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
        """(B / muG)^2 of the synchrotron losses: B of ``losses.b_field_model`` with
        :meth:`synchrotron_field_parameters` (the total field where the model has a random
        component; default B = B_sun exp(-(r - r_sun)/R_B - |z|/z_B), the exponential disc of
        Strong, Moskalenko & Reimer 2000, ApJ 537, 763)."""
        b = self.field_strength(coords, self.synchrotron_field_parameters())
        return b * b

    def _photon_profile(self, profile):
        """One inverse-Compton term's ``profile(r, z)`` (galactocentric, from
        :mod:`galprop_py.galaxy.radiation`) as a function of the grid coordinates."""

        def on_grid(coords):
            r, z = galactic_rz(coords, self.grid.geometry, self.cfg.sun.r_kpc)
            shape = np.broadcast_shapes(*[np.shape(c) for c in coords])
            return np.broadcast_to(profile(r, z), shape)

        return on_grid

    def _catastrophic(self, species: Species, p: np.ndarray) -> SeparableField | None:
        """Spallation on the gas (n_H v (sigma_H + f_He sigma_He)) and radioactive decay
        1/(gamma tau) with the bare-nucleus mean life [1/Myr]; antiprotons: annihilation (and
        non-annihilating scattering, re-injected as tertiaries) on the gas
        (:func:`galprop_py.network.particles.antiproton_loss_cross_section_mb`)."""
        from ..network import cross_sections as xs
        from ..network import nuclides

        field = SeparableField()
        nucleus = not species.is_lepton and species.charge > 0
        if nucleus:
            tau = nuclides.cosmic_ray_mean_life_myr((species.charge, species.mass_number))
            if tau is not None:
                field.add(None, 1.0 / (kinematics.gamma(p, species.mass) * tau))
        lo = self.cfg.losses
        antiproton = not species.is_lepton and species.charge < 0
        if lo.spallation and self.cfg.gas.model != "none" and antiproton:
            from ..network.particles import antiproton_loss_cross_section_mb

            t = kinematics.kinetic_energy(p, species.mass)
            sigma_h, sigma_he = antiproton_loss_cross_section_mb(self.cfg, t)
            rate = kinematics.velocity_cm_s(p, species.mass) * (
                sigma_h + self.cfg.gas.f_he * sigma_he
            )
            return field.add(self.target_density, rate * units.MB_CM2 * units.MYR_S)
        if not lo.spallation or self.cfg.gas.model == "none" or not nucleus:
            return field or None
        block = self.blocks.get(species.name)
        t_n = kinematics.kinetic_energy(p, species.mass) / species.mass_number
        f_he = self.cfg.gas.f_he
        v = kinematics.velocity_cm_s(p, species.mass)
        nuc = (species.charge, species.mass_number)
        model = self.cfg.cross_sections.inelastic
        if block is not None and block.sigma_inelastic_mb is not None:
            sigma_h = np.full_like(t_n, block.sigma_inelastic_mb)
            sigma_he = sigma_h * xs.helium_inelastic_ratio(t_n, nuc)
        else:
            sigma_h = xs.sigma_inelastic_mb(t_n, nuc, model, target="H")
            sigma_he = xs.sigma_inelastic_mb(t_n, nuc, model, target="He")
        rate = v * (sigma_h + f_he * sigma_he) * units.MB_CM2
        return field.add(self.target_density, rate * units.MYR_S)

    def target_density(self, coords):
        """Hydrogen nuclei of the target gas [cm^-3]: neutral plus ionised (where the gas
        model has an ionised component); helium comes with f_He = n_He / n_H."""
        n = np.asarray(self.gas_density(coords), float)
        ionised = getattr(self, "ionised_target_density", None)
        return n + np.asarray(ionised(coords), float) if ionised is not None else n

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

    # --- secondaries --------------------------------------------------------------------------
    def secondary_source(self, species: Species, parents: dict, decomp) -> np.ndarray | None:
        """Production rate of ``species`` from solved parents' rank-local densities
        (:class:`galprop_py.operators.production.SecondaryProduction`)."""
        return self.production.source(species.name, parents, decomp)

    def self_coupling(self, species: Species, decomp):
        """The species' production from its own density as ``psi -> q`` (rank-local
        arrays), or None (:meth:`SecondaryProduction.self_coupling`)."""
        return self.production.self_coupling(species.name, decomp)
