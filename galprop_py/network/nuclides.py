"""Radioactive nuclides of the network: the one decay table of galprop_py.

:data:`DECAYS` holds every nuclide of the network's nuclei list (``nucleilist.csv``) and of the
production tables' fragment lists that is radioactive in the laboratory, plus the
short-lived intermediates their bare decay chains pass through (60Co from 60Fe, 48V from
48Cr).  A nuclide that is not in :data:`DECAYS` is stable.  Each entry carries the
laboratory half-life and decay modes, the half-life and daughters of the *fully stripped*
nucleus, and its reference.

Electron capture (EC) in cosmic rays
    Cosmic-ray nuclei above ~0.1 GeV/n are fully ionised, and a bare nucleus has no bound
    electron to capture.  Attaching an electron from the gas and decaying before it is
    stripped again matters only at low energies, for EC decayers faster than the stripping
    time (Letaw, Silberberg & Tsao 1984, ApJS 56, 369); it is neglected here.  Hence:

    * pure-EC decayers are stable as cosmic rays (``cosmic_ray_half_life_myr = None``, no
      daughters): 7Be, 37Ar, 41Ca, 44Ti, 49V, 50V, 51Cr, 53Mn, 55Fe, 56Ni, 57Co, 59Ni;
    * mixed decayers keep only their other branch, with the partial half-life
      ``t1/2 / b`` of that branch (branching b): 26Al (beta+, b = 0.817), 36Cl (beta-,
      0.981), 40K (beta-, 0.8928), 48V (beta+, 0.499), 48Cr (beta+, ~0.016) and 54Mn, whose
      laboratory decay is EC and whose beta- partial half-life was measured directly
      (0.494 Myr, Zaerpoor et al. 1997, see its entry);
    * beta- decayers are unchanged: 10Be, 14C, 60Fe, 60Co (and the double-beta 48Ca).

    Decays keep A.  ``daughters`` lists the bare decay, ``lab_daughters`` the laboratory one.

Long-lived and short-lived
    :func:`is_long_lived` compares the bare half-life with a limit (the network's
    ``half_life_min_myr``); :func:`fold` follows the bare decays of a short-lived nuclide,
    with their branchings, to the long-lived nuclides it ends in; :func:`network_nuclides`
    lists the long-lived nuclides of the tables in a charge range.

Units: half-lives and mean lives in Myr (rest frame; multiply by the Lorentz factor in the
Galaxy).  Days are converted with the Julian year, 1 yr = 365.25 d (other year
definitions differ by < 3e-5, far below the quoted uncertainties).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

Nuclide = tuple[int, int]  # (Z, A)

_LN2 = math.log(2.0)
_YR = 1e-6  # 1 yr [Myr]
_DAY = _YR / 365.25  # 1 d [Myr]
_KYR = 1e-3
_HOUR = _DAY / 24.0

#: Chemical symbols of Z = 1..92.
ELEMENT_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu "
    "Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U"
).split()


def nuclide_label(nuclide: Nuclide) -> str:
    """``"10Be"`` for (4, 10)."""
    z, a = nuclide
    if not 1 <= z <= len(ELEMENT_SYMBOLS):
        raise ValueError(f"no element symbol for Z = {z}")
    return f"{a}{ELEMENT_SYMBOLS[z - 1]}"


@dataclass(frozen=True)
class Decay:
    """Decay of one radioactive nuclide, in the laboratory and as a bare cosmic-ray nucleus.

    Attributes:
        nuclide: (Z, A).
        lab_half_life_myr: laboratory half-life [Myr].
        modes: laboratory decay modes, e.g. ``"beta-"``, ``"EC"``, ``"beta+ / EC"``.
        cosmic_ray_half_life_myr: half-life of the fully stripped nucleus [Myr]; None if it
            is stable when bare (pure electron capture).
        daughters: ((daughter, branching), ...) of the bare decay, branchings summing to 1;
            empty if stable when bare.
        reference: where the half-life and branchings come from.
        note: what changes for a bare nucleus, and why a value was chosen.
        lab_daughters: ((daughter, branching), ...) of the laboratory decay.
    """

    nuclide: Nuclide
    lab_half_life_myr: float
    modes: str
    cosmic_ray_half_life_myr: float | None
    daughters: tuple[tuple[Nuclide, float], ...]
    reference: str
    note: str = ""
    lab_daughters: tuple[tuple[Nuclide, float], ...] = field(default=())

    def __post_init__(self):
        z, a = self.nuclide
        if self.lab_half_life_myr <= 0:
            raise ValueError(f"{nuclide_label(self.nuclide)}: half-life must be > 0")
        if (self.cosmic_ray_half_life_myr is None) != (not self.daughters):
            raise ValueError(
                f"{nuclide_label(self.nuclide)}: daughters must be given exactly when the bare "
                "nucleus decays"
            )
        for branches in (self.daughters, self.lab_daughters):
            if branches and abs(sum(b for _, b in branches) - 1.0) > 1e-12:
                raise ValueError(f"{nuclide_label(self.nuclide)}: branchings must sum to 1")
            for (_zd, ad), b in branches:
                if ad != a or not 0 < b <= 1:
                    raise ValueError(
                        f"{nuclide_label(self.nuclide)}: a decay keeps A and has 0 < b <= 1"
                    )

    @property
    def mean_life_myr(self) -> float | None:
        """Cosmic-ray (bare) mean life t1/2 / ln 2 [Myr]; None if stable when bare."""
        t = self.cosmic_ray_half_life_myr
        return None if t is None else t / _LN2

    @property
    def lab_mean_life_myr(self) -> float:
        """Laboratory mean life t1/2 / ln 2 [Myr]."""
        return self.lab_half_life_myr / _LN2


_NUBASE = "NUBASE2020: Kondev, Huang, Wang, Naimi & Audi 2021, Chin. Phys. C 45, 030001"
_PURE_EC = "pure electron capture: stable as a bare nucleus"


def _pure_ec(nuclide, half_life, lab_daughter, reference, note=_PURE_EC):
    return Decay(nuclide, half_life, "EC", None, (), reference, note, ((lab_daughter, 1.0),))


_TABLE = (
    _pure_ec((4, 7), 53.22 * _DAY, (3, 7), f"{_NUBASE} (53.22(6) d)"),
    Decay(
        (4, 10),
        1.387,
        "beta-",
        1.387,
        (((5, 10), 1.0),),
        "Chmeleff et al. 2010, NIM B 268, 192 (1.387 +- 0.012 Myr); Korschinek et al. 2010, "
        "NIM B 268, 187 (1.386 +- 0.016 Myr); adopted by NUBASE2020",
        lab_daughters=(((5, 10), 1.0),),
    ),
    Decay(
        (6, 14),
        5700 * _YR,
        "beta-",
        5700 * _YR,
        (((7, 14), 1.0),),
        f"{_NUBASE} (5.70(3) kyr)",
        lab_daughters=(((7, 14), 1.0),),
    ),
    Decay(
        (13, 26),
        0.717,
        "beta+ / EC",
        0.717 / 0.817,
        (((12, 26), 1.0),),
        f"{_NUBASE} (717(24) kyr); beta+ fraction 81.7% of the ENSDF A = 26 evaluation "
        "(Basunia & Hurst 2016, Nucl. Data Sheets 134, 1)",
        "bare: beta+ branch only, partial half-life 0.717 / 0.817 = 0.878 Myr",
        (((12, 26), 1.0),),
    ),
    Decay(
        (17, 36),
        0.301,
        "beta- / EC",
        0.301 / 0.981,
        (((18, 36), 1.0),),
        f"{_NUBASE} (3.01(2)e5 yr; beta- 98.1%, EC + beta+ 1.9%)",
        "bare: beta- branch only, partial half-life 0.301 / 0.981 = 0.307 Myr",
        (((18, 36), 0.981), ((16, 36), 0.019)),
    ),
    _pure_ec((18, 37), 35.011 * _DAY, (17, 37), f"{_NUBASE} (35.011 d)"),
    Decay(
        (19, 40),
        1248.0,
        "beta- / EC",
        1248.0 / 0.8928,
        (((20, 40), 1.0),),
        f"{_NUBASE} (1.248(3) Gyr; beta- 89.28(13)%, EC 10.72(13)%, beta+ 0.001%)",
        "bare: beta- branch only (the 1e-5 beta+ branch is neglected), partial half-life "
        "1248 / 0.8928 = 1398 Myr",
        (((20, 40), 0.8928), ((18, 40), 0.1072)),
    ),
    _pure_ec((20, 41), 99.4 * _KYR, (19, 41), f"{_NUBASE} (99.4 kyr)"),
    _pure_ec(
        (22, 44),
        59.1 * _YR,
        (21, 44),
        f"{_NUBASE} (59.1 yr)",
        f"{_PURE_EC}; in the laboratory 44Ti -> 44Sc (3.97 h, beta+/EC) -> 44Ca",
    ),
    Decay(
        (20, 48),
        5.6e19 * _YR,
        "2beta-",
        5.6e19 * _YR,
        (((22, 48), 1.0),),
        f"{_NUBASE} (about 6e19 yr, double beta decay)",
        "listed for completeness: stable for any propagation purpose",
        (((22, 48), 1.0),),
    ),
    Decay(
        (23, 48),
        15.9735 * _DAY,
        "beta+ / EC",
        15.9735 * _DAY / 0.499,
        (((22, 48), 1.0),),
        f"{_NUBASE} (15.9735 d); beta+ fraction 49.9% (ENSDF, A = 48 chain)",
        "short-lived intermediate of 48Cr; bare: beta+ only, 32 d",
        (((22, 48), 1.0),),
    ),
    Decay(
        (24, 48),
        21.56 * _HOUR,
        "EC / beta+",
        21.56 * _HOUR / 0.016,
        (((23, 48), 1.0),),
        f"{_NUBASE} (21.56 h; EC + beta+ 100%); beta+ fraction ~1.6% (ENSDF, A = 48 chain; "
        "not checked here)",
        "the allowed 0+ -> 1+ decay to the 0.42 MeV level of 48V leaves 0.21 MeV for the "
        "positron, so a weak beta+ branch exists; any fraction above 1e-4 gives a bare "
        "half-life below 25 yr, so the exact value only matters for limits below that: "
        "48Cr is short-lived and ends as 48Ti",
        (((23, 48), 1.0),),
    ),
    _pure_ec((23, 49), 330 * _DAY, (22, 49), f"{_NUBASE} (330 d)"),
    _pure_ec(
        (23, 50),
        2.67e17 * _YR,
        (22, 50),
        "Laubenstein et al. 2019, PRC 99, 045501 (EC to 50Ti, 2.67(+16-18)e17 yr; the beta- "
        "branch to 50Cr is not observed)",
        f"{_PURE_EC}; primordial, in the solar-system table",
    ),
    _pure_ec((24, 51), 27.7025 * _DAY, (23, 51), f"{_NUBASE} (27.7025 d)"),
    _pure_ec((25, 53), 3.7, (24, 53), f"{_NUBASE} (3.7(4) Myr)"),
    Decay(
        (25, 54),
        312.19 * _DAY,
        "EC (beta-, beta+ tiny)",
        0.494,
        (((26, 54), 1.0),),
        "laboratory half-life 312.19(3) d: LNHB/DDEP recommended data (Chechev & Kuzmenko "
        "2014); bare: beta- partial half-life (4.94 +- 0.06 stat +- 0.85 syst) x 10^5 yr, "
        "Zaerpoor et al. 1997, PRL 79, 4306",
        "EC (99.9997%) is closed for a bare nucleus; the beta- branch to 54Fe is what remains. "
        "We use 0.494 Myr because it is a direct laboratory measurement of that branch; its "
        "17% systematic error dominates (the crams list's 0.909 Myr mean life is a 0.63 Myr "
        "half-life, the value of GALPROP's decay table).  The beta+ branch, (1.8 +- 0.8)e-9 "
        "(Zaerpoor 1998, PhD thesis, Oregon State), adds 0.1% to the bare decay rate and is "
        "neglected",
        (((24, 54), 1.0),),
    ),
    _pure_ec((26, 55), 2.744 * _YR, (25, 55), f"{_NUBASE} (2.744 yr)"),
    _pure_ec(
        (28, 56),
        6.075 * _DAY,
        (27, 56),
        f"{_NUBASE} (6.075(10) d); beta+ branch not observed (< 6.3e-7, Zaerpoor 1998, PhD "
        "thesis, Oregon State)",
        f"{_PURE_EC}: no beta+ branch has been observed; the limit means a bare partial "
        "half-life > 2.6e4 yr (model estimates are a few 1e4 yr, so 56Ni may in fact decay "
        "in flight); in the laboratory 56Ni -> 56Co (77.2 d) -> 56Fe",
    ),
    _pure_ec((27, 57), 271.74 * _DAY, (26, 57), f"{_NUBASE} (271.74 d)"),
    _pure_ec(
        (28, 59),
        81 * _KYR,
        (27, 59),
        f"{_NUBASE} (81 kyr)",
        f"{_PURE_EC} (a beta+ branch of order 1e-7 would give a bare partial half-life of "
        "~5e5 Myr, beyond any propagation time)",
    ),
    Decay(
        (26, 60),
        2.62,
        "beta-",
        2.62,
        (((27, 60), 1.0),),
        "Rugel et al. 2009, PRL 103, 072502 (2.62 +- 0.04 Myr)",
        "Wallner et al. 2015, PRL 114, 041101 measured 2.50 +- 0.12 Myr; decays through "
        "60mCo (10.5 min) to 60Co",
        (((27, 60), 1.0),),
    ),
    Decay(
        (27, 60),
        5.2714 * _YR,
        "beta-",
        5.2714 * _YR,
        (((28, 60), 1.0),),
        f"{_NUBASE} (5.2714 yr)",
        lab_daughters=(((28, 60), 1.0),),
    ),
)

#: The decay table, {(Z, A): Decay}; nuclides absent from it are stable.
DECAYS: dict[Nuclide, Decay] = {d.nuclide: d for d in _TABLE}


def _key(nuclide) -> Nuclide:
    z, a = nuclide
    return (int(z), int(a))


def _check_limit(half_life_min_myr: float) -> float:
    limit = float(half_life_min_myr)
    if not limit >= 0:
        raise ValueError(f"half_life_min_myr must be >= 0, got {half_life_min_myr}")
    return limit


def decay(nuclide) -> Decay | None:
    """The :class:`Decay` of ``nuclide`` (Z, A); None if it is stable in the laboratory."""
    return DECAYS.get(_key(nuclide))


def cosmic_ray_mean_life_myr(nuclide) -> float | None:
    """Mean life [Myr] of the bare nucleus (Z, A); None if it is stable as a bare nucleus."""
    d = DECAYS.get(_key(nuclide))
    return None if d is None else d.mean_life_myr


def is_long_lived(nuclide, half_life_min_myr: float) -> bool:
    """True if ``nuclide`` is stable as a bare nucleus or its bare half-life is at least
    ``half_life_min_myr`` [Myr]."""
    limit = _check_limit(half_life_min_myr)
    d = DECAYS.get(_key(nuclide))
    return d is None or d.cosmic_ray_half_life_myr is None or d.cosmic_ray_half_life_myr >= limit


def fold(nuclide, half_life_min_myr: float) -> list[tuple[Nuclide, float]]:
    """Where ``nuclide`` ends up: [(long-lived nuclide, fraction), ...] sorted, fractions
    summing to 1.

    A long-lived nuclide (:func:`is_long_lived`) gives ``[(nuclide, 1.0)]``; a short-lived
    one follows its bare decays, with their branchings, until long-lived nuclides.
    """
    limit = _check_limit(half_life_min_myr)
    out: dict[Nuclide, float] = {}
    todo = [(_key(nuclide), 1.0, 0)]
    while todo:
        nuc, weight, depth = todo.pop()
        if depth > 10:
            raise RuntimeError(f"decay chain of {nuclide_label(_key(nuclide))} does not end")
        if is_long_lived(nuc, limit):
            out[nuc] = out.get(nuc, 0.0) + weight
            continue
        for daughter, branching in DECAYS[nuc].daughters:
            todo.append((daughter, weight * branching, depth + 1))
    return sorted(out.items())


@cache
def table_nuclides() -> frozenset[Nuclide]:
    """Every nuclide (Z >= 1) of the nuclei list (tertiary rows excepted) and of the fragment
    lists of all production tables (:data:`~galprop_py.network.cross_sections.PRODUCTION_MODELS`,
    zero rows included)."""
    from ..physics.cross_sections import read_nuclei_list
    from . import cross_sections as xs

    found = {(n.z, n.a) for n in read_nuclei_list() if n.z >= 1 and not n.is_tertiary}
    for model in xs.PRODUCTION_MODELS:
        found |= xs.listed_fragments(model)
    return frozenset(found)


def network_nuclides(z_min: int, z_max: int, half_life_min_myr: float) -> list[Nuclide]:
    """The long-lived nuclides (Z, A) with ``z_min <= Z <= z_max`` (and Z >= 1) among
    :func:`table_nuclides`, sorted by Z then A."""
    limit = _check_limit(half_life_min_myr)
    if int(z_max) < int(z_min):
        raise ValueError(f"z_max = {z_max} must be >= z_min = {z_min}")
    lo = max(int(z_min), 1)
    return sorted(
        n for n in table_nuclides() if lo <= n[0] <= int(z_max) and is_long_lived(n, limit)
    )
