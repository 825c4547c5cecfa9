"""Rank-aware messages: rank 0 talks to the user, other ranks only warn."""

from __future__ import annotations

import sys

from mpi4py import MPI


def info(msg: str) -> None:
    if MPI.COMM_WORLD.rank == 0:
        print(f"[galprop-py] {msg}", flush=True)


def notice(msg: str) -> None:
    """A warning about the run as a whole (the same on every rank): from rank 0 only."""
    if MPI.COMM_WORLD.rank == 0:
        print(f"[galprop-py] warning: {msg}", file=sys.stderr, flush=True)


def warn(msg: str) -> None:
    print(f"[galprop-py] warning (rank {MPI.COMM_WORLD.rank}): {msg}", file=sys.stderr, flush=True)
