"""Configured registries: the user's and the project's, what a URL is taken for, and the
tables `steps registry add` and `remove` edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates import manifest, manifest_edit, source_config
from steptemplates.errors import StepsError
from steptemplates.registries import config
from steptemplates.registries.config import RegistryRequest
from steptemplates.registries.location import RegistryLocation
from tests.support.gitserver import make_repo


def _user_config(text: str) -> Path:
    path = source_config.user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _project(directory: Path, text: str) -> manifest.Manifest:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "steps.toml"
    path.write_text(text, encoding="utf-8")
    return manifest.load(path)


def test_the_projects_registries_win_over_the_users(tmp_path: Path) -> None:
    user_file = _user_config(
        '[sources.acme]\nnuget = "https://feeds.acme.example/v3/index.json"\n\n'
        '[registries.team]\ngit = "https://git.example.com/user-team.git"\n\n'
        '[registries.mine]\npath = "registries/mine"\n'
    )
    current = _project(
        tmp_path / "project",
        '[registries.team]\ngit = "https://git.example.com/team.git"\nsubdir = "registry"\n',
    )

    found = config.configured(current)

    assert list(found) == ["mine", "team"]
    assert found["team"].location == "https://git.example.com/team.git"
    assert found["team"].subdir == "registry"
    assert found["mine"].resolved == user_file.parent / "registries" / "mine"
    assert config.configured(None)["team"].location == "https://git.example.com/user-team.git"
    assert config.configured_at(tmp_path / "project") == found
    assert set(source_config.user_sources()) == {"acme"}  # sources are still read beside them


def test_mistakes_in_the_user_config_name_file_and_line() -> None:
    path = _user_config('[registries.team]\ngit = "x"\nurl = "y"\n')
    with pytest.raises(StepsError) as two_kinds:
        config.user_registries()
    path.write_text('[registry.team]\ngit = "x"\n')
    with pytest.raises(StepsError) as unknown:
        source_config.user_sources()

    assert str(two_kinds.value).startswith(f"{path}:1: registry 'team' needs exactly one of")
    assert str(unknown.value) == (f"{path}:1: unknown key 'registry'; did you mean 'registries'?")


# --- what a URL is -----------------------------------------------------------------------------


def _guess(url: str, file: Path, **options: object) -> RegistryLocation:
    return config.guess_location(RegistryRequest("team", url, **options), file)


@pytest.mark.parametrize(
    ("url", "kind", "written"),
    [
        ("git://git.example.com/registry", "git", "git://git.example.com/registry"),
        ("ssh://git@git.example.com/registry", "git", "ssh://git@git.example.com/registry"),
        ("git@github.com:acme/registry", "git", "git@github.com:acme/registry"),
        ("https://git.example.com/acme/registry.git", "git", None),
        ("https://templates.example.com/index.toml", "url", None),
        ("https://templates.example.com/registry/", "url", None),
    ],
)
def test_the_kind_is_guessed_from_the_url(
    url: str, kind: str, written: str | None, tmp_path: Path
) -> None:
    location = _guess(url, tmp_path / "config.toml")

    assert (location.kind, location.location) == (kind, written or url)


def test_local_urls_and_directories(tmp_path: Path) -> None:
    repository = make_repo(tmp_path / "repo").path
    bare = tmp_path / "bare.git"
    make_repo(tmp_path / "for-bare").git("clone", "--bare", "--quiet", ".", str(bare))
    folder = tmp_path / "site" / "registry"
    folder.mkdir(parents=True)
    project_file = tmp_path / "project" / "steps.toml"
    own = tmp_path / "project" / "registry"
    own.mkdir(parents=True)
    user_file = tmp_path / "config" / "config.toml"

    assert _guess(repository.as_uri(), user_file).kind == "git"
    assert _guess(bare.as_uri(), user_file).kind == "git"
    local_site = _guess(folder.as_uri(), user_file)
    assert (local_site.kind, local_site.location) == ("url", folder.as_uri() + "/")
    in_project = _guess(str(own), project_file)
    assert (in_project.kind, in_project.location) == ("path", "registry")
    assert in_project.resolved == own
    elsewhere = _guess(str(folder), project_file)
    assert (elsewhere.kind, elsewhere.location) == ("path", str(folder))
    forced = _guess("https://git.example.com/acme/registry", user_file, git=True, subdir="/r/")
    assert (forced.kind, forced.subdir) == ("git", "r")


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        (
            "https://git.example.com/acme/registry",
            {},
            "cannot tell whether https://git.example.com/acme/registry is a git repository or "
            "an index on a web host; pass --git for a repository, or give the URL of its "
            "index.toml (or of its folder, ending in '/')",
        ),
        (
            "no-such-directory",
            {},
            "no-such-directory is neither a URL nor an existing directory; give a git URL, "
            "the URL of an index.toml, or a directory holding one",
        ),
        (
            "https://templates.example.com/index.toml",
            {"branch": "main"},
            "--subdir and --branch apply to registries in git repositories; "
            "pass --git if the URL is a git repository",
        ),
    ],
)
def test_urls_that_are_refused(url: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(StepsError) as failure:
        _guess(url, Path("config.toml"), **options)

    assert str(failure.value) == message


def test_credentials_in_a_url_are_refused() -> None:
    with pytest.raises(StepsError) as failure:
        _guess("https://user:s3cret@git.example.com/registry.git", Path("config.toml"))

    assert str(failure.value) == (
        "registry 'team': the URL has credentials written into it; "
        "remove them, and add the host to ~/.netrc (docs/registries.md)"
    )


@pytest.mark.parametrize("name", ["team", "a.b_c-1", "9"])
def test_usable_names(name: str) -> None:
    config.check_name(name)


@pytest.mark.parametrize("name", ["", "-team", ".team", "te am", "team/x", "tëam"])
def test_unusable_names(name: str) -> None:
    with pytest.raises(StepsError) as failure:
        config.check_name(name)

    assert str(failure.value) == (
        f"'{name}' is not a usable registry name; use letters, digits, '.', '_' and '-', "
        "starting with a letter or digit"
    )


# --- editing the tables ------------------------------------------------------------------------

_COMMENTED = """\
# My settings.
[sources.acme]
nuget = "https://feeds.acme.example/v3/index.json"  # the team's feed

# Registries below.
"""


def test_tables_are_added_replaced_and_removed_with_comments_kept() -> None:
    team = RegistryLocation("team", "git", "https://git.example.com/t.git", "registry", "main")
    web = RegistryLocation("web", "url", "https://templates.example.com/index.toml")

    added = manifest_edit.with_registry(_COMMENTED, team, display="config.toml")
    both = manifest_edit.with_registry(added, web, display="config.toml")
    replaced = manifest_edit.with_registry(
        both, RegistryLocation("team", "path", "../registry"), display="config.toml"
    )
    one_left = manifest_edit.without_registry(replaced, "team")
    none_left = manifest_edit.without_registry(one_left, "web")

    assert added == _COMMENTED + (
        '\n[registries.team]\ngit = "https://git.example.com/t.git"\nsubdir = "registry"\n'
        'branch = "main"\n\n'
    )
    assert replaced.startswith(_COMMENTED)
    assert '[registries.team]\npath = "../registry"\n' in replaced
    assert replaced.index("[registries.team]") < replaced.index("[registries.web]")
    assert "[registries.team]" not in one_left and "[registries.web]" in one_left
    assert "registries" not in none_left
    assert none_left.startswith(_COMMENTED.rstrip("\n"))


def test_a_registries_key_that_is_not_a_table() -> None:
    with pytest.raises(StepsError) as failure:
        manifest_edit.with_registry(
            'registries = "x"\n', RegistryLocation("team", "path", "r"), display="steps.toml"
        )

    assert str(failure.value) == "steps.toml: 'registries' must be a table to add 'team' to it"
