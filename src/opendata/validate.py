"""Validation: frictionless schema validation, then every accounting rule over the figures."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import sqlite_utils

from .build import load_database
from .package import load_package, schema_problems
from .rules import ERROR, WARNING, Finding, run_rules


@dataclass
class ValidationResult:
    """Schema problems (the package is unusable as data) and findings (figures that do not add up)."""

    package: str
    schema_problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

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


def validate_package(path: str | os.PathLike[str]) -> ValidationResult:
    """Validate a package: raises PackageError when it cannot be read at all."""
    package = load_package(path)
    result = ValidationResult(str(path), schema_problems(package))
    if result.schema_problems:
        return result
    db = sqlite_utils.Database(memory=True)
    load_database(db, package)
    result.findings = run_rules(db)
    return result
