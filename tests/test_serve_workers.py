"""`opendata serve --workers N`: the real server in N processes sharing one port."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server_process import opendata_serve


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_listening_socket_gives_connections_without_delayed_responses() -> None:
    """The socket the server's processes share: accepted connections have TCP_NODELAY (asyncio does not set
    it on a socket without a protocol number, and each response then waits for a delayed ACK)."""
    from opendata.site.app import listening_socket

    listener = listening_socket("127.0.0.1", 0)
    try:
        listener.listen()
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.proto == 0  # what asyncio sees: it would not set the option itself
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        listener.close()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the worker processes")
def test_serve_in_two_processes(site_db, site_package, seed_report) -> None:
    with opendata_serve(site_db, site_package, "--workers", "2") as (base, proc):
        workers = [pid for pid in _descendants(proc.pid)
                   if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
        assert len(workers) == 2, workers

        def get(path: str) -> tuple[int, str | None, str]:
            try:
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    return r.status, r.headers.get("access-control-allow-origin"), r.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.headers.get("access-control-allow-origin"), exc.read().decode()

        path = f"/opendata/report_totals.json?report_id={seed_report}&_shape=array"
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, [path] * 40))
        # Every worker answers the same, with CORS, metadata and the read-only immutable database.
        assert {(status, cors) for status, cors, _ in answers} == {(200, "*")}
        assert len({body for _, _, body in answers}) == 1
        assert json.loads(answers[0][2])[0]["gpb_expenditure"] == 2540.24
        status, _, body = get("/opendata.json?sql=insert+into+reports+(report_id)+values+('x')")
        assert status == 400 and not json.loads(body)["ok"]  # no write
    # Ctrl+C: the supervisor stopped its workers, then itself.
    assert proc.returncode is not None
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the worker processes")
def test_workers_end_when_the_supervisor_is_killed(site_db, site_package) -> None:
    # Killed outright, the supervisor cannot stop its workers: they went on answering on the port.
    with opendata_serve(site_db, site_package, "--workers", "2") as (base, proc):
        children = _descendants(proc.pid)  # the workers, and multiprocessing's resource tracker
        workers = [pid for pid in children
                   if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
        assert len(workers) == 2, workers
        try:
            proc.kill()
            proc.wait()
            deadline = time.monotonic() + 5
            while any(map(_alive, children)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not [pid for pid in children if _alive(pid)], "processes outlived the supervisor"
            with pytest.raises(OSError):  # no one answers on the port
                urllib.request.urlopen(base + "/-/versions.json", timeout=2)
        finally:
            for pid in filter(_alive, workers):
                os.kill(pid, signal.SIGKILL)


def test_default_workers_one_per_core_at_most_four(monkeypatch) -> None:
    from opendata.site import app

    monkeypatch.setattr(app.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert app.default_workers() == 1
    monkeypatch.setattr(app.os, "sched_getaffinity", lambda pid: set(range(3)), raising=False)
    assert app.default_workers() == 3
    monkeypatch.setattr(app.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert app.default_workers() == app.MAX_DEFAULT_WORKERS == 4


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find the worker processes")
def test_serve_by_default_uses_the_cores(site_db, site_package) -> None:
    from opendata.site.app import default_workers

    with opendata_serve(site_db, site_package) as (base, proc):
        workers = [pid for pid in _descendants(proc.pid)
                   if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
        expected = default_workers()
        assert len(workers) == (expected if expected > 1 else 0), workers
        with urllib.request.urlopen(base + "/opendata/standard_tables.json?_shape=array") as r:
            assert len(json.load(r)) == 9


def test_a_worker_leaves_its_startup_heap_out_of_full_collections(site_db, monkeypatch) -> None:
    """What a worker process holds once its app is made (Datasette, templates, metadata) is frozen
    (gc.freeze): full collections no longer walk it while requests wait."""
    import gc

    from opendata.site import app

    monkeypatch.setenv(app.WORKER_ARGS, json.dumps({"db_path": str(site_db), "metadata": str(
        Path(__file__).resolve().parent.parent / "metadata.yml"), "package_dir": None}))
    gc.unfreeze()
    try:
        asgi = app.worker_app()
        assert callable(asgi)
        assert gc.get_freeze_count() > 10_000
        assert len(gc.get_objects(generation=2)) < gc.get_freeze_count() / 10  # the old objects: frozen
    finally:
        gc.unfreeze()


def test_readme_examples_over_http(site_db, site_package, seed_report):
    """Every curl example of README.md, as curl sends it, to the real server: 200 each (a tester's
    literal runs got 400 for the ones with Chinese in the URL, which curl sends as raw bytes)."""
    from test_site import api_examples

    with opendata_serve(site_db, site_package, "--workers", "1") as (base, _):
        for url in api_examples():
            url = url.replace("BASE", base, 1).replace("REPORT", seed_report)
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200, url
                assert response.read(), url
        # What curl sends for a URL with Chinese in it, unencoded: refused.
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall("GET /opendata/search.json?q=行政运行 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert conn.recv(100).startswith(b"HTTP/1.1 400")


#: A query SQLite would run forever, cut off by the server's time limit (1 s).
ENDLESS = "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r"


def test_a_client_sending_pathological_queries_holds_one_thread(site_db, site_package) -> None:
    """One client (its address as the proxy before the server forwards it) sending endless queries
    over four connections held the three SQL threads for the time limit: another client's page
    waited for them. Its queries now run one at a time, and the other's page is answered first."""
    from urllib.parse import urlencode

    def get(base: str, path: str, client: str) -> tuple[int, float]:
        request = urllib.request.Request(base + path, headers={"X-Forwarded-For": client})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        return status, time.monotonic()

    with opendata_serve(site_db, site_package, "--workers", "1") as (base, _proc):
        with ThreadPoolExecutor(5) as pool:
            attacks = [pool.submit(get, base, "/opendata.json?" + urlencode({"sql": ENDLESS}), "198.51.100.7")
                       for _ in range(4)]
            time.sleep(0.3)  # the four are running or waiting in the server
            status, answered = get(base, "/opendata/amounts.json?_size=1&_shape=array", "192.0.2.1")
            ends = sorted(a.result()[1] for a in attacks)
            assert [a.result()[0] for a in attacks] == [400] * 4  # each cut off at the time limit
    assert status == 200
    assert answered < ends[0] < ends[1]  # answered before even the first endless query was cut off
