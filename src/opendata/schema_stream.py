"""Streaming Table Schema checks: one pass over each CSV, problems named by file, row, field, rule."""

from __future__ import annotations

import codecs
import csv
import operator
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import frictionless
from frictionless import Package, Resource

from .csv_dialect import csv_dialect, separator_hint
from .errors import ProblemLine


# --- Streaming typed reader -------------------------------------------------------------------
#
# frictionless validates about 22k rows/s; a national corpus has millions of rows. This reader
# enforces the same Table Schema rules (header labels, missing and extra cells, blank rows, types,
# required, enum, pattern, minimum/maximum, minLength/maxLength, unique, primaryKey, foreignKeys)
# in one streaming pass with memory that does not grow with the row count (keys are kept as
# hashes, verified exactly on a second pass only when a duplicate is suspected). Its findings
# carry frictionless's rule names (type-error, constraint-error, primary-key, foreign-key,
# missing-cell, extra-cell, blank-row, missing-label, extra-label, incorrect-label,
# encoding-error, source-error) and the same row numbers (header = row 1); tests compare both
# on broken files. Stricter than frictionless in one respect: a number that is not finite
# (NaN, Infinity) or absurd (|x| >= 1e10, more than any budget in 万元) is refused
# (rule: number-range), and a negative amount is refused outside balance lines
# (rule: amount-nonnegative). Resources it does not support (other formats, other field types)
# are read through frictionless itself.

#: Field types and constraints the streaming reader implements itself.
_FAST_TYPES = {"string", "integer", "number", "boolean"}
_FAST_CONSTRAINTS = {"required", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "unique"}
#: Lines whose amount may be negative (balances and adjustments can be).
BALANCE_LINES = {"年初结转和结余", "年末结转和结余", "结余分配", "使用非财政拨款结余", "年初财政拨款结转和结余",
                 "年末财政拨款结转和结余"}
ABSURD = 1e10
MAX_PROBLEMS = 1000
_BARE = re.compile(r"((^[^-\d]*)|(\D*$))")
#: Minus signs other than "-": the typographic minus (U+2212), the full-width one, hyphens and dashes.
_OTHER_MINUS = "\u2212\uff0d\u2010\u2011\u2012\u2013\u2014\ufe63"
#: Numbers ``bareNumber: false`` would misread, refused here: a decimal point with no digit before it
#: (".5", "¥.5": frictionless strips the point with the other leading characters and reads 5), a
#: figure in parentheses ("(12.5)", "（12.5）": accounting's negative, read as 12.5), and a minus
#: sign frictionless strips with the characters around the figure ("−12.5", "－12.5", "12.5-":
#: read as 12.5).
_MISREAD = re.compile(rf"^[^-\d]*\.\d|^[(（].*\d.*[)）]$|^[^\d]*[{_OTHER_MINUS}]|\d[^\d]*[-{_OTHER_MINUS}][^\d]*$")
_OTHER_MINUS_FIRST = re.compile(rf"^[^\d]*[{_OTHER_MINUS}]|\d[^\d]*[-{_OTHER_MINUS}][^\d]*$")
_FULLWIDTH = re.compile(r"[\uff01-\uff5e\u3000]")
#: Full-width digits, Latin letters and full stop: a figure or code typed with a Chinese input method.
_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0e]")
#: A figure as opendata reads it: ASCII digits only. Python's int() and float() also take other
#: scripts' digits (full-width １２３, Arabic-Indic ١٢٣) and underscores (1_000), which no CSV of
#: figures means; NaN and infinities are let through to be refused as implausible (number-range).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.IGNORECASE)
#: What ``bareNumber: false`` may strip before a figure: spaces and a currency sign.
_CURRENCY = re.compile(r"[\s¥￥$]*")
_LEADING = re.compile(r"^[^-\d]*")
_TRAILING = re.compile(r"\D*$")
#: A byte the declared encoding cannot decode, read with ``surrogateescape``; a NUL character.
_SURROGATE = re.compile("[\udc80-\udcff]")
_NUL = re.compile("\x00")


def first_cell_with(path: Path, enc: str, dialect: Any, names: list[str],
                    pattern: re.Pattern[str]) -> tuple[int | None, str | None]:
    """The row number (the header is row 1) and field of the first cell of the CSV at ``path`` in
    which ``pattern`` is found (a field of None: the header, or a cell beyond the schema's), or
    (None, None). Bytes ``enc`` cannot decode are read as lone surrogates (``surrogateescape``,
    which decoding never makes of a file it reads: ``_SURROGATE`` finds them)."""
    with open(path, encoding=enc, errors="surrogateescape", newline="") as fh:
        for row_no, cells in enumerate(csv.reader(fh, dialect=dialect), start=1):
            for i, cell in enumerate(cells):
                if pattern.search(cell):
                    return row_no, (names[i] if row_no > 1 and i < len(names) else None)
    return None, None


def holds_nul(path: Path, enc: str) -> bool:
    """Whether the file holds a NUL character once decoded (no CSV text does: a damaged file, or
    binary data). Its bytes are searched where a NUL byte can only be a NUL character (every
    encoding but UTF-16 and UTF-32, in which it is half of most characters)."""
    if not codecs.lookup(enc).name.startswith(("utf-16", "utf-32")):
        with open(path, "rb") as fb:
            return any(b"\x00" in block for block in iter(lambda: fb.read(1 << 20), b""))
    try:
        with open(path, encoding=enc, errors="replace", newline="") as fh:
            return any("\x00" in block for block in iter(lambda: fh.read(1 << 19), ""))
    except UnicodeError:  # the codec's own (UTF-16 without its mark): the reader says so
        return False


class Problem(NamedTuple):
    """One way the data breaks its schema: file, row, field, rule and what is wrong."""

    file: str
    row: int | None
    field: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.message} (rule: {self.rule})"


class ProblemLog:
    """Problems of a package read, capped in memory (the count keeps going)."""

    def __init__(self, cap: int = MAX_PROBLEMS) -> None:
        self.items: list[Problem] = []
        self.count = 0
        self.cap = cap

    def add(self, *args: Any) -> None:
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append(Problem(*args))

    def lines(self) -> list[str]:
        """Each problem's line (a ``ProblemLine``, its parts kept): the first ``cap`` of ``count``."""
        return [ProblemLine(str(p), file=p.file, row=p.row, field=p.field, rule=p.rule, message=p.message)
                for p in self.items]


_call = getattr(operator, "call", lambda f, c: f(c))


def _getter(idx: list[int]) -> Callable[[tuple], tuple]:
    if len(idx) == 1:
        i = idx[0]
        return lambda v: (v[i],)
    return operator.itemgetter(*idx)


class _Bad(Exception):
    def __init__(self, rule: str, note: str, value: Any = None) -> None:
        self.rule, self.note, self.value = rule, note, value


def python_encoding(encoding: str | None) -> str:
    """The codec to read a declared encoding with: GBK and GB2312 are read as GB18030 (a superset),
    UTF-8 tolerates a byte-order mark."""
    enc = (encoding or "utf-8").lower().replace("_", "-")
    if enc in ("gbk", "gb2312", "gb-2312", "cp936", "gb18030", "euc-cn"):
        return "gb18030"
    if enc in ("utf-8", "utf8", "utf-8-sig"):
        return "utf-8-sig"
    codecs.lookup(enc)  # LookupError for an unknown encoding
    return enc


def looks_binary(head: bytes, encoding: str) -> bool:
    """Whether the first bytes of a file are not text in its declared encoding: a PDF, or NUL
    characters once decoded (a NUL byte is text in UTF-16 and UTF-32: "Unicode text" saved by
    Excel is UTF-16, tab-separated)."""
    if head.startswith(b"%PDF"):
        return True
    if b"\x00" not in head:
        return False
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    except (LookupError, UnicodeError):
        return True
    # A NUL or two is damage in a text file (``holds_nul`` names its row); many, binary data.
    return text.count("\x00") > 2


def _binary_hint(head: bytes, encoding: str) -> str:
    """What a file taken for binary data may be instead: UTF-16 text (Excel's "Unicode text")
    declared as something else."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not encoding.startswith("utf-16"):
        return ('; it starts with a UTF-16 byte-order mark (Excel\'s "Unicode text"): declare "encoding": "utf-16"'
                ' (and "format": "tsv" if it is tab-separated)')
    return ""


def _shown(raw: str, limit: int = 80) -> str:
    """A cell as a message quotes it, on one line (a line end as ↵): the first ``limit`` characters
    of a long one, and its length."""
    shown = raw if len(raw) <= limit else f"{raw[:limit]}… ({len(raw):,} characters)"
    return shown.replace("\r\n", "↵").replace("\n", "↵").replace("\r", "↵")


def _hint(raw: str) -> str:
    hints = []
    if "\n" in raw:  # a quote opened and not closed reads the lines after it into the cell
        hints.append(f"the cell runs over {raw.count(chr(10)) + 1} lines: a quote (\") opened in it may not be "
                     "closed, and the rows after it read into it")
        return f" ({hints[0]})"  # the rows it holds: their figures are not this cell's
    # Full-width brackets and commas are Chinese text's own (决算单位（本级）): the hint is for figures.
    if _FULLWIDTH_ALNUM.search(raw) or (_FULLWIDTH.search(raw) and any(ch.isdigit() for ch in raw)):
        hints.append("it contains full-width characters; use half-width digits and punctuation")
    elif any(ch.isdecimal() and not ch.isascii() for ch in raw):
        hints.append("it contains digits other than 0-9; write the figure with 0-9")
    if "_" in raw and any(ch.isdecimal() for ch in raw):
        hints.append("an underscore is not read as a digit separator; write 1234, not 1_234")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", raw.strip()):
        hints.append("thousands separators are not allowed (or declare groupChar \",\")")
    if _OTHER_MINUS_FIRST.search(raw.strip()):
        hints.append("a minus sign other than \"-\" before the digits (or one after them): write -12.5")
    elif _MISREAD.match(raw.strip()):
        hints.append("a figure in parentheses may be a negative one: write -12.5 or 12.5" if raw.strip()[0] in "(（"
                     else "a decimal point with no digit before it: write 0.5, not .5")
    return f" ({'; '.join(hints)})" if hints else ""


def _caster(field: Any, missing: set[str]) -> Callable[[str], Any]:
    """A function raw cell -> typed value (None when missing) that raises _Bad on a broken cell."""
    ftype = field.type
    cons = field.constraints or {}
    required = bool(cons.get("required"))
    desc = field.to_descriptor()

    def type_note() -> str:
        return f'type is "{ftype}/{field.format or "default"}"'

    unit = str(desc.get("unit", "")).strip()

    def strip_text(c: str) -> str:
        """``c`` without what ``bareNumber: false`` strips, refused where that is more than spaces,
        a currency sign before the figure and the field's own unit after it (``12元`` or ``12%`` in
        a field of 万元 would be read as 12 万元)."""
        if _MISREAD.search(c) or not any(ch.isdigit() for ch in c):  # no figure at all: a word
            raise _Bad("type-error", type_note())
        lead, trail = _LEADING.match(c).group(), _TRAILING.search(c).group()
        if not _CURRENCY.fullmatch(lead) or trail.strip().removeprefix(".").strip() not in ("", unit):  # "5." is 5
            text = " and ".join(f'"{t.strip()}"' for t in (lead, trail) if t.strip())
            raise _Bad("type-error", f"{type_note()}; the figure carries text ({text}) other than a currency "
                       "sign before it" + (f" and its unit ({unit}) after it" if unit else "")
                       + ": a figure in another unit, or a percentage, is not this field's")
        return _BARE.sub("", c)

    if ftype == "string":
        def read(c: str) -> Any:
            return c
    elif ftype == "integer":
        bare = desc.get("bareNumber", True)

        def read(c: str) -> Any:
            c = c.strip()
            if not bare:
                c = strip_text(c)
            if not _INTEGER.fullmatch(c):
                raise _Bad("type-error", type_note())
            return int(c)
    elif ftype == "number":
        processed = bool({"groupChar", "decimalChar", "bareNumber"} & desc.keys())
        bare = desc.get("bareNumber", True)
        group, decimal = desc.get("groupChar", ""), desc.get("decimalChar", ".")

        def read(c: str) -> Any:
            c = c.strip()
            if processed:
                if not bare and c and not ((c[0] == "-" or c[0].isdecimal()) and c[-1].isdecimal()):
                    c = strip_text(c)
                if group:
                    c = c.replace(group, "")
                if decimal != ".":
                    if "." in c:
                        raise _Bad("type-error", type_note())
                    c = c.replace(decimal, ".")
            if not _DECIMAL.fullmatch(c):
                raise _Bad("type-error", type_note())
            v = float(c)
            if not (-ABSURD < v < ABSURD):  # also NaN and infinities
                raise _Bad("number-range", f"{v} is not a plausible amount (finite, below {ABSURD:.0e} in absolute value)")
            return v
    elif ftype == "boolean":
        mapping = {**{v: True for v in field.true_values}, **{v: False for v in field.false_values}}

        def read(c: str) -> Any:
            try:
                return mapping[c]
            except KeyError:
                raise _Bad("type-error", type_note()) from None
    else:  # pragma: no cover - guarded by _supported
        raise ValueError(ftype)

    checks: list[tuple[str, Callable[[Any], bool]]] = []
    if "enum" in cons:
        allowed = {read(str(v)) if not isinstance(v, (int, float, bool)) or ftype == "string" else v for v in cons["enum"]}
        checks.append(("enum", allowed.__contains__))
    if "pattern" in cons:
        match = re.compile("^{0}$".format(cons["pattern"])).match
        checks.append(("pattern", lambda v: match(v) is not None))
    for name, op in (("minimum", operator.ge), ("maximum", operator.le)):
        if name in cons:
            bound = cons[name] if not isinstance(cons[name], str) else read(cons[name])
            checks.append((name, lambda v, b=bound, op=op: v == v and op(v, b)))
    if "minLength" in cons:
        checks.append(("minLength", lambda v, n=cons["minLength"]: len(v) >= n))
    if "maxLength" in cons:
        checks.append(("maxLength", lambda v, n=cons["maxLength"]: len(v) <= n))

    only_empty_missing = missing == {""}
    if ftype == "string" and not checks and not required:
        if only_empty_missing:
            return lambda c: c or None
        return lambda c: None if c in missing else c

    def slow(c: str) -> Any:
        if (not c) if only_empty_missing else (c in missing):
            if required:
                raise _Bad("constraint-error", 'constraint "required" is "True"')
            v = None
        else:
            v = read(c)
            for name, ok in checks:
                if not ok(v):
                    raise _Bad("constraint-error", f'constraint "{name}" is "{cons[name]}"', v)
        if cacheable and len(good) < 100_000:
            good[c] = v
        return v

    cacheable = False
    if ftype == "number" and not checks:
        return slow
    # Codes, ids, table and line numbers repeat a lot: remember the values already checked.
    cacheable = True
    good: dict[str, Any] = {}
    get = good.get
    miss = object()

    def cast(c: str) -> Any:
        v = get(c, miss)
        return slow(c) if v is miss else v

    return cast


def _supported(resource: Resource) -> bool:
    """Whether opendata's readers read the resource (a CSV file in a dialect they follow, fields of
    the types and constraints they check); otherwise frictionless's reader does."""
    if isinstance(resource.path, list) or resource.path is None or csv_dialect(resource) is None:
        return False
    for f in resource.schema.fields:
        if f.type not in _FAST_TYPES or (f.type == "string" and f.format not in (None, "default")):
            return False
        if set(f.constraints or {}) - _FAST_CONSTRAINTS:
            return False
    return True


def _resource_file(resource: Resource) -> Path:
    return Path(resource.basepath or ".") / resource.path


class _Keys:
    """Keys seen in one resource for uniqueness or reference: exact when small, hashed when large."""

    def __init__(self) -> None:
        self.hashes: set[int] = set()

    def add(self, key: tuple) -> bool:
        h = hash(key)
        if h in self.hashes:
            return False
        self.hashes.add(h)
        return True


class PackageReader:
    """Reads every resource of a package in order, checking its schema as it streams."""

    def __init__(self, package: Package, log: ProblemLog | None = None, *, pk_in_sink: bool = False) -> None:
        self.package = package
        self.pk_in_sink = pk_in_sink
        self.log = log or ProblemLog()
        names = [r.name for r in package.resources]
        # Referenced (resource, fields) -> set of keys, filled as the resource is read.
        self.ref_keys: dict[tuple[str, tuple[str, ...]], set[tuple]] = {}
        for r in package.resources:
            for fk in r.schema.foreign_keys if r.schema else []:
                target = fk["reference"].get("resource") or r.name
                if target in names:
                    self.ref_keys[(target, tuple(fk["reference"]["fields"]))] = set()
        self.deferred: list[tuple[str, str, int, tuple[str, ...], tuple, str, tuple[str, ...]]] = []
        self.read: set[str] = set()
        # Resources whose rows could not be read (a header that is not the schema's, a file that is
        # empty, binary or not in its encoding): references into them are not checked (their keys
        # are unknown), and said so once per referring file, not once per row (816 false problems).
        self.unreadable: set[str] = set()
        self._unchecked: set[tuple[str, str]] = set()

    # Rows -------------------------------------------------------------------------------------
    def rows(self, resource: Resource) -> Iterator[tuple]:
        """Typed tuples (field order) of the rows without problems; problems go to the log."""
        schema = resource.schema
        names = [f.name for f in schema.fields]
        place = str(resource.path)
        pk_idx = [names.index(n) for n in schema.primary_key if n in names]
        pk_get = _getter(pk_idx) if pk_idx and not self.pk_in_sink else None
        pk_seen, pk_suspects = _Keys(), []
        unique = [(i, f.name, _Keys()) for i, f in enumerate(schema.fields) if (f.constraints or {}).get("unique")]
        collect = [(self.ref_keys[key], _getter([names.index(n) for n in key[1]]))
                   for key in self.ref_keys if key[0] == resource.name]
        fks = []
        for fk in schema.foreign_keys:
            target = fk["reference"].get("resource") or resource.name
            fields = tuple(fk["fields"])
            ref_fields = tuple(fk["reference"]["fields"])
            fks.append((target, fields, _getter([names.index(n) for n in fields if n in names]), ref_fields))
        amount_idx = names.index("amount") if "amount" in names and resource.name in ("amounts", "projects") else None
        line_idx = names.index("line_key") if "line_key" in names else None
        source = self._typed_fast(resource, names) if _supported(resource) else self._typed_frictionless(resource)
        for row_no, vals, ok in source:
            if pk_get:
                key = pk_get(vals)
                if None not in key and not pk_seen.add(key):
                    pk_suspects.append((row_no, key))
                    continue
            # Every row's keys count for references, broken or not, as in frictionless.
            for keys, get in collect:
                keys.add(get(vals))
            if not ok:
                continue
            bad = False
            for i, fname, seen in unique or ():
                if vals[i] is not None and not seen.add((vals[i],)):
                    self.log.add(place, row_no, fname, "unique-error", f'value "{vals[i]}" is not unique')
                    bad = True
            if amount_idx is not None and vals[amount_idx] is not None and vals[amount_idx] < 0 and (
                    line_idx is None or vals[line_idx] not in BALANCE_LINES):
                self.log.add(place, row_no, "amount", "amount-nonnegative",
                             f"negative amount {vals[amount_idx]}: only balance lines may be negative")
                bad = True
            for target, fields, get, ref_fields in fks:
                key = get(vals)
                if None in key:
                    continue
                keys = self.ref_keys.get((target, ref_fields))
                if target in self.unreadable and target in self.read:
                    self._not_checked(place, fields, target)
                elif keys is None:
                    self.log.add(place, row_no, ",".join(fields), "foreign-key",
                                 f'the reference to resource "{target}" cannot be checked: no such resource')
                    bad = True
                elif key not in keys:
                    if target in self.read:
                        self._fk_problem(place, row_no, fields, key, target, ref_fields)
                        bad = True
                    else:  # the referenced resource is read later (or is this one): check at the end
                        self.deferred.append((place, resource.name, row_no, fields, key, target, ref_fields))
            if not bad:
                yield vals
        if pk_suspects:
            self._verify_duplicates(resource, names, pk_idx, pk_suspects)
        self.read.add(resource.name)

    def check_primary_key(self, resource: Resource) -> None:
        """A pass of its own over one resource for duplicate keys (after the sink found some)."""
        names = [f.name for f in resource.schema.fields]
        pk_idx = [names.index(n) for n in resource.schema.primary_key if n in names]
        get, seen, suspects = _getter(pk_idx), _Keys(), []
        source = self._typed_fast(resource, names, log=False) if _supported(resource) else \
            self._typed_frictionless(resource, log=False)
        for row_no, vals, _ok in source:
            key = get(vals)
            if None not in key and not seen.add(key):
                suspects.append((row_no, key))
        if suspects:
            self._verify_duplicates(resource, names, pk_idx, suspects)

    def _fk_problem(self, place: str, row_no: int, fields: tuple[str, ...], key: tuple, target: str,
                    ref_fields: tuple[str, ...]) -> None:
        values = ", ".join(str(v) for v in key)
        self.log.add(place, row_no, ",".join(fields), "foreign-key",
                     f'for "{", ".join(fields)}": values "{values}" not found in the lookup table "{target}" '
                     f'as "{", ".join(ref_fields)}"')

    def _not_checked(self, place: str, fields: tuple[str, ...], target: str) -> None:
        """Once per referring file: its references into the unreadable ``target`` are not checked."""
        if (place, target) in self._unchecked:
            return
        self._unchecked.add((place, target))
        target_place = next((str(r.path) for r in self.package.resources if r.name == target), target)
        self.log.add(place, None, ",".join(fields), "foreign-key",
                     f'references to resource "{target}" not checked: {target_place} could not be read '
                     "(its own problems say why)")

    def finish(self) -> None:
        """Check references that could not be checked while streaming."""
        for place, _name, row_no, fields, key, target, ref_fields in self.deferred:
            if target in self.unreadable:
                self._not_checked(place, fields, target)
            elif key not in self.ref_keys.get((target, ref_fields), set()):
                self._fk_problem(place, row_no, fields, key, target, ref_fields)
        self.deferred.clear()

    def _verify_duplicates(self, resource: Resource, names: list[str], pk_idx: list[int],
                           suspects: list[tuple[int, tuple]]) -> None:
        """Second pass, only when a duplicate key was suspected: exact first positions."""
        wanted = {key for _, key in suspects}
        first: dict[tuple, int] = {}
        source = self._typed_fast(resource, names, log=False) if _supported(resource) else \
            self._typed_frictionless(resource, log=False)
        for row_no, vals, _ok in source:
            key = tuple(vals[i] for i in pk_idx)
            if key in wanted and key not in first:
                first[key] = row_no
        for row_no, key in suspects:
            if first.get(key, row_no) < row_no:
                self.log.add(str(resource.path), row_no, ",".join(resource.schema.primary_key), "primary-key",
                             f"the same as in the row at position {first[key]} "
                             f"(key {', '.join(str(k) for k in key)})")
            # else: a hash collision, not a duplicate (the row was skipped: count it as a problem)
            else:
                self.log.add(str(resource.path), row_no, None, "primary-key",
                             "row skipped by a hash collision on its key; please report this")

    def _typed_fast(self, resource: Resource, names: list[str], log: bool = True) -> Iterator[tuple[int, tuple]]:
        add = self.log.add if log else (lambda *a: None)
        place = str(resource.path)
        if log:  # until its rows are read to the end
            self.unreadable.add(resource.name)
        path = _resource_file(resource)
        schema = resource.schema
        missing = set(schema.missing_values)
        try:
            enc = python_encoding(resource.encoding)
        except LookupError:
            add(place, None, None, "encoding-error", f'unknown encoding "{resource.encoding}"')
            return
        casts = [_caster(f, set(f.missing_values) if f.has_defined("missing_values") else missing)
                 for f in schema.fields]
        n = len(names)
        dialect = csv_dialect(resource)
        with open(path, "rb") as fb:
            head = fb.read(8192)
        if not head:
            add(place, None, None, "source-error", "the file is empty (no header row)")
            return
        if looks_binary(head, enc):
            add(place, None, None, "encoding-error", "binary data, not a CSV text file" + _binary_hint(head, enc))
            return
        if holds_nul(path, enc):  # a NUL or two in a text file: a damaged file, named where it is
            try:
                nul_row, nul_field = first_cell_with(path, enc, dialect, names, _NUL)
            except (UnicodeError, csv.Error):
                nul_row, nul_field = None, None
            add(place, nul_row, nul_field, "encoding-error",
                "a NUL character (no CSV text holds one: the file is damaged, or not text)")
            return
        row_no = 1
        try:
            with open(path, encoding=enc, newline="", errors="strict") as fh:
                reader = csv.reader(fh, dialect=dialect)
                labels = next(reader, None)
                if labels is None:
                    add(place, None, None, "source-error", "the file is empty (no header row)")
                    return
                header_ok = True
                for i, name in enumerate(names):
                    if i >= len(labels):
                        add(place, None, name, "missing-label", f'column "{name}" is missing from the header')
                        header_ok = False
                    elif labels[i] != name:
                        add(place, None, name, "incorrect-label",
                            f'label "{labels[i]}" at position {i + 1} does not match the field name "{name}"'
                            + (separator_hint(labels, names) if i == 0 else ""))
                        header_ok = False
                for i in range(n, len(labels)):
                    add(place, None, labels[i] or None, "extra-label", f'extra column "{labels[i]}" at position {i + 1}')
                    header_ok = False
                if not header_ok:
                    return
                for cells in reader:
                    row_no += 1
                    if len(cells) == n:
                        try:
                            yield row_no, tuple(map(_call, casts, cells)), True
                            continue
                        except _Bad:
                            pass
                    if not any(cells):
                        add(place, row_no, None, "blank-row", "the row is blank")
                        continue
                    vals, bad = [], False
                    for i, f in enumerate(casts):
                        if i >= len(cells):
                            add(place, row_no, names[i], "missing-cell", "the row has no cell for this field")
                            bad = True
                            c = ""
                        else:
                            c = cells[i]
                        try:
                            vals.append(f(c))
                        except _Bad as exc:
                            add(place, row_no, names[i], exc.rule, f'value "{_shown(c)}": {exc.note}{_hint(c)}')
                            vals.append(exc.value)
                            bad = True
                    for i in range(n, len(cells)):
                        add(place, row_no, None, "extra-cell", f'extra cell "{cells[i]}" at position {i + 1}')
                        bad = True
                    yield row_no, tuple(vals), not bad
            self.unreadable.discard(resource.name)
        except UnicodeError as exc:  # a decoding error, or a codec's own (UTF-16 without its mark)
            # The text is decoded by blocks, ahead of the rows read: the row is where the bytes are.
            bad_row, bad_field = (first_cell_with(path, enc, dialect, names, _SURROGATE)
                                  if isinstance(exc, UnicodeDecodeError) else (None, None))
            other = ('if the file is UTF-8, declare "encoding": "utf-8"' if enc == "gb18030" else
                     'if the file is GBK/GB18030, declare "encoding": "gbk"')  # the other encoding Chinese files come in
            add(place, bad_row or row_no + 1, bad_field, "encoding-error",
                f"cannot be decoded as {resource.encoding or 'utf-8'} ({getattr(exc, 'reason', exc)}); {other} "
                "in the resource")  # the encoding as declared (utf-8 said utf-8-sig, the codec that reads it)
        except csv.Error as exc:
            add(place, row_no + 1, None, "format-error", f"malformed CSV ({exc})")

    def _typed_frictionless(self, resource: Resource, log: bool = True) -> Iterator[tuple[int, tuple]]:
        add = self.log.add if log else (lambda *a: None)
        place = str(resource.path)
        names = [f.name for f in resource.schema.fields]
        if log:  # until its rows are read to the end
            self.unreadable.add(resource.name)
        try:
            with resource:
                for row in resource.row_stream:
                    cell_errors = [e for e in row.errors if e.type not in ("primary-key", "foreign-key", "unique-error")]
                    for e in cell_errors:
                        add(place, row.row_number, getattr(e, "field_name", None) or None, e.type, e.note or e.message)
                    yield row.row_number, tuple(_plain(row[n]) for n in names), not cell_errors
            if log:
                self.unreadable.discard(resource.name)
        except frictionless.FrictionlessException as exc:
            if exc.error.message.startswith("Please install"):  # a format frictionless needs a plugin for
                add(place, None, None, "format-error",
                    f'declared "format": "{resource.format}", which opendata does not read ({exc.error.message}); '
                    'opendata reads CSV files: "format": "csv" or "tsv"')
            else:
                add(place, None, None, exc.error.type, exc.error.message)
        except (OSError, UnicodeError, ValueError) as exc:
            add(place, None, None, "source-error", str(exc))


def read_package(package: Package, sink: Callable[[Resource, Iterator[tuple]], int | None] | None = None, *,
                 pk_in_sink: bool = False) -> ProblemLog:
    """Stream every resource once, checking the schema; ``sink(resource, rows)`` consumes the rows
    (typed tuples in field order, rows with problems left out). Returns the problems.

    With ``pk_in_sink`` the sink enforces primary keys itself (SQLite's PRIMARY KEY with
    INSERT OR IGNORE) and returns how many rows it kept: memory stays flat however many keys there
    are, and only when rows were dropped is the resource read again to name the duplicates.
    """
    reader = PackageReader(package, pk_in_sink=pk_in_sink)
    for resource in package.resources:
        if not resource.schema or not resource.schema.fields:
            reader.log.add(str(resource.path), None, None, "schema-error", f"resource {resource.name} has no schema fields")
            continue
        counter = [0]

        def counted(rows: Iterator[tuple], counter: list[int] = counter) -> Iterator[tuple]:
            for row in rows:
                counter[0] += 1
                yield row

        rows = counted(reader.rows(resource))
        kept = sink(resource, rows) if sink is not None else None
        for _ in rows:  # whatever the sink left unread
            pass
        if pk_in_sink and kept is not None and kept < counter[0]:
            reader.check_primary_key(resource)
    reader.finish()
    return reader.log


def _plain(value: Any) -> Any:
    """frictionless's Decimal as the float SQLite stores."""
    if isinstance(value, Decimal):
        return float(value)
    return value
