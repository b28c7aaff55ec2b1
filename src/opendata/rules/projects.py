"""Projects: the spending of the projects a report lists against its 项目支出 total."""

from __future__ import annotations

from . import ERROR, WARNING, Finding, rule
from ..template import EXPENDITURE
from .tolerance import EPSILON, PRECISION_CTE, fmt, join_refs, row_ref

#: The 项目支出 total: table 3 (all funds) when the report has it, else table 5 (general budget), on
#: their expenditure side (the only side they have). One primary-key probe per report with projects:
#: joining every listed report to every total line instead had SQLite scan one list per line
#: (quadratic: 0.33 s at 10^6 amounts rows, 57 times what it took at 10^5).
_SQL = f"""with {PRECISION_CTE},
listed as (
  select report_id, sum(amount) as expected, count(amount) as n, group_concat(distinct source_ref) as refs
  from projects where amount is not null group by report_id),
picked as (
  select l.*, (select a.rowid from amounts a where a.report_id = l.report_id and a.table_no in (3, 5)
      and a.side = '{EXPENDITURE}' and a.line_key = '合计' and a.measure = '项目支出' and a.amount is not null
      order by a.table_no limit 1) as total_rowid
  from listed l)
select p.report_id, p.expected, p.n, p.refs, t.table_no, t.amount as stated, t.source_ref as total_ref,
  t.source_kind, (p.n + 1) * prec.half as tol
from picked p join amounts t on t.rowid = p.total_rowid
join prec on prec.report_id = p.report_id
where abs(t.amount - p.expected) > (p.n + 1) * prec.half + {EPSILON}"""


@rule("projects.total", "所列项目支出之和 = 项目支出合计", "Listed projects add up to the project expenditure total",
      ERROR, ("projects", "amounts", "reports"))
def check_projects(db):
    for row in db.query(_SQL):
        # Listing more than the total is always wrong; listing less may mean the list is partial.
        severity = ERROR if row["expected"] > row["stated"] else WARNING
        partial = "" if severity == ERROR else "（所列项目可能不全）"
        partial_en = "" if severity == ERROR else " (the list may be partial)"
        yield Finding(
            rule_id="projects.total", severity=severity, report_id=row["report_id"], resource="projects",
            row_ref=f"{row['n']} projects; total at " + row_ref(row["table_no"], "支出", "合计", "项目支出"),
            fields="amount", expected=round(row["expected"], 6), stated=row["stated"],
            difference=round(row["stated"] - row["expected"], 6), tolerance=round(row["tol"], 6),
            source_ref=join_refs(row["total_ref"], *(row["refs"] or "").split(",")),
            message_zh=f"表{row['table_no']} 项目支出合计为 {fmt(row['stated'])}，所列 {row['n']} 个项目支出之和为 "
                       f"{fmt(row['expected'])}{partial}",
            message_en=f"Project expenditure in table {row['table_no']} is {fmt(row['stated'])}, the {row['n']} "
                       f"listed projects add up to {fmt(row['expected'])}{partial_en}",
        )
