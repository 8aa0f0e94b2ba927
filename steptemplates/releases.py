"""What a requirement's source offers: its versions, newest first, with when each came out.

Versions come from where the lock takes them: git tags (dated by the tag object, or by the
commit for a lightweight tag), GitHub releases (``published_at``) or tags, and NuGet's flat
container (dated by the feed's registration resource when it has one). A git requirement
that follows a branch has one "version": the branch's head, numbered by the template file's
own ``Version`` (Octopus's library has no tags). Path and archive URL sources have none.

Offline, everything comes from the cache: the ref listing saved by the last online run and
the objects the mirror holds (a version whose tag the mirror lacks is listed without a date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from steptemplates import fsutil
from steptemplates.errors import StepsError
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    NuGetRequirement,
    TemplateRef,
)
from steptemplates.sources import SourceContext, load_entry
from steptemplates.templates import Template
from steptemplates.versions import Version, parse_version, tag_reader

if TYPE_CHECKING:
    from steptemplates import git


@dataclass(frozen=True)
class Release:
    """One version on offer. ``version`` is None only for a branch head whose template has
    no version of its own (then ``commit`` tells heads apart)."""

    version: str | None
    tag: str | None
    published: datetime | None  # UTC
    commit: str | None
    template_version: str | None = None
    notes: str | None = None
    # GitHub's "pre-release" checkbox: a prerelease whatever its tag says.
    flagged_prerelease: bool = False

    @property
    def label(self) -> str:
        """The version, or a branch head's short commit, as commands show it."""
        return self.version or (self.commit or "")[:12]

    @property
    def parsed(self) -> Version | None:
        """The version as a ``Version`` (a branch head's integer Version reads as one too)."""
        if self.version is None:
            return None
        try:
            return parse_version(self.version)
        except ValueError:
            return None

    @property
    def is_prerelease(self) -> bool:
        parsed = self.parsed
        return self.flagged_prerelease or (parsed is not None and parsed.is_prerelease)


def offers_versions(ref: TemplateRef) -> bool:
    """Whether ``releases`` can list anything for ``ref`` (path and URL sources cannot)."""
    return isinstance(ref.source, GitRequirement | GitHubRequirement | NuGetRequirement)


def follows_branch(ref: TemplateRef) -> bool:
    return isinstance(ref.source, GitRequirement) and ref.source.branch is not None


def releases(
    ref: TemplateRef, context: SourceContext, manifest_dir: Path, *, dated: bool = True
) -> list[Release]:
    """What ``ref``'s source offers, newest first. ``dated`` False skips what only dates
    need (for git, fetching the tag objects). StepsError when the source cannot be asked
    (OfflineError when the cache cannot answer for it)."""
    del manifest_dir  # path sources have no versions; kept for the sources' common shape
    source = ref.source
    label = f"{ref.kind} '{ref.name}'"
    if isinstance(source, GitRequirement):
        if source.branch is not None:
            return [_branch_head(ref, source, context, label)]
        return _git_tags(source.url, source.tags, context, label, dated=dated)
    if isinstance(source, GitHubRequirement):
        return _github(ref, source, context)
    if isinstance(source, NuGetRequirement):
        return _nuget(ref, source, context)
    return []


def newest_first(found: Iterable[Release]) -> list[Release]:
    """Releases sorted newest first: by version, undated heads (no version) last."""
    listed = list(found)
    versioned = [r for r in listed if r.parsed is not None]
    others = [r for r in listed if r.parsed is None]
    versioned.sort(key=lambda r: (r.parsed, r.tag or ""), reverse=True)
    return versioned + others


# --- git ------------------------------------------------------------------------------------


def _remote_refs(url: str, context: SourceContext, label: str) -> git.RemoteRefs:
    """The remote's refs, listed once per run however many templates it holds."""
    from steptemplates.sources.git import GitSource  # imports dulwich: only when needed

    return context.once(("git-refs", url), lambda: GitSource(context).remote_refs(url, label))


def _git_tags(
    url: str, pattern: str | None, context: SourceContext, label: str, *, dated: bool
) -> list[Release]:
    refs = _remote_refs(url, context, label)
    by_version: dict[Version, git.RemoteRef] = {}
    read = tag_reader(pattern)
    # Sorted so that when `v1.0.0` and `1.0.0` both exist, the lock's choice is the one shown.
    for name, remote in sorted(refs.tags().items()):
        version = read(name)
        if version is not None:
            by_version.setdefault(version, remote)
    facts = _tag_facts(url, by_version.values(), context) if dated else {}
    found = []
    for version, remote in by_version.items():
        fact = facts.get(remote.object_sha)
        found.append(
            Release(
                version=str(version),
                tag=remote.name.removeprefix("refs/tags/"),
                published=fact.date if fact else None,
                commit=remote.commit_sha,
                notes=(fact.message or None) if fact and fact.kind == "tag" else None,
            )
        )
    return newest_first(found)


def _tag_facts(
    url: str, tags: Iterable[git.RemoteRef], context: SourceContext
) -> dict[str, git.ObjectFacts]:
    """The tag (or, for a lightweight tag, commit) objects behind ``tags``, by sha. Those
    the mirror lacks are fetched once, shallow; the mirror keeps them for the next time."""
    from steptemplates import git  # imports dulwich: only when needed

    wanted = [tag.object_sha for tag in tags]
    with context.cache.locked_mirror(url) as mirror:
        facts = _read_all(mirror, wanted)
        missing = [sha for sha in wanted if sha not in facts]
        if missing and not context.offline:
            git.fetch(mirror, url, missing, context.git_credentials(url))
            facts.update(_read_all(mirror, missing))
    return facts


def _read_all(mirror: Path, shas: Iterable[str]) -> dict[str, git.ObjectFacts]:
    from steptemplates import git  # imports dulwich: only when needed

    if not (mirror / "HEAD").is_file():
        return {}
    facts = {}
    for sha in shas:
        try:
            facts[sha] = git.read_object(mirror, sha)
        except StepsError:
            continue  # not fetched yet
    return facts


def commit_date(url: str, commit: str, context: SourceContext) -> datetime | None:
    """When ``commit`` of ``url`` was committed, fetching it if the mirror lacks it (online);
    None when it cannot be known."""
    from steptemplates import git  # imports dulwich: only when needed

    with context.cache.locked_mirror(url) as mirror:
        if not git.has_commit(mirror, commit):
            if context.offline:
                return None
            git.fetch(mirror, url, [commit], context.git_credentials(url))
        return git.read_object(mirror, commit).date


def _branch_head(
    ref: TemplateRef, source: GitRequirement, context: SourceContext, label: str
) -> Release:
    """The branch's head, numbered by the version its template file gives itself."""
    from steptemplates import git  # imports dulwich: only when needed

    assert source.branch is not None
    refs = _remote_refs(source.url, context, label)
    head = refs.branch(source.branch)
    if head is None:
        raise StepsError(
            f"{label}: branch '{source.branch}' does not exist in {source.url}",
            hint="check 'branch' in steps.toml",
        )
    commit = head.commit_sha
    with context.cache.locked_mirror(source.url) as mirror:
        if not git.has_commit(mirror, commit):
            if context.offline:
                # The listing is cached but the head is not: known, but neither dated nor read.
                return Release(None, None, None, commit)
            git.fetch(mirror, source.url, [commit], context.git_credentials(source.url))
        date = git.read_object(mirror, commit).date
        own = _own_version(mirror, commit, ref, context, label)
    return Release(own, None, date, commit, template_version=own)


def _own_version(
    mirror: Path, commit: str, ref: TemplateRef, context: SourceContext, label: str
) -> str | None:
    """The template's own version at ``commit`` (None for a module, or a template without one)."""
    source = ref.source
    assert isinstance(source, GitRequirement)
    with fsutil.temporary_directory(context.cache.staging_dir, "release-") as directory:
        _extract(mirror, commit, source.subdir, ref.template, directory)
        loaded = load_entry(directory, ref.kind, ref.template, f"{label} at {commit[:12]}")
    if isinstance(loaded, Template) and loaded.version is not None:
        return str(loaded.version)
    return None


def _extract(mirror: Path, commit: str, subdir: str, template: str | None, into: Path) -> None:
    """Just what loading the template needs: its JSON file alone, else its directory."""
    from steptemplates import git  # imports dulwich: only when needed

    if template is not None and PurePosixPath(template).suffix.lower() == ".json":
        inside = f"{subdir}/{template}" if subdir else template
        git.extract_file(mirror, commit, inside, into / template)
        return
    folder = PurePosixPath(template).parent.as_posix() if template else "."
    if folder == ".":
        git.extract_tree(mirror, commit, subdir, into)
        return
    (into / folder).mkdir(parents=True)
    git.extract_tree(mirror, commit, f"{subdir}/{folder}" if subdir else folder, into / folder)


# --- feeds ----------------------------------------------------------------------------------


def _github(ref: TemplateRef, source: GitHubRequirement, context: SourceContext) -> list[Release]:
    from steptemplates.sources.github import GitHubSource  # imports httpx: only when needed

    offered = GitHubSource(context, ref.kind).offered(ref.name, source)
    found = [
        Release(
            version=str(offer.version),
            tag=offer.tag,
            published=offer.published,
            commit=offer.commit,
            notes=offer.notes,
            flagged_prerelease=offer.flagged_prerelease,
        )
        for offer in offered
        if offer.version is not None
    ]
    return newest_first(found)


def _nuget(ref: TemplateRef, source: NuGetRequirement, context: SourceContext) -> list[Release]:
    from steptemplates.sources.nuget import NuGetSource  # imports httpx: only when needed

    offered = NuGetSource(context, ref.kind).offered(ref.name, source)
    # The lock records NuGet versions as the feed's URLs spell them: normalised, lowercase.
    found = [Release(str(o.version).lower(), None, o.published, None) for o in offered]
    return newest_first(found)
