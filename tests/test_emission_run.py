"""Emission in runs ([emission]): per-cell emissivities, sky maps, luminosities, files.

References (none is a number this code produced before):

* one cell's emissivity against the kernels applied in the test to that cell's flux read from
  the result file, J -> n = 4 pi J / v done here (1e-10; inverse Compton against diluted
  black bodies on the test's own photon grid, 2e-3);
* the pi0 map of a uniform gas slab: at high |b| a ray crosses the slab inside one radial
  cell, so I(b) sin|b| = sum_z eps_z dz_z exactly (1e-9), and the line of sight sampled
  by a fine midpoint rule in the test (1 %);
* the same maps from 1 and 2 ranks (the emission of the gathered states on one rank);
* files: healpy reads the FITS maps, HDF5 units/nside/ordering attributes;
* the local gas emissivity per H atom (pi0 of H1 + He4 and bremsstrahlung of e-/e+, all
  normalised to AMS-02) against Fermi-LAT: q(>100 MeV) = (1.63 +- 0.05) 1e-26 photons
  s^-1 sr^-1 H-atom^-1 (Abdo et al. 2009, ApJ 703, 1249, abstract; the emissivity of the
  local H I after inverse Compton is removed), within 30 %.
"""

from __future__ import annotations

import math

import h5py
import healpy as hp
import numpy as np
import pytest
from mpi4py import MPI
from petsc4py import PETSc

from galprop_py import units
from galprop_py.config import ConfigError, config_from_dict
from galprop_py.decomposition import Decomposition
from galprop_py.emission.bremsstrahlung import bremsstrahlung_kernel
from galprop_py.emission.inverse_compton import black_body_density, ic_kernel
from galprop_py.emission.pi0 import pi0_kernel
from galprop_py.emission.products import compute_emission
from galprop_py.emission.skymap import integrate_power_law
from galprop_py.emission.synchrotron import synchrotron_emissivity_cells
from galprop_py.run import run

R_SUN = 8.3
H_DISC = 0.2  # uniform gas: |z| <= H_DISC
N_H = 1.0
F_HE = 0.1
B_SUN, R_B, Z_B = 5.0, 10.0, 2.0  # exponential_disc field
OBS = "/work/shared/data/observations"


def _base(out_dir, **emission):
    return {
        "run": {"name": "emission_test", "output_dir": str(out_dir)},
        "grid": {"geometry": "cylindrical2d", "r_max_kpc": 20.0, "n_r": 11, "z_max_kpc": 4.0,
                 "n_z": 41},
        "momentum": {"min": 0.01, "max": 1.0e4, "n": 32},
        "species": [
            {"name": "H1", "injection": {"indices": [2.35]}},
            {"name": "He4", "abundance": 0.08},
            {"name": "electron", "injection": {"indices": [2.6]},
             "normalize_to": [30.0, 6.62e-3]},
        ],
        "cross_sections": {"secondary_leptons": False},
        "gas": {"model": "uniform", "n_h_cm3": N_H, "disc_half_thickness_kpc": H_DISC,
                "f_he": F_HE},
        "losses": {"b_field_ug": B_SUN, "b_field_scale_radius_kpc": R_B,
                   "b_field_scale_height_kpc": Z_B},
        "sun": {"r_kpc": R_SUN, "z_kpc": 0.0},
        "emission": {"enabled": True, "nside": 8, "n_e_gamma": 5, "e_gamma_min_gev": 0.1,
                     "e_gamma_max_gev": 100.0, "synchrotron_frequencies_hz": [4.08e8, 1.4e9],
                     **emission},
        "output": {"file": "emission.h5", "plot": True},
    }  # fmt: skip


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("emission")) if MPI.COMM_WORLD.rank == 0 else None
    from pathlib import Path

    return Path(MPI.COMM_WORLD.bcast(path, root=0))


@pytest.fixture(scope="module")
def slab_run(shared_dir):
    cfg = config_from_dict(_base(shared_dir))
    return run(cfg, comm=PETSc.COMM_WORLD, progress=False)


# --- (1) one cell against the kernels -------------------------------------------------------
def _cell_density(f, name, i, j):
    """n(T_n) [cm^-3 (GeV/n)^-1] and T_n of cell (i, j) from the file's flux J = v n / 4 pi."""
    g = f[f"/species/{name}"]
    p = g["momentum"][()]
    mass = float(g.attrs["mass_gev"])
    a = int(g.attrs["mass_number"])
    e_tot = np.sqrt(p * p + mass * mass)
    t_n = (e_tot - mass) / a
    v = units.C_CM_S * p / e_tot
    j_cm = g["flux"][i, j, :] * 1e-4  # m^-2 -> cm^-2
    return t_n, 4.0 * math.pi * j_cm / v


def test_cell_emissivity_equals_kernels(slab_run):
    res = slab_run.emission
    e = res.e_gamma_gev
    i = int(np.searchsorted(slab_run.decomp.grid.axes[0].edges, R_SUN) - 1)
    zc = slab_run.decomp.grid.axes[1].centers
    j = int(np.argmin(np.abs(zc)))  # the mid-plane cell, inside the gas
    r_c, z_c = slab_run.decomp.grid.axes[0].centers[i], zc[j]
    with h5py.File(slab_run.output_file, "r") as f:
        dens = {s: _cell_density(f, s, i, j) for s in ("H1", "He4", "electron")}
        got = {p: f[f"/emission/emissivity/{p}"][i, j, :] for p in res.emissivity}
    proj = {"H1": (1, 1), "He4": (2, 4)}
    pi0 = sum(pi0_kernel(e, dens[s][0], proj[s], F_HE) @ dens[s][1] for s in proj)
    np.testing.assert_allclose(got["pi0"], N_H * pi0 / (4 * math.pi), rtol=1e-10)
    t_e, n_e = dens["electron"]
    brems = bremsstrahlung_kernel(e, t_e, "HI") + F_HE * bremsstrahlung_kernel(e, t_e, "He")
    np.testing.assert_allclose(got["bremsstrahlung"], N_H * brems @ n_e / (4 * math.pi), rtol=1e-10)
    b = B_SUN * math.exp(-(r_c - R_SUN) / R_B - abs(z_c) / Z_B)
    sync = synchrotron_emissivity_cells(res.frequencies_hz, t_e, n_e[None, :], np.array([b]))[0]
    np.testing.assert_allclose(got["synchrotron"], sync, rtol=1e-10)
    # IC on the default grey bodies: CMB uniform, dust and starlight exp(-(r-r_sun)/5 - |z|/2)
    a_rad = 8 * math.pi**5 / 15 / (units.H_PLANCK_EV_S * units.C_CM_S) ** 3  # eV^-3 cm^-3
    ic = np.zeros_like(e)
    for t_k, u_sun, scaled in ((2.7255, 0.261, False), (35.0, 0.3, True), (4000.0, 0.6, True)):
        u = u_sun * (math.exp(-(r_c - R_SUN) / 5.0 - abs(z_c) / 2.0) if scaled else 1.0)
        kt = units.K_B_EV_K * t_k
        w = u / (a_rad * kt**4)  # dilution of a black body with energy density u
        eps = np.geomspace(3e-4 * kt, 60.0 * kt, 400)
        ic += ic_kernel(e, t_e, eps, black_body_density(eps, t_k, w)) @ n_e
    np.testing.assert_allclose(got["inverse_compton"], ic / (4 * math.pi), rtol=2e-3)


# --- (2) the pi0 map of the gas slab -------------------------------------------------------
def _ray_integral(grid, eps_full, l_deg, b_deg, s_max, n=200_000):
    """int eps ds along (l, b) from the Sun, midpoint rule on ``n`` points, eps looked up in
    the global (r, z, E) array by cell."""
    lr, br = math.radians(l_deg), math.radians(b_deg)
    d = np.array([-math.cos(br) * math.cos(lr), -math.cos(br) * math.sin(lr), math.sin(br)])
    s = (np.arange(n) + 0.5) * (s_max / n)
    x, y, z = (R_SUN + s * d[0]), s * d[1], s * d[2]
    r = np.hypot(x, y)
    re, ze = grid.axes[0].edges, grid.axes[1].edges
    inside = (r < re[-1]) & (z > ze[0]) & (z < ze[-1])
    i = np.clip(np.searchsorted(re, r) - 1, 0, re.size - 2)
    k = np.clip(np.searchsorted(ze, z) - 1, 0, ze.size - 2)
    vals = np.where(inside[:, None], eps_full[i, k, :], 0.0)
    return vals.sum(axis=0) * (s_max / n) * units.KPC_CM


def test_pi0_map_of_gas_slab(slab_run):
    res = slab_run.emission
    grid = slab_run.decomp.grid
    eps_full = slab_run.decomp.gather_to_all(res.emissivity["pi0"])
    nside = res.nside
    lon, lat = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), lonlat=True)
    i_sun = int(np.searchsorted(grid.axes[0].edges, R_SUN) - 1)
    zc, dz = grid.axes[1].centers, grid.axes[1].widths
    mid = int(np.argmin(np.abs(zc)))
    assert abs(zc[mid]) < 1e-12  # the Sun is at the centre of the mid-plane cell
    half = 0.5 * eps_full[i_sun, mid] * dz[mid]
    column = {  # sum over the cells above (below) the Sun of eps dz [cm]
        1: (half + eps_full[i_sun, mid + 1 :].T @ dz[mid + 1 :]) * units.KPC_CM,
        -1: (half + eps_full[i_sun, :mid].T @ dz[:mid]) * units.KPC_CM,
    }
    high = np.flatnonzero(np.abs(lat) > 55.0)
    assert high.size > 20
    for pix in high:
        sin_b = math.sin(math.radians(abs(lat[pix])))
        got = res.maps["pi0"][:, pix] * sin_b
        np.testing.assert_allclose(got, column[int(np.sign(lat[pix]))], rtol=1e-9)
    for pix in high[:: max(1, high.size // 6)]:
        ref = _ray_integral(grid, eps_full, lon[pix], lat[pix], s_max=6.0)
        np.testing.assert_allclose(res.maps["pi0"][:, pix], ref, rtol=1e-2)
    # luminosity: 4 pi sum eps V over the rings (2 pi r dr dz)
    re, ze = grid.axes[0].edges, grid.axes[1].edges
    vol = np.pi * np.diff(re**2)[:, None] * np.diff(ze)[None, :] * units.KPC_CM**3
    lum = 4 * math.pi * np.einsum("ij,ijk->k", vol, eps_full)
    np.testing.assert_allclose(res.luminosity["pi0"], lum, rtol=1e-10)


# --- (3) rank count -------------------------------------------------------------------------
@pytest.mark.parallel
def test_maps_independent_of_rank_count(slab_run):
    dec = slab_run.decomp
    full = {n: dec.gather_to_all(s) for n, s in slab_run.states.items()}
    one = Decomposition(dec.grid, dec.dof, PETSc.COMM_SELF)
    states = {n: one.from_physical(a) for n, a in full.items()}
    res1 = compute_emission(slab_run.config, slab_run.model, one, states)
    for proc, m in slab_run.emission.maps.items():
        np.testing.assert_allclose(res1.maps[proc], m, rtol=1e-11, atol=0.0)
        np.testing.assert_allclose(
            res1.luminosity[proc], slab_run.emission.luminosity[proc], rtol=1e-11
        )
        np.testing.assert_allclose(res1.sun[proc], slab_run.emission.sun[proc], rtol=1e-11)


# --- (4) files -------------------------------------------------------------------------------
def test_files(slab_run):
    res = slab_run.emission
    out = slab_run.output_file
    fits_path = out.with_name("emission_maps.fits")
    sync_path = out.with_name("emission_synchrotron_maps.fits")
    assert fits_path.is_file() and sync_path.is_file()
    assert out.with_name("emission_map.png").is_file()
    gamma = [p for p in res.maps if p != "synchrotron"]
    for k, proc in enumerate(gamma, start=1):
        for i in (0, res.e_gamma_gev.size - 1):
            m = hp.read_map(fits_path, field=i, hdu=k, dtype=np.float64)
            np.testing.assert_allclose(m, res.maps[proc][i], rtol=1e-12)
    m = hp.read_map(sync_path, field=1, hdu=1, dtype=np.float64)
    np.testing.assert_allclose(m, res.maps["synchrotron"][1], rtol=1e-12)
    with h5py.File(out, "r") as f:
        ds = f["/emission/maps/pi0"]
        assert ds.attrs["units"] == "photons cm^-2 s^-1 sr^-1 GeV^-1"
        assert ds.attrs["nside"] == res.nside and ds.attrs["ordering"] == "RING"
        np.testing.assert_allclose(ds[()], res.maps["pi0"], rtol=0)
        assert f["/emission/sun/pi0"].attrs["unit"] == "photons cm^-3 s^-1 sr^-1 GeV^-1"
        assert f["/emission/emissivity/synchrotron"].attrs["units"] == (
            "erg cm^-3 s^-1 Hz^-1 sr^-1"
        )
        np.testing.assert_allclose(f["/emission/frequencies_hz"][()], [4.08e8, 1.4e9])
        nu = f["/emission/synchrotron_maps/frequencies_hz"][()]
        e_nu = f["/emission/synchrotron_maps/energies_gev"][()]
        np.testing.assert_allclose(e_nu, units.H_PLANCK_EV_S * nu * 1e-9, rtol=1e-14)
        lum = f["/emission/luminosity/pi0"]
        assert lum.attrs["unit"] == "photons s^-1 GeV^-1" and lum.attrs["total_erg_s"] > 0


# --- (5) bad input ----------------------------------------------------------------------------
@pytest.mark.serial
@pytest.mark.parametrize(
    ("emission", "grid", "needle"),
    [
        ({"nside": 12}, None, "emission.nside = 12"),
        ({"oversample": 3}, None, "emission.oversample = 3"),
        ({"processes": ["pion"]}, None, "emission.processes.0 = 'pion'"),
        ({"processes": []}, None, "emission.processes = []"),
        ({"processes": ["pi0", "pi0"]}, None, "listed twice"),
        ({"e_gamma_min_gev": 0.0}, None, "emission.e_gamma_min_gev = 0.0"),
        ({"e_gamma_min_gev": 10.0, "e_gamma_max_gev": 1.0}, None, "e_gamma_max_gev = 1"),
        ({"synchrotron_frequencies_hz": [1e9, -1.0]}, None, "synchrotron_frequencies_hz"),
        ({"pi0_model": "fritiof"}, None, "emission.pi0_model = 'fritiof'"),
        ({"s_max_kpc": -1.0}, None, "emission.s_max_kpc = -1.0"),
        ({"colour": "red"}, None, "emission.colour = 'red': unknown key"),
        ({"nside": True}, None, "emission.nside = true"),
        ({"maps": True}, {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": 41}, "grid.geometry"),
    ],
)
def test_bad_emission_config(emission, grid, needle):
    data = {"emission": {"enabled": True, **emission}}
    if grid is not None:
        data["grid"] = grid
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    msg = str(err.value)
    assert "\n" not in msg and needle in msg, msg


# --- (6) Fermi-LAT local emissivity ----------------------------------------------------------
def _data_flux(path, x, column=3):
    d = np.loadtxt(path, comments="#")
    return float(np.exp(np.interp(np.log(x), np.log(d[:, 0]), np.log(d[:, column]))))


def _integral_above(e, q):
    """int_e[0]^inf q dE: nodes exact for power laws, a power-law tail beyond e[-1]."""
    slope = math.log(q[-1] / q[-2]) / math.log(e[-1] / e[-2])
    return integrate_power_law(e, q) + q[-1] * e[-1] / -(slope + 1.0)


@pytest.mark.slow
def test_local_gas_emissivity_fermi(tmp_path):
    """Abdo et al. 2009 measure the emissivity of local H I after removing inverse Compton:
    nuclei (pi0) plus electron/positron bremsstrahlung per H atom, both on H + He gas.  The
    model: the Milky Way example's transport on a coarse grid, H1 and He4 normalised to
    AMS-02 (PRL 114, 171103; PRL 115, 211101) at 50 GeV/n, electrons to AMS-02 (Phys. Rep.
    894) at 30 GeV, secondary positrons."""
    t_ref = 50.0
    he = _data_flux(f"{OBS}/ams02_helium_flux_PRL2015_ekn_statsys.dat", t_ref)
    p = _data_flux(f"{OBS}/ams02_proton_flux_PRL2015_ekn_statsys.dat", t_ref)
    e_minus = _data_flux(f"{OBS}/ams02_electron_flux_PhysRep2021.txt", 30.0, column=1)
    data = {
        "run": {"output_dir": str(tmp_path)},
        "grid": {"geometry": "cylindrical2d", "r_max_kpc": 20.0, "n_r": 11, "z_max_kpc": 4.0,
                 "n_z": 21},
        "momentum": {"min": 0.01, "max": 1.0e4, "n": 40},
        "species": [
            {"name": "H1", "injection": {"indices": [1.9, 2.39], "breaks_gv": [7.0],
                                         "smoothness": 0.2}},
            {"name": "He4", "abundance": 0.13, "normalize_to": [t_ref, he],
             "injection": {"indices": [1.9, 2.35], "breaks_gv": [7.0], "smoothness": 0.2}},
            {"name": "electron", "normalize_to": [30.0, e_minus],
             "injection": {"indices": [1.6, 2.55], "breaks_gv": [4.0], "smoothness": 0.2}},
            {"name": "positron", "abundance": 0.0},
        ],
        "diffusion": {"d0_cm2_s": 4.0e28, "r0_gv": 4.0, "delta": 0.5},
        "reacceleration": {"v_alfven_km_s": 20.0},
        "normalization": {"species": "H1", "t_n_gev": t_ref, "flux": p},
        "emission": {"enabled": True, "processes": ["pi0", "bremsstrahlung"], "maps": False,
                     "n_e_gamma": 31, "e_gamma_min_gev": 0.1, "e_gamma_max_gev": 100.0},
        "output": {"plot": False},
    }  # fmt: skip
    res = run(config_from_dict(data), progress=False, write_output=False).emission
    e = res.e_gamma_gev
    q_pi0 = _integral_above(e, res.sun["pi0_per_h_atom"])
    q_brems = _integral_above(e, res.sun["bremsstrahlung_per_h_atom"])
    q_gas = q_pi0 + q_brems
    print(f"q(>100 MeV): pi0 {q_pi0:.4g}, bremsstrahlung {q_brems:.4g}, sum {q_gas:.4g}")
    assert abs(q_gas / 1.63e-26 - 1.0) < 0.30, (q_pi0, q_brems)


# --- command line -------------------------------------------------------------------------------
@pytest.mark.serial
def test_cli_plot_map_and_region(slab_run, tmp_path):
    from galprop_py.cli import main

    f = str(slab_run.output_file)
    png = tmp_path / "ic.png"
    assert main(["plot", f, "--map", "inverse_compton", "--energy", "3", "--output", str(png)]) == 0
    assert png.stat().st_size > 10_000
    reg = tmp_path / "region.png"
    assert main(["plot", f, "--region", "-30,30,-10,10", "--output", str(reg)]) == 0
    assert reg.is_file()
    assert main(["plot", f, "--map", "pion"]) != 0
    assert main(["plot", f, "--region", "1,2"]) != 0


def test_tabulated_isrf_matches_components(slab_run):
    """The cell-by-cell path of a tabulated ISRF against the separable grey bodies it
    tabulates (nodes on the cell centres' r and z, 40 photon energies per decade): the
    trapezoid in ln eps of the table path against the component kernels (checked against
    black bodies above), 1 %."""
    from galprop_py.emission.emissivity import inverse_compton_emissivity
    from galprop_py.galaxy.radiation import RadiationTable, TabulatedField, radiation_field

    cfg, dec = slab_run.config, slab_run.decomp
    lo = cfg.losses
    grey = radiation_field(
        lo.isrf_model, lo.isrf_parameters, R_SUN, photon_fields=lo.photon_fields_dicts()
    )
    r_nodes, z_nodes = dec.grid.axes[0].centers, dec.grid.axes[1].centers
    eps = np.geomspace(1e-6, 30.0, 298)
    u = grey.spectral_density(r_nodes[:, None], z_nodes[None, :], eps)
    table = TabulatedField(RadiationTable("memory", r_nodes, z_nodes, eps, u))
    e = slab_run.emission.e_gamma_gev
    got = inverse_compton_emissivity(slab_run.model, dec, slab_run.states, e, field=table)
    ref = slab_run.emission.emissivity["inverse_compton"]
    np.testing.assert_allclose(got, ref, rtol=1e-2, atol=1e-3 * np.max(ref))


def test_default_model_on_a_slab_keeps_emission_without_maps():
    """The default model (with [emission]) on grid.geometry = slab1d: maps are off by default
    there (no plane to look along), emissivities and luminosities stay; maps asked for
    explicitly are refused (above)."""
    from galprop_py.config import load_config

    cfg = load_config(None, ["grid.geometry=slab1d"])
    assert cfg.emission.enabled and not cfg.emission.maps
    cfg = load_config(None, [])
    assert cfg.emission.maps
