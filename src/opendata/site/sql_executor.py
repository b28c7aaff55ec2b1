"""The server's SQL threads: one query at a time, another beside it only once it is slow.

Datasette runs each query on a thread of its executor (``num_sql_threads``, 3 here). Queries that
run side by side hand Python's GIL to each other at every row SQLite steps to (the sqlite3 module
lets it go around each step): a 1,000-row named query took 4.0 ms of CPU alone and 10.2 ms with four
at once in one process, the amounts HTML page 4.7 and 6.4. One thread would end that, and let one
pathological query (cut off only after ``sql_time_limit_ms``) hold up every other for that long:
with one thread and a recursive CTE sent again and again, a table page took 3.0 s at p50, against
15 ms with three (and with this executor: 15 ms, 35 at p99).

``PatientExecutor`` keeps the threads and starts a query only when none is running, or when every
one running has run ``patience`` seconds: quick queries run one after another, a slow one (a user's
query, a pathological one) holds the others up for ``patience`` at most, then they run beside it
on the other threads, as before.

It also runs one query at a time for each client (``CLIENT``, its address, set for each request by
the site's ASGI wrapper): a client's next query waits for its running one, while other clients'
queries start on the free threads. A client sending pathological queries again and again over many
connections held every thread for the time limit, each time, and everyone else's pages waited for
it; now it holds one. (Behind a proxy on this machine, uvicorn gives the address the proxy
forwards, ``X-Forwarded-For``.) Many clients sending them at once can still fill every thread.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar
from time import monotonic
from typing import Any

#: Seconds a query runs alone before the next may start beside it.
PATIENCE = 0.02
#: The client whose request submits a query (its address), or None: one query at a time each.
CLIENT: ContextVar[str | None] = ContextVar("opendata_sql_client", default=None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _release_locals(exc: BaseException) -> None:
    """Clear the variables of the finished frames of ``exc``'s traceback (and of the exceptions it
    chains), here, on the thread that ran the query.

    Datasette's query function fails with its cursor among its frame's variables; the exception
    reached the event loop's thread, which freed the cursor only when the garbage collector
    found the exception's cycles: resetting the cursor's statement there waited for its
    connection, busy on this thread with the next query, up to the time limit. A client sending
    endless queries stopped every page of the process for 0.5-1.5 s at each full collection."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


class PatientExecutor(Executor):
    """An executor of ``max_workers`` threads that starts a task when none is running or when every
    running one has run ``patience`` seconds, and not while a task of the same client (``CLIENT``
    when it was submitted) runs; tasks start in the order they were submitted, but for those."""

    def __init__(self, max_workers: int, patience: float = PATIENCE,
                 thread_name_prefix: str = "opendata-sql") -> None:
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix=thread_name_prefix)
        self._max = max_workers
        self._patience = patience
        self._lock = threading.Lock()
        self._pending: deque[tuple[Future, Callable[..., Any], tuple, dict, str | None]] = deque()
        self._running: dict[object, float] = {}  # task -> when it started (monotonic)
        self._clients: dict[object, str] = {}  # running task -> its client
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._pending.append((future, fn, args, kwargs, CLIENT.get()))
            self._start_ready()
            if self._waiting_for_patience() and (self._timer is None or self._timer_loop is not _running_loop()):
                self._arm()
        return future

    def _waiting_for_patience(self) -> bool:
        """Whether a pending task waits for a running one to have run ``patience`` (not for a
        thread, nor for its client's task: a task that ends starts the next)."""
        return 0 < len(self._running) < self._max and self._next_index() is not None

    def _next_index(self) -> int | None:
        """The place in the queue of the first pending task whose client runs none (the lock held)."""
        busy = set(self._clients.values())
        if not busy:
            return 0 if self._pending else None
        return next((i for i, entry in enumerate(self._pending) if entry[4] is None or entry[4] not in busy), None)

    def _start_ready(self) -> None:
        """Start pending tasks while they may start (the lock held)."""
        now = monotonic()
        while len(self._running) < self._max and all(
                now - started >= self._patience for started in self._running.values()):
            index = self._next_index()
            if index is None:
                break
            self._start(now, index)

    def _start(self, now: float, index: int = 0) -> None:
        """Start the pending task at ``index`` on a thread of the pool (the lock held)."""
        future, fn, args, kwargs, client = self._pending[index]
        del self._pending[index]
        if future.set_running_or_notify_cancel():  # not cancelled meanwhile
            task = object()
            self._running[task] = now
            if client is not None:
                self._clients[task] = client
            self._pool.submit(self._run, task, future, fn, args, kwargs)

    def _arm(self) -> None:
        """Look again once the youngest running task has run ``patience`` (the lock held): on the
        event loop of the caller (Datasette submits from it); without one, start the task now."""
        loop = _running_loop()
        if loop is None:
            self._start_anyway()
            return
        if self._timer is not None:
            self._timer.cancel()
        youngest = max(self._running.values(), default=monotonic())
        self._timer_loop = loop
        self._timer = loop.call_at(loop.time() + max(0.0, youngest + self._patience - monotonic()), self._tick)

    def _start_anyway(self) -> None:
        """Start every pending task (the lock held): no event loop to look again later."""
        while self._pending:
            self._start(monotonic())

    def _tick(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._start_ready()
            if self._waiting_for_patience() and not self._shutdown:
                self._arm()

    def _run(self, task: object, future: Future, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, as ThreadPoolExecutor does
            _release_locals(exc)
            future.set_exception(exc)
        else:
            future.set_result(result)
        finally:
            with self._lock:
                del self._running[task]
                self._clients.pop(task, None)
                self._start_ready()
                # A task left waiting for the one just started: the event loop looks again later.
                if self._waiting_for_patience() and self._timer is None and self._timer_loop is not None:
                    try:
                        self._timer_loop.call_soon_threadsafe(self._tick)
                    except RuntimeError:  # that loop is closed: start them now
                        self._start_anyway()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._pending:
                    self._pending.popleft()[0].cancel()
            else:
                self._start_anyway()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
