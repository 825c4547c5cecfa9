"""Secondary production: the source of a child species from its solved parents.

For a child c fed by parents P (channels of :mod:`galprop_py.network.build`)::

    q_c(x, p_c) = sum_P  R_P->c(x, T_n) psi_P(x, p_P) A_P / A_c

at equal kinetic energy per nucleon T_n (fragments keep it; the ratio A_P / A_c turns a
density per unit momentum of the parent into that of the child: dp/dT_n is proportional to
A at equal mass per nucleon).  The rate R [1/Myr] is

* fragmentation on the gas: n_H(x) v_P (sigma_H + f_He sigma_He), summed over the tabulated
  fragments folded into c, with n_H the hydrogen nuclei of the target gas (neutral and, where
  the gas model has it, ionised) and f_He = n_He / n_H;
* decay: the branching into c over gamma tau of the parent (its bare-nucleus mean life).

Secondary antiprotons and leptons (``"spectral"`` channels, :mod:`galprop_py.network.particles`)
are made at all energies below the parent's::

    q_c(x, p_c) = n_H(x) beta_c int dp_P psi_P(x, p_P) v_P [dsigma_H/dT_c + f_He dsigma_He/dT_c]

(beta_c = dT_c/dp_c turns the rate per unit kinetic energy into one per unit momentum): one
matrix M[i, j] per channel from :func:`galprop_py.operators.spectral_integral.parent_quadrature`,
applied to all owned cells in one product.

Like the injection source this is not part of the operator matrix: it is a right-hand side
evaluated on the owned cells from the parents' rank-local densities; no communication.
"""

from __future__ import annotations

import numpy as np

from .. import units
from ..physics import kinematics
from .spectral_integral import apply_matrix, parent_quadrature, production_matrix


class SecondaryProduction:
    """Production rates of every child of a network on the run's momentum grid."""

    def __init__(self, model, network):
        self.model = model
        self.network = network
        self._rates: dict[str, list[tuple[str, bool, np.ndarray]]] = {}
        self._gas_for = None  # the decomposition whose cells _gas_cells holds
        self._gas_cells: np.ndarray | None = None

    def _spectral_matrix(self, ch, parent, child, f_he: float, comm=None) -> np.ndarray:
        """M[i, j] [1/Myr per H atom cm^-3]: production at the child's momentum node i per unit
        parent density at node j (see the module docstring).  With ``comm`` (collective) each
        rank evaluates the cross sections of every size-th child energy and the rows are
        gathered (the same numbers: each entry is computed alone): the antiproton and lepton
        matrices of the full-network example took 2.4 s on every rank."""
        from ..network.particles import spectral_cross_section

        model = self.model
        p_par = model.momentum.momentum(parent)
        p_k, weights = parent_quadrature(p_par)
        t_n_k = kinematics.kinetic_energy(p_k, parent.mass) / parent.mass_number
        v_k = kinematics.velocity_cm_s(p_k, parent.mass)
        p_c = model.momentum.momentum(child)
        t_c = kinematics.kinetic_energy(p_c, child.mass)
        # rows dealt round-robin: the low child energies, open to more parent energies, cost
        # more than the high ones (contiguous blocks: rank 0 took 1.5 s of 2.4 s)
        size = 1 if comm is None else comm.getSize()
        rows = np.arange(0 if comm is None else comm.getRank(), t_c.size, size)
        tc, tp = t_c[rows, None], t_n_k[None, :]
        sigma = np.asarray(
            spectral_cross_section(model.cfg, ch.product, tc, tp, parent, "H"), float
        )
        if f_he > 0:
            sigma = sigma + f_he * spectral_cross_section(
                model.cfg, ch.product, tc, tp, parent, "He"
            )
        sigma = np.broadcast_to(sigma, (rows.size, t_n_k.size))
        if size > 1:
            full = np.empty((t_c.size, t_n_k.size))
            for got_rows, got in comm.tompi4py().allgather((rows, np.ascontiguousarray(sigma))):
                full[got_rows] = got
            sigma = full
        kernel = sigma * v_k[None, :] * (units.MB_CM2 * units.MYR_S)
        return kinematics.beta(p_c, child.mass)[:, None] * production_matrix(kernel, weights)

    def _channel_rates(self, child: str, comm=None) -> list[tuple[str, bool, np.ndarray]]:
        """[(parent, on the gas?, rate over momentum [1/Myr per H atom cm^-3, or 1/Myr])];
        a 2D rate is a matrix over (child, parent) momenta (spectral channels); with
        ``comm`` the first call for a child is collective (:meth:`_spectral_matrix`)."""
        if child in self._rates:
            return self._rates[child]
        from ..network import cross_sections as xs
        from ..network import nuclides

        model = self.model
        cfg = model.cfg
        by_name = {s.name: s for s in self.network.species}
        c = by_name[child]
        f_he = cfg.gas.f_he if cfg.gas.model != "none" else 0.0
        prod = cfg.cross_sections.production
        out = []
        for ch in self.network.channels.get(child, []):
            par = by_name[ch.parent]
            p = model.momentum.momentum(par)
            t_n = kinematics.kinetic_energy(p, par.mass) / par.mass_number
            ratio = par.mass_number / c.mass_number
            if ch.kind == "decay":
                tau = nuclides.cosmic_ray_mean_life_myr((par.charge, par.mass_number))
                rate = ch.weight / (kinematics.gamma(p, par.mass) * tau)
                out.append((ch.parent, False, rate * ratio))
                continue
            if ch.kind == "spectral":
                out.append((ch.parent, True, self._spectral_matrix(ch, par, c, f_he, comm)))
                continue
            proj = (par.charge, par.mass_number)
            if ch.kind == "explicit":
                target = (c.charge, c.mass_number)
                sigma = ch.sigma_mb * (1.0 + f_he * xs.helium_production_ratio(t_n, proj, target))
            else:
                sigma = np.zeros_like(t_n)
                for frag, fraction in ch.terms:
                    s_h = xs.sigma_production_mb(t_n, proj, frag, prod, target="H")
                    s_he = xs.sigma_production_mb(t_n, proj, frag, prod, target="He")
                    sigma = sigma + fraction * (s_h + f_he * s_he)
            v = kinematics.velocity_cm_s(p, par.mass)
            out.append((ch.parent, True, v * sigma * units.MB_CM2 * units.MYR_S * ratio))
        self._rates[child] = out
        return out

    def self_coupling(self, child: str, decomp):
        """The part of ``child``'s production that its own density makes (tertiary
        antiprotons: inelastic scattering moves them to lower energies), as a function
        ``psi -> q`` of a rank-local array, or None if it does not feed itself.  It is
        linear and cell-local, so the steady solve takes it into its operator instead of
        iterating the source (:func:`galprop_py.solvers.steady.solve_steady`)."""
        if not any(par == child for par, _, _ in self._channel_rates(child, decomp.comm)):
            return None
        # the parents' states given are its own alone: the self channels of source()
        return lambda psi: self.source(child, {child: psi}, decomp)

    def _gas(self, decomp) -> np.ndarray:
        """n_H of the target gas on the owned cells, (cells..., 1) [cm^-3], kept for the
        last decomposition asked for (every secondary source and self-coupling product)."""
        if self._gas_for is not decomp:
            coords = decomp.local_centers()
            self._gas_cells = np.asarray(self.model.target_density(coords), float)[..., None]
            self._gas_for = decomp
        return self._gas_cells

    def source(self, child: str, states: dict, decomp) -> np.ndarray | None:
        """Production rate density of ``child`` on the owned cells from the parents in
        ``states`` (rank-local arrays); None if it has no parents there."""
        rates = self._channel_rates(child, decomp.comm)
        if not rates:
            return None
        if self.model.momentum.axis != "kinetic_energy_per_nucleon" and any(
            r.ndim == 1 for _, _, r in rates
        ):
            raise ValueError(
                "momentum.axis = 'rigidity' cannot be used with secondary production; use "
                "'kinetic_energy_per_nucleon' (fragments keep the kinetic energy per nucleon)"
            )
        # the terms on the gas are summed first and multiplied by n_H once; in place, one
        # work array (a child of the iron group has ~50 parents)
        on_gas_sum = off_gas_sum = None
        work = None
        for parent, on_gas, rate in rates:
            if parent not in states:
                continue
            psi = states[parent]
            if rate.ndim == 2:
                term = apply_matrix(rate, psi)
            else:
                if work is None:
                    work = np.empty(np.broadcast_shapes(psi.shape, rate.shape))
                term = np.multiply(psi, rate, out=work)
            if on_gas:
                if on_gas_sum is None:
                    on_gas_sum = np.array(term)
                else:
                    on_gas_sum += term
            elif off_gas_sum is None:
                off_gas_sum = np.array(term)
            else:
                off_gas_sum += term
        total = off_gas_sum
        if on_gas_sum is not None:
            on_gas_sum *= self._gas(decomp)
            total = on_gas_sum if total is None else total + on_gas_sum
        return total
