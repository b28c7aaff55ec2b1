"""Shared fixtures: the shipped data package, copies of it to break, its SQLite build."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PACKAGE = ROOT / "datapackage"
METADATA = ROOT / "metadata.yml"


def _built_corpus(directory: Path, **corpus) -> Path:
    from opendata.build import build
    from opendata.synth import write_corpus

    write_corpus(directory / "pkg", **corpus)
    build(directory / "pkg", directory / "opendata.db")
    return directory / "opendata.db"


@pytest.fixture(scope="session")
def built_corpus():
    """``built_corpus(directory, **corpus)``: a synthetic corpus (``opendata.synth.write_corpus(**corpus)``)
    written under ``directory`` and built into ``directory / "opendata.db"``, which it returns."""
    return _built_corpus


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the shipped package that a test may change."""
    dest = tmp_path / "pkg"
    shutil.copytree(SHIPPED_PACKAGE, dest)
    return dest


@pytest.fixture(scope="session")
def site_package() -> Path:
    """The package the site serves: the shipped one, as it is."""
    return SHIPPED_PACKAGE


@pytest.fixture(scope="session")
def site_db(site_package, tmp_path_factory) -> Path:
    """The shipped package built into SQLite once per session."""
    from opendata.build import build

    path = tmp_path_factory.mktemp("sitedb") / "opendata.db"
    build(site_package, path)
    return path


@pytest.fixture(scope="session")
def seed_report(site_db) -> str:
    """The report of 株洲市芦淞区科技和工业信息化局 for 2020 (whatever id the importer gave it)."""
    with sqlite3.connect(site_db) as conn:
        row = conn.execute("select r.report_id from reports r join departments d using (department_id) "
                           "where d.name like '%芦淞区科技和工业信息化局%' and r.year = 2020").fetchone()
    assert row, "the seed report is missing from the site package"
    return row[0]


@pytest.fixture
def watch_sql(monkeypatch):
    """``watch_sql(owner)``: a list of the SQL that ``owner.execute`` is asked from then on, in order
    (``Database``: every database's; a Datasette: its ``execute(database, sql, ...)``). ``fail``, a
    function of the SQL, makes the calls it is true for raise its answer instead."""

    def watch(owner, fail=None) -> list[str]:
        asked: list[str] = []
        original = owner.execute

        async def recorded(first, sql, *args, **kwargs):
            asked.append(sql)
            error = fail(sql) if fail else None
            if error is not None:
                raise error
            return await original(first, sql, *args, **kwargs)

        monkeypatch.setattr(owner, "execute", recorded)
        return asked

    return watch
