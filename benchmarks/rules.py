"""Benchmark: how each accounting rule's time grows with the corpus.

For each size (expenditure rows in `amounts`) a synthetic corpus is written (opendata.synth), loaded
into a database file the way the build loads it (tables, keys, indexes; no planner statistics, as
when the build runs the rules), and every rule is timed alone (CPU seconds). The last column is the
growth of each rule's time between the smallest and the largest corpus, beside the growth of the
rows: a rule whose time grows much faster than the rows (a plan that reads a whole table for each
row) is marked. Baseline in the same run: a plain scan of `amounts` (`select count(*) ... not indexed`).

    .venv/bin/python benchmarks/rules.py                         # 10^5 and 10^6 rows (about 1 minute)
    .venv/bin/python benchmarks/rules.py --sizes 1e4,1e5
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def time_rules(package: Path, db_path: Path) -> tuple[int, float, dict[str, tuple[float, int]]]:
    """(amounts rows, seconds of a plain scan, {rule id: (CPU seconds, findings)})."""
    import sqlite_utils

    from opendata.build import load_database
    from opendata.package import load_package
    from opendata.rules import REGISTRY, rule_ids

    db = sqlite_utils.Database(db_path)
    db.conn.execute("pragma journal_mode = off")
    with db.conn:
        load_database(db, load_package(package))
    rows = db.execute("select count(*) from amounts").fetchone()[0]
    start = time.process_time()
    db.execute("select count(*) from amounts not indexed where amount is not null").fetchone()
    scan = time.process_time() - start
    times = {}
    for rule_id in rule_ids():
        start = time.process_time()
        found = len(list(REGISTRY[rule_id].check(db)))
        times[rule_id] = (time.process_time() - start, found)
        # Temporary tables stay, as in one run_rules: the hierarchy rules share their sums (the
        # first of them pays for them).
    db.close()
    return rows, scan, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e5,1e6", help="expenditure rows per corpus, comma-separated")
    parser.add_argument("--workdir", default=None, help="where corpora go (default: a temporary folder)")
    args = parser.parse_args()
    from opendata.synth import rows_per_report, write_corpus

    sizes = [int(float(s)) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        results = []
        for size in sizes:
            corpus = work / f"rules-corpus-{size}"
            write_corpus(corpus, max(1, math.ceil(size / (rows_per_report() * 3))), 3, 0.02, 1)
            db_path = work / f"rules-{size}.db"
            db_path.unlink(missing_ok=True)
            results.append(time_rules(corpus, db_path))
            db_path.unlink()
    rows = [r[0] for r in results]
    growth_rows = rows[-1] / rows[0]
    print("rows: " + ", ".join(f"{n:,}" for n in rows) + f" (x{growth_rows:.1f}); plain scan of amounts: "
          + ", ".join(f"{r[1]:.3f} s" for r in results))
    print(f"{'rule':38s}" + "".join(f"{n:>12,}" for n in rows) + "  growth  findings")
    total = [0.0] * len(results)
    for rule_id in results[0][2]:
        secs = [r[2][rule_id][0] for r in results]
        total = [t + s for t, s in zip(total, secs)]
        growth = secs[-1] / max(secs[0], 1e-4)
        mark = "  <- grows faster than the rows" if growth > 2 * growth_rows and secs[-1] > 0.05 else ""
        print(f"{rule_id:38s}" + "".join(f"{s:11.3f}s" for s in secs) + f"  x{growth:5.1f}"
              f"  {results[-1][2][rule_id][1]:>8}{mark}")
    print(f"{'all rules':38s}" + "".join(f"{s:11.3f}s" for s in total) + f"  x{total[-1] / total[0]:5.1f}")


if __name__ == "__main__":
    main()
