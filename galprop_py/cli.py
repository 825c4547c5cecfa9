"""Command line: ``galprop-py run [CONFIG] [block.key=value ...] [-petsc_option value ...]``.

Examples::

    mpirun -n 2 galprop-py run                          # the default Milky Way model
    galprop-py run my.toml diffusion.delta=0.45 -steady_ksp_monitor
    galprop-py run my.toml --restart output/checkpoint.h5
    galprop-py config [CONFIG]                          # print the resolved config (TOML-ish)

Arguments starting with a single ``-`` that are not options of this command go to PETSc
(``-steady_ksp_type gmres``, ``-log_view``).
"""

from __future__ import annotations

import argparse
import json
import sys


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


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc_args = _split_petsc(argv)
    parser = argparse.ArgumentParser(prog="galprop-py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
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
    # block.key=value overrides may stand anywhere (also after --options)
    overrides = [a for a in ours if "=" in a and not a.startswith("-")]
    args = parser.parse_args([a for a in ours if a not in overrides])
    args.overrides = overrides

    import petsc4py

    petsc4py.init([sys.argv[0]] + petsc_args)

    from .config import ConfigError, load_config
    from .solvers.petsc import SolverError

    path = args.config or str(_default_config_path())
    try:
        cfg = load_config(path, args.overrides)
        if args.command == "config":
            print(json.dumps(cfg.dump(), indent=2))
            return 0
        from pathlib import Path

        from .run import run

        restart = args.restart
        if restart == "auto":
            ck = Path(cfg.run.output_dir) / "checkpoint.h5"
            restart = str(ck) if ck.is_file() else None
        run(cfg, restart=restart, progress=not args.no_progress)
    except (ConfigError, SolverError, OSError, NotImplementedError, ValueError) as exc:
        from mpi4py import MPI

        if MPI.COMM_WORLD.rank == 0:
            print(f"galprop-py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
