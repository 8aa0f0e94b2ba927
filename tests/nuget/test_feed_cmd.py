"""`steps pack` and `steps publish` through the CLI, and a project using what they made."""

from __future__ import annotations

import json
from pathlib import Path

from tests.nuget.conftest import make_template
from tests.support.httpserver import StaticServer
from tests.support.projects import Steps


def test_pack_prints_the_package_path(steps: Steps, template: Path) -> None:
    outcome = steps.ok("pack", str(template), "--version", "1.0")
    assert outcome.out == "Deploy-Web.1.0.0.nupkg\n"
    assert (steps.directory / "Deploy-Web.1.0.0.nupkg").is_file()


def test_pack_with_id_and_out(steps: Steps, template: Path) -> None:
    outcome = steps.ok(
        "pack", str(template), "--version", "2.1.0-rc.1", "--id", "Acme.Web", "--out", "dist"
    )
    assert outcome.out == "dist/Acme.Web.2.1.0-rc.1.nupkg\n"
    assert (steps.directory / "dist" / "Acme.Web.2.1.0-rc.1.nupkg").is_file()


def test_pack_refusals(steps: Steps, template: Path) -> None:
    assert steps.fails("pack", str(template)).error == (
        f"cannot pack {template}: no version given; pass --version, e.g. 1.0.0"
    )
    assert (
        "invalid version: '1.x' is not a version"
        in steps.fails("pack", str(template), "--version", "1.x").error
    )
    assert (
        "invalid package id 'a/b'"
        in steps.fails("pack", str(template), "--version", "1.0.0", "--id", "a/b").error
    )
    (template / "link").symlink_to(template / "run.sh")
    assert "'link' is a symbolic link" in steps.fails("pack", str(template), "--version", "1").error
    assert list(steps.directory.glob("*.nupkg")) == []


def test_publish_then_republish(steps: Steps, template: Path) -> None:
    steps.ok("pack", str(template), "--version", "1.0.0", "--out", "dist")
    package = "dist/Deploy-Web.1.0.0.nupkg"
    base = "http://127.0.0.1:9/feed"

    outcome = steps.ok("publish", package, "--feed", "feed", "--base-url", base)

    assert outcome.out == f"{base}/index.json\n"
    assert "Published Deploy-Web 1.0.0 in feed" in outcome.err
    versions = json.loads(
        (steps.directory / "feed/flatcontainer/deploy-web/index.json").read_text()
    )
    assert versions == {"versions": ["1.0.0"]}

    again = steps.fails("publish", package, "--feed", "feed")
    assert again.error == (
        "Deploy-Web 1.0.0 is already in the feed feed; publish a new version, "
        "or pass --force to replace it"
    )
    assert (
        "Replaced Deploy-Web 1.0.0" in steps.ok("publish", package, "--feed", "feed", "--force").err
    )

    moved = steps.fails("publish", package, "--feed", "feed", "--base-url", "https://x.test/f")
    assert moved.error.startswith(f"the feed feed is served at {base}, not https://x.test/f;")


def test_publish_refuses_a_file_that_is_not_a_package(steps: Steps) -> None:
    (steps.directory / "notes.nupkg").write_text("hello", encoding="utf-8")
    outcome = steps.fails("publish", "notes.nupkg", "--feed", "feed")
    assert outcome.error == (
        "notes.nupkg is not a valid .nupkg (File is not a zip file); "
        "make the package again, for example with steps pack"
    )
    assert not (steps.directory / "feed").exists()


def test_publish_without_base_url_says_it_made_a_folder_feed(steps: Steps, template: Path) -> None:
    steps.ok("pack", str(template), "--version", "1.0.0")
    outcome = steps.ok("publish", "Deploy-Web.1.0.0.nupkg", "--feed", "feed")
    folder = (steps.directory / "feed").resolve().as_uri()
    assert outcome.out == f"{folder}/index.json\n"
    assert f"No --base-url given: the feed's URLs start with {folder}" in outcome.err


def test_a_project_uses_a_published_template(steps: Steps, tmp_path: Path) -> None:
    """Pack two versions, publish them to a feed served over HTTP, lock and run the newest."""
    (tmp_path / "www").mkdir()
    with StaticServer(tmp_path / "www") as server:
        base = f"{server.url}/feed"
        for version, message in (("1.0.0", "one"), ("1.1.0", "eleven")):
            root = make_template(tmp_path / f"src-{version}")
            (root / "run.sh").write_text(f"#!/bin/sh\necho deployed {message}\n", encoding="utf-8")
            steps.ok("pack", str(root), "--version", version, "--id", "Acme.Web", "--out", "dist")
            steps.ok(
                "publish",
                f"dist/Acme.Web.{version}.nupkg",
                "--feed",
                str(tmp_path / "www/feed"),
                "--base-url",
                base,
            )
        steps.write(
            f'[templates.web]\nnuget = "{base}/index.json"\nid = "Acme.Web"\nversion = "^1"\n\n'
            '[[steps]]\nname = "Go"\ntemplate = "web"\n'
        )

        steps.ok("lock")
        ran = steps.ok("run")

    assert "deployed eleven" in ran.out
    assert steps.lock()["web"]["version"] == "1.1.0"
