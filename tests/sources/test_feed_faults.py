"""Connection resets and stalls past the timeout, injected at every request a feed source
makes: once (the retry succeeds) and for good (a clear error, and nothing in the cache)."""

from __future__ import annotations

import pytest

from tests.sources.conftest import REPO
from tests.support.githubserver import GitHubServer
from tests.support.httpserver import Fault, HttpServer, StaticServer
from tests.support.nugetfeed import (
    FLAT_CONTAINER,
    PACKAGE_ID,
    SERVICE_INDEX,
    NuGetFeed,
    publish,
    use_feed,
)
from tests.support.projects import Steps, assert_cache_consistent, cache_entries, cache_root

TIMEOUT = "0.3"
ASSET = f'[templates.t]\ngithub = "{REPO}"\nasset = "deploy-*.zip"\nversion = "^1"\n'
SOURCE = f'[templates.t]\ngithub = "{REPO}"\nversion = "^1"\n'


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", TIMEOUT)


@pytest.fixture
def feed(server: StaticServer) -> NuGetFeed:
    made = NuGetFeed.on(server)
    publish(made, "1.0.0", "1.1.0")
    return made


def _faults() -> list[tuple[str, Fault]]:
    return [("reset", Fault.reset(times=1)), ("stall", Fault.stall(0.8, times=1))]


def _lasting(kind: str) -> Fault:
    return Fault.reset(times=50) if kind == "reset" else Fault.stall(0.6, times=50)


def _nothing_cached() -> None:
    assert_cache_consistent()
    assert cache_entries() == {}
    downloads = cache_root() / "downloads"
    assert not downloads.exists() or not list(downloads.iterdir())


def _expected(kind: str) -> str:
    return "timed out after 0.3 s" if kind == "stall" else "connection"


# --- GitHub ------------------------------------------------------------------------------------

GITHUB_POINTS = [
    ("api", f"/repos/{REPO}/releases", ASSET),
    ("storage", "/blobs/*", ASSET),
    ("api", f"/repos/{REPO}/tarball/*", SOURCE),
]


def _github_target(github: GitHubServer, where: str) -> HttpServer:
    return github.storage if where == "storage" else github


@pytest.mark.parametrize(("where", "path", "manifest"), GITHUB_POINTS)
@pytest.mark.parametrize(("kind", "fault"), _faults())
def test_github_recovers_from_one_fault(
    steps: Steps,
    github: GitHubServer,
    where: str,
    path: str,
    manifest: str,
    kind: str,
    fault: Fault,
) -> None:
    server = _github_target(github, where)
    server.fail(path, fault)
    steps.write(manifest + '\n[[steps]]\nname = "Go"\ntemplate = "t"\n')

    ran = steps.ok("run")

    assert "v1.2.7" in ran.out
    assert len(server.requests_to(path)) == 2, kind


@pytest.mark.parametrize(("where", "path", "manifest"), GITHUB_POINTS)
@pytest.mark.parametrize("kind", ["reset", "stall"])
def test_github_gives_up_clearly(
    steps: Steps, github: GitHubServer, where: str, path: str, manifest: str, kind: str
) -> None:
    server = _github_target(github, where)
    server.fail(path, _lasting(kind))
    steps.write(manifest)

    failed = steps.fails("lock")

    assert failed.error.startswith("template 't': "), failed.error
    assert _expected(kind) in failed.error
    assert "4 attempts" in failed.error
    assert len(server.requests_to(path)) == 4
    _nothing_cached()


# --- NuGet ---------------------------------------------------------------------------------------

NUGET_POINTS = [SERVICE_INDEX, f"{FLAT_CONTAINER}{PACKAGE_ID.lower()}/index.json", "*.nupkg"]


def _nuget_glob(feed: NuGetFeed, point: str) -> str:
    return feed.url_path(point) if not point.startswith("*") else f"{feed.url_path('')}*{point[1:]}"


@pytest.mark.parametrize("point", NUGET_POINTS)
@pytest.mark.parametrize(("kind", "fault"), _faults())
def test_nuget_recovers_from_one_fault(
    steps: Steps, server: StaticServer, feed: NuGetFeed, point: str, kind: str, fault: Fault
) -> None:
    glob = _nuget_glob(feed, point)
    server.fail(glob, fault)
    use_feed(steps, feed, version="^1")

    ran = steps.ok("run")

    assert "iis 1.1.0" in ran.out
    assert len(server.requests_to(glob)) == 2, kind


@pytest.mark.parametrize("point", NUGET_POINTS)
@pytest.mark.parametrize("kind", ["reset", "stall"])
def test_nuget_gives_up_clearly(
    steps: Steps, server: StaticServer, feed: NuGetFeed, point: str, kind: str
) -> None:
    glob = _nuget_glob(feed, point)
    server.fail(glob, _lasting(kind))
    use_feed(steps, feed, version="^1")

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'iis': "), failed.error
    assert _expected(kind) in failed.error
    assert len(server.requests_to(glob)) == 4
    _nothing_cached()
