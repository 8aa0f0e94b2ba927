from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from steptemplates.execution.languages import get_language
from steptemplates.execution.service_messages import format_message

from .conftest import RunRaw
from .test_bash_bootstrap import NASTY_VALUES


def test_set_octopusvariable_output_and_local_update(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "set_octopusvariable('Name', 'Value')\n"
        "set_octopusvariable('Name', 'Value', True)\n"
        "set_octopusvariable('Name', '')\n"
        "set_octopusvariable('Other', 'x')\n"
        "print(get_octopusvariable('Other'), octopus_parameters['Other'])\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']",
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=' sensitive='VHJ1ZQ==']",
        "##octopus[setVariable name='TmFtZQ==']",
        "##octopus[setVariable name='T3RoZXI=' value='eA==']",
        "x x",
    ]


def test_createartifact_output(run_raw: RunRaw, workdir: Path) -> None:
    (workdir / "report.txt").write_bytes(b"12345")
    result = run_raw(
        "python", "createartifact('report.txt')\ncreateartifact('gone.txt', fileName='Named')\n"
    )
    assert result.returncode == 0, result.stderr
    path = str(workdir / "report.txt")
    gone = str(workdir / "gone.txt")
    assert result.stdout.splitlines() == [
        "Collecting report.txt as an artifact...",
        "##octopus[stdout-verbose]",
        f"Artifact report.txt will be collected from {path} after this step completes",
        "##octopus[stdout-default]",
        format_message("createArtifact", path=path, name="report.txt", length="5"),
        "Collecting gone.txt as an artifact...",
        "##octopus[stdout-verbose]",
        f"Artifact Named will be collected from {gone} after this step completes",
        "##octopus[stdout-default]",
        format_message("createArtifact", path=gone, name="Named", length="0"),
    ]


def test_updateprogress_and_print_helpers(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "updateprogress(50, 'half way')\nupdateprogress(60)\n"
        "printverbose('v')\nprinthighlight('h')\nprintwait('w')\nprintwarning('careful now')\n",
    )
    assert result.stdout.splitlines() == [
        "##octopus[progress percentage='NTA=' message='aGFsZiB3YXk=']",
        "##octopus[progress percentage='NjA=']",
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


def test_failstep_with_message_exits_255(run_raw: RunRaw) -> None:
    result = run_raw("python", "failstep('it broke')\nprint('not reached')\n")
    assert result.returncode == 255
    assert result.stdout == format_message("resultMessage", message="it broke") + "\n"


def test_failstep_without_message(run_raw: RunRaw) -> None:
    result = run_raw("python", "failstep()\n")
    assert (result.returncode, result.stdout) == (255, "")


def test_values_round_trip_exactly(run_raw: RunRaw, workdir: Path) -> None:
    values = [*NASTY_VALUES, "nul\0inside", "\ud800 lone surrogate"]
    variables = {f"v{i}": value for i, value in enumerate(values)}
    result = run_raw(
        "python",
        "import json\n"
        "names = sorted(octopusvariables)\n"
        "with open('out.json', 'w') as f:\n"
        "    json.dump({n: get_octopusvariable(n) for n in names}, f)\n",
        variables=variables,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((workdir / "out.json").read_text()) == variables
    assert not list(workdir.glob("pwned*"))


def test_lookup_is_exact_case_and_unknown_names_raise_keyerror(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "print(get_octopusvariable('Name'))\n"
        "for name in ('name', 'Missing'):\n"
        "    try:\n"
        "        get_octopusvariable(name)\n"
        "    except KeyError as error:\n"
        "        print('KeyError', error)\n",
        variables={"Name": "value"},
    )
    assert result.stdout.splitlines() == ["value", "KeyError 'name'", "KeyError 'Missing'"]


def test_parameters_are_read_only_views(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "print(OctopusParameters is octopus_parameters, dict(octopus_parameters))\n"
        "try:\n"
        "    octopus_parameters['Name'] = 'changed'\n"
        "except TypeError:\n"
        "    print('read-only')\n",
        variables={"Name": "value"},
    )
    assert result.stdout.splitlines() == ["True {'Name': 'value'}", "read-only"]


def test_modules_available_without_import(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "print(sys.version_info[0], os.sep, base64.b64encode(b'a').decode())\n"
        "print(__name__, os.path.basename(__file__))\n",
    )
    assert result.stdout.splitlines() == ["3 / YQ==", "__main__ script.py"]


def test_argv_holds_the_script_and_parameters(run_raw: RunRaw, workdir: Path) -> None:
    result = run_raw("python", "print(sys.argv)\n", parameters=["a b", "", "-x"])
    assert result.stdout.strip() == repr([str(workdir / "script.py"), "a b", "", "-x"])


def test_imports_resolve_in_the_working_directory(run_raw: RunRaw, workdir: Path) -> None:
    (workdir / "mymodule.py").write_text("ANSWER = 42\n")
    result = run_raw("python", "import mymodule\nprint(mymodule.ANSWER)\n")
    assert (result.returncode, result.stdout) == (0, "42\n"), result.stderr


def test_uncaught_exception_fails_with_a_traceback(run_raw: RunRaw) -> None:
    result = run_raw("python", "raise RuntimeError('boom')\n")
    assert result.returncode == 1
    assert "RuntimeError: boom" in result.stderr


def test_variables_file_is_deleted_after_loading(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "bootstrap = open('/proc/self/cmdline').read().split('\\0')[2]\n"
        "print(sorted(os.listdir(os.path.dirname(bootstrap))))\n",
    )
    assert result.stdout.strip() == "['bootstrap.py']"


def test_prepare_writes_variables_for_the_user_only(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("pass\n")
    private = tmp_path / "private"
    private.mkdir()
    argv = get_language("python").prepare(script, private, {"Secret": "s3cret"}, ["p1"])
    assert argv == ["python3", "-u", str(private / "bootstrap.py"), "p1"]
    variables = private / "variables.json"
    assert stat.S_IMODE(os.stat(variables).st_mode) == 0o600
    assert json.loads(variables.read_text()) == {"Secret": "s3cret"}
    assert all("s3cret" not in arg for arg in argv)
