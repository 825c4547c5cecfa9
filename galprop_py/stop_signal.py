"""Hold SIGTERM/SIGUSR1 from the first line of the program until a run can act on them.

SLURM's ``--signal=B:USR1@N`` (jobs/transient_chain.slurm) asks a time-dependent run to write
its checkpoint and stop.  The run installs its handler (``run._StopFlag``) only once its
config is read, after the imports of numpy, PETSc, numba and h5py, which take 3 s on a quiet
machine and 20 s or more on a loaded one with an empty numba cache.  A signal that arrived
in that window used to take Python's default action: the rank died with status 138 and
an empty output file, and the job ended FAILED.

:func:`hold` (called first by ``python -m galprop_py`` and by ``cli.main``; it imports only
the standard library) records such a signal instead.  Then exactly one of two things
happens:

* a time-dependent run takes the recorded signal as its stop request (:func:`pending`) and
  stops at its first step with a checkpoint, as for a signal that comes later;
* every other command calls :func:`release`: the default actions come back and a recorded
  signal is delivered again, so a steady run, a fit or ``info`` end on SIGTERM as before.
"""

from __future__ import annotations

import os
import signal
import threading

#: the signals a batch system sends to ask for a clean stop
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)

_received: list[int] = []
_held = False


def _record(signum, frame) -> None:
    _received.append(signum)


def hold() -> None:
    """Record stop signals from now on (main thread only; a no-op elsewhere or when held)."""
    global _held
    if _held or threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _record)
    _held = True


def pending() -> bool:
    """Whether a stop signal arrived while held."""
    return bool(_received)


def release() -> None:
    """Default actions back for what :func:`hold` took; a recorded signal is sent again."""
    global _held
    if not _held:
        return
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is _record:
            signal.signal(sig, signal.SIG_DFL)
    _held = False
    if _received:
        signum = _received[0]
        _received.clear()
        os.kill(os.getpid(), signum)


def taken() -> None:
    """A run has installed its own handler (it read :func:`pending`): nothing to release."""
    global _held
    _held = False
    _received.clear()
