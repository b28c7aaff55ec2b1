"""Where a report was published and its terms of use: `opendata import --source-url --license`,
kept through a re-import, in reports.csv, the descriptor's sources and the site's report overview."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendata.build import build
from opendata.cli import cli
from test_import import _files
from opendata.site.app import make_app

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds" / "000_a04efb588eb58bab.txt"
SEED_ID = "zhuzhou-lusong-kjgxj-2020-final"
URL = "http://www.hnzzls.gov.cn/c/2021-09/jsjg-2020-final.html?id=1"
pytestmark = pytest.mark.skipif(not SEED.exists(), reason="seed report not available")


@pytest.fixture
def package(package_copy: Path) -> Path:
    return package_copy


def _report(package: Path) -> dict[str, str]:
    with open(package / "data" / "reports.csv", encoding="utf-8", newline="") as fh:
        return next(r for r in csv.DictReader(fh) if r["report_id"] == SEED_ID)


def _source(package: Path) -> dict:
    sources = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))["sources"]
    return next(s for s in sources if s["report_id"] == SEED_ID)



def test_the_publishers_address_and_terms_are_recorded_and_kept(package: Path) -> None:
    runner = CliRunner()
    terms = "本报告可自由转载，须注明出处。"
    result = runner.invoke(cli, ["import", str(SEED), "--package", str(package), "--source-url", f" {URL} ",
                                 "--license", terms])
    assert result.exit_code == 0, result.output
    report = _report(package)
    assert (report["source_url"], report["license"]) == (URL, terms)
    assert _source(package)["path"] == URL
    assert f"terms of use: {terms}" in _source(package)["description"]
    # The seed's text states no terms: imported again without the options, the report keeps both.
    again = runner.invoke(cli, ["import", str(SEED), "--package", str(package)])
    assert again.exit_code == 0, again.output
    assert (_report(package)["source_url"], _report(package)["license"]) == (URL, terms)
    assert _source(package)["path"] == URL


def test_the_report_overview_links_to_where_the_report_was_published(package: Path, tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["import", str(SEED), "--package", str(package), "--source-url", URL]).exit_code == 0
    db = tmp_path / "site.db"
    build(package, db)

    async def overview() -> dict:
        ds = make_app(db, metadata=str(ROOT / "metadata.yml"), package_dir=package)
        await ds.invoke_startup()
        response = await ds.client.get(f"/opendata/report_overview.json?report_id={SEED_ID}&_shape=objects")
        assert response.status_code == 200, response.text
        return response.json()["rows"][0]

    row = asyncio.run(overview())
    assert (row["来源网址"], row["来源文件"], row["使用条款"]) == (URL, "000_a04efb588eb58bab.txt", "not stated")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/r.pdf", "www.example.org/r.pdf",
                                 "http://example.org/a b.pdf", 'https://example.org/"x', "http://[::1"])
def test_an_address_that_is_not_http_is_refused_and_nothing_is_written(package: Path, url: str) -> None:
    before = _files(package)
    result = CliRunner().invoke(cli, ["import", str(SEED), "--package", str(package), "--source-url", url])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--source-url" in result.output and "http:// or https://" in result.output
    assert _files(package) == before


def test_an_empty_license_is_refused(package: Path) -> None:
    result = CliRunner().invoke(cli, ["import", str(SEED), "--package", str(package), "--license", "  "])
    assert result.exit_code == 2 and "--license is empty" in result.output


def test_a_source_url_written_by_hand_must_be_an_address(package: Path, tmp_path: Path) -> None:
    # The landing page prints the address as a link: a javascript: one would run in citizens' browsers.
    path = package / "data" / "reports.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("000_a04efb588eb58bab.txt,bf2cc57872bed27d421e88401a4c628db2a52e55c5d53092a74543d268f7a504,,",
                                 "000_a04efb588eb58bab.txt,bf2cc57872bed27d421e88401a4c628db2a52e55c5d53092a74543d268f7a504,"
                                 "javascript:alert(1),"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(package)])
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "data/reports.csv, row 3, field source_url" in flat and 'constraint "pattern"' in flat
    assert CliRunner().invoke(cli, ["build", str(package), "-o", str(tmp_path / "x.db")]).exit_code == 2


def test_an_address_with_its_scheme_in_capitals_is_written_in_small_letters(package: Path) -> None:
    # HTTP://... passed the import's check, then failed reports.csv's pattern (https?://) after the
    # whole report was read.
    result = CliRunner().invoke(cli, ["import", str(SEED), "--package", str(package), "--source-url",
                                      "HTTP://www.hnzzls.gov.cn/A.html"])
    assert result.exit_code == 0, result.output
    assert _report(package)["source_url"] == "http://www.hnzzls.gov.cn/A.html"
