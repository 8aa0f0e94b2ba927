"""`steps deployments list | diff`: the journal of package deployments."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates.cli.common import Command, add_action, path_argument, table
from steptemplates.console import Console, Level
from steptemplates.errors import StepsError
from steptemplates.project import Project

if TYPE_CHECKING:
    from steptemplates.deployments import Deployment

Action = Callable[[argparse.Namespace, Console], int]

_ROOTS = (
    "Deployments are recorded in deployments.json under the applications root: --root,\n"
    "else $STEPS_APPLICATIONS_DIR, else .steps/applications in the project (the nearest\n"
    "steps.toml), else the user's data directory."
)


# --- options -------------------------------------------------------------------------------


def _subcommand(
    actions: argparse._SubParsersAction, name: str, help_text: str, description: str
) -> argparse.ArgumentParser:
    parser = add_action(actions, name, help_text, description)
    parser.add_argument(
        "--root",
        metavar="DIR",
        type=path_argument,
        help="the applications root whose deployments to read",
    )
    return parser


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    list_parser = _subcommand(
        actions,
        "list",
        "list the recorded deployments, newest last",
        "List every recorded deployment: id, time, package, version, environment and tenant,\n"
        "whether it succeeded, and the directory it was extracted to.\n\n" + _ROOTS,
    )
    list_parser.add_argument("--package", metavar="ID", help="only deployments of this package")
    list_parser.add_argument("--step", metavar="NAME", help="only deployments made by this step")
    list_parser.add_argument(
        "--json", action="store_true", help="print the deployments as a JSON list"
    )

    diff_parser = _subcommand(
        actions,
        "diff",
        "show how the configuration files of two deployments differ",
        "Compare the files two deployments left in their directories, configuration files\n"
        "only unless --all, as unified diffs from A to B. Lines that held sensitive values\n"
        "when deployed are shown as '****** (sensitive)'. Exits 0 whether or not the files\n"
        "differ.\n\n" + _ROOTS,
    )
    diff_parser.add_argument(
        "a", metavar="A", type=int, help="the id of the deployment to compare from"
    )
    diff_parser.add_argument(
        "b", metavar="B", type=int, help="the id of the deployment to compare with"
    )
    diff_parser.add_argument(
        "--all", action="store_true", help="compare every file, not only configuration files"
    )


# --- actions -------------------------------------------------------------------------------


def _deployments(args: argparse.Namespace, console: Console) -> int:
    action: Action = _ACTIONS[args.action]
    return action(args, console)


def _root(explicit: Path | None) -> Path:
    try:
        state_dir: Path | None = Project.find().state_dir
    except StepsError:
        state_dir = None  # not in a project: the user-wide root
    from steptemplates.deployments import applications_root  # only for this command

    return applications_root(explicit, state_dir)


def _list(args: argparse.Namespace, console: Console) -> int:
    root = _root(args.root)
    from steptemplates.deployments import Journal

    recorded = Journal(root).entries()
    shown = [e for e in recorded if _matches(e, args.package, args.step)]
    if args.json:
        console.line(Level.INFO, json.dumps([e.to_json() for e in shown], indent=2))
    elif shown:
        for row in table([_HEADINGS, *(_row(e) for e in shown)]):
            console.line(Level.INFO, row)
    if not recorded:
        console.status(f"no deployments recorded in {root}")
    elif not shown:
        console.status(f"none of the deployments recorded in {root} match {_filters(args)}")
    return 0


def _matches(entry: Deployment, package: str | None, step: str | None) -> bool:
    # Package ids are case-insensitive in NuGet feeds; step names are typed from memory.
    if package is not None and entry.package_id.casefold() != package.casefold():
        return False
    return step is None or entry.step.casefold() == step.casefold()


def _filters(args: argparse.Namespace) -> str:
    chosen = [f"--package {args.package}" if args.package is not None else ""]
    chosen.append(f"--step {args.step}" if args.step is not None else "")
    return " and ".join(c for c in chosen if c)


_HEADINGS = (
    "ID",
    "INSTALLED ON",
    "PACKAGE",
    "VERSION",
    "ENVIRONMENT/TENANT",
    "STATUS",
    "DIRECTORY",
)


def _row(entry: Deployment) -> tuple[str, ...]:
    where = "/".join(part for part in (entry.environment, entry.tenant) if part) or "-"
    return (
        str(entry.id),
        entry.installed_on,
        entry.package_id,
        entry.version,
        where,
        "ok" if entry.successful else "failed",
        entry.extracted_to,
    )


def _diff(args: argparse.Namespace, console: Console) -> int:
    from steptemplates.deployments import Journal, diff_deployments

    journal = Journal(_root(args.root))
    a, b = journal.get(args.a), journal.get(args.b)
    changes = diff_deployments(a, b, all_files=args.all)
    for change in changes:
        for line in change.diff:
            console.line(Level.INFO, line)
    noun = "files" if args.all else "configuration files"
    between = f"between deployment {a.id} ({a.package_id} {a.version}) and {b.id} "
    between += f"({b.package_id} {b.version})"
    if not changes:
        console.line(Level.INFO, f"no {noun} differ {between}")
    else:
        count = f"{len(changes)} {noun.removesuffix('s') if len(changes) == 1 else noun}"
        console.line(Level.INFO, f"{count} changed {between}")
    return 0


_ACTIONS: dict[str, Action] = {"list": _list, "diff": _diff}


DEPLOYMENTS = Command(
    "deployments",
    "list recorded package deployments, or compare two of them",
    "Each package deployment is extracted to its own directory under the applications root\n"
    "and recorded in a journal there; retention deletes the oldest. `list` shows the\n"
    "journal; `diff` compares the files two deployments left behind.\n\n" + _ROOTS,
    _configure,
    _deployments,
)
