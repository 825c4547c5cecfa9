"""PETSc linear solvers with an options prefix and defaults that users can override.

Defaults are set on the KSP in code, then ``setFromOptions`` applies whatever the user put
in the options database (config ``[solver.petsc]`` or command line), so
``-steady_ksp_type gmres -steady_pc_type gamg`` on the command line changes the steady solver.
"""

from __future__ import annotations

from dataclasses import dataclass

from petsc4py import PETSc

from ..messages import info as info_msg
from ..messages import warn as warn_msg

#: BiCGStab with block-Jacobi/ILU(0) (PETSc's default block solver): robust for these
#: diagonally dominant M-matrix-like operators and the fastest choice measured here.
DEFAULT_OPTIONS = {
    "ksp_type": "bcgs",
    "pc_type": "bjacobi",
    "ksp_rtol": 1e-10,
    "ksp_atol": 1e-50,
    "ksp_max_it": 20000,
    "ksp_initial_guess_nonzero": False,
    "ksp_norm_type": "default",
}

_NORM_TYPES = {
    "default": PETSc.KSP.NormType.DEFAULT,
    "preconditioned": PETSc.KSP.NormType.PRECONDITIONED,
    "unpreconditioned": PETSc.KSP.NormType.UNPRECONDITIONED,
}

_REASONS = {v: k for k, v in PETSc.KSP.ConvergedReason.__dict__.items() if not k.startswith("_")}


class SolverError(RuntimeError):
    """A linear solve failed; the message names what was being solved and how to change it."""


#: a left-preconditioned repeat whose true relative residual exceeds this times rtol warns
RETRY_RESIDUAL_FACTOR = 100.0


@dataclass
class SolveInfo:
    iterations: int
    residual_norm: float
    rhs_norm: float
    reason: str
    reason_code: int = 0
    setup_s: float = 0.0  # preconditioner set-up (wall time)
    solve_s: float = 0.0  # Krylov iterations (wall time)

    @property
    def relative_residual(self) -> float:
        return self.residual_norm / self.rhs_norm if self.rhs_norm > 0 else self.residual_norm


def set_default_options(prefix: str, defaults: dict) -> None:
    opts = PETSc.Options()
    for key, value in defaults.items():
        if not opts.hasName(prefix + key):
            opts.setValue(prefix + key, value)


#: values that :func:`set_code_defaults` put into the options database, by option name
_CODE_DEFAULTS: dict[str, str] = {}


def set_code_defaults(prefix: str, defaults: dict) -> None:
    """Defaults that must live in the options database (PCMG reads its levels' options only
    when it is set up) and depend on the grid: a user's value (command line or
    ``[solver.petsc]``) is kept, a value an earlier call of this function set is replaced
    (e.g. a 2D run's coarse solver, then a 3D run in the same process).  A user value
    equal to the one this function set last cannot be told apart from it."""
    opts = PETSc.Options()
    for key, value in defaults.items():
        name = prefix + key
        if opts.hasName(name) and opts.getString(name) != _CODE_DEFAULTS.get(name):
            continue
        opts.setValue(name, value)
        _CODE_DEFAULTS[name] = opts.getString(name)


class LinearSolver:
    """A KSP with options prefix ``prefix`` (e.g. ``"steady_"``)."""

    def __init__(self, comm, prefix: str, defaults: dict | None = None, dm=None):
        self.prefix = prefix
        self._mat = None
        opt = DEFAULT_OPTIONS | (defaults or {})
        self.ksp = PETSc.KSP().create(comm=comm)
        self.ksp.setOptionsPrefix(prefix)
        if dm is not None:
            # geometric multigrid (-<prefix>pc_type mg) coarsens the DMDA; the operators
            # themselves always come from the assembled matrices
            self.ksp.setDM(dm)
            self.ksp.setDMActive(PETSc.KSP.DMActive.ALL, False)
        self.ksp.setType(opt["ksp_type"])
        self.ksp.getPC().setType(opt["pc_type"])
        if "pc_mg_levels" in opt and opt["pc_type"] == "mg":
            self.ksp.getPC().setMGLevels(int(opt["pc_mg_levels"]))
        self.ksp.setTolerances(
            rtol=float(opt["ksp_rtol"]),
            atol=float(opt["ksp_atol"]),
            max_it=int(opt["ksp_max_it"]),
        )
        if "ksp_gmres_restart" in opt:  # (F)GMRES only; before setFromOptions: a user's wins
            self.ksp.setGMRESRestart(int(opt["ksp_gmres_restart"]))
        self.ksp.setInitialGuessNonzero(bool(opt["ksp_initial_guess_nonzero"]))
        self.ksp.setNormType(_NORM_TYPES[opt["ksp_norm_type"]])
        try:
            self.ksp.setFromOptions()
        except PETSc.Error as exc:
            raise SolverError(
                f"PETSc rejected the options of the {prefix!r} solver (error {exc.ierr}): "
                f"check -{prefix}ksp_type / -{prefix}pc_type (a type this PETSc build lacks, "
                "e.g. hypre, or a misspelt one)"
            ) from None

    def reset(self) -> None:
        """Forget the preconditioner (keeps the options): call it before an operator with
        another sparsity pattern, since multigrid reuses its symbolic coarse operators."""
        self.ksp.reset()
        self.ksp.setFromOptions()

    def set_operator(self, mat: PETSc.Mat, amat: PETSc.Mat | None = None) -> None:
        """Use ``mat``; another matrix object than the last gets a fresh preconditioner, the
        same (refilled) one keeps its symbolic set-up (:class:`~galprop_py.operators.stencil.
        MatrixPool`).  ``amat``: a different operator for the Krylov method (a shell,
        :func:`galprop_py.solvers.steady.solve_steady`), preconditioned with ``mat``."""
        if self._mat is not None and mat is not self._mat:
            self.reset()
        self._mat = mat
        self.ksp.setOperators(mat if amat is None else amat, mat)
        self.ksp.setUp()

    def solve(self, rhs: PETSc.Vec, x: PETSc.Vec, what: str) -> SolveInfo:
        """Solve A x = rhs; raise :class:`SolverError` naming ``what`` if it does not converge.

        If the solve fails with right preconditioning (the unpreconditioned norm: BiCGStab
        can break down or diverge there), it is repeated once from the same start with left
        preconditioning, which has converged on every problem seen here (e.g. shock
        acceleration, where the source sits at one momentum)."""
        # the start, for a repeat (none kept for a zero guess: saves a vector)
        x0 = x.copy() if self.ksp.getInitialGuessNonzero() and x.norm() > 0 else None
        info = self._solve_once(rhs, x, what)
        if info.reason_code < 0 and self.ksp.getNormType() == PETSc.KSP.NormType.UNPRECONDITIONED:
            info_msg(
                f"{what}: {info.reason} with right preconditioning after {info.iterations} "
                "iterations; repeating with left preconditioning"
            )
            if x0 is None:
                x.set(0.0)
            else:
                x0.copy(x)
            ksp_type = self.ksp.getType()
            if ksp_type == "fgmres":  # right preconditioning only: retry as GMRES
                self.ksp.setType("gmres")
            self.ksp.setNormType(PETSc.KSP.NormType.PRECONDITIONED)
            self.ksp.setPCSide(PETSc.PC.Side.LEFT)
            try:
                info = self._solve_once(rhs, x, what)
            finally:
                self.ksp.setType(ksp_type)
                self.ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
                self.ksp.setPCSide(PETSc.PC.Side.RIGHT)
            if info.reason_code > 0:
                # left preconditioning stopped on the preconditioned norm: report the true
                # residual (the unpreconditioned one the first attempt was judged by)
                info.residual_norm = self._true_residual(rhs, x)
                rtol = self.ksp.getTolerances()[0]
                if info.relative_residual > RETRY_RESIDUAL_FACTOR * rtol:
                    warn_msg(
                        f"{what}: the left-preconditioned repeat stopped with a true relative "
                        f"residual of {info.relative_residual:.2e} ({RETRY_RESIDUAL_FACTOR:g} "
                        f"x rtol = {RETRY_RESIDUAL_FACTOR * rtol:.0e} expected at most)"
                    )
        if x0 is not None:
            x0.destroy()
        if info.reason_code < 0:
            raise SolverError(
                f"{what}: linear solver {self.ksp.getType()}/{self.ksp.getPC().getType()} did not "
                f"converge ({info.reason}) after {info.iterations} iterations, residual "
                f"{info.residual_norm:.3e} (|b| = {info.rhs_norm:.3e}); change it with "
                f"-{self.prefix}ksp_type, -{self.prefix}pc_type, -{self.prefix}ksp_max_it"
            )
        return info

    def _true_residual(self, rhs: PETSc.Vec, x: PETSc.Vec) -> float:
        """|rhs - A x| (2-norm)."""
        r = rhs.duplicate()
        self.ksp.getOperators()[0].mult(x, r)
        r.aypx(-1.0, rhs)
        norm = r.norm()
        r.destroy()
        return norm

    def _solve_once(self, rhs: PETSc.Vec, x: PETSc.Vec, what: str) -> SolveInfo:
        try:
            self.ksp.solve(rhs, x)
        except PETSc.Error as exc:  # turn PETSc tracebacks into one clear line
            raise SolverError(
                f"{what}: PETSc failed inside the {self.ksp.getType()} solve (error {exc.ierr}); "
                f"try -{self.prefix}ksp_type gmres or -{self.prefix}pc_type lu"
            ) from None
        reason = self.ksp.getConvergedReason()
        return SolveInfo(
            iterations=self.ksp.getIterationNumber(),
            residual_norm=self.ksp.getResidualNorm(),
            rhs_norm=rhs.norm(),
            reason=_REASONS.get(reason, str(reason)),
            reason_code=int(reason),
        )

    def destroy(self) -> None:
        self.ksp.destroy()
