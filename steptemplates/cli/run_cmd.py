"""`steps run` and `steps run-script`."""

from __future__ import annotations

import argparse
import os
import shlex

from steptemplates import project
from steptemplates.cli.common import (
    Command,
    add_resolution_options,
    add_variable_options,
    context_from,
    find_project,
    parse_assignment,
    path_argument,
)
from steptemplates.console import Console, Level
from steptemplates.errors import StepsError
from steptemplates.execution.report import report_json
from steptemplates.execution.runner import RunOutcome
from steptemplates.variable_sources import EncryptedFile


def add_run_variable_options(parser: argparse.ArgumentParser) -> None:
    add_variable_options(
        parser,
        override_help="set a variable; wins over everything but earlier steps' output variables",
        strict_help="fail a step whose script or variables refer to a variable that is not "
        "defined, listing each reference and where it is (by default it is left as written)",
    )


def add_report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=path_argument,
        help="write the JSON run report here (default: .steps/runs/<run-id>.json)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="also print the run report as JSON on stdout (sensitive values masked)",
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
    parser.add_argument(
        "--release-number",
        metavar="VERSION",
        help="the value of Octopus.Release.Number (default: the run id)",
    )
    add_run_variable_options(parser)
    add_report_option(parser)
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
        context=context_from(args),
        strict_variables=args.strict_variables,
        release_number=args.release_number,
    )
    return finish_run(project.run(find_project(), request, console), console, args.json)


def finish_run(outcome: RunOutcome, console: Console, as_json: bool) -> int:
    record = outcome.record
    console.status(
        f"Run {record.run_id} {record.status} in {record.duration_seconds:.2f}s; "
        f"report: {outcome.report_path}"
    )
    if as_json:
        console.line(Level.INFO, report_json(record, console.masker).rstrip("\n"))
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
    _add_sensitive_options(parser)
    add_run_variable_options(parser)
    add_report_option(parser)


def _add_sensitive_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sensitive-variables",
        metavar="FILE",
        action="append",
        default=[],
        type=path_argument,
        help="a Calamari sensitive-variables file, encrypted with the password below "
        "(repeatable); every value in it is masked",
    )
    parser.add_argument(
        "--sensitive-variables-password",
        metavar="PASSWORD",
        help="the password of the --sensitive-variables files (Calamari's option; prefer "
        "the STEPS_SENSITIVE_VARIABLES_PASSWORD environment variable, which ps cannot show)",
    )


def _sensitive_files(args: argparse.Namespace, console: Console) -> list[EncryptedFile]:
    if not args.sensitive_variables:
        return []
    password = args.sensitive_variables_password or os.environ.get(
        "STEPS_SENSITIVE_VARIABLES_PASSWORD"
    )
    if not password:
        raise StepsError(
            "--sensitive-variables needs its password",
            hint="pass --sensitive-variables-password or set STEPS_SENSITIVE_VARIABLES_PASSWORD",
        )
    console.masker.add(password)
    return [EncryptedFile(path, password) for path in args.sensitive_variables]


def _run_script(args: argparse.Namespace, console: Console) -> int:
    request = project.ScriptRunRequest(
        script=args.script,
        syntax=args.syntax,
        parameters=_split_parameters(args.script_parameters),
        substitute=args.substitute_variables,
        variables_files=args.variables,
        encrypted_files=_sensitive_files(args, console),
        overrides=[parse_assignment(text) for text in args.variable],
        report_path=args.report,
        context=context_from(args),
        strict_variables=args.strict_variables,
    )
    return finish_run(project.run_script(request, console), console, args.json)


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


def _configure_deploy_package(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--package",
        metavar="FILE",
        type=path_argument,
        required=True,
        help="the package: .zip, .nupkg, .tar, .tar.gz, .tgz, .tar.bz2 or .tar.xz, named "
        "<Id>.<Version>.<ext> (a .nupkg's own id and version are read from its .nuspec)",
    )
    _add_sensitive_options(parser)
    add_run_variable_options(parser)
    add_report_option(parser)


def _deploy_package(args: argparse.Namespace, console: Console) -> int:
    request = project.PackageDeployRequest(
        package=args.package,
        variables_files=args.variables,
        encrypted_files=_sensitive_files(args, console),
        overrides=[parse_assignment(text) for text in args.variable],
        report_path=args.report,
        context=context_from(args),
        strict_variables=args.strict_variables,
    )
    return finish_run(project.deploy_package(request, console), console, args.json)


DEPLOY_PACKAGE = Command(
    "deploy-package",
    "deploy a package like Calamari's deploy-package, features chosen by variables",
    "Extract the package to <applications>/<environment>/<id>/<version>, then run the\n"
    "deployment stages in Calamari's order: PreDeploy, substitution, configuration\n"
    "transforms and variables, structured variables, the custom installation folder,\n"
    "Deploy, PostDeploy (and DeployFailed on failure). Features are turned on by the\n"
    "variables Octopus sends (Octopus.Action.EnabledFeatures, ...), so an Octopus variables\n"
    "file drives it unchanged. See docs/packages.md.",
    _configure_deploy_package,
    _deploy_package,
)
