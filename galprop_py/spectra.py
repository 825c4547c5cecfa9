"""Local spectra at the Sun: species, elements and the ratios people plot, LIS and TOA, on
kinetic energy per nucleon and on rigidity.

Every spectrum is a dict with

* ``t_n`` [GeV/n], ``lis`` and ``toa`` [``units.FLUX_UNIT``, per GeV/n];
* ``rigidity`` [GV], ``lis_r`` and ``toa_r`` [``units.FLUX_PER_GV``, per GV].

A species' flux per unit rigidity is J_R = J_T dT_n/dR = J_T (Z/A) beta (at equal particle,
dT_n/dR = Z^2 R / (A E)).  Elements sum their isotopes on a common grid of each axis (the
run's momentum nodes where the axis is the run's own, otherwise log-spaced over the range
every isotope covers), by log-log interpolation; ratios divide two such sums at equal T_n or
at equal rigidity (AMS-02 publishes nuclear ratios in rigidity: compare on that axis).
Modulation (the force field) acts on kinetic energy per nucleon and is then carried to
rigidity like the LIS.
"""

from __future__ import annotations

import numpy as np

from . import units
from .physics import kinematics
from .physics.modulation import modulate
from .physics.species import element_symbol

#: Ratios written to the result file: name -> (numerator, denominator); an entry is an
#: element symbol or an isotope name, a tuple sums several.  SubFe = Sc + Ti + V (HEAO-3's
#: sub-iron group, Engelmann et al. 1990).
RATIOS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "B_C": (("B",), ("C",)),
    "Be_B": (("Be",), ("B",)),
    "Li_C": (("Li",), ("C",)),
    "N_O": (("N",), ("O",)),
    "Be10_Be9": (("Be10",), ("Be9",)),
    "He3_He4": (("He3",), ("He4",)),
    "H2_He4": (("H2",), ("He4",)),
    "SubFe_Fe": (("Sc", "Ti", "V"), ("Fe",)),
    "pbar_p": (("antiproton",), ("H1",)),
    "positron_fraction": (("positron",), ("positron", "electron")),
}
#: How a ratio is called outside the file (plots, fits): "B/C"; these two by their usual names.
_LABELS = {"pbar_p": "pbar/p", "positron_fraction": "e+/(e+ + e-)"}


def ratio_label(name: str) -> str:
    """The label of a :data:`RATIOS` entry: ``"B_C"`` -> ``"B/C"``, ``"positron_fraction"``
    -> ``"e+/(e+ + e-)"``."""
    return _LABELS.get(name, name.replace("_", "/"))


def ratio_key(label: str) -> str:
    """Inverse of :func:`ratio_label`."""
    for k, v in _LABELS.items():
        if v == label:
            return k
    return label.replace("/", "_")


def flux_from_density(species, p, psi) -> np.ndarray:
    """Flux J(T_n) = c A psi / (4 pi) in m^-2 s^-1 sr^-1 (GeV/n)^-1 for psi per unit momentum
    per particle (internal: kpc^-3 (GeV/c)^-1)."""
    c_m_s = units.C_CM_S / 100.0
    per_m3 = (units.KPC_CM / 100.0) ** -3
    return c_m_s * species.mass_number * psi * per_m3 / (4.0 * np.pi)


def per_rigidity_factor(species, p) -> np.ndarray:
    """dT_n/dR = (|Z|/A) beta: J_R = J_T times this."""
    return abs(species.charge) / species.mass_number * kinematics.beta(p, species.mass)


def species_spectrum(species, p, lis, modulation) -> dict:
    """One species' LIS and TOA on both axes.  ``modulation``: a force-field potential phi
    [GV] (a number), or the run's ``[modulation]`` block, whose ``model`` selects the force
    field (default) or the spherical Parker model
    (:func:`galprop_py.physics.modulation.modulate`)."""
    t_n = kinematics.kinetic_energy(p, species.mass) / species.mass_number
    # both models interpolate in log-log: keep round-off zeros/negatives out
    floor = 1e-300 * max(float(np.max(np.abs(lis))), 1e-300)
    toa = modulate(t_n, np.maximum(lis, floor), modulation, species)
    dtdr = per_rigidity_factor(species, p)
    return {
        "t_n": t_n,
        "lis": lis,
        "toa": toa,
        "rigidity": kinematics.rigidity(p, species.charge),
        "lis_r": lis * dtdr,
        "toa_r": toa * dtdr,
    }


def scale(spectrum: dict, factor: float) -> None:
    for key in ("lis", "toa", "lis_r", "toa_r"):
        spectrum[key] = spectrum[key] * factor


def loglog(x, y, x_new):
    """y at x_new, interpolated linearly in (ln x, ln y) (y floored at 1e-300, no
    extrapolation: numpy's end values outside x)."""
    y = np.maximum(np.asarray(y, float), 1e-300)
    return np.exp(np.interp(np.log(x_new), np.log(x), np.log(y)))


def _common_grid(spectra, key, nodes, own_axis: bool):
    if own_axis:
        return np.asarray(nodes, float)
    lo = max(float(s[key][0]) for s in spectra)
    hi = min(float(s[key][-1]) for s in spectra)
    return np.geomspace(lo, hi, len(nodes)) if hi > lo else None


def element_spectra(spectra: dict, model) -> dict:
    """Isotopes summed into elements ("B" = B10 + B11, "H" = H1 + H2, ...) on common grids of
    both axes; elements with one isotope in the run are included too; leptons as "e-" and
    "e+" (all electrons and all positrons of the run)."""
    groups: dict[str, list] = {}
    for sp in model.species:
        if sp.name not in spectra:
            continue
        if sp.is_lepton:
            groups.setdefault("e-" if sp.charge < 0 else "e+", []).append(spectra[sp.name])
        elif sp.charge > 0:
            groups.setdefault(element_symbol(sp.charge), []).append(spectra[sp.name])
    return _sums(groups, model)


def _sums(groups: dict[str, list], model) -> dict:
    nodes = model.momentum.nodes
    t_axis = model.momentum.axis == "kinetic_energy_per_nucleon"
    out = {}
    for name, members in groups.items():
        t_n = _common_grid(members, "t_n", nodes, t_axis)
        rig = _common_grid(members, "rigidity", nodes, not t_axis)
        if t_n is None or rig is None:
            continue
        out[name] = _on_grids(
            t_n,
            rig,
            lambda key, x, grid, ms=members: sum(loglog(m[x], m[key], grid) for m in ms),
        )
    return out


def _on_grids(t_n, rig, value) -> dict:
    """A spectrum entry on the grids ``t_n`` and ``rig``: ``value(key, axis key, grid)`` gives
    each of lis, toa (on T/n) and lis_r, toa_r (on rigidity)."""
    entry = {"t_n": t_n, "rigidity": rig}
    for key, x, grid in (
        ("lis", "t_n", t_n),
        ("toa", "t_n", t_n),
        ("lis_r", "rigidity", rig),
        ("toa_r", "rigidity", rig),
    ):
        entry[key] = value(key, x, grid)
    return entry


def ratio_spectra(spectra: dict, elements: dict, model) -> dict:
    """The :data:`RATIOS` whose parts are all in the run, on both axes."""
    pool = {**spectra, **elements}
    out = {}
    for name, (num, den) in RATIOS.items():
        if not all(k in pool for k in num + den):
            continue
        sums = _sums({"num": [pool[k] for k in num], "den": [pool[k] for k in den]}, model)
        if "num" not in sums or "den" not in sums:
            continue
        a, b = sums["num"], sums["den"]
        # both sums are on the same grids only where the two groups cover the same range
        t_n = _common_grid([a, b], "t_n", a["t_n"], False)
        rig = _common_grid([a, b], "rigidity", a["rigidity"], False)
        if t_n is None or rig is None:
            continue
        out[name] = _on_grids(
            t_n,
            rig,
            lambda key, x, grid, a=a, b=b: loglog(a[x], a[key], grid) / loglog(b[x], b[key], grid),
        )
    return out


def flux_at(spectrum: dict, t_n_gev: float, key: str = "toa") -> float:
    """Flux of ``spectrum[key]`` at ``t_n_gev`` [GeV/n] (log-log interpolation)."""
    return float(loglog(spectrum["t_n"], spectrum[key], np.array([t_n_gev]))[0])


def read_local(path) -> dict:
    """The local spectra of a result file as :func:`galprop_py.plotting.plot_network` takes
    them: species by name, elements by symbol, ratios as ``"B/C"``, ``"Be10/Be9"``, ..."""
    import h5py

    def entry(g, what):
        return {
            "t_n": g["kinetic_energy_per_nucleon"][...],
            "rigidity": g["rigidity"][...],
            "lis": g[f"{what}_lis"][...],
            "toa": g[f"{what}_toa"][...],
            "lis_r": g[f"{what}_lis_rigidity"][...],
            "toa_r": g[f"{what}_toa_rigidity"][...],
        }

    out = {}
    with h5py.File(path, "r") as f:
        for name, g in f["species"].items():
            out[name] = entry(g["sun"], "flux")
        for sym, g in f.get("sun/elements", {}).items():
            out[sym] = entry(g, "flux")
        for name, g in f.get("sun/ratios", {}).items():
            out[ratio_label(name)] = entry(g, "ratio")
    return out
