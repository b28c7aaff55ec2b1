"""A request's malformed parameters answered as the client's error (400), not the server's (500).

Datasette 0.65 answers some parameters it cannot use with a 500 and, for most, a traceback in the
log: a ``_sort`` by a column the table does not have, a ``_through`` or ``_facet`` that is not the
JSON it expects, a view's ``_next`` that is not a number, a NUL character in a filter, a filter's
number too large for SQLite; and a row page whose address lacks a key's value is a 404. A developer
reading the JSON API takes a 500 for a fault of the server, and anyone could fill the log. The
site's exception handler is Datasette's own, given a ``BadRequest`` for those (the same page or
JSON, status 400, nothing printed); every other exception goes to it as it is.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from datasette import handle_exception as datasette_errors
from datasette import hookimpl
from datasette.plugins import pm
from datasette.utils.asgi import BadRequest, NotFound
from datasette.views.base import DatasetteError

#: Parameters whose value Datasette parses as JSON when it starts with "{".
_JSON_FACETS = ("_facet", "_facet_array", "_facet_date")


def _json_object(value: str, keys: tuple[str, ...] = ()) -> bool:
    try:
        parsed = json.loads(value)
    except ValueError:
        return False
    return isinstance(parsed, dict) and all(k in parsed for k in keys)


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
    if isinstance(exception, DatasetteError) and str(exception.message).startswith("Cannot sort table by"):
        return str(exception.message)
    if "_through" in args and not all(_json_object(v, ("table", "column", "value")) for v in args.getlist("_through")):
        return '_through must be a JSON object with "table", "column" and "value"'
    for name in _JSON_FACETS:
        if any(v.startswith("{") and not _json_object(v) for v in args.getlist(name)):
            return f"{name}: not a valid JSON object"
    if "_next" in args and (isinstance(exception, ValueError) and "invalid literal for int" in str(exception)
                            or isinstance(exception, sqlite3.Error) and "datatype mismatch" in str(exception)):
        return "_next: not a page token of this table or view"
    if isinstance(exception, OverflowError):  # a filter's value, as an integer SQLite cannot hold
        return "a number in the parameters is too large"
    return None


@hookimpl(trylast=True)
def handle_exception(datasette: Any, request: Any, exception: BaseException) -> Any:
    """Datasette's exception handler, with the client's errors (``client_error``) answered as such."""
    if request is not None and missing_row(request, exception):
        exception = NotFound("Record not found: a row's address has one value for each column of the primary key")
    message = client_error(request, exception) if request is not None else None
    return datasette_errors.handle_exception(datasette, request, BadRequest(message) if message else exception)


def install() -> None:
    """Put this module's handler in the place of Datasette's default one (once per process)."""
    import sys

    if pm.is_registered(datasette_errors):
        pm.unregister(datasette_errors)
        pm.register(sys.modules[__name__], name="opendata.site.client_errors")
