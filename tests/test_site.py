"""The public site through Datasette's in-process client: pages, facets, search, the JSON API.

The JSON field lists below are the API's contract: a test fails when a URL or a field changes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

from opendata.site.app import make_app

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "metadata.yml"

DB = "opendata"
API_DOC = ROOT / "README.md"
STANDARD_QUERIES = ["report_table1", "report_table2", "report_table3", "report_table4",
                    "report_table5", "report_table6", "report_table7",
                    "report_table8", "report_table9"]


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


async def get_json(ds, path: str):
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


# ------------------------------------------------------------------------------------- landing page

async def test_landing_page_is_chinese_and_self_hosted(ds):
    soup = soup_of(await ds.client.get("/"))
    assert soup.h1.get_text(strip=True) == "部门决算公开数据"
    assert "钱花到哪里去了" in soup.title.get_text()
    assert "万元" in soup.select_one(".lead").get_text()
    for chart in ["chart-class", "chart-basic", "chart-budget", "chart-three"]:
        assert soup.find("canvas", id=chart), chart
    for block in ["changes", "findings", "std-tables", "headline"]:
        assert soup.find(id=block), block
    form = soup.select_one("form.zh-search")
    assert form["action"] == f"/{DB}/search" and form.find("input", attrs={"name": "q"})
    # Every script and stylesheet comes from the instance itself: no third-party CDN.
    urls = [s["src"] for s in soup.find_all("script", src=True)] + [link["href"] for link in soup.find_all("link", href=True)
                                                                      if "alternate" not in link.get("rel", [])]
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "/-/opendata/chart.umd.js" in urls and "/-/opendata/landing.js" in urls


async def test_assets_and_chart_licence_are_served(ds):
    for path, needle in [("/-/opendata/chart.umd.js", "Chart.js v4"), ("/-/opendata/chart.js.LICENSE.md", "MIT License"),
                         ("/-/opendata/landing.js", "report_overview"), ("/-/opendata/site.css", ".chart-card")]:
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        assert needle in response.text, path
    script = (await ds.client.get("/-/opendata/landing.js")).text
    assert not re.search(r"https?://", script), "landing.js must only call the instance's own API"


async def test_landing_page_json_sources(ds, seed_report):
    """The numbers the landing page draws, from the canned queries it calls."""
    overview = (await get_json(ds, f"/{DB}/report_overview.json?_shape=array&report_id={seed_report}"))[0]
    assert overview["支出合计"] == 2540.24
    assert overview["一般公共预算财政拨款支出"] == 2540.24
    assert overview["年初预算数"] == 643.62
    by_class = await get_json(ds, f"/{DB}/by_class.json?_shape=array&report_id={seed_report}")
    assert by_class[0] == {"科目编码": "206", "科目名称": "科学技术支出", "决算数": 1980.21, "占比": 77.95}
    budget = {r["科目编码"]: r for r in await get_json(ds, f"/{DB}/budget_vs_actual.json?_shape=array&report_id={seed_report}")}
    assert budget["2060101"]["年初预算数"] == 305.62 and budget["2060101"]["决算数"] == 12.05
    assert budget["2060101"]["执行率（%）"] == 3.9
    three = await get_json(ds, f"/{DB}/report_table7.json?_shape=array&report_id={seed_report}")
    assert [r["栏目"] for r in three] == ["预算数", "决算数"]
    assert three[1]["公务接待费"] == 0.12


# ----------------------------------------------------------------------------- browsing in Chinese

async def test_table_page_chrome_units_and_labels(ds, seed_report):
    soup = soup_of(await ds.client.get(f"/{DB}/amounts?report_id={seed_report}&table_no=5"))
    assert soup.h1.get_text(strip=True) == "决算表数据（万元）"
    text = soup.get_text(" ")
    assert "下载本页数据" in text and "首页" in text and "使用条款" in text
    assert re.search(r"共 [\d,]+ 行", text)
    assert "Powered by" not in text and "This data as" not in text
    # Amounts show their unit; the column descriptions say it too.
    cells = soup.select("td.col-amount")
    assert cells and all("万元" in td.get_text() for td in cells if td.get_text(strip=True))
    assert "1,980.21" in " ".join(td.get_text() for td in cells)
    assert "万元" in soup.select_one("dl.column-descriptions").get_text()
    # Columns are headed, filtered, sorted and faceted by their Chinese labels; the names stay in
    # the URLs and the headers' tooltips.
    headers = {th["data-column"]: th.get_text(" ", strip=True) for th in soup.select("th[data-column]")}
    assert headers["amount"] == "金额" and headers["measure"] == "栏目" and headers["line_key"] == "行标识"
    assert soup.select_one("th[data-column=amount]")["title"] == "amount"
    link = soup.select_one("th[data-column=Link]")
    assert link.get_text(strip=True) == "详情" and link["title"] == "每行的详情页"  # the link to each row (its tooltip said "Link")
    options = {o["value"]: o.get_text(strip=True) for o in soup.select("select[name=_filter_column] option") if o["value"]}
    assert options["code"] == "科目编码" and options["side"] == "收入或支出"
    assert "按 金额 排序" in [o.get_text(strip=True) for o in soup.select("#sort_by option")]
    facets = {div["data-column"]: div.select_one("strong").get_text(" ", strip=True) for div in soup.select(".facet-info")}
    assert {column: label.split()[0] for column, label in facets.items()} == {
        "report_id": "报告", "table_no": "表号", "measure": "栏目", "source_kind": "来源"}
    # Codes show their names (label columns on the referenced tables).
    labels = " ".join(td.get_text(" ") for td in soup.select("td.col-classification_id"))
    assert "科学技术支出" in labels


async def test_label_columns_in_json(ds, seed_report):
    rows = await get_json(ds, f"/{DB}/amounts.json?_shape=array&_labels=on&report_id={seed_report}&code=206&measure=合计")
    assert "株洲市芦淞区科技和工业信息化局" in rows[0]["report_id"]["label"]
    assert rows[0]["classification_id"]["label"] == "科学技术支出"
    reports = await get_json(ds, f"/{DB}/reports.json?_shape=array&_labels=on")
    assert all(isinstance(r["department_id"], dict) and r["department_id"]["label"] for r in reports)


DEFAULT_FACETS = {
    "amounts": ["report_id", "table_no", "measure", "source_kind"],
    "reports": ["department_id", "year", "kind", "tables_attached"],
    "findings": ["report_id", "rule_id", "severity"],
    "statements": ["report_id", "kind", "period", "unit"],
    "classification": ["level", "scheme", "edition", "certainty"],
    "budget_execution": ["department", "year", "class_name", "level"],
    "table5_gpb_expenditure": ["department", "year", "side", "class_name"],
    "search_index": ["kind", "report_id"],
}


@pytest.mark.parametrize("table", sorted(DEFAULT_FACETS))
async def test_default_facets(ds, table):
    data = await get_json(ds, f"/{DB}/{table}.json")
    assert sorted(data["facet_results"]) == sorted(DEFAULT_FACETS[table])


async def test_facet_counts_and_html(ds, seed_report):
    data = await get_json(ds, f"/{DB}/amounts.json?_size=0")
    tables = {r["value"]: r["count"] for r in data["facet_results"]["table_no"]["results"]}
    assert tables[5] >= 10 and tables[7] >= 2
    years = (await get_json(ds, f"/{DB}/budget_execution.json"))["facet_results"]["year"]["results"]
    assert 2020 in [r["value"] for r in years]
    soup = soup_of(await ds.client.get(f"/{DB}/amounts"))
    facet = soup.select_one("#facet-report_id")
    assert facet and "芦淞区" in facet.get_text(), "facet values show the report's title"


async def test_all_tables_have_chinese_titles_and_descriptions(ds):
    meta = await get_json(ds, "/-/metadata.json")
    tables = meta["databases"][DB]["tables"]
    data = await get_json(ds, f"/{DB}.json")
    names = [t["name"] for t in data["tables"] if not t["hidden"]] + [v["name"] for v in data["views"]]
    for name in names:
        assert name in tables, f"{name} has no metadata"
        assert re.search(r"[\u4e00-\u9fff]", tables[name]["title"]), name
        assert tables[name]["description"], name


async def test_licence_is_not_invented(ds):
    meta = await get_json(ds, "/-/metadata.json")
    assert meta["license"] == "发布单位未声明使用条款"  # the publishers state no terms; in Chinese on every page
    assert "license_url" not in meta
    soup = soup_of(await ds.client.get(f"/{DB}/reports"))
    assert "未声明使用条款" in soup.select_one("footer").get_text()


async def test_every_page_says_the_terms_and_the_source(ds):
    # A named query's page said neither (Datasette gives it its query's metadata only): a tester's find.
    meta = await get_json(ds, "/-/metadata.json")
    queries = list(meta["databases"][DB]["queries"])
    tables = list(meta["databases"][DB]["tables"])
    assert len(queries) >= 10 and len(tables) >= 10
    for path in [f"/{DB}/{name}" for name in queries + tables] + [f"/{DB}", f"/{DB}?sql=select+1"]:
        r = await ds.client.get(path)
        assert r.status_code == 200, path
        terms = soup_of(r).select_one(".metadata-license")
        assert terms is not None, path
        text = " ".join(terms.get_text().split())
        assert "使用条款： 发布单位未声明使用条款" in text and "not stated" not in text, (path, text)
        assert "数据来源：各部门公开的部门决算报告" in text.replace("： ", "："), (path, text)
        assert terms.select_one("a[href='/opendata/reports']") is not None, path


async def test_error_pages_and_filter_operators_are_in_chinese(ds):
    # A tester found "Error 404", "contains", "starts with", "( hide )" on the citizens' pages.
    missing = await ds.client.get(f"/{DB}/no_such_table")
    assert missing.status_code == 404
    assert BeautifulSoup(missing.text, "html.parser").select_one("h1").get_text() == "找不到该页面（404）"
    assert "地址所指的表、查询或记录不存在" in missing.text and "Table not found" in missing.text  # the detail kept
    # The detail in Chinese too, and the page in the site's style (a tester: English, another font).
    soup = BeautifulSoup(missing.text, "html.parser")
    assert soup.select_one(".error-detail").get_text(strip=True) == "没有这个表或查询（Table not found）"
    assert soup.select_one("link[rel=stylesheet][href='/-/opendata/site.css']")
    record = BeautifulSoup((await ds.client.get(f"/{DB}/reports/no-such-report")).text, "html.parser")
    assert record.select_one(".error-detail").get_text(strip=True) == "没有这条记录（Record not found）"
    # The data package's folder: its refusals in Chinese, with CORS, as its files.
    for path, status, words in (("/datapackage/", 403, "不提供目录列表"), ("/datapackage/nope.csv", 404, "数据包中没有这个文件")):
        r = await ds.client.get(path)
        assert r.status_code == status and words in r.text and r.headers["access-control-allow-origin"] == "*"
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert int(r.headers["content-length"]) == len(r.content)
    bad = await ds.client.get(f"/{DB}/amounts?_sort=no_such_column")
    assert bad.status_code == 400 and BeautifulSoup(bad.text, "html.parser").select_one("h1").get_text() == "请求有误（400）"
    page = soup_of(await ds.client.get(f"/{DB}/amounts"))
    operators = {o["value"]: o.get_text() for o in page.select(".filters select[name^='_filter_op'] option")}
    assert operators["contains"] == "包含" and operators["startswith"] == "开头为" and operators["isnull__1"] == "为空值"
    assert operators["exact"] == "=" and operators["gte"] == "≥"
    assert not {"contains", "starts with", "is null"} & set(operators.values())
    query = soup_of(await ds.client.get(f"/{DB}/compare_totals"))
    assert query.select_one(".show-hide-sql a").get_text() == "显示"  # its SQL hidden until asked


# ---------------------------------------------------------------------------- named queries

@pytest.mark.parametrize("name", STANDARD_QUERIES)
async def test_standard_table_queries(ds, seed_report, name):
    response = await ds.client.get(f"/{DB}/{name}?report_id={seed_report}")
    soup = soup_of(response)
    assert soup.h1.get_text(strip=True).startswith("表 ")
    assert "万元" in soup.h1.get_text()
    assert soup.find("label", string="报告（编号，或标题中的词，如 普陀 2024）")
    assert not soup.select("pre#sql-query, textarea#sql-editor"), "the standard tables hide their SQL"


async def test_standard_tables_look_like_the_report(ds, seed_report):
    t5 = await get_json(ds, f"/{DB}/report_table5.json?report_id={seed_report}")
    assert t5["columns"] == ["科目编码", "科目名称", "年初预算数", "决算数合计", "基本支出", "项目支出", "出处"]
    rows = {r[0]: r for r in t5["rows"]}
    assert rows["2060101"][1:4] == ["行政运行", 305.62, 12.05]
    assert rows["206"][3] == 1980.21
    # Where the figures are printed (a citizen checking one against the report saw no page): this
    # report's are the narrative's sections.
    assert rows["206"][6] == "第三部分 五（二）" and rows["2060101"][6] == "第三部分 五（三）3"
    t1 = await get_json(ds, f"/{DB}/report_table1.json?report_id={seed_report}")
    assert t1["columns"] == ["收入项目", "收入决算数", "收入出处", "支出项目", "支出决算数", "支出出处"]
    t7 = await get_json(ds, f"/{DB}/report_table7.json?report_id={seed_report}")
    assert t7["columns"] == ["栏目", "合计", "因公出国（境）费", "公务用车购置及运行维护费小计", "公务用车购置费",
                             "公务用车运行维护费", "公务接待费", "出处"]
    html = (await ds.client.get(f"/{DB}/report_table5?report_id={seed_report}")).text
    assert "1,980.21" in html and "万元" in html
    # The narrative words each figure of 表3's total line its own way (本年支出合计 / 基本支出 /
    # 项目支出): the layout names the line by its first column.
    t3 = await get_json(ds, f"/{DB}/table3_expenditure.json?report_id={seed_report}&_shape=array")
    assert [(r["item"], r["本年支出合计"], r["基本支出"], r["项目支出"]) for r in t3] == [
        ("本年支出合计", 2540.24, 171.68, 2368.56)]


async def test_comparison_queries(ds, seed_report):
    item = await get_json(ds, f"/{DB}/compare_item.json?_shape=array&code=2060101")
    assert any(r["report_id"] == seed_report and r["决算数"] == 12.05 for r in item)
    shares = [r for r in await get_json(ds, f"/{DB}/compare_shares.json?_shape=array&_size=max") if r["report_id"] == seed_report]
    assert shares[0]["科目名称"] == "科学技术支出" and shares[0]["占比（%）"] == 77.95
    assert abs(sum(r["占比（%）"] for r in shares) - 100) < 1
    totals = {r["report_id"]: r for r in await get_json(ds, f"/{DB}/compare_totals.json?_shape=array")}
    assert totals[seed_report]["一般公共预算财政拨款支出"] == 2540.24
    growth = await get_json(ds, f"/{DB}/compare_growth.json?department_id=")
    assert growth["columns"] == ["部门", "科目编码", "科目名称", "上年", "上年决算数", "本年", "本年决算数", "增减额", "增减率（%）"]
    three = await get_json(ds, f"/{DB}/compare_three_public.json?_shape=array")
    assert any(r["项目"] == "公务接待费" and r["决算数"] == 0.12 for r in three)
    # The same line has the same name in every report (a tester: 合计 for Putuo, “三公”经费 for the
    # seed; 公务用车购置及运行维护费 against 公务用车购置费及运行维护费), so rows line up.
    lines = {}
    for r in three:
        lines.setdefault(r["report_id"], set()).add(r["项目"])
    assert {"合计", "公务接待费", "因公出国（境）费", "公务用车购置及运行维护费"} <= set.intersection(*lines.values())



async def test_report_totals_one_row_per_report(ds, seed_report):
    rows = {r["report_id"]: r for r in await get_json(ds, f"/{DB}/report_totals.json?_shape=array")}
    assert len(rows) == 2
    # Putuo's tables: 表1 本年支出合计 2940.05, 表5 合计 line (2993.92 budgeted), 表7 合计 0.95 / 0.
    assert {k: v for k, v in rows["shanghai-putuo-czj-2024-final"].items() if k != "report_id"} == {
        "department_id": "shanghai-putuo-czj", "department": "上海市普陀区财政局", "year": 2024, "kind": "决算",
        "total_expenditure": 2940.05, "gpb_expenditure": 2940.05, "gpb_initial_budget": 2993.92,
        "gpb_basic": 2336.91, "gpb_project": 603.14, "three_public_budget": 0.95, "three_public_final": 0.0}
    # The seed's narrative: 本年支出合计2540.24万元; 表5's 基本支出 171.68 but not its 项目支出 (the
    # 2368.56 it states is 表3's, all funds): null, not a figure worked out.
    seed = rows[seed_report]
    assert (seed["total_expenditure"], seed["gpb_expenditure"], seed["gpb_initial_budget"], seed["gpb_basic"],
            seed["gpb_project"], seed["three_public_budget"], seed["three_public_final"]) == (
        2540.24, 2540.24, 643.62, 171.68, None, 0.5, 0.12)
    # compare_totals reads the same rows.
    totals = {r["report_id"]: r for r in await get_json(ds, f"/{DB}/compare_totals.json?_shape=array")}
    assert totals[seed_report]["财政拨款基本支出"] == 171.68 and totals[seed_report]["财政拨款项目支出"] is None
    # The page citizens open from the landing page: facets by year, kind and department; money in 万元.
    soup = soup_of(await ds.client.get(f"/{DB}/report_totals"))
    assert {f.get("data-column") for f in soup.select(".facet-info")} >= {"year", "kind", "department"}
    assert "2,940.05" in soup.get_text() and "各报告支出总览" in soup.select_one("h1").get_text()
    landing = soup_of(await ds.client.get("/"))
    assert landing.select_one(f'a[href="/{DB}/report_totals"]').get_text() == "各报告支出总览"

# ------------------------------------------------------------------------------- the JSON API

#: The fields of each table's rows: changing one breaks clients, so it breaks this test first.
ROW_FIELDS = {
    "reports": ["report_id", "department_id", "year", "kind", "title", "unit", "source_file", "source_sha256",
                "source_url", "tables_attached", "license", "notes"],
    "amounts": ["report_id", "table_no", "side", "line_no", "line_key", "classification_id", "code", "item",
                "measure", "amount", "code_certainty", "explanation", "source_kind", "source_page", "source_ref"],
    "statements": ["report_id", "statement_no", "section", "topic", "label", "value", "unit", "kind", "period",
                   "table_no", "line_key", "measure", "sentence", "source_page", "source_ref", "qualifier"],
    "budget_execution": ["report_id", "department_id", "department", "year", "code", "item", "class_code",
                         "class_name", "section_code", "level", "initial_budget", "final_amount",
                         "execution_rate_pct", "explanation"],
    "findings": ["id", "rule_id", "severity", "report_id", "message_zh", "message_en", "resource", "row_ref",
                 "fields", "expected", "stated", "difference", "tolerance", "source_ref"],
}
QUERY_FIELDS = {
    "report_overview": ["report_id", "报告", "部门", "年度", "类型", "来源文件", "来源网址", "使用条款", "备注", "支出合计",
                        "一般公共预算财政拨款支出", "年初预算数", "基本支出", "项目支出", "基本项目来源", "三公经费预算数",
                        "三公经费决算数", "校验错误", "校验提示"],
    "by_class": ["科目编码", "科目名称", "决算数", "占比"],
    "budget_vs_actual": ["科目编码", "科目名称", "年初预算数", "决算数", "执行率（%）", "原因说明"],
    "changes": ["指标", "本年数", "上年数", "增减额", "增减率（%）", "增减率原文", "上年数来源", "核对", "章节", "原文"],
    "search": ["来源", "类别", "标题", "内容", "数字", "报告", "report_id", "位置", "查看"],
    "compare_totals": ["report_id", "部门", "年度", "一般公共预算财政拨款支出", "年初预算数", "财政拨款基本支出",
                       "财政拨款项目支出", "三公经费决算数"],
    "compare_item": ["部门", "年度", "科目编码", "科目名称", "年初预算数", "决算数", "执行率（%）", "report_id"],
    "compare_shares": ["部门", "年度", "科目编码", "科目名称", "决算数", "占比（%）", "report_id"],
    "compare_three_public": ["部门", "年度", "项目", "预算数", "决算数", "report_id"],
}


@pytest.mark.parametrize("table", sorted(ROW_FIELDS))
async def test_table_json_fields(ds, table):
    data = await get_json(ds, f"/{DB}/{table}.json")
    assert data["columns"] == ROW_FIELDS[table]
    assert {"database", "table", "rows", "columns", "next", "next_url", "filtered_table_rows_count",
            "facet_results"} <= set(data)
    for row in await get_json(ds, f"/{DB}/{table}.json?_shape=array&_size=3"):
        assert list(row) == ROW_FIELDS[table]


async def test_a_change_says_where_the_checks_found_its_figure_wrong(ds):
    # Putuo p.21: "财政拨款收入支出总计0.3万元 ... 持平": 上年数 0.3 inferred from a figure 表4 prints
    # as 2,961.68 (narrative.table), shown without a word.
    rows = await get_json(ds, f"/{DB}/changes.json?_shape=array&report_id=shanghai-putuo-czj-2024-final")
    checked = {r["指标"]: r["核对"] for r in rows}
    assert checked["财政拨款收入支出总计"] == "第三部分 四 所述“财政拨款收入支出总计” 0.30 万元，表4 总计 决算数 为 2961.68 万元"
    assert [k for k, v in checked.items() if v] == ["财政拨款收入支出总计"]


@pytest.mark.parametrize("query", sorted(QUERY_FIELDS))
async def test_query_json_fields(ds, seed_report, query):
    data = await get_json(ds, f"/{DB}/{query}.json?report_id={seed_report}&q=科技&code=206")
    assert data["columns"] == QUERY_FIELDS[query]


async def test_queries_are_listed_with_params(ds):
    data = await get_json(ds, f"/{DB}.json")
    queries = {q["name"]: q for q in data["queries"]}
    assert set(STANDARD_QUERIES) | set(QUERY_FIELDS) | {"compare_growth"} <= set(queries)
    assert queries["search"]["params"] == ["q"]
    assert all(queries[q]["params"] == ["report_id"] for q in STANDARD_QUERIES)


async def test_pagination_with_next(ds):
    first = await get_json(ds, f"/{DB}/amounts.json?_size=5")
    assert len(first["rows"]) == 5 and first["next"] and first["next_url"]
    seen = [tuple(r) for r in first["rows"]]
    url = first["next_url"]
    while url:
        parts = urlsplit(url)
        page = await get_json(ds, f"{parts.path}?{parts.query}")
        seen += [tuple(r) for r in page["rows"]]
        url = page["next_url"]
    assert len(seen) == len(set(seen)) == first["filtered_table_rows_count"]
    response = await ds.client.get(f"/{DB}/amounts.json?_size=5&_shape=array")
    assert 'rel="next"' in response.headers["link"]


async def test_json_is_utf8_not_escaped_and_cors(ds):
    response = await ds.client.get(f"/{DB}/standard_tables.json?_shape=array", headers={"accept-encoding": "identity"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"].startswith("application/json")
    assert "收入支出决算总表".encode() in response.content
    assert b"\\u" not in response.content
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.json()[0]["title_zh"] == "收入支出决算总表"


async def test_csv_export_has_bom_for_excel(ds, seed_report):
    response = await ds.client.get(f"/{DB}/amounts.csv?report_id={seed_report}&_size=max")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ROW_FIELDS["amounts"]
    assert any(r["code"] == "206" and r["measure"] == "合计" and r["amount"] == "1980.21" for r in rows)
    download = await ds.client.get(f"/{DB}/report_table5.csv?report_id={seed_report}&_dl=1")
    assert download.headers["content-type"].startswith("text/csv")
    assert download.content.startswith("\ufeff科目编码,科目名称".encode())


async def test_data_package_is_downloadable(ds, site_package):
    descriptor = await get_json(ds, "/datapackage/datapackage.json")
    assert descriptor == json.loads((Path(site_package) / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        response = await ds.client.get(f"/datapackage/{resource['path']}", headers={"Origin": "https://example.org"})
        assert response.status_code == 200, resource["path"]
        assert response.content == (Path(site_package) / resource["path"]).read_bytes()
        # For a developer's page on another site, as the JSON API; and its text's encoding named.
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["content-type"] == f"text/csv; charset={resource.get('encoding', 'utf-8')}"
    whole = await ds.client.get("/datapackage/datapackage.json")
    assert whole.headers["content-type"] == "application/json; charset=utf-8"
    assert whole.headers["access-control-allow-origin"] == "*"
    assert (await ds.client.get("/datapackage/../metadata.yml")).status_code == 404


async def test_data_package_files_name_their_declared_encoding(tmp_path):
    from opendata.site.plugin import package_charsets

    (tmp_path / "datapackage.json").write_text(json.dumps({"resources": [
        {"name": "a", "path": "data/a.csv", "encoding": "GBK"}, {"name": "b", "path": ["b1.csv", "./b2.csv"]}]}))

    class Site:
        static_mounts = [("datapackage", str(tmp_path))]

    assert package_charsets(Site()) == {"/datapackage/datapackage.json": "utf-8", "/datapackage/data/a.csv": "gbk",
                                        "/datapackage/b1.csv": "utf-8", "/datapackage/b2.csv": "utf-8"}


async def test_read_only_and_limited(ds):
    settings = await get_json(ds, "/-/settings.json")
    assert settings["sql_time_limit_ms"] == 1000 and settings["max_returned_rows"] == 1000
    assert settings["suggest_facets"] is False
    response = await ds.client.get(f"/{DB}.json?sql=delete+from+reports")
    assert response.status_code == 400
    databases = await get_json(ds, "/-/databases.json")
    assert databases[0]["is_mutable"] is False


# -------------------------------------------------------------- the README's API examples

def api_examples() -> list[str]:
    """The URL each curl command of README.md's sh blocks requests, as curl sends it: ``-G`` with
    ``-d``/``--data-urlencode`` appends the data to the query (``BASE`` and ``REPORT`` for the
    variables)."""
    text = API_DOC.read_text(encoding="utf-8")
    urls = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if not line.startswith("curl "):
                continue
            args = shlex.split(line.replace("$BASE", "BASE").replace("$REPORT", "REPORT"), comments=True)
            url = next(a for a in args if a.startswith("BASE/"))
            data = []
            for option, value in zip(args, args[1:]):
                if option == "--data-urlencode":
                    name, _, raw = value.partition("=")
                    data.append(f"{name}={quote(raw, safe='')}")
                elif option == "-d":
                    data.append(value)
            if data:
                assert "-G" in args, line  # without it curl would POST the data
                url += ("&" if "?" in url else "?") + "&".join(data)
            urls.append(url)
    return urls


def test_docs_urls_are_what_curl_can_send():
    """A tester ran the README's examples: the ones with Chinese in the URL answered "400 Invalid
    HTTP request" (curl sends the bytes as they are; the server takes a percent-encoded URL only)."""
    for url in api_examples():
        assert url.isascii(), url


def test_docs_have_examples_for_every_topic():
    urls = " ".join(api_examples())
    for needle in ["/opendata.json", "_shape=array", "_facet=", "_size=5", "sql=", ".csv", "/datapackage/datapackage.json",
                   "search.json", "report_table5"]:
        assert needle in urls, needle


async def test_docs_variables_line(ds, seed_report):
    """The line that sets REPORT gets the latest report's id."""
    text = API_DOC.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("REPORT="))
    url = re.search(r'"\$BASE(/[^"]+)"', line).group(1)
    first = await get_json(ds, url)
    assert len(first) == 1 and isinstance(first[0], str)


async def readme_report(ds) -> str:
    """$REPORT as the README's variables line sets it (the latest report)."""
    line = next(x for x in API_DOC.read_text(encoding="utf-8").splitlines() if x.startswith("REPORT="))
    return (await get_json(ds, re.search(r'"\$BASE(/[^"]+)"', line).group(1)))[0]


@pytest.mark.parametrize("url", api_examples())
async def test_docs_example_runs(ds, url):
    # With $REPORT as the README sets it: a tester's run of the filter example gave [] (its code
    # 206 is not in the latest report, which the test did not use).
    path = url.replace("BASE", "", 1).replace("REPORT", await readme_report(ds))
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:300])
    query = parse_qs(urlsplit(path).query)
    if ".json" in path:
        data = response.json()
        assert data, path
        if query.get("_shape") == ["array"]:
            assert isinstance(data, list) and data, path
    elif (path.endswith(".csv") or ".csv?" in path) and not path.startswith("/datapackage/"):
        assert response.content.startswith(b"\xef\xbb\xbf")


# ---------------------------------------------- a report with all nine tables attached (Putuo 2024)

@pytest.fixture(scope="session")
def putuo_report(site_db) -> str:
    with sqlite3.connect(site_db) as conn:
        row = conn.execute("select report_id from reports r join departments d using (department_id) "
                           "where d.name = '上海市普陀区财政局' and r.year = 2024").fetchone()
    if not row:
        pytest.skip("the Putuo 2024 report is not in the package yet")
    return row[0]


async def test_putuo_tables_as_published(ds, putuo_report):
    overview = (await get_json(ds, f"/{DB}/report_overview.json?_shape=array&report_id={putuo_report}"))[0]
    assert overview["支出合计"] == 2940.05 and overview["基本支出"] == 2336.91 and overview["项目支出"] == 603.14
    assert overview["基本项目来源"] == "表3 支出决算表"
    # 芦淞's report has no tables: its 表3 figures are the narrative's (the landing page said 数据来自表3).
    seed = (await get_json(ds, f"/{DB}/report_overview.json?_shape=array&report_id=zhuzhou-lusong-kjgxj-2020-final"))[0]
    assert seed["基本项目来源"] == "情况说明（所述表3 支出决算表的数字）"
    t1 = await get_json(ds, f"/{DB}/report_table1.json?_shape=array&report_id={putuo_report}")
    assert t1[0] == {"收入项目": "一般公共预算财政拨款收入", "收入决算数": 2940.05, "收入出处": "表1 第1行 (p.6)",
                     "支出项目": "一般公共服务支出", "支出决算数": 2106.66, "支出出处": "表1 第1行 (p.6)"}
    t5 = {r["科目编码"]: r["出处"] for r in await get_json(
        ds, f"/{DB}/report_table5.json?_shape=array&report_id={putuo_report}")}
    # 行政运行's 年初预算数 is the narrative's (the PDF's 表5 prints none): the table's line, 等.
    assert t5["201"] == "表5 第1行 (p.15)" and t5["2010601"] == "表5 第3行 (p.15) 等"
    assert {"收入项目": "总计", "收入决算数": 2995.39} .items() <= next(r for r in t1 if r["收入项目"] == "总计").items()
    status = await get_json(ds, f"/{DB}/report_tables.json?_shape=array&report_id={putuo_report}")
    assert {r["table_no"]: r["status"] for r in status}[8] == "empty"
    soup = soup_of(await ds.client.get(f"/{DB}/report_tables?report_id={putuo_report}"))
    assert "空表" in soup.get_text()


async def test_database_page_lists_tables_and_queries_in_chinese(ds):
    soup = soup_of(await ds.client.get(f"/{DB}"))
    assert soup.h1.get_text(strip=True) == "部门决算数据库"
    text = soup.get_text(" ")
    assert "数据表" in text and "查询" in text and "视图" in text
    titles = [a.get_text(strip=True) for a in soup.select(".db-table h3 a")]
    assert "决算表数据（万元）" in titles and "校验结果" in titles
    assert soup.find("a", string="表 5 一般公共预算财政拨款支出决算表（万元）")
    # Each table's columns by their Chinese labels (they were listed as report_id, table_no...).
    amounts = next(d for d in soup.select(".db-table") if d.select_one("h3 code").get_text() == "amounts")
    columns = amounts.select("p em span")
    assert [c.get_text() for c in columns][:4] == ["报告", "表号", "收入或支出", "行次"]
    assert [c["title"] for c in columns][:4] == ["report_id", "table_no", "side", "line_no"]


# ------------------------------------------------------------------------- findings lead to their rows

async def test_findings_link_to_the_rows_concerned(ds):
    """From a finding, one click shows the figures it is about (here Putuo's 0.3 万元 against 表4)."""
    findings = await get_json(ds, f"/{DB}/findings.json?_shape=array&rule_id=narrative.table")
    if not findings:
        pytest.skip("the package under test has no narrative.table finding")
    soup = soup_of(await ds.client.get(f"/{DB}/findings?rule_id=narrative.table"))
    links = {a["title"].split(":")[0]: a["href"] for a in soup.select("td.col-row_ref a")}
    assert set(links) == {"statements", "amounts"}
    # Each link names its rows in Chinese: the table's title, the columns' labels.
    texts = sorted(a.get_text(strip=True) for a in soup.select("td.col-row_ref a"))
    assert texts == ["决算表数据（万元）：表号 4，收入或支出 收入，行标识 总计，栏目 决算数", "情况说明中的数字：序号 14"]
    statement = await get_json(ds, links["statements"].replace(f"/{DB}/statements?", f"/{DB}/statements.json?_shape=array&"))
    assert [s["value"] for s in statement] == [findings[0]["stated"]]
    amount = await get_json(ds, links["amounts"].replace(f"/{DB}/amounts?", f"/{DB}/amounts.json?_shape=array&"))
    assert [a["amount"] for a in amount] == [findings[0]["expected"]]


async def test_findings_name_their_rule_in_chinese(ds):
    """The ``rules`` table: every rule the build ran, with its Chinese title, which a finding's
    rule_id points to (a foreign key: facets and ``_labels=on`` show the title)."""
    from opendata.rules import rule_ids

    rules = await get_json(ds, f"/{DB}/rules.json?_shape=array&_size=max")
    assert [r["rule_id"] for r in rules] == sorted(rule_ids())
    titles = {r["rule_id"]: r["title_zh"] for r in rules}
    assert titles["hierarchy.section"] == "款 = Σ 项" and titles["narrative.table"] == "情况说明数字 = 表中数字"
    found = await get_json(ds, f"/{DB}/findings.json?_shape=array&_labels=on&rule_id=ratio.execution_rate")
    assert found and found[0]["rule_id"] == {"value": "ratio.execution_rate", "label": titles["ratio.execution_rate"]}
    facet = await get_json(ds, f"/{DB}/findings.json?_facet=rule_id")
    labels = {r["value"]: r["label"] for r in facet["facet_results"]["rule_id"]["results"]}
    assert labels["ratio.execution_rate"] == "完成预算比例 = 决算数 ÷ 预算数"
    soup = soup_of(await ds.client.get(f"/{DB}/findings?rule_id=ratio.execution_rate"))
    assert soup.select_one("td.col-severity").get_text(strip=True) == "错误"
    assert soup.select_one("td.col-resource").get_text(strip=True) == "情况说明中的数字"
    assert soup.select_one("td.col-fields").get_text(strip=True) == "数值"
    assert [li.get_text(" ", strip=True).split()[0] for li in soup.select("#facet-severity li")] == ["错误"]


async def test_ratio_findings_link_to_the_figures_they_use(ds):
    soup = soup_of(await ds.client.get(f"/{DB}/findings?rule_id=ratio.execution_rate"))
    hrefs = [a["href"] for a in soup.select("td.col-row_ref a")]
    assert any("statement_no__in=" in h for h in hrefs), hrefs
    used = next(h for h in hrefs if "statement_no__in=" in h)
    rows = await get_json(ds, used.replace(f"/{DB}/statements?", f"/{DB}/statements.json?_shape=array&"))
    assert sorted(r["value"] for r in rows) == [12.05, 305.62]  # 行政运行 (2060101): 决算数 and 年初预算数


async def test_finding_figures_are_shown_in_their_unit(ds):
    # The seed's stated 4.1% execution rate (recomputed 3.94%) was shown as "4.1 万元" (a tester).
    soup = soup_of(await ds.client.get(f"/{DB}/findings?rule_id=ratio.execution_rate"))
    cells = {c: soup.select_one(f"td.col-{c}").get_text(" ", strip=True) for c in ("expected", "stated")}
    assert cells == {"expected": "3.94 %", "stated": "4.10 %"}
    money = soup_of(await ds.client.get(f"/{DB}/findings?rule_id=narrative.table"))
    assert money.select_one("td.col-stated").get_text(" ", strip=True).endswith("万元")


async def test_class_facet_groups_lines_under_their_class(ds, seed_report):
    """类 as a facet: the seed's 科学技术支出 has its 类 line and eight 项 lines (五（三）3-10) in 表5."""
    data = await get_json(ds, f"/{DB}/table5_gpb_expenditure.json?report_id={seed_report}&_facet=class_name")
    counts = {r["value"]: r["count"] for r in data["facet_results"]["class_name"]["results"]}
    assert counts["科学技术支出"] == 9 and counts["一般公共服务支出"] == 3


async def test_row_page_is_chinese_and_lists_the_rows_that_point_to_it(ds, seed_report):
    soup = soup_of(await ds.client.get(f"/{DB}/reports/{seed_report}"))
    assert soup.h1.get_text(strip=True).startswith("报告")
    text = soup.get_text()
    assert "本行数据" in text and "This data as" not in text
    assert "引用本行的数据" in text and "决算表数据（万元）：71 行（报告）" in " ".join(text.split())
    # The row's columns one under the other, each by its Chinese label.
    record = {th.get_text(strip=True): td.get_text(" ", strip=True) for th, td in
              (tr.select("th, td") for tr in soup.select("table.row-record tr"))}
    assert record["年度"] == "2020" and record["报告编号"] == seed_report
    # A foreign key shows the row it names, as the table pages do, linked (a tester saw a bare id).
    assert record["部门"] == "株洲市芦淞区科技和工业信息化局 zhuzhou-lusong-kjgxj"
    link = soup.select_one("table.row-record td.col-department_id a")
    assert link["href"] == f"/{DB}/departments/zhuzhou-lusong-kjgxj"
    assert (await ds.client.get(link["href"])).status_code == 200
    assert record["报告标题（原文）"] == "2020年度株洲市芦淞区科技和工业信息化局部门决算"
    # The database by its title in the breadcrumbs, as the landing page names it (it read "opendata").
    assert soup.select_one("p.crumbs").get_text(" ", strip=True) == "首页 / 部门决算数据库 / 报告"
    # Headed by its title, not its id (the table's label column; the id stays in the record).
    assert soup.select_one("h1").get_text(strip=True) == "报告：2020年度株洲市芦淞区科技和工业信息化局部门决算"


async def test_search_names_each_source_in_chinese(ds):
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=行政运行")
    assert {r["类别"] for r in rows} >= {"决算表", "科目"}
    assert all(r["类别"] for r in rows)
    # The page shows citizens the Chinese columns; the codes (来源 amounts, report_id, 位置) stay in
    # the JSON and CSV (hidden_columns in metadata.yml).
    soup = soup_of(await ds.client.get(f"/{DB}/search?q=行政运行"))
    assert [th.get_text() for th in soup.select("table.rows-and-columns th")] == ["类别", "标题", "内容", "数字", "报告", "查看"]
    assert len(soup.select("table.rows-and-columns tbody tr")) == len(rows)
    assert all(len(tr.select("td")) == 6 for tr in soup.select("table.rows-and-columns tbody tr"))
    assert {"来源", "report_id", "位置"} <= set(rows[0])


async def test_filter_description_is_chinese(ds):
    soup = soup_of(await ds.client.get(f"/{DB}/amounts?table_no=5&item__contains=行政&_sort_desc=amount"))
    heading = soup.select_one("h3").get_text(" ", strip=True)
    assert "筛选条件" in heading and "包含" in heading and "降序排列" in heading
    assert "where" not in heading and "sorted by" not in heading


async def test_no_rows_message_is_chinese(ds):
    soup = soup_of(await ds.client.get(f"/{DB}/amounts?report_id=no-such-report"))
    assert soup.select_one(".zero-results").get_text(strip=True) == "没有符合条件的行"
    assert "0 records" not in soup.get_text()


def test_layout_views_read_tables_built_once_in_printed_order(site_db: Path) -> None:
    from opendata.layouts import TABLE_VIEWS, layout_queries, layout_table

    with sqlite3.connect(site_db) as conn:
        for view, sql in layout_queries():
            # A page of the view reads its table of lines, not amounts (1-3 s at 10^6 rows before).
            plan = " ".join(r[3] for r in conn.execute(f"explain query plan select * from [{view}] limit 51"))
            assert "amounts" not in plan and layout_table(view) in plan, (view, plan)
            # The same rows, in the same order, as the GROUP BY over amounts.
            assert conn.execute(f"select * from [{view}]").fetchall() == conn.execute(sql).fetchall(), view
        assert len(TABLE_VIEWS) == 9
        putuo = "shanghai-putuo-czj-2024-final"
        lines = conn.execute("select side, line_no, code, [合计] from table5_gpb_expenditure where report_id = ?",
                             (putuo,)).fetchall()
        assert [r[:2] for r in lines] == sorted(r[:2] for r in lines) and len(lines) > 10
        # Putuo's 表5 in line order: 201 一般公共服务支出 2106.66 first, 合计 2940.05 on line 20.
        assert lines[:3] == [("支出", 1, "201", 2106.66), ("支出", 2, "20106", 2106.66), ("支出", 3, "2010601", 1511.89)]
        assert lines[-1] == ("支出", 20, None, 2940.05)
        assert conn.execute("select item, initial_budget, final_amount from budget_execution "
                            "where report_id = ? and code = '2010601'", (putuo,)).fetchall() == [("行政运行", 1560.05, 1511.89)]
        # The seed's 表5 total line is named as its 合计 figure is (a tester saw it under the name of
        # its 基本支出 figure, 一般公共预算财政拨款基本支出, at the top of the page sorted by rate).
        assert conn.execute("select item, initial_budget, final_amount, execution_rate_pct from budget_execution "
                            "where report_id = 'zhuzhou-lusong-kjgxj-2020-final' and code is null").fetchall() == [
            ("一般公共预算财政拨款支出", 643.62, 2540.24, 394.7)]


def test_implied_last_year_is_read_from_a_table_built_once(site_db: Path) -> None:
    from opendata.rules.views import IMPLIED_LAST_YEAR_SQL

    with sqlite3.connect(site_db) as conn:
        plan = " ".join(r[3] for r in conn.execute("explain query plan select * from implied_last_year"))
        assert "statements" not in plan and "_implied_last_year" in plan, plan
        # The rows the rules' query gives, by report and statement.
        live = conn.execute(f"select * from ({IMPLIED_LAST_YEAR_SQL}) order by report_id, statement_no").fetchall()
        assert conn.execute("select * from implied_last_year").fetchall() == live and len(live) > 10
        # The seed's 2020 total implies 1907.73 万元 for 2019, whose report the shipped package lacks.
        row = conn.execute("select implied_last_year, last_year_value from implied_last_year "
                           "where report_id = 'zhuzhou-lusong-kjgxj-2020-final' and topic = 'total.change'").fetchone()
        assert row == (1907.73, None)


def test_comparison_queries_read_their_indexes(site_db):
    """compare_totals walks report_totals in its order (no sort of every report): an index the build
    adds to its table (layouts.LAYOUT_INDEXES); the rows in the order the query asks. (compare_item's
    index: test_comparisons, on a corpus where reading it beats a scan of 45 rows.)"""
    import sqlite3

    import yaml

    queries = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))["databases"][DB]["queries"]
    with sqlite3.connect(site_db) as conn:
        plans = {name: " | ".join(r[3] for r in conn.execute("explain query plan " + queries[name]["sql"],
                                                             {"code": "2060101"}))
                 for name in ("compare_totals",)}
        rows = conn.execute(queries["compare_totals"]["sql"]).fetchall()
    assert "USING INDEX" in plans["compare_totals"] and "TEMP B-TREE" not in plans["compare_totals"], plans
    assert [(r[1], r[2], r[0]) for r in rows] == sorted((r[1], r[2], r[0]) for r in rows) and len(rows) == 2


def test_column_labels_from_descriptions():
    """A label is the description's first phrase; a short bracket stays, an explaining one goes."""
    from opendata.site.column_labels import column_label, labelled_description

    columns = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["opendata"]["tables"]
    findings, amounts = columns["findings"]["columns"], columns["amounts"]["columns"]
    assert [column_label(c, findings) for c in ("severity", "message_zh", "message_en", "expected", "stated")] == [
        "严重程度", "说明（中文）", "说明（英文）", "按规则计算应为", "报告所载"]
    assert column_label("source_ref", amounts) == "出处"
    assert column_label("share_pct", columns["class_shares"]["columns"]) == "占表 5 合计的比例（%）"
    assert column_label("no_such_column", amounts) == "no_such_column" == column_label("no_such_column", None)
    assert labelled_description("where measure = 决算数 and table_no = 5 sorted by amount descending", amounts) == \
        "where 栏目 = 决算数 and 表号 = 5 sorted by 金额 descending"
    # Labels of one table differ from each other (a header or filter could not tell two apart).
    for table, meta in columns.items():
        labels = [column_label(c, meta.get("columns")) for c in meta.get("columns") or {}]
        assert len(labels) == len(set(labels)), table


async def test_a_default_facet_asked_for_is_shown_once(ds):
    """The README's facet example (a tester): table_no and measure, facets of amounts by default,
    came back twice (table_no_2, measure_2 in the JSON; two boxes with one id on the page)."""
    data = (await ds.client.get("/opendata/amounts.json?_facet=table_no&_facet=measure&_size=0")).json()
    assert sorted(data["facet_results"]) == ["measure", "report_id", "source_kind", "table_no"]
    page = (await ds.client.get("/opendata/amounts?_facet=table_no&_facet=code")).text
    assert page.count('id="facet-table_no"') == 1 and page.count('id="facet-code"') == 1
    # A page without default facets keeps what it asks for.
    data = (await ds.client.get("/opendata/rules.json?_facet=severity&_facet=severity")).json()
    assert list(data["facet_results"]) == ["severity"]


def test_a_finding_on_two_rows_of_one_table_links_both(ds):
    """narrative.repeat names two statements (statement_no=22 vs statement_no=21): the link opened
    only the second."""
    from opendata.site.cell_values import rows_links

    html = rows_links(ds, DB, "statements", "r1", "statement_no=22 vs statement_no=21 topic=gpb.class.share")
    link = BeautifulSoup(html, "html.parser").a
    assert link["href"] == f"/{DB}/statements?report_id=r1&statement_no__in=22%2C21"
    assert link.get_text() == "情况说明中的数字：序号 22、21"


async def test_a_database_of_any_file_name_is_the_site(site_db, site_package, tmp_path):
    """A tester served a build written to corpus.db: it was served as /corpus, which metadata.yml
    does not describe (no named queries, so no landing page charts; English headers)."""
    import shutil

    corpus = tmp_path / "corpus.db"
    shutil.copy(site_db, corpus)
    shutil.copy(site_db.with_suffix(".inspect.json"), corpus.with_suffix(".inspect.json"))
    other = make_app(corpus, metadata=METADATA, package_dir=site_package)
    assert [d for d in other.databases if not d.startswith("_")] == [DB]
    overview = (await other.client.get(f"/{DB}/report_overview.json?_shape=array&report_id=shanghai-putuo-czj-2024-final")).json()
    assert [r["部门"] for r in overview] == ["上海市普陀区财政局"]
    tables = {t["name"]: t for t in (await other.client.get(f"/{DB}.json")).json()["tables"]}
    assert tables["amounts"]["count"] == 283 and tables["_facet_counts"]["hidden"] is True
    assert (await other.client.get("/corpus.json")).status_code == 404


@pytest.mark.parametrize("path", [
    "/findings.json?_labels=on&_col=rule_id&_size=2",  # sorted by severity in metadata.yml
    "/findings?_col=rule_id&_size=2",
    "/findings?_nocol=severity&_size=2",
    "/reports.json?_labels=on&_col=department_id&_size=1",
    "/amounts.json?_labels=on&_col=amount&_sort=line_no&_size=2",
    "/amounts?_col=amount&_sort_desc=amount&_size=2",
])
async def test_a_sorted_page_without_its_sort_column_is_answered(ds, path):
    """Datasette 0.65 answered 500 (KeyError) for a sorted page that did not show its sort column
    (a tester, from the README's _labels and _col; the column menu's "hide" did it too): the sort
    column is kept among the page's columns, and its next page still follows."""
    r = await ds.client.get(f"/{DB}{path}")
    assert r.status_code == 200, r.text[:300]
    if ".json" in path:
        data = r.json()
        sort = {"findings": "severity", "reports": "year", "amounts": "line_no"}[path.split(".")[0].strip("/")]
        assert sort in data["columns"] and data["next_url"]
        following = urlsplit(data["next_url"])
        assert (await ds.client.get(f"{following.path}?{following.query}")).status_code == 200


@pytest.mark.parametrize("path, column, shown, codes", [
    ("/report_tables?_facet=status", "status", {"已附", "空表", "未附"}, {"attached", "empty", "not_attached"}),
    ("/amounts?_facet=source_kind", "source_kind", {"附表", "情况说明原文"}, {"table", "narrative"}),
    ("/statements?_facet=kind", "kind", {"金额", "增减额", "占比"}, {"amount", "change", "share"}),
])
async def test_coded_values_are_shown_in_chinese(ds, path, column, shown, codes):
    """A tester saw attached/not_attached, table/narrative, amount/change... in cells and facets;
    the JSON keeps the codes."""
    soup = soup_of(await ds.client.get(f"/{DB}{path}"))
    cells = {td.get_text() for td in soup.select(f"td.col-{column}")}
    facet = {a.get_text() for a in soup.select(f"#facet-{column} li a")}
    assert cells & shown and not cells & codes
    assert shown <= facet and not facet & codes
    data = await get_json(ds, f"/{DB}{path.split('?')[0]}.json?_shape=array&_size=max")
    assert codes <= {r[column] for r in data}


@pytest.mark.parametrize("path", ["/opendata/compare_totals", "/opendata/compare_item?code=2060101",
                                  "/opendata/compare_three_public"])
async def test_a_named_querys_report_ids_are_headed_in_chinese_and_open_the_report(ds, path):
    # A citizen read a column headed report_id, its ids not linked (the JSON keeps the name); then
    # a column of ids (zhuzhou-lusong-kjgxj-2020-final), keys for machines, not words.
    seed = "zhuzhou-lusong-kjgxj-2020-final"
    page = BeautifulSoup((await ds.client.get(path.format(seed=seed))).text, "html.parser")
    # (One row reads down the page: its headers are the record's.)
    headers = [th.get_text() for th in page.select("table.rows-and-columns th, table.row-record th")]
    assert "报告" in headers and "report_id" not in headers, headers
    links = {a["href"]: (a.get_text(), a["title"]) for a in page.select("td.col-report_id a")}
    assert links[f"/{DB}/reports/{seed}"] == ("查看报告", seed), links
    assert seed not in page.select_one("table.rows-and-columns tbody, table.row-record").get_text()
    assert (await ds.client.get(f"/{DB}/reports/{seed}")).status_code == 200
    data = await get_json(ds, path.format(seed=seed).replace("?", ".json?", 1) if "?" in path else path + ".json")
    assert "report_id" in data["columns"]


async def test_yes_and_no_are_shown_in_chinese(ds):
    # The report page said 是否附有 9 张决算表: 0 (a tester); the JSON keeps 1 and 0.
    page = BeautifulSoup((await ds.client.get(f"/{DB}/reports/zhuzhou-lusong-kjgxj-2020-final")).text, "html.parser")
    assert [td.get_text() for td in page.select("td.col-tables_attached")] == ["否"]
    listing = BeautifulSoup((await ds.client.get(f"/{DB}/reports?_sort=report_id")).text, "html.parser")
    assert [td.get_text() for td in listing.select("td.col-tables_attached")] == ["是", "否"]
    projects = BeautifulSoup((await ds.client.get(f"/{DB}/projects?_facet=in_initial_budget")).text, "html.parser")
    assert {li.get_text(" ", strip=True).split()[0] for li in projects.select("#facet-in_initial_budget li")} == {"是", "否"}
    assert [r["tables_attached"] for r in await get_json(ds, f"/{DB}/reports.json?_shape=array&_sort=report_id")] == [1, 0]


@pytest.mark.parametrize("path, words", [
    ("/opendata/amounts?_sort=nosuch", "不能按“nosuch”排序：没有这一列，或这一列不能排序（Cannot sort table by nosuch）"),
    ("/opendata/amounts?_size=5000", "每页最多 1000 行（_size must be <= 1000）"),
    ("/opendata/amounts?_col=nosuch", "没有“nosuch”这一列（_col=nosuch - invalid columns）"),
    ("/opendata/amounts?_facet=nosuch", "没有“nosuch”这一列（no such column: nosuch）"),  # refused before any SQL runs
    ("/opendata/amounts?_next=garbage", "翻页参数 _next 无效：请用上一页给出的下一页链接（_next: not a page token"),
    ("/opendata?sql=select+*+from+nosuch", "没有“nosuch”这个表（no such table: nosuch）"),
    ("/opendata?sql=delete+from+amounts", "只能执行 SELECT 查询（Statement must be a SELECT）"),
    # English only before
    ("/opendata/amounts?amount__in=%5B1", "amount__in 须为逗号分隔的值，或 JSON 列表"),
    ("/opendata/amounts?_through=x", "_through 须为含 table、column 和 value 的 JSON 对象"),
    ("/opendata/amounts?_timelimit=abc", "_timelimit 须为正整数（毫秒）"),
    ("/opendata/amounts?amount__gt=99999999999999999999999999", "参数中的数字过大"),
    ("/opendata/amounts?_facet_array=measure", "“measure”列的值不是 JSON 列表"),
])
async def test_a_bad_requests_page_says_what_is_wrong_in_chinese(ds, path, words):
    # The 400 pages gave Datasette's words in English only ("Cannot sort table by nosuch").
    r = await ds.client.get(path)
    page = BeautifulSoup(r.text, "html.parser")
    shown = " ".join(el.get_text(" ", strip=True) for el in page.select(".error-detail, .message-error"))
    assert r.status_code == 400 and words in shown, shown


async def test_a_query_for_a_report_that_is_not_there_asks_to_check_its_id(ds):
    # report_table5?report_id=nosuch said only 没有结果.
    page = BeautifulSoup((await ds.client.get(f"/{DB}/report_table5?report_id=nosuch")).text, "html.parser")
    said = page.select_one(".zero-results")
    assert said.get_text(" ", strip=True) == "没有结果：请核对报告编号“nosuch”（各报告的编号见 报告 表）"
    assert said.select_one("a")["href"] == f"/{DB}/reports"
    empty = BeautifulSoup((await ds.client.get(f"/{DB}/search?q=不存在的词语")).text, "html.parser")
    assert empty.select_one(".zero-results").get_text(strip=True).startswith("没有找到“不存在的词语”。提示")


@pytest.mark.parametrize("path, said", [
    # The report says it has no such income or expenditure: the page told the citizen to check its id.
    (f"/{DB}/report_table8?report_id=shanghai-putuo-czj-2024-final",
     "本表无数据（报告说明：上海市普陀区财政局2024年度无政府性基金预算财政拨款收入和支出。）"),
    (f"/{DB}/report_table9?report_id=zhuzhou-lusong-kjgxj-2020-final",
     "本表无数据（报告说明：本单位没有使用国有资本经营预算安排的支出。）"),
    (f"/{DB}/report_table5?report_id=nosuch", "没有结果：请核对报告编号“nosuch”"),
])
async def test_an_empty_standard_table_says_why(ds, path, said):
    soup = soup_of(await ds.client.get(path))
    assert soup.select_one("p.zero-results").get_text(strip=True).startswith(said)


async def test_a_whole_count_is_shown_as_one(ds):
    # 编报绩效目标的 4.0 个 (Putuo, 第三部分 十): a count of projects shown with a decimal.
    soup = soup_of(await ds.client.get(f"/{DB}/statements?report_id=shanghai-putuo-czj-2024-final&unit=个"))
    values = {td.get_text() for td in soup.select("td.col-value")}
    assert values and all(re.fullmatch(r"\d+个", v) for v in values), values


@pytest.mark.parametrize("path, name", [
    # Its key, "shanghai-putuo-czj-2024-final, 5, 支出, 201, 合计", was the page's name.
    (f"/{DB}/amounts/shanghai-putuo-czj-2024-final,5,~E6~94~AF~E5~87~BA,201,~E5~90~88~E8~AE~A1",
     "决算表数据（万元）：表5 一般公共服务支出（合计）"),
    (f"/{DB}/statements/shanghai-putuo-czj-2024-final,14", "情况说明中的数字：第三部分 四 财政拨款收入支出总计"),
    (f"/{DB}/reports/shanghai-putuo-czj-2024-final", "报告：2024年度上海市普陀区财政局部门决算"),  # its label column
])
async def test_a_row_page_is_named_by_what_it_holds(ds, path, name):
    soup = soup_of(await ds.client.get(path))
    assert soup.select_one("h1").get_text(strip=True) == name and soup.title.get_text(strip=True) == name


async def test_a_report_query_names_its_report_or_offers_the_reports(ds):
    # A standard table's page named no report (only its id in the parameter box), and without one
    # said 没有结果: a citizen did not know what to type.
    soup = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id=shanghai-putuo-czj-2024-final"))
    named = soup.select_one("p.report-named a")
    assert named.get_text() == "2024年度上海市普陀区财政局部门决算"
    assert named["href"] == f"/{DB}/reports/shanghai-putuo-czj-2024-final"
    assert soup.select_one("p.report-others") is None  # the department's only report
    for path in (f"/{DB}/report_table5", f"/{DB}/report_table5?report_id="):
        choices = soup_of(await ds.client.get(path)).select(".report-choices li a")
        assert [(a.get_text(), a["href"]) for a in choices] == [
            ("2024年度上海市普陀区财政局部门决算", "?report_id=shanghai-putuo-czj-2024-final"),
            ("2020年度株洲市芦淞区科技和工业信息化局部门决算", "?report_id=zhuzhou-lusong-kjgxj-2020-final")]
    assert soup_of(await ds.client.get(f"/{DB}/compare_totals")).select_one(".report-choices") is None


async def test_the_landing_page_lists_the_data_to_download(ds, site_db):
    # Its "下载数据包" link opened the descriptor's JSON (English, raw) on a citizen's phone.
    soup = soup_of(await ds.client.get("/"))
    links = [(a.get_text(), a["href"]) for a in soup.select("ul.downloads a")]
    assert ("决算表数据", "/datapackage/data/amounts.csv") in links and ("报告", "/datapackage/data/reports.csv") in links
    # Beside each package file (UTF-8 without a BOM: garbled in Excel on a Chinese Windows), the
    # table's CSV with a BOM, every row of it.
    assert ("Excel 可直接打开", "/opendata/amounts.csv?_dl=on&_labels=on&_header=zh") in links
    for _, href in links:
        assert (await ds.client.get(href)).status_code == 200, href
    excel = await ds.client.get("/opendata/amounts.csv?_dl=on")
    assert excel.content.startswith("\ufeff".encode()) and len(excel.text.splitlines()) == 1 + 283
    assert soup.select_one("footer a[href='/#downloads']").get_text() == "下载数据"
    bare = make_app(site_db, metadata=METADATA)  # no package served: nothing offered
    assert not soup_of(await bare.client.get("/")).select("ul.downloads, footer a[href='/#downloads']")


async def test_table_7_of_a_report_that_is_not_there_is_empty(ds):
    # It gave its two lines (预算数, 决算数) of nulls for any id: a blank 表7 instead of 请核对报告编号.
    assert await get_json(ds, f"/{DB}/report_table7.json?report_id=nope&_shape=array") == []
    rows = await get_json(ds, f"/{DB}/report_table7.json?report_id=shanghai-putuo-czj-2024-final&_shape=array")
    assert [(r["栏目"], r["合计"]) for r in rows] == [("预算数", 0.95), ("决算数", 0.0)]  # p.18


async def test_a_percentage_is_shown_as_the_report_prints_it(ds):
    # changes showed -1.9% beside the report's own "下降1.87%" (第三部分 一).
    soup = soup_of(await ds.client.get(f"/{DB}/changes?report_id=shanghai-putuo-czj-2024-final"))
    assert "-1.87%" in [td.get_text() for td in soup.select("td")]


async def test_terms_not_stated_are_said_in_chinese_on_a_reports_page(ds):
    soup = soup_of(await ds.client.get(f"/{DB}/reports/shanghai-putuo-czj-2024-final"))
    cells = [td.get_text(strip=True) for td in soup.select("td")]
    assert "发布单位未声明" in cells and "not stated" not in cells
    row = await get_json(ds, f"/{DB}/reports/shanghai-putuo-czj-2024-final.json?_shape=array")
    assert row[0]["license"] == "not stated"  # the data as published: the API unchanged


async def test_a_rows_link_says_what_the_row_holds(ds):
    # The 详情 links of amounts and statements were their keys ("shanghai-putuo-czj-2024-final,1,支出,201,决算数").
    soup = soup_of(await ds.client.get(f"/{DB}/amounts?report_id=shanghai-putuo-czj-2024-final&table_no=5&line_key=201"))
    links = {a.get_text(): a["href"] for a in soup.select("td.col-Link a")}
    assert set(links) == {"表5 一般公共服务支出（合计）", "表5 一般公共服务支出（基本支出）",
                          "表5 一般公共服务支出（项目支出）"}  # p.15
    page = soup_of(await ds.client.get(links["表5 一般公共服务支出（合计）"]))
    assert page.select_one("h1").get_text(strip=True) == "决算表数据（万元）：表5 一般公共服务支出（合计）"
