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
"""

from __future__ import annotations

from petsc4py import PETSc

from ..transport import SpeciesTransport
from .petsc import LinearSolver
from .steady import scaled_solve

SCHEMES = {"backward_euler": 1.0, "crank_nicolson": 0.5, "cn-be": 0.5}


class TimeIntegrator:
    def __init__(
        self,
        transport: SpeciesTransport,
        dt: float,
        scheme: str = "cn-be",
        solver: LinearSolver | None = None,
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
        mat, diag = self._lhs(theta, dt)
        self.last_info = scaled_solve(
            dec, self.solver, mat, diag, b, psi,
            what=f"time step t = {t:.6g} Myr of species {tr.species.name}",
        )  # fmt: skip
        return t + dt

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
