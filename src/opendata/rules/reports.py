"""Reports: one report per department, year and kind (a second copy counts every figure twice), of a
year that can have been published."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from . import ERROR, Finding, rule

#: The department, year and kind of more than one report found by one GROUP BY first: each report
#: compared with every other of its year took 0.5 s at 10^6 rows (3,400 reports).
_SQL = """with twice as (select department_id, year, kind from reports group by department_id, year, kind
  having count(*) > 1)
select r.report_id, r.department_id, r.year, r.kind, r.source_file,
  (select group_concat(o.report_id, ', ') from reports o where o.department_id = r.department_id
     and o.year = r.year and o.kind = r.kind and o.report_id < r.report_id) as earlier
from twice w join reports r on r.department_id = w.department_id and r.year = w.year and r.kind = w.kind
where earlier is not null
order by r.report_id"""


@rule("reports.duplicate", "同一部门同一年度的同类报告只有一份", "One report per department, year and kind",
      ERROR, ("reports",))
def check_duplicate_reports(db):
    for row in db.query(_SQL):
        yield Finding(
            rule_id="reports.duplicate", severity=ERROR, report_id=row["report_id"], resource="reports",
            row_ref=f"report_id={row['report_id']}", fields="department_id, year, kind",
            source_ref=row["source_file"],
            message_zh=f"{row['department_id']} {row['year']} 年度{row['kind']}已有报告 {row['earlier']}，本报告是第二份："
                       "比较和合计会把同一部门同一年度算两次（若为更正版，应替换原报告）",
            message_en=f"{row['department_id']} {row['year']} {row['kind']} is already report {row['earlier']}: "
                       "a second report of the same department, year and kind is counted twice in comparisons "
                       "(a corrected version should replace the first)",
        )


@rule("reports.year", "报告年度不晚于可公开的年度", "A report's year is one that can have been published: a 决算 "
      "covers a year that has ended, a 预算 at most the coming year", ERROR, ("reports",))
def check_report_year(db):
    # A 决算 is drawn up after its year ends (a 2026 决算 in 2026 is a misread year, a typo in
    # reports.csv, or 预算 and 决算 swapped); a 预算 is published for the coming year at the earliest.
    this_year = date.today().year
    for row in db.query("select report_id, year, kind, source_file from reports "
                        "where (kind = '决算' and year >= :y) or (kind = '预算' and year > :y + 1) order by report_id",
                        {"y": this_year}):
        latest = this_year - 1 if row["kind"] == "决算" else this_year + 1
        yield Finding(
            rule_id="reports.year", severity=ERROR, report_id=row["report_id"], resource="reports",
            row_ref=f"report_id={row['report_id']}", fields="year, kind", source_ref=row["source_file"],
            message_zh=f"{row['year']} 年度{row['kind']}：今年是 {this_year} 年，{row['kind']}最晚为 {latest} 年度"
                       "（年度读错或填错，或预算、决算弄反？）",
            message_en=f"a {row['year']} {row['kind']} ({'final accounts' if row['kind'] == '决算' else 'budget'}) "
                       f"in {this_year}: the latest such report covers {latest} (a misread or mistyped year, "
                       "or 预算 and 决算 swapped?)",
        )


_TITLE_YEAR = re.compile(r"((?:19|20)[0-9][0-9])\s*年")


@rule("reports.title_year", "报告年度与标题中的年度一致", "A report's year is the year its title names",
      ERROR, ("reports",))
def check_title_year(db):
    # reports.csv's year edited (2020 -> 2019) while the title, the codes' edition and every sentence
    # say 2020: the report was compared with the wrong years and filed under the wrong one.
    for row in db.query("select report_id, year, title, source_file from reports order by report_id"):
        named = _TITLE_YEAR.search(unicodedata.normalize("NFKC", row["title"] or ""))  # ２０２０ 年度 too
        if named and int(named.group(1)) != row["year"]:
            yield Finding(
                rule_id="reports.title_year", severity=ERROR, report_id=row["report_id"], resource="reports",
                row_ref=f"report_id={row['report_id']}", fields="year, title", source_ref=row["source_file"],
                message_zh=f"年度为 {row['year']}，标题“{row['title']}”写的是 {named.group(1)} 年",
                message_en=f"year {row['year']}, but the title {row['title']!r} names {named.group(1)}",
            )
