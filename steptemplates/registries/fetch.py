"""Getting a registry's index: from a git repository (through the cache's mirror), from a
web host or ``file://`` URL (through the run's HTTP client), or from a directory.

The last copy of each git or URL registry is kept in the cache, under
``registries/<hash of the location>/``, each file written atomically:

    index.toml             the text as fetched
    parsed-<sha256>.json   the index as JSON, named by the text's sha256: reading JSON is
                           about fifteen times faster than parsing TOML
    rows-<sha256>.json     just what `steps search` reads of each entry, a tenth of that,
                           so a search of thousands of templates builds no full index
    state.json             when it was fetched, the text's sha256, the commit it came from
                           and the number of templates; written last

A copy younger than ``STEPS_REGISTRY_MAX_AGE`` seconds (default 600) is used as it is;
older, the registry is fetched again (``refresh`` forces that). Offline, the last copy is
used whatever its age. A directory registry is read afresh every time; its JSON forms are
kept too, so a large local index is parsed once per change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steptemplates import fsutil
from steptemplates.errors import OfflineError, StepsError
from steptemplates.registries import index as registry_index
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)
from steptemplates.registries.location import RegistryLocation
from steptemplates.registries.search import SearchRow, rows_of

if TYPE_CHECKING:
    from steptemplates.sources import SourceContext

MAX_AGE_VARIABLE = "STEPS_REGISTRY_MAX_AGE"
DEFAULT_MAX_AGE = 600.0
CACHE_DIR = "registries"
# Bumped whenever a JSON form changes, so a newer steps never reads an older layout.
PARSED_FORMAT = 1
_TEXT, _STATE = "index.toml", "state.json"
_PARSED, _ROWS = "parsed", "rows"  # file name prefixes
_KEEP_EARLIER_SECONDS = 3600.0


@dataclass(frozen=True)
class FetchedIndex:
    """A registry's index as read, loaded on first use: a search reads only ``rows``."""

    location: RegistryLocation
    # What ``git = "."`` in the index stands for: the registry's git URL, or file:// and
    # the top of the git work tree a directory registry is in; None otherwise.
    repository: str | None
    fetched_at: datetime  # when the copy used was fetched (read, for a directory)
    load_index: Callable[[], RegistryIndex] = field(repr=False, compare=False)
    load_rows: Callable[[], tuple[SearchRow, ...]] = field(repr=False, compare=False)

    @classmethod
    def of(
        cls,
        index: RegistryIndex,
        location: RegistryLocation,
        repository: str | None = None,
        fetched_at: datetime | None = None,
    ) -> FetchedIndex:
        """An index already in memory."""
        when = fetched_at or datetime.now(UTC)
        return cls(location, repository, when, lambda: index, lambda: rows_of(index))

    @property
    def name(self) -> str:
        return self.location.name

    @cached_property
    def index(self) -> RegistryIndex:
        return self.load_index()

    @cached_property
    def rows(self) -> tuple[SearchRow, ...]:
        return self.load_rows()


@dataclass(frozen=True)
class CachedState:
    """What the cache knows of a registry without reading its index."""

    fetched_at: datetime
    sha256: str
    templates: int
    repository: str | None
    commit: str | None  # the git commit the copy was read from


@dataclass(frozen=True)
class Gathered:
    """The indexes of several registries; ``warnings`` name those that could not be read."""

    indexes: tuple[FetchedIndex, ...]
    warnings: tuple[str, ...]


# --- one registry ------------------------------------------------------------------------------


def fetch_index(
    location: RegistryLocation, context: SourceContext, *, refresh: bool = False
) -> FetchedIndex:
    """The index of ``location``: the cached copy while it is fresh (any age offline),
    else fetched; a malformed index is a StepsError naming the registry, file and line."""
    if location.kind == "path":
        return _read_directory(location, context.cache.root)
    store = _Store(context.cache.root, location)
    if not refresh or context.offline:
        kept = store.fresh(None if context.offline else max_age())
        if kept is not None:
            return kept
    if context.offline:
        raise OfflineError(
            f"registry '{location.name}' ({location.describe()}) has not been fetched yet "
            "and --offline forbids fetching it",
            hint="run the command once without --offline",
        )
    if location.kind == "git":
        return _fetch_git(location, context, store)
    return _fetch_url(location, context, store)


def last_copy(location: RegistryLocation, cache_root: Path) -> FetchedIndex | None:
    """The copy fetched last, whatever its age; None when there is none."""
    if location.kind == "path":
        return None
    return _Store(cache_root, location).fresh(None)


def known_state(location: RegistryLocation, cache_root: Path) -> CachedState | None:
    """When ``location`` was last fetched and how many templates it had, without the
    network: from the cache, or for a directory from the directory itself."""
    if location.kind != "path":
        return _Store(cache_root, location).state()
    try:
        read = _read_directory(location, cache_root)
        return CachedState(read.fetched_at, "", len(read.rows), read.repository, None)
    except StepsError:
        return None


def max_age() -> float:
    """Seconds a fetched copy is used without asking the registry again."""
    value = os.environ.get(MAX_AGE_VARIABLE, "").strip()
    if not value:
        return DEFAULT_MAX_AGE
    try:
        seconds = float(value)
        if not 0 <= seconds < float("inf"):
            raise ValueError(value)
    except ValueError:
        raise StepsError(
            f"{MAX_AGE_VARIABLE} must be a number of seconds (0 or more), not {value!r}"
        ) from None
    return seconds


# --- several registries ------------------------------------------------------------------------


def fetch_all(
    locations: Sequence[RegistryLocation],
    cache_root: Path,
    connect: Callable[[], SourceContext],
    *,
    offline: bool = False,
    refresh: bool = False,
) -> Gathered:
    """The indexes of ``locations``, fetched in parallel where needed.

    A registry that cannot be read becomes a warning naming it (its last copy is used when
    there is one) and the others are still read; when none can be read, the first error is
    raised. ``connect`` makes the sources' context, once, and only if some registry needs
    it: a search of fresh copies imports neither the HTTP nor the git client.
    """
    found: dict[str, FetchedIndex] = {}
    warnings: list[str] = []
    errors: list[StepsError] = []

    def failed(location: RegistryLocation, error: StepsError) -> None:
        errors.append(error)
        fallback = last_copy(location, cache_root)
        warnings.append(_unreadable(location, error, fallback))
        if fallback is not None:
            found[location.name] = fallback

    pending = []
    for location in locations:
        if location.kind == "path":
            try:
                found[location.name] = _read_directory(location, cache_root)
            except StepsError as error:
                failed(location, error)
            continue
        kept = None
        if offline or not refresh:
            kept = _Store(cache_root, location).fresh(None if offline else max_age())
        if kept is None:
            pending.append(location)
        else:
            found[location.name] = kept
    if pending:
        from steptemplates import parallel

        context = connect()
        outcomes = parallel.run_all([_attempt(location, context, refresh) for location in pending])
        for location, outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, FetchedIndex):
                found[location.name] = outcome
            else:
                failed(location, outcome)
    if not found and errors:
        raise errors[0]
    ordered = tuple(found[loc.name] for loc in locations if loc.name in found)
    return Gathered(ordered, tuple(warnings))


def _attempt(
    location: RegistryLocation, context: SourceContext, refresh: bool
) -> Callable[[], FetchedIndex | StepsError]:
    def job() -> FetchedIndex | StepsError:
        try:
            return fetch_index(location, context, refresh=refresh)
        except StepsError as error:
            return error

    return job


def _unreadable(
    location: RegistryLocation, error: StepsError, fallback: FetchedIndex | None
) -> str:
    text = str(error)
    if f"'{location.name}'" not in text:
        text = f"registry '{location.name}' ({location.describe()}): {text}"
    if fallback is None:
        return f"{text} (left out)"
    return f"{text} (using the copy fetched {_describe_age(fallback.fetched_at)})"


def _describe_age(when: datetime, now: datetime | None = None) -> str:
    """``3 minutes ago``, ``2 days ago``: how old a copy is, for messages."""
    seconds = max(0.0, ((now or datetime.now(UTC)) - when).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


# --- the kinds of registry ---------------------------------------------------------------------


def _read_directory(location: RegistryLocation, cache_root: Path) -> FetchedIndex:
    assert location.resolved is not None
    directory = location.resolved
    path = directory / registry_index.FILE_NAME
    display = f"registry '{location.name}': {path}"
    if not directory.is_dir():
        raise StepsError(
            f"registry '{location.name}': the directory {directory} does not exist",
            hint=f"fix 'path' in {location.origin or 'its table'}, or remove it with "
            f"`steps registry remove {location.name}`",
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StepsError(
            f"registry '{location.name}': {directory} holds no {registry_index.FILE_NAME}",
            hint=f"build it with `steps registry build {directory}`",
        ) from None
    except OSError as error:
        raise StepsError(f"{display}: cannot read ({error.strerror or error})") from None
    return _Store(cache_root, location).read(data, display, _work_tree_url(directory))


def _work_tree_url(directory: Path) -> str | None:
    """``file://`` and the top of the git work tree holding ``directory``, if one does."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate.as_uri()
    return None


def _fetch_git(location: RegistryLocation, context: SourceContext, store: _Store) -> FetchedIndex:
    from steptemplates import git  # dulwich: only when a registry is fetched from git

    url = location.location
    path = "/".join(p for p in (location.subdir, registry_index.FILE_NAME) if p)
    display = f"registry '{location.name}' (git {url}): {path}"
    credentials = context.git_credentials(url)
    with context.cache.locked_mirror(url) as mirror:
        refs = git.list_remote_refs(url, credentials)
        git.write_ref_snapshot(mirror, refs)
        branch = location.branch or (refs.head or "").removeprefix("refs/heads/")
        head = refs.branch(branch) if branch else None
        if head is None:
            raise StepsError(
                f"registry '{location.name}': {url} has no branch '{branch or 'HEAD'}'",
                hint="name an existing branch with 'branch' in the registry's table",
            )
        previous = store.state()
        if previous is not None and previous.commit == head.commit_sha:
            kept = store.fresh(None)
            if kept is not None:  # the branch has not moved: the copy is current again
                return store.touch(kept, previous)
        git.fetch(mirror, url, [head.commit_sha], credentials)
        with fsutil.temporary_directory(context.cache.staging_dir, "registry-") as staging:
            target = staging / registry_index.FILE_NAME
            try:
                git.extract_file(mirror, head.commit_sha, path, target)
            except git.MissingFileError:
                raise StepsError(
                    f"registry '{location.name}': {url} has no {path} on branch '{branch}'",
                    hint="check the registry's 'subdir', or build the index with "
                    "`steps registry build` and push it",
                ) from None
            data = target.read_bytes()
    return store.save(data, display, url, head.commit_sha)


def _fetch_url(location: RegistryLocation, context: SourceContext, store: _Store) -> FetchedIndex:
    url = _index_url(location.location)
    label = f"registry '{location.name}'"
    downloaded = context.http().download(url, context.cache.staging_dir, label=label)
    try:
        data = downloaded.path.read_bytes()
    finally:
        downloaded.path.unlink(missing_ok=True)
    return store.save(data, f"{label}: {url}", None, None)


def _index_url(url: str) -> str:
    """The index a URL registry names: the URL itself, or ``index.toml`` in a folder URL."""
    return url + registry_index.FILE_NAME if url.endswith("/") else url


# --- the cached copy ---------------------------------------------------------------------------


class _Store:
    """One registry's files in the cache."""

    def __init__(self, cache_root: Path, location: RegistryLocation) -> None:
        self.location = location
        identity = "\n".join(
            (location.kind, str(location.resolved or location.location), location.subdir)
            + ((location.branch or "",) if location.kind == "git" else ())
        )
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
        self.directory = cache_root / CACHE_DIR / key

    def state(self) -> CachedState | None:
        try:
            record = json.loads((self.directory / _STATE).read_bytes())
            return CachedState(
                fetched_at=datetime.fromisoformat(record["fetched_at"]),
                sha256=str(record["sha256"]),
                templates=int(record["templates"]),
                repository=record["repository"],
                commit=record["commit"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: fetched again

    def fresh(self, seconds: float | None) -> FetchedIndex | None:
        """The cached copy if it is younger than ``seconds`` (any age for None)."""
        state = self.state()
        if state is None:
            return None
        age = time.time() - state.fetched_at.timestamp()
        if seconds is not None and not 0 <= age < seconds:
            return None
        if not self._has_derived(state.sha256):
            # Only the text is left (a damaged cache?): parsed now, or fetched again.
            try:
                self._keep_parsed(self._text(state.sha256), "cached copy")
            except (OSError, StepsError):
                return None
        text = partial(self._text, state.sha256)
        return self._copy(state.sha256, text, state.repository, state.fetched_at)

    def read(self, data: bytes, display: str, repository: str | None) -> FetchedIndex:
        """``data``, just read from the registry, as an index (parsed only if new)."""
        sha256 = self._keep_parsed(data, display)
        return self._copy(sha256, lambda: data, repository, datetime.now(UTC))

    def save(
        self, data: bytes, display: str, repository: str | None, commit: str | None
    ) -> FetchedIndex:
        """Keep ``data``, just fetched: checked and parsed first, so nothing broken is kept."""
        sha256 = self._keep_parsed(data, display)
        fsutil.write_bytes_atomic(self.directory / _TEXT, data)
        fetched = self._copy(sha256, lambda: data, repository, datetime.now(UTC))
        count = len(fetched.rows)
        self._write_state(CachedState(fetched.fetched_at, sha256, count, repository, commit))
        return fetched

    def touch(self, kept: FetchedIndex, state: CachedState) -> FetchedIndex:
        """Record that the kept copy was found current just now."""
        renewed = replace(state, fetched_at=datetime.now(UTC))
        self._write_state(renewed)
        return replace(kept, fetched_at=renewed.fetched_at)

    def _write_state(self, state: CachedState) -> None:
        record = {
            "fetched_at": state.fetched_at.isoformat(),
            "sha256": state.sha256,
            "templates": state.templates,
            "repository": state.repository,
            "commit": state.commit,
        }
        fsutil.write_text_atomic(self.directory / _STATE, json.dumps(record, indent=1))

    # --- the JSON forms, named by the text's sha256 ---

    def _derived(self, prefix: str, sha256: str) -> Path:
        return self.directory / f"{prefix}-{sha256}.json"

    def _has_derived(self, sha256: str) -> bool:
        return all(self._derived(prefix, sha256).is_file() for prefix in (_PARSED, _ROWS))

    def _keep_parsed(self, data: bytes, display: str) -> str:
        """Parse ``data`` unless its JSON forms are kept already; returns its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if self._has_derived(sha256):
            return sha256
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise StepsError(
                f"{display}: not valid UTF-8 ({error.reason} at byte {error.start})"
            ) from None
        index = registry_index.parse(text, display=display)
        self._write_derived(_PARSED, sha256, index_to_json(index))
        self._write_derived(_ROWS, sha256, [_row_to_json(row) for row in rows_of(index)])
        self._forget_older(sha256)
        return sha256

    def _forget_older(self, sha256: str) -> None:
        """Remove the JSON forms of earlier texts, once no process can still be reading
        them: one that chose a copy a moment ago loads its forms after this one wrote."""
        cutoff = time.time() - _KEEP_EARLIER_SECONDS
        for earlier in self.directory.glob("*-*.json"):
            with contextlib.suppress(OSError):
                if sha256 not in earlier.name and earlier.stat().st_mtime < cutoff:
                    earlier.unlink()

    def _write_derived(self, prefix: str, sha256: str, data: object) -> None:
        record = {"format": PARSED_FORMAT, "data": data}
        fsutil.write_text_atomic(self._derived(prefix, sha256), json.dumps(record))

    def _copy(
        self, sha256: str, text: Callable[[], bytes], repository: str | None, when: datetime
    ) -> FetchedIndex:
        """The copy with this sha256, read on first use; ``text`` gives its text again if a
        JSON form turns out damaged."""

        def load_index() -> RegistryIndex:
            return index_from_json(self._load(_PARSED, sha256, text))

        def load_rows() -> tuple[SearchRow, ...]:
            return tuple(_row_from_json(item) for item in self._load(_ROWS, sha256, text))

        return FetchedIndex(self.location, repository, when, load_index, load_rows)

    def _load(self, prefix: str, sha256: str, text: Callable[[], bytes]) -> Any:
        try:
            record = json.loads(self._derived(prefix, sha256).read_bytes())
            if record["format"] != PARSED_FORMAT:
                raise ValueError("another layout")
            return record["data"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        # Gone or damaged since the copy was chosen: made again from the text.
        try:
            self._derived(prefix, sha256).unlink(missing_ok=True)
            self._keep_parsed(text(), f"registry '{self.location.name}' (cached copy)")
            return json.loads(self._derived(prefix, sha256).read_bytes())["data"]
        except (OSError, ValueError, KeyError, TypeError):
            raise StepsError(
                f"registry '{self.location.name}': the cached copy is damaged",
                hint="run the command again with --refresh",
            ) from None

    def _text(self, sha256: str) -> bytes:
        """The kept text, if it is the one with this sha256; OSError otherwise."""
        data = (self.directory / _TEXT).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise OSError("the kept text has changed")
        return data


# --- the JSON form -----------------------------------------------------------------------------
# Field names as in the records, defaults left out; also what `steps info --json` prints.


def index_to_json(index: RegistryIndex) -> dict[str, Any]:
    return {
        "name": index.name,
        "description": index.description,
        "entries": [entry_to_json(entry) for entry in index.entries],
    }


def entry_to_json(entry: IndexEntry) -> dict[str, Any]:
    source = entry.source
    result: dict[str, Any] = {
        "name": entry.name,
        "description": entry.description,
        "category": entry.category,
        "format": entry.format,
        "source": _without_empty({f.name: getattr(source, f.name) for f in fields(source)}),
        "maintainers": list(entry.maintainers),
        "versions": [_version_to_json(v) for v in entry.versions],
        "parameters": [_parameter_to_json(p) for p in entry.parameters],
        "modules": list(entry.modules),
    }
    if entry.branch:
        result["branch"] = entry.branch
    if entry.template_version is not None:
        result["template_version"] = entry.template_version
    return result


def _version_to_json(version: IndexVersion) -> dict[str, Any]:
    return _without_empty(
        {
            "version": version.version,
            "tag": version.tag,
            "commit": version.commit,
            "published": version.published.isoformat() if version.published else None,
            "notes": version.notes,
            "template_version": version.template_version,
        }
    )


def _parameter_to_json(parameter: IndexParameter) -> dict[str, Any]:
    result = _without_empty(
        {
            "name": parameter.name,
            "label": parameter.label,
            "type": parameter.type,
            "default": parameter.default,
            "help": parameter.help,
            "options": list(parameter.options),
        }
    )
    if parameter.required:
        result["required"] = True
    return result


def _without_empty(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def _row_to_json(row: SearchRow) -> list[str]:
    return [row.name, row.category, row.description, row.parameters, row.newest, row.branch]


def _row_from_json(item: list[str]) -> SearchRow:
    return SearchRow(*item)


def index_from_json(data: dict[str, Any]) -> RegistryIndex:
    return RegistryIndex(
        name=data["name"],
        description=data["description"],
        entries=tuple(_entry_from_json(item) for item in data["entries"]),
    )


def _entry_from_json(data: dict[str, Any]) -> IndexEntry:
    source = data["source"]
    return IndexEntry(
        name=data["name"],
        description=data["description"],
        category=data["category"],
        source=IndexSource(**source),
        format=data["format"],
        maintainers=tuple(data["maintainers"]),
        versions=tuple(map(_version_from_json, data["versions"])),
        branch=data.get("branch"),
        template_version=data.get("template_version"),
        parameters=tuple(map(_parameter_from_json, data["parameters"])),
        modules=tuple(data["modules"]),
    )


def _version_from_json(data: dict[str, Any]) -> IndexVersion:
    published = data.get("published")
    return IndexVersion(
        version=data["version"],
        tag=data.get("tag"),
        commit=data.get("commit"),
        published=datetime.fromisoformat(published) if published else None,
        notes=data.get("notes", ""),
        template_version=data.get("template_version"),
    )


def _parameter_from_json(data: dict[str, Any]) -> IndexParameter:
    return IndexParameter(
        name=data["name"],
        label=data.get("label", ""),
        type=data.get("type", "text"),
        required=data.get("required", False),
        default=data.get("default"),
        help=data.get("help", ""),
        options=tuple(data.get("options", ())),
    )
