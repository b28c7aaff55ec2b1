"""A streamed answer stops when its client has gone.

A CSV of a whole table (``?_stream=on``) is written page after page by Datasette until the last
row; uvicorn's ``send`` to a client that has closed the connection returns without a word, so the
server went on reading and writing every row for no one (22 s of a core for the 10^6 rows of
amounts), and asyncio logged "socket.send() raised exception." hundreds of times. While such an
answer is written, ``until_client_leaves`` listens for the client's ``http.disconnect``; the next
write after it raises ``ClientGone`` (not an ``Exception``: Datasette's writer catches those and
writes their text into the stream), which ends the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ClientGone(BaseException):
    """The client of a streamed answer closed its connection."""


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

    async def checked_send(message: MutableMapping[str, Any]) -> None:
        if gone.is_set():
            raise ClientGone()
        await send(message)

    listener = asyncio.ensure_future(listen())
    try:
        await app(scope, no_body, checked_send)
    except ClientGone:
        pass
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
