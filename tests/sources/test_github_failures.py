"""The GitHub source when things go wrong or stay the same: rate limits, server errors, broken
downloads and answers, bad globs and ranges; conditional requests, warm locks and offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steptemplates import fsutil
from tests.sources.conftest import REPO, TOKEN
from tests.support.githubserver import GitHubServer
from tests.support.httpserver import Fault, StaticServer
from tests.support.projects import Steps, cache_root

ASSET = f'[templates.deploy]\ngithub = "{REPO}"\nasset = "deploy-*.zip"\nversion = "^1"\n'
SOURCE = f'[templates.source]\ngithub = "{REPO}"\nversion = "^1"\n'
LISTING = f"/repos/{REPO}/releases"


def downloads_dir() -> Path:
    return cache_root() / "downloads"


def wipe(*parts: str) -> None:
    for part in parts:
        fsutil.remove_tree(cache_root() / part)


# --- rate limits ---


@pytest.mark.parametrize("status", [403, 429])
def test_a_rate_limit_far_from_its_reset_fails_at_once_saying_when(
    steps: Steps, github: GitHubServer, status: int
) -> None:
    github.limit_rate(0, reset_in=2950, status=status)
    steps.write(ASSET)

    outcome = steps.fails("lock")

    assert outcome.error.startswith("template 'deploy': the rate limit of 127.0.0.1:"), (
        outcome.error
    )
    assert "is used up; it resets at " in outcome.error
    assert "(in about 50 minutes); authenticate (set GITHUB_TOKEN or STEPS_GITHUB_TOKEN to a " in (
        outcome.error
    )
    assert outcome.error.endswith("for 5,000 requests an hour")
    assert len(github.requests) == 1


def test_an_authenticated_rate_limit_says_to_wait(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.limit_rate(0, reset_in=3000)
    steps.write(ASSET)

    assert steps.fails("lock").error.endswith("; wait for the reset, or use another token")


def test_a_rate_limit_that_resets_soon_is_waited_for(steps: Steps, github: GitHubServer) -> None:
    github.limit_rate(0, reset_in=0.2, retry_after=1)
    steps.write(ASSET)

    outcome = steps.ok("lock")

    assert steps.lock()["deploy"]["version"] == "1.2.7"
    assert any("waiting 1 s for it to reset" in w for w in outcome.warnings)
    listing = f"{LISTING}?per_page=100"
    assert [status for path, status in github.answers if path == listing] == [403, 200]


# --- server errors, broken downloads and answers ---


def test_server_errors_are_retried(steps: Steps, github: GitHubServer) -> None:
    github.fail(LISTING, Fault.of_status(502, times=2))
    steps.write(ASSET)

    steps.ok("lock")

    assert len(github.requests_to(LISTING)) == 3


def test_a_server_that_keeps_failing_is_a_clear_error(steps: Steps, github: GitHubServer) -> None:
    github.fail(LISTING, Fault.of_status(500, times=10))
    steps.write(ASSET)

    outcome = steps.fails("lock")

    assert outcome.error == (
        f"template 'deploy': {github.api_url}{LISTING}?per_page=100 answered 500 Internal "
        "Server Error after 4 attempts; the server is having trouble; try again later"
    )


def test_a_truncated_asset_leaves_nothing_in_the_cache(steps: Steps, github: GitHubServer) -> None:
    github.storage.fail("/blobs/*", Fault.truncate(0.5, times=10))
    steps.write(ASSET)

    outcome = steps.fails("lock")  # also checks the cache holds no partial entry or staging

    assert outcome.error.startswith("template 'deploy': ")
    assert "closed" in outcome.error
    assert not downloads_dir().exists() or not list(downloads_dir().iterdir())


def test_an_asset_that_no_longer_matches_the_lock_is_refused(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(ASSET)
    steps.ok("lock")
    locked = steps.lock()["deploy"]
    wipe("templates", "downloads")
    github.storage.fail("/blobs/*", Fault.corrupt(times=10))

    outcome = steps.fails("sync")

    assert outcome.error.startswith(
        f"template 'deploy': the archive downloaded from {locked['artifact']} has sha256 "
    )
    assert f"but steps.lock records {locked['sha256']}" in outcome.error
    assert not downloads_dir().exists() or not list(downloads_dir().iterdir())


def test_malformed_json_from_the_api(steps: Steps, github: GitHubServer) -> None:
    github.fail(LISTING, Fault.corrupt())
    steps.write(ASSET)

    outcome = steps.fails("lock")

    assert outcome.error.startswith(
        f"template 'deploy': {github.api_url}{LISTING}?per_page=100 did not answer with valid JSON"
    )


def test_an_api_url_that_is_not_a_github_api(steps: Steps, tmp_path: Path) -> None:
    listing = tmp_path / "site" / "repos" / "acme" / "deploy" / "releases"
    listing.parent.mkdir(parents=True)
    listing.write_text(json.dumps({"message": "this is not a list"}))
    with StaticServer(tmp_path / "site") as site:
        steps.write(f'[templates.t]\ngithub = "{REPO}"\napi-url = "{site.url}"\n')
        error = steps.fails("lock").error

    assert error.startswith(
        f"template 't': {site.url}/repos/{REPO}/releases?per_page=100 did not answer like the "
        "GitHub API (not a list); check that api-url"
    )


# --- globs and ranges ---


def test_an_asset_glob_matching_nothing_lists_the_assets(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(ASSET.replace("deploy-*.zip", "*.tar.gz"))

    assert steps.fails("lock").error == (
        "template 'deploy': no asset of release v1.2.7 matches '*.tar.gz' (its assets: "
        "deploy-1.2.7.zip, checksums.txt); fix 'asset' in steps.toml, or remove it to use the "
        "source archive"
    )


def test_an_asset_glob_matching_several_lists_them(steps: Steps, github: GitHubServer) -> None:
    steps.write(ASSET.replace("deploy-*.zip", "*"))

    assert steps.fails("lock").error == (
        "template 'deploy': 2 assets of release v1.2.7 match '*': deploy-1.2.7.zip, "
        "checksums.txt; narrow 'asset' in steps.toml so that it matches exactly one"
    )


def test_no_release_in_the_range(steps: Steps, github: GitHubServer) -> None:
    steps.write(ASSET.replace('"^1"', '"^5"'))

    assert steps.fails("lock").error == (
        "template 'deploy' (GitHub acme/deploy): no version matches '^5'; nearest available: "
        "1.2.0, 1.2.3, 1.2.7, 2.0.0, 2.1.0-rc.1; change 'version' in steps.toml to a range one of them is in"
    )


# --- unchanged servers, warm locks and offline ---


def test_relocking_an_unchanged_server_only_revalidates(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)  # authorized 304s cost no rate limit
    steps.write(ASSET + SOURCE)
    steps.ok("lock")
    before = steps.lock_path.read_text()
    github.clear()
    budget = github.rate.remaining

    steps.ok("lock", "--upgrade")

    assert steps.lock_path.read_text() == before
    assert github.answers and all(status == 304 for _path, status in github.answers)
    assert all("if-none-match" in r.headers for r in github.requests)
    assert github.storage.requests == []
    assert github.rate.remaining == budget


def test_a_warm_lock_makes_no_request(steps: Steps, github: GitHubServer) -> None:
    steps.write(ASSET + SOURCE)
    steps.ok("lock")
    github.clear()

    steps.ok("lock")
    steps.ok("sync")

    assert github.requests == [] and github.storage.requests == []


@pytest.mark.parametrize("token", [None, TOKEN])
def test_locking_offline_uses_the_answers_kept_from_the_last_run(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token is not None:  # answers are kept apart by whether a token went with them
        monkeypatch.setenv("GITHUB_TOKEN", token)
    steps.write(ASSET + SOURCE)
    steps.ok("lock")
    before = steps.lock_path.read_text()
    steps.lock_path.unlink()
    github.clear()

    steps.ok("lock", "--offline")

    assert steps.lock_path.read_text() == before
    assert github.requests == []


def test_sync_offline_after_losing_the_entries_needs_the_kept_asset(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(ASSET + SOURCE + '[[steps]]\nname = "D"\ntemplate = "deploy"\n')
    steps.ok("sync")
    wipe("templates")

    outcome = steps.fails("sync", "--offline")  # the source archive was not kept

    assert outcome.error.startswith(
        "template 'source': github:acme/deploy@v1.2.7 is not in the cache and --offline "
        "forbids downloading it"
    )
    steps.write(ASSET + '[[steps]]\nname = "D"\ntemplate = "deploy"\n')
    steps.ok("lock", "--offline")
    assert steps.ok("run", "--offline").out.strip() == "asset greet v1.2.7"


def test_sync_offline_with_an_empty_cache_is_a_clear_error(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(ASSET)
    steps.ok("sync")
    wipe("templates", "downloads")

    outcome = steps.fails("sync", "--offline")

    assert outcome.error == (
        "template 'deploy': github:acme/deploy@v1.2.7 is not in the cache and --offline "
        "forbids downloading it; run `steps sync` once without --offline"
    )
