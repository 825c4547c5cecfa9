"""Physical constants and unit conversions: the one place where units are converted.

Internal units of the transport solver
---------------------------------------
* length: kpc            * time: Myr
* energy: GeV            * momentum: GeV/c (so ``p`` is a number in GeV)
* diffusion coefficients: kpc^2/Myr, velocities: kpc/Myr
* rates: 1/Myr, momentum loss rates: GeV/c per Myr
* gas densities: cm^-3 (number of H atoms), magnetic fields: microgauss
* cross sections are read in mb and converted here.

Physics modules that work in cgs (loss rates, microphysics) return cgs values and the
operators convert with the factors below.  Every name says what it converts.
"""

from __future__ import annotations

import math

# --- fundamental constants (CODATA 2018, cgs) -------------------------------------------
C_CM_S = 2.99792458e10  # speed of light [cm/s]
E_CHARGE_ESU = 4.80320471e-10  # elementary charge [statC]
M_E_GEV = 0.51099895e-3  # electron rest energy [GeV]
M_P_GEV = 0.93827208816  # proton rest energy [GeV]
AMU_GEV = 0.93149410242  # atomic mass unit [GeV]
M_P_G = 1.67262192e-24  # proton mass [g]
M_E_G = 9.1093837e-28  # electron mass [g]
SIGMA_T_CM2 = 6.6524587e-25  # Thomson cross section [cm^2]
R_E_CM = 2.8179403262e-13  # classical electron radius [cm]
ALPHA_FS = 7.2973525693e-3  # fine-structure constant
K_B_EV_K = 8.617333262e-5  # Boltzmann constant [eV/K]
H_PLANCK_EV_S = 4.135667696e-15  # Planck constant [eV s]

# --- conversions ------------------------------------------------------------------------
KPC_CM = 3.0856775814913673e21  # 1 kpc [cm]
PC_CM = KPC_CM * 1e-3
AU_CM = 1.495978707e13  # astronomical unit [cm] (IAU 2012 Resolution B2, exact)
MPC_CM = KPC_CM * 1e3  # 1 Mpc [cm]
MYR_S = 3.15576e13  # 1 Myr (Julian) [s]
YR_S = MYR_S * 1e-6
KM_CM = 1e5
EV_GEV = 1e-9
MEV_GEV = 1e-3  # 1 MeV [GeV]: MeV/n -> GeV/n; a flux per MeV/n divided by it is per GeV/n
GEV_ERG = 1.602176634e-3  # 1 GeV [erg]
EV_ERG = 1.602176634e-12
MB_CM2 = 1e-27  # 1 millibarn [cm^2]
JY_CGS = 1e-23  # 1 jansky [erg s^-1 cm^-2 Hz^-1]
TEV_GEV = 1e3  # 1 TeV [GeV]
GAUSS_PER_MICROGAUSS = 1e-6
M2_CM2 = 1e4

# derived factors used by the operators
CM2_S_TO_KPC2_MYR = MYR_S / KPC_CM**2  # diffusion coefficient cm^2/s -> kpc^2/Myr
KM_S_TO_KPC_MYR = KM_CM * MYR_S / KPC_CM  # velocity km/s -> kpc/Myr
PER_S_TO_PER_MYR = MYR_S  # rate 1/s -> 1/Myr
C_KPC_MYR = C_CM_S * MYR_S / KPC_CM  # speed of light in kpc/Myr
GV_STATVOLT = 1e17 / C_CM_S  # 1 GV in statvolt (1 statV = 299.792458 V); r_g = R / B in cgs


def diffusion_to_internal(d_cm2_s: float) -> float:
    """Diffusion coefficient from cm^2/s to kpc^2/Myr."""
    return d_cm2_s * CM2_S_TO_KPC2_MYR


def velocity_to_internal(v_km_s: float) -> float:
    """Velocity from km/s to kpc/Myr."""
    return v_km_s * KM_S_TO_KPC_MYR


def rate_to_internal(rate_per_s):
    """Rate from 1/s to 1/Myr."""
    return rate_per_s * PER_S_TO_PER_MYR


def energy_mev_to_gev(e_mev):
    """Energy (or energy per nucleon) from MeV (MeV/n) to GeV (GeV/n)."""
    return e_mev * MEV_GEV


def flux_per_mev_to_per_gev(j_per_mev):
    """Differential flux from per MeV (per MeV/n) to per GeV (per GeV/n)."""
    return j_per_mev / MEV_GEV


def magnetic_energy_density_ev_cm3(b_microgauss: float) -> float:
    """U_B = B^2 / 8 pi in eV/cm^3 for B in microgauss (0.0248 eV/cm^3 at 1 muG)."""
    b = b_microgauss * GAUSS_PER_MICROGAUSS
    return b * b / (8.0 * math.pi) / EV_ERG


# Flux unit of the output and of the observational data: m^-2 s^-1 sr^-1 (GeV/n)^-1.
# The solver's density per unit momentum per nucleon N_p is in (internal) kpc^-3 (GeV/c)^-1;
# its absolute scale is set by the source normalisation, so only the c/4pi factor matters:
# J(T_n) = c N_p / (4 pi)   (dT_n/dp_n = beta c cancels v = beta c).
FLUX_UNIT = "m^-2 s^-1 sr^-1 (GeV/n)^-1"
FLUX_PER_GV_UNIT = "m^-2 s^-1 sr^-1 GV^-1"
