"""Hierarchy sums: table 合计 = Σ 类, 类 = Σ 款, 款 = Σ 项, in every table, side and measure.

Each coded line is summed into its nearest *disclosed* ancestor: a 项 whose 款 the report does not
state (a narrative often names only 类 and 项) counts towards its 类, and a 类 towards the table's
total line (合计; 本年支出合计 in tables 1 and 4, whose 类 lines may carry a name and no code; in table 6 人员经费合计 for 301/303 and 公用经费合计 for the
other economic classes). One GROUP BY over the whole amounts table, whatever the number of reports.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

from . import ERROR, WARNING, Finding, rule
from .tolerance import EPSILON, PRECISION_CTE, fmt, join_refs, row_ref

#: Every coded line with its nearest disclosed parent, computed once per rules run for the three
#: levels (run_rules drops it first, so a new run never sees an old one).
_TEMP = "_hierarchy_parented"

# Parents are looked up in amounts through its primary key (report_id, table_no, side, line_key,
# measure): a coded line's line_key is its code, so each lookup is one index probe.
_PARENTED_SQL = f"""create temp table {_TEMP} as with
coded as (
  select report_id, table_no, side, measure, line_key, code, amount, source_ref, source_kind
  from amounts where amount is not null and (code is not null
    -- tables 1 and 4 may print their 类 lines by name only: they still add up to 本年支出合计
    or (table_no in (1, 4) and side = '支出'
        and line_key not in ('本年支出合计', '结余分配', '年末结转和结余', '总计', '合计')))
),
probed as (
  -- A parent is probed only when needed (a 项 whose 款 is disclosed needs no 类 probe).
  select c.*,
    case
      when length(c.code) = 7 and exists (select 1 from amounts k where k.report_id = c.report_id
        and k.table_no = c.table_no and k.side = c.side and k.line_key = substr(c.code, 1, 5)
        and k.measure = c.measure and k.amount is not null) then '款'
      when length(c.code) >= 5 and exists (select 1 from amounts l where l.report_id = c.report_id
        and l.table_no = c.table_no and l.side = c.side and l.line_key = substr(c.code, 1, 3)
        and l.measure = c.measure and l.amount is not null) then '类'
      else 'total' end as parent_level
  from coded c),
parented as (
  select report_id, table_no, side, measure, line_key, code, amount, source_ref, source_kind,
    case parent_level
      when '款' then substr(code, 1, 5)
      when '类' then substr(code, 1, 3)
      when 'total' then case
        when table_no in (1, 4) then '本年支出合计'
        when table_no = 6 then case when substr(code, 1, 3) in ('301', '303') then '人员经费合计'
                                    else '公用经费合计' end
        else '合计' end end as parent_key,
    parent_level
  from probed)
select * from parented"""

_SQL = f"""with {PRECISION_CTE},
sums as (
  select report_id, table_no, side, measure, parent_key, sum(amount) as expected,
    count(*) as n, min(source_kind = 'table') as all_table
  from temp.{_TEMP} where parent_level = :level group by report_id, table_no, side, measure, parent_key)
select s.*, p.amount as stated, p.source_kind = 'table' and s.all_table as tables_only,
  p.source_ref as parent_ref, (s.n + 1) * prec.half as tol
from sums s
join amounts p on p.report_id = s.report_id and p.table_no = s.table_no and p.side = s.side
  and p.line_key = s.parent_key and p.measure = s.measure and p.amount is not null
join prec on prec.report_id = s.report_id
where abs(p.amount - s.expected) > (s.n + 1) * prec.half + {EPSILON}"""

_CHILDREN_SQL = f"""select group_concat(distinct source_ref) as refs, group_concat(line_key, ',') as children
from temp.{_TEMP} where parent_level = :level and report_id = :report_id and table_no = :table_no
  and side = :side and measure = :measure and parent_key = :parent_key"""

_LEVEL_NAMES = {"total": ("合计", "total"), "类": ("类", "class (类)"), "款": ("款", "section (款)")}
_CHILD_NAMES = {"total": ("类", "classes"), "类": ("款（或项）", "sections or items"), "款": ("项", "items")}


def hierarchy_findings(db: sqlite_utils.Database, rule_id: str, level: str) -> Iterator[Finding]:
    zh_parent, en_parent = _LEVEL_NAMES[level]
    zh_child, en_child = _CHILD_NAMES[level]
    if not db.execute(f"select 1 from temp.sqlite_master where name = '{_TEMP}'").fetchone():
        db.execute(_PARENTED_SQL)
        # Sums group in this order without sorting; a failing sum's children are one probe away.
        db.execute(f"create index temp.{_TEMP}_level on {_TEMP}"
                   "(parent_level, report_id, table_no, side, measure, parent_key)")
    for found in list(db.query(_SQL, {"level": level})):
        # The children's names and sources, for the few sums that fail only.
        row = {**found, **next(db.query(_CHILDREN_SQL, {**found, "level": level}))}
        over = row["expected"] > row["stated"]
        # A narrative may leave a line unlisted: a shortfall is then a warning, an excess is not.
        severity = ERROR if (over or row["tables_only"]) else WARNING
        shortfall = "" if severity == ERROR else "（叙述可能未列出全部科目）"
        shortfall_en = "" if severity == ERROR else " (the narrative may not list every line)"
        yield Finding(
            rule_id=rule_id, severity=severity, report_id=row["report_id"], resource="amounts",
            row_ref=row_ref(row["table_no"], row["side"], row["parent_key"], row["measure"]), fields="amount",
            expected=round(row["expected"], 6), stated=row["stated"],
            difference=round(row["stated"] - row["expected"], 6), tolerance=round(row["tol"], 6),
            source_ref=join_refs(row["parent_ref"], *(row["refs"] or "").split(",")),
            message_zh=f"表{row['table_no']} {row['parent_key']}（{zh_parent}）{row['measure']} 为 {fmt(row['stated'])}，"
                       f"其下 {row['n']} 个{zh_child}（{row['children']}）之和为 {fmt(row['expected'])}{shortfall}",
            message_en=f"Table {row['table_no']} {row['parent_key']} ({en_parent}) {row['measure']} is "
                       f"{fmt(row['stated'])}, its {row['n']} {en_child} ({row['children']}) add up to "
                       f"{fmt(row['expected'])}{shortfall_en}",
        )


@rule("hierarchy.total", "合计 = Σ 类", "Table total = sum of its classes (类)", ERROR, ("amounts", "reports"))
def check_total(db):
    return hierarchy_findings(db, "hierarchy.total", "total")


@rule("hierarchy.class", "类 = Σ 款", "Class (类) = sum of its sections (款)", ERROR, ("amounts", "reports"))
def check_class(db):
    return hierarchy_findings(db, "hierarchy.class", "类")


@rule("hierarchy.section", "款 = Σ 项", "Section (款) = sum of its items (项)", ERROR, ("amounts", "reports"))
def check_section(db):
    return hierarchy_findings(db, "hierarchy.section", "款")
