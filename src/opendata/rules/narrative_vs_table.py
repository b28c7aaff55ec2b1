"""Narrative vs tables: a figure the narrative repeats must equal the table's figure.

A ``statements`` row whose table_no/line_key/measure point at an ``amounts`` row is compared with
it; the same figure stated twice in the narrative (same topic, kind and period) must agree too.
Tolerance: none when both are printed to the same precision (they are the same rounded figure);
else the rounding of both (0.005 of the unit each is printed in).
"""

from __future__ import annotations

from . import ERROR, WARNING, Finding, rule
from ..template import EXPENDITURE, INCOME
from .tolerance import EPSILON, PRECISION_CTE, TO_WAN_SQL, fmt, join_refs, line_words, row_ref

#: Amounts of the report in 万元 (a 元 report's amounts divided by 10,000).
_AMOUNT_WAN = "(a.amount * case r.unit when '元' then 0.0001 else 1.0 end)"

#: Two printings of one figure at the same precision must be identical; at different precisions
#: (亿元 in the text, 万元 in the table) they may differ by the two half units.
_HALF_S = f"(0.005 * {TO_WAN_SQL})"
_HALF_A = "(prec.half * case r.unit when '元' then 0.0001 else 1.0 end)"
_TOL = f"(case when abs({_HALF_S} - {_HALF_A}) < 1e-12 then 0 else {_HALF_S} + {_HALF_A} end)"

_SQL_TABLE = f"""with {PRECISION_CTE}
select s.report_id, s.statement_no, s.section, s.label, s.value, s.unit, s.source_ref as stmt_ref,
  s.table_no, s.line_key, s.measure, a.side, a.item, a.source_ref as amount_ref, a.source_kind,
  s.value * {TO_WAN_SQL} as stated_wan, {_AMOUNT_WAN} as table_wan,
  {_TOL} as tol
from statements s
join amounts a on a.report_id = s.report_id and a.table_no = s.table_no
  -- every side the schema allows (its enum), named so that the primary key finds the line directly
  -- instead of reading the whole table of the report for each statement (0.8 -> 0.2 s at 10^6 rows)
  and a.side in ('{INCOME}', '{EXPENDITURE}')
  and a.line_key = s.line_key and a.measure = s.measure and a.amount is not null
join reports r on r.report_id = s.report_id
join prec on prec.report_id = s.report_id
where s.kind = 'amount' and {TO_WAN_SQL} is not null
  and abs(s.value * {TO_WAN_SQL} - {_AMOUNT_WAN}) > {_TOL} + {EPSILON}"""


@rule("narrative.table", "情况说明数字 = 表中数字", "A figure the narrative repeats equals the table's figure",
      ERROR, ("statements", "amounts", "reports"))
def check_narrative_vs_table(db):
    for row in db.query(_SQL_TABLE):
        where = row_ref(row["table_no"], row["side"], row["line_key"], row["measure"])
        yield Finding(
            rule_id="narrative.table", severity=ERROR, report_id=row["report_id"], resource="statements",
            row_ref=f"statement_no={row['statement_no']} -> amounts {where}", fields="value, amount",
            expected=round(row["table_wan"], 6), stated=round(row["stated_wan"], 6),
            difference=round(row["stated_wan"] - row["table_wan"], 6), tolerance=round(row["tol"], 6),
            source_ref=join_refs(row["stmt_ref"], row["amount_ref"]),
            message_zh=f"{row['section']} 所述“{row['label']}” {fmt(row['stated_wan'])} 万元，"
                       f"表{row['table_no']} {line_words(row['line_key'], row['item'])} {row['measure']} 为 "
                       f"{fmt(row['table_wan'])} 万元",
            message_en=f"The narrative ({row['section']}) states {row['label']} as {fmt(row['stated_wan'])} 万元, "
                       f"table {row['table_no']} {line_words(row['line_key'], row['item'])} {row['measure']} has "
                       f"{fmt(row['table_wan'])} 万元",
        )


#: The same amount stated twice in a report's narrative with two values. A statement that points at
#: an amounts row is checked against it by narrative.table; the others are the same figure when
#: topic, label (the printed subject), kind, period and unit are the same.
_SQL_REPEAT = f"""with money as (
  select s.report_id, s.statement_no, s.topic, s.kind, coalesce(s.period, '') as period, s.section, s.label,
    s.source_ref, s.value * {TO_WAN_SQL} as wan, 0.005 * {TO_WAN_SQL} as half
  from statements s
  where s.kind in ('amount', 'change') and {TO_WAN_SQL} is not null and s.table_no is null),
firsts as (
  select report_id, topic, label, kind, period, min(statement_no) as first_no
  from money group by report_id, topic, label, kind, period)
select b.report_id, b.topic, b.kind, b.period, a.statement_no as no_a, b.statement_no as no_b,
  a.wan as wan_a, b.wan as wan_b, a.section as section_a, b.section as section_b, a.label,
  a.source_ref as ref_a, b.source_ref as ref_b,
  case when abs(a.half - b.half) < 1e-12 then 0 else a.half + b.half end as tol
from firsts f
join money a on a.report_id = f.report_id and a.statement_no = f.first_no
join money b on b.report_id = f.report_id and b.topic = f.topic and b.label = f.label and b.kind = f.kind
  and b.period = f.period and b.statement_no > f.first_no
where abs(a.wan - b.wan) > case when abs(a.half - b.half) < 1e-12 then 0 else a.half + b.half end + {EPSILON}"""


@rule("narrative.repeat", "同一数字在情况说明中前后一致", "The same figure stated twice in the narrative agrees",
      WARNING, ("statements",))
def check_repeated_figures(db):
    for row in db.query(_SQL_REPEAT):
        yield Finding(
            rule_id="narrative.repeat", severity=WARNING, report_id=row["report_id"], resource="statements",
            row_ref=f"statement_no={row['no_b']} vs statement_no={row['no_a']} topic={row['topic']}",
            fields="value", expected=round(row["wan_a"], 6), stated=round(row["wan_b"], 6),
            difference=round(row["wan_b"] - row["wan_a"], 6), tolerance=round(row["tol"], 6),
            source_ref=join_refs(row["ref_a"], row["ref_b"]),
            message_zh=f"“{row['label']}”在 {row['section_a']} 为 {fmt(row['wan_a'])} 万元，在 {row['section_b']} 为 "
                       f"{fmt(row['wan_b'])} 万元",
            message_en=f"{row['topic']} is {fmt(row['wan_a'])} 万元 in {row['section_a']} but {fmt(row['wan_b'])} 万元 "
                       f"in {row['section_b']}",
        )
