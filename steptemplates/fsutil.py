"""File-system helpers that never leave a half-written file or directory behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from steptemplates.errors import StepsError


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write to a temporary file next to ``path``, fsync it, then rename it into place."""
    try:
        _write_and_rename(path, data, mode)
    except OSError as error:
        raise StepsError(
            f"cannot write {path}: {error.strerror or error}",
            hint="check that its directory exists and is writable, and that the disk has room",
        ) from None


def _write_and_rename(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        elif path.exists():
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def remove_tree(path: Path) -> None:
    """Delete a directory tree, including read-only files; a missing path is fine."""

    def make_writable_and_retry(function: Callable[[str], object], failed: str, _: object) -> None:
        if isinstance(_, FileNotFoundError) or not os.path.lexists(failed):
            return
        os.chmod(os.path.dirname(failed), 0o700)
        if not os.path.islink(failed):
            os.chmod(failed, 0o700)
        function(failed)

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=make_writable_and_retry)
        else:
            shutil.rmtree(path, onerror=make_writable_and_retry)


@contextlib.contextmanager
def temporary_directory(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh directory under ``parent`` that is removed on exit, even on Ctrl-C."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        remove_tree(path)


def copy_tree(source: Path, destination: Path) -> None:
    """Copy a template tree, keeping symlinks as symlinks and the executable bit."""
    shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
    for directory, _dirs, files in os.walk(destination):
        for name in files:
            file = Path(directory, name)
            if not file.is_symlink():
                os.chmod(file, stat.S_IMODE(file.stat().st_mode) | stat.S_IWUSR)
