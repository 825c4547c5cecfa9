"""A grid of parameter values, one model per MPI sub-communicator, one table.

``galprop-py scan CONFIG --vary diffusion.delta=0.4,0.5 --vary diffusion.d0_cm2_s=3e28,5e28``
solves every combination (the last key varies fastest).  The ranks are split into
sub-communicators of ``group_size`` ranks (``MPI_Comm_split``); sub-communicator ``c`` of
``n`` solves the points ``c, c + n, c + 2n, ...``, each with all its ranks
(:func:`galprop_py.run.run` with that communicator).  On 2 ranks with ``group_size = 1``,
two models are solved at once.

The table (rank 0 writes it, ``<output_dir>/scan.h5`` and a summary ``scan.csv``) has per
point the varied values, the local spectra and ratios at the Sun (the datasets and units of
the result file, with the point as the first axis) and, where the config has a ``[fit]``
block, chi^2 per dataset at the potentials' initial values (re-modulated,
:mod:`galprop_py.fit.chi2`).  It does not depend on how the points were distributed.
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomllib

from ..config import Config, ConfigError, apply_overrides, config_from_dict
from ..messages import info

#: result-file names of a local spectrum's arrays (``what`` = flux or ratio)
_FIELDS = {
    "t_n": "kinetic_energy_per_nucleon",
    "rigidity": "rigidity",
    "lis": "{what}_lis",
    "toa": "{what}_toa",
    "lis_r": "{what}_lis_rigidity",
    "toa_r": "{what}_toa_rigidity",
}


def _number(text: str) -> float | None:
    """A value as TOML reads it, if it is a number (not a boolean)."""
    try:
        v = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return None
    return None if isinstance(v, bool) or not isinstance(v, int | float) else float(v)


def parse_vary(items: list[str]) -> list[tuple[str, list[str]]]:
    """``["key=v1,v2", ...]`` -> ``[(key, ["v1", "v2"]), ...]``; each value a number."""
    out = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        values = [v.strip() for v in text.split(",")]
        if not sep or not key or not all(values):
            raise ConfigError(f"--vary {item!r}: expected key=value1,value2,...")
        for v in values:
            if _number(v) is None:
                raise ConfigError(f"--vary {item!r}: value {v!r} is not a number")
        if any(key == k for k, _ in out):
            raise ConfigError(f"--vary {key!r} is given twice")
        out.append((key, values))
    if not out:
        raise ConfigError("scan: give at least one --vary key=value1,value2,...")
    return out


@dataclass
class ScanTable:
    """One scan: ``values[i]`` are point i's varied values (in ``keys`` order)."""

    keys: list[str]
    values: np.ndarray  # (points, keys)
    #: "species" / "elements" / "ratios" -> name -> result-file dataset name -> (points, n)
    spectra: dict[str, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)
    chi2: dict[str, np.ndarray] = field(default_factory=dict)  # dataset -> (points,)
    points: dict[str, int] = field(default_factory=dict)  # dataset -> data points
    phis: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _record(result, chi2, phis) -> dict:
    """The local spectra (and chi^2) of one solved point."""
    from .chi2 import LocalSpectra

    rec = {
        "species": {n: dict(s) for n, s in result.sun_spectra.items()},
        "elements": {n: dict(s) for n, s in result.elements.items()},
        "ratios": {n: dict(s) for n, s in result.ratios.items()},
        "chi2": {},
    }
    if chi2 is not None:
        rec["chi2"] = chi2.chi2(LocalSpectra.from_result(result), phis)
    return rec


def _assemble(keys, values, records) -> ScanTable:
    table = ScanTable(keys=keys, values=np.array(values, float))
    first = records[0]
    for cat, what in (("species", "flux"), ("elements", "flux"), ("ratios", "ratio")):
        table.spectra[cat] = {}
        for name in first[cat]:
            entry = {}
            for key, label in _FIELDS.items():
                rows = [np.asarray(r[cat][name][key], float) for r in records if name in r[cat]]
                if len(rows) != len(records) or len({row.shape for row in rows}) != 1:
                    raise ValueError(
                        f"scan: {cat[:-1]} {name!r} has different grids (or is missing) between "
                        "points; vary grid and momentum keys in separate scans"
                    )
                entry[label.format(what=what)] = np.vstack(rows)
            table.spectra[cat][name] = entry
    for name in first["chi2"]:
        table.chi2[name] = np.array([r["chi2"][name] for r in records], float)
    return table


def scan(cfg: Config, varies, group_size: int = 1, comm=None) -> ScanTable:
    """Solve the grid of ``varies`` (``[(key, [value texts])]``, :func:`parse_vary`) on
    sub-communicators of ``group_size`` ranks of ``comm`` (an mpi4py communicator, default
    ``COMM_WORLD``); every rank gets the table."""
    from mpi4py import MPI
    from petsc4py import PETSc

    from ..io.safety import agree
    from ..run import release_petsc_garbage, run

    world = comm or MPI.COMM_WORLD
    if group_size < 1 or world.size % group_size:
        raise ConfigError(
            f"--group-size {group_size} does not divide the {world.size} rank(s) into "
            "equal sub-communicators"
        )
    keys = [k for k, _ in varies]
    grid = list(itertools.product(*[vals for _, vals in varies]))
    base = cfg.dump()
    base["output"]["plot"] = False
    configs = []
    for point in grid:
        over = [f"{k}={v}" for k, v in zip(keys, point, strict=True)]
        try:
            configs.append(config_from_dict(apply_overrides(copy.deepcopy(base), over)))
        except ConfigError as exc:
            raise ConfigError(f"scan point {', '.join(over)}: {exc}") from None
    chi2, phis = None, {}
    if cfg.fit is not None:
        from .chi2 import Chi2

        chi2 = Chi2(cfg.fit)
        phis = {g: m.initial for g, m in cfg.fit.modulation.items()}
    n_sub = world.size // group_size
    color = world.rank // group_size
    sub = world.Split(color, world.rank)
    psub = PETSc.Comm(sub)
    info(
        f"scan {cfg.run.name!r}: {len(grid)} point(s) of {', '.join(keys)} on {n_sub} "
        f"sub-communicator(s) of {group_size} rank(s)"
    )
    t0 = time.perf_counter()
    mine, error = {}, None
    try:
        for i in range(color, len(grid), n_sub):
            t1 = time.perf_counter()
            result = run(configs[i], comm=psub, progress=False, write_output=False)
            if sub.rank == 0:
                mine[i] = _record(result, chi2, phis)
            del result
            if color == 0:
                shown = ", ".join(f"{k} = {v}" for k, v in zip(keys, grid[i], strict=True))
                info(f"  point {i + 1}/{len(grid)} ({shown}): {time.perf_counter() - t1:.2f} s")
    except Exception as exc:
        error = exc
    release_petsc_garbage(psub)
    sub.Free()
    agree(world, error)
    parts = world.gather(mine, root=0)
    table = None
    if world.rank == 0:
        records = {}
        for part in parts:
            records.update(part)
        values = [[_number(v) for v in point] for point in grid]
        table = _assemble(keys, values, [records[i] for i in range(len(grid))])
        if chi2 is not None:
            table.points = chi2.points()
        table.phis = phis
        table.seconds = time.perf_counter() - t0
    return world.bcast(table, root=0)


def write_scan(table: ScanTable, cfg: Config, out_dir: Path) -> list[Path]:
    """Rank 0: ``scan.h5`` (the whole table) and ``scan.csv`` (values and chi^2)."""
    import h5py

    from .. import __version__

    out_dir.mkdir(parents=True, exist_ok=True)
    h5 = out_dir / "scan.h5"
    tmp = h5.with_name(h5.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["code_version"] = __version__
        f.attrs["config_json"] = json.dumps(cfg.dump())
        f.attrs["keys"] = json.dumps(table.keys)
        f.attrs["what"] = "one row per scan point; spectra as in the result file's /sun groups"
        for j, key in enumerate(table.keys):
            f.create_dataset(f"parameters/{key}", data=table.values[:, j])
        for cat, entries in table.spectra.items():
            for name, arrays in entries.items():
                for label, arr in arrays.items():
                    f.create_dataset(f"{cat}/{name}/{label}", data=arr)
        if table.chi2:
            for name, arr in table.chi2.items():
                ds = f.create_dataset(f"chi2/{name}", data=arr)
                ds.attrs["points"] = table.points.get(name, 0)
            f.create_dataset("chi2/total", data=sum(table.chi2.values()))
            f["chi2"].attrs["phi_gv"] = json.dumps(table.phis)
    os.replace(tmp, h5)
    csv_path = out_dir / "scan.csv"
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        names = list(table.chi2)
        total = ["chi2_total"] if names else []
        w.writerow(["point", *table.keys, *[f"chi2_{n}" for n in names], *total])
        for i, row in enumerate(table.values):
            chis = [float(table.chi2[n][i]) for n in names]
            w.writerow([i, *[repr(float(v)) for v in row], *[repr(c) for c in chis],
                        *([repr(sum(chis))] if names else [])])  # fmt: skip
    os.replace(tmp, csv_path)
    return [h5, csv_path]
