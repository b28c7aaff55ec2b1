"""How much one served query may make: no value longer than MAX_VALUE_BYTES, no result larger than
MAX_RESULT_CHARS.

Datasette bounds a query's time (``sql_time_limit_ms``) and its rows (``max_returned_rows``), not
its size, and its time limit is checked between SQLite's steps, not during one: through the SQL
API, ``select randomblob(1000000000)`` ran 17 s and answered 1.3 GB of JSON while the server's
other requests waited, and ``select printf('%.*c', 999000, 'x'), ... from amounts`` answered 848 MB
within the time limit (the server process grew to 1.9 GB). Each served connection gets SQLite's
limit on a value's length and a row factory that counts what a query has returned so far.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

#: The longest text or blob a served query may make (SQLite's SQLITE_LIMIT_LENGTH: 1 GB by
#: default). The longest value of a 10^6-row database is 249 bytes. It bounds what one step of a
#: query costs too, which the time limit, checked between steps, does not: ``instr`` of a 500,000
#: character text in one of 1,000,000 took 3.4 s (250,000 in 500,000 characters: ~0.1 s).
MAX_VALUE_BYTES = 250_000

#: The longest LIKE or GLOB pattern, in bytes (SQLite's SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 50,000 by
#: default): comparing a text with a pattern takes their lengths multiplied, in one step: a pattern
#: of 45,001 characters against a text of 900,000 ran 41.7 s past the 1 s limit (a tester). 600
#: bytes (200 Chinese characters, 3 bytes each in UTF-8) against the longest value: ~0.1 s.
MAX_PATTERN_BYTES = 600

#: The most characters (of text) and bytes (of blobs) one query may return, all its rows together:
#: 1,000 rows (``max_returned_rows``) of the widest table of a 10^6-row database take ~0.3 MB.
MAX_RESULT_CHARS = 20_000_000


class ResultTooLarge(sqlite3.OperationalError):
    """A query's result passed MAX_RESULT_CHARS (Datasette answers it as an SQL error: 400)."""


def sized_rows(limit: int = MAX_RESULT_CHARS) -> Callable[[sqlite3.Cursor, tuple], sqlite3.Row]:
    """A row factory giving Datasette's ``sqlite3.Row`` that raises ResultTooLarge once the rows
    a cursor has returned hold more than ``limit`` characters and bytes. One per connection: the
    count starts again with each cursor (the last one is held, so that no new cursor can take its
    place in memory and its count)."""
    last: list[Any] = [None, 0]
    row_class = sqlite3.Row

    def row_factory(cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
        if last[0] is not cursor:
            last[0], last[1] = cursor, 0
        size = last[1]
        for value in row:
            if value.__class__ is str or value.__class__ is bytes:
                size += len(value)
        last[1] = size
        if size > limit:
            raise ResultTooLarge(f"the result is larger than {limit:,} characters: ask for fewer rows or "
                                 "shorter values")
        return row_class(cursor, row)

    return row_factory


def limit_results(conn: sqlite3.Connection) -> None:
    """Bound what queries on ``conn`` may make (a connection Datasette prepared: rows as sqlite3.Row)."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MAX_PATTERN_BYTES)
    conn.row_factory = sized_rows()
