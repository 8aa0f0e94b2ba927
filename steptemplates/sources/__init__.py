"""Where templates come from. One module per source kind, all with the same small interface.

A source turns a manifest requirement into a lock entry (``lock``), and a lock entry into a
verified template directory (``materialize``). Resolution may use the network; with
``offline`` it may use only what the cache already holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import GitRequirement, TemplateRef

if TYPE_CHECKING:
    from steptemplates.git import GitCredentials


@dataclass(frozen=True)
class GitAuth:
    """How to authenticate to a git remote, as configured in steps.toml (never the secret)."""

    token_env: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class SourceContext:
    cache: Cache
    console: Console
    offline: bool = False
    # Per remote URL, so that syncing from the lock alone still finds the credentials.
    git_auth: Mapping[str, GitAuth] = field(default_factory=dict)

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


def lock_identity(ref: TemplateRef) -> dict[str, str]:
    """The lock fields that must match for a locked entry to still satisfy ``ref``."""
    source = ref.source
    if isinstance(source, GitRequirement):
        return {
            "source": "git",
            "url": source.url,
            "subdir": source.subdir,
            "requested": source.requested,
        }
    fields = {"source": "path", "path": source.path}
    if source.version:
        fields["version"] = source.version
    return fields


def for_kind(
    kind: str, context: SourceContext, manifest_dir: Path, entry_kind: str = "template"
) -> Source:
    """The source for lock entries of ``kind`` (git, path) holding ``entry_kind`` (template,
    package): templates are checked to load before they are locked or cached."""
    # Imported here: the source modules import this one. By module path, because a name
    # bound in this package (such as ``git``) would shadow a submodule of the same name.
    from steptemplates.sources.git import GitSource
    from steptemplates.sources.path import PathSource

    if kind == "git":
        return GitSource(context, entry_kind)
    if kind == "path":
        return PathSource(context, manifest_dir, entry_kind)
    raise ValueError(f"unknown source kind {kind!r}")
