"""Columns by their Chinese names on the site's pages (headers, filters, sorting, facets).

A column's label is the first phrase of its description in metadata.yml (``严重程度：error 错误，
warning 提示`` -> 严重程度, ``说明（中文）`` as it is); a column without a description keeps its
name. The names stay what the API, the URLs and the CSV use: the pages show them beside the labels
(in the column list and in each header's tooltip).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Where a description's first phrase ends.
_PHRASE_END = re.compile(r"[：:，,。；;]")
#: A bracket of the first phrase is kept when it holds at most this many characters (说明（中文）,
#: 比例（%）); a longer one explains the column (出处（章节、表、行或句子）): the label stops before it.
SHORT_BRACKET = 3


def column_label(name: str, columns: Mapping[str, str] | None) -> str:
    """The label of column ``name`` from its table's metadata ``columns`` (name -> description)."""
    description = (columns or {}).get(name) if isinstance(columns, Mapping) else None
    if not isinstance(description, str):
        return name
    label = _PHRASE_END.split(description, maxsplit=1)[0].strip()
    bracket = label.find("（")
    closing = label.find("）", bracket)
    if bracket > 0 and (closing < 0 or closing - bracket - 1 > SHORT_BRACKET):
        label = label[:bracket].strip()
    return label or name


#: A condition's column: the first (after "where"), the last (after "and"), and those between them
#: (after ", ": Datasette joins three or more conditions so; they stayed in English).
_CLAUSE_COLUMN = re.compile(r"(^where |(?<= and )|(?<=, ))(\w+)(?= )")
_SORT_COLUMN = re.compile(r"(sorted by )(\w+)")


def labelled_description(text: str, columns: Mapping[str, str] | None) -> str:
    """Datasette's description of a page's filters and sort (``where severity = error sorted by
    id``) with each column named by its label (``where 严重程度 = error sorted by 编号``)."""
    if not columns:
        return text

    def label(match: re.Match[str]) -> str:
        name = match.group(2)
        return match.group(1) + (column_label(name, columns) if name in columns else name)

    head, sep, sort = text.partition("sorted by ")
    return _CLAUSE_COLUMN.sub(label, head) + (_SORT_COLUMN.sub(label, sep + sort) if sep else "")
