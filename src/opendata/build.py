"""Build SQLite from a data package: typed tables, keys, indexes, views, search.

Each CSV is loaded with executemany in one transaction, its cells cast by SQL expressions, and
every Table Schema constraint and reference is then checked as a set operation in SQLite; when
anything is doubtful the package is read again by the streaming reader, which checks every row and
names each problem (file, row, field, rule). The accounting rules then run as SQL over the tables.

The build writes to a temporary file beside the target and renames it into place only when
everything succeeded, so a failed build never touches the previous database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from frictionless import Package, Resource

from .errors import BuildError, OpenDataError, PackageError
from .fingerprint import database_version, package_fingerprint
from .layouts import TABLE_VIEWS, create_layout_views, layout_queries
from .model import BUILD_TABLES, NOT_BUILT
from .package import load_package
from . import parallel
from .schema_sql import check_loaded, create_table, foreign_keys, load_checked, merge_part, prepare_load, split_point
from .schema_stream import read_package
from .rules import Finding, in_registry_order, rule_rows, run_rules
from .rules.views import create_views
from .search_index import search_documents, write_search_index
from .staging import package_lock, signals_deferred

#: Columns people filter and facet on, per table.
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "reports": [("department_id",), ("year",), ("kind",)],
    "report_tables": [("table_no",), ("status",)],
    "classification": [("code",), ("edition",), ("level",), ("scheme",), ("parent_id",)],
    # The rules' index first (RULE_INDEX): one measure of one side of one table, report by report,
    # so that the probes that follow go through the reports in order (with report_id after
    # line_key, or with an index on measure alone instead, the row-sum rules took 0.3 s and 0.25 s
    # more at 10^6 rows); a specific line of every report is found inside it. It also serves the
    # count of a ?table_no= page; a ?measure= page reads its rows through the primary key, in order,
    # with no sort (an index on measure made SQLite sort up to 140,000 rows first: 40-50 ms).
    # source_kind last: with it the index holds every default facet column of amounts, counted in
    # its order (CUBE_ORDER) instead of a sort of every row (0.9 -> 0.3 s at 10^6 rows). No index
    # of its own (0.55 s of build): a ?source_kind= page reads its count and facets from the build's
    # counts (site/facets.py) and finds its 50 rows walking the primary key (6 ms for `narrative`,
    # a fifth of the reports, as with the index). Not code_certainty either: three values on up
    # to 10^6 rows, which SQLite (without histograms) used for a filtered page's count(*) only.
    "amounts": [("table_no", "measure", "side", "report_id", "line_key", "source_kind"), ("classification_id",),
                ("code",)],
    "statements": [("topic",), ("kind",), ("section",), ("period",)],
    "findings": [("report_id",), ("rule_id",), ("severity",)],
}

#: Layout tables (``layouts.layout_queries``) the second process computes in a two-process build,
#: to share the work (table3_expenditure too: 1.38-1.40 against 1.41-1.42 s at 10^5 rows, the
#: same at 10^6).
WORKER_LAYOUTS: tuple[str, ...] = ("table2_income", "budget_execution", "table3_expenditure")

#: The index the accounting rules read through, built first in a two-process build (_fill_parallel).
RULE_INDEX = ("amounts", INDEXES["amounts"][0])

#: Default facet columns (metadata.yml ``facets:``) of the tables too large for a GROUP BY per page
#: view: their value counts over all rows go into ``_facet_counts`` for the site's unfiltered pages
#: (``opendata.site.facets``). A column missing here is still faceted, by a GROUP BY per request.
FACET_COUNTS: dict[str, tuple[str, ...]] = {
    "amounts": ("report_id", "table_no", "measure", "source_kind"),
    "statements": ("report_id", "kind", "period", "unit"),  # 10^5 rows: 60 ms per page
    "search_index": ("kind", "report_id"),
    "implied_last_year": ("report_id", "kind"),
    # Tables of one row per report, or a few (10^3-10^4 rows at national scale: 1-3 ms per facet, a
    # third of the page's time for report_tables).
    "departments": ("province", "city", "county"),
    "reports": ("department_id", "year", "kind", "tables_attached"),
    "report_tables": ("report_id", "table_no", "status"),
    "projects": ("report_id", "in_initial_budget"),
    "report_units": ("report_id", "kind"),
    "report_totals": ("year", "kind", "department"),
    # The layout views (over tables of 10^4-10^5 lines at national scale: 20-40 ms per facet).
    "budget_execution": ("department", "year", "class_name", "level"),
    **{view: ("department", "year", "side", "class_name") for view in TABLE_VIEWS.values()},
    "year_on_year": ("department", "year"),
    "class_shares": ("department", "year", "item"),
}

#: Tables whose facet counts by every combination of FACET_COUNTS columns (``_cube_counts``) are
#: read through an index that holds them all, in its order, with no sort: the index's leading
#: columns grouped as it orders them, and the facet column it holds after them (a few values)
#: counted value by value.
CUBE_ORDER: dict[str, tuple[tuple[str, ...], str]] = {"amounts": (RULE_INDEX[1][:4], "source_kind")}

#: Columns of FACET_COUNTS whose values' links open pages that would otherwise count their facets
#: live (1.1-1.6 s at 10^6 amounts rows: each facet a GROUP BY over up to every row): the build
#: stores those pages' counts too (``_facet_counts_by``). Not report_id: one report's page counts
#: its own rows in milliseconds.
FACET_FILTERS: dict[str, tuple[str, ...]] = {
    "amounts": ("table_no", "measure", "source_kind"),
    "statements": ("kind", "period", "unit"),
    "search_index": ("kind",),
}


@dataclass
class BuildResult:
    """What a build produced."""

    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    #: Processes that built it (2: ``_fill_parallel``; 1: one process, from the start or after a doubt).
    processes: int = 1


def _create_tables(db: sqlite_utils.Database, package: Package) -> None:
    """Every resource's table, each after the tables its foreign keys name (a package may list its
    resources in any order: one listing reports after amounts could not be built); the keys of a
    cycle of references are added once every table exists."""
    pending, made = list(package.resources), set()
    later: list[tuple[str, tuple[str, str, str]]] = []
    while pending:  # the first in the package's order whose keys' tables exist (of a cycle: the first)
        resource = next((r for r in pending if all(t in made or t == r.name for _, t, _ in foreign_keys(r))),
                        pending[0])
        later += [(resource.name, fk) for fk in create_table(db, resource, made=made)]
        made.add(resource.name)
        pending.remove(resource)
    for table, (column, other_table, other_column) in later:
        db[table].add_foreign_key(column, other_table, other_column)


def _load_rows(db: sqlite_utils.Database, package: Package,
               step: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load every resource, checking its schema: set-based in SQLite when the package is well formed
    (``schema_sql.load_checked``), else streamed through the checking reader (executemany, one transaction).

    Raises PackageError naming file, row, field and rule when any row breaks the schema."""
    counts = load_checked(db.conn, package)
    if counts is not None:
        if step:
            step("read and load")
        _indexes(db)
        if step:
            step("indexes")
        ok = check_loaded(db.conn, package)
        if step:
            step("schema checks")
        if ok:
            return counts
    # Something may be wrong (or the package is not one the set-based load handles): start again
    # with the streaming reader, which names every problem.
    for resource in package.resources:
        if resource.name in db.table_names():
            db.conn.execute(f"delete from [{resource.name}]")
    counts = {}
    conn = db.conn

    def sink(resource: Resource, rows: Iterator[tuple]) -> int:
        names = [f.name for f in resource.schema.fields]
        # The table's PRIMARY KEY finds duplicates (INSERT OR IGNORE keeps the first): no key set
        # in memory; the reader names the duplicate rows when any row was dropped.
        sql = (f"insert or ignore into [{resource.name}] ({', '.join(f'[{n}]' for n in names)}) "
               f"values ({', '.join('?' * len(names))})")
        before = conn.total_changes
        conn.executemany(sql, rows)
        counts[resource.name] = conn.total_changes - before
        return counts[resource.name]

    log = read_package(package, sink, pk_in_sink=True)
    if log.count:
        raise PackageError(f"{package.basepath}: the data package breaks its schema "
                           f"({log.count} problem{'s' if log.count > 1 else ''})", log.lines(), log.count)
    if step:
        step("read, check and load (streaming)")
    _indexes(db)
    if step:
        step("indexes")
    return counts


def _search_index(db: sqlite_utils.Database, docs: Path | None = None) -> None:
    """The ``search_index`` table and its full-text index, from the file of documents ``docs``
    (``search_index.save_documents``) or, when None, from the tables of ``db``."""
    write_search_index(db, search_documents(db.conn) if docs is None else docs)


def _facet_counts(db: sqlite_utils.Database) -> None:
    """``_facet_counts(table, column, value, count)``: what Datasette's column facet counts over the
    whole table (non-null values, each with its number of rows), for the columns of FACET_COUNTS.
    ``value`` has no declared type, so each value keeps its storage class (3 stays an integer) and
    sorts as the column's own values do.

    ``_facet_counts_by(table, filter_column, filter_value, column, value, count)``: the same counts
    over the rows whose ``filter_column`` is ``filter_value`` (as text, as a URL gives it), for the
    columns of FACET_FILTERS: the page a facet value's link opens. Both come from one GROUP BY over
    all the facet columns together (one sort of the table instead of one per column)."""
    db.conn.execute("create table _facet_counts ([table] text not null, [column] text not null, value, "
                    "count integer not null, primary key ([table], [column], value)) without rowid")
    db.conn.execute("create table _facet_counts_by ([table] text not null, filter_column text not null, "
                    "filter_value text not null, [column] text not null, value, count integer not null, "
                    "primary key ([table], filter_column, filter_value, [column], value)) without rowid")
    for table, columns in FACET_COUNTS.items():
        filters = FACET_FILTERS.get(table, ())
        if not filters:
            for column in columns:
                db.conn.execute(f"insert into _facet_counts select ?, ?, [{column}], count(*) from [{table}] "
                                f"where [{column}] is not null group by [{column}]", (table, column))
            continue
        _cube_counts(db, table, columns, filters)


def _cube_counts(db: sqlite_utils.Database, table: str, columns: tuple[str, ...], filters: tuple[str, ...]) -> None:
    """The facet counts of ``table`` for ``columns``, whole and under each value of ``filters``, from
    its rows counted by every combination of the columns' values (one GROUP BY over the table: 0.7 s
    at 10^6 amounts rows), and of those combinations counted again without the many-valued
    report_id (a few dozen rows), which every count not by report_id reads."""
    cols = ", ".join(f"[{c}]" for c in columns)
    few = [c for c in columns if c != "report_id"]
    if not _cube_in_index_order(db, table, columns):
        db.conn.execute(f"create temp table _facet_cube as select {cols}, count(*) as n "
                        f"from [{table}] not indexed group by {cols}")
    db.conn.execute(f"create temp table _facet_cube_few as select {', '.join(f'[{c}]' for c in few)}, sum(n) as n "
                    f"from temp._facet_cube group by {', '.join(f'[{c}]' for c in few)}")

    def source(*used: str) -> str:
        return "temp._facet_cube" if "report_id" in used else "temp._facet_cube_few"

    for column in columns:
        db.conn.execute(f"insert into _facet_counts select ?, ?, [{column}], sum(n) from {source(column)} "
                        f"where [{column}] is not null group by [{column}]", (table, column))
    for by in filters:
        for column in columns:
            db.conn.execute(f"insert into _facet_counts_by select ?, ?, cast([{by}] as text), ?, [{column}], "
                            f"sum(n) from {source(by, column)} where [{by}] is not null and [{column}] is not null "
                            f"group by [{by}], [{column}]", (table, by, column))
    db.conn.execute("drop table temp._facet_cube")
    db.conn.execute("drop table temp._facet_cube_few")


def _cube_in_index_order(db: sqlite_utils.Database, table: str, columns: tuple[str, ...]) -> bool:
    """``temp._facet_cube`` (``columns`` and their count ``n``) counted through the index of
    CUBE_ORDER in its order; False when ``table`` has no such index (the caller sorts the table)."""
    if table not in CUBE_ORDER:
        return False
    lead, pivot = CUBE_ORDER[table]
    index = next((ix.name for ix in db[table].indexes if tuple(ix.columns[:len(lead)]) == lead
                  and pivot in ix.columns and set(columns) <= set(ix.columns)), None)
    if index is None or pivot not in columns or not set(columns) <= {*lead, pivot}:
        return False
    values = [v for (v,) in db.conn.execute(f"select distinct [{pivot}] from [{table}] indexed by [{index}]")]
    if not values:  # no rows
        return False
    by = ", ".join(f"[{c}]" for c in lead)
    sums = ", ".join(f"sum([{pivot}] is ?) as n{i}" for i in range(len(values)))
    db.conn.execute(f"create temp table _facet_lead as select {by}, {sums} from [{table}] indexed by [{index}] "
                    f"group by {by}", values)
    rest = ", ".join(f"[{c}]" for c in columns if c != pivot)
    arms = " union all ".join(f"select {rest}, ? as [{pivot}], n{i} as n from temp._facet_lead where n{i} > 0"
                              for i in range(len(values)))
    cols = ", ".join(f"[{c}]" for c in columns)
    db.conn.execute(f"create temp table _facet_cube as select {cols}, sum(n) as n from ({arms}) group by {cols}",
                    values)
    db.conn.execute("drop table temp._facet_lead")
    return True


def _findings_table(db: sqlite_utils.Database, findings: list[Finding]) -> None:
    """The ``rules`` the build ran (their titles: the site names a finding's rule by its Chinese
    title) and the ``findings`` of those rules."""
    db["rules"].insert_all(rule_rows(), pk="rule_id", columns={"rule_id": str, "title_zh": str, "title_en": str,
                                                                 "severity": str, "resources": str})
    columns = {"id": int, "rule_id": str, "severity": str, "report_id": str, "message_zh": str, "message_en": str,
               "resource": str, "row_ref": str, "fields": str, "expected": float, "stated": float,
               "difference": float, "tolerance": float, "source_ref": str}
    db["findings"].create(columns, pk="id", foreign_keys=[("report_id", "reports", "report_id"),
                                                          ("rule_id", "rules", "rule_id")])
    db["findings"].insert_all((f.to_row() for f in findings), batch_size=2000)


def _indexes(db: sqlite_utils.Database) -> None:
    for table, indexes in INDEXES.items():
        if table in db.table_names():
            for cols in indexes:
                db[table].create_index(list(cols), if_not_exists=True)
    # Foreign-key columns get an index too, so label expansion and joins stay fast, unless an index
    # (the primary key's included) already starts with the column: amounts.report_id is the first
    # column of the primary key, amounts.table_no of the rules' index (0.8 s saved at 10^6 rows).
    # search_index.report_id is a foreign key for its label (the report's title), not for lookups:
    # no index (one would cost the build ~0.1 s at 10^6 rows; its facet counts are stored).
    for table in db.tables:
        if table.name == "search_index":
            continue
        leading = {ix.columns[0] for ix in table.indexes if ix.columns}
        for fk in table.foreign_keys:
            if fk.column not in leading:
                table.create_index([fk.column], if_not_exists=True)
                leading.add(fk.column)


def _inspect_data(conn: sqlite3.Connection, target: Path) -> dict[str, Any]:
    """What `datasette inspect` writes (hash, size, table counts), computed on the new file for its
    final name, so `datasette serve -i --inspect-file` starts without counting."""
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
    counts = {}
    for t in tables:
        try:
            counts[t] = {"count": conn.execute(f"select count(*) from [{t}]").fetchone()[0]}
        except sqlite3.Error:
            counts[t] = {"count": 0}
    return {target.stem: {"hash": None, "size": None, "file": str(target), "tables": counts}}


#: The first bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


def _why_not_replace(target: Path) -> str | None:
    """Why the build may not put its database at ``target``, or None where it may: nothing there,
    an empty file, an empty SQLite database or a previous build (a database with the tables every
    build writes); not a file of another kind, nor another program's database, given by mistake."""
    try:
        with open(target, "rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError:
        return None  # unreadable: the build's own write beside it says what is wrong
    if not head:
        return None
    if head != _SQLITE_HEADER:
        return "exists and is not a SQLite database"
    try:
        conn = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"is a SQLite database that cannot be read ({exc})"
    if tables and not BUILD_TABLES <= tables:
        return f"is {NOT_BUILT}"
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_database(db: sqlite_utils.Database, package: Package,
                  step: Callable[[str], None] | None = None) -> dict[str, int]:
    """Create and fill one table per resource, with keys and indexes (``_load_rows`` indexes them).

    Every row is checked against the Table Schema (see ``_load_rows``); a package that breaks its
    schema raises PackageError naming file, row, field and rule.
    """
    _create_tables(db, package)
    return _load_rows(db, package, step)


#: Steps of the last build with their seconds (read by benchmarks/build.py).
LAST_TIMINGS: dict[str, float] = {}

#: A package whose largest CSV is at least this large is built by two processes when the machine
#: has two cores or more (below it, about 30,000 figures, starting the second process and joining
#: the parts cost about what they save).
PARALLEL_MIN_BYTES = 4 << 20

#: SQLite page cache of each connection of a build, in KiB. It also bounds the memory of each sort
#: (GROUP BY, CREATE INDEX) before it spills to a temporary file.
CACHE_KIB = 32768

#: Page size of the new database and of the second process's parts of the largest CSV, in bytes.
#: SQLite's default, 4096, makes 8x as many pages to write, read, sort and look up: with 32768 the
#: build of 10^6 amounts rows took 12.9-13.2 s and 24.6-25.1 s of CPU against 14.4-15.5 s and
#: 27.4-28.2 s (16384: 13.8-14.2 s; 65536: 13.0-13.6 s). Serving is as fast (pages of a report, of
#: the stored facets, search), but for lookups spread over the whole table (a ?code= page's 50 rows:
#: 8 -> 9-10 ms).
PAGE_SIZE = 32768

#: Where the largest CSV is cut, as shares of the bytes to load (``part_cuts``): the build's own
#: process loads the other resources and the largest CSV up to the first cut, the second process
#: the two parts after it, one after the other. The first process joins the second part while the
#: second process loads the third, then joins the third: the smaller the last part, the less of the
#: join waits on nothing else (0.9 s at 10^6 rows when the second process loaded all its rows as
#: one part). The shares balance what each process does (measured at 10^6 rows: loading 1 % of the
#: CSV costs this process 0.08 s, the second 0.065 s, joining it 0.016 s).
PARTS = (0.41, 0.88)

#: Weight of the other resources' bytes in those shares: their rows (sentences, names) are longer
#: than the figures', so a byte of them costs about half as much to load (measured with 25 MB of
#: statements beside 146 MB of amounts).
OTHER_BYTES_WEIGHT = 0.5


def parallel_jobs(package: Package, jobs: int | None) -> int:
    """How many processes build ``package``: ``jobs`` when given (1 or 2), else 2 for a large
    package on a machine with two cores or more (and a caller without threads of its own), else 1."""
    if jobs is not None:
        if jobs < 1:
            raise BuildError(f"jobs must be 1 or more, not {jobs}")
        return min(jobs, 2)
    largest = max((_resource_size(r) for r in package.resources), default=0)
    # Forking a process that runs other threads can copy a lock one of them holds: a program with
    # threads of its own (a server calling build, say) gets one process unless it asks for two.
    alone = threading.active_count() == 1
    return 2 if largest >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) >= 2 and alone else 1


def _resource_size(resource: Resource) -> int:
    try:
        return (Path(resource.basepath or ".") / resource.path).stat().st_size
    except (OSError, TypeError):
        return 0


def _fill_serial(db: sqlite_utils.Database, package: Package, step: Callable[[str], None],
                 site: bool = True) -> tuple[dict[str, int], list[Finding]]:
    """Load, check, run the rules and (``site``) build everything else, one step after the other."""
    counts = load_database(db, package, step)  # reports its own steps
    # The rules' sorts hold as much memory as the page cache allows, and run no faster with more.
    db.conn.execute(f"pragma cache_size = -{parallel.READ_CACHE_KIB}")
    findings = run_rules(db)
    db.conn.execute(f"pragma cache_size = -{CACHE_KIB}")
    step("rules")
    if not site:
        return counts, findings
    _findings_table(db, findings)
    create_views(db, materialized=True)
    _indexes(db)  # the findings table's
    create_layout_views(db)
    step("findings and views")
    _search_index(db)
    step("search index")
    _facet_counts(db)
    step("facet counts")
    # Full statistics (0.7 s at 10^6 rows): with sampled ones (analysis_limit) the planner
    # sorted a million rows for the table page instead of walking the primary key.
    db.conn.execute("analyze")
    step("analyze")
    return counts, findings


#: Files the second process writes beside the new database (its two parts of the largest CSV,
#: the search documents, its layout tables): suffixes of the new database's name.
_WORKER_FILES = (".part2", ".part3", ".docs", ".layouts")


def _remove_stale_files(target: Path) -> None:
    """Remove the temporary files a build to ``target`` left when it was killed outright (named
    after its process id, by ``_build``): those of a process that is no longer running."""
    pattern = re.compile(re.escape(target.name) + r"\.(\d+)-[^.]+\.(?:inspect\.)?tmp(?:-wal|-shm|-journal|"
                         + "|".join(re.escape(s) for s in _WORKER_FILES) + r")?(?:-wal|-shm|-journal)?")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        m = pattern.fullmatch(name)
        if m and not _running(int(m.group(1))):
            (target.parent / name).unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Whether a process ``pid`` is running (one of another user's counts)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _side_file(tmp: Path, suffix: str) -> Path:
    return tmp.with_name(tmp.name + suffix)


def _write_ahead_log(conn: sqlite3.Connection) -> bool:
    """Switch the new database to a write-ahead log (readers see committed rows while this process
    writes); False when SQLite could not (it then keeps the journal mode it had)."""
    return conn.execute("pragma journal_mode = wal").fetchone()[0] == "wal"


def part_cuts(package: Package, largest: Resource) -> list[int] | None:
    """The byte offsets where ``largest`` is cut into three parts (see PARTS); None when it cannot
    be cut so (``split_point``), or is too small to be cut twice."""
    size = _resource_size(largest)
    others = OTHER_BYTES_WEIGHT * sum(_resource_size(r) for r in package.resources if r is not largest)
    cuts: list[int] = []
    for share in PARTS:
        share = (share * (size + others) - others) / size
        # Each cut counts quotes from the one before (where a record starts): the file is read once.
        cut = split_point(largest, share, after=cuts[-1] if cuts else 0) if 0.05 < share < 1 else None
        if cut is None or (cuts and cut <= cuts[-1]):
            return None
        cuts.append(cut)
    return cuts


def _fill_parallel(db: sqlite_utils.Database, package: Package, largest: Resource, cuts: list[int], tmp: Path,
                   worker: parallel.Worker, step: Callable[[str], None],
                   site: bool = True) -> tuple[dict[str, int], list[Finding]] | None:
    """The same as ``_fill_serial`` with a second process (``worker``, see ``opendata.parallel``):
    it loads the parts of ``largest`` after the first of ``cuts`` (``part_cuts``), then reads the
    search documents and runs rules while this one builds indexes, layout tables and search
    (without ``site``: the rules only, shared between the two).

    None when the set-based load cannot vouch for the package: the caller then builds it with one
    process, whose streaming reader names every problem."""
    parts = list(zip(cuts, [*cuts[1:], None]))
    part_dbs = [_side_file(tmp, suffix) for suffix in _WORKER_FILES[:len(parts)]]
    docs_db, layouts_db = (_side_file(tmp, suffix) for suffix in _WORKER_FILES[len(parts):])
    try:
        for (start, stop), part_db in zip(parts, part_dbs):
            worker.submit(parallel.load_part_of, str(package.basepath), largest.name, start, stop, str(part_db),
                          CACHE_KIB, PAGE_SIZE)
        _create_tables(db, package)
        counts = load_checked(db.conn, package, stop={largest.name: cuts[0]})
        step("read and load (first part)")
        if counts is None:
            return None
        for number, part_db in enumerate(part_dbs, start=2):
            rows = worker.result()
            step(f"read and load (waiting for part {number})")
            if rows is None or not merge_part(db.conn, part_db, largest.name, rows):
                return None
            counts[largest.name] += rows
            part_db.unlink()
            step(f"join part {number}")
        db.conn.commit()
        # The second process reads the new database while this one writes to it: with a write-ahead
        # log it sees the rows as loaded, and each index once it is committed. It reads the search
        # documents, computes its layout tables and runs the rules that read the primary key only
        # (the hierarchy) first, then the schema checks (which read the indexes built below), then
        # takes the other rules (which read the index on table and line, built first) one at a
        # time, as this process does once its own work is done.
        if not _write_ahead_log(db.conn):  # e.g. a file system without shared memory: one process
            return None
        if site:
            worker.submit(parallel.search_documents_on, str(tmp), str(docs_db))
            worker.submit(parallel.layouts_on, str(tmp), list(WORKER_LAYOUTS), str(layouts_db))
        worker.submit(parallel.primary_key_rules_on, str(tmp))
        worker.submit(parallel.check_on, str(tmp), str(package.basepath))
        # Last, the rules either process may take: the one that finishes its own work first takes more.
        shared_rules = parallel.shared_rule_ids()
        worker.submit(parallel.claimed_rules_on, str(tmp), shared_rules)
        db[RULE_INDEX[0]].create_index(list(RULE_INDEX[1]), if_not_exists=True)
        db.conn.commit()
        step("rule indexes")
        _indexes(db)
        step("indexes")
        own = _site_beside_worker(db, worker, shared_rules, docs_db, layouts_db, step) if site else []
        # The rules the second process has not taken yet: this process takes them too.
        own += parallel.run_claimed(db, shared_rules, worker.claim)
        db.conn.commit()  # the rules' temporary tables are dropped; nothing of theirs is written
        step("rules taken from the second process")
        primary_key_findings = worker.result()
        if not worker.result():  # the schema checks
            return None
        findings = in_registry_order(primary_key_findings + worker.result() + own)
        step("waiting for the rules and schema checks")
        if not site:
            return counts, findings
        _findings_table(db, findings)
        _indexes(db)  # the findings table's
        db.conn.execute("analyze rules")
        db.conn.execute("analyze findings")
        step("findings")
        return counts, findings
    finally:
        for side_file in (*part_dbs, docs_db, layouts_db):
            side_file.unlink(missing_ok=True)


def _site_beside_worker(db: sqlite_utils.Database, worker: parallel.Worker, shared_rules: list[str],
                        docs_db: Path, layouts_db: Path, step: Callable[[str], None]) -> list[Finding]:
    """This process's part of the site in a two-process build (layout tables, search index from the
    second process's ``docs_db``, its layout tables from ``layouts_db``, facet counts, statistics),
    taking shared rules whenever it would wait for the second process; the findings of the rules
    it took."""
    create_views(db, materialized=True)
    create_layout_views(db, only=tuple(n for n, _ in layout_queries() if n not in WORKER_LAYOUTS))
    step("layout tables")
    # Whenever this process would wait for the second one, it takes rules meanwhile.
    own = parallel.run_claimed(db, shared_rules, worker.claim, until=worker.ready)
    step("rules taken while the second process reads the search documents")
    worker.result()
    _search_index(db, docs_db)
    docs_db.unlink()
    step("search index")
    own += parallel.run_claimed(db, shared_rules, worker.claim, until=worker.ready)
    step("rules taken while the second process computes its layout tables")
    worker.result()
    create_layout_views(db, only=WORKER_LAYOUTS, built=layouts_db)
    layouts_db.unlink()
    step("the second process's layout tables")
    _facet_counts(db)
    step("facet counts")
    db.conn.execute("analyze")
    db.conn.commit()
    step("analyze")
    return own


_MISSING = re.compile(r"no such (table|column): (?:main\.)?(\S+)")


def missing_from_model(exc: sqlite3.OperationalError) -> str | None:
    """What the package lacks, when the rules, views or site tables failed on a table or column
    that is not there (a package that is not shaped like opendata's): None for any other error."""
    match = _MISSING.search(str(exc))
    if not match:
        return None
    kind, name = match.groups()
    name = name.rsplit(".", 1)[-1]  # a column as the query wrote it, with its table's alias
    what = f"resource {name!r}" if kind == "table" else f"field {name!r}"
    return (f"the package has no {what}, which opendata's accounting rules and site tables read "
            "(rule: opendata-model; see the resources and fields of the shipped datapackage/datapackage.json)")


def _kept(target: Path) -> str:
    """What a failed build left at ``target``: the previous database, or nothing (there was none)."""
    return "previous database kept" if target.exists() else "no database written"


def build(package_path: str | os.PathLike[str], db_path: str | os.PathLike[str],
          jobs: int | None = None) -> BuildResult:
    """Check the package's schema while loading it, then put the database atomically at ``db_path``.

    A package that breaks its schema raises PackageError; findings of the accounting rules are
    stored in the ``findings`` table and never stop the build. Whatever fails, and at whatever
    point, the previous database (and its .inspect.json) is left in place byte for byte: the
    build writes a temporary file beside it and renames it into place only at the end.
    ``jobs`` is the number of processes (see ``parallel_jobs``); the database holds the same rows either way.
    The package is read under its shared lock (``staging.package_lock``): never halfway through an import.
    """
    placed: list[BuildResult] = []
    try:
        with package_lock(package_path, exclusive=False):
            return _build(package_path, db_path, jobs, site=True, placed=placed)
    except KeyboardInterrupt as exc:
        if placed:  # a Ctrl-C held back while the files were renamed, or one just after: the build is done
            raise InterruptedOnceBuilt(placed[0], exc) from None
        raise


class InterruptedOnceBuilt(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) that came once the new database was in place (``result``): nothing to
    undo. ``interrupt`` is the KeyboardInterrupt it came as."""

    def __init__(self, result: BuildResult, interrupt: KeyboardInterrupt) -> None:
        super().__init__()
        self.result, self.interrupt = result, interrupt


def check(package_path: str | os.PathLike[str], jobs: int | None = None) -> BuildResult:
    """What ``build`` checks, and nothing else: the package loaded into a temporary database (its
    schema checked as the build checks it, in one or two processes as the build decides) and every
    accounting rule run over it; none of the tables only the site reads. Nothing is kept. A
    package that breaks its schema raises PackageError; SQLite's and the file system's errors
    (no room for the temporary database) are raised as they are."""
    with package_lock(package_path, exclusive=False), \
            tempfile.TemporaryDirectory(prefix="opendata-check-") as work:
        return _build(package_path, Path(work) / "check.db", jobs, site=False)


def _build(package_path: str | os.PathLike[str], db_path: str | os.PathLike[str], jobs: int | None,
           site: bool, placed: list[BuildResult] | None = None) -> BuildResult:
    """``build`` (``site``), or ``check``: the same load and rules, without the site's tables. The
    result is put in ``placed`` as soon as the database is in place."""
    LAST_TIMINGS.clear()
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        LAST_TIMINGS[name] = now - clock
        clock = now

    package = load_package(package_path)
    largest = max(package.resources, key=_resource_size, default=None)
    # A largest CSV that cannot be cut (an encoding, too small) is built by one process.
    cuts = part_cuts(package, largest) if parallel_jobs(package, jobs) > 1 and largest else None
    if os.fspath(db_path).endswith(("/", os.sep)):  # Path() drops the slash: x.db/ wrote a file x.db
        raise BuildError(f"{os.fspath(db_path)}: a folder; give the path of the database file to write "
                         f"(e.g. {os.path.join(os.fspath(db_path), 'opendata.db')})")
    target = Path(db_path)
    if blocking := next((p for p in target.parents if p.exists() and not p.is_dir()), None):
        raise BuildError(f"{target}: {blocking} is a file, not a folder; give the path of the database to write")
    if target.is_symlink():  # the file the link names is replaced, the link kept (it was replaced by the file)
        target = Path(os.path.realpath(target))
    if target.exists() and not target.is_file():
        raise BuildError(f"{target}: not a file; give the path of the database to write")
    if refusal := _why_not_replace(target):
        raise BuildError(f"{target}: {refusal}; not replaced (give the path of the database to write, or "
                         "remove the file)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_files(target)
        # The process's id in the name: a build killed outright (SIGKILL) cannot remove its files,
        # the next build to the same database does.
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.{os.getpid()}-", suffix=".tmp")
    except OSError as exc:
        raise BuildError(f"{target}: cannot write beside the database ({exc.strerror or exc})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    inspect_tmp = tmp.with_suffix(".inspect.tmp")
    side_files = [_side_file(tmp, suffix) for suffix in ("-wal", "-shm", "-journal", *_WORKER_FILES)]
    worker = None
    try:
        # The second process starts before any connection to the new database is open: it inherits none
        # (and the load plan, computed first).
        if cuts:
            prepare_load(package)
        worker = parallel.Worker(package) if cuts else None
        filled = None
        while filled is None:
            for leftover in (tmp, *side_files):
                leftover.unlink(missing_ok=True)
            db = sqlite_utils.Database(tmp)
            try:
                db.conn.execute(f"pragma page_size = {PAGE_SIZE}")  # before anything is written
                # A private temporary file: journalling buys nothing, the rename is what makes it safe.
                db.conn.execute("pragma journal_mode = off")
                db.conn.execute("pragma synchronous = off")
                db.conn.execute(f"pragma cache_size = -{CACHE_KIB}")
                with db.conn:
                    filled = (_fill_parallel(db, package, largest, cuts, tmp, worker, step, site) if worker
                              else _fill_serial(db, package, step, site))
                if filled is None:  # the set-based load had a doubt: one process, streaming reader
                    step("two processes given up: one process from the start")
                    worker.close()
                    worker = None
                    continue
                db.conn.commit()
                if site:
                    db.conn.execute("pragma journal_mode = delete")
                    inspect = _inspect_data(db.conn, target)
                    step("counts")
            finally:
                db.close()
        counts, findings = filled
        if not site:
            return BuildResult(target, counts, findings, processes=2 if worker else 1)
        entry = inspect[target.stem]
        # The file goes to disk (fsync, before the rename) while it is hashed: one waits on the
        # disk, the other reads the page cache.
        # The package's files are fingerprinted meanwhile (``fingerprint``: what serve compares).
        with ThreadPoolExecutor(2, thread_name_prefix="opendata-fsync") as pool:
            synced = pool.submit(_fsync, tmp)
            fingerprinted = pool.submit(package_fingerprint, package, package_path)
            entry["hash"] = _sha256(tmp)
            synced.result()
            entry["package"] = fingerprinted.result()
        # Its size and SQLite's count of its writes: counts of another file, or of this one changed
        # since, are not its counts (``site.app.make_app``).
        entry["size"], entry["changes"] = database_version(tmp)
        inspect_tmp.write_text(json.dumps(inspect, ensure_ascii=False, indent=1), encoding="utf-8")
        if target.exists():  # the database replaced keeps the permissions its owner gave it (444, 600...)
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        result = BuildResult(target, counts, findings, processes=2 if worker else 1)
        with signals_deferred():  # the database and its counts replaced together (a Ctrl-C between
            os.replace(tmp, target)  # the two left the new database beside the old counts)
            os.replace(inspect_tmp, target.with_suffix(".inspect.json"))
            if placed is not None:
                placed.append(result)
        step("hash and rename")
    except OpenDataError:
        raise
    except (sqlite3.Error, OSError) as exc:
        if isinstance(exc, sqlite3.OperationalError) and (missing := missing_from_model(exc)):
            raise PackageError(f"{package_path}: {missing}") from None
        if not site:  # check(): its caller says what could not run
            raise
        if isinstance(exc, sqlite3.Error):
            raise BuildError(f"{target}: build failed in SQLite, {_kept(target)} ({exc})") from None
        raise BuildError(f"{target}: build failed, {_kept(target)} ({exc.strerror or exc})") from None
    except Exception as exc:  # anything else still leaves the old database in place
        if not site:
            raise OpenDataError(f"{package_path}: the check could not finish ({type(exc).__name__}: {exc})") from exc
        raise BuildError(f"{target}: build failed, {_kept(target)} ({type(exc).__name__}: {exc})") from exc
    finally:
        if worker:
            worker.close()
        for leftover in (tmp, inspect_tmp, *side_files):
            if leftover.exists():
                leftover.unlink()
    return result
