"""Tolerances from the precision of the printed figures, and the SQL helpers the rule families share.

No fixed fudge factor: every tolerance is derived from how precisely the figures were printed.

* An amount printed to 0.01 carries up to half of that, 0.005, of rounding (``half_unit``).
  A report's amounts are printed to 0.01 of its unit (万元 reports always; a 元 report whose
  figures are all whole numbers is printed to 1 元, so its half unit is 0.5).
* A sum of n printed terms compared with its printed total may differ by up to
  (n + 1) x half_unit: each term and the total are rounded once.
* A ratio printed with d decimals (88.3%) carries 0.5 x 10^-d of rounding, plus the rounding
  of the amounts it is computed from, propagated (``ratio_tolerance``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import sqlite_utils

from . import ERROR, WARNING, Finding

#: Float noise allowed on top of the rounding tolerance (amounts are stored as doubles).
EPSILON = 1e-7

#: SQL: half unit of the last printed decimal of each report's amounts, as a CTE ``prec``.
PRECISION_CTE = """prec(report_id, half) as (
  select r.report_id,
    case when r.unit = '元' and not exists (
      select 1 from amounts a where a.report_id = r.report_id and a.amount is not null
        and abs(a.amount - round(a.amount)) >= 1e-9) then 0.5
    else 0.005 end
  from reports r)"""

#: SQL expression: decimals a percentage is printed with in its sentence (``s`` aliases statements).
PERCENT_DECIMALS_SQL = """(case
  when instr(replace(s.sentence, ',', ''), printf('%.2f%%', abs(s.value))) > 0 then 2
  when instr(replace(s.sentence, ',', ''), printf('%.1f%%', abs(s.value))) > 0 then 1
  when instr(replace(s.sentence, ',', ''), printf('%d%%', cast(abs(s.value) as integer))) > 0
       and abs(s.value) = cast(abs(s.value) as integer) then 0
  else 1 end)"""

#: SQL expression: factor that turns a statement's value into 万元 (null when not money).
TO_WAN_SQL = """(case s.unit when '万元' then 1.0 when '亿元' then 10000.0 when '元' then 0.0001
  when '千元' then 0.1 end)"""

#: SQL expression: +1 or -1, the direction of a change or growth statement. The importer records a
#: change stated as 减少/降低/下降 as a negative value.
DIRECTION_SQL = "(case when s.value < 0 then -1 else 1 end)"


def half_unit_of_percent(decimals: int) -> float:
    """Rounding carried by a percentage printed with ``decimals`` decimals (88.3% -> 0.05)."""
    return 0.5 * 10 ** -decimals


def sum_tolerance(n_terms: int, half: float) -> float:
    """Largest difference rounding alone explains between n printed terms and their printed total."""
    return (n_terms + 1) * half


def ratio_tolerance(num: float, den: float, e_num: float, e_den: float, pct_half: float) -> float:
    """Tolerance (in percentage points) of a printed ratio num/den x 100.

    The printed ratio carries ``pct_half``; num and den carry e_num and e_den, whose effect is
    bounded by (e_num + |num/den| e_den) / (|den| - e_den).
    """
    spread = abs(den) - e_den
    if spread <= 0:
        return float("inf")
    return pct_half + 100.0 * (e_num + abs(num / den) * e_den) / spread


def fmt(value: float | None) -> str:
    """A figure for a message: two decimals, no trailing noise."""
    if value is None:
        return "?"
    return f"{value:.2f}"


def row_ref(table_no: object, side: object, line_key: object, measure: object) -> str:
    """The location of an amounts row as a readable key."""
    return f"table_no={table_no} side={side} line_key={line_key} measure={measure}"


def line_words(line_key: object, item: object) -> str:
    """A line as a message names it: its key, and its name where the key is a code (208 社会保障和就业支出)."""
    return f"{line_key} {item}" if item and item != line_key else str(line_key)


def join_refs(*refs: str | None) -> str:
    """Distinct source references, in order, joined with '; '."""
    seen: list[str] = []
    for ref in refs:
        for part in (ref or "").split("; "):
            if part and part not in seen:
                seen.append(part)
    return "; ".join(seen)


# --- "total = sum of terms" identities over the amounts table -----------------------------------

ANY_LINE = "*"    # every line of the table (row sums)
CODE_LINE = "#"   # every line with a classification code


@dataclass(frozen=True)
class Sel:
    """A figure of a standard table: table, side, line and measure.

    In an identity's total, ``line_key`` may be ANY_LINE or CODE_LINE (one check per line); in a
    term, ``line_key=None`` means the total's own line.
    """

    table_no: int
    measure: str | tuple[str, ...]
    line_key: str | tuple[str, ...] | None = None
    side: str | None = None
    sign: int = 1

    def where(self, alias: str, params: list) -> str:
        parts = [f"{alias}.table_no = ?", f"{alias}.amount is not null"]
        params.append(self.table_no)
        parts.append(_in(f"{alias}.measure", self.measure, params))
        if self.side:
            parts.append(f"{alias}.side = ?")
            params.append(self.side)
        if self.line_key == CODE_LINE:
            parts.append(f"{alias}.code is not null")
        elif self.line_key not in (None, ANY_LINE):
            parts.append(_in(f"{alias}.line_key", self.line_key, params))
        return " and ".join(parts)


def _in(column: str, values: str | tuple[str, ...], params: list) -> str:
    """``column = ?`` or ``column in (?, ...)`` for alternatives (names that vary between templates)."""
    values = (values,) if isinstance(values, str) else tuple(values)
    params.extend(values)
    return f"{column} in ({', '.join('?' * len(values))})"


def identity_findings(db: sqlite_utils.Database, rule_id: str, total: Sel, terms: Sequence[Sel],
                      name_zh: str, name_en: str) -> Iterator[Finding]:
    """Findings where a printed total differs from the sum of its printed terms beyond rounding.

    Terms the report does not disclose (no row, or a null amount) are left out of the sum; the
    check is then made only when every figure comes from a printed table (where a blank cell is
    zero), or when the terms already present exceed the total (all terms positive). One GROUP BY
    pass per identity, whatever the number of reports.
    """
    params: list = []
    ctes = [PRECISION_CTE]
    ctes.append(f"t0 as (select a.report_id, a.side, a.line_key, a.item, a.amount, a.source_ref, a.source_kind "
                f"from amounts a where {total.where('a', params)})")
    joins, amounts_sql, present_sql, refs_sql, table_sql = [], [], [], [], []
    for i, term in enumerate(terms, start=1):
        ctes.append(f"t{i} as (select a.report_id, a.side, a.line_key, a.amount, a.source_ref, a.source_kind "
                    f"from amounts a where {term.where('a', params)})")
        on = f"t{i}.report_id = t0.report_id"
        if term.line_key is None:
            on += f" and t{i}.line_key = t0.line_key and t{i}.side = t0.side"
        joins.append(f"left join t{i} on {on}")
        amounts_sql.append(f"{term.sign} * coalesce(t{i}.amount, 0)")
        present_sql.append(f"(t{i}.amount is not null)")
        refs_sql.append(f"coalesce(t{i}.source_ref, '')")
        table_sql.append(f"coalesce(t{i}.source_kind = 'table', 1)")
    all_positive = all(t.sign > 0 for t in terms)
    # One term: the same figure printed twice, rounded the same way, so it must be identical.
    tol_sql = "0" if len(terms) == 1 else "(n_present + 1) * half"
    sql = f"""with {', '.join(ctes)},
checked as (
  select t0.report_id, t0.side, t0.line_key, t0.item, t0.amount as stated,
    {' + '.join(amounts_sql)} as expected,
    {' + '.join(present_sql)} as n_present,
    (t0.source_kind = 'table') and {' and '.join(table_sql)} as all_table,
    prec.half as half,
    t0.source_ref || '; ' || {" || '; ' || ".join(refs_sql)} as refs
  from t0 {' '.join(joins)} join prec on prec.report_id = t0.report_id)
select *, {tol_sql} as tol from checked
where n_present > 0 and abs(stated - expected) > {tol_sql} + {EPSILON}
  and (n_present = {len(terms)} or all_table or ({int(all_positive)} and expected > stated))"""
    for row in db.query(sql, params):
        tol = row["tol"]
        where = row_ref(total.table_no, row["side"], row["line_key"], total.measure)
        n_missing = len(terms) - row["n_present"]
        missing = "" if not n_missing else f"（{n_missing} 项未披露）"
        missing_en = "" if not n_missing else f" ({n_missing} terms not disclosed)"
        yield Finding(
            rule_id=rule_id, severity=ERROR, report_id=row["report_id"], resource="amounts",
            row_ref=where, fields="amount",
            expected=round(row["expected"], 6), stated=row["stated"],
            difference=round(row["stated"] - row["expected"], 6), tolerance=round(tol, 6),
            source_ref=join_refs(*row["refs"].split("; ")),
            message_zh=f"{name_zh}：表{total.table_no} {line_words(row['line_key'], row['item'])} {total.measure} 为 "
                       f"{fmt(row['stated'])}，"
                       + (f"表{terms[0].table_no} 同一数字为 {fmt(row['expected'])}" if len(terms) == 1 else
                          f"各项之和为 {fmt(row['expected'])}{missing}"),
            message_en=f"{name_en}: table {total.table_no} {line_words(row['line_key'], row['item'])} {total.measure} "
                       f"is {fmt(row['stated'])}, "
                       + (f"table {terms[0].table_no} prints the same figure as {fmt(row['expected'])}" if len(terms) == 1
                          else f"its terms add up to {fmt(row['expected'])}{missing_en}"),
        )


def severity_of(complete: bool) -> str:
    """Error when every figure of a check is disclosed, warning otherwise."""
    return ERROR if complete else WARNING


def chain(*iterables: Iterable[Finding]) -> Iterator[Finding]:
    for it in iterables:
        yield from it
