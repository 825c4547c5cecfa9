"""Force-field solar modulation (Gleeson & Axford 1968, ApJ 154, 1011).

A particle of charge number Z and mass number A observed at the top of the atmosphere (TOA)
with kinetic energy per nucleon ``T`` had ``T + Phi`` in the local interstellar medium,
``Phi = (|Z| / A) phi`` with the modulation potential ``phi`` [GV] (``Phi`` in GeV/n), and
Liouville's theorem gives (benchmarks.md B8)::

    J_TOA(T) = J_LIS(T + Phi) T (T + 2 m) / [(T + Phi)(T + Phi + 2 m)],

``m`` the rest energy per nucleon.  ``J`` is the differential intensity per unit kinetic
energy per nucleon (e.g. m^-2 s^-1 sr^-1 (GeV/n)^-1); the energies are in GeV/n.

:func:`modulate` dispatches on ``[modulation] model``: the force field (default) or the
spherical Parker model of :mod:`galprop_py.heliosphere.parker`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike


def _energy_shift(phi_gv: float, charge: int, mass_number: int) -> float:
    if phi_gv < 0.0:
        raise ValueError(f"modulation potential must be >= 0, got phi = {phi_gv} GV")
    if mass_number < 1:
        raise ValueError(f"mass number must be >= 1, got {mass_number}")
    return abs(charge) / mass_number * phi_gv


def _liouville_factor(t_n: np.ndarray, shift: float, mass_per_nucleon: float) -> np.ndarray:
    t_lis = t_n + shift
    m2 = 2.0 * mass_per_nucleon
    return t_n * (t_n + m2) / (t_lis * (t_lis + m2))


def force_field(
    t_n: ArrayLike,
    j_lis: ArrayLike,
    phi_gv: float,
    mass_per_nucleon: float,
    charge: int,
    mass_number: int,
) -> np.ndarray:
    """Modulate a tabulated local interstellar spectrum with the force-field approximation.

    Parameters
    ----------
    t_n : array_like
        Kinetic energy per nucleon [GeV/n], positive and strictly increasing (1D).
    j_lis : array_like
        LIS intensity at ``t_n`` (any flux unit per GeV/n), same length.
    phi_gv : float
        Modulation potential phi [GV], >= 0.
    mass_per_nucleon : float
        Rest energy per nucleon m [GeV/n].
    charge, mass_number : int
        Z (sign ignored) and A; the energy shift is ``Phi = |Z| phi / A``.

    Returns
    -------
    numpy.ndarray
        ``J_TOA`` at the same ``t_n``.  ``J_LIS(T + Phi)`` is interpolated linearly in
        log-log; above the last grid point it is extrapolated with the power law of the
        last two points.  Non-positive LIS values are treated as a vanishing flux (floored
        at the smallest positive float before taking logs).
    """
    t = np.asarray(t_n, dtype=float)
    j = np.asarray(j_lis, dtype=float)
    if t.ndim != 1 or t.shape != j.shape or t.size < 2:
        raise ValueError("t_n and j_lis must be 1D arrays of equal length >= 2")
    if np.any(t <= 0.0) or np.any(np.diff(t) <= 0.0):
        raise ValueError("t_n must be positive and strictly increasing")
    shift = _energy_shift(phi_gv, charge, mass_number)
    if shift == 0.0:
        return j.copy()
    ln_t = np.log(t)
    ln_j = np.log(np.maximum(j, np.finfo(float).tiny))
    ln_t_lis = np.log(t + shift)
    ln_j_lis = np.interp(ln_t_lis, ln_t, ln_j)
    above = ln_t_lis > ln_t[-1]
    if np.any(above):
        slope = (ln_j[-1] - ln_j[-2]) / (ln_t[-1] - ln_t[-2])
        ln_j_lis[above] = ln_j[-1] + slope * (ln_t_lis[above] - ln_t[-1])
    return np.exp(ln_j_lis) * _liouville_factor(t, shift, mass_per_nucleon)


def force_field_analytic(
    t_n: ArrayLike,
    j_lis: Callable[[np.ndarray], np.ndarray],
    phi_gv: float,
    mass_per_nucleon: float,
    charge: int,
    mass_number: int,
) -> np.ndarray:
    """Force-field TOA intensity for a LIS given as a function of T_n [GeV/n].

    Same conventions as :func:`force_field`, but ``j_lis`` is evaluated exactly at
    ``T_n + Phi`` (no interpolation): the reference for tests and for analytic LIS models.
    """
    t = np.asarray(t_n, dtype=float)
    shift = _energy_shift(phi_gv, charge, mass_number)
    return np.asarray(j_lis(t + shift), dtype=float) * _liouville_factor(t, shift, mass_per_nucleon)


def parker_parameters(block):
    """:class:`~galprop_py.heliosphere.parker.ParkerParameters` from a
    ``[modulation.spherical_parker]`` block (:class:`galprop_py.config.SphericalParkerBlock`)."""
    from ..heliosphere.parker import ParkerParameters

    return ParkerParameters(
        r_hp_au=block.r_hp_au,
        v_sw_km_s=block.v_sw_km_s,
        kappa0_cm2_s=block.kappa0_cm2_s,
        a=block.a,
        b=block.b,
        n_r=block.n_r,
        n_rigidity=block.n_rigidity,
        inner_boundary=block.inner_boundary,
    )


def modulate(t_n: ArrayLike, j_lis: ArrayLike, modulation, species) -> np.ndarray:
    """TOA intensity at ``t_n`` [GeV/n] of ``species`` for the LIS ``j_lis`` (per GeV/n).

    ``modulation`` is either a force-field potential phi [GV] (a number: :func:`force_field`)
    or a ``[modulation]`` block (:class:`galprop_py.config.ModulationBlock`) whose ``model``
    picks :func:`force_field` with its ``phi_gv`` (the default; ``phi_negative_gv``, if set,
    for negative charges) or the spherical Parker model with its ``spherical_parker``
    parameters (:func:`galprop_py.heliosphere.parker.spherical_parker`)."""
    model = getattr(modulation, "model", None)
    if model is None or model == "force_field":
        phi = float(getattr(modulation, "phi_gv", modulation))
        negative = getattr(modulation, "phi_negative_gv", None)
        if negative is not None and species.charge < 0:
            phi = float(negative)
        m_n = species.mass / species.mass_number
        return force_field(t_n, j_lis, phi, m_n, species.charge, species.mass_number)
    if model == "spherical_parker":
        from ..heliosphere.parker import spherical_parker

        return spherical_parker(t_n, j_lis, parker_parameters(modulation.spherical_parker), species)
    raise ValueError(f"modulation.model = {model!r}: allowed 'force_field', 'spherical_parker'")
