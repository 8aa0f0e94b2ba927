from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.templates import ParameterType, load_template


def write_template(root: Path, text: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "steptemplate.toml").write_text(text)
    for name, content in (files or {}).items():
        (root / name).write_text(content)
    return root


FULL = """
name = "deploy-site"
description = "Deploys a site"
category = "web"

[[parameters]]
name = "Url"
label = "Site URL"
help = "Where the site lives"
required = true

[[parameters]]
name = "Mode"
type = "select"
default = "fast"
options = ["fast", { value = "safe", label = "Safe mode" }]

[[parameters]]
name = "DryRun"
type = "checkbox"
default = true

[[parameters]]
name = "Password"
type = "sensitive"

[[parameters]]
name = "Retries"
default = 3

[script]
syntax = "bash"
file = "deploy.sh"
"""


def test_full_template_loads(tmp_path: Path) -> None:
    root = write_template(tmp_path / "t", FULL, {"deploy.sh": "echo deploy\n"})
    template = load_template(root)
    assert (template.name, template.description, template.category) == (
        "deploy-site",
        "Deploys a site",
        "web",
    )
    url, mode, dry_run, password, retries = template.parameters
    assert (url.label, url.help, url.required, url.type) == (
        "Site URL",
        "Where the site lives",
        True,
        ParameterType.TEXT,
    )
    assert [(o.value, o.label) for o in mode.options] == [("fast", "fast"), ("safe", "Safe mode")]
    assert dry_run.default == "True"  # booleans become .NET-style text
    assert password.sensitive and not url.sensitive
    assert retries.default == "3" and retries.label == "Retries"
    assert template.script.syntax == "bash"
    assert template.script.body == "echo deploy\n"
    assert template.script.file == "deploy.sh"
    assert template.parameter("url") is url  # names are case-insensitive


def test_inline_body(tmp_path: Path) -> None:
    root = write_template(
        tmp_path / "t", 'name = "x"\n[script]\nsyntax = "python"\nbody = "print(1)"\n'
    )
    script = load_template(root).script
    assert (script.syntax, script.body, script.file) == ("python", "print(1)", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n[script\nsyntax = "bash"\n', r"steptemplate.toml:2:\d+: invalid TOML"),
        (
            'name = "x"\nnmae = "y"\n[script]\nsyntax = "bash"\nbody = ""\n',
            r"steptemplate.toml:2: unknown key 'nmae'; did you mean 'name'\?",
        ),
        (
            'name = "x"\n[script]\nsyntax = "ruby"\nbody = ""\n',
            r"steptemplate.toml:3: unsupported script syntax 'ruby'; use one of: bash, python",
        ),
        (
            'name = "x"\n[script]\nsyntax = "bash"\n',
            r"needs exactly one of 'file' or 'body'",
        ),
        ('name = "x"\n', r"a \[script\] table is required"),
        (
            'name = "x"\n[[parameters]]\nname = "A"\ntype = "number"\n'
            '[script]\nsyntax = "bash"\nbody = ""\n',
            r"steptemplate.toml:4: parameter 'A': unknown type 'number'; use one of: text",
        ),
        (
            'name = "x"\n[[parameters]]\nname = "A"\n[[parameters]]\nname = "a"\n'
            '[script]\nsyntax = "bash"\nbody = ""\n',
            r"steptemplate.toml:5: parameter 'a' is declared twice",
        ),
        (
            'name = "x"\n[[parameters]]\nname = "A"\ntype = "select"\n'
            '[script]\nsyntax = "bash"\nbody = ""\n',
            r"a select parameter needs a non-empty 'options' list",
        ),
        (
            'name = "x"\n[[parameters]]\nname = "A"\ntype = "select"\noptions = ["a"]\n'
            'default = "b"\n[script]\nsyntax = "bash"\nbody = ""\n',
            r"steptemplate.toml:6: parameter 'A': default 'b' is not an option \(a\)",
        ),
        (
            'name = "x"\n[[parameters]]\nname = "A"\ntype = "checkbox"\ndefault = "maybe"\n'
            '[script]\nsyntax = "bash"\nbody = ""\n',
            r"steptemplate.toml:5: parameter 'A': a checkbox default is true or false",
        ),
        (
            'name = "x"\n[script]\nsyntax = "bash"\nfile = "missing.sh"\n',
            r"steptemplate.toml:4: script file 'missing.sh' does not exist",
        ),
        (
            'name = "x"\n[script]\nsyntax = "bash"\nfile = "../outside.sh"\n',
            r"script file '../outside.sh' is outside the template directory",
        ),
    ],
)
def test_bad_templates_name_file_line_and_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "outside.sh").write_text("echo\n")
    root = write_template(tmp_path / "t", text)
    with pytest.raises(StepsError, match=message):
        load_template(root, origin="template 'x'")


def test_error_names_the_template_origin(tmp_path: Path) -> None:
    root = write_template(tmp_path / "t", 'name = "x"\n[script]\nsyntax = "ruby"\nbody = ""\n')
    with pytest.raises(StepsError) as raised:
        load_template(root, origin="template 'web' (git://host/repo at v1.0.0)")
    assert str(raised.value).startswith(
        "template 'web' (git://host/repo at v1.0.0): steptemplate.toml:3:"
    )


def test_directory_without_a_template(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(StepsError, match=r"no steptemplate.toml or Octopus step template JSON file found"):
        load_template(tmp_path / "empty")
    with pytest.raises(StepsError, match=r"template directory does not exist"):
        load_template(tmp_path / "absent")
