"""What each statement topic (``statements.topic``, the narrative parser's stable English key:
``three_public.reception.budget``) means, in the template's Chinese words: 公务接待费（预算数）.

A topic is a subject (``narrative.SUBJECTS``, the 类/项 of ``gpb.class`` and ``gpb.item``, a
performance figure) and the measures after it (``.budget``, ``.change``, ``.share``...). Citizens
read the Chinese; the key stays in the data, the JSON and the CSV, for developers.
"""

from __future__ import annotations

#: Subjects, in the words the national template uses for them.
SUBJECT_NAMES: dict[str, str] = {
    "total": "收入支出总计",
    "fiscal.total": "财政拨款收入支出总计",
    "income.opening_balance": "年初结转和结余",
    "expenditure.closing_balance": "年末结转和结余",
    "income.total": "本年收入合计",
    "income.fiscal": "财政拨款收入",
    "income.gpb": "一般公共预算财政拨款收入",
    "income.fund": "政府性基金预算财政拨款收入",
    "income.state_capital": "国有资本经营预算财政拨款收入",
    "income.higher_subsidy": "上级补助收入",
    "income.business": "事业收入",
    "income.operating": "经营收入",
    "income.affiliated": "附属单位上缴收入",
    "income.other": "其他收入",
    "income.non_fiscal_balance_used": "使用非财政拨款结余",
    "expenditure.total": "本年支出合计",
    "expenditure.basic": "基本支出",
    "expenditure.project": "项目支出",
    "expenditure.operating": "经营支出",
    "expenditure.to_higher": "上缴上级支出",
    "expenditure.to_affiliated": "对附属单位补助支出",
    "gpb.expenditure": "一般公共预算财政拨款支出",
    "gpb.basic": "一般公共预算财政拨款基本支出",
    "gpb.basic.personnel": "人员经费",
    "gpb.basic.public": "公用经费",
    "gpb.class": "按类的一般公共预算财政拨款支出",
    "gpb.item": "按项的一般公共预算财政拨款支出",
    "fund.expenditure": "政府性基金预算财政拨款支出",
    "fund.item": "按项的政府性基金预算财政拨款支出",
    "soe.item": "按项的国有资本经营预算财政拨款支出",
    "three_public.total": "“三公”经费",
    "three_public.abroad": "因公出国（境）费",
    "three_public.vehicle": "公务用车购置及运行维护费",
    "three_public.vehicle_purchase": "公务用车购置费",
    "three_public.vehicle_operation": "公务用车运行维护费",
    "three_public.reception": "公务接待费",
    "three_public.reception.foreign": "外宾接待费",
    "three_public.vehicles": "公务用车保有量",
    "admin_costs": "机关运行经费",
    "general.meetings": "会议费",
    "general.training": "培训费",
    "procurement.total": "政府采购支出总额",
    "procurement.goods": "政府采购货物支出",
    "procurement.works": "政府采购工程支出",
    "procurement.services": "政府采购服务支出",
    "procurement.sme": "授予中小企业合同金额",
    "procurement.small_micro": "授予小微企业合同金额",
    "procurement.sme_reserved": "面向中小企业预留的政府采购项目预算金额",
    "procurement.small_micro_reserved": "面向小微企业预留的政府采购项目预算金额",
    "procurement.sme_reserved_awarded": "预留项目中由中小企业中标或成交",
    "procurement.small_micro_reserved_awarded": "预留项目中由小微企业中标或成交",
    "procurement.sme_other_awarded": "其他项目中由中小企业中标或成交",
    "procurement.other": "政府采购中的项目支出",
    "assets.vehicles": "车辆",
    "assets.vehicles.ministerial": "部级领导干部用车",
    "assets.vehicles.principal_leaders": "主要领导干部用车",
    "assets.vehicles.confidential": "机要通信用车",
    "assets.vehicles.emergency": "应急保障用车",
    "assets.vehicles.law_enforcement": "执法执勤用车",
    "assets.vehicles.special": "特种专业技术用车",
    "assets.vehicles.retirees": "离退休干部用车",
    "assets.vehicles.other": "其他用车",
    "assets.general_equipment": "通用设备",
    "assets.special_equipment": "专用设备",
    "assets.equipment": "不含车辆的设备",
    "staff.authorized": "编制人数",
    "staff.actual": "实有人数",
    "org.internal_units": "内设机构",
    "org.deputy_section_units": "副科级单位",
    "org.subordinate_units": "二级预算单位",
    "projects.budgeted_count": "年初预算专项资金",
    "projects.actual_count": "实际决算项目",
    "projects.unbudgeted_count": "未列入年初预算的项目",
    "projects.amount": "项目金额",
    "performance_mgmt.targets_set": "编报绩效目标的项目",
    "performance_mgmt.monitored": "绩效跟踪评价的项目",
    "performance_mgmt.self_evaluated": "绩效自评的项目",
    "performance_mgmt.average_score": "绩效自评平均得分",
    "performance_mgmt.rated_excellent": "绩效评级为优的项目",
    "performance_mgmt.rated_good": "绩效评级为良的项目",
    "performance_mgmt.rated_pass": "绩效评级为合格的项目",
    "performance_mgmt.rated_fail": "绩效评级为不合格的项目",
    "performance_mgmt.issues_found": "发现的问题",
    "performance_mgmt.issues_fixed": "已完成整改的问题",
    "performance_mgmt.issues_in_progress": "正在整改的问题",
    "performance.target": "绩效目标",
    "performance.result": "绩效结果",
    "performance.indicator": "绩效指标",
    "other": "其他数字",
}

#: Measures after a subject (``narrative._SUFFIX``, ``_count_suffix``, the thresholds and amounts).
MEASURE_NAMES: dict[str, str] = {
    "budget": "预算数", "change": "增减额", "growth_rate": "增减率", "share": "占比", "execution_rate": "预算完成率",
    "count": "数量", "rate": "比率", "groups": "团组数", "visitors": "来宾人次", "persons": "人次", "vehicles": "辆数",
    "batches": "批次", "projects": "项目数", "budget_amount": "预算金额", "threshold": "单价50万元以上",
}


def topic_name(topic: str | None) -> str | None:
    """``topic`` in Chinese (``three_public.reception.budget`` -> 公务接待费（预算数）), or None for a
    key whose words are not all known (the key is shown as it is)."""
    if not topic:
        return None
    parts = topic.split(".")
    for cut in range(len(parts), 0, -1):
        subject = SUBJECT_NAMES.get(".".join(parts[:cut]))
        if subject is None:
            continue
        measures = [MEASURE_NAMES.get(p) for p in parts[cut:]]
        if None in measures:
            return None
        return subject + (f"（{'、'.join(measures)}）" if measures else "")
    return None
