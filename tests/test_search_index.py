"""The search index: documents share their distinct texts (``search_texts``), the full-text index is
over those texts, and the named query ``search`` finds what an index over every document finds,
ranked by its text's bm25 then by document, reading only the first 200 documents."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
import yaml

import opendata.search_index as search_index
from opendata.search_index import search_documents, write_search_index
from opendata.site.sql_functions import site_functions
from opendata.zh_search import fts_query, tokens

ROOT = Path(__file__).resolve().parent.parent
SEARCH_SQL = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))[
    "databases"]["opendata"]["queries"]["search"]["sql"]
WORDS = ["行政运行", "公务用车", "接待", "科技", "项目", "公务 接待", "费", "支出", "2010301", "不存在的词语"]


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory, built_corpus) -> Path:
    """Ten departments over two years: the same line items in every report."""
    return built_corpus(tmp_path_factory.mktemp("search"), departments=10, years=2, error_share=0.2, seed=5)


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    site_functions(conn)
    return conn


def every_document_index(conn: sqlite3.Connection) -> None:
    """What the search was before texts were shared: an FTS5 index over each document's tokens."""
    conn.execute("create virtual table temp.every_doc using fts5(tokens, tokenize='unicode61')")
    conn.executemany("insert into temp.every_doc (rowid, tokens) values (?, ?)",
                     [(i, tokens(f"{t or ''} {b or ''}"))
                      for i, t, b in conn.execute("select id, title, body from search_index")])


def test_documents_share_distinct_texts(corpus_db):
    with connect(corpus_db) as conn:
        docs = conn.execute("select s.kind, s.ref, s.title, s.body, t.tokens from search_index s "
                            "join search_texts t on t.id = s.text_id").fetchall()
        n_docs, n_texts, n_distinct = conn.execute(
            "select (select count(*) from search_index), (select count(*) from search_texts), "
            "(select count(distinct tokens) from search_texts)").fetchone()
    assert len(docs) == n_docs > 1000  # every document has its text
    assert n_texts == n_distinct < n_docs / 2  # each text once, and far fewer texts than documents
    coded = 0
    for kind, ref, title, body, toks in docs:
        text = f"{title or ''} {body or ''}"
        if kind == "amounts" and ref.isascii() and ref.isdigit():  # a line of a code, found by its code too
            text, coded = f"{ref} {text}", coded + 1
        assert toks == tokens(text)
    assert coded > 100


@pytest.mark.parametrize("word", WORDS)
def test_search_finds_what_an_index_of_every_document_finds(corpus_db, word):
    with connect(corpus_db) as conn:
        every_document_index(conn)
        expected = {r for (r,) in conn.execute("select rowid from temp.every_doc where every_doc match ?",
                                               (fts_query(word),))}
        got = {r for (r,) in conn.execute(
            "select id from search_index where text_id in "
            "(select rowid from search_texts_fts where search_texts_fts match zh_query(?))", (word,))}
        hits = conn.execute(SEARCH_SQL, {"q": word}).fetchall()
        ids = conn.execute("select s.id from search_index s join (select rowid, rank from search_texts_fts "
                           "where search_texts_fts match zh_query(?)) t on t.rowid = s.text_id "
                           "order by s.kind = 'classification', t.rank, s.id", (word,)).fetchall()
    assert got == expected
    assert (len(expected) > 200) == (word == "支出") and bool(expected) == (word != "不存在的词语")
    # The query returns the first 200 documents by their text's rank, then by id.
    assert len(hits) == min(200, len(expected))
    with connect(corpus_db) as conn:
        # A line of a code titled by it too; the classification's codes after the reports' documents.
        first = [conn.execute("select kind, case when kind = 'amounts' and ref glob '[0-9]*' and ref not glob '*[^0-9]*' then ref || ' ' || title "
                              "else title end, report_id, ref from search_index where id = ?", i).fetchone()
                 for i in ids[:200]]
    assert [(h[0], h[2], h[6], h[7]) for h in hits] == first  # 来源, 标题, report_id, 位置


@pytest.mark.parametrize("word,first", [("行政运行", "行政运行"), ("接待", "公务接待费"),
                                        ("公务用车", "公务用车购置费")])
def test_search_ranks_a_line_item_of_that_name_first(corpus_db, word, first):
    """bm25 over the texts puts the shortest texts holding the word first: the line items so named
    (every report's), before longer texts that hold it."""
    with connect(corpus_db) as conn:
        hits = conn.execute(SEARCH_SQL, {"q": word}).fetchall()
        n_items = conn.execute("select count(*) from search_index where kind = 'amounts' and title = ? "
                               "and body is null", (first,)).fetchone()[0]
    assert n_items >= 3
    # (titled by their codes too: 2060101 行政运行)
    named = [(h[0], h[2].rpartition(" ")[2], h[3]) for h in hits]
    assert named[:n_items] == [("amounts", first, None)] * n_items
    assert all((title, body) != (first, None) for _, title, body in named[n_items:])


def test_search_reads_only_the_documents_it_shows(corpus_db):
    """bm25 ranks the texts; the documents behind them are read by id through the text_id index,
    the wide rows only for the 200 shown."""
    with connect(corpus_db) as conn:
        plan = [r[3] for r in conn.execute("explain query plan " + SEARCH_SQL, {"q": "公务用车"})]
    assert any("COVERING INDEX" in step and "text_id" in step for step in plan), plan
    assert any("INTEGER PRIMARY KEY" in step for step in plan), plan


def test_texts_past_the_remembered_ones_get_ids_of_their_own(corpus_db, tmp_path, monkeypatch):
    """Memory stays bounded: once TEXTS_REMEMBERED texts are kept, a repeated text gets a new id with
    the same tokens, and every document is still found."""
    monkeypatch.setattr(search_index, "TEXTS_REMEMBERED", 30)  # the corpus's 12 reports, then line items
    with sqlite3.connect(corpus_db) as source:
        docs = list(search_documents(source))
    db = sqlite_utils.Database(tmp_path / "small.db")
    db["reports"].create({"report_id": str}, pk="report_id")  # what search_index.report_id refers to
    write_search_index(db, iter(docs))
    conn = db.conn
    site_functions(conn)
    n_docs, n_texts = conn.execute("select (select count(*) from search_index), "
                                   "(select count(*) from search_texts)").fetchone()
    assert n_texts == sum(1 for d in docs if d[-1] is not None) < n_docs
    assert n_texts > len({d[-1] for d in docs}) * 2  # repeated texts past the first 30 have ids of their own
    with sqlite3.connect(corpus_db) as shared:
        site_functions(shared)
        for word in ["行政运行", "接待"]:
            find = ("select kind, report_id, ref, title from search_index where text_id in (select rowid from "
                    "search_texts_fts where search_texts_fts match zh_query(?)) order by id")
            assert conn.execute(find, (word,)).fetchall() == shared.execute(find, (word,)).fetchall()


def test_a_short_number_is_matched_whole():
    # 第1号 matched every document with a number beginning with 1 (10-19, 100-199...): 444 hits
    # where 4 hold 第1号. A longer number is still a prefix (a code finds its 项).
    conn = sqlite3.connect(":memory:")
    conn.execute("create virtual table t using fts5(tokens, tokenize='unicode61')")
    texts = ["上海市普陀区财政局（第1号）", "上海市普陀区财政局（第12号）", "部门（第127号）", "行政运行 2060101"]
    conn.executemany("insert into t (tokens) values (?)", [(tokens(t),) for t in texts])

    def found(query: str) -> list[str]:
        rowids = [r for (r,) in conn.execute("select rowid from t where t match ? order by rowid", (fts_query(query),))]
        return [texts[i - 1] for i in rowids]

    assert found("第1号") == ["上海市普陀区财政局（第1号）"]
    assert found("第12号") == ["上海市普陀区财政局（第12号）"]
    assert found("20601") == ["行政运行 2060101"]
