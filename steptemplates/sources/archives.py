"""What the GitHub, NuGet and URL sources share: an archive downloaded once into the cache
(named by the hash of its bytes) and unpacked into an entry (named by the hash of its files).

A subclass resolves a requirement (``lock``) and says how to authenticate to the host an
entry came from; downloading, verifying against the lock, unpacking and publishing into the
cache happen here, the same way for every feed. Nothing reaches the cache unverified: a
download that is truncated or hashes wrong is discarded from staging, and an unpacked tree
that does not match the lock's integrity is an error, never an entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from steptemplates import fsutil, integrity, netrc_file
from steptemplates.cache import EntryStatus
from steptemplates.errors import LockMismatchError, NetworkError, OfflineError, StepsError
from steptemplates.http_client import Auth, Downloaded, origin_of
from steptemplates.lockfile import LockedTemplate
from steptemplates.sources import SourceContext, load_entry

MEMO_DIR = "artifacts"  # under the cache root (cache.REMEMBERED_DIRS)


@dataclass(frozen=True)
class Unpacked:
    """What an artifact became: the sha256 of its bytes (None for a GitHub source archive)
    and the integrity of the entry it unpacked to."""

    sha256: str | None
    integrity: str


@dataclass(frozen=True)
class Unpacking:
    """How an archive becomes an entry."""

    subdir: str = ""
    # Descend into the archive's only top-level directory, when that is all it holds
    # (GitHub's source archives always; tarballs of a template folder usually).
    strip_single_top: bool = True
    # The template (or module) file inside, after subdir, checked to load (None: the one
    # steptemplate.toml or Octopus JSON file at the top).
    template: str | None = None


class ArchiveSource:
    """Base for sources whose artifact is one archive file per version."""

    # Whether an artifact URL always names the same bytes (a NuGet version, a GitHub asset
    # id or commit): then what it unpacked to is remembered, and relocking an unchanged
    # feed needs only its listings, which come back 304. A plain URL may change, so not.
    immutable_artifacts = True

    def __init__(self, context: SourceContext, entry_kind: str = "template") -> None:
        self.context = context
        self.cache = context.cache
        self.entry_kind = entry_kind

    # --- what subclasses say ---

    def auth_for(self, entry: LockedTemplate) -> Auth | None:
        """Credentials for the host ``entry`` downloads from."""
        return None

    def download_headers(self, entry: LockedTemplate) -> Mapping[str, str]:
        return {}

    def auth_hint(self, entry: LockedTemplate) -> str | None:
        return None

    def rate_limit_hint(self, entry: LockedTemplate) -> str | None:
        return None

    def unpacking(self, entry: LockedTemplate) -> Unpacking:
        return Unpacking(subdir=entry.subdir, template=entry.template)

    def label(self, name: str) -> str:
        return f"{self.entry_kind} '{name}'"

    # --- materialize ---

    def materialize(self, entry: LockedTemplate) -> Path:
        path = self._materialize(entry, network=True)
        assert path is not None
        return path

    def from_cache(self, entry: LockedTemplate) -> Path | None:
        return self._materialize(entry, network=False)

    def _materialize(self, entry: LockedTemplate, *, network: bool) -> Path | None:
        assert entry.integrity is not None and entry.artifact is not None and entry.file
        label = self.label(entry.name)
        status = self.cache.check(entry.integrity)
        if status is EntryStatus.OK:
            return self.cache.entry_path(entry.integrity)
        if status is EntryStatus.MODIFIED:
            self.context.console.warning(
                f"{label}: the cached copy was modified on disk; unpacking it again"
            )
        archive = (
            self.cache.cached_download(entry.sha256, entry.file) if entry.sha256 else None
        )
        if archive is None and not network and not self.context.offline:
            return None
        if archive is None and self.context.offline:
            raise OfflineError(
                f"{label}: {entry.describe()} is not in the cache and --offline forbids "
                "downloading it",
                hint="run `steps sync` once without --offline",
            )
        where, unpacking = entry.describe(), self.unpacking(entry)
        if archive is not None:
            found, path = self.unpack(archive, label, where, unpacking)
        else:
            downloaded = self.fetch_archive(
                label,
                entry.artifact,
                entry.file,
                auth=self.auth_for(entry),
                headers=self.download_headers(entry),
                auth_hint=self.auth_hint(entry),
                rate_limit_hint=self.rate_limit_hint(entry),
                expected_sha256=entry.sha256,
                store=False,
            )
            # Without a sha256 (a GitHub source archive) the bytes could never be found
            # again in downloads/, so they are not kept.
            found = self.unpack_download(
                downloaded, entry.file, label, where, unpacking, keep=entry.sha256 is not None
            )
            path = self.cache.entry_path(found)
        if found == entry.integrity:
            self.remember(entry.artifact, entry.subdir, Unpacked(entry.sha256, found))
        if found != entry.integrity:
            raise LockMismatchError(
                f"{label}: the files of {entry.describe()} hash to {found}, "
                f"but steps.lock records {entry.integrity}",
                hint="if the artifact was replaced upstream on purpose, run "
                f"`steps lock --upgrade-template {entry.name}`",
            )
        return path

    # --- what an artifact unpacked to ---

    def _memo_path(self, artifact: str, subdir: str) -> Path:
        key = "\n".join((artifact, subdir, self.entry_kind))
        return self.cache.root / MEMO_DIR / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    def recall(self, artifact: str, subdir: str) -> Unpacked | None:
        """What ``artifact`` unpacked to before, if that entry is still in the cache intact."""
        if not self.immutable_artifacts:
            return None
        try:
            data = json.loads(self._memo_path(artifact, subdir).read_text(encoding="utf-8"))
            unpacked = Unpacked(data["sha256"], data["integrity"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        sha256_ok = unpacked.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", str(unpacked.sha256))
        # Checked before use as a path: a damaged record must not name anything else.
        if not (sha256_ok and integrity.is_valid(str(unpacked.integrity))):
            return None
        if self.cache.check(unpacked.integrity) is not EntryStatus.OK:
            return None
        return unpacked

    def remember(self, artifact: str, subdir: str, unpacked: Unpacked) -> None:
        if not self.immutable_artifacts:
            return
        path = self._memo_path(artifact, subdir)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"sha256": unpacked.sha256, "integrity": unpacked.integrity}
        fsutil.write_text_atomic(path, json.dumps(record))

    # --- building blocks for lock() ---

    def fetch_archive(
        self,
        label: str,
        url: str,
        file_name: str,
        *,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        auth_hint: str | None = None,
        rate_limit_hint: str | None = None,
        expected_sha256: str | None = None,
        expected_sha512: str | None = None,
        expected_by: str = "steps.lock records",
        store: bool = True,
    ) -> Downloaded:
        """Download ``url`` and verify it; with ``store`` it is published into the cache
        (``path`` is then the cached file), otherwise left in staging for the caller."""
        if expected_sha256:
            cached = self.cache.cached_download(expected_sha256, file_name)
            if cached is not None:
                size = cached.stat().st_size
                return Downloaded(cached, size, expected_sha256, "")
        staging = self.cache.staging_dir
        downloaded = self.context.http().download(
            url,
            staging,
            label=label,
            auth=auth,
            headers=headers,
            auth_hint=auth_hint,
            rate_limit_hint=rate_limit_hint,
        )
        try:
            _verify(label, url, downloaded, expected_sha256, expected_sha512, expected_by)
            if not store:
                return downloaded
            path = self.cache.store_download(downloaded.path, downloaded.sha256, file_name)
        except BaseException:
            downloaded.path.unlink(missing_ok=True)
            raise
        return Downloaded(path, downloaded.size, downloaded.sha256, downloaded.sha512)

    def unpack_download(
        self,
        downloaded: Downloaded,
        file_name: str,
        label: str,
        where: str,
        unpacking: Unpacking,
        *,
        keep: bool = True,
        check: Callable[[Path], None] | None = None,
    ) -> str:
        """Unpack a download into a cache entry and, with ``keep``, then keep the archive
        in downloads/; returns the entry's integrity.

        A download still in staging enters the cache only once ``check`` accepted it and it
        unpacked, so an archive that is damaged or holds the wrong thing leaves nothing."""
        if downloaded.path == self.cache.download_path(downloaded.sha256, file_name):
            if check is not None:
                check(downloaded.path)
            return self.unpack(downloaded.path, label, where, unpacking)[0]
        with fsutil.temporary_directory(self.cache.staging_dir, "fetched-") as holder:
            # Unpacking reads the format from the file's name, which staging does not give it.
            named = holder / file_name
            os.replace(downloaded.path, named)
            if check is not None:
                check(named)
            found, _path = self.unpack(named, label, where, unpacking)
            if keep:
                self.cache.store_download(named, downloaded.sha256, file_name)
        return found

    def unpack(
        self, archive: Path, label: str, where: str, unpacking: Unpacking
    ) -> tuple[str, Path]:
        """Unpack ``archive`` into a cache entry; returns its integrity and path."""
        from steptemplates.packages.archive import extract

        def fill(tree: Path) -> None:
            with fsutil.temporary_directory(self.cache.staging_dir, "unpack-") as scratch:
                extracted = scratch / "x"
                try:
                    extract(archive, extracted)
                except StepsError as error:
                    raise StepsError(f"{label}: {error.message}", hint=error.hint) from None
                root = _strip(extracted) if unpacking.strip_single_top else extracted
                chosen = root / unpacking.subdir if unpacking.subdir else root
                if not chosen.is_dir():
                    raise StepsError(
                        f"{label}: {where} has no directory '{unpacking.subdir}'",
                        hint=f"check 'subdir' in steps.toml (the archive holds: "
                        f"{_listing(root)})",
                    )
                tree.rmdir()
                os.rename(chosen, tree)
            load_entry(tree, self.entry_kind, unpacking.template, f"{label} ({where})")

        return self.cache.store(fill)


def netrc_auth(url: str, context: SourceContext) -> Auth | None:
    """Basic auth from the ``~/.netrc`` entry for the URL's host, if there is one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    entry = netrc_file.lookup(parts.hostname)
    if entry is None:
        return None
    return basic_auth(url, entry.login, entry.password, entry.path or "~/.netrc", context)


def basic_auth(
    url: str, username: str, password: str, description: str, context: SourceContext
) -> Auth:
    """Basic auth for the URL's origin; the secret is masked in anything steps prints."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    context.console.masker.add(password)
    context.console.masker.add(token)
    return Auth(origin_of(url), {"Authorization": f"Basic {token}"}, description)


def _verify(
    label: str,
    url: str,
    downloaded: Downloaded,
    expected_sha256: str | None,
    expected_sha512: str | None,
    expected_by: str,
) -> None:
    if expected_sha256 and downloaded.sha256 != expected_sha256:
        raise LockMismatchError(
            f"{label}: the archive downloaded from {url} has sha256 {downloaded.sha256}, "
            f"but {expected_by} {expected_sha256}",
            hint="if it was replaced upstream on purpose, relock it (`steps lock "
            "--upgrade-template` with the template's name, or a new 'sha256' in steps.toml "
            "for an archive URL); otherwise do not trust it",
        )
    if expected_sha512 and downloaded.sha512 != expected_sha512:
        raise NetworkError(
            f"{label}: the archive downloaded from {url} has SHA-512 {downloaded.sha512}, "
            f"but the feed says {expected_sha512}",
            hint="the download was corrupted or the feed is inconsistent; try again, "
            "and tell the feed's owner if it persists",
        )


def _strip(root: Path) -> Path:
    children = list(root.iterdir())
    if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
        return children[0]
    return root


def _listing(root: Path) -> str:
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in root.iterdir())
    shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
    return shown or "nothing"
