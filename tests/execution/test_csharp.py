"""C# scripts: the values file, the generated loads, and real runs where dotnet-script is."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from steptemplates.console import Level
from steptemplates.errors import StepsError
from steptemplates.execution.languages import get_language
from steptemplates.execution.languages.base import ModuleFile, bootstrap_resource, verbatim_string
from steptemplates.execution.service_messages import format_message
from steptemplates.masking import MASK

from .conftest import RunScript
from .runner_support import plan, run_plans, template
from .test_powershell import (
    TRICKY_NAMES,
    TRICKY_VALUES,
    as_dotnet_reads,
    assert_holds_no_value,
    assert_run_stops_before_any_step,
    generated_texts,
    prepare,
    read_records,
    run_prepared,
)

needs_dotnet_script = pytest.mark.skipif(
    shutil.which("dotnet-script") is None,
    reason="dotnet-script is not installed; these tests run where it is",
)

MISSING = (
    "csharp scripts need `dotnet-script` on PATH; "
    "install it with `dotnet tool install --global dotnet-script`"
)


# --- without dotnet-script ------------------------------------------------------------------


def test_values_file_round_trips_every_name_and_value(tmp_path: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(TRICKY_VALUES)}
    variables |= {name: f"named {i}" for i, name in enumerate(TRICKY_NAMES)}
    _, private, _ = prepare("csharp", tmp_path, variables=variables, parameters=["p"])
    values = private / "variables.dat"
    assert read_records(values) == [("variable", n, v) for n, v in variables.items()]
    assert stat.S_IMODE(values.stat().st_mode) == 0o600


def test_argv_passes_the_parameters_as_args(tmp_path: Path) -> None:
    parameters = ["a b", "-x", "", "--", 'it\'s "q"']
    argv, private, _ = prepare("csharp", tmp_path, parameters=parameters)
    assert argv == ["dotnet-script", str(private / "bootstrap.csx"), "--", *parameters]


def test_bootstrap_loads_the_helpers_then_the_script(tmp_path: Path) -> None:
    _, private, script = prepare("csharp", tmp_path)
    configure = private / "configure.csx"
    assert (private / "bootstrap.csx").read_text() == (f'#load "{configure}"\n#load "{script}"\n')
    assert configure.read_text() == (
        bootstrap_resource("helpers.csx") + f'\nOctopus.Load(@"{private}/variables.dat");\n'
    )
    assert sorted(p.name for p in private.iterdir()) == [
        "bootstrap.csx",
        "configure.csx",
        "variables.dat",
    ]


def test_no_value_reaches_the_generated_files_or_argv(tmp_path: Path) -> None:
    values = ["s3cr3t-Ω-value", "production-env-7"]
    argv, private, _ = prepare(
        "csharp",
        tmp_path,
        variables={"Password": values[0], "Octopus.Environment.Name": values[1]},
        modules=[ModuleFile("Helpers", "csharp", 'string Answer() => "42";\n')],
    )
    assert_holds_no_value([*generated_texts(private), *argv], values)


def test_verbatim_string() -> None:
    assert verbatim_string("/tmp/a b") == '@"/tmp/a b"'
    assert verbatim_string('C:\\dir\\"quoted"\n') == '@"C:\\dir\\""quoted""\n"'


def test_modules_are_written_beside_the_script(tmp_path: Path) -> None:
    modules = [
        ModuleFile("Helpers", "csharp", 'string Answer() => "42";\n'),
        ModuleFile("Tools", "powershell", "function Get-Tool { }\n"),
    ]
    _, private, script = prepare("csharp", tmp_path, modules=modules)
    assert sorted(p.name for p in script.parent.iterdir()) == ["Helpers.csx", "script.csx"]
    assert (script.parent / "Helpers.csx").read_text() == 'string Answer() => "42";\n'
    assert "Helpers" not in (private / "bootstrap.csx").read_text()


def test_a_module_never_overwrites_a_file(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "Helpers.csx").write_text("// the template's own file\n")
    with pytest.raises(StepsError) as caught:
        prepare("csharp", tmp_path, modules=[ModuleFile("Helpers", "csharp", "// module\n")])
    assert str(caught.value).startswith("script module 'Helpers' would overwrite ")
    assert (workdir / "Helpers.csx").read_text() == "// the template's own file\n"


def test_a_path_that_load_cannot_hold_is_refused(tmp_path: Path) -> None:
    script = tmp_path / 'say "hi"' / "script.csx"
    script.parent.mkdir()
    script.write_text("")
    private = tmp_path / "private"
    private.mkdir()
    with pytest.raises(StepsError) as caught:
        get_language("csharp").prepare(script, private, {"A": "1"}, ())
    assert str(caught.value) == (
        f"csharp cannot load {str(script)!r}: its path holds a double quote or line break; "
        "rename it or run it from a directory whose path has neither"
    )
    assert list(private.iterdir()) == []


def test_missing_dotnet_script_is_named_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StepsError) as caught:
        get_language("csharp").check_available()
    assert str(caught.value) == MISSING
    (tmp_path / "dotnet-script").touch(mode=0o755)
    get_language("csharp").check_available()


def test_run_stops_before_any_step_when_dotnet_script_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_run_stops_before_any_step(tmp_path, monkeypatch, "csharp", "run.csx", MISSING)


# --- with dotnet-script ---------------------------------------------------------------------


@needs_dotnet_script
def test_set_variable_output_and_local_update(tmp_path: Path) -> None:
    result = run_prepared(
        "csharp",
        tmp_path,
        'Octopus.SetVariable("Name", "Value");\n'
        'Octopus.SetVariable("Name", "Value", true);\n'
        'Octopus.SetVariable("Name", "");\n'
        'Octopus.SetVariable("Other", "x");\n'
        'Console.WriteLine(Octopus.Parameters["other"]);\n',
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']",
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=' sensitive='VHJ1ZQ==']",
        "##octopus[setVariable name='TmFtZQ==' value='']",
        "##octopus[setVariable name='T3RoZXI=' value='eA==']",
        "x",
    ]


@needs_dotnet_script
def test_create_artifact_output(tmp_path: Path) -> None:
    result = run_prepared(
        "csharp",
        tmp_path,
        'System.IO.File.WriteAllText("report.txt", "12345");\n'
        'Octopus.CreateArtifact("report.txt");\n'
        'Octopus.CreateArtifact("gone.txt", "Named");\n',
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workdir = tmp_path / "work"
    report, gone = str(workdir / "report.txt"), str(workdir / "gone.txt")
    assert result.stdout.splitlines() == [
        "##octopus[stdout-verbose]",
        f"Artifact report.txt will be collected from {report} after this step completes",
        "##octopus[stdout-default]",
        format_message("createArtifact", path=report, name="report.txt", length="5"),
        "##octopus[stdout-verbose]",
        f"Artifact Named will be collected from {gone} after this step completes",
        "##octopus[stdout-default]",
        format_message("createArtifact", path=gone, name="Named", length="0"),
    ]


@needs_dotnet_script
def test_update_progress_and_write_helpers(tmp_path: Path) -> None:
    result = run_prepared(
        "csharp",
        tmp_path,
        'Octopus.UpdateProgress(50, "half way");\n'
        "Octopus.UpdateProgress(60);\n"
        'Octopus.WriteVerbose("v");\n'
        'Octopus.WriteHighlight("h");\n'
        'Octopus.WriteWait("w");\n'
        'Octopus.WriteWarning("careful now");\n',
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "##octopus[progress percentage='NTA=' message='aGFsZiB3YXk=']",
        "##octopus[progress percentage='NjA=' message='']",
        "##octopus[stdout-verbose]",
        "v",
        "##octopus[stdout-default]",
        "##octopus[stdout-highlight]",
        "h",
        "##octopus[stdout-default]",
        "##octopus[stdout-wait]",
        "w",
        "##octopus[stdout-default]",
        "##octopus[stdout-warning]",
        "careful now",
        "##octopus[stdout-default]",
    ]


@needs_dotnet_script
def test_fail_step_with_message_exits_255(tmp_path: Path) -> None:
    result = run_prepared(
        "csharp", tmp_path, 'Octopus.FailStep("it broke");\nConsole.WriteLine("not reached");\n'
    )
    assert result.returncode == 255
    assert result.stdout == format_message("resultMessage", message="it broke") + "\n"


@needs_dotnet_script
def test_fail_step_without_message(tmp_path: Path) -> None:
    result = run_prepared("csharp", tmp_path, "Octopus.FailStep();\n")
    assert (result.returncode, result.stdout) == (255, "")


@needs_dotnet_script
def test_parameters_hold_every_value_exactly(tmp_path: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(TRICKY_VALUES)}
    variables |= {name: f"named {i}" for i, name in enumerate(TRICKY_NAMES)}
    result = run_prepared(
        "csharp",
        tmp_path,
        "string Encode(string text) =>\n"
        "    Convert.ToBase64String(System.Text.Encoding.Unicode.GetBytes(text));\n"
        "var lines = new System.Collections.Generic.List<string>();\n"
        "foreach (var pair in Octopus.Parameters)\n"
        '    lines.Add("variable " + Encode(pair.Key) + " " + Encode(pair.Value));\n'
        'System.IO.File.WriteAllLines("out.dat", lines);\n'
        'Console.WriteLine(Octopus.Parameters["V0"] == Octopus.Parameters["v0"]);\n',
        variables=variables,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = read_records(tmp_path / "work" / "out.dat")
    assert {r[1]: r[2] for r in records} == {n: as_dotnet_reads(v) for n, v in variables.items()}
    assert result.stdout.splitlines() == ["True"]


@needs_dotnet_script
def test_args_hold_the_parameters_and_the_values_file_is_gone(tmp_path: Path) -> None:
    values = tmp_path / "private" / "variables.dat"
    result = run_prepared(
        "csharp",
        tmp_path,
        'foreach (var arg in Args) Console.WriteLine($"[{arg}]");\n'
        "Console.WriteLine(System.IO.File.Exists(Args[0]));\n",
        variables={"Password": "secret"},
        parameters=[str(values), "a b", "-x", "", 'it\'s "q"'],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"[{values}]",
        "[a b]",
        "[-x]",
        "[]",
        '[it\'s "q"]',
        "False",
    ]


@needs_dotnet_script
def test_modules_load_beside_the_script(tmp_path: Path) -> None:
    result = run_prepared(
        "csharp",
        tmp_path,
        '#load "Helpers.csx"\nConsole.WriteLine(Answer());\n',
        modules=[ModuleFile("Helpers", "csharp", 'string Answer() => "42";\n')],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["42"]


@needs_dotnet_script
def test_an_uncaught_exception_fails_the_script(tmp_path: Path) -> None:
    result = run_prepared(
        "csharp", tmp_path, 'Console.WriteLine("before");\nthrow new Exception("it went wrong");\n'
    )
    assert result.returncode != 0
    assert result.stdout.splitlines()[0] == "before"
    assert "it went wrong" in result.stdout + result.stderr


@needs_dotnet_script
def test_output_levels_through_run_script(run: RunScript) -> None:
    ran = run(
        "csharp",
        'Console.WriteLine("info");\nOctopus.WriteVerbose("verbose");\n'
        'Octopus.WriteHighlight("highlight");\nOctopus.WriteWarning("warning");\n',
    )
    assert ran.result.exit_code == 0
    assert ran.console.lines == [
        (Level.INFO, "info"),
        (Level.VERBOSE, "verbose"),
        (Level.HIGHLIGHT, "highlight"),
        (Level.WARNING, "warning"),
    ]


@needs_dotnet_script
def test_a_step_through_the_runner(tmp_path: Path) -> None:
    step = template(
        tmp_path / "template",
        "csharp",
        '#load "Answers.csx"\n'
        'Console.WriteLine($"{Octopus.Parameters["Octopus.Action.Name"]} got {Args[0]}");\n'
        'Octopus.SetVariable("Answer", Answer());\n'
        'Octopus.SetVariable("Secret", "hunter2-xyz", true);\n'
        'System.IO.File.WriteAllText("report.txt", "report");\n'
        'Octopus.CreateArtifact("report.txt", "cs-report.txt");\n',
        file="run.csx",
    )
    module = ModuleFile("Answers", "csharp", 'string Answer() => "42";\n')
    ran = run_plans(tmp_path, [plan("deploy", step, modules=(module,))], script_parameters=["one"])
    record = ran.step
    assert (record.status, record.exit_code) == ("succeeded", 0), record.message
    assert record.output_variables == {"Answer": "42", "Secret": MASK}
    assert [(a.name, a.size) for a in record.artifacts] == [("cs-report.txt", 6)]
    assert (Level.INFO, "deploy got one") in ran.console.lines


@needs_dotnet_script
def test_a_failing_step_through_the_runner(tmp_path: Path) -> None:
    step = template(
        tmp_path / "template", "csharp", 'Octopus.FailStep("broken");\n', file="run.csx"
    )
    record = run_plans(tmp_path, [plan("deploy", step)]).step
    assert (record.status, record.exit_code, record.message) == ("failed", 255, "broken")
