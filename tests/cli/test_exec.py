"""`steps exec`: one template run with parameters, by path or by its name in a project."""

from __future__ import annotations

import json
import shutil
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.projects import Outcome, Steps

CORPUS = Path(__file__).resolve().parents[1] / "data" / "octopus-corpus"

GREET = """\
name = "greet"
description = "Greets someone and says so in an output variable"

[[parameters]]
name = "Name"
required = true

[[parameters]]
name = "Greeting"
default = "Hello"

[[parameters]]
name = "Place"
required = true

[[parameters]]
name = "ExitCode"
default = "0"

[script]
syntax = "bash"
file = "greet.sh"
"""

GREET_SH = """\
echo "#{Greeting}, $(get_octopusvariable "Name") in #{Place}"
set_octopusvariable "Said" "#{Greeting} #{Name}"
exit "$(get_octopusvariable "ExitCode")"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def greet(tmp_path: Path) -> Path:
    return write(tmp_path / "greet", {"steptemplate.toml": GREET, "greet.sh": GREET_SH})


def report_of(outcome: Outcome) -> dict[str, object]:
    """The run report named on the last status line."""
    line = next(line for line in outcome.err.splitlines() if "; report: " in line)
    report: dict[str, object] = json.loads(Path(line.split("; report: ")[1]).read_text())
    return report


def only_step(report: dict[str, object]) -> dict[str, object]:
    steps = report["steps"]
    assert isinstance(steps, list) and len(steps) == 1
    step: dict[str, object] = steps[0]
    return step


def test_runs_a_template_directory_with_parameters(steps: Steps, greet: Path) -> None:
    ran = steps.ok("exec", str(greet), "-v", "Name=Ada", "-v", "Place=Paris")

    assert ran.out == "Hello, Ada in Paris\n"
    step = only_step(report_of(ran))
    assert step["name"] == "greet"
    assert step["output_variables"] == {"Said": "Hello Ada"}
    reports = list((steps.directory / ".steps" / "runs").glob("*.json"))
    assert len(reports) == 1


def test_runs_a_template_file_and_writes_the_report_asked_for(
    steps: Steps, greet: Path, tmp_path: Path
) -> None:
    report = tmp_path / "out" / "report.json"

    ran = steps.ok(
        "exec", str(greet / "steptemplate.toml"), "-v", "Name=Ada", "-v", "Place=Rome",
        "--report", str(report), "--json",
    )  # fmt: skip

    assert ran.out.startswith("Hello, Ada in Rome\n")
    printed = json.loads(ran.out.split("\n", 1)[1])
    assert printed == json.loads(report.read_text())
    assert only_step(printed)["output_variables"] == {"Said": "Hello Ada"}
    assert not (steps.directory / ".steps" / "runs").exists()


def test_every_missing_required_parameter_is_named_before_anything_runs(
    steps: Steps, greet: Path
) -> None:
    failed = steps.fails("exec", str(greet))

    assert failed.error == (
        "template 'greet': required parameters 'Name', 'Place' have no value; "
        "pass -v Name=VALUE -v Place=VALUE"
    )
    assert failed.out == ""
    assert not (steps.directory / ".steps").exists()


def test_variables_files_give_parameters_and_v_wins(
    steps: Steps, greet: Path, tmp_path: Path
) -> None:
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"Name": "from the file", "Place": "Oslo", "Greeting": "Hi"}))

    ran = steps.ok("exec", str(greet), "--variables", str(values), "-v", "Name=Grace")

    assert ran.out == "Hi, Grace in Oslo\n"


def test_the_exit_code_is_the_scripts(steps: Steps, greet: Path) -> None:
    ran = steps("exec", str(greet), "-v", "Name=A", "-v", "Place=B", "-v", "ExitCode=7")

    assert ran.code == 7
    step = only_step(report_of(ran))
    assert (step["status"], step["exit_code"]) == ("failed", 7)
    assert "error: step 'greet' failed" in ran.err


def test_keep_workdir_keeps_the_steps_directory(steps: Steps, greet: Path) -> None:
    ran = steps.ok("exec", str(greet), "-v", "Name=A", "-v", "Place=B", "--keep-workdir")

    workdir = Path(str(only_step(report_of(ran))["workdir"]))
    assert f"working directory kept at {workdir}" in ran.err
    substituted = (workdir / "greet.sh").read_text()
    assert substituted.startswith('echo "Hello, $(get_octopusvariable "Name") in B"\n')
    shutil.rmtree(workdir)


def test_a_path_that_does_not_exist_outside_a_project(steps: Steps) -> None:
    failed = steps.fails("exec", "no-such-template")

    assert failed.error.startswith("no-such-template: no such template file or directory; ")


def test_a_directory_without_a_template(steps: Steps, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    failed = steps.fails("exec", str(empty))

    assert failed.error == (
        f"{empty} holds no steptemplate.toml or Octopus step template JSON file; "
        "give a template directory, a steptemplate.toml or an Octopus JSON file"
    )


# --- script modules --------------------------------------------------------------------------

NEEDS_BANNER = """\
name = "announce"

[modules]
Banner = "^1.0"

[script]
syntax = "bash"
body = '''
source Banner.sh
banner "release #{Release}"
'''
"""


def test_a_module_given_with_module_is_sourced(steps: Steps, tmp_path: Path) -> None:
    announce = write(tmp_path / "announce", {"steptemplate.toml": NEEDS_BANNER})

    ran = steps.ok(
        "exec", str(announce), "--module", str(CORPUS / "modules" / "banner"), "-v", "Release=2.0"
    )

    assert ran.out == "===========\nrelease 2.0\n===========\n"


def test_a_needed_module_that_is_not_given(steps: Steps, tmp_path: Path) -> None:
    announce = write(tmp_path / "announce", {"steptemplate.toml": NEEDS_BANNER})

    failed = steps.fails("exec", str(announce))

    assert failed.error == (
        "template 'announce' needs script module 'Banner'; pass it with --module PATH "
        '(a module directory, a steptemplate.toml with kind = "module" or Octopus module JSON)'
    )


def test_a_module_given_twice(steps: Steps, tmp_path: Path) -> None:
    banner = CORPUS / "modules" / "banner"
    announce = write(tmp_path / "announce", {"steptemplate.toml": NEEDS_BANNER})

    failed = steps.fails(
        "exec",
        str(announce),
        "--module",
        str(banner),
        "--module",
        str(banner / "steptemplate.toml"),
    )

    assert failed.error == (
        f"--module {banner / 'steptemplate.toml'}: script module 'Banner' is given twice; "
        "pass each module once"
    )


def test_a_module_path_that_does_not_exist(steps: Steps, greet: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    failed = steps.fails("exec", str(greet), "--module", str(missing))

    assert failed.error.startswith(f"--module {missing}: no such file or directory; give ")


# --- Octopus JSON ----------------------------------------------------------------------------


def octopus_template(name: str, body: str, parameters: Sequence[Mapping[str, object]]) -> str:
    return json.dumps(
        {
            "Id": "5b0c2bd8-6f57-4a43-9b1c-0d1fb0e3c2a1",
            "Name": name,
            "Description": "",
            "ActionType": "Octopus.Script",
            "Version": 1,
            "Properties": {
                "Octopus.Action.Script.Syntax": "Bash",
                "Octopus.Action.Script.ScriptBody": body,
            },
            "Parameters": list(parameters),
            "$Meta": {"ExportedAt": "2025-01-01T00:00:00.000Z", "Type": "ActionTemplate"},
            "LastModifiedBy": "someone",
        }
    )


def test_an_octopus_json_file_runs_without_the_folder_around_it(
    steps: Steps, tmp_path: Path
) -> None:
    downloads = write(
        tmp_path / "downloads",
        {
            "list-files.json": octopus_template("Files - List", "ls -A | LC_ALL=C sort\n", []),
            "holiday.txt": "not part of any template\n",
        },
    )

    ran = steps.ok("exec", str(downloads / "list-files.json"))

    assert "holiday.txt" not in ran.out
    assert "list-files.json" in ran.out.splitlines()
    assert only_step(report_of(ran))["name"] == "Files - List"


def test_load_warnings_are_printed(steps: Steps, tmp_path: Path) -> None:
    select = {
        "Name": "Mode",
        "Label": "Mode",
        "HelpText": "",
        "DefaultValue": "turbo",
        "DisplaySettings": {"Octopus.ControlType": "Select", "Octopus.SelectOptions": "a\nb"},
    }
    path = tmp_path / "mode.json"
    path.write_text(octopus_template("Mode - Show", 'echo "mode #{Mode}"\n', [select]))

    ran = steps.ok("exec", str(path))

    assert ran.out == "mode turbo\n"
    assert len(ran.warnings) == 1
    assert ran.warnings[0].startswith("template 'Mode - Show': ")
    assert "turbo" in ran.warnings[0]


def test_a_step_name_parameter_takes_the_step_given(steps: Steps, tmp_path: Path) -> None:
    step_name = {
        "Name": "Source",
        "Label": "Source step",
        "HelpText": "",
        "DefaultValue": None,
        "DisplaySettings": {"Octopus.ControlType": "StepName"},
    }
    body = 'echo "#{Octopus.Action[#{Source}].Output.Result}"\n'
    path = tmp_path / "read.json"
    path.write_text(octopus_template("Output - Read", body, [step_name]))

    ran = steps.ok(
        "exec", str(path), "-v", "Source=Build", "-v", "Octopus.Action[Build].Output.Result=42"
    )

    assert ran.out == "42\n"


@pytest.mark.skipif(shutil.which("pwsh") is not None, reason="pwsh is installed here")
def test_a_missing_interpreter_is_reported_before_anything_runs(steps: Steps) -> None:
    template = CORPUS / "step-templates" / "powershell-write-greeting.json"

    failed = steps.fails("exec", str(template))

    assert "`pwsh`" in failed.error
    assert failed.out == ""
    assert not (steps.directory / ".steps").exists()


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="pwsh (PowerShell 7) is not installed")
def test_a_powershell_template_runs_when_pwsh_is_installed(steps: Steps) -> None:
    template = CORPUS / "step-templates" / "powershell-write-greeting.json"

    ran = steps.ok("exec", str(template), "-v", "Octopus.Project.Name=shop", "-v", "Greet.Shout=1")

    assert ran.out == "HELLO, WORLD, FROM SHOP\n"
    assert only_step(report_of(ran))["output_variables"] == {"Greeting": "HELLO, WORLD, FROM SHOP"}


# --- a template of the project, by name -------------------------------------------------------


def test_a_template_named_in_the_project_runs_with_its_variables(steps: Steps, greet: Path) -> None:
    steps.write(
        textwrap.dedent(
            f"""\
            [project]
            name = "shop"

            [templates]
            greet = {{ path = "{greet}" }}

            [variables]
            Place = "the project's place"
            """
        )
    )

    ran = steps.ok("exec", "greet", "-v", "Name=Ada", "-v", "Place=Lima")

    assert ran.out == "Hello, Ada in Lima\n"
    report = report_of(ran)
    assert report["project"] == "shop"
    assert only_step(report)["template"] == f"greet from {greet}"
    assert (steps.directory / "steps.lock").exists()


def test_a_name_that_is_not_a_template_of_the_project(steps: Steps, greet: Path) -> None:
    steps.write(f'[templates]\ngreet = {{ path = "{greet}" }}\n')

    failed = steps.fails("exec", "gret")

    assert failed.error == (
        f"gret: no such file or directory, nor a template in {steps.manifest}; "
        "give a template's path or one of the project's templates (greet)"
    )


def test_a_path_wins_over_a_template_name(steps: Steps, greet: Path, tmp_path: Path) -> None:
    steps.write(f'[templates]\ngreet = {{ path = "{greet}" }}\n')
    write(
        steps.directory / "greet",
        {"steptemplate.toml": 'name = "local"\n[script]\nsyntax = "bash"\nbody = "echo local"\n'},
    )

    ran = steps.ok("exec", "greet")

    assert ran.out == "local\n"


OTHER_BANNER = """\
kind = "module"
name = "Banner"

[script]
syntax = "bash"
body = 'banner() { echo "** $1 **"; }'
"""


@pytest.fixture
def with_modules_and_packages(steps: Steps, tmp_path: Path) -> Steps:
    """A project whose templates need its script module and name its package."""
    announce = write(tmp_path / "announce", {"steptemplate.toml": NEEDS_BANNER})
    with zipfile.ZipFile(steps.directory / "site.2.0.0.zip", "w") as archive:
        archive.writestr("index.html", "<h1>shop</h1>\n")
        archive.writestr("app/settings.json", "{}\n")
    steps.write(
        textwrap.dedent(
            f"""\
            [templates.announce]
            path = "{announce}"

            [templates.show]
            path = "{CORPUS / "step-templates"}"
            template = "package-show-contents.json"

            [modules.Banner]
            path = "{CORPUS / "modules" / "banner"}"

            [packages.site]
            path = "site.2.0.0.zip"
            """
        )
    )
    return steps


def test_a_named_template_gets_the_projects_modules(with_modules_and_packages: Steps) -> None:
    ran = with_modules_and_packages.ok("exec", "announce", "-v", "Release=3.1")

    assert ran.out == "===========\nrelease 3.1\n===========\n"


def test_a_module_given_takes_the_place_of_the_projects(
    with_modules_and_packages: Steps, tmp_path: Path
) -> None:
    other = write(tmp_path / "other-banner", {"steptemplate.toml": OTHER_BANNER})

    ran = with_modules_and_packages.ok(
        "exec", "announce", "-v", "Release=3.1", "--module", str(other)
    )

    assert ran.out == "** release 3.1 **\n"


def test_a_named_template_gets_the_projects_packages(with_modules_and_packages: Steps) -> None:
    ran = with_modules_and_packages.ok("exec", "show", "-v", "ShowContents.Package=site")

    assert ran.out.splitlines() == [
        "package site 2.0.0",
        "  app/settings.json",
        "  index.html",
        "2 files match *",
    ]
