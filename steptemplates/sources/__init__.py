"""Where templates come from. One module per source kind, all with the same small interface.

A source turns a manifest requirement into a lock entry (``lock``), and a lock entry into a
verified template directory (``materialize``). Resolution may use the network; with
``offline`` it may use only what the cache already holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.errors import NoMatchingVersionError
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    HttpRequirement,
    NuGetRequirement,
    PathRequirement,
    Requirement,
    TemplateRef,
)
from steptemplates.signatures import Policy
from steptemplates.source_config import NamedSource
from steptemplates.templates import ScriptModule, Template, load_module, load_template
from steptemplates.templates.model import ModuleNeed
from steptemplates.versions import Version

T = TypeVar("T")

if TYPE_CHECKING:
    from steptemplates.git import GitCredentials
    from steptemplates.http_client import HttpClient


@dataclass(frozen=True)
class GitAuth:
    """How to authenticate to a git remote, as configured in steps.toml (never the secret)."""

    token_env: str | None = None
    username: str | None = None


class _LazyClient:
    """The run's one HTTP client, made on first use (httpx is not imported before that),
    and what its sources learnt once for the whole run (a feed's service index)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client: HttpClient | None = None
        self.learnt: dict[tuple[str, ...], object] = {}
        self.learning: dict[tuple[str, ...], threading.Lock] = {}


@dataclass(frozen=True)
class SourceContext:
    cache: Cache
    console: Console
    offline: bool = False
    # Per remote URL, so that syncing from the lock alone still finds the credentials.
    git_auth: Mapping[str, GitAuth] = field(default_factory=dict)
    # Named feeds and GitHub hosts (steps.toml and the user config): their credential
    # references are found again by URL, so a lock entry alone is enough to fetch.
    named_sources: Mapping[str, NamedSource] = field(default_factory=dict)
    # Per git URL, the signatures its versions need (docs/provenance.md): checked again at
    # every sync, when only the lock entry is at hand.
    signatures: Mapping[str, Policy] = field(default_factory=dict)
    _http: _LazyClient = field(default_factory=_LazyClient, repr=False, compare=False)

    def http(self) -> HttpClient:
        with self._http.lock:
            if self._http.client is None:
                from steptemplates.http_client import HttpClient

                self._http.client = HttpClient(
                    self.console, offline=self.offline, metadata_dir=self.cache.http_dir
                )
            return self._http.client

    def once(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for in this run, by one thread;
        the same answer after that (templates from one feed share its service index)."""
        with self._http.lock:
            if key in self._http.learnt:
                return self._http.learnt[key]  # type: ignore[return-value]
            learning = self._http.learning.setdefault(key, threading.Lock())
        with learning:
            with self._http.lock:
                if key in self._http.learnt:
                    return self._http.learnt[key]  # type: ignore[return-value]
            value = compute()
            with self._http.lock:
                self._http.learnt[key] = value
            return value

    def close(self) -> None:
        with self._http.lock:
            if self._http.client is not None:
                self._http.client.close()
                self._http.client = None

    def git_credentials(self, url: str) -> GitCredentials | None:
        """Credentials for ``url`` from its token-env setting or ~/.netrc; None offline."""
        # Imported on use: dulwich takes a noticeable share of start-up, and a warm
        # `steps lock` never needs it.
        from steptemplates.git import credentials_for

        if self.offline:
            return None
        auth = self.git_auth.get(url, GitAuth())
        return credentials_for(url, token_env=auth.token_env, username=auth.username)


class Source(Protocol):
    def lock(self, ref: TemplateRef) -> LockedTemplate:
        """Resolve ``ref`` afresh into a lock entry (fetching what it needs into the cache)."""
        ...

    def materialize(self, entry: LockedTemplate) -> Path:
        """A directory holding exactly the locked template, verified against the lock."""
        ...

    def from_cache(self, entry: LockedTemplate) -> Path | None:
        """Like ``materialize`` using only local data; None when the network is needed."""
        ...


def source_kind(requirement: Requirement) -> str:
    """The lock's ``source`` for a requirement."""
    kinds: dict[type, str] = {
        GitRequirement: "git",
        PathRequirement: "path",
        GitHubRequirement: "github",
        NuGetRequirement: "nuget",
        HttpRequirement: "http",
    }
    return kinds[type(requirement)]


def lock_identity(ref: TemplateRef) -> dict[str, str]:
    """The lock fields that must match for a locked entry to still satisfy ``ref``."""
    fields = _source_identity(ref)
    if ref.kind != "package":
        # Another file in the same source is another template: relocked, never kept.
        fields["template"] = ref.template or ""
    return fields


def _source_identity(ref: TemplateRef) -> dict[str, str]:
    source = ref.source
    if isinstance(source, GitHubRequirement):
        return {
            "source": "github",
            "url": source.api_url,
            "id": source.repo,
            "asset": source.asset or "",
            "subdir": source.subdir,
            "requested": source.requested,
        }
    if isinstance(source, NuGetRequirement):
        return {
            "source": "nuget",
            "url": source.feed,
            "id": source.package_id,
            "subdir": source.subdir,
            "requested": source.requested,
        }
    if isinstance(source, HttpRequirement):
        return {
            "source": "http",
            "url": source.url,
            "subdir": source.subdir,
            "requested": source.requested,
        }
    if isinstance(source, GitRequirement):
        return {
            "source": "git",
            "url": source.url,
            "subdir": source.subdir,
            "requested": git_requested(source),
        }
    fields = {"source": "path", "path": source.path}
    if source.version:
        fields["version"] = source.version
    return fields


def git_requested(requirement: GitRequirement) -> str:
    """A git entry's ``requested``: the pin or range, and the signatures it needs, so that an
    entry locked before ``verify`` was set (so without a signer) no longer fits."""
    verify = f" verify={requirement.verify}" if requirement.verify else ""
    return requirement.requested + verify


class NoVersionInRange(NoMatchingVersionError):
    """No version a source offers is in a range; ``available`` is what it offers, so that
    a caller combining several ranges can say which versions came nearest."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        available: Collection[Version] = (),
        prereleases: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.available = tuple(sorted(available))
        self.prereleases = prereleases


Loaded = Template | ScriptModule


def load_entry(root: Path, entry_kind: str, file: str | None, origin: str) -> Loaded | None:
    """The template or script module an entry holds (``file`` names it inside ``root``);
    None for a package, whose content steps does not read."""
    if entry_kind == "module":
        return load_module(root, file=file, origin=origin)
    if entry_kind == "template":
        return load_template(root, file=file, origin=origin)
    return None


def reread_on_lock(entry: LockedTemplate | None, entry_kind: str) -> bool:
    """Whether an entry that still fits is locked again all the same: a local template or
    module may have changed what it needs, and reading it costs no network."""
    return entry is not None and entry.source == "path" and entry_kind != "package"


def needs_text(needs: Iterable[ModuleNeed]) -> tuple[str, ...]:
    """Module needs as the lock records them: "Name range", "*" for any version, sorted."""
    return tuple(sorted(f"{need.name} {need.version or '*'}" for need in needs))


def for_kind(
    kind: str, context: SourceContext, manifest_dir: Path, entry_kind: str = "template"
) -> Source:
    """The source for lock entries of ``kind`` (see ``lockfile.SOURCES``) holding
    ``entry_kind`` (template, package, module): templates and modules are checked to load
    before they are locked or cached."""
    # Imported here: the source modules import this one. By module path, because a name
    # bound in this package (such as ``git``) would shadow a submodule of the same name.
    if kind == "git":
        from steptemplates.sources.git import GitSource

        return GitSource(context, entry_kind, manifest_dir)
    if kind == "path":
        from steptemplates.sources.path import PathSource

        return PathSource(context, manifest_dir, entry_kind)
    if kind == "github":
        from steptemplates.sources.github import GitHubSource

        return GitHubSource(context, entry_kind)
    if kind == "nuget":
        from steptemplates.sources.nuget import NuGetSource

        return NuGetSource(context, entry_kind)
    if kind == "http":
        from steptemplates.sources.url import UrlSource

        return UrlSource(context, entry_kind)
    raise ValueError(f"unknown source kind {kind!r}")
