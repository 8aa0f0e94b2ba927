"""`steps import` and `steps export`: Octopus JSON <-> the native template layout."""

from __future__ import annotations

import argparse
from pathlib import Path

from steptemplates import fsutil
from steptemplates.cli.common import Command, path_argument
from steptemplates.console import Console
from steptemplates.templates import convert


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", type=path_argument, help="the Octopus step template JSON file"
    )
    parser.add_argument(
        "--to",
        metavar="DIR",
        type=path_argument,
        help="the template directory to write (default: the template's name as a slug, "
        "e.g. slack-send-notification)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into DIR even if it is not empty (the template's files are replaced, "
        "others are left alone)",
    )


def _import(args: argparse.Namespace, console: Console) -> int:
    imported = convert.import_json(args.file, args.to, force=args.force)
    for warning in imported.warnings:
        console.warning(warning)
    files = ", ".join(imported.files)
    console.status(f"Imported '{imported.template.name}' into {imported.path} ({files})")
    return 0


def _version(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number >= 0")
    return int(text)


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory",
        metavar="DIR",
        nargs="?",
        type=path_argument,
        default=Path("."),
        help="the template directory (or template file) to export (default: .)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=path_argument,
        help="write the JSON to FILE (default: standard output)",
    )
    parser.add_argument(
        "--version",
        metavar="N",
        type=_version,
        help="the Octopus Version to export (default: [octopus] version, else 1)",
    )


def _export(args: argparse.Namespace, console: Console) -> int:
    exported = convert.export_dir(args.directory, version=args.version)
    for warning in exported.warnings:
        console.warning(warning)
    if args.output is None:
        console.out.write(exported.text)
        console.out.flush()
        return 0
    fsutil.write_text_atomic(args.output, exported.text)
    console.status(f"Wrote {args.output}")
    return 0


IMPORT = Command(
    "import",
    "convert an Octopus step template JSON file",
    "Write the Octopus step template (ActionTemplate JSON) in FILE as a template directory:\n"
    "steptemplate.toml and the script as a file of its own (script.sh, script.py, ...).\n"
    "Nothing is lost: `steps export` gives the same JSON back. A non-empty directory is\n"
    "refused unless --force. See docs/octopus.md.",
    _configure_import,
    _import,
)

EXPORT = Command(
    "export",
    "write a template as Octopus step template JSON",
    "Write the template in DIR as Octopus step template JSON (ActionTemplate), ready for\n"
    "Octopus's Library > Step Templates > Import or a pull request to the community\n"
    "library. The Id and Version come from [octopus] in steptemplate.toml. See\n"
    "docs/octopus.md.",
    _configure_export,
    _export,
)
