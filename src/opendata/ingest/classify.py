"""Functional classification (支出功能分类) codes for a 类(款)(项) name path, with a certainty.

The narrative names a line by its path "科学技术支出（类）科学技术管理事务（款）行政运行（项）", never by
code. This module maps the path to a code for one edition (year) of the 政府收支分类科目:

1. the codes the domain notes list for known items, with their confidence (H -> high, M -> medium),
   including the spellings reports use instead of the official names ("技术与开发" for 技术研究与开发);
2. otherwise the code-name pairs observed in real reports' tables (``OBSERVED`` below), matched by the
   whole path level by level (项 names repeat across 款, so a name alone never identifies a code);
3. otherwise nothing: the code stays None and the caller lists the path as unmapped. No code is guessed.

A 款 or 类 that is only known as the parent of a mapped 项 gets the 项's code prefix, with the best
certainty among its children, and the name printed in the report.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..template import classification_id, code_level, parent_code

SCHEME_FUNCTIONAL = "支出功能分类"
SCHEME_ECONOMIC = "支出经济分类"

#: Where a code assigned from a name comes from (``classification.source``: data, in Chinese, as
#: citizens read it; each names the file it was taken from).
OBSERVED_SOURCE = "按科目名称定码：真实报告所附表中印有此编码与名称（observed_codes.csv，普陀区 2024 年前后的报告）"
DOMAIN_SOURCE = "按科目名称定码：领域说明所列本报告科目的编码（budget-domain.md 第3节，可信度 {conf}）"
STATED_SOURCE = "本报告所附表中与此科目名称并列印出的编码"
DERIVED_SOURCE = "{child} 的上级科目：取已定码的项的编码前缀；名称取自领域说明（budget-domain.md）或原文"

#: Codes seen in the attached tables of real reports (F functional, E economic), copied from
#: ../shared/reference/observed_codes.csv. Not the complete official list. Columns:
#: scheme, code, name, alternative spelling seen.
_OBSERVED_CSV = """\
F,201,一般公共服务支出,
F,20103,政府办公厅（室）及相关机构事务,
F,2010301,行政运行,
F,2010302,一般行政管理事务,
F,2010350,事业运行,
F,2010399,其他政府办公厅（室）及相关机构事务支出,
F,20105,统计信息事务,
F,2010505,专项统计业务,
F,2010506,统计管理,
F,2010507,专项普查活动,
F,20106,财政事务,
F,2010601,行政运行,
F,2010602,一般行政管理事务,
F,2010607,信息化建设,
F,2010608,财政委托业务支出,
F,20113,商贸事务,
F,2011301,行政运行,
F,2011302,一般行政管理事务,
F,2011350,事业运行,
F,2011399,其他商贸事务支出,
F,20129,群众团体事务,
F,2012902,一般行政管理事务,
F,20132,组织事务,
F,2013202,一般行政管理事务,
F,20133,宣传事务,
F,2013302,一般行政管理事务,
F,20134,统战事务,
F,2013402,一般行政管理事务,
F,20138,市场监督管理事务,
F,2013802,一般行政管理事务,
F,20139,社会工作事务,
F,2013901,行政运行,
F,2013950,事业运行,
F,2013999,其他社会工作事务支出,
F,204,公共安全支出,
F,20406,司法,
F,2040601,行政运行,
F,2040604,基层司法业务,
F,2040605,普法宣传,
F,2040607,公共法律服务,
F,2040613,信息化建设,
F,2040699,其他司法支出,
F,20499,其他公共安全支出,
F,2049999,其他公共安全支出,
F,205,教育支出,
F,20599,其他教育支出,
F,2059999,其他教育支出,
F,206,科学技术支出,
F,20605,科技条件与服务,
F,2060503,科技条件专项,
F,20607,科学技术普及,
F,2060702,科普活动,
F,207,文化旅游体育与传媒支出,
F,20701,文化和旅游,
F,2070101,行政运行,
F,2070104,图书馆,
F,2070105,文化展示及纪念机构,
F,2070108,文化活动,
F,2070109,群众文化,
F,2070110,文化和旅游交流与合作,
F,2070111,文化创作与保护,
F,2070112,文化和旅游市场管理,
F,2070113,旅游宣传,
F,2070114,文化和旅游管理事务,
F,2070199,其他文化和旅游支出,
F,20703,体育,
F,2070308,群众体育,
F,20709,旅游发展基金支出,
F,2070904,地方旅游开发项目补助,
F,20799,其他文化旅游体育与传媒支出,
F,2079903,文化产业发展专项支出,
F,2079999,其他文化旅游体育与传媒支出,
F,208,社会保障和就业支出,
F,20805,行政事业单位养老支出,
F,2080501,行政单位离退休,
F,2080502,事业单位离退休,
F,2080505,机关事业单位基本养老保险缴费支出,
F,2080506,机关事业单位职业年金缴费支出,
F,2080599,其他行政事业单位养老支出,
F,20807,就业补助,
F,2080705,公益性岗位补贴,
F,20808,抚恤,
F,2080801,死亡抚恤,
F,20816,红十字事业,
F,2081602,一般行政管理事务,
F,20825,其他生活救助,
F,2082501,其他城市生活救助,
F,20899,其他社会保障和就业支出,
F,2089999,其他社会保障和就业支出,
F,210,卫生健康支出,
F,21007,计划生育事务,
F,2100717,计划生育服务,
F,21011,行政事业单位医疗,
F,2101101,行政单位医疗,
F,2101102,事业单位医疗,
F,211,节能环保支出,
F,21111,污染减排,
F,2111101,减排专项支出,
F,212,城乡社区支出,
F,21201,城乡社区管理事务,
F,2120101,行政运行,
F,2120102,一般行政管理事务,
F,2120104,城管执法,
F,2120199,其他城乡社区管理事务支出,
F,21202,城乡社区规划与管理,
F,2120201,城乡社区规划与管理,
F,21203,城乡社区公共设施,
F,2120399,其他城乡社区公共设施支出,
F,21205,城乡社区环境卫生,
F,2120501,城乡社区环境卫生,
F,21219,国有土地使用权出让收入对应专项债务收入安排的支出,
F,2121999,其他国有土地使用权出让收入对应专项债务收入安排的支出,
F,21299,其他城乡社区支出,
F,2129999,其他城乡社区支出,
F,215,资源勘探工业信息等支出,
F,21508,支持中小企业发展和管理支出,
F,2150899,其他支持中小企业发展和管理支出,
F,216,商业服务业等支出,
F,21699,其他商业服务业等支出,
F,2169999,其他商业服务业等支出,
F,220,自然资源海洋气象等支出,
F,22001,自然资源事务,
F,2200150,事业运行,
F,2200199,其他自然资源事务支出,
F,221,住房保障支出,
F,22102,住房改革支出,
F,2210201,住房公积金,
F,2210203,购房补贴,
F,22103,城乡社区住宅,
F,2210399,其他城乡社区住宅支出,
F,224,灾害防治及应急管理支出,
F,22402,消防救援事务,
F,2240299,其他消防救援事务支出,
E,301,工资福利支出,
E,30101,基本工资,
E,30102,津贴补贴,
E,30103,奖金,
E,30106,伙食补助费,
E,30107,绩效工资,
E,30108,机关事业单位基本养老保险缴费,
E,30109,职业年金缴费,
E,30110,职工基本医疗保险缴费,
E,30111,公务员医疗补助缴费,
E,30112,其他社会保障缴费,
E,30113,住房公积金,
E,30114,医疗费,
E,30199,其他工资福利支出,
E,302,商品和服务支出,
E,30201,办公费,
E,30202,印刷费,
E,30203,咨询费,
E,30204,手续费,
E,30205,水费,
E,30206,电费,
E,30207,邮电费,
E,30208,取暖费,
E,30209,物业管理费,
E,30211,差旅费,
E,30212,因公出国（境）费用,
E,30213,维修（护）费,维修(护)费
E,30214,租赁费,
E,30215,会议费,
E,30216,培训费,
E,30217,公务接待费,
E,30218,专用材料费,
E,30224,被装购置费,
E,30225,专用燃料费,
E,30226,劳务费,
E,30227,委托业务费,
E,30228,工会经费,
E,30229,福利费,
E,30231,公务用车运行维护费,
E,30239,其他交通费用,
E,30240,税金及附加费用,
E,30299,其他商品和服务支出,
E,303,对个人和家庭的补助,
E,30301,离休费,
E,30302,退休费,
E,30303,退职（役）费,
E,30304,抚恤金,
E,30305,生活补助,
E,30306,救济费,
E,30307,医疗费补助,
E,30308,助学金,
E,30309,奖励金,
E,30310,个人农业生产补贴,
E,30311,代缴社会保险费,
E,30399,其他对个人和家庭的补助,
E,310,资本性支出,
E,31001,房屋建筑物购建,
E,31002,办公设备购置,
E,31003,专用设备购置,
E,31007,信息网络及软件购置更新,
E,31013,公务用车购置,
E,31019,其他交通工具购置,
E,31021,文物和陈列品购置,
E,31022,无形资产购置,
E,31099,其他资本性支出,
"""

#: (code, path of accepted spellings per level, confidence, editions) from budget-domain.md section 3.
#: "|" separates spellings; the first is the official name.
_DOMAIN: list[tuple[str, tuple[str, str, str], str]] = [
    ("2010301", ("一般公共服务支出", "政府办公厅（室）及相关机构事务", "行政运行"), "H"),
    ("2010505", ("一般公共服务支出", "统计信息事务", "专项统计业务"), "H"),
    ("2060101", ("科学技术支出", "科学技术管理事务", "行政运行"), "H"),
    ("2060199", ("科学技术支出", "科学技术管理事务", "其他科学技术管理事务支出"), "H"),
    ("2060404", ("科学技术支出", "技术研究与开发|技术与开发", "科技成果转化与扩散"), "M"),
    ("2060499", ("科学技术支出", "技术研究与开发|技术与开发", "其他技术研究与开发支出|其他技术与开发支出"), "H"),
    ("2060599", ("科学技术支出", "科技条件与服务", "其他科技条件与服务支出"), "H"),
    ("2060901", ("科学技术支出", "科技重大项目", "科技重大专项"), "M"),
    ("2060902", ("科学技术支出", "科技重大项目", "重点研发计划"), "M"),
    ("2069999", ("科学技术支出", "其他科学技术支出", "其他科学技术支出"), "H"),
    ("2089901", ("社会保障和就业支出", "其他社会保障和就业支出", "其他社会保障和就业支出"), "M"),
    ("2120201", ("城乡社区支出", "城乡社区规划与管理", "城乡社区规划与管理"), "H"),
    ("2120399", ("城乡社区支出", "城乡社区公共设施", "其他城乡社区公共设施支出"), "H"),
    ("2150599", ("资源勘探工业信息等支出", "制造业", "其他制造业支出"), "H"),
    ("2150802", ("资源勘探工业信息等支出", "工业和信息产业监管", "一般行政管理事务"), "H"),
    ("2150805", ("资源勘探工业信息等支出", "工业和信息产业监管", "工业和信息产业支持"), "M"),
    ("2150899", ("资源勘探工业信息等支出", "工业和信息产业监管", "其他工业和信息产业监管支出"), "H"),
    ("2240106", ("灾害防治及应急管理支出", "应急管理事务", "安全监管"), "M"),
]
#: Editions the domain codes are known to hold for (the seed is 2020; 2089901 became 2089999 later).
_DOMAIN_EDITIONS = range(2018, 2023)
_CERTAINTY = {"H": "high", "M": "medium"}
_RANK = {"stated": 3, "high": 2, "medium": 1, None: 0}


def _key(name: str) -> str:
    """Compare names without spaces and bracket width."""
    name = re.sub(r"\s+", "", name)
    return name.replace("(", "（").replace(")", "）")


@dataclass(frozen=True)
class Observed:
    scheme: str
    code: str
    name: str
    spellings: tuple[str, ...]


def _load_observed() -> list[Observed]:
    rows = []
    for scheme, code, name, alt in csv.reader(io.StringIO(_OBSERVED_CSV)):
        spellings = (name,) + tuple(s for s in alt.split(";") if s)
        rows.append(Observed(SCHEME_FUNCTIONAL if scheme == "F" else SCHEME_ECONOMIC, code, name, spellings))
    return rows


OBSERVED = _load_observed()


@dataclass(frozen=True)
class Assignment:
    """One level of a name path and the code it maps to (code None: not mapped)."""

    level: str            # 类 / 款 / 项
    printed: str          # name as printed in the report
    code: str | None
    certainty: str | None  # high / medium (stated only for codes printed in tables)
    name: str             # name of the code in the edition (official or observed), else printed
    source: str


def _domain_match(path: Sequence[str], edition: int) -> tuple[str, str] | None:
    if edition not in _DOMAIN_EDITIONS:
        return None
    keys = [_key(p) for p in path]
    for code, spellings, conf in _DOMAIN:
        if len(keys) == 3 and all(k in [_key(s) for s in sp.split("|")] for k, sp in zip(keys, spellings)):
            return code, conf
    return None


def _observed(code_len: int, prefix: str, printed: str) -> Observed | None:
    k = _key(printed)
    for ob in OBSERVED:
        if ob.scheme == SCHEME_FUNCTIONAL and len(ob.code) == code_len and ob.code.startswith(prefix) \
                and k in (_key(s) for s in ob.spellings):
            return ob
    return None


def _observed_by_code(code: str) -> Observed | None:
    return next((ob for ob in OBSERVED if ob.scheme == SCHEME_FUNCTIONAL and ob.code == code), None)


def _domain_name(code: str, level_index: int) -> str | None:
    for dcode, spellings, _ in _DOMAIN:
        if dcode[: (3, 5, 7)[level_index]] == code:
            return spellings[level_index].split("|")[0]
    return None


def stated_paths(rows: Iterable[dict]) -> dict[tuple[str, ...], str | None]:
    """Name path (类[, 款[, 项]], compared without spaces) -> code, from the functional codes a report's
    own tables print (classification rows with the printed names). A path printed with two codes
    maps to None (ambiguous: not used)."""
    names = {r["code"]: r["name"] for r in rows if r.get("scheme") == SCHEME_FUNCTIONAL and r.get("code") and r.get("name")}
    out: dict[tuple[str, ...], str | None] = {}
    for code, _ in sorted(names.items()):
        chain = [code[:n] for n in (3, 5, 7) if n <= len(code)]
        if any(c not in names for c in chain):
            continue  # a level's name is not printed: the path cannot be matched whole
        key = tuple(_key(names[c]) for c in chain)
        out[key] = code if out.get(key, code) == code else None
    return out


def classify_path(path: Sequence[str], edition: int | str,
                  stated: dict[tuple[str, ...], str | None] | None = None) -> list[Assignment]:
    """Codes for a 类[, 款[, 项]] name path in one edition; unmapped levels get code None.

    ``stated`` (``stated_paths`` of the report's attached tables) comes first: a path whose every
    level the report's tables print by the same names takes the printed codes. Its certainty is
    high, not stated: the code is certain by name, but not printed on the narrative's line (the
    classification row itself is the table's, certainty stated).
    """
    edition = int(edition)
    path = [p.strip() for p in path]
    levels = ["类", "款", "项"][: len(path)]
    if stated:
        keys = [_key(p) for p in path]
        codes = [stated.get(tuple(keys[: i + 1])) for i in range(len(path))]
        if all(codes):
            return [Assignment(levels[i], printed, codes[i], "high", printed, STATED_SOURCE)
                    for i, printed in enumerate(path)]
    domain = _domain_match(path, edition) if len(path) == 3 else None
    out: list[Assignment] = []
    if domain:
        code, conf = domain
        certainty = _CERTAINTY[conf]
        for i, printed in enumerate(path):
            c = code[: (3, 5, 7)[i]]
            ob = _observed_by_code(c)
            official = _domain_name(c, i) or printed
            if i == 2:
                out.append(Assignment(levels[i], printed, c, certainty, official, DOMAIN_SOURCE.format(conf=conf)))
            elif ob is not None and _key(printed) in (_key(s) for s in ob.spellings):
                out.append(Assignment(levels[i], printed, c, "high", ob.name, OBSERVED_SOURCE))
            else:
                best = max((_CERTAINTY[cf] for dc, _, cf in _DOMAIN if dc.startswith(c) and edition in _DOMAIN_EDITIONS),
                           key=lambda x: _RANK[x])
                out.append(Assignment(levels[i], printed, c, best, official, DERIVED_SOURCE.format(child=code)))
        return out
    prefix = ""
    for i, printed in enumerate(path):
        ob = _observed((3, 5, 7)[i], prefix, printed) if (i == 0 or prefix) else None
        if ob is None:
            out.append(Assignment(levels[i], printed, None, None, printed, "not mapped"))
            prefix = ""
            continue
        out.append(Assignment(levels[i], printed, ob.code, "high", ob.name, OBSERVED_SOURCE))
        prefix = ob.code
    return out


def classification_rows(assignments: Iterable[Sequence[Assignment]], edition: int | str) -> list[dict]:
    """Rows of the classification resource for every code used, parents included, sorted by code."""
    rows: dict[str, dict] = {}
    for path in assignments:
        for a in path:
            if a.code is None:
                continue
            cid = classification_id(a.code, edition)
            parent = parent_code(a.code)
            row = {
                "classification_id": cid,
                "code": a.code,
                "edition": str(edition),
                "scheme": SCHEME_FUNCTIONAL,
                "level": code_level(a.code),
                "name": a.name,
                "parent_id": classification_id(parent, edition) if parent else None,
                "certainty": a.certainty,
                "source": a.source,
            }
            old = rows.get(cid)
            if old is None or _RANK[row["certainty"]] > _RANK[old["certainty"]]:
                rows[cid] = row
    return [rows[k] for k in sorted(rows)]
