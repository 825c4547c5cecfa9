"""The level smoother of the 3D multigrid (:data:`~galprop_py.solvers.steady.MULTIGRID_3D_OPTIONS`):
a KSP of type ``python`` that takes Richardson steps with its preconditioner, with less memory
than PETSc's Richardson (:class:`SmoothingStep`).  :class:`~galprop_py.solvers.multigrid.
MultigridSolver` hands it PCMG's residual vector of its level.

Units: none (the operators' internal units).
"""

from __future__ import annotations

from petsc4py import PETSc


class SmoothingStep:
    """Level smoother (a KSP of type ``python``; MULTIGRID_3D_OPTIONS in
    :mod:`galprop_py.solvers.steady`): ``max_it`` steps x <- x + B (b - A x), B the KSP's
    preconditioner (processor-local symmetric SOR there), as a Richardson KSP does.

    It differs in what it costs: from a zero guess (PCMG's pre-smoothing, whose KSP it
    marks so) the first step is x = B b without the product A x; the residual goes
    into PCMG's residual vector of the level (handed over by :class:`MultigridSolver`:
    PCMG needs it only between the smoothings of a V-cycle), so a step needs one vector
    of its own (z = B r) where Richardson's has two.  Richardson with SOR instead passes x
    to MatSOR, which on an MPIAIJ matrix from a nonzero x allocates and frees a vector of
    the level's size per call (b - B_offdiag x), whose fresh pages cost as much kernel
    time as the sweep.  One symmetric SOR step from x is x + M^-1 (b - A x): the same
    iterates up to rounding."""

    def __init__(self):
        self._shared: PETSc.Vec | None = None
        self._own: dict[str, PETSc.Vec] = {}

    def create(self, ksp: PETSc.KSP) -> None:
        # a python KSP refuses PCMG's norm type "none" at set-up; no norm is computed
        ksp.setNormType(PETSc.KSP.NormType.PRECONDITIONED)

    def share(self, residual: PETSc.Vec | None) -> None:
        """Use ``residual`` (PCMG's residual vector of the level) as scratch; None: own."""
        self._shared = residual

    def _vec(self, name: str, like: PETSc.Vec) -> PETSc.Vec:
        if name == "r" and self._shared is not None:
            return self._shared
        v = self._own.get(name)
        if v is None or v.getSizes() != like.getSizes():
            if v is not None:
                v.destroy()
            v = self._own[name] = like.duplicate()
        return v

    def solve(self, ksp: PETSc.KSP, b: PETSc.Vec, x: PETSc.Vec) -> None:
        mat = ksp.getOperators()[0]
        pc = ksp.getPC()
        steps = int(ksp.getTolerances()[3])
        done = 0
        if steps > 0 and not ksp.getInitialGuessNonzero():
            pc.apply(b, x)
            done = 1
        if done < steps:
            r, z = self._vec("r", b), self._vec("z", b)
            for _ in range(done, steps):
                mat.mult(x, r)
                r.aypx(-1.0, b)
                pc.apply(r, z)
                x.axpy(1.0, z)
        ksp.setIterationNumber(steps)
        ksp.setConvergedReason(PETSc.KSP.ConvergedReason.CONVERGED_ITS)

    def reset(self, ksp: PETSc.KSP) -> None:
        for v in self._own.values():
            v.destroy()
        self._own = {}

    def destroy(self, ksp: PETSc.KSP) -> None:
        self.reset(ksp)
        self._shared = None
