"""What the commands ``config --toml``, ``validate``, ``info`` and ``plot`` do, and the steady
progress bar of ``run`` (:mod:`galprop_py.cli` parses the command line).

* :func:`config_toml` -- a config as a runnable TOML file: the keys the file and the overrides
  set are written, every other key (its default) as a comment, so that loading the text
  gives the same config, including which keys were given (some checks depend on that:
  ``losses.photon_fields`` only with the grey-body ISRF, explicit ``[[species]]`` beside a
  ``[network]``).  TOML 1.0 (https://toml.io/en/v1.0.0); TOML has no null, so an unset
  optional key is a comment.
* :func:`validate_command` -- the checks of a run's start (:mod:`galprop_py.checks`) and the
  model built, nothing solved: a table of grid, species, network and memory estimate.
* :func:`info_command` -- a table describing a result, checkpoint or snapshot file.
* :func:`plot_command` -- the local spectra of a result file (:mod:`galprop_py.plotting`).
* :func:`steady_progress` -- species solved / total, with the time left (rich), rank 0.

Errors are one-line ``ValueError`` / ``OSError`` (exit code 2 on the command line).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from .fit.output import toml_key, toml_value


# --- config as TOML ------------------------------------------------------------------------------
# values and keys are written by the fit's TOML writer (galprop_py.fit.output)
def _is_model(v) -> bool:
    from pydantic import BaseModel

    return isinstance(v, BaseModel)


def _table(lines: list[str], model, path: str, live: bool, array: bool = False) -> None:
    """The table of a pydantic block at ``path`` (keys first, then sub-tables); keys that
    were not given, and everything under a block not given, are comments."""
    if path:
        head = f"[[{path}]]" if array else f"[{path}]"
        lines.append(("" if live else "# ") + head)
    dump = model.model_dump(mode="json")
    given = model.model_fields_set
    subs = []
    for name in type(model).model_fields:
        v = getattr(model, name)
        on = live and name in given
        full = f"{path}.{toml_key(name)}" if path else toml_key(name)
        if _is_model(v):
            subs.append(("table", v, full, on))
        elif isinstance(v, list) and v and all(_is_model(x) for x in v):
            subs.append(("array", v, full, on))
        elif isinstance(v, dict) and v and all(_is_model(x) for x in v.values()):
            subs.append(("dict", v, full, on))
        elif dump[name] is None:
            lines.append(f"# {toml_key(name)} = (unset)")
        else:
            lines.append(("" if on else "# ") + f"{toml_key(name)} = {toml_value(dump[name])}")
    for kind, v, full, on in subs:
        lines.append("")
        if kind == "table":
            _table(lines, v, full, on)
        elif kind == "array":
            for i, item in enumerate(v):
                if i:
                    lines.append("")
                _table(lines, item, full, on, array=True)
        else:
            lines.append(("" if on else "# ") + f"[{full}]")
            for k, item in v.items():
                _table(lines, item, f"{full}.{toml_key(k)}", on)


def config_toml(cfg, req=None) -> str:
    """``cfg`` as a runnable TOML text (module docstring)."""
    from . import __version__

    source = (req.config if req is not None else None) or "the built-in Milky Way model"
    head = [
        f"# galprop-py {__version__}: resolved config of {source}",
        "# (keys not given there are comments showing their defaults)",
    ]
    if req is not None and req.overrides:
        head.append(f"# overrides: {' '.join(req.overrides)}")
    lines: list[str] = []
    _table(lines, cfg, "", True)
    return "\n".join(head) + "\n" + "\n".join(lines).strip("\n") + "\n"


# --- tables --------------------------------------------------------------------------------------
def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column rich table on stdout (plain text when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for k, v in rows:
        table.add_row(k, v)
    Console(width=100 if not _isatty() else None).print(table)


def _isatty() -> bool:
    import sys

    return sys.stdout.isatty()


def _names(names, most: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:most]) + (f", ... ({len(names)} in all)" if len(names) > most else "")
    return shown or "none"


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB" if n >= 1e9 else f"{n / 1e6:.3g} MB"


# --- validate ------------------------------------------------------------------------------------
def validate_summary(cfg, comm) -> list[tuple[str, str]]:
    """Every check of a run's start and the model built, nothing solved; the rows of the
    table (collective: every rank calls it)."""
    from petsc4py import PETSc

    from . import checks
    from .decomposition import Decomposition
    from .io.hdf5 import dataset_bytes
    from .models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid
    from .network.build import species_blocks

    checks.check_request(cfg, None, comm)
    n_blocks = len(species_blocks(cfg))
    checks.check_size(cfg, n_blocks, comm)
    grid = build_spatial_grid(cfg)
    mgrid = build_momentum_grid(cfg)
    model = GalaxyModel(cfg, grid, mgrid)
    decomp = Decomposition(grid, mgrid.n, PETSc.COMM_WORLD)
    checks.check_model(cfg, model, decomp)
    names = [s.name for s in model.species]
    net = model.network
    cycles = [g for g in net.groups if len(g) > 1]
    channels = sum(len(c) for c in net.channels.values())
    unknowns = int(np.prod(grid.shape)) * mgrid.n
    per_rank = checks.estimate_bytes_per_rank(cfg, grid.shape, mgrid.n, len(names), comm.size)
    extent = ", ".join(
        f"{ax.name} {ax.edges[0]:g}..{ax.edges[-1]:g} kpc ({ax.centers.size} cells)"
        for ax in grid.axes
    )
    nodes = mgrid.nodes
    unit = "GeV/n" if mgrid.axis == "kinetic_energy_per_nucleon" else "GV"
    rows = [
        ("run", f"{cfg.run.name!r}, mode {cfg.run.mode}, output {cfg.run.output_dir!r}"),
        ("grid", f"{grid.geometry} {tuple(grid.shape)}: {extent}"),
        ("momentum", f"{mgrid.axis}, {mgrid.n} nodes {nodes[0]:g}..{nodes[-1]:g} {unit}"),
        ("species", f"{len(names)}: {_names(names)}"),
        (
            "network",
            f"{len(net.groups)} solve groups ({len(cycles)} cycles), {channels} production "
            "channels",
        ),
        ("unknowns", f"{unknowns:.4g} per species, {unknowns * len(names):.4g} in all"),
        ("memory", f"about {_gb(per_rank)} per rank on {comm.size} rank(s) (estimate)"),
        ("result file", f"about {_gb(dataset_bytes(decomp, len(names)))}"),
    ]
    decomp.da.destroy()
    return rows


def validate_command(cfg, req, comm) -> int:
    rows = validate_summary(cfg, comm)
    if comm.rank == 0:
        print_table(f"config OK: {req.config or 'the built-in Milky Way model'}", rows)
    return 0


# --- info ----------------------------------------------------------------------------------------
def _galprop_file(path: str):
    """An open galprop-py HDF5 file (h5py, read-only), or a one-line error."""
    import h5py

    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{path!r} is a directory, not a galprop-py file")
    if not p.is_file():
        raise FileNotFoundError(f"file {path!r} not found")
    if not h5py.is_hdf5(p):
        raise ValueError(
            f"{path!r} is not an HDF5 file (galprop-py results, checkpoints and snapshots are)"
        )
    h5 = h5py.File(p, "r")
    if h5.attrs.get("code") != "galprop-py":
        h5.close()
        raise ValueError(f"{path!r} is an HDF5 file that galprop-py did not write (no code attr)")
    return h5


def _attr(v):
    return v.decode() if isinstance(v, bytes) else (v.item() if hasattr(v, "item") else v)


def file_info(path: str) -> tuple[str, list[tuple[str, str]]]:
    """Title and rows describing a galprop-py file (module docstring)."""
    with _galprop_file(path) as h5:
        a = {k: _attr(v) for k, v in h5.attrs.items()}
        kind = a.get("content") or ("checkpoint" if "state" in h5 else "result")
        if kind == "checkpoint":
            species = json.loads(a["species"]) if "species" in a else sorted(h5.get("state", {}))
        else:
            species = sorted(h5.get("species", {}))
        rows = [
            ("kind", str(kind)),
            ("written by", f"galprop-py {a.get('code_version', '?')} on "
             f"{a.get('mpi_ranks_written', '?')} rank(s)"),
            ("run", repr(a.get("run_name", ""))),
            ("species", f"{len(species)}: {_names(species)}"),
        ]  # fmt: skip
        if "grid" in h5:
            g = h5["grid"]
            axes = [x for x in str(_attr(g.attrs.get("axes", ""))).split(",") if x]
            parts = []
            for ax in axes:
                e = h5[f"grid/{ax}_edges"][...]
                parts.append(f"{ax} {e[0]:g}..{e[-1]:g} kpc ({e.size - 1} cells)")
            rows.append(("grid", f"{_attr(g.attrs.get('geometry', '?'))}: {', '.join(parts)}"))
        if "momentum/nodes" in h5:
            m = h5["momentum/nodes"]
            x = m[...]
            unit = _attr(m.attrs.get("unit", ""))
            rows.append(
                ("momentum", f"{_attr(m.attrs.get('axis', '?'))}, {x.size} nodes "
                 f"{x[0]:g}..{x[-1]:g} {unit}".rstrip())
            )  # fmt: skip
        if kind == "checkpoint" and "clock" in h5:
            c = {k: _attr(v) for k, v in h5["clock"].attrs.items()}
            when = f"t = {c.get('t_myr', float('nan')):g} Myr, step {c.get('step', '?')}"
            if "scheme" in c:
                when += f", {c['scheme']} dt = {c.get('dt_myr', float('nan')):g} Myr"
            rows.append(("time", when))
        elif kind == "snapshot":
            rows.append(("time", f"t = {a.get('t_myr', float('nan')):g} Myr, step "
                         f"{a.get('step', '?')}"))  # fmt: skip
        else:
            t = a.get("t_myr", -1.0)
            rows.append(("time", "steady state" if t < 0 else f"t = {t:g} Myr"))
        if kind == "result":
            rows.append(("normalised by", f"{a.get('normalisation_factor', 1.0):.6g}"))
            el = sorted(h5.get("sun/elements", {}))
            ra = sorted(h5.get("sun/ratios", {}))
            rows.append(("elements", _names(el)))
            rows.append(("ratios", _names(ra)))
            rows.append(("dimensions", "named (xarray-readable)" if "Conventions" in a else
                         "unnamed (older file)"))  # fmt: skip
        rows += _config_rows(a.get("config_json"))
    return f"{path}: galprop-py {kind}", rows


def _config_rows(text) -> list[tuple[str, str]]:
    if not text:
        return []
    try:
        c = json.loads(text)
    except ValueError:
        return [("config", "unreadable config_json")]
    d, n, net = c.get("diffusion", {}), c.get("normalization", {}), c.get("network")
    rows = [
        ("mode", str(c.get("run", {}).get("mode", "?"))),
        (
            "diffusion",
            f"{d.get('model', 'power_law')}, D0 = {d.get('d0_cm2_s', float('nan')):g} cm^2/s, "
            f"delta = {d.get('delta', float('nan')):g}",
        ),
        (
            "normalisation",
            f"{n.get('species')} at {n.get('t_n_gev'):g} GeV/n to {n.get('flux'):g}"
            if n.get("enabled", True)
            else "off (source units)",
        ),
        ("modulation", _modulation_row(c.get("modulation", {}))),
    ]
    if net:
        rows.append(("network", f"Z = {net.get('z_min')}..{net.get('z_max')}"))
    return rows


def info_command(path: str, comm) -> int:
    from .io.safety import on_rank0

    title, rows = on_rank0(comm, file_info, path)
    if comm.rank == 0:
        print_table(title, rows)
    return 0


# --- plot ----------------------------------------------------------------------------------------
def _plot(path: str, species, ratios, rigidity: bool, output: str | None) -> Path:
    from .plotting import plot_network, plot_spectra
    from .spectra import read_local

    with _galprop_file(path) as h5:
        kind = _attr(h5.attrs.get("content", "result"))
        name = _attr(h5.attrs.get("run_name", ""))
    if kind != "result":
        raise ValueError(f"{path!r} is a {kind}, not a result file: plot takes result files")
    spectra = read_local(path)
    out = Path(output) if output else Path(path).with_name(Path(path).stem + "_spectra.png")
    if out.is_dir():
        raise ValueError(f"--output {str(out)!r} is a directory, not a PNG file")
    for s in species:
        if s not in spectra:
            raise ValueError(f"--species {s!r}: not in {path!r} (it has {_names(spectra)})")
    for r in ratios:
        parts = r.split("/")
        if r not in spectra and not (len(parts) == 2 and all(p in spectra for p in parts)):
            have = [k for k in spectra if "/" in k] or ["none"]
            raise ValueError(
                f"--ratio {r!r}: not in {path!r} and not both parts there (ratios: {_names(have)})"
            )
    if not species and not ratios:
        if any(e in spectra for e in ("B", "C", "O")):
            return plot_network(spectra, out, title=name)
        species = [s for s in ("H1", "He4", "electron", "positron") if s in spectra]
        ratios = [r for r in ("B/C",) if all(e in spectra for e in r.split("/"))]
        species = species or [k for k in spectra if "/" not in k][:4]
    if not rigidity:
        keep = ("t_n", "lis", "toa")
        spectra = {k: {q: v for q, v in e.items() if q in keep} for k, e in spectra.items()}
    return plot_spectra(spectra, list(species), out, ratios=list(ratios), title=name)


def parse_region(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """``"L1,L2,B1,B2"`` [deg] -> ((l1, l2), (b1, b2)); ValueError naming --region."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ValueError(f"--region {text!r}: allowed four numbers L1,L2,B1,B2 in degrees")
    return (values[0], values[1]), (values[2], values[3])


def _plot_emission(path: str, process, energy_gev: float, region, output) -> Path:
    """A sky map (--map) or a region spectrum (--region) of a result file's /emission."""
    from .emission.plot_maps import plot_map, plot_region_spectrum

    with _galprop_file(path) as h5:
        groups = [g for g in ("emission/maps", "emission/synchrotron_maps") if g in h5]
        have = {g: sorted(k for k in h5[g] if "nside" in h5[g][k].attrs) for g in groups}
    if not groups:
        raise ValueError(
            f"{path!r} holds no sky maps (run with [emission] enabled = true, maps = true)"
        )
    stem = Path(path).stem
    if region is not None:
        l_range, b_range = parse_region(region)
        out = Path(output) if output else Path(path).with_name(f"{stem}_region.png")
        return plot_region_spectrum(path, out, l_range, b_range, group="emission/maps")
    found = [g for g, names in have.items() if process in names]
    if not found:
        names = sorted(n for v in have.values() for n in v)
        raise ValueError(f"--map {process!r}: not in {path!r}; allowed {', '.join(names)}")
    out = Path(output) if output else Path(path).with_name(f"{stem}_{process}_map.png")
    return plot_map(path, process, energy_gev, out, group=found[0])


def plot_command(req, comm) -> int:
    from .io.safety import on_rank0
    from .messages import info

    if req.map_process is not None or req.region is not None:
        png = on_rank0(
            comm, _plot_emission, req.file, req.map_process, req.energy_gev, req.region,
            req.output,
        )  # fmt: skip
        info(f"plot written: {png}")
        return 0
    png = on_rank0(comm, _plot, req.file, req.species, req.ratios, req.rigidity, req.output)
    info(f"plot written: {png}")
    return 0


# --- progress ------------------------------------------------------------------------------------
@contextlib.contextmanager
def steady_progress(enabled: bool):
    """A progress bar of the species solved in a steady run while the block runs (the rich
    ``Progress``, or None when not ``enabled``: call it so on rank 0 only).

    It listens to :data:`galprop_py.solvers.network.PROGRESS` (told before and after each
    species' solve) while the block runs: the solve itself is untouched."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from .solvers import network

    bar = Progress(
        TextColumn("species {task.description:>10s}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    state = {"task": None}

    def report(name, solved, total):
        if state["task"] is None:
            state["task"] = bar.add_task("", total=total)
        bar.update(state["task"], description=name, completed=solved)

    network.PROGRESS.append(report)
    try:
        with bar:
            yield bar
    finally:
        network.PROGRESS.remove(report)


def _modulation_row(m: dict) -> str:
    if m.get("model") == "spherical_parker":
        p = m.get("spherical_parker", {})
        return (
            f"spherical Parker, kappa0 = {p.get('kappa0_cm2_s', float('nan')):g} cm^2/s, "
            f"V = {p.get('v_sw_km_s', float('nan')):g} km/s, r_hp = {p.get('r_hp_au', 0):g} AU"
        )
    negative = m.get("phi_negative_gv")
    extra = "" if negative is None else f" ({negative:g} GV for negative charges)"
    return f"force field phi = {m.get('phi_gv', 0):g} GV{extra}"
