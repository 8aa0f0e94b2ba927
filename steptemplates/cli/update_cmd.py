"""`steps outdated` and `steps update`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from steptemplates.cli.common import Command, find_project, table
from steptemplates.console import Console, Level

if TYPE_CHECKING:
    from steptemplates.releases import Release
    from steptemplates.updates import EntryUpdate, Outdated, UpdateResult

_NONE = "-"


def _cooldown(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("a cooldown is 0 days or more")
    return days


def _add_common(parser: argparse.ArgumentParser, names_help: str) -> None:
    parser.add_argument("names", metavar="NAME", nargs="*", help=names_help)
    parser.add_argument(
        "--cooldown",
        metavar="DAYS",
        type=_cooldown,
        help="ignore versions published less than DAYS ago (default: [project] cooldown in "
        "steps.toml; 0 turns it off)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="never use the network; work from the cache"
    )


# --- outdated -------------------------------------------------------------------------------


def _configure_outdated(parser: argparse.ArgumentParser) -> None:
    _add_common(parser, "templates and script modules to check (default: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def _outdated(args: argparse.Namespace, console: Console) -> int:
    from steptemplates import updates  # only for these commands: start-up stays quick

    request = updates.OutdatedRequest(tuple(args.names), args.cooldown, args.offline)
    report = updates.outdated(find_project(), request, console)
    if args.json:
        listed = [_json_row(row, report.checked_at) for row in report.rows]
        console.line(Level.INFO, json.dumps(listed, indent=2))
        return 0
    if report.cooldown_days:
        console.status(
            f"Cooldown: versions younger than {_days(report.cooldown_days)} are held back"
        )
    for kind, title in (("template", "TEMPLATE"), ("module", "MODULE")):
        rows = [row for row in report.rows if row.kind == kind]
        if kind == "module" and not rows:
            continue
        if kind == "module":
            console.line(Level.INFO, "")
        cells: list[tuple[str, ...]] = [
            (title, "LOCKED", "AGE", "IN RANGE", "NEWEST", "PUBLISHED", "STATUS")
        ]
        cells += [_table_row(row, report.checked_at) for row in rows]
        for line in table(cells):
            console.line(Level.INFO, line)
    current = sum(1 for row in report.rows if row.up_to_date)
    console.status(f"{current} of {len(report.rows)} up to date")
    return 0


def _table_row(row: Outdated, now: datetime) -> tuple[str, ...]:
    status = row.status
    if row.held_back:
        shown = ", ".join(f"{_version(r)} ({_age(r.published, now)})" for r in row.held_back[:3])
        status += f"; held back: {shown}"
    return (
        row.name,
        row.locked or _NONE,
        _age(row.locked_published, now),
        _version(row.in_range),
        _version(row.newest),
        _date(row.newest.published if row.newest else None),
        status,
    )


def _json_row(row: Outdated, now: datetime) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "source": row.source,
        "requested": row.requested,
        "locked": row.locked,
        "locked_published": _iso(row.locked_published),
        "locked_age_days": _age_days(row.locked_published, now),
        "in_range": row.in_range and row.in_range.label,
        "in_range_published": _iso(row.in_range.published if row.in_range else None),
        "newest": row.newest and row.newest.label,
        "newest_published": _iso(row.newest.published if row.newest else None),
        "held_back": [{"version": r.label, "published": _iso(r.published)} for r in row.held_back],
        "up_to_date": row.up_to_date,
        "status": row.status,
        "problem": row.problem,
    }


def _version(release: Release | None) -> str:
    return release.label if release is not None else _NONE


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _date(when: datetime | None) -> str:
    return when.date().isoformat() if when is not None else _NONE


def _age_days(when: datetime | None, now: datetime) -> int | None:
    return max((now - when).days, 0) if when is not None else None


def _age(when: datetime | None, now: datetime) -> str:
    days = _age_days(when, now)
    if days is None:
        return _NONE
    return "today" if days == 0 else f"{days}d"


def _days(days: float) -> str:
    shown = f"{days:g}"
    return f"{shown} day" if shown == "1" else f"{shown} days"


OUTDATED = Command(
    "outdated",
    "list templates and script modules with newer versions",
    "For each locked template and script module: the locked version and how old it is, the\n"
    "newest version its range in steps.toml allows, and the newest of all. --cooldown hides\n"
    "versions published less than DAYS ago (and says which). A source that cannot be asked\n"
    "is reported on its row; the command still exits 0.",
    _configure_outdated,
    _outdated,
)


# --- update ---------------------------------------------------------------------------------


def _configure_update(parser: argparse.ArgumentParser) -> None:
    _add_common(parser, "templates and script modules to update (default: all)")
    parser.add_argument(
        "--latest",
        action="store_true",
        help="move to the newest version even outside the range, rewriting the range in "
        "steps.toml to ^NEW",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change without writing anything"
    )


def _update(args: argparse.Namespace, console: Console) -> int:
    from steptemplates import updates  # only for these commands: start-up stays quick

    request = updates.UpdateRequest(
        names=tuple(args.names),
        latest=args.latest,
        cooldown_days=args.cooldown,
        dry_run=args.dry_run,
        offline=args.offline,
    )
    result = updates.update(find_project(), request, console)
    for update in result.updates:
        _print_update(console, update, result.written)
    _print_held_back(console, result)
    _print_summary(console, result)
    return 0


def _print_update(console: Console, update: EntryUpdate, written: bool) -> None:
    out = console.line
    what = update.name if update.kind == "template" else f"module {update.name}"
    if update.old is None:
        out(Level.INFO, f"{what}: added at {update.new_label}")
        return
    if update.new is None:
        out(Level.INFO, f"{what}: removed (was {update.old_label})")
        return
    verb = "" if written else "would move "
    out(Level.INFO, f"{what}: {verb}{update.old_label} -> {update.new_label}")
    if update.range_written:
        out(Level.INFO, f'  steps.toml: version = "{update.range_written}"')
    if update.note:
        out(Level.INFO, f"  {update.note}")
    if update.parameters:
        out(Level.INFO, "  parameters:")
        for change in update.parameters:
            out(Level.INFO, f"    {change.describe()}")
    elif not update.note and update.kind == "template":
        out(Level.INFO, "  parameters: unchanged")
    if not update.diffs and not update.note:
        out(Level.INFO, "  scripts: unchanged")
    for diff in update.diffs:
        for line in diff.lines:
            out(Level.INFO, line)
    out(Level.INFO, "")


def _print_held_back(console: Console, result: UpdateResult) -> None:
    if not result.held_back:
        return
    cooldown = f" ({_days(result.cooldown_days)})" if result.cooldown_days else ""
    for held in result.held_back:
        what = held.name if held.kind == "template" else f"module {held.name}"
        shown = ", ".join(f"{r.label} (published {_date(r.published)})" for r in held.releases)
        console.line(Level.INFO, f"{what}: held back by the cooldown{cooldown}: {shown}")


def _print_summary(console: Console, result: UpdateResult) -> None:
    moved = len(result.updates)
    noun = "entry" if moved == 1 else "entries"
    done = "updated" if result.written else "would be updated (dry run: nothing written)"
    console.line(
        Level.INFO,
        f"{moved} {noun} {done}; {result.unchanged} already at the newest version their "
        "range allows",
    )


UPDATE = Command(
    "update",
    "move templates and script modules to newer versions, showing what changes",
    "Relock the named templates and script modules (default: all) at the newest version\n"
    "their range allows (--latest: the newest of all, rewriting the range in steps.toml),\n"
    "and print for each what changes: its parameters (added, removed, renamed-looking,\n"
    "changed defaults) and a diff of its scripts. steps.toml and steps.lock are written only\n"
    "once everything resolved; --dry-run writes nothing.",
    _configure_update,
    _update,
)
