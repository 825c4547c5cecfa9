"""Continuous energy-loss rates of cosmic-ray nuclei and electrons.

Every rate is the positive loss rate ``b = -dT/dt`` of the kinetic energy per particle, in
GeV/s (cgs time); the loss operator converts to per Myr with ``units.MYR_S``.  Momenta are
in GeV/c, gas densities in cm^-3, magnetic fields in microgauss, photon energy densities in
eV/cm^3, temperatures in K.  ``n_h`` is the density of neutral hydrogen atoms and
``f_he = n_He / n_H`` the helium abundance by number (0.08 by default).

The physics lives in numba kernels (names ending in ``_kernel``): pure functions of
contiguous float64 arrays and scalars that fill an ``out`` array.  The public functions are
thin numpy wrappers that accept any array-like momentum and return an array of its shape;
the ``*_grid`` wrappers give the loss rate of every (cell, momentum) pair for per-cell gas
densities, fields and radiation.

Processes and references
------------------------
Nuclei
    * ionisation of neutral H and He: Bethe-Bloch as in benchmarks.md B11 (Mannheim &
      Schlickeiser 1994, A&A 286, 983; Strong & Moskalenko 1998, ApJ 509, 212),
      ``dT/dt = v dE/dx``, I_H = 19 eV, I_He = 44 eV.  Stopping is per target electron, so
      He counts twice: ``B_H + 2 f_He B_He`` (B11 as written has ``f_He B_He``, which gives
      ~6% less than the PDG stopping power of the H/He mix).  No shell or effective-charge
      corrections (valid above ~1 MeV/n); the Bethe logarithm is clipped at zero.
    * Coulomb losses on ionised gas (Mannheim & Schlickeiser 1994):
      ``4 pi r_e^2 c m_e c^2 Z^2 n_e ln(Lambda) beta^2 / (x_m^3 + beta^3)``,
      ``x_m = (3 sqrt(pi)/4)^(1/3) (2 k T_e / m_e c^2)^(1/2)``.
Electrons and positrons
    * ionisation: Moller stopping formula (Rohrlich & Carlson 1954; ICRU Report 37; PDG
      review "Passage of particles through matter"), whose ultrarelativistic limit is the
      ``2 pi r_e^2 c m_e c^2 n (3 ln gamma + 19.8)`` of Ginzburg (1979) and Longair (2011,
      High Energy Astrophysics).  Positrons use it too (Bhabha differs by a few %).
    * bremsstrahlung on neutral H and He: the smaller of the unscreened limit
      ``4 alpha r_e^2 c T Z(Z+1) (ln 2 gamma - 1/3)`` (Blumenthal & Gould 1970, RMP 42, 237)
      and the complete-screening limit ``4 alpha r_e^2 c T [Z^2 (L_rad - f(Z)) + Z L'_rad +
      (Z^2 + Z)/18]`` (Tsai 1974, RMP 46, 815; PDG).  They meet at gamma ~ 230 (H), ~ 120
      (He); the partial-screening rate lies below both near there, so this overestimates
      it by of order 10% over gamma ~ 30-3000 (not quantified here: no phi(Delta) table).
    * synchrotron (isotropic pitch angles) and Thomson inverse Compton:
      ``(4/3) sigma_T c U gamma^2 beta^2`` (B7: b0 = 1.02e-16 (U / eV cm^-3) GeV^-1 s^-1).
    * inverse Compton on black/grey-body fields with Klein-Nishina suppression: the exact
      angle-averaged rate on isotropic photons (Jones 1968, Phys. Rev. 167, 1159;
      Blumenthal & Gould 1970, for gamma >> 1) integrated over a Planck spectrum
      of temperature T, scaled to the field's energy density U:
      ``(4/3) sigma_T c U gamma^2 beta^2 G(4 gamma k T / m_e c^2)``.  G is tabulated once
      by quadrature (no fitting formula); G -> 1 in the Thomson regime and, for b >> 1, to
      the extreme-KN limit ``45 (ln b - 5/6 - C_E - C_l) / (4 pi^2 b^2)`` (Blumenthal &
      Gould 1970), used beyond the table.
    * inverse Compton on tabulated isotropic spectra du/d eps (Klein-Nishina): the
      monoenergetic suppression f_KN(4 gamma eps / m_e c^2) of the same kernel, tabulated
      once, summed over Gauss-Legendre "photon lines" of the log-log interpolated spectrum
      (:func:`inverse_compton_kn_loss_tabulated`; ISRF models in
      :mod:`galprop_py.galaxy.radiation`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np
from numba import njit
from numpy.typing import ArrayLike
from scipy.integrate import simpson

from ..units import (
    ALPHA_FS,
    C_CM_S,
    EV_GEV,
    H_PLANCK_EV_S,
    K_B_EV_K,
    M_E_GEV,
    M_P_GEV,
    R_E_CM,
    SIGMA_T_CM2,
    magnetic_energy_density_ev_cm3,
)

# --- target material --------------------------------------------------------------------
I_H_GEV = 19.0 * EV_GEV  # mean excitation energy of atomic H (benchmarks.md B11)
I_HE_GEV = 44.0 * EV_GEV  # mean excitation energy of He (benchmarks.md B11)
F_HE_DEFAULT = 0.08  # n_He / n_H by number


def _complete_screening_bracket(z: int, l_rad: float, l_rad_prime: float) -> float:
    """Z^2 (L_rad - f(Z)) + Z L'_rad + (Z^2 + Z)/18 (Tsai 1974; PDG)."""
    a2 = (ALPHA_FS * z) ** 2
    f_coulomb = a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2**2 - 0.002 * a2**3)
    return z * z * (l_rad - f_coulomb) + z * l_rad_prime + (z * z + z) / 18.0


BREMS_STRONG_H = _complete_screening_bracket(1, 5.31, 6.144)  # Tsai's L_rad, L'_rad for H
BREMS_STRONG_HE = _complete_screening_bracket(2, 4.79, 5.621)  # and for He

# --- derived coefficients (cgs time, GeV energies) ---------------------------------------
_TWO_PI_RE2_C_MEC2 = 2.0 * math.pi * R_E_CM**2 * C_CM_S * M_E_GEV  # GeV cm^3 s^-1
_FOUR_ALPHA_RE2_C = 4.0 * ALPHA_FS * R_E_CM**2 * C_CM_S  # cm^3 s^-1
_THOMSON_RATE = 4.0 / 3.0 * SIGMA_T_CM2 * C_CM_S * EV_GEV  # (4/3) sigma_T c per eV/cm^3, GeV/s
_HBAR_C_GEV_CM = H_PLANCK_EV_S * C_CM_S / (2.0 * math.pi) * EV_GEV
_X_M_FACTOR = (3.0 * math.sqrt(math.pi) / 4.0) ** (1.0 / 3.0)
_LN2 = math.log(2.0)

# --- Klein-Nishina table: G(b) on a uniform grid of ln b -----------------------------------
_KN_LN_B_MIN = math.log(1e-8)
_KN_LN_B_MAX = math.log(1e6)
_KN_N_B = 421
_EULER_GAMMA = 0.5772156649015329
_C_L = 0.5699609309  # -zeta'(2) / zeta(2)


def thomson_b0(u_ev_cm3: float) -> float:
    """Thomson-regime coefficient b0 of ``b(E) = b0 E^2`` [GeV^-1 s^-1] (benchmarks.md B7).

    ``b0 = 4 sigma_T c U / (3 (m_e c^2)^2)`` for a total energy density ``U`` [eV/cm^3] of
    magnetic field plus radiation: 1.02e-16 GeV^-1 s^-1 for U = 1 eV/cm^3.
    """
    return _THOMSON_RATE * u_ev_cm3 / M_E_GEV**2


# --- scalar physics (inlined into the kernels) -------------------------------------------
@njit(cache=True)
def _bethe_log(bg2, q_max, i_gev):
    """B_x = ln(2 m_e c^2 beta^2 gamma^2 Q_max / I^2) - 2 beta^2, clipped at zero."""
    beta2 = bg2 / (1.0 + bg2)
    b = math.log(2.0 * M_E_GEV * bg2 * q_max / (i_gev * i_gev)) - 2.0 * beta2
    return max(b, 0.0)


@njit(cache=True)
def _nucleus_coulomb_rate(p, mass, charge, n_e, t_e_kelvin):
    if p <= 0.0 or n_e <= 0.0:
        return 0.0
    bg2 = (p / mass) ** 2
    gamma = math.sqrt(1.0 + bg2)
    beta = math.sqrt(bg2) / gamma
    x_m = _X_M_FACTOR * math.sqrt(2.0 * K_B_EV_K * EV_GEV * t_e_kelvin / M_E_GEV)
    arg = (M_E_GEV**2 * mass * gamma * gamma * beta**4) / (
        math.pi * R_E_CM * _HBAR_C_GEV_CM**2 * n_e * (mass + 2.0 * gamma * M_E_GEV)
    )
    ln_lambda = max(0.5 * math.log(arg), 0.0)
    return (
        2.0
        * _TWO_PI_RE2_C_MEC2
        * charge
        * charge
        * n_e
        * ln_lambda
        * beta
        * beta
        / (x_m**3 + beta**3)
    )


@njit(cache=True)
def _kn_planck_factor(b, ln_g_table):
    """G(b) by linear interpolation of ln G in ln b; asymptotic form beyond the table."""
    if b <= 0.0:
        return 1.0
    lb = math.log(b)
    n = ln_g_table.shape[0]
    step = (_KN_LN_B_MAX - _KN_LN_B_MIN) / (n - 1)
    x = (lb - _KN_LN_B_MIN) / step
    if x <= 0.0:
        return math.exp(ln_g_table[0])
    if x >= n - 1:
        return 45.0 * (lb - 5.0 / 6.0 - _EULER_GAMMA - _C_L) / (4.0 * math.pi**2 * b * b)
    i = int(x)
    w = x - i
    return math.exp((1.0 - w) * ln_g_table[i] + w * ln_g_table[i + 1])


# --- kernels -----------------------------------------------------------------------------
@njit(cache=True)
def kn_planck_factor_kernel(b, ln_g_table, out):
    """Fill ``out`` with the Klein-Nishina factor G(b) of a Planck field."""
    for j in range(b.shape[0]):
        out[j] = _kn_planck_factor(b[j], ln_g_table)
    return out


@njit(cache=True)
def nucleus_ionisation_kernel(p, mass, charge, mass_number, n_h, f_he, out):
    """Fill ``out`` with the H + He ionisation loss rate [GeV/s] at momenta ``p``."""
    m_nucleus = mass_number * M_P_GEV  # Q_max as in B11
    for j in range(p.shape[0]):
        if p[j] <= 0.0 or n_h <= 0.0:
            out[j] = 0.0
            continue
        bg2 = (p[j] / mass) ** 2
        gamma = math.sqrt(1.0 + bg2)
        q_max = 2.0 * M_E_GEV * bg2 / (1.0 + 2.0 * gamma * M_E_GEV / m_nucleus)
        electrons = _bethe_log(bg2, q_max, I_H_GEV) + 2.0 * f_he * _bethe_log(bg2, q_max, I_HE_GEV)
        out[j] = _TWO_PI_RE2_C_MEC2 * charge * charge * n_h * electrons * gamma / math.sqrt(bg2)
    return out


@njit(cache=True)
def nucleus_coulomb_kernel(p, mass, charge, n_e, t_e_kelvin, out):
    """Fill ``out`` with the Coulomb loss rate on ionised gas [GeV/s] at momenta ``p``."""
    for j in range(p.shape[0]):
        out[j] = _nucleus_coulomb_rate(p[j], mass, charge, n_e, t_e_kelvin)
    return out


@njit(cache=True)
def electron_ionisation_kernel(p, n_h, f_he, out):
    """Fill ``out`` with the electron ionisation loss rate [GeV/s] on neutral H + He."""
    for j in range(p.shape[0]):
        if p[j] <= 0.0 or n_h <= 0.0:
            out[j] = 0.0
            continue
        e = math.sqrt(p[j] * p[j] + M_E_GEV * M_E_GEV)
        tau = p[j] * p[j] / (e + M_E_GEV) / M_E_GEV  # kinetic energy / m_e c^2
        beta2 = (p[j] / e) ** 2
        f_moller = 1.0 - beta2 + (tau * tau / 8.0 - (2.0 * tau + 1.0) * _LN2) / (tau + 1.0) ** 2
        t3 = tau * tau * (tau + 2.0) / 2.0
        b_h = max(math.log(t3 * (M_E_GEV / I_H_GEV) ** 2) + f_moller, 0.0)
        b_he = max(math.log(t3 * (M_E_GEV / I_HE_GEV) ** 2) + f_moller, 0.0)
        out[j] = _TWO_PI_RE2_C_MEC2 * n_h * (b_h + 2.0 * f_he * b_he) / math.sqrt(beta2)
    return out


@njit(cache=True)
def electron_bremsstrahlung_kernel(p, n_h, f_he, out):
    """Fill ``out`` with the electron bremsstrahlung loss rate [GeV/s] on neutral H + He."""
    for j in range(p.shape[0]):
        e = math.sqrt(p[j] * p[j] + M_E_GEV * M_E_GEV)
        t_kin = p[j] * p[j] / (e + M_E_GEV)
        weak = math.log(2.0 * e / M_E_GEV) - 1.0 / 3.0  # unscreened, per Z(Z+1)
        rate_h = min(2.0 * weak, BREMS_STRONG_H)
        rate_he = min(6.0 * weak, BREMS_STRONG_HE)
        out[j] = _FOUR_ALPHA_RE2_C * t_kin * max(n_h, 0.0) * (rate_h + f_he * rate_he)
    return out


@njit(cache=True)
def thomson_kernel(p, u_ev_cm3, out):
    """Fill ``out`` with ``(4/3) sigma_T c U gamma^2 beta^2`` [GeV/s] (synchrotron/IC)."""
    for j in range(p.shape[0]):
        out[j] = _THOMSON_RATE * u_ev_cm3 * (p[j] / M_E_GEV) ** 2
    return out


@njit(cache=True)
def inverse_compton_kn_kernel(p, temperatures_k, energy_densities, ln_g_table, out):
    """Fill ``out`` with the Klein-Nishina IC loss rate [GeV/s] summed over Planck fields."""
    for j in range(p.shape[0]):
        gamma = math.sqrt(p[j] * p[j] + M_E_GEV * M_E_GEV) / M_E_GEV
        acc = 0.0
        for k in range(temperatures_k.shape[0]):
            b = 4.0 * gamma * K_B_EV_K * EV_GEV * temperatures_k[k] / M_E_GEV
            acc += energy_densities[k] * _kn_planck_factor(b, ln_g_table)
        out[j] = _THOMSON_RATE * acc * (p[j] / M_E_GEV) ** 2
    return out


@njit(cache=True)
def nucleus_total_grid_kernel(p, mass, charge, mass_number, n_h, n_e, t_e_kelvin, f_he, out):
    """Fill ``out[c, j]`` with ionisation + Coulomb loss [GeV/s] for cell c, momentum j."""
    ion = np.empty(p.shape[0])
    nucleus_ionisation_kernel(p, mass, charge, mass_number, 1.0, f_he, ion)
    for c in range(n_h.shape[0]):
        for j in range(p.shape[0]):
            out[c, j] = n_h[c] * ion[j] + _nucleus_coulomb_rate(
                p[j], mass, charge, n_e[c], t_e_kelvin[c]
            )
    return out


@njit(cache=True)
def electron_total_grid_kernel(
    p, n_h, f_he, u_b, temperatures_k, energy_densities, ln_g_table, out
):
    """Fill ``out[c, j]`` with the total electron loss rate [GeV/s] (``energy_densities``
    has shape (ncell, nfield))."""
    npt = p.shape[0]
    nfield = temperatures_k.shape[0]
    gas = electron_ionisation_kernel(p, 1.0, f_he, np.empty(npt))
    gas += electron_bremsstrahlung_kernel(p, 1.0, f_he, np.empty(npt))
    thomson = np.empty(npt)
    kn = np.empty((nfield, npt))
    for j in range(npt):
        thomson[j] = _THOMSON_RATE * (p[j] / M_E_GEV) ** 2
        gamma = math.sqrt(p[j] * p[j] + M_E_GEV * M_E_GEV) / M_E_GEV
        for k in range(nfield):
            b = 4.0 * gamma * K_B_EV_K * EV_GEV * temperatures_k[k] / M_E_GEV
            kn[k, j] = thomson[j] * _kn_planck_factor(b, ln_g_table)
    for c in range(n_h.shape[0]):
        for j in range(npt):
            acc = n_h[c] * gas[j] + u_b[c] * thomson[j]
            for k in range(nfield):
                acc += energy_densities[c, k] * kn[k, j]
            out[c, j] = acc
    return out


# --- Klein-Nishina table -----------------------------------------------------------------
def _kn_monoenergetic(gamma_e: np.ndarray, n_q: int = 1601) -> np.ndarray:
    """KN suppression of the IC loss rate on isotropic monoenergetic photons,
    ``9 int_0^1 q F(q, Gamma) / (1 + Gamma q)^3 dq`` (Blumenthal & Gould 1970,
    normalised to its Thomson limit), for ``Gamma = 4 gamma eps / m_e c^2``."""
    s = np.linspace(0.0, 1.0, n_q)
    ln_q_lo = np.log(1e-7 * np.minimum(1.0, 1.0 / gamma_e))
    ln_q = ln_q_lo[:, None] * (1.0 - s)[None, :]
    q = np.exp(ln_q)
    gq = gamma_e[:, None] * q
    f = 2.0 * q * np.log(q) + (1.0 + 2.0 * q) * (1.0 - q) + 0.5 * gq * gq * (1.0 - q) / (1.0 + gq)
    return 9.0 * simpson(q * q * f / (1.0 + gq) ** 3, x=ln_q, axis=1)


@cache
def kn_planck_table() -> np.ndarray:
    """ln G(b) on ``_KN_N_B`` points uniform in ln b between 1e-8 and 1e6.

    ``G(b) = (15/pi^4) int x^3/(e^x - 1) f_KN(b x) dx`` is the Klein-Nishina suppression of
    the IC loss rate in a Planck field, ``b = 4 gamma k T / m_e c^2``.  Computed once
    (~0.1 s) by Simpson quadrature; accurate to ~1e-4 (checked against direct adaptive
    quadrature and the extreme-KN asymptote in the tests).
    """
    gam = np.exp(np.linspace(math.log(1e-9), math.log(1e9), 721))
    ln_f = np.log(np.concatenate([_kn_monoenergetic(g) for g in np.array_split(gam, 8)]))
    ln_x = np.linspace(math.log(1e-4), math.log(60.0), 1201)
    x = np.exp(ln_x)
    weight = 15.0 / math.pi**4 * x**4 / np.expm1(x)
    ln_b = np.linspace(_KN_LN_B_MIN, _KN_LN_B_MAX, _KN_N_B)
    ln_gx = ln_b[:, None] + ln_x[None, :]
    f_bx = np.exp(np.interp(ln_gx, np.log(gam), ln_f, left=0.0))
    g = simpson(weight[None, :] * f_bx, x=ln_x, axis=1)
    return np.ascontiguousarray(np.log(g))


def klein_nishina_planck_factor(b: ArrayLike) -> np.ndarray:
    """KN suppression ``G(b)`` of the IC loss rate in a black-body field (1 in the Thomson
    limit), for ``b = 4 gamma k T / (m_e c^2)``."""
    return _apply(kn_planck_factor_kernel, b, kn_planck_table())


# --- numpy wrappers: p [GeV/c] of any shape; the result [GeV/s] has its shape -----------
def _apply(kernel, p: ArrayLike, *args) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64)
    flat = np.ascontiguousarray(arr.ravel())
    out = np.empty_like(flat)
    kernel(flat, *args, out)
    return out.reshape(arr.shape)


def nucleus_ionisation_loss(
    p: ArrayLike, mass: float, charge: int, mass_number: int, n_h: float, f_he: float = F_HE_DEFAULT
) -> np.ndarray:
    """Ionisation loss rate [GeV/s] of a nucleus in neutral H + He (Bethe-Bloch, B11).

    Parameters
    ----------
    p : array_like
        Momentum per particle [GeV/c].
    mass, charge, mass_number : float, int, int
        Rest energy [GeV], charge number Z (sign ignored) and A (Q_max uses A m_p, as B11).
    n_h, f_he : float
        Neutral H density [cm^-3] and He/H ratio by number.

    Returns
    -------
    numpy.ndarray
        -dT/dt per particle [GeV/s], shape of ``p``.
    """
    return _apply(
        nucleus_ionisation_kernel,
        p,
        float(mass),
        float(abs(charge)),
        float(mass_number),
        float(n_h),
        float(f_he),
    )


def nucleus_coulomb_loss(
    p: ArrayLike, mass: float, charge: int, n_e: float, t_e_kelvin: float
) -> np.ndarray:
    """Coulomb loss rate [GeV/s] of a nucleus of rest energy ``mass`` [GeV] and charge
    ``charge`` in ionised gas of electron density ``n_e`` [cm^-3] and temperature
    ``t_e_kelvin`` [K] (Mannheim & Schlickeiser 1994)."""
    return _apply(
        nucleus_coulomb_kernel, p, float(mass), float(abs(charge)), float(n_e), float(t_e_kelvin)
    )


def nucleus_total_loss(
    p: ArrayLike,
    mass: float,
    charge: int,
    mass_number: int,
    n_h: float,
    n_e: float,
    t_e_kelvin: float,
    f_he: float = F_HE_DEFAULT,
) -> np.ndarray:
    """Ionisation (neutral gas) + Coulomb (ionised gas) loss rate of a nucleus [GeV/s]."""
    return nucleus_ionisation_loss(p, mass, charge, mass_number, n_h, f_he) + (
        nucleus_coulomb_loss(p, mass, charge, n_e, t_e_kelvin)
    )


def electron_ionisation_loss(p: ArrayLike, n_h: float, f_he: float = F_HE_DEFAULT) -> np.ndarray:
    """Ionisation loss rate [GeV/s] of an electron or positron in neutral H + He."""
    return _apply(electron_ionisation_kernel, p, float(n_h), float(f_he))


def electron_bremsstrahlung_loss(
    p: ArrayLike, n_h: float, f_he: float = F_HE_DEFAULT
) -> np.ndarray:
    """Bremsstrahlung loss rate [GeV/s] of an electron or positron in neutral H + He."""
    return _apply(electron_bremsstrahlung_kernel, p, float(n_h), float(f_he))


def synchrotron_loss(p: ArrayLike, b_microgauss: float) -> np.ndarray:
    """Synchrotron loss rate [GeV/s] in a field ``b_microgauss`` [muG], isotropic pitch
    angles."""
    return inverse_compton_thomson_loss(p, magnetic_energy_density_ev_cm3(b_microgauss))


def inverse_compton_thomson_loss(p: ArrayLike, u_rad_ev_cm3: float) -> np.ndarray:
    """Thomson-limit inverse-Compton loss rate [GeV/s] for radiation energy density
    ``u_rad_ev_cm3`` [eV/cm^3]."""
    return _apply(thomson_kernel, p, float(u_rad_ev_cm3))


def inverse_compton_kn_loss(
    p: ArrayLike,
    temperatures_k: Sequence[float] | np.ndarray,
    energy_densities_ev_cm3: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Inverse-Compton loss rate [GeV/s] with Klein-Nishina suppression.

    Parameters
    ----------
    p : array_like
        Electron momentum [GeV/c].
    temperatures_k, energy_densities_ev_cm3 : sequence of float
        One (temperature [K], energy density [eV/cm^3]) pair per photon field.  A grey body
        is a diluted Planck spectrum: the black body's shape with the given energy density.

    Returns
    -------
    numpy.ndarray
        -dT/dt [GeV/s] summed over the fields, shape of ``p``.
    """
    temps = np.ascontiguousarray(temperatures_k, dtype=np.float64).ravel()
    dens = np.ascontiguousarray(energy_densities_ev_cm3, dtype=np.float64).ravel()
    if temps.shape != dens.shape:
        raise ValueError("temperatures_k and energy_densities_ev_cm3 must have equal lengths")
    return _apply(inverse_compton_kn_kernel, p, temps, dens, kn_planck_table())


def electron_total_loss(
    p: ArrayLike,
    n_h: float,
    b_microgauss: float,
    temperatures_k: Sequence[float] | np.ndarray,
    energy_densities_ev_cm3: Sequence[float] | np.ndarray,
    f_he: float = F_HE_DEFAULT,
) -> np.ndarray:
    """Total electron/positron loss rate [GeV/s]: ionisation and bremsstrahlung on neutral
    H + He, synchrotron in ``b_microgauss``, Klein-Nishina IC on the photon fields."""
    return (
        electron_ionisation_loss(p, n_h, f_he)
        + electron_bremsstrahlung_loss(p, n_h, f_he)
        + synchrotron_loss(p, b_microgauss)
        + inverse_compton_kn_loss(p, temperatures_k, energy_densities_ev_cm3)
    )


def _per_cell(x: ArrayLike, ncell: int) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), (ncell,)))


def nucleus_total_loss_grid(
    p: ArrayLike,
    mass: float,
    charge: int,
    mass_number: int,
    n_h: ArrayLike,
    n_e: ArrayLike,
    t_e_kelvin: ArrayLike,
    f_he: float = F_HE_DEFAULT,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Nucleus loss rate [GeV/s], shape (ncell, np), on a 1D momentum grid ``p`` for the
    local cells' ``n_h``, ``n_e``, ``t_e_kelvin`` (1D arrays, or scalars for all cells)."""
    pf = np.ascontiguousarray(p, dtype=np.float64)
    nh = np.ascontiguousarray(np.atleast_1d(np.asarray(n_h, dtype=np.float64)).ravel())
    ncell = nh.shape[0]
    out = np.empty((ncell, pf.shape[0])) if out is None else out
    return nucleus_total_grid_kernel(
        pf,
        float(mass),
        float(abs(charge)),
        float(mass_number),
        nh,
        _per_cell(n_e, ncell),
        _per_cell(t_e_kelvin, ncell),
        float(f_he),
        out,
    )


def electron_total_loss_grid(
    p: ArrayLike,
    n_h: ArrayLike,
    b_microgauss: ArrayLike,
    temperatures_k: Sequence[float] | np.ndarray,
    energy_densities_ev_cm3: ArrayLike,
    f_he: float = F_HE_DEFAULT,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Electron loss rate [GeV/s], shape (ncell, np), on a 1D momentum grid ``p``.

    ``n_h`` and ``b_microgauss`` are per cell (1D) or scalars; ``energy_densities_ev_cm3``
    is (ncell, nfield), or (nfield,) for the same radiation everywhere, for the Planck
    fields of ``temperatures_k`` (nfield,).
    """
    pf = np.ascontiguousarray(p, dtype=np.float64)
    nh = np.ascontiguousarray(np.atleast_1d(np.asarray(n_h, dtype=np.float64)).ravel())
    ncell = nh.shape[0]
    temps = np.ascontiguousarray(temperatures_k, dtype=np.float64).ravel()
    dens = np.ascontiguousarray(
        np.broadcast_to(
            np.asarray(energy_densities_ev_cm3, dtype=np.float64), (ncell, temps.shape[0])
        )
    )
    u_b = np.ascontiguousarray(magnetic_energy_density_ev_cm3(_per_cell(b_microgauss, ncell)))
    out = np.empty((ncell, pf.shape[0])) if out is None else out
    return electron_total_grid_kernel(pf, nh, float(f_he), u_b, temps, dens, kn_planck_table(), out)


# --- inverse Compton on tabulated photon spectra (Klein-Nishina) -------------------------------
# A tabulated spectrum du/d eps is turned into "photon lines": Gauss-Legendre points in ln eps
# on each interval of its log-log interpolant, each carrying the energy density it stands
# for; the loss rate is then the sum over lines of the monoenergetic KN rate.
_KN_LN_GAMMA_MIN = math.log(1e-9)
_KN_LN_GAMMA_MAX = math.log(1e9)
_KN_N_GAMMA = 2001


@cache
def kn_monoenergetic_table() -> np.ndarray:
    """ln f(Gamma) on ``_KN_N_GAMMA`` points uniform in ln Gamma between 1e-9 and 1e9.

    ``f(Gamma) = 9 int_0^1 q F(q, Gamma) / (1 + Gamma q)^3 dq`` is the Klein-Nishina
    suppression of the IC loss rate on isotropic monoenergetic photons of energy eps
    (Blumenthal & Gould 1970, normalised to its Thomson limit), ``Gamma = 4 gamma eps /
    m_e c^2``; the same quadrature as :func:`kn_planck_table` uses, on a 2.5 times finer grid
    (linear interpolation of ln f in ln Gamma: ~5e-5).
    """
    gam = np.exp(np.linspace(_KN_LN_GAMMA_MIN, _KN_LN_GAMMA_MAX, _KN_N_GAMMA))
    ln_f = np.log(np.concatenate([_kn_monoenergetic(g) for g in np.array_split(gam, 16)]))
    return np.ascontiguousarray(ln_f)


@njit(cache=True)
def _kn_monoenergetic_factor(g, ln_f_table):
    """f(Gamma) by linear interpolation of ln f in ln Gamma; 1 (Thomson) below the table,
    the log-log slope of its last interval beyond it."""
    if g <= 0.0:
        return 1.0
    n = ln_f_table.shape[0]
    step = (_KN_LN_GAMMA_MAX - _KN_LN_GAMMA_MIN) / (n - 1)
    x = (math.log(g) - _KN_LN_GAMMA_MIN) / step
    if x <= 0.0:
        return math.exp(ln_f_table[0])
    if x >= n - 1:
        slope = ln_f_table[n - 1] - ln_f_table[n - 2]
        return math.exp(ln_f_table[n - 1] + slope * (x - (n - 1)))
    i = int(x)
    w = x - i
    return math.exp((1.0 - w) * ln_f_table[i] + w * ln_f_table[i + 1])


@njit(cache=True)
def inverse_compton_kn_line_rates_kernel(p, photon_energies_gev, ln_f_table, out):
    """Fill ``out[q, j]`` with the KN loss rate [GeV/s] at momentum ``p[j]`` on photons of
    energy ``photon_energies_gev[q]`` with unit energy density (1 eV/cm^3)."""
    for j in range(p.shape[0]):
        gamma = math.sqrt(p[j] * p[j] + M_E_GEV * M_E_GEV) / M_E_GEV
        thomson = _THOMSON_RATE * (p[j] / M_E_GEV) ** 2
        for q in range(photon_energies_gev.shape[0]):
            g = 4.0 * gamma * photon_energies_gev[q] / M_E_GEV
            out[q, j] = thomson * _kn_monoenergetic_factor(g, ln_f_table)
    return out


def photon_lines(
    photon_energy_ev: ArrayLike, energy_density_per_ev: ArrayLike, n_gauss: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Photon lines standing for a tabulated spectrum, for :func:`inverse_compton_kn_loss_lines`.

    The spectrum ``du/d eps`` [eV cm^-3 eV^-1] on the increasing energies ``photon_energy_ev``
    [eV] is interpolated log-log (a power law on each interval; an interval with a zero end
    is zero).  Each interval gets ``n_gauss`` Gauss-Legendre points in ln eps; a line carries
    the energy density its point stands for, rescaled so that the lines of an interval sum
    to the exact energy density of the power law there (the Thomson limit is exact).

    Parameters
    ----------
    photon_energy_ev : array_like, shape (n_e,)
        Photon energies [eV], positive and increasing.
    energy_density_per_ev : array_like, shape (..., n_e)
        du/d eps [eV cm^-3 eV^-1] (one spectrum, or several stacked on leading axes).
    n_gauss : int
        Points per interval.

    Returns
    -------
    energies : numpy.ndarray, shape (n_lines,)
        Line energies [eV], ``n_lines = n_gauss (n_e - 1)``.
    energy_densities : numpy.ndarray, shape (..., n_lines)
        Energy density of each line [eV cm^-3].
    """
    e = np.asarray(photon_energy_ev, dtype=float)
    u = np.asarray(energy_density_per_ev, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(e <= 0) or np.any(np.diff(e) <= 0):
        raise ValueError("photon_energy_ev must be at least 2 positive, increasing energies")
    if u.shape[-1:] != e.shape:
        raise ValueError(
            f"energy_density_per_ev has shape {u.shape}; its last axis must have the "
            f"{e.size} photon energies"
        )
    if not np.all(np.isfinite(u)) or np.any(u < 0):
        raise ValueError("energy_density_per_ev must be finite and >= 0")
    x, wg = np.polynomial.legendre.leggauss(n_gauss)
    t, wt = 0.5 * (x + 1.0), 0.5 * wg  # on [0, 1], weights sum to 1
    ln_e = np.log(e)
    width = np.diff(ln_e)  # (n_e - 1,)
    eps = np.exp(ln_e[:-1, None] + t[None, :] * width[:, None])  # (n_e - 1, n_gauss)
    u0, u1 = u[..., :-1], u[..., 1:]
    positive = (u0 > 0) & (u1 > 0)
    ratio = np.where(positive, u1, 1.0) / np.where(positive, u0, 1.0)
    slope = np.log(ratio)  # ln(u1/u0): the power law's change over the interval
    # eps u(eps) = eps0 u0 exp(t a) on the interval, in units of its larger end (no overflow)
    a = width + slope
    rising = a > 0
    eu = np.exp(t * a[..., None] - np.where(rising, a, 0.0)[..., None])
    safe = np.where(np.abs(a) > 1e-8, a, 1.0)
    mean = np.where(  # int_0^1 eu dt, exactly
        np.abs(a) > 1e-8, np.where(rising, -np.expm1(-a), np.expm1(a)) / safe, 1.0 - 0.5 * np.abs(a)
    )
    larger_end = np.where(rising, e[1:] * u1, e[:-1] * u0)
    energy = np.where(positive, larger_end * width * mean, 0.0)  # of the interval [eV cm^-3]
    w = (wt * eu / np.sum(wt * eu, axis=-1, keepdims=True)) * energy[..., None]
    return eps.ravel(), w.reshape(u.shape[:-1] + (eps.size,))


def inverse_compton_kn_line_rates(p: ArrayLike, photon_energy_ev: ArrayLike) -> np.ndarray:
    """KN loss rate [GeV/s] per unit energy density (1 eV/cm^3) of monoenergetic isotropic
    photons: shape ``(n_lines,) + p.shape`` for the energies ``photon_energy_ev`` [eV]."""
    arr = np.asarray(p, dtype=np.float64)
    flat = np.ascontiguousarray(arr.ravel())
    eps = np.ascontiguousarray(np.asarray(photon_energy_ev, dtype=np.float64).ravel()) * EV_GEV
    out = np.empty((eps.size, flat.size))
    inverse_compton_kn_line_rates_kernel(flat, eps, kn_monoenergetic_table(), out)
    return out.reshape((eps.size,) + arr.shape)


def inverse_compton_kn_loss_lines(
    p: ArrayLike, photon_energy_ev: ArrayLike, energy_density_ev_cm3: ArrayLike
) -> np.ndarray:
    """Inverse-Compton loss rate [GeV/s] with Klein-Nishina suppression on isotropic photon
    lines: energies ``photon_energy_ev`` (n_lines,) [eV], energy densities
    ``energy_density_ev_cm3`` (..., n_lines) [eV/cm^3] (from :func:`photon_lines`; signed
    values are allowed, the rate is linear in them).  Shape ``(...) + p.shape``."""
    w = np.asarray(energy_density_ev_cm3, dtype=float)
    rates = inverse_compton_kn_line_rates(p, photon_energy_ev)
    if w.shape[-1:] != rates.shape[:1]:
        raise ValueError(
            f"energy_density_ev_cm3 has shape {w.shape}; its last axis must have the "
            f"{rates.shape[0]} photon energies"
        )
    flat = rates.reshape(rates.shape[0], -1)
    return (w.reshape(-1, w.shape[-1]) @ flat).reshape(w.shape[:-1] + rates.shape[1:])


def inverse_compton_kn_loss_tabulated(
    p: ArrayLike,
    photon_energy_ev: ArrayLike,
    energy_density_per_ev: ArrayLike,
    n_gauss: int = 6,
) -> np.ndarray:
    """Inverse-Compton loss rate [GeV/s] with Klein-Nishina suppression on an isotropic
    tabulated photon spectrum.

    ``b = (4/3) sigma_T c gamma^2 beta^2 int (du/d eps) f_KN(4 gamma eps / m_e c^2) d eps``
    with the monoenergetic suppression ``f_KN`` of :func:`kn_monoenergetic_table` and
    ``du/d eps`` [eV cm^-3 eV^-1] on ``photon_energy_ev`` [eV] interpolated log-log
    (:func:`photon_lines`).  For a Planck spectrum it agrees with
    :func:`inverse_compton_kn_loss` (to ~1e-4 with 100 energies per decade); in the Thomson
    regime it is ``(4/3) sigma_T c gamma^2 beta^2 U``, U the spectrum's energy density.

    Parameters
    ----------
    p : array_like
        Electron momentum [GeV/c].
    photon_energy_ev : array_like, shape (n_e,)
        Photon energies [eV], positive and increasing.
    energy_density_per_ev : array_like, shape (..., n_e)
        du/d eps, one spectrum or several on leading axes.
    n_gauss : int
        Quadrature points per energy interval.

    Returns
    -------
    numpy.ndarray
        -dT/dt [GeV/s], shape ``(...) + p.shape``.
    """
    eps, w = photon_lines(photon_energy_ev, energy_density_per_ev, n_gauss)
    return inverse_compton_kn_loss_lines(p, eps, w)
