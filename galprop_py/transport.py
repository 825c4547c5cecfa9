"""The discretised transport problem of one species on a domain decomposition: the
operators' stencil arrays (:class:`~galprop_py.operators.stencil.StencilSystem`), the
PETSc matrix built from them (own or refilled from a pool) and the source.  Internal
units (:mod:`galprop_py.units`): kpc, Myr, GeV."""

from __future__ import annotations

import numpy as np
from petsc4py import PETSc

from .decomposition import Decomposition
from .operators import REGISTRY
from .operators.base import SpeciesCoefficients
from .operators.sources import source_density
from .operators.stencil import StencilSystem

_EVENTS: dict[str, PETSc.Log.Event] = {}


def log_event(name: str) -> PETSc.Log.Event:
    """PETSc log event per operator, so ``-log_view`` shows where assembly time goes."""
    if name not in _EVENTS:
        _EVENTS[name] = PETSc.Log.Event(f"gp_{name}")
    return _EVENTS[name]


def default_operators(
    momentum_boundary: str = "outflow",
    diffusion_scheme: str = "selling",
    wind_scheme: str = "hybrid",
    momentum_scheme: str = "quadratic",
):
    return [
        REGISTRY["diffusion"](diffusion_scheme),
        REGISTRY["advection"](wind_scheme),
        REGISTRY["adiabatic"](momentum_boundary, momentum_scheme),
        REGISTRY["reacceleration"](),
        REGISTRY["energy_losses"](momentum_boundary, momentum_scheme),
        REGISTRY["catastrophic"](),
    ]


class SpeciesTransport:
    """Operator matrix and source of one species.

    Args:
        decomp: the DMDA decomposition (dof = number of momentum points).
        coeffs: coefficients of the species' transport equation.
        operators: operator instances (default: all, with default schemes); inactive ones
            (no coefficient for them) are skipped.
        pool: a :class:`~galprop_py.operators.stencil.MatrixPool` whose shared matrix is
            refilled for this species (None: a matrix of its own).
        keep_system: keep the stencil arrays once the matrix is built (default).  With
            False they are dropped (:meth:`diagonal`, all a steady solve needs, is then
            read from the matrix, or kept where the matrix is a pool's): in 3D the stencil
            arrays (8 bytes x slots per unknown, 366 MB per rank for 81 x 81 x 41 x 32 on
            2 ranks) are then not held during the solve; a later :meth:`system` call
            assembles them again.
    """

    def __init__(
        self,
        decomp: Decomposition,
        coeffs: SpeciesCoefficients,
        operators=None,
        pool=None,
        keep_system: bool = True,
    ):
        if coeffs.p.size != decomp.dof:
            raise ValueError(
                f"species {coeffs.species.name}: {coeffs.p.size} momenta but the grid has "
                f"{decomp.dof} momentum points"
            )
        self.decomp = decomp
        self.coeffs = coeffs
        ops = default_operators() if operators is None else operators
        self.operators = [op for op in ops if op.is_active(coeffs)]
        self._system: StencilSystem | None = None
        self._mat: PETSc.Mat | None = None
        self._pool = pool  # a MatrixPool: the matrix is shared, refilled for this species
        self._keep_system = keep_system
        self._diag: np.ndarray | None = None
        self._bands: dict[int, np.ndarray] | None = None

    @property
    def species(self):
        return self.coeffs.species

    def system(self) -> StencilSystem:
        if self._system is None:
            system = StencilSystem(self.decomp)
            for op in self.operators:
                ev = log_event(op.name)
                ev.begin()
                op.assemble(system, self.coeffs, self.decomp)
                ev.end()
            self._system = system
        return self._system

    def matrix(self) -> PETSc.Mat:
        if self._mat is None:
            ev = log_event("matrix")
            ev.begin()
            # without keep_system the stencil's slots are handed back while the matrix
            # fills (StencilSystem.to_petsc(consume=True)): never both resident
            consume = not self._keep_system
            if self._pool is not None:
                self._mat = self._pool.matrix(self.system(), consume=consume)
            else:
                self._mat = self.system().to_petsc(consume=consume)
            ev.end()
            if not self._keep_system:
                if self._pool is not None:
                    # the pool's matrix is refilled for other species: keep the diagonal
                    # and, where the fill left them (2D), the momentum bands
                    self._diag = self._system.diag
                    self._bands = _bands_of(self._system)
                self._system = None
        return self._mat

    def diagonal(self) -> np.ndarray:
        """The operator's diagonal on the owned rows (cells..., momentum).

        With ``keep_system=False`` and a matrix of its own it is read from the matrix when
        asked for (no array of the grid's size kept: it holds the diagonal slot's values as
        assembled, so until a solve has scaled and unscaled the matrix they are the same
        numbers)."""
        if self._system is not None:
            return self._system.diag
        if self._diag is not None:
            return self._diag
        if self._mat is not None and self._pool is None:
            vec = self._mat.getDiagonal()
            out = self.decomp.local_array(vec).copy()
            vec.destroy()
            return out
        return self.system().diag

    def momentum_bands(self) -> dict[int, np.ndarray] | None:
        """The matrix's couplings to momentum k + d of the same cell, {d: (cells..., momentum)
        array} for d = +-1, +-2, when every other entry couples the same momentum (no
        Galerkin ``coupled`` slots), so that A = A_0 + sum_d bands with A_0 acting on each
        momentum alone (:mod:`galprop_py.solvers.guess`); None where they were not kept
        (the stencil's memory handed back while a 3D matrix filled)."""
        if self._system is not None:
            return _bands_of(self._system)
        return self._bands

    def source(self) -> np.ndarray:
        """Source S of the owned cells (no time factor: the steady-state source)."""
        return source_density(self.coeffs, self.decomp)

    def source_average(self, t0: float, t1: float) -> np.ndarray:
        """Source averaged over the time step [t0, t1] (exact for piecewise-constant g(t))."""
        c = self.coeffs
        base = source_density(c, self.decomp)
        if c.source_time_integral is not None:
            return base * (c.source_time_integral(t0, t1) / (t1 - t0))
        if c.source_time is not None:
            return base * c.source_time(0.5 * (t0 + t1))
        return base

    def forget_pooled_matrix(self) -> bool:
        """Let go of a pool's matrix (:class:`~galprop_py.operators.stencil.MatrixPool`),
        whatever its values now are: a later :meth:`matrix` refills it (assembling the
        stencil again where it was not kept).  False (nothing done) for a matrix of its
        own."""
        if self._pool is None or self._mat is None:
            return False
        self._mat = None
        return True

    def destroy(self) -> None:
        if self._mat is not None and self._pool is None:
            self._mat.destroy()
        self._mat = None
        self._system = None
        self._diag = None
        self._bands = None


def _bands_of(system: StencilSystem) -> dict[int, np.ndarray] | None:
    """The system's momentum bands (:meth:`SpeciesTransport.momentum_bands`) or None."""
    if system.consumed or system.coupled or any(v is None for v in system.p_band.values()):
        return None
    return dict(system.p_band)
