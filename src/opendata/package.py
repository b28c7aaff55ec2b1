"""Open, check and write the data package (a Frictionless Data Package of CSV resources).

Reading stays inside the package folder: a resource path, schema, dialect or profile that is
absolute, climbs out with ``..`` or through a link, or is a URL is refused (URLs are allowed only
when the caller passes ``allow_remote=True``).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import os
import shutil
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import frictionless
from frictionless import Package, Resource

from .csv_dialect import BARE_NUMBER, RowWriter, csv_dialect, row_writer, writer_options
from .errors import PackageError
from .model import model_problems, reserved_name_problem
from .staging import Staging, staged
from .schema_stream import _Bad, _caster, _plain, _resource_file, _supported, python_encoding, read_package

DESCRIPTOR = "datapackage.json"


def descriptor_path(path: str | os.PathLike[str]) -> Path:
    """The datapackage.json of a package given as its folder or its descriptor."""
    p = Path(path)
    if p.is_dir():
        p = p / DESCRIPTOR
    if not p.exists():
        raise PackageError(f"{p}: no such data package (expected a folder with {DESCRIPTOR})")
    if not p.is_file():  # a FIFO would keep the reader waiting for a writer
        raise PackageError(f"{p}: not a regular file (expected the package's {DESCRIPTOR})")
    return p


#: Profiles frictionless knows by name (anything else is a JSON Schema it reads from a file or a URL).
_KNOWN_PROFILES = frozenset(("data-package", "tabular-data-package", "data-resource", "tabular-data-resource"))
#: A package's properties that frictionless reads as a reference to a file or URL when they are text.
_PACKAGE_REFERENCES = ("profile", "profiles")
#: A resource's properties read so (besides ``path``): its schema, dialect, profile, checklist...
_RESOURCE_REFERENCES = ("schema", "dialect", "profile", "profiles", "checklist", "pipeline", "extrapaths")


def _reference_problem(what: str, value: object, base: Path, allow_remote: bool, *, must_exist: bool) -> str | None:
    """What is wrong with ``value``, a path or URL the descriptor gives for ``what``; None when it
    stays inside the package folder (or is a URL the caller allows)."""
    if not isinstance(value, str):
        return f"{what} must be a string"
    if "://" in value:
        return None if allow_remote else f"{what} {value!r} is a URL; remote data is not fetched (rule: local-only)"
    if os.path.isabs(value) or ".." in Path(value).parts:
        return f"{what} {value!r} points outside the package (rule: safe-path)"
    if not (base / value).resolve().is_relative_to(base.resolve()):
        return f"{what} {value!r} leaves the package through a link (rule: safe-path)"
    if must_exist and not (base / value).is_file():
        if (base / value).exists():  # a folder, a FIFO (reading it would wait for a writer), a device
            return f"{what}: {value} is not a regular file (rule: resource-exists)"
        return f"{what}: file {value} does not exist (rule: resource-exists)"
    return None


def _referenced_json_problem(what: str, value: str, base: Path) -> str | None:
    """What is wrong with the JSON file (of the package) a schema or dialect reference names."""
    try:
        parsed = json.loads((base / value).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"{what}: {value} is not a JSON file ({type(exc).__name__}: {exc}) (rule: {what.split()[-1]}-error)"
    if not isinstance(parsed, dict):
        return f"{what}: {value} must hold a JSON object (rule: {what.split()[-1]}-error)"
    return None


#: Names SQLite gives every row of a table: a column so named hides the row's number the rules read.
_ROW_NUMBER_NAMES = frozenset(("rowid", "_rowid_", "oid"))


def _field_problems(name: str, fields: list[Any]) -> list[str]:
    """What in a resource's fields the database cannot hold as columns (rule: field-name), or
    frictionless fails on without naming the field (rule: schema-error)."""
    problems = []
    seen: dict[str, str] = {}
    for j, field in enumerate(fields):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            problems.append(f"resource {name}: field #{j + 1} must be an object with a name, not "
                            f"{json.dumps(field, ensure_ascii=False)[:60]} (rule: schema-error)")
            continue
        fname = field["name"]
        where = f"resource {name}: field {fname!r}"
        if "]" in fname:  # the SQL writes columns as [name]
            problems.append(f"{where}: a name with ']' cannot be a column of the database (rule: field-name)")
        if fname.lower() in _ROW_NUMBER_NAMES:
            problems.append(f"{where}: SQLite gives every row this name (its row number); rename the field "
                            "(rule: field-name)")
        other = seen.setdefault(fname.lower(), fname)
        if other != fname:
            problems.append(f"{where}: the same column as field {other!r} for SQLite, which ignores case in "
                            "names; rename one (rule: field-name)")
        constraints = field.get("constraints")
        if not isinstance(constraints, dict):
            continue
        pattern = constraints.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}: constraint pattern {pattern!r} is not a regular expression ({exc}) "
                                "(rule: schema-error)")
        if field.get("type") in ("integer", "number"):
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                bound = constraints.get(key)
                if bound is not None and not _is_number(bound):
                    problems.append(f"{where}: constraint {key} {bound!r} is not a number (rule: schema-error)")
            enum = constraints.get("enum")
            wrong = [v for v in enum if not _is_number(v) or (field["type"] == "integer" and not _is_integer(v))] \
                if isinstance(enum, list) else []
            if wrong:
                problems.append(f"{where}: constraint enum holds {', '.join(map(repr, wrong[:5]))}, not "
                                f"{'an integer' if field['type'] == 'integer' else 'a number'} (rule: schema-error)")
    return problems


def _identifies_rows(resource: dict[str, Any], keys: list[Any]) -> bool:
    """Whether ``keys`` (field names) are the resource's primary key, or one field declared unique."""
    schema = resource.get("schema") if isinstance(resource.get("schema"), dict) else {}
    pk = schema.get("primaryKey")
    pk = [pk] if isinstance(pk, str) else pk if isinstance(pk, list) else []
    if list(keys) == pk:
        return True
    if len(keys) == 1:
        field = next((f for f in schema.get("fields") or [] if isinstance(f, dict) and f.get("name") == keys[0]), {})
        constraints = field.get("constraints") if isinstance(field.get("constraints"), dict) else {}
        return constraints.get("unique") is True
    return False


def _is_integer(value: object) -> bool:
    """A whole number as a field's enum or bound may give it (5, 5.0, "5")."""
    try:
        return float(value) == int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(value)  # frictionless reads a bound written as text, "5"
    except (TypeError, ValueError):
        return False
    return True


def _references(descriptor: dict[str, Any], keys: tuple[str, ...]) -> Iterator[tuple[str, object]]:
    """(key, value) of every reference among ``keys``: a text value (a list's every item), a
    profile frictionless knows by name left out (a value of another kind is frictionless's to refuse)."""
    for key in keys:
        value = descriptor.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not (key.startswith("profile") and item in _KNOWN_PROFILES):
                yield key, item


def _check_descriptor(descriptor: dict[str, Any], base: Path, source: Path, allow_remote: bool,
                      files_required: bool = True) -> None:
    """Every file or URL the descriptor would make frictionless read (resource data, schemas,
    dialects, profiles) must be in the package folder, unless ``allow_remote`` allows URLs (and
    each resource's file must exist, unless not ``files_required``); a resource's foreign keys must
    name resources and fields the package has."""
    problems = [p for key, value in _references(descriptor, _PACKAGE_REFERENCES)
                if (p := _reference_problem(f"package {key}", value, base, allow_remote, must_exist=False))]
    resources = descriptor.get("resources", [])
    for i, res in enumerate(resources):
        if not isinstance(res, dict):
            problems.append(f"resource #{i + 1}: must be written out in the descriptor (an object), "
                            f"not {json.dumps(res, ensure_ascii=False)[:80]} (rule: resource-descriptor)")
            continue
        name = res.get("name", f"#{i + 1}")
        paths = res.get("path")
        if paths is None and "data" in res and res.get("format") not in (None, "inline"):
            # frictionless then looks for a file to read, and fails on an assertion.
            problems.append(f"resource {name}: its rows are in the descriptor (\"data\") but it declares "
                            f"\"format\": {json.dumps(res['format'], ensure_ascii=False)}, a file's format: remove "
                            "\"format\", or write the rows to a file named by \"path\" (rule: inline-data)")
        part_problems = []
        for rp in paths if isinstance(paths, list) else [paths]:
            if rp is not None and (p := _reference_problem(f"resource {name}: path", rp, base, allow_remote,
                                                           must_exist=files_required)):
                part_problems.append(p)
        problems += part_problems
        if not part_problems and (p := _latin_declared_utf8(name, res.get("encoding"), paths, base)):
            problems.append(p)
        if isinstance(paths, list) and len(paths) > 1 and not part_problems:
            problems += _part_header_problems(name, paths, base, res.get("dialect"))
        for key, value in _references(res, _RESOURCE_REFERENCES):
            local = "://" not in value
            if p := _reference_problem(f"resource {name}: {key}", value, base, allow_remote, must_exist=local):
                problems.append(p)
            elif local and key in ("schema", "dialect") and (
                    p := _referenced_json_problem(f"resource {name}: {key}", value, base)):
                problems.append(p)
        schema = res.get("schema")
        fields = schema.get("fields") if isinstance(schema, dict) else None
        problems += _field_problems(name, fields if isinstance(fields, list) else [])
        problems += model_problems(res)
        if reserved := reserved_name_problem(res.get("name")):
            problems.append(reserved)
    problems += _foreign_key_problems(resources)
    if problems:
        raise PackageError(f"{source}: the package cannot be read", [f"{source.name}: {p}" for p in problems])


#: Encodings of one byte a character for Western European text: any bytes decode, so UTF-8 text
#: declared as one of them is read without an error, as mojibake (株洲 as 'æ\xa0ªæ´²').
_LATIN = frozenset({"iso8859-1", "cp1252", "iso8859-15"})  # codecs' own names (latin_1, cp819... are iso8859-1)


def _latin_declared_utf8(name: str, encoding: Any, paths: Any, base: Path) -> str | None:
    """Why a resource declared in a Latin encoding is UTF-8 text (its first 64 KB decode as UTF-8
    and hold characters beyond Latin-1's: Chinese read as mojibake, with no problem said), or None."""
    try:
        if not isinstance(encoding, str) or codecs.lookup(encoding.strip()).name not in _LATIN:
            return None
    except LookupError:  # an unknown encoding: said where the file is read
        return None
    for rp in paths if isinstance(paths, list) else [paths]:
        if not isinstance(rp, str) or "://" in rp:
            continue
        try:
            with open(base / rp, "rb") as fh:
                head = fh.read(65536)
            if len(head) == 65536:  # whole lines: a character cut at the end is no sign of anything
                head = head[: head.rfind(b"\n") + 1] or head
            text = head.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if sample := next((ch for ch in text if ord(ch) > 0xFF), ""):  # beyond Latin-1: Chinese, not é
            return (f"resource {name}: {rp} is declared \"encoding\": \"{encoding}\" but is UTF-8 text "
                    f"(\"{sample}\" would be read as {sample.encode('utf-8').decode('latin-1')!r}): declare "
                    "\"encoding\": \"utf-8\" (rule: encoding-error)")
    return None


def _first_line(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.readline().removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")


def _part_header_problems(name: str, paths: list[Any], base: Path, dialect: Any) -> list[str]:
    """A file after the first of a resource in several files whose first line is not the first
    file's header: frictionless skips each part's first line as its header, unread (a part
    written without one lost its first row, without a word)."""
    if isinstance(dialect, dict) and dialect.get("header") is False:
        return []  # no header anywhere: no line is skipped
    local = [p for p in paths if isinstance(p, str) and "://" not in p]
    if len(local) != len(paths):
        return []
    try:
        header = _first_line(base / local[0])
        return [f"resource {name}: {part}, row 1: not the header of {local[0]}; frictionless skips the first line of "
                "each file after the first as its header: begin the file with the same header line "
                "(rule: multipart-header)" for part in local[1:] if _first_line(base / part) != header]
    except OSError:
        return []  # said where the file is read


def _foreign_key_problems(resources: list[Any]) -> list[str]:
    """A foreign key (of a schema written in the descriptor) to a resource or field not there."""
    named = [r for r in resources if isinstance(r, dict) and isinstance(r.get("name"), str)]
    fields = {r["name"]: [f.get("name") for f in r["schema"]["fields"] if isinstance(f, dict)]
              for r in named if isinstance(r.get("schema"), dict) and isinstance(r["schema"].get("fields"), list)}
    names = {r["name"] for r in named}
    by_name = {r["name"]: r for r in named}
    problems = []
    # Anything not of the kind the standard says (a name that is not text...) is frictionless's to name.
    for res in named:
        schema = res.get("schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("foreignKeys"), list):
            continue
        for fk in schema["foreignKeys"]:
            ref = fk.get("reference") if isinstance(fk, dict) else None
            if isinstance(fk, dict) and not isinstance(ref, dict):
                problems.append(f"resource {res['name']}: foreign key {fk.get('fields')!r}: its reference must be an "
                                f"object with resource and fields, not {json.dumps(ref, ensure_ascii=False)[:60]} "
                                "(rule: foreign-key)")
                continue
            target = (ref.get("resource") or res["name"]) if isinstance(ref, dict) else None
            if not isinstance(target, str):
                continue
            keys = ref.get("fields")
            keys = [keys] if isinstance(keys, str) else keys if isinstance(keys, list) else []
            where = f"resource {res['name']}: foreign key {fk.get('fields')!r}"
            if target not in names:
                problems.append(f"{where} refers to resource {target!r}, which the package does not have "
                                "(rule: foreign-key)")
            elif target in fields:
                missing = [k for k in keys if isinstance(k, str) and k not in fields[target]]
                if missing:
                    problems.append(f"{where} refers to {', '.join(map(repr, missing))}, not a field of resource "
                                    f"{target!r} (rule: foreign-key)")
                elif keys and not _identifies_rows(by_name[target], keys):
                    # SQLite's key needs it (foreign key mismatch): each row it refers to must be one row.
                    problems.append(f"{where} refers to {', '.join(map(repr, keys))} of resource {target!r}, which "
                                    "is not its primary key nor unique: a key must name one row (rule: foreign-key)")
    return problems


def load_package(path: str | os.PathLike[str], *, allow_remote: bool = False, files_required: bool = True) -> Package:
    """Open a package from its folder or descriptor, refusing paths outside it (and a resource
    whose file does not exist, unless not ``files_required``)."""
    source = descriptor_path(path)
    not_a_package = PackageError(f"{source}: not a data package (give the folder with its {DESCRIPTOR}, or that file; "
                                 "a report is added with `opendata import REPORT --package FOLDER`)")
    try:
        descriptor = json.loads(source.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError) and source.suffix.lower() != ".json":  # a report's PDF
            raise not_a_package from None
        raise PackageError(f"{source}: cannot read the descriptor ({exc})") from None
    except json.JSONDecodeError as exc:
        if source.suffix.lower() != ".json":  # a report's text given where the package goes
            raise not_a_package from None
        raise PackageError(f"{source}: line {exc.lineno}, column {exc.colno}: malformed JSON ({exc.msg})") from None
    except RecursionError:  # lists or objects nested a thousand deep: no descriptor is
        raise PackageError(f"{source}: not a data package descriptor (nested too deeply) (rule: descriptor)") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise PackageError(f"{source}: not a data package descriptor (rule: resources must be a list)")
    _check_descriptor(descriptor, source.parent, source, allow_remote, files_required)
    try:
        return Package(descriptor, basepath=str(source.parent))
    except frictionless.FrictionlessException as exc:
        raise PackageError(f"{source}: invalid descriptor: {_short(exc.error.message)}",
                           [f"{source.name}: {p}" for p in _descriptor_problems(descriptor, exc)]) from None
    except Exception as exc:  # noqa: BLE001 - frictionless fails so on some malformed descriptors
        raise PackageError(f"{source}: invalid descriptor: frictionless could not read it "
                           f"({type(exc).__name__}: {_short(str(exc))})") from None


def _descriptor_problems(descriptor: dict[str, Any], exc: frictionless.FrictionlessException) -> list[str]:
    """What frictionless found wrong in the descriptor, one line each, naming the resource where
    the problem is in one (frictionless's own list does not say which)."""
    problems = []
    for i, res in enumerate(descriptor["resources"]):
        if isinstance(res, dict):
            name = res.get("name", f"#{i + 1}")
            try:
                found = list(frictionless.Resource.metadata_validate(res))
            except frictionless.FrictionlessException as inner:  # e.g. an unknown field type
                found = [inner.error]
            except Exception:  # noqa: BLE001 - frictionless fails on some; the package's list below says it
                found = []
            problems += [f"resource {name}: {_short(e.note or e.message)} (rule: {e.type})" for e in found]
    notes = {line.split(": ", 1)[1] for line in problems}
    for reason in getattr(exc, "reasons", None) or []:
        line = f"{_short(reason.note or reason.message)} (rule: {reason.type})"
        if line not in notes:  # a problem of the package's, not of one resource
            problems.append(line)
    return problems


def _short(message: str, limit: int = 300) -> str:
    """frictionless's message, cut where it quotes a large part of the descriptor."""
    return message if len(message) <= limit else message[:limit] + "…"


def schema_problems(package: Package) -> list[str]:
    """Every schema error of every resource (the first ``schema_stream.MAX_PROBLEMS``), one
    readable line each (file, row, field, rule)."""
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
    log = read_package(package)
    if log.count:
        raise PackageError(f"{package.basepath}: the data package breaks its schema", log.lines(), log.count)


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
        reader = csv.reader(fh, dialect=csv_dialect(resource))
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


def file_style(path: Path, resource: Resource) -> tuple[str, str, int]:
    """(line terminator, codec, quoting) a new version of the resource's file at ``path`` is written
    with: those of the file there (CRLF, a UTF-8 byte-order mark, as Excel writes them; its cells'
    quotes, ``file_quoting``) where the descriptor leaves them open, so that a diff shows the rows
    that changed and nothing else; a line feed, ``written_encoding`` and quotes where needed for a
    new file."""
    encoding = written_encoding(resource)
    if encoding.startswith(("utf-16", "utf-32")):
        return "\n", encoding, csv.QUOTE_MINIMAL  # a line break is not one byte there
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return "\n", encoding, csv.QUOTE_MINIMAL
    end = head.find(b"\n")
    terminator = "\r\n" if end > 0 and head[end - 1:end] == b"\r" else "\n"
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    return terminator, encoding, file_quoting(head.split(b"\n")[:2], resource)


def file_quoting(lines: list[bytes], resource: Resource) -> int:
    """How the file's writer quotes, read off its header and first row: csv.QUOTE_ALL when every
    cell is in quotes (numbers and empty cells too), csv.QUOTE_NONNUMERIC when its text cells are
    and its numbers and empty cells are not (LibreOffice's "quote all text cells"), else
    csv.QUOTE_MINIMAL (quotes where a cell needs them: the csv module's way)."""
    dialect = csv_dialect(resource)
    if dialect is None or not dialect.quotechar or len(lines) < 2:
        return csv.QUOTE_MINIMAL

    def quoting(line: bytes) -> int:
        try:
            text = line.decode(python_encoding(resource.encoding)).rstrip("\r")
        except (UnicodeError, LookupError):  # a line cut inside a character, at the end of the head read
            return csv.QUOTE_MINIMAL
        cells = next(csv.reader([text], dialect=dialect), [])
        if not cells:  # no row after the header: nothing to tell its writer's way by
            return csv.QUOTE_MINIMAL
        quoted = [dialect.quotechar + c.replace(dialect.quotechar, dialect.quotechar * 2) + dialect.quotechar
                  for c in cells]
        if text == dialect.delimiter.join(quoted):
            return csv.QUOTE_ALL
        if text == dialect.delimiter.join(c if not c or BARE_NUMBER.fullmatch(c) else q for c, q in zip(cells, quoted)):
            return csv.QUOTE_NONNUMERIC
        return csv.QUOTE_MINIMAL

    # The header's names are text, quoted either way: the first row tells the two apart.
    return quoting(lines[1]) if quoting(lines[0]) == csv.QUOTE_ALL else csv.QUOTE_MINIMAL


def _writer_options(resource: Resource, terminator: str = "\n", quoting: int = csv.QUOTE_MINIMAL) -> dict[str, Any]:
    """``writer_options``, or a PackageError naming the file when its declared dialect is one
    opendata does not write (no header row, comment lines, ...)."""
    try:
        return writer_options(resource, terminator, quoting)
    except ValueError:
        if resource.path is None:
            raise PackageError(f"resource {resource.name}: its rows are in the descriptor (\"data\"); opendata "
                               "rewrites CSV files only: nothing written (rule: inline-data)") from None
        if resource.multipart or not isinstance(resource.path, str):
            raise PackageError(f"resource {resource.name}: its rows are in several files "
                               f"({', '.join(map(str, resource.paths))}); opendata rewrites one file per resource: "
                               "nothing written (rule: multipart)") from None
        if (resource.format or "csv") not in ("csv", "tsv"):
            raise PackageError(f"{resource.path}: a {resource.format} file; opendata rewrites CSV files only: "
                               "nothing written (rule: format)") from None
        if resource.compression:
            raise PackageError(f"{resource.path}: a compressed file ({resource.compression}); opendata does not "
                               "rewrite one: nothing written (rule: compression)") from None
        raise PackageError(f"{resource.path}: its declared dialect ({json.dumps(resource.dialect.to_descriptor())}) "
                           "is not one opendata writes (one header row, no comment lines, blank rows not skipped, "
                           "no null sequence); nothing written (rule: dialect)") from None


def write_resource(package_dir: Path, resource: Resource, rows: Iterable[dict[str, Any]],
                   stage: Staging | None = None) -> None:
    """Write rows as the resource's CSV, columns in schema order, atomically (with ``stage``: put
    in place when the stage is committed)."""
    _writer_options(resource)  # a PackageError for a resource opendata does not write (no file...)
    path = Path(package_dir) / resource.path
    terminator, encoding, quoting = file_style(path, resource)
    options = _writer_options(resource, terminator, quoting)
    names = [f.name for f in resource.schema.fields]
    path.parent.mkdir(parents=True, exist_ok=True)
    with staged(stage) as st:
        fd, _tmp = st.new_file(path)
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            writer = RowWriter(fh, **options)
            writer.writerow(names)
            known = set(names)
            for row in rows:
                if not known.issuperset(row):
                    raise ValueError(f"{resource.name}: fields not in the schema: {sorted(set(row) - known)}")
                writer.writerow([_format(row.get(n)) for n in names])


def replace_report_rows(package_dir: str | os.PathLike[str], report_id: str,
                        rows_by_resource: dict[str, list[dict[str, Any]]],
                        keyed: dict[str, str] | None = None, stage: Staging | None = None,
                        removed: dict[str, int] | None = None) -> dict[str, int]:
    """Replace one report's rows in each given resource, keeping every other row.

    Resources with a ``report_id`` field lose their rows of that report and get the new ones, in
    report order: the file is streamed, every other row written back as it was read
    (``_replace_report_lines``), so a package of a million rows is rewritten in seconds and in
    little memory. Other resources (departments, classification) are merged on the key named in
    ``keyed`` (resource name -> key field): new rows replace rows with the same key.
    Returns the number of rows written per resource; ``removed``, when given, gets the number of
    the report's rows each resource with a ``report_id`` held before. The files are replaced
    together, when every one is written (with ``stage``: when the caller commits it); if anything
    fails, none is.
    """
    package = load_package(package_dir)
    keyed = keyed or {}
    written = {}
    if missing := [name for name in rows_by_resource if name not in package.resource_names]:
        raise PackageError(f"{package_dir}: the package has no resource {', '.join(map(repr, missing))}, which a "
                           "report's rows go to (rule: opendata-model; see the resources of the shipped "
                           "datapackage/datapackage.json); nothing was written")
    if problems := new_row_problems(package, report_id, rows_by_resource):
        raise PackageError(f"{package_dir}: the rows of report {report_id} break the package's schema; nothing "
                           "was written", problems)
    with staged(stage) as st:
        for name, new_rows in rows_by_resource.items():
            written[name] = len(new_rows)
            resource = package.get_resource(name)
            try:
                gone = _replace_in_resource(package, resource, report_id, new_rows, keyed, st)
                if removed is not None and gone is not None:
                    removed[name] = gone
            except UnicodeEncodeError as exc:
                raise PackageError(
                    f"{resource.path}: declared \"encoding\": \"{resource.encoding}\", which cannot hold "
                    f"{exc.object[exc.start:exc.end]!r} of the rows to write; nothing was written; declare "
                    "\"encoding\": \"utf-8\" and convert the file (rule: encoding-error)") from None
            except (UnicodeError, LookupError, csv.Error, frictionless.FrictionlessException) as exc:
                raise PackageError(f"{resource.path or 'resource ' + resource.name}: cannot be read as its "
                                   f"descriptor declares it ({_read_problem(exc)}); nothing was written (run "
                                   "`opendata validate` for every problem)") from None
            except OSError as exc:  # a full disk, a quota: the new versions are removed (staged)
                raise PackageError(f"{resource.path or 'resource ' + resource.name}: cannot write its new version "
                                   f"({exc.strerror or exc}); nothing was written") from None
    return written


def new_row_problems(package: Package, report_id: str, rows_by_resource: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each cell of the rows about to be written that the resource's schema refuses (type,
    required, enum, pattern, minimum...), as the readers would name it once written: an import
    wrote a report of 1900 (the schema's minimum year is 1990) and exited 0, and the package could
    no longer be built. Keys and references are the validation's to check, over the whole package."""
    problems = []
    for name, rows in rows_by_resource.items():
        if not rows or name not in package.resource_names:
            continue
        resource = package.get_resource(name)
        schema = resource.schema
        missing = set(schema.missing_values)
        fields = [(f.name, _caster(f, set(f.missing_values) if f.has_defined("missing_values") else missing))
                  for f in schema.fields if f.type in ("string", "integer", "number", "boolean")]
        for n, row in enumerate(rows, start=1):
            for field_name, cast in fields:
                text = _format(row.get(field_name))
                try:
                    cast(text)
                except _Bad as exc:
                    problems.append(f"{resource.path}, row {n} of report {report_id}'s, field {field_name}: "
                                    f'value "{text}": {exc.note} (rule: {exc.rule})')
    return problems


def _read_problem(exc: Exception) -> str:
    """What went wrong reading a resource's file, with its rule."""
    if isinstance(exc, frictionless.FrictionlessException):
        return f"{exc.error.message.strip()} (rule: {exc.error.type})"
    if isinstance(exc, LookupError) and not isinstance(exc, UnicodeError):
        return f"{exc} (rule: encoding-error)"
    if isinstance(exc, UnicodeError):
        return f"not {getattr(exc, 'encoding', 'the declared encoding')}: {getattr(exc, 'reason', exc)} (rule: encoding-error)"
    return f"malformed CSV: {exc} (rule: format-error)"


#: The data package this checkout ships: its descriptor is the model of every package opendata makes.
SHIPPED_PACKAGE = Path(__file__).resolve().parents[2] / "datapackage"
#: Resources whose rows are the national template's, not a report's: a new package starts with them.
TEMPLATE_RESOURCES = ("standard_tables",)


def init_package(target: str | os.PathLike[str], model: str | os.PathLike[str] = SHIPPED_PACKAGE) -> list[Path]:
    """A new, empty data package at ``target`` (a folder that does not exist, or an empty one):
    the descriptor of the package at ``model`` (its resources and schemas) without its sources,
    the template's own rows (``TEMPLATE_RESOURCES``: the nine standard tables) and a header-only
    CSV for every other resource. Returns the files written. PackageError when ``target`` holds
    anything, or the model cannot be read."""
    target, model = Path(target), Path(model)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PackageError(f"{target}: exists and is not an empty folder: a new package goes in a folder of its own; "
                           "nothing was written")
    try:
        descriptor = json.loads(descriptor_path(model).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"{model}: cannot read the model package's descriptor ({exc})") from None
    descriptor["sources"] = []
    created = not target.exists()
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = [target / DESCRIPTOR]
        written[0].write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        for resource in descriptor.get("resources", []):
            if resource.get("name") in TEMPLATE_RESOURCES and isinstance(resource.get("path"), str):
                (target / resource["path"]).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(model / resource["path"], target / resource["path"])
                written.append(target / resource["path"])
        for resource in load_package(target, files_required=False).resources:
            if isinstance(resource.path, str):
                _resource_file(resource).parent.mkdir(parents=True, exist_ok=True)
        return written + create_missing_files(target)
    except OSError as exc:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise PackageError(f"{target}: cannot write the new package ({exc.strerror or exc})") from None


def create_missing_files(package_dir: str | os.PathLike[str], report_id: str | None = None) -> list[Path]:
    """Write the header-only CSV of every resource whose file does not exist yet, each in its
    declared encoding and dialect (together: all or none); returns their paths. For an import of
    ``report_id``, a missing file of a resource with report_id is refused (PackageError) when
    another file of the package holds a row of another report: it held that report's rows too (a
    deleted amounts.csv was made again with one report's, the others' gone without a word)."""
    package = load_package(package_dir, files_required=False)
    missing = [r for r in package.resources if isinstance(r.path, str) and not _resource_file(r).exists()]
    lost = [r for r in missing if "report_id" in r.schema.field_names]
    if lost and report_id is not None and _holds_another_report(package, report_id):
        raise PackageError(
            f"{package_dir}: {', '.join(str(r.path) for r in lost)} missing, while the package holds other "
            "reports whose rows it may have held: restore the file (git checkout); for a resource new to the "
            "package, begin its file with its header line ("
            + "; ".join(f"{r.path}: {','.join(r.schema.field_names)}" for r in lost)
            + ") (rule: resource-exists); nothing was written")
    with staged() as stage:
        for resource in missing:
            write_resource(Path(package.basepath), resource, [], stage)
    return [_resource_file(r) for r in missing]


def _holds_another_report(package: Package, report_id: str) -> bool:
    """True when a file of the package with report_id holds a row of a report other than ``report_id``
    (read as its descriptor declares it, up to the first such row)."""
    for resource in package.resources:
        if "report_id" not in resource.schema.field_names or not isinstance(resource.path, str) \
                or not _resource_file(resource).exists() or not _supported(resource):
            continue
        try:
            with open(_resource_file(resource), encoding=python_encoding(resource.encoding), newline="") as fh:
                if any(row.get("report_id") not in (None, "", report_id)
                       for row in csv.DictReader(fh, dialect=csv_dialect(resource))):
                    return True
        except (OSError, UnicodeError, csv.Error, LookupError):
            return True  # a file that cannot be read may hold anything: refused, as validate will say
    return False


def written_encoding(resource: Resource) -> str:
    """The codec a resource's CSV is written in: its declared encoding (UTF-8 without a byte-order
    mark for UTF-8 in any spelling), so that the descriptor stays true of the file."""
    enc = python_encoding(resource.encoding)
    return "utf-8" if enc == "utf-8-sig" else codecs.lookup(resource.encoding or "utf-8").name


def _replace_in_resource(package: Package, resource: Resource, report_id: str, new_rows: list[dict[str, Any]],
                         keyed: dict[str, str], stage: Staging) -> int | None:
    """``replace_report_rows`` for one resource. Every row kept is written back as it was read (its
    cells' text: 10.00 stays 10.00); a file whose header is not the schema's fields is refused (its
    rows could not be written back whole: an extra column would be dropped). Returns how many rows
    of the report the resource held (None for a resource without report_id)."""
    fields = [f.name for f in resource.schema.fields]
    header = _raw_header(Path(package.basepath), resource)
    if header == []:  # the import wrote its report's rows alone into it: every other row was gone, unsaid
        raise PackageError(f"{resource.path}: the file is empty, not even its header line (its rows lost?); an "
                           "import would write this report's rows alone into it, so nothing was written. Restore "
                           "the file (git checkout), or begin it with its header line (rule: empty-file)")
    if header is not None and header != fields:
        raise PackageError(_header_problem(resource, header, fields))
    if "report_id" in fields:
        held = _replace_report_lines(Path(package.basepath), resource, report_id, new_rows, stage)
        if held is not None:
            return held
    key = None if "report_id" in fields else keyed.get(resource.name) or resource.schema.primary_key[0]
    if key is not None and _replace_keyed_lines(Path(package.basepath), resource, key, new_rows, stage):
        return None
    # A file opendata's readers do not read (frictionless's reader does): rows rewritten from their values.
    old = resource_rows(package, resource.name)
    if key is None:
        kept = [r for r in old if r["report_id"] != report_id]
    else:
        new_keys = {r[key] for r in new_rows}
        kept = [r for r in old if r[key] not in new_keys]
    rows = kept + list(new_rows)
    # Stable order: by report (rows keep their order within a report), or by key.
    rows.sort(key=lambda r: str(r.get(key or "report_id") or ""))
    write_resource(Path(package.basepath), resource, rows, stage)
    return len(old) - len(kept) if key is None else None


def _raw_header(package_dir: Path, resource: Resource) -> list[str] | None:
    """The first record of the resource's CSV as its text says it ([] for an empty file); None when
    opendata's readers do not read the file (``_supported``), or it is missing."""
    if not _supported(resource):
        return None
    try:
        with open(package_dir / resource.path, encoding=python_encoding(resource.encoding), newline="") as fh:
            return next(csv.reader(fh, dialect=csv_dialect(resource)), [])
    except FileNotFoundError:
        return None


def _header_problem(resource: Resource, header: list[str], fields: list[str]) -> str:
    """Why a resource's file cannot be rewritten by an import: its header against its schema."""
    extra = [h for h in header if h not in fields]
    missing = [f for f in fields if f not in header]
    if extra:
        what, rule = f"column{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} not in its schema", "extra-label"
    elif missing:
        what, rule = f"no column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}", "missing-label"
    elif len(set(header)) < len(header):
        what, rule = "a column named twice", "duplicate-label"
    else:
        what, rule = f"its columns in another order than the schema's ({', '.join(fields)})", "incorrect-label"
    return (f"{resource.path}: header has {what}; an import rewrites this file and would lose what does not fit "
            f"the schema, so nothing was written. Make the header the schema's fields (resource "
            f"{resource.name!r} in {DESCRIPTOR}), or declare the column there (rule: {rule})")


def _replace_keyed_lines(package_dir: Path, resource: Resource, key: str, new_rows: list[dict[str, Any]],
                         stage: Staging) -> bool:
    """A resource without report_id (departments, classification) with ``new_rows`` merged on
    ``key``: a new row replaces the line of the same key, every other line written back as it was
    read, all of them in the order of their keys. False, with nothing written, when opendata's
    readers do not read the file."""
    if not _supported(resource):
        return False
    names = [f.name for f in resource.schema.fields]
    at = names.index(key)
    path = package_dir / resource.path
    new_lines = [[_format(r.get(n)) for n in names] for r in new_rows]
    new_keys = {cells[at] for cells in new_lines}
    with open(path, encoding=python_encoding(resource.encoding), newline="") as src:
        reader = csv.reader(src, dialect=csv_dialect(resource))
        next(reader, None)
        lines = [cells for cells in reader if any(cells) and (cells[at] if at < len(cells) else "") not in new_keys]
    lines += new_lines
    lines.sort(key=lambda cells: cells[at] if at < len(cells) else "")
    terminator, encoding, quoting = file_style(path, resource)
    fd, _tmp = stage.new_file(path)
    with os.fdopen(fd, "w", encoding=encoding, newline="") as dst:
        writer = row_writer(dst, resource, terminator, quoting)
        writer.writerow(names)
        writer.writerows(lines)
    return True


def _replace_report_lines(package_dir: Path, resource: Resource, report_id: str,
                          new_rows: list[dict[str, Any]], stage: Staging) -> int | None:
    """Stream the resource's CSV into a new one without the rows of ``report_id``, the new rows
    before the first row of a later report (the file's report order kept: the same file a stable
    sort by report_id gives when the file was in report order), staged in ``stage``, in the file's
    declared encoding; returns how many rows of ``report_id`` it held. None, with nothing written,
    when opendata's readers do not read the file."""
    if not _supported(resource):
        return None
    held = 0
    names = [f.name for f in resource.schema.fields]
    path = package_dir / resource.path
    at = names.index("report_id")
    lines = [[_format(r.get(n)) for n in names] for r in new_rows]
    terminator, encoding, quoting = file_style(path, resource)
    fd, _tmp = stage.new_file(path)
    with open(path, encoding=python_encoding(resource.encoding), newline="") as src, \
            os.fdopen(fd, "w", encoding=encoding, newline="") as dst:
        reader = csv.reader(src, dialect=csv_dialect(resource))
        next(reader, None)  # the header, the schema's fields (``_replace_in_resource`` checked it)
        writer = row_writer(dst, resource, terminator, quoting)
        writer.writerow(names)
        for cells in reader:
            if not any(cells):
                continue
            rid = cells[at] if at < len(cells) else ""
            if rid == report_id:
                held += 1
                continue
            if lines and rid > report_id:
                writer.writerows(lines)
                lines = []
            writer.writerow(cells)
        writer.writerows(lines)
    return held


def write_subset(package: Package, report_ids: set[str], out_dir: Path) -> Path:
    """A copy of ``package`` in ``out_dir`` holding only the rows of ``report_ids`` in the resources
    with a report_id field (every row of the others), each file in its own encoding; returns the
    copy's descriptor. Rows are copied as read: what breaks the schema still does."""
    base = Path(package.basepath)
    descriptor = json.loads(descriptor_path(base).read_text(encoding="utf-8-sig"))
    for resource in package.resources:
        fields = [f.name for f in resource.schema.fields]
        if "report_id" not in fields or not _supported(resource):
            for part in resource.paths:  # every file as it is (none for rows in the descriptor)
                (out_dir / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(base / part, out_dir / part)
            continue
        src, dst = base / resource.path, out_dir / resource.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        enc = python_encoding(resource.encoding)
        try:
            with open(src, encoding=enc, newline="") as fh_in, \
                    open(dst, "w", encoding="utf-8" if enc == "utf-8-sig" else enc, newline="") as fh_out:
                reader = csv.reader(fh_in, dialect=csv_dialect(resource))
                writer = row_writer(fh_out, resource)
                header = next(reader, None)
                if header is None or "report_id" not in header:
                    raise ValueError
                writer.writerow(header)
                at = header.index("report_id")
                writer.writerows(cells for cells in reader if at < len(cells) and cells[at] in report_ids)
        except (UnicodeError, ValueError, csv.Error):
            shutil.copyfile(src, dst)  # not a CSV this can filter: the whole file, as it is
    out = out_dir / DESCRIPTOR
    out.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def record_source(package_dir: str | os.PathLike[str], source: dict[str, Any], stage: Staging | None = None) -> None:
    """Add (or replace, by its ``report_id``) a source document in the descriptor's ``sources``
    (with ``stage``: the new descriptor put in place when the stage is committed)."""
    _write_sources(package_dir, source["report_id"], source, stage)


def forget_source(package_dir: str | os.PathLike[str], report_id: str, stage: Staging | None = None) -> None:
    """Take the source document of ``report_id`` out of the descriptor's ``sources``."""
    _write_sources(package_dir, report_id, None, stage)


def _write_sources(package_dir: str | os.PathLike[str], report_id: str, source: dict[str, Any] | None,
                   stage: Staging | None) -> None:
    """The descriptor with the source of ``report_id`` replaced by ``source`` (or taken out)."""
    path = descriptor_path(package_dir)
    raw = path.read_bytes()
    descriptor = json.loads(raw.decode("utf-8-sig"))
    sources = [s for s in descriptor.get("sources", []) if s.get("report_id") != report_id]
    if source is not None:
        sources.append(source)
    descriptor["sources"] = sorted(sources, key=lambda s: s["report_id"])
    with staged(stage) as st:
        fd, _tmp = st.new_file(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_in_style_of(raw, descriptor))


def _in_style_of(raw: bytes, descriptor: dict[str, Any]) -> bytes:
    """``descriptor`` written as the file ``raw`` was: its byte-order mark, line ends and indent
    (an editor's CRLF and BOM were dropped: a diff showed every line of it changed)."""
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    indent = re.search(rb"\n( +|\t)\S", raw)
    text = json.dumps(descriptor, ensure_ascii=False,
                      indent=(indent.group(1).decode() if indent and indent.group(1) == b"\t"
                              else len(indent.group(1)) if indent else 2)) + "\n"
    if b"\r\n" in raw:  # no line end inside JSON's strings: each is the layout's
        text = text.replace("\n", "\r\n")
    return bom + text.encode("utf-8")
