"""Script modules: one version of each for the whole project, in every range asked of it.

A module is asked for by ``[modules.NAME] version`` in steps.toml, by steps (``modules``),
by locked templates and, transitively, by locked modules (their ``needs``). Its ranges are
combined (", " means and) into the requirement it is locked with, so the lock's
``requested`` says what every consumer asked together; since a module's version decides
what it needs in turn, locking repeats until no requirement moves. Entries that still fit
are kept without consulting any source, as templates are.

Path and URL modules, and modules pinned to a branch or commit, have no versions to choose
from: ranges are not checked for them. A module pinned to a tag is checked once locked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from steptemplates import parallel
from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, stale_reason
from steptemplates.manifest import (
    FILE_NAME,
    GitHubRequirement,
    GitRequirement,
    Manifest,
    NuGetRequirement,
    Requirement,
    TemplateRef,
)
from steptemplates.sources import NoVersionInRange, lock_identity, reread_on_lock
from steptemplates.versions import Version, parse_range, version_from_tag

LockOne = Callable[[TemplateRef], LockedTemplate]


@dataclass(frozen=True)
class Need:
    """One range asked of a module, and who asked (for messages)."""

    module: str
    range: str | None  # None: any version
    who: str  # "steps.toml", "step 'S'", "template 'T' 1.2.0", "module 'M' 2.0.0"

    def describe(self) -> str:
        return f"{self.who} needs {self.range or '*'}"


def parse_need(text: str) -> tuple[str, str | None]:
    """``"Helpers ^1.2"`` (a lock entry's need) as a name and a range (None for ``*``)."""
    name, _, written = text.strip().partition(" ")
    written = written.strip()
    return name, None if written in ("", "*") else written


def gather_needs(
    current: Manifest,
    templates: Mapping[str, LockedTemplate],
    modules: Mapping[str, LockedTemplate],
) -> list[Need]:
    """Every range asked of any module: by locked templates, locked modules, steps and
    steps.toml, in that order (the order conflicts are told in)."""
    needs = [
        *_entry_needs("template", templates),
        *_entry_needs("module", modules),
    ]
    for step in current.steps:
        needs += [Need(need.name, need.version, f"step '{step.name}'") for need in step.modules]
    for name, ref in sorted(current.modules.items()):
        if _chooses_version(ref.source):
            needs.append(Need(name, _version_of(ref.source), FILE_NAME))
    return needs


def _entry_needs(kind: str, entries: Mapping[str, LockedTemplate]) -> list[Need]:
    needs = []
    for name, entry in sorted(entries.items()):
        who = f"{kind} '{name}'{_at(entry)}"
        for text in entry.needs:
            module, wanted = parse_need(text)
            needs.append(Need(module, wanted, who))
    return needs


def _at(entry: LockedTemplate) -> str:
    """`` 1.4.0`` after a consumer's name: the version it was locked at, when it has one."""
    if entry.source == "path":
        return ""
    at = entry.version or entry.tag or entry.template_version or (entry.commit or "")[:12]
    return f" {at}" if at else ""


def undeclared(current: Manifest, needs: Iterable[Need]) -> list[Need]:
    """Needs of modules that steps.toml does not say where to get."""
    return [need for need in needs if need.module not in current.modules]


def _check_declared(current: Manifest, needs: Iterable[Need]) -> None:
    missing = undeclared(current, needs)
    if missing:
        need = missing[0]
        raise StepsError(
            f"{need.who} needs script module '{need.module}', which is not in [modules] "
            f"of {FILE_NAME}",
            hint="declare where it comes from with "
            f"`steps add SOURCE --module --name {need.module}`",
        )


def wanted_refs(current: Manifest, needs: Sequence[Need]) -> dict[str, TemplateRef]:
    """Each declared module's requirement, its version the combination of every range."""
    by_module: dict[str, list[Need]] = {}
    for need in needs:
        by_module.setdefault(need.module, []).append(need)
    return {
        name: _with_ranges(ref, by_module.get(name, []))
        for name, ref in sorted(current.modules.items())
    }


def _with_ranges(ref: TemplateRef, needs: Sequence[Need]) -> TemplateRef:
    source = ref.source
    if not _chooses_version(source):
        return ref
    assert isinstance(source, GitRequirement | GitHubRequirement | NuGetRequirement)
    return replace(ref, source=replace(source, version=combined_range(needs)))


def combined_range(needs: Iterable[Need]) -> str | None:
    """Every range of ``needs`` as one (None when any version will do); sorted, so that
    the same needs always give the same text in the lock."""
    ranges = sorted({need.range for need in needs if need.range and need.range != "*"})
    return ", ".join(ranges) or None


def _chooses_version(requirement: Requirement) -> bool:
    """Whether the source picks a version by range (rather than being pinned, or versionless)."""
    if isinstance(requirement, GitRequirement):
        return requirement.tag is None and requirement.branch is None and requirement.rev is None
    if isinstance(requirement, GitHubRequirement):
        return requirement.tag is None
    return isinstance(requirement, NuGetRequirement)


def _version_of(requirement: Requirement) -> str | None:
    assert isinstance(requirement, GitRequirement | GitHubRequirement | NuGetRequirement)
    return requirement.version


def resolve_modules(
    current: Manifest,
    templates: Mapping[str, LockedTemplate],
    previous: Mapping[str, LockedTemplate],
    lock_one: LockOne,
    wants_upgrade: Callable[[str], bool],
) -> dict[str, LockedTemplate]:
    """One locked entry per module in [modules], in every range asked of it."""
    chosen = {
        name: entry
        for name, entry in previous.items()
        if name in current.modules
        and not wants_upgrade(name)
        and not reread_on_lock(entry, "module")
    }
    # Templates' and steps' needs are known already: a missing module fails before any fetch.
    _check_declared(current, gather_needs(current, templates, {}))
    locked_now: set[str] = set()
    # Each round settles at least the modules nothing unsettled needs; a chain of n
    # modules takes n rounds, and one more confirms that nothing moved.
    for _round in range(len(current.modules) + 2):
        needs = gather_needs(current, templates, chosen)
        wanted = wanted_refs(current, needs)
        stale = [
            name
            for name, ref in wanted.items()
            if name not in chosen or stale_reason(chosen[name], lock_identity(ref)) is not None
        ]
        if not stale:
            _check_declared(current, needs)
            _check_acyclic(chosen)
            _check_pinned(current, chosen, needs)
            return dict(sorted(chosen.items()))
        # What the entries about to be replaced need no longer counts.
        settled = {name: entry for name, entry in chosen.items() if name not in stale}
        needs = gather_needs(current, templates, settled)
        wanted = wanted_refs(current, needs)
        jobs = [partial(_lock_in_ranges, lock_one, wanted[name], needs) for name in stale]
        for name, entry in zip(stale, parallel.run_all(jobs), strict=True):
            chosen[name] = entry
            locked_now.add(name)
    _check_acyclic(chosen)
    raise StepsError(
        "script modules do not settle on one version each: each version chosen asks for "
        f"another ({', '.join(sorted(locked_now))})",
        hint=f"pin their versions in [modules] of {FILE_NAME}",
    )


def _lock_in_ranges(lock_one: LockOne, ref: TemplateRef, needs: Sequence[Need]) -> LockedTemplate:
    try:
        return lock_one(ref)
    except NoVersionInRange as error:
        raise conflict(ref.name, needs, error.available, error.prereleases) from None


def conflict(
    name: str, needs: Iterable[Need], available: Sequence[Version], prereleases: bool
) -> StepsError:
    """The error for a module no offered version satisfies: who needs what, what is near."""
    asked = [need for need in needs if need.module == name]
    told = ", ".join(need.describe() for need in asked)
    message = f"script module '{name}': no version satisfies every requirement: {told}"
    if not available:
        return StepsError(message, hint="its source offers no versions")
    wanted = parse_range(combined_range(asked) or "*")
    held_back = [v for v in available if v.is_prerelease and wanted.matches(v, prereleases=True)]
    if held_back and not prereleases:
        listed = ", ".join(map(str, held_back[-5:]))
        return StepsError(
            message,
            hint=f"only prereleases match: {listed} (allow them with prerelease = true in "
            f"[modules.{name}])",
        )
    nearest = ", ".join(map(str, wanted.nearest(available, prereleases=prereleases)))
    return StepsError(message, hint=f"nearest available: {nearest}")


def _check_pinned(
    current: Manifest, chosen: Mapping[str, LockedTemplate], needs: Sequence[Need]
) -> None:
    """A module pinned to a tag that is a version must still be in every range."""
    for name, entry in sorted(chosen.items()):
        ref = current.modules.get(name)
        version = version_from_tag(entry.version) if entry.version else None
        if ref is None or version is None or _chooses_version(ref.source):
            continue
        asked = [need for need in needs if need.module == name and need.range]
        if parse_range(combined_range(asked) or "*").matches(version, prereleases=True):
            continue
        told = ", ".join(need.describe() for need in asked)
        raise StepsError(
            f"script module '{name}': no version satisfies every requirement: {told}, "
            f"{FILE_NAME} pins {ref.source.requested} ({version})",
            hint=f"change the pin in [modules.{name}], or the ranges that leave {version} out",
        )


def _check_acyclic(chosen: Mapping[str, LockedTemplate]) -> None:
    cycle = _cycle(chosen)
    if cycle:
        raise StepsError(
            f"script module cycle: {' -> '.join(cycle)}",
            hint="a module may not need itself, directly or through others; remove one of "
            "these needs",
        )


def _cycle(chosen: Mapping[str, LockedTemplate]) -> list[str] | None:
    """A cycle among the modules' needs (first name repeated at the end), or None."""
    graph = {
        name: sorted({parse_need(text)[0] for text in entry.needs})
        for name, entry in chosen.items()
    }
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done or name not in graph:
            return None
        for needed in graph[name]:
            found = visit(needed, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def stale_modules(
    current: Manifest,
    templates: Mapping[str, LockedTemplate],
    modules: Mapping[str, LockedTemplate],
) -> list[str]:
    """Why the locked modules no longer fit steps.toml and the lock's own needs, without
    resolving (``steps lock --locked``); empty when they do."""
    needs = gather_needs(current, templates, modules)
    reasons = [
        f"{need.who} needs script module {need.module}, which is not in [modules]"
        for need in undeclared(current, needs)
    ]
    for name, ref in wanted_refs(current, needs).items():
        reason = stale_reason(modules.get(name), lock_identity(ref))
        if reason:
            reasons.append(f"module {name}: {reason}")
    gone = [name for name in sorted(modules) if name not in current.modules]
    return reasons + [f"module {name}: no longer in {FILE_NAME}" for name in gone]
