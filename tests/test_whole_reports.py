"""Whole reports that follow the national template but not the two shipped files, end to end.

Each report is built here as HTML (cover, 第一部分, the attached tables, 第三部分 情况说明, 第四部分),
printed to PDF by Debian's chromium and imported with ``import_report`` into a copy of the shipped
package; then every figure printed in a table, the narrative's statements, the report's identity,
report_tables, classification rows and the validator's findings are checked.

* **Hunan 2020** (``HUNAN``): nine tables; 表5 with 年初预算数 beside 决算数 (合计/基本支出/项目支出),
  codes printed whole in one 科目编码 column, 年初结转和结余, 表7 titled 一般公共预算财政拨款“三公”经费
  with its lines as columns × 预算数/决算数, 表8/表9 printed with headers only and a note; a narrative
  worded like the seed (items numbered 1. 2. ..., "年初预算为X万元，支出决算为Y万元，完成年初预算的Z%").
  Deliberate inconsistency: item 2 states 完成年初预算的98.6% where 300.00 / 310.00 = 96.8%.
* **Sichuan 2022** (``SICHUAN``): eight tables titled 附表1..附表8 (no 国有资本经营 table; the
  narrative says there is none), 表1 continued on the next page without a title, figures with
  thousands separators, 上年结转和结余, 表4 without the 国有资本经营 column, 表7 with its lines as rows,
  表8 with 政府性基金 figures; the narrative says "与上年持平". Deliberate inconsistency: 表6 prints
  30102 津贴补贴 as 301.00, so its 款 add up to 1,307.24 while 301 工资福利支出 prints 1,306.24.

The figures are test inputs chosen to obey the identities (except the one deliberate break); they are
not shipped anywhere.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from opendata import template as T
from opendata.ingest.importer import department_slug, import_report
from opendata.validate import validate_package

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed")

I, E = T.INCOME, T.EXPENDITURE
D = Decimal

CSS = """body{font-family:"Noto Serif CJK SC","Noto Sans CJK SC";font-size:11px}
table{border-collapse:collapse;width:100%} td,th{border:1px solid #000;padding:2px 4px}
.pb{page-break-after:always} h2,h3{text-align:center} .u{text-align:right}"""


# --------------------------------------------------------------------------- building a report

@dataclass
class Report:
    """A report being written: its pages (HTML) and what each table prints."""

    sep: bool  # thousands separators
    pages: list[str] = field(default_factory=list)
    #: (table_no, side, line_key, measure) -> (amount, page)
    printed: dict[tuple[int, str, str, str], tuple[Decimal, int]] = field(default_factory=dict)
    #: code -> printed name (functional and economic)
    codes: dict[str, str] = field(default_factory=dict)

    def fmt(self, v: Decimal | None) -> str:
        if v is None:
            return ""
        return f"{v:,.2f}" if self.sep else f"{v:.2f}"

    def page(self, html: str) -> int:
        self.pages.append(f'<div class="pb">{html}</div>')
        return len(self.pages)

    def note(self, no: int, side: str, key: str, measure: str, v: Decimal | None, page: int) -> None:
        if v is not None:
            assert (no, side, key, measure) not in self.printed, (no, side, key, measure)
            self.printed[(no, side, key, measure)] = (D(v), page)

    def html(self) -> str:
        return f'<html><head><meta charset="utf-8"><style>{CSS}</style></head><body>{"".join(self.pages)}</body></html>'


def td(text: object = "", **attrs: object) -> str:
    a = "".join(f" {k}={v}" for k, v in attrs.items())
    return f"<td{a}>{text}</td>"


def title(text: str, unit: str = "单位：万元") -> str:
    return f'<h3>{text}</h3><p class="u">{unit}</p>'


def coded_table(r: Report, no: int, title_html: str, header: str, measures: list[str],
                lines: list[tuple[str | None, str, list]]) -> int:
    """A table of coded lines (codes printed whole in one 科目编码 column); a line without a code
    is a total (its label merged over the code column)."""
    body = []
    page = len(r.pages) + 1
    for code, name, values in lines:
        cells = (td(code) + td(name)) if code else td(name, colspan=2)
        cells += "".join(td(r.fmt(D(v) if v is not None else None)) for v in values)
        body.append(f"<tr>{cells}</tr>")
        key = code or name
        if code:
            r.codes[code] = name
        for m, v in zip(measures, values):
            r.note(no, E if no != 2 else I, key, m, D(v) if v is not None else None, page)
    r.page(title_html + f"<table>{header}{''.join(body)}</table>")
    return page


def two_sided(r: Report, no: int, left: list, right: list, right_measures: list[str], header: str,
              split: int | None = None, title_html: str = "") -> None:
    """Table 1 or 4: 收入 lines (项目, 决算数) beside 支出 lines (项目, measures...). ``split``: the row
    after which the table continues on the next page (a second ruled table, no title)."""
    rows = []
    n = max(len(left), len(right))
    for k in range(n):
        lab, val, lkey = left[k] if k < len(left) else ("", None, None)
        rlab, rvals, rkey = right[k] if k < len(right) else ("", [None] * len(right_measures), None)
        rows.append((lab, val, lkey, rlab, rvals, rkey))
    chunks = [rows] if split is None else [rows[:split], rows[split:]]
    for c, chunk in enumerate(chunks):
        page = len(r.pages) + 1
        html = []
        for lab, val, lkey, rlab, rvals, rkey in chunk:
            html.append("<tr>" + td(lab) + td(r.fmt(val)) + td(rlab) + "".join(td(r.fmt(v)) for v in rvals) + "</tr>")
            if lkey:
                r.note(no, I, lkey, "决算数", val, page)
            if rkey:
                for m, v in zip(right_measures, rvals):
                    r.note(no, E, rkey, m, v, page)
        head = title_html if c == 0 else ""
        r.page(head + f"<table>{header}{''.join(html)}</table>")


def d(x: str | None) -> Decimal | None:
    return None if x is None else D(x)


# --------------------------------------------------------------------------- report A: Hunan 2020

HUNAN_DEPT = "邵阳市大祥区农业农村局"


def hunan() -> tuple[Report, str]:
    r = Report(sep=False)
    r.page(f"<h2>2020年度</h2><h2>{HUNAN_DEPT}部门决算</h2>"
           "<p>目 录</p><p>第一部分 单位概况</p><p>一、部门职责</p><p>二、机构设置及决算单位构成</p>"
           "<p>第二部分 2020年度部门决算表</p><p>一、收入支出决算总表</p><p>二、收入决算表</p><p>三、支出决算表</p>"
           "<p>四、财政拨款收入支出决算总表</p><p>五、一般公共预算财政拨款支出决算表</p>"
           "<p>六、一般公共预算财政拨款基本支出决算表</p><p>七、一般公共预算财政拨款“三公”经费支出决算表</p>"
           "<p>八、政府性基金预算财政拨款收入支出决算表</p><p>九、国有资本经营预算财政拨款支出决算表</p>"
           "<p>第三部分 2020年度部门决算情况说明</p><p>第四部分 名词解释</p>")
    r.page(f"<p>第一部分</p><p>{HUNAN_DEPT}单位概况</p><p>一、部门职责</p>"
           "<p>（一）贯彻执行国家和省、市有关农业农村工作的法律法规和方针政策。</p>"
           "<p>二、机构设置及决算单位构成</p>"
           f"<p>（一）内设机构设置。{HUNAN_DEPT}内设机构包括：办公室、农业股、植保站。</p>"
           f"<p>（二）决算单位构成。{HUNAN_DEPT}2020年部门决算汇总公开单位构成包括：{HUNAN_DEPT}本级。</p>"
           "<p>第二部分</p><p>2020年度部门决算表</p><p>（见附表）</p>")
    # 表1
    left = [("一、一般公共预算财政拨款收入", d("555.50"), "一般公共预算财政拨款收入"),
            ("二、政府性基金预算财政拨款收入", None, "政府性基金预算财政拨款收入"),
            ("三、国有资本经营预算财政拨款收入", None, "国有资本经营预算财政拨款收入"),
            ("四、上级补助收入", None, "上级补助收入"), ("五、事业收入", None, "事业收入"),
            ("六、经营收入", None, "经营收入"), ("七、附属单位上缴收入", None, "附属单位上缴收入"),
            ("八、其他收入", d("4.50"), "其他收入"),
            ("本年收入合计", d("560.00"), "本年收入合计"), ("使用非财政拨款结余", None, "使用非财政拨款结余"),
            ("年初结转和结余", d("12.00"), "年初结转和结余"), ("总计", d("572.00"), "总计")]
    right = [("一、社会保障和就业支出", [d("30.00")], "208"), ("二、农林水支出", [d("505.00")], "213"),
             ("三、住房保障支出", [d("25.00")], "221"), ("", [None], None), ("", [None], None), ("", [None], None),
             ("", [None], None), ("", [None], None),
             ("本年支出合计", [d("560.00")], "本年支出合计"), ("结余分配", [None], "结余分配"),
             ("年末结转和结余", [d("12.00")], "年末结转和结余"), ("总计", [d("572.00")], "总计")]
    two_sided(r, 1, left, right, ["决算数"],
              "<tr><th colspan=2>收入</th><th colspan=2>支出</th></tr>"
              "<tr><th>项目</th><th>决算数</th><th>项目</th><th>决算数</th></tr>",
              title_html=title("收入支出决算总表"))
    # 表2
    h2 = ("<tr><th colspan=2>项目</th><th rowspan=2>本年收入合计</th><th rowspan=2>财政拨款收入</th>"
          "<th rowspan=2>上级补助收入</th><th rowspan=2>事业收入</th><th rowspan=2>经营收入</th>"
          "<th rowspan=2>附属单位上缴收入</th><th rowspan=2>其他收入</th></tr><tr><th>科目编码</th><th>科目名称</th></tr>")
    m2 = T.MEASURES[2][I]

    def inc(total: str, fiscal: str, other: str | None = None) -> list:
        return [d(total), d(fiscal), None, None, None, None, d(other)]
    coded_table(r, 2, title("收入决算表"), h2, m2, [
        (None, "合计", inc("560.00", "555.50", "4.50")),
        ("208", "社会保障和就业支出", inc("30.00", "30.00")), ("20805", "行政事业单位养老支出", inc("30.00", "30.00")),
        ("2080505", "机关事业单位基本养老保险缴费支出", inc("30.00", "30.00")),
        ("213", "农林水支出", inc("505.00", "500.50", "4.50")), ("21301", "农业农村", inc("505.00", "500.50", "4.50")),
        ("2130101", "行政运行", inc("300.00", "300.00")), ("2130108", "病虫害控制", inc("120.00", "120.00")),
        ("2130199", "其他农业农村支出", inc("85.00", "80.50", "4.50")),
        ("221", "住房保障支出", inc("25.00", "25.00")), ("22102", "住房改革支出", inc("25.00", "25.00")),
        ("2210201", "住房公积金", inc("25.00", "25.00")),
    ])
    # 表3
    h3 = ("<tr><th colspan=2>项目</th><th rowspan=2>本年支出合计</th><th rowspan=2>基本支出</th><th rowspan=2>项目支出</th>"
          "<th rowspan=2>上缴上级支出</th><th rowspan=2>经营支出</th><th rowspan=2>对附属单位补助支出</th></tr>"
          "<tr><th>科目编码</th><th>科目名称</th></tr>")
    m3 = T.MEASURES[3][E]

    def exp(total: str, basic: str | None, project: str | None) -> list:
        return [d(total), d(basic), d(project), None, None, None]
    coded_table(r, 3, title("支出决算表"), h3, m3, [
        (None, "合计", exp("560.00", "355.00", "205.00")),
        ("208", "社会保障和就业支出", exp("30.00", "30.00", None)), ("20805", "行政事业单位养老支出", exp("30.00", "30.00", None)),
        ("2080505", "机关事业单位基本养老保险缴费支出", exp("30.00", "30.00", None)),
        ("213", "农林水支出", exp("505.00", "300.00", "205.00")), ("21301", "农业农村", exp("505.00", "300.00", "205.00")),
        ("2130101", "行政运行", exp("300.00", "300.00", None)), ("2130108", "病虫害控制", exp("120.00", None, "120.00")),
        ("2130199", "其他农业农村支出", exp("85.00", None, "85.00")),
        ("221", "住房保障支出", exp("25.00", "25.00", None)), ("22102", "住房改革支出", exp("25.00", "25.00", None)),
        ("2210201", "住房公积金", exp("25.00", "25.00", None)),
    ])
    # 表4
    m4 = T.MEASURES[4][E]
    left = [("一、一般公共预算财政拨款", d("555.50"), "一般公共预算财政拨款"),
            ("二、政府性基金预算财政拨款", None, "政府性基金预算财政拨款"),
            ("三、国有资本经营预算财政拨款", None, "国有资本经营预算财政拨款"),
            ("本年收入合计", d("555.50"), "本年收入合计"),
            ("年初财政拨款结转和结余", d("12.00"), "年初结转和结余"),
            ("一、一般公共预算财政拨款", d("12.00"), "年初结转和结余/一般公共预算财政拨款"),
            ("总计", d("567.50"), "总计")]
    right = [("一、社会保障和就业支出", [d("30.00"), d("30.00"), None, None], "208"),
             ("二、农林水支出", [d("500.50"), d("500.50"), None, None], "213"),
             ("三、住房保障支出", [d("25.00"), d("25.00"), None, None], "221"),
             ("本年支出合计", [d("555.50"), d("555.50"), None, None], "本年支出合计"),
             ("年末财政拨款结转和结余", [d("12.00"), d("12.00"), None, None], "年末结转和结余"),
             ("", [None] * 4, None),
             ("总计", [d("567.50"), d("567.50"), None, None], "总计")]
    two_sided(r, 4, left, right, m4,
              "<tr><th colspan=2>收入</th><th colspan=5>支出</th></tr>"
              "<tr><th>项目</th><th>决算数</th><th>项目</th><th>合计</th><th>一般公共预算财政拨款</th>"
              "<th>政府性基金预算财政拨款</th><th>国有资本经营预算财政拨款</th></tr>",
              title_html=title("财政拨款收入支出决算总表"))
    # 表5: 年初预算数 beside 决算数 (合计/基本支出/项目支出)
    h5 = ("<tr><th colspan=2>项目</th><th rowspan=2>年初预算数</th><th colspan=3>决算数</th></tr>"
          "<tr><th>科目编码</th><th>科目名称</th><th>合计</th><th>基本支出</th><th>项目支出</th></tr>")

    def gpb(budget: str, total: str, basic: str | None, project: str | None) -> list:
        return [d(budget), d(total), d(basic), d(project)]
    coded_table(r, 5, title("一般公共预算财政拨款支出决算表"), h5, ["年初预算数", "合计", "基本支出", "项目支出"], [
        (None, "合计", gpb("480.00", "555.50", "355.00", "200.50")),
        ("208", "社会保障和就业支出", gpb("28.00", "30.00", "30.00", None)),
        ("20805", "行政事业单位养老支出", gpb("28.00", "30.00", "30.00", None)),
        ("2080505", "机关事业单位基本养老保险缴费支出", gpb("28.00", "30.00", "30.00", None)),
        ("213", "农林水支出", gpb("430.00", "500.50", "300.00", "200.50")),
        ("21301", "农业农村", gpb("430.00", "500.50", "300.00", "200.50")),
        ("2130101", "行政运行", gpb("310.00", "300.00", "300.00", None)),
        ("2130108", "病虫害控制", gpb("100.00", "120.00", None, "120.00")),
        ("2130199", "其他农业农村支出", gpb("20.00", "80.50", None, "80.50")),
        ("221", "住房保障支出", gpb("22.00", "25.00", "25.00", None)),
        ("22102", "住房改革支出", gpb("22.00", "25.00", "25.00", None)),
        ("2210201", "住房公积金", gpb("22.00", "25.00", "25.00", None)),
    ])
    # 表6: 人员经费 block beside 公用经费 block
    personnel = [("301", "工资福利支出", "280.00"), ("30101", "基本工资", "120.00"), ("30102", "津贴补贴", "90.00"),
                 ("30103", "奖金", "10.00"), ("30108", "机关事业单位基本养老保险缴费", "30.00"),
                 ("30113", "住房公积金", "25.00"), ("30199", "其他工资福利支出", "5.00"),
                 ("303", "对个人和家庭的补助", "10.00"), ("30302", "退休费", "10.00")]
    public = [("302", "商品和服务支出", "60.00"), ("30201", "办公费", "20.00"), ("30211", "差旅费", "15.00"),
              ("30217", "公务接待费", "2.60"), ("30231", "公务用车运行维护费", "4.10"),
              ("30299", "其他商品和服务支出", "18.30"), ("310", "资本性支出", "5.00"), ("31002", "办公设备购置", "5.00")]
    table6(r, "一般公共预算财政拨款基本支出决算表", personnel, public, "290.00", "65.00")
    # 表7: lines as columns × 预算数/决算数
    budget = {"合计": "9.00", "因公出国（境）费": "0.00", "公务用车购置及运行维护费": "5.00", "公务用车购置费": "0.00",
              "公务用车运行维护费": "5.00", "公务接待费": "4.00"}
    final = {"合计": "6.70", "因公出国（境）费": "0.00", "公务用车购置及运行维护费": "4.10", "公务用车购置费": "0.00",
             "公务用车运行维护费": "4.10", "公务接待费": "2.60"}
    page = len(r.pages) + 1
    cells = "".join(td(r.fmt(D(budget[k]))) + td(r.fmt(D(final[k]))) for k in T.THREE_PUBLIC_LINES)
    r.page(title("一般公共预算财政拨款“三公”经费支出决算表") +
           "<table><tr><th colspan=2 rowspan=2>合计</th><th colspan=2 rowspan=2>因公出国（境）费</th>"
           "<th colspan=6>公务用车购置及运行维护费</th><th colspan=2 rowspan=2>公务接待费</th></tr>"
           "<tr><th colspan=2>小计</th><th colspan=2>公务用车购置费</th><th colspan=2>公务用车运行维护费</th></tr>"
           "<tr>" + "<th>预算数</th><th>决算数</th>" * 6 + f"</tr><tr>{cells}</tr></table>")
    for k in T.THREE_PUBLIC_LINES:
        r.note(7, E, k, "预算数", D(budget[k]), page)
        r.note(7, E, k, "决算数", D(final[k]), page)
    # 表8, 表9: headers only, and a note
    r.page(title("政府性基金预算财政拨款收入支出决算表") +
           "<table><tr><th colspan=2>项目</th><th rowspan=2>年初结转和结余</th><th rowspan=2>本年收入</th>"
           "<th colspan=3>本年支出</th><th rowspan=2>年末结转和结余</th></tr>"
           "<tr><th>科目编码</th><th>科目名称</th><th>小计</th><th>基本支出</th><th>项目支出</th></tr>"
           "<tr>" + td(colspan=2) + td() * 6 + "</tr></table>"
           "<p>注：本单位2020年度没有政府性基金预算财政拨款收入支出，故本表无数据。</p>")
    r.page(title("国有资本经营预算财政拨款支出决算表") +
           "<table><tr><th colspan=2>项目</th><th rowspan=2>合计</th><th rowspan=2>基本支出</th><th rowspan=2>项目支出</th></tr>"
           "<tr><th>科目编码</th><th>科目名称</th></tr><tr>" + td(colspan=2) + td() * 3 + "</tr></table>"
           # 无 alone (no 没有): chromium writes it as the Kangxi radical ⽆, and the note was not found
           "<p>注：本单位2020年度无国有资本经营预算财政拨款支出，故本表无数据。</p>")
    r.page(HUNAN_NARRATIVE)
    return r, HUNAN_DEPT


def table6(r: Report, name: str, personnel: list, public: list, ptotal: str, utotal: str) -> None:
    page = len(r.pages) + 1
    rows = []
    for k in range(max(len(personnel), len(public))):
        cells = ""
        for block in (personnel, public):
            if k < len(block):
                code, label, v = block[k]
                cells += td(code) + td(label) + td(r.fmt(D(v)))
                r.codes[code] = label
                r.note(6, E, code, "决算数", D(v), page)
            else:
                cells += td() * 3
        rows.append(f"<tr>{cells}</tr>")
    rows.append("<tr>" + td("人员经费合计", colspan=2) + td(r.fmt(D(ptotal))) + td("公用经费合计", colspan=2)
                + td(r.fmt(D(utotal))) + "</tr>")
    r.note(6, E, T.PERSONNEL_TOTAL, "决算数", D(ptotal), page)
    r.note(6, E, T.PUBLIC_TOTAL, "决算数", D(utotal), page)
    r.page(title(name) + "<table><tr><th colspan=3>人员经费</th><th colspan=3>公用经费</th></tr>"
           "<tr><th>科目编码</th><th>科目名称</th><th>决算数</th><th>科目编码</th><th>科目名称</th><th>决算数</th></tr>"
           + "".join(rows) + "</table>")


HUNAN_NARRATIVE = "".join(f"<p>{p}</p>" for p in """第三部分
2020年度部门决算情况说明
一、收入支出决算总体情况说明
2020年度收、支总计572.00万元（收入总计含年初结转和结余12.00万元，支出总计含年末结转和结余12.00万元）。与上年相比，增加52.00万元，增长10.0%，主要是因为本年病虫害防控项目增加。
二、收入决算情况说明
本年收入合计560.00万元，其中：财政拨款收入555.50万元，占99.2%；其他收入4.50万元，占0.8%。
三、支出决算情况说明
本年支出合计560.00万元，其中：基本支出355.00万元，占63.4%；项目支出205.00万元，占36.6%。
四、财政拨款收入支出决算总体情况说明
2020年度财政拨款收、支总计567.50万元，与上年相比，增加47.50万元，增长9.1%，主要是因为本年项目收支增加。
五、一般公共预算财政拨款支出决算情况说明
（一）一般公共预算财政拨款支出决算总体情况
2020年度一般公共预算财政拨款支出555.50万元，占本年支出合计的99.2%，与上年相比，一般公共预算财政拨款支出增加45.50万元，增长8.9%，主要是因为本年项目收支增加。
（二）一般公共预算财政拨款支出决算结构情况
2020年度一般公共预算财政拨款支出555.50万元，主要用于以下方面：社会保障和就业支出（类）30.00万元，占5.4%；农林水支出（类）500.50万元，占90.1%；住房保障支出（类）25.00万元，占4.5%。
（三）一般公共预算财政拨款支出决算具体情况
2020年度一般公共预算财政拨款支出年初预算数为480.00万元，一般公共预算财政拨款支出决算数为555.50万元，完成年初预算的115.7%，其中：
1.社会保障和就业支出（类）行政事业单位养老支出（款）机关事业单位基本养老保险缴费支出（项）。
年初预算为28.00万元，支出决算为30.00万元，完成年初预算的107.1%，决算数大于年初预算数的主要原因是：调整缴费基数。
2.农林水支出（类）农业农村（款）行政运行（项）。
年初预算为310.00万元，支出决算为300.00万元，完成年初预算的98.6%，决算数小于年初预算数的主要原因是：压缩一般性支出。
3.农林水支出（类）农业农村（款）病虫害控制（项）。
年初预算为100.00万元，支出决算为120.00万元，完成年初预算的120.0%，决算数大于年初预算数的主要原因是：追加草地贪夜蛾防控经费。
4.农林水支出（类）农业农村（款）其他农业农村支出（项）。
年初预算为20.00万元，支出决算为80.50万元，完成年初预算的402.5%，决算数大于年初预算数的主要原因是：追加上级专项资金。
5.住房保障支出（类）住房改革支出（款）住房公积金（项）。
年初预算为22.00万元，支出决算为25.00万元，完成年初预算的113.6%，决算数大于年初预算数的主要原因是：调整缴存基数。
六、一般公共预算财政拨款基本支出决算情况说明
2020年度一般公共预算财政拨款基本支出355.00万元，其中：人员经费290.00万元，占基本支出的81.7%，主要包括基本工资、津贴补贴、奖金等；公用经费65.00万元，占基本支出的18.3%，主要包括办公费、差旅费等。
七、一般公共预算财政拨款三公经费支出决算情况说明
（一）“三公”经费财政拨款支出决算总体情况说明
“三公”经费财政拨款支出预算为9.00万元，支出决算为6.70万元，完成预算的74.4%，其中：
因公出国（境）费支出预算为0万元，支出决算为0万元，与上年持平。
公务接待费支出预算为4.00万元，支出决算为2.60万元，完成预算的65.0%，与上年相比减少0.40万元，减少13.3%，减少的主要原因是厉行节约。
公务用车购置费及运行维护费支出预算为5.00万元，支出决算为4.10万元，完成预算的82.0%，与上年相比增加0.10万元，增长2.5%，增加的主要原因是车辆维修。
（二）“三公”经费财政拨款支出决算具体情况说明
2020年度“三公”经费财政拨款支出决算中，公务接待费支出决算2.60万元，占38.8%，因公出国（境）费支出决算0万元，公务用车购置费及运行维护费支出决算4.10万元，占61.2%。其中：
1、因公出国（境）费支出决算为0万元，全年安排因公出国（境）团组0个，累计0人次。
2、公务接待费支出决算为2.60万元，全年共接待来访团组6个、来宾40人次，主要是病虫害防控工作调研发生的接待支出。
3、公务用车购置费及运行维护费支出决算为4.10万元，其中：公务用车购置费0万元，公务用车运行维护费4.10万元，截止2020年12月31日，我单位开支财政拨款的公务用车保有量为2辆。
八、政府性基金预算收入支出决算情况
本单位没有政府性基金收入，也没有使用政府性基金安排的支出。
九、国有资本经营预算支出决算情况
本单位没有使用国有资本经营预算安排的支出。
十、其他重要事项情况说明
（一）机关运行经费支出说明
2020年度机关运行经费支出65.00万元，比年初预算数减少5.00万元，降低7.1%，主要原因是：压缩一般性支出。
第四部分
名词解释
一、财政拨款收入：指单位从同级财政部门取得的财政预算资金。
二、年初结转和结余：指单位以前年度尚未完成、结转到本年仍按原规定用途继续使用的资金。""".splitlines())


def print_pdf(html: str, out: Path) -> Path:
    src = out.with_suffix(".html")
    src.write_text(html, encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", f"--print-to-pdf={out}", "--no-pdf-header-footer",
                    f"file://{src}"], check=True, capture_output=True, timeout=120)
    return out


# --------------------------------------------------------------------------- report B: Sichuan 2022

SICHUAN_DEPT = "成都市武侯区文化广电旅游局"


def sichuan() -> tuple[Report, str]:
    r = Report(sep=True)
    r.page(f"<h2>{SICHUAN_DEPT}</h2><h2>2022年度部门决算</h2>")
    r.page(f"<p>第一部分 部门概况</p><p>一、基本职能及主要工作</p><p>（一）主要职能。负责全区文化、广电、旅游和体育工作。</p>"
           f"<p>（二）机构设置。{SICHUAN_DEPT}内设机构包括：办公室、文化艺术科、体育科。</p>"
           "<p>第二部分 2022年度部门决算表</p>")
    # 附表1, continued on the next page (a second ruled table, no title, header repeated)
    left = [("一、一般公共预算财政拨款收入", d("2636.00"), "一般公共预算财政拨款收入"),
            ("二、政府性基金预算财政拨款收入", d("140.00"), "政府性基金预算财政拨款收入"),
            ("三、国有资本经营预算财政拨款收入", None, "国有资本经营预算财政拨款收入"),
            ("四、上级补助收入", None, "上级补助收入"), ("五、事业收入", None, "事业收入"),
            ("六、经营收入", None, "经营收入"), ("七、附属单位上缴收入", None, "附属单位上缴收入"),
            ("八、其他收入", d("23.45"), "其他收入")] + [("", None, None)] * 5 + [
            ("本年收入合计", d("2799.45"), "本年收入合计"), ("使用非财政拨款结余", None, "使用非财政拨款结余"),
            ("上年结转和结余", d("20.00"), "年初结转和结余"), ("", None, None), ("总计", d("2819.45"), "总计")]
    classes = [("一、一般公共服务支出", None, "一般公共服务支出"), ("二、教育支出", None, "教育支出"),
               ("三、文化旅游体育与传媒支出", d("2403.21"), "207"), ("四、社会保障和就业支出", d("120.34"), "208"),
               ("五、卫生健康支出", d("45.60"), "210"), ("六、城乡社区支出", None, "城乡社区支出"),
               ("七、住房保障支出", d("90.30"), "221"), ("八、其他支出", d("150.00"), "229")]
    right = [(lab, [v], key) for lab, v, key in classes] + [("", [None], None)] * 5 + [
        ("本年支出合计", [d("2809.45")], "本年支出合计"), ("结余分配", [None], "结余分配"),
        ("年末结转和结余", [d("10.00")], "年末结转和结余"), ("", [None], None), ("总计", [d("2819.45")], "总计")]
    head1 = ("<tr><th colspan=2>收入</th><th colspan=2>支出</th></tr>"
             "<tr><th>项目</th><th>决算数</th><th>项目</th><th>决算数</th></tr>")
    two_sided(r, 1, left, right, ["决算数"], head1, split=10, title_html=title("附表1 收入支出决算总表"))
    # 附表2
    h2 = ("<tr><th colspan=2>项目</th><th rowspan=2>本年收入合计</th><th rowspan=2>财政拨款收入</th>"
          "<th rowspan=2>上级补助收入</th><th rowspan=2>事业收入</th><th rowspan=2>经营收入</th>"
          "<th rowspan=2>附属单位上缴收入</th><th rowspan=2>其他收入</th></tr><tr><th>科目编码</th><th>科目名称</th></tr>")

    def inc(total: str, fiscal: str, other: str | None = None) -> list:
        return [d(total), d(fiscal), None, None, None, None, d(other)]
    coded_table(r, 2, title("附表2 收入决算表"), h2, T.MEASURES[2][I], [
        (None, "合计", inc("2799.45", "2776.00", "23.45")),
        ("207", "文化旅游体育与传媒支出", inc("2403.21", "2379.76", "23.45")),
        ("20701", "文化和旅游", inc("2103.21", "2079.76", "23.45")),
        ("2070101", "行政运行", inc("1234.56", "1234.56")), ("2070109", "群众文化", inc("868.65", "845.20", "23.45")),
        ("20708", "广播电视", inc("300.00", "300.00")), ("2070899", "其他广播电视支出", inc("300.00", "300.00")),
        ("208", "社会保障和就业支出", inc("120.34", "120.34")), ("20805", "行政事业单位养老支出", inc("120.34", "120.34")),
        ("2080505", "机关事业单位基本养老保险缴费支出", inc("120.34", "120.34")),
        ("210", "卫生健康支出", inc("45.60", "45.60")), ("21011", "行政事业单位医疗", inc("45.60", "45.60")),
        ("2101101", "行政单位医疗", inc("45.60", "45.60")),
        ("221", "住房保障支出", inc("90.30", "90.30")), ("22102", "住房改革支出", inc("90.30", "90.30")),
        ("2210201", "住房公积金", inc("90.30", "90.30")),
        ("229", "其他支出", inc("140.00", "140.00")), ("22960", "彩票公益金安排的支出", inc("140.00", "140.00")),
        ("2296003", "用于体育事业的彩票公益金支出", inc("140.00", "140.00")),
    ])
    # 附表3
    h3 = ("<tr><th colspan=2>项目</th><th rowspan=2>本年支出合计</th><th rowspan=2>基本支出</th><th rowspan=2>项目支出</th>"
          "<th rowspan=2>上缴上级支出</th><th rowspan=2>经营支出</th><th rowspan=2>对附属单位补助支出</th></tr>"
          "<tr><th>科目编码</th><th>科目名称</th></tr>")

    def exp(total: str, basic: str | None, project: str | None) -> list:
        return [d(total), d(basic), d(project), None, None, None]
    coded_table(r, 3, title("附表3 支出决算表"), h3, T.MEASURES[3][E], [
        (None, "合计", exp("2809.45", "1490.80", "1318.65")),
        ("207", "文化旅游体育与传媒支出", exp("2403.21", "1234.56", "1168.65")),
        ("20701", "文化和旅游", exp("2103.21", "1234.56", "868.65")),
        ("2070101", "行政运行", exp("1234.56", "1234.56", None)), ("2070109", "群众文化", exp("868.65", None, "868.65")),
        ("20708", "广播电视", exp("300.00", None, "300.00")), ("2070899", "其他广播电视支出", exp("300.00", None, "300.00")),
        ("208", "社会保障和就业支出", exp("120.34", "120.34", None)), ("20805", "行政事业单位养老支出", exp("120.34", "120.34", None)),
        ("2080505", "机关事业单位基本养老保险缴费支出", exp("120.34", "120.34", None)),
        ("210", "卫生健康支出", exp("45.60", "45.60", None)), ("21011", "行政事业单位医疗", exp("45.60", "45.60", None)),
        ("2101101", "行政单位医疗", exp("45.60", "45.60", None)),
        ("221", "住房保障支出", exp("90.30", "90.30", None)), ("22102", "住房改革支出", exp("90.30", "90.30", None)),
        ("2210201", "住房公积金", exp("90.30", "90.30", None)),
        ("229", "其他支出", exp("150.00", None, "150.00")), ("22960", "彩票公益金安排的支出", exp("150.00", None, "150.00")),
        ("2296003", "用于体育事业的彩票公益金支出", exp("150.00", None, "150.00")),
    ])
    # 附表4: no 国有资本经营 column (eight-table template)
    m4 = ["合计", "一般公共预算财政拨款", "政府性基金预算财政拨款"]
    left = [("一、一般公共预算财政拨款", d("2636.00"), "一般公共预算财政拨款"),
            ("二、政府性基金预算财政拨款", d("140.00"), "政府性基金预算财政拨款"),
            ("", None, None), ("", None, None), ("", None, None),
            ("本年收入合计", d("2776.00"), "本年收入合计"),
            ("上年结转和结余", d("20.00"), "年初结转和结余"),
            ("一般公共预算财政拨款", None, "年初结转和结余/一般公共预算财政拨款"),
            ("政府性基金预算财政拨款", d("20.00"), "年初结转和结余/政府性基金预算财政拨款"),
            ("总计", d("2796.00"), "总计")]
    right = [("一、文化旅游体育与传媒支出", [d("2379.76"), d("2379.76"), None], "207"),
             ("二、社会保障和就业支出", [d("120.34"), d("120.34"), None], "208"),
             ("三、卫生健康支出", [d("45.60"), d("45.60"), None], "210"),
             ("四、住房保障支出", [d("90.30"), d("90.30"), None], "221"),
             ("五、其他支出", [d("150.00"), None, d("150.00")], "229"),
             ("本年支出合计", [d("2786.00"), d("2636.00"), d("150.00")], "本年支出合计"),
             ("年末结转和结余", [d("10.00"), None, d("10.00")], "年末结转和结余"),
             ("", [None] * 3, None), ("", [None] * 3, None),
             ("总计", [d("2796.00"), d("2636.00"), d("160.00")], "总计")]
    two_sided(r, 4, left, right, m4,
              "<tr><th colspan=2>收入</th><th colspan=4>支出</th></tr>"
              "<tr><th>项目</th><th>决算数</th><th>项目</th><th>合计</th><th>一般公共预算财政拨款</th>"
              "<th>政府性基金预算财政拨款</th></tr>",
              title_html=title("附表4 财政拨款收入支出决算总表"))
    # 附表5: no 年初预算数; 决算数 headed 本年支出 / 小计, as many provinces print it (its 小计 was
    # not read as the template's 合计: the report's 决算数 left out, with a warning only)
    h5 = ("<tr><th colspan=2>项目</th><th colspan=3>本年支出</th></tr>"
          "<tr><th>科目编码</th><th>科目名称</th><th>小计</th><th>基本支出</th><th>项目支出</th></tr>")

    def gpb(total: str, basic: str | None, project: str | None) -> list:
        return [d(total), d(basic), d(project)]
    coded_table(r, 5, title("附表5 一般公共预算财政拨款支出决算表"), h5, ["合计", "基本支出", "项目支出"], [
        (None, "合计", gpb("2636.00", "1490.80", "1145.20")),
        ("207", "文化旅游体育与传媒支出", gpb("2379.76", "1234.56", "1145.20")),
        ("20701", "文化和旅游", gpb("2079.76", "1234.56", "845.20")),
        ("2070101", "行政运行", gpb("1234.56", "1234.56", None)), ("2070109", "群众文化", gpb("845.20", None, "845.20")),
        ("20708", "广播电视", gpb("300.00", None, "300.00")), ("2070899", "其他广播电视支出", gpb("300.00", None, "300.00")),
        ("208", "社会保障和就业支出", gpb("120.34", "120.34", None)), ("20805", "行政事业单位养老支出", gpb("120.34", "120.34", None)),
        ("2080505", "机关事业单位基本养老保险缴费支出", gpb("120.34", "120.34", None)),
        ("210", "卫生健康支出", gpb("45.60", "45.60", None)), ("21011", "行政事业单位医疗", gpb("45.60", "45.60", None)),
        ("2101101", "行政单位医疗", gpb("45.60", "45.60", None)),
        ("221", "住房保障支出", gpb("90.30", "90.30", None)), ("22102", "住房改革支出", gpb("90.30", "90.30", None)),
        ("2210201", "住房公积金", gpb("90.30", "90.30", None)),
    ])
    # 附表6: 30102 printed 301.00 (deliberate: 301's 款 add up to 1,307.24, 301 prints 1,306.24)
    personnel = [("301", "工资福利支出", "1306.24"), ("30101", "基本工资", "600.00"), ("30102", "津贴补贴", "301.00"),
                 ("30103", "奖金", "150.00"), ("30108", "机关事业单位基本养老保险缴费", "120.34"),
                 ("30110", "职工基本医疗保险缴费", "45.60"), ("30113", "住房公积金", "90.30"),
                 ("303", "对个人和家庭的补助", "20.00"), ("30302", "退休费", "20.00")]
    public = [("302", "商品和服务支出", "164.56"), ("30201", "办公费", "50.00"), ("30211", "差旅费", "30.00"),
              ("30217", "公务接待费", "3.50"), ("30231", "公务用车运行维护费", "12.00"),
              ("30299", "其他商品和服务支出", "69.06")]
    table6(r, "附表6 一般公共预算财政拨款基本支出决算表", personnel, public, "1326.24", "164.56")
    # 附表7: lines as rows
    seven = [("合计", "合计", "20.00", "15.50"), ("1.因公出国（境）费", "因公出国（境）费", "0.00", "0.00"),
             ("2.公务用车购置及运行维护费", "公务用车购置及运行维护费", "15.00", "12.00"),
             ("其中：（1）公务用车购置费", "公务用车购置费", "0.00", "0.00"),
             ("（2）公务用车运行维护费", "公务用车运行维护费", "15.00", "12.00"),
             ("3.公务接待费", "公务接待费", "5.00", "3.50")]
    page = len(r.pages) + 1
    rows = "".join(f"<tr>{td(lab)}{td(r.fmt(D(b)))}{td(r.fmt(D(f)))}</tr>" for lab, _, b, f in seven)
    r.page(title("附表7 财政拨款“三公”经费支出决算表") +
           f"<table><tr><th>项目</th><th>预算数</th><th>决算数</th></tr>{rows}</table>")
    for _, key, b, f in seven:
        r.note(7, E, key, "预算数", D(b), page)
        r.note(7, E, key, "决算数", D(f), page)
    # 附表8: 政府性基金 with figures
    h8 = ("<tr><th colspan=2>项目</th><th rowspan=2>上年结转和结余</th><th rowspan=2>本年收入</th>"
          "<th colspan=3>本年支出</th><th rowspan=2>年末结转和结余</th></tr>"
          "<tr><th>科目编码</th><th>科目名称</th><th>小计</th><th>基本支出</th><th>项目支出</th></tr>")
    fund = [d("20.00"), d("140.00"), d("150.00"), None, d("150.00"), d("10.00")]
    coded_table(r, 8, title("附表8 政府性基金预算财政拨款收入支出决算表"), h8, T.MEASURES[8][E], [
        (None, "合计", fund), ("229", "其他支出", fund), ("22960", "彩票公益金安排的支出", fund),
        ("2296003", "用于体育事业的彩票公益金支出", fund)])
    r.page(SICHUAN_NARRATIVE)
    return r, SICHUAN_DEPT


SICHUAN_NARRATIVE = "".join(f"<p>{p}</p>" for p in """第三部分 2022年度部门决算情况说明
一、收入支出决算总体情况说明
2022年度收、支总计2,819.45万元（收入总计含上年结转和结余20.00万元，支出总计含年末结转和结余10.00万元）。与2021年相比，收、支总计各增加120.00万元，增长4.4%。主要变动原因是群众文化活动增加。
二、收入决算情况说明
2022年本年收入合计2,799.45万元，其中：财政拨款收入2,776.00万元，占99.2%；其他收入23.45万元，占0.8%。
三、支出决算情况说明
2022年本年支出合计2,809.45万元，其中：基本支出1,490.80万元，占53.1%；项目支出1,318.65万元，占46.9%。
四、财政拨款收入支出决算总体情况说明
2022年度财政拨款收、支总计2,796.00万元。与2021年相比，财政拨款收、支总计各增加96.00万元，增长3.6%。主要变动原因是体育彩票公益金项目增加。
五、一般公共预算财政拨款支出决算情况说明
（一）一般公共预算财政拨款支出决算总体情况
2022年度一般公共预算财政拨款支出2,636.00万元，占本年支出合计的93.8%。与2021年相比，一般公共预算财政拨款支出增加36.00万元，增长1.4%。
（二）一般公共预算财政拨款支出决算结构情况
2022年度一般公共预算财政拨款支出2,636.00万元，主要用于以下方面：文化旅游体育与传媒支出（类）2,379.76万元，占90.3%；社会保障和就业支出（类）120.34万元，占4.6%；卫生健康支出（类）45.60万元，占1.7%；住房保障支出（类）90.30万元，占3.4%。
（三）一般公共预算财政拨款支出决算具体情况
1.文化旅游体育与传媒支出（类）文化和旅游（款）行政运行（项）：支出决算为1,234.56万元，与上年持平。
2.文化旅游体育与传媒支出（类）文化和旅游（款）群众文化（项）：支出决算为845.20万元，主要用于社区文化活动。
3.文化旅游体育与传媒支出（类）广播电视（款）其他广播电视支出（项）：支出决算为300.00万元，主要用于应急广播建设。
4.社会保障和就业支出（类）行政事业单位养老支出（款）机关事业单位基本养老保险缴费支出（项）：支出决算为120.34万元。
5.卫生健康支出（类）行政事业单位医疗（款）行政单位医疗（项）：支出决算为45.60万元。
6.住房保障支出（类）住房改革支出（款）住房公积金（项）：支出决算为90.30万元。
六、一般公共预算财政拨款基本支出决算情况说明
2022年度一般公共预算财政拨款基本支出1,490.80万元，其中：人员经费1,326.24万元，主要包括基本工资、津贴补贴、奖金、退休费等；公用经费164.56万元，主要包括办公费、差旅费、公务接待费等。
七、财政拨款“三公”经费支出决算情况说明
（一）“三公”经费财政拨款支出决算总体情况说明
2022年度“三公”经费财政拨款支出预算为20.00万元，支出决算为15.50万元，完成预算的77.5%，其中：因公出国（境）费支出决算为0.00万元，与上年持平；公务用车购置及运行维护费支出决算为12.00万元，完成预算的80.0%，比上年减少1.00万元，下降7.7%；公务接待费支出决算为3.50万元，完成预算的70.0%，与上年持平。
（二）“三公”经费财政拨款支出决算具体情况说明
2022年度“三公”经费财政拨款支出决算中，公务用车购置及运行维护费支出决算12.00万元，占77.4%；公务接待费支出决算3.50万元，占22.6%。截至2022年12月31日，开支财政拨款的公务用车保有量为3辆。
八、政府性基金预算支出决算情况说明
2022年度政府性基金预算财政拨款支出150.00万元，全部用于体育事业的彩票公益金项目。
九、国有资本经营预算支出决算情况说明
本部门2022年度无国有资本经营预算财政拨款收入和支出，故未公开国有资本经营预算财政拨款支出决算表。
第四部分 名词解释
一、上年结转和结余：指以前年度尚未完成、结转到本年按有关规定继续使用的资金。""".splitlines())


# --------------------------------------------------------------------------- importing

@dataclass
class Imported:
    report: Report
    department: str
    report_id: str
    package: Path
    summary: object

    def rows(self, resource: str) -> list[dict[str, str]]:
        with (self.package / "data" / f"{resource}.csv").open(encoding="utf-8") as fh:
            return [r for r in csv.DictReader(fh) if r.get("report_id", self.report_id) == self.report_id]


def _import(tmp: Path, build) -> Imported:
    report, dept = build()
    pdf = print_pdf(report.html(), tmp / "report.pdf")
    pkg = tmp / "pkg"
    shutil.copytree(ROOT / "datapackage", pkg)
    summary = import_report(pdf, pkg)
    return Imported(report, dept, summary.report_id, pkg, summary)


@pytest.fixture(scope="module")
def hunan_report(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    return _import(tmp_path_factory.mktemp("hunan"), hunan)


@pytest.fixture(scope="module")
def sichuan_report(tmp_path_factory: pytest.TempPathFactory) -> Imported:
    return _import(tmp_path_factory.mktemp("sichuan"), sichuan)


@pytest.fixture(params=["hunan", "sichuan"])
def imported(request: pytest.FixtureRequest) -> Imported:
    return request.getfixturevalue(f"{request.param}_report")


#: Figures a report's narrative states that its tables do not print, kept from the narrative:
#: 表6 prints no 合计 line; the narrative's 一般公共预算财政拨款基本支出 is that total.
NARRATIVE_ONLY = {"hunan": {(6, E, "合计", "决算数"): D("355.00")},
                  "sichuan": {(6, E, "合计", "决算数"): D("1490.80")}}


def _which(imp: Imported) -> str:
    return "hunan" if imp.department == HUNAN_DEPT else "sichuan"


def test_report_identity(imported: Imported) -> None:
    year = 2020 if _which(imported) == "hunan" else 2022
    s = imported.summary
    assert (s.department, s.year, s.kind) == (imported.department, year, "决算")
    assert imported.report_id == f"{department_slug(imported.department)}-{year}-final"
    [report] = imported.rows("reports")
    assert report["year"] == str(year) and report["kind"] == "决算" and report["unit"] == "万元"
    assert report["tables_attached"] == "true" and report["title"] == f"{year}年度{imported.department}部门决算"
    [dept] = [r for r in imported.rows("departments") if r["department_id"] == report["department_id"]]
    assert dept["name"] == imported.department


def test_every_printed_figure_is_read_with_its_page(imported: Imported) -> None:
    rows = imported.rows("amounts")
    got = {(int(r["table_no"]), r["side"], r["line_key"], r["measure"]): r for r in rows}
    printed = imported.report.printed
    wrong = {k: (v, (got[k]["amount"], got[k]["source_page"], got[k]["source_kind"]) if k in got else None)
             for k, v in printed.items()
             if k not in got or D(got[k]["amount"]) != v[0] or got[k]["source_page"] != str(v[1])
             or got[k]["source_kind"] != "table"}
    assert not wrong
    extra = {k: D(r["amount"]) for k, r in got.items() if k not in printed}
    assert extra == NARRATIVE_ONLY[_which(imported)]
    assert all(got[k]["source_kind"] == "narrative" for k in extra)
    # a coded line carries its printed code (stated); tables 1 and 4 print their 类 lines by name
    # only: they take the code the report's other tables print for that name (high); totals none
    for k, r in got.items():
        certainty = "high" if k[0] in (1, 4) else "stated"
        if k[2].isdigit():
            assert (r["code"], r["code_certainty"], r["classification_id"]) == (k[2], certainty, f"{k[2]}@{imported.summary.year}")
        else:
            assert not r["code"] and not r["code_certainty"]


def test_figure_counts(imported: Imported) -> None:
    n = {"hunan": 153, "sichuan": 205}[_which(imported)]
    assert len(imported.report.printed) == n
    assert len([r for r in imported.rows("amounts") if r["source_kind"] == "table"]) == n


def test_table_class_lines_by_name_carry_the_code(sichuan_report: Imported) -> None:
    rows = {(int(r["table_no"]), r["line_key"]): r for r in sichuan_report.rows("amounts") if r["side"] == E}
    assert rows[(1, "207")]["item"] == "文化旅游体育与传媒支出" and rows[(1, "207")]["code_certainty"] == "high"
    assert D(rows[(1, "229")]["amount"]) == D(rows[(4, "229")]["amount"]) == D("150.00")


def test_continued_table1_and_separators(sichuan_report: Imported) -> None:
    rows = {(r["side"], r["line_key"]): r for r in sichuan_report.rows("amounts") if r["table_no"] == "1"}
    assert rows[(I, "本年收入合计")]["source_page"] == "4" and D(rows[(I, "本年收入合计")]["amount"]) == D("2799.45")
    assert rows[(I, T.OPENING_BALANCE)]["item"] == "上年结转和结余"  # keyed 年初结转和结余, printed 上年
    assert rows[(E, "207")]["source_page"] == "3"
    assert int(rows[(E, "总计")]["line_no"]) > int(rows[(E, "本年支出合计")]["line_no"]) > int(rows[(E, "229")]["line_no"])


def _statements(imp: Imported) -> dict[tuple[str, str], list[dict[str, str]]]:
    out: dict[tuple[str, str], list[dict[str, str]]] = {}
    for s in imp.rows("statements"):
        out.setdefault((s["topic"], s["source_ref"]), []).append(s)
    return out


def _stmt(imp: Imported, topic: str, ref: str) -> tuple:
    [s] = _statements(imp)[(topic, ref)]
    return (s["value"], s["table_no"], s["line_key"], s["measure"])


def test_hunan_statements(hunan_report: Imported) -> None:
    h = hunan_report
    assert h.summary.figures == 86 and h.summary.figures_understood == 86 and not h.summary.not_understood
    assert h.summary.figures_matched == 46 and not h.summary.unmapped_paths and not h.summary.table_mismatches
    assert _stmt(h, "total", "第三部分 一") == ("572.00", "1", "总计", "决算数")
    assert _stmt(h, "income.opening_balance", "第三部分 一") == ("12.00", "1", T.OPENING_BALANCE, "决算数")
    assert _stmt(h, "total.growth_rate", "第三部分 一")[0] == "10.0"
    assert _stmt(h, "income.fiscal.share", "第三部分 二")[0] == "99.2"
    assert _stmt(h, "fiscal.total", "第三部分 四") == ("567.50", "4", "总计", "决算数")
    assert _stmt(h, "gpb.expenditure.budget", "第三部分 五（三）") == ("480.00", "5", "合计", "年初预算数")
    # the narrative's 类(款)(项) paths take the codes the report's own 表5 prints
    classes = [(s["value"], s["line_key"]) for s in _statements(h)[("gpb.class", "第三部分 五（二）")]]
    assert classes == [("30.00", "208"), ("500.50", "213"), ("25.00", "221")]
    assert _stmt(h, "gpb.item.budget", "第三部分 五（三）2") == ("310.00", "5", "2130101", "年初预算数")
    assert _stmt(h, "gpb.item", "第三部分 五（三）2") == ("300.00", "5", "2130101", "合计")
    assert _stmt(h, "gpb.item.execution_rate", "第三部分 五（三）2")[0] == "98.6"
    assert _stmt(h, "gpb.item", "第三部分 五（三）3")[2] == "2130108"
    assert _stmt(h, "gpb.basic.personnel", "第三部分 六") == ("290.00", "6", T.PERSONNEL_TOTAL, "决算数")
    assert _stmt(h, "three_public.reception.growth_rate", "第三部分 七（一）")[0] == "-13.3"
    assert _stmt(h, "three_public.vehicle.change", "第三部分 七（一）")[0] == "0.10"
    assert _stmt(h, "three_public.vehicle_operation", "第三部分 七（二）3") == ("4.10", "7", "公务用车运行维护费", "决算数")
    assert _stmt(h, "three_public.vehicles", "第三部分 七（二）3")[0] == "2"
    assert _stmt(h, "admin_costs.growth_rate", "第三部分 十（一）")[0] == "-7.1"


def test_sichuan_statements(sichuan_report: Imported) -> None:
    s = sichuan_report
    assert s.summary.figures == 58 and s.summary.figures_understood == 58 and not s.summary.not_understood
    assert s.summary.figures_matched == 33 and not s.summary.unmapped_paths and not s.summary.table_mismatches
    assert _stmt(s, "total", "第三部分 一") == ("2819.45", "1", "总计", "决算数")
    assert _stmt(s, "income.opening_balance", "第三部分 一") == ("20.00", "1", T.OPENING_BALANCE, "决算数")  # 上年结转和结余
    assert _stmt(s, "expenditure.project", "第三部分 三") == ("1318.65", "3", "合计", "项目支出")
    assert _stmt(s, "fiscal.total.growth_rate", "第三部分 四")[0] == "3.6"
    assert [(x["value"], x["line_key"]) for x in _statements(s)[("gpb.class", "第三部分 五（二）")]] == [
        ("2379.76", "207"), ("120.34", "208"), ("45.60", "210"), ("90.30", "221")]
    assert _stmt(s, "gpb.item", "第三部分 五（三）1") == ("1234.56", "5", "2070101", "合计")
    assert _stmt(s, "gpb.item", "第三部分 五（三）3") == ("300.00", "5", "2070899", "合计")
    # "比上年减少1.00万元" after 公务用车购置及运行维护费 in the same clause is about that line, not 三公 as a whole
    assert _stmt(s, "three_public.vehicle.change", "第三部分 七（一）")[0] == "-1.00"
    assert _stmt(s, "three_public.vehicle.growth_rate", "第三部分 七（一）")[0] == "-7.7"
    assert "three_public.total.change" not in {t for t, _ in _statements(s)}
    # "与上年持平": a change of 0
    assert _stmt(s, "three_public.reception.change", "第三部分 七（一）")[0] == "0"
    assert _stmt(s, "three_public.abroad.change", "第三部分 七（一）")[0] == "0"
    assert _stmt(s, "fund.expenditure", "第三部分 八") == ("150.00", "8", "合计", "本年支出合计")


def test_report_tables(imported: Imported) -> None:
    by_no = {int(r["table_no"]): r for r in imported.rows("report_tables")}
    assert sorted(by_no) == list(range(1, 10))
    if _which(imported) == "hunan":
        assert {n: r["status"] for n, r in by_no.items()} == {**{n: "attached" for n in range(1, 8)}, 8: "empty", 9: "empty"}
        assert by_no[7]["title_as_printed"] == "一般公共预算财政拨款“三公”经费支出决算表"
        assert by_no[8]["title_as_printed"] == "政府性基金预算财政拨款收入支出决算表"  # printed, headers only
        assert by_no[8]["statement"] == "本单位没有政府性基金收入，也没有使用政府性基金安排的支出。"
        assert by_no[9]["source_ref"] == "第三部分 九"
    else:
        assert {n: r["status"] for n, r in by_no.items()} == {**{n: "attached" for n in range(1, 9)}, 9: "empty"}
        assert by_no[1]["title_as_printed"] == "附表1收入支出决算总表" and by_no[1]["source_ref"].endswith("(p.3-4)")
        assert by_no[9]["title_as_printed"] == "" and "无国有资本经营预算" in by_no[9]["statement"]


def test_classification_rows(imported: Imported) -> None:
    year = imported.summary.year
    # the shipped package holds the seed's 2020 codes too: this report's rows name its file as source
    cls = {r["code"]: r for r in imported.rows("classification")
           if r["edition"] == str(year) and r["source"].startswith("report.pdf")}
    for code, name in imported.report.codes.items():
        row = cls[code]
        assert (row["name"], row["certainty"], row["level"]) == (name, "stated", T.code_level(code)), code
        assert row["scheme"] == ("支出经济分类" if code[0] == "3" else "支出功能分类")
        parent = T.parent_code(code)
        assert row["parent_id"] == (f"{parent}@{year}" if parent else "")
    assert set(cls) == set(imported.report.codes)


EXPECTED_FINDINGS = {
    "hunan": [("ratio.execution_rate", "error", 98.6, 96.77)],
    "sichuan": [("hierarchy.class", "error", 1306.24, 1307.24)],
}


def test_validator_finds_exactly_the_deliberate_inconsistency(imported: Imported) -> None:
    result = validate_package(imported.package)
    assert not result.schema_problems
    found = [f for f in result.findings if f.report_id == imported.report_id]
    got = [(f.rule_id, f.severity, f.stated, round(f.expected, 2)) for f in found]
    assert got == EXPECTED_FINDINGS[_which(imported)], [f.message_en for f in found]
    [f] = found
    if _which(imported) == "hunan":
        assert f.source_ref == "第三部分 五（三）2" and "300.00 / budget 310.00" in f.message_en
    else:
        assert f.row_ref and "301" in f.row_ref and "30102" in f.message_en
    # the import reported the same finding
    assert [(x["rule_id"], x["severity"]) for x in imported.summary.findings] == [(f.rule_id, f.severity)]


# --------------------------------------------------------------------------- a narrative printed alone

def hunan_narrative_only() -> tuple[Report, str]:
    """The Hunan report's 情况说明 printed without its tables, after a contents page that lists
    them: as a bulleted list (a web page printed: "-一、收入支出决算总表") and unnumbered."""
    r = Report(sep=False)
    listed = [f"{'一二三四五六七八九'[n - 1]}、{t}" for n, t in enumerate(
        ["收入支出决算总表", "收入决算表", "支出决算表", "财政拨款收入支出决算总表", "一般公共预算财政拨款支出决算表",
         "一般公共预算财政拨款基本支出决算表", "一般公共预算财政拨款“三公”经费支出决算表",
         "政府性基金预算财政拨款收入支出决算表", "国有资本经营预算财政拨款支出决算表"], start=1)]
    r.page(f"<h2>2020年度</h2><h2>{HUNAN_DEPT}部门决算</h2><p>目 录</p><p>第二部分 2020年度部门决算表</p>"
           + "".join(f"<p>-{t}</p>" for t in listed))
    r.page("<p>附表目录</p>" + "".join(f"<p>{t.split('、', 1)[1]}</p>" for t in listed[:4]))
    r.page(f"<p>第一部分</p><p>{HUNAN_DEPT}单位概况</p><p>二、机构设置及决算单位构成</p>"
           f"<p>（一）内设机构设置。{HUNAN_DEPT}内设机构包括：办公室、民营经济股。</p>")
    r.page(HUNAN_NARRATIVE)
    return r, HUNAN_DEPT


def test_a_narrative_printed_alone_has_no_attached_tables(tmp_path: Path) -> None:
    """A contents page listing the tables (bulleted, or not numbered) recorded 表1-7 as attached
    (p.1), and every figure the narrative states as "not read from the attached table"."""
    imp = _import(tmp_path, hunan_narrative_only)
    tables = {int(t["table_no"]): t["status"] for t in imp.rows("report_tables")}
    assert tables == {**dict.fromkeys(range(1, 8), "not_attached"), 8: "empty", 9: "empty"}
    [report] = imp.rows("reports")
    assert report["tables_attached"] == "false"
    assert not [w for w in imp.summary.warnings if "ruled grid" in w or "not read from the attached table" in w]
    amounts = imp.rows("amounts")
    assert amounts and {a["source_kind"] for a in amounts} == {"narrative"}
    result = validate_package(imp.package)
    assert not [f for f in result.findings if f.rule_id in ("report_tables.status", "statements.line")]
    # chromium writes 民 as the radical ⺠ (U+2EE0), which NFKC leaves: 民 is not found by a search for it
    assert "民营经济股" in {u["name"] for u in imp.rows("report_units")}
    for csv_file in (imp.package / "data").glob("*.csv"):
        assert not [ch for ch in csv_file.read_text("utf-8") if "\u2e80" <= ch <= "\u2eff"], csv_file.name
