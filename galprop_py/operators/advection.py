"""Advection by the wind  -div(u psi), conservative, with the adiabatic term kept separate.

Face values: upwind, or (``scheme = "hybrid"``, the default) centred (linear interpolation
between the two cells, so also on non-uniform grids) where the face Peclet number
|u| h / kappa_aa is at most 2 (second order and still monotone there) and upwind elsewhere
(Spalding 1972, Int. J. Numer. Meth. Eng. 4, 551).  Free-escape boundary faces let
particles leave with the upwind (cell) value and let nothing in.
"""

from __future__ import annotations

import numpy as np

from .base import FRAME_AXES, Operator, face_coordinates, unit_offset


class WindAdvection(Operator):
    name = "advection"

    def __init__(self, scheme: str = "hybrid"):
        if scheme not in ("upwind", "hybrid"):
            raise ValueError(f"wind.scheme = {scheme!r}: allowed 'upwind', 'hybrid'")
        self.scheme = scheme

    def is_active(self, coeffs) -> bool:
        return coeffs.wind is not None

    def assemble(self, system, coeffs, decomp) -> None:
        dim = decomp.grid.dim
        frame = FRAME_AXES[decomp.grid.geometry]
        npts = coeffs.p.size
        for a in range(dim):
            for side in (-1, 1):
                coords, info = face_coordinates(decomp, a, side)
                u = np.asarray(coeffs.wind(a, coords), dtype=float)
                u = np.broadcast_to(u, np.broadcast_shapes(u.shape, info["geo"].shape))[..., None]
                out = side * u  # outward normal velocity
                geo = info["geo"][..., None]
                interior = info["interior"][..., None]
                open_ = info["boundary_open"][..., None]
                f_out = geo * np.maximum(out, 0.0)  # leaves with the cell value
                f_in = geo * np.minimum(out, 0.0)  # enters with the neighbour value
                if self.scheme == "hybrid" and coeffs.diffusion is not None:
                    kaa = coeffs.diffusion.component(a, a, coords, frame)
                    h = info["h"][..., None]
                    central = interior & (np.abs(u) * h <= 2.0 * kaa)
                    # linear interpolation to the face (1/2 and 1/2 on a uniform grid)
                    w_nb = info["d_own"][..., None] / h
                    diag = np.where(central, (1.0 - w_nb) * geo * out, f_out * (interior | open_))
                    off = np.where(central, w_nb * geo * out, f_in * interior)
                else:
                    diag = f_out * (interior | open_)
                    off = f_in * interior
                system.diag += np.broadcast_to(diag, system.shape[:-1] + (npts,))
                system.add_spatial(unit_offset(dim, a, side), off)


def wind_divergence(coeffs, decomp) -> np.ndarray:
    """Finite-volume div u of every owned cell [1/Myr], consistent with the advection fluxes."""
    div = np.zeros(decomp.box.c_shape)
    for a in range(decomp.grid.dim):
        for side in (-1, 1):
            coords, info = face_coordinates(decomp, a, side)
            u = np.asarray(coeffs.wind(a, coords), dtype=float)
            active = info["interior"] | info["boundary_open"]
            div = div + side * info["geo"] * u * active
    return div
