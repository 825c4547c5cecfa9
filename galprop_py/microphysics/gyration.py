"""Gyration of a charged particle in a magnetic field: gyroradius and gyrofrequency.

Gaussian (cgs) units: a rigidity R = p c / (Z e) in statvolt divided by a field in gauss is
a length, the gyroradius ``r_g = R / B``, and the relativistic gyrofrequency is
``Omega = v / r_g = Z e B / (gamma m c)``.  Rigidities enter in GV and are converted with
:data:`galprop_py.units.GV_STATVOLT` (1 GV = 3.3356e6 statvolt), so that a 1 GV particle in
1 microgauss has ``r_g = 3.3356e12 cm``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..units import C_CM_S, GV_STATVOLT


def rigidity_statvolt(rigidity_gv: ArrayLike) -> NDArray[np.float64]:
    """Rigidity in statvolt (= gauss cm) from rigidity in GV; the sign is kept."""
    return np.asarray(rigidity_gv, dtype=float) * GV_STATVOLT


def gyroradius_cm(rigidity_gv: ArrayLike, b_gauss: ArrayLike) -> NDArray[np.float64]:
    """Gyroradius of the full momentum, ``r_g = |R| / B`` [cm].

    Parameters
    ----------
    rigidity_gv : array_like
        Rigidity ``p c / (Z e)`` [GV]; only its magnitude is used.
    b_gauss : array_like
        Magnetic field strength [G].

    Returns
    -------
    ndarray
        ``r_g`` [cm] (the Larmor radius of a particle with pitch angle 90 degrees).
    """
    return np.abs(rigidity_statvolt(rigidity_gv)) / np.asarray(b_gauss, dtype=float)


def gyrofrequency_rad_s(
    rigidity_gv: ArrayLike, beta: ArrayLike, b_gauss: ArrayLike
) -> NDArray[np.float64]:
    """Relativistic gyrofrequency ``Omega = v / r_g = Z e B / (gamma m c)`` [rad/s].

    Parameters
    ----------
    rigidity_gv : array_like
        Rigidity [GV] (magnitude used).
    beta : array_like
        Particle speed in units of c.
    b_gauss : array_like
        Magnetic field strength [G].
    """
    return np.asarray(beta, dtype=float) * C_CM_S / gyroradius_cm(rigidity_gv, b_gauss)
