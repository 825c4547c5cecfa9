"""Run the starburst example and plot it: gamma-ray SED at 3.5 Mpc against VERITAS, the
times and calorimetric fraction against energy, the radio spectrum.

    .venv/bin/python examples/starburst/plot_starburst.py                  # spherical model
    .venv/bin/python examples/starburst/plot_starburst.py --config examples/starburst/config_2d.toml
    mpirun -n 2 .venv/bin/python examples/starburst/plot_starburst.py gas.n_h_cm3=500

The run is linear in its sources: every output is scaled so that the nuclei inject
``--l-cr`` erg/s (default 3.2e41 = 10 % of 1e51 erg at 0.1 supernovae per year).
Data: VERITAS, Acciari et al. 2009, Nature 462, 770 (M 82 at 3.5 Mpc; 99 % upper limits).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VERITAS = HERE.parents[1] / ".." / "shared" / "data" / "observations" / "m82_veritas2009_sed.ecsv"
#: M 82's 1.4 GHz flux density, the "7-10 Jy" of the literature (a loose comparison)
M82_1P4GHZ_JY = 7.7


def read_veritas(path: Path):
    """(E [TeV], dN/dE, error, upper limit) columns of the gamma-cat ECSV file."""
    from astropy.table import Table

    lines = path.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if "%ECSV" in ln)  # after the provenance
    t = Table.read("\n".join(lines[start:]), format="ascii.ecsv")
    return (np.asarray(t[c], float) for c in ("e_ref", "dnde", "dnde_err", "dnde_ul"))


def plot(summary, png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from galprop_py import units

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    # (a) the gamma-ray SED
    ax = axes[0]
    e = summary.e_gamma_gev
    colours = {"pi0": "C0", "inverse_compton": "C1", "bremsstrahlung": "C2"}
    labels = {
        "pi0": r"$\pi^0$ decay",
        "inverse_compton": "inverse Compton",
        "bremsstrahlung": "bremsstrahlung",
    }
    to_tev = e**2 / units.TEV_GEV  # E^2 dN/dE in TeV cm^-2 s^-1 from GeV and per GeV
    for proc, colour in colours.items():
        if proc in summary.gamma:
            ax.loglog(
                e, to_tev * summary.gamma_flux(proc), color=colour, lw=1.5, label=labels[proc]
            )
    ax.loglog(e, to_tev * summary.gamma_flux(), "k", lw=2.2, label="total")
    try:
        e_tev, dnde, err, ul = read_veritas(VERITAS.resolve())
        det = np.isfinite(dnde)
        ax.errorbar(e_tev[det] * 1e3, e_tev[det] ** 2 * dnde[det], yerr=e_tev[det] ** 2 * err[det],
                    fmt="s", color="C3", label="VERITAS (Acciari+ 2009)")  # fmt: skip
        lim = np.isfinite(ul)
        e2ul = e_tev[lim] ** 2 * ul[lim]
        ax.errorbar(e_tev[lim] * 1e3, e2ul, yerr=0.3 * e2ul, uplims=True, fmt="none", color="C3")
    except (OSError, StopIteration, ValueError) as exc:
        print(f"VERITAS data not plotted: {exc}")
    total = to_tev * summary.gamma_flux()
    top = float(np.max(total[total > 0]))
    ax.set_ylim(top * 1e-4, top * 5)
    ax.set_xlim(e[0], e[-1])
    ax.set_xlabel(r"$E_\gamma$ [GeV]")
    ax.set_ylabel(r"$E^2\,dN/dE$ [TeV cm$^{-2}$ s$^{-1}$]")
    ax.set_title(f"gamma rays at {summary.distance_mpc:g} Mpc")
    ax.legend(fontsize=8, loc="lower left")
    # (b) the times and the calorimetric fraction
    ax = axes[1]
    t = summary.times
    ax.loglog(t.t_kin_gev, t.t_pp_myr, "C0", label=r"$t_{pp} = 1/(n v \sigma_{inel})$")
    ax.loglog(t.t_kin_gev, t.t_diff_myr, "C1", label=r"$t_{diff}$")
    if np.isfinite(t.t_adv_myr):
        ax.axhline(t.t_adv_myr, color="C2", label=r"$t_{adv}$")
    if np.isfinite(t.t_ad_myr):
        ax.axhline(t.t_ad_myr, color="C2", ls=":", label=r"$t_{ad}$ (adiabatic)")
    ax.loglog(t.t_kin_gev, t.t_esc_myr, "k", lw=2, label=r"$t_{esc}$")
    ax.set_xlabel("proton kinetic energy [GeV]")
    ax.set_ylabel("time [Myr]")
    ax.legend(fontsize=8, loc="lower left")
    twin = ax.twinx()
    twin.semilogx(t.t_kin_gev, t.f_leaky(adiabatic=True), "C3--", label="leaky box")
    twin.set_ylim(0, 1)
    twin.set_ylabel(r"$f_{cal} = 1/(1 + t_{pp}(1/t_{esc} + 1/t_{ad}))$", color="C3")
    cal = summary.calorimetry
    ax.set_title(
        f"H1: $f_{{cal}}$ = {cal.f_cal:.2f} (model), {t.f_leaky_mean(True):.2f} (leaky box)"
    )
    # (c) radio
    ax = axes[2]
    ax.loglog(summary.nu_hz / 1e9, summary.radio_jy(), "k", lw=2, label="synchrotron (model)")
    ax.errorbar([1.4], [M82_1P4GHZ_JY], yerr=[[0.7], [2.3]], fmt="o", color="C3",
                label="M 82, 1.4 GHz (~7-10 Jy)")  # fmt: skip
    ax.set_xlabel(r"$\nu$ [GHz]")
    ax.set_ylabel(r"$S_\nu$ [Jy]")
    ax.set_title("radio (no free-free absorption)")
    ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(png, dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="block.key=value")
    parser.add_argument("--config", default=str(HERE / "config_spherical.toml"))
    parser.add_argument("--l-cr", type=float, default=3.2e41, help="nuclei injected [erg/s]")
    parser.add_argument("--distance", type=float, default=3.5, help="distance [Mpc]")
    parser.add_argument("--output", default=None, help="PNG (default: <output_dir>/<name>.png)")
    args = parser.parse_args(argv)

    from mpi4py import MPI

    from galprop_py.applications import starburst as sb
    from galprop_py.config import load_config
    from galprop_py.run import run

    cfg = load_config(args.config, args.overrides)
    t0 = time.perf_counter()
    result = run(cfg, progress=False)
    t1 = time.perf_counter()
    summary = sb.summarise(result, l_cr_erg_s=args.l_cr, distance_mpc=args.distance)
    t2 = time.perf_counter()
    png = Path(args.output or Path(cfg.run.output_dir) / f"{cfg.run.name}.png")
    if MPI.COMM_WORLD.rank == 0:
        print("\n".join(summary.lines()))
        print(f"run {t1 - t0:.1f} s, starburst diagnostics {t2 - t1:.1f} s")
        g = cfg.gas
        title = (f"{cfg.run.name}: L_CR = {args.l_cr:.2g} erg/s, {cfg.grid.geometry}, "
                 f"D0 = {cfg.diffusion.d0_cm2_s:.2g} cm$^2$/s, wind {cfg.wind.v0_km_s:g} km/s + "
                 f"{cfg.wind.dv_dz_km_s_kpc:g} km/s/kpc, f_He = {g.f_he:g}")  # fmt: skip
        png.parent.mkdir(parents=True, exist_ok=True)
        plot(summary, png, title)
        print(f"plot written: {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
