"""``steps publish``: add a .nupkg to a static NuGet v3 feed, a directory any web server hosts.

Layout (docs/publishing.md): ``index.json``; ``flatcontainer/<id>/index.json`` and
``flatcontainer/<id>/<ver>/`` (.nupkg, .nuspec, .nupkg.sha512); ``registration/<id>/
index.json`` and ``registration/<id>/<ver>.json``. Every file is replaced by rename, in an
order that never lists a version whose package is missing: the package, the version list,
the registration, the service index last. A lock file serialises publishers.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import filelock

from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.fsutil import write_bytes_atomic
from steptemplates.nuget import feed_json, ids, nuspec
from steptemplates.nuget.feed_json import FeedEntry, FeedUrls
from steptemplates.nuget.nupkg import PackageFile, read_package

LOCK_NAME = ".steps-publish.lock"
_DAMAGED_HINT = "restore the feed from a backup, or publish into a new directory"


@dataclass(frozen=True)
class PublishResult:
    package_id: str  # as the feed registers it: the casing first published
    version: str  # normalised, without build metadata
    feed_dir: Path
    base_url: str
    service_index_url: str
    package_url: str
    sha512: str  # base64, as in the registration and the .sha512 file
    replaced: bool  # an earlier package of this id and version was replaced (--force)


@dataclass(frozen=True)
class _Layout:
    """Where each file of the feed lives; ids and versions lowercased."""

    root: Path

    @property
    def service_index(self) -> Path:
        return self.root / "index.json"

    @property
    def flat_container(self) -> Path:
        return self.root / "flatcontainer"

    def versions_index(self, lower_id: str) -> Path:
        return self.flat_container / lower_id / "index.json"

    def package(self, lower_id: str, lower_version: str) -> Path:
        return self.flat_container / lower_id / lower_version / f"{lower_id}.{lower_version}.nupkg"

    def nuspec(self, lower_id: str, lower_version: str) -> Path:
        return self.flat_container / lower_id / lower_version / f"{lower_id}.nuspec"

    def sha512(self, lower_id: str, lower_version: str) -> Path:
        package = self.package(lower_id, lower_version)
        return package.with_name(package.name + ".sha512")

    def registration_index(self, lower_id: str) -> Path:
        return self.root / "registration" / lower_id / "index.json"

    def registration_leaf(self, lower_id: str, lower_version: str) -> Path:
        return self.root / "registration" / lower_id / f"{lower_version}.json"


def publish(
    package: Path,
    feed_dir: Path,
    *,
    base_url: str | None = None,
    force: bool = False,
    console: Console | None = None,
) -> PublishResult:
    """Add ``package`` to the feed in ``feed_dir`` (made if missing).

    ``force`` replaces a version already there and lets ``base_url`` differ from the one
    the feed was made for (every URL is rewritten).
    """
    package_file = read_package(package)
    given = _check_base_url(base_url) if base_url is not None else None
    layout = _Layout(_make_feed_dir(feed_dir))
    with _publish_lock(layout.root, console):
        return _publish_locked(package_file, layout, given, force=force, console=console)


def _publish_locked(
    package: PackageFile,
    layout: _Layout,
    given: str | None,
    *,
    force: bool,
    console: Console | None,
) -> PublishResult:
    recorded = _recorded_base_url(layout)
    urls = _choose_urls(layout, given, recorded, force=force, console=console)
    lower_id, version = package.nuspec.id.lower(), package.version
    listed = _read_versions(layout, lower_id)
    replaced = _check_not_in_feed(package, listed, layout, force=force)
    entries = _read_entries(layout, lower_id, listed, console)
    registered_id = _registered_id(package.nuspec.id, entries, layout, console)
    sha512 = base64.b64encode(hashlib.sha512(package.data).digest()).decode("ascii")
    entries[version.lower] = _entry(registered_id, package, sha512)
    entries = {key: dataclasses.replace(e, id=registered_id) for key, e in entries.items()}

    # The order readers rely on: package, version list, registration, service index.
    _write_package(layout, lower_id, package, sha512)
    versions = [entry.version for entry in entries.values()]
    _write_json(layout.versions_index(lower_id), feed_json.versions_index(versions))
    rewrite = urls.base != recorded
    _write_registration(layout, urls, lower_id, entries, fresh={version.lower}, all_leaves=rewrite)
    if rewrite:
        _rewrite_other_registrations(layout, urls, lower_id, console)
    _write_json(layout.service_index, feed_json.service_index(urls))
    return PublishResult(
        package_id=registered_id,
        version=version.normalised,
        feed_dir=layout.root,
        base_url=urls.base,
        service_index_url=urls.service_index,
        package_url=urls.package_content(lower_id, version.lower),
        sha512=sha512,
        replaced=replaced,
    )


def _check_not_in_feed(
    package: PackageFile, listed: list[ids.PackageVersion], layout: _Layout, *, force: bool
) -> bool:
    """Whether the version is already listed (to be replaced); refused unless ``force``."""
    present = any(v.lower == package.version.lower for v in listed)
    if present and not force:
        raise StepsError(
            f"{package.nuspec.id} {package.version.normalised} is already in the feed "
            f"{layout.root}",
            hint="publish a new version, or pass --force to replace it",
        )
    return present


def _entry(registered_id: str, package: PackageFile, sha512: str) -> FeedEntry:
    return FeedEntry(
        id=registered_id,
        version=package.version,
        description=package.nuspec.description,
        authors=package.nuspec.authors,
        tags=package.nuspec.tags,
        sha512=sha512,
    )


# --- the feed directory and its base URL ----------------------------------------------------


def _make_feed_dir(feed_dir: Path) -> Path:
    try:
        feed_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StepsError(
            f"cannot use {feed_dir} as a feed directory: {error.strerror or error}",
            hint="pass --feed a directory you can write to",
        ) from None
    return feed_dir


@contextlib.contextmanager
def _publish_lock(root: Path, console: Console | None) -> Iterator[None]:
    lock = filelock.FileLock(str(root / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        _status(console, f"Waiting for another publish to {root} to finish")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _check_base_url(text: str) -> str:
    parts = urlsplit(text.strip())
    # Checked first and never echoed: the URL is written into every JSON file of the feed.
    if parts.username is not None or parts.password is not None:
        raise StepsError(
            "--base-url must not contain a user name or password",
            hint="the URL is written into every file of the feed; configure credentials "
            "on the client instead",
        )
    usable = parts.scheme == "file" or (parts.scheme in ("http", "https") and parts.hostname)
    if not usable or parts.query or parts.fragment:
        raise StepsError(
            f"--base-url '{text}' is not an http://, https:// or file:// URL of a directory",
            hint="pass the URL the feed directory is served at, e.g. https://example.com/feed",
        )
    return text.strip().rstrip("/")


def _recorded_base_url(layout: _Layout) -> str | None:
    """The base URL the feed was made for, from its service index; None for a new feed."""
    if not layout.service_index.exists():
        return None
    recorded = feed_json.base_url_of(_read_json(layout.service_index))
    if recorded is None:
        raise StepsError(
            f"{layout.service_index} is not a service index written by steps publish",
            hint="publish into an empty directory or a feed steps publish made",
        )
    return recorded


def _choose_urls(
    layout: _Layout,
    given: str | None,
    recorded: str | None,
    *,
    force: bool,
    console: Console | None,
) -> FeedUrls:
    if given is not None and recorded is not None and given != recorded:
        if not force:
            raise StepsError(
                f"the feed {layout.root} is served at {recorded}, not {given}",
                hint="leave out --base-url, or pass --force to rewrite every URL in the feed",
            )
        _status(console, f"Rewriting the feed's URLs from {recorded} to {given}")
    base = given or recorded
    if base is None:
        base = layout.root.resolve().as_uri()
        _status(
            console,
            f"No --base-url given: the feed's URLs start with {base}, so it works as a "
            "folder feed; pass --base-url to serve it over HTTP",
        )
    return FeedUrls(base)


# --- reading what the feed holds ------------------------------------------------------------


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except OSError as error:
        raise StepsError(
            f"cannot read {path}: {error.strerror or error}", hint="check its permissions"
        ) from None
    except ValueError as error:
        raise StepsError(f"{path} is not valid JSON ({error})", hint=_DAMAGED_HINT) from None


def _read_versions(layout: _Layout, lower_id: str) -> list[ids.PackageVersion]:
    path = layout.versions_index(lower_id)
    if not path.exists():
        return []
    document = _read_json(path)
    listed = document.get("versions") if isinstance(document, dict) else None
    try:
        if not isinstance(listed, list):
            raise ValueError("it has no list of versions")
        return [ids.parse_package_version(str(text)) for text in listed]
    except ValueError as error:
        raise StepsError(f"{path} is damaged: {error}", hint=_DAMAGED_HINT) from None


def _read_entries(
    layout: _Layout, lower_id: str, listed: list[ids.PackageVersion], console: Console | None
) -> dict[str, FeedEntry]:
    """What the registration says of each listed version; its files stand in where it is silent."""
    registered = _registration_entries(layout, lower_id, console)
    return {
        version.lower: registered.get(version.lower) or _entry_from_files(layout, lower_id, version)
        for version in listed
    }


def _registration_entries(
    layout: _Layout, lower_id: str, console: Console | None
) -> dict[str, FeedEntry]:
    path = layout.registration_index(lower_id)
    if not path.exists():
        return {}
    try:
        entries = feed_json.entries_from_registration(_read_json(path))
    except (StepsError, ValueError) as error:
        # The registration is derived from the packages, so it is rebuilt rather than fatal.
        _warning(console, f"{path} is damaged ({error}); rebuilding it from the packages")
        return {}
    return {entry.version.lower: entry for entry in entries}


def _entry_from_files(layout: _Layout, lower_id: str, version: ids.PackageVersion) -> FeedEntry:
    nuspec_path = layout.nuspec(lower_id, version.lower)
    sha512_path = layout.sha512(lower_id, version.lower)
    for path in (nuspec_path, sha512_path):
        if not path.is_file():
            raise StepsError(
                f"the feed {layout.root} is damaged: {path} is missing",
                hint=f"publish {lower_id} {version.normalised} again with --force",
            )
    manifest = nuspec.parse(nuspec_path.read_bytes(), str(nuspec_path))
    return FeedEntry(
        id=manifest.id,
        version=version,
        description=manifest.description,
        authors=manifest.authors,
        tags=manifest.tags,
        sha512=sha512_path.read_text(encoding="ascii").strip(),
    )


def _registered_id(
    package_id: str, entries: dict[str, FeedEntry], layout: _Layout, console: Console | None
) -> str:
    """The id's casing the feed keeps: the one already there (ids are case-insensitive)."""
    if not entries:
        return package_id
    registered = min(entries.values(), key=lambda entry: entry.version.version).id
    if registered != package_id:
        _warning(
            console,
            f"package id '{package_id}' differs only in case from '{registered}' in the feed "
            f"{layout.root}; it is published as a version of '{registered}'",
        )
    return registered


# --- writing --------------------------------------------------------------------------------


def _write_package(layout: _Layout, lower_id: str, package: PackageFile, sha512: str) -> None:
    lower_version = package.version.lower
    write_bytes_atomic(layout.package(lower_id, lower_version), package.data)
    write_bytes_atomic(layout.nuspec(lower_id, lower_version), package.nuspec_xml)
    write_bytes_atomic(layout.sha512(lower_id, lower_version), sha512.encode("ascii"))


def _write_registration(
    layout: _Layout,
    urls: FeedUrls,
    lower_id: str,
    entries: dict[str, FeedEntry],
    *,
    fresh: set[str],
    all_leaves: bool,
) -> None:
    """Leaves first (all, the ``fresh`` versions', or missing ones), then the index."""
    for lower_version, entry in entries.items():
        path = layout.registration_leaf(lower_id, lower_version)
        if all_leaves or lower_version in fresh or not path.exists():
            _write_json(path, feed_json.registration_leaf(urls, lower_id, entry))
    index = feed_json.registration_index(urls, lower_id, list(entries.values()))
    _write_json(layout.registration_index(lower_id), index)


def _rewrite_other_registrations(
    layout: _Layout, urls: FeedUrls, published_id: str, console: Console | None
) -> None:
    """Every other package's registration again, for a new base URL."""
    if not layout.flat_container.is_dir():
        return
    for directory in sorted(layout.flat_container.iterdir()):
        lower_id = directory.name
        if lower_id == published_id or not layout.versions_index(lower_id).is_file():
            continue
        listed = _read_versions(layout, lower_id)
        if listed:
            entries = _read_entries(layout, lower_id, listed, console)
            _write_registration(layout, urls, lower_id, entries, fresh=set(), all_leaves=True)


def _write_json(path: Path, document: feed_json.Json) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def _status(console: Console | None, text: str) -> None:
    if console is not None:
        console.status(text)


def _warning(console: Console | None, text: str) -> None:
    if console is not None:
        console.warning(text)
