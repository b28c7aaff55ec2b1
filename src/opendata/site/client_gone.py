"""A streamed answer stops when its client has gone; a HEAD request's answer is its headers only.

A CSV of a whole table (``?_stream=on``) is written page after page by Datasette until the last
row; uvicorn's ``send`` to a client that has closed the connection returns without a word, so the
server went on reading and writing every row for no one (22 s of a core for the 10^6 rows of
amounts), and asyncio logged "socket.send() raised exception." hundreds of times. While such an
answer is written, ``until_client_leaves`` listens for the client's ``http.disconnect``; the next
write after it raises ``ClientGone`` (not an ``Exception``: Datasette's writer catches those and
writes their text into the stream), which ends the answer. A streamed CSV Datasette cannot finish
(a page of its query cut off at the time limit, the size limit) ends unfinished too (``StreamFailed``):
Datasette wrote the error's text, the query's SQL with it, as the file's last line, and a 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ClientGone(BaseException):
    """The client of a streamed answer closed its connection."""


class StreamFailed(BaseException):
    """A streamed CSV could not be written to its end (a query cut off at the time limit, the
    size limit): not an ``Exception``, which Datasette's writer would catch."""


def _failure_text(message: MutableMapping[str, Any], csv: bool) -> bytes | None:
    """Datasette's words for a streamed CSV it could not finish, written as the last part of the
    answer (its 200 long sent): a part of a CSV that is not whole lines (each row it writes ends
    with a line end; the exception's text, ``(OperationalError('interrupted'), 'select ...')``,
    does not). None for any other message."""
    body = message.get("body", b"")
    if csv and message.get("type") == "http.response.body" and message.get("more_body") and body \
            and not body.endswith(b"\n"):
        return body
    return None


#: Writes after which a streamed answer lets the event loop run the listener for the client's leaving.
YIELD_EVERY = 32


def is_streamed(scope: Scope) -> bool:
    """A GET request for an answer written in pages (``_stream=``): no request body to read, so
    its ``receive`` is free to listen for the client's leaving."""
    return scope.get("method") == "GET" and b"_stream=" in scope.get("query_string", b"")


async def until_client_leaves(app: Callable[[Scope, Receive, Send], Awaitable[None]], scope: Scope,
                              receive: Receive, send: Send) -> None:
    """``app(scope, receive, send)``, stopped at its first write after the client has gone."""
    gone = asyncio.Event()

    async def listen() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    async def no_body() -> MutableMapping[str, Any]:  # the GET's empty body (the listener reads the rest)
        return {"type": "http.request", "body": b"", "more_body": False}

    csv = False
    writes = 0

    async def checked_send(message: MutableMapping[str, Any]) -> None:
        nonlocal csv, writes
        writes += 1
        if writes % YIELD_EVERY == 0:  # the listener runs: a writer that never waits (a page's rows
            await asyncio.sleep(0)     # one by one, 240 after the client left) is stopped too
        if gone.is_set():
            raise ClientGone()
        if message["type"] == "http.response.start":
            ctype = dict(message.get("headers", [])).get(b"content-type", b"")
            csv = ctype.startswith((b"text/csv", b"text/plain"))
        elif (failure := _failure_text(message, csv)) is not None:
            raise StreamFailed(failure.decode("utf-8", "replace"))
        await send(message)

    listener = asyncio.ensure_future(listen())
    try:
        await app(scope, no_body, checked_send)
    except ClientGone:
        pass
    except StreamFailed as failed:
        # Its 200 is sent: the answer ends without its last chunk, so the client sees an unfinished
        # transfer (curl: "transfer closed with outstanding read data remaining", exit 18) instead
        # of a file whose last line is an exception and the server's SQL.
        sys.stderr.write(f"opendata: a streamed CSV stopped before its end ({scope.get('path')}): {failed}\n")
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


def headers_only(send: Send) -> Send:
    """The ``send`` of a HEAD request's answer, asked of the site as a GET: the status and headers
    the GET's answer has (its length too), an empty body, then ``ClientGone`` at the answer's next
    write, which stops it. Datasette wrote a whole table's CSV for a HEAD (10 s of a core at 10^6
    rows for no one; four of them held both cores 20 s), read a package's 145 MB file, and said a
    JSON answer's length was 0 (it answers a HEAD with the GET's answer, its body emptied)."""
    started = False

    async def send_headers(message: MutableMapping[str, Any]) -> None:
        nonlocal started
        if started or message["type"] != "http.response.start":
            raise ClientGone()
        started = True
        await send(message)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return send_headers
