"""A table's CSV for a citizen's spreadsheet: headed by its columns' Chinese names, coded values in
the words the pages show (``_header=zh``).

A table's CSV names its columns as the API does (report_id, source_kind) and holds the coded values
as stored (table, not stated, attached): a developer's file. The landing page and a table page offer
the one "Excel 可直接打开" in Chinese instead: 报告编号, 数据来源类型 附表, 使用条款 发布单位未声明. Datasette
writes the CSV as it streams it; ``ZhCsv`` rewrites it record by record as it passes (a record may
be cut between two chunks, or hold a line end inside quotes: it is rewritten once it is whole).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from ..ingest.topic_names import topic_name
from .cell_values import (BOOLEAN_COLUMNS, CODED_VALUES, MONEY_COLUMNS, SOURCE_COLUMNS, figure_text, format_amount,
                          page_in_chinese)
from .column_labels import column_label

#: The query parameter asking for it (taken out before Datasette reads the query).
PARAM = "_header"
VALUE = "zh"

_YES_NO = {"1": "是", "0": "否"}


class _Words:
    """A column's values in the words the pages show, by a function (None: the value as it is)."""

    def __init__(self, name: Any) -> None:
        self.name = name

    def get(self, value: str, default: str) -> str:
        return self.name(value) or default


#: A statement's topic as its Chinese name (公务接待费（预算数）, not three_public.reception.budget).
_TOPICS = _Words(topic_name)
#: A figure's source with its page in Chinese (表5 第4行（第15页）, not (p.15)).
_SOURCES = _Words(page_in_chinese)


class ZhCsv:
    """Rewrites the chunks of one table's CSV (UTF-8 bytes, without the BOM): the header's names
    as ``column_label`` gives them from ``columns`` (metadata.yml's descriptions), each coded
    column's values as ``CODED_VALUES`` and ``BOOLEAN_COLUMNS`` name them."""

    def __init__(self, table: str, columns: Mapping[str, str] | None) -> None:
        self.table = table
        self.columns = columns or {}
        self.pending = ""  # the text after the last whole record
        self.quotes = 0  # quotes in ``pending``: a line end after an odd number is inside a cell
        self.maps: list[Any] | None = None
        self.money: list[int] = []  # the columns of amounts in 万元
        self.english: set[int] = set()
        self.figure: tuple[int, int | None, int | None] | None = None  # statements: value, unit, sentence

    def feed(self, chunk: bytes, last: bool = False) -> bytes:
        """The rewritten records that ``chunk`` completes (all that is left when ``last``)."""
        text = self.pending + chunk.decode("utf-8", "surrogateescape")
        end = len(text) if last else self._last_record_end(text, len(self.pending))
        whole, self.pending = text[:end], text[end:]
        self.quotes = self.pending.count('"')
        if not whole:
            return b""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for record in csv.reader(io.StringIO(whole, newline="")):
            writer.writerow(self._rewritten(record))
        return out.getvalue().encode("utf-8", "surrogateescape")

    def _last_record_end(self, text: str, start: int) -> int:
        """Where the last line end outside quotes ends in ``text`` (0 when there is none): the last
        line end, else the one before it... where the quotes before it are even (the new text
        from ``start``; ``self.quotes`` before it). A Python loop over every character made the
        Chinese CSV of 10^6 rows 1.7 times as slow as the API's."""
        end = len(text)
        while (end := text.rfind("\n", start, end)) >= 0:
            if (self.quotes + text.count('"', start, end)) % 2 == 0:
                return end + 1
        return 0

    def _label(self, name: str) -> str:
        """A column's Chinese name; a foreign key's label (``_labels=on``: report_id_label) as its
        column's with 名称 (报告（名称）)."""
        base = name.removesuffix("_label")
        if base != name and base in self.columns:
            return f"{column_label(base, self.columns)}（名称）"
        return column_label(name, self.columns)

    def _rewritten(self, record: list[str]) -> list[str]:
        if self.maps is None:  # the header
            self.maps = [CODED_VALUES.get((self.table, name))
                         or (_YES_NO if (self.table, name) in BOOLEAN_COLUMNS else None)
                         or (_TOPICS if name == "topic" else _SOURCES if name in SOURCE_COLUMNS else None)
                         for name in record]
            self.money = [i for i, name in enumerate(record) if name in MONEY_COLUMNS]
            where = {name: i for i, name in enumerate(record)}
            self.figure = ((where["value"], where.get("unit"), where.get("sentence"))
                           if self.table == "statements" and "value" in where else None)
            self.english = {i for i, name in enumerate(record) if name.endswith("_en")}  # message_en, title_en
            return self._kept([self._label(name) for name in record])
        out = [m.get(cell, cell) if m else cell for m, cell in zip(self.maps, record)] + record[len(self.maps):]
        for i in self.money:  # 万元 to the hundredth, as printed (10.0 was 10.00, 0.0 was 0.00)
            out[i] = _money(out[i])
        if self.figure:
            value, unit, sentence = self.figure
            out[value] = _figure(out[value], out[unit] if unit is not None else "",
                                 record[sentence] if sentence is not None else "")
        return self._kept(out)

    def _kept(self, record: list[str]) -> list[str]:
        """``record`` without its English columns (a finding's message_en: the sheet is in Chinese)."""
        return [cell for i, cell in enumerate(record) if i not in self.english] if self.english else record


def _number(cell: str) -> float | None:
    try:
        return float(cell) if cell else None
    except ValueError:
        return None


def _money(cell: str) -> str:
    """An amount in 万元 to the hundredth, as the pages show it, without thousands separators."""
    value = _number(cell)
    return cell if value is None else format_amount(value, grouped=False)


def _figure(cell: str, unit: str, sentence: str) -> str:
    """A narrative figure as its sentence prints it (``cell_values.figure_text``)."""
    value = _number(cell)
    return cell if value is None else figure_text(value, "%" if unit == "％" else unit, sentence, grouped=False)


def wanted(query: bytes) -> tuple[bool, bytes]:
    """Whether ``query`` asks for the Chinese CSV, and the query without that parameter."""
    marker = f"{PARAM}={VALUE}".encode()
    parts = query.split(b"&")
    kept = [part for part in parts if part != marker]
    return len(kept) < len(parts), b"&".join(kept)


def table_columns(datasette: Any, database: str, table: str) -> Mapping[str, str]:
    """metadata.yml's descriptions of ``table``'s columns."""
    meta = datasette.table_metadata(database, table)
    columns = meta.get("columns") if isinstance(meta, dict) else None
    return columns if isinstance(columns, Mapping) else {}
