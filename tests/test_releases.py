"""What a requirement's source offers, with dates: git tags (annotated and lightweight),
a followed branch numbered by its template file's Version, GitHub releases, NuGet feeds
with and without a registration resource, and path sources; online and offline."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.errors import OfflineError
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    NuGetRequirement,
    PathRequirement,
    TemplateRef,
)
from steptemplates.releases import Release, releases
from steptemplates.sources import SourceContext
from tests.support.githubserver import GitHubServer
from tests.support.gitserver import GitRepo, ServedRepo, git, make_repo
from tests.support.httpserver import StaticServer
from tests.support.nugetfeed import PACKAGE_ID, NuGetFeed, publish
from tests.support.projects import TEMPLATE

CORPUS = Path(__file__).parent / "data" / "octopus-corpus" / "step-templates"
JAN_2024 = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())
DAY = 86_400


def context(*, offline: bool = False) -> SourceContext:
    return SourceContext(Cache(), Console(io.StringIO(), io.StringIO()), offline=offline)


def ask(ref: TemplateRef, *, offline: bool = False, dated: bool = True) -> list[Release]:
    ctx = context(offline=offline)
    try:
        return releases(ref, ctx, Path.cwd(), dated=dated)
    finally:
        ctx.close()


def commit_and_tag(repo: GitRepo, tag: str, when: int, *, annotated: bool) -> str:
    repo.write("steptemplate.toml", TEMPLATE.format(name="greet"))
    repo.write("run.sh", f"echo {tag}\n", mode=0o755)
    git(repo.path, "add", "--all")
    git(repo.path, "commit", "--quiet", "-m", f"release {tag}", date=when)
    options = ["--annotate", "-m", f"Notes for {tag}"] if annotated else []
    git(repo.path, "tag", *options, tag, date=when + 60)
    return repo.rev_parse("HEAD")


@pytest.fixture
def tagged(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    repo = remote_repo("tagged")
    commit_and_tag(repo, "v1.0.0", JAN_2024, annotated=True)
    commit_and_tag(repo, "v1.1.0", JAN_2024 + 10 * DAY, annotated=False)
    commit_and_tag(repo, "v2.0.0-rc.1", JAN_2024 + 20 * DAY, annotated=True)
    repo.tag("latest")  # not a version: left out
    return repo


def git_ref(url: str, **keys: str) -> TemplateRef:
    return TemplateRef("greet", GitRequirement(url=url, **keys))  # type: ignore[arg-type]


def test_git_tags_newest_first_dated_by_tagger_or_committer(tagged: ServedRepo) -> None:
    found = ask(git_ref(tagged.git_url))

    assert [(r.version, r.tag) for r in found] == [
        ("2.0.0-rc.1", "v2.0.0-rc.1"),
        ("1.1.0", "v1.1.0"),
        ("1.0.0", "v1.0.0"),
    ]
    # Annotated: the tagger's date and the tag's message; lightweight: the commit's date.
    assert found[2].published == datetime.fromtimestamp(JAN_2024 + 60, UTC)
    assert found[2].notes == "Notes for v1.0.0"
    assert found[1].published == datetime.fromtimestamp(JAN_2024 + 10 * DAY, UTC)
    assert found[1].notes is None
    assert found[1].commit == tagged.rev_parse("v1.1.0")
    assert found[0].is_prerelease


def test_tag_objects_stay_in_the_cache_for_offline_runs(tagged: ServedRepo) -> None:
    online = ask(git_ref(tagged.file_url))
    shutil.rmtree(tagged.path)  # the remote is gone: only the cache can answer now

    offline = ask(git_ref(tagged.file_url), offline=True)

    assert offline == online


def test_offline_without_a_cache_cannot_answer(tagged: ServedRepo) -> None:
    with pytest.raises(OfflineError, match="not in the cache"):
        ask(git_ref(tagged.file_url), offline=True)


def test_undated_listing_fetches_no_tags(tagged: ServedRepo) -> None:
    found = ask(git_ref(tagged.file_url), dated=False)
    offline = ask(git_ref(tagged.file_url), offline=True)

    assert [r.version for r in found] == ["2.0.0-rc.1", "1.1.0", "1.0.0"]
    assert {r.published for r in found} == {None}
    assert {r.published for r in offline} == {None}  # nothing was fetched to date them


def test_a_followed_branch_offers_its_head_numbered_by_the_files_version(
    remote_repo: Callable[[str], ServedRepo],
) -> None:
    repo = remote_repo("library")
    data = json.loads((CORPUS / "script-show-arguments.json").read_text(encoding="utf-8"))
    repo.write("step-templates/show.json", json.dumps(data, indent=2))
    git(repo.path, "add", "--all")
    git(repo.path, "commit", "--quiet", "-m", "first", date=JAN_2024)
    data["Version"] = 7
    repo.write("step-templates/show.json", json.dumps(data, indent=2))
    git(repo.path, "add", "--all")
    git(repo.path, "commit", "--quiet", "-m", "second", date=JAN_2024 + DAY)
    ref = TemplateRef(
        "show",
        GitRequirement(url=repo.git_url, branch="main"),
        template="step-templates/show.json",
    )

    (head,) = ask(ref)

    assert head == Release(
        version="7",
        tag=None,
        published=datetime.fromtimestamp(JAN_2024 + DAY, UTC),
        commit=repo.rev_parse("HEAD"),
        template_version="7",
    )


def test_path_sources_offer_no_versions(tmp_path: Path) -> None:
    ref = TemplateRef("local", PathRequirement(path="local", resolved=tmp_path))
    assert ask(ref) == []


# --- feeds ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def github_server() -> Iterator[GitHubServer]:
    with GitHubServer() as server:
        yield server


@pytest.fixture(scope="module")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    with StaticServer(tmp_path_factory.mktemp("feeds")) as served:
        yield served


def test_github_releases_carry_their_publication_dates(
    github_server: GitHubServer, tmp_path: Path
) -> None:
    github_server.reset()
    repo = make_repo(tmp_path / "deploy")
    github_server.add_repo("acme", "deploy", repo.path)
    for tag in ("v1.0.0", "v1.1.0", "v2.0.0"):
        commit_and_tag(repo, tag, JAN_2024, annotated=False)
        github_server.add_release("acme", "deploy", tag)
    flagged = github_server.add_release("acme", "deploy", "v2.1.0", prerelease=True)
    github_server.add_release("acme", "deploy", "v3.0.0", draft=True)
    ref = TemplateRef("deploy", GitHubRequirement(repo="acme/deploy", api_url=github_server.url))

    found = ask(ref)

    assert [(r.version, r.flagged_prerelease) for r in found] == [
        ("2.1.0", True),
        ("2.0.0", False),
        ("1.1.0", False),
        ("1.0.0", False),
    ]
    # The server dates each release after its id, as GitHub's published_at.
    assert found[0].published == datetime.fromtimestamp(1_700_000_000 + flagged.id, UTC)
    assert found[0].notes == "Release v2.1.0"


def test_nuget_versions_are_dated_by_the_registration_resource(
    static_server: StaticServer,
) -> None:
    feed = NuGetFeed.on(static_server)
    publish(feed, "1.0.0", "1.2.0", "2.0.0")
    registration = f"registration5-gz-semver2/{PACKAGE_ID.lower()}/index.json"
    leaves = [
        {"catalogEntry": {"version": "1.0.0", "published": "2024-01-02T03:04:05.1234567+00:00"}},
        {"catalogEntry": {"version": "1.2.0", "published": "1900-01-01T00:00:00+00:00"}},
        {"catalogEntry": {"version": "2.0.0", "published": "2024-03-04T05:06:07Z"}},
    ]
    feed.write_json(registration, {"items": [{"@id": "page", "items": leaves}]})
    ref = TemplateRef("iis", NuGetRequirement(feed=feed.index_url, package_id=PACKAGE_ID))

    found = ask(ref)

    assert [(r.version, r.published) for r in found] == [
        ("2.0.0", datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("1.2.0", None),  # unlisted: NuGet dates those in 1900
        ("1.0.0", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
    ]


def test_a_nuget_feed_without_registrations_lists_versions_undated(
    static_server: StaticServer,
) -> None:
    feed = NuGetFeed.on(static_server)
    publish(feed, "1.0.0", "1.1.0")
    ref = TemplateRef("iis", NuGetRequirement(feed=feed.index_url, package_id=PACKAGE_ID))

    found = ask(ref)

    assert [(r.version, r.published) for r in found] == [("1.1.0", None), ("1.0.0", None)]
