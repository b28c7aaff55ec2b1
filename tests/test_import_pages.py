"""A PDF with one page that cannot be read as it stands: turned upside down, or an image only (a
scan). The page is named in a warning and nothing is read from it: the text of the tables' pages
is never read as the narrative's sentences (their 第二部分 heading lost with the page), a table on
it is ``not_read`` (the report attached it), and the narrative's figures on it are said lost."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from test_import_refusals import PUTUO, _into_new_package

pytestmark = pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")

#: The three 决算单位 of the Putuo report (第一部分, its 决算单位构成 table).
PUTUO_UNITS = ["上海市普陀区财政局（本级）", "上海市普陀区财政局财政所", "上海市普陀区国库收付中心"]


def _variant(tmp_path: Path, page: int, how: str) -> Path:
    """The Putuo PDF with page ``page`` (from 1) turned 180° (``how`` "turned") or replaced by an
    image of it (``how`` "scanned": a page with no text, as a scanner makes it)."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(PUTUO))
    if how == "turned":
        pdf[page - 1].set_rotation(180)
    else:
        image = tmp_path / "page.pdf"
        pdf[page - 1].render(scale=1).to_pil().convert("RGB").save(image, "PDF", resolution=72)
        scan = pypdfium2.PdfDocument(str(image))
        pdf.del_page(page - 1)
        pdf.import_pages(scan, [0], index=page - 1)
        scan.close()
    out = tmp_path / f"putuo-{how}-p{page}.pdf"
    pdf.save(str(out))
    pdf.close()
    return out


def _rows(package: Path, name: str) -> list[dict[str, str]]:
    with open(package / "data" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_pages_that_cannot_be_read_are_found_and_others_are_not(tmp_path):
    import pdfplumber

    from opendata.ingest.pdf_file import IMAGE_ONLY, TURNED, page_problem

    with pdfplumber.open(str(PUTUO)) as pdf:  # p.14 is blank (no text, no image): not a problem
        assert [page_problem(page) for page in pdf.pages] == [None] * len(pdf.pages)
    with pdfplumber.open(str(_variant(tmp_path, 22, "turned"))) as pdf:
        assert page_problem(pdf.pages[21]) == (TURNED, "turned upside down (its text reads backwards, right to left)")
    with pdfplumber.open(str(_variant(tmp_path, 22, "scanned"))) as pdf:
        assert page_problem(pdf.pages[21]) == (IMAGE_ONLY, "without text, only an image (a scan?)")


@pytest.mark.parametrize("how", ["turned", "scanned"])
def test_a_table_page_that_cannot_be_read_is_not_read_as_narrative(tmp_path, how):
    # 表1's page (p.6, under the 第二部分 heading) turned or scanned: the tables' pages after it were
    # read as 第一部分: 109 statements (第一部分 二 年末结转和结余 6 支, 三公经费 302 个) and 13 决算单位
    # (税金及附加费用, "出" 11.53 ... from 表6), and 表1 not named as on p.6.
    package, summary = _into_new_package(tmp_path, _variant(tmp_path, 6, how))
    statements = _rows(package, "statements")
    assert len(statements) == 106 and summary.figures == 106 and summary.figures_understood == 106
    assert not [s for s in statements if s["section"].startswith("第一部分")]
    assert statements[0]["label"] == "收入支出总计" and statements[0]["value"] == "2995.39"
    assert [u["name"] for u in _rows(package, "report_units")] == PUTUO_UNITS
    table1 = _rows(package, "report_tables")[0]
    assert (table1["table_no"], table1["status"], table1["source_page"]) == ("1", "not_read", "6")
    said = " ".join(summary.warnings)
    assert not any("numbers have no unit" in w for w in summary.warnings), summary.warnings
    if how == "turned":
        assert "putuo-turned-p6.pdf p.6: page turned upside down (its text reads backwards, right to left); its " \
               "sentences were not read, nor a table whose title could not be read" in said
        assert table1["source_ref"] == "第二部分 部门决算表（原文第 6, 7 页的表格未能识别，未读取）"
    else:
        assert "putuo-scanned-p6.pdf p.6: page without text, only an image (a scan?); nothing on it was read" in said
        assert table1["source_ref"] == "第二部分 部门决算表（原文第 7 页的表格未能识别，原文第 6 页无文字（仅有图像），未读取）"
    # The other tables, read from their pages: 表2's first figure, 本年收入合计 2946.25 (p.8).
    amounts = _rows(package, "amounts")
    assert not [a for a in amounts if a["table_no"] == "1" and a["source_kind"] == "table"]
    assert [a["amount"] for a in amounts if a["table_no"] == "2" and a["line_no"] == "1"
            and a["measure"] == "本年收入合计"] == ["2946.25"]


@pytest.mark.parametrize("how, why", [
    ("turned", "page turned upside down (its text reads backwards, right to left); its sentences were not read, "
               "nor a table whose title could not be read: their figures are not in the data"),
    ("scanned", "page without text, only an image (a scan?); nothing on it was read: its tables' and narrative's "
                "figures are not in the data"),
])
def test_a_narrative_page_that_cannot_be_read_is_named(tmp_path, how, why):
    # p.22 (第三部分 五（三）1-11) turned or scanned: 22 figures lost, eleven 表5 年初预算数 among
    # them, without a word.
    package, summary = _into_new_package(tmp_path, _variant(tmp_path, 22, how))
    assert f"putuo-{how}-p22.pdf p.22: {why}" in " ".join(summary.warnings), summary.warnings
    statements = _rows(package, "statements")
    assert len(statements) == 84 and not [s for s in statements if s["source_page"] == "22"]
    assert {"21", "23", "24"} <= {s["source_page"] for s in statements}  # the pages around it are read
    # 行政运行 (2010601) 年初预算数 1560.05 is printed on p.22 only (表5 has no 年初预算数 column).
    assert not [s for s in statements if s["value"] == "1560.05"]


def test_an_image_only_table_page_is_not_read_not_not_attached(tmp_path):
    # 表5's page (p.15) scanned: recorded not_attached （来源文件未附此表）, warned "no attached
    # table found for 表5": the report attached it.
    package, summary = _into_new_package(tmp_path, _variant(tmp_path, 15, "scanned"))
    table5 = _rows(package, "report_tables")[4]
    assert (table5["table_no"], table5["status"], table5["source_page"]) == ("5", "not_read", "15")
    assert table5["source_ref"] == "第二部分 部门决算表（原文第 15 页无文字（仅有图像），未读取）"
    assert summary.tables_found[5] == "not_read"
    assert not any("no attached table found" in w for w in summary.warnings), summary.warnings
    assert ("putuo-scanned-p15.pdf: 表5 not found; p.15 holds no text, only an image, where it may be printed: "
            "not read") in summary.warnings
    # Its figures the narrative states are kept from the narrative: 合计 2940.05 (第三部分 五（一）).
    total = [a for a in _rows(package, "amounts") if a["table_no"] == "5" and a["line_key"] == "合计"
             and a["measure"] == "合计"]
    assert [(a["amount"], a["source_kind"], a["source_ref"]) for a in total] == [("2940.05", "narrative", "第三部分 五（一）")]


def test_a_table_printed_among_the_narratives_pages_does_not_hide_them(tmp_path):
    # A table of figures after the tables' pages (here 表3 printed again inside 第三部分, after p.22) made
    # its page one of the tables': every sentence after it, to the next 第N部分 heading, was dropped.
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(PUTUO))
    pdf.import_pages(pypdfium2.PdfDocument(str(PUTUO)), [9], index=22)  # p.10 (表3) as the new p.23
    out = tmp_path / "putuo-table-in-narrative.pdf"
    pdf.save(str(out))
    pdf.close()
    package, summary = _into_new_package(tmp_path, out)
    assert any("p.23: a second table titled" in w for w in summary.warnings), summary.warnings
    statements = _rows(package, "statements")
    assert len(statements) == 106  # as the report without the extra page: none dropped
    assert {s["topic"] for s in statements if s["section"] == "第三部分 七（一）"} >= {"three_public.total"}
