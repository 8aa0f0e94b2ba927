"""`steps run` and `steps run-script`."""

from __future__ import annotations

import argparse
import shlex

from steptemplates import project
from steptemplates.cli.common import (
    Command,
    add_resolution_options,
    find_project,
    parse_assignment,
    path_argument,
)
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.execution.runner import RunOutcome


def _add_variable_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("variables")
    group.add_argument(
        "-v",
        "--variable",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="set a variable; wins over everything but earlier steps' output variables",
    )
    group.add_argument(
        "--variables",
        metavar="FILE",
        action="append",
        default=[],
        type=path_argument,
        help="a variables file: JSON ({name: value} or Calamari's [{k, v, s}]) or TOML "
        "(repeatable; later files win)",
    )


def _add_report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=path_argument,
        help="write the JSON run report here (default: .steps/runs/<run-id>.json)",
    )


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "steps", metavar="STEP", nargs="*", help="run only these steps (default: the whole process)"
    )
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep each step's working directory (its path is printed) instead of removing it",
    )
    _add_variable_options(parser)
    _add_report_option(parser)
    add_resolution_options(parser, frozen=True)


def _run(args: argparse.Namespace, console: Console) -> int:
    request = project.RunRequest(
        steps=args.steps,
        variables_files=args.variables,
        overrides=[parse_assignment(text) for text in args.variable],
        keep_workdir=args.keep_workdir,
        report_path=args.report,
        locked=args.locked,
        frozen=args.frozen,
        offline=args.offline,
    )
    return _finish(project.run(find_project(), request, console), console)


def _finish(outcome: RunOutcome, console: Console) -> int:
    record = outcome.record
    console.status(
        f"Run {record.run_id} {record.status} in {record.duration_seconds:.2f}s; "
        f"report: {outcome.report_path}"
    )
    return outcome.exit_code


RUN = Command(
    "run",
    "run the process (or some of its steps)",
    "Lock and sync if needed, then run the steps of steps.toml in order. Each step runs in a\n"
    "fresh working directory with its template's files and its variables. A failing step\n"
    "stops the process: later steps run only if their condition is 'failure' or 'always'.\n"
    "The exit code is the first failed step's exit code (124 on a timeout, 130 on Ctrl-C).",
    _configure_run,
    _run,
)


def _configure_run_script(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--script", metavar="FILE", type=path_argument, required=True, help="the script to run"
    )
    parser.add_argument(
        "--syntax",
        help="bash, python, powershell, csharp or fsharp (default: from the file extension)",
    )
    parser.add_argument(
        "--script-parameters",
        metavar="ARGS",
        default="",
        help="arguments for the script, split like a shell would",
    )
    parser.add_argument(
        "--substitute-variables",
        action="store_true",
        help="substitute #{...} in the script before running it (the file itself is unchanged)",
    )
    _add_variable_options(parser)
    _add_report_option(parser)


def _run_script(args: argparse.Namespace, console: Console) -> int:
    request = project.ScriptRunRequest(
        script=args.script,
        syntax=args.syntax,
        parameters=_split_parameters(args.script_parameters),
        substitute=args.substitute_variables,
        variables_files=args.variables,
        overrides=[parse_assignment(text) for text in args.variable],
        report_path=args.report,
    )
    return _finish(project.run_script(request, console), console)


def _split_parameters(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        raise StepsError(
            f"--script-parameters: {error} in {text!r}", hint="quote it as a shell would"
        ) from None


RUN_SCRIPT = Command(
    "run-script",
    "run one script ad hoc with variables, like Calamari's run-script",
    "Run a script in the current directory with the same helpers and service messages as a\n"
    "step (get_octopusvariable, set_octopusvariable, ...), without a project. The exit code\n"
    "is the script's.",
    _configure_run_script,
    _run_script,
)
