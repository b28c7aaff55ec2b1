"""Synthetic corpora: N departments x Y years of 部门决算 reports following the national template.

Every report's figures hold the identities of the template (row sums, 类 = Σ 款 = Σ 项, table 1
against tables 2 and 3, table 4 against table 5, table 5's 基本支出 against table 6, the 三公
subtotals, the 总计 balance), computed in integer hundredths of 万元 so nothing is lost to
rounding. Each report has the 情况说明 the template prescribes (~32 statements: totals and
general-budget spending against the year before, compared with the department's previous report;
budget execution of the total and of every 项; 三公 against budget), and a share of the reports has
no attached tables: their figures are the narrative's (``narrative_only``). A controlled share of
reports gets one seeded error each; ``seeded_errors.json`` beside the package lists them. Codes
come from the classification resource the corpus writes itself (codes seen in real reports, one
edition per year).

Used by the benchmarks and the tests: ``write_corpus(out_dir, departments, years, error_share, seed)``.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import template
from .package import SHIPPED_PACKAGE

_FUNCTIONAL = """
201:一般公共服务支出;20103:政府办公厅（室）及相关机构事务;2010301:行政运行;2010302:一般行政管理事务;2010350:事业运行;
2010399:其他政府办公厅（室）及相关机构事务支出;20105:统计信息事务;2010505:专项统计业务;2010506:统计管理;2010507:专项普查活动;
20106:财政事务;2010601:行政运行;2010602:一般行政管理事务;2010607:信息化建设;2010608:财政委托业务支出;20113:商贸事务;
2011301:行政运行;2011302:一般行政管理事务;2011350:事业运行;2011399:其他商贸事务支出;20129:群众团体事务;2012902:一般行政管理事务;
20132:组织事务;2013202:一般行政管理事务;20133:宣传事务;2013302:一般行政管理事务;20134:统战事务;2013402:一般行政管理事务;
20138:市场监督管理事务;2013802:一般行政管理事务;20139:社会工作事务;2013901:行政运行;2013950:事业运行;2013999:其他社会工作事务支出;
204:公共安全支出;20406:司法;2040601:行政运行;2040604:基层司法业务;2040605:普法宣传;2040607:公共法律服务;2040613:信息化建设;
2040699:其他司法支出;20499:其他公共安全支出;2049999:其他公共安全支出;205:教育支出;20599:其他教育支出;2059999:其他教育支出;
206:科学技术支出;20605:科技条件与服务;2060503:科技条件专项;20607:科学技术普及;2060702:科普活动;207:文化旅游体育与传媒支出;
20701:文化和旅游;2070101:行政运行;2070104:图书馆;2070105:文化展示及纪念机构;2070108:文化活动;2070109:群众文化;
2070110:文化和旅游交流与合作;2070111:文化创作与保护;2070112:文化和旅游市场管理;2070113:旅游宣传;2070114:文化和旅游管理事务;
2070199:其他文化和旅游支出;20703:体育;2070308:群众体育;20799:其他文化旅游体育与传媒支出;2079903:文化产业发展专项支出;
2079999:其他文化旅游体育与传媒支出;208:社会保障和就业支出;20805:行政事业单位养老支出;2080501:行政单位离退休;2080502:事业单位离退休;
2080505:机关事业单位基本养老保险缴费支出;2080506:机关事业单位职业年金缴费支出;2080599:其他行政事业单位养老支出;20807:就业补助;
2080705:公益性岗位补贴;20808:抚恤;2080801:死亡抚恤;20816:红十字事业;2081602:一般行政管理事务;20825:其他生活救助;
2082501:其他城市生活救助;20899:其他社会保障和就业支出;2089999:其他社会保障和就业支出;210:卫生健康支出;21007:计划生育事务;
2100717:计划生育服务;21011:行政事业单位医疗;2101101:行政单位医疗;2101102:事业单位医疗;211:节能环保支出;21111:污染减排;
2111101:减排专项支出;212:城乡社区支出;21201:城乡社区管理事务;2120101:行政运行;2120102:一般行政管理事务;2120104:城管执法;
2120199:其他城乡社区管理事务支出;21202:城乡社区规划与管理;2120201:城乡社区规划与管理;21203:城乡社区公共设施;
2120399:其他城乡社区公共设施支出;21205:城乡社区环境卫生;2120501:城乡社区环境卫生;21299:其他城乡社区支出;2129999:其他城乡社区支出;
215:资源勘探工业信息等支出;21508:支持中小企业发展和管理支出;2150899:其他支持中小企业发展和管理支出;216:商业服务业等支出;
21699:其他商业服务业等支出;2169999:其他商业服务业等支出;220:自然资源海洋气象等支出;22001:自然资源事务;2200150:事业运行;
2200199:其他自然资源事务支出;221:住房保障支出;22102:住房改革支出;2210201:住房公积金;2210203:购房补贴;22103:城乡社区住宅;
2210399:其他城乡社区住宅支出;224:灾害防治及应急管理支出;22402:消防救援事务;2240299:其他消防救援事务支出
"""

_ECONOMIC = """
301:工资福利支出;30101:基本工资;30102:津贴补贴;30103:奖金;30107:绩效工资;30108:机关事业单位基本养老保险缴费;30109:职业年金缴费;
30110:职工基本医疗保险缴费;30113:住房公积金;30199:其他工资福利支出;302:商品和服务支出;30201:办公费;30202:印刷费;30205:水费;
30206:电费;30207:邮电费;30209:物业管理费;30211:差旅费;30213:维修（护）费;30215:会议费;30216:培训费;30217:公务接待费;
30226:劳务费;30228:工会经费;30229:福利费;30231:公务用车运行维护费;30239:其他交通费用;30299:其他商品和服务支出;
303:对个人和家庭的补助;30302:退休费;30305:生活补助;30307:医疗费补助;30399:其他对个人和家庭的补助;310:资本性支出;
31002:办公设备购置;31007:信息网络及软件购置更新;31099:其他资本性支出
"""

PROVINCES = [("湖南省", "株洲市", "芦淞区"), ("上海市", None, "普陀区"), ("浙江省", "杭州市", "西湖区"),
             ("四川省", "成都市", "武侯区"), ("广东省", "广州市", "天河区"), ("河北省", "石家庄市", "长安区")]
AGENCIES = ["科技和工业信息化局", "财政局", "统计局", "司法局", "文化旅游体育局", "人力资源和社会保障局", "卫生健康局",
            "生态环境分局", "城市管理局", "住房和城乡建设局", "商务局", "应急管理局", "市场监督管理局", "民政局"]
PROJECTS = ["信息化建设项目", "城市环境综合整治", "科技创新专项资金", "专项普查经费", "公共法律服务体系建设", "群众文化活动",
            "老旧小区改造", "安全生产执法检查", "中小企业发展专项", "图书馆数字化", "社区卫生服务补助", "消防设施维护"]
REASONS = ["主要原因是年中追加项目经费", "主要原因是人员变动", "主要原因是厉行节约压减一般性支出", "主要原因是项目延期实施",
           "主要原因是上年结转资金在本年使用"]
THREE_PUBLIC = template.THREE_PUBLIC_LINES  # 合计, 出国, 公务用车小计, 购置费, 运行维护费, 接待费
ERROR_KINDS = ("table5_row_sum", "table1_income_total", "three_public_total", "statement_vs_table",
               "last_year_change")


def _parse(codes: str) -> dict[str, str]:
    out = {}
    for entry in codes.replace("\n", "").split(";"):
        code, name = entry.strip().split(":")
        out[code] = name
    return out


FUNCTIONAL = _parse(_FUNCTIONAL)
ECONOMIC = _parse(_ECONOMIC)


def _children(codes: dict[str, str], code: str) -> list[str]:
    n = len(code) + 2
    return [c for c in codes if len(c) == n and c.startswith(code)]


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` cents in ``parts`` non-negative integer shares that add up exactly."""
    if parts == 1:
        return [total]
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total])]


def _leaf(rng: random.Random) -> int:
    return int(10 ** rng.uniform(2, 5.7))  # 1.00 to ~5000.00 万元, in cents


class _Report:
    """Rows of one report; amounts in cents."""

    def __init__(self, report_id: str, year: int) -> None:
        self.report_id = report_id
        self.edition = str(year)
        self.amounts: list[list[Any]] = []
        self._line: dict[tuple[int, str], int] = {}
        self._lines_seen: dict[tuple[int, str, str], int] = {}

    def add(self, table_no: int, side: str, line_key: str, measure: str, cents: int, *, item: str | None = None,
            code: str | None = None, explanation: str = "") -> None:
        key = (table_no, side, line_key)
        if key not in self._lines_seen:
            n = self._line.get((table_no, side), 0) + 1
            self._line[(table_no, side)] = n
            self._lines_seen[key] = n
        self.amounts.append([self.report_id, table_no, side, self._lines_seen[key], line_key,
                             f"{code}@{self.edition}" if code else "", code or "", item or line_key, measure,
                             cents, "stated" if code else "", explanation, "table", 2 + table_no,
                             f"第二部分 表{table_no}"])


def _coded_table(rep: _Report, table_no: int, side: str, tree: dict[str, dict[str, list[str]]],
                 leaves: dict[str, dict[str, int]], measures: list[str], names: dict[str, str],
                 explain: dict[str, str] | None = None) -> dict[str, int]:
    """类/款/项 lines with sums, then the 合计 line; returns the 合计 per measure."""
    total = dict.fromkeys(measures, 0)
    body = []
    for lei, kuans in tree.items():
        lei_sum = dict.fromkeys(measures, 0)
        kuan_rows = []
        for kuan, xiangs in kuans.items():
            kuan_sum = dict.fromkeys(measures, 0)
            for xiang in xiangs:
                for m in measures:
                    kuan_sum[m] += leaves[xiang][m]
            for m in measures:
                lei_sum[m] += kuan_sum[m]
            kuan_rows.append((kuan, kuan_sum, xiangs))
        for m in measures:
            total[m] += lei_sum[m]
        body.append((lei, lei_sum, kuan_rows))
    for m in measures:
        rep.add(table_no, side, template.TOTAL, m, total[m])
    for lei, lei_sum, kuan_rows in body:
        for m in measures:
            rep.add(table_no, side, lei, m, lei_sum[m], item=names[lei], code=lei)
        for kuan, kuan_sum, xiangs in kuan_rows:
            for m in measures:
                rep.add(table_no, side, kuan, m, kuan_sum[m], item=names[kuan], code=kuan)
            for xiang in xiangs:
                for m in measures:
                    note = (explain or {}).get(xiang, "") if m == measures[0] else ""
                    rep.add(table_no, side, xiang, m, leaves[xiang][m], item=names[xiang], code=xiang,
                            explanation=note)
    return total


def _report(rng: random.Random, report_id: str, year: int, last: dict[str, int] | None = None
            ) -> tuple[_Report, list[list[Any]], int]:
    """One report's amounts and narrative; ``last``: the figures of YOY_FIGURES the department's
    report of the year before published (None: no such report in the corpus)."""
    rep = _Report(report_id, year)
    E, I = template.EXPENDITURE, template.INCOME
    leis = [c for c in FUNCTIONAL if len(c) == 3]
    tree: dict[str, dict[str, list[str]]] = {}
    for lei in sorted(rng.sample(leis, rng.randint(3, 5))):
        kuans = _children(FUNCTIONAL, lei)
        tree[lei] = {}
        for kuan in sorted(rng.sample(kuans, min(len(kuans), rng.randint(1, 3)))):
            xiangs = _children(FUNCTIONAL, kuan)
            tree[lei][kuan] = sorted(rng.sample(xiangs, min(len(xiangs), rng.randint(1, 3))))
    xiangs = [x for kuans in tree.values() for xs in kuans.values() for x in xs]

    # Table 3 (all funds) and table 5 (general public budget fiscal appropriations).
    t3, t5, explain = {}, {}, {}
    m3 = template.MEASURES[3][E]
    for x in xiangs:
        basic, project = _leaf(rng), _leaf(rng) if rng.random() < 0.6 else 0
        upper = _leaf(rng) // 10 if rng.random() < 0.05 else 0
        t3[x] = {m3[0]: basic + project + upper, "基本支出": basic, "项目支出": project, "上缴上级支出": upper,
                 "经营支出": 0, "对附属单位补助支出": 0}
        gb, gp = basic * rng.randint(80, 100) // 100, project * rng.randint(70, 100) // 100
        final = gb + gp
        initial = final * rng.randint(80, 125) // 100
        t5[x] = {"年初预算数": initial, "合计": final, "基本支出": gb, "项目支出": gp}
        if initial and abs(final - initial) * 10 > initial:
            explain[x] = rng.choice(REASONS)
    # Table 2: income by code; the income of each 项 is spread over the income columns.
    m2 = template.MEASURES[2][I]
    t2 = {}
    for x in xiangs:
        fiscal = t5[x]["合计"] + _leaf(rng) // 20
        other = [_leaf(rng) // 50 if rng.random() < 0.2 else 0 for _ in m2[2:]]
        t2[x] = dict(zip(m2, [fiscal + sum(other), fiscal, *other]))

    tot2 = _coded_table(rep, 2, I, tree, t2, m2, FUNCTIONAL)
    tot3 = _coded_table(rep, 3, E, tree, t3, m3, FUNCTIONAL)
    tot5 = _coded_table(rep, 5, E, tree, t5, template.MEASURES[5][E], FUNCTIONAL, explain)

    # Table 1: income lines = table 2 columns; expenditure by 类 = table 3.
    income_total, spend_total = tot2[m2[0]], tot3[m3[0]]
    fiscal_total = tot2["财政拨款收入"]
    income_lines = dict.fromkeys(template.TABLE1_INCOME_LINES, 0)
    income_lines["一般公共预算财政拨款收入"] = fiscal_total
    for line, m in zip(template.TABLE1_INCOME_LINES[3:], m2[2:]):
        income_lines[line] = tot2[m]
    opening = max(0, spend_total - income_total) + _leaf(rng) // 4
    non_fiscal = 0
    grand = income_total + non_fiscal + opening
    for line, v in income_lines.items():
        rep.add(1, I, line, "决算数", v)
    rep.add(1, I, template.INCOME_TOTAL, "决算数", income_total)
    rep.add(1, I, template.NON_FISCAL_BALANCE_USED, "决算数", non_fiscal)
    rep.add(1, I, template.OPENING_BALANCE, "决算数", opening)
    rep.add(1, I, template.GRAND_TOTAL, "决算数", grand)
    for lei in tree:
        lei_sum = sum(t3[x][m3[0]] for kuans in [tree[lei]] for xs in kuans.values() for x in xs)
        rep.add(1, E, lei, "决算数", lei_sum, item=FUNCTIONAL[lei], code=lei)
    rep.add(1, E, template.EXPENDITURE_TOTAL, "决算数", spend_total)
    rep.add(1, E, template.SURPLUS_DISTRIBUTION, "决算数", 0)
    rep.add(1, E, template.CLOSING_BALANCE, "决算数", grand - spend_total)
    rep.add(1, E, template.GRAND_TOTAL, "决算数", grand)

    # Table 4: fiscal appropriations; its general public budget column is table 5's 合计.
    gpb_total = tot5["合计"]
    gpb_opening = _leaf(rng) // 10
    rep.add(4, I, "一般公共预算财政拨款收入", "决算数", gpb_total)
    rep.add(4, I, template.INCOME_TOTAL, "决算数", gpb_total)
    rep.add(4, I, template.OPENING_BALANCE, "决算数", gpb_opening)
    rep.add(4, I, template.GRAND_TOTAL, "决算数", gpb_total + gpb_opening)
    m4 = template.MEASURES[4][E]
    for lei in tree:
        v = sum(t5[x]["合计"] for xs in tree[lei].values() for x in xs)
        for m in m4:
            rep.add(4, E, lei, m, v if m in ("合计", "一般公共预算财政拨款") else 0, item=FUNCTIONAL[lei], code=lei)
    for m in m4:
        rep.add(4, E, template.EXPENDITURE_TOTAL, m, gpb_total if m in ("合计", "一般公共预算财政拨款") else 0)
    rep.add(4, E, template.CLOSING_BALANCE, "合计", gpb_opening)
    rep.add(4, E, template.GRAND_TOTAL, "合计", gpb_total + gpb_opening)

    # Table 6: table 5's basic expenditure by economic classification.
    basic = tot5["基本支出"]
    personnel, public = _split(rng, basic, 2)
    lines6 = []
    for total, leis6 in ((personnel, ["301", "303"]), (public, ["302", "310"])):
        parts = _split(rng, total, len(leis6))
        for lei, amount in zip(leis6, parts):
            kuans = rng.sample(_children(ECONOMIC, lei), min(4, len(_children(ECONOMIC, lei))))
            lines6.append((lei, amount, list(zip(sorted(kuans), _split(rng, amount, len(kuans))))))
    rep.add(6, E, template.PERSONNEL_TOTAL, "决算数", personnel)
    rep.add(6, E, template.PUBLIC_TOTAL, "决算数", public)
    for lei, amount, kuans in lines6:
        rep.add(6, E, lei, "决算数", amount, item=ECONOMIC[lei], code=lei)
        for kuan, v in kuans:
            rep.add(6, E, kuan, "决算数", v, item=ECONOMIC[kuan], code=kuan)

    # Table 7: 三公 budget and final.
    for measure in ("预算数", "决算数"):
        abroad = _leaf(rng) // 40 if rng.random() < 0.3 else 0
        buy = _leaf(rng) // 10 if rng.random() < 0.2 else 0
        run = _leaf(rng) // 30
        reception = _leaf(rng) // 60
        values = [abroad + buy + run + reception, abroad, buy + run, buy, run, reception]
        for line, v in zip(THREE_PUBLIC, values):
            rep.add(7, E, line, measure, v)

    # Statements that repeat table 1.
    fiscal_share = round(100 * fiscal_total / income_total, 1) if income_total else 0.0
    statements = [
        [report_id, 1, "第三部分 一", "income.total", "本年收入合计", income_total, "万元", "amount", "本年", 1,
         template.INCOME_TOTAL, "决算数", f"{year}年度收入总计{_money(grand)}万元，本年收入合计{_money(income_total)}万元。", 30, "第三部分 一"],
        [report_id, 2, "第三部分 二", "income.fiscal.share", "财政拨款收入占比", fiscal_share, "%", "share", "本年", "",
         "", "", f"其中：财政拨款收入{_money(fiscal_total)}万元，占{fiscal_share}%。", 30, "第三部分 二"],
        [report_id, 3, "第三部分 三", "expenditure.total", "本年支出合计", spend_total, "万元", "amount", "本年", 1,
         template.EXPENDITURE_TOTAL, "决算数", f"{year}年度本年支出合计{_money(spend_total)}万元。", 31, "第三部分 三"],
    ]
    statements += _narrative(report_id, year, rep, tree, t5, last)
    return rep, statements, tot3["项目支出"]


#: Figures the narrative compares with the year before ("与上年相比"), and the table line each is:
#: (table_no, side, line_key, measure).
YOY_FIGURES = {
    "total": (1, template.INCOME, template.GRAND_TOTAL, "决算数"),
    "gpb.expenditure": (5, template.EXPENDITURE, template.TOTAL, "合计"),
    "three_public.total": (7, template.EXPENDITURE, template.TOTAL, "决算数"),
}
_YOY_LABELS = {"total": "收入支出总计", "gpb.expenditure": "一般公共预算财政拨款支出", "three_public.total": "“三公”经费"}


def published(rep: _Report) -> dict[str, int]:
    """The report's figures of YOY_FIGURES as published (seeded errors included), in cents: what
    the next year's narrative compares with."""
    where = {v: k for k, v in YOY_FIGURES.items()}
    return {where[(r[1], r[2], r[4], r[8])]: r[9] for r in rep.amounts if (r[1], r[2], r[4], r[8]) in where}


def _pct(numerator: int, denominator: int) -> float:
    return round(100 * numerator / denominator, 2)


def _narrative(report_id: str, year: int, rep: _Report, tree: dict[str, dict[str, list[str]]],
               t5: dict[str, dict[str, int]], last: dict[str, int] | None) -> list[list[Any]]:
    """The rest of the 情况说明 as the national template words it (statement 4 on): totals against
    the year before, the general budget's execution (total and every 项), 三公 against its budget.
    Figures are the tables' (identities hold); last year's are those of the department's report
    of the year before, or, for a first year, made up (there is no report to compare with)."""
    now = published(rep)
    if last is None:  # a first year: last year's figures are not in the corpus
        made_up = random.Random(report_id)
        last = {k: v * made_up.randint(80, 120) // 100 for k, v in now.items()}
    rows: list[list[Any]] = []

    def add(section: str, topic: str, label: str, value: Any, unit: str, kind: str, period: str,
            line: tuple[int, str, str, str] | None, sentence: str) -> None:
        table_no, _side, line_key, measure = line or ("", "", "", "")
        rows.append([report_id, 4 + len(rows), section, topic, label, value, unit, kind, period, table_no, line_key,
                     measure, sentence, 30, section])

    def versus_last_year(section: str, stem: str) -> None:
        label, cur, before = _YOY_LABELS[stem], now[stem], last[stem]
        change = cur - before
        if change == 0:
            add(section, f"{stem}.change", f"{label}（增减额）", 0, "万元", "change", "上年", None,
                f"与{year - 1}年度相比，{label}持平。")
            return
        verb, rate_verb = ("增加", "增长") if change > 0 else ("减少", "下降")
        text = f"与{year - 1}年度相比，{label}{verb}{_money(abs(change))}万元"
        if before > 0:
            rate = _pct(change, before)
            text += f"，{rate_verb}{abs(rate):.2f}%"
        add(section, f"{stem}.change", f"{label}（增减额）", change, "万元", "change", "上年", None, text + "。")
        if before > 0:
            add(section, f"{stem}.growth_rate", f"{label}（增减率）", rate, "%", "growth_rate", "上年", None, text + "。")

    def executed(section: str, stem: str, label: str, budget: int, final: int,
                 budget_line: tuple[int, str, str, str], subject: str, of: str) -> None:
        """Budget and final figure of ``stem`` and the share of the budget spent, in one sentence."""
        text = f"{subject}年初预算为{_money(budget)}万元，支出决算为{_money(final)}万元"
        text += f"，完成{of}的{_pct(final, budget):.2f}%。" if budget else "。"
        add(section, f"{stem}.budget", f"{label}（预算数）", budget, "万元", "amount", "本年", budget_line, text)
        add(section, stem, label, final, "万元", "amount", "本年", YOY_FIGURES[stem], text)
        if budget:
            add(section, f"{stem}.execution_rate", f"{label}（完成预算）", _pct(final, budget), "%", "execution_rate",
                "预算", None, text)

    add("第三部分 一", "total", "收入支出总计", now["total"], "万元", "amount", "本年", YOY_FIGURES["total"],
        f"{year}年度收入支出总计{_money(now['total'])}万元。")
    versus_last_year("第三部分 一", "total")

    gpb, budget = now["gpb.expenditure"], rep_value(rep, 5, template.TOTAL, "年初预算数")
    add("第三部分 五（一）", "gpb.expenditure", "一般公共预算财政拨款支出", gpb, "万元", "amount", "本年",
        YOY_FIGURES["gpb.expenditure"], f"{year}年度一般公共预算财政拨款支出{_money(gpb)}万元。")
    versus_last_year("第三部分 五（一）", "gpb.expenditure")
    executed("第三部分 五（三）", "gpb.expenditure", "一般公共预算财政拨款支出", budget, gpb,
             (5, template.EXPENDITURE, template.TOTAL, "年初预算数"), "一般公共预算财政拨款支出", "年初预算")
    items = [(lei, kuan, x) for lei, kuans in tree.items() for kuan, xs in kuans.items() for x in xs]
    for n, (lei, kuan, x) in enumerate(items, start=1):
        name = f"{FUNCTIONAL[lei]}（类）{FUNCTIONAL[kuan]}（款）{FUNCTIONAL[x]}（项）"
        section = f"第三部分 五（三）{n}"
        item_budget, item_final = t5[x]["年初预算数"], t5[x]["合计"]
        text = f"年初预算为{_money(item_budget)}万元，支出决算为{_money(item_final)}万元。"
        add(section, "gpb.item.budget", f"{name}（预算数）", item_budget, "万元", "amount", "本年",
            (5, template.EXPENDITURE, x, "年初预算数"), text)
        add(section, "gpb.item", name, item_final, "万元", "amount", "本年", (5, template.EXPENDITURE, x, "合计"), text)

    final, budget = now["three_public.total"], rep_value(rep, 7, template.TOTAL, "预算数")
    executed("第三部分 七（一）", "three_public.total", "“三公”经费", budget, final,
             (7, template.EXPENDITURE, template.TOTAL, "预算数"), "“三公”经费财政拨款支出", "预算")
    versus_last_year("第三部分 七（一）", "three_public.total")
    return rows


def rep_value(rep: _Report, table_no: int, line_key: str, measure: str) -> int:
    """A figure of the report's expenditure side, in cents."""
    return next(r[9] for r in rep.amounts if r[1] == table_no and r[2] == template.EXPENDITURE
                and r[4] == line_key and r[8] == measure)


def _seed_error(rng: random.Random, rep: _Report, statements: list[list[Any]]) -> dict[str, Any]:
    kind = rng.choice(ERROR_KINDS)
    # Beyond any rounding tolerance (n x 0.005 万元): 1.00 to 500.00 万元.
    delta = rng.choice([100, 1000, 10000, 50000])
    if kind == "statement_vs_table":
        statements[0][5] += delta
        return {"report_id": rep.report_id, "kind": kind, "resource": "statements", "statement_no": 1,
                "delta": delta / 100}
    if kind == "last_year_change":
        # A change against last year that its own growth rate (and last year's report) contradicts:
        # 100 万元 or more, beyond any rounding of a rate printed to 0.01 %.
        changes = [row for row, after in zip(statements, statements[1:]) if row[7] == "change"
                   and after[7] == "growth_rate"]
        row = rng.choice(changes)
        row[5] += delta * 100
        return {"report_id": rep.report_id, "kind": kind, "resource": "statements", "statement_no": row[1],
                "delta": delta}
    if kind == "table5_row_sum":
        rows = [r for r in rep.amounts if r[1] == 5 and r[8] == "合计" and len(r[6]) == 7]
    elif kind == "table1_income_total":
        rows = [r for r in rep.amounts if r[1] == 1 and r[4] == template.INCOME_TOTAL]
    else:
        rows = [r for r in rep.amounts if r[1] == 7 and r[4] == template.TOTAL and r[8] == "决算数"]
    row = rng.choice(rows)
    row[9] += delta
    return {"report_id": rep.report_id, "kind": kind, "resource": "amounts", "table_no": row[1], "side": row[2],
            "line_key": row[4], "measure": row[8], "delta": delta / 100}


def default_descriptor() -> Path:
    """The project's datapackage.json (the corpus uses the same schema)."""
    return SHIPPED_PACKAGE / "datapackage.json"


#: Share of the reports whose source has no attached tables (as the first dataset's): their
#: figures are those the narrative states, as the importer records them.
NARRATIVE_SHARE = 0.2


def rows_per_report(narrative_share: float = NARRATIVE_SHARE) -> int:
    """About how many amounts rows one synthetic report has, on average (to size a corpus)."""
    return round(360 * (1 - narrative_share) + 25 * narrative_share)


def narrative_only(rep: _Report, statements: list[list[Any]]) -> None:
    """Keep of ``rep`` only the figures its narrative states, as the importer records those of a
    report without attached tables: source_kind narrative, the statement's section as source, the
    code inferred from the name (code_certainty high), no page."""
    lines = {(r[1], r[4], r[8]): r for r in reversed(rep.amounts)}  # the first side, as statements name none
    kept: dict[tuple, list[Any]] = {}
    for st in statements:
        table_no, line_key, measure = st[9], st[10], st[11]
        row = lines.get((table_no, line_key, measure)) if st[7] == "amount" and table_no else None
        if row is not None and (row[1], row[2], row[4], row[8]) not in kept:
            kept[(row[1], row[2], row[4], row[8])] = [*row[:10], "high" if row[6] else "", "", "narrative", "", st[2]]
    rep.amounts = list(kept.values())


def write_corpus(out_dir: str | os.PathLike[str], departments: int, years: int | Iterable[int] = 3,
                 error_share: float = 0.02, seed: int = 0, *, descriptor: str | os.PathLike[str] | None = None,
                 narrative_share: float = NARRATIVE_SHARE) -> dict[str, Any]:
    """Write a data package of ``departments`` x ``years`` 决算 reports to ``out_dir``.

    ``years`` is a count (years ending 2023) or the years themselves. A share ``error_share`` of
    the reports carries one seeded error each, listed in ``out_dir/seeded_errors.json``; a share
    ``narrative_share`` has no attached tables (``narrative_only``). Streams row by row: memory
    does not grow with the corpus. Returns rows per resource and the seeded errors.
    """
    rng = random.Random(seed)
    attached = random.Random(f"attached-{seed}")  # its own draws: the tables' figures stay those of the seed
    out = Path(out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    year_list = list(range(2024 - years, 2024)) if isinstance(years, int) else list(years)
    desc = json.loads(Path(descriptor or default_descriptor()).read_text(encoding="utf-8"))
    desc["name"] = "synthetic-department-final-accounts"
    desc["title"] = f"Synthetic corpus: {departments} departments x {len(year_list)} years (seed {seed})"
    (out / "datapackage.json").write_text(json.dumps(desc, ensure_ascii=False, indent=2), encoding="utf-8")
    fields = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in desc["resources"]}
    files = {name: open(out / "data" / f"{name}.csv", "w", encoding="utf-8", newline="") for name in fields}
    writers = {name: csv.writer(fh, lineterminator="\n") for name, fh in files.items()}
    counts = dict.fromkeys(fields, 0)
    errors: list[dict[str, Any]] = []

    def write(name: str, row: list[Any]) -> None:
        writers[name].writerow(row)
        counts[name] += 1

    try:
        for name, w in writers.items():
            w.writerow(fields[name])
        for n in range(1, 10):
            kind_titles = {1: "收入支出决算总表", 2: "收入决算表", 3: "支出决算表", 4: "财政拨款收入支出决算总表",
                           5: "一般公共预算财政拨款支出决算表", 6: "一般公共预算财政拨款基本支出决算表",
                           7: "一般公共预算财政拨款“三公”经费支出决算表", 8: "政府性基金预算财政拨款收入支出决算表",
                           9: "国有资本经营预算财政拨款支出决算表"}
            write("standard_tables", [n, "决算", kind_titles[n], f"Table {n}"])
        for year in year_list:
            for scheme, codes in (("支出功能分类", FUNCTIONAL), ("支出经济分类", ECONOMIC)):
                for code, name in codes.items():
                    parent = template.parent_code(code)
                    write("classification", [f"{code}@{year}", code, str(year), scheme, template.code_level(code), name,
                                             f"{parent}@{year}" if parent else "", "stated", "synthetic"])
        for d in range(1, departments + 1):
            province, city, county = PROVINCES[d % len(PROVINCES)]
            agency = AGENCIES[d % len(AGENCIES)]
            dept_id = f"dept-{d:06d}"
            name = f"{city or province}{county}{agency}（第{d}号）"
            write("departments", [dept_id, name, province, city or "", county, "synthetic"])
            last: dict[str, int] | None = None
            for year in year_list:
                report_id = f"{dept_id}-{year}-final"
                tables = attached.random() >= narrative_share
                write("reports", [report_id, dept_id, year, "决算", f"{name}{year}年度部门决算", "万元",
                                  f"{report_id}.{'pdf' if tables else 'txt'}", "", "", str(tables).lower(),
                                  "not stated", "synthetic"])
                for n in range(1, 10):
                    if not tables:
                        write("report_tables", [report_id, n, "not_attached", "", "", "",
                                                "第二部分 部门决算表（文本来源未含附表）"])
                        continue
                    status = "empty" if n in (8, 9) else "attached"
                    write("report_tables", [report_id, n, status, "", "本单位没有该项收支" if status == "empty" else "",
                                            "" if status == "empty" else 2 + n, "第二部分"])
                rep, statements, project_total = _report(rng, report_id, year, last)
                if not tables:
                    narrative_only(rep, statements)
                if rng.random() < error_share:
                    errors.append(_seed_error(rng, rep, statements))
                # The next year's narrative compares with what this report published (errors included),
                # as publishers do; a year missing from the list leaves no report to compare with.
                last = published(rep) if year + 1 in year_list else None
                for row in rep.amounts:
                    row[9] = _money(row[9])
                    writers["amounts"].writerow(row)
                counts["amounts"] += len(rep.amounts)
                for row in statements:
                    if row[6] == "万元":
                        row[5] = _money(row[5])
                    write("statements", [*row, ""])  # qualifier: the template's figures are exact
                # The listed projects add up to table 3's 项目支出 total.
                shares = _split(rng, project_total, 3) if project_total else []
                for p, (project, cents) in enumerate(zip(rng.sample(PROJECTS, 3), shares), start=1):
                    write("projects", [report_id, p, project, _money(cents), rng.choice(["true", "false"]), 20,
                                       "第三部分 项目支出"])
                for u, (kind, unit) in enumerate([("内设机构", "办公室"), ("内设机构", "综合科"),
                                                  ("决算单位", f"{agency}机关")], start=1):
                    write("report_units", [report_id, u, kind, unit, "", 1, "第一部分"])
    finally:
        for fh in files.values():
            fh.close()
    (out / "seeded_errors.json").write_text(json.dumps(errors, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"rows": counts, "seeded_errors": errors, "path": str(out)}
