"""Templates in git repositories: tags are versions, pinned to a commit and a content hash."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from steptemplates import git, signatures
from steptemplates.cache import EntryStatus
from steptemplates.errors import LockMismatchError, OfflineError, StepsError
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import GitRequirement, TemplateRef
from steptemplates.signatures import Policy, Verdict
from steptemplates.sources import NoVersionInRange, SourceContext, git_requested, load_entry
from steptemplates.versions import Version, parse_range, tag_reader, version_from_tag


@dataclass(frozen=True)
class _Target:
    """What a requirement resolved to on the remote."""

    commit: str
    want: str  # the object to fetch: a tag object, a branch tip or the commit itself
    tag: str | None = None
    version: str | None = None


class GitSource:
    def __init__(
        self,
        context: SourceContext,
        entry_kind: str = "template",
        manifest_dir: Path | None = None,
    ) -> None:
        self.entry_kind = entry_kind
        self.context = context
        self.cache = context.cache
        # Where `signers` paths are relative to.
        self.manifest_dir = manifest_dir or Path.cwd()

    # --- lock ---

    def lock(self, ref: TemplateRef) -> LockedTemplate:
        requirement = ref.source
        assert isinstance(requirement, GitRequirement)
        label = f"{self.entry_kind} '{ref.name}'"
        policy = self._policy(requirement)
        signer = None
        with _naming(label, "check its 'git' URL in steps.toml"):
            credentials = self.context.git_credentials(requirement.url)
            with self.cache.locked_mirror(requirement.url) as mirror:
                refs = self._remote_refs(requirement.url, mirror, credentials, label)
                target = self._select(ref.name, requirement, refs, mirror, credentials)
                if not git.has_commit(mirror, target.commit):
                    self._require_online(label, "fetch it")
                    git.fetch(mirror, requirement.url, [target.want], credentials)
                if policy is not None:
                    signer = self._verify_target(label, requirement, policy, target, mirror)
                at = target.tag or target.commit[:12]
                entry_integrity, _path = self._extract(
                    mirror, target.commit, requirement, ref.template, label, at
                )
        return LockedTemplate(
            name=ref.name,
            source="git",
            requested=git_requested(requirement),
            url=requirement.url,
            subdir=requirement.subdir,
            version=target.version,
            tag=target.tag,
            commit=target.commit,
            integrity=entry_integrity,
            template=ref.template,
            signer=signer,
        )

    def _policy(self, requirement: GitRequirement) -> Policy | None:
        if requirement.verify is None:
            return None
        return signatures.read_policy(requirement.verify, requirement.signers, self.manifest_dir)

    def _verify_target(
        self,
        label: str,
        requirement: GitRequirement,
        policy: Policy,
        target: _Target,
        mirror: Path,
    ) -> str:
        """The signer of what a requirement resolved to: the tag object for a version or
        tag, the commit for a branch or rev; refused, loudly, when it does not verify."""
        url = requirement.url
        if target.tag is not None:
            what, signed = f"tag {target.tag}", target.want
        else:
            branch = f" (branch {requirement.branch})" if requirement.branch else ""
            what, signed = f"commit {target.commit[:12]}{branch}", target.commit
        self._obtain(label, mirror, url, signed, what)
        verdict = self._verdict(mirror, signed, policy, tag=target.tag, commit=target.commit)
        if verdict.signer is None:
            raise StepsError(
                f"{label}: {what} in {url} {verdict.problem}",
                hint=_lock_hint(requirement, target, verdict),
            )
        return verdict.signer

    def _obtain(self, label: str, mirror: Path, url: str, sha: str, what: str) -> None:
        """Make sure the mirror holds the signed object (a commit may be there without the
        tag object that points to it)."""
        if not self.context.offline:
            git.fetch(mirror, url, [sha], self.context.git_credentials(url))
        elif not _holds(mirror, sha):
            raise OfflineError(
                f"{label}: cannot check the signature of {what}: the git mirror in the cache "
                "lacks it, and --offline forbids fetching it",
                hint="run once without --offline to fill the cache",
            )

    def _verdict(
        self, mirror: Path, sha: str, policy: Policy, *, tag: str | None, commit: str
    ) -> Verdict:
        """Whether object ``sha`` (tag ``tag`` of ``commit``, or ``commit`` itself) is signed
        as ``policy`` asks; worked out once per run (lock, then sync, ask again)."""

        def check() -> Verdict:
            facts = git.read_object(mirror, sha)
            if tag is not None:
                if facts.kind != "tag":
                    return signatures.refused(
                        "is not signed: it is a lightweight tag", signatures.UNSIGNED
                    )
                problem = _tag_problem(facts.payload, tag, commit)
                if problem is not None:
                    return signatures.refused(problem, signatures.INVALID)
            return signatures.verify(policy, facts.payload, facts.signature, signed_at=facts.date)

        return self.context.once(("signature", sha, policy.digest, tag or "", commit), check)

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
        path = self._entry_files(entry, network=network)
        policy = self.context.signatures.get(entry.url or "")
        if path is None or policy is None:
            return path
        return path if self._verify_locked(entry, policy, network=network) else None

    def _entry_files(self, entry: LockedTemplate, *, network: bool) -> Path | None:
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
        if entry.tag is not None:
            want = self._locked_tag(entry, mirror, credentials).object_sha
        git.fetch(mirror, entry.url, [want], credentials)

    def _locked_tag(
        self, entry: LockedTemplate, mirror: Path, credentials: git.GitCredentials | None
    ) -> git.RemoteRef:
        """The remote's tag a lock entry pins, refused when it is gone or has moved."""
        assert entry.url is not None and entry.tag is not None
        label = f"{self.entry_kind} '{entry.name}'"
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
                hint=f"if the change is expected, run `steps lock --upgrade-template {entry.name}`",
            )
        return remote

    # --- signatures at sync ---

    def _verify_locked(self, entry: LockedTemplate, policy: Policy, *, network: bool) -> bool:
        """Check the locked tag or commit is still signed by the key steps.lock records, by
        a key still in `signers`; False when that needs the network and ``network`` is off."""
        assert entry.url is not None and entry.commit is not None
        label = f"{self.entry_kind} '{entry.name}'"
        what = f"tag {entry.tag}" if entry.tag else f"commit {entry.commit[:12]}"
        if entry.signer is None:
            raise LockMismatchError(
                f"{label}: steps.toml requires {policy.kind} signatures from {entry.url}, "
                f"but steps.lock records no signer for {what}",
                hint="run `steps lock` to verify it and record who signed it",
            )
        with _naming(label, "check its URL in steps.toml and steps.lock"):
            signed = self._locked_object(entry, label, what, network=network)
            if signed is None:
                return False
            mirror = self.cache.mirror_path(entry.url)
            verdict = self._verdict(mirror, signed, policy, tag=entry.tag, commit=entry.commit)
        if verdict.signer is None:
            raise LockMismatchError(
                f"{label}: {what} in {entry.url}, pinned by steps.lock, {verdict.problem}",
                hint="pin a version signed by a key in 'signers', then run "
                f"`steps lock --upgrade-template {entry.name}`",
            )
        if not signatures.same_key(verdict.signer, entry.signer):
            raise LockMismatchError(
                f"{label}: {what} in {entry.url} is signed by {verdict.signer}, but "
                f"steps.lock records {entry.signer}",
                hint="if the new signature is expected, run `steps lock --upgrade-template "
                f"{entry.name}`",
            )
        return True

    def _locked_object(
        self, entry: LockedTemplate, label: str, what: str, *, network: bool
    ) -> str | None:
        """The object whose signature counts for a lock entry: the commit, or the tag object
        of its tag (which the lock does not record: found through the listing the mirror
        keeps, else the remote's). None when the network is needed but ``network`` is off."""
        assert entry.url is not None and entry.commit is not None
        mirror = self.cache.mirror_path(entry.url)
        if entry.tag is None:
            signed: str | None = entry.commit
        else:
            snapshot = git.read_ref_snapshot(mirror)
            listed = snapshot.tags().get(entry.tag) if snapshot else None
            fits = listed is not None and listed.commit_sha == entry.commit
            signed = listed.object_sha if listed is not None and fits else None
        if signed is not None and _holds(mirror, signed):
            return signed
        if self.context.offline:
            raise OfflineError(
                f"{label}: cannot check the signature of {what}: the git mirror in the cache "
                "lacks it, and --offline forbids fetching it",
                hint="run `steps sync` once without --offline",
            )
        if not network:
            return None
        with self.cache.locked_mirror(entry.url) as mirror:
            credentials = self.context.git_credentials(entry.url)
            if entry.tag is not None:
                signed = self._locked_tag(entry, mirror, credentials).object_sha
            assert signed is not None
            git.fetch(mirror, entry.url, [signed], credentials)
        return signed


def _holds(mirror: Path, sha: str) -> bool:
    """Whether the mirror holds the tag or commit object ``sha``."""
    if not (mirror / "HEAD").is_file():
        return False
    try:
        git.read_object(mirror, sha)
    except StepsError:
        return False
    return True


def _tag_problem(payload: bytes, tag: str, commit: str) -> str | None:
    """What is wrong with a tag object found under ``tag``, if anything: a signed tag of
    another name or commit, moved under this one, must not vouch for it."""
    header = payload.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    fields = dict(line.split(" ", 1) for line in header.splitlines() if " " in line)
    if fields.get("tag") != tag:
        return f"points to a tag object made as '{fields.get('tag')}', not as '{tag}'"
    if fields.get("object") != commit or fields.get("type") != "commit":
        return f"points to a tag object of {fields.get('object', '?')[:12]}, not of the commit"
    return None


def _lock_hint(requirement: GitRequirement, target: _Target, verdict: Verdict) -> str:
    if verdict.cause == signatures.UNKNOWN_KEY:
        return "if you trust that key, add it to 'signers' in steps.toml (docs/provenance.md)"
    if requirement.tag is not None:
        pin = "pin a tag that is signed, or ask the maintainers to sign this one (git tag -s)"
    elif target.tag is None:
        pin = "pin a signed commit with 'rev', or ask the maintainers to sign their commits"
    else:
        pin = (
            f"{target.tag} is the newest version in range, and steps never falls back to an "
            "older one by itself: pin a signed version with 'tag' in steps.toml, or ask the "
            f"maintainers to sign {target.tag}"
        )
    if verdict.cause == signatures.INVALID:
        return f"it was altered after it was signed: tell the maintainers, and {pin}"
    return pin


def _select_version(
    label: str, requirement: GitRequirement, tags: dict[str, git.RemoteRef]
) -> _Target:
    try:
        wanted = parse_range(requirement.version or "*")
    except ValueError as exc:
        raise StepsError(f"{label}: {exc}", hint="fix 'version' in steps.toml") from None
    by_version: dict[Version, str] = {}
    read = tag_reader(requirement.tags)
    # Sorted so that when `v1.0.0` and `1.0.0` both exist, the choice is stable.
    for tag in sorted(tags):
        version = read(tag)
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
