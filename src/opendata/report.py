"""Human and machine renderings of a validation result."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .validate import ValidationResult


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def format_validation(result: ValidationResult) -> str:
    """A readable table of schema problems and findings, then a one-line verdict."""
    lines: list[str] = []
    if result.schema_problems:
        lines.append(f"Schema problems ({len(result.schema_problems)}):")
        lines.extend(f"  {p}" for p in result.schema_problems)
    if result.findings:
        header = ("rule", "severity", "where", "expected", "stated", "diff", "message")
        rows = [(f.rule_id, f.severity, " ".join(x for x in (f.report_id, f.resource, f.row_ref, f.source_ref) if x),
                 _num(f.expected), _num(f.stated), _num(f.difference), f"{f.message_zh} / {f.message_en}")
                for f in result.findings]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
        for r in [header, *rows]:
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    verdict = "INVALID" if result.exit_code() else "VALID"
    lines.append(f"{verdict}: {result.package}: {len(result.schema_problems)} schema problems, "
                 f"{len(result.errors)} errors, {len(result.warnings)} warnings")
    return "\n".join(lines)


def validation_json(result: ValidationResult) -> dict[str, Any]:
    """The same result as a JSON-ready dict."""
    return {
        "package": result.package,
        "valid": result.exit_code() == 0,
        "schema_problems": result.schema_problems,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "findings": [asdict(f) for f in result.findings],
    }
