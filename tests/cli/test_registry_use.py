"""Using registries from the command line: `steps registry add/list/remove`, `steps search`,
`steps info`, and `steps add NAME[@RANGE]` resolving short names to real sources."""

from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steptemplates import source_config
from steptemplates.registries import index
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)
from tests.support.gitserver import GitDaemon, ServedRepo, make_repo
from tests.support.httpserver import StaticServer
from tests.support.projects import REPO_ROOT, Steps, write_template


def _greet(*versions: str, description: str = "Says hello to someone.") -> IndexEntry:
    return IndexEntry(
        name="greet",
        description=description,
        category="test",
        source=IndexSource("git", ".", subdir="templates/greet"),
        maintainers=("Team <team@example.com>",),
        versions=tuple(IndexVersion(v, f"v{v}", notes=f"Release {v}.") for v in reversed(versions)),
        parameters=(IndexParameter("Greeting", "Greeting", default="hello"),),
    )


def _other(name: str, description: str, category: str = "deploy") -> IndexEntry:
    return IndexEntry(
        name=name,
        description=description,
        category=category,
        source=IndexSource("git", "https://git.example.com/acme/elsewhere.git", subdir=name),
        versions=(IndexVersion("2.0.0", "v2.0.0"),),
    )


def _released(repo: ServedRepo, *versions: str, listed: tuple[str, ...] = ()) -> ServedRepo:
    """Tag a template for each version, then commit a registry listing ``listed`` (default:
    the same versions) under registry/."""
    for version in versions:
        write_template(repo, "templates/greet", name="greet", script=f"echo greet {version}\n")
        repo.commit(f"release {version}")
        repo.tag(f"v{version}", message=f"Release {version}.")
    _publish(repo, _greet(*(listed or versions)), _other("deploy-web", "Deploy a web site."))
    return repo


def _publish(repo: ServedRepo, *entries: IndexEntry, name: str = "team") -> None:
    repo.write("registry/index.toml", index.render(RegistryIndex(name, "", entries)))
    repo.commit("registry")


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def team(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    return _released(remote_repo("team"), "1.0.0", "1.1.0")


@pytest.fixture
def project(steps: Steps) -> Steps:
    steps.ok("init", "--name", "demo")
    return steps


# --- the first-party registry ------------------------------------------------------------------


def test_this_repositorys_registry_through_a_local_git_url(project: Steps, tmp_path: Path) -> None:
    """The registry/ of this repository, indexing its templates/, read from a repository
    holding both (tagged with whatever versions the index lists)."""
    clone = make_repo(tmp_path / "steps-repository")
    shutil.copytree(REPO_ROOT / "registry", clone.path / "registry")
    shutil.copytree(REPO_ROOT / "templates", clone.path / "templates")
    clone.commit("first-party templates and their registry")
    listed = index.load(clone.path / "registry" / "index.toml")
    for tag in sorted({v.tag for e in listed.entries for v in e.versions if v.tag}):
        clone.tag(tag)
    url = clone.path.as_uri()
    entry = listed.entry("http-health-check")
    assert entry is not None

    project.ok("registry", "add", "steps", url, "--subdir", "registry", "--project")
    found = project.ok("search", "health")
    added = project.ok("add", "http-health-check")

    newest = entry.newest.version if entry.newest else f"branch {entry.branch}"
    assert found.out.splitlines()[0].split() == ["NAME", "VERSION", "REGISTRY", "DESCRIPTION"]
    assert re.split(r"\s{2,}", found.out.splitlines()[1])[:3] == [
        "http-health-check",
        newest,
        "steps",
    ]
    assert "Added template 'http-health-check'" in added.err
    declared = _toml(project.manifest)["templates"]["http-health-check"]
    assert declared["git"] == url  # the real source, not the registry's name
    assert declared["subdir"] == "templates/http-health-check"
    (locked,) = _toml(project.lock_path)["template"]
    assert locked["url"] == url and locked["commit"] == clone.rev_parse("HEAD")


# --- configuring -------------------------------------------------------------------------------


def test_add_list_and_remove(project: Steps, team: ServedRepo, tmp_path: Path) -> None:
    user_file = source_config.user_config_path()
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text("# mine\n", encoding="utf-8")
    local = tmp_path / "local"
    local.mkdir()
    (local / "index.toml").write_text(index.render(RegistryIndex("local", "", ())))

    added = project.ok("registry", "add", "team", team.git_url, "--subdir", "registry")
    project.ok("registry", "add", "local", str(local), "--project")
    project.ok("registry", "add", "later", team.file_url, "--offline")
    listed = project.ok("registry", "list")
    as_json = json.loads(project.ok("registry", "list", "--json").out)
    removed = project.ok("registry", "remove", "team")

    assert added.err.strip() == (
        f"Added registry 'team' (git {team.git_url} (registry)) in {user_file}: 2 templates"
    )
    assert user_file.read_text(encoding="utf-8").startswith("# mine\n")
    assert _toml(project.manifest)["registries"] == {"local": {"path": str(local)}}
    assert [re.split(r"\s{2,}", line) for line in listed.out.splitlines()] == [
        ["NAME", "KIND", "LOCATION", "CONFIGURED IN", "TEMPLATES"],
        ["local", "path", str(local), str(project.manifest), "0"],
        ["later", "git", team.file_url, str(user_file), "?"],
        ["team", "git", f"{team.git_url} (registry)", str(user_file), "2"],
    ]
    assert [(r["name"], r["scope"], r["templates"]) for r in as_json] == [
        ("local", "project", 0),
        ("later", "user", None),
        ("team", "user", 2),
    ]
    assert as_json[2]["git"] == team.git_url and as_json[2]["subdir"] == "registry"
    assert removed.err.strip() == f"Removed registry 'team' from {user_file}"
    assert "team" not in _toml(user_file)["registries"]


def test_a_wrong_url_fails_before_anything_is_saved(project: Steps, team: ServedRepo) -> None:
    no_index = project.fails("registry", "add", "team", team.file_url)
    no_repo = project.fails("registry", "add", "team", team.file_url + "-typo")

    assert no_index.error == (
        f"registry 'team': {team.file_url} has no index.toml on branch 'main'; check the "
        "registry's 'subdir', or build the index with `steps registry build` and push it"
    )
    assert "team" in no_repo.error
    assert not source_config.user_config_path().exists()


def test_a_project_registry_hides_the_users(project: Steps, team: ServedRepo) -> None:
    project.ok("registry", "add", "team", team.file_url, "--subdir", "registry", "--project")
    shadowed = project.ok("registry", "add", "team", team.git_url, "--subdir", "registry")
    listed = project.ok("registry", "list")
    ambiguous = project.fails("registry", "remove", "team")
    project.ok("registry", "remove", "team", "--user")
    missing = project.fails("registry", "remove", "tema", "--user")

    assert shadowed.warnings == [
        f"{project.manifest} also has a registry 'team', which this project uses instead"
    ]
    assert "(hidden by steps.toml)" in listed.out
    assert ambiguous.error == (
        f"registry 'team' is configured both in {project.manifest} and in "
        f"{source_config.user_config_path()}; pass --project or --user to say which to remove"
    )
    assert missing.error == (
        "no registry named 'tema' is configured in the user configuration; did you mean 'team'?"
    )


def test_search_without_registries(project: Steps) -> None:
    failed = project.fails("search", "web")

    assert failed.error == (
        "no registries are configured; add one with `steps registry add NAME URL` "
        "(see docs/registries.md)"
    )


# --- search and info ---------------------------------------------------------------------------


def test_search_and_info(project: Steps, team: ServedRepo) -> None:
    project.ok("registry", "add", "team", team.file_url, "--subdir", "registry")

    found = project.ok("search", "hello")
    everything = json.loads(project.ok("search", "e", "--json").out)
    info = project.ok("info", "greet")
    info_json = json.loads(project.ok("info", "team/greet", "--json").out)

    assert found.out.splitlines() == [
        "NAME   VERSION  REGISTRY  DESCRIPTION",
        "greet  1.1.0    team      Says hello to someone.",
    ]
    assert [(r["name"], r["version"]) for r in everything] == [
        ("deploy-web", "2.0.0"),
        ("greet", "1.1.0"),
    ]
    assert info.out.splitlines() == [
        "greet (registry 'team')",
        "  Says hello to someone.",
        "  category:    test",
        "  format:      native",
        f"  source:      {team.file_url} (templates/greet)",
        "  maintainers: Team <team@example.com>",
        "  add:         steps add greet",
        "",
        "VERSIONS",
        "  1.1.0                   v1.1.0",
        "      Release 1.1.0.",
        "  1.0.0                   v1.0.0",
        "      Release 1.0.0.",
        "",
        "PARAMETER  TYPE  REQUIRED  DEFAULT  LABEL",
        "Greeting   text            hello    Greeting",
    ]
    assert info_json["registry"] == "team"
    assert info_json["real_source"] == f"{team.file_url} (templates/greet)"
    assert info_json["add"] == "steps add team/greet"
    assert [v["version"] for v in info_json["versions"]] == ["1.1.0", "1.0.0"]


def test_a_registry_on_a_web_host(project: Steps, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    entries = (_other("deploy-web", "Deploy a web site."), _other("deploy-db", "Migrate."))
    (site / "index.toml").write_text(index.render(RegistryIndex("web", "", entries)))
    with StaticServer(site) as server:
        project.ok("registry", "add", "web", f"{server.url}/")
        found = project.ok("search", "deploy", "--limit", "1")
        served = len(server.requests)
        project.ok("search", "deploy")
        assert len(server.requests) == served  # a fresh copy asks nothing
        project.ok("search", "deploy", "--refresh")
        assert len(server.requests) == served + 1

    assert found.out.splitlines()[1].split()[:3] == ["deploy-db", "2.0.0", "web"]
    assert len(found.out.splitlines()) == 2


def test_search_offline_reads_the_last_copy(
    project: Steps, team: ServedRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.ok("registry", "add", "team", team.git_url, "--subdir", "registry")
    monkeypatch.setenv("STEPS_REGISTRY_MAX_AGE", "0")
    os.rename(team.path, f"{team.path}-gone")

    offline = project.ok("search", "greet", "--offline")
    online = project.ok("search", "greet")

    assert offline.out.splitlines()[1].startswith("greet ")
    assert offline.err == ""
    # Online, an unreachable registry's last copy is used all the same, with a warning.
    assert online.out == offline.out
    (warning,) = online.warnings
    assert warning.startswith(f"registry 'team' (git {team.git_url} (registry)): ")
    assert warning.endswith("(using the copy fetched just now)")


def test_an_unreachable_registry_is_named_and_the_others_searched(
    project: Steps, team: ServedRepo, git_daemon: GitDaemon
) -> None:
    project.ok("registry", "add", "team", team.file_url, "--subdir", "registry")
    project.ok("registry", "add", "gone", git_daemon.url("no-such-repository"), "--offline")

    found = project.ok("search", "greet")
    restricted = project.fails("search", "greet", "--registry", "gone")
    unknown = project.fails("search", "greet", "--registry", "teem")

    assert found.out.splitlines()[1].startswith("greet ")
    (warning,) = [line for line in found.err.splitlines() if line.startswith("warning: ")]
    assert warning.startswith("warning: registry 'gone' (git git://127.0.0.1:")
    assert warning.endswith("(left out)")
    assert "no-such-repository" in restricted.error
    assert unknown.error == "no registry named 'teem' is configured; did you mean 'team'?"


def test_a_malformed_index_is_named_with_its_line(project: Steps, tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    text = index.render(RegistryIndex("local", "", (_other("deploy-web", "Deploy."),)))
    (local / "index.toml").write_text(text.replace('category = "deploy"', "category = 3"))
    project.ok("registry", "add", "local", str(local), "--offline")

    failed = project.fails("search", "deploy")

    line = text.splitlines().index('category = "deploy"') + 1
    assert failed.error == (
        f"registry 'local': {local / 'index.toml'}:{line}: 'template[0].category' must be a string"
    )


# --- steps add NAME[@RANGE] --------------------------------------------------------------------


def test_add_by_short_name_records_the_real_source(project: Steps, team: ServedRepo) -> None:
    project.ok("registry", "add", "team", team.http_url, "--subdir", "registry")

    newest = project.ok("add", "greet")
    pinned = project.ok("add", "team/greet@~1.0", "--name", "old-greet")
    lock = project.lock()

    assert _toml(project.manifest)["templates"] == {
        "greet": {"git": team.http_url, "subdir": "templates/greet", "version": "^1.1.0"},
        "old-greet": {"git": team.http_url, "subdir": "templates/greet", "version": "~1.0"},
    }
    assert (lock["greet"]["version"], lock["old-greet"]["version"]) == ("1.1.0", "1.0.0")
    assert lock["greet"]["url"] == team.http_url
    assert "Added template 'greet'" in newest.err and "Added template 'old-greet'" in pinned.err
    assert "team" not in project.lock_path.read_text().replace(team.http_url, "")


def test_a_short_name_in_two_registries(
    project: Steps, team: ServedRepo, remote_repo: Callable[[str], ServedRepo]
) -> None:
    other = remote_repo("other")
    _publish(other, _other("deploy-web", "Deploy a web site, differently."), name="other")
    project.ok("registry", "add", "team", team.file_url, "--subdir", "registry")
    project.ok("registry", "add", "other", other.file_url, "--subdir", "registry")

    ambiguous = project.fails("add", "deploy-web")
    picked = project.fails("add", "deploy-web", "--registry", "team", "--offline")

    assert ambiguous.error == (
        "template 'deploy-web' is in several registries: other, team; "
        "name the one you mean: `other/deploy-web` or `team/deploy-web`"
    )
    # The pick resolved: what fails is fetching its (made-up) source offline.
    assert "git.example.com/acme/elsewhere.git" in picked.error


def test_a_name_in_no_registry_suggests_close_ones(project: Steps, team: ServedRepo) -> None:
    project.ok("registry", "add", "team", team.file_url, "--subdir", "registry")

    misspelt = project.fails("add", "gret")
    options = project.fails("add", "greet", "--tag", "v1.0.0")
    not_a_name = project.fails("add", "./greet", "--registry", "team")

    assert misspelt.error == "no template named 'gret' in registry 'team'; did you mean 'greet'?"
    assert options.error == (
        "--tag does not apply to 'greet', whose registry gives its source; "
        "to choose it, add the source itself (see `steps info greet`)"
    )
    assert not_a_name.error == ("--registry applies to template names, and './greet' is not one")


def test_a_range_the_index_cannot_meet(project: Steps, team: ServedRepo) -> None:
    project.ok("registry", "add", "team", team.file_url, "--subdir", "registry")

    failed = project.fails("add", "greet@^3")

    assert failed.error == (
        "registry 'team': template 'greet': no version matches '^3'; nearest available: "
        "1.0.0, 1.1.0; see its versions with `steps info greet`"
    )


def test_a_listed_version_the_source_no_longer_has(
    project: Steps, remote_repo: Callable[[str], ServedRepo]
) -> None:
    stale = _released(remote_repo("stale"), "1.0.0", "1.1.0", listed=("1.0.0", "1.1.0", "1.2.0"))
    project.ok("registry", "add", "stale", stale.file_url, "--subdir", "registry")

    newest_gone = project.fails("add", "greet")
    exact_gone = project.fails("add", "stale/greet@1.2.0")
    project.ok("add", "greet@1.1.0")

    assert newest_gone.error == (
        "registry 'stale' lists template 'greet' 1.2.0, but its source "
        f"({stale.file_url} (templates/greet)) no longer has it; the index is out of date: "
        "ask its maintainers to run `steps registry build`; or pick a version the source "
        "has: steps add greet@1.1.0"
    )
    assert exact_gone.error.startswith("registry 'stale' lists template 'greet' 1.2.0, but")
    assert exact_gone.error.endswith("steps add stale/greet@1.1.0")
