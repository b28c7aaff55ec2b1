"""The synthetic corpus: valid against its schema, identities hold, seeded errors are found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opendata.build import build
from opendata.package import load_package, schema_problems
from opendata.synth import ERROR_KINDS, write_corpus


def test_clean_corpus_is_valid_and_has_no_error_findings(tmp_path: Path) -> None:
    info = write_corpus(tmp_path / "p", departments=3, years=2, error_share=0.0, seed=11)
    assert info["seeded_errors"] == []
    assert schema_problems(load_package(tmp_path / "p")) == []
    result = build(tmp_path / "p", tmp_path / "x.db")
    assert result.rows["reports"] == 6 and result.rows["departments"] == 3
    assert result.rows["amounts"] == info["rows"]["amounts"] > 1000
    errors = [f for f in result.findings if f.severity == "error"]
    assert errors == [], errors[:3]


def test_seeded_errors_are_found_in_their_reports(tmp_path: Path) -> None:
    info = write_corpus(tmp_path / "p", departments=12, years=2, error_share=0.5, seed=2)
    seeded = info["seeded_errors"]
    assert seeded and {e["kind"] for e in seeded} <= set(ERROR_KINDS)
    assert json.loads((tmp_path / "p" / "seeded_errors.json").read_text(encoding="utf-8")) == seeded
    result = build(tmp_path / "p", tmp_path / "x.db")
    flagged = {f.report_id for f in result.findings if f.severity == "error"}
    assert {e["report_id"] for e in seeded} == flagged


def test_same_seed_same_corpus(tmp_path: Path) -> None:
    write_corpus(tmp_path / "a", departments=2, years=1, error_share=0.3, seed=4)
    write_corpus(tmp_path / "b", departments=2, years=1, error_share=0.3, seed=4)
    for name in ("amounts", "statements", "projects"):
        assert (tmp_path / "a" / "data" / f"{name}.csv").read_bytes() == \
            (tmp_path / "b" / "data" / f"{name}.csv").read_bytes()


@pytest.mark.parametrize("years", [1, [2019, 2021]])
def test_years_as_count_or_list(tmp_path: Path, years) -> None:
    info = write_corpus(tmp_path / "p", departments=1, years=years, error_share=0.0, seed=1)
    n = years if isinstance(years, int) else len(years)
    assert info["rows"]["reports"] == n
    assert info["rows"]["classification"] > 100 * n
