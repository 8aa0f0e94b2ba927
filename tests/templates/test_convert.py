"""Converting between Octopus JSON and steptemplate.toml: round trips, export rules, import."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steptemplates.errors import StepsError
from steptemplates.templates import Template, convert, load_template, octopus
from steptemplates.templates.model import CONTROL_TYPE_OF, ParameterType

FIXTURES = Path(__file__).parent / "fixtures"
LIBRARY_STYLE = (
    "slack-send-notification.json",
    "json-validate.json",
    "aws-upload-folder.json",
    "deploy-from-package.json",
)

NATIVE = """\
name = "Deploy Site"
description = '''
Copies the site to its servers.

Uses `rsync`; see the "README".
'''
category = "web"

[[parameters]]
name = "Site.Url"
label = "Site URL"
help = "Where the site lives."
default = "https://#{Octopus.Environment.Name}.example.com"
id = "0f0e0d0c-0b0a-4909-8807-060504030201"

[[parameters]]
name = "Site.Notes"
type = "multiline"
default = '''
line one
line two
'''

[[parameters]]
name = "Site.Verify"
label = "Verify TLS?"
type = "checkbox"
default = "false"

[[parameters]]
name = "Site.Mode"
type = "select"
default = "fast"
options = [
  "fast",
  { value = "safe", label = "Safe (slower)" },
]

[[parameters]]
name = "Site.Password"
type = "sensitive"
extra = '{"Links": {}}'

[[parameters]]
name = "Site.Package"
type = "package"

[[parameters]]
name = "Site.Account"
type = "aws-account"

[[parameters]]
name = "Site.Retries"
default = 3

[script]
syntax = "bash"
file = "script.sh"
parameters = "--site \\"#{Site.Url}\\""

[octopus]
id = "6b3c2d1e-0f9a-4b8c-9d7e-6f5a4b3c2d1e"
version = 7
extra = '''
{
  "$Meta": {
    "ExportedAt": "2026-01-05T12:00:00.000Z",
    "Type": "ActionTemplate"
  },
  "LastModifiedBy": "web-team"
}
'''

[octopus.properties]
"Octopus.Action.RunOnServer" = "true"
"""
SCRIPT_BYTES = '#!/usr/bin/env bash\r\nrsync -a ./site/ "$1"  # caf\u00e9\r\n'.encode()


def write_native(root: Path, text: str = NATIVE, script: bytes = SCRIPT_BYTES) -> Path:
    root.mkdir(parents=True)
    (root / "steptemplate.toml").write_text(text, encoding="utf-8")
    (root / "script.sh").write_bytes(script)
    return root


def small_template(root: Path, extra_toml: str = "") -> Template:
    write_native(
        root,
        'name = "Small"\n[script]\nsyntax = "python"\nbody = "print(1)"\n' + extra_toml,
    )
    return load_template(root)


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LIBRARY_STYLE)
def test_octopus_json_survives_import_then_export(tmp_path: Path, name: str) -> None:
    source = FIXTURES / name

    imported = convert.import_json(source, tmp_path / "imported")
    exported = convert.export_dir(tmp_path / "imported")

    assert json.loads(exported.text) == json.loads(source.read_text(encoding="utf-8"))
    assert convert.to_octopus(load_template(tmp_path / "imported")) == json.loads(
        source.read_text(encoding="utf-8")
    )
    assert imported.path == tmp_path / "imported"


def test_an_imported_script_is_a_file_with_the_exact_bytes(tmp_path: Path) -> None:
    source = FIXTURES / "slack-send-notification.json"
    body = json.loads(source.read_text())["Properties"]["Octopus.Action.Script.ScriptBody"]

    imported = convert.import_json(source, tmp_path / "slack")

    assert imported.files == ("steptemplate.toml", "script.sh")
    assert (tmp_path / "slack" / "script.sh").read_bytes() == body.encode()
    assert b"\r\n" in (tmp_path / "slack" / "script.sh").read_bytes()
    assert 'file = "script.sh"' in (tmp_path / "slack" / "steptemplate.toml").read_text()


def test_a_package_script_is_imported_under_its_own_name(tmp_path: Path) -> None:
    imported = convert.import_json(FIXTURES / "deploy-from-package.json", tmp_path / "deploy")

    assert imported.files == ("steptemplate.toml", "scripts/deploy.sh")
    assert (tmp_path / "deploy" / "scripts" / "deploy.sh").read_bytes() == (
        FIXTURES / "scripts" / "deploy.sh"
    ).read_bytes()


def test_the_export_of_a_library_file_is_the_same_text(tmp_path: Path) -> None:
    source = FIXTURES / "slack-send-notification.json"
    convert.import_json(source, tmp_path / "slack")

    assert convert.export_dir(tmp_path / "slack").text == source.read_text(encoding="utf-8")


def test_a_native_template_survives_export_then_import(tmp_path: Path) -> None:
    original = write_native(tmp_path / "site")
    exported = convert.export_dir(original)
    json_path = tmp_path / "site.json"
    json_path.write_text(exported.text, encoding="utf-8")

    convert.import_json(json_path, tmp_path / "again")

    again = tmp_path / "again"
    assert tomllib.loads((again / "steptemplate.toml").read_text()) == tomllib.loads(NATIVE)
    assert (again / "script.sh").read_bytes() == SCRIPT_BYTES
    assert exported.warnings == ()
    before, after = load_template(original), load_template(again)
    assert dataclasses.replace(after, root=before.root) == before


def test_import_writes_what_the_native_reader_reads_back(tmp_path: Path) -> None:
    # The canonical layout: writing the loaded template again gives the same text.
    root = write_native(tmp_path / "site")

    files = convert.to_native(load_template(root))

    assert files.toml == NATIVE
    assert files.files == {"script.sh": SCRIPT_BYTES}


def test_an_inline_native_body_becomes_a_script_file(tmp_path: Path) -> None:
    template = small_template(tmp_path / "t")

    files = convert.to_native(template)

    assert files.files == {"script.py": b"print(1)"}
    assert files.toml == (
        'name = "Small"\ncategory = "other"\n\n[script]\nsyntax = "python"\nfile = "script.py"\n'
    )


@given(st.text())
def test_toml_strings_read_back_exactly(value: str) -> None:
    assert tomllib.loads(f"v = {convert.toml_string(value)}")["v"] == value


@pytest.mark.parametrize(
    "value",
    [
        "a\r\nb",
        "ends with a quote'",
        "has ''' inside\n",
        'has """ and \\ inside\n',
        "tab\there\nand a bell \x07\n",
        "\n",
        "\r",
    ],
)
def test_tricky_multiline_texts(value: str) -> None:
    written = convert.toml_string(value)

    assert tomllib.loads(f"v = {written}")["v"] == value


def test_plain_multiline_text_is_a_literal_block() -> None:
    assert convert.toml_string("one\ntwo 'quoted' \\n\n") == "'''\none\ntwo 'quoted' \\n\n'''"


# --- export rules --------------------------------------------------------------------------------


def test_without_an_id_the_export_derives_one_from_the_name(tmp_path: Path) -> None:
    template = small_template(tmp_path / "t")

    exported = convert.export_template(template)
    data = json.loads(exported.text)

    expected = str(uuid.uuid5(uuid.UUID("5b0e7c2a-8d4f-4b61-9a3e-2f6c1d8e7a90"), "Small"))
    assert data["Id"] == expected == convert.derived_id("Small")
    assert convert.derived_id("Small") != convert.derived_id("Small 2")
    assert exported.warnings[0] == (
        f"'Small' has no [octopus] id; exported with Id {expected}, made from its name: add "
        f'id = "{expected}" under [octopus] so that the Id survives a rename'
    )


def test_version_comes_from_the_option_then_the_table_then_1(tmp_path: Path) -> None:
    bare = small_template(tmp_path / "bare")
    pinned = small_template(tmp_path / "pinned", "[octopus]\nversion = 4\n")

    assert json.loads(convert.export_template(bare).text)["Version"] == 1
    assert json.loads(convert.export_template(pinned).text)["Version"] == 4
    overridden = convert.export_template(pinned, version=9)
    assert json.loads(overridden.text)["Version"] == 9
    assert convert.export_template(bare).warnings[1] == (
        "'Small' has no [octopus] version; exported as Version 1: set it under [octopus] (or "
        "pass --version) and raise it with every change, since Octopus offers an update only "
        "for a higher Version"
    )
    assert not any("version" in w for w in convert.export_template(bare, version=2).warnings)


def test_a_negative_version_is_refused(tmp_path: Path) -> None:
    root = write_native(tmp_path / "site")

    with pytest.raises(StepsError, match=r"--version -1: Octopus's Version is a whole number"):
        convert.export_dir(root, version=-1)


def test_meta_is_kept_else_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = load_template(write_native(tmp_path / "site"))
    made = small_template(tmp_path / "small")
    at = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

    assert convert.to_octopus(kept, exported_at=at)["$Meta"] == {
        "ExportedAt": "2026-01-05T12:00:00.000Z",
        "Type": "ActionTemplate",
    }
    assert convert.to_octopus(made, exported_at=at)["$Meta"] == {
        "ExportedAt": "2026-03-04T05:06:07.890Z",
        "Type": "ActionTemplate",
    }
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert convert.to_octopus(made)["$Meta"]["ExportedAt"] == "2023-11-14T22:13:20.000Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(StepsError, match="SOURCE_DATE_EPOCH is 'yesterday'; it must be a whole"):
        convert.to_octopus(made)


def test_without_source_date_epoch_the_export_time_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = datetime.now(UTC).replace(microsecond=0)

    stamp = convert.to_octopus(small_template(tmp_path / "t"))["$Meta"]["ExportedAt"]

    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert before <= moment <= datetime.now(UTC)


def test_keys_are_in_octopus_order(tmp_path: Path) -> None:
    data = convert.to_octopus(octopus.load(FIXTURES / "json-validate.json", FIXTURES))

    assert list(data) == [
        "Id", "Name", "Description", "ActionType", "Version", "Properties", "Parameters",
        "$Meta", "LastModifiedBy", "Category", "SensitiveProperties", "LastModifiedOn",
    ]  # fmt: skip


def test_parameters_export_with_their_control_types(tmp_path: Path) -> None:
    lines = "".join(
        f'[[parameters]]\nname = "P{i}"\ntype = "{kind.value}"\n'
        + (
            'options = ["a", { value = "b", label = "B" }]\n'
            if kind is ParameterType.SELECT
            else ""
        )
        for i, kind in enumerate(ParameterType)
    )
    template = small_template(tmp_path / "t", lines)

    parameters = convert.to_octopus(template)["Parameters"]

    assert [p["DisplaySettings"]["Octopus.ControlType"] for p in parameters] == [
        CONTROL_TYPE_OF[kind] for kind in ParameterType
    ]
    select = next(p for p in parameters if p["DisplaySettings"]["Octopus.ControlType"] == "Select")
    assert select["DisplaySettings"]["Octopus.SelectOptions"] == "a\nb|B"
    assert parameters[0] == {
        "Name": "P0",
        "Label": "P0",
        "HelpText": "",
        "DefaultValue": None,
        "DisplaySettings": {"Octopus.ControlType": "SingleLineText"},
    }


def test_the_script_properties(tmp_path: Path) -> None:
    template = load_template(write_native(tmp_path / "site"))
    package = octopus.load(FIXTURES / "deploy-from-package.json", FIXTURES)

    assert convert.to_octopus(template)["Properties"] == {
        "Octopus.Action.Script.Syntax": "Bash",
        "Octopus.Action.Script.ScriptBody": SCRIPT_BYTES.decode(),
        "Octopus.Action.Script.ScriptParameters": '--site "#{Site.Url}"',
        "Octopus.Action.RunOnServer": "true",
    }
    assert list(convert.to_octopus(package)["Properties"].items())[:4] == [
        ("Octopus.Action.Script.ScriptSource", "Package"),
        ("Octopus.Action.Script.Syntax", "Bash"),
        ("Octopus.Action.Script.ScriptFileName", "scripts/deploy.sh"),
        (
            "Octopus.Action.Script.ScriptParameters",
            '--environment "#{Octopus.Environment.Name}" --verbose',
        ),
    ]


def test_number_defaults_export_as_numbers(tmp_path: Path) -> None:
    template = small_template(
        tmp_path / "t",
        '[[parameters]]\nname = "A"\ndefault = 3\n[[parameters]]\nname = "B"\ndefault = 2.5\n'
        '[[parameters]]\nname = "C"\ndefault = "3"\n',
    )

    defaults = [p["DefaultValue"] for p in convert.to_octopus(template)["Parameters"]]

    assert defaults == [3, 2.5, "3"]
    assert isinstance(defaults[0], int)


def test_required_parameters_and_modules_are_warned_about(tmp_path: Path) -> None:
    template = small_template(
        tmp_path / "t",
        '[[parameters]]\nname = "Url"\nrequired = true\n[modules]\nHelpers = "^1"\n'
        '[octopus]\nid = "x-1"\nversion = 1\n',
    )

    exported = convert.export_template(template)

    assert exported.warnings == (
        "parameter 'Url' is required here; Octopus has no required parameters, so that is "
        "not carried over",
        "'Small' needs script modules (Helpers); Octopus has no per-template modules: include "
        "them in the Octopus project",
    )
    assert json.loads(exported.text)["Parameters"][0]["HelpText"] == ""


def test_kept_spellings_apply_only_while_they_say_the_same(tmp_path: Path) -> None:
    source = FIXTURES / "json-validate.json"
    template = octopus.load(source, FIXTURES)
    mode = template.parameters[1]
    changed = dataclasses.replace(mode, options=mode.options[:1])
    retyped = dataclasses.replace(mode, type=ParameterType.TEXT, options=())

    def settings(parameter: Any) -> dict[str, Any]:
        data = convert.to_octopus(dataclasses.replace(template, parameters=(parameter,)))
        return dict(data["Parameters"][0]["DisplaySettings"])

    assert settings(mode)["Octopus.SelectOptions"] == "strict\r\nlenient\r\n"
    assert settings(changed)["Octopus.SelectOptions"] == "strict"
    assert settings(retyped)["Octopus.ControlType"] == "SingleLineText"


def test_a_kept_null_description_applies_only_while_it_is_empty(tmp_path: Path) -> None:
    template = octopus.load(FIXTURES / "json-validate.json", FIXTURES)

    described = dataclasses.replace(template, description="Now described")

    assert convert.to_octopus(template)["Description"] is None
    assert convert.to_octopus(described)["Description"] == "Now described"


def test_an_unknown_control_type_is_exported_as_it_was(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "slack-send-notification.json").read_text())
    data["Parameters"][1]["DisplaySettings"]["Octopus.ControlType"] = "FancyPicker"
    path = tmp_path / "fancy.json"
    path.write_text(json.dumps(data))

    imported = convert.import_json(path, tmp_path / "fancy")

    assert convert.to_octopus(load_template(tmp_path / "fancy")) == data
    assert imported.warnings == (
        "fancy.json: parameter 'Slack.Channel' has an unknown control type \"FancyPicker\"; "
        "it is treated as text",
    )


# --- import --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Slack - Send Simple Notification", "slack-send-simple-notification"),
        ("IIS AppPool - Create", "iis-apppool-create"),
        ("  Run a .NET tool (v2)!  ", "run-a-net-tool-v2"),
        ("???", "template"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert convert.slug(name) == expected


def test_the_default_directory_is_the_slug_of_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    imported = convert.import_json(FIXTURES / "aws-upload-folder.json")

    assert imported.path == Path("aws-upload-folder-to-s3")
    assert (tmp_path / "aws-upload-folder-to-s3" / "steptemplate.toml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aws-upload-folder-to-s3"]
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE((tmp_path / "aws-upload-folder-to-s3").stat().st_mode)
    assert mode == 0o777 & ~umask


def test_import_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "slack"
    target.mkdir()
    (target / "notes.md").write_text("mine")

    with pytest.raises(StepsError) as raised:
        convert.import_json(FIXTURES / "slack-send-notification.json", target)

    assert str(raised.value) == (
        f"{target} is not empty; choose another --to, or pass --force to replace the "
        "template's files there"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slack"]
    assert [p.name for p in target.iterdir()] == ["notes.md"]


def test_import_into_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "slack").mkdir()

    convert.import_json(FIXTURES / "slack-send-notification.json", tmp_path / "slack")

    assert sorted(p.name for p in (tmp_path / "slack").iterdir()) == [
        "script.sh",
        "steptemplate.toml",
    ]


def test_force_replaces_the_template_files_and_keeps_the_others(tmp_path: Path) -> None:
    target = tmp_path / "slack"
    target.mkdir()
    (target / "notes.md").write_text("mine")
    (target / "steptemplate.toml").write_text("old")
    (target / "script.sh").write_text("old")

    convert.import_json(FIXTURES / "slack-send-notification.json", target, force=True)

    assert (target / "notes.md").read_text() == "mine"
    assert load_template(target).name == "Slack - Send Notification"
    assert (target / "script.sh").read_text() != "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slack"]


def test_import_refuses_a_file_as_target_and_a_missing_source(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")

    with pytest.raises(StepsError, match=r"taken exists and is not a directory"):
        convert.import_json(FIXTURES / "json-validate.json", tmp_path / "taken")
    with pytest.raises(StepsError, match=r"missing.json: file not found"):
        convert.import_json(tmp_path / "missing.json", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_import_of_an_invalid_template_writes_nothing(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "json-validate.json").read_text())
    data["Properties"]["Octopus.Action.Script.Syntax"] = "Ruby"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))

    with pytest.raises(StepsError, match=r"unknown script syntax 'Ruby'"):
        convert.import_json(path, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_import_says_when_the_native_file_needs_an_edit(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "aws-upload-folder.json").read_text())
    data["Parameters"][3]["DefaultValue"] = "sa-east-1"
    path = tmp_path / "aws.json"
    path.write_text(json.dumps(data))

    imported = convert.import_json(path, tmp_path / "aws")

    assert imported.warnings[1:] == (
        "aws.json: parameter 'UploadFolder.Region': default 'sa-east-1' is not one of its "
        "options (eu-west-1, us-east-1, ap-southeast-2)",
        f"{tmp_path / 'aws'}: steptemplate.toml:32: parameter 'UploadFolder.Region': default "
        "'sa-east-1' is not an option (eu-west-1, us-east-1, ap-southeast-2); edit it before use",
    )
    assert (tmp_path / "aws" / "steptemplate.toml").is_file()
