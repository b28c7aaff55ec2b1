"""`opendata serve` as a real process on a free loopback port, for the tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


#: Ports the servers of the tests may take, as FIRST-LAST (a shared machine's own), else any free one.
PORTS = os.environ.get("OPENDATA_TEST_PORTS")


def free_port() -> int:
    """A loopback port no one listens on: one of OPENDATA_TEST_PORTS when it is set."""
    first, last = (int(p) for p in PORTS.split("-")) if PORTS else (0, 0)
    for port in range(first, last + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in OPENDATA_TEST_PORTS={PORTS}")


@contextmanager
def opendata_serve(db: Path, package: Path, *options: str, wait: float = 20) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, process) of `opendata serve DB` with the shipped metadata, once it answers;
    stopped with Ctrl+C (SIGINT) at the end, killed if it does not stop within 20 s."""
    port = free_port()
    opendata = Path(sys.executable).with_name("opendata")
    command = [str(opendata), "serve", str(db), "--port", str(port), "--metadata", str(ROOT / "metadata.yml"),
               "--package", str(package), *options]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"opendata serve exited: {proc.stdout.read().decode()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"opendata serve did not answer within {wait:.0f} s") from None
                time.sleep(0.1)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
