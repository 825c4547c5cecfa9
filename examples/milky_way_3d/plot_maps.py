"""Face-on (z = 0) and edge-on (y = 0) maps of the proton flux of a 3D result, with the field
lines of the regular magnetic field the run diffused along.

    ../../.venv/bin/python plot_maps.py output/milky_way_3d.h5 [--energy 10] [--species H1]
        [--out maps.png]

The flux J(T_n) [m^-2 s^-1 sr^-1 (GeV/n)^-1] (the result's ``/species/<name>/flux``, the local
interstellar intensity of every cell) is interpolated log-log in T_n to ``--energy`` GeV/n and
linearly in z (face-on) or y (edge-on) to the plane; colours are log10 J.  The lines are
``matplotlib.streamplot`` of the in-plane components of the field of ``diffusion.field_model``
(JF12: the regular field B_reg, line width ~ |B_in plane|; other models: the unit vector b)
on a uniform 161 x 161 (face-on) / 161 x 65 (edge-on) mesh.  Edge-on, the JF12 disc field
at y = 0 points mostly along +-y, out of the plane: the lines there show its radial part and
the X field.  The Sun (sun.r_kpc, 0, sun.z_kpc) is the star.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import h5py
import numpy as np


def _in_plane(values, centres, where, axis):
    """``values`` linearly interpolated along ``axis`` (cell centres ``centres``) to ``where``."""
    i = int(np.clip(np.searchsorted(centres, where) - 1, 0, len(centres) - 2))
    w = float(np.clip((where - centres[i]) / (centres[i + 1] - centres[i]), 0.0, 1.0))
    lo = np.take(values, i, axis=axis)
    hi = np.take(values, i + 1, axis=axis)
    return (1.0 - w) * lo + w * hi


def _at_energy(flux, t_n, energy):
    """log-log interpolation of ``flux[..., k]`` on nodes ``t_n`` to ``energy``."""
    if not t_n[0] <= energy <= t_n[-1]:
        raise SystemExit(f"--energy {energy:g}: outside the result's {t_n[0]:g}-{t_n[-1]:g} GeV/n")
    k = int(np.clip(np.searchsorted(t_n, energy) - 1, 0, len(t_n) - 2))
    w = np.log(energy / t_n[k]) / np.log(t_n[k + 1] / t_n[k])
    tiny = 1e-300
    lo, hi = np.maximum(flux[..., k], tiny), np.maximum(flux[..., k + 1], tiny)
    return np.exp((1.0 - w) * np.log(lo) + w * np.log(hi))


def read_maps(path, species="H1", energy=10.0, z0=0.0, y0=0.0):
    """(x, y, z, face-on J(x, y), edge-on J(x, z), config dict) of a cartesian3d result."""
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["config_json"])
        if f["grid"].attrs["geometry"] != "cartesian3d":
            raise SystemExit(f"{path}: not a cartesian3d result ({f['grid'].attrs['geometry']})")
        if f"species/{species}" not in f:
            raise SystemExit(f"{path}: no species {species!r} (has {', '.join(f['species'])})")
        x, y, z = (np.asarray(f[f"grid/{a}"][()]) for a in "xyz")
        t_n = np.asarray(f["momentum/nodes"][()])
        dset = f[f"species/{species}/flux"]
        kz = int(np.clip(np.searchsorted(z, z0) - 1, 0, len(z) - 2))
        ky = int(np.clip(np.searchsorted(y, y0) - 1, 0, len(y) - 2))
        face = _in_plane(dset[:, :, kz : kz + 2, :], z[kz : kz + 2], z0, axis=2)
        edge = _in_plane(dset[:, ky : ky + 2, :, :], y[ky : ky + 2], y0, axis=1)
    if cfg["momentum"]["axis"] != "kinetic_energy_per_nucleon":
        raise SystemExit(f"{path}: momentum axis {cfg['momentum']['axis']!r}, need T_n nodes")
    return x, y, z, _at_energy(face, t_n, energy), _at_energy(edge, t_n, energy), cfg


def field_components(cfg, a, b, plane):
    """In-plane field components on the mesh (a, b) of ``plane`` ("xy" at z = 0, "xz" at
    y = 0): B_reg of JF12 [muG], the unit vector b of other direction models."""
    from galprop_py.galaxy import magnetic, magnetic_jf12

    d = cfg["diffusion"]
    aa, bb = np.meshgrid(a, b, indexing="xy")
    zero = np.zeros_like(aa)
    xyz = (aa, bb, zero) if plane == "xy" else (aa, zero, bb)
    if d["field_model"] == "jf12":
        vec = magnetic_jf12.regular_field(
            *xyz, magnetic_jf12.JF12Parameters(**d["field_parameters"])
        )
    else:
        params = magnetic.direction_parameters(
            d["field_model"],
            d["field_parameters"],
            field_direction=d["field_direction"],
            pitch_angle_deg=d["pitch_angle_deg"],
        )
        vec = magnetic.direction_field(d["field_model"], params, "cartesian3d")(list(xyz))
        vec = [np.broadcast_to(np.asarray(v, float), aa.shape) for v in vec]
    return (vec[0], vec[1]) if plane == "xy" else (vec[0], vec[2])


def plot(path, out, species="H1", energy=10.0):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y, z, face, edge, cfg = read_maps(path, species, energy)
    sun = (cfg["sun"]["r_kpc"], cfg["sun"]["z_kpc"])
    logs = np.log10(np.maximum(np.concatenate([face.ravel(), edge.ravel()]), 1e-300))
    top = float(np.max(logs))
    vmin = max(float(np.min(logs)), top - 4.0)
    fig, axes = plt.subplots(
        2, 1, figsize=(8.0, 10.5), gridspec_kw={"height_ratios": [1.0, 0.45]}, layout="constrained"
    )
    panels = (
        ("xy", x, y, face, "y [kpc]", f"face-on, z = 0: {species} at {energy:g} GeV/n"),
        ("xz", x, z, edge, "z [kpc]", f"edge-on, y = 0: {species} at {energy:g} GeV/n"),
    )
    for ax, (plane, a, b, j, ylabel, title) in zip(axes, panels, strict=True):
        mesh = ax.pcolormesh(
            a, b, np.log10(np.maximum(j, 1e-300)).T, shading="nearest", vmin=vmin, vmax=top
        )
        fa = np.linspace(a[0], a[-1], 161)
        fb = np.linspace(b[0], b[-1], 161 if plane == "xy" else 65)
        u, v = field_components(cfg, fa, fb, plane)
        speed = np.hypot(u, v)
        width = 0.3 + 1.7 * speed / max(float(np.max(speed)), 1e-300)
        ax.streamplot(fa, fb, u, v, color="white", linewidth=width, density=1.4, arrowsize=0.7)
        ax.plot([sun[0]], [0.0 if plane == "xy" else sun[1]], "*", color="red", ms=12)
        ax.set_xlim(a[0], a[-1])
        ax.set_ylim(b[0], b[-1])
        ax.set_aspect("equal")
        ax.set_xlabel("x [kpc]")
        ax.set_ylabel(ylabel)
        ax.set_title(title + f"; lines: {cfg['diffusion']['field_model']} field")
        fig.colorbar(
            mesh, ax=ax, label=r"log$_{10}$ J [m$^{-2}$ s$^{-1}$ sr$^{-1}$ (GeV/n)$^{-1}$]"
        )
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("result", type=Path)
    ap.add_argument("--energy", type=float, default=10.0, help="T_n [GeV/n] (default 10)")
    ap.add_argument("--species", default="H1")
    ap.add_argument("--out", type=Path, default=None, help="PNG (default <result>_maps.png)")
    args = ap.parse_args(argv)
    if not args.result.is_file():
        raise SystemExit(f"no result file {args.result}")
    out = args.out or args.result.with_name(args.result.stem + "_maps.png")
    print(plot(args.result, out, args.species, args.energy))


if __name__ == "__main__":
    main(sys.argv[1:])
