"""The shared cache: one bare git mirror per remote, and content-addressed template entries.

Layout under the cache root (``STEPS_CACHE_DIR``, else the platform's user cache dir)::

    git/<host-and-name>-<hash of url>/    bare mirror of one remote
    git/<...>.lock                         held while a process writes that mirror
    templates/sha256-<hex>/                one template tree, named by its integrity
    downloads/sha256-<hex>/<file>          one downloaded archive, named by its bytes' hash
    http/<hash of url>.json                a JSON document with its ETag, for conditional requests
    artifacts/<hash>.json                  which entry a feed's artifact unpacked to
    registries/<hash of location>/         a fetched registry index and its parsed forms
    tmp/                                   staging; an entry appears only by an atomic rename
    projects.txt                           lockfiles that used the cache (for `steps cache prune`)

An entry is never visible half-written: it is built in ``tmp/`` and renamed into place, so
an interrupted process leaves at most a staging directory that ``prune`` removes.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import filelock
import platformdirs

from steptemplates import fsutil, integrity

STALE_STAGING_SECONDS = 3600
# Records that only save requests (ETag'd answers, what an artifact unpacked to): pruning
# drops them all, which costs at most a few full requests later.
REMEMBERED_DIRS = ("http", "artifacts")


def default_root() -> Path:
    override = os.environ.get("STEPS_CACHE_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return Path(platformdirs.user_cache_dir("steps", appauthor=False))


class EntryStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    MODIFIED = "modified"  # found, did not match its integrity, and was removed


@dataclass(frozen=True)
class PruneReport:
    entries: int
    mirrors: int
    staging: int
    downloads: int = 0


class Cache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_root()

    @property
    def entries_dir(self) -> Path:
        return self.root / "templates"

    @property
    def mirrors_dir(self) -> Path:
        return self.root / "git"

    @property
    def staging_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def downloads_dir(self) -> Path:
        return self.root / "downloads"

    @property
    def http_dir(self) -> Path:
        return self.root / "http"

    # --- downloaded archives ---

    def download_path(self, sha256: str, file_name: str) -> Path:
        return self.downloads_dir / f"sha256-{sha256}" / file_name

    def cached_download(self, sha256: str, file_name: str) -> Path | None:
        """The archive with these bytes if the cache holds it intact; a damaged one is removed."""
        path = self.download_path(sha256, file_name)
        try:
            found = _file_sha256(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if found == sha256:
            return path
        self._discard(path.parent)
        return None

    def store_download(self, staged: Path, sha256: str, file_name: str) -> Path:
        """Publish a verified download (a file in the staging dir) under its hash."""
        target = self.download_path(sha256, file_name)
        if self.cached_download(sha256, file_name) is not None:
            staged.unlink(missing_ok=True)
            return target
        with fsutil.temporary_directory(self.staging_dir, "download-") as holder:
            os.rename(staged, holder / file_name)
            _make_read_only(holder)
            target.parent.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(holder, target.parent)
            except OSError:
                # Another process published the same bytes first; theirs is as good.
                if self.cached_download(sha256, file_name) is None:
                    raise
        return target

    # --- git mirrors ---

    def mirror_path(self, url: str) -> Path:
        return self.mirrors_dir / mirror_key(url)

    @contextlib.contextmanager
    def locked_mirror(self, url: str) -> Iterator[Path]:
        """The mirror for ``url``, held exclusively against other threads and processes."""
        path = self.mirror_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(path) + ".lock"):
            yield path

    # --- template entries ---

    def entry_path(self, entry_integrity: str) -> Path:
        return self.entries_dir / entry_integrity

    def check(self, entry_integrity: str) -> EntryStatus:
        """Whether the entry exists and still hashes to its name; a modified one is removed."""
        path = self.entry_path(entry_integrity)
        try:
            found = integrity.tree_integrity(path) if path.is_dir() else None
        except FileNotFoundError:
            found = None  # removed while it was read (`steps cache prune` in another process)
        if found is None:
            return EntryStatus.MISSING
        if found == entry_integrity:
            return EntryStatus.OK
        self._discard(path)
        return EntryStatus.MODIFIED

    def store(self, fill: Callable[[Path], None]) -> tuple[str, Path]:
        """Build an entry with ``fill(staging_dir)`` and publish it under its integrity."""
        with fsutil.temporary_directory(self.staging_dir, "entry-") as staging:
            tree = staging / "tree"
            tree.mkdir()
            fill(tree)
            entry_integrity = integrity.tree_integrity(tree)
            target = self.entry_path(entry_integrity)
            if self.check(entry_integrity) is EntryStatus.OK:
                return entry_integrity, target
            _make_read_only(tree)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tree, target)
            except OSError:
                # Another process published the same content first; theirs is as good.
                if self.check(entry_integrity) is not EntryStatus.OK:
                    raise
            return entry_integrity, target

    def _discard(self, path: Path) -> None:
        """Remove a directory so that it disappears at once, then delete it at leisure."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        trash = self.staging_dir / f"trash-{path.name}-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return
        fsutil.remove_tree(trash)

    # --- housekeeping ---

    def register(self, lock_path: Path) -> None:
        """Remember a lockfile that uses this cache, so ``prune`` keeps what it needs."""
        registry = self.root / "projects.txt"
        known = _read_lines(registry)
        resolved = str(lock_path.resolve())
        if resolved not in known:
            with filelock.FileLock(str(registry) + ".lock"):
                known = _read_lines(registry)
                if resolved not in known:
                    fsutil.write_text_atomic(
                        registry, "".join(f"{p}\n" for p in [*known, resolved])
                    )

    def registered_lockfiles(self) -> list[Path]:
        return [Path(p) for p in _read_lines(self.root / "projects.txt")]

    def forget_missing_lockfiles(self) -> list[Path]:
        registry = self.root / "projects.txt"
        if not registry.exists():
            return []
        with filelock.FileLock(str(registry) + ".lock"):
            alive = [p for p in self.registered_lockfiles() if p.exists()]
            fsutil.write_text_atomic(registry, "".join(f"{p}\n" for p in alive))
        return alive

    def prune(
        self,
        keep_integrities: set[str],
        keep_urls: set[str],
        keep_downloads: Set[str] = frozenset(),
    ) -> PruneReport:
        """Delete entries, downloads and mirrors nothing keeps, and stale staging directories."""
        entries = mirrors = staging = downloads = 0
        for path in _children(self.entries_dir):
            if path.name not in keep_integrities:
                self._discard(path)
                entries += 1
        for path in _children(self.downloads_dir):
            if path.name not in keep_downloads:
                self._discard(path)
                downloads += 1
        keep_keys = {mirror_key(url) for url in keep_urls}
        for path in _children(self.mirrors_dir):
            if path.is_dir() and path.name not in keep_keys:
                # The lock file stays: another process may be waiting on it right now.
                with filelock.FileLock(str(path) + ".lock"):
                    fsutil.remove_tree(path)
                mirrors += 1
        for name in REMEMBERED_DIRS:
            fsutil.remove_tree(self.root / name)
        cutoff = time.time() - STALE_STAGING_SECONDS
        for path in _children(self.staging_dir):
            if path.name.startswith("trash-") or path.lstat().st_mtime < cutoff:
                fsutil.remove_tree(path)
                staging += 1
        return PruneReport(entries, mirrors, staging, downloads)

    def clean(self) -> None:
        """Remove everything in the cache."""
        for path in _children(self.mirrors_dir):
            if path.is_dir():
                with filelock.FileLock(str(path) + ".lock"):
                    fsutil.remove_tree(path)
        fsutil.remove_tree(self.root)


def mirror_key(url: str) -> str:
    """A readable, collision-free directory name for a remote URL."""
    parts = urlsplit(url)
    readable = f"{parts.hostname or 'local'}-{Path(parts.path.rstrip('/')).name or 'repo'}"
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", readable).strip("._")[:60]
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return f"{readable}-{digest}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _children(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if not p.name.endswith(".lock"))
    except FileNotFoundError:
        return []


def _read_lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    except FileNotFoundError:
        return []


def _make_read_only(tree: Path) -> None:
    """Entries are shared by every project; read-only files make accidental edits obvious."""
    for directory, _dirs, files in os.walk(tree):
        for name in files:
            file = Path(directory, name)
            if not file.is_symlink():
                mode = stat.S_IMODE(file.stat().st_mode)
                os.chmod(file, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
