"""The report's tables in a text: a text import reads the narrative's sentences, not tables.

A PDF's whole text (copied in a viewer, extracted by a tool) or a web page's tables pasted into
the text hold the nine tables as lines of labels and figures. A text import read none of them
and recorded each table as not in its source (文本来源未含附表), which the source contradicts.
``tables_in_text`` finds them as their headings are printed: a template table's title followed
by its unit line (单位：万元); a contents list gives the titles without units.
"""

from __future__ import annotations

import re

#: A table's unit line, printed under its title.
_UNIT_LINE = re.compile(r"\s*(?:金额)?单位[:：]\s*(?:人民币)?(?:亿元|万元|元)")
#: Lines after a title where its unit line may be.
_UNIT_WITHIN = 2


def tables_in_text(text: str) -> dict[int, str]:
    """table_no -> the title line of each of the template's tables the text holds (its first)."""
    from .pdf_tables import table_no_from_title  # pdfplumber's module: imported when a text is read

    lines = [line.strip() for line in text.splitlines()]
    found: dict[int, str] = {}
    for i, line in enumerate(lines):
        if not line or len(line) > 60 or not line.endswith("表"):
            continue
        no = table_no_from_title(line)
        if no is None or no in found:
            continue
        if any(_UNIT_LINE.match(after) for after in lines[i + 1:i + 1 + _UNIT_WITHIN]):
            found[no] = line
    return found
