"""`opendata build --jobs 2` killed from outside: the second process ends with the first, whatever the
signal, and SIGTERM is handled as Ctrl-C (temporary files removed, previous database kept)."""

from __future__ import annotations

import os
import sqlite3
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opendata.build import build
from opendata.staging import package_lock
from opendata.synth import write_corpus

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the second process")

OPENDATA = Path(sys.executable).with_name("opendata")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package of ~35,000 amounts rows: built in about a second, long enough to be killed midway."""
    path = tmp_path_factory.mktemp("killed") / "package"
    write_corpus(path, departments=40, years=3, seed=5)
    return path


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    except FileNotFoundError:  # the process (or one of its threads) has just ended
        return []


def _alive(pid: int) -> bool:
    """Running, not a zombie (a process killed whose parent has not yet reaped it holds no lock)."""
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _start_build(corpus: Path, db: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """`opendata build --jobs 2` in a process of its own (its output to ``log``: a second process
    left running would hold a pipe open), and the pid of its second process once it runs."""
    with log.open("wb") as out:
        proc = subprocess.Popen([str(OPENDATA), "build", str(corpus), "-o", str(db), "--jobs", "2"],
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not (children := _children(proc.pid)):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"the build never started its second process: {log.read_text()}")
        time.sleep(0.005)
    assert len(children) == 1, children
    return proc, children[0]


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_second_process_ends_when_the_build_is_killed(corpus: Path, tmp_path: Path) -> None:
    # It went on alone, holding the package's lock: an import into the package waited 120 s and failed.
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.tmp").write_text("not the build's", encoding="utf-8")
    proc, worker = _start_build(corpus, out / "t.db", tmp_path / "log")
    try:
        deadline = time.monotonic() + 30
        while not any(".tmp." in p.name for p in out.iterdir()):  # the second process's files too
            assert time.monotonic() < deadline and proc.poll() is None, "no file of the second process appeared"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert _gone_within(worker, 5), "the second build process outlived the killed build"
        with package_lock(corpus, exclusive=True, wait=5):  # what an import takes
            pass
        # A killed build cannot remove its files; the next build to the same database does.
        assert len(list(out.iterdir())) > 2
        build(corpus, out / "t.db", jobs=1)
        assert sorted(p.name for p in out.iterdir()) == ["notes.tmp", "t.db", "t.inspect.json"]
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.parametrize("signum, said", [(signal.SIGTERM, "terminated (SIGTERM)"),
                                          # Ctrl-C said "Aborted!" and exited 1, the code of a package with errors
                                          (signal.SIGINT, "interrupted (Ctrl-C)")])
def test_sigterm_stops_the_build_as_ctrl_c_does(corpus: Path, tmp_path: Path, signum: int, said: str) -> None:
    db, log = tmp_path / "out" / "t.db", tmp_path / "log"
    build(corpus, db, jobs=1)
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    proc, worker = _start_build(corpus, db, log)
    try:
        deadline = time.monotonic() + 30
        # Midway: the new database and a file of the second process's are beside the old one.
        while not any(".tmp." in p.name for p in db.parent.iterdir()):
            assert time.monotonic() < deadline and proc.poll() is None, "no file of the second process appeared"
            time.sleep(0.005)
        proc.send_signal(signum)
        proc.wait(timeout=30)
        output = log.read_text()
        assert proc.returncode == 128 + signum, (proc.returncode, output)
        assert "Traceback" not in output and "Aborted!" not in output
        assert said in output
        assert _gone_within(worker, 5)
        after = {p.name: p.read_bytes() for p in db.parent.iterdir()}
        assert after.keys() == before.keys(), f"left behind: {set(after) - set(before)}"
        assert after == before
    finally:
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.parametrize("signum, said", [(signal.SIGINT, "Interrupted (Ctrl-C)"), (signal.SIGTERM, "Interrupted (SIGTERM)")])
def test_a_signal_while_the_database_is_renamed_into_place_says_it_is_kept(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int, said: str) -> None:
    # Held back while the database and its counts were renamed, it came at once after: the build
    # said "Aborted: interrupted (Ctrl-C)" of the database it had just put in place.
    from click.testing import CliRunner

    import opendata.build
    from opendata.cli import cli

    db = tmp_path / "t.db"
    replace = os.replace

    def replace_and_signal(src, dst):
        replace(src, dst)
        if str(dst).endswith(".inspect.json"):
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(opendata.build.os, "replace", replace_and_signal)
    result = CliRunner().invoke(cli, ["build", str(corpus), "-o", str(db), "--jobs", "1"])
    assert result.exit_code == 128 + signum, result.output
    assert f"Built {db}: " in result.output and f"{said} once the new database was in place: {db} is kept" in result.output
    assert "Aborted" not in result.output and "Traceback" not in result.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from amounts").fetchone()[0] > 30_000
    assert db.with_suffix(".inspect.json").is_file() and sorted(p.name for p in tmp_path.iterdir()) == [
        "t.db", "t.inspect.json"]
