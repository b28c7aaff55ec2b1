"""The SQL functions metadata.yml's queries call (registered on every connection by the plugin's
``prepare_connection``, and by tests on their own connections with ``site_functions``)."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..zh_search import fts_query, in_order_pattern
from .cell_values import record_url


class LineSource:
    """Aggregate ``line_source(source_ref, source_kind)``: where a line of a standard table comes
    from, over its figures (amounts rows): their one ``source_ref``, or, where they come from
    several places (a line the narrative states part of), the first reference of a printed table
    (else the first of all) followed by 等."""

    def __init__(self) -> None:
        self.refs: set[str] = set()
        self.first_table: str | None = None

    def step(self, source_ref: str | None, source_kind: str | None) -> None:
        if source_ref is None:
            return
        self.refs.add(source_ref)
        if source_kind == "table" and (self.first_table is None or source_ref < self.first_table):
            self.first_table = source_ref

    def finalize(self) -> str | None:
        if len(self.refs) <= 1:
            return next(iter(self.refs), None)
        return f"{self.first_table or min(self.refs)} 等"


def site_functions(conn: sqlite3.Connection | Any) -> None:
    """zh_query(q), a Chinese query as an FTS5 MATCH expression over bigram tokens; zh_in_order(q),
    a LIKE pattern of its characters in order (an abbreviation of a name); record_url(kind,
    report_id, ref[, title]), the page of the rows a search hit stands for
    (``cell_values.record_url``); line_source(source_ref, source_kind), ``LineSource``."""
    conn.create_function("zh_query", 1, fts_query, deterministic=True)
    conn.create_function("zh_in_order", 1, in_order_pattern, deterministic=True)
    conn.create_function("record_url", 3, record_url, deterministic=True)
    conn.create_function("record_url", 4, record_url, deterministic=True)
    conn.create_aggregate("line_source", 2, LineSource)
