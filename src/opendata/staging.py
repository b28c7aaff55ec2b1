"""Several files of a package replaced together, or none of them.

An import rewrites up to nine CSVs and the descriptor. Each new file is written beside the one it
replaces (a temporary name in the same folder), and only when every one of them is written are they
renamed into place, one after the other: an import that fails or is interrupted while writing
(a full disk, Ctrl-C, a bug) leaves every file of the package as it was, not a report's amounts
without its ``reports`` row. A rename that fails (a file held or made immutable) puts back those
renamed before it (``Staging.commit``).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import PackageError


def _read_umask() -> int:
    """The process's umask (read by setting it, then put back: once, at import, before any thread
    of this module's could make a file meanwhile)."""
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


#: Permissions of a file the import makes where none was (mkstemp's are 0600).
_NEW_FILE_MODE = 0o666 & ~_read_umask()


class Staging:
    """New versions of files, put in place by ``commit`` (all of them) or removed by ``discard``."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, Path]] = []
        self.committed = False  # every new file in place (a Ctrl-C held back may follow at once)

    def new_file(self, path: Path) -> tuple[int, Path]:
        """An open descriptor and the name of a new file that will replace ``path`` at commit."""
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        except OSError as exc:  # a read-only folder, a full disk: no file of the package is replaced
            raise PackageError(f"{path.parent}: cannot write the new version of {path.name} beside it "
                               f"({exc.strerror or exc}); nothing was written") from None
        self._files.append((Path(tmp), path))
        # mkstemp makes the file 0600: the new version keeps the permissions of the file it replaces
        # (a package others read stayed readable only by whoever imported into it), a new file
        # those of any file the user makes.
        try:
            os.fchmod(fd, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            os.fchmod(fd, _NEW_FILE_MODE)
        return fd, Path(tmp)

    def forget(self, tmp: Path) -> None:
        """Remove a new file (written, then found not needed): ``path`` stays as it is."""
        self._files = [(t, p) for t, p in self._files if t != tmp]
        tmp.unlink(missing_ok=True)

    def commit(self) -> None:
        """Rename every new file into place, in the order they were made, or none: a rename that
        fails (a file another program holds, one made immutable) puts back the ones already
        renamed, from a second name (a hard link) each old file is given first; an import said
        "nothing was written" with a report's row in reports.csv and none of its figures. Ctrl-C
        and SIGTERM wait until all are in place (between two renames, the package held one file's
        new version and another's old one). A file system without hard links copies the old files."""
        with signals_deferred():
            kept: dict[Path, Path] = {}
            try:
                for _, path in self._files:
                    if path.exists():
                        kept[path] = _second_name(path)
                done: list[Path] = []
                try:
                    for tmp, path in self._files:
                        os.replace(tmp, path)
                        done.append(path)
                except OSError as failure:
                    unrestored = []
                    for path in reversed(done):  # every one tried, whatever fails
                        try:
                            if path in kept:
                                os.replace(kept[path], path)
                                del kept[path]
                            else:
                                path.unlink(missing_ok=True)
                        except OSError:
                            unrestored.append(path)
                    if unrestored:  # their old versions stay under their second names, said
                        old = ", ".join(f"{p.name} (old version: {kept.pop(p).name})" for p in unrestored if p in kept)
                        raise PackageError(f"{unrestored[0].parent}: a file could not be replaced ({failure}), and "
                                           f"putting back the ones replaced before it failed too: {old}") from failure
                    raise
                self._files.clear()
                self.committed = True
            finally:
                for second in kept.values():
                    second.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove every new file not yet in place."""
        for tmp, _ in self._files:
            tmp.unlink(missing_ok=True)
        self._files.clear()


def _second_name(path: Path) -> Path:
    """A new name for the file at ``path`` beside it (a hard link: the file is not copied), to put
    it back from; a copy where the file system has no hard links."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".old")
    os.close(fd)
    second = Path(name)
    second.unlink()
    try:
        os.link(path, second)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        shutil.copy2(path, second)  # no hard links here (or none to this file): a copy
    return second


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held back within (delivered when it ends), where the system can."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # pragma: no cover - not POSIX
        yield
        return
    held = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, held)


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


#: Seconds an import or a build waits for the package's lock before it gives up.
LOCK_WAIT = 120.0


@contextmanager
def package_lock(package_dir: str | os.PathLike[str], *, exclusive: bool, wait: float | None = None) -> Iterator[None]:
    """Hold the lock of the package folder (``package_dir``, or the folder of a descriptor given
    instead: ``flock`` on the folder itself, no file is made): exclusive
    while an import reads and replaces the package's files, shared while a build or a validation
    reads them. Two imports at once each rewrote the files from what they had read, and the one
    renamed last dropped the other's rows; a build beside an import could read one report's
    amounts from after it and its statements from before. Waits up to ``wait`` seconds
    (``LOCK_WAIT``), then raises PackageError. Where there is no ``flock`` (Windows) nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder = Path(package_dir)
    folder = folder.parent if folder.is_file() else folder  # the package given by its descriptor
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not a folder we can open: whoever reads it next says why
        yield
        return
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise PackageError(
                        f"{package_dir}: another opendata {'build, validation or import' if exclusive else 'import'} "
                        f"is using the package; waited {LOCK_WAIT if wait is None else wait:g} s (try again when it "
                        "ends)") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock
