"""A line of a standard table is one line: every figure of it, read from the table or stated by the
narrative only, carries the name the table prints."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from opendata.ingest.importer import import_report

PUTUO = Path(__file__).resolve().parents[2] / "shared" / "reports" / "shanghai-putuo-finance-bureau-2024-final-accounts.pdf"
PUTUO_ID = "shanghai-putuo-czj-2024-final"


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
def test_a_lines_figure_the_narrative_alone_states_takes_the_tables_name(package_copy: Path) -> None:
    # 表7 prints 合计 预算数 0.95 and a blank 决算数; the narrative's 0.00 for it came in as a line
    # named “三公”经费 beside the table's 合计: a search for 三公 found 决算数 0.00 and no 预算数.
    import_report(PUTUO, package_copy)
    with open(package_copy / "data" / "amounts.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["report_id"] == PUTUO_ID]
    names: dict[tuple, set[str]] = {}
    for r in rows:
        names.setdefault((r["table_no"], r["side"], r["line_key"]), set()).add(r["item"])
    assert {line: items for line, items in names.items() if len(items) > 1} == {}
    t7 = {(r["measure"], r["source_kind"]): (r["item"], r["amount"]) for r in rows
          if r["table_no"] == "7" and r["line_key"] == "合计"}
    assert t7 == {("预算数", "table"): ("合计", "0.95"), ("决算数", "narrative"): ("合计", "0.00")}
    # 表5's 合计 年初预算数, which the PDF's 表5 does not print, is the narrative's.
    t5 = {r["measure"]: r["item"] for r in rows if r["table_no"] == "5" and r["line_key"] == "合计"}
    assert t5 == {"合计": "合计", "基本支出": "合计", "项目支出": "合计", "年初预算数": "合计"}


SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_a04efb588eb58bab.txt"


@pytest.mark.skipif(not SEED.exists(), reason="seed report not available")
def test_an_import_says_which_reports_its_validation_did_not_read(package_copy: Path) -> None:
    # A duplicated row of Putuo's (another department): the import said nothing of it, exit 0, and
    # `build` then refused the package.
    from opendata.ingest.importer import format_summary

    amounts = package_copy / "data" / "amounts.csv"
    lines = amounts.read_text(encoding="utf-8").splitlines(keepends=True)
    putuo_row = next(line for line in lines if line.startswith(PUTUO_ID))
    amounts.write_text("".join(lines) + putuo_row, encoding="utf-8")
    summary = import_report(SEED, package_copy)
    assert summary.validated and not summary.schema_problems and summary.unchecked_reports == 1
    # What the line points to: the whole package's validation finds what the import's does not read.
    from opendata.validate import validate_package

    assert any("amounts.csv" in p and "primary-key" in p for p in validate_package(package_copy).schema_problems)
    assert ("  not checked: the rows of the package's 1 report of other departments (`opendata validate` of "
            "the package checks every row; `build` refuses a package whose rows break its schema)") \
        in format_summary(summary).splitlines()
