"""Rank-aware messages: rank 0 talks to the user, other ranks only warn."""

from __future__ import annotations

import sys

from mpi4py import MPI


def info(msg: str) -> None:
    if MPI.COMM_WORLD.rank == 0:
        print(f"[galprop-py] {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"[galprop-py] warning (rank {MPI.COMM_WORLD.rank}): {msg}", file=sys.stderr, flush=True)
