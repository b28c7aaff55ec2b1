"""Default facets of the unfiltered table pages, answered from counts the build stored.

At national scale a facet over all of ``amounts`` is a GROUP BY over 10^6 rows (60-100 ms each
even with an index; 0.6-0.8 s for the page's four default facets). The database is built once and
served immutable, so ``opendata.build`` stores the result of that same GROUP BY for the default
facet columns of the large tables in ``_facet_counts(table, column, value, count)``.

``CachedColumnFacet`` takes the place of Datasette's ``ColumnFacet`` (the plugin's
``register_facet_classes`` wrapper swaps the class; facet type, ``metadata.yml`` facets and
``?_facet=col`` URLs are unchanged). It reads ``_facet_counts`` only when all of these hold:

- the database is immutable (a mutable one could have changed since the counts were taken);
- the facet's SQL is the whole table: no where clause of any kind (column filters, ``_search``,
  ``_where``, ``_through``, a plugin's filters all add one; a ``_next`` page's facets are its first
  page's, ``next_page_facets``);
- the build stored counts for that table and column.

It reads ``_facet_counts_by`` (the counts over the rows where one column has one value) for the
page a facet value's link opens: the facet's SQL is the whole table with one ``"column" = :p0``
filter and nothing else, the build stored counts for that table, filter column and facet column,
and for that very value as the URL gives it (any other spelling, ``?table_no=05``, is counted live).

The count of such a page (``?column=value``: Datasette's ``select count(*) from <table> where
"column" = :p0``, 40 ms for ``amounts?source_kind=table`` at 10^6 rows) is the same stored count of
that value over the whole table (``stored_counts``), when the database is immutable and the build
stored that value as the URL gives it; any other count runs as it did.

Those stored answers are read from SQLite once per server process and kept (``_memo``: the database
is immutable; at most MAX_MEMO answers and MAX_MEMO_ROWS facet rows per database, whatever the
URLs ask): a page of amounts then makes no round trip for its facets (1.2 ms of its 11 in process).

A page asks at most MAX_REQUESTED_FACETS facets of its URL (the same one asked twice counts once:
the plugin removes repeats before Datasette reads the URL): a URL of 320 ``_facet=``, eight columns
forty times with ``_facet_size=max``, took 13.6 s and answered 131 MB, each facet within its time
limit.

Otherwise the facets are counted live by ColumnFacet's queries, all of a page's in one query (one
round trip to SQLite's thread instead of one per facet; ``_live_rows``); when that query fails or
runs past the facets' time limit, ColumnFacet asks them one by one, as it always does. Either way
the results (values, counts, order, ``truncated``, labels of foreign keys, toggle URLs,
``selected``) are built by the same code from the same rows: the query is the only difference.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import BadRequest

from .json_output import note_timed_out
from .next_page_facets import facet_on_first_page

#: The most facets a page's URL may ask (``_facet``, ``_facet_array``, ``_facet_date``), besides
#: those metadata.yml gives the table (four at most).
MAX_REQUESTED_FACETS = 6

#: The build's table of value counts (see ``opendata.build.FACET_COUNTS``).
FACET_COUNTS_TABLE = "_facet_counts"
#: ... and of value counts under a one-value filter (``opendata.build.FACET_FILTERS``).
FILTERED_COUNTS_TABLE = "_facet_counts_by"

#: Per immutable database: the (table, column) pairs it has counts for, and the (table, filter
#: column, column) triples it has filtered counts for.
_stored: WeakKeyDictionary = WeakKeyDictionary()
_stored_by: WeakKeyDictionary = WeakKeyDictionary()


async def _distinct(db, cache: WeakKeyDictionary, table: str, columns: str) -> frozenset[tuple]:
    if db.is_mutable:
        return frozenset()
    found = cache.get(db)
    if found is None:
        found = frozenset()
        if await db.table_exists(table):
            found = frozenset(tuple(r) for r in (await db.execute(f"select distinct {columns} from {table}")).rows)
        cache[db] = found
    return found


async def stored_facets(db) -> frozenset[tuple[str, str]]:
    """The (table, column) pairs whose counts ``db`` holds; none for a mutable database."""
    return await _distinct(db, _stored, FACET_COUNTS_TABLE, "[table], [column]")


async def stored_filtered_facets(db) -> frozenset[tuple[str, str, str]]:
    """The (table, filter column, column) triples whose filtered counts ``db`` holds; none for a
    mutable database."""
    return await _distinct(db, _stored_by, FILTERED_COUNTS_TABLE, "[table], filter_column, [column]")


#: Datasette's SQL over a table filtered by one column's value and nothing else (``?column=value``):
#: its rows, facets and count all read ``from <table> where "<column>" = :p0 ``.
_ONE_VALUE = re.compile(r'select (.*) from (\S+) where "([^"]+)" = :p0 ', re.S)


def one_value_filter(sql: str, params: Any) -> tuple[str, str, str, str] | None:
    """(what is selected, the table as the SQL names it, column, value) when ``sql`` reads a table
    filtered by exactly ``"column" = :p0`` with a text value, as a URL gives it; else None."""
    if not isinstance(params, dict) or set(params) != {"p0"} or not isinstance(params["p0"], str):
        return None
    found = _ONE_VALUE.fullmatch(sql)
    return (*found.groups(), params["p0"]) if found else None


def stored_counts(db) -> bool:
    """Make ``db.execute`` answer the row count of a page a facet value's link opens (a one-value
    filter whose facets ``_facet_counts_by`` holds) from ``_facet_counts`` (the count of that value
    over the whole table) when ``db`` is immutable and the build stored the value as
    the URL gives it (``cast(value as text)``: ``?table_no=5`` is stored, ``?table_no=05`` is
    counted live, as SQLite's type affinity would still find its rows); True when it does."""
    if db.is_mutable or getattr(db, "_opendata_stored_counts", False):
        return bool(getattr(db, "_opendata_stored_counts", False))
    execute: Callable[..., Awaitable[Any]] = db.execute

    @functools.wraps(execute)
    async def answered(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        one = one_value_filter(sql, params)
        if one is not None and one[0] == "count(*)":
            _, table_sql, column, value = one
            # The filters whose pages read their facets from the store (FACET_FILTERS), not report_id.
            table = next((t for t, f, _ in await stored_filtered_facets(db)
                          if escape_sqlite(t) == table_sql and f == column), None)
            if table is not None:
                count = await _memo(db, ("count", table, column, value), lambda: execute(
                    f"select count as [count(*)] from {FACET_COUNTS_TABLE} where [table] = ? and [column] = ? "
                    "and cast(value as text) = ?", [table, column, value]))
                if count.rows:
                    return count
        return await execute(sql, params, *args, **kwargs)

    db.execute = answered
    db._opendata_stored_counts = True
    return True


#: Answers, and facet rows in them, kept per database by ``_memo``: the URL chooses the filter
#: value and ``_facet_size`` (up to 1,000 rows a facet), so past these, answers are read again each
#: time instead of kept. 20,000 rows: ~9 MB a server process (100,000 took 45 MB, measured with
#: 3,000 varied URLs); a page's default facets are ~124 rows, so ~160 such pages are kept.
MAX_MEMO = 4096
MAX_MEMO_ROWS = 20_000

_memos: WeakKeyDictionary = WeakKeyDictionary()


async def _memo(db: Any, key: tuple, read: Callable[[], Awaitable[Any]], rows: Callable[[Any], int] = lambda _: 1) -> Any:
    """``read()``'s answer for ``key``, read from an immutable database ``db`` once per process
    (the facet code reads the answers and never changes them); ``rows(answer)``: what it holds."""
    answers, held = _memos.setdefault(db, ({}, [0]))
    if key in answers:
        return answers[key]
    answer = await read()
    size = rows(answer)
    if len(answers) < MAX_MEMO and held[0] + size <= MAX_MEMO_ROWS:
        answers[key] = answer
        held[0] += size
    return answer


#: Live facet counts (a filter the build stored none for) kept per database, the latest used last:
#: a client paging through a filtered table asks every page for the first page's counts (``side=支出``
#: at 10^6 rows: 0.9 s a page, 687 pages). At most these many answers, and rows in them (a page's
#: four default facets: ~124 rows; ~4 MB a server process); the least recently used go first.
MAX_LIVE_MEMO = 256
MAX_LIVE_MEMO_ROWS = 8_000

_live_memos: WeakKeyDictionary = WeakKeyDictionary()


async def _live_memo(db: Any, key: tuple, read: Callable[[], Awaitable[Any]]) -> Any:
    """``read()``'s answer for ``key`` from an immutable database ``db``, kept when it is counts (a
    dict of each facet's rows; not a time-out, which a quieter moment may not meet), the least
    recently used dropped past MAX_LIVE_MEMO answers or MAX_LIVE_MEMO_ROWS rows."""
    answers = _live_memos.setdefault(db, OrderedDict())
    if key in answers:
        answers.move_to_end(key)
        return answers[key][0]
    answer = await read()
    size = sum(len(rows) for rows in answer.values()) if isinstance(answer, dict) else 0
    # Not one past a tenth of the rows kept (six facets of _facet_size=max: 6,006 rows emptied it).
    if isinstance(answer, dict) and size <= MAX_LIVE_MEMO_ROWS // 10:
        answers[key] = (answer, size)
        held = sum(size for _, size in answers.values())
        while answers and (len(answers) > MAX_LIVE_MEMO or held > MAX_LIVE_MEMO_ROWS):
            _, (_, size) = answers.popitem(last=False)
            held -= size
    return answer


def _without_cursor(request: Any, path: str, cursor: dict[str, None]) -> str:
    """``path`` (made from ``request``'s, its query kept) without the ``_next`` cursor where the
    request had one (``cursor``): a facet's links open the first page of what they select."""
    return path_with_removed_args(request, {"_next"}, path=path) if cursor else path


def _absolute_urls(ds: Any, request: Any) -> Callable[[str], str]:
    """``ds.absolute_url(request, path)`` for the paths of one page: the scheme and host worked out
    once (urljoin of Datasette's PrefixedUrlString, whose every method call lists ``dir(str)``:
    14 µs a value, 33 values a page of amounts), for a path that urljoin would only append (one that
    starts with a single slash and has no dot segment); any other path through urljoin."""
    origin = ds.absolute_url(request, "/")[:-1]

    def absolute(path: str) -> str:
        path = str.__str__(path)  # a plain str
        if path.startswith("/") and not path.startswith("//") and "/." not in path.partition("?")[0] \
                and "#" not in path:
            return origin + path
        return ds.absolute_url(request, path)

    return absolute


#: What ``_live_rows`` answers when the page's facets ran past their time limit, both ways.
TIMED_OUT = object()


def is_facet_parameter(name: str) -> bool:
    """A parameter Datasette reads as a facet: every name starting with _facet but _facet_size."""
    return name.startswith("_facet") and name != "_facet_size"


def requested_facets(args: Any) -> set[tuple[str, str]]:
    """The distinct (parameter, value) facets a request's arguments ask."""
    return {(key, value) for key in args.keys() if is_facet_parameter(key) for value in args.getlist(key)}


class CachedColumnFacet(ColumnFacet):
    """ColumnFacet whose GROUP BY over a whole table is read from the build's ``_facet_counts``."""

    def unfiltered(self) -> bool:
        """True when the facet's SQL is the whole table: Datasette writes it as
        ``select <columns> from <table> `` followed by ``where ...`` as soon as anything filters."""
        if not self.table or self.params:
            return False
        table = escape_sqlite(self.table)
        return self.sql.endswith(f" from {table} ") and f" from {table} where " not in self.sql

    def one_value_filter(self) -> tuple[str, str] | None:
        """(column, value as text) when the facet's SQL is the whole table filtered by
        ``"column" = :p0`` and nothing else (Datasette's exact filter, ``?column=value``)."""
        one = one_value_filter(self.sql, self.params) if self.table else None
        if one is None or one[1] != escape_sqlite(self.table):
            return None
        return one[2], one[3]

    async def facet_results(self):
        if len(requested := requested_facets(self.request.args)) > MAX_REQUESTED_FACETS:
            raise BadRequest(f"{len(requested)} facets asked: at most {MAX_REQUESTED_FACETS} in one page")
        await facet_on_first_page(self)
        cached: frozenset[tuple[str, str]] = frozenset()
        self._filter: tuple[str, str] | None = None
        db = self.ds.get_database(self.database)
        names = [c["config"].get("column") or c["config"]["simple"] for c in self.get_configs()]
        columns = set(names)
        if self.unfiltered():
            stored = await stored_facets(db)
            cached = frozenset(p for p in stored if p[0] == self.table and p[1] in columns)
        elif (one := self.one_value_filter()) is not None:
            stored_by = await stored_filtered_facets(db)
            cached = frozenset((t, c) for t, f, c in stored_by if t == self.table and f == one[0] and c in columns)
            # A value the build did not store (another spelling, or no row has it): counted live.
            if cached and not await _memo(db, ("has value", self.table, one), lambda: self._has_filtered_counts(db, one)):
                cached = frozenset()
            self._filter = one
        if not cached:
            params = sorted((str(k), repr(v)) for k, v in self.params.items()) if isinstance(self.params, dict) else []
            live = await _live_memo(db, ("live", self.sql, tuple(params), tuple(names), self.get_facet_size()),
                                    lambda: self._live_rows(names))
            if live is TIMED_OUT:
                # Not again one by one: a filter no index serves (amount=262.33 at 10^6 rows) took the
                # time limit once for all and then once for each facet, 1.4-2.9 s a page.
                timed_out = list(dict.fromkeys(names))
                note_timed_out(self.request, timed_out)
                return [], timed_out
            if live is None:  # one by one, as ColumnFacet counts them (some may run past the time limit)
                results, timed_out = await super().facet_results()
                note_timed_out(self.request, timed_out)
                return results, timed_out
            return await self._results(live)
        return await self._results(await self._stored_rows(db, names, self.get_facet_size(), cached))

    async def _live_rows(self, names: list[str]) -> dict[str, list] | object | None:
        """ColumnFacet's query for each column of ``names``, all in one query (one round trip to
        SQLite's thread instead of one per facet: a report's page of amounts has four): each
        column's top ``facet_size`` + 1 values in ColumnFacet's order. None when there is nothing to
        share, or when the query fails: ColumnFacet then asks column by column, as it always does,
        and says which facet failed; TIMED_OUT when both ways of asking them in one query (the rows
        read once, then each facet's own subquery) run past the facets' time limit. Asked one by
        one then, each facet would take the limit again (1.4-2.9 s a page at 10^6 rows, for one or
        two facets an index serves): the page says they all timed out instead."""
        wanted = list(dict.fromkeys(names))
        if len(wanted) < 2 or not self.table or not isinstance(self.params, dict):
            return None
        # A column the table does not have: ColumnFacet's own query says so (and only it is logged).
        if not set(wanted) <= set(await self.ds.get_database(self.database).table_columns(self.table)):
            return None
        params = dict(self.params)
        limit = self.get_facet_size() + 1

        def arms(source: str) -> str:
            return " union all ".join(
                f"select * from (select :_opendata_facet_{i} as facet, value, count from (select {escape_sqlite(c)} "
                f"as value, count(*) as count from {source} where {escape_sqlite(c)} is not null "
                f"group by {escape_sqlite(c)} order by count desc, value limit {limit}))" for i, c in enumerate(wanted))

        for i, column in enumerate(wanted):
            if f"_opendata_facet_{i}" in params:
                return None
            params[f"_opendata_facet_{i}"] = column
        # First the rows the filters select read once, their facet columns only: a filter no index
        # serves (amount=262.33, amount__gt=5000 at 10^6 rows) was read once per facet, past the
        # time limit (1.4-1.8 s a page). Half the table (side=支出) is more than the time limit
        # holds that way: then one query of each facet's own subquery, which an index may serve.
        queries = (f"with _opendata_rows as materialized (select {', '.join(map(escape_sqlite, wanted))} "
                   f"from ({self.sql})) " + arms("_opendata_rows"), arms(f"({self.sql})"))
        for sql in queries:
            try:
                results = await self.ds.execute(self.database, sql, params, truncate=False,
                                                custom_time_limit=self.ds.setting("facet_time_limit_ms"))
                break
            except QueryInterrupted:
                continue
            except Exception:  # noqa: BLE001 - ColumnFacet's own queries say what went wrong, facet by facet
                return None
        else:
            return TIMED_OUT
        rows: dict[str, list] = {column: [] for column in wanted}
        for facet, value, count in results.rows:
            rows[facet].append({"value": value, "count": count})
        return rows

    async def _has_filtered_counts(self, db: Any, one: tuple[str, str]) -> bool:
        return bool((await db.execute(f"select 1 from {FILTERED_COUNTS_TABLE} where [table] = ? and filter_column = ? "
                                      "and filter_value = ? limit 1", (self.table, *one))).rows)

    async def _stored_rows(self, db: Any, columns: list[str], facet_size: int,
                           cached: frozenset[tuple[str, str]]) -> dict[str, list[dict]]:
        """The stored counts of each of ``columns`` held in ``cached`` (the top ``facet_size`` + 1,
        in ColumnFacet's order), all read by one query (each query is a round trip to SQLite's
        thread, 0.2-0.6 ms), once per process: the database is immutable (``_memo``)."""
        wanted = tuple(dict.fromkeys(c for c in columns if (self.table, c) in cached))
        if not wanted:
            return {}
        return await _memo(db, ("rows", self.table, self._filter, wanted, facet_size),
                           lambda: self._read_stored_rows(wanted, facet_size),
                           lambda found: sum(map(len, found.values())))

    async def _read_stored_rows(self, wanted: tuple[str, ...], facet_size: int) -> dict[str, list[dict]]:
        params: dict[str, Any] = {"table": self.table}
        if self._filter is not None:
            source = f"{FILTERED_COUNTS_TABLE} where [table] = :table and filter_column = :by and filter_value = :value"
            params.update(by=self._filter[0], value=self._filter[1])
        else:
            source = f"{FACET_COUNTS_TABLE} where [table] = :table"
        arms = []
        for i, column in enumerate(wanted):
            params[f"c{i}"] = column
            arms.append(f"select * from (select :c{i} as facet, value, count from {source} and [column] = :c{i} "
                        f"order by count desc, value limit {facet_size + 1})")
        results = await self.ds.execute(self.database, " union all ".join(arms), params, truncate=False)
        rows: dict[str, list[dict]] = {column: [] for column in wanted}
        for facet, value, count in results.rows:
            rows[facet].append({"value": value, "count": count})
        return rows

    async def _facet_rows(self, column: str, facet_size: int, stored: dict[str, list[dict]]):
        if column in stored:
            return stored[column]
        # The same query as ColumnFacet.facet_results
        facet_sql = """
                select {col} as value, count(*) as count from (
                    {sql}
                )
                where {col} is not null
                group by {col} order by count desc, value limit {limit}
            """.format(col=escape_sqlite(column), sql=self.sql, limit=facet_size + 1)
        return (await self.ds.execute(
            self.database, facet_sql, self.params, truncate=False,
            custom_time_limit=self.ds.setting("facet_time_limit_ms"),
        )).rows

    async def _results(self, stored: dict[str, list]):
        # ColumnFacet.facet_results of Datasette 0.65 with its query in _facet_rows (the rows of
        # ``stored``, by column, when there); tests/test_facets.py checks the two give the same JSON
        # and HTML for every cached column and for live counts.
        facet_results = []
        facets_timed_out = []
        qs_pairs = self.get_querystring_pairs()
        facet_size = self.get_facet_size()
        configs = self.get_configs()
        absolute = _absolute_urls(self.ds, self.request)
        cursor = {"_next": None} if "_next" in self.request.args else {}
        for source_and_config in configs:
            config = source_and_config["config"]
            source = source_and_config["source"]
            column = config.get("column") or config["simple"]
            try:
                facet_rows_results = await self._facet_rows(column, facet_size, stored)
                facet_results_values = []
                facet_results.append(
                    {
                        "name": column,
                        "type": self.type,
                        "hideable": source != "metadata",
                        "toggle_url": self.ds.urls.path(_without_cursor(
                            self.request, path_with_removed_args(self.request, {"_facet": column}), cursor)),
                        "results": facet_results_values,
                        "truncated": len(facet_rows_results) > facet_size,
                    }
                )
                facet_rows = facet_rows_results[:facet_size]
                if self.table:
                    values = [row["value"] for row in facet_rows]
                    expanded = await self.ds.expand_foreign_keys(self.database, self.table, column, values)
                else:
                    expanded = {}
                for row in facet_rows:
                    column_qs = column
                    if column.startswith("_"):
                        column_qs = f"{column}__exact"
                    selected = (column_qs, str(row["value"])) in qs_pairs
                    # A value's link opens the first page of the rows it selects (Datasette's kept
                    # a _next page's cursor: the rows after it, under a count of all of them).
                    if selected:
                        toggle_path = _without_cursor(
                            self.request, path_with_removed_args(self.request, {column_qs: str(row["value"])}), cursor)
                    else:
                        toggle_path = path_with_added_args(self.request, [*cursor.items(), (column_qs, row["value"])])
                    facet_results_values.append(
                        {
                            "value": row["value"],
                            "label": expanded.get((column, row["value"]), row["value"]),
                            "count": row["count"],
                            "toggle_url": absolute(self.ds.urls.path(toggle_path)),
                            "selected": selected,
                        }
                    )
            except QueryInterrupted:
                facets_timed_out.append(column)
        note_timed_out(self.request, facets_timed_out)
        return facet_results, facets_timed_out
