"""Deploying the sample package (tests/data/packages/acme-web) with every feature on.

The package is a small web application: Web.config with Web.Release.config, appsettings.json,
config.yaml, app.properties, a JavaScript file with #{...} tokens, and PreDeploy.sh,
Deploy.py, PostDeploy.sh and DeployFailed.sh. Hook scripts attached to the stages append
their names to a log, so the order in which things really ran is checked, not only the
order the report claims.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from steptemplates.deploy_settings import STAGE_NAMES
from tests.support.projects import Steps

DATA = Path(__file__).parent.parent / "data" / "packages"
PACKAGE = DATA / "acme-web"
EXPECTED = DATA / "acme-web-expected"
HOOKS = ("BeforePreDeploy", "AfterPreDeploy", "BeforeDeploy", "AfterDeploy",
         "BeforePostDeploy", "AfterPostDeploy")  # fmt: skip
SCRIPT_STAGES = ("PreDeploy", "Deploy", "PostDeploy")


def build_package(directory: Path) -> Path:
    """The sample as Acme.Web.1.2.0.zip, with the scripts executable as a build would make them."""
    archive = directory / "Acme.Web.1.2.0.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as package:
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(PACKAGE).as_posix(), (2026, 1, 2, 3, 4, 6))
                info.external_attr = (0o755 if path.suffix == ".sh" else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                package.writestr(info, path.read_bytes())
    return archive


def hook(stage: str, extra: str = "") -> str:
    return (
        f"[steps.scripts.{stage}]\n"
        f"bash = '''echo {stage} >> \"$(get_octopusvariable StageLog)\"\n{extra}'''\n"
    )


def write_project(steps: Steps, *, hooks: dict[str, str] | None = None, variables: str = "") -> Path:
    project = steps.directory
    build_package(project)
    site = project.parent / "site"
    hooks = hooks if hooks is not None else {}
    scripts = "".join(hook(stage, hooks.get(stage, "")) for stage in HOOKS)
    scripts += "".join(hook(stage, extra) for stage, extra in hooks.items() if stage not in HOOKS)
    (project / "steps.toml").write_text(
        f"""
[project]
name = "acme"
environments = ["Production"]

[packages.web]
path = "Acme.Web.1.2.0.zip"

[variables]
StageLog = "{project / 'stages.log'}"
ApiUrl = "https://api.acme.example"
ApiServers = "web-a.acme,web-b.acme"
Environment = "Production"
CdnUrl = "https://cdn.acme.example"
Main = "Server=db.acme;Database=Acme;User Id=web"
"Logging:LogLevel:Default" = "Warning"
"ConnectionStrings:Main" = "Server=db.acme;Database=acme"
"Servers:1:Port" = "9443"
"Features:Beta" = "true"
"worker:queue" = "acme-prod"
"worker:endpoints:1" = "https://queue-2.acme.example"
"app.url" = "https://acme.example"
"app.mode" = "production"
{variables}

[[steps]]
name = "Deploy web"
package = "web"

[steps.deploy]
substitute-files = ["wwwroot/*.js"]
transforms = true
config-variables = true
structured-files = ["appsettings.json", "config.yaml", "app.properties"]
custom-directory = "{site}"
purge = true
purge-exclude = ["logs/**"]

{scripts}
""",
        encoding="utf-8",
    )
    return site


def tree(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def stage_log(steps: Steps) -> list[str]:
    log = steps.directory / "stages.log"
    return log.read_text().splitlines() if log.exists() else []


def report(steps: Steps) -> dict:  # type: ignore[type-arg]
    return json.loads((steps.directory / "r.json").read_text())


def stages_of(steps: Steps) -> list[tuple[str, str]]:
    return [(s["name"], s["status"]) for s in report(steps)["steps"][0]["stages"]]


@pytest.fixture(autouse=True)
def applications(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "Applications"
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", str(root))
    return root


def test_every_feature_in_the_documented_order(steps: Steps, applications: Path) -> None:
    site = write_project(
        steps,
        hooks={
            "AfterSubstituteInFiles": "grep -q https://api.acme.example wwwroot/settings.js\n"
            "grep -q 'debug=\"true\"' Web.config",
            "BeforeCustomInstallationDirectory": "grep -q acme-prod config.yaml",
        },
    )
    (site / "logs").mkdir(parents=True)
    (site / "logs" / "app.log").write_text("kept by the purge exclusion\n")
    (site / "stale.txt").write_text("removed by the purge\n")

    result = steps("run", "--environment", "Production", "--release-number", "1.2.0",
                   "--report", "r.json")  # fmt: skip

    assert result.code == 0, result.err
    # The stages, in Calamari's order, after the extraction.
    assert [name for name, _ in stages_of(steps)] == ["ExtractPackage", *STAGE_NAMES]
    skipped = {name for name, status in stages_of(steps) if status == "skipped"}
    assert skipped == {"DeletePackageFiles", "IisWebSite"}
    assert stage_log(steps) == [
        "BeforePreDeploy", "PreDeploy", "AfterPreDeploy", "AfterSubstituteInFiles",
        "BeforeCustomInstallationDirectory", "BeforeDeploy", "Deploy", "AfterDeploy",
        "BeforePostDeploy", "PostDeploy", "AfterPostDeploy",
    ]  # fmt: skip
    # Extracted under <root>/<environment>/<id>/<version>; the custom folder gets a copy.
    extracted = applications / "Production" / "Acme.Web" / "1.2.0"
    assert tree(extracted) == tree(EXPECTED)
    deployed = tree(site)
    assert deployed.pop("logs/app.log") == b"kept by the purge exclusion\n"
    assert deployed == tree(EXPECTED)
    record = report(steps)["steps"][0]
    assert record["installation_directory"] == str(extracted)
    assert record["output_variables"]["DeployedFrom"] == str(site)
    assert record["output_variables"]["Octopus.Action.Package.InstallationDirectoryPath"] == str(
        site
    )
    assert record["output_variables"]["Package.ExtractedFileCount"] == str(len(tree(PACKAGE)))


def test_a_second_deployment_gets_its_own_directory_and_is_journaled(
    steps: Steps, applications: Path
) -> None:
    write_project(steps)
    assert steps("run", "--environment", "Production").code == 0
    assert steps("run", "--environment", "Production").code == 0

    assert (applications / "Production" / "Acme.Web" / "1.2.0_1").is_dir()
    listed = steps("deployments", "list", "--json")
    entries = json.loads(listed.out)
    assert [(e["id"], e["version"], e["successful"]) for e in entries] == [
        (1, "1.2.0", True),
        (2, "1.2.0", True),
    ]


# --- failures ------------------------------------------------------------------------------


def failing_at(stage: str) -> tuple[dict[str, str], str]:
    """Hooks and variables that make ``stage`` fail with exit code 3."""
    if stage in SCRIPT_STAGES:
        # The packaged script fails: PostDeploy by fail_step, the others through a hook
        # script of the same stage (Octopus's configured script), which runs in that stage.
        if stage == "PostDeploy":
            return {}, "FailPostDeploy = \"True\""
        return {stage: "exit 3"}, ""
    if stage in HOOKS:
        return {stage: "exit 3"}, ""
    return {f"Before{stage}": "exit 3"}, ""


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_a_failure_at_any_stage_runs_deploy_failed_and_skips_the_rest(
    steps: Steps, stage: str
) -> None:
    hooks, variables = failing_at(stage)
    write_project(steps, hooks=hooks, variables=variables)

    result = steps("run", "--environment", "Production", "--report", "r.json")

    number = STAGE_NAMES.index(stage) + 1
    expected_code = 1 if stage == "PostDeploy" else 3
    assert result.code == expected_code, result.err
    statuses = dict(stages_of(steps))
    assert statuses[stage] == "failed"
    assert all(statuses[later] == "not-run" for later in STAGE_NAMES[number:])
    assert all(statuses[earlier] != "failed" for earlier in STAGE_NAMES[: number - 1])
    assert statuses["DeployFailed"] == "succeeded"
    log = stage_log(steps)
    assert log[-1].startswith(f"DeployFailed: stage {number} ")
    message = report(steps)["steps"][0]["message"]
    assert message.startswith(f"stage {number} (")
    assert "script " in message  # the script that failed is named


def test_a_failing_deploy_failed_script_is_reported_with_the_first_failure(steps: Steps) -> None:
    write_project(steps, hooks={"BeforeDeploy": "exit 4", "DeployFailed": "exit 5"})

    result = steps("run", "--environment", "Production", "--report", "r.json")

    assert result.code == 4
    message = report(steps)["steps"][0]["message"]
    assert message.startswith("stage 10 (BeforeDeploy scripts) failed: script ")
    assert "exited with code 4" in message
    assert "the DeployFailed script also failed" in message
    assert "exited with code 5" in message
    assert dict(stages_of(steps))["DeployFailed"] == "failed"


SKIPPABLE = (*HOOKS, *SCRIPT_STAGES)


@pytest.mark.parametrize("stage", SKIPPABLE)
def test_skip_remaining_conventions_from_any_script_stage(steps: Steps, stage: str) -> None:
    skip = "set_octopusvariable Octopus.Action.SkipRemainingConventions True"
    write_project(steps, hooks={stage: skip})

    result = steps("run", "--environment", "Production", "--report", "r.json")

    assert result.code == 0, result.err
    number = STAGE_NAMES.index(stage) + 1
    statuses = dict(stages_of(steps))
    assert statuses[stage] == "succeeded"
    assert all(statuses[later] == "skipped" for later in STAGE_NAMES[number:])
    assert "DeployFailed" not in statuses
    log = stage_log(steps)
    assert log[-1] == ("PreDeploy" if stage == "PreDeploy" else stage)
    assert not any(entry.startswith("DeployFailed") for entry in log)


def test_deploy_package_reads_octopus_variables_unchanged(
    tmp_path: Path, steps: Steps, applications: Path
) -> None:
    package = build_package(tmp_path)
    variables = tmp_path / "variables.json"
    variables.write_text(json.dumps([
        {"k": "Octopus.Action.Name", "v": "Deploy web", "s": False},
        {"k": "Octopus.Environment.Name", "v": "Staging", "s": False},
        {"k": "Octopus.Action.EnabledFeatures",
         "v": "Octopus.Features.SubstituteInFiles,Octopus.Features.JsonConfigurationVariables",
         "s": False},
        {"k": "Octopus.Action.SubstituteInFiles.TargetFiles", "v": "wwwroot/*.js", "s": False},
        {"k": "Octopus.Action.Package.JsonConfigurationVariablesTargets",
         "v": "appsettings.json", "s": False},
        {"k": "Logging:LogLevel:Default", "v": "Error", "s": False},
        {"k": "ApiUrl", "v": "https://staging.acme.example", "s": False},
        {"k": "StageLog", "v": str(tmp_path / "log"), "s": False},
    ]))  # fmt: skip

    result = steps("deploy-package", "--package", str(package), "--variables", str(variables))

    assert result.code == 0, result.err
    installed = applications / "Staging" / "Acme.Web" / "1.2.0"
    assert '"Default": "Error"' in (installed / "appsettings.json").read_text()
    assert 'apiUrl: "https://staging.acme.example"' in (installed / "wwwroot/settings.js").read_text()
    # XML transforms were not turned on, so Web.config is as packaged.
    assert (installed / "Web.config").read_bytes() == (PACKAGE / "Web.config").read_bytes()
    assert (tmp_path / "log").read_text().splitlines() == ["PreDeploy", "Deploy", "PostDeploy"]
