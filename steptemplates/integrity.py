"""Content hashes of template file trees, as recorded in ``steps.lock``.

The canonical serialisation (documented in docs/lockfile.md) covers exactly what a template
is made of: relative paths, whether a file is executable or a symlink, and the bytes. It
ignores what varies between checkouts (timestamps, owners, read/write bits, empty
directories), so the same git tree always hashes the same on every machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from steptemplates.errors import StepsError

FORMAT_HEADER = b"steps-tree-v1\0"
PREFIX = "sha256-"
_PATTERN = re.compile(r"sha256-[0-9a-f]{64}")


def is_valid(integrity: str) -> bool:
    return _PATTERN.fullmatch(integrity) is not None


def tree_integrity(root: Path) -> str:
    """``sha256-<hex>`` over the canonical serialisation of the files under ``root``."""
    digest = hashlib.sha256(FORMAT_HEADER)
    for relative, kind, content in _entries(root):
        digest.update(kind + b" " + relative + b"\0" + str(len(content)).encode() + b"\0")
        digest.update(content)
    return PREFIX + digest.hexdigest()


def _entries(root: Path) -> list[tuple[bytes, bytes, bytes]]:
    entries = []
    for directory, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, root).replace(os.sep, "/").encode("utf-8")
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                entries.append((relative, b"link", os.readlink(full).encode("utf-8")))
            elif stat.S_ISREG(mode):
                kind = b"exec" if mode & 0o111 else b"file"
                entries.append((relative, kind, Path(full).read_bytes()))
            else:
                raise StepsError(f"{full}: templates hold only regular files and symlinks")
    entries.sort()
    return entries
