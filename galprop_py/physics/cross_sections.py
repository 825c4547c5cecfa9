"""Nuclear cross sections and the network's nuclei list.

Tables (``galprop_py/data/nuclear/``, from the crams code of Evoli et al., MIT licence;
see the README there):

* total inelastic cross sections on hydrogen, ``xsecs_total_CROSEC_0.1_100_1.1.txt``
  (CROSEC, Barashenkov & Polanski 1994) and ``xsecs_total_Tripathi99_0.1_100_1.1.txt``
  (Tripathi, Cucinotta & Wilson 1999), rows ``Z A sigma_0 .. sigma_99`` [mb];
* fragmentation (production) cross sections on hydrogen, ``xsecs_0.1_100_1.1.txt``
  (Evoli et al. 2018, JCAP 07, 006), rows ``Z_frag A_frag Z_proj A_proj sigma_0 .. sigma_99``
  [mb];
* all on the grid of kinetic energy per nucleon ``T_i = 0.1 GeV/n * 1.1^i, i = 0..99``
  (0.1 GeV/n to 1.25 TeV/n; checked against the crams reader).

Interpolation: linear in ``ln T`` between nodes (exact on the nodes).  Outside the table the
end value is held: above 1.25 TeV/n cross sections are nearly constant; below 0.1 GeV/n the
first value is kept, which is only a placeholder (ionisation losses dominate there and the
fragmentation fits are not meant for it).

Protons use the p-p inelastic cross section of Kafexhiu et al. 2014 (PRD 90, 123014, eq. 1).
A nucleus missing from the chosen table falls back to the other table, then to the
Letaw, Silberberg & Tsao (1983, ApJS 51, 271) formula.

Helium in the ISM (``f_he = n_He / n_H``) is included by scaling the hydrogen-target cross
section with the geometric factor ``K_He = 4^(2/3)`` for a He target relative to H, as in
crams (Evoli, Aloisio & Blasi 2019, PRD 99, 103023): per H atom,
``sigma_ISM = sigma_H (1 + K_He f_he)``; per target atom (H + He),
``sigma_H (1 + K_He f_he) / (1 + f_he)`` (:func:`helium_target_factor`).  The geometric
scaling is a simplification: measured He/H cross-section ratios for C, O and Fe projectiles
(Ferrando et al. 1988, PRC 37, 1490) depend on projectile and channel.

Radioactive decay: the one decay table is :data:`galprop_py.network.nuclides.DECAYS`;
:func:`mean_life_myr` is a thin wrapper of it (bare-nucleus mean lives).

Units: cross sections in mb (``units.MB_CM2`` converts), energies per nucleon in GeV/n,
lifetimes in Myr, rates in 1/s (``units.rate_to_internal`` converts to 1/Myr).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..units import AMU_GEV, C_CM_S, M_P_GEV, MB_CM2
from .kinematics import beta, momentum_from_kinetic

# --- energy grid of the tables ----------------------------------------------------------
T_MIN_GEV_N = 0.1
T_RATIO = 1.1
N_T = 100

# --- helium target (crams choice, geometric A_target^(2/3) scaling) ---------------------
K_HE = 4.0 ** (2.0 / 3.0)  # sigma(He target) / sigma(H target) = 2.5198

# --- Kafexhiu et al. 2014 threshold: T_th = 2 m_pi0 + m_pi0^2 / (2 m_p) = 0.2797 GeV ----
M_PI0_GEV = 0.1349768
T_PP_THRESHOLD_GEV = 2.0 * M_PI0_GEV + M_PI0_GEV**2 / (2.0 * M_P_GEV)

_TABLE_FILES = {
    "crosec": "xsecs_total_CROSEC_0.1_100_1.1.txt",
    "tripathi99": "xsecs_total_Tripathi99_0.1_100_1.1.txt",
}
_FRAGMENTATION_FILE = "xsecs_0.1_100_1.1.txt"
_NUCLEI_FILE = "nucleilist.csv"

Nuclide = tuple[int, int]  # (Z, A)


# ----------------------------------------------------------------------------------------
# table reading and interpolation
# ----------------------------------------------------------------------------------------
def table_energy_grid() -> np.ndarray:
    """Kinetic energy per nucleon of the table columns, 0.1 GeV/n * 1.1^i [GeV/n]."""
    return T_MIN_GEV_N * T_RATIO ** np.arange(N_T)


def _nuclear_text(filename: str) -> str:
    path = resources.files("galprop_py") / "data" / "nuclear" / filename
    return path.read_text(encoding="utf-8")


def _parse_rows(text: str, nkeys: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != nkeys + N_T:
            raise ValueError(
                f"line {lineno}: expected {nkeys} keys and {N_T} values, found {len(fields)}"
            )
        key = tuple(int(v) for v in fields[:nkeys])
        rows.append((key, np.array(fields[nkeys:], dtype=float)))
    return rows


@cache
def read_inelastic_table(model: str = "crosec") -> dict[Nuclide, np.ndarray]:
    """Total inelastic cross sections on H, {(Z, A): sigma [mb] on the table grid}.

    ``model`` is ``"crosec"`` or ``"tripathi99"``.  The arrays are read-only.
    """
    if model not in _TABLE_FILES:
        raise ValueError(f"unknown inelastic model {model!r}; allowed: {', '.join(_TABLE_FILES)}")
    out = {}
    for key, values in _parse_rows(_nuclear_text(_TABLE_FILES[model]), 2):
        values.flags.writeable = False
        out[(key[0], key[1])] = values
    return out


@cache
def read_fragmentation_table() -> dict[tuple[Nuclide, Nuclide], np.ndarray]:
    """Fragmentation cross sections on H, {((Z_proj, A_proj), (Z_frag, A_frag)): sigma [mb]}.

    Values as tabulated by crams on the table grid; the arrays are read-only.
    """
    out = {}
    for key, values in _parse_rows(_nuclear_text(_FRAGMENTATION_FILE), 4):
        z_f, a_f, z_p, a_p = key
        values.flags.writeable = False
        out[((z_p, a_p), (z_f, a_f))] = values
    return out


def interpolate_log_t(t_n, grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Interpolate ``values`` given on ``grid`` linearly in ln T at ``t_n`` [GeV/n].

    Exact on the nodes; holds the first value below the grid and the last value above it.
    """
    t_n = np.asarray(t_n, dtype=float)
    return np.interp(np.log(t_n), np.log(grid), values)


# ----------------------------------------------------------------------------------------
# parametrisations
# ----------------------------------------------------------------------------------------
def sigma_pp_inelastic_mb(t_p) -> np.ndarray:
    """Proton-proton total inelastic cross section [mb] (Kafexhiu et al. 2014, eq. 1).

    ``sigma = (30.7 - 0.96 L + 0.18 L^2) (1 - (T_th/T_p)^1.9)^3`` with ``L = ln(T_p/T_th)``,
    ``T_th = 0.2797 GeV`` (pi0 production threshold); zero below threshold.  Valid from
    threshold to PeV energies (fit to data up to LHC energies).  ``t_p`` in GeV.
    """
    t_p = np.asarray(t_p, dtype=float)
    x = np.maximum(t_p / T_PP_THRESHOLD_GEV, 1.0)
    ln_x = np.log(x)
    sigma = (30.7 - 0.96 * ln_x + 0.18 * ln_x**2) * (1.0 - x**-1.9) ** 3
    return np.where(t_p > T_PP_THRESHOLD_GEV, sigma, 0.0)


def sigma_letaw_mb(t_n, a: int) -> np.ndarray:
    """Proton-nucleus inelastic cross section [mb] of Letaw, Silberberg & Tsao 1983.

    ``45 A^0.7 [1 + 0.016 sin(5.3 - 2.63 ln A)] [1 - 0.62 exp(-E/200) sin(10.9 E^-0.28)]``
    with E the kinetic energy per nucleon in MeV/n (ApJS 51, 271).  Used only
    for nuclei that neither table lists.
    """
    e_mev = np.asarray(t_n, dtype=float) * 1e3
    high = 45.0 * a**0.7 * (1.0 + 0.016 * math.sin(5.3 - 2.63 * math.log(a)))
    return high * (1.0 - 0.62 * np.exp(-e_mev / 200.0) * np.sin(10.9 * e_mev**-0.28))


def sigma_inelastic_h_mb(t_n, z: int, a: int, model: str = "crosec") -> np.ndarray:
    """Total inelastic cross section on a hydrogen target [mb] at ``t_n`` [GeV/n].

    Protons: Kafexhiu et al. 2014.  Nuclei: the ``model`` table, else the other table, else
    Letaw et al. 1983 (see the module docstring).
    """
    if z < 1 or a < z:
        raise ValueError(f"no inelastic cross section for Z={z}, A={a}")
    if (z, a) == (1, 1):
        return sigma_pp_inelastic_mb(t_n)
    other = "tripathi99" if model == "crosec" else "crosec"
    for name in (model, other):
        table = read_inelastic_table(name)
        if (z, a) in table:
            return interpolate_log_t(t_n, table_energy_grid(), table[(z, a)])
    return sigma_letaw_mb(t_n, a)


def sigma_fragmentation_h_mb(t_n, projectile: Nuclide, fragment: Nuclide) -> np.ndarray:
    """Production cross section of ``fragment`` from ``projectile`` on H [mb]; 0 if absent.

    Nuclides are ``(Z, A)`` tuples; energy per nucleon conserved in the fragmentation.
    """
    values = read_fragmentation_table().get((tuple(projectile), tuple(fragment)))
    if values is None:
        return np.zeros_like(np.asarray(t_n, dtype=float))
    return interpolate_log_t(t_n, table_energy_grid(), values)


def helium_target_factor(f_he: float, k_he: float = K_HE) -> float:
    """Cross section per ISM target atom over that per H atom, (1 + K_He f_he) / (1 + f_he).

    ``f_he = n_He / n_H`` (by number); ``K_He = 4^(2/3)`` by default (crams choice).
    """
    if f_he < 0:
        raise ValueError(f"f_he must be >= 0, got {f_he}")
    return (1.0 + k_he * f_he) / (1.0 + f_he)


def velocity_cm_s_per_nucleon(t_n, z: int, a: int) -> np.ndarray:
    """Speed [cm/s] of a nucleus (Z, A) with kinetic energy per nucleon ``t_n`` [GeV/n]."""
    m_n = M_P_GEV if (z, a) == (1, 1) else AMU_GEV  # rest energy per nucleon
    return beta(momentum_from_kinetic(t_n, m_n), m_n) * C_CM_S


def spallation_rate_per_s(
    t_n, z: int, a: int, n_h_cm3: float, f_he: float, model: str = "crosec"
) -> np.ndarray:
    """Destruction rate n v sigma [1/s] of nucleus (Z, A) in gas of H density ``n_h_cm3``.

    ``rate = n_H v sigma_H (1 + K_He f_he)`` = ``n_H (1 + f_he) v sigma_H
    helium_target_factor(f_he)``: the inelastic cross section on H (see
    :func:`sigma_inelastic_h_mb`), helium at ``f_he = n_He/n_H`` added with the geometric
    scaling.  ``n_h_cm3`` is the number density of H atoms (all phases) [cm^-3].
    """
    sigma_cm2 = sigma_inelastic_h_mb(t_n, z, a, model) * MB_CM2
    n_targets = n_h_cm3 * (1.0 + f_he)
    velocity = velocity_cm_s_per_nucleon(t_n, z, a)
    return n_targets * velocity * sigma_cm2 * helium_target_factor(f_he)


def secondary_to_primary_leaky_box(
    sigma_p: float, sigma_s: float, sigma_ps: float, grammage: float, mean_mass: float
) -> float:
    """Secondary/primary ratio of a leaky box (or disc-only spallation, benchmark B3).

    ``N_s / N_p = sigma_ps / (m_bar / X + sigma_s)``, no energy changes.  Cross sections in
    mb (per target particle of mass ``mean_mass``), grammage X in g/cm^2, ``mean_mass`` m_bar
    in g per target particle (e.g. 1.4 m_p per H atom for f_He = 0.1 with cross sections per
    H atom).  ``sigma_p`` (primary destruction) sets N_p itself but cancels in the ratio; it
    is checked for sign only.
    """
    for name, value in (("sigma_p", sigma_p), ("sigma_s", sigma_s), ("sigma_ps", sigma_ps)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if grammage <= 0 or mean_mass <= 0:
        raise ValueError("grammage and mean_mass must be > 0")
    return sigma_ps * MB_CM2 / (mean_mass / grammage + sigma_s * MB_CM2)


# ----------------------------------------------------------------------------------------
# radioactive decay: the decay table lives in galprop_py.network.nuclides
# ----------------------------------------------------------------------------------------
def mean_life_myr(z: int, a: int) -> float | None:
    """Mean life [Myr] of the bare nucleus (Z, A), None if stable as a bare nucleus: a thin
    wrapper of :func:`galprop_py.network.nuclides.cosmic_ray_mean_life_myr`."""
    from ..network.nuclides import cosmic_ray_mean_life_myr

    return cosmic_ray_mean_life_myr((z, a))


# ----------------------------------------------------------------------------------------
# nuclei list
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Nucleus:
    """One row of the network's nuclei list.

    Attributes:
        z, a: charge (-1 for antiprotons) and mass number.
        is_tertiary: the row describes tertiary (inelastically scattered) particles.
        decay_time_myr: the list's decay time [Myr] (older values), None for stable nuclei.
        ism_fraction_percent: isotopic fraction in the ISM / solar system [%].
        injection_abundance: source abundance (relative; 0 where not set in the list).
        injection_slope: source spectral index.
    """

    z: int
    a: int
    is_tertiary: bool
    decay_time_myr: float | None
    ism_fraction_percent: float
    injection_abundance: float
    injection_slope: float


def read_nuclei_list(path: str | Path | None = None) -> list[Nucleus]:
    """Read ``nucleilist.csv`` (the packaged one unless ``path`` is given).

    Columns: Z, A, isTertiary, decay time [Myr] (-1 = stable), ISM isotopic fraction [%],
    injection abundance, injection slope.  The decay times are the list's own (older)
    values, returned as written; evaluated half-lives and bare-nucleus lifetimes are in
    :mod:`galprop_py.network.nuclides`.
    """
    text = Path(path).read_text(encoding="utf-8") if path else _nuclear_text(_NUCLEI_FILE)
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        f = [v.strip() for v in s.split(",")]
        if len(f) != 7:
            raise ValueError(f"nuclei list line {lineno}: expected 7 columns, found {len(f)}")
        z, a, tertiary = int(f[0]), int(f[1]), int(f[2]) != 0
        tau = float(f[3])
        decay = tau if tau > 0 else None
        out.append(Nucleus(z, a, tertiary, decay, float(f[4]), float(f[5]), float(f[6])))
    return out
