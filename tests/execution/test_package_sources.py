"""Package steps whose package comes from git (tags as versions) or a local directory,
locked like templates; and package failures seen through `steps run`."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from steptemplates import lockfile
from steptemplates.variables.calamari_crypto import encrypt_variables
from tests.support.gitserver import ServedRepo
from tests.support.projects import Steps


@pytest.fixture(autouse=True)
def applications(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "Applications"
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", str(root))
    return root


def release(repo: ServedRepo, version: str) -> None:
    repo.write("app/config.json", json.dumps({"Version": "dev", "Port": 1}) + "\n")
    repo.write("app/Deploy.sh", 'echo "deployed $(get_octopusvariable Octopus.Action.Package.PackageVersion)"\n')
    repo.write("README.md", f"release {version}\n")
    repo.commit(f"release {version}")
    repo.tag(f"v{version}", message=version)


def test_a_package_from_git_is_locked_and_deployed_at_its_tag(
    steps: Steps, remote_repo: Callable[[str], ServedRepo], applications: Path
) -> None:
    repo = remote_repo("web-release")
    release(repo, "1.0.0")
    release(repo, "1.1.0")
    steps.manifest.write_text(f"""
[packages.web]
git = "{repo.http_url}"
subdir = "app"
version = "^1.0"

[variables]
"Port" = "8080"

[[steps]]
name = "web"
package = "web"
[steps.deploy]
structured-files = ["config.json"]
""")

    result = steps("run")

    assert result.code == 0, result.err
    assert "deployed 1.1.0" in result.out
    installed = applications / "web" / "1.1.0"
    assert json.loads((installed / "config.json").read_text()) == {"Version": "dev", "Port": 8080}
    assert not (installed / "README.md").exists()  # only the subdir is the package
    locked = lockfile.load(steps.lock_path)
    assert locked is not None
    entry = locked.packages["web"]
    assert (entry.source, entry.version, entry.tag) == ("git", "1.1.0", "v1.1.0")
    assert entry.integrity and entry.integrity.startswith("sha256-")
    assert "[[package]]" in steps.lock_path.read_text()
    # Offline and frozen, from the cache alone.
    assert steps("run", "--frozen", "--offline").code == 0
    assert (applications / "web" / "1.1.0_1").is_dir()


def test_a_directory_package_uses_its_version(steps: Steps, applications: Path) -> None:
    site = steps.directory / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>#{Title}</h1>\n")
    steps.manifest.write_text("""
[packages.site]
path = "site"
version = "2.0.0"
[variables]
Title = "Hello"
[[steps]]
name = "site"
package = "site"
[steps.deploy]
substitute-files = ["*.html"]
""")

    assert steps("run").code == 0

    assert (applications / "site" / "2.0.0" / "index.html").read_text() == "<h1>Hello</h1>\n"
    assert (site / "index.html").read_text() == "<h1>#{Title}</h1>\n"  # the source is untouched
    assert steps("lock").code == 0
    assert 'version = "2.0.0"' in steps.lock_path.read_text()


def write_zip_project(steps: Steps, files: dict[str, str], deploy: str, variables: str = "") -> None:
    with zipfile.ZipFile(steps.directory / "App.1.0.0.zip", "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    steps.manifest.write_text(f"""
[packages.app]
path = "App.1.0.0.zip"
[variables]
{variables}
[[steps]]
name = "app"
package = "app"
[steps.deploy]
{deploy}
""")


def run_and_report(steps: Steps) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = steps("run", "--report", "r.json")
    record = json.loads((steps.directory / "r.json").read_text())["steps"][0]
    record["output"] = result.out
    return result.code, record


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("appsettings.json", '{"Port": 1,,}', "appsettings.json: it is not valid JSON"),
        ("config.yaml", "a: [1, 2\nb: 3\n", "config.yaml"),
        ("settings.xml", "<a><b></a>", "settings.xml"),
    ],
)
def test_an_unparseable_structured_target_fails_naming_the_file(
    steps: Steps, name: str, text: str, reason: str
) -> None:
    write_zip_project(
        steps,
        {name: text, "DeployFailed.sh": "echo rollback ran\n"},
        f'structured-files = ["{name}"]',
        '"Port" = "2"',
    )

    code, record = run_and_report(steps)

    assert code == 2
    assert record["message"].startswith(
        "stage 8 (structured configuration variables) failed: Structured variable "
        "replacement failed on "
    )
    assert reason in record["message"]
    assert "rollback ran" in record["output"]


def test_a_transform_that_matches_nothing_fails_the_step(steps: Steps) -> None:
    write_zip_project(
        steps,
        {
            "Web.config": "<configuration><appSettings /></configuration>\n",
            "Web.Release.config": '<configuration xmlns:xdt="http://schemas.microsoft.com/'
            'XML-Document-Transform">\n  <system.web xdt:Transform="Remove" />\n'
            "</configuration>\n",
        },
        "transforms = true",
    )

    code, record = run_and_report(steps)

    assert code == 2
    assert record["message"].startswith("stage 6 (XML configuration transforms) failed: ")
    assert "Web.Release.config" in record["message"]
    assert "system.web" in record["message"]


def test_a_purge_that_would_leave_the_folder_is_refused(steps: Steps) -> None:
    home = Path.home()  # a fresh directory per test
    (home / "notes.txt").write_text("mine")
    write_zip_project(steps, {"a.txt": "a"}, f'custom-directory = "{home}"\npurge = true')

    code, record = run_and_report(steps)

    assert code == 2
    assert (home / "notes.txt").read_text() == "mine"
    assert record["message"] == (
        f"stage 9 (custom installation folder) failed: refusing to purge {home}: the purge would "
        "delete far more than an application; set "
        "Octopus.Action.Package.CustomInstallationDirectory to the application's own folder"
    )


def test_an_unsafe_package_is_refused_before_anything_runs(
    steps: Steps, applications: Path
) -> None:
    write_zip_project(steps, {"../escape.txt": "x", "PreDeploy.sh": "touch ran\n"}, "")

    code, record = run_and_report(steps)

    assert code == 2
    assert "escape.txt" in record["message"]
    assert record["stages"][0] == {  # nothing ran: a refused package has no DeployFailed
        "number": 0, "name": "ExtractPackage", "status": "failed", "detail": record["message"]
    }  # fmt: skip
    assert not (steps.directory / "ran").exists()
    assert not list(applications.rglob("*.txt"))


def test_sensitive_values_are_masked_and_their_lines_journaled(
    steps: Steps, applications: Path
) -> None:
    write_zip_project(
        steps,
        {"app.conf": "user=#{User}\npassword=#{Password}\n", "Deploy.sh": 'echo "pw is $(get_octopusvariable Password)"\n'},
        'substitute-files = ["app.conf"]',
        'User = "web"',
    )
    secrets = steps.directory / "secrets.json"
    secrets.write_text('[{"k": "Password", "v": "hunter22", "s": true}]')

    result = steps("run", "--variables", str(secrets))

    assert result.code == 0, result.err
    assert "hunter22" not in result.out + result.err
    assert "pw is ********" in result.out
    journal = (applications / "deployments.json").read_text()
    assert "hunter22" not in journal
    assert json.loads(journal)["deployments"][0]["sensitive_lines"] == {"app.conf": [2]}


def test_retention_keeps_the_newest_deployments_and_diff_shows_the_change(
    steps: Steps, applications: Path
) -> None:
    write_zip_project(
        steps, {"app.json": '{"Colour": "grey"}\n'},
        'structured-files = ["app.json"]\nkeep-deployments = 2',
        'Colour = "#{Shade}"',
    )  # fmt: skip
    for shade in ("red", "green", "blue"):
        assert steps("run", "-v", f"Shade={shade}").code == 0

    kept = sorted(p.name for p in (applications / "App").iterdir())
    assert kept == ["1.0.0_1", "1.0.0_2"]  # the first deployment was removed
    listed = json.loads(steps("deployments", "list", "--json").out)
    assert [e["id"] for e in listed] == [2, 3]
    diff = steps("deployments", "diff", "2", "3")
    assert diff.code == 0
    assert '-{"Colour": "green"}' in diff.out
    assert '+{"Colour": "blue"}' in diff.out
    assert "1 configuration file changed between deployment 2 (App 1.0.0) and 3" in diff.out


def test_skip_if_already_installed(steps: Steps, applications: Path) -> None:
    write_zip_project(steps, {"Deploy.sh": "echo deploying\n"}, "skip-if-installed = true")

    first = steps("run")
    second = steps("run", "--report", "r.json")

    assert "deploying" in first.out
    assert second.code == 0
    assert "deploying" not in second.out
    assert "is already installed at" in second.out
    assert sorted(p.name for p in (applications / "App").iterdir()) == ["1.0.0"]
    record = json.loads((steps.directory / "r.json").read_text())["steps"][0]
    assert {s["status"] for s in record["stages"][1:]} == {"skipped"}


def test_deploy_package_with_calamari_sensitive_variables(
    tmp_path: Path, steps: Steps, applications: Path
) -> None:
    package = tmp_path / "Api.2.0.0.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("db.conf", "password=#{DbPassword}\n")
        archive.writestr("Deploy.sh", 'echo "using $(get_octopusvariable DbPassword)"\n')
    plain = tmp_path / "variables.json"
    plain.write_text(json.dumps({
        "Octopus.Action.EnabledFeatures": "Octopus.Features.SubstituteInFiles",
        "Octopus.Action.SubstituteInFiles.TargetFiles": "db.conf",
    }))  # fmt: skip
    sensitive = tmp_path / "sensitive.bin"
    sensitive.write_bytes(encrypt_variables(json.dumps({"DbPassword": "s3cr3t-pw"}), "pw"))

    result = steps(
        "deploy-package", "--package", str(package), "--variables", str(plain),
        "--sensitive-variables", str(sensitive), "--sensitive-variables-password", "pw",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert (applications / "Api" / "2.0.0" / "db.conf").read_text() == "password=s3cr3t-pw\n"
    assert "s3cr3t-pw" not in result.out + result.err
    assert "using ********" in result.out
    assert "s3cr3t-pw" not in (applications / "deployments.json").read_text()


def test_error_output_fails_a_script_only_when_asked(steps: Steps) -> None:
    write_zip_project(steps, {"Deploy.sh": "echo 'disk almost full' >&2\n##\n"}, "")
    assert steps("run").code == 0  # stderr alone never fails a step

    write_zip_project(
        steps,
        {"Deploy.sh": "echo 'disk almost full' >&2\necho '##octopus[stdout-default]' >&2\n"},
        "",
        '"Octopus.Action.FailScriptOnErrorOutput" = "True"',
    )
    code, record = run_and_report(steps)

    assert code == 2
    assert record["message"] == (
        "stage 11 (Deploy scripts) failed: script Deploy.sh returned zero exit code but had "
        "error output"
    )


def test_error_output_fails_a_run_script_when_asked(steps: Steps) -> None:
    script = steps.directory / "warn.sh"
    script.write_text("echo 'careful' >&2\n")

    assert steps("run-script", "--script", str(script)).code == 0
    failed = steps(
        "run-script", "--script", str(script), "-v", "Octopus.Action.FailScriptOnErrorOutput=True"
    )

    assert failed.code == 255
    assert "returned zero exit code but had error output" in failed.err
