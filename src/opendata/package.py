"""Open, check and write the data package (a Frictionless Data Package of CSV resources).

Reading stays inside the package folder: a resource whose path is absolute, climbs out with
``..`` or is a URL is refused unless the caller passes ``allow_remote=True``.
"""

from __future__ import annotations

import codecs
import csv
import json
import operator
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import frictionless
from frictionless import Package, Resource

from .errors import PackageError

DESCRIPTOR = "datapackage.json"


def descriptor_path(path: str | os.PathLike[str]) -> Path:
    """The datapackage.json of a package given as its folder or its descriptor."""
    p = Path(path)
    if p.is_dir():
        p = p / DESCRIPTOR
    if not p.exists():
        raise PackageError(f"{p}: no such data package (expected a folder with {DESCRIPTOR})")
    return p


def _check_paths(descriptor: dict[str, Any], base: Path, source: Path, allow_remote: bool) -> None:
    problems = []
    for i, res in enumerate(descriptor.get("resources", [])):
        name = res.get("name", f"#{i + 1}")
        paths = res.get("path")
        for rp in paths if isinstance(paths, list) else [paths]:
            if rp is None:
                continue
            if not isinstance(rp, str):
                problems.append(f"resource {name}: path must be a string")
            elif "://" in rp:
                if not allow_remote:
                    problems.append(f"resource {name}: path {rp!r} is a URL; remote data is not fetched (rule: local-only)")
            elif os.path.isabs(rp) or ".." in Path(rp).parts:
                problems.append(f"resource {name}: path {rp!r} points outside the package (rule: safe-path)")
            elif not (base / rp).resolve().is_relative_to(base.resolve()):
                problems.append(f"resource {name}: path {rp!r} leaves the package through a link (rule: safe-path)")
            elif not (base / rp).is_file():
                problems.append(f"resource {name}: file {rp} does not exist (rule: resource-exists)")
    if problems:
        raise PackageError(f"{source}: the package cannot be read", problems)


def load_package(path: str | os.PathLike[str], *, allow_remote: bool = False) -> Package:
    """Open a package from its folder or descriptor, refusing paths outside it."""
    source = descriptor_path(path)
    try:
        descriptor = json.loads(source.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PackageError(f"{source}: cannot read the descriptor ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PackageError(f"{source}: line {exc.lineno}, column {exc.colno}: malformed JSON ({exc.msg})") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise PackageError(f"{source}: not a data package descriptor (rule: resources must be a list)")
    _check_paths(descriptor, source.parent, source, allow_remote)
    try:
        return Package(descriptor, basepath=str(source.parent))
    except frictionless.FrictionlessException as exc:
        raise PackageError(f"{source}: invalid descriptor: {exc.error.message}") from None


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
_FULLWIDTH = re.compile(r"[\uff01-\uff5e\u3000]")


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
        out = [str(p) for p in self.items]
        if self.count > len(self.items):
            out.append(f"... and {self.count - len(self.items)} more problems")
        return out


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


def _hint(raw: str) -> str:
    hints = []
    if _FULLWIDTH.search(raw):
        hints.append("it contains full-width characters; use half-width digits and punctuation")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", raw.strip()):
        hints.append("thousands separators are not allowed (or declare groupChar \",\")")
    return f" ({'; '.join(hints)})" if hints else ""


def _caster(field: Any, missing: set[str]) -> Callable[[str], Any]:
    """A function raw cell -> typed value (None when missing) that raises _Bad on a broken cell."""
    ftype = field.type
    cons = field.constraints or {}
    required = bool(cons.get("required"))
    desc = field.to_descriptor()

    def type_note() -> str:
        return f'type is "{ftype}/{field.format or "default"}"'

    if ftype == "string":
        def read(c: str) -> Any:
            return c
    elif ftype == "integer":
        bare = desc.get("bareNumber", True)

        def read(c: str) -> Any:
            c = c.strip()
            if not bare:
                c = _BARE.sub("", c)
            try:
                return int(c)
            except ValueError:
                raise _Bad("type-error", type_note()) from None
    elif ftype == "number":
        processed = bool({"groupChar", "decimalChar", "bareNumber"} & desc.keys())
        bare = desc.get("bareNumber", True)
        group, decimal = desc.get("groupChar", ""), desc.get("decimalChar", ".")

        def read(c: str) -> Any:
            c = c.strip()
            if processed:
                if not bare and c and not ((c[0] == "-" or c[0].isdecimal()) and c[-1].isdecimal()):
                    c = _BARE.sub("", c)
                if group:
                    c = c.replace(group, "")
                if decimal != ".":
                    if "." in c:
                        raise _Bad("type-error", type_note())
                    c = c.replace(decimal, ".")
            try:
                v = float(c)
            except ValueError:
                raise _Bad("type-error", type_note()) from None
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
    if isinstance(resource.path, list) or resource.path is None or (resource.format or "csv") != "csv":
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
                if keys is None:
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

    def finish(self) -> None:
        """Check references that could not be checked while streaming."""
        for place, _name, row_no, fields, key, target, ref_fields in self.deferred:
            if key not in self.ref_keys.get((target, ref_fields), set()):
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
        dialect = resource.to_descriptor().get("dialect", {})
        opts = {"delimiter": dialect.get("delimiter", ","), "quotechar": dialect.get("quoteChar", '"')}
        with open(path, "rb") as fb:
            head = fb.read(8192)
        if not head:
            add(place, None, None, "source-error", "the file is empty (no header row)")
            return
        if b"\x00" in head or head.startswith(b"%PDF"):
            add(place, None, None, "encoding-error", "binary data, not a CSV text file")
            return
        row_no = 1
        try:
            with open(path, encoding=enc, newline="", errors="strict") as fh:
                reader = csv.reader(fh, **opts)
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
                            f'label "{labels[i]}" at position {i + 1} does not match the field name "{name}"')
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
                            add(place, row_no, names[i], exc.rule, f'value "{c}": {exc.note}{_hint(c)}')
                            vals.append(exc.value)
                            bad = True
                    for i in range(n, len(cells)):
                        add(place, row_no, None, "extra-cell", f'extra cell "{cells[i]}" at position {i + 1}')
                        bad = True
                    yield row_no, tuple(vals), not bad
        except UnicodeDecodeError as exc:
            add(place, row_no + 1, None, "encoding-error",
                f"cannot be decoded as {enc} ({exc.reason}); if the file is GBK/GB18030, declare "
                f'"encoding": "gbk" in the resource')
        except csv.Error as exc:
            add(place, row_no + 1, None, "format-error", f"malformed CSV ({exc})")

    def _typed_frictionless(self, resource: Resource, log: bool = True) -> Iterator[tuple[int, tuple]]:
        add = self.log.add if log else (lambda *a: None)
        place = str(resource.path)
        names = [f.name for f in resource.schema.fields]
        try:
            with resource:
                for row in resource.row_stream:
                    cell_errors = [e for e in row.errors if e.type not in ("primary-key", "foreign-key", "unique-error")]
                    for e in cell_errors:
                        add(place, row.row_number, getattr(e, "field_name", None) or None, e.type, e.note or e.message)
                    yield row.row_number, tuple(_plain(row[n]) for n in names), not cell_errors
        except frictionless.FrictionlessException as exc:
            add(place, None, None, exc.error.type, exc.error.message)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
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


# --- Set-based load: cast and check in SQLite ------------------------------------------------------
#
# The streaming reader above spends ~9 µs of Python per row. A package that is well formed (the
# usual case) is loaded faster by handing csv.reader's cells straight to executemany, with the
# casts written as SQL expressions, and by checking the constraints afterwards as set operations
# (one scan per table, foreign keys as anti-joins). Cells SQL cannot cast exactly as the reader
# would (non-canonical integers, numbers with exponents or more than 4 decimals, ...) are stored as
# text and cast afterwards by the reader's own casters. Whenever anything looks wrong (a row with
# the wrong number of cells, a duplicate key, a constraint or reference broken, a cell the casters
# refuse) the load gives up and the caller reads the package with the streaming reader, which
# names every problem (file, row, field, rule) exactly as before: the set-based path only ever
# says "nothing wrong".

#: Prefix of a cell SQL left to the Python casters (stored as text in a typed column).
_RAW = "raw:"


def _sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fast_field(field: Any, j: int) -> tuple[str, list[str]] | None:
    """SQL expression casting parameter ?j like ``_caster`` would, and SQL predicates (over the
    column) true for a broken value; None when this path does not handle the field."""
    desc = field.to_descriptor()
    cons = dict(field.constraints or {})
    cons.pop("required", None)
    if "pattern" in cons and (field.type != "string" or not isinstance(cons["pattern"], str)):
        return None  # NOT NULL with INSERT OR IGNORE: the row is dropped, counts differ
    if field.has_defined("missing_values") and list(field.missing_values) != [""]:
        return None
    p, col = f"?{j}", f"[{field.name}]"
    checks: list[str] = []
    if field.type == "string":
        if field.format not in (None, "default"):
            return None
        expr = f"nullif({p}, '')"
        for name in ("enum", "pattern", "minLength", "maxLength"):
            if name not in cons:
                continue
            value = cons.pop(name)
            if name == "enum":
                if not all(isinstance(v, str) for v in value):
                    return None
                checks.append(f"{col} not in ({', '.join(_sql_quote(v) for v in value)})")
            elif name == "pattern":
                pass  # on the distinct values (``_distinct_patterns``), not per row
            elif name == "minLength":
                checks.append(f"length({col}) < {int(value)}")
            else:
                checks.append(f"length({col}) > {int(value)}")
    elif field.type == "integer":
        expr = (f"case when {p} = '' then null when cast(cast({p} as integer) as text) = {p} "
                f"then cast({p} as integer) else '{_RAW}' || {p} end")
    elif field.type == "number":
        if {"groupChar", "decimalChar"} & desc.keys():
            return None
        # Plain decimals only (sign, digits, at most 4 decimals, 14 characters): SQLite reads those
        # to the same double as Python's float(); anything else goes to the Python caster.
        expr = (f"case when {p} = '' then null when {p} glob '*[^-0-9.]*' or {p} glob '*.?????*' "
                f"or not {p} glob '[-0-9]*' or not {p} glob '*[0-9]' or {p} glob '-0*' "
                f"or length({p}) > 14 then '{_RAW}' || {p} else {p} end")
        checks.append(f"not (abs({col}) < {ABSURD!r})")
    elif field.type == "boolean":
        whens = [f"when {_sql_quote(v)} then 1" for v in field.true_values if v != ""]
        whens += [f"when {_sql_quote(v)} then 0" for v in field.false_values if v != ""]
        expr = f"case {p} when '' then null {' '.join(whens)} else '{_RAW}' || {p} end"
    else:
        return None
    for name, op in (("minimum", "<"), ("maximum", ">")):
        if name in cons:
            bound = cons.pop(name)
            if field.type not in ("integer", "number") or isinstance(bound, (str, bool)):
                return None
            checks.append(f"{col} {op} {bound!r}")
    if cons:  # enum on numbers, unique, ...: the streaming reader handles them
        return None
    return expr, checks


class _GiveUp(Exception):
    """The set-based load cannot vouch for the package: read it with the streaming reader."""


def load_checked(conn: Any, package: Package) -> dict[str, int] | None:
    """Load every resource into its (empty) table, casting each cell in SQLite as the streaming
    reader would. Returns the rows loaded per resource, or None when a resource is not one this
    path handles or when a row may break the schema (wrong number of cells, duplicate key, required
    cell empty, a cell no caster accepts): the caller then empties the tables and reads the package
    with ``read_package``, which names each problem. The constraints are checked afterwards by
    ``check_loaded`` (after the indexes are built, which makes its distinct-value scans cheap).
    """
    counts: dict[str, int] = {}
    try:
        plans = _plans(package)
        if plans is None:
            return None
        for resource, planned in plans:
            counts[resource.name] = _load_resource(conn, resource, planned)
        for resource, _planned in plans:
            _cast_leftovers(conn, resource)
    except _GiveUp:
        return None
    return counts


def check_loaded(conn: Any, package: Package) -> bool:
    """True when the rows ``load_checked`` loaded keep every constraint and reference of the schema
    (enum, pattern, lengths, minimum/maximum, number-range, amount-nonnegative, foreign keys)."""
    plans = _plans(package)
    if plans is None:
        return False
    try:
        for resource, planned in plans:
            _check_resource(conn, resource, planned)
    except _GiveUp:
        return False
    return True


def _plans(package: Package) -> list[tuple[Resource, list[tuple[str, list[str]]]]] | None:
    names_in_package = {r.name for r in package.resources}
    plans = []
    for resource in package.resources:
        if not resource.schema or not resource.schema.fields or not _supported(resource):
            return None
        if set(resource.schema.missing_values) != {""}:
            return None
        planned = [_fast_field(f, j) for j, f in enumerate(resource.schema.fields, start=1)]
        if any(p is None for p in planned):
            return None
        for fk in resource.schema.foreign_keys:
            if (fk["reference"].get("resource") or resource.name) not in names_in_package:
                return None
        plans.append((resource, planned))
    return plans


def _load_resource(conn: Any, resource: Resource, planned: list[tuple[str, list[str]]]) -> int:
    names = [f.name for f in resource.schema.fields]
    path = _resource_file(resource)
    try:
        enc = python_encoding(resource.encoding)
    except LookupError:
        raise _GiveUp from None
    dialect = resource.to_descriptor().get("dialect", {})
    opts = {"delimiter": dialect.get("delimiter", ","), "quotechar": dialect.get("quoteChar", '"')}
    with open(path, "rb") as fb:
        head = fb.read(8192)
    if not head or b"\x00" in head or head.startswith(b"%PDF"):
        raise _GiveUp
    sql = (f"insert or ignore into [{resource.name}] ({', '.join(f'[{n}]' for n in names)}) "
           f"values ({', '.join(expr for expr, _ in planned)})")
    read = [0]

    def counted(reader: Iterator[list[str]]) -> Iterator[list[str]]:
        n = 0
        for n, cells in enumerate(reader, start=1):  # noqa: B007
            yield cells
        read[0] = n

    before = conn.total_changes
    try:
        with open(path, encoding=enc, newline="", errors="strict") as fh:
            reader = csv.reader(fh, **opts)
            if next(reader, None) != names:
                raise _GiveUp
            # A row with missing or extra cells (or a blank row) has the wrong number of bindings.
            conn.executemany(sql, counted(reader))
    except (UnicodeDecodeError, csv.Error, sqlite3.ProgrammingError, sqlite3.IntegrityError):
        raise _GiveUp from None
    loaded = conn.total_changes - before
    if loaded != read[0]:  # a duplicate key or a required cell left empty: the row was ignored
        raise _GiveUp
    return loaded


def _cast_leftovers(conn: Any, resource: Resource) -> None:
    typed = [f for f in resource.schema.fields if f.type != "string"]
    if typed:
        raw = " or ".join(f"typeof([{f.name}]) = 'text'" for f in typed)
        suspects = conn.execute(f"select rowid, {', '.join(f'[{f.name}]' for f in typed)} "
                                f"from [{resource.name}] where {raw}").fetchall()
        if suspects:
            _cast_in_python(conn, resource, typed, suspects)


def _check_resource(conn: Any, resource: Resource, planned: list[tuple[str, list[str]]]) -> None:
    table = f"[{resource.name}]"
    fields = resource.schema.fields
    checks = [c for _, cs in planned for c in cs]
    names = [f.name for f in fields]
    if resource.name in ("amounts", "projects") and "amount" in names:
        balance = ", ".join(_sql_quote(v) for v in sorted(BALANCE_LINES))
        line = "coalesce([line_key], '') not in (" + balance + ")" if "line_key" in names else "1"
        checks.append(f"([amount] < 0 and {line})")
    if checks:
        if conn.execute(f"select 1 from {table} where {' or '.join(f'({c})' for c in checks)} limit 1").fetchone():
            raise _GiveUp
    for f in fields:
        pattern = (f.constraints or {}).get("pattern")
        if pattern:
            match = re.compile("^{0}$".format(pattern)).match
            # Distinct values: an index scan when the column has an index of its own.
            for (value,) in conn.execute(f"select distinct [{f.name}] from {table} where [{f.name}] is not null"):
                if not isinstance(value, str) or match(value) is None:
                    raise _GiveUp
    for fk in resource.schema.foreign_keys:
        target = fk["reference"].get("resource") or resource.name
        pairs = list(zip(fk["fields"], fk["reference"]["fields"]))
        if len(pairs) == 1:
            (c, r), = pairs
            sql = (f"select 1 from (select distinct [{c}] as v from {table} where [{c}] is not null) "
                   f"where v not in (select [{r}] from [{target}] where [{r}] is not null) limit 1")
        else:
            present = " and ".join(f"c.[{c}] is not null" for c, _ in pairs)
            match = " and ".join(f"p.[{r}] = c.[{c}]" for c, r in pairs)
            sql = (f"select 1 from {table} c where {present} and not exists "
                   f"(select 1 from [{target}] p where {match}) limit 1")
        if conn.execute(sql).fetchone():
            raise _GiveUp


def _cast_in_python(conn: Any, resource: Resource, typed: list[Any], suspects: list[tuple]) -> None:
    """Cast the cells SQL left as text with the streaming reader's casters (or give up)."""
    missing = set(resource.schema.missing_values)
    casts = [_caster(f, missing) for f in typed]
    table = f"[{resource.name}]"
    for rowid, *values in suspects:
        changes = {}
        for f, cast, value in zip(typed, casts, values):
            if isinstance(value, str):
                text = value[len(_RAW):] if value.startswith(_RAW) else value
                try:
                    changes[f.name] = cast(text)
                except _Bad:
                    raise _GiveUp from None
        try:
            conn.execute(f"update {table} set {', '.join(f'[{n}] = ?' for n in changes)} where rowid = ?",
                         [*changes.values(), rowid])
        except sqlite3.IntegrityError:  # two keys that read the same, e.g. 01 and 1
            raise _GiveUp from None


def schema_problems(package: Package) -> list[str]:
    """Every schema error of every resource, one readable line each (file, row, field, rule)."""
    return read_package(package).lines()


def frictionless_problems(package: Package) -> list[str]:
    """The same check done by frictionless itself (slow; kept to compare with in the tests)."""
    report = package.validate()
    lines = []
    for task in report.tasks:
        for err in task.errors:
            where = [task.place or task.name]
            row = getattr(err, "row_number", None)
            field = getattr(err, "field_name", None)
            if row:
                where.append(f"row {row}")
            if field:
                where.append(f"field {field}")
            lines.append(f"{', '.join(str(w) for w in where)}: {err.note or err.message} (rule: {err.type})")
    for err in report.errors:
        lines.append(f"package: {err.message} (rule: {err.type})")
    return lines


def check_schema(package: Package) -> None:
    """Raise PackageError listing every schema error of the package."""
    problems = schema_problems(package)
    if problems:
        raise PackageError(f"{package.basepath}: the data package breaks its schema", problems)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def iter_rows(resource: Resource) -> Iterator[dict[str, Any]]:
    """Typed rows of a resource (numbers as float, missing values as None).

    Lenient: a cell that breaks the schema keeps its text, so rewriting the rows loses nothing.
    """
    names = [f.name for f in resource.schema.fields]
    if not _supported(resource):
        with resource:
            for row in resource.row_stream:
                yield {k: _plain(v) for k, v in row.items()}
        return
    missing = set(resource.schema.missing_values)
    casts = [_caster(f, missing) for f in resource.schema.fields]
    n = len(names)
    with open(_resource_file(resource), encoding=python_encoding(resource.encoding), newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for cells in reader:
            if not any(cells):
                continue
            cells = (cells + [""] * n)[:n]
            row = {}
            for name, f, c in zip(names, casts, cells):
                try:
                    row[name] = f(c)
                except _Bad:
                    row[name] = c or None
            yield row


def resource_rows(package: Package, name: str) -> list[dict[str, Any]]:
    """All typed rows of one resource."""
    return list(iter_rows(package.get_resource(name)))


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # The shortest text that reads back as the same number: 64.0637 stays 64.0637.
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return str(value)


def write_resource(package_dir: Path, resource: Resource, rows: Iterable[dict[str, Any]]) -> None:
    """Write rows as the resource's CSV, columns in schema order, atomically."""
    path = Path(package_dir) / resource.path
    names = [f.name for f in resource.schema.fields]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names, lineterminator="\n", extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({n: _format(row.get(n)) for n in names})
    os.replace(tmp, path)


def replace_report_rows(package_dir: str | os.PathLike[str], report_id: str,
                        rows_by_resource: dict[str, list[dict[str, Any]]],
                        keyed: dict[str, str] | None = None) -> dict[str, int]:
    """Replace one report's rows in each given resource, keeping every other row.

    Resources with a ``report_id`` field lose their rows of that report and get the new ones;
    other resources (departments, classification) are merged on the key named in ``keyed``
    (resource name -> key field): new rows replace rows with the same key.
    Returns the number of rows written per resource.
    """
    package = load_package(package_dir)
    keyed = keyed or {}
    written = {}
    for name, new_rows in rows_by_resource.items():
        resource = package.get_resource(name)
        fields = [f.name for f in resource.schema.fields]
        old = resource_rows(package, name)
        if "report_id" in fields:
            kept = [r for r in old if r["report_id"] != report_id]
        else:
            key = keyed.get(name) or resource.schema.primary_key[0]
            new_keys = {r[key] for r in new_rows}
            kept = [r for r in old if r[key] not in new_keys]
        rows = kept + list(new_rows)
        # Stable order: by report (rows keep their order within a report), or by key.
        order = "report_id" if "report_id" in fields else resource.schema.primary_key[0]
        rows.sort(key=lambda r: str(r.get(order) or ""))
        write_resource(Path(package.basepath), resource, rows)
        written[name] = len(new_rows)
    return written
