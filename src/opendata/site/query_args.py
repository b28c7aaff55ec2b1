"""Parameters the site reads as Datasette means them, rewritten before Datasette sees them.

- ``_stream=on`` fetched a table's CSV in pages of the site's page size (50 rows): Datasette 0.65's
  ``as_csv`` sets ``_size=max`` for a stream and never passes it on, so a sorted stream sorted the
  table again for each of 5,000 pages of amounts (155 s for 258,136 rows; 13 s in pages of 1,000).
  A stream without ``_size`` now asks for ``_size=max``.
- ``_stream=off`` (or 0, false, no) streamed all the same: Datasette reads any value as yes.
- ``_where=`` with nothing in it was a 400 (``near "order": syntax error``): it adds no condition.
- ``_where=a or b`` is one condition, ``(a or b)``: Datasette joins the conditions with ``and`` as
  they are, so ``report_id = :p0 and amount > 2000 or amount < 1`` read other reports' rows, and its
  next page was the same page again.
- ``__contains=_`` matched every value (LIKE's wildcards), ``__isnull=0`` the nulls (``filters_as_said``).
- A table's CSV without ``_stream`` gave its first 1,000 rows, without a word (``whole_table_csv``);
  the link to all rows from a page after the first kept its ``_next``, which a stream refuses
  (``first_page``).
- A filter by the word a page shows for a coded value (``severity=错误``, ``source_kind=附表``,
  ``tables_attached=否``) found no row: the column holds ``error``, ``table``, ``0``. It filters by
  the stored value (``stored_values``).
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .cell_values import BOOLEAN_COLUMNS, CODED_VALUES

#: Filters whose value is one value (a list for ``__in`` and ``__notin``): Datasette's operators.
_ONE_VALUE = frozenset({"", "exact", "not"})
_LIST = frozenset({"in", "notin"})

#: Values of a flag that mean no (Datasette's ``value_as_boolean``).
_NO = frozenset({"off", "false", "0", "no"})


def rewritten(query_string: bytes) -> bytes:
    """``query_string`` with ``_stream`` and ``_where`` as Datasette means them (each ``_where`` in
    brackets); the same bytes when neither is there."""
    if b"_stream=" not in query_string and b"where" not in query_string.lower():  # %5Fwhere too
        return query_string
    pairs = parse_qsl(query_string.decode("utf-8", "surrogateescape"), keep_blank_values=True)
    kept = [(k, v if k != "_where" or _bracketed(v) else f"({v})") for k, v in pairs
            if not (k == "_stream" and v.lower() in _NO) and not (k == "_where" and not v.strip())]
    if any(k == "_stream" for k, _ in kept) and not any(k == "_size" for k, _ in kept):
        kept.append(("_size", "max"))
    if kept == pairs:
        return query_string
    return urlencode(kept).encode("utf-8", "surrogateescape")


#: Datasette's text filters (LIKE patterns) as GLOB patterns: ``*`` where the value may go on.
_AS_GLOB = {"contains": "*{}*", "startswith": "{}*", "endswith": "*{}"}
#: GLOB's own wildcards, each as a class of itself (a literal in a pattern).
_GLOB_LITERAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def filters_as_said(query_string: bytes) -> bytes:
    """``query_string`` with the filters Datasette reads otherwise than they say: ``__contains``
    (``__startswith``, ``__endswith``) a value with ``%`` or ``_``, which LIKE read as wildcards
    (``code__contains=_`` matched every code), as the GLOB of that text (case-sensitive, as
    ``instr``); ``__isnull=0`` (any value: ``is null``) as ``__notnull=1`` and ``__notnull=0``
    as ``__isnull=1``. The same bytes when there is none."""
    if b"__" not in query_string:
        return query_string
    pairs = parse_qsl(query_string.decode("utf-8", "surrogateescape"), keep_blank_values=True)
    out = []
    for key, value in pairs:
        column, _, op = key.rpartition("__")
        if column and op in _AS_GLOB and ("%" in value or "_" in value):
            key, value = f"{column}__glob", _AS_GLOB[op].format(value.translate(_GLOB_LITERAL))
        elif column and op in ("isnull", "notnull") and value.strip().lower() in _NO:
            key, value = f"{column}__{'notnull' if op == 'isnull' else 'isnull'}", "1"
        out.append((key, value))
    if out == pairs:
        return query_string
    return urlencode(out).encode("utf-8", "surrogateescape")


def brackets_pair(sql: str) -> bool:
    """True when every ``(`` of ``sql`` outside quoted text ('...', "...", [...], `...`) is closed by
    a later ``)`` and every ``)`` closes one."""
    depth, quote = 0, None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and quote is None


def _bracketed(sql: str) -> bool:
    """True when ``sql`` is one bracket, ``(a or b)``, as a next page's link gives it back (each
    page bracketed it again: ``((a or b))``); ``(a) or (b)`` is not."""
    sql = sql.strip()
    return sql.startswith("(") and sql.endswith(")") and brackets_pair(sql[1:-1])


def whole_table_csv(query_string: bytes) -> bytes:
    """The query of a table's CSV with ``_stream=on`` added unless it asks for a page (``_size`` a
    number, ``_next``) or says how to stream: a table's CSV gave its first 1,000 rows (``_size=max``,
    the README's own example: 1,000 of 5,598) with nothing to say more were left out."""
    pairs = parse_qsl(query_string.decode("utf-8", "surrogateescape"), keep_blank_values=True)
    keys = {k for k, _ in pairs}
    if "_stream" in keys or "_next" in keys or any(k == "_size" and v != "max" for k, v in pairs):
        return query_string
    return query_string + (b"&" if query_string else b"") + b"_stream=on"


def first_page(url: str) -> str:
    """``url`` without its ``_next``: the first page, or with ``_stream``, every row (a page's
    "download all rows" link kept the page's ``_next``: 400, _next not allowed for CSV streaming)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "_next" for k, _ in pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in pairs if k != "_next"])))


@functools.lru_cache(maxsize=256)
def _shown_to_stored(table: str) -> dict[str, dict[str, str]]:
    """For each coded column of ``table``: the word a page shows -> the value stored."""
    words = {column: {shown: stored for stored, shown in names.items()}
             for (t, column), names in CODED_VALUES.items() if t == table}
    for t, column in BOOLEAN_COLUMNS:
        if t == table:
            words[column] = {"是": "1", "否": "0"}
    return words


def stored_values(query_string: bytes, table: str) -> bytes:
    """``query_string`` with each filter of a coded column of ``table`` by a word the pages show
    (错误) as a filter by the value stored (error); the same bytes when there is none."""
    words = _shown_to_stored(table)
    if not words or not query_string:
        return query_string
    pairs = parse_qsl(query_string.decode("utf-8", "surrogateescape"), keep_blank_values=True)
    out = []
    for key, value in pairs:
        column, _, op = key.partition("__")
        names = words.get(column)
        if names and op in _ONE_VALUE:
            value = names.get(value.strip(), value)
        elif names and op in _LIST and not value.lstrip().startswith("["):  # a JSON list is left as it is
            value = ",".join(names.get(v.strip(), v) for v in value.split(","))
        out.append((key, value))
    if out == pairs:
        return query_string
    return urlencode(out).encode("utf-8", "surrogateescape")
