"""`steps secrets set | list | rm`: the project's encrypted secrets file."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from steptemplates import manifest
from steptemplates.cli.common import Command, add_action, path_argument
from steptemplates.console import Console, Level
from steptemplates.errors import StepsError
from steptemplates.variables.scoping import DIMENSIONS, Scope
from steptemplates.variables.secrets import (
    FILE_NAME,
    PASSWORD_ENV,
    SecretsFile,
    clean_scope,
    display_path,
    secrets_password,
)

Action = Callable[[argparse.Namespace, Path, Console], int]

_PASSWORDS = (
    f"The password comes from {PASSWORD_ENV} when it is set (a typed password or a long\n"
    "random key; it is used exactly as it is), else it is asked for when stdin is a terminal."
)


def _prompt(text: str) -> str:
    # Looked up at call time so the terminal prompt can be replaced (tests, embedding).
    return getpass.getpass(text)


# --- options -------------------------------------------------------------------------------


def _add_file_option(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument(
        "--file",
        metavar="PATH",
        type=path_argument,
        default=default,
        help=f"the secrets file (default: the {FILE_NAME} beside the nearest steps.toml)",
    )


def _add_scope_options(parser: argparse.ArgumentParser, verb: str) -> None:
    group = parser.add_argument_group("scope")
    for dimension, what in (
        ("environment", "an environment"),
        ("target", "a deployment target (machine)"),
        ("role", "a target role"),
        ("tenant", "a tenant"),
        ("step", "a step"),
    ):
        group.add_argument(
            f"--{dimension}",
            metavar=dimension.upper(),
            action="append",
            default=[],
            help=f"{verb} {what} (repeatable: any of them)",
        )


def _subcommand(
    actions: argparse._SubParsersAction, name: str, help_text: str, description: str
) -> argparse.ArgumentParser:
    parser = add_action(actions, name, help_text, description)
    # Also accepted after the action; SUPPRESS keeps an absent option from overwriting the
    # value given before it (`steps secrets --file X set ...`).
    _add_file_option(parser, default=argparse.SUPPRESS)
    return parser


def _configure(parser: argparse.ArgumentParser) -> None:
    _add_file_option(parser, default=None)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    set_parser = _subcommand(
        actions,
        "set",
        "add a secret or replace its value",
        "Add a secret, or replace the one with the same name and the same scope.\n\n"
        "The value is read from a hidden prompt (asked twice), from stdin when stdin is not a\n"
        "terminal (one trailing newline is dropped), or from the environment variable named by\n"
        "--from-env. It is never taken from an argument: arguments land in shell history and\n"
        "in the process list, where other users can read them.\n\n" + _PASSWORDS,
    )
    set_parser.add_argument("name", metavar="NAME", help="the variable name")
    set_parser.add_argument(
        "--from-env",
        metavar="VAR",
        help="take the value from this environment variable instead of a prompt or stdin",
    )
    _add_scope_options(set_parser, "only for")

    list_parser = _subcommand(
        actions,
        "list",
        "list the secrets' names and scopes (never their values)",
        "Print each secret's name and scope, one per line. Values are never printed.\n\n"
        + _PASSWORDS,
    )
    list_parser.add_argument(
        "--json", action="store_true", help='print a JSON list of {"name", "scope"} objects'
    )

    rm_parser = _subcommand(
        actions,
        "rm",
        "remove a secret",
        "Remove the secrets named NAME: all of them, or with scope options only the one with\n"
        "exactly that scope, or with --unscoped only the unscoped one. Fails, changing\n"
        "nothing, if none matches.\n\n" + _PASSWORDS,
    )
    rm_parser.add_argument("name", metavar="NAME", help="the variable name")
    rm_parser.add_argument(
        "--unscoped", action="store_true", help="remove only the value that has no scope"
    )
    _add_scope_options(rm_parser, "the value for")


# --- actions -------------------------------------------------------------------------------


def _secrets(args: argparse.Namespace, console: Console) -> int:
    path = args.file if args.file is not None else _default_path()
    action: Action = _ACTIONS[args.action]
    return action(args, path, console)


def _default_path() -> Path:
    try:
        found = manifest.find(Path.cwd())
    except StepsError as error:
        raise StepsError(
            error.message, hint="run `steps init` to create one, or name a file with --file"
        ) from None
    return found.parent / FILE_NAME


def _set(args: argparse.Namespace, path: Path, console: Console) -> int:
    display = display_path(path)
    scope = clean_scope(_scope(args))
    password = secrets_password(confirm=not path.exists(), prompt=_prompt, file=display)
    secrets = SecretsFile.load(path, password)
    value = _read_value(args.name, args.from_env)
    console.masker.add(value)
    replaced = secrets.set(args.name, value, scope)
    secrets.save(password)
    verb = "Replaced" if replaced else "Added"
    console.status(f"{verb} secret '{args.name.strip()}' ({scope.describe()}) in {display}")
    return 0


def _list(args: argparse.Namespace, path: Path, console: Console) -> int:
    display = display_path(path)
    if not path.exists():
        if args.json:
            console.line(Level.INFO, "[]")
        console.status(f"No secrets: {display} does not exist")
        return 0
    secrets = SecretsFile.load(path, secrets_password(prompt=_prompt, file=display))
    if args.json:
        records = [
            {"name": s.name, "scope": {d: list(s.scope.names(d)) for d in _named(s.scope)}}
            for s in secrets.entries
        ]
        console.line(Level.INFO, json.dumps(records, indent=2, ensure_ascii=False))
        return 0
    width = max((len(s.name) for s in secrets.entries), default=0)
    for secret in secrets.entries:
        console.line(Level.INFO, f"{secret.name.ljust(width)}  {secret.scope.describe()}")
    if not secrets.entries:
        console.status(f"No secrets in {display}")
    return 0


def _rm(args: argparse.Namespace, path: Path, console: Console) -> int:
    display = display_path(path)
    scope = _removal_scope(args)
    if not path.exists():
        raise StepsError(
            f"no secret '{args.name}' to remove: {display} does not exist",
            hint="check --file, or run the command in the project",
        )
    password = secrets_password(prompt=_prompt, file=display)
    secrets = SecretsFile.load(path, password)
    removed = secrets.remove(args.name, scope)
    if not removed:
        which = "" if scope is None else f" ({scope.describe()})"
        raise StepsError(
            f"no secret '{args.name}'{which} in {display}; nothing was removed",
            hint="`steps secrets list` shows the names and scopes",
        )
    secrets.save(password)
    noun = "secret" if removed == 1 else "secrets"
    console.status(f"Removed {removed} {noun} '{args.name}' from {display}")
    return 0


_ACTIONS: dict[str, Action] = {"set": _set, "list": _list, "rm": _rm}


# --- helpers -------------------------------------------------------------------------------


def _scope(args: argparse.Namespace) -> Scope:
    return Scope(**{d: tuple(getattr(args, d)) for d in DIMENSIONS})


def _named(scope: Scope) -> list[str]:
    return [d for d in DIMENSIONS if scope.names(d)]


def _removal_scope(args: argparse.Namespace) -> Scope | None:
    """None (every scope) unless scope options or --unscoped narrow it down."""
    scope = clean_scope(_scope(args))
    if args.unscoped and not scope.is_empty:
        raise StepsError(
            "--unscoped cannot be combined with scope options",
            hint="use one or the other",
        )
    if args.unscoped or not scope.is_empty:
        return scope
    return None


def _read_value(name: str, from_env: str | None) -> str:
    """The secret's value: an environment variable, stdin, or a hidden prompt (asked twice)."""
    if from_env is not None:
        value = os.environ.get(from_env)
        if value is None:
            raise StepsError(
                f"--from-env {from_env}: that environment variable is not set",
                hint="export it first, or leave out --from-env to be asked",
            )
    elif sys.stdin is not None and not sys.stdin.isatty():
        value = _drop_one_newline(sys.stdin.read())
    else:
        value = _prompt(f"Value for {name}: ")
        if _prompt(f"Repeat the value for {name}: ") != value:
            raise StepsError(f"the two values for '{name}' differ; nothing was saved")
    if not value:
        raise StepsError(f"the value for '{name}' is empty; nothing was saved")
    return value


def _drop_one_newline(text: str) -> str:
    # `echo value |` and here-strings add one newline; any further ones are the value's own.
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


SECRETS = Command(
    "secrets",
    "set, list or remove the project's encrypted secrets",
    f"Secrets are sensitive variables kept encrypted in {FILE_NAME} beside steps.toml, a\n"
    "file meant to be committed. `steps run` decrypts it and treats each entry as a\n"
    "sensitive variable (masked in all output), with the same scopes as steps.toml's\n"
    "variables.\n\n" + _PASSWORDS,
    _configure,
    _secrets,
)
