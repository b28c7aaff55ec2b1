"""Chinese full-text search on the site: the `search` named query, `_zh` on search_index and
`zh_query` in SQL, against the shipped package's two reports."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest

from opendata.site.app import make_app
from opendata.zh_search import SHORT_FORMS, fts_query
from test_site import DB, METADATA, get_json, soup_of


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


# ---------------------------------------------------------------------------------------- search

@pytest.mark.parametrize("word", ["科技", "接待", "行政运行", "公务接待费", "高质量"])
async def test_search_finds_chinese_words(ds, word):
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q={word}")
    assert rows, word
    said = {word, SHORT_FORMS.get(word, word)}  # 科技: 科学技术 too
    for row in rows:
        assert any(w in f"{row['标题']} {row['内容'] or ''}" for w in said), row


async def test_search_finds_line_items_explanations_and_narrative(ds):
    kinds = {r["来源"] for r in await get_json(ds, f"/{DB}/search.json?_shape=array&q=接待")}
    assert {"amounts", "statements"} <= kinds
    items = await get_json(ds, f"/{DB}/search.json?_shape=array&q=行政运行")
    assert any(r["来源"] == "amounts" and r["标题"] == "2060101 行政运行" for r in items)
    explanations = await get_json(ds, f"/{DB}/search.json?_shape=array&q=压缩费用")
    assert any(r["来源"] == "amounts" for r in explanations), "the reasons (原因说明) are searchable"
    projects = await get_json(ds, f"/{DB}/search.json?_shape=array&q=新型工业化")
    assert any(r["来源"] == "projects" for r in projects)


async def test_a_line_item_hit_shows_its_figures_and_a_project_hit_its_amount(ds):
    # A citizen searching 接待 saw the line 公务接待费 with an empty 内容: the figures were a click away.
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=公务接待费")
    lines = {r["report_id"]: r["数字"] for r in rows if r["来源"] == "amounts"}
    assert lines == {"zhuzhou-lusong-kjgxj-2020-final": "表7 预算数 0.50，决算数 0.12（万元）",
                     "shanghai-putuo-czj-2024-final": "表7 预算数 0.95，决算数 0.00（万元）"}
    putuo = await get_json(ds, f"/{DB}/search.json?_shape=array&q=信息化建设")
    assert [r["数字"] for r in putuo if r["来源"] == "amounts"] == ["表5 合计 135.25，项目支出 135.25，年初预算数 135.90（万元）"]
    assert all(r["数字"] is None for r in putuo if r["来源"] in ("statements", "classification"))
    projects = [r for r in await get_json(ds, f"/{DB}/search.json?_shape=array&q=新型工业化") if r["来源"] == "projects"]
    assert [(r["标题"], r["数字"]) for r in projects] == [("推进新型工业化工作专项资金", "11.48 万元")]


@pytest.mark.parametrize("query, report_id", [
    ("科技局", "zhuzhou-lusong-kjgxj-2020-final"), ("芦淞科工信局", "zhuzhou-lusong-kjgxj-2020-final"),
    ("普陀财政局", "shanghai-putuo-czj-2024-final")])
async def test_a_department_called_by_an_abbreviation_is_found(ds, query, report_id):
    # 科技局 is what people call 株洲市芦淞区科技和工业信息化局: the search found nothing.
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q={query}")
    assert [(r["来源"], r["report_id"]) for r in rows][0] == ("reports", report_id)


async def test_an_abbreviation_comes_after_the_words_found_as_written(ds):
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=财政局")
    kinds = [r["来源"] for r in rows]
    assert kinds.count("reports") == 1 and len(rows) > 3  # the report's own title has 财政局: not twice
    # Characters in order that are no department's name, a two-character word, two words: no guess.
    assert await get_json(ds, f"/{DB}/search.json?_shape=array&q=决算局") == []
    assert await get_json(ds, f"/{DB}/search.json?_shape=array&q=科局") == []


@pytest.mark.parametrize("query, report_id", [
    ("上海普陀区财政局 2024", "shanghai-putuo-czj-2024-final"), ("株洲 科技局", "zhuzhou-lusong-kjgxj-2020-final"),
    ("芦淞 科技局", "zhuzhou-lusong-kjgxj-2020-final"), ("2024 普陀", "shanghai-putuo-czj-2024-final")])
async def test_a_report_named_by_several_words_is_found(ds, query, report_id):
    # 上海普陀区财政局 2024 found nothing (no text holds both as written); each word is in the title.
    rows = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": query, "_shape": "array"}))
    assert (rows[0]["来源"], rows[0]["report_id"]) == ("reports", report_id)
    assert {r["report_id"] for r in rows} == {report_id}  # and sentences holding both words (2024 普陀)


@pytest.mark.parametrize("query, report_id, titles", [
    ("普陀 三公", "shanghai-putuo-czj-2024-final", {"第三部分 七（一） “三公”经费", "第三部分 七（一） “三公”经费（增减额）"}),
    ("芦淞 接待", "zhuzhou-lusong-kjgxj-2020-final", {"公务接待费", "第三部分 七（一） 公务接待费",
                                                   "第三部分 七（二） 公务接待费", "第三部分 七（二）2 公务接待费"}),
    ("普陀 行政运行", "shanghai-putuo-czj-2024-final",
     {"2010601 行政运行", "第三部分 五（三）1 一般公共服务支出（类）财政事务（款）行政运行（项）"}),
])
async def test_words_naming_a_report_find_the_other_words_in_its_lines(ds, query, report_id, titles):
    # 普陀 三公, 芦淞 接待: nothing, though the help says words separated by spaces are all looked for
    # (no line or sentence names its department). The name picks the report, the other words its lines.
    rows = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": query, "_shape": "array"}))
    assert {r["report_id"] for r in rows} == {report_id}
    assert {r["标题"] for r in rows} == titles
    # Words naming no report, or a report without the other words: nothing.
    for nothing in ("普陀 不存在的词", "芦淞 2024"):
        assert await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": nothing, "_shape": "array"})) == []


@pytest.mark.parametrize("query", ["三公经费", "“三公”经费"])
async def test_search_reads_through_quotation_marks(ds, query):
    # The reports write “三公”经费; a citizen typing 三公经费 found nothing.
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q={query}")
    bare = query.strip("“”").replace("”", "").replace("“", "")
    assert rows and all(bare in re.sub(r"[“”《》]", "", f"{r['标题']} {r['内容'] or ''}") for r in rows), rows[:3]
    assert any("“三公”经费" in (r["内容"] or "") for r in rows)


@pytest.mark.parametrize("query, plain", [("２０６０１０１", "2060101"), ("2,540.24", "2540.24")])
async def test_search_reads_full_width_digits_and_thousands_separators(ds, query, plain):
    # A citizen typing the code in full-width digits, or the figure as printed with a separator
    # (2,540.24: 芦淞's 本年收入合计), found nothing.
    rows = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": query, "_shape": "array"}))
    same = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": plain, "_shape": "array"}))
    assert rows and rows == same and all(plain in f"{r['标题']} {r['内容'] or ''}" for r in rows)


async def test_a_search_that_fills_its_200_rows_says_there_may_be_more(ds):
    # Its JSON said "truncated": false (and no X-Truncated) where the page says 可能还有更多.
    full = await ds.client.get(f"/{DB}/search.json?" + urlencode({"q": "支出"}))
    assert len(full.json()["rows"]) == 200 and full.json()["truncated"] is True
    shaped = await ds.client.get(f"/{DB}/search.json?" + urlencode({"q": "支出", "_shape": "array"}))
    assert len(shaped.json()) == 200 and shaped.headers["x-truncated"] == "true"
    csv = await ds.client.get(f"/{DB}/search.csv?" + urlencode({"q": "支出"}))  # its CSV too: a header
    assert len(csv.text.splitlines()) == 201 and csv.headers["x-truncated"] == "true"
    some = await ds.client.get(f"/{DB}/search.json?" + urlencode({"q": "行政运行"}))
    assert 0 < len(some.json()["rows"]) < 200 and some.json()["truncated"] is False and "x-truncated" not in some.headers


async def test_zh_query_of_a_number_is_its_digits(ds, capfd):
    # zh_query(123) raised a TypeError in SQLite's function: "user-defined function raised
    # exception", and a traceback in the server's log.
    rows = await get_json(ds, f"/{DB}.json?" + urlencode({"sql": "select zh_query(123) as q", "_shape": "array"}))
    assert rows == [{"q": '"123"*'}]
    # A blob is no words (it searched its Python spelling: "b"* AND "x00"* AND "xff"*).
    rows = await get_json(ds, f"/{DB}.json?" + urlencode({"sql": "select zh_query(x'00ff') as q", "_shape": "array"}))
    assert rows == [{"q": '""'}]
    assert "Traceback" not in "".join(capfd.readouterr())


async def test_a_narrative_sentence_is_found_by_the_subject_of_its_figures(ds):
    # "年初预算为1560.05万元，支出决算为1511.89万元。" names no subject: its (类)(款)(项) is the heading's.
    # A citizen searching 行政运行 found the line items, none of the sentences about them.
    hits = [h for h in await get_json(ds, f"/{DB}/search.json?_shape=array&q=行政运行") if h["来源"] == "statements"]
    assert any(h["标题"] == "第三部分 五（三）1 一般公共服务支出（类）财政事务（款）行政运行（项）"
               and h["内容"] == "年初预算为1560.05万元，支出决算为1511.89万元。" for h in hits), hits
    # A figure's label the parser guessed (绩效 results) does not title its sentence.
    guessed = await get_json(ds, f"/{DB}/search.json?_shape=array&q=消毒液")
    assert guessed and all(h["标题"] == "第五部分 六（二）" for h in guessed if h["来源"] == "statements"), guessed


async def test_search_with_several_words_and_nothing(ds):
    both = await get_json(ds, f"/{DB}/search.json?_shape=array&q=公务 接待")
    assert both and all("公务" in f"{r['标题']}{r['内容']}" and "接待" in f"{r['标题']}{r['内容']}" for r in both)
    assert await get_json(ds, f"/{DB}/search.json?_shape=array&q=") == []
    assert await get_json(ds, f"/{DB}/search.json?_shape=array&q=不存在的词语") == []


@pytest.mark.parametrize("word, kind, column", [("行政运行", "amounts", "item"), ("公务接待费", "statements", "sentence"),
                                                ("新型工业化", "projects", "name")])
async def test_each_search_hit_links_to_its_rows(ds, word, kind, column):
    # Hits could not be opened: no link, and a line item's hit showed no figure (a tester).
    hits = [h for h in await get_json(ds, f"/{DB}/search.json?_shape=array&q={word}") if h["来源"] == kind]
    assert hits
    for hit in hits[:5]:
        assert hit["查看"].startswith(f"{kind}?")
        table, query = hit["查看"].split("?", 1)
        rows = await get_json(ds, f"/{DB}/{table}.json?_shape=array&{query}")
        assert rows and all(word in str(r[column]) for r in rows), (hit, rows[:2])
        if hit["report_id"]:
            assert {r["report_id"] for r in rows} == {hit["report_id"]}
    page = soup_of(await ds.client.get(f"/{DB}/search?q={word}"))
    links = [a for a in page.select("table.rows-and-columns td a") if a.get_text() == "查看"]
    assert links and all(a["href"].startswith(f"/{DB}/") for a in links)


@pytest.mark.parametrize("word, report_id", [("芦淞", "zhuzhou-lusong-kjgxj-2020-final"),
                                              ("普陀区财政局", "shanghai-putuo-czj-2024-final"),
                                              ("湖南省 2020", "zhuzhou-lusong-kjgxj-2020-final")])
async def test_search_finds_a_report_by_its_department_and_place(ds, word, report_id):
    # A citizen typing a department's name found nothing about it (a tester): reports are documents.
    hits = await get_json(ds, f"/{DB}/search.json?_shape=array&q={quote(word)}")
    first = hits[0]
    assert (first["来源"], first["类别"], first["report_id"]) == ("reports", "报告", report_id), hits[:3]
    table, query = first["查看"].split("?", 1)
    rows = await get_json(ds, f"/{DB}/{table}.json?_shape=array&{query}")
    assert [r["report_id"] for r in rows] == [report_id]


async def test_search_page_says_when_it_shows_only_the_first_200(ds):
    # 200 hits were shown as if they were all (a tester).
    many = await get_json(ds, f"/{DB}/search.json?_shape=array&q={quote('支出')}")
    assert len(many) == 200
    notice = soup_of(await ds.client.get(f"/{DB}/search?q={quote('支出')}")).select_one("p.shown-limit")
    assert notice and "只列出最相关的 200 条" in notice.get_text()
    few = await get_json(ds, f"/{DB}/search.json?_shape=array&q={quote('公务接待')}")
    assert 0 < len(few) < 200
    assert soup_of(await ds.client.get(f"/{DB}/search?q={quote('公务接待')}")).select_one("p.shown-limit") is None


async def test_search_page_and_table_search_box(ds):
    soup = soup_of(await ds.client.get(f"/{DB}/search?q=科技"))
    assert soup.h1.get_text(strip=True) == "检索"
    assert soup.find("label", string="关键词")
    assert soup.select("table.rows-and-columns tbody tr")
    # The search box of the search_index table and ?_zh= use the bigram search too.
    boxed = soup_of(await ds.client.get(f"/{DB}/search_index?_search=行政运行"))
    assert "包含“行政运行”" in boxed.get_text()
    assert boxed.select_one("form.filters input#_search[name=_search]")["value"] == "行政运行"
    box = soup_of(await ds.client.get(f"/{DB}/search_index")).select_one("form.filters input#_search")
    assert box is not None and box["value"] == ""
    assert soup_of(await ds.client.get(f"/{DB}/amounts")).select_one("input#_search") is None
    rows = await get_json(ds, f"/{DB}/search_index.json?_shape=array&_zh=行政运行")
    assert rows and all("行政运行" in f"{r['title']}{r['body']}" for r in rows)


async def test_search_in_sql_and_as_a_filter_agree(ds):
    """What the README shows developers: zh_query in their own SQL over search_texts_fts, and the
    _zh filter of search_index, find the same documents."""
    sql = ("select s.id from search_index s where s.text_id in (select rowid from search_texts_fts "
           "where search_texts_fts match zh_query(:q)) order by s.id")
    by_sql = await get_json(ds, f"/{DB}.json?_shape=array&q=公务接待&sql={quote(sql)}")
    by_filter = await get_json(ds, f"/{DB}/search_index.json?_shape=array&_zh=公务接待&_size=max&_col=id")
    assert by_sql and [r["id"] for r in by_sql] == [r["id"] for r in by_filter]
    rows = await get_json(ds, f"/{DB}/search_index.json?_shape=array&_zh=公务接待&_size=max")
    assert all("公务接待" in f"{r['title']} {r['body'] or ''}" for r in rows)


@pytest.mark.parametrize("query", ["科學技術", "housing", "决算局"])
async def test_a_search_that_finds_nothing_says_how_to_search(ds, query):
    # Traditional characters and English said 没有结果, no more.
    page = soup_of(await ds.client.get(f"/{DB}/search?" + urlencode({"q": query})))
    said = page.select_one(".zero-results").get_text()
    assert f"没有找到“{query}”" in said and "简体中文" in said and "科技局" in said


@pytest.mark.parametrize("typed, figure", [("262.33", "262.33"), ("２６２．３３", "262.33"), (" 2,540.24 ", "2540.24")])
async def test_a_figure_searched_leads_to_the_tables_figures(ds, typed, figure):
    # 262.33 (表6 基本工资, p.16) is in no sentence: the search said 没有找到 and nothing more.
    soup = soup_of(await ds.client.get(f"/{DB}/search?" + urlencode({"q": typed})))
    link = soup.select_one("p.search-figure a")
    assert link["href"] == f"/{DB}/amounts?amount={figure}" and figure in link.get_text()
    rows = await get_json(ds, link["href"].replace("/amounts?", "/amounts.json?_shape=array&"))
    if figure == "262.33":
        assert [(r["report_id"], r["table_no"], r["item"], r["source_ref"]) for r in rows] == [
            ("shanghai-putuo-czj-2024-final", 6, "基本工资", "表6 第2行 (p.16)")]
    else:  # 芦淞's 本年支出合计, stated in its narrative: the search finds the sentence too
        assert rows and {r["report_id"] for r in rows} == {"zhuzhou-lusong-kjgxj-2020-final"}
        assert await get_json(ds, f"/{DB}/search.json?_shape=array&q={figure}")


async def test_a_figure_in_no_table_has_no_link_and_says_so(ds):
    # 56.95 (a change the narrative states) linked to 决算表数据 with 共 0 行; 262.33 said 没有找到 under
    # the link to the very figure.
    soup = soup_of(await ds.client.get(f"/{DB}/search?q=56.95"))
    assert soup.select_one("p.search-figure") is None
    soup = soup_of(await ds.client.get(f"/{DB}/search?q=9876.54"))
    assert soup.select_one("p.search-figure") is None
    assert soup.select_one("p.zero-results").get_text() == "情况说明和表中的文字里没有“9876.54”，表中也没有金额为 9876.54 的数字。"
    soup = soup_of(await ds.client.get(f"/{DB}/search?q=262.33"))
    assert "表中有 1 个金额为 262.33 万元的数字" in soup.select_one("p.search-figure").get_text()
    assert soup.select_one("p.zero-results").get_text() == "情况说明和表中的文字里没有“262.33”（表中的这个数字见上面的链接）。"


@pytest.mark.parametrize("typed", ["科技", "2060101", "2540", "科技 2.5"])
async def test_words_and_codes_are_not_figures(ds, typed):
    soup = soup_of(await ds.client.get(f"/{DB}/search?" + urlencode({"q": typed})))
    assert soup.select_one("p.search-figure") is None


async def test_search_index_names_its_reports_by_title(ds):
    # Its 报告 facet listed zhuzhou-lusong-kjgxj-2020-final 144, each row's 报告 said 查看报告.
    soup = soup_of(await ds.client.get(f"/{DB}/search_index"))
    facet = soup.select_one('.facet-info[data-column="report_id"]')
    assert [li.a.get_text(strip=True) for li in facet.select("li")] == [
        "2020年度株洲市芦淞区科技和工业信息化局部门决算", "2024年度上海市普陀区财政局部门决算"]
    cell = soup.select_one("td.col-report_id")
    assert cell.a.get_text(strip=True) in {"2020年度株洲市芦淞区科技和工业信息化局部门决算", "2024年度上海市普陀区财政局部门决算"}
    rows = await get_json(ds, f"/{DB}/search_index.json?_shape=array&_size=1&_labels=on")
    assert rows[0]["report_id"] == {"value": "shanghai-putuo-czj-2024-final", "label": "2024年度上海市普陀区财政局部门决算"}


async def test_a_short_form_finds_the_classifications_full_words(ds):
    # 科技 listed offices (科技创新股) first; 科学技术支出, 78% of 芦淞's spending, only for 科学技术.
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=科技")
    assert (rows[0]["来源"], rows[0]["标题"], rows[0]["数字"]) == ("amounts", "206 科学技术支出", "表5 合计 1980.21（万元）")
    assert any(r["标题"] == "科技创新股" for r in rows)
    assert fts_query("科技 行政") == '("科技" OR "科学 学技 技术") AND "行政"'


async def test_a_code_of_two_editions_is_one_hit_linking_to_both(ds):
    # 201 一般公共服务支出 was listed twice, identical: the 2020 and the 2024 edition of the codes.
    rows = [r for r in await get_json(ds, f"/{DB}/search.json?_shape=array&q=一般公共服务支出")
            if r["来源"] == "classification" and r["标题"] == "201 一般公共服务支出"]
    assert len(rows) == 1 and rows[0]["查看"] == "classification?code=201"
    editions = await get_json(ds, f"/{DB}/classification.json?code=201&_shape=array")
    assert sorted(r["classification_id"] for r in editions) == ["201@2020", "201@2024"]


async def test_a_word_said_many_times_is_one_condition(ds):
    # 行政 300 times (5.7 KB) ran past the one-second limit: 300 copies of one condition.
    assert fts_query("行政 " * 300) == '"行政"' and fts_query("科技 行政 科技") == '("科技" OR "科学 学技 技术") AND "行政"'
    response = await ds.client.get(f"/{DB}/search.json?" + urlencode({"q": "行政 " * 300, "_shape": "array"}))
    assert response.status_code == 200 and response.json()


async def test_a_figures_count_past_the_time_limit_leaves_the_search_answered(ds, watch_sql):
    # Counting the tables' figures of one amount scans amounts (no index on amount): cut off by the
    # time limit, it turned the search's page into a 400 查询超时.
    from datasette.database import Database, QueryInterrupted

    watch_sql(Database, fail=lambda sql: QueryInterrupted(None, sql, None) if "where amount = ?" in sql else None)
    page = await ds.client.get(f"/{DB}/search?q=2540.24")
    assert page.status_code == 200 and soup_of(page).select_one("p.search-figure") is None
    assert soup_of(page).select("table.rows-and-columns tbody tr")


async def test_a_code_finds_the_lines_of_it_with_their_figures_before_the_code_itself(ds):
    # 2060101 found one row, the classification's code, with no figure and a link to no figure;
    # 行政运行 listed three codes first, then two lines both titled 行政运行 (of two 类).
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=2060101")
    assert [(r["来源"], r["标题"]) for r in rows] == [("amounts", "2060101 行政运行"), ("classification", "2060101 行政运行")]
    assert rows[0]["report_id"] == "zhuzhou-lusong-kjgxj-2020-final"
    assert rows[0]["数字"] == "表5 年初预算数 305.62，合计 12.05（万元）"
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=行政运行")
    kinds = [r["来源"] for r in rows]
    assert kinds.index("classification") > max(i for i, k in enumerate(kinds) if k != "classification")
    assert {r["标题"] for r in rows if r["来源"] == "amounts"} == {"2010301 行政运行", "2010601 行政运行", "2060101 行政运行"}


async def test_a_reports_hit_opens_the_reports_page(ds):
    # 查看 of 株洲 科技局 opened a one-row table of reports, not the report's page with its charts and tables.
    page = soup_of(await ds.client.get(f"/{DB}/search?" + urlencode({"q": "株洲 科技局"})))
    links = [a["href"] for a in page.select("td a") if a.get_text() == "查看"]  # (one hit: a record, down the page)
    assert links == [f"/{DB}/reports/zhuzhou-lusong-kjgxj-2020-final"]
    assert (await ds.client.get(links[0])).status_code == 200
    rows = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": "株洲 科技局", "_shape": "array"}))
    assert rows[0]["查看"] == "reports?report_id=zhuzhou-lusong-kjgxj-2020-final"  # the API's: the rows, as before


async def test_an_income_lines_hit_shows_its_figures(ds):
    # 本年收入合计 showed three hits with an empty 数字: only the tables of spending were read.
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=本年收入合计")
    figures = {(r["report_id"], r["数字"]) for r in rows if r["来源"] == "amounts"}
    assert ("shanghai-putuo-czj-2024-final", "表1 收入决算数 2946.25（万元）") in figures
    assert ("zhuzhou-lusong-kjgxj-2020-final", "表2 本年收入合计 2540.24（万元）") in figures
    rows = await get_json(ds, f"/{DB}/search.json?_shape=array&q=公务接待费")  # spending as before
    assert ("zhuzhou-lusong-kjgxj-2020-final", "表7 预算数 0.50，决算数 0.12（万元）") in {
        (r["report_id"], r["数字"]) for r in rows if r["来源"] == "amounts"}


async def test_words_naming_reports_narrow_a_search_only_when_no_text_holds_every_word(ds):
    # 住房 公积金 (2,616 texts at 10^6 rows) gave the 住房和城乡建设局's reports only: 住房 is in their
    # titles. Words found together as written are the query as written, whatever reports they name.
    narrowed = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": "财政 拨款", "_shape": "array"}))
    whole = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": "财政拨款", "_shape": "array"}))
    assert {r["report_id"] for r in narrowed if r["report_id"]} == {
        "shanghai-putuo-czj-2024-final", "zhuzhou-lusong-kjgxj-2020-final"}  # 财政 names 普陀's 财政局 only
    assert len(narrowed) >= len(whole)  # A B never finds less than AB
    # 信息化 is in 芦淞's title (科技和工业信息化局); 普陀's line 2010607 信息化建设 holds both words.
    rows = await get_json(ds, f"/{DB}/search.json?" + urlencode({"q": "信息化 建设", "_shape": "array"}))
    assert ("amounts", "2010607 信息化建设", "shanghai-putuo-czj-2024-final") in {
        (r["来源"], r["标题"], r["report_id"]) for r in rows}
