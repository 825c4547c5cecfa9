"""B7b: an electron burst with energy-dependent diffusion and b0 E^2 losses, in the 1D
spherical geometry (regular at r = 0), time-dependent (Crank-Nicolson with BE start)."""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py import analytic
from galprop_py.decomposition import Decomposition
from galprop_py.grid import MomentumGrid, make_spatial_grid
from galprop_py.operators import REGISTRY
from galprop_py.operators.base import DiffusionTensor, SeparableField, SpeciesCoefficients
from galprop_py.physics.species import ELECTRON
from galprop_py.solvers import TimeIntegrator
from galprop_py.transport import SpeciesTransport

D0, DELTA, ALPHA = 0.1, 0.5, 2.0  # kpc^2/Myr at 1 GeV


def _burst(b0, t0=1.0, t1=10.0, n_r=200, n_p=96, dt=0.1):
    grid = make_spatial_grid("spherical1d", {"r": (0.0, 25.0)}, {"r": n_r})
    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 1.0e3, n_p)
    dec = Decomposition(grid, mg.n)
    p, pe = mg.momentum(ELECTRON), mg.momentum_edges(ELECTRON)
    e = np.sqrt(p**2 + ELECTRON.mass**2)
    ee = np.sqrt(pe**2 + ELECTRON.mass**2)
    coeffs = SpeciesCoefficients(ELECTRON, p, pe, diffusion=DiffusionTensor(D0 * e**DELTA))
    ops = [REGISTRY["diffusion"]()]
    if b0 > 0:
        coeffs.energy_loss = SeparableField().add(None, b0 * ee**3 / pe)
        ops.append(REGISTRY["energy_losses"]("outflow"))
    tr = SpeciesTransport(dec, coeffs, ops)
    (r,) = dec.local_centers()
    psi = dec.create_vec()
    with dec.writable(psi) as a:
        a[...] = analytic.electron_burst(r[..., None], t0, e, 1.0, ALPHA, b0, D0, DELTA)
    TimeIntegrator(tr, dt, "cn-be").advance(psi, t0, t1)
    full = dec.gather_to_all(dec.local_array(psi))
    psi.destroy()
    rc = grid.axes[0].centers
    exact = analytic.electron_burst(rc[:, None], t1, e, 1.0, ALPHA, b0, D0, DELTA)
    return rc, e, full, exact


@pytest.mark.parallel
@pytest.mark.parametrize("b0", [0.0, 3.2e-3])
def test_b7b_burst_with_losses(b0):
    """N(r, t, E) at t = 10 Myr from the analytic solution at t = 1 Myr (the Green function
    is its own initial condition).  At 2, 5 and 10 GeV and radii where N > 1e-3 of its
    central value: relative error < 3% (measured 1.7% at 2 GeV, 0.8% at 10 GeV);
    b0 = 0 is the 3D Green function exp(-r^2/4Dt)/(4 pi D t)^1.5."""
    r, e, num, exact = _burst(b0)
    for e_check in (2.0, 5.0, 10.0):
        k = int(np.argmin(np.abs(np.log(e / e_check))))
        ok = exact[:, k] > 1e-3 * exact[0, k]
        err = np.max(np.abs(num[ok, k] / exact[ok, k] - 1.0))
        assert err < 0.03, (e_check, err)
