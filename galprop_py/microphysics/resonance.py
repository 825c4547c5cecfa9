"""Wave-particle resonances: ``omega - k_par v mu = n Omega``.

A particle of speed ``v``, pitch-angle cosine ``mu`` and gyrofrequency ``Omega > 0`` (the
sign of the charge is absorbed in the sign of the harmonic ``n``) exchanges momentum
secularly with a wave ``(omega, k_par)`` when the wave frequency seen in the guiding-centre
frame is a multiple of ``Omega`` (e.g. Schlickeiser 2002, *Cosmic Ray Astrophysics*, ch. 12):

* ``n = +-1, +-2, ...``: gyroresonance, driven by the fluctuations *across* the mean field
  (``delta B_perp``); Alfven, fast and (oblique) slow modes all have them.
* ``n = 0``: Landau / transit-time damping (TTD) resonance ``v mu = omega / k_par``, driven
  by the mirror force of the *field-strength* fluctuations ``delta B_par``; only the
  compressive slow and fast modes have them, not the Alfven mode.

Which mode can take part in which resonance follows from its polarisation
(:mod:`galprop_py.microphysics.mhd_waves`).  For waves with ``omega = k_par u_par``
(``u_par`` the parallel phase speed, 0 for magnetostatic fluctuations) the gyroresonant
parallel wavenumber is ``k_par = n Omega / (u_par - v mu)``.

The sharp resonance ``pi delta(omega - k_par v mu - n Omega)`` of quasi-linear theory is
broadened when the orbit or the wave decorrelates at a rate ``Gamma``; integrating the
correlation ``cos(a t) exp(-Gamma t)`` over time gives the Lorentzian
``Gamma / (a^2 + Gamma^2)`` (:func:`resonance_function`), which tends to ``pi delta(a)`` as
``Gamma -> 0`` (Völk 1973, Ap&SS 25, 471); a Gaussian decorrelation gives a Gaussian profile
(Yan & Lazarian 2008, ApJ 673, 942).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .mhd_waves import MODES, Mode, polarisation

GYRORESONANCE = "gyroresonance"
TRANSIT_TIME_DAMPING = "transit_time_damping"
ResonanceShape = Literal["lorentzian", "gaussian"]


def resonant_parallel_wavenumber(
    harmonic: int,
    mu: ArrayLike,
    speed_cm_s: float,
    gyrofrequency_rad_s: float,
    wave_parallel_speed_cm_s: float = 0.0,
) -> NDArray[np.float64]:
    """Parallel wavenumber ``k_par = n Omega / (u_par - v mu)`` of a gyroresonance [1/cm].

    Parameters
    ----------
    harmonic : int
        ``n != 0``; for ``n = 0`` use :func:`landau_resonant_mu`.
    mu : array_like
        Pitch-angle cosine(s).
    speed_cm_s : float
        Particle speed [cm/s].
    gyrofrequency_rad_s : float
        Relativistic gyrofrequency ``Omega > 0`` [rad/s].
    wave_parallel_speed_cm_s : float
        Parallel phase speed ``omega / k_par`` of the waves [cm/s] (0: magnetostatic).

    Returns
    -------
    ndarray
        Signed ``k_par`` [1/cm]; ``inf`` where ``v mu = u_par`` (no finite resonance).
    """
    if harmonic == 0:
        raise ValueError("n = 0 has no resonant k_par; use landau_resonant_mu")
    mismatch = wave_parallel_speed_cm_s - speed_cm_s * np.asarray(mu, dtype=float)
    with np.errstate(divide="ignore"):
        k = harmonic * gyrofrequency_rad_s / mismatch
    return np.where(mismatch == 0.0, np.inf, k)


def landau_resonant_mu(wave_parallel_speed_cm_s: ArrayLike, speed_cm_s: float) -> NDArray:
    """Pitch-angle cosine ``mu = u_par / v`` of the ``n = 0`` (TTD) resonance.

    ``nan`` where ``|u_par| > v``: such waves cannot be overtaken and give no TTD.
    """
    mu = np.asarray(wave_parallel_speed_cm_s, dtype=float) / speed_cm_s
    return np.where(np.abs(mu) <= 1.0, mu, np.nan)


def resonance_function(
    mismatch_rad_s: ArrayLike,
    width_rad_s: ArrayLike,
    shape: ResonanceShape = "lorentzian",
) -> NDArray[np.float64]:
    """Broadened resonance [s]; its integral over the mismatch ``a`` is ``pi`` for any width.

    Parameters
    ----------
    mismatch_rad_s : array_like
        ``a = k_par v mu - omega + n Omega`` [rad/s].
    width_rad_s : array_like
        Decorrelation rate ``Gamma > 0`` [rad/s].
    shape : {"lorentzian", "gaussian"}
        ``"lorentzian"``: ``Gamma / (a^2 + Gamma^2)``, the time integral of
        ``cos(a t) exp(-Gamma t)`` (exponential decorrelation; Völk 1973).
        ``"gaussian"``: ``(sqrt(pi) / Gamma) exp(-a^2 / Gamma^2)``, the time integral of
        ``cos(a t) exp(-Gamma^2 t^2 / 4)`` (a Gaussian spread of parallel speeds, the form of
        Yan & Lazarian 2008); its tails fall off much faster.
    """
    a = np.asarray(mismatch_rad_s, dtype=float)
    g = np.asarray(width_rad_s, dtype=float)
    if shape == "lorentzian":
        return g / (a * a + g * g)
    if shape == "gaussian":
        return math.sqrt(math.pi) / g * np.exp(-((a / g) ** 2))
    raise ValueError(f"shape must be 'lorentzian' or 'gaussian', not {shape!r}")


def can_resonate(
    mode: Mode,
    harmonic: int,
    plasma_beta: float = 0.1,
    theta_rad: float = math.pi / 4,
) -> bool:
    """Whether a mode can scatter particles through the resonance of order ``harmonic``.

    Gyroresonance (``n != 0``) needs a transverse ``delta B``; TTD (``n = 0``) needs a
    compressive ``delta B_par``.  Decided from the eigenvector of the mode at the given
    plasma beta and propagation angle (the default is a generic oblique wave).
    """
    pol = polarisation(mode, plasma_beta, theta_rad)
    if harmonic == 0:
        return pol.has_compressive_delta_b
    return pol.has_transverse_delta_b


def scattering_channels(
    plasma_beta: float = 0.1, theta_rad: float = math.pi / 4
) -> dict[str, dict[str, bool]]:
    """Table ``{mode: {"gyroresonance": bool, "transit_time_damping": bool}}``.

    For oblique propagation: Alfven ``(True, False)``, slow ``(True, True)``, fast
    ``(True, True)``.
    """
    return {
        mode: {
            GYRORESONANCE: can_resonate(mode, 1, plasma_beta, theta_rad),
            TRANSIT_TIME_DAMPING: can_resonate(mode, 0, plasma_beta, theta_rad),
        }
        for mode in MODES
    }
