"""Exceptions the library raises; the CLI turns them into clear messages and exit codes."""

from __future__ import annotations


class OpenDataError(Exception):
    """Base class: input the tool cannot use. The message says file, row, field and rule."""

    exit_code = 2


class PackageError(OpenDataError):
    """The data package cannot be read or breaks its own schema."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        detail = "".join(f"\n  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(message + detail + more)


class ImportError_(OpenDataError):
    """A source file is not a report the importer can read."""


class BuildError(OpenDataError):
    """The database could not be built; the previous database is untouched."""
