"""Measures: each figure stands in a column its table has, on its side (the template's columns).

A figure under a column its table does not print (``决算`` for 决算数, a 表3 column on 表1) kept
every schema check and fell out of every identity and every layout view, which list the template's
columns only: an identity of its line then failed for the wrong reason, or none did.
"""

from __future__ import annotations

from . import ERROR, Finding, rule
from .. import template as T


def _allowed_sql() -> str:
    """(table_no, side, measure) of every column of the template, as SQL values."""
    rows = [f"({no}, '{side}', '{measure}')" for no, sides in T.MEASURES.items()
            for side, measures in sides.items() for measure in measures]
    return "values " + ", ".join(rows)


_SQL = f"""with allowed(table_no, side, measure) as ({_allowed_sql()})
select a.report_id, a.table_no, a.side, a.line_no, a.line_key, a.item, a.measure, a.source_ref
from amounts a
where not exists (select 1 from allowed m where m.table_no = a.table_no and m.side = a.side and m.measure = a.measure)
order by a.report_id, a.table_no, a.side, a.line_no, a.measure"""


def _columns(table_no: int, side: str) -> str:
    return "、".join(T.MEASURES.get(table_no, {}).get(side, [])) or "（无）"


@rule("amounts.measure", "数字所在栏目为该表该方的栏目", "A figure's column is one its table prints on that side",
      ERROR, ("amounts",))
def check_measures(db):
    for row in db.query(_SQL):
        columns = _columns(row["table_no"], row["side"])
        yield Finding(
            rule_id="amounts.measure", severity=ERROR, report_id=row["report_id"], resource="amounts",
            row_ref=f"table_no={row['table_no']}, side={row['side']}, line_key={row['line_key']}, "
                    f"measure={row['measure']}",
            fields="measure", source_ref=row["source_ref"],
            message_zh=f"表{row['table_no']}{row['side']}方第{row['line_no']}行“{row['item']}”的栏目“{row['measure']}”"
                       f"不是该表的栏目（{columns}）：这个数字不会计入任何核对和标准表",
            message_en=f"table {row['table_no']} ({row['side']}) line {row['line_no']} {row['item']}: column "
                       f"{row['measure']!r} is not one of the table's ({columns}); the figure is left out of every "
                       "check and layout",
        )
