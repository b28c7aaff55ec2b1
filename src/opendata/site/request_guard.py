"""Requests a read-only site refuses before Datasette sees them, and one of Datasette's column lists.

- A method other than GET, HEAD and OPTIONS (CORS's preflight): a POST to a table was a 500 with
  Datasette's AssertionError in the log ("You may only POST to a canned query"), to a named query
  a 500 with an AttributeError; DELETE on ``/`` answered the landing page. Now 405, saying the
  site is read-only.
- Datasette's debugging pages (``/-/patterns``, ``/-/messages``, ``/-/allow-debug``, and
  ``/-/threads``, the server's threads), in English and of no use to a citizen or a developer of
  the data: answered as pages that are not there (their ``.json`` too).
- A format the site does not write (``amounts.xml``, ``.tsv``, ``.JSON``): Datasette answered the
  HTML page with 200, and a script asking for a format got a page. Now 404, naming the formats.
- A key percent-encoded as a client library writes it (``classification/2060101%402020.json``):
  Datasette sends such a path to its tilde-encoded form, the ``.json`` taken into the key
  (``2060101~402020~2Ejson``: an HTML 404). The redirect here keeps the format.
- A query string past ``MAX_QUERY_BYTES``: every filter and facet link of the page repeats it
  (a 49 KB ``line_no__in=0,1,...`` made a 69 KB ``Link`` header, which Python's http.client and
  requests refuse, and a 2.2 MB JSON for one row). Now 414, as a proxy would answer it.
- ``_nocol`` naming a key column: Datasette called it an invalid column; it is one it always gives.
- ``_col`` naming a key column: Datasette lists the key's columns first, then each ``_col``, and
  a key column asked for came twice (in the CSV's header and in each JSON row).
"""

from __future__ import annotations

import json
import re
from typing import Any

from urllib.parse import parse_qsl

from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError

from .query_args import brackets_pair

#: The methods a read-only site answers.
ALLOWED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Datasette's debugging pages, answered as missing.
HIDDEN_PAGES = frozenset({"/-/patterns", "/-/messages", "/-/allow-debug", "/-/threads"})
#: Where a hidden page is sent instead: a path Datasette answers with the site's 404 page.
MISSING_PATH = "/-/no-such-page"

_MESSAGE = "405：本站只读，只接受 GET 请求（Method Not Allowed: this site is read-only; use GET）"


def answered_here(scope: dict[str, Any], databases: Any, renderers: Any) -> Response | None:
    """The answer to a request the site gives before Datasette sees it (a method it does not
    answer, a CORS preflight, a query string too long, a format it does not write, a key
    percent-encoded, a ``_where`` whose brackets do not pair up); None for every other request."""
    return (method_not_allowed(scope) or preflight(scope) or query_too_long(scope)
            or unknown_format(scope.get("path", ""), databases, renderers) or percent_encoded(scope, databases, renderers)
            or unpaired_where(scope))


def unpaired_where(scope: dict[str, Any]) -> Response | None:
    """A 400 for a ``_where`` whose brackets do not pair up (outside quoted text): put in brackets
    of its own (``query_args``), ``1) or (1=1`` closed them and or-ed itself with the page's other
    filters (every report's rows under one report's filter); None for any other request."""
    query = scope.get("query_string", b"")
    if b"where" not in query.lower():  # _where, or %5Fwhere
        return None
    for key, value in parse_qsl(query.decode("utf-8", "surrogateescape"), keep_blank_values=True):
        if key != "_where":
            continue
        if "--" in value or "/*" in value:  # a comment can hide a bracket from the count
            return _refusal(scope, "_where: no SQL comments (-- or /*) in a condition", 400, dict(CORS_HEADERS))
        if not brackets_pair(value):
            return _refusal(scope, "_where: its brackets ( ) do not pair up (outside quoted text): one condition "
                            "is asked, and-ed with the page's other filters", 400, dict(CORS_HEADERS))
    return None



def without_hidden_page(scope: dict[str, Any]) -> dict[str, Any]:
    """``scope``, sent to the site's missing page (as JSON for a ``.json`` path) when it asks for
    one of the hidden pages."""
    path = scope.get("path", "")
    if path.rstrip("/").removesuffix(".json") not in HIDDEN_PAGES:
        return scope
    missing = MISSING_PATH + (".json" if path.endswith(".json") else "")
    return dict(scope, path=missing, raw_path=missing.encode())


#: The formats of a database's pages Datasette writes besides its renderers' (and the database's file).
_FORMATS = ("csv", "db")
#: A page's last part with a format: the part before it has no dot (Datasette writes a dot of a
#: name or key as ~2E).
_WITH_FORMAT = re.compile(r"[^./]+\.(?P<format>[^./]+)")


def unknown_format(path: str, databases: Any, renderers: Any) -> Response | None:
    """A 404 for a database page asked in a format the site does not write (``/opendata/amounts.xml``);
    None for any other path (the site's files, ``/favicon.ico``)."""
    parts = path.split("/")
    if len(parts) < 2 or parts[1].split(".", 1)[0] not in databases:
        return None
    m = _WITH_FORMAT.fullmatch(parts[-1])
    known = (*renderers, *_FORMATS) if len(parts) == 2 else (*renderers, "csv")  # the file: /opendata.db
    if m is None or m["format"] in known:
        return None
    message = (f"404：没有“.{m['format']}”这种格式，请用 {' 或 '.join('.' + f for f in ('json', 'csv'))}"
               f"（no such format: .{m['format']}; use .json or .csv）")
    return Response.text(message + "\n", status=404, headers={"access-control-allow-origin": "*"})


def percent_encoded(scope: dict[str, Any], databases: Any, renderers: Any) -> Response | None:
    """A redirect of a database's page asked in a format whose path is percent-encoded to its
    tilde-encoded form, as Datasette writes it (``%40`` -> ``~40``, ``~`` -> ``~7E``, ``.`` ->
    ``~2E``), the format kept; None for any other path (Datasette's own redirect handles those
    without a format; the data package's files, ``/datapackage/data%2Famounts.csv``, are files, not
    pages: sent to ``data~2Famounts.csv``, they were a 404)."""
    raw = scope.get("raw_path") or scope.get("path", "").encode()
    path = raw.split(b"?", 1)[0].decode("latin-1")
    head, _, last = path.rpartition("/")
    stem, dot, fmt = last.rpartition(".")
    if "%" not in path or not dot or fmt not in (*renderers, "csv"):
        return None
    if path.split("/")[1].split(".", 1)[0] not in databases:
        return None
    target = "/".join(_tilde(p) for p in head.split("/")) + "/" + _tilde(stem) + "." + fmt
    query = scope.get("query_string", b"").decode("latin-1")
    # With CORS, as the page it leads to: a browser's fetch follows a redirect only so.
    return Response.redirect(target + (f"?{query}" if query else ""), status=302, headers=dict(CORS_HEADERS))  # a copy: redirect adds Location to it


def _tilde(part: str) -> str:
    """A percent-encoded part of a path as Datasette's own redirect rewrites it (``handle_404``)."""
    return part.replace("~", "~7E").replace("%", "~").replace(".", "~2E")


#: The longest query string the site reads, in bytes (a proxy's usual limit on a request line).
MAX_QUERY_BYTES = 8192

_TOO_LONG = (f"414：请求的参数过长（超过 {MAX_QUERY_BYTES:,} 字节）：请减少筛选的值，或缩短 SQL"
             f"（URI too long: the query string is over {MAX_QUERY_BYTES:,} bytes; use fewer values or shorter SQL）")


def query_too_long(scope: dict[str, Any]) -> Response | None:
    """A 414 for a query string past ``MAX_QUERY_BYTES`` (JSON for a ``.json`` path); None else."""
    if len(scope.get("query_string", b"")) <= MAX_QUERY_BYTES:
        return None
    return _refusal(scope, _TOO_LONG, 414, {"access-control-allow-origin": "*"})


def _refusal(scope: dict[str, Any], message: str, status: int, headers: dict[str, str]) -> Response:
    """``message`` as the JSON of an error for a ``.json`` path (UTF-8, as the site's JSON), else as text."""
    if scope.get("path", "").endswith(".json"):
        body = json.dumps({"ok": False, "error": message, "status": status}, ensure_ascii=False)
        return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")
    return Response.text(message + "\n", status=status, headers=headers)


#: The CORS headers of the API's answers (Datasette's ``add_cors_headers``), for the answers the
#: site gives before Datasette sees the request.
CORS_HEADERS = {"access-control-allow-origin": "*", "access-control-allow-headers": "Authorization",
                "access-control-expose-headers": "Link"}

#: What the site answers a CORS preflight (OPTIONS) with, on every path.
PREFLIGHT_HEADERS = {"allow": "GET, HEAD, OPTIONS", "access-control-allow-origin": "*",
                     "access-control-allow-methods": "GET, HEAD, OPTIONS",
                     "access-control-allow-headers": "Authorization", "access-control-max-age": "86400"}

#: A request header's name (RFC 9110 token), as a preflight lists them.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def preflight(scope: dict[str, Any]) -> Response | None:
    """The answer to OPTIONS (a browser's CORS preflight), the same on every path: Datasette
    answered it on table and query pages only (``/-/databases.json``: a 405 without CORS, ``/``:
    the whole landing page)."""
    if scope.get("method") != "OPTIONS":
        return None
    # The headers a page's script means to send (Content-Type, X-Requested-With: a fetch sending
    # one failed when only Authorization was allowed): any, for a read-only site without cookies.
    asked = dict(scope.get("headers") or []).get(b"access-control-request-headers", b"").decode("latin-1")
    names = [n.strip() for n in asked.split(",") if _HEADER_NAME.fullmatch(n.strip())]
    headers = {**PREFLIGHT_HEADERS, "access-control-allow-headers": ", ".join(["Authorization", *names])}
    return Response("", status=200, headers=headers, content_type="text/plain; charset=utf-8")


def method_not_allowed(scope: dict[str, Any]) -> Response | None:
    """A 405 for a method the site does not answer (JSON for a ``.json`` path); None else."""
    if scope.get("method", "GET") in ALLOWED_METHODS:
        return None
    return _refusal(scope, _MESSAGE, 405, {"allow": "GET, HEAD, OPTIONS", "access-control-allow-origin": "*"})


def install() -> None:
    """Table pages list each column once, however ``_col`` names the key's (every Datasette of this
    process: a list without repeats is what Datasette means to give)."""
    from datasette.views.table import TableView

    if getattr(TableView.columns_to_select, "_opendata_once", False):
        return
    listed = TableView.columns_to_select

    async def columns_to_select(self: Any, table_columns: Any, pks: Any, request: Any) -> list[str]:
        keys = [c for c in request.args.getlist("_nocol") if c in pks and c in table_columns]
        if keys:  # Datasette: "_nocol=report_id - invalid columns", of a column that is there
            raise DatasetteError(f"_nocol={', '.join(keys)}: a key column, always given (it names the row)",
                                 status=400)
        return list(dict.fromkeys(await listed(self, table_columns, pks, request)))

    columns_to_select._opendata_once = True  # type: ignore[attr-defined]
    TableView.columns_to_select = columns_to_select
