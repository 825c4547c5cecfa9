"""Fits and scans of a model against the shipped data.

* :mod:`galprop_py.fit.config` -- the ``[fit]`` block (free parameters, datasets, force-field
  potentials, minimiser), validated like every other block.
* :mod:`galprop_py.fit.chi2` -- chi^2 of a run against each dataset on the dataset's own
  axis; the force field re-applied to the run's LIS for any potential, without a new solve.
* :mod:`galprop_py.fit.fitter` -- the fit (iminuit MIGRAD + HESSE, or scipy least_squares)
  and what it writes (best-fit TOML, ``fit_result.json``, residual plots).
* :mod:`galprop_py.fit.scan` -- a grid of parameter values, one model per MPI
  sub-communicator, one table of local spectra and chi^2.
* :mod:`galprop_py.fit.gradients` -- forward sensitivities of the linear systems (used by
  the fit with ``gradient = "analytic"``); :mod:`galprop_py.fit.jacobian` -- the residuals'
  Jacobian and d chi^2 / d theta from them.
* :mod:`galprop_py.fit.build_once` -- what a fit builds once, and the species it does not
  solve again.
* :mod:`galprop_py.fit.cli` -- ``galprop-py fit`` and ``galprop-py scan``.

This package is imported by :mod:`galprop_py.config` (for the ``[fit]`` block): nothing heavy
is imported here.
"""
