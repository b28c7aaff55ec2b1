"""Human and machine renderings of a validation result.

The human rendering is one block per finding, wrapped to 100 terminal columns (Chinese characters
count as two), so it stays readable however long the row references and messages are.
"""

from __future__ import annotations

import re

import unicodedata
from collections import Counter
from dataclasses import asdict
from typing import Any

from .errors import ProblemLine
from .rules import REGISTRY, Finding
from .validate import ValidationResult

WIDTH = 100
_LABEL = 12  # width of the label column of a block


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1 and value != 0 else f"{value:.2f}"


def _cols(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` terminal columns; breaks at a space when one is near, else anywhere."""
    out: list[str] = []
    for para in str(text).splitlines() or [""]:
        line = ""
        for ch in para:
            if _cols(line + ch) > width:
                cut = line.rfind(" ")
                if ch != " " and cut > len(line) // 2:
                    out.append(line[:cut])
                    line = line[cut + 1:]
                else:
                    out.append(line)
                    line = ""
                if ch == " ":
                    continue
            line += ch
        out.append(line)
    return out


def _field(label: str, value: str) -> list[str]:
    wrapped = _wrap(value, WIDTH - _LABEL - 2)
    out = [f"  {label}{' ' * (_LABEL - 2 - _cols(label))}{wrapped[0]}"]
    out.extend(" " * _LABEL + w for w in wrapped[1:])
    return out


def format_finding(f: Finding) -> list[str]:
    """One finding as a block of lines."""
    rule = REGISTRY.get(f.rule_id)
    title = f"  {rule.title_zh}" if rule else ""
    lines = _wrap(f"{f.severity.upper():8}{f.rule_id}{title}", WIDTH)
    lines += _field("report", f.report_id or "")
    lines += _field("where", " ".join(x for x in (f.resource, f.row_ref) if x))
    if f.fields:
        lines += _field("fields", f.fields)
    if f.source_ref:
        lines += _field("source", f.source_ref)
    if f.stated is not None or f.expected is not None:
        diff = "" if f.difference is None else f"{f.difference:+.2f}" if abs(f.difference) >= 0.01 \
            else f"{f.difference:+.4f}"
        lines += _field("figures", f"stated {_num(f.stated)}   expected {_num(f.expected)}   "
                                   f"difference {diff}   tolerance ±{_num(f.tolerance)}")
    lines += _field("说明", f.message_zh)
    lines += _field("message", f.message_en)
    return lines


def format_validation(result: ValidationResult, strict: bool = False) -> str:
    """Schema problems, one block per finding, a count per rule, then a one-line verdict."""
    lines: list[str] = []
    count = result.schema_problem_count
    if result.schema_problems:
        listed = len(result.schema_problems)
        lines.append(f"Schema problems ({count}{f'; the first {listed} listed' if count > listed else ''}):")
        for p in result.schema_problems:
            lines.extend(_wrap(f"  {p}", WIDTH))
        if count > listed:
            lines.append(f"  ... and {count - listed} more")
        lines.append("")
    order = {"error": 0, "warning": 1}
    findings = sorted(result.findings, key=lambda f: (order.get(f.severity, 2), f.report_id or "", f.rule_id))
    for f in findings:
        lines.extend(format_finding(f))
        lines.append("")
    if findings:
        counts = Counter((f.rule_id, f.severity) for f in findings)
        lines.append("Findings by rule:")
        for (rule_id, severity), n in sorted(counts.items()):
            lines.append(f"  {rule_id:32} {severity:8} {n}")
    verdict = "INVALID" if result.exit_code(strict) else "VALID"
    if not result.rules_run:  # "0 errors" would say the figures were checked
        lines.append(f"{verdict}: {result.package}: {count} schema problems; the accounting "
                     "rules did not run (they run once the schema problems are fixed)")
        return "\n".join(lines)
    why = " (--strict: warnings fail)" if strict and result.warnings and not result.exit_code() else ""
    lines.append(f"{verdict}: {result.package}: {count} schema problems, "
                 f"{len(result.errors)} errors, {len(result.warnings)} warnings{why}")
    return "\n".join(lines)


#: A schema problem's line as ``schema_stream.Problem`` and the descriptor checks write it.
_PROBLEM = re.compile(r"(?P<file>[^,:]+?)(?:, row (?P<row>\d+))?(?:, field (?P<field>[^:]+?))?: (?P<message>.*?)"
                      r"(?: \(rule: (?P<rule>[\w.-]+)(?:[;,] *(?P<hint>[^)]*))?\))?", re.S)


def problem_parts(line: str) -> dict[str, Any]:
    """A schema problem's line as its parts: file, row (the header is row 1), field, rule, message
    (each None where the line names none): those it kept (``ProblemLine``), else read from the line
    (the descriptor's problems, which name no row)."""
    if isinstance(line, ProblemLine):
        return dict(line.parts)
    m = _PROBLEM.fullmatch(line)
    if m is None:
        return {"file": None, "row": None, "field": None, "rule": None, "message": line}
    message = f"{m['message']} ({m['hint']})" if m["hint"] else m["message"]
    return {"file": m["file"], "row": int(m["row"]) if m["row"] else None, "field": m["field"], "rule": m["rule"],
            "message": message}


def validation_json(result: ValidationResult, strict: bool = False) -> dict[str, Any]:
    """The same result as a JSON-ready dict: ``errors`` and ``warnings`` null, ``rules_run`` false,
    when schema problems kept the accounting rules from running."""
    ran = result.rules_run
    return {
        "package": result.package,
        "valid": result.exit_code(strict) == 0,
        "schema_problem_count": result.schema_problem_count,
        "schema_problems": result.schema_problems,
        "schema_problem_details": [problem_parts(p) for p in result.schema_problems],
        "rules_run": ran,
        "errors": len(result.errors) if ran else None,
        "warnings": len(result.warnings) if ran else None,
        "findings": [asdict(f) for f in result.findings],
    }


def unusable_json(package: str, exc: Exception) -> dict[str, Any]:
    """What ``validate --json`` prints for a package it cannot use at all (exit 2): the error, and
    the problems it lists, in the keys of ``validation_json``."""
    return {
        "package": package,
        "valid": False,
        "error": str(exc).split("\n", 1)[0],
        "schema_problem_count": getattr(exc, "count", 0),
        "schema_problems": list(getattr(exc, "problems", None) or []),
        "schema_problem_details": [problem_parts(p) for p in getattr(exc, "problems", None) or []],
        "rules_run": False,
        "errors": None,
        "warnings": None,
        "findings": [],
    }
