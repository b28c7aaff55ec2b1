"""The standard tables as published: one view per table laying out a report's lines with its
columns side by side (表1 ... 表9), budget_execution (年初预算数 against 决算数 per 表5 line),
report_totals (one row per report: its totals, to compare departments and years), and two
comparisons across reports: year_on_year (a 表5 code's 决算数 against the same department's the
year before) and class_shares (each 类's share of a report's 表5 total).

Each view reads a hidden table the build fills once from ``amounts`` (``create_layout_views``), in
printed order: the GROUP BY over every figure runs once, not on every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import DescIndex

from . import template

#: View name of each standard table's layout, by table number.
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

#: The 类 (and 款) a coded line belongs to, for facets: its first 3 (5) digits and the 类's name.
_CLASS_COLUMNS = ("substr(a.code, 1, 3) as class_code, k.name as class_name, "
                  "case when length(a.code) >= 5 then substr(a.code, 1, 5) end as section_code")


def layout_queries() -> Iterator[tuple[str, str]]:
    """(view name, SQL) of each standard table's layout and of budget_execution, then of
    report_totals, year_on_year and class_shares. A layout has one row per line of a report's
    table, its measures as columns, in printed order: the lines are grouped first and joined to
    their report, department and class after (one lookup per line, not per figure). Whatever order
    SQLite reads a line's figures in, the line is the same (its name is the one of its first column
    that has one), and lines a narrative gives on the same line number follow their line_key."""
    for table_no, name in TABLE_VIEWS.items():
        measures = list(dict.fromkeys(m for side in template.MEASURES[table_no].values() for m in side))
        pivots = ",\n    ".join(f"max(amount) filter (where measure = '{m}') as [{m}]" for m in measures)
        # A line's name is its first column's (a narrative may word each figure of a line its own way).
        rank = " ".join(f"when '{m}' then '{i:02d}'" for i, m in enumerate(measures))
        item = f"substr(min(case measure {rank} else '99' end || item), 3)"
        yield name, f"""
select a.report_id, r.department_id, d.name as department, r.year, a.side, a.line_no, a.line_key, a.code, a.item,
  {_CLASS_COLUMNS}, {", ".join(f"a.[{m}]" for m in measures)}
from (select report_id, side, line_key, min(line_no) as line_no, min(code) as code, {item} as item,
    {pivots}
  from amounts not indexed where table_no = {table_no} group by report_id, side, line_key) a
  join reports r on r.report_id = a.report_id
  join departments d on d.department_id = r.department_id
  left join classification k on k.classification_id = substr(a.code, 1, 3) || '@' || r.year
order by a.report_id, a.side, a.line_no, a.line_key"""
    yield "budget_execution", f"""
select a.report_id, r.department_id, d.name as department, r.year, a.code, a.item,
  {_CLASS_COLUMNS},
  c.level, a.initial_budget, a.final_amount,
  round(100.0 * a.final_amount / nullif(a.initial_budget, 0), 1) as execution_rate_pct, a.explanation
from (select report_id, line_key, min(line_no) as line_no, code, classification_id,
    -- The line's name as its 合计 (else 年初预算数) figure gives it: a narrative names each figure
    -- of a line its own way (芦淞's 表5 合计 line: 一般公共预算财政拨款基本支出 for its 基本支出).
    coalesce(max(item) filter (where measure = '合计'), max(item) filter (where measure = '年初预算数'),
             min(item)) as item,
    max(amount) filter (where measure = '年初预算数') as initial_budget,
    max(amount) filter (where measure = '合计') as final_amount, max(explanation) as explanation
  from amounts not indexed where table_no = 5 group by report_id, line_key) a
  join reports r on r.report_id = a.report_id
  join departments d on d.department_id = r.department_id
  left join classification c on c.classification_id = a.classification_id
  left join classification k on k.classification_id = substr(a.code, 1, 3) || '@' || r.year
order by a.report_id, a.line_no, a.line_key"""
    yield "report_totals", REPORT_TOTALS_SQL
    yield "year_on_year", YEAR_ON_YEAR_SQL
    yield "class_shares", CLASS_SHARES_SQL


def _total(table_no: int, measure: str, line_keys: str = "'合计'") -> str:
    return (f"max(a.amount) filter (where a.table_no = {table_no} and a.line_key in ({line_keys}) "
            f"and a.measure = '{measure}')")


#: One row per report with the totals its tables (or, without tables, its narrative) give; null
#: where the report does not give one. Only the total lines are read (a.side named on both sides so
#: that the primary key finds them: one probe per report and table).
REPORT_TOTALS_SQL = f"""
select r.report_id, r.department_id, d.name as department, r.year, r.kind,
  coalesce({_total(1, '决算数', "'本年支出合计'")}, {_total(3, '本年支出合计', "'合计', '本年支出合计'")})
    as total_expenditure,
  {_total(5, '合计')} as gpb_expenditure,
  {_total(5, '年初预算数')} as gpb_initial_budget,
  {_total(5, '基本支出')} as gpb_basic,
  {_total(5, '项目支出')} as gpb_project,
  {_total(7, '预算数')} as three_public_budget,
  {_total(7, '决算数')} as three_public_final
from reports r join departments d on d.department_id = r.department_id
  left join amounts a on a.report_id = r.report_id and a.table_no in (1, 3, 5, 7)
    and a.side in ('{template.INCOME}', '{template.EXPENDITURE}') and a.line_key in ('合计', '本年支出合计')
group by r.report_id
order by d.name, r.year, r.report_id"""


#: The standard table whose lines a layout reads.
LAYOUT_TABLE_NO = {**{name: table_no for table_no, name in TABLE_VIEWS.items()},
                   "budget_execution": 5, "year_on_year": 5, "class_shares": 5}


def layout_sql(conn: Any, name: str, sql: str) -> str:
    """The layout's ``sql``, or the same columns with no rows when no report has a line in its table
    (表8 and 表9 often have none: "本部门无政府性基金收入"): one probe of the index on table_no
    instead of a scan of every amounts row (0.08 s each at 10^6 rows).

    Tried: the lines grouped in amounts' primary-key order (report_id, table_no, side, line_key),
    read through it without a sort: 30 % faster alone, but as slow as the scan and its sort in a
    two-process build (the other process scans and sorts meanwhile; the lookups wait longer)."""
    table_no = LAYOUT_TABLE_NO.get(name)
    if table_no is not None and conn.execute("select 1 from amounts where table_no = ? limit 1",
                                             (table_no,)).fetchone() is None:
        return f"select * from ({sql}) limit 0"
    return sql


#: Indexes of a layout's table besides the one on report_id, for the named queries that read it in
#: another order or by another column (metadata.yml): ``compare_totals`` walks report_totals by
#: department and year (1,000 of 3,414 rows at 10^6 amounts rows: 1.0 ms instead of 1.8-2.2 for the
#: sort), ``compare_item`` finds one code's lines of budget_execution (0.5 ms instead of a 5 ms scan).
LAYOUT_INDEXES: dict[str, list[tuple[str, ...]]] = {
    "report_totals": [("department", "year", "report_id")],
    "budget_execution": [("code",)],
    # compare_three_public, compare_growth and compare_shares read these in their order: the first
    # 1,000 rows without computing (or sorting) the others (65-140 ms each at 10^6 amounts rows).
    TABLE_VIEWS[7]: [("department", "year", "report_id", "line_no")],
    "year_on_year": [("department", "year", "code")],
    "class_shares": [("department", "year", DescIndex("final_amount"))],
}


def layout_table(view: str) -> str:
    """The hidden table a materialized view reads (``materialize``)."""
    return f"_{view}"


def materialize(db: sqlite_utils.Database, name: str, sql: str) -> None:
    """View ``name`` over a hidden table (``layout_table(name)``) filled once with ``sql``'s rows in
    their order, with an index on report_id (and those of LAYOUT_INDEXES). A page of the view then
    reads a table, whatever it asks (the first 50 rows, their count, facets, one report's rows),
    instead of computing every row again.
    No ORDER BY in the view: a scan of the table gives its rows in rowid order (through the
    report_id index too, for one report), and SQLite flattens the view into the queries over it: a
    facet's GROUP BY over it takes as long as over the table (with "order by rowid" here, 7x longer:
    the view was materialized first)."""
    table = layout_table(name)
    db.conn.execute(f"drop view if exists main.[{name}]")
    db.conn.execute(f"drop table if exists main.[{table}]")
    db.conn.execute(f"create table [{table}] as {sql}")
    db[table].create_index(["report_id"])
    for columns in LAYOUT_INDEXES.get(name, []):
        db[table].create_index(list(columns))
    db.create_view(name, f"select * from [{table}]")


def create_layout_views(db: sqlite_utils.Database, only: tuple[str, ...] | None = None,
                        built: Path | None = None) -> None:
    """Each layout (``layout_queries``, or those in ``only``) as a view over a table the build
    fills once, in printed order (``materialize``); the tables in the file ``built``
    (``parallel.layouts_on``) are copied from it. At 10^6 amounts rows the GROUP BY over amounts
    for each page of a layout took 1-3 s, past the time limit."""
    if built is not None:
        db.conn.commit()  # SQLite attaches outside a transaction only
        db.conn.execute("attach database ? as built", (str(built),))
    try:
        for name, sql in layout_queries():
            if only is not None and name not in only:
                continue
            materialize(db, name, layout_sql(db.conn, name, sql) if built is None
                        else f"select * from built.[{name}] order by rowid")
    finally:
        if built is not None:
            db.conn.commit()
            db.conn.execute("detach database built")


#: Each 表5 code's 决算数 (合计) in a final account against the same department's the year before
#: (both in the data): a line's item is the one its 合计 figure gives. Codes may change between
#: years (the classification is revised): a line pairs equal codes only.
#: The GROUP BY keeps every line as it is (with table_no and measure fixed, its columns are the
#: rest of amounts' primary key) and tells SQLite how many lines there are: without it, in a build
#: (before ANALYZE), SQLite thought them few and paired them without an index: 144 s at 10^6 amounts
#: rows, against 0.16 s.
YEAR_ON_YEAR_SQL = """
with t as (
  select r.report_id, r.department_id, r.year, a.code, a.item, a.amount
  from amounts a join reports r on r.report_id = a.report_id
  where a.table_no = 5 and a.measure = '合计' and a.code is not null and r.kind = '决算'
  group by a.report_id, a.side, a.line_key)
select cur.report_id, cur.department_id, d.name as department, cur.year, cur.code, cur.item,
  cur.amount as final_amount, prev.report_id as last_year_report_id, prev.year as last_year,
  prev.amount as last_year_amount, round(cur.amount - prev.amount, 2) as change_amount,
  round(100.0 * (cur.amount - prev.amount) / nullif(prev.amount, 0), 1) as change_pct
from t cur join t prev on prev.department_id = cur.department_id and prev.code = cur.code
  and prev.year = cur.year - 1
  join departments d on d.department_id = cur.department_id
order by d.name, cur.year, cur.code, cur.report_id, prev.report_id"""

#: Each 类 (a 3-digit 表5 code) of a report with its 决算数 and its share of the report's 表5 total
#: (合计 line), largest first; the 类's name from the classification, else the report's wording. The
#: share worked out from the table, to 0.01 %, the precision reports print theirs at (Putuo's 201:
#: 71.65 %; its narrative says 71.73 %, a finding of ratio.share).
CLASS_SHARES_SQL = """
select r.report_id, r.department_id, d.name as department, r.year, a.code, coalesce(c.name, a.item) as item,
  a.amount as final_amount, round(100.0 * a.amount / nullif(t.amount, 0), 2) as share_pct
from amounts a join reports r on r.report_id = a.report_id
  join departments d on d.department_id = r.department_id
  left join classification c on c.classification_id = a.classification_id
  left join amounts t on t.report_id = a.report_id and t.table_no = 5 and t.side = a.side
    and t.line_key = '合计' and t.measure = '合计'
where a.table_no = 5 and a.measure = '合计' and length(a.code) = 3
order by d.name, r.year, a.amount desc, r.report_id, a.code"""
