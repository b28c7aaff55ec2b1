"""Open, check and write the data package (a Frictionless Data Package of CSV resources).

Reading stays inside the package folder: a resource whose path is absolute, climbs out with
``..`` or is a URL is refused unless the caller passes ``allow_remote=True``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import frictionless
from frictionless import Package, Resource

from .errors import PackageError
from .schema_stream import _Bad, _caster, _plain, _resource_file, _supported, python_encoding, read_package

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

    Resources with a ``report_id`` field lose their rows of that report and get the new ones, in
    report order: the file is streamed, every other row written back as it was read
    (``_replace_report_lines``), so a package of a million rows is rewritten in seconds and in
    little memory. Other resources (departments, classification) are merged on the key named in
    ``keyed`` (resource name -> key field): new rows replace rows with the same key.
    Returns the number of rows written per resource.
    """
    package = load_package(package_dir)
    keyed = keyed or {}
    written = {}
    for name, new_rows in rows_by_resource.items():
        resource = package.get_resource(name)
        fields = [f.name for f in resource.schema.fields]
        written[name] = len(new_rows)
        if "report_id" in fields and _replace_report_lines(Path(package.basepath), resource, report_id, new_rows):
            continue
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
    return written


def _replace_report_lines(package_dir: Path, resource: Resource, report_id: str,
                          new_rows: list[dict[str, Any]]) -> bool:
    """Stream the resource's CSV into a new one without the rows of ``report_id``, the new rows
    before the first row of a later report (the file's report order kept: the same file a stable
    sort by report_id gives when the file was in report order). False, with nothing written, when
    the file is not a plain UTF-8 CSV whose header is the schema's fields."""
    if not _supported(resource) or python_encoding(resource.encoding) != "utf-8-sig":
        return False
    names = [f.name for f in resource.schema.fields]
    path = package_dir / resource.path
    at = names.index("report_id")
    lines = [[_format(r.get(n)) for n in names] for r in new_rows]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with open(path, encoding="utf-8-sig", newline="") as src, \
                os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
            reader = csv.reader(src)
            if next(reader, None) != names:
                return False
            writer = csv.writer(dst, lineterminator="\n")
            writer.writerow(names)
            for cells in reader:
                if not any(cells):
                    continue
                rid = cells[at] if at < len(cells) else ""
                if rid == report_id:
                    continue
                if lines and rid > report_id:
                    writer.writerows(lines)
                    lines = []
                writer.writerow(cells)
            writer.writerows(lines)
        os.replace(tmp, path)
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_subset(package: Package, report_ids: set[str], out_dir: Path) -> Path:
    """A copy of ``package`` in ``out_dir`` holding only the rows of ``report_ids`` in the resources
    with a report_id field (every row of the others), each file in its own encoding; returns the
    copy's descriptor. Rows are copied as read: what breaks the schema still does."""
    base = Path(package.basepath)
    descriptor = json.loads(descriptor_path(base).read_text(encoding="utf-8-sig"))
    for resource in package.resources:
        src, dst = base / resource.path, out_dir / resource.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        fields = [f.name for f in resource.schema.fields]
        if "report_id" not in fields or not _supported(resource):
            shutil.copyfile(src, dst)
            continue
        enc = python_encoding(resource.encoding)
        try:
            with open(src, encoding=enc, newline="") as fh_in, \
                    open(dst, "w", encoding="utf-8" if enc == "utf-8-sig" else enc, newline="") as fh_out:
                reader, writer = csv.reader(fh_in), csv.writer(fh_out, lineterminator="\n")
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


def record_source(package_dir: str | os.PathLike[str], source: dict[str, Any]) -> None:
    """Add (or replace, by its ``report_id``) a source document in the descriptor's ``sources``."""
    path = descriptor_path(package_dir)
    descriptor = json.loads(path.read_text(encoding="utf-8-sig"))
    sources = [s for s in descriptor.get("sources", []) if s.get("report_id") != source["report_id"]]
    sources.append(source)
    descriptor["sources"] = sorted(sources, key=lambda s: s["report_id"])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(descriptor, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
