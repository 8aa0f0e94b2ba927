"""A template named by its file inside a source (`template = "step-templates/x.json"`)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable

from steptemplates import integrity
from steptemplates.cache import Cache
from tests.support.gitserver import ServedRepo, SmartHttpServer
from tests.support.projects import Steps

SLACK = "step-templates/slack-notify.json"


def action_template(name: str, version: int, body: str) -> str:
    """An Octopus ActionTemplate export as the community library holds them."""
    return json.dumps(
        {
            "Id": "5d7f3a51-7b0e-4c47-9d59-0f3b6a2f1c11",
            "Name": name,
            "Description": f"{name}, version {version}",
            "ActionType": "Octopus.Script",
            "Version": version,
            "Properties": {
                "Octopus.Action.Script.ScriptSource": "Inline",
                "Octopus.Action.Script.Syntax": "Bash",
                "Octopus.Action.Script.ScriptBody": body,
            },
            "Parameters": [
                {
                    "Id": "0b7c6a52-3f5d-4f7e-8c1b-2a3d4e5f6a7b",
                    "Name": "Slack.Channel",
                    "Label": "Channel",
                    "HelpText": "",
                    "DefaultValue": "#deploys",
                    "DisplaySettings": {"Octopus.ControlType": "SingleLineText"},
                }
            ],
            "LastModifiedBy": "someone",
            "$Meta": {"ExportedAt": "2026-01-01T00:00:00.000Z", "Type": "ActionTemplate"},
        },
        indent=2,
    )


def library(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    """A repository laid out like Octopus's library: many JSON files, no version tags."""
    repo = remote_repo("library")
    repo.write(SLACK, action_template("Slack - Notify", 12, "echo slack 12\n"))
    repo.write("step-templates/teams-notify.json", action_template("Teams", 3, "echo teams\n"))
    repo.write("step-templates/logos/slack.png", b"\x89PNG")
    repo.commit("library")
    return repo


def test_a_file_in_a_repository_without_tags(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], git_http: SmartHttpServer
) -> None:
    repo = library(remote_repo)
    steps.ok("init")

    added = steps.ok("add", repo.http_url, "--template", SLACK)

    assert added.warnings == []  # no "has no version tags": the file's Version is its version
    assert (
        f'[templates.slack-notify]\ngit = "{repo.http_url}"\nbranch = "main"\n'
        f'template = "{SLACK}"\n'
    ) in steps.manifest.read_text()
    entry = steps.lock()["slack-notify"]
    assert entry["commit"] == repo.rev_parse("HEAD")
    assert (entry["template"], entry["template-version"]) == (SLACK, "12")
    assert added.err.strip().endswith(f"locked 12 (commit {entry['commit'][:12]})")
    # The entry holds that one file, at its path inside the repository.
    cached = Cache().entry_path(entry["integrity"])
    assert sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*") if p.is_file()) == [
        SLACK
    ]
    assert integrity.tree_integrity(cached) == entry["integrity"]

    locked = steps.lock_path.read_bytes()
    before = git_http.requests
    steps.ok("lock")
    assert steps.lock_path.read_bytes() == locked
    assert git_http.requests == before  # kept: no network

    listed = steps.ok("list")
    assert f"slack-notify  {repo.http_url} [{SLACK}]  branch=main  12 (commit " in listed.out
    shown = steps.ok("show", "slack-notify")
    assert f"  locked:   slack-notify 12 (commit {entry['commit'][:12]}) at" in shown.out


def test_upgrade_follows_the_file_upstream(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = library(remote_repo)
    steps.ok("init")
    steps.ok("add", repo.file_url, "--template", SLACK)
    first = steps.lock()["slack-notify"]
    repo.write(SLACK, action_template("Slack - Notify", 13, "echo slack 13\n"))
    second = repo.commit("slack 13")

    kept = steps.ok("lock")
    upgraded = steps.ok("lock", "--upgrade")

    assert "updated" not in kept.err
    entry = steps.lock()["slack-notify"]
    assert (entry["commit"], entry["template-version"]) == (second, "13")
    assert entry["integrity"] != first["integrity"]
    assert (
        f"updated slack-notify 12 (commit {first['commit'][:12]}) -> 13 (commit {second[:12]})"
    ) in upgraded.err


def test_changing_the_file_relocks(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    repo = library(remote_repo)
    steps.write(
        f'[templates.note]\ngit = "{repo.file_url}"\nbranch = "main"\ntemplate = "{SLACK}"\n'
    )
    steps.ok("lock")

    steps.write(
        f'[templates.note]\ngit = "{repo.file_url}"\nbranch = "main"\n'
        'template = "step-templates/teams-notify.json"\n'
    )
    changed = steps.ok("lock")

    entry = steps.lock()["note"]
    assert (entry["template"], entry["template-version"]) == (
        "step-templates/teams-notify.json",
        "3",
    )
    commit = entry["commit"][:12]
    assert f"updated note 12 (commit {commit}) -> 3 (commit {commit})" in changed.err


def test_a_missing_file(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    repo = library(remote_repo)
    steps.ok("init")

    failed = steps.fails("add", repo.file_url, "--template", "step-templates/nope.json")

    assert failed.error == (
        f"template 'nope': there is no file 'step-templates/nope.json' in {repo.file_url} at "
        f"{repo.rev_parse('HEAD')[:12]}; check 'template' in steps.toml (a path inside the "
        "source, after 'subdir')"
    )


def test_a_directory_is_not_a_template_file(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = library(remote_repo)
    steps.write(
        f'[templates.x]\ngit = "{repo.file_url}"\nbranch = "main"\ntemplate = "step-templates"\n'
    )

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'x' ({repo.file_url} at {repo.rev_parse('HEAD')[:12]}): there is no file "
        "'step-templates'; check 'template' in steps.toml (a path inside the source, after "
        "'subdir')"
    )


def test_several_json_files_without_a_template(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = library(remote_repo)
    steps.write(
        f'[templates.x]\ngit = "{repo.file_url}"\nbranch = "main"\nsubdir = "step-templates"\n'
    )

    failed = steps.fails("lock")

    assert "holds several Octopus JSON files (slack-notify.json, teams-notify.json); " in (
        failed.error
    )
    assert failed.error.endswith(
        "name the one to use with --template FILE (or 'template' in steps.toml)"
    )


def test_a_native_template_file_keeps_its_folder(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = remote_repo("native")
    repo.write(
        "deploy/steptemplate.toml",
        'name = "deploy"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n',
    )
    repo.write("deploy/run.sh", "echo deploying\n", mode=0o755)
    repo.write("other/steptemplate.toml", 'name = "other"\n[script]\nsyntax = "bash"\nbody = ""\n')
    repo.commit("templates")
    repo.tag("v1.0.0")
    steps.ok("init")

    steps.ok("add", repo.file_url, "--template", "deploy/steptemplate.toml")

    entry = steps.lock()["deploy"]
    cached = Cache().entry_path(entry["integrity"])
    assert sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*") if p.is_file()) == [
        "deploy/run.sh",
        "deploy/steptemplate.toml",
    ]
    assert "template-version" not in entry
    steps.write(steps.manifest.read_text() + '\n[[steps]]\nname = "Deploy"\ntemplate = "deploy"\n')
    ran = steps.ok("run")
    assert "deploying" in ran.out


def test_a_local_json_file(steps: Steps) -> None:
    folder = steps.directory / "deploy" / "templates"
    folder.mkdir(parents=True)
    (folder / "notify.json").write_text(action_template("Notify", 7, "echo notified\n"))
    (folder / "other.json").write_text(action_template("Other", 1, "echo other\n"))
    steps.ok("init")

    added = steps.ok("add", "deploy/templates/notify.json")

    manifest = tomllib.loads(steps.manifest.read_text())
    assert manifest["templates"]["notify"] == {
        "path": "deploy/templates",
        "template": "notify.json",
    }
    assert steps.lock()["notify"] == {
        "name": "notify",
        "source": "path",
        "path": "deploy/templates",
        "template": "notify.json",
        "requested": "path",
        "template-version": "7",
    }
    assert "locked 7 (deploy/templates)" in added.err
    steps.write(steps.manifest.read_text() + '\n[[steps]]\nname = "Tell"\ntemplate = "notify"\n')
    assert "notified" in steps.ok("run").out


def test_a_local_file_with_template_is_refused(steps: Steps) -> None:
    (steps.directory / "notify.json").write_text(action_template("Notify", 7, "echo hi\n"))
    steps.ok("init")

    failed = steps.fails("add", "notify.json", "--template", "x.json")

    assert failed.error == (
        "notify.json is a file: --template and --subdir name a file or directory inside a "
        "source; add . with --template notify.json, or the file alone"
    )


def test_load_warnings_are_told_once_by_each_command_that_loads(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = remote_repo("custom")
    data = json.loads(action_template("Custom", 2, "echo custom\n"))
    data["ActionType"] = "Octopus.Custom"
    repo.write("custom.json", json.dumps(data))
    repo.commit("custom")
    steps.ok("init")

    added = steps.ok("add", repo.file_url, "--template", "custom.json")
    relocked = steps.ok("lock")
    shown = steps.ok("show", "custom")
    steps.write(steps.manifest.read_text() + '\n[[steps]]\nname = "Go"\ntemplate = "custom"\n')
    ran = steps.ok("run")

    told = "template 'custom': custom.json: ActionType Octopus.Custom: steps runs only the step's script"
    assert added.warnings == [told]
    assert relocked.warnings == []  # told when first locked
    assert shown.warnings == [told]
    assert ran.warnings == [told]
