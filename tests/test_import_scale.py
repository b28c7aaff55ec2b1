"""Importing into a large package: the rows of other reports are streamed through untouched, and
the validation reads the imported report and its department's other reports only, with the same
findings as a validation of the whole package."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from opendata.ingest.importer import import_report
from opendata.package import load_package, replace_report_rows
from opendata.synth import write_corpus
from opendata.validate import department_reports, validate_package, validate_reports

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_a04efb588eb58bab.txt"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "package"
    write_corpus(path, departments=8, years=3, error_share=0.6, seed=21)
    return path


def _rows(package: Path, name: str) -> list[list[str]]:
    with open(package / "data" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _key(f) -> tuple:
    return (f.rule_id, f.report_id, f.row_ref, f.message_en)


def test_department_reports(corpus: Path) -> None:
    reports = _rows(corpus, "reports")
    header = reports[0]
    rid, dep = header.index("report_id"), header.index("department_id")
    first = reports[1]
    expected = {r[rid] for r in reports[1:] if r[dep] == first[dep]}
    assert len(expected) == 3 and department_reports(corpus, first[rid]) == expected


def test_validating_a_department_finds_what_the_whole_package_finds_about_it(corpus: Path) -> None:
    whole = validate_package(corpus)
    seeded = json.loads((corpus / "seeded_errors.json").read_text(encoding="utf-8"))
    assert seeded and whole.findings
    departments = {frozenset(department_reports(corpus, e["report_id"])) for e in seeded}
    assert len(departments) >= 3
    for reports in departments:
        part = validate_reports(corpus, set(reports))
        assert part.package == str(corpus) and not part.schema_problems
        assert sorted(map(_key, part.findings)) == sorted(_key(f) for f in whole.findings if f.report_id in reports)
        assert part.findings


def test_rows_of_a_report_that_break_the_schema_are_named_in_the_package_itself(corpus: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    rows = _rows(pkg, "amounts")
    header = rows[0]
    target = rows[-1][header.index("report_id")]
    rows[-1][header.index("amount")] = "一百"
    with open(pkg / "data" / "amounts.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    result = validate_reports(pkg, {target})
    text = "\n".join(result.schema_problems)
    # The row number and file are those of the package, not of the copy validated first.
    assert f"row {len(rows)}" in text and "data/amounts.csv" in text and "amount" in text
    assert "opendata-validate-" not in text


def test_replacing_a_report_streams_the_other_rows_through(corpus: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    before = _rows(pkg, "amounts")
    header = before[0]
    at = header.index("report_id")
    ids = sorted({r[at] for r in before[1:]})
    middle = ids[len(ids) // 2]
    old = [r for r in before[1:] if r[at] == middle]
    package = load_package(pkg)
    fields = [f.name for f in package.get_resource("amounts").schema.fields]
    new = [dict(zip(fields, r)) for r in old[:5]]
    for row in new:
        row["amount"] = 1.5
    replace_report_rows(pkg, middle, {"amounts": new})
    after = _rows(pkg, "amounts")
    others = [r for r in before[1:] if r[at] != middle]
    assert [r for r in after[1:] if r[at] != middle] == others  # every other row, as it was
    mine = [i for i, r in enumerate(after) if r[at] == middle]
    assert len(mine) == 5 and mine == list(range(mine[0], mine[0] + 5))  # together, in report order
    assert after[mine[0] - 1][at] < middle < after[mine[-1] + 1][at]
    assert {r[header.index("amount")] for r in (after[i] for i in mine)} == {"1.5"}
    # A report id after every other one goes at the end.
    replace_report_rows(pkg, "zzz-last", {"amounts": [{**new[0], "report_id": "zzz-last"}]})
    assert _rows(pkg, "amounts")[-1][at] == "zzz-last"


@pytest.mark.skipif(not SEED.exists(), reason="seed report not available")
def test_import_into_a_large_package_keeps_every_other_row_byte_for_byte(corpus: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    before = {p.name: p.read_bytes() for p in (pkg / "data").iterdir()}
    summary = import_report(SEED, pkg)
    assert summary.validated and not summary.schema_problems
    # The seed's two findings (4.1% stated vs 12.05 / 305.62; 6.4% vs 164.55 / 2540.24), as in the shipped package.
    assert sorted(f["rule_id"] for f in summary.findings) == ["ratio.execution_rate", "ratio.share"]
    rid = summary.report_id
    for name in ("amounts", "statements", "projects"):
        after = (pkg / "data" / f"{name}.csv").read_bytes()
        kept = [line for line in after.split(b"\n") if not line.startswith(rid.encode())]
        assert hashlib.sha256(b"\n".join(kept)).hexdigest() == hashlib.sha256(before[f"{name}.csv"]).hexdigest(), name
    assert sum(1 for r in _rows(pkg, "amounts") if r[0] == rid) == 71


@pytest.mark.skipif(not SEED.exists(), reason="seed report not available")
def test_a_paragraph_of_thousands_of_figures_is_stored_once_per_figure_not_once_per_figure_squared(tmp_path):
    # A tester's report ending in one "sentence" of 8,000 figures (no 。): every statement kept the
    # whole paragraph (1.3 GB of statements.csv), and the import took 63 s (the search for terms of use
    # and each figure's tests went over the whole line, for every figure).
    from opendata.ingest.narrative import SENTENCE_MAX

    package = tmp_path / "package"
    shutil.copytree(Path(__file__).resolve().parents[1] / "datapackage", package)
    text = SEED.read_text(encoding="utf-8")
    long = tmp_path / "long.txt"
    long.write_text(text + "".join(f"收入{i}.45万元，" for i in range(4000)) + "以上为测试。", encoding="utf-8")
    summary = import_report(long, package, report_id="zhuzhou-lusong-kjgxj-2020-final")  # replaces the seed
    rows = [r for r in csv.DictReader((package / "data" / "statements.csv").open(encoding="utf-8"))
            if r["report_id"] == summary.report_id]
    added = [r for r in rows if r["section"] == rows[-1]["section"] and "收入" in r["sentence"]
             and r["sentence"].startswith("…")]
    assert len(added) > 3900  # the figures of the paragraph, each stored with the clauses around it
    assert max(len(r["sentence"]) for r in rows) <= 2 * 200 + 40
    for r in added[::500]:
        figure = f"收入{Decimal(r['value'])}万元" if "." in r["value"] else None
        assert figure is None or figure in r["sentence"], (r["value"], r["sentence"])
    short = [r for r in rows if not r["sentence"].startswith("…")]
    assert short and all(len(r["sentence"]) <= SENTENCE_MAX for r in short)  # the report's own, whole
    assert (package / "data" / "statements.csv").stat().st_size < 3_000_000


def test_an_excerpt_is_the_figures_clauses() -> None:
    from opendata.ingest.narrative import SENTENCE_MAX, excerpt

    sentence = "，".join(f"第{i}项支出{i}.5万元" for i in range(300)) + "。"
    assert len(sentence) > SENTENCE_MAX
    at = sentence.index("支出150.5万元")
    cut = excerpt(sentence, at + 2, at + 2 + len("150.5万元"))
    assert cut.startswith("…第") and cut.endswith("，…") and "第150项支出150.5万元" in cut
    assert len(cut) <= 2 * 200 + 20
    assert excerpt(sentence, 2, 8).startswith("第0项支出0.5万元") and excerpt("  短句12万元。", 2, 7) == "短句12万元。"
