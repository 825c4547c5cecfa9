"""Sources: injection (spatial profile x spectrum, optionally x g(t)) and secondary production.

Not part of the operator matrix: :func:`source_density` returns the right-hand side S of
d psi / dt = -A psi + S on the owned cells (rank-local layout)."""

from __future__ import annotations

import numpy as np


def source_density(coeffs, decomp, t: float | None = None) -> np.ndarray:
    shape = decomp.box.c_shape + (coeffs.p.size,)
    if not coeffs.source:
        return np.zeros(shape)
    s = np.broadcast_to(coeffs.source.evaluate(decomp.local_centers()), shape)
    if t is not None and coeffs.source_time is not None:
        s = s * coeffs.source_time(t)
    return np.ascontiguousarray(s)
