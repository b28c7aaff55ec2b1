"""What an import refuses, saying why, with the package left byte for byte as it was: a package
without a resource a report's rows go to, a package file emptied, an id a command line reads as an
option, a file that names a report but holds none of its figures; and a new package to import
into (``opendata init``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendata.cli import cli
from test_import import _files

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_a04efb588eb58bab.txt"
PUTUO = SHARED / "reports" / "shanghai-putuo-finance-bureau-2024-final-accounts.pdf"
pytestmark = pytest.mark.skipif(not SEED.exists(), reason="seed report not available")


@pytest.fixture
def package(package_copy: Path) -> Path:
    return package_copy



def _refused(package: Path, *args: str) -> str:
    """The output of an import refused (exit 2, no traceback), the package unchanged."""
    before = _files(package)
    result = CliRunner().invoke(cli, ["import", *args, "--package", str(package)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert _files(package) == before
    return " ".join(result.output.split())


@pytest.mark.parametrize("resource", ["projects", "statements", "report_tables"])
def test_a_package_without_a_resource_the_rows_go_to(package, resource):
    # A traceback (FrictionlessException: resource "projects" does not exist), where validate names it.
    descriptor = package / "datapackage.json"
    desc = json.loads(descriptor.read_text(encoding="utf-8"))
    desc["resources"] = [r for r in desc["resources"] if r["name"] != resource]
    descriptor.write_text(json.dumps(desc, ensure_ascii=False, indent=2), encoding="utf-8")
    out = _refused(package, str(SEED))  # the seed again: its rows replaced
    assert f"the package has no resource '{resource}'" in out and "rule: opendata-model" in out


@pytest.mark.parametrize("name", ["reports", "amounts"])
def test_a_package_file_emptied_is_not_filled_with_one_report(package, name):
    # The import wrote its header and its report's rows: every Putuo figure gone, without a word.
    (package / "data" / f"{name}.csv").write_bytes(b"")
    out = _refused(package, str(SEED))  # the seed again: its rows replaced
    assert f"data/{name}.csv: the file is empty" in out and "rule: empty-file" in out


def test_a_package_file_deleted_is_not_made_again_with_one_report(package, tmp_path):
    # amounts.csv deleted: the import made it again with the seed's 71 rows, Putuo's 212 gone.
    (package / "data" / "amounts.csv").unlink()
    out = _refused(package, str(SEED))
    assert "data/amounts.csv missing, while the package holds other reports" in out
    # reports.csv deleted too (the count of other reports came from it): amounts.csv still tells.
    (package / "data" / "reports.csv").unlink()
    assert "missing, while the package holds other reports" in _refused(package, str(SEED))
    # A package of no other report: the file is made (a resource the package lacked a file for).
    new = tmp_path / "new"
    assert CliRunner().invoke(cli, ["init", str(new)]).exit_code == 0
    (new / "data" / "projects.csv").unlink()
    result = CliRunner().invoke(cli, ["import", str(SEED), "--package", str(new)])
    assert result.exit_code == 0, (result.exit_code, result.exception, result.output[-300:])
    assert len((new / "data" / "projects.csv").read_text(encoding="utf-8").splitlines()) == 1 + 7


@pytest.mark.parametrize("report_id", ["-rf", "--", "-"])
def test_an_id_a_command_line_reads_as_an_option(package, report_id):
    # Taken, then `opendata remove -rf` said "No such option: -r".
    out = _refused(package, str(SEED), f"--report-id={report_id}")
    assert "beginning with a letter or digit" in out


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo PDF not available")
def test_a_cover_and_contents_are_not_a_report(package, tmp_path):
    # Imported (exit 0) as a report of nine tables not attached and no figure.
    import pypdfium2 as pdfium

    whole = pdfium.PdfDocument(str(PUTUO))
    part = pdfium.PdfDocument.new()
    part.import_pages(whole, [0, 1, 2])
    cover = tmp_path / "putuo-cover.pdf"
    part.save(str(cover))
    part.close()
    whole.close()
    out = _refused(package, str(cover), "--report-id", "putuo-cover")
    assert "no figure found" in out and "上海市普陀区财政局" in out and "Nothing was written" in out


# ----------------------------------------------------------------------------------- a new package

def test_a_new_package_holds_the_template_and_takes_a_report(tmp_path):
    # import --package newdir said "no such data package": a publisher copied the shipped one and
    # deleted its reports, keeping its departments and 120 classification rows.
    new = tmp_path / "ours"
    result = CliRunner().invoke(cli, ["init", str(new)])
    assert result.exit_code == 0, result.output
    shipped = ROOT / "datapackage"
    assert (new / "data" / "standard_tables.csv").read_bytes() == (shipped / "data" / "standard_tables.csv").read_bytes()
    header_only = ["amounts", "reports", "departments", "classification", "statements"]
    for name in header_only:
        lines = (new / "data" / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert lines == (shipped / "data" / f"{name}.csv").read_text(encoding="utf-8").splitlines()[:1]
    descriptor = json.loads((new / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["sources"] == [] and descriptor["resources"] == json.loads(
        (shipped / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    assert CliRunner().invoke(cli, ["validate", str(new)]).exit_code == 0
    assert CliRunner().invoke(cli, ["import", str(SEED), "--package", str(new)]).exit_code == 0
    # The seed's rows, as the shipped package holds them.
    seed_lines = {line for line in (shipped / "data" / "amounts.csv").read_text(encoding="utf-8").splitlines()
                  if line.startswith("zhuzhou-lusong-kjgxj-2020-final,")}
    ours = (new / "data" / "amounts.csv").read_text(encoding="utf-8").splitlines()
    assert set(ours[1:]) == seed_lines and len(ours) == 1 + len(seed_lines)
    again = CliRunner().invoke(cli, ["init", str(new)])
    assert again.exit_code == 2 and "exists and is not an empty folder" in again.output


def _turned(tmp_path: Path, degrees: int, pages: range | None = None) -> Path:
    """The Putuo PDF with its pages (all, or ``pages``, numbered from 1) turned by ``degrees``."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(PUTUO))
    for number in pages or range(1, len(pdf) + 1):
        pdf[number - 1].set_rotation(degrees)
    out = tmp_path / f"turned-{degrees}.pdf"
    pdf.save(str(out))
    pdf.close()
    return out


def _into_new_package(tmp_path: Path, source: Path, name: str = "new"):
    """(package, summary): ``source`` imported into a package made by ``opendata init``."""
    from opendata.ingest.importer import import_report
    from opendata.package import init_package

    package = tmp_path / name
    init_package(package)
    return package, import_report(source, package)


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
@pytest.mark.parametrize("degrees, said", [
    # A quarter: imported as department 度, garbled sentences, exit 0.
    (90, "turned-90.pdf: the department's name reads '度': the text is not readable as it stands"),
    # Upside down: "not a 部门决算/预算 report", its text read 算决门部度年 (a real report, turned).
    (180, "its text reads backwards (算决门部): the PDF's pages are turned; turn them upright"),
])
def test_a_pdf_whose_pages_are_turned_is_refused_saying_so(package, tmp_path, degrees, said):
    assert said in _refused(package, str(_turned(tmp_path, degrees)))


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
def test_a_report_whose_narrative_pages_are_upside_down_says_no_narrative_figure_was_read(tmp_path):
    _, summary = _into_new_package(tmp_path, _turned(tmp_path, 180, range(21, 26)))
    assert summary.figures == 0 and summary.rows_written["amounts"] > 150  # the tables, on upright pages
    assert ("turned-180.pdf: no figure was read from the narrative (情况说明): its pages may be turned or scanned, "
            "or missing; the report's statements are empty and no narrative figure is checked") in summary.warnings


def test_a_web_page_saved_as_it_is_is_refused(package, tmp_path):
    page = tmp_path / "report.html"
    page.write_text("<!DOCTYPE html>\n<html><body><p>" + SEED.read_text(encoding="utf-8").replace("\n", "</p><p>")
                    + "</p></body></html>", encoding="utf-8")
    said = _refused(package, str(page))
    assert "report.html: a web page (HTML), which opendata does not read: save the page's text" in said


def test_init_says_how_to_import_into_a_folder_with_spaces(tmp_path):
    # The hint printed the path as it is: pasted, the shell read three arguments.
    target = tmp_path / "空 格" / "我的 包"
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert f"add reports with `opendata import REPORT --package '{target}'`" in result.output


def test_a_template_with_a_short_placeholder_name_is_called_a_blank_template(package, tmp_path):
    # XX局 (two Han characters... one): the check for unreadable names said "pages rotated or turned".
    text = (SEED.read_text(encoding="utf-8").replace("株洲市芦淞区科技和工业\n信息化局", "XX局")
            .replace("株洲市芦淞区科技和工业信息化局", "XX局"))
    report = tmp_path / "template.txt"
    report.write_text(text, encoding="utf-8")
    said = _refused(package, str(report))
    assert "template.txt: a blank template, not a report: the department is the placeholder 'XX局'" in said


def test_a_text_opening_with_many_comments_is_read_as_text(tmp_path):
    # The check for a web page's start backtracked over comments: 2.4 s for 22 of them, x4 per two more.
    from opendata.package import init_package

    package = tmp_path / "new"
    init_package(package)
    report = tmp_path / "notes.txt"
    report.write_text("<!-- a -->" * 26 + "\n" + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(report), "--package", str(package)])
    assert result.exit_code == 0 and "web page" not in result.output, result.output


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
def test_turned_pages_of_tables_and_narrative_are_said_so(tmp_path):
    # Narrative pages turned a quarter gave 9 figures of nonsense, no warning; table pages turned
    # were recorded as 原文未附此表 (not attached), which is false.
    package, summary = _into_new_package(tmp_path, _turned(tmp_path, 90, range(6, 19)))
    assert {no: status for no, status in summary.tables_found.items() if no <= 7} == {n: "not_read" for n in range(1, 8)}
    with open(package / "data" / "report_tables.csv", encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert first["source_ref"].startswith("第二部分 部门决算表（原文第 6, 7, 8,") and "页的表格未能识别，未读取" in first["source_ref"]
    # The narrative's pages turned a quarter: their text (one character a line) is not read, no
    # figure is made of it, and the pages are named (it was read, 9 figures of nonsense).
    _, summary = _into_new_package(tmp_path, _turned(tmp_path, 90, range(21, 26)), "new2")
    assert summary.figures == 0
    assert ("turned-90.pdf p.21-25: pages turned a quarter (its text runs down the page, one character a line); "
            "their sentences were not read") in " ".join(summary.warnings), summary.warnings


@pytest.mark.parametrize("name, text", [
    # A page's body saved as text, and a browser's web archive: "not a report" (it is one, as HTML).
    ("body.txt", "<div>" + "".join(f"<p><span>{line}</span></p>\n" for line in SEED.read_text(encoding="utf-8").splitlines()) + "</div>"),
    ("page.mht", "From: <Saved by Blink>\nMIME-Version: 1.0\nContent-Type: multipart/related;\n\n" + SEED.read_text(encoding="utf-8")),
])
def test_a_web_pages_body_or_archive_is_refused_as_a_web_page(package, tmp_path, name, text):
    page = tmp_path / name
    page.write_text(text, encoding="utf-8")
    assert f"{name}: a web page (HTML), which opendata does not read" in _refused(package, str(page))


def test_a_narrative_without_any_amount_says_so(tmp_path):
    # Every 万元 figure gone (若干万元): imported with counts only, 0 errors, 0 warnings.
    import re

    report = tmp_path / "nofig.txt"
    report.write_text(re.sub(r"[0-9.,]+\s*(万元|%)", r"若干\1", SEED.read_text(encoding="utf-8")), encoding="utf-8")
    _, summary = _into_new_package(tmp_path, report)
    assert summary.rows_written["amounts"] == 0
    assert ("nofig.txt: no amount (万元) was read from the narrative, and the source has no tables: the report's "
            "figures are counts only; is the text complete?") in summary.warnings


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
def test_a_report_whose_cover_only_is_turned_is_named_from_its_contents(tmp_path):
    # The cover turned a quarter reads "2024年度部门决算上海市普陀区财政局": the department was 度 and
    # the report refused as unreadable, though every other page names it (第二部分上海市普陀区财政局…).
    package, summary = _into_new_package(tmp_path, _turned(tmp_path, 90, range(1, 2)))
    assert (summary.report_id, summary.department, summary.year) == ("shanghai-putuo-czj-2024-final", "上海市普陀区财政局", 2024)
    with open(package / "data" / "reports.csv", encoding="utf-8", newline="") as fh:
        assert next(csv.DictReader(fh))["title"] == "2024年度上海市普陀区财政局部门决算"
    assert summary.rows_written["amounts"] == 212
