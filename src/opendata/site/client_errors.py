"""A request's malformed parameters answered as the client's error (400), not the server's (500).

Datasette 0.65 answers some parameters it cannot use with a 500 and, for most, a traceback in the
log: a ``_sort`` by a column the table does not have, a ``_through`` or ``_facet`` that is not the
JSON it expects, a NUL character in a filter, a filter's number too large for SQLite; and a row
page whose address lacks a key's value is a 404 (a ``_next`` that is not a page token:
``site/page_tokens.py``). A developer reading the JSON API takes a 500 for a fault of the server,
and anyone could fill the log. The site's exception handler is Datasette's own, given a
``BadRequest`` for those (the same page or JSON, status 400, nothing printed); every other
exception goes to it as it is, but for a query cut off at the time limit, whose JSON says so in
plain text (Datasette's message is HTML for its page, with a script).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from datasette import handle_exception as datasette_errors
from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils import add_cors_headers
from datasette.utils.asgi import Base400, BadRequest, NotFound, Response
from datasette.database import Database, QueryInterrupted

from .result_limits import MAX_PATTERN_BYTES
from datasette.views.base import DatasetteError

from .filter_checks import digits_problem
from .json_output import at_shown_limit, mark_truncated
from .rebound import rebound

#: Messages of DatasetteError (a 500 unless given a status) that a request's parameters cause.
_PARAMETER_ERRORS = ("Cannot sort table by", "Cannot use _sort and _sort_desc", "Invalid _through")


def _json_object(value: str, keys: tuple[str, ...] = ()) -> bool:
    """A JSON object with ``keys``, each a text."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return isinstance(parsed, dict) and all(isinstance(parsed.get(k), str) for k in keys)


def _positive_whole_number(value: str) -> bool:
    try:
        return int(value) > 0
    except ValueError:
        return False


def _json_values(value: str) -> bool:
    """A JSON list of values SQLite can compare with (``__in=[...]``)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return isinstance(parsed, list) and all(v is None or isinstance(v, (str, int, float)) for v in parsed)


def missing_row(request: Any, exception: BaseException) -> bool:
    """A row page whose address has fewer values than the table's primary key has columns:
    Datasette runs its query with a parameter missing (a 500, with a traceback)."""
    return (isinstance(exception, sqlite3.ProgrammingError) and "supply a value for binding parameter" in str(exception)
            and request.url_vars.get("pks") is not None)


def client_error(request: Any, exception: BaseException) -> str | None:
    """The message of a 400 when ``exception`` comes from a parameter of ``request`` that Datasette
    cannot use; None for any other exception (a fault of the server's)."""
    args = request.args
    if any("\x00" in key or any("\x00" in value for value in args.getlist(key)) for key in args.keys()):
        return "a parameter contains a NUL character"
    if isinstance(exception, DatasetteError) and str(exception.message).startswith(_PARAMETER_ERRORS):
        return str(exception.message)
    if "_through" in args and not all(_json_object(v, ("table", "column", "value")) for v in args.getlist("_through")):
        return '_through must be a JSON object with "table", "column" and "value"'
    # Datasette reads every parameter whose name starts with _facet (_facet_size too) as a facet,
    # JSON when its value starts with "{": an object naming its column as "simple".
    for name in (key for key in args.keys() if key.startswith("_facet")):
        if any(v.startswith("{") and not _json_object(v, ("simple",)) for v in args.getlist(name)):
            return ("_facet_size: a number of values, or max" if name == "_facet_size" else
                    f'{name}: not a valid JSON object with the column as "simple"')
    if any(not _positive_whole_number(v) for v in args.getlist("_timelimit")):
        return "_timelimit: a whole number of milliseconds, 1 or more"
    for name in (key for key in args.keys() if key.endswith(("__in", "__notin"))):
        if any(v.startswith("[") and not _json_values(v) for v in args.getlist(name)):
            return f"{name}: values separated by commas, or a JSON list of values"
    if (isinstance(exception, KeyError) and "database" in request.url_vars and "table" not in request.url_vars
            and not args.get("sql")):
        return "a database's page has no rows to give as CSV or as an array: ask a query (?sql=) or open a table"
    if isinstance(exception, ValueError) and (problem := digits_problem(args)):
        return problem
    if isinstance(exception, OverflowError):  # a filter's value, as an integer SQLite cannot hold
        return "a number in the parameters is too large"
    said = getattr(exception, "message", None) or str(exception)
    if said == "LIKE or GLOB pattern too complex":  # SQLite's words for a filter the client wrote as no pattern
        return (f"{said}: a pattern, or a __contains, __startswith or __endswith value, of more than "
                f"{MAX_PATTERN_BYTES} bytes (about {MAX_PATTERN_BYTES // 3} Chinese characters)")
    if said == "malformed JSON" and (arrays := args.getlist("_facet_array")):
        return f"_facet_array={arrays[0]}: the column does not hold JSON lists"
    if isinstance(exception, sqlite3.Error) and any(args.getlist("_where")):
        # two statements, a blob too big: Datasette answers an OperationalError only as the client's
        return f"_where: {exception}"
    if (isinstance(exception, DatasetteError) and exception.title == "Invalid SQL" and any(args.getlist("_where"))
            and request.url_vars.get("table")):  # a syntax error: the table's own SQL is the site's, _where the client's
        return f"_where: {exception.message}"
    return None


@hookimpl(trylast=True)
def handle_exception(datasette: Any, request: Any, exception: BaseException) -> Any:
    """Datasette's exception handler, with the client's errors (``client_error``) answered as such."""
    if request is not None and missing_row(request, exception):
        exception = NotFound("Record not found: a row's address has one value for each column of the primary key")
    message = client_error(request, exception) if request is not None else None
    if isinstance(exception, QueryInterrupted):  # a CSV's query cut off: Datasette's other views say so, CSV's a 500
        exception = DatasetteError("SQL query took too long", title="SQL Interrupted", status=400)
    if request is not None and is_time_out(exception):  # HTML as JSON: Datasette's is English HTML
        exception = DatasetteError(time_out_message(datasette, request), title=exception.title, status=exception.status)
    exception = BadRequest(message) if message else exception
    if request is not None and request.path.endswith(".csv") and isinstance(exception, (Base400, DatasetteError)):
        return _csv_error(datasette, exception)
    return datasette_errors.handle_exception(datasette, request, exception)


def _csv_error(datasette: Any, exception: Base400 | DatasetteError) -> Any:
    """A CSV request's error as plain text, the message in Chinese where it is known: a script
    reading CSV got Datasette's HTML error page."""
    from .plugin import zh_error  # the plugin imports this module

    async def inner() -> Response:
        if isinstance(exception, DatasetteError):
            status, message = exception.status, exception.message
        else:
            status, message = exception.status, exception.args[0]
        headers: dict[str, str] = {}
        if datasette.cors:
            add_cors_headers(headers)
        return Response.text(f"{status}：{zh_error(message)}\n", status=status, headers=headers)

    return inner


def is_time_out(exception: BaseException) -> bool:
    """Datasette's error for a query cut off at the time limit (its message HTML for its page)."""
    return isinstance(exception, DatasetteError) and exception.title == "SQL Interrupted"


def time_out_message(datasette: Any, request: Any) -> str:
    """A query cut off, said in plain text for the JSON API with the limit it passed (the site's
    ``sql_time_limit_ms``, or the request's lower ``_timelimit``); Datasette's message is its error
    page's HTML: a link, the SQL in a textarea, a script."""
    limit = datasette.setting("sql_time_limit_ms")
    asked = request.args.get("_timelimit", "")
    if asked.isdecimal() and 0 < int(asked) < limit:
        limit = int(asked)
    return f"查询超时（SQL query took too long: over the {limit:,} ms limit）"


class _NoLog:
    """What ``Database.execute`` is given as ``sys``: a standard error that writes nothing."""

    class stderr:  # noqa: N801 - read as sys.stderr
        @staticmethod
        def write(text: str) -> int:
            return len(text)

        @staticmethod
        def flush() -> None:
            pass


def _checked_csv(as_csv: Any) -> Any:
    """Datasette's ``DataView.as_csv``, refusing a query that failed: Datasette's query page answers
    an SQL error, or a result over a limit, as data with ``"ok": false`` (and status 400), and its
    CSV writer wrote that as a CSV with no rows and no header, status 200. A query's result cut at
    the row cap (``truncated``: an SQL query's or a named query's, which are not paged) was written
    as its first 1,000 rows, with no sign that more were left out: refused too."""

    async def checked(self: Any, request: Any, database: Any) -> Any:
        read = self.data

        async def data(request: Any, *args: Any, **kwargs: Any) -> Any:
            answer = await read(request, *args, **kwargs)
            first = answer[0] if isinstance(answer, tuple) and answer else None
            if isinstance(first, dict) and first.get("ok") is False and first.get("error"):
                raise DatasetteError(str(first["error"]), title="Invalid SQL", status=400)
            if isinstance(first, dict) and first.get("truncated") and "primary_keys" not in first:
                rows = len(first.get("rows") or [])
                raise DatasetteError(f"the result has more than {rows:,} rows, the most a query returns: this CSV "
                                     "would leave the rest out (page the query with limit and offset, or download "
                                     "a table's every row with .csv?_stream=on)", title="Result too large",
                                     status=400)
            if isinstance(first, dict) and at_shown_limit(self.ds, first.get("database"), first.get("query_name"),
                                                          first):
                mark_truncated(request)  # the search's 200 rows: there may be more (a header)
            return answer

        self.data = data  # a view is made for each request
        return await as_csv(self, request, database)

    checked._opendata_checked = True  # type: ignore[attr-defined]
    return checked


def install() -> None:
    """Put this module's handler in the place of Datasette's default one, and keep
    ``Database.execute`` from printing each SQL error (once per process).

    Datasette printed every query SQLite refused, with its connection's address and the whole
    SQL: a user's ``?sql=select * from nosuch`` (a 400, the client's) was a line of the server's
    log each time, for anyone to fill. The error still reaches its caller: a 400 for the user's
    SQL, a 500 (printed, with its traceback) for the site's own."""
    import sys

    if pm.is_registered(datasette_errors):
        pm.unregister(datasette_errors)
        pm.register(sys.modules[__name__], name="opendata.site.client_errors")
    from datasette.views.base import DataView

    if not getattr(DataView.as_csv, "_opendata_checked", False):
        DataView.as_csv = _checked_csv(DataView.as_csv)
    if not getattr(Database.execute, "_opendata_quiet", False):
        quiet = rebound(Database.execute, sys=_NoLog)
        if quiet is not None:
            quiet._opendata_quiet = True
            Database.execute = quiet
