"""The library API: what each command does to a project, callable from tests and programs.

Each function takes plain values and a ``Console`` and returns a result record; the CLI
only parses arguments and prints. ``locked``, ``frozen`` and ``offline`` mean the same
everywhere:

- ``locked``: the lock must already agree with the manifest; fail instead of changing it.
- ``frozen``: use the lock as it is without looking at the manifest's requirements; fail on
  any mismatch between the lock, the cache and the remote.
- ``offline``: never open a network connection; work from the cache alone.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from steptemplates import fsutil, lockfile, manifest, parallel, tomlfile, variable_sources
from steptemplates.cache import Cache, PruneReport
from steptemplates.console import Console
from steptemplates.errors import LockMismatchError, OfflineError, StepsError
from steptemplates.execution.languages import syntax_for_extension
from steptemplates.execution.runner import PackagePlan, Runner, RunOutcome, RunSettings, StepPlan
from steptemplates.lockfile import LockedTemplate, Lockfile
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    HttpRequirement,
    Manifest,
    NuGetRequirement,
    PathRequirement,
    Requirement,
)
from steptemplates.packages.identity import PackageIdentity, identify
from steptemplates.resolve import LockChange, Upgrade, changes, git_auth, out_of_date, resolve
from steptemplates.sources import GitAuth, SourceContext, for_kind, source_kind
from steptemplates.templates import Script, Template, load_template
from steptemplates.variables import scoping
from steptemplates.versions import caret_range_for, parse_range, version_from_tag

STATE_DIR = ".steps"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[\w.-]+@[\w.-]+:")


@dataclass(frozen=True)
class Project:
    manifest_path: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        return cls(manifest.find((start or Path.cwd()).resolve()))

    @property
    def directory(self) -> Path:
        return self.manifest_path.parent

    @property
    def lock_path(self) -> Path:
        return self.directory / lockfile.FILE_NAME

    @property
    def state_dir(self) -> Path:
        return self.directory / STATE_DIR

    def manifest(self) -> Manifest:
        return manifest.load(self.manifest_path)

    def lockfile(self) -> Lockfile | None:
        return lockfile.load(self.lock_path)


@dataclass(frozen=True)
class LockResult:
    lockfile: Lockfile
    changes: list[LockChange]
    written: bool


@dataclass(frozen=True)
class SyncResult:
    lockfile: Lockfile
    changes: list[LockChange]
    templates: dict[str, Path]
    packages: dict[str, Path] = field(default_factory=dict)


def _context(project_manifest: Manifest | None, console: Console, offline: bool) -> SourceContext:
    auth = git_auth(project_manifest) if project_manifest else {}
    named = project_manifest.sources if project_manifest else {}
    return SourceContext(
        cache=Cache(), console=console, offline=offline, git_auth=auth, named_sources=named
    )


# --- init ----------------------------------------------------------------------------------


def init(directory: Path, name: str | None = None) -> Path:
    path = directory / manifest.FILE_NAME
    if path.exists():
        raise StepsError(
            f"{path} already exists", hint="edit it, or use `steps add` to add templates"
        )
    from steptemplates import manifest_edit  # tomlkit: only for the commands that edit

    manifest_edit.write_initial(path, name or directory.resolve().name)
    return path


# --- lock ----------------------------------------------------------------------------------


def lock(
    project: Project,
    console: Console,
    *,
    upgrade: Upgrade = False,
    locked: bool = False,
    offline: bool = False,
) -> LockResult:
    return _lock_manifest(project, project.manifest(), console, upgrade, locked, offline)


def _lock_manifest(
    project: Project,
    current: Manifest,
    console: Console,
    upgrade: Upgrade,
    locked: bool,
    offline: bool,
    *,
    write: bool = True,
    seed: LockedTemplate | None = None,
) -> LockResult:
    previous = project.lockfile()
    if seed is not None:
        # Already resolved by `steps add`: kept by the resolver like any fitting entry.
        base = previous or Lockfile({})
        previous = replace(base, templates={**base.templates, seed.name: seed})
    if locked:
        # Decided before resolving, so a stale lock is reported as such, not as whatever
        # the network says while re-resolving it.
        reasons = out_of_date(current, previous)
        if reasons:
            raise LockMismatchError(
                f"steps.lock is out of date with steps.toml ({'; '.join(reasons)})",
                hint="run `steps lock` and commit the result",
            )
    context = _context(current, console, offline)
    context.cache.register(project.lock_path)
    try:
        new = resolve(current, previous, context, upgrade=upgrade)
    finally:
        context.close()
    diff = changes(previous, new)
    if locked and diff:
        raise LockMismatchError(
            f"steps.lock would change ({'; '.join(c.describe() for c in diff)})",
            hint="run `steps lock` and commit the result",
        )
    written = lockfile.write(project.lock_path, new) if write else False
    return LockResult(new, diff, written)


# --- add -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddRequest:
    source: str
    name: str | None = None
    version: str | None = None
    tag: str | None = None
    branch: str | None = None
    rev: str | None = None
    subdir: str | None = None
    prerelease: bool = False
    token_env: str | None = None
    username: str | None = None
    # Feeds: a GitHub release asset glob, versions from tags, the GitHub API base or a
    # named source, and an archive URL's expected sha256.
    asset: str | None = None
    from_tags: bool = False
    api_url: str | None = None
    source_name: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class AddResult:
    name: str
    requirement: Requirement
    entry: LockedTemplate
    replaced: bool


def add(
    project: Project, request: AddRequest, console: Console, *, offline: bool = False
) -> AddResult:
    """Add (or replace) a template in steps.toml, lock it, and write both files."""
    current = project.manifest()
    if _FEED.match(request.source) or _is_archive_url(request.source):
        requirement = feed_requirement(request, current)
    else:
        _refuse_feed_options(request)
        requirement = _requirement_for(project, request, console, offline)
    name = request.name or _default_name(request, requirement)
    if not manifest.NAME_PATTERN.fullmatch(name):
        raise StepsError(f"'{name}' is not a usable template name", hint="pass --name NAME")
    seed = None
    if isinstance(requirement, FEED_REQUIREMENTS) and _unpinned(requirement):
        requirement, seed = _newest_from_feed(requirement, name, current, console, offline)
    text = project.manifest_path.read_text(encoding="utf-8")
    from steptemplates import manifest_edit  # tomlkit: only for the commands that edit

    new_text = manifest_edit.with_template(text, name, requirement)
    new_doc = tomlfile.parse(new_text, path=project.manifest_path, display=manifest.FILE_NAME)
    new_manifest = manifest.from_document(new_doc)
    result = _lock_manifest(
        project,
        new_manifest,
        console,
        frozenset() if seed else frozenset({name}),
        False,
        offline,
        write=False,
        seed=seed,
    )
    # Both files are written only once everything resolved, so a failure changes neither.
    fsutil.write_text_atomic(project.manifest_path, new_text)
    lockfile.write(project.lock_path, result.lockfile)
    return AddResult(name, requirement, result.lockfile.templates[name], name in current.templates)


def _requirement_for(
    project: Project, request: AddRequest, console: Console, offline: bool
) -> Requirement:
    pins = [p for p in (request.version, request.tag, request.branch, request.rev) if p]
    if len(pins) > 1:
        raise StepsError("give only one of --version, --tag, --branch and --rev")
    if not _URL.match(request.source):
        local = Path(request.source).expanduser()
        if not local.is_dir():
            raise StepsError(
                f"{request.source} is neither a git URL nor an existing directory",
                hint="use https://, git://, ssh:// or file:// for a git repository",
            )
        if pins:
            raise StepsError(
                f"{request.source} is a local directory, used as it is; versions come from git",
                hint=f"to resolve its tags, add it as file://{local.resolve()}",
            )
        target = local.resolve() / (request.subdir or "")
        relative = os.path.relpath(target, project.directory)
        return PathRequirement(path=Path(relative).as_posix(), resolved=target)
    if manifest.url_holds_credentials(request.source):
        raise StepsError(manifest.CREDENTIALS_IN_URL, hint=manifest.CREDENTIALS_HINT)
    if request.version is not None:
        try:
            parse_range(request.version)
        except ValueError as exc:
            raise StepsError(f"--version: {exc}") from None
    subdir = manifest.normalise_subdir(request.subdir or "")
    requirement = GitRequirement(
        url=request.source,
        subdir=subdir,
        version=request.version,
        tag=request.tag,
        branch=request.branch,
        rev=request.rev,
        prereleases=request.prerelease,
        token_env=request.token_env,
        username=request.username,
    )
    if pins:
        return requirement
    return _newest_version_requirement(requirement, console, offline)


_FEED = re.compile(r"^(github|nuget):")
FEED_REQUIREMENTS = (GitHubRequirement, NuGetRequirement, HttpRequirement)
# AddRequest field -> the option that sets it.
_FEED_OPTIONS = {
    "asset": "--asset",
    "from_tags": "--tags",
    "api_url": "--api-url",
    "source_name": "--source",
    "sha256": "--sha256",
}


def _is_archive_url(source: str) -> bool:
    from steptemplates.packages.identity import archive_format

    if not re.match(r"^(https?|file)://", source):
        return False
    return archive_format(Path(urlsplit(source).path or "x")) is not None


def _refuse_feed_options(request: AddRequest) -> None:
    given = [option for field, option in _FEED_OPTIONS.items() if getattr(request, field)]
    if given:
        raise StepsError(
            f"{given[0]} applies to github:, nuget: and archive URL sources, not to "
            f"{request.source}",
        )


def feed_requirement(request: AddRequest, current: Manifest) -> Requirement:
    """The requirement ``steps add`` writes for github:, nuget: and archive URL sources."""
    if request.branch or request.rev or request.token_env or request.username:
        raise StepsError(
            "--branch, --rev, --token-env and --username apply to git sources",
            hint="name credentials in a [sources.NAME] table (docs/sources.md)",
        )
    if request.version is not None:
        try:
            parse_range(request.version)
        except ValueError as exc:
            raise StepsError(f"--version: {exc}") from None
    subdir = manifest.normalise_subdir(request.subdir or "")
    kind, _, rest = request.source.partition(":")
    if kind == "github":
        return _github_requirement(request, rest, subdir, current)
    if kind == "nuget":
        return _nuget_requirement(request, rest, subdir, current)
    if request.tag or request.version or request.prerelease or request.asset or request.from_tags:
        raise StepsError(
            "an archive URL has no versions: --version, --tag, --prerelease, --asset and "
            "--tags do not apply",
            hint="pass --sha256 to pin its content",
        )
    if manifest.url_holds_credentials(request.source):
        raise StepsError(manifest.CREDENTIALS_IN_URL, hint=manifest.CREDENTIALS_HINT)
    sha256 = request.sha256.lower().removeprefix("sha256:") if request.sha256 else None
    if sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise StepsError(f"--sha256 must be 64 hex digits, not '{request.sha256}'")
    return HttpRequirement(url=request.source, sha256=sha256, subdir=subdir)


def _named_source(current: Manifest, name: str, kind: str) -> manifest.NamedSource:
    found = current.sources.get(name)
    if found is None:
        known = ", ".join(sorted(current.sources)) or "none are declared"
        raise StepsError(
            f"no source named '{name}'",
            hint=f"declare it under [sources.{name}] in steps.toml or the user config "
            f"(known: {known})",
        )
    if found.kind != kind:
        raise StepsError(f"source '{name}' is a {found.kind} source, not {kind}")
    return found


def _github_requirement(
    request: AddRequest, repo: str, subdir: str, current: Manifest
) -> GitHubRequirement:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        raise StepsError(
            f"'{request.source}' is not github:OWNER/REPOSITORY", hint="e.g. github:acme/templates"
        )
    if request.sha256:
        raise StepsError("--sha256 applies to archive URLs; release assets are hashed on lock")
    if request.asset and request.from_tags:
        raise StepsError("--asset needs release versions; drop --tags to use release assets")
    if request.api_url and request.source_name:
        raise StepsError("give only one of --api-url and --source")
    if request.source_name:
        api_url = _named_source(current, request.source_name, "github").url
    elif request.api_url:
        if not re.match(r"https?://", request.api_url) or "@" in urlsplit(request.api_url).netloc:
            raise StepsError(
                "--api-url must be an http(s) URL without credentials",
                hint="for GitHub Enterprise use https://HOST/api/v3",
            )
        api_url = request.api_url
    else:
        api_url = manifest.github_api_url()
    return GitHubRequirement(
        repo=repo,
        api_url=api_url.rstrip("/"),
        asset=request.asset,
        subdir=subdir,
        version=request.version,
        tag=request.tag,
        prereleases=request.prerelease,
        from_tags=request.from_tags,
        source_name=request.source_name,
        api_url_written=request.api_url,
    )


def _nuget_requirement(
    request: AddRequest, rest: str, subdir: str, current: Manifest
) -> NuGetRequirement:
    feed, hash_sign, package_id = rest.rpartition("#")
    if not hash_sign or not feed or not package_id:
        raise StepsError(
            f"'{request.source}' is not nuget:FEED#PackageId",
            hint="e.g. nuget:https://feeds.example/v3/index.json#Acme.Templates.Iis, or "
            "nuget:NAME#Acme.Templates.Iis for a source named in [sources]",
        )
    if request.tag or request.asset or request.from_tags or request.sha256 or request.api_url:
        raise StepsError("--tag, --asset, --tags, --sha256 and --api-url do not apply to NuGet")
    if not manifest.NUGET_ID.fullmatch(package_id):
        raise StepsError(f"'{package_id}' is not a NuGet package id")
    source_name = request.source_name
    if "://" not in feed:
        if source_name and source_name != feed:
            raise StepsError(f"nuget:{feed}#... already names source '{feed}'; drop --source")
        source_name = feed
    if source_name:
        url = _named_source(current, source_name, "nuget").url
    else:
        if manifest.url_holds_credentials(feed):
            raise StepsError(manifest.CREDENTIALS_IN_URL, hint=manifest.CREDENTIALS_HINT)
        url = feed
    return NuGetRequirement(
        feed=url,
        package_id=package_id,
        subdir=subdir,
        version=request.version,
        prereleases=request.prerelease,
        source_name=source_name,
    )


def _unpinned(requirement: Requirement) -> bool:
    if isinstance(requirement, GitHubRequirement):
        return requirement.version is None and requirement.tag is None
    return isinstance(requirement, NuGetRequirement) and requirement.version is None


def _newest_from_feed(
    requirement: Requirement, name: str, current: Manifest, console: Console, offline: bool
) -> tuple[Requirement, LockedTemplate]:
    """With no pin given: lock the newest version, and require ``^<it>`` from now on."""
    ref = manifest.TemplateRef(name, requirement)
    context = _context(current, console, offline)
    try:
        entry = for_kind(source_kind(requirement), context, current.directory).lock(ref)
    finally:
        context.close()
    version = version_from_tag(entry.version or "")
    if version is None:
        return requirement, entry
    assert isinstance(requirement, GitHubRequirement | NuGetRequirement)
    pinned: GitHubRequirement | NuGetRequirement = replace(
        requirement, version=caret_range_for(version)
    )
    return pinned, replace(entry, requested=pinned.requested)


def _newest_version_requirement(
    requirement: GitRequirement, console: Console, offline: bool
) -> GitRequirement:
    """With no pin given: ``^<newest version>``, or the default branch if there are no versions."""
    from steptemplates.sources.git import GitSource  # imports dulwich: only when needed

    auth = {requirement.url: GitAuth(requirement.token_env, requirement.username)}
    context = SourceContext(Cache(), console, offline, git_auth=auth)
    refs = GitSource(context).remote_refs(requirement.url, requirement.url)
    versions = [v for v in map(version_from_tag, refs.tags()) if v is not None]
    stable = [v for v in versions if not v.is_prerelease or requirement.prereleases]
    if stable:
        return replace(requirement, version=caret_range_for(max(stable)))
    if versions:
        newest = ", ".join(str(v) for v in sorted(versions)[-3:])
        raise StepsError(
            f"{requirement.url} has only prerelease versions ({newest})",
            hint="pass --prerelease to use the newest, or pin one with --version or --tag",
        )
    branch = (refs.head or "refs/heads/main").removeprefix("refs/heads/")
    console.warning(
        f"{requirement.url} has no version tags; following branch '{branch}' "
        "(steps lock keeps the locked commit until you upgrade)"
    )
    return replace(requirement, branch=branch)


def _default_name(request: AddRequest, requirement: Requirement) -> str:
    if isinstance(requirement, PathRequirement):
        base = requirement.resolved.name
    elif isinstance(requirement, GitHubRequirement):
        base = requirement.subdir.rsplit("/", 1)[-1] or requirement.repo.split("/", 1)[1]
    elif isinstance(requirement, NuGetRequirement):
        base = requirement.subdir.rsplit("/", 1)[-1] or requirement.package_id
    elif isinstance(requirement, HttpRequirement):
        from steptemplates.packages.identity import split_extension

        file_name = urlsplit(requirement.url).path.rsplit("/", 1)[-1]
        stem = split_extension(file_name)
        base = requirement.subdir.rsplit("/", 1)[-1] or (stem[0] if stem else file_name)
    else:
        base = (requirement.subdir.rsplit("/", 1)[-1] if requirement.subdir else "") or (
            re.sub(r"\.git$", "", requirement.url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        )
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-._") or "template"


# --- sync ----------------------------------------------------------------------------------


def sync(
    project: Project,
    console: Console,
    *,
    locked: bool = False,
    frozen: bool = False,
    offline: bool = False,
) -> SyncResult:
    """Make every locked template available in the cache, verified against the lock."""
    return _sync(project, project.manifest(), console, locked, frozen, offline)


def _sync(
    project: Project, current: Manifest, console: Console, locked: bool, frozen: bool, offline: bool
) -> SyncResult:
    if frozen:
        current_lock = project.lockfile()
        if current_lock is None:
            raise StepsError(
                "there is no steps.lock to sync from (--frozen uses it as it is)",
                hint="run `steps lock` first",
            )
        # Under --frozen the manifest's requirements are not consulted, only its
        # credential settings (token-env) for fetching.
        diff: list[LockChange] = []
    else:
        result = _lock_manifest(project, current, console, False, locked, offline)
        current_lock, diff = result.lockfile, result.changes
    context = _context(current, console, offline)
    context.cache.register(project.lock_path)
    entries = [
        (kind, entry)
        for kind in ("template", "package")
        for _name, entry in sorted(current_lock.entries(kind).items())
    ]
    sources = [for_kind(e.source, context, project.directory, kind) for kind, e in entries]
    # Local checks one after another (threads only slow them down); fetches in parallel.
    paths: list[Path | None] = [
        source.from_cache(e) for source, (_k, e) in zip(sources, entries, strict=True)
    ]
    missing = [i for i, path in enumerate(paths) if path is None]
    try:
        jobs = [partial(sources[i].materialize, entries[i][1]) for i in missing]
        fetched = parallel.run_all(jobs)
    finally:
        context.close()
    for index, path in zip(missing, fetched, strict=True):
        paths[index] = path
    found: dict[str, dict[str, Path]] = {"template": {}, "package": {}}
    for (kind, entry), maybe in zip(entries, paths, strict=True):
        if maybe is not None:
            found[kind][entry.name] = maybe
    return SyncResult(current_lock, diff, found["template"], found["package"])


# --- run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    steps: Sequence[str] = ()
    variables_files: Sequence[Path] = ()
    overrides: Sequence[tuple[str, str]] = ()
    keep_workdir: bool = False
    report_path: Path | None = None
    locked: bool = False
    frozen: bool = False
    offline: bool = False
    context: scoping.Context = field(default_factory=scoping.Context)
    strict_variables: bool = False
    release_number: str | None = None


def run(project: Project, request: RunRequest, console: Console) -> RunOutcome:
    current = project.manifest()
    # Variables first: a misspelt --environment or a wrong secrets password fails at once.
    gathered = variable_sources.gather(
        current,
        files=request.variables_files,
        overrides=request.overrides,
        context=request.context,
    )
    synced = _sync(project, current, console, request.locked, request.frozen, request.offline)
    selected = _select_steps(current, request.steps)
    templates: dict[str, Template] = {}
    plans = []
    for step in selected:
        if step.package is not None:
            plans.append(_package_plan(project, step, step.package, synced))
            continue
        entry = synced.lockfile.templates.get(step.template)
        if entry is None:
            raise LockMismatchError(
                f"step '{step.name}' uses template '{step.template}', which steps.lock lacks",
                hint="run `steps lock`",
            )
        if step.template not in templates:
            templates[step.template] = load_template(
                synced.templates[step.template], origin=f"template '{step.template}'"
            )
        plans.append(
            StepPlan(
                name=step.name,
                template=templates[step.template],
                template_label=_label(entry),
                condition=step.condition,
                parameters=step.parameters,
                timeout=step.timeout,
            )
        )
    settings = RunSettings(
        project_name=current.project_name,
        project_dir=project.directory,
        state_dir=project.state_dir,
        project_variables=gathered.project,
        file_variables=gathered.files,
        overrides=gathered.overrides,
        context=gathered.context,
        keep_workdir=request.keep_workdir,
        report_path=request.report_path,
        release_number=request.release_number,
        strict_variables=request.strict_variables,
    )
    return Runner(settings, console).run(plans)


def _package_plan(
    project: Project, step: manifest.Step, name: str, synced: SyncResult
) -> StepPlan:
    entry = synced.lockfile.packages.get(name)
    if entry is None:
        raise LockMismatchError(
            f"step '{step.name}' deploys package '{name}', which steps.lock lacks",
            hint="run `steps lock`",
        )
    from steptemplates import deployments  # the journal's libraries: only for package steps

    path = synced.packages[name]
    if path.is_file():
        identity = identify(path)
    else:
        # A directory (a git tree, an unpacked feed package, a local folder): named by its
        # NuGet id or after steps.toml, versioned by the lock.
        version = entry.version or entry.tag or (entry.commit or "")[:12] or "0.0.0-local"
        package_id = entry.id if entry.source == "nuget" and entry.id else name
        identity = PackageIdentity(package_id, version)
    return StepPlan(
        name=step.name,
        template=None,
        template_label=f"package {identity.id} {identity.version}",
        condition=step.condition,
        parameters=step.parameters,
        timeout=step.timeout,
        package=PackagePlan(
            path=path,
            identity=identity,
            applications_root=deployments.applications_root(None, project.state_dir),
        ),
    )


def _select_steps(current: Manifest, names: Sequence[str]) -> list[manifest.Step]:
    if not current.steps:
        raise StepsError(
            f"{current.path.name} has no [[steps]] to run", hint="add a [[steps]] table"
        )
    if not names:
        return list(current.steps)
    unknown = [n for n in names if current.step(n) is None]
    if unknown:
        known = ", ".join(s.name for s in current.steps)
        raise StepsError(f"no step named {', '.join(map(repr, unknown))}", hint=f"steps: {known}")
    wanted = set(names)
    return [s for s in current.steps if s.name in wanted]


def _label(entry: LockedTemplate) -> str:
    return (
        f"{entry.name} from {entry.path}" if entry.source == "path" else f"{entry.name} {entry.pin}"
    )


# --- show ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    template: Template
    source: str
    locked: str
    versions: list[str] | None  # what the source offers, newest last; None for path sources


def show(project: Project, name: str, console: Console, *, offline: bool = False) -> TemplateInfo:
    current = project.manifest()
    ref = current.templates.get(name)
    if ref is None:
        close = difflib.get_close_matches(name, list(current.templates), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `steps list`"
        raise StepsError(f"no template named '{name}' in {current.path.name}", hint=hint)
    context = _context(current, console, offline)
    source = for_kind(source_kind(ref.source), context, project.directory)
    existing = project.lockfile()
    entry = existing.templates.get(name) if existing else None
    if entry is None:
        entry = source.lock(ref)
        locked = f"not locked yet (would lock {_label(entry)})"
    else:
        locked = _label(entry) + (f" at {entry.commit}" if entry.commit else "")
    template = load_template(source.materialize(entry), origin=f"template '{name}'")
    versions = None
    if isinstance(ref.source, GitRequirement):
        versions = _available_versions(ref.source, context)
    return TemplateInfo(name, template, entry.describe(), locked, versions)


def _available_versions(requirement: GitRequirement, context: SourceContext) -> list[str]:
    from steptemplates.sources.git import GitSource  # imports dulwich: only when needed

    try:
        refs = GitSource(context).remote_refs(requirement.url, requirement.url)
    except OfflineError:
        return []
    parsed = [(v, t) for t in refs.tags() if (v := version_from_tag(t)) is not None]
    return [tag for _version, tag in sorted(parsed)]


# --- run-script ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptRunRequest:
    script: Path
    syntax: str | None = None
    parameters: Sequence[str] = ()
    substitute: bool = False
    variables_files: Sequence[Path] = ()
    # Calamari's encrypted files: --sensitive-variables with its password.
    encrypted_files: Sequence[variable_sources.EncryptedFile] = ()
    overrides: Sequence[tuple[str, str]] = ()
    report_path: Path | None = None
    context: scoping.Context = field(default_factory=scoping.Context)
    strict_variables: bool = False


def run_script(request: ScriptRunRequest, console: Console) -> RunOutcome:
    """Run one script in the current directory, like Calamari's ``run-script``."""
    script = request.script.resolve()
    if not script.is_file():
        raise StepsError(f"{request.script}: script file not found")
    syntax = request.syntax or syntax_for_extension(script.suffix)
    if syntax is None:
        raise StepsError(
            f"{request.script}: cannot tell the script's language from its extension",
            hint="pass --syntax bash|python|powershell|csharp|fsharp",
        )
    try:
        body = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StepsError(f"{request.script}: cannot read the script ({exc})") from None
    template = Template(
        name=script.name,
        description="",
        category="",
        parameters=(),
        script=Script(syntax=syntax, body=body, file=script.name),
        root=script.parent,
    )
    gathered = _gather_without_project(request)
    settings = replace(
        _settings_here(gathered, request, None),
        in_place=Path.cwd(),
        substitute_script=request.substitute,
        script_parameters=tuple(request.parameters),
    )
    plan = StepPlan(name=script.name, template=template, template_label=str(request.script))
    return Runner(settings, console).run([plan])


# --- deploy-package ------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageDeployRequest:
    package: Path
    variables_files: Sequence[Path] = ()
    encrypted_files: Sequence[variable_sources.EncryptedFile] = ()
    overrides: Sequence[tuple[str, str]] = ()
    report_path: Path | None = None
    context: scoping.Context = field(default_factory=scoping.Context)
    strict_variables: bool = False


def deploy_package(request: PackageDeployRequest, console: Console) -> RunOutcome:
    """Deploy one package without a project, like Calamari's ``deploy-package``: the
    features are chosen by the variables Calamari reads (an Octopus variables file)."""
    from steptemplates import deployments  # the journal's libraries: only for package steps

    package = request.package.resolve()
    if not package.is_file():
        raise StepsError(f"{request.package}: package file not found")
    identity = identify(package)
    gathered = _gather_without_project(request)
    step_name = _value_of(gathered, "Octopus.Action.Name") or f"Deploy {identity.id}"
    settings = _settings_here(gathered, request, _value_of(gathered, "Octopus.Project.Name"))
    plan = StepPlan(
        name=step_name,
        template=None,
        template_label=f"package {identity.id} {identity.version}",
        package=PackagePlan(package, identity, deployments.applications_root(None, None)),
    )
    return Runner(settings, console).run([plan])


def _gather_without_project(
    request: ScriptRunRequest | PackageDeployRequest,
) -> variable_sources.VariableInputs:
    return variable_sources.gather(
        None,
        files=request.variables_files,
        encrypted=request.encrypted_files,
        overrides=request.overrides,
        context=request.context,
    )


def _settings_here(
    gathered: variable_sources.VariableInputs,
    request: ScriptRunRequest | PackageDeployRequest,
    project_name: str | None,
) -> RunSettings:
    """Settings for a run without a project: the current directory stands in for one."""
    here = Path.cwd()
    return RunSettings(
        project_name=project_name or here.name,
        project_dir=here,
        state_dir=here / STATE_DIR,
        file_variables=gathered.files,
        overrides=gathered.overrides,
        context=gathered.context,
        strict_variables=request.strict_variables,
        report_path=request.report_path,
    )


def _value_of(gathered: variable_sources.VariableInputs, name: str) -> str | None:
    """An unscoped value from the variables files or -v (the last one given wins)."""
    folded = name.casefold()
    found = None
    for scoped in gathered.files:
        if scoped.name.casefold() == folded and scoped.scope.is_empty:
            found = scoped.value
    for override in gathered.overrides:
        if override.name.casefold() == folded:
            found = override.value
    return found


# --- cache ---------------------------------------------------------------------------------


def cache_dir() -> Path:
    return Cache().root


def cache_clean() -> Path:
    cache = Cache()
    cache.clean()
    return cache.root


def cache_prune(console: Console) -> PruneReport:
    """Remove cache entries and mirrors that no steps.lock known to the cache still uses."""
    cache = Cache()
    integrities: set[str] = set()
    urls: set[str] = set()
    downloads: set[str] = set()
    for lock_path in cache.forget_missing_lockfiles():
        try:
            locked = lockfile.load(lock_path)
        except StepsError as error:
            console.warning(f"ignoring {lock_path} while pruning: {error}")
            continue
        entries = [*locked.templates.values(), *locked.packages.values()] if locked else []
        for entry in entries:
            if entry.integrity:
                integrities.add(entry.integrity)
            if entry.sha256:
                downloads.add(f"sha256-{entry.sha256}")
            if entry.url and entry.source == "git":
                urls.add(entry.url)
    return cache.prune(integrities, urls, downloads)
