"""`steps init` and `steps add`: writing steps.toml and locking what was added."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from steptemplates.manifest_edit import INITIAL
from tests.support.gitserver import HTTP_TOKEN, HTTP_USER, ServedRepo, SmartHttpServer
from tests.support.projects import OTHER, Catalog, Steps, cache_root, write_template


def test_init_writes_a_commented_manifest(steps: Steps) -> None:
    created = steps.ok("init", "--name", 'my "project"')

    assert steps.manifest.read_text() == INITIAL.format(name='"my \\"project\\""')
    assert "Created" in created.err
    steps.ok("list")


def test_init_refuses_to_overwrite(steps: Steps) -> None:
    steps.write("# mine\n")

    failed = steps.fails("init")

    assert failed.error == (
        "steps.toml already exists; edit it, or use `steps add` to add templates"
    )


def test_add_pins_the_newest_stable_version_with_a_caret(steps: Steps, catalog: Catalog) -> None:
    steps.ok("init")

    added = steps.ok("add", catalog.repo.http_url)

    name = catalog.repo.name
    assert f'[templates.{name}]\ngit = "{catalog.repo.http_url}"\nversion = "^2.0.0"\n' in (
        steps.manifest.read_text()
    )
    entry = steps.lock()[name]
    assert (entry["version"], entry["commit"]) == ("2.0.0", catalog.commits["v2.0.0"])
    assert added.err.strip() == (
        f"Added template '{name}' (git = '{catalog.repo.http_url}', version = '^2.0.0'); "
        "locked 2.0.0"
    )
    steps.ok("lock", "--locked")


def test_add_with_prereleases(steps: Steps, catalog: Catalog) -> None:
    steps.ok("init")

    steps.ok("add", catalog.repo.git_url, "--name", "next", "--prerelease")

    text = steps.manifest.read_text()
    assert 'version = "^2.1.0-rc.1"\nprerelease = true\n' in text
    assert steps.lock()["next"]["version"] == "2.1.0-rc.1"


@pytest.mark.parametrize(
    ("option", "value", "written", "version"),
    [
        ("--version", "~1.2.0", 'version = "~1.2.0"', "1.2.7"),
        ("--tag", "v1.0.0", 'tag = "v1.0.0"', "1.0.0"),
        ("--branch", "develop", 'branch = "develop"', None),
    ],
)
def test_add_with_a_pin(
    steps: Steps, catalog: Catalog, option: str, value: str, written: str, version: str | None
) -> None:
    steps.ok("init")

    steps.ok("add", catalog.repo.file_url, "--subdir", OTHER, option, value)

    assert (
        f'[templates.other]\ngit = "{catalog.repo.file_url}"\nsubdir = "{OTHER}"\n{written}\n'
        in (steps.manifest.read_text())
    )
    assert steps.lock()["other"].get("version") == version


def test_add_keeps_the_manifest_as_written(steps: Steps, catalog: Catalog) -> None:
    original = f"""\
# Our deployment.
[project]
name = "shop"   # the shop

[templates]
# The health check, pinned because 2.x changed its output.
check = {{ git = "{catalog.repo.file_url}", tag = "v1.0.0" }}

# Shared by every step.
[variables]
Environment = "test"
Zeta = 1
Alpha = 2

[[steps]]
name = "Check"
template = "check"
"""
    steps.write(original)

    steps.ok("add", catalog.repo.git_url, "--name", "greet", "--version", "^1.0")

    text = steps.manifest.read_text()
    added = f'[templates.greet]\ngit = "{catalog.repo.git_url}"\nversion = "^1.0"\n\n'
    assert text == original.replace("# Shared by every step.", added + "# Shared by every step.")
    steps.ok("lock", "--locked")


def test_add_replaces_a_template_in_place(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.file_url
    steps.write(
        f'[templates.a]\ngit = "{url}"\ntag = "v1.0.0"\n\n'
        f'[templates.b]\ngit = "{url}"\ntag = "v1.0.0"\n'
    )
    steps.ok("lock")
    b_before = steps.lock()["b"]

    replaced = steps.ok("add", url, "--name", "a", "--version", "^1.1")

    assert steps.manifest.read_text() == (
        f'[templates.a]\ngit = "{url}"\nversion = "^1.1"\n\n'
        f'[templates.b]\ngit = "{url}"\ntag = "v1.0.0"\n'
    )
    assert steps.lock()["a"]["version"] == "1.2.7"
    assert steps.lock()["b"] == b_before
    assert replaced.err.startswith("Replaced template 'a'")


def test_add_follows_the_default_branch_without_version_tags(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = remote_repo("untagged")
    write_template(repo, name="greet", script="echo untagged\n")
    commit = repo.commit()
    repo.tag("latest")
    repo.git("branch", "-m", "trunk")
    steps.ok("init")

    added = steps.ok("add", repo.http_url, "--name", "greet")

    assert added.warnings == [
        f"{repo.http_url} has no version tags; following branch 'trunk' "
        "(steps lock keeps the locked commit until you upgrade)"
    ]
    assert f'git = "{repo.http_url}"\nbranch = "trunk"\n' in steps.manifest.read_text()
    assert steps.lock()["greet"]["commit"] == commit


def test_add_with_only_prerelease_tags_says_how_to_use_them(
    steps: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = remote_repo("previews")
    write_template(repo, name="greet", script="echo preview\n")
    repo.commit()
    repo.tag("v2.0.0-rc.1")
    steps.ok("init")
    before = steps.manifest.read_text()

    failed = steps.fails("add", repo.http_url, "--name", "greet")

    assert failed.error == (
        f"{repo.http_url} has only prerelease versions (2.0.0-rc.1); pass --prerelease to use "
        "the newest, or pin one with --version or --tag"
    )
    assert steps.manifest.read_text() == before


def test_add_a_local_directory_as_a_path_source(steps: Steps, tmp_path: Path) -> None:
    local = tmp_path / "mine" / "checker"
    local.mkdir(parents=True)
    (local / "steptemplate.toml").write_text(
        'name = "checker"\n[script]\nsyntax = "bash"\nbody = "echo ok"\n'
    )
    steps.ok("init")

    steps.ok("add", str(local))

    assert '[templates.checker]\npath = "../mine/checker"\n' in steps.manifest.read_text()
    assert steps.lock()["checker"] == {
        "name": "checker",
        "source": "path",
        "path": "../mine/checker",
        "requested": "path",
    }
    steps.ok("sync")


def test_a_local_directory_takes_no_pin(steps: Steps, tmp_path: Path) -> None:
    steps.ok("init")

    failed = steps.fails("add", str(tmp_path), "--tag", "v1")

    assert failed.error == (
        f"{tmp_path} is a local directory, used as it is; versions come from git; "
        f"to resolve its tags, add it as file://{tmp_path}"
    )


def test_add_of_something_that_is_neither_url_nor_directory(steps: Steps) -> None:
    steps.ok("init")

    failed = steps.fails("add", "no/such/dir")

    assert failed.error == (
        "no/such/dir is neither a git URL nor an existing directory; "
        "use https://, git://, ssh:// or file:// for a git repository"
    )


def test_add_with_an_invalid_version(steps: Steps, catalog: Catalog) -> None:
    steps.ok("init")

    failed = steps.fails("add", catalog.repo.file_url, "--version", "^^1")

    assert failed.error.startswith("--version: invalid version range '^^1': ")


def test_add_that_does_not_resolve_changes_nothing(steps: Steps, catalog: Catalog) -> None:
    steps.ok("init")
    steps.ok("add", catalog.repo.file_url, "--name", "first", "--tag", "v1.0.0")

    failed = steps.fails("add", catalog.repo.file_url, "--name", "second", "--version", "^3")

    assert failed.error.startswith("template 'second' (")


def test_add_with_a_token_from_the_environment(
    steps: Steps,
    catalog: Catalog,
    git_http_auth: SmartHttpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = git_http_auth.url(catalog.repo.name)
    steps.ok("init")
    monkeypatch.setenv("STEPS_TEST_TOKEN", HTTP_TOKEN)

    added = steps.ok(
        "add", url, "--name", "private", "--token-env", "STEPS_TEST_TOKEN", "--username", HTTP_USER
    )
    # Later commands find the token through steps.toml, from an empty cache too.
    steps.ok("lock", "--upgrade")
    shutil.rmtree(cache_root())
    steps.ok("sync")

    written = f'version = "^2.0.0"\ntoken-env = "STEPS_TEST_TOKEN"\nusername = "{HTTP_USER}"\n'
    assert f'git = "{url}"\n{written}' in (steps.manifest.read_text())
    assert steps.lock()["private"]["commit"] == catalog.commits["v2.0.0"]
    assert_secret_nowhere(HTTP_TOKEN, steps, added.out + added.err)


def test_add_without_the_token(
    steps: Steps, catalog: Catalog, git_http_auth: SmartHttpServer
) -> None:
    steps.ok("init")

    failed = steps.fails(
        "add", git_http_auth.url(catalog.repo.name), "--token-env", "STEPS_TEST_TOKEN"
    )

    assert failed.error == (
        "environment variable STEPS_TEST_TOKEN (token-env for "
        f"{git_http_auth.url(catalog.repo.name)}) is not set or empty; "
        "set STEPS_TEST_TOKEN to an access token that can read the repository"
    )


def test_lock_with_a_wrong_token(
    steps: Steps,
    catalog: Catalog,
    git_http_auth: SmartHttpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = git_http_auth.url(catalog.repo.name)
    steps.use(private={"git": url, "token-env": "STEPS_TEST_TOKEN", "username": HTTP_USER})
    monkeypatch.setenv("STEPS_TEST_TOKEN", "wrong-" + HTTP_TOKEN)

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'private': authentication failed for {url} (401) with the credentials from "
        "$STEPS_TEST_TOKEN; check that the token is valid and can read the repository"
    )
    assert HTTP_TOKEN not in failed.err


def test_credentials_in_the_url_are_refused(
    steps: Steps, catalog: Catalog, git_http_auth: SmartHttpServer
) -> None:
    url = git_http_auth.url(catalog.repo.name)
    with_secret = url.replace("http://", f"http://{HTTP_USER}:{HTTP_TOKEN}@")
    steps.ok("init")

    failed = steps.fails("add", with_secret, "--tag", "v1.0.0")

    assert failed.error.startswith("the URL has credentials written into it; remove them")
    assert HTTP_TOKEN not in failed.err
    assert_secret_nowhere(HTTP_TOKEN, steps, failed.err)


def assert_secret_nowhere(secret: str, steps: Steps, output: str) -> None:
    """Neither the project files, the cache (mirrors, snapshots) nor the output hold ``secret``."""
    assert secret not in output
    files = [steps.manifest, steps.lock_path, *_files_under(cache_root())]
    for path in files:
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path


def _files_under(root: Path) -> list[Path]:
    return [Path(d, f) for d, _dirs, files in os.walk(root) for f in files]


def test_lock_without_credentials(
    steps: Steps, catalog: Catalog, git_http_auth: SmartHttpServer
) -> None:
    url = git_http_auth.url(catalog.repo.name)
    steps.use(private={"git": url})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'private': authentication failed for {url} (401); set token-env in steps.toml "
        "to the name of an environment variable holding a token, or add the host to ~/.netrc"
    )


def test_lock_with_credentials_from_netrc(
    steps: Steps, catalog: Catalog, git_http_auth: SmartHttpServer
) -> None:
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login {HTTP_USER} password {HTTP_TOKEN}\n")
    netrc.chmod(0o600)
    steps.use(private={"git": git_http_auth.url(catalog.repo.name), "tag": "v1.0.0"})

    locked = steps.ok("lock")
    shutil.rmtree(cache_root())
    synced = steps.ok("sync")

    assert steps.lock()["private"]["commit"] == catalog.commits["v1.0.0"]
    assert_secret_nowhere(HTTP_TOKEN, steps, locked.err + synced.err)
