"""What a build hands to a second process: most of the largest resource, then the accounting rules.

A large package is built by two processes (``build.build`` decides, see ``build.parallel_jobs``):
the second loads most of the largest CSV, in two parts, into databases of its own while the first
loads the rest and then appends them (``schema_sql.merge_part``); once the rows are in, the second
reads the search documents, runs the accounting rules and checks the schema's constraints over
the new database (read-only, through SQLite's write-ahead log) while the first builds the indexes,
layout tables and search index; the last rules go to whichever process is free first (``claim``).
The functions here run in that second process: they take and return plain values and talk through
files only. The process is forked where the system can (no main module imported again, so a
script calling ``build`` needs no ``if __name__ == "__main__"`` guard; it inherits the package the
build opened instead of opening it again), spawned elsewhere.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sqlite3
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils
from frictionless import Package

from .layouts import layout_queries, layout_sql
from .lifeline import end_with_parent
from .package import load_package
from .rules import Finding, rule_ids, run_rules
from .search_index import save_documents, search_documents
from .schema_sql import check_loaded, create_table, load_part


class Worker:
    """A second process that runs the functions it is sent, one at a time, in order.

    Forked where the system can (it never touches the SQLite connections it inherits: it opens its
    own, by file name). Its replies are received as soon as they are sent, by a thread of this
    process, so the worker goes on with the next call without waiting for ``result``. A worker
    that dies makes ``result`` raise instead of waiting; ``close`` stops it at once. It ends with
    this process too, even one killed (``lifeline``): make and close it in one thread."""

    def __init__(self, package: Package | None = None) -> None:
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        ctx = multiprocessing.get_context(method)
        self._conn, child = ctx.Pipe()
        # Tasks both processes take from one list (``claim``): the next index to take, shared.
        self._claims = ctx.Value("i", 0)
        # A forked process is handed ``package`` as it is (a spawned one would need it pickled):
        # the functions below then use it instead of opening the descriptor again (13 ms each).
        inherited = package if method == "fork" else None
        self._process = ctx.Process(target=_serve, args=(child, self._claims, inherited, os.getpid()),
                                    daemon=True, name="opendata-build-worker")
        self._process.start()
        child.close()
        self._replies: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self._receiver = threading.Thread(target=self._receive, daemon=True, name="opendata-build-replies")
        self._receiver.start()

    def _receive(self) -> None:
        while True:
            try:
                reply = self._conn.recv()
            except (EOFError, OSError):
                self._process.join(timeout=5)  # reaped, for its exit code
                self._replies.put((False, RuntimeError(
                    f"the second build process ended unexpectedly (exit code {self._process.exitcode})")))
                return
            self._replies.put(reply)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` (a module-level function, plain arguments)."""
        self._conn.send((fn, args))

    def result(self) -> Any:
        """The value of the oldest submitted call not yet collected; its exception if it raised."""
        ok, value = self._replies.get()
        if not ok:
            if isinstance(value, RuntimeError) and not self._process.is_alive():
                self._replies.put((ok, value))  # every later call fails the same way
            raise value
        return value

    def ready(self) -> bool:
        """True when ``result`` would return (or raise) without waiting."""
        return not self._replies.empty()

    def claim(self) -> int:
        """The index of the next task of the shared list (see ``run_claimed``), taken by this process."""
        return _take(self._claims)

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._conn.close()
        self._receiver.join(timeout=5)


#: In the second process, the shared counter of ``Worker.claim``.
_CLAIMS: Any = None
#: In a forked second process, the package the build opened (``Worker``).
_PACKAGE: Package | None = None

#: Seconds to wait for the shared counter's lock (held for a few instructions at a time).
CLAIM_TIMEOUT = 30.0


def _take(counter: Any) -> int:
    lock = counter.get_lock()
    # Held for a few instructions; a process killed while holding it must not hang the other.
    if not lock.acquire(timeout=CLAIM_TIMEOUT):
        raise RuntimeError("the build's shared task counter stayed locked (a build process died)")
    try:
        taken = counter.value
        counter.value = taken + 1
    finally:
        lock.release()
    return taken


def _serve(conn: Connection, claims: Any, package: Package | None, parent_pid: int) -> None:
    global _CLAIMS, _PACKAGE
    # Killed with the build's process, however it ends: left alone it held the package's lock (an
    # import then waited for it in vain), and its work is of no use to anyone.
    end_with_parent(parent_pid, signal.SIGKILL)
    _CLAIMS, _PACKAGE = claims, package
    # Ctrl-C is the build's own process's to handle: it stops this one (close) and cleans up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM (``close``) ends this process, whatever handler the build's process had when it forked.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = (True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - sent back and raised in the build's process
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # an exception or value that cannot be pickled
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _package(package_path: str) -> Package:
    """The package at ``package_path``: the one the build opened when this process inherited it."""
    if _PACKAGE is not None and Path(_PACKAGE.basepath) == Path(package_path):
        return _PACKAGE
    return load_package(package_path)


def load_part_of(package_path: str, name: str, start: int, stop: int | None, part_db: str,
                 cache_kib: int, page_size: int) -> int | None:
    """Load the records in bytes [``start``, ``stop``) of resource ``name`` (``schema_sql.split_point``
    offsets; ``stop`` None: to the end) into a new database at ``part_db`` (page cache ``cache_kib``,
    pages of ``page_size`` bytes): the rows loaded, or None when the set-based load cannot vouch for them."""
    package = _package(package_path)
    resource = package.get_resource(name)
    db = sqlite_utils.Database(part_db)
    try:
        db.conn.execute(f"pragma page_size = {int(page_size)}")
        db.conn.execute("pragma journal_mode = off")
        db.conn.execute("pragma synchronous = off")
        db.conn.execute(f"pragma cache_size = -{cache_kib}")
        create_table(db, resource, keys=False)
        with db.conn:
            return load_part(db.conn, package, name, start, stop)
    finally:
        db.close()


#: Rules that read amounts through its primary key only: they start while the build's own process
#: is still adding the index the other rules read through (``build.RULE_INDEX``).
PRIMARY_KEY_RULES = ("hierarchy.",)


#: Page cache (KiB) of the read-only connections (rules, search documents, layouts, checks): a
#: larger one makes their sorts hold more memory and them no faster (measured: hierarchy rules at
#: 10^6 rows 4.9 s with 32 MB and 153 MB peak, 4.8 s with 2 MB and 46 MB).
READ_CACHE_KIB = 8192


def _read_only(db_path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(Path(db_path).resolve()))}?mode=ro", uri=True)
    conn.execute(f"pragma cache_size = -{READ_CACHE_KIB}")
    return conn


def primary_key_rules_on(db_path: str) -> list[Finding]:
    """The rules of PRIMARY_KEY_RULES over the database at ``db_path``, opened read-only."""
    conn = _read_only(db_path)
    try:
        return run_rules(sqlite_utils.Database(conn),
                         select=lambda rule_id: rule_id.startswith(PRIMARY_KEY_RULES))
    finally:
        conn.close()


def shared_rule_ids() -> list[str]:
    """The rules both processes take from (``run_claimed``): all but PRIMARY_KEY_RULES (which share
    a temporary table and run as one task), in the registry's order."""
    return [rule_id for rule_id in rule_ids() if not rule_id.startswith(PRIMARY_KEY_RULES)]


def run_claimed(db: sqlite_utils.Database, ids: list[str], claim: Callable[[], int],
                until: Callable[[], bool] | None = None) -> list[Finding]:
    """Run the rules of ``ids`` this process claims (``claim`` gives the index of the next one not
    yet taken by either process) until none is left, or until ``until()`` is true: whichever
    process is free takes the next rule, so neither waits long for the other whatever the load."""
    findings: list[Finding] = []
    while not (until and until()) and (i := claim()) < len(ids):
        findings.extend(run_rules(db, select=ids[i].__eq__))
    return findings


def claimed_rules_on(db_path: str, ids: list[str]) -> list[Finding]:
    """``run_claimed`` in the second process, over the database at ``db_path`` opened read-only."""
    conn = _read_only(db_path)
    try:
        return run_claimed(sqlite_utils.Database(conn), ids, lambda: _take(_CLAIMS))
    finally:
        conn.close()


def check_on(db_path: str, package_path: str) -> bool:
    """``schema_sql.check_loaded`` over the database at ``db_path`` (opened read-only)."""
    conn = _read_only(db_path)
    try:
        return check_loaded(conn, _package(package_path))
    finally:
        conn.close()


def layouts_on(db_path: str, names: list[str], out_path: str) -> None:
    """The layout tables ``names`` (``layouts.layout_queries``) of the database at ``db_path``
    (opened read-only), each as a table of that name in a new file at ``out_path``."""
    conn = _read_only(db_path)
    try:
        conn.execute("attach database ? as out", (out_path,))
        conn.execute("pragma out.journal_mode = off")
        for name, sql in layout_queries():
            if name in names:
                conn.execute(f"create table out.[{name}] as {layout_sql(conn, name, sql)}")
        conn.commit()
    finally:
        conn.close()


def search_documents_on(db_path: str, out_path: str) -> None:
    """``search_index.search_documents`` of the database at ``db_path`` (opened read-only), saved to
    a new file at ``out_path``."""
    conn = _read_only(db_path)
    try:
        save_documents(search_documents(conn), Path(out_path))
    finally:
        conn.close()
