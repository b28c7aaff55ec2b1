"""The click layer: commands, exit codes and messages, over the real shipped package."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest


from opendata import __version__
from opendata.cli import cli
from opendata.validate import validate_package
from opendata.report import validation_json

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "datapackage"
SEED_REPORT = "zhuzhou-lusong-kjgxj-2020-final"


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"opendata, version {__version__}"


def test_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "validate", "build", "serve"):
        assert f"  {command} " in result.output
    for command in ("import", "validate", "build", "serve"):
        sub = runner.invoke(cli, [command, "--help"])
        assert sub.exit_code == 0 and "Usage: " in sub.output


def test_validate_shipped_package_has_no_schema_problems(runner):
    result = runner.invoke(cli, ["validate", str(PACKAGE)])
    assert result.exit_code in (0, 1), result.output
    assert "0 schema problems" in result.output


def test_validate_json_equals_library_report(runner):
    result = runner.invoke(cli, ["validate", str(PACKAGE), "--json"])
    assert result.exit_code in (0, 1)
    printed = json.loads(result.output)
    assert printed == json.loads(json.dumps(validation_json(validate_package(PACKAGE)), ensure_ascii=False))
    assert printed["schema_problems"] == []


def test_build_writes_the_seed_figures(runner, tmp_path):
    db_path = tmp_path / "out.db"
    result = runner.invoke(cli, ["build", str(PACKAGE), "-o", str(db_path)])
    assert result.exit_code == 0, result.output
    assert f"Built {db_path}" in result.output
    conn = sqlite3.connect(db_path)
    # The 18 项 lines of 一般公共预算财政拨款支出 add up to the stated total, 2540.24 万元.
    (total, lines), = conn.execute(
        "select round(sum(amount), 2), count(*) from amounts where report_id = ? and table_no = 5 "
        "and measure = '合计' and length(code) = 7", [SEED_REPORT])
    assert (total, lines) == (2540.24, 18)
    (stated,), = conn.execute(
        "select amount from amounts where report_id = ? and table_no = 5 and line_key = '合计' and measure = '合计'",
        [SEED_REPORT])
    assert stated == 2540.24


def test_build_refuses_a_broken_package_and_keeps_the_old_database(runner, package_copy, tmp_path):
    db_path = tmp_path / "out.db"
    assert runner.invoke(cli, ["build", str(package_copy), "-o", str(db_path)]).exit_code == 0
    before = db_path.read_bytes()
    amounts = package_copy / "data" / "amounts.csv"
    with amounts.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("amount")] = "abc"
    with amounts.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    result = runner.invoke(cli, ["build", str(package_copy), "-o", str(db_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "amounts" in result.output and "row 2" in result.output and "field amount" in result.output
    assert "type-error" in result.output
    assert db_path.read_bytes() == before


def test_validate_unreadable_descriptor_exits_2(runner, package_copy):
    (package_copy / "datapackage.json").write_text("{not json", encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(package_copy)])
    assert result.exit_code == 2
    assert "datapackage.json: line 1" in result.output and "malformed JSON" in result.output


def test_serve_without_database_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(cli, ["serve", str(tmp_path / "missing.db")])
    assert result.exit_code == 2
    assert "no such database" in result.output


def test_serve_outside_the_checkout_uses_the_sites_metadata(runner, site_db, tmp_path, monkeypatch):
    """A publisher served a build from their own folder: metadata.yml was silently skipped, and the
    named queries (and so the landing page's charts) answered 404."""
    from opendata.site import app

    started = {}
    monkeypatch.setattr(app, "serve", lambda db, **options: started.update(options))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["serve", str(site_db)])
    assert result.exit_code == 0, result.output
    assert Path(started["metadata"]).resolve() == (Path(__file__).resolve().parents[1] / "metadata.yml")
    # A metadata.yml in the folder served from is the one used.
    (tmp_path / "metadata.yml").write_text("title: 本局的数据\n", encoding="utf-8")
    assert runner.invoke(cli, ["serve", str(site_db)]).exit_code == 0
    assert Path(started["metadata"]).resolve() == tmp_path / "metadata.yml"
    # Without either, the site is served and the user told what it lacks.
    (tmp_path / "metadata.yml").unlink()
    monkeypatch.setattr(app, "PROJECT_METADATA", tmp_path / "none.yml")
    result = runner.invoke(cli, ["serve", str(site_db)])
    assert result.exit_code == 0 and started["metadata"] is None
    assert "Warning: no metadata.yml here nor in the opendata checkout" in result.output
    # A package that is not the one the database was built from: said (the site offers it as its).
    other = tmp_path / "other"
    shutil.copytree(Path(__file__).resolve().parents[1] / "datapackage", other)
    reports = other / "data" / "reports.csv"
    reports.write_text("\n".join(reports.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["serve", str(site_db), "--package", str(other)])
    assert result.exit_code == 0 and started["package_dir"] == str(other)
    assert (f"Warning: {other} is not the package {site_db} was built from: data/reports.csv changed since the build "
            "(run `opendata build` again); the site offers it at /datapackage/ as the database's") in " ".join(
        result.output.split())
    assert "package the database was built from" not in runner.invoke(
        cli, ["serve", str(site_db), "--package", str(Path(__file__).resolve().parents[1] / "datapackage")]).output
    # The default ./datapackage, another package than the database's: not offered at /datapackage/
    # (a developer downloaded the shipped 283 rows beside an API serving a corpus of 258,136).
    shutil.copytree(other, tmp_path / "datapackage")
    result = runner.invoke(cli, ["serve", str(site_db)])
    assert result.exit_code == 0 and started["package_dir"] is None
    assert "/datapackage/ is not served (give --package with the package" in " ".join(result.output.split())
    # One named that is not there is an error, not skipped.
    result = runner.invoke(cli, ["serve", str(site_db), "--metadata", "absent.yml"])
    assert result.exit_code == 2 and "absent.yml" in result.output and "does not exist" in result.output


@pytest.mark.parametrize("content", [b"not a database\n" * 10, b"SQLite format 3\x00" + b"\x00" * 50], ids=["text", "header"])
def test_serve_refuses_a_file_that_is_not_a_database(runner, tmp_path, content, monkeypatch):
    # Started on such a file, the server answered every page with an error.
    monkeypatch.setattr("opendata.site.app.serve", lambda *a, **k: pytest.fail("the server was started"))
    (tmp_path / "x.db").write_bytes(content)
    result = runner.invoke(cli, ["serve", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "x.db: not a SQLite database" in result.output and "Serving" not in result.output


@pytest.mark.parametrize("sql", ["create table notes (x); insert into notes values (1)", ""], ids=["another", "empty"])
def test_serve_refuses_a_database_opendata_did_not_build(runner, tmp_path, sql, monkeypatch):
    # It blamed metadata.yml: "the metadata has 19 part(s) Datasette cannot use ... no such table: reports".
    import sqlite3

    monkeypatch.setattr("opendata.site.app.serve", lambda *a, **k: pytest.fail("the server was started"))
    with sqlite3.connect(tmp_path / "notes.db") as conn:
        conn.executescript(sql)
    result = runner.invoke(cli, ["serve", str(tmp_path / "notes.db")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    flat = " ".join(result.output.split())
    assert "notes.db: a SQLite database that opendata did not build" in flat and "metadata" not in flat


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_an_address_in_use_is_a_clear_error(runner, tmp_path, workers):
    import socket

    from opendata.build import build

    build(Path(__file__).resolve().parent.parent / "datapackage", tmp_path / "x.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = runner.invoke(cli, ["serve", str(tmp_path / "x.db"), "--port", str(port), "--workers", workers])
    assert result.exit_code == 2 and "Traceback" not in result.output and "Serving" not in result.output
    assert f"cannot listen on 127.0.0.1:{port} (Address already in use)" in result.output
