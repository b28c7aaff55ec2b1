"""A table's next page (``?_next=``) shows the facets of its first page, not of the rows after it.

Datasette 0.65 counts a page's facets over its SQL without order and limit, and on a ``_next``
page that SQL ends with the cursor's condition (the rows after the last one shown): the second
page of amounts counted 表2 nowhere, the counts fell page after page, and each was a GROUP BY counted
live (0.2-0.4 s at 287,000 rows) instead of the build's stored counts. A facet's SQL is taken here
without that condition, the one Datasette appends last to the where clause on a ``_next`` page of
a table (a view pages by offset and has none): the first page's SQL, with its parameters.
"""

from __future__ import annotations

import functools
import re
from typing import Any

#: A parameter Datasette numbers (``:p0``, ``:p1``...: the filters', then the cursor's).
_NUMBERED = re.compile(r":p(\d+)\b")
#: The cursor's condition of a table without a primary key (rowid).
_ROWID_AFTER = re.compile(r"rowid > :p\d+$")
#: What comes before the last condition of a where clause.
_BEFORE_CONDITION = (" and ", "where ")


def _opening(sql: str, end: int) -> int | None:
    """Where the parenthesis closing at ``sql[end]`` opens, reading backwards past quoted names
    (``[...]``, ``"..."``) and strings (``'...'``); None when it does not."""
    depth = 0
    i = end
    while i >= 0:
        ch = sql[i]
        if ch in "]\"'":
            opener = "[" if ch == "]" else ch
            i = sql.rfind(opener, 0, i)
            if i < 0:
                return None
        elif ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    return None


def first_page_sql(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """``sql`` and ``params`` of a facet on a ``_next`` page without the cursor's condition: the last
    condition of the where clause, which holds the highest-numbered parameters and every one of
    them. None when the SQL does not end so (it is then left as it is)."""
    body = sql.rstrip(" ")
    if body.endswith(")"):
        start = _opening(body, len(body) - 1)
    else:
        found = _ROWID_AFTER.search(body)
        start = found.start() if found else None
    if start is None:
        return None
    before = next((b for b in _BEFORE_CONDITION if body[:start].endswith(b)), None)
    if before is None:
        return None
    used = {int(n) for n in _NUMBERED.findall(body[start:])}
    numbered = {int(k[1:]) for k in params if re.fullmatch(r"p\d+", k)}
    if not used or used != {n for n in numbered if n >= min(used)}:
        return None
    # "... where a and (cursor) " -> "... where a "; "... from t where (cursor) " -> "... from t "
    first = body[:start - len(before)] + (" " if before == " and " else "")
    kept = {k: v for k, v in params.items() if not (re.fullmatch(r"p\d+", k) and int(k[1:]) in used)}
    return first, kept


async def facet_on_first_page(facet: Any) -> None:
    """Give ``facet`` (a Datasette Facet) its first page's SQL when its request is a ``_next`` page
    of a table (not a view); else leave it as it is."""
    if "_next" not in facet.request.args or not facet.table or not isinstance(facet.params, dict):
        return
    db = facet.ds.get_database(facet.database)
    if facet.table in await db.view_names():
        return
    found = first_page_sql(facet.sql, facet.params)
    if found is not None:
        facet.sql, facet.params = found


@functools.cache
def on_first_page(cls: type) -> type:
    """A subclass of the facet class ``cls`` whose results are the first page's (``facet_on_first_page``)."""

    async def facet_results(self: Any) -> Any:
        await facet_on_first_page(self)
        return await cls.facet_results(self)

    return type(cls.__name__, (cls,), {"facet_results": facet_results, "__doc__": cls.__doc__,
                                       "__module__": __name__})
