"""Microphysics of cosmic-ray transport: from a field and a turbulence spectrum to kappa.

One concept per module (cgs units inside; argument names carry the unit):

* :mod:`.gyration`             gyroradius and gyrofrequency
* :mod:`.moments`              n, J, u as moments of f(x, p) or f(x, mu, p)
* :mod:`.drifts`               gradient, curvature and pitch-angle-averaged drifts on a grid
* :mod:`.mhd_waves`            Alfven, slow and fast speeds and polarisation
* :mod:`.resonance`            omega - k_par v mu = n Omega; which mode scatters how
* :mod:`.turbulence`           the spectrum E(k) of the fluctuations
* :mod:`.quasilinear`          slab D_mumu (sharp or broadened), kappa_par, lambda_par
* :mod:`.transit_time_damping` D_mumu from fast-mode TTD
* :mod:`.perpendicular`        field-line random walk and NLGC kappa_perp
* :mod:`.coefficients`         ``tabulate_diffusion``: kappa_par(R), kappa_perp(R) for the solver
"""
