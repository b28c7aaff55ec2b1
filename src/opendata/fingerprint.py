"""What a data package's files were when a database was built from it (each file's size and CRC-32),
and which writing of a database file is which (``database_version``).

The build records them beside the database (in its counts file, ``.inspect.json``); ``serve``
compares the package it is to offer at /datapackage/ with them: a package imported into or edited
since the build is not the one the site's tables hold (a corrected report re-imported, the
database not built again, offered the new file beside the old figures). CRC-32, not a digest: the
question is whether the files changed, not whether someone forged them (138 MB in 0.02 s).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from frictionless import Package

from .package import descriptor_path

#: Bytes read at a time.
_BLOCK = 1 << 20


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            crc = zlib.crc32(block, crc)
    return crc


def package_fingerprint(package: Package, package_path: str | os.PathLike[str]) -> dict[str, list[int]]:
    """[size, CRC-32] of the package's descriptor (``package_path``: its folder or descriptor) and
    of each of its resources' files, by their paths in the package ("datapackage.json",
    "data/amounts.csv")."""
    base = Path(package.basepath or ".")
    descriptor = descriptor_path(package_path)
    files = {descriptor.name: descriptor}
    for resource in package.resources:
        for one in resource.paths:
            files[one.removeprefix("./")] = base / one
    return {name: [path.stat().st_size, _crc32(path)] for name, path in files.items()}


def changed_files(recorded: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """The files of ``now`` (``package_fingerprint``) that differ from ``recorded``, or are only in
    one of them, in order."""
    return sorted(name for name in recorded.keys() | now.keys() if recorded.get(name) != now.get(name))


#: Where a SQLite file's header holds its file change counter (4 bytes, big-endian).
_CHANGE_COUNTER = slice(24, 28)


def database_version(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(size, file change counter) of a SQLite database file: SQLite adds one to the counter at each
    transaction that writes it (in its rollback-journal modes, the build's), and a copy keeps it,
    where a copy without ``-p`` changes the file's time (the counts were thrown away)."""
    with open(path, "rb") as fh:
        head = fh.read(100)
        size = os.fstat(fh.fileno()).st_size
    return size, int.from_bytes(head[_CHANGE_COUNTER], "big")
