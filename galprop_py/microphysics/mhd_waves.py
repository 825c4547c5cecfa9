"""Linear waves of ideal MHD: Alfven, slow and fast modes, speeds and polarisation.

For a uniform plasma with Alfven speed ``v_A = B / sqrt(4 pi rho)``, adiabatic sound speed
``c_s = sqrt(gamma P / rho)`` and a wave vector at angle ``theta`` to the mean field, the
phase speeds ``omega / k`` are (e.g. Kulsrud 2005, *Plasma Physics for Astrophysics*;
Goedbloed & Poedts 2004, *Principles of Magnetohydrodynamics*)::

    Alfven:     v^2 = v_A^2 cos^2 theta
    fast/slow:  v^2 = (v_A^2 + c_s^2)/2 +- sqrt((v_A^2 + c_s^2)^2 / 4 - v_A^2 c_s^2 cos^2 theta)

The plasma beta is the ratio of gas to magnetic pressure, ``beta = 8 pi P / B^2``, so that
``c_s^2 / v_A^2 = gamma beta / 2``.  Speeds here are returned in units of ``v_A``;
:func:`alfven_speed_cm_s` and :func:`sound_speed_cm_s` give the dimensional values.

Polarisation.  With ``B0 = B0 z_hat`` and ``k = k (sin theta, 0, cos theta)``, the plasma
displacement ``xi`` of a magnetosonic mode lies in the ``(k, B0)`` plane and the magnetic
perturbation ``delta B = curl(xi x B0) = i B0 (k_z xi_x, k_z xi_y, -k_x xi_x)``.  So

* Alfven mode: ``xi`` along y, ``delta B`` along y, ``delta B_par = 0`` (incompressible);
* fast and slow modes: ``delta B`` is perpendicular to ``k`` in the ``(k, B0)`` plane, hence
  ``|delta B_par| / |delta B| = sin theta``, and the field strength is modulated
  (``delta |B| = delta B_par``), which is what transit-time damping needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..units import M_P_G

Mode = Literal["alfven", "slow", "fast"]
MODES: tuple[Mode, ...] = ("alfven", "slow", "fast")


def alfven_speed_cm_s(
    b_gauss: ArrayLike, ion_density_cm3: ArrayLike, ion_mass_g: float = M_P_G
) -> NDArray[np.float64]:
    """Alfven speed ``B / sqrt(4 pi n m)`` [cm/s] of the ions (2.18 km/s for 1 muG, 1 cm^-3)."""
    rho = np.asarray(ion_density_cm3, dtype=float) * ion_mass_g
    return np.asarray(b_gauss, dtype=float) / np.sqrt(4.0 * math.pi * rho)


def sound_speed_cm_s(
    plasma_beta: ArrayLike, alfven_speed_cm_s: ArrayLike, gamma_ad: float = 5 / 3
) -> NDArray[np.float64]:
    """Adiabatic sound speed from beta and ``v_A``: ``c_s = v_A sqrt(gamma beta / 2)``."""
    return np.asarray(alfven_speed_cm_s, dtype=float) * np.sqrt(
        0.5 * gamma_ad * np.asarray(plasma_beta, dtype=float)
    )


@dataclass(frozen=True)
class PhaseSpeeds:
    """Phase speeds of the three MHD modes in units of the Alfven speed."""

    alfven: NDArray[np.float64]
    slow: NDArray[np.float64]
    fast: NDArray[np.float64]

    def of(self, mode: Mode) -> NDArray[np.float64]:
        """The speed of one mode by name."""
        return {"alfven": self.alfven, "slow": self.slow, "fast": self.fast}[mode]


def phase_speeds(
    plasma_beta: ArrayLike, theta_rad: ArrayLike, gamma_ad: float = 5 / 3
) -> PhaseSpeeds:
    """Phase speeds ``omega / k`` of the Alfven, slow and fast modes, in units of ``v_A``.

    Parameters
    ----------
    plasma_beta : array_like
        Gas-to-magnetic pressure ratio ``8 pi P / B^2`` (>= 0).
    theta_rad : array_like
        Angle between the wave vector and the mean field [rad].
    gamma_ad : float
        Adiabatic index of the gas.
    """
    beta = np.asarray(plasma_beta, dtype=float)
    if np.any(beta < 0):
        raise ValueError("plasma_beta must be >= 0")
    cs2 = 0.5 * gamma_ad * beta
    cos2 = np.cos(np.asarray(theta_rad, dtype=float)) ** 2
    half_sum = 0.5 * (1.0 + cs2)
    root = np.sqrt(np.maximum(half_sum**2 - cs2 * cos2, 0.0))
    fast2 = half_sum + root
    # slow^2 from the product fast^2 slow^2 = v_A^2 c_s^2 cos^2 theta (no cancellation)
    slow2 = cs2 * cos2 / fast2
    return PhaseSpeeds(np.sqrt(cos2) + 0.0 * beta, np.sqrt(slow2), np.sqrt(fast2))


@dataclass(frozen=True)
class Polarisation:
    """Eigenvector of one MHD mode (frame: ``B0 = z_hat``, ``k`` in the x-z plane).

    Attributes
    ----------
    displacement : ndarray
        Unit plasma displacement ``xi`` (3 components).
    delta_b : ndarray
        ``delta B / B0`` for ``|k xi| = 1`` (3 components; zero for a pure sound wave).
    delta_b_parallel_fraction : float
        ``|delta B_par| / |delta B|`` (0 if ``delta B = 0``).
    density_compression : float
        ``|delta rho / rho|`` for ``|k xi| = 1``.
    """

    displacement: NDArray[np.float64]
    delta_b: NDArray[np.float64]
    delta_b_parallel_fraction: float
    density_compression: float

    @property
    def has_transverse_delta_b(self) -> bool:
        """Whether the mode perturbs the field across ``B0`` (needed for gyroresonance)."""
        return bool(np.hypot(self.delta_b[0], self.delta_b[1]) > 1e-12)

    @property
    def has_compressive_delta_b(self) -> bool:
        """Whether the mode modulates ``|B|`` (``delta B_par != 0``; needed for TTD)."""
        return bool(abs(self.delta_b[2]) > 1e-12)


def wave_matrix(plasma_beta: float, theta_rad: float, gamma_ad: float = 5 / 3) -> NDArray:
    """Matrix ``M`` of ``(omega/k)^2 xi = M xi`` in units of ``v_A^2`` (ideal MHD)."""
    cs2 = 0.5 * gamma_ad * plasma_beta
    sx, cz = math.sin(theta_rad), math.cos(theta_rad)
    return np.array(
        [
            [1.0 + cs2 * sx * sx, 0.0, cs2 * sx * cz],
            [0.0, cz * cz, 0.0],
            [cs2 * sx * cz, 0.0, cs2 * cz * cz],
        ]
    )


def polarisation(
    mode: Mode, plasma_beta: float, theta_rad: float, gamma_ad: float = 5 / 3
) -> Polarisation:
    """Polarisation of one mode at given beta and propagation angle.

    Parameters
    ----------
    mode : {"alfven", "slow", "fast"}
        The wave mode.
    plasma_beta : float
        ``8 pi P / B^2``.
    theta_rad : float
        Angle between ``k`` and ``B0`` [rad].
    gamma_ad : float
        Adiabatic index.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    sx, cz = math.sin(theta_rad), math.cos(theta_rad)
    if mode == "alfven":
        xi = np.array([0.0, 1.0, 0.0])
    else:
        m = wave_matrix(plasma_beta, theta_rad, gamma_ad)[np.ix_([0, 2], [0, 2])]
        values, vectors = np.linalg.eigh(m)
        column = 1 if mode == "fast" else 0
        xi = np.array([vectors[0, column], 0.0, vectors[1, column]])
        if values[1] - values[0] < 1e-14:  # degenerate (v_A = c_s at theta = 0)
            xi = np.array([1.0, 0.0, 0.0]) if mode == "fast" else np.array([0.0, 0.0, 1.0])
    delta_b = np.array([cz * xi[0], cz * xi[1], -sx * xi[0]])
    norm_b = float(np.linalg.norm(delta_b))
    fraction = abs(delta_b[2]) / norm_b if norm_b > 1e-12 else 0.0
    compression = abs(sx * xi[0] + cz * xi[2])
    return Polarisation(xi, delta_b, fraction, compression)
