"""``galprop-py fit`` and ``galprop-py scan`` (hooked into :mod:`galprop_py.cli`).

Examples::

    mpirun -n 2 galprop-py fit examples/fit/config.toml
    galprop-py fit my.toml fit.minimiser=least_squares grid.n_r=21
    mpirun -n 4 galprop-py scan my.toml --vary diffusion.delta=0.4,0.45,0.5 --group-size 2

Errors follow the command line's rules (one line, exit code 2).
"""

from __future__ import annotations

from pathlib import Path

COMMANDS = ("fit", "scan")


def add_parsers(sub) -> None:
    """The ``fit`` and ``scan`` sub-commands of the main parser."""
    p_fit = sub.add_parser("fit", help="fit the [fit] block of a config to the data")
    p_fit.add_argument("config", help="TOML config with a [fit] block")
    p_fit.add_argument("overrides", nargs="*", help="block.key=value overrides")
    p_scan = sub.add_parser("scan", help="solve a grid of parameter values, one table")
    p_scan.add_argument("config", help="TOML config (chi^2 columns if it has a [fit] block)")
    p_scan.add_argument("overrides", nargs="*", help="block.key=value overrides")
    p_scan.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="values of one config key (repeat for a grid of several keys)",
    )
    p_scan.add_argument(
        "--group-size",
        type=int,
        default=1,
        help="ranks per model (default 1: as many models at once as ranks)",
    )


def command(args, cfg) -> int:
    """Run ``fit`` or ``scan`` for the loaded config; returns the exit code."""
    from mpi4py import MPI

    from ..io.safety import OutputLock, on_rank0
    from ..messages import info

    if args.command == "fit":
        from .fitter import fit

        fit(cfg)
        return 0
    from .scan import parse_vary, scan, write_scan

    varies = parse_vary(args.vary)
    out_dir = Path(cfg.run.output_dir)
    with OutputLock(out_dir, MPI.COMM_WORLD, cfg.run.name):
        table = scan(cfg, varies, group_size=args.group_size)
        paths = on_rank0(
            MPI.COMM_WORLD, write_scan, table, cfg, out_dir, context="cannot write the scan table"
        )
    info(f"scan table written: {', '.join(str(p) for p in paths)} ({table.seconds:.1f} s)")
    return 0
