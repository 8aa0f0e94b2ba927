"""Fixtures for the GitHub source: a released repository and a GitHub-compatible server."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest

from tests.support.githubserver import GitHubServer
from tests.support.gitserver import make_repo
from tests.support.httpserver import StaticServer
from tests.support.projects import OTHER, RELEASES, Catalog, build_catalog

OWNER, NAME = "acme", "deploy"
REPO = f"{OWNER}/{NAME}"
TOKEN = "ghp_t0kenThatMustNotLeak"


def asset_zip(tag: str) -> bytes:
    """A release asset as a build would make it: both templates under one top directory."""
    top = f"deploy-{tag.removeprefix('v')}"
    files = {
        "steptemplate.toml": _template("greet"),
        "run.sh": f"echo asset greet {tag}\n",
        f"{OTHER}/steptemplate.toml": _template("other"),
        f"{OTHER}/run.sh": f"echo asset other {tag}\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{top}/{name}", text)
    return buffer.getvalue()


def _template(name: str) -> str:
    return f'name = "{name}"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n'


@pytest.fixture(scope="session")
def github_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The git repository behind acme/deploy, released as ``projects.RELEASES``; read only."""
    repo = make_repo(tmp_path_factory.mktemp("github") / "deploy")
    return build_catalog(repo)


@pytest.fixture(scope="session")
def github_server() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server


@pytest.fixture
def github(
    github_server: GitHubServer, github_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> GitHubServer:
    """A GitHub serving acme/deploy with a release (zip asset and checksums) per version tag,
    flagged as a prerelease when its tag has a label; the default API for `steps`. It
    accepts ``TOKEN``, which no test sends unless it sets it."""
    server = github_server
    server.reset(token=TOKEN)
    server.add_repo(OWNER, NAME, github_catalog.repo.path)
    for tag, _annotated in RELEASES:
        server.add_release(
            OWNER,
            NAME,
            tag,
            prerelease="-" in tag,
            assets={
                f"deploy-{tag.removeprefix('v')}.zip": asset_zip(tag),
                "checksums.txt": b"not a template\n",
            },
        )
    monkeypatch.setenv("STEPS_GITHUB_API_URL", server.api_url)
    return server


# --- static files: NuGet feeds and archives ---------------------------------------------------


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    """One static file server for the session; each feed lives under a path of its own."""
    with StaticServer(tmp_path_factory.mktemp("static")) as served:
        yield served


@pytest.fixture
def server(shared_server: StaticServer) -> StaticServer:
    """The static server with no faults pending and an empty request log."""
    shared_server.clear()
    return shared_server
