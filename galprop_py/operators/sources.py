"""Sources: injection (spatial profile x spectrum, optionally x g(t)) and secondary production.

Not part of the operator matrix: :func:`source_density` returns the right-hand side S of
d psi / dt = -A psi + S on the owned cells (rank-local layout)."""

from __future__ import annotations

import numpy as np


def source_density(coeffs, decomp) -> np.ndarray:
    """Injection rate density on the owned cells, without the time factor (time steps apply
    it through :meth:`SpeciesTransport.source_average`)."""
    shape = decomp.box.c_shape + (coeffs.p.size,)
    if not coeffs.source:
        return np.zeros(shape)
    s = np.broadcast_to(coeffs.source.evaluate(decomp.local_centers()), shape)
    return np.ascontiguousarray(s)
