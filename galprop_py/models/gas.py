"""Analytic interstellar gas of the Milky Way (atomic + molecular hydrogen), in cm^-3.

* H I: the vertical profile of Dickey & Lockman (1990, ARA&A 28, 215) — two Gaussians and an
  exponential, 0.57 cm^-3 at the solar mid-plane — times a radial factor that is flat from
  the inner-Galaxy hole (~3 kpc) to 12 kpc and falls off exponentially (scale 4 kpc) beyond,
  a smooth stand-in for the H I surface density of Ferriere (2001, RvMP 73, 1031, fig. 1).
* H2: the molecular ring of Ferriere (2001, eq. 3): 0.58 cm^-3 (R/R_sun)^-0.58
  exp{-[(R - 4.5)^2 - (R_sun - 4.5)^2] / 2.9^2} exp{-[z / (0.081 (R/R_sun)^0.58)]^2}
  (molecules; H nuclei count twice).
"""

from __future__ import annotations

import numpy as np

R_SUN_GAS_KPC = 8.5  # solar radius used by the fits above


def n_hi(r, z):
    """Atomic hydrogen density [cm^-3] at radius r and height z [kpc]."""
    z = np.abs(np.asarray(z, float))
    r = np.asarray(r, float)
    vertical = (
        0.395 * np.exp(-0.5 * (z / 0.0902) ** 2)
        + 0.107 * np.exp(-0.5 * (z / 0.225) ** 2)
        + 0.064 * np.exp(-z / 0.403)
    )
    radial = (1.0 - np.exp(-((r / 3.0) ** 4))) * np.exp(-np.maximum(r - 12.0, 0.0) / 4.0)
    return vertical * radial


def n_h2(r, z):
    """Molecular hydrogen density [molecules cm^-3]."""
    r = np.maximum(np.asarray(r, float), 1e-3)
    z = np.asarray(z, float)
    x = r / R_SUN_GAS_KPC
    radial = 0.58 * x**-0.58 * np.exp(-((r - 4.5) ** 2 - (R_SUN_GAS_KPC - 4.5) ** 2) / 2.9**2)
    return radial * np.exp(-((z / (0.081 * x**0.58)) ** 2))


def n_h_nuclei(r, z):
    """Hydrogen nuclei in neutral gas, n_HI + 2 n_H2 [cm^-3] (targets for spallation and
    ionisation losses)."""
    return n_hi(r, z) + 2.0 * n_h2(r, z)
