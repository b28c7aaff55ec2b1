"""A second report for the tests that need one: the seed's text as the report of another
department (the same report imported again under another id is refused)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

#: The words of the seed's department name that a second report changes.
SEED_WORDS = "芦淞区科技和工业"
_FOLDER: list[Path] = []


def second_report(seed: Path, words: str = "芦淞区商务和工业") -> Path:
    """The seed's text with its department's name changed (``SEED_WORDS`` -> ``words``: 株洲市芦淞区
    商务和工业信息化局 by default), written once per test session; the figures are the seed's."""
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="opendata-second-report-")))
        atexit.register(shutil.rmtree, _FOLDER[0], True)  # the session's folder goes with it
    path = _FOLDER[0] / f"{words}.txt"
    if not path.exists():
        text = seed.read_text(encoding="utf-8")
        assert SEED_WORDS in text
        path.write_text(text.replace(SEED_WORDS, words), encoding="utf-8")
    return path
