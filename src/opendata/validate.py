"""Validation: frictionless schema validation, then every accounting rule over the figures."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .build import check
from .errors import OpenDataError, PackageError
from .package import load_package, resource_rows, write_subset
from .staging import package_lock
from .rules import ERROR, WARNING, Finding


@dataclass
class ValidationResult:
    """Schema problems (the package is unusable as data) and findings (figures that do not add up)."""

    package: str
    schema_problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: How many schema problems there are, when more than ``schema_problems`` lists (capped in memory).
    schema_problem_total: int = 0

    @property
    def schema_problem_count(self) -> int:
        """Schema problems found in all (``schema_problems`` lists the first thousand)."""
        return max(self.schema_problem_total, len(self.schema_problems))

    @property
    def rules_run(self) -> bool:
        """Whether the accounting rules ran: not over rows that break the schema."""
        return not self.schema_problems

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def exit_code(self, strict: bool = False) -> int:
        """1 for schema problems or error findings (or warnings with strict), else 0."""
        if self.schema_problems or self.errors or (strict and self.warnings):
            return 1
        return 0


def validate_package(path: str | os.PathLike[str], jobs: int | None = None) -> ValidationResult:
    """Validate a package: raises PackageError when it cannot be read at all.

    The rows are loaded and checked exactly as the build loads them (``build.check``: cast and
    checked in SQL, or read by the streaming reader, which names every problem, when anything is
    doubtful; in two processes for a large package, as ``jobs`` or the build decides) into a
    temporary database file, not memory: a national package takes ~100 MB, not ~500."""
    result = ValidationResult(str(path))
    try:
        result.findings = check(path, jobs).findings
    except PackageError as exc:
        if not exc.problems:
            raise
        result.schema_problems = list(exc.problems)
        result.schema_problem_total = exc.count
    except (sqlite3.Error, OSError) as exc:  # e.g. no room for the temporary database
        raise OpenDataError(f"{path}: validation could not run ({type(exc).__name__}: {exc}); "
                            f"the temporary database goes to {tempfile.gettempdir()} (set TMPDIR)") from None
    return result


def department_reports(path: str | os.PathLike[str], report_id: str) -> set[str]:
    """``report_id`` and every other report of its department in the package (the rules compare a
    report with its department's report of the year before)."""
    reports = resource_rows(load_package(path), "reports")
    department = next((r["department_id"] for r in reports if r["report_id"] == report_id), None)
    return {report_id} | {r["report_id"] for r in reports if department and r["department_id"] == department}


def validate_reports(path: str | os.PathLike[str], report_ids: set[str]) -> ValidationResult:
    """``validate_package`` of the rows of ``report_ids`` only (with every row of the resources
    without report_id: departments, classification, standard tables), as an import needs it: in a
    package of thousands of reports it takes the time of those reports, not of all. When those
    rows break the schema, the whole package is validated, so that each problem names its file and
    row as they are (the copy's row numbers would not)."""
    with tempfile.TemporaryDirectory(prefix="opendata-validate-") as tmp:
        with package_lock(path, exclusive=False):
            subset = write_subset(load_package(path), report_ids, Path(tmp))
        result = validate_package(subset)
    if result.schema_problems:
        return validate_package(path)
    result.package = str(path)
    return result
