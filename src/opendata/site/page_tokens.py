"""A ``?_next=`` checked against the page tokens Datasette gives, before it builds its SQL from one.

Datasette 0.65 pages a table by its key: the token is the last row's primary key values (its rowid
when it has none), tilde-encoded and separated by commas, after the sort column's value when the
page is sorted (``_sort``, ``_sort_desc`` or the table's sort in metadata.yml); a view's token is a
row offset. Given a token with another number of values, Datasette left the key out of its SQL:
the first page again, answered 200 (``amounts.json?_next=zzz``), or, on a sorted page, SQL that is
not SQL (``... and )``: a 400 with SQLite's "near ")": syntax error"). Such a ``_next`` is the
client's error (400), saying what the token should be.
"""

from __future__ import annotations

import re
from typing import Any

from datasette.utils import tilde_decode
from datasette.utils.asgi import BadRequest

MESSAGE = "_next: not a page token of this table or view"
#: The largest offset SQLite takes (a 64-bit integer).
MAX_OFFSET = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NUMBER_TYPES = frozenset({"INTEGER", "INT", "REAL", "FLOAT", "DOUBLE", "NUMERIC"})
_WITHOUT_ROWID = re.compile(r"\)\s*without\s+rowid\b", re.IGNORECASE)


def _whole_number(text: str) -> bool:
    """Digits only (``int`` also takes "+5", " 5", "5_0" and other scripts' digits), within 64 bits."""
    return bool(_DIGITS.fullmatch(text)) and int(text) <= MAX_OFFSET


def sort_column(args: Any, table_metadata: dict[str, Any]) -> str | None:
    """The column a table page is sorted by, as Datasette chooses it from the request's ``args``:
    ``_sort`` or ``_sort_desc``, else the table's ``sort`` or ``sort_desc`` in metadata.yml; None
    when the page is in key order."""
    sort, sort_desc = args.get("_sort"), args.get("_sort_desc")
    if not sort and not sort_desc:
        sort, sort_desc = table_metadata.get("sort"), table_metadata.get("sort_desc")
    return sort or sort_desc or None


async def _integer_key(db: Any, table: str, pks: list[str]) -> bool:
    """Whether the table's key holds whole numbers only: its rowid (no primary key), or an INTEGER
    PRIMARY KEY, the rowid's alias (not in a WITHOUT ROWID table)."""
    if not pks:
        return True
    if len(pks) > 1:
        return False
    column = next((c for c in await db.table_column_details(table) if c.name == pks[0]), None)
    if column is None or column.type.strip().upper() != "INTEGER":
        return False
    return not _WITHOUT_ROWID.search(await db.get_table_definition(table) or "")


async def token_problem(datasette: Any, request: Any, database: str, table: str) -> str | None:
    """Why the request's ``_next`` is not a token of the table or view's pages (the 400's message);
    None when it is one, or when there is none."""
    token = request.args.get("_next")
    if not token:  # Datasette reads a blank _next as none
        return None
    db = datasette.get_database(database)
    if await db.get_view_definition(table):
        return None if _whole_number(token) else f"{MESSAGE} ({table} is a view: its token is a row offset, a whole number)"
    pks = await db.primary_keys(table)
    sort = sort_column(request.args, datasette.table_metadata(database, table))
    if sort and sort not in await db.table_columns(table) and (pks or sort != "rowid"):
        return None  # Datasette says "Cannot sort table by ..." first
    values = token.split(",")
    expected = max(len(pks), 1) + (1 if sort else 0)
    key = ", ".join(pks) if pks else "rowid"
    if len(values) != expected:
        pages = f"{table} sorted by {sort}" if sort else table
        what = f"its {sort}, then its {key}" if sort else f"its {key}"
        return (f"{MESSAGE} (a token of {pages} is {expected} value{'s' if expected > 1 else ''} separated by "
                f"commas, the last row's: {what}; the next_url of the page before gives it)")
    if await _integer_key(db, table, pks) and not _whole_number(tilde_decode(values[-1])):
        return f"{MESSAGE} (the {key} of {table} is a whole number)"
    # A number column's value that is not a number (reports' year "abc"): SQLite compared it as
    # text, greater than every number, and the first page came back again, 200.
    kinds = {c.name: c.type.strip().upper() for c in await db.table_column_details(table)}
    for column, value in zip(([sort] if sort else []) + pks, values):
        text = tilde_decode(value)
        if column == sort and text == "$null":  # a null sort value, as Datasette writes it
            continue
        if kinds.get(column) in _NUMBER_TYPES and not _NUMBER.fullmatch(text):
            return f"{MESSAGE} (its {column} is a number, not “{text}”; the next_url of the page before gives it)"
    return None


async def checked(datasette: Any, request: Any, database: str, table: str, found: Any) -> Any:
    """``found`` (a ``filters_from_request`` hook's answer), or BadRequest when the request's
    ``_next`` is not a page token of ``table``."""
    problem = await token_problem(datasette, request, database, table)
    if problem:
        raise BadRequest(problem)
    return found
