"""Resolution: the manifest's requirements plus what the sources offer give a lockfile.

Entries already in the lock are kept while they still satisfy the manifest (as Cargo does),
so an unchanged project relocks without touching the network; ``upgrade`` re-resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from functools import partial
from pathlib import Path

from steptemplates import parallel, signatures
from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, Lockfile, stale_reason
from steptemplates.manifest import GitRequirement, Manifest, TemplateRef
from steptemplates.module_resolution import resolve_modules, stale_modules
from steptemplates.sources import (
    GitAuth,
    Loaded,
    SourceContext,
    for_kind,
    load_entry,
    lock_identity,
    needs_text,
    reread_on_lock,
    source_kind,
)
from steptemplates.templates import ScriptModule

Upgrade = bool | frozenset[str]
Warn = Callable[[str], None]
# The fields a change names when the pin stayed the same, most telling first.
_DETAILS = (
    "requested", "source", "url", "path", "subdir", "template", "tag", "commit", "integrity",
    "version", "template_version", "needs",
)  # fmt: skip


@dataclass(frozen=True)
class LockChange:
    name: str
    old: LockedTemplate | None
    new: LockedTemplate | None

    def describe(self) -> str:
        if self.old is None and self.new is not None:
            return f"added {self.name} {self.new.shown}"
        if self.new is None and self.old is not None:
            return f"removed {self.name} {self.old.shown}"
        assert self.old is not None and self.new is not None
        before, after = self.old.shown, self.new.shown
        if before != after:
            return f"updated {self.name} {before} -> {after}"
        # Same pin, other details: say which, or "1.2.0 -> 1.2.0" would explain nothing.
        every = [f.name for f in fields(LockedTemplate)]
        key = next(k for k in (*_DETAILS, *every) if getattr(self.old, k) != getattr(self.new, k))
        was, now = _shown(getattr(self.old, key)), _shown(getattr(self.new, key))
        return f"updated {self.name} {after} ({key.replace('_', '-')} {was!r} -> {now!r})"


def _shown(value: str | tuple[str, ...] | None) -> str:
    return ", ".join(value) if isinstance(value, tuple) else value or ""


def git_auth(manifest: Manifest) -> dict[str, GitAuth]:
    auth = {}
    refs = (*manifest.templates.values(), *manifest.packages.values(), *manifest.modules.values())
    for ref in refs:
        source = ref.source
        if isinstance(source, GitRequirement) and (source.token_env or source.username):
            auth[source.url] = GitAuth(source.token_env, source.username)
    return auth


def signature_policies(manifest: Manifest) -> dict[str, signatures.Policy]:
    """The signatures each git URL requires, for checking lock entries at sync. A policy
    belongs to a repository: every template from it must ask for the same."""
    policies: dict[str, signatures.Policy] = {}
    asked: dict[str, tuple[TemplateRef, tuple[str | None, tuple[str, ...]]]] = {}
    refs = (*manifest.templates.values(), *manifest.packages.values(), *manifest.modules.values())
    for ref in refs:
        source = ref.source
        if not isinstance(source, GitRequirement):
            continue
        wanted = (source.verify, source.signers)
        first = asked.setdefault(source.url, (ref, wanted))
        if first[1] != wanted:
            raise StepsError(
                f"{manifest.path.name}: {first[0].kind} '{first[0].name}' and {ref.kind} "
                f"'{ref.name}' come from the same repository {source.url} but ask for "
                "different signatures",
                hint="give both the same 'verify' and 'signers' (docs/provenance.md)",
            )
        if source.verify is not None and source.url not in policies:
            policies[source.url] = signatures.read_policy(
                source.verify, source.signers, manifest.directory
            )
    return policies


KINDS = ("template", "package")
_LABELS = {"template": "", "package": "package ", "module": "module "}


def lock_and_load(
    ref: TemplateRef, context: SourceContext, manifest_dir: Path
) -> tuple[LockedTemplate, Loaded | None]:
    """Resolve ``ref`` afresh through its source; the entry records what its template or
    module says of itself (its own version, the modules it needs), which is returned too."""
    source = for_kind(source_kind(ref.source), context, manifest_dir, ref.kind)
    entry = source.lock(ref)
    if ref.kind == "package":
        return entry, None
    root = source.from_cache(entry) or source.materialize(entry)
    origin = f"{ref.kind} '{ref.name}' ({entry.describe()})"
    loaded = load_entry(root, ref.kind, entry.template, origin)
    if isinstance(loaded, ScriptModule):
        needs, version = loaded.needs, None
    else:
        assert loaded is not None
        needs, version = loaded.modules, loaded.version
    facts = replace(
        entry,
        template_version=str(version) if version is not None else None,
        needs=needs_text(needs),
    )
    return facts, loaded


def accept_loaded(
    name: str, kind: str, entry: LockedTemplate, loaded: Loaded | None, warn: Warn | None
) -> None:
    """Refuse a module that calls itself by another name; pass on load warnings."""
    if isinstance(loaded, ScriptModule) and loaded.name != name:
        raise StepsError(
            f"script module '{name}': {entry.describe()} holds the module "
            f"'{loaded.name}', not '{name}'",
            hint=f"rename [modules.{name}] to [modules.{loaded.name}] in steps.toml "
            "(and where steps and templates need it)",
        )
    if loaded is not None and warn is not None:
        for warning in loaded.warnings:
            warn(f"{kind} '{name}': {warning}")


def lock_entry(
    ref: TemplateRef, context: SourceContext, manifest_dir: Path, warn: Warn | None = None
) -> LockedTemplate:
    """Resolve ``ref`` afresh into a checked lock entry; load warnings go to ``warn``."""
    entry, loaded = lock_and_load(ref, context, manifest_dir)
    accept_loaded(ref.name, ref.kind, entry, loaded, warn)
    return entry


def resolve(
    manifest: Manifest,
    previous: Lockfile | None,
    context: SourceContext,
    *,
    upgrade: Upgrade = False,
    warn: Warn | None = None,
) -> Lockfile:
    if isinstance(upgrade, frozenset):
        known = {*manifest.templates, *manifest.packages, *manifest.modules}
        unknown = sorted(upgrade - known)
        if unknown:
            raise StepsError(
                f"cannot upgrade {', '.join(unknown)}: not a template, package or script "
                f"module in {manifest.path.name}",
                hint="see `steps list`",
            )

    def wants_upgrade(name: str) -> bool:
        return upgrade is True or (isinstance(upgrade, frozenset) and name in upgrade)

    def lock_one(ref: TemplateRef) -> LockedTemplate:
        return lock_entry(ref, context, manifest.directory, warn)

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
            kept = fits and not wants_upgrade(name) and not reread_on_lock(previous_entry, kind)
            if previous_entry and kept:
                entries[kind][name] = previous_entry
                continue
            to_resolve.append(ref)

    locked = parallel.run_all([partial(lock_one, ref) for ref in to_resolve])
    for ref, entry in zip(to_resolve, locked, strict=True):
        entries[ref.kind][entry.name] = entry
    templates = dict(sorted(entries["template"].items()))
    # Modules come last: the templates just locked say which versions of them they need.
    modules = resolve_modules(
        manifest, templates, previous.modules if previous else {}, lock_one, wants_upgrade
    )
    return Lockfile(templates, dict(sorted(entries["package"].items())), modules)


def _requirements(manifest: Manifest, kind: str) -> Mapping[str, TemplateRef]:
    return manifest.packages if kind == "package" else manifest.templates


def out_of_date(manifest: Manifest, previous: Lockfile | None) -> list[str]:
    """Why ``previous`` no longer matches the manifest (empty if it does), without resolving."""
    if previous is None:
        return ["there is no steps.lock"]
    reasons = []
    for kind in KINDS:
        wanted = _requirements(manifest, kind)
        locked = previous.entries(kind)
        label = _LABELS[kind]
        for name in sorted(wanted):
            reason = stale_reason(locked.get(name), lock_identity(wanted[name]))
            if reason:
                reasons.append(f"{label}{name}: {reason}")
        gone = [name for name in sorted(locked) if name not in wanted]
        reasons += [f"{label}{name}: no longer in steps.toml" for name in gone]
    return reasons + stale_modules(manifest, previous.templates, previous.modules)


def changes(old: Lockfile | None, new: Lockfile) -> list[LockChange]:
    result = []
    for kind in (*KINDS, "module"):
        before = old.entries(kind) if old else {}
        after = new.entries(kind)
        for name in sorted(set(before) | set(after)):
            a, b = before.get(name), after.get(name)
            if a != b:
                result.append(LockChange(_LABELS[kind] + name, a, b))
    return result
