"""``lifeline.end_with_parent``: a child process ends when its parent is killed, on Linux through the
kernel (PR_SET_PDEATHSIG) and elsewhere through a thread watching for the parent to be gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

CHILD = """
import os, signal, sys, time
from opendata import lifeline
if sys.argv[1] == "watch":
    lifeline._kernel_signals_parent_death = lambda sig: False
    lifeline.POLL_SECONDS = 0.05
lifeline.end_with_parent(int(sys.argv[2]), signal.SIGTERM)
print("ready", flush=True)
time.sleep(60)
"""

# The parent: starts the child, says its pid once the child is ready, then waits to be killed.
PARENT = textwrap.dedent("""
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], str(os.getpid())],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\\n"
    print(child.pid, flush=True)
    time.sleep(60)
""")


def _alive(pid: int) -> bool:
    """Running, not a zombie (killed, not yet reaped by the init process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:  # no /proc to tell a zombie by
        return True


@pytest.mark.parametrize("how", ["kernel", "watch"])
def test_child_ends_when_its_parent_is_killed(how: str) -> None:
    if how == "kernel" and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD, how], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        assert _alive(child)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child), "the child outlived its parent"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
        parent.stdout.close()


def test_child_whose_parent_has_already_ended_ends_at_once() -> None:
    # The parent died between the fork and the call: the signal is sent at once, not never. The
    # child is told of a parent that is not its own (one that has ended).
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    proc = subprocess.run([sys.executable, "-c", CHILD, "kernel", str(gone.pid)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert "ready" not in proc.stdout
