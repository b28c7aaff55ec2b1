"""The JSON API's errors, as the README promises them: ``{"ok": false, "error": ..., "status": ...}``
in plain text, whatever the ``_shape``; a ``_next`` that is not a page token refused (400) on
tables as on views, while the tokens Datasette gives still page through every row once."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from datasette.utils import compound_keys_after_sql

from opendata.site.sorted_pages import nulls_apart
from opendata.site.app import make_app

METADATA = Path(__file__).resolve().parent.parent / "metadata.yml"
DB = "opendata"
#: A query SQLite runs until the time limit cuts it off.
ENDLESS = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


@pytest.fixture
def quick_ds(site_db, site_package):
    """The site with a short time limit: a query cut off in 0.2 s, not 1."""
    return make_app(site_db, metadata=METADATA, package_dir=site_package, settings={"sql_time_limit_ms": 200})


def assert_json_error(response, status: int, message: str) -> dict:
    """``response`` is the README's JSON error: ``ok`` false, ``error`` in plain text holding
    ``message``, ``status`` the response's."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert isinstance(data, dict) and data["ok"] is False and data["status"] == status, data
    assert message in data["error"] and "<" not in data["error"], data["error"]
    return data


# --------------------------------------------------------------------------- _next on tables and views

@pytest.mark.parametrize("path, params, detail", [
    ("amounts", {"_next": "zzz"}, "a token of amounts is 5 values"),
    ("amounts", {"_next": "a,b,c,d,e,f,g"}, "a token of amounts is 5 values"),
    ("amounts", {"_next": "a,b,c,d"}, "a token of amounts is 5 values"),
    ("findings", {"_next": "zzz"}, "a token of findings sorted by severity is 2 values"),  # metadata.yml's sort
    ("findings", {"_next": "error,zzz"}, "the id of findings is a whole number"),
    ("findings", {"_sort": "id", "_next": "5"}, "a token of findings sorted by id is 2 values"),
    ("amounts", {"_sort": "amount", "_next": "zzz"}, "a token of amounts sorted by amount is 6 values"),
    ("amounts", {"_sort_desc": "amount", "_next": "zzz"}, "a token of amounts sorted by amount is 6 values"),
    ("amounts", {"_sort": "amount", "_next": "a,b,c,d,e"}, "a token of amounts sorted by amount is 6 values"),
    ("_report_totals", {"_next": "x"}, "the rowid of _report_totals is a whole number"),  # no primary key
    # A number column's value that is no number: the first page again, 200 (a developer's client looped).
    ("reports", {"_next": "abc,def"}, "its year is a number, not “abc”"),
    ("reports", {"_next": ","}, "its year is a number, not “”"),
    ("amounts", {"_next": "a,x,c,d,e"}, "its table_no is a number, not “x”"),
    ("amounts", {"_sort": "amount", "_next": "lots,a,5,c,d,e"}, "its amount is a number, not “lots”"),
    ("report_totals", {"_next": "-1"}, "report_totals is a view: its token is a row offset"),
    ("report_totals", {"_next": "+1"}, "report_totals is a view: its token is a row offset"),
])
@pytest.mark.parametrize("shape", [None, "array"])
async def test_a_next_that_is_not_a_page_token_is_refused(ds, capfd, path, params, detail, shape) -> None:
    """Tables answered their first page again (200), or SQLite's 'near ")": syntax error'."""
    await ds.invoke_startup()
    query = {**params, **({"_shape": shape} if shape else {})}
    r = await ds.client.get(f"/{DB}/{path}.json?" + urlencode(query))
    error = assert_json_error(r, 400, "_next: not a page token of this table or view")["error"]
    assert detail in error and "syntax error" not in error
    page = await ds.client.get(f"/{DB}/{path}?" + urlencode(params))
    assert page.status_code == 400 and detail in page.text and "Invalid SQL" not in page.text
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "syntax error" not in out + err


async def test_a_sort_datasette_cannot_use_is_said_before_the_token(ds) -> None:
    r = await ds.client.get(f"/{DB}/amounts.json?_sort=nope&_next=zzz")
    assert assert_json_error(r, 400, "Cannot sort table by nope")["error"] == "Cannot sort table by nope"


async def _every_page(ds, path: str) -> tuple[list, int]:
    """The rows of every page from ``path`` on, following ``next_url``; and how many pages."""
    rows, pages, url = [], 0, path
    while url:
        parts = urlsplit(url)
        r = await ds.client.get(f"{parts.path}?{parts.query}")
        assert r.status_code == 200, (url, r.text[:300])
        data = r.json()
        rows += [tuple(row) for row in data["rows"]]
        pages += 1
        url = data["next_url"]
    return rows, pages


@pytest.mark.parametrize("table, params, size", [
    ("amounts", {}, 7),  # five key columns
    ("amounts", {"_sort": "amount"}, 7),  # ties: 283 rows, 100 amounts
    ("amounts", {"_sort_desc": "amount"}, 7),
    ("amounts", {"_sort_desc": "code"}, 7),  # nulls: $null tokens
    ("amounts", {"_sort_desc": "item", "table_no": "5"}, 3),  # Chinese values, tilde-encoded in the token
    ("findings", {}, 2),  # sorted by severity in metadata.yml
    ("findings", {"_sort_desc": "id"}, 2),
    ("_report_totals", {}, 1),  # no primary key: the rowid
    ("report_totals", {}, 1),  # a view: an offset
])
async def test_datasettes_tokens_page_through_every_row_once(ds, table: str, params: dict, size: int) -> None:
    rows, pages = await _every_page(ds, f"/{DB}/{table}.json?" + urlencode({**params, "_size": size}))
    whole = (await ds.client.get(f"/{DB}/{table}.json?" + urlencode({**params, "_size": "max"}))).json()
    assert pages > 1
    assert len(rows) == whole["filtered_table_rows_count"] == len(whole["rows"])
    assert Counter(rows) == Counter(tuple(row) for row in whole["rows"])


@pytest.mark.parametrize("params, where", [
    ({"_sort_desc": "code"}, ""), ({"_sort_desc": "classification_id", "table_no": "5"}, "where table_no = 5")])
async def test_pages_in_descending_order_read_the_nulls_apart(ds, site_db, params: dict, where: str) -> None:
    # code < :p or code is null or (code = :p and key > ...): three ways into amounts, all read and
    # sorted on every page (past the time limit by page 2 at 10^6 rows). The rows, in their order.
    column = params["_sort_desc"]
    rows, pages = await _every_page(ds, f"/{DB}/amounts.json?" + urlencode({**params, "_size": 5}))
    key = "report_id, table_no, side, line_key, measure"
    with sqlite3.connect(site_db) as conn:
        expected = [tuple(r) for r in conn.execute(f"select {key} from amounts {where} order by {column} desc, {key}")]
        nulls = conn.execute(f"select count(*) from amounts {where} {'and' if where else 'where'} {column} is null").fetchone()[0]
    assert pages > 3 and nulls > 5  # the nulls span pages
    names = (await ds.client.get(f"/{DB}/amounts.json?_size=1")).json()["columns"]
    assert [tuple(r[names.index(c)] for c in key.split(", ")) for r in rows] == expected
    # The second page's query, as Datasette gives it and as it runs: one search of the column's index.
    first = (await ds.client.get(f"/{DB}/amounts.json?" + urlencode({**params, "_size": 5}))).json()
    parts = urlsplit(first["next_url"])
    query = (await ds.client.get(f"{parts.path}?{parts.query}")).json()["query"]
    with sqlite3.connect(site_db) as conn:
        plans = [" | ".join(r[3] for r in conn.execute("explain query plan " + sql, query["params"]))
                 for sql in (query["sql"], nulls_apart(query["sql"]))]
    assert "MULTI-INDEX OR" not in plans[1] and ("MULTI-INDEX OR" in plans[0] or where), plans


async def test_a_next_page_searches_the_keys_index(ds, site_db) -> None:
    """The next page of amounts (five key columns) walked the key's index from its first row to the
    cursor: a CSV of every row (``_stream=on``) slowed as it went (~90 s for 287,000 rows). Every
    page.s rows, sorted and filtered too: test_datasettes_tokens_page_through_every_row_once."""
    first = (await ds.client.get(f"/{DB}/amounts.json?_size=5")).json()
    parts = urlsplit(first["next_url"])
    page = (await ds.client.get(f"{parts.path}?{parts.query}")).json()
    sql, values = page["query"]["sql"], page["query"]["params"]
    key = "report_id, table_no, side, line_key, measure"
    assert f"(({key}) > (:p0, :p1, :p2, :p3, :p4))" in sql, sql
    with sqlite3.connect(site_db) as conn:
        plan = " ".join(r[3] for r in conn.execute("explain query plan " + sql, values))
        assert plan == f"SEARCH amounts USING INDEX sqlite_autoindex_amounts_1 (({key.replace(' ', '')})>(?,?,?,?,?))"
        # The rows after the cursor, as Datasette's own condition selects them.
        where = compound_keys_after_sql(key.split(", "))
        after = conn.execute(f"select {key} from amounts where {where} order by {key} limit 5", values).fetchall()
    assert [(r[0], r[1], r[2], r[4], r[8]) for r in page["rows"]] == after


@pytest.mark.parametrize("params", [{"_sort": "item"}, {"_sort": "code", "table_no": "5"}, {"_sort_desc": "item"},
                                    {"_sort_desc": "code"}, {"_sort": "explanation", "_size": 50}])
async def test_a_sorted_first_pages_ties_are_in_key_order(ds, params: dict) -> None:
    """Datasette 0.65 ordered a sorted first page by the sort column alone and the pages after it by
    the column then the key: rows of one value came again on the second page, or never."""
    rows, pages = await _every_page(ds, f"/{DB}/amounts.json?" + urlencode({"_size": 3, **params}))
    whole = (await ds.client.get(f"/{DB}/amounts.json?" + urlencode({**params, "_size": "max"}))).json()
    assert pages > 1 and len(rows) == len(set(rows)) == whole["filtered_table_rows_count"]
    assert rows == [tuple(r) for r in whole["rows"]]  # each page in the first page's order


async def test_a_sorted_first_page_is_ordered_by_its_column_then_the_key(ds) -> None:
    first = (await ds.client.get(f"/{DB}/amounts.json?_sort=measure&_size=20")).json()  # ties: 20 of one measure
    key = ["report_id", "table_no", "side", "line_key", "measure"]
    with sqlite3.connect(":memory:") as conn:  # SQLite's order of the values and keys of those rows
        conn.execute(f"create table r (sorted_by, {', '.join(key)})")
        conn.executemany("insert into r values (?, ?, ?, ?, ?, ?)",
                         [(r[8], r[0], r[1], r[2], r[4], r[8]) for r in first["rows"]])
        ordered = conn.execute(f"select * from r order by sorted_by, {', '.join(key)}").fetchall()
    assert len({r[8] for r in first["rows"]}) < 20
    assert [(r[8], r[0], r[1], r[2], r[4], r[8]) for r in first["rows"]] == ordered
    # A query's own SQL runs as written.
    own = (await ds.client.get(f"/{DB}.json?" + urlencode({"sql": "select item from amounts order by item limit 3"}))).json()
    assert own["query"]["sql"] == "select item from amounts order by item limit 3" and len(own["rows"]) == 3


# ------------------------------------------------------------------ every JSON error says ok, error, status

@pytest.mark.parametrize("shape", [None, "array", "arrayfirst", "objects"])
@pytest.mark.parametrize("sql, message", [
    ("select 1; select 2", "You can only execute one statement at a time."),
    ("select * from nosuch", "no such table: nosuch"),
    ("select nosuch from amounts", "no such column: nosuch"),
])
async def test_a_querys_sql_error_has_a_status(ds, sql: str, message: str, shape: str | None) -> None:
    """Datasette's query page gave ``ok`` and ``error`` without ``status``."""
    params = {"sql": sql, **({"_shape": shape} if shape else {})}
    data = assert_json_error(await ds.client.get(f"/{DB}.json?" + urlencode(params)), 400, message)
    assert data["error"] == message and data["query"]["sql"] == sql and data["rows"] == []


@pytest.mark.parametrize("shape", [None, "array"])
async def test_a_timed_out_query_says_so_in_plain_text(quick_ds, shape: str | None) -> None:
    """Datasette's JSON gave its error page's HTML: a link, the SQL in a textarea, a <script>."""
    shaped = {"_shape": shape} if shape else {}
    r = await quick_ds.client.get(f"/{DB}.json?" + urlencode({"sql": ENDLESS, **shaped}))
    assert assert_json_error(r, 400, "")["error"] == "查询超时（SQL query took too long: over the 200 ms limit）"
    r = await quick_ds.client.get(f"/{DB}.json?" + urlencode({"sql": ENDLESS, "_timelimit": "50", **shaped}))
    assert r.json()["error"] == "查询超时（SQL query took too long: over the 50 ms limit）"
    # The page said Datasette's English, with a link to its documentation.
    page = await quick_ds.client.get(f"/{DB}?" + urlencode({"sql": ENDLESS}))
    assert page.status_code == 400 and "查询超时（SQL query took too long: over the 200 ms limit）" in page.text
    assert "sql_time_limit_ms</a>" not in page.text


@pytest.mark.parametrize("path, said", [
    (f"/{DB}.csv?" + urlencode({"sql": "select * from nosuch"}), "400：没有“nosuch”这个表（no such table: nosuch）"),  # was 200, an empty CSV
    (f"/{DB}.csv?" + urlencode({"sql": "select zeroblob(2000000)"}),
     "400：值过长：一个值最多 250,000 个字节（string or blob too big）"),  # the same
    (f"/{DB}.csv?" + urlencode({"sql": ENDLESS}), "400：查询超时（SQL query took too long: over the 200 ms limit）"),  # a 500
    (f"/{DB}/amounts.csv?" + urlencode({"_where": f"({ENDLESS}) > 0"}),
     "400：查询超时（SQL query took too long: over the 200 ms limit）"),  # the same
])
async def test_a_failed_querys_csv_is_a_400(quick_ds, capfd, path: str, said: str) -> None:
    r = await quick_ds.client.get(path)
    # As plain text, the message in Chinese where it is known (not Datasette's HTML page: a script reads CSV).
    assert (r.status_code, r.text) == (400, said + "\n") and r.headers["content-type"].startswith("text/plain")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    ok = await quick_ds.client.get(f"/{DB}.csv?" + urlencode({"sql": "select 1 as a"}))
    assert ok.status_code == 200 and ok.text == "\ufeffa\r\n1\r\n"


#: 283 x 283 rows of the shipped amounts: more than the 1,000 a query returns.
_CROSS = "select a.amount from amounts a, amounts b"


async def test_a_querys_rows_cut_at_the_cap_are_said_to_be(quick_ds) -> None:
    # Its CSV was the first 1,000 rows with 200, and its JSON array too: no sign of the rest.
    r = await quick_ds.client.get(f"/{DB}.csv?" + urlencode({"sql": _CROSS + " limit 5000"}))
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("400：结果超过 1,000 行（一次查询最多返回的行数），CSV 会漏掉其余的行")
    whole = await quick_ds.client.get(f"/{DB}.csv?" + urlencode({"sql": _CROSS + " limit 1000"}))
    assert whole.status_code == 200 and len(whole.text.splitlines()) == 1001
    for extra in ({"_shape": "array"}, {"_shape": "array", "_nl": "on"}, {"_shape": "arrays"}):
        cut = await quick_ds.client.get(f"/{DB}.json?" + urlencode({"sql": _CROSS + " limit 5000", **extra}))
        assert cut.status_code == 200 and cut.headers["x-truncated"] == "true"
        assert cut.headers["access-control-expose-headers"] == "Link, X-Truncated"  # readable by another site's page
    full = await quick_ds.client.get(f"/{DB}.json?" + urlencode({"sql": _CROSS + " limit 1000", "_shape": "array"}))
    assert len(full.json()) == 1000 and "x-truncated" not in full.headers
    page = await quick_ds.client.get(f"/{DB}/amounts.json?_shape=array&_size=5")  # a table's page is paged (Link)
    assert "x-truncated" not in page.headers and 'rel="next"' in page.headers["link"]


@pytest.mark.parametrize("method, path", [("POST", f"/{DB}/amounts.json"), ("POST", f"/{DB}/amounts"),
                                          ("POST", f"/{DB}/search?q=x"), ("POST", f"/{DB}/search.json"),
                                          ("DELETE", "/"), ("PUT", f"/{DB}/amounts.json")])
async def test_a_method_other_than_get_is_a_405(ds, capfd, method: str, path: str) -> None:
    # A POST to a table was a 500 (Datasette's AssertionError in the log), to a named query a 500
    # (an AttributeError); DELETE / answered the landing page.
    await ds.invoke_startup()
    r = await ds.client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "本站只读" in r.text
    if path.endswith(".json"):
        assert_json_error(r, 405, "Method Not Allowed")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert (await ds.client.request("OPTIONS", f"/{DB}/amounts.json")).status_code == 200  # CORS's preflight


@pytest.mark.parametrize("path", [f"/{DB}/amounts.json", "/-/databases.json", "/-/versions.json", "/",
                                  f"/{DB}/search.json", "/datapackage/datapackage.json"])
async def test_a_cors_preflight_is_answered_on_every_path(ds, path: str) -> None:
    # /-/databases.json answered OPTIONS with a 405 and no CORS header; / with the whole landing page.
    r = await ds.client.request("OPTIONS", path)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("path", ["/-/patterns", "/-/messages", "/-/allow-debug", "/-/threads"])
async def test_datasettes_debugging_pages_are_not_served(ds, path: str) -> None:
    r = await ds.client.get(path)
    assert r.status_code == 404 and "找不到该页面" in r.text
    # nor their JSON (/-/threads.json listed the server's threads)
    assert_json_error(await ds.client.get(path + ".json"), 404, "")


@pytest.mark.parametrize("path", [f"/{DB}/amounts.xml", f"/{DB}/amounts.JSON", f"/{DB}/amounts.tsv", f"/{DB}.xml",
                                  f"/{DB}/reports/shanghai-putuo-czj-2024-final.xml", f"/{DB}/compare_totals.xml",
                                  f"/{DB}/amounts.db"])
async def test_a_format_the_site_does_not_write_is_a_404(ds, path: str) -> None:
    # Datasette answered each with the HTML page and 200: a script asking for a format got a page.
    r = await ds.client.get(path)
    fmt = path.rsplit(".", 1)[1]
    assert r.status_code == 404 and r.text.startswith(f"404：没有“.{fmt}”这种格式，请用 .json 或 .csv")
    assert r.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("path", [f"/{DB}.json", f"/{DB}.db", "/favicon.ico", f"/{DB}/amounts.csv?_size=1",
                                  "/datapackage/datapackage.json", "/-/static/app.css"])
async def test_the_formats_the_site_writes_are_served(ds, path: str) -> None:
    assert (await ds.client.get(path)).status_code == 200


async def test_a_percent_encoded_key_keeps_its_format(ds) -> None:
    # quote("2060101@2020", safe="") is 2060101%402020: Datasette redirected to 2060101~402020~2Ejson
    # (the .json taken into the key), an HTML 404.
    r = await ds.client.get(f"/{DB}/classification/2060101%402020.json?_shape=array")
    assert r.status_code == 302 and r.headers["location"] == f"/{DB}/classification/2060101~402020.json?_shape=array"
    [row] = (await ds.client.get(r.headers["location"])).json()
    assert (row["classification_id"], row["name"]) == ("2060101@2020", "行政运行")
    page = await ds.client.get(f"/{DB}/classification/2060101%402020")  # without a format: Datasette's own
    assert page.status_code == 302 and page.headers["location"] == f"/{DB}/classification/2060101~402020"


async def test_a_query_string_past_8_kb_is_a_414(ds) -> None:
    # line_no__in=0,...,9999 (49 KB): a 69 KB Link header (http.client refuses over 65,536) and
    # 2.2 MB of JSON for one row, every facet link repeating the list.
    values = ",".join(map(str, range(10000)))
    r = await ds.client.get(f"/{DB}/amounts.json?_size=1&line_no__in={values}")
    assert_json_error(r, 414, "URI too long: the query string is over 8,192 bytes")
    page = await ds.client.get(f"/{DB}/amounts?line_no__in={values}")
    assert page.status_code == 414 and page.text.startswith("414：请求的参数过长")
    fits = ",".join(map(str, range(1500)))  # 6,390 bytes: answered
    r = await ds.client.get(f"/{DB}/amounts.json?_shape=array&line_no__in={fits}&table_no=7")
    assert r.status_code == 200 and len(r.json()) == 16  # every 表7 figure of both reports


async def test_a_key_column_asked_with_col_comes_once(ds) -> None:
    r = await ds.client.get(f"/{DB}/amounts.csv?_size=1&_col=table_no&_col=item&_col=amount")
    assert r.text.splitlines()[0] == "\ufeffreport_id,table_no,side,line_key,measure,item,amount"
    data = (await ds.client.get(f"/{DB}/amounts.json?_size=1&_col=table_no&_col=item")).json()
    assert data["columns"] == ["report_id", "table_no", "side", "line_key", "measure", "item"]


@pytest.mark.parametrize("value", ["-5", "0", "abc"])
async def test_a_timelimit_that_is_not_a_positive_number_is_refused(ds, value: str) -> None:
    # _timelimit=-5 said the query took over 1,000 ms (it took none).
    r = await ds.client.get(f"/{DB}.json?" + urlencode({"sql": ENDLESS, "_timelimit": value}))
    assert_json_error(r, 400, "_timelimit: a whole number of milliseconds, 1 or more")


async def test_the_shipped_time_limit_is_the_one_said(ds) -> None:
    r = await ds.client.get(f"/{DB}.json?" + urlencode({"sql": ENDLESS}))
    assert assert_json_error(r, 400, "")["error"] == "查询超时（SQL query took too long: over the 1,000 ms limit）"


@pytest.mark.parametrize("where, message", [
    ("1=1; select 1", '_where: near ";": syntax error'),  # in its brackets, one condition
    ("zeroblob(2000000000)", "_where: string or blob too big"),
])
async def test_a_where_sqlite_refuses_is_a_400(ds, capfd, where: str, message: str) -> None:
    # Each was a 500 with a traceback in the server's log (anyone could fill it).
    assert_json_error(await ds.client.get(f"/{DB}/amounts.json?" + urlencode({"_where": where})), 400, message)
    csv = await ds.client.get(f"/{DB}/amounts.csv?" + urlencode({"_where": where}))
    assert csv.status_code == 400 and csv.text.startswith("400：_where 条件无法执行：")
    assert "Traceback" not in "".join(capfd.readouterr())


@pytest.mark.parametrize("path, message", [
    (f"/{DB}.json?sql=select+1&_shape=object", "_shape=object is only available on tables"),
    (f"/{DB}/compare_totals.json?_shape=object", "_shape=object is only available on tables"),
    (f"/{DB}/report_totals.json?_shape=object", "_shape=object not available for tables with no primary keys"),
])
async def test_shape_object_where_it_cannot_be_given_is_a_400(ds, path: str, message: str) -> None:
    """Datasette answered ``{"ok": false, "error": ...}`` with status 200 and no ``status``."""
    assert_json_error(await ds.client.get(path), 400, message)
    assert (await ds.client.get(f"/{DB}/reports.json?_shape=object")).status_code == 200


@pytest.mark.parametrize("path, status", [
    (f"/{DB}/nosuch.json", 404),
    (f"/{DB}/nosuch.json?_shape=array", 404),
    (f"/{DB}/amounts.json?_sort=nope&_shape=array", 400),
    (f"/{DB}/amounts.json?_shape=nope", 400),
    (f"/{DB}/amounts.json?_next=zzz&_shape=array", 400),
    (f"/{DB}.json?sql=delete+from+amounts&_shape=array", 400),
    (f"/{DB}/compare_totals.json?_shape=array&_timelimit=x", 400),
])
async def test_every_json_error_has_ok_error_and_status(ds, path: str, status: int) -> None:
    assert_json_error(await ds.client.get(path), status, "")


# --------------------------------------------------------------------------- filters and facets

@pytest.mark.parametrize("params, detail, zh", [
    # SQLite read an unknown double-quoted column as a text: every row ('amout' > 100), 200
    ({"amout__gt": "100"}, "no such column: amout", "没有“amout”这一列"),
    ({"amout": "100"}, "no such column: amout", "没有“amout”这一列"),
    # numbers compared with a text: every row (lt) or none (gt), 200
    ({"amount__lt": "abc"}, "amount__lt: a number is needed", "amount__lt 须为数字"),
    ({"amount__gt": "1,000"}, "amount__gt: a number is needed", "amount__gt 须为数字"),
    ({"table_no__gte": "五"}, "table_no__gte: a number is needed", "table_no__gte 须为数字"),
    # a number column matched with a word: no row (exact, in) or every row (not, notin), 200
    ({"table_no": "abc"}, "table_no: a number is needed", "table_no 须为数字"),
    ({"amount__exact": "2,541.56"}, "amount__exact: a number is needed", "amount__exact 须为数字"),
    ({"amount__not": "abc"}, "amount__not: a number is needed", "amount__not 须为数字"),
    ({"table_no__in": "1,二"}, "table_no__in: a number is needed", "table_no__in 须为数字"),
    ({"table_no__notin": '["x"]'}, "table_no__notin: a number is needed", "table_no__notin 须为数字"),
    # a key column left out: "_nocol=report_id - invalid columns", of a column the table has
    ({"_nocol": "report_id"}, "_nocol=report_id: a key column, always given", "“report_id”是主键列，每行都会给出"),
    # a digit to str.isdigit that int() refuses: a 500 with a traceback
    ({"amount__lt": "²"}, "amount__lt: a number is needed", "amount__lt 须为数字"),
    # an operator Datasette does not know: the filter left out, every row
    ({"amount__gte2": "1"}, "no such filter operator 'gte2'", "没有“gte2”这种筛选条件"),
    # a facet by no column: SQL run, its error logged, coroutines never awaited
    ({"_facet": "nosuch"}, "no such column: nosuch", "没有“nosuch”这一列"),
    ({"_facet_array": "nosuch"}, "no such column: nosuch", "没有“nosuch”这一列"),
    ({"_facet": '{"simple": "nosuch"}'}, "no such column: nosuch", "没有“nosuch”这一列"),
    # a search the table cannot answer: left out, every row answered as if it matched
    ({"_search": "科技"}, "_search: amounts has no full-text index", "“amounts”表没有全文索引"),
    ({"_zh": "公务"}, "_zh: amounts has no Chinese search", "“amounts”表不能用 _zh 搜索"),
    # a facet size that is not one: the default (12) answered
    ({"_facet": "item", "_facet_size": "abc"}, "_facet_size: a number of values, 1 or more, or max", "_facet_size 须为正整数"),
    ({"_facet": "item", "_facet_size": "-1"}, "_facet_size: a number of values, 1 or more, or max", "_facet_size 须为正整数"),
])
@pytest.mark.parametrize("shape", [None, "array"])
async def test_a_filter_or_facet_the_table_cannot_answer_is_refused(ds, capfd, params, detail, zh, shape) -> None:
    await ds.invoke_startup()
    query = {**params, **({"_shape": shape} if shape else {})}
    assert_json_error(await ds.client.get(f"/{DB}/amounts.json?" + urlencode(query)), 400, detail)
    page = await ds.client.get(f"/{DB}/amounts?" + urlencode(params))
    assert page.status_code == 400 and zh in page.text
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "never awaited" not in out + err and "ERROR" not in out + err


@pytest.mark.parametrize("table, params, rows", [
    # Columns a view computes have no declared type: their filters were not checked (every row, or none)
    ("class_shares", {"share_pct__lt": "abc"}, None),
    ("report_totals", {"total_expenditure__gt": "abc"}, None),
    ("budget_execution", {"final_amount__gt": "abc"}, None),
    ("class_shares", {"share_pct__lt": "5"}, 4),       # Putuo 210 (2.07%), Lusong 212, 208, 224 (4.85, 0.09, 0.0)
    ("class_shares", {"item": "abc"}, 0),              # a text column a view computes
])
async def test_a_computed_columns_filter_is_checked_by_its_values(ds, table, params, rows) -> None:
    r = await ds.client.get(f"/{DB}/{table}.json?" + urlencode({**params, "_shape": "array"}))
    if rows is None:
        key = next(iter(params))
        assert_json_error(r, 400, f"{key}: a number is needed")
    else:
        assert r.status_code == 200 and len(r.json()) == rows, r.text[:300]


@pytest.mark.parametrize("params, rows", [
    # 表1 over 2,000 万元: Putuo's 2,106.66 (一般公共服务支出), 2,940.05 twice, 2,946.25, 2,995.39
    # twice; Lusong's 2,541.56 twice (收、支总计) and 2,540.24 twice (本年收入/支出合计)
    ({"amount__gt": "2000", "table_no": "1"}, 10),
    ({"amount__gt": " 2e3 ", "table_no": "1"}, 10),  # as SQLite reads a number
    ({"amount__gt": "2541.56", "table_no": "1"}, 5),
    ({"amount__lte": "-0.5"}, 0),
    ({"rowid__lt": "3"}, 2),
    ({"table_no": "7", "amount__not": "0"}, None),
    ({"table_no__in": "1, 7", "amount": "2541.56"}, 2),   # Lusong's 收、支总计
    ({"table_no__in": "[1, 7]", "amount": "2541.56"}, 2),
    ({"table_no__notin": "2,3,4,5,6,7,8,9", "amount": "2541.56"}, 2),
    ({"item": "abc"}, 0),                              # a text column matched with a word
    ({"report_id__gt": "shanghai"}, None),           # a text column compared with a text
    ({"_facet": "table_no"}, None),
])
async def test_filters_the_table_can_answer_still_answer(ds, params: dict, rows: int | None) -> None:
    r = await ds.client.get(f"/{DB}/amounts.json?" + urlencode({**params, "_shape": "array", "_size": "max"}))
    assert r.status_code == 200, r.text[:300]
    if rows is not None:
        assert len(r.json()) == rows


async def test_a_search_hits_link_opens_the_lines_it_names(ds) -> None:
    # The hit “三公”经费 (表7's total line, line key 合计) linked to line_key=合计: all 13 of the
    # report's total lines, of 表2, 3, 5, 6 and 7.
    hits = (await ds.client.get(f"/{DB}/search.json?" + urlencode({"q": "三公经费", "_shape": "array"}))).json()
    hit = next(h for h in hits if h["标题"] == "“三公”经费" and h["report_id"] == "zhuzhou-lusong-kjgxj-2020-final"
               and h["来源"] == "amounts")
    rows = (await ds.client.get(f"/{DB}/" + hit["查看"].replace("?", ".json?", 1) + "&_shape=array")).json()
    assert sorted((r["table_no"], r["line_key"], r["item"], r["measure"], r["amount"]) for r in rows) == [
        (7, "合计", "“三公”经费", "决算数", 0.12), (7, "合计", "“三公”经费", "预算数", 0.5)]  # 第三部分 七（一）
    assert hit["数字"] == "表7 预算数 0.50，决算数 0.12（万元）"


async def test_a_streamed_csv_is_read_in_pages_of_a_thousand_rows(ds, monkeypatch) -> None:
    # Datasette 0.65 streamed in pages of the site's page size (50): a sorted stream sorted the
    # table again for each page (155 s for 258,136 rows of amounts, 13 s in pages of 1,000).
    db = ds.get_database(DB)
    pages: list[str] = []
    execute = db.execute

    async def counted(sql, *args, **kwargs):
        if "from amounts" in sql and " limit " in sql and "count(" not in sql:
            pages.append(sql)
        return await execute(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute", counted)
    r = await ds.client.get(f"/{DB}/amounts.csv?_stream=on&_sort=amount")
    assert r.status_code == 200 and len(r.text.splitlines()) == 1 + 283
    assert len(pages) == 1 and pages[0].rstrip().endswith("limit 1001"), pages
    # _stream=off does not stream (Datasette read any value as on): the first page only.
    assert len((await ds.client.get(f"/{DB}/amounts.csv?_stream=off&_size=10")).text.splitlines()) == 11


async def test_a_where_with_or_is_one_condition(ds) -> None:
    # "report_id = :p0 and amount > 2000 or amount < 1": rows of the other report, and a next page
    # that was the same page again.
    report = "zhuzhou-lusong-kjgxj-2020-final"
    rows, url = [], f"/{DB}/amounts.json?" + urlencode({"report_id": report, "_where": "amount > 2000 or amount < 1",
                                                        "_size": 5})
    for _ in range(20):
        page = (await ds.client.get(url)).json()
        rows += page["rows"]
        if not page["next_url"]:
            break
        url = page["next_url"].split("localhost", 1)[-1]
    assert page["next_url"] is None
    columns = page["columns"]
    keys = [tuple(r[columns.index(c)] for c in ("report_id", "table_no", "side", "line_key", "measure")) for r in rows]
    assert len(keys) == len(set(keys)) and {r[0] for r in rows} == {report}
    with sqlite3.connect(ds.databases[DB].path) as conn:
        expected = conn.execute("select count(*) from amounts where report_id = ? and (amount > 2000 or amount < 1)",
                                [report]).fetchone()[0]
    assert len(rows) == expected > 5 and all(r[columns.index("amount")] > 2000 or r[columns.index("amount")] < 1
                                             for r in rows)


async def test_an_empty_where_adds_no_condition(ds) -> None:
    # _where= was a 400: near "order": syntax error.
    r = await ds.client.get(f"/{DB}/amounts.json?_where=&table_no=7&_shape=array")
    assert r.status_code == 200 and len(r.json()) == 16


async def test_an_array_facet_of_a_column_of_text_says_so(ds) -> None:
    # "malformed JSON" under the title Invalid SQL, for a client who wrote no SQL and no JSON.
    r = await ds.client.get(f"/{DB}/amounts.json?_facet_array=item")
    assert_json_error(r, 400, "_facet_array=item: the column does not hold JSON lists")
    page = await ds.client.get(f"/{DB}/amounts?_facet_array=item")
    assert page.status_code == 400 and "“item”列的值不是 JSON 列表" in page.text
