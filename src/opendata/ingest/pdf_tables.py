"""Read the attached tables (附表) of a 部门决算 PDF into ``amounts``, ``report_tables`` and
``classification`` rows.

The PDF is read with pdfplumber (ruled tables are found from the lines drawn on the page); this
module only interprets the grid pdfplumber returns:

* **Which table.** A table is identified by the title printed above it (or in its first row), never
  by its page: the titles vary by province and year (收入支出决算总表 / 收支决算总表,
  "财政拨款'三公'经费" / "一般公共预算财政拨款'三公'经费", table 9 as 支出 or 收入支出 ...), so the
  title is matched on its distinctive words (三公, 政府性基金, 国有资本经营, 基本支出 ...). A ruled
  table with no title above it, on the page after a known table and with the same number of
  columns, continues that table (table 1 of the Putuo report continues on page 7). Anything else
  (a list of units, an unknown table) is skipped, with a warning if it holds figures.
* **Columns.** Each column's header is the chain of (possibly merged) header cells above it, so
  two-level headers work: ``本年支出 / 小计`` is the measure 本年支出合计, ``收入 / 决算数`` is the
  income side's 决算数. Measure names are those of ``template.MEASURES``; a column whose header
  matches none is reported in ``warnings`` and its figures are not read (never guessed).
  Columns are grouped into blocks (code columns, name column, measure columns); a table printed as
  two blocks side by side is two lists: 表1 and 表4 give a 收入 and a 支出 side, 表6 gives the
  人员经费 (301, 303) block then the 公用经费 (302, 310) block, numbered one after the other.
* **Codes.** 科目编码 printed over 类/款/项 columns ("201", "06", "01") is joined (2010601);
  printed whole (2010601, 30101) it is taken as is. Every printed code gives a ``classification``
  row (certainty ``stated``; scheme 支出经济分类 in table 6, 支出功能分类 elsewhere; ``parent_id``
  only when the parent code is printed too).
* **Table 7** ("三公" 经费) is printed as columns (合计, 因公出国（境）费, 小计, 购置费, 运行费,
  接待费) × a row of 预算数/决算数 headers; each column is mapped to the template line
  (``template.THREE_PUBLIC_LINES``), and the figure row below gives the amounts. Printed with its
  lines as columns and one figure row per measure (first column 预算数 / 决算数), both rows are
  read; printed with its lines as rows, the generic reader reads it.
* **Page breaks.** In a table of coded lines, a label wrapped over a page break (its rest alone,
  without code or figures, as the first row of the next page) is joined to the line above.

**Blank cells.** In these tables a blank amount cell means the publisher printed no figure for
that line and column, which by the template's convention means zero/none. We record *what is
printed*: a blank cell gives **no ``amounts`` row** (not a row with 0, which would invent a figure,
and not a null amount, which the data model reserves for a figure that should be there but is not
disclosed). A dash or placeholder (``-``, ``—``, ``…``, ``XXX``) is treated like a blank. A figure
printed as ``0.00`` is a printed figure and gives a row with 0. Lines whose cells are all blank
still count in ``line_no`` (the row is printed), so ``line_no`` and ``source_ref`` point at the
printed row; a table whose body is all blank is still ``attached`` in ``report_tables``, and the
note printed under it (``注：...本表无数据``) is kept as its ``statement`` (the import records the
table ``empty`` when that note says the report has no such income or expenditure).

**Line keys.** ``line_key`` is the code when a code is printed, otherwise the cleaned label
(``template.clean_item``) with a few spelling variants made canonical so the same line has the
same key in every report: a trailing ``（含...）`` is dropped (使用非财政拨款结余（含专用结余） ->
使用非财政拨款结余), 上年结转和结余 and 年初财政拨款结转和结余 -> 年初结转和结余, 年末财政拨款结转和结余
-> 年末结转和结余, and the "三公" columns use ``template.THREE_PUBLIC_LINES``. The lines listed
under a balance line (表4 年初财政拨款结转和结余: 一、一般公共预算财政拨款 ...) would repeat the
income lines' names, so they are keyed ``年初结转和结余/一般公共预算财政拨款``. ``item`` keeps the
label as printed (numbering removed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .. import template as T
from ..errors import ImportError_
from .pdf_file import IMAGE_ONLY, PdfminerLog, open_pdf, page_problem, pdf_error, pdfminer_log, unreadable_pages_warnings
from .textutil import RADICALS, radical_glyphs

__all__ = ["PdfTables", "read_pdf_tables", "table_no_from_title"]

ECONOMIC, FUNCTIONAL = "支出经济分类", "支出功能分类"


@dataclass
class PdfTables:
    """What the attached tables of one PDF say, as rows of the package's resources."""

    amounts: list[dict[str, Any]] = field(default_factory=list)
    report_tables: list[dict[str, Any]] = field(default_factory=list)
    classification: list[dict[str, Any]] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Unit printed above each table (单位：万元), by table_no.
    units: dict[int, str] = field(default_factory=dict)
    #: Pages with a table of figures under no 决算 title opendata knows (a page turned, a title
    #: worded otherwise): the tables not found may be there, not read.
    unread_pages: list[int] = field(default_factory=list)
    #: Pages whose text cannot be read as it stands (``pdf_file.page_problem``): page -> (kind, why).
    #: Nothing on them is read, tables or narrative.
    unreadable: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: Pages with a ruled table of the report (read, or with figures and not read): 第二部分's pages,
    #: whatever heading is printed (or lost) above them.
    table_pages: set[int] = field(default_factory=set)

    def pages_without_text(self) -> list[int]:
        """Pages holding an image and no text where tables not found may be printed: among the
        tables' pages or next to them (any such page when no table was found); a scanned cover is
        not where the tables are."""
        images = sorted(p for p, (kind, _) in self.unreadable.items() if kind == IMAGE_ONLY)
        if not self.table_pages:
            return images
        return [p for p in images if min(self.table_pages) - 1 <= p <= max(self.table_pages) + 1]


# --------------------------------------------------------------------------- text helpers

_WS = re.compile(r"\s+")
_QUOTES = re.compile(r"[“”\"'‘’「」]")
_AMOUNT = re.compile(r"^[-−－]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_PLACEHOLDER = re.compile(r"^(?:[-—–－―…\.。·]+|X+|x+|XX+.*)$")
_LEVEL_WORDS = {"类", "款", "项"}


_RADICALS = RADICALS
_glyphs = radical_glyphs


def _text(text: str | None) -> str:
    """Text as the template spells it: NFKC (full-width digits, Kangxi radicals), （ ） kept."""
    return T.normalize_text((text or "").translate(_RADICALS))


def _norm(text: str | None) -> str:
    """Cell text without whitespace (pdfplumber breaks long labels over lines)."""
    return _WS.sub("", _text(text))


def _amount(text: str) -> Decimal | None:
    """The figure printed in a cell, or None when the cell is blank or a placeholder."""
    t = _norm(text).replace("，", ",")
    if not t or _PLACEHOLDER.match(t):
        return None
    if not _AMOUNT.match(t):
        raise ValueError(t)
    t = t.replace(",", "").replace("−", "-").replace("－", "-")
    try:
        return Decimal(t)
    except InvalidOperation:  # pragma: no cover - the regex already checked it
        raise ValueError(t) from None


def table_no_from_title(title: str) -> int | None:
    """Template table number of a printed 决算 table title, or None if it is not one."""
    s = _QUOTES.sub("", _norm(T.normalize_text(title)))
    if "决算" not in s or len(s) > 45 or s.startswith(("注", "说明")):
        return None
    if not re.search(r"表(?:（续）|续)?$", s):
        return None
    if s.startswith("第") and "部分" in s[:5]:
        return None
    if "三公" in s:
        return 7
    if "政府性基金" in s:
        return 8
    if "国有资本经营" in s:
        return 9
    if "基本支出" in s:
        return 6
    if "一般公共预算" in s and "支出" in s:
        return 5
    if "财政拨款收入支出" in s or "财政拨款收支" in s:
        return 4
    if "收入支出决算总表" in s or "收支决算总表" in s:
        return 1
    if "收入决算表" in s:
        return 2
    if "支出决算表" in s:
        return 3
    return None


_BALANCE_ALIASES = {
    "上年结转和结余": T.OPENING_BALANCE,
    "年初结转结余": T.OPENING_BALANCE,
    "上年结转结余": T.OPENING_BALANCE,
    "年初财政拨款结转和结余": T.OPENING_BALANCE,
    "上年财政拨款结转和结余": T.OPENING_BALANCE,
    "年末结转结余": T.CLOSING_BALANCE,
    "年末财政拨款结转和结余": T.CLOSING_BALANCE,
}


def _three_public_key(label: str, parent: str = "") -> str | None:
    """Template line (THREE_PUBLIC_LINES) of a "三公" column or line label."""
    s = _QUOTES.sub("", label)
    if s in ("小计",) and "公务用车" in parent:
        return "公务用车购置及运行维护费"
    if "出国" in s:
        return "因公出国（境）费"
    if "接待" in s:
        return "公务接待费"
    if "公务用车" in s:
        if "及" in s or "小计" in s:
            return "公务用车购置及运行维护费"
        if "购置" in s:
            return "公务用车购置费"
        if "运行" in s:
            return "公务用车运行维护费"
    if s in ("合计", "三公经费", "财政拨款三公经费", "一般公共预算财政拨款三公经费") or s.endswith("三公经费合计"):
        return "合计"
    return None


def _line_key(table_no: int, item: str) -> str:
    """Canonical line key of a line without a code (see the module docstring)."""
    if table_no == 7:
        key = _three_public_key(item)
        if key:
            return key
    key = re.sub(r"（含[^）]*）$", "", item)
    return _BALANCE_ALIASES.get(key, key)


# --------------------------------------------------------------------------- grid

@dataclass
class _Cell:
    text: str  # normalised (no whitespace)
    raw: str
    cid: tuple[float, float, float, float] | None  # bbox of the (merged) cell covering this slot
    origin: bool  # this slot is the merged cell's top-left one


@dataclass
class _Segment:
    page_no: int
    bbox: tuple[float, float, float, float]
    rows: list[list[_Cell]]


def _grid(table: Any) -> list[list[_Cell]]:
    """The table as a full grid: every slot knows the merged cell covering it."""
    data = table.extract()
    texts: dict[tuple, str] = {}
    for row, vals in zip(table.rows, data):
        for bbox, val in zip(row.cells, vals):
            if bbox is not None:
                texts[tuple(bbox)] = val or ""
    ncols = max((len(r.cells) for r in table.rows), default=0)
    # column x-centres from the narrowest cell of each column, row y-centres from row bboxes
    xs: list[float | None] = []
    for j in range(ncols):
        best = None
        for r in table.rows:
            if j < len(r.cells) and r.cells[j] is not None:
                b = r.cells[j]
                if best is None or (b[2] - b[0]) < (best[2] - best[0]):
                    best = b
        xs.append((best[0] + best[2]) / 2 if best else None)
    grid: list[list[_Cell]] = []
    for r in table.rows:
        cy = (r.bbox[1] + r.bbox[3]) / 2
        heights = [c[3] - c[1] for c in r.cells if c is not None]
        if heights:  # the row's own height is that of its shortest cell
            top = min(c[1] for c in r.cells if c is not None)
            cy = top + min(heights) / 2
        out = []
        for j in range(ncols):
            b = r.cells[j] if j < len(r.cells) else None
            if b is not None:
                raw = _text(texts.get(tuple(b), ""))
                out.append(_Cell(_norm(raw), raw, tuple(b), True))
                continue
            cx = xs[j]
            cover = None
            if cx is not None:
                for c in table.cells:
                    if c[0] - 0.5 <= cx <= c[2] + 0.5 and c[1] - 0.5 <= cy <= c[3] + 0.5:
                        if cover is None or (c[2] - c[0]) * (c[3] - c[1]) < (cover[2] - cover[0]) * (cover[3] - cover[1]):
                            cover = tuple(c)
            raw = _text(texts.get(cover, "")) if cover else ""
            out.append(_Cell(_norm(raw), raw, cover, False))
        grid.append(out)
    return grid


def _is_number(text: str) -> bool:
    return bool(text) and bool(_AMOUNT.match(text)) and not _PLACEHOLDER.match(text)


def _is_code(text: str) -> bool:
    return text.isdigit() and 2 <= len(text) <= 7


# --------------------------------------------------------------------------- titles

def _line_text(page: Any, line: dict[str, Any]) -> str:
    """A title line with the characters set a little higher or lower (the quotes of “三公”)."""
    top, bottom = line["top"], line["bottom"]
    h = max(bottom - top, 1.0)
    chars = [c for c in page.chars
             if line["x0"] - 2 <= c["x0"] <= line["x1"] + 2
             and min(bottom, c["bottom"]) - max(top, c["top"]) >= 0.4 * min(h, c["bottom"] - c["top"] or h)]
    chars.sort(key=lambda c: c["x0"])
    text = "".join(c["text"] for c in chars) or line["text"]
    return _norm(text)


def _title_above(page: Any, lines: list[dict[str, Any]], top: float, floor: float) -> tuple[int, str] | None:
    """The nearest table title printed between ``floor`` and ``top`` (y down)."""
    for line in sorted((ln for ln in lines if floor - 1 <= ln["top"] and ln["bottom"] <= top + 1),
                       key=lambda ln: -ln["top"]):
        no = table_no_from_title(line["text"])
        if no:
            return no, _line_text(page, line)
    return None


_UNIT = re.compile(r"单位[:：]\s*(万元|元|亿元|千元)")


# --------------------------------------------------------------------------- reading

def read_pdf_tables(path: Path | str, *, report_id: str, edition: int | str) -> PdfTables:
    """Read every attached table of a 部门决算 PDF.

    ``report_id`` is written on every row; ``edition`` (the report's year) makes the
    classification ids (``code@edition``). Raises ImportError_ for a file that is not a readable
    PDF (missing, not a PDF, corrupt, encrypted, damaged: see ``open_pdf``).
    """
    path = Path(path)
    out = PdfTables()
    with pdfminer_log() as log:
        pdf, damage = open_pdf(path)
        out.warnings.extend(damage)
        try:
            segments = _read_segments(pdf, path.name, out, log)
        except ImportError_:
            raise
        except Exception as exc:
            raise pdf_error(path.name, exc) from None
        finally:
            pdf.close()
        log.page = None
    out.warnings[len(damage):len(damage)] = unreadable_pages_warnings(path.name, out.unreadable)
    out.warnings.extend(log.check(path.name))
    _Builder(path.name, report_id, str(edition), out).build(segments)
    return out


def _note_below(lines: list[dict[str, Any]], bottom: float) -> str | None:
    """The note printed under a table saying it has no figures (注：...本表无数据)."""
    notes = [_WS.sub("", _glyphs(ln["text"])) for ln in lines if ln["top"] >= bottom - 1
             and _norm(ln["text"]).startswith(("注", "说明")) and re.search(r"无|没有", _glyphs(ln["text"]))]
    return notes[0] if notes else None


#: A line of a list (a table of contents): numbered (一、 1.), after a bullet or not (-一、 • 1.).
_LISTED = re.compile(r"^[-–—•·●○■□◆*]*\s*(?:[一二三四五六七八九十]+、|\d+[.、．])?")


def _unruled_titles(page: Any, page_no: int, name: str, tables: dict[int, dict[str, Any]], out: PdfTables) -> None:
    """A table title on a page without a ruled grid: the table is printed but cannot be read. Not
    a line of a table of contents: a numbered or bulleted line, or a page of several titles (目录:
    a narrative printed alone lists the tables it does not include)."""
    if not page.chars:
        return
    lines = page.extract_text_lines()
    titles = [(line, no) for line in lines if (no := table_no_from_title(_norm(line["text"])))]
    if len({no for _, no in titles}) >= 3:
        return  # a list of the tables, not a table
    for line, no in titles:
        text = _norm(line["text"])
        if no in tables or _LISTED.match(text).group():
            continue  # already read, or a line of a table of contents
        tables[no] = {"title": _line_text(page, line), "page": page_no, "segments": [], "ncols": 0, "unit": None}
        note = _note_below(lines, line["bottom"])
        if note:
            tables[no]["note"] = note
        out.warnings.append(f"{name} p.{page_no}: 表{no} {text} is printed without a ruled grid; its figures are not read")


def _read_segments(pdf: Any, name: str, out: PdfTables, log: PdfminerLog | None = None) -> dict[int, dict[str, Any]]:
    """Page texts, and the ruled tables of each page grouped by template table."""
    tables: dict[int, dict[str, Any]] = {}
    last: tuple[int, int, int] | None = None  # (table_no, page_no, ncols) of the latest table
    for page_no, page in enumerate(pdf.pages, start=1):
        if log is not None:
            log.page = page_no
        out.pages.append(page.extract_text() or "")
        if problem := page_problem(page):
            out.unreadable[page_no] = problem
        found = page.find_tables() if (page.lines or page.rects) else []
        if not found:
            _unruled_titles(page, page_no, name, tables, out)
            continue
        lines = page.extract_text_lines() if page.chars else []
        floor = 0.0
        for tbl in sorted(found, key=lambda t: t.bbox[1]):
            grid = _grid(tbl)
            if not grid:
                continue
            ncols = len(grid[0])
            title = _title_above(page, lines, tbl.bbox[1], floor)
            if title is None and grid:  # title printed in the table's first row
                first = "".join(c.text for c in grid[0] if c.origin)
                no = table_no_from_title(first)
                if no:
                    title = (no, first)
                    grid = grid[1:]
            region = [ln for ln in lines if floor - 1 <= ln["top"] and ln["bottom"] <= tbl.bbox[1] + 1]
            unit = next((m.group(1) for ln in region if (m := _UNIT.search(ln["text"]))), None)
            floor = tbl.bbox[3]
            seg = _Segment(page_no, tuple(tbl.bbox), grid)
            if title:
                no, text = title
                if no in tables and tables[no]["segments"][-1].page_no == page_no - 1 \
                        and tables[no]["ncols"] == ncols:  # title repeated (（续）) on the next page
                    tables[no]["segments"].append(seg)
                    out.table_pages.add(page_no)
                    last = (no, page_no, ncols)
                    continue
                if no in tables:
                    out.warnings.append(
                        f"{name} p.{page_no}: a second table titled {text!r} (表{no} already read on "
                        f"p.{tables[no]['page']}); not read")
                    out.table_pages.add(page_no)
                    last = None
                    continue
                tables[no] = {"title": text, "page": page_no, "segments": [seg], "ncols": ncols, "unit": unit}
                out.table_pages.add(page_no)
                if unit:
                    out.units[no] = unit
                last = (no, page_no, ncols)
            elif last and last[1] == page_no - 1 and last[2] == ncols:
                tables[last[0]]["segments"].append(seg)
                out.table_pages.add(page_no)
                last = (last[0], page_no, ncols)
            else:
                if any(_is_number(c.text) and "." in c.text for row in grid for c in row):
                    out.warnings.append(f"{name} p.{page_no}: a table with figures but no known 决算 title; not read")
                    out.unread_pages.append(page_no)
                    out.table_pages.add(page_no)
                last = None
        # a table's note (注：本表无数据) printed below it
        for no, info in tables.items():
            segs = info["segments"]
            if segs and segs[-1].page_no == page_no and "note" not in info:
                note = _note_below(lines, segs[-1].bbox[3])
                if note:
                    info["note"] = note
    out.table_pages = _tables_block(out.table_pages, [seg.page_no for info in tables.values() for seg in info["segments"]])
    return tables


def _tables_block(pages: set[int], read: list[int]) -> set[int]:
    """The tables' pages, whose text the narrative does not read as sentences: those of a table
    read, and of a table not read among them or in a run of such pages next to them (表1 turned on
    p.6, p.7 its second page); a table of figures apart from them (an 附件's, a list of assets in 第三
    部分) is the narrative's, which it would have ended there; with no table read, none."""
    if not read:
        return set()
    low, high = min(read), max(read)
    while low - 1 in pages:
        low -= 1
    while high + 1 in pages:
        high += 1
    return {p for p in pages if low <= p <= high}


# --------------------------------------------------------------------------- interpretation

@dataclass
class _Column:
    role: str  # code | label | measure | ignore
    side: str | None = None
    measure: str | None = None
    level: str | None = None
    header: list[str] = field(default_factory=list)


@dataclass
class _Block:
    side: str
    code_cols: list[int]
    label_cols: list[int]
    measure_cols: list[int]


def _is_body_row(row: list[_Cell], table_no: int) -> bool:
    """A row of figures or lines, not of column headers."""
    header_words = {m for side in T.MEASURES[table_no].values() for m in side}
    for c in row:
        if not c.origin or not c.text:
            continue
        if _is_number(c.text) and ("." in c.text or _is_code(c.text)):
            return True
        label = T.clean_item(c.raw)
        if label in header_words:
            continue
        if label in (T.TOTAL, T.GRAND_TOTAL, T.INCOME_TOTAL, T.EXPENDITURE_TOTAL, T.PERSONNEL_TOTAL, T.PUBLIC_TOTAL):
            return True
        if re.match(r"^[一二三四五六七八九十]+、", c.text):
            return True
    return False


def _header_pieces(grid: list[list[_Cell]], upto: int, j: int) -> list[str]:
    pieces: list[str] = []
    seen: set = set()
    for i in range(upto):
        c = grid[i][j]
        if c.cid is None or c.cid in seen or not c.text:
            continue
        seen.add(c.cid)
        pieces.append(_QUOTES.sub("", c.text))
    return pieces


def _match_measure(pieces: list[str], measures: list[str]) -> str | None:
    # 上年结转和结余 (表8/表9 columns of many provinces) is the template's 年初结转和结余
    parts = [_BALANCE_ALIASES.get(p, p) for p in pieces if p not in ("收入", "支出", "项目")]
    if not parts:
        return None
    last = parts[-1]
    if len(parts) > 1 and parts[-2] in measures and parts[-2] != last:
        # a column under one of the template's (表5's 年初预算数/小计 is 年初预算数; its 年初预算数/基本支出
        # is none of the template's, not the 基本支出 of 决算数, whose figure it would take)
        return parts[-2] if last in ("小计", "合计") else None
    if last in measures:
        return last
    if last in ("小计", "合计") and len(parts) > 1:
        cand = parts[-2].removesuffix("合计") + "合计"
        if cand in measures:
            return cand
        if last in measures or T.TOTAL in measures:
            # the subtotal of a group of columns (表5's 本年支出/小计, 决算数/合计): the table's 合计
            return last if last in measures else T.TOTAL
    joined = "".join(parts)
    if joined in measures:
        return joined
    hits = [m for m in measures if m in last] or [m for m in measures if m in joined]
    return max(hits, key=len) if hits else None


#: A label that starts a line of its own (numbered, 其中, a total), never the rest of a wrapped one.
_NEW_LINE = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\d+[.、]|[（(][一二三四五六七八九十\d]+[）)]|其中)")
_TOTAL_LABELS = {T.TOTAL, T.GRAND_TOTAL, T.INCOME_TOTAL, T.EXPENDITURE_TOTAL, T.OPENING_BALANCE,
                 T.CLOSING_BALANCE, "小计", T.PERSONNEL_TOTAL, T.PUBLIC_TOTAL}


class _Builder:
    def __init__(self, file_name: str, report_id: str, edition: str, out: PdfTables) -> None:
        self.file, self.report_id, self.edition, self.out = file_name, report_id, edition, out
        self.codes: dict[str, dict[str, Any]] = {}

    # ---- entry
    def build(self, tables: dict[int, dict[str, Any]]) -> None:
        for no in sorted(tables):
            info = tables[no]
            pages = sorted({s.page_no for s in info["segments"]} or {info["page"]})
            span = f"p.{pages[0]}" + (f"-{pages[-1]}" if len(pages) > 1 else "")
            self.out.report_tables.append({
                "report_id": self.report_id, "table_no": no, "status": "attached",
                "title_as_printed": info["title"], "statement": info.get("note"),
                "source_page": info["page"], "source_ref": f"第二部分 表{no} {info['title']} ({span})",
            })
            if info.get("unit") and info["unit"] != "万元":
                self.out.warnings.append(f"{self.file} 表{no}: amounts printed in {info['unit']}, not 万元")
            if not info["segments"]:
                continue
            try:
                if no == 7 and self._three_public(no, info):
                    continue
                self._lines_table(no, info)
            except Exception as exc:  # one odd table must not lose the others
                self.out.warnings.append(f"{self.file} 表{no} (p.{info['page']}): not read ({type(exc).__name__}: {exc})")
        # A table printed without a grid, or whose grid gave no line: in the source, not read.
        read = {row["table_no"] for row in self.out.amounts}
        for t in self.out.report_tables:
            if t["table_no"] not in read:
                t["status"] = "not_read"
        found = {t["table_no"] for t in self.out.report_tables}
        missing = [n for n in T.MEASURES if n not in found]
        unread, textless = sorted(set(self.out.unread_pages)), self.out.pages_without_text()
        if missing and (unread or textless):
            where = ([f"the tables of p.{', '.join(map(str, unread))} were not recognised (no known title)"] if unread else []) + \
                    ([f"p.{', '.join(map(str, textless))} hold{'s' if len(textless) == 1 else ''} no text, only an image"]
                     if textless else [])
            self.out.warnings.append(
                f"{self.file}: 表{', 表'.join(map(str, missing))} not found; {' and '.join(where)}, where "
                f"{'it' if len(missing) == 1 else 'they'} may be printed: not read")
        elif missing:
            self.out.warnings.append(f"{self.file}: no attached table found for 表{', 表'.join(map(str, missing))}")
        self._finish_classification()

    # ---- rows
    def _amount_row(self, no: int, side: str, line_no: int, key: str, code: str | None, item: str,
                    measure: str, value: Decimal, page: int, ref: str) -> None:
        self.out.amounts.append({
            "report_id": self.report_id, "table_no": no, "side": side, "line_no": line_no,
            "line_key": key, "classification_id": T.classification_id(code, self.edition) if code else None,
            "code": code, "item": item, "measure": measure, "amount": float(value),
            "code_certainty": "stated" if code else None, "explanation": None,
            "source_kind": "table", "source_page": page, "source_ref": ref,
        })

    def _note_code(self, code: str, name: str, no: int, page: int) -> None:
        if code in self.codes:
            if name and self.codes[code]["name"] != name:
                self.out.warnings.append(
                    f"{self.file} 表{no} p.{page}: code {code} printed as {name!r}, "
                    f"elsewhere as {self.codes[code]['name']!r}")
            return
        self.codes[code] = {
            "classification_id": T.classification_id(code, self.edition), "code": code,
            "edition": self.edition, "scheme": ECONOMIC if no == 6 else FUNCTIONAL,
            "level": T.code_level(code), "name": name, "parent_id": None,
            "certainty": "stated", "source": f"{self.file} 表{no} p.{page}",
        }

    def _finish_classification(self) -> None:
        for code, row in self.codes.items():
            parent = T.parent_code(code)
            if parent and parent in self.codes:
                row["parent_id"] = T.classification_id(parent, self.edition)
            self.out.classification.append(row)

    # ---- tables of lines (all but the usual table 7)
    def _columns(self, no: int, grid: list[list[_Cell]], body: int) -> list[_Column]:
        sides = list(T.MEASURES[no])
        cols: list[_Column] = []
        ncols = len(grid[0])
        first = grid[body] if body < len(grid) else []
        for j in range(ncols):
            pieces = _header_pieces(grid, body, j)
            # header words sharing the first body row (类/款/项, or 合计/基本支出 of 本年支出)
            if first and first[j].origin and first[j].text and not _is_number(first[j].text):
                w = first[j].text
                lefter = any(first[k].text for k in range(j))
                if w in _LEVEL_WORDS or (lefter and (w in ("合计", "小计") or any(w == m for s in sides for m in T.MEASURES[no][s]))):
                    pieces.append(w)
                    first[j] = _Cell("", "", first[j].cid, True)
            side = next((p for p in pieces if p in sides), None)
            col = _Column("ignore", side=side, header=pieces)
            last = pieces[-1] if pieces else ""
            measures = [m for s in ([side] if side else sides) for m in T.MEASURES[no][s]]
            measure = _match_measure(pieces, measures)
            if last in _LEVEL_WORDS or (pieces and ("编码" in last or last.endswith("分类"))):
                col.role, col.level = "code", last if last in _LEVEL_WORDS else None
            elif measure:
                col.role, col.measure = "measure", measure
            elif any(("科目名称" in p or p in ("项目", "名称", "科目")) for p in pieces):
                col.role = "label"
            cols.append(col)
        return cols

    def _blocks(self, no: int, cols: list[_Column]) -> list[_Block]:
        blocks: list[_Block] = []
        cur: _Block | None = None
        sides = list(T.MEASURES[no])
        for j, c in enumerate(cols):
            if c.role in ("code", "label") and (cur is None or cur.measure_cols):
                cur = _Block("", [], [], [])
                blocks.append(cur)
            if cur is None:
                if c.role == "measure":
                    cur = _Block("", [], [], [])
                    blocks.append(cur)
                else:
                    continue
            if c.role == "code":
                cur.code_cols.append(j)
            elif c.role == "label":
                cur.label_cols.append(j)
            elif c.role == "measure":
                cur.measure_cols.append(j)
        for k, b in enumerate(blocks):
            named = [cols[j].side for j in b.code_cols + b.label_cols + b.measure_cols if cols[j].side]
            if named:
                b.side = named[0]
            elif len(sides) == 1:
                b.side = sides[0]
            else:
                b.side = sides[min(k, len(sides) - 1)]
            # a measure of the wrong side: re-match on this block's side
            for j in b.measure_cols:
                if cols[j].measure not in T.MEASURES[no][b.side]:
                    cols[j].measure = _match_measure(cols[j].header, T.MEASURES[no][b.side])
        return blocks

    def _lines_table(self, no: int, info: dict[str, Any]) -> None:
        segs: list[_Segment] = info["segments"]
        grid0 = segs[0].rows
        body = next((i for i, r in enumerate(grid0) if _is_body_row(r, no)), len(grid0))
        if body >= len(grid0):
            return  # nothing but headers (and blank rows): an empty table
        cols = self._columns(no, grid0, body)
        for j, c in enumerate(cols):
            if c.role == "ignore" and any(_is_number(r[j].text) and "." in r[j].text for r in grid0[body:] if r[j].origin):
                self.out.warnings.append(
                    f"{self.file} 表{no} p.{segs[0].page_no}: column {j + 1} ({'/'.join(c.header) or 'no header'}) "
                    "matches no measure of the template; its figures are not read")
        blocks = self._blocks(no, cols)
        header_texts = {"".join(c.text for c in r) for r in grid0[:body]}
        rows: list[tuple[int, list[_Cell]]] = [(segs[0].page_no, r) for r in grid0[body:]]
        for seg in segs[1:]:
            cont = seg.rows
            k = 0
            while k < len(cont) and "".join(c.text for c in cont[k]) in header_texts and not _is_body_row(cont[k], no):
                k += 1  # header repeated on the continuation page
            rows += [(seg.page_no, r) for r in cont[k:]]
        # lines per block, then numbered per side in block order
        lines_by_side: dict[str, list[dict[str, Any]]] = {}
        for b in blocks:
            lines_by_side.setdefault(b.side, []).extend(self._block_lines(no, b, cols, rows))
        for side, lines in lines_by_side.items():
            self._emit(no, side, lines)

    def _block_lines(self, no: int, b: _Block, cols: list[_Column], rows: list[tuple[int, list[_Cell]]]) -> Iterator[dict[str, Any]]:
        """The lines of one block; in a table of coded lines, a label wrapped over a page break (the
        rest of the label alone, without code or figures, as the first row of the next page) is
        joined to its line."""
        out: list[dict[str, Any]] = []
        prev_page = None
        for line, page_no in self._raw_block_lines(no, b, cols, rows):
            first_on_page = prev_page is not None and page_no != prev_page
            prev_page = page_no
            # Only in tables of coded lines: there every line but the totals has a code, so a label
            # without code or figures right after a page break is the rest of the line above.
            if (first_on_page and b.code_cols and out and out[-1]["code"] and not line["code"]
                    and not line["values"] and line["item"] and not _NEW_LINE.match(line["raw_label"])
                    and line["item"] not in _TOTAL_LABELS):
                out[-1]["item"] += line["item"]
                continue
            out.append(line)
        for line in out:
            line.pop("raw_label", None)
            yield line

    def _raw_block_lines(self, no: int, b: _Block, cols: list[_Column], rows: list[tuple[int, list[_Cell]]]) -> Iterator[tuple[dict[str, Any], int]]:
        for page_no, row in rows:
            parts = [row[j] for j in b.code_cols]
            code_digits = [c.text for c in parts if c.origin and c.text.isdigit()]
            # the label is the text of a cell that starts in this row (a cell merged down from the
            # row above is not repeated); a total's label may be merged over the code columns
            label = next((row[j].raw for j in b.label_cols if row[j].origin and row[j].text), "")
            if not label:
                label = next((c.raw for c in parts if c.origin and c.text and not c.text.isdigit()
                              and c.text not in _LEVEL_WORDS), "")
            values: dict[str, tuple[Decimal, str]] = {}
            bad: list[str] = []
            for j in b.measure_cols:
                c = row[j]
                if not c.origin or not c.text or cols[j].measure is None:
                    continue
                try:
                    v = _amount(c.text)
                except ValueError:
                    if c.text not in ("合计", "小计") and c.text not in {m for s in T.MEASURES[no].values() for m in s}:
                        bad.append(c.text)
                    continue
                if v is not None:
                    values[cols[j].measure] = (v, c.text)
            code = "".join(code_digits)
            if code and (len(code) not in (3, 5, 7) or (len(code_digits[0]) != 3 and len(code_digits) > 1)):
                self.out.warnings.append(f"{self.file} 表{no} p.{page_no}: code {'+'.join(code_digits)} is not a 3/5/7-digit code; read as a label")
                label, code = label or code, ""
            item = T.clean_item(label) if label else ""
            if bad:
                self.out.warnings.append(f"{self.file} 表{no} p.{page_no}: {item or code or 'a line'}: unreadable figure(s) {bad}; not read")
            if not item and not code and not values:
                continue
            if item and _PLACEHOLDER.match(item) and not code and not values:
                continue  # … rows of a template
            if not item and not code:
                self.out.warnings.append(f"{self.file} 表{no} p.{page_no}: figures {list(v[1] for v in values.values())} on a line without a label; not read")
                continue
            yield {"page": page_no, "code": code or None, "item": item or code, "values": values,
                   "raw_label": _norm(label)}, page_no

    def _emit(self, no: int, side: str, lines: list[dict[str, Any]]) -> None:
        keys: set[str] = set()
        balance: str | None = None
        for n, line in enumerate(lines, start=1):
            code, item = line["code"], line["item"]
            if code:
                key = code
                self._note_code(code, item, no, line["page"])
                balance = None
            else:
                key = _line_key(no, item)
                if key in (T.OPENING_BALANCE, T.CLOSING_BALANCE):
                    balance = key
                elif key in (T.GRAND_TOTAL, T.TOTAL, T.INCOME_TOTAL, T.EXPENDITURE_TOTAL):
                    balance = None
                elif balance:
                    key = f"{balance}/{key}"
            if key in keys:
                self.out.warnings.append(f"{self.file} 表{no} {side} p.{line['page']}: line {item!r} repeats key {key!r}; keyed {key}#{n}")
                key = f"{key}#{n}"
            keys.add(key)
            ref = f"表{no} 第{n}行 (p.{line['page']})"
            for measure, (value, _) in line["values"].items():
                self._amount_row(no, side, n, key, code, item, measure, value, line["page"], ref)

    # ---- table 7 printed as columns (lines) × rows (预算数, 决算数)
    def _three_public_measure_rows(self, no: int, seg: _Segment) -> bool:
        """Table 7 with its lines as columns and one figure row per measure, labelled 预算数 / 决算数
        in the first column. Both rows are read. False when the table is not laid out this way."""
        grid = seg.rows
        labels = {"预算数": "预算数", "年初预算数": "预算数", "预算": "预算数", "全年预算数": "预算数",
                  "决算数": "决算数", "决算": "决算数", "实际支出数": "决算数"}
        mrows = [(i, labels[r[0].text]) for i, r in enumerate(grid) if r and r[0].origin and r[0].text in labels]
        if not mrows:
            return False
        first = mrows[0][0]
        side = next(iter(T.MEASURES[no]))
        lines: dict[str, tuple[str, int]] = {}
        for j in range(1, len(grid[0])):
            pieces = _header_pieces(grid, first, j)
            pieces = [p for p in pieces if "三公" not in p or _three_public_key(p) == "合计"]
            if not pieces:
                continue
            key = _three_public_key(pieces[-1], pieces[-2] if len(pieces) > 1 else "")
            if key is None:
                self.out.warnings.append(f"{self.file} 表7 p.{seg.page_no}: column {'/'.join(pieces)} is not a \"三公\" line; not read")
                continue
            leaf = pieces[-1]
            item = T.clean_item((pieces[-2] + leaf) if leaf == "小计" and len(pieces) > 1 else leaf)
            lines.setdefault(key, (item, j))
        if not lines:
            return False
        for n, (key, (item, j)) in enumerate(lines.items(), start=1):
            for i, measure in mrows:
                c = grid[i][j]
                if not c.origin:
                    continue
                try:
                    v = _amount(c.text)
                except ValueError:
                    self.out.warnings.append(f"{self.file} 表7 p.{seg.page_no}: {item} {measure}: unreadable figure {c.text!r}; not read")
                    continue
                if v is not None:
                    ref = f"表7 第{n}栏 {item} {measure} (p.{seg.page_no})"
                    self._amount_row(no, side, n, key, None, item, measure, v, seg.page_no, ref)
        return True

    # ---- table 7 printed as columns × (预算数, 决算数)
    def _three_public(self, no: int, info: dict[str, Any]) -> bool:
        seg = info["segments"][0]
        grid = seg.rows
        mrow = None
        for i, r in enumerate(grid):
            words = [c.text for c in r if c.text]
            if words and sum(1 for w in words if w in ("预算数", "决算数", "年初预算数", "预算", "决算")) >= max(4, len(words) // 2):
                mrow = i
                break
        if mrow is None:
            return self._three_public_measure_rows(no, seg)  # else lines as rows: the generic reader
        side = next(iter(T.MEASURES[no]))
        ncols = len(grid[0])
        lines: dict[str, dict[str, Any]] = {}
        for j in range(ncols):
            mtext = grid[mrow][j].text
            measure = "决算数" if "决算" in mtext else "预算数" if "预算" in mtext else None
            if measure is None:
                continue
            pieces = _header_pieces(grid, mrow, j)
            spans_all = {c.cid for c in grid[0]} if len({c.cid for c in grid[0]}) == 1 else set()
            pieces = [p for i, p in enumerate(pieces) if not (i == 0 and spans_all and grid[0][j].cid in spans_all and len(pieces) > 1)]
            if not pieces:
                continue
            leaf = pieces[-1]
            parent = pieces[-2] if len(pieces) > 1 else ""
            key = _three_public_key(leaf, parent)
            if key is None:
                self.out.warnings.append(f"{self.file} 表7 p.{seg.page_no}: column {'/'.join(pieces)} is not a \"三公\" line; not read")
                continue
            item = T.clean_item(parent + leaf if leaf == "小计" else leaf)
            line = lines.setdefault(key, {"item": item, "cols": {}})
            line["cols"][measure] = j
        data_rows = [r for r in grid[mrow + 1:] if any(c.origin and c.text for c in r)]
        if len(data_rows) > 1:
            self.out.warnings.append(f"{self.file} 表7 p.{seg.page_no}: {len(data_rows)} figure rows; only the first is read")
        row = data_rows[0] if data_rows else None
        for n, (key, line) in enumerate(lines.items(), start=1):
            if row is None:
                continue
            for measure, j in line["cols"].items():
                c = row[j]
                if not c.origin:
                    continue
                try:
                    v = _amount(c.text)
                except ValueError:
                    self.out.warnings.append(f"{self.file} 表7 p.{seg.page_no}: {line['item']} {measure}: unreadable figure {c.text!r}; not read")
                    continue
                if v is not None:
                    ref = f"表7 第{n}栏 {line['item']} {measure} (p.{seg.page_no})"
                    self._amount_row(no, side, n, key, None, line["item"], measure, v, seg.page_no, ref)
        return True
