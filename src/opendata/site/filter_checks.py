"""A table page's filters and facets checked against its columns before Datasette builds its SQL.

Datasette 0.65 writes a filter's column as a double-quoted identifier, which SQLite reads as a
text when no column has that name: ``amout__gt=100`` (a typo) answered every row ('amout' > 100),
``amout=100`` none, each with 200. A comparison with a number column given a word compared numbers
with a text: ``amount__lt=abc`` answered every row, ``amount__gt=abc`` none (and an equality:
``table_no=abc`` none, ``table_no__not=abc`` every row); ``amount__gt=²``
(a digit to Python's ``str.isdigit``, not to ``int``) was a 500. A filter with an operator
Datasette does not know (``amount__gte2=1``) was left out silently. A facet by a column the table
does not have ran its SQL anyway: a 400 whose SQL error was logged, with a warning of coroutines
never awaited. A ``_search`` on a table without a full-text index, and a ``_zh`` off the search
table, were left out: every row, as if each had matched. Each of these is now the client's error
(400), saying which parameter and why.
"""

from __future__ import annotations

import re
from typing import Any

from datasette.facets import load_facet_configs
from datasette.filters import Filters, InFilter

#: Where Chinese text is searched (``_zh``; a ``_search`` there is read as one).
SEARCH_TABLE = "search_index"
#: Filters comparing a number column with their value.
COMPARISONS = frozenset({"gt", "gte", "lt", "lte"})
#: Filters matching a number column's values with theirs: a word never matches (``table_no=abc``
#: answered no row, ``table_no__not=abc`` every row, each with 200).
EQUALITIES = frozenset({"exact", "not"})
#: Filters matching a number column's values with a list of theirs (``1,2`` or ``[1, 2]``).
LISTS = frozenset({"in", "notin"})
#: A number as SQLite reads one in a comparison with a number column (ASCII digits).
_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
_OPERATORS = frozenset(f.key for f in Filters._filters)


def number_affinity(declared: str) -> bool:
    """Whether SQLite gives a column of this declared type INTEGER, REAL or NUMERIC affinity."""
    t = declared.upper()
    if "INT" in t:
        return True
    if any(word in t for word in ("CHAR", "CLOB", "TEXT", "BLOB")) or not t.strip():
        return False
    return True


async def _number_column(datasette: Any, database: str, table: str, column: str, declared: str) -> bool:
    """Whether ``column`` holds numbers: by its declared type, or, for a column a view computes
    (no declared type: ``share_pct``, ``total_expenditure``), by the type of its first value
    (the database is immutable: asked once per process)."""
    if declared.strip():
        return number_affinity(declared)
    cache = datasette.__dict__.setdefault("_opendata_number_columns", {})
    key = (database, table, column)
    if key not in cache:
        result = await datasette.get_database(database).execute(
            f"select typeof([{column}]) from [{table}] where [{column}] is not null limit 1")
        cache[key] = bool(result.rows) and result.rows[0][0] in ("integer", "real")
    return cache[key]


def _filters(args: Any) -> list[tuple[str, str, str, str]]:
    """(parameter, column, operator, value) of each filter Datasette reads from ``args``."""
    found = []
    for key in args.keys():
        if key.startswith("_") and "__" not in key:
            continue
        column, operator = key.rsplit("__", 1) if "__" in key else (key, "exact")
        found.extend((key, column, operator, value) for value in args.getlist(key))
    return found


def _facet_columns(request: Any) -> list[str]:
    """The columns the request's facet parameters name, as Datasette reads them (a JSON one's
    "simple"; ``_facet_size`` is a count, not a facet)."""
    try:
        configs = load_facet_configs(request, None)
    except ValueError:
        return []  # client_errors answers a facet that is not the JSON expected
    return [c["config"].get("simple") for kind, found in configs.items() if kind != "size" for c in found
            if isinstance(c["config"], dict) and isinstance(c["config"].get("simple"), str) and c["config"]["simple"]]


def digits_problem(args: Any) -> str | None:
    """The message for a comparison whose value Python calls digits and ``int`` refuses (``²``):
    Datasette converts it before any check can run, and fails (a ValueError)."""
    for key, _column, operator, value in _filters(args):
        if operator in COMPARISONS and value.isdigit() and not _NUMBER.fullmatch(value):
            return _number_needed(key)
    return None


def _numbers(operator: str, value: str) -> bool:
    """Whether a filter's value is what a number column can match: a number for a comparison or an
    equality, numbers for a list (read as Datasette reads it); any value for other operators."""
    if operator in COMPARISONS or operator in EQUALITIES:
        return bool(_NUMBER.fullmatch(value))
    if operator in LISTS:
        try:
            items = InFilter().split_value(value)
        except ValueError:  # a "[" that is not JSON
            return False
        return isinstance(items, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) or isinstance(v, str) and _NUMBER.fullmatch(v)
            for v in items)
    return True


def _number_needed(key: str) -> str:
    return f"{key}: a number is needed, in ASCII digits ({key}=100)"


_SEARCH_HINT = "search Chinese with /opendata/search?q=… or search_index?_zh=…"


async def _search_problem(datasette: Any, database: str, table: str, args: Any) -> str | None:
    """A ``_zh`` off the search table, or a ``_search`` on a table without a full-text index:
    Datasette left each out, and answered every row as if each had matched."""
    if table == SEARCH_TABLE:
        return None
    if args.get("_zh"):
        return f"_zh: {table} has no Chinese search ({_SEARCH_HINT})"
    if any(key.startswith("_search") and args.get(key) for key in args.keys()):
        fts = datasette.table_metadata(database, table).get("fts_table")
        if not fts and not await datasette.get_database(database).fts_table(table):
            return f"_search: {table} has no full-text index ({_SEARCH_HINT})"
    return None


async def filter_problem(datasette: Any, database: str, table: str, request: Any) -> str | None:
    """Why a filter or facet of the request cannot be answered on ``table`` (a 400's message);
    None when each names a column of it, with an operator Datasette knows and, comparing a number
    column, a number."""
    args = request.args
    if problem := await _search_problem(datasette, database, table, args):
        return problem
    size = args.get("_facet_size")
    if size is not None and size != "max" and not (size.isascii() and size.isdigit() and int(size) > 0):
        return "_facet_size: a number of values, 1 or more, or max"  # Datasette took "abc" or "-1" as 12
    filters, facets = _filters(args), _facet_columns(request)
    if not filters and not facets:
        return None
    details = await datasette.get_database(database).table_column_details(table)
    types = {c.name: c.type for c in details}
    types.setdefault("rowid", "INTEGER")
    for key, column, operator, value in filters:
        if operator not in _OPERATORS and key in types:  # a column whose name has "__"
            column, operator = key, "exact"
        if column not in types:
            return f"no such column: {column}"
        if operator not in _OPERATORS:
            return f"{key}: no such filter operator {operator!r} (use one of {', '.join(sorted(_OPERATORS))})"
        if not _numbers(operator, value) and await _number_column(datasette, database, table, column, types[column]):
            return _number_needed(key)
    for column in facets:
        if column not in types:
            return f"no such column: {column}"
    return None
