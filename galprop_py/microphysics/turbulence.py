"""Magnetic turbulence spectrum: the one-dimensional energy spectrum ``E(k)``.

``E(k) dk`` is the magnetic energy (in units of ``B0^2``) in wavenumbers ``k .. k + dk``,
summed over directions and polarisations, so that ``int_0^inf E dk = (delta B / B0)^2``.
The model has three ranges::

    E(k) = C k_min^-q                   k < k_min            energy-containing range (flat)
    E(k) = C k^-q                       k_min <= k <= k_max  inertial range
    E(k) = C k_max^-q (k / k_max)^-p    k > k_max            dissipation range (optional)

With no dissipation index the spectrum ends sharply at ``k_max``.  ``q = 5/3`` is
Kolmogorov, ``q = 3/2`` Kraichnan (Iroshnikov-Kraichnan); ``p ~ 3`` is the steep range seen
in the solar wind (Bieber et al. 1994, ApJ 420, 294).  The flat range below ``k_min``
(the bend-over scale) makes ``E(0)``, the correlation length and the field-line random walk
finite; a slab spectrum ``E(k_par)`` and a two-dimensional one ``E(k_perp)`` use the same
form.  ``k_min = 2 pi / L`` for an outer scale ``L``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class TurbulenceSpectrum:
    """Piecewise power-law spectrum ``E(k) / B0^2`` [cm] (see the module docstring).

    Attributes
    ----------
    delta_b_over_b : float
        RMS amplitude ``delta B / B0`` of this component.
    spectral_index : float
        Inertial-range index ``q`` (``1 < q < 2`` for the QLT scalings).
    k_min_per_cm : float
        Bend-over (outer-scale) wavenumber [1/cm].
    k_max_per_cm : float
        Start of the dissipation range [1/cm]; ``inf`` for an unbounded inertial range.
    dissipation_index : float or None
        Index ``p > 1`` beyond ``k_max``; ``None`` for a sharp end at ``k_max``.
    """

    delta_b_over_b: float
    spectral_index: float
    k_min_per_cm: float
    k_max_per_cm: float = math.inf
    dissipation_index: float | None = None

    def __post_init__(self) -> None:
        if self.delta_b_over_b < 0:
            raise ValueError("delta_b_over_b must be >= 0")
        if self.spectral_index <= 1.0:
            raise ValueError("spectral_index q must be > 1 (finite energy)")
        if not 0.0 < self.k_min_per_cm < self.k_max_per_cm:
            raise ValueError("need 0 < k_min_per_cm < k_max_per_cm")
        if self.dissipation_index is not None and self.dissipation_index <= 1.0:
            raise ValueError("dissipation_index must be > 1")

    @classmethod
    def from_scales(
        cls,
        delta_b_over_b: float,
        spectral_index: float,
        outer_scale_cm: float,
        dissipation_scale_cm: float = 0.0,
        dissipation_index: float | None = None,
    ) -> TurbulenceSpectrum:
        """Spectrum from length scales: ``k_min = 2 pi / L_outer``, ``k_max = 2 pi / l_diss``
        (``l_diss = 0``: no dissipation range)."""
        k_max = math.inf if dissipation_scale_cm <= 0 else 2 * math.pi / dissipation_scale_cm
        return cls(
            delta_b_over_b, spectral_index, 2 * math.pi / outer_scale_cm, k_max, dissipation_index
        )

    def scaled(self, fraction_of_energy: float) -> TurbulenceSpectrum:
        """The same shape carrying a fraction of the energy (e.g. the slab part)."""
        return TurbulenceSpectrum(
            self.delta_b_over_b * math.sqrt(fraction_of_energy),
            self.spectral_index,
            self.k_min_per_cm,
            self.k_max_per_cm,
            self.dissipation_index,
        )

    @property
    def normalisation(self) -> float:
        """``C`` such that ``int E dk = (delta B / B0)^2``."""
        q, k1, k2 = self.spectral_index, self.k_min_per_cm, self.k_max_per_cm
        shape = k1 ** (1 - q) + (k1 ** (1 - q) - k2 ** (1 - q)) / (q - 1)
        if self.dissipation_index is not None and math.isfinite(k2):
            shape += k2 ** (1 - q) / (self.dissipation_index - 1)
        return self.delta_b_over_b**2 / shape

    def energy(self, k_per_cm: ArrayLike) -> NDArray[np.float64]:
        """``E(k) / B0^2`` [cm] at wavenumbers ``k >= 0`` [1/cm]."""
        k = np.asarray(k_per_cm, dtype=float)
        q, k1, k2 = self.spectral_index, self.k_min_per_cm, self.k_max_per_cm
        kk = np.clip(k, k1, k2)
        e = kk**-q
        if math.isfinite(k2):
            if self.dissipation_index is None:
                steep = np.zeros_like(e)
            else:
                steep = k2**-q * (np.maximum(k, k2) / k2) ** -self.dissipation_index
            e = np.where(k > k2, steep, e)
        return self.normalisation * e

    @property
    def energy_at_zero(self) -> float:
        """``E(0) / B0^2`` [cm] (the level of the flat range)."""
        return float(self.normalisation * self.k_min_per_cm**-self.spectral_index)

    @property
    def correlation_length_cm(self) -> float:
        """Correlation length ``int C(z) dz / C(0) = pi E(0) / (2 (delta B / B0)^2)`` [cm] of
        one transverse component of a slab field."""
        return math.pi * self.energy_at_zero / (2.0 * self.delta_b_over_b**2)

    def wavenumber_grid(
        self,
        points_per_decade: int = 100,
        k_low_per_cm: float | None = None,
        k_high_per_cm: float | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Logarithmic wavenumbers and trapezoidal weights for ``int g(k) dk``.

        Parameters
        ----------
        points_per_decade : int
            Resolution in ``log10 k``.
        k_low_per_cm : float, optional
            Lower end (default ``k_min / 1000``).
        k_high_per_cm : float, optional
            Upper end (default ``k_max`` for a sharp end, ``1000 k_max`` with a dissipation
            range, ``10^8 k_min`` for an unbounded inertial range); never beyond a sharp end.
        """
        lo = self.k_min_per_cm * 1e-3 if k_low_per_cm is None else k_low_per_cm
        if k_high_per_cm is not None:
            hi = k_high_per_cm
        elif not math.isfinite(self.k_max_per_cm):
            hi = self.k_min_per_cm * 1e8
        else:
            hi = self.k_max_per_cm * (1.0 if self.dissipation_index is None else 1e3)
        if self.dissipation_index is None:
            hi = min(hi, self.k_max_per_cm)
        if not 0.0 < lo < hi:
            raise ValueError("need 0 < k_low_per_cm < k_high_per_cm")
        n = max(int(math.ceil(points_per_decade * math.log10(hi / lo))) + 1, 3)
        k = np.geomspace(lo, hi, n)
        # nodes on the two break points keep the trapezoid second order
        breaks = [kb for kb in (self.k_min_per_cm, self.k_max_per_cm) if lo < kb < hi]
        k = np.unique(np.concatenate([k, breaks]))
        ln_k = np.log(k)
        w = np.zeros_like(k)
        w[:-1] += 0.5 * np.diff(ln_k)
        w[1:] += 0.5 * np.diff(ln_k)
        return k, w * k
