"""PowerShell scripts: the values file, the bootstrap, and real runs where pwsh is installed.

The helpers at the top are shared with the C# and F# tests, which read the same values file.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from steptemplates.console import Level
from steptemplates.errors import StepsError
from steptemplates.execution.languages import get_language
from steptemplates.execution.languages.base import ModuleFile, bootstrap_resource, dotnet_field
from steptemplates.execution.languages.powershell import local_names, quote, values_records
from steptemplates.execution.service_messages import format_message
from steptemplates.masking import MASK

from .conftest import RunScript
from .runner_support import parameter, plan, run_plans, template
from .test_bash_bootstrap import NASTY_VALUES

needs_pwsh = pytest.mark.skipif(
    shutil.which("pwsh") is None,
    reason="pwsh (PowerShell 7) is not installed; these tests run where it is",
)

# Values no shell, parser or encoding may change: each arrives exactly (a lone surrogate as
# .NET reads it, as_dotnet_reads).
TRICKY_VALUES = [
    *NASTY_VALUES,
    "nul\0inside",
    "\ud800 lone surrogate",
    "`backtick` $(Get-Date) ${env:HOME} @(1) $null",
    "quote ' and \u2018smart\u2019 quotes \"",
    "crlf\r\nline",
    " ",
    "astral \U0001f680 and é",
]
TRICKY_NAMES = ["", "Octopus.Environment.Name", "with space", "new\nline", "$dollar", "`tick", "雪"]


# --- shared with test_csharp.py and test_fsharp.py ------------------------------------------


def read_records(path: Path) -> list[tuple[str, ...]]:
    """The values file read back as the bootstraps read it: a record a line, fields split on
    single spaces, each field the base64 of UTF-16 code units."""
    text = path.read_bytes().decode("ascii")
    assert text == "" or text.endswith("\n")
    records = []
    for line in text.split("\n")[:-1]:
        kind, *fields = line.split(" ")
        decoded = [
            base64.b64decode(field, validate=True).decode("utf-16-le", "surrogatepass")
            for field in fields
        ]
        records.append((kind, *decoded))
    return records


def prepare(
    syntax: str,
    tmp_path: Path,
    *,
    variables: Mapping[str, str] | None = None,
    parameters: Sequence[str] = (),
    modules: Sequence[ModuleFile] = (),
    text: str = "",
    script_name: str | None = None,
) -> tuple[list[str], Path, Path]:
    """Prepare a script in ``tmp_path/work`` without running it: (argv, private dir, script)."""
    language = get_language(syntax)
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    script = workdir / (script_name or f"script{language.extension}")
    script.write_text(text, encoding="utf-8")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    argv = language.prepare(script, private, variables or {}, parameters, modules)
    return argv, private, script


def run_prepared(
    syntax: str,
    tmp_path: Path,
    text: str,
    *,
    variables: Mapping[str, str] | None = None,
    parameters: Sequence[str] = (),
    modules: Sequence[ModuleFile] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``text`` through its language's bootstrap in ``tmp_path/work``, keeping raw output."""
    argv, _, script = prepare(
        syntax, tmp_path, variables=variables, parameters=parameters, modules=modules, text=text
    )
    # Compiling a C# or F# script takes seconds, and a first run longer.
    return subprocess.run(
        argv, cwd=script.parent, capture_output=True, text=True, timeout=300, env=os.environ
    )


def as_dotnet_reads(value: str) -> str:
    """``value`` as .NET decodes it: a lone surrogate is not a character there."""
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)


def generated_texts(private: Path, values_file: str = "variables.dat") -> list[str]:
    """Every file prepare wrote into the private directory but the values file."""
    return [
        path.read_text(encoding="utf-8")
        for path in sorted(private.rglob("*"))
        if path.is_file() and path.name != values_file
    ]


def assert_holds_no_value(texts: Sequence[str], values: Sequence[str]) -> None:
    for value in values:
        encoded = [value, dotnet_field(value), base64.b64encode(value.encode()).decode()]
        for text in texts:
            assert not any(form in text for form in encoded), value


def assert_run_stops_before_any_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str, file: str, message: str
) -> None:
    """With only bash on PATH, a run whose second step needs ``syntax`` fails before the
    first step runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    bash = shutil.which("bash")
    assert bash is not None
    (bin_dir / "bash").symlink_to(bash)
    marker = tmp_path / "first-step-ran"
    first = template(tmp_path / "first", "bash", f"echo ran > '{marker}'\n", file="run.sh")
    second = template(tmp_path / "second", syntax, "", file=file)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(StepsError) as caught:
        run_plans(tmp_path, [plan("first", first), plan("second", second)])
    assert str(caught.value) == message
    assert not marker.exists()


# --- without pwsh ---------------------------------------------------------------------------


def test_values_file_round_trips_every_name_value_and_parameter(tmp_path: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(TRICKY_VALUES)}
    variables |= {name: f"named {i}" for i, name in enumerate(TRICKY_NAMES)}
    _, private, _ = prepare("powershell", tmp_path, variables=variables, parameters=TRICKY_VALUES)
    records = read_records(private / "variables.dat")
    assert [r[1:] for r in records if r[0] == "variable"] == list(variables.items())
    assert [r[1] for r in records if r[0] == "parameter"] == TRICKY_VALUES
    assert {r[0] for r in records} == {"variable", "local", "parameter"}


def test_values_file_is_readable_by_the_user_only(tmp_path: Path) -> None:
    _, private, _ = prepare("powershell", tmp_path, variables={"Password": "secret"})
    assert stat.S_IMODE((private / "variables.dat").stat().st_mode) == 0o600


def test_records_come_in_the_order_the_bootstrap_acts_on_them() -> None:
    variables = {
        "Octopus.Environment.Name": "prod",
        "my_var": "x",
        "Site[A].Url": "https://a",
        "Octopus.Script.Module[Helpers]": "function Get-X { }",
        "Octopus.Script.Module.Language[Helpers]": "PowerShell",
    }
    assert list(values_records(variables, ["p1", ""])) == [
        ("variable", "Octopus.Environment.Name", "prod"),
        ("variable", "my_var", "x"),
        ("variable", "Site[A].Url", "https://a"),
        ("local", "OctopusEnvironmentName", "Octopus.Environment.Name"),
        ("local", "myvar", "my_var"),
        ("local", "my_var", "my_var"),
        ("parameter", "p1"),
        ("parameter", ""),
    ]


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("Octopus.Environment.Name", ["OctopusEnvironmentName"]),
        ("Octopus.Action[Deploy].Output.Url", []),
        ("my_var", ["myvar", "my_var"]),
        ("_private", ["private", "_private"]),
        ("Déploiement.Région", ["DéploiementRégion"]),
        ("a\U0001d400b", ["ab"]),  # .NET sees two surrogates, neither a letter
        ("1st-value", ["1stvalue"]),
        ("...", []),
        ("", []),
        ("_", []),
        ("Args", []),
        ("P.W.D", []),
        ("HOME", []),
        ("LastExitCode", []),
        ("OctopusParameters", []),
        ("Octopus.Parameters", []),
        ("PS.Item", []),
        ("true", []),
        ("Null", []),
    ],
)
def test_local_variable_names(name: str, keys: list[str]) -> None:
    assert local_names(name) == keys


def test_argv_runs_pwsh_on_the_bootstrap_without_values_or_parameters(tmp_path: Path) -> None:
    argv, private, _ = prepare(
        "powershell", tmp_path, variables={"A": "value-a"}, parameters=["param-1"]
    )
    bootstrap = private / "bootstrap.ps1"
    assert argv == [
        "pwsh",
        "-NoLogo",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Unrestricted",
        "-Command",
        f"try {{ . '{bootstrap}'; if (Test-Path variable:global:LASTEXITCODE)"
        " { exit $LASTEXITCODE } } catch { throw }",
    ]


def test_bootstrap_is_the_helpers_then_loading_then_the_script(tmp_path: Path) -> None:
    _, private, script = prepare("powershell", tmp_path)
    text = (private / "bootstrap.ps1").read_text(encoding="utf-8")
    helpers = bootstrap_resource("helpers.ps1")
    assert text.startswith(helpers)
    assert text[len(helpers) :] == (
        f"\n$__OctopusArguments = @(Initialize-OctopusScript '{private}/variables.dat')\n"
        "try {\n"
        f"    . '{script}' @__OctopusArguments\n"
        "}\n"
        "catch {\n"
        "    Write-OctopusError $_\n"
        "    exit 1\n"
        "}\n"
    )


def test_no_value_or_parameter_reaches_the_bootstrap_or_argv(tmp_path: Path) -> None:
    values = ["s3cr3t-Ω-value", "production-env-7", "param-secret-9"]
    argv, private, _ = prepare(
        "powershell",
        tmp_path,
        variables={"Password": values[0], "Octopus.Environment.Name": values[1]},
        parameters=[values[2]],
        modules=[ModuleFile("Helpers", "powershell", "function Get-Answer { 42 }")],
    )
    assert_holds_no_value([*generated_texts(private), *argv], values)


def test_paths_are_quoted_for_powershell(tmp_path: Path) -> None:
    script = tmp_path / "it's \u2018here\u2019 $HOME `n" / "script.ps1"
    script.parent.mkdir()
    script.write_text("")
    private = tmp_path / "private"
    private.mkdir()
    get_language("powershell").prepare(script, private, {}, ())
    text = (private / "bootstrap.ps1").read_text(encoding="utf-8")
    expected = str(script).replace("'", "''").replace("\u2018", "\u2018\u2018")
    expected = expected.replace("\u2019", "\u2019\u2019")
    assert f"    . '{expected}' @__OctopusArguments\n" in text


def test_quote() -> None:
    assert quote("plain") == "'plain'"
    assert quote("it's") == "'it''s'"
    assert (
        quote("\u2018a\u2019 \u201ab\u201b")
        == "'\u2018\u2018a\u2019\u2019 \u201a\u201ab\u201b\u201b'"
    )
    assert quote('$x `y` "z"') == "'$x `y` \"z\"'"


def test_modules_are_written_privately_and_imported_in_order(tmp_path: Path) -> None:
    modules = [
        ModuleFile("Helpers", "powershell", "function Get-Answer { 42 }\n"),
        ModuleFile("Shell", "bash", "answer() { echo 42; }\n"),
        ModuleFile("Tools", "powershell", "function Get-Tool { 'hammer' }\n"),
    ]
    _, private, script = prepare("powershell", tmp_path, modules=modules)
    directory = private / "modules"
    assert sorted(p.name for p in directory.iterdir()) == ["Helpers.psm1", "Tools.psm1"]
    assert (directory / "Helpers.psm1").read_text() == "function Get-Answer { 42 }\n"
    assert (directory / "Tools.psm1").read_text() == "function Get-Tool { 'hammer' }\n"
    assert [p.name for p in script.parent.iterdir()] == ["script.ps1"]
    text = (private / "bootstrap.ps1").read_text(encoding="utf-8")
    imports = (
        f"Import-OctopusScriptModule 'Helpers' '{directory}/Helpers.psm1'\n"
        f"Import-OctopusScriptModule 'Tools' '{directory}/Tools.psm1'\n"
        "try {\n"
    )
    assert imports in text


def test_no_module_directory_without_powershell_modules(tmp_path: Path) -> None:
    _, private, _ = prepare(
        "powershell", tmp_path, modules=[ModuleFile("Shell", "bash", "x() { :; }\n")]
    )
    assert sorted(p.name for p in private.iterdir()) == ["bootstrap.ps1", "variables.dat"]
    assert "Import-OctopusScriptModule '" not in (private / "bootstrap.ps1").read_text()


def test_a_script_not_named_ps1_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StepsError) as caught:
        prepare("powershell", tmp_path, script_name="deploy.txt")
    assert str(caught.value) == "deploy.txt: PowerShell scripts must be named *.ps1; rename it"
    assert list((tmp_path / "private").iterdir()) == []


def test_missing_pwsh_is_named_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StepsError) as caught:
        get_language("powershell").check_available()
    assert str(caught.value) == "powershell scripts need `pwsh` on PATH; install PowerShell 7"
    (tmp_path / "pwsh").touch(mode=0o755)
    get_language("powershell").check_available()


def test_run_stops_before_any_step_when_pwsh_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_run_stops_before_any_step(
        tmp_path,
        monkeypatch,
        "powershell",
        "run.ps1",
        "powershell scripts need `pwsh` on PATH; install PowerShell 7",
    )


# --- with pwsh ------------------------------------------------------------------------------


@needs_pwsh
def test_set_octopusvariable_output(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Set-OctopusVariable -name 'Name' -value 'Value'\n"
        "Set-OctopusVariable -name 'Name' -value 'Value' -sensitive\n"
        "Set-OctopusVariable 'Name' ''\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']",
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=' sensitive='VHJ1ZQ==']",
        "##octopus[setVariable name='TmFtZQ==' value='']",
    ]


@needs_pwsh
def test_new_octopusartifact_output(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "[IO.File]::WriteAllText(\"$PWD/report.txt\", '12345')\n"
        "New-OctopusArtifact -path report.txt\n"
        "New-OctopusArtifact 'gone.txt' 'Named'\n",
    )
    assert result.returncode == 0, result.stderr
    workdir = tmp_path / "work"
    report, gone = str(workdir / "report.txt"), str(workdir / "gone.txt")
    assert result.stdout.splitlines() == [
        "##octopus[stdout-verbose]",
        f"Artifact report.txt will be collected from {report} after this step completes",
        "##octopus[stdout-default]",
        format_message("createArtifact", path=report, name="report.txt", length="5"),
        "##octopus[stdout-verbose]",
        "There is no file at 'gone.txt' right now. Writing the service message just in case "
        "the file is available when the artifacts are collected at a later point in time.",
        "##octopus[stdout-default]",
        "##octopus[stdout-verbose]",
        f"Artifact Named will be collected from {gone} after this step completes",
        "##octopus[stdout-default]",
        format_message("createArtifact", path=gone, name="Named", length="0"),
    ]


@needs_pwsh
def test_update_progress_and_write_overrides(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Update-Progress -percentage 50 -message 'half way'\n"
        "Update-Progress 60\n"
        "Write-Verbose 'v'\n"
        "Write-Highlight 'h'\n"
        "Write-Wait 'w'\n"
        "Write-Warning 'careful now'\n"
        "'a', 'b' | Write-Verbose\n"
        "Write-Debug 'd'\n",
    )
    assert result.returncode == 0, result.stderr
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
        "##octopus[stdout-verbose]",
        "a",
        "b",
        "##octopus[stdout-default]",
        "##octopus[stdout-verbose]",
        "d",
        "##octopus[stdout-default]",
    ]


@needs_pwsh
def test_fail_step_with_message_exits_255(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell", tmp_path, "Fail-Step 'it broke'\nWrite-Host 'not reached'\n"
    )
    assert result.returncode == 255
    assert result.stdout == format_message("resultMessage", message="it broke") + "\n"


@needs_pwsh
def test_fail_step_without_message(tmp_path: Path) -> None:
    result = run_prepared("powershell", tmp_path, "Fail-Step\n")
    assert (result.returncode, result.stdout) == (255, "")


@needs_pwsh
def test_octopus_parameters_hold_every_value_exactly(tmp_path: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(TRICKY_VALUES)}
    variables |= {name: f"named {i}" for i, name in enumerate(TRICKY_NAMES)}
    result = run_prepared(
        "powershell",
        tmp_path,
        "function Encode([string]$text) {\n"
        "    [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($text))\n"
        "}\n"
        "[string[]]$lines = foreach ($pair in $OctopusParameters.GetEnumerator()) {\n"
        "    'variable ' + (Encode $pair.Key) + ' ' + (Encode $pair.Value)\n"
        "}\n"
        '[IO.File]::WriteAllLines("$PWD/out.dat", $lines)\n'
        "Write-Host ($OctopusParameters -is [Collections.Generic.Dictionary[string, string]])\n"
        "Write-Host ($OctopusParameters.Comparer -eq [StringComparer]::OrdinalIgnoreCase)\n",
        variables=variables,
    )
    assert result.returncode == 0, result.stderr
    records = read_records(tmp_path / "work" / "out.dat")
    assert {r[1]: r[2] for r in records} == {n: as_dotnet_reads(v) for n, v in variables.items()}
    assert result.stdout.splitlines() == ["True", "True"]
    assert not list((tmp_path / "work").glob("pwned*"))


@needs_pwsh
def test_octopus_parameters_ignore_case_and_leave_out_modules(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Write-Host $OctopusParameters['octopus.environment.name']\n"
        "Write-Host $OctopusParameters.ContainsKey('Octopus.Script.Module[Helpers]')\n"
        "Write-Host $OctopusParameters.Count\n",
        variables={
            "Octopus.Environment.Name": "prod",
            "Octopus.Script.Module[Helpers]": "function Get-X { }",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["prod", "False", "1"]


@needs_pwsh
def test_variables_are_declared_without_replacing_automatic_ones(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Write-Host $OctopusEnvironmentName\n"
        'Write-Host "$myvar|$my_var"\n'
        "Write-Host ($PWD.Path -eq (Get-Location).Path)\n"
        "Write-Host ($HOME -ne 'hijacked')\n"
        "Write-Host ($true -is [bool])\n"
        "Write-Host (Test-Path variable:global:LASTEXITCODE)\n"
        "Write-Host $ErrorActionPreference\n"
        "Write-Host $OctopusParameters.GetType().Name\n"
        "Write-Host $Duplicate\n",
        variables={
            "Octopus.Environment.Name": "prod",
            "my_var": "x",
            "PWD": "hijacked",
            "HOME": "hijacked",
            "true": "hijacked",
            "LastExitCode": "7",
            "Args": "hijacked",
            "ErrorActionPreference": "Continue",
            "Octopus.Parameters": "hijacked",
            "Dupli.cate": "first",
            "Duplicate": "second",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "prod",
        "x|x",
        "True",
        "True",
        "True",
        "False",
        "Stop",
        "Dictionary`2",
        "first",
    ]


@needs_pwsh
def test_values_file_is_gone_before_the_script_runs(tmp_path: Path) -> None:
    values = tmp_path / "private" / "variables.dat"
    result = run_prepared(
        "powershell",
        tmp_path,
        "Write-Host (Test-Path -LiteralPath $args[0])\n",
        variables={"Password": "secret"},
        parameters=[str(values)],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False"]


@needs_pwsh
def test_parameters_arrive_positionally_and_exactly(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "param($First, $Second)\n"
        'Write-Host "[$First][$Second]"\n'
        'foreach ($rest in $args) { Write-Host "[$rest]" }\n',
        parameters=["a b", "it's $HOME `n", "", "$(Get-Date)"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[a b][it's $HOME `n]", "[]", "[$(Get-Date)]"]


@needs_pwsh
def test_script_sees_its_own_path_and_error_preference(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Write-Host $PSCommandPath\nWrite-Host $ErrorActionPreference\nWrite-Host $PWD\n",
    )
    assert result.returncode == 0, result.stderr
    workdir = tmp_path / "work"
    assert result.stdout.splitlines() == [str(workdir / "script.ps1"), "Stop", str(workdir)]


@needs_pwsh
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("exit 3\n", 3),
        ("exit 0\n", 0),
        ("Write-Host done\n", 0),
        ("bash -c 'exit 4'\n", 4),
        ("bash -c 'exit 4'\nexit 0\n", 0),
    ],
)
def test_exit_codes(tmp_path: Path, text: str, code: int) -> None:
    result = run_prepared("powershell", tmp_path, text)
    assert result.returncode == code, result.stderr


@needs_pwsh
def test_an_uncaught_error_is_reported_and_exits_1(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell", tmp_path, "Write-Host before\nthrow 'it went wrong'\nWrite-Host after\n"
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["before"]
    assert "it went wrong" in result.stderr


@needs_pwsh
def test_modules_are_imported_before_the_script(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Write-Host (Get-Answer)\nWrite-Host (Get-Environment)\n",
        variables={"Octopus.Environment.Name": "prod"},
        modules=[
            ModuleFile("Answers", "powershell", "function Get-Answer { '42' }\n"),
            ModuleFile(
                "Environments",
                "powershell",
                "function Get-Environment { $OctopusParameters['Octopus.Environment.Name'] }\n",
            ),
        ],
    )
    assert result.returncode == 0, result.stderr
    workdir_lines = [line for line in result.stdout.splitlines() if "##octopus" not in line]
    assert workdir_lines[-2:] == ["42", "prod"]
    assert "Importing Script Module 'Answers' from '" in result.stdout


@needs_pwsh
def test_a_module_that_fails_to_import_stops_the_step(tmp_path: Path) -> None:
    result = run_prepared(
        "powershell",
        tmp_path,
        "Write-Host 'script ran'\n",
        modules=[ModuleFile("Broken", "powershell", "throw 'cannot load'\n")],
    )
    assert result.returncode == 1
    assert "script ran" not in result.stdout
    assert "Failed to import Script Module 'Broken' from '" in result.stderr
    assert "cannot load" in result.stderr


@needs_pwsh
def test_output_levels_through_run_script(run: RunScript) -> None:
    ran = run(
        "powershell",
        "Write-Host info\nWrite-Verbose verbose\nWrite-Highlight highlight\n"
        "Write-Wait wait\nWrite-Warning warning\n",
    )
    assert ran.result.exit_code == 0
    assert ran.console.lines == [
        (Level.INFO, "info"),
        (Level.VERBOSE, "verbose"),
        (Level.HIGHLIGHT, "highlight"),
        (Level.WAIT, "wait"),
        (Level.WARNING, "warning"),
    ]


@needs_pwsh
def test_a_step_through_the_runner(tmp_path: Path) -> None:
    step = template(
        tmp_path / "template",
        "powershell",
        "param($First)\n"
        "Write-Host \"$($OctopusParameters['Greeting']), $First and $Greeting\"\n"
        "Set-OctopusVariable -name 'Answer' -value (Get-Answer)\n"
        "Set-OctopusVariable -name 'Secret' -value 'hunter2-xyz' -sensitive\n"
        "[IO.File]::WriteAllText(\"$PWD/report.txt\", 'report')\n"
        "New-OctopusArtifact -path report.txt -name 'ps-report.txt'\n",
        [parameter("Greeting", default="Hello")],
        file="run.ps1",
    )
    module = ModuleFile("Answers", "powershell", "function Get-Answer { '42' }\n")
    ran = run_plans(
        tmp_path,
        [plan("deploy", step, {"Greeting": "Hi"}, modules=(module,))],
        script_parameters=["one"],
    )
    assert (ran.step.status, ran.step.exit_code) == ("succeeded", 0), ran.step.message
    assert ran.step.output_variables == {"Answer": "42", "Secret": MASK}
    assert [(a.name, a.size) for a in ran.step.artifacts] == [("ps-report.txt", 6)]
    assert (Level.INFO, "Hi, one and Hi") in ran.console.lines


@needs_pwsh
def test_a_failing_step_through_the_runner(tmp_path: Path) -> None:
    step = template(tmp_path / "template", "powershell", "Fail-Step 'broken'\n", file="run.ps1")
    ran = run_plans(tmp_path, [plan("deploy", step)])
    assert (ran.step.status, ran.step.exit_code, ran.step.message) == ("failed", 255, "broken")
    assert ran.outcome.exit_code == 255
