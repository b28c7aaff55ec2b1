"""Time reading a real report's attached tables, next to a baseline measured in the same run.

Baseline: pdfplumber's bare ``extract_text`` of every page (what any PDF import costs at least).
Measured: ``opendata.ingest.pdf_tables.read_pdf_tables`` (page texts + table finding + rows).
Each is run ``--repeat`` times; the best time is reported (least disturbed by other load).

With ``--into-rows N`` it also imports the seed narrative into a synthetic package of about N
amounts rows (``opendata.synth``) and prints the time and peak memory of the whole
``opendata import`` (write the report's rows, validate it) beside a baseline of the same run:
``csv.reader`` + ``csv.writer`` copying every CSV of that package (what rewriting it costs at least).

    python benchmarks/import_report.py [PDF] [--repeat N] [--into-rows 1e6]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pdfplumber

from opendata.ingest.pdf_tables import read_pdf_tables

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "reports" / "shanghai-putuo-finance-bureau-2024-final-accounts.pdf"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_a04efb588eb58bab.txt"


def baseline(path: Path) -> int:
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            page.extract_text()
        return len(pdf.pages)


def measured(path: Path) -> int:
    return len(read_pdf_tables(path, report_id="bench", edition=2024).pages)


def best(fn, path: Path, repeat: int) -> tuple[float, int]:
    times, pages = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        pages = fn(path)
        times.append(time.perf_counter() - t0)
    return min(times), pages


def copy_csvs(package: Path, out: Path) -> float:
    """Baseline: read and write every CSV of the package with the csv module."""
    t0 = time.perf_counter()
    for src in sorted((package / "data").glob("*.csv")):
        with open(src, encoding="utf-8", newline="") as fin, open(out / src.name, "w", encoding="utf-8", newline="") as fout:
            csv.writer(fout, lineterminator="\n").writerows(csv.reader(fin))
    return time.perf_counter() - t0


def import_into(rows: int) -> None:
    from opendata.synth import rows_per_report, write_corpus

    work = Path(tempfile.mkdtemp(prefix="opendata-import-bench-"))
    try:
        package = work / "package"
        info = write_corpus(package, max(1, rows // (rows_per_report() * 3)), 3, 0.02, 1)
        amounts = sum(1 for _ in open(package / "data" / "amounts.csv", encoding="utf-8")) - 1
        (work / "copy").mkdir()
        base_s = copy_csvs(package, work / "copy")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "opendata.cli", "import", str(SEED), "--package", str(package)],
                                stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        import_s = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status):
            raise SystemExit("opendata import failed")
        print(f"import of the seed narrative into a package of {amounts:,} amounts rows "
              f"({len(info['seeded_errors'])} seeded errors elsewhere):")
        print(f"baseline  csv.reader + csv.writer copy of every CSV: {base_s:7.2f} s")
        print(f"measured  opendata import (write, validate):         {import_s:7.2f} s  "
              f"peak {usage.ru_maxrss / 1024:.0f} MB")
        print(f"ratio     measured / baseline:                       {import_s / base_s:7.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--into-rows", type=float, default=None,
                    help="also import the seed into a synthetic package of about this many amounts rows")
    args = ap.parse_args(argv)
    if args.into_rows:
        import_into(int(args.into_rows))
    if not args.pdf.exists():
        print(f"{args.pdf}: not found; nothing to measure", file=sys.stderr)
        return 0
    base_s, pages = best(baseline, args.pdf, args.repeat)
    read_s, _ = best(measured, args.pdf, args.repeat)
    res = read_pdf_tables(args.pdf, report_id="bench", edition=2024)
    print(f"report: {args.pdf.name} ({pages} pages, {len(res.report_tables)} tables, {len(res.amounts)} figures)")
    print(f"baseline  pdfplumber extract_text, every page: {base_s:7.3f} s  {pages / base_s:7.1f} pages/s")
    print(f"measured  read_pdf_tables:                    {read_s:7.3f} s  {pages / read_s:7.1f} pages/s")
    print(f"ratio     measured / baseline:                {read_s / base_s:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
