"""The site's Chinese search: one document per report (its title, department and place), line item,
sentence, project, unit and code.

``search_documents`` reads them from a loaded database (read-only, so a build can run it in its
second process, which writes them to a file of their own with ``save_documents``) and
``write_search_index`` stores them in ``search_index``. The full-text index is over the documents'
distinct texts: ``search_texts`` holds each text's bigram tokens (``zh_search.tokens``) once, with
the FTS5 index ``search_texts_fts``, and a document names its text by ``text_id``. Thousands of
line items share a text (公务用车运行维护费 in every report), so ranking a query's matches with
bm25 ranks a few texts, not every document. Documents are streamed, never all in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlite_utils

from .zh_search import tokens

#: Columns of ``search_index`` after its id.
COLUMNS = ("kind", "report_id", "ref", "title", "body", "text_id")
#: A document as ``search_documents`` yields it: COLUMNS, then its text's tokens where the text is
#: new (None where an earlier document has the same text).
DOCUMENT = (*COLUMNS, "tokens")

#: Partial index of ``search_index``: the reports' documents.
REPORTS_INDEX = "idx_search_index_reports"
#: Partial index of ``search_index``: the classification's documents.
CODES_INDEX = "idx_search_index_codes"

#: How many texts ``search_documents`` remembers to share them (bounding its memory): a text seen
#: again after that gets an id of its own (the same tokens: the same matches).
TEXTS_REMEMBERED = 100_000

# A narrative sentence is titled by its section and the first of its figures' subjects a template
# fixes (一般公共服务支出（类）…行政运行（项）: its sentence, 年初预算为1560.05万元…, names none), so a search
# for 行政运行 finds it; the labels of other figures are the parser's guesses, not shown as titles.
# A code is one document whatever the editions that hold it (201 一般公共服务支出 was two identical
# hits, of the 2020 and 2024 codes), its link to them all.
# Line items are grouped over the whole table: a plain scan and one sort ("not indexed": walking the
# primary key instead, for its partial order on report_id, reads the rows in random order, 0.3 s
# slower at 10^6 rows).
_DOCUMENTS_SQL = """
select 'reports', r.report_id, r.report_id, r.title,
       coalesce(d.name, '') || ' ' || coalesce(d.province, '') || coalesce(d.city, '') || coalesce(d.county, '')
         || ' ' || coalesce(r.year || '年', '') || ' ' || coalesce(r.kind, '')
  from reports r left join departments d on d.department_id = r.department_id
union all
select 'amounts' as kind, report_id, line_key as ref, item as title, group_concat(distinct explanation) as body
  from amounts not indexed group by report_id, line_key, item
union all
select 'statements', report_id, min(statement_no),
       section || coalesce(' ' || min(label) filter (where topic not like 'performance.%' and topic <> 'other'), ''),
       sentence
  from statements group by report_id, sentence
union all
select 'projects', report_id, project_no, name, null from projects
union all
select 'report_units', report_id, unit_no, name, kind from report_units
union all
select 'classification', null, code, code || ' ' || name, scheme || ' ' || level
  from classification group by code, name, scheme, level
"""


def search_documents(conn: sqlite3.Connection) -> Iterator[tuple]:
    """Every document as a tuple of ``DOCUMENT``: one per report (found by its department's name or
    place), one per line item of a report (whatever tables print it, with the report's reasons;
    found by its code too), narrative sentence, project, unit and code."""
    text_ids: dict[str, int] = {}
    next_id = 0
    for kind, report_id, ref, title, body in conn.execute(_DOCUMENTS_SQL):
        text = f"{title or ''} {body or ''}"
        if kind == "amounts" and ref and ref.isascii() and ref.isdigit():  # a line of a code: found by it too
            text = f"{ref} {text}"
        text_id = text_ids.get(text)
        if text_id is not None:
            yield kind, report_id, ref, title, body, text_id, None
            continue
        next_id += 1
        if len(text_ids) < TEXTS_REMEMBERED:
            text_ids[text] = next_id
        yield kind, report_id, ref, title, body, next_id, tokens(text)


def _create_documents(conn: sqlite3.Connection, table: str) -> None:
    conn.execute(f"create table {table} ({', '.join(DOCUMENT)})")


def _insert_documents(conn: sqlite3.Connection, table: str, docs: Iterable[tuple]) -> None:
    conn.executemany(f"insert into {table} values ({', '.join('?' * len(DOCUMENT))})", docs)


def save_documents(docs: Iterable[tuple], path: Path) -> None:
    """Write ``docs`` to a new SQLite file (table ``docs``), for ``write_search_index``."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        _create_documents(conn, "docs")
        with conn:
            _insert_documents(conn, "docs", docs)
    finally:
        conn.close()


def write_search_index(db: sqlite_utils.Database, docs: Iterable[tuple] | Path) -> None:
    """Create ``search_index`` and ``search_texts`` with ``docs`` (tuples of ``DOCUMENT``, or the
    file ``save_documents`` wrote) and ``search_texts_fts`` (unicode61 over the bigram tokens)."""
    db["search_texts"].create({"id": int, "tokens": str}, pk="id")
    # report_id a foreign key: the site labels it with the report's title (its facet listed ids).
    db["search_index"].create({"id": int, "kind": str, "report_id": str, "ref": str, "title": str, "body": str,
                               "text_id": int}, pk="id", foreign_keys=[("report_id", "reports", "report_id")])
    db.conn.commit()  # SQLite attaches outside a transaction only
    if isinstance(docs, Path):
        db.conn.execute("attach database ? as docs", (str(docs),))
        source = "docs.docs"
    else:
        _create_documents(db.conn, "temp.docs")
        _insert_documents(db.conn, "temp.docs", docs)
        source = "temp.docs"
    try:
        columns = ", ".join(COLUMNS)
        db.conn.execute(f"insert into search_texts (id, tokens) select text_id, tokens from {source} "
                        "where tokens is not null order by text_id")
        db.conn.execute(f"insert into search_index ({columns}) select {columns} from {source} order by rowid")
        db.conn.commit()
    finally:
        if source == "docs.docs":
            db.conn.execute("detach database docs")
        else:
            db.conn.execute("drop table temp.docs")
    db["search_index"].create_index(["text_id"])
    # The reports' documents, which the search also reads by their titles (a department's name
    # abbreviated, ``zh_search.in_order_pattern``: 18 ms at 10^6 amounts rows), and the
    # classification's, each by their texts' ids: the reports' texts come first, the
    # classification's last (``_DOCUMENTS_SQL``), so the search tells a report's or a code's text by
    # its id, without reading the documents' rows.
    db.conn.execute(f"create index {REPORTS_INDEX} on search_index (text_id) where kind = 'reports'")
    db.conn.execute(f"create index {CODES_INDEX} on search_index (text_id) where kind = 'classification'")
    db["search_texts"].enable_fts(["tokens"], fts_version="FTS5", tokenize="unicode61", create_triggers=False)
