"""Codes: a line's code, its classification row and its line key say the same code.

A line of a table with a 科目编码 carries it three times: ``code``, ``classification_id`` (the
classification row of that code and edition, when there is one) and ``line_key`` (the code, for
coded lines). A hand edit of one of them (``code`` 2010602 on the row of 2010601@2024) passed
every check; the figure then stood under two codes at once, by which of the columns a reader used.

A line whose name is not its code's (住房公积金 on the line of 2060101 行政运行) is a warning: reports
word a name their own way (其他技术与开发支出 for 其他技术研究与开发支出), so a name is taken for its
code's when most of its characters are in the code's name.
"""

from __future__ import annotations

from . import ERROR, WARNING, Finding, rule

_SQL = """select a.report_id, a.table_no, a.side, a.line_no, a.line_key, a.measure, a.code, a.classification_id,
  k.code as classification_code, a.item, k.name as classification_name, a.source_ref
from amounts a left join classification k on k.classification_id = a.classification_id
where (a.classification_id is not null and k.code is not a.code)
   or (a.code is not null and a.line_key is not a.code)
   or (k.name is not null and a.item is not k.name)
order by a.report_id, a.table_no, a.side, a.line_no, a.measure"""

#: Words every name may add or leave out (支出, 其他...) and brackets: not what tells names apart.
_COMMON = set("支出其他的和及与（）()、")
#: The share of a line's name (its characters beyond ``_COMMON``) its code's name must hold.
NAME_SHARE = 0.5


def same_name(item: str | None, name: str) -> bool:
    """Whether ``item`` is ``name`` as a report may word it: most of its characters are in it."""
    chars = set(item or "") - _COMMON
    return not chars or len(chars & set(name)) >= NAME_SHARE * len(chars)


@rule("amounts.code", "表行的科目编码、科目与行键一致", "A line's code, classification and line key agree",
      ERROR, ("amounts", "classification"))
def check_codes(db):
    named: set[tuple] = set()  # a line's name once, not once per figure of it
    for row in db.query(_SQL):
        coded = (row["classification_id"] is None or row["classification_code"] == row["code"]) and \
            (row["code"] is None or row["line_key"] == row["code"])
        if coded:  # the codes agree: the name does not
            line = (row["report_id"], row["table_no"], row["side"], row["line_no"], row["item"])
            if line not in named and not same_name(row["item"], row["classification_name"]):
                named.add(line)
                yield _name_finding(row)
            continue
        said = {"code": row["code"], "classification_id": row["classification_id"], "line_key": row["line_key"]}
        shown = ", ".join(f"{k} {v if v is not None else '(空)'}" for k, v in said.items())
        yield Finding(
            rule_id="amounts.code", severity=ERROR, report_id=row["report_id"], resource="amounts",
            row_ref=f"table_no={row['table_no']}, side={row['side']}, line_no={row['line_no']}, "
                    f"measure={row['measure']}",
            fields="code, classification_id, line_key", source_ref=row["source_ref"],
            message_zh=f"表{row['table_no']}第{row['line_no']}行（{row['measure']}）的科目编码不一致：{shown}"
                       f"（科目 {row['classification_id']} 的编码为 {row['classification_code'] or '(无)'}）",
            message_en=f"table {row['table_no']} line {row['line_no']} ({row['measure']}): its code disagrees: "
                       f"{shown} (classification {row['classification_id']} is code "
                       f"{row['classification_code'] or '(none)'})",
        )


def _name_finding(row) -> Finding:
    return Finding(
        rule_id="amounts.code", severity=WARNING, report_id=row["report_id"], resource="amounts",
        row_ref=f"table_no={row['table_no']}, side={row['side']}, line_no={row['line_no']}",
        fields="item, code", source_ref=row["source_ref"],
        message_zh=f"表{row['table_no']}第{row['line_no']}行的科目名称“{row['item']}”不是科目 {row['code']} 的名称"
                   f"“{row['classification_name']}”：编码或名称有误",
        message_en=f"table {row['table_no']} line {row['line_no']}: its name {row['item']} is not the name of code "
                   f"{row['code']} ({row['classification_name']}): the code or the name is wrong",
    )
