"""Set-based load: cast in SQL while loading, check constraints as set operations afterwards."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import sqlite_utils
from frictionless import Package, Resource

from .csv_dialect import csv_dialect, simple_quoting
from .schema_stream import (ABSURD, BALANCE_LINES, _Bad, _caster, _resource_file, _supported, holds_nul, looks_binary,
                            python_encoding)

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


#: The pattern of a text of one line (a name, a key, a reference): a stray quote that opens a cell
#: of a CSV without closing it reads the lines after it into that cell, rows and all (a tester's
#: ``"`` before a source_ref took 33 rows of amounts.csv into it, with no schema problem). Checked
#: as a file loads, only when one of its records runs over lines (``_breaks_a_line``).
SINGLE_LINE = "[^\\r\\n]*"


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
                pass  # on the distinct values (``_check_resource``), not per row; SINGLE_LINE as it loads
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


#: SQLite column type of each Table Schema type.
SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "year": int}


def foreign_keys(resource: Resource) -> list[tuple[str, str, str]]:
    """The resource's single-column foreign keys as (column, table, column)."""
    return [(fk["fields"][0], fk["reference"]["resource"] or resource.name, fk["reference"]["fields"][0])
            for fk in resource.schema.foreign_keys if len(fk["fields"]) == 1]


def create_table(db: sqlite_utils.Database, resource: Resource, keys: bool = True,
                 made: set[str] | None = None) -> list[tuple[str, str, str]]:
    """The resource's table: typed columns, NOT NULL for required fields, primary key and
    single-column foreign keys (unless ``keys`` is False: a part of the table in a database of its
    own, ``load_part``, whose duplicate keys the join into the whole table finds, ``merge_part``).
    Where ``made`` names the tables that exist, the keys to others (sqlite-utils refuses a key to a
    table not yet made) are left out and returned, for ``add_foreign_key`` once they exist."""
    schema = resource.schema
    columns = {f.name: SQL_TYPES.get(f.type, str) for f in schema.fields}
    fks = foreign_keys(resource) if keys else []
    later = [fk for fk in fks if made is not None and fk[1] != resource.name and fk[1] not in made]
    not_null = {f.name for f in schema.fields if f.constraints.get("required")}
    pk = schema.primary_key if keys else []
    db[resource.name].create(columns, pk=(pk[0] if len(pk) == 1 else tuple(pk)) or None,
                             foreign_keys=[fk for fk in fks if fk not in later], not_null=not_null)
    return later


class _GiveUp(Exception):
    """The set-based load cannot vouch for the package: read it with the streaming reader."""


def load_checked(conn: Any, package: Package, stop: dict[str, int] | None = None) -> dict[str, int] | None:
    """Load every resource into its (empty) table, casting each cell in SQLite as the streaming
    reader would. Returns the rows loaded per resource, or None when a resource is not one this
    path handles or when a row may break the schema (wrong number of cells, duplicate key, required
    cell empty, a cell no caster accepts): the caller then empties the tables and reads the package
    with ``read_package``, which names each problem. The constraints are checked afterwards by
    ``check_loaded`` (after the indexes are built, which makes its distinct-value scans cheap).

    ``stop`` ends a resource's file at a byte offset (``split_point``; the rest is loaded by
    ``load_part`` in another process and joined by ``merge_part``).
    """
    counts: dict[str, int] = {}
    try:
        plans = _plans(package)
        if plans is None:
            return None
        for resource, planned in plans:
            counts[resource.name] = _load_resource(conn, resource, planned, 0, (stop or {}).get(resource.name))
        for resource, _planned in plans:
            _cast_leftovers(conn, resource)
    except _GiveUp:
        return None
    return counts


def load_part(conn: Any, package: Package, name: str, start: int, stop: int | None = None) -> int | None:
    """Load the records of resource ``name`` in bytes [``start``, ``stop``) (``split_point`` offsets;
    ``stop`` None: to the end) into its empty table (made with ``create_table(..., keys=False)``:
    ``merge_part`` finds duplicate keys); None when the set-based path cannot vouch for them (see
    load_checked)."""
    plans = _plans(package)
    if plans is None:
        return None
    try:
        resource, planned = next((r, p) for r, p in plans if r.name == name)
        loaded = _load_resource(conn, resource, planned, start, stop)
        _cast_leftovers(conn, resource)
    except (_GiveUp, StopIteration):
        return None
    return loaded


def merge_part(conn: Any, part_db: Path, name: str, rows: int) -> bool:
    """Append the rows ``load_part`` wrote to ``part_db`` to table ``name`` (same columns, in their
    order); False when a row was ignored: its key was loaded already (from the first part, or twice
    in this one) or a required cell is empty."""
    conn.commit()  # SQLite attaches outside a transaction only
    conn.execute("attach database ? as part", (str(part_db),))
    try:
        before = conn.total_changes
        conn.execute(f"insert or ignore into main.[{name}] select * from part.[{name}] order by rowid")
        merged = conn.total_changes - before
        conn.commit()
    finally:
        conn.execute("detach database part")
    return merged == rows


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


#: Attribute of a package holding its load plan (``_plans``), computed once.
_PLANS_ATTRIBUTE = "_opendata_load_plans"


def _plans(package: Package) -> list[tuple[Resource, list[tuple[str, list[str]]]]] | None:
    """Each resource with the SQL casts and checks of its fields (``_fast_field``), or None when
    the set-based path does not handle the package; computed once per package (frictionless's
    descriptors of ~80 fields: 12 ms each time), before the build forks its second process."""
    if not hasattr(package, _PLANS_ATTRIBUTE):
        setattr(package, _PLANS_ATTRIBUTE, _compute_plans(package))
    return getattr(package, _PLANS_ATTRIBUTE)


def prepare_load(package: Package) -> None:
    """Compute the package's load plan now (kept on the package): a process forked afterwards
    inherits it instead of computing it again for each part it loads."""
    _plans(package)


def _compute_plans(package: Package) -> list[tuple[Resource, list[tuple[str, list[str]]]]] | None:
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


#: Codecs in which a line feed and a quote byte are always those characters (never part of another
#: character), so a file can be cut at a byte offset.
_BYTE_SAFE = {"utf-8-sig", "gb18030", "ascii", "latin-1", "iso8859-1", "cp1252"}


def split_point(resource: Resource, share: float, after: int = 0) -> int | None:
    """A byte offset near ``share`` of the resource's file where a record starts: just after a line
    feed outside any quoted cell (an even number of quote characters before it). ``after``: an
    offset where a record starts (an earlier split point), from which the quotes are counted
    instead of from the start of the file. None when the file cannot be cut this way (an encoding
    where those bytes may belong to other characters, a quote character of several bytes, no such
    line feed after the offset)."""
    try:
        enc = python_encoding(resource.encoding)
    except LookupError:
        return None
    quote = simple_quoting(resource)
    if enc not in _BYTE_SAFE or quote is None:
        return None
    path = _resource_file(resource)
    size = path.stat().st_size
    quotes, offset = 0, after
    with open(path, "rb") as fh:
        fh.seek(after)
        target = max(int(size * share), after)
        while offset < target:  # quote characters before the target offset, a block at a time
            block = fh.read(min(1 << 22, target - offset))
            if not block:
                return None
            quotes += block.count(quote)
            offset += len(block)
        rest = fh.read(1 << 22)
        pos = 0
        while True:
            nl = rest.find(b"\n", pos)
            if nl < 0:
                return None  # no record boundary in the next 4 MB: not a file worth cutting
            quotes += rest.count(quote, pos, nl)
            if quotes % 2 == 0:
                return offset + nl + 1 if offset + nl + 1 < size else None
            pos = nl + 1


class _Head(io.RawIOBase):
    """The first ``left`` bytes of a binary file, as a file of their own."""

    def __init__(self, raw: BinaryIO, left: int) -> None:
        self.raw, self.left = raw, left

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        n = self.raw.readinto(memoryview(buffer)[:min(len(buffer), self.left)]) or 0
        self.left -= n
        return n


def _open_range(path: Path, enc: str, start: int, stop: int | None) -> TextIO:
    """The text of bytes [start, stop) of a file (a byte-order mark only at its very start)."""
    raw = open(path, "rb")  # noqa: SIM115 - closed with the text wrapper
    if start:
        raw.seek(start)
        enc = "utf-8" if enc == "utf-8-sig" else enc
    binary: BinaryIO = raw if stop is None else io.BufferedReader(_Head(raw, stop - start), 1 << 20)
    return io.TextIOWrapper(binary, encoding=enc, errors="strict", newline="")


def _load_resource(conn: Any, resource: Resource, planned: list[tuple[str, list[str]]],
                   start: int = 0, stop: int | None = None) -> int:
    """Load the records in bytes [start, stop) of the resource's file (``split_point`` offsets; the
    header is checked when ``start`` is 0)."""
    names = [f.name for f in resource.schema.fields]
    path = _resource_file(resource)
    try:
        enc = python_encoding(resource.encoding)
    except LookupError:
        raise _GiveUp from None
    dialect = csv_dialect(resource)
    with open(path, "rb") as fb:
        head = fb.read(8192)
    if not head or looks_binary(head, enc) or (start == 0 and holds_nul(path, enc)):
        raise _GiveUp
    sql = (f"insert or ignore into [{resource.name}] ({', '.join(f'[{n}]' for n in names)}) "
           f"values ({', '.join(expr for expr, _ in planned)})")
    before = conn.total_changes
    try:
        with _open_range(path, enc, start, stop) as fh:
            reader = csv.reader(fh, dialect=dialect)
            if not start and next(reader, None) != names:
                raise _GiveUp
            # A row with missing or extra cells (or a blank row) has the wrong number of bindings.
            conn.executemany(sql, reader)
            lines = reader.line_num - (0 if start else 1)
        loaded = conn.total_changes - before
        # As many rows as lines: no row ignored, none over two lines. Else the records are counted
        # again (counting them as they were loaded cost every file 0.1 s at 10^5 rows).
        records = lines if loaded == lines else _records(path, enc, dialect, start, stop)
    except (UnicodeError, csv.Error, sqlite3.ProgrammingError, sqlite3.IntegrityError):
        raise _GiveUp from None
    if loaded != records:  # a duplicate key or a required cell left empty: the row was ignored
        raise _GiveUp
    if lines != records and _breaks_a_line(conn, resource):  # some record ran over lines: which cells?
        raise _GiveUp
    return loaded


def _records(path: Path, enc: str, dialect: Any, start: int, stop: int | None) -> int:
    """How many records bytes [start, stop) of a file hold (after its header when ``start`` is 0)."""
    with _open_range(path, enc, start, stop) as fh:
        return sum(1 for _ in csv.reader(fh, dialect=dialect)) - (0 if start else 1)


def _breaks_a_line(conn: Any, resource: Resource) -> bool:
    """True when a field of one line (``SINGLE_LINE``) of the resource's table (the rows loaded so
    far: this part's, or the first part's) holds a line end. Asked only when a record of its file ran over more than one line (a
    quoted cell with a line end, or a quote left open), so a file of one line a record pays nothing
    (this check of every row took 0.4 s at 10^6 rows)."""
    single = [f.name for f in resource.schema.fields if (f.constraints or {}).get("pattern") == SINGLE_LINE]
    if not single:
        return False
    where = " or ".join(f"instr([{n}], char(10)) > 0 or instr([{n}], char(13)) > 0" for n in single)
    return conn.execute(f"select 1 from [{resource.name}] where {where} limit 1").fetchone() is not None


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
        if pattern and pattern != SINGLE_LINE:  # SINGLE_LINE: among the checks above
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
