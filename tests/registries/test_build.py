"""`steps registry build` as a library: registry.toml read strictly, versions from tags,
templates read at each version, the index written deterministically."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steptemplates.console import Console
from steptemplates.errors import OfflineError, StepsError
from steptemplates.registries import build, index
from steptemplates.registries.index import IndexEntry, IndexParameter, IndexSource
from tests.support.gitserver import GitRepo, ServedRepo, git, make_repo

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "data" / "octopus-corpus"

TAGGED_AT = 1_750_000_000  # annotated tags are made at their own time, after their commit


def native_template(
    name: str,
    *,
    description: str = "",
    parameters: str = '[[parameters]]\nname = "Message"\ndefault = "hi"\n',
    extra: str = "",
) -> str:
    return (
        f'name = "{name}"\n'
        f'description = "{description or name + " does its job."}"\n'
        'category = "test"\n'
        f"{extra}\n"
        f"{parameters}\n"
        '[script]\nsyntax = "bash"\nbody = "echo hi"\n'
    )


def write_native(repo: GitRepo, directory: str, name: str, **options: str) -> None:
    repo.write(f"{directory}/steptemplate.toml", native_template(name, **options))


def annotated_tag(repo: GitRepo, tag: str, message: str, *, at: int) -> None:
    git(repo.path, "tag", "--annotate", "-m", message, tag, date=at)


def registry_dir(tmp_path: Path, body: str, *, name: str = "test") -> Path:
    directory = tmp_path / "registry"
    directory.mkdir(exist_ok=True)
    (directory / "registry.toml").write_text(f'name = "{name}"\n\n{body}', encoding="utf-8")
    return directory


def run_build(directory: Path, **options: bool) -> tuple[build.BuildResult, str]:
    """Build, returning the result and what was printed on stderr (the warnings)."""
    err = io.StringIO()
    result = build.build(directory, Console(io.StringIO(), err), **options)
    return result, err.getvalue()


def entries(directory: Path) -> dict[str, IndexEntry]:
    """The written index, read back through the strict reader."""
    return {e.name: e for e in index.load(directory / "index.toml").entries}


def versions(entry: IndexEntry) -> list[str]:
    return [v.version for v in entry.versions]


# --- a tagged repository: alpha throughout, beta from 1.1.0, gamma gone at 2.0.0 ---------


def tagged_repo(repo: GitRepo) -> dict[str, str]:
    """Release a repository of three templates; returns the commit of each tag."""
    commits: dict[str, str] = {}
    write_native(repo, "templates/alpha", "alpha")
    write_native(repo, "templates/gamma", "gamma")
    repo.write("README.md", "templates\n")
    commits["v1.0.0"] = repo.commit("first release")
    annotated_tag(repo, "v1.0.0", "First release.\n\nAlpha and gamma.", at=TAGGED_AT)
    write_native(repo, "templates/beta", "beta")
    commits["v1.1.0"] = repo.commit("beta")
    repo.tag("v1.1.0")  # lightweight: dated by its commit, no notes
    repo.remove("templates/gamma/steptemplate.toml")
    write_native(
        repo,
        "templates/alpha",
        "alpha",
        description="Alpha, second edition.",
        parameters='[[parameters]]\nname = "Target"\nrequired = true\nhelp = "Where."\n',
    )
    commits["v2.0.0"] = repo.commit("gamma retired")
    annotated_tag(repo, "v2.0.0", "Second release", at=TAGGED_AT + 100)
    write_native(repo, "templates/alpha", "alpha", description="Alpha, release candidate.")
    commits["v2.1.0-rc.1"] = repo.commit("next")
    annotated_tag(repo, "v2.1.0-rc.1", "Candidate", at=TAGGED_AT + 200)
    repo.tag("nightly")  # not a version: never read
    return commits


def test_versions_come_from_tags_where_each_template_exists(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commits = tagged_repo(repo)
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{repo.path.as_uri()}"\nsubdir = "templates"\n'
        'maintainers = ["Platform <platform@example.com>"]\n',
    )

    result, warnings = run_build(directory)

    assert warnings == ""
    listed = entries(directory)
    assert sorted(listed) == ["alpha", "beta", "gamma"]
    assert versions(listed["alpha"]) == ["2.1.0-rc.1", "2.0.0", "1.1.0", "1.0.0"]
    assert versions(listed["beta"]) == ["2.1.0-rc.1", "2.0.0", "1.1.0"]
    assert versions(listed["gamma"]) == ["1.1.0", "1.0.0"]
    alpha = listed["alpha"]
    # The summary is the newest stable version's, not the release candidate's.
    assert alpha.description == "Alpha, second edition."
    assert alpha.parameters == (IndexParameter("Target", "Target", "text", True, None, "Where."),)
    assert alpha.source == IndexSource("git", repo.path.as_uri(), subdir="templates/alpha")
    assert alpha.maintainers == ("Platform <platform@example.com>",)
    assert alpha.branch is None and alpha.template_version is None
    by_tag = {v.tag: v for v in alpha.versions}
    assert {tag: v.commit for tag, v in by_tag.items()} == commits
    assert by_tag["v1.0.0"].notes == "First release.\n\nAlpha and gamma."
    assert by_tag["v1.0.0"].published == datetime.fromtimestamp(TAGGED_AT, UTC)
    # A lightweight tag has no notes and the date of its commit.
    commit_date = int(git(repo.path, "log", "-1", "--format=%ct", commits["v1.1.0"]))
    assert by_tag["v1.1.0"].notes == ""
    assert by_tag["v1.1.0"].published == datetime.fromtimestamp(commit_date, UTC)
    assert (result.added, result.removed, result.changed) == (("alpha", "beta", "gamma"), (), ())
    assert result.written and result.versions == 9


def test_untagged_templates_follow_the_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "steps/deploy", "deploy", extra="[octopus]\nversion = 7\n")
    repo.commit()
    repo.checkout("develop")
    write_native(repo, "steps/deploy", "deploy", description="Work in progress.")
    repo.commit()
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\nbranch = "main"\n'
    )

    run_build(directory)

    deploy = entries(directory)["deploy"]
    assert (deploy.versions, deploy.branch, deploy.template_version) == ((), "main", 7)
    assert deploy.description == "deploy does its job."
    assert deploy.source == IndexSource("git", repo.path.as_uri(), subdir="steps/deploy")


def test_a_template_added_after_the_last_tag_follows_the_default_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "a", "released")
    repo.commit()
    repo.tag("v1.0.0")
    write_native(repo, "b", "unreleased")
    repo.commit()
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\n')

    run_build(directory)

    listed = entries(directory)
    assert (versions(listed["released"]), listed["released"].branch) == (["1.0.0"], None)
    assert (versions(listed["unreleased"]), listed["unreleased"].branch) == ([], "main")


def test_per_template_tag_patterns(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "templates/alpha", "alpha")
    write_native(repo, "templates/my-v2-tool", "my-v2-tool")
    repo.commit()
    repo.tag("alpha/v1.0.0")
    repo.tag("my-v2-tool/v0.1.0")
    repo.tag("v9.9.9")  # a whole-repository tag: not any template's version here
    write_native(repo, "templates/alpha", "alpha", description="Better.")
    repo.commit()
    repo.tag("alpha/v1.1.0")
    repo.tag("alpha/latest")
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{repo.path.as_uri()}"\nsubdir = "templates"\n'
        'tags = "{name}/v*"\n',
    )

    run_build(directory)

    listed = entries(directory)
    assert versions(listed["alpha"]) == ["1.1.0", "1.0.0"]
    assert listed["alpha"].description == "Better."
    assert listed["alpha"].source.tags == "alpha/v*"
    assert versions(listed["my-v2-tool"]) == ["0.1.0"]
    assert listed["my-v2-tool"].source.tags == "my-v2-tool/v*"


def test_a_collection_wide_tag_pattern(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "t", "tool")
    repo.commit()
    repo.tag("release-1.0.0")
    repo.tag("v5.0.0")
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\ntags = "release-*"\n'
    )

    run_build(directory)

    tool = entries(directory)["tool"]
    assert versions(tool) == ["1.0.0"]
    assert tool.source.tags == "release-*"


# --- an Octopus-style collection ----------------------------------------------------------


def corpus_repo(path: Path) -> GitRepo:
    """A repository laid out like a fork of Octopus's library, with no version tags."""
    repo = make_repo(path, branch="master")
    shutil.copytree(CORPUS / "step-templates", repo.path / "step-templates")
    shutil.copytree(CORPUS / "modules", repo.path / "modules")
    repo.write("package.json", '{"name": "library", "version": "1.0.0"}\n')
    repo.commit("library")
    return repo


def test_an_octopus_library_collection(tmp_path: Path) -> None:
    repo = corpus_repo(tmp_path / "library")
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{repo.path.as_uri()}"\ninclude = ["step-templates/*.json"]\n'
        'branch = "master"\nmaintainers = ["Octopus community"]\n',
    )

    result, warnings = run_build(directory)

    assert warnings == ""
    listed = entries(directory)
    files = sorted((CORPUS / "step-templates").glob("*.json"))
    assert sorted(listed) == [f.stem for f in files]
    for file in files:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
        entry = listed[file.stem]
        assert entry.format == "octopus"
        assert entry.source == IndexSource(
            "git", repo.path.as_uri(), template=f"step-templates/{file.name}"
        )
        assert (entry.branch, entry.versions) == ("master", ())
        assert entry.template_version == data.get("Version")
        assert entry.description == (data.get("Description") or "").strip()
        assert [p.name for p in entry.parameters] == [p["Name"] for p in data["Parameters"]]
    channel = next(
        p for p in listed["notify-compose-message"].parameters if p.name.endswith("Channel")
    )
    assert (channel.type, channel.default, channel.options) == (
        "select",
        "chat",
        ("chat", "email", "sms"),
    )
    assert result.versions == 0


def test_default_discovery_skips_modules_and_other_json(tmp_path: Path) -> None:
    repo = corpus_repo(tmp_path / "library")
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\nname = "octopus-{{name}}"\n'
    )

    _result, warnings = run_build(directory)

    assert warnings == ""
    names = sorted(entries(directory))
    expected = sorted(f"octopus-{f.stem}" for f in (CORPUS / "step-templates").glob("*.json"))
    assert names == expected  # no script module, no package.json


def test_files_inside_a_native_template_belong_to_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "tools/convert", "convert")
    example = (CORPUS / "step-templates" / "text-slugify.json").read_text()
    repo.write("tools/convert/examples/sample.json", example)
    repo.write("tools/other/text-slugify.json", example)
    repo.commit()
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{repo.path.as_uri()}"\ninclude = ["tools/**"]\n',
    )

    run_build(directory)

    listed = entries(directory)
    assert sorted(listed) == ["convert", "text-slugify"]
    assert listed["text-slugify"].source.template == "tools/other/text-slugify.json"


def test_sensitive_defaults_stay_out_of_the_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    parameters = (
        '[[parameters]]\nname = "Token"\ntype = "sensitive"\ndefault = "hunter2-secret"\n'
        '[[parameters]]\nname = "User"\ndefault = "deploy"\n'
    )
    write_native(repo, "t", "login", parameters=parameters)
    repo.commit()
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\n')

    run_build(directory)

    assert "hunter2" not in (directory / "index.toml").read_text()
    token, user = entries(directory)["login"].parameters
    assert (token.type, token.default, user.default) == ("sensitive", None, "deploy")


def test_collection_and_template_overrides(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "a", "alpha")
    write_native(repo, "b", "Beta Tool")  # a name that is not a short name yet
    repo.commit()
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{repo.path.as_uri()}"\ncategory = "platform"\n'
        'maintainers = ["Team A"]\n\n'
        '[collection.templates.alpha]\nname = "first"\ndescription = "The first one."\n'
        'maintainers = ["Alice"]\n\n'
        '[collection.templates.beta-tool]\ncategory = "tools"\n\n'
        '[collection.templates.gone]\ncategory = "x"\n',
    )

    _result, warnings = run_build(directory)

    listed = entries(directory)
    assert sorted(listed) == ["beta-tool", "first"]
    first, beta = listed["first"], listed["beta-tool"]
    assert (first.description, first.category, first.maintainers) == (
        "The first one.",
        "platform",
        ("Alice",),
    )
    assert (beta.category, beta.maintainers) == ("tools", ("Team A",))
    assert warnings.splitlines() == [
        f"warning: {directory}/registry.toml:16: [collection.templates.gone] matches no "
        f"template of the collection {repo.path.as_uri()}"
    ]


# --- determinism -----------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_bytes_in_any_clone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    tagged_repo(repo)
    repo.write(
        "registry/registry.toml",
        'name = "own"\n\n[[collection]]\ngit = "."\nsubdir = "templates"\n',
    )
    repo.commit("registry")

    first, _ = run_build(repo.path / "registry")
    written = (repo.path / "registry" / "index.toml").read_bytes()
    again, _ = run_build(repo.path / "registry")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(repo.path), str(clone))
    run_build(clone / "registry")

    assert first.written and not again.written
    assert (again.added, again.removed, again.changed) == ((), (), ())
    assert (repo.path / "registry" / "index.toml").read_bytes() == written
    assert (clone / "registry" / "index.toml").read_bytes() == written
    assert entries(clone / "registry")["alpha"].source.location == "."


def test_changes_since_the_previous_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "a", "alpha")
    write_native(repo, "b", "beta")
    repo.commit()
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\n')
    run_build(directory)
    repo.remove("b/steptemplate.toml")
    write_native(repo, "a", "alpha", description="Changed.")
    write_native(repo, "c", "gamma")
    repo.commit()

    result, _ = run_build(directory)

    assert (result.added, result.removed, result.changed) == (("gamma",), ("beta",), ("alpha",))


def test_an_index_edited_by_hand_is_replaced(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "a", "alpha")
    write_native(repo, "b", "beta")
    repo.commit()
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\n')
    first, _ = run_build(directory)
    path = directory / "index.toml"
    path.write_text(path.read_text().replace("beta does its job.", "Edited.") + "# mine\n")

    again, warnings = run_build(directory)

    assert (again.written, again.changed, warnings) == (True, ("beta",), "")
    assert path.read_text() == index.render(first.index)


def test_the_committed_registry_indexes_this_repository(tmp_path: Path) -> None:
    """Rebuilding from this checkout's templates/ and registry/ (no tags, branch main)
    gives the committed registry/index.toml: it never goes stale."""
    repo = make_repo(tmp_path / "steps")
    shutil.copytree(REPO_ROOT / "templates", repo.path / "templates")
    (repo.path / "registry").mkdir()
    shutil.copy(REPO_ROOT / "registry" / "registry.toml", repo.path / "registry")
    repo.commit("templates")

    result, warnings = run_build(repo.path / "registry")

    assert warnings == ""
    assert result.path.read_text() == (REPO_ROOT / "registry" / "index.toml").read_text(), (
        "registry/index.toml is stale: run `steps registry build` and commit the result"
    )
    assert sorted(e.name for e in result.index.entries) == sorted(
        p.name for p in (REPO_ROOT / "templates").iterdir() if p.is_dir()
    )


# --- served repositories and the cache -----------------------------------------------------


@pytest.mark.parametrize("transport", ["git", "http"])
def test_served_repositories(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], transport: str
) -> None:
    repo = remote_repo("registry-served")
    commits = tagged_repo(repo)
    url = repo.git_url if transport == "git" else repo.http_url
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{url}"\nsubdir = "templates"\n')

    run_build(directory)

    listed = entries(directory)
    assert versions(listed["gamma"]) == ["1.1.0", "1.0.0"]
    assert {v.tag: v.commit for v in listed["alpha"].versions} == commits
    assert listed["alpha"].versions[-1].notes == "First release.\n\nAlpha and gamma."
    assert listed["alpha"].source.location == url


def test_offline_from_the_cache(tmp_path: Path, remote_repo: Callable[[str], ServedRepo]) -> None:
    repo = remote_repo("registry-offline")
    tagged_repo(repo)
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngit = "{repo.git_url}"\nsubdir = "templates"\n'
    )
    run_build(directory)
    online = (directory / "index.toml").read_bytes()
    (directory / "index.toml").unlink()
    shutil.rmtree(repo.path)  # the server has nothing left to give

    run_build(directory, offline=True)

    assert (directory / "index.toml").read_bytes() == online


def test_offline_without_the_cache_fails(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo]
) -> None:
    repo = remote_repo("registry-offline-empty")
    tagged_repo(repo)
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.git_url}"\n')

    with pytest.raises(OfflineError) as failure:
        run_build(directory, offline=True)

    assert str(failure.value) == (
        f"{directory}/registry.toml:3: {repo.git_url} is not in the cache and --offline "
        "forbids fetching it; build once without --offline"
    )
    assert not (directory / "index.toml").exists()


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[collection]]\ngit = "file:///x"\nsubdirs = "t"\n',
            "registry.toml:5: unknown key 'subdirs' in [collection[0]]; did you mean 'subdir'?",
        ),
        (
            '[[collection]]\ngit = "file:///x"\ntags = "v*-*"\n',
            "registry.toml:5: tag pattern 'v*-*' needs exactly one '*', where the version is; "
            'e.g. "v*", "release-*" or "{name}/v*" for one series of tags per template',
        ),
        (
            '[[collection]]\ngit = "file:///x"\nname = "octopus"\n',
            "registry.toml:5: name pattern 'octopus' must hold '{name}' once, with letters, "
            "digits, '.', '_' and '-' around it; e.g. \"octopus-{name}\"",
        ),
        (
            '[[collection]]\nsubdir = "t"\n',
            "registry.toml:3: a [[collection]] needs 'git': a repository URL, or \".\" for "
            "the repository registry.toml is in",
        ),
        (
            '[[collection]]\ngit = "file:///x"\nsubdir = "../up"\n',
            "registry.toml:5: 'subdir' must be a path inside the repository, with '/' between "
            "folders",
        ),
        (
            '[[collection]]\ngit = "file:///x"\n[collection.templates.a]\nname = "b c"\n',
            "registry.toml:6: 'b c' is not a usable template name; use letters, digits, '.', "
            "'_' and '-'",
        ),
        (
            '[[collection]]\ngit = "../other"\n',
            "registry.toml:4: '../other' is a relative path; use a URL (file:///... for a "
            'repository on this machine), or "." for the repository registry.toml is in',
        ),
        ('[[collection]]\ngit = "file:///x"\nbranch = \n', "registry.toml:5:10: invalid TOML"),
        ('description = "nothing"\n', "registry.toml: no [[collection]] tables"),
    ],
)
def test_malformed_registry_files(tmp_path: Path, body: str, message: str) -> None:
    directory = registry_dir(tmp_path, body)

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    assert str(failure.value).startswith(f"{directory}/{message}")


def test_a_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(StepsError, match=r"registry\.toml: file not found"):
        run_build(tmp_path)


@pytest.mark.parametrize("transport", ["file", "http"])
def test_a_collection_that_does_not_exist(
    tmp_path: Path, remote_repo: Callable[[str], ServedRepo], transport: str
) -> None:
    served = remote_repo("registry-elsewhere")
    url = {
        "file": (tmp_path / "nowhere").as_uri(),
        "http": served.http_url.replace(served.name, "no-such-repository"),
    }[transport]
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{url}"\n')

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    expected = {
        "file": f"{url} is not a git repository",
        "http": f"git repository {url} was not found (404)",
    }[transport]
    assert failure.value.message == f"{directory}/registry.toml:3: {expected}"


def test_git_dot_outside_a_repository(tmp_path: Path) -> None:
    directory = registry_dir(tmp_path, '[[collection]]\ngit = "."\n')

    with pytest.raises(StepsError, match=r'registry\.toml:3: git = "\." names the git repository'):
        run_build(directory)


def test_a_missing_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "a", "alpha")
    repo.commit()
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\nbranch = "trunk"\n'
    )

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    assert str(failure.value) == (
        f"{directory}/registry.toml:3: branch 'trunk' does not exist in {repo.path.as_uri()}; "
        "check 'branch' in the collection; it has main"
    )


def test_duplicate_short_names_name_both_places(tmp_path: Path) -> None:
    first, second = make_repo(tmp_path / "one"), make_repo(tmp_path / "two")
    write_native(first, "deploy", "deploy")
    first.commit()
    second.write(
        "step-templates/deploy.json", (CORPUS / "step-templates" / "text-slugify.json").read_text()
    )
    second.commit()
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{first.path.as_uri()}"\n\n'
        f'[[collection]]\ngit = "{second.path.as_uri()}"\n',
    )

    with pytest.raises(StepsError) as failure:
        run_build(directory)

    shown = f"{directory}/registry.toml"
    assert str(failure.value) == (
        f"{shown}: two templates are named 'deploy': {shown}:3 (deploy) and "
        f"{shown}:6 (step-templates/deploy.json); give one another name with "
        "[collection.templates.NAME] name = \"...\" or a 'name' pattern for its collection"
    )
    assert not (directory / "index.toml").exists()


def broken_at_one_version(repo: GitRepo) -> None:
    write_native(repo, "alpha", "alpha")
    write_native(repo, "beta", "beta")
    repo.commit()
    repo.tag("v1.0.0")
    repo.write("beta/steptemplate.toml", 'name = "beta"\n[script]\nsyntax = "cobol"\nbody = "x"\n')
    repo.commit()
    repo.tag("v1.1.0")
    write_native(repo, "beta", "beta")
    repo.commit()
    repo.tag("v1.2.0")


def test_a_template_that_does_not_load_is_left_out_of_that_version(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    broken_at_one_version(repo)
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\n')

    result, warnings = run_build(directory)

    assert versions(entries(directory)["beta"]) == ["1.2.0", "1.0.0"]
    assert versions(entries(directory)["alpha"]) == ["1.2.0", "1.1.0", "1.0.0"]
    [warning] = warnings.splitlines()
    assert warning.startswith(f"warning: {repo.path.as_uri()} at v1.1.0: beta: steptemplate.toml:")
    assert warning.endswith("; it is left out at v1.1.0")
    assert "cobol" in warning
    assert result.warnings == (warning.removeprefix("warning: "),)


def test_strict_makes_a_template_that_does_not_load_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    broken_at_one_version(repo)
    directory = registry_dir(tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\n')

    with pytest.raises(StepsError) as failure:
        run_build(directory, strict=True)

    assert failure.value.message == (
        f"{repo.path.as_uri()} at v1.1.0: beta: steptemplate.toml:3: unsupported script syntax "
        "'cobol'"
    )
    assert failure.value.hint == "fix it, or build without --strict to leave it out"
    assert not (directory / "index.toml").exists()


def test_an_included_file_that_is_not_a_template_is_reported(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.write(
        "step-templates/good.json", (CORPUS / "step-templates" / "text-slugify.json").read_text()
    )
    repo.write("step-templates/broken.json", '{"Name": "x", "Properties": ')
    repo.commit()
    directory = registry_dir(
        tmp_path,
        f'[[collection]]\ngit = "{repo.path.as_uri()}"\ninclude = ["step-templates/*.json"]\n',
    )

    _result, warnings = run_build(directory)

    assert sorted(entries(directory)) == ["good"]
    assert warnings.startswith(
        f"warning: {repo.path.as_uri()} at branch main: step-templates/broken.json:1:"
    )
    assert "invalid JSON" in warnings


def test_a_collection_with_no_templates_is_reported(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_native(repo, "a", "alpha")
    repo.commit()
    directory = registry_dir(
        tmp_path, f'[[collection]]\ngit = "{repo.path.as_uri()}"\nsubdir = "templates"\n'
    )

    result, warnings = run_build(directory)

    assert warnings.splitlines() == [
        f"warning: {directory}/registry.toml:3: no templates found in {repo.path.as_uri()} "
        "under 'templates'"
    ]
    assert result.index.entries == ()
