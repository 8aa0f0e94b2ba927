"""steps.toml: GitHub, NuGet and archive URL requirements, and named sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates import manifest, source_config
from steptemplates.errors import StepsError
from steptemplates.manifest import GitHubRequirement, HttpRequirement, NuGetRequirement
from steptemplates.sources import lock_identity

SHA = "ab" * 32


def load(tmp_path: Path, text: str) -> manifest.Manifest:
    path = tmp_path / "steps.toml"
    path.write_text(text, encoding="utf-8")
    return manifest.load(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(StepsError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "steps.toml"), "steps.toml")


def test_a_github_requirement_with_every_key(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        """
[templates.deploy]
github = "acme/deploy-templates"
api-url = "https://ghe.acme.example/api/v3/"
asset = "deploy-*.zip"
subdir = "templates/deploy/"
version = "^2"
prerelease = true
""",
    )
    requirement = loaded.templates["deploy"].source
    assert requirement == GitHubRequirement(
        repo="acme/deploy-templates",
        api_url="https://ghe.acme.example/api/v3",
        asset="deploy-*.zip",
        subdir="templates/deploy",
        version="^2",
        prereleases=True,
        api_url_written="https://ghe.acme.example/api/v3/",
    )
    assert requirement.requested == "^2 (prereleases)"
    assert manifest.requirement_fields(requirement) == {
        "github": "acme/deploy-templates",
        "api-url": "https://ghe.acme.example/api/v3/",
        "asset": "deploy-*.zip",
        "subdir": "templates/deploy",
        "version": "^2",
        "prerelease": True,
    }


def test_the_github_api_comes_from_the_environment_unless_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = '[templates.a]\ngithub = "o/r"\nversions = "tags"\n'
    assert load(tmp_path, text).templates["a"].source.api_url == "https://api.github.com"  # type: ignore[union-attr]
    monkeypatch.setenv("STEPS_GITHUB_API_URL", "https://ghe.example/api/v3/")
    requirement = load(tmp_path, text).templates["a"].source
    assert isinstance(requirement, GitHubRequirement)
    assert requirement.api_url == "https://ghe.example/api/v3"
    assert requirement.requested == "* (tags)"
    # The environment's URL is part of what was locked, but not written back to steps.toml.
    assert "api-url" not in manifest.requirement_fields(requirement)
    ref = manifest.TemplateRef("a", requirement)
    assert lock_identity(ref)["url"] == "https://ghe.example/api/v3"


def test_named_sources_from_the_manifest_and_the_user_config(tmp_path: Path) -> None:
    config = source_config.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[sources.ghe]\ngithub = "https://ghe.acme.example/api/v3"\ntoken-env = "GHE_TOKEN"\n'
        '[sources.acme]\nnuget = "https://user-config.example/index.json"\n',
        encoding="utf-8",
    )
    loaded = load(
        tmp_path,
        """
[sources.acme]
nuget = "https://feeds.acme.example/v3/index.json"
username = "deploy"
password-env = "ACME_FEED_PASSWORD"

[templates.iis]
source = "acme"
id = "Acme.Templates.Iis"
version = "^1"

[templates.web]
github = "acme/web"
source = "ghe"
""",
    )
    iis = loaded.templates["iis"].source
    assert iis == NuGetRequirement(
        feed="https://feeds.acme.example/v3/index.json",  # the manifest wins over the user's
        package_id="Acme.Templates.Iis",
        version="^1",
        source_name="acme",
    )
    assert manifest.requirement_fields(iis) == {
        "source": "acme",
        "id": "Acme.Templates.Iis",
        "version": "^1",
    }
    web = loaded.templates["web"].source
    assert isinstance(web, GitHubRequirement)
    assert web.api_url == "https://ghe.acme.example/api/v3"
    assert loaded.sources["ghe"].token_env == "GHE_TOKEN"
    assert loaded.sources["acme"].password_env == "ACME_FEED_PASSWORD"
    assert source_config.for_url(loaded.sources, "https://ghe.acme.example/api/v3/") is (
        loaded.sources["ghe"]
    )


def test_an_archive_url(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        f'[templates.tool]\nurl = "https://dl.example/tool-1.2.0.tar.gz"\nsha256 = "{SHA.upper()}"\n',
    )
    requirement = loaded.templates["tool"].source
    assert requirement == HttpRequirement(url="https://dl.example/tool-1.2.0.tar.gz", sha256=SHA)
    assert requirement.requested == f"sha256={SHA}"
    unpinned = load(tmp_path, '[templates.tool]\nurl = "https://dl.example/t.zip"\n')
    assert unpinned.templates["tool"].source.requested == "url"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[templates.a]\ngithub = "acme"\n',
            "steps.toml:2: template 'a': 'acme' is not owner/repository",
        ),
        (
            '[templates.a]\ngithub = "o/r"\nsource = "x"\napi-url = "https://h/api/v3"\n',
            "steps.toml:4: template 'a' gives both 'source' and 'api-url'; keep one",
        ),
        (
            '[templates.a]\ngithub = "o/r"\napi-url = "https://me:pw@h/api/v3"\n',
            "steps.toml:3: template 'a': api-url must be an http(s) URL without credentials",
        ),
        (
            '[templates.a]\ngithub = "o/r"\nversions = "tags"\nasset = "*.zip"\n',
            "steps.toml:4: template 'a': release assets need versions = 'releases'",
        ),
        (
            '[templates.a]\ngithub = "o/r"\nversions = "branches"\n',
            "steps.toml:3: template 'a': versions must be 'releases' or 'tags'",
        ),
        (
            '[templates.a]\ngithub = "o/r"\nversion = "^1"\ntag = "v1.0.0"\n',
            "steps.toml:4: template 'a' gives both 'version' and 'tag'; keep one",
        ),
        (
            '[templates.a]\ngithub = "o/r"\nversion = "one"\n',
            "steps.toml:3: template 'a': invalid version range 'one'",
        ),
        (
            '[templates.a]\ngithub = "o/r"\nbranch = "main"\n',
            "steps.toml:3: unknown key 'branch'",
        ),
        (
            '[templates.a]\nnuget = "https://f/index.json"\n',
            "steps.toml:1: 'templates.a.id' is required",
        ),
        (
            '[templates.a]\nnuget = "feeds.example"\nid = "X"\n',
            "steps.toml:2: template 'a': 'feeds.example' is not a URL",
        ),
        (
            '[templates.a]\nnuget = "https://u:p@f/index.json"\nid = "X"\n',
            "steps.toml:2: template 'a': the URL has credentials written into it",
        ),
        (
            '[templates.a]\nnuget = "https://f/index.json"\nid = "X Y"\n',
            "steps.toml:3: template 'a': 'X Y' is not a NuGet package id",
        ),
        (
            '[templates.a]\nsource = "nowhere"\nid = "X"\n',
            "steps.toml:2: template 'a': no source named 'nowhere'",
        ),
        (
            '[sources.g]\ngithub = "https://h/api/v3"\n[templates.a]\nsource = "g"\nid = "X"\n',
            "steps.toml:4: template 'a': source 'g' is a github source, not nuget",
        ),
        (
            '[templates.a]\nurl = "ftp://host/x.zip"\n',
            "steps.toml:2: template 'a': 'ftp://host/x.zip' is not an http(s) or file URL",
        ),
        (
            '[templates.a]\nurl = "https://h/x.zip"\nsha256 = "abc"\n',
            "steps.toml:3: template 'a': sha256 must be 64 hex digits",
        ),
        (
            '[templates.a]\nurl = "https://h/x.zip"\ngit = "https://h/r.git"\n',
            "steps.toml:1: template 'a' needs exactly one source",
        ),
        (
            '[sources.s]\nnuget = "https://f/index.json"\ngithub = "https://h"\n',
            "steps.toml:1: source 's' needs exactly one of 'nuget'",
        ),
        (
            '[sources.s]\nnuget = "https://f/index.json"\npassword-env = "hunter2!"\n',
            "steps.toml:3: source 's': password-env names an environment variable, not a value",
        ),
        (
            '[sources.s]\nnuget = "https://me:hunter2@f/index.json"\n',
            "steps.toml:2: source 's': the URL has credentials written into it",
        ),
        (
            '[sources.s]\nnuget = "https://f/index.json"\npassword = "hunter2"\n',
            "steps.toml:3: unknown key 'password'",
        ),
    ],
)
def test_bad_feed_requirements_point_at_the_line(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert message.startswith(expected), message
    assert "hunter2" not in message


def test_a_malformed_user_config_names_its_file(tmp_path: Path) -> None:
    config = source_config.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[sources.s]\nnuget = "https://f/index.json"\ntoken = 1\n', encoding="utf-8")
    message = error_of(tmp_path, '[templates.a]\nsource = "s"\nid = "X"\n')
    assert message.startswith(f"{config}:3: unknown key 'token'"), message
