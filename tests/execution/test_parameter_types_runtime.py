"""Parameter types when a step runs: packages, step names, accounts, selects, and project
variables named like parameters."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.execution.runner import EXIT_STEP_ERROR, PackagePlan
from steptemplates.packages.identity import PackageIdentity
from steptemplates.templates.model import ParameterType, Template
from steptemplates.variables import scoping
from steptemplates.variables.collection import Variable

from .runner_support import parameter, plan, run_plans, template

PACKAGE_VARIABLES = (
    "PackageId",
    "PackageVersion",
    "FeedId",
    "PackageFilePath",
    "OriginalPath",
    "ExtractedPath",
)
SHOW_PACKAGE = "".join(
    f'echo "{suffix}=$(get_octopusvariable "Octopus.Action.Package[Web].{suffix}")"\n'
    for suffix in PACKAGE_VARIABLES
) + (
    'echo "workdir=$(get_octopusvariable Steps.Step.WorkingDirectory)"\n'
    'cat "#{Octopus.Action.Package[Web].ExtractedPath}/site/index.html"\n'
)


def _values(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "Acme.Web.1.2.3.zip"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("site/index.html", "<h1>acme</h1>\n")
    return path


@pytest.fixture
def packages(archive: Path, tmp_path: Path) -> dict[str, PackagePlan]:
    return {
        "web": PackagePlan(archive, PackageIdentity("Acme.Web", "1.2.3"), tmp_path / "apps"),
    }


def _package_template(tmp_path: Path, required: bool = True) -> Template:
    return template(
        tmp_path / "t",
        "bash",
        SHOW_PACKAGE,
        [parameter("Web", ParameterType.PACKAGE, required=required)],
    )


def test_a_package_parameter_names_a_project_package_which_is_extracted(
    tmp_path: Path, archive: Path, packages: dict[str, PackagePlan]
) -> None:
    step = plan("Deploy", _package_template(tmp_path), {"Web": "web"})
    ran = run_plans(tmp_path, [step], packages=packages, keep_workdir=True)
    assert ran.step.status == "succeeded", ran.err
    values = _values(ran.out)
    workdir = Path(values.pop("workdir"))
    assert values == {
        "PackageId": "Acme.Web",
        "PackageVersion": "1.2.3",
        "FeedId": "",
        "PackageFilePath": str(archive),
        "OriginalPath": str(archive),
        "ExtractedPath": str(workdir / "Web"),
    }
    assert "<h1>acme</h1>" in ran.out
    assert (workdir / "Web" / "site" / "index.html").is_file()


def test_package_variables_are_there_for_other_values_to_use(
    tmp_path: Path, packages: dict[str, PackagePlan]
) -> None:
    used = template(
        tmp_path / "t",
        "bash",
        'cat "#{SiteRoot}/index.html"\n',
        [parameter("Web", ParameterType.PACKAGE)],
    )
    project = [
        Variable("Which", "web"),
        Variable("SiteRoot", "#{Octopus.Action.Package[Web].ExtractedPath}/site"),
    ]
    ran = run_plans(
        tmp_path,
        [plan("Deploy", used, {"Web": "#{Which}"})],
        packages=packages,
        project_variables=project,
    )
    assert ran.out == "<h1>acme</h1>\n", ran.err


def test_octopus_json_form_names_a_package_by_id(
    tmp_path: Path, packages: dict[str, PackagePlan]
) -> None:
    value = json.dumps({"PackageId": "acme.web", "FeedId": "feeds-builtin"})
    ran = run_plans(
        tmp_path, [plan("Deploy", _package_template(tmp_path), {"Web": value})], packages=packages
    )
    assert ran.step.status == "succeeded", ran.err
    values = _values(ran.out)
    assert (values["PackageId"], values["FeedId"]) == ("Acme.Web", "feeds-builtin")


def test_a_path_to_an_archive_or_a_directory_works_without_a_project_package(
    tmp_path: Path, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "unpacked"
    (site / "site").mkdir(parents=True)
    (site / "site" / "index.html").write_text("<h1>local</h1>\n")
    monkeypatch.chdir(tmp_path)
    by_archive = run_plans(
        tmp_path, [plan("Deploy", _package_template(tmp_path), {"Web": archive.name})]
    )
    assert by_archive.step.status == "succeeded", by_archive.err
    assert _values(by_archive.out)["PackageVersion"] == "1.2.3"
    assert "<h1>acme</h1>" in by_archive.out

    by_directory = run_plans(
        tmp_path, [plan("Deploy", _package_template(tmp_path), {"Web": "unpacked"})]
    )
    assert by_directory.step.status == "succeeded", by_directory.err
    values = _values(by_directory.out)
    # A directory is used where it is, and is no package file.
    assert values["ExtractedPath"] == values["OriginalPath"] == str(site)
    assert values["PackageFilePath"] == ""
    assert values["PackageId"] == "unpacked"
    assert "<h1>local</h1>" in by_directory.out


def test_an_unknown_package_fails_the_step_naming_the_known_ones(
    tmp_path: Path, packages: dict[str, PackagePlan]
) -> None:
    step = plan("Deploy", _package_template(tmp_path), {"Web": "api"})
    ran = run_plans(tmp_path, [step], packages=packages)
    assert (ran.step.status, ran.step.exit_code) == ("failed", EXIT_STEP_ERROR)
    assert ran.step.message == (
        "step 'Deploy': package parameter 'Web' names 'api', which is not a package of the "
        "project, nor a package file or directory; known packages: web"
    )
    assert ran.out == ""


def test_an_empty_optional_package_parameter_adds_no_variables(tmp_path: Path) -> None:
    body = (
        'for n in "${!octopus_parameters[@]}"; do case "$n" in *Package*) echo "$n";; esac; done\n'
    )
    used = template(
        tmp_path / "t", "bash", body, [parameter("Web", ParameterType.PACKAGE, required=False)]
    )
    ran = run_plans(tmp_path, [plan("Deploy", used)])
    assert ran.step.status == "succeeded", ran.err
    assert ran.out == ""


def test_a_step_name_parameter_must_name_a_step_of_the_process(tmp_path: Path) -> None:
    used = template(
        tmp_path / "t",
        "bash",
        'echo "after #{Previous}"\n',
        [parameter("Previous", ParameterType.STEP_NAME)],
    )
    good = run_plans(tmp_path, [plan("Build", used, {"Previous": "build"}), plan("Verify", used)])
    assert [s.status for s in good.steps] == ["succeeded", "succeeded"]
    assert good.out.startswith("after build\n")

    bad = run_plans(tmp_path, [plan("Verify", used, {"Previous": "Deploy"})])
    assert bad.step.message == (
        "step 'Verify': parameter 'Previous' names step 'Deploy', which is not a step of the "
        "process; steps: Verify"
    )
    # The whole process counts, not only the steps this run selects.
    whole = run_plans(
        tmp_path,
        [plan("Verify", used, {"Previous": "Deploy"})],
        process_steps=("Deploy", "Verify"),
    )
    assert whole.step.status == "succeeded", whole.err


AWS = [parameter("AwsAccount", ParameterType.AWS_ACCOUNT)]
SHOW_ACCOUNT = (
    'echo "account=$(get_octopusvariable AwsAccount)"\n'
    'echo "key=#{AwsAccount.AccessKey}"\n'
    'echo "secret=$(get_octopusvariable AwsAccount.SecretKey)"\n'
)


def test_account_fields_are_variables_and_secret_fields_are_masked(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", SHOW_ACCOUNT, AWS)
    step = plan(
        "Upload", used, {"AwsAccount.AccessKey": "AKIA-1", "AwsAccount.SecretKey": "wJal-9"}
    )
    ran = run_plans(tmp_path, [step])
    assert ran.step.status == "succeeded", ran.err
    # Given only by its fields, the account is named after its parameter.
    assert ran.out == "account=AwsAccount\nkey=AKIA-1\nsecret=********\n"


def test_a_secret_field_is_masked_wherever_its_value_comes_from(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", SHOW_ACCOUNT, AWS)
    ran = run_plans(
        tmp_path,
        [plan("Upload", used, {"AwsAccount": "prod"})],
        project_variables=[Variable("AwsAccount.AccessKey", "AKIA-2")],
        overrides=[Variable("AwsAccount.SecretKey", "from-the-command-line")],
    )
    assert ran.step.status == "succeeded", ran.err
    assert ran.out == "account=prod\nkey=AKIA-2\nsecret=********\n"
    assert "from-the-command-line" not in ran.err


def test_an_account_without_any_field_fails_listing_the_variables(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", SHOW_ACCOUNT, AWS)
    ran = run_plans(tmp_path, [plan("Upload", used, {"AwsAccount": "prod"})])
    assert ran.step.message == (
        "step 'Upload': parameter 'AwsAccount' names account 'prod', but none of its fields "
        "is set; give them under [steps.parameters.AwsAccount] or as variables: "
        "AwsAccount.AccessKey, AwsAccount.SecretKey"
    )


def test_only_known_account_fields_are_accepted_as_step_values(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", SHOW_ACCOUNT, AWS)
    with pytest.raises(StepsError, match=r"has no parameter 'AwsAccount\.Region'"):
        run_plans(tmp_path, [plan("Upload", used, {"AwsAccount.Region": "eu"})])


def test_a_select_default_outside_its_options_is_accepted(tmp_path: Path) -> None:
    region = parameter("Region", ParameterType.SELECT, default="global", options=["eu", "us"])
    used = template(tmp_path / "t", "bash", 'echo "#{Region}"\n', [region])
    assert run_plans(tmp_path, [plan("Show", used)]).out == "global\n"
    rejected = run_plans(tmp_path, [plan("Show", used, {"Region": "asia"})])
    assert rejected.step.message == (
        "step 'Show': parameter 'Region' must be one of eu, us, not 'asia'"
    )


def test_a_project_variable_never_sets_a_parameter_and_is_warned_about_once(
    tmp_path: Path,
) -> None:
    used = template(
        tmp_path / "t",
        "bash",
        'echo "#{Region} #{Other}"\n',
        [parameter("Region", default="us")],
        name="Deploy - Web",
    )
    project = [
        scoping.ScopedVariable("region", "from-project"),
        scoping.ScopedVariable("region", "prod-project", scope=scoping.Scope(environment=("P",))),
        scoping.ScopedVariable("Other", "kept"),
    ]
    ran = run_plans(
        tmp_path,
        [plan("Blue", used), plan("Green", used, {"Region": "eu"})],
        project_variables=project,
        context=scoping.Context(environment="P"),
    )
    assert ran.out == "us kept\neu kept\n"
    warnings = [line for line in ran.err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: project variable 'region' has the name of parameter 'Region' of template "
        "'Deploy - Web' (steps 'Blue', 'Green'); the parameter keeps the step's value or the "
        "template's default. Rename the variable and pass it as the step's parameter: "
        'Region = "#{NewName}"'
    ]


def test_files_and_overrides_still_set_parameters(tmp_path: Path) -> None:
    declared = [parameter("Region", default="us"), parameter("Tier", default="web")]
    used = template(tmp_path / "t", "bash", 'echo "#{Region} #{Tier}"\n', declared)
    ran = run_plans(
        tmp_path,
        [plan("Show", used)],
        # A scoped project value would beat an unscoped file value, but is left out.
        project_variables=[
            scoping.ScopedVariable("Tier", "p", scope=scoping.Scope(environment=("P",)))
        ],
        file_variables=[Variable("Tier", "from-file")],
        overrides=[Variable("Region", "from-v")],
        context=scoping.Context(environment="P"),
    )
    assert ran.out == "from-v from-file\n"


def test_a_project_variable_that_is_no_parameter_reaches_the_script(tmp_path: Path) -> None:
    used = template(tmp_path / "t", "bash", 'echo "#{Region}"\n')
    ran = run_plans(tmp_path, [plan("Show", used)], project_variables=[Variable("Region", "eu")])
    assert ran.out == "eu\n"
    assert "warning" not in ran.err
