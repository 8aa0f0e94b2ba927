"""`steps render`: substitute variables in a file or stdin, like envsubst with Octostache."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from steptemplates import render
from steptemplates.cli.common import (
    Command,
    add_variable_options,
    context_from,
    parse_assignment,
    path_argument,
)
from steptemplates.console import Console


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        default="-",
        help="the template to render; '-' or nothing reads stdin",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=path_argument,
        help="write the result here (atomically) instead of to stdout",
    )
    group = add_variable_options(
        parser,
        override_help="set a variable (wins over files and the project's variables)",
        strict_help="fail, listing each one with its line and column, if any reference is "
        "unresolved (by default it is left as written and a warning is printed)",
    )
    group.add_argument(
        "--no-project",
        action="store_true",
        help="ignore the variables and secrets of the project around the current directory",
    )


def _render(args: argparse.Namespace, console: Console) -> int:
    source = "<stdin>" if args.file == "-" else args.file
    data = sys.stdin.buffer.read() if args.file == "-" else render.read_bytes(Path(args.file))
    request = render.RenderRequest(
        data=data,
        source=source,
        variables_files=args.variables,
        overrides=[parse_assignment(text) for text in args.variable],
        context=context_from(args),
        strict=args.strict_variables,
        use_project=not args.no_project,
    )
    output = render.render(request, console)
    if args.output is not None:
        render.write_output(args.output, output)
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.buffer.flush()
    return 0


RENDER = Command(
    "render",
    "substitute #{...} variables in a file or stdin and print the result",
    "Evaluate a file (or stdin) as an Octostache template, with the same engine as steps run:\n"
    "#{Var}, #{if}, #{each}, filters, calc. Variables come from the project's steps.toml and\n"
    "steps.secrets (unless --no-project), --variables files and -v, scoped by --environment,\n"
    "--target, --role and --tenant. Unresolved references are left as written, with a\n"
    "warning (-q hides these); --strict-variables makes them an error. The encoding,\n"
    "byte-order mark and line endings of the input are kept.",
    _configure,
    _render,
)
