"""Command line: galprop-py run | config | validate | info | plot | fit | scan | sample |
scan-merge (typer).

Examples::

    mpirun -n 2 galprop-py run                          # the default Milky Way model
    galprop-py run my.toml diffusion.delta=0.45 -steady_ksp_monitor
    galprop-py run my.toml --restart output/checkpoint.h5
    galprop-py config my.toml --toml > resolved.toml    # a runnable TOML (--json: JSON)
    galprop-py validate my.toml grid.n_r=81             # build the model, solve nothing
    galprop-py info output/result.h5                    # result, checkpoint or snapshot
    galprop-py plot output/result.h5 --ratio B/C --rigidity --output bc.png

Arguments starting with a single ``-`` that are not options of this command go to PETSc
(``-steady_ksp_type gmres``, ``-log_view``); ``block.key=value`` words are config overrides
wherever they stand.  The words are split before typer parses the rest.

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

import contextlib
import io
import sys
from dataclasses import dataclass, field

import typer

from . import stop_signal

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

#: commands whose words with "=" are config overrides
CONFIG_COMMANDS = ("run", "config", "validate", "fit", "scan", "sample")


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


@dataclass
class Request:
    """What the command line asks for (the parsed words; typer fills it)."""

    command: str
    config: str | None = None
    overrides: list[str] = field(default_factory=list)
    restart: str | None = None
    progress: bool = True
    fmt: str = "json"
    file: str | None = None
    species: list[str] = field(default_factory=list)
    ratios: list[str] = field(default_factory=list)
    rigidity: bool = False
    output: str | None = None
    map_process: str | None = None  # plot --map PROCESS
    energy_gev: float = 1.0  # plot --energy
    region: str | None = None  # plot --region L1,L2,B1,B2
    vary: list[str] = field(default_factory=list)
    group_size: int = 1
    array_index: int | None = None  # scan --array-index (a job-array slice)
    array_size: int | None = None  # scan --array-size


class _Stray(Exception):
    """A positional word that is neither the one config file nor block.key=value."""


def _no_stray(ctx: typer.Context) -> None:
    if ctx.args:
        raise _Stray(
            f"argument {ctx.args[0]!r}: expected block.key=value (one config file at most)"
        )


_EXTRA = {"allow_extra_args": True}
app = typer.Typer(
    name="galprop-py",
    help="galprop-py: cosmic-ray transport in galaxies (Parker equation, PETSc, MPI).",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help"]},
)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        if _rank() == 0:
            print(f"galprop-py {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """galprop-py: cosmic-ray transport in galaxies (Parker equation, PETSc, MPI).

    Words block.key=value override config keys; words with one leading dash go to PETSc.
    Exit codes: 0 done, 2 bad input or file problem (one line), 1 internal error, 130
    interrupted.
    """


_CONFIG_ARG = typer.Argument(
    None, metavar="CONFIG", help="TOML config (default: the built-in Milky Way model)."
)


_SPECIES_OPT = typer.Option(
    None, "--species", metavar="NAME", help="A flux panel (repeat): H1, He, C, B, ..."
)
_RATIO_OPT = typer.Option(None, "--ratio", metavar="A/B", help="A ratio panel (repeat): B/C.")
_VARY_OPT = typer.Option(
    None,
    "--vary",
    metavar="KEY=V1,V2,...",
    help="Values of one config key (repeat for a grid of several keys).",
)


@app.command(context_settings=_EXTRA)
def run(
    ctx: typer.Context,
    config: str | None = _CONFIG_ARG,
    restart: str | None = typer.Option(
        None,
        "--restart",
        metavar="FILE",
        help="Checkpoint to continue from; 'auto' = <output_dir>/checkpoint.h5 if it exists.",
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar (as --no-progress)."),
) -> Request:
    """Run a model (steady state or time-dependent) and write its result and plot.

    The progress bar (species solved, or time steps, with the time left) shows on rank 0
    only when stderr is a terminal.
    """
    _no_stray(ctx)
    return Request("run", config, restart=restart, progress=not (no_progress or quiet))


@app.command(context_settings=_EXTRA)
def config(
    ctx: typer.Context,
    config: str | None = _CONFIG_ARG,
    toml: bool = typer.Option(False, "--toml", help="A runnable TOML file (defaults commented)."),
    json: bool = typer.Option(False, "--json", help="JSON (the default)."),
) -> Request:
    """Print the resolved, validated configuration.

    JSON by default; --toml writes a runnable TOML file (keys not given are comments with
    their defaults): galprop-py config my.toml --toml > x.toml; galprop-py run x.toml.
    """
    _no_stray(ctx)
    if toml and json:
        raise _Stray("--toml and --json: choose one output format")
    return Request("config", config, fmt="toml" if toml else "json")


@app.command(context_settings=_EXTRA)
def validate(ctx: typer.Context, config: str | None = _CONFIG_ARG) -> Request:
    """Check a config and build its model, solving nothing.

    Prints grid, species, network size and a memory estimate; exit code 0, or 2 with one
    line naming the problem.
    """
    _no_stray(ctx)
    return Request("validate", config)


@app.command()
def info(file: str = typer.Argument(..., metavar="FILE", help="An HDF5 file of galprop-py.")):
    """Describe a result, checkpoint or snapshot file.

    Kind, species, grid, momentum grid, time and a summary of the config, as a table.
    """
    return Request("info", file=file)


@app.command()
def plot(
    file: str = typer.Argument(..., metavar="FILE", help="A result file."),
    species: list[str] | None = _SPECIES_OPT,
    ratio: list[str] | None = _RATIO_OPT,
    rigidity: bool = typer.Option(
        False, "--rigidity", help="Also the panels against rigidity (where data exist)."
    ),
    output: str | None = typer.Option(
        None, "--output", metavar="PNG", help="Default: <file stem>_spectra.png beside FILE."
    ),
    map_process: str | None = typer.Option(
        None,
        "--map",
        metavar="PROCESS",
        help="A sky map of the run's [emission]: pi0, inverse_compton, bremsstrahlung, "
        "synchrotron (default PNG <file stem>_<PROCESS>_map.png).",
    ),
    energy: float = typer.Option(
        1.0,
        "--energy",
        metavar="GEV",
        help="With --map: the map energy [GeV] (nearest; synchrotron: h nu in GeV).",
    ),
    region: str | None = typer.Option(
        None,
        "--region",
        metavar="L1,L2,B1,B2",
        help="The spectrum of every emission process in the sky box l1..l2, b1..b2 [deg].",
    ),
) -> Request:
    """Plot the local spectra of a result file against the shipped data, or its sky maps.

    Without --species and --ratio: the run's own plot (a nuclear network: p, He, C, O, B/C
    and 10Be/9Be on the data's own axes).  --map PROCESS [--energy GEV]: a Mollweide map;
    --region L1,L2,B1,B2: the gamma-ray spectrum of a sky region.
    """
    return Request(
        "plot", file=file, species=list(species or []), ratios=list(ratio or []), rigidity=rigidity,
        output=output, map_process=map_process, energy_gev=energy, region=region,
    )  # fmt: skip


_GROUP_SIZE_SAMPLING = typer.Option(
    1, "--group-size", help="Ranks per model of the sampling (default 1: one walker per rank)."
)


@app.command(context_settings=_EXTRA)
def fit(
    ctx: typer.Context,
    config: str = typer.Argument(..., metavar="CONFIG", help="TOML config with a [fit] block."),
    group_size: int = _GROUP_SIZE_SAMPLING,
) -> Request:
    """Fit the [fit] block of a config to the data (then sample with [fit.sampling])."""
    _no_stray(ctx)
    return Request("fit", config, group_size=group_size)


@app.command(context_settings=_EXTRA)
def sample(
    ctx: typer.Context,
    config: str = typer.Argument(..., metavar="CONFIG", help="TOML config with a [fit] block."),
    group_size: int = _GROUP_SIZE_SAMPLING,
) -> Request:
    """Sample the posterior of the [fit] block with emcee ([fit.sampling]), walkers in
    parallel; starts at the parameters' initial values (a best_fit.toml: the minimum)."""
    _no_stray(ctx)
    return Request("sample", config, group_size=group_size)


@app.command(context_settings=_EXTRA)
def scan(
    ctx: typer.Context,
    config: str = typer.Argument(
        ..., metavar="CONFIG", help="TOML config (chi^2 columns if it has a [fit] block)."
    ),
    vary: list[str] | None = _VARY_OPT,
    group_size: int = typer.Option(
        1, "--group-size", help="Ranks per model (default 1: as many models at once as ranks)."
    ),
    array_size: int | None = typer.Option(
        None, "--array-size", help="Split the points into N slices (a job array); write a part."
    ),
    array_index: int | None = typer.Option(
        None,
        "--array-index",
        help="The slice to solve, 0..N-1 (default: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN).",
    ),
) -> Request:
    """Solve a grid of parameter values, one table (or one slice of it: scan-merge joins)."""
    _no_stray(ctx)
    return Request(
        "scan", config, vary=list(vary or []), group_size=group_size, array_index=array_index,
        array_size=array_size,
    )  # fmt: skip


@app.command("scan-merge")
def scan_merge(
    directory: str = typer.Argument(
        ..., metavar="DIR", help="The scan's output directory (its scan_parts/ from the array)."
    ),
) -> Request:
    """Merge the part tables of a job-array scan into one scan.h5 / scan.csv."""
    return Request("scan-merge", file=directory)


# --- parsing -------------------------------------------------------------------------------------
def _usage_message(exc) -> str:
    """A click usage error in one line, in the words the command line always used."""
    from typer._click import exceptions as ce

    if isinstance(exc, ce.BadOptionUsage) and "requires an argument" in exc.format_message():
        return f"argument {exc.option_name}: expected one argument"
    return " ".join(exc.format_message().split())


def _command_word(words: list[str]) -> str | None:
    return next((w for w in words if not w.startswith("-")), None)


def parse(words: list[str]) -> Request | int:
    """The request of the command line ``words`` (PETSc options removed), or an exit code
    (help or version printed, or a usage error reported in one line by rank 0)."""
    from typer._click import exceptions as ce

    command = _command_word(words)
    overrides = []
    if command in CONFIG_COMMANDS:
        # block.key=value overrides may stand anywhere (also after --options)
        overrides = [
            a
            for i, a in enumerate(words)
            if "=" in a
            and not a.startswith("-")
            and a != command
            and (i == 0 or words[i - 1] != "--vary")
        ]
        words = [a for a in words if a not in overrides]
    known = command in CONFIG_COMMANDS or command in ("info", "plot", "scan-merge")
    prog = "galprop-py" + (f" {command}" if known else "")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out if _rank() else sys.stdout):
            cmd = typer.main.get_command(app)
            result = cmd.main(args=words, prog_name="galprop-py", standalone_mode=False)
    except (ce.UsageError, _Stray) as exc:
        msg = _usage_message(exc) if isinstance(exc, ce.UsageError) else str(exc)
        if _rank() == 0:
            print(f"galprop-py: error: {msg} (see {prog} --help)", file=sys.stderr, flush=True)
        return EXIT_INPUT
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return EXIT_INTERRUPTED
    if not isinstance(result, Request):  # --help printed
        return EXIT_OK if result is None else int(result)
    result.overrides = overrides
    return result


# --- running -------------------------------------------------------------------------------------
def _expected_errors() -> tuple[type, ...]:
    """Errors that are the user's input or the machine's file system: exit code 2."""
    from .config import ConfigError
    from .solvers.petsc import SolverError

    return (ConfigError, SolverError, OSError, NotImplementedError, ValueError)


def _load(req: Request):
    from mpi4py import MPI

    from .config import load_config
    from .io.safety import every_rank

    path = req.config or str(_default_config_path())
    with every_rank(MPI.COMM_WORLD):
        return load_config(path, req.overrides)


def _command(req: Request) -> int:
    from mpi4py import MPI

    from . import cli_info

    comm = MPI.COMM_WORLD
    if req.command == "info":
        return cli_info.info_command(req.file, comm)
    if req.command == "plot":
        return cli_info.plot_command(req, comm)
    if req.command == "scan-merge":
        from .fit.cli import merge_command

        return merge_command(req.file)
    cfg = _load(req)
    if req.command in ("fit", "scan", "sample"):
        from .fit.cli import command

        return command(req, cfg)
    if req.command == "config":
        if comm.rank == 0:
            if req.fmt == "toml":
                print(cli_info.config_toml(cfg, req), end="")
            else:
                import json

                print(json.dumps(cfg.dump(), indent=2))
        return EXIT_OK
    if req.command == "validate":
        return cli_info.validate_command(cfg, req, comm)
    from pathlib import Path

    from .run import run

    restart = req.restart
    if restart == "auto":
        ck = Path(cfg.run.output_dir) / "checkpoint.h5"
        restart = str(ck) if ck.is_file() else None
    bar = req.progress and comm.rank == 0 and sys.stderr.isatty()
    with cli_info.steady_progress(bar and cfg.run.mode == "steady"):
        run(cfg, restart=restart, progress=req.progress and sys.stderr.isatty())
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
    stop_signal.hold()  # until a run can act on SIGTERM/SIGUSR1 (see stop_signal)
    try:
        return _main(argv)
    finally:
        stop_signal.release()


def _main(argv) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc_args = _split_petsc(argv)
    req = parse(ours)
    if isinstance(req, int):
        return req
    if req.command != "run":  # only a time-dependent run stops on a signal by itself
        stop_signal.release()

    import petsc4py

    petsc4py.init([sys.argv[0]] + petsc_args)

    error, code = None, EXIT_OK
    try:
        code = _command(req) or EXIT_OK
    except KeyboardInterrupt:
        if _rank() == 0:
            print("galprop-py: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        error = exc
    return _report(error) or code


if __name__ == "__main__":
    sys.exit(main())
