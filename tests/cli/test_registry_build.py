"""`steps registry build` on the command line: where it looks, what it prints, how it fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from steptemplates.registries import index
from tests.registries.test_build import broken_at_one_version, write_native
from tests.support.gitserver import GitRepo, ServedRepo, make_repo
from tests.support.projects import Steps


def two_templates(repo: GitRepo) -> GitRepo:
    write_native(repo, "templates/alpha", "alpha")
    repo.commit()
    repo.tag("v1.0.0")
    write_native(repo, "templates/beta", "beta")
    repo.commit()
    return repo


def write_registry(directory: Path, url: str, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "registry.toml"
    path.write_text(f'name = "team"\n\n[[collection]]\ngit = "{url}"\n{extra}', encoding="utf-8")
    return path


def test_builds_the_registry_folder_by_default_and_says_what_changed(
    steps: Steps, tmp_path: Path
) -> None:
    repo = two_templates(make_repo(tmp_path / "repo"))
    write_registry(steps.directory / "registry", repo.path.as_uri())

    first = steps.ok("registry", "build")
    again = steps.ok("registry", "build")

    assert first.err.splitlines() == [
        "Wrote registry/index.toml: 2 templates, 1 version, from 1 collection",
        "  added: alpha, beta",
    ]
    assert again.err.splitlines() == [
        "registry/index.toml is up to date: 2 templates, 1 version, from 1 collection"
    ]
    listed = index.load(steps.directory / "registry" / "index.toml")
    assert [(e.name, e.branch) for e in listed.entries] == [("alpha", None), ("beta", "main")]


def test_a_directory_argument_and_the_current_directory(steps: Steps, tmp_path: Path) -> None:
    repo = two_templates(make_repo(tmp_path / "repo"))
    write_registry(steps.directory / "elsewhere", repo.path.as_uri())
    write_registry(steps.directory, repo.path.as_uri(), 'subdir = "templates/beta"\n')

    named = steps.ok("registry", "build", "elsewhere", "-q")
    here = steps.ok("registry", "build")

    assert named.err == ""
    assert (steps.directory / "elsewhere" / "index.toml").is_file()
    assert here.err.splitlines()[0] == (
        "Wrote index.toml: 1 template, 0 versions, from 1 collection"
    )


def test_warnings_and_strict(steps: Steps, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    broken_at_one_version(repo)
    write_registry(steps.directory / "registry", repo.path.as_uri())

    strict = steps.fails("registry", "build", "--strict")
    lenient = steps.ok("registry", "build")

    assert strict.error.startswith(f"{repo.path.as_uri()} at v1.1.0: beta: steptemplate.toml:3:")
    assert strict.error.endswith("; fix it, or build without --strict to leave it out")
    assert [w.endswith("; it is left out at v1.1.0") for w in lenient.warnings] == [True]
    assert "Wrote registry/index.toml: 2 templates, 5 versions" in lenient.err


def test_offline(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    repo = two_templates(remote_repo("cli-registry-offline"))
    write_registry(steps.directory / "registry", repo.git_url)

    cold = steps.fails("registry", "build", "--offline")
    steps.ok("registry", "build")
    warm = steps.ok("registry", "build", "--offline")

    assert cold.error == (
        f"registry/registry.toml:3: {repo.git_url} is not in the cache and --offline forbids "
        "fetching it; build once without --offline"
    )
    assert "is up to date" in warm.err


def test_bad_input_is_one_error_line(steps: Steps, tmp_path: Path) -> None:
    write_registry(steps.directory / "registry", (tmp_path / "nowhere").as_uri(), "brnach = 1\n")
    unknown_key = steps.fails("registry", "build")
    write_registry(steps.directory / "registry", (tmp_path / "nowhere").as_uri())
    missing_repository = steps.fails("registry", "build")
    missing_file = steps.fails("registry", "build", "empty")

    assert unknown_key.error == (
        "registry/registry.toml:5: unknown key 'brnach' in [collection[0]]; did you mean 'branch'?"
    )
    assert missing_repository.error == (
        f"registry/registry.toml:3: {(tmp_path / 'nowhere').as_uri()} is not a git repository; "
        "check the collection's 'git' URL in registry.toml"
    )
    assert missing_file.error.startswith("empty/registry.toml: file not found; write one naming")
    assert not (steps.directory / "registry" / "index.toml").exists()
