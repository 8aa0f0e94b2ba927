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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from steptemplates import fsutil, lockfile, manifest, parallel, tomlfile, variable_sources
from steptemplates.cache import Cache, PruneReport
from steptemplates.console import Console
from steptemplates.errors import (
    LockMismatchError,
    NoMatchingVersionError,
    OfflineError,
    StepsError,
)
from steptemplates.execution.languages import syntax_for_extension
from steptemplates.execution.languages.base import ModuleFile
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
from steptemplates.resolve import (
    LockChange,
    Upgrade,
    accept_loaded,
    changes,
    git_auth,
    lock_and_load,
    out_of_date,
    resolve,
    signature_policies,
)
from steptemplates.sources import GitAuth, SourceContext, for_kind
from steptemplates.templates import Script, ScriptModule, Template, load_module, load_template
from steptemplates.templates.model import ModuleNeed, module_name_problem
from steptemplates.variables import scoping
from steptemplates.versions import caret_range_for, parse_range, version_from_tag

if TYPE_CHECKING:
    from steptemplates.registries.search import FromRegistry

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
    modules: dict[str, Path] = field(default_factory=dict)


def source_context(
    project_manifest: Manifest | None, console: Console, offline: bool
) -> SourceContext:
    """The sources of a run: the shared cache, and the credentials (and, for git, the
    signature policies) the manifest names for each URL. Close it when done."""
    auth = git_auth(project_manifest) if project_manifest else {}
    named = project_manifest.sources if project_manifest else {}
    policies = signature_policies(project_manifest) if project_manifest else {}
    return SourceContext(
        cache=Cache(),
        console=console,
        offline=offline,
        git_auth=auth,
        named_sources=named,
        signatures=policies,
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
    current: Manifest | None = None,
    seeds: Sequence[tuple[str, LockedTemplate]] = (),
    write: bool = True,
) -> LockResult:
    """Lock ``current`` (steps.toml as it will be; by default as it is). ``seeds`` are
    (kind, entry) pairs resolved already, kept like any entry that still fits; ``write``
    False leaves steps.lock alone, for a caller that writes it with other files."""
    wanted = current or project.manifest()
    return _lock_manifest(
        project, wanted, console, upgrade, locked, offline, write=write, seeds=seeds
    )


def _lock_manifest(
    project: Project,
    current: Manifest,
    console: Console,
    upgrade: Upgrade,
    locked: bool,
    offline: bool,
    *,
    write: bool = True,
    seed: tuple[str, LockedTemplate] | None = None,
    show_warnings: bool = True,
    seeds: Sequence[tuple[str, LockedTemplate]] = (),
) -> LockResult:
    previous = project.lockfile()
    for kind, entry in (*([seed] if seed is not None else []), *seeds):
        # Already resolved (by `steps add`, or `steps update` under a cooldown): kept by
        # the resolver like any fitting entry.
        previous = _with_entry(previous or Lockfile({}), kind, entry)
    if locked:
        # Decided before resolving, so a stale lock is reported as such, not as whatever
        # the network says while re-resolving it.
        reasons = out_of_date(current, previous)
        if reasons:
            raise LockMismatchError(
                f"steps.lock is out of date with steps.toml ({'; '.join(reasons)})",
                hint="run `steps lock` and commit the result",
            )
    context = source_context(current, console, offline)
    context.cache.register(project.lock_path)
    # Load warnings are told when an entry is first locked; a run tells them as it loads.
    warn = console.warning if show_warnings else None
    try:
        new = resolve(current, previous, context, upgrade=upgrade, warn=warn)
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


def _with_entry(base: Lockfile, kind: str, entry: LockedTemplate) -> Lockfile:
    entries = {**base.entries(kind), entry.name: entry}
    if kind == "module":
        return replace(base, modules=entries)
    if kind == "package":
        return replace(base, packages=entries)
    return replace(base, templates=entries)


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
    # The template (or module) file inside the source, after subdir.
    template: str | None = None
    # Add a script module to [modules] instead of a template; bash sources it by itself.
    module: bool = False
    autoload: bool = False
    # A short name (``[REGISTRY/]NAME[@RANGE]``) is looked up in this registry only.
    registry: str | None = None


@dataclass(frozen=True)
class AddResult:
    ref: manifest.TemplateRef
    entry: LockedTemplate
    replaced: bool

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def requirement(self) -> Requirement:
        return self.ref.source


def add(
    project: Project, request: AddRequest, console: Console, *, offline: bool = False
) -> AddResult:
    """Add (or replace) a template or script module in steps.toml, lock it, and write both
    files."""
    current = project.manifest()
    request = _with_local_file(request)
    if request.autoload and not request.module:
        raise StepsError("--autoload applies to script modules: add --module")
    from_registry = _from_registry(request, current, console, offline)
    if from_registry is not None:
        # The registry only finds the template: steps.toml and the lock get its real source.
        request = replace(request, name=from_registry.ref.name, template=from_registry.ref.template)
    template = manifest.normalise_template_path(request.template) if request.template else None
    if from_registry is not None:
        requirement = from_registry.ref.source
    elif _FEED.match(request.source) or _is_archive_url(request.source):
        requirement = feed_requirement(request, current)
    else:
        _refuse_feed_options(request)
        requirement = _requirement_for(project, request, console, offline)
    kind = "module" if request.module else "template"
    name = request.name or _default_name(request, requirement)
    ref = manifest.TemplateRef(name, requirement, kind, template, request.autoload)
    seed = None
    own_name = kind == "module" and request.name is None
    if not own_name:
        _check_name(ref)
    unpinned_feed = isinstance(requirement, FEED_REQUIREMENTS) and _unpinned(requirement)
    if own_name or unpinned_feed or from_registry is not None:
        # Alone first, so that a version the registry lists but its source lacks is told
        # apart from anything else the project's lock may find.
        with _registry_versions(from_registry):
            ref, seed = _first_lock(ref, current, console, offline, own_name=own_name)
    text = project.manifest_path.read_text(encoding="utf-8")
    from steptemplates import manifest_edit  # tomlkit: only for the commands that edit

    new_text = manifest_edit.with_ref(text, ref)
    new_doc = tomlfile.parse(new_text, path=project.manifest_path, display=manifest.FILE_NAME)
    new_manifest = manifest.from_document(new_doc)
    result = _lock_manifest(
        project,
        new_manifest,
        console,
        frozenset() if seed else frozenset({ref.name}),
        False,
        offline,
        write=False,
        seed=(kind, seed) if seed else None,
    )
    # Both files are written only once everything resolved, so a failure changes neither.
    fsutil.write_text_atomic(project.manifest_path, new_text)
    lockfile.write(project.lock_path, result.lockfile)
    entry = result.lockfile.entries(kind)[ref.name]
    return AddResult(ref, entry, ref.name in current.refs(kind))


def _from_registry(
    request: AddRequest, current: Manifest, console: Console, offline: bool
) -> FromRegistry | None:
    """A short name (``[REGISTRY/]NAME[@RANGE]``, not a URL nor an existing path) resolved
    through the configured registries; None for any other source."""
    from steptemplates.registries import config, search

    is_url = _URL.match(request.source) or _FEED.match(request.source)
    short = None
    if not is_url and not Path(request.source).expanduser().exists():
        short = search.ShortName.parse(request.source)
    locations = config.configured(current) if short is not None else {}
    if short is None or not (locations or request.registry):
        if request.registry:
            raise StepsError(
                f"--registry applies to template names, and '{request.source}' is not one"
            )
        return None
    given = [option for field, option in _SOURCE_OPTIONS.items() if getattr(request, field)]
    if given:
        raise StepsError(
            f"{given[0]} does not apply to '{request.source}', whose registry gives its source",
            hint=f"to choose it, add the source itself (see `steps info {short.qualified}`)",
        )
    context = source_context(current, console, offline)
    try:
        return search.resolve(
            short,
            locations,
            context,
            registry=request.registry,
            version=request.version,
            prerelease=request.prerelease,
            name=request.name,
        )
    finally:
        context.close()


# AddRequest field -> the option that sets it, for the options a registry's entry decides.
_SOURCE_OPTIONS = {
    "tag": "--tag",
    "branch": "--branch",
    "rev": "--rev",
    "subdir": "--subdir",
    "template": "--template",
    "token_env": "--token-env",
    "username": "--username",
    "asset": "--asset",
    "from_tags": "--tags",
    "api_url": "--api-url",
    "source_name": "--source",
    "sha256": "--sha256",
}


@contextmanager
def _registry_versions(from_registry: FromRegistry | None) -> Iterator[None]:
    """A version a registry listed but its source lacks is the registry's news, not the
    user's mistake: say so, and what to do."""
    try:
        yield
    except NoMatchingVersionError as error:
        if from_registry is None:
            raise
        from steptemplates.registries.search import version_gone

        raise version_gone(from_registry, error) from None


def _with_local_file(request: AddRequest) -> AddRequest:
    """``steps add ./x.json``: a path source at the file's directory, naming the file."""
    if _URL.match(request.source) or _FEED.match(request.source):
        return request
    local = Path(request.source).expanduser()
    if not local.is_file():
        return request
    if request.template or request.subdir:
        raise StepsError(
            f"{request.source} is a file: --template and --subdir name a file or directory "
            "inside a source",
            hint=f"add {local.parent} with --template {local.name}, or the file alone",
        )
    return replace(request, source=str(local.parent), template=local.name)


def _check_name(ref: manifest.TemplateRef) -> None:
    if ref.kind == "module":
        problem = module_name_problem(ref.name)
        if problem:
            raise StepsError(problem, hint="pass --name NAME")
    elif not manifest.NAME_PATTERN.fullmatch(ref.name):
        raise StepsError(f"'{ref.name}' is not a usable template name", hint="pass --name NAME")


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
    names_file = request.template is not None
    return _newest_version_requirement(requirement, console, offline, names_file=names_file)


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


def _first_lock(
    ref: manifest.TemplateRef,
    current: Manifest,
    console: Console,
    offline: bool,
    *,
    own_name: bool,
) -> tuple[manifest.TemplateRef, LockedTemplate]:
    """Lock ``ref`` once before steps.toml is written: a module added without --name
    takes the name its file gives it, and a feed without a pin is required as ``^<the
    newest version>`` from now on. The entry is kept by the lock that follows."""
    context = source_context(current, console, offline)
    try:
        entry, loaded = lock_and_load(ref, context, current.directory)
    finally:
        context.close()
    if own_name and isinstance(loaded, ScriptModule):
        ref, entry = replace(ref, name=loaded.name), replace(entry, name=loaded.name)
        _check_name(ref)
    accept_loaded(ref.name, ref.kind, entry, loaded, console.warning)
    requirement = ref.source
    version = version_from_tag(entry.version or "")
    if version is None or not _unpinned(requirement):
        return ref, entry
    assert isinstance(requirement, GitHubRequirement | NuGetRequirement)
    pinned: GitHubRequirement | NuGetRequirement = replace(
        requirement, version=caret_range_for(version)
    )
    return replace(ref, source=pinned), replace(entry, requested=pinned.requested)


def _newest_version_requirement(
    requirement: GitRequirement, console: Console, offline: bool, *, names_file: bool = False
) -> GitRequirement:
    """With no pin given: ``^<newest version>``, or the default branch if there are no versions.

    When a template file is named, a repository without tags is the usual case (Octopus's
    library: each file's own Version is its version), so following the branch is no news.
    """
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
    if not names_file:
        console.warning(
            f"{requirement.url} has no version tags; following branch '{branch}' "
            "(steps lock keeps the locked commit until you upgrade)"
        )
    return replace(requirement, branch=branch)


def _default_name(request: AddRequest, requirement: Requirement) -> str:
    named = PurePosixPath(request.template or "")
    if named.suffix.lower() == ".json":
        base = named.stem  # step-templates/slack-notify.json -> slack-notify
    elif named.parent.name:
        base = named.parent.name  # deploy/steptemplate.toml -> deploy
    elif isinstance(requirement, PathRequirement):
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
    current: Manifest | None = None,
    show_warnings: bool = True,
) -> SyncResult:
    """Make every locked template available in the cache, verified against the lock.

    ``current`` is the manifest when the caller has read it already; ``show_warnings``
    False leaves template load warnings to the caller, which loads the templates itself."""
    manifest_now = current or project.manifest()
    return _sync(
        project, manifest_now, console, locked, frozen, offline, show_warnings=show_warnings
    )


def _sync(
    project: Project,
    current: Manifest,
    console: Console,
    locked: bool,
    frozen: bool,
    offline: bool,
    *,
    show_warnings: bool = True,
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
        result = _lock_manifest(
            project, current, console, False, locked, offline, show_warnings=show_warnings
        )
        current_lock, diff = result.lockfile, result.changes
    context = source_context(current, console, offline)
    context.cache.register(project.lock_path)
    entries = [
        (kind, entry)
        for kind in lockfile.KINDS
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
    found: dict[str, dict[str, Path]] = {kind: {} for kind in lockfile.KINDS}
    for (kind, entry), maybe in zip(entries, paths, strict=True):
        if maybe is not None:
            found[kind][entry.name] = maybe
    return SyncResult(current_lock, diff, found["template"], found["package"], found["module"])


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
    # Warnings are told below, as each template and module is loaded for the run.
    synced = _sync(
        project,
        current,
        console,
        request.locked,
        request.frozen,
        request.offline,
        show_warnings=False,
    )
    selected = _select_steps(current, request.steps)
    packages = package_plans(project, synced)
    modules = _load_modules(synced, console.warning)
    templates: dict[str, Template] = {}
    plans = []
    for step in selected:
        if step.package is not None:
            plans.append(_package_step(step, step.package, packages))
            continue
        entry = synced.lockfile.templates.get(step.template)
        if entry is None:
            raise LockMismatchError(
                f"step '{step.name}' uses template '{step.template}', which steps.lock lacks",
                hint="run `steps lock`",
            )
        if step.template not in templates:
            templates[step.template] = load_locked_template(synced, entry, console)
        template = templates[step.template]
        plans.append(
            StepPlan(
                name=step.name,
                template=template,
                template_label=entry_label(entry),
                condition=step.condition,
                parameters=step.parameters,
                timeout=step.timeout,
                modules=_step_modules(current, modules, template, step.modules),
            )
        )
    settings = replace(
        run_settings(project, current, gathered, packages),
        keep_workdir=request.keep_workdir,
        report_path=request.report_path,
        release_number=request.release_number,
        strict_variables=request.strict_variables,
    )
    return Runner(settings, console).run(plans)


def run_settings(
    project: Project,
    current: Manifest,
    gathered: variable_sources.VariableInputs,
    packages: Mapping[str, PackagePlan],
) -> RunSettings:
    """What a run in this project knows besides its steps: variables, settings, packages."""
    return RunSettings(
        project_name=current.project_name,
        project_dir=project.directory,
        state_dir=project.state_dir,
        project_variables=gathered.project,
        file_variables=gathered.files,
        overrides=gathered.overrides,
        context=gathered.context,
        server_uri=current.server_uri,
        space=current.space,
        packages=packages,
        process_steps=tuple(step.name for step in current.steps),
    )


def load_locked_template(synced: SyncResult, entry: LockedTemplate, console: Console) -> Template:
    label = f"template '{entry.name}'"
    template = load_template(synced.templates[entry.name], file=entry.template, origin=label)
    for warning in template.warnings:
        console.warning(f"{label}: {warning}")
    return template


# --- script modules ------------------------------------------------------------------------


def modules_for_step(
    current: Manifest,
    synced: SyncResult,
    template: Template | None,
    step_needs: Sequence[ModuleNeed] = (),
) -> tuple[ModuleFile, ...]:
    """The script modules a step gets: every locked module (Octopus gives a project's
    modules to all its steps), dependencies first, autoloaded where [modules] or any need
    on the way from the template and the step asks for it."""
    return _step_modules(current, _load_modules(synced, None), template, step_needs)


def _load_modules(
    synced: SyncResult, warn: Callable[[str], None] | None
) -> dict[str, ScriptModule]:
    loaded = {}
    for name, entry in sorted(synced.lockfile.modules.items()):
        root = synced.modules[name]
        module = load_module(root, file=entry.template, origin=f"module '{name}'")
        accept_loaded(name, "module", entry, module, warn)
        loaded[name] = module
    return loaded


def _step_modules(
    current: Manifest,
    modules: Mapping[str, ScriptModule],
    template: Template | None,
    step_needs: Sequence[ModuleNeed],
) -> tuple[ModuleFile, ...]:
    autoload = {name for name, ref in current.modules.items() if ref.autoload}
    wanted: list[tuple[str, ModuleNeed]] = [("the step", need) for need in step_needs]
    if template is not None:
        wanted += [(f"template '{template.name}'", need) for need in template.modules]
    seen: set[str] = set()
    while wanted:
        who, need = wanted.pop()
        if need.name not in modules:
            raise LockMismatchError(
                f"{who} needs script module '{need.name}', which steps.lock lacks",
                hint="declare it in [modules] of steps.toml and run `steps lock`",
            )
        if need.autoload:
            autoload.add(need.name)
        if need.name not in seen:
            seen.add(need.name)
            wanted += [(f"module '{need.name}'", inner) for inner in modules[need.name].needs]
    return tuple(
        ModuleFile(module.name, module.syntax, module.body, module.name in autoload)
        for module in _dependencies_first(modules)
    )


def _dependencies_first(modules: Mapping[str, ScriptModule]) -> list[ScriptModule]:
    """Modules ordered so that each comes after those it needs (then by name), so that
    autoloaded bash modules are sourced in an order that works."""
    ordered: list[ScriptModule] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name not in modules:
            return
        placed.add(name)  # before its needs: a cycle (refused when locking) cannot recurse
        for need in sorted(modules[name].needs, key=lambda n: n.name):
            place(need.name)
        ordered.append(modules[name])

    for name in sorted(modules):
        place(name)
    return ordered


# --- packages ------------------------------------------------------------------------------


def package_plans(project: Project, synced: SyncResult) -> dict[str, PackagePlan]:
    """Every locked package, by name: for package steps and package parameters."""
    if not synced.packages:
        return {}
    from steptemplates import deployments  # the journal's libraries: only for package steps

    root = deployments.applications_root(None, project.state_dir)
    plans = {}
    for name, path in sorted(synced.packages.items()):
        entry = synced.lockfile.packages[name]
        if path.is_file():
            identity = identify(path)
        else:
            # A directory (a git tree, an unpacked feed package, a local folder): named by
            # its NuGet id or after steps.toml, versioned by the lock.
            version = entry.version or entry.tag or (entry.commit or "")[:12] or "0.0.0-local"
            package_id = entry.id if entry.source == "nuget" and entry.id else name
            identity = PackageIdentity(package_id, version)
        plans[name] = PackagePlan(path=path, identity=identity, applications_root=root)
    return plans


def _package_step(
    step: manifest.Step, name: str, packages: Mapping[str, PackagePlan]
) -> StepPlan:
    package = packages.get(name)
    if package is None:
        raise LockMismatchError(
            f"step '{step.name}' deploys package '{name}', which steps.lock lacks",
            hint="run `steps lock`",
        )
    return StepPlan(
        name=step.name,
        template=None,
        template_label=f"package {package.identity.id} {package.identity.version}",
        condition=step.condition,
        parameters=step.parameters,
        timeout=step.timeout,
        package=package,
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


def entry_label(entry: LockedTemplate) -> str:
    if entry.source == "path":
        version = f" {entry.template_version}" if entry.template_version else ""
        return f"{entry.name}{version} from {entry.path}"
    return f"{entry.name} {entry.shown}"


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
        if name in current.modules:
            hint = f"'{name}' is a script module; `steps list` shows its source and version"
        raise StepsError(f"no template named '{name}' in {current.path.name}", hint=hint)
    context = source_context(current, console, offline)
    existing = project.lockfile()
    entry = existing.templates.get(name) if existing else None
    try:
        if entry is None:
            entry, loaded = lock_and_load(ref, context, project.directory)
            assert isinstance(loaded, Template)
            template = loaded
            locked = f"not locked yet (would lock {entry_label(entry)})"
        else:
            source = for_kind(entry.source, context, project.directory)
            root = source.materialize(entry)
            template = load_template(root, file=entry.template, origin=f"template '{name}'")
            locked = entry_label(entry) + (f" at {entry.commit}" if entry.commit else "")
        versions = None
        if isinstance(ref.source, GitRequirement):
            versions = _available_versions(ref.source, context)
    finally:
        context.close()
    for warning in template.warnings:
        console.warning(f"template '{name}': {warning}")
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
        settings_here(gathered, request, None),
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
    settings = settings_here(gathered, request, _value_of(gathered, "Octopus.Project.Name"))
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


def settings_here(
    gathered: variable_sources.VariableInputs,
    request: ScriptRunRequest | PackageDeployRequest | None = None,
    project_name: str | None = None,
) -> RunSettings:
    """Settings for a run without a project: the current directory stands in for one.
    The request, when given, sets strict variables and the report path."""
    here = Path.cwd()
    settings = RunSettings(
        project_name=project_name or here.name,
        project_dir=here,
        state_dir=here / STATE_DIR,
        file_variables=gathered.files,
        overrides=gathered.overrides,
        context=gathered.context,
    )
    if request is None:
        return settings
    return replace(
        settings, strict_variables=request.strict_variables, report_path=request.report_path
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
        if locked is None:
            continue
        for entry in [e for kind in lockfile.KINDS for e in locked.entries(kind).values()]:
            if entry.integrity:
                integrities.add(entry.integrity)
            if entry.sha256:
                downloads.add(f"sha256-{entry.sha256}")
            if entry.url and entry.source == "git":
                urls.add(entry.url)
    return cache.prune(integrities, urls, downloads)
