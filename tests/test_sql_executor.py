"""The server's SQL threads (``site/sql_executor.PatientExecutor``): quick queries one at a time, a
slow one joined by others once it has run its patience, never more than the threads, in order."""

from __future__ import annotations

import asyncio
import threading
import traceback
import time
from pathlib import Path

import pytest

from opendata.site.app import SETTINGS, make_app
from opendata.site.sql_executor import CLIENT, PATIENCE, PatientExecutor

#: Generous bound on any wait in these tests (they never take it unless the executor is broken).
TIMEOUT = 10


class Probe:
    """Tasks that record how many of them run at once, and in which order they start."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.started: list[int] = []

    def task(self, n: int, hold: threading.Event | None = None) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.append(n)
        try:
            if hold is not None:
                assert hold.wait(TIMEOUT), "held past the timeout"
            else:
                time.sleep(0.002)  # a quick query, the GIL let go as SQLite lets it go
            return n * n
        finally:
            with self.lock:
                self.running -= 1


async def gather(executor: PatientExecutor, calls: list) -> list:
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(asyncio.gather(*(loop.run_in_executor(executor, *c) for c in calls)), TIMEOUT)


async def test_quick_tasks_run_one_at_a_time_in_order():
    probe, executor = Probe(), PatientExecutor(3, patience=5.0)
    try:
        results = await gather(executor, [(probe.task, n) for n in range(100)])
    finally:
        executor.shutdown()
    assert results == [n * n for n in range(100)]
    assert probe.most == 1 and probe.started == list(range(100))


async def test_a_slow_task_is_joined_once_it_has_run_its_patience():
    """The quick tasks submitted behind a slow one run while it still runs (it waits for them)."""
    probe, executor = Probe(), PatientExecutor(3, patience=0.01)
    release = threading.Event()
    loop = asyncio.get_running_loop()
    try:
        slow = loop.run_in_executor(executor, probe.task, 0, release)
        quick = await gather(executor, [(probe.task, n) for n in range(1, 30)])
        assert not slow.done() and probe.running == 1  # the slow one, still running
        release.set()
        assert await asyncio.wait_for(slow, TIMEOUT) == 0
    finally:
        release.set()
        executor.shutdown()
    assert quick == [n * n for n in range(1, 30)]
    assert probe.most == 2 and probe.started == list(range(30))


async def test_never_more_tasks_at_once_than_threads():
    probe, executor = Probe(), PatientExecutor(3, patience=0.0)
    holds = [threading.Event() for _ in range(5)]
    loop = asyncio.get_running_loop()
    try:
        futures = [loop.run_in_executor(executor, probe.task, n, holds[n]) for n in range(5)]
        for _ in range(TIMEOUT * 100):
            if probe.running == 3:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert probe.running == 3 and probe.started == [0, 1, 2]
        holds[1].set()  # one ends: the next in line starts
        assert await asyncio.wait_for(futures[1], TIMEOUT) == 1
        for _ in range(TIMEOUT * 100):
            if len(probe.started) == 4:
                break
            await asyncio.sleep(0.01)
        assert probe.started == [0, 1, 2, 3]
        for hold in holds:
            hold.set()
        assert await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT) == [0, 1, 4, 9, 16]
    finally:
        for hold in holds:
            hold.set()
        executor.shutdown()
    assert probe.most == 3


async def test_exceptions_reach_the_caller():
    executor = PatientExecutor(2)

    def fails() -> None:
        raise ValueError("bad query")

    try:
        with pytest.raises(ValueError, match="bad query"):
            await gather(executor, [(fails,)])
        assert await gather(executor, [(pow, 2, 10)]) == [1024]  # and it goes on
    finally:
        executor.shutdown()


def test_tasks_submitted_outside_an_event_loop_run():
    probe, executor = Probe(), PatientExecutor(2, patience=60.0)
    release = threading.Event()
    try:
        slow = executor.submit(probe.task, 0, release)
        quick = executor.submit(probe.task, 1)  # no loop to look again later: started at once
        assert quick.result(TIMEOUT) == 1 and not slow.done()
        release.set()
        assert slow.result(TIMEOUT) == 0
    finally:
        release.set()
        executor.shutdown()


def test_shutdown_runs_what_was_submitted_then_refuses_more():
    probe, executor = Probe(), PatientExecutor(2)
    futures = [executor.submit(probe.task, n) for n in range(5)]
    executor.shutdown(wait=True)
    assert [f.result(TIMEOUT) for f in futures] == [0, 1, 4, 9, 16]
    with pytest.raises(RuntimeError):
        executor.submit(probe.task, 5)


def submit_as(executor: PatientExecutor, client: str | None, *call) -> asyncio.Future:
    """``call`` run on ``executor`` as a query of ``client``'s request (the site's ASGI wrapper sets
    CLIENT for each request)."""
    token = CLIENT.set(client)
    try:
        return asyncio.get_running_loop().run_in_executor(executor, *call)
    finally:
        CLIENT.reset(token)


async def until(condition, what: str) -> None:
    for _ in range(TIMEOUT * 100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {TIMEOUT} s: {what}")


async def test_a_clients_queries_run_one_at_a_time_while_others_start():
    """A client sending slow queries over many connections held every thread (the others' pages
    waited for the time limit): it holds one, and the others' queries start on the free threads."""
    probe, executor = Probe(), PatientExecutor(3, patience=0.0)
    holds = [threading.Event() for _ in range(4)]
    try:
        attacks = [submit_as(executor, "198.51.100.7", probe.task, n, holds[n]) for n in range(4)]
        await until(lambda: probe.started == [0], "the client's first query started")
        citizens = [submit_as(executor, f"192.0.2.{n}", probe.task, n) for n in (10, 11, 12)]
        assert await asyncio.wait_for(asyncio.gather(*citizens), TIMEOUT) == [100, 121, 144]
        assert probe.started == [0, 10, 11, 12] and probe.running == 1  # its others still wait
        holds[0].set()  # its query ends: its next starts, one at a time
        await until(lambda: probe.started[4:] == [1], "the client's second query started")
        await asyncio.sleep(0.05)
        assert probe.started[4:] == [1] and probe.running == 1
        for hold in holds:
            hold.set()
        assert await asyncio.wait_for(asyncio.gather(*attacks), TIMEOUT) == [0, 1, 4, 9]
        assert probe.started == [0, 10, 11, 12, 1, 2, 3]
    finally:
        for hold in holds:
            hold.set()
        executor.shutdown()


async def test_queries_of_no_client_are_not_held_to_one_at_a_time():
    """Queries submitted outside a request (the site's startup) run as before: beside each other
    once slow, up to the threads."""
    probe, executor = Probe(), PatientExecutor(3, patience=0.0)
    holds = [threading.Event() for _ in range(3)]
    try:
        futures = [submit_as(executor, None, probe.task, n, holds[n]) for n in range(3)]
        await until(lambda: probe.running == 3, "three at once")
        for hold in holds:
            hold.set()
        assert await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT) == [0, 1, 4]
    finally:
        for hold in holds:
            hold.set()
        executor.shutdown()


class Held:
    """An object a failing query holds in a variable (as Datasette's holds its cursor)."""


async def test_a_failed_querys_variables_are_freed_on_its_thread():
    """Datasette's query function fails with its cursor in a variable; the exception kept it alive
    until the event loop's garbage collector freed it, and resetting its statement there waited
    for its connection, busy with the next query on the thread, up to the time limit (every page
    of the process stopped 0.5-1.5 s at each full collection while a client sent endless queries)."""
    import gc
    import weakref

    refs: list[weakref.ref] = []

    def failing() -> None:
        cursor = Held()
        refs.append(weakref.ref(cursor))
        try:
            raise ValueError("interrupted")
        except ValueError as exc:
            raise RuntimeError("query interrupted") from exc  # chained, as Datasette's QueryInterrupted

    executor = PatientExecutor(2)
    gc.disable()
    try:
        with pytest.raises(RuntimeError) as caught:
            await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(executor, failing), TIMEOUT)
        assert refs[0]() is None  # freed, though the exception is still held here
        assert "failing" in "".join(traceback.format_tb(caught.value.__traceback__))
    finally:
        gc.enable()
        executor.shutdown()


def test_the_site_runs_its_queries_on_it(site_db: Path):
    ds = make_app(site_db)
    assert isinstance(ds.executor, PatientExecutor) and ds.executor._max == SETTINGS["num_sql_threads"]
    assert ds.executor._patience == PATIENCE
    assert make_app(site_db, settings={"num_sql_threads": 0}).executor is None  # queries on the event loop
