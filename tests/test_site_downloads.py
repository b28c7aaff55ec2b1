"""What citizens take away from a table page: the rows a filter by the words they see selects, and
the CSV of every one of them."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode, urlsplit

import pytest

from opendata.site.app import make_app
from opendata.site.query_args import stored_values
from test_site import DB, METADATA, get_json, soup_of


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


# ------------------------------------------------------------------------- filters by shown words

@pytest.mark.parametrize("table, shown, stored", [
    ("findings", {"severity": "错误"}, {"severity": "error"}),
    ("amounts", {"source_kind": "附表"}, {"source_kind": "table"}),
    ("amounts", {"code_certainty__in": "由名称推定（高）,stated"}, {"code_certainty__in": "high,stated"}),
    ("amounts", {"source_kind__not": "情况说明原文"}, {"source_kind__not": "narrative"}),
    ("reports", {"tables_attached": "否"}, {"tables_attached": "0"}),
])
async def test_a_filter_by_the_word_a_page_shows_selects_the_rows_of_its_value(ds, table, shown, stored):
    # 严重程度 = 错误 (the word in every row) gave 共 0 行: the column holds "error".
    by_word = await get_json(ds, f"/{DB}/{table}.json?_shape=array&_size=max&" + urlencode(shown))
    by_value = await get_json(ds, f"/{DB}/{table}.json?_shape=array&_size=max&" + urlencode(stored))
    assert by_word and by_word == by_value
    page = soup_of(await ds.client.get(f"/{DB}/{table}?" + urlencode(shown)))
    assert page.select_one("h3").get_text(" ", strip=True).startswith(f"共 {len(by_value)} 行")


def test_only_a_coded_columns_shown_words_are_read_as_its_values():
    assert stored_values("severity=错误&rule_id=错误".encode(), "findings") == b"severity=error&rule_id=%E9%94%99%E8%AF%AF"
    assert stored_values("severity=提示".encode(), "rules") == b"severity=warning"
    assert stored_values("severity=错误".encode(), "amounts") == "severity=错误".encode()  # no such coded column
    assert stored_values(b"severity=bogus&_sort=id", "findings") == b"severity=bogus&_sort=id"
    assert stored_values('source_kind__in=["附表"]'.encode(), "amounts") == 'source_kind__in=["附表"]'.encode()


# ------------------------------------------------------------------------------------------ CSV

async def test_a_table_pages_csv_link_downloads_every_row_the_filters_select(ds):
    # Its link gave 1,000 rows of 36,867 without a word, as text in the browser.
    with_filter = f"/{DB}/amounts?table_no=5"
    page = soup_of(await ds.client.get(with_filter))
    count = (await get_json(ds, f"/{DB}/amounts.json?table_no=5&_size=0"))["filtered_table_rows_count"]
    assert count > 50  # more than a page
    link = page.select_one("p.export-links a.csv-download")
    assert f"下载全部 {count} 行" in page.select_one("p.export-links").get_text()
    response = await ds.client.get(link["href"])
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="amounts.csv"'
    assert response.content.startswith("\ufeff".encode())  # Excel on a Chinese Windows reads UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == count and {r["table_no"] for r in rows} == {"5"}


async def test_a_pages_csv_link_of_a_short_table_is_a_file_too(ds):
    page = soup_of(await ds.client.get(f"/{DB}/reports"))
    link = page.select_one("p.export-links a.csv-download")["href"]
    assert "_stream" not in link and "_dl=on" in link
    response = await ds.client.get(link)
    assert response.headers["content-disposition"] == 'attachment; filename="reports.csv"'
    assert len(list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))) == 2


@pytest.mark.parametrize("query", ["", "?_size=max", "?_labels=on", "?table_no=5&_size=max"])
async def test_a_tables_csv_is_the_whole_table_unless_a_page_is_asked_for(ds, query):
    # amounts.csv?_size=max (the README's example) gave the first 1,000 rows, saying nothing of the rest.
    data = await get_json(ds, f"/{DB}/amounts.json?_size=0&" + query.lstrip("?"))
    response = await ds.client.get(f"/{DB}/amounts.csv{query}")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.status_code == 200 and len(rows) == data["filtered_table_rows_count"] > 50


async def test_a_page_of_a_tables_csv_is_that_page(ds):
    for query, count in (("_size=10", 10), ("_stream=off", 50)):
        response = await ds.client.get(f"/{DB}/amounts.csv?{query}")
        assert len(response.content.decode("utf-8-sig").splitlines()) == 1 + count, query
    # A named query's CSV is its rows (past 1,000 a 400), not a stream.
    named = await ds.client.get(f"/{DB}/report_table5.csv?report_id=shanghai-putuo-czj-2024-final")
    assert named.status_code == 200 and len(named.content.decode("utf-8-sig").splitlines()) == 1 + 20


@pytest.mark.parametrize("pages_on", [1, "last"])
async def test_the_csv_link_of_a_later_page_downloads_every_row_too(ds, pages_on):
    # From page 2 its link kept the page's _next: 400, "_next not allowed for CSV streaming".
    url = f"/{DB}/amounts?table_no=5"
    count = (await get_json(ds, f"/{DB}/amounts.json?table_no=5&_size=0"))["filtered_table_rows_count"]
    page = soup_of(await ds.client.get(url))
    while True:
        url = urlsplit(page.find("a", string="下一页")["href"])
        url = f"{url.path}?{url.query}"
        page = soup_of(await ds.client.get(url))
        if pages_on == 1 or not page.find("a", string="下一页"):
            break
    assert "_next=" in url
    response = await ds.client.get(page.select_one("p.export-links a.csv-download")["href"])
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == count and {r["table_no"] for r in rows} == {"5"}
    form = page.select_one("#export form")
    assert form.select_one("input[name=_stream]") and not form.select("input[name=_next]")


async def test_a_stream_from_a_page_says_why_it_is_refused_in_chinese(ds):
    first = await get_json(ds, f"/{DB}/amounts.json?_size=2")
    response = await ds.client.get(f"/{DB}/amounts.csv?_stream=on&_next={first['next']}")
    assert response.status_code == 400 and "不能同时给出翻页参数 _next" in response.text


async def test_a_querys_csv_link_is_a_file(ds):
    # 表5 of a report: its CSV opened as plain text in the browser (no download, text/plain).
    page = soup_of(await ds.client.get(f"/{DB}/report_table5?report_id=shanghai-putuo-czj-2024-final"))
    response = await ds.client.get(page.select_one("p.export-links a.csv-download")["href"])
    assert response.headers["content-disposition"] == 'attachment; filename="report_table5.csv"'
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 20 and rows[0]["科目名称"] == "一般公共服务支出"


@pytest.mark.parametrize("path", [f"/{DB}/amounts", f"/{DB}/amounts.json?_shape=array&_size=max",
                                  f"/{DB}/amounts.csv?_size=max", "/datapackage/data/amounts.csv", "/"])
async def test_a_client_that_accepts_gzip_is_sent_the_answer_compressed(ds, path):
    # Every answer went as it was: a page of 50 amounts rows 103 KB, the whole table's CSV 44 KB
    # here (150 MB at 10^6 rows) to a phone that would take it gzipped.
    plain = await ds.client.get(path, headers={"accept-encoding": "identity"})
    packed = await ds.client.get(path, headers={"accept-encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    # As the client reads it, once decompressed (a page's footer says how long its queries took).
    timed = re.compile("查询用时 [0-9.]+".encode())
    assert timed.sub(b"", packed.content) == timed.sub(b"", plain.content)
    assert packed.num_bytes_downloaded < len(plain.content) / 2.5, (packed.num_bytes_downloaded, len(plain.content))
    if "content-length" in plain.headers:
        assert int(plain.headers["content-length"]) == len(plain.content)


async def test_a_short_answer_is_sent_as_it_is(ds):
    response = await ds.client.get(f"/{DB}/standard_tables.json?_shape=array&_size=1&_col=kind",
                                   headers={"accept-encoding": "gzip"})
    assert response.status_code == 200 and "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content) < 500


# ------------------------------------------------------------------- the CSV in Chinese for Excel

async def test_the_excel_csv_is_headed_and_worded_in_chinese_the_apis_is_not(ds):
    # The "Excel 可直接打开" download was report_id,table_no,side,... with table, high, not stated: a
    # developer's file. Now the names and words the pages show; the API's CSV is as it was.
    landing = soup_of(await ds.client.get("/"))
    excel = {a.find_parent("li").a.get_text(): a["href"] for a in landing.select("ul.downloads li a:not([download])")}
    assert excel["决算表数据"] == f"/{DB}/amounts.csv?_dl=on&_labels=on&_header=zh"
    zh = await ds.client.get(excel["决算表数据"])
    plain = await ds.client.get(f"/{DB}/amounts.csv?_dl=on")
    zh_rows = list(csv.reader(io.StringIO(zh.content.decode("utf-8-sig"))))
    rows = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["report_id", "table_no", "side"] and "table" in {r[rows[0].index("source_kind")] for r in rows}
    assert zh_rows[0][:4] == ["报告", "报告（名称）", "表号", "表号（名称）"] and len(zh_rows) == len(rows) == 284
    first = dict(zip(zh_rows[0], zh_rows[1]))
    assert (first["报告（名称）"], first["来源"], first["编码确定性"], first["出处"]) == (
        "2024年度上海市普陀区财政局部门决算", "附表", "由名称推定（高）", "表1 第1行（第6页）")
    # Amounts to the hundredth as printed (the API's CSV writes 10.0 and 0.0).
    amounts = [dict(zip(zh_rows[0], r))["金额"] for r in zh_rows[1:]]
    assert "10.00" in amounts and "0.00" in amounts and not [a for a in amounts if a and len(a.partition(".")[2]) < 2]
    statements = list(csv.DictReader(io.StringIO(
        (await ds.client.get(f"/{DB}/statements.csv?_header=zh&_size=max")).content.decode("utf-8-sig"))))
    shown = {r["数值"] for r in statements if r["单位"] == "%" and "下降2.10%" in r["原文句子"]}
    assert shown == {"-2.10"}  # 下降2.10%, not -2.1
    assert {r["数值"] for r in statements if r["单位"] in ("个", "家", "名", "人", "辆")} <= {
        r["数值"].partition(".")[0] for r in statements}  # counts whole: 4706 家, not 4706.0
    findings = (await ds.client.get(f"/{DB}/findings.csv?_header=zh&_labels=on&_size=max")).content.decode("utf-8-sig")
    assert "说明（英文）" not in findings.splitlines()[0] and "说明（中文）" in findings.splitlines()[0]
    reports = list(csv.reader(io.StringIO((await ds.client.get(f"/{DB}/reports.csv?_header=zh")).content.decode("utf-8-sig"))))
    assert {dict(zip(reports[0], r))["发布单位声明的使用条款"] for r in reports[1:]} == {"发布单位未声明"}
    assert {dict(zip(reports[0], r))["是否附有 9 张决算表"] for r in reports[1:]} == {"是", "否"}


async def test_a_table_pages_csv_links_offer_both(ds):
    page = soup_of(await ds.client.get(f"/{DB}/amounts?table_no=7"))
    zh, plain = page.select_one("a.csv-download-zh")["href"], page.select_one("a.csv-download")["href"]
    assert zh == plain + "&_header=zh" or zh.replace("&_header=zh", "") == plain
    body = (await ds.client.get(zh)).content.decode("utf-8-sig")
    # (a foreign key with its label: the page's rows name what they point to)
    count = (await get_json(ds, f"/{DB}/amounts.json?table_no=7&_size=0"))["filtered_table_rows_count"]
    assert body.startswith("报告,报告（名称）,表号,表号（名称）,收入或支出,行次") and body.count("\r\n") == 1 + count


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_the_chinese_csv_is_rewritten_whatever_its_chunks(chunk):
    # A record may be cut between two chunks, or hold a line end in quotes.
    from opendata.site.zh_csv import ZhCsv

    source = ('report_id,source_kind,explanation\r\nr1,table,"两行\r\n说明, 有逗号"\r\nr2,narrative,'
              '"引号""内"\r\nr3,other,\r\n').encode()
    writer = ZhCsv("amounts", {"report_id": "报告。", "source_kind": "来源。", "explanation": "说明。"})
    parts = [source[i:i + chunk] for i in range(0, len(source), chunk)]
    out = b"".join(writer.feed(part, last=i == len(parts) - 1) for i, part in enumerate(parts))
    assert list(csv.reader(io.StringIO(out.decode()))) == [
        ["报告", "来源", "说明"], ["r1", "附表", "两行\r\n说明, 有逗号"], ["r2", "情况说明原文", '引号"内'], ["r3", "other", ""]]
