"""`steps registry add`, `list` and `remove`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from steptemplates.cli.common import Action
from steptemplates.console import Console, Level


def _configure_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", metavar="NAME", help="the name to refer to it by (A-Z a-z 0-9 . _ -)"
    )
    parser.add_argument(
        "url",
        metavar="URL",
        help="a git repository (git://, ssh://, user@host:path, *.git, or file:// of a "
        "repository), the URL of an index.toml on a web host (or of its folder, ending in "
        "'/'), or a directory holding index.toml",
    )
    parser.add_argument(
        "--project",
        action="store_true",
        help="add it to the project's steps.toml instead of your user configuration",
    )
    parser.add_argument("--subdir", metavar="DIR", help="git: the folder holding index.toml")
    parser.add_argument("--branch", help="git: the branch to read (default: the remote's HEAD)")
    parser.add_argument(
        "--git", action="store_true", help="the URL is a git repository, whatever it looks like"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="save it without reading its index first (which needs the network)",
    )


def _add(args: argparse.Namespace, console: Console) -> int:
    from steptemplates import manifest, project
    from steptemplates.registries import config

    manifest_path, _ = config.project_registries(Path.cwd())
    current = manifest.load(manifest_path) if manifest_path else None
    request = config.RegistryRequest(
        args.name, args.url, args.project, args.subdir, args.branch, args.git
    )
    context = project.source_context(current, console, args.offline)
    try:
        added = config.add(request, manifest_path, context)
    finally:
        context.close()
    verb = "Replaced" if added.replaced else "Added"
    found = (
        "not read (--offline)"
        if added.templates is None
        else f"{added.templates} template{'' if added.templates == 1 else 's'}"
    )
    console.status(
        f"{verb} registry '{added.location.name}' ({added.location.describe()}) in "
        f"{added.file}: {found}"
    )
    if added.shadowed_by is not None:
        console.warning(
            f"{added.shadowed_by} also has a registry '{added.location.name}', which this "
            "project uses instead"
        )
    return 0


ADD = Action(
    "add",
    "add a registry to search and add templates from",
    "Add a registry: a git repository, a web host or a directory holding an index.toml.\n"
    "Its index is read first, so that a wrong URL fails at once. It is saved in your user\n"
    "configuration, or with --project in steps.toml (which wins on a shared name).",
    _configure_add,
    _add,
)


def _configure_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the registries as JSON")


def _list(args: argparse.Namespace, console: Console) -> int:
    from steptemplates.cache import default_root
    from steptemplates.registries import config

    manifest_path, _ = config.project_registries(Path.cwd())
    rows = config.listing(manifest_path, default_root())
    if args.json:
        records = [
            {
                "name": row.location.name,
                "kind": row.location.kind,
                **row.location.fields(),
                "configured": str(row.file),
                "scope": row.scope,
                "shadowed": row.shadowed,
                "templates": row.templates,
                "fetched_at": row.fetched_at.isoformat() if row.fetched_at else None,
            }
            for row in rows
        ]
        console.line(Level.INFO, json.dumps(records, indent=2))
        return 0
    if not rows:
        console.status("No registries are configured; add one with `steps registry add NAME URL`")
        return 0
    table = [("NAME", "KIND", "LOCATION", "CONFIGURED IN", "TEMPLATES")]
    for row in rows:
        where = str(row.file) + (" (hidden by steps.toml)" if row.shadowed else "")
        count = "?" if row.templates is None else str(row.templates)
        location = row.location.location + (
            f" ({row.location.subdir})" if row.location.subdir else ""
        )
        table.append((row.location.name, row.location.kind, location, where, count))
    for line in _aligned(table):
        console.line(Level.INFO, line)
    return 0


LIST = Action(
    "list",
    "list the configured registries",
    "List the registries `steps search` reads: the project's (steps.toml) and yours (the\n"
    "user configuration), with how many templates each had when last fetched ('?': not\n"
    "fetched yet).",
    _configure_list,
    _list,
)


def _configure_remove(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the registry to remove")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--project", action="store_true", help="remove it from steps.toml only")
    scope.add_argument(
        "--user", action="store_true", help="remove it from your user configuration only"
    )


def _remove(args: argparse.Namespace, console: Console) -> int:
    from steptemplates.registries import config

    manifest_path, _ = config.project_registries(Path.cwd())
    scope = "project" if args.project else "user" if args.user else None
    file = config.remove(args.name, manifest_path, scope=scope)
    console.status(f"Removed registry '{args.name}' from {file}")
    return 0


REMOVE = Action(
    "remove",
    "remove a registry",
    "Remove a registry from the file that configures it: steps.toml or your user\n"
    "configuration (--project or --user when both do). Templates added from it stay: they\n"
    "name their real source.",
    _configure_remove,
    _remove,
)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
