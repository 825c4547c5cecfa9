"""Secondary antiprotons, positrons and electrons: who makes them, and their own losses.

Channels (``kind = "spectral"``: the child is made at all energies below the parent's, so its
source is an integral over the parent spectrum, :mod:`galprop_py.operators.spectral_integral`):

* ``antiproton`` from every nucleus of the run with Z <= ``cross_sections.secondary_parents_z_max``
  on H and He gas (:mod:`galprop_py.physics.antiprotons`), and the tertiaries: antiprotons that
  scatter inelastically without annihilating reappear at lower energy (a channel from the
  antiproton to itself, solved by the network's cycle iteration);
* ``positron`` and ``electron`` from the same nuclei through charged pions and kaons
  (:mod:`galprop_py.physics.secondary_leptons`).  Secondary electrons are added to the run's
  ``electron`` species (with its primary injection, if any): the electron spectrum at the Sun
  is then primary + secondary, as measured.

Antiproton losses (:func:`antiproton_loss_cross_section_mb`): annihilation, plus the
non-annihilating inelastic part when tertiaries are re-injected (without them that part is
left out: the scattered antiproton is counted where it was).
"""

from __future__ import annotations

import numpy as np

#: products of spectral channels -> the lepton charge (None: antiproton)
PRODUCTS = {"antiproton": None, "positron": +1, "electron": -1}


def particle_parents(cfg, species) -> list:
    """Nuclei of the run that make secondary antiprotons and leptons."""
    z_max = cfg.cross_sections.secondary_parents_z_max
    return [s for s in species if not s.is_lepton and 1 <= s.charge <= z_max]


def particle_channels(cfg, species, channel_type) -> dict[str, list]:
    """{child: [Channel]} for the antiprotons, positrons and electrons of the run (empty
    without gas: there is nothing to collide with)."""
    if cfg.gas.model == "none":
        return {}
    names = {s.name for s in species}
    parents = particle_parents(cfg, species)
    out: dict[str, list] = {}
    for child in PRODUCTS:
        if child not in names:
            continue
        if child != "antiproton" and not cfg.cross_sections.secondary_leptons:
            continue
        chans = [channel_type(p.name, "spectral", product=child) for p in parents]
        if child == "antiproton" and cfg.cross_sections.tertiary_antiprotons:
            chans.append(channel_type("antiproton", "spectral", product="tertiary"))
        if chans:
            out[child] = chans
    return out


def spectral_cross_section(cfg, product: str, t_child, t_parent_n, parent, target: str):
    """dsigma/dT_child [mb/GeV] per parent nucleus and target atom, broadcast over
    ``t_child`` [GeV] and ``t_parent_n`` [GeV/n] (``parent`` a Species)."""
    if product == "tertiary":
        from ..physics import antiprotons

        sigma = antiprotons.dsigma_dt_tertiary_mb_gev(t_child, t_parent_n)
        return sigma * antiprotons.PBAR_HE_TARGET_FACTOR if target == "He" else sigma
    projectile = (parent.charge, parent.mass_number)
    if product == "antiproton":
        from ..physics import antiprotons

        return antiprotons.dsigma_dt_pbar_mb_gev(
            t_child, t_parent_n, projectile=projectile, target=target
        )
    from ..physics import secondary_leptons

    return secondary_leptons.dsigma_dt_lepton_mb_gev(
        t_child, t_parent_n, charge=PRODUCTS[product], projectile=projectile, target=target
    )


def antiproton_loss_cross_section_mb(cfg, t) -> tuple[np.ndarray, np.ndarray]:
    """(sigma on H, sigma on He) [mb] that remove an antiproton of kinetic energy ``t``."""
    from ..physics import antiprotons

    sigma = antiprotons.sigma_pbar_annihilation_mb(t)
    if cfg.cross_sections.tertiary_antiprotons:
        sigma = sigma + antiprotons.sigma_pbar_inelastic_nonannihilating_mb(t)
    return sigma, sigma * antiprotons.PBAR_HE_TARGET_FACTOR
