"""GitHub credentials: where the token comes from, where it goes (the API's origin only,
never the storage host, the lock, the cache or the output), and the errors when GitHub
refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates import fsutil
from tests.sources.conftest import NAME, OWNER, REPO, TOKEN, asset_zip
from tests.support.githubserver import GitHubServer
from tests.support.projects import Catalog, Outcome, Steps, cache_root

PRIVATE = f"{OWNER}/private"


@pytest.fixture
def private(github: GitHubServer, github_catalog: Catalog) -> GitHubServer:
    """acme/private: the same repository, private, with one release."""
    github.add_repo(OWNER, "private", github_catalog.repo.path, private=True)
    github.add_release(OWNER, "private", "v1.2.7", assets={"deploy-1.2.7.zip": asset_zip("v1.2.7")})
    return github


def both_modes(repo: str = PRIVATE, extra: str = "") -> str:
    """An asset template and a source-archive template from ``repo``, each run by a step."""
    return (
        f'[templates.asset]\ngithub = "{repo}"\nasset = "*.zip"\n{extra}\n'
        f'[templates.source]\ngithub = "{repo}"\n{extra}\n'
        '[[steps]]\nname = "A"\ntemplate = "asset"\n'
        '[[steps]]\nname = "S"\ntemplate = "source"\n'
    )


def assert_token_stayed_with_the_api(github: GitHubServer, *outcomes: Outcome) -> None:
    assert github.requests, "nothing reached the API"
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in github.requests)
    assert github.storage.requests, "nothing was downloaded"
    assert all("authorization" not in r.headers for r in github.storage.requests)
    for outcome in outcomes:
        assert TOKEN not in outcome.out + outcome.err
    for path in cache_root().rglob("*"):
        assert path.is_dir() or TOKEN.encode() not in path.read_bytes(), path


def wipe_cache() -> None:
    fsutil.remove_tree(cache_root())


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "STEPS_GITHUB_TOKEN"])
def test_a_token_from_the_environment_reads_a_private_repository(
    steps: Steps, private: GitHubServer, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, TOKEN)
    steps.write(both_modes())

    run = steps.ok("run")
    wipe_cache()  # sync from the lock alone finds the token again
    sync = steps.ok("sync")

    assert run.out.split() == ["asset", "greet", "v1.2.7", "greet", "v1.2.7"]
    assert TOKEN not in steps.lock_path.read_text()
    assert_token_stayed_with_the_api(private, run, sync)


def test_steps_github_token_comes_before_github_token(
    steps: Steps, private: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPS_GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_someOtherToken")
    steps.write(both_modes())

    assert_token_stayed_with_the_api(private, steps.ok("run"))


@pytest.mark.parametrize("enterprise", [False, True])
def test_a_token_from_netrc(
    steps: Steps, private: GitHubServer, monkeypatch: pytest.MonkeyPatch, enterprise: bool
) -> None:
    netrc = Path.home() / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin x-access-token\npassword {TOKEN}\n")
    netrc.chmod(0o600)
    extra = f'api-url = "{private.enterprise_url}"' if enterprise else ""
    steps.write(both_modes(extra=extra))

    run = steps.ok("run")

    assert_token_stayed_with_the_api(private, run)
    prefix = "/api/v3/repos/" if enterprise else "/repos/"
    assert all(r.path.startswith(prefix) for r in private.requests)


def test_a_named_source_with_token_env(
    steps: Steps, private: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GHE_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_notForThisHost")  # for the default API only
    named = f'[sources.ghe]\ngithub = "{private.enterprise_url}"\ntoken-env = "GHE_TOKEN"\n\n'
    steps.write(named + both_modes(extra='source = "ghe"'))

    run = steps.ok("run")
    wipe_cache()
    sync = steps.ok("sync")

    locked = steps.lock()
    assert {entry["url"] for entry in locked.values()} == {private.enterprise_url}
    assert_token_stayed_with_the_api(private, run, sync)


def test_a_missing_token_env_variable_is_named(steps: Steps, private: GitHubServer) -> None:
    named = f'[sources.ghe]\ngithub = "{private.enterprise_url}"\ntoken-env = "GHE_TOKEN"\n\n'
    steps.write(named + f'[templates.t]\ngithub = "{PRIVATE}"\nsource = "ghe"\n')

    outcome = steps.fails("lock")

    assert outcome.error == (
        "template 't': environment variable GHE_TOKEN (token-env of source 'ghe') is not set "
        "or empty; set GHE_TOKEN to a GitHub token that can read the repository"
    )
    assert private.requests == []


def test_the_default_token_is_not_sent_to_another_api(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    steps.write(both_modes(REPO, extra=f'api-url = "{github.enterprise_url}"'))

    steps.ok("run")

    assert github.requests
    assert all("authorization" not in r.headers for r in github.requests)


def test_a_private_repository_without_a_token_is_not_found(
    steps: Steps, private: GitHubServer
) -> None:
    steps.write(f'[templates.t]\ngithub = "{PRIVATE}"\n')

    error = steps.fails("lock").error

    assert error == (
        f"template 't': GitHub repository {PRIVATE} not found at {private.api_url} "
        "(or it is private); check the name; if the repository is private, set GITHUB_TOKEN "
        "or STEPS_GITHUB_TOKEN to a GitHub token"
    )


def test_a_repository_not_found_on_github_enterprise_suggests_a_named_source(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(f'[templates.t]\ngithub = "acme/nope"\napi-url = "{github.enterprise_url}"\n')

    outcome = steps.fails("lock")

    assert "not found at " + github.enterprise_url in outcome.error
    assert f'declare a source with github = "{github.enterprise_url}" and token-env' in (
        outcome.error
    )


def test_a_rejected_token_names_where_it_came_from_but_not_its_value(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_expiredTokenValue")
    steps.write(f'[templates.t]\ngithub = "{REPO}"\n')

    outcome = steps.fails("lock")

    assert outcome.error.startswith(
        f"template 't': {github.api_url} rejected the token from $GITHUB_TOKEN (401); "
    )
    assert "ghp_expiredTokenValue" not in outcome.err


def test_no_access_to_a_repository(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    repo = github.repo(OWNER, NAME)
    assert repo is not None
    repo.forbidden = True
    steps.write(f'[templates.t]\ngithub = "{REPO}"\n')

    error = steps.fails("lock").error

    assert error == (
        f"template 't': no access to GitHub repository {REPO} at {github.api_url} (403); "
        "check that the token from $GITHUB_TOKEN can read the repository"
    )
    assert len(github.requests) == 1  # a refusal is not retried
