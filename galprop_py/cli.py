"""Command line: ``galprop-py run [CONFIG] [block.key=value ...] [-petsc_option value ...]``.

Examples::

    mpirun -n 2 galprop-py run                          # the default Milky Way model
    galprop-py run my.toml diffusion.delta=0.45 -steady_ksp_monitor
    galprop-py run my.toml --restart output/checkpoint.h5
    galprop-py config [CONFIG]                          # print the resolved config (TOML-ish)

Arguments starting with a single ``-`` that are not options of this command go to PETSc
(``-steady_ksp_type gmres``, ``-log_view``).

Exit codes (the same on every rank):

* 0 -- the run finished, or it was stopped by SIGTERM/SIGUSR1 after writing its checkpoint
  (continue it with ``--restart auto``);
* 2 -- bad input or a file-system problem: one line on stderr, from rank 0, no traceback;
* 1 -- an internal error (a bug): its traceback, from the lowest rank that failed;
* 130 -- interrupted (Ctrl-C).

A rank that fails alone while the others wait in a collective call reports the error itself
and aborts the MPI job (exit code 2 or 1 through ``MPI_Abort``) instead of hanging.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


def _default_config_path():
    from .config import default_model_path

    return default_model_path()


def _split_petsc(argv):
    """Separate PETSc options (``-name [value]``) from ours."""
    ours, petsc = [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and not a.startswith("--") and len(a) > 1 and not a[1].isdigit():
            petsc.append(a)
            if i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                if "=" not in argv[i + 1] and not argv[i + 1].endswith(".toml"):
                    petsc.append(argv[i + 1])
                    i += 1
        else:
            ours.append(a)
        i += 1
    return ours, petsc


def _rank() -> int:
    from mpi4py import MPI

    return MPI.COMM_WORLD.rank


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, from rank 0 only."""

    def error(self, message):
        if _rank() == 0:
            print(
                f"galprop-py: error: {' '.join(message.split())} (see {self.prog} --help)",
                file=sys.stderr,
            )
        raise SystemExit(EXIT_INPUT)

    def print_help(self, file=None):
        if _rank() == 0:
            super().print_help(file)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="galprop-py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_run = sub.add_parser("run", help="run a model (default: the Milky Way model)")
    p_run.add_argument("config", nargs="?", help="TOML config (default: built-in Milky Way)")
    p_run.add_argument("overrides", nargs="*", help="block.key=value overrides")
    p_run.add_argument(
        "--restart",
        help="checkpoint file to continue from; 'auto' = <output_dir>/checkpoint.h5 if it exists",
    )
    p_run.add_argument("--no-progress", action="store_true")
    p_cfg = sub.add_parser("config", help="print the resolved configuration as JSON")
    p_cfg.add_argument("config", nargs="?")
    p_cfg.add_argument("overrides", nargs="*")
    from .fit.cli import add_parsers

    add_parsers(sub)  # fit, scan
    return parser


def _expected_errors() -> tuple[type, ...]:
    """Errors that are the user's input or the machine's file system: exit code 2."""
    from .config import ConfigError
    from .solvers.petsc import SolverError

    return (ConfigError, SolverError, OSError, NotImplementedError, ValueError)


def _command(args) -> int:
    from mpi4py import MPI

    from .config import load_config
    from .io.safety import every_rank

    path = args.config or str(_default_config_path())
    with every_rank(MPI.COMM_WORLD):
        cfg = load_config(path, args.overrides)
    if args.command in ("fit", "scan"):
        from .fit.cli import command

        return command(args, cfg)
    if args.command == "config":
        if _rank() == 0:
            print(json.dumps(cfg.dump(), indent=2))
        return EXIT_OK
    from pathlib import Path

    from .run import run

    restart = args.restart
    if restart == "auto":
        ck = Path(cfg.run.output_dir) / "checkpoint.h5"
        restart = str(ck) if ck.is_file() else None
    run(cfg, restart=restart, progress=not args.no_progress)
    return EXIT_OK


def _report(error: BaseException | None) -> int:
    """Every rank agrees on the outcome (with a time-out); one rank tells the user."""
    import traceback

    from mpi4py import MPI

    from .io.safety import final_agreement, one_line

    comm = MPI.COMM_WORLD
    outcome = final_agreement(comm, error)
    if outcome is None:
        return EXIT_OK
    rank, exc, complete = outcome
    expected = isinstance(exc, _expected_errors())
    code = EXIT_INPUT if expected else EXIT_INTERNAL
    if rank == comm.rank:
        if expected:
            print(f"galprop-py: error: {one_line(exc)}", file=sys.stderr, flush=True)
        else:
            traceback.print_exception(exc, file=sys.stderr)
            print(
                f"galprop-py: internal error on rank {rank} (a bug; please report it with the "
                "traceback above)",
                file=sys.stderr,
                flush=True,
            )
        if not complete:
            # the other ranks wait in a collective call that this rank will never make
            comm.Abort(code)
    return code


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc_args = _split_petsc(argv)
    parser = _parser()
    # block.key=value overrides may stand anywhere (also after --options)
    overrides = [
        a
        for i, a in enumerate(ours)
        if "=" in a and not a.startswith("-") and (i == 0 or ours[i - 1] != "--vary")
    ]
    try:
        args = parser.parse_args([a for a in ours if a not in overrides])
        if args.overrides:  # positional words after the config that are not key=value
            parser.error(
                f"argument {args.overrides[0]!r}: expected block.key=value (one config file "
                "at most)"
            )
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    args.overrides = overrides

    import petsc4py

    petsc4py.init([sys.argv[0]] + petsc_args)

    error, code = None, EXIT_OK
    try:
        code = _command(args) or EXIT_OK
    except KeyboardInterrupt:
        if _rank() == 0:
            print("galprop-py: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        error = exc
    return _report(error) or code


if __name__ == "__main__":
    sys.exit(main())
