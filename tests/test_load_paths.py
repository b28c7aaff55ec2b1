"""The set-based load (schema_sql) must never accept what the streaming reader (schema_stream) refuses,
and when both accept a package they must load the same values."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import pytest
import sqlite_utils

from opendata.build import _create_tables
from opendata.package import load_package
from opendata.schema_sql import check_loaded, load_checked
from opendata.schema_stream import read_package
from opendata.synth import write_corpus

#: Cells that sit on the edge of what a Table Schema type or constraint accepts.
TRICKY = ["", " ", "0", "-0", "-0.5", "01", "+1", "1.0", "1e3", "1E3", ".5", "5.", "1,000", "１２", "nan", "inf",
          "1.23456", "12345678901.5", "-3.5", "3.14159", "9999999999.99", "abc", "true", "True", "1", "x", "收入",
          "支出", "table", "narrative", "stated", "10101", "201", "2010101", "999", "1 ", " 1", "1_000", "0x10",
          "-", "1..2", "2021", "1989", "2101", "万元", "元", "attached", "false"]


def _dump(db: sqlite_utils.Database, package) -> dict:
    return {r.name: db.conn.execute(f"select * from [{r.name}] order by rowid").fetchall() for r in package.resources}


def _set_based(path: Path, db_path: Path) -> dict | None:
    package = load_package(path)
    db = sqlite_utils.Database(db_path, recreate=True)
    _create_tables(db, package)
    ok = load_checked(db.conn, package) is not None and check_loaded(db.conn, package)
    return _dump(db, package) if ok else None


def _streaming(path: Path, db_path: Path) -> dict | None:
    package = load_package(path)
    if read_package(package).count:
        return None
    db = sqlite_utils.Database(db_path, recreate=True)
    _create_tables(db, package)

    def sink(resource, rows):
        n = len(resource.schema.fields)
        db.conn.executemany(f"insert or ignore into [{resource.name}] values ({', '.join('?' * n)})", rows)

    read_package(package, sink, pk_in_sink=True)
    return _dump(db, package)


def _mutate(pkg: Path, rnd: random.Random) -> None:
    files = sorted((pkg / "data").iterdir())
    path = rnd.choice(files)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2:
        return
    i, j = rnd.randrange(1, len(rows)), rnd.randrange(len(rows[0]))
    kind = rnd.random()
    if kind < 0.8:
        rows[i][j] = rnd.choice(TRICKY + [rows[rnd.randrange(1, len(rows))][j]])
    elif kind < 0.85:
        rows.insert(i, list(rows[rnd.randrange(1, len(rows))]))  # a duplicate row
    elif kind < 0.9:
        rows[i] = rows[i][:-1]
    elif kind < 0.95:
        rows[i] = []
    else:
        rows[i] = rows[i] + ["x"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("paths") / "base"
    write_corpus(base, 2, 1, 0.0, 3)
    return base


@pytest.mark.parametrize("seed", range(4))
def test_set_based_load_agrees_with_the_streaming_reader(corpus, tmp_path, seed):
    rnd = random.Random(seed)
    outcomes = {"both": 0, "refused_by_both": 0, "left_to_streaming": 0}
    for _ in range(25):
        work = tmp_path / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(corpus, work)
        for _ in range(rnd.choice([1, 1, 2])):
            _mutate(work, rnd)
        fast = _set_based(work, tmp_path / "fast.db")
        slow = _streaming(work, tmp_path / "slow.db")
        assert not (fast is not None and slow is None), "the set-based load accepted what the reader refuses"
        if fast is not None:
            assert fast == slow, "both accept, but the loaded values differ"
            outcomes["both"] += 1
        else:
            outcomes["refused_by_both" if slow is None else "left_to_streaming"] += 1
    assert outcomes["refused_by_both"] > 0 and outcomes["both"] + outcomes["left_to_streaming"] > 0, outcomes
