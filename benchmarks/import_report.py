"""Time reading a real report's attached tables, next to a baseline measured in the same run.

Baseline: pdfplumber's bare ``extract_text`` of every page (what any PDF import costs at least).
Measured: ``opendata.ingest.pdf_tables.read_pdf_tables`` (page texts + table finding + rows).
Each is run ``--repeat`` times; the best time is reported (least disturbed by other load).

    python benchmarks/import_report.py [PDF] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pdfplumber

from opendata.ingest.pdf_tables import read_pdf_tables

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "reports" / "shanghai-putuo-finance-bureau-2024-final-accounts.pdf"


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
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
