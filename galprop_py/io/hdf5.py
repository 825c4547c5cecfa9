"""HDF5 files holding global datasets, written collectively by all ranks.

Every rank writes its owned box of a global dataset (physical axis order, momentum last), so a
file is independent of the number of ranks that wrote it and a checkpoint can be read back on
any other number of ranks.  With an h5py built without MPI (e.g. a laptop wheel) the data are
gathered to rank 0, which writes the same layout.

Nothing is lost and nothing hangs:

* Every file a run writes (result, snapshot, checkpoint) is written to ``<name>.tmp`` and
  renamed over the previous file only once it is complete and closed (:func:`atomic_file`), so
  a run that fails or is killed leaves the previous file intact.  The free space is checked
  before writing, and a small reserve is held beside the file while it is written: HDF5 1.10
  can crash closing a file whose flush failed, so on a full disk the reserve is freed first.
* Every HDF5 call of :class:`ParallelFile` is checked on every rank
  (:func:`galprop_py.io.safety.agree`): a write that fails on one rank (a full disk) stops all
  ranks with the same one-line message, and the file is closed on all of them.  Metadata
  (datasets, attributes) and data are separate checked steps, so that a failed data write
  never leaves the ranks' metadata different (the collective close would wait for ever).
* A checkpoint records what it belongs to (:class:`RunIdentity`: the grid's cell edges, the
  momentum grid, the species, the physics of the config and its SHA-256) and every dataset
  carries a Fletcher32 checksum (metadata: the checksums of the HDF5 1.10 format); a restart
  is refused with one line naming the first difference, or the damaged dataset.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
from mpi4py import MPI

from .. import __version__
from .safety import (
    agree,
    check_free_space,
    every_rank,
    free_bytes,
    is_agreed,
    on_rank0,
    one_line,
)

PARALLEL_H5PY = bool(h5py.get_config().mpi)

#: config blocks that do not change the evolving state: a restart may change them
NOT_PHYSICS = ("run", "output", "solver", "time", "modulation", "normalization")


def _as_file_error(exc: Exception, directory: Path | None = None) -> Exception:
    """HDF5 reports file problems as OSError, RuntimeError, ValueError or KeyError: all are
    file errors here (an OSError, exit code 2 on the command line); anything else is a bug.
    MPI-IO does not say why a write failed: a nearly full file system is named."""
    if not isinstance(exc, OSError | RuntimeError | ValueError | KeyError):
        return exc
    text = one_line(exc)
    if directory is not None and "No space left" not in text:
        free = free_bytes(directory)
        if free is not None and free < RESERVE_MIN_BYTES + 1.0e6:
            text += f" (the file system is full: {free / 1e6:.3g} MB free in {str(directory)!r})"
    return exc if isinstance(exc, OSError) and text == one_line(exc) else OSError(text)


class ParallelFile:
    """An HDF5 file open on every rank of ``comm`` (context manager).

    Every method is collective: all ranks call it in the same order; an error on any rank
    is raised on every rank (one line, naming ``what``).  ``checksums``: chunked datasets
    with Fletcher32 checksums (and the checksummed metadata of the 1.10 file format)."""

    def __init__(
        self,
        path: str | Path,
        mode: str,
        comm=None,
        what: str | None = None,
        checksums: bool = False,
        on_failure=None,
    ):
        self.comm = comm or MPI.COMM_WORLD
        self.path = Path(path)
        self.what = what or f"the file {str(self.path)!r}"
        self.parallel = PARALLEL_H5PY and self.comm.size > 1
        self.checksums = checksums
        self.on_failure = on_failure  # rank 0, before closing a file whose writing failed
        self.h5 = None
        if mode in ("w", "a"):
            parent = self.path.parent

            def mkdir():
                try:
                    parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise OSError(
                        f"cannot create the output directory {str(parent)!r}: {exc}"
                    ) from None

            on_rank0(self.comm, mkdir)
        kwargs = {"libver": ("v110", "latest")} if checksums and mode == "w" else {}
        error = None
        try:
            if self.parallel:
                self.h5 = h5py.File(self.path, mode, driver="mpio", comm=self.comm, **kwargs)
            elif self.comm.rank == 0 or mode == "r":
                self.h5 = h5py.File(self.path, mode, **kwargs)
        except Exception as exc:
            error = _as_file_error(exc)
        try:
            agree(self.comm, error, f"cannot open {self.what}")
        except Exception:
            if self.h5 is not None and not self.parallel:
                self.h5.close()
            self.h5 = None  # a parallel handle open on some ranks only is left alone
            raise

    def __enter__(self) -> ParallelFile:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
        elif is_agreed(exc) or self.comm.size == 1:
            self._abandon()  # every rank is here: the collective close is safe
        elif not self.parallel and self.h5 is not None:
            self._abandon()  # a rank-local error: no collective call while it propagates

    def _abandon(self) -> None:
        """Close a file whose writing failed.  HDF5 1.10 can crash when it closes a file
        whose last flush failed for want of space: ``on_failure`` (rank 0) frees the space
        reserved for this (:func:`atomic_file`) first."""
        if self.on_failure is not None and self.comm.rank == 0:
            try:
                self.on_failure()
            except Exception:
                pass
        try:
            if self.h5 is not None:
                self.h5.close()
        except Exception:
            pass
        self.h5 = None

    def close(self) -> None:
        def flush():
            if self.h5 is not None and self.h5.mode != "r":
                self.h5.flush()

        try:
            self._checked(flush)  # a full disk shows here, while the file is still sound
        except BaseException:
            self._abandon()
            raise
        error = None
        try:
            if self.h5 is not None:
                self.h5.close()
        except Exception as exc:
            error = _as_file_error(exc)
        self.h5 = None
        agree(self.comm, error, f"cannot write {self.what}")

    def _checked(self, action, *args):
        """``action(*args)`` on every rank, its outcome checked by all (module docstring)."""
        value, error = None, None
        try:
            value = action(*args)
        except Exception as exc:
            error = _as_file_error(exc, self.path.parent)
        agree(self.comm, error, f"cannot write {self.what}")
        return value

    def _create(self, name: str, shape, dtype):
        opts = {}
        if self.checksums and len(shape) > 0:
            opts = {"chunks": True, "fletcher32": True}
        return self.h5.create_dataset(name, shape=shape, dtype=dtype, **opts)

    # --- writing (collective: every rank calls every method in the same order) -----------------
    def write_attrs(self, group: str, attrs: dict) -> None:
        def action():
            if self.h5 is None:
                return
            g = self.h5.require_group(group)
            for k, v in attrs.items():
                g.attrs[k] = v

        self._checked(action)

    def write_small(self, name: str, data, attrs: dict | None = None) -> None:
        """A dataset that every rank holds in full (axes, spectra at the Sun).

        Metadata (the dataset and its attributes, the same on every rank) and data are
        separate checked steps: a failed data write on one rank must not leave the ranks'
        metadata different, or the collective close would wait for ever."""
        data = np.asarray(data)

        def create():
            if self.h5 is None:
                return None
            dset = self._create(name, data.shape, data.dtype)
            for k, v in (attrs or {}).items():
                dset.attrs[k] = v
            return dset

        dset = self._checked(create)

        def write():
            if dset is None:
                return
            if self.parallel and self.checksums:
                with dset.collective:  # filtered datasets take collective writes only
                    dset[...] = data  # the same values from every rank
            elif not self.parallel or self.comm.rank == 0:
                dset[...] = data

        self._checked(write)

    def write_distributed(self, name: str, decomp, local: np.ndarray, attrs=None) -> None:
        """Write the rank-local array (DMDA layout) into a global dataset (physical order)."""
        phys = np.ascontiguousarray(decomp.to_physical(local))
        extra = phys.shape[decomp.grid.dim :]
        shape = tuple(decomp.grid.shape) + tuple(extra)
        sl = decomp.global_slices()

        def create():
            if self.h5 is None:
                return None
            dset = self._create(name, shape, "f8")
            for k, v in (attrs or {}).items():
                dset.attrs[k] = v
            return dset

        dset = self._checked(create)  # metadata first, the same on every rank
        if self.parallel:

            def write():
                with dset.collective:
                    dset[sl] = phys

            self._checked(write)
        else:
            pieces = self.comm.gather((sl, phys), root=0)

            def write_all():
                if dset is not None:
                    for s, arr in pieces:
                        dset[s] = arr

            self._checked(write_all)

    # --- reading (each rank on its own: wrap in galprop_py.io.safety.every_rank) -----------
    def read_distributed(self, name: str, decomp) -> np.ndarray:
        """This rank's owned box of a global dataset, in DMDA layout (any writer rank count)."""
        if self.h5 is None:
            raise RuntimeError("file not open on this rank")
        phys = self.h5[name][decomp.global_slices()]
        return decomp.from_physical(phys)


@contextmanager
def atomic_file(path, comm, what: str, need_bytes: float = 0.0, checksums: bool = False):
    """A :class:`ParallelFile` written to ``<path>.tmp`` and renamed to ``path`` once complete
    (context manager); when anything fails, on any rank, the temporary file is removed and
    the previous ``path`` is untouched.  ``need_bytes``: refuse first if less is free."""
    comm = comm or MPI.COMM_WORLD
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    reserve = path.with_name(path.name + ".reserve")
    if need_bytes:
        check_free_space(path.parent, need_bytes, comm, what)
    size = int(min(max(RESERVE_MIN_BYTES, RESERVE_FRACTION * need_bytes), RESERVE_MAX_BYTES))
    try:
        on_rank0(comm, _reserve, reserve, size, what)
        release = lambda: reserve.unlink(missing_ok=True)  # noqa: E731
        with ParallelFile(tmp, "w", comm, what=what, checksums=checksums, on_failure=release) as f:
            yield f
        on_rank0(comm, os.replace, tmp, path, context=f"cannot rename {str(tmp)!r} to {what}")
    except BaseException as exc:
        if comm.rank == 0 and (is_agreed(exc) or comm.size == 1):
            for p in (tmp, reserve):
                try:
                    p.unlink(missing_ok=True)
                except OSError:
                    pass
        raise
    on_rank0(comm, reserve.unlink, missing_ok=True)


#: disk space held beside a file being written, freed if the disk fills up so that HDF5 can
#: still close the file cleanly (it may crash otherwise): between these bounds, this fraction
RESERVE_MIN_BYTES = 256 * 1024
RESERVE_MAX_BYTES = 64 * 1024 * 1024
RESERVE_FRACTION = 0.02


def _reserve(path: Path, size: int, what: str) -> None:
    """Allocate ``size`` bytes of disk at ``path`` (really allocated, also against quotas)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create the output directory {str(path.parent)!r}: {exc}") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    except OSError as exc:
        raise OSError(f"cannot write {what}: {exc}") from None
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            path.unlink(missing_ok=True)
            raise OSError(
                f"not enough disk space for {what}: cannot reserve {size / 1e6:.3g} MB in "
                f"{str(path.parent)!r} ({exc.strerror})"
            ) from None
        # a file system without fallocate: no reserve, the free-space check must do
    finally:
        os.close(fd)


def dataset_bytes(decomp, n_datasets: int) -> float:
    """Size of ``n_datasets`` global arrays of the run (cells x momenta, float64) plus room
    for metadata and the small datasets beside each: what a result, snapshot or checkpoint
    needs on disk."""
    return (8.0 * decomp.grid_unknowns * 1.05 + 32.0e3) * n_datasets + 64.0e3


def write_run_metadata(f: ParallelFile, config_dump: dict, content: str | None = None) -> None:
    """Root attributes of every file: code, version, run name, resolved config, ranks, and
    ``content`` ("result", "snapshot" or "checkpoint")."""
    attrs = {
        "code": "galprop-py",
        "code_version": __version__,
        "run_name": config_dump.get("run", {}).get("name", ""),
        "config_json": json.dumps(config_dump, sort_keys=True),
        "mpi_ranks_written": f.comm.size,
    }
    if content:
        attrs["content"] = content
    f.write_attrs("/", attrs)


# --- what a checkpoint belongs to ---------------------------------------------------------------
def _flatten(node, prefix="") -> dict:
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(node, list) and any(isinstance(v, dict | list) for v in node):
        for i, v in enumerate(node):
            out.update(_flatten(v, f"{prefix}.{i}"))
    else:
        out[prefix] = node
    return out


def _fmt(v) -> str:
    return json.dumps(v) if isinstance(v, bool | type(None) | str) else repr(v)


@dataclass
class RunIdentity:
    """What a checkpoint belongs to: grid (geometry, cell edges of every axis [kpc]), momentum
    grid (axis, nodes), species and the physics of the config (every block but
    :data:`NOT_PHYSICS`); :meth:`difference` names the first mismatch."""

    geometry: str
    edges: dict[str, np.ndarray]
    momentum_axis: str
    momentum_nodes: np.ndarray
    species: tuple[str, ...]
    physics: dict = field(default_factory=dict)

    @classmethod
    def of_run(cls, config_dump: dict, grid, momentum, species) -> RunIdentity:
        physics = {k: v for k, v in config_dump.items() if k not in NOT_PHYSICS}
        return cls(
            grid.geometry,
            {ax.name: np.asarray(ax.edges, float) for ax in grid.axes},
            momentum.axis,
            np.asarray(momentum.nodes, float),
            tuple(species),
            physics,
        )

    @property
    def physics_json(self) -> str:
        return json.dumps(self.physics, sort_keys=True)

    @property
    def physics_sha256(self) -> str:
        return hashlib.sha256(self.physics_json.encode()).hexdigest()

    def write(self, f: ParallelFile) -> None:
        f.write_attrs(
            "/",
            {
                "species": json.dumps(list(self.species)),
                "physics_json": self.physics_json,
                "physics_sha256": self.physics_sha256,
            },
        )
        for name, e in self.edges.items():
            f.write_small(f"/grid/{name}_edges", e, {"unit": "kpc"})
        f.write_attrs("/grid", {"geometry": self.geometry, "axes": ",".join(self.edges)})
        f.write_small("/momentum/nodes", self.momentum_nodes, {"axis": self.momentum_axis})

    @classmethod
    def read(cls, h5: h5py.File) -> RunIdentity:
        g = h5["/grid"]
        names = str(g.attrs["axes"]).split(",")
        return cls(
            str(g.attrs["geometry"]),
            {n: h5[f"/grid/{n}_edges"][...] for n in names},
            str(h5["/momentum/nodes"].attrs["axis"]),
            h5["/momentum/nodes"][...],
            tuple(json.loads(h5.attrs["species"])),
            json.loads(h5.attrs["physics_json"]),
        )

    def difference(self, run: RunIdentity) -> str | None:
        """The first difference between this (a checkpoint's) identity and ``run``'s, in
        words, or None."""
        if self.geometry != run.geometry:
            return f"grid.geometry = {self.geometry!r} there, {run.geometry!r} here"
        for name, e in self.edges.items():
            here = run.edges.get(name)
            if here is None:
                return f"grid axis {name} there, none here"
            if e.size != here.size:
                return f"grid.n_{name} = {e.size - 1} there, {here.size - 1} here"
            if not np.allclose(e, here, rtol=1e-12, atol=1e-12):
                return (
                    f"grid axis {name}: {e[0]:g}..{e[-1]:g} kpc there, {here[0]:g}..{here[-1]:g} "
                    "kpc here, or other cell edges (grid.z_refinement)"
                )
        m, mh = self.momentum_nodes, run.momentum_nodes
        if (
            self.momentum_axis != run.momentum_axis
            or m.size != mh.size
            or not np.allclose(m, mh, rtol=1e-12)
        ):
            return (
                f"momentum grid {self.momentum_axis} {m.size} points {m[0]:g}..{m[-1]:g} there, "
                f"{run.momentum_axis} {mh.size} points {mh[0]:g}..{mh[-1]:g} here"
            )
        missing = [s for s in run.species if s not in self.species]
        if missing:
            return (
                f"species {', '.join(missing)} not in the checkpoint (it has "
                f"{', '.join(self.species)})"
            )
        extra = [s for s in self.species if s not in run.species]
        if extra:
            return f"species {', '.join(extra)} in the checkpoint but not in this run"
        if self.physics_json != run.physics_json:
            there, here = _flatten(self.physics), _flatten(run.physics)
            keys = [k for k in sorted(set(there) | set(here)) if there.get(k) != here.get(k)]
            if not keys:
                return "physics config hash differs"
            k = keys[0]
            more = f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
            a = _fmt(there[k]) if k in there else "absent"
            b = _fmt(here[k]) if k in here else "absent"
            return f"physics: {k} = {a} there, {b} here{more}"
        return None


# --- checkpoints --------------------------------------------------------------------------------
def write_checkpoint(
    path,
    decomp,
    states: dict,
    t_myr: float,
    step: int,
    config_dump: dict,
    comm=None,
    identity: RunIdentity | None = None,
    clock: dict | None = None,
) -> Path:
    """Write all species' densities and the clock (``t_myr``, ``step`` and the integrator's
    ``clock`` entries) to ``path`` atomically, with checksums and the run's identity."""
    comm = comm or MPI.COMM_WORLD
    path = Path(path)
    what = f"the checkpoint {str(path)!r}"
    need = dataset_bytes(decomp, len(states))
    with atomic_file(path, comm, what, need, checksums=True) as f:
        write_run_metadata(f, config_dump, "checkpoint")
        if identity is not None:
            identity.write(f)
        f.write_attrs("/clock", {"t_myr": float(t_myr), "step": int(step), **(clock or {})})
        for name, local in states.items():
            f.write_distributed(
                f"/state/{name}", decomp, local, {"unit": "kpc^-3 (GeV/c)^-1 (internal)"}
            )
    return path


@dataclass
class Checkpoint:
    """A checkpoint read back: rank-local states, the clock (all its attributes) and the
    config of the run that wrote it."""

    states: dict
    t_myr: float
    step: int
    config_json: str
    clock: dict


def _not_a_checkpoint(h5, path: Path) -> str | None:
    content = h5.attrs.get("content")
    if content == "checkpoint":
        return None
    label = f"{str(path)!r}"
    if content in ("result", "snapshot") or ("species" in h5 and "state" not in h5):
        kind = "a snapshot" if content == "snapshot" else "a result file"
        return f"{label} is {kind}, not a checkpoint (checkpoints are <output_dir>/checkpoint.h5)"
    if "state" not in h5 or "clock" not in h5:
        return f"{label} is not a galprop-py checkpoint (no /state and /clock)"
    return None


def load_checkpoint(path, decomp, comm=None, expect: RunIdentity | None = None) -> Checkpoint:
    """Read a checkpoint on every rank (any writer rank count).  With ``expect`` (this run's
    identity) a checkpoint of another grid, momentum grid, species set or physics, one
    without an identity, a file that is not a checkpoint and a damaged file are refused with
    one line, on every rank."""
    comm = comm or MPI.COMM_WORLD
    path = Path(path)
    label = f"checkpoint {str(path)!r}"

    def exists():
        if path.is_dir():
            raise OSError(f"{label} is a directory")
        if not path.is_file():
            raise FileNotFoundError(f"{label} not found")

    with every_rank(comm):
        exists()
    with ParallelFile(path, "r", comm, what=label) as f:
        with every_rank(comm, context=f"cannot restart from {label}"):
            h5 = f.h5
            problem = _not_a_checkpoint(h5, path)
            if problem:
                raise ValueError(problem)
            if expect is not None:
                if "physics_sha256" not in h5.attrs:
                    raise ValueError(
                        "it records no grid, species or physics (written by an older "
                        "galprop-py), so it cannot be checked"
                    )
                there = RunIdentity.read(h5)
                if there.physics_sha256 != h5.attrs["physics_sha256"]:
                    raise ValueError("its physics record fails its checksum (damaged file)")
                diff = there.difference(expect)
                if diff:
                    raise ValueError(f"it belongs to another run: {diff}")
            clock = {
                k: (v.item() if hasattr(v, "item") else v) for k, v in h5["/clock"].attrs.items()
            }
            names = list(expect.species) if expect is not None else list(h5["/state"])
            config_json = str(h5.attrs.get("config_json", "{}"))
        states = {}
        with every_rank(comm, context=f"cannot restart from {label}"):
            for name in names:
                try:
                    states[name] = f.read_distributed(f"/state/{name}", decomp)
                except OSError as exc:
                    raise OSError(f"dataset /state/{name} is damaged ({one_line(exc)})") from None
    return Checkpoint(states, float(clock["t_myr"]), int(clock["step"]), config_json, clock)


def read_checkpoint(path, decomp, comm=None):
    """Returns (states {species: rank-local array}, t_myr, step, config_json)."""
    ck = load_checkpoint(path, decomp, comm)
    return ck.states, ck.t_myr, ck.step, ck.config_json
