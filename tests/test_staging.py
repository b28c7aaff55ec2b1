"""A package's files replaced together or not at all, even when a rename fails half-way: a file
another program holds, one made immutable (``chattr +i``), a file system that refuses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from opendata.errors import OpenDataError
from opendata.ingest.importer import import_report
from opendata.staging import Staging
from test_import import _files

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds" / "000_a04efb588eb58bab.txt"



def _failing_replace(monkeypatch, target: str) -> None:
    """os.replace fails for the rename onto ``target`` (a file name), as for an immutable file."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == target and str(src).endswith(".tmp"):
            raise PermissionError(1, "Operation not permitted", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("fails_on", ["b.csv", "new.csv"])
def test_a_rename_that_fails_puts_back_the_files_renamed_before_it(tmp_path, monkeypatch, fails_on):
    for name, text in (("a.csv", "old a"), ("b.csv", "old b")):
        (tmp_path / name).write_text(text)
    before = _files(tmp_path)
    stage = Staging()
    for name in ("a.csv", "new.csv", "b.csv"):
        fd, _ = stage.new_file(tmp_path / name)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"new {name}")
    _failing_replace(monkeypatch, fails_on)
    with pytest.raises(PermissionError):
        stage.commit()
    stage.discard()
    assert _files(tmp_path) == before and not stage.committed  # no new file, no second name left


def test_a_commit_puts_every_file_in_place_and_leaves_nothing_beside(tmp_path):
    (tmp_path / "a.csv").write_text("old a")
    stage = Staging()
    for name in ("a.csv", "new.csv"):
        fd, _ = stage.new_file(tmp_path / name)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"new {name}")
    stage.commit()
    assert _files(tmp_path) == {"a.csv": b"new a.csv", "new.csv": b"new new.csv"} and stage.committed


@pytest.mark.skipif(not SEED.exists(), reason="seed report not available")
def test_an_import_whose_last_rename_fails_leaves_the_package_as_it_was(tmp_path, monkeypatch):
    # A tester's chattr +i amounts.csv: reports.csv and report_tables.csv were replaced, amounts.csv
    # not, and the import said "nothing was written"; the report then validated with no figure.
    package = tmp_path / "pkg"
    shutil.copytree(ROOT / "datapackage", package)
    from opendata.package import load_package, replace_report_rows

    names = [r.name for r in load_package(package).resources if "report_id" in r.schema.field_names]
    replace_report_rows(package, "zhuzhou-lusong-kjgxj-2020-final", {n: [] for n in names})
    before = _files(package)
    _failing_replace(monkeypatch, "datapackage.json")  # the descriptor: renamed after every CSV
    with pytest.raises(OpenDataError, match="nothing was written"):
        import_report(SEED, package)
    assert _files(package) == before
    monkeypatch.undo()
    assert import_report(SEED, package).report_id == "zhuzhou-lusong-kjgxj-2020-final"


def test_a_rollback_that_fails_keeps_the_old_versions_and_names_them(tmp_path, monkeypatch):
    # The second names were deleted whatever happened: a failed rollback lost the old files.
    from opendata.errors import PackageError

    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(f"old {name}")
    stage = Staging()
    for name in ("a.csv", "b.csv"):
        fd, _ = stage.new_file(tmp_path / name)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"new {name}")
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == "b.csv" or (Path(dst).name == "a.csv" and str(src).endswith(".old")):
            raise PermissionError(1, "Operation not permitted", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PackageError, match=r"a\.csv \(old version: a\.csv\..*\.old\)") as raised:
        stage.commit()
    kept = raised.value.args[0].split("old version: ")[1].rstrip(")")
    assert (tmp_path / kept).read_text() == "old a.csv"  # still there, under the name said
