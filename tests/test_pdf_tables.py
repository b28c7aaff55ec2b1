"""opendata.ingest.pdf_tables against the real Putuo 2024 决算 PDF and the blank national template.

Expected figures were read off the rendered pages (pdftoppm) of the PDF, not from the code's output.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from pdf_samples import text_pdf, tiny_pdf

from opendata import template as T
from opendata.errors import ImportError_
from opendata.ingest.importer import read_source
from opendata.ingest.pdf_tables import PdfTables, _amount, _line_key, read_pdf_tables, table_no_from_title

#: The shared sources sit beside the repository (../shared), in CI as here.
SHARED = Path(__file__).resolve().parents[2] / "shared"
REPORTS = SHARED / "reports"
PUTUO = REPORTS / "shanghai-putuo-finance-bureau-2024-final-accounts.pdf"
BLANK = REPORTS / "national-template-final-accounts-blank.pdf"
DESCRIPTOR = Path(__file__).resolve().parents[1] / "datapackage" / "datapackage.json"

needs_putuo = pytest.mark.skipif(not PUTUO.exists(), reason="real report not available")
needs_blank = pytest.mark.skipif(not BLANK.exists(), reason="blank template not available")


@pytest.fixture(scope="module")
def putuo() -> PdfTables:
    return read_pdf_tables(PUTUO, report_id="putuo-finance-2024-final", edition=2024)


def amount(res: PdfTables, table: int, side: str, key: str, measure: str) -> float | None:
    rows = [a for a in res.amounts
            if (a["table_no"], a["side"], a["line_key"], a["measure"]) == (table, side, key, measure)]
    assert len(rows) <= 1, rows
    return rows[0]["amount"] if rows else None


def lines(res: PdfTables, table: int, side: str) -> set[str]:
    return {a["line_key"] for a in res.amounts if a["table_no"] == table and a["side"] == side}


# --------------------------------------------------------------------------- table 1

@needs_putuo
def test_table1_income_and_totals_both_sides(putuo: PdfTables) -> None:
    I, E = T.INCOME, T.EXPENDITURE
    assert amount(putuo, 1, I, "本年收入合计", "决算数") == 2946.25
    assert amount(putuo, 1, I, "一般公共预算财政拨款收入", "决算数") == 2940.05
    assert amount(putuo, 1, I, "其他收入", "决算数") == 6.20
    assert amount(putuo, 1, I, "总计", "决算数") == 2995.39
    assert amount(putuo, 1, E, "总计", "决算数") == 2995.39
    assert amount(putuo, 1, E, "本年支出合计", "决算数") == 2940.05
    # table 1 prints 326.71 here while tables 2, 3 and 5 print 326.72: read as printed, not "fixed"
    assert amount(putuo, 1, E, "社会保障和就业支出", "决算数") == 326.71
    assert amount(putuo, 1, E, "住房保障支出", "决算数") == 445.69


@needs_putuo
def test_table1_continues_on_page_7(putuo: PdfTables) -> None:
    rows = {(a["side"], a["line_key"]): a for a in putuo.amounts if a["table_no"] == 1}
    opening = rows[(T.INCOME, T.OPENING_BALANCE)]
    closing = rows[(T.EXPENDITURE, T.CLOSING_BALANCE)]
    assert opening["amount"] == 49.14 and opening["source_page"] == 7
    assert closing["amount"] == 55.34 and closing["source_page"] == 7
    assert rows[(T.INCOME, "总计")]["source_page"] == 7
    # printed order: the page 7 lines come after page 6's, in each side
    assert opening["line_no"] > rows[(T.INCOME, "本年收入合计")]["line_no"]
    assert rows[(T.EXPENDITURE, "总计")]["line_no"] > closing["line_no"] > rows[(T.EXPENDITURE, "本年支出合计")]["line_no"]
    assert opening["source_ref"] == f"表1 第{opening['line_no']}行 (p.7)"


@needs_putuo
def test_table1_sides_kept_apart_and_blank_cells_give_no_row(putuo: PdfTables) -> None:
    assert "一般公共服务支出" in lines(putuo, 1, T.EXPENDITURE)
    assert "一般公共服务支出" not in lines(putuo, 1, T.INCOME)
    assert "本年收入合计" not in lines(putuo, 1, T.EXPENDITURE)
    # printed blank: no row, never an invented 0
    assert amount(putuo, 1, T.INCOME, "事业收入", "决算数") is None
    assert amount(putuo, 1, T.INCOME, T.NON_FISCAL_BALANCE_USED, "决算数") is None
    assert amount(putuo, 1, T.EXPENDITURE, "教育支出", "决算数") is None
    assert all(a["amount"] is not None for a in putuo.amounts)
    # the 总计 identity holds on the figures as read
    income = sum(amount(putuo, 1, T.INCOME, k, "决算数") or 0 for k in ("本年收入合计", T.NON_FISCAL_BALANCE_USED, T.OPENING_BALANCE))
    spent = sum(amount(putuo, 1, T.EXPENDITURE, k, "决算数") or 0 for k in ("本年支出合计", T.SURPLUS_DISTRIBUTION, T.CLOSING_BALANCE))
    assert round(income, 2) == round(spent, 2) == 2995.39


# --------------------------------------------------------------------------- tables 2, 3, 5

@needs_putuo
def test_table2_split_code_and_row(putuo: PdfTables) -> None:
    I = T.INCOME
    assert amount(putuo, 2, I, "2010601", "本年收入合计") == 1511.90
    assert amount(putuo, 2, I, "2010601", "财政拨款收入") == 1511.89
    assert amount(putuo, 2, I, "2010601", "其他收入") == 0.01
    assert amount(putuo, 2, I, "2010601", "上级补助收入") is None
    assert amount(putuo, 2, I, "合计", "本年收入合计") == 2946.25
    row = next(a for a in putuo.amounts if a["table_no"] == 2 and a["line_key"] == "2010601")
    assert row["code"] == "2010601" and row["item"] == "行政运行" and row["classification_id"] == "2010601@2024"
    assert row["code_certainty"] == "stated" and row["source_kind"] == "table" and row["source_page"] == 8
    # a name broken over two lines in its cell is joined
    assert next(a for a in putuo.amounts if a["table_no"] == 2 and a["line_key"] == "2080505")["item"] == "机关事业单位基本养老保险缴费支出"
    # continues on page 9
    assert amount(putuo, 2, I, "2210203", "本年收入合计") == 258.50


@needs_putuo
def test_table3_and_table5_figures(putuo: PdfTables) -> None:
    E = T.EXPENDITURE
    assert amount(putuo, 3, E, "合计", "本年支出合计") == 2940.05
    assert amount(putuo, 3, E, "合计", "基本支出") == 2336.91
    assert amount(putuo, 3, E, "2010601", "项目支出") == 8.37
    assert amount(putuo, 3, E, "2010602", "基本支出") is None
    assert amount(putuo, 5, E, "合计", "合计") == 2940.05
    assert amount(putuo, 5, E, "合计", "基本支出") == 2336.91
    assert amount(putuo, 5, E, "合计", "项目支出") == 603.14
    assert amount(putuo, 5, E, "2010601", "基本支出") == 1503.52
    assert amount(putuo, 5, E, "2010608", "项目支出") == 449.52
    assert amount(putuo, 5, E, "2210201", "合计") == 187.19
    assert amount(putuo, 5, E, "2010602", "基本支出") is None
    # table 5's 合计 is printed last
    t5 = [a for a in putuo.amounts if a["table_no"] == 5]
    assert max(a["line_no"] for a in t5 if a["line_key"] == "合计") == max(a["line_no"] for a in t5)


@needs_putuo
@pytest.mark.parametrize("table", [2, 3, 5])
def test_hierarchy_within_extracted_rows(putuo: PdfTables, table: int) -> None:
    """Each 类 = Σ its 款, each 款 = Σ its 项, 合计 = Σ 类, within 0.005 x n; blank = no row."""
    figures: dict[str, dict[str, float]] = defaultdict(dict)
    for a in putuo.amounts:
        if a["table_no"] == table:
            figures[a["measure"]][a["line_key"]] = a["amount"]
    assert figures
    checked = 0
    for measure, by_key in figures.items():
        codes = [k for k in by_key if k.isdigit()]
        all_codes = {a["line_key"] for a in putuo.amounts if a["table_no"] == table and a["line_key"].isdigit()}
        for parent in {k for k in all_codes if len(k) in (3, 5)}:
            children = [k for k in all_codes if len(k) == len(parent) + 2 and k.startswith(parent)]
            if not children:
                continue
            total = sum(by_key.get(k, 0.0) for k in children)
            assert abs(by_key.get(parent, 0.0) - total) <= 0.005 * len(children) + 1e-9, (table, measure, parent)
            checked += 1
        if "合计" in by_key:
            classes = [k for k in codes if len(k) == 3]
            assert abs(by_key["合计"] - sum(by_key[k] for k in classes)) <= 0.005 * len(classes) + 1e-9
            checked += 1
    assert checked >= 5


# --------------------------------------------------------------------------- table 4

@needs_putuo
def test_table4_two_sides_and_balances(putuo: PdfTables) -> None:
    I, E = T.INCOME, T.EXPENDITURE
    assert amount(putuo, 4, I, "一般公共预算财政拨款", "决算数") == 2940.05
    assert amount(putuo, 4, I, T.OPENING_BALANCE, "决算数") == 21.63
    assert amount(putuo, 4, I, "年初结转和结余/一般公共预算财政拨款", "决算数") == 21.63
    assert amount(putuo, 4, I, "总计", "决算数") == 2961.68
    assert amount(putuo, 4, E, "一般公共服务支出", "合计") == 2106.66
    assert amount(putuo, 4, E, "一般公共服务支出", "一般公共预算财政拨款") == 2106.66
    assert amount(putuo, 4, E, "一般公共服务支出", "政府性基金预算财政拨款") is None
    assert amount(putuo, 4, E, "本年支出合计", "一般公共预算财政拨款") == 2940.05
    assert amount(putuo, 4, E, T.CLOSING_BALANCE, "合计") == 21.63
    assert amount(putuo, 4, E, "总计", "合计") == 2961.68
    item = next(a["item"] for a in putuo.amounts if a["table_no"] == 4 and a["line_key"] == T.OPENING_BALANCE)
    assert item == "年初财政拨款结转和结余"  # printed wording kept in item


# --------------------------------------------------------------------------- table 6

@needs_putuo
def test_table6_two_column_pairs(putuo: PdfTables) -> None:
    E = T.EXPENDITURE
    expected = {
        "301": 2082.85, "30101": 262.33, "30102": 1238.58, "30108": 160.75, "30113": 187.19, "30199": 91.03,
        "303": 69.41, "30302": 69.10, "30309": 0.31,
        "302": 171.07, "30201": 21.21, "30207": 4.88, "30228": 24.42, "30229": 42.77, "30239": 48.49, "30299": 11.53,
        "310": 13.58, "31002": 13.58,
        T.PERSONNEL_TOTAL: 2152.26, T.PUBLIC_TOTAL: 184.65,
    }
    for key, value in expected.items():
        assert amount(putuo, 6, E, key, "决算数") == value, key
    assert amount(putuo, 6, E, "30103", "决算数") is None  # 奖金: printed blank
    t6 = {a["line_key"]: a for a in putuo.amounts if a["table_no"] == 6}
    # left pair (人员经费) numbered before the right pair (公用经费)
    assert t6["301"]["line_no"] < t6[T.PERSONNEL_TOTAL]["line_no"] < t6["302"]["line_no"] < t6[T.PUBLIC_TOTAL]["line_no"]
    assert t6["30239"]["source_page"] == 17
    # 人员经费合计 = 301 + 303; 公用经费合计 = 302 + 310; 表5 基本支出 = both
    assert round(t6["301"]["amount"] + t6["303"]["amount"], 2) == t6[T.PERSONNEL_TOTAL]["amount"]
    assert round(t6["302"]["amount"] + t6["310"]["amount"], 2) == t6[T.PUBLIC_TOTAL]["amount"]
    assert round(t6[T.PERSONNEL_TOTAL]["amount"] + t6[T.PUBLIC_TOTAL]["amount"], 2) == amount(putuo, 5, E, "合计", "基本支出")


# --------------------------------------------------------------------------- table 7, 8, 9

@needs_putuo
def test_table7_columns_by_budget_and_final(putuo: PdfTables) -> None:
    t7 = [a for a in putuo.amounts if a["table_no"] == 7]
    got = {(a["line_key"], a["measure"]): a["amount"] for a in t7}
    assert got == {("合计", "预算数"): 0.95, ("公务接待费", "预算数"): 0.95}
    assert all(a["line_key"] in T.THREE_PUBLIC_LINES and a["source_page"] == 18 for a in t7)
    assert {a["line_no"] for a in t7} == {1, 6}


@needs_putuo
def test_tables_8_and_9_printed_but_empty(putuo: PdfTables) -> None:
    assert not [a for a in putuo.amounts if a["table_no"] in (8, 9)]
    by_no = {t["table_no"]: t for t in putuo.report_tables}
    for no, page in ((8, 19), (9, 20)):
        # printed, no figure read (the import makes them empty by their note: test_import)
        assert by_no[no]["status"] == "not_read" and by_no[no]["source_page"] == page
        assert "本表无数据" in by_no[no]["statement"]
    assert by_no[9]["title_as_printed"] == "国有资本经营预算财政拨款收入支出决算表"


# --------------------------------------------------------------------------- whole-report checks

@needs_putuo
def test_report_tables_found_by_title(putuo: PdfTables) -> None:
    pages = {t["table_no"]: t["source_page"] for t in putuo.report_tables}
    assert pages == {1: 6, 2: 8, 3: 10, 4: 12, 5: 15, 6: 16, 7: 18, 8: 19, 9: 20}
    titles = {t["table_no"]: t["title_as_printed"] for t in putuo.report_tables}
    assert titles[7] == "财政拨款“三公”经费支出决算表"
    assert titles[1] == "收入支出决算总表" and titles[6] == "一般公共预算财政拨款基本支出决算表"
    assert all(t["report_id"] == "putuo-finance-2024-final" for t in putuo.report_tables)
    assert putuo.units == {n: "万元" for n in range(1, 10)}
    assert len(putuo.pages) == 25 and "情况说明" in putuo.pages[20]


@needs_putuo
def test_rows_fit_the_package_schema(putuo: PdfTables) -> None:
    descriptor = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
    schemas = {r["name"]: r["schema"] for r in descriptor["resources"]}
    for name, rows in (("amounts", putuo.amounts), ("report_tables", putuo.report_tables),
                       ("classification", putuo.classification)):
        fields = schemas[name]["fields"]
        names = [f["name"] for f in fields]
        for row in rows:
            assert set(row) == set(names), (name, set(row) ^ set(names))
            for f in fields:
                c = f.get("constraints", {})
                v = row[f["name"]]
                if c.get("required"):
                    assert v not in (None, ""), (name, f["name"], row)
                if v is None:
                    continue
                if "enum" in c:
                    assert v in c["enum"], (name, f["name"], v)
                if "pattern" in c:
                    assert re.fullmatch(c["pattern"], str(v)), (name, f["name"], v)
        key = schemas[name]["primaryKey"]
        keys = [tuple(r[k] for k in key) for r in rows]
        assert len(keys) == len(set(keys)), f"{name}: duplicate primary key"
    for a in putuo.amounts:
        assert a["measure"] in T.MEASURES[a["table_no"]][a["side"]]
        assert re.fullmatch(rf"表{a['table_no']} 第{a['line_no']}(行|栏).* \(p\.{a['source_page']}\)", a["source_ref"])
    ids = {c["classification_id"] for c in putuo.classification}
    assert {a["classification_id"] for a in putuo.amounts if a["classification_id"]} <= ids


@needs_putuo
def test_classification_rows(putuo: PdfTables) -> None:
    cl = {c["classification_id"]: c for c in putuo.classification}
    assert cl["2010601@2024"]["name"] == "行政运行"
    assert cl["2010601@2024"]["level"] == "项" and cl["2010601@2024"]["parent_id"] == "20106@2024"
    assert cl["20106@2024"]["parent_id"] == "201@2024" and cl["201@2024"]["parent_id"] is None
    assert cl["201@2024"]["scheme"] == "支出功能分类" and cl["201@2024"]["level"] == "类"
    assert cl["30217@2024"]["scheme"] == "支出经济分类" and cl["30217@2024"]["name"] == "公务接待费"
    assert cl["30103@2024"]["name"] == "奖金"  # printed with a blank figure: the code is still printed
    assert all(c["certainty"] == "stated" and c["edition"] == "2024" for c in cl.values())
    assert cl["2010601@2024"]["source"] == f"{PUTUO.name} 表2 p.8"
    # every parent_id points at a row
    assert all(c["parent_id"] in cl for c in cl.values() if c["parent_id"])
    # 19 functional codes in tables 2/3/5, 64 economic codes in table 6
    assert sum(c["scheme"] == "支出功能分类" for c in cl.values()) == 19
    assert sum(c["scheme"] == "支出经济分类" for c in cl.values()) == 64


@needs_putuo
def test_row_counts_per_table(putuo: PdfTables) -> None:
    counts = defaultdict(int)
    for a in putuo.amounts:
        counts[a["table_no"]] += 1
    assert dict(counts) == {1: 12, 2: 45, 3: 44, 4: 19, 5: 44, 6: 29, 7: 2}
    # every figure printed on a table's pages is read once: count them in the plain page text
    spans = {1: (6, 7), 2: (8, 9), 3: (10, 11), 4: (12, 14), 5: (15, 15), 6: (16, 17), 7: (18, 18), 8: (19, 19), 9: (20, 20)}
    for no, (first, last) in spans.items():
        printed = sum(len(re.findall(r"\d[\d,]*\.\d\d", putuo.pages[i - 1])) for i in range(first, last + 1))
        assert counts[no] == printed, no


# --------------------------------------------------------------------------- blank template, bad input

@needs_blank
def test_blank_template_gives_no_figures() -> None:
    res = read_pdf_tables(BLANK, report_id="template", edition=2024)
    assert res.amounts == []
    assert sorted(t["table_no"] for t in res.report_tables) == list(range(1, 10))
    assert all(t["status"] == "not_read" for t in res.report_tables)  # printed, without a figure
    assert len(res.pages) == 23
    # codes printed whole (30101, 2050205) are read as codes
    cl = {c["code"]: c for c in res.classification}
    assert cl["2050205"]["parent_id"] == "20502@2024" and cl["30101"]["parent_id"] == "301@2024"




def test_pdf_without_tables_reads_with_warning(tmp_path: Path) -> None:
    p = tmp_path / "plain.pdf"
    p.write_bytes(tiny_pdf())
    res = read_pdf_tables(p, report_id="x", edition=2024)
    assert res.amounts == [] and res.report_tables == [] and len(res.pages) == 1
    assert any("no attached table" in w for w in res.warnings)


def test_non_pdf_raises(tmp_path: Path) -> None:
    p = tmp_path / "report.pdf"
    p.write_text("部门决算\n本年收入合计 2946.25\n", encoding="utf-8")
    with pytest.raises(ImportError_, match=r"report\.pdf: not a PDF"):
        read_pdf_tables(p, report_id="x", edition=2024)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match="no such file"):
        read_pdf_tables(tmp_path / "absent.pdf", report_id="x", edition=2024)


@needs_putuo
def test_truncated_pdf_raises(tmp_path: Path) -> None:
    p = tmp_path / "truncated.pdf"
    p.write_bytes(PUTUO.read_bytes()[:5000])
    with pytest.raises(ImportError_, match=r"truncated\.pdf: corrupt"):
        read_pdf_tables(p, report_id="x", edition=2024)


def test_garbage_after_header_raises(tmp_path: Path) -> None:
    p = tmp_path / "garbage.pdf"
    p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    with pytest.raises(ImportError_, match=r"garbage\.pdf: corrupt"):
        read_pdf_tables(p, report_id="x", edition=2024)


def test_encrypted_pdf_raises(tmp_path: Path) -> None:
    p = tmp_path / "locked.pdf"
    p.write_bytes(tiny_pdf(encrypt=True))
    with pytest.raises(ImportError_, match=r"locked\.pdf: the PDF is encrypted"):
        read_pdf_tables(p, report_id="x", edition=2024)


def test_user_password_pdf_is_refused_as_encrypted(tmp_path: Path) -> None:
    p = tmp_path / "locked.pdf"
    p.write_bytes(text_pdf(user_password="secret"))
    for read in (lambda: read_source(p), lambda: read_pdf_tables(p, report_id="x", edition=2024)):
        with pytest.raises(ImportError_, match=r"locked\.pdf: the PDF is encrypted \(password protected\) "
                                               r"and cannot be read without its password"):
            read()


def test_owner_password_only_pdf_is_read(tmp_path: Path) -> None:
    """Encrypted with an owner password only (empty user password): pdfminer reads it, so do we."""
    p = tmp_path / "owner.pdf"
    p.write_bytes(text_pdf("Hello", compress=True, user_password=""))
    assert read_source(p)[0] == "Hello"
    assert not [w for w in read_pdf_tables(p, report_id="x", edition=2024).warnings if "damaged" in w]


def test_an_owner_password_pdf_is_read_without_pdfminers_rc4(tmp_path: Path, monkeypatch) -> None:
    """pdfminer decrypts RC4 in Python: the Putuo report under RC4 took 11 minutes to import (3 s
    unprotected). The file is read from a copy PDFium writes without its encryption."""
    import pdfminer.arcfour

    def slow(*args, **kwargs):
        raise AssertionError("pdfminer's RC4 used")

    monkeypatch.setattr(pdfminer.arcfour.Arcfour, "__init__", slow)
    p = tmp_path / "owner.pdf"
    p.write_bytes(text_pdf("Hello", compress=True, user_password=""))
    assert read_source(p)[0] == "Hello"
    assert read_pdf_tables(p, report_id="x", edition=2024).pages == ["Hello"]


def test_an_owner_password_pdf_granting_no_permission_is_read(tmp_path: Path) -> None:
    # /P 0: pdfminer failed, "corrupt or unreadable PDF ('L' format requires 0 <= number <= 4294967295)".
    p = tmp_path / "no-permissions.pdf"
    p.write_bytes(text_pdf("Hello", compress=True, user_password="", permissions=0))
    assert read_source(p)[0] == "Hello"


def test_damaged_content_stream_is_refused_naming_the_page(tmp_path: Path) -> None:
    p = tmp_path / "damaged.pdf"
    p.write_bytes(text_pdf(damage="content"))
    for read in (lambda: read_source(p), lambda: read_pdf_tables(p, report_id="x", edition=2024)):
        with pytest.raises(ImportError_, match=r"damaged\.pdf: the PDF is damaged: the text of p\.1 ") as exc:
            read()
        assert "p.1: content stream (object 4): Error -3" in str(exc.value)


def test_damaged_image_is_a_warning(tmp_path: Path) -> None:
    p = tmp_path / "image.pdf"
    p.write_bytes(text_pdf("Hello", damage="image"))
    assert read_source(p)[0] == "Hello"
    warnings = read_pdf_tables(p, report_id="x", edition=2024).warnings
    assert "image.pdf p.1: an image (object 6) is damaged; it is not read (the text is read)" in warnings


def test_pdfminer_log_lines_are_kept_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    from opendata.ingest.pdf_file import pdfminer_log

    with pdfminer_log() as log:
        log.page = 3
        logging.getLogger("pdfminer.pdftypes").warning("Data-loss while decompressing corrupted data")
        log.page = 4
        logging.getLogger("pdfminer.pdffont").warning("Could not get FontBBox")
    assert capsys.readouterr().err == ""
    with pytest.raises(ImportError_, match=r"x\.pdf: the PDF is damaged: pdfminer read corrupted data on p\.3"):
        log.check("x.pdf")
    log.records = log.records[1:]
    assert log.check("x.pdf") == ["x.pdf p.4: pdfminer: Could not get FontBBox"]
    # The same note on many pages is one warning naming them (a chromium PDF's 13 buried the rest).
    with pdfminer_log() as log:
        for page in (1, 2, 3, 5, 7, 8):
            log.page = page
            logging.getLogger("pdfminer.pdffont").warning("Could not get FontBBox")
        log.page = None
        logging.getLogger("pdfminer.pdfpage").warning("The PDF is not extractable")
    assert log.check("x.pdf") == ["x.pdf p.1-3, 5, 7-8: pdfminer: Could not get FontBBox",
                                  "x.pdf: pdfminer: The PDF is not extractable"]


# --------------------------------------------------------------------------- helpers

@pytest.mark.parametrize("title, no", [
    ("收入支出决算总表", 1), ("部门收支决算总表", 1), ("收入决算表", 2), ("支出决算表", 3),
    ("财政拨款收入支出决算总表", 4), ("一般公共预算财政拨款支出决算表", 5),
    ("一般公共预算财政拨款基本支出决算表", 6), ("财政拨款 三公 经费支出决算表", 7),
    ("一般公共预算财政拨款“三公”经费支出决算表", 7), ("政府性基金预算财政拨款收入支出决算表", 8),
    ("政府性基金预算财政拨款支出决算表", 8), ("国有资本经营预算财政拨款支出决算表", 9),
    ("国有资本经营预算财政拨款收入支出决算表", 9), ("收入支出决算总表（续）", 1),
    ("第二部分 上海市普陀区财政局2024年度部门决算表", None), ("一、收入决算情况说明", None),
    ("注：本表反映部门本年度各项支出情况。", None), ("收入支出预算总表", None),
])
def test_table_titles(title: str, no: int | None) -> None:
    assert table_no_from_title(title) == no


def test_amount_parsing() -> None:
    assert _amount("2,946.25") == _amount("2946.25") and float(_amount("2,946.25")) == 2946.25
    assert float(_amount("1,238.58\n")) == 1238.58
    assert float(_amount("0.00")) == 0.0  # a printed zero is a figure
    assert float(_amount("-3.50")) == -3.5
    for blank in ("", " ", "-", "—", "…", "XXX"):
        assert _amount(blank) is None
    with pytest.raises(ValueError):
        _amount("本年收入")


def test_line_key_variants() -> None:
    assert _line_key(1, "使用非财政拨款结余（含专用结余）") == T.NON_FISCAL_BALANCE_USED
    assert _line_key(1, "上年结转和结余") == T.OPENING_BALANCE
    assert _line_key(4, "年末财政拨款结转和结余") == T.CLOSING_BALANCE
    assert _line_key(7, "公务用车运行费") == "公务用车运行维护费"
    assert _line_key(7, "因公出国（境）费") == "因公出国（境）费"
    assert _line_key(2, "合计") == "合计"


# --------------------------------------------------------------------------- other layouts

CHROMIUM = shutil.which("chromium")

# Layouts the Putuo report does not use: title with 附表1 and 收支, 上年结转和结余, codes printed
# whole, 年初预算数 beside a 决算数 group (two-level header), a 续 page repeating title and header,
# "-" and 0.00 cells, table 7 with its lines as rows, a table printed without a ruled grid.
VARIANT_HTML = """<html><head><meta charset="utf-8"><style>
body{font-family:"Noto Serif CJK SC";font-size:12px} table{border-collapse:collapse} td,th{border:1px solid #000;padding:3px 6px}
.pb{page-break-after:always} h3{text-align:center}
</style></head><body>
<div class="pb"><h3>附表1 部门收支决算总表</h3><p style="text-align:right">单位：万元</p>
<table><tr><th colspan=2>收入</th><th colspan=2>支出</th></tr>
<tr><th>项目</th><th>决算数</th><th>项目</th><th>决算数</th></tr>
<tr><td>一、一般公共预算财政拨款收入</td><td>1,000.00</td><td>一、一般公共服务支出</td><td>900.00</td></tr>
<tr><td>二、事业收入</td><td></td><td>二、教育支出</td><td>100.00</td></tr>
<tr><td>本年收入合计</td><td>1,000.00</td><td>本年支出合计</td><td>1,000.00</td></tr>
<tr><td>上年结转和结余</td><td>5.00</td><td>年末结转和结余</td><td>5.00</td></tr>
<tr><td>总计</td><td>1,005.00</td><td>总计</td><td>1,005.00</td></tr></table></div>
<div class="pb"><h3>一般公共预算财政拨款支出决算表</h3><p style="text-align:right">单位：万元</p>
<table><tr><th colspan=2>项目</th><th rowspan=2>年初预算数</th><th colspan=3>决算数</th></tr>
<tr><th>科目编码</th><th>科目名称</th><th>合计</th><th>基本支出</th><th>项目支出</th></tr>
<tr><td>201</td><td>一般公共服务支出</td><td>950.00</td><td>900.00</td><td>800.00</td><td>100.00</td></tr>
<tr><td>20103</td><td>政府办公厅（室）及相关机构事务</td><td>950.00</td><td>900.00</td><td>800.00</td><td>100.00</td></tr>
<tr><td>2010301</td><td>行政运行</td><td>850.00</td><td>800.00</td><td>800.00</td><td>-</td></tr>
</table></div>
<div class="pb"><h3>一般公共预算财政拨款支出决算表（续）</h3><p style="text-align:right">单位：万元</p>
<table><tr><th colspan=2>项目</th><th rowspan=2>年初预算数</th><th colspan=3>决算数</th></tr>
<tr><th>科目编码</th><th>科目名称</th><th>合计</th><th>基本支出</th><th>项目支出</th></tr>
<tr><td>2010302</td><td>一般行政管理事务</td><td>100.00</td><td>100.00</td><td></td><td>100.00</td></tr>
<tr><td>205</td><td>教育支出</td><td>100.00</td><td>100.00</td><td>100.00</td><td>0.00</td></tr>
<tr><td colspan=2>合计</td><td>1,050.00</td><td>1,000.00</td><td>900.00</td><td>100.00</td></tr>
</table></div>
<div class="pb"><h3>一般公共预算财政拨款“三公”经费支出决算表</h3><p style="text-align:right">单位：万元</p>
<table><tr><th>项目</th><th>预算数</th><th>决算数</th></tr>
<tr><td>合计</td><td>3.00</td><td>2.50</td></tr>
<tr><td>1.因公出国（境）费</td><td></td><td></td></tr>
<tr><td>2.公务用车购置及运行维护费</td><td>2.00</td><td>1.50</td></tr>
<tr><td>其中：（1）公务用车购置费</td><td></td><td></td></tr>
<tr><td>（2）公务用车运行维护费</td><td>2.00</td><td>1.50</td></tr>
<tr><td>3.公务接待费</td><td>1.00</td><td>1.00</td></tr></table></div>
<div><h3>政府性基金预算财政拨款支出决算表</h3>
<p>项目 合计 基本支出 项目支出</p><p>注：本单位没有政府性基金预算财政拨款支出，故本表无数据。</p></div>
</body></html>
"""


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> PdfTables:
    if not CHROMIUM:
        pytest.skip("chromium not installed (apt-get install chromium)")
    d = tmp_path_factory.mktemp("variant")
    (d / "variant.html").write_text(VARIANT_HTML, encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-pdf-header-footer", f"--print-to-pdf={d / 'variant.pdf'}",
                    str(d / "variant.html")], check=True, capture_output=True, timeout=120)
    return read_pdf_tables(d / "variant.pdf", report_id="variant", edition=2023)


def test_variant_titles_and_unruled_table(variant: PdfTables) -> None:
    by_no = {t["table_no"]: t for t in variant.report_tables}
    assert sorted(by_no) == [1, 5, 7, 8]
    assert by_no[1]["title_as_printed"] == "附表1部门收支决算总表"  # radical glyph 门 normalised
    assert by_no[5]["source_ref"].endswith("(p.2-3)")
    assert "本表无数据" in by_no[8]["statement"]
    assert any("表8" in w and "without a ruled grid" in w for w in variant.warnings)


def test_variant_table1_aliases(variant: PdfTables) -> None:
    assert amount(variant, 1, T.INCOME, T.OPENING_BALANCE, "决算数") == 5.0  # printed 上年结转和结余
    assert amount(variant, 1, T.EXPENDITURE, "教育支出", "决算数") == 100.0
    assert amount(variant, 1, T.INCOME, "事业收入", "决算数") is None


def test_variant_table5_two_level_header_and_continuation(variant: PdfTables) -> None:
    E = T.EXPENDITURE
    assert amount(variant, 5, E, "2010301", "年初预算数") == 850.0
    assert amount(variant, 5, E, "2010301", "基本支出") == 800.0
    assert amount(variant, 5, E, "2010301", "项目支出") is None  # printed "-"
    assert amount(variant, 5, E, "205", "项目支出") == 0.0  # printed 0.00
    assert amount(variant, 5, E, "2010302", "项目支出") == 100.0  # page 3, after a repeated header
    assert amount(variant, 5, E, "合计", "年初预算数") == 1050.0
    t5 = [a for a in variant.amounts if a["table_no"] == 5]
    assert {a["line_no"] for a in t5} == {1, 2, 3, 4, 5, 6}
    cl = {c["code"]: c for c in variant.classification}
    assert cl["2010302"]["parent_id"] == "20103@2023" and cl["20103"]["name"] == "政府办公厅（室）及相关机构事务"


def test_variant_table7_lines_as_rows(variant: PdfTables) -> None:
    got = {(a["line_key"], a["measure"]): a["amount"] for a in variant.amounts if a["table_no"] == 7}
    assert got == {
        ("合计", "预算数"): 3.0, ("合计", "决算数"): 2.5,
        ("公务用车购置及运行维护费", "预算数"): 2.0, ("公务用车购置及运行维护费", "决算数"): 1.5,
        ("公务用车运行维护费", "预算数"): 2.0, ("公务用车运行维护费", "决算数"): 1.5,
        ("公务接待费", "预算数"): 1.0, ("公务接待费", "决算数"): 1.0,
    }


# Table 7 with its lines as columns and one row per measure (预算数, 决算数); table 3 with a label
# wrapped over a page break (the rest of the label alone on the next page's first row).
LAYOUT2_HTML = """<html><head><meta charset="utf-8"><style>
body{font-family:"Noto Serif CJK SC";font-size:12px} table{border-collapse:collapse} td,th{border:1px solid #000;padding:3px 6px}
.pb{page-break-after:always} h3{text-align:center}
</style></head><body>
<div class="pb"><h3>财政拨款“三公”经费支出决算表</h3><p style="text-align:right">单位：万元</p>
<table><tr><th rowspan=2>项目</th><th rowspan=2>合计</th><th rowspan=2>因公出国（境）费</th><th colspan=3>公务用车购置及运行维护费</th><th rowspan=2>公务接待费</th></tr>
<tr><th>小计</th><th>公务用车购置费</th><th>公务用车运行维护费</th></tr>
<tr><td>预算数</td><td>3.00</td><td>0.00</td><td>2.00</td><td></td><td>2.00</td><td>1.00</td></tr>
<tr><td>决算数</td><td>2.50</td><td>0.00</td><td>1.50</td><td></td><td>1.50</td><td>1.00</td></tr></table></div>
<div class="pb"><h3>支出决算表</h3><p style="text-align:right">单位：万元</p>
<table><tr><th>科目编码</th><th>科目名称</th><th>本年支出合计</th><th>基本支出</th><th>项目支出</th></tr>
<tr><td>201</td><td>一般公共服务支出</td><td>150.00</td><td>100.00</td><td>50.00</td></tr>
<tr><td>20103</td><td>政府办公厅（室）及相关机构事务</td><td>150.00</td><td>100.00</td><td>50.00</td></tr>
<tr><td>2010301</td><td>行政运行</td><td>100.00</td><td>100.00</td><td></td></tr>
<tr><td>2010399</td><td>其他政府办公厅（室）及相关机构事</td><td>50.00</td><td></td><td>50.00</td></tr>
</table></div>
<div><h3>支出决算表（续）</h3><p style="text-align:right">单位：万元</p>
<table><tr><th>科目编码</th><th>科目名称</th><th>本年支出合计</th><th>基本支出</th><th>项目支出</th></tr>
<tr><td></td><td>务支出</td><td></td><td></td><td></td></tr>
<tr><td colspan=2>合计</td><td>150.00</td><td>100.00</td><td>50.00</td></tr>
</table></div>
</body></html>
"""


@pytest.fixture(scope="module")
def layout2(tmp_path_factory: pytest.TempPathFactory) -> PdfTables:
    if not CHROMIUM:
        pytest.skip("chromium not installed (apt-get install chromium)")
    d = tmp_path_factory.mktemp("layout2")
    (d / "layout2.html").write_text(LAYOUT2_HTML, encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-pdf-header-footer", f"--print-to-pdf={d / 'layout2.pdf'}",
                    str(d / "layout2.html")], check=True, capture_output=True, timeout=120)
    return read_pdf_tables(d / "layout2.pdf", report_id="layout2", edition=2023)


def test_table7_budget_and_final_rows_both_read(layout2: PdfTables) -> None:
    got = {(r["line_key"], r["measure"]): r["amount"] for r in layout2.amounts if r["table_no"] == 7}
    assert got == {
        ("合计", "预算数"): 3.0, ("合计", "决算数"): 2.5,
        ("因公出国（境）费", "预算数"): 0.0, ("因公出国（境）费", "决算数"): 0.0,
        ("公务用车购置及运行维护费", "预算数"): 2.0, ("公务用车购置及运行维护费", "决算数"): 1.5,
        ("公务用车运行维护费", "预算数"): 2.0, ("公务用车运行维护费", "决算数"): 1.5,
        ("公务接待费", "预算数"): 1.0, ("公务接待费", "决算数"): 1.0,
    }
    assert not [w for w in layout2.warnings if "表7" in w]


def test_label_wrapped_over_a_page_break_is_one_line(layout2: PdfTables) -> None:
    rows = [r for r in layout2.amounts if r["table_no"] == 3]
    line = {r["measure"]: r for r in rows if r["line_key"] == "2010399"}
    assert line["本年支出合计"]["item"] == "其他政府办公厅（室）及相关机构事务支出"
    assert line["本年支出合计"]["amount"] == 50.0
    assert {r["line_key"] for r in rows} == {"201", "20103", "2010301", "2010399", "合计"}
    assert [r["line_no"] for r in rows if r["line_key"] == "合计"][0] == 5
    cls = {c["code"]: c["name"] for c in layout2.classification}
    assert cls["2010399"] == "其他政府办公厅（室）及相关机构事务支出"


def test_a_note_written_with_radicals_is_found():
    # 无 as the Kangxi radical ⽆ (U+2F46), as chromium printed a tester's report: the note of an
    # empty 表9 was not found and the table was recorded as not read.
    from opendata.ingest.pdf_tables import _note_below

    note = _note_below([{"text": "注：本单位⽆国有资本经营预算财政拨款支出，故本表⽆数据。", "top": 120.0}], bottom=100.0)
    assert note == "注：本单位无国有资本经营预算财政拨款支出，故本表无数据。"


@pytest.mark.parametrize("pieces, measure", [
    (["本年支出", "小计"], "合计"),          # many provinces' 表5: its 决算数 were left out
    (["决算数", "小计"], "合计"),
    (["年初预算数", "小计"], "年初预算数"),   # a 年初预算数 group with its own 小计: it took 合计 too,
    (["年初预算数", "基本支出"], None),       # and its 基本支出 the 决算数's (one silently lost)
    (["决算数", "基本支出"], "基本支出"),
    (["年初预算数"], "年初预算数"),
])
def test_table_5_columns_under_a_group_heading(pieces: list[str], measure: str | None) -> None:
    from opendata.ingest.pdf_tables import _match_measure

    assert _match_measure(pieces, ["年初预算数", "合计", "基本支出", "项目支出"]) == measure


def test_hu_as_its_traditional_form_is_read_as_hu():
    # chromium's Noto font maps 户 to 戶 (U+6236) in a PDF's text: 经营戶 was not found by a search
    from opendata.ingest.textutil import radical_glyphs

    assert radical_glyphs("为芦淞商圈1万余经营戶优惠电费") == "为芦淞商圈1万余经营户优惠电费"
