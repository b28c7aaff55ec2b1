"""Datasette's JSON output with Chinese written as UTF-8 instead of ``\\uXXXX`` escapes.

Datasette's ``json_renderer`` (the ``.json`` of table, query and row pages: ``_shape``, ``_json``,
``_nl``, ``_json_infinity``) writes with ``ensure_ascii``: 中 becomes ``\\u4e2d``, six bytes and
unreadable. The site used to parse every such response again and write it once more
(``plugin._unescape_json``): a third of the time of a 1,000-row named query (14 of 38 ms per
request under the profiler). ``utf8_json_renderer`` is Datasette's own function, the same code,
given an encoder that writes UTF-8: the same JSON, byte for byte, as parsing and writing again.

That encoder writes with orjson (``FastJSONEncoder``): the same values, without the spaces after
``:`` and ``,`` (1,000 rows of a named query: 3 -> 0.4 ms), as bytes (``FastJSONBytesEncoder``:
Datasette's ``Response`` sends them as they are), infinite floats as null (what Datasette's
``remove_infinites`` makes them, so the rows are not looked through first). What orjson would write
otherwise or refuses goes to Python's json as before: infinities kept (``_json_infinity=1``: Python
writes ``Infinity``) and integers past 64 bits. ``render_json`` marks its answers (``JSON_STATE``)
so that ``asgi_wrapper`` does not look through them again for escapes. A 1,000-row named query
(``compare_growth``, in process): 5.9 -> 4.1 ms.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from datasette import renderer
from datasette.utils import CustomJSONEncoder, ValueAsBooleanError, value_as_boolean
from datasette.utils import remove_infinites as datasette_remove_infinites

from .rebound import rebound


class Utf8JSONEncoder(CustomJSONEncoder):
    """Datasette's encoder (rows, cursors, bytes), writing characters beyond ASCII as they are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class FastJSONEncoder(Utf8JSONEncoder):
    """``Utf8JSONEncoder``'s values written by orjson (Datasette's ``default`` for rows, cursors and
    bytes), infinite floats as null; what orjson refuses, by Python's json (infinities removed
    first, as Datasette's renderer removes them)."""

    def encode(self, o: Any) -> str:
        return self.encode_bytes(o).decode()

    def encode_bytes(self, o: Any) -> bytes:
        """The JSON as UTF-8 bytes."""
        try:
            return orjson.dumps(o, default=self.default, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            return super().encode(without_infinities(o)).encode()


class FastJSONBytesEncoder(FastJSONEncoder):
    """``FastJSONEncoder`` whose ``encode`` gives the bytes themselves: Datasette's ``Response``
    sends bytes as they are (a 1,000-row answer's ~150 kB otherwise decoded to text and encoded
    again, ~0.4 ms)."""

    def encode(self, o: Any) -> bytes:  # type: ignore[override]
        return self.encode_bytes(o)


_INFINITY, _MINUS_INFINITY = float("inf"), float("-inf")


def remove_infinites(row: Any) -> Any:
    """Datasette's ``remove_infinites`` (a row's infinite floats as null), asking first, at C speed
    (``in``: a comparison per cell), whether the row holds an infinity at all: Datasette's asks with
    a generator, ~0.1 us a cell (1.5 ms for the 1,000 rows of ``compare_totals``)."""
    if _INFINITY in row or _MINUS_INFINITY in row:
        return datasette_remove_infinites(row)
    return row


def without_infinities(o: Any) -> Any:
    """``o`` with every infinite float in its lists, tuples, rows and dicts as None."""
    if isinstance(o, float):
        return None if o in (_INFINITY, _MINUS_INFINITY) else o
    if isinstance(o, dict):
        return {k: without_infinities(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, sqlite3.Row)):
        return [without_infinities(v) for v in o]
    return o


def _kept(row: Any) -> Any:
    """The row as it is: orjson writes its infinities as null (``FastJSONEncoder``)."""
    return row


#: Datasette's ``json_renderer`` writing UTF-8 (and looking for infinities faster); None when this
#: Datasette's cannot be so made.
utf8_json_renderer = rebound(renderer.json_renderer, CustomJSONEncoder=Utf8JSONEncoder,
                             remove_infinites=remove_infinites)
#: The same, written by orjson: bytes, and the text of ``_nl=on``'s lines.
fast_json_renderer = rebound(renderer.json_renderer, CustomJSONEncoder=FastJSONBytesEncoder,
                             remove_infinites=_kept)
fast_json_lines_renderer = rebound(renderer.json_renderer, CustomJSONEncoder=FastJSONEncoder,
                                   remove_infinites=_kept)


#: The key of the ASGI scope under which the site's ``asgi_wrapper`` passes a dict for the renderer
#: to mark its answers as written in UTF-8 (``utf8``): the wrapper sends them as they are.
JSON_STATE = "opendata.json"


#: The status of a query's error (SQL SQLite cannot run, a result past a limit): Datasette's.
QUERY_ERROR_STATUS = 400


def shape_error(args: Any, data: dict) -> str | None:
    """Why ``_shape=object`` cannot be given for ``data`` (Datasette's words); None when it can, or
    was not asked. Datasette answered it as ``{"ok": false, "error": ...}``, status 200."""
    if args.get("_shape") != "object" or data.get("error"):
        return None
    if "primary_keys" not in data:
        return "_shape=object is only available on tables"
    return None if data["primary_keys"] else "_shape=object not available for tables with no primary keys"


def error_json(message: str, status: int = QUERY_ERROR_STATUS) -> dict[str, Any]:
    """An error as Datasette's exception handler writes it in JSON (``ok``, ``error``, ``status``,
    ``title``), as a renderer's dict: its ``status_code`` is kept (a query's page sets 200 on a
    ``Response`` the renderer gives)."""
    body = {"ok": False, "error": message, "status": status, "title": None}
    return {"body": FastJSONBytesEncoder().encode(body), "status_code": status,
            "content_type": "application/json; charset=utf-8"}


def at_shown_limit(datasette: Any, database: str | None, query_name: str | None, data: dict) -> bool:
    """Whether a named query with a ``shown_limit`` (metadata.yml: the rows its SQL returns at most,
    the search's 200) returned that many: there may be more, which its page says and its JSON did not."""
    if datasette is None or not query_name or not database:
        return False
    query = (datasette.metadata("queries", database=database) or {}).get(query_name)
    limit = query.get("shown_limit") if isinstance(query, dict) else None
    return isinstance(limit, int) and len(data.get("rows") or []) >= limit


def render_json(args: Any, data: dict, view_name: str, request: Any = None, datasette: Any = None,
                database: str | None = None, query_name: str | None = None) -> Any:
    """The ``json`` output renderer of the site: Datasette's, writing UTF-8. Its ``_nl=on`` lines
    (text/plain) say their charset, now that they hold more than ASCII. A query's error says its
    ``status`` as every other error's JSON does (Datasette's gives ``ok`` and ``error`` only), and
    ``_shape=object`` where it cannot be given is a 400 (``shape_error``)."""
    if data.get("ok") is False and data.get("error") and "status" not in data:
        data = {"ok": False, "error": data["error"], "status": QUERY_ERROR_STATUS, **data}
    elif problem := shape_error(args, data):
        return _marked(error_json(problem), request)
    elif not data.get("truncated") and at_shown_limit(datasette, database, query_name, data):
        data = {**data, "truncated": True}
    if "facet_results" in data and request is not None:  # a table's page: its facets cut off, if any
        state = request.scope.get(JSON_STATE) or {}
        data = {**data, "facets_timed_out": list(dict.fromkeys(state.get("facets_timed_out", [])))}
    try:
        infinities = value_as_boolean(args.get("_json_infinity", "0"))
    except ValueAsBooleanError:  # Datasette's renderer says so
        infinities = False
    if infinities:
        render = utf8_json_renderer
    else:
        render = fast_json_lines_renderer if args.get("_nl") else fast_json_renderer
    response = render(args, data, view_name)
    if getattr(response, "content_type", None) == "text/plain":
        response.content_type = "text/plain; charset=utf-8"
    if data.get("truncated") and "primary_keys" not in data:
        # A query's rows cut at the row cap: the default shape says "truncated": true, the others
        # (an array, lines) had no sign that rows were left out.
        mark_truncated(request)
    return _marked(response, request)


#: The header of a query's JSON whose rows were cut at the row cap (``max_returned_rows``).
TRUNCATED_HEADER = "X-Truncated"


def note_timed_out(request: Any, columns: list[str]) -> None:
    """Note the facets of ``request``'s page that ran past their time limit, for its JSON
    (``facets_timed_out``): Datasette tells its HTML page only, and a facet left out of the JSON's
    ``facet_results`` looked like a facet with no values."""
    state = request.scope.get(JSON_STATE) if request is not None else None
    if state is not None and columns:
        state.setdefault("facets_timed_out", []).extend(columns)


def mark_truncated(request: Any) -> None:
    """Note for ``asgi_wrapper`` that the answer to ``request`` may leave rows out (its JSON or its
    CSV): it gets the header ``X-Truncated``."""
    state = request.scope.get(JSON_STATE) if request is not None else None
    if state is not None:
        state["truncated"] = True


def with_truncated(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``X-Truncated: true``, readable by a page of another site (CORS: Datasette
    exposes ``Link`` only)."""
    exposed = [(k, v + b", " + TRUNCATED_HEADER.encode() if k.lower() == b"access-control-expose-headers" else v)
               for k, v in headers]
    return [*exposed, (TRUNCATED_HEADER.lower().encode(), b"true")]


def _marked(response: Any, request: Any) -> Any:
    """``response``, marked for ``asgi_wrapper`` as written in UTF-8 (``JSON_STATE``)."""
    state = request.scope.get(JSON_STATE) if request is not None else None
    if state is not None:
        state["utf8"] = True
    return response
