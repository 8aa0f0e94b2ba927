"""`steps add` with github:, nuget: and archive URL sources, end to end through `run`."""

from __future__ import annotations

import hashlib
import io
import tarfile
import tomllib
from pathlib import Path

import pytest

from steptemplates import fsutil, source_config
from tests.sources.conftest import REPO
from tests.support.githubserver import GitHubServer
from tests.support.httpserver import StaticServer
from tests.support.nugetfeed import PACKAGE_ID, GuardedServer, NuGetFeed, publish
from tests.support.projects import Steps, assert_cache_consistent, cache_entries, cache_root

STEP = '\n[[steps]]\nname = "Go"\ntemplate = "{name}"\n'


@pytest.fixture
def static(server: StaticServer) -> StaticServer:
    return server


@pytest.fixture
def project(steps: Steps) -> Steps:
    steps.ok("init")
    return steps


def manifest_of(steps: Steps) -> dict[str, dict[str, object]]:
    return tomllib.loads(steps.manifest.read_text(encoding="utf-8"))["templates"]


def run_step(steps: Steps, name: str) -> str:
    steps.manifest.write_text(
        steps.manifest.read_text(encoding="utf-8") + STEP.format(name=name), encoding="utf-8"
    )
    return steps.ok("run").out


# --- GitHub --------------------------------------------------------------------------------


def test_add_a_release_asset_pins_the_newest_stable_release(
    project: Steps, github: GitHubServer
) -> None:
    added = project.ok("add", f"github:{REPO}", "--asset", "deploy-*.zip")

    assert manifest_of(project)["deploy"] == {
        "github": REPO,
        "asset": "deploy-*.zip",
        "version": "^2.0.0",
    }
    entry = project.lock()["deploy"]
    assert (entry["source"], entry["tag"], entry["file"]) == ("github", "v2.0.0", "deploy-2.0.0.zip")
    assert "locked 2.0.0" in added.err
    assert "asset greet v2.0.0" in run_step(project, "deploy")
    # The entry resolved by `add` is the one kept: relocking changes nothing, offline.
    before = project.lock_path.read_bytes()
    project.ok("lock", "--offline")
    assert project.lock_path.read_bytes() == before


def test_add_a_source_archive_subdirectory_with_a_version(
    project: Steps, github: GitHubServer
) -> None:
    project.ok("add", f"github:{REPO}", "--subdir", "templates/other", "--version", "~1.2")

    assert manifest_of(project)["other"] == {
        "github": REPO,
        "subdir": "templates/other",
        "version": "~1.2",
    }
    entry = project.lock()["other"]
    assert entry["tag"] == "v1.2.7" and len(entry["commit"]) == 40 and "sha256" not in entry
    assert "other v1.2.7" in run_step(project, "other")
    assert_cache_consistent()


def test_add_from_tags_like_octopus(project: Steps, github: GitHubServer) -> None:
    project.ok("add", f"github:{REPO}", "--tags", "--prerelease", "--name", "edge")

    assert manifest_of(project)["edge"] == {
        "github": REPO,
        "versions": "tags",
        "version": "^2.1.0-rc.1",
        "prerelease": True,
    }
    assert project.lock()["edge"]["requested"] == "^2.1.0-rc.1 (prereleases) (tags)"


def test_add_with_a_named_github_source(project: Steps, github: GitHubServer) -> None:
    project.manifest.write_text(
        project.manifest.read_text(encoding="utf-8")
        + f'\n[sources.ghe]\ngithub = "{github.enterprise_url}"\n',
        encoding="utf-8",
    )
    project.ok("add", f"github:{REPO}", "--source", "ghe", "--tag", "v1.0.0")

    assert manifest_of(project)["deploy"] == {"github": REPO, "source": "ghe", "tag": "v1.0.0"}
    assert project.lock()["deploy"]["url"] == github.enterprise_url


# --- NuGet ---------------------------------------------------------------------------------


def test_add_from_a_nuget_feed_url(project: Steps, static: StaticServer) -> None:
    feed = NuGetFeed.on(static)
    publish(feed, "1.0.0", "1.4.0", "2.0.0-beta.1")

    project.ok("add", f"nuget:{feed.index_url}#{PACKAGE_ID}")

    assert manifest_of(project)["Acme.Templates.Iis"] == {
        "nuget": feed.index_url,
        "id": PACKAGE_ID,
        "version": "^1.4.0",
    }
    assert "iis 1.4.0" in run_step(project, "Acme.Templates.Iis")


def test_add_through_a_named_nuget_source(project: Steps, static: StaticServer) -> None:
    feed = NuGetFeed.on(static)
    publish(feed, "1.0.0")
    project.manifest.write_text(
        project.manifest.read_text(encoding="utf-8")
        + f'\n[sources.acme]\nnuget = "{feed.index_url}"\n',
        encoding="utf-8",
    )

    project.ok("add", f"nuget:acme#{PACKAGE_ID}", "--name", "iis")

    assert manifest_of(project)["iis"] == {"source": "acme", "id": PACKAGE_ID, "version": "^1.0.0"}
    assert project.lock()["iis"]["url"] == feed.index_url


def test_steps_publish_output_is_read_back_by_steps_add(
    project: Steps, static: StaticServer, tmp_path: Path
) -> None:
    """What `steps pack` + `steps publish` write is a feed `steps add nuget:` resolves."""
    feed_dir = static.root / "published"
    base_url = f"{static.url}/published"
    for version in ("1.0.0", "1.2.0", "2.0.0"):
        source = tmp_path / f"template-{version}"
        source.mkdir()
        (source / "steptemplate.toml").write_text(
            'name = "Notify"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n', encoding="utf-8"
        )
        (source / "run.sh").write_text(f"echo notify {version}\n", encoding="utf-8")
        project.ok("pack", str(source), "--version", version, "--id", "Acme.Notify", "--out", "dist")
        project.ok("publish", f"dist/Acme.Notify.{version}.nupkg", "--feed", str(feed_dir),
                   "--base-url", base_url)  # fmt: skip

    project.ok("add", f"nuget:{base_url}/index.json#Acme.Notify", "--version", "^1", "--name", "n")

    entry = project.lock()["n"]
    assert (entry["source"], entry["version"]) == ("nuget", "1.2.0")
    package = feed_dir / "flatcontainer/acme.notify/1.2.0/acme.notify.1.2.0.nupkg"
    assert entry["sha256"] == hashlib.sha256(package.read_bytes()).hexdigest()
    assert "notify 1.2.0" in run_step(project, "n")


# --- archive URLs --------------------------------------------------------------------------


def _tarball(top: str, script: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in (
            ("steptemplate.toml", 'name = "tool"\n[script]\nsyntax = "bash"\nfile = "run.sh"\n'),
            ("run.sh", script),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_add_an_archive_url_with_its_sha256(project: Steps, static: StaticServer) -> None:
    body = _tarball("tool-1.2.0", "echo tool ran\n")
    (static.root / "tool-1.2.0.tar.gz").write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    url = f"{static.url}/tool-1.2.0.tar.gz"

    project.ok("add", url, "--sha256", digest.upper())

    assert manifest_of(project)["tool-1.2.0"] == {"url": url, "sha256": digest}
    assert project.lock()["tool-1.2.0"]["sha256"] == digest
    assert "tool ran" in run_step(project, "tool-1.2.0")


def test_a_wrong_sha256_changes_nothing(project: Steps, static: StaticServer) -> None:
    (static.root / "other.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    before = project.manifest.read_bytes()
    wrong = "0" * 64

    failed = project.fails("add", f"{static.url}/other.zip", "--sha256", wrong)

    assert f"but steps.toml gives {wrong}" in failed.error
    assert project.manifest.read_bytes() == before
    assert not project.lock_path.exists()
    assert cache_entries() == {}


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["github:acme"], "'github:acme' is not github:OWNER/REPOSITORY; e.g. github:acme/templates"),
        (["nuget:https://f.example/index.json"], "'nuget:https://f.example/index.json' is not nuget:FEED#PackageId"),
        (["nuget:nowhere#X"], "no source named 'nowhere'"),
        (["nuget:https://f.example/index.json#Not An Id"], "'Not An Id' is not a NuGet package id"),
        (["github:o/r", "--asset", "*.zip", "--tags"], "--asset needs release versions"),
        (["github:o/r", "--sha256", "00"], "--sha256 applies to archive URLs"),
        (["github:o/r", "--branch", "main"], "--branch, --rev, --token-env and --username apply to git sources"),
        (["https://h.example/t.zip", "--version", "^1"], "an archive URL has no versions"),
        (["https://h.example/t.zip", "--sha256", "xyz"], "--sha256 must be 64 hex digits"),
        (["https://h.example/repo.git", "--asset", "*.zip"], "--asset applies to github:, nuget: and archive URL sources"),
        (["https://me:pw@h.example/t.zip"], "the URL has credentials written into it"),
    ],
)
def test_bad_feed_arguments(project: Steps, args: list[str], expected: str) -> None:
    before = project.manifest.read_bytes()
    failed = project.fails("add", *args)
    assert failed.error.startswith(expected), failed.error
    assert "pw@" not in failed.err
    assert project.manifest.read_bytes() == before


def test_cache_prune_keeps_the_locked_downloads(project: Steps, static: StaticServer) -> None:
    feed = NuGetFeed.on(static)
    publish(feed, "1.0.0")
    project.ok("add", f"nuget:{feed.index_url}#{PACKAGE_ID}", "--name", "iis")
    locked = project.lock()["iis"]
    orphan = cache_root() / "downloads" / ("sha256-" + "0" * 64)
    orphan.mkdir()
    (orphan / "old.nupkg").write_bytes(b"old")

    pruned = project.ok("cache", "prune")

    assert "1 downloaded archive" in pruned.err
    kept = sorted(p.name for p in (cache_root() / "downloads").iterdir())
    assert kept == [f"sha256-{locked['sha256']}"]
    assert locked["integrity"] in cache_entries()
    assert not (cache_root() / "http").exists()
    # What was kept is enough to work offline.
    assert "iis 1.0.0" in run_step(project, "iis")
    project.ok("run", "--offline")


def test_credentials_from_a_source_in_the_user_config(
    project: Steps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed declared only in the user's config.toml: steps.toml and steps.lock name its URL
    and nothing secret, and a frozen sync finds the credentials again by that URL."""
    password = "feed-pa55word"
    with GuardedServer(tmp_path / "guarded", basic=("deployer", password)) as guarded:
        feed = NuGetFeed.on(guarded)
        publish(feed, "1.0.0")
        config = source_config.user_config_path()
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            f'[sources.private]\nnuget = "{feed.index_url}"\nusername = "deployer"\n'
            'password-env = "PRIVATE_FEED_PASSWORD"\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("PRIVATE_FEED_PASSWORD", password)

        project.ok("add", f"nuget:private#{PACKAGE_ID}", "--name", "iis")
        fsutil.remove_tree(cache_root())
        synced = project.ok("sync", "--frozen")

        monkeypatch.delenv("PRIVATE_FEED_PASSWORD")
        fsutil.remove_tree(cache_root())
        refused = project.fails("sync", "--frozen")

    assert manifest_of(project)["iis"] == {"source": "private", "id": PACKAGE_ID, "version": "^1.0.0"}
    assert "Synced 1 template" in synced.err
    assert "PRIVATE_FEED_PASSWORD" in refused.error
    for path in (project.manifest, project.lock_path):
        assert password not in path.read_text(encoding="utf-8")
    assert all(password not in out for out in (synced.err, refused.err))


def test_relocking_an_unchanged_feed_only_revalidates(project: Steps, static: StaticServer) -> None:
    """`lock --upgrade` on an unchanged NuGet feed: the service index once, the versions
    list, both with If-None-Match; no package is downloaded again. A cache filled by `sync`
    alone (a fresh clone, CI) knows as much."""
    feed = NuGetFeed.on(static)
    publish(feed, "1.0.0", "1.1.0")
    second_id = "Acme.Templates.Web"
    feed.add(second_id, "1.0.0")
    project.ok("add", f"nuget:{feed.index_url}#{PACKAGE_ID}", "--name", "iis")
    project.ok("add", f"nuget:{feed.index_url}#{second_id}", "--name", "web")
    lock_before = project.lock_path.read_bytes()

    def relock_requests() -> list[str]:
        static.clear()
        project.ok("lock", "--upgrade")
        assert project.lock_path.read_bytes() == lock_before
        assert all("if-none-match" in r.headers for r in static.requests)
        return sorted(r.path.rsplit("/", 2)[-2] + "/" + r.path.rsplit("/", 1)[-1] for r in static.requests)

    expected = ["acme.templates.iis/index.json", "acme.templates.web/index.json", "v3/index.json"]
    assert relock_requests() == expected

    fsutil.remove_tree(cache_root() / "templates")
    fsutil.remove_tree(cache_root() / "artifacts")
    project.ok("sync")
    assert relock_requests() == expected
