"""Time-dependent diffusive shock acceleration at a young supernova-remnant shock.

Where ``examples/shock_acceleration_time`` evaluates Drury's acceleration-time formula
(benchmark B10) in closed form, this example *solves* the time-dependent transport
equation (:mod:`galprop_py.shock.dsa`): protons injected at p0 = 1 GeV/c at a planar shock
(u1 = 5000 km/s, r = 4, Bohm diffusion in 3 muG) with free escape at L = 0.1 pc upstream.
It prints, at ages 10, 100 and 1000 yr, the momentum "reached" (where psi/psi_steady at
the shock crosses 1 - 1/e) next to the momentum whose mean acceleration time equals the
age, the slope of the spectrum, the escape cutoff of the steady state against the analytic
one (Caprioli, Amato & Blasi 2010) and the fraction of particles escaping upstream; it
writes the escaping spectrum per unit shock area as CSV (p_gev, q_per_cm2_s_gev) and a plot.

Run: ``python examples/snr_shock/snr_shock.py [--config config.toml] [--plot snr_shock.png]
[--csv escape.csv]`` (about a minute on one core).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from galprop_py.shock import analytic, dsa
from galprop_py.shock.config import load_shock_config

HERE = Path(__file__).resolve().parent
AGES_YR = (10.0, 100.0, 1000.0)


def snapshot(hist: dsa.ShockHistory, age_yr: float) -> np.ndarray:
    """psi at the shock at ``age_yr`` (linear in time between steps)."""
    t = hist.times_yr
    j = int(np.clip(np.searchsorted(t, age_yr), 1, t.size - 1))
    w = (age_yr - t[j - 1]) / (t[j] - t[j - 1])
    return (1.0 - w) * hist.psi_shock[j - 1] + w * hist.psi_shock[j]


def crossing(p: np.ndarray, ratio: np.ndarray, level: float) -> float:
    """Lowest p above 2 p0 where ``ratio`` falls below ``level`` (log interpolation)."""
    idx = np.nonzero((ratio < level) & (p > 2.0 * p[0]))[0]
    if not idx.size:
        return float("nan")
    j = int(idx[0])
    return math.exp(np.interp(level, ratio[[j, j - 1]], np.log(p[[j, j - 1]])))


def run(config_path: Path) -> dict:
    cfg = load_shock_config(config_path)
    model = dsa.build_model(cfg)
    p = model.p
    psi_inf = dsa.steady_state(model)
    hist = dsa.run_time_dependent(model)
    i = model.shock_index
    q = analytic.spectral_index(cfg.compression_ratio)
    t_acc = model.theory_mean_time_yr(p)
    out = {"model": model, "hist": hist, "psi_inf": psi_inf, "t_acc_yr": t_acc, "q": q}
    out["slope"] = dsa.fitted_slope(p, psi_inf[i], 10.0 * p[0], 100.0 * p[0])
    out["reached"] = {}
    for age in AGES_YR:
        frac = snapshot(hist, age) / psi_inf[i]
        p_reached = crossing(p, frac, 1.0 - 1.0 / math.e)
        p_mean = math.exp(np.interp(math.log(age), np.log(t_acc[1:]), np.log(p[1:])))
        out["reached"][age] = (p_reached, p_mean)
    sup = psi_inf[i] / (psi_inf[i][10] * (p / p[10]) ** (2.0 - q))
    out["p_cut"] = crossing(p, sup, 1.0 / math.e)
    out["p_cut_exact"] = analytic.escape_cutoff_momentum(
        model.kappa1, model.u1, model.escape_length, q, p[0]
    )
    out["p_l"] = float(
        np.exp(np.interp(0.0, np.log(model.kappa1(p) / (model.u1 * model.escape_length)),
                         np.log(p)))
    )  # fmt: skip
    esc = dsa.escape_flux_cgs(model, hist.psi_final)
    out["escape"] = esc
    dp = np.diff(model.p_edges)
    out["escape_fraction"] = float(np.sum(esc * dp) / cfg.injection_rate_cm2_s)
    return out


def plot(res: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, hist = res["model"], res["hist"]
    p, i = model.p, model.shock_index
    f_inf = res["psi_inf"][i] * dsa.PSI_TO_CGS
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for age in AGES_YR:
        ax.loglog(p, p**2 * snapshot(hist, age) * dsa.PSI_TO_CGS, label=f"t = {age:g} yr")
    ax.loglog(p, p**2 * f_inf, "k--", lw=1, label="steady (escape at L)")
    exact = analytic.escape_suppression(p, model.kappa1, model.u1, model.escape_length,
                                        res["q"], p[0])  # fmt: skip
    k = 10
    ax.loglog(p, p**2 * f_inf[k] * (p / p[k]) ** (2 - res["q"]) * exact / exact[k], "k:",
              lw=1, label="analytic steady (CAB 2010)")  # fmt: skip
    ax.set(xlabel="p [GeV/c]", ylabel="p^2 psi at the shock [cm^-3 GeV/c]",
           ylim=(1e-6 * p[k] ** 2 * f_inf[k], 3 * p[k] ** 2 * f_inf[k]))  # fmt: skip
    ax.legend(fontsize=8)
    bx.loglog(p[1:], res["t_acc_yr"][1:], "k-", label="Drury mean t_acc(p)")
    for age, (p_r, p_m) in res["reached"].items():
        if p_m < res["p_cut"] / 3.0:  # later the escape cutoff, not the age, limits p
            bx.plot([p_r], [age], "o", label=f"reached at {age:g} yr (F = 1-1/e)")
    bx.axvline(res["p_cut"], color="grey", lw=0.8, label="escape cutoff (steady)")
    bx.set(xlabel="p [GeV/c]", ylabel="t [yr]")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(HERE / "config.toml"))
    parser.add_argument("--plot", help="write the spectra and t_acc to this image")
    parser.add_argument("--csv", help="write the escaping spectrum (p_gev, q_per_cm2_s_gev)")
    args = parser.parse_args(argv)
    res = run(Path(args.config))
    model = res["model"]
    cfg = model.config
    print(f"grid: {model.grid.shape[0]} cells, {model.p.size} momenta, "
          f"{res['hist'].times_yr.size - 1} time steps")  # fmt: skip
    print(f"steady slope of psi at 10-100 p0: {res['slope']:.4f} (2 - q = {2 - res['q']:g})")
    for age, (p_r, p_m) in res["reached"].items():
        note = " (escape-limited: beyond p_cut/3)" if p_m > res["p_cut"] / 3.0 else ""
        print(f"t = {age:6g} yr: reached {p_r:10.4g} GeV/c; t_acc(p) = t at {p_m:10.4g} GeV/c"
              f" (ratio {p_r / p_m:.3f}){note}")  # fmt: skip
    print(f"escape cutoff (1/e) {res['p_cut']:.4g} GeV/c, analytic {res['p_cut_exact']:.4g}, "
          f"kappa1/u1 = L at {res['p_l']:.4g} GeV/c")  # fmt: skip
    print(f"fraction of the injected particles escaping upstream at {cfg.age_yr:g} yr: "
          f"{res['escape_fraction']:.4f}")  # fmt: skip
    if args.csv:
        dsa.write_escape_spectrum(args.csv, model.p, res["escape"])
        print(f"wrote {args.csv}")
    if args.plot:
        plot(res, args.plot)
        print(f"wrote {args.plot}")
    return res


if __name__ == "__main__":
    main()
