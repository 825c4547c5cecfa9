"""Initial guesses of the network's steady solves from other species' solutions
(galprop_py/solvers/steady.py: scaled_guess; used by solvers/network.py)."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from galprop_py.decomposition import Decomposition
from galprop_py.solvers.steady import (
    GUESS_MAX_RESIDUAL,
    MULTIGRID_RTOL,
    scaled_guess,
    solve_steady,
    steady_solver,
)
from tests.test_multigrid import _grid, _lepton, _nucleus

WORLD = MPI.COMM_WORLD


def _apply(tr, arr):
    dec = tr.decomp
    v, w = dec.create_vec(), dec.create_vec()
    with dec.writable(v) as a:
        a[...] = arr
    tr.matrix().mult(v, w)
    out = dec.local_array(w).copy()
    v.destroy()
    w.destroy()
    return out


@pytest.mark.parallel
def test_scaled_guess_recovers_a_combination_of_the_templates():
    """If rhs = A (a t1 + b t2), the guess is exactly that combination (relative residual
    ~1e-13) on any rank count; with coefficients that change with momentum it is close (A
    couples neighbouring momenta, the fit applies them after A); a template that cannot
    bring the residual below GUESS_MAX_RESIDUAL (noise) is refused."""
    dec = Decomposition(_grid("cylindrical2d", 17), 6)
    tr = _nucleus(dec, 6)
    centres = dec.local_centers()
    shape = dec.box.c_shape + (dec.dof,)
    f1 = 1.0 + np.cos(centres[0]) ** 2 * np.exp(-(centres[1] ** 2))
    f2 = np.exp(-0.1 * centres[0] - np.abs(centres[1]))
    t1 = np.broadcast_to(f1[..., None], shape) * np.linspace(1.0, 3.0, dec.dof)
    t2 = np.broadcast_to(f2[..., None], shape) * np.linspace(2.0, 0.5, dec.dof)

    def max_abs(x):
        return WORLD.allreduce(float(np.max(np.abs(x))), op=MPI.MAX)

    for a, b, tol in ((0.7, -0.2, 1e-10), (np.linspace(0.5, 0.6, 6), np.linspace(1, 0.9, 6), 0.05)):
        exact = a * t1 + b * t2
        guess, ratio = scaled_guess(tr, _apply(tr, exact), [t1, t2])
        assert ratio < tol
        assert max_abs(guess - exact) < 10 * tol * max_abs(exact)
    noise = np.random.default_rng(3 + WORLD.rank).standard_normal(shape)
    guess, ratio = scaled_guess(tr, _apply(tr, t1), [noise])
    assert guess is None and ratio == 1.0 and GUESS_MAX_RESIDUAL < 1.0
    tr.destroy()


@pytest.mark.parallel
def test_solve_from_a_guess_is_as_accurate_as_from_zero():
    """A lepton solved from the guess made of a nucleus's and another lepton's densities
    (rtol tightened by GUESS_RTOL_FACTOR) agrees with the zero-guess solve and with a 1e-13
    solve to 1e-5 at every momentum."""
    from tests.test_multigrid import _max_relative, _reference

    dec = Decomposition(_grid("cylindrical2d", 17, refine=True), 6)
    nucleus, lepton = _nucleus(dec, 6, wind=False), _lepton(dec, 6)
    ref = _reference(lepton)
    solver = steady_solver(dec.comm, dec)
    try:
        x, _ = solve_steady(nucleus, solver)
        t_nuc = dec.local_array(x).copy()
        x.destroy()
        x, info0 = solve_steady(lepton, solver)
        zero = dec.local_array(x).copy()
        x.destroy()
        x, info1 = solve_steady(lepton, solver, template=[0.7 * zero + 0.1 * ref, t_nuc])
        guessed = dec.local_array(x).copy()
        x.destroy()
        assert solver.ksp.getTolerances()[0] == pytest.approx(MULTIGRID_RTOL)  # restored
    finally:
        solver.destroy()
        nucleus.destroy()
        lepton.destroy()
    assert _max_relative(guessed, ref) < 1e-5
    assert _max_relative(zero, ref) < 1e-5
    assert info1.iterations < info0.iterations
