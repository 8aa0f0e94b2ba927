from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from steptemplates.execution.languages import get_language
from steptemplates.execution.service_messages import format_message

from .conftest import RunRaw

NASTY_VALUES = [
    "",
    "plain",
    "two\nlines\n\n",
    "$(touch pwned-dollar)",
    "`touch pwned-backtick`",
    "'; touch pwned-quote; '",
    '"; touch pwned-dquote; "',
    "back\\slash\\\\ and \\n and \\x41",
    "${HOME} $HOME $1 $@ !! ~",
    "%s %d %% -n -e",
    "-n",
    "unicode: é ü 雪 🚀",
    "tab\tcr\rbell\a",
    "".join(chr(c) for c in range(1, 128)),
    "glob * ? [a] {x,y}",
]


def test_set_octopusvariable_output(run_raw: RunRaw) -> None:
    result = run_raw(
        "bash",
        "set_octopusvariable Name Value\n"
        "set_octopusvariable Name Value -sensitive\n"
        "set_octopusvariable Name ''\n"
        "set_octopusvariable Name Value -other\n",
    )
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']",
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=' sensitive='VHJ1ZQ==']",
        "##octopus[setVariable name='TmFtZQ==']",
        "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']",
    ]


def test_new_octopusartifact_output(run_raw: RunRaw, workdir: Path) -> None:
    (workdir / "out").mkdir()
    (workdir / "out" / "report.txt").write_bytes(b"12345")
    result = run_raw(
        "bash", "new_octopusartifact out/report.txt\nnew_octopusartifact out/report.txt Named\n"
    )
    assert result.returncode == 0
    path = str((workdir / "out" / "report.txt").resolve())
    create = format_message("createArtifact", path=path, name="report.txt", length="5")
    assert result.stdout.splitlines()[:5] == [
        "Collecting out/report.txt as an artifact...",
        "##octopus[stdout-verbose]",
        f"Artifact report.txt will be collected from {path} after this step completes",
        "##octopus[stdout-default]",
        create,
    ]
    assert result.stdout.splitlines()[-1] == format_message(
        "createArtifact", path=path, name="Named", length="5"
    )


def test_new_octopusartifact_fails_for_a_missing_file(run_raw: RunRaw) -> None:
    result = run_raw("bash", "new_octopusartifact nope.txt\necho not reached\n")
    assert result.returncode == 1
    assert "Could not find artifact nope.txt" in result.stderr
    assert "not reached" not in result.stdout
    assert "createArtifact" not in result.stdout


def test_fail_step_with_message(run_raw: RunRaw) -> None:
    result = run_raw("bash", "fail_step 'it broke'\necho not reached\n")
    assert result.returncode == 1
    assert result.stdout == format_message("resultMessage", message="it broke") + "\n"


def test_fail_step_without_message(run_raw: RunRaw) -> None:
    result = run_raw("bash", "fail_step\necho not reached\n")
    assert (result.returncode, result.stdout) == (1, "")


def test_update_progress_and_write_helpers(run_raw: RunRaw) -> None:
    result = run_raw(
        "bash",
        "update_progress 50 'half way'\n"
        "write_verbose v\nwrite_highlight h\nwrite_wait w\nwrite_warning 'careful now'\n",
    )
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


def test_encode_and_decode_servicemessagevalue(run_raw: RunRaw) -> None:
    result = run_raw(
        "bash",
        'encoded=$(encode_servicemessagevalue "é long enough to wrap a base64 line? '
        + "x" * 80
        + '")\n'
        'printf "%s\\n" "$encoded"\n'
        'decode_servicemessagevalue "$encoded"\n',
    )
    encoded, decoded = result.stdout.split("\n", 1)
    assert format_message("m", v="é long enough to wrap a base64 line? " + "x" * 80) == (
        f"##octopus[m v='{encoded}']"
    )
    assert decoded == "é long enough to wrap a base64 line? " + "x" * 80


def test_encoding_falls_back_to_openssl_without_coreutils_base64(
    run_raw: RunRaw, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "openssl", "rm"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    result = run_raw(
        "bash",
        "set_octopusvariable Name Value\ndecode_servicemessagevalue w6k=\n",
        env={"PATH": str(bin_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "##octopus[setVariable name='TmFtZQ==' value='VmFsdWU=']\né"


def test_values_round_trip_exactly_and_never_run(run_raw: RunRaw, workdir: Path) -> None:
    variables = {f"v{i}": value for i, value in enumerate(NASTY_VALUES)}
    result = run_raw(
        "bash",
        f"for i in $(seq 0 {len(NASTY_VALUES) - 1}); do\n"
        '  get_octopusvariable "v$i" > "get$i"\n'
        '  printf "%s" "${octopus_parameters[v$i]}" > "array$i"\n'
        "done\n",
        variables=variables,
    )
    assert result.returncode == 0, result.stderr
    for i, value in enumerate(NASTY_VALUES):
        assert (workdir / f"get{i}").read_bytes() == value.encode(), value
        assert (workdir / f"array{i}").read_bytes() == value.encode(), value
    assert not list(workdir.glob("pwned*"))
    assert result.stderr == ""


def test_nul_is_dropped_as_bash_cannot_hold_it(run_raw: RunRaw) -> None:
    result = run_raw("bash", "get_octopusvariable Nul", variables={"Nul": "a\0b"})
    assert result.stdout == "ab"


def test_names_with_pattern_characters_match_literally(run_raw: RunRaw) -> None:
    variables = {
        "A*": "star",
        "A[b]": "bracket",
        "A?": "question",
        "Octopus.Action[x].Output.y": "o",
    }
    result = run_raw(
        "bash",
        "for name in 'A*' 'A[b]' 'A?' Ab AX A Octopus.Action[x].Output.y Octopus.Action.x; do\n"
        '  printf "%s=%s\\n" "$name" "$(get_octopusvariable "$name")"\n'
        "done\n"
        'printf "%s\\n" "${octopus_parameters[A*]}" "${octopus_parameters[A[b]]}"\n',
        variables=variables,
    )
    assert result.stdout.splitlines() == [
        "A*=star",
        "A[b]=bracket",
        "A?=question",
        "Ab=",
        "AX=",
        "A=",
        "Octopus.Action[x].Output.y=o",
        "Octopus.Action.x=",
        "star",
        "bracket",
    ]


def test_lookup_is_exact_case_and_unknown_names_print_nothing(run_raw: RunRaw) -> None:
    result = run_raw(
        "bash",
        "get_octopusvariable Name; echo '|'\n"
        "get_octopusvariable name; echo '|'\n"
        "get_octopusvariable NAME; echo '|'\n"
        'get_octopusvariable Missing; echo "|$?"\n',
        variables={"Name": "value"},
    )
    assert result.stdout.splitlines() == ["value|", "|", "|", "|0"]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [((), ["0"]), (("a b", "", "$HOME", "-x"), ["4", "<a b>", "<>", "<$HOME>", "<-x>"])],
)
def test_positional_parameters(
    run_raw: RunRaw, parameters: tuple[str, ...], expected: list[str]
) -> None:
    result = run_raw(
        "bash", 'echo "$#"\nfor p in "$@"; do echo "<$p>"; done\n', parameters=parameters
    )
    assert result.stdout.splitlines() == expected


def test_helpers_work_under_strict_mode(run_raw: RunRaw, workdir: Path) -> None:
    (workdir / "f").write_text("x")
    result = run_raw(
        "bash",
        "set -euo pipefail\n"
        "get_octopusvariable Missing\n"
        "set_octopusvariable Name ''\n"
        "update_progress 1\n"
        "write_verbose\n"
        "new_octopusartifact f\n"
        "echo done\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("done\n")


def test_crlf_script_runs_and_is_left_untouched(run_raw: RunRaw, workdir: Path) -> None:
    result = run_raw("bash", 'x=1\r\necho "x=$x"\r\n')
    assert (result.returncode, result.stdout) == (0, "x=1\n")
    assert (workdir / "script.sh").read_bytes() == b'x=1\r\necho "x=$x"\r\n'


def test_variables_file_is_deleted_after_sourcing(run_raw: RunRaw) -> None:
    # BASH_SOURCE[1] is the bootstrap that sourced the script, in the private directory.
    script = 'ls -A "$(dirname "${BASH_SOURCE[1]}")"\n'
    result = run_raw("bash", script, variables={"Secret": "s3cret"})
    assert sorted(result.stdout.split()) == ["bootstrap.sh", "helpers.sh"]


def test_dollar_zero_is_the_script_itself(run_raw: RunRaw, workdir: Path) -> None:
    result = run_raw("bash", 'echo "$0"\n')
    assert result.stdout == f"{workdir / 'script.sh'}\n"


def test_prepare_writes_variables_for_the_user_only(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("true\n")
    private = tmp_path / "private"
    private.mkdir()
    argv = get_language("bash").prepare(script, private, {"Secret": "s3cret"}, ["p1"])
    bootstrap = f"source $'{private / 'bootstrap.sh'}'"
    assert argv == ["bash", "--noprofile", "--norc", "-c", bootstrap, str(script), "p1"]
    variables = private / "variables.sh"
    assert stat.S_IMODE(os.stat(variables).st_mode) == 0o600
    assert "s3cret" in variables.read_text()
    assert all("s3cret" not in arg for arg in argv)
