"""Build SQLite from a data package with sqlite-utils: typed tables, keys, indexes, views, search.

The build writes to a temporary file beside the target and renames it into place only when
everything succeeded, so a failed build never touches the previous database.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
from frictionless import Package

from . import template
from .errors import BuildError, OpenDataError
from .package import check_schema, iter_rows, load_package
from .rules import Finding, run_rules
from .zh_search import tokens

SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "year": int}

#: Columns people filter and facet on, per table.
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "reports": [("department_id",), ("year",), ("kind",)],
    "report_tables": [("table_no",), ("status",)],
    "classification": [("code",), ("edition",), ("level",), ("scheme",), ("parent_id",)],
    "amounts": [("table_no", "side"), ("classification_id",), ("code",), ("measure",), ("source_kind",), ("code_certainty",)],
    "statements": [("topic",), ("kind",), ("section",), ("period",)],
    "findings": [("report_id",), ("rule_id",), ("severity",)],
}

#: View name and Chinese title of each standard table's layout.
TABLE_VIEWS = {
    1: "table1_income_expenditure_summary",
    2: "table2_income",
    3: "table3_expenditure",
    4: "table4_fiscal_summary",
    5: "table5_gpb_expenditure",
    6: "table6_gpb_basic_expenditure",
    7: "table7_three_public",
    8: "table8_government_funds",
    9: "table9_state_capital",
}


@dataclass
class BuildResult:
    """What a build produced."""

    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def _create_tables(db: sqlite_utils.Database, package: Package) -> None:
    for resource in package.resources:
        schema = resource.schema
        columns = {f.name: SQL_TYPES.get(f.type, str) for f in schema.fields}
        fks = []
        for fk in schema.foreign_keys:
            ref = fk["reference"]
            if len(fk["fields"]) == 1:
                fks.append((fk["fields"][0], ref["resource"] or resource.name, ref["fields"][0]))
        not_null = {f.name for f in schema.fields if f.constraints.get("required")}
        pk = schema.primary_key
        db[resource.name].create(columns, pk=pk[0] if len(pk) == 1 else tuple(pk),
                                 foreign_keys=fks, not_null=not_null)


def _load_rows(db: sqlite_utils.Database, package: Package) -> dict[str, int]:
    counts = {}
    for resource in package.resources:
        table = db[resource.name]
        table.insert_all(iter_rows(resource), batch_size=2000)
        counts[resource.name] = table.count
    return counts


def _table_views(db: sqlite_utils.Database) -> None:
    for table_no, name in TABLE_VIEWS.items():
        measures = list(dict.fromkeys(m for side in template.MEASURES[table_no].values() for m in side))
        pivots = ",\n  ".join(
            f"max(case when a.measure = '{m}' then a.amount end) as [{m}]" for m in measures)
        db.create_view(name, f"""
select r.report_id, d.name as department, r.year, a.side, a.line_no, a.code, a.item,
  {pivots}
from amounts a join reports r on r.report_id = a.report_id
  join departments d on d.department_id = r.department_id
where a.table_no = {table_no}
group by a.report_id, a.side, a.line_key
order by a.report_id, a.side, a.line_no""", replace=True)
    db.create_view("budget_execution", """
select r.report_id, d.name as department, r.year, a.code, a.item,
  c.level, max(case when a.measure = '年初预算数' then a.amount end) as initial_budget,
  max(case when a.measure = '合计' then a.amount end) as final_amount,
  round(100.0 * max(case when a.measure = '合计' then a.amount end)
    / nullif(max(case when a.measure = '年初预算数' then a.amount end), 0), 1) as execution_rate_pct,
  max(a.explanation) as explanation
from amounts a join reports r on r.report_id = a.report_id
  join departments d on d.department_id = r.department_id
  left join classification c on c.classification_id = a.classification_id
where a.table_no = 5
group by a.report_id, a.line_key
order by a.report_id, min(a.line_no)""", replace=True)


def _search_index(db: sqlite_utils.Database) -> None:
    """One searchable document per line item, narrative sentence, project, unit and code."""
    docs = db.query("""
select 'amounts' as kind, report_id, table_no || ':' || side || ':' || line_key as ref,
  item as title, group_concat(distinct explanation) as body
  from amounts group by report_id, table_no, side, line_key
union all
select 'statements', report_id, min(statement_no), section, sentence
  from statements group by report_id, sentence
union all
select 'projects', report_id, project_no, name, null from projects
union all
select 'report_units', report_id, unit_no, name, kind from report_units
union all
select 'classification', null, classification_id, code || ' ' || name, scheme || ' ' || level from classification
""")
    rows = ({**d, "tokens": tokens(f"{d['title'] or ''} {d['body'] or ''}")} for d in docs)
    db["search_index"].create({"id": int, "kind": str, "report_id": str, "ref": str, "title": str, "body": str,
                               "tokens": str}, pk="id")
    db["search_index"].insert_all(rows, batch_size=2000)
    db["search_index"].enable_fts(["tokens"], fts_version="FTS5", tokenize="unicode61", create_triggers=False)


def _findings_table(db: sqlite_utils.Database, findings: list[Finding]) -> None:
    columns = {"id": int, "rule_id": str, "severity": str, "report_id": str, "message_zh": str, "message_en": str,
               "resource": str, "row_ref": str, "fields": str, "expected": float, "stated": float,
               "difference": float, "tolerance": float, "source_ref": str}
    db["findings"].create(columns, pk="id", foreign_keys=[("report_id", "reports", "report_id")])
    db["findings"].insert_all((f.to_row() for f in findings), batch_size=2000)


def _indexes(db: sqlite_utils.Database) -> None:
    for table, indexes in INDEXES.items():
        if table in db.table_names():
            for cols in indexes:
                db[table].create_index(list(cols), if_not_exists=True)
    # Foreign-key columns get an index too, so label expansion and joins stay fast.
    for table in db.tables:
        for fk in table.foreign_keys:
            table.create_index([fk.column], if_not_exists=True)


def _write_inspect(target: Path) -> None:
    """Table counts and hash for `datasette serve -i --inspect-file` (startup without counting)."""
    import asyncio
    import json

    from datasette.cli import inspect_

    data = asyncio.run(inspect_([str(target)], None))
    out = target.with_suffix(".inspect.json")
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, out)


def load_database(db: sqlite_utils.Database, package: Package) -> dict[str, int]:
    """Create and fill one table per resource, with keys and indexes."""
    _create_tables(db, package)
    counts = _load_rows(db, package)
    _indexes(db)
    return counts


def build(package_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> BuildResult:
    """Validate the package's schema, then build the database atomically at ``db_path``.

    A package that breaks its schema raises PackageError; findings of the accounting rules are
    stored in the ``findings`` table and never stop the build.
    """
    package = load_package(package_path)
    check_schema(package)
    target = Path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        db = sqlite_utils.Database(tmp)
        with db.conn:
            counts = load_database(db, package)
            findings = run_rules(db)
            _findings_table(db, findings)
            _indexes(db)
            _table_views(db)
            _search_index(db)
        db.conn.execute("pragma journal_mode = delete")
        db.vacuum()
        db.close()
        os.replace(tmp, target)
        _write_inspect(target)
    except OpenDataError:
        raise
    except Exception as exc:  # anything else still leaves the old database in place
        raise BuildError(f"{target}: build failed, previous database kept ({type(exc).__name__}: {exc})") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return BuildResult(target, counts, findings)
