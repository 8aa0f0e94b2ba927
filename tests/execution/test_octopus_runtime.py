"""What a step's script gets from a run, as Octopus templates expect: system variables,
helpers, script parameters, failure helpers and unresolved references."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from steptemplates.execution.runner import EXIT_STEP_ERROR
from steptemplates.templates.model import ParameterType
from steptemplates.variables import scoping
from steptemplates.variables.collection import Variable

from .runner_support import parameter, plan, run_plans, template

SYSTEM = [
    "Octopus.Project.Name",
    "Octopus.Project.Id",
    "Octopus.Project.Slug",
    "Octopus.Release.Number",
    "Octopus.Release.Id",
    "Octopus.Release.Notes",
    "Octopus.Environment.Name",
    "Octopus.Environment.Id",
    "Octopus.Tenant.Name",
    "Octopus.Tenant.Id",
    "Octopus.Machine.Name",
    "Octopus.Machine.Id",
    "Octopus.Space.Name",
    "Octopus.Space.Id",
    "Octopus.Deployment.Name",
    "Octopus.Deployment.CreatedBy.Username",
    "Octopus.Web.ServerUri",
    "Octopus.Web.BaseUrl",
    "Octopus.Web.ProjectLink",
    "Octopus.Web.ReleaseLink",
]


def _printer(root: Path, names: list[str]) -> str:
    return "".join(f'echo "{name}=$(get_octopusvariable {name})"\n' for name in names)


def _values(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_system_variables_come_from_the_project_and_the_context(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", _printer(tmp_path, SYSTEM))
    ran = run_plans(
        tmp_path,
        [plan("Show", used)],
        project_name="My Shop",
        context=scoping.Context(environment="Production", target="web-01", tenant="Acme Corp"),
        release_number="1.2.3",
        server_uri="https://octo.example/",
        space="Platform",
    )
    assert ran.step.status == "succeeded", ran.err
    assert _values(ran.out) == {
        "Octopus.Project.Name": "My Shop",
        "Octopus.Project.Id": "Projects-my-shop",
        "Octopus.Project.Slug": "my-shop",
        "Octopus.Release.Number": "1.2.3",
        "Octopus.Release.Id": "Releases-1-2-3",
        "Octopus.Release.Notes": "",
        "Octopus.Environment.Name": "Production",
        "Octopus.Environment.Id": "Environments-production",
        "Octopus.Tenant.Name": "Acme Corp",
        "Octopus.Tenant.Id": "Tenants-acme-corp",
        "Octopus.Machine.Name": "web-01",
        "Octopus.Machine.Id": "Machines-web-01",
        "Octopus.Space.Name": "Platform",
        "Octopus.Space.Id": "Spaces-1",
        "Octopus.Deployment.Name": "Deploy to Production",
        "Octopus.Deployment.CreatedBy.Username": getpass.getuser(),
        # A trailing slash is dropped, so "#{Octopus.Web.ServerUri}/app" is one URL.
        "Octopus.Web.ServerUri": "https://octo.example",
        "Octopus.Web.BaseUrl": "https://octo.example",
        "Octopus.Web.ProjectLink": "/app#/Spaces-1/projects/my-shop",
        "Octopus.Web.ReleaseLink": "/app#/Spaces-1/releases/Releases-1-2-3",
    }


def test_run_ids_and_links_without_server_uri_or_release_number(tmp_path: Path) -> None:
    names = [
        "Octopus.Deployment.Id",
        "Octopus.Task.Id",
        "Octopus.Release.Number",
        "Octopus.Web.ServerUri",
        "Octopus.Web.DeploymentLink",
        "Octopus.Space.Name",
        "Octopus.Deployment.Created",
        "Octopus.Tenant.Name",
    ]
    used = template(tmp_path / "t", "bash", _printer(tmp_path, names))
    ran = run_plans(tmp_path, [plan("Show", used)])
    values = _values(ran.out)
    run_id = ran.outcome.record.run_id
    assert values["Octopus.Deployment.Id"] == run_id
    assert values["Octopus.Task.Id"] == f"ServerTasks-{run_id}"
    assert values["Octopus.Release.Number"] == run_id
    assert values["Octopus.Web.ServerUri"] == ""
    assert values["Octopus.Web.DeploymentLink"] == f"/app#/Spaces-1/deployments/{run_id}"
    assert values["Octopus.Space.Name"] == "Default"
    assert values["Octopus.Deployment.Created"].startswith(ran.outcome.record.started[:10])
    # Without --tenant the tenant is not defined at all, as in an untenanted deployment.
    assert values["Octopus.Tenant.Name"] == ""


def test_project_variables_files_and_overrides_replace_system_variables(tmp_path: Path) -> None:
    names = ["Octopus.Environment.Name", "Octopus.Release.Number", "Octopus.Web.ServerUri"]
    used = template(tmp_path / "t", "bash", _printer(tmp_path, names))
    ran = run_plans(
        tmp_path,
        [plan("Show", used)],
        context=scoping.Context(environment="Production"),
        server_uri="https://octo.example",
        project_variables=[Variable("Octopus.Environment.Name", "from-project")],
        file_variables=[Variable("Octopus.Web.ServerUri", "https://from-file")],
        overrides=[Variable("Octopus.Release.Number", "9.9.9")],
    )
    assert _values(ran.out) == {
        "Octopus.Environment.Name": "from-project",
        "Octopus.Release.Number": "9.9.9",
        "Octopus.Web.ServerUri": "https://from-file",
    }


@pytest.mark.parametrize(
    ("server_uri", "expected"),
    [("https://octo.example", "https://octo.example/app"), (None, "/app")],
)
def test_a_default_built_from_system_variables_is_evaluated(
    tmp_path: Path, server_uri: str | None, expected: str
) -> None:
    defaults = [
        parameter("Link", default="#{Octopus.Web.ServerUri}/app"),
        parameter("Title", default="#{Octopus.Project.Name} #{Octopus.Release.Number}"),
    ]
    body = 'echo "$(get_octopusvariable Link)|#{Title}"\n'
    used = template(tmp_path / "t", "bash", body, defaults)
    ran = run_plans(tmp_path, [plan("Show", used)], server_uri=server_uri, release_number="4.0")
    assert ran.out == f"{expected}|shop 4.0\n"


def test_bash_lookups_are_exact_case_and_unknown_names_are_empty(tmp_path: Path) -> None:
    # slack-detailed reads includeFieldMachine while its parameter is IncludeFieldMachine.
    body = (
        'echo "[$(get_octopusvariable includeFieldMachine)]'
        '[$(get_octopusvariable IncludeFieldMachine)][$(get_octopusvariable Nowhere)]"\n'
    )
    used = template(
        tmp_path / "t", "bash", body, [parameter("IncludeFieldMachine", default="True")]
    )
    ran = run_plans(tmp_path, [plan("Show", used)])
    assert ran.out == "[][True][]\n"


def test_python_lookups_raise_key_error_and_helpers_need_no_import(tmp_path: Path) -> None:
    body = (
        "try:\n"
        "    get_octopusvariable('region')\n"
        "except KeyError as error:\n"
        "    print('KeyError', error)\n"
        "print(get_octopusvariable('Region'))\n"
        "print(sys.argv[1:], os.sep, base64.b64encode(b'ok').decode())\n"
    )
    used = template(tmp_path / "t", "python", body, [parameter("Region", default="eu")])
    ran = run_plans(tmp_path, [plan("Show", used)])
    assert ran.out == "KeyError 'region'\neu\n[] / b2s=\n"


SHOW_ARGUMENTS = 'echo "$#"; for word in "$@"; do echo "<$word>"; done\n'


def test_script_parameters_are_evaluated_and_split_into_words(tmp_path: Path) -> None:
    used = template(
        tmp_path / "t",
        "bash",
        SHOW_ARGUMENTS,
        [parameter("Who", default="Ann Lee")],
        script_parameters="--name \"#{Who}\" 'single quoted' plain\\ word #{Missing}",
    )
    ran = run_plans(tmp_path, [plan("Show", used)])
    assert ran.out.splitlines() == [
        "5",
        "<--name>",
        "<Ann Lee>",
        "<single quoted>",
        "<plain word>",
        "<#{Missing}>",
    ]


def test_script_parameters_reach_python_as_argv(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "python", "print(sys.argv[1:])\n", script_parameters="-x 'a b'")
    ran = run_plans(tmp_path, [plan("Show", used)])
    assert ran.out == "['-x', 'a b']\n"


@pytest.mark.parametrize(
    ("syntax", "body", "expected"),
    [("bash", SHOW_ARGUMENTS, "0\n"), ("python", "print(sys.argv[1:])\n", "[]\n")],
)
def test_without_script_parameters_there_are_no_positional_parameters(
    tmp_path: Path, syntax: str, body: str, expected: str
) -> None:
    ran = run_plans(tmp_path, [plan("Show", template(tmp_path / "t", syntax, body))])
    assert ran.out == expected


def test_script_parameters_with_unbalanced_quotes_fail_the_step(tmp_path: Path) -> None:
    used = template(
        tmp_path / "t",
        "bash",
        "echo ran\n",
        [parameter("Token", ParameterType.SENSITIVE, default="s3cr3t-value")],
        name="Notify - Send",
        script_parameters="--token '#{Token}",
    )
    ran = run_plans(tmp_path, [plan("Notify", used)])
    assert ran.step.status == "failed"
    assert ran.step.exit_code == EXIT_STEP_ERROR
    assert ran.step.message is not None
    assert "template 'Notify - Send': its script parameters cannot be split" in ran.step.message
    assert "ran" not in ran.out
    assert "s3cr3t-value" not in ran.err + (ran.step.message or "")


def test_run_script_parameters_follow_the_templates(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", SHOW_ARGUMENTS, script_parameters="first")
    ran = run_plans(tmp_path, [plan("Show", used)], script_parameters=("second",))
    assert ran.out == "2\n<first>\n<second>\n"


@pytest.mark.parametrize(
    ("syntax", "body", "code"),
    [
        ("bash", "fail_step 'disk is full'\necho not reached\n", 1),
        ("python", "failstep('disk is full')\nprint('not reached')\n", 255),
    ],
)
def test_failing_a_step_from_the_script(tmp_path: Path, syntax: str, body: str, code: int) -> None:
    ran = run_plans(tmp_path, [plan("Check", template(tmp_path / "t", syntax, body))])
    assert (ran.step.status, ran.step.exit_code, ran.step.message) == (
        "failed",
        code,
        "disk is full",
    )
    assert ran.outcome.exit_code == code
    assert "not reached" not in ran.out


def test_unresolved_references_stay_in_the_script_as_written(tmp_path: Path) -> None:
    # Templates test for the echo: case "$V" in "#""{"*) V=fallback;; esac
    body = (
        "echo '#{Nowhere} #{Nowhere | ToUpper} #{Known}'\n"
        'V="#{Optional}"; case "$V" in "#""{"*) V=fallback;; esac; echo "$V"\n'
    )
    used = template(tmp_path / "t", "bash", body, [parameter("Known", default="k")])
    ran = run_plans(tmp_path, [plan("Show", used)])
    assert ran.out == "#{Nowhere} #{Nowhere | ToUpper} k\nfallback\n"
