"""Presence: the lines the narrative points at, and the tables a report says it attaches, are there.

A package whose ``amounts`` lost rows (a file cut short, a bad merge) kept every other check:
the identities only compare the lines that are left, and a statement whose line is gone was
compared with nothing. So a statement pointing at a table line (table_no, line_key, measure)
must find that line in ``amounts``, and a table ``report_tables`` calls attached must have
figures read from it (source_kind table), while a table it calls not attached (or not read)
must have none.
"""

from __future__ import annotations

from . import ERROR, Finding, rule
from ..template import EXPENDITURE, INCOME

#: Statements whose table line is not in amounts (every side the schema allows named, so that the
#: primary key finds the line directly).
_SQL_LINES = f"""select s.report_id, s.statement_no, s.section, s.label, s.table_no, s.line_key, s.measure,
  s.source_ref
from statements s
where s.table_no is not null and s.line_key is not null and s.measure is not null
  and not exists (select 1 from amounts a where a.report_id = s.report_id and a.table_no = s.table_no
    and a.side in ('{INCOME}', '{EXPENDITURE}') and a.line_key = s.line_key and a.measure = s.measure)
order by s.report_id, s.statement_no"""

#: Tables whose status says the opposite of their figures. Each table's figures are looked up
#: through amounts' primary key ({hint}): without statistics (a build runs the rules before
#: ANALYZE) SQLite took the rules' index, whose first column is table_no, and read every report's
#: figures of that table for each report: 59 s at 10^6 rows, against 0.05 s.
_SQL_TABLES = """select t.report_id, t.table_no, t.status, t.source_ref
from report_tables t
where (t.status = 'attached') = not exists (select 1 from amounts a {hint} where a.report_id = t.report_id
    and a.table_no = t.table_no and a.source_kind = 'table')
  and t.status in ('attached', 'not_attached', 'not_read')
order by t.report_id, t.table_no"""


def _primary_key_hint(db, table: str) -> str:
    """``indexed by`` the index of ``table``'s primary key, when it has one (a rowid table)."""
    name = next((n for n, origin in db.conn.execute(f"select name, origin from pragma_index_list('{table}')")
                 if origin == "pk"), None)
    return f"indexed by [{name}]" if name else ""


_STATUS_ZH = {"attached": "已附", "not_attached": "未附", "not_read": "含此表未读取"}


@rule("statements.line", "情况说明所指的表行存在", "The table line a narrative figure points at is in the tables",
      ERROR, ("statements", "amounts"))
def check_statement_lines(db):
    for row in db.query(_SQL_LINES):
        where = f"table_no={row['table_no']} line_key={row['line_key']} measure={row['measure']}"
        yield Finding(
            rule_id="statements.line", severity=ERROR, report_id=row["report_id"], resource="statements",
            row_ref=f"statement_no={row['statement_no']} -> amounts {where}", fields="table_no, line_key, measure",
            source_ref=row["source_ref"],
            message_zh=f"{row['section']} 所述“{row['label']}”指向表{row['table_no']} {row['line_key']} "
                       f"{row['measure']}，表中没有这一行（数据缺失或被截断？）",
            message_en=f"The narrative ({row['section']}) states {row['label']} as table {row['table_no']} "
                       f"{row['line_key']} {row['measure']}, which amounts does not have (rows lost or cut off?)",
        )


@rule("report_tables.status", "附表状态与表中数字一致", "A table said to be attached has figures read from it, and "
      "one said not to be has none", ERROR, ("report_tables", "amounts"))
def check_table_status(db):
    for row in db.query(_SQL_TABLES.format(hint=_primary_key_hint(db, "amounts"))):
        status = row["status"]
        if status == "attached":
            zh, en = "但表中没有一个读自该表的数字（数据缺失或被截断？）", "but amounts has no figure read from it " \
                "(rows lost or cut off?)"
        else:
            zh, en = "但表中有读自该表的数字", "but amounts has figures read from it (source_kind table)"
        yield Finding(
            rule_id="report_tables.status", severity=ERROR, report_id=row["report_id"], resource="report_tables",
            row_ref=f"table_no={row['table_no']}", fields="status", source_ref=row["source_ref"],
            message_zh=f"表{row['table_no']}的状态为“{_STATUS_ZH[status]}”（{status}），{zh}",
            message_en=f"table {row['table_no']} is {status}, {en}",
        )
