"""`steps outdated` and `steps update`: what newer versions there are, and moving to them.

``outdated`` compares each locked template and script module with what its source offers:
the newest version its range allows and the newest of all. ``update`` relocks the chosen
ones to the newest version in range (``latest``: the newest of all, rewriting the range in
steps.toml) and describes what each change brings: parameters added, removed or changed,
and a diff of the scripts.

A cooldown ignores versions published less than a number of days ago. Versions without a
date (NuGet feeds without a registration resource, GitHub tags) cannot be judged: they are
taken, with a warning. A version the cooldown leaves the choice at, below the newest in
range, is locked as is while the lock keeps the range as requested, so ``steps lock``
keeps it later.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from steptemplates import fsutil, lockfile, manifest, parallel, tomlfile
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, Lockfile
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    Manifest,
    NuGetRequirement,
    TemplateRef,
)
from steptemplates.module_resolution import gather_needs, wanted_refs
from steptemplates.project import Project, lock, source_context
from steptemplates.releases import Release, follows_branch, offers_versions, releases
from steptemplates.releases import commit_date as release_commit_date
from steptemplates.resolve import lock_entry
from steptemplates.sources import Loaded, SourceContext, for_kind, load_entry, lock_identity
from steptemplates.template_changes import (
    FileDiff,
    ParameterChange,
    file_diffs,
    parameter_changes,
    script_files,
)
from steptemplates.templates import Template
from steptemplates.versions import (
    Version,
    VersionRange,
    caret_range_for,
    parse_range,
    version_from_tag,
)

KINDS = ("template", "module")
_TABLES = {"template": "templates", "module": "modules"}

# What `outdated` says of an entry.
UP_TO_DATE = "up to date"
IN_RANGE = "update in range"
OUTSIDE_RANGE = "newer outside range"
PINNED = "pinned"
NO_VERSIONS = "no versions"
NO_MATCH = "no version in range"
UNKNOWN = "unknown"


# --- choosing among releases (no I/O) -------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """Where an entry could move, among what its source offers."""

    in_range: Release | None  # the newest the range allows that is old enough
    newest: Release | None  # the newest of all that is old enough
    held_back: tuple[Release, ...]  # newer than the locked version, but too young
    any_in_range: bool  # whether the range allows anything at all, cooldown aside


def cutoff_for(days: float | None, now: datetime | None = None) -> datetime | None:
    """The newest publication time a cooldown of ``days`` accepts; None when there is none."""
    if not days:
        return None
    return (now or datetime.now(UTC)) - timedelta(days=days)


def old_enough(release: Release, cutoff: datetime | None) -> bool:
    """Whether the cooldown lets ``release`` through; an undated one always passes."""
    return cutoff is None or release.published is None or release.published <= cutoff


def choose(
    offered: Sequence[Release],
    wanted: VersionRange | None,
    *,
    prereleases: bool,
    locked: Version | None,
    cutoff: datetime | None,
) -> Choice:
    """The choice for a requirement whose source offers ``offered`` (newest first).
    ``wanted`` None means pinned: nothing is in range but the pin."""
    any_version = parse_range("*")
    with_prereleases = prereleases or (wanted is not None and wanted.names_prerelease)
    allowed = [r for r in offered if _allowed(r, prereleases)]
    overall = [r for r in allowed if any_version.matches(_v(r), prereleases=with_prereleases)]
    in_range = [
        r for r in allowed if wanted is not None and wanted.matches(_v(r), prereleases=prereleases)
    ]
    considered = {r.version: r for r in [*overall, *in_range]}
    held_back = tuple(
        r
        for r in sorted(considered.values(), key=_v, reverse=True)
        if not old_enough(r, cutoff) and (locked is None or _v(r) > locked)
    )
    return Choice(
        in_range=next((r for r in in_range if old_enough(r, cutoff)), None),
        newest=next((r for r in overall if old_enough(r, cutoff)), None),
        held_back=held_back,
        any_in_range=bool(in_range),
    )


def _allowed(release: Release, prereleases: bool) -> bool:
    parsed = release.parsed
    if parsed is None:
        return False
    # A release GitHub flags as a prerelease counts as one whatever its tag says.
    return prereleases or not release.flagged_prerelease or parsed.is_prerelease


def _v(release: Release) -> Version:
    parsed = release.parsed
    assert parsed is not None
    return parsed


# --- what is locked, and under which requirement --------------------------------------------


@dataclass(frozen=True)
class Target:
    """A locked (or about to be locked) template or module, with its requirement: for a
    module, the range every consumer asks of it combined, as the lock records it."""

    name: str
    kind: str
    ref: TemplateRef
    entry: LockedTemplate | None

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"


def _module_refs(current: Manifest, locked: Lockfile) -> Mapping[str, TemplateRef]:
    return wanted_refs(current, gather_needs(current, locked.templates, locked.modules))


def _targets(
    current: Manifest, locked: Lockfile, names: Sequence[str], *, locked_only: bool
) -> list[Target]:
    refs = {"template": current.templates, "module": _module_refs(current, locked)}
    found = [
        Target(name, kind, ref, locked.entries(kind).get(name))
        for kind in KINDS
        for name, ref in sorted(refs[kind].items())
        if not locked_only or name in locked.entries(kind)
    ]
    if not names:
        return found
    known = {target.name for target in found}
    unknown = [name for name in names if name not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=3)
        packages = [name for name in unknown if name in current.packages]
        hint = f"did you mean {', '.join(close)}?" if close else "see `steps list`"
        if packages:
            hint = f"{packages[0]} is a package: `steps lock --upgrade-template {packages[0]}`"
        raise StepsError(
            f"no template or script module named {', '.join(map(repr, unknown))} in "
            f"{current.path.name}",
            hint=hint,
        )
    return [target for target in found if target.name in names]


def _require_lock(project: Project) -> Lockfile:
    locked = project.lockfile()
    if locked is None:
        raise StepsError("there is no steps.lock to compare with", hint="run `steps lock` first")
    return locked


def _range_of(ref: TemplateRef) -> VersionRange | None:
    """The range a requirement chooses versions in; None when it is pinned or follows a
    branch (or has no versions)."""
    source = ref.source
    if isinstance(source, GitRequirement) and (source.tag or source.branch or source.rev):
        return None
    if isinstance(source, GitHubRequirement) and source.tag is not None:
        return None
    if not isinstance(source, GitRequirement | GitHubRequirement | NuGetRequirement):
        return None
    try:
        return parse_range(source.version or "*")
    except ValueError as exc:
        raise StepsError(f"{ref.kind} '{ref.name}': {exc}", hint="fix 'version'") from None


def _prereleases(ref: TemplateRef) -> bool:
    source = ref.source
    return isinstance(source, GitRequirement | GitHubRequirement | NuGetRequirement) and (
        source.prereleases
    )


def _locked_version(entry: LockedTemplate | None) -> Version | None:
    if entry is None or entry.source == "path":
        return None
    # A followed branch is numbered by the template's own version.
    following = entry.requested.startswith("branch=")
    return _parse(entry.template_version if following else entry.version)


def _parse(text: str | None) -> Version | None:
    return version_from_tag(text) if text else None


def _head_is_new(head: Release, entry: LockedTemplate | None) -> bool:
    """Whether a branch's head brings something the locked commit lacks: a new version of
    the template file, or (for a template without one) any new commit. A head that moved
    for other files' sake (the Octopus library's) is no news."""
    if entry is None:
        return True
    if head.commit == entry.commit:
        return False
    if head.template_version and entry.template_version:
        return head.template_version != entry.template_version
    return True


# --- outdated -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutdatedRequest:
    names: Sequence[str] = ()
    cooldown_days: float | None = None  # None: steps.toml's [project] cooldown
    offline: bool = False


@dataclass(frozen=True)
class Outdated:
    """One locked template or module against what its source offers."""

    name: str
    kind: str
    source: str
    requested: str
    locked: str  # the locked version (a followed branch: the template's own, or the commit)
    locked_published: datetime | None
    in_range: Release | None
    newest: Release | None
    status: str
    held_back: tuple[Release, ...] = ()
    problem: str | None = None  # why the source could not be asked

    @property
    def up_to_date(self) -> bool:
        return self.status in (UP_TO_DATE, NO_VERSIONS)


@dataclass(frozen=True)
class OutdatedReport:
    rows: tuple[Outdated, ...]
    cooldown_days: float | None
    checked_at: datetime


def outdated(project: Project, request: OutdatedRequest, console: Console) -> OutdatedReport:
    """Every locked template and module (or those named) with the newest versions there are.
    A source that cannot be asked is reported on its row and warned about; never an error."""
    current = project.manifest()
    locked = _require_lock(project)
    targets = _targets(current, locked, request.names, locked_only=True)
    days = _cooldown_days(request.cooldown_days, current)
    now = datetime.now(UTC)
    cutoff = cutoff_for(days, now)
    context = source_context(current, console, request.offline)
    try:
        jobs = [partial(_outdated_row, t, context, project.directory, cutoff) for t in targets]
        rows = parallel.run_all(jobs)
    finally:
        context.close()
    for row in rows:
        if row.problem is not None:
            console.warning(f"{row.kind} '{row.name}': could not ask its source: {row.problem}")
    _warn_undated(console, [(t, r.in_range) for t, r in zip(targets, rows, strict=True)], cutoff)
    return OutdatedReport(tuple(rows), days, now)


def _outdated_row(
    target: Target, context: SourceContext, manifest_dir: Path, cutoff: datetime | None
) -> Outdated:
    entry = target.entry
    assert entry is not None
    row = Outdated(
        name=target.name,
        kind=target.kind,
        source=entry.describe(),
        requested=target.ref.source.requested,
        locked=_label(entry),
        locked_published=None,
        in_range=None,
        newest=None,
        status=NO_VERSIONS,
    )
    if not offers_versions(target.ref):
        return row
    try:
        offered = releases(target.ref, context, manifest_dir)
        published = _published(entry, offered, context)
    except StepsError as error:
        return replace(row, status=UNKNOWN, problem=str(error))
    row = replace(row, locked_published=published)
    if follows_branch(target.ref):
        head = offered[0]
        young = () if old_enough(head, cutoff) or not _head_is_new(head, entry) else (head,)
        shown = None if young else head
        status = IN_RANGE if shown is not None and _head_is_new(head, entry) else UP_TO_DATE
        return replace(row, in_range=shown, newest=shown, held_back=young, status=status)
    wanted = _range_of(target.ref)
    current = _locked_version(entry)
    choice = choose(
        offered, wanted, prereleases=_prereleases(target.ref), locked=current, cutoff=cutoff
    )
    in_range = choice.in_range
    if current is not None and (in_range is None or _v(in_range) < current):
        # Never below what is locked (a cooldown may hold back the locked version itself).
        in_range = next((r for r in offered if r.parsed == current), in_range)
    status = _status(wanted, current, in_range, choice)
    return replace(
        row, in_range=in_range, newest=choice.newest, held_back=choice.held_back, status=status
    )


def _status(
    wanted: VersionRange | None, current: Version | None, in_range: Release | None, choice: Choice
) -> str:
    newest = choice.newest
    newer_overall = newest is not None and (current is None or _v(newest) > current)
    if wanted is None:
        return OUTSIDE_RANGE if newer_overall else PINNED
    if not choice.any_in_range:
        return NO_MATCH
    if in_range is not None and (current is None or _v(in_range) > current):
        return IN_RANGE
    return OUTSIDE_RANGE if newer_overall else UP_TO_DATE


def _published(
    entry: LockedTemplate, offered: Sequence[Release], context: SourceContext
) -> datetime | None:
    """When the locked version came out: its release's date, else its commit's."""
    version = _parse(entry.version)
    same = [
        r
        for r in offered
        if (version is not None and r.parsed == version) or (entry.tag and r.tag == entry.tag)
    ]
    if same and (same[0].published is not None or entry.source != "git"):
        return same[0].published
    if entry.source == "git" and entry.url and entry.commit:
        return release_commit_date(entry.url, entry.commit, context)
    return None


def _label(entry: LockedTemplate) -> str:
    """The locked version as outdated and update show it."""
    if entry.source == "path":
        return entry.template_version or "path"
    return entry.version or entry.template_version or entry.tag or (entry.commit or "")[:12]


def _cooldown_days(requested: float | None, current: Manifest) -> float | None:
    days = requested if requested is not None else current.cooldown_days
    if days is not None and days < 0:
        raise StepsError("--cooldown must be a number of days (0 or more)")
    return days or None


def _warn_undated(
    console: Console, chosen: Sequence[tuple[Target, Release | None]], cutoff: datetime | None
) -> None:
    if cutoff is None:
        return
    for target, release in chosen:
        if release is None or release.published is not None or release.parsed is None:
            continue
        if target.entry is not None and release.label == _label(target.entry):
            continue
        console.warning(
            f"{target.label}: {release.label} has no publication date, so the "
            "cooldown cannot hold it back; it is taken as old enough"
        )


# --- update ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateRequest:
    names: Sequence[str] = ()
    latest: bool = False
    cooldown_days: float | None = None  # None: steps.toml's [project] cooldown
    dry_run: bool = False
    offline: bool = False


@dataclass(frozen=True)
class EntryUpdate:
    """One template or module whose lock entry changes."""

    name: str
    kind: str
    old: LockedTemplate | None
    new: LockedTemplate | None
    range_written: str | None = None  # --latest: the range steps.toml now asks for
    parameters: tuple[ParameterChange, ...] = ()
    diffs: tuple[FileDiff, ...] = ()
    note: str | None = None  # why the changes could not be shown

    @property
    def old_label(self) -> str:
        return _label(self.old) if self.old else "(not locked)"

    @property
    def new_label(self) -> str:
        return _label(self.new) if self.new else "(removed)"


@dataclass(frozen=True)
class HeldBack:
    name: str
    kind: str
    releases: tuple[Release, ...]


@dataclass(frozen=True)
class UpdateResult:
    updates: tuple[EntryUpdate, ...]
    unchanged: int  # templates and modules already at their newest
    held_back: tuple[HeldBack, ...]
    lockfile: Lockfile
    written: bool
    cooldown_days: float | None


@dataclass(frozen=True)
class _Plan:
    target: Target
    move: bool  # relock it (the resolver picks the newest in range)
    pin: Release | None = None  # lock exactly this one (a cooldown held a newer one back)
    new_range: str | None = None  # --latest: steps.toml's range becomes this
    held_back: tuple[Release, ...] = ()
    taken: Release | None = None  # what it moves to, when known before relocking


def update(project: Project, request: UpdateRequest, console: Console) -> UpdateResult:
    """Move templates and modules to newer versions; steps.toml (for ``latest``) and
    steps.lock are written only once everything resolved, and not at all for ``dry_run``."""
    current = project.manifest()
    previous = _require_lock(project)
    targets = _targets(current, previous, request.names, locked_only=False)
    days = _cooldown_days(request.cooldown_days, current)
    cutoff = cutoff_for(days)
    context = source_context(current, console, request.offline)
    try:
        jobs = [
            partial(_plan, t, context, project.directory, cutoff, request.latest) for t in targets
        ]
        plans = parallel.run_all(jobs)
        _warn_undated(console, [(p.target, p.taken) for p in plans], cutoff)
        text = project.manifest_path.read_text(encoding="utf-8")
        new_text = _with_ranges(text, plans)
        wanted = _parse_manifest(project, new_text) if new_text != text else current
        seeds = _seeds(plans, wanted, previous, context, project.directory, console)
    finally:
        context.close()
    upgrade = frozenset(p.target.name for p in plans if p.move and p.pin is None)
    result = lock(
        project,
        console,
        upgrade=upgrade,
        offline=request.offline,
        current=wanted,
        seeds=seeds,
        write=False,
    )
    ranges = {(p.target.kind, p.target.name): p.new_range for p in plans if p.new_range}
    updates = _describe(project, previous, result.lockfile, ranges, wanted, console, request)
    if not request.dry_run:
        # Written only now that everything resolved, the manifest first: a lock that
        # disagrees with it would be relocked, never trusted.
        if new_text != text:
            fsutil.write_text_atomic(project.manifest_path, new_text)
        lockfile.write(project.lock_path, result.lockfile)
    moved = {(u.kind, u.name) for u in updates}
    unchanged = sum(1 for t in targets if (t.kind, t.name) not in moved)
    held = tuple(HeldBack(p.target.name, p.target.kind, p.held_back) for p in plans if p.held_back)
    return UpdateResult(tuple(updates), unchanged, held, result.lockfile, not request.dry_run, days)


def _plan(
    target: Target,
    context: SourceContext,
    manifest_dir: Path,
    cutoff: datetime | None,
    latest: bool,
) -> _Plan:
    ref = target.ref
    if not offers_versions(ref):
        return _Plan(target, move=False)
    if follows_branch(ref):
        head = releases(ref, context, manifest_dir, dated=cutoff is not None)[0]
        if not _head_is_new(head, target.entry):
            return _Plan(target, move=False)
        if not old_enough(head, cutoff):
            return _Plan(target, move=False, held_back=(head,))
        return _Plan(target, move=True, taken=head)
    wanted = _range_of(ref)
    if wanted is None:
        return _Plan(target, move=False)  # pinned to a tag or commit: nothing to move to
    offered = releases(ref, context, manifest_dir, dated=cutoff is not None)
    locked = _locked_version(target.entry)
    prereleases = _prereleases(ref)
    choice = choose(offered, wanted, prereleases=prereleases, locked=locked, cutoff=cutoff)
    if not choice.any_in_range and not latest:
        raise _excludes_everything(target, wanted, offered)
    taken = choice.newest if latest else choice.in_range
    # Only what this update would have taken was held back; newer majors are --latest's.
    held_back = tuple(
        r for r in choice.held_back if latest or wanted.matches(_v(r), prereleases=prereleases)
    )
    if taken is None or (locked is not None and _v(taken) <= locked):
        return _Plan(target, move=False, held_back=held_back)
    new_range = None
    final = wanted
    if latest and not wanted.matches(_v(taken), prereleases=prereleases):
        new_range = caret_range_for(_v(taken))
        final = parse_range(new_range)
    # Pinned when the range would give the resolver a newer one than the cooldown allows.
    newer = [
        r
        for r in offered
        if _allowed(r, prereleases)
        and final.matches(_v(r), prereleases=prereleases)
        and _v(r) > _v(taken)
    ]
    return _Plan(
        target,
        move=True,
        pin=taken if newer else None,
        new_range=new_range,
        held_back=held_back,
        taken=taken,
    )


def _excludes_everything(
    target: Target, wanted: VersionRange, offered: Sequence[Release]
) -> StepsError:
    shown = [r.label for r in offered[:8]]
    there = ", ".join(shown) + (", ..." if len(offered) > len(shown) else "")
    table = f"[{_TABLES[target.kind]}.{target.name}]"
    where = target.entry.describe().rsplit("@", 1)[0] if target.entry else target.ref.name
    return StepsError(
        f"{target.label}: no version of {where} matches '{wanted.text}' "
        f"(versions there: {there or 'none'})",
        hint=f"change 'version' in {table} of {manifest.FILE_NAME}, or run "
        f"`steps update --latest {target.name}`",
    )


def _with_ranges(text: str, plans: Sequence[_Plan]) -> str:
    """``text`` (steps.toml) with the ranges ``--latest`` rewrote, comments and order kept."""
    rewritten = [p for p in plans if p.new_range]
    if not rewritten:
        return text
    import tomlkit  # only for the commands that edit

    document = tomlkit.parse(text)
    for plan in rewritten:
        table = document[_TABLES[plan.target.kind]][plan.target.name]
        table["version"] = plan.new_range
    return tomlkit.dumps(document)


def _parse_manifest(project: Project, text: str) -> Manifest:
    doc = tomlfile.parse(text, path=project.manifest_path, display=manifest.FILE_NAME)
    return manifest.from_document(doc)


def _seeds(
    plans: Sequence[_Plan],
    wanted: Manifest,
    previous: Lockfile,
    context: SourceContext,
    manifest_dir: Path,
    console: Console,
) -> list[tuple[str, LockedTemplate]]:
    """Entries locked at exactly the version a cooldown chose, recorded under the range
    steps.toml asks for, so the resolver keeps them as it keeps any entry that fits."""
    pinned = [p for p in plans if p.pin is not None]
    if not pinned:
        return []
    refs = {"template": wanted.templates, "module": _module_refs(wanted, previous)}
    seeds = []
    for plan in pinned:
        assert plan.pin is not None
        final = refs[plan.target.kind][plan.target.name]
        source = final.source
        assert isinstance(source, GitRequirement | GitHubRequirement | NuGetRequirement)
        exact = replace(final, source=replace(source, version=f"=={plan.pin.version}"))
        entry = lock_entry(exact, context, manifest_dir, console.warning)
        # As the lock records the range (with any verify= policy), so relocking keeps it.
        requested = lock_identity(final)["requested"]
        seeds.append((plan.target.kind, replace(entry, requested=requested)))
    return seeds


# --- describing what changed ----------------------------------------------------------------


def _describe(
    project: Project,
    previous: Lockfile,
    new: Lockfile,
    ranges: Mapping[tuple[str, str], str],
    current: Manifest,
    console: Console,
    request: UpdateRequest,
) -> list[EntryUpdate]:
    context = source_context(current, console, request.offline)
    try:
        found = []
        for kind in KINDS:
            before, after = previous.entries(kind), new.entries(kind)
            for name in sorted(set(before) | set(after)):
                old, now = before.get(name), after.get(name)
                if old == now:
                    continue
                update = EntryUpdate(name, kind, old, now, ranges.get((kind, name)))
                if old is not None and now is not None:
                    update = _with_changes(update, context, project.directory, console)
                found.append(update)
        return found
    finally:
        context.close()


def _with_changes(
    update: EntryUpdate, context: SourceContext, manifest_dir: Path, console: Console
) -> EntryUpdate:
    assert update.old is not None and update.new is not None
    try:
        before = _load(update.old, update.kind, context, manifest_dir)
        after = _load(update.new, update.kind, context, manifest_dir)
    except StepsError as error:
        return replace(update, note=f"cannot show what changed: {error}")
    for loaded in (before, after):
        # A sensitive default must not reach the terminal, in a script diff either.
        if isinstance(loaded, Template):
            for parameter in loaded.parameters:
                if parameter.sensitive and parameter.default:
                    console.masker.add(parameter.default)
    parameters: tuple[ParameterChange, ...] = ()
    if isinstance(before, Template) and isinstance(after, Template):
        parameters = parameter_changes(before.parameters, after.parameters)
    old_at = f"a/{update.name}@{update.old_label}"
    new_at = f"b/{update.name}@{update.new_label}"
    diffs = file_diffs(script_files(before), script_files(after), old_at, new_at)
    return replace(update, parameters=parameters, diffs=diffs)


def _load(entry: LockedTemplate, kind: str, context: SourceContext, manifest_dir: Path) -> Loaded:
    source = for_kind(entry.source, context, manifest_dir, kind)
    root = source.from_cache(entry) or source.materialize(entry)
    loaded = load_entry(root, kind, entry.template, f"{kind} '{entry.name}' ({entry.describe()})")
    assert loaded is not None
    return loaded
