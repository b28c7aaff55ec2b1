"""import_report end to end: the seed into a copy of the shipped package."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendata.errors import ImportError_, OpenDataError
from opendata.ingest.importer import ImportInterrupted, department_slug, format_summary, import_report
from opendata.package import check_schema, load_package
from second_report import second_report

ROOT = Path(__file__).resolve().parent.parent
#: The shared sources sit beside the repository (../shared), in CI as here.
SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seeds/000_a04efb588eb58bab.txt"
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="seed report not available")


@pytest.fixture
def package(tmp_path):
    dest = tmp_path / "pkg"
    shutil.copytree(ROOT / "datapackage", dest)
    return dest


def _rows(package: Path, name: str) -> list[dict]:
    with (package / "data" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@needs_seed
def test_import_seed(package):
    summary = import_report(SEED, package)
    assert summary.report_id == "zhuzhou-lusong-kjgxj-2020-final"
    assert summary.tables_found == {8: "empty", 9: "empty"}
    assert summary.rows_written["projects"] == 7
    assert summary.figures == summary.rows_written["statements"]
    assert summary.figures_understood < summary.figures and summary.not_understood
    check_schema(load_package(package))
    tables = {r["table_no"]: r["status"] for r in _rows(package, "report_tables")
              if r["report_id"] == summary.report_id}
    assert tables["8"] == tables["9"] == "empty" and tables["1"] == "not_attached"
    report = next(r for r in _rows(package, "reports") if r["report_id"] == summary.report_id)
    assert report["tables_attached"] == "false" and report["license"] == "not stated"
    assert len(report["source_sha256"]) == 64
    amounts = _rows(package, "amounts")
    reception = {r["measure"]: r["amount"] for r in amounts if r["table_no"] == "7" and r["line_key"] == "公务接待费"}
    assert reception == {"预算数": "0.5", "决算数": "0.12"}
    assert "增长33.2%" in format_summary(summary) or any("33.2" in r["value"] for r in _rows(package, "statements"))


@needs_seed
def test_narrative_lines_are_in_a_printed_tables_order(package):
    # The seed's 表5 lines came in the narrative's order: 合计, its six 类, then every 项.
    summary = import_report(SEED, package)
    lines = sorted({(int(r["line_no"]), r["line_key"]) for r in _rows(package, "amounts")
                    if r["report_id"] == summary.report_id and r["table_no"] == "5"})
    assert [key for _, key in lines] == [
        "合计", "201", "2010301", "2010505", "206", "2060101", "2060199", "2060404", "2060499", "2060599",
        "2060901", "2060902", "2069999", "208", "2089901", "212", "2120201", "2120399", "215", "2150599",
        "2150802", "2150805", "2150899", "224", "2240106"]
    assert [no for no, _ in lines] == list(range(1, len(lines) + 1))
    # 表1 closes each side with its totals, 总计 last; the narrative names 收、支总计 first (表1 began with it).
    summary_lines = sorted((r["side"], int(r["line_no"]), r["line_key"]) for r in _rows(package, "amounts")
                           if r["report_id"] == summary.report_id and r["table_no"] == "1")
    assert [(side, key) for side, _, key in summary_lines] == [
        ("支出", "本年支出合计"), ("支出", "年末结转和结余"), ("支出", "总计"),
        ("收入", "本年收入合计"), ("收入", "年初结转和结余"), ("收入", "总计")]


@needs_seed
def test_reimport_is_idempotent(package):
    import_report(SEED, package)
    first = {p.name: p.read_bytes() for p in (package / "data").glob("*.csv")}
    import_report(SEED, package)
    second = {p.name: p.read_bytes() for p in (package / "data").glob("*.csv")}
    assert first == second


@needs_seed
def test_shipped_package_holds_the_seed():
    statements = _rows(ROOT / "datapackage", "statements")
    assert any(r["topic"] == "total.growth_rate" and r["value"] == "33.2" for r in statements)
    projects = _rows(ROOT / "datapackage", "projects")
    assert any(r["name"] == "上级专项" and r["amount"] == "2186.42" for r in projects)


def test_gbk_text_report(package, tmp_path):
    text = ("2021年度\n上海市普陀区测试局部门决算\n第三部分 2021年度部门决算情况说明\n一、收入支出决算总体情况说明\n"
            "2021年度收、支总计100.5万元。\n")
    src = tmp_path / "report.txt"
    src.write_bytes(text.encode("gb18030"))
    summary = import_report(src, package)
    assert summary.department == "上海市普陀区测试局" and summary.year == 2021
    assert summary.report_id.startswith("shanghai-putuo-dept-") and summary.report_id.endswith("-2021-final")


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\x03" * 100, "这是一封信，没有年度，也没有部门。".encode()])
def test_non_report_fails(package, tmp_path, content):
    src = tmp_path / "not-a-report.txt"
    src.write_bytes(content)
    with pytest.raises(ImportError_, match="not-a-report.txt"):
        import_report(src, package)


def test_department_slug_falls_back_to_hash():
    assert department_slug("株洲市芦淞区科技和工业信息化局") == "zhuzhou-lusong-kjgxj"
    assert department_slug("某某县某局").startswith("dept-")


def test_putuo_table1_class_lines_carry_the_code_their_name_has_in_the_report():
    """表1 prints its 类 lines by name only; the importer links them to the code tables 2-5 print."""
    import csv

    with (Path(__file__).resolve().parent.parent / "datapackage" / "data" / "amounts.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["report_id"] == "shanghai-putuo-czj-2024-final" and r["table_no"] == "1" and r["side"] == "支出"]
    coded = {r["item"]: (r["code"], r["code_certainty"], r["amount"]) for r in rows if r["code"]}
    assert coded["社会保障和就业支出"] == ("208", "high", "326.71")
    assert coded["一般公共服务支出"] == ("201", "high", "2106.66")
    assert set(coded) == {"一般公共服务支出", "社会保障和就业支出", "卫生健康支出", "住房保障支出"}


PUTUO = SHARED / "reports/shanghai-putuo-finance-bureau-2024-final-accounts.pdf"


@needs_seed
def test_import_runs_the_validation_and_reports_its_findings(package):
    summary = import_report(SEED, package)
    assert summary.validated and not summary.schema_problems
    rules = {(f["severity"], f["rule_id"], f["source_ref"]) for f in summary.findings}
    assert ("error", "ratio.execution_rate", "第三部分 五（三）3") in rules
    assert all(f["message"] for f in summary.findings)
    text = format_summary(summary)
    assert "validation findings about this report: 1 error, 1 warning" in text
    assert "error ratio.execution_rate:" in text and "[第三部分 五（三）3]" in text


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
def test_putuo_import_lists_the_narrative_vs_table_finding(package):
    summary = import_report(PUTUO, package)
    assert summary.report_id == "shanghai-putuo-czj-2024-final"
    table = [f for f in summary.findings if f["rule_id"] == "narrative.table"]
    assert table and "0.30" in table[0]["message"] and table[0]["severity"] == "error"
    # only this report's findings (the seed's findings stay out of it)
    assert not any(f["rule_id"] == "ratio.execution_rate" for f in summary.findings)
    assert "narrative.table" in format_summary(summary)


@needs_seed
def test_cli_import_exits_0_with_findings(package):
    from click.testing import CliRunner

    from opendata.cli import cli

    result = CliRunner().invoke(cli, ["import", str(SEED), "--package", str(package)])
    assert result.exit_code == 0, result.output
    assert "ratio.execution_rate" in result.output


PUTUO_PDF = SHARED / "reports/shanghai-putuo-finance-bureau-2024-final-accounts.pdf"


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_scanned_pdf_is_told_apart_from_a_file_that_is_not_a_report(package, tmp_path, runner):
    """A tester's scan of the Putuo report (its pages as images) was called "not a 部门决算/预算
    report: could not find the year": it is one, without a text layer."""
    import pdfplumber

    from opendata.cli import cli

    with pdfplumber.open(PUTUO_PDF) as pdf:
        images = [page.to_image(resolution=40).original.convert("RGB") for page in pdf.pages[:3]]
    scan = tmp_path / "scan.pdf"
    images[0].save(scan, "PDF", save_all=True, append_images=images[1:])
    before = _files(package)
    r = runner.invoke(cli, ["import", str(scan), "--package", str(package)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert ("scan.pdf: the PDF's 3 pages hold no text, only images (a scanned report?): opendata reads a PDF's "
            "text layer, not images; run OCR on it first") in " ".join(r.output.split())
    assert _files(package) == before


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_blank_table_whose_note_says_there_is_none_is_empty(package, tmp_path, runner):
    """The Putuo PDF's first 20 pages (its tables, without the narrative): 表8 and 表9 were 'attached'
    though each table's note says the bureau has no such expenditure; the whole PDF records them
    'empty' (from the narrative's sentence)."""
    import pypdfium2

    from opendata.cli import cli

    src = pypdfium2.PdfDocument(PUTUO_PDF)
    part = pypdfium2.PdfDocument.new()
    part.import_pages(src, list(range(20)))
    pages = tmp_path / "putuo-tables.pdf"
    part.save(pages)
    part.close()
    src.close()
    r = runner.invoke(cli, ["import", str(pages), "--package", str(package), "--report-id",
                            "shanghai-putuo-czj-2024-final"])
    assert r.exit_code == 0, r.output
    tables = {int(t["table_no"]): t for t in _rows(package, "report_tables")
              if t["report_id"] == "shanghai-putuo-czj-2024-final"}
    assert {n: t["status"] for n, t in tables.items()} == {**{n: "attached" for n in range(1, 8)}, 8: "empty", 9: "empty"}
    assert tables[8]["statement"] == "注：上海市普陀区财政局无政府性基金预算财政拨款支出，故本表无数据。"
    assert tables[9]["source_ref"] == "第二部分 表9 国有资本经营预算财政拨款收入支出决算表 (p.20)"


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_text_holding_the_tables_records_them_as_not_read(package, tmp_path, runner):
    """The Putuo PDF's whole text, as a viewer copies it (pdfium), holds its nine tables: the import
    read none and recorded each as not in the source (第二部分 部门决算表（文本来源未含附表）)."""
    import pypdfium2

    from opendata.cli import cli

    pdf = pypdfium2.PdfDocument(PUTUO_PDF)
    text = tmp_path / "putuo.txt"
    text.write_text("\n\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))), encoding="utf-8")
    pdf.close()
    r = runner.invoke(cli, ["import", str(text), "--package", str(package), "--report-id", "shanghai-putuo-czj-2024-final"])
    assert r.exit_code == 0, r.output
    assert ("the text holds the report's tables (表1, 表2, 表3, 表4, 表5, 表6, 表7, 表8, 表9), which a text import "
            "does not read") in " ".join(r.output.split())
    tables = {int(t["table_no"]): t for t in _rows(package, "report_tables") if t["report_id"] == "shanghai-putuo-czj-2024-final"}
    assert {n: t["status"] for n, t in tables.items()} == {**{n: "not_read" for n in range(1, 8)}, 8: "empty", 9: "empty"}
    assert tables[7]["title_as_printed"] == "财政拨款“三公”经费支出决算表"  # as this report prints it
    assert tables[8]["statement"] == "上海市普陀区财政局2024年度无政府性基金预算财政拨款收入和支出。"
    report = next(r for r in _rows(package, "reports") if r["report_id"] == "shanghai-putuo-czj-2024-final")
    assert report["tables_attached"] == "true" and report["notes"].startswith("来源文本含附表，文本导入未读取表格")
    assert not any("文本来源未含附表" in t["source_ref"] for t in tables.values())
    check_schema(load_package(package))


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_text_whose_figures_are_away_from_their_units_is_refused(package, tmp_path, runner):
    """pdfplumber's text of the Putuo narrative puts each line's figures on a line of their own
    ("年初预算为 万元，支出决算为 万" then "85.55 84.65"): imported with exit 0, 84.65 was written as
    a figure in 元 (0.008465 万元) and 450.52, the 年初预算, as the 决算 449.52."""
    import pdfplumber

    from opendata.cli import cli

    with pdfplumber.open(PUTUO_PDF) as pdf:
        text = "\n\n".join(page.extract_text() for page in pdf.pages)
    source = tmp_path / "putuo.txt"
    source.write_text(text, encoding="utf-8")
    before = _files(package)
    r = runner.invoke(cli, ["import", str(source), "--package", str(package), "--report-id", "putuo-text"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    flat = " ".join(r.output.split())
    assert "putuo.txt: the text's figures are not beside their units (" in flat
    assert "上海市普陀区财政局 年度收入支出总计 万元" in flat and "import the PDF itself" in flat
    assert _files(package) == before


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_damaged_pdf_is_refused_naming_its_pages(package, tmp_path, runner):
    """5000 zero bytes in the middle of the Putuo PDF (inside a font its narrative pages use): the
    import took 4 minutes (pdfminer retried the font one byte at a time), printed pdfminer's
    "Data-loss while decompressing corrupted data" and imported what it read, with exit 0. Now
    refused before any page is read (0.3 s: benchmarks are where times are measured)."""
    from opendata.cli import cli

    data = bytearray(PUTUO_PDF.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 5000] = b"\0" * 5000
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(bytes(data))
    before = _files(package)
    r = runner.invoke(cli, ["import", str(damaged), "--package", str(package)])
    assert r.exit_code == 2 and "Traceback" not in r.output and "Data-loss" not in r.output
    assert ("damaged.pdf: the PDF is damaged: the text of p.2-5, 21-25 depends on compressed data that fails "
            "its check; it cannot be read reliably, so nothing was imported") in " ".join(r.output.split())
    assert "p.2-5, 21-25: font program stream (object 34): Error -3" in r.output
    assert _files(package) == before


def test_cli_import_names_an_encrypted_pdf(package, tmp_path, runner):
    """Encrypted with a user password, it was "not a readable PDF (PdfminerException: )"."""
    from pdf_samples import text_pdf, tiny_pdf

    from opendata.cli import cli

    for data in (text_pdf(user_password="secret"), tiny_pdf(encrypt=True)):
        src = tmp_path / "locked.pdf"
        src.write_bytes(data)
        r = runner.invoke(cli, ["import", str(src), "--package", str(package)])
        assert r.exit_code == 2 and "Traceback" not in r.output
        assert ("locked.pdf: the PDF is encrypted (password protected) and cannot be read without its "
                "password") in " ".join(r.output.split())


def test_cli_import_refuses_a_file_that_is_not_a_report(package, tmp_path):
    from click.testing import CliRunner

    from opendata.cli import cli

    src = tmp_path / "letter.txt"
    src.write_text("这是一封信，没有年度，也没有部门。", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(src), "--package", str(package)])
    assert result.exit_code != 0
    assert "not a 部门决算/预算 report" in result.output
    assert "Traceback" not in result.output


@needs_seed
def test_rewriting_a_resource_keeps_every_figure_as_stated(tmp_path):
    """Importing one report rewrites the others' rows: their figures must survive byte for byte."""
    import csv

    pkg = tmp_path / "pkg"
    shutil.copytree(Path(__file__).resolve().parent.parent / "datapackage", pkg)
    before = (pkg / "data" / "statements.csv").read_text(encoding="utf-8")
    assert "64.0637" in before  # 第五部分 四（三）: 清欠账款共计 64.0637 万元
    from opendata.ingest.importer import import_report

    import_report(SEED, pkg)
    with (pkg / "data" / "statements.csv").open(encoding="utf-8") as fh:
        values = {r["value"] for r in csv.DictReader(fh) if r["report_id"] == "zhuzhou-lusong-kjgxj-2020-final"}
    assert "64.0637" in values and "2186.42" in values


TEMPLATE = SHARED / "reports/national-template-final-accounts-blank.pdf"


@pytest.mark.skipif(not TEMPLATE.exists(), reason="blank national template not available")
def test_the_blank_national_template_is_refused(tmp_path, runner):
    """The template's placeholders (上海市 XX 局) are not a department: nothing is imported."""
    from opendata.cli import cli

    pkg = tmp_path / "pkg"
    shutil.copytree(Path(__file__).resolve().parent.parent / "datapackage", pkg)
    before = {p.name: p.read_bytes() for p in (pkg / "data").iterdir()}
    result = runner.invoke(cli, ["import", str(TEMPLATE),
                                 "--package", str(pkg)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "national-template-final-accounts-blank.pdf: a blank template" in result.output
    assert {p.name: p.read_bytes() for p in (pkg / "data").iterdir()} == before


@needs_seed
def test_the_descriptor_lists_each_imported_source_once(tmp_path):
    """datapackage.json `sources`: one entry per report (title, file, sha256, terms), replaced on re-import."""

    from opendata.ingest.importer import import_report

    pkg = tmp_path / "pkg"
    shutil.copytree(Path(__file__).resolve().parent.parent / "datapackage", pkg)
    import_report(SEED, pkg)
    import_report(SEED, pkg)
    sources = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))["sources"]
    seed = [s for s in sources if s["report_id"] == "zhuzhou-lusong-kjgxj-2020-final"]
    assert len(seed) == 1
    assert seed[0]["title"] == "2020年度株洲市芦淞区科技和工业信息化局部门决算"
    assert "bf2cc57872bed27d421e88401a4c628db2a52e55c5d53092a74543d268f7a504" in seed[0]["description"]
    assert {s["report_id"] for s in sources} == {"zhuzhou-lusong-kjgxj-2020-final", "shanghai-putuo-czj-2024-final"}


def _files(package: Path) -> dict[str, bytes]:
    return {str(p.relative_to(package)): p.read_bytes() for p in sorted(package.rglob("*")) if p.is_file()}


@needs_seed
@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
@pytest.mark.parametrize("at", ["statements", "descriptor"])
def test_failed_import_leaves_the_package_as_it_was(package, monkeypatch, failure, at):
    # The report's amounts, reports and departments rows are written before its statements and
    # the descriptor's source entry: a failure there must not leave them in the package without the rest.
    import opendata.package as package_module

    # The shipped package holds the seed already (importing it again changes nothing): take it out.
    names = [r.name for r in load_package(package).resources if "report_id" in r.schema.field_names]
    package_module.replace_report_rows(package, "zhuzhou-lusong-kjgxj-2020-final", {n: [] for n in names})
    before = _files(package)
    real_replace, real_style = package_module._replace_report_lines, package_module._in_style_of
    written: list[str] = []

    def replace(package_dir, resource, *args):
        if at == "statements" and resource.name == "statements":
            raise failure
        written.append(resource.name)
        return real_replace(package_dir, resource, *args)

    def descriptor(raw, obj):  # the descriptor written last
        if at == "descriptor":
            raise failure
        return real_style(raw, obj)

    monkeypatch.setattr(package_module, "_replace_report_lines", replace)
    monkeypatch.setattr(package_module, "_in_style_of", descriptor)
    # A full disk is said (a tester's got a traceback); Ctrl-C stops the import as it is.
    with pytest.raises(OpenDataError if isinstance(failure, OSError) else KeyboardInterrupt,
                       match="No space left on device" if isinstance(failure, OSError) else None):
        import_report(SEED, package)
    assert {"reports", "amounts"} <= set(written)  # those files were written, then dropped
    assert _files(package) == before  # byte for byte, and no temporary file left
    monkeypatch.undo()
    assert import_report(SEED, package).report_id == "zhuzhou-lusong-kjgxj-2020-final"


def _without_seed(package: Path) -> None:
    """The shipped package holds the seed already (importing it again changes nothing): take it out."""
    _drop_report(package, "zhuzhou-lusong-kjgxj-2020-final")


def _putuo_pages(pages: range, out: Path) -> Path:
    """A PDF of some pages of the Putuo report (0-based), as a publisher might get them."""
    import pypdfium2 as pdfium

    part = pdfium.PdfDocument.new()
    part.import_pages(pdfium.PdfDocument(PUTUO_PDF), list(pages))
    part.save(out)
    return out


def _drop_report(package: Path, report_id: str) -> None:
    """Every row of ``report_id`` taken out of the package."""
    import opendata.package as package_module

    names = [r.name for r in load_package(package).resources if "report_id" in r.schema.field_names]
    package_module.replace_report_rows(package, report_id, {n: [] for n in names})


@needs_seed
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_an_import_interrupted_during_its_validation_says_the_report_is_in(package, monkeypatch, signum):
    # Ctrl-C or SIGTERM once the files were replaced, during the closing validation, said "Aborted!"
    # (exit 1) or "Aborted: terminated (SIGTERM)" and printed no summary: the report was in the package.
    import signal

    from click.testing import CliRunner

    import opendata.ingest.importer as importer
    from opendata.cli import cli

    _without_seed(package)

    def validate(package_dir, summary):
        signal.raise_signal(getattr(signal, signum))  # as the user's Ctrl-C, or kill, would

    monkeypatch.setattr(importer, "_validate", validate)
    result = CliRunner().invoke(cli, ["import", str(SEED), "--package", str(package)])
    assert result.exit_code == 128 + getattr(signal, signum), result.output
    assert "Aborted" not in result.output and "Traceback" not in result.output
    assert result.output.startswith("Imported 000_a04efb588eb58bab.txt as zhuzhou-lusong-kjgxj-2020-final")  # the summary
    assert "after the report was written: it is imported, its validation did not finish" in result.output
    assert "run `opendata validate" in result.output
    assert [r["report_id"] for r in _rows(package, "reports")].count("zhuzhou-lusong-kjgxj-2020-final") == 1


@needs_seed
def test_ctrl_c_while_the_files_are_renamed_waits_until_all_are(package, monkeypatch):
    # Between two renames the package held one file's new version and another's old one.
    import os
    import signal

    import opendata.staging as staging

    _without_seed(package)
    before = _files(package)
    real_replace = os.replace
    renamed: list[str] = []

    def replace(src, dst):
        if not renamed:
            signal.raise_signal(signal.SIGINT)  # delivered after the last rename
        renamed.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(staging.os, "replace", replace)
    with pytest.raises(ImportInterrupted) as caught:
        import_report(SEED, package)
    monkeypatch.undo()
    assert len(renamed) >= 6 and "datapackage.json" in renamed  # every file, the descriptor too
    assert caught.value.summary is not None and caught.value.summary.report_id == "zhuzhou-lusong-kjgxj-2020-final"
    after = _files(package)
    assert after != before and not any(name.endswith(".tmp") for name in after)
    check_schema(load_package(package))
    assert "zhuzhou-lusong-kjgxj-2020-final" in {r["report_id"] for r in _rows(package, "statements")}


def _declare_encoding(package: Path, names: tuple[str, ...], encoding: str) -> None:

    desc = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    for res in desc["resources"]:
        if res["name"] in names:
            res["encoding"] = encoding
            path = package / res["path"]
            path.write_text(path.read_text(encoding="utf-8"), encoding=encoding)
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False, indent=2), encoding="utf-8")


@needs_seed
def test_import_keeps_each_file_in_its_declared_encoding(package, tmp_path):
    # An import rewrote every CSV as UTF-8: a file declared GBK was then unreadable as declared.
    utf8 = tmp_path / "utf8"
    shutil.copytree(package, utf8)
    _declare_encoding(package, ("statements", "departments"), "gbk")
    import_report(SEED, package)
    import_report(SEED, utf8)
    for name in ("statements", "departments"):
        data = (package / "data" / f"{name}.csv").read_bytes()
        assert data.decode("gbk") == (utf8 / "data" / f"{name}.csv").read_text(encoding="utf-8")
        assert data != (utf8 / "data" / f"{name}.csv").read_bytes()  # GBK bytes, not UTF-8
    check_schema(load_package(package))


@needs_seed
def test_import_refuses_rows_the_declared_encoding_cannot_hold(package):
    # A file declared latin-1 (its rows so far all ASCII) cannot hold the report's Chinese names.
    (package / "data" / "projects.csv").write_text(_rows_header(package, "projects"), encoding="utf-8")
    _declare_encoding(package, ("projects",), "latin-1")
    before = _files(package)
    with pytest.raises(OpenDataError) as info:
        import_report(SEED, package)
    assert str(info.value).startswith('data/projects.csv: declared "encoding": "latin-1", which cannot hold')
    assert "nothing was written" in str(info.value)
    assert _files(package) == before


def _rows_header(package: Path, name: str) -> str:
    return (package / "data" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"


@needs_seed
@pytest.mark.parametrize("name,declared,message", [
    ("projects", {"encoding": "gb18030"}, "data/projects.csv: cannot be read as its descriptor declares it (not "
                                          "gb18030: illegal multibyte sequence (rule: encoding-error))"),
    ("statements", {"encoding": "nope"}, "data/statements.csv: cannot be read as its descriptor declares it "
                                         "(unknown encoding: nope (rule: encoding-error))"),
    ("projects", {"format": "xlsx"}, 'data/projects.csv: cannot be read as its descriptor declares it (The data '
                                     "source could not be successfully parsed: invalid excel file"),
    ("departments", {"encoding": "utf-16", "dialect": {"header": False}}, "data/departments.csv: cannot be read as its "
                                                                          "descriptor declares it"),
])
def test_import_into_files_that_cannot_be_read_as_declared_says_which(package, name, declared, message):
    # Each stopped the import with a traceback (UnicodeDecodeError, LookupError, frictionless's
    # exceptions); now a clear error naming the file and rule, and the package as it was.

    desc = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    next(r for r in desc["resources"] if r["name"] == name).update(declared)
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    before = _files(package)
    with pytest.raises(OpenDataError) as info:
        import_report(second_report(SEED), package, report_id="seed-again")
    assert str(info.value).startswith(message), str(info.value)
    assert "nothing was written" in str(info.value)
    assert _files(package) == before


#: What a descriptor may declare about a resource's file, right or wrong for it.
_FILE_PROPERTIES = st.fixed_dictionaries({}, optional={
    "encoding": st.sampled_from(["utf-8", "gbk", "latin-1", "utf-16", "ascii", "nope", "UTF-8-SIG", "gb18030"]),
    "dialect": st.sampled_from([{"delimiter": ";"}, {"header": False}, {"quoteChar": ""}, {"delimiter": "ab"},
                                {"doubleQuote": False, "escapeChar": "\\"}, {"commentChar": "#"},
                                {"skipInitialSpace": True}, {"lineTerminator": "\r\n"}, {"csv": {"delimiter": "\t"}},
                                {"nullSequence": "NA"}, "dialect.json"]),
    "format": st.sampled_from(["csv", "tsv", "xlsx", "json"]),
    "compression": st.sampled_from(["gz", "zip"]),
})


@needs_seed
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(["departments", "amounts", "statements", "projects", "classification"]),
                               _FILE_PROPERTIES, min_size=1, max_size=2))
def test_an_import_into_any_declared_files_succeeds_or_says_why_and_writes_nothing(tmp_path_factory, changes):

    package = tmp_path_factory.mktemp("declared") / "pkg"
    shutil.copytree(ROOT / "datapackage", package)
    desc = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    for res in desc["resources"]:
        res.update(changes.get(res["name"], {}))
    (package / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False), encoding="utf-8")
    before = _files(package)
    try:
        import_report(second_report(SEED), package, report_id="seed-again")
    except OpenDataError as exc:  # nothing else: no traceback for the user
        assert "(rule: " in " ".join([str(exc), *(getattr(exc, "problems", None) or [])]), str(exc)
        assert _files(package) == before


@needs_seed
def test_two_imports_at_once_keep_both_reports(package, monkeypatch):
    # Each import rewrote the files from what it had read, and the one renamed last dropped the
    # other's rows. Now the second waits for the first (the package's lock) and reads what it wrote.
    import threading
    import time

    import opendata.ingest.importer as importer

    real_record = importer.record_source
    first_paused, go_on = threading.Event(), threading.Event()

    def record(package_dir, source, stage=None):
        if source["report_id"] == "first":  # its files written, not yet in place
            first_paused.set()
            go_on.wait(10)
        return real_record(package_dir, source, stage)

    monkeypatch.setattr(importer, "record_source", record)
    errors: list[BaseException] = []

    def run(report_id: str) -> None:
        try:
            import_report(second_report(SEED, f"芦淞区{report_id}和工业"), package, report_id=report_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert first_paused.wait(10)
    second = threading.Thread(target=run, args=("second",))
    second.start()
    time.sleep(1.0)  # the second import runs meanwhile (or waits for the lock)
    go_on.set()
    first.join(30)
    second.join(30)
    assert errors == []
    report_ids = {r["report_id"] for r in _rows(package, "reports")}
    assert {"first", "second"} <= report_ids
    assert {r["report_id"] for r in _rows(package, "statements")} >= {"first", "second"}


@needs_seed
def test_an_import_waits_for_a_build_and_says_so_when_it_cannot(package, monkeypatch):
    import opendata.staging as staging

    monkeypatch.setattr(staging, "LOCK_WAIT", 0.3)
    before = _files(package)
    with staging.package_lock(package, exclusive=False):  # a build reading the package
        with pytest.raises(OpenDataError, match=r"another opendata build, validation or import is using the "
                                                r"package; waited 0\.3 s"):
            import_report(second_report(SEED), package, report_id="later")
    assert _files(package) == before
    import_report(second_report(SEED), package, report_id="later")  # once it ends
    assert "later" in {r["report_id"] for r in _rows(package, "reports")}


def test_a_build_waits_for_an_import_and_says_so_when_it_cannot(package, monkeypatch, tmp_path):
    import opendata.staging as staging
    from opendata.build import build

    monkeypatch.setattr(staging, "LOCK_WAIT", 0.3)
    with staging.package_lock(package, exclusive=True):  # an import writing the package
        with pytest.raises(OpenDataError, match=r"another opendata import is using the package"):
            build(package, tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()
    assert build(package, tmp_path / "x.db").rows["reports"] == 2


@needs_seed
def test_a_report_id_of_another_report_is_refused(package, runner):
    from opendata.cli import cli

    # The tester's case: the Zhuzhou narrative imported as the Putuo report replaced Putuo's 212 amounts.
    before = _files(package)
    r = runner.invoke(cli, ["import", str(SEED), "--package", str(package), "--report-id",
                            "shanghai-putuo-czj-2024-final"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert ("report id 'shanghai-putuo-czj-2024-final' is already the package's report of shanghai-putuo-czj, "
            "2024 决算; importing zhuzhou-lusong-kjgxj, 2020 决算 under it would replace") in " ".join(r.output.split())
    assert _files(package) == before
    # The same report under its own id is imported as before.
    assert runner.invoke(cli, ["import", str(SEED), "--package", str(package)]).exit_code == 0
    assert {r["report_id"] for r in _rows(package, "reports")} == {"zhuzhou-lusong-kjgxj-2020-final",
                                                                   "shanghai-putuo-czj-2024-final"}


@needs_seed
def test_a_second_copy_of_a_report_is_refused(package, runner, tmp_path):
    """A tester imported the same report under a new --report-id: two reports of one department and
    year, every figure counted twice in report_totals and every line twice in year_on_year."""
    from opendata.cli import cli

    before = _files(package)
    r = runner.invoke(cli, ["import", str(SEED), "--package", str(package), "--report-id", "seed-copy"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert ("the package already holds this very file as report 'zhuzhou-lusong-kjgxj-2020-final'; a second copy as "
            "'seed-copy' would count it twice. To replace it (a corrected version), import with --report-id "
            "zhuzhou-lusong-kjgxj-2020-final; nothing was written") in " ".join(r.output.split())
    assert _files(package) == before
    # Another file of the same department, year and kind (a corrected version, say) under a new id: the same.
    corrected = tmp_path / "corrected.txt"
    corrected.write_text(SEED.read_text(encoding="utf-8") + "\n（更正版）\n", encoding="utf-8")
    r = runner.invoke(cli, ["import", str(corrected), "--package", str(package), "--report-id", "lusong-2020-v2"])
    assert r.exit_code == 2
    assert ("already holds the report of zhuzhou-lusong-kjgxj, 2020 决算 as report 'zhuzhou-lusong-kjgxj-2020-final'"
            in " ".join(r.output.split()))
    assert _files(package) == before
    # Under the report's own id, it replaces it.
    r = runner.invoke(cli, ["import", str(corrected), "--package", str(package), "--report-id",
                            "zhuzhou-lusong-kjgxj-2020-final"])
    assert r.exit_code == 0, r.output
    reports = {row["report_id"]: row for row in _rows(package, "reports")}
    assert set(reports) == {"zhuzhou-lusong-kjgxj-2020-final", "shanghai-putuo-czj-2024-final"}
    assert reports["zhuzhou-lusong-kjgxj-2020-final"]["source_file"] == "corrected.txt"


@needs_seed
@pytest.mark.parametrize("edit, rule", [
    (lambda lines: [lines[0] + ",备注"] + [line + ",已核对 张三" for line in lines[1:]], "extra-label"),
    (lambda lines: [lines[0].replace("title", "标题")] + lines[1:], "extra-label"),
    (lambda lines: [",".join(reversed(lines[0].split(",")))] + lines[1:], "incorrect-label"),
])
def test_an_import_refuses_a_file_whose_header_is_not_the_schema(package, runner, edit, rule):
    """A tester added a 备注 column to reports.csv in Excel: the import rewrote the file without it
    (the notes of every report lost), and a renamed header came back renamed with 10.00 written 10."""
    from opendata.cli import cli

    path = package / "data" / "reports.csv"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    before = _files(package)
    r = runner.invoke(cli, ["import", str(SEED), "--package", str(package)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    message = " ".join(r.output.split())
    assert message.startswith("Error: data/reports.csv: header has ") and f"(rule: {rule})" in message
    assert "nothing was written" in message
    assert _files(package) == before


@needs_seed
def test_rows_of_other_reports_and_codes_come_back_as_they_were_written(package):
    """The rows an import keeps are written back as their text was, in the files keyed by report
    (Putuo's 10.00) and in those merged on a key (classification, departments), in key order."""
    data = package / "data"
    before = {name: (data / f"{name}.csv").read_text(encoding="utf-8").splitlines()
              for name in ("amounts", "classification", "departments")}
    assert "10.00,high" in "\n".join(before["amounts"])
    import_report(SEED, package)
    for name, lines in before.items():
        after = (data / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if "2020" not in line and "zhuzhou" not in line]
        assert kept and set(kept) <= set(after), name
    codes = [line.split(",", 1)[0] for line in (data / "classification.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert codes == sorted(codes)


@needs_seed
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_utf16_text_report_is_read(package, tmp_path, encoding):
    # Notepad's "Unicode" (UTF-16 with its byte-order mark) was refused as a binary file.
    import codecs

    text = SEED.read_text(encoding="utf-8")
    data = {"utf-16": text.encode("utf-16"), "utf-16-le-bom": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
            "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be")}[encoding]
    src = tmp_path / "unicode.txt"
    src.write_bytes(data)
    # The package holds the seed from its UTF-8 file: this file replaces it when asked to.
    summary = import_report(src, package, report_id="zhuzhou-lusong-kjgxj-2020-final")
    assert summary.report_id == "zhuzhou-lusong-kjgxj-2020-final"
    reception = {r["measure"]: r["amount"] for r in _rows(package, "amounts")
                 if r["report_id"] == summary.report_id and r["table_no"] == "7" and r["line_key"] == "公务接待费"}
    assert reception == {"预算数": "0.5", "决算数": "0.12"}


@needs_seed
def test_text_cut_in_its_last_character_is_read(package, tmp_path):
    src = tmp_path / "cut.txt"
    src.write_bytes(SEED.read_bytes().rstrip()[:-1])  # the last character's last byte missing
    assert SEED.read_bytes().rstrip()[-3:].decode("utf-8")  # (it is a three-byte character)
    assert import_report(src, package, report_id="zhuzhou-lusong-kjgxj-2020-final").report_id == \
        "zhuzhou-lusong-kjgxj-2020-final"


def test_a_fifo_is_refused_without_waiting(package, tmp_path):
    import os

    fifo = tmp_path / "report.txt"
    os.mkfifo(fifo)
    before = _files(package)
    with pytest.raises(ImportError_, match="report.txt: not a regular file"):
        import_report(fifo, package)
    assert _files(package) == before


@needs_seed
def test_a_package_that_cannot_be_written_says_so(package, monkeypatch, runner):
    # A read-only package printed a bare "[Errno 13] Permission denied: '.../departments.csv.gtw3nl2h.tmp'".
    import errno
    import tempfile

    from opendata.cli import cli

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", kwargs.get("dir"))

    before = _files(package)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    r = runner.invoke(cli, ["import", str(SEED), "--package", str(package)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{package / 'data'}: cannot write the new version of " in r.output
    assert "(Permission denied); nothing was written" in r.output
    assert _files(package) == before


@needs_seed
@pytest.mark.parametrize("bom, terminator", [(b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n"), (b"\xef\xbb\xbf", b"\r\n")])
def test_import_keeps_the_line_ends_and_byte_order_mark_of_each_file(package, bom, terminator):
    # Files saved by Excel (CRLF, a UTF-8 BOM) came back with LF and no BOM: every line of a diff changed.
    data = package / "data"
    for path in data.glob("*.csv"):
        text = path.read_bytes().replace(b"\r\n", b"\n")
        path.write_bytes(bom + text.replace(b"\n", terminator))
    before = {p.name: p.read_bytes() for p in data.glob("*.csv")}
    import_report(SEED, package)
    after = {p.name: p.read_bytes() for p in data.glob("*.csv")}
    for name, content in after.items():
        assert content.startswith(bom) and not content[len(bom):].startswith(b"\xef\xbb\xbf"), name
        lines = content[len(bom):].split(terminator)
        assert all(b"\n" not in line for line in lines) if terminator == b"\r\n" else b"\r" not in content, name
    # Only rows were added: every line that was there is still there, as it was.
    for name, content in before.items():
        old_lines = set(content[len(bom):].split(terminator))
        assert old_lines <= set(after[name][len(bom):].split(terminator)), name
    check_schema(load_package(package))


def test_a_budget_lists_its_units_and_no_final_accounts_tables(package, tmp_path):
    """A tester's 部门预算: its report_tables rows named the 部门决算 template's tables (第二部分 部门决算表),
    and 纳入…编制范围的单位为：…本级 was not recorded."""
    from test_narrative import BUDGET

    src = tmp_path / "budget.txt"
    src.write_text(BUDGET.replace("三、部门收支总体情况", "二、部门预算单位构成\n纳入2022年部门预算编制范围的单位为："
                                  "株洲市芦淞区科技和工业信息化局本级。\n三、部门收支总体情况"), encoding="utf-8")
    summary = import_report(src, package)
    assert summary.report_id == "zhuzhou-lusong-kjgxj-2022-budget"
    units = [r for r in _rows(package, "report_units") if r["report_id"] == summary.report_id]
    assert [(u["kind"], u["name"]) for u in units] == [("预算单位", "株洲市芦淞区科技和工业信息化局本级")]
    assert not [r for r in _rows(package, "report_tables") if r["report_id"] == summary.report_id]
    assert any("none listed for this 部门预算" in w for w in summary.warnings)
    check_schema(load_package(package))


@needs_seed
def test_an_import_keeps_the_permissions_of_the_files_it_replaces(package):
    # The new versions were made by mkstemp, 0600: a package others read was readable only by
    # whoever had imported into it.
    names = [r.name for r in load_package(package).resources if "report_id" in r.schema.field_names]
    import opendata.package as package_module

    package_module.replace_report_rows(package, "zhuzhou-lusong-kjgxj-2020-final", {n: [] for n in names})
    modes = {p: 0o644 if p.suffix == ".csv" else 0o664 for p in package.rglob("*") if p.is_file()}
    for path, mode in modes.items():
        path.chmod(mode)
    before = _files(package)
    import_report(SEED, package)
    changed = [p for p in modes if p.read_bytes() != before[str(p.relative_to(package))]]
    assert {"amounts.csv", "statements.csv", "reports.csv"} <= {p.name for p in changed}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in changed} == {p.name: oct(modes[p]) for p in changed}


@needs_seed
def test_another_file_of_a_held_report_replaces_it_only_when_asked(package, tmp_path, runner):
    # A tester's first pages of a report (or its text half garbled), imported under the id it gives,
    # replaced the whole report with exit 0 and no word of it.
    from opendata.cli import cli

    text = SEED.read_text(encoding="utf-8")
    half = len(text) // 2
    garbled = tmp_path / "garbled.txt"
    garbled.write_bytes(text[:half].encode() + text[half:].encode().decode("cp1252", "replace").encode())
    before = _files(package)
    refused = runner.invoke(cli, ["import", str(garbled), "--package", str(package)])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert ("garbled.txt: the package already holds this report (zhuzhou-lusong-kjgxj, 2020 决算) as "
            "'zhuzhou-lusong-kjgxj-2020-final', imported from another file (000_a04efb588eb58bab.txt") in \
        " ".join(refused.output.split())
    assert "import with --report-id zhuzhou-lusong-kjgxj-2020-final; nothing was written" in " ".join(refused.output.split())
    assert _files(package) == before
    asked = runner.invoke(cli, ["import", str(garbled), "--package", str(package),
                                "--report-id", "zhuzhou-lusong-kjgxj-2020-final"])
    flat = " ".join(asked.output.split())
    assert asked.exit_code == 0, asked.output
    assert "replaces report zhuzhou-lusong-kjgxj-2020-final imported from 000_a04efb588eb58bab.txt" in flat
    assert "places look mis-decoded" in flat
    # The same file again replaces nothing of another's and needs no asking.
    assert runner.invoke(cli, ["import", str(SEED), "--package", str(package)]).exit_code == 2
    assert runner.invoke(cli, ["import", str(garbled), "--package", str(package)]).exit_code == 0


@needs_seed
def test_rows_that_break_the_schema_are_not_written(package, tmp_path, runner):
    # A report of 1900 (the schema's minimum year is 1990) was written, exit 0, with a line saying the
    # package now broke its schema; it could not be built any more.
    from opendata.cli import cli

    src = tmp_path / "y1900.txt"
    src.write_text(SEED.read_text(encoding="utf-8").replace("2020年度", "1900年度").replace("2020年", "1900年"),
                   encoding="utf-8")
    before = _files(package)
    r = runner.invoke(cli, ["import", str(src), "--package", str(package)])
    flat = " ".join(r.output.split())
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "the rows of report zhuzhou-lusong-kjgxj-1900-final break the package's schema; nothing was written" in flat
    assert ("data/reports.csv, row 1 of report zhuzhou-lusong-kjgxj-1900-final's, field year: "
            'value "1900": constraint "minimum" is "1990" (rule: constraint-error)') in flat
    assert _files(package) == before


@needs_seed
def test_a_validation_without_room_says_the_report_was_imported(package, monkeypatch, runner):
    # TMPDIR full: the validation's copy of the report failed with a traceback, after the files were
    # written, and the user could not tell that the import went through.
    import opendata.validate as validate_module
    from opendata.cli import cli

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device", "/tmp/opendata-validate-x/data/departments.csv")

    monkeypatch.setattr(validate_module, "validate_reports", no_room)
    src = package.parent / "v2.txt"
    src.write_text(SEED.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    r = runner.invoke(cli, ["import", str(src), "--package", str(package), "--report-id",
                            "zhuzhou-lusong-kjgxj-2020-final"])
    flat = " ".join(r.output.split())
    assert r.exit_code == 0 and "Traceback" not in r.output
    assert ("validation could not run (No space left on device: /tmp/opendata-validate-x/data/departments.csv); "
            "the report was imported: run `opendata validate` once there is room") in flat


@needs_seed
def test_what_the_import_cannot_read_is_named_with_what_to_do(package, tmp_path, runner):
    # A tester's Word file was "binary file, not a report", a report in Traditional Chinese had no
    # year (its 2020年度 was there), and --report-id "" took the default id without a word.
    import zipfile

    from opendata.cli import cli

    docx = tmp_path / "报告.docx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    traditional = tmp_path / "trad.txt"
    traditional.write_text(SEED.read_text(encoding="utf-8").translate(str.maketrans("门决预说财拨", "門決預說財撥")),
                           encoding="utf-8")
    before = _files(package)
    for args, words in [
        ([str(docx)], "报告.docx: a Word document, which opendata does not read: save it as PDF (or as UTF-8 text)"),
        ([str(traditional)], "the text is in Traditional Chinese (部門決算), which opendata does not read"),
        ([str(SEED), "--report-id", ""], "--report-id is empty"),
    ]:
        r = runner.invoke(cli, ["import", *args, "--package", str(package)])
        assert r.exit_code == 2 and words in " ".join(r.output.split()), r.output
    assert _files(package) == before


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_narrative_published_alone_is_read(package, tmp_path, runner):
    """Putuo's 情况说明 (pp.21-25) on its own was refused, "could not find the year": its title
    prints 2024 on a line of its own ("第三部分上海市普陀区财政局 年度部门决算情况" / "2024" / "说明")
    and the cover that names it is not there. It is the report already imported from the whole PDF."""
    from opendata.cli import cli

    narrative = _putuo_pages(range(20, 25), tmp_path / "putuo-narrative.pdf")
    r = runner.invoke(cli, ["import", str(narrative), "--package", str(package)])
    assert r.exit_code == 2 and "could not find" not in r.output
    assert ("the package already holds this report (shanghai-putuo-czj, 2024 决算) as "
            "'shanghai-putuo-czj-2024-final'") in " ".join(r.output.split())
    # Into a package without it: read as a narrative of 上海市普陀区财政局's 2024 决算.
    _drop_report(package, "shanghai-putuo-czj-2024-final")
    r = runner.invoke(cli, ["import", str(narrative), "--package", str(package)])
    assert r.exit_code == 0, r.output
    [report] = [x for x in _rows(package, "reports") if x["report_id"] == "shanghai-putuo-czj-2024-final"]
    assert (report["year"], report["title"]) == ("2024", "2024年度上海市普陀区财政局部门决算")
    stated = {(s["topic"], s["value"]) for s in _rows(package, "statements") if s["report_id"] == report["report_id"]}
    assert ("total", "2995.39") in stated  # 收入支出总计2995.39万元 (p.21)


def test_table_7_lines_stand_where_the_template_prints_them():
    """表7's lines had the numbers of the order the narrative named them in (芦淞's 公务接待费 3,
    普陀's 因公出国（境）费 7 after its table's 公务接待费 6): each is now its place in the template,
    as a printed 表7 numbers it (普陀 p.18: 公务接待费 is 第6栏), the same in every report."""
    from opendata.template import THREE_PUBLIC_LINES

    lines = {(r["report_id"], r["line_key"], r["line_no"]) for r in _rows(ROOT / "datapackage", "amounts")
             if r["table_no"] == "7"}
    assert lines and all(int(no) == THREE_PUBLIC_LINES.index(key) + 1 for _, key, no in lines)
    assert {(rid.split("-")[0], key) for rid, key, _ in lines} >= {("zhuzhou", "公务接待费"), ("shanghai", "公务接待费"),
                                                                  ("shanghai", "因公出国（境）费")}


def test_where_a_code_comes_from_is_said_in_chinese():
    # Citizens read classification.source (出处) on the site: it said "budget-domain.md section 3:
    # code of the seed's item (confidence H)", "parent of 2060101: code prefix of a mapped 项 ...".
    rows = _rows(ROOT / "datapackage", "classification")
    assert rows and not [r["source"] for r in rows if re.search(r"\b(?:code|name|parent|confidence|printed)\b", r["source"])]
    by_id = {r["classification_id"]: r["source"] for r in rows}
    assert by_id["2060101@2020"] == "按科目名称定码：领域说明所列本报告科目的编码（budget-domain.md 第3节，可信度 H）"
    assert by_id["20601@2020"].startswith("2060101 的上级科目：取已定码的项的编码前缀")
