"""Accounting rules: each rule passes on consistent figures and catches one changed figure.

The base package is a copy of the shipped package (the seed report 株洲市芦淞区科技和工业信息化局 2020,
narrative only) plus two reports written here:

* ``test-tables-2020-final``: a complete set of nine tables (source_kind ``table``) built from the
  seed's own figures (本年支出合计 2540.24 = 基本支出 171.68 + 项目支出 2368.56; 人员经费 151.61 +
  公用经费 20.07; the six 类 and their 18 项), with every template identity holding to the cent;
* ``zhuzhou-lusong-kjgxj-2019-final``: last year's figures the seed's year-over-year sentences imply
  (收支总计 1907.73 = 2541.56 - 633.83, 公务接待费 0.49, 机关运行经费 43.78).

Each test changes one figure in a copy of that package and asserts the specific rule fires with the
expected and stated values; unchanged, the package yields only the seed's two real findings.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils

from opendata.build import load_database
from opendata.package import load_package
from opendata.rules import ERROR, REGISTRY, WARNING, _load_rule_modules, run_rules
from opendata.rules.tolerance import ratio_tolerance, sum_tolerance
from opendata.rules.views import create_views
from opendata.validate import validate_package

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "datapackage"
SEED = "zhuzhou-lusong-kjgxj-2020-final"
SEED_2019 = "zhuzhou-lusong-kjgxj-2019-final"
TABLES = "test-tables-2020-final"
IN, OUT = "收入", "支出"

# --- the complete-tables report ------------------------------------------------------------------

#: 类 -> (basic, project) split of its 2020 total; 款 -> 项 -> amount (the seed's 18 items).
CLASSES = {
    "201": ("一般公共服务支出", 157.25, 7.30, {"20103": {"2010301": 157.25}, "20105": {"2010505": 7.30}}),
    "206": ("科学技术支出", 14.43, 1965.78, {
        "20601": {"2060101": 12.05, "2060199": 115.00}, "20604": {"2060404": 200.00, "2060499": 550.00},
        "20605": {"2060599": 6.27}, "20609": {"2060901": 109.70, "2060902": 620.19}, "20699": {"2069999": 367.00}}),
    "208": ("社会保障和就业支出", 0.0, 2.35, {"20899": {"2089901": 2.35}}),
    "212": ("城乡社区支出", 0.0, 123.26, {"21202": {"2120201": 13.80}, "21203": {"2120399": 109.46}}),
    "215": ("资源勘探工业信息等支出", 0.0, 269.75, {
        "21505": {"2150599": 240.00}, "21508": {"2150802": 11.75, "2150805": 2.00, "2150899": 16.00}}),
    "224": ("灾害防治及应急管理支出", 0.0, 0.12, {"22401": {"2240106": 0.12}}),
}


def _c(x: float) -> float:
    return round(x, 2)


def table_report_rows() -> dict[str, list[dict]]:
    rows: list[dict] = []
    counters: dict[tuple, int] = {}

    def add(table_no, side, line_key, measure, amount, code=None, item=None):
        n = counters[(table_no, side)] = counters.get((table_no, side), 0) + 1
        rows.append({"report_id": TABLES, "table_no": table_no, "side": side, "line_no": n, "line_key": line_key,
                     "code": code or "", "item": item or line_key, "measure": measure, "amount": amount,
                     "source_kind": "table", "source_page": table_no + 3, "source_ref": f"表{table_no}"})

    total, basic, project = 2540.24, 171.68, 2368.56
    # Table 1
    for line, v in [("一般公共预算财政拨款收入", total), ("本年收入合计", total), ("使用非财政拨款结余", 0),
                    ("年初结转和结余", 1.32), ("总计", 2541.56)]:
        add(1, IN, line, "决算数", v)
    for code, (name, b, p, _) in CLASSES.items():
        add(1, OUT, code, "决算数", _c(b + p), code, name)
    for line, v in [("本年支出合计", total), ("结余分配", 0), ("年末结转和结余", 1.32), ("总计", 2541.56)]:
        add(1, OUT, line, "决算数", v)
    # Table 2 (all income is fiscal appropriation)
    for line, v in [("合计", total)] + [(c, _c(b + p)) for c, (_, b, p, _) in CLASSES.items()]:
        code = None if line == "合计" else line
        add(2, IN, line, "本年收入合计", v, code)
        add(2, IN, line, "财政拨款收入", v, code)
        add(2, IN, line, "事业收入", 0, code)
    # Tables 3 and 5: class lines with basic / project, sections and items with their totals
    for t, tot in ((3, "本年支出合计"), (5, "合计")):
        add(t, OUT, "合计", tot, total)
        add(t, OUT, "合计", "基本支出", basic)
        add(t, OUT, "合计", "项目支出", project)
        for code, (name, b, p, sections) in CLASSES.items():
            add(t, OUT, code, tot, _c(b + p), code, name)
            add(t, OUT, code, "基本支出", b, code, name)
            add(t, OUT, code, "项目支出", p, code, name)
            if t == 5:
                for kuan, items in sections.items():
                    add(5, OUT, kuan, "合计", _c(sum(items.values())), kuan)
                    for xiang, v in items.items():
                        add(5, OUT, xiang, "合计", v, xiang)
    # Table 4
    for line, v in [("本年收入合计", total), ("年初结转和结余", 0), ("总计", total)]:
        add(4, IN, line, "决算数", v)
    for code, (name, b, p, _) in CLASSES.items():
        add(4, OUT, code, "合计", _c(b + p), code, name)
        add(4, OUT, code, "一般公共预算财政拨款", _c(b + p), code, name)
    for line, v in [("本年支出合计", total), ("年末结转和结余", 0), ("总计", total)]:
        add(4, OUT, line, "合计", v)
    add(4, OUT, "本年支出合计", "一般公共预算财政拨款", total)
    add(4, OUT, "本年支出合计", "政府性基金预算财政拨款", 0)
    add(4, OUT, "本年支出合计", "国有资本经营预算财政拨款", 0)
    # Table 6 (economic classification)
    for line, v, code in [("301", 140.00, "301"), ("30101", 80.00, "30101"), ("30102", 60.00, "30102"),
                          ("303", 11.61, "303"), ("302", 18.07, "302"), ("310", 2.00, "310"),
                          ("人员经费合计", 151.61, None), ("公用经费合计", 20.07, None), ("合计", basic, None)]:
        add(6, OUT, line, "决算数", v, code)
    # Table 7 (三公)
    for measure, reception in (("预算数", 0.5), ("决算数", 0.12)):
        for line, v in [("合计", reception), ("因公出国（境）费", 0), ("公务用车购置及运行维护费", 0),
                        ("公务用车购置费", 0), ("公务用车运行维护费", 0), ("公务接待费", reception)]:
            add(7, OUT, line, measure, v)
    # Table 8: a fund balance carried over, nothing spent
    for measure, v in [("年初结转和结余", 10.0), ("本年收入", 0), ("本年支出合计", 0), ("基本支出", 0),
                       ("项目支出", 0), ("年末结转和结余", 10.0)]:
        add(8, OUT, "合计", measure, v)
    # Table 9: no state capital spending
    for measure in ("年初结转和结余", "本年收入", "本年支出合计", "基本支出", "项目支出", "年末结转和结余"):
        add(9, OUT, "合计", measure, 0)

    statements = [
        {"statement_no": 1, "section": "第三部分 三", "topic": "expenditure.total", "label": "本年支出合计",
         "value": total, "unit": "万元", "kind": "amount", "period": "本年", "table_no": 3, "line_key": "合计",
         "measure": "本年支出合计", "sentence": "本年支出合计2540.24万元。", "source_ref": "第三部分 三"},
        {"statement_no": 2, "section": "第三部分 六", "topic": "gpb.basic.personnel", "label": "人员经费",
         "value": 151.61, "unit": "万元", "kind": "amount", "period": "本年", "table_no": 6,
         "line_key": "人员经费合计", "measure": "决算数", "sentence": "人员经费151.61万元。", "source_ref": "第三部分 六"},
    ]
    return {
        "departments": [{"department_id": "test-tables", "name": "测试部门（完整附表）", "source_ref": "test"}],
        "reports": [{"report_id": TABLES, "department_id": "test-tables", "year": 2020, "kind": "决算",
                     "title": "测试部门2020年度部门决算", "unit": "万元", "source_file": "test.pdf",
                     "tables_attached": "true", "license": "test"}],
        "amounts": rows,
        "statements": [dict(s, report_id=TABLES) for s in statements],
        "projects": [{"report_id": TABLES, "project_no": 1, "name": "项目甲", "amount": 2000.00, "source_ref": "表3"},
                     {"report_id": TABLES, "project_no": 2, "name": "项目乙", "amount": 368.56, "source_ref": "表3"}],
    }


def last_year_rows() -> dict[str, list[dict]]:
    """The seed department's 2019 figures as the 2020 sentences imply them."""
    def st(no, topic, label, value, section):
        return {"report_id": SEED_2019, "statement_no": no, "section": section, "topic": topic, "label": label,
                "value": value, "unit": "万元", "kind": "amount", "period": "本年",
                "sentence": f"{label}{value}万元。", "source_ref": section}
    return {
        "reports": [{"report_id": SEED_2019, "department_id": "zhuzhou-lusong-kjgxj", "year": 2019, "kind": "决算",
                     "title": "2019年度部门决算（测试）", "unit": "万元", "source_file": "test-2019.txt",
                     "tables_attached": "false", "license": "test"}],
        "statements": [st(1, "total", "收、支总计", 1907.73, "第三部分 一"),
                       st(2, "fiscal.total", "财政拨款收、支总计", 1904.02, "第三部分 四"),
                       st(3, "three_public.reception", "公务接待费", 0.49, "第三部分 七（一）"),
                       st(4, "admin_costs", "机关运行经费", 43.78, "第三部分 十一（一）")],
    }


def append_rows(pkg: Path, rows: dict[str, list[dict]]) -> None:
    for name, new in rows.items():
        path = pkg / "data" / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        with path.open("a", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            for row in new:
                writer.writerow({k: "" if row.get(k) is None else row.get(k, "") for k in header})


def mutate(pkg: Path, resource: str, match: dict, field: str, value) -> None:
    """Change one field of exactly one row of a resource's CSV."""
    path = pkg / "data" / f"{resource}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        header = list(rows[0].keys())
    hits = [r for r in rows if all(str(r[k]) == str(v) for k, v in match.items())]
    assert len(hits) == 1, f"{resource} {match}: {len(hits)} rows"
    hits[0][field] = str(value)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def base_package(tmp_path_factory) -> Path:
    pkg = tmp_path_factory.mktemp("rules") / "pkg"
    shutil.copytree(SHIPPED, pkg)
    append_rows(pkg, table_report_rows())
    append_rows(pkg, last_year_rows())
    return pkg


@pytest.fixture
def pkg(base_package, tmp_path) -> Path:
    dest = tmp_path / "pkg"
    shutil.copytree(base_package, dest)
    return dest


def findings_of(pkg: Path):
    result = validate_package(pkg)
    assert result.schema_problems == []
    return result.findings


# --- the unchanged package -----------------------------------------------------------------------

#: The real inconsistencies of the shipped reports, each checked by hand against the source:
#: * seed: 完成年初预算的4.1% where 12.05 / 305.62 = 3.94%;
#: * seed: 一般公共服务支出 占6.4% where 164.55 / 2540.24 = 6.48% -- a warning: the six shares were
#:   adjusted to add up to 100.0 (rounded independently they add up to 100.1);
#: * Putuo 2024 (p.21): 财政拨款收入支出总计 "0.3万元" where table 4 总计 is 2961.68;
#: * Putuo 2024 (p.21): 一般公共服务支出 占71.73% where 2106.66 / 2940.05 = 71.65% (its four shares
#:   add up to 100.07, so this is no rounding adjustment).
SEED_FINDINGS = {("ratio.execution_rate", ERROR, SEED, 3.9428, 4.1), ("ratio.share", WARNING, SEED, 6.4777, 6.4)}
PUTUO = "shanghai-putuo-czj-2024-final"
PUTUO_FINDINGS = {("narrative.table", ERROR, PUTUO, 2961.68, 0.3), ("ratio.share", ERROR, PUTUO, 71.6539, 71.73),
                  # 社会保障和就业支出 is printed 326.71 in tables 1 and 4 but 326.72 in tables 3 and 5.
                  ("cross.t1_t3_classes", ERROR, PUTUO, 326.72, 326.71),
                  ("cross.t4_t5_classes", ERROR, PUTUO, 326.72, 326.71)}


def _keys(findings):
    return {(f.rule_id, f.severity, f.report_id, round(f.expected, 4), f.stated) for f in findings}


def _by_report(keys, report_id):
    return {k for k in keys if k[2] == report_id}


@pytest.fixture(scope="module")
def baseline(base_package):
    return _keys(findings_of(base_package))


def test_unchanged_package_has_only_the_real_findings(baseline):
    assert _by_report(baseline, SEED) == SEED_FINDINGS
    assert not _by_report(baseline, TABLES) and not _by_report(baseline, SEED_2019)


def test_shipped_package_findings_are_the_real_ones():
    got = _keys(findings_of(SHIPPED))
    assert _by_report(got, SEED) == SEED_FINDINGS
    if any(k[2] == PUTUO for k in got) or (SHIPPED / "data" / "reports.csv").read_text("utf-8").count(PUTUO):
        assert _by_report(got, PUTUO) == PUTUO_FINDINGS


def test_every_rule_is_registered_with_titles_and_resources():
    _load_rule_modules()
    assert len(REGISTRY) >= 30
    for r in REGISTRY.values():
        assert r.title_zh and r.title_en and r.resources and r.severity in (ERROR, WARNING)


# --- one changed figure per rule -----------------------------------------------------------------

A = "amounts"
T_OUT = {"report_id": TABLES, "side": OUT}
T_IN = {"report_id": TABLES, "side": IN}

#: (rule id, resource, row, field, new value, expected, stated)
CASES = [
    ("total.income_side", A, {**T_IN, "table_no": 1, "line_key": "总计"}, "amount", 2541.66, 2541.56, 2541.66),
    ("total.expenditure_side", A, {**T_OUT, "table_no": 1, "line_key": "年末结转和结余"}, "amount", 1.23,
     2540.24 + 1.23, 2541.56),
    ("total.balance", A, {**T_OUT, "table_no": 1, "line_key": "总计"}, "amount", 2541.65, 2541.65, 2541.56),
    ("total.income_lines", A, {**T_IN, "table_no": 1, "line_key": "一般公共预算财政拨款收入"}, "amount", 2504.24,
     2504.24, 2540.24),
    ("total.fiscal_summary", A, {**T_IN, "table_no": 4, "line_key": "年初结转和结余"}, "amount", 0.5,
     2540.74, 2540.24),
    ("total.fiscal_summary_expenditure", A, {**T_OUT, "table_no": 4, "line_key": "年末结转和结余"}, "amount", 0.5,
     2540.74, 2540.24),
    ("rowsum.income_columns", A, {**T_IN, "table_no": 2, "line_key": "201", "measure": "财政拨款收入"}, "amount",
     164.45, 164.45, 164.55),
    ("rowsum.expenditure_columns", A, {**T_OUT, "table_no": 3, "line_key": "206", "measure": "项目支出"}, "amount",
     1965.87, 14.43 + 1965.87, 1980.21),
    ("rowsum.fiscal_kinds", A, {**T_OUT, "table_no": 4, "line_key": "212", "measure": "合计"}, "amount", 123.62,
     123.26, 123.62),
    ("rowsum.basic_project", A, {**T_OUT, "table_no": 5, "line_key": "合计", "measure": "基本支出"}, "amount",
     171.86, 171.86 + 2368.56, 2540.24),
    ("rowsum.funds_roll_forward", A, {**T_OUT, "table_no": 8, "measure": "年末结转和结余"}, "amount", 12.0,
     10.0, 12.0),
    ("rowsum.funds_basic_project", A, {**T_OUT, "table_no": 8, "measure": "项目支出"}, "amount", 3.0, 3.0, 0.0),
    ("three_public.total", A, {**T_OUT, "table_no": 7, "line_key": "合计", "measure": "决算数"}, "amount", 0.21,
     0.12, 0.21),
    ("three_public.total_budget", A, {**T_OUT, "table_no": 7, "line_key": "公务接待费", "measure": "预算数"},
     "amount", 0.05, 0.05, 0.5),
    ("three_public.vehicles", A, {**T_OUT, "table_no": 7, "line_key": "公务用车运行维护费", "measure": "决算数"},
     "amount", 0.3, 0.3, 0.0),
    ("three_public.vehicles_budget", A, {**T_OUT, "table_no": 7, "line_key": "公务用车运行维护费", "measure": "预算数"},
     "amount", 0.3, 0.3, 0.0),
    ("rowsum.capital_basic_project", A, {**T_OUT, "table_no": 9, "measure": "项目支出"}, "amount", 1.0, 1.0, 0.0),
    ("rowsum.capital_roll_forward", A, {**T_OUT, "table_no": 9, "measure": "年末结转和结余"}, "amount", 2.0,
     0.0, 2.0),
    ("cross.t4_t9_capital", A, {**T_OUT, "table_no": 4, "line_key": "本年支出合计",
                                "measure": "国有资本经营预算财政拨款"}, "amount", 3.0, 0.0, 3.0),
    ("basic.personnel_public", A, {**T_OUT, "table_no": 6, "line_key": "合计"}, "amount", 171.86, 171.68, 171.86),
    ("hierarchy.total", A, {**T_OUT, "table_no": 3, "line_key": "合计", "measure": "本年支出合计"}, "amount",
     2504.24, 2540.24, 2504.24),
    ("hierarchy.class", A, {**T_OUT, "table_no": 5, "line_key": "20604", "measure": "合计"}, "amount", 705.0,
     1980.21 - 45.0, 1980.21),
    ("hierarchy.section", A, {**T_OUT, "table_no": 5, "line_key": "2060902", "measure": "合计"}, "amount", 602.19,
     602.19 + 109.70, 729.89),
    ("cross.t1_t2_income", A, {**T_IN, "table_no": 2, "line_key": "合计", "measure": "本年收入合计"}, "amount",
     2450.24, 2450.24, 2540.24),
    ("cross.t1_t2_fiscal", A, {**T_IN, "table_no": 2, "line_key": "合计", "measure": "财政拨款收入"}, "amount",
     2540.42, 2540.24, 2540.42),
    ("cross.t1_t3_expenditure", A, {**T_OUT, "table_no": 1, "line_key": "本年支出合计"}, "amount", 2540.42,
     2540.24, 2540.42),
    ("cross.t1_t3_classes", A, {**T_OUT, "table_no": 1, "line_key": "215"}, "amount", 296.75, 269.75, 296.75),
    ("cross.t4_t5_gpb", A, {**T_OUT, "table_no": 4, "line_key": "本年支出合计", "measure": "一般公共预算财政拨款"},
     "amount", 2540.00, 2540.24, 2540.00),
    ("cross.t4_t5_classes", A, {**T_OUT, "table_no": 4, "line_key": "208", "measure": "一般公共预算财政拨款"},
     "amount", 3.25, 2.35, 3.25),
    ("cross.t4_t8_funds", A, {**T_OUT, "table_no": 4, "line_key": "本年支出合计", "measure": "政府性基金预算财政拨款"},
     "amount", 5.0, 0.0, 5.0),
    ("cross.t5_t6_basic", A, {**T_OUT, "table_no": 6, "line_key": "公用经费合计"}, "amount", 20.70,
     151.61 + 20.70, 171.68),
    ("projects.total", "projects", {"report_id": TABLES, "project_no": 2}, "amount", 386.56, 2386.56, 2368.56),
    ("narrative.table", "statements", {"report_id": SEED, "topic": "expenditure.basic"}, "value", 171.86,
     171.68, 171.86),
    ("ratio.share", "statements", {"report_id": SEED, "statement_no": 77}, "value", 83.3, 88.3096, 83.3),
    ("ratio.execution_rate", "statements", {"report_id": SEED, "statement_no": 36}, "value", 349.7, 394.6801, 349.7),
    ("ratio.growth_rate", "statements", {"report_id": SEED, "statement_no": 5}, "value", 32.2, 33.2243, 32.2),
    ("yoy.change", "statements", {"report_id": SEED_2019, "statement_no": 4}, "value", 43.87, 43.87, 43.78),
    ("yoy.growth_rate", "statements", {"report_id": SEED_2019, "statement_no": 1}, "value", 1900.00,
     100 * (2541.56 - 1900) / 1900, 33.2),
]


@pytest.mark.parametrize("rule_id,resource,match,field,value,expected,stated", CASES, ids=[c[0] for c in CASES])
def test_one_changed_figure_is_caught_by_its_rule(pkg, baseline, rule_id, resource, match, field, value, expected,
                                                  stated):
    mutate(pkg, resource, match, field, value)
    hits = [f for f in findings_of(pkg) if f.rule_id == rule_id and _keys([f]) - baseline]
    assert hits, f"{rule_id} did not fire"
    f = hits[0]
    assert f.severity == ERROR
    assert f.expected == pytest.approx(expected, abs=1e-4)
    assert f.stated == pytest.approx(stated, abs=1e-4)
    assert f.difference == pytest.approx(f.stated - f.expected, abs=1e-4)
    assert abs(f.difference) > f.tolerance
    assert f.message_zh and f.message_en and f.source_ref and f.row_ref


def test_every_rule_has_a_failing_case():
    _load_rule_modules()
    covered = {c[0] for c in CASES} | {"narrative.repeat", "reports.duplicate", "amounts.code",  # their own tests
                                       "statements.line", "report_tables.status", "amounts.measure",
                                       "reports.year", "reports.title_year"}
    assert set(REGISTRY) <= covered, set(REGISTRY) - covered


@pytest.mark.parametrize("field, value", [("code", "2060903"), ("line_key", "2060903"),
                                          ("classification_id", "2060901@2020")])
def test_a_line_whose_code_columns_disagree_is_an_error(pkg, baseline, field, value):
    """A hand edit of one of a coded line's three codes (code 2060903 on the row of 2060902@2020)
    passed every check."""
    mutate(pkg, A, {**T_OUT, "table_no": 5, "line_key": "2060902", "measure": "合计"}, field, value)
    hits = [f for f in findings_of(pkg) if f.rule_id == "amounts.code"]
    assert len(hits) == 1 and hits[0].severity == ERROR and hits[0].report_id == TABLES
    assert hits[0].row_ref.startswith("table_no=5, side=支出, line_no=") and hits[0].row_ref.endswith("measure=合计")
    said = {"code": "2060902", "line_key": "2060902", "classification_id": "(空)"}  # this test report's
    said[field] = value
    assert f"code {said['code']}, classification_id {said['classification_id']}, line_key {said['line_key']}" \
        in hits[0].message_zh


@pytest.mark.parametrize("table_no, line_key, measure, wrong", [
    (1, "一般公共预算财政拨款收入", "决算数", "决算"),   # a misspelling (Putuo p.6, 2,940.05)
    (5, "201", "合计", "本年支出合计"),                # a column of 表3 on 表5 (Putuo's 一般公共服务支出, 2,106.66)
])
def test_a_figure_under_a_column_its_table_does_not_have_is_an_error(pkg, table_no, line_key, measure, wrong):
    """It passed the schema and dropped out of every identity and layout (and an identity of its
    line failed instead, for the wrong reason)."""
    mutate(pkg, A, {"report_id": PUTUO, "table_no": table_no, "line_key": line_key, "measure": measure}, "measure", wrong)
    hits = [f for f in findings_of(pkg) if f.rule_id == "amounts.measure"]
    assert [(f.severity, f.report_id, f.row_ref) for f in hits] == [
        (ERROR, PUTUO, f"table_no={table_no}, side={'收入' if table_no == 1 else '支出'}, line_key={line_key}, "
                       f"measure={wrong}")]
    assert f"栏目“{wrong}”不是该表的栏目" in hits[0].message_zh and hits[0].source_ref


def drop_rows(pkg: Path, resource: str, match: dict) -> int:
    """Remove the rows of a resource's CSV that match (a file that lost them); returns how many."""
    path = pkg / "data" / f"{resource}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    kept = [r for r in rows if not all(str(r[k]) == str(v) for k, v in match.items())]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    return len(rows) - len(kept)


def test_lines_and_tables_lost_from_amounts_are_errors(pkg):
    """amounts.csv cut short (Putuo's 表7 gone: 2 lines read from the table, 4 from the narrative)
    kept every other check: the identities compare the lines left, and the narrative's figures of
    表7 were compared with nothing."""
    assert not [f for f in findings_of(pkg) if f.rule_id in ("statements.line", "report_tables.status")]
    assert drop_rows(pkg, A, {"report_id": PUTUO, "table_no": 7}) == 6
    new = findings_of(pkg)
    lines = [f for f in new if f.rule_id == "statements.line"]
    # p.23, 第三部分 七（一）: “三公”经费 budget 0.95 and final 0.00, and each of its three parts
    assert {f.row_ref for f in lines} >= {"statement_no=57 -> amounts table_no=7 line_key=合计 measure=预算数",
                                          "statement_no=58 -> amounts table_no=7 line_key=合计 measure=决算数",
                                          "statement_no=60 -> amounts table_no=7 line_key=因公出国（境）费 measure=决算数"}
    assert all(f.severity == ERROR and f.report_id == PUTUO and f.resource == "statements" for f in lines)
    assert "表中没有这一行" in lines[0].message_zh and lines[0].source_ref
    tables = [(f.rule_id, f.report_id, f.row_ref, f.severity) for f in new if f.rule_id == "report_tables.status"]
    assert tables == [("report_tables.status", PUTUO, "table_no=7", ERROR)]


@pytest.mark.parametrize("report_id, status, says", [
    (SEED, "attached", "但表中没有一个读自该表的数字"),      # the seed's figures are its narrative's
    (PUTUO, "not_attached", "但表中有读自该表的数字"),     # Putuo's 表1 is read from p.9
    (PUTUO, "not_read", "但表中有读自该表的数字"),
])
def test_a_tables_status_that_contradicts_its_figures_is_an_error(pkg, report_id, status, says):
    mutate(pkg, "report_tables", {"report_id": report_id, "table_no": 1}, "status", status)
    hits = [f for f in findings_of(pkg) if f.rule_id == "report_tables.status"]
    assert [(f.report_id, f.row_ref, f.fields) for f in hits] == [(report_id, "table_no=1", "status")]
    assert says in hits[0].message_zh


def test_a_line_whose_name_is_not_its_codes_is_a_warning(pkg):
    """The name of 2010601 (行政运行, Putuo p.15) changed to 住房公积金 passed every check: now one
    warning for the line (not one for each of its figures)."""
    for measure in ("合计", "基本支出", "项目支出"):  # the line's three figures
        mutate(pkg, A, {"report_id": PUTUO, "table_no": 5, "line_key": "2010601", "measure": measure}, "item", "住房公积金")
    hits = [f for f in findings_of(pkg) if f.rule_id == "amounts.code"]
    assert [(f.severity, f.report_id, f.row_ref, f.fields) for f in hits] == [
        (WARNING, PUTUO, "table_no=5, side=支出, line_no=3", "item, code")]
    assert hits[0].message_zh == "表5第3行的科目名称“住房公积金”不是科目 2010601 的名称“行政运行”：编码或名称有误"


def test_a_name_as_a_report_words_it_is_its_codes():
    # The seed's 其他技术与开发支出 (2060499, officially 其他技术研究与开发支出): no finding
    from opendata.rules.codes import same_name

    assert same_name("其他技术与开发支出", "其他技术研究与开发支出") and same_name("行政运行", "行政运行")
    assert not same_name("住房公积金", "行政运行") and not same_name("科技成果转化与扩散", "行政运行")


def test_a_second_report_of_a_department_and_year_is_an_error(pkg):
    """The same department, year and kind twice (a package assembled by hand; the import refuses
    it): every comparison would count it twice."""
    mutate(pkg, "reports", {"report_id": TABLES}, "department_id", "zhuzhou-lusong-kjgxj")
    hits = [f for f in findings_of(pkg) if f.rule_id == "reports.duplicate"]
    assert [(f.severity, f.report_id, f.row_ref, f.fields) for f in hits] == [
        (ERROR, SEED, f"report_id={SEED}", "department_id, year, kind")]
    assert hits[0].message_zh.startswith(f"zhuzhou-lusong-kjgxj 2020 年度决算已有报告 {TABLES}，本报告是第二份")



@pytest.mark.parametrize("kind, years_on, fires", [("决算", 0, True), ("决算", -1, False),
                                                   ("预算", 2, True), ("预算", 1, False)])
def test_a_report_of_a_year_that_cannot_be_published_yet_is_an_error(pkg, kind, years_on, fires):
    """A 决算 of this year (its year has not ended) or a 预算 beyond the coming year: a misread
    year or a typo in reports.csv, which passed every check."""
    year = date.today().year + years_on
    mutate(pkg, "reports", {"report_id": TABLES}, "kind", kind)
    mutate(pkg, "reports", {"report_id": TABLES}, "year", year)
    hits = [f for f in findings_of(pkg) if f.rule_id == "reports.year"]
    if not fires:
        assert hits == []
        return
    assert [(f.severity, f.report_id, f.row_ref, f.fields) for f in hits] == [
        (ERROR, TABLES, f"report_id={TABLES}", "year, kind")]
    latest = date.today().year + (-1 if kind == "决算" else 1)
    assert hits[0].message_zh.startswith(f"{year} 年度{kind}：今年是 {date.today().year} 年，{kind}最晚为 {latest} 年度")



def test_a_year_other_than_its_titles_is_an_error(pkg):
    # reports.csv's 2020 edited to 2019 (the title, the codes and the sentences say 2020): no finding.
    mutate(pkg, "reports", {"report_id": SEED}, "year", 2019)
    hits = [f for f in findings_of(pkg) if f.rule_id == "reports.title_year"]
    assert [(f.severity, f.report_id, f.fields, f.message_zh) for f in hits] == [
        (ERROR, SEED, "year, title", "年度为 2019，标题“2020年度株洲市芦淞区科技和工业信息化局部门决算”写的是 2020 年")]


# --- families with more than one outcome ---------------------------------------------------------

def test_a_figure_within_rounding_is_not_a_finding(pkg):
    # 2541.56 -> 2541.57: one cent, within 4 x 0.005 of rounding for a total of three printed terms.
    mutate(pkg, A, {**T_IN, "table_no": 1, "line_key": "总计"}, "amount", 2541.57)
    assert not [f for f in findings_of(pkg) if f.rule_id == "total.income_side"]


def test_unlisted_item_in_a_narrative_is_a_warning_and_an_excess_an_error(pkg):
    # The seed names every 项 of 科学技术支出: drop one and the 类 is short, which a narrative may be.
    mutate(pkg, A, {"report_id": SEED, "table_no": 5, "line_key": "2069999", "measure": "合计"}, "amount", "")
    short = [f for f in findings_of(pkg) if f.rule_id == "hierarchy.class" and f.report_id == SEED]
    assert [(f.severity, f.stated, round(f.expected, 2)) for f in short] == [(WARNING, 1980.21, 1613.21)]
    mutate(pkg, A, {"report_id": SEED, "table_no": 5, "line_key": "2060101", "measure": "合计"}, "amount", 400.0)
    over = [f for f in findings_of(pkg) if f.rule_id == "hierarchy.class" and f.report_id == SEED]
    assert [(f.severity, f.stated, round(f.expected, 2)) for f in over] == [(ERROR, 1980.21, 2001.16)]


def test_a_total_over_items_calls_them_items(pkg):
    # A report that lists no 类 or 款 of a table: its total adds up its 项, which the message called 类.
    path = pkg / "data" / "amounts.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    kept = [r for r in rows if not (r["report_id"] == TABLES and r["table_no"] == "5" and len(r["code"]) in (3, 5))]
    items = [r for r in kept if r["report_id"] == TABLES and r["table_no"] == "5" and len(r["code"]) == 7]
    assert len(items) >= 2 and len(kept) < len(rows)
    items[0]["amount"] = f"{float(items[0]['amount']) + 7:.2f}"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    [total] = [f for f in findings_of(pkg) if f.rule_id == "hierarchy.total" and f.report_id == TABLES]
    assert total.row_ref.startswith("table_no=5 ") and total.difference == -7
    assert f"其下 {len(items)} 个科目（项）（" in total.message_zh, total.message_zh
    assert f"its {len(items)} lines (项) (" in total.message_en


def test_shares_not_adding_to_100_are_an_error(pkg):
    # 6.4 -> 6.3: now the six shares add up to 99.9, so the 6.3 is no longer a rounding adjustment.
    mutate(pkg, "statements", {"report_id": SEED, "statement_no": 23}, "value", 6.3)
    hits = [f for f in findings_of(pkg) if f.rule_id == "ratio.share" and f.report_id == SEED]
    assert [(f.severity, f.stated) for f in hits] == [(ERROR, 6.3)]


def test_narrative_repeat(pkg):
    append_rows(pkg, {"statements": [
        {"report_id": SEED, "statement_no": 900, "section": "第五部分 二（一）", "topic": "admin_costs",
         "label": "机关运行经费", "value": 20.70, "unit": "万元", "kind": "amount", "period": "本年",
         "sentence": "机关运行经费20.70万元。", "source_ref": "第五部分 二（一）"}]})
    hits = [f for f in findings_of(pkg) if f.rule_id == "narrative.repeat"]
    assert [(f.severity, f.expected, f.stated) for f in hits] == [(WARNING, 20.07, 20.70)]


def test_narrative_repeat_same_value_passes(pkg):
    append_rows(pkg, {"statements": [
        {"report_id": SEED, "statement_no": 900, "section": "第五部分 二（一）", "topic": "admin_costs",
         "label": "机关运行经费", "value": 20.07, "unit": "万元", "kind": "amount", "period": "本年",
         "sentence": "机关运行经费20.07万元。", "source_ref": "第五部分 二（一）"}]})
    assert not [f for f in findings_of(pkg) if f.rule_id == "narrative.repeat"]


def test_implied_last_year_view(base_package):
    db = sqlite_utils.Database(memory=True)
    load_database(db, load_package(base_package))
    create_views(db)
    rows = {r["topic"]: r for r in db.query(
        "select * from implied_last_year where report_id = ? and kind = 'change'", [SEED])}
    assert rows["total.change"]["implied_last_year"] == pytest.approx(1907.73)
    assert rows["total.change"]["last_year_value"] == pytest.approx(1907.73)
    assert rows["three_public.reception.change"]["implied_last_year"] == pytest.approx(0.49)
    assert rows["admin_costs.change"]["last_year_report_id"] == SEED_2019


def test_findings_carry_locations_and_rules_run_per_report(base_package):
    db = sqlite_utils.Database(memory=True)
    load_database(db, load_package(base_package))
    for f in run_rules(db):
        assert f.report_id and f.resource and f.row_ref and f.tolerance is not None


def test_tolerance_helpers():
    assert sum_tolerance(3, 0.005) == pytest.approx(0.02)
    # 151.61 / 171.68 printed as 88.3%: 0.05 for the printed decimal plus the amounts' rounding.
    tol = ratio_tolerance(151.61, 171.68, 0.005, 0.005, 0.05)
    assert 0.05 < tol < 0.06


# --- a synthetic corpus: every seeded error beyond rounding is found, nothing else -------------------

def test_synthetic_corpus_seeded_errors_found_and_nothing_else(tmp_path):
    from opendata.synth import write_corpus

    corpus = write_corpus(tmp_path / "corpus", 20, 3, 0.3, 1)
    db = sqlite_utils.Database(memory=True)
    load_database(db, load_package(tmp_path / "corpus"))
    found: dict[str, set[str]] = {}
    for f in run_rules(db):
        found.setdefault(f.report_id, set()).add(f.rule_id)
    seeded = corpus["seeded_errors"]
    assert seeded
    expected_rule = {"three_public_total": "three_public.total", "statement_vs_table": "narrative.table",
                     "table5_row_sum": "rowsum.basic_project", "table1_income_total": "total.income_side",
                     "last_year_change": "ratio.growth_rate"}
    assert "last_year_change" in {s["kind"] for s in seeded}
    # Reports without attached tables: their figures are the narrative's; a wrong one contradicts
    # the sentence it comes from.
    without_tables = {r["report_id"] for r in db.query("select report_id from reports where not tables_attached")}
    assert without_tables and without_tables & {s["report_id"] for s in seeded}
    for s in seeded:
        rule_id = expected_rule[s["kind"]]
        if s["report_id"] in without_tables and s["resource"] == "amounts":
            rule_id = "narrative.table"
        # A one-cent error in a sum of several printed figures is within their rounding: not a finding;
        # the same figure printed twice at the same precision must be identical.
        if s["delta"] > 0.01 or s["kind"] == "statement_vs_table":
            assert rule_id in found.get(s["report_id"], set()), s
        # A wrong change against last year also contradicts last year's report, when the corpus has it.
        if s["kind"] == "last_year_change" and not s["report_id"].endswith("-2021-final"):
            assert "yoy.change" in found[s["report_id"]], s
    assert set(found) <= {s["report_id"] for s in seeded}


# --- the hierarchy's sums: streamed a report at a time, or grouped when reports are interleaved ------

def test_hierarchy_sums_streamed_are_the_grouped_ones(tmp_path):
    """The sums streamed a report at a time are, exactly, the sums of the three GROUP BYs that can
    fail (their parent differs by more than EPSILON), at every level; a table whose reports' rows
    are interleaved is summed by the GROUP BYs, to the same findings."""
    from opendata.rules import hierarchy
    from opendata.rules.tolerance import EPSILON
    from opendata.synth import write_corpus

    write_corpus(tmp_path / "corpus", 12, 2, 0.3, 7)
    db = sqlite_utils.Database(memory=True)
    load_database(db, load_package(tmp_path / "corpus"))
    # Break one sum at each level: a 项 (7 digits), a 款 (5) and a 类 (3), in three reports.
    for length, report in ((7, 0), (5, 1), (3, 2)):
        rid = db.execute("select report_id from reports order by report_id limit 1 offset ?", [report]).fetchone()[0]
        db.execute("update amounts set amount = amount + 7 where rowid = (select rowid from amounts "
                   "where report_id = ? and table_no = 5 and length(code) = ? and amount > 0 limit 1)",
                   [rid, length])
    def same(rows):  # the sums as sorted rows, to 9 decimals (added in another order, a sum may differ in its last bit)
        return sorted((*r[:6], round(r[6], 9), *r[7:]) for r in rows)

    every = list(db.execute(hierarchy._SUMS_SQL.replace(f"create temp table {hierarchy._TEMP} as ", "")))
    assert same(hierarchy._streamed_sums(db, beyond=-1)) == same(every)
    streamed = hierarchy._streamed_sums(db)
    assert streamed is not None and same(streamed) == same(r for r in every if abs(r[9] - r[6]) > EPSILON)
    assert {r[0] for r in streamed} == {"款", "类", "total"}
    # Narrative-only reports disclose 项 without their 款: those sums go to the 类.
    assert len({r[0] for r in every}) == 3 and len(every) > len(streamed)

    def findings(database):
        return sorted((f.rule_id, f.report_id, f.row_ref, f.expected, f.stated, f.message_en)
                      for f in run_rules(database, select=lambda rule_id: rule_id.startswith("hierarchy.")))

    in_order = findings(db)
    assert {f[0] for f in in_order} == {"hierarchy.total", "hierarchy.class", "hierarchy.section"}
    # The same rows stored table by table (every report's rows apart): grouped, the same findings.
    db.execute("create table shuffled as select * from amounts")
    db.execute("delete from amounts")
    db.execute("insert into amounts select * from shuffled order by table_no, side, report_id, line_key, measure")
    assert hierarchy._streamed_sums(db) is None
    assert findings(db) == in_order


@pytest.mark.parametrize("indexed", [True, False])
def test_the_columns_a_table_holds_are_found_with_or_without_the_rules_index(tmp_path, indexed):
    # check_measures seeks each (table_no, measure, side) through the rules' index when there is one.
    import sqlite_utils

    from opendata.rules.measures import check_measures

    db = sqlite_utils.Database(tmp_path / "m.db")
    db["amounts"].insert_all([
        {"report_id": r, "table_no": t, "side": s, "line_no": n, "line_key": k, "item": k, "measure": m,
         "source_ref": f"{r} 表{t}"}
        for r, t, s, n, k, m in [("a", 1, "收入", 1, "总计", "决算数"), ("a", 5, "支出", 1, "201", "合计"),
                                 ("b", 5, "支出", 2, "201", "本年支出合计"), ("b", 1, "支出", 1, "总计", "决算")]])
    if indexed:
        db["amounts"].create_index(["table_no", "measure", "side", "report_id", "line_key"])
    found = [(f.report_id, f.row_ref) for f in check_measures(db)]
    assert found == [("b", "table_no=1, side=支出, line_key=总计, measure=决算"),
                     ("b", "table_no=5, side=支出, line_key=201, measure=本年支出合计")]


def test_a_rule_stopped_midway_raises_the_interrupt_not_a_locked_table(tmp_path, monkeypatch):
    """Ctrl-C while a rule read a TEMP table: the cleanup's DROP failed ("database table is locked")
    and that error replaced the interrupt: `build` exited 2 naming SQLite, `validate` pointed at TMPDIR."""
    from opendata.rules import Rule

    db = sqlite_utils.Database(tmp_path / "t.db")
    db["t"].insert_all({"x": i} for i in range(10))

    def interrupted(db):  # a rule's frame, its cursor halfway, kept by the traceback
        db.execute("create temp table shared as select x from t")
        cursor = db.execute("select x from temp.shared")
        cursor.fetchone()
        raise KeyboardInterrupt

    monkeypatch.setitem(REGISTRY, "test.interrupted", Rule("test.interrupted", "", "", ERROR, (), interrupted))
    with pytest.raises(KeyboardInterrupt):
        run_rules(db, select="test.interrupted".__eq__)
    monkeypatch.delitem(REGISTRY, "test.interrupted")
    run_rules(db, select=lambda _id: False)  # the next run drops what was left
    assert db.execute("select name from temp.sqlite_master").fetchall() == []


def test_a_title_year_in_full_width_digits_is_read(pkg):
    mutate(pkg, "reports", {"report_id": SEED}, "title", "２０２０ 年度株洲市芦淞区科技和工业信息化局部门决算")
    mutate(pkg, "reports", {"report_id": SEED}, "year", 2019)
    hits = [f for f in findings_of(pkg) if f.rule_id == "reports.title_year"]
    assert [h.report_id for h in hits] == [SEED] and "写的是 2020 年" in hits[0].message_zh
