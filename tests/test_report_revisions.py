"""A report imported again, replaced or taken out: what the package keeps and what the import says
about the rest of the package (its department's other years)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from opendata.validate import validate_package
from test_import import PUTUO_PDF, ROOT, SEED, _files, _putuo_pages, _rows, needs_seed


@pytest.fixture
def package(tmp_path: Path) -> Path:
    dest = tmp_path / "pkg"
    shutil.copytree(ROOT / "datapackage", dest)
    return dest


@pytest.mark.skipif(not PUTUO_PDF.exists(), reason="Putuo PDF not available")
def test_a_replacement_with_fewer_rows_says_so(package, tmp_path, runner):
    """A tester replaced the 212-figure Putuo report with its first 8 pages (--report-id): 47
    figures and no statement were left, and the summary only said "replaces report ..."."""
    from opendata.cli import cli

    first = _putuo_pages(range(8), tmp_path / "putuo-first-8.pdf")
    held = {name: sum(1 for r in _rows(package, name) if r["report_id"] == "shanghai-putuo-czj-2024-final")
            for name in ("amounts", "statements")}
    assert held == {"amounts": 212, "statements": 106}
    r = runner.invoke(cli, ["import", str(first), "--package", str(package), "--report-id",
                            "shanghai-putuo-czj-2024-final"])
    assert r.exit_code == 0, r.output
    now = {name: sum(1 for x in _rows(package, name) if x["report_id"] == "shanghai-putuo-czj-2024-final")
           for name in ("amounts", "statements")}
    assert now["amounts"] < 212 and now["statements"] < 106
    assert (f"the new version of report shanghai-putuo-czj-2024-final has fewer rows than the one it replaces: "
            f"amounts {now['amounts']} (were 212), statements {now['statements']} (were 106); is it the whole "
            "report?") in " ".join(r.output.split())


@needs_seed
def test_an_import_names_the_later_years_findings_that_compare_with_it(package, tmp_path, runner):
    """A corrected 2021 report changed the findings of 2022's (its changes on last year are checked
    against 2021's figures): the import said nothing of them, only the new report's own."""
    from opendata.cli import cli

    later = tmp_path / "seed-2021.txt"  # the seed a year on: its "与上年相比" changes are 2020's, not 2021's
    later.write_text(SEED.read_text(encoding="utf-8").replace("2020", "2021"), encoding="utf-8")
    assert runner.invoke(cli, ["import", str(later), "--package", str(package)]).exit_code == 0
    r = runner.invoke(cli, ["import", str(SEED), "--package", str(package)])  # 2020 again
    assert r.exit_code == 0, r.output
    out = r.output.split("findings about the department's other reports that compare with this one (", 1)
    assert len(out) == 2, r.output
    related = [line.strip() for line in out[1].splitlines()[1:] if line.strip().startswith("- ")]
    assert related and all(line.startswith("- zhuzhou-lusong-kjgxj-2021-final: error yoy.") for line in related)


@needs_seed
def test_a_report_is_removed_and_imported_again_as_it_was(package, runner):
    """There was no way to take a report out but editing every CSV (deleting its row of reports.csv
    alone left 341 rows pointing nowhere)."""
    from opendata.cli import cli

    shipped = _files(package)
    seed_id = "zhuzhou-lusong-kjgxj-2020-final"
    r = runner.invoke(cli, ["remove", seed_id, "--package", str(package)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Removed report {seed_id} (2020年度株洲市芦淞区科技和工业信息化局部门决算): rows taken out: "
                               "reports 1, report_tables 9, amounts 71, statements")
    for name in ("reports", "report_tables", "amounts", "statements", "projects", "report_units"):
        assert not [x for x in _rows(package, name) if x["report_id"] == seed_id], name
    descriptor = json.loads((package / "datapackage.json").read_text("utf-8"))
    assert [s["report_id"] for s in descriptor["sources"]] == ["shanghai-putuo-czj-2024-final"]
    assert runner.invoke(cli, ["validate", str(package)]).exit_code == 1  # Putuo's own findings, no schema problem
    assert not validate_package(package).schema_problems
    # Imported again: the package is the shipped one, byte for byte.
    assert runner.invoke(cli, ["import", str(SEED), "--package", str(package)]).exit_code == 0
    assert _files(package) == shipped
    missing = runner.invoke(cli, ["remove", "no-such-report", "--package", str(package)])
    assert missing.exit_code == 2 and "no report 'no-such-report' in the package" in missing.output
    assert _files(package) == shipped


@needs_seed
def test_the_same_file_again_replaces_the_report_under_the_id_it_was_given(package, runner):
    # Imported with --report-id, then again without it: refused as a second copy of the report,
    # where the README says importing the same file again replaces its rows.
    from opendata.cli import cli

    assert runner.invoke(cli, ["remove", "zhuzhou-lusong-kjgxj-2020-final", "--package", str(package)]).exit_code == 0
    first = runner.invoke(cli, ["import", str(SEED), "--package", str(package), "--report-id", "lusong-2020"])
    assert first.exit_code == 0, first.output
    once = _files(package)
    again = runner.invoke(cli, ["import", str(SEED), "--package", str(package)])
    assert again.exit_code == 0 and "Imported 000_a04efb588eb58bab.txt as lusong-2020" in again.output
    assert _files(package) == once  # the same rows, written again


@needs_seed
def test_a_department_renamed_since_is_filed_under_its_id_and_compared_year_on_year(package, tmp_path, runner):
    # 科技和工业信息化局 renamed 工业和信息化局 in 2021: a new department (dept-<hash>) with no year to
    # compare with, 0 yoy findings; its id given by hand in reports.csv, the next import refused it.
    from opendata.cli import cli

    renamed = tmp_path / "lusong-2021.txt"
    renamed.write_text(SEED.read_text(encoding="utf-8").replace("2020", "2021").replace("科技和工业", "工业和"),
                       encoding="utf-8")
    alone = tmp_path / "alone"
    shutil.copytree(package, alone)
    r = runner.invoke(cli, ["import", str(renamed), "--package", str(alone)])
    assert r.exit_code == 0 and "Imported lusong-2021.txt as zhuzhou-lusong-dept-" in r.output, r.output
    assert "yoy." not in r.output
    departments = _rows(package, "departments")
    r = runner.invoke(cli, ["import", str(renamed), "--package", str(package), "--department-id", "zhuzhou-lusong-kjgxj"])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "Imported lusong-2021.txt as zhuzhou-lusong-kjgxj-2021-final" in said
    assert ("lusong-2021.txt: the report names its department 株洲市芦淞区工业和信息化局; the package's department "
            "zhuzhou-lusong-kjgxj is named 株洲市芦淞区科技和工业信息化局: kept (departments.csv)") in said
    assert "error yoy." in said  # its changes on last year checked against 2020's figures
    assert _rows(package, "departments") == departments  # the department's row as the package had it
    report = next(x for x in _rows(package, "reports") if x["report_id"] == "zhuzhou-lusong-kjgxj-2021-final")
    assert (report["department_id"], report["title"]) == ("zhuzhou-lusong-kjgxj", "2021年度株洲市芦淞区工业和信息化局部门决算")
    # The same file again, without the option: the same report, under the same department.
    again = runner.invoke(cli, ["import", str(renamed), "--package", str(package)])
    assert again.exit_code == 0 and "as zhuzhou-lusong-kjgxj-2021-final" in again.output, again.output
    bad = runner.invoke(cli, ["import", str(renamed), "--package", str(package), "--department-id", "Lusong"])
    assert bad.exit_code == 2 and "--department-id 'Lusong' must be lowercase ASCII letters" in bad.output


@needs_seed
@pytest.mark.parametrize("bom, newline, indent", [(b"\xef\xbb\xbf", "\r\n", 4), (b"", "\n", 2), (b"", "\r\n", "\t")])
def test_an_import_writes_the_descriptor_as_the_file_was(package, runner, bom, newline, indent):
    # An editor's BOM and CRLF were dropped by the import: a diff showed every line of it changed.
    from opendata.cli import cli

    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    path.write_bytes(bom + json.dumps(descriptor, ensure_ascii=False, indent=indent).replace("\n", newline).encode()
                     + newline.encode())
    before = path.read_bytes()
    assert runner.invoke(cli, ["remove", "zhuzhou-lusong-kjgxj-2020-final", "--package", str(package)]).exit_code == 0
    assert runner.invoke(cli, ["import", str(SEED), "--package", str(package)]).exit_code == 0
    assert path.read_bytes() == before  # the same report again: the same file, byte for byte


@needs_seed
def test_a_report_moved_to_another_department_takes_that_departments_id(package, tmp_path, runner):
    # Imported first without --department-id (dept-<hash>), again with it: the report moved but kept
    # the id naming the other department. Now its copy under the old id is refused, saying so.
    from opendata.cli import cli

    renamed = tmp_path / "lusong-2021.txt"
    renamed.write_text(SEED.read_text(encoding="utf-8").replace("2020", "2021").replace("科技和工业", "工业和"),
                       encoding="utf-8")
    first = runner.invoke(cli, ["import", str(renamed), "--package", str(package)])
    assert first.exit_code == 0, first.output
    old_id = next(x["report_id"] for x in _rows(package, "reports") if x["title"].startswith("2021年度"))
    assert old_id.startswith("zhuzhou-lusong-dept-")
    moved = runner.invoke(cli, ["import", str(renamed), "--package", str(package), "--department-id", "zhuzhou-lusong-kjgxj"])
    assert moved.exit_code == 2 and (f"the package already holds this very file as report {old_id!r} of "
                                     f"{old_id.removesuffix('-2021-final')}; to file it under zhuzhou-lusong-kjgxj, take "
                                     f"that one out first (opendata remove {old_id})") in " ".join(moved.output.split())
    assert runner.invoke(cli, ["remove", old_id, "--package", str(package)]).exit_code == 0
    moved = runner.invoke(cli, ["import", str(renamed), "--package", str(package), "--department-id", "zhuzhou-lusong-kjgxj"])
    assert moved.exit_code == 0 and "as zhuzhou-lusong-kjgxj-2021-final" in moved.output, moved.output
