"""Script modules when a step runs: written beside the script, loaded, and removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates.execution.languages.base import ModuleFile
from steptemplates.execution.runner import EXIT_STEP_ERROR
from steptemplates.variables.collection import Variable

from .runner_support import parameter, plan, run_plans, template

GREET_SH = 'greet() { echo "hello from #{Octopus.Step.Name} to $1"; }\n'
GREET_PY = "def greet(who):\n    return f'hello from #{Octopus.Step.Name} to {who}'\n"


def _module_variables(name: str, body: str, language: str | None) -> list[Variable]:
    variables = [Variable(f"Octopus.Script.Module[{name}]", body)]
    if language is not None:
        variables.append(Variable(f"Octopus.Script.Module.Language[{name}]", language))
    return variables


@pytest.mark.parametrize("load", ["source Helpers.sh", '. "$(dirname "$0")/Helpers.sh"'])
def test_a_bash_script_sources_its_module_which_is_removed_afterwards(
    tmp_path: Path, load: str
) -> None:
    used = template(tmp_path / "t", "bash", f"{load}\ngreet Ann\nls\n")
    step = plan("Greet", used, modules=(ModuleFile("Helpers", "bash", GREET_SH),))
    ran = run_plans(tmp_path, [step], keep_workdir=True)
    assert ran.step.status == "succeeded", ran.err
    assert ran.out.splitlines() == ["hello from Greet to Ann", "Helpers.sh", "script.sh"]
    assert ran.step.workdir is not None
    assert sorted(p.name for p in Path(ran.step.workdir).iterdir()) == ["script.sh"]


def test_an_autoload_module_is_sourced_before_the_script(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", "greet Bo\n")
    module = ModuleFile("Helpers", "bash", GREET_SH.replace("\n", "\r\n"), autoload=True)
    ran = run_plans(tmp_path, [plan("Greet", used, modules=(module,))])
    assert ran.out == "hello from Greet to Bo\n"


def test_module_files_are_removed_when_the_script_fails(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", "source Helpers.sh\nexit 3\n")
    step = plan("Greet", used, modules=(ModuleFile("Helpers", "bash", GREET_SH),))
    ran = run_plans(tmp_path, [step], keep_workdir=True)
    assert (ran.step.status, ran.step.exit_code) == ("failed", 3)
    assert ran.step.workdir is not None
    assert not (Path(ran.step.workdir) / "Helpers.sh").exists()


def test_a_python_script_imports_its_module_and_leaves_no_bytecode(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "python", "import helpers\nprint(helpers.greet('Cy'))\n")
    modules = (
        ModuleFile("helpers", "python", GREET_PY),
        ModuleFile("Helpers", "bash", "exit 9\n"),  # another syntax: not written
    )
    ran = run_plans(tmp_path, [plan("Greet", used, modules=modules)], keep_workdir=True)
    assert ran.step.status == "succeeded", ran.err
    assert ran.out == "hello from Greet to Cy\n"
    assert ran.step.workdir is not None
    assert sorted(p.name for p in Path(ran.step.workdir).iterdir()) == ["script.py"]


def test_a_script_in_a_subdirectory_finds_its_modules_beside_it(tmp_path: Path) -> None:
    used = template(
        tmp_path / "t",
        "python",
        "import helpers\nprint(helpers.greet('Di'))\n",
        file="scripts/run.py",
    )
    ran = run_plans(
        tmp_path, [plan("Greet", used, modules=(ModuleFile("helpers", "python", GREET_PY),))]
    )
    assert ran.out == "hello from Greet to Di\n"


def test_octopus_module_variables_become_module_files(tmp_path: Path) -> None:
    body = (
        "source MyHelpers.sh\ngreet Ed\n"
        "ls\n"
        'echo "[$(get_octopusvariable "Octopus.Script.Module[My-Helpers]")]"\n'
        'for n in "${!octopus_parameters[@]}"; do case "$n" in *Script.Module*) echo "$n";; esac; '
        "done\n"
    )
    used = template(tmp_path / "t", "bash", body)
    variables = [
        *_module_variables("My-Helpers", GREET_SH, "Bash"),
        *_module_variables("Tools", "function Get-Tool {}\n", None),  # PowerShell: not written
    ]
    ran = run_plans(tmp_path, [plan("Greet", used)], project_variables=variables)
    assert ran.step.status == "succeeded", ran.err
    assert ran.out.splitlines() == ["hello from Greet to Ed", "MyHelpers.sh", "script.sh", "[]"]


def test_python_scripts_do_not_see_module_variables(tmp_path: Path) -> None:
    body = (
        "import tools\nprint(tools.NAME)\n"
        "print(sorted(n for n in octopusvariables if 'Module' in n))\n"
        "print('Octopus.Script.Module[tools]' in octopus_parameters)\n"
    )
    used = template(tmp_path / "t", "python", body)
    variables = _module_variables("tools", "NAME = '#{Octopus.Project.Name}'\n", "Python")
    ran = run_plans(tmp_path, [plan("Use", used)], file_variables=variables)
    assert ran.out == "shop\n[]\nFalse\n"


def test_a_plan_module_wins_over_a_module_variable_of_the_same_name(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", "source Helpers.sh\ngreet Flo\n")
    step = plan("Greet", used, modules=(ModuleFile("Helpers", "bash", GREET_SH),))
    variables = _module_variables("helpers", "greet() { echo variable; }\n", "Bash")
    ran = run_plans(tmp_path, [step], overrides=variables)
    assert ran.out == "hello from Greet to Flo\n"


@pytest.mark.parametrize(
    ("name", "language", "problem"),
    [
        (
            "-.-",
            "Bash",
            "script module '-.-' (Octopus.Script.Module[-.-]): the name cannot be a file name",
        ),
        (
            "json",
            "Python",
            "script module 'json' (Octopus.Script.Module[json]): 'json' cannot be imported",
        ),
        ("9lives", "Python", "'9lives' cannot be imported"),
        ("Ok", "Ruby", "script module 'Ok': unknown language 'Ruby'"),
    ],
)
def test_unusable_module_names_fail_the_step(
    tmp_path: Path, name: str, language: str, problem: str
) -> None:
    used = template(tmp_path / "t", "bash", "echo ran\n")
    variables = _module_variables(name, "x = 1\n", language)
    ran = run_plans(tmp_path, [plan("Use", used)], project_variables=variables)
    assert (ran.step.status, ran.step.exit_code) == ("failed", EXIT_STEP_ERROR)
    assert problem in (ran.step.message or "")
    assert ran.out == ""


def test_two_modules_for_one_file_fail_naming_both(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", "echo ran\n")
    variables = [
        *_module_variables("Deploy-Tools", "true\n", "Bash"),
        *_module_variables("DeployTools", "true\n", "Bash"),
    ]
    ran = run_plans(tmp_path, [plan("Use", used)], project_variables=variables)
    assert ran.step.message == (
        "script module 'Deploy-Tools' (Octopus.Script.Module[Deploy-Tools]) and script module "
        "'DeployTools' (Octopus.Script.Module[DeployTools]) would both be written to the file "
        "'DeployTools'; rename one of them"
    )


def test_a_module_never_overwrites_a_templates_file(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", "echo ran\n")
    (used.root / "Helpers.sh").write_text("# the template's own\n")
    step = plan("Use", used, modules=(ModuleFile("Helpers", "bash", GREET_SH),))
    ran = run_plans(tmp_path, [step])
    assert ran.step.status == "failed"
    assert ran.step.message is not None
    assert ran.step.message.startswith("script module 'Helpers' would overwrite ")
    assert ran.step.message.endswith("Helpers.sh; rename the module or that file")
    assert ran.out == ""


def test_in_place_a_module_clashing_with_a_file_fails_and_leaves_it_alone(
    tmp_path: Path,
) -> None:
    here = tmp_path / "here"
    used = template(here, "bash", "echo ran\n", file="run.sh")
    (here / "Helpers.sh").write_text("# mine\n")
    (here / "Other.sh").write_text("# mine too\n")
    modules = (ModuleFile("Other", "bash", "true\n"), ModuleFile("Helpers", "bash", "true\n"))
    ran = run_plans(
        tmp_path,
        [plan("run.sh", used, modules=modules)],
        in_place=here,
        substitute_script=False,
    )
    assert ran.step.status == "failed"
    assert f"would overwrite {here / 'Other.sh'}" in (ran.step.message or "")
    assert (here / "Helpers.sh").read_text() == "# mine\n"
    assert (here / "Other.sh").read_text() == "# mine too\n"
    assert sorted(p.name for p in here.iterdir()) == ["Helpers.sh", "Other.sh", "run.sh"]


def test_in_place_module_files_are_written_and_removed(tmp_path: Path) -> None:
    here = tmp_path / "here"
    used = template(here, "bash", "source Helpers.sh\ngreet Gus\n", file="run.sh")
    step = plan("run.sh", used, modules=(ModuleFile("Helpers", "bash", GREET_SH),))
    ran = run_plans(tmp_path, [step], in_place=here, substitute_script=False)
    assert ran.out == "hello from run.sh to Gus\n"
    assert sorted(p.name for p in here.iterdir()) == ["run.sh"]


def test_module_bodies_count_for_strict_variables(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", "echo ran\n", [parameter("Known", default="k")])
    module = ModuleFile("Helpers", "bash", "echo #{Known} #{Unknown}\n")
    ran = run_plans(tmp_path, [plan("Use", used, modules=(module,))], strict_variables=True)
    assert ran.step.status == "failed"
    assert "#{Unknown}" in (ran.step.message or "")
