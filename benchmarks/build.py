"""Benchmark: full `opendata build` against a bare sqlite3.executemany load of the same rows.

For each corpus size (expenditure rows in `amounts`), a synthetic corpus is generated
(opendata.synth.write_corpus), then in separate child processes:
  - full: opendata.build.build (schema check of every row, every accounting rule, load, indexes,
    views, search index, analyze, hash, atomic rename);
  - bare: csv.reader + sqlite3.executemany of the same CSV rows into untyped tables, one transaction,
    SQLite's defaults: the baseline of "ratio";
  - bare*: the same into pages of the build's size (opendata.build.PAGE_SIZE, 32 KB, faster than
    the default 4 KB for the bare load too): the baseline of "ratio*".
Each is measured ``--repeat`` times (3), in turn, and the run of median time is printed, with the
range of all runs (on a shared machine one run's ratio moves by a tenth either way).
All count every row of every resource. Peak memory is the child's peak RSS (os.wait4), the largest
of the runs. With two
sizes or more, the growth from one size to the next is printed too: the extra rows over the extra
seconds, of the full build and of the bare load, and their ratio (what each further row costs,
the fixed costs of a build, the same at any size, left out).

    .venv/bin/python benchmarks/build.py                    # 10^4 and 10^5
    .venv/bin/python benchmarks/build.py --sizes 1e4,1e5,1e6
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bare_load(package_dir: Path, db_path: Path, page_size: int | None = None) -> dict:
    """csv.reader + executemany into untyped tables, SQLite's defaults (or pages of ``page_size``)."""
    desc = json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8"))
    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    if page_size:
        conn.execute(f"pragma page_size = {int(page_size)}")
    rows = 0
    with conn:
        for res in desc["resources"]:
            names = [f["name"] for f in res["schema"]["fields"]]
            conn.execute(f"create table [{res['name']}] ({', '.join(f'[{n}]' for n in names)})")
            with open(package_dir / res["path"], encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh)
                next(reader)
                cur = conn.executemany(f"insert into [{res['name']}] values ({', '.join('?' * len(names))})", reader)
                rows += cur.rowcount
    conn.close()
    return {"seconds": time.perf_counter() - start, "rows": rows}


def full_build(package_dir: Path, db_path: Path, jobs: int | None) -> dict:
    from opendata.build import LAST_TIMINGS, build

    start = time.perf_counter()
    result = build(package_dir, db_path, jobs=jobs)
    return {"seconds": time.perf_counter() - start, "rows": sum(result.rows.values()),
            "amounts": result.rows.get("amounts", 0), "findings": len(result.findings),
            "steps": dict(LAST_TIMINGS), "jobs": result.processes}


def child(kind: str, package_dir: Path, db_path: Path, jobs: int | None = None) -> dict:
    """Run one measurement in a fresh process; returns its figures, peak RSS in MB (the largest of
    the process and the processes it started) and CPU seconds (all of them)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, str(package_dir), str(db_path)]
                            + (["--jobs", str(jobs)] if jobs else []), stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{kind} build failed (exit {proc.returncode})")
    figures = json.loads(out)
    figures["peak_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    figures["cpu_s"] = usage.ru_utime + usage.ru_stime
    return figures


def median_run(runs: list[dict]) -> dict:
    """The run of median time (the lower middle one of an even number), with the largest peak
    memory of all the runs."""
    chosen = dict(sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2])
    chosen["peak_mb"] = max(r["peak_mb"] for r in runs)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e4,1e5", help="expenditure rows per corpus, comma-separated")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--error-share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=None, help="where corpora go (default: a temporary folder)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes of the full build (default: as `opendata build` decides)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="measurements of each kind per size, taken in turn; the median is printed "
                             "(one run's ratio moves by a tenth on a busy machine)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, package_dir, db_path = args.child
        if kind == "full":
            figures = full_build(Path(package_dir), Path(db_path), args.jobs)
        elif kind == "bare-pages":
            from opendata.build import PAGE_SIZE

            figures = bare_load(Path(package_dir), Path(db_path), PAGE_SIZE)
        else:  # nothing imported but the standard library: its peak memory is the bare load's
            figures = bare_load(Path(package_dir), Path(db_path))
        print(json.dumps(figures))
        return

    from opendata.synth import rows_per_report, write_corpus

    work = Path(args.workdir or tempfile.mkdtemp(prefix="opendata-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'amounts rows':>12} {'all rows':>9} | {'full s':>7} {'CPU s':>6} {'full rows/s':>11} {'peak MB':>7} | "
          f"{'bare s':>6} {'bare rows/s':>11} {'peak MB':>7} | {'ratio':>5} | {'bare s*':>7} {'ratio*':>6} | "
          "findings (seeded)")
    measured: list[tuple[dict, dict]] = []
    try:
        for size in (int(float(s)) for s in args.sizes.split(",")):
            departments = max(1, math.ceil(size / (rows_per_report() * args.years)))
            corpus = work / f"corpus-{size}"
            shutil.rmtree(corpus, ignore_errors=True)
            t = time.perf_counter()
            info = write_corpus(corpus, departments, args.years, args.error_share, args.seed)
            gen = time.perf_counter() - t
            runs: dict[str, list[dict]] = {"full": [], "bare": [], "bare-pages": []}
            for _ in range(max(1, args.repeat)):  # in turn, so that each kind meets the same moments
                runs["full"].append(child("full", corpus, work / f"full-{size}.db", args.jobs))
                for kind in ("bare", "bare-pages"):
                    (work / f"bare-{size}.db").unlink(missing_ok=True)
                    runs[kind].append(child(kind, corpus, work / f"bare-{size}.db"))
            full, bare, paged = (median_run(runs[kind]) for kind in ("full", "bare", "bare-pages"))
            full_rps, bare_rps = full["rows"] / full["seconds"], bare["rows"] / bare["seconds"]
            print(f"{full['amounts']:>12,} {full['rows']:>9,} | {full['seconds']:>7.2f} {full['cpu_s']:>6.1f} {full_rps:>11,.0f} "
                  f"{full['peak_mb']:>7.0f} | {bare['seconds']:>6.2f} {bare_rps:>11,.0f} {bare['peak_mb']:>7.0f} | "
                  f"{full_rps / bare_rps:>5.2f} | {paged['seconds']:>7.2f} {paged['seconds'] / full['seconds']:>6.2f} | "
                  f"{full['findings']} ({len(info['seeded_errors'])})")
            if args.repeat > 1:
                spread = ", ".join(f"{kind} {min(r['seconds'] for r in rs):.2f}-{max(r['seconds'] for r in rs):.2f} s"
                                   for kind, rs in runs.items())
                print(f"{'':>12}   median of {args.repeat} runs of each ({spread})")
            steps = ", ".join(f"{k} {v:.2f}s" for k, v in full["steps"].items())
            print(f"{'':>12}   corpus of {departments} departments x {args.years} years written in {gen:.1f}s; "
                  f"full build ({full['jobs']} process{'es' if full['jobs'] > 1 else ''}) steps: {steps}", flush=True)
            for f in (work / f"full-{size}.db", work / f"bare-{size}.db", work / f"full-{size}.inspect.json"):
                f.unlink(missing_ok=True)
            measured.append((full, bare))
        for (full0, bare0), (full1, bare1) in zip(measured, measured[1:]):
            rows = full1["rows"] - full0["rows"]
            full_s, bare_s = full1["seconds"] - full0["seconds"], bare1["seconds"] - bare0["seconds"]
            if rows > 0 and full_s > 0 and bare_s > 0:
                print(f"from {full0['amounts']:,} to {full1['amounts']:,} amounts rows: {rows:,} rows more, "
                      f"full build +{full_s:.2f} s ({rows / full_s:,.0f} rows/s), bare load +{bare_s:.2f} s "
                      f"({rows / bare_s:,.0f} rows/s): ratio of the growth {bare_s / full_s:.2f}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
