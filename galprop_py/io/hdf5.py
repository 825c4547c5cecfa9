"""HDF5 files holding global datasets, written collectively by all ranks.

Every rank writes its owned box of a global dataset (physical axis order, momentum last), so a
file is independent of the number of ranks that wrote it and a checkpoint can be read back on
any other number of ranks.  With an h5py built without MPI (e.g. a laptop wheel) the data are
gathered to rank 0, which writes the same layout.

Checkpoints are written to ``<name>.tmp`` and renamed over the previous checkpoint only after
the file is complete and closed, so an interrupted run never loses its last checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np
from mpi4py import MPI

from .. import __version__

PARALLEL_H5PY = bool(h5py.get_config().mpi)


class ParallelFile:
    """An HDF5 file open on every rank of ``comm`` (context manager)."""

    def __init__(self, path: str | Path, mode: str, comm=None):
        self.comm = comm or MPI.COMM_WORLD
        self.path = Path(path)
        self.parallel = PARALLEL_H5PY and self.comm.size > 1
        problem = None
        if self.comm.rank == 0 and mode in ("w", "a"):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                problem = f"cannot create the output directory {str(self.path.parent)!r}: {exc}"
        problem = self.comm.bcast(problem, root=0)  # every rank stops, none waits
        if problem:
            raise OSError(problem)
        if self.parallel:
            self.h5 = h5py.File(self.path, mode, driver="mpio", comm=self.comm)
        elif self.comm.rank == 0 or mode == "r":
            self.h5 = h5py.File(self.path, mode)
        else:
            self.h5 = None

    def __enter__(self) -> ParallelFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.h5 is not None:
            self.h5.close()
            self.h5 = None
        self.comm.Barrier()

    # --- writing (collective: every rank calls every method in the same order) -----------------
    def write_attrs(self, group: str, attrs: dict) -> None:
        if self.h5 is None:
            return
        g = self.h5.require_group(group)
        for k, v in attrs.items():
            g.attrs[k] = v

    def write_small(self, name: str, data, attrs: dict | None = None) -> None:
        """A dataset that every rank holds in full (axes, spectra at the Sun)."""
        data = np.asarray(data)
        if self.parallel:
            dset = self.h5.create_dataset(name, shape=data.shape, dtype=data.dtype)
            if self.comm.rank == 0:
                dset[...] = data
        elif self.h5 is not None:
            dset = self.h5.create_dataset(name, data=data)
        else:
            return
        for k, v in (attrs or {}).items():
            dset.attrs[k] = v

    def write_distributed(self, name: str, decomp, local: np.ndarray, attrs=None) -> None:
        """Write the rank-local array (DMDA layout) into a global dataset (physical order)."""
        phys = np.ascontiguousarray(decomp.to_physical(local))
        extra = phys.shape[decomp.grid.dim :]
        shape = tuple(decomp.grid.shape) + tuple(extra)
        sl = decomp.global_slices()
        if self.parallel:
            dset = self.h5.create_dataset(name, shape=shape, dtype="f8")
            with dset.collective:
                dset[sl] = phys
        else:
            pieces = self.comm.gather((sl, phys), root=0)
            if self.comm.rank != 0:
                return
            dset = self.h5.create_dataset(name, shape=shape, dtype="f8")
            for s, arr in pieces:
                dset[s] = arr
        if self.h5 is not None:
            for k, v in (attrs or {}).items():
                dset.attrs[k] = v

    # --- reading --------------------------------------------------------------------------------
    def read_distributed(self, name: str, decomp) -> np.ndarray:
        """This rank's owned box of a global dataset, in DMDA layout (any writer rank count)."""
        if self.h5 is None:
            raise RuntimeError("file not open on this rank")
        phys = self.h5[name][decomp.global_slices()]
        return decomp.from_physical(phys)


def write_run_metadata(f: ParallelFile, config_dump: dict) -> None:
    f.write_attrs(
        "/",
        {
            "code": "galprop-py",
            "code_version": __version__,
            "run_name": config_dump.get("run", {}).get("name", ""),
            "config_json": json.dumps(config_dump, sort_keys=True),
            "mpi_ranks_written": f.comm.size,
        },
    )


def write_checkpoint(
    path, decomp, states: dict, t_myr: float, step: int, config_dump: dict, comm=None
) -> Path:
    """Write all species' densities and the clock to ``path`` atomically."""
    comm = comm or MPI.COMM_WORLD
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with ParallelFile(tmp, "w", comm) as f:
        write_run_metadata(f, config_dump)
        f.write_attrs("/clock", {"t_myr": float(t_myr), "step": int(step)})
        for name, local in states.items():
            f.write_distributed(
                f"/state/{name}", decomp, local, {"unit": "kpc^-3 (GeV/c)^-1 (internal)"}
            )
    if comm.rank == 0:
        os.replace(tmp, path)
    comm.Barrier()
    return path


def read_checkpoint(path, decomp, comm=None):
    """Returns (states {species: rank-local array}, t_myr, step, config_json)."""
    comm = comm or MPI.COMM_WORLD
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} not found")
    with ParallelFile(path, "r", comm) as f:
        clock = f.h5["/clock"].attrs
        states = {name: f.read_distributed(f"/state/{name}", decomp) for name in f.h5["/state"]}
        t, step = float(clock["t_myr"]), int(clock["step"])
        cfg = f.h5.attrs.get("config_json", "{}")
    return states, t, step, cfg
