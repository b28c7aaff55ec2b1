"""Chinese full-text search on SQLite FTS5: index character bigrams, query with bigram phrases.

SQLite's unicode61 tokenizer keeps a run of Han characters as one token, and trigram misses
queries under three characters. Indexing overlapping bigrams ("行政运行" -> "行政 政运 运行") and
turning a query into the phrase of its bigrams matches any substring of two or more characters;
a single character becomes a prefix query. Quotation marks and title marks are dropped first, in
the text and in the query alike: reports write “三公”经费, citizens type 三公经费 (the bigram 公经
was in neither the index nor a query that kept the marks). Text and query are read in one
spelling (NFKC: full-width ２０６０１０１ is 2060101; thousands separators dropped: 2,540.24 is
2540.24), else a citizen typing either found nothing.
"""

from __future__ import annotations

import re
import unicodedata

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[0-9A-Za-z]+(?:[.][0-9]+)?")
_IS_HAN = re.compile(rf"[{_HAN}]")
#: Marks that quote a term inside a word (“三公”经费, 《预算法》): dropped, joining what they part.
_QUOTES = re.compile(r"[“”‘’\"'「」『』《》〈〉]")


#: A comma between groups of three digits (2,540.24).
_GROUP_COMMA = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def _spelled(text: str) -> str:
    """``text`` without quotation marks, in one spelling of digits and letters (NFKC, no thousands
    separators)."""
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):  # the check: a fifth of the time
        text = unicodedata.normalize("NFKC", text)
    if "," in text:
        text = _GROUP_COMMA.sub("", text)
    return _QUOTES.sub("", text)


def _text(query: object) -> str:
    """A query as text: a number given in SQL (``zh_query(123)``) as its digits; nothing for null
    or a blob (``zh_query(x'00ff')`` searched its Python spelling, b'\\x00\\xff')."""
    return "" if query is None or isinstance(query, (bytes, bytearray, memoryview)) else str(query)


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def tokens(text: str | None) -> str:
    """The text as space-separated tokens for the FTS index: Han bigrams, lower-cased words."""
    if not text:
        return ""
    out: list[str] = []
    for run in _RUN.findall(_spelled(text)):
        out.extend(_bigrams(run) if _IS_HAN.match(run) else [run.lower()])
    return " ".join(out)


#: A number of fewer digits is matched whole; a longer one as a prefix too (a code: 20601 finds
#: 2060101, a figure: 2540 finds 2540.24).
SHORT_NUMBER = 3


#: Short words citizens type for the classification's names (科技 is not in 科学技术支出, the
#: largest line of a science bureau's report): a term finds either.
SHORT_FORMS = {"科技": "科学技术", "社保": "社会保障", "医保": "医疗保障", "公车": "公务用车", "文旅": "文化旅游",
               "国资": "国有资本"}


def _phrase(run: str) -> str:
    grams = _bigrams(run)
    return f'"{grams[0]}"*' if len(run) == 1 else '"' + " ".join(grams) + '"'


def fts_query(query: object) -> str:
    """An FTS5 MATCH expression finding rows whose text contains every term of the query (a number
    given in SQL, ``zh_query(123)``, as its digits; a short form, 科技, or its full words, 科学技术)."""
    parts = []
    for run in _RUN.findall(_spelled(_text(query))):
        if _IS_HAN.match(run):
            full = SHORT_FORMS.get(run)
            parts.append(f"({_phrase(run)} OR {_phrase(full)})" if full and full != run else _phrase(run))
        elif run.isdigit() and len(run) < SHORT_NUMBER:  # 第1号: 1, not 10-19 and 100-199 too
            parts.append(f'"{run}"')
        else:
            parts.append(f'"{run.lower()}"*')
    # A query with nothing searchable matches nothing rather than everything; a term said twice is
    # one condition (行政 300 times ran past the time limit).
    return " AND ".join(dict.fromkeys(parts)) if parts else '""'


#: A figure as citizens type it: digits with a decimal point (a code, 2060101, has none).
_FIGURE = re.compile(r"[0-9]+\.[0-9]{1,4}")


def figure_of(query: object) -> str | None:
    """The figure a query is, in one spelling (``２，５４０.２４`` -> ``2540.24``), or None: the search
    index holds the tables' words, not their figures, which the site finds by amount instead."""
    text = _spelled(_text(query)).strip()
    return text if _FIGURE.fullmatch(text) else None


#: Fewest characters of a query read as an abbreviation (``in_order_pattern``): two-character words
#: are whole words (科技), found by the index; and most (a sentence pasted is no abbreviation, and
#: its pattern passed the site's limit on LIKE patterns, failing the whole search).
ABBREVIATION_CHARS = 3
ABBREVIATION_MAX_CHARS = 12


def query_terms(query: object) -> list[str]:
    """The terms of a query as the search reads them: runs of Han characters and of letters or
    digits, in one spelling (普陀２０２４ -> 普陀, 2024)."""
    return _RUN.findall(_spelled(_text(query)))


def in_order_pattern(query: object) -> str | None:
    """A LIKE pattern matching a name that holds the query's Han characters in their order, others
    between them (科技局 -> %科%技%局%, the way 株洲市芦淞区科技和工业信息化局 is called), for a query of
    one word of ABBREVIATION_CHARS Han characters or more; None for any other query."""
    runs = query_terms(query)
    if len(runs) != 1 or not _IS_HAN.match(runs[0]) or not ABBREVIATION_CHARS <= len(runs[0]) <= ABBREVIATION_MAX_CHARS:
        return None
    return "%" + "%".join(runs[0]) + "%"


#: A year as a title writes it (2024年度).
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
#: Most words of a query read as naming reports (``report_words``).
REPORT_WORDS_MAX = 5


def report_words(query: object) -> list[list[str | None]]:
    """The terms of a query that may name reports, each with the LIKE pattern of its characters in
    order (``in_order_pattern``; None for fewer than ABBREVIATION_CHARS): words of two Han
    characters or more (普陀, 上海普陀区财政局) and years (2024). The search takes those found in
    reports' titles as naming the reports whose lines the query's other words are looked for in
    (普陀 三公: the department's name is in no line)."""
    words = dict.fromkeys(t for t in query_terms(query) if (_IS_HAN.match(t) and len(t) >= 2) or _YEAR.fullmatch(t))
    return [[word, in_order_pattern(word)] for word in list(words)[:REPORT_WORDS_MAX]]
