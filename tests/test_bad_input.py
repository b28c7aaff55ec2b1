"""Every kind of broken input to validate, build and import: a clear message naming file, row,
field and rule, a non-zero exit, no traceback. Files that can be read correctly are.

The streaming reader's findings are compared with frictionless's on the same broken file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from pdf_samples import tiny_pdf
from click.testing import CliRunner

from opendata.build import build
from opendata.cli import cli
from opendata.errors import OpenDataError, PackageError
from opendata.model import MODEL_TYPES
from opendata.package import load_package, schema_problems
from opendata.schema_stream import read_package
from opendata.synth import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "package"
    write_corpus(path, departments=2, years=1, error_share=0.0, seed=3)
    return path


@pytest.fixture
def pkg(corpus: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "package"
    shutil.copytree(corpus, dest)
    return dest


def _rows(pkg: Path, name: str) -> list[list[str]]:
    with open(pkg / "data" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write_rows(pkg: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (pkg / "data" / f"{name}.csv").write_bytes(buf.getvalue().encode(encoding))


def _set_cell(pkg: Path, name: str, row: int, field: str, value: str) -> None:
    """Set a cell; ``row`` counts like frictionless (header = row 1)."""
    rows = _rows(pkg, name)
    rows[row - 1][rows[0].index(field)] = value
    _write_rows(pkg, name, rows)


def _declare(pkg: Path, name: str, **props) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    for res in desc["resources"]:
        if res["name"] == name:
            res.update(props)
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")


def _fails_everywhere(pkg: Path, tmp_path: Path, *needles: str) -> str:
    """validate exits 1 (or 2), build exits 2 and keeps no database; both name every needle."""
    runner = CliRunner()
    v = runner.invoke(cli, ["validate", str(pkg)], catch_exceptions=False)
    assert v.exit_code in (1, 2), v.output
    db = tmp_path / "out.db"
    b = runner.invoke(cli, ["build", str(pkg), "-o", str(db)], catch_exceptions=False)
    assert b.exit_code == 2, b.output
    assert not db.exists()
    for out in (v.output, b.output):
        assert "Traceback" not in out
        flat = " ".join(out.split())  # the report wraps long lines
        for needle in needles:
            assert " ".join(needle.split()) in flat, (needle, out)
    return b.output


# --- Cells ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, rule, hint", [
    ("abc", "type-error", 'value "abc"'),
    ("1,234.50", "type-error", "thousands separators"),
    ("-5.00", "amount-nonnegative", "negative amount"),
    ("1e12", "number-range", "not a plausible amount"),
    ("NaN", "type-error", 'value "NaN"'),  # amount is not a bare number: letters are stripped, as in frictionless
    ("万元", "type-error", 'value "万元"'),
])
def test_bad_amounts(pkg: Path, tmp_path: Path, value: str, rule: str, hint: str) -> None:
    _set_cell(pkg, "amounts", 7, "amount", value)
    out = _fails_everywhere(pkg, tmp_path, "data/amounts.csv", "row 7", "field amount", f"rule: {rule}", hint)
    # A word with no figure is said to be one: "carries text ("abc" and "abc")" named it twice.
    assert "carries text" not in out


@pytest.mark.parametrize("given", ["report.txt", "report.pdf"])
def test_a_report_given_where_the_package_goes_is_not_a_package(tmp_path: Path, given: str) -> None:
    # validate REPORT.txt said "line 3, column 5: malformed JSON (Extra data)"; a PDF, a UTF-8 error.
    report = tmp_path / given
    report.write_bytes("2020年度部门决算\n情况说明".encode() if given.endswith(".txt") else b"%PDF-1.4\n\xc7\xe1")
    for command in (["validate", str(report)], ["build", str(report), "-o", str(tmp_path / "x.db")]):
        r = CliRunner().invoke(cli, command)
        assert r.exit_code == 2 and "Traceback" not in r.output
        assert f"{report}: not a data package (give the folder with its datapackage.json" in " ".join(r.output.split())
        assert "opendata import REPORT --package FOLDER" in r.output


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "1e300"])
def test_non_finite_statement_value(pkg: Path, tmp_path: Path, value: str) -> None:
    _set_cell(pkg, "statements", 3, "value", value)
    _fails_everywhere(pkg, tmp_path, "data/statements.csv, row 3, field value", "rule: number-range")


def test_unit_suffix_is_read_as_frictionless_does(pkg: Path) -> None:
    _set_cell(pkg, "amounts", 6, "amount", "12.50万元")  # bareNumber false: the unit is stripped
    assert schema_problems(load_package(pkg)) == []


@pytest.mark.parametrize("value, hint", [
    # bareNumber false strips leading characters that are not digits: frictionless strips the point
    # too and reads ".5" as 5, a figure ten times the one written.
    (".5", "a decimal point with no digit before it: write 0.5"),
    ("¥.5", "a decimal point with no digit before it: write 0.5"),
    ("+.50万元", "a decimal point with no digit before it: write 0.5"),
    # Accounting's way of writing a negative figure; frictionless strips the parentheses: 12.5.
    ("(12.5)", "a figure in parentheses may be a negative one"),
    ("（12.50）", "a figure in parentheses may be a negative one"),
    ("(12.5万元)", "a figure in parentheses may be a negative one"),
    # A minus sign frictionless strips with the rest: a negative figure read as a positive one.
    ("\u221212.5", 'a minus sign other than "-" before the digits (or one after them): write -12.5'),
    ("－12.5", 'a minus sign other than "-"'),
    ("—12.5", 'a minus sign other than "-"'),
    ("¥−12.5", 'a minus sign other than "-"'),
    ("12.5-", 'a minus sign other than "-"'),
    ("12.5−万元", 'a minus sign other than "-"'),
])
def test_figures_frictionless_would_misread_are_refused(pkg: Path, tmp_path: Path, value: str, hint: str) -> None:
    _set_cell(pkg, "amounts", 7, "amount", value)
    assert ("data/amounts.csv", 7, "amount", "type-error") not in _frictionless_findings(pkg)
    _fails_everywhere(pkg, tmp_path, "data/amounts.csv, row 7, field amount", "rule: type-error", hint)


@pytest.mark.parametrize("value, stored", [("5.", 5.0), ("¥0.5", 0.5), ("0.50万元", 0.5)])
def test_decimal_points_that_are_read(pkg: Path, tmp_path: Path, value: str, stored: float) -> None:
    _set_cell(pkg, "amounts", 7, "amount", value)
    build(pkg, tmp_path / "x.db")
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("select amount from amounts where rowid = 6").fetchone() == (stored,)


def test_negative_balance_line_is_allowed(pkg: Path) -> None:
    rows = _rows(pkg, "amounts")
    i = next(i for i, r in enumerate(rows) if r[4] == "年末结转和结余")
    rows[i][9] = "-3.00"
    _write_rows(pkg, "amounts", rows)
    assert schema_problems(load_package(pkg)) == []


@pytest.mark.parametrize("value, hint", [
    ("１２３.４５", "full-width characters"),  # full-width digits (int() and float() read them)
    ("١٢٣", "digits other than 0-9"),  # Arabic-Indic
    ("1_234", "an underscore is not read as a digit separator"),  # float() reads 1234
])
def test_digits_other_than_0_to_9_are_refused(pkg: Path, tmp_path: Path, value: str, hint: str) -> None:
    # A tester found full-width and Arabic-Indic digits taken silently as figures (while 12．5 was
    # refused): a figure is written with 0-9, in an amount and in an integer column alike.
    _set_cell(pkg, "amounts", 5, "amount", value)
    _set_cell(pkg, "amounts", 6, "line_no", value)
    _fails_everywhere(pkg, tmp_path, "data/amounts.csv, row 5, field amount", "data/amounts.csv, row 6, field line_no",
                      "rule: type-error", hint)


@pytest.mark.parametrize("value", ["12元", "12%", "12 ％", "12亿元", "12千元", "RMB 12", "约12"])
def test_a_figure_in_another_unit_is_refused(pkg: Path, tmp_path: Path, value: str) -> None:
    # amount is declared "bareNumber": false with "unit": "万元": frictionless strips any text around
    # the figure, so 12元 or 12% were stored as 12 万元.
    _set_cell(pkg, "amounts", 7, "amount", value)
    _fails_everywhere(pkg, tmp_path, "data/amounts.csv, row 7, field amount", "rule: type-error",
                      "other than a currency sign before it and its unit (万元) after it")


@pytest.mark.parametrize("value, stored", [("12万元", 12.0), ("¥ 12.5", 12.5), ("12.5 万元", 12.5), ("5.", 5.0)])
def test_a_figure_with_its_own_unit_or_a_currency_sign_is_read(pkg: Path, tmp_path: Path, value: str,
                                                                stored: float) -> None:
    _set_cell(pkg, "amounts", 7, "amount", value)
    build(pkg, tmp_path / "x.db")
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("select amount from amounts where rowid = 6").fetchone() == (stored,)


@pytest.mark.parametrize("where", ["head", "tail"])
def test_a_nul_character_is_named_by_its_row_and_field(pkg: Path, tmp_path: Path, where: str) -> None:
    # A tester's NUL in the first 8 KB made the whole file "binary data" with no row; after them,
    # "12\x00" was read as 12, and a NUL in a text cell was loaded as it was.
    path = pkg / "data" / "amounts.csv"
    lines = path.read_bytes().split(b"\n")
    row = 3 if where == "head" else len(lines) - 3
    assert where == "head" or sum(map(len, lines[:row])) > 8192
    cells = lines[row - 1].split(b",")
    cells[9] += b"\x00"  # amount
    cells[7] = cells[7][:1] + b"\x00" + cells[7][1:]  # item
    lines[row - 1] = b",".join(cells)
    path.write_bytes(b"\n".join(lines))
    _fails_everywhere(pkg, tmp_path, f"data/amounts.csv, row {row}, field item: a NUL character",
                      "rule: encoding-error")


def test_fullwidth_code_is_refused_with_a_hint(pkg: Path, tmp_path: Path) -> None:
    rows = _rows(pkg, "amounts")
    i = next(i for i, r in enumerate(rows) if r[6] and i > 0)
    rows[i][6] = rows[i][6].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    _write_rows(pkg, "amounts", rows)
    _fails_everywhere(pkg, tmp_path, f"row {i + 1}", "field code", "rule: constraint-error", "full-width")


def test_required_enum_pattern_minimum(pkg: Path, tmp_path: Path) -> None:
    _set_cell(pkg, "amounts", 3, "side", "收")
    _set_cell(pkg, "amounts", 4, "item", "")
    _set_cell(pkg, "amounts", 5, "line_no", "-1")
    _set_cell(pkg, "reports", 2, "year", "1800")
    out = _fails_everywhere(pkg, tmp_path, "row 3, field side", "row 4, field item", "row 5, field line_no",
                            "data/reports.csv, row 2, field year", 'constraint "enum"', 'constraint "required"',
                            'constraint "minimum"')
    assert "rule: constraint-error" in out


@pytest.mark.parametrize("name, field, row", [("amounts", "source_ref", 40), ("projects", "name", 2),
                                               ("departments", "name", 2)])
def test_a_quote_left_open_is_named_where_it_opens(pkg: Path, tmp_path: Path, name: str, field: str, row: int) -> None:
    # A stray " at the start of a cell reads the lines after it into the cell: amounts.csv lost 33
    # rows with no schema problem, projects.csv 5 of 7 (a warning only), departments.csv was
    # blamed on reports.csv (a department not found).
    path = pkg / "data" / f"{name}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(field)] = '"' + cells[header.index(field)]
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    out = _fails_everywhere(pkg, tmp_path, f"data/{name}.csv, row {row}, field {field}", 'constraint "pattern"',
                            "a quote (\") opened in it may not be closed")
    assert "full-width" not in out


def test_a_cell_of_several_lines_where_text_may_have_them_is_read(pkg: Path, tmp_path: Path) -> None:
    # A reason given over two lines (explanation, not a one-line field) is data, not a quote left open.
    rows = _rows(pkg, "amounts")
    rows[5][rows[0].index("explanation")] = "人员减少，\n公用经费压减"
    _write_rows(pkg, "amounts", rows)
    assert schema_problems(load_package(pkg)) == []
    build(pkg, tmp_path / "x.db")
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("select count(*) from amounts where explanation = ?", ["人员减少，\n公用经费压减"]).fetchone() == (1,)


def test_duplicate_key(pkg: Path, tmp_path: Path) -> None:
    rows = _rows(pkg, "amounts")
    rows.insert(10, rows[5])
    _write_rows(pkg, "amounts", rows)
    _fails_everywhere(pkg, tmp_path, "data/amounts.csv, row 11", "rule: primary-key", "row at position 6")


def test_code_missing_from_classification(pkg: Path, tmp_path: Path) -> None:
    rows = _rows(pkg, "amounts")
    i = next(i for i, r in enumerate(rows) if r[5] and i > 0)
    rows[i][5], rows[i][6] = "2999999@" + rows[i][5].split("@")[1], "2999999"
    _write_rows(pkg, "amounts", rows)
    _fails_everywhere(pkg, tmp_path, f"row {i + 1}", "field classification_id", "rule: foreign-key", "2999999@")


def test_unknown_report(pkg: Path, tmp_path: Path) -> None:
    _set_cell(pkg, "statements", 2, "report_id", "no-such-report")
    _fails_everywhere(pkg, tmp_path, "data/statements.csv, row 2, field report_id", "rule: foreign-key")


def test_short_long_and_blank_rows(pkg: Path, tmp_path: Path) -> None:
    rows = _rows(pkg, "projects")
    rows[1] = rows[1][:4]
    rows[2] = rows[2] + ["surplus"]
    rows[3] = []
    _write_rows(pkg, "projects", rows)
    _fails_everywhere(pkg, tmp_path, "row 2, field in_initial_budget", "rule: missing-cell", "row 3", "rule: extra-cell",
                      "row 4", "rule: blank-row")


def test_boolean_text(pkg: Path, tmp_path: Path) -> None:
    _set_cell(pkg, "reports", 2, "tables_attached", "是")
    _fails_everywhere(pkg, tmp_path, "data/reports.csv, row 2, field tables_attached", "rule: type-error")


# --- Files ------------------------------------------------------------------------------------

def test_missing_column(pkg: Path, tmp_path: Path) -> None:
    _write_rows(pkg, "departments", [r[:-1] for r in _rows(pkg, "departments")])
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "field source_ref", "rule: missing-label")


def test_extra_column(pkg: Path, tmp_path: Path) -> None:
    _write_rows(pkg, "departments", [r + ["x"] for r in _rows(pkg, "departments")])
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: extra-label")


def test_a_header_problem_is_one_problem_not_one_per_reference(pkg: Path, tmp_path: Path) -> None:
    """A tester's trailing comma on every line of reports.csv gave 816 problems: the extra-label,
    and 815 rows of other files whose report was "not found in the lookup table" (it was there)."""
    _write_rows(pkg, "reports", [r + [""] for r in _rows(pkg, "reports")])
    out = _fails_everywhere(pkg, tmp_path, 'data/reports.csv: extra column "" at position 13 (rule: extra-label)',
                            'data/amounts.csv, field report_id: references to resource "reports" not checked: '
                            "data/reports.csv could not be read")
    assert "not found in the lookup table" not in out
    problems = read_package(load_package(pkg)).count
    referring = {r.name for r in load_package(pkg).resources
                 if any(fk["reference"].get("resource") == "reports" for fk in r.schema.foreign_keys)}
    assert problems == 1 + len(referring)


def test_renamed_column(pkg: Path, tmp_path: Path) -> None:
    rows = _rows(pkg, "departments")
    rows[0][2] = "省份"
    _write_rows(pkg, "departments", rows)
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "field province", "rule: incorrect-label", "省份")


def test_empty_file(pkg: Path, tmp_path: Path) -> None:
    (pkg / "data" / "projects.csv").write_bytes(b"")
    _fails_everywhere(pkg, tmp_path, "data/projects.csv", "rule: source-error", "empty")


def test_truncated_file(pkg: Path, tmp_path: Path) -> None:
    data = (pkg / "data" / "amounts.csv").read_bytes()
    (pkg / "data" / "amounts.csv").write_bytes(data[: len(data) // 2])
    out = _fails_everywhere(pkg, tmp_path, "data/amounts.csv")
    assert "rule: missing-cell" in out or "rule: encoding-error" in out or "rule: constraint-error" in out


def test_truncated_in_a_character(pkg: Path, tmp_path: Path) -> None:
    data = (pkg / "data" / "departments.csv").read_bytes()
    cut = data.index("局".encode()) + 1  # in the middle of a 3-byte character
    (pkg / "data" / "departments.csv").write_bytes(data[:cut])
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error")


def test_an_undecodable_byte_is_named_by_its_row_and_field(pkg: Path, tmp_path: Path) -> None:
    # The text is decoded by 8 KB blocks, ahead of the rows: a tester's bad byte in CSV line 200
    # was named as row 164 (the last row read before the block that held it).
    path = pkg / "data" / "amounts.csv"
    lines = path.read_bytes().split(b"\n")
    assert len(lines) > 250 and sum(map(len, lines[:200])) > 3 * 8192
    cells = lines[199].split(b",")  # line 200: row 200 (the header is row 1)
    assert lines[0].split(b",")[2] == b"side" and cells[2] in ("收入".encode(), "支出".encode())
    cells[2] = b"\xff" + cells[2][1:]
    lines[199] = b",".join(cells)
    path.write_bytes(b"\n".join(lines))
    _fails_everywhere(pkg, tmp_path, "data/amounts.csv, row 200, field side: cannot be decoded as utf-8 (",
                      "rule: encoding-error")


def test_binary_file(pkg: Path, tmp_path: Path) -> None:
    (pkg / "data" / "departments.csv").write_bytes(bytes(range(256)) * 8)
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error")


def test_pdf_given_as_csv(pkg: Path, tmp_path: Path) -> None:
    (pkg / "data" / "departments.csv").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error", "binary")


def test_utf16_file_not_declared_is_named_with_the_declaration_it_needs(pkg: Path, tmp_path: Path) -> None:
    # Excel's "Unicode text": UTF-16 (with its mark), tab-separated. Declared, it is read
    # (tests/test_csv_dialect.py); not declared, it is binary data to a UTF-8 reader: said so, with how
    # to declare it.
    text = "".join("\t".join(row) + "\r\n" for row in _rows(pkg, "departments"))
    (pkg / "data" / "departments.csv").write_bytes(text.encode("utf-16"))
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error",
                      'it starts with a UTF-16 byte-order mark (Excel\'s "Unicode text"): declare "encoding": "utf-16" '
                      '(and "format": "tsv" if it is tab-separated)')
    _declare(pkg, "departments", encoding="utf-16", format="tsv")
    assert schema_problems(load_package(pkg)) == []


def test_gbk_file_not_declared(pkg: Path, tmp_path: Path) -> None:
    _write_rows(pkg, "departments", _rows(pkg, "departments"), encoding="gbk")
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error", '"encoding": "gbk"')


def test_a_utf8_file_declared_gbk_is_told_to_declare_utf8(pkg: Path, tmp_path: Path) -> None:
    # The hint said: if the file is GBK/GB18030, declare "encoding": "gbk" (it was declared so).
    rows = _rows(pkg, "departments")
    rows[1][1] = rows[1][1] + "（镕）"  # UTF-8 bytes that GB18030 cannot decode as they are
    _write_rows(pkg, "departments", rows)
    _declare(pkg, "departments", encoding="gbk")
    out = _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error",
                            'if the file is UTF-8, declare "encoding": "utf-8"')
    assert 'declare "encoding": "gbk"' not in out


@pytest.mark.parametrize("declared", ["latin-1", "ISO-8859-1", "cp1252", "latin_1", "cp819", "windows-1252"])
def test_a_utf8_file_declared_latin_is_not_published_as_mojibake(pkg: Path, tmp_path: Path, declared: str) -> None:
    # Any bytes decode as latin-1: validate and build passed, and 上海市 was published as 'ä¸\x8aæµ·å¸\x82'.
    _declare(pkg, "departments", encoding=declared)
    _fails_everywhere(pkg, tmp_path, "departments", f'is declared "encoding": "{declared}" but is UTF-8 text',
                      'declare "encoding": "utf-8" (rule: encoding-error)')


@pytest.mark.parametrize("declared, written", [("gbk", "gbk"), ("GB2312", "gbk"), ("gb18030", "gb18030")])
def test_gbk_file_declared_is_read_correctly(pkg: Path, tmp_path: Path, declared: str, written: str) -> None:
    rows = _rows(pkg, "departments")
    rows[1][1] = rows[1][1] + "（镕）"  # a character outside GB2312
    _write_rows(pkg, "departments", rows, encoding=written)
    _declare(pkg, "departments", encoding=declared)
    result = build(pkg, tmp_path / "x.db")
    assert result.rows["departments"] == 2
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("select name from departments where department_id = ?", (rows[1][0],)).fetchone() == (
            rows[1][1],)


def test_utf8_bom_is_read(pkg: Path, tmp_path: Path) -> None:
    path = pkg / "data" / "departments.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert schema_problems(load_package(pkg)) == []
    assert build(pkg, tmp_path / "x.db").rows["departments"] == 2


def test_unknown_encoding(pkg: Path, tmp_path: Path) -> None:
    _declare(pkg, "departments", encoding="klingon-8")
    _fails_everywhere(pkg, tmp_path, "data/departments.csv", "rule: encoding-error", "klingon-8")


def test_missing_resource_file(pkg: Path, tmp_path: Path) -> None:
    (pkg / "data" / "projects.csv").unlink()
    _fails_everywhere(pkg, tmp_path, "data/projects.csv", "rule: resource-exists")


# --- The descriptor ---------------------------------------------------------------------------

def test_malformed_descriptor(pkg: Path, tmp_path: Path) -> None:
    text = (pkg / "datapackage.json").read_text(encoding="utf-8")
    (pkg / "datapackage.json").write_text(text[:200], encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "datapackage.json", "malformed JSON", "line")


def test_descriptor_not_a_package(pkg: Path, tmp_path: Path) -> None:
    (pkg / "datapackage.json").write_text('["a list"]', encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "datapackage.json", "resources must be a list")


def test_descriptor_binary(pkg: Path, tmp_path: Path) -> None:
    (pkg / "datapackage.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    _fails_everywhere(pkg, tmp_path, "datapackage.json")


def test_descriptor_unknown_field_type(pkg: Path, tmp_path: Path) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"][0]["schema"]["fields"][0]["type"] = "money"
    (pkg / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "datapackage.json")


@pytest.mark.parametrize("path, rule", [
    ("../outside.csv", "safe-path"),
    ("/etc/passwd", "safe-path"),
    ("https://example.org/amounts.csv", "local-only"),
    ("data/../../outside.csv", "safe-path"),
])
def test_resource_path_outside_the_package(pkg: Path, tmp_path: Path, path: str, rule: str) -> None:
    (pkg.parent / "outside.csv").write_text("x\n1\n", encoding="utf-8")
    _declare(pkg, "departments", path=path)
    _fails_everywhere(pkg, tmp_path, "resource departments", f"rule: {rule}")


def test_resource_path_through_a_symlink(pkg: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("department_id\n", encoding="utf-8")
    (pkg / "data" / "link.csv").symlink_to(outside)
    _declare(pkg, "departments", path="data/link.csv")
    _fails_everywhere(pkg, tmp_path, "resource departments", "rule: safe-path")


def test_no_package_here(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["validate", str(tmp_path)], ["build", str(tmp_path), "-o", str(tmp_path / "x.db")]):
        r = runner.invoke(cli, args, catch_exceptions=False)
        assert r.exit_code == 2 and "no such data package" in r.output and "Traceback" not in r.output


def test_library_raises_package_error_not_internal_errors(pkg: Path, tmp_path: Path) -> None:
    (pkg / "data" / "amounts.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PackageError) as info:
        build(pkg, tmp_path / "x.db")
    assert "data/amounts.csv" in str(info.value) and info.value.problems


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that records whether anything connected to it (a fetch)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)

    def connected() -> bool:
        try:
            server.accept()[0].close()
            return True
        except TimeoutError:
            return False

    yield f"http://127.0.0.1:{server.getsockname()[1]}", connected
    server.close()


def _set_in_descriptor(pkg: Path, where: str, key: str, value: object) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    target = desc if where == "package" else next(r for r in desc["resources"] if r["name"] == where)
    target[key] = value
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("where, key", [
    ("departments", "schema"), ("departments", "dialect"), ("departments", "profile"),
    ("departments", "checklist"), ("departments", "pipeline"), ("package", "profile"),
])
def test_descriptor_references_to_urls_are_not_fetched(pkg: Path, tmp_path: Path, listener, where: str,
                                                       key: str) -> None:
    # frictionless itself would fetch a schema, dialect or profile given as a URL (it did, before).
    url, connected = listener
    _set_in_descriptor(pkg, where, key, f"{url}/{key}.json")
    prefix = "package" if where == "package" else f"resource {where}:"
    _fails_everywhere(pkg, tmp_path, f"{prefix} {key} '{url}/{key}.json' is a URL", "rule: local-only")
    assert not connected()


@pytest.mark.parametrize("value", ["/etc/passwd", "../outside.json", "data/../../outside.json"])
def test_descriptor_references_outside_the_package(pkg: Path, tmp_path: Path, value: str) -> None:
    (pkg.parent / "outside.json").write_text('{"fields": []}', encoding="utf-8")
    _set_in_descriptor(pkg, "departments", "schema", value)
    _fails_everywhere(pkg, tmp_path, f"resource departments: schema '{value}' points outside the package",
                      "rule: safe-path")


def test_schema_in_a_file_of_the_package_is_read(pkg: Path, corpus: Path, tmp_path: Path) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in desc["resources"] if r["name"] == "departments")
    (pkg / "departments.schema.json").write_text(json.dumps(res["schema"], ensure_ascii=False), encoding="utf-8")
    _set_in_descriptor(pkg, "departments", "schema", "departments.schema.json")
    assert build(pkg, tmp_path / "a.db").rows == build(corpus, tmp_path / "b.db").rows


@pytest.mark.parametrize("entry", ["http://127.0.0.1:9/resource.json", "../resource.json", "more.json"])
def test_resource_given_as_a_reference(pkg: Path, tmp_path: Path, entry: str) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"].append(entry)
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, f"resource #{len(desc['resources'])}: must be written out in the descriptor",
                      "rule: resource-descriptor")


@pytest.mark.parametrize("reference, needle", [
    ({"resource": "budgets", "fields": ["report_id"]}, "refers to resource 'budgets', which the package does not have"),
    ({"resource": "reports", "fields": ["report_no"]}, "refers to 'report_no', not a field of resource 'reports'"),
])
def test_foreign_key_to_what_the_package_does_not_have(pkg: Path, tmp_path: Path, reference: dict,
                                                       needle: str) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in desc["resources"] if r["name"] == "projects")
    res["schema"]["foreignKeys"] = [{"fields": ["report_id"], "reference": reference}]
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "resource projects: foreign key ['report_id']", needle, "rule: foreign-key")


def test_invalid_descriptor_names_the_resource_and_the_problem(pkg: Path, tmp_path: Path) -> None:
    _set_in_descriptor(pkg, "departments", "data", [["a"]])  # beside its path
    _fails_everywhere(pkg, tmp_path, "resource departments:", '"path" and "data" is mutually exclusive',
                      "rule: resource-error")


def test_utf16_declared_for_a_utf8_file(pkg: Path, tmp_path: Path) -> None:
    _declare(pkg, "departments", encoding="utf-16")
    _fails_everywhere(pkg, tmp_path, "data/departments.csv, row 2: cannot be decoded as utf-16",
                      "rule: encoding-error")


def test_field_that_is_not_an_object(pkg: Path, tmp_path: Path) -> None:
    # frictionless itself raised a TypeError on this descriptor.
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    next(r for r in desc["resources"] if r["name"] == "projects")["schema"]["fields"].append(None)
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "resource projects: field #8 must be an object with a name, not null",
                      "rule: schema-error")


def test_field_name_the_database_cannot_hold(pkg: Path, tmp_path: Path) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    field = next(r for r in desc["resources"] if r["name"] == "projects")["schema"]["fields"][2]
    rows = _rows(pkg, "projects")
    rows[0][2] = field["name"] = 'name]; drop table amounts; --'
    _write_rows(pkg, "projects", rows)
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "resource projects: field 'name]; drop table amounts; --'",
                      "a name with ']' cannot be a column", "rule: field-name")


def test_package_without_a_resource_the_rules_read(pkg: Path, tmp_path: Path) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"] = [r for r in desc["resources"] if r["name"] != "projects"]
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "the package has no resource 'projects'", "rule: opendata-model")


def test_package_without_a_field_the_site_reads(pkg: Path, tmp_path: Path) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    amounts = next(r for r in desc["resources"] if r["name"] == "amounts")
    at = [f["name"] for f in amounts["schema"]["fields"]].index("explanation")
    del amounts["schema"]["fields"][at]
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _write_rows(pkg, "amounts", [r[:at] + r[at + 1:] for r in _rows(pkg, "amounts")])
    # The rules do not read it, the build's search index does: validate passed the package that
    # build then refused. Both refuse it now, from the descriptor.
    _fails_everywhere(pkg, tmp_path, "resource amounts: has no field explanation", "rule: opendata-model")


def test_a_file_after_the_first_without_the_header_is_refused(pkg: Path, tmp_path: Path) -> None:
    # frictionless skips the first line of each file after the first, as its header: a second file
    # written without one lost its row (bad or good) without a word; validate and build passed.
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    projects = next(r for r in desc["resources"] if r["name"] == "projects")
    projects["path"] = [projects["path"], "data/projects2.csv"]
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    (pkg / "data" / "projects2.csv").write_text(
        "zhuzhou-lusong-kjgxj-2020-final,notanumber,额外项目,abc,maybe,,x\n", encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, "resource projects: data/projects2.csv, row 1: not the header of "
                                     "data/projects.csv", "rule: multipart-header")


# --- Import -----------------------------------------------------------------------------------



@pytest.mark.parametrize("name, content", [
    ("blank.pdf", tiny_pdf()),
    ("encrypted.pdf", tiny_pdf(encrypt=True)),
    ("corrupt.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"),
    ("not-a-pdf.pdf", "部门决算 这不是PDF".encode()),
    ("binary.txt", bytes(range(256)) * 4),
    ("empty.txt", b""),
    ("gbk.txt", "某某局2020年度部门决算\n没有任何数字的说明。\n".encode("gbk")),
])
def test_import_refuses_what_is_not_a_report(tmp_path: Path, corpus: Path, name: str, content: bytes) -> None:
    pytest.importorskip("opendata.ingest.importer")
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    before = {p.name: p.read_bytes() for p in (pkg / "data").iterdir()}
    source = tmp_path / name
    source.write_bytes(content)
    r = CliRunner().invoke(cli, ["import", str(source), "--package", str(pkg)], catch_exceptions=False)
    assert "Traceback" not in r.output
    if r.exit_code == 0:  # accepted only when it really found a report's figures
        pytest.fail(f"{name} was imported: {r.output}")
    assert r.exit_code == 2, r.output
    assert name in r.output, r.output
    assert {p.name: p.read_bytes() for p in (pkg / "data").iterdir()} == before, "a refused import changed the package"


# --- Same findings as frictionless ------------------------------------------------------------

def _frictionless_findings(pkg: Path) -> set[tuple]:
    from frictionless import Package

    report = Package(str(pkg / "datapackage.json")).validate()
    out = set()
    for task in report.tasks:
        for e in task.errors:
            if e.type == "primary-key" and "all \"None\"" in (e.note or ""):
                continue  # frictionless also reports a blank row's empty key; the blank row is reported
            field = getattr(e, "field_name", None) or None
            if e.type in ("primary-key", "foreign-key", "extra-cell"):
                field = None
            out.add((task.place, getattr(e, "row_number", None), field, e.type))
    return out


def _our_findings(pkg: Path) -> set[tuple]:
    log = read_package(load_package(pkg))
    return {(p.file, p.row, None if p.rule in ("primary-key", "foreign-key", "extra-cell") else p.field, p.rule)
            for p in log.items}


def test_same_findings_as_frictionless_on_broken_rows(pkg: Path) -> None:
    rows = _rows(pkg, "amounts")
    rows[2][9] = "abc"
    rows[3][9] = "1,234.5"
    rows[4][1] = ""
    rows[5][2] = "收"
    rows[6] = rows[7][:]
    rows[9][0] = "nope"
    rows[10] = rows[10][:10]
    rows[11] = rows[11] + ["x"]
    rows[12] = []
    rows[13][6] = "２０１"
    rows[14][3] = "-1"
    rows[15][3] = "1.5"
    rows[16][4] = ""
    rows[17][1] = "十"
    _write_rows(pkg, "amounts", rows)
    _set_cell(pkg, "reports", 2, "tables_attached", "yes")
    _set_cell(pkg, "departments", 3, "department_id", "Dept 2")
    ours, theirs = _our_findings(pkg), _frictionless_findings(pkg)
    assert ours == theirs
    assert len(ours) >= 18


@pytest.mark.parametrize("mutate", ["missing", "extra", "renamed", "empty", "gbk", "bom", "binary"])
def test_same_file_level_verdict_as_frictionless(pkg: Path, mutate: str) -> None:
    path = pkg / "data" / "departments.csv"
    rows = _rows(pkg, "departments")
    if mutate == "missing":
        _write_rows(pkg, "departments", [r[:-1] for r in rows])
    elif mutate == "extra":
        _write_rows(pkg, "departments", [r + ["x"] for r in rows])
    elif mutate == "renamed":
        rows[0][1] = "名称"
        _write_rows(pkg, "departments", rows)
    elif mutate == "empty":
        path.write_bytes(b"")
    elif mutate == "gbk":
        _write_rows(pkg, "departments", rows, encoding="gbk")
    elif mutate == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    elif mutate == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    theirs = {(t[0], t[3]) for t in _frictionless_findings(pkg) if t[0] == "data/departments.csv"}
    ours = {(t[0], t[3]) for t in _our_findings(pkg) if t[0] == "data/departments.csv"}
    # Both see a problem with the file, or both see none; the file-level rule names agree.
    assert bool(ours) == bool(theirs)
    assert {r for _, r in ours} == {r for _, r in theirs}


def test_problems_are_capped_but_counted(pkg: Path, tmp_path: Path) -> None:
    rows = _rows(pkg, "amounts")
    for r in rows[1:]:
        r[9] = "x"
    _write_rows(pkg, "amounts", rows)
    log = read_package(load_package(pkg))
    assert log.count == len(rows) - 1
    with pytest.raises(OpenDataError) as info:
        build(pkg, tmp_path / "x.db")
    assert f"{len(rows) - 1} problems" in str(info.value)


# --- Found by a tester: descriptors that gave an internal error, or wrong findings -------------------

def _edit_descriptor(pkg: Path, edit) -> None:
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    edit({r["name"]: r for r in desc["resources"]})
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")


def _add_column(pkg: Path, resource: str, field: dict, value: str = "") -> None:
    rows = _rows(pkg, resource)
    _write_rows(pkg, resource, [rows[0] + [field["name"]]] + [r + [value] for r in rows[1:]])
    _edit_descriptor(pkg, lambda rs: rs[resource]["schema"]["fields"].append(field))


@pytest.mark.parametrize("name", ["rowid", "ROWID", "_rowid_", "oid"])
def test_a_field_named_as_sqlites_row_number(pkg: Path, tmp_path: Path, name: str) -> None:
    # Built with 282 wrong projects.total findings: the rules read the row's number, the column hid it.
    _add_column(pkg, "amounts", {"name": name, "type": "integer"}, "1")
    _fails_everywhere(pkg, tmp_path, f"resource amounts: field {name!r}: SQLite gives every row this name",
                      "rule: field-name")


def test_field_names_that_differ_in_case_only(pkg: Path, tmp_path: Path) -> None:
    # "validation could not run (OperationalError: duplicate column name: AMOUNT)", exit 2.
    _add_column(pkg, "amounts", {"name": "AMOUNT", "type": "number"}, "1")
    _fails_everywhere(pkg, tmp_path, "resource amounts: field 'AMOUNT': the same column as field 'amount'",
                      "rule: field-name")


@pytest.mark.parametrize("constraints, needle", [
    ({"minimum": "abc"}, "constraint minimum 'abc' is not a number"),
    ({"maximum": [1]}, "constraint maximum [1] is not a number"),
    ({"pattern": "[a-z"}, "constraint pattern '[a-z' is not a regular expression"),
])
def test_constraints_that_cannot_be_checked(pkg: Path, tmp_path: Path, constraints: dict, needle: str) -> None:
    def edit(resources):
        field = next(f for f in resources["amounts"]["schema"]["fields"] if f["name"] == "line_no")
        field["constraints"] = {**field.get("constraints", {}), **constraints}

    _edit_descriptor(pkg, edit)
    _fails_everywhere(pkg, tmp_path, "resource amounts: field 'line_no'", needle, "rule: schema-error")


def test_foreign_key_reference_that_is_not_an_object(pkg: Path, tmp_path: Path) -> None:
    # frictionless: AttributeError: 'str' object has no attribute 'setdefault'.
    def edit(resources):
        resources["projects"]["schema"]["foreignKeys"] = [{"fields": ["report_id"], "reference": "reports"}]

    _edit_descriptor(pkg, edit)
    _fails_everywhere(pkg, tmp_path, "resource projects: foreign key ['report_id']: its reference must be an object",
                      "rule: foreign-key")


@pytest.mark.parametrize("key, content, needle", [
    ("schema", None, "file missing.json does not exist (rule: resource-exists)"),
    ("dialect", None, "file missing.json does not exist (rule: resource-exists)"),
    ("schema", "not json", "missing.json is not a JSON file"),
    ("dialect", "[1, 2]", "missing.json must hold a JSON object (rule: dialect-error)"),
])
def test_schema_or_dialect_file_that_is_missing_or_not_json(pkg: Path, tmp_path: Path, key: str, content: str | None,
                                                            needle: str) -> None:
    # A raw FrictionlessException ("cannot retrieve metadata"), exit 2.
    if content is not None:
        (pkg / "missing.json").write_text(content, encoding="utf-8")
    _edit_descriptor(pkg, lambda resources: resources["projects"].__setitem__(key, "missing.json"))
    _fails_everywhere(pkg, tmp_path, f"resource projects: {key}", needle)


def test_fifo_as_descriptor_or_data_is_refused_without_waiting(pkg: Path, tmp_path: Path) -> None:
    os.rename(pkg / "data" / "projects.csv", tmp_path / "projects.csv")
    os.mkfifo(pkg / "data" / "projects.csv")
    _fails_everywhere(pkg, tmp_path, "data/projects.csv is not a regular file (rule: resource-exists)")
    os.rename(pkg / "datapackage.json", tmp_path / "datapackage.json")
    os.mkfifo(pkg / "datapackage.json")
    _fails_everywhere(pkg, tmp_path, "datapackage.json: not a regular file")


def test_a_format_opendata_does_not_read_is_named(pkg: Path, tmp_path: Path) -> None:
    # It said only: Please install "frictionless[json]".
    _set_in_descriptor(pkg, "projects", "format", "json")
    _fails_everywhere(pkg, tmp_path, "data/projects.csv", 'declared "format": "json", which opendata does not read',
                      'opendata reads CSV files: "format": "csv" or "tsv"', "rule: format-error")


# --- The model opendata reads -------------------------------------------------------------------

def test_the_model_types_are_the_shipped_descriptors() -> None:
    desc = json.loads((Path(__file__).resolve().parent.parent / "datapackage" / "datapackage.json")
                      .read_text(encoding="utf-8"))
    assert MODEL_TYPES == {r["name"]: {f["name"]: f["type"] for f in r["schema"]["fields"]}
                           for r in desc["resources"]}


def test_a_resource_given_inline_is_refused_everywhere(pkg: Path, tmp_path: Path) -> None:
    # A tester's resource with "data" instead of "path", its "format": "csv" kept: AssertionError from
    # frictionless in validate and build, a traceback from import. (Without "format", rows in the
    # descriptor are read: tests/test_csv_dialect.py.)
    def inline(resources: dict) -> None:
        del resources["report_units"]["path"]
        resources["report_units"]["data"] = [["report_id", "unit_no", "kind", "name", "note", "source_page",
                                              "source_ref"]]

    _edit_descriptor(pkg, inline)
    message = ('resource report_units: its rows are in the descriptor ("data") but it declares "format": "csv", '
               'a file\'s format: remove "format", or write the rows to a file named by "path" (rule: inline-data)')
    _fails_everywhere(pkg, tmp_path, message)
    seed = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_a04efb588eb58bab.txt"
    before = {p.name: p.read_bytes() for p in pkg.rglob("*") if p.is_file()}
    r = CliRunner().invoke(cli, ["import", str(seed), "--package", str(pkg)], catch_exceptions=False)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert message in " ".join(r.output.split())
    assert {p.name: p.read_bytes() for p in pkg.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("resource, field, declared", [("amounts", "amount", "string"), ("reports", "year", "number"),
                                                       ("statements", "value", "boolean")])
def test_a_model_field_declared_with_another_type_is_refused(pkg: Path, tmp_path: Path, resource: str, field: str,
                                                             declared: str) -> None:
    # amount declared "string": the rules failed with "TypeError: unsupported operand type(s) for -:
    # 'str' and 'float'", naming neither the resource nor the field.
    def retype(resources: dict) -> None:
        f = next(f for f in resources[resource]["schema"]["fields"] if f["name"] == field)
        f["type"] = declared
        f.pop("bareNumber", None)

    _edit_descriptor(pkg, retype)
    _fails_everywhere(pkg, tmp_path, f'resource {resource}: field {field} is declared "{declared}"; opendata\'s rules '
                      f'and site read it as "{MODEL_TYPES[resource][field]}" (rule: opendata-model)')


def test_a_model_field_may_be_declared_with_a_type_read_to_the_same_values(pkg: Path, tmp_path: Path) -> None:
    def retype(resources: dict) -> None:
        next(f for f in resources["reports"]["schema"]["fields"] if f["name"] == "year")["type"] = "year"

    _edit_descriptor(pkg, retype)
    assert build(pkg, tmp_path / "x.db").rows["reports"] > 0


@pytest.mark.parametrize("order", ["reversed", "by name"])
def test_a_package_may_list_its_resources_in_any_order(pkg: Path, tmp_path: Path, order: str) -> None:
    # A valid package listing reports after amounts (or by name) could not be validated or built:
    # "AlterError: No such column: reports.report_id" (sqlite-utils refused a key to a table not yet made).
    expected = build(pkg, tmp_path / "as-listed.db")
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    desc["resources"] = (desc["resources"][::-1] if order == "reversed"
                         else sorted(desc["resources"], key=lambda r: r["name"]))
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    result = build(pkg, tmp_path / "reordered.db")
    assert result.rows == expected.rows and len(result.findings) == len(expected.findings)
    with sqlite3.connect(tmp_path / "reordered.db") as conn, sqlite3.connect(tmp_path / "as-listed.db") as old:
        keys = "select m.name, f.* from sqlite_master m, pragma_foreign_key_list(m.name) f where m.type = 'table'"
        assert sorted(conn.execute(keys).fetchall()) == sorted(old.execute(keys).fetchall())
    assert CliRunner().invoke(cli, ["validate", str(pkg)]).exit_code in (0, 1)


def test_resources_that_refer_to_each_other_are_built(pkg: Path, tmp_path: Path) -> None:
    # departments -> reports and reports -> departments: neither can be made first.
    _add_column(pkg, "departments", {"name": "latest_report_id", "type": "string"})
    _edit_descriptor(pkg, lambda rs: rs["departments"]["schema"].setdefault("foreignKeys", []).append(
        {"fields": ["latest_report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}}))
    build(pkg, tmp_path / "x.db")
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert ("reports", "latest_report_id", "report_id") in [
            (r[2], r[3], r[4]) for r in conn.execute("pragma foreign_key_list(departments)")]
        assert ("departments", "department_id", "department_id") in [
            (r[2], r[3], r[4]) for r in conn.execute("pragma foreign_key_list(reports)")]
        assert conn.execute("pragma foreign_key_check").fetchall() == []


@pytest.mark.parametrize("name", ["findings", "rules", "search_index", "report_totals", "table5_gpb_expenditure",
                                  "_table5_gpb_expenditure", "sqlite_stat1", "search_texts_fts"])
def test_a_resource_may_not_take_a_name_the_build_writes_itself(pkg: Path, tmp_path: Path, name: str) -> None:
    # findings: "table findings already exists"; _table5_gpb_expenditure: built, its rows silently
    # replaced by the layout's.
    desc = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    extra = json.loads(json.dumps(next(r for r in desc["resources"] if r["name"] == "departments")))
    extra["name"] = name
    desc["resources"].append(extra)
    (pkg / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    _fails_everywhere(pkg, tmp_path, f"resource {name}: the build writes a table or view of that name itself",
                      "(rule: reserved-name)")


@pytest.mark.parametrize("enum, words", [([1, 2, 3, 4, 5, 6, 7, 8, "九"], "'九', not an integer"),
                                         ([1, 2.5], "2.5, not an integer")])
def test_an_enum_of_another_type_than_its_fields_is_named(pkg: Path, tmp_path: Path, enum: list, words: str) -> None:
    # It was "the check could not finish (_Bad: ('type-error', 'type is \"integer/default\"'))".
    _edit_descriptor(pkg, lambda rs: next(f for f in rs["report_tables"]["schema"]["fields"]
                                          if f["name"] == "table_no").update(constraints={"enum": enum}))
    _fails_everywhere(pkg, tmp_path, f"resource report_tables: field 'table_no': constraint enum holds {words}",
                      "(rule: schema-error)")


@pytest.mark.parametrize("depth", [500, 5000])
def test_a_descriptor_nested_deep_is_refused_in_a_few_words(pkg: Path, tmp_path: Path, depth: int) -> None:
    # Nested 1,000 deep: a RecursionError traceback and exit 1; 500 deep: the whole descriptor quoted.
    text = (pkg / "datapackage.json").read_text(encoding="utf-8").rstrip().rstrip("}")
    (pkg / "datapackage.json").write_text(text + ', "x": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    r = CliRunner().invoke(cli, ["validate", str(pkg)])
    assert r.exit_code == 2 and "Traceback" not in r.output and len(r.output) < 1000, (r.exit_code, r.output[:300])
    assert "datapackage.json" in r.output


def test_a_foreign_key_to_fields_that_name_many_rows_is_refused(pkg: Path, tmp_path: Path) -> None:
    # projects.report_id -> amounts.report_id (thousands of rows each): built with exit 0, into a
    # database whose keys SQLite calls a "foreign key mismatch" (and the key to reports was lost).
    _edit_descriptor(pkg, lambda rs: rs["projects"]["schema"]["foreignKeys"].append(
        {"fields": ["report_id"], "reference": {"resource": "amounts", "fields": ["report_id"]}}))
    _fails_everywhere(pkg, tmp_path, "resource projects: foreign key ['report_id'] refers to 'report_id' of resource "
                      "'amounts', which is not its primary key nor unique: a key must name one row (rule: foreign-key)")


def test_a_text_value_with_chinese_brackets_gets_no_full_width_hint(pkg: Path, tmp_path: Path) -> None:
    # 决算单位（本级） not in an enum was told to "use half-width digits and punctuation": no help.
    rows = _rows(pkg, "report_units")
    i = next(i for i, r in enumerate(rows) if i > 0)
    kind = rows[0].index("kind")
    rows[i][kind] = "决算单位（本级）"
    _write_rows(pkg, "report_units", rows)
    out = _fails_everywhere(pkg, tmp_path, f"row {i + 1}, field kind", 'value "决算单位（本级）"', "rule: constraint-error")
    assert "full-width" not in out


def test_a_quote_left_open_is_named_with_the_lines_it_swallows(pkg: Path, tmp_path: Path) -> None:
    # A quote opened at the start of a cell swallowed the rows after it: reported as row 2, with the
    # whole rest of the file quoted and hints about full-width characters from other lines.
    path = pkg / "data" / "projects.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = lines[1].split(",")
    header = lines[0].split(",")
    cells[header.index("project_no")] = '"' + cells[header.index("project_no")]
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    out = _fails_everywhere(pkg, tmp_path, "data/projects.csv, row 2", "a quote (\") opened in it may not be closed")
    assert "characters)" in out and len(out) < 5000


def test_a_file_named_pdf_that_is_not_one_is_said_to_be_so(tmp_path: Path, corpus: Path) -> None:
    # A web page saved under a .pdf name (a failed download) was "not a 部门决算/预算 report".
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    source = tmp_path / "report.pdf"
    source.write_bytes(b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>")
    r = CliRunner().invoke(cli, ["import", str(source), "--package", str(pkg)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert ("report.pdf: not a PDF (it does not begin with %PDF but with '<!DOCTYPE html>': a web page saved under "
            "a .pdf name?)") in " ".join(r.output.split())


def test_a_pdf_with_bytes_before_its_header_is_read(tmp_path: Path) -> None:
    # Readers accept bytes before %PDF- (some writers put a line there); the import said "not a PDF".
    from opendata.ingest.importer import read_source

    from pdf_samples import text_pdf

    pdf = tmp_path / "lead.pdf"
    pdf.write_bytes(b"\r\n  \n" + text_pdf("Hello"))
    text, _, is_pdf = read_source(pdf)
    assert is_pdf and "Hello" in text


def test_a_binary_file_named_pdf_is_not_called_a_web_page(tmp_path: Path, corpus: Path) -> None:
    import gzip

    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    source = tmp_path / "report.pdf"
    source.write_bytes(gzip.compress(b"not a report"))
    r = CliRunner().invoke(cli, ["import", str(source), "--package", str(pkg)])
    assert r.exit_code == 2 and "report.pdf: not a PDF (it does not begin with %PDF but with other bytes" in r.output
