"""steps.toml: strict reading with file and line in every error, and round-trip editing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from steptemplates import manifest, manifest_edit
from steptemplates.errors import StepsError
from steptemplates.manifest import Condition, GitRequirement, PathRequirement
from steptemplates.variables.scoping import Scope, ScopedVariable


def values(loaded: manifest.Manifest) -> dict[str, str]:
    return {v.name: v.value for v in loaded.variables}


def load(tmp_path: Path, text: str) -> manifest.Manifest:
    path = tmp_path / "steps.toml"
    path.write_text(text)
    return manifest.load(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(StepsError) as raised:
        load(tmp_path, text)
    message = str(raised.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "steps.toml"), "steps.toml")


def test_a_full_manifest(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        """
[project]
name = "shop"

[templates.check]
git = "https://example.com/t.git"
subdir = "./checks//http/"
version = "^1.2"
prerelease = true
token-env = "TOKEN"
username = "me"

[templates.local]
path = "../mine"

[variables]
Region = "eu"
Replicas = 3
Debug = true

[[steps]]
name = "Check"
template = "check"
timeout = "90s"
[steps.parameters]
Url = "https://example.com"
Retries = 5

[[steps]]
name = "Report"
template = "local"
condition = "always"
""",
    )

    assert loaded.project_name == "shop"
    assert loaded.templates["check"].source == GitRequirement(
        url="https://example.com/t.git",
        subdir="checks/http",
        version="^1.2",
        prereleases=True,
        token_env="TOKEN",
        username="me",
    )
    assert loaded.templates["local"].source == PathRequirement(
        path="../mine", resolved=(tmp_path / "../mine").resolve()
    )
    assert values(loaded) == {"Region": "eu", "Replicas": "3", "Debug": "True"}
    check, report = loaded.steps
    assert (check.name, check.timeout, dict(check.parameters)) == (
        "Check",
        90.0,
        {"Url": "https://example.com", "Retries": "5"},
    )
    assert (report.condition, report.timeout) == (Condition.ALWAYS, None)


def test_defaults(tmp_path: Path) -> None:
    loaded = load(tmp_path, "")

    assert loaded.project_name == tmp_path.name
    assert (dict(loaded.templates), loaded.steps, loaded.variables) == ({}, (), ())
    assert (loaded.environments, loaded.tenants, dict(loaded.targets)) == ((), (), {})


@pytest.mark.parametrize(
    ("requirement", "requested"),
    [
        (GitRequirement(url="u"), "*"),
        (GitRequirement(url="u", version="^1"), "^1"),
        (GitRequirement(url="u", version="^1", prereleases=True), "^1 (prereleases)"),
        (GitRequirement(url="u", tag="v1"), "tag=v1"),
        (GitRequirement(url="u", branch="main"), "branch=main"),
        (GitRequirement(url="u", rev="abc1234"), "rev=abc1234"),
        (PathRequirement(path="p", resolved=Path("/p")), "path"),
    ],
)
def test_requested(requirement: manifest.Requirement, requested: str) -> None:
    assert requirement.requested == requested


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[templates]\nx = 1\n", "steps.toml:2: 'templates.x' must be a table"),
        ('[templates."a b"]\ngit = "u"\n', "steps.toml:1: template name 'a b' may only hold"),
        ("[templates.a]\n", "steps.toml:1: template 'a' needs exactly one source: 'git', 'path', 'github', 'nuget' or 'url'"),
        (
            '[templates.a]\ngit = "u"\npath = "p"\n',
            "steps.toml:1: template 'a' needs exactly one source",
        ),
        ('[templates.a]\ngit = "u"\nbranch = 1\n', "steps.toml:3: 'templates.a.branch' must be"),
        (
            '[templates.a]\ngit = "u"\n\n[[steps]]\nname = "s"\ntemplate = "b"\n',
            "steps.toml:6: step 's' uses template 'b', which is not in [templates]; "
            "add it with `steps add` (known: a)",
        ),
        (
            '[templates.a]\ngit = "u"\n[[steps]]\nname = "s"\ntemplate = "a"\n'
            '[[steps]]\nname = "s"\ntemplate = "a"\n',
            "steps.toml:7: two steps are named 's'; step names are unique",
        ),
        (
            '[templates.a]\ngit = "u"\n[[steps]]\nname = "s"\ntemplate = "a"\ncondition = "never"\n',
            "steps.toml:6: step 's': unknown condition 'never'; use success, failure or always",
        ),
        *[
            (
                f'[templates.a]\ngit = "u"\n[[steps]]\nname = "s"\ntemplate = "a"\ntimeout = {value}\n',
                "steps.toml:6: step 's': timeout must be a duration like 90, '90s', '10m' or '2h'",
            )
            for value in ('"soon"', "0", "inf", "nan", "1e300", '"8d"', "true")
        ],
        ('[[steps]]\ntemplate = "a"\n', "steps.toml:1: 'steps[0].name' is required"),
        (
            "[variables]\nlist = [1]\n",
            "steps.toml:2: variable 'list', scoped value 1: expected a table with 'value'",
        ),
        (
            '[templates.a]\ngit = "u"\n\n[[steps]]\nname = "s"\ntemplate = "a"\nparam = 1\n',
            "steps.toml:7: unknown key 'param' in [steps[0]]; did you mean 'parameters'?",
        ),
    ],
)
def test_errors_point_at_the_line(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text).startswith(expected)


def test_find_walks_up(tmp_path: Path) -> None:
    (tmp_path / "steps.toml").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)

    assert manifest.find(deep) == tmp_path / "steps.toml"


# --- editing ---------------------------------------------------------------------------------


def test_adding_to_the_initial_manifest_keeps_every_comment_in_place() -> None:
    text = manifest_edit.INITIAL.format(name='"p"')

    for name, version in (("a", "^1"), ("b", "^2")):
        text = manifest_edit.with_template(text, name, GitRequirement(url=name, version=version))

    lines = text.splitlines()
    a = lines.index("[templates.a]")
    assert lines[a - 2 : a] == ["[templates]", ""]
    assert lines[lines.index("[variables]") - 1] == "# Variables every step can read as #{Name}."
    assert lines.index("[templates.b]") < lines.index("[variables]")
    remaining = iter(lines)
    assert all(line in remaining for line in manifest_edit.INITIAL.format(name='"p"').splitlines())
    assert tomllib.loads(text)["templates"] == {
        "a": {"git": "a", "version": "^1"},
        "b": {"git": "b", "version": "^2"},
    }


def test_adding_after_templates_defined_only_by_subtables() -> None:
    text = '# top\n[templates.one]  # first\ngit = "u"\n# about variables\n[variables]\nX = 1\n'

    edited = manifest_edit.with_template(text, "two", GitRequirement(url="v", tag="t"))

    assert edited == (
        '# top\n[templates.one]  # first\ngit = "u"\n\n[templates.two]\ngit = "v"\ntag = "t"\n'
        "\n# about variables\n[variables]\nX = 1\n"
    )


def test_adding_to_a_manifest_without_templates() -> None:
    edited = manifest_edit.with_template(
        '[project]\nname = "x"\n', "a", PathRequirement("p", Path())
    )

    assert tomllib.loads(edited) == {"project": {"name": "x"}, "templates": {"a": {"path": "p"}}}


def test_replacing_keeps_the_position() -> None:
    text = '[templates.a]\ngit = "u"\ntag = "v1"\n\n[templates.b]\ngit = "u"\n'

    edited = manifest_edit.with_template(text, "a", GitRequirement(url="w", branch="main"))

    assert edited == '[templates.a]\ngit = "w"\nbranch = "main"\n\n[templates.b]\ngit = "u"\n'


def test_templates_that_is_not_a_table() -> None:
    with pytest.raises(StepsError, match="'templates' must be a table to add 'a' to it"):
        manifest_edit.with_template("templates = 1\n", "a", GitRequirement(url="u"))


@pytest.mark.parametrize(
    ("url", "holds"),
    [
        ("https://user:tok@host/x.git", True),
        ("https://tok@host/x.git", True),
        ("ssh://git:pw@host/x.git", True),
        ("ssh://git@host/x.git", False),
        ("git@host:org/x.git", False),
        ("https://host/x.git", False),
        ("/srv/repos/x", False),
    ],
)
def test_credentials_in_urls(url: str, holds: bool) -> None:
    assert manifest.url_holds_credentials(url) is holds


def test_a_url_with_a_password_is_refused_without_showing_it(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[templates.a]\ngit = "https://me:hunter2@host/x.git"\n')
    assert message.startswith("steps.toml:2: template 'a': the URL has credentials written")
    assert "hunter2" not in message


def test_templates_from_one_repository_share_its_credentials(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        '[templates.a]\ngit = "https://h/x.git"\ntoken-env = "A"\n'
        '[templates.b]\ngit = "https://h/x.git"\nsubdir = "b"\ntoken-env = "B"\n',
    )
    assert message == (
        "steps.toml:7: templates 'a' and 'b' come from the same repository but give different "
        "token-env or username; give both the same settings"
    )


def test_dotted_variable_names(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        '[variables]\nPlain = "a"\n"Quoted.Name" = "b"\nDatabase.Host = "db"\n'
        "[variables.Site]\nPort = 8080\n",
    )
    assert values(loaded) == {
        "Plain": "a",
        "Quoted.Name": "b",
        "Database.Host": "db",
        "Site.Port": "8080",
    }


# --- scoped variables and the names they use -------------------------------------------------

SCOPED = """\
[project]
environments = ["UAT", "Production", "DR"]
tenants = ["Acme"]

[targets.web-01]
roles = ["web", "cache"]

[targets."db 01"]

[templates.t]
path = "t"

[[steps]]
name = "Deploy"
template = "t"

[variables]
LogLevel = "Info"
"Site[App1].Url" = "https://a"
ConnectionString = [
  { value = "Server=uat", environment = "UAT" },
  { value = "Server=prod", environment = ["Production", "DR"], role = "web" },
  { value = "Server=db", target = "db 01", tenant = "acme", step = ["Deploy"] },
]
[variables.Db]
Port = 5432
"""


def test_scoped_variables_and_declarations(tmp_path: Path) -> None:
    loaded = load(tmp_path, SCOPED)

    assert loaded.environments == ("UAT", "Production", "DR")
    assert loaded.tenants == ("Acme",)
    assert dict(loaded.targets) == {"web-01": ("web", "cache"), "db 01": ()}
    assert loaded.variables == (
        ScopedVariable("LogLevel", "Info", origin="steps.toml"),
        ScopedVariable("Site[App1].Url", "https://a", origin="steps.toml"),
        ScopedVariable(
            "ConnectionString", "Server=uat", scope=Scope(environment=("UAT",)), origin="steps.toml"
        ),
        ScopedVariable(
            "ConnectionString",
            "Server=prod",
            scope=Scope(environment=("Production", "DR"), role=("web",)),
            origin="steps.toml",
        ),
        ScopedVariable(
            "ConnectionString",
            "Server=db",
            scope=Scope(target=("db 01",), tenant=("acme",), step=("Deploy",)),
            origin="steps.toml",
        ),
        ScopedVariable("Db.Port", "5432", origin="steps.toml"),
    )
    assert [v.line for v in loaded.variables] == [18, 19, 21, 22, 23, 26]


def test_known_names_come_from_the_manifest_and_the_scopes(tmp_path: Path) -> None:
    loaded = load(tmp_path, SCOPED)
    extra = ScopedVariable("X", "1", scope=Scope(role=("queue",)), origin="vars.json")

    known = loaded.known_names([extra])

    assert known.declared("environment") == ("UAT", "Production", "DR")
    assert known.declared("target") == ("web-01", "db 01")
    assert known.accepted("role") == ("web", "cache", "queue")
    assert known.steps == ("Deploy",)


def test_without_declarations_scopes_may_name_anything(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        '[variables]\nA = [{ value = "x", environment = "Anywhere", target = "t", tenant = "u" }]\n',
    )
    assert loaded.variables[0].scope == Scope(
        environment=("Anywhere",), target=("t",), tenant=("u",)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[project]\nenvironments = ["UAT"]\n[variables]\n'
            'A = [\n  { value = "x" },\n  { value = "y", environment = "UTA" },\n]\n',
            "steps.toml:6: variable 'A' is scoped to environment 'UTA', which is not declared "
            "in [project] environments of steps.toml; did you mean 'UAT'?",
        ),
        (
            '[targets.web-01]\n[variables]\nA = [{ value = "x", target = "web-02" }]\n',
            "steps.toml:3: variable 'A' is scoped to target 'web-02', which is not declared in "
            "[targets] of steps.toml; did you mean 'web-01'?",
        ),
        (
            '[project]\ntenants = ["Acme"]\n[variables]\nA = [{ value = "x", tenant = "Acne" }]\n',
            "steps.toml:4: variable 'A' is scoped to tenant 'Acne', which is not declared",
        ),
        (
            '[templates.t]\npath = "t"\n[[steps]]\nname = "Deploy"\ntemplate = "t"\n'
            '[variables]\nA = [{ value = "x", step = "Depoly" }]\n',
            "steps.toml:7: variable 'A' is scoped to step 'Depoly', which is not a step in "
            "steps.toml; did you mean 'Deploy'?",
        ),
        (
            '[variables]\nA = [{ value = "x", step = "Deploy" }]\n',
            "steps.toml:2: variable 'A' is scoped to step 'Deploy', which is not a step in "
            "steps.toml; the process has no steps",
        ),
        (
            '[variables]\nA = [\n  { value = "x", enviroment = "UAT" },\n]\n',
            "steps.toml:3: variable 'A', scoped value 1: unknown key 'enviroment'; "
            "did you mean 'environment'?",
        ),
        (
            '[variables]\nA = [{ environment = "UAT" }]\n',
            "steps.toml:2: variable 'A', scoped value 1: 'value' is required",
        ),
        (
            '[variables]\nA = [{ value = "x", role = 3 }]\n',
            "steps.toml:2: variable 'A', scoped value 1: 'role' must be a name or a list of names",
        ),
        (
            "[variables]\nA = []\n",
            "steps.toml:2: variable 'A' has an empty array of scoped values",
        ),
        (
            "[variables.Db]\nWhen = 1979-05-27\n",
            "steps.toml:2: variable 'Db.When' must be a string, number or boolean, or an array",
        ),
        (
            '[project]\nenvironments = "UAT"\n',
            "steps.toml:2: 'project.environments' must be an array of strings",
        ),
        (
            '[project]\ntenants = ["Acme", ""]\n',
            "steps.toml:2: 'project.tenants' holds an empty string",
        ),
        (
            '[project]\nenvironments = ["UAT", "uat"]\n',
            "steps.toml:2: environment 'uat' is declared twice",
        ),
        (
            '[project]\nenviroments = ["UAT"]\n',
            "steps.toml:2: unknown key 'enviroments' in [project]; did you mean 'environments'?",
        ),
        ("targets = 1\n", "steps.toml:1: 'targets' must be a table"),
        ("[targets]\nweb = 1\n", "steps.toml:2: 'targets.web' must be a table"),
        (
            '[targets.web]\nrole = ["web"]\n',
            "steps.toml:2: unknown key 'role' in [targets.web]; did you mean 'roles'?",
        ),
        (
            '[targets.web]\nroles = ["web", "Web"]\n',
            "steps.toml:2: target 'web': role 'Web' is declared twice",
        ),
        (
            "[targets.Web]\n[targets.web]\n",
            "steps.toml:2: target 'web' is declared twice",
        ),
    ],
)
def test_scope_errors_point_at_the_line(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text).startswith(expected)
