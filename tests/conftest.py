"""Shared fixtures.

`site_package` / `site_db`: the data package the site tests serve, and its SQLite build (built once
per session). When the shipped package in `datapackage/` holds reports, it is used as it is; while it
is still empty, a copy is filled with figures of the seed report (株洲市芦淞区科技和工业信息化局
2020 决算, ../shared/seeds/000_a04efb588eb58bab.txt), so the site tests always run against the
same numbers that report states.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PACKAGE = ROOT / "datapackage"
METADATA = ROOT / "metadata.yml"

SEED_REPORT = "lusong-kjgxj-2020-final"
_REF = "第三部分 五（三）"

#: Figures of the seed report, as the importer writes them (test fallback only).
SEED_ROWS: dict[str, list[dict]] = {
    "departments": [
        {"department_id": "lusong-kjgxj", "name": "株洲市芦淞区科技和工业信息化局", "province": "湖南省",
         "city": "株洲市", "county": "芦淞区", "source_ref": "第一部分"},
    ],
    "reports": [
        {"report_id": SEED_REPORT, "department_id": "lusong-kjgxj", "year": 2020, "kind": "决算",
         "title": "株洲市芦淞区科技和工业信息化局2020年度部门决算", "unit": "万元",
         "source_file": "000_a04efb588eb58bab.txt", "source_sha256": "", "source_url": "",
         "tables_attached": "false", "license": "not stated", "notes": "附表未随文本提供"},
    ],
    "report_tables": [
        {"report_id": SEED_REPORT, "table_no": n, "status": "empty" if n in (8, 9) else "not_attached",
         "title_as_printed": "", "statement": "本单位没有政府性基金收入" if n == 8 else "",
         "source_page": "", "source_ref": "第二部分"} for n in range(1, 10)
    ],
    "classification": [
        {"classification_id": f"{code}@2020", "code": code, "edition": "2020", "scheme": "支出功能分类",
         "level": {3: "类", 5: "款", 7: "项"}[len(code)], "name": name,
         "parent_id": f"{code[:-2]}@2020" if len(code) > 3 else "", "certainty": "high", "source": _REF}
        for code, name in [
            ("201", "一般公共服务支出"), ("20103", "政府办公厅（室）及相关机构事务"), ("2010301", "行政运行"),
            ("206", "科学技术支出"), ("20601", "科学技术管理事务"), ("2060101", "行政运行"),
            ("2060199", "其他科学技术管理事务支出"), ("208", "社会保障和就业支出"), ("212", "城乡社区支出"),
            ("215", "资源勘探工业信息等支出"), ("224", "灾害防治及应急管理支出"),
        ]
    ],
}


def _amount(table_no, side, line_no, line_key, measure, amount, item=None, code="", explanation=""):
    return {"report_id": SEED_REPORT, "table_no": table_no, "side": side, "line_no": line_no,
            "line_key": line_key, "classification_id": f"{code}@2020" if code else "", "code": code,
            "item": item or line_key, "measure": measure, "amount": amount,
            "code_certainty": "high" if code else "", "explanation": explanation,
            "source_kind": "narrative", "source_page": "", "source_ref": _REF}


_WHY_LESS = "决算数小于年初预算数的主要原因是：一是指标进行调整；二是受新冠肺炎疫情影响，压缩费用。"
_WHY_MORE = "决算数大于年初预算数的主要原因是：一是指标进行调整；二是因日常工作需要追加了部分预算。"

SEED_ROWS["amounts"] = [
    _amount(1, "收入", 1, "本年收入合计", "决算数", 2540.24),
    _amount(1, "收入", 2, "年初结转和结余", "决算数", 1.32),
    _amount(1, "收入", 3, "总计", "决算数", 2541.56),
    _amount(1, "支出", 1, "本年支出合计", "决算数", 2540.24),
    _amount(3, "支出", 0, "合计", "本年支出合计", 2540.24),
    _amount(3, "支出", 0, "合计", "基本支出", 171.68),
    _amount(3, "支出", 0, "合计", "项目支出", 2368.56),
    _amount(5, "支出", 0, "合计", "年初预算数", 643.62),
    _amount(5, "支出", 0, "合计", "合计", 2540.24),
    _amount(5, "支出", 0, "合计", "基本支出", 171.68),
    _amount(5, "支出", 0, "合计", "项目支出", 2368.56),
    _amount(5, "支出", 1, "201", "合计", 164.55, "一般公共服务支出", "201"),
    _amount(5, "支出", 2, "2010301", "年初预算数", 0, "行政运行", "2010301"),
    _amount(5, "支出", 2, "2010301", "合计", 157.25, "行政运行", "2010301", _WHY_MORE),
    _amount(5, "支出", 3, "206", "合计", 1980.21, "科学技术支出", "206"),
    _amount(5, "支出", 4, "2060101", "年初预算数", 305.62, "行政运行", "2060101"),
    _amount(5, "支出", 4, "2060101", "合计", 12.05, "行政运行", "2060101", _WHY_LESS),
    _amount(5, "支出", 5, "2060199", "年初预算数", 338, "其他科学技术管理事务支出", "2060199"),
    _amount(5, "支出", 5, "2060199", "合计", 115, "其他科学技术管理事务支出", "2060199", _WHY_LESS),
    _amount(5, "支出", 6, "208", "合计", 2.35, "社会保障和就业支出", "208"),
    _amount(5, "支出", 7, "212", "合计", 123.26, "城乡社区支出", "212"),
    _amount(5, "支出", 8, "215", "合计", 269.75, "资源勘探工业信息等支出", "215"),
    _amount(5, "支出", 9, "224", "合计", 0.12, "灾害防治及应急管理支出", "224"),
    _amount(7, "支出", 1, "合计", "预算数", 0.5),
    _amount(7, "支出", 1, "合计", "决算数", 0.12),
    _amount(7, "支出", 2, "因公出国（境）费", "预算数", 0),
    _amount(7, "支出", 2, "因公出国（境）费", "决算数", 0),
    _amount(7, "支出", 3, "公务用车购置及运行维护费", "预算数", 0),
    _amount(7, "支出", 3, "公务用车购置及运行维护费", "决算数", 0),
    _amount(7, "支出", 6, "公务接待费", "预算数", 0.5),
    _amount(7, "支出", 6, "公务接待费", "决算数", 0.12),
]


def _statement(no, section, topic, label, value, unit, kind, period, sentence):
    return {"report_id": SEED_REPORT, "statement_no": no, "section": section, "topic": topic, "label": label,
            "value": value, "unit": unit, "kind": kind, "period": period, "table_no": "", "line_key": "",
            "measure": "", "sentence": sentence, "source_page": "", "source_ref": section}


_S1 = ("2020年度收、支总计2541.56万元（收入总计含年初结转和结余1.32万元，支出总计含和年末结转和结余1.32万元）。"
       "与上年相比，增加633.83万元，增长33.2%，主要是因为本年项目收支增加。")
_S7 = ("公务接待费支出预算为0.5万元，支出决算为0.12万元，完成预算的24.0%，与上年相比减少0.37万元，减少75.3%，"
       "减少的主要原因是根据中央八项规定，厉行节约。")
SEED_ROWS["statements"] = [
    _statement(1, "第三部分 一", "total.total", "收、支总计", 2541.56, "万元", "amount", "本年", _S1),
    _statement(2, "第三部分 一", "total.change", "收、支总计比上年增加", 633.83, "万元", "change", "上年", _S1),
    _statement(3, "第三部分 一", "total.growth_rate", "收、支总计比上年增长", 33.2, "%", "growth_rate", "上年", _S1),
    _statement(4, "第三部分 七（一）", "three_public.reception.change", "公务接待费比上年减少", -0.37, "万元",
               "change", "上年", _S7),
]
SEED_ROWS["projects"] = [
    {"report_id": SEED_REPORT, "project_no": 1, "name": "自主创新区域经济高质量发展专项", "amount": 115,
     "in_initial_budget": "true", "source_page": "", "source_ref": "第五部分 二（二）"},
    {"report_id": SEED_REPORT, "project_no": 2, "name": "推进新型工业化工作专项资金", "amount": 11.48,
     "in_initial_budget": "true", "source_page": "", "source_ref": "第五部分 二（二）"},
]


def _has_reports(package_dir: Path) -> bool:
    with open(package_dir / "data" / "reports.csv", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) > 1


def _append_rows(package_dir: Path, rows: dict[str, list[dict]]) -> None:
    for name, new_rows in rows.items():
        path = package_dir / "data" / f"{name}.csv"
        with open(path, encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        with open(path, "a", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
            for row in new_rows:
                writer.writerow({k: row.get(k, "") for k in header})


@pytest.fixture(scope="session")
def site_package(tmp_path_factory) -> Path:
    """The package the site serves: the shipped one when it has reports, else a copy with the seed report."""
    if _has_reports(SHIPPED_PACKAGE):
        return SHIPPED_PACKAGE
    target = tmp_path_factory.mktemp("site") / "datapackage"
    shutil.copytree(SHIPPED_PACKAGE, target)
    _append_rows(target, SEED_ROWS)
    return target


@pytest.fixture(scope="session")
def site_db(site_package, tmp_path_factory) -> Path:
    """The site package built into SQLite once per session."""
    from opendata.build import build

    path = tmp_path_factory.mktemp("sitedb") / "opendata.db"
    build(site_package, path)
    return path


@pytest.fixture(scope="session")
def seed_report(site_db) -> str:
    """The report of 株洲市芦淞区科技和工业信息化局 for 2020 (whatever id the importer gave it)."""
    import sqlite3

    with sqlite3.connect(site_db) as conn:
        row = conn.execute("select r.report_id from reports r join departments d using (department_id) "
                           "where d.name like '%芦淞区科技和工业信息化局%' and r.year = 2020").fetchone()
    assert row, "the seed report is missing from the site package"
    return row[0]
