"""Shared upwind discretisation of a drift in momentum,  d/dp (pdot psi),  on the log p grid.

``pdot`` is given on the momentum cell edges (positive = gain).  The face flux takes the
upwind cell value; at the grid ends nothing flows in, and what flows out leaves the grid
(``boundary = "outflow"``) or is held back (``"closed"``, zero flux through both ends).
"""

from __future__ import annotations

import numpy as np


def add_momentum_drift(system, pdot_edges: np.ndarray, dp: np.ndarray, boundary: str) -> None:
    gain = np.maximum(pdot_edges, 0.0)
    loss = np.minimum(pdot_edges, 0.0)
    if boundary == "closed":
        gain = gain.copy()
        loss = loss.copy()
        gain[..., -1] = 0.0
        loss[..., 0] = 0.0
    elif boundary != "outflow":
        raise ValueError(f"momentum_boundary = {boundary!r}: allowed 'outflow', 'closed'")
    system.diag += (gain[..., 1:] - loss[..., :-1]) / dp
    system.p_upper += loss[..., 1:] / dp
    system.p_lower += -gain[..., :-1] / dp
