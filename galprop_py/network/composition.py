"""Isotopic source compositions of the network, by name or from a user file.

Named compositions (:data:`COMPOSITIONS`):

* ``"lodders2003"``: present-day solar-system isotopic abundances of Lodders 2003 (ApJ 591,
  1220), by number relative to Si = 1e6, from ``solarsystem_abundances2003.txt`` (a copy in
  ``galprop_py/data/nuclear/``; crams data, MIT licence).  Rows ``isotope  fraction[%]
  abundance``; antiparticle rows (``H-bar``, ``2H-bar``) and the element totals (``-->``)
  are skipped.  The table has no tertiary rows.

Radioactive isotopes in the solar-system table
    The table lists the present-day abundances of primordial radioactive nuclides (40K,
    48Ca, 50V, 87Rb, 138La, 147Sm, 176Lu, 187Re, 232Th, 235U, 238U, ...), all with half-lives
    of 1e8 yr or more.  They are returned as tabulated: no decay correction and no transfer
    to daughters.  Whether a nuclide gets a source is decided by the network, which keeps
    only long-lived nuclides (:func:`galprop_py.network.nuclides.network_nuclides`); at the
    default limits all of these are long-lived.  No short-lived nuclide is in the table.

User files: a text file with one ``Z, A, abundance`` line per isotope (any relative unit,
e.g. Si = 1e6); blank lines and ``#`` comments are ignored, as is a first line
``Z, A, abundance``.  Z >= 1, A >= Z, abundance finite and >= 0, no isotope twice; a bad
line raises ValueError naming the file, the line and the problem.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from pathlib import Path

from .nuclides import ELEMENT_SYMBOLS, Nuclide

#: Named compositions: name -> reference.
COMPOSITIONS: dict[str, str] = {
    "lodders2003": "Lodders 2003, ApJ 591, 1220: present-day solar-system isotopic "
    "abundances, by number, Si = 1e6 (solarsystem_abundances2003.txt, crams data)",
}

_SOLAR_FILE = "solarsystem_abundances2003.txt"


def _parse_isotope(label: str) -> Nuclide:
    digits = len(label) - len(label.lstrip("0123456789"))
    a, symbol = label[:digits], label[digits:]
    if not a or symbol not in ELEMENT_SYMBOLS:
        raise ValueError(f"isotope {label!r} not understood (expected e.g. '12C')")
    return ELEMENT_SYMBOLS.index(symbol) + 1, int(a)


def read_solar_system_2003(path: str | Path | None = None) -> dict[Nuclide, float]:
    """Isotopic abundances {(Z, A): N} by number, Si = 1e6 (Lodders 2003), from
    ``solarsystem_abundances2003.txt`` (the packaged copy unless ``path`` is given)."""
    if path is None:
        return dict(_packaged_solar_system())
    return _parse_solar_system(Path(path).read_text(encoding="utf-8"), str(path))


@cache
def _packaged_solar_system() -> tuple[tuple[Nuclide, float], ...]:
    res = resources.files("galprop_py") / "data" / "nuclear" / _SOLAR_FILE
    return tuple(_parse_solar_system(res.read_text(encoding="utf-8"), _SOLAR_FILE).items())


def _parse_solar_system(text: str, source: str) -> dict[Nuclide, float]:
    out: dict[Nuclide, float] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#") or fields[0] == "-->":
            continue
        if fields[0].endswith("-bar"):  # antiparticles
            continue
        if len(fields) != 3:
            raise ValueError(f"{source}: line {lineno}: expected 3 columns, found {len(fields)}")
        try:
            nuclide = _parse_isotope(fields[0])
            abundance = float(fields[2])
        except ValueError as exc:
            raise ValueError(f"{source}: line {lineno}: {exc}") from None
        if nuclide in out:
            raise ValueError(f"{source}: line {lineno}: {fields[0]} listed twice")
        out[nuclide] = abundance
    return out


def read_composition_file(path: str | Path) -> dict[Nuclide, float]:
    """A user composition file of ``Z, A, abundance`` lines (see the module docstring)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    out: dict[Nuclide, float] = {}
    first = True
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        fields = [f.strip() for f in s.split(",")]
        if first and [f.lower() for f in fields] == ["z", "a", "abundance"]:
            first = False
            continue
        first = False

        def bad(problem: str, lineno: int = lineno) -> ValueError:
            return ValueError(f"composition file {path}: line {lineno}: {problem}")

        if len(fields) != 3:
            raise bad(f"expected 3 comma-separated columns 'Z, A, abundance', found {len(fields)}")
        try:
            z, a = int(fields[0]), int(fields[1])
        except ValueError:
            raise bad(f"Z and A must be integers, got {fields[0]!r}, {fields[1]!r}") from None
        try:
            x = float(fields[2])
        except ValueError:
            raise bad(f"abundance must be a number, got {fields[2]!r}") from None
        if z < 1 or a < z:
            raise bad(f"Z = {z}, A = {a} is not a nucleus (need Z >= 1 and A >= Z)")
        if not math.isfinite(x) or x < 0:
            raise bad(f"abundance must be finite and >= 0, got {fields[2]}")
        if (z, a) in out:
            raise bad(f"Z = {z}, A = {a} listed twice")
        out[(z, a)] = x
    if not out:
        raise ValueError(f"composition file {path}: no 'Z, A, abundance' lines")
    return out


def composition(name_or_path: str) -> dict[Nuclide, float]:
    """Isotopic abundances {(Z, A): N}: a name of :data:`COMPOSITIONS` or the path of a user
    ``Z, A, abundance`` file."""
    if name_or_path in _LOADERS:
        return _LOADERS[name_or_path]()
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(
            f"composition {name_or_path!r} is neither a known name ({', '.join(COMPOSITIONS)}) "
            "nor an existing file"
        )
    return read_composition_file(path)


_LOADERS = {"lodders2003": read_solar_system_2003}
