"""Script modules from a NuGet feed: ranges combined across consumers, versions from the feed."""

from __future__ import annotations

import tomllib

import pytest

from tests.support.httpserver import StaticServer
from tests.support.nugetfeed import NuGetFeed
from tests.support.projects import Steps

HELPERS_ID = "Acme.Modules.Helpers"


@pytest.fixture
def feed(server: StaticServer) -> NuGetFeed:
    """A feed offering the bash module Helpers as 1.2.3, 1.4.0 and 2.0.1."""
    feed = NuGetFeed.on(server)
    for version in ("1.2.3", "1.4.0", "2.0.1"):
        module = (
            f'kind = "module"\nname = "Helpers"\n[script]\nsyntax = "bash"\n'
            f'body = "helpers() {{ echo helpers {version}; }}"\n'
        )
        feed.add(HELPERS_ID, version, {"steptemplate.toml": module})
    return feed


def project(steps: Steps, feed: NuGetFeed, step_range: str) -> None:
    deploy = steps.directory / "deploy"
    deploy.mkdir(exist_ok=True)
    (deploy / "steptemplate.toml").write_text(
        'name = "deploy"\n[script]\nsyntax = "bash"\nbody = "helpers"\n'
        '[modules]\nHelpers = { version = "^1.2", autoload = true }\n'
    )
    steps.write(
        '[templates.deploy]\npath = "deploy"\n\n'
        f'[modules.Helpers]\nnuget = "{feed.index_url}"\nid = "{HELPERS_ID}"\n\n'
        f'[[steps]]\nname = "go"\ntemplate = "deploy"\nmodules = {{ Helpers = "{step_range}" }}\n'
    )


def locked_module(steps: Steps) -> dict[str, object]:
    data = tomllib.loads(steps.lock_path.read_text(encoding="utf-8"))
    modules: list[dict[str, object]] = data["module"]
    assert [m["name"] for m in modules] == ["Helpers"]
    return modules[0]


def test_the_feed_version_in_every_range_runs(steps: Steps, feed: NuGetFeed) -> None:
    project(steps, feed, "<1.4")

    ran = steps.ok("run")

    entry = locked_module(steps)
    assert (entry["source"], entry["version"], entry["requested"]) == (
        "nuget",
        "1.2.3",
        "<1.4, ^1.2",
    )
    assert "helpers 1.2.3" in ran.out  # autoloaded, as the template's need asks


def test_no_feed_version_in_every_range(steps: Steps, feed: NuGetFeed) -> None:
    project(steps, feed, "^2.0")

    failed = steps.fails("lock")

    assert failed.error == (
        "script module 'Helpers': no version satisfies every requirement: template 'deploy' "
        "needs ^1.2, step 'go' needs ^2.0, steps.toml needs *; nearest available: 1.2.3, "
        "1.4.0, 2.0.1"
    )


def test_add_a_module_from_the_feed(steps: Steps, feed: NuGetFeed) -> None:
    steps.ok("init")

    added = steps.ok("add", f"nuget:{feed.index_url}#{HELPERS_ID}", "--module")

    assert (
        f'[modules.Helpers]\nnuget = "{feed.index_url}"\nid = "{HELPERS_ID}"\nversion = "^2.0.1"\n'
    ) in steps.manifest.read_text()
    assert locked_module(steps)["version"] == "2.0.1"
    assert "Added script module 'Helpers'" in added.err
    steps.ok("lock", "--locked")
