"""`steps pack` and `steps publish`: templates as NuGet packages on a static v3 feed."""

from __future__ import annotations

import argparse
from pathlib import Path

from steptemplates.cli.common import Command, path_argument
from steptemplates.console import Console, Level
from steptemplates.nuget import pack, static_feed


def _configure_pack(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory", metavar="DIR", type=path_argument, help="the template directory to pack"
    )
    parser.add_argument(
        "--version",
        metavar="V",
        help="the package version, such as 1.2.0 or 1.3.0-beta.1 (required: the template "
        "format has no version of its own)",
    )
    parser.add_argument(
        "--id",
        metavar="ID",
        help="the package id (default: the template's name made into a valid NuGet id)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=path_argument,
        default=Path("."),
        help="where to write <Id>.<Version>.nupkg (default: the current directory)",
    )


def _pack(args: argparse.Namespace, console: Console) -> int:
    path = pack.pack(args.directory, args.out, version=args.version, package_id=args.id)
    console.line(Level.INFO, str(path))
    return 0


def _configure_publish(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "package", metavar="PACKAGE", type=path_argument, help="the .nupkg to publish"
    )
    parser.add_argument(
        "--feed",
        metavar="DIR",
        type=path_argument,
        required=True,
        help="the feed directory (created if missing)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the URL the feed directory is served at, e.g. https://example.com/feed "
        "(default: the one the feed was made for, else the directory's file:// URL)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a version already in the feed; with a new --base-url, rewrite every URL",
    )


def _publish(args: argparse.Namespace, console: Console) -> int:
    result = static_feed.publish(
        args.package, args.feed, base_url=args.base_url, force=args.force, console=console
    )
    verb = "Replaced" if result.replaced else "Published"
    console.status(f"{verb} {result.package_id} {result.version} in {result.feed_dir}")
    console.line(Level.INFO, result.service_index_url)
    return 0


PACK = Command(
    "pack",
    "make a template directory into a NuGet package (.nupkg)",
    "Pack the template in DIR into <Id>.<Version>.nupkg, with the template's files at the\n"
    "package root, and print its path. The same files, id and version always give the same\n"
    "bytes. .git/, .steps/, __pycache__/, editor backups and .nupkg files at the top are left\n"
    "out; symbolic links are refused. See docs/publishing.md.",
    _configure_pack,
    _pack,
)

PUBLISH = Command(
    "publish",
    "add a .nupkg to a static NuGet v3 feed directory",
    "Write PACKAGE into the NuGet v3 feed in --feed DIR, which any static web server (or a\n"
    "shared folder) can serve, and print the feed's service index URL. A version already\n"
    "in the feed is refused unless --force. See docs/publishing.md.",
    _configure_publish,
    _publish,
)
