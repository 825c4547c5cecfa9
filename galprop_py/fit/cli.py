"""``galprop-py fit``, ``sample``, ``scan`` and ``scan-merge`` (hooked into :mod:`galprop_py.cli`).

Examples::

    mpirun -n 2 galprop-py fit examples/fit/config.toml
    galprop-py fit my.toml fit.minimiser=least_squares grid.n_r=21
    mpirun -n 8 galprop-py sample output/fit/best_fit.toml --group-size 2   # 4 walkers at once
    mpirun -n 4 galprop-py scan my.toml --vary diffusion.delta=0.4,0.45,0.5 --group-size 2
    galprop-py scan my.toml --vary diffusion.delta=0.4,0.5,0.6 --array-size 3 --array-index 1
    galprop-py scan-merge output/my_scan                                      # after the array

``fit`` with a ``[fit.sampling]`` block samples the posterior after the minimiser, the
walkers starting around the minimum (``--group-size``: ranks per walker's model).

Errors follow the command line's rules (one line, exit code 2).
"""

from __future__ import annotations

from pathlib import Path


def _sample_from(cfg, group_size: int) -> None:
    from .sampling import sample

    sample(cfg, group_size=group_size)


def command(args, cfg) -> int:
    """Run ``fit``, ``sample`` or ``scan`` for the loaded config; returns the exit code."""
    from mpi4py import MPI

    from ..config import ConfigError, config_from_dict
    from ..io.safety import OutputLock, on_rank0
    from ..messages import info

    if args.command == "fit":
        from .fitter import fit

        result = fit(cfg)
        if cfg.fit.sampling is not None:
            info("sampling the posterior around the minimum ([fit.sampling])")
            _sample_from(config_from_dict(result.best_config), args.group_size)
        return 0
    if args.command == "sample":
        if cfg.fit is None:
            raise ConfigError("the config has no [fit] block: nothing to sample")
        _sample_from(cfg, args.group_size)
        return 0
    from .scan import array_index_from_env, parse_vary, part_directory, scan, write_scan

    varies = parse_vary(args.vary)
    index, size = args.array_index, args.array_size
    if index is not None and size is None:
        raise ConfigError(f"--array-index {index} needs --array-size (the number of slices)")
    if size is not None and index is None:
        index = array_index_from_env()
    out_dir = Path(cfg.run.output_dir)
    if size is not None:
        out_dir = part_directory(out_dir, index)
    with OutputLock(out_dir, MPI.COMM_WORLD, cfg.run.name):
        table = scan(cfg, varies, group_size=args.group_size, array_index=index, array_size=size)
        paths = on_rank0(
            MPI.COMM_WORLD, write_scan, table, cfg, out_dir, context="cannot write the scan table"
        )
    what = "scan table" if size is None else f"scan part {index} of {size}"
    info(f"{what} written: {', '.join(str(p) for p in paths)} ({table.seconds:.1f} s)")
    if size is not None:
        info(f"when every slice is done: galprop-py scan-merge {cfg.run.output_dir}")
    return 0


def merge_command(directory: str) -> int:
    """``galprop-py scan-merge DIR``: the parts of a job-array scan into DIR/scan.h5, .csv."""
    from mpi4py import MPI

    from ..io.safety import OutputLock, on_rank0
    from ..messages import info
    from .scan import merge_scan, write_scan

    def merge():
        table, config = merge_scan(Path(directory))
        return table, config, write_scan(table, config, Path(directory))

    comm = MPI.COMM_WORLD
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"scan-merge {directory!r}: no such directory")
    with OutputLock(directory, comm, "scan-merge"):
        table, _, paths = on_rank0(comm, merge, context="cannot merge the scan")
    info(f"scan table of {len(table.values)} point(s) written: {', '.join(map(str, paths))}")
    return 0
