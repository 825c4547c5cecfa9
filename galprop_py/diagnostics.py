"""Diagnostics of a distributed solution: point values, totals (no rank count dependence)."""

from __future__ import annotations

import numpy as np
from mpi4py import MPI


def interpolation_weights(decomp, point) -> np.ndarray:
    """Multilinear interpolation weights of the owned cells for ``point`` (physical axis
    order); the weights of all ranks together sum to 1.  Outside the cell-centre range the
    nearest centre value is used along that axis."""
    w = np.ones(decomp.box.c_shape)
    for a, ax in enumerate(decomp.grid.axes):
        c = ax.centers
        x = float(np.clip(point[a], c[0], c[-1]))
        j = int(np.clip(np.searchsorted(c, x) - 1, 0, c.size - 2))
        t = (x - c[j]) / (c[j + 1] - c[j])
        full = np.zeros(c.size)
        full[j], full[j + 1] = 1.0 - t, t
        w = w * decomp.expand(full[decomp.owned_slice(a)], a)
    return w


def value_at_point(decomp, local: np.ndarray, point) -> np.ndarray:
    """Spectrum (last axis of ``local``) interpolated at ``point``, identical on all ranks."""
    w = interpolation_weights(decomp, point)
    part = np.tensordot(w, local, axes=(tuple(range(w.ndim)), tuple(range(w.ndim))))
    out = np.zeros_like(part)
    decomp.comm.tompi4py().Allreduce(part, out, op=MPI.SUM)
    return out


def total_particles(decomp, local: np.ndarray, dp: np.ndarray) -> float:
    """sum over cells and momenta of psi * volume * dp (volumes without the 2 pi / 4 pi)."""
    vol = decomp.local_cell_volumes()
    part = float(np.sum(vol[..., None] * local * dp))
    return decomp.comm.tompi4py().allreduce(part, op=MPI.SUM)
