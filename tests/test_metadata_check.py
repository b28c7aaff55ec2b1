"""metadata.yml, which a publisher edits, is checked before the server starts: a YAML error stopped
`opendata serve` with a traceback, and a part of the wrong kind started a server that answered
pages with a 500."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import opendata.site.app as site_app
from opendata.cli import cli
from opendata.errors import MetadataError
from opendata.site.app import make_app
from opendata.site.metadata_check import metadata_problems, query_problems, read_metadata

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))


class _WouldListen(Exception):
    """Raised instead of taking an address: the server would have started."""


@pytest.fixture
def no_listening(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(host: str, port: int):
        raise _WouldListen(f"{host}:{port}")

    monkeypatch.setattr(site_app, "listening_socket", refuse)


def test_the_shipped_metadata_is_read_as_it_is(site_db: Path) -> None:
    assert read_metadata(ROOT / "metadata.yml") == SHIPPED
    assert metadata_problems(SHIPPED) == []
    assert len(SHIPPED["databases"]["opendata"]["queries"]) >= 19
    make_app(site_db, metadata=SHIPPED)  # compiles every named query on the built database: no error
    queries = SHIPPED["databases"]["opendata"]["queries"]
    # On a database without the tables, each of them is named.
    assert len(query_problems(SHIPPED, sqlite3.connect(":memory:"), "opendata")) == len(queries)


@pytest.mark.parametrize("text, message", [
    ("title: 预算公开\n  bad: [\n", "line 2, column 6: not valid YAML (mapping values are not allowed here)"),
    ("- a\n- b\n", "the file must be a mapping (title:, databases: ...), not a list"),
    ("databases:\n  opendata:\n    tables: 5\n", "databases.opendata.tables: must be a mapping, not a number 5"),
    ("databases:\n  opendata:\n    tables:\n      amounts:\n        facets: measure\n",
     "databases.opendata.tables.amounts.facets: must be a list, not text 'measure'"),
    ("databases:\n  opendata:\n    tables:\n      amounts:\n        sortable_columns:\n",
     "databases.opendata.tables.amounts.sortable_columns: must be a list, not empty"),
    ("databases:\n  opendata:\n    tables:\n      reports:\n        sort: year\n        sort_desc: year\n",
     "databases.opendata.tables.reports.sort, databases.opendata.tables.reports.sort_desc: one or the other"),
    ("databases:\n  opendata:\n    queries:\n      q:\n        title: 查询\n",
     "databases.opendata.queries.q.sql: must be the query's SQL (text), not empty"),
    ("databases:\n  opendata:\n    queries:\n      q:\n        sql: select :a\n        params: [a, 3]\n",
     "databases.opendata.queries.q.params[1]: must be a parameter name (text), not a number 3"),
    ("title: 3\n", "title: must be text, not a number 3"),
    ("databases:\n  opendata:\n    queries:\n      q: selec 1\n",
     'databases.opendata.queries.q.sql: SQLite cannot run it on the database opendata (near "selec": syntax error)'),
    ("databases:\n  opendata:\n    queries:\n      q:\n        sql: select * from amount where report_id = :r\n",
     "databases.opendata.queries.q.sql: SQLite cannot run it on the database opendata (no such table: amount; a database built by an older opendata? build it again)"),
])
def test_serve_names_what_is_wrong_in_the_metadata_before_it_starts(site_db: Path, tmp_path: Path, runner,
                                                                    no_listening, text: str, message: str) -> None:
    path = tmp_path / "metadata.yml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["serve", str(site_db), "-m", str(path), "-p", "8123"])
    assert not isinstance(result.exception, _WouldListen), "the server would have started"
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"Error: {path}: " in result.output and message in result.output


def _pages_answered(ds) -> list[tuple[str, int]]:
    async def pages() -> list[tuple[str, int]]:
        await ds.invoke_startup()
        answered = []
        for url in ("/", "/opendata", "/opendata/amounts", "/opendata/reports.json", "/opendata/findings",
                    "/opendata/compare_totals", "/opendata/report_overview.json?report_id=x", "/-/metadata.json"):
            answered.append((url, (await ds.client.get(url)).status_code))
        return answered
    return asyncio.run(pages())


#: A few of the values a publisher may leave where another kind belongs.
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 60), st.sampled_from(["", "max", "report_id", "nope"]),
                    st.lists(st.sampled_from(["report_id", "nope", 3, {"array": "x"}]), max_size=2),
                    st.dictionaries(st.sampled_from(["amount", "sql"]), st.sampled_from(["万元", 3, None]), max_size=2))
_PLACES = st.sampled_from([("databases", "opendata", "tables", "amounts"), ("databases", "opendata", "tables", "reports"),
                           ("databases", "opendata", "queries", "compare_totals"), ("databases", "opendata"), ()])
_KEYS = st.sampled_from(["facets", "sort", "sort_desc", "sortable_columns", "label_column", "hidden", "size", "units",
                         "columns", "title", "description", "sql", "params", "hide_sql", "facet_size", "license",
                         "tables", "queries"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(_PLACES, _KEYS, _VALUES), min_size=1, max_size=3))
def test_any_metadata_is_refused_or_served_without_a_server_error(site_db: Path, edits) -> None:
    meta = copy.deepcopy(SHIPPED)
    for place, key, value in edits:
        part = meta
        for step in place:
            part = part.get(step) if isinstance(part, dict) else None
        if isinstance(part, dict):
            part[key] = value
    try:
        ds = make_app(site_db, metadata=meta)
    except MetadataError as exc:
        assert exc.problems
        return
    assert [(url, status) for url, status in _pages_answered(ds) if status >= 500] == []
