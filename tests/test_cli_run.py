"""`steps run` end to end: git-sourced templates, variables, outputs, secrets, artifacts, failures."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from steptemplates.cli import main
from tests.support.gitserver import ServedRepo

TOKEN = "tok-3f9a1c77e2"
SESSION_KEY = "session-3f9a1cff"  # derived from TOKEN by the script

COLLECT = """\
name = "collect"
description = "Reads its parameters and reports what it found"

[[parameters]]
name = "Name"
required = true

[[parameters]]
name = "Greeting"
default = "Hello"

[[parameters]]
name = "Token"
type = "sensitive"
required = true

[script]
syntax = "bash"
file = "collect.sh"
"""

COLLECT_SH = """\
name=$(get_octopusvariable "Name")
token=$(get_octopusvariable "Token")
echo "#{Greeting}, $name"
echo "the token is $token"
set_octopusvariable "Message" "$(get_octopusvariable "Greeting") from bash to $name"
set_octopusvariable "SessionKey" "session-${token:4:6}ff" -sensitive
echo "the session key is session-${token:4:6}ff"
echo "token length ${#token}" > report.txt
new_octopusartifact report.txt bash-report.txt
"""

PY_REPORT = """\
name = "py-report"

[[parameters]]
name = "Input"

[script]
syntax = "python"
file = "report.py"
"""

PY_REPORT_PY = """\
import json

value = get_octopusvariable("Input")
print("python got", value)
with open("summary.json", "w") as stream:
    json.dump({"input": value}, stream)
createartifact("summary.json")
set_octopusvariable("Upper", value.upper())
"""

CONSUME = """\
name = "consume"

[[parameters]]
name = "Message"

[[parameters]]
name = "Key"
type = "sensitive"

[[parameters]]
name = "Upper"

[script]
syntax = "python"
body = '''
import hashlib
key = get_octopusvariable("Key")
print("message:", get_octopusvariable("Message"))
print("upper:", get_octopusvariable("Upper"))
print("key sha256:", hashlib.sha256(key.encode()).hexdigest())
print("the key itself:", key)
'''
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


def write_template(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (root / name).write_text(content)
    return root


def manifest(project: Path, body: str) -> None:
    (project / "steps.toml").write_text(textwrap.dedent(body))


@pytest.fixture
def template_repo(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    repo = remote_repo("run-templates")
    repo.write("collect/steptemplate.toml", COLLECT)
    repo.write("collect/collect.sh", COLLECT_SH)
    repo.write("py-report/steptemplate.toml", PY_REPORT)
    repo.write("py-report/report.py", PY_REPORT_PY)
    repo.write("consume/steptemplate.toml", CONSUME)
    repo.commit("templates")
    repo.tag("v1.0.0", message="first release")
    return repo


def test_outputs_secrets_and_artifacts_flow_between_git_templates(
    cli: Cli, project: Path, template_repo: ServedRepo
) -> None:
    assert cli("init").code == 0
    for name in ("collect", "py-report", "consume"):
        added = cli("add", template_repo.git_url, "--subdir", name)
        assert added.code == 0, added.err
    steps = """
    [[steps]]
    name = "Collect"
    template = "collect"
    [steps.parameters]
    Name = "#{Target}"

    [[steps]]
    name = "Report"
    template = "py-report"
    [steps.parameters]
    Input = "#{Octopus.Action[Collect].Output.Message}"

    [[steps]]
    name = "Consume"
    template = "consume"
    [steps.parameters]
    Message = "#{Octopus.Action[Collect].Output.Message}"
    Key = "#{Octopus.Action[Collect].Output.SessionKey}"
    Upper = "#{Octopus.Action[Report].Output.Upper}"
    """
    text = (
        (project / "steps.toml").read_text().replace("[variables]", '[variables]\nTarget = "prod"')
    )
    (project / "steps.toml").write_text(text + textwrap.dedent(steps))

    result = cli("run", "-v", f"Token={TOKEN}")

    assert result.code == 0, result.text
    assert "Hello, prod" in result.out
    assert "python got Hello from bash to prod" in result.out
    assert "message: Hello from bash to prod" in result.out
    assert "upper: HELLO FROM BASH TO PROD" in result.out
    # The consumer received the sensitive output (its hash is right) but never showed it.
    digest = hashlib.sha256(SESSION_KEY.encode()).hexdigest()
    assert f"key sha256: {digest}" in result.out
    assert "the token is ********" in result.out
    assert "the session key is ********" in result.out
    assert "the key itself: ********" in result.out

    reports = list((project / ".steps" / "runs").glob("*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert report["status"] == "succeeded" and report["exit_code"] == 0
    collect, py_report, consume = report["steps"]
    assert collect["output_variables"] == {
        "Message": "Hello from bash to prod",
        "SessionKey": "********",
    }
    assert py_report["output_variables"] == {"Upper": "HELLO FROM BASH TO PROD"}
    assert consume["status"] == "succeeded"
    artifacts_dir = Path(report["artifacts_dir"])
    assert (artifacts_dir / "bash-report.txt").read_text() == f"token length {len(TOKEN)}\n"
    assert json.loads((artifacts_dir / "summary.json").read_text()) == {
        "input": "Hello from bash to prod"
    }
    assert [a["name"] for a in collect["artifacts"]] == ["bash-report.txt"]

    everything = result.text + reports[0].read_text() + (project / "steps.lock").read_text()
    everything += (project / "steps.toml").read_text()
    for secret in (TOKEN, SESSION_KEY):
        assert secret not in everything


def test_variable_precedence(cli: Cli, project: Path, tmp_path: Path) -> None:
    names = ["Default", "Project", "Step", "File", "Override"]
    parameters = "".join(f'[[parameters]]\nname = "{n}"\ndefault = "template"\n' for n in names)
    body = "".join(f'echo "{n}=$(get_octopusvariable {n})"\n' for n in names)
    write_template(
        project / "show",
        {
            "steptemplate.toml": f'name = "show"\n{parameters}[script]\nsyntax = "bash"\n'
            'file = "show.sh"\n',
            "show.sh": body,
        },
    )
    manifest(
        project,
        """
        [templates]
        show = { path = "show" }
        [variables]
        Project = "project"
        Step = "project"
        File = "project"
        Override = "project"
        [[steps]]
        name = "Show"
        template = "show"
        parameters = { Step = "step", File = "step", Override = "step" }
        """,
    )
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"File": "file", "Override": "file"}))
    result = cli("run", "--variables", str(variables), "-v", "Override=cli")
    assert result.code == 0, result.text
    # A project variable never gives a parameter its value: the template's default stands.
    assert result.out.splitlines() == [
        "Default=template",
        "Project=template",
        "Step=step",
        "File=file",
        "Override=cli",
    ]
    warned = [line for line in result.err.splitlines() if line.startswith("warning: project")]
    assert len(warned) == 4
    assert warned[0].startswith(
        "warning: project variable 'Project' has the name of parameter 'Project' of template "
        "'show' (steps 'Show')"
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("vars.json", json.dumps({"Secret": "s3cr3t-json"})),
        ("vars.json", json.dumps([{"k": "Secret", "v": "s3cr3t-array", "s": True}])),
        ("vars.toml", 'Secret = "s3cr3t-toml"\n'),
    ],
)
def test_variables_files(cli: Cli, project: Path, tmp_path: Path, name: str, content: str) -> None:
    write_template(
        project / "echo",
        {
            "steptemplate.toml": 'name = "echo"\n[script]\nsyntax = "bash"\n'
            'body = "echo value=$(get_octopusvariable Secret)"\n'
        },
    )
    manifest(
        project,
        """
        [templates]
        echo = { path = "echo" }
        [[steps]]
        name = "Echo"
        template = "echo"
        """,
    )
    path = tmp_path / name
    path.write_text(content)
    result = cli("run", "--variables", str(path))
    assert result.code == 0, result.text
    value = json.loads(content)[0]["v"] if content.startswith("[") else content.split('"')[-2]
    sensitive = content.startswith("[")
    shown = "********" if sensitive else value
    assert result.out.strip() == f"value={shown}"


def failing_process(project: Path) -> None:
    write_template(
        project / "exit",
        {
            "steptemplate.toml": '''name = "exit"
[[parameters]]
name = "Code"
default = "0"
[script]
syntax = "bash"
body = """
echo "step $(get_octopusvariable Octopus.Step.Name) error='$(get_octopusvariable Octopus.Deployment.Error)'"
exit $(get_octopusvariable Code)
"""
'''
        },
    )
    manifest(
        project,
        """
        [templates]
        exit = { path = "exit" }
        [[steps]]
        name = "First"
        template = "exit"
        [[steps]]
        name = "Breaks"
        template = "exit"
        parameters = { Code = "7" }
        [[steps]]
        name = "Skipped"
        template = "exit"
        [[steps]]
        name = "On failure"
        template = "exit"
        condition = "failure"
        [[steps]]
        name = "Always"
        template = "exit"
        condition = "always"
        parameters = { Code = "3" }
        """,
    )


def test_a_failing_step_stops_the_process_and_sets_the_exit_code(cli: Cli, project: Path) -> None:
    failing_process(project)
    result = cli("run", "--report", "report.json")
    assert result.code == 7
    assert result.out.splitlines() == [
        "step First error=''",
        "step Breaks error=''",
        "step On failure error='the script exited with code 7'",
        "step Always error='the script exited with code 7'",
    ]
    assert "error: step 'Breaks' failed" in result.err
    report = json.loads((project / "report.json").read_text())
    assert [(s["name"], s["status"], s["exit_code"]) for s in report["steps"]] == [
        ("First", "succeeded", 0),
        ("Breaks", "failed", 7),
        ("Skipped", "skipped", None),
        ("On failure", "succeeded", 0),
        ("Always", "failed", 3),
    ]
    assert report["status"] == "failed" and report["exit_code"] == 7


def test_failure_and_always_steps_do_not_run_after_success(cli: Cli, project: Path) -> None:
    failing_process(project)
    result = cli("run", "First", "On failure")
    assert result.code == 0, result.text
    assert result.out.splitlines() == ["step First error=''"]


def test_fail_step_message_becomes_the_step_message(cli: Cli, project: Path) -> None:
    write_template(
        project / "t",
        {
            "steptemplate.toml": 'name = "t"\n[[parameters]]\nname = "Pw"\ntype = "sensitive"\n'
            '[script]\nsyntax = "bash"\nbody = "fail_step \\"bad password $(get_octopusvariable Pw)\\""\n'
        },
    )
    manifest(
        project,
        """
        [templates]
        t = { path = "t" }
        [[steps]]
        name = "Login"
        template = "t"
        parameters = { Pw = "hunter2-xyz" }
        """,
    )
    result = cli("run", "--report", "r.json")
    assert result.code == 1
    assert "error: step 'Login' failed" in result.err
    assert "bad password ********" in result.err
    assert "hunter2-xyz" not in result.text + (project / "r.json").read_text()


def test_timeout_stops_the_step_and_its_children(cli: Cli, project: Path) -> None:
    write_template(
        project / "slow",
        {
            "steptemplate.toml": 'name = "slow"\n[script]\nsyntax = "bash"\nbody = """\n'
            'sleep 60 &\necho $! > "$(get_octopusvariable Steps.Project.Directory)/child"\n'
            'sleep 60\n"""\n'
        },
    )
    manifest(
        project,
        """
        [templates]
        slow = { path = "slow" }
        [[steps]]
        name = "Slow"
        template = "slow"
        timeout = "1s"
        """,
    )
    started = time.monotonic()
    result = cli("run")
    assert time.monotonic() - started < 10
    assert result.code == 124
    assert "step 'Slow' timed out" in result.err and "timed out after 1s" in result.err
    child = int((project / "child").read_text())
    assert _gone(child)


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return True  # exited; only waiting to be reaped by init
        time.sleep(0.05)
    return False


def test_a_daemon_holding_stdout_does_not_hang_the_step(cli: Cli, project: Path) -> None:
    write_template(
        project / "daemon",
        {
            "steptemplate.toml": 'name = "daemon"\n[script]\nsyntax = "bash"\nbody = """\n'
            "nohup sleep 30 &\n"
            'echo $! > "$(get_octopusvariable Steps.Project.Directory)/daemon.pid"\n'
            'echo started\n"""\n'
        },
    )
    manifest(
        project,
        """
        [templates]
        daemon = { path = "daemon" }
        [[steps]]
        name = "Start"
        template = "daemon"
        """,
    )
    started = time.monotonic()
    try:
        result = cli("run")
        elapsed = time.monotonic() - started
    finally:
        pid = int((project / "daemon.pid").read_text())
        still_running = not _gone_now(pid)
        os.kill(pid, signal.SIGKILL)
    assert result.code == 0, result.text
    assert "started" in result.out
    assert elapsed < 2.5
    assert still_running  # the service was left running, as the script intended


def _gone_now(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def simple_project(project: Path, template: str, step: str = "") -> None:
    write_template(project / "t", {"steptemplate.toml": template})
    manifest(
        project,
        f"""
        [templates]
        t = {{ path = "t" }}
        [[steps]]
        name = "Only"
        template = "t"
        {step}
        """,
    )


def test_missing_required_parameter_names_step_and_parameter(cli: Cli, project: Path) -> None:
    simple_project(
        project,
        'name = "t"\n[[parameters]]\nname = "Url"\nrequired = true\n'
        '[script]\nsyntax = "bash"\nbody = "touch ran"\n',
    )
    result = cli("run")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "error: step 'Only': required parameter 'Url' has no value; set it under the step's "
        "parameters in steps.toml or pass -v Url=VALUE"
    )
    assert not (project / "ran").exists()
    assert cli("run", "-v", "Url=http://x").code == 0


def test_unknown_step_parameter_is_an_error(cli: Cli, project: Path) -> None:
    simple_project(
        project,
        'name = "t"\n[[parameters]]\nname = "Url"\n[script]\nsyntax = "bash"\nbody = "true"\n',
        'parameters = { Ulr = "x" }',
    )
    result = cli("run")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "error: step 'Only': template 't' has no parameter 'Ulr'; its parameters are: Url"
    )


def test_invalid_checkbox_and_select_values_fail_the_step(cli: Cli, project: Path) -> None:
    simple_project(
        project,
        'name = "t"\n[[parameters]]\nname = "Flag"\ntype = "checkbox"\n'
        '[[parameters]]\nname = "Mode"\ntype = "select"\noptions = ["a", "b"]\n'
        '[script]\nsyntax = "bash"\nbody = "echo $(get_octopusvariable Flag)"\n',
        'parameters = { Flag = "#{F}", Mode = "#{M}" }',
    )
    assert cli("run", "-v", "F=true", "-v", "M=a").out.strip() == "True"
    result = cli("run", "-v", "F=yes", "-v", "M=a")
    assert result.code == 2
    assert (
        "parameter 'Flag' is a checkbox; its value must be True or False, not 'yes'" in result.err
    )
    result = cli("run", "-v", "F=false", "-v", "M=c")
    assert "parameter 'Mode' must be one of a, b, not 'c'" in result.err


def test_unsupported_syntax_is_reported_with_file_and_line(cli: Cli, project: Path) -> None:
    simple_project(project, 'name = "t"\n[script]\nsyntax = "ruby"\nbody = "puts 1"\n')
    result = cli("run")
    assert result.code == 2
    last = result.err.splitlines()[-1]
    assert last.startswith(
        "error: template 't' (t): steptemplate.toml:3: unsupported script syntax"
    )


def bash_then_powershell(project: Path) -> None:
    """A bash step that would leave a file `ran`, then a PowerShell step."""
    write_template(
        project / "sh",
        {"steptemplate.toml": 'name = "sh"\n[script]\nsyntax = "bash"\nbody = "touch ran"\n'},
    )
    write_template(
        project / "ps",
        {"steptemplate.toml": 'name = "ps"\n[script]\nsyntax = "powershell"\nbody = "x"\n'},
    )
    manifest(
        project,
        """
        [templates]
        sh = { path = "sh" }
        ps = { path = "ps" }
        [[steps]]
        name = "Bash first"
        template = "sh"
        [[steps]]
        name = "Then PowerShell"
        template = "ps"
        """,
    )


def test_missing_interpreter_fails_before_anything_runs(
    cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bash_then_powershell(project)
    monkeypatch.setenv(
        "PATH",
        os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "pwsh").exists()
        ),
    )
    result = cli("run")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "error: powershell scripts need `pwsh` on PATH; install PowerShell 7"
    )
    assert not (project / "ran").exists()


def test_keep_workdir(cli: Cli, project: Path) -> None:
    simple_project(
        project, 'name = "t"\n[script]\nsyntax = "bash"\nbody = "pwd; echo hi > note.txt"\n'
    )
    result = cli("run")
    workdir = Path(result.out.strip())
    assert not workdir.exists()
    result = cli("run", "--keep-workdir")
    workdir = Path(result.out.strip())
    assert f"working directory kept at {workdir}" in result.err
    assert (workdir / "note.txt").read_text() == "hi\n"
    assert (workdir / "steptemplate.toml").exists()  # the template's files are there
    assert not any("variables" in p.name for p in workdir.iterdir())


def test_script_body_substitution_escapes_and_unresolved_tokens(cli: Cli, project: Path) -> None:
    simple_project(
        project,
        'name = "t"\n[script]\nsyntax = "bash"\n'
        "body = '''echo \"#{Who} ##{Who} #{Nobody}\"'''\n",
    )
    result = cli("run", "-v", "Who=me")
    assert result.out.strip() == "me #{Who} #{Nobody}"


def test_run_script_ad_hoc(cli: Cli, project: Path, tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_text(
        'echo "args: $*"\necho "name: $(get_octopusvariable Name)"\necho "body: #{Name}"\n'
        'echo "cwd: $(pwd)"\nset_octopusvariable Out done\nexit 4\n'
    )
    variables = tmp_path / "v.json"
    variables.write_text(json.dumps([{"k": "Name", "v": "web", "s": False}]))
    result = cli(
        "run-script",
        "--script",
        str(script),
        "--variables",
        str(variables),
        "--script-parameters",
        "--fast 'two words'",
    )
    assert result.code == 4
    assert result.out.splitlines() == [
        "args: --fast two words",
        "name: web",
        "body: #{Name}",
        f"cwd: {project}",
    ]
    result = cli("run-script", "--script", str(script), "-v", "Name=api", "--substitute-variables")
    assert "body: api" in result.out
    assert script.read_text().count("#{Name}") == 1  # the user's file is never rewritten


def test_run_script_python_and_unknown_extension(cli: Cli, project: Path, tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text('print("hi", get_octopusvariable("Who"), sys.argv[1:])\n')
    result = cli(
        "run-script", "--script", str(script), "-v", "Who=py", "--script-parameters", "a b"
    )
    assert result.code == 0
    assert result.out.strip() == "hi py ['a', 'b']"
    other = tmp_path / "hello.rb"
    other.write_text("puts 1\n")
    result = cli("run-script", "--script", str(other))
    assert result.code == 2
    assert "cannot tell the script's language from its extension; pass --syntax" in result.err


def test_ctrl_c_during_run_stops_the_step_and_writes_the_report(project: Path) -> None:
    simple_project(
        project,
        'name = "t"\n[script]\nsyntax = "bash"\nbody = """\n'
        'echo $$ > "$(get_octopusvariable Steps.Project.Directory)/script.pid"\nsleep 60\n"""\n',
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "steptemplates", "run", "--report", "r.json"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pid_file = project / "script.pid"
        deadline = time.monotonic() + 20
        while not pid_file.exists() or not pid_file.read_text().strip():
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "error: step 'Only' interrupted" in err
    assert "Traceback" not in err
    report = json.loads((project / "r.json").read_text())
    assert report["status"] == "interrupted"
    assert report["steps"][0]["status"] == "interrupted"
    assert _gone(int((project / "script.pid").read_text()))


def test_the_state_directory_ignores_itself(cli: Cli, project: Path) -> None:
    simple_project(project, 'name = "t"\n[script]\nsyntax = "bash"\nbody = "true"\n')
    assert cli("run").code == 0
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert ".steps" not in status.stdout
    assert "steps.toml" in status.stdout


def test_a_rejected_value_built_from_a_secret_stays_masked(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    simple_project(
        project,
        'name = "t"\n[[parameters]]\nname = "Region"\ntype = "select"\noptions = ["eu", "us"]\n'
        '[script]\nsyntax = "bash"\nbody = "true"\n',
        'parameters = { Region = "#{Secret}" }',
    )
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps([{"k": "Secret", "v": "TOPSECRET-1", "s": True}]))
    result = cli("run", "--variables", str(variables), "--report", "r.json")
    assert result.code == 2
    assert "parameter 'Region' must be one of eu, us, not '********'" in result.err
    assert "TOPSECRET-1" not in result.text + (project / "r.json").read_text()


def test_the_script_sees_values_evaluated_once(cli: Cli, project: Path) -> None:
    simple_project(
        project,
        'name = "t"\n[[parameters]]\nname = "Literal"\n[[parameters]]\nname = "Flag"\n'
        'type = "checkbox"\n[script]\nsyntax = "bash"\n'
        "body = '''echo \"#{Literal} $(get_octopusvariable Literal) #{Flag}\"'''\n",
        'parameters = { Literal = "##{Greeting}", Flag = "true" }',
    )
    result = cli("run", "-v", "Greeting=hi")
    assert result.code == 0, result.text
    assert result.out.strip() == "#{Greeting} #{Greeting} True"


def test_a_step_that_cannot_be_prepared_fails_and_the_process_goes_on(
    cli: Cli, project: Path
) -> None:
    write_template(
        project / "echo",
        {
            "steptemplate.toml": 'name = "echo"\n[[parameters]]\nname = "Text"\n'
            '[script]\nsyntax = "bash"\nbody = "echo step: #{Text}"\n'
        },
    )
    manifest(
        project,
        """
        [templates]
        echo = { path = "echo" }
        [[steps]]
        name = "Loops"
        template = "echo"
        parameters = { Text = "again #{Text}" }
        [[steps]]
        name = "Cleanup"
        template = "echo"
        condition = "always"
        parameters = { Text = "cleanup" }
        """,
    )
    result = cli("run", "--report", "r.json")
    assert result.code == 2
    assert "error: step 'Loops' failed" in result.err
    assert "variable 'Text': An attempt to parse the variable symbol" in result.err
    assert "self referencing loop (Text -> Text)" in result.err
    assert result.out.strip() == "step: cleanup"
    report = json.loads((project / "r.json").read_text())
    assert [s["status"] for s in report["steps"]] == ["failed", "succeeded"]


def test_unwritable_outputs_are_errors_not_tracebacks(
    cli: Cli, project: Path, tmp_path: Path
) -> None:
    script = tmp_path / "s.sh"
    script.write_text("touch ran\n")
    result = cli("run-script", "--script", str(script), "--report", str(tmp_path))
    assert result.code == 2
    assert (
        result.err.splitlines()[-1]
        == f"error: --report {tmp_path} is a directory; give a file name"
    )
    assert not (project / "ran").exists()
    (tmp_path / "file").touch()
    result = cli("init", str(tmp_path / "file"))
    assert result.code == 2
    assert result.err.startswith(f"error: cannot write {tmp_path / 'file' / 'steps.toml'}: ")
    assert "Traceback" not in result.err


def test_script_parameters_that_do_not_parse(cli: Cli, project: Path, tmp_path: Path) -> None:
    script = tmp_path / "s.sh"
    script.write_text("true\n")
    result = cli("run-script", "--script", str(script), "--script-parameters", 'a "b')
    assert result.code == 2
    assert result.err.strip() == (
        "error: --script-parameters: No closing quotation in 'a \"b'; quote it as a shell would"
    )
