"""Particle flux from a distribution function: a dipole anisotropy makes cosmic rays stream.

A proton population with phase-space density ``f0(p) = A p^-4.7`` (1 GeV/c .. 10 TeV/c,
normalised to n = 1e-9 cm^-3) carries a small dipole along the field,
``f(p, mu) = f0(p) (1 + 3 delta mu)``.  Its moments are computed on a logarithmic momentum grid
with :mod:`galprop_py.microphysics.moments` and compared with the analytic values:

* ``n = 4 pi A (p2^(3-s) - p1^(3-s)) / (3 - s)`` (the dipole does not change n);
* ``J = int v mu f d^3p = delta * 4 pi int p^2 v f0 dp = delta n <v>``: the streaming speed
  ``J / n`` is ``delta`` times the mean particle speed, about ``delta c``;
* the intensity ``I ~ 1 + 3 delta mu`` has dipole amplitude ``(I_max - I_min)/(I_max + I_min)
  = 3 delta``;
* an isotropic ``f`` carries no flux.

With Fick's law ``J = -kappa grad n`` the anisotropy also measures the density gradient: the
gradient length ``n / |grad n| = kappa / (delta <v>)``.

Run: ``python examples/particle_flux/particle_flux.py`` (package installed or PYTHONPATH=.).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from galprop_py.microphysics.moments import (
    energy_density,
    number_density,
    particle_flux,
    power_law_number_density,
)
from galprop_py.physics.kinematics import velocity_cm_s
from galprop_py.units import KM_CM, KPC_CM, M_P_GEV

INDEX = 4.7
P1_GEV, P2_GEV = 1.0, 1.0e4
DENSITY_CM3 = 1e-9
DELTA = 1e-3
KAPPA_CM2_S = 3e28


def particle_flux_numbers(delta: float = DELTA, points_per_decade: int = 200) -> dict[str, float]:
    """Moments of the anisotropic proton population, numerical and analytic.

    Parameters
    ----------
    delta : float
        Dipole amplitude of ``f``: ``f = f0 (1 + 3 delta mu)``.
    points_per_decade : int
        Resolution of the logarithmic momentum grid.

    Returns
    -------
    dict
        Number density, fluxes, energy density and derived speeds (cgs; speeds in km/s).
    """
    amplitude = DENSITY_CM3 / power_law_number_density(1.0, INDEX, P1_GEV, P2_GEV)
    p = np.geomspace(P1_GEV, P2_GEV, int(points_per_decade * math.log10(P2_GEV / P1_GEV)) + 1)
    mu, w = np.polynomial.legendre.leggauss(8)
    f0 = amplitude * p**-INDEX
    f = f0[np.newaxis, :] * (1.0 + 3.0 * delta * mu[:, np.newaxis])

    n = float(number_density(f, p, mu=mu, mu_weights=w))
    j = float(particle_flux(f, p, M_P_GEV, mu=mu, mu_weights=w))
    j_iso = float(particle_flux(f0, p, M_P_GEV))

    def speed_moment(ln_p: float) -> float:
        pp = math.exp(ln_p)
        return 4.0 * math.pi * amplitude * pp ** (3.0 - INDEX) * float(velocity_cm_s(pp, M_P_GEV))

    j_exact = delta * quad(speed_moment, math.log(P1_GEV), math.log(P2_GEV), epsrel=1e-12)[0]
    mean_speed = j_exact / (delta * DENSITY_CM3)
    intensity = 1.0 + 3.0 * delta * np.array([1.0, -1.0])
    return {
        "number_density_cm3": n,
        "number_density_analytic_cm3": DENSITY_CM3,
        "kinetic_energy_density_ev_cm3": 1e9
        * float(energy_density(f0, p, M_P_GEV, include_rest_mass=False)),
        "flux_cm2_s": j,
        "flux_analytic_cm2_s": j_exact,
        "flux_isotropic_cm2_s": j_iso,
        "mean_speed_km_s": mean_speed / KM_CM,
        "streaming_speed_km_s": j / n / KM_CM,
        "dipole_amplitude": float((intensity[0] - intensity[1]) / intensity.sum()),
        "gradient_length_kpc": KAPPA_CM2_S / (delta * mean_speed) / KPC_CM,
    }


def main() -> None:
    """Print the numbers of the example."""
    r = particle_flux_numbers()
    print(f"f = f0 (1 + 3 delta mu), f0 ~ p^-{INDEX}, delta = {DELTA:g}")
    print(f"n          = {r['number_density_cm3']:.6e} cm^-3 (analytic {DENSITY_CM3:.6e})")
    print(f"u_kin      = {r['kinetic_energy_density_ev_cm3']:.4f} eV cm^-3")
    print(
        f"J          = {r['flux_cm2_s']:.6e} cm^-2 s^-1 (analytic {r['flux_analytic_cm2_s']:.6e})"
    )
    print(f"J(iso)     = {r['flux_isotropic_cm2_s']:g}")
    print(f"<v>        = {r['mean_speed_km_s']:.1f} km/s")
    print(f"J / n      = {r['streaming_speed_km_s']:.3f} km/s = delta <v>")
    print(f"dipole amplitude of the intensity = {r['dipole_amplitude']:.4g} = 3 delta")
    print(f"gradient length kappa/(delta <v>) = {r['gradient_length_kpc']:.3f} kpc (kappa = 3e28)")


if __name__ == "__main__":
    main()
