"""The left-preconditioned repeat of a failed steady solve (galprop_py/solvers/petsc.py)
reports the true residual and warns when it is far above the tolerance."""

from __future__ import annotations

import numpy as np
import pytest
from petsc4py import PETSc

from galprop_py.solvers.petsc import LinearSolver, SolveInfo

pytestmark = pytest.mark.serial


def _diagonal(n: int, value: float) -> PETSc.Mat:
    mat = PETSc.Mat().createAIJ(size=(n, n), nnz=1, comm=PETSc.COMM_SELF)
    for i in range(n):
        mat.setValue(i, i, value)
    mat.assemble()
    return mat


@pytest.mark.parametrize(("wrong", "warned"), [(1.0, True), (1e-9, False)])
def test_left_repeat_reports_the_true_residual(monkeypatch, capsys, wrong, warned):
    """First attempt fails; the repeat 'converges' in its own (preconditioned) norm but leaves
    x = (1 + wrong) x_exact for A = 2 I: the reported residual is |b - A x| = wrong |b|
    (to 1e-12), with a warning when that exceeds 100 x rtol."""
    n = 8
    mat = _diagonal(n, 2.0)
    solver = LinearSolver(PETSc.COMM_SELF, "retrytest_", {"ksp_type": "fgmres", "ksp_rtol": 1e-6})
    solver.ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
    solver.set_operator(mat)
    b = mat.createVecLeft()
    b.setArray(np.arange(1.0, n + 1.0))
    x = b.duplicate()
    x.set(0.0)
    calls = []

    def fake_solve_once(rhs, xv, what):
        calls.append(solver.ksp.getPCSide())
        if len(calls) == 1:
            return SolveInfo(10, 1.0, rhs.norm(), "DIVERGED_ITS", -3)
        xv.setArray((1.0 + wrong) * rhs.getArray() / 2.0)
        return SolveInfo(1, 1e-12, rhs.norm(), "CONVERGED_RTOL", 2)

    monkeypatch.setattr(solver, "_solve_once", fake_solve_once)
    info = solver.solve(b, x, what="test solve")
    assert calls[1] == PETSc.PC.Side.LEFT
    assert info.relative_residual == pytest.approx(wrong, rel=1e-12)
    out = capsys.readouterr()
    assert ("true relative residual" in out.out + out.err) == warned
    solver.destroy()
    mat.destroy()
