"""Implicit time stepping: theta scheme (backward Euler theta = 1, Crank-Nicolson theta = 1/2)
of d psi/dt = -A psi + S(t), with one KSP (prefix ``transient_``) reused for every step.

Crank-Nicolson is second order but only A-stable: with steps much longer than the fastest
loss times it rings; ``"cn-be"`` starts with two backward-Euler half steps per step size
change (Rannacher smoothing) and is the default.

Secondary production P(t) from parents is a source like the injection: a step from t to
t + dt takes theta P(t + dt) + (1 - theta) P(t) (parents are stepped first), so a network
keeps the scheme's order; the Rannacher half steps take the mean of the two, then P(t + dt).
Each step is solved in the steady solver's momentum-scaled unknowns
(:func:`galprop_py.solvers.steady.scaled_solve`), so its tolerance holds at every momentum.

``diffusion.scheme = "limited"``: each step is a Picard solve of the nonlinear limited
operator (:class:`galprop_py.operators.anisotropic_limited.LimitedDiffusion`, linear steps
with this KSP).  Only backward Euler is allowed with it: the positivity of a theta < 1 step
needs its explicit half non-negative, dt (1 - theta) A_ii <= 1, i.e. dt below about
h^2 / (2 d kappa) (d dimensions), far shorter than the steps a galactic run takes (and
Crank-Nicolson rings on the limiter's switching); a "crank_nicolson" or "cn-be" scheme is
refused with one line.
"""

from __future__ import annotations

from petsc4py import PETSc

from ..operators.anisotropic_limited import LimiterOptions, limited_operator, record_summary
from ..transport import SpeciesTransport
from .petsc import LinearSolver, SolveInfo
from .steady import scaled_solve

SCHEMES = {"backward_euler": 1.0, "crank_nicolson": 0.5, "cn-be": 0.5}


class TimeIntegrator:
    def __init__(
        self,
        transport: SpeciesTransport,
        dt: float,
        scheme: str = "cn-be",
        solver: LinearSolver | None = None,
        limiter: LimiterOptions | None = None,
    ):
        if scheme not in SCHEMES:
            raise ValueError(f"time.scheme = {scheme!r}: allowed {', '.join(SCHEMES)}")
        if not dt > 0:
            raise ValueError(f"time.dt_myr = {dt!r}: must be > 0")
        self.transport = transport
        self.scheme = scheme
        self.dt = dt
        self.solver = solver or LinearSolver(
            transport.decomp.comm, "transient_", {"ksp_initial_guess_nonzero": True}
        )
        self._ops: dict[tuple[float, float], PETSc.Mat] = {}
        self.steps_done = 0
        self.last_info = None
        # diffusion.scheme = "limited": the Picard solver of the nonlinear operator
        self.limited = limited_operator(transport, self.solver, limiter)
        if self.limited is not None and scheme != "backward_euler":
            self.limited.destroy()
            raise ValueError(
                f"time.scheme = {scheme!r} with diffusion.scheme = 'limited': allowed "
                "'backward_euler' (a theta < 1 step keeps psi >= 0 only for dt (1 - theta) "
                "A_ii <= 1)"
            )

    def diagnostics(self) -> dict:
        """What the diffusion scheme added or limited so far (for the log and the result
        file: :meth:`galprop_py.operators.diffusion.SpatialDiffusion.diagnostics`)."""
        from ..operators.anisotropic_limited import diffusion_operator

        if self.limited is not None:
            record_summary(self.transport, self.limited)
        op = diffusion_operator(self.transport)
        return {} if op is None else op.diagnostics()

    def state(self) -> dict:
        """What a checkpoint must hold for a restart to continue this run exactly: the
        number of steps done (``cn-be``: whether the backward-Euler start-up is behind)."""
        return {"steps_done": int(self.steps_done)}

    def restore_state(self, state: dict) -> None:
        """Continue from :meth:`state` of a checkpoint (an empty dict starts afresh)."""
        self.steps_done = int(state.get("steps_done", 0))

    def _lhs(self, theta: float, dt: float):
        key = (theta, dt)
        if key not in self._ops:
            system = self.transport.system().scaled_plus_diagonal(theta, 1.0 / dt)
            self._ops[key] = (system.to_petsc(), system.diag)
        return self._ops[key]

    def step(self, psi: PETSc.Vec, t: float, extra_source=None, extra_source_old=None) -> float:
        """Advance psi in place from t to t + dt; returns the new time.

        ``extra_source`` and ``extra_source_old`` (rank-local arrays) are secondary
        production at t + dt and at t (module docstring); without the old one the new one is
        held over the step."""
        old = extra_source if extra_source_old is None else extra_source_old
        if self.scheme == "cn-be" and self.steps_done == 0:
            mid = None if extra_source is None else 0.5 * (extra_source + old)
            t = self._theta_step(psi, t, 1.0, 0.5 * self.dt, mid)
            t = self._theta_step(psi, t, 1.0, 0.5 * self.dt, extra_source)
        else:
            theta = SCHEMES[self.scheme]
            extra = None
            if extra_source is not None:
                extra = theta * extra_source + (1.0 - theta) * old
            t = self._theta_step(psi, t, theta, self.dt, extra)
        self.steps_done += 1
        return t

    def _theta_step(self, psi, t, theta, dt, extra_source=None) -> float:
        tr = self.transport
        dec = tr.decomp
        rhs = dec.create_vec()
        a = tr.matrix()
        if theta < 1.0:
            a.mult(psi, rhs)
            rhs.scale(-(1.0 - theta))
        else:
            rhs.set(0.0)
        rhs.axpy(1.0 / dt, psi)
        b = dec.local_array(rhs) + tr.source_average(t, t + dt)
        if extra_source is not None:
            b = b + extra_source
        rhs.destroy()
        if self.limited is not None:
            self.last_info = self._limited_step(psi, b, theta, dt, t)
            return t + dt
        mat, diag = self._lhs(theta, dt)
        self.last_info = scaled_solve(
            dec, self.solver, mat, diag, b, psi,
            what=f"time step t = {t:.6g} Myr of species {tr.species.name}",
        )  # fmt: skip
        return t + dt

    def _limited_step(self, psi, b, theta, dt, t) -> SolveInfo:
        """(I/dt + A(u)) u = b by Picard iterations (theta = 1: the constructor refuses
        others; ``b`` holds psi/dt and the sources)."""
        op = self.limited
        krylov0 = op.stats.linear_iterations
        op.solve(
            b, psi, scale=theta, shift=1.0 / dt,
            what=f"time step t = {t:.6g} Myr of species {self.transport.species.name}",
        )  # fmt: skip
        return SolveInfo(
            iterations=op.stats.linear_iterations - krylov0,
            residual_norm=op.stats.last_residual,
            rhs_norm=1.0,
            reason="PICARD_CONVERGED",
            reason_code=1,
        )

    def destroy(self) -> None:
        """Free the limited operator (the KSP and matrices are freed with their owners)."""
        if self.limited is not None:
            self.limited.destroy()
            self.limited = None

    def advance(self, psi: PETSc.Vec, t: float, t_end: float, callback=None) -> float:
        """Step until t_end (the last step is shortened to land on it)."""
        eps = 1e-9 * self.dt
        while t < t_end - eps:
            if t + self.dt > t_end + eps:
                saved = self.dt
                self.dt = t_end - t
                t = self._theta_step(psi, t, SCHEMES[self.scheme], self.dt)
                self.dt = saved
            else:
                t = self.step(psi, t)
            if callback is not None:
                callback(t, psi)
        return t
