"""What makes the site's pages cheaper keeps them the same: the schema of an immutable database read
once (``opendata.site.immutable_cache``) and the rows of a table page written by one Python loop
(``opendata.site.plugin.table_rows``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from datasette.app import Datasette
from datasette.database import Database

from opendata.site.app import make_app
from opendata.site.immutable_cache import METHODS, SCHEMA_SQL

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "metadata.yml"
DB = "opendata"


@pytest.fixture
def ds(site_db, site_package):
    return make_app(site_db, metadata=METADATA, package_dir=site_package)


@pytest.fixture
def round_trips(monkeypatch):
    """Every call Datasette makes to its SQLite threads, by the name of what it runs."""
    calls: list[str] = []
    original = Database.execute_fn

    async def counted(self, fn):
        calls.append(getattr(fn, "__qualname__", repr(fn)))
        return await original(self, fn)

    monkeypatch.setattr(Database, "execute_fn", counted)
    return calls


async def test_cached_schema_answers_as_sqlite_does(ds):
    """Every introspection method, for every table and view, answers what the uncached method
    reads from SQLite, the first time and the next."""
    await ds.invoke_startup()
    db = ds.databases[DB]
    assert db._opendata_immutable_cached
    names = await Database.table_names(db) + await Database.view_names(db)
    assert "amounts" in names and "report_totals" in names
    for name in METHODS:
        uncached = getattr(Database, name)
        args = [()] if name in ("table_names", "view_names", "hidden_table_names", "get_all_foreign_keys") \
            else [(n,) for n in names]
        if name == "get_view_definition":
            args = [(n,) for n in await Database.view_names(db)]
        for a in args:
            expected = await uncached(db, *a)
            assert await getattr(db, name)(*a) == expected, (name, a)
            assert await getattr(db, name)(*a) == expected, (name, a)


async def test_callers_get_copies(ds):
    await ds.invoke_startup()
    db = ds.databases[DB]
    columns = await db.table_columns("amounts")
    columns.append("not a column")
    fks = await db.foreign_keys_for_table("amounts")
    fks[0]["other_table"] = "changed"
    assert "not a column" not in await db.table_columns("amounts")
    assert all(fk["other_table"] != "changed" for fk in await db.foreign_keys_for_table("amounts"))


async def second_request(ds, path: str, round_trips: list[str]) -> tuple[str, list[str]]:
    """The rows table of the page's second request, and the round trips it made."""
    assert (await ds.client.get(path)).status_code == 200
    round_trips.clear()
    response = await ds.client.get(path)
    assert response.status_code == 200
    rows = BeautifulSoup(response.text, "html.parser").select_one("table.rows-and-columns")
    return str(rows), list(round_trips)


async def test_second_request_asks_sqlite_no_schema_question(site_db, site_package, seed_report, round_trips,
                                                             monkeypatch):
    path = f"/{DB}/amounts?report_id={seed_report}"
    rows, trips = await second_request(make_app(site_db, metadata=METADATA, package_dir=site_package), path,
                                       round_trips)
    # The rows, their count, four facets and their labels, the rows' labels: no schema lookup.
    assert trips and all(q == "Database.execute.<locals>.sql_operation_in_thread" for q in trips), trips
    monkeypatch.setattr("opendata.site.plugin.cache_schemas", lambda datasette: None)
    uncached_rows, uncached_trips = await second_request(
        make_app(site_db, metadata=METADATA, package_dir=site_package), path, round_trips)
    assert rows == uncached_rows and "1,980.21" in rows
    assert len(trips) <= len(uncached_trips) - 20, (len(trips), len(uncached_trips))


async def test_schema_sql_only_is_cached():
    assert SCHEMA_SQL.fullmatch("select sql from sqlite_master where name = :n and type=:t")
    assert SCHEMA_SQL.fullmatch("PRAGMA schema_version")
    assert SCHEMA_SQL.fullmatch("select name from sqlite_master where type in ('table', 'view') "
                                "and name = ? collate nocase")
    assert not SCHEMA_SQL.fullmatch("select * from amounts where code in (select name from sqlite_master)")
    assert not SCHEMA_SQL.fullmatch("select name from sqlite_master join amounts on 1")
    assert not SCHEMA_SQL.fullmatch("select name from sqlite_master; drop table amounts")


async def test_mutable_database_is_asked_every_time(tmp_path):
    path = tmp_path / "mutable.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table a (x)")
    ds = Datasette([str(path)])
    await ds.invoke_startup()
    db = ds.databases["mutable"]
    assert await db.table_names() == ["a"]
    await db.execute_write("create table b (y)")
    assert await db.table_names() == ["a", "b"]
    assert not getattr(db, "_opendata_immutable_cached", False)


async def test_internal_catalogue_filled_once(ds, round_trips):
    """Datasette's own catalogue of tables (read by its table and database pages) is filled on the
    first request; later requests do not check the schema versions again."""
    assert (await ds.client.get(f"/{DB}")).status_code == 200
    tables = await ds.databases["_internal"].execute(
        "select count(*) from tables where database_name = ?", [DB])
    assert tables.first()[0] >= 9
    round_trips.clear()
    await ds.client.get(f"/{DB}/standard_tables.json")
    assert not [q for q in round_trips if "schema" in q.lower()]


async def test_table_rows_escape_and_mark_cells(tmp_path):
    """The rows' cells as Datasette's template wrote them: a class per column and value type, text
    escaped, cells a plugin rendered (amounts with 万元) kept as markup."""
    path = tmp_path / "opendata.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table amounts (id integer primary key, item text, amount real, [odd col] text)")
        conn.execute("insert into amounts values (1, '<script>alert(1)</script>', 2540.24, ?)", ['a&b "c" ' + "'d'"])
    ds = make_app(path)
    soup = BeautifulSoup((await ds.client.get("/opendata/amounts")).text, "html.parser")
    row = soup.select("table.rows-and-columns tbody tr")
    assert len(row) == 1
    cells = {td["class"][0]: td for td in row[0].find_all("td")}
    assert cells["col-item"].get_text() == "<script>alert(1)</script>"
    assert cells["col-item"]["class"] == ["col-item", "type-str"]
    assert "<script>" not in str(soup.select_one("tbody"))
    assert cells["col-amount"].select_one("span.unit").get_text() == "万元"
    assert cells["col-amount"]["class"] == ["col-amount", "type-float"]
    odd = [c for c in cells if c.startswith("col-odd")]
    assert odd and cells[odd[0]].get_text() == 'a&b "c" ' + "'d'"
    # escaped as markupsafe's escape() writes it (Datasette's template's)
    assert "a&amp;b &#34;c&#34; &#39;d&#39;</td>" in (await ds.client.get("/opendata/amounts")).text
    assert cells["col-id"].a["href"] == "/opendata/amounts/1"  # the primary key links its row


async def test_cache_does_not_grow_with_any_url(ds, monkeypatch):
    """A table name in a URL is the visitor's choice: answers past the cap are not kept."""
    from opendata.site import immutable_cache

    monkeypatch.setattr(immutable_cache, "MAX_ANSWERS", 20)
    await ds.invoke_startup()
    db = ds.databases[DB]
    for i in range(40):
        assert (await ds.client.get(f"/{DB}/no_such_table_{i}")).status_code == 404
    assert (await ds.client.get(f"/{DB}/amounts.json?_size=1")).status_code == 200
    kept = [len(getattr(db, name).answers) for name in METHODS] + [len(db.execute.answers)]
    assert max(kept) <= 20 and sum(kept) > 0, kept
    assert await db.table_exists("no_such_table_39") is False
    assert await db.table_exists("amounts") is True


# --- JSON written as UTF-8 by Datasette's own renderer (opendata.site.json_output) ---

JSON_PAGES = [
    "/opendata/amounts.json?_shape=array&_size=20",
    "/opendata/amounts.json?_size=20",
    "/opendata/amounts.json?_shape=objects&_size=7&_labels=on",
    "/opendata/amounts.json?_shape=object&_size=5",
    "/opendata/reports.json?_shape=arrayfirst",
    "/opendata/statements.json?_shape=array&_size=30&topic__contains=支出",
    "/opendata/report_totals.json",
    "/opendata/compare_totals.json?_shape=array",
    "/opendata/report_overview.json?report_id=zhuzhou-lusong-kjgxj-2020-final",
    "/opendata/reports/zhuzhou-lusong-kjgxj-2020-final.json",
    "/opendata/reports/zhuzhou-lusong-kjgxj-2020-final.json?_shape=objects",
    "/opendata.json?sql=select+'中文'+as+a,+1e999+as+b,+x'ff00'+as+c",
    "/opendata.json?sql=select+'中文'+as+a,+1e999+as+b&_json_infinity=1&_shape=array",
    "/opendata.json?sql=select+'[\"科目\"]'+as+j&_json=j&_shape=array",
    "/opendata/amounts.json?_shape=nonsense",
    "/opendata/no_such_table.json",
]


def timeless(body: bytes) -> bytes:
    """The body with the time its query took (which differs from one request to the next) zeroed."""
    import re

    return re.sub(rb'"query_ms": [0-9.e-]+', b'"query_ms": 0', body)


def parsed(body: bytes) -> object:
    """The JSON's values, the query's time aside."""
    import json

    data = json.loads(body)
    if isinstance(data, dict):
        data.pop("query_ms", None)
    return data


async def test_json_pages_are_what_datasette_writes_then_unescaped(ds, seed_report, monkeypatch):
    """Every shape and option of the JSON API gives what Datasette's own renderer writes: the same
    values (written by orjson, without escapes and spaces), status and headers; with infinities
    kept (``_json_infinity=1``), byte for byte what it writes once parsed and written again
    without escapes (what the site did before)."""
    import json

    import orjson
    from datasette import renderer

    from opendata.site import json_output

    await ds.invoke_startup()
    new = {p: await ds.client.get(p) for p in JSON_PAGES}
    assert ds.renderers["json"][0] is json_output.render_json
    monkeypatch.setitem(ds.renderers, "json", (renderer.json_renderer, lambda: True))
    for path, response in new.items():
        old = await ds.client.get(path)
        assert response.status_code == old.status_code, path
        mine = parsed(response.content)
        if isinstance(mine, dict) and "facet_results" in mine:  # the site's own key: the facets cut off
            assert mine.pop("facets_timed_out") == [], path
        assert mine == parsed(old.content), path
        if "_json_infinity=1" in path:
            assert timeless(response.content) == timeless(old.content), path
            assert b"Infinity" in response.content
        elif response.status_code == 200:  # written by orjson (errors are Datasette's pages, as before)
            assert orjson.dumps(json.loads(response.content)) == response.content, path
        assert {**response.headers, "content-length": ""} == {**old.headers, "content-length": ""}, path
    assert new[JSON_PAGES[0]].status_code == 200 and b"\\u" not in new[JSON_PAGES[0]].content
    assert "决算数".encode() in new[JSON_PAGES[0]].content
    assert new["/opendata/amounts.json?_shape=nonsense"].status_code == 400


async def test_renderer_answers_are_sent_as_written(ds):
    """What the site's renderer writes (UTF-8 already) is not parsed and written again: orjson's
    bytes reach the client, escapes of control characters and all; other JSON (Datasette's own
    pages) is still unescaped; each says its length."""
    import orjson

    await ds.invoke_startup()
    response = await ds.client.get("/opendata.json?sql=select+char(1)+||+'中'+as+x&_shape=array")
    assert response.content == orjson.dumps([{"x": "\x01中"}]) == b'[{"x":"\\u0001\xe4\xb8\xad"}]'
    assert int(response.headers["content-length"]) == len(response.content)
    meta = await ds.client.get("/-/metadata.json", headers={"accept-encoding": "identity"})
    assert "收入支出决算总表".encode() in meta.content and b"\\u" not in meta.content
    assert int(meta.headers["content-length"]) == len(meta.content)


async def test_json_lines_say_their_charset(ds):
    await ds.invoke_startup()
    response = await ds.client.get("/opendata/standard_tables.json?_shape=array&_nl=on")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    lines = response.content.decode("utf-8").splitlines()
    assert len(lines) == 9 and '"title_zh":"收入支出决算总表"' in lines[0]


def test_utf8_renderer_is_datasettes_with_another_encoder():
    """The same function (code, defaults), the encoder its only difference; bytes and rows as
    Datasette writes them."""
    import json
    import sqlite3 as sq

    from datasette import renderer
    from datasette.utils import MultiParams

    from opendata.site.json_output import (
        FastJSONBytesEncoder,
        FastJSONEncoder,
        Utf8JSONEncoder,
        fast_json_lines_renderer,
        fast_json_renderer,
        utf8_json_renderer,
    )

    for ours, encoder in ((utf8_json_renderer, Utf8JSONEncoder), (fast_json_renderer, FastJSONBytesEncoder),
                          (fast_json_lines_renderer, FastJSONEncoder)):
        assert ours.__code__ is renderer.json_renderer.__code__
        assert ours.__globals__["CustomJSONEncoder"] is encoder
        assert renderer.json_renderer.__globals__["CustomJSONEncoder"] is not encoder
        changed = {k for k, v in ours.__globals__.items() if renderer.__dict__.get(k) is not v}
        assert changed == {"CustomJSONEncoder", "remove_infinites"}
    conn = sq.connect(":memory:")
    conn.row_factory = sq.Row
    row = conn.execute("select '株洲' as a, x'e4b8ad' as b, x'ff' as c, '\"\\\\\n\u2028😀' as d, "
                       "1e999 as e").fetchone()

    def data():
        return {"ok": True, "columns": ["a", "b", "c", "d", "e"],
                "rows": [row, ("中", b"\xff", None, 1.5, -1e999), ("x", None, None, None, 2.5)]}

    for shape in ("arrays", "array", "objects", "arrayfirst"):
        args = MultiParams({"_shape": [shape]})
        old = renderer.json_renderer(args, data(), "table").body
        new = utf8_json_renderer(args, data(), "table").body
        assert new == json.dumps(json.loads(old), ensure_ascii=False), shape
        assert json.loads(new) == json.loads(old)
        # orjson's bytes, the infinities null as Datasette makes them.
        fast = fast_json_renderer(args, data(), "table").body
        assert isinstance(fast, bytes) and json.loads(fast) == json.loads(old) and b"Infinity" not in fast
        assert fast.decode() == json.dumps(json.loads(old), ensure_ascii=False, separators=(",", ":")), shape
        # _nl=on: a line of text for each row.
        args = MultiParams({"_shape": [shape], "_nl": ["on"]})
        old = renderer.json_renderer(args, data(), "table").body
        lines = fast_json_lines_renderer(args, data(), "table").body
        assert isinstance(lines, str) and [json.loads(x) for x in lines.split("\n")] == [
            json.loads(x) for x in old.split("\n")], shape
    assert "株洲" in new and "\\u" not in new.replace("\\\\", "")


def test_fast_encoder_leaves_to_json_what_orjson_refuses():
    """Integers past 64 bits and objects neither knows: as Python's json writes (or refuses) them."""
    import json

    import pytest as _pytest

    from opendata.site.json_output import FastJSONEncoder, Utf8JSONEncoder

    big = {"n": 2**70, "中": [1.5, None, "株洲"]}
    assert json.dumps(big, cls=FastJSONEncoder) == json.dumps(big, cls=Utf8JSONEncoder)
    # ... with the infinities null, as orjson writes them.
    rows = [[2**70, float("inf")], (float("-inf"), {"x": float("inf")}), 2.5]
    assert json.dumps(rows, cls=FastJSONEncoder) == json.dumps([[2**70, None], [None, {"x": None}], 2.5],
                                                               ensure_ascii=False)
    values = {"中": [1.5, None, 1e16, 0.1 + 0.2, -0.0, 2540.24, 10**18]}
    assert json.dumps(values, cls=FastJSONEncoder) == json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    with _pytest.raises(TypeError):
        json.dumps({"x": object()}, cls=FastJSONEncoder)


def test_infinities_removed_as_datasette_removes_them():
    """The same rows back (the row itself when it holds no infinite float), for every kind of cell."""
    import sqlite3 as sq
    from decimal import Decimal

    from datasette.utils import remove_infinites as theirs

    from opendata.site.json_output import remove_infinites as ours

    conn = sq.connect(":memory:")
    conn.row_factory = sq.Row
    rows = [conn.execute("select 1e999 as a, 'x' as b, -1e999 as c, 2.5 as d").fetchone(),
            conn.execute("select 1 as a, 'inf' as b, null as c, x'00' as d").fetchone(),
            (float("nan"), 0.0, -0.0), [1, float("inf")], (Decimal("Infinity"), 3), {"a": float("inf")}, (), ("中",)]
    for row in rows:
        mine, datasettes = ours(row), theirs(row)
        assert (mine is row) == (datasettes is row), row
        assert list(mine) == list(datasettes) or str(list(mine)) == str(list(datasettes)), row
    assert ours(rows[0]) == [None, "x", None, 2.5] and ours(rows[1]) is rows[1]


# --- a table's allow blocks read from the metadata once (immutable_cache.cache_table_permissions) ---

async def test_table_permissions_read_once_and_still_enforced(site_db, site_package, monkeypatch):
    """An ``allow`` block of the metadata still closes its table, on every request; each table's
    blocks are what Datasette finds in the metadata; the cache keeps at most MAX_ANSWERS tables."""
    from datasette.app import Datasette as Plain

    from opendata.site import immutable_cache

    meta = {"databases": {DB: {"tables": {"findings": {"allow": {"id": "root"}}}}}}
    ds = make_app(site_db, metadata=meta, package_dir=site_package)
    await ds.invoke_startup()
    for _ in range(2):
        refused = await ds.client.get(f"/{DB}/findings")
        assert refused.status_code == 403 and "<h1>无权访问（403）</h1>" in refused.text
        assert (await ds.client.get(f"/{DB}/findings.json")).status_code == 403
        assert (await ds.client.get(f"/{DB}/amounts.json?_size=1")).status_code == 200
    answers = ds._table_permission_allows.answers
    assert answers[(DB, "findings")] == [{"id": "root"}] and answers[(DB, "amounts")] == []
    for table in ("findings", "amounts", "reports", "no_such_table"):
        assert ds._table_permission_allows(DB, table) == Plain._table_permission_allows(ds, DB, table)
    ds._table_permission_allows(DB, "findings")[0]["id"] = "changed"
    assert ds._table_permission_allows(DB, "findings") == [{"id": "root"}]
    monkeypatch.setattr(immutable_cache, "MAX_ANSWERS", len(answers) + 2)
    for i in range(10):
        assert ds._table_permission_allows(DB, f"no_table_{i}") == []
    assert len(answers) == immutable_cache.MAX_ANSWERS


async def test_table_rows_are_datasettes_rows_without_the_whitespace(ds, seed_report, monkeypatch):
    """The rows of real pages (money, nulls, labelled foreign keys, links, a view) written by
    ``table_rows`` are the ``<tbody>`` Datasette's own ``_table.html`` writes, but for the
    whitespace between the tags."""
    import re

    from opendata.site import plugin

    await ds.invoke_startup()
    seen: list = []

    def keep(rows, title=None):
        seen.append(rows)
        return plugin.table_rows(rows, title)

    monkeypatch.setitem(ds.jinja_env.filters, "table_rows", keep)
    theirs = ds.jinja_env.get_template("default:_table.html")
    for path in ("/opendata/amounts?_size=100", "/opendata/findings", "/opendata/statements?_size=80",
                 "/opendata/budget_execution", "/opendata/reports"):
        assert (await ds.client.get(path)).status_code == 200, path
        rows = seen.pop()
        assert rows, path
        html = await theirs.render_async(display_rows=rows, display_columns=[], request=None)
        tbody = re.search(r"<tbody>(.*)</tbody>", html, re.S).group(1)
        assert re.sub(r">\s+<", "><", tbody).strip() == re.sub(r">\s+<", "><", str(plugin.table_rows(rows))), path


async def test_included_templates_render_the_same_without_await(ds, seed_report, monkeypatch):
    """The table page's content (filters, facets, rows), included by ``include_sync`` (a synchronous
    twin of Datasette's environment), is what Jinja's asynchronous include would write."""
    from opendata.site import plugin

    await ds.invoke_startup()
    calls: list = []
    original = plugin.include_sync

    @plugin.pass_context
    def recorded(context, names, **values):
        written = original(context, names, **values)
        calls.append(({**context.get_all(), **values}, names, written))
        return written

    monkeypatch.setitem(ds.jinja_env.globals, "include_sync", recorded)
    for path in ("/opendata/amounts?_sort_desc=amount", "/opendata/amounts?report_id=" + seed_report,
                 "/opendata/budget_execution?_facet_size=2", "/opendata/report_totals", "/opendata/findings",
                 "/opendata/statements?kind=stated&_facet=topic", "/opendata/amounts?table_no=99"):
        assert (await ds.client.get(path)).status_code == 200, path
        assert len(calls) == 1, path
        context, names, written = calls.pop()
        assert names == "_table_page.html" and "links" in context
        template = ds.jinja_env.get_template(names)
        assert str(written) == await template.render_async(context), path
        assert "<tbody>" in written or "没有符合条件的行" in written
        assert 'class="facet-info' in written or "facet" not in path


# --- a foreign key's label asked of SQLite once (immutable_cache.cache_labels) ---

async def test_labels_are_datasettes_and_asked_once(ds, seed_report, monkeypatch, watch_sql):
    """Each value's label is what Datasette's own lookup gives, for any mix of values (known,
    unknown, null, another type); a page asked again asks SQLite for no label; at most MAX_LABELS
    values are kept."""
    import re

    from opendata.site import immutable_cache

    await ds.invoke_startup()
    cached = ds.expand_foreign_keys
    assert cached.labels is not None

    async def theirs(table, column, values):
        return await Datasette.expand_foreign_keys(ds, DB, table, column, values)

    cases = [("amounts", "report_id", [seed_report, "no-such-report", None]),
             ("amounts", "table_no", [5, 1, 5, None]), ("amounts", "table_no", ["5", 7]),
             ("amounts", "classification_id", ["2060101@2020", "nothing@2020"]), ("amounts", "item", ["x"]),
             ("report_tables", "table_no", [1, 2, 3, 4, 5, 6, 7, 8, 9]), ("statements", "report_id", [seed_report])]
    for _ in range(2):
        for table, column, values in cases:
            assert await cached(DB, table, column, values) == await theirs(table, column, values), (table, column)
    assert ("str", "5") not in {(type(v).__name__, v) for (_, v) in cached.labels[(DB, "amounts", "table_no")]}
    path = f"/{DB}/amounts?report_id={seed_report}&_facet=classification_id"
    first = (await ds.client.get(path)).text
    asked = watch_sql(ds)
    again = (await ds.client.get(path)).text
    assert re.sub(r"查询用时 [0-9.]+", "", again) == re.sub(r"查询用时 [0-9.]+", "", first)
    assert not [sql for sql in asked if " in (" in sql]  # no label asked (the facet's counts are kept too)
    monkeypatch.setattr(immutable_cache, "MAX_LABELS", sum(len(v) for v in cached.labels.values()))
    assert await cached(DB, "amounts", "table_no", [2, 3]) == await theirs("amounts", "table_no", [2, 3])
    assert sum(len(v) for v in cached.labels.values()) == immutable_cache.MAX_LABELS


async def test_labels_of_a_mutable_database_are_asked_every_time(tmp_path):
    path = tmp_path / "live.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table units (id integer primary key, name text)")
        conn.execute("create table rows (id integer primary key, unit integer references units(id))")
        conn.execute("insert into units values (1, '甲')")
        conn.execute("insert into rows values (1, 1)")
    ds = Datasette([str(path)])
    await ds.invoke_startup()
    assert await ds.expand_foreign_keys("live", "rows", "unit", [1]) == {("unit", 1): "甲"}
    with sqlite3.connect(path) as conn:
        conn.execute("update units set name = '乙'")
    assert await ds.expand_foreign_keys("live", "rows", "unit", [1]) == {("unit", 1): "乙"}
    assert not ds.expand_foreign_keys.labels


# --- the cells of a page rendered by Datasette's own function, rebound (opendata.site.cell_rendering) ---

CELL_PAGES = ("/opendata/amounts?_size=100", "/opendata/amounts?_sort_desc=amount&_labels=off", "/opendata/findings",
              "/opendata/statements?_size=80", "/opendata/reports", "/opendata/report_tables",
              "/opendata/budget_execution", "/opendata/classification?_size=200")


async def test_cells_rendered_as_datasette_renders_them(ds, seed_report, monkeypatch):
    """Table and row pages (money, labelled foreign keys, compound keys with Chinese values in their
    links, a finding's links to its rows, views) are, byte for byte, what Datasette's own
    ``display_columns_and_rows`` writes."""
    import re

    import datasette.views.row
    import datasette.views.table

    from opendata.site import cell_rendering

    await ds.invoke_startup()
    assert datasette.views.table.display_columns_and_rows is cell_rendering.display_cells
    assert datasette.views.row.display_columns_and_rows is cell_rendering.display_cells
    amounts = (await ds.client.get("/opendata/amounts?report_id=" + seed_report)).text
    links = re.findall(r'<td class="col-Link type-pk"><a href="([^"]+)"', amounts)
    assert len(links) == 50 and any("~E5" in link for link in links)  # 决算数, tilde-encoded
    rows = [links[0], links[-1], re.search(r'href="(/opendata/findings/\d+)"',
                                          (await ds.client.get("/opendata/findings")).text).group(1)]
    ours = {path: await ds.client.get(path) for path in (*CELL_PAGES, *rows)}
    for module in (datasette.views.table, datasette.views.row):
        monkeypatch.setattr(module, "display_columns_and_rows", cell_rendering.DATASETTE_DISPLAY)
    for path, response in ours.items():
        theirs = await ds.client.get(path)
        assert response.status_code == theirs.status_code == 200, path
        took = re.compile(r"查询用时 [0-9.]+ 毫秒")  # the query's time, which differs between requests
        assert took.sub("", response.text) == took.sub("", theirs.text), path
    assert "万元" in ours[CELL_PAGES[0]].text and 'href="/opendata/amounts?' in ours["/opendata/findings"].text


@pytest.fixture
def odd_cells(tmp_path) -> Path:
    """A database with every kind of cell: nulls, empty strings, URLs and near-URLs, long text,
    bytes, integers, floats, money and rate columns, labelled foreign keys, HTML in text; tables
    with one key, a compound key of Chinese text with slashes, no key; a view."""
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            create table units (id integer primary key, name text);
            create table odd (id integer primary key, amount real, execution_rate_pct real, note text,
                              unit integer references units(id), data blob);
            create table pairs (a text, b text, amount real, primary key (a, b));
            create table loose (note text, n integer);
            create view odd_view as select id, amount, execution_rate_pct, note, unit from odd;
            insert into units values (1, '甲<b>'), (2, ''), (3, null);
        """)
        notes = [None, "", "https://example.org/x", " https://example.org/y ", "https://example.org/a b", "ftp://x",
                 "x://y", "<script>alert(1)</script>", "长" * 3000, "决算数/a,b", 12, 3.5]
        for i, note in enumerate(notes):
            conn.execute("insert into odd values (?, ?, ?, ?, ?, ?)",
                         (i + 1, [None, 0.0, 2540.24, 64.0637, -1.5, 10**12][i % 6], [None, 99.95, 0][i % 3], note,
                          [1, 2, 3, 4, None][i % 5], b"\x00\x01" if i == 3 else (b"" if i == 4 else None)))
            conn.execute("insert into pairs values (?, ?, ?)", (f"决算/{i}", "a b~c" if i % 2 else "", i * 1.25))
            conn.execute("insert into loose values (?, ?)", (note if isinstance(note, str) else None, i))
    return path


ODD_PAGES = ["/odd/odd", "/odd/odd?_labels=off", "/odd/odd?_sort_desc=amount", "/odd/pairs", "/odd/loose", "/odd/odd_view",
             "/odd/odd/4", "/odd/pairs/~E5~86~B3~E7~AE~97~2F1,a~20b~7Ec", "/odd/loose/3", "/odd/units"]


async def odd_pages(path: Path, monkeypatch, *, datasette_own: bool, **settings) -> dict[str, str]:
    import re

    import datasette.views.row
    import datasette.views.table

    from opendata.site import cell_rendering

    ds = Datasette(immutables=[str(path)], settings=settings or None,
                   metadata={"databases": {"odd": {"tables": {"units": {"units": {"id": "m"}}}}}})
    await ds.invoke_startup()
    if datasette_own:
        for module in (datasette.views.table, datasette.views.row):
            monkeypatch.setattr(module, "display_columns_and_rows", cell_rendering.DATASETTE_DISPLAY)
    pages = {}
    for page in ODD_PAGES:
        response = await ds.client.get(page)
        assert response.status_code == 200, page
        pages[page] = re.sub(r"查询用时 [0-9.]+ 毫秒|Queries took [0-9.]+ms", "", response.text)
    return pages


@pytest.mark.parametrize("settings", [{}, {"truncate_cells_html": 10}])
async def test_odd_cells_rendered_as_datasette_renders_them(odd_cells, monkeypatch, settings):
    """Whatever a cell holds, and whatever the table's key, a page is what Datasette's own
    function writes (rows the site's loop does not write go through it), truncated the same way;
    with units in a table's metadata, Datasette's function writes the whole page."""
    ours = await odd_pages(odd_cells, monkeypatch, datasette_own=False, **settings)
    theirs = await odd_pages(odd_cells, monkeypatch, datasette_own=True, **settings)
    for page in ODD_PAGES:
        assert ours[page] == theirs[page], page
    assert "2,540.24" in ours["/odd/odd"] and '<span class="unit">%</span>' in ours["/odd/odd"]
    assert "&lt;script&gt;" in ours["/odd/odd"]
    assert 'href="https://example.org/x"' in ours["/odd/odd"] and "Binary" in ours["/odd/odd"]
    limit = settings.get("truncate_cells_html", 2048)
    assert "长" * limit + "\u2026" in ours["/odd/odd"] and "长" * (limit + 1) not in ours["/odd/odd"]


async def test_display_cells_with_another_render_cell_plugin(odd_cells, monkeypatch):
    """Another plugin's render_cell: every cell goes through the hook, as in Datasette."""
    from datasette import hookimpl
    from datasette.plugins import pm

    class Shout:
        @hookimpl
        def render_cell(self, value, column):
            return f"!{value}!" if column == "note" and isinstance(value, str) else None

    plugin = Shout()
    plugin.__name__ = "shout"  # Datasette lists its plugins by name
    pm.register(plugin)
    try:
        ours = await odd_pages(odd_cells, monkeypatch, datasette_own=False)
        theirs = await odd_pages(odd_cells, monkeypatch, datasette_own=True)
    finally:
        pm.unregister(plugin)
    assert ours == theirs and "!ftp://x!" in ours["/odd/odd"]


def test_display_function_is_datasettes_rebound():
    import datasette.utils
    import datasette.views.table

    from opendata.site import cell_rendering

    ours = cell_rendering.display_columns_and_rows
    assert ours.__code__ is cell_rendering.DATASETTE_DISPLAY.__code__
    changed = {k for k, v in ours.__globals__.items() if datasette.views.table.__dict__.get(k) is not v}
    # (the module's own display_columns_and_rows is ours once installed, its compound_keys_after_sql
    # keyset_paging's: neither is read by this function)
    assert changed - {"display_columns_and_rows", "compound_keys_after_sql"} == {"pm", "tilde_encode",
                                                                                 "path_from_row_pks"}
    assert ours.__globals__["path_from_row_pks"].__code__ is datasette.utils.path_from_row_pks.__code__
    assert cell_rendering.tilde_encode("决算数/a,b") == datasette.utils.tilde_encode("决算数/a,b") == \
        "~E5~86~B3~E7~AE~97~E6~95~B0~2Fa~2Cb"


def test_direct_hook_caller_answers_as_pluggy():
    """The implementations called in pluggy's order, with the arguments each names, and every answer
    that is not None; with a hook wrapper registered, through pluggy (which runs the wrapper)."""
    from datasette import hookimpl
    from datasette.plugins import pm

    from opendata.site.cell_rendering import DirectHookCaller

    class First:
        @hookimpl(tryfirst=True)
        def render_cell(self, value, column):
            return f"first {value}" if column == "a" else None

    class Last:
        @hookimpl(trylast=True)
        def render_cell(self, row, table):
            return f"last {table} {row[0]}"

    wrapped: list = []

    class Wrapper:
        @hookimpl(hookwrapper=True)
        def render_cell(self, value):
            wrapped.append(value)
            yield

    caller = DirectHookCaller(pm.hook.render_cell)
    calls = [dict(row=[n], value=n, column=column, table="amounts", database="opendata", datasette=None)
             for n in (1, 2.5, None) for column in ("a", "amount", "b")]
    plugins = [First(), Last()]
    try:
        for plugin in plugins:
            pm.register(plugin)
        for kwargs in calls:
            assert caller(**kwargs) == pm.hook.render_cell(**kwargs), kwargs
        assert caller(**calls[0]) == ["first 1", "last amounts 1"]
        assert caller(**calls[4]) == ['<span class="num">2.50</span><span class="unit">万元</span>', "last amounts 2.5"]
        pm.register(wrapper := Wrapper())
        plugins.append(wrapper)
        assert caller(**calls[0]) == ["first 1", "last amounts 1"] and wrapped == [1]
    finally:
        for plugin in plugins:
            pm.unregister(plugin)
    assert caller(**calls[0]) == pm.hook.render_cell(**calls[0]) == []


def test_copies_of_answers_are_deep_copies():
    """The cache's copies equal deepcopy's and share nothing a caller could change."""
    import copy
    from collections import namedtuple

    from opendata.site.immutable_cache import copied

    Column = namedtuple("Column", "cid name type notnull default_value is_pk hidden")
    answers = [
        [Column(0, "report_id", "TEXT", 1, None, 1, 0), Column(1, "amount", "REAL", 0, None, 0, 0)],
        [{"column": "report_id", "other_table": "reports", "other_column": "report_id"}],
        ["report_id", "table_no"], "search_index_fts", None, 3, 2.5, True,
        {"a": [1, {"b": (1, [2])}], "c": {1, 2}}, ({"x": 1},), b"bytes",
    ]
    for answer in answers:
        copy_ = copied(answer)
        assert copy_ == copy.deepcopy(answer) and type(copy_) is type(answer)
    nested = copied(answers[-3])
    nested["a"][1]["b"][1].append(3)
    nested["c"].add(3)
    assert answers[-3] == {"a": [1, {"b": (1, [2])}], "c": {1, 2}}
    first = copied(answers[0])
    first.append("x")
    assert len(answers[0]) == 2 and first[0] is answers[0][0]  # a namedtuple of atoms is immutable
    links = copied(answers[1])
    links[0]["other_table"] = "changed"
    assert answers[1][0]["other_table"] == "reports"
    assert copied(answers[-2])[0] is not answers[-2][0]
