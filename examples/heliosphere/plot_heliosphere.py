"""The spherical Parker heliosphere of config.toml: AMS-02 protons at 1 AU, the force field
with the same potential, and radial profiles.

    python examples/heliosphere/plot_heliosphere.py [--out heliosphere.png]

Prints phi = int V / (3 kappa_1) dr, the chi^2 of both models against AMS-02 below 10 GV and
the effective force-field potential of the Parker spectrum at a few rigidities.  The LIS is
Vos & Potgieter 2015 (ApJ 815, 119, eq. 4).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from galprop_py import observations
from galprop_py.config import load_config
from galprop_py.heliosphere.parker import ParkerModel, force_field_potential
from galprop_py.physics import kinematics
from galprop_py.physics.modulation import force_field_analytic, parker_parameters
from galprop_py.physics.species import PROTON
from galprop_py.units import M_P_GEV

HERE = Path(__file__).parent


def lis_vp15(t):
    """Vos & Potgieter 2015 proton LIS [m^-2 s^-1 sr^-1 GeV^-1], T [GeV]."""
    t = np.asarray(t, dtype=float)
    b2 = kinematics.beta(kinematics.momentum_from_kinetic(t, M_P_GEV), M_P_GEV) ** 2
    return 2.70e3 * t**1.12 / b2 * ((t + 0.67) / 1.67) ** -3.93


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(HERE / "config.toml"))
    ap.add_argument("--out", default="heliosphere.png")
    args = ap.parse_args()
    prm = parker_parameters(load_config(args.config).modulation.spherical_parker)
    rig = np.geomspace(0.2, 200.0, prm.n_rigidity)
    t = kinematics.kinetic_energy(rig, M_P_GEV)
    model = ParkerModel(prm, PROTON, rig)
    sol = model.solve(lis_vp15(t))
    phi = force_field_potential(prm)
    beta = kinematics.beta(rig, M_P_GEV)  # dT/dR of protons: fluxes per GV
    ff = force_field_analytic(t, lis_vp15, phi, M_P_GEV, 1, 1)
    ams = observations.load("ams02_proton_rigidity")
    sel = ams.x < 10.0

    def at_data(j):
        return np.exp(np.interp(np.log(ams.x), np.log(rig), np.log(j * beta)))

    for name, j in (("Parker", sol.observer), ("force field", ff)):
        chi2 = np.sum(((at_data(j) - ams.y) / ams.y_err_hi)[sel] ** 2)
        print(f"{name:12s} chi2 = {chi2:7.1f} for {sel.sum()} AMS-02 points below 10 GV")
    print(f"phi = int V/(3 kappa_1) dr = {phi:.3f} GV")
    for r_gv in (1.0, 2.0, 5.0, 10.0):
        k = int(np.argmin(np.abs(rig - r_gv)))

        def g(x, k=k):
            return (
                force_field_analytic(t[k : k + 1], lis_vp15, x, M_P_GEV, 1, 1)[0] - sol.observer[k]
            )

        print(f"  effective force-field phi at {rig[k]:6.2f} GV: {brentq(g, 1e-6, 5.0):.3f} GV")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax1.loglog(rig, lis_vp15(t) * beta, "k--", label="LIS (Vos & Potgieter 2015)")
    ax1.loglog(rig, sol.observer * beta, "C0", label="spherical Parker, 1 AU")
    ax1.loglog(rig, ff * beta, "C1:", label=f"force field, phi = {phi:.2f} GV")
    ax1.errorbar(ams.x, ams.y, yerr=[ams.y_err_lo, ams.y_err_hi], fmt="k.", ms=3, label=ams.label)
    ax1.set(xlim=(0.3, 100), ylim=(1e-1, 3e3), xlabel="rigidity [GV]")
    ax1.set_ylabel("flux [m$^{-2}$ s$^{-1}$ sr$^{-1}$ GV$^{-1}$]")
    ax1.legend(fontsize=7)
    for r_gv in (0.5, 1.0, 3.0, 10.0):
        k = int(np.argmin(np.abs(rig - r_gv)))
        ax2.semilogx(sol.r, sol.psi[:, k] / sol.psi_lis[k], label=f"{rig[k]:.1f} GV")
    ax2.set(xlabel="r [AU]", ylabel="J / J_LIS", title="radial profiles")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    model.destroy()


if __name__ == "__main__":
    main()
