"""Relativistic kinematics of a cosmic-ray particle: E(p), v(p), beta, gamma, rigidity.

Conventions: momenta in GeV/c (numbers in GeV), energies in GeV, rigidity in GV, charge in
units of e.  "Per nucleon" quantities divide by the mass number A (leptons: A = 1).
All functions are numpy-vectorised and work on scalars or arrays.
"""

from __future__ import annotations

import numpy as np

from ..units import C_CM_S


def total_energy(p, mass):
    """Total energy E = sqrt(p^2 + m^2) [GeV] for momentum p [GeV/c] and rest energy m [GeV]."""
    p = np.asarray(p, dtype=float)
    return np.sqrt(p * p + mass * mass)


def kinetic_energy(p, mass):
    """Kinetic energy T = E - m [GeV], computed without cancellation at small p."""
    p = np.asarray(p, dtype=float)
    return p * p / (total_energy(p, mass) + mass)


def momentum_from_kinetic(t, mass):
    """Momentum p = sqrt(T (T + 2 m)) [GeV/c] from kinetic energy T [GeV]."""
    t = np.asarray(t, dtype=float)
    return np.sqrt(t * (t + 2.0 * mass))


def beta(p, mass):
    """Speed in units of c, v/c = p / E."""
    p = np.asarray(p, dtype=float)
    return p / total_energy(p, mass)


def gamma(p, mass):
    """Lorentz factor E / m."""
    return total_energy(p, mass) / mass


def velocity_cm_s(p, mass):
    """Particle speed v = c^2 p / E [cm/s]."""
    return beta(p, mass) * C_CM_S


def rigidity(p, charge):
    """Rigidity R = p c / (Z e) [GV] for p in GeV/c and charge number Z (sign ignored)."""
    return np.asarray(p, dtype=float) / abs(charge)


def momentum_from_rigidity(r, charge):
    """Momentum p = |Z| R [GeV/c] from rigidity R [GV]."""
    return np.asarray(r, dtype=float) * abs(charge)


def kinetic_per_nucleon_to_rigidity(t_n, mass, mass_number, charge):
    """Rigidity [GV] of a particle with kinetic energy per nucleon T_n [GeV/n]."""
    p = momentum_from_kinetic(np.asarray(t_n, dtype=float) * mass_number, mass)
    return rigidity(p, charge)


def rigidity_to_kinetic_per_nucleon(r, mass, mass_number, charge):
    """Kinetic energy per nucleon [GeV/n] of a particle of rigidity R [GV]."""
    return kinetic_energy(momentum_from_rigidity(r, charge), mass) / mass_number
