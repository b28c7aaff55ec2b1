"""A sorted table's first page orders rows of one value by the primary key, as its next pages do.

Datasette 0.65 orders a table's page sorted by a column (``?_sort=item``) by that column alone on
the first page, and by that column then the primary key on the pages after it (``_next``), whose
cursor is the last row's value and key. Rows of one value were on the first page in the order
SQLite found them: those after the cursor in key order came again on the second page, those
before it never (paging amounts by item, three rows a page, repeated and skipped rows).

Datasette's query of such a first page, ``select <columns> from <table> [where ...]order by
<column>[ desc] limit <n>``, is given the primary key after its column here: ``order by <column>
[desc], <key>``, the order of its next pages. ``Database.execute`` of the site's immutable
databases runs it so; any other SQL (a query's own, a view's page, a next page) runs as it is,
but a next page in descending order, whose nulls are read apart (``nulls_apart``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from datasette.utils import escape_sqlite

#: Datasette's query of a table page sorted by one column, without a cursor.
_SORTED_PAGE = re.compile(r"select (?P<columns>.+?) from (?P<table>\[[^\]]+\]|\w+) (?:where .+ )?"
                          r"order by (?P<sort>\[[^\]]+\]|\w+)(?P<desc> desc)? limit (?P<limit>\d+)", re.S)


async def tie_broken(db: Any, sql: str) -> str | None:
    """``sql`` with the table's primary key after its sort column when it is Datasette's query of a
    sorted first page of a table of ``db`` (its columns only, each as Datasette names them); else None."""
    found = _SORTED_PAGE.fullmatch(sql)
    if found is None:
        return None
    table = next((t for t in await db.table_names() if escape_sqlite(t) == found["table"]), None)
    if table is None:
        return None
    pks = await db.primary_keys(table)
    columns = {escape_sqlite(c) for c in await db.table_columns(table)}
    selected = found["columns"].split(", ")
    if not pks:  # a rowid table's page selects its rowid first and pages by it
        if selected[0] != "rowid":
            return None
        selected, key = selected[1:], "rowid"
    else:
        key = ", ".join(escape_sqlite(pk) for pk in pks)
    if not selected or not set(selected) <= columns or found["sort"] not in columns:
        return None
    return f"{sql[:found.end('desc') if found['desc'] else found.end('sort')]}, {key} limit {found['limit']}"


#: Datasette's query of a next page of a table sorted by a column in descending order: the rows
#: before the cursor's value, its nulls (last in that order) and the rows of its value after the
#: cursor's key; that condition is the last of the page's (Datasette adds it after the filters).
_DESC_NEXT_PAGE = re.compile(
    r"select (?P<columns>.+?) from (?P<table>\[[^\]]+\]|\w+) where (?P<pre>.*?)"
    r"\((?P<col>\[[^\]]+\]|\w+) < (?P<p>:p\d+) or (?P=col) is null or \((?P=col) = (?P=p) and (?P<keys>.+)\)\)"
    r" order by (?P=col) desc, (?P<key>[^()]+?) limit (?P<limit>\d+)", re.S)


def nulls_apart(sql: str) -> str | None:
    """Datasette's query of a next page sorted by a column in descending order, with the column's
    nulls (which come last) read apart: ``col < :p or col is null or (col = :p and key > ...)``
    is three ways into the table, which SQLite reads all of and sorts (a page of amounts by code
    at 10^6 rows ran past the time limit by the second page); without ``col is null`` it walks
    the column's index from the cursor. The same rows in the same order: the non-null ones, then
    the nulls in key order. None for any other SQL."""
    found = _DESC_NEXT_PAGE.fullmatch(sql)
    if found is None:
        return None
    cols, table, col, limit, key, pre = (found[name] for name in ("columns", "table", "col", "limit", "key", "pre"))
    valued = (f"select {cols} from {table} where {pre}({col} < {found['p']} or ({col} = {found['p']} and "
              f"{found['keys']})) order by {col} desc, {key} limit {limit}")
    nulls = f"select {cols} from {table} where {pre}{col} is null order by {key} limit {limit}"
    # SQLite gives a UNION ALL's arms in their order (no ORDER BY over both: it would sort the page
    # again, and the sort column may not be among the page's columns); tests/test_api_errors.py
    # checks every page's rows against the whole order.
    return f"select * from (select * from ({valued}) union all select * from ({nulls})) limit {limit}"


def install(db: Any) -> None:
    """Make ``db.execute`` run a sorted table's first page in key order within each value
    (``tie_broken``), for an immutable database (its schema is read once)."""
    if db.is_mutable or getattr(db, "_opendata_sorted_pages", False):
        return
    execute: Callable[..., Awaitable[Any]] = db.execute

    @functools.wraps(execute)
    async def answered(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("truncate") and " order by " in sql:
            if "," not in sql.rpartition(" order by ")[2]:
                sql = await tie_broken(db, sql) or sql
            elif " is null or (" in sql:
                sql = nulls_apart(sql) or sql
        return await execute(sql, params, *args, **kwargs)

    db.execute = answered
    db._opendata_sorted_pages = True
