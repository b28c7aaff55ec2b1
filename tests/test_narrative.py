"""The narrative parser on the real seed, on Putuo's narrative, and on constructed variants."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from opendata.ingest.classify import classification_rows, classify_path
from opendata.ingest.narrative import parse_narrative
from opendata.ingest.textutil import decode_bytes, paragraphs

#: The shared sources sit beside the repository (../shared), in CI as here.
SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seeds/000_a04efb588eb58bab.txt"
PUTUO = SHARED / "reports/shanghai-putuo-finance-bureau-2024-final-accounts.pdf"
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="seed report not available")


@pytest.fixture(scope="module")
def seed():
    return parse_narrative(decode_bytes(SEED.read_bytes()))


def _amount(res, table_no, line_key, measure):
    rows = [a for a in res.amounts if (a["table_no"], a["line_key"], a["measure"]) == (table_no, line_key, measure)]
    assert rows, f"no amounts row 表{table_no} {line_key} {measure}"
    return rows[0]["amount"]


def _stmt(res, topic):
    return [s for s in res.statements if s["topic"] == topic]


@needs_seed
def test_seed_identity(seed):
    assert seed.department == "株洲市芦淞区科技和工业信息化局"
    assert seed.year == 2020 and seed.kind == "决算"


@needs_seed
def test_seed_items_add_to_total(seed):
    items = [a for a in seed.amounts if a["table_no"] == 5 and a["code"] and len(a["code"]) == 7 and a["measure"] == "合计"]
    assert len(items) == 18
    assert sum(a["amount"] for a in items) == Decimal("2540.24")
    budgets = [a for a in seed.amounts if a["table_no"] == 5 and a["code"] and len(a["code"]) == 7
               and a["measure"] == "年初预算数"]
    assert len(budgets) == 18 and sum(a["amount"] for a in budgets) == Decimal("643.62")


@needs_seed
def test_seed_item_and_class_figures(seed):
    assert _amount(seed, 5, "2060101", "年初预算数") == Decimal("305.62")
    assert _amount(seed, 5, "2060101", "合计") == Decimal("12.05")
    assert _amount(seed, 5, "206", "合计") == Decimal("1980.21")
    row = next(a for a in seed.amounts if a["line_key"] == "2060101" and a["measure"] == "合计")
    assert row["explanation"].startswith("决算数小于年初预算数的主要原因是")
    assert row["code_certainty"] == "high"
    assert next(a for a in seed.amounts if a["line_key"] == "2060404")["code_certainty"] == "medium"


@needs_seed
def test_seed_three_public(seed):
    assert _amount(seed, 7, "公务接待费", "决算数") == Decimal("0.12")
    assert _amount(seed, 7, "公务接待费", "预算数") == Decimal("0.5")
    change = _stmt(seed, "three_public.reception.change")
    assert [s["value"] for s in change] == [Decimal("-0.37")] and change[0]["period"] == "上年"
    assert [s["value"] for s in _stmt(seed, "three_public.reception.visitors")] == [Decimal("9")]
    assert [s["value"] for s in _stmt(seed, "three_public.reception.groups")] == [Decimal("1")]
    assert [s["value"] for s in _stmt(seed, "three_public.vehicles")] == [Decimal("0")]


@needs_seed
def test_seed_yoy_and_other_topics(seed):
    growth = _stmt(seed, "total.growth_rate")
    assert growth[0]["value"] == Decimal("33.2") and growth[0]["kind"] == "growth_rate" and growth[0]["period"] == "上年"
    assert _stmt(seed, "total.change")[0]["value"] == Decimal("633.83")
    admin = {(s["kind"], s["period"]): s["value"] for s in _stmt(seed, "admin_costs.change")}
    assert admin == {("change", "预算"): Decimal("-7.79"), ("change", "上年"): Decimal("-23.71")}
    assert _stmt(seed, "procurement.goods")[0]["value"] == Decimal("3.13")
    assert _stmt(seed, "staff.authorized")[0]["value"] == 12
    assert _stmt(seed, "staff.actual")[0]["value"] == 11
    assert len(_stmt(seed, "performance.target")) == 13


@needs_seed
def test_seed_projects_units_and_empty_tables(seed):
    names = {p["name"]: (p["amount"], p["in_initial_budget"]) for p in seed.projects}
    assert names["上级专项"] == (Decimal("2186.42"), False)
    assert sum(1 for v in names.values() if v[1]) == 2 and len(names) == 7
    assert sum(p["amount"] for p in seed.projects) == Decimal("2368.56")  # = 项目支出
    assert [u["name"] for u in seed.units if u["kind"] == "内设机构"][:2] == ["办公室", "科技创新股"]
    assert set(seed.empty_tables) == {8, 9}
    assert "政府性基金" in seed.empty_tables[8][0]


@needs_seed
def test_seed_not_understood_are_listed(seed):
    not_understood = [s for s in seed.statements if not s["_understood"]]
    assert not_understood, "the seed's prose figures must be listed, not hidden"
    assert all(any(s["sentence"] in line for line in seed.not_understood) for s in not_understood)
    assert all(s["section"].startswith("第五部分 六") for s in not_understood)


TEMPLATE = """2021年度
某某县农业农村局部门决算
第一部分 某某县农业农村局概况
第三部分 2021年度部门决算情况说明
一、收入支出决算总体情况说明
2021年度收、支总计1,234.50万元。与上年相比，减少10.5万元，下降0.8%。
二、收入决算情况说明
本年收入合计1,200万元,其中:财政拨款收入1,100.00万元,占91.7%;其他收入100万元,占8.3%。
五、一般公共预算财政拨款支出决算情况说明
（三）一般公共预算财政拨款支出决算具体情况
1、农林水支出（类）农业农村（款）行政运行（项）。年初预算为1,000万元,支出决算为1,100万元,完成年初预算的110.0%,决算数大于年初预算数的主要原因是:增人。
七、一般公共预算财政拨款三公经费支出决算情况说明
公务接待费支出预算为2万元，支出决算为1.5万元，完成预算的75.0%。
"""


def test_template_variant_half_width_and_separators():
    res = parse_narrative(TEMPLATE)
    assert (res.department, res.year, res.kind) == ("某某县农业农村局", 2021, "决算")
    assert _amount(res, 1, "总计", "决算数") == Decimal("1234.50")
    assert _stmt(res, "total.change")[0]["value"] == Decimal("-10.5")
    assert _stmt(res, "total.growth_rate")[0]["value"] == Decimal("-0.8")
    assert _amount(res, 2, "合计", "财政拨款收入") == Decimal("1100.00")
    assert _amount(res, 2, "合计", "其他收入") == Decimal("100")
    assert _stmt(res, "income.other.share")[0]["value"] == Decimal("8.3")
    assert _amount(res, 7, "公务接待费", "预算数") == Decimal("2")
    # An unknown path keeps no code: line keyed by its name path, listed as unmapped.
    item = [a for a in res.amounts if a["table_no"] == 5 and a["measure"] == "合计" and a["line_key"] != "合计"]
    assert item[0]["code"] is None and item[0]["amount"] == Decimal("1100")
    assert res.unmapped_paths


#: A 部门预算's wording, from a tester's budget of the seed's department (拨款 for 财政拨款, a 类(款)(项)
#: list in its own section).
BUDGET = """株洲市芦淞区科技和工业信息化局2022年部门预算
第一部分 株洲市芦淞区科技和工业信息化局2022年部门预算说明
三、部门收支总体情况
（一）收入预算
2022年收入预算８００．００万元，其中：一般公共预算拨款收入800.00万元，占100%；政府性基金预算拨款收入0万元。
四、一般公共预算拨款支出情况
2022年一般公共预算拨款支出800.00万元，比2021年年初预算增加100.00万元，增长14.3%，主要原因是项目经费增加。其中：
1．一般公共服务支出（类）政府办公厅（室）及相关机构事务（款）行政运行（项）160.00万元；
七、其他重要事项的情况说明
（二）政府采购情况
2022年政府采购预算总额6.00万元。
"""


def test_budget_wording_is_filed_under_its_own_subjects():
    """The tester's budget: 一般公共预算拨款收入 800 and 政府性基金预算拨款收入 0 were both filed as
    income.total.budget (a false narrative.repeat finding), and the 行政运行 item of 一般公共服务支出
    as 政府采购服务支出 (the "服务支出" of the class's name)."""
    res = parse_narrative(BUDGET)
    assert (res.year, res.kind) == (2022, "预算")
    topics = [(s["topic"], s["value"]) for s in res.statements]
    assert topics[:4] == [("income.total", Decimal("800.00")), ("income.gpb", Decimal("800.00")),
                          ("income.gpb.share", Decimal("100")), ("income.fund", Decimal("0"))]
    assert ("gpb.expenditure", Decimal("800.00")) in topics
    assert ("procurement.total", Decimal("6.00")) in topics
    assert not [t for t in topics if t[0].startswith("procurement.services")]


def test_procurement_parts_are_still_read():
    text = TEMPLATE + "八、其他重要事项的情况说明\n（三）政府采购支出说明\n2021年度政府采购支出总额3.13万元，其中：" \
        "政府采购货物支出3.13万元、政府采购工程支出0万元、服务支出0万元。\n"
    res = parse_narrative(text)
    topics = {s["topic"]: s["value"] for s in res.statements if s["topic"].startswith("procurement")}
    assert topics == {"procurement.total": Decimal("3.13"), "procurement.goods": Decimal("3.13"),
                      "procurement.works": Decimal("0"), "procurement.services": Decimal("0")}


def test_line_breaks_inside_words_and_numbers():
    broken = TEMPLATE.replace("农林水支出（类）", "农林\n\n水支出（类）").replace("年初预算为1,000万元", "年初\n预算为1,0\n00万元")
    res = parse_narrative(broken)
    assert any(a["measure"] == "年初预算数" and a["amount"] == Decimal("1000") for a in res.amounts if a["table_no"] == 5)


@pytest.mark.parametrize("numbering", ["1.", "1、", "1．", "1 、"])
def test_numbering_variants(numbering):
    text = TEMPLATE.replace("1、农林水支出", numbering + "农林水支出")
    res = parse_narrative(text)
    assert any(s["topic"] == "gpb.item.execution_rate" and s["value"] == Decimal("110.0") for s in res.statements)


def test_paragraphs_join_broken_lines():
    assert paragraphs("2020年度一般公共服务支出（类）科\n\n学技术支出(类)1980.21万元。\n二、收入") == [
        "2020年度一般公共服务支出（类）科学技术支出（类）1980.21万元。", "二、收入"]


def test_decode_gbk_and_bom():
    text = "2020年度某局部门决算"
    assert decode_bytes(text.encode("gb18030")) == text
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_bytes(b"\x00\x01\x02binary") is None


def test_classify_never_invents():
    assert classify_path(["科学技术支出", "技术与开发", "其他技术与开发支出"], 2020)[-1].code == "2060499"
    assert classify_path(["科学技术支出", "技术与开发", "科技成果转化与扩散"], 2020)[-1].certainty == "medium"
    assert classify_path(["某某支出", "某款", "某项"], 2020)[-1].code is None
    rows = classification_rows([classify_path(["科学技术支出", "科技重大项目", "重点研发计划"], 2020)], 2020)
    assert {r["classification_id"] for r in rows} == {"206@2020", "20609@2020", "2060902@2020"}
    rows = {r["code"]: r for r in rows}
    assert rows["2060902"]["parent_id"] == "20609@2020" and rows["20609"]["parent_id"] == "206@2020"
    assert rows["20609"]["certainty"] == "medium"


@pytest.mark.skipif(not PUTUO.exists(), reason="Putuo report not available")
def test_putuo_narrative():
    from opendata.ingest.importer import read_source

    text, _, is_pdf = read_source(PUTUO)
    res = parse_narrative(text)
    assert is_pdf and (res.department, res.year) == ("上海市普陀区财政局", 2024)
    assert res.understood == len(res.statements) >= 100
    assert _amount(res, 5, "2010601", "年初预算数") == Decimal("1560.05")
    assert _stmt(res, "total.change")[0]["value"] == Decimal("-56.95")
    assert _stmt(res, "admin_costs.growth_rate")[0]["value"] == Decimal("1.40")
    assert _stmt(res, "procurement.sme_other_awarded")[0]["value"] == Decimal("4.79")
    assert _stmt(res, "performance_mgmt.average_score")[0]["value"] == Decimal("99.43")
    assert set(res.empty_tables) == {8, 9}


def test_qualified_figures_keep_their_qualifier(seed):
    # "5000余万元", "近300家", "3000多名" were stored as exact figures (a tester's audit of the seed).
    by_sentence = {(s["value"], s["unit"]): s for s in seed.statements}
    assert by_sentence[(Decimal("5000"), "万元")]["qualifier"] == "余"
    assert by_sentence[(Decimal("500"), "万元")]["qualifier"] == "余"  # 优惠电费500余万元
    assert by_sentence[(Decimal("2.5"), "万剂")]["qualifier"] == "余"
    assert by_sentence[(Decimal("300"), "家")]["qualifier"] == "近"
    assert by_sentence[(Decimal("3000"), "名")]["qualifier"] == "多"
    assert by_sentence[(Decimal("1"), "万")]["qualifier"] == "余"  # 1万余经营户
    assert by_sentence[(Decimal("12"), "项")]["qualifier"] == "以上"  # 完成科技成果转化12项以上，
    exact = [s for s in seed.statements if s["qualifier"] is None]
    assert len(exact) == len(seed.statements) - 8
    # A threshold is not a bound of the figure: 单位价值50万元以上通用设备0台（套）.
    threshold = [s for s in seed.statements if s["topic"] == "assets.general_equipment.threshold"]
    assert [(s["value"], s["qualifier"]) for s in threshold] == [(Decimal("50"), None)]
    reception = [s for s in seed.statements if s["topic"].startswith("three_public.reception") and s["kind"] == "amount"]
    assert reception and all(s["qualifier"] is None for s in reception)


@pytest.mark.parametrize("sentence, qualifier", [
    ("2020年度公务接待费决算约0.12万元。", "约"),
    ("2020年度公务接待费决算超过0.12万元。", "超过"),
    ("2020年度公务接待费决算0.12万余元。", "余"),
    ("2020年度公务接待费决算0.12万元。", None),
    ("2020年度公务接待费决算0.12万元以上。", "以上"),
    ("2020年度公务接待费决算0.12万元以下，", "以下"),
    ("单价0.12万元以上的设备。", None),
])
def test_qualifiers_before_and_after_a_figure(sentence, qualifier):
    from opendata.ingest.narrative import _figures

    figures = _figures(sentence, [])
    assert [(f.value, f.unit, f.qualifier) for f in figures if f.unit == "万元"] == [(Decimal("0.12"), "万元", qualifier)]


@needs_seed
def test_labels_of_figures_in_results_name_what_they_count(seed):
    """A tester: in 近300家国内外服饰企业、3000多名专业观众 the 300 was labelled "近" and the 3000
    "国内外服饰企业"; 500余万元 "余经营户优惠电费"; the 100% of 12项以上，100%完成目标任务 "以上"."""
    def label(value: str, unit: str, words: str) -> str:
        found = [s["label"] for s in seed.statements
                 if (s["value"], s["unit"]) == (Decimal(value), unit) and words in s["sentence"]]
        assert len(found) == 1, (value, unit, words, found)
        return found[0]

    assert label("300", "家", "近300家国内外服饰企业") == "国内外服饰企业"
    assert label("3000", "名", "3000多名专业观众") == "专业观众到场共享行业盛宴"
    assert label("500", "万元", "优惠电费500余万元") == "经营户优惠电费"
    # 1万余经营户优惠电费500余万元: the 1万 counts 经营户 (it was labelled 经营户优惠电费, the 500万元's subject)
    assert label("1", "万", "1万余经营户") == "经营户"
    assert label("100", "%", "12项以上，100%完成目标任务") == "完成目标任务"
    assert label("12", "项", "12项以上") == "完成科技成果转化"
    assert label("56", "家", "入库56家任务") == "科技型中小企业备案入库"  # not "任务", the two characters after it


@needs_seed
def test_a_qualified_figure_is_not_put_on_a_table_line():
    text = decode_bytes(SEED.read_bytes())
    exact = "公务接待费支出预算为0.5万元，支出决算为0.12万元"
    assert exact in text
    as_printed = [s for s in parse_narrative(text).statements if exact in s["sentence"] and s["value"] == Decimal("0.12")]
    assert [(s["table_no"], s["line_key"], s["measure"]) for s in as_printed] == [(7, "公务接待费", "决算数")]
    res = parse_narrative(text.replace(exact, "公务接待费支出预算为0.5万元，支出决算约0.12万元"))
    assert _amount(res, 7, "公务接待费", "预算数") == Decimal("0.5")
    stated = [s for s in res.statements if s["value"] == Decimal("0.12") and s["qualifier"] == "约"]
    assert len(stated) == 1 and (stated[0]["table_no"], stated[0]["line_key"], stated[0]["measure"]) == (None,) * 3


def test_radical_glyphs_become_the_characters_they_stand_for():
    # CJK Radicals Supplement (Unicode's EquivalentUnifiedIdeograph.txt) and Kangxi radicals (NFKC)
    from opendata.ingest.textutil import radical_glyphs

    assert radical_glyphs("⺠营企业、部⻔、⻓期、⼯业、⻜⾏") == "民营企业、部门、长期、工业、飞行"
    assert radical_glyphs("\u2e80") == "\u2e80"  # no ordinary character for it: kept


@needs_seed
@pytest.mark.parametrize("header", ["11/29/26, 10:08 AM", "file:///tmp/x.html 1/14"])
def test_a_line_a_printer_put_before_the_title_is_not_the_department(header):
    # chromium prints the date (and the page's address) above the first page: "could not find the year"
    res = parse_narrative(header + "\n" + decode_bytes(SEED.read_bytes()))
    assert (res.year, res.department) == (2020, "株洲市芦淞区科技和工业信息化局")
