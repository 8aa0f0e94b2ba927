"""Options shared by several commands, registered the same way everywhere."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates.console import Console
from steptemplates.errors import StepsError

if TYPE_CHECKING:
    # Imported where used: every command imports this module, and most need neither.
    from steptemplates.project import Project
    from steptemplates.variables.scoping import Context

Handler = Callable[[argparse.Namespace, Console], int]
Subparsers = argparse._SubParsersAction


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Handler

    def register(self, subparsers: Subparsers) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(
            self.name,
            help=self.help,
            description=self.description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_output_options(parser)
        self.configure(parser)
        parser.set_defaults(handler=self.handler)
        return parser


@dataclass(frozen=True)
class Action:
    """One action of a command group (`steps registry build`), kept in its own module."""

    name: str
    help: str
    description: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Handler

    def register(self, actions: Subparsers) -> argparse.ArgumentParser:
        parser = add_action(actions, self.name, self.help, self.description)
        self.configure(parser)
        parser.set_defaults(handler=self.handler)
        return parser


def table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as lines of left-aligned columns two spaces apart (the first row: headings)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--verbose", action="store_true", help="show verbose output too")
    group.add_argument("-q", "--quiet", action="store_true", help="hide steps' own progress lines")


def add_action(
    actions: argparse._SubParsersAction, name: str, help_text: str, description: str
) -> argparse.ArgumentParser:
    """One action of a command group (`steps secrets set`), taking the output options too."""
    parser: argparse.ArgumentParser = actions.add_parser(
        name,
        help=help_text,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_late_output_options(parser)
    return parser


def add_late_output_options(parser: argparse.ArgumentParser) -> None:
    """--verbose and -q also after a command group's action (`steps secrets list -q`);
    SUPPRESS keeps an absent option from overwriting the value given before the action."""
    output = parser.add_argument_group("output")
    output.add_argument(
        "--verbose", action="store_true", default=argparse.SUPPRESS, help="show verbose output too"
    )
    output.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="hide steps' own progress lines",
    )


def add_resolution_options(parser: argparse.ArgumentParser, *, frozen: bool) -> None:
    group = parser.add_argument_group("lockfile and network")
    lock_mode = group.add_mutually_exclusive_group()
    lock_mode.add_argument(
        "--locked",
        action="store_true",
        help="fail if steps.lock would change instead of updating it",
    )
    if frozen:
        lock_mode.add_argument(
            "--frozen",
            action="store_true",
            help="use steps.lock as it is, without checking it against steps.toml; "
            "fail on any mismatch with the cache or the remote",
        )
    group.add_argument(
        "--offline", action="store_true", help="never use the network; work from the cache"
    )


def add_variable_options(
    parser: argparse.ArgumentParser, *, override_help: str, strict_help: str
) -> argparse._ArgumentGroup:
    """-v, --variables, --strict-variables and the scope options, shared by run and render."""
    group = parser.add_argument_group("variables")
    group.add_argument(
        "-v",
        "--variable",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help=override_help,
    )
    group.add_argument(
        "--variables",
        metavar="FILE",
        action="append",
        default=[],
        type=path_argument,
        help="a variables file: JSON ({name: value} or Calamari's [{k, v, s}]), YAML or TOML, "
        "values optionally scoped (repeatable; later files win)",
    )
    group.add_argument("--strict-variables", action="store_true", help=strict_help)
    add_scope_options(parser)
    return group


def add_scope_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "scope", "pick the values of scoped variables, as an Octopus deployment would"
    )
    group.add_argument("--environment", metavar="NAME", help="the environment deployed to")
    group.add_argument(
        "--target", metavar="NAME", help="the deployment target (machine); implies its roles"
    )
    group.add_argument(
        "--role", metavar="NAME", action="append", default=[], help="a target role (repeatable)"
    )
    group.add_argument("--tenant", metavar="NAME", help="the tenant deployed for")


def context_from(args: argparse.Namespace) -> Context:
    """The scope chosen with --environment, --target, --role and --tenant."""
    from steptemplates.variables.scoping import Context

    return Context(
        environment=args.environment,
        target=args.target,
        roles=tuple(args.role),
        tenant=args.tenant,
    )


def find_project() -> Project:
    from steptemplates.project import Project

    return Project.find()


def parse_assignment(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` from the command line."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise StepsError(f"-v expects NAME=VALUE, got '{text}'")
    return name.strip(), value


def path_argument(text: str) -> Path:
    return Path(text).expanduser()
