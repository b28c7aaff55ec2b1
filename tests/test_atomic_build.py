"""A build that fails at any point leaves the previous database (and its inspect file) in place,
byte for byte, and no temporary file behind."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import opendata.build as build_module
from opendata.build import build
from opendata.errors import BuildError, OpenDataError, PackageError
from opendata.synth import write_corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("atomic") / "package"
    write_corpus(path, departments=2, years=2, error_share=0.5, seed=5)
    return path


@pytest.fixture
def built(corpus: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    pkg = tmp_path / "package"
    shutil.copytree(corpus, pkg)
    db = tmp_path / "out" / "opendata.db"
    build(pkg, db)
    files = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    return pkg, db, files


def _unchanged(db: Path, files: dict[str, bytes]) -> None:
    now = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    assert now.keys() == files.keys(), f"left behind: {set(now) - set(files)}"
    for name, data in files.items():
        assert hashlib.sha256(now[name]).hexdigest() == hashlib.sha256(data).hexdigest(), name


def test_build_writes_database_and_inspect_file(built) -> None:
    _pkg, db, files = built
    assert set(files) == {"opendata.db", "opendata.inspect.json"}
    inspect = json.loads(files["opendata.inspect.json"])
    entry = inspect["opendata"]
    assert entry["hash"] == hashlib.sha256(files["opendata.db"]).hexdigest()
    assert entry["size"] == len(files["opendata.db"])
    with sqlite3.connect(db) as conn:
        assert entry["tables"]["amounts"]["count"] == conn.execute("select count(*) from amounts").fetchone()[0]
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        assert conn.execute("pragma journal_mode").fetchone() == ("delete",)


#: Steps of the build that a failure is injected into, in order.
STEPS = ["_create_tables", "_load_rows", "_indexes", "run_rules", "_findings_table", "create_views",
         "create_layout_views", "_search_index", "_inspect_data", "_sha256", "_fsync"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("exc", [RuntimeError("boom"), sqlite3.OperationalError("disk I/O error"),
                                 OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failure_at_any_step_keeps_previous_database(built, monkeypatch: pytest.MonkeyPatch, step: str,
                                                     exc: BaseException) -> None:
    pkg, db, files = built

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(build_module, step, fail)
    expected = KeyboardInterrupt if isinstance(exc, KeyboardInterrupt) else BuildError
    with pytest.raises(expected) as info:
        build(pkg, db)
    if expected is BuildError:
        assert "previous database kept" in str(info.value) and str(db) in str(info.value)
    _unchanged(db, files)


def test_failure_in_the_rename_of_the_inspect_file_keeps_no_temporary(built, monkeypatch) -> None:
    pkg, db, files = built
    real = build_module.os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if str(dst).endswith(".inspect.json"):
            raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(build_module.os, "replace", replace)
    with pytest.raises(BuildError):
        build(pkg, db)
    assert not [p for p in db.parent.iterdir() if p.suffix == ".tmp"]


def test_schema_failure_keeps_previous_database(built) -> None:
    pkg, db, files = built
    path = pkg / "data" / "amounts.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",table,", ",tabel,", 1), encoding="utf-8")
    with pytest.raises(PackageError):
        build(pkg, db)
    _unchanged(db, files)


def test_unreadable_package_keeps_previous_database(built) -> None:
    pkg, db, files = built
    (pkg / "datapackage.json").write_text("{", encoding="utf-8")
    with pytest.raises(OpenDataError):
        build(pkg, db)
    _unchanged(db, files)


def test_rebuild_replaces_database(built) -> None:
    pkg, db, files = built
    shutil.rmtree(pkg)
    write_corpus(pkg, departments=1, years=1, error_share=0.0, seed=9)
    result = build(pkg, db)
    assert result.rows["reports"] == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from reports").fetchone() == (1,)
    assert not [p for p in db.parent.iterdir() if p.suffix == ".tmp"]


@pytest.mark.parametrize("mode", [0o444, 0o600, 0o640])
def test_rebuild_keeps_the_permissions_of_the_database(built, mode: int) -> None:
    # A tester's 600 and 444 databases came back 644 (the umask's) after a rebuild.
    import os
    import stat

    pkg, db, _ = built
    os.chmod(db, mode)
    build(pkg, db)
    assert stat.S_IMODE(db.stat().st_mode) == mode


def test_target_is_a_directory(built, tmp_path: Path) -> None:
    pkg, _db, _files = built
    (tmp_path / "adir").mkdir()
    with pytest.raises(BuildError, match="not a file"):
        build(pkg, tmp_path / "adir")


def test_read_only_folder(built, tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    pkg, _db, _files = built
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(BuildError, match="cannot write"):
            build(pkg, ro / "x.db")
    finally:
        ro.chmod(0o700)


def test_a_file_that_is_not_a_database_is_not_replaced(built, tmp_path: Path) -> None:
    # `-o README.md` by mistake: the build refuses instead of putting a database in its place.
    pkg, _db, _files = built
    other = tmp_path / "notes.md"
    other.write_text("# notes\n", encoding="utf-8")
    with pytest.raises(BuildError, match="notes.md: exists and is not a SQLite database; not replaced"):
        build(pkg, other)
    assert other.read_text(encoding="utf-8") == "# notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md", "out", "package"]
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file (made to reserve the name) is replaced
    assert build(pkg, empty).rows["reports"] == 4 and empty.read_bytes().startswith(b"SQLite format 3\x00")


def test_another_programs_database_is_not_replaced(built, tmp_path: Path) -> None:
    # `-o ~/notes.db` by mistake: a SQLite database that is not a previous build is kept.
    pkg, db, _files = built
    other = tmp_path / "notes.db"
    conn = sqlite3.connect(other)
    conn.execute("create table notes (id integer primary key, text)")
    conn.execute("insert into notes values (1, '别删我')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(BuildError, match="notes.db: is a SQLite database that opendata did not build "
                                         r"\(it lacks the tables reports and findings\); not replaced"):
        build(pkg, other)
    assert other.read_bytes() == before
    empty = tmp_path / "empty.db"
    conn = sqlite3.connect(empty)  # a database without tables (made to reserve the name) is replaced
    conn.executescript("create table t (x); drop table t;")
    conn.close()
    assert empty.read_bytes().startswith(b"SQLite format 3\x00")
    assert build(pkg, empty).rows["reports"] == 4
    assert build(pkg, db).rows["reports"] == 4



def test_a_failed_first_build_does_not_speak_of_a_previous_database(corpus: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A full disk on a first build said "previous database kept": there was none.
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, STEPS[0], fail)
    out = tmp_path / "out"
    with pytest.raises(BuildError, match="build failed, no database written \\(No space left on device\\)"):
        build(corpus, out / "new.db")
    assert list(out.iterdir()) == []


def test_a_link_to_the_database_stays_a_link(built, tmp_path: Path) -> None:
    # `build -o` of a link replaced the link by the new database: the file it named kept the old
    # one, and whatever served that file served the old data.
    pkg, db, _files = built
    link = tmp_path / "current.db"
    link.symlink_to(db)
    with sqlite3.connect(db) as conn:
        conn.execute("delete from findings")
    build(pkg, link)
    assert link.is_symlink() and link.resolve() == db.resolve()
    assert not (tmp_path / "current.inspect.json").exists()
    inspect = json.loads(db.with_suffix(".inspect.json").read_text(encoding="utf-8"))
    assert inspect["opendata"]["hash"] == hashlib.sha256(db.read_bytes()).hexdigest()
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from findings").fetchone()[0] > 0


def test_the_server_reads_the_counts_beside_the_file_a_link_names(built, tmp_path: Path) -> None:
    from opendata.site.app import DATABASE_NAME, make_app

    _pkg, db, _files = built
    link = tmp_path / "current.db"
    link.symlink_to(db)
    ds = make_app(link)
    inspect = json.loads(db.with_suffix(".inspect.json").read_text(encoding="utf-8"))["opendata"]
    assert ds.inspect_data[DATABASE_NAME]["hash"] == inspect["hash"]


def test_an_output_path_through_a_file_or_ending_in_a_slash_is_refused(built, tmp_path: Path) -> None:
    # -o README.md/x.db said "cannot write beside the database (File exists)"; -o x.db/ wrote a file x.db.
    pkg, _db, _files = built
    (tmp_path / "notes.md").write_text("notes", encoding="utf-8")
    with pytest.raises(BuildError, match=r"notes\.md is a file, not a folder; give the path of the database"):
        build(pkg, tmp_path / "notes.md" / "x.db")
    with pytest.raises(BuildError, match=r"x\.db/: a folder; give the path of the database file to write "
                                         r"\(e\.g\. .*x\.db/opendata\.db\)"):
        build(pkg, f"{tmp_path}/x.db/")
    assert not (tmp_path / "x.db").exists() and (tmp_path / "notes.md").read_text(encoding="utf-8") == "notes"


def test_the_server_does_not_take_the_counts_of_another_database(built, corpus: Path, tmp_path: Path) -> None:
    # A database copied over a built one kept the old inspect file: the site counted the old rows.
    from opendata.site.app import make_app

    _pkg, db, _files = built
    other = tmp_path / "other"
    smaller = tmp_path / "small"
    write_corpus(smaller, departments=1, years=1, error_share=0, seed=9)
    build(smaller, other / "x.db")
    shutil.copyfile(other / "x.db", db)  # the inspect file beside db is of the database built before
    ds = make_app(db)
    assert ds.inspect_data is None or ds.inspect_data.get("opendata", {}).get("size") == db.stat().st_size


def test_the_server_does_not_take_the_counts_of_its_database_changed_since_the_build(corpus: Path, tmp_path: Path) -> None:
    # A row deleted by hand leaves the file its size: the site said amounts 283 of a table of 282 (a tester).
    from opendata.site.app import make_app

    db = tmp_path / "x.db"
    build(corpus, db)
    with sqlite3.connect(db) as conn:
        total = conn.execute("select count(*) from amounts").fetchone()[0]
    assert make_app(db).inspect_data["opendata"]["tables"]["amounts"]["count"] == total
    size = db.stat().st_size
    with sqlite3.connect(db) as conn:
        conn.execute("delete from amounts where rowid = (select min(rowid) from amounts)")
    conn.close()
    assert db.stat().st_size == size
    assert make_app(db).inspect_data is None  # counted again, from the file as it is
    # A copy of the database and its counts (cp without -p: a new time) keeps them.
    copy = tmp_path / "copy"
    copy.mkdir()
    build(corpus, db)
    shutil.copy(db, copy / "x.db")
    shutil.copy(db.with_suffix(".inspect.json"), copy / "x.inspect.json")
    assert make_app(copy / "x.db").inspect_data["opendata"]["tables"]["amounts"]["count"] == total


def test_serve_tells_a_package_changed_since_the_build_from_the_one_built(tmp_path: Path) -> None:
    # A report's corrected file re-imported (the same report ids), the database not built again: the
    # site offered the new reports.csv beside the old figures without a word (only the ids were compared).
    from opendata.site.app import package_mismatch

    package, db = tmp_path / "pkg", tmp_path / "x.db"
    shutil.copytree(ROOT / "datapackage", package)
    build(package, db)
    assert package_mismatch(db, package) is None
    amounts = package / "data" / "amounts.csv"
    text = amounts.read_text(encoding="utf-8")
    edited = text.replace(",2540.24,", ",2540.25,", 1)  # one digit: the file keeps its size
    assert edited != text and len(edited) == len(text)
    amounts.write_text(edited, encoding="utf-8")
    said = package_mismatch(db, package)
    assert said == (f"{package} is not the package {db} was built from: data/amounts.csv changed since the build "
                    "(run `opendata build` again)")
    # Without the build's record (a database built before it was kept): the reports are compared.
    inspect = db.with_suffix(".inspect.json")
    entry = json.loads(inspect.read_text(encoding="utf-8"))
    entry["x"].pop("package")
    inspect.write_text(json.dumps(entry), encoding="utf-8")
    assert package_mismatch(db, package) is None
