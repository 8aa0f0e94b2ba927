"""steptemplate.toml: every parameter type, Octopus fields, [modules], [octopus], module files."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.templates import ModuleNeed, Parameter, ParameterType, load_module, load_template
from steptemplates.templates.model import OctopusMetadata, SelectOption

SCRIPT = '[script]\nsyntax = "bash"\nbody = "echo"\n'


def write(root: Path, text: str, files: dict[str, bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "steptemplate.toml").write_text(text, encoding="utf-8")
    for name, content in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def one_parameter(tmp_path: Path, lines: str) -> Parameter:
    root = write(tmp_path / "t", f'name = "t"\n[[parameters]]\nname = "P"\n{lines}\n{SCRIPT}')
    (parameter,) = load_template(root).parameters
    return parameter


def error_of(tmp_path: Path, text: str, files: dict[str, bytes] | None = None) -> str:
    root = write(tmp_path / "t", text, files)
    with pytest.raises(StepsError) as raised:
        load_template(root, origin="template 't'")
    return str(raised.value)


@pytest.mark.parametrize("kind", list(ParameterType))
def test_every_parameter_type_is_accepted(tmp_path: Path, kind: ParameterType) -> None:
    options = 'options = ["a"]\n' if kind is ParameterType.SELECT else ""

    parameter = one_parameter(tmp_path, f'type = "{kind.value}"\n{options}')

    assert parameter.type is kind


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("true", "True"),
        ("false", "False"),
        ('"false"', "false"),
        ('"TRUE"', "TRUE"),
        ('"True"', "True"),
        ('""', ""),
        ('"#{Other}"', "#{Other}"),
    ],
)
def test_checkbox_defaults(tmp_path: Path, written: str, expected: str) -> None:
    parameter = one_parameter(tmp_path, f'type = "checkbox"\ndefault = {written}')

    assert parameter.default == expected
    assert parameter.number_default is False


@pytest.mark.parametrize("written", ['"yes"', "1", "0.5"])
def test_bad_checkbox_defaults(tmp_path: Path, written: str) -> None:
    text = (
        f'name = "t"\n[[parameters]]\nname = "P"\ntype = "checkbox"\ndefault = {written}\n{SCRIPT}'
    )

    assert error_of(tmp_path, text).endswith(
        "steptemplate.toml:5: parameter 'P': a checkbox default is true or false"
    )


@pytest.mark.parametrize(
    ("written", "expected", "number"),
    [("30", "30", True), ("-1.5", "-1.5", True), ('"30"', "30", False), ("true", "True", False)],
)
def test_number_defaults_are_marked(
    tmp_path: Path, written: str, expected: str, number: bool
) -> None:
    parameter = one_parameter(tmp_path, f"default = {written}")

    assert (parameter.default, parameter.number_default) == (expected, number)


def test_bare_and_labelled_options(tmp_path: Path) -> None:
    parameter = one_parameter(
        tmp_path,
        'type = "select"\noptions = ["a", { value = "b", label = "B" }, { value = "c" }]',
    )

    assert parameter.options == (
        SelectOption("a", "a", bare=True),
        SelectOption("b", "B"),
        SelectOption("c", "c"),
    )


@pytest.mark.parametrize("default", ['""', '"#{Region}"', '"a"'])
def test_select_defaults_that_are_accepted(tmp_path: Path, default: str) -> None:
    parameter = one_parameter(tmp_path, f'type = "select"\noptions = ["a"]\ndefault = {default}')

    assert parameter.default == default.strip('"')


def test_an_empty_label_is_kept(tmp_path: Path) -> None:
    parameter = one_parameter(tmp_path, 'label = ""')

    assert parameter.label == ""


def test_parameter_id_and_extra(tmp_path: Path) -> None:
    parameter = one_parameter(
        tmp_path,
        'id = "2ef7bb3d-5f3b-4d4b-9b0e-3f3d0b0e2a11"\n'
        'extra = \'{"Links": {}, "DisplaySettings": {"Octopus.Hidden": "true"}}\'',
    )

    assert parameter.id == "2ef7bb3d-5f3b-4d4b-9b0e-3f3d0b0e2a11"
    assert parameter.extra == {
        "Links": {},
        "DisplaySettings": {"Octopus.Hidden": "true"},
    }


def test_octopus_table(tmp_path: Path) -> None:
    root = write(
        tmp_path / "t",
        'name = "t"\n'
        "[script]\n"
        'syntax = "bash"\n'
        'file = "run.sh"\n'
        'parameters = "--fast #{Mode}"\n'
        "[octopus]\n"
        'id = "99e6f203-3061-4018-9e34-4a3a9c3c3179"\n'
        "version = 14\n"
        'action-type = "Octopus.AwsRunScript"\n'
        "extra = '''\n"
        '{"$Meta": {"Type": "ActionTemplate"}, "LastModifiedBy": "me"}\n'
        "'''\n"
        "[octopus.properties]\n"
        '"Octopus.Action.RunOnServer" = "true"\n'
        '"Octopus.Action.Script.ScriptSource" = "Inline"\n'
        '"Octopus.Action.Script.ScriptFileName" = ""\n',
        {"run.sh": b"echo hi\r\n"},
    )

    template = load_template(root)

    assert (template.id, template.version) == ("99e6f203-3061-4018-9e34-4a3a9c3c3179", 14)
    assert template.octopus == OctopusMetadata(
        action_type="Octopus.AwsRunScript",
        properties={
            "Octopus.Action.RunOnServer": "true",
            "Octopus.Action.Script.ScriptSource": "Inline",
            "Octopus.Action.Script.ScriptFileName": "",
        },
        extra={"$Meta": {"Type": "ActionTemplate"}, "LastModifiedBy": "me"},
    )
    assert template.script.parameters == "--fast #{Mode}"
    assert template.script.body == "echo hi\r\n"  # line endings kept


def test_a_template_without_octopus_fields(tmp_path: Path) -> None:
    template = load_template(write(tmp_path / "t", f'name = "t"\n{SCRIPT}'))

    assert (template.id, template.version, template.modules) == (None, None, ())
    assert template.octopus == OctopusMetadata()


def test_a_package_script(tmp_path: Path) -> None:
    root = write(
        tmp_path / "t",
        'name = "t"\n[script]\nsyntax = "bash"\nfile = "scripts/deploy.sh"\npackage = true\n'
        '[octopus.properties]\n"Octopus.Action.Script.ScriptSource" = "Package"\n',
        {"scripts/deploy.sh": b"echo deploy\n"},
    )

    script = load_template(root).script

    assert (script.file, script.from_package, script.body) == (
        "scripts/deploy.sh",
        True,
        "echo deploy\n",
    )


def test_modules_a_template_needs(tmp_path: Path) -> None:
    root = write(
        tmp_path / "t",
        'name = "t"\n[modules]\nHelpers = "^1.2"\nRetry = { version = "2", autoload = true }\n'
        f'Any = "*"\n{SCRIPT}',
    )

    assert load_template(root).modules == (
        ModuleNeed("Helpers", "^1.2"),
        ModuleNeed("Retry", "2", autoload=True),
        ModuleNeed("Any", None),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f'name = "t"\n[[parameters]]\nname = "P"\nextra = "{{nope"\n{SCRIPT}',
            "steptemplate.toml:4: parameter 'P': 'parameters[0].extra' is not valid JSON "
            "(Expecting property name enclosed in double quotes at line 1 column 2)",
        ),
        (
            f'name = "t"\n[[parameters]]\nname = "P"\nextra = "[1]"\n{SCRIPT}',
            "steptemplate.toml:4: parameter 'P': 'parameters[0].extra' must be a JSON object ({...})",
        ),
        (
            f'name = "t"\n[[parameters]]\nname = "P"\nid = 3\n{SCRIPT}',
            "steptemplate.toml:4: 'parameters[0].id' must be a string",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus]\nversion = -1\n',
            "steptemplate.toml:6: 'octopus.version' must be a whole number >= 0 (Octopus's Version)",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus]\nversion = "3"\n',
            "steptemplate.toml:6: 'octopus.version' must be a whole number >= 0 (Octopus's Version)",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus]\nid = ""\n',
            "steptemplate.toml:6: 'octopus.id' must not be empty (it is the template's GUID)",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus]\nextra = "not json"\n',
            "steptemplate.toml:6: 'octopus.extra' is not valid JSON (Expecting value at line 1 "
            "column 1)",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus]\nversoin = 2\n',
            "steptemplate.toml:6: unknown key 'versoin' in [octopus]; did you mean 'version'?",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus.properties]\n"Octopus.Action.RunOnServer" = true\n',
            "steptemplate.toml:6: Octopus property 'Octopus.Action.RunOnServer' must be a string",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus.properties]\n"Octopus.Action.Script.ScriptBody" = "x"\n',
            "steptemplate.toml:6: 'Octopus.Action.Script.ScriptBody' comes from [script]: set "
            "'file or body' there instead",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus.properties]\n"Octopus.Action.Script.Syntax" = "Bash"\n',
            "steptemplate.toml:6: 'Octopus.Action.Script.Syntax' comes from [script]: set "
            "'syntax' there instead",
        ),
        (
            f'name = "t"\n{SCRIPT}[octopus.properties]\n'
            '"Octopus.Action.Script.ScriptSource" = "Package"\n',
            "steptemplate.toml:6: 'Octopus.Action.Script.ScriptSource' is 'Package' but [script] "
            "package is false; remove the property; [script] package = true says the script is "
            "in a package",
        ),
        (
            'name = "t"\n[script]\nsyntax = "bash"\nbody = "x"\npackage = true\n',
            "steptemplate.toml:5: 'package = true' needs 'file': the script's path in it",
        ),
        (
            'name = "t"\n[script]\nsyntax = "bash"\nbody = "x"\nparameters = 3\n',
            "steptemplate.toml:5: 'script.parameters' must be a string",
        ),
        (
            f'name = "t"\n[modules]\nHelpers = 3\n{SCRIPT}',
            "steptemplate.toml:3: template 't': module 'Helpers' needs a version range "
            '("^1.2", "*") or a table with version and autoload',
        ),
        (
            f'name = "t"\n[modules]\nHelpers = "not a range"\n{SCRIPT}',
            "steptemplate.toml:3: template 't': module 'Helpers': ",
        ),
        (
            f'kind = "plugin"\nname = "t"\n{SCRIPT}',
            "steptemplate.toml:1: unknown kind 'plugin'; use 'template' or 'module'",
        ),
        (
            f'kind = "module"\nname = "Helpers"\n{SCRIPT}',
            'steptemplate.toml:1: this is a script module (kind = "module"), not a step '
            "template; use it under [modules.NAME] in steps.toml",
        ),
    ],
)
def test_errors(tmp_path: Path, text: str, message: str) -> None:
    error = error_of(tmp_path, text)

    assert error.startswith(f"template 't': {message}"), error


def test_script_files_keep_their_bytes(tmp_path: Path) -> None:
    content = "#!/bin/bash\r\necho 'caf\u00e9'\r\n\r\n".encode()
    root = write(
        tmp_path / "t",
        'name = "t"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n',
        {"run.sh": content},
    )

    assert load_template(root).script.body.encode() == content


# --- module files ----------------------------------------------------------------------------


def test_a_module_file(tmp_path: Path) -> None:
    root = write(
        tmp_path / "m",
        'kind = "module"\nname = "deploy_helpers"\ndescription = "Helpers"\n'
        '[script]\nsyntax = "python"\nfile = "deploy_helpers.py"\n'
        '[modules]\nBase = "^2"\n',
        {"deploy_helpers.py": b"def go():\r\n    pass\r\n"},
    )

    module = load_module(root)

    assert (module.name, module.syntax, module.description, module.format, module.file) == (
        "deploy_helpers",
        "python",
        "Helpers",
        "native",
        "steptemplate.toml",
    )
    assert module.body == "def go():\r\n    pass\r\n"
    assert module.needs == (ModuleNeed("Base", "^2"),)
    assert module.root == root


def test_an_inline_module(tmp_path: Path) -> None:
    root = write(tmp_path / "m", f'kind = "module"\nname = "Helpers"\n{SCRIPT}')

    module = load_module(root)

    assert (module.name, module.body, module.needs) == ("Helpers", "echo", ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f'name = "t"\n{SCRIPT}',
            "steptemplate.toml: this is a step template, not a script module; a module file "
            'says kind = "module"; a template goes under [templates.NAME]',
        ),
        (
            f'kind = "module"\nname = "json"\n{SCRIPT.replace("bash", "python")}',
            "steptemplate.toml:2: script module name 'json' would hide Python's own 'json' "
            "module (or is a keyword); choose another name",
        ),
        (
            f'kind = "module"\nname = "my-helpers"\n{SCRIPT}',
            "steptemplate.toml:2: script module name 'my-helpers' is not safe as a file name and "
            "import name; use letters, digits and _ (not starting with a digit)",
        ),
        (
            'kind = "module"\nname = "H"\n[script]\nsyntax = "bash"\nbody = "x"\npackage = true\n',
            "steptemplate.toml:6: unknown key 'package' in [script]; expected one of: body, "
            "file, syntax",
        ),
        (
            f'kind = "module"\nname = "H"\ncategory = "x"\n{SCRIPT}',
            "steptemplate.toml:3: unknown key 'category'; expected one of: description, kind, "
            "modules, name, script",
        ),
        (
            f'kind = "module"\nname = "H"\n[[parameters]]\nname = "P"\n{SCRIPT}',
            "steptemplate.toml:3: unknown key 'parameters'; expected one of: description, kind, "
            "modules, name, script",
        ),
    ],
)
def test_module_errors(tmp_path: Path, text: str, message: str) -> None:
    root = write(tmp_path / "m", text)

    with pytest.raises(StepsError) as raised:
        load_module(root, origin="module 'm'")

    assert str(raised.value) == f"module 'm': {message}"
