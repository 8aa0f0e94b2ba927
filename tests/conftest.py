"""Fixtures for the whole suite: an isolated environment and real git servers, started once."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.gitserver import (
    HTTP_TOKEN,
    HTTP_USER,
    GitDaemon,
    ServedRepo,
    SmartHttpServer,
    make_repo,
)
from tests.support.projects import Catalog, Steps, build_catalog

_names = itertools.count(1)


@pytest.fixture(autouse=True)
def isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fresh HOME (hence ~/.netrc) and steps cache per test, quick retries, no proxies."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("STEPS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("STEPS_RETRY_BACKOFF", "0.01")
    monkeypatch.delenv("STEPS_NETWORK_TIMEOUT", raising=False)
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("STEPS_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    for name in ("GITHUB_TOKEN", "STEPS_GITHUB_TOKEN", "STEPS_GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    # A proxy from the developer's shell must not stand between the tests and 127.0.0.1.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def git_served_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every test git server serves."""
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="session")
def git_daemon(git_served_root: Path) -> Iterator[GitDaemon]:
    with GitDaemon(git_served_root) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def git_http(git_served_root: Path) -> Iterator[SmartHttpServer]:
    with SmartHttpServer(git_served_root) as server:
        yield server


@pytest.fixture(scope="session")
def git_http_auth(git_served_root: Path) -> Iterator[SmartHttpServer]:
    """Smart HTTP requiring Basic auth as ``HTTP_USER`` with the password ``HTTP_TOKEN``."""
    with SmartHttpServer(git_served_root, auth=(HTTP_USER, HTTP_TOKEN)) as server:
        yield server


@pytest.fixture
def remote_repo(
    git_served_root: Path, git_daemon: GitDaemon, git_http: SmartHttpServer
) -> Callable[[str], ServedRepo]:
    """A factory: ``remote_repo("name")`` makes a new, uniquely named, served repository."""

    def create(name: str = "templates") -> ServedRepo:
        path = make_repo(git_served_root / f"{name}-{next(_names)}").path
        return ServedRepo(path, git_daemon, git_http)

    return create


# --- resolution: template catalogs and `steps` projects -----------------------------------


@pytest.fixture(scope="session")
def catalog(git_served_root: Path, git_daemon: GitDaemon, git_http: SmartHttpServer) -> Catalog:
    """A released template repository shared by the session: tests must not change it."""
    path = make_repo(git_served_root / "catalog").path
    return build_catalog(ServedRepo(path, git_daemon, git_http))


@pytest.fixture
def new_catalog(remote_repo: Callable[[str], ServedRepo]) -> Catalog:
    """A catalog of the test's own, to move tags and branches in."""
    return build_catalog(remote_repo("own-catalog"))


@pytest.fixture
def steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Steps:
    """The `steps` CLI run in-process in an empty project directory."""
    directory = tmp_path / "project"
    directory.mkdir()
    return Steps(directory, capsys, monkeypatch)
