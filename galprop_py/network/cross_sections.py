"""Network cross sections chosen by name: inelastic, production, and the helium target.

Inelastic (destruction) models, :data:`INELASTIC_MODELS`
    ``"crosec"`` and ``"tripathi99"``: the hydrogen-target tables read by
    :mod:`galprop_py.physics.cross_sections` (with its rules: protons from Kafexhiu et al.
    2014; a nucleus missing from the chosen table falls back to the other table, then to
    Letaw et al. 1983).

Production models, :data:`PRODUCTION_MODELS` (all on hydrogen)
    ``"evoli2018"``: the 203 channels of ``xsecs_0.1_100_1.1.txt`` (Evoli et al. 2018), on
    T = 0.1 GeV/n x 1.1^i, i = 0..99.

    ``"webber03_coste12"``: ``sigProdWebber03+Coste12.txt`` (the USINE table of Webber et al.
    2003, ApJS 144, 153 and Coste et al. 2012, A&A 539, A88, as shipped with crams): 4466
    rows ``Z_frag A_frag Z_proj A_proj`` + 41 values [mb] on T = 0.01 GeV/n x 1000^(i/40),
    i = 0..40 (0.01..10 GeV/n, 13.3 points per decade).  The file has no header; the grid
    is the one of the crams reader of this file (``T_min = 0.01 GeV``, ``T_max = 10 GeV``,
    41 log-spaced points).
    2989 rows are non-zero, from 94 projectiles (1H .. 70Zn) to 79 fragments (1H, 2H, 3He,
    4He, 7Be, 9Be, 10Be, 10B, 11B and 12C .. 60Ni); the Li, 14C and 60Fe rows and all
    fragments above Ni are zero everywhere, so this model produces no Li, 14C or 60Fe.
    The cross sections are cumulative over short-lived intermediates: no short-lived
    fragment is listed (no 11C, 10C, 13N, ...), and 12C -> 11B (58.6 mb at 0.07..0.22
    GeV/n, 47.0 mb at 10 GeV/n) holds both the direct 11B and the 11C -> 11B decay
    (12C(p,pn)11C alone is 28.2 +- 0.6 mb at 7.6 GeV).  The listed fragments are the stable
    and long-lived nuclides and the electron-capture decayers, which the table (like this
    network) treats as stable when bare; the one of them that is short-lived here is 48Cr,
    whose weak beta+ branch (:mod:`galprop_py.network.nuclides`) makes it decay to 48Ti:
    its channels are folded there by the network builder.

    Excluded rows (:data:`EXCLUDED_CHANNELS`): six rows with A_frag = A_proj and Z_frag =
    Z_proj - 1 (57Co -> 57Fe, 55Fe -> 55Mn, 54Mn -> 54Cr, 51Cr -> 51V, 49V -> 49Ti, 37Ar ->
    37Cl), 0 below 0.09 GeV/n, up to 5600 mb near 0.11 GeV/n, falling as T^-2.
    They are not nuclear reactions: they are the cross section for a bare EC nucleus to
    attach an electron from hydrogen (radiative K-shell capture, scaling as Z^5: they agree
    within ~10% between 0.11 and 2 GeV/n with the K-shell attachment formula that GALPROP
    uses for the same purpose in its ``Kcapture_cs`` routine), after which it decays by
    electron capture.  This network treats
    bare EC nuclei as stable (:mod:`galprop_py.network.nuclides`), so these rows are dropped.
    The one row with A_frag > A_proj, p + p -> d (1H -> 2H), is a real channel and is kept.

Interpolation: linear in ln T between the nodes, end values held outside the grid (as in
:func:`galprop_py.physics.cross_sections.interpolate_log_t`); an absent channel is 0.

Helium target
    A target of 4He replaces the geometric K_He = 4^(2/3) of the hydrogen-only code by the
    projectile-dependent scaling of Ferrando et al. 1988 (PRC 37, 1490), fitted to their
    measured charge-changing cross sections of 12C, 16O and 56Fe in helium, compared with
    those in hydrogen:

    * total inelastic: ``sigma_He / sigma_H = 2.10 A^-0.055`` (A of the projectile), energy
      independent (:func:`helium_inelastic_ratio`);
    * partial (production) cross sections, charge change dZ = Z_proj - Z_frag:
      ``sigma_He / sigma_H = exp(mu(E) |dZ - F(Z_proj) Delta(E)|^1.43)`` with mu = 0.082,
      0.047, 0.031 and Delta = 2.45, 3.45, 4.40 at E = 0.43, 0.73, 1.51 GeV/n (mu linear in E,
      Delta linear in ln E in between, end values held outside) and F = -0.76, -0.41, +1.00
      for Z = 6, 8, 26 (linear in ln Z between and beyond them)
      (:func:`helium_production_ratio`).

    The coefficients are those of the paper as transcribed in GALPROP's ``He_to_H_CS``
    routine (Moskalenko 2000), which also interpolates F in ln Z; the paper itself was not
    at hand to check them or its equation numbers.  Choices of ours: for dZ > Z_proj / 2
    (outside the fitted channels) the value at dZ = Z_proj / 2 is held; projectiles with
    Z <= 2 (outside the fit) use the total-inelastic ratio for production; the
    proton-on-helium inelastic cross section is not scaled but taken as that of 4He on H at
    the same energy per nucleon (the same collision seen from the other nucleus), from the
    chosen inelastic table.  The He/H ratios of light projectiles (A < 12) and of A > 56 are
    extrapolations.

Units: cross sections in mb, energies per nucleon T_n in GeV/n.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

from ..physics import cross_sections as _tables
from .nuclides import Nuclide

#: Inelastic models: name -> reference.
INELASTIC_MODELS: dict[str, str] = {
    "crosec": "CROSEC (Barashenkov & Polanski 1994) table of crams, on H",
    "tripathi99": "Tripathi, Cucinotta & Wilson 1999 formula (NASA TP-1999-209726), crams "
    "table, on H",
}

#: Production models: name -> reference.
#: The default production model: the two tables merged channel by channel (Webber 2003 +
#: Coste 2012 has no Li production at all and no 14C, Evoli 2018 only 203 channels).
COMBINED = "evoli2018+webber03_coste12"

PRODUCTION_MODELS: dict[str, str] = {
    "webber03_coste12": "Webber et al. 2003, ApJS 144, 153; Coste et al. 2012, A&A 539, A88 "
    "(USINE table sigProdWebber03+Coste12, 0.01..10 GeV/n, cumulative), on H",
    "evoli2018": "Evoli et al. 2018, JCAP 07, 006 (crams table xsecs_0.1_100_1.1, "
    "0.1 GeV/n..1.25 TeV/n), on H",
    COMBINED: "Evoli et al. 2018 where it lists a channel (fits to the measured Li, Be, B, C, "
    "N, O production and the main heavier ones, 0.1 GeV/n..1.25 TeV/n), Webber et al. 2003 "
    "+ Coste et al. 2012 for every other channel; on H",
}

_WEBBER_FILE = "sigProdWebber03+Coste12.txt"
_WEBBER_N = 41
_EC_REASON = (
    "electron attachment on H followed by electron capture, not a nuclear reaction; bare EC "
    "nuclei are stable in this network"
)

#: Rows of ``webber03_coste12`` left out of :func:`production_channels`:
#: {(projectile, fragment): reason}.
EXCLUDED_CHANNELS: dict[tuple[Nuclide, Nuclide], str] = {
    ((27, 57), (26, 57)): _EC_REASON,
    ((26, 55), (25, 55)): _EC_REASON,
    ((25, 54), (24, 54)): _EC_REASON,
    ((24, 51), (23, 51)): _EC_REASON,
    ((23, 49), (22, 49)): _EC_REASON,
    ((18, 37), (17, 37)): _EC_REASON,
}

TARGETS = ("H", "He")


def _check(name: str, allowed: dict[str, str], what: str) -> None:
    if name not in allowed:
        raise ValueError(f"unknown {what} model {name!r}; allowed: {', '.join(allowed)}")


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; allowed: {', '.join(TARGETS)}")


def _key(nuclide) -> Nuclide:
    z, a = nuclide
    return (int(z), int(a))


# ----------------------------------------------------------------------------------------
# production tables
# ----------------------------------------------------------------------------------------
def production_energy_grid(model: str) -> np.ndarray:
    """Kinetic energy per nucleon of the columns of production model ``model`` [GeV/n] (the
    merged model has none of its own: each channel keeps its table's grid)."""
    _check(model, PRODUCTION_MODELS, "production")
    if model == COMBINED:
        raise ValueError(f"production model {COMBINED!r} has no single energy grid")
    if model == "webber03_coste12":
        return 0.01 * 1000.0 ** (np.arange(_WEBBER_N) / (_WEBBER_N - 1))
    return _tables.table_energy_grid()


@cache
def _webber_rows() -> tuple[tuple[tuple[Nuclide, Nuclide], np.ndarray], ...]:
    """All rows of the Webber/Coste table, zero ones included, as ((proj, frag), values)."""
    path = resources.files("galprop_py") / "data" / "nuclear" / _WEBBER_FILE
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 4 + _WEBBER_N:
            raise ValueError(
                f"{_WEBBER_FILE}: line {lineno}: expected 4 keys and {_WEBBER_N} values, "
                f"found {len(fields)} columns"
            )
        z_f, a_f, z_p, a_p = (int(v) for v in fields[:4])
        values = np.array(fields[4:], dtype=float)
        values.flags.writeable = False
        rows.append((((z_p, a_p), (z_f, a_f)), values))
    return tuple(rows)


def _raw_rows(model: str):
    _check(model, PRODUCTION_MODELS, "production")
    if model == COMBINED:
        return _raw_rows("webber03_coste12") + _raw_rows("evoli2018")
    if model == "webber03_coste12":
        return _webber_rows()
    return tuple(_tables.read_fragmentation_table().items())


def listed_fragments(model: str) -> set[Nuclide]:
    """Every fragment of a row of production model ``model``, zero rows included."""
    return {frag for (_proj, frag), _v in _raw_rows(model)}


def _source_model(model: str, key) -> str:
    """The table a channel of ``model`` comes from."""
    if model != COMBINED:
        return model
    return "evoli2018" if key in _channels("evoli2018") else "webber03_coste12"


@cache
def _channels(model: str) -> dict[tuple[Nuclide, Nuclide], np.ndarray]:
    if model == COMBINED:
        return {**_channels("webber03_coste12"), **_channels("evoli2018")}
    out = {}
    for key, values in _raw_rows(model):
        if not np.any(values != 0.0):
            continue
        if model == "webber03_coste12" and key in EXCLUDED_CHANNELS:
            continue
        out[key] = values
    return out


def production_channels(model: str) -> dict[tuple[Nuclide, Nuclide], np.ndarray]:
    """{(projectile, fragment): sigma [mb] on :func:`production_energy_grid`} of ``model``,
    on hydrogen; channels zero everywhere and :data:`EXCLUDED_CHANNELS` are left out (for
    the merged model each channel is on its table's grid: use
    :func:`sigma_production_h_mb`).

    The arrays are read-only (shared); the dict is a new one on each call."""
    _check(model, PRODUCTION_MODELS, "production")
    return dict(_channels(model))


def sigma_production_h_mb(t_n, projectile, fragment, model: str) -> np.ndarray:
    """Production cross section of ``fragment`` from ``projectile`` on H [mb] at ``t_n``
    [GeV/n]: linear in ln T, end values held outside the grid; 0 for an absent channel."""
    _check(model, PRODUCTION_MODELS, "production")
    key = (_key(projectile), _key(fragment))
    values = _channels(model).get(key)
    t_n = np.asarray(t_n, dtype=float)
    if values is None:
        return np.zeros_like(t_n)
    grid = production_energy_grid(_source_model(model, key))
    return _tables.interpolate_log_t(t_n, grid, values)


def sigma_production_mb(t_n, projectile, fragment, model: str, target: str = "H") -> np.ndarray:
    """Production cross section [mb] on ``target`` ("H" or "He", per target nucleus)."""
    _check_target(target)
    sigma = sigma_production_h_mb(t_n, projectile, fragment, model)
    if target == "He":
        sigma = sigma * helium_production_ratio(t_n, projectile, fragment)
    return sigma


# ----------------------------------------------------------------------------------------
# inelastic
# ----------------------------------------------------------------------------------------
def sigma_inelastic_mb(t_n, nuclide, model: str, target: str = "H") -> np.ndarray:
    """Total inelastic cross section of ``nuclide`` (Z, A) on ``target`` ("H" or "He") [mb]
    at ``t_n`` [GeV/n], with inelastic model ``model`` (see the module docstring)."""
    _check(model, INELASTIC_MODELS, "inelastic")
    _check_target(target)
    z, a = _key(nuclide)
    t_n = np.asarray(t_n, dtype=float)
    if target == "He" and (z, a) == (1, 1):
        # p on 4He at rest = 4He on p at rest, at the same energy per nucleon
        return _tables.sigma_inelastic_h_mb(t_n, 2, 4, model)
    sigma = _tables.sigma_inelastic_h_mb(t_n, z, a, model)
    if target == "He":
        sigma = sigma * helium_inelastic_ratio(t_n, (z, a), model)
    return sigma


# ----------------------------------------------------------------------------------------
# helium target (Ferrando et al. 1988)
# ----------------------------------------------------------------------------------------
FERRANDO_ENERGIES_GEV_N = (0.43, 0.73, 1.51)
FERRANDO_MU = (0.082, 0.047, 0.031)
FERRANDO_DELTA = (2.45, 3.45, 4.40)
FERRANDO_F = {6: -0.76, 8: -0.41, 26: 1.00}  # per projectile charge
FERRANDO_EXPONENT = 1.43
PROTON_RATIO_MIN_GEV = 2.0  # p-He / p-p ratio held below this kinetic energy


def ferrando_f(z_projectile: int) -> float:
    """F(Z) of Ferrando et al. 1988: the fitted values for C, O, Fe, linear in ln Z between
    them and beyond (C-O line below O, O-Fe line above)."""
    z = float(z_projectile)
    if z <= 0:
        raise ValueError(f"projectile charge must be >= 1, got {z_projectile}")
    (z1, f1), (z2, f2) = ((6, -0.76), (8, -0.41)) if z < 8 else ((8, -0.41), (26, 1.00))
    return f1 + (f2 - f1) * (np.log(z) - np.log(z1)) / (np.log(z2) - np.log(z1))


def _mu_delta(t_n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    e = np.asarray(FERRANDO_ENERGIES_GEV_N)
    mu = np.interp(t_n, e, FERRANDO_MU)
    delta = np.interp(np.log(t_n), np.log(e), FERRANDO_DELTA)
    return mu, delta


def helium_inelastic_ratio(t_n, nuclide, model: str = "crosec") -> np.ndarray:
    """sigma_inelastic(He) / sigma_inelastic(H) of ``nuclide`` at ``t_n`` [GeV/n].

    Nuclei: 2.10 A^-0.055 (Ferrando et al. 1988).  Protons: sigma(4He on H) / sigma_pp
    from ``model`` and Kafexhiu et al. 2014 at max(t_n, 2 GeV): sigma_pp falls to zero at
    the pion threshold (0.28 GeV) while p-He does not, so below 2 GeV the ratio is held
    (it is used to scale a given hydrogen cross section; :func:`sigma_inelastic_mb` with
    ``target="He"`` gives the p-He cross section itself at every energy)."""
    z, a = _key(nuclide)
    t_n = np.asarray(t_n, dtype=float)
    if z < 1 or a < z:
        raise ValueError(f"no inelastic cross section for Z={z}, A={a}")
    if (z, a) == (1, 1):
        _check(model, INELASTIC_MODELS, "inelastic")
        t_ref = np.maximum(t_n, PROTON_RATIO_MIN_GEV)
        return _tables.sigma_inelastic_h_mb(t_ref, 2, 4, model) / _tables.sigma_pp_inelastic_mb(
            t_ref
        )
    return np.full_like(t_n, 2.10 * a**-0.055)


def helium_production_ratio(t_n, projectile, fragment) -> np.ndarray:
    """sigma(projectile + He -> fragment) / sigma(projectile + H -> fragment) at ``t_n``
    [GeV/n] (Ferrando et al. 1988; see the module docstring for the ranges)."""
    z_p, a_p = _key(projectile)
    z_f, _a_f = _key(fragment)
    t_n = np.asarray(t_n, dtype=float)
    if z_p <= 2:
        return helium_inelastic_ratio(t_n, (z_p, a_p))
    dz = z_p - z_f
    if dz < 0:
        raise ValueError(f"fragment Z = {z_f} above projectile Z = {z_p}")
    dz = min(float(dz), z_p / 2.0)
    mu, delta = _mu_delta(t_n)
    return np.exp(mu * np.abs(dz - ferrando_f(z_p) * delta) ** FERRANDO_EXPONENT)


def helium_target_factor(t_n, projectile, fragment=None, model: str = "crosec") -> np.ndarray:
    """sigma(He) / sigma(H) per target nucleus: the total inelastic ratio of ``projectile``
    if ``fragment`` is None (``model`` matters for protons only), else the production ratio.

    A medium with f_He = n_He / n_H then has, per H atom, sigma_H (1 + f_He factor)."""
    if fragment is None:
        return helium_inelastic_ratio(t_n, projectile, model)
    return helium_production_ratio(t_n, projectile, fragment)
