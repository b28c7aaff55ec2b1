"""What an immutable site is asked again and again, answered once: the schema, the metadata's
permissions and the labels of foreign keys.

Datasette asks SQLite about a table's schema on every request: its columns, primary keys,
foreign keys (once per column it labels), full-text table, definition and indexes, and whether
any database's schema changed since the last request. A table page of ``amounts`` made 36 round
trips to SQLite threads, 27 of them for the schema (about 0.2 ms each, plus the event loop's).
An immutable database (``datasette -i``, what ``opendata serve`` opens) cannot change while it is
served, so each answer is kept the first time it is asked for: the same answers, without the trips.
A mutable database is left as it is. The metadata, given once when the site starts, is read the
same way (``cache_table_permissions``), and so are the labels of an immutable database's foreign
keys (``cache_labels``).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the plugin is imported while datasette.app is
    from datasette.app import Datasette
    from datasette.database import Database

#: The introspection methods of ``datasette.database.Database`` (documented for plugins): their
#: answers depend on the schema only.
METHODS = ("table_exists", "table_names", "table_columns", "table_column_details", "primary_keys",
           "fts_table", "label_column_for_table", "foreign_keys_for_table", "hidden_table_names",
           "view_names", "get_all_foreign_keys", "get_table_definition", "get_view_definition")

#: SQL that reads the schema only (Datasette's own lookups in sqlite_master, its schema version).
SCHEMA_SQL = re.compile(r"\s*(select\s(?:(?!\bfrom\b)[^;])*\sfrom\s+sqlite_master\s(?:(?!\b(?:from|join)\b)[^;])*"
                        r"|pragma\s+schema_version)\s*", re.IGNORECASE)


#: Answers kept per method (and for the schema's SQL): the tables and views of a database, many
#: times over. A URL names any table it likes (``/opendata/no_such_table``): past this many, answers
#: are computed as before and not kept, so that no number of requests makes the cache grow.
MAX_ANSWERS = 4096


#: Values a copy may share with the original (immutable).
_ATOMS = frozenset((str, int, float, bool, bytes, type(None)))


def copied(value: Any) -> Any:
    """``copy.deepcopy(value)`` for the schema's answers (lists and dicts of strings and numbers,
    tuples of them: Datasette's Column is a namedtuple), without deepcopy's memo and dispatch
    (310 copies a page of a report's amounts, 0.25 ms): a new list or dict at every level, a tuple
    of atoms shared as deepcopy shares it; anything else through deepcopy."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return [copied(v) for v in value]
    if kind is dict:
        return {k: copied(v) for k, v in value.items()}
    if isinstance(value, tuple) and all(type(v) in _ATOMS for v in value):
        return value
    return copy.deepcopy(value)


def _keep(answers: dict, key: tuple, answer: Any) -> Any:
    """``answer``, a copy of it kept under ``key`` while fewer than MAX_ANSWERS are kept."""
    if len(answers) < MAX_ANSWERS:
        answers[key] = copied(answer)
    return answer


def _memo(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``method`` answering each argument list once; callers get copies they may change."""
    answers: dict[tuple, Any] = {}

    @functools.wraps(method)
    async def cached(*args: Any) -> Any:
        if args in answers:
            return copied(answers[args])
        return _keep(answers, args, await method(*args))

    cached.answers = answers  # type: ignore[attr-defined]
    return cached


def _memo_schema_sql(execute: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``Database.execute`` answering the schema's SQL (SCHEMA_SQL) once per SQL and parameters."""
    answers: dict[tuple, Any] = {}

    @functools.wraps(execute)
    async def cached(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not SCHEMA_SQL.fullmatch(sql):
            return await execute(sql, params, *args, **kwargs)
        key = (sql, tuple(params.items()) if isinstance(params, dict) else tuple(params or ()))
        if key in answers:
            return answers[key]  # Results: rows of sqlite3.Row, which nobody can change
        answer = await execute(sql, params)
        if len(answers) < MAX_ANSWERS:
            answers[key] = answer
        return answer

    cached.answers = answers  # type: ignore[attr-defined]
    return cached


def cache_schema(db: "Database") -> bool:
    """Answer ``db``'s schema questions from memory after the first time, when ``db`` is
    immutable; True when it is."""
    if db.is_mutable or db.is_memory or getattr(db, "_opendata_immutable_cached", False):
        return bool(getattr(db, "_opendata_immutable_cached", False))
    for name in METHODS:
        if hasattr(db, name):
            setattr(db, name, _memo(getattr(db, name)))
    db.execute = _memo_schema_sql(db.execute)
    db._opendata_immutable_cached = True
    return True


def cache_schemas(datasette: "Datasette") -> None:
    """``cache_schema`` for every immutable database of ``datasette``; and when all of them are
    immutable (Datasette's own in-memory ``_internal`` aside), its schema tables are refreshed
    once per set of databases instead of on every request."""
    served = {name: db for name, db in datasette.databases.items() if name != "_internal"}
    if not all([cache_schema(db) for db in served.values()]):
        return
    refresh = datasette.refresh_schemas
    refreshed: set[frozenset[str]] = set()

    @functools.wraps(refresh)
    async def refresh_once() -> None:
        names = frozenset(datasette.databases)
        if names in refreshed:
            return
        await refresh()
        # Another request's refresh may have been running (Datasette then returns at once): only
        # a refresh that saw these databases marks them done.
        lock = getattr(datasette, "_refresh_schemas_lock", None)
        if lock is None or not lock.locked():
            refreshed.add(names)

    datasette.refresh_schemas = refresh_once


def cache_table_permissions(datasette: "Datasette") -> bool:
    """Datasette's ``view-table`` check reads a table's ``allow`` blocks from the metadata, copying
    the whole metadata (deep, twice a table page: 1-2 ms with the site's metadata.yml) to find
    them. The metadata is given once, when the instance is made: each table's blocks are found
    once (copies handed out, at most MAX_ANSWERS tables kept). False when this Datasette has no
    such method or a plugin supplies metadata (``get_metadata``), which may change."""
    from datasette.plugins import pm

    find = getattr(datasette, "_table_permission_allows", None)
    if find is None or getattr(find, "answers", None) is not None:
        return find is not None
    if pm.hook.get_metadata.get_hookimpls():
        return False
    answers: dict[tuple, Any] = {}

    @functools.wraps(find)
    def cached(database: str, table: str) -> Any:
        key = (database, table)
        if key in answers:
            return copied(answers[key])
        return _keep(answers, key, find(database, table))

    cached.answers = answers  # type: ignore[attr-defined]
    datasette._table_permission_allows = cached
    return True


#: Labels of foreign keys kept per server process (``cache_labels``): every report, code and table
#: a page can name at national scale (~200 bytes each: at most ~10 MB).
MAX_LABELS = 50_000


def cache_labels(datasette: "Datasette") -> None:
    """Datasette labels a foreign key's values (a report's title for its report_id, a code's name)
    by asking SQLite on every page, for the rows and again for the facets: two or three round trips
    to SQLite's threads for a page of amounts. In an immutable database a value's label never
    changes: each is asked for once (at most MAX_LABELS kept). Values SQLite does not label (a
    query cut off by the time limit, a dangling key) are asked for again next time."""
    expand = datasette.expand_foreign_keys
    if getattr(expand, "labels", None) is not None:
        return
    labels: dict[tuple, dict[tuple[type, Any], tuple[Any, Any]]] = {}

    @functools.wraps(expand)
    async def cached(database: str, table: str, column: str, values: Any) -> dict:
        db = datasette.databases.get(database)
        if db is None or db.is_mutable:
            return await expand(database, table, column, values)
        known = labels.setdefault((database, table, column), {})
        found, missing = {}, []
        for value in values:
            hit = known.get((type(value), value))
            if hit is not None:
                found[(column, hit[0])] = hit[1]
            elif value is not None:  # null is never a key: SQLite labels it with nothing
                missing.append(value)
        if missing:
            answer = await expand(database, table, column, missing)
            found.update(answer)
            asked = {(type(v), v) for v in missing}
            room = MAX_LABELS - sum(len(k) for k in labels.values())
            # Kept only when SQLite answered with the values as asked (not 5 for '5').
            if all((type(k[1]), k[1]) in asked for k in answer) and len(answer) <= room:
                known.update(((type(k[1]), k[1]), (k[1], label)) for k, label in answer.items())
        return found

    cached.labels = labels  # type: ignore[attr-defined]
    datasette.expand_foreign_keys = cached
