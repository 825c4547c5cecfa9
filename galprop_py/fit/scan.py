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

Each sub-communicator solves its points with one :class:`galprop_py.fit.build_once.BuildCache`:
grids, decomposition, production rates and gas are built once per group when only
transport, source or modulation keys vary.

Job arrays.  A scan too large for one allocation is split into ``array_size`` contiguous
slices of the point list (slice ``k`` has the points ``k n / size .. (k + 1) n / size - 1``);
``--array-size N --array-index K`` (or ``SLURM_ARRAY_TASK_ID`` minus ``SLURM_ARRAY_TASK_MIN``
for the index) solves one slice and writes its part table, in the format of ``scan.h5`` plus
the slice's point numbers, to ``<output_dir>/scan_parts/part_<K>/`` (own lock, so the tasks
of an array can run at once).  ``galprop-py scan-merge <output_dir>`` checks that the parts
belong to one scan (same config, keys, values and slicing) and that none is missing, and
writes the one table ``scan.h5`` / ``scan.csv``: the same table the scan gives in one job
(``jobs/scan_array.sbatch``).
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
    #: the points' numbers in the whole scan (a job-array slice: a part of it)
    indices: np.ndarray | None = None
    #: every point's values of the whole scan (points, keys)
    grid_values: np.ndarray | None = None
    array_index: int | None = None
    array_size: int | None = None


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


def array_slice(n_points: int, index: int, size: int) -> range:
    """The points of job-array slice ``index`` of ``size``: a contiguous block, the blocks
    differing in length by one at most."""
    if size < 1:
        raise ConfigError(f"--array-size {size}: expected a positive number of slices")
    if size > n_points:
        raise ConfigError(
            f"--array-size {size} is more than the scan's {n_points} point(s): a slice would be "
            f"empty (allowed: 1..{n_points})"
        )
    if not 0 <= index < size:
        raise ConfigError(f"--array-index {index}: allowed 0..{size - 1} (--array-size {size})")
    return range(index * n_points // size, (index + 1) * n_points // size)


def array_index_from_env(environ=None) -> int:
    """SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN (the slice of this array task)."""
    env = os.environ if environ is None else environ
    task = env.get("SLURM_ARRAY_TASK_ID")
    if task is None:
        raise ConfigError(
            "--array-size without --array-index needs SLURM_ARRAY_TASK_ID (an array job): "
            "give --array-index"
        )
    try:
        return int(task) - int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
    except ValueError:
        raise ConfigError(f"SLURM_ARRAY_TASK_ID = {task!r}: expected an integer task id") from None


def scan(
    cfg: Config,
    varies,
    group_size: int = 1,
    comm=None,
    array_index: int | None = None,
    array_size: int | None = None,
) -> ScanTable:
    """Solve the grid of ``varies`` (``[(key, [value texts])]``, :func:`parse_vary`) on
    sub-communicators of ``group_size`` ranks of ``comm`` (an mpi4py communicator, default
    ``COMM_WORLD``); every rank gets the table.  With ``array_size``, only the slice
    ``array_index`` of the points (:func:`array_slice`)."""
    from mpi4py import MPI
    from petsc4py import PETSc

    from ..io.safety import agree
    from ..run import release_petsc_garbage
    from .build_once import BuildCache

    world = comm or MPI.COMM_WORLD
    if group_size < 1 or world.size % group_size:
        raise ConfigError(
            f"--group-size {group_size} does not divide the {world.size} rank(s) into "
            "equal sub-communicators"
        )
    keys = [k for k, _ in varies]
    grid = list(itertools.product(*[vals for _, vals in varies]))
    if array_size is None:
        todo = list(range(len(grid)))
    else:
        todo = list(array_slice(len(grid), array_index, array_size))
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
    part = "" if array_size is None else f" (slice {array_index} of {array_size}: {len(todo)})"
    info(
        f"scan {cfg.run.name!r}: {len(grid)} point(s){part} of {', '.join(keys)} on {n_sub} "
        f"sub-communicator(s) of {group_size} rank(s)"
    )
    t0 = time.perf_counter()
    mine, error = {}, None
    build = BuildCache(psub)
    try:
        for i in todo[color::n_sub]:
            t1 = time.perf_counter()
            result = build.solve(configs[i])
            if sub.rank == 0:
                mine[i] = _record(result, chi2, phis)
            del result
            if color == 0:
                shown = ", ".join(f"{k} = {v}" for k, v in zip(keys, grid[i], strict=True))
                info(f"  point {i + 1}/{len(grid)} ({shown}): {time.perf_counter() - t1:.2f} s")
    except Exception as exc:
        error = exc
    build.clear()
    del build
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
        table = _assemble(keys, [values[i] for i in todo], [records[i] for i in todo])
        if chi2 is not None:
            table.points = chi2.points()
        table.phis = phis
        table.seconds = time.perf_counter() - t0
        table.indices = np.array(todo, int)
        table.grid_values = np.array(values, float)
        table.array_index, table.array_size = array_index, array_size
    return world.bcast(table, root=0)


def _config_dict(cfg) -> dict:
    return cfg.dump() if isinstance(cfg, Config) else dict(cfg)


def write_scan(table: ScanTable, cfg: Config | dict, out_dir: Path) -> list[Path]:
    """Rank 0: ``scan.h5`` (the whole table) and ``scan.csv`` (values and chi^2); ``cfg``
    the scan's config (or its dump)."""
    import h5py

    from .. import __version__

    out_dir.mkdir(parents=True, exist_ok=True)
    h5 = out_dir / "scan.h5"
    tmp = h5.with_name(h5.name + ".tmp")
    n = len(table.values)
    indices = np.arange(n) if table.indices is None else np.asarray(table.indices, int)
    grid_values = table.values if table.grid_values is None else table.grid_values
    with h5py.File(tmp, "w") as f:
        f.attrs["code_version"] = __version__
        f.attrs["config_json"] = json.dumps(_config_dict(cfg))
        f.attrs["keys"] = json.dumps(table.keys)
        f.attrs["what"] = "one row per scan point; spectra as in the result file's /sun groups"
        f.attrs["points_total"] = len(grid_values)
        if table.array_size is not None:
            f.attrs["array_index"] = table.array_index
            f.attrs["array_size"] = table.array_size
        f.create_dataset("point", data=indices)
        f.create_dataset("grid_values", data=grid_values)
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
        for k, (i, row) in enumerate(zip(indices, table.values, strict=True)):
            chis = [float(table.chi2[n][k]) for n in names]
            w.writerow([int(i), *[repr(float(v)) for v in row], *[repr(c) for c in chis],
                        *([repr(sum(chis))] if names else [])])  # fmt: skip
    os.replace(tmp, csv_path)
    return [h5, csv_path]


def read_scan(path: Path) -> tuple[ScanTable, dict]:
    """A ``scan.h5`` (whole or a part) back as a table, and its config dict."""
    import h5py

    with h5py.File(path, "r") as f:
        keys = json.loads(f.attrs["keys"])
        table = ScanTable(
            keys=keys,
            values=np.column_stack([f[f"parameters/{k}"][...] for k in keys]),
            indices=f["point"][...],
            grid_values=f["grid_values"][...],
            array_index=int(f.attrs["array_index"]) if "array_index" in f.attrs else None,
            array_size=int(f.attrs["array_size"]) if "array_size" in f.attrs else None,
        )
        for cat in ("species", "elements", "ratios"):
            if cat in f:
                table.spectra[cat] = {
                    name: {label: ds[...] for label, ds in grp.items()}
                    for name, grp in f[cat].items()
                }
        if "chi2" in f:
            for name, ds in f["chi2"].items():
                if name != "total":
                    table.chi2[name] = ds[...]
                    table.points[name] = int(ds.attrs["points"])
            table.phis = json.loads(f["chi2"].attrs["phi_gv"])
        config = json.loads(f.attrs["config_json"])
    return table, config


PARTS_DIR = "scan_parts"


def part_directory(out_dir: Path, array_index: int) -> Path:
    """Where job-array slice ``array_index`` writes its part table."""
    return Path(out_dir) / PARTS_DIR / f"part_{array_index:05d}"


def merge_scan(directory: Path) -> tuple[ScanTable, dict]:
    """The one table of a job-array scan from the parts under ``directory/scan_parts``;
    refuses parts of different scans and a missing or doubled slice (one line)."""
    directory = Path(directory)
    paths = sorted((directory / PARTS_DIR).glob("part_*/scan.h5"))
    if not paths:
        raise FileNotFoundError(
            f"scan-merge {str(directory)!r}: no part tables {PARTS_DIR}/part_*/scan.h5 (run "
            "the array tasks with --array-size first)"
        )
    parts = [(p, *read_scan(p)) for p in paths]
    _, first, config = parts[0]
    size = first.array_size
    seen: dict[int, Path] = {}
    for path, t, c in parts:
        what = None
        if t.array_size is None:
            what = "is not a job-array part"
        elif t.array_size != size:
            what = f"is slice {t.array_index} of {t.array_size}, the first of {size}"
        elif t.keys != first.keys or not np.array_equal(t.grid_values, first.grid_values):
            what = "varies other keys or values"
        elif c != config:
            what = "has another config"
        elif t.array_index in seen:
            what = f"repeats slice {t.array_index} of {str(seen[t.array_index])!r}"
        if what is not None:
            raise ConfigError(f"scan-merge: {str(path)!r} {what}: not a part of the same scan")
        seen[t.array_index] = path
    missing = sorted(set(range(size)) - set(seen))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise ConfigError(
            f"scan-merge {str(directory)!r}: slice(s) {shown} of {size} missing (array "
            "tasks not finished or failed?)"
        )
    tables = [t for _, t, _ in sorted(parts, key=lambda x: x[1].array_index)]
    merged = ScanTable(
        keys=first.keys,
        values=np.vstack([t.values for t in tables]),
        points=dict(first.points),
        phis=dict(first.phis),
        indices=np.concatenate([t.indices for t in tables]),
        grid_values=first.grid_values,
    )
    if not np.array_equal(merged.indices, np.arange(len(first.grid_values))):
        raise ConfigError(f"scan-merge {str(directory)!r}: the parts do not cover every point")
    for cat, entries in first.spectra.items():
        merged.spectra[cat] = {
            name: {
                label: np.vstack([t.spectra[cat][name][label] for t in tables]) for label in arrays
            }
            for name, arrays in entries.items()
        }
    for name in first.chi2:
        merged.chi2[name] = np.concatenate([t.chi2[name] for t in tables])
    return merged, config
