"""Accounting rules: a registry of checks that run over the loaded SQLite tables.

Each rule is one entry: id, titles, severity, the resources it reads, and a function
``check(db) -> Iterable[Finding]``. Adding a rule is adding one entry (see ``rule``).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

ERROR, WARNING = "error", "warning"


@dataclass
class Finding:
    """One figure (or set of figures) that does not add up."""

    rule_id: str
    severity: str
    report_id: str | None
    message_zh: str
    message_en: str
    resource: str | None = None
    row_ref: str | None = None
    fields: str | None = None
    expected: float | None = None
    stated: float | None = None
    difference: float | None = None
    tolerance: float | None = None
    source_ref: str | None = None

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Rule:
    """A registered accounting rule."""

    id: str
    title_zh: str
    title_en: str
    severity: str
    resources: tuple[str, ...]
    check: Callable[[sqlite_utils.Database], Iterable[Finding]] = field(repr=False)


REGISTRY: dict[str, Rule] = {}


def rule(id: str, title_zh: str, title_en: str, severity: str, resources: tuple[str, ...]):  # noqa: A002
    """Decorator registering ``check(db)`` as a rule."""

    def register(check: Callable[[sqlite_utils.Database], Iterable[Finding]]):
        REGISTRY[id] = Rule(id, title_zh, title_en, severity, resources, check)
        return check

    return register


def _load_rule_modules() -> None:
    from importlib import import_module
    from pkgutil import iter_modules

    for info in iter_modules(__path__):
        import_module(f"{__name__}.{info.name}")


def run_rules(db: sqlite_utils.Database, select: Callable[[str], bool] | None = None) -> list[Finding]:
    """Every registered rule (or those whose id ``select`` accepts) over every report in the
    database, findings in ``in_registry_order``."""
    _load_rule_modules()
    _drop_temp_tables(db)
    findings: list[Finding] = []
    try:
        for r in REGISTRY.values():
            if select is None or select(r.id):
                findings.extend(r.check(db))
    finally:
        # A rule stopped halfway (Ctrl-C) may hold its statement open: the DROP then fails ("database
        # table is locked"), and its error replaced the interrupt (exit 2, not 130). The next run
        # drops what is left.
        with contextlib.suppress(sqlite3.OperationalError):
            _drop_temp_tables(db)
    return in_registry_order(findings)


def rule_ids() -> list[str]:
    """Every registered rule id, in the registry's order."""
    _load_rule_modules()
    return list(REGISTRY)


def rule_rows() -> list[dict[str, str]]:
    """Every registered rule as a row of the database's ``rules`` table, in the registry's order."""
    _load_rule_modules()
    return [{"rule_id": r.id, "title_zh": r.title_zh, "title_en": r.title_en, "severity": r.severity,
             "resources": ", ".join(r.resources)} for r in REGISTRY.values()]


def in_registry_order(findings: Iterable[Finding]) -> list[Finding]:
    """Findings by rule (in the registry's order), then report, then the rows concerned: the same
    order whatever indexes the rules' queries found and however the rules were divided between
    ``run_rules`` calls."""
    _load_rule_modules()
    position = {rule_id: i for i, rule_id in enumerate(REGISTRY)}
    return sorted(findings, key=lambda f: (position[f.rule_id], f.report_id or "", f.row_ref or "",
                                           f.fields or "", f.message_en))


def _drop_temp_tables(db: sqlite_utils.Database) -> None:
    """Rules may share work through TEMP tables within one run; no run sees another's."""
    names = [r[0] for r in db.execute("select name from temp.sqlite_master where type = 'table'").fetchall()]
    for name in names:
        db.execute(f"drop table temp.[{name}]")
