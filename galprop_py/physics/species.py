"""Particle species: charge, mass number and rest energy."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..units import AMU_GEV, M_E_GEV, M_P_GEV


@dataclass(frozen=True)
class Species:
    """A cosmic-ray species.

    Attributes:
        name: label used in configs and outputs (e.g. ``"H1"``, ``"He4"``, ``"electron"``).
        charge: charge number Z (negative for electrons and antiprotons).
        mass_number: A (1 for leptons, so "per nucleon" equals "per particle").
        mass: rest energy [GeV].
    """

    name: str
    charge: int
    mass_number: int
    mass: float

    @property
    def is_lepton(self) -> bool:
        return self.mass < 0.01

    @property
    def mass_per_nucleon(self) -> float:
        return self.mass / self.mass_number


PROTON = Species("H1", 1, 1, M_P_GEV)
ANTIPROTON = Species("antiproton", -1, 1, M_P_GEV)
ELECTRON = Species("electron", -1, 1, M_E_GEV)
POSITRON = Species("positron", 1, 1, M_E_GEV)

_ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn".split()
)
_ALIASES = {"p": PROTON, "proton": PROTON, "pbar": ANTIPROTON, "e-": ELECTRON, "e+": POSITRON}


def element_charge(symbol: str) -> int:
    """Charge number of a chemical element symbol (H..Zn)."""
    try:
        return _ELEMENTS.index(symbol) + 1
    except ValueError:
        raise ValueError(f"unknown element {symbol!r}; known: {' '.join(_ELEMENTS)}") from None


def element_symbol(charge: int) -> str:
    """Chemical symbol of charge number Z (1..30)."""
    if not 1 <= charge <= len(_ELEMENTS):
        raise ValueError(f"charge {charge}: symbols known for 1..{len(_ELEMENTS)}")
    return _ELEMENTS[charge - 1]


def species_from_name(name: str) -> Species:
    """Species from a name: ``"H1"``, ``"He4"``, ``"C12"``, ``"electron"``, ``"positron"``,
    ``"antiproton"`` (aliases ``p``, ``proton``, ``pbar``, ``e-``, ``e+``).

    Nuclear masses use A atomic mass units (the proton its exact mass); the difference is
    below 1% and irrelevant for transport.
    """
    for s in (PROTON, ANTIPROTON, ELECTRON, POSITRON):
        if name == s.name:
            return s
    if name in _ALIASES:
        return _ALIASES[name]
    m = re.fullmatch(r"([A-Z][a-z]?)(\d+)", name)
    if not m:
        raise ValueError(
            f"species {name!r} not understood; use e.g. 'H1', 'He4', 'C12', 'electron', "
            "'positron', 'antiproton'"
        )
    z = element_charge(m.group(1))
    a = int(m.group(2))
    if a < z:
        raise ValueError(f"species {name!r}: mass number {a} below charge {z}")
    mass = M_P_GEV if (z, a) == (1, 1) else a * AMU_GEV
    return Species(name, z, a, mass)
