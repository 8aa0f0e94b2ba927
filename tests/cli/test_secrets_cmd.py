"""`steps secrets set | list | rm`, in-process and as a real process."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from steptemplates.cli import main
from steptemplates.variables.scoping import Scope
from steptemplates.variables.secrets import Secret, SecretsFile
from tests.support.projects import Outcome, Steps, steps_env

PASSWORD = "correct horse"
VALUE = "p@ss-9d2c71e"
OTHER_VALUE = "other-4b81f0"


class Terminal(io.StringIO):
    """A stdin that claims to be a terminal; what is typed comes from ``Typing``."""

    def isatty(self) -> bool:
        return True


class Piped(io.StringIO):
    def isatty(self) -> bool:
        return False


class Typing:
    """Stands in for getpass: answers the prompts in order and records them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        monkeypatch.setattr("getpass.getpass", self)
        monkeypatch.setattr(sys, "stdin", Terminal())

    def __call__(self, prompt: str = "") -> str:
        self.asked.append(prompt)
        return self.answers.pop(0)


@pytest.fixture
def project(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> Steps:
    """A project with a steps.toml, the password in the environment and nothing on stdin."""
    steps.write("")
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", PASSWORD)
    pipe(monkeypatch, "")
    return steps


def pipe(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", Piped(text))


def secrets_path(steps: Steps) -> Path:
    return steps.directory / "steps.secrets"


def entries(steps: Steps) -> tuple[Secret, ...]:
    return SecretsFile.load(secrets_path(steps), PASSWORD).entries


def assert_no_values(outcome: Outcome, *values: str) -> None:
    for value in values or (VALUE, OTHER_VALUE):
        assert value not in outcome.out + outcome.err


def set_secret(steps: Steps, monkeypatch: pytest.MonkeyPatch, value: str, *args: str) -> Outcome:
    pipe(monkeypatch, value + "\n")
    outcome = steps.ok("secrets", "set", *args)
    assert_no_values(outcome, value)
    return outcome


def fails_unchanged(steps: Steps, *args: str) -> Outcome:
    """A failing command that must leave steps.secrets exactly as it was (or absent)."""
    path = secrets_path(steps)
    before = path.read_bytes() if path.exists() else None
    outcome = steps.fails(*args)
    assert (path.read_bytes() if path.exists() else None) == before
    assert_no_values(outcome)
    return outcome


# --- set -------------------------------------------------------------------------------------


def test_set_from_stdin(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    added = set_secret(project, monkeypatch, VALUE, "DbPassword", "--environment", "Production")

    assert added.err == "Added secret 'DbPassword' (environment=Production) in steps.secrets\n"
    assert added.out == ""
    assert entries(project) == (Secret("DbPassword", VALUE, Scope(environment=("Production",))),)
    assert stat.S_IMODE(secrets_path(project).stat().st_mode) == 0o600
    assert VALUE.encode() not in secrets_path(project).read_bytes()


def test_only_one_trailing_newline_is_dropped(
    project: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secret(project, monkeypatch, "two lines\nof text\n", "Cert")
    set_secret(project, monkeypatch, "windows\r", "Crlf")

    assert [s.value for s in entries(project)] == ["two lines\nof text\n", "windows"]


def test_set_with_every_scope(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(
        project,
        monkeypatch,
        VALUE,
        "Key",
        *("--environment", "Prod", "--environment", "Staging", "--target", "web-1"),
        *("--role", "web", "--tenant", "Acme", "--step", "Deploy"),
    )

    assert entries(project)[0].scope == Scope(
        environment=("Prod", "Staging"),
        target=("web-1",),
        role=("web",),
        tenant=("Acme",),
        step=("Deploy",),
    )


def test_set_replaces_the_same_scope(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(project, monkeypatch, "old", "Db", "--environment", "Prod")
    set_secret(project, monkeypatch, OTHER_VALUE, "Db")

    replaced = set_secret(project, monkeypatch, VALUE, "db", "--environment", "prod")

    assert replaced.err == "Replaced secret 'db' (environment=prod) in steps.secrets\n"
    assert [(s.name, s.value) for s in entries(project)] == [("db", VALUE), ("Db", OTHER_VALUE)]


def test_set_from_an_environment_variable(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", VALUE)
    pipe(monkeypatch, "ignored\n")

    outcome = project.ok("secrets", "set", "Db", "--from-env", "DB_PASSWORD")

    assert_no_values(outcome)
    assert [s.value for s in entries(project)] == [VALUE]


def test_set_from_an_unset_environment_variable(
    project: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_THERE", raising=False)

    failed = fails_unchanged(project, "secrets", "set", "Db", "--from-env", "NOT_THERE")

    assert failed.error.startswith("--from-env NOT_THERE: that environment variable is not set")


def test_set_refuses_an_empty_value(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe(monkeypatch, "\n")

    failed = fails_unchanged(project, "secrets", "set", "Db")

    assert failed.error == "the value for 'Db' is empty; nothing was saved"
    assert not secrets_path(project).exists()


def test_set_at_a_terminal(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    steps.write("")
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)
    typing = Typing(monkeypatch, PASSWORD, PASSWORD, VALUE, VALUE)

    outcome = steps.ok("secrets", "set", "Db")

    assert typing.asked == [
        "Password for steps.secrets: ",
        "Repeat the password for steps.secrets: ",
        "Value for Db: ",
        "Repeat the value for Db: ",
    ]
    assert_no_values(outcome)
    assert [s.value for s in entries(steps)] == [VALUE]

    # The file exists now: the password is asked once, and checked before the value.
    typing = Typing(monkeypatch, PASSWORD, OTHER_VALUE, OTHER_VALUE)
    steps.ok("secrets", "set", "Db")
    assert typing.asked == [
        "Password for steps.secrets: ",
        "Value for Db: ",
        "Repeat the value for Db: ",
    ]
    assert [s.value for s in entries(steps)] == [OTHER_VALUE]


def test_set_at_a_terminal_with_differing_values(
    steps: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps.write("")
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD", raising=False)
    Typing(monkeypatch, PASSWORD, PASSWORD, VALUE, OTHER_VALUE)

    failed = fails_unchanged(steps, "secrets", "set", "Db")

    assert failed.error == "the two values for 'Db' differ; nothing was saved"
    assert not secrets_path(steps).exists()


def test_set_with_the_wrong_password(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(project, monkeypatch, VALUE, "Db")
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", "wrong")
    pipe(monkeypatch, OTHER_VALUE)

    failed = fails_unchanged(project, "secrets", "set", "Db")

    assert failed.error == (
        "wrong password for steps.secrets; the file was not changed; "
        "check STEPS_SECRETS_PASSWORD or the password you typed"
    )


def test_no_password_and_no_terminal(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_SECRETS_PASSWORD")
    pipe(monkeypatch, VALUE)

    failed = fails_unchanged(project, "secrets", "set", "Db")

    assert failed.error == (
        "no password for steps.secrets: stdin is not a terminal to ask for one; "
        "set STEPS_SECRETS_PASSWORD to the password"
    )
    assert not secrets_path(project).exists()


def test_a_damaged_file(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(project, monkeypatch, VALUE, "Db")
    document = json.loads(secrets_path(project).read_text())
    document["ciphertext"] = document["ciphertext"][:-8]
    secrets_path(project).write_text(json.dumps(document))

    for args in (("set", "Db"), ("list",), ("rm", "Db")):
        pipe(monkeypatch, OTHER_VALUE)
        failed = fails_unchanged(project, "secrets", *args)
        assert failed.error.startswith("steps.secrets is damaged (")


# --- list ------------------------------------------------------------------------------------


def test_list_shows_names_and_scopes_but_no_values(
    project: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secret(project, monkeypatch, VALUE, "DbPassword", "--environment", "Prod", "--role", "db")
    set_secret(project, monkeypatch, OTHER_VALUE, "Key")

    listed = project.ok("secrets", "list")

    assert listed.out == "DbPassword  role=db environment=Prod\nKey         unscoped\n"
    assert_no_values(listed)


def test_list_as_json(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(project, monkeypatch, VALUE, "DbPassword", "--environment", "Prod", "--role", "db")
    set_secret(project, monkeypatch, OTHER_VALUE, "Key")

    listed = project.ok("secrets", "list", "--json")

    assert json.loads(listed.out) == [
        {"name": "DbPassword", "scope": {"role": ["db"], "environment": ["Prod"]}},
        {"name": "Key", "scope": {}},
    ]
    assert_no_values(listed)


def test_list_without_a_file(project: Steps) -> None:
    listed = project.ok("secrets", "list")
    as_json = project.ok("secrets", "list", "--json")

    assert (listed.out, listed.err) == ("", "No secrets: steps.secrets does not exist\n")
    assert json.loads(as_json.out) == []


def test_list_with_the_wrong_password(project: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secret(project, monkeypatch, VALUE, "Db")
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", "wrong")

    failed = fails_unchanged(project, "secrets", "list")

    assert failed.error.startswith("wrong password for steps.secrets")


# --- rm --------------------------------------------------------------------------------------


@pytest.fixture
def three(project: Steps, monkeypatch: pytest.MonkeyPatch) -> Steps:
    set_secret(project, monkeypatch, "any", "Db")
    set_secret(project, monkeypatch, "prod", "Db", "--environment", "Prod")
    set_secret(project, monkeypatch, "key", "Key", "--environment", "Prod")
    return project


def test_rm_every_scope(three: Steps) -> None:
    removed = three.ok("secrets", "rm", "db")

    assert removed.err == "Removed 2 secrets 'db' from steps.secrets\n"
    assert [s.name for s in entries(three)] == ["Key"]


def test_rm_one_scope(three: Steps) -> None:
    removed = three.ok("secrets", "rm", "Db", "--environment", "prod")

    assert removed.err == "Removed 1 secret 'Db' from steps.secrets\n"
    assert [(s.name, s.value) for s in entries(three)] == [("Db", "any"), ("Key", "key")]


def test_rm_the_unscoped_value(three: Steps) -> None:
    three.ok("secrets", "rm", "Db", "--unscoped")

    assert [(s.name, s.value) for s in entries(three)] == [("Db", "prod"), ("Key", "key")]


def test_rm_nothing_matches(three: Steps) -> None:
    failed = fails_unchanged(three, "secrets", "rm", "Db", "--environment", "Dev")
    missing = fails_unchanged(three, "secrets", "rm", "Nope")

    assert failed.error == (
        "no secret 'Db' (environment=Dev) in steps.secrets; nothing was removed; "
        "`steps secrets list` shows the names and scopes"
    )
    assert missing.error.startswith("no secret 'Nope' in steps.secrets; nothing was removed")
    assert len(entries(three)) == 3


def test_rm_without_a_file(project: Steps) -> None:
    failed = fails_unchanged(project, "secrets", "rm", "Db")

    assert failed.error.startswith("no secret 'Db' to remove: steps.secrets does not exist")


def test_rm_unscoped_with_a_scope(three: Steps) -> None:
    failed = fails_unchanged(three, "secrets", "rm", "Db", "--unscoped", "--role", "web")

    assert failed.error.startswith("--unscoped cannot be combined with scope options")


# --- which file ------------------------------------------------------------------------------


def test_from_a_subdirectory_the_project_file_is_used(
    project: Steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = project.directory / "deep" / "er"
    sub.mkdir(parents=True)
    pipe(monkeypatch, VALUE)
    monkeypatch.chdir(sub)

    assert main(["secrets", "set", "Db"]) == 0

    assert [s.value for s in entries(project)] == [VALUE]
    assert not (sub / "steps.secrets").exists()


def test_another_file(project: Steps, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    elsewhere = tmp_path / "keep" / "ci.secrets"

    set_secret(project, monkeypatch, VALUE, "--file", str(elsewhere), "Db")
    set_secret(project, monkeypatch, OTHER_VALUE, "Key", "--file", str(elsewhere))
    listed = project.ok("secrets", "--file", str(elsewhere), "list")
    listed_after = project.ok("secrets", "list", "--file", str(elsewhere))

    assert listed.out == listed_after.out == "Db   unscoped\nKey  unscoped\n"
    assert not secrets_path(project).exists()
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600


def test_outside_a_project(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", PASSWORD)
    pipe(monkeypatch, VALUE)

    failed = fails_unchanged(steps, "secrets", "set", "Db")

    assert failed.error.startswith("no steps.toml in ")
    assert failed.error.endswith("run `steps init` to create one, or name a file with --file")


def test_help_says_why_the_value_is_not_an_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["secrets", "set", "--help"])

    out = capsys.readouterr().out
    assert "never taken from an argument" in out
    assert "shell history" in out
    assert "STEPS_SECRETS_PASSWORD" in out


# --- a real process --------------------------------------------------------------------------


def run(
    project: Path, *args: str, stdin: str = "", password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "steptemplates", "secrets", *args],
        cwd=project,
        env={**steps_env(), "STEPS_SECRETS_PASSWORD": password},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_as_a_process(tmp_path: Path) -> None:
    (tmp_path / "steps.toml").write_text("")

    added = run(tmp_path, "set", "Db", "--environment", "Prod", stdin=VALUE + "\n")
    listed = run(tmp_path, "list")
    wrong = run(tmp_path, "list", password="nope")

    assert (added.returncode, added.stdout) == (0, "")
    assert added.stderr == "Added secret 'Db' (environment=Prod) in steps.secrets\n"
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "Db  environment=Prod\n", "")
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "error: wrong password for steps.secrets; the file was not changed; "
        "check STEPS_SECRETS_PASSWORD or the password you typed\n"
    )
    for done in (added, listed, wrong):
        assert VALUE not in done.stdout + done.stderr
    assert SecretsFile.load(tmp_path / "steps.secrets", PASSWORD).entries == (
        Secret("Db", VALUE, Scope(environment=("Prod",))),
    )
