"""Where packages are installed, the journal of deployments, retention, and what changed.

Layout under the applications root::

    <tenant>/<environment>/<package id>/<version>[_N]/   one deployment's extracted package
    deployments.json                                     the journal: every deployment kept
    deployments.json.lock                                held while the journal is written

The journal is the only record of which directories steps made, so retention deletes
nothing that is not in it and nothing outside the root. It stores the line numbers of
configuration lines that hold sensitive values, never the values, so that a later diff can
hide them.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape as xml_escape

import filelock
import platformdirs

from steptemplates import encodings, fsutil
from steptemplates.errors import StepsError

ROOT_ENV = "STEPS_APPLICATIONS_DIR"
JOURNAL_FILE = "deployments.json"
FORMAT_VERSION = 1
LOCK_TIMEOUT_SECONDS = 60.0
CONFIG_SUFFIXES = (
    ".config",
    ".json",
    ".yaml",
    ".yml",
    ".xml",
    ".properties",
    ".ini",
    ".toml",
    ".conf",
    ".cfg",
    ".env",
)
SENSITIVE_LINE = "****** (sensitive)"

Warn = Callable[[str], None]
ChangeKind = Literal["added", "removed", "changed"]

_log = logging.getLogger(__name__)
_INVALID_IN_NAMES = frozenset('/\\:*?"<>|')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIX_JOURNAL = "fix the file or delete it (deleting it forgets every recorded deployment)"


# --- where packages go ---------------------------------------------------------------------


def applications_root(explicit: Path | None, project_state_dir: Path | None) -> Path:
    """The root: ``explicit``, else $STEPS_APPLICATIONS_DIR, else the project's, else the user's."""
    if explicit is not None:
        return explicit.expanduser().resolve()
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).expanduser().resolve()
    if project_state_dir is not None:
        return project_state_dir.resolve() / "applications"
    return platformdirs.user_data_path("steps", appauthor=False) / "applications"


def installation_directory(
    root: Path, *, tenant: str, environment: str, package_id: str, version: str
) -> Path:
    """The first of ``<path>``, ``<path>_1``, ``<path>_2``... that does not exist yet.

    Nothing is created: a deployment builds its tree beside this path and renames it into
    place, so that no one ever sees a half-extracted directory.
    """
    segments = [_segment(tenant, "tenant", optional=True)]
    segments.append(_segment(environment, "environment", optional=True))
    segments.append(_segment(package_id, "package id", optional=False))
    segments.append(_segment(version, "version", optional=False))
    base = root.joinpath(*(s for s in segments if s))
    candidate, number = base, 0
    while os.path.lexists(candidate):
        number += 1
        candidate = base.with_name(f"{base.name}_{number}")
    return candidate


def _segment(text: str, what: str, *, optional: bool) -> str:
    # Surrounding spaces go too: Windows drops trailing ones, and " " is no tenant at all.
    cleaned = "".join(
        c for c in text if c not in _INVALID_IN_NAMES and unicodedata.category(c) != "Cc"
    ).strip()
    if not cleaned and not optional:
        raise StepsError(
            f"the {what} '{text}' is empty once characters not allowed in file names are "
            "removed; give the package a real id and version"
        )
    if cleaned in (".", ".."):
        raise StepsError(
            f"the {what} '{text}' would name the directory '{cleaned}', which is not allowed; "
            f"use another {what}"
        )
    return cleaned


# --- the journal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    id: int
    package_id: str
    version: str
    retention_set: str  # the deployments that compete for retention, e.g. "<project>/<step>"
    project: str
    step: str
    environment: str
    tenant: str
    installed_on: str  # ISO-8601 UTC to the second
    extracted_to: str  # absolute
    custom_directory: str  # "" when the package was not copied elsewhere
    successful: bool
    # Configuration file (posix path relative to extracted_to) -> 1-based lines with secrets.
    sensitive_lines: Mapping[str, tuple[int, ...]] = field(hash=False)

    def describe(self) -> str:
        return f"deployment {self.id} ({self.package_id} {self.version})"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "package_id": self.package_id,
            "version": self.version,
            "retention_set": self.retention_set,
            "project": self.project,
            "step": self.step,
            "environment": self.environment,
            "tenant": self.tenant,
            "installed_on": self.installed_on,
            "extracted_to": self.extracted_to,
            "custom_directory": self.custom_directory,
            "successful": self.successful,
            "sensitive_lines": {p: list(n) for p, n in sorted(self.sensitive_lines.items())},
        }


_STRING_FIELDS = (
    "package_id",
    "version",
    "retention_set",
    "project",
    "step",
    "environment",
    "tenant",
    "installed_on",
    "extracted_to",
    "custom_directory",
)
_FIELDS = frozenset({"id", "successful", "sensitive_lines", *_STRING_FIELDS})


class Journal:
    """The deployments recorded under one applications root, oldest first.

    Reads need no lock (the file is replaced atomically); every change re-reads the file
    under a lock, so deployments recorded at the same time by other processes are kept.
    """

    def __init__(self, root: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.root = root
        self.path = root / JOURNAL_FILE
        self._lock_timeout = lock_timeout

    def entries(self) -> list[Deployment]:
        return self._read()

    def record(
        self,
        *,
        package_id: str,
        version: str,
        retention_set: str,
        project: str,
        step: str,
        environment: str,
        tenant: str,
        extracted_to: Path | str,
        custom_directory: Path | str = "",
        successful: bool,
        sensitive_lines: Mapping[str, Sequence[int]] | None = None,
        installed_on: str | None = None,
    ) -> Deployment:
        """Append a deployment, giving it the next id (and the current time unless given)."""
        with self._locked():
            entries = self._read()
            deployment = Deployment(
                id=max((e.id for e in entries), default=0) + 1,
                package_id=package_id,
                version=version,
                retention_set=retention_set,
                project=project,
                step=step,
                environment=environment,
                tenant=tenant,
                installed_on=_utc_seconds(installed_on),
                extracted_to=os.path.abspath(extracted_to),
                custom_directory=str(custom_directory),
                successful=successful,
                sensitive_lines=_normalized_lines(sensitive_lines or {}),
            )
            self._write([*entries, deployment])
        return deployment

    def get(self, deployment_id: int) -> Deployment:
        entries = self._read()
        for entry in entries:
            if entry.id == deployment_id:
                return entry
        if not entries:
            raise StepsError(
                f"no deployment {deployment_id}: no deployments are recorded in {self.path}",
                hint="check --root, or the project the command runs in",
            )
        nearby = sorted(sorted((e.id for e in entries), key=lambda i: abs(i - deployment_id))[:4])
        raise StepsError(
            f"no deployment {deployment_id} in {self.path}; nearby ids: "
            + ", ".join(str(i) for i in nearby),
            hint="`steps deployments list` shows them all",
        )

    def latest(
        self, retention_set: str, package_id: str, *, successful_only: bool = False
    ) -> Deployment | None:
        """The newest deployment of ``package_id`` in the set (only successful ones if asked)."""
        for entry in reversed(self._read()):
            if entry.retention_set != retention_set or entry.package_id != package_id:
                continue
            if entry.successful or not successful_only:
                return entry
        return None

    def forget(self, ids: Collection[int]) -> None:
        """Drop the entries with these ids (those already gone are ignored)."""
        with self._locked():
            entries = self._read()
            kept = [e for e in entries if e.id not in ids]
            if len(kept) != len(entries):
                self._write(kept)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(JOURNAL_FILE + ".lock")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StepsError(
                f"cannot create the applications root {self.root}: {error.strerror or error}",
                hint=f"choose a writable root with --root or {ROOT_ENV}",
            ) from None
        try:
            with filelock.FileLock(str(lock_path), timeout=self._lock_timeout):
                yield
        except filelock.Timeout:
            raise StepsError(
                f"gave up after {self._lock_timeout:g} s waiting for {lock_path}: another steps "
                "process is recording or pruning deployments there",
                hint="let it finish and try again",
            ) from None

    def _read(self) -> list[Deployment]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise StepsError(f"cannot read {self.path}: {error.strerror or error}") from None
        return _parse_journal(self.path, data)

    def _write(self, entries: Sequence[Deployment]) -> None:
        document = {
            "version": FORMAT_VERSION,
            "deployments": [e.to_json() for e in sorted(entries, key=lambda e: e.id)],
        }
        fsutil.write_text_atomic(
            self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        )


def _utc_seconds(iso_time: str | None) -> str:
    """``iso_time`` (naive means UTC), else now, as ``2024-05-01T12:00:00Z``."""
    moment = datetime.datetime.now(datetime.UTC)
    if iso_time is not None:
        moment = datetime.datetime.fromisoformat(iso_time)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _normalized_lines(lines: Mapping[str, Sequence[int]]) -> dict[str, tuple[int, ...]]:
    return {path: tuple(sorted(set(numbers))) for path, numbers in lines.items() if numbers}


def _parse_journal(path: Path, data: bytes) -> list[Deployment]:
    def damaged(what: str) -> StepsError:
        return StepsError(f"damaged deployment journal {path}: {what}", hint=_FIX_JOURNAL)

    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise damaged("it is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise damaged(f"not valid JSON at line {error.lineno}: {error.msg}") from None
    if not isinstance(document, dict) or set(document) != {"version", "deployments"}:
        raise damaged('expected an object with exactly the keys "version" and "deployments"')
    if document["version"] != FORMAT_VERSION:
        raise damaged(f"unknown format version {document['version']!r} (expected 1)")
    if not isinstance(document["deployments"], list):
        raise damaged('"deployments" must be a list')
    entries: list[Deployment] = []
    for index, item in enumerate(document["deployments"], start=1):
        try:
            entries.append(_entry(item))
        except ValueError as error:
            raise damaged(f"entry {index}: {error}") from None
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        repeated = next(i for i in ids if ids.count(i) > 1)
        raise damaged(f"deployment id {repeated} appears more than once")
    return sorted(entries, key=lambda e: e.id)


def _entry(item: object) -> Deployment:
    """One journal entry, checked key by key; ``ValueError`` says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError("expected an object")
    missing = sorted(_FIELDS - set(item))
    unknown = sorted(set(item) - _FIELDS)
    if missing or unknown:
        problem = f"missing key '{missing[0]}'" if missing else f"unknown key '{unknown[0]}'"
        raise ValueError(problem)
    deployment_id = item["id"]
    if type(deployment_id) is not int or deployment_id < 1:
        raise ValueError("'id' must be a positive whole number")
    for key in _STRING_FIELDS:
        if not isinstance(item[key], str):
            raise ValueError(f"'{key}' must be a string (deployment {deployment_id})")
    if not isinstance(item["successful"], bool):
        raise ValueError(f"'successful' must be true or false (deployment {deployment_id})")
    if not os.path.isabs(item["extracted_to"]):
        raise ValueError(f"'extracted_to' must be an absolute path (deployment {deployment_id})")
    try:
        datetime.datetime.fromisoformat(item["installed_on"])
    except ValueError:
        raise ValueError(
            f"'installed_on' is not an ISO-8601 time (deployment {deployment_id})"
        ) from None
    return Deployment(
        id=deployment_id,
        **{key: item[key] for key in _STRING_FIELDS},
        successful=item["successful"],
        sensitive_lines=_parse_sensitive(item["sensitive_lines"], deployment_id),
    )


def _parse_sensitive(value: object, deployment_id: int) -> dict[str, tuple[int, ...]]:
    problem = (
        "'sensitive_lines' must map file paths to lists of line numbers "
        f"(deployment {deployment_id})"
    )
    if not isinstance(value, dict):
        raise ValueError(problem)
    lines: dict[str, tuple[int, ...]] = {}
    for file, numbers in value.items():
        if not isinstance(numbers, list) or not all(type(n) is int and n > 0 for n in numbers):
            raise ValueError(problem)
        lines[file] = tuple(numbers)
    return lines


# --- retention -----------------------------------------------------------------------------


def apply_retention(
    journal: Journal,
    retention_set: str,
    keep: int,
    *,
    protect: Path | None = None,
    warn: Warn = _log.warning,
) -> list[Deployment]:
    """Keep the ``keep`` newest successful deployments of the set; delete the others' files.

    A failed deployment is kept only while it is the newest of its set (to look into) or is
    ``protect``. A directory is deleted only when it lies inside the journal's root and no
    remaining deployment uses it; a deployment whose directory cannot be deleted stays in
    the journal, so that the next run tries again. Returns the deployments forgotten.
    """
    if keep <= 0:
        return []
    # Deciding from a snapshot, outside the lock, is safe: entries recorded meanwhile are
    # newer, which can only make the chosen ones more removable, and a new deployment never
    # reuses an existing directory. Deleting outside the lock keeps slow deletes from
    # blocking deployments that want to record.
    entries = journal.entries()
    removable = _removable([e for e in entries if e.retention_set == retention_set], keep, protect)
    if not removable:
        return []
    removable_ids = {e.id for e in removable}
    still_used = [_location(e.extracted_to) for e in entries if e.id not in removable_ids]
    forgotten = [
        entry for entry in removable if _delete_directory(entry, journal.root, still_used, warn)
    ]
    if forgotten:
        journal.forget({e.id for e in forgotten})
    return forgotten


def _removable(entries: Sequence[Deployment], keep: int, protect: Path | None) -> list[Deployment]:
    if not entries:
        return []
    newest = max(entries, key=lambda e: e.id)
    successful = sorted((e for e in entries if e.successful), key=lambda e: e.id, reverse=True)
    kept = {e.id for e in successful[:keep]} | {newest.id}
    protected = _location(protect) if protect is not None else None
    return [
        e
        for e in entries
        if e.id not in kept and (protected is None or _location(e.extracted_to) != protected)
    ]


def _delete_directory(
    entry: Deployment, root: Path, still_used: Sequence[Path], warn: Warn
) -> bool:
    """Delete the entry's directory if it is steps' to delete; False if it is still there."""
    directory = _location(entry.extracted_to)
    real_root = Path(os.path.realpath(root))
    if directory == real_root or not directory.is_relative_to(real_root):
        warn(
            f"not deleting {entry.extracted_to} of {entry.describe()}: it is outside the "
            f"applications root {root}"
        )
        return True
    if any(used == directory or used.is_relative_to(directory) for used in still_used):
        return True
    try:
        fsutil.remove_tree(directory)
    except OSError as error:
        warn(
            f"could not delete {directory} of {entry.describe()}: {error.strerror or error}; "
            "it stays in the journal and retention will try again"
        )
        return False
    return True


def _location(path: str | Path) -> Path:
    """Where ``path`` is, with its parents' symlinks resolved but not a symlink at its end.

    Retention deletes a symlinked deployment directory as the link itself, never what it
    points to, so both containment and identity are judged on the link's own location.
    """
    absolute = Path(os.path.abspath(path))
    return Path(os.path.realpath(absolute.parent), absolute.name)


# --- sensitive lines -----------------------------------------------------------------------


def is_configuration_file(relative_path: str) -> bool:
    return relative_path.lower().endswith(CONFIG_SUFFIXES)


def sensitive_lines(directory: Path, values: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """For each configuration file under ``directory``, the lines holding a sensitive value.

    Values are also looked for as they appear once escaped into XML or JSON, and each line of
    a multi-line value on its own, since substitution writes them that way.
    """
    needles = _needles(values)
    found: dict[str, tuple[int, ...]] = {}
    if not needles:
        return found
    for relative, path in _files(directory, all_files=False).items():
        lines = _lines(encodings.decode(_read(path)).text)
        numbers = tuple(
            number
            for number, line in enumerate(lines, start=1)
            if any(needle in line for needle in needles)
        )
        if numbers:
            found[relative] = numbers
    return found


def _needles(values: Sequence[str]) -> set[str]:
    needles: set[str] = set()
    for value in values:
        for text in (value, *value.splitlines()):
            if text.strip():
                needles |= {
                    text,
                    xml_escape(text),
                    xml_escape(text, {'"': "&quot;", "'": "&apos;"}),
                    json.dumps(text)[1:-1],
                    json.dumps(text, ensure_ascii=False)[1:-1],
                }
    return needles


# --- diff ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    path: str  # posix, relative to the deployments' directories
    kind: ChangeKind
    diff: tuple[str, ...]  # a unified diff, or a one-line note


def diff_deployments(a: Deployment, b: Deployment, *, all_files: bool = False) -> list[FileChange]:
    """What differs between the files of two deployments (configuration files unless all)."""
    files_a = _files(_existing_directory(a), all_files=all_files)
    files_b = _files(_existing_directory(b), all_files=all_files)
    changes: list[FileChange] = []
    for relative in sorted(files_a.keys() | files_b.keys()):
        old = _read(files_a[relative]) if relative in files_a else None
        new = _read(files_b[relative]) if relative in files_b else None
        if old != new:
            labels = (f"A:{relative} (deployment {a.id})", f"B:{relative} (deployment {b.id})")
            changes.append(_compare(relative, old, new, labels, a, b))
    return changes


def _existing_directory(deployment: Deployment) -> Path:
    directory = Path(deployment.extracted_to)
    if not directory.is_dir():
        raise StepsError(
            f"the files of {deployment.describe()} are gone: {directory} no longer exists",
            hint="it was removed by retention or by hand; pick a deployment that still has "
            "its directory (`steps deployments list`)",
        )
    return directory


def _compare(
    relative: str,
    old: bytes | None,
    new: bytes | None,
    labels: tuple[str, str],
    a: Deployment,
    b: Deployment,
) -> FileChange:
    kind: ChangeKind = "added" if old is None else "removed" if new is None else "changed"
    if _is_binary(old) or _is_binary(new):
        return FileChange(relative, kind, (_binary_note(kind, labels),))
    lines_a = _text_lines(old)
    lines_b = _text_lines(new)
    sensitive_a = frozenset(a.sensitive_lines.get(relative, ()))
    sensitive_b = frozenset(b.sensitive_lines.get(relative, ()))
    shown_a = _masked(lines_a, sensitive_a, _secret_texts(lines_b, sensitive_b))
    shown_b = _masked(lines_b, sensitive_b, _secret_texts(lines_a, sensitive_a))
    diff = tuple(difflib.unified_diff(shown_a, shown_b, labels[0], labels[1], n=3, lineterm=""))
    if diff:
        return FileChange(relative, kind, diff)
    return FileChange(relative, kind, (_silent_change_note(kind, labels, lines_a != lines_b),))


def _binary_note(kind: ChangeKind, labels: tuple[str, str]) -> str:
    if kind == "added":
        return f"Binary file {labels[1]} added"
    if kind == "removed":
        return f"Binary file {labels[0]} removed"
    return f"Binary files {labels[0]} and {labels[1]} differ"


def _silent_change_note(kind: ChangeKind, labels: tuple[str, str], text_differs: bool) -> str:
    """Why a file that changed shows no diff lines."""
    if kind == "added":
        return f"Empty file {labels[1]} added"
    if kind == "removed":
        return f"Empty file {labels[0]} removed"
    if text_differs:
        return f"{labels[0]} and {labels[1]} differ only in sensitive lines, which are not shown"
    return f"{labels[0]} and {labels[1]} differ only in line endings or encoding"


def _secret_texts(lines: Sequence[str], sensitive: frozenset[int]) -> frozenset[str]:
    """The text of one side's sensitive lines: the same line on the other side is a secret too."""
    return frozenset(
        lines[number - 1]
        for number in sensitive
        if 0 < number <= len(lines) and lines[number - 1].strip()
    )


def _masked(lines: Sequence[str], sensitive: frozenset[int], secrets: frozenset[str]) -> list[str]:
    return [
        SENSITIVE_LINE if number in sensitive or line in secrets else line
        for number, line in enumerate(lines, start=1)
    ]


def _is_binary(data: bytes | None) -> bool:
    if data is None:
        return False
    # UTF-16 and UTF-32 text is full of NUL bytes; only a byte-order mark tells it apart.
    return not encodings.decode(data[:4]).bom and b"\0" in data[:8192]


def _text_lines(data: bytes | None) -> list[str]:
    return [] if data is None else _lines(encodings.decode(data).text)


def _lines(text: str) -> list[str]:
    """Lines as editors number them: split at CRLF, CR or LF only."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _files(directory: Path, *, all_files: bool) -> dict[str, Path]:
    """Regular files under ``directory`` by posix relative path (configuration files unless all)."""
    found: dict[str, Path] = {}
    for current, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            path = Path(current, name)
            relative = path.relative_to(directory).as_posix()
            if path.is_file() and (all_files or is_configuration_file(relative)):
                found[relative] = path
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StepsError(f"cannot read {path}: {error.strerror or error}") from None
