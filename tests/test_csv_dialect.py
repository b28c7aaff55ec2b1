"""A CSV dialect the descriptor declares (``"dialect": {"delimiter": ";"}``, ``"format": "tsv"``,
another quote character) is read and written as declared, by validate, build (one process or two),
and import: opendata's readers read every file as comma-separated, and refused packages that
frictionless found valid."""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

import frictionless
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendata.build import LAST_TIMINGS, build
from opendata.cli import cli
from opendata.csv_dialect import RowWriter
from opendata.errors import OpenDataError, PackageError
from opendata.ingest.importer import import_report
from opendata.package import iter_rows, load_package, schema_problems, write_subset
from opendata.schema_sql import split_point
from opendata.synth import write_corpus
from opendata.validate import validate_package
from second_report import second_report

ROOT = Path(__file__).resolve().parent.parent
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_a04efb588eb58bab.txt"
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="seed report not available")

#: Resource -> (what its descriptor declares, csv.writer's options writing it, a new path or None).
DIALECTS = {
    "departments": ({"dialect": {"delimiter": ";"}}, {"delimiter": ";"}, None),
    "amounts": ({"dialect": {"delimiter": "\t", "quoteChar": "'"}}, {"delimiter": "\t", "quotechar": "'"}, None),
    "statements": ({"dialect": {"csv": {"delimiter": "|", "quoteChar": "'"}}}, {"delimiter": "|", "quotechar": "'"},
                   None),
}


def _redeclare(package: Path, dialects: dict, *, declare: bool = True) -> None:
    """Rewrite each named resource's file in its dialect (the same rows), declared or not."""
    desc = _descriptor(package)
    for res in desc["resources"]:
        if res["name"] not in dialects:
            continue
        declared, options, new_path = dialects[res["name"]]
        with open(package / res["path"], encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        if new_path:
            (package / res["path"]).unlink()
            res["path"] = new_path
        with open(package / res["path"], "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n", **options).writerows(rows)
        if declare:
            res.update(declared)
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False, indent=2), encoding="utf-8")


def _table(db: Path, name: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"select * from [{name}] order by rowid").fetchall()


def _descriptor(package: Path) -> dict:
    return json.loads((package / "datapackage.json").read_text(encoding="utf-8"))


def _write_descriptor(package: Path, desc: dict) -> None:
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")


def _files(package: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in package.rglob("*") if p.is_file()}


def _import_is_refused(package: Path, message: str) -> None:
    """Importing the seed fails with an error matching ``message`` and leaves every file as it was."""
    if not SEED.exists():
        return
    before = _files(package)
    with pytest.raises(OpenDataError, match=message):
        import_report(second_report(SEED), package, report_id="seed-again")
    assert _files(package) == before


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    dest = tmp_path / "shipped"
    shutil.copytree(ROOT / "datapackage", dest)
    return dest


def test_declared_dialects_are_read_as_frictionless_reads_them(shipped: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "dialects"
    shutil.copytree(shipped, pkg)
    tsv = {"report_units": ({"format": "tsv"}, {"delimiter": "\t"}, "data/report_units.tsv")}
    _redeclare(pkg, {**DIALECTS, **tsv})
    # The files really are in other dialects, and frictionless reads them as declared.
    assert (pkg / "data" / "departments.csv").read_text(encoding="utf-8").startswith("department_id;name;")
    assert (pkg / "data" / "amounts.csv").read_text(encoding="utf-8").startswith("report_id\ttable_no\t")
    assert frictionless.Package(str(pkg / "datapackage.json")).validate().valid
    result = validate_package(pkg)
    assert result.schema_problems == []
    assert [f.to_row() for f in result.findings] == [f.to_row() for f in validate_package(shipped).findings]
    build(pkg, tmp_path / "dialects.db")
    build(shipped, tmp_path / "shipped.db")
    for name in ("departments", "amounts", "statements", "report_units", "findings", "search_index"):
        rows = _table(tmp_path / "dialects.db", name)
        assert rows and rows == _table(tmp_path / "shipped.db", name), name
    # 上海市普陀区财政局's 2024 表1 first line, read from the tab-separated file.
    with sqlite3.connect(tmp_path / "dialects.db") as conn:
        assert conn.execute("select amount from amounts where report_id = 'shanghai-putuo-czj-2024-final' "
                            "and table_no = 1 and side = '收入' and line_no = 1").fetchone() == (2940.05,)


def test_an_undeclared_separator_is_named_with_the_declaration_it_needs(shipped: Path, runner) -> None:
    _redeclare(shipped, {"departments": DIALECTS["departments"]}, declare=False)
    result = runner.invoke(cli, ["validate", str(shipped)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert 'data/departments.csv, field department_id: label "department_id;name;' in text
    assert 'the header is separated by ";": declare "dialect": {"delimiter": ";"}' in text
    assert "(rule: incorrect-label)" in text


def test_two_processes_cut_a_file_in_its_declared_dialect(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write_corpus(plain, departments=12, years=2, error_share=0.5, seed=11)
    # Cells holding the separator, the other quote character and line breaks, quoted with "'".
    with open(plain / "data" / "amounts.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    at = rows[0].index("explanation")
    for i, row in enumerate(rows[1:], start=1):
        if i % 7 == 0:
            row[at] = f'说明{i}\t"未闭合\n第二行'
        elif i % 11 == 0:
            row[at] = f"单位's 说明{i}\r\n续"
    with open(plain / "data" / "amounts.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    pkg = tmp_path / "dialect"
    shutil.copytree(plain, pkg)
    _redeclare(pkg, {"amounts": DIALECTS["amounts"]})
    resource = load_package(pkg).get_resource("amounts")
    path = pkg / "data" / "amounts.csv"
    for share in (0.2, 0.5, 0.8):  # every cut starts a record: the two halves read back as the file
        cut = split_point(resource, share)
        assert cut is not None
        data = path.read_bytes()
        head = list(csv.reader(data[:cut].decode("utf-8").splitlines(keepends=True), delimiter="\t", quotechar="'"))
        tail = list(csv.reader(data[cut:].decode("utf-8").splitlines(keepends=True), delimiter="\t", quotechar="'"))
        assert head + tail == rows, share
    two = build(pkg, tmp_path / "two.db", jobs=2)
    assert "join part 3" in LAST_TIMINGS and two.processes == 2
    one = build(plain, tmp_path / "one.db", jobs=1)
    assert two.rows == one.rows
    assert _table(tmp_path / "two.db", "amounts") == _table(tmp_path / "one.db", "amounts")
    assert [f.to_row() for f in two.findings] == [f.to_row() for f in one.findings]


@needs_seed
def test_import_writes_each_file_in_its_declared_dialect(shipped: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(shipped, plain)
    _redeclare(shipped, DIALECTS)
    for pkg in (shipped, plain):
        import_report(second_report(SEED), pkg, report_id="seed-again")
    for name, (_, options, _) in DIALECTS.items():
        with open(shipped / "data" / f"{name}.csv", encoding="utf-8", newline="") as fh:
            declared = list(csv.reader(fh, **options))
        with open(plain / "data" / f"{name}.csv", encoding="utf-8", newline="") as fh:
            comma = list(csv.reader(fh))
        assert declared == comma and any("seed-again" in row for row in declared) == (name != "departments"), name
    assert (shipped / "data" / "departments.csv").read_text(encoding="utf-8").startswith("department_id;name;")
    assert frictionless.Package(str(shipped / "datapackage.json")).validate().valid
    assert validate_package(shipped).schema_problems == []


@needs_seed
def test_import_refuses_a_dialect_it_cannot_write_and_writes_nothing(shipped: Path) -> None:
    # A departments file without a header row: read (by frictionless's reader), not rewritten.
    desc = _descriptor(shipped)
    next(r for r in desc["resources"] if r["name"] == "departments")["dialect"] = {"header": False}
    _write_descriptor(shipped, desc)
    path = shipped / "data" / "departments.csv"
    path.write_text(path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    assert validate_package(shipped).schema_problems == []
    _import_is_refused(shipped, r'^data/departments\.csv: its declared dialect \(\{"header": false\}\) is not one '
                                r"opendata writes.*\(rule: dialect\)$")


@needs_seed
def test_import_creates_a_missing_file_with_the_rest_or_not_at_all(shipped: Path, monkeypatch) -> None:
    # A resource without a file yet gets one in its declared encoding and dialect (it was written
    # in UTF-8 with commas whatever the descriptor said); when the import fails, the package is
    # left without it, as it was.
    from opendata.removal import remove_report

    # A package of no report yet (with other reports, a missing file of their rows is refused:
    # test_import_refusals).
    for report_id in ("shanghai-putuo-czj-2024-final", "zhuzhou-lusong-kjgxj-2020-final"):
        remove_report(shipped, report_id)
    desc = _descriptor(shipped)
    units = next(r for r in desc["resources"] if r["name"] == "report_units")
    units.update(encoding="gbk", dialect={"delimiter": ";"})
    standard = next(r for r in desc["resources"] if r["name"] == "standard_tables")
    _write_descriptor(shipped, desc)
    (shipped / units["path"]).unlink()
    (shipped / standard["path"]).unlink()
    before = _files(shipped)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("opendata.ingest.importer.record_source", full_disk)
    with pytest.raises(PackageError, match="No space left on device"):
        import_report(second_report(SEED), shipped, report_id="seed-again")
    assert _files(shipped) == before
    monkeypatch.undo()
    import_report(second_report(SEED), shipped, report_id="seed-again")
    names = [f["name"] for f in standard["schema"]["fields"]]
    assert (shipped / standard["path"]).read_text(encoding="utf-8") == ",".join(names) + "\n"  # its header
    data = (shipped / units["path"]).read_bytes()
    lines = data.decode("gbk").splitlines()
    assert lines[0] == ";".join(f["name"] for f in units["schema"]["fields"])
    assert len([line for line in lines if line.startswith("seed-again;")]) == 7  # the seed's 7 units
    assert data != data.decode("gbk").encode("utf-8")  # GBK bytes


def test_a_compressed_file_is_read_as_frictionless_reads_it(shipped: Path, tmp_path: Path) -> None:
    # data/amounts.csv.gz: opendata's readers read the gzip bytes as text ("binary data, not a CSV
    # text file"), where frictionless reads the rows; now frictionless's reader reads them.
    pkg = tmp_path / "gz"
    shutil.copytree(shipped, pkg)
    plain = pkg / "data" / "amounts.csv"
    (pkg / "data" / "amounts.csv.gz").write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    desc = _descriptor(pkg)
    next(r for r in desc["resources"] if r["name"] == "amounts")["path"] = "data/amounts.csv.gz"
    _write_descriptor(pkg, desc)
    assert validate_package(pkg).schema_problems == []
    build(pkg, tmp_path / "gz.db")
    build(shipped, tmp_path / "shipped.db")
    assert len(_table(tmp_path / "gz.db", "amounts")) == 283
    assert _table(tmp_path / "gz.db", "amounts") == _table(tmp_path / "shipped.db", "amounts")
    assert _table(tmp_path / "gz.db", "findings") == _table(tmp_path / "shipped.db", "findings")
    # An import does not rewrite it (as plain text under a .gz name): it says so.
    _import_is_refused(pkg, r"^data/amounts\.csv\.gz: a compressed file \(gz\); .*\(rule: compression\)$")


def test_rows_in_several_files_are_all_read(shipped: Path, tmp_path: Path) -> None:
    # "path": [part 1, part 2] (each with its header, as frictionless reads them): the build read
    # the first file only, and lost the other rows without a word (3 of the 7 projects).
    lines = (shipped / "data" / "projects.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 8
    (shipped / "data" / "projects.csv").write_text("".join(lines[:4]), encoding="utf-8")
    (shipped / "data" / "projects-2.csv").write_text(lines[0] + "".join(lines[4:]), encoding="utf-8")
    desc = _descriptor(shipped)
    next(r for r in desc["resources"] if r["name"] == "projects")["path"] = ["data/projects.csv",
                                                                              "data/projects-2.csv"]
    _write_descriptor(shipped, desc)
    result = validate_package(shipped)
    assert result.schema_problems == [] and [f.to_row() for f in result.findings] == \
        [f.to_row() for f in validate_package(ROOT / "datapackage").findings]
    assert build(shipped, tmp_path / "parts.db").rows["projects"] == 7
    build(ROOT / "datapackage", tmp_path / "one.db")
    assert _table(tmp_path / "parts.db", "projects") == _table(tmp_path / "one.db", "projects")
    _import_is_refused(shipped, r"^resource projects: its rows are in several files "
                                r"\(data/projects\.csv, data/projects-2\.csv\); .*\(rule: multipart\)$")


#: Cells holding separators, both quote characters, line breaks, spaces and Chinese text.
cells = st.text(alphabet=st.sampled_from(list(",;|\t\"' \n\r0123456789.-科技行政运行ab")), max_size=8)
dialects = st.fixed_dictionaries({}, optional={"delimiter": st.sampled_from([",", ";", "\t", "|"]),
                                               "quoteChar": st.sampled_from(['"', "'"])})
# Without a declared delimiter frictionless guesses one from the first lines (csv.Sniffer), and
# guesses wrong on some files (a comma-separated file whose cells hold ";" and line breaks): there
# opendata reads the Data Package default, a comma, and is compared with the rows written only.


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cells, cells), min_size=1, max_size=6), dialect=dialects,
       lineterminator=st.sampled_from(["\n", "\r\n"]))
def test_any_cells_in_any_declared_dialect_read_as_frictionless_reads_them(rows, dialect, lineterminator) -> None:
    folder = Path(tempfile.mkdtemp(prefix="dialect-"))
    with open(folder / "t.csv", "w", encoding="utf-8", newline="") as fh:  # as an import writes it
        RowWriter(fh, delimiter=dialect.get("delimiter", ","), quotechar=dialect.get("quoteChar", '"'),
                  lineterminator=lineterminator).writerows(
            [("id", "text"), *[(str(i), text) for i, (_, text) in enumerate(rows, start=1)]])
    descriptor = {"resources": [{"name": "t", "path": "t.csv", "format": "csv", "dialect": dialect,
                                 "schema": {"fields": [{"name": "id", "type": "integer"},
                                                       {"name": "text", "type": "string"}],
                                            "primaryKey": ["id"]}}]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    resource = frictionless.Package(str(folder / "datapackage.json")).get_resource("t")
    with resource:
        theirs = [(row["id"], row["text"]) for row in resource.row_stream]
    package = load_package(folder)
    ours = [(row["id"], row["text"]) for row in iter_rows(package.get_resource("t"))]
    # As written (an empty cell is a missing value: None).
    assert ours == [(i, text or None) for i, (_, text) in enumerate(rows, start=1)]
    if "delimiter" in dialect:
        assert ours == theirs
    assert schema_problems(package) == []
    shutil.rmtree(folder)


@needs_seed
def test_a_carriage_return_in_a_cell_survives_an_import(shipped: Path) -> None:
    # Python's csv module quotes a cell for the characters of its line terminator only: a lone \r
    # (quoted in the file) was written back bare by an import, and read as the end of a line.
    path = shipped / "data" / "statements.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    at, sentence = rows[0].index("report_id"), rows[0].index("sentence")
    row = next(r for r in rows[1:] if r[at] == "shanghai-putuo-czj-2024-final")
    row[sentence] = row[sentence] + "\r（续）"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows[:1])
        for r in rows[1:]:
            csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL if r is row else csv.QUOTE_MINIMAL).writerow(r)
    import_report(second_report(SEED), shipped, report_id="seed-again")  # rewrites statements.csv, every other row as read
    with open(path, encoding="utf-8", newline="") as fh:
        after = list(csv.reader(fh))
    assert row in after
    assert len([r for r in after if r[at] == "shanghai-putuo-czj-2024-final"]) == \
        len([r for r in rows if r[at] == "shanghai-putuo-czj-2024-final"])
    assert validate_package(shipped).schema_problems == []


def test_rows_in_the_descriptor_are_read_and_not_rewritten(shipped: Path, tmp_path: Path) -> None:
    # "data": [[header], [row], ...] instead of a file: read by frictionless's reader; an import,
    # which must rewrite departments, stopped with a TypeError traceback.
    desc = _descriptor(shipped)
    departments = next(r for r in desc["resources"] if r["name"] == "departments")
    with open(shipped / departments.pop("path"), encoding="utf-8", newline="") as fh:
        departments["data"] = list(csv.reader(fh))
    for key in ("encoding", "format", "mediatype"):
        departments.pop(key, None)
    _write_descriptor(shipped, desc)
    (shipped / "data" / "departments.csv").unlink()
    assert validate_package(shipped).schema_problems == []
    build(shipped, tmp_path / "inline.db")
    assert [r[1] for r in _table(tmp_path / "inline.db", "departments")] == ["上海市普陀区财政局",
                                                                              "株洲市芦淞区科技和工业信息化局"]
    _import_is_refused(shipped, r'^resource departments: its rows are in the descriptor \("data"\); .*'
                                r"\(rule: inline-data\)$")


def test_a_subset_of_a_package_keeps_every_file_of_a_resource(shipped: Path, tmp_path: Path) -> None:
    # write_subset (the import's validation of one department's reports) copied a resource's first
    # file only, and the copy named files it did not have.
    lines = (shipped / "data" / "classification.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (shipped / "data" / "classification.csv").write_text("".join(lines[:50]), encoding="utf-8")
    (shipped / "data" / "classification-2.csv").write_text(lines[0] + "".join(lines[50:]), encoding="utf-8")
    desc = _descriptor(shipped)
    next(r for r in desc["resources"] if r["name"] == "classification")["path"] = [
        "data/classification.csv", "data/classification-2.csv"]
    _write_descriptor(shipped, desc)
    subset = write_subset(load_package(shipped), {"zhuzhou-lusong-kjgxj-2020-final"}, tmp_path / "subset")
    result = validate_package(subset.parent)
    assert result.schema_problems == []
    assert {f.report_id for f in result.findings} == {"zhuzhou-lusong-kjgxj-2020-final"}
    assert build(subset.parent, tmp_path / "subset.db").rows["classification"] == len(lines) - 1


def test_excel_unicode_text_utf16_tab_separated_is_read_and_written_as_declared(shipped: Path, tmp_path: Path) -> None:
    # Excel's "Unicode text" (UTF-16 with its mark, tab-separated, CRLF): its NUL bytes made the
    # readers call the file binary data, though the descriptor declares it and frictionless reads it.
    plain = tmp_path / "plain"
    shutil.copytree(shipped, plain)
    desc = _descriptor(shipped)
    res = next(r for r in desc["resources"] if r["name"] == "statements")
    with open(shipped / res["path"], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    (shipped / res["path"]).unlink()
    res.update(path="data/statements.txt", format="tsv", encoding="utf-16")
    text = "".join("\t".join(row) + "\r\n" for row in rows)
    assert all("\t" not in cell and "\n" not in cell and '"' not in cell for row in rows for cell in row)
    (shipped / res["path"]).write_bytes(text.encode("utf-16"))
    _write_descriptor(shipped, desc)
    assert frictionless.Package(str(shipped / "datapackage.json")).validate().valid
    assert validate_package(shipped).schema_problems == []
    build(shipped, tmp_path / "utf16.db")
    build(plain, tmp_path / "plain.db")
    assert _table(tmp_path / "utf16.db", "statements") == _table(tmp_path / "plain.db", "statements")
    if SEED.exists():
        import_report(second_report(SEED), shipped, report_id="seed-again")
        data = (shipped / res["path"]).read_bytes()
        assert data.startswith(b"\xff\xfe") and "\ufeff" not in data.decode("utf-16")  # one mark, at the start
        assert "seed-again\t" in data.decode("utf-16")
        assert validate_package(shipped).schema_problems == []


@needs_seed
def test_an_import_keeps_a_file_whose_writer_quotes_every_cell(package_copy: Path) -> None:
    # LibreOffice's "quote all text cells" (with a BOM and CRLF): every row of amounts.csv came back
    # without its quotes, 568 lines of diff for one report re-imported.
    for name in ("amounts", "statements"):
        path = package_copy / "data" / f"{name}.csv"
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    before = {p.name: p.read_bytes() for p in (package_copy / "data").iterdir()}
    import_report(SEED, package_copy)  # the same report again: the same rows
    after = {p.name: p.read_bytes() for p in (package_copy / "data").iterdir()}
    assert after["amounts.csv"].startswith(b'\xef\xbb\xbf"report_id","table_no"')
    assert after == before


def _libreoffice_csv(rows: list[list[str]]) -> str:
    """``rows`` as LibreOffice's "quote all text cells" writes them: text quoted, numbers and empty
    cells bare, CRLF."""
    def cell(c: str) -> str:
        return c if not c or re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", c) else '"' + c.replace('"', '""') + '"'
    return "".join(",".join(map(cell, r)) + "\r\n" for r in rows)


@needs_seed
@pytest.mark.parametrize("resource", ["amounts", "statements", "report_tables"])
def test_a_file_quoting_its_text_cells_only_keeps_its_quotes(package_copy: Path, resource: str) -> None:
    # LibreOffice's "quote all text cells" leaves numbers and empty cells bare: a quoted header
    # made every cell of every row quoted ("1", "") on the next import; before, none was.
    path = package_copy / "data" / f"{resource}.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    path.write_bytes(_libreoffice_csv(rows).encode("utf-8"))
    before = path.read_bytes()
    assert before.splitlines()[1].startswith('"shanghai-putuo-czj-2024-final",'.encode())
    import_report(SEED, package_copy)  # the seed again: the same rows
    assert path.read_bytes() == before
