"""Requests a read-only site refuses before Datasette sees them, and one of Datasette's column lists.

- A method other than GET, HEAD and OPTIONS (CORS's preflight): a POST to a table was a 500 with
  Datasette's AssertionError in the log ("You may only POST to a canned query"), to a named query
  a 500 with an AttributeError; DELETE on ``/`` answered the landing page. Now 405, saying the
  site is read-only.
- Datasette's debugging pages (``/-/patterns``, ``/-/messages``, ``/-/allow-debug``, and
  ``/-/threads``, the server's threads), in English and of no use to a citizen or a developer of
  the data: answered as pages that are not there (their ``.json`` too).
- ``_col`` naming a key column: Datasette lists the key's columns first, then each ``_col``, and
  a key column asked for came twice (in the CSV's header and in each JSON row).
"""

from __future__ import annotations

import json
from typing import Any

from datasette.utils.asgi import Response

#: The methods a read-only site answers.
ALLOWED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Datasette's debugging pages, answered as missing.
HIDDEN_PAGES = frozenset({"/-/patterns", "/-/messages", "/-/allow-debug", "/-/threads"})
#: Where a hidden page is sent instead: a path Datasette answers with the site's 404 page.
MISSING_PATH = "/-/no-such-page"

_MESSAGE = "405：本站只读，只接受 GET 请求（Method Not Allowed: this site is read-only; use GET）"


def hidden(path: str) -> bool:
    """Whether ``path`` is one of the hidden pages (or its JSON)."""
    return path.rstrip("/").removesuffix(".json") in HIDDEN_PAGES


def method_not_allowed(scope: dict[str, Any]) -> Response | None:
    """A 405 for a method the site does not answer (JSON for a ``.json`` path); None else."""
    if scope.get("method", "GET") in ALLOWED_METHODS:
        return None
    headers = {"allow": "GET, HEAD, OPTIONS", "access-control-allow-origin": "*"}
    if scope.get("path", "").endswith(".json"):
        body = json.dumps({"ok": False, "error": _MESSAGE, "status": 405}, ensure_ascii=False)  # UTF-8, as the site's JSON
        return Response(body, status=405, headers=headers, content_type="application/json; charset=utf-8")
    return Response.text(_MESSAGE + "\n", status=405, headers=headers)


def install() -> None:
    """Table pages list each column once, however ``_col`` names the key's (every Datasette of this
    process: a list without repeats is what Datasette means to give)."""
    from datasette.views.table import TableView

    if getattr(TableView.columns_to_select, "_opendata_once", False):
        return
    listed = TableView.columns_to_select

    async def columns_to_select(self: Any, table_columns: Any, pks: Any, request: Any) -> list[str]:
        return list(dict.fromkeys(await listed(self, table_columns, pks, request)))

    columns_to_select._opendata_once = True  # type: ignore[attr-defined]
    TableView.columns_to_select = columns_to_select
