"""App factory shared by the CLI and the tests: a read-only, immutable Datasette instance."""

from __future__ import annotations

import errno
import gc
import json
import os
import signal
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette.app import Datasette
from datasette.plugins import pm

from ..fingerprint import changed_files, database_version, package_fingerprint
from ..errors import OpenDataError
from ..lifeline import end_with_parent
from ..model import BUILD_TABLES, NOT_BUILT
from .metadata_check import MetadataError, metadata_problems, query_problems, read_metadata
from .sql_executor import PatientExecutor

HERE = Path(__file__).resolve().parent
#: The name the database is served by (its URLs /opendata/..., its part of metadata.yml).
DATABASE_NAME = "opendata"

#: The site's own scripts, styles and the vendored chart library, served by the instance itself.
ASSETS = ("-/opendata", str(HERE / "static"))

#: Settings that keep a public instance fast and safe.
SETTINGS: dict[str, Any] = {
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 1000,
    "suggest_facets": False,
    "default_page_size": 50,
    "facet_time_limit_ms": 500,
    "allow_facet": True,
    "num_sql_threads": 3,
}


#: The site's metadata.yml of the opendata checkout this code runs from (an editable install).
PROJECT_METADATA = HERE.parents[2] / "metadata.yml"


def default_metadata(cwd: Path | None = None) -> Path | None:
    """The metadata.yml `serve` uses when given none: the one in the current folder, else the
    opendata checkout's (a publisher serving a build of their own folder still gets the site's
    titles, named queries and landing page); None when there is neither."""
    for candidate in (Path(cwd or ".") / "metadata.yml", PROJECT_METADATA):
        if candidate.is_file():
            return candidate
    return None


def package_mismatch(db: Path, package_dir: Path) -> str | None:
    """Why the data package at ``package_dir`` is not the one ``db`` was built from, or None: the
    site offers that package for download as the database's. Its files are compared with those
    the build recorded (``fingerprint``) where the database's counts file is its own; else the
    reports each holds."""
    from ..package import load_package, resource_rows

    try:
        package = load_package(package_dir)
        recorded = (_own_inspect(db) or {}).get("package")
        if recorded is not None:
            changed = changed_files(recorded, package_fingerprint(package, package_dir))
            if not changed:
                return None
            return (f"{package_dir} is not the package {db} was built from: {', '.join(changed[:5])}"
                    f"{' and more' if len(changed) > 5 else ''} changed since the build (run `opendata build` again)")
        held = {r["report_id"] for r in resource_rows(package, "reports")}
        conn = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
        try:
            built = {r for (r,) in conn.execute("select report_id from reports")}
        finally:
            conn.close()
    except (OpenDataError, sqlite3.Error, KeyError, OSError):
        return f"{package_dir}: cannot tell whether it is the package {db} was built from"
    if held == built:
        return None
    return (f"{package_dir} holds {len(held):,} reports, {db} {len(built):,} ({len(held ^ built):,} in one only): "
            "it is not the package the database was built from")


def _own_inspect(db: Path) -> dict[str, Any] | None:
    """The counts the build wrote beside ``db`` (the file a link names), or None when there are none
    or they are not of the file as it is now (``fingerprint.database_version``: another database
    copied over it, or this one changed since: a row deleted by hand, the file the same size).
    A copy of both (cp, scp) keeps them."""
    built = Path(os.path.realpath(db))
    try:
        entry = json.loads(built.with_suffix(".inspect.json").read_text(encoding="utf-8")).get(built.stem)
        now = database_version(built)
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(entry, dict) or (entry.get("size"), entry.get("changes")) != now:
        return None
    return entry


def load_metadata(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """metadata.yml as a dict (empty when no file is given), checked (``metadata_check``)."""
    if path is None:
        return {}
    return read_metadata(path)


def check_database(db: Path) -> None:
    """Raise OpenDataError unless ``db`` is a SQLite database SQLite can read (its schema, at least):
    a server started on another file answered every page with an error."""
    _tables(db)


def _tables(db: Path) -> set[str]:
    """The tables of the database at ``db``; OpenDataError when SQLite cannot read it."""
    try:
        conn = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True)
        try:
            return {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise OpenDataError(f"{db}: not a SQLite database SQLite can read ({exc}); "
                            "build one with `opendata build`") from None


def not_built_here(db: Path) -> OpenDataError | None:
    """The error to give for a database opendata did not build (another program's, an empty one):
    the site's queries fail on it, and its metadata.yml was blamed (19 queries on tables not there)."""
    if BUILD_TABLES <= _tables(db):
        return None
    return OpenDataError(f"{db}: {NOT_BUILT}; build one with `opendata build`")


class SiteDatasette(Datasette):
    """Datasette whose ``/-/databases.json`` leaves out each database's ``path`` (where the file is
    on the publisher's disk: nothing a reader of the site needs)."""

    def _connected_databases(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in d.items() if k != "path"} for d in super()._connected_databases()]


def make_app(db_path: str | os.PathLike[str], *, metadata: str | os.PathLike[str] | dict | None = None,
             package_dir: str | os.PathLike[str] | None = None,
             settings: dict[str, Any] | None = None) -> Datasette:
    """A Datasette serving ``db_path`` immutable, with CORS, the metadata and the data package."""
    db = Path(db_path)
    if not db.is_file():
        raise FileNotFoundError(f"{db}: no such database (run `opendata build` first)")
    check_database(db)
    meta = metadata if isinstance(metadata, dict) else load_metadata(metadata)
    where = f"{metadata}: the metadata" if isinstance(metadata, (str, os.PathLike)) else "the metadata"
    if problems := metadata_problems(meta):
        raise MetadataError(f"{where} has {len(problems)} part(s) Datasette cannot use", problems)
    # The counts of the file, under the name it is served by (not another file's, nor of this one
    # before it changed: the pages showed them).
    own = _own_inspect(db)
    inspect_data = {DATABASE_NAME: {k: v for k, v in own.items() if k != "package"}} if own else None
    static = [ASSETS]
    if package_dir:
        static.append(("datapackage", str(Path(package_dir).resolve())))
    ds = SiteDatasette(
        immutables=[str(db)],
        metadata=meta,
        settings={**SETTINGS, **(settings or {})},
        cors=True,
        inspect_data=inspect_data,
        static_mounts=static,
        template_dir=str(HERE / "templates"),
    )
    _serve_as(ds, db.stem, DATABASE_NAME)
    if problems := _named_query_problems(ds, meta):
        raise not_built_here(db) or MetadataError(f"{where} has {len(problems)} part(s) Datasette cannot use", problems)
    if ds.executor is not None:  # num_sql_threads 0: every query on the event loop
        ds.executor.shutdown(wait=False)
        ds.executor = PatientExecutor(ds.setting("num_sql_threads"))
    return ds


def _serve_as(ds: Datasette, name: str, served: str) -> None:
    """The database Datasette named after its file (``name``) served as ``served``: metadata.yml,
    the landing page and every address of the README are the ``opendata`` database's, whatever
    the file is called (a build written to corpus.db lost its titles, named queries and charts)."""
    if name != served and name in ds.databases:
        database = ds.databases[name]
        ds.remove_database(name)
        ds.add_database(database, name=served)


def _named_query_problems(ds: Datasette, meta: dict[str, Any]) -> list[str]:
    """``query_problems`` on a connection to the served database as Datasette prepares one."""
    database = ds.get_database()
    conn = database.connect()
    try:
        pm.hook.prepare_connection(conn=conn, database=database.name, datasette=ds)
        return query_problems(meta, conn, database.name)
    finally:
        conn.close()


#: Where `serve` passes make_app's arguments to its worker processes (uvicorn starts them afresh).
WORKER_ARGS = "OPENDATA_SERVE_ARGS"


def settle_heap() -> None:
    """Leave what the server process holds at the start (Datasette, its plugins, templates, the
    metadata: ~55,000 objects) out of the garbage collector's full collections: each went through
    all of them, 16 ms during which no request was answered, once every hundred or so requests
    (1-1.5 ms after). Objects made while serving are collected as before."""
    gc.collect()
    gc.freeze()


def worker_app() -> Any:
    """The ASGI app of one worker process of `serve(..., workers=N)`, made from ``WORKER_ARGS``.

    The worker stops when the supervisor ends, even killed outright (SIGKILL): the workers went on
    answering on the port, with no one left to stop them. It gets SIGTERM, as from the supervisor
    stopping normally: uvicorn finishes the requests in progress and exits."""
    args = json.loads(os.environ[WORKER_ARGS])
    if args.get("supervisor"):
        end_with_parent(args["supervisor"], signal.SIGTERM)
    app = make_app(args["db_path"], metadata=args["metadata"], package_dir=args["package_dir"]).app()
    settle_heap()
    return app


#: The most server processes ``serve`` starts by default (about 65 MB each).
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Server processes by default: one per core this process may run on, at most MAX_DEFAULT_WORKERS
    (a page is rendered in Python: one process keeps one core busy; with 4 clients on 2 cores, one
    process answered the HTML pages in 94-112 ms at p99, two in 68-84)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def serve(db_path: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 8001,
          metadata: str | os.PathLike[str] | None = None, package_dir: str | os.PathLike[str] | None = None,
          workers: int | None = None, on_ready: Callable[[], None] | None = None) -> None:
    """Serve the database with uvicorn until interrupted, in ``workers`` processes sharing the port
    (``default_workers()`` when None). The address is taken (``listening_socket``) before anything
    starts, then ``on_ready`` is called."""
    import uvicorn

    workers = default_workers() if workers is None else workers
    ds = make_app(db_path, metadata=metadata, package_dir=package_dir)  # fails here, before any worker starts
    sock = listening_socket(host, port)
    if on_ready:
        on_ready()
    if workers <= 1:
        app = ds.app()
        settle_heap()
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
        return
    os.environ[WORKER_ARGS] = json.dumps({
        "supervisor": os.getpid(),  # uvicorn starts the workers from this process's main thread
        "db_path": str(Path(db_path).resolve()),
        "metadata": str(Path(metadata).resolve()) if metadata else None,
        "package_dir": str(Path(package_dir).resolve()) if package_dir else None})
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=workers, host=host, port=port,
                            log_level="warning")
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the server (all its processes) listens on, bound to ``host``:``port``, with
    TCP_NODELAY: uvicorn made its own without a protocol number, so asyncio did not set TCP_NODELAY
    on the connections it accepted and every response waited ~40 ms for a delayed ACK (p50 48 ms
    instead of 7 ms for a 50-row JSON page); accepted connections inherit the option from it.
    OpenDataError when the address cannot be taken (in use, not this machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        hint = "; is another server running there? choose another with --port" if \
            getattr(exc, "errno", None) == errno.EADDRINUSE else ""
        raise OpenDataError(f"cannot listen on {host}:{port} ({reason}){hint}") from None
    sock.set_inheritable(True)
    return sock
