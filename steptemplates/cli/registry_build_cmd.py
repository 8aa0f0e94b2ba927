"""`steps registry build`."""

from __future__ import annotations

import argparse
from pathlib import Path

from steptemplates.cli.common import Action, path_argument
from steptemplates.console import Console


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory",
        metavar="DIR",
        nargs="?",
        type=path_argument,
        help="the registry's directory, holding registry.toml (default: ./registry if it "
        "exists, else the current directory)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on a template that does not load, instead of leaving it out with a warning",
    )
    parser.add_argument(
        "--offline", action="store_true", help="never use the network; work from the cache"
    )


def _handle(args: argparse.Namespace, console: Console) -> int:
    # Imported here: building needs git and the template loaders, other commands do not.
    from steptemplates.registries import build

    directory = args.directory or build.default_directory(Path("."))
    result = build.build(directory, console, offline=args.offline, strict=args.strict)
    templates = _count(len(result.index.entries), "template")
    versions = _count(result.versions, "version")
    collections = _count(result.collections, "collection")
    summary = f"{templates}, {versions}, from {collections}"
    if result.written:
        console.status(f"Wrote {result.path}: {summary}")
    else:
        console.status(f"{result.path} is up to date: {summary}")
    for label, names in (
        ("added", result.added),
        ("removed", result.removed),
        ("changed", result.changed),
    ):
        if names:
            console.status(f"  {label}: {', '.join(names)}")
    return 0


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


BUILD = Action(
    "build",
    "write a registry's index.toml from the templates its registry.toml lists",
    "Read DIR/registry.toml, list the version tags of each collection it names, read the\n"
    "templates at each version (and at the followed branch), and write DIR/index.toml:\n"
    "short names, descriptions, sources, versions and parameters. The same inputs give the\n"
    "same bytes, so the index can be committed and checked in review.\n"
    "See docs/registry-format.md.",
    _configure,
    _handle,
)
