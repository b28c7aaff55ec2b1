"""What the national 部门决算 template fixes: table numbers, their columns (measures) and total lines.

Ingest, rules and build all speak these names, so a figure read from a PDF table and the same
figure stated in the narrative land on the same (table_no, side, line_key, measure).
"""

from __future__ import annotations

import re
import unicodedata

INCOME, EXPENDITURE = "收入", "支出"

#: Measures (columns) of each table, per side, in the template's order.
MEASURES: dict[int, dict[str, list[str]]] = {
    1: {INCOME: ["决算数"], EXPENDITURE: ["决算数"]},
    2: {INCOME: ["本年收入合计", "财政拨款收入", "上级补助收入", "事业收入", "经营收入", "附属单位上缴收入", "其他收入"]},
    3: {EXPENDITURE: ["本年支出合计", "基本支出", "项目支出", "上缴上级支出", "经营支出", "对附属单位补助支出"]},
    4: {INCOME: ["决算数"], EXPENDITURE: ["合计", "一般公共预算财政拨款", "政府性基金预算财政拨款", "国有资本经营预算财政拨款"]},
    5: {EXPENDITURE: ["年初预算数", "合计", "基本支出", "项目支出"]},
    6: {EXPENDITURE: ["决算数"]},
    7: {EXPENDITURE: ["预算数", "决算数"]},
    8: {EXPENDITURE: ["年初结转和结余", "本年收入", "本年支出合计", "基本支出", "项目支出", "年末结转和结余"]},
    9: {EXPENDITURE: ["年初结转和结余", "本年收入", "本年支出合计", "基本支出", "项目支出", "年末结转和结余", "合计"]},
}

#: Line keys of total lines (lines without a code).
TOTAL = "合计"
GRAND_TOTAL = "总计"
INCOME_TOTAL = "本年收入合计"
EXPENDITURE_TOTAL = "本年支出合计"
OPENING_BALANCE = "年初结转和结余"
CLOSING_BALANCE = "年末结转和结余"
NON_FISCAL_BALANCE_USED = "使用非财政拨款结余"
SURPLUS_DISTRIBUTION = "结余分配"
PERSONNEL_TOTAL = "人员经费合计"
PUBLIC_TOTAL = "公用经费合计"

#: Table 1 income lines in template order.
TABLE1_INCOME_LINES = [
    "一般公共预算财政拨款收入", "政府性基金预算财政拨款收入", "国有资本经营预算财政拨款收入", "上级补助收入",
    "事业收入", "经营收入", "附属单位上缴收入", "其他收入",
]

#: Table 7 ("三公" 经费) lines; 公务用车购置及运行维护费 is the 小计 of 购置费 and 运行维护费.
THREE_PUBLIC_LINES = ["合计", "因公出国（境）费", "公务用车购置及运行维护费", "公务用车购置费", "公务用车运行维护费", "公务接待费"]

_NUMBERING = re.compile(r"^\s*(?:[一二三四五六七八九十百]+、|\d+[.、．]|[（(][一二三四五六七八九十\d]+[）)])\s*")


def normalize_text(text: str) -> str:
    """NFKC without changing full-width brackets, which the template's names use: （ ） stay."""
    text = text.replace("(", "（").replace(")", "）")
    text = unicodedata.normalize("NFKC", text)
    return text.replace("(", "（").replace(")", "）").strip()


def clean_item(label: str) -> str:
    """A line label without its numbering (一、 1. （一）) and inner spaces."""
    label = re.sub(r"\s+", "", label)
    return _NUMBERING.sub("", normalize_text(label))


def code_level(code: str) -> str:
    """类, 款 or 项 from a functional code's length."""
    return {3: "类", 5: "款", 7: "项"}[len(code)]


def parent_code(code: str) -> str | None:
    """The 款 of a 项, the 类 of a 款, None for a 类."""
    return {7: code[:5], 5: code[:3]}.get(len(code))


def classification_id(code: str, edition: int | str) -> str:
    """The classification resource key: code@edition."""
    return f"{code}@{edition}"
