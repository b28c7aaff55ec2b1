"""How the site shows a cell's value: amounts in 万元 with thousands separators, rates with %, a
finding's rows as links. ``cell_renderer(table, column)`` gives the function that shows a column's
values (None for a column shown as Datasette shows it), chosen once per column: the
``render_cell`` hook (``plugin.py``) and a table page's cells (``cell_rendering.py``) call it."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

from datasette.utils import tilde_encode as datasette_tilde_encode
from markupsafe import Markup, escape

from ..ingest.topic_names import topic_name
from ..template import MEASURES
from .column_labels import column_label

#: A column's renderer: (value, row, database, datasette) -> the cell's HTML, or None for
#: Datasette's own rendering of that value.
Renderer = Callable[[Any, Any, str, Any], "Markup | None"]

#: Columns whose numbers are amounts in 万元: table columns, the views' measures, canned-query headings.
MONEY_COLUMNS = {
    "amount", "initial_budget", "final_amount", "expected", "stated", "difference", "tolerance",
    *(m for sides in MEASURES.values() for side in sides.values() for m in side),
    "支出合计", "一般公共预算财政拨款支出", "收入决算数", "支出决算数", "决算数合计", "三公经费预算数", "三公经费决算数",
    "上年决算数", "本年决算数", "增减额", "公务用车购置及运行维护费小计", "公务用车购置及运行维护费", "公务用车购置费",
    "公务用车运行维护费", "公务接待费", "因公出国（境）费", "预算数", "本年数", "上年数",
    "current_value", "change_value", "implied_last_year", "implied_tolerance", "last_year_value",
    "total_expenditure", "gpb_expenditure", "gpb_initial_budget", "gpb_basic", "gpb_project",
    "three_public_budget", "three_public_final", "last_year_amount", "change_amount", "财政拨款基本支出",
    "财政拨款项目支出",
}
#: Columns whose numbers are percentages.
PERCENT_COLUMNS = {"execution_rate_pct", "growth_rate", "share_pct", "change_pct", "执行率（%）", "占比", "占比（%）",
                   "增减率（%）"}


def format_amount(value: float, grouped: bool = True) -> str:
    """2540.24 -> '2,540.24' (``grouped``; else '2540.24'); a figure stated with more decimals keeps
    them (64.0637)."""
    comma = "," if grouped else ""
    return f"{value:{comma}.2f}" if round(value, 2) == value else f"{value:{comma}}"


def figure_text(value: float, unit: Any, sentence: Any, grouped: bool = True) -> str:
    """A narrative figure as its report writes it, in its own unit: a percentage with the digits its
    sentence prints (-2.10), 万元 to the hundredth, a count whole (4706 家, not 4706.0)."""
    if unit == "%":
        return printed_percent(value, sentence) or f"{value:g}"
    if unit == "万元":
        return format_amount(value, grouped)
    if float(value).is_integer():
        return f"{value:,.0f}" if grouped else f"{value:.0f}"
    return f"{value:,}" if grouped else str(value)


_PAIR = re.compile(r"(\w+)=([^\s,()]+)")


def rows_links(datasette, database: str, resource: str, report_id: str | None, row_ref: str) -> Markup:
    """A finding's row_ref as links to the rows it names: the rows concerned, one click away, each
    named in Chinese by its table's title and its columns' labels (``决算表数据（万元）：表号 4，
    收入或支出 收入，行标识 总计，栏目 决算数``).

    ``statement_no=14 -> amounts table_no=4 side=收入 line_key=总计 measure=决算数`` links the
    statement and the amounts row; ``(from statement_no=21, 20)`` links the figures a ratio uses.
    """
    parts = []
    main, _, target = row_ref.partition(" -> ")
    main, _, sources = main.partition(" (from ")
    segments = [(resource, main)]
    if target:
        name, _, rest = target.partition(" ")
        segments.append((name, rest))
    for name, text in segments:
        values: dict[str, list[str]] = {}
        for k, v in _PAIR.findall(text):  # a key named twice (statement_no=22 vs statement_no=21): both rows
            if k != "topic" and v not in values.setdefault(k, []):
                values[k].append(v)
        params = {"report_id": report_id} if report_id else {}
        params.update((k, vs[0]) if len(vs) == 1 else (f"{k}__in", ",".join(vs)) for k, vs in values.items())
        url = datasette.urls.table(database, name) + "?" + urlencode(params)
        title, columns = table_words(datasette, database, name)
        words = "，".join(f"{column_label(k, columns)} {'、'.join(vs)}" for k, vs in values.items())
        parts.append(f'<a href="{escape(url)}" title="{escape(name)}: {escape(text.strip())}">'
                     f'{escape(title)}：{escape(words)}</a>')
    if sources:
        numbers = re.findall(r"\d+", sources)
        params = {"report_id": report_id, "statement_no__in": ",".join(numbers)} if report_id else {}
        url = datasette.urls.table(database, "statements") + "?" + urlencode(params)
        title, columns = table_words(datasette, database, "statements")
        parts.append(f'<a href="{escape(url)}">依据 {escape(title)}：{escape(column_label("statement_no", columns))} '
                     f'{escape("、".join(numbers))}</a>')
    return Markup("<br>".join(parts))


def table_words(datasette: Any, database: str, table: str) -> tuple[str, dict[str, str]]:
    """A table's title and its columns' descriptions in the site's metadata (its name and none
    where the metadata has none)."""
    meta = datasette.table_metadata(database, table) or {}
    columns = meta.get("columns")
    return meta.get("title") or table, columns if isinstance(columns, dict) else {}


#: The filter naming a search document's record in its table, by the document's kind (``search_index``).
_RECORD_KEYS = {"reports": "report_id", "amounts": "line_key", "statements": "statement_no", "projects": "project_no",
                "report_units": "unit_no", "classification": "code"}
#: The column of the ``search`` query holding each hit's record (``record_url``), shown as a link.
RECORD_COLUMN = "查看"


def record_url(kind: str | None, report_id: str | None, ref: Any, title: Any = None) -> str | None:
    """SQL function ``record_url(kind, report_id, ref[, title])``: the address, relative to the
    database's, of the rows a search document stands for (a line item's figures in every table, a
    sentence, a project...): ``amounts?report_id=...&line_key=行政运行&item=行政运行``. A line
    item's document is its line key and item: many tables' total lines share the key 合计 (the
    link without the item opened all 13 of a report's 合计 rows for its “三公”经费 hit)."""
    key = _RECORD_KEYS.get(kind or "")
    if key is None or ref is None:
        return None
    params = {"report_id": report_id} if report_id and kind != "classification" else {}
    params[key] = str(ref)
    if kind == "amounts" and title is not None:
        params["item"] = str(title)
    return f"{kind}?{urlencode(params)}"


def _record_link(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    if not isinstance(value, str) or "?" not in value or value.split("?", 1)[0] not in _RECORD_KEYS:
        return None
    table, query = value.split("?", 1)
    if table == "reports" and (report := parse_qs(query).get("report_id")):
        # A report's hit opens the report's page (its charts and nine tables), not a one-row table.
        return Markup(f'<a href="{escape(datasette.urls.row(database, "reports", datasette_tilde_encode(report[0])))}">查看</a>')
    return Markup(f'<a href="{escape(datasette.urls.table(database, table) + "?" + query)}">查看</a>')


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _percent(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A percentage to two decimals at most, as reports print them (-1.87, not -1.9 beside the
    report's own -1.87%)."""
    return Markup(f'<span class="num">{round(value, 2):g}</span><span class="unit">%</span>') if _number(value) else None


def _money(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    if not _number(value):
        return None
    return Markup(f'<span class="num">{format_amount(value)}</span><span class="unit">万元</span>')


#: Money a view computes (a last year's figure implied by a stated change: 18,173.745174), not
#: printed: shown to 0.01 万元 as the reports print theirs, the whole value in the tooltip.
COMPUTED_MONEY_COLUMNS = frozenset({"implied_last_year", "implied_tolerance"})


def _computed_money(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    if not _number(value):
        return None
    return Markup(f'<span class="num" title="{value}">{value:,.2f}</span><span class="unit">万元</span>')


#: Columns holding a report's id in views and queries, where no foreign key labels it.
REPORT_ID_COLUMNS = frozenset({"report_id", "last_year_report_id"})


def _report_link(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A report's id (a key for machines) as a link to the report's page, the id its tooltip; a
    foreign key's (a label and a value) is left to Datasette."""
    if not isinstance(value, str) or not value:
        return None
    url = datasette.urls.row(database, "reports", datasette_tilde_encode(value))
    return Markup(f'<a href="{escape(url)}" title="{escape(value)}">查看报告</a>')


#: Columns holding where a figure comes from (``source_ref``, and the standard tables' 出处).
SOURCE_COLUMNS = frozenset({"source_ref", "出处", "收入出处", "支出出处"})
_PAGE = re.compile(r"\s*\(p\.(\d+)\)")


def page_in_chinese(value: Any) -> str | None:
    """A figure's source with its page in Chinese (表5 第20行（第15页）) where the data writes it
    ``(p.15)``; None for any other value."""
    if not isinstance(value, str) or not _PAGE.search(value):
        return None
    return _PAGE.sub(r"（第\1页）", value)


def _source(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A figure's source with its page in Chinese (``page_in_chinese``), as the data writes it
    (``(p.15)``) in the tooltip and the JSON."""
    shown = page_in_chinese(value)
    return None if shown is None else Markup(f'<span title="{escape(value)}">{escape(shown)}</span>')


def _topic(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A statement's topic in Chinese (公务接待费（预算数）), its key (three_public.reception.budget)
    in the tooltip: the page showed the keys, English words to citizens."""
    name = topic_name(value) if isinstance(value, str) else None
    return None if name is None else Markup(f'<span title="{escape(value)}">{escape(name)}</span>')


_PERCENT_AS_PRINTED = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")


def printed_percent(value: float, sentence: Any) -> str | None:
    """A narrative's percentage as its ``sentence`` prints it, signed as the data holds it (下降2.10%
    is -2.10, not -2.1): the first percentage of the sentence equal to the value's size; None when
    none is (the sentence not given, or written otherwise)."""
    if not isinstance(sentence, str) or not _number(value):
        return None
    for digits in _PERCENT_AS_PRINTED.findall(unicodedata.normalize("NFKC", sentence)):
        if float(digits) == abs(value):
            return ("-" if value < 0 else "") + digits
    return None


def _statement_value(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A narrative figure in its own unit: % or 万元; others (个, 辆, 人) with their unit, a whole
    count as one (4 个, not 4.0)."""
    if not _number(value):
        return None
    unit = _get(row, "unit")
    shown = figure_text(value, unit, _get(row, "sentence"))
    return Markup(f'<span class="num">{shown}</span>' + (f'<span class="unit">{escape(unit)}</span>' if unit else ""))


#: Rules whose findings compare percentages (stated against recomputed), not amounts in 万元.
PERCENT_RULES = frozenset(("ratio.share", "ratio.execution_rate", "ratio.growth_rate", "yoy.growth_rate"))
#: A finding's figures: in 万元, or in % for PERCENT_RULES.
FINDING_FIGURES = frozenset(("expected", "stated", "difference", "tolerance"))


def _finding_figure(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A finding's figure in its unit: % (two decimals, as the rules compare them) for a rule on
    percentages, else 万元."""
    if not _number(value):
        return None
    if _plain(row, "rule_id") in PERCENT_RULES:
        return Markup(f'<span class="num">{value:.2f}</span><span class="unit">%</span>')
    return _money(value, row, database, datasette)


def _row_ref(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    if not isinstance(value, str):
        return None
    report_id = _plain(row, "report_id")
    return rows_links(datasette, database, _get(row, "resource") or "amounts", report_id, value)


#: A finding's (or a rule's) severity, in Chinese.
SEVERITY_ZH = {"error": "错误", "warning": "提示"}
_CERTAINTY_ZH = {"stated": "表中印有", "high": "由名称推定（高）", "medium": "由名称推定（中）"}
_STATEMENT_KINDS = {"amount": "金额", "share": "占比", "change": "增减额", "growth_rate": "增减率",
                    "execution_rate": "预算完成率", "count": "数量", "target": "目标", "result": "结果"}
#: Columns whose values are codes (the data's and the API's), shown to citizens in Chinese, as
#: metadata.yml's column descriptions say them (the code stays in the cell's tooltip and the URLs).
CODED_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("report_tables", "status"): {"attached": "已附", "empty": "空表", "not_read": "含此表未读取",
                                     "not_attached": "未附"},
    ("amounts", "source_kind"): {"table": "附表", "narrative": "情况说明原文"},
    ("amounts", "code_certainty"): _CERTAINTY_ZH,
    ("classification", "certainty"): _CERTAINTY_ZH,
    ("statements", "kind"): _STATEMENT_KINDS,
    ("implied_last_year", "kind"): _STATEMENT_KINDS,
    ("search_index", "kind"): {"reports": "报告", "amounts": "决算表行", "statements": "情况说明", "projects": "项目",
                               "report_units": "机构", "classification": "科目"},
    ("findings", "severity"): SEVERITY_ZH,
    ("rules", "severity"): SEVERITY_ZH,
    # the data's value when the publisher states no terms (a report's row page showed "not stated")
    ("reports", "license"): {"not stated": "发布单位未声明"},
}


#: Boolean columns (SQLite's 1 and 0), shown as 是/否.
BOOLEAN_COLUMNS = frozenset({("reports", "tables_attached"), ("projects", "in_initial_budget")})
_YES_NO = {1: "是", 0: "否"}


def _yes_no(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    if value.__class__ is not int or value not in _YES_NO:
        return None
    return Markup(f'<span title="{value}">{_YES_NO[value]}</span>')


def _coded(table: str, column: str) -> Renderer:
    names = CODED_VALUES[(table, column)]

    def show(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
        if not isinstance(value, str) or value not in names:
            return None
        return Markup(f'<span title="{escape(value)}">{escape(names[value])}</span>')
    return show


def _severity(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    if not isinstance(value, str) or value not in SEVERITY_ZH:
        return None
    return Markup(f'<span class="sev-{value}" title="{value}">{SEVERITY_ZH[value]}</span>')


def _resource(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A table's name (a finding's ``resource``) as its title, linked to the table."""
    if not isinstance(value, str) or not value:
        return None
    title, _ = table_words(datasette, database, value)
    return Markup(f'<a href="{escape(datasette.urls.table(database, value))}" title="{escape(value)}">'
                  f'{escape(title)}</a>')


def _fields(value: Any, row: Any, database: str, datasette: Any) -> Markup | None:
    """A finding's fields (``value, amount``) by their labels in the tables concerned (数值、金额)."""
    if not isinstance(value, str) or not value:
        return None
    tables = [_get(row, "resource") or "", "amounts", "statements", "projects"]
    described = [table_words(datasette, database, t)[1] for t in tables]
    labels = []
    for name in (part.strip() for part in value.split(",")):
        columns = next((c for c in described if name in c), {})
        labels.append(column_label(name, columns))
    return Markup(f'<span title="{escape(value)}">{escape("、".join(labels))}</span>')


def value_label(value: Any, table: str | None, column: str | None) -> Any:
    """A facet value as a page shows it: a coded value in Chinese (错误, 已附, 附表...), a boolean as
    是/否, anything else as it is."""
    if isinstance(value, str) and (table, column) in CODED_VALUES:
        return CODED_VALUES[(table, column)].get(value, value)
    if (table, column) in BOOLEAN_COLUMNS and value.__class__ is int:
        return _YES_NO.get(value, value)
    return value


@functools.lru_cache(maxsize=4096)
def cell_renderer(table: str, column: str) -> Renderer | None:
    """The function showing ``column``'s values in ``table`` (any name a page or query gives: at
    most 4,096 kept), or None where Datasette's rendering stands."""
    if table == "findings" and column == "row_ref":
        return _row_ref
    if table in ("findings", "rules") and column == "severity":
        return _severity
    if table == "findings" and column == "resource":
        return _resource
    if table == "findings" and column == "fields":
        return _fields
    if (table, column) in CODED_VALUES:
        return _coded(table, column)
    if column == "使用条款":  # a query's name for reports.license (report_overview)
        return _coded("reports", "license")
    if (table, column) in BOOLEAN_COLUMNS:
        return _yes_no
    if column == RECORD_COLUMN:
        return _record_link
    if table == "findings" and column in FINDING_FIGURES:
        return _finding_figure
    if column in PERCENT_COLUMNS:
        return _percent
    if column in COMPUTED_MONEY_COLUMNS:
        return _computed_money
    if column in REPORT_ID_COLUMNS and table != "reports":  # the reports' own key names the row
        return _report_link
    if table == "statements" and column == "value":
        return _statement_value
    if column == "topic" or (table == "implied_last_year" and column == "stem"):  # stem: the topic compared with
        return _topic
    if column in SOURCE_COLUMNS:
        return _source
    if column in MONEY_COLUMNS and not (table == "standard_tables" or column == "table_no"):
        return _money
    return None


def _plain(row: Any, key: str) -> Any:
    """``row[key]``, the value itself where it is a label-expanded foreign key ({value, label})."""
    value = _get(row, key)
    return value.get("value") if isinstance(value, dict) else value


def _get(row: Any, key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return None
