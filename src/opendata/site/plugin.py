"""Datasette plugin hooks of opendata (registered through the `datasette` entry point)."""

from __future__ import annotations

from datasette import hookimpl

from ..zh_search import fts_query


@hookimpl
def prepare_connection(conn) -> None:
    """SQL function zh_query(q): a Chinese query as an FTS5 MATCH expression over bigram tokens."""
    conn.create_function("zh_query", 1, fts_query, deterministic=True)
