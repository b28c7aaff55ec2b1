"""The site in a real browser: Debian's chromium driven by Playwright against `opendata serve`.

Opens the landing page, checks the charts are drawn with the report's numbers, clicks a facet on a
table page and runs a search. Skipped only when /usr/bin/chromium is not installed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server_process import opendata_serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(site_db, site_package):
    """`opendata serve` on a free loopback port, stopped at the end."""
    with opendata_serve(site_db, site_package) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    external: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda r: external.append(r.url) if not r.url.startswith(server) else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not external, f"requests left the instance: {external}"
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def phone(browser):
    """A page in a phone's viewport (390 x 844, touch)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    yield context.new_page()
    context.close()


def chart_data(pg, canvas_id: str):
    return pg.evaluate(
        """id => { const c = Chart.getChart(id); return c && {labels: c.data.labels,
             datasets: c.data.datasets.map(d => ({label: d.label, data: d.data}))}; }""", canvas_id)


def test_a_change_whose_figure_the_checks_found_wrong_says_so(page, server):
    # Putuo's 财政拨款收入支出总计 "0.3万元 ... 持平" (p.21) was drawn and listed as 持平 0.00 万元 with
    # bars of 0.3, with nothing to say that 表4's 总计 is 2,961.68.
    page.goto(f"{server}/?report=shanghai-putuo-czj-2024-final")
    page.wait_for_selector("body[data-ready]", timeout=15000)
    item = page.locator("#changes li", has_text="财政拨款收入支出总计")
    assert "有误" in item.inner_text() and "表4 总计 决算数 为 2961.68 万元" in item.inner_text()
    assert "有误" not in page.locator("#changes li", has_text="机关运行经费").inner_text()
    labels = chart_data(page, "chart-change")["labels"]
    assert ["财政拨款收入支出总计", "（有误）"] in labels and ["机关运行经费"] in labels
    # Every bar named: Chart.js skipped every other label (the 有误 one among them) for want of room.
    ticks = page.evaluate("() => Chart.getChart(document.getElementById('chart-change')).scales.y.ticks.length")
    assert ticks == len(labels) == 8


def test_the_change_chart_draws_each_change_as_a_rate(page, server, seed_report):
    # Totals of ~2,500 万元 and 三公 items under 1 万元 on one axis of amounts: 公务接待费's fall
    # from 0.49 to 0.12 (-75.3%) was no bar at all.
    page.goto(f"{server}/?report={seed_report}")
    page.wait_for_selector("body[data-ready]", timeout=15000)
    change = chart_data(page, "chart-change")
    rates = {"".join(label): rate for label, rate in zip(change["labels"], change["datasets"][0]["data"])}
    assert rates["公务接待费"] == -75.3 and rates["机关运行经费"] == -54.2 and rates["收、支总计"] == 33.2
    assert rates["因公出国（境）费"] == 0  # 持平
    item = page.locator("#changes li", has_text="公务接待费").inner_text()
    assert "减少 0.37 万元（-75.3%），本年 0.12 万元，上年 0.49 万元" in item


def test_landing_page_draws_the_charts(page, server, seed_report, site_db, tmp_path):
    page.goto(f"{server}/?report={seed_report}")
    page.wait_for_selector("body[data-ready]", timeout=15000)
    assert page.get_attribute("body", "data-ready") not in ("error", "empty")
    headline = page.inner_text("#headline")
    assert "2,540.24" in headline and "万元" in headline
    by_class = chart_data(page, "chart-class")
    assert by_class["labels"][0] == ["科学技术支出"]
    assert by_class["datasets"][0]["data"][0] == 1980.21
    basic = chart_data(page, "chart-basic")
    assert basic["labels"] == ["基本支出", "项目支出"] and basic["datasets"][0]["data"] == [171.68, 2368.56]
    budget = chart_data(page, "chart-budget")
    i = next(n for n, label in enumerate(budget["labels"]) if "2060101 · 3.9%" in label)
    assert budget["labels"][i] == ["行政运行", "2060101 · 3.9%"]  # name, then code and execution rate
    assert budget["datasets"][0]["data"][i] == 305.62 and budget["datasets"][1]["data"][i] == 12.05
    # Long names in lines of ten characters: none cut at the axis' edge (a tester's phone and desktop).
    assert all(len(line) <= 10 for label in budget["labels"] for line in label[:-1])
    three = chart_data(page, "chart-three")
    assert [d["label"] for d in three["datasets"]] == ["预算数", "决算数"]
    assert three["datasets"][1]["data"][-1] == 0.12
    change = chart_data(page, "chart-change")
    assert change and change["labels"], "the change on last year is drawn"
    # The canvases were really painted (not blank).
    painted = page.evaluate("""id => { const c = document.getElementById(id); const d = c.getContext('2d')
        .getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
        return n; }""", "chart-class")
    assert painted > 1000
    # Each chart links to the rows behind it.
    href = page.get_attribute("#link-class", "href")
    assert href.startswith("/opendata/by_class?report_id=")
    page.screenshot(path=str(tmp_path / "landing.png"), full_page=True)
    # The comparison of one 科目 across reports opens on this report's largest line with a budget
    # (it opened on a fixed 2060101, which most reports do not have).
    with sqlite3.connect(site_db) as conn:
        code, final = conn.execute("select code, final_amount from budget_execution where report_id = ? "
                                   "and length(code) = 7 order by final_amount desc limit 1", [seed_report]).fetchone()
    assert page.get_attribute("#link-compare-item", "href") == f"/opendata/compare_item?code={code}"
    page.click("#link-budget")
    page.wait_for_selector("table.rows-and-columns")
    assert "年初预算与决算" in page.inner_text("h1")
    assert "305.62" in page.inner_text("table.rows-and-columns")
    page.go_back()
    page.wait_for_selector("body[data-ready]", timeout=15000)
    page.click("#link-compare-item")
    page.wait_for_selector("table.rows-and-columns, table.row-record")  # one report: one row, read down
    assert f"{final:,.2f}" in page.inner_text("table.rows-and-columns, table.row-record")


def test_the_report_picker_holds_every_page_of_reports(page, server, seed_report):
    """A national corpus has more reports than one page of JSON (1,000): the picker held the first
    page only (a tester's 1,200 reports). Here the first page is cut to one report, its next_url
    the real rest: the picker must hold both."""
    import json

    def first_page(route):
        if "report_id=" in route.request.url:  # the next page: as the server answers it
            return route.continue_()
        real = json.loads(route.fetch().text())
        if isinstance(real, list):  # a page as an array has no link to the next one
            return route.fulfill(json=[r for r in real if r["report_id"] != seed_report])
        putuo = [r for r in real["rows"] if r["report_id"] != seed_report]
        route.fulfill(json={"rows": putuo, "next_url": route.request.url + "&report_id=" + seed_report})

    page.route("**/opendata/reports.json?*", first_page)
    page.goto(f"{server}/?report={seed_report}")
    page.wait_for_selector("body[data-ready]", timeout=15000)
    options = page.locator("#report-select option").all_inner_texts()
    assert options == ["2024年度上海市普陀区财政局部门决算", "2020年度株洲市芦淞区科技和工业信息化局部门决算"]
    assert page.input_value("#report-select") == seed_report


def test_back_returns_to_the_report_chosen_before(page, server, seed_report):
    # Choosing A, then B, then Back left the landing page (the choice replaced the address).
    putuo = "shanghai-putuo-czj-2024-final"
    page.goto(f"{server}/?report={seed_report}")
    page.wait_for_selector(f"body[data-ready='{seed_report}']", timeout=15000)
    page.select_option("#report-select", putuo)
    page.wait_for_selector(f"body[data-ready='{putuo}']", timeout=15000)
    assert page.url.endswith(f"?report={putuo}")
    page.go_back()
    page.wait_for_selector(f"body[data-ready='{seed_report}']", timeout=15000)
    assert page.url.endswith(f"?report={seed_report}") and page.input_value("#report-select") == seed_report
    assert "000_a04efb588eb58bab.txt" in page.inner_text("#report-source")
    page.go_forward()
    page.wait_for_selector(f"body[data-ready='{putuo}']", timeout=15000)
    assert page.input_value("#report-select") == putuo


def test_a_report_without_basic_figures_keeps_no_note_of_the_one_before(page, server, seed_report):
    # Chosen after one with them, it still said 数据来自表3 支出决算表 beside 本报告未公开基本支出与项目支出.
    import json

    putuo = "shanghai-putuo-czj-2024-final"

    def without_basic(route):
        body = json.loads(route.fetch().text())
        rows = body if isinstance(body, list) else body["rows"]
        for row in rows:
            if isinstance(row, dict):
                row.update({"基本支出": None, "项目支出": None})
        route.fulfill(json=body)

    page.route(f"**/opendata/report_overview.json?*report_id={putuo}*", without_basic)
    page.goto(f"{server}/?report={seed_report}")
    page.wait_for_selector(f"body[data-ready='{seed_report}']", timeout=15000)
    assert "数据来自" in page.inner_text("#note-basic")
    page.select_option("#report-select", putuo)
    page.wait_for_selector(f"body[data-ready='{putuo}']", timeout=15000)
    assert "本报告未公开基本支出与项目支出" in page.inner_text("#card-basic")
    assert page.inner_text("#note-basic").strip() == ""


def test_standard_table_link_from_landing(page, server, seed_report):
    page.goto(f"{server}/?report={seed_report}")
    page.wait_for_selector("body[data-ready]", timeout=15000)
    page.click("#std-tables a >> text=表5")
    page.wait_for_selector("table.rows-and-columns")
    assert page.inner_text("h1").startswith("表 5")
    assert "1,980.21" in page.inner_text("table.rows-and-columns")


def test_clicking_a_facet_filters_the_table(page, server):
    page.goto(server + "/opendata/amounts")
    page.wait_for_selector("#facet-table_no")
    before = page.inner_text("h3")
    # Facet values show the table's name (label column of standard_tables), not just its number.
    page.click("#facet-table_no a:has-text('三公')")
    page.wait_for_url("**table_no=7**")
    cells = page.locator("td.col-table_no").all_inner_texts()
    assert cells and all("7" in c for c in cells)
    assert page.inner_text("h3") != before
    assert "公务接待费" in page.inner_text("table.rows-and-columns")


def test_a_foreign_key_shows_its_label_not_its_key(page, server, seed_report):
    # A citizen read "一般公共服务支出 201@2024" and "2020年度…部门决算 zhuzhou-lusong-kjgxj-2020-final".
    page.goto(f"{server}/opendata/amounts?report_id=shanghai-putuo-czj-2024-final&table_no=5&line_key=201")
    page.wait_for_selector("table.rows-and-columns tbody tr")
    row = page.locator("table.rows-and-columns tbody tr").first
    assert row.locator("td.col-classification_id").inner_text().strip() == "一般公共服务支出"
    assert row.locator("td.col-report_id").inner_text().strip() == "2024年度上海市普陀区财政局部门决算"
    assert row.locator("td.col-table_no").inner_text().split() == ["一般公共预算财政拨款支出决算表", "5"]
    page.goto(f"{server}/opendata/findings?report_id={seed_report}")
    page.wait_for_selector("table.rows-and-columns tbody tr")
    rules = page.locator("td.col-rule_id").all_inner_texts()
    assert rules and not any("." in r for r in rules), rules  # 预算完成率 is shown, ratio.execution_rate is not


def test_findings_page_speaks_chinese(page, server):
    """A citizen's view of the checks: rules by their Chinese titles, severities as 错误/提示, the
    rows concerned by table title and column labels, no English message shown, and the column
    menu in Chinese (Datasette's table.js writes it in English)."""
    page.goto(server + "/opendata/findings?rule_id=narrative.table")
    page.wait_for_selector("table.rows-and-columns")
    row = page.locator("table.rows-and-columns tbody tr").first
    assert row.locator("td.col-rule_id").inner_text().startswith("情况说明数字 = 表中数字")
    assert row.locator("td.col-severity").inner_text() == "错误"
    assert row.locator("td.col-fields").inner_text() == "数值、金额"
    assert "决算表数据（万元）：表号 4" in row.locator("td.col-row_ref").inner_text()
    assert not page.locator("th.col-message_en").is_visible()
    assert not row.locator("td.col-message_en").is_visible()
    assert "The narrative" not in page.inner_text("table.rows-and-columns")
    assert page.inner_text("#facet-severity") .split()[:2] == ["严重程度", "1"]
    # The finding's own page neither (a tester read "说明（英文） Table 1 expenditure by class = ..." there).
    page.goto(server + "/opendata/findings/1")
    page.wait_for_selector("table.row-record")
    assert "说明（英文）" not in page.inner_text("table.row-record")
    assert page.locator("table.row-record tr.col-message_zh").is_visible()
    page.goto(server + "/opendata/findings?rule_id=narrative.table")
    page.wait_for_selector("table.rows-and-columns")
    page.click("th.col-stated svg.dropdown-menu-icon")
    menu = page.locator(".dropdown-menu")
    assert menu.is_visible()
    assert "降序排列" in menu.inner_text() and "Sort" not in menu.inner_text() and "Type:" not in menu.inner_text()


def test_search_from_the_landing_page(page, server):
    page.goto(server + "/")
    page.fill("form.zh-search input[name=q]", "接待")
    page.click("form.zh-search button")
    page.wait_for_selector("table.rows-and-columns")
    assert "/opendata/search?q=" in page.url
    assert page.inner_text("h1") == "检索"
    rows = page.locator("table.rows-and-columns tbody tr").all_inner_texts()
    assert rows and all("接待" in r for r in rows)
    # A two-character word from the narrative and the line items.
    page.fill("input[name=q]", "行政运行")
    page.click("input[type=submit]")
    page.wait_for_selector("table.rows-and-columns")
    assert "行政运行" in page.inner_text("table.rows-and-columns")


@pytest.mark.parametrize("path", ["/", "/opendata/amounts", "/opendata/by_class?report_id={report}",
                                  "/opendata/search?q=公务接待费", "/opendata/report_table5?report_id={report}"])
def test_pages_fit_a_phone(browser, server, seed_report, path):
    # A tester's phone (390 px): the landing page was 432 px wide (chart cards of 26em), the table
    # and query pages 650-1,140 px (their SQL and schema in <pre> that did not wrap).
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(server + path.format(report=seed_report))
        pg.wait_for_load_state("networkidle")
        width, inner = pg.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner, (path, width, inner)
    finally:
        context.close()


@pytest.mark.parametrize("path, labels", [
    ("/opendata/amounts", ["详情", "报告", "表号", "收入或支出"]),
    ("/opendata/search?q=普陀", ["类别", "标题", "内容", "数字", "报告", "查看"]),
    ("/opendata/budget_execution", ["报告", "部门编号", "部门", "年度"]),
])
def test_a_phones_cards_label_each_cell_in_chinese(browser, server, path, labels):
    # On a phone each row is a card whose cells CSS labels: by the column's English name (report_id,
    # table_no...), and on the search page by its neighbour's (the hidden columns were counted).
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(server + path)
        pg.wait_for_selector("table.rows-and-columns tbody tr")
        shown = pg.evaluate("""Array.from(document.querySelectorAll('table.rows-and-columns tbody tr')[0].cells)
            .map(td => getComputedStyle(td, '::before').content.replace(/^"|"$/g, ''))""")
        assert shown[:len(labels)] == labels, shown
    finally:
        context.close()


def test_a_link_to_a_report_that_is_not_there_says_so(page, server, seed_report):
    # /?report=nosuch showed the latest report as if it were the one asked for.
    page.goto(server + "/?report=nosuch")
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#report-missing").is_visible()
    assert page.inner_text("#report-missing") == "没有编号为“nosuch”的报告，下面显示的是最新的一份。"
    page.goto(server + f"/?report={seed_report}")
    page.wait_for_selector("body[data-ready]")
    assert not page.locator("#report-missing").is_visible()
    assert page.locator("#report-select").input_value() == seed_report


@pytest.mark.parametrize("typed, report_id", [("芦淞", "zhuzhou-lusong-kjgxj-2020-final"), ("普陀2024", "shanghai-putuo-czj-2024-final"),
                                             ("芦淞科技局", "zhuzhou-lusong-kjgxj-2020-final"),
                                             ("zhuzhou-lusong-kjgxj-2020-final%20", "zhuzhou-lusong-kjgxj-2020-final")])
def test_a_link_to_a_report_by_the_words_of_its_title_opens_it(page, server, typed, report_id):
    # /?report=芦淞 said 没有编号为“芦淞”的报告 (the table pages' box took it); an id with a space after it too.
    page.goto(f"{server}/?report={typed}")
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute("body", "data-ready") == report_id
    assert page.locator("#report-select").input_value() == report_id
    assert not page.locator("#report-missing").is_visible()
    assert page.url == f"{server}/?report={report_id}" or typed.endswith("%20")


def test_a_phones_tap_targets_are_44_px_high(browser, server):
    # A tester's phone: the report list 23 px high, each 查看数据 link 21 px, the 表1-表9 links 24 px rows.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    pg = context.new_page()
    try:
        pg.goto(f"{server}/?report=shanghai-putuo-czj-2024-final")
        pg.wait_for_selector("body[data-ready]", timeout=15000)
        heights = pg.evaluate("""() => [...document.querySelectorAll(
            '#report-select, .rows-link, .std-tables li a, footer a, .crumbs a')].map(e => e.getBoundingClientRect().height)""")
        assert len(heights) >= 1 + 6 + 9 + 2 and min(heights) >= 44, heights
    finally:
        context.close()


def test_a_query_box_on_a_phone_has_its_label_above_it(browser, server):
    # 报告（编号，或标题中的词，如 普陀 2024） beside its box ran one to three characters a line.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(f"{server}/opendata/report_overview?report_id=普陀")
        label = pg.locator("form.sql label").first.bounding_box()
        box = pg.locator("form.sql input[type=text]").first.bounding_box()
        assert label["height"] < 30 and label["y"] + label["height"] <= box["y"] + 1 and box["width"] > 300
    finally:
        context.close()


def test_an_amount_stays_on_one_line_with_its_unit(page, server):
    # 1,560.05 | 万元 broke over two lines in budget_vs_actual's narrow column.
    page.goto(f"{server}/opendata/budget_vs_actual?report_id=shanghai-putuo-czj-2024-final")
    cell = page.locator("td", has_text="1,560.05").first
    line = page.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 24", cell.element_handle())
    assert cell.bounding_box()["height"] < 2 * line


def test_the_charts_write_each_bars_figure_and_those_they_draw_no_bar_for(page, server):
    # Putuo's 三公 决算数 are all 0 (第三部分 七（一）, p.23) and 表7 (p.18) prints a 预算数 for 合计 and
    # 公务接待费 only: the chart was two bars of 0.95 and empty space, a zero and a blank alike.
    page.goto(f"{server}/?report=shanghai-putuo-czj-2024-final")
    page.wait_for_selector("body[data-ready]", timeout=15000)
    drawn = page.evaluate("() => Chart.getChart(document.getElementById('chart-three')).$barFigures")
    assert sorted(map(tuple, drawn)) == sorted([
        ("合计", "预算数", "0.95"), ("公务接待费", "预算数", "0.95"),
        ("因公出国（境）费", "预算数", "未列数"), ("公务用车购置及运行维护费", "预算数", "未列数"),
        ("合计", "决算数", "0.00"), ("因公出国（境）费", "决算数", "0.00"),
        ("公务用车购置及运行维护费", "决算数", "0.00"), ("公务接待费", "决算数", "0.00")])
    # The changes on last year too: a 0% change was no bar and no figure, one not computable nothing.
    change = {"".join(label): text for label, _, text in
              page.evaluate("() => Chart.getChart(document.getElementById('chart-change')).$barFigures")}
    assert change["一般公共预算财政拨款支出"] == "-2.10%" and "0%" in change.values()  # as p.21 prints it: 下降2.10%
    item = page.locator("#changes li", has_text="一般公共预算财政拨款支出").inner_text()
    assert "减少 63.14 万元（-2.10%）" in item, item


def test_the_landing_page_without_javascript_shows_no_dead_controls(browser, server, tmp_path):
    # A citizen without JavaScript saw the select stuck on 正在加载……, six empty charts and 查看数据
    # links to "#": hidden now, the reports listed to open instead.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{server}/")
        assert not page.is_visible("#report-select") and not page.is_visible("#chart-class")
        assert page.locator("a.rows-link:visible").count() == 0
        reports = page.locator(".no-script-reports a")
        assert reports.all_inner_texts() == ["2024年度上海市普陀区财政局部门决算", "2020年度株洲市芦淞区科技和工业信息化局部门决算"]
        reports.first.click()
        assert page.url == f"{server}/opendata/reports/shanghai-putuo-czj-2024-final"
        page.screenshot(path=str(tmp_path / "landing-nojs.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/opendata/reports/shanghai-putuo-czj-2024-final",
                                  "/opendata/report_table5?report_id=shanghai-putuo-czj-2024-final",
                                  "/opendata/search?q=%E8%A1%8C%E6%94%BF%E8%BF%90%E8%A1%8C"])
def test_links_on_a_phone_are_44_px_high_to_tap(phone, server, path):
    # A report's page on a phone: 22 of its 24 links 24 px high, stacked with no gap (its nine tables,
    # its other pages), as were a table's and the search's 查看 links.
    phone.goto(f"{server}{path}")
    heights = phone.eval_on_selector_all(
        "section.content a", "els => els.filter(e => e.offsetParent !== null && e.innerText.trim())"
                             ".map(e => [e.innerText.trim().slice(0, 20), e.getBoundingClientRect().height])")
    assert len(heights) > 5
    short = [(text, h) for text, h in heights if h < 44]
    assert not short, short


@pytest.mark.parametrize("path", ["/", "/opendata/search?q=%E6%8E%A5%E5%BE%85", "/opendata/amounts",
                                  "/opendata/reports?report_id=zhuzhou-lusong-kjgxj-2020-final"])
def test_controls_on_a_phone_are_44_px_high_and_nothing_runs_past_the_screen(phone, server, path):
    # The search box 37 px, its button 43, a query's 31, 各列说明 24, 导出 CSV 21; a SHA-256 ran past
    # the card's edge (cut at bf2cc57872bed27d421e88401a4c628db2a5).
    phone.goto(f"{server}{path}")
    small = phone.eval_on_selector_all(
        "input[type=search], input[type=text], input[type=submit], button, select, summary",
        "els => els.filter(e => e.offsetParent !== null).map(e => [e.outerHTML.slice(0, 60), "
        "e.getBoundingClientRect().height]).filter(x => x[1] < 44)")
    assert not small, small
    wide = phone.evaluate("() => Array.from(document.querySelectorAll('td, dd')).filter(e => e.offsetParent !== null"
                          " && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length")
    assert wide == 0
