"""Child processes that end with the process that started them.

The build's second process (``parallel.Worker``) and the server's worker processes (``site.app.serve``)
are started by a parent that may be killed (SIGKILL, the out-of-memory killer) without a chance to
stop them: they went on forever, the build's holding the package's lock (an import then waited
120 s and failed), the server's answering on the port. A child calls ``end_with_parent`` first
thing: on Linux the kernel sends it a signal when its parent ends (``PR_SET_PDEATHSIG``, whatever
the child is doing, a long SQLite call included); elsewhere a thread of the child watches for the
parent to be gone (its parent process id changes) and sends the signal itself.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time

#: prctl(2): the signal the calling process gets when its parent ends (linux/prctl.h).
PR_SET_PDEATHSIG = 1

#: Seconds between two looks at the parent, where the kernel cannot tell (not Linux).
POLL_SECONDS = 0.5


def end_with_parent(parent_pid: int, sig: int) -> None:
    """Have this process get ``sig`` (SIGKILL, or SIGTERM for a process that stops cleanly on it)
    as soon as ``parent_pid``, its parent, ends; at once when it has already ended.

    On Linux the signal is sent when the thread that started this process ends, not the whole
    parent: the parent must start it from a thread that outlives it (the main thread, or the one
    that stops it before returning). Does nothing where there are no signals to send (Windows)."""
    if os.name != "posix":
        return
    if not _kernel_signals_parent_death(sig):
        threading.Thread(target=_watch, args=(parent_pid, sig), daemon=True, name="opendata-parent-watch").start()
    if os.getppid() != parent_pid:  # the parent ended before the signal was asked for
        os.kill(os.getpid(), sig)


def _kernel_signals_parent_death(sig: int) -> bool:
    """Ask Linux for ``sig`` when the parent ends (prctl); False where it cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        zero = ctypes.c_ulong(0)
        return libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(sig), zero, zero, zero) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int, sig: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), sig)
