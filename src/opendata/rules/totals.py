"""Totals and row sums inside one table: each is one entry "total = sum of terms" (see ``IDENTITIES``).

Adding an identity is adding one line to ``IDENTITIES``: rule id, titles, the total and its terms.
"""

from __future__ import annotations

from .. import template as T
from . import ERROR, rule
from .tolerance import ANY_LINE, Sel, identity_findings

IN, OUT = T.INCOME, T.EXPENDITURE

#: rule id -> (title_zh, title_en, total, terms)
IDENTITIES: dict[str, tuple[str, str, Sel, list[Sel]]] = {
    "total.income_side": (
        "收入总计 = 本年收入合计 + 使用非财政拨款结余 + 年初结转和结余",
        "Income grand total = income of the year + non-fiscal balance used + opening balance",
        Sel(1, "决算数", T.GRAND_TOTAL, IN),
        [Sel(1, "决算数", T.INCOME_TOTAL, IN), Sel(1, "决算数", T.NON_FISCAL_BALANCE_USED, IN),
         Sel(1, "决算数", T.OPENING_BALANCE, IN)]),
    "total.expenditure_side": (
        "支出总计 = 本年支出合计 + 结余分配 + 年末结转和结余",
        "Expenditure grand total = expenditure of the year + surplus distribution + closing balance",
        Sel(1, "决算数", T.GRAND_TOTAL, OUT),
        [Sel(1, "决算数", T.EXPENDITURE_TOTAL, OUT), Sel(1, "决算数", T.SURPLUS_DISTRIBUTION, OUT),
         Sel(1, "决算数", T.CLOSING_BALANCE, OUT)]),
    "total.balance": (
        "收入总计 = 支出总计", "Income grand total = expenditure grand total",
        Sel(1, "决算数", T.GRAND_TOTAL, IN), [Sel(1, "决算数", T.GRAND_TOTAL, OUT)]),
    "total.income_lines": (
        "表1 本年收入合计 = 各项收入之和", "Table 1: income of the year = sum of the income lines",
        Sel(1, "决算数", T.INCOME_TOTAL, IN), [Sel(1, "决算数", line, IN) for line in T.TABLE1_INCOME_LINES]),
    "total.fiscal_summary": (
        "表4 收入总计 = 本年收入合计 + 年初财政拨款结转和结余；支出总计 = 本年支出合计 + 年末结转和结余",
        "Table 4: grand total = fiscal income of the year + opening fiscal balance",
        Sel(4, "决算数", T.GRAND_TOTAL, IN),
        [Sel(4, "决算数", T.INCOME_TOTAL, IN), Sel(4, "决算数", T.OPENING_BALANCE, IN)]),
    "total.fiscal_summary_expenditure": (
        "表4 支出总计 = 本年支出合计 + 年末结转和结余",
        "Table 4: expenditure grand total = expenditure of the year + closing balance",
        Sel(4, "合计", T.GRAND_TOTAL, OUT),
        [Sel(4, "合计", T.EXPENDITURE_TOTAL, OUT), Sel(4, "合计", T.CLOSING_BALANCE, OUT)]),
    "rowsum.income_columns": (
        "表2 本年收入合计 = 各收入栏之和", "Table 2: income of the year = sum of the income columns",
        Sel(2, "本年收入合计", ANY_LINE, IN),
        [Sel(2, m, None) for m in T.MEASURES[2][IN][1:]]),
    "rowsum.expenditure_columns": (
        "表3 本年支出合计 = 基本支出 + 项目支出 + 上缴上级支出 + 经营支出 + 对附属单位补助支出",
        "Table 3: expenditure of the year = basic + project + remitted + business + subsidies to affiliates",
        Sel(3, "本年支出合计", ANY_LINE, OUT), [Sel(3, m, None) for m in T.MEASURES[3][OUT][1:]]),
    "rowsum.fiscal_kinds": (
        "表4 合计 = 一般公共预算 + 政府性基金 + 国有资本经营预算财政拨款",
        "Table 4: total = general budget + government funds + state capital appropriations",
        Sel(4, "合计", ANY_LINE, OUT), [Sel(4, m, None) for m in T.MEASURES[4][OUT][1:]]),
    "rowsum.basic_project": (
        "表5 支出合计 = 基本支出 + 项目支出", "Table 5: total = basic expenditure + project expenditure",
        Sel(5, "合计", ANY_LINE, OUT), [Sel(5, "基本支出", None), Sel(5, "项目支出", None)]),
    "rowsum.funds_basic_project": (
        "表8 本年支出合计 = 基本支出 + 项目支出", "Table 8: expenditure = basic + project",
        Sel(8, "本年支出合计", ANY_LINE, OUT), [Sel(8, "基本支出", None), Sel(8, "项目支出", None)]),
    "rowsum.capital_basic_project": (
        "表9 本年支出合计 = 基本支出 + 项目支出", "Table 9: expenditure = basic + project",
        Sel(9, "本年支出合计", ANY_LINE, OUT), [Sel(9, "基本支出", None), Sel(9, "项目支出", None)]),
    "rowsum.funds_roll_forward": (
        "表8 年末结转和结余 = 年初结转和结余 + 本年收入 - 本年支出",
        "Table 8: closing balance = opening balance + income - expenditure",
        Sel(8, "年末结转和结余", ANY_LINE, OUT),
        [Sel(8, "年初结转和结余", None), Sel(8, "本年收入", None), Sel(8, "本年支出合计", None, sign=-1)]),
    "rowsum.capital_roll_forward": (
        "表9 年末结转和结余 = 年初结转和结余 + 本年收入 - 本年支出",
        "Table 9: closing balance = opening balance + income - expenditure",
        Sel(9, "年末结转和结余", ANY_LINE, OUT),
        [Sel(9, "年初结转和结余", None), Sel(9, "本年收入", None), Sel(9, "本年支出合计", None, sign=-1)]),
    "three_public.total": (
        "三公经费合计 = 因公出国（境）费 + 公务用车购置及运行维护费 + 公务接待费",
        "三公 total = official travel abroad + official vehicles + official reception",
        Sel(7, "决算数", "合计", OUT),
        [Sel(7, "决算数", "因公出国（境）费", OUT), Sel(7, "决算数", "公务用车购置及运行维护费", OUT),
         Sel(7, "决算数", "公务接待费", OUT)]),
    "three_public.total_budget": (
        "三公经费预算合计 = 出国 + 公务用车 + 接待（预算数）", "三公 budget total = sum of its three budgets",
        Sel(7, "预算数", "合计", OUT),
        [Sel(7, "预算数", "因公出国（境）费", OUT), Sel(7, "预算数", "公务用车购置及运行维护费", OUT),
         Sel(7, "预算数", "公务接待费", OUT)]),
    "three_public.vehicles": (
        "公务用车购置及运行维护费 = 购置费 + 运行维护费", "Official vehicles = purchase + operation",
        Sel(7, "决算数", "公务用车购置及运行维护费", OUT),
        [Sel(7, "决算数", "公务用车购置费", OUT), Sel(7, "决算数", "公务用车运行维护费", OUT)]),
    "three_public.vehicles_budget": (
        "公务用车购置及运行维护费预算 = 购置费 + 运行维护费（预算数）", "Official vehicles budget = purchase + operation",
        Sel(7, "预算数", "公务用车购置及运行维护费", OUT),
        [Sel(7, "预算数", "公务用车购置费", OUT), Sel(7, "预算数", "公务用车运行维护费", OUT)]),
    "basic.personnel_public": (
        "表6 合计 = 人员经费合计 + 公用经费合计", "Table 6: total = personnel + public expenses",
        Sel(6, "决算数", T.TOTAL, OUT),
        [Sel(6, "决算数", T.PERSONNEL_TOTAL, OUT), Sel(6, "决算数", T.PUBLIC_TOTAL, OUT)]),
}


def _register(rule_id: str, title_zh: str, title_en: str, total: Sel, terms: list[Sel]) -> None:
    resources = ("amounts", "reports")

    @rule(rule_id, title_zh, title_en, ERROR, resources)
    def check(db):
        return identity_findings(db, rule_id, total, terms, title_zh, title_en)


for _id, (_zh, _en, _total, _terms) in IDENTITIES.items():
    _register(_id, _zh, _en, _total, _terms)
