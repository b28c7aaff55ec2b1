"""Cross-table identities: the same figure printed in two tables must agree (表1 本年收入合计 = 表2 合计 ...).

Adding an identity is adding one entry to ``CROSS``.
"""

from __future__ import annotations

from .. import template as T
from . import ERROR, rule
from .tolerance import CODE_LINE, Sel, identity_findings

IN, OUT = T.INCOME, T.EXPENDITURE
#: The expenditure total line of tables 1 and 4 (本年支出合计) and of the other tables (合计).
_T4_TOTAL = (T.EXPENDITURE_TOTAL, T.TOTAL)

#: rule id -> (title_zh, title_en, total, terms)
CROSS: dict[str, tuple[str, str, Sel, list[Sel]]] = {
    "cross.t1_t2_income": (
        "表1 本年收入合计 = 表2 合计", "Table 1 income of the year = table 2 total",
        Sel(1, "决算数", T.INCOME_TOTAL, IN), [Sel(2, "本年收入合计", T.TOTAL, IN)]),
    "cross.t1_t2_fiscal": (
        "表2 财政拨款收入 = 表1 三类财政拨款收入之和",
        "Table 2 fiscal appropriation income = the three fiscal income lines of table 1",
        Sel(2, "财政拨款收入", T.TOTAL, IN),
        [Sel(1, "决算数", line, IN) for line in T.TABLE1_INCOME_LINES[:3]]),
    "cross.t1_t3_expenditure": (
        "表1 本年支出合计 = 表3 合计", "Table 1 expenditure of the year = table 3 total",
        Sel(1, "决算数", T.EXPENDITURE_TOTAL, OUT), [Sel(3, "本年支出合计", T.TOTAL, OUT)]),
    "cross.t1_t3_classes": (
        "表1 各类支出 = 表3 同类本年支出合计", "Table 1 expenditure by class = table 3 same class",
        Sel(1, "决算数", CODE_LINE, OUT), [Sel(3, "本年支出合计", None)]),
    "cross.t4_t5_gpb": (
        "表4 一般公共预算财政拨款支出 = 表5 合计", "Table 4 general budget expenditure = table 5 total",
        Sel(4, "一般公共预算财政拨款", _T4_TOTAL, OUT), [Sel(5, "合计", T.TOTAL, OUT)]),
    "cross.t4_t5_classes": (
        "表4 各类一般公共预算财政拨款支出 = 表5 同类合计", "Table 4 general budget by class = table 5 same class",
        Sel(4, "一般公共预算财政拨款", CODE_LINE, OUT), [Sel(5, "合计", None)]),
    "cross.t4_t8_funds": (
        "表4 政府性基金预算财政拨款支出 = 表8 本年支出合计", "Table 4 government funds expenditure = table 8 total",
        Sel(4, "政府性基金预算财政拨款", _T4_TOTAL, OUT), [Sel(8, "本年支出合计", T.TOTAL, OUT)]),
    "cross.t4_t9_capital": (
        "表4 国有资本经营预算财政拨款支出 = 表9 合计", "Table 4 state capital expenditure = table 9 total",
        Sel(4, "国有资本经营预算财政拨款", _T4_TOTAL, OUT), [Sel(9, ("本年支出合计", "合计"), T.TOTAL, OUT)]),
    "cross.t5_t6_basic": (
        "表5 基本支出 = 表6 人员经费合计 + 公用经费合计", "Table 5 basic expenditure = table 6 personnel + public",
        Sel(5, "基本支出", T.TOTAL, OUT),
        [Sel(6, "决算数", T.PERSONNEL_TOTAL, OUT), Sel(6, "决算数", T.PUBLIC_TOTAL, OUT)]),
}


def _register(rule_id: str, title_zh: str, title_en: str, total: Sel, terms: list[Sel]) -> None:
    @rule(rule_id, title_zh, title_en, ERROR, ("amounts", "reports"))
    def check(db):
        return identity_findings(db, rule_id, total, terms, title_zh, title_en)


for _id, (_zh, _en, _total, _terms) in CROSS.items():
    _register(_id, _zh, _en, _total, _terms)
