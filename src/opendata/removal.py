"""Taking a report out of a package: every row of it, and its entry in the descriptor's sources.

A publisher withdrew a report (published by mistake, or to import it again under another
department's name) by editing every CSV by hand: deleting its row from reports.csv alone left
hundreds of rows whose report_id points nowhere. ``remove_report`` takes all of them out at once,
under the package's exclusive lock, the files replaced together (``staging``): an interrupted or
failed removal leaves the package as it was. Its department and classification rows stay (other
reports may share them; a department without reports is still a department).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import PackageError
from .package import forget_source, load_package, replace_report_rows, resource_rows
from .staging import package_lock, staged


@dataclass
class Removal:
    """What ``remove_report`` took out: rows per resource."""

    report_id: str
    title: str | None
    rows: dict[str, int] = field(default_factory=dict)


def remove_report(package_dir: str | os.PathLike[str], report_id: str) -> Removal:
    """Take report ``report_id`` out of the package at ``package_dir``; PackageError when the
    package has no such report (naming the ones it has, when they are few)."""
    with package_lock(package_dir, exclusive=True):
        package = load_package(package_dir)
        reports = resource_rows(package, "reports") if "reports" in package.resource_names else []
        held = next((r for r in reports if r.get("report_id") == report_id), None)
        if held is None:
            ids = sorted(str(r.get("report_id")) for r in reports)
            listed = (" (it has none)" if not ids else f" (it has {', '.join(ids)})" if len(ids) <= 10
                      else f" ({len(ids)} reports: see reports.csv)")
            raise PackageError(f"{package_dir}: no report {report_id!r} in the package{listed}; nothing was removed")
        names = [r.name for r in package.resources if "report_id" in r.schema.field_names]
        removed: dict[str, int] = {}
        with staged() as stage:
            replace_report_rows(package_dir, report_id, {name: [] for name in names}, stage=stage, removed=removed)
            forget_source(package_dir, report_id, stage)
    return Removal(report_id, held.get("title"), removed)


def format_removal(removal: Removal) -> str:
    """The summary ``opendata remove`` prints."""
    rows = ", ".join(f"{name} {n}" for name, n in removal.rows.items() if n)
    return (f"Removed report {removal.report_id}" + (f" ({removal.title})" if removal.title else "")
            + f": rows taken out: {rows or 'none'}; its department and classification rows are kept")
