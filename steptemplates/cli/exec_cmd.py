"""`steps exec`: run one template with parameters, without a project."""

from __future__ import annotations

import argparse

from steptemplates.cli.common import Command, context_from, parse_assignment, path_argument
from steptemplates.cli.run_cmd import add_report_option, add_run_variable_options, finish_run
from steptemplates.console import Console
from steptemplates.execute import ExecRequest, execute


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "template",
        metavar="TEMPLATE",
        help="a template directory, a steptemplate.toml, an Octopus step template JSON file, "
        "or (inside a project) the name of a template in steps.toml",
    )
    parser.add_argument(
        "--module",
        metavar="PATH",
        action="append",
        default=[],
        type=path_argument,
        help='a script module for the step: a directory, a steptemplate.toml with kind = "module" '
        "or Octopus module JSON (repeatable)",
    )
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the step's working directory (its path is printed) instead of removing it",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="a template named from steps.toml: never use the network; work from the cache",
    )
    add_run_variable_options(parser)
    add_report_option(parser)


def _exec(args: argparse.Namespace, console: Console) -> int:
    request = ExecRequest(
        template=args.template,
        variables_files=args.variables,
        overrides=[parse_assignment(text) for text in args.variable],
        modules=args.module,
        context=context_from(args),
        strict_variables=args.strict_variables,
        keep_workdir=args.keep_workdir,
        report_path=args.report,
        offline=args.offline,
    )
    return finish_run(execute(request, console), console, args.json)


EXEC = Command(
    "exec",
    "run one template with parameters, without a project",
    "Run a template once, as a step named after it, to try it without writing a process:\n"
    "parameters come from -v and --variables, script modules from --module. TEMPLATE is a\n"
    "template directory, a steptemplate.toml or an Octopus step template JSON file; inside\n"
    "a project it may also name a template of steps.toml, which then runs with the project's\n"
    "variables and modules. The exit code is the script's, as for `steps run`.",
    _configure,
    _exec,
)
