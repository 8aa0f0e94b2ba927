"""`steps search` and `steps info`.

Kept light: a search of registries fetched recently reads their cached copies and imports
neither the sources nor the HTTP and git clients; those come only when one must be fetched.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates.cli.common import Command
from steptemplates.console import Console, Level

if TYPE_CHECKING:
    from steptemplates.registries.fetch import FetchedIndex
    from steptemplates.registries.index import IndexEntry
    from steptemplates.registries.search import Found
    from steptemplates.sources import SourceContext

DEFAULT_LIMIT = 20
_DESCRIPTION_WIDTH = 70


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", metavar="NAME", help="read only this configured registry")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="fetch every registry again, however recently it was fetched",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never use the network; read the copies fetched last",
    )


@contextmanager
def _indexes(args: argparse.Namespace, console: Console) -> Iterator[Sequence[FetchedIndex]]:
    """The configured registries' indexes; a sources context only if one must be fetched."""
    from steptemplates.cache import default_root
    from steptemplates.registries import config, fetch

    locations = config.select(config.configured_at(Path.cwd()), args.registry)
    made: list[SourceContext] = []

    def connect() -> SourceContext:
        from steptemplates import manifest, project

        manifest_path, _ = config.project_registries(Path.cwd())
        current = manifest.load(manifest_path) if manifest_path else None
        made.append(project.source_context(current, console, args.offline))
        return made[0]

    try:
        gathered = fetch.fetch_all(
            list(locations.values()),
            default_root(),
            connect,
            offline=args.offline,
            refresh=args.refresh,
        )
        for warning in gathered.warnings:
            console.warning(warning)
        yield gathered.indexes
    finally:
        for context in made:
            context.close()


# --- steps search ------------------------------------------------------------------------------


def _configure_search(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", metavar="WORD", nargs="+", help="what to look for")
    parser.add_argument(
        "--limit",
        metavar="N",
        type=int,
        default=DEFAULT_LIMIT,
        help=f"show at most N templates (default {DEFAULT_LIMIT}; 0 for all)",
    )
    _add_reading_options(parser)


def _search(args: argparse.Namespace, console: Console) -> int:
    from steptemplates.registries import search

    with _indexes(args, console) as indexes:
        hits = search.search(indexes, args.words, limit=args.limit or None)
    if args.json:
        records = [
            {
                "name": hit.row.name,
                "registry": hit.registry,
                "version": hit.row.newest or None,
                "branch": hit.row.branch or None,
                "category": hit.row.category,
                "description": hit.row.description,
                "score": hit.score,
            }
            for hit in hits
        ]
        console.line(Level.INFO, json.dumps(records, indent=2, ensure_ascii=False))
        return 0
    if not hits:
        console.status(f"No templates match '{' '.join(args.words)}'")
        return 0
    rows = [("NAME", "VERSION", "REGISTRY", "DESCRIPTION")]
    for hit in hits:
        newest = hit.row.newest or (f"branch {hit.row.branch}" if hit.row.branch else "")
        rows.append((hit.row.name, newest, hit.registry, _summary(hit.row.description)))
    for line in _aligned(rows):
        console.line(Level.INFO, line)
    return 0


def _summary(description: str) -> str:
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if len(first) > _DESCRIPTION_WIDTH:
        first = first[: _DESCRIPTION_WIDTH - 3].rstrip() + "..."
    return first


SEARCH = Command(
    "search",
    "search the configured registries for templates",
    "Search the registries you configured (`steps registry add`) for templates whose name,\n"
    "category, description or parameters match every WORD; best matches first.\n"
    "A registry fetched in the last 10 minutes (STEPS_REGISTRY_MAX_AGE seconds) is read\n"
    "from the cache; see docs/registries.md.",
    _configure_search,
    _search,
)


# --- steps info --------------------------------------------------------------------------------


def _configure_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name", metavar="NAME", help="a template's short name, or REGISTRY/NAME to pick one"
    )
    _add_reading_options(parser)


def _info(args: argparse.Namespace, console: Console) -> int:
    from steptemplates.registries import search

    with _indexes(args, console) as indexes:
        found = search.lookup(args.name, indexes)
    source = search.describe_source(found)
    add = f"steps add {found.add_name}"
    if args.json:
        from steptemplates.registries.fetch import entry_to_json

        record = {"registry": found.registry, **entry_to_json(found.entry)}
        record.update({"real_source": source, "add": add})
        console.line(Level.INFO, json.dumps(record, indent=2, ensure_ascii=False))
        return 0
    for line in _details(found, source, add):
        console.line(Level.INFO, line)
    return 0


def _details(found: Found, source: str, add: str) -> list[str]:
    entry = found.entry
    lines = [f"{entry.name} (registry '{found.registry}')"]
    lines += [f"  {line}".rstrip() for line in entry.description.strip().splitlines()]
    facts = [
        ("category", entry.category),
        ("format", entry.format),
        ("source", source),
        ("maintainers", ", ".join(entry.maintainers)),
        ("modules", ", ".join(entry.modules)),
        ("add", add),
    ]
    lines += [f"  {label + ':':13}{value}" for label, value in facts if value]
    lines.append("")
    lines += _versions(entry)
    lines.append("")
    lines += _parameters(entry)
    return lines


def _versions(entry: IndexEntry) -> list[str]:
    if not entry.versions:
        return [f"VERSIONS: none; it follows branch '{entry.branch or 'the default'}'"]
    lines = ["VERSIONS"]
    for version in entry.versions:
        date = version.published.date().isoformat() if version.published else ""
        lines.append(f"  {version.version:12} {date:10} {version.tag or ''}".rstrip())
        lines += [f"      {line}".rstrip() for line in version.notes.strip().splitlines()]
    return lines


def _parameters(entry: IndexEntry) -> list[str]:
    if not entry.parameters:
        return ["(no parameters)"]
    rows = [("PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "LABEL")]
    for parameter in entry.parameters:
        kind = parameter.type + (f" ({'|'.join(parameter.options)})" if parameter.options else "")
        default = (parameter.default or "").replace("\n", " ")
        default = default if len(default) <= 30 else default[:27] + "..."
        rows.append(
            (parameter.name, kind, "yes" if parameter.required else "", default, parameter.label)
        )
    return _aligned(rows)


INFO = Command(
    "info",
    "show a template from the registries: versions, parameters, source",
    "Show a template found in the configured registries: its description, real source,\n"
    "versions with their dates and release notes, parameters, the script modules it\n"
    "needs, and the `steps add` line that adds it.",
    _configure_info,
    _info,
)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
