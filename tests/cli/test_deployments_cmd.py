"""`steps deployments list` and `steps deployments diff`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steptemplates.deployments import (
    SENSITIVE_LINE,
    Deployment,
    Journal,
    installation_directory,
    sensitive_lines,
)
from steptemplates.fsutil import remove_tree
from tests.support.projects import Steps

SECRET = "hunter2-7f3a"


@pytest.fixture(autouse=True)
def without_applications_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPS_APPLICATIONS_DIR", raising=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "apps"


def deploy(
    root: Path,
    version: str,
    files: dict[str, str],
    *,
    package_id: str = "web",
    step: str = "Deploy web",
    environment: str = "Production",
    tenant: str = "",
    successful: bool = True,
    secrets: tuple[str, ...] = (),
) -> Deployment:
    target = installation_directory(
        root, tenant=tenant, environment=environment, package_id=package_id, version=version
    )
    target.mkdir(parents=True)
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
    return Journal(root).record(
        package_id=package_id,
        version=version,
        retention_set=f"Shop/{step}",
        project="Shop",
        step=step,
        environment=environment,
        tenant=tenant,
        extracted_to=target,
        successful=successful,
        sensitive_lines=sensitive_lines(target, secrets),
    )


# --- list ------------------------------------------------------------------------------------


def test_list_prints_a_table_newest_last(steps: Steps, root: Path) -> None:
    first = deploy(root, "1.0.0", {"a.config": "x"})
    second = deploy(root, "1.1.0", {"a.config": "y"}, tenant="Acme", successful=False)
    third = deploy(root, "2.0.0", {"a.config": "z"}, environment="", package_id="api")

    listed = steps.ok("deployments", "list", "--root", str(root))

    rows = listed.out.splitlines()
    directory = rows[0].index("DIRECTORY")
    status = rows[0].index("STATUS")
    assert rows[0].split() == [
        "ID",
        "INSTALLED",
        "ON",
        "PACKAGE",
        "VERSION",
        "ENVIRONMENT/TENANT",
        "STATUS",
        "DIRECTORY",
    ]
    assert [row.split()[:2] for row in rows[1:]] == [
        ["1", first.installed_on],
        ["2", second.installed_on],
        ["3", third.installed_on],
    ]
    assert [row.split()[2:5] for row in rows[1:]] == [
        ["web", "1.0.0", "Production"],
        ["web", "1.1.0", "Production/Acme"],
        ["api", "2.0.0", "-"],
    ]
    assert [row[status:directory].strip() for row in rows[1:]] == ["ok", "failed", "ok"]
    assert [row[directory:] for row in rows[1:]] == [
        first.extracted_to,
        second.extracted_to,
        third.extracted_to,
    ]


def test_list_json_prints_every_field(steps: Steps, root: Path) -> None:
    made = deploy(root, "1.0.0", {"a.env": f"K={SECRET}\n"}, secrets=(SECRET,))

    listed = steps.ok("deployments", "list", "--root", str(root), "--json")

    assert json.loads(listed.out) == [made.to_json()]
    assert json.loads(listed.out)[0]["sensitive_lines"] == {"a.env": [1]}
    assert SECRET not in listed.out


def test_list_filters_by_package_and_step(steps: Steps, root: Path) -> None:
    deploy(root, "1.0.0", {}, package_id="Web")
    deploy(root, "1.0.0", {}, package_id="api")
    deploy(root, "1.1.0", {}, package_id="web", step="Deploy again")

    by_package = steps.ok("deployments", "list", "--root", str(root), "--package", "WEB", "--json")
    by_both = steps.ok(
        "deployments", "list", "--root", str(root), "--package", "web", "--step", "deploy again"
    )
    nothing = steps.ok("deployments", "list", "--root", str(root), "--package", "db")

    assert [d["id"] for d in json.loads(by_package.out)] == [1, 3]
    assert [row.split()[0] for row in by_both.out.splitlines()] == ["ID", "3"]
    assert nothing.out == ""
    assert nothing.err == f"none of the deployments recorded in {root} match --package db\n"


def test_list_without_a_journal_says_so(steps: Steps, root: Path) -> None:
    listed = steps.ok("deployments", "list", "--root", str(root))
    as_json = steps.ok("deployments", "list", "--root", str(root), "--json")

    assert listed.out == ""
    assert listed.err == f"no deployments recorded in {root}\n"
    assert json.loads(as_json.out) == []
    assert not root.exists()


def test_list_uses_the_project_root_then_the_environment(
    steps: Steps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps.write("")
    in_project = deploy(steps.directory / ".steps" / "applications", "1.0.0", {})
    from_env = deploy(tmp_path / "env-root", "2.0.0", {})

    project_list = steps.ok("deployments", "list", "--json")
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", str(tmp_path / "env-root"))
    env_list = steps.ok("deployments", "list", "--json")

    assert json.loads(project_list.out) == [in_project.to_json()]
    assert json.loads(env_list.out) == [from_env.to_json()]


def test_list_outside_a_project_uses_the_user_root(
    steps: Steps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    user_root = tmp_path / "data" / "steps" / "applications"

    listed = steps.ok("deployments", "list")

    assert listed.err == f"no deployments recorded in {user_root}\n"


def test_list_refuses_a_damaged_journal(steps: Steps, root: Path) -> None:
    root.mkdir()
    (root / "deployments.json").write_text("{", encoding="utf-8")

    failed = steps.fails("deployments", "list", "--root", str(root))

    assert failed.error == (
        f"damaged deployment journal {root / 'deployments.json'}: not valid JSON at line 1: "
        "Expecting property name enclosed in double quotes; fix the file or delete it "
        "(deleting it forgets every recorded deployment)"
    )


# --- diff ------------------------------------------------------------------------------------


def test_diff_prints_each_change_and_a_summary(steps: Steps, root: Path) -> None:
    deploy(
        root,
        "1.0.0",
        {"app.config": f"a\nPassword={SECRET}\nb\n", "old.ini": "x=1\n", "run.sh": "echo 1\n"},
        secrets=(SECRET,),
    )
    deploy(
        root,
        "1.1.0",
        {"app.config": "A\nPassword=n3w\nb\n", "run.sh": "echo 2\n"},
        secrets=("n3w",),
    )

    shown = steps.ok("deployments", "diff", "1", "2", "--root", str(root))
    everything = steps.ok("deployments", "diff", "1", "2", "--root", str(root), "--all")

    assert shown.out.splitlines() == [
        "--- A:app.config (deployment 1)",
        "+++ B:app.config (deployment 2)",
        "@@ -1,3 +1,3 @@",
        "-a",
        "+A",
        f" {SENSITIVE_LINE}",
        " b",
        "--- A:old.ini (deployment 1)",
        "+++ B:old.ini (deployment 2)",
        "@@ -1 +0,0 @@",
        "-x=1",
        "2 configuration files changed between deployment 1 (web 1.0.0) and 2 (web 1.1.0)",
    ]
    assert "-echo 1" in everything.out.splitlines()
    assert everything.out.splitlines()[-1] == (
        "3 files changed between deployment 1 (web 1.0.0) and 2 (web 1.1.0)"
    )
    assert SECRET not in shown.out + everything.out


def test_diff_of_identical_configuration_says_so(steps: Steps, root: Path) -> None:
    deploy(root, "1.0.0", {"app.config": "same\n", "run.sh": "echo 1\n"})
    deploy(root, "1.0.1", {"app.config": "same\n", "run.sh": "echo 2\n"})

    shown = steps.ok("deployments", "diff", "1", "2", "--root", str(root))
    one = steps.ok("deployments", "diff", "1", "2", "--root", str(root), "--all")

    assert shown.out == (
        "no configuration files differ between deployment 1 (web 1.0.0) and 2 (web 1.0.1)\n"
    )
    assert one.out.splitlines()[-1] == (
        "1 file changed between deployment 1 (web 1.0.0) and 2 (web 1.0.1)"
    )


def test_diff_of_an_unknown_id_fails_with_nearby_ids(steps: Steps, root: Path) -> None:
    deploy(root, "1.0.0", {})
    deploy(root, "1.0.1", {})

    failed = steps.fails("deployments", "diff", "1", "9", "--root", str(root))

    assert failed.error == (
        f"no deployment 9 in {root / 'deployments.json'}; nearby ids: 1, 2; "
        "`steps deployments list` shows them all"
    )


def test_diff_of_a_removed_directory_fails(steps: Steps, root: Path) -> None:
    gone = deploy(root, "1.0.0", {})
    deploy(root, "1.0.1", {})
    remove_tree(Path(gone.extracted_to))

    failed = steps.fails("deployments", "diff", "1", "2", "--root", str(root))

    assert failed.error.startswith(
        f"the files of deployment 1 (web 1.0.0) are gone: {gone.extracted_to} no longer exists; "
        "it was removed by retention or by hand"
    )


def test_output_options_are_accepted_after_the_action(steps: Steps, root: Path) -> None:
    quiet = steps.ok("deployments", "list", "--root", str(root), "-q")

    assert quiet.err == ""
