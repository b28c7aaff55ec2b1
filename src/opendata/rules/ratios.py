"""Stated ratios against the ratio recomputed from the stated amounts.

Every 占 X% (share), 完成预算的 X% (execution_rate) and 增长/减少 X% (growth_rate) statement is paired
with the amounts it is computed from, by the narrative importer's topic keys (see
``docs/data-model.md``: ``S`` the amount, ``S.budget`` its budget, ``S.change`` its change,
``S.share`` / ``S.execution_rate`` / ``S.growth_rate`` the ratios):

* share ``S.share``: numerator the nearest preceding amount ``S`` of the same section; denominator
  the nearest amount of the parent topic (``P`` or ``P.total``) in the section, else the amount the
  sentence names ("占本年支出合计的"), else the parent topic elsewhere in the report, else the first
  amount of the same sentence (the "2540.24万元，主要用于：...164.55万元，占6.4%" pattern);
* execution rate ``S.execution_rate``: ``S`` over ``S.budget``, both the nearest preceding in the section;
* growth rate ``S.growth_rate``: ``S.change`` over (``S`` - ``S.change``), same period (上年 / 预算).

Tolerance: half a unit of the ratio's last printed decimal (read from its sentence: 88.3% -> 0.05,
88.31% -> 0.005) plus the propagated rounding of the amounts (0.005 of their unit each). Shares that
miss their own rounding by at most one printed step while the shares of their sentence add up to
exactly 100 are a warning (rounded so that they add to 100), not an error.
"""

from __future__ import annotations

from . import ERROR, WARNING, Finding, rule
from .tolerance import DIRECTION_SQL, EPSILON, PERCENT_DECIMALS_SQL, TO_WAN_SQL, fmt, join_refs

#: The topic without its last dotted segment ('gpb.basic.personnel' -> 'gpb.basic').
def _parent(expr: str) -> str:
    return f"rtrim(rtrim({expr}, replace({expr}, '.', '')), '.')"


_SUFFIX_LEN = {"share": len(".share"), "execution_rate": len(".execution_rate"), "growth_rate": len(".growth_rate")}

_NEAREST = """(select n.statement_no from statements n where n.report_id = r.report_id and n.section = r.section
   and n.kind = '{kind}' and n.topic = {topic} and n.statement_no < r.statement_no {extra}
   order by n.statement_no desc limit 1)"""
_FIRST_IN_REPORT = """(select n.statement_no from statements n where n.report_id = r.report_id
   and n.kind = 'amount' and n.topic = {topic} and coalesce(n.period, '本年') = '本年'
   order by n.statement_no limit 1)"""

#: Ratio statements with the statement numbers of their numerator and denominator.
_PAIRS = f"""ratio as (
  select s.report_id, s.statement_no, s.section, s.topic, s.label, s.kind, s.period, s.value, s.sentence,
    s.source_ref, {PERCENT_DECIMALS_SQL.replace('s.sentence', "replace(s.sentence, '％', '%')")} as decimals,
    {DIRECTION_SQL} as direction,
    substr(s.topic, 1, length(s.topic) - case s.kind when 'share' then {_SUFFIX_LEN['share']}
      when 'execution_rate' then {_SUFFIX_LEN['execution_rate']} else {_SUFFIX_LEN['growth_rate']} end) as stem
  from statements s
  -- A share's warning looks at the other ratios of its sentence (grouped, below): every kind is
  -- paired for the shares, only its own for the other kinds.
  where (:kind = 'share' or s.kind = :kind)
    and s.unit = '%' and ((s.kind = 'share' and s.topic like '%.share')
    or (s.kind = 'execution_rate' and s.topic like '%.execution_rate')
    or (s.kind = 'growth_rate' and s.topic like '%.growth_rate'))),
paired as (
  select r.*,
    case r.kind
      when 'growth_rate' then {_NEAREST.format(kind='change', topic="r.stem || '.change'",
                                               extra="and coalesce(n.period, '') = coalesce(r.period, '')")}
      else {_NEAREST.format(kind='amount', topic='r.stem', extra='')} end as num_no,
    case r.kind
      when 'execution_rate' then {_NEAREST.format(kind='amount', topic="r.stem || '.budget'", extra='')}
      when 'growth_rate' then coalesce({_NEAREST.format(kind='amount', topic='r.stem', extra='')},
                                       {_FIRST_IN_REPORT.format(topic='r.stem')})
      else coalesce(
        {_NEAREST.format(kind='amount', topic=_parent('r.stem'), extra='')},
        {_NEAREST.format(kind='amount', topic=_parent('r.stem') + " || '.total'", extra='')},
        (select n.statement_no from statements n where n.report_id = r.report_id and n.kind = 'amount'
           and coalesce(n.period, '本年') = '本年' and n.statement_no < r.statement_no and n.topic <> r.stem
           and instr(r.sentence, '占' || n.label || '的') > 0 order by n.statement_no desc limit 1),
        {_FIRST_IN_REPORT.format(topic=_parent('r.stem'))},
        {_FIRST_IN_REPORT.format(topic=_parent('r.stem') + " || '.total'")},
        (select n.statement_no from statements n where n.report_id = r.report_id and n.section = r.section
           and n.sentence = r.sentence and n.kind = 'amount' and n.statement_no < r.statement_no
           and n.topic <> r.stem order by n.statement_no limit 1)) end as den_no
  from ratio r),
valued as (
  select p.*, a.value * {TO_WAN_SQL.replace('s.unit', 'a.unit')} as a_wan,
    0.005 * {TO_WAN_SQL.replace('s.unit', 'a.unit')} as a_half, a.label as a_label, a.source_ref as a_ref,
    b.value * {TO_WAN_SQL.replace('s.unit', 'b.unit')} as b_wan,
    0.005 * {TO_WAN_SQL.replace('s.unit', 'b.unit')} as b_half, b.label as b_label, b.source_ref as b_ref,
    0.5 * power(10, -p.decimals) as pct_half
  from paired p
  join statements a on a.report_id = p.report_id and a.statement_no = p.num_no
  join statements b on b.report_id = p.report_id and b.statement_no = p.den_no
  where {TO_WAN_SQL.replace('s.unit', 'a.unit')} is not null and {TO_WAN_SQL.replace('s.unit', 'b.unit')} is not null),
computed as (
  select v.*,
    case v.kind when 'growth_rate' then 100.0 * v.direction * abs(v.a_wan) / (v.b_wan - v.direction * abs(v.a_wan))
      else 100.0 * v.a_wan / v.b_wan end as expected,
    case v.kind when 'growth_rate' then v.direction * abs(v.value) else v.value end as stated,
    case v.kind
      when 'growth_rate' then v.pct_half + 100.0 * (v.a_half * abs(v.b_wan) + v.b_half * abs(v.a_wan))
        / ((abs(v.b_wan - v.direction * abs(v.a_wan)) - v.a_half - v.b_half)
           * (abs(v.b_wan - v.direction * abs(v.a_wan)) - v.a_half - v.b_half))
      else v.pct_half + 100.0 * (v.a_half + abs(v.a_wan / v.b_wan) * v.b_half) / (abs(v.b_wan) - v.b_half) end as tol
  from valued v
  where case v.kind when 'growth_rate' then abs(v.b_wan - v.direction * abs(v.a_wan)) - v.a_half - v.b_half
    else abs(v.b_wan) - v.b_half end > 0)"""

_SQL = f"""with {_PAIRS},
grouped as (
  select c.*, sum(case when c.kind = 'share' then c.value end)
      over (partition by c.report_id, c.section, c.sentence, c.den_no) as group_sum,
    count(*) over (partition by c.report_id, c.section, c.sentence, c.den_no) as group_n
  from computed c)
select * from grouped where abs(stated - expected) > tol + {EPSILON} and kind = :kind"""

_KIND_TEXT = {
    "share": ("占比", "share"), "execution_rate": ("预算完成率", "budget execution rate"),
    "growth_rate": ("增减率", "growth rate"),
}


def ratio_findings(db, rule_id: str, kind: str):
    zh, en = _KIND_TEXT[kind]
    for row in db.query(_SQL, {"kind": kind}):
        severity = ERROR
        note_zh = note_en = ""
        step = 2 * row["pct_half"]
        if (kind == "share" and row["group_n"] > 1 and abs(row["group_sum"] - 100.0) < EPSILON
                and abs(row["stated"] - row["expected"]) <= step + row["tol"]):
            severity = WARNING
            note_zh, note_en = "（各项占比经调整合计为100%）", " (shares rounded so that they add up to 100%)"
        if kind == "growth_rate":
            prev = row["b_wan"] - row["direction"] * abs(row["a_wan"])
            basis_zh = (f"增减额 {fmt(row['direction'] * abs(row['a_wan']))} ÷ 基数 {fmt(prev)}"
                        f"（{fmt(row['b_wan'])} - {fmt(row['direction'] * abs(row['a_wan']))}）")
            basis_en = f"change {fmt(row['direction'] * abs(row['a_wan']))} / base {fmt(prev)}"
        elif kind == "execution_rate":
            basis_zh = f"决算数 {fmt(row['a_wan'])} ÷ 预算数 {fmt(row['b_wan'])}"
            basis_en = f"final {fmt(row['a_wan'])} / budget {fmt(row['b_wan'])}"
        else:
            basis_zh = f"{fmt(row['a_wan'])} ÷ {row['b_label']} {fmt(row['b_wan'])}"
            basis_en = f"{fmt(row['a_wan'])} / {fmt(row['b_wan'])} (statement {row['den_no']})"
        yield Finding(
            rule_id=rule_id, severity=severity, report_id=row["report_id"], resource="statements",
            row_ref=f"statement_no={row['statement_no']} topic={row['topic']} "
                    f"(from statement_no={row['num_no']}, {row['den_no']})",
            fields="value", expected=round(row["expected"], 4), stated=row["stated"],
            difference=round(row["stated"] - row["expected"], 4), tolerance=round(row["tol"], 4),
            source_ref=join_refs(row["source_ref"], row["a_ref"], row["b_ref"]),
            message_zh=f"{row['label']}：所述 {row['stated']:g}%，按 {basis_zh} 计算为 {row['expected']:.2f}%{note_zh}",
            message_en=f"{row['topic']} {en}: stated {row['stated']:g}%, recomputed from {basis_en} it is "
                       f"{row['expected']:.2f}%{note_en}",
        )


@rule("ratio.share", "占比 = 金额 ÷ 基数", "Stated share (占 X%) = amount / base", ERROR, ("statements",))
def check_shares(db):
    return ratio_findings(db, "ratio.share", "share")


@rule("ratio.execution_rate", "完成预算比例 = 决算数 ÷ 预算数", "Stated execution rate = final / budget",
      ERROR, ("statements",))
def check_execution(db):
    return ratio_findings(db, "ratio.execution_rate", "execution_rate")


@rule("ratio.growth_rate", "增减率 = 增减额 ÷ 上年数（或预算数）", "Stated growth rate = change / previous figure",
      ERROR, ("statements",))
def check_growth(db):
    return ratio_findings(db, "ratio.growth_rate", "growth_rate")
