"""What a served query may not call or read.

``fts3_tokenizer('simple')`` answers the address of a function in the server's memory (SQLite
keeps it callable with one argument for compatibility): through the SQL API anyone could read it,
which tells an attacker where the process's code is loaded. A served connection's authorizer
refuses the function; SQLite then says ``not authorized`` and Datasette answers 400. And
``select file from pragma_database_list`` answered where the database is on the publisher's disk
(``/home/...``): the column reads as null (Datasette's own ``PRAGMA database_list`` statement,
which does not read it as a table, is left alone).
"""

from __future__ import annotations

import sqlite3

#: Functions no served query may call (lower case, as SQLite names them to the authorizer).
DENIED_FUNCTIONS = frozenset({"fts3_tokenizer"})
#: Columns a served query reads as null: (table, column).
HIDDEN_COLUMNS = frozenset({("pragma_database_list", "file")})


def _authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action == sqlite3.SQLITE_FUNCTION and arg2 is not None and arg2.lower() in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and (arg1, arg2) in HIDDEN_COLUMNS:
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


def guard_functions(conn: sqlite3.Connection) -> None:
    """Refuse DENIED_FUNCTIONS and hide HIDDEN_COLUMNS in every statement ``conn`` prepares from now on."""
    conn.set_authorizer(_authorize)
