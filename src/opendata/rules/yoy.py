"""Year-over-year statements against last year's figures, where the package holds both years.

"与上年相比，增加633.83万元，增长33.2%" implies last year's figure (view ``implied_last_year``); when the
same department's report of the year before is in the package, that figure must match it (change),
and the stated rate must match the rate recomputed from the two years' figures (growth_rate).
"""

from __future__ import annotations

from . import ERROR, Finding, rule
from .tolerance import EPSILON, fmt, join_refs
from .views import IMPLIED_LAST_YEAR_SQL

#: Last year's figures are printed to 0.01 万元 too.
_LAST_HALF = 0.005

_SQL = f"""with v as ({IMPLIED_LAST_YEAR_SQL})
select * from v where last_year_value is not null and kind = :kind"""


@rule("yoy.change", "上年数 = 本年数 - 增减额（与上年报告一致）",
      "Last year's figure implied by a stated change equals last year's report", ERROR, ("statements", "amounts", "reports"))
def check_change(db):
    for row in db.query(_SQL, {"kind": "change"}):
        tol = row["implied_tolerance"] + _LAST_HALF
        diff = row["implied_last_year"] - row["last_year_value"]
        if abs(diff) <= tol + EPSILON:
            continue
        yield Finding(
            rule_id="yoy.change", severity=ERROR, report_id=row["report_id"], resource="statements",
            row_ref=f"statement_no={row['statement_no']} topic={row['topic']} vs report {row['last_year_report_id']}",
            fields="value", expected=round(row["last_year_value"], 6), stated=round(row["implied_last_year"], 6),
            difference=round(diff, 6), tolerance=round(tol, 6), source_ref=join_refs(row["source_ref"]),
            message_zh=f"{row['label']}：本年 {fmt(row['current_value'])} 减增减额 {fmt(row['change_value'])} 得上年 "
                       f"{fmt(row['implied_last_year'])}，而 {row['year'] - 1} 年报告为 {fmt(row['last_year_value'])}",
            message_en=f"{row['stem']}: this year {fmt(row['current_value'])} minus the stated change "
                       f"{fmt(row['change_value'])} gives {fmt(row['implied_last_year'])} for last year, but the "
                       f"{row['year'] - 1} report has {fmt(row['last_year_value'])}",
        )


@rule("yoy.growth_rate", "增减率 = (本年数 - 上年报告数) ÷ 上年报告数",
      "Stated growth rate equals the rate recomputed from last year's report", ERROR, ("statements", "amounts", "reports"))
def check_growth(db):
    for row in db.query(_SQL, {"kind": "growth_rate"}):
        last, cur = row["last_year_value"], row["current_value"]
        if abs(last) <= _LAST_HALF:
            continue
        expected = 100.0 * (cur - last) / last
        tol = row["pct_half"] + 100.0 * (_LAST_HALF + abs(cur / last) * _LAST_HALF) \
            / (abs(last) - _LAST_HALF)
        if abs(row["growth_rate"] - expected) <= tol + EPSILON:
            continue
        yield Finding(
            rule_id="yoy.growth_rate", severity=ERROR, report_id=row["report_id"], resource="statements",
            row_ref=f"statement_no={row['statement_no']} topic={row['topic']} vs report {row['last_year_report_id']}",
            fields="value", expected=round(expected, 4), stated=row["growth_rate"],
            difference=round(row["growth_rate"] - expected, 4), tolerance=round(tol, 4),
            source_ref=join_refs(row["source_ref"]),
            message_zh=f"{row['label']}：所述 {row['growth_rate']:g}%，按本年 {fmt(cur)} 与 {row['year'] - 1} 年报告 "
                       f"{fmt(last)} 计算为 {expected:.2f}%",
            message_en=f"{row['stem']}: stated {row['growth_rate']:g}%, from this year {fmt(cur)} and the "
                       f"{row['year'] - 1} report's {fmt(last)} it is {expected:.2f}%",
        )
