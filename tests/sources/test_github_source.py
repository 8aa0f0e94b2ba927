"""The GitHub source through the CLI: release assets and source archives, versions from
releases or tags, subdirectories, prereleases, pinned tags, pagination and packages."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest

from steptemplates import lockfile
from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.manifest import GitHubRequirement, TemplateRef
from steptemplates.sources import SourceContext, for_kind, lock_identity
from steptemplates.sources.github import GitHubSource
from tests.sources.conftest import NAME, OWNER, REPO, TOKEN, asset_zip
from tests.support.githubserver import GitHubServer, Release
from tests.support.projects import OTHER, Catalog, Steps, cache_root


def manifest(*templates: str, steps: str = "") -> str:
    return "\n".join(templates) + "\n" + steps


def template(name: str = "deploy", **keys: str | bool) -> str:
    lines = [f"[templates.{name}]", f'github = "{REPO}"']
    for key, value in keys.items():
        shown = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
        lines.append(f"{key.replace('_', '-')} = {shown}")
    return "\n".join(lines) + "\n"


def step(template_name: str = "deploy") -> str:
    return f'[[steps]]\nname = "Run {template_name}"\ntemplate = "{template_name}"\n'


def release_of(github: GitHubServer, tag: str) -> Release:
    repo = github.repo(OWNER, NAME)
    assert repo is not None
    return next(release for release in repo.releases if release.tag == tag)


def downloads() -> list[Path]:
    root = cache_root() / "downloads"
    return sorted(root.rglob("*.*")) if root.is_dir() else []


def test_a_release_asset_is_locked_by_its_bytes_and_runs(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(manifest(template(asset="deploy-*.zip", version="^1"), steps=step()))

    steps.ok("lock")
    entry = steps.lock()["deploy"]
    run = steps.ok("run")

    assert run.out.strip() == "asset greet v1.2.7"
    asset = next(a for a in release_of(github, "v1.2.7").assets if a.name == "deploy-1.2.7.zip")
    assert entry == {
        "name": "deploy",
        "source": "github",
        "url": github.api_url,
        "id": REPO,
        "asset": "deploy-*.zip",
        "requested": "^1",
        "version": "1.2.7",
        "tag": "v1.2.7",
        "artifact": f"{github.api_url}/repos/{REPO}/releases/assets/{asset.id}",
        "file": "deploy-1.2.7.zip",
        "sha256": hashlib.sha256(asset_zip("v1.2.7")).hexdigest(),
        "integrity": entry["integrity"],
    }
    (download,) = github.requests_to(f"/repos/{REPO}/releases/assets/*")
    assert download.headers["accept"] == "application/octet-stream"
    assert [r.path.split("?")[0] for r in github.storage.requests] == [
        f"/blobs/{entry['sha256']}/deploy-1.2.7.zip"
    ]
    assert [p.name for p in downloads()] == ["deploy-1.2.7.zip"]


def test_without_an_asset_the_source_archive_at_the_tag_is_used(
    steps: Steps, github: GitHubServer, github_catalog: Catalog
) -> None:
    steps.write(manifest(template(version="~1.2"), steps=step()))

    run = steps.ok("run")
    entry = steps.lock()["deploy"]

    assert run.out.strip() == "greet v1.2.7"
    commit = github_catalog.commits["v1.2.7"]
    assert (entry["version"], entry["tag"], entry["commit"]) == ("1.2.7", "v1.2.7", commit)
    assert entry["artifact"] == f"{github.api_url}/repos/{REPO}/tarball/{commit}"
    assert entry["file"] == "deploy-1.2.7.tar.gz"
    assert "sha256" not in entry and "asset" not in entry
    assert [r.path for r in github.requests_to(f"/repos/{REPO}/commits/*")] == [
        f"/repos/{REPO}/commits/v1.2.7"
    ]
    assert downloads() == []  # GitHub's archives are not byte-stable: nothing to find later


@pytest.mark.parametrize(
    ("keys", "printed"),
    [
        ({"asset": "deploy-*.zip"}, "asset other v1.2.7"),
        ({}, "other v1.2.7"),
    ],
)
def test_a_subdirectory_of_the_archive(
    steps: Steps, github: GitHubServer, keys: dict[str, str], printed: str
) -> None:
    steps.write(manifest(template(version="^1", subdir=OTHER, **keys), steps=step()))

    assert steps.ok("run").out.strip() == printed
    assert steps.lock()["deploy"]["subdir"] == OTHER


def test_a_missing_subdirectory_lists_what_the_archive_holds(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(manifest(template(asset="deploy-*.zip", version="^1", subdir="nope")))

    error = steps.fails("lock").error

    assert error.startswith("template 'deploy': github:acme/deploy//nope@v1.2.7 has no directory")
    assert "run.sh" in error and "templates/" in error


def test_versions_from_tags_use_the_tag_commits(
    steps: Steps, github: GitHubServer, github_catalog: Catalog
) -> None:
    steps.write(
        manifest(
            template("stable", versions="tags"),
            template("next", versions="tags", prerelease=True),
            steps=step("stable") + step("next"),
        )
    )

    run = steps.ok("run")
    locked = steps.lock()

    assert run.out.split() == ["greet", "v2.0.0", "greet", "v2.1.0-rc.1"]
    assert locked["stable"]["requested"] == "* (tags)"
    assert locked["next"]["commit"] == github_catalog.commits["v2.1.0-rc.1"]
    assert github.requests_to("/repos/*/releases") == []
    assert github.requests_to("/repos/*/commits/*") == []  # the listing names each commit
    assert locked["next"]["version"] == "2.1.0-rc.1"


def test_prereleases_only_when_asked_and_the_github_flag_counts(
    steps: Steps, github: GitHubServer
) -> None:
    # Flagged on GitHub though its tag has no label: still a prerelease.
    github.add_release(
        OWNER, NAME, "v3.0.0", prerelease=True, assets={"deploy-3.0.0.zip": asset_zip("v3.0.0")}
    )
    steps.write(
        manifest(
            template("stable", asset="deploy-*.zip"),
            template("any", asset="deploy-*.zip", prerelease=True),
            template("two", asset="deploy-*.zip", version="^2", prerelease=True),
        )
    )

    steps.ok("lock")
    locked = steps.lock()

    assert locked["stable"]["version"] == "2.0.0"
    assert locked["any"]["version"] == "3.0.0"
    assert locked["two"]["version"] == "2.1.0-rc.1"
    assert locked["any"]["requested"] == "* (prereleases)"


def test_a_release_flagged_prerelease_is_named_when_only_it_matches(
    steps: Steps, github: GitHubServer
) -> None:
    github.add_release(OWNER, NAME, "v3.0.0", prerelease=True, assets={})
    steps.write(manifest(template(asset="*.zip", version="^3")))

    error = steps.fails("lock").error

    assert error == (
        "template 'deploy' (GitHub acme/deploy): only prereleases match '^3': 3.0.0 "
        "(allow them with prerelease = true)"
    )


def test_a_pinned_tag(steps: Steps, github: GitHubServer, github_catalog: Catalog) -> None:
    steps.write(
        manifest(
            template("old", tag="v1.0.0", asset="deploy-*.zip"),
            template("beta", tag="v1.3.0-beta.1"),
            steps=step("old") + step("beta"),
        )
    )

    assert steps.ok("run").out.split() == ["asset", "greet", "v1.0.0", "greet", "v1.3.0-beta.1"]
    locked = steps.lock()
    assert (locked["old"]["tag"], locked["old"]["requested"]) == ("v1.0.0", "tag=v1.0.0")
    assert locked["beta"]["version"] == "1.3.0-beta.1"
    assert locked["beta"]["commit"] == github_catalog.commits["v1.3.0-beta.1"]


def test_a_pinned_tag_that_has_no_release_suggests_close_ones(
    steps: Steps, github: GitHubServer
) -> None:
    steps.write(manifest(template(tag="v1.2.8")))

    outcome = steps.fails("lock")

    assert outcome.error.startswith(
        "template 'deploy': GitHub repository acme/deploy has no release 'v1.2.8'; did you mean "
    )
    assert "v1.2.7" in outcome.error


def test_releases_on_later_pages_are_found(
    steps: Steps, github: GitHubServer, github_catalog: Catalog
) -> None:
    github.add_repo(OWNER, "many", github_catalog.repo.path)
    # Published highest first, so that the highest is listed last, on the second page.
    for patch in range(150, 0, -1):
        github.add_release(OWNER, "many", f"v0.1.{patch}", assets={"t.zip": asset_zip("v1")})
    steps.write(f'[templates.many]\ngithub = "{OWNER}/many"\nasset = "t.zip"\n')

    steps.ok("lock")

    assert steps.lock()["many"]["version"] == "0.1.150"
    pages = [r.path for r in github.requests_to(f"/repos/{OWNER}/many/releases")]
    assert pages == [
        f"/repos/{OWNER}/many/releases?per_page=100",
        f"/repos/{OWNER}/many/releases?per_page=100&page=2",
    ]


def test_drafts_are_never_versions(
    steps: Steps, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)  # a token with push access sees drafts
    github.add_release(
        OWNER, NAME, "v9.0.0", draft=True, assets={"deploy-9.0.0.zip": asset_zip("v9.0.0")}
    )
    steps.write(manifest(template(asset="deploy-*.zip")))

    steps.ok("lock")

    assert b'"draft": true' in _listing_body(github)
    assert steps.lock()["deploy"]["version"] == "2.0.0"


def _listing_body(github: GitHubServer) -> bytes:
    response = httpx.get(
        f"{github.api_url}/repos/{REPO}/releases",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return response.content


def test_a_package_from_a_github_release(
    steps: Steps, github: GitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applications = tmp_path / "Applications"
    monkeypatch.setenv("STEPS_APPLICATIONS_DIR", str(applications))
    steps.write(
        f'[packages.site]\ngithub = "{REPO}"\nversion = "^1"\nsubdir = "{OTHER}"\n'
        '[[steps]]\nname = "site"\npackage = "site"\n'
    )

    steps.ok("run")

    installed = applications / "site" / "1.2.7"
    assert (installed / "run.sh").read_text() == "echo other v1.2.7\n"
    locked = lockfile.load(steps.lock_path)
    assert locked is not None and locked.packages["site"].source == "github"


def test_the_library_entry_is_consistent_and_materializes(
    tmp_path: Path, github: GitHubServer
) -> None:
    context = SourceContext(Cache(), Console(io.StringIO(), io.StringIO()))
    source = for_kind("github", context, tmp_path)
    assert isinstance(source, GitHubSource)
    requirement = GitHubRequirement(
        repo=REPO, api_url=github.api_url, asset="*.zip", subdir=OTHER, version="<1.2"
    )
    ref = TemplateRef("other", requirement)

    entry = source.lock(ref)
    path = source.materialize(entry)

    assert lockfile._inconsistency(entry) is None
    assert {key: getattr(entry, key) or "" for key in lock_identity(ref)} == lock_identity(ref)
    assert (path / "run.sh").read_text() == "echo asset other v1.1.0\n"
    assert source.from_cache(entry) == path
