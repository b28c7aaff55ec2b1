"""The parser on reports that follow the national template but not the two shipped files.

Every text here is built from the wording of the national template (部门决算 blank template,
pages 15-21: 第三部分 情况说明), with figures filled in, and then varied the way other departments,
provinces and years vary it: numbering, headings, "持平", 上年结转和结余, the "三公" table's title,
元 as unit, thousands separators and full-width digits, page breaks inside a 类(款)(项) path and
inside a number, 部门预算 reports, other title forms. A variant must give the same figures as the
base text (or, where the variant changes what is stated, the figures it states).
"""

from __future__ import annotations

import csv
import shutil
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendata.errors import ImportError_
from opendata.ingest.importer import import_report
from opendata.ingest.narrative import parse_narrative

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
上海市某某区某某局2024年度部门决算
目录
第一部分 部门概况
第二部分 2024年度部门决算表
第三部分 2024年度部门决算情况说明
第四部分 名词解释
第一部分 上海市某某区某某局概况
一、主要职能
负责全区某某工作。
二、机构设置
上海市某某区某某局内设科室包括：办公室、业务科。
第二部分 2024年度部门决算表
1.收入支出决算总表
第三部分 上海市某某区某某局2024年度部门决算情况说明
一、收入支出决算总体情况说明
上海市某某区某某局2024年度收入支出总计2,540.24万元。与2023年度相比，收入支出总计增加633.83万元，增长33.2%。主要原因：项目增加。
二、收入决算情况说明
本年收入合计2,540.24万元，其中：财政拨款收入2,500.00万元，占98.4%；其他收入40.24万元，占1.6%。
三、支出决算情况说明
本年支出合计2,540.24万元，其中：基本支出171.68万元，占6.8%；项目支出2,368.56万元，占93.2%。
四、财政拨款收入支出决算总体情况说明
上海市某某区某某局2024年度财政拨款收入支出总计2,500.00万元。与2023年度相比，财政拨款收入支出总计增加600.00万元，增长31.6%。主要原因：项目增加。
五、一般公共预算财政拨款支出决算情况说明
（一）一般公共预算财政拨款支出决算总体情况
一般公共预算财政拨款支出2,500.00万元，占本年支出合计的98.4%。与2023年度相比，一般公共预算财政拨款支出增加600.00万元，增长31.6%。主要原因：项目增加。
（二）一般公共预算财政拨款支出决算结构情况
一般公共预算财政拨款支出2,500.00万元，主要用于以下方面：一般公共服务支出（类）520.00万元，占20.8%；科学技术支出（类）1,980.00万元，占79.2%。
（三）一般公共预算财政拨款支出决算具体情况
一般公共预算财政拨款支出年初预算为2,600.00万元，支出决算为2,500.00万元，完成年初预算的96.2%。决算数小于预算数的主要原因：压缩开支。其中：
1、一般公共服务支出（类）政府办公厅（室）及相关机构事务（款）行政运行（项）。主要用于：机构运转。年初预算为550.00万元，支出决算为520.00万元。决算数小于预算数的主要原因：压缩开支。
2、科学技术支出（类）科学技术管理事务（款）行政运行（项）。主要用于：机构运转。年初预算为2,050.00万元，支出决算为1,980.00万元。决算数小于预算数的主要原因：压缩开支。
六、一般公共预算财政拨款基本支出决算情况说明
一般公共预算财政拨款基本支出171.68万元。其中：人员经费150.00万元，主要包括：基本工资、津贴补贴；公用经费21.68万元，主要包括：办公费、印刷费。
七、财政拨款“三公”经费支出决算情况说明
（一）“三公”经费财政拨款支出决算总体情况说明。
“三公”经费财政拨款支出年初预算为3.00万元，支出决算为2.00万元，完成预算的66.7%，其中：因公出国（境）费决算为0.00万元，完成预算的0%；公务用车购置及运行维护费支出决算为1.50万元，完成预算的75.0%；公务接待费支出决算为0.50万元，完成预算的50.0%。2024年度“三公”经费支出决算数小于预算数的主要原因：厉行节约。
2024年度“三公”经费财政拨款支出决算数比2023年度减少0.40万元，下降16.7%，其中：因公出国（境）费支出决算与上年持平；公务用车购置及运行维护费支出决算减少0.20万元，下降11.8%；公务接待费支出决算减少0.20万元，下降28.6%。
（二）“三公”经费财政拨款支出决算具体情况说明。
“三公”经费财政拨款支出决算中，因公出国（境）费支出决算0.00万元，占0%；公务用车购置及运行维护费支出决算1.50万元，占75.0%；公务接待费支出决算0.50万元，占25.0%。具体情况如下：
1、因公出国（境）费支出0.00万元。全年安排因公出国（境）团组0个、累计0人次。
2、公务用车购置及运行维护费支出1.50万元。其中：
公务用车购置支出为0.00万元。
公务用车运行维护支出1.50万元。主要用于车辆维修。2024年，上海市某某区某某局所属各预算单位开支财政拨款的公务用车保有量为1辆。
3、公务接待费支出0.50万元。其中：
国内公务接待支出0.50万元（含外宾接待支出0.00万元）。主要用于接待调研，共接待5批次、40人次。
八、政府性基金预算财政拨款收入支出决算情况说明
上海市某某区某某局2024年度无政府性基金预算财政拨款收入和支出。
九、国有资本经营预算财政拨款收入支出决算情况说明
上海市某某区某某局2024年度无国有资本经营预算财政拨款收入和支出。
十、预算绩效管理情况
上海市某某区某某局2024年度预算绩效管理工作开展情况如下：编报绩效目标的2024年度项目5个，涉及预算金额2,368.56万元；绩效自评的2024年度项目5个，涉及预算金额2,368.56万元，平均得分95.5分。
十一、其他重要事项的情况说明
（一）机关运行经费支出情况
机关运行经费支出21.68万元，比2023年度减少2.00万元，下降8.4%。主要原因是厉行节约。
（二）政府采购支出情况
上海市某某区某某局2024年度政府采购金额（以合同签订为准）为30.00万元，其中：货物采购金额10.00万元、工程采购金额0.00万元、服务采购金额20.00万元。
（三）国有资产占有使用情况说明
截至2024年12月31日，上海市某某区某某局共有车辆1辆，其中：其他用车1辆。单价100万元（含）以上设备（不含车辆）0台（套）。
第四部分 名词解释
一、财政拨款收入：指本级财政当年拨付的资金。
"""


def _amounts(res) -> dict[tuple, Decimal]:
    return {(a["table_no"], a["line_key"], a["measure"]): a["amount"] for a in res.amounts}


def _topics(res) -> list[tuple]:
    return [(s["section"], s["topic"], s["value"], s["kind"], s["period"]) for s in res.statements]


def _stmt(res, topic):
    return [s for s in res.statements if s["topic"] == topic]


@pytest.fixture(scope="module")
def base():
    return parse_narrative(BASE)


def test_base_template(base):
    assert (base.department, base.year, base.kind) == ("上海市某某区某某局", 2024, "决算")
    a = _amounts(base)
    assert a[(1, "总计", "决算数")] == Decimal("2540.24")
    assert a[(5, "2010301", "年初预算数")] == Decimal("550.00") and a[(5, "2010301", "合计")] == Decimal("520.00")
    assert a[(7, "公务接待费", "决算数")] == Decimal("0.50") and a[(7, "合计", "预算数")] == Decimal("3.00")
    assert a[(6, "人员经费合计", "决算数")] == Decimal("150.00")
    assert _stmt(base, "three_public.vehicle.change")[0]["value"] == Decimal("-0.20")
    assert set(base.empty_tables) == {8, 9}
    assert base.understood == len(base.statements) > 80 and not base.not_understood and not base.skipped


# ------------------------------------------------------------------------ numbering and headings

@pytest.mark.parametrize("numbering", ["（{cn}）", "{cn}、", "{n}.", "{n}．", "{n}、"])
def test_items_numbered_like_headings(base, numbering):
    text = BASE
    for n, cn in ((1, "一"), (2, "二")):
        for lei in ("一般公共服务支出（类）政府办公厅", "科学技术支出（类）科学技术管理事务"):
            text = text.replace(f"{n}、{lei}", numbering.format(n=n, cn=cn) + lei)
    res = parse_narrative(text)
    assert _amounts(res) == _amounts(base)
    items = [s for s in res.statements if s["topic"].startswith("gpb.item")]
    assert [s["section"] for s in items] == ["第三部分 五（三）1"] * 2 + ["第三部分 五（三）2"] * 2
    # the next headings are still headings
    assert _stmt(res, "gpb.basic")[0]["section"] == "第三部分 六"


def test_headings_written_with_a_dot_or_in_brackets(base):
    text = BASE
    for cn in "一二三四五六七八九":
        text = text.replace(f"\n{cn}、", f"\n{cn}.")
    text = text.replace("十、预算绩效", "十.预算绩效").replace("十一、其他", "十一．其他")
    res = parse_narrative(text)
    assert _topics(res) == _topics(base)
    assert _amounts(res) == _amounts(base)


def test_headings_with_ascii_brackets(base):
    text = BASE.replace("（一）", "(一)").replace("（二）", "(二)").replace("（三）", "(三)")
    res = parse_narrative(text)
    assert _topics(res) == _topics(base)


# ------------------------------------------------------------------------ wording

@pytest.mark.parametrize("level", ["与上年持平", "与上年相比持平", "与2023年度持平", "较上年持平", "同比持平"])
def test_a_stated_zero_change_is_a_change_of_0(level):
    text = BASE.replace("因公出国（境）费支出决算与上年持平", "因公出国（境）费支出决算" + level)
    res = parse_narrative(text)
    zero = _stmt(res, "three_public.abroad.change")
    assert [(s["value"], s["kind"], s["period"], s["unit"]) for s in zero] == [(Decimal(0), "change", "上年", "万元")]
    assert "持平" in zero[0]["sentence"] and zero[0]["section"] == "第三部分 七（一）"


def test_level_with_last_year_for_the_total_and_not_with_the_budget(base):
    text = BASE.replace("与2023年度相比，收入支出总计增加633.83万元，增长33.2%。",
                        "与2023年度相比，收入支出总计持平。")
    text = text.replace("年初预算为550.00万元，支出决算为520.00万元。决算数小于预算数的主要原因：压缩开支。",
                        "年初预算为520.00万元，支出决算为520.00万元。决算数与预算数持平。")
    res = parse_narrative(text)
    assert [(s["value"], s["period"]) for s in _stmt(res, "total.change")] == [(Decimal(0), "上年")]
    assert not _stmt(res, "total.growth_rate")
    assert not [s for s in res.statements if s["topic"] == "gpb.item.change"]  # budget vs final: no new figure
    assert "基本持平" not in text
    basic = parse_narrative(BASE.replace("因公出国（境）费支出决算与上年持平", "因公出国（境）费支出决算与上年基本持平"))
    assert not _stmt(basic, "three_public.abroad.change")  # "about the same" is not a zero


def test_opening_balance_spelled_last_year():
    sentence = "本年收入合计2,540.24万元，其中：财政拨款收入2,500.00万元，占98.4%；其他收入40.24万元，占1.6%。"
    for name in ("年初结转和结余", "上年结转和结余"):
        res = parse_narrative(BASE.replace(sentence, sentence + f"使用非财政拨款结余0.00万元，{name}120.00万元。"))
        assert _amounts(res)[(1, "年初结转和结余", "决算数")] == Decimal("120.00")
        assert _stmt(res, "income.opening_balance")[0]["label"] == name


@pytest.mark.parametrize("title", ["一般公共预算财政拨款“三公”经费", "财政拨款'三公'经费", "一般公共预算财政拨款‘三公’经费",
                                   '财政拨款"三公"经费'])
def test_three_public_title_variants(base, title):
    text = BASE.replace("七、财政拨款“三公”经费支出决算情况说明", f"七、{title}支出决算情况说明")
    text = text.replace("“三公”经费财政拨款支出年初预算为3.00万元", f"{title}支出年初预算为3.00万元")
    res = parse_narrative(text)
    a = _amounts(res)
    assert a[(7, "合计", "预算数")] == Decimal("3.00") and a[(7, "合计", "决算数")] == Decimal("2.00")
    assert a[(7, "公务接待费", "决算数")] == Decimal("0.50")
    assert _stmt(res, "three_public.total.execution_rate")[0]["value"] == Decimal("66.7")


def _in_yuan(text: str) -> str:
    """The same report with its amounts in 元 (x 10000, printed with thousands separators)."""
    import re

    def yuan(m):
        value = Decimal(m.group(1).replace(",", "")) * 10000
        return f"{value:,.2f}元"
    return re.sub(r"(\d[\d,]*(?:\.\d+)?)万元", yuan, text)


def test_amounts_in_yuan(base):
    res = parse_narrative(_in_yuan(BASE))
    a = _amounts(res)
    assert a[(1, "总计", "决算数")] == Decimal("25402400.00")
    assert a[(7, "公务接待费", "决算数")] == Decimal("5000.00")
    assert {s["unit"] for s in res.statements if s["kind"] == "amount" and s["table_no"]} == {"元"}
    assert len(res.statements) == len(base.statements)


def test_import_in_yuan_keeps_the_unit(tmp_path):
    pkg = _package(tmp_path)
    src = tmp_path / "yuan.txt"
    src.write_text(_in_yuan(BASE), encoding="utf-8")
    summary = import_report(src, pkg)
    report = next(r for r in _rows(pkg, "reports") if r["report_id"] == summary.report_id)
    assert report["unit"] == "元"
    total = next(r for r in _rows(pkg, "amounts") if r["report_id"] == summary.report_id
                 and (r["table_no"], r["line_key"]) == ("1", "总计"))
    assert Decimal(total["amount"]) == Decimal("25402400")
    # the validator reads the amounts in the report's unit: no narrative-vs-table noise from units
    assert not [f for f in summary.findings if f["rule_id"].startswith("narrative.")], summary.findings


def test_full_width_digits_and_separators(base):
    full = str.maketrans("0123456789.,%", "０１２３４５６７８９．，％")
    text = BASE.replace("2,540.24万元", "2,540.24万元".translate(full)).replace("2,368.56万元", "２３６８．５６万元")
    text = text.replace("1,980.00万元", "1980.00万元").replace("占98.4%", "占９８．４％")
    res = parse_narrative(text)
    assert _amounts(res) == _amounts(base)
    assert _topics(res) == _topics(base)


# ------------------------------------------------------------------------ page breaks

@pytest.mark.parametrize("footer", ["", "12\n", "- 12 -\n", "第12页\n", "第 12 页 共 30 页\n", "12/30\n"])
def test_page_break_inside_a_path_and_inside_a_number(base, footer):
    text = BASE.replace("2、科学技术支出（类）科学技术管理事务（款）行政运行（项）",
                        f"2、科学技术支出（类）科学技术管\n{footer}\f{footer.replace('12', '13')}理事务（款）行政运行（项）")
    text = text.replace("年初预算为2,050.00万元", f"年初预算为2,0\n{footer}\f50.00万元")
    res = parse_narrative(text)
    assert _amounts(res) == _amounts(base)
    item = [s for s in res.statements if s["topic"] == "gpb.item.budget"][1]
    assert item["label"].startswith("科学技术支出（类）科学技术管理事务（款）行政运行（项）")
    assert item["value"] == Decimal("2050.00")
    assert not res.skipped


def test_page_break_between_sentences_keeps_page_numbers_out(base):
    text = BASE.replace("\n二、收入决算情况说明", "\n- 3 -\n\f- 4 -\n二、收入决算情况说明")
    res = parse_narrative(text)
    assert _topics(res) == _topics(base) and not res.skipped


# ------------------------------------------------------------------------ titles and kinds

@pytest.mark.parametrize("title, dept, year, kind", [
    ("上海市某某区某某局2024年度部门决算", "上海市某某区某某局", 2024, "决算"),
    ("某某市某某局2022年部门决算公开", "某某市某某局", 2022, "决算"),
    ("2023年度某某区某某中心部门决算", "某某区某某中心", 2023, "决算"),
    ("某某县某某局2021年部门预算", "某某县某某局", 2021, "预算"),
    ("2021年某某县某某局部门预算", "某某县某某局", 2021, "预算"),
    ("关于某某县某某局2022年度部门决算的说明", "某某县某某局", 2022, "决算"),
    ("某某区某某局\n2024年度\n部门决算", "某某区某某局", 2024, "决算"),
])
def test_title_forms(title, dept, year, kind):
    res = parse_narrative(BASE.replace("上海市某某区某某局2024年度部门决算\n", title + "\n", 1))
    assert (res.department, res.year, res.kind) == (dept, year, kind)


BUDGET = """某某县某某局2021年部门预算
第一部分 某某县某某局概况
一、主要职能
负责全县某某工作。
第二部分 2021年部门预算情况说明
一、收支预算总体情况说明
2021年收入预算1,200.00万元，支出预算1,200.00万元。与2020年相比，收、支总计增加100.00万元，增长9.1%。
二、收入预算情况说明
本年收入合计1,200.00万元，其中：财政拨款收入1,150.00万元，占95.8%；其他收入50.00万元，占4.2%。
三、支出预算情况说明
本年支出合计1,200.00万元，其中：基本支出800.00万元，占66.7%；项目支出400.00万元，占33.3%。
第三部分 2021年部门预算表
1.收支预算总表
"""


def test_budget_report_is_kind_budget():
    res = parse_narrative(BUDGET)
    assert (res.department, res.year, res.kind) == ("某某县某某局", 2021, "预算")
    topics = {s["topic"]: s["value"] for s in res.statements}
    assert topics["income.fiscal"] == Decimal("1150.00") and topics["expenditure.basic.share"] == Decimal("66.7")
    assert res.understood == len(res.statements)


def test_import_budget_report(tmp_path):
    pkg = _package(tmp_path)
    src = tmp_path / "budget.txt"
    src.write_text(BUDGET, encoding="utf-8")
    summary = import_report(src, pkg)
    assert summary.kind == "预算" and summary.report_id.endswith("-2021-budget")
    report = next(r for r in _rows(pkg, "reports") if r["report_id"] == summary.report_id)
    assert report["kind"] == "预算"
    # the 决算 template's tables are not the budget's: figures are statements, not 决算 amounts
    assert not [r for r in _rows(pkg, "amounts") if r["report_id"] == summary.report_id]
    assert summary.rows_written["statements"] == summary.figures >= 10


# ------------------------------------------------------------------------ ids

def _package(tmp_path: Path) -> Path:
    dest = tmp_path / "pkg"
    if not dest.exists():
        shutil.copytree(ROOT / "datapackage", dest)
    return dest


def _rows(package: Path, name: str) -> list[dict]:
    with (package / "data" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_unknown_department_imports_with_stable_ids(tmp_path):
    pkg = _package(tmp_path)
    text = BASE.replace("上海市某某区某某局", "甘肃省某某县农业农村局")
    src = tmp_path / "r.txt"
    src.write_text(text, encoding="utf-8")
    first = import_report(src, pkg)
    assert first.department == "甘肃省某某县农业农村局"
    assert first.report_id.startswith("dept-") and first.report_id.endswith("-2024-final")
    snapshot = {p.name: p.read_bytes() for p in (pkg / "data").glob("*.csv")}
    src2 = tmp_path / "copy-with-another-name.txt"
    src2.write_text(text, encoding="utf-8")
    second = import_report(src2, pkg)
    assert (second.report_id, second.department_id) == (first.report_id, first.department_id)
    src.write_text(text, encoding="utf-8")
    import_report(src, pkg)
    assert {p.name: p.read_bytes() for p in (pkg / "data").glob("*.csv")} == snapshot


# ------------------------------------------------------------------------ properties

_ALPHABET = st.sampled_from(list("0123456789.,%，。；：、（）()一二三四五六七八九十第部分年度万元亿元个人次类款项持平增加减少占完成预算决算"
                                 "收入支出合计总计“”'\"\n\f \t-—") + ["三公", "经费", "与上年相比", "（类）", "（款）", "（项）",
                                                                     "部门决算", "部门预算", "2024年度", "第三部分",
                                                                     "一、", "（三）", "1、", "本年收入合计"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_parser_on_template_like_noise_raises_nothing(text):
    res = parse_narrative(text)
    assert all(s["value"] is not None for s in res.statements)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parser_on_arbitrary_text_raises_nothing(text):
    parse_narrative(text)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(BASE) - 1), st.sampled_from(["\n", "\f", "\n12\n\f", " ", "（", "。", "1"]))
def test_parser_on_the_template_cut_anywhere_raises_nothing(pos, insert):
    parse_narrative(BASE[:pos] + insert + BASE[pos:])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_import_of_anything_raises_only_import_error(tmp_path, data):
    pkg = _package(tmp_path)
    src = tmp_path / "any.txt"
    src.write_bytes(data)
    before = {p.name: p.read_bytes() for p in (pkg / "data").glob("*.csv")}
    try:
        summary = import_report(src, pkg)
    except ImportError_:
        assert {p.name: p.read_bytes() for p in (pkg / "data").glob("*.csv")} == before
    else:
        assert summary.report_id
        unicodedata.normalize("NFC", summary.department)


def test_level_sentence_then_its_items():
    """The wording of the Putuo report: 与2023年度持平。其中：X持平；Y持平。"""
    old = BASE[BASE.index("2024年度“三公”经费财政拨款支出决算数比2023年度减少"):]
    old = old[:old.index("\n")]
    text = BASE.replace(old, "2024年度“三公”经费财政拨款支出决算数与2023年度持平。其中：因公出国（境）费支出决算持平；"
                             "公务用车购置及运行维护费支出决算持平；公务接待费支出决算持平。")
    res = parse_narrative(text)
    zero = {s["topic"]: (s["value"], s["period"]) for s in res.statements
            if s["kind"] == "change" and s["topic"].startswith("three_public")}
    assert zero == {t: (Decimal(0), "上年") for t in ("three_public.total.change", "three_public.abroad.change",
                                                     "three_public.vehicle.change", "three_public.reception.change")}
