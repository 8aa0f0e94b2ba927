"""`steps import` and `steps export` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.projects import Steps, run_steps

FIXTURES = Path(__file__).parents[1] / "templates" / "fixtures"
SLACK = FIXTURES / "slack-send-notification.json"


def test_import_then_export(steps: Steps) -> None:
    shutil.copy(SLACK, steps.directory / "slack.json")

    imported = steps.ok("import", "slack.json")
    exported = steps.ok("export", "slack-send-notification")

    assert imported.err.splitlines() == [
        "Imported 'Slack - Send Notification' into slack-send-notification "
        "(steptemplate.toml, script.sh)"
    ]
    assert (steps.directory / "slack-send-notification" / "script.sh").is_file()
    assert exported.out == SLACK.read_text(encoding="utf-8")
    assert exported.err == ""


def test_import_to_a_directory_and_its_warnings(steps: Steps) -> None:
    imported = steps.ok("import", str(FIXTURES / "aws-upload-folder.json"), "--to", "tpl/aws")

    assert imported.warnings == [
        "aws-upload-folder.json: ActionType Octopus.AwsRunScript: steps runs the script but "
        "does not set up the AWS credentials and region the step gets in Octopus; the script "
        "must do it (or the variables supply it)"
    ]
    assert (steps.directory / "tpl" / "aws" / "steptemplate.toml").is_file()


def test_import_refuses_a_non_empty_directory_unless_forced(steps: Steps) -> None:
    target = steps.directory / "slack"
    target.mkdir()
    (target / "README.md").write_text("notes\n")

    failed = steps.fails("import", str(SLACK), "--to", "slack")
    forced = steps.ok("import", str(SLACK), "--to", "slack", "--force")

    assert failed.error == (
        "slack is not empty; choose another --to, or pass --force to replace the template's "
        "files there"
    )
    assert "Imported 'Slack - Send Notification' into slack" in forced.err
    assert sorted(p.name for p in target.iterdir()) == [
        "README.md",
        "script.sh",
        "steptemplate.toml",
    ]


def test_export_to_a_file_with_a_version(steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    template = steps.directory / "hello"
    template.mkdir()
    (template / "steptemplate.toml").write_text(
        'name = "Hello"\n[[parameters]]\nname = "Who"\nrequired = true\n'
        '[script]\nsyntax = "bash"\nfile = "run.sh"\n'
    )
    (template / "run.sh").write_text("echo hello\n")

    exported = steps.ok("export", "hello", "-o", "hello.json", "--version", "3")

    data = json.loads((steps.directory / "hello.json").read_text())
    assert exported.out == ""
    assert "Wrote hello.json" in exported.err
    assert exported.warnings[1] == (
        "parameter 'Who' is required here; Octopus has no required parameters, so that is not "
        "carried over"
    )
    assert exported.warnings[0].startswith("'Hello' has no [octopus] id; exported with Id ")
    assert (data["Name"], data["Version"], data["Category"]) == ("Hello", 3, "other")
    assert data["$Meta"] == {"ExportedAt": "2026-01-01T00:00:00.000Z", "Type": "ActionTemplate"}
    assert data["Properties"] == {
        "Octopus.Action.Script.Syntax": "Bash",
        "Octopus.Action.Script.ScriptBody": "echo hello\n",
    }


def test_export_defaults_to_the_current_directory(steps: Steps) -> None:
    shutil.copy(SLACK, steps.directory / "slack.json")

    exported = steps.ok("export")

    assert json.loads(exported.out) == json.loads(SLACK.read_text())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["import", "missing.json"], "missing.json: file not found"),
        (["import", "bad.json"], "bad.json:1:10: invalid JSON: Expecting value"),
        (
            ["import", "list.json"],
            "list.json: a JSON list, not an Octopus step template (an object with ActionType, "
            "Properties and Parameters)",
        ),
        (
            ["export", "empty"],
            "empty: no steptemplate.toml or Octopus step template JSON file found; point the "
            "source at the directory holding the template (use --subdir for git), or name the "
            "file with --template",
        ),
        (["export", "absent"], "absent: template directory does not exist"),
    ],
)
def test_one_line_errors(steps: Steps, args: list[str], expected: str) -> None:
    (steps.directory / "bad.json").write_text('{"Name": }\n')
    (steps.directory / "list.json").write_text("[]\n")
    (steps.directory / "empty").mkdir()

    failed = steps.fails(*args)

    assert failed.error == expected
    assert sorted(p.name for p in steps.directory.iterdir()) == ["bad.json", "empty", "list.json"]


def test_a_bad_version_option(tmp_path: Path) -> None:
    result = run_steps("export", "--version", "one", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.strip().endswith("argument --version: 'one' is not a whole number >= 0")
