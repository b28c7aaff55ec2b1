"""The SQL functions metadata.yml's queries call (registered on every connection by the plugin's
``prepare_connection``, and by tests on their own connections with ``site_functions``)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..template import (CLOSING_BALANCE, EXPENDITURE_TOTAL, GRAND_TOTAL, INCOME_TOTAL, NON_FISCAL_BALANCE_USED,
                        OPENING_BALANCE, SURPLUS_DISTRIBUTION)
from ..zh_search import fts_query, in_order_pattern, query_terms, report_words
from .cell_values import printed_percent, record_url


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


#: The closing lines of 表1 and 表4, in the order the template prints them at the foot of both
#: sides, each facing its counterpart (the other side's line of the same rank).
_CLOSING = {INCOME_TOTAL: 1, EXPENDITURE_TOTAL: 1, NON_FISCAL_BALANCE_USED: 2, SURPLUS_DISTRIBUTION: 2,
            OPENING_BALANCE: 3, CLOSING_BALANCE: 3, GRAND_TOTAL: 9}


def closing_rank(line_key: str | None) -> int:
    """SQL function ``closing_rank(line_key)``: where a line of 表1 or 表4 stands at the foot of the
    table (本年收入合计 and 本年支出合计 1, ..., 总计 9; a breakdown of a balance, 年初结转和结余/..., 4),
    0 for the lines above, which the two sides pair in order."""
    if line_key is None:
        return 0
    if line_key.startswith((OPENING_BALANCE + "/", CLOSING_BALANCE + "/")):
        return 4
    return _CLOSING.get(line_key, 0)


def site_functions(conn: sqlite3.Connection | Any) -> None:
    """zh_query(q), a Chinese query as an FTS5 MATCH expression over bigram tokens; zh_in_order(q),
    a LIKE pattern of its characters in order (an abbreviation of a name); zh_terms(q), its terms
    as a JSON array (``query_terms``); zh_report_words(q), those that may name reports, each with
    its pattern in order, as a JSON array of pairs (``report_words``); record_url(kind,
    report_id, ref[, title]), the page of the rows a search hit stands for
    (``cell_values.record_url``); line_source(source_ref, source_kind), ``LineSource``;
    closing_rank(line_key), ``closing_rank``; printed_percent(value, sentence), a percentage as its
    sentence prints it (``cell_values.printed_percent``)."""
    conn.create_function("zh_query", 1, fts_query, deterministic=True)
    conn.create_function("zh_in_order", 1, in_order_pattern, deterministic=True)
    conn.create_function("zh_terms", 1, lambda q: json.dumps(query_terms(q), ensure_ascii=False), deterministic=True)
    conn.create_function("zh_report_words", 1, lambda q: json.dumps(report_words(q), ensure_ascii=False),
                         deterministic=True)
    conn.create_function("record_url", 3, record_url, deterministic=True)
    conn.create_function("record_url", 4, record_url, deterministic=True)
    conn.create_function("printed_percent", 2, printed_percent, deterministic=True)
    conn.create_aggregate("line_source", 2, LineSource)
    conn.create_function("closing_rank", 1, closing_rank, deterministic=True)
