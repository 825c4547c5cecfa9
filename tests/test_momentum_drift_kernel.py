"""The in-place kernel of the momentum drift d/dp (pdot psi) (``operators/momentum_flux``)
against the vectorised update it replaced, written out here from its definition: gain =
max(pdot, 0), loss = min(pdot, 0) on the edges, zero inflow at both ends (and, for
"closed", zero outflow), then for each flux group target[..., rows] += rate[..., edges] w
(Leonard 1979 QUICK weights or upwind).  The same sums in the same order: bit for bit, for
both schemes and boundaries, a spatially varying and a broadcast rate of either sign."""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py.operators.momentum_flux import _drift_groups, add_momentum_drift


class _Slots:
    """The diagonal and momentum bands a drift writes (a StencilSystem's, without a grid)."""

    def __init__(self, shape):
        self.diag = np.zeros(shape)
        self.p_band = {d: np.zeros(shape) for d in (-2, -1, 1, 2)}


def _reference(slots, pdot_edges, p, p_edges, boundary, scheme):
    gain = np.maximum(pdot_edges, 0.0)
    loss = np.minimum(pdot_edges, 0.0)
    if boundary == "closed":
        gain[..., -1] = 0.0
        loss[..., 0] = 0.0
    gain[..., 0] = 0.0
    loss[..., -1] = 0.0
    for direction, rate in ((+1, gain), (-1, loss)):
        if not np.any(rate):
            continue
        for d, edges, rows, factor in _drift_groups(p, p_edges, scheme, direction):
            target = slots.diag if d == 0 else slots.p_band[d]
            target[..., rows] += rate[..., edges] * factor


@pytest.mark.serial  # pure numpy/numba on one process
@pytest.mark.parametrize("scheme", ["quadratic", "upwind"])
@pytest.mark.parametrize("boundary", ["outflow", "closed"])
@pytest.mark.parametrize("shape", [(5, 7), (1, 1)])
def test_in_place_drift_equals_the_vectorised_update(scheme, boundary, shape):
    n = 12
    p_edges = np.geomspace(0.1, 100.0, n + 1)
    p = np.sqrt(p_edges[:-1] * p_edges[1:])
    rng = np.random.default_rng(3)
    pdot = rng.normal(size=shape + (n + 1,))  # gains and losses on every edge
    got, want = _Slots((5, 7, n)), _Slots((5, 7, n))
    add_momentum_drift(got, pdot, p, p_edges, boundary, scheme)
    _reference(want, pdot.copy(), p, p_edges, boundary, scheme)
    np.testing.assert_array_equal(got.diag, want.diag)
    for d in got.p_band:
        np.testing.assert_array_equal(got.p_band[d], want.p_band[d])
    assert np.any(got.diag) and np.any(got.p_band[-1]) and np.any(got.p_band[1])
