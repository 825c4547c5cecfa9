"""Initial guesses of the network's steady solves from other species' solutions
(galprop_py/solvers/guess.py: scaled_guess; used by solvers/steady.py and network.py)."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

from galprop_py.decomposition import Decomposition
from galprop_py.solvers.guess import GUESS_MAX_RESIDUAL, colour_columns, scaled_guess
from galprop_py.solvers.steady import MULTIGRID_RTOL, solve_steady, steady_solver
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


def _templates(dec):
    centres = dec.local_centers()
    shape = dec.box.c_shape + (dec.dof,)
    f1 = 1.0 + np.cos(centres[0]) ** 2 * np.exp(-(centres[1] ** 2))
    f2 = np.exp(-0.1 * centres[0] - np.abs(centres[1]))
    f3 = 1.0 / (1.0 + centres[0] ** 2 + 0.0 * centres[1])
    t1 = np.broadcast_to(f1[..., None], shape) * np.linspace(1.0, 3.0, dec.dof)
    t2 = np.broadcast_to(f2[..., None], shape) * np.linspace(2.0, 0.5, dec.dof)
    t3 = np.broadcast_to(f3[..., None], shape) * np.geomspace(1.0, 1e-3, dec.dof)
    return t1, t2, t3


def _max_abs(x):
    return WORLD.allreduce(float(np.max(np.abs(x))), op=MPI.MAX)


def _true_ratio(residual, rhs, scale):
    num = WORLD.allreduce(float(np.sum((residual / scale) ** 2)))
    den = WORLD.allreduce(float(np.sum((rhs / scale) ** 2)))
    return np.sqrt(num / den)


def test_colours_reach_every_coupled_momentum_once():
    """Row q meets each momentum k with |k - q| <= 2 in exactly one colour (k mod 5)."""
    n_p = 11
    col = colour_columns(n_p)
    for q in range(n_p):
        want = {k for k in range(q - 2, q + 3) if 0 <= k < n_p}
        got = [int(k) for k in col[q] if k >= 0]
        assert sorted(got) == sorted(want)
        assert all(col[q, c] % 5 == c for c in range(5) if col[q, c] >= 0)


@pytest.mark.parallel
def test_scaled_guess_recovers_a_combination_of_the_templates():
    """If rhs = A (a(p) t1 + b(p) t2), with factors constant or changing with momentum, the
    guess is exactly that combination (relative residual ~1e-13) on any rank count; a
    template that cannot bring the residual below GUESS_MAX_RESIDUAL (noise) is refused."""
    dec = Decomposition(_grid("cylindrical2d", 17), 6)
    tr = _nucleus(dec, 6)
    t1, t2, _ = _templates(dec)
    factors = (
        (0.7, -0.2),
        (np.linspace(0.5, 0.6, 6), np.linspace(1, 0.9, 6)),
        (np.array([1.0, -2.0, 3.0, 0.1, 5.0, 1.0]), np.array([0.3, 4.0, -1.0, 2.0, 0.0, 1.0])),
    )
    for a, b in factors:
        exact = a * t1 + b * t2
        guess, ratio = scaled_guess(tr, _apply(tr, exact), [t1, t2])
        assert ratio < 1e-10
        assert _max_abs(guess - exact) < 1e-8 * _max_abs(exact)
    assert tr.momentum_bands() is not None
    tr.momentum_bands = lambda: None  # the colouring (a 3D matrix whose stencil is freed)
    for a, b in factors:
        exact = a * t1 + b * t2
        guess, ratio = scaled_guess(tr, _apply(tr, exact), [t1, t2])
        assert ratio < 1e-10
        assert _max_abs(guess - exact) < 1e-8 * _max_abs(exact)
    del tr.momentum_bands
    noise = np.random.default_rng(3 + WORLD.rank).standard_normal(t1.shape)
    guess, ratio = scaled_guess(tr, _apply(tr, t1), [noise])
    assert guess is None and ratio == 1.0 and GUESS_MAX_RESIDUAL < 1.0
    tr.destroy()


@pytest.mark.parallel
def test_scaled_guess_reports_its_true_residual_and_is_the_best_fit():
    """For a right-hand side outside the templates' span the reported ratio is the true
    relative residual |(rhs - A g) / s| / |rhs / s| of the returned guess (recomputed here
    with the matrix), and no other momentum-dependent combination does better: random
    perturbations of the factors (applied before A) all raise it.  With a cell-local
    self-coupling T (each momentum fed by all higher ones) the ratio is that of
    (A - T) g."""
    dec = Decomposition(_grid("cylindrical2d", 17), 6)
    tr = _nucleus(dec, 6)
    t1, t2, t3 = _templates(dec)
    scale = np.geomspace(1.0, 1e-2, dec.dof)
    rhs = _apply(tr, np.linspace(1.0, 2.0, 6) * t1 + 0.3 * t3)
    tr.momentum_bands = lambda: None
    coloured = scaled_guess(tr, rhs, [t1, t2], scale=scale)
    del tr.momentum_bands
    guess, ratio = scaled_guess(tr, rhs, [t1, t2], scale=scale)
    assert guess is not None and 1e-6 < ratio < GUESS_MAX_RESIDUAL
    assert coloured[1] == pytest.approx(ratio, rel=1e-9)
    assert _max_abs(coloured[0] - guess) < 1e-9 * _max_abs(guess)
    assert ratio == pytest.approx(_true_ratio(rhs - _apply(tr, guess), rhs, scale), rel=1e-9)
    rng = np.random.default_rng(11)  # the same perturbations on every rank
    for _ in range(5):
        da, db = 1e-3 * rng.standard_normal((2, dec.dof))
        other = guess + da * t1 + db * t2
        assert _true_ratio(rhs - _apply(tr, other), rhs, scale) > ratio

    upper = np.triu(np.full((dec.dof, dec.dof), 0.05), k=1)  # T psi: fed from higher momenta

    def feed(psi):
        return psi @ upper.T

    rhs_t = rhs - feed(np.linspace(1.0, 2.0, 6) * t1)
    guess, ratio = scaled_guess(tr, rhs_t, [t1, t2], self_coupling=feed, scale=scale)
    assert guess is not None
    true = _true_ratio(rhs_t - _apply(tr, guess) + feed(guess), rhs_t, scale)
    assert ratio == pytest.approx(true, rel=1e-9)
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
