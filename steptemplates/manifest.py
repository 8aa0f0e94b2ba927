"""``steps.toml``: the templates a project uses, its process of steps, and its variables.

Reading is strict: unknown keys and wrong types are errors with file and line. Editing is
in ``manifest_edit``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from steptemplates import deploy_settings, tomlfile
from steptemplates.errors import StepsError
from steptemplates.variables import scoping
from steptemplates.variables.files import located_toml, variables_from_mapping
from steptemplates.variables.scoping import KnownNames, ScopedVariable
from steptemplates.versions import parse_range

FILE_NAME = "steps.toml"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_TOP_KEYS = ("project", "templates", "packages", "variables", "steps", "targets")
_PROJECT_KEYS = ("name", "environments", "tenants")
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
)
_PATH_KEYS = ("path",)
_PACKAGE_PATH_KEYS = ("path", "version")
_STEP_KEYS = (
    "name", "template", "package", "condition", "timeout", "parameters", "deploy", "scripts",
)  # fmt: skip
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
        return f"{version} (prereleases)" if self.prereleases else version


@dataclass(frozen=True)
class PathRequirement:
    path: str  # as written, relative to the manifest's directory
    resolved: Path
    version: str | None = None  # a package directory's version (archives carry their own)

    @property
    def requested(self) -> str:
        return "path"


Requirement = GitRequirement | PathRequirement


@dataclass(frozen=True)
class TemplateRef:
    """A named requirement: a template, or (``kind`` "package") a package to deploy."""

    name: str
    source: Requirement
    kind: str = "template"


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

    def requirement(self, kind: str, name: str) -> TemplateRef | None:
        return (self.packages if kind == "package" else self.templates).get(name)

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
    if project is not None:
        project_name = project.string("name", default=project_name) or project_name
        environments = _declared_names(project, "environments", "environment")
        tenants = _declared_names(project, "tenants", "tenant")
        project.reject_unknown(_PROJECT_KEYS)
    templates = _templates(root.table("templates"), path.parent)
    packages = _templates(root.table("packages"), path.parent, kind="package")
    variables = _variables(root.table("variables"))
    steps = tuple(_step(table, path.parent) for table in root.tables("steps"))
    _check_steps(steps, root.tables("steps"), templates, packages)
    targets = _targets(root.table("targets"))
    root.reject_unknown(_TOP_KEYS)
    loaded = Manifest(
        path, project_name, templates, steps, variables, packages, environments, tenants, targets
    )
    scoping.check_scopes(variables, loaded.known_names())
    return loaded


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _templates(
    table: tomlfile.Table | None, base: Path, kind: str = "template"
) -> dict[str, TemplateRef]:
    if table is None:
        return {}
    templates = {}
    for name, entry in table.subtables():
        if not NAME_PATTERN.fullmatch(name):
            raise entry.error(None, f"{kind} name '{name}' may only hold letters, digits, . _ -")
        templates[name] = TemplateRef(name, _requirement(name, entry, base, kind), kind)
        _check_same_credentials(templates, name, entry)
    return templates


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


def _requirement(name: str, entry: tomlfile.Table, base: Path, kind: str) -> Requirement:
    path = entry.string("path")
    git = entry.string("git")
    if (path is None) == (git is None):
        raise entry.error(None, f"{kind} '{name}' needs exactly one source: 'git' or 'path'")
    if git is not None and url_holds_credentials(git):
        raise entry.error("git", f"{kind} '{name}': {CREDENTIALS_IN_URL}", hint=CREDENTIALS_HINT)
    if path is not None:
        entry.reject_unknown(_PACKAGE_PATH_KEYS if kind == "package" else _PATH_KEYS)
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
    )
    if requirement.rev is not None and not re.fullmatch(r"[0-9a-fA-F]{4,40}", requirement.rev):
        raise entry.error("rev", f"template '{name}': rev must be a commit SHA (4-40 hex digits)")
    if requirement.version is not None:
        try:
            parse_range(requirement.version)
        except ValueError as exc:
            raise entry.error("version", f"template '{name}': {exc}") from None
    entry.reject_unknown(_GIT_KEYS)
    return requirement


CREDENTIALS_IN_URL = "the git URL has credentials written into it"
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
        for key in parameter_table.data:
            value = parameter_table.scalar_text(key)
            assert value is not None
            parameters[key] = value
    step = Step(name, template or "", condition, parameters, _timeout(table, name), package)
    table.reject_unknown(_STEP_KEYS)
    return step


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
) -> None:
    seen: set[str] = set()
    for step, table in zip(steps, tables, strict=True):
        if step.name in seen:
            raise table.error("name", f"two steps are named '{step.name}'; step names are unique")
        seen.add(step.name)
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


def requirement_fields(requirement: Requirement) -> dict[str, str | bool]:
    """The manifest keys that express a requirement, in the order they are written."""
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
    if requirement.token_env:
        fields["token-env"] = requirement.token_env
    if requirement.username:
        fields["username"] = requirement.username
    return fields
