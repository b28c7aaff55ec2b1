"""A table's next page found through its primary key's index, not by a scan from the first row.

Datasette 0.65 pages a table with a compound primary key (amounts: report_id, table_no, side,
line_key, measure) by ``_next``, with the condition ``(pk1 > :p0) or (pk1 = :p0 and pk2 > :p1)
or ...``: SQLite cannot search an index with that OR, so it walks the key's index from the first row
to the cursor on every page. Page 900 of amounts at 10^5 rows took 8 ms, and a CSV of every row
(``_stream=on``, a page at a time) slowed as it went: ~90 s for 287,000 rows. The same condition
as a row value, ``(pk1, pk2, ...) > (:p0, :p1, ...)``, is a search of the index (0.2 ms on that
page) and selects the same rows (the key's columns are never null; the values of a ``_next``
token, text, are compared with each column's affinity as in the OR).
"""

from __future__ import annotations

import datasette.utils
import datasette.views.table
from datasette.utils import escape_sqlite

#: Datasette's own function, as it is.
DATASETTE_KEYS_AFTER = datasette.utils.compound_keys_after_sql


def keys_after_sql(pks: list[str], start_index: int = 0) -> str:
    """``compound_keys_after_sql`` as one row-value comparison: rows whose key comes after the
    parameters ``:p{start_index}``, ``:p{start_index + 1}``..."""
    if len(pks) == 1:
        return DATASETTE_KEYS_AFTER(pks, start_index)
    columns = ", ".join(escape_sqlite(pk) for pk in pks)
    params = ", ".join(f":p{start_index + i}" for i in range(len(pks)))
    return f"(({columns}) > ({params}))"


def install() -> None:
    """Table pages of every Datasette of this process use ``keys_after_sql``."""
    if datasette.views.table.compound_keys_after_sql is DATASETTE_KEYS_AFTER:
        datasette.views.table.compound_keys_after_sql = keys_after_sql
