"""Opening a PDF for the import: a file that is not a readable PDF (missing, not a PDF, corrupt,
encrypted) or whose pages' text depends on damaged compressed data is refused naming the file
and pages, before any page is read; pdfminer's log records are kept, not printed.

pdfminer, given a damaged Flate stream, retries it one byte at a time (a damaged 3.4 MB font of the
Putuo report took 128 s a page, and its text was read from what came out): every stream the pages
use is checked with zlib first (0.1 s for that report).

An encrypted PDF that opens without a password (an owner password only) is read from a copy PDFium
(pypdfium2, which pdfplumber uses too) writes without its encryption: pdfminer decrypts RC4 in
Python (the Putuo report under RC4 took 11 minutes to import, 3 s under AES or unprotected), and
failed on some AES files' permissions (``/P 0``: "'L' format requires 0 <= number <= 4294967295").
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2
import pypdfium2.raw

from ..errors import ImportError_

__all__ = ["IMAGE_ONLY", "PdfminerLog", "TURNED", "open_pdf", "page_problem", "pdf_error", "pdfminer_log",
           "unreadable_pages_warnings"]


def _open(path: Path) -> Any:
    name = path.name
    if not path.is_file():
        raise ImportError_(f"{name}: no such file ({path})")
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise ImportError_(f"{name}: cannot read the file ({exc})") from None
    if b"%PDF-" not in head:
        raise ImportError_(f"{name}: not a PDF file (no %PDF- header)")
    source: str | io.BytesIO = str(path)
    if _encrypted(path):
        source = io.BytesIO(_decrypted(path))
    pdf = None
    try:
        pdf = pdfplumber.open(source)
        pages = pdf.pages  # parses the page tree: a broken file fails here
    except Exception as exc:  # pdfminer raises many kinds; all mean "cannot use this file"
        if pdf is not None:
            pdf.close()
        raise pdf_error(name, exc) from None
    if not pages:
        pdf.close()
        raise ImportError_(f"{name}: corrupt PDF (no pages)")
    return pdf


def _encrypted(path: Path) -> bool:
    """Whether the file names a security handler (``/Encrypt``, in the trailer or the dictionary of
    a cross-reference stream, neither of them compressed)."""
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"/Encrypt" in tail + chunk:
                return True
            tail = chunk[-len(b"/Encrypt"):]
    return False


def _decrypted(path: Path) -> bytes:
    """The PDF at ``path`` as PDFium writes it without its encryption; ImportError_ when it needs a
    password (a user password) or PDFium cannot read it."""
    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise pdf_error(path.name, exc) from None
    try:
        copy = io.BytesIO()
        doc.save(copy, flags=pypdfium2.raw.FPDF_REMOVE_SECURITY)
        return copy.getvalue()
    except pypdfium2.PdfiumError as exc:
        raise pdf_error(path.name, exc) from None
    finally:
        doc.close()


def pdf_error(name: str, exc: BaseException) -> ImportError_:
    """ImportError_ naming the file and saying whether it is encrypted or broken."""
    seen, cause, chain = set(), exc, []
    while cause is not None and id(cause) not in seen:  # pdfplumber wraps pdfminer's exceptions
        seen.add(id(cause))
        chain.append(f"{type(cause).__name__} {cause}")
        cause = cause.__cause__ or cause.__context__
    if re.search(r"password|encrypt", " ".join(chain), re.I):
        return ImportError_(f"{name}: the PDF is encrypted (password protected) and cannot be read without "
                            "its password; nothing was imported (import an unprotected copy)")
    detail = str(exc).strip() or type(exc).__name__
    return ImportError_(f"{name}: corrupt or unreadable PDF ({detail[:200]})")


def _pages_text(pages: list[int]) -> str:
    """p.2-5, 21 for pages [2, 3, 4, 5, 21]."""
    runs: list[list[int]] = []
    for n in sorted(set(pages)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "p." + ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _stream_damage(stream: Any) -> str | None:
    """Why a Flate-compressed stream cannot be decompressed as written, or None when it can.

    zlib checks every stream with its Adler-32 sum in C, in milliseconds; pdfminer, given a damaged
    stream, retries it one byte at a time (minutes for a large font) and reads what comes out.
    A stream cut short of its checksum is not counted as damaged (pdfminer reads it)."""
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE

    if stream.rawdata is None:
        return None  # already decoded by pdfminer
    filters = stream.get_filters()
    if not filters or filters[0][0] not in LITERALS_FLATE_DECODE:
        return None
    data = stream.rawdata
    if stream.decipher and stream.objid is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    try:
        zlib.decompressobj().decompress(data)
    except zlib.error as exc:
        return str(exc)
    return None


def _damaged_streams(pdf: Any) -> dict[int, tuple[str, str, list[int]]]:
    """Damaged streams that the pages use: objid -> (what, why, page numbers).

    ``what`` is "image" for an image (pdfplumber does not decode images to read text), otherwise
    what the page's text depends on (its content, a font, a form)."""
    from pdfminer.pdftypes import PDFObjRef, PDFStream, resolve1

    checked: dict[int, tuple[str, str] | None] = {}
    damaged: dict[int, tuple[str, str, list[int]]] = {}

    def kind(stream: Any) -> str:
        attrs = stream.attrs
        sub = getattr(resolve1(attrs.get("Subtype")), "name", None)
        if sub == "Image":
            return "image"
        if sub == "Form":
            return "form"
        if any(k in attrs for k in ("Length1", "Length2", "Length3")) or sub in ("Type1C", "CIDFontType0C", "OpenType"):
            return "font program"
        return "stream"

    def walk(obj: Any, seen: set[int], found: dict[int, tuple[str, str]], depth: int = 0) -> None:
        if depth > 50:
            return
        if isinstance(obj, PDFObjRef):
            if obj.objid in seen:
                return
            seen.add(obj.objid)
            ref, obj = obj.objid, resolve1(obj)
            if isinstance(obj, PDFStream):
                if ref not in checked:
                    why = _stream_damage(obj)
                    checked[ref] = (kind(obj), why) if why else None
                if checked[ref]:
                    found[ref] = checked[ref]
        if isinstance(obj, PDFStream):
            obj = obj.attrs
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key not in ("Parent", "P"):  # links up the page tree
                    walk(value, seen, found, depth + 1)
        elif isinstance(obj, list):
            for value in obj:
                walk(value, seen, found, depth + 1)

    for page_no, page in enumerate(pdf.pages, start=1):
        seen: set[int] = set()
        contents: dict[int, tuple[str, str]] = {}
        resources: dict[int, tuple[str, str]] = {}
        walk(page.page_obj.attrs.get("Contents"), seen, contents)
        walk(page.page_obj.resources, seen, resources)
        for found, other in ((contents, "content"), (resources, "resource")):
            for ref, (what, why) in found.items():
                damaged.setdefault(ref, (other if what == "stream" else what, why, []))[2].append(page_no)
    return damaged


def open_pdf(path: Path) -> tuple[Any, list[str]]:
    """The opened PDF (pdfplumber) and warnings about what in it is damaged but not needed to read it.

    Raises ImportError_ naming the file for a file that is not a readable PDF (missing, not a PDF,
    corrupt, encrypted) and for one whose pages' content or fonts are damaged (their text cannot be
    read reliably: the import is refused, naming the pages, rather than read half of them)."""
    pdf = _open(path)
    try:
        damaged = _damaged_streams(pdf)
    except Exception as exc:  # pdfminer raises many kinds
        pdf.close()
        raise pdf_error(path.name, exc) from None
    fatal = [f"{_pages_text(pages)}: {what} stream (object {ref}): {why}"
             for ref, (what, why, pages) in sorted(damaged.items(), key=lambda d: min(d[1][2]))
             if what != "image"]
    if fatal:
        pdf.close()
        pages = sorted({p for what, _, ps in damaged.values() if what != "image" for p in ps})
        raise ImportError_(
            f"{path.name}: the PDF is damaged: the text of {_pages_text(pages)} depends on compressed data "
            "that fails its check; it cannot be read reliably, so nothing was imported (get an undamaged "
            "copy of the report)", problems=fatal)
    warnings = [f"{path.name} {_pages_text(pages)}: an image (object {ref}) is damaged; it is not read "
                "(the text is read)" for ref, (what, _, pages) in sorted(damaged.items()) if what == "image"]
    return pdf, warnings


#: What ``page_problem`` finds: a page holding an image but no text (a scan), or text that reads
#: backwards or sideways (a page turned upside down or a quarter).
IMAGE_ONLY, TURNED = "image only", "turned"

#: Steps between characters (in the order the page draws them) that a page needs before the
#: direction of its text is judged, and the share of them that must run right to left or up/down.
_MIN_STEPS, _TURNED_SHARE = 10, 0.5


def page_problem(page: Any) -> tuple[str, str] | None:
    """Why a page's text cannot be read as it stands, or None when it can (or it is blank):
    (IMAGE_ONLY, why) for a page with an image and no text; (TURNED, why) for a page whose text,
    read in the order it is drawn, runs right to left (upside down: 算决门部) or down/up the page
    (turned a quarter: one character a line) rather than left to right.

    The direction is that of the steps from each character to the next one drawn, where the two
    are neighbours (within two characters' size): a table's header written in a narrow cell, a
    line's last character to the next line's first are too few to count."""
    chars = page.chars
    if not chars:
        return (IMAGE_ONLY, "without text, only an image (a scan?)") if page.images else None
    steps = {"right": 0, "left": 0, "vertical": 0}
    for a, b in zip(chars, chars[1:]):
        dx, dy, size = b["x0"] - a["x0"], b["top"] - a["top"], max(a.get("size") or 0, 1.0)
        if abs(dx) > 2 * size or abs(dy) > 2 * size or (dx == 0 and dy == 0):
            continue
        steps["right" if abs(dx) >= abs(dy) and dx > 0 else "left" if abs(dx) >= abs(dy) else "vertical"] += 1
    total = sum(steps.values())
    if total < _MIN_STEPS or steps["right"] >= total * (1 - _TURNED_SHARE):
        return None
    if steps["left"] >= steps["vertical"]:
        return TURNED, "turned upside down (its text reads backwards, right to left)"
    return TURNED, "turned a quarter (its text runs down the page, one character a line)"


def unreadable_pages_warnings(name: str, problems: dict[int, tuple[str, str]]) -> list[str]:
    """One warning per kind of unreadable page, naming the pages and what was not read: nothing of
    a page without text; of a turned page its sentences, and a table whose title cannot be read
    (the tables' reader still looks for them: a title it reads is a table it reads)."""
    by_why: dict[tuple[str, str], list[int]] = {}
    for page_no, problem in sorted(problems.items()):
        by_why.setdefault(problem, []).append(page_no)
    out = []
    for (kind, why), pages in by_why.items():
        one = len(pages) == 1
        it, its = ("it", "its") if one else ("them", "their")
        if kind == IMAGE_ONLY:
            lost = f"nothing on {it} was read: {its} tables' and narrative's figures are not in the data"
            fix = "run OCR on the PDF (e.g. ocrmypdf --language chi_sim) or get a copy with its text"
        else:
            lost = (f"{its} sentences were not read, nor a table whose title could not be read: their figures "
                    "are not in the data")
            fix = "turn the page upright and import the PDF again"
        out.append(f"{name} {_pages_text(pages)}: page{'' if one else 's'} {why}; {lost} ({fix})")
    return out


class PdfminerLog(logging.Handler):
    """pdfminer's log records (WARNING and above), with the page being read when each was logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.page: int | None = None
        self.records: list[tuple[int | None, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((self.page, record.getMessage()))

    def check(self, name: str) -> list[str]:
        """Warnings naming file and pages (one per message: a font's note on each of 13 pages is one
        line, not 13 burying the rest); ImportError_ when pdfminer read corrupted data."""
        lost = [p for p, msg in self.records if re.search(r"corrupt|data-loss", msg, re.I)]
        if lost:
            where = _pages_text([p for p in lost if p]) if any(lost) else "its pages"
            raise ImportError_(f"{name}: the PDF is damaged: pdfminer read corrupted data on {where}; their text "
                               "cannot be read reliably, so nothing was imported (get an undamaged copy of the report)")
        pages: dict[str, list[int]] = {}
        for page, msg in self.records:
            pages.setdefault(msg, [])
            if page:
                pages[msg].append(page)
        return [f"{name} {_pages_text(found)}: pdfminer: {msg}" if found else f"{name}: pdfminer: {msg}"
                for msg, found in pages.items()]


@contextmanager
def pdfminer_log() -> Iterator[PdfminerLog]:
    """Keep pdfminer's log records instead of printing them (they become warnings or an error)."""
    logger = logging.getLogger("pdfminer")
    handler = PdfminerLog()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
