"""The views' pages (the standard tables by report, the implied last year's figures) in Chinese:
headed by their columns' Chinese names, a report's id as a link to it, computed money to 0.01."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from opendata.site.app import make_app
from test_site import DB, METADATA, soup_of

VIEWS = ["table1_income_expenditure_summary", "table2_income", "table3_expenditure", "table4_fiscal_summary",
         "table5_gpb_expenditure", "table6_gpb_basic_expenditure", "table7_three_public", "implied_last_year",
         "budget_execution", "report_totals", "year_on_year", "class_shares"]


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


def test_every_column_of_every_view_has_a_chinese_name(site_db):
    tables = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"][DB]["tables"]
    with sqlite3.connect(site_db) as conn:
        views = [name for (name,) in conn.execute("select name from sqlite_master where type = 'view'")]
        missing = {view: [c for (c,) in conn.execute("select name from pragma_table_info(?)", [view])
                          if c.isascii() and c not in tables[view].get("columns", {})] for view in views}
    assert set(VIEWS) <= set(views)
    assert not {view: columns for view, columns in missing.items() if columns}


@pytest.mark.parametrize("view", [v for v in VIEWS if v != "year_on_year"])  # no two years of one department
async def test_a_views_columns_are_headed_in_chinese(ds, view):
    # table7_three_public was headed report_id, department, year, side, line_no, code, item.
    page = soup_of(await ds.client.get(f"/{DB}/{view}"))
    headers = [th.get_text(" ", strip=True) for th in page.select("table.rows-and-columns th")]
    assert headers and not [h for h in headers if h.isascii()], headers


async def test_a_views_report_id_links_to_the_report(ds):
    page = soup_of(await ds.client.get(f"/{DB}/table7_three_public?report_id=zhuzhou-lusong-kjgxj-2020-final"))
    links = {(a.get_text(), a["href"], a["title"]) for a in page.select("td.col-report_id a")}
    assert links == {("查看报告", f"/{DB}/reports/zhuzhou-lusong-kjgxj-2020-final", "zhuzhou-lusong-kjgxj-2020-final")}


async def test_an_implied_figure_is_shown_to_the_hundredth_and_its_kind_in_chinese(ds):
    # 增长33.2% of 2540.24 implies 1908.078078...: shown so, it read as a figure of the report.
    page = soup_of(await ds.client.get(
        f"/{DB}/implied_last_year?report_id=zhuzhou-lusong-kjgxj-2020-final&statement_no=5"))
    row = page.select_one("table.rows-and-columns tbody tr")
    implied = row.select_one("td.col-implied_last_year span.num")
    assert (implied.get_text(), implied["title"]) == ("1,908.08", "1908.078078")
    assert row.select_one("td.col-kind").get_text(strip=True) == "增减率"
    assert row.select_one("td.col-growth_rate").get_text(strip=True) == "33.2%"


@pytest.mark.parametrize("typed, codes", [
    ("行政运行", ["2010601", "2010301", "2060101"]),  # the same name under three 类: every one
    ("科学技术", ["206"]), ("科学技术支出", ["206"]), (" 206 ", ["206"]), ("206", ["206"])])
async def test_an_item_is_compared_by_its_code_or_its_name(ds, typed, codes):
    # compare_item?code=教育 (or 205 pasted with a space) said 没有结果.
    from urllib.parse import urlencode

    response = await ds.client.get(f"/{DB}/compare_item.json?" + urlencode({"code": typed, "_shape": "array"}))
    assert [r["科目编码"] for r in response.json()] == codes


@pytest.mark.parametrize("path, kind", [("/opendata/table7_three_public", "视图"), ("/opendata/findings", "表")])
async def test_the_sql_definition_is_folded_for_developers(ds, path, kind):
    # Every table page ended with a screen of CREATE TABLE ... under the citizens' rows.
    page = soup_of(await ds.client.get(path))
    folded = page.select_one("details.definition")
    assert folded.summary.get_text() == f"{kind}的 SQL 定义（供开发者参考）" and "CREATE" in folded.pre.get_text()
    assert "open" not in folded.attrs and not page.select("body > pre, .content > pre")
    assert "视图" not in page.h1.get_text()


async def test_a_queries_terms_and_its_links_to_the_whole_table_are_in_chinese(ds):
    # report_overview said 使用条款 not stated (the landing page, 发布单位未声明); compare_three_public
    # pointed to "the table7_three_public table", as words.
    page = soup_of(await ds.client.get(f"/{DB}/report_overview?report_id=zhuzhou-lusong-kjgxj-2020-final"))
    terms = next(tr.td for tr in page.select("table.row-record tr") if tr.th.get_text() == "使用条款")
    assert terms.get_text(strip=True) == "发布单位未声明"
    for query, table, title in (("compare_three_public", "table7_three_public", "表 7“三公”经费"),
                                ("compare_totals", "report_totals", "各报告支出总览")):
        described = soup_of(await ds.client.get(f"/{DB}/{query}")).select_one(".metadata-description")
        assert [(a["href"], a.get_text()) for a in described.select("a")] == [(table, title)]
        assert table not in described.get_text()
        assert (await ds.client.get(f"/{DB}/{table}")).status_code == 200


@pytest.mark.parametrize("path, first", [
    ("/opendata/report_tables?report_id=shanghai-putuo-czj-2024-final&_sort=table_no", "表1 收入支出决算总表"),
    ("/opendata/projects?_sort=project_no&report_id=zhuzhou-lusong-kjgxj-2020-final", "项目 自主创新区域经济高质量发展专项"),
    ("/opendata/report_units?report_id=shanghai-putuo-czj-2024-final&_sort=unit_no", "决算单位 上海市普陀区财政局（本级）"),
])
async def test_each_rows_link_says_what_the_row_holds(ds, path, first):
    # Their 详情 column read shanghai-putuo-czj-2024-final,1: the row's key, for machines.
    link = soup_of(await ds.client.get(path)).select_one("table.rows-and-columns tbody tr td a")
    assert link.get_text() == first and "-final," not in link.get_text()
    assert (await ds.client.get(link["href"])).status_code == 200


PUTUO = "shanghai-putuo-czj-2024-final"


async def test_a_reports_page_links_to_its_charts_and_standard_tables(ds):
    # Its tables were reached only by typing the report's id into a query's box.
    soup = soup_of(await ds.client.get(f"/{DB}/reports/{PUTUO}"))
    links = {a.get_text(strip=True): a["href"] for a in soup.select("ul.report-pages a")}
    assert links["报告概况与图表"] == f"/?report={PUTUO}"
    assert links["表 5 一般公共预算财政拨款支出决算表"] == f"/{DB}/report_table5?report_id={PUTUO}"
    assert sum(title.startswith("表 ") for title in links) == 9
    table5 = soup_of(await ds.client.get(links["表 5 一般公共预算财政拨款支出决算表"]))
    assert "2,106.66" in table5.get_text()
    others = {a.get_text(strip=True): a["href"] for a in table5.select("p.report-pages a")}
    assert others["表 7 一般公共预算财政拨款“三公”经费支出决算表"] == f"/{DB}/report_table7?report_id={PUTUO}"
    assert "表 5 一般公共预算财政拨款支出决算表" not in others  # the page itself
    landing = await ds.client.get(links["报告概况与图表"])
    assert landing.status_code == 200


async def test_a_one_row_query_reads_down_the_page(ds):
    # report_overview's one row was 1,626 px wide in a 1,248 px box: 三公 cut off, two 报告 columns.
    soup = soup_of(await ds.client.get(f"/{DB}/report_overview?report_id={PUTUO}"))
    assert soup.select_one("table.rows-and-columns") is None
    record = [(tr.th.get_text(strip=True), tr.td.get_text(" ", strip=True)) for tr in soup.select("table.row-record tr")]
    assert [name for name, _ in record].count("报告") == 1
    assert ("支出合计", "2,940.05 万元") in record and ("三公经费预算数", "0.95 万元") in record
    # The report is named above the record (its id column hidden: hidden_columns), linked to its page.
    named = soup.select_one("p.report-named a")
    assert named["href"] == f"/{DB}/reports/{PUTUO}" and named.get_text() == "2024年度上海市普陀区财政局部门决算"
    # More than one row stays a table.
    table5 = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id={PUTUO}"))
    assert table5.select_one("table.rows-and-columns") and not table5.select_one("table.row-record")


@pytest.mark.parametrize("typed, titles", [
    ("普陀", ["2024年度上海市普陀区财政局部门决算"]),
    ("芦淞 2020", ["2020年度株洲市芦淞区科技和工业信息化局部门决算"]),
    ("部门决算", ["2024年度上海市普陀区财政局部门决算", "2020年度株洲市芦淞区科技和工业信息化局部门决算"]),
    # As the search reads them: no space needed, full-width digits, an id's words, an abbreviation.
    ("普陀2024", ["2024年度上海市普陀区财政局部门决算"]),
    ("普陀２０２４", ["2024年度上海市普陀区财政局部门决算"]),
    ("shanghai", ["2024年度上海市普陀区财政局部门决算"]),
    ("芦淞科技局", ["2020年度株洲市芦淞区科技和工业信息化局部门决算"]),
])
async def test_a_department_typed_into_the_reports_box_lists_its_reports(ds, typed, titles):
    # The box asked for a report's id (shanghai-putuo-czj-2024-final); a citizen typed 普陀: 没有结果.
    soup = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id={typed}"))
    choices = soup.select_one("div.report-choices")
    assert choices.p.get_text() == f"没有编号为“{typed}”的报告；标题含“{typed}”的报告："
    assert [a.get_text() for a in choices.select("li a")] == titles
    assert "没有结果" not in soup.get_text()  # the reports are listed: not "found" and "not found" at once
    table = soup_of(await ds.client.get(f"/{DB}/report_table5" + choices.select_one("li a")["href"]))
    assert table.select_one("p.report-named a").get_text() == titles[0]


async def test_words_in_no_reports_title_list_nothing(ds):
    soup = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id=北京"))
    assert soup.select_one("div.report-choices") is None and "请核对报告编号" in soup.get_text()


async def test_a_statements_topic_is_shown_in_chinese(ds, site_package):
    # The 主题 column showed total, total.change, income.total: English keys to citizens.
    import csv

    from opendata.ingest.topic_names import topic_name

    soup = soup_of(await ds.client.get(f"/{DB}/statements?_sort=statement_no&report_id={PUTUO}&_size=3"))
    cells = [(td.get_text(), td.span["title"]) for td in soup.select("td.col-topic")]
    assert cells[:2] == [("收入支出总计", "total"), ("收入支出总计（增减额）", "total.change")]
    rows = await ds.client.get(f"/{DB}/statements.json?_shape=array&_size=1&_sort=statement_no&report_id={PUTUO}")
    assert rows.json()[0]["topic"] == "total"  # the key, for developers
    with open(site_package / "data" / "statements.csv", encoding="utf-8", newline="") as fh:
        topics = {r["topic"] for r in csv.DictReader(fh)}
    assert {t for t in topics if topic_name(t) is None} == set()
    assert topic_name("three_public.reception.budget") == "公务接待费（预算数）"
    assert topic_name("gpb.class.share") == "按类的一般公共预算财政拨款支出（占比）"
    assert topic_name("no.such.key") is None


async def test_a_phone_card_of_table4_sets_its_spending_half_apart(ds):
    # Each card joined an income line with an unrelated spending line, as one item.
    page = await ds.client.get(f"/{DB}/report_table4?report_id={PUTUO}")
    soup = soup_of(page)
    headers = [th.get_text() for th in soup.select("table.rows-and-columns th")]
    spending = headers.index("支出项目") + 1
    assert f".rows-and-columns td:nth-of-type({spending}) {{ border-top: 2px solid" in page.text
    assert "border-top: 2px solid" not in (await ds.client.get(f"/{DB}/report_table5?report_id={PUTUO}")).text


async def test_the_landing_page_without_javascript_leads_to_the_tables(ds):
    # It said 正在加载…… for ever, its 查看数据 links "#".
    soup = soup_of(await ds.client.get("/"))
    note = soup.select_one("noscript p")
    links = {a.get_text(): a["href"] for a in note.select("a")}
    assert links["报告"] == f"/{DB}/reports" and links["决算表数据"] == f"/{DB}/amounts"
    for href in links.values():
        assert (await ds.client.get(href)).status_code == 200


@pytest.mark.parametrize("table, spending", [(1, "支出决算数"), (4, "支出合计")])
async def test_table1_and_table4_face_their_closing_lines_as_printed(ds, table, spending):
    # Numbered by side, 本年收入合计 2,946.25 faced 卫生健康支出 60.99, and 总计 faced 本年支出合计.
    rows = (await ds.client.get(f"/{DB}/report_table{table}.json?report_id={PUTUO}&_shape=array")).json()
    pairs = [(r["收入项目"], r["支出项目"]) for r in rows]
    assert pairs[0][1] == "一般公共服务支出" and pairs[-1] == ("总计", "总计")
    total = next(r for r in rows if r["收入项目"] == "本年收入合计")
    assert total["支出项目"] == "本年支出合计" and total[spending] == 2940.05
    assert ("年初结转和结余", "年末结转和结余") in pairs or ("年初财政拨款结转和结余", "年末财政拨款结转和结余") in pairs


async def test_a_figures_source_gives_its_page_in_chinese(ds):
    # 出处 cells read "表5 第1行 (p.15)": p. is English; the data keeps it (JSON, CSV, the tooltip).
    soup = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id={PUTUO}"))
    first = soup.select("table.rows-and-columns tbody tr")[0].select("td")[-1]
    assert first.get_text() == "表5 第1行（第15页）" and first.span["title"] == "表5 第1行 (p.15)"
    rows = (await ds.client.get(f"/{DB}/report_table5.json?report_id={PUTUO}&_shape=array")).json()
    assert rows[0]["出处"] == "表5 第1行 (p.15)"
    amounts = soup_of(await ds.client.get(f"/{DB}/amounts?report_id={PUTUO}&table_no=6&_sort=line_no&_size=1"))
    assert amounts.select_one("td.col-source_ref").get_text().endswith("（第16页）")


def test_every_topic_the_parser_can_give_has_a_chinese_name():
    # procurement.other (narrative._remap) had none: its key was shown to citizens.
    from opendata.ingest import narrative
    from opendata.ingest.topic_names import topic_name

    subjects = {key for _, key in narrative.SUBJECTS} | set(narrative.AMOUNT_TARGETS) | {
        narrative._remap("expenditure.basic", "basic"), narrative._remap("expenditure.project", "procurement"),
        "gpb.class", "gpb.item", "fund.item", "soe.item", "projects.amount", "performance.target",
        "performance.result", "other"}
    measures = set(narrative._SUFFIX.values()) | {
        narrative._count_suffix(lead, "", unit) for lead, unit in (("团组", ""), ("来宾", "人次"), ("", "人次"),
                                                                   ("", "辆"), ("批次", ""), ("", "个"))}
    unnamed = sorted(s + m for s in subjects for m in measures if topic_name(s + m) is None)
    assert unnamed == []


async def test_a_narrative_percentage_is_shown_as_the_report_prints_it(ds):
    # 下降2.10% (Putuo, 第三部分 五（一）) was shown -2.1%, 100.00% as 100%: the report's digits.
    page = soup_of(await ds.client.get(f"/{DB}/statements?report_id=shanghai-putuo-czj-2024-final"
                                       "&topic__in=gpb.expenditure.growth_rate,gpb.expenditure.share"))
    shown = {row.select_one("td.col-topic span")["title"]: row.select_one("td.col-value").get_text()
             for row in page.select("table.rows-and-columns tbody tr")}
    assert shown == {"gpb.expenditure.growth_rate": "-2.10%", "gpb.expenditure.share": "100.00%"}


async def test_the_implied_figures_name_their_topics_in_chinese(ds):
    # 主题 showed total.change and 比较的对象 fiscal.total: keys, English words, to citizens.
    page = soup_of(await ds.client.get(f"/{DB}/implied_last_year?report_id=shanghai-putuo-czj-2024-final"))
    shown = {(row.select_one("td.col-topic").get_text(strip=True), row.select_one("td.col-stem").get_text(strip=True))
             for row in page.select("table.rows-and-columns tbody tr")}
    assert ("收入支出总计（增减额）", "收入支出总计") in shown and ("财政拨款收入支出总计（增减额）", "财政拨款收入支出总计") in shown
    assert not [pair for pair in shown if any(c.isascii() and c.isalpha() for c in "".join(pair))]


async def test_the_comparison_of_totals_shows_every_amount_in_wanyuan(ds):
    # 财政拨款基本支出 and 项目支出 were bare numbers (2336.91) beside 2,940.05 万元.
    page = soup_of(await ds.client.get(f"/{DB}/compare_totals"))
    putuo = next(row for row in page.select("table.rows-and-columns tbody tr") if "普陀" in row.get_text())
    cells = [td.get_text(" ", strip=True) for td in putuo.select("td")]
    assert "2,336.91 万元" in cells and "603.14 万元" in cells and "2,940.05 万元" in cells


async def test_class_shares_are_to_the_hundredth_as_reports_print_them(ds):
    # 71.7, 11.1, 2.1, 15.2 beside the report's 71.73%, 11.11%, 2.07%, 15.16%: worked out from 表5 to
    # the same precision (201: 2106.66 / 2940.05 = 71.65, where the narrative says 71.73, a finding).
    rows = (await ds.client.get(f"/{DB}/class_shares.json?_shape=array&report_id=shanghai-putuo-czj-2024-final")).json()
    assert {r["code"]: r["share_pct"] for r in rows} == {"201": 71.65, "221": 15.16, "208": 11.11, "210": 2.07}


@pytest.mark.parametrize("report_id, title", [("shanghai-putuo-czj-2024-final", "2024年度上海市普陀区财政局部门决算"),
                                              ("zhuzhou-lusong-kjgxj-2020-final", "2020年度株洲市芦淞区科技和工业信息化局部门决算")])
async def test_a_standard_table_of_a_report_is_titled_by_the_report_too(ds, report_id, title):
    # Both reports' 表5 pages were titled 表 5 一般公共预算财政拨款支出决算表（万元）: tabs alike.
    page = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id={report_id}"))
    assert page.title.get_text(strip=True) == f"表 5 一般公共预算财政拨款支出决算表（万元） · {title}"
    page = soup_of(await ds.client.get(f"/{DB}/report_table5"))
    assert page.title.get_text(strip=True) == "表 5 一般公共预算财政拨款支出决算表（万元）"


async def test_every_filter_of_a_page_is_named_in_chinese(ds):
    # With three filters the middle one stayed in English: 项目 = "行政运行", line_key = 2010601 且 报告 = ...
    page = soup_of(await ds.client.get(f"/{DB}/amounts?report_id=shanghai-putuo-czj-2024-final&line_key=2010601"
                                       "&item=%E8%A1%8C%E6%94%BF%E8%BF%90%E8%A1%8C"))
    said = page.select_one("h3").get_text(" ", strip=True)
    assert "line_key" not in said and "report_id" not in said and "行标识 = 2010601" in said, said
