"""metadata.yml read and checked before the server starts: a publisher edits it (titles,
descriptions, facets, named queries), and Datasette reads it as it is, page by page. A YAML syntax
error stopped `opendata serve` with a traceback; a part of the wrong kind (``tables: 5``, a facet
list written as one string) started a server that answered every page with a 500. Each problem is
named here by its place in the file (``databases.opendata.tables.amounts.facets``) and the kind it
must be, before anything listens.

The shapes checked are those Datasette's metadata documentation gives (0.65: "Metadata"); keys
this does not know are left to Datasette (plugins read their own).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import yaml

from ..errors import MetadataError

#: Keys of the instance, a database or a table whose value is text.
_TEXT_KEYS = ("title", "description", "description_html", "license", "license_url", "source", "source_url",
              "about", "about_url")
#: A table's keys and the kind each must be.
_TABLE_KEYS: dict[str, tuple[type, ...]] = {
    "sort": (str,), "sort_desc": (str,), "sortable_columns": (list,), "label_column": (str,), "facets": (list,),
    "facet_size": (int, str), "size": (int,), "hidden": (bool,), "fts_table": (str,), "fts_pk": (str,),
    "searchmode": (str,), "units": (dict,), "columns": (dict,),
    "row_title": (str,),  # opendata's: a row page's name from its columns ({table_no}, {item}...)
    "empty_note_html": (str,),  # opendata's: what its page says when it has no rows (HTML)
}
#: A named query's keys (given as a mapping) and the kind each must be.
_QUERY_KEYS: dict[str, tuple[type, ...]] = {
    "sql": (str,), "params": (list,), "hide_sql": (bool,), "write": (bool,), "fragment": (str,),
    "hidden_columns": (list,),  # opendata's: columns of its JSON and CSV its page does not show
    "shown_limit": (int,),  # opendata's: the query's row limit, which its page says when reached
    "empty_note_html": (str,),  # opendata's: what its page says when it has no rows (HTML)
    "on_success_message": (str,), "on_success_redirect": (str,), "on_error_message": (str,),
    "on_error_redirect": (str,),
}
_KIND_NAMES = {str: "text", list: "a list", dict: "a mapping", bool: "true or false", int: "a number"}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata in the YAML (or JSON) file at ``path``, checked (``metadata_problems``);
    MetadataError naming the file, and the line or the place of each problem, otherwise."""
    source = Path(path)
    try:
        meta = yaml.safe_load(source.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{source}: cannot read the metadata ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MetadataError(f"{source}: {where}not valid YAML ({problem})") from None
    meta = {} if meta is None else meta
    problems = metadata_problems(meta)
    if problems:
        raise MetadataError(f"{source}: the metadata has {len(problems)} part(s) Datasette cannot use",
                            problems)
    return meta


def metadata_problems(meta: Any) -> list[str]:
    """Each part of ``meta`` that is not of the kind Datasette reads it as, by its place."""
    if not isinstance(meta, dict):
        return [f"the file must be a mapping (title:, databases: ...), not {_kind(meta)}"]
    # Datasette reads a table's keys at the database's level and the instance's too, as defaults.
    problems = _texts(meta, "") + _table_keys(meta, "")
    problems += _tables(meta.get("tables", {}), "tables") + _queries(meta.get("queries", {}), "queries")
    databases = meta.get("databases", {})
    if not isinstance(databases, dict):
        return problems + [_wrong("databases", dict, databases)]
    for db_name, db in databases.items():
        place = f"databases.{db_name}"
        if not isinstance(db, dict):
            problems.append(_wrong(place, dict, db))
            continue
        problems += _texts(db, place + ".") + _table_keys(db, place + ".")
        problems += _tables(db.get("tables", {}), place + ".tables")
        problems += _queries(db.get("queries", {}), place + ".queries")
    return problems


class _AnyParameters(dict):
    """Parameters for compiling a query: every name it uses is given, as null."""

    def __missing__(self, key: str) -> None:
        return None


def query_problems(meta: dict[str, Any], conn: sqlite3.Connection, database: str) -> list[str]:
    """The named queries of ``meta`` for ``database`` whose SQL SQLite cannot compile on ``conn``
    (a connection to it as Datasette prepares one, its plugins' functions included): a syntax
    error, a table or column the database does not have. Datasette answers such a page with an
    error, to whoever opens it. Each query is compiled (``explain``), not run."""
    queries = ((meta.get("databases") or {}).get(database) or {}).get("queries") or {}
    problems = []
    for name, query in queries.items():
        sql = query if isinstance(query, str) else query.get("sql")
        try:
            conn.execute("explain " + sql, _AnyParameters()).fetchall()
        except (sqlite3.Error, sqlite3.Warning) as exc:
            # A table or column the site's queries read and the database lacks: most often a database
            # an older opendata built (the layouts gained a column), which a build of today's has.
            stale = "; a database built by an older opendata? build it again" if "no such" in str(exc) else ""
            problems.append(f"databases.{database}.queries.{name}.sql: SQLite cannot run it on the database "
                            f"{database} ({exc}{stale})")
    return problems


def _tables(tables: Any, place: str) -> list[str]:
    if not isinstance(tables, dict):
        return [_wrong(place, dict, tables)]
    problems = []
    for name, table in tables.items():
        where = f"{place}.{name}"
        if not isinstance(table, dict):
            problems.append(_wrong(where, dict, table))
            continue
        problems += _texts(table, where + ".") + _table_keys(table, where + ".")
        for key in ("columns", "units"):
            if isinstance(table.get(key), dict):
                problems += [_wrong(f"{where}.{key}.{column}", str, text)
                             for column, text in table[key].items() if not isinstance(text, str)]
    return problems


def _table_keys(part: dict, prefix: str) -> list[str]:
    """The keys of ``_TABLE_KEYS`` in ``part`` that are not of their kind (empty too: Datasette reads
    ``facets:`` with nothing after it as a list)."""
    problems = [_wrong(prefix + key, kinds[0], part[key]) for key, kinds in _TABLE_KEYS.items()
                if key in part and not _is(part[key], kinds)]
    facets = part.get("facets") if isinstance(part.get("facets"), list) else []
    problems += [f"{prefix}facets[{i}]: must be a column name or a mapping (array: column), not {_kind(facet)}"
                 for i, facet in enumerate(facets) if not isinstance(facet, (str, dict))]
    problems += _names(part.get("sortable_columns"), f"{prefix}sortable_columns", "a column name")
    if part.get("sort") and part.get("sort_desc"):
        problems.append(f"{prefix}sort, {prefix}sort_desc: one or the other (Datasette refuses a table "
                        "sorted both ways)")
    size = part.get("facet_size")
    if isinstance(size, str) and size != "max" or isinstance(size, int) and not isinstance(size, bool) and size < 0:
        problems.append(f"{prefix}facet_size: must be a number of values or max, not {_kind(size)}")
    return problems


def _queries(queries: Any, place: str) -> list[str]:
    if not isinstance(queries, dict):
        return [_wrong(place, dict, queries)]
    problems = []
    for name, query in queries.items():
        where = f"{place}.{name}"
        if isinstance(query, str):
            if not query.strip():
                problems.append(f"{where}: must be the query's SQL, not an empty text")
            continue
        if not isinstance(query, dict):
            problems.append(f"{where}: must be its SQL or a mapping with sql:, not {_kind(query)}")
            continue
        if not isinstance(query.get("sql"), str) or not query["sql"].strip():
            problems.append(f"{where}.sql: must be the query's SQL (text), not {_kind(query.get('sql'))}")
        problems += _texts(query, where + ".")
        for key, kinds in _QUERY_KEYS.items():
            if key != "sql" and key in query and not _is(query[key], kinds):
                problems.append(_wrong(f"{where}.{key}", kinds[0], query[key]))
        problems += _names(query.get("params"), f"{where}.params", "a parameter name")
    return problems


def _names(values: Any, place: str, what: str) -> list[str]:
    """The items of a list of names that are not text (none when it is not a list: said elsewhere)."""
    if not isinstance(values, list):
        return []
    return [f"{place}[{i}]: must be {what} (text), not {_kind(v)}" for i, v in enumerate(values)
            if not isinstance(v, str)]


def _texts(part: dict, prefix: str) -> list[str]:
    return [_wrong(prefix + key, str, part[key]) for key in _TEXT_KEYS
            if key in part and part[key] is not None and not isinstance(part[key], str)]


def _is(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # true/false are ints to Python: not a number here
        return bool in kinds
    return isinstance(value, kinds)


def _wrong(place: str, kind: type, value: Any) -> str:
    return f"{place}: must be {_KIND_NAMES.get(kind, kind.__name__)}, not {_kind(value)}"


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    for kind, name in ((bool, "true or false"), (str, "text"), (int, "a number"), (float, "a number"),
                       (list, "a list"), (dict, "a mapping")):
        if isinstance(value, kind):
            shown = repr(value) if isinstance(value, (int, float, str)) and len(repr(value)) < 40 else ""
            return f"{name} {shown}".strip()
    return type(value).__name__
