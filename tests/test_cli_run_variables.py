"""`steps run` end to end with scoped variables, secrets, masking and --strict-variables."""

from __future__ import annotations

import io
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from steptemplates.cli import main
from steptemplates.variables.calamari_crypto import encrypt_variables

PASSWORD = "correct horse battery staple"
DB_PASSWORD = "pw-71c9e2d4"
PROD_DB_PASSWORD = "pw-prod-5be01a"
SESSION = "sess-9d2f77aa"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    def run(*args: str, stdin: str | None = None) -> Result:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


SHOW = """\
name = "show"

[[parameters]]
name = "Label"
default = "#{Octopus.Step.Name}"

[script]
syntax = "bash"
file = "show.sh"
"""

SHOW_SH = """\
echo "#{Label}: log=#{LogLevel} url=$(get_octopusvariable Url) env=#{Octopus.Environment.Name} machine=#{Octopus.Machine.Name} release=#{Octopus.Release.Number}"
"""

MANIFEST = """\
[project]
name = "shop"
environments = ["Development", "Production"]

[targets.web-01]
roles = ["web"]

[targets.db-01]
roles = ["db"]

[templates]
show = { path = "show" }

[variables]
LogLevel = [
  { value = "Info" },
  { value = "Warn", environment = "Production" },
  { value = "Debug", role = "web" },
  { value = "Trace", step = "Second" },
]
Url = [
  { value = "http://dev", environment = "Development" },
  { value = "http://prod", environment = "Production" },
]

[[steps]]
name = "First"
template = "show"

[[steps]]
name = "Second"
template = "show"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "shop"
    (directory / "show").mkdir(parents=True)
    (directory / "show" / "steptemplate.toml").write_text(SHOW)
    (directory / "show" / "show.sh").write_text(SHOW_SH)
    (directory / "steps.toml").write_text(MANIFEST)
    monkeypatch.chdir(directory)
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", PASSWORD)
    return directory


def lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line]


def test_the_environment_picks_scoped_values_and_a_step_scope_beats_it(cli, project) -> None:
    result = cli("run", "--environment", "production", "--release-number", "2.4.1")
    assert result.code == 0, result.err
    first, second = lines(result.out)
    # The environment is spelt as declared, whatever the case it was given in.
    assert first.startswith("First: log=Warn url=http://prod env=Production machine=")
    assert first.endswith(" release=2.4.1")
    assert second.startswith("Second: log=Trace url=http://prod env=Production")


def test_a_target_brings_its_roles_and_a_role_beats_the_environment(cli, project) -> None:
    result = cli("run", "--environment", "Production", "--target", "web-01", "First")
    assert result.code == 0, result.err
    assert lines(result.out)[0].startswith(
        "First: log=Debug url=http://prod env=Production machine=web-01 release="
    )


def test_without_a_scope_only_unscoped_values_apply(cli, project) -> None:
    result = cli("run", "First")
    assert result.code == 0, result.err
    assert lines(result.out)[0].startswith("First: log=Info url= env= ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--environment", "Prodution"], "did you mean 'Production'"),
        (["--target", "web-02"], "web-02"),
        (["--role", "cache"], "cache"),
    ],
)
def test_a_scope_name_that_does_not_exist_fails_before_any_step(
    cli, project, args: list[str], message: str
) -> None:
    result = cli("run", *args)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert result.out == ""


def test_a_variables_file_with_scoped_values(cli, project) -> None:
    (project / "prod.yaml").write_text(
        "Url:\n  - value: http://file-prod\n    environment: Production\n"
        "  - value: http://file-any\n"
    )
    result = cli("run", "--environment", "Production", "--variables", "prod.yaml", "First")
    assert result.code == 0, result.err
    assert "url=http://file-prod" in result.out
    # steps.toml's Development value is more specific than the file's unscoped one.
    result = cli("run", "--environment", "Development", "--variables", "prod.yaml", "First")
    assert "url=http://dev" in result.out
    result = cli("run", "--variables", "prod.yaml", "First")
    assert "url=http://file-any" in result.out


SECRET_SH = """\
pw=$(get_octopusvariable DbPassword)
echo "password is $pw and #{DbPassword}"
echo "$pw" > "pw-$pw.txt"
new_octopusartifact "pw-$pw.txt" "copy-$pw.txt"
set_octopusvariable Session "SESSION" -sensitive
echo "session $(printf %s SESSION)"
""".replace("SESSION", SESSION)

SECRET_CONSUMER_SH = """\
echo "got #{Octopus.Action[Use secret].Output.Session}"
fail_step "giving up with #{DbPassword}"
"""


def _secret_project(project: Path, cli) -> None:
    (project / "secret").mkdir()
    (project / "secret" / "steptemplate.toml").write_text(
        'name = "secret"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n'
    )
    (project / "secret" / "run.sh").write_text(SECRET_SH)
    (project / "consumer").mkdir()
    (project / "consumer" / "steptemplate.toml").write_text(
        'name = "consumer"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n'
    )
    (project / "consumer" / "run.sh").write_text(SECRET_CONSUMER_SH)
    (project / "steps.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            environments = ["Development", "Production"]
            [templates]
            secret = { path = "secret" }
            consumer = { path = "consumer" }
            [[steps]]
            name = "Use secret"
            template = "secret"
            [[steps]]
            name = "Consume"
            template = "consumer"
            """
        )
    )
    assert cli("secrets", "set", "DbPassword", stdin=DB_PASSWORD + "\n").code == 0
    result = cli(
        "secrets", "set", "DbPassword", "--environment", "Production", stdin=PROD_DB_PASSWORD
    )
    assert result.code == 0, result.err


def test_secrets_are_decrypted_scoped_and_masked_everywhere(cli, project) -> None:
    _secret_project(project, cli)
    assert DB_PASSWORD not in (project / "steps.secrets").read_text()
    result = cli("run", "--environment", "Production", "--report", "r.json", "--json")
    assert result.code == 1  # the second step fails on purpose
    everything = result.out + result.err + (project / "r.json").read_text()
    for secret in (DB_PASSWORD, PROD_DB_PASSWORD, SESSION):
        assert secret not in everything
    assert "password is ******** and ********" in result.out
    assert "session ********" in result.out
    assert "got ********" in result.out
    report = json.loads((project / "r.json").read_text())
    printed = json.loads(result.out[result.out.index("{") :])
    assert printed["run_id"] == report["run_id"]
    first, second = report["steps"]
    assert first["output_variables"] == {"Session": "********"}
    assert [a["name"] for a in first["artifacts"]] == ["copy-********.txt"]
    assert second["message"] == "giving up with ********"


def test_the_unscoped_secret_applies_elsewhere(cli, project) -> None:
    _secret_project(project, cli)
    result = cli("run", "--environment", "Development", "--report", "r.json")
    assert "password is ******** and ********" in result.out
    artifacts = sorted((project / ".steps" / "artifacts").rglob("copy-*"))
    assert artifacts and artifacts[0].read_text().strip() == DB_PASSWORD


def test_a_wrong_secrets_password_stops_the_run_before_any_step(
    cli, project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _secret_project(project, cli)
    before = (project / "steps.secrets").read_bytes()
    monkeypatch.setenv("STEPS_SECRETS_PASSWORD", "not it")
    result = cli("run")
    assert result.code == 2
    assert "wrong password" in result.err
    assert "==>" not in result.err
    assert (project / "steps.secrets").read_bytes() == before


def test_strict_variables_fails_the_step_and_lists_what_is_missing(cli, project) -> None:
    (project / "show" / "show.sh").write_text('echo "#{Undefined} and\n  #{Url | NoSuchFilter}"\n')
    relaxed = cli("run", "First")
    assert relaxed.code == 0
    assert "#{Undefined} and" in relaxed.out
    strict = cli("run", "--strict-variables", "--environment", "Production", "First")
    assert strict.code == 2
    script = project / "show" / "show.sh"
    assert f"#{{Undefined}} at {script}:1:7" in strict.err
    assert f"#{{Url | NoSuchFilter}} at {script}:2:3 (there is no filter named" in strict.err
    assert "s: 2 unresolved variable references: #{Undefined}" in strict.err
    assert strict.out == ""


def test_a_syntax_error_in_the_script_names_file_line_and_column(cli, project) -> None:
    (project / "show" / "show.sh").write_text('echo ok\n#{if Url}\necho "#{Url}"\n')
    result = cli("run", "First")
    assert result.code == 2
    assert f"{project / 'show' / 'show.sh'}:2:1: #{{if}} is never closed with #{{/if}}" in result.err


def test_run_script_reads_calamari_sensitive_variables(cli, project) -> None:
    secret_file = project / "sensitive.bin"
    secret_file.write_bytes(encrypt_variables(json.dumps({"ApiKey": "key-0c8e5f"}), "s3cret"))
    (project / "use.sh").write_text('echo "key=$(get_octopusvariable ApiKey)"\n')
    result = cli(
        "run-script", "--script", "use.sh", "--sensitive-variables", "sensitive.bin",
        "--sensitive-variables-password", "s3cret", "--report", "r.json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "key=********" in result.out
    assert "key-0c8e5f" not in result.out + result.err + (project / "r.json").read_text()
    wrong = cli(
        "run-script", "--script", "use.sh", "--sensitive-variables", "sensitive.bin",
        "--sensitive-variables-password", "nope",
    )  # fmt: skip
    assert wrong.code == 2
    assert "Check your password is correct" in wrong.err
    assert "nope" not in wrong.err


def test_scripts_read_collections_and_environment_variables(
    cli, project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_REGION", "eu-west-1")
    (project / "steps.toml").write_text(
        MANIFEST.replace(
            "[[steps]]",
            '"Site[App1].Url" = "https://a"\n"Site[App 2].Url" = "https://b"\n\n[[steps]]',
            1,
        )
    )
    (project / "show" / "show.sh").write_text(
        'while IFS= read -r key; do echo "$key -> $(get_octopusvariable "Site[$key].Url")"; '
        "done < <(get_octopusvariable_indexes Site)\n"
        'echo "#{each s in Site}#{s}=#{s.Url};#{/each} #{env:SHOP_REGION}"\n'
    )
    result = cli("run", "First")
    assert result.code == 0, result.err
    assert lines(result.out) == [
        "App1 -> https://a",
        "App 2 -> https://b",
        "App1=https://a;App 2=https://b; eu-west-1",
    ]


def test_a_more_specific_steps_toml_value_beats_an_unscoped_file_value(cli, project) -> None:
    # Specificity decides across steps.toml and files; a file wins only at equal or
    # greater specificity (Octopus keeps all of a project's values in one pool).
    (project / "any.json").write_text('{"Url": "http://file-any", "LogLevel": "File"}')
    result = cli("run", "--environment", "Production", "--variables", "any.json", "First")
    assert result.code == 0, result.err
    assert "log=Warn url=http://prod" in result.out
    result = cli("run", "--variables", "any.json", "First")
    assert "log=File url=http://file-any" in result.out
