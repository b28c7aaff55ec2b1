"""SQL views the rules define for the built database (call ``create_views(db)`` after loading).

``implied_last_year``: for every year-over-year statement (增加/减少 X万元, 增长/下降 X%, period 上年),
the figure of last year it implies (this year's figure - change, or this year's / (1 + rate)), with
the tolerance that comes from the rounding of the printed figures, and last year's figure where the
package holds the same department's report of the year before (matched through the amounts row the
figure points at, else topic and label, else topic).
"""

from __future__ import annotations

import sqlite_utils

from ..layouts import materialize

from .tolerance import PERCENT_DECIMALS_SQL, TO_WAN_SQL

# The lookups below name one report; a unary "+" keeps SQLite from reading them through the index of
# a column shared by every report (year, kind, topic), which it may pick without statistics (as in
# the build, before ANALYZE): that made the view quadratic, 2.1 s at 10^6 amounts rows for each yoy
# rule, 61 times its time at 10^5.

_WAN = TO_WAN_SQL
_WAN_C = TO_WAN_SQL.replace("s.unit", "c.unit")
_WAN_P = TO_WAN_SQL.replace("s.unit", "p.unit")

#: One row per year-over-year statement. Columns in 万元 except growth_rate (%).
IMPLIED_LAST_YEAR_SQL = f"""with yoy as (
  select s.report_id, s.statement_no, s.section, s.topic, s.label, s.kind, s.period, s.value, s.unit,
    s.source_ref, s.sentence,
    substr(s.topic, 1, length(s.topic) - case s.kind when 'change' then 7 else 12 end) as stem,
    {PERCENT_DECIMALS_SQL.replace('s.sentence', "replace(s.sentence, '％', '%')")} as decimals
  from statements s
  where s.period = '上年' and ((s.kind = 'change' and s.topic like '%.change' and {_WAN} is not null)
    or (s.kind = 'growth_rate' and s.topic like '%.growth_rate' and s.unit = '%'))),
cur as (
  select y.*, coalesce(
      (select n.statement_no from statements n where n.report_id = y.report_id and +n.section = y.section
         and +n.kind = 'amount' and +n.topic = y.stem and n.statement_no < y.statement_no
         order by n.statement_no desc limit 1),
      (select n.statement_no from statements n where n.report_id = y.report_id and +n.kind = 'amount'
         and +n.topic = y.stem and coalesce(n.period, '本年') = '本年' order by n.statement_no limit 1)) as current_no
  from yoy y),
implied as (
  select c0.*, r.department_id, r.year, r.kind as report_kind,
    c.value * {_WAN_C} as current_value, c.label as current_label, c.table_no, c.line_key, c.measure,
    0.005 * {_WAN_C} as current_half,
    case when c0.kind = 'change' then c0.value * {TO_WAN_SQL.replace('s.unit', 'c0.unit')} end as change_value,
    case when c0.kind = 'growth_rate' then c0.value end as growth_rate,
    0.5 * power(10, -c0.decimals) as pct_half
  from cur c0 join reports r on r.report_id = c0.report_id
  join statements c on c.report_id = c0.report_id and c.statement_no = c0.current_no
  where {_WAN_C} is not null),
with_prev as (
  select i.*,
    case when i.kind = 'change' then i.current_value - i.change_value
      when 100.0 + i.growth_rate <> 0 then i.current_value / (1.0 + i.growth_rate / 100.0) end as implied_last_year,
    case when i.kind = 'change' then 0.005 * {TO_WAN_SQL.replace('s.unit', 'i.unit')} + i.current_half
      when 100.0 + i.growth_rate <> 0 then i.current_half / abs(1.0 + i.growth_rate / 100.0)
        + abs(i.current_value) * (i.pct_half / 100.0) / ((1.0 + i.growth_rate / 100.0) * (1.0 + i.growth_rate / 100.0))
      end as implied_tolerance,
    (select p.report_id from reports p where p.department_id = i.department_id and +p.year = i.year - 1
       and +p.kind = i.report_kind) as last_year_report_id
  from implied i)
select w.report_id, w.department_id, w.year, w.statement_no, w.section, w.topic, w.stem, w.label, w.kind,
  w.current_value, w.change_value, w.growth_rate, w.decimals, w.pct_half,
  round(w.implied_last_year, 6) as implied_last_year, round(w.implied_tolerance, 6) as implied_tolerance,
  w.last_year_report_id,
  coalesce(
    (select a.amount * case pr.unit when '元' then 0.0001 else 1.0 end from amounts a
       join reports pr on pr.report_id = a.report_id
     where a.report_id = w.last_year_report_id and a.table_no = w.table_no and a.line_key = w.line_key
       and +a.measure = w.measure and a.amount is not null),
    (select p.value * {_WAN_P} from statements p where p.report_id = w.last_year_report_id and +p.kind = 'amount'
       and coalesce(p.period, '本年') = '本年' and +p.topic = w.stem and +p.label = w.current_label
       order by p.statement_no limit 1),
    (select p.value * {_WAN_P} from statements p where p.report_id = w.last_year_report_id and +p.kind = 'amount'
       and coalesce(p.period, '本年') = '本年' and +p.topic = w.stem
       and (select count(distinct q.label) from statements q where q.report_id = w.last_year_report_id
            and +q.kind = 'amount' and +q.topic = w.stem) = 1
       order by p.statement_no limit 1)) as last_year_value,
  w.source_ref
from with_prev w"""


def create_views(db: sqlite_utils.Database, materialized: bool = False) -> None:
    """Create (or replace) the views of the rules: ``implied_last_year``; ``materialized``: as a view
    over a hidden table filled once, by report and statement (``layouts.materialize``; what a
    built database serves: its unfiltered page with two facets took 0.4-0.55 s at 10^6 rows)."""
    if materialized:
        materialize(db, "implied_last_year", IMPLIED_LAST_YEAR_SQL + "\norder by w.report_id, w.statement_no")
    else:
        db.create_view("implied_last_year", IMPLIED_LAST_YEAR_SQL, replace=True)
