"""F# scripts: the values file, the generated loads, and real runs where dotnet (fsi) is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from steptemplates.console import Level
from steptemplates.errors import StepsError
from steptemplates.execution.languages import get_language
from steptemplates.execution.languages.base import ModuleFile, bootstrap_resource
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

needs_fsi = pytest.mark.skipif(
    shutil.which("dotnet") is None,
    reason="dotnet (the .NET SDK, for dotnet fsi) is not installed; these tests run where it is",
)

MISSING = "fsharp scripts need `dotnet` on PATH; install the .NET SDK"


# --- without dotnet -------------------------------------------------------------------------


def test_values_file_round_trips_every_name_value_and_parameter(tmp_path: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(TRICKY_VALUES)}
    variables |= {name: f"named {i}" for i, name in enumerate(TRICKY_NAMES)}
    _, private, _ = prepare("fsharp", tmp_path, variables=variables, parameters=TRICKY_VALUES)
    assert read_records(private / "variables.dat") == [
        *(("variable", n, v) for n, v in variables.items()),
        *(("parameter", p) for p in TRICKY_VALUES),
    ]


def test_argv_runs_fsi_on_the_bootstrap_alone(tmp_path: Path) -> None:
    # fsi rewrites some arguments (`-r x` to `-r:x`): parameters go through the values file.
    argv, private, _ = prepare("fsharp", tmp_path, parameters=["-r", "x"])
    assert argv == ["dotnet", "fsi", str(private / "bootstrap.fsx")]


def test_bootstrap_loads_the_helpers_then_the_script(tmp_path: Path) -> None:
    _, private, script = prepare("fsharp", tmp_path)
    configure = private / "configure.fsx"
    assert (private / "bootstrap.fsx").read_text() == (f'#load @"{configure}"\n#load @"{script}"\n')
    assert configure.read_text() == (
        bootstrap_resource("helpers.fsx") + f'\nload @"{private}/variables.dat" @"{script}"\n'
    )


def test_no_value_or_parameter_reaches_the_generated_files_or_argv(tmp_path: Path) -> None:
    values = ["s3cr3t-Ω-value", "production-env-7", "param-secret-9"]
    argv, private, _ = prepare(
        "fsharp",
        tmp_path,
        variables={"Password": values[0], "Octopus.Environment.Name": values[1]},
        parameters=[values[2]],
        modules=[ModuleFile("Helpers", "fsharp", 'module Helpers\nlet answer () = "42"\n')],
    )
    assert_holds_no_value([*generated_texts(private), *argv], values)


def test_modules_are_written_beside_the_script(tmp_path: Path) -> None:
    modules = [
        ModuleFile("Helpers", "fsharp", 'module Helpers\nlet answer () = "42"\n'),
        ModuleFile("Other", "csharp", "// not for F#\n"),
    ]
    _, _, script = prepare("fsharp", tmp_path, modules=modules)
    assert sorted(p.name for p in script.parent.iterdir()) == ["Helpers.fsx", "script.fsx"]
    assert (script.parent / "Helpers.fsx").read_text() == 'module Helpers\nlet answer () = "42"\n'


def test_a_script_not_named_fsx_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StepsError) as caught:
        prepare("fsharp", tmp_path, script_name="deploy.fs.txt")
    assert str(caught.value) == "deploy.fs.txt: F# scripts must be named *.fsx; rename it"
    assert list((tmp_path / "private").iterdir()) == []


def test_a_path_that_load_cannot_hold_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "line\nbreak" / "script.fsx"
    script.parent.mkdir()
    script.write_text("")
    private = tmp_path / "private"
    private.mkdir()
    with pytest.raises(StepsError) as caught:
        get_language("fsharp").prepare(script, private, {"A": "1"}, ())
    assert str(caught.value).startswith(f"fsharp cannot load {str(script)!r}: ")
    assert list(private.iterdir()) == []


def test_missing_dotnet_is_named_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StepsError) as caught:
        get_language("fsharp").check_available()
    assert str(caught.value) == MISSING
    (tmp_path / "dotnet").touch(mode=0o755)
    get_language("fsharp").check_available()


def test_run_stops_before_any_step_when_dotnet_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_run_stops_before_any_step(tmp_path, monkeypatch, "fsharp", "run.fsx", MISSING)


# --- with dotnet fsi ------------------------------------------------------------------------


@needs_fsi
def test_set_variable_output(tmp_path: Path) -> None:
    result = run_prepared(
        "fsharp",
        tmp_path,
        'Octopus.setVariable "Name" "Value"\n'
        'Octopus.setSensitiveVariable "Name" "Value"\n'
        'Octopus.setVariable "Name" ""\n',
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']",
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=' sensitive='VHJ1ZQ==']",
        "##octopus[setVariable name='TmFtZQ==' value='']",
    ]


@needs_fsi
def test_create_artifact_output(tmp_path: Path) -> None:
    result = run_prepared(
        "fsharp",
        tmp_path,
        'System.IO.File.WriteAllText("report.txt", "12345")\n'
        'Octopus.createArtifact "report.txt" None\n'
        'Octopus.createArtifact "gone.txt" (Some "Named")\n',
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


@needs_fsi
def test_update_progress_and_write_helpers(tmp_path: Path) -> None:
    result = run_prepared(
        "fsharp",
        tmp_path,
        'Octopus.updateProgress 50 "half way"\n'
        'Octopus.writeVerbose "v"\n'
        'Octopus.writeHighlight "h"\n'
        'Octopus.writeWait "w"\n'
        'let warning = "careful " + "now"\n'
        "Octopus.writeWarning warning\n",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "##octopus[progress percentage='NTA=' message='aGFsZiB3YXk=']",
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


@needs_fsi
def test_fail_step_with_message_exits_255(tmp_path: Path) -> None:
    result = run_prepared(
        "fsharp", tmp_path, 'Octopus.failStep "it broke"\nprintfn "not reached"\n'
    )
    assert result.returncode == 255
    assert result.stdout == format_message("resultMessage", message="it broke") + "\n"


@needs_fsi
def test_fail_step_without_message(tmp_path: Path) -> None:
    result = run_prepared("fsharp", tmp_path, "Octopus.failStep null\n")
    assert (result.returncode, result.stdout) == (255, "")


@needs_fsi
def test_variables_hold_every_value_exactly(tmp_path: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(TRICKY_VALUES)}
    names = " ".join(f'"v{i}";' for i in range(len(TRICKY_VALUES)))
    result = run_prepared(
        "fsharp",
        tmp_path,
        "let encode (text: string) =\n"
        "    System.Convert.ToBase64String(System.Text.Encoding.Unicode.GetBytes text)\n"
        f"let lines = [ {names} ] |> List.map (fun name ->\n"
        '    "variable " + encode name + " " + encode (Octopus.findVariable name))\n'
        'System.IO.File.WriteAllLines("out.dat", lines)\n',
        variables=variables,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = read_records(tmp_path / "work" / "out.dat")
    assert {r[1]: r[2] for r in records} == {n: as_dotnet_reads(v) for n, v in variables.items()}


@needs_fsi
def test_lookups_are_exact_and_unknown_names_have_defaults(tmp_path: Path) -> None:
    result = run_prepared(
        "fsharp",
        tmp_path,
        'printfn "%s" (Octopus.findVariable "Name")\n'
        'printfn "%b" (Octopus.tryFindVariable "name" = None)\n'
        'printfn "%s" (Octopus.findVariableOrDefault "fallback" "Missing")\n'
        'Octopus.findVariable "Missing" |> ignore\n',
        variables={"Name": "value"},
    )
    assert result.returncode != 0
    assert result.stdout.splitlines() == ["value", "true", "fallback"]
    assert "Missing variable has not been found." in result.stdout + result.stderr


@needs_fsi
def test_command_line_args_hold_the_script_and_parameters(tmp_path: Path) -> None:
    values = tmp_path / "private" / "variables.dat"
    result = run_prepared(
        "fsharp",
        tmp_path,
        'for arg in fsi.CommandLineArgs do printfn "[%s]" arg\n'
        'printfn "%b" (System.IO.File.Exists fsi.CommandLineArgs.[1])\n',
        variables={"Password": "secret"},
        parameters=[str(values), "a b", "-r", "x", "", 'it\'s "q"'],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    script = tmp_path / "work" / "script.fsx"
    assert result.stdout.splitlines() == [
        f"[{script}]",
        f"[{values}]",
        "[a b]",
        "[-r]",
        "[x]",
        "[]",
        '[it\'s "q"]',
        "false",
    ]


@needs_fsi
def test_modules_load_beside_the_script(tmp_path: Path) -> None:
    result = run_prepared(
        "fsharp",
        tmp_path,
        '#load "Helpers.fsx"\nprintfn "%s" (Helpers.answer ())\n',
        modules=[ModuleFile("Helpers", "fsharp", 'module Helpers\nlet answer () = "42"\n')],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["42"]


@needs_fsi
def test_output_levels_through_run_script(run: RunScript) -> None:
    ran = run(
        "fsharp",
        'printfn "info"\nOctopus.writeVerbose "verbose"\n'
        'Octopus.writeHighlight "highlight"\nOctopus.writeWarning "warning"\n',
    )
    assert ran.result.exit_code == 0
    assert ran.console.lines == [
        (Level.INFO, "info"),
        (Level.VERBOSE, "verbose"),
        (Level.HIGHLIGHT, "highlight"),
        (Level.WARNING, "warning"),
    ]


@needs_fsi
def test_a_step_through_the_runner(tmp_path: Path) -> None:
    step = template(
        tmp_path / "template",
        "fsharp",
        '#load "Answers.fsx"\n'
        'printfn "%s got %s" (Octopus.findVariable "Octopus.Action.Name") fsi.CommandLineArgs.[1]\n'
        'Octopus.setVariable "Answer" (Answers.answer ())\n'
        'Octopus.setSensitiveVariable "Secret" "hunter2-xyz"\n'
        'System.IO.File.WriteAllText("report.txt", "report")\n'
        'Octopus.createArtifact "report.txt" (Some "fs-report.txt")\n',
        file="run.fsx",
    )
    module = ModuleFile("Answers", "fsharp", 'module Answers\nlet answer () = "42"\n')
    ran = run_plans(tmp_path, [plan("deploy", step, modules=(module,))], script_parameters=["one"])
    record = ran.step
    assert (record.status, record.exit_code) == ("succeeded", 0), record.message
    assert record.output_variables == {"Answer": "42", "Secret": MASK}
    assert [(a.name, a.size) for a in record.artifacts] == [("fs-report.txt", 6)]
    assert (Level.INFO, "deploy got one") in ran.console.lines


@needs_fsi
def test_a_failing_step_through_the_runner(tmp_path: Path) -> None:
    step = template(tmp_path / "template", "fsharp", 'Octopus.failStep "broken"\n', file="run.fsx")
    record = run_plans(tmp_path, [plan("deploy", step)]).step
    assert (record.status, record.exit_code, record.message) == ("failed", 255, "broken")
