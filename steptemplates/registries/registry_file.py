"""``registry.toml``: what a registry indexes, written by hand next to its ``index.toml``.

    name = "platform"
    description = "Deployment steps of the platform team"

    [[collection]]
    git = "."                        # the repository this file is in, or any git URL
    subdir = "templates"             # where to look, from the repository's top
    tags = "{name}/v*"               # which tags are versions (default: every version tag)
    maintainers = ["Platform team <platform@example.com>"]

    [collection.templates.iis-deploy]  # one template's overrides, by its short name
    category = "iis"

    [[collection]]
    github = "acme/deploy-templates"  # a template released on GitHub (or: nuget = URL, ids = [...])
    asset = "deploy-*.zip"

Reading is strict: unknown keys and malformed patterns are errors naming the file and line
(docs/registry-format.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from steptemplates import tomlfile
from steptemplates.registries.index import NAME_PATTERN, SAME_REPOSITORY
from steptemplates.versions import Version, version_from_tag

FILE_NAME = "registry.toml"
NAME_PLACEHOLDER = "{name}"
DEFAULT_TAGS = "*"
_TOP_KEYS = ("name", "description", "collection")
_COLLECTION_KEYS = (
    "git",
    "subdir",
    "include",
    "tags",
    "branch",
    "name",
    "category",
    "maintainers",
    "templates",
)
_OVERRIDE_KEYS = ("name", "description", "category", "maintainers")
# What every feed collection takes; each kind adds its own.
_FEED_KEYS = ("subdir", "template", "name", "category", "maintainers", "templates")
_GITHUB_KEYS = ("github", "api-url", "asset", "versions", *_FEED_KEYS)
_NUGET_KEYS = ("nuget", "ids", *_FEED_KEYS)
GITHUB = "github"
NUGET = "nuget"
_GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_PACKAGE_ID = re.compile(r"[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*")
# What ``{name}`` stands for in a tag: a name as ``discovery.slug`` makes them; and ``*``:
# something starting like a version. The name is greedy, so that in ``{name}-v*`` a name
# holding "-v" ("my-v2-tool-v1.0.0") is read whole.
_NAME_GROUP = r"(?P<name>[a-z0-9][a-z0-9._-]*)"
_VERSION_GROUP = r"(?P<version>[vV]?[0-9].*)"


@dataclass(frozen=True)
class TagPattern:
    """Which tags are versions: ``*`` stands for the version (read as ``version_from_tag``
    reads a tag, so ``v`` is optional), ``{name}`` for a template's own name."""

    text: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    @property
    def per_template(self) -> bool:
        return NAME_PLACEHOLDER in self.text

    @property
    def is_default(self) -> bool:
        return self.text == DEFAULT_TAGS

    def read(self, tag: str) -> tuple[str | None, Version] | None:
        """The template name (with ``{name}``) and version ``tag`` stands for, or None."""
        match = self.regex.fullmatch(tag)
        if match is None:
            return None
        version = version_from_tag(match["version"])
        if version is None:
            return None
        return (match["name"] if self.per_template else None), version

    def for_template(self, name: str) -> str:
        """The pattern of one template's tags: ``{name}`` filled in."""
        return self.text.replace(NAME_PLACEHOLDER, name)


@dataclass(frozen=True)
class TemplateOverride:
    """What registry.toml says about one template instead of what the template says."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    maintainers: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)  # "registry.toml:12", for messages


@dataclass(frozen=True)
class Collection:
    """One place templates live: a git repository, and where and how to read it."""

    git: str  # a URL, or "." for the repository holding registry.toml
    subdir: str = ""
    include: tuple[str, ...] = ()  # globs from subdir; empty: every template found
    tags: TagPattern = field(default_factory=lambda: tag_pattern(DEFAULT_TAGS))
    branch: str | None = None  # followed by templates no version tag holds; None: HEAD's
    name_pattern: str = NAME_PLACEHOLDER
    category: str | None = None
    maintainers: tuple[str, ...] = ()
    overrides: Mapping[str, TemplateOverride] = field(default_factory=dict)
    origin: str = ""  # "registry/registry.toml:5", for messages

    @property
    def same_repository(self) -> bool:
        return self.git == SAME_REPOSITORY

    def short_name(self, own_name: str) -> str:
        return self.name_pattern.replace(NAME_PLACEHOLDER, own_name)


@dataclass(frozen=True)
class FeedCollection:
    """Templates published to a feed: one GitHub repository's releases (or tags), one
    template; or packages of a NuGet feed, one template per id."""

    kind: str  # GITHUB or NUGET
    location: str  # owner/repository, or the NuGet feed's service index URL
    ids: tuple[str, ...] = ()  # NuGet package ids
    api_url: str | None = None  # GitHub's API base as written; None: the default
    asset: str | None = None  # a release asset's glob; None: the source archive
    from_tags: bool = False  # GitHub: versions from SemVer tags rather than releases
    subdir: str = ""  # the template's directory inside the asset, archive or package
    template: str | None = None  # the template file after subdir (an Octopus JSON file)
    name_pattern: str = NAME_PLACEHOLDER
    category: str | None = None
    maintainers: tuple[str, ...] = ()
    overrides: Mapping[str, TemplateOverride] = field(default_factory=dict)
    origin: str = ""

    def short_name(self, own_name: str) -> str:
        return self.name_pattern.replace(NAME_PLACEHOLDER, own_name)

    @property
    def shown(self) -> str:
        """The collection as messages name it."""
        return f"GitHub repository {self.location}" if self.kind == GITHUB else self.location


AnyCollection = Collection | FeedCollection


@dataclass(frozen=True)
class RegistryFile:
    name: str
    description: str
    collections: tuple[AnyCollection, ...]
    display: str


def load(path: Path, *, display: str | None = None) -> RegistryFile:
    shown = display or str(path)
    return parse(tomlfile.load(path, display=shown))


def parse(doc: tomlfile.TomlDocument) -> RegistryFile:
    root = doc.root()
    name = root.required_string("name").strip()
    if not name:
        raise root.error("name", "'name' must not be empty", hint="name the registry")
    description = (root.string("description") or "").strip()
    tables = root.tables("collection")
    if not tables:
        raise root.error(
            None,
            "no [[collection]] tables: there is nothing to index",
            hint='add one, e.g. [[collection]] with git = "." and subdir = "templates"',
        )
    collections = tuple(_collection(table) for table in tables)
    root.reject_unknown(_TOP_KEYS)
    return RegistryFile(name, description, collections, doc.display)


def _collection(table: tomlfile.Table) -> AnyCollection:
    kinds = [kind for kind in ("git", GITHUB, NUGET) if table.raw(kind) is not None]
    if len(kinds) > 1:
        raise table.error(
            kinds[1],
            f"a [[collection]] is one place: give one of 'git', 'github' and 'nuget', not "
            f"'{kinds[0]}' and '{kinds[1]}'",
            hint="split it into two [[collection]] tables",
        )
    if kinds == [GITHUB]:
        return _github_collection(table)
    if kinds == [NUGET]:
        return _nuget_collection(table)
    return _git_collection(table)


def _git_collection(table: tomlfile.Table) -> Collection:
    collection = Collection(
        git=_git(table),
        subdir=_relative_path(table, "subdir"),
        include=_include(table),
        tags=_tags(table),
        branch=_branch(table),
        name_pattern=_name_pattern(table),
        category=_optional_text(table, "category"),
        maintainers=table.strings("maintainers"),
        overrides=_overrides(table.table("templates")),
        origin=_origin(table),
    )
    table.reject_unknown(_COLLECTION_KEYS)
    return collection


def _origin(table: tomlfile.Table) -> str:
    line = tomlfile.locate_key(table.doc.text, table.key_path)
    return f"{table.doc.display}:{line}" if line else table.doc.display


def _git(table: tomlfile.Table) -> str:
    if table.raw("git") is None:
        raise table.error(
            None,
            "a [[collection]] needs 'git': a repository URL, or \".\" for the repository "
            "registry.toml is in",
            hint="or 'github' (owner/repository) for GitHub releases, or 'nuget' (a feed's "
            "service index URL) with 'ids'",
        )
    url = table.required_string("git").strip()
    if not url:
        raise table.error("git", "'git' must not be empty")
    if url != SAME_REPOSITORY and not url.startswith("/") and ":" not in url.split("/")[0]:
        # A relative path would mean a different repository from every other directory.
        raise table.error(
            "git",
            f"'{url}' is a relative path",
            hint='use a URL (file:///... for a repository on this machine), or "." for the '
            "repository registry.toml is in",
        )
    return url


def _relative_path(table: tomlfile.Table, key: str) -> str:
    text = (table.string(key) or "").strip().strip("/")
    parts = PurePosixPath(text).parts if text else ()
    if "\\" in text or any(part in ("..", ".") for part in parts):
        raise table.error(
            key, f"'{key}' must be a path inside the repository, with '/' between folders"
        )
    return "/".join(parts)


def _include(table: tomlfile.Table) -> tuple[str, ...]:
    globs = table.strings("include")
    for glob in globs:
        if glob.startswith("/") or ".." in PurePosixPath(glob).parts:
            raise table.error(
                "include", f"include glob '{glob}' must be relative to the collection's subdir"
            )
    return globs


def tag_pattern(text: str) -> TagPattern:
    """``text`` as a tag pattern; ValueError saying what is wrong with it."""
    if text.count("*") != 1:
        raise ValueError("needs exactly one '*', where the version is")
    rest = text.replace(NAME_PLACEHOLDER, "", 1)
    if NAME_PLACEHOLDER in rest or "{" in rest or "}" in rest:
        raise ValueError("may hold '{name}' once, and no other braces")
    regex = "".join(
        _NAME_GROUP
        if part == NAME_PLACEHOLDER
        else _VERSION_GROUP
        if part == "*"
        else re.escape(part)
        for part in re.split(r"(\{name\}|\*)", text)
        if part
    )
    return TagPattern(text, re.compile(regex))


def _tags(table: tomlfile.Table) -> TagPattern:
    text = table.string("tags", default=DEFAULT_TAGS) or DEFAULT_TAGS
    try:
        return tag_pattern(text)
    except ValueError as exc:
        raise table.error(
            "tags",
            f"tag pattern '{text}' {exc}",
            hint='e.g. "v*", "release-*" or "{name}/v*" for one series of tags per template',
        ) from None


def _branch(table: tomlfile.Table) -> str | None:
    branch = table.string("branch")
    if branch is not None and not branch.strip():
        raise table.error("branch", "'branch' must not be empty")
    return branch.strip() if branch else None


def _name_pattern(table: tomlfile.Table) -> str:
    text = table.string("name", default=NAME_PLACEHOLDER) or NAME_PLACEHOLDER
    rest = text.replace(NAME_PLACEHOLDER, "x", 1)
    if NAME_PLACEHOLDER not in text or not NAME_PATTERN.fullmatch(rest):
        raise table.error(
            "name",
            f"name pattern '{text}' must hold '{{name}}' once, with letters, digits, '.', '_' "
            "and '-' around it",
            hint='e.g. "octopus-{name}"',
        )
    return text


def _optional_text(table: tomlfile.Table, key: str) -> str | None:
    value = table.string(key)
    return value.strip() if value is not None else None


def _overrides(table: tomlfile.Table | None) -> dict[str, TemplateOverride]:
    if table is None:
        return {}
    found: dict[str, TemplateOverride] = {}
    for name, entry in table.subtables():
        override = TemplateOverride(
            name=_override_name(entry),
            description=_optional_text(entry, "description"),
            category=_optional_text(entry, "category"),
            maintainers=entry.strings("maintainers"),
            origin=_origin(entry),
        )
        entry.reject_unknown(_OVERRIDE_KEYS)
        found[name] = override
    return found


def _override_name(entry: tomlfile.Table) -> str | None:
    name = entry.string("name")
    if name is not None and not NAME_PATTERN.fullmatch(name):
        raise entry.error(
            "name",
            f"'{name}' is not a usable template name",
            hint="use letters, digits, '.', '_' and '-'",
        )
    return name


# --- feeds ------------------------------------------------------------------------------


def _github_collection(table: tomlfile.Table) -> FeedCollection:
    repo = table.required_string(GITHUB).strip()
    if not _GITHUB_REPO.fullmatch(repo):
        raise table.error(
            GITHUB, f"'{repo}' is not owner/repository", hint='e.g. "acme/deploy-templates"'
        )
    versions = table.string("versions", default="releases")
    if versions not in ("releases", "tags"):
        raise table.error("versions", f"versions must be 'releases' or 'tags', not '{versions}'")
    asset = table.string("asset")
    if asset is not None and versions == "tags":
        raise table.error(
            "asset",
            "release assets need versions = 'releases'",
            hint="remove 'asset' to index the source archive at each tag",
        )
    api_url = table.string("api-url")
    if api_url is not None:
        _check_url(table, "api-url", api_url, "e.g. https://HOST/api/v3 for GitHub Enterprise")
    return replace(
        _feed_collection(table, GITHUB, repo, _GITHUB_KEYS),
        api_url=api_url.rstrip("/") if api_url else None,
        asset=asset,
        from_tags=versions == "tags",
    )


def _nuget_collection(table: tomlfile.Table) -> FeedCollection:
    feed = table.required_string(NUGET).strip()
    _check_url(table, NUGET, feed, "give the feed's service index URL (.../v3/index.json)")
    ids = table.strings("ids")
    if not ids:
        raise table.error(
            None,
            "a nuget [[collection]] needs 'ids': the packages to index, one template each",
            hint='e.g. ids = ["Acme.Templates.Iis"]',
        )
    seen: set[str] = set()
    for package_id in ids:
        if not _PACKAGE_ID.fullmatch(package_id):
            raise table.error("ids", f"'{package_id}' is not a NuGet package id")
        if package_id.lower() in seen:
            raise table.error("ids", f"'{package_id}' is listed twice (ids are case-insensitive)")
        seen.add(package_id.lower())
    return replace(_feed_collection(table, NUGET, feed, _NUGET_KEYS), ids=ids)


def _feed_collection(
    table: tomlfile.Table, kind: str, location: str, keys: tuple[str, ...]
) -> FeedCollection:
    """The keys every feed collection takes; the caller has read its own already."""
    collection = FeedCollection(
        kind=kind,
        location=location,
        subdir=_relative_path(table, "subdir"),
        template=_relative_path(table, "template") or None,
        name_pattern=_name_pattern(table),
        category=_optional_text(table, "category"),
        maintainers=table.strings("maintainers"),
        overrides=_overrides(table.table("templates")),
        origin=_origin(table),
    )
    table.reject_unknown(keys)
    return collection


def _check_url(table: tomlfile.Table, key: str, url: str, hint: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "file") or (
        parts.scheme != "file" and not parts.netloc
    ):
        raise table.error(key, f"'{url}' is not an http(s) or file:// URL", hint=hint)
    if parts.username or parts.password:
        raise table.error(
            key,
            f"'{key}' must not hold credentials",
            hint="put them in ~/.netrc for the host, where steps finds them",
        )
