"""Guiding-centre drifts of cosmic rays in a large-scale magnetic field.

For a particle of signed rigidity ``R = p c / q`` (statvolt = gauss cm in Gaussian units),
speed ``v`` and pitch-angle cosine ``mu`` in a static field ``B = B b_hat`` (Northrop 1963;
relativistic form e.g. Rossi & Olbert 1970):

* gradient drift   ``v_gradB = (v (1 - mu^2) / 2) (R / B^2) b_hat x grad B``
* curvature drift  ``v_curv  = v mu^2 (R / B) b_hat x kappa``,  ``kappa = (b_hat . grad) b_hat``

(``R / B`` is the signed gyroradius, so these are ``v r_g / L`` in size for a field varying
on a scale ``L``; in SI units, with R in volts, a factor ``1/c`` appears.)

For a nearly isotropic distribution (weak scattering), averaging the guiding-centre velocity
over pitch angle gives the divergence-free drift of Jokipii, Levy & Hubbard (1977, ApJ 213,
861)::

    <v_d> = (p c v / 3 q) curl(B / B^2) = (v R / 3) curl(B / B^2)

``curl(B/B^2) = (b_hat x grad B / B + b_hat x kappa) / B + b_hat (b_hat . curl b_hat) / B``,
so the average equals the pitch-angle mean of gradient plus curvature drift
(``<1 - mu^2> = 2/3``, ``<mu^2> = 1/3``) plus a component along ``b_hat`` that is present only
in twisted fields.  Note that in a current-free field the two drifts point the same way and
add (e.g. ``B_phi ~ 1/r``), while for ``B_phi ~ r`` they cancel in the average.  The
antisymmetric diffusion coefficient that produces this drift in the transport equation is
``kappa_A = v R / (3 B)`` (:func:`drift_coefficient_cm2_s`), with ``<v_d> = curl(kappa_A b_hat)``.

Fields are given on a grid, either as arrays or as a callable sampled on the grid, and all
derivatives are second-order finite differences (``numpy.gradient``).  Two geometries:

* ``"cartesian"``: coordinates ``(x, y, z)``, components ``(B_x, B_y, B_z)``;
* ``"cylindrical"``: axisymmetric, coordinates ``(r, z)`` with ``r > 0``, components
  ``(B_r, B_phi, B_z)`` (no dependence on phi).

Returned velocities have the component axis first, ``(3, *grid_shape)``, in cm/s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..units import C_CM_S
from .gyration import rigidity_statvolt

Geometry = Literal["cartesian", "cylindrical"]
FieldCallable = Callable[..., ArrayLike]


@dataclass(frozen=True)
class FieldOnGrid:
    """A magnetic field sampled on a structured grid.

    Attributes
    ----------
    b_gauss : ndarray
        Field components [G], shape ``(3, *grid_shape)``.
    coords_cm : tuple of ndarray
        1-D coordinate arrays [cm]: ``(x, y, z)`` or ``(r, z)``; each at least 3 points.
    geometry : {"cartesian", "cylindrical"}
        Coordinate system (see the module docstring).
    """

    b_gauss: NDArray[np.float64]
    coords_cm: tuple[NDArray[np.float64], ...]
    geometry: Geometry = "cartesian"

    def __post_init__(self) -> None:
        n_axes = {"cartesian": 3, "cylindrical": 2}.get(self.geometry)
        if n_axes is None:
            raise ValueError(f"geometry must be cartesian or cylindrical, not {self.geometry!r}")
        if len(self.coords_cm) != n_axes:
            raise ValueError(f"{self.geometry} grids need {n_axes} coordinate arrays")
        shape = tuple(len(c) for c in self.coords_cm)
        if min(shape) < 3:
            raise ValueError("every grid axis needs at least 3 points")
        if self.b_gauss.shape != (3, *shape):
            raise ValueError(f"b_gauss has shape {self.b_gauss.shape}, expected {(3, *shape)}")
        if self.geometry == "cylindrical" and np.any(self.coords_cm[0] <= 0.0):
            raise ValueError("cylindrical grids need r > 0 (the axis is singular)")

    @property
    def strength_gauss(self) -> NDArray[np.float64]:
        """Field strength ``B = |B|`` [G]."""
        return np.sqrt(np.sum(self.b_gauss**2, axis=0))

    @property
    def unit_vector(self) -> NDArray[np.float64]:
        """Field direction ``b_hat``, shape ``(3, *grid_shape)``."""
        return self.b_gauss / self.strength_gauss


def sample_field(
    field: FieldCallable | ArrayLike,
    coords_cm: tuple[ArrayLike, ...],
    geometry: Geometry = "cartesian",
) -> FieldOnGrid:
    """Put a field model on a grid.

    Parameters
    ----------
    field : callable or array_like
        Either ``field(x, y, z)`` (cartesian) / ``field(r, z)`` (cylindrical), called with
        ``ij``-indexed coordinate meshes [cm] and returning the three components [G], or the
        components already sampled, shape ``(3, *grid_shape)``.
    coords_cm : tuple of array_like
        1-D coordinates [cm].
    geometry : {"cartesian", "cylindrical"}
        Coordinate system.
    """
    coords = tuple(np.asarray(c, dtype=float) for c in coords_cm)
    if callable(field):
        mesh = np.meshgrid(*coords, indexing="ij")
        values = np.asarray([np.broadcast_to(c, mesh[0].shape) for c in field(*mesh)], float)
    else:
        values = np.asarray(field, dtype=float)
    return FieldOnGrid(values, coords, geometry)


def _partial(a: NDArray, coords: tuple[NDArray, ...], axis: int) -> NDArray:
    return np.gradient(a, coords[axis], axis=axis, edge_order=2)


def _gradient(s: NDArray, fg: FieldOnGrid) -> NDArray:
    """Gradient of a scalar; physical components in the grid's basis."""
    c = fg.coords_cm
    if fg.geometry == "cartesian":
        return np.stack([_partial(s, c, i) for i in range(3)])
    return np.stack([_partial(s, c, 0), np.zeros_like(s), _partial(s, c, 1)])


def _directional_derivative(b: NDArray, a: NDArray, fg: FieldOnGrid) -> NDArray:
    """``(b . grad) a`` for vector fields ``a``, ``b`` (physical components)."""
    c = fg.coords_cm
    if fg.geometry == "cartesian":
        return np.stack([sum(b[j] * _partial(a[i], c, j) for j in range(3)) for i in range(3)])
    r = c[0][:, np.newaxis]
    d_r = [_partial(a[i], c, 0) for i in range(3)]
    d_z = [_partial(a[i], c, 1) for i in range(3)]
    plain = [b[0] * d_r[i] + b[2] * d_z[i] for i in range(3)]
    return np.stack([plain[0] - b[1] * a[1] / r, plain[1] + b[1] * a[0] / r, plain[2]])


def _curl(a: NDArray, fg: FieldOnGrid) -> NDArray:
    """Curl of a vector field (physical components)."""
    c = fg.coords_cm
    if fg.geometry == "cartesian":
        return np.stack(
            [
                _partial(a[2], c, 1) - _partial(a[1], c, 2),
                _partial(a[0], c, 2) - _partial(a[2], c, 0),
                _partial(a[1], c, 0) - _partial(a[0], c, 1),
            ]
        )
    r = c[0][:, np.newaxis]
    return np.stack(
        [
            -_partial(a[1], c, 1),
            _partial(a[0], c, 1) - _partial(a[2], c, 0),
            _partial(r * a[1], c, 0) / r,
        ]
    )


def curvature_vector_per_cm(fg: FieldOnGrid) -> NDArray[np.float64]:
    """Field-line curvature ``kappa = (b_hat . grad) b_hat`` [1/cm], shape ``(3, *grid)``."""
    b_hat = fg.unit_vector
    return _directional_derivative(b_hat, b_hat, fg)


def gradient_drift_velocity(
    fg: FieldOnGrid, rigidity_gv: float, beta: float, mu: float
) -> NDArray[np.float64]:
    """Gradient drift ``v (1 - mu^2) / 2 (R / B^2) b_hat x grad B`` [cm/s].

    Parameters
    ----------
    fg : FieldOnGrid
        The field.
    rigidity_gv : float
        Signed rigidity ``p c / q`` [GV] (negative for negative charges).
    beta : float
        Particle speed ``v / c``.
    mu : float
        Pitch-angle cosine.
    """
    b = fg.strength_gauss
    prefactor = 0.5 * beta * C_CM_S * (1.0 - mu * mu) * rigidity_statvolt(rigidity_gv) / b**2
    return prefactor * np.cross(fg.unit_vector, _gradient(b, fg), axis=0)


def curvature_drift_velocity(
    fg: FieldOnGrid, rigidity_gv: float, beta: float, mu: float
) -> NDArray[np.float64]:
    """Curvature drift ``v mu^2 (R / B) b_hat x kappa`` [cm/s] (arguments as for the
    gradient drift, :func:`gradient_drift_velocity`)."""
    prefactor = beta * C_CM_S * mu * mu * rigidity_statvolt(rigidity_gv) / fg.strength_gauss
    return prefactor * np.cross(fg.unit_vector, curvature_vector_per_cm(fg), axis=0)


def averaged_drift_velocity(fg: FieldOnGrid, rigidity_gv: float, beta: float) -> NDArray:
    """Pitch-angle-averaged drift ``(v R / 3) curl(B / B^2)`` [cm/s] (Jokipii et al. 1977).

    Parameters
    ----------
    fg : FieldOnGrid
        The field.
    rigidity_gv : float
        Signed rigidity [GV].
    beta : float
        Particle speed ``v / c``.
    """
    b_over_b2 = fg.b_gauss / fg.strength_gauss**2
    return beta * C_CM_S * rigidity_statvolt(rigidity_gv) / 3.0 * _curl(b_over_b2, fg)


def drift_coefficient_cm2_s(
    rigidity_gv: ArrayLike, beta: ArrayLike, b_gauss: ArrayLike
) -> NDArray[np.float64]:
    """Antisymmetric (drift) diffusion coefficient ``kappa_A = v R / (3 B) = v r_g / 3``
    [cm^2/s] of the weak-scattering limit (sign of the charge kept)."""
    return (
        np.asarray(beta, dtype=float)
        * C_CM_S
        * rigidity_statvolt(rigidity_gv)
        / (3.0 * np.asarray(b_gauss, dtype=float))
    )
