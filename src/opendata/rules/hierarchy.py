"""Hierarchy sums: table 合计 = Σ 类, 类 = Σ 款, 款 = Σ 项, in every table, side and measure.

Each coded line is summed into its nearest *disclosed* ancestor: a 项 whose 款 the report does not
state (a narrative often names only 类 and 项) counts towards its 类, and a 类 towards the table's
total line (合计; 本年支出合计 in tables 1 and 4, whose 类 lines may carry a name and no code; in table 6 人员经费合计 for 301/303 and 公用经费合计 for the
other economic classes). The sums are computed in one streaming read of amounts, a report at a time
(``_streamed_sums``: 1.7-2.1 s at 10^6 rows, memory of one report); a table whose reports' rows are not
contiguous is summed by three GROUP BYs over the whole table instead (``_SUMS_SQL``, the same sums:
3.3 s), with one probe per group rather than per line.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

from . import ERROR, WARNING, Finding, rule
from .tolerance import EPSILON, PRECISION_CTE, fmt, join_refs, row_ref

#: Every failing-or-not parent's sum of its children, computed once per rules run for the three
#: levels (run_rules drops it first, so a new run never sees an old one).
_TEMP = "_hierarchy_sums"

#: SQL: the amount line ``{key}`` states in the same report, table, side and measure as ``{t}``
#: (null when the report does not disclose it). One probe of the primary key
#: (report_id, table_no, side, line_key, measure).
_STATED = """(select d.amount from amounts d where d.report_id = {t}.report_id and d.table_no = {t}.table_no
  and d.side = {t}.side and d.line_key = {key} and d.measure = {t}.measure and d.amount is not null)"""
_DISCLOSED = "(" + _STATED + " is not null)"

#: SQL: the total line a line with 类 code prefix ``{k3}`` adds up to when no 类 or 款 of it is disclosed.
_TOTAL_KEY = """case
  when table_no in (1, 4) then '本年支出合计'
  when table_no = 6 then case when {k3} in ('301', '303') then '人员经费合计' else '公用经费合计' end
  else '合计' end"""

#: SQL condition: a line that sums into the table total directly (a 类 code, or in tables 1 and 4 a
#: 类 line printed by name only); coded lines of 5 or more characters go to their 类 or 款 first.
_DIRECT = """(code is not null and length(code) < 5) or (code is null
    -- tables 1 and 4 may print their 类 lines by name only: they still add up to 本年支出合计
    and table_no in (1, 4) and side = '支出'
    and line_key not in ('本年支出合计', '结余分配', '年末结转和结余', '总计', '合计'))"""

# The definition, line by line (used to list a failing sum's children): a coded line goes to its
# 款 when disclosed (7-character codes), else to its 类 when disclosed (5 characters or more), else
# to the total line.
_PARENTED_CTE = f"""coded as (
  select rowid as rid, report_id, table_no, side, measure, line_key, code, source_ref
  from amounts where report_id = :report_id and table_no = :table_no and side = :side
    -- "+measure": through the primary key (one report's table), never an index led by measure
    -- (every report's lines of that measure), which SQLite may pick without statistics: 45 ms
    -- instead of 0.1 ms per failing sum at 10^6 rows
    and +measure = :measure and amount is not null and (code is not null or ({_DIRECT}))),
parented as (
  select rid, line_key, source_ref,
    case
      when length(code) = 7 and {_DISCLOSED.format(t="c", key="substr(c.code, 1, 5)")} then '款'
      when length(code) >= 5 and {_DISCLOSED.format(t="c", key="substr(c.code, 1, 3)")} then '类'
      else 'total' end as parent_level,
    case
      when length(code) = 7 and {_DISCLOSED.format(t="c", key="substr(c.code, 1, 5)")} then substr(code, 1, 5)
      when length(code) >= 5 and {_DISCLOSED.format(t="c", key="substr(c.code, 1, 3)")} then substr(code, 1, 3)
      else {_TOTAL_KEY.format(k3="substr(code, 1, 3)")} end as parent_key
  from coded c)"""

# The same, for every line at once and without a probe per line: the lines are grouped by their
# 款 (7-character codes) and the 款 probed once per group; the groups whose 款 is not disclosed
# join the other lines of their 类 (5 characters or more), probed once per 类; what is left joins
# the lines that add up to the total directly. Each level reads amounts in one plain scan
# ("not indexed": walking the primary key for its partial order reads the rows in random order).
_SUMS_SQL = f"""create temp table {_TEMP} as with
items as (
  select report_id, table_no, side, measure, substr(code, 1, 5) as k5, sum(amount) as expected,
    count(*) as n, min(source_kind = 'table') as all_table
  from amounts not indexed where amount is not null and length(code) = 7
  group by report_id, table_no, side, measure, k5),
items_p as materialized (
  select i.*, {_STATED.format(t="i", key="i.k5")} as stated from items i),
sections as (
  select report_id, table_no, side, measure, substr(code, 1, 3) as k3, sum(expected) as expected,
    sum(n) as n, min(all_table) as all_table
  from (select report_id, table_no, side, measure, code, amount as expected, 1 as n,
          source_kind = 'table' as all_table
        from amounts not indexed where amount is not null and length(code) >= 5 and length(code) <> 7
        union all
        select report_id, table_no, side, measure, k5, expected, n, all_table
        from items_p where stated is null)
  group by report_id, table_no, side, measure, k3),
sections_p as materialized (
  select s.*, {_STATED.format(t="s", key="s.k3")} as stated from sections s),
classes as (
  select report_id, table_no, side, measure, {_TOTAL_KEY.format(k3="k3")} as parent_key,
    sum(expected) as expected, sum(n) as n, min(all_table) as all_table
  from (select report_id, table_no, side, measure, substr(code, 1, 3) as k3, amount as expected,
          1 as n, source_kind = 'table' as all_table
        from amounts not indexed where amount is not null and ({_DIRECT})
        union all
        select report_id, table_no, side, measure, k3, expected, n, all_table
        from sections_p where stated is null)
  group by report_id, table_no, side, measure, parent_key),
classes_p as (
  select c.*, {_STATED.format(t="c", key="c.parent_key")} as stated from classes c)
select '款' as parent_level, report_id, table_no, side, measure, k5 as parent_key, expected, n, all_table,
    stated
  from items_p where stated is not null
union all
select '类', report_id, table_no, side, measure, k3, expected, n, all_table, stated
  from sections_p where stated is not null
union all
select 'total', report_id, table_no, side, measure, parent_key, expected, n, all_table, stated
  from classes_p where stated is not null"""

#: Columns of the sums' table (``_TEMP``).
_SUM_COLUMNS = ("parent_level", "report_id", "table_no", "side", "measure", "parent_key", "expected", "n",
                "all_table", "stated")

#: Lines of tables 1 and 4 printed without a code that are not 类 lines (``_DIRECT``).
_NOT_CLASS_LINES = frozenset(("本年支出合计", "结余分配", "年末结转和结余", "总计", "合计"))


def _total_key(table_no: int, k3: str | None) -> str:
    """``_TOTAL_KEY`` in Python: the total line a 类 (code prefix ``k3``) adds up to."""
    if table_no in (1, 4):
        return "本年支出合计"
    if table_no == 6:
        return "人员经费合计" if k3 in ("301", "303") else "公用经费合计"
    return "合计"


def _add(groups: dict, key: tuple, expected: float, n: int, all_table: int) -> None:
    group = groups.get(key)
    if group is None:
        groups[key] = [expected, n, all_table]
    else:
        group[0] += expected
        group[1] += n
        group[2] = min(group[2], all_table)


def _report_sums(report_id: str, lines: list[tuple]) -> Iterator[tuple]:
    """``_SUMS_SQL``'s sums of one report (its ``lines``: report_id, table_no, side, line_key,
    measure, code, amount, source_kind = 'table', for every figure with an amount), in the same
    three steps: 项 by 款; 款 (and the 项 of an undisclosed 款) by 类; 类 (and what an undisclosed 类
    held) by total. One pass over the lines groups them and keeps the figures that may be a
    parent's (every line but a 7-digit 项's: a parent's key is a 5- or 3-digit code or a total)."""
    stated: dict = {}
    items: dict = {}
    sections: dict = {}
    classes: dict = {}
    for _, t, side, key, m, code, amount, table in lines:
        if code is None:
            stated[t, side, key, m] = amount
            if not (t in (1, 4) and side == "支出" and key not in _NOT_CLASS_LINES):
                continue
            groups, group_key = classes, (t, side, m, _total_key(t, None))
        elif len(code) == 7:
            if len(key) != 7:  # a 项 line keyed otherwise than by its code: kept, as the SQL would find it
                stated[t, side, key, m] = amount
            groups, group_key = items, (t, side, m, code[:5])
        else:
            stated[t, side, key, m] = amount
            if len(code) >= 5:
                groups, group_key = sections, (t, side, m, code[:3])
            else:
                groups, group_key = classes, (t, side, m, _total_key(t, code[:3]))
        group = groups.get(group_key)
        if group is None:
            groups[group_key] = [amount, 1, table]
        else:  # _add, inline: once per line
            group[0] += amount
            group[1] += 1
            if not table:
                group[2] = table
    for level, groups, parent in (("款", items, sections), ("类", sections, classes), ("total", classes, None)):
        for (t, side, m, parent_key), (expected, n, table) in groups.items():
            value = stated.get((t, side, parent_key, m))
            if value is not None:
                yield (level, report_id, t, side, m, parent_key, expected, n, table, value)
            elif parent is not None:  # an undisclosed parent: its lines count towards the next level
                _add(parent, (t, side, m, parent_key[:3] if level == "款" else _total_key(t, parent_key)),
                     expected, n, table)


def _streamed_sums(db: sqlite_utils.Database, beyond: float = EPSILON) -> list[tuple] | None:
    """The sums of ``_SUMS_SQL`` whose parent differs from them by more than ``beyond`` (EPSILON:
    every tolerance is at least 0.01, no other sum can fail), from one read of amounts in the order
    it is stored, a report at a time; None when a report's rows are not all together (a package
    edited by hand), which ``_SUMS_SQL`` then sums."""
    found: list[tuple] = []
    done: set[str] = set()
    report, lines = None, []

    def close() -> None:
        done.add(report)
        found.extend(r for r in _report_sums(report, lines) if abs(r[9] - r[6]) > beyond)

    for row in db.execute("select report_id, table_no, side, line_key, measure, code, amount, "
                          "source_kind = 'table' from amounts not indexed where amount is not null"):
        if row[0] != report:
            if lines:
                close()
            if row[0] in done:
                return None
            report, lines = row[0], []
        lines.append(row)
    if lines:
        close()
    return found


def _create_sums(db: sqlite_utils.Database) -> None:
    """``_TEMP``: the sums ``_SQL`` checks, streamed (``_streamed_sums``) or grouped (``_SUMS_SQL``)."""
    sums = _streamed_sums(db)
    if sums is None:
        db.execute(_SUMS_SQL)
        return
    db.execute(f"create temp table {_TEMP} ({', '.join(_SUM_COLUMNS)})")
    db.conn.executemany(f"insert into temp.{_TEMP} values ({', '.join('?' * len(_SUM_COLUMNS))})", sums)


# Each sum already carries its parent's amount: the parent line is read again for the failing ones only.
_SQL = f"""with {PRECISION_CTE},
failing as materialized (
  select s.report_id, s.table_no, s.side, s.measure, s.parent_key, s.expected, s.n, s.all_table,
    s.stated, (s.n + 1) * prec.half as tol
  from temp.{_TEMP} s join prec on prec.report_id = s.report_id
  where s.parent_level = :level and abs(s.stated - s.expected) > (s.n + 1) * prec.half + {EPSILON})
select f.report_id, f.table_no, f.side, f.measure, f.parent_key, f.expected, f.n, f.all_table,
  p.amount as stated, p.source_kind = 'table' and f.all_table as tables_only,
  p.source_ref as parent_ref, f.tol
from failing f
join amounts p on p.report_id = f.report_id and p.table_no = f.table_no and p.side = f.side
  and p.line_key = f.parent_key and p.measure = f.measure and p.amount is not null
order by f.report_id, f.table_no, f.side, f.measure, f.parent_key"""

# A failing sum's children in the order of amounts, as printed.
_CHILDREN_SQL = f"""with {_PARENTED_CTE}
select group_concat(distinct source_ref) as refs, group_concat(line_key, ',') as children
from (select line_key, source_ref from parented
      where parent_level = :level and parent_key = :parent_key order by rid)"""

_LEVEL_NAMES = {"total": ("合计", "total"), "类": ("类", "class (类)"), "款": ("款", "section (款)")}
_CHILD_NAMES = {"total": ("类", "classes"), "类": ("款（或项）", "sections or items"), "款": ("项", "items")}
#: The levels a sum's children are expected at (``_CHILD_NAMES``); a code's level by its length.
_CHILD_LEVELS = {"total": {"类"}, "类": {"款", "项"}, "款": {"项"}}
_CODE_LEVELS = {3: "类", 5: "款", 7: "项"}


def _child_names(level: str, children: list[str]) -> tuple[str, str]:
    """What a sum's children are called in its message: its usual children (``_CHILD_NAMES``), or
    the levels they are at when some are not (a total over 项 lines where a report lists no 类)."""
    levels = {_CODE_LEVELS.get(len(key), "类") if key.isdigit() else "类" for key in children}
    if levels <= _CHILD_LEVELS[level]:
        return _CHILD_NAMES[level]
    named = "、".join(name for name in ("类", "款", "项") if name in levels)
    return f"科目（{named}）", f"lines ({named})"


def hierarchy_findings(db: sqlite_utils.Database, rule_id: str, level: str) -> Iterator[Finding]:
    zh_parent, en_parent = _LEVEL_NAMES[level]
    if not db.execute(f"select 1 from temp.sqlite_master where name = '{_TEMP}'").fetchone():
        _create_sums(db)
    for found in list(db.query(_SQL, {"level": level})):
        # The children's names and sources, for the few sums that fail only.
        row = {**found, **next(db.query(_CHILDREN_SQL, {**found, "level": level}))}
        zh_child, en_child = _child_names(level, (row["children"] or "").split(","))
        over = row["expected"] > row["stated"]
        # A narrative may leave a line unlisted: a shortfall is then a warning, an excess is not.
        severity = ERROR if (over or row["tables_only"]) else WARNING
        shortfall = "" if severity == ERROR else "（叙述可能未列出全部科目）"
        shortfall_en = "" if severity == ERROR else " (the narrative may not list every line)"
        yield Finding(
            rule_id=rule_id, severity=severity, report_id=row["report_id"], resource="amounts",
            row_ref=row_ref(row["table_no"], row["side"], row["parent_key"], row["measure"]), fields="amount",
            expected=round(row["expected"], 6), stated=row["stated"],
            difference=round(row["stated"] - row["expected"], 6), tolerance=round(row["tol"], 6),
            source_ref=join_refs(row["parent_ref"], *(row["refs"] or "").split(",")),
            message_zh=f"表{row['table_no']} {row['parent_key']}（{zh_parent}）{row['measure']} 为 {fmt(row['stated'])}，"
                       f"其下 {row['n']} 个{zh_child}（{row['children']}）之和为 {fmt(row['expected'])}{shortfall}",
            message_en=f"Table {row['table_no']} {row['parent_key']} ({en_parent}) {row['measure']} is "
                       f"{fmt(row['stated'])}, its {row['n']} {en_child} ({row['children']}) add up to "
                       f"{fmt(row['expected'])}{shortfall_en}",
        )


@rule("hierarchy.total", "合计 = Σ 类", "Table total = sum of its classes (类)", ERROR, ("amounts", "reports"))
def check_total(db):
    return hierarchy_findings(db, "hierarchy.total", "total")


@rule("hierarchy.class", "类 = Σ 款", "Class (类) = sum of its sections (款)", ERROR, ("amounts", "reports"))
def check_class(db):
    return hierarchy_findings(db, "hierarchy.class", "类")


@rule("hierarchy.section", "款 = Σ 项", "Section (款) = sum of its items (项)", ERROR, ("amounts", "reports"))
def check_section(db):
    return hierarchy_findings(db, "hierarchy.section", "款")
