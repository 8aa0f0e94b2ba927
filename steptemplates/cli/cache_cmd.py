"""`steps cache dir | clean | prune`."""

from __future__ import annotations

import argparse

from steptemplates import project
from steptemplates.cli.common import Command
from steptemplates.console import Console, Level


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=("dir", "clean", "prune"),
        help="dir: print the cache directory; clean: delete the whole cache; "
        "prune: delete what no known steps.lock uses",
    )


def _cache(args: argparse.Namespace, console: Console) -> int:
    if args.action == "dir":
        console.line(Level.INFO, str(project.cache_dir()))
    elif args.action == "clean":
        path = project.cache_clean()
        console.status(f"Removed {path}")
    else:
        report = project.cache_prune(console)
        entries = _count(report.entries, "template entry", "template entries")
        downloads = _count(report.downloads, "downloaded archive", "downloaded archives")
        mirrors = _count(report.mirrors, "git mirror", "git mirrors")
        staging = _count(
            report.staging, "leftover staging directory", "leftover staging directories"
        )
        console.status(f"Removed {entries}, {downloads}, {mirrors} and {staging}")
    return 0


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


CACHE = Command(
    "cache",
    "show, clean or prune the shared cache",
    "The cache holds one git mirror per remote and one verified copy of each locked template,\n"
    "shared by all projects. It lives in the platform's user cache directory unless\n"
    "STEPS_CACHE_DIR is set. prune keeps what the steps.lock files that used the cache still\n"
    "need.",
    _configure,
    _cache,
)
