"""Benchmark: the real server (`opendata serve`) on 127.0.0.1 under a bounded load.

Starts `opendata serve` over a built database (or builds a synthetic corpus of --rows expenditure
rows first), then sends a fixed number of requests per page from a few concurrent clients,
loopback only, and prints p50/p99 latency and requests/s per page beside the server's floor
(a plain `select * from amounts limit 50` JSON request), with the CPU each request took in the
server (all its processes, from /proc) and in this load generator, which shares the machine.
Stops the server when done.

    .venv/bin/python benchmarks/serve.py --rows 1e5                # build, then measure
    .venv/bin/python benchmarks/serve.py --db build/bench-1e6.db   # an existing database
    .venv/bin/python benchmarks/serve.py --db ... --soak 300       # + a 5-minute soak: errors and server RSS
    .venv/bin/python benchmarks/serve.py --db ... --workers 1      # opendata serve --workers 1
                                                                   # (default: one per core, at most 4)
    .venv/bin/python benchmarks/serve.py --db ... --attackers 1    # + a client sending pathological
                                                                   # queries all the while
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from datasette.utils import tilde_encode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


#: The target of every page: p99 under this many milliseconds ...
TARGET_P99_MS = 100
#: ... and within this many times the floor's p99.
TARGET_FLOOR_RATIO = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of the process and all its descendants (the server's worker processes)."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += sum(rss_mb(int(child)) for child in (task / "children").read_text().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def pages(db: Path, n: int = 40) -> dict[str, list[str]]:
    """Paths of the pages people use, with parameters drawn from the database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        reports = [r[0] for r in conn.execute("select report_id from reports order by random() limit 20")]
        # The links of the whole amounts table's facets (all but report_id): a filter on one value.
        values = [f"{c}={v}" for c in ("table_no", "measure", "source_kind")
                  for (v,) in conn.execute(f"select distinct {c} from amounts where {c} is not null")]
        # Cursors anywhere in amounts: the next pages of a developer paging through it all.
        cursors = [",".join(tilde_encode(str(v)) for v in key) for key in conn.execute(
            "select report_id, table_no, side, line_key, measure from amounts order by random() limit 20")]
    rng = random.Random(0)

    def rid() -> str:
        return rng.choice(reports)

    words = ["行政运行", "科技", "接待", "信息化建设", "公务用车", "社区", "项目延期", "2010301"]
    return {
        "floor: select ... limit 50": ["/opendata.json?sql=select+*+from+amounts+limit+50&_shape=array"] * n,
        "table JSON (amounts)": ["/opendata/amounts.json?_shape=array"] * n,
        "table JSON, one report": [f"/opendata/amounts.json?report_id={rid()}&_shape=array" for _ in range(n)],
        "facet page, one report": [f"/opendata/amounts.json?report_id={rid()}&_facet=table_no&_facet=measure"
                                   f"&_facet=side" for _ in range(n)],
        "facet page, all rows (metadata facets)": ["/opendata/amounts.json?_size=0"] * n,
        "facet value page (a facet's link, 4 facets)": [f"/opendata/amounts.json?{rng.choice(values)}"
                                                        for _ in range(n)],
        "next page of amounts (a cursor anywhere, metadata facets)": [f"/opendata/amounts.json?_next={rng.choice(cursors)}"
                                                                      for _ in range(n)],
        "table page HTML, all rows (50 rows)": ["/opendata/amounts"] * n,
        "table page HTML, one report (50 rows)": [f"/opendata/amounts?report_id={rid()}" for _ in range(n)],
        "search_index facet page, all rows": ["/opendata/search_index.json?_size=0"] * n,
        "layout view JSON, all reports (表5, 4 facets)": ["/opendata/table5_gpb_expenditure.json"] * n,
        "layout view HTML, all reports (budget_execution)": ["/opendata/budget_execution"] * n,
        "view JSON, all reports (implied_last_year, 2 facets)": ["/opendata/implied_last_year.json"] * n,
        "view HTML, all reports (report_totals, 3 facets)": ["/opendata/report_totals"] * n,
        "search (_search on search_index)": [f"/opendata/search.json?q={rng.choice(words)}&_shape=array"
                                             for _ in range(n)],
        "named query report_overview": [f"/opendata/report_overview.json?report_id={rid()}&_shape=array"
                                        for _ in range(n)],
        "named query compare_totals (all reports)": ["/opendata/compare_totals.json?_shape=array"] * (n // 4),
        "named query compare_growth (all departments)": ["/opendata/compare_growth.json?department_id=&_shape=array"]
        * (n // 4),
        "landing API calls (8 per report)": [
            p for _ in range(n // 8) for r in [rid()] for p in (
                f"/opendata/report_overview.json?report_id={r}&_shape=array",
                f"/opendata/by_class.json?report_id={r}&_shape=array",
                f"/opendata/budget_vs_actual.json?report_id={r}&_shape=array",
                f"/opendata/report_table7.json?report_id={r}&_shape=array",
                f"/opendata/changes.json?report_id={r}&_shape=array",
                f"/opendata/findings.json?report_id={r}&_sort=severity&_size=50&_shape=array",
                "/opendata/standard_tables.json?_sort=table_no&_shape=array",
                f"/opendata/report_tables.json?report_id={r}&_size=20&_shape=array")],
        "landing page (HTML)": ["/"] * (n // 4),
        # Mistyped and stale links, crawlers: answered 404.
        "a missing table (404)": [f"/opendata/no_such_table_{i}" for i in range(n // 4)],
    }


#: Pages answered with another status than 200 (anything else is counted as an error).
EXPECTED_STATUS = {"a missing table (404)": 404}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the process and all its descendants (the server's worker
    processes), from /proc; 0 where there is no /proc."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += sum(cpu_seconds(int(child)) for child in (task / "children").read_text().split())
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        pass
    return total


async def run_page(client: httpx.AsyncClient, paths: list[str], concurrency: int, server_pid: int = 0,
                   expected: int = 200) -> dict:
    queue = list(paths)
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(n: int) -> None:
        # Each concurrent client its own address, as a proxy before the server would forward it:
        # the server runs one query at a time for each client (site/sql_executor.py).
        headers = {"X-Forwarded-For": f"192.0.2.{n + 1}"}
        while queue:
            path = queue.pop()
            t = time.perf_counter()
            try:
                r = await client.get(path, headers=headers)
                if r.status_code != expected:
                    errors.append(f"{r.status_code} {path}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__} {path}")
            latencies.append(time.perf_counter() - t)

    start, client_cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    wall = time.perf_counter() - start
    n = len(latencies)
    latencies.sort()
    return {"n": n, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(n - 1, math.ceil(0.99 * n) - 1)] * 1000,
            "rps": n / wall, "errors": errors,
            # CPU per request: the server's (all its processes) and this load generator's
            "server_cpu": (cpu_seconds(server_pid) - server_cpu) * 1000 / n if server_pid else 0.0,
            "client_cpu": (time.process_time() - client_cpu) * 1000 / n}


#: What ``--attackers`` send, again and again: a query SQLite would run forever, cut off by the
#: server's time limit (sql_time_limit_ms).
PATHOLOGICAL = "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r"


async def attack(base: str, stop: asyncio.Event, statuses: list[int], address: str) -> None:
    """Send PATHOLOGICAL until ``stop`` is set, as the client at ``address``, over four connections;
    each answer's status into ``statuses``."""
    async with httpx.AsyncClient(base_url=base, timeout=60, headers={"X-Forwarded-For": address}) as client:
        await asyncio.gather(*(_attack(client, stop, statuses) for _ in range(ATTACK_CONNECTIONS)))


#: Connections each attacker sends its queries over, at once.
ATTACK_CONNECTIONS = 4


async def _attack(client: httpx.AsyncClient, stop: asyncio.Event, statuses: list[int]) -> None:
    while not stop.is_set():
        try:
            r = await client.get("/opendata.json", params={"sql": PATHOLOGICAL})
            statuses.append(r.status_code)
        except httpx.HTTPError:
            statuses.append(0)


async def measure(base: str, db: Path, concurrency: int, soak: float, server_pid: int, n: int,
                  keepalive: bool = True, attackers: int = 0) -> int:
    stop, statuses = asyncio.Event(), []
    attacks = [asyncio.create_task(attack(base, stop, statuses, f"198.51.100.{k + 1}")) for k in range(attackers)]
    try:
        return await _measure(base, db, concurrency, soak, server_pid, n, keepalive)
    finally:
        stop.set()
        await asyncio.gather(*attacks)
        if attackers:
            counts = {code: statuses.count(code) for code in sorted(set(statuses))}
            print(f"attackers: {attackers} clients ({ATTACK_CONNECTIONS} connections each) sent {len(statuses)} "
                  f"pathological queries meanwhile "
                  f"(answers by status: {counts}; 400 = cut off at the time limit)")


async def _measure(base: str, db: Path, concurrency: int, soak: float, server_pid: int, n: int,
                   keepalive: bool) -> int:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency if keepalive else 0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        plan = pages(db, n)
        # Warm up: each page once per client connection, so that every server process has rendered
        # it once (a process compiles a page's templates on its first render).
        for name, paths in plan.items():
            await run_page(client, [paths[0]] * concurrency, concurrency, expected=EXPECTED_STATUS.get(name, 200))
        results = {name: await run_page(client, paths, concurrency, server_pid, EXPECTED_STATUS.get(name, 200))
                   for name, paths in plan.items()}
        floor = results["floor: select ... limit 50"]
        print(f"{'page':42} {'n':>4} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>6} {'p99/floor':>9} "
              f"{'CPU ms/req server':>17} {'client':>6} errors  target")
        bad = 0
        for name, r in results.items():
            # The target: p99 under 100 ms and within 3x of the floor.
            over = [why for why, hit in (("p99>100ms", r["p99"] > TARGET_P99_MS),
                                         ("p99>3x floor", r["p99"] > TARGET_FLOOR_RATIO * floor["p99"])) if hit]
            print(f"{name:42} {r['n']:>4} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['rps']:>6.1f} "
                  f"{r['p99'] / floor['p99']:>9.1f} {r['server_cpu']:>17.2f} {r['client_cpu']:>6.2f} "
                  f"{len(r['errors']):>6}  {', '.join(over) or 'met'}")
            bad += len(r["errors"])
            for e in r["errors"][:3]:
                print(f"    {e}")
        if soak:
            print(f"\nsoak: {soak:.0f}s of the same mix, {concurrency} clients; server RSS every ~10s")
            mix = [p for name, paths in plan.items() if name not in EXPECTED_STATUS for p in paths]
            end, samples, total, errors = time.monotonic() + soak, [rss_mb(server_pid)], 0, []
            while time.monotonic() < end:
                r = await run_page(client, random.sample(mix, min(len(mix), 100)), concurrency)
                total += r["n"]
                errors += r["errors"]
                if time.monotonic() - 10 > getattr(measure, "_last", 0):
                    measure._last = time.monotonic()  # type: ignore[attr-defined]
                    samples.append(rss_mb(server_pid))
            print(f"requests {total}, errors {len(errors)}, server RSS MB: "
                  + " ".join(f"{s:.0f}" for s in samples))
            bad += len(errors)
        return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="an existing database built by `opendata build`")
    parser.add_argument("--rows", default="1e5", help="without --db: expenditure rows of the corpus to build")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes (opendata serve --workers; default: as opendata serve decides)")
    parser.add_argument("--new-connections", action="store_true",
                        help="a new connection per request (visitors who come back after the keep-alive timeout), "
                             "instead of one kept-alive connection per client")
    parser.add_argument("--requests", type=int, default=40, help="requests per page (a quarter for the slow ones)")
    parser.add_argument("--soak", type=float, default=0, help="seconds of soak after the measurements (max 900)")
    parser.add_argument("--attackers", type=int, default=0,
                        help="clients sending a pathological query (a recursive CTE) again and again meanwhile")
    args = parser.parse_args()
    soak = min(args.soak, 900)

    work = None
    if args.db:
        db = Path(args.db)
    else:
        from opendata.build import build
        from opendata.synth import rows_per_report, write_corpus

        work = Path(tempfile.mkdtemp(prefix="opendata-serve-bench-"))
        rows = int(float(args.rows))
        write_corpus(work / "package", math.ceil(rows / (rows_per_report() * 3)), 3, 0.02, 1)
        db = work / "opendata.db"
        t = time.perf_counter()
        result = build(work / "package", db)
        print(f"built {db}: {result.rows['amounts']:,} amounts rows in {time.perf_counter() - t:.1f}s")

    from opendata.site.app import default_workers

    workers = args.workers or default_workers()
    port = free_port()
    cmd = [sys.executable, "-m", "opendata.cli", "serve", str(db), "--host", HOST, "--port", str(port),
           "--metadata", str(ROOT / "metadata.yml"), "--package", str(ROOT / "datapackage"), "--workers", str(workers)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/-/versions.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        if workers > 1:  # the first worker answered: let the others finish starting
            time.sleep(3)
        print(f"server pid {server.pid} ({workers} worker process{'es' if workers > 1 else ''}) on {base}, RSS {rss_mb(server.pid):.0f} MB; "
              f"{args.concurrency} concurrent clients")
        bad = asyncio.run(measure(base, db, args.concurrency, soak, server.pid, args.requests,
                                  keepalive=not args.new_connections, attackers=args.attackers))
        print(f"server RSS at the end {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
