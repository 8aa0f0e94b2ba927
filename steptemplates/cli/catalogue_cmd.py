"""`steps registry site`."""

from __future__ import annotations

import argparse
from pathlib import Path

from steptemplates import manifest, project
from steptemplates.cli.common import Action, path_argument
from steptemplates.console import Console, Level
from steptemplates.errors import StepsError
from steptemplates.manifest import Manifest


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "out",
        metavar="OUT",
        type=path_argument,
        help="the directory to write: created, or replaced when it holds an earlier catalogue",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--registry", metavar="NAME", help="a configured registry (see `steps registry list`)"
    )
    which.add_argument(
        "--index",
        metavar="PATH",
        type=path_argument,
        help="an index.toml, or a directory holding one "
        "(default: registry/index.toml, else index.toml, in the current directory)",
    )
    parser.add_argument(
        "--no-scripts",
        action="store_true",
        help="leave out the templates' scripts instead of loading them from their sources",
    )
    parser.add_argument(
        "--offline", action="store_true", help="never use the network; work from the cache"
    )


def _handle(args: argparse.Namespace, console: Console) -> int:
    from steptemplates.registries import site  # only for this command: start-up stays quick

    current = _manifest_here()
    context = project.source_context(current, console, args.offline)
    try:
        if args.registry:
            chosen = site.configured_index(args.registry, current, context)
        else:
            chosen = site.index_at(args.index, Path.cwd())
        result = site.write_site(chosen, args.out, context, scripts=not args.no_scripts)
    finally:
        context.close()
    count = f"{result.templates} template" + ("" if result.templates == 1 else "s")
    console.status(f"wrote the catalogue of {count} to {result.directory}")
    console.line(Level.INFO, str(result.directory / "index.html"))
    return 0


def _manifest_here() -> Manifest | None:
    """The project's steps.toml, for its registries and credentials; none is fine."""
    try:
        path = manifest.find(Path.cwd())
    except StepsError:
        return None
    return manifest.load(path)


SITE = Action(
    "site",
    "write a static HTML catalogue of a registry",
    "Write a registry's templates as a static HTML catalogue into OUT: a search page and one\n"
    "page per template (description, versions, parameters, the `steps add` line, the\n"
    "script). It works from a file:// URL or any static web host. See docs/catalogue.md.",
    _configure,
    _handle,
)
