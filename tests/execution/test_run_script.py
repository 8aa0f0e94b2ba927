from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path

import pytest

from steptemplates.console import Console, Level
from steptemplates.errors import StepsError
from steptemplates.execution.script import (
    ArtifactRequest,
    Outcome,
    OutputVariable,
    ScriptRequest,
    run_script,
)
from steptemplates.execution.service_messages import format_message

from .conftest import RunScript, wait_for_pid


def test_output_modes_set_the_level_of_following_lines(run: RunScript) -> None:
    ran = run(
        "bash",
        "echo info\n"
        "write_verbose verbose\n"
        "write_highlight highlight\n"
        "write_wait wait\n"
        "write_warning warning\n"
        "echo '##octopus[stdout-error]'; echo error1; echo error2\n"
        "echo '##octopus[stdout-ignore]'; echo ignored\n"
        "echo '##octopus[stdout-default]'; echo info again\n",
    )
    assert ran.console.lines == [
        (Level.INFO, "info"),
        (Level.VERBOSE, "verbose"),
        (Level.HIGHLIGHT, "highlight"),
        (Level.WAIT, "wait"),
        (Level.WARNING, "warning"),
        (Level.ERROR, "error1"),
        (Level.ERROR, "error2"),
        (Level.INFO, "info again"),
    ]
    assert "##octopus" not in ran.console.stdout + ran.console.stderr


def test_stderr_modes_and_error_output(run: RunScript) -> None:
    # Stdout written before stderr is handled first; the pauses keep each later mode
    # change from overtaking the stderr line before it.
    ran = run(
        "bash",
        "echo e1 >&2; sleep 0.1\n"
        "echo '##octopus[stderr-progress]'; echo p1 >&2; sleep 0.1\n"
        "echo '##octopus[stderr-ignore]'; echo gone >&2; sleep 0.1\n"
        "echo '##octopus[stderr-default]'; echo e2 >&2\n",
    )
    assert ran.console.lines == [
        (Level.ERROR, "e1"),
        (Level.VERBOSE, "p1"),
        (Level.ERROR, "e2"),
    ]


@pytest.mark.parametrize(
    ("syntax", "text"),
    [
        (
            "bash",
            "set_octopusvariable Password 'hunter2 secret' -sensitive\n"
            "echo 'the password is hunter2 secret'\necho 'hunter2 secret' >&2\n",
        ),
        (
            "python",
            "set_octopusvariable('Password', 'hunter2 secret', True)\n"
            "print('the password is hunter2 secret')\n"
            "print('hunter2 secret', file=sys.stderr)\n",
        ),
    ],
)
def test_sensitive_output_variable_is_masked_at_once(syntax: str, text: str, workdir: Path) -> None:
    script = workdir / f"script.{'sh' if syntax == 'bash' else 'py'}"
    script.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err, verbose=True)
    result = run_script(ScriptRequest(syntax, script, workdir, {}), console)
    assert result.output_variables == (OutputVariable("Password", "hunter2 secret", True),)
    assert "the password is ********" in out.getvalue()
    assert "********" in err.getvalue()
    assert "hunter2" not in out.getvalue() + err.getvalue()


def test_mask_message_masks_later_lines(run: RunScript) -> None:
    ran = run("bash", f"echo \"{format_message('mask', value='t0ken')}\"\necho 'auth t0ken'\n")
    assert ran.console.lines == [(Level.INFO, "auth ********")]


def test_results_of_service_messages(run: RunScript, workdir: Path) -> None:
    (workdir / "logs").mkdir()
    (workdir / "logs" / "a.log").write_text("abc")
    ran = run(
        "bash",
        "set_octopusvariable Out first\n"
        "set_octopusvariable Other x\n"
        "set_octopusvariable Out second\n"
        "set_octopusvariable '' ignored\n"
        "new_octopusartifact logs/a.log\n"
        f'echo "{format_message("createArtifact", path="rel/b.txt", name="b")}"\n'
        "update_progress 50 'half way'\n"
        "echo \"##octopus[set-environmentstate key='YQ==']\"\n"
        "fail_step 'deploy failed'\n",
    )
    result = ran.result
    assert (result.outcome, result.exit_code) == (Outcome.FAILED, 1)
    assert result.result_message == "deploy failed"
    assert result.output_variables == (
        OutputVariable("Out", "second", False),
        OutputVariable("Other", "x", False),
    )
    assert result.artifacts == (
        ArtifactRequest((workdir / "logs" / "a.log").resolve(), "a.log", 3),
        ArtifactRequest(workdir / "rel" / "b.txt", "b", None),
    )
    assert (Level.INFO, "progress: 50% half way") in ran.console.lines
    assert (Level.VERBOSE, "output variable Out set") in ran.console.lines
    assert (Level.VERBOSE, "service message 'set-environmentstate' is not supported; ignored") in (
        ran.console.lines
    )


@pytest.mark.parametrize(
    ("syntax", "text", "outcome", "code"),
    [
        ("bash", "true\n", Outcome.SUCCEEDED, 0),
        ("bash", "exit 3\n", Outcome.FAILED, 3),
        ("Bash", "false\n", Outcome.FAILED, 1),
        ("python", "pass\n", Outcome.SUCCEEDED, 0),
        ("python", "sys.exit(4)\n", Outcome.FAILED, 4),
    ],
)
def test_outcome_follows_the_exit_code(
    run: RunScript, syntax: str, text: str, outcome: Outcome, code: int
) -> None:
    result = run(syntax, text).result
    assert (result.outcome, result.exit_code) == (outcome, code)


WAIT_FOR_GO = {
    "bash": "echo $$ > pid\nwhile [ ! -e go ]; do sleep 0.02; done\n",
    "python": (
        "import time\nopen('pid', 'w').write(str(os.getpid()))\n"
        "while not os.path.exists('go'):\n    time.sleep(0.02)\n"
    ),
}


@pytest.mark.parametrize("syntax", ["bash", "python"])
def test_values_stay_out_of_argv_and_environment(
    syntax: str, run: RunScript, workdir: Path
) -> None:
    secret = "s3cret-value-9f8e7d"
    outcome: list[Outcome] = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            run(
                syntax, WAIT_FOR_GO[syntax], variables={"Secret": secret}, parameters=["p"]
            ).result.outcome
        )
    )
    thread.start()
    try:
        proc = Path("/proc") / str(wait_for_pid(workdir / "pid"))
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        environ = (proc / "environ").read_bytes()
        assert secret.encode() not in b"\0".join(cmdline)
        assert secret.encode() not in environ
        # bash: `bash ... -c "source $'<private>/bootstrap.sh'"`; python: `python3 -u <bootstrap>`
        bootstrap = os.fsdecode(cmdline[4] if syntax == "bash" else cmdline[2])
        private = Path(bootstrap.removeprefix("source $'").removesuffix("'")).parent
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        assert not any("variables" in name for name in os.listdir(private))
    finally:
        (workdir / "go").touch()
        thread.join(10)
    assert outcome == [Outcome.SUCCEEDED]
    assert not private.exists()


def test_missing_interpreter_is_reported_before_anything_runs(
    run: RunScript, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StepsError, match=r"bash scripts need `bash` on PATH; install it"):
        run("bash", "true\n")
