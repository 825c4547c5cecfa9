"""The Jacobian of a fit's residuals and the gradient of its chi^2 from the forward
sensitivities of :mod:`galprop_py.fit.gradients` (one network solve with its tangents per
parameter point, :class:`TangentCache`).

* A config coordinate: the residuals of the local spectra LIS +- t dLIS (renormalised as
  the run does; relative perturbation :data:`~galprop_py.fit.gradients.TANGENT_STEP`) by
  central differences, no solve.
* A normalisation target (``normalization.flux``, ``species.N.normalize_to.1``): no system
  depends on it; central differences of the renormalised local spectra with the targets of
  the config at u +- h, no solve.
* A force-field potential: central differences (:data:`~galprop_py.fit.gradients.PHI_STEP`
  GV) of the re-modulated residuals, no solve.

Units: per unit of the minimiser's coordinate (log10 of the value for ``log = true``).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import numpy as np

from .chi2 import LocalSpectra
from .gradients import (
    PHI_STEP,
    SYSTEM_STEP,
    TANGENT_STEP,
    Tangents,
    _is_target_key,
    _stencil,
    solve_tangents,
)


class TangentCache:
    """The Evaluator's last few :class:`Tangents` by config values; also fills the
    Evaluator's LIS cache (the value at a gradient's point then costs no solve)."""

    def __init__(self, size: int = 4):
        self.size = size
        self.entries: OrderedDict[tuple, Tangents] = OrderedDict()
        self.evaluations = 0
        self.seconds: list[float] = []

    def get(self, ev, u) -> Tangents:
        values = ev._config_values(u)
        if values in self.entries:
            self.entries.move_to_end(values)
            return self.entries[values]
        t = solve_tangents(ev, u)
        self.seconds.append(t.seconds)
        self.entries[values] = t
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        if values not in ev._cache:
            ev._cache[values] = t.local
            ev.solve_seconds.append(t.seconds)
            if len(ev._cache) > ev.cache_size:
                ev._cache.popitem(last=False)
        return t


def _residuals(ev, local, phis) -> np.ndarray:
    return np.concatenate(list(ev.chi2.residuals(local, phis).values()))


def _shifted(local: LocalSpectra, direction: dict, t: float) -> LocalSpectra:
    """The local spectra LIS + t dLIS, renormalised at whatever potential they are used with,
    the run's too (``renormalise``: a fit without ``[fit.modulation]`` normalises at the
    run's potential, ``run_phi``, which must stay a number)."""
    parts = {
        n: {g: a + t * direction[n][g] for g, a in groups.items()}
        for n, groups in local.parts.items()
    }
    return dataclasses.replace(local, parts=parts, renormalise=True)


def _retargeted(ev, local: LocalSpectra, u) -> LocalSpectra:
    """``local`` with the normalisation targets of the config at ``u``, renormalised at
    whatever potential it is used with."""
    from types import SimpleNamespace

    from ..solvers.network import normalisation_targets

    cfg = ev.config_for(ev._config_values(u))
    blocks = SimpleNamespace(blocks={b.name: b for b in cfg.species})
    targets = normalisation_targets(cfg, blocks, list(local.parts))
    return dataclasses.replace(local, targets=targets, renormalise=True)


def tangent_step(lis: dict[str, np.ndarray], d: dict[str, dict[str, np.ndarray]]):
    """The step t of the central differences along the sensitivities ``d`` (``dlis[i]``):
    the largest relative change t |dLIS| / |LIS| of any LIS value is
    :data:`~galprop_py.fit.gradients.TANGENT_STEP`; None where ``d`` is 0.

    Relative to |LIS|: a round-off value <= 0 (the tail of a spectrum that is ~0 there, e.g.
    -7e-12 of a positron LIS of 1e4 at 2 TeV) is floored by the post-solve chain
    (:func:`galprop_py.spectra.species_spectrum`, the log-log interpolation), so it is held
    fixed there as long as the step leaves its sign as it is.  Flooring it at 1e-300
    instead made t ~ 1e-292 and every column zero.  Values that are exactly 0 have no
    relative change; they are left out."""
    rel = 0.0
    for n, a in lis.items():
        mag = np.abs(np.asarray(a, float))
        size = sum((np.abs(x) for x in d[n].values()), np.zeros(mag.shape))
        used = mag > 0
        if np.any(used):
            rel = max(rel, float(np.max(size[used] / mag[used])))
    if not (rel > 0 and np.isfinite(rel)):
        return None
    return TANGENT_STEP / rel


def residual_jacobian(ev, u) -> tuple[np.ndarray, np.ndarray]:
    """Residuals at ``u`` and their Jacobian d r / d u (columns in ``ev.coords`` order)."""
    u = np.asarray(u, float)
    cache = ev.tangents
    tg = cache.get(ev, u)
    cache.evaluations += 1
    phis = ev.phis(u)
    r0 = _residuals(ev, tg.local, phis)
    jac = np.empty((r0.size, u.size))
    k = 0
    for j, c in enumerate(ev.coords):
        if c.kind == "config" and _is_target_key(c.name):
            # a normalisation target (its flux, its energy): no system depends on it, the
            # renormalised local spectra do -- central differences of those, no solve
            k += 1
            col = np.zeros(r0.size)
            h = SYSTEM_STEP * (c.upper - c.lower)
            for off, w in _stencil(float(u[j]), h, c.lower, c.upper):
                if off == 0:
                    col += w * r0
                    continue
                up = np.array(u, float)
                up[j] += off * h
                col += w * _residuals(ev, _retargeted(ev, tg.local, up), phis)
            jac[:, j] = col
        elif c.kind == "config":
            d = tg.dlis[k]
            k += 1
            t = tangent_step(tg.local.lis, d)
            if t is None:
                jac[:, j] = 0.0
                continue
            r_up = _residuals(ev, _shifted(tg.local, d, t), phis)
            r_down = _residuals(ev, _shifted(tg.local, d, -t), phis)
            jac[:, j] = (r_up - r_down) / (2 * t)
        else:
            g = c.name.removeprefix("phi.")
            col = np.zeros(r0.size)
            for off, w in _stencil(float(u[j]), PHI_STEP, c.lower, c.upper):
                if off == 0:
                    col += w * r0
                    continue
                shifted = dict(phis)
                shifted[g] = phis[g] + off * PHI_STEP
                col += w * _residuals(ev, tg.local, shifted)
            jac[:, j] = col
    return r0, jac


def chi2_gradient(ev, u) -> np.ndarray:
    """d chi^2 / d u = 2 J^T r."""
    r0, jac = residual_jacobian(ev, u)
    return 2.0 * jac.T @ r0


__all__ = ["TangentCache", "chi2_gradient", "residual_jacobian", "tangent_step"]
