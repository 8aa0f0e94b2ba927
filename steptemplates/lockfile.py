"""``steps.lock``: exact pins for every template, written so that relocking is byte-identical.

The writer is hand-rolled rather than a TOML library's so the output is fully determined by
the data: fixed key order, entries sorted by name, one canonical string escaping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from steptemplates import fsutil, integrity, tomlfile
from steptemplates.versions import tag_reader

FILE_NAME = "steps.lock"
FORMAT_VERSION = 1

HEADER = "# This file is written by `steps lock`. Do not edit it by hand.\n"
_SHA = re.compile(r"[0-9a-f]{40}")
_FIELDS = ("name", "source", "url", "id", "path", "subdir", "asset", "template", "requested")
_PIN_FIELDS = (
    "version", "tag", "commit", "artifact", "file", "sha256", "integrity", "template-version",
    "signer",
)  # fmt: skip
KINDS = ("template", "package", "module")
SOURCES = ("git", "path", "github", "nuget", "http")
_ARCHIVE_SOURCES = ("github", "nuget", "http")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_REGENERATE = "restore steps.lock from version control, or delete it and run `steps lock`"


@dataclass(frozen=True)
class LockedTemplate:
    name: str
    source: str  # one of SOURCES
    requested: str
    url: str | None = None  # git remote, GitHub API base, NuGet service index or archive URL
    id: str | None = None  # NuGet package id or GitHub owner/repo
    path: str | None = None
    subdir: str = ""
    asset: str | None = None  # the release asset glob asked for (GitHub)
    version: str | None = None
    tag: str | None = None
    commit: str | None = None
    artifact: str | None = None  # the exact URL the archive was downloaded from
    file: str | None = None  # the archive's file name (its format comes from it)
    sha256: str | None = None  # hex SHA-256 of the archive's bytes
    integrity: str | None = None
    # The template (or module) file inside the source, after subdir (manifest 'template').
    template: str | None = None
    # The template's own integer version (Octopus's Version), when it has one.
    template_version: str | None = None
    # The script modules this template or module needs, "Name range" each (range "*" for
    # any), so that a kept entry's needs are known without reading the template again.
    needs: tuple[str, ...] = ()
    # Who signed the locked tag or commit, when the source requires signatures:
    # "ssh SHA256:<key fingerprint> <principal>" or "gpg <key fingerprint> <user id>".
    signer: str | None = None

    @property
    def pin(self) -> str:
        """What it is pinned to, in a word: the version, else the tag, else the short commit."""
        if self.source == "path":
            return f"({self.path})"
        return self.version or self.tag or (self.commit or "")[:12]

    @property
    def shown(self) -> str:
        """The pin as commands print it: after the template's own version when it has one,
        ``12 (commit 3f2a1b2c3d4e)`` or ``12 (1.4.0)``; otherwise just the pin."""
        if not self.template_version:
            return self.pin
        at = self.pin
        if self.source == "path" or not at:
            return f"{self.template_version} {at}".rstrip()
        detail = at if self.version or self.tag else f"commit {at}"
        return f"{self.template_version} ({detail})"

    def describe(self) -> str:
        """Where the template comes from, for messages: ``URL@v1.2.0`` or the path."""
        if self.source == "path":
            return f"{self.path}"
        if self.source in ("github", "nuget"):
            location = f"{self.source}:{self.id}" + (f"//{self.subdir}" if self.subdir else "")
            return f"{location}@{self.tag or self.version}"
        if self.source == "http":
            return f"{self.url}" + (f"//{self.subdir}" if self.subdir else "")
        at = self.tag or (self.commit[:12] if self.commit else "?")
        location = f"{self.url}//{self.subdir}" if self.subdir else f"{self.url}"
        return f"{location}@{at}"


def _attribute(key: str) -> str:
    return key.replace("-", "_")


@dataclass(frozen=True)
class Lockfile:
    templates: Mapping[str, LockedTemplate]
    packages: Mapping[str, LockedTemplate] = field(default_factory=dict)
    modules: Mapping[str, LockedTemplate] = field(default_factory=dict)

    def entries(self, kind: str) -> Mapping[str, LockedTemplate]:
        if kind == "package":
            return self.packages
        return self.modules if kind == "module" else self.templates

    def render(self) -> str:
        lines = [HEADER, f"version = {FORMAT_VERSION}\n"]
        for table in KINDS:
            entries = self.entries(table)
            for name in sorted(entries):
                lines.append(f"\n[[{table}]]\n")
                entry = entries[name]
                for key in (*_FIELDS, *_PIN_FIELDS):
                    value = getattr(entry, _attribute(key))
                    if value:
                        lines.append(f"{key} = {tomlfile.quote(value)}\n")
                if entry.needs:
                    listed = ", ".join(tomlfile.quote(n) for n in entry.needs)
                    lines.append(f"needs = [{listed}]\n")
        return "".join(lines)


def load(path: Path) -> Lockfile | None:
    """The lockfile at ``path``, or None when there is none yet."""
    if not path.exists():
        return None
    doc = tomlfile.load(path, display=path.name)
    root = doc.root()
    version = root.raw("version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise root.error(
                "version",
                f"{path.name} uses format {version}, newer than this steps understands",
                hint="upgrade steps",
            )
        raise root.error("version", f"unknown lockfile format {version!r}", hint=_REGENERATE)
    found: dict[str, dict[str, LockedTemplate]] = {kind: {} for kind in KINDS}
    for kind, entries in found.items():
        for table in root.tables(kind):
            entry = _entry(table, kind)
            if entry.name in entries:
                message = f"{kind} '{entry.name}' is locked twice"
                raise table.error("name", message, hint=_REGENERATE)
            entries[entry.name] = entry
    _reject_unknown(root, ("version", *KINDS), "")
    return Lockfile(found["template"], found["package"], found["module"])


def _entry(table: tomlfile.Table, kind: str) -> LockedTemplate:
    values = {_attribute(key): table.string(key) for key in (*_FIELDS, *_PIN_FIELDS)}
    name, source = values["name"], values["source"]
    if not name:
        raise table.error(None, "entry without a name", hint=_REGENERATE)
    _reject_unknown(table, (*_FIELDS, *_PIN_FIELDS, "needs"), f"{kind} '{name}': ")
    if source not in SOURCES:
        raise table.error("source", f"{kind} '{name}': unknown source {source!r}", hint=_REGENERATE)
    keys = ("url", "id", "path", "asset", "template", *_PIN_FIELDS)
    pins = {_attribute(key): values[_attribute(key)] for key in keys}
    entry = LockedTemplate(
        name=name,
        source=source,
        requested=values["requested"] or "",
        subdir=values["subdir"] or "",
        needs=table.strings("needs"),
        **pins,
    )
    problem = _inconsistency(entry)
    if problem:
        key, message = problem
        raise table.error(key, f"{kind} '{name}': {message}", hint=_REGENERATE)
    return entry


def _reject_unknown(table: tomlfile.Table, allowed: tuple[str, ...], prefix: str) -> None:
    # No "did you mean": the writer never misspells, so the fix is the file, not the key.
    unknown = next((key for key in table.data if key not in allowed), None)
    if unknown is not None:
        raise table.error(unknown, f"{prefix}unknown key '{unknown}'", hint=_REGENERATE)


def _inconsistency(entry: LockedTemplate) -> tuple[str, str] | None:
    """What is wrong with an entry that the writer could not have produced, if anything."""
    if entry.source == "path":
        return None if entry.path else ("path", "a path entry needs 'path'")
    if not entry.url:
        return ("url", f"a {entry.source} entry needs 'url'")
    if not entry.requested:
        return ("requested", f"a {entry.source} entry needs 'requested'")
    if entry.source in _ARCHIVE_SOURCES:
        return _archive_inconsistency(entry)
    if not entry.commit or not _SHA.fullmatch(entry.commit):
        return ("commit", "'commit' must be a full 40-character SHA")
    if not entry.integrity or not integrity.is_valid(entry.integrity):
        return ("integrity", "'integrity' must be sha256- followed by 64 hex digits")
    if entry.tag and entry.version:
        # A range over one series of tags ("^1 tags=iis/v*") reads versions through it.
        pattern = re.search(r" tags=(\S+)", entry.requested)
        try:
            parsed = tag_reader(pattern.group(1) if pattern else None)(entry.tag)
        except ValueError:
            parsed = None
        if parsed is None or str(parsed) != entry.version:
            return ("version", f"version {entry.version} does not match tag {entry.tag}")
    return None


def _archive_inconsistency(entry: LockedTemplate) -> tuple[str, str] | None:
    if entry.source != "http" and not entry.id:
        return ("id", f"a {entry.source} entry needs 'id'")
    if not entry.artifact or not entry.file:
        return ("artifact", f"a {entry.source} entry needs 'artifact' and 'file'")
    # A GitHub source archive is not byte-stable (GitHub may recompress it), so only its
    # files are pinned; every other download is pinned by the archive's bytes too.
    needs_sha = not (entry.source == "github" and entry.asset is None)
    if needs_sha and (not entry.sha256 or not _SHA256_HEX.fullmatch(entry.sha256)):
        return ("sha256", "'sha256' must be 64 lowercase hex digits")
    if entry.commit and not _SHA.fullmatch(entry.commit):
        return ("commit", "'commit' must be a full 40-character SHA")
    if not entry.integrity or not integrity.is_valid(entry.integrity):
        return ("integrity", "'integrity' must be sha256- followed by 64 hex digits")
    return None


def write(path: Path, lockfile: Lockfile) -> bool:
    """Write the lockfile if its text changed; returns whether it did."""
    text = lockfile.render()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    fsutil.write_text_atomic(path, text)
    return True


def stale_reason(entry: LockedTemplate | None, fields: Mapping[str, str]) -> str | None:
    """Why a locked entry no longer fits a requirement (given as lock fields), or None."""
    if entry is None:
        return "not locked yet"
    for key, wanted in fields.items():
        have = getattr(entry, _attribute(key)) or ""
        if have != wanted:
            return f"{key} changed from {have!r} to {wanted!r}"
    return None
