"""The `opendata` command: a thin click layer over the library."""

from __future__ import annotations

import json
import os
import signal
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import OpenDataError

if TYPE_CHECKING:
    from .build import BuildResult

DEFAULT_PACKAGE = "datapackage"
DEFAULT_DB = "build/opendata.db"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt: the command stops and cleans up as it
    does for Ctrl-C (a build removes its temporary files and keeps the previous database)."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within, SIGTERM raises Terminated in the main thread (where Python runs signal handlers)."""
    if threading.current_thread() is not threading.main_thread():  # a handler can only be set there
        yield
        return
    pid = os.getpid()

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != pid:  # a child forked before it reset the handler: it ends as SIGTERM ends it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            os._exit(128 + signum)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sigterm_like_ctrl_c(func: Callable[..., Any]) -> Callable[..., Any]:
    """SIGTERM (kill, a service manager, a CI timeout) stops the command as Ctrl-C does, cleaning up
    (it killed the process outright: a build left its temporary files beside the database); a
    message, no traceback, exit code 143 (128 + SIGTERM). Ctrl-C exits 130 (128 + SIGINT), as
    shells expect of it (click's "Aborted!" exited 1, the code of a package with errors)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _sigterm_as_interrupt():
                return func(*args, **kwargs)
        except Terminated:
            click.echo("Aborted: terminated (SIGTERM)", err=True)
            sys.exit(128 + signal.SIGTERM)
        except KeyboardInterrupt:
            click.echo("Aborted: interrupted (Ctrl-C)", err=True)
            sys.exit(128 + signal.SIGINT)

    return wrapper


def _library_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library exceptions into a clear message and exit code 2, no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OpenDataError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="opendata")
def cli() -> None:
    """opendata: Chinese budget disclosures (部门预算/部门决算) as validated open data.

    Typical flow: opendata import REPORT, opendata validate, opendata build, opendata serve.
    """


@cli.command()
@click.argument("package", default=DEFAULT_PACKAGE, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON report.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("-j", "--jobs", type=click.IntRange(1, 2), default=None,
              help="Processes, as for build [default: 2 for a package with a CSV of 4 MB or more on a "
                   "machine with 2 cores or more, else 1].")
@_library_errors
@_sigterm_like_ctrl_c
def validate(package: str, as_json: bool, strict: bool, jobs: int | None) -> None:
    """Validate PACKAGE: frictionless schema validation and every accounting rule.

    Exit status: 0 valid (warnings allowed), 1 errors found, 2 unusable input.
    """
    from .report import format_validation, unusable_json, validation_json
    from .validate import validate_package

    try:
        result = validate_package(package, jobs=jobs)
    except OpenDataError as exc:
        if as_json:  # a reader of the JSON gets JSON (and the message on stderr, as without --json)
            click.echo(json.dumps(unusable_json(package, exc), ensure_ascii=False, indent=2))
        raise
    if as_json:
        click.echo(json.dumps(validation_json(result, strict), ensure_ascii=False, indent=2))
    else:
        click.echo(format_validation(result, strict))
    sys.exit(result.exit_code(strict))


@cli.command()
@click.argument("package", default=DEFAULT_PACKAGE, type=click.Path())
@click.option("-o", "--output", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
              help="The SQLite file to write (replaced only when the build succeeds).")
@click.option("-j", "--jobs", type=click.IntRange(1, 2), default=None,
              help="Processes: 2 loads most of the largest CSV and runs rules in a second process "
                   "[default: 2 for a package with a CSV of 4 MB or more on a machine with 2 cores or more, else 1].")
@_library_errors
@_sigterm_like_ctrl_c
def build(package: str, output: str, jobs: int | None) -> None:
    """Build PACKAGE into a SQLite database for Datasette.

    Findings of the accounting rules go into the `findings` table and do not stop the build;
    a package that breaks its schema does. The database holds the same tables, rows and findings
    whatever --jobs (its file may differ: pages laid out in another order).
    """
    from .build import InterruptedOnceBuilt
    from .build import build as build_database

    try:
        result = build_database(package, output, jobs=jobs)
    except InterruptedOnceBuilt as done:  # it said "Aborted" of a database it had put in place
        _built(done.result)
        signum = signal.SIGTERM if isinstance(done.interrupt, Terminated) else signal.SIGINT
        click.echo(f"Interrupted ({'SIGTERM' if signum == signal.SIGTERM else 'Ctrl-C'}) once the new "
                   f"database was in place: {done.result.path} is kept", err=True)
        sys.exit(128 + signum)
    _built(result)


def _built(result: BuildResult) -> None:
    """The line a build ends with: the database, its tables' rows, its findings."""
    tables = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    errors = sum(f.severity == "error" for f in result.findings)
    click.echo(f"Built {result.path}: {tables}; findings: {len(result.findings)} ({errors} errors)")


@cli.command()
@click.argument("db", default=DEFAULT_DB, type=click.Path(dir_okay=False))
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("-p", "--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option("-m", "--metadata", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Datasette metadata (titles, descriptions, facets, named queries)  [default: ./metadata.yml, "
                   "else the opendata checkout's]")
@click.option("--package", "package_dir", default=DEFAULT_PACKAGE, show_default=True, type=click.Path(file_okay=False),
              help="Data package offered for download at /datapackage/; skipped when missing, and when the "
                   "default one is not the package DB was built from.")
@click.option("-w", "--workers", default=None, type=click.IntRange(1, 64),
              help="Server processes sharing the port (one core each)  [default: one per core, at most 4]")
@_library_errors
def serve(db: str, host: str, port: int, metadata: str | None, package_dir: str, workers: int | None) -> None:
    """Serve DB with Datasette (read-only, immutable, CORS on) on http://HOST:PORT."""
    from .site.app import check_database, default_metadata, default_workers, not_built_here, package_mismatch
    from .site.app import serve as serve_database

    if not Path(db).is_file():
        raise FileNotFoundError(f"{db}: no such database (run `opendata build` first)")
    check_database(Path(db))
    meta = str(metadata or default_metadata() or "") or None
    if meta is not None and (foreign := not_built_here(Path(db))):  # the site's pages read opendata's tables
        raise foreign
    if meta is None:
        click.echo("Warning: no metadata.yml here nor in the opendata checkout: the site is served without its "
                   "titles, column descriptions, named queries and landing page charts (give one with --metadata)",
                   err=True)
    pkg = package_dir if Path(package_dir, "datapackage.json").is_file() else None
    if pkg and (mismatch := package_mismatch(Path(db), Path(pkg))):
        if click.get_current_context().get_parameter_source("package_dir") == click.core.ParameterSource.DEFAULT:
            # a developer downloading /datapackage/ got another package than the one the API served
            click.echo(f"Warning: {mismatch}: /datapackage/ is not served (give --package with the package "
                       f"{db} was built from)", err=True)
            pkg = None
        else:
            click.echo(f"Warning: {mismatch}; the site offers it at /datapackage/ as the database's", err=True)
    processes = default_workers() if workers is None else workers
    serve_database(db, host=host, port=port, metadata=meta, package_dir=pkg, workers=processes,
                   on_ready=lambda: click.echo(f"Serving {db} on http://{host}:{port}/ with {processes} "
                                               f"process{'es' if processes > 1 else ''} (Ctrl+C stops)"))


@cli.command()
@click.argument("package_dir", metavar="DIR", type=click.Path(file_okay=False))
@_library_errors
def init(package_dir: str) -> None:
    """Make DIR a new, empty data package: the shipped descriptor (resources and schemas, no
    sources), the nine standard tables of the template, a header-only CSV for every other resource.
    Then `opendata import REPORT --package DIR`."""
    from .package import init_package

    written = init_package(Path(package_dir))
    click.echo(f"New data package in {package_dir}: {len(written)} files (datapackage.json and {len(written) - 1} CSV); "
               f"add reports with `opendata import REPORT --package {shlex.quote(str(package_dir))}`")


@cli.command(name="import")
@click.argument("report", type=click.Path(exists=True, dir_okay=False))
@click.option("--package", "package_dir", default=DEFAULT_PACKAGE, show_default=True, type=click.Path(file_okay=False),
              help="The data package to add the report to.")
@click.option("--report-id", default=None, help="Identifier to give the report (default: derived from the text): "
                                                "lowercase ASCII letters, digits and '-'.")
@click.option("--department-id", default=None,
              help="The department to file the report under, e.g. the one a department renamed since had "
                   "(default: derived from the name the report gives).")
@click.option("--source-url", default=None, metavar="URL",
              help="Where the publisher published the report (http/https); the site links to it. "
                   "Kept when the report is imported again without it.")
@click.option("--license", "license_", default=None, metavar="TEXT",
              help="The terms of use the publisher states (default: the report's own sentence stating them, "
                   "else those recorded by an earlier import, else 'not stated').")
@_library_errors
@_sigterm_like_ctrl_c
def import_(report: str, package_dir: str, report_id: str | None, department_id: str | None,
            source_url: str | None, license_: str | None) -> None:
    """Add REPORT (a PDF, or a .txt of its text) to the data package.

    Re-importing the same report replaces its rows and nothing else. The import ends with a
    summary, the sentences with numbers it did not understand, and the validation findings.
    """
    from .ingest.importer import ImportInterrupted, format_summary, import_report

    try:
        summary = import_report(Path(report), Path(package_dir), report_id=report_id, source_url=source_url,
                                license=license_, department_id=department_id)
    except ImportInterrupted as exc:  # after the rows were written: not "Aborted!", which says nothing was
        if exc.summary is not None:
            click.echo(format_summary(exc.summary))
        terminated = isinstance(exc.interrupt, Terminated)
        click.echo(f"Interrupted ({'SIGTERM' if terminated else 'Ctrl-C'}) after the report was written: it is "
                   f"imported, its validation did not finish; run `opendata validate {package_dir}`", err=True)
        sys.exit(128 + (signal.SIGTERM if terminated else signal.SIGINT))
    click.echo(format_summary(summary))


@cli.command()
@click.argument("report_id")
@click.option("--package", "package_dir", default=DEFAULT_PACKAGE, show_default=True, type=click.Path(file_okay=False),
              help="The data package to take the report out of.")
@_library_errors
@_sigterm_like_ctrl_c
def remove(report_id: str, package_dir: str) -> None:
    """Take report REPORT_ID (its report_id in reports.csv) out of the data package.

    Every row of it goes, in every file, and its entry in the descriptor's sources; its department
    and classification rows stay. To rename a department, remove its reports and import them again.
    """
    from .removal import format_removal, remove_report

    click.echo(format_removal(remove_report(Path(package_dir), report_id)))


if __name__ == "__main__":  # pragma: no cover
    cli()
