"""What makes the site's pages cheaper keeps them the same: the schema of an immutable database read
once (``opendata.site.schema_cache``) and the rows of a table page written by one Python loop
(``opendata.site.plugin.table_rows``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from datasette.app import Datasette
from datasette.database import Database

from opendata.site.app import make_app
from opendata.site.schema_cache import METHODS, SCHEMA_SQL

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
    assert db._opendata_schema_cached
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
    assert not getattr(db, "_opendata_schema_cached", False)


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
        conn.execute("insert into amounts values (1, '<script>alert(1)</script>', 2540.24, 'a&b')")
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
    assert odd and cells[odd[0]].get_text() == "a&b"
    assert cells["col-id"].a["href"] == "/opendata/amounts/1"  # the primary key links its row


async def test_cache_does_not_grow_with_any_url(ds, monkeypatch):
    """A table name in a URL is the visitor's choice: answers past the cap are not kept."""
    from opendata.site import schema_cache

    monkeypatch.setattr(schema_cache, "MAX_ANSWERS", 20)
    await ds.invoke_startup()
    db = ds.databases[DB]
    for i in range(40):
        assert (await ds.client.get(f"/{DB}/no_such_table_{i}")).status_code == 404
    assert (await ds.client.get(f"/{DB}/amounts.json?_size=1")).status_code == 200
    kept = [len(getattr(db, name).answers) for name in METHODS] + [len(db.execute.answers)]
    assert max(kept) <= 20 and sum(kept) > 0, kept
    assert await db.table_exists("no_such_table_39") is False
    assert await db.table_exists("amounts") is True
