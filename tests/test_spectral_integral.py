"""The parent-spectrum quadrature of secondary production and emission
(galprop_py/operators/spectral_integral.py) against closed-form integrals."""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py.operators.spectral_integral import apply_matrix, parent_quadrature

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial


def _integral(p_nodes, psi_nodes, g):
    pk, w = parent_quadrature(p_nodes)
    return float(g(pk) @ (w @ psi_nodes))


def test_power_law_times_power_law_is_exact():
    # psi = p^-2.7 (the reference slope) times g = p^1.2: int = [p^-0.5 / -0.5]
    p = np.geomspace(1.0, 1e3, 31)
    got = _integral(p, p**-2.7, lambda x: x**1.2)
    exact = (1.0 - 1e3**-0.5) / 0.5
    assert got == pytest.approx(exact, rel=1e-12)


def test_other_slope_converges_at_second_order():
    # psi = p^-2.2 (not the reference slope), g = 1/(1 + p): error ~ (log step)^2
    def g(x):
        return 1.0 / (1.0 + x)

    from scipy.integrate import quad

    exact = quad(lambda x: x**-2.2 * g(x), 1.0, 100.0, epsrel=1e-13, limit=200)[0]
    errs = []
    for n in (11, 21, 41):
        p = np.geomspace(1.0, 100.0, n)
        errs.append(abs(_integral(p, p**-2.2, g) / exact - 1.0))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert errs[-1] < 1e-3
    assert np.all(orders > 1.8), (errs, orders)


def test_apply_matrix_acts_on_the_last_axis_of_cell_arrays():
    rng = np.random.default_rng(1)
    m = rng.random((5, 7))
    psi = rng.random((3, 4, 7))
    q = apply_matrix(m, psi)
    assert q.shape == (3, 4, 5)
    np.testing.assert_allclose(q[2, 1], m @ psi[2, 1], rtol=1e-14)


def test_bad_nodes_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        parent_quadrature(np.array([1.0, 1.0, 2.0]))
