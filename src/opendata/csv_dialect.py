"""The CSV dialect a resource declares (``dialect``, and ``format: tsv``), as Python's csv module
reads and writes it: frictionless's own translation (``CsvControl.to_python``), so that a file
declared with ``"delimiter": ";"`` or ``"quoteChar": "'"`` is read by opendata's readers as
frictionless reads it (they read every file as comma-separated before, and refused such a package
frictionless found valid).

A declaration opendata's own readers do not follow (no header row, a header of several rows,
comment lines, blank rows skipped, labels compared without case, a null sequence), a compressed
file (``data/amounts.csv.gz``) or rows in several files (``"path": [...]``), gives None: the resource is then read by frictionless's reader
(``schema_stream._supported``), and ``import`` does not rewrite it.

A dialect that is not declared is the Data Package default, comma-separated (frictionless guesses
one from the first lines instead; a file whose header looks separated by something else is named
with a hint, ``separator_hint``).
"""

from __future__ import annotations

import csv
import re
from typing import Any

from frictionless import Resource
from frictionless.formats import CsvControl

#: Separators a header is tried with when it does not match the schema (``separator_hint``).
_OTHER_SEPARATORS = (";", "\t", "|")


def _control(resource: Resource) -> CsvControl | None:
    try:
        control = CsvControl.from_dialect(resource.dialect)
    except Exception:  # noqa: BLE001 - a malformed dialect: frictionless's reader names it
        return None
    if resource.format == "tsv" and not control.has_defined("delimiter"):
        control.delimiter = "\t"
    return control


def csv_dialect(resource: Resource) -> csv.Dialect | None:
    """Python's csv dialect reading the resource's file as declared; None when the declaration asks
    for something opendata's readers do not do (see the module's docstring) or Python's csv module
    cannot take it."""
    if (not isinstance(resource.path, str) or resource.multipart or (resource.format or "csv") not in ("csv", "tsv")
            or resource.compression):
        return None
    declared = resource.dialect
    if (not declared.header or list(declared.header_rows) != [1] or declared.comment_char
            or declared.comment_rows or declared.skip_blank_rows or not declared.header_case):
        return None
    control = _control(resource)
    if control is None or control.null_sequence is not None:
        return None
    dialect = control.to_python()
    try:
        csv.reader([], dialect=dialect)
        csv.writer(_Discard(), dialect=dialect)
    except (TypeError, csv.Error):  # e.g. a delimiter of two characters
        return None
    return dialect


def writer_options(resource: Resource, terminator: str = "\n", quoting: int = csv.QUOTE_MINIMAL) -> dict[str, Any]:
    """Keyword arguments of ``csv.writer`` writing the resource's file in its declared dialect; lines
    end with ``terminator`` (a line feed) unless the dialect declares ``lineTerminator``; with
    ``quoting`` (``file_quoting``: csv.QUOTE_ALL, every cell in quotes; csv.QUOTE_NONNUMERIC, the
    cells that are not numbers, see ``RowWriter``). Only for a resource ``csv_dialect`` reads."""
    dialect = csv_dialect(resource)
    if dialect is None:
        raise ValueError(f"{resource.name}: no CSV dialect opendata writes")
    control = _control(resource)
    if control is not None and control.has_defined("line_terminator"):
        terminator = control.line_terminator
    options = {"dialect": dialect, "lineterminator": terminator}
    return options if quoting == csv.QUOTE_MINIMAL else {**options, "quoting": quoting}


class RowWriter:
    """``csv.writer`` that also quotes every cell of a row holding a carriage return: the csv module
    quotes a cell for the characters of its line terminator only, so a lone ``\r`` in a cell was
    written bare between lines ending in ``\n``, and read back as the end of a line (the cell
    lost, the row cut)."""

    def __init__(self, fh: Any, **options: Any) -> None:
        self._plain = csv.writer(fh, **options)
        self._quoted = csv.writer(fh, **{**options, "quoting": csv.QUOTE_ALL})
        # Text cells quoted, numbers and empty cells bare (LibreOffice's "quote all text cells"):
        # QUOTE_NONNUMERIC leaves a float bare and writes its str(), so those cells go as _Bare.
        self._text_quoted = options.get("quoting") == csv.QUOTE_NONNUMERIC

    def writerow(self, row: Any) -> Any:
        if any("\r" in cell for cell in row if isinstance(cell, str)):
            return self._quoted.writerow(row)
        if self._text_quoted:
            row = [_Bare(c) if isinstance(c, str) and (not c or BARE_NUMBER.fullmatch(c)) else c for c in row]
        return self._plain.writerow(row)

    def writerows(self, rows: Any) -> None:
        for row in rows:
            self.writerow(row)


#: A cell LibreOffice writes as a number: bare, as it is (in a file whose text cells are quoted).
BARE_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class _Bare(float):
    """A cell a QUOTE_NONNUMERIC writer writes bare, as its text (a number, or nothing)."""

    def __new__(cls, text: str) -> "_Bare":
        cell = super().__new__(cls, 0.0)
        cell.text = text
        return cell

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def row_writer(fh: Any, resource: Resource, terminator: str = "\n", quoting: int = csv.QUOTE_MINIMAL) -> RowWriter:
    """A ``RowWriter`` writing the resource's file in its declared dialect (``writer_options``)."""
    return RowWriter(fh, **writer_options(resource, terminator, quoting))


def simple_quoting(resource: Resource) -> bytes | None:
    """The quote character, when a record can be found by counting quote characters (quotes doubled
    inside a quoted cell, no escape character): what ``schema_sql.split_point`` needs to cut a file."""
    dialect = csv_dialect(resource)
    if (dialect is None or dialect.quoting != csv.QUOTE_MINIMAL or dialect.escapechar
            or not dialect.doublequote or not dialect.quotechar):
        return None
    quote = dialect.quotechar.encode("utf-8")
    return quote if len(quote) == 1 else None


def separator_hint(labels: list[str], names: list[str]) -> str:
    """A hint for a header that does not match the schema: the separator it seems to use, when its
    cells split by another one give the schema's names."""
    if len(labels) != 1 or len(names) < 2:
        return ""
    for sep in _OTHER_SEPARATORS:
        if labels[0].split(sep) == names:
            shown = "\\t" if sep == "\t" else sep
            return f' (the header is separated by "{shown}": declare "dialect": {{"delimiter": "{shown}"}})'
    return ""


class _Discard:
    def write(self, text: str) -> int:
        return len(text)
