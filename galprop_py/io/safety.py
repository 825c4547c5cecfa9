"""Errors that stop every rank together, and the lock of an output directory.

One rule for everything a run does on the file system or alone on one rank: **every rank
checks the outcome**.  A rank that fails does not raise on its own (the others would wait
for it in their next collective call, for ever); it reports, and every rank raises the same
exception with the same one-line message at the same place:

* :func:`agree` -- the collective check itself: each rank passes the exception it caught
  (or None); if any rank has one, every rank raises it (the lowest failing rank's).
* :func:`on_rank0` -- an action only rank 0 performs (rename a finished file, create a
  directory, remove the lock, plot): run there, checked by every rank, result broadcast.
* :func:`every_rank` -- a block that every rank runs on its own (reading and checking a
  file): any rank's exception is raised on every rank when the block ends.

An exception raised this way is marked (:func:`is_agreed`): clean-up that is collective
(closing a parallel HDF5 file) is safe while it propagates.  Anything else that reaches the
command line is checked there once more, with a time-out (:func:`final_agreement`), so that a
rank that failed alone stops the job instead of leaving the others waiting.

:class:`OutputLock` keeps two runs out of one output directory: ``<output_dir>/galprop-py.lock``
is created atomically by rank 0 (a hard link of a complete temporary file, which fails if the
lock exists, also on NFS), holds the host, process id, start time and run name, and is removed
when the run ends, also when it fails.  A lock left by a process that no longer runs on this
host (a run killed with SIGKILL, a crashed node's run restarted on the same host) is stale:
it is replaced with a warning.  A lock from another host cannot be checked; if that run is
gone, delete the file.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from mpi4py import MPI

from ..messages import warn

LOCK_NAME = "galprop-py.lock"


def one_line(exc: BaseException | str) -> str:
    """The message of ``exc`` on one line (HDF5 and MPI messages may span several)."""
    text = exc if isinstance(exc, str) else str(exc)
    if not isinstance(exc, str) and isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    text = " ".join(text.split())
    if not text and not isinstance(exc, str):
        text = type(exc).__name__
    return text


def _rebuild(cls: type, message: str) -> BaseException:
    try:
        new = cls(message)
    except Exception:  # an exception class that wants other arguments
        new = RuntimeError(message)
    if str(new) != message and not isinstance(new, KeyError):
        new = RuntimeError(message)
    return new


def agree(comm, error: BaseException | None, context: str | None = None) -> None:
    """Collective: raise on every rank if any rank passes an exception.

    The exception raised is the lowest failing rank's, rebuilt with the same type and its
    message on one line (``context + ": "`` in front when given), so every rank stops at the
    same place with the same message.  Cheap when nobody failed (one integer reduction)."""
    comm = comm or MPI.COMM_WORLD
    failed = comm.allreduce(1 if error is not None else 0, op=MPI.SUM)
    if not failed:
        return
    mine = None
    if error is not None:
        text = one_line(error)
        mine = (type(error), f"{context}: {text}" if context else text)
    reports = comm.allgather(mine)
    cls, message = next(r for r in reports if r is not None)
    if error is not None and type(error) is cls and one_line(error) == message:
        error.agreed = True
        raise error
    new = _rebuild(cls, message)
    new.agreed = True
    raise new from None


def is_agreed(exc: BaseException) -> bool:
    """Whether ``exc`` was raised on every rank by :func:`agree` (so collective clean-up is
    safe while it propagates)."""
    return bool(getattr(exc, "agreed", False))


def on_rank0(comm, action, *args, context: str | None = None, **kwargs):
    """Run ``action(*args, **kwargs)`` on rank 0 only; every rank checks the outcome (an
    exception there is raised on every rank) and gets its return value."""
    comm = comm or MPI.COMM_WORLD
    value, error = None, None
    if comm.rank == 0:
        try:
            value = action(*args, **kwargs)
        except Exception as exc:
            error = exc
    agree(comm, error, context)
    return comm.bcast(value, root=0) if comm.size > 1 else value


@contextmanager
def every_rank(comm, context: str | None = None):
    """A block that each rank runs on its own (no collective calls inside): an exception on
    any rank is raised on every rank when the block ends."""
    error = None
    try:
        yield
    except Exception as exc:
        error = exc
    agree(comm, error, context)


def final_agreement(comm, error: BaseException | None, timeout_s: float = 30.0):
    """The command line's last check, on every rank: None when every rank succeeded, else
    ``(rank, exception, complete)`` with the lowest failing rank and its exception (the one
    that rank reports).  Waits at most ``timeout_s`` for the other ranks (a non-blocking
    barrier): a rank that failed alone while the others wait in a collective call gets
    ``(its rank, its error, False)`` back and must abort the job itself."""
    comm = comm or MPI.COMM_WORLD
    if comm.size == 1:
        return None if error is None else (0, error, True)
    if error is not None and is_agreed(error):
        return (0, error, True)  # raised on every rank by agree(): rank 0 reports
    request = comm.Ibarrier()
    deadline = time.monotonic() + timeout_s
    while not request.Test():
        if time.monotonic() > deadline:
            return (comm.rank, error, False) if error is not None else None
        time.sleep(0.01)
    reports = comm.allgather(None if error is None else (type(error), one_line(error)))
    for rank, report in enumerate(reports):
        if report is not None:
            return (rank, error if rank == comm.rank else _rebuild(*report), True)
    return None


# --- free space ----------------------------------------------------------------------------------
def free_bytes(directory: Path) -> int | None:
    """Bytes available to this user in the file system of ``directory`` (its nearest existing
    parent); None where the file system does not say."""
    d = Path(directory).absolute()
    while not d.exists() and d != d.parent:
        d = d.parent
    try:
        st = os.statvfs(d)
    except (OSError, AttributeError):
        return None
    if st.f_blocks == 0:  # pseudo and some network file systems report nothing
        return None
    return int(st.f_bavail) * int(st.f_frsize)


def _megabytes(n: float) -> str:
    return f"{n / 1e6:.3g} MB" if n < 1e9 else f"{n / 1e9:.3g} GB"


def check_free_space(directory: Path, need_bytes: float, comm, what: str) -> None:
    """Refuse (on every rank) to start writing ``what`` when the file system holding
    ``directory`` has less than ``need_bytes`` free."""

    def check():
        free = free_bytes(directory)
        if free is not None and free < need_bytes:
            raise OSError(
                f"not enough disk space for {what}: about {_megabytes(need_bytes)} needed, "
                f"{_megabytes(free)} free in {str(directory)!r}"
            )

    on_rank0(comm, check)


# --- the output-directory lock -------------------------------------------------------------------
def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


class OutputLock:
    """``<directory>/galprop-py.lock`` while a run writes there (context manager, collective).

    Acquiring refuses, on every rank and with one line, when another live run holds the lock;
    a stale lock (its process is gone from this host) is replaced with a warning."""

    def __init__(self, directory: str | Path, comm=None, run_name: str = ""):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self.comm = comm or MPI.COMM_WORLD
        self.run_name = run_name
        self.held = False

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.release()
        else:
            self._release_here()  # no collective call while an error propagates

    def _release_here(self) -> None:
        if self.held and self.comm.rank == 0:
            try:
                if self._holder().get("pid") == os.getpid():
                    self.path.unlink(missing_ok=True)
            except OSError as err:
                warn(f"cannot remove the lock {str(self.path)!r}: {one_line(err)}")
        self.held = False

    def _record(self) -> dict:
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "ranks": self.comm.size,
            "run": self.run_name,
        }

    def _take(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(
                f"cannot create the output directory {str(self.directory)!r}: {exc}"
            ) from None
        mine = self._record()
        tmp = self.directory / f".{LOCK_NAME}.{mine['host']}.{mine['pid']}"
        tmp.write_text(json.dumps(mine))
        try:
            for attempt in range(2):
                try:
                    os.link(tmp, self.path)  # atomic; fails if the lock exists
                    return
                except FileExistsError:
                    if attempt == 0 and self._remove_if_stale():
                        continue
                    raise OSError(self._busy_message()) from None
                except OSError:  # a file system without hard links: exclusive create
                    fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                    with os.fdopen(fd, "w") as fh:
                        fh.write(json.dumps(mine))
                    return
        finally:
            tmp.unlink(missing_ok=True)

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def _remove_if_stale(self) -> bool:
        holder = self._holder()
        pid, host = holder.get("pid"), holder.get("host")
        if host != socket.gethostname() or not isinstance(pid, int) or _process_alive(pid):
            return False
        warn(
            f"removing the stale lock {str(self.path)!r} of run {holder.get('run', '')!r} "
            f"(process {pid} on {host}, started {holder.get('started', '?')}, no longer runs)"
        )
        self.path.unlink(missing_ok=True)
        return True

    def _busy_message(self) -> str:
        h = self._holder()
        who = (
            f"run {h.get('run', '')!r}, process {h.get('pid', '?')} on {h.get('host', '?')}, "
            f"started {h.get('started', '?')}"
            if h
            else "lock file unreadable"
        )
        return (
            f"output directory {str(self.directory)!r} is in use by another run ({who}); "
            f"use another run.output_dir, or delete {str(self.path)!r} if that run is gone"
        )

    def acquire(self) -> None:
        on_rank0(self.comm, self._take)
        self.held = True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False

        def remove():
            if self._holder().get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)

        on_rank0(self.comm, remove, context=f"cannot remove the lock {str(self.path)!r}")
