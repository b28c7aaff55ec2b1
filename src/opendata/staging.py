"""Several files of a package replaced together, or none of them.

An import rewrites up to nine CSVs and the descriptor. Each new file is written beside the one it
replaces (a temporary name in the same folder), and only when every one of them is written are they
renamed into place, one after the other: an import that fails or is interrupted while writing
(a full disk, Ctrl-C, a bug) leaves every file of the package as it was, not a report's amounts
without its ``reports`` row.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Staging:
    """New versions of files, put in place by ``commit`` (all of them) or removed by ``discard``."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, Path]] = []

    def new_file(self, path: Path) -> tuple[int, Path]:
        """An open descriptor and the name of a new file that will replace ``path`` at commit."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        self._files.append((Path(tmp), path))
        return fd, Path(tmp)

    def forget(self, tmp: Path) -> None:
        """Remove a new file (written, then found not needed): ``path`` stays as it is."""
        self._files = [(t, p) for t, p in self._files if t != tmp]
        tmp.unlink(missing_ok=True)

    def commit(self) -> None:
        """Rename every new file into place, in the order they were made."""
        while self._files:
            tmp, path = self._files[0]
            os.replace(tmp, path)
            self._files.pop(0)

    def discard(self) -> None:
        """Remove every new file not yet in place."""
        for tmp, _ in self._files:
            tmp.unlink(missing_ok=True)
        self._files.clear()


@contextmanager
def staged(stage: Staging | None = None) -> Iterator[Staging]:
    """``stage`` as it is (its owner commits it), or a new one committed when the block ends
    normally and discarded when it raises."""
    if stage is not None:
        yield stage
        return
    own = Staging()
    try:
        yield own
        own.commit()
    finally:
        own.discard()
