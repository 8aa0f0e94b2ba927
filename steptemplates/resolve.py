"""Resolution: the manifest's requirements plus what the sources offer give a lockfile.

Entries already in the lock are kept while they still satisfy the manifest (as Cargo does),
so an unchanged project relocks without touching the network; ``upgrade`` re-resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from steptemplates import parallel
from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, Lockfile, stale_reason
from steptemplates.manifest import GitRequirement, Manifest, TemplateRef
from steptemplates.sources import GitAuth, SourceContext, for_kind, lock_identity, source_kind

Upgrade = bool | frozenset[str]
_DETAILS = ("requested", "source", "url", "path", "subdir", "tag", "commit", "integrity", "version")


@dataclass(frozen=True)
class LockChange:
    name: str
    old: LockedTemplate | None
    new: LockedTemplate | None

    def describe(self) -> str:
        if self.old is None and self.new is not None:
            return f"added {self.name} {self.new.pin}"
        if self.new is None and self.old is not None:
            return f"removed {self.name} {self.old.pin}"
        assert self.old is not None and self.new is not None
        before, after = self.old.pin, self.new.pin
        if before != after:
            return f"updated {self.name} {before} -> {after}"
        # Same pin, other details: say which, or "1.2.0 -> 1.2.0" would explain nothing.
        key = next(k for k in _DETAILS if getattr(self.old, k) != getattr(self.new, k))
        was, now = getattr(self.old, key) or "", getattr(self.new, key) or ""
        return f"updated {self.name} {after} ({key} {was!r} -> {now!r})"


def git_auth(manifest: Manifest) -> dict[str, GitAuth]:
    auth = {}
    for ref in (*manifest.templates.values(), *manifest.packages.values()):
        source = ref.source
        if isinstance(source, GitRequirement) and (source.token_env or source.username):
            auth[source.url] = GitAuth(source.token_env, source.username)
    return auth


KINDS = ("template", "package")


def _requirements(manifest: Manifest, kind: str) -> Mapping[str, TemplateRef]:
    return manifest.packages if kind == "package" else manifest.templates


def resolve(
    manifest: Manifest,
    previous: Lockfile | None,
    context: SourceContext,
    *,
    upgrade: Upgrade = False,
) -> Lockfile:
    if isinstance(upgrade, frozenset):
        unknown = sorted(upgrade - set(manifest.templates) - set(manifest.packages))
        if unknown:
            raise StepsError(
                f"cannot upgrade {', '.join(unknown)}: not a template or package in "
                f"{manifest.path.name}",
                hint="see `steps list`",
            )

    def wants_upgrade(ref: TemplateRef) -> bool:
        return upgrade is True or (isinstance(upgrade, frozenset) and ref.name in upgrade)

    entries: dict[str, dict[str, LockedTemplate]] = {kind: {} for kind in KINDS}
    to_resolve: list[TemplateRef] = []
    for kind in KINDS:
        old = previous.entries(kind) if previous else {}
        wanted = _requirements(manifest, kind)
        for name in sorted(wanted):
            ref = wanted[name]
            previous_entry = old.get(name)
            # Kept while it still fits (as Cargo does): no source is consulted, no network.
            fits = previous_entry and stale_reason(previous_entry, lock_identity(ref)) is None
            if previous_entry and fits and not wants_upgrade(ref):
                entries[kind][name] = previous_entry
                continue
            to_resolve.append(ref)

    def job(ref: TemplateRef) -> Callable[[], LockedTemplate]:
        kind = source_kind(ref.source)
        return partial(for_kind(kind, context, manifest.directory, ref.kind).lock, ref)

    locked = parallel.run_all([job(ref) for ref in to_resolve])
    for ref, entry in zip(to_resolve, locked, strict=True):
        entries[ref.kind][entry.name] = entry
    return Lockfile(*(dict(sorted(entries[kind].items())) for kind in KINDS))


def out_of_date(manifest: Manifest, previous: Lockfile | None) -> list[str]:
    """Why ``previous`` no longer matches the manifest (empty if it does), without resolving."""
    if previous is None:
        return ["there is no steps.lock"]
    reasons = []
    for kind in KINDS:
        wanted = _requirements(manifest, kind)
        locked = previous.entries(kind)
        label = "package " if kind == "package" else ""
        for name in sorted(wanted):
            reason = stale_reason(locked.get(name), lock_identity(wanted[name]))
            if reason:
                reasons.append(f"{label}{name}: {reason}")
        gone = [name for name in sorted(locked) if name not in wanted]
        reasons += [f"{label}{name}: no longer in steps.toml" for name in gone]
    return reasons


def changes(old: Lockfile | None, new: Lockfile) -> list[LockChange]:
    result = []
    for kind in KINDS:
        before = old.entries(kind) if old else {}
        after = new.entries(kind)
        label = "package " if kind == "package" else ""
        for name in sorted(set(before) | set(after)):
            a, b = before.get(name), after.get(name)
            if a != b:
                result.append(LockChange(label + name, a, b))
    return result
