"""Heliospheric (solar) modulation beyond the force field: a spherically symmetric steady
Parker model from 1 AU to the heliopause (:mod:`galprop_py.heliosphere.parker`), selected
with ``[modulation] model = "spherical_parker"``."""

from .parker import (
    ParkerModel,
    ParkerParameters,
    ParkerSolution,
    force_field_potential,
    spherical_parker,
)

__all__ = [
    "ParkerModel",
    "ParkerParameters",
    "ParkerSolution",
    "force_field_potential",
    "spherical_parker",
]
