"""Reading a registry's index from git, a web host or a directory; the cached copy, its
parsed form, the refresh policy and offline use; several registries at once."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from steptemplates.cache import Cache
from steptemplates.console import Console
from steptemplates.errors import OfflineError, StepsError
from steptemplates.registries import fetch, index
from steptemplates.registries.index import IndexEntry, IndexParameter, IndexSource, IndexVersion
from steptemplates.registries.location import RegistryLocation
from steptemplates.sources import SourceContext
from tests.support.gitserver import ServedRepo, SmartHttpServer, make_repo
from tests.support.httpserver import StaticServer


def _entry(name: str, description: str = "Does things.") -> IndexEntry:
    return IndexEntry(
        name=name,
        description=description,
        category="web",
        source=IndexSource("git", ".", subdir=f"templates/{name}"),
        versions=(IndexVersion("1.0.0", "v1.0.0"),),
        parameters=(IndexParameter("Url", "URL", required=True),),
    )


def _index_text(*names: str, registry: str = "team") -> str:
    return index.render(index.RegistryIndex(registry, "", tuple(_entry(n) for n in names)))


def _names(fetched: fetch.FetchedIndex) -> list[str]:
    return [e.name for e in fetched.index.entries]


@pytest.fixture
def context() -> Iterator[SourceContext]:
    made = SourceContext(Cache(), Console(io.StringIO(), io.StringIO()))
    yield made
    made.close()


def _offline() -> SourceContext:
    return SourceContext(Cache(), Console(io.StringIO(), io.StringIO()), offline=True)


def _store_dir(location: RegistryLocation) -> Path:
    found = list((Cache().root / fetch.CACHE_DIR).iterdir())
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def registry_repo(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    repo = remote_repo("registry")
    repo.write("registry/index.toml", _index_text("alpha", "beta"))
    repo.commit("index")
    return repo


# --- git ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["file", "daemon", "http"])
def test_a_git_registry_over_each_transport(
    registry_repo: ServedRepo, context: SourceContext, transport: str
) -> None:
    url = {
        "file": registry_repo.file_url,
        "daemon": registry_repo.git_url,
        "http": registry_repo.http_url,
    }[transport]
    location = RegistryLocation("team", "git", url, "registry")

    fetched = fetch.fetch_index(location, context)

    assert _names(fetched) == ["alpha", "beta"]
    assert fetched.repository == url  # what `git = "."` stands for
    assert fetched.location == location


def test_a_git_registry_reads_its_branch(registry_repo: ServedRepo, context: SourceContext) -> None:
    registry_repo.checkout("next")
    registry_repo.write("registry/index.toml", _index_text("alpha", "beta", "gamma"))
    registry_repo.commit("gamma")
    registry_repo.checkout("main")
    main = RegistryLocation("main", "git", registry_repo.file_url, "registry")
    other = RegistryLocation("next", "git", registry_repo.file_url, "registry", "next")
    missing = RegistryLocation("gone", "git", registry_repo.file_url, "registry", "gone")

    assert _names(fetch.fetch_index(main, context)) == ["alpha", "beta"]
    assert _names(fetch.fetch_index(other, context)) == ["alpha", "beta", "gamma"]
    with pytest.raises(StepsError) as failure:
        fetch.fetch_index(missing, context)
    assert str(failure.value).startswith(
        f"registry 'gone': {registry_repo.file_url} has no branch 'gone'"
    )


def test_a_git_registry_without_an_index(registry_repo: ServedRepo, context: SourceContext) -> None:
    location = RegistryLocation("team", "git", registry_repo.file_url, "elsewhere")

    with pytest.raises(StepsError) as failure:
        fetch.fetch_index(location, context)

    assert str(failure.value) == (
        f"registry 'team': {registry_repo.file_url} has no elsewhere/index.toml on branch "
        "'main'; check the registry's 'subdir', or build the index with `steps registry build` "
        "and push it"
    )


def test_a_fresh_copy_is_used_without_the_network_and_refresh_fetches_again(
    registry_repo: ServedRepo, git_http: SmartHttpServer, context: SourceContext
) -> None:
    location = RegistryLocation("team", "git", registry_repo.http_url, "registry")
    fetch.fetch_index(location, context)
    served = git_http.requests

    again = fetch.fetch_index(location, context)
    assert git_http.requests == served
    registry_repo.write("registry/index.toml", _index_text("alpha", "beta", "gamma"))
    registry_repo.commit("gamma")
    refreshed = fetch.fetch_index(location, context, refresh=True)

    assert _names(again) == ["alpha", "beta"]
    assert git_http.requests > served
    assert _names(refreshed) == ["alpha", "beta", "gamma"]


def test_an_old_copy_is_fetched_again(
    registry_repo: ServedRepo, context: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = RegistryLocation("team", "git", registry_repo.file_url, "registry")
    fetch.fetch_index(location, context)
    registry_repo.write("registry/index.toml", _index_text("alpha"))
    registry_repo.commit("beta retired")

    kept = fetch.fetch_index(location, context)
    monkeypatch.setenv(fetch.MAX_AGE_VARIABLE, "0")
    fetched = fetch.fetch_index(location, context)

    assert _names(kept) == ["alpha", "beta"]
    assert _names(fetched) == ["alpha"]
    assert fetched.fetched_at > kept.fetched_at


def test_the_max_age_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fetch.MAX_AGE_VARIABLE, "soon")

    with pytest.raises(StepsError) as failure:
        fetch.max_age()

    assert str(failure.value) == (
        "STEPS_REGISTRY_MAX_AGE must be a number of seconds (0 or more), not 'soon'"
    )


# --- offline -----------------------------------------------------------------------------------


def test_offline_uses_the_last_copy_whatever_its_age(
    registry_repo: ServedRepo, context: SourceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = RegistryLocation("team", "git", registry_repo.git_url, "registry")
    fetch.fetch_index(location, context)
    monkeypatch.setenv(fetch.MAX_AGE_VARIABLE, "0")
    os.rename(registry_repo.path, f"{registry_repo.path}-moved")

    offline = fetch.fetch_index(location, _offline(), refresh=True)

    assert _names(offline) == ["alpha", "beta"]
    assert offline.repository == registry_repo.git_url


def test_offline_without_a_copy(registry_repo: ServedRepo) -> None:
    location = RegistryLocation("team", "git", registry_repo.file_url, "registry")

    with pytest.raises(OfflineError) as failure:
        fetch.fetch_index(location, _offline())

    assert str(failure.value) == (
        f"registry 'team' (git {registry_repo.file_url} (registry)) has not been fetched yet "
        "and --offline forbids fetching it; run the command once without --offline"
    )


# --- the parsed form ---------------------------------------------------------------------------


def _derived(location: RegistryLocation, prefix: str, text: str | None = None) -> Path:
    """The JSON form of the text (default: the only one kept)."""
    if text is None:
        (found,) = _store_dir(location).glob(f"{prefix}-*.json")
        return found
    return _store_dir(location) / f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()}.json"


def test_the_json_forms_are_read_instead_of_the_toml(
    registry_repo: ServedRepo, context: SourceContext
) -> None:
    location = RegistryLocation("team", "git", registry_repo.file_url, "registry")
    first = fetch.fetch_index(location, context)
    stored = _store_dir(location)
    sha256 = json.loads((stored / "state.json").read_text())["sha256"]
    # Spoil the kept TOML: a fresh copy is read from its JSON forms alone.
    (stored / "index.toml").write_text("not toml at all [[[")

    again = fetch.fetch_index(location, context)

    assert _derived(location, "parsed").name == f"parsed-{sha256}.json"
    assert _derived(location, "rows").name == f"rows-{sha256}.json"
    assert again.index == first.index
    assert [row.name for row in again.rows] == ["alpha", "beta"]


def test_the_json_forms_are_reused_until_the_text_changes(
    tmp_path: Path, context: SourceContext
) -> None:
    directory = tmp_path / "registry"
    directory.mkdir()
    (directory / "index.toml").write_text(_index_text("alpha"))
    location = RegistryLocation("local", "path", str(directory), resolved=directory)
    fetch.fetch_index(location, context)
    first = _derived(location, "rows", _index_text("alpha"))

    # Same text: its JSON form is what is read (altered here to tell it from the TOML).
    record = json.loads(first.read_text())
    record["data"][0][0] = "from-json"
    first.write_text(json.dumps(record))
    reused = [row.name for row in fetch.fetch_index(location, context).rows]
    # New text: parsed again, and its JSON forms replace the old ones.
    (directory / "index.toml").write_text(_index_text("alpha", "beta"))
    changed = fetch.fetch_index(location, context)
    second = _derived(location, "rows", _index_text("alpha", "beta"))
    # A damaged JSON form only costs a parse.
    second.write_text("{damaged")
    repaired = fetch.fetch_index(location, context)

    assert reused == ["from-json"]
    assert [row.name for row in changed.rows] == ["alpha", "beta"]
    assert second != first and first.exists()  # kept a while: others may be reading it
    assert [row.name for row in repaired.rows] == ["alpha", "beta"]
    assert json.loads(second.read_text())["data"][1][0] == "beta"
    # An hour on, the earlier forms go when the next text comes.
    hours_ago = time.time() - 7200
    os.utime(first, (hours_ago, hours_ago))
    (directory / "index.toml").write_text(_index_text("gamma"))
    fetch.fetch_index(location, context)
    assert not first.exists() and second.exists()


def test_a_damaged_cached_copy_is_made_again_from_its_text(
    registry_repo: ServedRepo, context: SourceContext
) -> None:
    location = RegistryLocation("team", "git", registry_repo.file_url, "registry")
    fetch.fetch_index(location, context)
    _derived(location, "parsed").write_text("[1, 2")

    again = fetch.fetch_index(location, context)
    assert _names(again) == ["alpha", "beta"]

    _derived(location, "rows").write_text("[1, 2")
    (_store_dir(location) / "index.toml").write_text("changed")
    spoilt = fetch.fetch_index(location, context)
    with pytest.raises(StepsError) as failure:
        spoilt.rows  # noqa: B018
    assert str(failure.value) == (
        "registry 'team': the cached copy is damaged; run the command again with --refresh"
    )


def test_the_json_form_keeps_every_field() -> None:
    from datetime import UTC, datetime

    entry = IndexEntry(
        name="iis",
        description="Deploy\nto IIS",
        category="windows",
        source=IndexSource("nuget", "https://feed/v3/index.json", id="Acme.Iis", subdir="c"),
        format="octopus",
        maintainers=("Ops <ops@example.com>",),
        versions=(
            IndexVersion("2.0.0-rc.1", "v2.0.0-rc.1", "c" * 40, datetime(2026, 2, 1, tzinfo=UTC)),
            IndexVersion("1.0.0", notes="First", template_version=3),
        ),
        branch=None,
        template_version=7,
        parameters=(
            IndexParameter("Mode", "Mode", "select", True, "fast", "How", ("fast", "slow")),
        ),
        modules=("Retry ^1",),
    )
    written = index.RegistryIndex("r", "d", (entry,))

    assert fetch.index_from_json(json.loads(json.dumps(fetch.index_to_json(written)))) == written


# --- static hosts and directories --------------------------------------------------------------


def test_a_registry_on_a_web_host(tmp_path: Path, context: SourceContext) -> None:
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    (site / "templates" / "index.toml").write_text(_index_text("alpha"))
    with StaticServer(site) as server:
        by_file = RegistryLocation("a", "url", f"{server.url}/templates/index.toml")
        by_folder = RegistryLocation("b", "url", f"{server.url}/templates/")

        assert _names(fetch.fetch_index(by_file, context)) == ["alpha"]
        assert _names(fetch.fetch_index(by_folder, context)) == ["alpha"]
        served = len(server.requests)
        fetch.fetch_index(by_file, context)
        assert len(server.requests) == served

    file_url = RegistryLocation("c", "url", (site / "templates").as_uri() + "/")
    fetched = fetch.fetch_index(file_url, context)
    assert _names(fetched) == ["alpha"]
    assert fetched.repository is None


def test_a_directory_registry(tmp_path: Path, context: SourceContext) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "index.toml").write_text(_index_text("alpha"))
    work_tree = make_repo(tmp_path / "checkout")
    work_tree.write("registry/index.toml", _index_text("beta"))
    inside = work_tree.path / "registry"

    outside_git = fetch.fetch_index(RegistryLocation("p", "path", "x", resolved=plain), context)
    in_git = fetch.fetch_index(RegistryLocation("g", "path", "x", resolved=inside), context)

    assert _names(outside_git) == ["alpha"] and outside_git.repository is None
    assert _names(in_git) == ["beta"]
    assert in_git.repository == work_tree.path.as_uri()


def test_a_directory_without_an_index(tmp_path: Path, context: SourceContext) -> None:
    empty = RegistryLocation("local", "path", "x", resolved=tmp_path)
    absent = RegistryLocation("gone", "path", "x", resolved=tmp_path / "gone", origin="steps.toml")

    with pytest.raises(StepsError) as no_index:
        fetch.fetch_index(empty, context)
    with pytest.raises(StepsError) as no_directory:
        fetch.fetch_index(absent, context)

    assert str(no_index.value) == (
        f"registry 'local': {tmp_path} holds no index.toml; "
        f"build it with `steps registry build {tmp_path}`"
    )
    assert str(no_directory.value) == (
        f"registry 'gone': the directory {tmp_path / 'gone'} does not exist; fix 'path' in "
        "steps.toml, or remove it with `steps registry remove gone`"
    )


# --- malformed indexes -------------------------------------------------------------------------

_MALFORMED = (
    'format = 1\nname = "team"\n\n[[template]]\nname = "alpha"\n'
    'source = { git = "." }\ndescription = 5\n'
)


def test_a_malformed_index_names_the_registry_file_and_line(
    registry_repo: ServedRepo, tmp_path: Path, context: SourceContext
) -> None:
    registry_repo.write("registry/index.toml", _MALFORMED)
    registry_repo.commit("broken")
    (tmp_path / "index.toml").write_text(_MALFORMED)
    git_location = RegistryLocation("team", "git", registry_repo.file_url, "registry")
    url_location = RegistryLocation("web", "url", (tmp_path / "index.toml").as_uri())
    path_location = RegistryLocation("local", "path", "x", resolved=tmp_path)

    messages = []
    for location in (git_location, url_location, path_location):
        with pytest.raises(StepsError) as failure:
            fetch.fetch_index(location, context)
        messages.append(str(failure.value))

    problem = "'template[0].description' must be a string"
    assert messages == [
        f"registry 'team' (git {registry_repo.file_url}): registry/index.toml:7: {problem}",
        f"registry 'web': {(tmp_path / 'index.toml').as_uri()}:7: {problem}",
        f"registry 'local': {tmp_path / 'index.toml'}:7: {problem}",
    ]
    assert fetch.last_copy(git_location, Cache().root) is None  # nothing broken is kept


# --- several registries ------------------------------------------------------------------------


def test_an_unreachable_registry_is_left_out_with_a_warning(
    registry_repo: ServedRepo, tmp_path: Path
) -> None:
    good = RegistryLocation("team", "git", registry_repo.file_url, "registry")
    gone = RegistryLocation("gone", "git", (tmp_path / "nowhere").as_uri())
    contexts: list[SourceContext] = []

    def connect() -> SourceContext:
        contexts.append(SourceContext(Cache(), Console(io.StringIO(), io.StringIO())))
        return contexts[-1]

    gathered = fetch.fetch_all([gone, good], Cache().root, connect)

    assert [f.name for f in gathered.indexes] == ["team"]
    assert len(gathered.warnings) == 1
    assert gathered.warnings[0].startswith("registry 'gone' (git ")
    assert gathered.warnings[0].endswith("(left out)")
    assert len(contexts) == 1
    with pytest.raises(StepsError):
        fetch.fetch_all([gone], Cache().root, connect)


def test_fresh_copies_need_no_sources_context(
    registry_repo: ServedRepo, tmp_path: Path, context: SourceContext
) -> None:
    location = RegistryLocation("team", "git", registry_repo.file_url, "registry")
    fetch.fetch_index(location, context)
    local = tmp_path / "local"
    local.mkdir()
    (local / "index.toml").write_text(_index_text("gamma", registry="local"))
    directory = RegistryLocation("local", "path", str(local), resolved=local)

    def connect() -> SourceContext:
        raise AssertionError("no registry needed fetching")

    gathered = fetch.fetch_all([location, directory], Cache().root, connect)

    assert [_names(f) for f in gathered.indexes] == [["alpha", "beta"], ["gamma"]]
    assert gathered.warnings == ()


def test_an_unreachable_registry_falls_back_to_its_last_copy(
    registry_repo: ServedRepo, context: SourceContext
) -> None:
    location = RegistryLocation("team", "git", registry_repo.git_url, "registry")
    fetch.fetch_index(location, context)
    os.rename(registry_repo.path, f"{registry_repo.path}-moved")

    gathered = fetch.fetch_all([location], Cache().root, lambda: context, refresh=True)

    assert [_names(f) for f in gathered.indexes] == [["alpha", "beta"]]
    (warning,) = gathered.warnings
    assert warning.startswith("registry 'team' (git ")
    assert warning.endswith("(using the copy fetched just now)")
