"""Import one report (text or PDF) into the data package.

``import_report`` reads the source, parses its narrative (``narrative.parse_narrative``), reads
its attached tables when it is a PDF (``pdf_tables.read_pdf_tables``, imported lazily), and
replaces that report's rows in every resource (``package.replace_report_rows``): importing the
same report again gives the same files. Departments and classification rows are merged by key.

When tables are attached, the table's figure is the ``amounts`` row and the narrative's statement
points at it (the validator compares them); a narrative figure that differs from the table is
listed in the summary. Without tables, the figures the narrative states become ``amounts`` rows
with ``source_kind`` narrative.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

from ..errors import ImportError_, OpenDataError, PackageError
from ..package import create_missing_files, load_package, record_source, replace_report_rows, resource_rows
from ..staging import package_lock, staged
from ..template import (CLOSING_BALANCE, EXPENDITURE_TOTAL, GRAND_TOTAL, INCOME_TOTAL, NON_FISCAL_BALANCE_USED,
                        OPENING_BALANCE, SURPLUS_DISTRIBUTION, THREE_PUBLIC_LINES, classification_id)
from .classify import classification_rows, stated_paths
from .narrative import NarrativeResult, parse_narrative, readable_name
from .table_text import tables_in_text
from .textutil import decode_bytes, radical_glyphs, units_without_figures

#: Places whose slug is known: name -> (slug, level, province). Others fall back to a hash.
PLACES: dict[str, tuple[str, str, str | None]] = {
    "上海市": ("shanghai", "province", "上海市"),
    "普陀区": ("putuo", "county", None),
    "湖南省": ("hunan", "province", "湖南省"),
    "株洲市": ("zhuzhou", "city", "湖南省"),
    "芦淞区": ("lusong", "county", None),
}
#: Department names (after the place names) whose slug is known.
DEPARTMENT_SLUGS: dict[str, str] = {
    "科技和工业信息化局": "kjgxj",
    "财政局": "czj",
}
KINDS = {"决算": "final", "预算": "budget"}
TABLE_NOS = range(1, 10)


class ImportInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) once the report's rows were in the package: the import is done, its
    validation is not. ``summary`` (None when cut off before it was made) and ``interrupt`` (the
    KeyboardInterrupt raised) for the caller to say so."""

    def __init__(self, summary: ImportSummary | None, interrupt: KeyboardInterrupt) -> None:
        super().__init__("the report was imported; its validation was cut short")
        self.summary, self.interrupt = summary, interrupt


@dataclass
class ImportSummary:
    """What one import did; ``format_summary`` prints it."""

    report_id: str
    department: str
    department_id: str
    year: int
    kind: str
    source_file: str
    tables_attached: bool
    #: Template tables the source contains (attached) or states to be empty.
    tables_found: dict[int, str] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    #: Figures of the narrative (statements), those a template pattern understood, and those that
    #: repeat a standard-table figure (statement -> amounts row).
    figures: int = 0
    figures_understood: int = 0
    figures_matched: int = 0
    #: Narrative figures that differ from the attached table's figure.
    table_mismatches: list[str] = field(default_factory=list)
    #: Sentences with a number no template pattern understood ("section: sentence").
    not_understood: list[str] = field(default_factory=list)
    #: 类(款)(项) paths with no code (left null, never guessed).
    unmapped_paths: list[str] = field(default_factory=list)
    #: Numbers without a unit that were not taken as figures ("number in: sentence").
    skipped_numbers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Findings of the validator (``opendata.validate.validate_package``, run after the rows are
    #: written) about this report: dicts with severity, rule_id, message, source_ref.
    findings: list[dict[str, Any]] = field(default_factory=list)
    #: Findings about the department's other reports that compare them with this one (a later
    #: year's change on last year, now against this report's figures): as ``findings``, with report_id.
    related_findings: list[dict[str, Any]] = field(default_factory=list)
    #: Schema problems of the package after the import (the rules do not run when there are any).
    schema_problems: list[str] = field(default_factory=list)
    schema_problem_count: int = 0
    #: Whether the validation ran (False: it failed, the reason is in ``warnings``).
    validated: bool = False
    #: Reports of other departments in the package, whose rows the import's validation does not
    #: read (``validate.validate_reports``): a schema problem there stops ``build`` all the same.
    unchecked_reports: int = 0

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "error"]


# --------------------------------------------------------------------------------- reading

def _pdf_text(path: Path) -> str:
    """Page texts joined by form feeds. Digits set in another font sit a few points lower in some
    PDFs (Putuo 2024), so a page whose text has lines of bare numbers is re-read with a larger
    vertical tolerance. Radical glyphs (部⻔, as chromium prints 门) become the ordinary characters.
    A PDF that is encrypted, corrupt or damaged is refused (``pdf_file.open_pdf``)."""
    from .pdf_file import open_pdf, pdf_error, pdfminer_log

    bare = re.compile(r"^[\d.,%\s]+$")
    pages = []
    with pdfminer_log() as log:
        pdf, _damage = open_pdf(path)  # the damage warnings are read_pdf_tables's
        try:
            for page_no, page in enumerate(pdf.pages, start=1):
                log.page = page_no
                text = page.extract_text() or ""
                if sum(1 for line in text.splitlines() if bare.match(line)) >= 2:
                    wider = page.extract_text(y_tolerance=6) or ""
                    if sum(1 for line in wider.splitlines() if bare.match(line)) < \
                            sum(1 for line in text.splitlines() if bare.match(line)):
                        text = wider
                pages.append(radical_glyphs(text))
        except Exception as exc:  # pdfminer raises many kinds
            raise pdf_error(path.name, exc) from None
        finally:
            pdf.close()
        log.page = None
    log.check(path.name)  # raises when pdfminer read corrupted data; its warnings are read_pdf_tables's
    if pages and not any(page.strip() for page in pages):
        raise ImportError_(f"{path.name}: the PDF's {len(pages)} page{'s' if len(pages) > 1 else ''} hold no text, "
                           "only images (a scanned report?): opendata reads a PDF's text layer, not images; "
                           "run OCR on it first (e.g. ocrmypdf --language chi_sim) or import the report's text")
    return "\f".join(pages)


def _without_pages(text: str, pages: Collection[int]) -> str:
    """``text`` (pages separated by form feeds) with the text of ``pages`` (from 1) left out, their
    page breaks kept: the pages after them keep their numbers."""
    if not pages:
        return text
    return "\f".join("" if n in pages else page for n, page in enumerate(text.split("\f"), start=1))


#: UTF-8 read as Windows-1252 or Latin-1 and saved again (mojibake): a lead byte's letter (ä, å, è)
#: then its continuation bytes' (¸, \x8d, ¿...); and U+FFFD, what a decoder puts for bytes it cannot read.
_MOJIBAKE = re.compile("[\u00c0-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
                       "\u02dc\u2013-\u203a\u20ac\u2122]{1,2}|\ufffd")


def _garbled(text: str) -> str | None:
    """What in ``text`` looks mis-decoded, said for a warning (a text half turned to mojibake lost
    half its figures, with no word of it); None when nothing does."""
    found = _MOJIBAKE.findall(text)
    if len(found) < 5:
        return None
    sample = "".join(found[:5])
    return (f"{len(found)} places look mis-decoded ({sample}...: mojibake, or characters the decoder could "
            "not read): figures there were not read; check the file's encoding, or get another copy")


def read_source(path: Path) -> tuple[str, bytes, bool]:
    """(text, raw bytes, is_pdf) of a report file; ImportError_ if it has no usable text."""
    if path.exists() and not path.is_file():  # a folder, or a FIFO that would wait for a writer
        raise ImportError_(f"{path}: not a regular file; expected a report (text or PDF)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not data.strip():
        raise ImportError_(f"{path.name}: the file is empty; expected a report (text or PDF)")
    if b"%PDF-" in data[:1024]:  # a PDF's header, after bytes some writers put first (readers allow them)
        return _pdf_text(path), data, True
    if path.suffix.lower() == ".pdf":  # a download that saved an error page, a renamed file
        start = data[:40].decode("utf-8", "replace").strip().split("\n", 1)[0].strip()
        what = (f"but with {start!r}: a web page saved under a .pdf name?" if start.isprintable() and start
                else "but with other bytes: another kind of file")
        raise ImportError_(f"{path.name}: not a PDF (it does not begin with %PDF {what}); get the report's PDF "
                           "again, or import its text as .txt")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) and path.suffix.lower() in (".docx", ".doc", ".wps"):
        raise ImportError_(f"{path.name}: a Word document, which opendata does not read: save it as PDF (or as "
                           "UTF-8 text) and import that")
    text = decode_bytes(data)
    if text is None:
        raise ImportError_(f"{path.name}: binary file, not a report (expected UTF-8, UTF-16 or GB18030 text, or a PDF)")
    if _HTML.match(text[:4096]) or len(_HTML_TAGS.findall(text[:20000])) >= 10 or _MHT.match(text[:512]):
        # a web page saved as it is (or its body, or a web archive): its markup read as the report's words
        raise ImportError_(f"{path.name}: a web page (HTML), which opendata does not read: save the page's text "
                           "(the browser's 另存为 > 文本) as .txt, or print it to PDF, and import that")
    return text, data, False


#: Tags of a web page's body (a page's <body> saved as .txt), and a web archive's header (.mht).
_HTML_TAGS = re.compile(r"</?(?:p|span|div|td|tr|table|br|font|strong)\b[^>]*>", re.I)
_MHT = re.compile(r"\ufeff?\s*(?:From: <Saved by|MIME-Version:)", re.I)

#: The start of a web page (after a byte-order mark, blank lines or an XML declaration).
_HTML = re.compile(r"\ufeff?\s*(?:<\?xml[^>]*>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*(?:<!doctype\s+html|<html[\s>])",
                   re.I | re.S)


# --------------------------------------------------------------------------------- ids

def place_parts(department: str) -> tuple[list[tuple[str, str, str, str | None]], str]:
    """Leading known place names of a department name, and the rest."""
    found = []
    rest = department
    changed = True
    while changed:
        changed = False
        for name, (slug, level, province) in PLACES.items():
            if rest.startswith(name):
                found.append((name, slug, level, province))
                rest = rest[len(name):]
                changed = True
    return found, rest


def department_slug(department: str) -> str:
    """ASCII id: known place and department slugs, else a hash of the name."""
    places, rest = place_parts(department)
    rest = re.sub(r"^单位|单位$", "", rest)
    digest = hashlib.sha256(department.encode("utf-8")).hexdigest()[:10]
    dept = DEPARTMENT_SLUGS.get(rest)
    if not places:
        return f"dept-{digest}"
    return "-".join([p[1] for p in places] + [dept or f"dept-{digest}"])


def report_slug(department_id: str, year: int, kind: str) -> str:
    return f"{department_id}-{year}-{KINDS[kind]}"


def _department_row(department: str, department_id: str) -> dict[str, Any]:
    places, _ = place_parts(department)
    row = {"department_id": department_id, "name": department, "province": None, "city": None,
           "county": None, "source_ref": "封面标题"}
    filled = []
    for name, _, level, province in places:
        row[level] = name
        if level != "province" and province and not row["province"]:
            row["province"] = province
            filled.append(province)
    if filled:
        row["source_ref"] = f"封面标题；省份{'、'.join(filled)}按行政区划补充（原文未写明）"
    return row


# --------------------------------------------------------------------------------- import

#: A report's title words, and the same read backwards.
_FORWARDS = re.compile(r"部门(?:决|预)算")
_BACKWARDS = re.compile(r"算(?:决|预)门部")

#: Words of a report in Traditional Chinese (部門決算, 預算, 財政撥款): the parser reads Simplified.
_TRADITIONAL = re.compile(r"部門|決算|預算|財政撥款|說明")




def _require_report(res: NarrativeResult, name: str, text: str = "") -> None:
    missing = []
    if not res.year:
        missing.append("the year (e.g. 2020年度)")
    if not res.department:
        missing.append("the department name in the title (…部门决算)")
    if not ({3, 5} & res.parts_found) and not res.statements:
        missing.append("the template's sections (第三部分 情况说明)")
    if missing:
        traditional = ("; the text is in Traditional Chinese (部門決算), which opendata does not read: convert it "
                       "to Simplified Chinese (部门决算) and import that" if _TRADITIONAL.search(text) else "")
        # 部门决算 read backwards (算决门部): a PDF whose pages are turned upside down.
        turned = ("; its text reads backwards (算决门部): the PDF's pages are turned; turn them "
                  "upright and import that" if _BACKWARDS.search(text) and not _FORWARDS.search(text) else "")
        raise ImportError_(f"{name}: not a 部门决算/预算 report: could not find {'; nor '.join(missing)}"
                           f"{traditional}{turned}")
    if _PLACEHOLDER.search(res.department):
        raise ImportError_(f"{name}: a blank template, not a report: the department is the placeholder "
                           f"{res.department!r}; fill in the template or import the published report")
    if not readable_name(res.department):  # 株洲市芦淞区科技和工业信息化局; never 度
        raise ImportError_(f"{name}: the department's name reads {res.department!r}: the text is not readable as "
                           "it stands (pages rotated or turned, a scan, glyphs without their characters); "
                           "nothing was imported")


#: A table's printed note saying the report has no such income or expenditure (注：本单位无政府性基金
#: 预算财政拨款支出，故本表无数据).
_EMPTY_NOTE = re.compile(r"本表无数据|本表为空|无[^，。；]{0,30}(?:收入|支出)")

#: Statuses of a table the source holds (read or not): the figures a narrative states for it are
#: checked against it, and a note under it may say the report has none.
_IN_SOURCE = ("attached", "not_read")

#: Units without their figure a text may have before it is taken for a disordered one.
UNITS_WITHOUT_FIGURES_MAX = 2


def _require_figures_in_place(text: str, name: str) -> None:
    """Refuse a text whose figures are away from their units and subjects (a PDF's text extracted
    line by line: "年初预算为 万元，支出决算为 万元" and "85.55 84.65" on the next line): read as
    sentences, 84.65 became a figure in 元 and 450.52, a 年初预算, a 决算."""
    lines = units_without_figures(text)
    if len(lines) > UNITS_WITHOUT_FIGURES_MAX:
        shown = "; ".join(f"line {n}: {line[:40]}" for n, line in lines[:3])
        raise ImportError_(f"{name}: the text's figures are not beside their units ({len(lines)} lines with a unit and "
                           f"no figure before it, e.g. {shown}): text extracted from a PDF as its pages lay it out, "
                           "whose sentences cannot be read; import the PDF itself (opendata reads its text and tables), "
                           "or a text copied from it in a viewer")


#: The national template's placeholders (上海市 XX 局, XXX 万元).
_PLACEHOLDER = re.compile(r"X{2,}|Ｘ{2,}")


def _load_pdf_tables() -> Any | None:
    try:
        return importlib.import_module("opendata.ingest.pdf_tables")
    except ImportError:
        return None


def _code_class_lines(amounts: list[dict], classification: list[dict]) -> None:
    """Give tables 1 and 4's 类 lines (printed by name only) the code the report's own tables print.

    The code is then certain by name, not printed on that line: code_certainty is "high". Lines whose
    name matches no 类 of the report keep no code.
    """
    by_name = {c["name"]: c["code"] for c in classification
               if c.get("level") == "类" and c.get("scheme") == "支出功能分类"}
    for row in amounts:
        if row["table_no"] in (1, 4) and row["side"] == "支出" and not row.get("code"):
            code = by_name.get(row["item"])
            if code:
                row.update(code=code, line_key=code, code_certainty="high")


#: A report's id (as reports.csv's schema has it): it begins with a letter or digit, so that no
#: command line reads it as an option.
REPORT_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def _held_reports(package_dir: Path, resource: str = "reports") -> list[dict[str, Any]]:
    """The rows of the package's reports.csv (or another ``resource``'s; [] when there is none, or
    it cannot be read: the write that follows names the problem)."""
    try:
        package = load_package(package_dir, files_required=False)  # reports.csv, whatever else is missing
        return resource_rows(package, resource) if resource in package.resource_names else []
    except Exception:  # noqa: BLE001
        return []


def _department(package_dir: Path, department_id: str, named: str, source_name: str,
                warnings: list[str]) -> dict[str, Any]:
    """The departments row of the report's department: the package's own where it holds that
    department (its name as the package has it, corrected by hand, or the one a department renamed
    is filed under: a warning says so when the report names it otherwise), else one from the
    report's name (``named``)."""
    held = next((row for row in _held_reports(package_dir, "departments") if row.get("department_id") == department_id),
                None)
    if held is None:
        return _department_row(named, department_id)
    if held.get("name") != named:
        warnings.append(f"{source_name}: the report names its department {named}; the package's department "
                        f"{department_id} is named {held.get('name')}: kept (departments.csv)")
    return held


def check_source_url(url: str) -> str:
    """``url`` stripped, when it is an http(s) address of a host with no spaces or quotes in it
    (the site prints it as a link); ImportError_ otherwise."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed [ of an IPv6 address
        host = None
    if not host or parts.scheme not in ("http", "https") or re.search(r"[\s\"'<>\\]", url):
        raise ImportError_(f"--source-url {url!r}: give the address where the report is published, "
                           "beginning with http:// or https:// (no spaces or quotes)")
    return parts.scheme + url[len(parts.scheme):]  # HTTP:// as http://, as reports.csv's pattern reads it


def _keep_publishers_terms(report: dict[str, Any], held_rows: list[dict[str, Any]], source_url: str | None,
                           license_: str | None) -> None:
    """The report's ``source_url`` and ``license``: as given (``--source-url``, ``--license``), else,
    when this import replaces the report, what its previous import recorded (the address is not in
    the file; terms given by the publisher are not lost when the text states none)."""
    held = next((r for r in held_rows if r.get("report_id") == report["report_id"]), {})
    report["source_url"] = source_url or held.get("source_url") or None
    if license_:
        report["license"] = license_
    elif report["license"] == NOT_STATED and held.get("license"):
        report["license"] = held["license"]


def _refuse_another_report(held_rows: list[dict[str, Any]], report: dict[str, Any], file_name: str,
                           chosen_id: bool = False) -> str | None:
    """ImportError_ when the import would mix two reports up: the package holds a report of
    ``report``'s id that is not the same report (department, year and kind), whose rows it would
    replace (``--report-id``); or it holds the same report (the same file, or the same department,
    year and kind) under another id, which would put it in the database twice (its figures counted
    twice in report_totals, every line twice in year_on_year); or it holds this report from another
    file, which replaces it only when asked (``chosen_id``: its id given as ``--report-id``; a
    tester's first five pages of a report replaced the whole of it, with exit 0). Returns what is
    replaced, for the summary (None: nothing, or this very file again)."""
    this = (report["department_id"], report["year"], report["kind"])
    replaced = None
    for row in held_rows:
        held = (row.get("department_id"), row.get("year"), row.get("kind"))
        if row.get("report_id") == report["report_id"]:
            if held != this:
                raise ImportError_(
                    f"{file_name}: report id {report['report_id']!r} is already the package's report of "
                    f"{held[0]}, {held[1]} {held[2]}; importing {this[0]}, {this[1]} {this[2]} "
                    "under it would replace that report's rows: give another --report-id")
            if row.get("source_sha256") != report["source_sha256"]:
                if not chosen_id:
                    raise ImportError_(
                        f"{file_name}: the package already holds this report ({this[0]}, {this[1]} {this[2]}) as "
                        f"{report['report_id']!r}, imported from another file ({row.get('source_file')}, sha256 "
                        f"{str(row.get('source_sha256'))[:12]}...); to replace it with this one (a corrected "
                        f"version), import with --report-id {report['report_id']}; nothing was written")
                replaced = (f"replaces report {report['report_id']} imported from {row.get('source_file')} "
                            f"(sha256 {str(row.get('source_sha256'))[:12]}...): its rows are this file's now")
            continue
        same_file = row.get("source_sha256") == report["source_sha256"]
        if same_file and held[0] != this[0]:  # --department-id: the report moved to another department
            raise ImportError_(
                f"{file_name}: the package already holds this very file as report {row['report_id']!r} of "
                f"{held[0]}; to file it under {this[0]}, take that one out first (opendata remove "
                f"{row['report_id']}), then import it again; nothing was written")
        if same_file or held == this:
            why = "this very file" if same_file else f"the report of {this[0]}, {this[1]} {this[2]}"
            raise ImportError_(
                f"{file_name}: the package already holds {why} as report {row['report_id']!r}; a second copy "
                f"as {report['report_id']!r} would count it twice. To replace it (a corrected version), "
                f"import with --report-id {row['report_id']}; nothing was written")
    return replaced


def import_report(source: Path, package_dir: Path, *, report_id: str | None = None,
                  source_url: str | None = None, license: str | None = None,
                  department_id: str | None = None) -> ImportSummary:
    """Import one report file (UTF-8/GB18030 text or PDF) into the package at package_dir;
    ``source_url``: where its publisher published it; ``license``: the terms of use its publisher
    states (default: the sentence of the report that states them, else "not stated");
    ``department_id``: the department to file it under (default: one derived from the name the
    report gives, or the one the same file was imported under): a department renamed between two
    years is one department, compared year on year.

    Raises ImportError_ for a file that is not a report (empty, binary, or without year,
    department or the template's sections) and PackageError for an unreadable package.
    """
    source, package_dir = Path(source), Path(package_dir)
    if report_id is not None and not report_id.strip():
        raise ImportError_(f"{source.name}: --report-id is empty: give the id (lowercase ASCII letters, digits and "
                           "'-'), or leave the option out for the one derived from the report")
    chosen_id = report_id is not None
    for option, value in (("--report-id", report_id), ("--department-id", department_id)):
        if value is not None and not REPORT_ID.fullmatch(value):  # said before the file is read
            why = " (one beginning with - is read as options: `opendata remove -rf`)" if value.startswith("-") else ""
            raise ImportError_(f"{source.name}: {option} {value!r} must be lowercase ASCII letters, digits and "
                               f"'-', beginning with a letter or digit{why}")
    if source_url is not None:
        source_url = check_source_url(source_url)
    if license is not None and not (license := " ".join(license.split())):
        raise ImportError_(f"{source.name}: --license is empty: give the terms of use the publisher states")
    text, data, is_pdf = read_source(source)
    if not is_pdf:
        _require_figures_in_place(text, source.name)
    res = parse_narrative(text)
    _require_report(res, source.name, text)
    assert res.year and res.department and res.kind
    # The same file again: its rows replaced under the ids it was imported with (--report-id then:
    # without it the second import was refused as a second copy of the report).
    sha = hashlib.sha256(data).hexdigest()
    again = next((r for r in _held_reports(package_dir) if r.get("source_sha256") == sha and r.get("report_id")), {})
    department_id = department_id or again.get("department_id") or department_slug(res.department)
    # Its id kept where it stays with its department; filed under another (--department-id), it is
    # that department's report: its own id, and the copy under the old one is refused as such.
    if again.get("department_id") not in (None, department_id):
        again = {}
    report_id = report_id or again.get("report_id") or report_slug(department_id, res.year, res.kind)
    if not REPORT_ID.fullmatch(report_id):
        raise ImportError_(f"{source.name}: report id {report_id!r} must be lowercase ASCII letters, digits and '-', "
                           "beginning with a letter or digit")

    tables = None
    if is_pdf:
        module = _load_pdf_tables()
        if module is not None:
            tables = module.read_pdf_tables(source, report_id=report_id, edition=res.year)
            stated = stated_paths(tables.classification)
            if stated or tables.unreadable or tables.table_pages:
                # The narrative's 类(款)(项) paths take the codes the report's own tables print; the
                # tables' pages are not its sentences (their heading lost with a page turned or
                # scanned: 表6's items were 决算单位), nor is a page's text that reads backwards or
                # sideways (read_pdf_tables names those pages in a warning).
                res = parse_narrative(_without_pages(text, tables.unreadable), stated_codes=stated,
                                      table_pages=tables.table_pages)

    warnings = list(res.warnings)
    if garbled := _garbled(text):
        warnings.append(f"{source.name}: {garbled}")
    amounts = [dict(r) for r in res.amounts]
    unit = _report_unit(res)
    if res.kind == "预算":
        # The standard tables (and their measures) are the 部门决算 template's: a 部门预算's figures
        # are kept as statements, not put on 决算 table lines.
        if amounts:
            warnings.append(f"{len(amounts)} figures of this 部门预算 kept as statements only: the standard "
                            "tables are those of the 部门决算 template")
        amounts = []
    report_tables: list[dict] = []
    classification = classification_rows(res.paths, res.year)
    mismatches: list[str] = []
    tables_attached = False

    if is_pdf:
        if tables is None:
            warnings.append("pdf_tables module not available: attached tables not read")
        else:
            warnings.extend(tables.warnings)
            printed_units = [u for u in tables.units.values() if u in ("万元", "元")]
            if printed_units:
                unit = max(set(printed_units), key=printed_units.count)
            _to_unit(amounts, unit)
            table_rows = [dict(r) for r in tables.amounts]
            tables_attached = bool(table_rows or any(t.get("status") in _IN_SOURCE
                                                     for t in tables.report_tables))
            by_key = {(r["table_no"], r["side"], r["line_key"], r["measure"]): r for r in table_rows}
            # A line's name as its table prints it, for the narrative's figures of other columns of
            # that line (表7's 合计 预算数 read from the table, its 决算数 from the narrative's “三公”经费:
            # one line under two names, each found by a search for one of them only).
            printed = {key[:3]: r["item"] for key, r in by_key.items()}
            kept = []
            for row in amounts:
                key = (row["table_no"], row["side"], row["line_key"], row["measure"])
                table_row = by_key.get(key)
                attached = any(t["table_no"] == row["table_no"] and t.get("status") in _IN_SOURCE
                               for t in tables.report_tables)
                if table_row is not None:
                    if table_row.get("amount") is None or abs(Decimal(str(table_row["amount"])) - row["amount"]) > Decimal("0.005"):
                        mismatches.append(f"表{key[0]} {key[1]} {key[2]} {key[3]}: narrative {row['amount']} "
                                          f"({row['source_ref']}) vs table {table_row.get('amount')}")
                    if not table_row.get("explanation") and row.get("explanation"):
                        table_row["explanation"] = row["explanation"]
                else:
                    # Not in the attached table (not attached, no such column, or a blank cell):
                    # the narrative is the only source of the figure.
                    kept.append({**row, "item": printed.get(key[:3], row["item"])})
                    if attached:
                        warnings.append(f"表{key[0]} {key[2]} {key[3]} = {row['amount']}: stated in the narrative "
                                        f"({row['source_ref']}) but not read from the attached table; kept from the narrative")
            amounts = table_rows + kept
            report_tables = [dict(r) for r in tables.report_tables]
            for t in report_tables:  # a blank table whose printed note says the report has none: empty
                if (t["status"] in _IN_SOURCE and _EMPTY_NOTE.search(t.get("statement") or "")
                        and not any(a["table_no"] == t["table_no"] and a.get("amount") not in (None, 0)
                                    for a in amounts)):
                    t["status"] = "empty"
            stated = {r["classification_id"] for r in tables.classification}
            classification = list(tables.classification) + [c for c in classification
                                                            if c["classification_id"] not in stated]

    # A text holding the tables (a PDF's whole text, a web page's tables pasted): not read.
    in_text = {} if is_pdf or res.kind == "预算" else tables_in_text(text)
    if in_text:
        tables_attached = True
        warnings.append(f"the text holds the report's tables ({', '.join(f'表{n}' for n in sorted(in_text))}), which a "
                        "text import does not read: their figures come from the narrative's sentences only, and "
                        "report_tables says 'not_read'; import the PDF to read the tables")

    # report_tables: attached (from the PDF), empty (stated), in the text but not read, or not attached.
    by_no = {r["table_no"]: r for r in report_tables}
    for table_no, title in in_text.items():
        by_no.setdefault(table_no, {
            "report_id": report_id, "table_no": table_no, "status": "not_read", "title_as_printed": title,
            "statement": None, "source_page": None, "source_ref": "第二部分 部门决算表（文本中有此表，文本导入未读取）",
        })
    for table_no, (sentence, ref, page) in res.empty_tables.items():
        row = by_no.get(table_no)
        has_figures = any(a["table_no"] == table_no and a.get("amount") not in (None, 0) for a in amounts)
        if row is None or not has_figures:
            by_no[table_no] = {"report_id": report_id, "table_no": table_no, "status": "empty",
                               "title_as_printed": (row or {}).get("title_as_printed"), "statement": sentence,
                               "source_page": page, "source_ref": ref}
        else:
            warnings.append(f"表{table_no}: the narrative says it is empty ({ref}) but the attached table has figures")
    not_there = "（来源文件未附此表）" if is_pdf else "（文本中未见此表）" if in_text else "（文本来源未含附表）"
    # Tables of figures under no title known (pages turned...), and pages of the tables holding an
    # image only (a scan): the tables not found may be there.
    unread = sorted(set(tables.unread_pages)) if is_pdf and tables is not None else []
    textless = tables.pages_without_text() if is_pdf and tables is not None else []
    if unread or textless:
        said = ([f"原文第 {', '.join(map(str, unread))} 页的表格未能识别"] if unread else []) + \
               ([f"原文第 {', '.join(map(str, textless))} 页无文字（仅有图像）"] if textless else [])
        not_there = f"（{'，'.join(said)}，未读取）"
    for table_no in TABLE_NOS:
        by_no.setdefault(table_no, {
            "report_id": report_id, "table_no": table_no, "status": "not_read" if unread or textless else "not_attached",
            "title_as_printed": None, "statement": None, "source_page": min(unread + textless, default=None),
            "source_ref": "第二部分 部门决算表" + not_there,
        })
    report_tables = [by_no[k] for k in sorted(by_no)]
    if res.kind == "预算":
        # report_tables lists the 部门决算 template's nine tables: a 部门预算's own tables are others.
        report_tables = []
        warnings.append("report_tables lists the 部门决算 template's nine tables: none listed for this 部门预算")

    _to_unit(amounts, unit)

    # amounts: report id, line order, classification id.
    _code_class_lines(amounts, classification)

    line_no = _line_numbers(amounts)
    for row in amounts:
        row["report_id"] = report_id
        if row.get("line_no") is None:
            row["line_no"] = line_no[(row["table_no"], row["side"], row["line_key"])]
        if row.get("code") and not row.get("classification_id"):
            row["classification_id"] = classification_id(row["code"], res.year)
    known_ids = {c["classification_id"] for c in classification}
    for row in amounts:
        if row.get("classification_id") and row["classification_id"] not in known_ids:
            warnings.append(f"{row['classification_id']}: code without a classification row; link dropped")
            row["classification_id"] = None

    statements = []
    for s in res.statements:
        s = {k: v for k, v in s.items() if not k.startswith("_")}
        s["report_id"] = report_id
        if res.kind == "预算":
            s.update(table_no=None, line_key=None, measure=None)
        statements.append(s)
    projects = [{**p, "report_id": report_id} for p in res.projects]
    if not amounts and not statements and not projects:
        # A cover and a contents page (a PDF's first pages): imported, it was a report of nine tables
        # "not attached" and no figure, and its validation had nothing to say.
        raise ImportError_(f"{source.name}: no figure found, in tables or in the narrative (情况说明), though it "
                           f"names the report ({res.year}年度 {res.department} {res.kind}): is it the whole report, not "
                           "its cover or contents? Nothing was written")
    units = [{**u, "report_id": report_id, "unit_no": i} for i, u in enumerate(res.units, start=1)]

    report = {
        "report_id": report_id, "department_id": department_id, "year": res.year, "kind": res.kind,
        "title": res.title, "unit": unit, "source_file": source.name,
        "source_sha256": sha, "source_url": None,
        "tables_attached": tables_attached, "license": _license(text),
        "notes": ("来源文本含附表，文本导入未读取表格：表中数字仅取自情况说明的文字；导入 PDF 原件可读取附表。" if in_text
                  else None if tables_attached else "附表未包含在来源文件中：表中数字仅取自情况说明的文字。"),
    }
    rows = {
        "departments": [_department(package_dir, department_id, res.department, source.name, warnings)],
        "reports": [report],
        "report_tables": report_tables,
        "classification": classification,
        "amounts": amounts,
        "statements": statements,
        "projects": projects,
        "report_units": units,
    }
    # A resource without a file gets one (its header) first; then every CSV and the descriptor are
    # replaced together once all are written: a failed or interrupted import leaves the package as
    # it was, without the files it created.
    # The package's lock, exclusive: no other import, build or validation reads or writes it meanwhile.
    interrupted: KeyboardInterrupt | None = None
    with package_lock(package_dir, exclusive=True):
        created = create_missing_files(package_dir, report_id)
        held_rows = _held_reports(package_dir)
        stage = None
        try:
            _keep_publishers_terms(report, held_rows, source_url, license)
            if replaced := _refuse_another_report(held_rows, report, source.name, chosen_id=chosen_id):
                warnings.insert(0, replaced)
            held: dict[str, int] = {}
            with staged() as stage:
                written = replace_report_rows(package_dir, report_id, rows, stage=stage, keyed={
                    "departments": "department_id", "classification": "classification_id"}, removed=held)
                record_source(package_dir, {
                    "report_id": report_id, "title": res.title,
                    **({"path": report["source_url"]} if report["source_url"] else {}),
                    "description": f"{source.name} (sha256 {report['source_sha256']}); terms of use: "
                                   f"{report['license']}",
                }, stage)
            if replaced and (fewer := [f"{name} {written[name]} (were {held[name]})" for name in ("amounts", "statements")
                                       if held.get(name, 0) > written.get(name, 0)]):
                warnings.insert(1, f"the new version of report {report_id} has fewer rows than the one it replaces: "
                                   f"{', '.join(fewer)}; is it the whole report?")
        except OSError as exc:  # a full disk, a quota (the new versions are removed: staged)
            for path in created:
                path.unlink(missing_ok=True)
            raise PackageError(f"{package_dir}: cannot write the package's files ({exc.strerror or exc}); "
                               "nothing was written") from None
        except KeyboardInterrupt as exc:
            if stage is None or not stage.committed:
                for path in created:
                    path.unlink(missing_ok=True)
                raise
            interrupted = exc  # held back while the files were renamed: the report is in
        except BaseException:
            for path in created:
                path.unlink(missing_ok=True)
            raise
    if not statements:  # a report without its narrative's figures: its pages turned, scanned, cut off
        warnings.append(f"{source.name}: no figure was read from the narrative (情况说明): its pages may be turned "
                        "or scanned, or missing; the report's statements are empty and no narrative figure is checked")
    elif not any(a.get("amount") is not None for a in amounts) and not tables_attached:
        # A narrative whose every money figure is gone (若干万元): counts only, 0 errors, 0 warnings.
        warnings.append(f"{source.name}: no amount (万元) was read from the narrative, and the source has no "
                        "tables: the report's figures are counts only; is the text complete?")
    elif res.understood * 2 < len(statements) or len(res.skipped) > len(statements):
        # Most figures in no template sentence, numbers without units: words read out of order
        # (pages turned a quarter: 9 figures, 4 understood, 38 numbers without a unit).
        warnings.append(f"{source.name}: only {res.understood} of the narrative's {len(statements)} figures are in "
                        f"sentences of the template, and {len(res.skipped)} numbers have no unit: its text may be "
                        "garbled (pages turned, a scan); check its statements")
    # From here the report is in the package: an interrupt says so (it said "Aborted!").
    summary = None
    try:
        summary = ImportSummary(
            report_id=report_id, department=res.department, department_id=department_id, year=res.year,
            kind=res.kind, source_file=source.name, tables_attached=tables_attached,
            tables_found={r["table_no"]: r["status"] for r in report_tables if r["status"] != "not_attached"},
            rows_written=written, figures=len(statements), figures_understood=res.understood,
            figures_matched=sum(1 for s in statements if s.get("table_no")), table_mismatches=mismatches,
            not_understood=res.not_understood, unmapped_paths=sorted(set(res.unmapped_paths)),
            skipped_numbers=res.skipped, warnings=warnings,
        )
        if interrupted is not None:
            raise interrupted
        _validate(package_dir, summary)
    except KeyboardInterrupt as exc:
        if summary is not None:
            summary.warnings.append("interrupted after the report was written: it is imported, its validation did "
                                    "not finish (run `opendata validate`)")
        raise ImportInterrupted(summary, exc) from None
    return summary


def _validate(package_dir: Path, summary: ImportSummary) -> None:
    """Run the validator over the imported report and its department's other reports (the rules
    compare a report with the year before) and keep its findings about the imported report.

    A report with findings is still imported: the findings are data too. The validator sits after
    ingest in the flow (ingest -> package -> validate), so it is imported here, at the call.
    """
    try:
        from ..validate import department_reports, validate_reports

        checked = department_reports(package_dir, summary.report_id)
        result = validate_reports(package_dir, checked)
        summary.unchecked_reports = max(0, len(resource_rows(load_package(package_dir), "reports")) - len(checked))
    except OpenDataError as exc:
        summary.warnings.append(f"validation could not run: {exc}")
        return
    except OSError as exc:  # no room for its temporary copy (TMPDIR): the report is imported all the same
        summary.warnings.append(f"validation could not run ({exc.strerror or exc}: {getattr(exc, 'filename', '')}); "
                                "the report was imported: run `opendata validate` once there is room")
        return
    summary.validated = True
    summary.schema_problems = list(result.schema_problems)
    summary.schema_problem_count = result.schema_problem_count
    for f in result.findings:
        if f.report_id not in (summary.report_id, None):
            if f"vs report {summary.report_id}" in (f.row_ref or ""):  # a later year's, against this one
                summary.related_findings.append({
                    "report_id": f.report_id, "severity": f.severity, "rule_id": f.rule_id, "message": f.message_en,
                    "message_zh": f.message_zh, "source_ref": f.source_ref,
                })
            continue
        summary.findings.append({
            "severity": f.severity, "rule_id": f.rule_id, "message": f.message_en,
            "message_zh": f.message_zh, "source_ref": f.source_ref,
        })
    summary.findings.sort(key=lambda f: (f["severity"] != "error", f["rule_id"]))


_TO_YUAN = {"元": Decimal(1), "万元": Decimal(10000), "亿元": Decimal(100000000)}


#: The summary tables (表1, 表4), whose total and balance lines close each side, in this order.
SUMMARY_TABLES = (1, 4)
SUMMARY_CLOSING_LINES = [INCOME_TOTAL, EXPENDITURE_TOTAL, NON_FISCAL_BALANCE_USED, SURPLUS_DISTRIBUTION,
                         OPENING_BALANCE, CLOSING_BALANCE, GRAND_TOTAL]


def _line_numbers(amounts: list[dict]) -> dict[tuple, int]:
    """Each line's ``line_no`` (one for all its measures), by (table_no, side, line_key): the
    table's own; 表7's lines (the template's fixed ones: 合计, 因公出国（境）费 ... 公务接待费) their
    place in the template, as a table prints them; else, after the table's lines, in the order of a
    printed table: the lines without a code (合计...) as the narrative first names them, then the
    coded ones by code (a 类, its 款 and 项, the next 类), not in the narrative's order (its 类, then
    every 项); in 表1 and 表4 the totals and balances (本年收入合计 ... 总计) last, in the template's
    order (the narrative names 收、支总计 first)."""
    line_no = {(r["table_no"], r["side"], r["line_key"]): r["line_no"] for r in amounts if r.get("line_no") is not None}
    for row in amounts:
        key = (row["table_no"], row["side"], row["line_key"])
        if key not in line_no and row["table_no"] == 7 and row["line_key"] in THREE_PUBLIC_LINES:
            line_no[key] = THREE_PUBLIC_LINES.index(row["line_key"]) + 1
    last: dict[tuple, int] = {}
    for (table_no, side, _), no in line_no.items():
        last[(table_no, side)] = max(no, last.get((table_no, side), 0))
    named: dict[tuple, str | None] = {}  # in the order the narrative first names them
    for row in amounts:
        key = (row["table_no"], row["side"], row["line_key"])
        if key not in line_no and key not in named:
            named[key] = row.get("code") or None
    order = {key: i for i, key in enumerate(named)}

    def printed(key: tuple) -> tuple:
        code = named[key]
        if key[0] in SUMMARY_TABLES and code is None:
            closing = key[2].split("/")[0]
            if closing in SUMMARY_CLOSING_LINES:  # 本年收入合计 ... 总计: under the table's lines
                return 2, SUMMARY_CLOSING_LINES.index(closing), key[2], order[key]
        return (0, 0, "", order[key]) if code is None else (1, 0, code, order[key])
    for key in sorted(named, key=lambda k: (k[0], k[1], printed(k))):
        side_key = key[:2]
        last[side_key] = line_no[key] = last.get(side_key, 0) + 1
    return line_no


def _to_unit(amounts: list[dict], unit: str) -> None:
    """Narrative figures in the report's unit (exact: 元, 万元, 亿元 are powers of ten apart)."""
    for row in amounts:
        printed = row.pop("_unit", None)
        if printed and printed != unit and row.get("amount") is not None and printed in _TO_YUAN:
            row["amount"] = _rescale(Decimal(str(row["amount"])) * _TO_YUAN[printed] / _TO_YUAN[unit])


def _rescale(value: Decimal) -> Decimal:
    """A converted figure without trailing zeros beyond its cents (12345.600 -> 12345.6)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def _report_unit(res: NarrativeResult) -> str:
    """万元 or 元: the unit most of the narrative's table figures are printed in (万元 when none)."""
    units = [r.get("_unit") for r in res.amounts if r.get("_unit") in ("万元", "元")]
    if units and units.count("元") > units.count("万元"):
        return "元"
    return "万元"


#: The ``license`` of a report whose publisher states no terms of use.
NOT_STATED = "not stated"

_TERMS = re.compile(r"知识共享|CC[- ]BY|许可协议|使用条款|版权所有")


def _license(text: str) -> str:
    """The sentence (or line) of ``text`` that first states terms of use, or "not stated". Found
    by its words, then widened to the sentence: a pattern starting with ``[^。\n]*`` tried every
    position of a long line (a paragraph of 8,000 figures took 30 s)."""
    m = _TERMS.search(text)
    if not m:
        return NOT_STATED
    start = max(text.rfind("。", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
    ends = [i for i in (text.find("。", m.end()), text.find("\n", m.end())) if i >= 0]
    return text[start:min(ends, default=len(text))].strip()


def format_summary(summary: ImportSummary) -> str:
    """Human-readable report of an import (what the CLI prints)."""
    s = summary
    lines = [
        f"Imported {s.source_file} as {s.report_id}",
        f"  department: {s.department} ({s.department_id}), {s.year} {s.kind}",
        f"  tables attached: {'yes' if s.tables_attached else 'no'}"
        + (f"; tables found: {', '.join(f'{k} {v}' for k, v in sorted(s.tables_found.items()))}" if s.tables_found else ""),
        "  rows written: " + ", ".join(f"{k} {v}" for k, v in s.rows_written.items()),
        f"  narrative figures: {s.figures}, understood by a template pattern: {s.figures_understood}, "
        f"repeating a table figure: {s.figures_matched}",
    ]
    for heading, items in [
        ("narrative figures that differ from the attached tables", s.table_mismatches),
        ("classification paths without a code (left null)", s.unmapped_paths),
        ("sentences with numbers no template pattern understood", s.not_understood),
        ("numbers without a unit, not taken as figures", s.skipped_numbers),
        ("warnings", s.warnings),
    ]:
        if items:
            lines.append(f"  {heading} ({len(items)}):")
            lines += [f"    - {item}" for item in items]
    if s.schema_problems:
        count = max(s.schema_problem_count, len(s.schema_problems))
        lines.append(f"  validation: the package breaks its schema ({count} problems; rules not run):")
        lines += [f"    - {p}" for p in s.schema_problems]
        if count > len(s.schema_problems):
            lines.append(f"    ... and {count - len(s.schema_problems)} more")
    elif s.validated:
        errors = sum(1 for f in s.findings if f["severity"] == "error")
        warns = len(s.findings) - errors
        lines.append(f"  validation findings about this report: {errors} error{'s' * (errors != 1)}, "
                     f"{warns} warning{'s' * (warns != 1)}"
                     + (" (the report is imported; the findings are data too)" if s.findings else ""))
        for f in s.findings:
            where = f" [{f['source_ref']}]" if f.get("source_ref") else ""
            lines.append(f"    - {f['severity']} {f['rule_id']}: {f['message']}{where}")
        if s.unchecked_reports:
            lines.append(f"  not checked: the rows of the package's {s.unchecked_reports:,} "
                         f"report{'s' * (s.unchecked_reports != 1)} of other departments "
                         "(`opendata validate` of the package checks every row; `build` refuses a package whose "
                         "rows break its schema)")
        if s.related_findings:
            lines.append(f"  findings about the department's other reports that compare with this one "
                         f"({len(s.related_findings)}):")
            for f in s.related_findings:
                where = f" [{f['source_ref']}]" if f.get("source_ref") else ""
                lines.append(f"    - {f['report_id']}: {f['severity']} {f['rule_id']}: {f['message']}{where}")
    return "\n".join(lines)


__all__ = ["ImportSummary", "format_summary", "import_report", "OpenDataError"]
