"""Datasette plugin hooks of opendata (registered through the `datasette` entry point).

- SQL functions for metadata.yml's queries (``site/sql_functions.py``): ``zh_query(q)``, a Chinese
  query as an FTS5 MATCH expression (bigrams); ``record_url(kind, report_id, ref[, title])``, the
  rows a search hit stands for, shown as a 查看 link; ``line_source``, where a table's line comes from.
- ``?_zh=科技`` on the ``search_index`` table (and its search box) searches Chinese with bigrams.
- Amounts are shown with their unit (万元) and thousands separators, rates with %.
- JSON keeps Chinese characters as they are (no ``\\uXXXX``: Datasette's renderer given a UTF-8
  encoder, ``site/json_output.py``; any other JSON response rewritten); CSV starts with a UTF-8
  BOM so that Excel on a Chinese Windows opens it without mojibake.
- The site's stylesheet on every page.
- Default facets of an unfiltered table page read from the counts the build stored
  (``_facet_counts``; see ``site/facets.py``) instead of a GROUP BY over the whole table.
- The schema of an immutable database read once, not on every request (``site/immutable_cache.py``),
  and the row count of a facet value's page read from the build's counts (``site/facets.py``).
- A table page's rows written by one Python loop (the ``table_rows`` filter of ``_table.html``).
- Errors (a 404, a query cut off) answered without Datasette's rich traceback of each (``quiet_errors``),
  and parameters Datasette cannot use answered as the client's error, 400 (``site/client_errors.py``;
  a malformed ``_next``: ``site/page_tokens.py``).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from datasette import handle_exception as datasette_errors
from asgi_gzip import GZipMiddleware
from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import BadRequest, Response
from datasette.facets import ColumnFacet
from datasette.filters import FilterArguments
from datasette.utils import tilde_encode, to_css_class
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..errors import OpenDataError
from ..package import DESCRIPTOR, load_package
from ..zh_search import figure_of, in_order_pattern, query_terms
from . import cell_values, client_errors, json_output, page_tokens, query_args, request_guard, sorted_pages, zh_csv
from .cell_values import cell_renderer, value_label
from .client_gone import ClientGone, headers_only, is_streamed, until_client_leaves
from .column_labels import column_label, labelled_description
from .filter_checks import SEARCH_TABLE, filter_problem
from .facets import CachedColumnFacet, is_facet_parameter, stored_counts
from .json_output import JSON_STATE, render_json, utf8_json_renderer
from .next_page_facets import on_first_page
from .result_limits import MAX_PATTERN_BYTES, limit_results
from .sql_executor import CLIENT
from .sql_functions import site_functions
from .sql_guard import guard_functions
from .immutable_cache import cache_labels, cache_schemas, cache_table_permissions

ASSETS_URL = "/-/opendata/"
SEARCH_TEXTS = "search_texts"  # its distinct texts, with the FTS5 index
BOM = "\ufeff".encode()
#: Where the data package's files are served (``app.make_app``), byte for byte.
PACKAGE_PREFIX = "/datapackage/"
#: What the data package's folder answers for a folder or a file it does not have, in Chinese.
PACKAGE_ERRORS = {403: "403：不提供目录列表，请打开具体文件，例如 datapackage.json（Directory listing is not allowed）\n",
                  404: "404：数据包中没有这个文件，文件列表见 datapackage.json（File not found）\n"}
#: Files served as they are (the data package's CSVs stay byte-identical to the package).
STATIC_PREFIXES = (PACKAGE_PREFIX, "/-/")


@hookimpl
def prepare_connection(conn) -> None:
    """The SQL functions of metadata.yml's queries (``site/sql_functions.py``), the bounds of a
    query's result (``site/result_limits.py``) and the functions no query may call
    (``site/sql_guard.py``)."""
    site_functions(conn)
    limit_results(conn)
    guard_functions(conn)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Money with its unit (万元), rates with %; other cells as Datasette shows them."""
    renderer = cell_renderer(table, column)
    return None if renderer is None else renderer(value, row, database, datasette)


#: What a page says of its data's terms and source (``_description_source_license.html``).
TERMS_KEYS = ("license", "license_url", "source", "source_url")


@hookimpl
def extra_template_vars(table, request, database, datasette, view_name):
    """``zh_search``: on search_index's page, the words its search box searched (``_zh``, "" before
    any); None elsewhere. The box is the bigram search's (``filters_from_request``): the table has
    no FTS index of its own for Datasette to find (the index is over its texts, ``search_texts``).
    ``terms()``: the licence and source metadata.yml gives the database (or the whole site), which a
    query's page shows too (Datasette gives it its query's metadata only). ``table_words(name)``:
    another table's title and column descriptions (a row page names the tables pointing at it)."""
    def terms() -> dict[str, Any]:  # called by the template only where the page's metadata has none
        return {key: datasette.metadata(key, database=database, fallback=True) for key in TERMS_KEYS} \
            if database else {}

    def table_words(name: str) -> tuple[str, dict[str, str]]:
        return cell_values.table_words(datasette, database, name)

    def database_title(name: str | None) -> str | None:  # the breadcrumbs' name of the database
        return datasette.metadata("title", database=name) if name else None

    found: dict[str, Any] = {"terms": terms, "table_words": table_words, "database_title": database_title,
                             "row_title": row_title,
                             "package_downloads": lambda: package_downloads(datasette),
                             # (the landing page, of no database, names the one it lists)
                             "report_choice": lambda report_id, db=None: report_choice(datasette, db or database,
                                                                                       report_id),
                             "report_table_note": lambda query, report_id: report_table_note(
                                 datasette, database, query, report_id),
                             "report_pages": lambda report_id: report_pages(datasette, database, report_id),
                             "table_figures": lambda figure: table_figures(datasette, database, figure)}
    if view_name == "row" and database and table:
        found["foreign_key_link"] = lambda column, value: foreign_key_link(datasette, database, table, column, value)
    if table != SEARCH_TABLE or request is None:
        return {"zh_search": None, **found}
    return {"zh_search": request.args.get("_zh", ""), **found}


_ROW_TITLE_FIELD = re.compile(r"\{(\w+)\}")


def row_title(pattern: str, row: dict[str, Any]) -> str:
    """A row page's name from metadata.yml's ``row_title`` (``表{table_no} {item}（{measure}）``):
    each ``{column}`` its value (nothing where it has none; no other formatting is read)."""
    return _ROW_TITLE_FIELD.sub(lambda m: "" if row.get(m.group(1)) is None else str(row[m.group(1)]), pattern).strip()


#: How many of the tables' figures of one amount a search counts (a scan of amounts: ~0.1 s at 10^6 rows).
FIGURES_COUNTED = 1000


async def table_figures(datasette: Any, database: str | None, figure: str) -> int:
    """How many of the tables' figures (amounts) are ``figure`` (at most FIGURES_COUNTED): a search
    for a figure links to them only when there are some (it linked to 共 0 行)."""
    if not database:
        return 0
    try:
        rows = (await datasette.get_database(database).execute(
            "select count(*) from (select 1 from amounts where amount = ? limit ?)",
            [float(figure), FIGURES_COUNTED])).rows
    except (QueryInterrupted, sqlite3.Error):  # the search answered: the link is left out, not the page
        return 0
    return rows[0][0]


def report_pages(datasette: Any, database: str | None, report_id: str | None) -> list[tuple[str, str, str | None]]:
    """The pages of one report: its overview and charts (the landing page), then each named query of
    one report (its standard tables 表1-表9, ...), as (title, URL, query name); a citizen reached
    them only by typing the report's id into a query's box."""
    if not database or not report_id:
        return []
    arg = urlencode({"report_id": report_id})
    pages: list[tuple[str, str, str | None]] = [
        ("报告概况与图表", datasette.urls.instance() + "?" + urlencode({"report": report_id}), None)]
    for name, query in (datasette.metadata("queries", database=database) or {}).items():
        if isinstance(query, dict) and query.get("params") == ["report_id"]:
            title = re.sub(r"（万元）$", "", query.get("title") or name)
            pages.append((title, f"{datasette.urls.query(database, name)}?{arg}", name))
    return pages


#: How many reports a query page of one report lists to choose from when none is given.
CHOICE_LIMIT = 30


async def report_choice(datasette: Any, database: str | None, report_id: str | None) -> dict[str, Any] | None:
    """For a named query of one report (``report_id``): the report's title and page, and its
    department's other reports (to open the same table of another year), or, with no report given, the latest reports to choose from (a standard table's page without one said
    没有结果, and named none: a citizen did not know what to type in the box)."""
    if not database:
        return None
    db = datasette.get_database(database)
    reports_url = datasette.urls.table(database, "reports")
    if report_id:
        rows = (await db.execute("select title, department_id from reports where report_id = ?", [report_id])).rows
        if not rows:
            return await _reports_titled(db, report_id, reports_url)
        # The department's other reports (its other years, its 预算 beside its 决算): the same table of those.
        others = (await db.execute(
            "select report_id, year, kind from reports where department_id = ? and report_id <> ? "
            "order by year desc, kind, report_id limit ?", [rows[0][1], report_id, CHOICE_LIMIT])).rows
        return {"title": rows[0][0], "url": datasette.urls.row(database, "reports", tilde_encode(report_id)),
                "others": [(rid, f"{year}年度{kind}") for rid, year, kind in others]}
    rows = (await db.execute("select report_id, title from reports order by year desc, report_id limit ?",
                             [CHOICE_LIMIT + 1])).rows
    return {"choices": [(rid, title) for rid, title in rows[:CHOICE_LIMIT]], "more": len(rows) > CHOICE_LIMIT,
            "reports_url": reports_url}


async def _reports_titled(db: Any, typed: str, reports_url: str) -> dict[str, Any] | None:
    """The reports whose title (or id) holds every term of ``typed`` as the search reads them
    (普陀2024, 普陀 ２０２４, shanghai), else whose title holds its characters in order (芦淞科技局),
    the latest first, to choose from where no report has that id: a citizen typed a department's
    name into the report's box and read 没有结果. None when no report matches."""
    words = query_terms(typed)[:5]
    if not words:
        return None
    terms = " and ".join(["(instr(title, ?) > 0 or instr(report_id, lower(?)) > 0)"] * len(words))
    order = " order by year desc, report_id limit ?"
    rows = (await db.execute(f"select report_id, title from reports where {terms}{order}",
                             [w for w in words for _ in (1, 2)] + [CHOICE_LIMIT + 1])).rows
    if not rows and (pattern := in_order_pattern(typed)):
        rows = (await db.execute(f"select report_id, title from reports where title like ?{order}",
                                 [pattern, CHOICE_LIMIT + 1])).rows
    if not rows:
        return None
    return {"choices": [(rid, title) for rid, title in rows[:CHOICE_LIMIT]], "more": len(rows) > CHOICE_LIMIT,
            "reports_url": reports_url, "typed": typed}


#: A standard table's named query (report_table1 ... report_table9).
_REPORT_TABLE_QUERY = re.compile(r"report_table([1-9])")
#: What an empty standard table's page says, by the table's status (report_tables.status).
_TABLE_STATUS_NOTES = {
    "empty": "本表无数据（报告说明：{statement}）",
    "not_attached": "原文未附此表，情况说明也未给出表中的数字",
    "not_read": "原文含此表，但导入时未读取其数字",
}


async def report_table_note(datasette: Any, database: str | None, query: str | None, report_id: str | None) -> str | None:
    """Why a standard table's page of a report has no rows, as the report says it (表8 本表无数据:
    the page said to check the report's id); None when the report is not there (the id is wrong)."""
    m = _REPORT_TABLE_QUERY.fullmatch(query or "")
    if not m or not report_id or not database:
        return None
    rows = (await datasette.get_database(database).execute(
        "select t.status, t.statement from reports r left join report_tables t on t.report_id = r.report_id "
        "and t.table_no = ? where r.report_id = ?", [int(m.group(1)), report_id])).rows
    if not rows:
        return None
    status, statement = rows[0]
    note = _TABLE_STATUS_NOTES.get(status)
    return note.format(statement=statement or "本单位无此项收支") if note else None


async def foreign_key_link(datasette: Any, database: str, table: str, column: str, value: Any) -> Markup | None:
    """On a row page, a foreign key's value as the table pages show it: the label of the row it
    names (部门 上海市普陀区财政局, not shanghai-putuo-czj), linked to that row; None for a column
    that is not a foreign key, or an empty value."""
    if value is None or value == "":
        return None
    fks = await datasette.get_database(database).foreign_keys_for_table(table)
    fk = next((fk for fk in fks if fk["column"] == column), None)
    if fk is None:
        return None
    labels = await datasette.expand_foreign_keys(database, table, column, [value])
    label = labels.get((column, value))
    url = datasette.urls.row(database, fk["other_table"], tilde_encode(str(value)))
    shown = f'<a href="{escape(url)}">{escape(label if label is not None else value)}</a>'
    if label is not None and str(label) != str(value):
        shown += f"&nbsp;<em>{escape(value)}</em>"
    return Markup(shown)


@hookimpl
def filters_from_request(request, database, table, datasette):
    """``?_zh=科技 行政``: rows of search_index containing every word (two characters are enough);
    a filter or facet naming no column of the table, or comparing a number column with a word
    (``site/filter_checks.py``), and a ``_next`` that is not a page token of the table
    (``site/page_tokens.py``) refused first."""

    async def checked() -> FilterArguments | None:
        problem = await filter_problem(datasette, database, table, request)
        if problem:
            raise BadRequest(problem)
        if request.args.get("_next"):
            return await page_tokens.checked(datasette, request, database, table, found)
        return found

    found = zh_filter(request, table)
    return checked()


def zh_filter(request: Any, table: str) -> FilterArguments | None:
    """The bigram search of search_index asked by ``_zh``; None on any other table, or without it."""
    query = request.args.get("_zh")
    if table != SEARCH_TABLE or not query:
        return None
    return FilterArguments(
        [f"text_id in (select rowid from {SEARCH_TEXTS}_fts where {SEARCH_TEXTS}_fts match zh_query(:zh_query))"],
        params={"zh_query": query},
        human_descriptions=[f"包含“{query}”"],
    )


async def landing_page(datasette, request):
    """The Chinese landing page, rendered without Datasette's index (which inspects every table:
    120 ms at national scale against 6 ms for this page; the charts fetch their data from the API)."""
    name = next((n for n in datasette.databases if n != "_internal"), "opendata")
    html = await datasette.render_template(
        "index.html", {"databases": [{"name": name}], "metadata": datasette.metadata()}, request=request)
    return Response.html(html)


#: Datasette's English description of a table's filters and sort, phrase by phrase in Chinese.
_ZH_PHRASES = [
    (re.compile(r"sorted by (.+?) descending"), r"按 \1 降序排列"),
    (re.compile(r"sorted by (.+)"), r"按 \1 排列"),
    (re.compile(r"^where "), "筛选条件："),
    (re.compile(r" contains "), " 包含 "),
    (re.compile(r" starts with "), " 开头为 "),
    (re.compile(r" ends with "), " 结尾为 "),
    (re.compile(r" is not blank"), " 不为空"),
    (re.compile(r" is blank"), " 为空"),
    (re.compile(r" is null"), " 为空值"),
    (re.compile(r" is not null"), " 不为空值"),
    (re.compile(r" and "), " 且 "),
]


#: Datasette's names of its filters' operators (``Filters.lookups``), in Chinese.
ZH_OPERATORS = {
    "contains": "包含", "ends with": "结尾为", "starts with": "开头为", "like": "匹配（like）",
    "not like": "不匹配（not like）", "glob": "匹配（glob）", "in": "属于（逗号分隔）", "not in": "不属于（逗号分隔）",
    "array contains": "数组包含", "array does not contain": "数组不包含", "date": "日期为", "is null": "为空值",
    "is not null": "不为空值", "is blank": "为空", "is not blank": "不为空",
}


#: Datasette's words for what is not there or not allowed, in Chinese (an error page's detail).
ZH_ERRORS = {
    "Table not found": "没有这个表或查询", "Database not found": "没有这个数据库", "Record not found": "没有这条记录",
    "Row not found": "没有这条记录", "No data": "没有数据", "404": "没有这个页面", "Permission denied": "无权访问",
    "Database is immutable": "数据库只读，不能修改", "Database download is forbidden": "不提供数据库文件下载",
    "You do not have permission to view this table": "无权查看这个表",
    "You do not have permission to view this query": "无权查看这个查询",
    "You do not have permission to view this database": "无权查看这个数据库",
    "SQL Interrupted": "查询超时", "Invalid SQL": "SQL 语句有误",
}


#: Datasette's words for a request it cannot answer (a 400), matched, in Chinese: the words themselves
#: follow in brackets, for developers.
ZH_ERROR_PATTERNS = [
    (re.compile(r"Cannot sort table by (.+)"), "不能按“{0}”排序：没有这一列，或这一列不能排序"),
    (re.compile(r"_size must be <= (\d+)"), "每页最多 {0} 行"),
    (re.compile(r"_size must be a positive integer"), "每页行数须为正整数"),
    (re.compile(r"_col=(.+) - invalid columns"), "没有“{0}”这一列"),
    (re.compile(r"_nocol=(.+) - invalid columns"), "没有“{0}”这一列"),
    (re.compile(r"_nocol=(.+): a key column, .*"), "“{0}”是主键列，每行都会给出（它标识这一行），不能用 _nocol 去掉"),
    (re.compile(r"no such column: (.+)"), "没有“{0}”这一列"),
    (re.compile(r"no such table: (.+)"), "没有“{0}”这个表"),
    (re.compile(r"Statement must be a SELECT"), "只能执行 SELECT 查询"),
    (re.compile(r"_next: .*", re.S), "翻页参数 _next 无效：请用上一页给出的下一页链接"),
    (re.compile(r"_next not allowed for CSV streaming"), "下载全部行（_stream）从第一行开始，不能同时给出翻页参数 _next"),
    (re.compile(r"Record not found: a row's address .*"), "没有这条记录：记录的地址须包含主键每一列的值"),
    (re.compile(r"Cannot use _sort and _sort_desc at the same time"), "_sort 与 _sort_desc 只能用一个"),
    (re.compile(r"(\S+): a number is needed.*"), "{0} 须为数字（半角数字，例如 {0}=100）"),
    (re.compile(r"(\S+): values separated by commas, or a JSON list of values"), "{0} 须为逗号分隔的值，或 JSON 列表"),
    (re.compile(r'_through must be a JSON object with .*'), "_through 须为含 table、column 和 value 的 JSON 对象"),
    (re.compile(r"_timelimit: a whole number of milliseconds.*"), "_timelimit 须为正整数（毫秒）"),
    (re.compile(r"a number in the parameters is too large"), "参数中的数字过大"),
    (re.compile(r"LIKE or GLOB pattern too complex.*", re.S),
     f"匹配模式过长：LIKE、GLOB 和“包含”“开头为”等筛选的模式最多 {MAX_PATTERN_BYTES} 字节（约 {MAX_PATTERN_BYTES // 3} 个汉字）"),
    (re.compile(r"string or blob too big"), "值过长：一个值最多 250,000 个字节"),
    (re.compile(r"_facet_size: a number of values.*"), "_facet_size 须为正整数，或 max"),
    (re.compile(r"_zh: (\S+) has no Chinese search .*"), "“{0}”表不能用 _zh 搜索：请用“全文搜索”（/opendata/search?q=…）"),
    (re.compile(r"_search: (\S+) has no full-text index .*"), "“{0}”表没有全文索引：请用“全文搜索”（/opendata/search?q=…）"),
    (re.compile(r"malformed JSON"), "这一列的值不是 JSON 列表（_facet_array 只用于存 JSON 列表的列）"),
    (re.compile(r"_facet_array=(.+): the column does not hold JSON lists"), "“{0}”列的值不是 JSON 列表（_facet_array 只用于存 JSON 列表的列）"),
    (re.compile(r"(\S+): not a valid JSON object with the column as \"simple\""), "{0} 须为列名，或以 \"simple\" 给出列名的 JSON 对象"),
    (re.compile(r"(\S+): no such filter operator '(.+)' .*"), "没有“{1}”这种筛选条件（{0}）"),
    (re.compile(r"the result has more than ([\d,]+) rows, the most a query returns.*", re.S),
     "结果超过 {0} 行（一次查询最多返回的行数），CSV 会漏掉其余的行：请用 limit 和 offset 分页查询，或用 .csv?_stream=on 下载整个表"),
    (re.compile(r"the result is larger than ([\d,]+) characters.*", re.S), "结果超过 {0} 个字符：请少取几行，或只取较短的值"),
    (re.compile(r"_where: (.+)", re.S), "_where 条件无法执行：{0}"),
]


def zh_error(message: Any) -> str | Markup:
    """An error's detail in Chinese where Datasette's words are known ("Table not found" -> 没有这个表
    或查询（Table not found）; an error's title too: 查询超时（SQL Interrupted）), else as Datasette words it."""
    if isinstance(message, Markup):  # Datasette's own HTML (a query cut off, with its links)
        return message
    text = str(message or "").strip()
    zh = ZH_ERRORS.get(text)
    if zh is None:
        for pattern, words in ZH_ERROR_PATTERNS:
            if m := pattern.fullmatch(text):
                zh = words.format(*m.groups())
                break
    return f"{zh}（{text}）" if zh else text


def zh_operator(display: str) -> str:
    """A filter operator's name in Chinese ("=", ">", "≥" stay as they are)."""
    return ZH_OPERATORS.get(display, display)


def zh_description(text: str) -> str:
    """'where table_no = 5 sorted by year descending' -> '筛选条件：table_no = 5 按 year 降序排列'."""
    for pattern, repl in _ZH_PHRASES:
        text = pattern.sub(repl, text)
    return text


_LINK_HREF = re.compile(r'<a href="([^"]*)">')


def table_rows(display_rows: list, title: str | None = None) -> Markup:
    """The ``<tr>`` of a table page's rows, as Datasette's ``_table.html`` writes them, in one
    Python loop: Jinja's async loop spent 9 µs per cell (7.5 of 22 ms for a 50-row page of
    amounts), this ~1 (each column's ``<td ...>`` written once per page). With ``title`` (the
    table's ``row_title``), each row's link to its page says what the row holds, as its page's
    name does (表5 一般公共服务支出（合计）), not its key's five values."""
    opening: dict[tuple[str, str], str] = {}
    lines = []
    for row in display_rows:
        cells = []
        if title:
            row = _titled_link(row, title)
        for cell in row:
            key = (cell["column"], cell["value_type"])
            td = opening.get(key)
            if td is None:
                td = opening[key] = f'<td class="col-{escape(to_css_class(key[0]))} type-{escape(key[1])}">'
            value = cell["value"]
            # Markup (a plugin's rendering, a link) as it is: escape() would copy it into a new one.
            cells.append(f"{td}{value if type(value) is Markup else escape(value)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return Markup("\n".join(lines))


def _titled_link(row: Any, title: str) -> list:
    """``row``'s cells, its link to its page (Datasette's "Link" column) titled by ``row_title``."""
    raw = {cell["column"]: cell["raw"] for cell in row}
    out = []
    for cell in row:
        if cell.get("value_type") == "pk" and cell.get("is_special_link_column"):
            href = _LINK_HREF.match(str(cell["value"]))
            if href:
                cell = {**cell, "value": Markup(f'<a href="{href.group(1)}">{escape(row_title(title, raw))}</a>')}
        out.append(cell)
    return out


def _sync_environment(env: Environment) -> Environment:
    """A synchronous twin of Datasette's (asynchronous) Jinja environment: the same templates,
    filters, globals and tests, rendered without an await per expression."""
    if not env.is_async:
        return env
    twin = getattr(env, "_opendata_sync_twin", None)
    if twin is None:
        twin = Environment(loader=env.loader, autoescape=env.autoescape, auto_reload=env.auto_reload,
                           enable_async=False)
        twin.filters, twin.globals, twin.tests = env.filters, env.globals, env.tests
        env._opendata_sync_twin = twin
    return twin


@pass_context
def include_sync(context: Context, names: str | list[str], **values: Any) -> Markup:
    """``{% include names %}``, with ``values`` added to the context, for a template that reads
    plain values only (no coroutine: its includer awaits them), rendered by the synchronous twin of
    the environment (``_sync_environment``): Jinja's asynchronous rendering spent ~10 µs on each
    output expression (a table page's content: the column headers, filters, facet values)."""
    template = _sync_environment(context.environment).select_template(
        [names] if isinstance(names, str) else names)
    return Markup(template.render({**context.get_all(), **values}))


@hookimpl(hookwrapper=True)
def register_facet_classes():
    """ColumnFacet's place taken by CachedColumnFacet: the same facet type, configuration and URLs,
    answered from ``_facet_counts`` when the page is a whole immutable table; every facet of a
    ``_next`` page is its first page's (``next_page_facets``)."""
    outcome = yield
    outcome.force_result([[CachedColumnFacet if c is ColumnFacet else on_first_page(c) for c in classes]
                          for classes in outcome.get_result()])


@hookimpl
def startup(datasette):
    """Immutable databases answer Datasette's schema questions from memory after the first time,
    and a facet value's page its row count from the build's counts; a table's ``allow`` blocks
    are read from the metadata once, and a foreign key's label from SQLite once."""
    client_errors.install()  # first: cache_schemas wraps each database's execute as it is then
    cache_schemas(datasette)
    cache_table_permissions(datasette)
    cache_labels(datasette)
    # Imported here: Datasette's views import its plugins (this module) as they load.
    from . import cell_rendering, keyset_paging

    cell_rendering.install()
    keyset_paging.install()
    request_guard.install()
    for db in datasette.databases.values():
        stored_counts(db)
        sorted_pages.install(db)
    quiet_errors()


def quiet_errors() -> None:
    """Datasette prints every error it answers through rich, each frame with its local variables: a
    404, a bad ``_sort``, a query cut off at the time limit took ~200 ms of CPU each, the process
    answering nothing else meanwhile (and filled the log). Without rich, its handler prints only
    unexpected exceptions (a 500), as a plain traceback; the error pages are the same."""
    datasette_errors.rich = None


@hookimpl
def register_output_renderer(datasette):
    """``.json`` written as UTF-8 by Datasette's own renderer (``site/json_output.py``) instead of
    escaped and then parsed and written again by ``asgi_wrapper``."""
    if utf8_json_renderer is None:
        return None
    return {"extension": "json", "render": render_json}


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.filters["zh_description"] = zh_description
    env.filters["column_label"] = column_label
    env.filters["value_label"] = value_label
    env.filters["labelled_description"] = labelled_description
    env.filters["zh_operator"] = zh_operator
    env.filters["zh_error"] = zh_error
    env.filters["table_rows"] = table_rows
    env.filters["first_page"] = query_args.first_page
    env.filters["figure_of"] = figure_of
    env.globals["include_sync"] = include_sync


@hookimpl
def register_routes(datasette):
    return [(r"^/$", landing_page)]


@hookimpl
def extra_css_urls(template, database, table, columns, view_name, request, datasette):
    return [ASSETS_URL + "site.css"]


#: gzip's fastest level: 0.2 ms for a 103 KB page (to 10.8 KB; level 9, asgi-gzip's default: 1.0 ms,
#: to 8.8 KB), 0.06 ms for 50 rows of JSON; a 150 MB CSV streams at over 100 MB/s.
GZIP_LEVEL = 1
#: Answers shorter than this are sent as they are (asgi-gzip's default).
GZIP_MIN_BYTES = 500


@hookimpl
def asgi_wrapper(datasette):
    """Chinese as UTF-8 in JSON, a BOM in CSV, the bigram search behind search_index's search box,
    and a streamed CSV that stops when its client has gone (``client_gone.py``)."""

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            if answer := request_guard.answered_here(scope, datasette.databases, datasette.renderers):
                await answer.asgi_send(send)
                return
            scope = request_guard.without_hidden_page(scope)
            path = scope.get("path", "")
            if path.startswith(PACKAGE_PREFIX) and path != PACKAGE_PREFIX and path not in package_charsets(datasette):
                # Only the descriptor and its resources' files: not whatever else sits in the folder
                # (a .env, .git/config, a tool's notes were served).
                body = PACKAGE_ERRORS[404].encode()
                await send({"type": "http.response.start", "status": 404, "headers": _package_file_headers(
                    [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
                    None)})
                await send({"type": "http.response.body", "body": body})
                return
            if path.startswith(PACKAGE_PREFIX) and path != PACKAGE_PREFIX:
                # One of the package's files (the check above), however its name was percent-encoded
                # (datapackage%2Ejson): Datasette looks the raw path up, and answered 404.
                scope = dict(scope, raw_path=quote(path).encode())
            if path.rstrip("/").split("/")[-1].split(".")[0] == SEARCH_TABLE and scope.get("query_string"):
                scope = dict(scope, query_string=_search_to_zh(scope["query_string"]))
            # The parameters as Datasette means them (site/query_args.py), each rewrite a no-op where
            # its parameters are absent.
            table = _table_of(path)
            query = scope.get("query_string", b"")
            # A table's CSV for a spreadsheet, in Chinese (zh_csv.py): rewritten as it is sent.
            zh_writer = None
            if path.endswith(".csv") and table:
                zh, query = zh_csv.wanted(query)
                zh_writer = zh_csv.ZhCsv(table[1], zh_csv.table_columns(datasette, *table)) if zh else None
            if path.endswith(".csv") and table and scope.get("method") == "GET" \
                    and datasette.setting("allow_csv_stream") \
                    and table[1] not in (datasette.metadata("queries", database=table[0]) or {}):
                query = query_args.whole_table_csv(query)
            query = query_args.filters_as_said(query_args.rewritten(query))
            if table:
                query = query_args.stored_values(query, table[1])
            if query != scope.get("query_string", b""):
                scope = dict(scope, query_string=query)
            if b"col=" in scope.get("query_string", b""):  # _col, _nocol
                scope = dict(scope, query_string=_sort_column_kept(scope["query_string"],
                                                                   _table_meta(datasette, path)))
            if b"_facet" in scope.get("query_string", b""):
                scope = dict(scope, query_string=_distinct_facets(scope["query_string"],
                                                                  _default_facets(datasette, path)))
            # The client's queries run one at a time (site/sql_executor.py): its address.
            client = scope.get("client")
            CLIENT.set(str(client[0]) if client else None)
            state: dict[str, Any] = {}
            # The site's JSON renderer marks its answers here (UTF-8 already: not parsed again).
            scope = dict(scope, **{JSON_STATE: state})

            async def send_wrapper(message):
                if message["type"] == "http.response.start":
                    if 300 <= message.get("status", 200) < 400:  # a redirect: a browser's fetch follows it only with CORS
                        message = dict(message, headers=_with_cors(message.get("headers", [])))
                    if state.get("truncated"):  # an answer that may leave rows out (json_output.mark_truncated)
                        message = dict(message, headers=json_output.with_truncated(message.get("headers", [])))
                    headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                    ctype = headers.get(b"content-type", b"").decode("latin-1")
                    if path.startswith(PACKAGE_PREFIX):  # the package's files, as they are, for any site
                        if message.get("status") in PACKAGE_ERRORS:  # Datasette's English plain text
                            body = PACKAGE_ERRORS[message["status"]].encode()
                            state.update(mode="replaced", body=body)
                            headers = [(b"content-type", b"text/plain; charset=utf-8"),
                                       (b"content-length", str(len(body)).encode())]
                            await send(dict(message, headers=_package_file_headers(headers, None)))
                            return
                        charset = package_charsets(datasette).get(path)
                        await send(dict(message, headers=_package_file_headers(message.get("headers", []), charset)))
                        return
                    if ctype.startswith("application/json"):
                        state.update(mode="json", start=message, chunks=[])
                        return
                    if path.endswith(".csv") and not path.startswith(STATIC_PREFIXES) and message.get("status") == 200 and (
                            ctype.startswith("text/csv") or ctype.startswith("text/plain")):
                        state["mode"] = "csv"
                        if zh_writer is not None:  # its length is known once it is written
                            message = dict(message, headers=[(k, v) for k, v in message.get("headers", [])
                                                             if k.lower() != b"content-length"])
                        message = dict(message, headers=_adjust_length(message.get("headers", []), len(BOM)))
                    await send(message)
                    return
                if message["type"] == "http.response.body":
                    if state.get("mode") == "replaced":
                        if "body" in state:
                            await send({"type": "http.response.body", "body": state.pop("body")})
                        return
                    if state.get("mode") == "json":
                        state["chunks"].append(message.get("body", b""))
                        if message.get("more_body"):
                            return
                        body = b"".join(state["chunks"])
                        if not state.get("utf8"):
                            body = _unescape_json(body)
                        start = state["start"]
                        if start.get("status") == 200 and body.startswith(b'{"ok":false') and len(body) < 100_000:
                            start = dict(start, status=_error_status(body))  # Datasette's 200 for a 400
                        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                        headers.append((b"content-length", str(len(body)).encode()))
                        await send(dict(start, headers=headers))
                        await send({"type": "http.response.body", "body": body})
                        return
                    if state.get("mode") == "csv" and zh_writer is not None:
                        message = dict(message, body=zh_writer.feed(message.get("body", b""),
                                                                    last=not message.get("more_body")))
                    if state.get("mode") == "csv" and not state.get("bom_sent"):
                        state["bom_sent"] = True
                        message = dict(message, body=BOM + message.get("body", b""))
                await send(message)

            if is_streamed(scope):
                await until_client_leaves(app, scope, receive, send_wrapper)
            else:
                await app(scope, receive, send_wrapper)

        # What a client that accepts gzip is sent is compressed (a page of amounts 103 KB -> 11 KB,
        # a whole table's CSV as it streams); outermost, a HEAD answered as its GET would be, gzip's
        # headers and all, the body not written (client_gone.headers_only).
        packed = GZipMiddleware(wrapped, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)

        async def head_as_get(scope, receive, send):
            if scope.get("type") != "http" or scope.get("method") != "HEAD":
                await packed(scope, receive, send)
                return
            with contextlib.suppress(ClientGone):
                await packed(dict(scope, method="GET"), receive, headers_only(send))

        return head_as_get

    return wrap


def _search_to_zh(query_string: bytes) -> bytes:
    """Datasette's search box sends _search=...; on search_index the bigram search answers it."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if not any(k == "_search" for k, _ in pairs):
        return query_string
    return urlencode([("_zh" if k == "_search" else k, v) for k, v in pairs]).encode("latin-1")


def _served_package(datasette: Any) -> Any:
    """The data package the site serves at /datapackage/ (read once), or None (none served, or one
    that cannot be read)."""
    if not hasattr(datasette, "_opendata_package"):
        folder = next((d for prefix, d in datasette.static_mounts if "/" + prefix + "/" == PACKAGE_PREFIX), None)
        try:
            datasette._opendata_package = load_package(folder, files_required=False) if folder else None
        except OpenDataError:
            datasette._opendata_package = None
    return datasette._opendata_package


def package_downloads(datasette: Any) -> list[tuple[str, str, str]]:
    """(title, URL, table) of each CSV file of the served package, its title's Chinese part (报告,
    not "报告 (reports)"), and the table it is loaded into: what the landing page offers a citizen
    to download (the link was the descriptor's JSON); none when no package is served."""
    package = _served_package(datasette)
    if package is None:
        return []
    return [((resource.title or resource.name).split(" (", 1)[0], PACKAGE_PREFIX + one.removeprefix("./"),
             resource.name) for resource in package.resources for one in resource.paths]


def package_charsets(datasette: Any) -> dict[str, str]:
    """The URL of each of the served package's files with the encoding of its text: the
    descriptor's (UTF-8) and each resource's as declared (frictionless's default, UTF-8, when
    not). Read once (``package.load_package``); none for a package that cannot be read."""
    found = getattr(datasette, "_opendata_package_charsets", None)
    if found is None:
        found = {}
        package = _served_package(datasette)
        if package is not None:
            found[PACKAGE_PREFIX + DESCRIPTOR] = "utf-8"
            for resource in package.resources:
                for one in resource.paths:
                    found[PACKAGE_PREFIX + one.removeprefix("./")] = (resource.encoding or "utf-8").lower()
        datasette._opendata_package_charsets = found
    return found


def _with_cors(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with the API's CORS headers when they have none."""
    if any(k.lower() == b"access-control-allow-origin" for k, _ in headers):
        return headers
    return [*headers, *((k.encode(), v.encode()) for k, v in request_guard.CORS_HEADERS.items())]


def _error_status(body: bytes) -> int:
    """The status an error's JSON gives (``{"ok": false, ..., "status": 400}``: an unknown ``_shape``
    of a query, which Datasette answers with a 200), or 200 when it gives none."""
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        return 200
    return status if isinstance(status, int) and 400 <= status < 600 else 200


def _package_file_headers(headers: list[tuple[bytes, bytes]], charset: str | None) -> list[tuple[bytes, bytes]]:
    """A package file's headers with CORS (as the JSON API's) and the charset of its text (a
    browser guesses without it, and guesses wrong for Chinese)."""
    out = []
    for key, value in headers:
        if key.lower() == b"content-type" and charset and b"charset" not in value:
            value += b"; charset=" + charset.encode("ascii", "replace")
        out.append((key, value))
    return [*out, (b"access-control-allow-origin", b"*")]


def _distinct_facets(query_string: bytes, defaults: frozenset[str] = frozenset()) -> bytes:
    """The query string without a facet asked again, or asked for although the page shows it by
    default (``defaults``, the table's facets in metadata.yml): Datasette counts it once more each
    time (``table_no_2`` in the JSON, two boxes on the page: the README's own example did it)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    seen: set[tuple[str, str]] = {("_facet", column) for column in defaults}
    kept = []
    for key, value in pairs:
        if is_facet_parameter(key):
            if (key, value) in seen:
                continue
            seen.add((key, value))
        kept.append((key, value))
    return query_string if len(kept) == len(pairs) else urlencode(kept).encode("latin-1")


def _table_of(path: str) -> tuple[str, str] | None:
    """The database and table of a table page's ``path`` (/db/table, /db/table.json); None for any
    other page."""
    parts = path.split("/")
    if len(parts) != 3 or not parts[1] or not parts[2] or parts[1].startswith("-"):
        return None
    table = parts[2]
    for suffix in (".json", ".csv"):
        table = table.removesuffix(suffix)
    return parts[1], table


def _table_meta(datasette: Any, path: str) -> dict[str, Any]:
    """metadata.yml's part for the table of a table page's ``path`` (/db/table, /db/table.json):
    empty for any other page."""
    if not (found := _table_of(path)):
        return {}
    meta = datasette.table_metadata(*found)
    return meta if isinstance(meta, dict) else {}


def _default_facets(datasette: Any, path: str) -> frozenset[str]:
    """The column facets metadata.yml gives the table of a table page's ``path``."""
    facets = _table_meta(datasette, path).get("facets") or []
    return frozenset(f for f in facets if isinstance(f, str))


def _sort_column_kept(query_string: bytes, meta: dict[str, Any]) -> bytes:
    """The query string with the page's sort column among its ``_col`` columns, and not among its
    ``_nocol`` ones: Datasette 0.65 reads the last row's sort value for the next page's link, and
    answered 500 (KeyError) when a page sorted by a column did not show it (a tester's
    ``findings.json?_labels=on&_col=rule_id``; the page's own "hide this column" menu did it too)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    sort = page_tokens.sort_column(dict(pairs), meta)
    if not isinstance(sort, str):
        return query_string
    cols = [v for k, v in pairs if k == "_col"]
    kept = [(k, v) for k, v in pairs if not (k == "_nocol" and v == sort)]
    if cols and sort not in cols:
        kept.append(("_col", sort))
    return query_string if kept == pairs else urlencode(kept).encode("latin-1")


def _unescape_json(body: bytes) -> bytes:
    """The same JSON with non-ASCII characters written as UTF-8 instead of \\uXXXX escapes."""
    if b"\\u" not in body:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _adjust_length(headers, extra: int):
    out = []
    for k, v in headers:
        if k.lower() == b"content-length":
            v = str(int(v) + extra).encode()
        out.append((k, v))
    return out
