"""`opendata validate`: the findings table, --json, --strict and exit codes 0 / 1 / 2; findings in the build."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from opendata.build import build
from opendata.cli import cli
from opendata.report import validation_json
from opendata.validate import validate_package

from test_rules import PUTUO, SEED, SHIPPED, mutate

#: The shipped reports' error findings, corrected one by one to what the source's own figures give.
FIXES = [
    (SEED, {"section": "第三部分 五（三）3", "topic": "gpb.item.execution_rate"}, 3.9),  # 4.1% -> 12.05 / 305.62
    (PUTUO, {"section": "第三部分 四", "topic": "fiscal.total"}, 2961.68),  # 0.3 -> table 4 总计
    (PUTUO, {"topic": "gpb.class.share", "value": "71.73"}, 71.65),  # 占71.73% -> 2106.66 / 2940.05
]


def _reports(pkg: Path) -> str:
    return (pkg / "data" / "reports.csv").read_text("utf-8")


@pytest.fixture
def warnings_only(package_copy) -> Path:
    for report_id, match, value in FIXES:
        if report_id in _reports(package_copy):
            mutate(package_copy, "statements", {"report_id": report_id, **match}, "value", value)
    if PUTUO in _reports(package_copy):
        # 社会保障和就业支出: tables 1 and 4 print 326.71, tables 3 and 5 print 326.72.
        for table_no, measure in ((1, "决算数"), (4, "合计"), (4, "一般公共预算财政拨款")):
            mutate(package_copy, "amounts", {"report_id": PUTUO, "table_no": table_no, "line_key": "208",
                                             "measure": measure}, "amount", 326.72)
    return package_copy


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_errors_exit_1_with_a_readable_block_per_finding(runner):
    result = runner.invoke(cli, ["validate", str(SHIPPED)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "ERROR   ratio.execution_rate" in out and "WARNING ratio.share" in out
    for label in ("report", "where", "source", "figures", "说明", "message"):
        assert f"  {label}" in out
    assert "stated 4.10   expected 3.94" in out and "第三部分 五（三）3" in out
    assert "statement_no=43" in out
    assert all(_columns(line) <= 100 for line in out.splitlines())
    assert out.strip().splitlines()[-1].startswith("INVALID: ")


def test_json_is_the_same_report(runner):
    result = runner.invoke(cli, ["validate", str(SHIPPED), "--json"])
    assert result.exit_code == 1
    printed = json.loads(result.output)
    assert printed == json.loads(json.dumps(validation_json(validate_package(SHIPPED)), ensure_ascii=False))
    f = next(f for f in printed["findings"] if f["rule_id"] == "ratio.execution_rate")
    assert (f["severity"], f["report_id"], f["stated"], round(f["expected"], 2)) == ("error", SEED, 4.1, 3.94)
    for key in ("resource", "row_ref", "fields", "expected", "stated", "difference", "tolerance", "source_ref",
                "message_zh", "message_en"):
        assert f[key] is not None
    assert "\\u" not in result.output


def test_warnings_only_exit_0_and_strict_exit_1(runner, warnings_only):
    result = runner.invoke(cli, ["validate", str(warnings_only)])
    assert result.exit_code == 0, result.output
    assert "0 errors, 1 warnings" in result.output and result.output.strip().splitlines()[-1].startswith("VALID")
    strict = runner.invoke(cli, ["validate", str(warnings_only), "--strict"])
    assert strict.exit_code == 1
    # The verdict says what the exit status says (a tester saw VALID and exit 1).
    assert strict.output.strip().splitlines()[-1].startswith("INVALID") and "(--strict: warnings fail)" in strict.output
    as_json = runner.invoke(cli, ["validate", str(warnings_only), "--strict", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["valid"] is False


def test_unusable_input_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["validate", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_schema_breakage_is_reported_without_running_rules(runner, package_copy):
    mutate(package_copy, "statements", {"report_id": SEED, "statement_no": 43}, "value", "abc")
    result = runner.invoke(cli, ["validate", str(package_copy)])
    assert result.exit_code in (1, 2)
    assert "statements" in result.output and "value" in result.output
    # It said "1 schema problems, 0 errors, 0 warnings": as if the figures had been checked.
    last = result.output.strip().splitlines()[-1]
    assert "the accounting rules did not run" in last and "0 errors" not in last
    report = json.loads(runner.invoke(cli, ["validate", str(package_copy), "--json"]).output)
    assert report["rules_run"] is False and report["errors"] is None and report["warnings"] is None
    assert report["valid"] is False and len(report["schema_problems"]) == 1
    # Each problem's parts for a program (the line was the only form).
    lines = (package_copy / "data" / "statements.csv").read_text("utf-8").splitlines()
    row = next(n for n, line in enumerate(lines, start=1) if line.startswith(f"{SEED},43,"))
    assert report["schema_problem_details"] == [{"file": "data/statements.csv", "row": row, "field": "value",
                                                "rule": "type-error", "message": 'value "abc": type is "number/default"'}]


def test_a_valid_packages_json_says_the_rules_ran(runner, package_copy):
    report = json.loads(runner.invoke(cli, ["validate", str(package_copy), "--json"]).output)
    assert report["rules_run"] is True and report["errors"] == 5 and report["warnings"] == 1


def test_findings_do_not_stop_the_build_and_land_in_a_table(tmp_path):
    db_path = tmp_path / "out.db"
    result = build(SHIPPED, db_path)
    conn = sqlite3.connect(db_path)
    rows = conn.execute("select rule_id, severity, report_id, row_ref, stated from findings order by id").fetchall()
    assert len(rows) == len(result.findings) >= 2
    assert ("ratio.execution_rate", "error", SEED, 4.1) in {(r[0], r[1], r[2], r[4]) for r in rows}
    # facet columns are indexed
    indexed = {r[0] for r in conn.execute("select name from sqlite_master where type='index' and tbl_name='findings'")}
    assert indexed


def test_validation_without_room_for_its_temporary_database_is_a_clear_error(tmp_path, monkeypatch, runner) -> None:
    import sqlite3

    import opendata.build as build_module
    from opendata.cli import cli

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(build_module, "load_database", full)
    result = runner.invoke(cli, ["validate", str(Path(__file__).resolve().parents[1] / "datapackage")])
    assert result.exit_code == 2
    assert "validation could not run (OperationalError: database or disk is full)" in result.output
    assert "TMPDIR" in result.output and "Traceback" not in result.output


def test_json_for_a_package_that_cannot_be_used(tmp_path):
    # validate --json printed nothing on stdout when it exited 2 (the message went to stderr alone).
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nowhere"), "--json"])  # stdout, stderr apart
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["findings"] == []
    assert report["error"] == f"{tmp_path / 'nowhere'}: no such data package (expected a folder with datapackage.json)"
    assert "no such data package" in result.stderr


def test_a_problems_parts_are_kept_not_read_back_from_its_line(runner, package_copy):
    # A field whose name holds ": " (allowed by the spec): the line read back gave field "备注",
    # a message beginning "说明: ...".
    desc_path = package_copy / "datapackage.json"
    desc = json.loads(desc_path.read_text("utf-8"))
    res = next(r for r in desc["resources"] if r["name"] == "departments")
    res["schema"]["fields"].append({"name": "备注: 说明", "type": "integer"})
    desc_path.write_text(json.dumps(desc, ensure_ascii=False), "utf-8")
    csv_path = package_copy / res["path"]
    lines = csv_path.read_text("utf-8").splitlines()
    lines = [lines[0] + ",备注: 说明"] + [line + (",x" if n == 1 else ",1") for n, line in enumerate(lines[1:], start=1)]
    csv_path.write_text("\n".join(lines) + "\n", "utf-8")
    report = json.loads(runner.invoke(cli, ["validate", str(package_copy), "--json"]).output)
    assert report["schema_problem_details"] == [{"file": res["path"], "row": 2, "field": "备注: 说明",
                                                "rule": "type-error", "message": 'value "x": type is "integer/default"'}]
    assert report["schema_problems"] == [f'{res["path"]}, row 2, field 备注: 说明: value "x": type is "integer/default" '
                                         "(rule: type-error)"]


def test_more_schema_problems_than_are_listed_are_counted_in_full(runner, tmp_path):
    # Past the first 1,000 problems the verdict said "1001 schema problems" (the 1,000 and a line
    # "... and N more problems"), and --json listed that line as a problem of its own.
    from opendata.synth import write_corpus

    pkg = tmp_path / "pkg"
    write_corpus(pkg, 4, 1, error_share=0)
    path = pkg / "data" / "amounts.csv"
    lines = path.read_text("utf-8").splitlines()
    header = lines[0].split(",")
    col = header.index("amount")
    bad = [lines[0]] + [",".join(c if i != col else "１２" for i, c in enumerate(line.split(","))) for line in lines[1:]]
    assert all(line.count(",") == len(header) - 1 for line in lines[1:])  # no quoted commas to split wrong
    path.write_text("\n".join(bad) + "\n", "utf-8")
    total = len(lines) - 1
    assert total > 1000
    result = runner.invoke(cli, ["validate", str(pkg)])
    assert result.exit_code == 1
    assert f"Schema problems ({total}; the first 1000 listed):" in result.output
    assert f"  ... and {total - 1000} more" in result.output
    assert result.output.strip().splitlines()[-1].startswith(f"INVALID: {pkg}: {total} schema problems; ")
    report = json.loads(runner.invoke(cli, ["validate", str(pkg), "--json"]).output)
    assert report["schema_problem_count"] == total and len(report["schema_problems"]) == 1000
    assert all(d["row"] and d["field"] == "amount" and d["rule"] == "type-error" for d in report["schema_problem_details"])
    built = runner.invoke(cli, ["build", str(pkg), "-o", str(tmp_path / "x.db")])
    assert built.exit_code == 2 and f"({total} problems)" in built.output and f"... and {total - 50} more" in built.output
