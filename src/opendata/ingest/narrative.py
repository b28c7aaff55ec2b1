"""Parse the narrative (情况说明, 绩效自评) of a 部门决算 report into rows.

The national template words its sentences in fixed patterns ("本年收入合计X万元，其中：财政拨款收入
X万元，占X%"). Rather than one regex per template sentence (which breaks on every provincial
variant), the parser reads each sentence figure by figure:

* a *figure* is an Arabic number with a unit (万元, %, 个, 人次, 辆 ...). Years (2020年), dates,
  heading numbers, ordinals (第2家) and numbers glued to letters (5G, 7MW) are not figures; other
  numbers without a unit are reported in ``skipped`` so nothing disappears silently;
* the *subject* of a figure is the last known line name (本年收入合计, 公务接待费, "X（类）",
  a 类(款)(项) path ...) in the text before it, else in the words right after it ("含0个副科级单位"),
  else the subject of the previous figure of the paragraph; comparison phrases ("占...的",
  "与上年相比", "比年初预算数") are not subjects;
* the *measure* comes from the words between subject and figure: 预算为 -> budget, 决算为 -> final,
  增加/减少 -> change, 增长/下降 X% -> growth_rate, 占 -> share, 完成 -> execution_rate.

Sign convention: a change or growth rate stated as 减少/降低/下降/节约 is recorded as a negative
value (the sentence is kept verbatim), so last year's figure = this year's - change.

Figures no template pattern explains still become statements (topic ``other`` or
``performance.result``) and their sentences are listed in ``not_understood``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from ..template import (
    CLOSING_BALANCE, EXPENDITURE, EXPENDITURE_TOTAL, GRAND_TOTAL, INCOME, INCOME_TOTAL,
    OPENING_BALANCE, PERSONNEL_TOTAL, PUBLIC_TOTAL, TOTAL,
)
from .classify import Assignment, classify_path
from .textutil import NUMBERING, PART, cn_number, fold, paragraphs_with_pages, squeeze_spaces, to_decimal

# ---------------------------------------------------------------------------------------------
# Figures

_UNITS = (
    "个百分点|万元|亿元|元|%|人次|台（套）|个|人|辆|家|项|台|套|次|名|位|条|支|分|升|把|剂|户|天|批次|批|场|篇|件|所"
)
FIGURE = re.compile(
    r"(?<![A-Za-z0-9.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
    rf"(?P<unit>(?:(?P<mult>万|亿|千)?(?P<approx>余|多)?(?:{_UNITS}))|(?:万|亿)(?=余|多))?"
)
_MONEY = {"万元", "亿元", "元"}
_CHANGE = re.compile(r"增加|减少|降低|下降|增长|节约|节省|上升|提高|提升")
_NEGATIVE = {"减少", "降低", "下降", "节约", "节省"}


#: Words before a figure that make it a bound or an estimate (近300家: nearly 300).
_QUALIFIER_BEFORE = re.compile(r"(将近|接近|近|约|超过|逾|不到|不足)\s*$")
#: Words right after a figure's unit that end its clause and make it a bound (12项以上，: at least
#: 12); not when a category follows (50万元以上通用设备, 10万元以上的项目: a threshold).
_QUALIFIER_AFTER = re.compile(r"(以上|以下)(?=[，,；;。：:、）)\s]|$)")
#: Qualifiers a statement's ``qualifier`` may hold: 余/多 after the figure (more than), those before
#: it, 以上/以下 after its unit.
QUALIFIERS = ("余", "多", "将近", "接近", "近", "约", "超过", "逾", "不到", "不足", "以上", "以下")


@dataclass
class Figure:
    value: Decimal
    unit: str
    start: int
    end: int
    text: str
    #: How the source qualifies the figure (余, 近, 约...; see QUALIFIERS); None when stated exactly.
    qualifier: str | None = None


#: Longest sentence a statement keeps whole; of a longer one (a paragraph of figures without a
#: 。), each statement keeps the clauses around its figure, within ``_EXCERPT`` characters on each
#: side, "…" marking a cut: 8,000 figures in one such paragraph each stored all of it (1.3 GB).
SENTENCE_MAX = 1000
_EXCERPT = 200
_CLAUSE_END = re.compile(r"[，；：。,;]")


def excerpt(sentence: str, start: int, end: int) -> str:
    """``sentence`` (stripped), or where it is longer than SENTENCE_MAX the clauses around its
    characters [start, end), with "…" where it is cut."""
    if len(sentence) <= SENTENCE_MAX:
        return sentence.strip()
    lo, hi = max(0, start - _EXCERPT), min(len(sentence), end + _EXCERPT)
    if lo > 0 and (ends := list(_CLAUSE_END.finditer(sentence, lo, start))):
        lo = ends[-1].end()  # from the start of the figure's clause (or of one before it)
    if hi < len(sentence) and (stop := _CLAUSE_END.search(sentence, end, hi)):
        hi = stop.end()
    return ("…" if lo > 0 else "") + sentence[lo:hi].strip() + ("…" if hi < len(sentence) else "")


def _figures(sentence: str, skipped: list[str]) -> list[Figure]:
    out = []
    for m in FIGURE.finditer(sentence):
        num, unit = m.group("num"), m.group("unit") or ""
        # The words next to the figure (every test below is anchored to it): not all of a long
        # sentence, copied and searched for each of its figures.
        before, after = sentence[max(0, m.start() - 100): m.start()], sentence[m.end("num"):m.end("num") + 100]
        if re.match(r"\s*[A-Za-z]", after) and not unit or re.search(r"[A-Za-z&]\s*$", before) and not unit:
            continue  # 5G, R&D, 7MW: part of a name
        if re.match(r"\s*(?:年|月|日|-|—|~)", after) and not unit:
            continue  # dates and ranges of months
        if re.search(r"第\s*$", before):
            continue  # ordinal
        if re.match(r"\s*(?:年度?|月|日)", after):
            continue
        if not unit:
            skipped.append(f"{num} in: {excerpt(sentence, m.start(), m.end())}")
            continue
        unit_clean = unit.replace("余", "").replace("多", "")
        value = to_decimal(num)
        if value is None:
            continue
        after_unit = sentence[m.end():m.end() + 1]
        suffix = m.group("approx") or (after_unit if unit in ("万", "亿") and after_unit in ("余", "多") else None)
        prefix = _QUALIFIER_BEFORE.search(before)
        bound = _QUALIFIER_AFTER.match(sentence, m.end()) if unit and not suffix else None
        # The next figure's words start after the qualifier (以上, the 余 of 1万余).
        end = bound.end() if bound else m.end() + (1 if suffix and not m.group("approx") else 0)
        out.append(Figure(value, unit_clean, m.start(), end, sentence[m.start():end],
                          suffix or (prefix.group(1) if prefix else None) or (bound.group(1) if bound else None)))
    return out


def _unit_kind(unit: str) -> str:
    if unit in _MONEY:
        return "money"
    if unit in ("%", "个百分点"):
        return "percent"
    return "count"


# ---------------------------------------------------------------------------------------------
# Subjects: line names the template uses, longest / rightmost match wins.

SUBJECTS: list[tuple[str, str]] = [
    (r"财政拨款收、?支总计|财政拨款收入支出总计", "fiscal.total"),
    (r"收、?支总计|收入支出总计", "total"),
    (r"年初结转和结余|上年结转和结余", "income.opening_balance"),
    (r"年末结转和结余", "expenditure.closing_balance"),
    (r"本年收入合计", "income.total"),
    # 部门预算: "2021年收入预算X万元，支出预算X万元" (not "公务接待费支出预算为...": a clause's start only)
    (r"(?<![^，；：。年度\d])收入预算(?:总计|合计)?", "income.total"),
    (r"(?<![^，；：。年度\d])支出预算(?:总计|合计)?", "expenditure.total"),
    (r"财政拨款收入", "income.fiscal"),
    # The three kinds of 财政拨款收入 (表1's lines); a 部门预算 says 拨款 for 财政拨款.
    (r"一般公共预算(?:财政)?拨款收入", "income.gpb"),
    (r"政府性基金预算(?:财政)?拨款收入", "income.fund"),
    (r"国有资本经营预算(?:财政)?拨款收入", "income.state_capital"),
    (r"上级补助收入", "income.higher_subsidy"),
    (r"事业收入", "income.business"),
    (r"经营收入", "income.operating"),
    (r"附属单位上缴收入", "income.affiliated"),
    (r"其他收入", "income.other"),
    (r"使用非财政拨款结余", "income.non_fiscal_balance_used"),
    (r"本年支出合计", "expenditure.total"),
    (r"基本支出", "expenditure.basic"),
    (r"项目支出", "expenditure.project"),
    (r"经营支出", "expenditure.operating"),
    (r"上缴上级支出", "expenditure.to_higher"),
    (r"对附属单位补助支出", "expenditure.to_affiliated"),
    (r"一般公共预算(?:财政)?拨款支出", "gpb.expenditure"),
    (r"一般公共预算财政拨款基本支出", "gpb.basic"),
    (r"政府性基金预算(?:财政)?拨款(?:安排的)?支出", "fund.expenditure"),
    (r"人员经费", "gpb.basic.personnel"),
    (r"公用经费", "gpb.basic.public"),
    (r"[“”\"‘’']?三公[“”\"‘’']?经费", "three_public.total"),
    (r"因公出国（境）费", "three_public.abroad"),
    (r"公务用车购置费?及运行维?护?费", "three_public.vehicle"),
    (r"公务用车购置(?:费|支出)", "three_public.vehicle_purchase"),
    (r"公务用车运行维护(?:费|支出)", "three_public.vehicle_operation"),
    (r"公务接待(?:费|支出)", "three_public.reception"),
    (r"外宾接待支出", "three_public.reception.foreign"),
    (r"保有量", "three_public.vehicles"),
    (r"机关运行经费", "admin_costs"),
    (r"会议费", "general.meetings"),
    (r"培训费", "general.training"),
    (r"政府采购(?:支出|预算)?总额|政府采购金额", "procurement.total"),
    # 货物/工程/服务 without 政府采购 before them only at a clause's start ("、服务支出X万元"): not
    # the end of a class's name (一般公共服务支出, a tester's 部门预算 item filed as procurement).
    (r"(?:政府采购|(?<![^，；：、。\d]))货物(?:采购)?(?:支出|金额)|货物采购金额", "procurement.goods"),
    (r"(?:政府采购|(?<![^，；：、。\d]))工程(?:采购)?(?:支出|金额)", "procurement.works"),
    (r"(?:政府采购|(?<![^，；：、。\d]))服务(?:采购)?(?:支出|金额)", "procurement.services"),
    (r"授予中小企业合同金额", "procurement.sme"),
    (r"授予小微企业合同金额", "procurement.small_micro"),
    (r"面向中小企业预留政府采购项目预算金额", "procurement.sme_reserved"),
    (r"面向小微企业预留政府采购项目预算金额", "procurement.small_micro_reserved"),
    (r"面向中小企业预留的政府采购项目中，由中小企业供应商中标或成交", "procurement.sme_reserved_awarded"),
    (r"面向小微企业预留的?政府采购项目中，由小微企业供应商中标或成交", "procurement.small_micro_reserved_awarded"),
    (r"其他政府采购项目中，由中小企业供应商中标或成交", "procurement.sme_other_awarded"),
    (r"共有车辆|车辆", "assets.vehicles"),
    (r"部级领导干部用车", "assets.vehicles.ministerial"),
    (r"主要领导干部用车", "assets.vehicles.principal_leaders"),
    (r"机要通信用车", "assets.vehicles.confidential"),
    (r"应急保障用车", "assets.vehicles.emergency"),
    (r"执法执勤用车", "assets.vehicles.law_enforcement"),
    (r"特种专业技术用车", "assets.vehicles.special"),
    (r"离退休干部用车", "assets.vehicles.retirees"),
    (r"其他用车", "assets.vehicles.other"),
    (r"通用设备", "assets.general_equipment"),
    (r"专用设备", "assets.special_equipment"),
    (r"设备（不含车辆）", "assets.equipment"),
    (r"编制人数", "staff.authorized"),
    (r"实有人数", "staff.actual"),
    (r"内设科室|内设机构", "org.internal_units"),
    (r"副科级单位", "org.deputy_section_units"),
    (r"二级预算单位", "org.subordinate_units"),
    (r"年初预算专项资金共?", "projects.budgeted_count"),
    (r"实际决算项目", "projects.actual_count"),
    (r"项目未列入年初预算", "projects.unbudgeted_count"),
    (r"编报绩效目标的", "performance_mgmt.targets_set"),
    (r"绩效跟踪评价的", "performance_mgmt.monitored"),
    (r"绩效自评的", "performance_mgmt.self_evaluated"),
    (r"平均得分", "performance_mgmt.average_score"),
    (r"绩效评级为“?优”?的项目", "performance_mgmt.rated_excellent"),
    (r"绩效评级为“?良”?的项目", "performance_mgmt.rated_good"),
    (r"绩效评级为“?合格”?的项目", "performance_mgmt.rated_pass"),
    (r"绩效评级为“?不合格”?的项目", "performance_mgmt.rated_fail"),
    (r"发现问题", "performance_mgmt.issues_found"),
    (r"已经?完成整改的", "performance_mgmt.issues_fixed"),
    (r"正在整改的", "performance_mgmt.issues_in_progress"),
]
_SUBJECT_RES = [(re.compile(p), k) for p, k in SUBJECTS]
_CLASS = re.compile(r"([^，；：、。（）\d%]+?)（类）$")
_PATH = re.compile(r"^(?P<lei>[^（）。，]+?)（类）(?P<kuan>[^。，]+?)（款）(?P<xiang>[^。，]+?)（项）")
_COMPARISON = re.compile(
    r"占[^，；。：]*|完成(?:年初)?预算[^，；。：]*|与(?:上年|\d{4}年度?)[^，；。]*|比(?:上年|年初|预算|\d{4}年)[^，；。]*"
)
_SEPARATORS = "，；：。（）"

#: subject -> [(table, side, line_key, measure of the final figure, measure of the budget figure)]
AMOUNT_TARGETS: dict[str, list[tuple[int, str, str, str, str | None]]] = {
    "total": [(1, INCOME, GRAND_TOTAL, "决算数", None), (1, EXPENDITURE, GRAND_TOTAL, "决算数", None)],
    "income.opening_balance": [(1, INCOME, OPENING_BALANCE, "决算数", None)],
    "expenditure.closing_balance": [(1, EXPENDITURE, CLOSING_BALANCE, "决算数", None)],
    "income.total": [(1, INCOME, INCOME_TOTAL, "决算数", None), (2, INCOME, TOTAL, INCOME_TOTAL, None)],
    "income.fiscal": [(2, INCOME, TOTAL, "财政拨款收入", None)],
    "income.non_fiscal_balance_used": [(1, INCOME, "使用非财政拨款结余", "决算数", None)],
    "expenditure.total": [(1, EXPENDITURE, EXPENDITURE_TOTAL, "决算数", None),
                          (3, EXPENDITURE, TOTAL, EXPENDITURE_TOTAL, None)],
    "fiscal.total": [(4, INCOME, GRAND_TOTAL, "决算数", None), (4, EXPENDITURE, GRAND_TOTAL, "合计", None)],
    "gpb.expenditure": [(5, EXPENDITURE, TOTAL, "合计", "年初预算数")],
    "fund.expenditure": [(8, EXPENDITURE, TOTAL, "本年支出合计", None)],
    "gpb.basic": [(6, EXPENDITURE, TOTAL, "决算数", None), (5, EXPENDITURE, TOTAL, "基本支出", None)],
    "gpb.basic.personnel": [(6, EXPENDITURE, PERSONNEL_TOTAL, "决算数", None)],
    "gpb.basic.public": [(6, EXPENDITURE, PUBLIC_TOTAL, "决算数", None)],
    "three_public.total": [(7, EXPENDITURE, TOTAL, "决算数", "预算数")],
    "three_public.abroad": [(7, EXPENDITURE, "因公出国（境）费", "决算数", "预算数")],
    "three_public.vehicle": [(7, EXPENDITURE, "公务用车购置及运行维护费", "决算数", "预算数")],
    "three_public.vehicle_purchase": [(7, EXPENDITURE, "公务用车购置费", "决算数", "预算数")],
    "three_public.vehicle_operation": [(7, EXPENDITURE, "公务用车运行维护费", "决算数", "预算数")],
    "three_public.reception": [(7, EXPENDITURE, "公务接待费", "决算数", "预算数")],
}
for _key, _line in [("gpb", "一般公共预算财政拨款收入"), ("fund", "政府性基金预算财政拨款收入"),
                    ("state_capital", "国有资本经营预算财政拨款收入")]:
    AMOUNT_TARGETS[f"income.{_key}"] = [(1, INCOME, _line, "决算数", None)]
for _key, _line in [("higher_subsidy", "上级补助收入"), ("business", "事业收入"), ("operating", "经营收入"),
                    ("affiliated", "附属单位上缴收入"), ("other", "其他收入")]:
    AMOUNT_TARGETS[f"income.{_key}"] = [(1, INCOME, _line, "决算数", None), (2, INCOME, TOTAL, _line, None)]
for _key, _col in [("basic", "基本支出"), ("project", "项目支出"), ("operating", "经营支出"),
                   ("to_higher", "上缴上级支出"), ("to_affiliated", "对附属单位补助支出")]:
    AMOUNT_TARGETS[f"expenditure.{_key}"] = [(3, EXPENDITURE, TOTAL, _col, None)]

#: Subjects whose figures are counts of their own (no ".count" suffix).
_COUNT_SUBJECTS = ("staff.", "org.", "assets.", "three_public.vehicles", "projects.", "performance_mgmt.average_score",
                   "performance_mgmt.rated", "performance_mgmt.issues")


# ---------------------------------------------------------------------------------------------
# Sections

@dataclass
class Section:
    part: int = 0
    h1: int | None = None
    h2: int | None = None
    h3: str | None = None
    title1: str = ""
    title2: str = ""
    #: What the part holds, from its title when the title says it ("…情况说明" narrative, "…表"
    #: tables, "名词解释" glossary); None: the template's numbering decides (三 narrative, 五 附件).
    holds: str | None = None

    @property
    def narrative(self) -> bool:
        return self.holds == "narrative" or (self.holds is None and self.part == 3)

    def ref(self) -> str:
        cn = "零一二三四五六七八九十"
        def zh(n: int) -> str:
            return cn[n] if n <= 10 else ("十" + cn[n - 10] if n < 20 else cn[n // 10] + "十" + (cn[n % 10] if n % 10 else ""))
        out = f"第{zh(self.part)}部分" if self.part else "封面"
        if self.h1:
            out += f" {zh(self.h1)}"
            if self.h2:
                out += f"（{zh(self.h2)}）"
            if self.h3:
                out += f"{self.h3}"
        return out

    def context(self) -> str:
        """What the section is about, from its part and heading titles."""
        t1, t2 = self.title1, self.title2
        if self.narrative:
            if "三公" in t1:
                return "three_public"
            if "政府性基金" in t1:
                return "fund"
            if "国有资本经营" in t1:
                return "soe"
            if "基本支出" in t1:
                return "basic"
            if "一般公共预算" in t1:
                if "结构" in t2:
                    return "gpb_structure"
                if "具体" in t2:
                    return "gpb_detail"
                return "gpb_total"
            # 决算 reports say 收入支出决算, 预算 reports 收支预算 / 收入预算 / 支出预算.
            if re.search(r"财政拨款收(?:入)?、?支(?:出)?", t1):
                return "fiscal"
            if re.search(r"收(?:入)?、?支(?:出)?(?:决算|预算)?总体|收(?:入)?、?支(?:出)?总表", t1):
                return "total"
            if re.search(r"收入(?:决算|预算)", t1):
                return "income"
            if re.search(r"支出(?:决算|预算)", t1):
                return "expenditure"
            if "绩效" in t1:
                return "performance_mgmt"
            if "其他重要事项" in t1:
                if "机关运行" in t2:
                    return "admin_costs"
                if "一般性支出" in t2:
                    return "general"
                if "采购" in t2:
                    return "procurement"
                if "资产" in t2:
                    return "assets"
                return "other_matters"
            return "part3"
        if self.part == 5:
            if "绩效目标" in t2:
                return "targets"
            if "基本情况" in t1:
                return "staff"
            if "基本支出" in t2:
                return "basic"
            if "项目支出" in t2:
                return "projects"
            if "指标完成" in t2:
                return "results"
            if "绩效" in t1 or "绩效" in t2:
                return "performance_prose"
            return "part5"
        if self.part == 1:
            return "overview"
        return f"part{self.part}"


#: Contexts where figures follow the template and subjects are understood.
_TEMPLATE_CONTEXTS = {
    "total", "income", "expenditure", "fiscal", "gpb_total", "gpb_structure", "gpb_detail", "basic",
    "three_public", "fund", "soe", "performance_mgmt", "admin_costs", "general", "procurement", "assets",
    "staff", "projects", "overview",
}


# ---------------------------------------------------------------------------------------------
# Result

@dataclass
class NarrativeResult:
    title: str | None = None
    department: str | None = None
    year: int | None = None
    kind: str | None = None
    statements: list[dict] = field(default_factory=list)
    amounts: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    empty_tables: dict[int, tuple[str, str, int | None]] = field(default_factory=dict)
    #: Name paths -> codes the report's attached tables print (``classify.stated_paths``).
    stated_codes: dict[tuple[str, ...], str | None] = field(default_factory=dict)
    paths: list[list[Assignment]] = field(default_factory=list)
    unmapped_paths: list[str] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parts_found: set[int] = field(default_factory=set)

    @property
    def understood(self) -> int:
        return sum(1 for s in self.statements if s["_understood"])


_TITLE = re.compile(r"(?:(?P<y1>(?:19|20)\d{2})年度?)?(?P<dept>.+?)(?:(?P<y2>(?:19|20)\d{2})年度?)?年?度?部门(?P<kind>决算|预算)(?P<y3>(?:19|20)\d{2})?")


#: Fewest Han characters of a department's name (a place and an office: 某县财政局); one read as 度 is
#: text that could not be read.
MIN_NAME_CHARS = 3
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def readable_name(name: str) -> bool:
    """Whether ``name`` can be a department's (``MIN_NAME_CHARS`` Han characters or more)."""
    return len(_HAN_CHAR.findall(name)) >= MIN_NAME_CHARS


#: A paragraph that is a year alone (a title's year set on a line of its own: "2024").
_YEAR_ALONE = re.compile(r"\s*(?P<y>(?:19|20)\d{2})\s*(?:年度?)?\s*")


def _title(paras: list[str]) -> tuple[str | None, str | None, int | None, str | None]:
    """Title, department, year and kind of the report, from its title among the first paragraphs.
    A year the title does not hold is taken from a paragraph that is a year alone beside it (a
    PDF's text: "第三部分上海市普陀区财政局 年度部门决算情况说明" with "2024" on a line of its own),
    else from the first sentence that names the department with a year (``…财政局2024年度收入支出总计``).
    A name of fewer than ``MIN_NAME_CHARS`` Han characters is the next title's (a cover turned a
    quarter reads "2024年度部门决算上海市普陀区财政局", its name 度; the contents' "第二部分上海市普陀区
    财政局2024年度部门决算表" names it), else given as it is (the importer says it is unreadable)."""
    short = None
    for i, p in enumerate(paras[:6]):
        m = _TITLE.search(p)
        if not m:
            continue
        year = m.group("y1") or m.group("y2") or m.group("y3")
        dept = m.group("dept")
        # The title's year after a line a printer put first (chromium's date and time): what comes
        # before it is not the department's name.
        if inner := re.search(r"((?:19|20)\d{2})年度?", dept):
            year, dept = year or inner.group(1), dept[inner.end():]
        dept = re.sub(r"^(?:(?:19|20)\d{2})?年度?", "", dept).strip()
        dept = re.sub(r"^关于|^第[一二三四五六七八九十]+部分\s*", "", dept).strip()
        if not dept:
            continue
        if not year:
            beside = [alone.group("y") for q in paras[max(0, i - 1):i + 3] if (alone := _YEAR_ALONE.fullmatch(q))]
            named = re.compile(re.escape(dept) + r"\s*(?P<y>(?:19|20)\d{2})年度")
            stated = next((found.group("y") for q in paras[i + 1:i + 60] if (found := named.search(q))), None)
            year = beside[0] if beside else stated
        kind = m.group("kind")
        title = f"{year}年度{dept}部门{kind}" if year else f"{dept}部门{kind}"
        found = title, dept, int(year) if year else None, kind
        if readable_name(dept):
            return found
        short = short or found
    return short or (None, None, None, None)


def _find_subject(text: str) -> tuple[str, str, int, int] | None:
    """(key, printed, start, end) of the rightmost (then longest) subject in text."""
    best = None
    for rx, key in _SUBJECT_RES:
        for m in rx.finditer(text):
            cand = (m.end(), m.end() - m.start(), key, m.group(0), m.start())
            if best is None or cand[:2] > best[:2]:
                best = cand
    if best is None:
        return None
    return best[2], best[3], best[4], best[0]


def _strip_comparisons(text: str) -> str:
    return _COMPARISON.sub(lambda m: "\x00" * len(m.group(0)), text)


def _period_of(text: str) -> str | None:
    if re.search(r"比(?:年初)?预算|较(?:年初)?预算", text):
        return "预算"
    if re.search(r"上年|与\d{4}年度?相比|比\d{4}年|同比|较\d{4}年", text):
        return "上年"
    return None


def parse_narrative(text: str, *, edition: int | None = None, has_tables: bool = False,
                    stated_codes: dict[tuple[str, ...], str | None] | None = None,
                    table_pages: Collection[int] = ()) -> NarrativeResult:
    """Rows of every figure in a report's text (pages separated by form feeds).

    ``stated_codes``: name paths -> codes printed in the report's attached tables; a 类(款)(项) path
    the tables print takes their codes before any other mapping (``classify.classify_path``).
    ``table_pages``: pages (from 1) a PDF's attached tables are printed on; from a paragraph that
    starts such a page, the text is that of 第二部分's tables (not read as sentences) until the next
    第N部分 heading, even when the heading above the tables is lost (its page turned or scanned):
    the tables' lines and items were read as 第一部分's sentences and units.
    """
    res = NarrativeResult(stated_codes=dict(stated_codes or {}))
    paras = paragraphs_with_pages(text, breaks=table_pages)
    plain = [p for p, _ in paras]
    res.title, res.department, res.year, res.kind = _title(plain)
    edition = edition or res.year
    sec = Section()
    subject: tuple | None = None   # carried subject: (key, printed, extra)
    item_ctx: tuple | None = None  # current 类(款)(项) path in 五（三）
    stmt_no = 0
    amounts: dict[tuple, dict] = {}
    project_no = 0
    unbudgeted = False
    units_seen: set[tuple[str, str]] = set()
    first_part_seen = 0
    last_money_unit = "万元"

    previous_page = None
    for para, page in paras:
        m = PART.match(para)
        if page != previous_page and page in table_pages and not m and sec.holds != "tables":
            sec = Section(part=2, holds="tables")  # a page of the tables: 第二部分, heading or none
            subject = item_ctx = None
        previous_page = page
        if m:
            part = cn_number(m.group("part"))
            if part == 1:
                first_part_seen += 1
            sec = Section(part=part, holds=_part_holds(para[m.end():]))
            res.parts_found.add(part)
            subject = item_ctx = None
            continue
        nm = NUMBERING.match(para)
        if nm:
            body = para[nm.end():]
            if not nm.group("num") and _PATH.match(body) and sec.context() in ("gpb_detail", "fund", "soe"):
                # An item numbered （一） or 一、 instead of 1、: a 项 of the section, not a heading.
                sec.h3 = str(cn_number(nm.group("cn") or nm.group("paren")))
            elif nm.group("cn"):
                sec.h1, sec.h2, sec.h3, sec.title1, sec.title2 = cn_number(nm.group("cn")), None, None, body[:40], ""
                item_ctx = None
            elif nm.group("paren"):
                sec.h2, sec.h3, sec.title2 = cn_number(nm.group("paren")), None, body[:40]
                item_ctx = None
            else:
                sec.h3 = nm.group("num")
            subject = None
        ctx = sec.context()
        if sec.holds in ("tables", "glossary") or (sec.holds is None and sec.part in (0, 2, 4)):
            continue  # cover/contents, attached tables, glossary
        ref = sec.ref()
        body = para[nm.end():] if nm else para

        # Units: 内设机构 list and 决算单位构成.
        if sec.part == 1 or ctx == "staff":
            _units(res, body, ref, page, units_seen)
        # Tables stated to be empty.
        for table_no, rx in ((8, r"(?:没有|无)[^。]*政府性基金"), (9, r"(?:没有|无)[^。]*国有资本经营")):
            if re.search(rx, body) and table_no not in res.empty_tables:
                sentence = next(s for s in _sentences(body) if re.search(rx, s))
                res.empty_tables[table_no] = (sentence, ref, page)

        # A 类(款)(项) path opens an item (五（三）, 八, 九).
        pm = _PATH.match(body)
        if pm and ctx in ("gpb_detail", "fund", "soe"):
            path = [pm.group("lei"), pm.group("kuan"), pm.group("xiang")]
            assignment = classify_path(path, edition, res.stated_codes) if edition else []
            res.paths.append(assignment)
            if not assignment or assignment[-1].code is None:
                res.unmapped_paths.append("（类）".join(path[:1]) + "（类）" + path[1] + "（款）" + path[2] + "（项）")
            item_ctx = ("item", pm.group(0), assignment, path)
            subject = None
            body_rest = body[pm.end():]
        else:
            body_rest = body
        if not (sec.part in (1, 5) or sec.narrative):
            continue

        head = None  # first subject of the paragraph: what a bare "与上年相比，增加X" is about
        said_before = ""  # the paragraph's sentences before this one
        # Where the current subject was named: (sentence number, end of its mention in the sentence).
        subject_at: tuple[int, int] | None = None
        for sentence_no, sentence in enumerate(_sentences(body_rest)):
            figs = _figures(sentence, res.skipped)
            money = [f.unit for f in figs if f.unit in _MONEY]
            if money:
                last_money_unit = money[-1]
            if not figs:
                stmt_no = _level_statements(res, sentence, ctx, ref, page, head or subject, last_money_unit, stmt_no,
                                            said_before)
                said_before += sentence
                continue
            prev_end = 0
            period = None
            for i, fig in enumerate(figs):
                lead = sentence[prev_end:fig.start]
                nxt = figs[i + 1].start if i + 1 < len(figs) else len(sentence)
                follow = sentence[fig.end:nxt]
                follow_local = re.split(r"[，；：。]", follow, maxsplit=1)[0]
                lead_start, prev_end = prev_end, fig.end
                p = _period_of(lead)
                if p:
                    period = p
                stripped = _strip_comparisons(lead)
                cut = max(stripped.rfind(c) for c in _SEPARATORS)
                found = _find_subject(stripped)
                follow_found = _find_subject(follow_local)
                new_subject = None
                mtext = lead
                mention = fig.start
                threshold = bool(re.match(r"（含）以上|以上", follow))
                if threshold and follow_found:
                    new_subject = ("subject", follow_found[1], follow_found[0])
                    mtext = ""
                elif ctx == "gpb_structure" and _CLASS.search(lead):
                    name = _CLASS.search(lead).group(1)
                    name = re.sub(r"^.*(?:方面|其中)：?", "", name)
                    new_subject = ("class", name + "（类）", name)
                    mtext = ""
                elif found and found[3] > cut:
                    new_subject = ("subject", found[1], found[0])
                    mtext = lead[found[3]:]
                    mention = lead_start + found[3]
                elif follow_found and not (found and ctx in ("targets", "results")):
                    new_subject = ("subject", follow_found[1], follow_found[0])
                    mtext = lead
                    mention = fig.end + follow_found[3]
                elif found:
                    new_subject = ("subject", found[1], found[0])
                    mtext = lead[found[3]:]
                    mention = lead_start + found[3]
                # A bare "与上年相比，增加X" is about the paragraph's first subject, unless the current
                # subject was named in the same clause ("公务接待费支出决算为X万元，比上年减少Y万元"):
                # no ；, 。 or closing bracket between its mention and the figure.
                same_clause = (subject_at is not None and subject_at[0] == sentence_no
                               and not re.search(r"[；。）]", sentence[subject_at[1]:fig.start]))
                if new_subject is None and head is not None and not same_clause and re.search(
                        r"与(?:上年|\d{4}年)|比(?:上年|年初|预算|\d{4}年)", lead):
                    new_subject = head
                    mention = fig.start
                if new_subject is not None and not threshold:
                    subject = new_subject
                    subject_at = (sentence_no, mention)
                    head = head or new_subject
                current = new_subject if threshold else (subject or item_ctx)
                if current is None and item_ctx is not None:
                    current = item_ctx
                if subject is None and item_ctx is not None:
                    current = item_ctx
                stmt = _statement(res, fig, current, mtext, lead, follow_local, period, ctx, sentence, ref,
                                  page, threshold, unbudgeted)
                stmt_no += 1
                stmt["statement_no"] = stmt_no
                res.statements.append(stmt)
                if ctx == "projects" and stmt["topic"] == "projects.amount":
                    project_no += 1
                    res.projects.append({
                        "project_no": project_no, "name": stmt["label"], "amount": fig.value,
                        "in_initial_budget": not unbudgeted, "source_page": page, "source_ref": ref,
                    })
                for row in stmt.pop("_amounts"):
                    key = (row["table_no"], row["side"], row["line_key"], row["measure"])
                    if key in amounts:
                        if amounts[key]["amount"] != row["amount"]:
                            res.warnings.append(
                                f"{ref}: 表{key[0]} {key[2]} {key[3]} stated as {row['amount']} here and "
                                f"{amounts[key]['amount']} at {amounts[key]['source_ref']}: first kept")
                        elif row.get("explanation") and not amounts[key].get("explanation"):
                            amounts[key]["explanation"] = row["explanation"]
                        continue
                    amounts[key] = row
            stmt_no = _level_statements(res, sentence, ctx, ref, page, head or subject, last_money_unit, stmt_no,
                                        said_before)
            said_before += sentence
            if ctx == "projects" and "未列入年初预算" in sentence:
                unbudgeted = True
        if ctx == "projects" and "未列入年初预算" in body_rest:
            unbudgeted = True
        # An item's reason (决算数大于年初预算数的主要原因是：...) explains its final figure.
        if item_ctx is not None:
            reason = re.search(r"(决算数[^。]*?(?:大于|小于|与)[^。]*?(?:原因|持平)[^。]*。?)", body_rest)
            if reason:
                _explain(amounts, item_ctx, reason.group(1))

    res.amounts = list(amounts.values())
    if not any(u["kind"] == "决算单位" for u in res.units):
        # PDF text: the units are printed as a table "序号 单位名称 备注".
        for name, note in unit_table_rows(text, table_pages):
            res.units.append({"kind": "决算单位", "name": name, "note": note, "source_page": None,
                              "source_ref": "第一部分 决算单位构成"})
    for s in res.statements:
        if not s["_understood"]:
            line = f"{s['source_ref']}: {s['sentence']}"
            if line not in res.not_understood:
                res.not_understood.append(line)
    return res


def _part_holds(title: str) -> str | None:
    """What a part holds, from its printed title (None when the title does not say)."""
    if "名词解释" in title:
        return "glossary"
    if "说明" in title:
        return "narrative"
    if re.search(r"表$|附表", title):
        return "tables"
    return None


#: A stated zero change: "与上年持平", "与上年相比持平", "与2023年度持平", "较上年持平", "同比持平", or
#: "XX持平" after "与上年相比，". "基本持平" (about the same) is not a zero and is not recorded.
_LEVEL = re.compile(r"(?<!基本)持平")
_LEVEL_VS_LAST_YEAR = re.compile(r"(?:与|较|比|同)(?:上年|上一年|(?:19|20)\d{2}年)|同比")
_LEVEL_VS_BUDGET = re.compile(r"(?:与|较|比)(?:年初)?预算")


def _level_statements(res: NarrativeResult, sentence: str, ctx: str, ref: str, page: int | None,
                      fallback: tuple | None, unit: str, stmt_no: int, said_before: str = "") -> int:
    """Change statements of 0 (period 上年) for the clauses of a sentence that state a figure is
    unchanged on last year ("与上年持平"). Only template subjects with amounts (万元/元) are recorded;
    a comparison with the budget ("决算数与预算数持平") states no new figure and is skipped."""
    if ctx not in _TEMPLATE_CONTEXTS or "持平" not in sentence:
        return stmt_no
    pos = 0
    for clause in re.split(r"(?<=[，；：。])", sentence):
        start, pos = pos, pos + len(clause)
        if not _LEVEL.search(clause) or _LEVEL_VS_BUDGET.search(clause):
            continue
        before = sentence[:start]
        # "…与2023年度持平。其中：因公出国（境）费支出决算持平；…": the 其中 sentence goes on comparing
        # with last year.
        follows_level = sentence.startswith("其中") and re.search(r"(?:与|较|比)(?:上年|(?:19|20)\d{2}年)[^。]*?(?<!基本)持平。?$",
                                                                said_before)
        if not (_LEVEL_VS_LAST_YEAR.search(clause) or _LEVEL_VS_LAST_YEAR.search(before) or follows_level):
            continue
        if "预算" in clause and "决算数" in clause and not _LEVEL_VS_LAST_YEAR.search(clause):
            continue
        found = _find_subject(_strip_comparisons(clause[: _LEVEL.search(clause).start()]))
        if found is None:
            found = _find_subject(_strip_comparisons(before))
        if found is not None:
            base, printed = _remap(found[0], ctx), found[1]
        elif fallback is not None and fallback[0] == "subject":
            base, printed = _remap(fallback[2], ctx), fallback[1]
        else:
            continue
        if base.startswith(_COUNT_SUBJECTS) or base.startswith(("performance", "projects")):
            continue
        stmt_no += 1
        res.statements.append({
            "section": ref, "topic": base + ".change", "label": printed + _LABEL["change"], "value": Decimal(0),
            "unit": unit, "kind": "change", "period": "上年", "table_no": None, "line_key": None, "measure": None,
            "sentence": excerpt(sentence, start, pos), "source_page": page, "source_ref": ref, "statement_no": stmt_no,
            "qualifier": None, "_understood": True,
        })
    return stmt_no


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？])", text) if s.strip()]


def _units(res: NarrativeResult, body: str, ref: str, page: int | None, seen: set) -> None:
    """The 内设机构 a report lists, and the units its accounts cover: 决算单位 of a 部门决算,
    预算单位 of a 部门预算 (纳入2022年部门预算编制范围的单位为：…)."""
    covered = (("预算单位", r"(?:预算单位构成|编制范围的单位)[^：。]*?(?:包括|为|有)：([^。]+)") if res.kind == "预算"
               else ("决算单位", r"(?:决算单位构成|决算汇总公开单位构成)[^：。]*?包括：([^。]+)"))
    for kind, rx in (("内设机构", r"内设(?:机构|科室)[^：。]*?(?:包括|分别为)：([^。]+)"), covered):
        m = re.search(rx, body)
        if not m:
            continue
        for name in re.split(r"[、，；]", m.group(1)):
            name = name.strip()
            if not name or (kind, name) in seen:
                continue
            seen.add((kind, name))
            res.units.append({"kind": kind, "name": name, "note": None, "source_page": page, "source_ref": ref})


def _explain(amounts: dict, item_ctx: tuple, reason: str) -> None:
    _, printed, assignment, path = item_ctx
    line_key = _item_line_key(assignment, path)
    row = amounts.get((5, EXPENDITURE, line_key, "合计"))
    if row is not None and not row.get("explanation"):
        row["explanation"] = reason


def _item_line_key(assignment: list[Assignment], path: list[str]) -> str:
    if assignment and assignment[-1].code:
        return assignment[-1].code
    return "/".join(path)


def _measure(unit_kind: str, mtext: str, ctx: str) -> tuple[str, int]:
    """(measure, sign) from the words before a figure."""
    sign = 1
    change = list(_CHANGE.finditer(mtext))
    if unit_kind == "percent":
        if "占" in mtext:
            return "share", 1
        if "完成" in mtext:
            return "execution_rate", 1
        if change:
            return "growth_rate", -1 if change[-1].group(0) in _NEGATIVE else 1
        return "percent", 1
    if unit_kind == "money":
        if change:
            return "change", -1 if change[-1].group(0) in _NEGATIVE else 1
        marks = list(re.finditer(r"预算|决算", mtext))
        if marks and marks[-1].group(0) == "预算":
            return "budget", sign
        return "final", sign
    return "count", sign


_SUFFIX = {"final": "", "budget": ".budget", "change": ".change", "growth_rate": ".growth_rate",
           "share": ".share", "execution_rate": ".execution_rate", "count": ".count", "percent": ".rate"}
_KIND = {"final": "amount", "budget": "amount", "change": "change", "growth_rate": "growth_rate",
         "share": "share", "execution_rate": "execution_rate", "count": "count", "percent": "share"}
_LABEL = {"final": "", "budget": "（预算数）", "change": "（增减额）", "growth_rate": "（增减率）", "share": "（占比）",
          "execution_rate": "（完成预算）", "count": "", "percent": ""}


def _figure_label(fig: Figure, lead: str, follow: str) -> str:
    """What a figure of a sentence the template does not fix counts or measures (绩效 results,
    other sentences): the words after a count when they follow it at once (近300家国内外服饰企业:
    国内外服饰企业; not a word of two characters, 入库56家任务), else the words before it without
    its qualifier (近), else the words after it. A guess: the sentence stands beside it.
    A count with no word for what it counts (1万余, 3亿) is followed by what it counts, and those
    words may run on into the next figure's (1万余经营户优惠电费500余万元: the 1万 counts 经营户,
    the 500万元 is 优惠电费): its label ends at the first word for what is counted (户, 家, 企业...)."""
    after = re.split(r"[，；：。、,;:]", follow, maxsplit=1)[0].strip()
    if _unit_kind(fig.unit) == "count" and re.match(r"[\u4e00-\u9fff]", follow) and len(after) >= 3:
        if fig.unit in ("万", "亿", "千") and (counted := _COUNTED.match(after)):
            return counted.group()
        return after[:40]
    if fig.qualifier and fig.qualifier not in ("余", "多", "以上", "以下") and lead.rstrip().endswith(fig.qualifier):
        lead = lead.rstrip()[:-len(fig.qualifier)]
    label = _clean_label(lead)
    return after[:40] if label == "（未注明）" and re.search(r"\w", after) else label


#: The words up to the first that names what a count counts (经营户优惠电费: 经营户).
_COUNTED = re.compile(r".{0,12}?(?:企业|单位|商户|户|家|人|名|个|所|件|项|次|辆|台|套|场|篇|条)")


def _clean_label(text: str) -> str:
    clauses = [c for c in re.split(r"[，；：。]", text) if re.search(r"\w", c)]
    text = clauses[-1] if clauses else ""
    text = re.sub(r"^[，；：。、）\s]+|[，；：、（\s]+$", "", text)
    text = re.sub(r"^(?:其中|另外|一是|二是|三是|四是|五是|主要用于以下方面)[：，]?", "", text)
    return text[-40:] or "（未注明）"


def _statement(res: NarrativeResult, fig: Figure, current: tuple | None, mtext: str, lead: str, follow: str,
               period: str | None, ctx: str, sentence: str, ref: str, page: int | None, threshold: bool,
               unbudgeted: bool) -> dict:
    unit_kind = _unit_kind(fig.unit)
    measure, sign = _measure(unit_kind, mtext if current is not None else lead, ctx)
    value = fig.value * sign
    understood = current is not None and ctx in _TEMPLATE_CONTEXTS
    amount_rows: list[dict] = []
    table_ref = (None, None, None)
    topic: str
    label: str
    kind = _KIND[measure]
    stmt_period = "本年" if measure in ("final", "budget", "count", "share", "percent") else (period or "上年")
    if measure == "execution_rate":
        stmt_period = "预算"
    if ctx == "projects" and unit_kind == "money" and measure in ("final", "budget") and not (
            current and current[0] == "subject" and current[2] != "projects.amount" and current[2].startswith("gpb")):
        clauses = [c for c in re.split(r"[，；：。]", lead) if c.strip()]
        name = _clean_label(re.sub(r"(?:实际)?支出(?:决算)?$", "", clauses[-1] if clauses else ""))
        if name in ("（未注明）", "") and len(clauses) > 1:
            name = _clean_label(clauses[-2])
        topic, label, understood = "projects.amount", name, True
        return _row(fig, value, topic, label, "amount", "本年", sentence, ref, page, understood, table_ref, [])
    if ctx == "targets":
        return _row(fig, fig.value, "performance.target", _figure_label(fig, lead, follow), "target",
                    "本年", sentence, ref, page, True, table_ref, [])
    if ctx == "results":
        return _row(fig, fig.value, "performance.indicator", _figure_label(fig, lead, follow), "result", "本年",
                    sentence, ref, page, True, table_ref, [])
    if current is None or not understood:
        topic = "performance.result" if sec_is_performance(ctx) else "other"
        kind = "result" if topic == "performance.result" else kind
        return _row(fig, fig.value, topic, _figure_label(fig, lead, follow), kind,
                    stmt_period if kind != "result" else "本年", sentence, ref, page, False, table_ref, [])

    what = current[0]
    if what == "subject":
        base, printed = current[2], current[1]
        base = _remap(base, ctx)
        if threshold:
            topic = base + ".threshold"
            label = f"{printed}（单位价值门槛）"
            return _row(fig, fig.value, topic, label, "amount", "本年", sentence, ref, page, True, table_ref, [])
        if unit_kind == "count":
            topic = base if base.startswith(_COUNT_SUBJECTS) else base + _count_suffix(lead, follow, fig.unit)
            if base.startswith("performance_mgmt.") and not base.startswith(_COUNT_SUBJECTS):
                topic = base + ".projects"
            label = printed
        else:
            topic = base + _SUFFIX[measure]
            label = printed + _LABEL[measure]
        if measure in ("final", "budget"):
            for table_no, side, line_key, m_final, m_budget in AMOUNT_TARGETS.get(base, []):
                m = m_final if measure == "final" else m_budget
                if m is None:
                    continue
                amount_rows.append(_amount(table_no, side, line_key, None, None, printed, m, fig.value, ref, page))
            if base.startswith("performance_mgmt.") and unit_kind == "money":
                topic = base + ".budget_amount"
    elif what == "class":
        name = current[2]
        assignment = classify_path([name], edition_of(res), res.stated_codes) if edition_of(res) else []
        code = assignment[0].code if assignment else None
        if assignment:
            res.paths.append(assignment)
        if code is None:
            res.unmapped_paths.append(f"{name}（类）")
        topic = "gpb.class" + _SUFFIX[measure]
        label = current[1] + _LABEL[measure]
        if measure in ("final", "budget"):
            m = "合计" if measure == "final" else "年初预算数"
            amount_rows.append(_amount(5, EXPENDITURE, code or name, code, assignment[0].certainty if code else None,
                                       name, m, fig.value, ref, page))
    else:  # item
        _, printed, assignment, path = current
        code = assignment[-1].code if assignment else None
        topic = "gpb.item" + _SUFFIX[measure]
        label = printed + _LABEL[measure]
        if ctx in ("fund", "soe"):
            topic = f"{ctx}.item" + _SUFFIX[measure]
        elif measure in ("final", "budget"):
            m = "合计" if measure == "final" else "年初预算数"
            amount_rows.append(_amount(5, EXPENDITURE, _item_line_key(assignment, path), code,
                                       assignment[-1].certainty if code else None, path[-1], m, fig.value, ref, page))
    if fig.qualifier:  # 约/余...: not the figure a table prints, so not put on a table line
        amount_rows = []
    for row in amount_rows:
        row["_unit"] = fig.unit  # the unit the figure is printed in (the importer converts)
    if amount_rows:
        first = amount_rows[0]
        table_ref = (first["table_no"], first["line_key"], first["measure"])
    return _row(fig, value, topic, label, kind, stmt_period, sentence, ref, page, True, table_ref, amount_rows)


def edition_of(res: NarrativeResult) -> int | None:
    return res.year


def sec_is_performance(ctx: str) -> bool:
    return ctx in ("performance_prose", "results", "targets", "part5")


def _remap(base: str, ctx: str) -> str:
    if ctx == "basic" and base == "expenditure.basic":
        return "gpb.basic"
    if ctx == "procurement" and base == "expenditure.project":
        return "procurement.other"
    return base


def _count_suffix(lead: str, follow: str, unit: str) -> str:
    text = lead + "|" + follow
    if "团组" in lead:
        return ".groups"
    if "来宾" in lead or "来访" in lead and unit == "人次":
        return ".visitors"
    if unit == "人次":
        return ".persons"
    if unit == "辆":
        return ".vehicles"
    if "批次" in text:
        return ".batches"
    return ".count"


def _amount(table_no: int, side: str, line_key: str, code: str | None, certainty: str | None, item: str,
            measure: str, value: Decimal, ref: str, page: int | None) -> dict:
    return {"table_no": table_no, "side": side, "line_key": line_key, "code": code, "item": item,
            "measure": measure, "amount": value, "code_certainty": certainty, "explanation": None,
            "source_kind": "narrative", "source_page": page, "source_ref": ref}


def _row(fig: Figure, value: Decimal, topic: str, label: str, kind: str, period: str | None, sentence: str,
         ref: str, page: int | None, understood: bool, table_ref: tuple, amount_rows: list[dict]) -> dict:
    return {
        "section": ref, "topic": topic, "label": label, "value": value, "unit": fig.unit, "kind": kind,
        "period": period, "table_no": table_ref[0], "line_key": table_ref[1], "measure": table_ref[2],
        "sentence": excerpt(sentence, fig.start, fig.end), "source_page": page, "source_ref": ref,
        "qualifier": fig.qualifier,
        "_understood": understood, "_amounts": amount_rows,
    }


def unit_table_rows(text: str, table_pages: Collection[int] = ()) -> list[tuple[str, str | None]]:
    """Rows "1 单位名称 备注" of a 决算单位构成 table in extracted PDF text (pages separated by form
    feeds), up to the next 第N部分 heading or page of the attached tables (``table_pages``)."""
    out = []
    inside = False
    lines = [(page_no, line) for page_no, chunk in enumerate(fold(text).split("\f"), start=1)
             for line in chunk.splitlines()]
    for page_no, raw in lines:
        if page_no in table_pages:
            inside = False
            continue
        line = raw.strip()
        if re.search(r"单位构成|编制范围的单位", line):
            inside = True
            continue
        if PART.match(squeeze_spaces(line)):
            inside = False
            continue
        m = re.match(r"^(\d{1,2})\s+(\S+)(?:\s+(.+))?$", line) if inside else None
        if m:
            out.append((m.group(2), m.group(3)))
    return out
