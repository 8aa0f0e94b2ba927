"""The registries a user or project has configured: ``[registries.NAME]`` tables in the user
configuration file and in steps.toml, the project's winning on a shared name; and
``steps registry add``, ``list`` and ``remove``, which edit those tables."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates import fsutil, source_config, tomlfile
from steptemplates.errors import StepsError
from steptemplates.registries import location as registry_location
from steptemplates.registries.location import RegistryLocation

if TYPE_CHECKING:
    from steptemplates.manifest import Manifest
    from steptemplates.sources import SourceContext

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MANIFEST_FILE = "steps.toml"
_SCP_STYLE = re.compile(r"^[\w.-]+@[\w.-]+:")


def user_registries() -> dict[str, RegistryLocation]:
    """The registries in the user configuration file; relative paths are from its folder."""
    doc = source_config.user_config()
    if doc is None:
        return {}
    table = doc.root().table("registries")
    return registry_location.from_table(table, str(doc.path), doc.path.parent)


def configured(manifest: Manifest | None) -> dict[str, RegistryLocation]:
    """Every registry to read, by name: the user's, overlaid by the project's."""
    found = user_registries()
    if manifest is not None:
        found.update(manifest.registries)
    return dict(sorted(found.items()))


def project_registries(start: Path) -> tuple[Path | None, dict[str, RegistryLocation]]:
    """The nearest steps.toml above ``start`` and its ``[registries]``, read without the rest
    of the manifest: `steps search` needs nothing else from it, and should start quickly."""
    for directory in (start, *start.parents):
        path = directory / MANIFEST_FILE
        if path.is_file():
            return path, _declared_in(path)
    return None, {}


def configured_at(start: Path) -> dict[str, RegistryLocation]:
    """``configured`` for the project around ``start`` (if any), reading only its registries."""
    return {**user_registries(), **project_registries(start)[1]}


def select(
    locations: Mapping[str, RegistryLocation], name: str | None
) -> dict[str, RegistryLocation]:
    """All of ``locations``, or only the one named; an error when there are none to read."""
    if not locations:
        raise StepsError(
            "no registries are configured",
            hint="add one with `steps registry add NAME URL` (see docs/registries.md)",
        )
    if name is None:
        return dict(locations)
    if name not in locations:
        raise unknown_registry(name, locations)
    return {name: locations[name]}


def unknown_registry(name: str, locations: Mapping[str, RegistryLocation]) -> StepsError:
    close = difflib.get_close_matches(name, list(locations), n=1)
    known = ", ".join(sorted(locations)) or "none"
    hint = f"did you mean '{close[0]}'?" if close else f"configured: {known}"
    return StepsError(f"no registry named '{name}' is configured", hint=hint)


# --- steps registry add --------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryRequest:
    """``steps registry add NAME URL`` as given."""

    name: str
    url: str
    project: bool = False  # into steps.toml rather than the user configuration
    subdir: str | None = None
    branch: str | None = None
    git: bool = False  # a git repository, whatever the URL looks like


@dataclass(frozen=True)
class AddedRegistry:
    location: RegistryLocation
    file: Path
    replaced: bool
    templates: int | None  # in its index, when it was read (not with --offline)
    shadowed_by: Path | None = None  # the project's registry of the same name, which wins


def add(
    request: RegistryRequest,
    manifest_path: Path | None,
    context: SourceContext,
    *,
    refresh: bool = True,
) -> AddedRegistry:
    """Save a registry in the user config (or ``request.project``: steps.toml at
    ``manifest_path``) once its index has been read, so that a typo fails at once."""
    check_name(request.name)
    if request.project and manifest_path is None:
        raise StepsError(
            f"no {MANIFEST_FILE} here or in any parent directory for --project",
            hint="run `steps init`, or leave out --project to add it to your user config",
        )
    file = manifest_path if request.project and manifest_path else source_config.user_config_path()
    location = guess_location(request, file)
    templates = None
    if not context.offline:
        from steptemplates.registries import fetch

        templates = len(fetch.fetch_index(location, context, refresh=refresh).index.entries)
    text = file.read_text(encoding="utf-8") if file.is_file() else ""
    before = _declared(text, file)
    from steptemplates import manifest_edit  # tomlkit: only for the commands that edit

    new_text = manifest_edit.with_registry(text, location, display=str(file))
    _declared(new_text, file)  # what is written must read back
    file.parent.mkdir(parents=True, exist_ok=True)
    fsutil.write_text_atomic(file, new_text)
    shadowed = not request.project and request.name in _declared_in(manifest_path)
    return AddedRegistry(
        location, file, request.name in before, templates, manifest_path if shadowed else None
    )


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise StepsError(
            f"'{name}' is not a usable registry name",
            hint="use letters, digits, '.', '_' and '-', starting with a letter or digit",
        )


def guess_location(request: RegistryRequest, file: Path) -> RegistryLocation:
    """The location ``request.url`` names, as ``file`` will hold it: git, a static index
    URL, or a directory (relative to the file's folder when below it, else absolute)."""
    from steptemplates.manifest import url_holds_credentials

    url = request.url.strip()
    if url_holds_credentials(url):
        raise StepsError(
            f"registry '{request.name}': the URL has credentials written into it",
            hint="remove them, and add the host to ~/.netrc (docs/registries.md)",
        )
    # --subdir and --branch only mean something for git: they settle an https:// URL.
    kind = (
        "git" if request.git else _kind_of(url, git_options=bool(request.subdir or request.branch))
    )
    if kind != "git" and (request.subdir or request.branch):
        raise StepsError(
            "--subdir and --branch apply to registries in git repositories",
            hint="pass --git if the URL is a git repository",
        )
    written, resolved = url, None
    if kind == "path":
        resolved = Path(url).expanduser().resolve()
        written = _written_path(resolved, file.parent)
    elif kind == "url" and _is_local_folder(url):
        written = url.rstrip("/") + "/"  # the folder's index.toml
    subdir = (request.subdir or "").strip("/")
    return RegistryLocation(
        request.name, kind, written, subdir, request.branch, resolved, origin=str(file)
    )


def _kind_of(url: str, *, git_options: bool) -> str:
    lowered = url.lower().rstrip("/")
    if lowered.startswith(("git://", "ssh://", "git+ssh://")) or _SCP_STYLE.match(url):
        return "git"
    if lowered.endswith(".git"):
        return "git"
    if lowered.startswith("file://"):
        return "git" if _is_git_repository(_file_url_path(url)) else "url"
    if lowered.startswith(("http://", "https://")):
        if lowered.endswith(".toml") or url.endswith("/"):
            return "url"
        if git_options:
            return "git"
        raise StepsError(
            f"cannot tell whether {url} is a git repository or an index on a web host",
            hint="pass --git for a repository, or give the URL of its index.toml "
            "(or of its folder, ending in '/')",
        )
    if Path(url).expanduser().is_dir():
        return "path"
    raise StepsError(
        f"{url} is neither a URL nor an existing directory",
        hint="give a git URL, the URL of an index.toml, or a directory holding one",
    )


def _is_git_repository(path: Path) -> bool:
    """A work tree (with .git) or a bare repository."""
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def _file_url_path(url: str) -> Path:
    from urllib.parse import unquote, urlsplit

    return Path(unquote(urlsplit(url).path))


def _is_local_folder(url: str) -> bool:
    return url.lower().startswith("file://") and _file_url_path(url).is_dir()


def _written_path(resolved: Path, base: Path) -> str:
    base = base.resolve()
    if resolved == base or base in resolved.parents:
        return Path(os.path.relpath(resolved, base)).as_posix()
    return str(resolved)


def _declared(text: str, file: Path) -> dict[str, RegistryLocation]:
    """The ``[registries]`` of a steps.toml or user config text (checked as it is read)."""
    doc = tomlfile.parse(text, path=file, display=str(file))
    return registry_location.from_table(doc.root().table("registries"), str(file), file.parent)


# --- steps registry list -------------------------------------------------------------------


@dataclass(frozen=True)
class ListedRegistry:
    location: RegistryLocation
    file: Path  # where it is configured
    scope: str  # "project" or "user"
    templates: int | None  # from the cached copy, when there is one
    fetched_at: datetime | None
    shadowed: bool = False  # a user registry the project's of the same name hides


def listing(manifest_path: Path | None, cache_root: Path) -> list[ListedRegistry]:
    """Every configured registry, the project's first, with what the cache knows of it."""
    from steptemplates.registries import fetch

    user_file = source_config.user_config_path()
    project = _declared_in(manifest_path)
    rows = []
    for scope, file, declared in (
        ("project", manifest_path, project),
        ("user", user_file, user_registries()),
    ):
        for name, location in sorted(declared.items()):
            assert file is not None
            state = fetch.known_state(location, cache_root)
            rows.append(
                ListedRegistry(
                    location,
                    file,
                    scope,
                    state.templates if state else None,
                    state.fetched_at if state else None,
                    shadowed=scope == "user" and name in project,
                )
            )
    return rows


def _declared_in(manifest_path: Path | None) -> dict[str, RegistryLocation]:
    if manifest_path is None:
        return {}
    doc = tomlfile.load(manifest_path, display=MANIFEST_FILE)
    table = doc.root().table("registries")
    return registry_location.from_table(table, MANIFEST_FILE, manifest_path.parent)


# --- steps registry remove -----------------------------------------------------------------


def remove(name: str, manifest_path: Path | None, *, scope: str | None = None) -> Path:
    """Remove registry ``name`` from the file that declares it (``scope``: "project" or
    "user" when both do); returns that file."""
    candidates = {
        "project": manifest_path if name in _declared_in(manifest_path) else None,
        "user": source_config.user_config_path() if name in user_registries() else None,
    }
    found = {where: file for where, file in candidates.items() if file is not None}
    if scope is not None:
        found = {where: file for where, file in found.items() if where == scope}
    if not found:
        everywhere = {**user_registries(), **_declared_in(manifest_path)}
        where = f" in the {scope} configuration" if scope else ""
        error = unknown_registry(name, everywhere)
        raise StepsError(f"no registry named '{name}' is configured{where}", hint=error.hint)
    if len(found) > 1:
        raise StepsError(
            f"registry '{name}' is configured both in {found['project']} and in {found['user']}",
            hint="pass --project or --user to say which to remove",
        )
    (file,) = found.values()
    from steptemplates import manifest_edit

    text = file.read_text(encoding="utf-8")
    fsutil.write_text_atomic(file, manifest_edit.without_registry(text, name))
    return file
