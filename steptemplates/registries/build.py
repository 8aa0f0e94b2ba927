"""``steps registry build``: an ``index.toml`` from the collections ``registry.toml`` lists.

For each git collection: list its tags and branches, fetch the commits the version tags and
the followed branch point to into the cache's mirror (shallow, in one fetch), read each
commit's files once, and load every template found there. A template is listed with every
version whose tag holds it, its parameters from the newest; one that no version tag holds
follows the branch. GitHub and NuGet collections are read by ``feed_collections``. Nothing
in the result depends on when or where it is built, so an
unchanged registry rebuilds to the same bytes (docs/registry-format.md).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from steptemplates import fsutil, git
from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.errors import OfflineError, StepsError
from steptemplates.registries import discovery, index, registry_file
from steptemplates.registries.collection_reader import CollectionReader, Release
from steptemplates.registries.discovery import Found
from steptemplates.registries.feed_collections import index_feed_collection
from steptemplates.registries.index import IndexEntry, IndexSource, IndexVersion, RegistryIndex
from steptemplates.registries.registry_file import (
    AnyCollection,
    Collection,
    FeedCollection,
    RegistryFile,
)
from steptemplates.sources import SourceContext
from steptemplates.versions import Version

_HEADS = "refs/heads/"


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote, and how the index differs from the one before it."""

    path: Path
    index: RegistryIndex
    written: bool  # False when the file already held exactly this index
    collections: int
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def versions(self) -> int:
        return sum(len(entry.versions) for entry in self.index.entries)


def default_directory(cwd: Path) -> Path:
    """Where `steps registry build` looks without DIR: ./registry if it exists, else here."""
    candidate = cwd / "registry"
    return candidate if candidate.is_dir() else cwd


def build(
    directory: Path, console: Console, *, offline: bool = False, strict: bool = False
) -> BuildResult:
    """Read ``directory/registry.toml``, index its collections and write ``index.toml`` there
    (atomically, and only when it changed)."""
    path = directory / registry_file.FILE_NAME
    if not path.is_file():
        raise StepsError(
            f"{path}: file not found",
            hint="write one naming the collections to index (docs/registry-format.md), or "
            "give the registry's directory",
        )
    registry = registry_file.load(path)
    problems = Problems(console, strict)
    context = SourceContext(cache=Cache(), console=console, offline=offline)
    listed: list[_Listed] = []
    try:
        for collection in registry.collections:
            listed.extend(_index_any(collection, directory, context, problems))
    finally:
        context.close()
    _check_unique(listed, registry)
    result = RegistryIndex(
        registry.name, registry.description, tuple(sorted((x.entry for x in listed), key=_name))
    )
    return _write(directory / index.FILE_NAME, result, len(registry.collections), problems)


def _name(entry: IndexEntry) -> str:
    return entry.name


class TemplateProblem(StepsError):
    """With ``--strict``: a template that cannot be listed (the message names it already)."""


class Problems:
    """Templates that cannot be listed: warnings, or with ``strict`` the first one an error."""

    def __init__(self, console: Console, strict: bool) -> None:
        self.console = console
        self.strict = strict
        self.messages: list[str] = []

    def report(self, message: str, consequence: str = "") -> None:
        """``message`` says what is wrong; ``consequence`` what building on does about it."""
        if self.strict:
            raise TemplateProblem(message, hint="fix it, or build without --strict to leave it out")
        shown = f"{message}; {consequence}" if consequence else message
        self.console.warning(shown)
        self.messages.append(shown)


@dataclass(frozen=True)
class _Listed:
    entry: IndexEntry
    short_name: str  # before any override: what [collection.templates.NAME] names
    where: str  # the collection and path, for a duplicate's message


# --- one collection ------------------------------------------------------------------------


def _index_any(
    collection: AnyCollection, registry_dir: Path, context: SourceContext, problems: Problems
) -> list[_Listed]:
    if isinstance(collection, Collection):
        return _index_collection(collection, registry_dir, context, problems)
    listed = [
        _Listed(found.entry, found.short_name, found.where)
        for found in index_feed_collection(collection, registry_dir, context, problems.report)
    ]
    _check_overrides_used(collection, listed, problems)
    return listed


def _index_collection(
    collection: Collection, registry_dir: Path, context: SourceContext, problems: Problems
) -> list[_Listed]:
    url, local = _collection_url(collection, registry_dir)
    shown = _shown(collection, url)
    with (
        _naming(collection),
        context.cache.locked_mirror(url) as mirror,
        fsutil.temporary_directory(context.cache.staging_dir, "registry-") as scratch,
    ):
        refs = _refs(url, mirror, context, local=local)
        branch, head = _followed_branch(collection, refs, shown)
        releases = _releases(collection, refs)
        _fetch(mirror, url, [head, *(r.want for r in releases)], context, local=local)
        reader = CollectionReader(mirror, collection, scratch, problems.report, shown)
        at_head = {found.path: found for found in reader.templates(head, f"branch {branch}")}
        versions = _versions(reader, releases)
        listed = [
            _listing(collection, path, versions.get(path, []), at_head.get(path), branch)
            for path in sorted(set(at_head) | set(versions))
        ]
    if not listed:
        problems.report(
            f"{collection.origin}: no templates found in {shown}"
            + (f" under '{collection.subdir}'" if collection.subdir else "")
            + (" matching 'include'" if collection.include else "")
        )
    _check_overrides_used(collection, listed, problems)
    return listed


def _collection_url(collection: Collection, registry_dir: Path) -> tuple[str, bool]:
    """The URL to read ``collection`` from, and whether it is on this machine."""
    if not collection.same_repository:
        scheme = urlsplit(collection.git).scheme
        return collection.git, scheme == "file" or collection.git.startswith("/")
    top = _enclosing_repository(registry_dir)
    if top is None:
        raise StepsError(
            f'{collection.origin}: git = "." names the git repository holding '
            f"{registry_dir}, but it is not inside one",
            hint="build the registry inside a clone of its repository, or give a URL",
        )
    return top.as_uri(), True


def _enclosing_repository(directory: Path) -> Path | None:
    start = directory.resolve()
    return next((d for d in (start, *start.parents) if (d / ".git").exists()), None)


def _shown(collection: Collection, url: str) -> str:
    return f'{url} (git = ".")' if collection.same_repository else git.redact_url(url)


@contextlib.contextmanager
def _naming(collection: Collection) -> Iterator[None]:
    """Put the collection's place in registry.toml in front of errors from the git layer."""
    try:
        yield
    except StepsError as error:
        if not isinstance(error, TemplateProblem) and not error.message.startswith(
            collection.origin
        ):
            error.message = f"{collection.origin}: {error.message}"
            error.hint = error.hint or "check the collection's 'git' URL in registry.toml"
        raise


def _refs(url: str, mirror: Path, context: SourceContext, *, local: bool) -> git.RemoteRefs:
    """The tags and branches of ``url``; offline, the listing the last build saved (a
    repository on this machine is read as it is: that needs no network)."""
    if context.offline and not local:
        snapshot = git.read_ref_snapshot(mirror)
        if snapshot is None:
            raise OfflineError(
                f"{git.redact_url(url)} is not in the cache and --offline forbids fetching it",
                hint="build once without --offline",
            )
        return snapshot
    refs = git.list_remote_refs(url, context.git_credentials(url))
    git.write_ref_snapshot(mirror, refs)
    return refs


def _followed_branch(collection: Collection, refs: git.RemoteRefs, shown: str) -> tuple[str, str]:
    """The branch templates without a version tag follow, and its head commit."""
    name = collection.branch
    if name is None and refs.head and refs.head.startswith(_HEADS):
        name = refs.head.removeprefix(_HEADS)
    if name is None:
        raise StepsError(
            f"{shown} has no default branch (HEAD names none)",
            hint="name the branch to follow with 'branch' in the collection",
        )
    ref = refs.branch(name)
    if ref is None:
        branches = sorted(n.removeprefix(_HEADS) for n in refs.refs if n.startswith(_HEADS))
        raise StepsError(
            f"branch '{name}' does not exist in {shown}",
            hint="check 'branch' in the collection; it has "
            + (", ".join(branches[:10]) if branches else "no branches"),
        )
    return name, ref.commit_sha


def _releases(collection: Collection, refs: git.RemoteRefs) -> list[Release]:
    """The tags the collection's pattern reads as versions, by tag name."""
    releases = []
    for tag, ref in sorted(refs.tags().items()):
        read = collection.tags.read(tag)
        if read is not None:
            template, version = read
            releases.append(Release(tag, version, template, ref.object_sha, ref.commit_sha))
    return releases


def _fetch(
    mirror: Path, url: str, wants: list[str], context: SourceContext, *, local: bool
) -> None:
    if not context.offline or local:
        git.fetch(mirror, url, wants, context.git_credentials(url))
        return
    missing = [sha for sha in dict.fromkeys(wants) if not _in_mirror(mirror, sha)]
    if missing:
        raise OfflineError(
            f"the cache lacks {len(missing)} of the commits and tags {git.redact_url(url)} "
            "lists, and --offline forbids fetching them",
            hint="build once without --offline",
        )


def _in_mirror(mirror: Path, sha: str) -> bool:
    try:
        git.read_object(mirror, sha)
    except StepsError:
        return False
    return True


# --- versions and entries ------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    release: Release
    found: Found
    facts: git.ObjectFacts


def _versions(reader: CollectionReader, releases: list[Release]) -> dict[str, list[_Version]]:
    """Per template path, the versions holding it, newest first. When two tags name the
    same version (``v1.0.0`` and ``1.0.0``), the first by name counts, as in resolution."""
    by_path: dict[str, dict[Version, _Version]] = {}
    for release in releases:
        for found in reader.templates(release.commit, release.tag, only=release.template):
            listed = by_path.setdefault(found.path, {})
            if release.version not in listed:
                listed[release.version] = _Version(release, found, reader.facts(release.want))
    return {
        path: sorted(found.values(), key=lambda v: v.release.version, reverse=True)
        for path, found in by_path.items()
    }


def _listing(
    collection: Collection,
    path: str,
    versions: list[_Version],
    at_head: Found | None,
    branch: str,
) -> _Listed:
    if versions:
        stable = [v for v in versions if not v.release.version.is_prerelease]
        summary = (stable or versions)[0].found
    else:
        assert at_head is not None
        summary = at_head
    short = collection.short_name(summary.own_name)
    override = collection.overrides.get(short, registry_file.TemplateOverride())
    entry = IndexEntry(
        name=override.name or short,
        description=_first(override.description, summary.description),
        category=_first(override.category, collection.category, summary.category),
        source=_source(collection, summary),
        format=summary.format,
        maintainers=override.maintainers or collection.maintainers,
        versions=tuple(_index_version(v) for v in versions),
        branch=None if versions else branch,
        template_version=None if versions else summary.template_version,
        parameters=summary.parameters,
        modules=summary.modules,
    )
    return _Listed(entry, short, f"{collection.origin} ({path or '.'})")


def _first(*values: str | None) -> str:
    return next((v for v in values if v is not None), "")


def _source(collection: Collection, found: Found) -> IndexSource:
    tags = None
    if not collection.tags.is_default:
        tags = collection.tags.for_template(found.own_name)
    if found.format == discovery.NATIVE:
        return IndexSource("git", collection.git, subdir=found.path, tags=tags)
    return IndexSource("git", collection.git, template=found.path, tags=tags)


def _index_version(version: _Version) -> IndexVersion:
    facts = version.facts
    return IndexVersion(
        version=str(version.release.version),
        tag=version.release.tag,
        commit=version.release.commit,
        published=facts.date,
        notes=facts.message if facts.kind == "tag" else "",
        template_version=version.found.template_version,
    )


def _check_overrides_used(
    collection: AnyCollection, listed: list[_Listed], problems: Problems
) -> None:
    used = {item.short_name for item in listed}
    shown = collection.shown if isinstance(collection, FeedCollection) else collection.git
    for name, override in sorted(collection.overrides.items()):
        if name not in used:
            problems.report(
                f"{override.origin}: [collection.templates.{name}] matches no template of the "
                f"collection {shown}"
            )


def _check_unique(listed: list[_Listed], registry: RegistryFile) -> None:
    seen: dict[str, _Listed] = {}
    for item in listed:
        first = seen.setdefault(item.entry.name, item)
        if first is not item:
            raise StepsError(
                f"{registry.display}: two templates are named '{item.entry.name}': "
                f"{first.where} and {item.where}",
                hint='give one another name with [collection.templates.NAME] name = "..." '
                "or a 'name' pattern for its collection",
            )


# --- writing -------------------------------------------------------------------------------


def _write(path: Path, result: RegistryIndex, collections: int, problems: Problems) -> BuildResult:
    text = index.render(result)
    previous = path.read_text(encoding="utf-8") if path.is_file() else None
    written = previous != text
    if written:
        fsutil.write_text_atomic(path, text)
    old = _blocks_by_name(previous) if previous is not None else {}
    new = _blocks_by_name(text)
    return BuildResult(
        path=path,
        index=result,
        written=written,
        collections=collections,
        added=tuple(sorted(set(new) - set(old))),
        removed=tuple(sorted(set(old) - set(new))),
        changed=tuple(sorted(n for n in set(new) & set(old) if new[n] != old[n])),
        warnings=tuple(problems.messages),
    )


_TEMPLATE_HEADER = "\n[[template]]\n"
_NAME_LINE = re.compile(r'name = "([^"\\]*)"\n')


def _blocks_by_name(text: str) -> dict[str, str]:
    """The text of each ``[[template]]`` of an index, by name. ``render`` writes one entry
    per block, name first, so comparing blocks tells what changed without reading TOML (an
    index edited by hand only shows more changes)."""
    blocks = text.split(_TEMPLATE_HEADER)[1:]
    named = ((_NAME_LINE.match(block), block) for block in blocks)
    return {match.group(1): block for match, block in named if match}
