"""`steps lock` and `steps sync`."""

from __future__ import annotations

import argparse
import time

from steptemplates import project
from steptemplates.cli.common import Command, add_resolution_options, find_project
from steptemplates.console import Console
from steptemplates.resolve import LockChange, Upgrade


def _configure_lock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upgrade", action="store_true", help="re-resolve every template to its newest match"
    )
    parser.add_argument(
        "--upgrade-template",
        metavar="NAME",
        action="append",
        default=[],
        help="re-resolve only this template (repeatable)",
    )
    add_resolution_options(parser, frozen=False)


def _lock(args: argparse.Namespace, console: Console) -> int:
    upgrade: Upgrade = True if args.upgrade else frozenset(args.upgrade_template)
    started = time.monotonic()
    result = project.lock(
        find_project(), console, upgrade=upgrade, locked=args.locked, offline=args.offline
    )
    took = time.monotonic() - started
    locked = result.lockfile
    what = _counts(len(locked.templates), len(locked.packages), len(locked.modules))
    console.status(f"Resolved {what} in {took:.2f}s")
    _report_changes(console, result.changes)
    return 0


def _counts(templates: int, packages: int, modules: int) -> str:
    """``2 templates and 1 script module``: templates always, the others when there are any."""
    counted = [(templates, "template"), (packages, "package"), (modules, "script module")]
    shown = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in counted if n or what == "template"]
    return " and ".join(shown)


def _report_changes(console: Console, changes: list[LockChange]) -> None:
    for change in changes:
        console.status(f"  {change.describe()}")


LOCK = Command(
    "lock",
    "resolve steps.toml and write steps.lock",
    "Resolve every template in steps.toml to an exact version and commit, fetch it into the\n"
    "cache, and record its content hash in steps.lock. Entries that still satisfy steps.toml\n"
    "are kept as they are, so an unchanged project relocks to a byte-identical file without\n"
    "using the network; --upgrade and --upgrade-template move within the ranges.",
    _configure_lock,
    _lock,
)


def _configure_sync(parser: argparse.ArgumentParser) -> None:
    add_resolution_options(parser, frozen=True)


def _sync(args: argparse.Namespace, console: Console) -> int:
    started = time.monotonic()
    result = project.sync(
        find_project(), console, locked=args.locked, frozen=args.frozen, offline=args.offline
    )
    _report_changes(console, result.changes)
    took = time.monotonic() - started
    what = _counts(len(result.templates), len(result.packages), len(result.modules))
    console.status(f"Synced {what} in {took:.2f}s")
    return 0


SYNC = Command(
    "sync",
    "make every locked template available and verified in the cache",
    "Lock if steps.toml changed (unless --locked or --frozen), then make sure the cache holds\n"
    "every locked template, verifying each against its content hash in steps.lock. A cached\n"
    "copy that was modified is restored from the local git mirror or fetched again.",
    _configure_sync,
    _sync,
)
