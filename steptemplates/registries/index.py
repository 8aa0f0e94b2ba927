"""``index.toml``: what a registry lists, one ``[[template]]`` per template.

It is written by ``steps registry build`` and read by everything that searches or adds by
short name. Reading is strict (file and line for every mistake, since indexes are also
served from places people edit by hand); writing is fully determined by the data, so
rebuilding an unchanged registry gives the same bytes.

    format = 1
    name = "steps"
    description = "First-party templates"

    [[template]]
    name = "http-health-check"
    description = "Request a URL until it answers."
    category = "http"
    maintainers = ["Platform team <platform@example.com>"]
    format = "native"
    source = { git = ".", subdir = "templates/http-health-check" }
    versions = [
      { version = "1.1.0", tag = "v1.1.0", commit = "...", published = 2026-05-01T09:00:00Z },
    ]
    parameters = [
      { name = "Url", label = "URL", type = "text", required = true },
    ]

``git = "."`` names the git repository the registry itself is in: a registry kept next to
its templates works from any clone or mirror of that repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steptemplates import tomlfile
from steptemplates.errors import StepsError
from steptemplates.versions import Version, parse_version

FILE_NAME = "index.toml"
FORMAT_VERSION = 1
HEADER = "# Written by `steps registry build`. Edit registry.toml and build again.\n"
SAME_REPOSITORY = "."
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SOURCE_KINDS = ("git", "github", "nuget", "url")
FORMATS = ("native", "octopus")
_TOP_KEYS = ("format", "name", "description", "template")
_TEMPLATE_KEYS = (
    "name",
    "description",
    "category",
    "maintainers",
    "format",
    "source",
    "branch",
    "template-version",
    "versions",
    "parameters",
    "modules",
)
_SOURCE_KEYS = (
    "git", "github", "nuget", "url", "id", "subdir", "template", "tags", "asset", "versions",
    "api-url",
)  # fmt: skip
GITHUB_VERSIONS = ("releases", "tags")
_VERSION_KEYS = ("version", "tag", "commit", "published", "notes", "template-version")
_PARAMETER_KEYS = ("name", "label", "type", "required", "default", "help", "options")


@dataclass(frozen=True)
class IndexSource:
    """Where a template lives, in the manifest's terms."""

    kind: str  # one of SOURCE_KINDS
    location: str  # git URL (or "."), GitHub owner/repo, NuGet service index, archive URL
    id: str | None = None  # NuGet package id
    subdir: str = ""
    template: str | None = None  # the template file inside the source, after subdir
    # git: the tags that are this template's versions, when not every version tag is
    # ("iis/v*" in a repository tagging each template on its own); "*" is the version.
    tags: str | None = None
    # github: the release asset's glob (else the source archive), versions from SemVer tags
    # rather than releases, and the API base when the index names one (GitHub Enterprise);
    # without it, whoever reads the index uses their own default API.
    asset: str | None = None
    from_tags: bool = False
    api_url: str | None = None

    @property
    def same_repository(self) -> bool:
        return self.kind == "git" and self.location == SAME_REPOSITORY


@dataclass(frozen=True)
class IndexVersion:
    version: str  # as the source offers it (a tag's version, a release's, a package's)
    tag: str | None = None
    commit: str | None = None
    published: datetime | None = None
    notes: str = ""  # the release notes or tag message: the changelog entry
    template_version: int | None = None  # Octopus's integer Version at this version

    @property
    def parsed(self) -> Version:
        return parse_version(self.version)


@dataclass(frozen=True)
class IndexParameter:
    name: str
    label: str = ""
    type: str = "text"
    required: bool = False
    default: str | None = None  # never a sensitive parameter's
    help: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexEntry:
    name: str
    description: str
    category: str
    source: IndexSource
    format: str = "native"
    maintainers: tuple[str, ...] = ()
    # Newest first. Empty for a collection without version tags (Octopus's library): then
    # ``branch`` is followed and ``template_version`` is the file's own version there.
    versions: tuple[IndexVersion, ...] = ()
    branch: str | None = None
    template_version: int | None = None
    parameters: tuple[IndexParameter, ...] = ()
    modules: tuple[str, ...] = ()  # script modules it needs, "Name range"

    @property
    def newest(self) -> IndexVersion | None:
        stable = [v for v in self.versions if not v.parsed.is_prerelease]
        listed = stable or list(self.versions)
        return listed[0] if listed else None

    def version(self, text: str) -> IndexVersion | None:
        wanted = parse_version(text)
        return next((v for v in self.versions if v.parsed == wanted), None)


@dataclass(frozen=True)
class RegistryIndex:
    name: str
    description: str
    entries: tuple[IndexEntry, ...]

    def entry(self, name: str) -> IndexEntry | None:
        return next((e for e in self.entries if e.name == name), None)


# --- reading --------------------------------------------------------------------------------


def load(path: Path, *, display: str | None = None) -> RegistryIndex:
    return parse(path.read_text(encoding="utf-8"), display=display or str(path))


def parse(text: str, *, display: str) -> RegistryIndex:
    """Read an index; every mistake is a StepsError naming ``display`` and the line."""
    doc = tomlfile.parse(text, path=Path(display), display=display)
    root = doc.root()
    version = root.raw("format")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise root.error(
                "format",
                f"index format {version} is newer than this steps reads",
                hint="upgrade steps",
            )
        raise root.error(
            "format",
            f"'format' must be {FORMAT_VERSION}",
            hint="rebuild the index with `steps registry build`",
        )
    entries: list[IndexEntry] = []
    seen: dict[str, int] = {}
    for position, table in enumerate(root.tables("template")):
        entry = _entry(table)
        if entry.name in seen:
            # Lines are looked up only for messages: finding them costs more than parsing.
            first = tomlfile.key_lines(text).get(("template", seen[entry.name], "name"))
            raise table.error(
                "name", f"template '{entry.name}' is listed twice (first at line {first})"
            )
        seen[entry.name] = position
        entries.append(entry)
    result = RegistryIndex(
        name=root.string("name") or "",
        description=root.string("description") or "",
        entries=tuple(entries),
    )
    root.reject_unknown(_TOP_KEYS)
    return result


def _entry(table: tomlfile.Table) -> IndexEntry:
    name = table.required_string("name")
    if not NAME_PATTERN.fullmatch(name):
        raise table.error("name", f"'{name}' is not a usable template name")
    fmt = table.string("format", default="native")
    if fmt not in FORMATS:
        raise table.error("format", f"template '{name}': format must be one of {FORMATS}")
    source_table = table.table("source")
    if source_table is None:
        raise table.error(None, f"template '{name}': 'source' is required")
    entry = IndexEntry(
        name=name,
        description=table.string("description") or "",
        category=table.string("category") or "",
        source=_source(name, source_table),
        format=fmt or "native",
        maintainers=table.strings("maintainers"),
        versions=tuple(_version(name, t) for t in table.tables("versions")),
        branch=table.string("branch"),
        template_version=_integer(table, "template-version", name),
        parameters=tuple(_parameter(name, t) for t in table.tables("parameters")),
        modules=table.strings("modules"),
    )
    table.reject_unknown(_TEMPLATE_KEYS)
    return entry


def _source(name: str, table: tomlfile.Table) -> IndexSource:
    kinds = [kind for kind in SOURCE_KINDS if table.raw(kind) is not None]
    if len(kinds) != 1:
        raise table.error(
            None, f"template '{name}': source needs exactly one of " + ", ".join(SOURCE_KINDS)
        )
    kind = kinds[0]
    source = IndexSource(
        kind=kind,
        location=table.required_string(kind),
        id=table.string("id"),
        subdir=(table.string("subdir") or "").strip("/"),
        template=table.string("template"),
        tags=table.string("tags"),
        asset=table.string("asset"),
        from_tags=_github_versions(name, table) == "tags",
        api_url=table.string("api-url"),
    )
    if kind == "nuget" and not source.id:
        raise table.error(None, f"template '{name}': a nuget source needs 'id'")
    table.reject_unknown(_SOURCE_KEYS)
    return source


def _github_versions(name: str, table: tomlfile.Table) -> str:
    versions = table.string("versions", default="releases") or "releases"
    if versions not in GITHUB_VERSIONS:
        raise table.error("versions", f"template '{name}': versions must be 'releases' or 'tags'")
    return versions


def _version(name: str, table: tomlfile.Table) -> IndexVersion:
    text = table.required_string("version")
    try:
        parse_version(text)
    except ValueError:
        raise table.error("version", f"template '{name}': '{text}' is not a version") from None
    published = table.raw("published")
    if published is not None and not isinstance(published, datetime):
        raise table.error(
            "published",
            f"template '{name}' {text}: 'published' must be a "
            "date-time such as 2026-05-01T09:00:00Z",
        )
    result = IndexVersion(
        version=text,
        tag=table.string("tag"),
        commit=table.string("commit"),
        published=_utc(published) if published else None,
        notes=table.string("notes") or "",
        template_version=_integer(table, "template-version", name),
    )
    table.reject_unknown(_VERSION_KEYS)
    return result


def _parameter(name: str, table: tomlfile.Table) -> IndexParameter:
    result = IndexParameter(
        name=table.required_string("name"),
        label=table.string("label") or "",
        type=table.string("type") or "text",
        required=table.boolean("required", default=False),
        default=table.string("default"),
        help=table.string("help") or "",
        options=table.strings("options"),
    )
    table.reject_unknown(_PARAMETER_KEYS)
    return result


def _integer(table: tomlfile.Table, key: str, name: str) -> int | None:
    value = table.raw(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise table.error(key, f"template '{name}': '{key}' must be an integer")
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- writing --------------------------------------------------------------------------------


def render(index: RegistryIndex) -> str:
    """The index as TOML: templates by name, versions newest first, fixed key order."""
    lines = [HEADER, f"format = {FORMAT_VERSION}\n"]
    lines.append(f"name = {tomlfile.quote(index.name)}\n")
    if index.description:
        lines.append(f"description = {_text(index.description)}\n")
    for entry in sorted(index.entries, key=lambda e: e.name):
        lines.append("\n[[template]]\n")
        lines.extend(_entry_lines(entry))
    return "".join(lines)


def _entry_lines(entry: IndexEntry) -> list[str]:
    lines = [f"name = {tomlfile.quote(entry.name)}\n"]
    lines.append(f"description = {_text(entry.description)}\n")
    if entry.category:
        lines.append(f"category = {tomlfile.quote(entry.category)}\n")
    if entry.maintainers:
        lines.append(f"maintainers = {_array(entry.maintainers)}\n")
    lines.append(f"format = {tomlfile.quote(entry.format)}\n")
    lines.append(f"source = {_inline(_source_fields(entry.source))}\n")
    if entry.branch:
        lines.append(f"branch = {tomlfile.quote(entry.branch)}\n")
    if entry.template_version is not None:
        lines.append(f"template-version = {entry.template_version}\n")
    if entry.modules:
        lines.append(f"modules = {_array(entry.modules)}\n")
    lines.append(_listing("versions", [_version_fields(v) for v in entry.versions]))
    lines.append(_listing("parameters", [_parameter_fields(p) for p in entry.parameters]))
    return lines


def _source_fields(source: IndexSource) -> dict[str, Any]:
    fields: dict[str, Any] = {source.kind: source.location}
    if source.id:
        fields["id"] = source.id
    if source.subdir:
        fields["subdir"] = source.subdir
    if source.template:
        fields["template"] = source.template
    if source.tags:
        fields["tags"] = source.tags
    if source.asset:
        fields["asset"] = source.asset
    if source.from_tags:
        fields["versions"] = "tags"
    if source.api_url:
        fields["api-url"] = source.api_url
    return fields


def _version_fields(version: IndexVersion) -> dict[str, Any]:
    fields: dict[str, Any] = {"version": version.version}
    if version.tag:
        fields["tag"] = version.tag
    if version.commit:
        fields["commit"] = version.commit
    if version.published:
        fields["published"] = version.published
    if version.template_version is not None:
        fields["template-version"] = version.template_version
    if version.notes:
        fields["notes"] = version.notes
    return fields


def _parameter_fields(parameter: IndexParameter) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": parameter.name}
    if parameter.label:
        fields["label"] = parameter.label
    fields["type"] = parameter.type
    if parameter.required:
        fields["required"] = True
    if parameter.default is not None:
        fields["default"] = parameter.default
    if parameter.options:
        fields["options"] = list(parameter.options)
    if parameter.help:
        fields["help"] = parameter.help
    return fields


def _listing(key: str, items: list[dict[str, Any]]) -> str:
    if not items:
        return f"{key} = []\n"
    body = "".join(f"  {_inline(item)},\n" for item in items)
    return f"{key} = [\n{body}]\n"


def _inline(fields: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in fields.items()) + " }"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, list | tuple):
        return _array(value)
    return _text(str(value))


def _array(values: Any) -> str:
    return "[" + ", ".join(_value(v) for v in values) + "]"


_ESCAPED = re.compile(r'["\\\x00-\x1f\x7f]')
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def _text(value: str) -> str:
    # One line per value keeps an index diffable entry by entry: newlines are escaped, as
    # \n and \t rather than the \u forms of ``tomlfile.quote``, to stay readable.
    return '"' + _ESCAPED.sub(_escape, value) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04X}"


def check_name(name: str, where: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise StepsError(
            f"{where}: '{name}' is not a usable template name",
            hint="use letters, digits, '.', '_' and '-'",
        )
