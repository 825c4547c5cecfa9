"""Adiabatic cooling of cosmic rays in an expanding galactic wind.

In the Parker equation the term ``(p/3) (div u) df/dp`` makes every particle lose momentum at
the rate ``dp/dt = -(p/3) div u``: the cooling time is ``t_ad = p / |dp/dt| = 3 / div u``.
For a steady spherical wind of constant speed ``u`` (a starburst superwind),
``div u = 2 u / r``, so ``t_ad = 3 r / (2 u)``, and a gas parcel carried from ``r0`` to ``r``
(``dt = dr / u``) sees ``d ln p / d ln r = -2/3``::

    p(r) = p0 (r / r0)^(-2/3)          (p ~ rho^(1/3), rho ~ r^-2)

With scattering-dominated transport (advection, no diffusion) ``f`` is conserved along these
characteristics, so the spectrum arrives shifted to lower momenta:
``f(p, r) = f0(p (r/r0)^(2/3))``.  Hence the density follows the gas, ``n ~ (r/r0)^-2``, a
power law ``f ~ p^-s`` drops by ``(r/r0)^(-2s/3)`` at fixed momentum, and the energy density
of relativistic particles falls as ``(r/r0)^(-8/3)`` (a relativistic gas with
``gamma = 4/3``: ``u ~ rho^(4/3)``).

The script integrates ``dp/dt`` along the flow (scipy ``solve_ivp``) and takes the moments of
the shifted spectrum on a momentum grid, and compares both with these closed forms.

Run: ``python examples/adiabatic_cooling/adiabatic_cooling.py [--plot spectra.png]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.integrate import solve_ivp

from galprop_py.microphysics.moments import energy_density, number_density
from galprop_py.units import KM_CM, KPC_CM, M_P_GEV, MYR_S

WIND_KM_S = 1000.0
R0_KPC, R1_KPC = 1.0, 10.0
INDEX = 4.5
P_REF = 1e5  # GeV/c, far from both cut-offs


def divergence_spherical_wind_per_s(r_kpc: float, wind_km_s: float = WIND_KM_S) -> float:
    """``div u = 2 u / r`` [1/s] of a constant-speed spherical wind."""
    return 2.0 * wind_km_s * KM_CM / (r_kpc * KPC_CM)


def cooling_time_myr(r_kpc: float, wind_km_s: float = WIND_KM_S) -> float:
    """Adiabatic cooling time ``3 / div u`` [Myr]."""
    return 3.0 / divergence_spherical_wind_per_s(r_kpc, wind_km_s) / MYR_S


def momentum_after_transport(p0_gev: float, r0_kpc: float, r1_kpc: float) -> float:
    """Integrate ``dp/dt = -(p/3) div u`` along the flow from ``r0`` to ``r1`` [GeV/c]."""
    speed = WIND_KM_S * KM_CM

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        r_kpc = r0_kpc + speed * t / KPC_CM
        return -y / 3.0 * divergence_spherical_wind_per_s(r_kpc)

    t_end = (r1_kpc - r0_kpc) * KPC_CM / speed
    sol = solve_ivp(rhs, (0.0, t_end), [p0_gev], rtol=1e-11, atol=0.0, method="DOP853")
    return float(sol.y[0, -1])


def injected_spectrum(p_gev: np.ndarray) -> np.ndarray:
    """``f0 ~ p^-4.5`` with smooth cut-offs at 100 GeV/c and 1 EeV/c (relativistic)."""
    return p_gev**-INDEX * np.exp(-100.0 / p_gev - p_gev / 1e9)


def adiabatic_cooling_numbers() -> dict[str, float]:
    """Cooling times, momentum shift and moment ratios between ``r0`` and ``r1``."""
    ratio = R1_KPC / R0_KPC
    shift = ratio ** (-2.0 / 3.0)
    p = np.geomspace(1e-1, 1e11, 2401)
    f_r0 = injected_spectrum(p)
    f_r1 = injected_spectrum(p / shift)  # f conserved along p(r) = p0 shift
    n0, n1 = number_density(f_r0, p), number_density(f_r1, p)
    u0, u1 = energy_density(f_r0, p, M_P_GEV), energy_density(f_r1, p, M_P_GEV)
    return {
        "cooling_time_r0_myr": cooling_time_myr(R0_KPC),
        "cooling_time_r1_myr": cooling_time_myr(R1_KPC),
        "momentum_shift_numeric": momentum_after_transport(1000.0, R0_KPC, R1_KPC) / 1000.0,
        "momentum_shift_analytic": shift,
        "flux_drop_at_fixed_p": float(injected_spectrum(P_REF / shift) / injected_spectrum(P_REF)),
        "flux_drop_analytic": ratio ** (-2.0 * INDEX / 3.0),
        "density_ratio": float(n1 / n0),
        "density_ratio_analytic": ratio**-2.0,
        "energy_density_ratio": float(u1 / u0),
        "energy_density_ratio_ultrarelativistic": ratio ** (-8.0 / 3.0),
    }


def plot(path: str) -> None:
    """Save ``p^4 f`` at ``r0`` and ``r1``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = np.geomspace(1.0, 1e10, 400)
    shift = (R1_KPC / R0_KPC) ** (-2.0 / 3.0)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(p, p**4 * injected_spectrum(p), label=f"r = {R0_KPC:g} kpc")
    ax.loglog(p, p**4 * injected_spectrum(p / shift), label=f"r = {R1_KPC:g} kpc")
    peak = float(np.max(p**4 * injected_spectrum(p)))
    ax.set_ylim(1e-6 * peak, 3 * peak)
    ax.set(xlabel="p [GeV/c]", ylabel="p^4 f (arb.)", title="adiabatic cooling in a wind")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Print the numbers of the example (and optionally plot the spectra)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="write the spectra to this image file")
    args = parser.parse_args(argv)
    r = adiabatic_cooling_numbers()
    print(f"wind {WIND_KM_S:g} km/s, spherical: div u = 2u/r, t_ad = 3/div u = 3r/(2u)")
    print(f"t_ad({R0_KPC:g} kpc)  = {r['cooling_time_r0_myr']:.4f} Myr")
    print(f"t_ad({R1_KPC:g} kpc) = {r['cooling_time_r1_myr']:.4f} Myr")
    print(
        f"p(r1)/p(r0) = {r['momentum_shift_numeric']:.8f} (ODE)  "
        f"{r['momentum_shift_analytic']:.8f} = (r1/r0)^(-2/3)"
    )
    print(
        f"f drop at p = {P_REF:g} GeV/c = {r['flux_drop_at_fixed_p']:.5e} "
        f"(analytic (r1/r0)^(-2s/3) = {r['flux_drop_analytic']:.5e})"
    )
    print(f"n(r1)/n(r0) = {r['density_ratio']:.6f} (gas: {r['density_ratio_analytic']:.6f})")
    print(
        f"u(r1)/u(r0) = {r['energy_density_ratio']:.5e} "
        f"(relativistic gas (r1/r0)^(-8/3) = {r['energy_density_ratio_ultrarelativistic']:.5e})"
    )
    if args.plot:
        plot(args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
