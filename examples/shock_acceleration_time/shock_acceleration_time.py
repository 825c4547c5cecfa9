"""Acceleration time at a supernova-remnant shock with Bohm diffusion (benchmarks.md B10).

Test-particle diffusive shock acceleration (Krymsky 1977; Bell 1978; Blandford & Ostriker
1978; Drury 1983): a shock of compression ratio ``r = u1 / u2`` produces ``f ~ p^-q`` with
``q = 3 r / (r - 1)`` (4 for a strong shock), and the mean time to reach momentum ``p`` is::

    t_acc(p) = 3 / (u1 - u2) int^p (kappa1 / u1 + kappa2 / u2) dp' / p'

For Bohm diffusion ``kappa = r_g v / 3`` with ``r_g = 3.3e12 cm (E/GeV) (B/muG)^-1``:
``kappa ~ E`` for relativistic particles, the integral is just ``kappa(p)``, and with the
same field on both sides of a strong shock::

    t_acc = 3 r (1 + r B1/B2) kappa1 / ((r - 1) u1^2)  = 20 kappa / u1^2   (r = 4, B2 = B1)

The script evaluates this closed form with the B10 numbers and the integral numerically with
the exact gyroradius and speed of :mod:`galprop_py.microphysics.gyration` and
:mod:`galprop_py.physics.kinematics`, and gives the maximum energy reached at a remnant age
(``t_acc(E_max) = t_age``) for an interstellar (3 muG) and an amplified (100 muG) field.

Run: ``python examples/shock_acceleration_time/shock_acceleration_time.py [--plot t.png]``.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.integrate import quad

from galprop_py.microphysics.gyration import gyroradius_cm
from galprop_py.physics.kinematics import beta, momentum_from_kinetic
from galprop_py.units import C_CM_S, KM_CM, M_P_GEV, YR_S

SHOCK_KM_S = 5000.0
COMPRESSION = 4.0
B_MICROGAUSS = 3.0
AMPLIFIED_MICROGAUSS = 100.0
ENERGY_GEV = 1000.0
AGE_YR = 1000.0
B10_GYRORADIUS_CM = 3.3e12  # per GeV per (1/muG)


def bohm_kappa_b10_cm2_s(energy_gev: float, b_microgauss: float) -> float:
    """Bohm ``kappa = r_g c / 3`` with the B10 gyroradius ``3.3e12 cm (E/GeV)(B/muG)^-1``."""
    return B10_GYRORADIUS_CM * energy_gev / b_microgauss * C_CM_S / 3.0


def acceleration_time_closed_form_s(
    energy_gev: float,
    b1_microgauss: float,
    b2_microgauss: float | None = None,
    shock_km_s: float = SHOCK_KM_S,
    compression: float = COMPRESSION,
) -> float:
    """``t_acc = 3 r (1 + r B1/B2) kappa1 / ((r - 1) u1^2)`` [s] (relativistic Bohm)."""
    b2 = b1_microgauss if b2_microgauss is None else b2_microgauss
    u1 = shock_km_s * KM_CM
    kappa1 = bohm_kappa_b10_cm2_s(energy_gev, b1_microgauss)
    r = compression
    return 3.0 * r * (1.0 + r * b1_microgauss / b2) * kappa1 / ((r - 1.0) * u1 * u1)


def acceleration_time_integral_s(
    p_gev: float,
    b1_microgauss: float,
    b2_microgauss: float | None = None,
    shock_km_s: float = SHOCK_KM_S,
    compression: float = COMPRESSION,
    p_injection_gev: float = 1e-2,
) -> float:
    """B10 integral with the exact Bohm ``kappa = r_g(p) v(p) / 3`` of a proton [s]."""
    b2 = b1_microgauss if b2_microgauss is None else b2_microgauss
    u1 = shock_km_s * KM_CM
    u2 = u1 / compression

    def kappa(p: float, b_microgauss: float) -> float:
        v = float(beta(p, M_P_GEV)) * C_CM_S
        return float(gyroradius_cm(p, b_microgauss * 1e-6)) * v / 3.0

    def integrand(ln_p: float) -> float:
        p = math.exp(ln_p)
        return kappa(p, b1_microgauss) / u1 + kappa(p, b2) / u2

    integral = quad(integrand, math.log(p_injection_gev), math.log(p_gev), epsrel=1e-11)[0]
    return 3.0 / (u1 - u2) * integral


def shock_acceleration_numbers() -> dict[str, float]:
    """The numbers of the example (times in years, energies in GeV)."""
    t_closed = acceleration_time_closed_form_s(ENERGY_GEV, B_MICROGAUSS) / YR_S
    p = float(momentum_from_kinetic(ENERGY_GEV - M_P_GEV, M_P_GEV))  # B10's E: total energy
    t_integral = acceleration_time_integral_s(p, B_MICROGAUSS) / YR_S
    t_amplified = acceleration_time_closed_form_s(ENERGY_GEV, AMPLIFIED_MICROGAUSS) / YR_S
    return {
        "spectral_index_q": 3.0 * COMPRESSION / (COMPRESSION - 1.0),
        "gyroradius_b10_cm": B10_GYRORADIUS_CM * ENERGY_GEV / B_MICROGAUSS,
        "gyroradius_exact_cm": float(gyroradius_cm(p, B_MICROGAUSS * 1e-6)),
        "kappa_bohm_cm2_s": bohm_kappa_b10_cm2_s(ENERGY_GEV, B_MICROGAUSS),
        "t_acc_closed_form_yr": t_closed,
        "t_acc_integral_yr": t_integral,
        "t_acc_amplified_yr": t_amplified,
        # t_acc ~ E, so t_acc(E_max) = t_age gives E_max = E t_age / t_acc(E)
        "e_max_gev": ENERGY_GEV * AGE_YR / t_closed,
        "e_max_amplified_gev": ENERGY_GEV * AGE_YR / t_amplified,
    }


def plot(path: str) -> None:
    """Save ``t_acc(E)`` for the two fields, with the remnant age."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    energy = np.geomspace(10.0, 1e7, 100)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for b in (B_MICROGAUSS, AMPLIFIED_MICROGAUSS):
        t = [acceleration_time_closed_form_s(e, b) / YR_S for e in energy]
        ax.loglog(energy, t, label=f"Bohm, B = {b:g} muG")
    t_exact = [
        acceleration_time_integral_s(
            float(momentum_from_kinetic(e - M_P_GEV, M_P_GEV)), B_MICROGAUSS
        )
        / YR_S
        for e in energy
    ]
    ax.loglog(energy, t_exact, "k:", label="exact kinematics, 3 muG")
    ax.axhline(AGE_YR, color="grey", lw=0.8)
    ax.set(xlabel="E [GeV]", ylabel="t_acc [yr]", title=f"u1 = {SHOCK_KM_S:g} km/s, r = 4")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Print the numbers of the example (and optionally plot t_acc(E))."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="write t_acc(E) to this image file")
    args = parser.parse_args(argv)
    r = shock_acceleration_numbers()
    print(f"shock u1 = {SHOCK_KM_S:g} km/s, r = {COMPRESSION:g}: f ~ p^-{r['spectral_index_q']:g}")
    print(
        f"E = {ENERGY_GEV:g} GeV, B = {B_MICROGAUSS:g} muG: r_g = {r['gyroradius_b10_cm']:.4e} cm "
        f"(B10), {r['gyroradius_exact_cm']:.4e} cm (exact)"
    )
    print(f"Bohm kappa = r_g c / 3 = {r['kappa_bohm_cm2_s']:.4e} cm^2/s")
    print(f"t_acc = 20 kappa / u1^2 = {r['t_acc_closed_form_yr']:.3f} yr")
    print(f"t_acc (B10 integral, exact kinematics) = {r['t_acc_integral_yr']:.3f} yr")
    print(f"t_acc at {AMPLIFIED_MICROGAUSS:g} muG = {r['t_acc_amplified_yr']:.4f} yr")
    print(
        f"E_max at age {AGE_YR:g} yr: {r['e_max_gev'] / 1e3:.1f} TeV ({B_MICROGAUSS:g} muG), "
        f"{r['e_max_amplified_gev'] / 1e6:.2f} PeV ({AMPLIFIED_MICROGAUSS:g} muG)"
    )
    if args.plot:
        plot(args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
