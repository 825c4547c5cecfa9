"""Checks at the start of a run, before anything large is allocated or computed.

Each refuses with one line, on every rank (:mod:`galprop_py.io.safety`): what the config
validation cannot see because it needs the grid, the species of the network, the file system
or the machine.

* :func:`check_request` -- ``--restart`` on a steady run, a restart file that is not there,
  an output file or directory of the wrong kind; a warning for grid keys of another
  geometry (``grid.n_r`` of a slab: left over from switching geometry, say).
* :func:`check_size` -- PETSc's index range (32-bit indices unless PETSc was built with
  ``--with-64-bit-indices``) and an estimate of the memory per rank against what this node
  has (the smaller of MemAvailable and the cgroup limit, shared by the ranks on the node).
* :func:`check_model` -- a normalisation species that is not in the run, sources that have
  no cell inside the grid.
* :func:`check_disk` -- free space for the result (and checkpoints).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mpi4py import MPI

from .config import ConfigError
from .io.safety import agree, check_free_space, every_rank, on_rank0
from .messages import notice

#: Python, numpy, numba, PETSc and MPI of one rank before any grid-sized array [bytes]
BASE_BYTES_PER_RANK = 250e6


def check_request(cfg, restart: str | None, comm) -> None:
    """Refuse a request that cannot work, before the model is built; warn about keys the
    chosen geometry ignores."""
    for text in cfg.grid.inapplicable_keys():
        notice(text)
    with every_rank(comm):
        if restart and cfg.run.mode == "steady":
            raise ConfigError(
                f"--restart {restart!r}: run.mode = 'steady' has no time steps to continue "
                "(restarts are for run.mode = 'transient')"
            )
    out_dir = Path(cfg.run.output_dir)

    def paths():
        if out_dir.exists() and not out_dir.is_dir():
            raise ConfigError(f"run.output_dir = {cfg.run.output_dir!r} is a file, not a directory")
        target = out_dir / cfg.output.file
        if target.is_dir():
            raise ConfigError(f"output.file = {cfg.output.file!r}: {str(target)!r} is a directory")
        if restart:
            p = Path(restart)
            if p.is_dir():
                raise ConfigError(f"--restart {restart!r} is a directory, not a checkpoint")
            if not p.is_file():
                raise FileNotFoundError(f"checkpoint {restart!r} not found")

    on_rank0(comm, paths)


def stencil_points(cfg, dim: int) -> int:
    """Matrix nonzeros per row: the spatial stencil (a box for the anisotropic tensor) and
    the momentum couplings (up to two neighbours on each side)."""
    box = cfg.diffusion.model in ("anisotropic", "quasilinear")
    spatial = 3**dim if box else 2 * dim + 1
    return spatial + 4


def grid_shape(cfg) -> tuple[int, ...]:
    """Cells per axis of the config's grid (without building it)."""
    g = cfg.grid
    return {
        "slab1d": (g.n_z,),
        "spherical1d": (g.n_r,),
        "cylindrical2d": (g.n_r, g.n_z),
        "cartesian3d": (g.n_x, g.n_y, g.n_z),
    }[g.geometry]


def estimate_bytes_per_rank(cfg, shape, n_p: int, n_species: int, ranks: int) -> float:
    """Peak memory of one rank [bytes], from the unknowns it owns: per species transport
    alive at once (one in a steady run, all in a time-dependent one) the operator, the
    system matrix and its ILU(0) factor (12 bytes per nonzero each) and ~30 work vectors;
    per species a few state and response arrays.  Measured on this code: 2D, two species,
    ~600 bytes per unknown in a steady run."""
    unknowns = float(np.prod(shape)) * n_p / ranks
    nnz = stencil_points(cfg, len(shape))
    alive = n_species if cfg.run.mode == "transient" else 1
    per_unknown = alive * (3 * 12 * nnz + 30 * 8) + n_species * 4 * 8
    return BASE_BYTES_PER_RANK + unknowns * per_unknown


def _node_memory() -> float | None:
    """Memory this process may use on its node [bytes]: MemAvailable, lowered to the cgroup
    limit (SLURM, containers); None where neither is known."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(float(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(f).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and float(text) < 1e18:
            limits.append(float(text))
    return min(limits) if limits else None


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"


def check_size(cfg, n_species: int, comm) -> None:
    """Refuse a grid that PETSc cannot index or this machine cannot hold (module docstring),
    from the config alone: before even the grid's axes are built."""
    from petsc4py import PETSc

    ranks = comm.size
    dims = grid_shape(cfg)
    n_p = cfg.momentum.n
    unknowns = int(np.prod(dims, dtype=object)) * n_p
    axes = {"slab1d": "z", "spherical1d": "r", "cylindrical2d": "rz", "cartesian3d": "xyz"}
    keys = " x ".join([f"grid.n_{a}" for a in axes[cfg.grid.geometry]] + ["momentum.n"])
    values = " x ".join(str(n) for n in (*dims, n_p))
    what = f"{keys} = {values} = {unknowns:.3g} unknowns"
    bits = 8 * np.dtype(PETSc.IntType).itemsize
    limit = 2 ** (bits - 1) - 1
    nnz_rank = -(-unknowns // ranks) * stencil_points(cfg, len(dims))
    with every_rank(comm):
        if unknowns > limit:
            raise ConfigError(
                f"{what}: more than PETSc's {bits}-bit index range ({limit}); use fewer cells "
                "or a PETSc built with --with-64-bit-indices"
            )
        if nnz_rank > limit:
            raise ConfigError(
                f"{what}: about {nnz_rank:.3g} matrix nonzeros per rank on {ranks} rank(s), "
                f"more than PETSc's {bits}-bit index range ({limit}); use more ranks, fewer "
                "cells or a PETSc built with --with-64-bit-indices"
            )
    per_rank = estimate_bytes_per_rank(cfg, dims, n_p, n_species, ranks)
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    error = None
    try:
        on_node = node.size
        if node.rank == 0:
            available = _node_memory()
            need = per_rank * on_node
            if available is not None and need > available:
                error = ConfigError(
                    f"{what} with {n_species} species needs about {_gb(per_rank)} of memory "
                    f"per rank ({_gb(need)} for the {on_node} rank(s) on this node), "
                    f"{_gb(available)} available: use fewer cells or momenta, or more nodes"
                )
    finally:
        node.Free()
    agree(comm, error)


def check_model(cfg, model, decomp) -> None:
    """Refuse a run whose normalisation or sources cannot work (module docstring)."""
    comm = decomp.comm.tompi4py()
    names = [s.name for s in model.species]
    with every_rank(comm):
        if not names:
            raise ConfigError("the run has no species: add [[species]] or a [network] block")
        norm = cfg.normalization
        if norm.enabled and norm.species not in names:
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise ConfigError(
                f"normalization.species = {norm.species!r} is not a species of this run "
                f"({shown}); name one of them or set normalization.enabled = false"
            )
    sourced = [n for n in names if (b := model.blocks.get(n)) is not None and b.abundance > 0]
    if not sourced:
        return  # a run of secondaries only (or a burst set up otherwise) is the user's choice
    local = 0.0
    error = None
    try:
        profile = np.asarray(model.source_profile(decomp.local_centers()), float)
        local = float(np.sum(np.where(np.isfinite(profile), np.abs(profile), np.inf)))
    except Exception as exc:
        error = exc
    agree(comm, error)
    total = comm.allreduce(local, op=MPI.SUM)
    s = cfg.source
    with every_rank(comm):
        if not np.isfinite(total):
            raise ConfigError(
                f"source.profile = {s.profile!r} is not finite on the grid (check "
                "[source.parameters])"
            )
        if total == 0.0:
            raise ConfigError(
                f"source.profile = {s.profile!r} with source.r_max_kpc = {s.r_max_kpc:g} has "
                "no cell inside the grid: every source density is 0 (check the grid extent, "
                "source.r_max_kpc and [source.parameters])"
            )


def check_disk(cfg, decomp, n_species: int, comm) -> None:
    """Refuse to start when the output directory's file system cannot take the result (and,
    for a time-dependent run, a checkpoint next to the previous one)."""
    from .io.hdf5 import dataset_bytes

    need = dataset_bytes(decomp, n_species)  # the result's fluxes
    if cfg.run.mode == "transient":
        # the new checkpoint beside the kept ones
        need += cfg.output.keep_checkpoints * dataset_bytes(decomp, n_species)
    em = cfg.emission
    if em.enabled:
        n_proc = len(em.processes)
        n_cells = float(np.prod(decomp.grid.shape))
        maps = 12 * em.nside**2 if em.maps else 0
        # emissivities on the grid and the maps, in the result and (maps) in the FITS files
        need += (
            8.0
            * n_proc
            * max(em.n_e_gamma, len(em.synchrotron_frequencies_hz))
            * (n_cells + 2 * maps)
        )
    check_free_space(Path(cfg.run.output_dir), need, comm, "the result and checkpoints")
