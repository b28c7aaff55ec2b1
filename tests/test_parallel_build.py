"""The two-process build (``opendata build --jobs 2``): the same database as one process, the same
errors for bad input, the same guarantees when it fails, and a cut of the CSV that never splits a
record."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import opendata.build as build_module
import opendata.parallel as parallel
from opendata.build import LAST_TIMINGS, PAGE_SIZE, build
from opendata.errors import BuildError, PackageError
from opendata.package import load_package
from opendata.schema_sql import _open_range, split_point
from opendata.synth import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "package"
    info = write_corpus(path, departments=12, years=2, error_share=0.5, seed=11)
    assert len(info["seeded_errors"]) >= 8
    return path


def _contents(db: Path) -> dict[str, object]:
    """Every table's rows in rowid order, the schema, and the planner statistics."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")]
        rowid = {t for t in tables if not conn.execute("select 1 from sqlite_master where name = ? and sql like "
                                                       "'%without rowid%'", (t,)).fetchone()}
        # Rows in rowid order (ids included); a WITHOUT ROWID table in its primary key's order.
        out: dict[str, object] = {t: conn.execute(f"select * from [{t}]{' order by rowid' if t in rowid else ''}")
                                  .fetchall() for t in tables}
        out["schema"] = sorted(conn.execute("select type, name, tbl_name, sql from sqlite_master "
                                            "where name not like 'sqlite_%'").fetchall())
        out["stat1"] = sorted(conn.execute("select * from sqlite_stat1").fetchall())
        out["journal_mode"] = conn.execute("pragma journal_mode").fetchone()
        out["page_size"] = conn.execute("pragma page_size").fetchone()
        out["integrity"] = conn.execute("pragma integrity_check").fetchone()
    return out


def test_two_processes_build_the_same_database_as_one(corpus: Path, tmp_path: Path) -> None:
    one = build(corpus, tmp_path / "one.db", jobs=1)
    assert "analyze" in LAST_TIMINGS and "join part 3" not in LAST_TIMINGS
    two = build(corpus, tmp_path / "two.db", jobs=2)
    assert "join part 3" in LAST_TIMINGS and "waiting for the rules and schema checks" in LAST_TIMINGS  # the two-process path ran
    assert two.rows == one.rows and one.rows["amounts"] > 6000
    assert (one.processes, two.processes) == (1, 2)
    assert [f.to_row() for f in two.findings] == [f.to_row() for f in one.findings]
    seeded = json.loads((corpus / "seeded_errors.json").read_text(encoding="utf-8"))
    assert {e["report_id"] for e in seeded} <= {f.report_id for f in two.findings}
    a, b = _contents(tmp_path / "one.db"), _contents(tmp_path / "two.db")
    assert a["integrity"] == b["integrity"] == ("ok",)
    assert a["journal_mode"] == b["journal_mode"] == ("delete",)
    assert a["page_size"] == b["page_size"] == (PAGE_SIZE,) != (4096,)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.db", "one.inspect.json", "two.db", "two.inspect.json"]


@pytest.mark.parametrize("encoding,declared", [("gbk", "gbk"), ("utf-8-sig", "utf-8")])
def test_declared_encodings_are_cut_and_read_alike(corpus: Path, tmp_path: Path, encoding: str, declared: str) -> None:
    # A GBK file its descriptor declares, and UTF-8 with a byte-order mark: cut at byte offsets
    # (the mark only at the very start), the same database as one process, and as the UTF-8 corpus.
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    text = (pkg / "data" / "amounts.csv").read_text(encoding="utf-8")
    (pkg / "data" / "amounts.csv").write_bytes(text.encode(encoding))
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    next(r for r in descriptor["resources"] if r["name"] == "amounts")["encoding"] = declared
    (pkg / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False), encoding="utf-8")
    build(pkg, tmp_path / "two.db", jobs=2)
    assert "join part 3" in LAST_TIMINGS
    build(pkg, tmp_path / "one.db", jobs=1)
    build(corpus, tmp_path / "utf8.db", jobs=1)
    two, one, utf8 = (_contents(tmp_path / name) for name in ("two.db", "one.db", "utf8.db"))
    assert two == one
    assert two["amounts"] == utf8["amounts"] and two["search_index"] == utf8["search_index"]


def test_cli_jobs_option(corpus: Path, tmp_path: Path, runner) -> None:
    from opendata.cli import cli

    result = runner.invoke(cli, ["build", str(corpus), "-o", str(tmp_path / "x.db"), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "join part 3" in LAST_TIMINGS
    result = runner.invoke(cli, ["build", str(corpus), "-o", str(tmp_path / "x.db"), "--jobs", "3"])
    assert result.exit_code == 2 and "3 is not in the range 1<=x<=2" in result.output
    result = runner.invoke(cli, ["validate", str(corpus), "--jobs", "2"])
    assert result.exit_code == 1 and "join part 3" in LAST_TIMINGS  # the corpus has seeded errors
    assert "INVALID" in result.output and "Traceback" not in result.output


def test_validate_in_two_processes_finds_what_one_finds(corpus: Path, tmp_path: Path) -> None:
    from opendata.build import check
    from opendata.validate import validate_package

    one = validate_package(corpus, jobs=1)
    assert "rules" in LAST_TIMINGS and "join part 2" not in LAST_TIMINGS
    two = validate_package(corpus, jobs=2)
    assert "join part 3" in LAST_TIMINGS  # the two-process path ran ...
    # ... without the tables only the site reads (the one-process path has none either).
    assert not {"layout tables", "search index", "facet counts", "analyze", "findings"} & set(LAST_TIMINGS)
    assert [f.to_row() for f in two.findings] == [f.to_row() for f in one.findings]
    seeded = json.loads((corpus / "seeded_errors.json").read_text(encoding="utf-8"))
    assert {e["report_id"] for e in seeded} <= {f.report_id for f in two.findings}
    # The same findings as the build's, whatever the number of processes.
    built = build(corpus, tmp_path / "built.db", jobs=2)
    assert [f.to_row() for f in built.findings] == [f.to_row() for f in two.findings]
    checked = check(corpus, jobs=2)
    assert checked.processes == 2 and checked.rows == built.rows and not checked.path.exists()


def test_validate_in_two_processes_names_bad_cells_as_one(corpus: Path, tmp_path: Path) -> None:
    from opendata.validate import validate_package

    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    rows, first = _cut_row(pkg, 3)
    rows[first + 5][rows[0].index("amount")] = "一百"
    _write_rows(pkg, rows)
    two, one = validate_package(pkg, jobs=2), validate_package(pkg, jobs=1)
    assert two.schema_problems == one.schema_problems and not two.findings
    assert f"row {first + 6}" in "\n".join(two.schema_problems) and two.exit_code() == 1


def _cut_row(package: Path, part: int = 2) -> tuple[list[list[str]], int]:
    """The amounts rows (header first) and the index of the first row of ``part`` (2 or 3: the
    parts the second process loads)."""
    pkg = load_package(package)
    cut = build_module.part_cuts(pkg, pkg.get_resource("amounts"))[part - 2]
    assert cut is not None
    path = package / "data" / "amounts.csv"
    with _open_range(path, "utf-8-sig", 0, cut) as fh:
        first = sum(1 for _ in csv.reader(fh))
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows, first


def _write_rows(package: Path, rows: list[list[str]]) -> None:
    with open(package / "data" / "amounts.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _errors(package: Path, db: Path, jobs: int) -> PackageError:
    with pytest.raises(PackageError) as info:
        build(package, db, jobs=jobs)
    return info.value


def test_duplicate_key_across_the_cut_is_named_as_with_one_process(corpus: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    rows, first = _cut_row(pkg)
    # A row of the first part repeated as the last row: each part alone has no duplicate.
    rows.append(list(rows[1]))
    _write_rows(pkg, rows)
    two, one = _errors(pkg, tmp_path / "two.db", 2), _errors(pkg, tmp_path / "one.db", 1)
    assert str(two) == str(one) and two.problems == one.problems
    text = "\n".join(two.problems)
    assert f"row {len(rows)}" in text and "primary-key" in text and "amounts.csv" in text
    assert not (tmp_path / "two.db").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["package"]


def test_duplicate_key_inside_the_second_part_is_named_as_with_one_process(corpus: Path, tmp_path: Path) -> None:
    # The second process's table has no key of its own: the join into the whole table finds it.
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    rows, first = _cut_row(pkg)
    rows.insert(first + 12, list(rows[first + 3]))
    _write_rows(pkg, rows)
    two = _errors(pkg, tmp_path / "two.db", 2)
    # Both parts loaded; the join gave up and one process named the problem.
    assert "read and load (first part)" in LAST_TIMINGS and "join part 2" not in LAST_TIMINGS
    assert "two processes given up: one process from the start" in LAST_TIMINGS
    one = _errors(pkg, tmp_path / "one.db", 1)
    assert str(two) == str(one) and two.problems == one.problems
    text = "\n".join(two.problems)
    assert f"row {first + 13}" in text and "primary-key" in text


@pytest.mark.parametrize("part,offset,column,value,rule", [
    (2, 9, "source_ref", "", "constraint-error"),  # a required cell left empty
    (2, 5, "amount", "一百", "type-error"),  # a cell no caster accepts, in each part of the second process
    (3, 5, "amount", "一百", "type-error"),
    # Loaded without complaint (any text fits the column); the enum check after the load finds it.
    (2, 7, "side", "结余", "enum"),
])
def test_bad_cell_in_the_second_process_parts_is_named_as_with_one_process(corpus: Path, tmp_path: Path, part: int,
                                                                          offset: int, column: str, value: str,
                                                                          rule: str) -> None:
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    rows, first = _cut_row(pkg, part)
    bad = first + offset  # a row loaded by the second process
    rows[bad][rows[0].index(column)] = value
    _write_rows(pkg, rows)
    two, one = _errors(pkg, tmp_path / "two.db", 2), _errors(pkg, tmp_path / "one.db", 1)
    assert two.problems == one.problems
    text = "\n".join(two.problems)
    assert f"row {bad + 1}" in text and column in text and rule in text


def test_split_point_never_cuts_a_quoted_line_break(tmp_path: Path) -> None:
    # Records whose cells hold line breaks and quotes, around every possible cut.
    rows = [["id", "text"]] + [[str(i), f'第{i}行\n"续"\r\n, 说明' if i % 3 else f"行{i}"] for i in range(400)]
    for encoding in ("utf-8", "gbk"):
        folder = tmp_path / encoding
        (folder / "data").mkdir(parents=True)
        with open(folder / "data" / "t.csv", "w", encoding=encoding, newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows(rows)
        descriptor = {"resources": [{"name": "t", "path": "data/t.csv", "encoding": encoding, "format": "csv",
                                     "schema": {"fields": [{"name": "id", "type": "integer"},
                                                           {"name": "text", "type": "string"}]}}]}
        (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
        resource = load_package(folder).get_resource("t")
        size = (folder / "data" / "t.csv").stat().st_size
        cuts = set()
        for share in [i / 50 for i in range(1, 50)]:
            cut = split_point(resource, share)
            if cut is None:
                continue
            cuts.add(cut)
            enc = "utf-8-sig" if encoding == "utf-8" else "gb18030"
            with _open_range(folder / "data" / "t.csv", enc, 0, cut) as fh:
                head = list(csv.reader(fh))
            with _open_range(folder / "data" / "t.csv", enc, cut, None) as fh:
                tail = list(csv.reader(fh))
            assert head + tail == rows, (encoding, share)
            assert 0 < cut < size
        assert len(cuts) > 30, encoding
        # Counting quotes from an earlier cut (where a record starts) finds the same cuts.
        ordered = sorted(cuts)
        for earlier, later in zip(ordered, ordered[1:]):
            share = (later - 1) / size
            assert split_point(resource, share, after=earlier) == split_point(resource, share), (encoding, earlier)


def test_split_point_refuses_what_it_cannot_cut(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("id\n" + "\n".join(map(str, range(100))) + "\n", encoding="big5")
    descriptor = {"resources": [{"name": "t", "path": "data/t.csv", "encoding": "big5", "format": "csv",
                                 "schema": {"fields": [{"name": "id", "type": "integer"}]}}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    # Only encodings known to keep line feeds and quotes as single bytes are cut at a byte offset.
    assert split_point(load_package(tmp_path).get_resource("t"), 0.5) is None


def test_package_that_cannot_be_cut_is_built_by_one_process(corpus: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "split_point", lambda resource, share, after=0: None)
    result = build(corpus, tmp_path / "t.db", jobs=2)
    assert "join part 3" not in LAST_TIMINGS and "analyze" in LAST_TIMINGS and result.processes == 1
    assert result.rows == build(corpus, tmp_path / "u.db", jobs=1).rows


@pytest.fixture
def built(corpus: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    db = tmp_path / "out" / "opendata.db"
    build(corpus, db, jobs=2)
    return corpus, db, {p.name: p.read_bytes() for p in db.parent.iterdir()}


def _unchanged(db: Path, files: dict[str, bytes]) -> None:
    now = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    assert now.keys() == files.keys(), f"left behind: {set(now) - set(files)}"
    assert now == files


@pytest.mark.parametrize("step", ["_create_tables", "merge_part", "_indexes", "create_views", "create_layout_views",
                                  "_search_index", "_facet_counts", "in_registry_order", "_findings_table",
                                  "_inspect_data", "_sha256"])
@pytest.mark.parametrize("exc", [RuntimeError("boom"), sqlite3.OperationalError("disk I/O error"), KeyboardInterrupt()])
def test_two_process_build_that_fails_keeps_previous_database(built, monkeypatch: pytest.MonkeyPatch, step: str,
                                                             exc: BaseException) -> None:
    pkg, db, files = built

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(build_module, step, fail)
    with pytest.raises(KeyboardInterrupt if isinstance(exc, KeyboardInterrupt) else BuildError):
        build(pkg, db, jobs=2)
    _unchanged(db, files)


def _die(*args, **kwargs) -> None:
    os._exit(3)


def _raise(*args, **kwargs) -> None:
    raise sqlite3.OperationalError("database disk image is malformed")


@pytest.mark.parametrize("task", ["load_part_of", "search_documents_on", "primary_key_rules_on", "claimed_rules_on", "check_on"])
@pytest.mark.parametrize("how", [_die, _raise])
def test_second_process_that_fails_or_dies_fails_the_build_cleanly(built, monkeypatch: pytest.MonkeyPatch,
                                                                   task: str, how) -> None:
    # The worker is forked after the patch, so it runs the patched function.
    pkg, db, files = built
    monkeypatch.setattr(parallel, task, how)
    with pytest.raises(BuildError) as info:
        build(pkg, db, jobs=2)
    message = str(info.value)
    assert "previous database kept" in message
    assert ("ended unexpectedly (exit code 3)" if how is _die else "malformed") in message
    _unchanged(db, files)


@pytest.mark.parametrize("how", [_die, _raise])
def test_second_process_that_fails_or_dies_fails_validation_cleanly(corpus: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    runner, how) -> None:
    from opendata.cli import cli

    monkeypatch.setattr(parallel, "primary_key_rules_on", how)
    result = runner.invoke(cli, ["validate", str(corpus), "--jobs", "2"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert str(corpus) in result.output
    assert ("the check could not finish (RuntimeError: the second build process ended unexpectedly (exit code 3))"
            if how is _die else "validation could not run (OperationalError: database disk image is malformed)"
            ) in result.output


def test_worker_goes_on_before_its_reply_is_collected(tmp_path: Path) -> None:
    worker = parallel.Worker()
    try:
        worker.submit(_big_value)  # larger than a pipe's buffer
        worker.submit(_touch, str(tmp_path / "second"))
        # The second call runs although the first call's reply is not collected yet.
        for _ in range(200):
            if (tmp_path / "second").exists():
                break
            time.sleep(0.05)
        assert (tmp_path / "second").exists()
        assert len(worker.result()) == 1 << 20 and worker.result() != os.getpid()
    finally:
        worker.close()


def _big_value() -> bytes:
    return b"x" * (1 << 20)


def _touch(path: str) -> int:
    Path(path).touch()
    return os.getpid()


def test_default_processes(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = load_package(corpus)
    size = (corpus / "data" / "amounts.csv").stat().st_size
    monkeypatch.setattr(build_module.threading, "active_count", lambda: 1)  # whatever else the test run started
    assert size < build_module.PARALLEL_MIN_BYTES and build_module.parallel_jobs(package, None) == 1
    monkeypatch.setattr(build_module, "PARALLEL_MIN_BYTES", size)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert build_module.parallel_jobs(package, None) == 2
    assert build_module.parallel_jobs(package, 1) == 1 and build_module.parallel_jobs(package, 5) == 2
    with pytest.raises(BuildError):
        build_module.parallel_jobs(package, 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert build_module.parallel_jobs(package, None) == 1
    # A caller with threads of its own is not forked unless it asks.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(build_module.threading, "active_count", lambda: 3)
    assert build_module.parallel_jobs(package, None) == 1
    assert build_module.parallel_jobs(package, 2) == 2


def test_without_a_write_ahead_log_one_process_builds_it(corpus: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    one = build(corpus, tmp_path / "one.db", jobs=1)
    monkeypatch.setattr(build_module, "_write_ahead_log", lambda conn: False)
    two = build(corpus, tmp_path / "two.db", jobs=2)
    assert "two processes given up: one process from the start" in LAST_TIMINGS and "analyze" in LAST_TIMINGS
    assert "waiting for the rules and schema checks" not in LAST_TIMINGS
    assert two.rows == one.rows and [f.to_row() for f in two.findings] == [f.to_row() for f in one.findings]
    assert _contents(tmp_path / "one.db") == _contents(tmp_path / "two.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.db", "one.inspect.json", "two.db", "two.inspect.json"]


def _claim_some(n: int) -> list[int]:
    return [parallel._take(parallel._CLAIMS) for _ in range(n)]


def test_claims_are_shared_between_the_processes() -> None:
    # Each index of the shared list is taken once, by one process or the other.
    worker = parallel.Worker()
    try:
        mine = [worker.claim() for _ in range(3)]
        worker.submit(_claim_some, 4)
        theirs = worker.result()
        mine += [worker.claim() for _ in range(2)]
        assert sorted(mine + theirs) == list(range(9)) and theirs == [3, 4, 5, 6]
    finally:
        worker.close()


def _claim_nothing(db_path: str, rule_ids: list[str]) -> list:
    return []


def test_rules_the_second_process_leaves_are_run_by_the_first(corpus: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    one = build(corpus, tmp_path / "one.db", jobs=1)
    monkeypatch.setattr(parallel, "claimed_rules_on", _claim_nothing)
    two = build(corpus, tmp_path / "two.db", jobs=2)
    assert "rules taken from the second process" in LAST_TIMINGS
    assert [f.to_row() for f in two.findings] == [f.to_row() for f in one.findings]
    assert {f.rule_id for f in two.findings} - {"hierarchy.total", "hierarchy.class", "hierarchy.section"}


def test_claims_are_shared_with_a_spawned_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the system cannot fork, the second process is spawned: the shared counter goes with it.
    monkeypatch.setattr(parallel.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    worker = parallel.Worker()
    try:
        first = worker.claim()
        worker.submit(_claim_some, 2)
        assert (first, worker.result(), worker.claim()) == (0, [1, 2], 3)
        assert type(worker._process).__name__ == "SpawnProcess"
    finally:
        worker.close()


def test_a_claim_counter_left_locked_fails_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CLAIM_TIMEOUT", 0.2)
    worker = parallel.Worker()
    try:
        lock, held, done = worker._claims.get_lock(), threading.Event(), threading.Event()

        def hold() -> None:  # as if a process had died holding it
            with lock:
                held.set()
                done.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(10)
        with pytest.raises(RuntimeError, match="stayed locked"):
            worker.claim()
        done.set()
        holder.join()
        assert worker.claim() == 0
    finally:
        worker.close()


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork here")
def test_forked_worker_uses_the_package_the_build_opened(corpus: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    one = build(corpus, tmp_path / "one.db", jobs=1)
    opened: list[str] = []
    real = parallel.load_package

    def counting(path: str):
        opened.append(str(path))  # in the process that calls it; a forked worker's list is its own copy
        return real(path)

    def refused(path: str):
        raise AssertionError("the second process opened the descriptor again")

    # The build opens the package once (build_module's own reference); the forked worker inherits it
    # and must not open it again: load_part_of and check_on would raise in it.
    monkeypatch.setattr(build_module, "load_package", counting)
    monkeypatch.setattr(parallel, "load_package", refused)
    two = build(corpus, tmp_path / "two.db", jobs=2)
    assert two.processes == 2 and "join part 3" in LAST_TIMINGS
    assert opened == [str(corpus)] and two.rows == one.rows
    assert _contents(tmp_path / "two.db") == _contents(tmp_path / "one.db")
