"""Templates in git repositories: tags are versions, pinned to a commit and a content hash."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from steptemplates import git
from steptemplates.cache import EntryStatus
from steptemplates.errors import LockMismatchError, OfflineError, StepsError
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import GitRequirement, TemplateRef
from steptemplates.sources import NoVersionInRange, SourceContext, load_entry
from steptemplates.versions import Version, parse_range, version_from_tag


@dataclass(frozen=True)
class _Target:
    """What a requirement resolved to on the remote."""

    commit: str
    want: str  # the object to fetch: a tag object, a branch tip or the commit itself
    tag: str | None = None
    version: str | None = None


class GitSource:
    def __init__(self, context: SourceContext, entry_kind: str = "template") -> None:
        self.entry_kind = entry_kind
        self.context = context
        self.cache = context.cache

    # --- lock ---

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, GitRequirement)
        label = f"{self.entry_kind} '{ref.name}'"
        with _naming(label, "check its 'git' URL in steps.toml"):
            credentials = self.context.git_credentials(requirement.url)
            with self.cache.locked_mirror(requirement.url) as mirror:
                refs = self._remote_refs(requirement.url, mirror, credentials, label)
                target = self._select(ref.name, requirement, refs, mirror, credentials)
                if not git.has_commit(mirror, target.commit):
                    self._require_online(label, "fetch it")
                    git.fetch(mirror, requirement.url, [target.want], credentials)
                at = target.tag or target.commit[:12]
                entry_integrity, _path = self._extract(
                    mirror, target.commit, requirement, ref.template, label, at
                )
        return LockedTemplate(
            name=ref.name,
            source="git",
            requested=requirement.requested,
            url=requirement.url,
            subdir=requirement.subdir,
            version=target.version,
            tag=target.tag,
            commit=target.commit,
            integrity=entry_integrity,
            template=ref.template,
        )

    def remote_refs(self, url: str, label: str) -> git.RemoteRefs:
        """The remote's tags and branches; offline, the listing saved by the last online run."""
        with self.cache.locked_mirror(url) as mirror:
            return self._remote_refs(url, mirror, self.context.git_credentials(url), label)

    def _remote_refs(
        self, url: str, mirror: Path, credentials: git.GitCredentials | None, label: str
    ) -> git.RemoteRefs:
        if self.context.offline:
            snapshot = git.read_ref_snapshot(mirror)
            if snapshot is None:
                raise OfflineError(
                    f"{label}: {url} is not in the cache and --offline forbids fetching it",
                    hint="run the command once without --offline",
                )
            return snapshot
        refs = git.list_remote_refs(url, credentials)
        git.write_ref_snapshot(mirror, refs)
        return refs

    def _select(
        self,
        name: str,
        requirement: GitRequirement,
        refs: git.RemoteRefs,
        mirror: Path,
        credentials: git.GitCredentials | None,
    ) -> _Target:
        label = f"{self.entry_kind} '{name}'"
        url = requirement.url
        tags = refs.tags()
        if requirement.tag is not None:
            found = tags.get(requirement.tag)
            if found is None:
                raise StepsError(
                    f"{label}: tag '{requirement.tag}' does not exist in {url}",
                    hint=_suggest("tags", requirement.tag, tags),
                )
            version = version_from_tag(requirement.tag)
            return _Target(
                found.commit_sha,
                found.object_sha,
                requirement.tag,
                str(version) if version else None,
            )
        if requirement.branch is not None:
            branch = refs.branch(requirement.branch)
            if branch is None:
                branches = {n.removeprefix("refs/heads/"): r for n, r in refs.refs.items()}
                branches = {n: r for n, r in branches.items() if not n.startswith("refs/")}
                raise StepsError(
                    f"{label}: branch '{requirement.branch}' does not exist in {url}",
                    hint=_suggest("branches", requirement.branch, branches),
                )
            return _Target(branch.commit_sha, branch.commit_sha)
        if requirement.rev is not None:
            commit = self._find_rev(label, requirement, mirror, credentials)
            return _Target(commit, commit)
        return _select_version(label, requirement, tags)

    def _find_rev(
        self,
        label: str,
        requirement: GitRequirement,
        mirror: Path,
        credentials: git.GitCredentials | None,
    ) -> str:
        rev = (requirement.rev or "").lower()
        if len(rev) == 40:
            return rev
        found = git.find_commit(mirror, rev) if mirror.exists() else None
        if found is None:
            self._require_online(label, f"look up commit {rev}")
            git.fetch_all(mirror, requirement.url, credentials)
            found = git.find_commit(mirror, rev)
        if found is None:
            raise StepsError(
                f"{label}: no commit starting with {rev} in {requirement.url}",
                hint="check 'rev' in steps.toml",
            )
        return found

    def _extract(
        self,
        mirror: Path,
        commit: str,
        requirement: GitRequirement,
        template: str | None,
        label: str,
        at: str,
    ) -> tuple[str, Path]:
        where = requirement.url + (f"//{requirement.subdir}" if requirement.subdir else "")

        def fill(directory: Path) -> None:
            try:
                _extract_entry(mirror, commit, requirement.subdir, template, directory)
            except git.MissingSubdirError as exc:
                raise StepsError(
                    f"{label}: {exc.describe()} in {requirement.url} at {at}",
                    hint="check 'subdir' in steps.toml",
                ) from None
            except git.MissingFileError as exc:
                absent = exc.problem == git.MissingFileError.ABSENT
                fact = f"there is no file '{template}'" if absent else f"'{template}' {exc.problem}"
                raise StepsError(
                    f"{label}: {fact} in {where} at {at}",
                    hint="check 'template' in steps.toml (a path inside the source, after "
                    "'subdir')",
                ) from None
            # Checked before the entry is published, so the cache only ever holds what loads.
            load_entry(directory, self.entry_kind, template, f"{label} ({where} at {at})")

        return self.cache.store(fill)

    def _require_online(self, label: str, action: str) -> None:
        if self.context.offline:
            raise OfflineError(
                f"{label}: cannot {action}: --offline forbids network access",
                hint="run once without --offline to fill the cache",
            )

    # --- materialize ---

    def materialize(self, entry: LockedTemplate) -> Path:
        path = self._materialize(entry, network=True)
        assert path is not None
        return path

    def from_cache(self, entry: LockedTemplate) -> Path | None:
        return self._materialize(entry, network=False)

    def _materialize(self, entry: LockedTemplate, *, network: bool) -> Path | None:
        assert entry.url is not None and entry.commit is not None and entry.integrity is not None
        label = f"{self.entry_kind} '{entry.name}'"
        # The common case, a verified entry whose commit the mirror holds, needs no lock:
        # entries are immutable once published, and the mirror is only read.
        mirror = self.cache.mirror_path(entry.url)
        status = self.cache.check(entry.integrity)
        if status is EntryStatus.OK and git.has_commit(mirror, entry.commit):
            return self.cache.entry_path(entry.integrity)
        with (
            _naming(label, "check its URL in steps.toml and steps.lock"),
            self.cache.locked_mirror(entry.url) as mirror,
        ):
            if status is not EntryStatus.MODIFIED:  # (a modified entry is already removed)
                status = self.cache.check(entry.integrity)  # another process may have restored it
            in_mirror = git.has_commit(mirror, entry.commit)
            # A verified entry is used as it is; the mirror check makes a lock that names a
            # commit the remote lacks fail here as it would with an empty cache.
            if status is EntryStatus.OK and (in_mirror or self.context.offline):
                return self.cache.entry_path(entry.integrity)
            if not in_mirror:
                if not network and not self.context.offline:
                    self._warn_if_modified(label, status, f"fetching it again from {entry.url}")
                    return None
                self._require_commit(entry, mirror, status)
            else:
                self._warn_if_modified(
                    label, status, "restoring it from the git mirror in the cache"
                )
            requirement = GitRequirement(url=entry.url, subdir=entry.subdir)
            at = entry.tag or entry.commit[:12]
            found, path = self._extract(
                mirror, entry.commit, requirement, entry.template, label, at
            )
        if found != entry.integrity:
            raise LockMismatchError(
                f"{label}: the files at {entry.describe()} hash to {found}, "
                f"but steps.lock records {entry.integrity}",
                hint="if steps.lock was edited by hand, run `steps lock --upgrade-template "
                f"{entry.name}` to re-resolve it",
            )
        return path

    def _require_commit(self, entry: LockedTemplate, mirror: Path, status: EntryStatus) -> None:
        """Fetch the locked commit the mirror lacks, saying why when the cached copy was bad."""
        label = f"{self.entry_kind} '{entry.name}'"
        modified = status is EntryStatus.MODIFIED
        if self.context.offline:
            raise OfflineError(
                f"{label}: the cached copy of {entry.describe()} "
                f"{'was modified on disk' if modified else 'is missing'}, the git mirror in the "
                "cache lacks its commit, and --offline forbids fetching it",
                hint="run `steps sync` without --offline",
            )
        self._warn_if_modified(label, status, f"fetching it again from {entry.url}")
        self._fetch_locked(entry, mirror)

    def _warn_if_modified(self, label: str, status: EntryStatus, action: str) -> None:
        if status is EntryStatus.MODIFIED:
            self.context.console.warning(f"{label}: the cached copy was modified on disk; {action}")

    def _fetch_locked(self, entry: LockedTemplate, mirror: Path) -> None:
        assert entry.url is not None and entry.commit is not None
        credentials = self.context.git_credentials(entry.url)
        want = entry.commit
        label = f"{self.entry_kind} '{entry.name}'"
        if entry.tag is not None:
            refs = self._remote_refs(entry.url, mirror, credentials, label)
            remote = refs.tags().get(entry.tag)
            if remote is None:
                raise LockMismatchError(
                    f"{label}: tag {entry.tag} no longer exists in {entry.url} "
                    f"(steps.lock pins commit {entry.commit})",
                    hint="pick another version and run `steps lock`",
                )
            if remote.commit_sha != entry.commit:
                raise LockMismatchError(
                    f"{label}: tag {entry.tag} moved upstream: steps.lock has "
                    f"{entry.commit}, {entry.url} now has {remote.commit_sha}",
                    hint="if the change is expected, run `steps lock --upgrade-template "
                    f"{entry.name}`",
                )
            want = remote.object_sha
        git.fetch(mirror, entry.url, [want], credentials)


def _select_version(
    label: str, requirement: GitRequirement, tags: dict[str, git.RemoteRef]
) -> _Target:
    try:
        wanted = parse_range(requirement.version or "*")
    except ValueError as exc:
        raise StepsError(f"{label}: {exc}", hint="fix 'version' in steps.toml") from None
    by_version: dict[Version, str] = {}
    # Sorted so that when `v1.0.0` and `1.0.0` both exist, the choice is stable.
    for tag in sorted(tags):
        version = version_from_tag(tag)
        if version is not None:
            by_version.setdefault(version, tag)
    chosen = wanted.select(by_version, prereleases=requirement.prereleases)
    if chosen is None:
        reason = wanted.describe_no_match(by_version, prereleases=requirement.prereleases)
        if not by_version:
            hint = "tag a release, or pin a 'branch' or 'rev' in steps.toml instead"
        elif wanted.select(by_version, prereleases=True) is not None:
            hint = None  # the reason says how to allow prereleases
        else:
            hint = "change 'version' in steps.toml to a range one of them is in"
        raise NoVersionInRange(
            f"{label} ({requirement.url}): {reason}",
            hint=hint,
            available=by_version,
            prereleases=requirement.prereleases,
        )
    tag = by_version[chosen]
    found = tags[tag]
    return _Target(found.commit_sha, found.object_sha, tag, str(chosen))


def _extract_entry(
    mirror: Path, commit: str, subdir: str, template: str | None, directory: Path
) -> None:
    """Fill an entry: the (sub)tree, or with a template file named, just what it needs.

    An Octopus JSON file holds everything it runs, so the entry holds that one file; a
    steptemplate.toml may name script files next to it, so its directory comes along.
    Either way the file keeps its path relative to ``subdir``.
    """
    if template is None:
        git.extract_tree(mirror, commit, subdir, directory)
        return
    inside = f"{subdir}/{template}" if subdir else template
    if PurePosixPath(template).suffix.lower() == ".json":
        git.extract_file(mirror, commit, inside, directory / template)
        return
    folder = PurePosixPath(template).parent.as_posix()
    if folder == ".":
        git.extract_tree(mirror, commit, subdir, directory)
        return
    target = directory / folder
    target.mkdir(parents=True)
    try:
        git.extract_tree(mirror, commit, f"{subdir}/{folder}" if subdir else folder, target)
    except git.MissingSubdirError:
        raise git.MissingFileError(inside, commit) from None


def _suggest(kind: str, wanted: str, available: dict[str, git.RemoteRef]) -> str:
    if not available:
        return f"the repository has no {kind}"
    close = difflib.get_close_matches(wanted, list(available), n=3, cutoff=0.5)
    if close:
        return "did you mean " + ", ".join(close) + "?"
    shown = sorted(available)[-5:]
    return f"available {kind}: " + ", ".join(shown) + (" ..." if len(available) > 5 else "")


@contextlib.contextmanager
def _naming(label: str, hint: str) -> Iterator[None]:
    """Put the template's name in front of errors from the git layer, which knows only URLs."""
    try:
        yield
    except StepsError as error:
        if not error.message.startswith(label):
            error.message = f"{label}: {error.message}"
            error.hint = error.hint or hint
        raise
