"""Exceptions the library raises; the CLI turns them into clear messages and exit codes."""

from __future__ import annotations

from typing import Any


class OpenDataError(Exception):
    """Base class: input the tool cannot use. The message says file, row, field and rule; the
    ``problems``, when there are several, are listed under it (the first 50). ``count`` is how
    many problems there are in all, when more were found than ``problems`` holds (a list capped
    in memory)."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None, count: int | None = None) -> None:
        self.problems = problems or []
        self.count = max(count or 0, len(self.problems))
        detail = "".join(f"\n  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {self.count - 50} more" if self.count > 50 else ""
        super().__init__(message + detail + more)


class ProblemLine(str):
    """A problem's line (``file, row N, field F: message (rule: R)``) that keeps its parts, so that
    a program reads them as they were, not parsed back from the line (a field named ``a: b``)."""

    parts: dict[str, Any]

    def __new__(cls, line: str, **parts: Any) -> ProblemLine:
        obj = super().__new__(cls, line)
        obj.parts = parts
        return obj


class PackageError(OpenDataError):
    """The data package cannot be read or breaks its own schema."""


class MetadataError(OpenDataError):
    """metadata.yml cannot be read, or has a part of the wrong kind for Datasette."""


class ImportError_(OpenDataError):
    """A source file is not a report the importer can read."""


class BuildError(OpenDataError):
    """The database could not be built; the previous database is untouched."""
