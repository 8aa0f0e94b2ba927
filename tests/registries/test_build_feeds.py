"""`steps registry build` over GitHub-release and NuGet-feed collections: versions with
their dates and notes from the feed, the newest stable version locked and loaded for the
rest; bad collections; and the index used end to end by `steps search` and `steps add`."""

from __future__ import annotations

import io
import shutil
import tomllib
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.manifest import GitHubRequirement
from steptemplates.registries import build, index
from steptemplates.registries.build import TemplateProblem
from steptemplates.registries.index import IndexEntry, IndexSource, IndexVersion, RegistryIndex
from steptemplates.registries.refs import template_ref
from tests.support.githubserver import GitHubServer
from tests.support.gitserver import GitRepo, make_repo
from tests.support.httpserver import StaticServer
from tests.support.nugetfeed import NuGetFeed
from tests.support.projects import Steps

CREATED = 1_700_000_000  # the server's published_at is this plus the release's id
IIS_ID = "Acme.Templates.Iis"
SLACK_ID = "Acme.Templates.Slack"


def native(name: str, parameter: str, *, description: str = "") -> str:
    return (
        f'name = "{name}"\n'
        f'description = "{description or name + " does its job."}"\n'
        'category = "web"\n\n'
        f'[[parameters]]\nname = "{parameter}"\ndefault = "x"\n\n'
        '[script]\nsyntax = "bash"\nbody = "echo hi"\n'
    )


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def registry_dir(tmp_path: Path, body: str) -> Path:
    directory = tmp_path / "registry"
    directory.mkdir(exist_ok=True)
    (directory / "registry.toml").write_text(f'name = "feeds"\n\n{body}', encoding="utf-8")
    return directory


def run_build(directory: Path, *, strict: bool = False) -> tuple[build.BuildResult, str]:
    err = io.StringIO()
    result = build.build(directory, Console(io.StringIO(), err), strict=strict)
    return result, err.getvalue()


def entries(directory: Path) -> dict[str, IndexEntry]:
    return {e.name: e for e in index.load(directory / "index.toml").entries}


def published(release_id: int) -> datetime:
    return datetime.fromtimestamp(CREATED + release_id, UTC)


# --- servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def github_server() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server


@pytest.fixture
def github(github_server: GitHubServer) -> GitHubServer:
    github_server.reset()
    return github_server


@pytest.fixture(scope="module")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    with StaticServer(tmp_path_factory.mktemp("feeds")) as served:
        yield served


@pytest.fixture
def feed(static_server: StaticServer) -> NuGetFeed:
    static_server.clear()
    return NuGetFeed.on(static_server)


def released_repo(tmp_path: Path, github: GitHubServer, name: str = "deploy") -> GitRepo:
    """acme/NAME: a git repository with templates/iis tagged v1.0.0, v1.1.0, v2.0.0-rc.1."""
    repo = make_repo(tmp_path / name)
    github.add_repo("acme", name, repo.path)
    for tag, parameter in (("v1.0.0", "Site"), ("v1.1.0", "SiteName"), ("v2.0.0-rc.1", "Site")):
        repo.write("templates/iis/steptemplate.toml", native("IIS deploy", parameter))
        repo.commit(f"release {tag}")
        repo.tag(tag)
    return repo


# --- GitHub ------------------------------------------------------------------------------------


def test_github_releases_with_an_asset(tmp_path: Path, github: GitHubServer) -> None:
    released_repo(tmp_path, github)
    ids = {}
    for tag in ("v1.0.0", "v1.1.0", "v2.0.0-rc.1"):
        parameter = "SiteName" if tag == "v1.1.0" else "Site"
        files = {"iis/steptemplate.toml": native("IIS deploy", parameter), "README.md": "x"}
        asset = zipped(files)
        ids[tag] = github.add_release(
            "acme", "deploy", tag, prerelease="-" in tag, assets={"iis-1.zip": asset}
        ).id
    # Flagged a pre-release but tagged as a stable version: left out, not listed as stable.
    github.add_release("acme", "deploy", "v1.2.0", prerelease=True)
    github.add_release("acme", "deploy", "v3.0.0", draft=True)
    directory = registry_dir(
        tmp_path,
        "[[collection]]\n"
        'github = "acme/deploy"\n'
        f'api-url = "{github.enterprise_url}"\n'
        'asset = "iis-*.zip"\n'
        'subdir = "iis"\n'
        'maintainers = ["Web team"]\n',
    )

    result, warnings = run_build(directory)

    assert warnings == ""
    assert result.added == ("iis-deploy",)
    (entry,) = entries(directory).values()
    assert entry == IndexEntry(
        name="iis-deploy",
        description="IIS deploy does its job.",
        category="web",
        source=IndexSource(
            "github", "acme/deploy", subdir="iis", asset="iis-*.zip", api_url=github.enterprise_url
        ),
        format="native",
        maintainers=("Web team",),
        versions=tuple(
            IndexVersion(
                version=tag.removeprefix("v"),
                tag=tag,
                published=published(ids[tag]),
                notes=f"Release {tag}",
            )
            for tag in ("v2.0.0-rc.1", "v1.1.0", "v1.0.0")
        ),
        parameters=entry.parameters,
    )
    # Described by the newest stable version, not the newer prerelease.
    assert [p.name for p in entry.parameters] == ["SiteName"]


def test_github_tags_and_the_source_archive(
    tmp_path: Path, github: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = released_repo(tmp_path, github, "tagged")
    monkeypatch.setenv("STEPS_GITHUB_API_URL", github.api_url)
    directory = registry_dir(
        tmp_path,
        '[[collection]]\ngithub = "acme/tagged"\nversions = "tags"\nsubdir = "templates/iis"\n'
        'name = "acme-{name}"\n'
        '[collection.templates.acme-iis-deploy]\ncategory = "iis"\n',
    )

    run_build(directory)

    (entry,) = entries(directory).values()
    assert (entry.name, entry.category) == ("acme-iis-deploy", "iis")
    # The API named by the environment is the builder's, not the index's: none is written.
    assert entry.source == IndexSource(
        "github", "acme/tagged", subdir="templates/iis", from_tags=True
    )
    assert [(v.version, v.tag, v.commit) for v in entry.versions] == [
        ("2.0.0-rc.1", "v2.0.0-rc.1", repo.rev_parse("v2.0.0-rc.1")),
        ("1.1.0", "v1.1.0", repo.rev_parse("v1.1.0")),
        ("1.0.0", "v1.0.0", repo.rev_parse("v1.0.0")),
    ]
    assert [p.name for p in entry.parameters] == ["SiteName"]


# --- NuGet -------------------------------------------------------------------------------------


def test_nuget_ids_each_a_template_dated_by_the_registration(
    tmp_path: Path, feed: NuGetFeed
) -> None:
    for version, parameter in (("1.0.0", "Site"), ("1.2.0", "SiteName"), ("2.0.0-beta", "X")):
        feed.add(IIS_ID, version, {"steptemplate.toml": native("iis", parameter)})
    feed.add(SLACK_ID, "0.1.0", {"steptemplate.toml": native("Slack notify", "Channel")})
    feed.write_json(
        f"registration5-gz-semver2/{IIS_ID.lower()}/index.json",
        {
            "items": [
                {
                    "items": [
                        {"catalogEntry": {"version": "1.2.0", "published": "2024-03-04T05:06:07Z"}}
                    ]
                }
            ]
        },
    )
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\nnuget = "{feed.index_url}"\nids = ["{IIS_ID}", "{SLACK_ID}"]\n'
        'category = "acme"\n'
        '[collection.templates.iis]\nname = "acme-iis"\ndescription = "Deploy to IIS."\n',
    )

    result, _ = run_build(directory)

    listed = entries(directory)
    assert result.added == ("acme-iis", "slack-notify")
    iis = listed["acme-iis"]
    assert iis.source == IndexSource("nuget", feed.index_url, id=IIS_ID)
    assert (iis.description, iis.category) == ("Deploy to IIS.", "acme")
    assert [(v.version, v.published) for v in iis.versions] == [
        ("2.0.0-beta", None),
        ("1.2.0", datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("1.0.0", None),
    ]
    assert [p.name for p in iis.parameters] == ["SiteName"]
    assert [p.name for p in listed["slack-notify"].parameters] == ["Channel"]
    # Unchanged feeds rebuild to the same bytes.
    assert not run_build(directory)[0].written


def test_a_version_that_does_not_load(tmp_path: Path, feed: NuGetFeed) -> None:
    feed.add(IIS_ID, "1.0.0", {"steptemplate.toml": native("iis", "Site")})
    feed.add(IIS_ID, "1.1.0", {"steptemplate.toml": 'name = "iis"\n[script\n'})
    directory = registry_dir(
        tmp_path, f'[[collection]]\nnuget = "{feed.index_url}"\nids = ["{IIS_ID}"]\n'
    )

    with pytest.raises(TemplateProblem) as strict:
        run_build(directory, strict=True)
    _, warnings = run_build(directory)

    assert str(strict.value).startswith(f"{directory}/registry.toml:3: template '{IIS_ID}'")
    assert "steptemplate.toml" in str(strict.value)
    assert warnings.count("warning:") == 1
    assert warnings.strip().endswith("; 1.1.0 is left out")
    assert [v.version for v in entries(directory)["iis"].versions] == ["1.0.0"]


def test_offline_from_what_an_online_build_cached(
    tmp_path: Path, feed: NuGetFeed, github: GitHubServer
) -> None:
    released_repo(tmp_path, github)
    asset = zipped({"steptemplate.toml": native("IIS deploy", "Site")})
    github.add_release("acme", "deploy", "v1.1.0", assets={"iis.zip": asset})
    feed.add(IIS_ID, "1.0.0", {"steptemplate.toml": native("iis", "Site")})
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\nnuget = "{feed.index_url}"\nids = ["{IIS_ID}"]\n\n'
        f'[[collection]]\ngithub = "acme/deploy"\napi-url = "{github.api_url}"\n'
        'asset = "iis.zip"\n',
    )
    run_build(directory)
    online = (directory / "index.toml").read_text(encoding="utf-8")
    (directory / "index.toml").unlink()
    github.reset()  # both servers forget everything: only the cache can answer
    shutil.rmtree(feed.root)

    build.build(directory, Console(io.StringIO(), io.StringIO()), offline=True)

    assert (directory / "index.toml").read_text(encoding="utf-8") == online
    assert github.requests == []


# --- bad collections ---------------------------------------------------------------------------


def test_a_repository_that_does_not_exist(tmp_path: Path, github: GitHubServer) -> None:
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngithub = "acme/nope"\napi-url = "{github.api_url}"\n'
    )

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    assert str(failure.value).startswith(
        f"{directory}/registry.toml:3: template 'acme/nope': GitHub repository acme/nope not found"
    )
    assert not (directory / "index.toml").exists()


def test_a_repository_without_releases(tmp_path: Path, github: GitHubServer) -> None:
    released_repo(tmp_path, github)  # tagged, but nothing released
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngithub = "acme/deploy"\napi-url = "{github.api_url}"\n'
    )

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    assert str(failure.value) == (
        f"{directory}/registry.toml:3: GitHub repository acme/deploy has no releases whose tag "
        "reads as a version; publish a version first, or take it out of registry.toml"
    )


def test_a_feed_that_does_not_exist(tmp_path: Path, static_server: StaticServer) -> None:
    url = f"{static_server.url}/no-feed/v3/index.json"
    directory = registry_dir(tmp_path, f'[[collection]]\nnuget = "{url}"\nids = ["{IIS_ID}"]\n')

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    message = str(failure.value)
    assert message.startswith(f"{directory}/registry.toml:3: template '{IIS_ID}': ")
    assert url in message and "404" in message


@pytest.mark.parametrize("listed", [False, True])
def test_an_id_with_no_versions(tmp_path: Path, feed: NuGetFeed, listed: bool) -> None:
    if listed:
        feed.list_versions(IIS_ID, [])
    directory = registry_dir(
        tmp_path, f'[[collection]]\nnuget = "{feed.index_url}"\nids = ["{IIS_ID}"]\n'
    )

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    expected = (
        f"package {IIS_ID} has no versions in {feed.index_url}; publish a version first"
        if listed
        else f"template '{IIS_ID}': package {IIS_ID} not found in {feed.index_url}; check the "
        "collection's 'nuget' and 'ids' in registry.toml"
    )
    assert str(failure.value).startswith(f"{directory}/registry.toml:3: {expected}")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'github = "acme"\n',
            "registry.toml:4: 'acme' is not owner/repository",
        ),
        (
            'github = "acme/x"\nversions = "tags"\nasset = "*.zip"\n',
            "registry.toml:6: release assets need versions = 'releases'",
        ),
        (
            'github = "acme/x"\ntags = "v*"\n',
            "registry.toml:5: unknown key 'tags' in [collection[0]]",
        ),
        (
            'git = "file:///x"\ngithub = "acme/x"\n',
            "registry.toml:5: a [[collection]] is one place: give one of 'git', 'github' and "
            "'nuget', not 'git' and 'github'",
        ),
        (
            'nuget = "https://feed.example/v3/index.json"\n',
            "registry.toml:3: a nuget [[collection]] needs 'ids'",
        ),
        (
            'nuget = "feed/index.json"\nids = ["A"]\n',
            "registry.toml:4: 'feed/index.json' is not an http(s) or file:// URL",
        ),
        (
            'nuget = "https://feed.example/v3/index.json"\nids = ["A.B", "a.b"]\n',
            "registry.toml:5: 'a.b' is listed twice (ids are case-insensitive)",
        ),
    ],
)
def test_malformed_feed_collections(tmp_path: Path, body: str, message: str) -> None:
    directory = registry_dir(tmp_path, f"[[collection]]\n{body}")

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    assert str(failure.value).startswith(f"{directory}/{message}")


def test_github_sources_round_trip_through_the_index() -> None:
    source = IndexSource(
        "github", "acme/x", asset="x-*.zip", from_tags=False, api_url="https://ghe.example/api/v3"
    )
    tagged = IndexSource("github", "acme/y", from_tags=True)
    written = index.render(
        RegistryIndex(
            "r",
            "",
            (
                IndexEntry("x", "", "", source, versions=(IndexVersion("1.0.0"),)),
                IndexEntry("y", "", "", tagged, versions=(IndexVersion("1.0.0"),)),
            ),
        )
    )

    read = index.parse(written, display="index.toml")

    assert [e.source for e in read.entries] == [source, tagged]
    assert 'api-url = "https://ghe.example/api/v3"' in written
    x, y = (template_ref(e).source for e in read.entries)
    assert isinstance(x, GitHubRequirement) and isinstance(y, GitHubRequirement)
    assert (x.api_url, x.api_url_written, x.asset, x.from_tags) == (
        "https://ghe.example/api/v3",
        "https://ghe.example/api/v3",
        "x-*.zip",
        False,
    )
    assert (y.api_url_written, y.from_tags, y.version) == (None, True, "^1.0.0")


# --- end to end --------------------------------------------------------------------------------


def toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_build_search_and_add_from_feeds(
    steps: Steps, tmp_path: Path, github: GitHubServer, feed: NuGetFeed
) -> None:
    released_repo(tmp_path, github)
    for tag in ("v1.0.0", "v1.1.0"):
        asset = zipped({"steptemplate.toml": native("IIS deploy", "Site", description="IIS sites")})
        github.add_release("acme", "deploy", tag, assets={"iis.zip": asset})
    feed.add(SLACK_ID, "1.4.0", {"steptemplate.toml": native("Slack notify", "Channel")})
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngithub = "acme/deploy"\napi-url = "{github.api_url}"\n'
        'asset = "iis.zip"\n\n'
        f'[[collection]]\nnuget = "{feed.index_url}"\nids = ["{SLACK_ID}"]\n',
    )
    steps.ok("init", "--name", "demo")

    built = steps.ok("registry", "build", str(directory))
    steps.ok("registry", "add", "acme", str(directory))
    found = steps.ok("search", "iis")
    steps.ok("add", "iis-deploy")
    steps.ok("add", "slack-notify")

    assert "2 templates, 3 versions, from 2 collections" in built.err
    assert found.out.splitlines()[1].split()[:3] == ["iis-deploy", "1.1.0", "acme"]
    declared = toml(steps.manifest)["templates"]
    assert declared["iis-deploy"] == {
        "github": "acme/deploy",
        "api-url": github.api_url,
        "asset": "iis.zip",
        "version": "^1.1.0",
    }
    assert declared["slack-notify"] == {
        "nuget": feed.index_url,
        "id": SLACK_ID,
        "version": "^1.4.0",
    }
    locked = steps.lock()
    assert (locked["iis-deploy"]["source"], locked["iis-deploy"]["version"]) == ("github", "1.1.0")
    assert (locked["slack-notify"]["source"], locked["slack-notify"]["id"]) == ("nuget", SLACK_ID)
