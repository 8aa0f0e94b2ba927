"""Reading Octopus ActionTemplate JSON files and Octopus script modules."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from steptemplates.errors import StepsError
from steptemplates.templates import load_module, load_template, octopus
from steptemplates.templates.model import OCTOPUS_CONTROL_TYPES, ParameterType, SelectOption

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPT = "Octopus.Action.Script.ScriptBody"
SYNTAX = "Octopus.Action.Script.Syntax"


def action_template(**changes: Any) -> dict[str, Any]:
    """A small ActionTemplate, as the library writes them, with ``changes`` applied."""
    data: dict[str, Any] = {
        "Id": "11111111-2222-4333-8444-555555555555",
        "Name": "Echo - Say Something",
        "Description": "Says something.",
        "ActionType": "Octopus.Script",
        "Version": 4,
        "Properties": {
            "Octopus.Action.Script.ScriptSource": "Inline",
            SYNTAX: "Bash",
            SCRIPT: 'echo "$(get_octopusvariable "Echo.Text")"\r\n',
        },
        "Parameters": [],
        "$Meta": {"ExportedAt": "2024-01-02T03:04:05.678Z", "Type": "ActionTemplate"},
        "LastModifiedBy": "someone",
        "Category": "echo",
    }
    data.update(changes)
    return data


def parameter(name: str, control: str = "SingleLineText", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Id": None,
        "Name": name,
        "Label": name,
        "HelpText": "",
        "DefaultValue": None,
        "DisplaySettings": {"Octopus.ControlType": control},
    }
    data.update(changes)
    if data["Id"] is None:
        del data["Id"]
    return data


def write_json(directory: Path, data: Any, name: str = "template.json") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def load_data(tmp_path: Path, data: Any) -> Any:
    path = write_json(tmp_path / "t", data)
    return octopus.load(path, path.parent)


def load_error(tmp_path: Path, data: Any) -> str:
    with pytest.raises(StepsError) as raised:
        load_data(tmp_path, data)
    return str(raised.value)


# --- loading ---------------------------------------------------------------------------------


def test_a_library_style_template_loads(tmp_path: Path) -> None:
    path = FIXTURES / "slack-send-notification.json"
    template = octopus.load(path, FIXTURES)

    assert (template.name, template.category, template.format, template.file) == (
        "Slack - Send Notification",
        "slack",
        "octopus",
        "slack-send-notification.json",
    )
    assert template.description.startswith("Posts a message to a Slack channel")
    assert (template.id, template.version) == ("99e6f203-3061-4018-9e34-4a3a9c3c3179", 14)
    assert template.script.syntax == "bash"
    assert template.script.file is None and not template.script.from_package
    assert template.script.body.startswith("#!/usr/bin/env bash\r\nset -eu\r\n")
    assert template.root == FIXTURES
    assert template.warnings == ()
    hook, channel, link, colour, timeout, title = template.parameters
    assert (hook.type, hook.sensitive, hook.default, hook.required) == (
        ParameterType.SENSITIVE,
        True,
        None,
        False,
    )
    assert hook.id == "2ef7bb3d-5f3b-4d4b-9b0e-3f3d0b0e2a11"
    assert hook.extra == {"Links": {}}
    assert (channel.label, channel.default) == ("Channel", "#deployments")
    assert (link.type, link.default) == (ParameterType.CHECKBOX, "false")  # spelling kept
    assert colour.options == (
        SelectOption("good", "Green"),
        SelectOption("danger", "Red"),
        SelectOption("warning", "Yellow"),
    )
    assert (timeout.default, timeout.number_default, timeout.help) == ("30", True, "")
    assert timeout.extra == {"Links": {}, "HelpText": None}
    assert title.type is ParameterType.MULTILINE
    assert title.default == "#{Octopus.Project.Name} #{Octopus.Release.Number}"


def test_octopus_metadata_keeps_everything_else() -> None:
    template = octopus.load(FIXTURES / "aws-upload-folder.json", FIXTURES)

    metadata = template.octopus
    assert metadata.action_type == "Octopus.AwsRunScript"
    assert metadata.properties == {
        "Octopus.Action.Script.ScriptSource": "Inline",
        "Octopus.Action.AwsAccount.Variable": "UploadFolder.Account",
        "Octopus.Action.AwsAccount.UseInstanceRole": "False",
        "Octopus.Action.Aws.AssumeRole": "False",
        "Octopus.Action.Aws.Region": "#{UploadFolder.Region}",
        "OctopusUseBundledTooling": "False",
    }
    assert list(metadata.extra) == [
        "CommunityActionTemplateId",
        "Packages",
        "StepPackageId",
        "$Meta",
        "LastModifiedBy",
    ]
    assert metadata.extra["Packages"][0]["PackageId"] is None
    assert metadata.extra["$Meta"]["OctopusVersion"] == "2025.1.5319"


def test_every_control_type_has_a_type(tmp_path: Path) -> None:
    parameters = [
        parameter(
            f"P{i}",
            control,
            DisplaySettings={
                "Octopus.ControlType": control,
                **({"Octopus.SelectOptions": "a\nb"} if control == "Select" else {}),
            },
        )
        for i, control in enumerate(OCTOPUS_CONTROL_TYPES)
    ]

    template = load_data(tmp_path, action_template(Parameters=parameters))

    assert [p.type for p in template.parameters] == list(OCTOPUS_CONTROL_TYPES.values())
    assert all(p.extra == {} for p in template.parameters)
    assert template.warnings == ()


def test_control_types_are_read_in_any_case_and_the_spelling_kept(tmp_path: Path) -> None:
    template = load_data(tmp_path, action_template(Parameters=[parameter("Flag", "checkbox")]))

    (flag,) = template.parameters
    assert flag.type is ParameterType.CHECKBOX
    assert flag.extra == {"DisplaySettings": {"Octopus.ControlType": "checkbox"}}


def test_an_unknown_control_type_is_text_with_a_warning(tmp_path: Path) -> None:
    template = load_data(tmp_path, action_template(Parameters=[parameter("Pool", "FancyPicker")]))

    (pool,) = template.parameters
    assert pool.type is ParameterType.TEXT
    assert pool.extra == {"DisplaySettings": {"Octopus.ControlType": "FancyPicker"}}
    assert template.warnings == (
        "template.json: parameter 'Pool' has an unknown control type \"FancyPicker\"; "
        "it is treated as text",
    )


@pytest.mark.parametrize(
    ("value", "expected", "number"),
    [
        (None, None, False),
        ("", "", False),
        ("text", "text", False),
        (5, "5", True),
        (-2, "-2", True),
        (1.5, "1.5", True),
        ("#{Octopus.Web.ServerUri}/app", "#{Octopus.Web.ServerUri}/app", False),
        ("#{if Octopus.Release.Number}yes#{/if}", "#{if Octopus.Release.Number}yes#{/if}", False),
    ],
)
def test_defaults(tmp_path: Path, value: Any, expected: str | None, number: bool) -> None:
    template = load_data(tmp_path, action_template(Parameters=[parameter("P", DefaultValue=value)]))

    (loaded,) = template.parameters
    assert (loaded.default, loaded.number_default) == (expected, number)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("False", "False"),
        ("True", "True"),
        ("false", "false"),
        ("", ""),
        (None, None),
        ("true", "true"),
        (True, "True"),
        (False, "False"),
    ],
)
def test_checkbox_defaults_keep_their_case(tmp_path: Path, value: Any, expected: str) -> None:
    template = load_data(
        tmp_path, action_template(Parameters=[parameter("F", "Checkbox", DefaultValue=value)])
    )

    assert template.parameters[0].default == expected
    assert template.warnings == ()


def test_select_options_in_both_forms_and_crlf(tmp_path: Path) -> None:
    options = "first|The first\r\nsecond\r\n\r\nthird|Third|with a bar\r\n"
    template = load_data(
        tmp_path,
        action_template(
            Parameters=[
                parameter(
                    "Choice",
                    DefaultValue="second",
                    DisplaySettings={
                        "Octopus.ControlType": "Select",
                        "Octopus.SelectOptions": options,
                    },
                )
            ]
        ),
    )

    (choice,) = template.parameters
    assert choice.options == (
        SelectOption("first", "The first"),
        SelectOption("second", "second", bare=True),
        SelectOption("third", "Third|with a bar"),
    )
    # Written differently from how steps would write it: kept for export.
    assert choice.extra == {"DisplaySettings": {"Octopus.SelectOptions": options}}
    assert template.warnings == ()


def test_select_default_outside_the_options_is_a_warning(tmp_path: Path) -> None:
    select = parameter(
        "Region",
        DefaultValue="eu-central-1",
        DisplaySettings={"Octopus.ControlType": "Select", "Octopus.SelectOptions": "a|A\nb|B"},
    )
    template = load_data(tmp_path, action_template(Parameters=[select]))

    assert template.parameters[0].default == "eu-central-1"
    assert template.warnings == (
        "template.json: parameter 'Region': default 'eu-central-1' is not one of its "
        "options (a, b)",
    )


def test_a_checkbox_default_that_is_not_true_or_false_is_a_warning(tmp_path: Path) -> None:
    flag = parameter("Flag", "Checkbox", DefaultValue="yes")
    template = load_data(tmp_path, action_template(Parameters=[flag]))

    assert template.warnings == (
        "template.json: parameter 'Flag': checkbox default 'yes' is not True or False",
    )


def test_select_options_on_another_type_are_kept(tmp_path: Path) -> None:
    text = parameter(
        "Name",
        DisplaySettings={"Octopus.ControlType": "SingleLineText", "Octopus.SelectOptions": "x"},
    )
    template = load_data(tmp_path, action_template(Parameters=[text]))

    (loaded,) = template.parameters
    assert loaded.options == ()
    assert loaded.extra == {"DisplaySettings": {"Octopus.SelectOptions": "x"}}


def test_a_package_script_is_read_from_the_root() -> None:
    template = octopus.load(FIXTURES / "deploy-from-package.json", FIXTURES)

    script = template.script
    assert (script.file, script.from_package, script.syntax) == ("scripts/deploy.sh", True, "bash")
    assert script.body == (FIXTURES / "scripts" / "deploy.sh").read_bytes().decode()
    assert script.body.endswith("\r\n")
    assert script.parameters == '--environment "#{Octopus.Environment.Name}" --verbose'
    assert template.octopus.properties == {
        "Octopus.Action.Script.ScriptSource": "Package",
        "Octopus.Action.Package.PackageId": "deploy-scripts",
        "Octopus.Action.Package.FeedId": "feeds-builtin",
    }
    assert template.category == "other"
    assert template.octopus.extra["Category"] is None  # there was none: export leaves it out


def test_a_package_script_without_syntax_takes_it_from_the_extension(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "tools").mkdir(parents=True)
    (root / "tools" / "run.py").write_text("print('hi')\n")
    properties = {
        "Octopus.Action.Script.ScriptSource": "Package",
        "Octopus.Action.Script.ScriptFileName": "tools\\run.py",
    }
    path = write_json(root / "templates", action_template(Properties=properties))

    template = octopus.load(path, root)

    assert (template.script.syntax, template.script.file) == ("python", "tools/run.py")
    assert template.file == "templates/template.json"


def test_script_syntax_names_are_read_in_any_case(tmp_path: Path) -> None:
    properties = {SYNTAX: "powershell", SCRIPT: "Write-Host hi"}
    template = load_data(tmp_path, action_template(Properties=properties))

    assert template.script.syntax == "powershell"


def test_a_string_of_digits_is_a_version_and_absent_fields_have_defaults(tmp_path: Path) -> None:
    data = action_template(Version="12")
    for key in ("Id", "Description", "Category", "ActionType"):
        del data[key]

    template = load_data(tmp_path, data)

    assert (template.version, template.id, template.description, template.category) == (
        12,
        None,
        "",
        "other",
    )
    assert template.octopus.action_type == "Octopus.Script"


def test_a_null_description_reads_as_empty_and_is_remembered() -> None:
    template = octopus.load(FIXTURES / "json-validate.json", FIXTURES)

    assert template.description == ""
    assert template.octopus.extra["Description"] is None
    path, mode, fail, depth = template.parameters
    assert (fail.type, fail.default) == (ParameterType.CHECKBOX, None)
    assert path.extra == {"Type": "String"}
    assert mode.label == ""
    assert depth.extra == {"DisplaySettings": {"Octopus.Hidden": "false"}}


def test_cloud_script_steps_load_with_a_warning() -> None:
    template = octopus.load(FIXTURES / "aws-upload-folder.json", FIXTURES)

    assert template.warnings == (
        "aws-upload-folder.json: ActionType Octopus.AwsRunScript: steps runs the script but "
        "does not set up the AWS credentials and region the step gets in Octopus; the script "
        "must do it (or the variables supply it)",
    )
    assert [p.type for p in template.parameters] == [
        ParameterType.AWS_ACCOUNT,
        ParameterType.PACKAGE,
        ParameterType.TEXT,
        ParameterType.SELECT,
    ]


def test_load_template_finds_the_json_file_in_a_directory(tmp_path: Path) -> None:
    write_json(tmp_path / "t", action_template(), "say-something.json")
    write_json(tmp_path / "t", {"something": "else"}, "package.json")

    template = load_template(tmp_path / "t", origin="template 'say'")

    assert (template.name, template.file) == ("Echo - Say Something", "say-something.json")


# --- errors ----------------------------------------------------------------------------------


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "t" / "template.json"
    path.parent.mkdir()
    path.write_text('{\n  "Name": "x",\n  "Version": 1\n  "Parameters": []\n}\n')

    with pytest.raises(StepsError) as raised:
        octopus.load(path, path.parent, origin="template 'x'")

    assert str(raised.value) == (
        "template 'x': template.json:4:3: invalid JSON: Expecting ',' delimiter"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            [action_template()],
            "a JSON list, not an Octopus step template (an object with ActionType, "
            "Properties and Parameters)",
        ),
        (
            {
                "Octopus.Script.Module[Helpers]": "echo",
                "Octopus.Script.Module.Language[Helpers]": "Bash",
            },
            "an Octopus script module ('Helpers'), not a step template; use it under "
            "[modules.Helpers] in steps.toml",
        ),
        (
            {"Id": "variableset-1", "Variables": [{"Name": "Url", "Value": "x"}]},
            "an Octopus variable set, not a step template",
        ),
        (
            {"name": "x", "scripts": {}},
            "not an Octopus step template: it has no ActionType, Properties or Parameters",
        ),
        (
            action_template(Name="  "),
            "Name: missing or empty; a step template needs a name",
        ),
        (action_template(Name=["x"]), "Name: must be a string"),
        (action_template(Description=3), "Description: must be a string or null"),
        (action_template(Category=3), "Category: must be a string"),
        (action_template(ActionType=None), "ActionType: must be a string"),
        (
            action_template(Parameters={"Url": {}}),
            "Parameters: must be a list of parameter objects",
        ),
        (
            action_template(Properties=[]),
            "Properties: must be an object mapping names to strings",
        ),
        (
            action_template(
                Properties={SYNTAX: "Bash", SCRIPT: "x", "Octopus.Action.RunOnServer": True}
            ),
            "Properties: must map names to strings; 'Octopus.Action.RunOnServer' is a boolean; "
            'Octopus writes every property as a string, e.g. "true"',
        ),
        (
            action_template(
                ActionType="Octopus.TerraformApply",
                Properties={"Octopus.Action.Terraform.Template": "{}"},
            ),
            "Properties: the template has no Octopus.Action.Script.ScriptBody; steps runs "
            "script step templates (ActionType Octopus.TerraformApply)",
        ),
        (
            action_template(Properties={SYNTAX: "Ruby", SCRIPT: "puts 1"}),
            "Octopus.Action.Script.Syntax: unknown script syntax 'Ruby'; use one of: Bash, "
            "Python, PowerShell, CSharp, FSharp",
        ),
        (
            action_template(Properties={SCRIPT: "echo"}),
            "Properties: Octopus.Action.Script.Syntax is missing (Octopus picks one by the "
            "worker's OS; steps does not); set it to one of: Bash, Python, PowerShell, CSharp, "
            "FSharp",
        ),
        (
            action_template(
                Properties={
                    SYNTAX: "Bash",
                    SCRIPT: "x",
                    "Octopus.Action.Script.ScriptSource": "Git",
                }
            ),
            "Octopus.Action.Script.ScriptSource: unknown script source 'Git'; use Inline or "
            "Package",
        ),
        (
            action_template(
                Properties={SYNTAX: "Bash", "Octopus.Action.Script.ScriptSource": "Package"}
            ),
            "Properties: Octopus.Action.Script.ScriptSource is Package but "
            "Octopus.Action.Script.ScriptFileName is missing; name the script's path inside "
            "the package",
        ),
        (
            action_template(
                Properties={
                    SYNTAX: "Bash",
                    "Octopus.Action.Script.ScriptSource": "Package",
                    "Octopus.Action.Script.ScriptFileName": "deploy.sh",
                }
            ),
            "Octopus.Action.Script.ScriptFileName: the script 'deploy.sh' is not in {root}; "
            "the script comes from the package holding the template; add it there",
        ),
        (
            action_template(Version="3.1"),
            'Version: must be a whole number (the template\'s version), not "3.1"',
        ),
        (
            action_template(Version=-1),
            "Version: must be a whole number (the template's version), not -1",
        ),
        (action_template(Id=7), "Id: must be a string (a GUID)"),
        (
            action_template(Parameters=["Url"]),
            "Parameters[0]: must be an object with Name, Label, HelpText and so on",
        ),
        (
            action_template(Parameters=[parameter("")]),
            "Parameters[0]: Name must be a non-empty string",
        ),
        (
            action_template(Parameters=[parameter("Url"), parameter("URL")]),
            "Parameters[1]: parameter 'URL' is declared twice (names are case-insensitive)",
        ),
        (
            action_template(Parameters=[parameter("Url", DefaultValue=["a"])]),
            "Parameters[0] ('Url'): DefaultValue must be a string, a number or null",
        ),
        (
            action_template(Parameters=[parameter("Url", DefaultValue=True)]),
            "Parameters[0] ('Url'): DefaultValue true/false is only for a Checkbox parameter",
        ),
        (
            action_template(Parameters=[parameter("Mode", "Select")]),
            "Parameters[0] ('Mode'): a Select parameter needs Octopus.SelectOptions (one "
            "'value|Label' a line)",
        ),
        (
            action_template(Parameters=[parameter("Url", DisplaySettings="text")]),
            "Parameters[0] ('Url'): DisplaySettings must be an object",
        ),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, data: Any, message: str) -> None:
    root = tmp_path / "t"
    expected = f"{root / 'template.json'}: {message.format(root=root)}"

    assert load_error(tmp_path, data) == expected


def test_errors_name_the_origin(tmp_path: Path) -> None:
    path = write_json(tmp_path / "repo" / "step-templates", action_template(Name=""))

    with pytest.raises(StepsError) as raised:
        load_template(tmp_path / "repo", file="step-templates/template.json", origin="template 'x'")

    assert str(raised.value) == (
        "template 'x': step-templates/template.json: Name: missing or empty; a step template "
        "needs a name"
    )
    assert path.is_file()


def test_a_script_module_is_not_a_template_through_load_template(tmp_path: Path) -> None:
    write_json(tmp_path / "m", {"Octopus.Script.Module[Helpers]": "x"}, "helpers.json")

    with pytest.raises(StepsError, match=re.escape("use it under [modules.Helpers]")):
        load_template(tmp_path / "m")


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (json.dumps(action_template()), True),
        (json.dumps({"Properties": {}, "Parameters": []}), True),
        (json.dumps({"$Meta": {"Type": "ActionTemplate"}}), True),
        (json.dumps({"ActionType": "Octopus.Script"}), True),
        (json.dumps({"Octopus.Script.Module[Helpers]": "x"}), True),
        (json.dumps({"Variables": [{"Name": "Octopus.Script.Module[H]", "Value": "x"}]}), True),
        (json.dumps({"Variables": [{"Name": "Url", "Value": "x"}]}), False),
        (json.dumps({"Variables": "nonsense"}), False),
        (json.dumps({"name": "package", "version": "1.0.0"}), False),
        (json.dumps([action_template()]), False),
        ("{not json", False),
        ("\xff\xfe", False),
        ("[" * 100_000, False),
    ],
)
def test_looks_like_json(tmp_path: Path, content: str, expected: bool) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content.encode("latin-1") if content == "\xff\xfe" else content.encode())

    assert octopus.looks_like_json(path) is expected


def test_looks_like_json_on_a_missing_file_or_a_directory(tmp_path: Path) -> None:
    assert octopus.looks_like_json(tmp_path / "missing.json") is False
    assert octopus.looks_like_json(tmp_path) is False


# --- script modules --------------------------------------------------------------------------


def module_set(
    name: str = "Helpers", language: str | None = "Bash", **wrapper: Any
) -> dict[str, Any]:
    variables = [
        {
            "Id": "v-1",
            "Name": f"Octopus.Script.Module[{name}]",
            "Value": 'say() { echo "$1"; }\n',
            "Type": "String",
            "Scope": {},
            "IsSensitive": False,
        }
    ]
    if language is not None:
        variables.append({"Name": f"Octopus.Script.Module.Language[{name}]", "Value": language})
    return {
        "Id": "variableset-LibraryVariableSets-1",
        "OwnerId": "LibraryVariableSets-1",
        "Version": 2,
        "Variables": variables,
        **wrapper,
    }


def load_module_data(tmp_path: Path, data: Any, origin: str | None = None) -> Any:
    path = write_json(tmp_path / "m", data, "module.json")
    return octopus.load_module(path, path.parent, origin=origin)


def test_a_module_as_the_api_returns_its_variable_set(tmp_path: Path) -> None:
    module = load_module_data(tmp_path, module_set())

    assert (module.name, module.syntax, module.format, module.file) == (
        "Helpers",
        "bash",
        "octopus",
        "module.json",
    )
    assert module.body == 'say() { echo "$1"; }\n'
    assert module.description == ""


def test_a_module_wrapped_with_its_name_and_description(tmp_path: Path) -> None:
    data = module_set(Name="Helpers", Description="Shared functions", ContentType="ScriptModule")

    module = load_module_data(tmp_path, data)

    assert (module.name, module.description) == ("Helpers", "Shared functions")


def test_a_flat_module_and_the_default_language(tmp_path: Path) -> None:
    python = load_module_data(
        tmp_path,
        {
            "Octopus.Script.Module[deploytools]": "def hello():\n    return 1\n",
            "Octopus.Script.Module.Language[deploytools]": "python",
        },
    )
    powershell = load_module_data(tmp_path, {"Octopus.Script.Module[Tools]": "function Go {}"})

    assert (python.name, python.syntax) == ("deploytools", "python")
    assert (powershell.syntax, powershell.body) == ("powershell", "function Go {}")


def test_load_module_dispatches_json_files(tmp_path: Path) -> None:
    write_json(tmp_path / "m", module_set(), "helpers.json")

    assert load_module(tmp_path / "m").name == "Helpers"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "Octopus.Script.Module[A]": "x",
                "Octopus.Script.Module[B]": "y",
            },
            "module.json: holds 2 script modules (A, B); one file holds one",
        ),
        (
            {"Variables": [{"Name": "Url", "Value": "x"}]},
            "module.json: holds no Octopus.Script.Module[NAME] variable; a script module's code "
            "is the value of Octopus.Script.Module[NAME]",
        ),
        (
            module_set("json", "Python"),
            "module.json: Octopus.Script.Module[json]: script module name 'json' would hide "
            "Python's own 'json' module (or is a keyword); choose another name",
        ),
        (
            module_set("My Helpers"),
            "module.json: Octopus.Script.Module[My Helpers]: script module name 'My Helpers' is "
            "not safe as a file name and import name; use letters, digits and _ (not starting "
            "with a digit)",
        ),
        (
            module_set(language="Ruby"),
            'module.json: Octopus.Script.Module.Language[Helpers]: unknown language "Ruby"; '
            "use one of: Bash, Python, PowerShell, CSharp, FSharp",
        ),
        (
            module_set(ContentType="Variables"),
            'module.json: ContentType: "Variables": a variable set, not a script module',
        ),
        (
            {"Octopus.Script.Module[Helpers]": 3},
            "module.json: Octopus.Script.Module[Helpers]: the module's code must be a string",
        ),
        (
            action_template(),
            "module.json: an Octopus step template, not a script module; use it under "
            "[templates.NAME] in steps.toml",
        ),
        (
            [module_set()],
            "module.json: a JSON list, not an Octopus script module (an object holding "
            "Octopus.Script.Module[NAME])",
        ),
        (
            {"Variables": [{"Value": "x"}]},
            "module.json: Variables: must be a list of objects with Name and Value",
        ),
    ],
)
def test_module_errors(tmp_path: Path, data: Any, message: str) -> None:
    with pytest.raises(StepsError) as raised:
        load_module_data(tmp_path, data, origin="module 'm'")

    assert str(raised.value) == f"module 'm': {message}"
