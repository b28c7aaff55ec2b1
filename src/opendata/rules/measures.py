"""Measures: each figure stands in a column its table has, on its side (the template's columns).

A figure under a column its table does not print (``决算`` for 决算数, a 表3 column on 表1) kept
every schema check and fell out of every identity and every layout view, which list the template's
columns only: an identity of its line then failed for the wrong reason, or none did.
"""

from __future__ import annotations

from . import ERROR, Finding, rule
from .. import template as T


#: (table_no, side, measure) of every column of the template.
ALLOWED = frozenset((no, side, measure) for no, sides in T.MEASURES.items()
                    for side, measures in sides.items() for measure in measures)

#: The rows of one (table_no, measure, side) the template does not have.
_SQL = """select a.report_id, a.table_no, a.side, a.line_no, a.line_key, a.item, a.measure, a.source_ref
from amounts a where a.table_no = ? and a.measure = ? and a.side = ?
order by a.report_id, a.table_no, a.side, a.line_no, a.measure"""
#: The next (table_no, measure, side) after one, through an index that begins with them.
_NEXT = """select table_no, measure, side from amounts where (table_no, measure, side) > (?, ?, ?)
order by table_no, measure, side limit 1"""


def _columns_used(db) -> list[tuple]:
    """Each (table_no, measure, side) amounts holds: a few dozen, found by one seek each through
    the rules' index (``build.INDEXES``; a scan of every row took 0.45 s at 10^6 rows), else by a scan."""
    conn = db.conn
    indexed = any([c for _, _, c in conn.execute(f"pragma index_info([{name}])")][:3] == ["table_no", "measure", "side"]
                  for (name,) in conn.execute("select name from pragma_index_list('amounts')"))
    if not indexed:
        return conn.execute("select distinct table_no, measure, side from amounts").fetchall()
    found = []
    row = conn.execute("select table_no, measure, side from amounts order by table_no, measure, side limit 1").fetchone()
    while row is not None:
        found.append(tuple(row))
        row = conn.execute(_NEXT, tuple(row)).fetchone()
    return found


def _columns(table_no: int, side: str) -> str:
    return "、".join(T.MEASURES.get(table_no, {}).get(side, [])) or "（无）"


@rule("amounts.measure", "数字所在栏目为该表该方的栏目", "A figure's column is one its table prints on that side",
      ERROR, ("amounts",))
def check_measures(db):
    wrong = [c for c in _columns_used(db) if (c[0], c[2], c[1]) not in ALLOWED]
    rows = [row for combo in wrong for row in db.query(_SQL, combo)]
    for row in sorted(rows, key=lambda r: (r["report_id"], r["table_no"], r["side"], r["line_no"], r["measure"])):
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
