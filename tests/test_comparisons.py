"""The comparisons across reports: year_on_year and class_shares (tables the build fills once) and
the named queries that read them and table7_three_public (compare_growth, compare_shares,
compare_three_public), checked against the figures of ``amounts`` recomputed here in Python."""

from __future__ import annotations

import shutil
import sqlite3
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from opendata.layouts import YEAR_ON_YEAR_SQL
from opendata.site.app import make_app

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "metadata.yml"
DB = "opendata"
QUERIES = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"][DB]["queries"]


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory, built_corpus) -> Path:
    """Five departments over three consecutive years, a third of the reports with seeded errors."""
    return built_corpus(tmp_path_factory.mktemp("comparisons"), departments=5, years=3, error_share=0.3, seed=11)


def rows(conn: sqlite3.Connection, sql: str, params: dict | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor]


def final_lines(conn: sqlite3.Connection) -> list[dict]:
    """Each coded 表5 line's 决算数 (合计) in a final account, with its report's department and year."""
    return rows(conn, "select a.report_id, r.department_id, d.name as department, r.year, a.code, a.item, "
                      "a.amount from amounts a join reports r using (report_id) join departments d using "
                      "(department_id) where a.table_no = 5 and a.measure = '合计' and a.code is not null "
                      "and r.kind = '决算'")


def test_year_on_year_pairs_each_code_with_the_year_before(corpus_db):
    with sqlite3.connect(corpus_db) as conn:
        lines = final_lines(conn)
        got = rows(conn, "select * from year_on_year")
    by_key = defaultdict(list)
    for line in lines:
        by_key[line["department_id"], line["code"], line["year"]].append(line)
    expected = sorted(
        ((cur["department"], cur["year"], cur["code"], cur["report_id"], prev["report_id"]),
         cur["amount"], prev["amount"])
        for cur in lines for prev in by_key[cur["department_id"], cur["code"], cur["year"] - 1])
    assert len(expected) > 20
    assert [((r["department"], r["year"], r["code"], r["report_id"], r["last_year_report_id"]),
             r["final_amount"], r["last_year_amount"]) for r in got] == expected
    for r in got:
        assert r["last_year"] == r["year"] - 1
        assert r["change_amount"] == pytest.approx(r["final_amount"] - r["last_year_amount"], abs=0.005)
        if r["last_year_amount"]:
            assert r["change_pct"] == pytest.approx(
                100 * (r["final_amount"] - r["last_year_amount"]) / r["last_year_amount"], abs=0.05)
        else:
            assert r["change_pct"] is None


def test_class_shares_are_each_class_of_the_table5_total(corpus_db):
    with sqlite3.connect(corpus_db) as conn:
        got = rows(conn, "select * from class_shares")
        totals = dict(conn.execute("select report_id, amount from amounts where table_no = 5 "
                                   "and line_key = '合计' and measure = '合计'").fetchall())
        classes = rows(conn, "select a.report_id, a.code, a.amount, c.name from amounts a left join classification c "
                             "using (classification_id) where a.table_no = 5 and a.measure = '合计' "
                             "and length(a.code) = 3")
    assert len(got) == len(classes) > 30
    assert {(r["report_id"], r["code"], r["final_amount"]) for r in got} == {
        (c["report_id"], c["code"], c["amount"]) for c in classes}
    names = {(c["report_id"], c["code"]): c["name"] for c in classes}
    for r in got:
        assert names[r["report_id"], r["code"]] in (r["item"], None)
        total = totals.get(r["report_id"])
        if total:
            assert r["share_pct"] == pytest.approx(100 * r["final_amount"] / total, abs=0.05)
    # Largest class first within a report.
    for report in {r["report_id"] for r in got}:
        amounts = [r["final_amount"] for r in got if r["report_id"] == report]
        assert amounts == sorted(amounts, reverse=True)


def test_year_on_year_pairs_through_an_index_before_analyze(corpus_db, tmp_path):
    """The build computes year_on_year before ANALYZE: without statistics SQLite must still pair
    the lines through an index (it once scanned them all for each line: 144 s at 10^6 rows)."""
    copy = tmp_path / "nostat.db"
    shutil.copy(corpus_db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("delete from sqlite_stat1")
    with sqlite3.connect(copy) as conn:
        plan = [r[3] for r in conn.execute("explain query plan " + YEAR_ON_YEAR_SQL)]
    assert any(step.startswith("SEARCH prev USING") for step in plan), plan
    assert not any(step.startswith("SCAN prev") for step in plan), plan


@pytest.mark.parametrize("name,params", [("compare_growth", {"department_id": ""}),
                                         ("compare_growth", {"department_id": "dept-000002"}),
                                         ("compare_growth", {"department_id": "统计局"}),
                                         ("compare_shares", {}), ("compare_three_public", {})])
def test_comparison_queries_walk_an_index(corpus_db, name, params):
    """Each reads its table in the order it asks (an index the build adds): the first 1,000 rows
    without computing or sorting the others."""
    with sqlite3.connect(corpus_db) as conn:
        plan = " | ".join(r[3] for r in conn.execute("explain query plan " + QUERIES[name]["sql"], params))
    assert "USING INDEX idx__" in plan and "TEMP B-TREE" not in plan, plan


async def test_comparison_queries_answer_from_the_tables(corpus_db):
    ds = make_app(corpus_db, metadata=METADATA)
    with sqlite3.connect(corpus_db) as conn:
        yoy = rows(conn, "select * from year_on_year")
        shares = rows(conn, "select * from class_shares")
        table7 = rows(conn, "select * from table7_three_public")
    growth = (await ds.client.get(f"/{DB}/compare_growth.json?department_id=&_shape=array")).json()
    assert [(g["部门"], g["本年"], g["科目编码"], g["本年决算数"], g["上年决算数"], g["增减率（%）"]) for g in growth] == [
        (r["department"], r["year"], r["code"], r["final_amount"], r["last_year_amount"], r["change_pct"])
        for r in yoy]
    one = (await ds.client.get(f"/{DB}/compare_growth.json?department_id=dept-000002&_shape=array")).json()
    assert one and len(one) == sum(r["department_id"] == "dept-000002" for r in yoy)
    # Or a word of its name: a citizen typed 普陀 and read 没有结果.
    name = next(r["department"] for r in yoy if r["department_id"] == "dept-000002")
    by_name = (await ds.client.get(f"/{DB}/compare_growth.json?" + urlencode(
        {"_shape": "array", "department_id": f" {name[-6:]} "}))).json()
    assert by_name == one
    got = (await ds.client.get(f"/{DB}/compare_shares.json?_shape=array")).json()
    assert [(s["部门"], s["年度"], s["科目编码"], s["占比（%）"], s["report_id"]) for s in got] == [
        (r["department"], r["year"], r["code"], r["share_pct"], r["report_id"]) for r in shares]
    three = (await ds.client.get(f"/{DB}/compare_three_public.json?_shape=array")).json()
    expected = sorted(table7, key=lambda r: (r["department"], r["year"], r["report_id"], r["line_no"]))
    assert [(t["部门"], t["项目"], t["预算数"], t["决算数"], t["report_id"]) for t in three] == [
        (r["department"], r["line_key"], r["预算数"], r["决算数"], r["report_id"]) for r in expected]


async def test_a_change_that_disagrees_with_last_years_report_is_marked(corpus_db):
    # A yoy.change error (the stated 增减额 against the report of the year before) was not shown by
    # the changes query's 核对, which read the findings of the current figure only.
    ds = make_app(corpus_db, metadata=METADATA)
    with sqlite3.connect(corpus_db) as conn:
        found = rows(conn, "select report_id, message_zh from findings where rule_id = 'yoy.change'")
        clean = rows(conn, "select report_id from reports where report_id not in (select report_id from findings) "
                           "and year > 2021 limit 1")
    assert found and clean  # seed 11: two reports of 2022 state a change that 2021's report does not give
    for f in found:
        changes = (await ds.client.get(f"/{DB}/changes.json?report_id={f['report_id']}&_shape=array")).json()
        assert [c for c in changes if f["message_zh"] in (c["核对"] or "")], (f, changes)
    changes = (await ds.client.get(f"/{DB}/changes.json?report_id={clean[0]['report_id']}&_shape=array")).json()
    assert changes and not [c for c in changes if c["核对"]]


async def test_comparison_pages_show_units(corpus_db):
    """The browsable tables show money in 万元 and rates with %, with Chinese titles."""
    ds = make_app(corpus_db, metadata=METADATA)
    for page, title in (("year_on_year", "各科目比上年增减"), ("class_shares", "各类支出占比")):
        html = (await ds.client.get(f"/{DB}/{page}")).text
        assert title in html, page
        assert '<td class="col-final_amount type-float"><span class="num">' in html, page
        assert '<span class="unit">万元</span>' in html and '<span class="unit">%</span>' in html, page


async def test_landing_page_links_the_comparison_tables(site_db, site_package):
    """Citizens reach the browsable tables (every row, facets) from the landing page."""
    from bs4 import BeautifulSoup

    ds = make_app(site_db, metadata=METADATA, package_dir=site_package)
    landing = BeautifulSoup((await ds.client.get("/")).text, "html.parser")
    assert landing.select_one(f'a[href="/{DB}/class_shares"]').get_text() == "各类支出占比"
    assert landing.select_one(f'a[href="/{DB}/year_on_year"]').get_text() == "各科目比上年增减"
    shares = (await ds.client.get(f"/{DB}/class_shares.json?_shape=array&report_id=zhuzhou-lusong-kjgxj-2020-final"
                                  "&_sort_desc=final_amount")).json()
    # The seed's 表5: 科学技术支出 1,980.21 of 2,540.24 万元 (77.95 %), its largest class.
    assert (shares[0]["item"], shares[0]["final_amount"], shares[0]["share_pct"]) == ("科学技术支出", 1980.21, 77.95)


async def test_a_standard_tables_page_links_the_same_table_of_the_departments_other_reports(corpus_db):
    # A citizen on 表5 of one year had to go back to the reports table to find another year's.
    from bs4 import BeautifulSoup

    with sqlite3.connect(corpus_db) as conn:
        department_id, = conn.execute("select department_id from reports order by report_id limit 1").fetchone()
        reports = conn.execute("select report_id, year, kind from reports where department_id = ? "
                               "order by year desc, kind, report_id", [department_id]).fetchall()
    assert len(reports) == 3
    current = reports[1][0]
    ds = make_app(corpus_db, metadata=METADATA)
    page = BeautifulSoup((await ds.client.get(f"/{DB}/report_table5?report_id={current}")).text, "html.parser")
    others = page.select_one("p.report-others")
    assert others.get_text().startswith("本部门其他报告的")
    assert [(a.get_text(), a["href"]) for a in others.select("a")] == [
        (f"{year}年度{kind}", f"?report_id={rid}") for rid, year, kind in reports if rid != current]


def test_compare_item_reads_the_lines_of_its_codes_through_their_index(corpus_db):
    # By a code or a name (a subquery of classification): the lines of those codes, not a scan.
    sql = QUERIES["compare_item"]["sql"]
    with sqlite3.connect(corpus_db) as conn:
        for typed in ("2010601", "行政运行"):
            plan = " | ".join(r[3] for r in conn.execute("explain query plan " + sql, {"code": typed}))
            assert "SEARCH _budget_execution USING INDEX idx__budget_execution_code (code=?)" in plan, plan


@pytest.mark.parametrize("path", ["year_on_year", "compare_growth?department_id="])
async def test_an_empty_comparison_of_years_says_why_and_where_to_look(path, site_db, site_package):
    # The shipped package has one report of each department: 没有符合条件的行 / 没有结果, and nothing more.
    from test_site import METADATA, soup_of

    ds = make_app(site_db, metadata=METADATA, package_dir=site_package)
    soup = soup_of(await ds.client.get(f"/opendata/{path}"))
    note = soup.select_one("p.zero-results")
    assert "相邻两个年度的报告都在数据中" in note.get_text() and "导入该部门上一年度的报告" in note.get_text()
    link = note.find("a", string="与上年比较")
    page = await ds.client.get(f"/opendata/{link['href']}")
    assert link["href"] == "changes" and page.status_code == 200 and "请选择报告" in page.text
