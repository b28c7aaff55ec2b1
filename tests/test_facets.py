"""Default facets of whole tables read from the build's ``_facet_counts`` (opendata.site.facets).

Every comparison is against Datasette's own ColumnFacet on the same database without the stored
counts (``plain``), request by request: JSON facet results (values, labels, counts, order,
``truncated``, toggle URLs, ``selected``) and the HTML facet block must be identical. A copy whose
stored counts are falsified (``forged``) shows which pages read them: the unfiltered ones only.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from opendata.fingerprint import database_version
import yaml
from bs4 import BeautifulSoup
from datasette.app import Datasette

from opendata.build import FACET_COUNTS, FACET_FILTERS, build
from opendata.layouts import TABLE_VIEWS
from opendata.site.app import make_app
from opendata.site.facets import FACET_COUNTS_TABLE, FILTERED_COUNTS_TABLE
from opendata.synth import write_corpus

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "metadata.yml"
DB = "opendata"
FORGED = 1000  # added to every stored count in the forged copy


def copy_db(src: Path, dest_dir: Path, sql: str, add_to_counts: int = 0) -> Path:
    """A copy of the database (and its inspect file, row counts + ``add_to_counts``) named
    opendata.db in dest_dir, changed by ``sql``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / "opendata.db"
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
        b.executescript(sql)
    inspect = json.loads(src.with_suffix(".inspect.json").read_text(encoding="utf-8"))
    inspect[DB]["file"] = str(dest)
    # The counts of this file as it is (serve ignores those of another file, or of one changed since).
    inspect[DB]["size"], inspect[DB]["changes"] = database_version(dest)
    for entry in inspect[DB]["tables"].values():
        entry["count"] += add_to_counts
    dest.with_suffix(".inspect.json").write_text(json.dumps(inspect), encoding="utf-8")
    return dest


def sites(db: Path, work: Path) -> tuple[Datasette, Datasette, Datasette]:
    """The site as built, the same without stored counts, the same with falsified counts."""
    plain = copy_db(db, work / "plain", f"drop table {FACET_COUNTS_TABLE}; drop table {FILTERED_COUNTS_TABLE};")
    forged = copy_db(db, work / "forged", f"update {FACET_COUNTS_TABLE} set count = count + {FORGED}; "
                                          f"update {FILTERED_COUNTS_TABLE} set count = count + {FORGED};", FORGED)
    return tuple(make_app(p, metadata=METADATA) for p in (db, plain, forged))


@pytest.fixture(scope="module")
def shipped(site_db, tmp_path_factory):
    return sites(site_db, tmp_path_factory.mktemp("facets-shipped"))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    work = tmp_path_factory.mktemp("facets-synth")
    write_corpus(work / "pkg", departments=4, years=2, error_share=0.0, seed=3)
    build(work / "pkg", work / "db" / "opendata.db")
    return sites(work / "db" / "opendata.db", work)


async def get_json(ds: Datasette, path: str) -> dict:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


async def facet_html(ds: Datasette, path: str) -> str:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    block = BeautifulSoup(response.text, "html.parser").select_one(".facet-results")
    assert block is not None, path
    return str(block)


def metadata_facets() -> dict[str, list[str]]:
    tables = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"][DB]["tables"]
    return {name: t["facets"] for name, t in tables.items() if "facets" in t}


#: Unfiltered pages: every one reads the stored counts for its cached columns.
UNFILTERED = [
    "/{db}/{table}.json",
    "/{db}/{table}.json?_size=0",
    "/{db}/{table}.json?_facet_size=max",
    "/{db}/{table}.json?_facet_size=2",
    "/{db}/{table}.json?_sort_desc={column}&_size=3",
    "/{db}/{table}.json?_facet={column}",  # asked again in the URL: Datasette lists it twice, so do we
]


#: The views among FACET_COUNTS (their row count is counted, a table's read from the inspect file)
#: and those with empty facets in the shipped reports (no 表8/表9 lines, no codes in 表7, no
#: department with two years).
VIEWS = {*TABLE_VIEWS.values(), "budget_execution", "report_totals", "implied_last_year", "year_on_year",
         "class_shares"} & set(FACET_COUNTS)
EMPTY_IN_SHIPPED = {"table7_three_public", "table8_government_funds", "table9_state_capital", "year_on_year"}


def all_unfiltered_urls():
    """(table, URL): ``{column}`` in a URL is the table's first default facet column."""
    return [(t, u.replace("{column}", FACET_COUNTS[t][0])) for t in FACET_COUNTS for u in UNFILTERED]


async def assert_same_facets(built: Datasette, plain: Datasette, path: str) -> dict:
    ours, theirs = await get_json(built, path), await get_json(plain, path)
    assert ours["facet_results"] == theirs["facet_results"], path
    assert ours["filtered_table_rows_count"] == theirs["filtered_table_rows_count"], path
    return ours


# ------------------------------------------------------------------------------------------ build

def test_facet_count_columns_are_the_metadata_default_facets():
    facets = metadata_facets()
    for table, columns in FACET_COUNTS.items():
        assert list(columns) == facets[table], table


def test_stored_counts_are_the_group_by(site_db):
    with sqlite3.connect(site_db) as conn:
        for table, columns in FACET_COUNTS.items():
            for column in columns:
                stored = conn.execute(f"select value, count from {FACET_COUNTS_TABLE} where [table] = ? and "
                                      "[column] = ? order by value", (table, column)).fetchall()
                live = conn.execute(f"select [{column}], count(*) from [{table}] where [{column}] is not null "
                                    f"group by [{column}] order by [{column}]").fetchall()
                assert stored == live, (table, column)
                assert stored or table in EMPTY_IN_SHIPPED
                assert [type(v) for v, _ in stored] == [type(v) for v, _ in live]


def test_stored_filtered_counts_are_the_group_by(site_db):
    with sqlite3.connect(site_db) as conn:
        for table, filters in FACET_FILTERS.items():
            for by in filters:
                values = [v for (v,) in conn.execute(f"select distinct [{by}] from [{table}] where [{by}] is not null")]
                assert len(values) > 1, (table, by)  # the shipped reports: 7 tables, 2 source kinds, ...
                for value in values:
                    for column in FACET_COUNTS[table]:
                        stored = conn.execute(
                            f"select value, count from {FILTERED_COUNTS_TABLE} where [table] = ? and filter_column = ? "
                            "and filter_value = ? and [column] = ? order by value", (table, by, str(value), column)).fetchall()
                        live = conn.execute(f"select [{column}], count(*) from [{table}] where [{by}] = ? and "
                                            f"[{column}] is not null group by [{column}] order by [{column}]",
                                            (value,)).fetchall()
                        assert stored == live, (table, by, value, column)
                        assert [type(v) for v, _ in stored] == [type(v) for v, _ in live]
                        # Empty only where no such row has the column (codes have no report).
                        assert stored or (table, by, value, column) == ("search_index", "kind", "classification",
                                                                        "report_id"), (table, by, value, column)


async def test_the_counts_table_is_hidden(shipped):
    built, _, _ = shipped
    tables = {t["name"]: t for t in (await get_json(built, f"/{DB}.json"))["tables"]}
    assert tables[FACET_COUNTS_TABLE]["hidden"] is True
    assert tables[FILTERED_COUNTS_TABLE]["hidden"] is True


# ------------------------------------------------------------------------ same results as Datasette

@pytest.mark.parametrize("table,url", all_unfiltered_urls())
async def test_unfiltered_facets_equal_column_facet(shipped, table, url):
    built, plain, forged = shipped
    path = url.format(db=DB, table=table)
    ours = await assert_same_facets(built, plain, path)
    for column in FACET_COUNTS[table]:
        assert ours["facet_results"][column]["results"] or table in EMPTY_IN_SHIPPED, (path, column)
        assert ours["facet_results"][column]["type"] == "column"
    # ... and the counts came from the stored table: the forged copy shows the forged counts.
    forged_page = await get_json(forged, path)
    forged_facets = forged_page["facet_results"]
    # The row count of a whole immutable table is the inspect file's (Datasette's own shortcut); a
    # view's is counted.
    assert forged_page["filtered_table_rows_count"] == ours["filtered_table_rows_count"] + (
        0 if table in VIEWS else FORGED)
    for column in FACET_COUNTS[table]:
        counts = [r["count"] for r in ours["facet_results"][column]["results"]]
        assert [r["count"] for r in forged_facets[column]["results"]] == [c + FORGED for c in counts]


@pytest.mark.parametrize("table", sorted(FACET_COUNTS))
async def test_unfiltered_facet_html_equals_column_facet(shipped, table):
    built, plain, _ = shipped
    for path in (f"/{DB}/{table}", f"/{DB}/{table}?_facet_size=max"):
        assert await facet_html(built, path) == await facet_html(plain, path), path


async def test_labels_and_toggles(shipped):
    built, _, _ = shipped
    data = await get_json(built, f"/{DB}/amounts.json?_facet_size=max")
    reports = data["facet_results"]["report_id"]["results"]
    with sqlite3.connect(built.databases[DB].path) as conn:
        titles = dict(conn.execute("select report_id, title from reports"))
    assert len(reports) == len(titles) and not data["facet_results"]["report_id"]["truncated"]
    for r in reports:
        assert r["label"] == titles[r["value"]] and r["selected"] is False
    # Following a value's toggle filters the table: that value selected, with the count shown before.
    first = reports[0]
    toggled = await get_json(built, first["toggle_url"].replace("http://localhost", ""))
    selected = [r for r in toggled["facet_results"]["report_id"]["results"] if r["selected"]]
    assert [(r["value"], r["count"]) for r in selected] == [(first["value"], first["count"])]
    assert toggled["filtered_table_rows_count"] == first["count"]
    soup = BeautifulSoup((await built.client.get(f"/{DB}/amounts")).text, "html.parser")
    assert titles[first["value"]] in soup.select_one("#facet-report_id").get_text()


# -------------------------------------------------------------------- filtered pages: live GROUP BY

FILTERED = [
    "/{db}/amounts.json?report_id={report}",
    "/{db}/amounts.json?table_no=05",  # the same rows as table_no=5, but not the value the build stored
    "/{db}/amounts.json?measure=没有这个指标",  # no row: not stored either
    "/{db}/amounts.json?table_no=5&source_kind=table",  # two filters
    "/{db}/amounts.json?table_no=5&_where=1",
    "/{db}/amounts.json?table_no__not=5",
    "/{db}/amounts.json?table_no__gte=0",  # matches every row, still a filter: counted live
    "/{db}/amounts.json?_where=1",
    "/{db}/amounts.json?source_kind__not=nothing&_facet_size=max",
    "/{db}/search_index.json?_search=科技",
]


@pytest.mark.parametrize("url", FILTERED)
async def test_filtered_pages_count_live(shipped, seed_report, url):
    built, plain, forged = shipped
    path = url.format(db=DB, report=seed_report)
    ours = await assert_same_facets(built, plain, path)
    assert ours["facet_results"]
    forged_page = await get_json(forged, path)
    assert forged_page["facet_results"] == ours["facet_results"], "stored counts read for a filter"
    assert forged_page["filtered_table_rows_count"] == ours["filtered_table_rows_count"]


#: The pages a facet value's link opens: their facets are read from ``_facet_counts_by``.
ONE_VALUE = [
    "/{db}/amounts.json?table_no=5",
    "/{db}/amounts.json?table_no=5&_facet=side",  # side is not stored: counted live beside the others
    "/{db}/amounts.json?measure=合计&_facet_size=max",
    "/{db}/amounts.json?source_kind=narrative",
    "/{db}/amounts.json?source_kind=table&_size=0",
    "/{db}/amounts.json?source_kind=table&_facet=report_id",
]


@pytest.mark.parametrize("url", [*ONE_VALUE, "/{db}/statements.json?kind=change", "/{db}/statements.json?unit=万元",
                                 "/{db}/search_index.json?kind=amounts"])
async def test_one_value_pages_read_the_stored_counts(shipped, url):
    built, plain, forged = shipped
    path = url.format(db=DB)
    table = path.split("/")[2].split(".")[0]
    ours = await assert_same_facets(built, plain, path)
    forged_page = await get_json(forged, path)
    forged_facets = forged_page["facet_results"]
    # The rows' count is the stored count of the value too.
    assert forged_page["filtered_table_rows_count"] == ours["filtered_table_rows_count"] + FORGED
    for key, facet in ours["facet_results"].items():  # report_id_2: report_id asked again in the URL
        counts = [r["count"] for r in facet["results"]]
        assert counts, (path, key)
        stored = facet["name"] in FACET_COUNTS[table]
        assert [r["count"] for r in forged_facets[key]["results"]] == [c + FORGED * stored for c in counts]
    # Following a value's link from the whole table's page shows the same counts as a live count.
    if table == "amounts":
        selected = [r for r in ours["facet_results"]["source_kind"]["results"] if r["selected"]]
        assert len(selected) == ("source_kind=" in path)


async def test_one_value_page_html_equals_column_facet(shipped):
    built, plain, _ = shipped
    for path in (f"/{DB}/amounts?table_no=5", f"/{DB}/amounts?source_kind=narrative&_facet_size=max"):
        assert await facet_html(built, path) == await facet_html(plain, path), path


def _counts(data: dict) -> dict:
    return {name: [(r["value"], r["label"], r["count"], r["selected"]) for r in facet["results"]]
            for name, facet in data["facet_results"].items()}



def _same_links(facets: dict) -> dict:
    """``facet_results`` with each link's path and query parameters in one order (a next page's
    query keeps its parameters in the order of the next_url)."""
    def canonical(url: str) -> tuple:
        parts = urlsplit(url)
        return parts.path, sorted(parse_qsl(parts.query))

    return {name: {**facet, "toggle_url": canonical(facet["toggle_url"]),
                   "results": [{**r, "toggle_url": canonical(r["toggle_url"])} for r in facet["results"]]}
            for name, facet in facets.items()}

@pytest.mark.parametrize("params", [{}, {"_sort": "amount"}, {"_sort_desc": "code"}, {"table_no": "5"},
                                    {"_sort": "item", "source_kind": "narrative"},
                                    {"_where": "amount > 1", "_facet": "measure"}])
async def test_a_next_page_shows_its_first_pages_facets(shipped, params):
    # Datasette counted a ?_next= page's facets over the rows after the cursor: on the second page
    # of amounts 表2 was gone and every count fell, counted live.
    built, plain, forged = shipped
    query = urlencode({**params, "_size": 7})
    first = await get_json(built, f"/{DB}/amounts.json?{query}")
    second_url = first["next_url"].split("://", 1)[1].split("/", 1)[1]
    second = await get_json(built, f"/{second_url}")
    assert "_next=" in second_url and second["rows"] != first["rows"]
    assert _counts(second) == _counts(first)
    assert _counts(await get_json(plain, f"/{second_url}")) == _counts(first)  # counted live, the same
    # Read where the first page reads them: the stored counts (the forged copy's) for the whole table.
    forged_first = await get_json(forged, f"/{DB}/amounts.json?{query}")
    assert _counts(await get_json(forged, f"/{second_url}")) == _counts(forged_first)
    if not params:
        assert _counts(forged_first) != _counts(first)
    # A value's link opens the first page of its rows, not the rows after this page's cursor.
    links = [r["toggle_url"] for facet in second["facet_results"].values() for r in facet["results"]]
    assert links and not any("_next=" in link for link in links)
    # And the facets as a whole are the first page's: their own links too (a tester's page 2 kept
    # its cursor in each facet's toggle_url).
    assert _same_links(second["facet_results"]) == _same_links(first["facet_results"])
    html = BeautifulSoup((await built.client.get(f"/{second_url.replace('amounts.json', 'amounts', 1)}")).text,
                         "html.parser")
    hrefs = [a["href"] for a in html.select(".facet-results li a")]
    assert hrefs and not any("_next=" in h for h in hrefs)


async def test_whole_table_filter_gives_the_stored_counts(shipped):
    built, _, _ = shipped
    whole = (await get_json(built, f"/{DB}/amounts.json?_facet_size=max"))["facet_results"]
    live = (await get_json(built, f"/{DB}/amounts.json?_facet_size=max&table_no__gte=0"))["facet_results"]
    for column in FACET_COUNTS["amounts"]:
        assert ([(r["value"], r["label"], r["count"]) for r in whole[column]["results"]]
                == [(r["value"], r["label"], r["count"]) for r in live[column]["results"]]), column


async def test_mutable_database_counts_live(shipped):
    # A database served mutable may have changed since the build: its stored counts are never read.
    _, plain, forged = shipped
    ds = Datasette(files=[str(forged.databases[DB].path)], metadata=yaml.safe_load(METADATA.read_text("utf-8")),
                   settings={"suggest_facets": False})
    ours = (await get_json(ds, f"/{DB}/amounts.json?_size=0"))["facet_results"]
    theirs = (await get_json(plain, f"/{DB}/amounts.json?_size=0"))["facet_results"]
    for column in FACET_COUNTS["amounts"]:
        assert ([(r["value"], r["count"]) for r in ours[column]["results"]]
                == [(r["value"], r["count"]) for r in theirs[column]["results"]]), column


# -------------------------------------------------------------------------------- synthetic corpus

@pytest.mark.parametrize("table,url", all_unfiltered_urls())
async def test_synthetic_corpus_facets_equal_column_facet(synthetic, table, url):
    built, plain, forged = synthetic
    path = url.format(db=DB, table=table)
    ours = await assert_same_facets(built, plain, path)
    if table in TABLE_VIEWS.values() and table in EMPTY_IN_SHIPPED:  # the corpus has no 表8/表9 lines either, nor codes in 表7
        assert not ours["facet_results"]["class_name"]["results"]
        if table != "table7_three_public":
            return
    assert (await get_json(forged, path))["facet_results"] != ours["facet_results"]
    for column in FACET_COUNTS[table]:
        assert ours["facet_results"][column]["results"] or (table, column) == ("table7_three_public", "class_name")


@pytest.mark.parametrize("url", ["/{db}/amounts.json?table_no=5&_facet_size=max", "/{db}/amounts.json?measure=决算数",
                                 "/{db}/amounts.json?source_kind=narrative&_facet_size=max"])
async def test_synthetic_corpus_one_value_pages(synthetic, url):
    built, plain, forged = synthetic
    path = url.format(db=DB)
    ours = await assert_same_facets(built, plain, path)
    assert all(ours["facet_results"][c]["results"] for c in FACET_COUNTS["amounts"])
    assert (await get_json(forged, path))["facet_results"] != ours["facet_results"]


async def test_synthetic_corpus_html(synthetic):
    built, plain, _ = synthetic
    for table in FACET_COUNTS:
        path = f"/{DB}/{table}?_facet_size=max"
        assert await facet_html(built, path) == await facet_html(plain, path), path


@pytest.mark.parametrize("settings", [{}, {"force_https_urls": True}])
async def test_toggle_urls_are_datasettes_absolute_urls(site_db, settings):
    """A facet value's toggle URL, built from the page's origin once, is ``Datasette.absolute_url``'s
    for every kind of path (a PrefixedUrlString, dot segments, a network path, a fragment)."""
    from datasette.utils import PrefixedUrlString
    from datasette.utils.asgi import Request

    from opendata.site.facets import _absolute_urls

    ds = make_app(site_db, settings=settings)
    request = Request.fake("/opendata/amounts?_facet=side&measure=%E5%86%B3%E7%AE%97%E6%95%B0")
    absolute = _absolute_urls(ds, request)
    paths = ["/opendata/amounts?side=%E6%94%B6%E5%85%A5", PrefixedUrlString("/opendata/amounts?a=1"),
             "/opendata/./amounts?a=1", "/opendata/x/../amounts", "//evil.example/x", "/a?b=/./c", "/a#b", "a/b",
             "/opendata/amounts;p?x=1", ""]
    for path in paths:
        assert absolute(path) == ds.absolute_url(request, path), path
        assert type(absolute(path)) is str
    assert absolute(paths[0]) == ("https" if settings else "http") + "://localhost" + paths[0]


async def test_stored_counts_read_once_per_process(site_db, monkeypatch, watch_sql):
    """The stored counts of a page are read from SQLite once: asked again, the page asks SQLite
    nothing of the facet tables, and says the same; past MAX_MEMO answers, they are read each time."""
    from datasette.database import Database

    from opendata.site import facets

    asked = watch_sql(Database)
    ds = make_app(site_db, metadata=METADATA)
    pages = [f"/{DB}/amounts.json?_facet_size=3", f"/{DB}/amounts.json?table_no=5", f"/{DB}/amounts.json?table_no=77"]
    def counted(page: dict) -> tuple:
        return page["facet_results"], page["filtered_table_rows_count"], page["rows"]

    first = [counted(await get_json(ds, p)) for p in pages]
    assert sum(FACET_COUNTS_TABLE in sql for sql in asked) >= 2
    asked.clear()
    assert [counted(await get_json(ds, p)) for p in pages] == first
    assert not [sql for sql in asked if FACET_COUNTS_TABLE in sql], asked
    answers, held = facets._memos[ds.get_database(DB)]
    monkeypatch.setattr(facets, "MAX_MEMO", len(answers))
    for size in range(4, 14):
        await get_json(ds, f"/{DB}/amounts.json?_facet_size={size}")
    assert len(answers) == facets.MAX_MEMO
    asked.clear()
    page = await get_json(ds, f"/{DB}/amounts.json?_facet_size=13")
    assert [sql for sql in asked if FACET_COUNTS_TABLE in sql] and len(page["facet_results"]["table_no"]["results"]) <= 13
    # The rows kept are bounded too: a page of 1,000 values a facet is not kept past MAX_MEMO_ROWS.
    monkeypatch.setattr(facets, "MAX_MEMO", 10 ** 6)
    monkeypatch.setattr(facets, "MAX_MEMO_ROWS", held[0] + 20)
    before = held[0]
    await get_json(ds, f"/{DB}/amounts.json?_facet_size=max")
    assert held[0] == before and not [key for key in answers if key[-1] == 1000]
    await get_json(ds, f"/{DB}/amounts.json?_facet_size=1")
    assert [key for key in answers if key[-1] == 1] and 0 < held[0] - before <= 20


# --- live facets asked in one query (CachedColumnFacet._live_rows) ---

LIVE = [*FILTERED, "/{db}/amounts.json?report_id={report}&_facet=side&_facet=code&_facet_size=3",
        "/{db}/statements.json?report_id={report}&_facet=topic", "/{db}/amounts.json?report_id={report}&_facet=nope",
        "/{db}/amounts.json?table_no=5&_facet=side&_facet=code_certainty", "/{db}/amounts?report_id={report}",
        "/{db}/findings?report_id={report}", "/{db}/budget_execution.json?year=2020",
        "/{db}/report_totals?kind=final&_facet=department", "/{db}/table3_expenditure.json?report_id={report}"]


async def test_live_facets_in_one_query_are_column_facets(shipped, seed_report, monkeypatch):
    """Facets counted live (a filtered page) are asked in one query, and say, value for value and
    for a facet on a column that does not exist, what Datasette's ColumnFacet says asking one query per facet."""
    from datasette.facets import ColumnFacet

    from opendata.site.facets import CachedColumnFacet

    built = shipped[0]
    paths = [url.format(db=DB, report=seed_report) for url in LIVE]
    ours = {path: await built.client.get(path) for path in paths}
    monkeypatch.setattr(CachedColumnFacet, "facet_results", ColumnFacet.facet_results)
    for path, response in ours.items():
        theirs = await built.client.get(path)
        assert response.status_code == theirs.status_code, path
        if path.split("?")[0].endswith(".json"):
            if response.status_code == 200:
                assert response.json()["facet_results"] == theirs.json()["facet_results"], path
            else:
                assert response.json() == theirs.json(), path
        else:
            block = BeautifulSoup(response.text, "html.parser").select_one(".facet-results")
            assert str(block) == str(BeautifulSoup(theirs.text, "html.parser").select_one(".facet-results")), path
    # No such column: Datasette's own error; every other page answers.
    assert {p: r.status_code for p, r in ours.items()} == {p: 400 if "_facet=nope" in p else 200 for p in paths}


async def test_live_facets_ask_once_and_say_when_they_time_out(site_db, seed_report, watch_sql):
    """A report's page asks its four live facets in one query, the rows its filters select read
    once; past the time limit, in one query of each facet's own (an index may serve those); past it
    again, every facet is said to have timed out and none is asked again alone (a filter no index
    serves, amount=262.33 at 10^6 rows, took the time limit once for all and once for each: 1.4-2.9 s)."""
    from datasette.database import Database, QueryInterrupted

    fail = {"on": None}

    def timeout(sql: str):
        if (fail["on"] == "rows" and "_opendata_rows" in sql) or (fail["on"] == "all" and "count(*) as count" in sql):
            return QueryInterrupted(None, sql, None)
        return None

    asked = watch_sql(Database, fail=timeout)
    ds = make_app(site_db, metadata=METADATA)
    path = f"/{DB}/amounts.json?report_id={seed_report}"
    page = await get_json(ds, path)
    facet_queries = [sql for sql in asked if "count(*) as count" in sql]
    assert len(facet_queries) == 1 and "_opendata_rows as materialized" in facet_queries[0]
    assert facet_queries[0].count("union all") == len(FACET_COUNTS["amounts"]) - 1
    from opendata.site import facets

    facets._live_memos.clear()  # the counts kept from the page before: asked again, to fail
    fail["on"] = "rows"
    asked.clear()
    assert (await get_json(ds, path))["facet_results"] == page["facet_results"]
    assert [("_opendata_rows" in sql) for sql in asked if "count(*) as count" in sql] == [True, False]
    facets._live_memos.clear()
    fail["on"] = "all"
    asked.clear()
    timed_out = await get_json(ds, path)
    assert timed_out["facet_results"] == {} and set(timed_out["facets_timed_out"]) == set(page["facet_results"])
    assert len([sql for sql in asked if "count(*) as count" in sql]) == 2  # not again one by one
    html = BeautifulSoup((await ds.client.get(path.replace(".json", ""))).text, "html.parser")
    assert html.select_one(".facets-timed-out").get_text().startswith("以下分面统计超时：")
    assert html.select_one("#facet-table_no") is None


@pytest.mark.parametrize("sql, params, expected", [
    # A rowid table's cursor, after a filter.
    ('select a from [t] where "b" = :p0 and rowid > :p1 ', {"p0": "x", "p1": "9"},
     ('select a from [t] where "b" = :p0 ', {"p0": "x"})),
    # A sorted page's cursor, the only condition; a name with parentheses in its brackets.
    ('select a from [t] where ([执行率(%)] > :p0 or ([执行率(%)] = :p0 and ((k1, k2) > (:p1, :p2)))) ',
     {"p0": "1", "p1": "a", "p2": "b"}, ("select a from [t] ", {})),
    # A _where of its own (no parameter), and a cursor that does not hold every later parameter: kept.
    ("select a from [t] where (amount > 1) ", {}, None),
    ("select a from [t] where ((k1, k2) > (:p0, :p1)) ", {"p0": "a", "p1": "b", "p2": "c"}, None),
    ("select a from [t] ", {}, None),
])
def test_first_page_sql(sql, params, expected):
    from opendata.site.next_page_facets import first_page_sql

    assert first_page_sql(sql, params) == expected


async def test_a_filtered_tables_live_counts_are_read_once_for_all_its_pages(site_db, site_package, monkeypatch):
    # A client paging through amounts?side=支出 at 10^6 rows waited 0.9 s a page: each page counted
    # the first page's facets again.
    from opendata.site import facets
    from opendata.site.app import make_app

    reads = []
    live_rows = facets.CachedColumnFacet._live_rows

    async def counted(self, names):
        reads.append(tuple(names))
        return await live_rows(self, names)

    monkeypatch.setattr(facets.CachedColumnFacet, "_live_rows", counted)
    ds = make_app(site_db, metadata=METADATA, package_dir=site_package)
    first = (await ds.client.get(f"/{DB}/amounts.json?side=%E6%94%AF%E5%87%BA&amount__gt=1&_size=20")).json()
    assert first["next"] and len(reads) == 1
    later = (await ds.client.get(f"/{DB}/amounts.json?side=%E6%94%AF%E5%87%BA&amount__gt=1&_size=20"
                                 f"&_next={first['next']}")).json()
    assert len(reads) == 1  # the counts kept from the first page
    assert later["facet_results"] == first["facet_results"] and later["rows"] != first["rows"]
    other = (await ds.client.get(f"/{DB}/amounts.json?side=%E6%94%B6%E5%85%A5&amount__gt=1&_size=20")).json()
    assert len(reads) == 2 and other["facet_results"] != first["facet_results"]  # another filter: counted
