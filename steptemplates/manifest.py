"""``steps.toml``: the templates a project uses, its process of steps, and its variables.

Reading is strict: unknown keys and wrong types are errors with file and line. Editing is
in ``manifest_edit``.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from steptemplates import deploy_settings, signatures, source_config, tomlfile
from steptemplates.errors import StepsError
from steptemplates.registries import location as registry_location
from steptemplates.registries.location import RegistryLocation
from steptemplates.source_config import NamedSource
from steptemplates.templates.model import ModuleNeed, module_name_problem
from steptemplates.variables import scoping
from steptemplates.variables.files import located_toml, variables_from_mapping
from steptemplates.variables.scoping import KnownNames, ScopedVariable
from steptemplates.versions import parse_range, tag_reader

FILE_NAME = "steps.toml"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_TOP_KEYS = (
    "project", "sources", "templates", "packages", "modules", "variables", "steps", "targets",
    "registries",
)  # fmt: skip
_PROJECT_KEYS = ("name", "environments", "tenants", "server-uri", "space", "cooldown")
_TARGET_KEYS = ("roles",)
_GIT_KEYS = (
    "git",
    "subdir",
    "version",
    "tag",
    "branch",
    "rev",
    "prerelease",
    "token-env",
    "username",
    "template",
    "verify",
    "signers",
    "tags",
)
_PATH_KEYS = ("path", "template")
_GITHUB_KEYS = (
    "github", "source", "api-url", "asset", "subdir", "version", "tag", "prerelease", "versions",
    "template",
)  # fmt: skip
_NUGET_KEYS = ("nuget", "source", "id", "subdir", "version", "prerelease", "template")
_HTTP_KEYS = ("url", "sha256", "subdir", "template")
SOURCE_KEYS = ("git", "path", "github", "nuget", "url")
DEFAULT_GITHUB_API = "https://api.github.com"
_GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_PACKAGE_PATH_KEYS = ("path", "version")
_STEP_KEYS = (
    "name", "template", "package", "condition", "timeout", "parameters", "deploy", "scripts",
    "modules",
)  # fmt: skip
# A module's own keys, besides its source's.
_MODULE_KEYS = ("autoload",)
PIN_KEYS = ("version", "tag", "branch", "rev")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?")
MAX_TIMEOUT = 7 * 24 * 3600.0  # longer is a typo; also keeps deadlines representable
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class Condition(enum.Enum):
    """When a step runs, given how the steps before it went."""

    SUCCESS = "success"
    FAILURE = "failure"
    ALWAYS = "always"


@dataclass(frozen=True)
class GitRequirement:
    url: str
    subdir: str = ""
    version: str | None = None
    tag: str | None = None
    branch: str | None = None
    rev: str | None = None
    prereleases: bool = False
    token_env: str | None = None
    username: str | None = None
    # Provenance (docs/provenance.md): "ssh" or "gpg" when versions must be signed, by one
    # of ``signers`` (public keys, or files holding them, as written in steps.toml).
    verify: str | None = None
    signers: tuple[str, ...] = ()
    # Which tags are versions, when not all are: "iis/v*" in a repository that tags each
    # template on its own ("*" is the version).
    tags: str | None = None

    @property
    def requested(self) -> str:
        """The requirement as recorded in the lock, to tell whether a locked entry still fits."""
        if self.tag is not None:
            return f"tag={self.tag}"
        if self.branch is not None:
            return f"branch={self.branch}"
        if self.rev is not None:
            return f"rev={self.rev}"
        version = self.version or "*"
        ranged = f"{version} (prereleases)" if self.prereleases else version
        return f"{ranged} tags={self.tags}" if self.tags else ranged


@dataclass(frozen=True)
class PathRequirement:
    path: str  # as written, relative to the manifest's directory
    resolved: Path
    version: str | None = None  # a package directory's version (archives carry their own)

    @property
    def requested(self) -> str:
        return "path"


def _ranged(version: str | None, prereleases: bool) -> str:
    text = version or "*"
    return f"{text} (prereleases)" if prereleases else text


@dataclass(frozen=True)
class GitHubRequirement:
    """A GitHub repository: versions from its releases (or, as Octopus does, its SemVer
    tags); the artifact is a release asset chosen by glob, or the source archive."""

    repo: str  # owner/name
    api_url: str  # the API base the versions come from (GitHub Enterprise: https://HOST/api/v3)
    asset: str | None = None
    subdir: str = ""
    version: str | None = None
    tag: str | None = None
    prereleases: bool = False
    from_tags: bool = False
    source_name: str | None = None  # the named source api_url came from, as written
    api_url_written: str | None = None  # 'api-url' as written; None when it came from elsewhere

    @property
    def requested(self) -> str:
        pinned = f"tag={self.tag}" if self.tag is not None else None
        text = pinned or _ranged(self.version, self.prereleases)
        return f"{text} (tags)" if self.from_tags else text


@dataclass(frozen=True)
class NuGetRequirement:
    """A package in a NuGet v3 feed, named by its service index URL."""

    feed: str  # the service index URL (from the named source when there is one)
    package_id: str
    subdir: str = ""
    version: str | None = None
    prereleases: bool = False
    source_name: str | None = None

    @property
    def requested(self) -> str:
        return _ranged(self.version, self.prereleases)


@dataclass(frozen=True)
class HttpRequirement:
    """An archive at a URL, verified by the sha256 given here or recorded in the lock."""

    url: str
    sha256: str | None = None
    subdir: str = ""

    @property
    def requested(self) -> str:
        return f"sha256={self.sha256}" if self.sha256 else "url"


Requirement = (
    GitRequirement | PathRequirement | GitHubRequirement | NuGetRequirement | HttpRequirement
)


@dataclass(frozen=True)
class TemplateRef:
    """A named requirement: a template, a package to deploy (``kind`` "package") or a script
    module (``kind`` "module")."""

    name: str
    source: Requirement
    kind: str = "template"
    # The template (or module) file inside the source, after subdir: an Octopus JSON file
    # such as step-templates/x.json, or a steptemplate.toml elsewhere than at the top.
    template: str | None = None
    # A module only: bash scripts source it automatically (docs/modules.md).
    autoload: bool = False


@dataclass(frozen=True)
class Step:
    """A template step, or a package step (``package`` set, ``template`` empty) whose
    ``parameters`` are plain variables, including those its deploy settings stand for."""

    name: str
    template: str
    condition: Condition = Condition.SUCCESS
    parameters: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    package: str | None = None
    # Script modules this step needs besides its template's (versions: ranges).
    modules: tuple[ModuleNeed, ...] = ()


@dataclass(frozen=True)
class Manifest:
    path: Path
    project_name: str
    templates: Mapping[str, TemplateRef]
    steps: tuple[Step, ...]
    variables: tuple[ScopedVariable, ...]
    packages: Mapping[str, TemplateRef] = field(default_factory=dict)
    # Declared names, so that a misspelt --environment or scope is an error (docs/variables.md).
    environments: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> roles
    # Named sources from steps.toml and the user configuration (credentials live here).
    sources: Mapping[str, NamedSource] = field(default_factory=dict)
    # Script modules: where each comes from; every step of the project gets them.
    modules: Mapping[str, TemplateRef] = field(default_factory=dict)
    # [project] server-uri and space: Octopus.Web.ServerUri and Octopus.Space.Name.
    server_uri: str | None = None
    space: str | None = None
    # [registries.NAME]: where `steps search` and `steps add NAME` look (with the user's).
    registries: Mapping[str, RegistryLocation] = field(default_factory=dict)
    # [project] cooldown: days a version must have been out before `update` takes it.
    cooldown_days: float | None = None

    def requirement(self, kind: str, name: str) -> TemplateRef | None:
        return self.refs(kind).get(name)

    def refs(self, kind: str) -> Mapping[str, TemplateRef]:
        """The requirements of one kind: template, package or module."""
        if kind == "package":
            return self.packages
        return self.modules if kind == "module" else self.templates

    @property
    def directory(self) -> Path:
        return self.path.parent

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def known_names(self, variables: Iterable[ScopedVariable] = ()) -> KnownNames:
        """What a context and scopes are checked against: the declarations and the process,
        plus the names used by the scopes of these variables and of ``[variables]``."""
        return KnownNames.build(
            environments=self.environments,
            tenants=self.tenants,
            targets=self.targets,
            steps=[step.name for step in self.steps],
            variables=(*self.variables, *variables),
            manifest=FILE_NAME,
        )


def find(start: Path) -> Path:
    """The nearest ``steps.toml`` in ``start`` or a parent directory."""
    for directory in (start, *start.parents):
        candidate = directory / FILE_NAME
        if candidate.is_file():
            return candidate
    raise StepsError(
        f"no {FILE_NAME} in {start} or any parent directory",
        hint="run `steps init` to create one",
    )


def load(path: Path) -> Manifest:
    return from_document(tomlfile.load(path, display=_display(path)))


def from_document(doc: tomlfile.TomlDocument) -> Manifest:
    path = doc.path
    root = doc.root()
    project = root.table("project")
    project_name = path.parent.name
    environments: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    server_uri = space = None
    cooldown_days = None
    if project is not None:
        project_name = project.string("name", default=project_name) or project_name
        environments = _declared_names(project, "environments", "environment")
        tenants = _declared_names(project, "tenants", "tenant")
        server_uri = project.string("server-uri")
        space = project.string("space")
        cooldown_days = _cooldown(project)
        project.reject_unknown(_PROJECT_KEYS)
    sources = _sources(root.table("sources"))
    templates = _templates(root.table("templates"), path.parent, sources)
    packages = _templates(root.table("packages"), path.parent, sources, kind="package")
    modules = _templates(root.table("modules"), path.parent, sources, kind="module")
    variables = _variables(root.table("variables"))
    steps = tuple(_step(table, path.parent) for table in root.tables("steps"))
    _check_steps(steps, root.tables("steps"), templates, packages, modules)
    targets = _targets(root.table("targets"))
    registries = registry_location.from_table(root.table("registries"), FILE_NAME, path.parent)
    root.reject_unknown(_TOP_KEYS)
    loaded = Manifest(
        path,
        project_name,
        templates,
        steps,
        variables,
        packages,
        environments,
        tenants,
        targets,
        sources.all,
        modules,
        server_uri,
        space,
        registries,
        cooldown_days,
    )
    scoping.check_scopes(variables, loaded.known_names())
    return loaded


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass
class _Sources:
    """The manifest's named sources; the user's configuration is read only when needed."""

    declared: dict[str, NamedSource]
    _all: dict[str, NamedSource] | None = None

    @property
    def all(self) -> dict[str, NamedSource]:
        if self._all is None:
            self._all = source_config.merged(self.declared)
        return self._all


def _sources(table: tomlfile.Table | None) -> _Sources:
    return _Sources(source_config.from_table(table, FILE_NAME))


def _templates(
    table: tomlfile.Table | None, base: Path, sources: _Sources, kind: str = "template"
) -> dict[str, TemplateRef]:
    if table is None:
        return {}
    templates = {}
    for name, entry in table.subtables():
        if kind == "module":
            problem = module_name_problem(name)
            if problem:
                raise entry.error(None, problem)
        elif not NAME_PATTERN.fullmatch(name):
            raise entry.error(None, f"{kind} name '{name}' may only hold letters, digits, . _ -")
        template = _template_file(name, entry, kind)
        autoload = entry.boolean("autoload", default=False) if kind == "module" else False
        if kind != "module" and entry.raw("autoload") is not None:
            raise entry.error("autoload", f"{kind} '{name}': 'autoload' is for [modules] only")
        requirement = _requirement(name, entry, base, kind, sources)
        templates[name] = TemplateRef(name, requirement, kind, template, autoload)
        _check_same_credentials(templates, name, entry)
    return templates


def _keys(source_keys: tuple[str, ...], kind: str) -> tuple[str, ...]:
    return (*source_keys, *_MODULE_KEYS) if kind == "module" else source_keys


def _template_file(name: str, entry: tomlfile.Table, kind: str) -> str | None:
    """``template = "step-templates/x.json"``: a relative path inside the source."""
    written = entry.string("template")
    if written is None:
        return None
    if kind == "package":
        raise entry.error("template", f"package '{name}': 'template' is for templates and modules")
    return normalise_template_path(written, entry)


def normalise_template_path(written: str, entry: tomlfile.Table | None = None) -> str:
    """A template file's path as the lock records it: relative, '/'-separated, no '..'."""
    parts = [p for p in written.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts or written.startswith("/"):
        message = f"template file '{written}' must be a relative path inside the source"
        if entry is not None:
            raise entry.error("template", message)
        raise StepsError(message)
    return "/".join(parts)


def _check_same_credentials(
    templates: Mapping[str, TemplateRef], name: str, entry: tomlfile.Table
) -> None:
    """Credentials belong to a repository: its templates must not disagree about them."""
    new = templates[name].source
    if not isinstance(new, GitRequirement):
        return
    for other in templates.values():
        source = other.source
        if (
            isinstance(source, GitRequirement)
            and source.url == new.url
            and (source.token_env, source.username) != (new.token_env, new.username)
        ):
            raise entry.error(
                "token-env",
                f"templates '{other.name}' and '{name}' come from the same repository but "
                "give different token-env or username",
                hint="give both the same settings",
            )


def _requirement(
    name: str, entry: tomlfile.Table, base: Path, kind: str, sources: _Sources
) -> Requirement:
    given = [key for key in SOURCE_KEYS if entry.raw(key) is not None]
    if len(given) == 0 and entry.raw("source") is not None:
        given = ["nuget"]  # `source = "feed"` with an `id`: a package in a named NuGet feed
    if len(given) != 1:
        raise entry.error(
            None,
            f"{kind} '{name}' needs exactly one source: 'git', 'path', 'github', 'nuget' or 'url'",
        )
    if given[0] == "github":
        return _github_requirement(name, entry, kind, sources)
    if given[0] == "nuget":
        return _nuget_requirement(name, entry, kind, sources)
    if given[0] == "url":
        return _http_requirement(name, entry, kind)
    path = entry.string("path")
    git = entry.string("git")
    if git is not None and url_holds_credentials(git):
        raise entry.error("git", f"{kind} '{name}': {CREDENTIALS_IN_URL}", hint=CREDENTIALS_HINT)
    if path is not None:
        entry.reject_unknown(_keys(_PACKAGE_PATH_KEYS if kind == "package" else _PATH_KEYS, kind))
        version = entry.string("version") if kind == "package" else None
        return PathRequirement(path=path, resolved=(base / path).resolve(), version=version)
    assert git is not None
    pins = [key for key in PIN_KEYS if entry.raw(key) is not None]
    if len(pins) > 1:
        raise entry.error(
            pins[1], f"template '{name}' gives both '{pins[0]}' and '{pins[1]}'; keep one"
        )
    requirement = GitRequirement(
        url=git,
        subdir=normalise_subdir(entry.string("subdir", default="") or "", entry),
        version=entry.string("version"),
        tag=entry.string("tag"),
        branch=entry.string("branch"),
        rev=entry.string("rev"),
        prereleases=entry.boolean("prerelease", default=False),
        token_env=entry.string("token-env"),
        username=entry.string("username"),
        verify=_verify(name, entry, kind),
        signers=entry.strings("signers"),
        tags=entry.string("tags"),
    )
    if requirement.tags is not None:
        if requirement.version is None and any(
            getattr(requirement, key) for key in ("tag", "branch", "rev")
        ):
            raise entry.error("tags", f"{kind} '{name}': 'tags' applies to version ranges")
        try:
            tag_reader(requirement.tags)
        except ValueError as exc:
            raise entry.error(
                "tags", f"{kind} '{name}': {exc}", hint='e.g. tags = "iis/v*"'
            ) from None
    if requirement.signers and requirement.verify is None:
        raise entry.error(
            "signers", f"{kind} '{name}': 'signers' needs verify = \"ssh\" or \"gpg\""
        )
    if requirement.verify is not None and not requirement.signers:
        raise entry.error(
            "verify",
            f"{kind} '{name}': verify = \"{requirement.verify}\" needs 'signers', the keys "
            "allowed to sign",
            hint="see docs/provenance.md",
        )
    if requirement.verify is not None:
        _check_signers(name, entry, kind, requirement, base)
    if requirement.rev is not None and not re.fullmatch(r"[0-9a-fA-F]{4,40}", requirement.rev):
        raise entry.error("rev", f"template '{name}': rev must be a commit SHA (4-40 hex digits)")
    if requirement.version is not None:
        try:
            parse_range(requirement.version)
        except ValueError as exc:
            raise entry.error("version", f"template '{name}': {exc}") from None
    entry.reject_unknown(_keys(_GIT_KEYS, kind))
    return requirement


VERIFY_KINDS = ("ssh", "gpg")


def _verify(name: str, entry: tomlfile.Table, kind: str) -> str | None:
    verify = entry.string("verify")
    if verify is not None and verify not in VERIFY_KINDS:
        raise entry.error("verify", f"{kind} '{name}': verify must be \"ssh\" or \"gpg\"")
    return verify


def _check_signers(
    name: str, entry: tomlfile.Table, kind: str, requirement: GitRequirement, base: Path
) -> None:
    """Every ``signers`` entry reads as a key, a key file or a fingerprint, so that a typo
    fails here, at the line of the entry, rather than when a version is verified."""
    assert requirement.verify is not None
    try:
        signatures.read_policy(requirement.verify, requirement.signers, base)
    except signatures.SignerError as exc:
        message = f"{kind} '{name}': {exc.message}"
        line = None
        if exc.index is not None:
            path = (*entry.key_path, "signers", exc.index)
            line = tomlfile.key_lines(entry.doc.text).get(path)
        if line is None:
            raise entry.error("signers", message, hint=exc.hint) from None
        raise StepsError(f"{entry.doc.display}:{line}: {message}", hint=exc.hint) from None


def _cooldown(project: tomlfile.Table) -> float | None:
    value = project.raw("cooldown")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise project.error("cooldown", "'project.cooldown' must be a number of days (0 or more)")
    return float(value)


def _checked_range(name: str, entry: tomlfile.Table, kind: str) -> str | None:
    version = entry.string("version")
    if version is not None:
        try:
            parse_range(version)
        except ValueError as exc:
            raise entry.error("version", f"{kind} '{name}': {exc}") from None
    return version


def _named(
    name: str, entry: tomlfile.Table, kind: str, sources: _Sources, source_kind: str
) -> NamedSource:
    wanted = entry.required_string("source")
    found = sources.all.get(wanted)
    if found is None:
        known = ", ".join(sorted(sources.all)) or "none are declared"
        raise entry.error(
            "source",
            f"{kind} '{name}': no source named '{wanted}'",
            hint=f"declare it under [sources.{wanted}] in steps.toml or "
            f"{source_config.user_config_path()} (known: {known})",
        )
    if found.kind != source_kind:
        raise entry.error(
            "source",
            f"{kind} '{name}': source '{wanted}' is a {found.kind} source, not {source_kind}",
        )
    return found


def github_api_url() -> str:
    """The API base for GitHub sources that do not name one: ``STEPS_GITHUB_API_URL``."""
    return (os.environ.get("STEPS_GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/")


def _github_requirement(
    name: str, entry: tomlfile.Table, kind: str, sources: _Sources
) -> GitHubRequirement:
    repo = entry.required_string("github")
    if not _GITHUB_REPO.fullmatch(repo):
        raise entry.error("github", f"{kind} '{name}': '{repo}' is not owner/repository")
    if entry.raw("source") is not None and entry.raw("api-url") is not None:
        raise entry.error("api-url", f"{kind} '{name}' gives both 'source' and 'api-url'; keep one")
    api_written = entry.string("api-url")
    source_name = entry.string("source")
    if source_name is not None:
        api_url = _named(name, entry, kind, sources, "github").url
    elif api_written is not None:
        if not re.match(r"https?://", api_written) or source_config.has_user_info(api_written):
            raise entry.error(
                "api-url",
                f"{kind} '{name}': api-url must be an http(s) URL without credentials",
                hint="for GitHub Enterprise use https://HOST/api/v3",
            )
        api_url = api_written
    else:
        api_url = github_api_url()
    if entry.raw("tag") is not None and entry.raw("version") is not None:
        raise entry.error("tag", f"{kind} '{name}' gives both 'version' and 'tag'; keep one")
    versions = entry.string("versions", default="releases")
    if versions not in ("releases", "tags"):
        raise entry.error(
            "versions", f"{kind} '{name}': versions must be 'releases' or 'tags', not '{versions}'"
        )
    asset = entry.string("asset")
    if asset is not None and versions == "tags":
        raise entry.error(
            "asset",
            f"{kind} '{name}': release assets need versions = 'releases'",
            hint="remove 'asset' to use the source archive at each tag",
        )
    requirement = GitHubRequirement(
        repo=repo,
        api_url=api_url.rstrip("/"),
        asset=asset,
        subdir=normalise_subdir(entry.string("subdir", default="") or "", entry),
        version=_checked_range(name, entry, kind),
        tag=entry.string("tag"),
        prereleases=entry.boolean("prerelease", default=False),
        from_tags=versions == "tags",
        source_name=source_name,
        api_url_written=api_written,
    )
    entry.reject_unknown(_keys(_GITHUB_KEYS, kind))
    return requirement


def _nuget_requirement(
    name: str, entry: tomlfile.Table, kind: str, sources: _Sources
) -> NuGetRequirement:
    feed = entry.string("nuget")
    source_name = entry.string("source")
    if (feed is None) == (source_name is None):
        raise entry.error(
            "source",
            f"{kind} '{name}' needs exactly one of 'nuget' (a service index URL) or 'source' "
            "(a named NuGet source)",
        )
    if feed is not None:
        if "://" not in feed:
            raise entry.error(
                "nuget",
                f"{kind} '{name}': '{feed}' is not a URL",
                hint="give the feed's service index URL (…/index.json), or name a source "
                "with source = \"NAME\"",
            )
        if source_config.has_user_info(feed):
            message = f"{kind} '{name}': {CREDENTIALS_IN_URL}"
            raise entry.error("nuget", message, hint=CREDENTIALS_HINT)
    else:
        feed = _named(name, entry, kind, sources, "nuget").url
    package_id = entry.required_string("id")
    if not NUGET_ID.fullmatch(package_id):
        raise entry.error("id", f"{kind} '{name}': '{package_id}' is not a NuGet package id")
    requirement = NuGetRequirement(
        feed=feed,
        package_id=package_id,
        subdir=normalise_subdir(entry.string("subdir", default="") or "", entry),
        version=_checked_range(name, entry, kind),
        prereleases=entry.boolean("prerelease", default=False),
        source_name=source_name,
    )
    entry.reject_unknown(_keys(_NUGET_KEYS, kind))
    return requirement


def _http_requirement(name: str, entry: tomlfile.Table, kind: str) -> HttpRequirement:
    url = entry.required_string("url")
    if not re.match(r"(https?|file)://", url):
        raise entry.error("url", f"{kind} '{name}': '{url}' is not an http(s) or file URL")
    if source_config.has_user_info(url):
        raise entry.error("url", f"{kind} '{name}': {CREDENTIALS_IN_URL}", hint=CREDENTIALS_HINT)
    sha256 = entry.string("sha256")
    if sha256 is not None:
        sha256 = sha256.lower().removeprefix("sha256:")
        if not _SHA256_HEX.fullmatch(sha256):
            raise entry.error("sha256", f"{kind} '{name}': sha256 must be 64 hex digits")
    requirement = HttpRequirement(
        url=url,
        sha256=sha256,
        subdir=normalise_subdir(entry.string("subdir", default="") or "", entry),
    )
    entry.reject_unknown(_keys(_HTTP_KEYS, kind))
    return requirement


NUGET_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


CREDENTIALS_IN_URL = "the URL has credentials written into it"
CREDENTIALS_HINT = (
    "remove them, and set token-env to the name of an environment variable holding the "
    "token, or add the host to ~/.netrc"
)


def url_holds_credentials(url: str) -> bool:
    """A password in any URL, or any user in an http(s) URL (where it can only be a secret)."""
    parts = urlsplit(url)
    if "://" not in url:
        return False  # a path, or scp-style user@host:path, which holds no password
    return parts.password is not None or (parts.scheme in ("http", "https") and "@" in parts.netloc)


def normalise_subdir(subdir: str, entry: tomlfile.Table | None = None) -> str:
    parts = [p for p in subdir.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts or subdir.startswith("/"):
        message = f"subdir '{subdir}' must be a relative path inside the repository"
        raise entry.error("subdir", message) if entry else StepsError(message)
    return "/".join(parts)


def _variables(table: tomlfile.Table | None) -> tuple[ScopedVariable, ...]:
    if table is None:
        return ()
    located = located_toml(table.doc, origin=FILE_NAME)
    return tuple(variables_from_mapping(table.data, located, base=table.key_path))


def _declared_names(table: tomlfile.Table, key: str, what: str) -> tuple[str, ...]:
    names = table.strings(key)
    repeated = _repeated(names)
    if repeated:
        raise table.error(key, f"{what} '{repeated}' is declared twice")
    return names


def _repeated(names: Iterable[str]) -> str | None:
    """A name given twice; names match case-insensitively, so "UAT" and "uat" are one."""
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            return name
        seen.add(name.casefold())
    return None


def _targets(table: tomlfile.Table | None) -> dict[str, tuple[str, ...]]:
    """``[targets.NAME]`` tables: the deployment targets (machines) and their roles."""
    if table is None:
        return {}
    targets: dict[str, tuple[str, ...]] = {}
    for name, entry in table.subtables():
        if not name.strip():
            raise entry.error(None, "a target name cannot be empty")
        if _repeated([*targets, name]):
            raise entry.error(None, f"target '{name}' is declared twice")
        targets[name] = _declared_names(entry, "roles", f"target '{name}': role")
        entry.reject_unknown(_TARGET_KEYS)
    return targets


def _step(table: tomlfile.Table, base: Path) -> Step:
    name = table.required_string("name")
    template = table.string("template")
    package = table.string("package")
    if (template is None) == (package is None):
        raise table.error(
            None,
            f"step '{name}' needs exactly one of 'template' (run a template's script) "
            "or 'package' (deploy a package)",
        )
    condition_text = table.string("condition", default="success") or "success"
    try:
        condition = Condition(condition_text)
    except ValueError:
        raise table.error(
            "condition",
            f"step '{name}': unknown condition '{condition_text}'",
            hint="use success, failure or always",
        ) from None
    parameters: dict[str, str] = {}
    if package is not None:
        parameters |= deploy_settings.step_variables(table, name, base)
    elif table.raw("deploy") is not None or table.raw("scripts") is not None:
        key = "deploy" if table.raw("deploy") is not None else "scripts"
        raise table.error(key, f"step '{name}': '{key}' belongs to package steps", hint=(
            "give the step a 'package' instead of a 'template', or remove it"))  # fmt: skip
    parameter_table = table.table("parameters")
    if parameter_table is not None:
        parameters |= _parameter_values(parameter_table, "")
    modules = module_needs(table, "modules", f"step '{name}'")
    step = Step(
        name, template or "", condition, parameters, _timeout(table, name), package, modules
    )
    table.reject_unknown(_STEP_KEYS)
    return step


def _parameter_values(table: tomlfile.Table, prefix: str) -> dict[str, str]:
    """A step's parameter values; a table (an account's fields) gives ``Param.Field`` names."""
    values: dict[str, str] = {}
    for key, raw in table.data.items():
        if isinstance(raw, dict):
            inner = table.table(key)
            assert inner is not None
            values |= _parameter_values(inner, f"{prefix}{key}.")
            continue
        value = table.scalar_text(key)
        assert value is not None
        values[prefix + key] = value
    return values


def module_needs(table: tomlfile.Table, key: str, who: str) -> tuple[ModuleNeed, ...]:
    """``modules = { Helpers = "^1.2", Base = { version = "2", autoload = true } }``."""
    needs_table = table.table(key)
    if needs_table is None:
        return ()
    needs = []
    for name in needs_table.data:
        problem = module_name_problem(name)
        if problem:
            raise needs_table.error(name, f"{who}: {problem}")
        raw = needs_table.raw(name)
        version: str | None
        autoload = False
        if isinstance(raw, str):
            version = raw
        elif isinstance(raw, dict):
            entry = needs_table.table(name)
            assert entry is not None
            version = entry.string("version")
            autoload = entry.boolean("autoload", default=False)
            entry.reject_unknown(("version", "autoload"))
        else:
            raise needs_table.error(
                name,
                f"{who}: module '{name}' needs a version range (\"^1.2\", \"*\") "
                "or a table with version and autoload",
            )
        if version is not None:
            try:
                parse_range(version)
            except ValueError as exc:
                raise needs_table.error(name, f"{who}: module '{name}': {exc}") from None
        needs.append(ModuleNeed(name, None if version in (None, "*") else version, autoload))
    return tuple(needs)


def _timeout(table: tomlfile.Table, step: str) -> float | None:
    raw = table.raw("timeout")
    if raw is None:
        return None
    seconds = parse_duration(raw) if isinstance(raw, str | int | float) else None
    if seconds is None or not 0 < seconds <= MAX_TIMEOUT or isinstance(raw, bool):
        raise table.error(
            "timeout",
            f"step '{step}': timeout must be a duration like 90, '90s', '10m' or '2h', "
            "at most 7 days",
        )
    return seconds


def parse_duration(value: str | int | float) -> float | None:
    """Seconds from ``30``, ``2.5``, ``"90s"``, ``"5m"``, ``"1h"`` or ``"250ms"``."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.fullmatch(value.strip())
    if not match:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


def _check_steps(
    steps: tuple[Step, ...],
    tables: list[tomlfile.Table],
    templates: Mapping[str, TemplateRef],
    packages: Mapping[str, TemplateRef],
    modules: Mapping[str, TemplateRef],
) -> None:
    seen: set[str] = set()
    for step, table in zip(steps, tables, strict=True):
        if step.name in seen:
            raise table.error("name", f"two steps are named '{step.name}'; step names are unique")
        seen.add(step.name)
        for need in step.modules:
            if need.name not in modules:
                raise table.error(
                    "modules",
                    f"step '{step.name}' needs script module '{need.name}', "
                    "which is not in [modules]",
                    hint=f"declare where it comes from with `steps add SOURCE --module "
                    f"--name {need.name}`",
                )
        if step.package is not None:
            if step.package not in packages:
                known = ", ".join(sorted(packages)) or "none are declared"
                raise table.error(
                    "package",
                    f"step '{step.name}' deploys package '{step.package}', "
                    "which is not in [packages]",
                    hint=f"add it under [packages.{step.package}] (known: {known})",
                )
            continue
        if step.template not in templates:
            known = ", ".join(sorted(templates)) or "none are declared"
            raise table.error(
                "template",
                f"step '{step.name}' uses template '{step.template}', which is not in [templates]",
                hint=f"add it with `steps add` (known: {known})",
            )


def ref_fields(ref: TemplateRef) -> dict[str, str | bool]:
    """The keys of a ``[templates.NAME]`` (or packages, modules) table, in written order."""
    fields = requirement_fields(ref.source)
    if ref.template is not None:
        fields["template"] = ref.template
    if ref.autoload:
        fields["autoload"] = True
    return fields


def requirement_fields(requirement: Requirement) -> dict[str, str | bool]:
    """The manifest keys that express a requirement, in the order they are written."""
    if isinstance(requirement, GitHubRequirement):
        return _github_fields(requirement)
    if isinstance(requirement, NuGetRequirement):
        return _nuget_fields(requirement)
    if isinstance(requirement, HttpRequirement):
        return _http_fields(requirement)
    if isinstance(requirement, PathRequirement):
        if requirement.version:
            return {"path": requirement.path, "version": requirement.version}
        return {"path": requirement.path}
    fields: dict[str, str | bool] = {"git": requirement.url}
    if requirement.subdir:
        fields["subdir"] = requirement.subdir
    for key in PIN_KEYS:
        value = getattr(requirement, key)
        if value is not None:
            fields[key] = value
    if requirement.prereleases:
        fields["prerelease"] = True
    if requirement.tags:
        fields["tags"] = requirement.tags
    if requirement.token_env:
        fields["token-env"] = requirement.token_env
    if requirement.username:
        fields["username"] = requirement.username
    return fields


def _http_fields(requirement: HttpRequirement) -> dict[str, str | bool]:
    fields: dict[str, str | bool] = {"url": requirement.url}
    if requirement.sha256:
        fields["sha256"] = requirement.sha256
    if requirement.subdir:
        fields["subdir"] = requirement.subdir
    return fields


def _github_fields(requirement: GitHubRequirement) -> dict[str, str | bool]:
    fields: dict[str, str | bool] = {"github": requirement.repo}
    if requirement.source_name:
        fields["source"] = requirement.source_name
    elif requirement.api_url_written:
        fields["api-url"] = requirement.api_url_written
    if requirement.from_tags:
        fields["versions"] = "tags"
    if requirement.asset:
        fields["asset"] = requirement.asset
    if requirement.subdir:
        fields["subdir"] = requirement.subdir
    if requirement.tag is not None:
        fields["tag"] = requirement.tag
    elif requirement.version is not None:
        fields["version"] = requirement.version
    if requirement.prereleases:
        fields["prerelease"] = True
    return fields


def _nuget_fields(requirement: NuGetRequirement) -> dict[str, str | bool]:
    fields: dict[str, str | bool] = (
        {"source": requirement.source_name}
        if requirement.source_name
        else {"nuget": requirement.feed}
    )
    fields["id"] = requirement.package_id
    if requirement.subdir:
        fields["subdir"] = requirement.subdir
    if requirement.version is not None:
        fields["version"] = requirement.version
    if requirement.prereleases:
        fields["prerelease"] = True
    return fields
