"""Diffusive shock acceleration at a supernova-remnant shock (test particles, planar).

:mod:`.dsa` builds and solves the time-dependent problem with the package's operators and
time stepping, :mod:`.analytic` holds the closed forms it is checked against (spectral
index, Drury's acceleration-time moments, the steady spectrum with a free-escape boundary),
:mod:`.config` the ``[shock]`` block.  Example: ``examples/snr_shock/``.
"""

from .config import ShockBlock, load_shock_config, shock_config
from .dsa import (
    ShockHistory,
    ShockModel,
    build_model,
    escape_flux_cgs,
    fitted_slope,
    kappa_cm2_s,
    laplace_mean_time_yr,
    outflow_flux_cgs,
    run_time_dependent,
    steady_state,
    write_escape_spectrum,
)

__all__ = [
    "ShockBlock",
    "ShockHistory",
    "ShockModel",
    "build_model",
    "escape_flux_cgs",
    "fitted_slope",
    "kappa_cm2_s",
    "laplace_mean_time_yr",
    "load_shock_config",
    "outflow_flux_cgs",
    "run_time_dependent",
    "shock_config",
    "steady_state",
    "write_escape_spectrum",
]
