"""The site's Chinese search: one document per line item, sentence, project, unit and code.

``search_documents`` reads them from a loaded database (read-only, so a build can run it in its
second process, which writes them to a file of their own with ``save_documents``) and
``write_search_index`` stores them in ``search_index`` with an FTS5 index over their bigram tokens
(``zh_search.tokens``). Documents are streamed, never all in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlite_utils

from .zh_search import tokens

#: Columns of ``search_index`` after its id.
COLUMNS = ("kind", "report_id", "ref", "title", "body", "tokens")

# Line items are grouped over the whole table: a plain scan and one sort ("not indexed": walking the
# primary key instead, for its partial order on report_id, reads the rows in random order, 0.3 s
# slower at 10^6 rows).
_DOCUMENTS_SQL = """
select 'amounts' as kind, report_id, line_key as ref, item as title, group_concat(distinct explanation) as body
  from amounts not indexed group by report_id, line_key, item
union all
select 'statements', report_id, min(statement_no), section, sentence
  from statements group by report_id, sentence
union all
select 'projects', report_id, project_no, name, null from projects
union all
select 'report_units', report_id, unit_no, name, kind from report_units
union all
select 'classification', null, classification_id, code || ' ' || name, scheme || ' ' || level from classification
"""


def search_documents(conn: sqlite3.Connection) -> Iterator[tuple]:
    """Every document as a tuple of ``COLUMNS``: one per line item of a report (whatever tables
    print it, with the report's reasons), narrative sentence, project, unit and code."""
    cache: dict[str, str] = {}

    def tok(text: str) -> str:
        t = cache.get(text)
        if t is None:
            t = tokens(text)
            if len(cache) < 100_000:
                cache[text] = t
        return t

    return ((*d, tok(f"{d[3] or ''} {d[4] or ''}")) for d in conn.execute(_DOCUMENTS_SQL))


def save_documents(docs: Iterable[tuple], path: Path) -> None:
    """Write ``docs`` to a new SQLite file (table ``docs``), for ``write_search_index``."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        conn.execute(f"create table docs ({', '.join(COLUMNS)})")
        with conn:
            conn.executemany(f"insert into docs values ({', '.join('?' * len(COLUMNS))})", docs)
    finally:
        conn.close()


def write_search_index(db: sqlite_utils.Database, docs: Iterable[tuple] | Path) -> None:
    """Create ``search_index`` with ``docs`` (tuples of COLUMNS, or the file ``save_documents``
    wrote) and its FTS5 index (unicode61 over the bigram tokens)."""
    db["search_index"].create({"id": int, "kind": str, "report_id": str, "ref": str, "title": str, "body": str,
                               "tokens": str}, pk="id")
    columns = ", ".join(COLUMNS)
    if isinstance(docs, Path):
        db.conn.commit()  # SQLite attaches outside a transaction only
        db.conn.execute("attach database ? as docs", (str(docs),))
        try:
            db.conn.execute(f"insert into search_index ({columns}) select {columns} from docs.docs order by rowid")
            db.conn.commit()
        finally:
            db.conn.execute("detach database docs")
    else:
        db.conn.executemany(f"insert into search_index ({columns}) values ({', '.join('?' * len(COLUMNS))})", docs)
    db["search_index"].enable_fts(["tokens"], fts_version="FTS5", tokenize="unicode61", create_triggers=False)
