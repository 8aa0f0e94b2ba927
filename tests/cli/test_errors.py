"""Bad input of every kind: exit 2, one `error:` line naming what is wrong, nothing written."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from steptemplates import integrity
from tests.support.gitserver import ServedRepo, SmartHttpServer, free_port
from tests.support.projects import OTHER, Catalog, Steps, cache_root, write_template

# --- steps.toml ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["lock"], ["sync"], ["list"], ["show", "greet"]])
def test_malformed_manifest(steps: Steps, command: list[str]) -> None:
    steps.write('[templates.greet]\ngit = "file:///x"\nversion = "^1.0\n')

    failed = steps.fails(*command)

    assert failed.error == "steps.toml:3:16: invalid TOML: illegal character '\\n'"


def test_malformed_manifest_when_adding(steps: Steps, catalog: Catalog) -> None:
    steps.write("[templates\n")

    failed = steps.fails("add", catalog.repo.file_url)

    assert failed.error.startswith("steps.toml:1:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[templates.greet]\ngit = "file:///x"\nversoin = "^1.0"\n',
            "steps.toml:3: unknown key 'versoin' in [templates.greet]; did you mean 'version'?",
        ),
        (
            '[templtes.greet]\ngit = "file:///x"\n',
            "steps.toml:1: unknown key 'templtes'; did you mean 'templates'?",
        ),
        (
            '[project]\nname = "x"\ndescription = "y"\n',
            "steps.toml:3: unknown key 'description' in [project]; expected one of: cooldown, environments, name, server-uri, space, tenants",
        ),
        (
            '[templates.greet]\npath = "x"\nsubdir = "y"\n',
            "steps.toml:3: unknown key 'subdir' in [templates.greet]; expected one of: path, template",
        ),
    ],
)
def test_unknown_key_in_the_manifest(steps: Steps, text: str, expected: str) -> None:
    steps.write(text)

    assert steps.fails("lock").error == expected


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            'version = "^^1"',
            "steps.toml:3: template 'greet': invalid version range '^^1': '^1' is not a version; "
            "use 1.2.3 (exact), ^1.2 or ~1.2.3",
        ),
        (
            'version = ">=1,"',
            "steps.toml:3: template 'greet': invalid version range '>=1,': a comparator between "
            "commas is empty; use",
        ),
        ('tag = "v1"\nbranch = "main"', "steps.toml:4: template 'greet' gives both 'tag' and"),
        ('rev = "main"', "steps.toml:3: template 'greet': rev must be a commit SHA"),
        ('subdir = "../up"', "steps.toml:3: subdir '../up' must be a relative path inside"),
        ("prerelease = 1", "steps.toml:3: 'templates.greet.prerelease' must be true or false"),
    ],
)
def test_invalid_requirement(steps: Steps, keys: str, expected: str) -> None:
    steps.write(f'[templates.greet]\ngit = "file:///x"\n{keys}\n')

    assert steps.fails("lock").error.startswith(expected)


def test_no_project(steps: Steps) -> None:
    failed = steps.fails("lock")

    assert failed.error == (
        f"no steps.toml in {steps.directory} or any parent directory; "
        "run `steps init` to create one"
    )


# --- resolving ------------------------------------------------------------------------------


def test_no_matching_version_lists_the_nearest(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.http_url
    steps.use(greet={"git": url, "version": "^1.5"})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'greet' ({url}): no version matches '^1.5'; nearest available: "
        "1.2.0, 1.2.3, 1.2.7, 1.3.0-beta.1, 2.0.0; change 'version' in steps.toml to a range one of them is in"
    )


def test_only_prereleases_match(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.file_url
    steps.use(greet={"git": url, "version": ">2.0.0"})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'greet' ({url}): only prereleases match '>2.0.0': 2.1.0-rc.1 "
        "(allow them with prerelease = true)"
    )


def test_no_versions_at_all(steps: Steps, remote_repo: Callable[[str], ServedRepo]) -> None:
    repo = remote_repo("no-versions")
    write_template(repo, name="greet", script="echo\n")
    repo.commit()
    steps.use(greet={"git": repo.file_url, "version": "^1"})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'greet' ({repo.file_url}): no versions are available; "
        "tag a release, or pin a 'branch' or 'rev' in steps.toml instead"
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"tag": "v1.2.8"},
            "tag 'v1.2.8' does not exist in {url}; did you mean v1.2.7, v1.2.3, v1.2.0?",
        ),
        ({"branch": "devlop"}, "branch 'devlop' does not exist in {url}; did you mean develop?"),
        ({"rev": "abcdef0"}, "no commit starting with abcdef0 in {url}; check 'rev' in steps.toml"),
        ({"rev": "0123456789" * 4}, "git repository {url} did not send 012345678901; "),
    ],
)
def test_missing_tag_branch_or_commit(
    steps: Steps, catalog: Catalog, keys: dict[str, str], expected: str
) -> None:
    url = catalog.repo.http_url
    steps.use(greet={"git": url, **keys})

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'greet': " + expected.format(url=url))


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_unreachable_repository(steps: Steps, scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}/templates.git"
    steps.use(greet={"git": url})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'greet': cannot reach git repository {url}: connection refused "
        "(is the URL right and the server up?); check its 'git' URL in steps.toml"
    )


@pytest.mark.parametrize(
    ("transport", "problem"),
    [
        ("path", "{url} is not a git repository"),
        ("file", "{url} is not a git repository"),
        ("git", "git repository {url} was not found (access denied or repository not exported"),
        ("http", "git repository {url} was not found (404)"),
    ],
)
def test_missing_repository(steps: Steps, catalog: Catalog, transport: str, problem: str) -> None:
    url = catalog.urls[transport].replace("catalog", "no-such-catalog")
    steps.use(greet={"git": url})

    failed = steps.fails("lock")

    assert failed.error.startswith("template 'greet': " + problem.format(url=url))
    assert failed.error.endswith("; check its 'git' URL in steps.toml")


@pytest.mark.parametrize(
    ("subdir", "problem"),
    [("templates/missing", "does not exist"), ("templates/other/run.sh", "is not a directory")],
)
def test_missing_subdirectory(steps: Steps, catalog: Catalog, subdir: str, problem: str) -> None:
    url = catalog.repo.git_url
    steps.use(greet={"git": url, "subdir": subdir, "tag": "v1.0.0"})

    failed = steps.fails("lock")

    assert failed.error == (
        f"template 'greet': '{subdir}' {problem} in {url} at v1.0.0; check 'subdir' in steps.toml"
    )
    assert not (cache_root() / "templates").exists()


# --- steptemplate.toml in the repository ------------------------------------------------------


@pytest.fixture
def broken(remote_repo: Callable[[str], ServedRepo]) -> ServedRepo:
    """v1.0.0 has a malformed template in bad/ and one with an unknown key in typo/."""
    repo = remote_repo("broken")
    repo.write("bad/steptemplate.toml", 'name = "bad"\n\n[script\nsyntax = "bash"\n')
    repo.write(
        "typo/steptemplate.toml",
        'name = "typo"\ndescripton = "x"\n[script]\nsyntax = "bash"\nbody = "echo"\n',
    )
    repo.commit()
    repo.tag("v1.0.0")
    return repo


@pytest.mark.parametrize(
    ("subdir", "expected"),
    [
        ("bad", "steptemplate.toml:3:8: invalid TOML: "),
        ("typo", "steptemplate.toml:2: unknown key 'descripton'; did you mean 'description'?"),
    ],
)
def test_bad_template_in_the_repository(
    steps: Steps, broken: ServedRepo, subdir: str, expected: str
) -> None:
    steps.use(greet={"git": broken.http_url, "subdir": subdir})

    failed = steps.fails("lock")

    assert failed.error.startswith(
        f"template 'greet' ({broken.http_url}//{subdir} at v1.0.0): {expected}"
    )
    # A template that does not load never becomes a cache entry.
    assert not (cache_root() / "templates").exists()


def test_frozen_sync_of_a_locked_bad_template(steps: Steps, broken: ServedRepo) -> None:
    commit = broken.rev_parse("v1.0.0")
    # As another machine would have locked it, had the template been valid there.
    steps.lock_path.write_text(
        "version = 1\n\n[[template]]\n"
        'name = "greet"\nsource = "git"\n'
        f'url = "{broken.git_url}"\nsubdir = "typo"\nrequested = "*"\n'
        f'version = "1.0.0"\ntag = "v1.0.0"\ncommit = "{commit}"\n'
        f'integrity = "{integrity.tree_integrity(broken.path / "typo")}"\n'
    )
    steps.write("")

    failed = steps.fails("sync", "--frozen")

    assert failed.error.startswith(
        f"template 'greet' ({broken.git_url}//typo at v1.0.0): steptemplate.toml:2: "
        "unknown key 'descripton'"
    )


# --- steps.lock edited by hand --------------------------------------------------------------


@pytest.fixture
def locked(steps: Steps, catalog: Catalog) -> str:
    """A project with two templates, locked and synced; returns steps.lock's text."""
    url = catalog.repo.file_url
    steps.use(greet={"git": url, "version": "^1.0"}, pinned={"git": url, "rev": catalog.untagged})
    steps.ok("sync")
    return steps.lock_path.read_text()


@pytest.mark.parametrize("command", [["sync"], ["sync", "--frozen"], ["lock"]])
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace('version = "1.2.7"', 'version = "1.2.7'),
            "steps.lock:9:17: invalid TOML",
        ),
        (
            lambda t: t.replace('tag = "v1.2.7"', 'tag = "v1.2.7"\nsha = "1"'),
            "steps.lock:11: template 'greet': unknown key 'sha'; restore steps.lock from version "
            "control, or delete it and run `steps lock`",
        ),
        (
            lambda t: t.replace("version = 1", "version = 1\nlocked = true"),
            "steps.lock:3: unknown key 'locked'; restore steps.lock from version control, or "
            "delete it and run `steps lock`",
        ),
        (
            lambda t: re.sub(r'commit = "([0-9a-f]{40})"', r'commit = "\1z"', t, count=1),
            "steps.lock:11: template 'greet': 'commit' must be a full 40-character SHA; "
            "restore steps.lock from version control, or delete it and run `steps lock`",
        ),
        (
            lambda t: t.replace("sha256-", "sha512-", 1),
            "steps.lock:12: template 'greet': 'integrity' must be sha256- followed by 64 hex",
        ),
        (
            lambda t: t.replace('version = "1.2.7"', 'version = "1.2.6"'),
            "steps.lock:9: template 'greet': version 1.2.6 does not match tag v1.2.7",
        ),
        (
            lambda t: t.replace("version = 1", "version = 2"),
            "steps.lock:2: steps.lock uses format 2, newer than this steps understands; "
            "upgrade steps",
        ),
        (
            lambda t: t.replace('name = "pinned"', 'name = "greet"'),
            "steps.lock:15: template 'greet' is locked twice",
        ),
    ],
)
def test_malformed_lockfile(
    steps: Steps,
    locked: str,
    edit: Callable[[str], str],
    expected: str,
    command: list[str],
) -> None:
    steps.lock_path.write_text(edit(locked))

    failed = steps.fails(*command)

    assert failed.error.startswith(expected)


@pytest.mark.parametrize("command", [["sync"], ["sync", "--frozen"]])
def test_lockfile_with_a_changed_integrity(steps: Steps, locked: str, command: list[str]) -> None:
    recorded = re.findall(r'integrity = "(sha256-[0-9a-f]{64})"', locked)[0]
    forged = "sha256-" + "0" * 64
    steps.lock_path.write_text(locked.replace(recorded, forged))

    failed = steps.fails(*command)

    assert failed.error.startswith(
        "template 'greet': the files at "
        f"{steps.lock()['greet']['url']}@v1.2.7 hash to {recorded}, "
        f"but steps.lock records {forged}; "
    )
    assert "run `steps lock --upgrade-template greet`" in failed.error


@pytest.mark.parametrize("command", [["sync"], ["sync", "--frozen"]])
def test_lockfile_with_a_commit_the_remote_lacks(
    steps: Steps, locked: str, catalog: Catalog, command: list[str]
) -> None:
    bogus = "0123456789" * 4
    steps.lock_path.write_text(
        locked.replace(f'commit = "{catalog.untagged}"', f'commit = "{bogus}"')
    )

    failed = steps.fails(*command)

    assert failed.error.startswith(
        f"template 'pinned': git repository {catalog.repo.file_url} did not send 012345678901; "
    )


def test_lockfile_with_a_tagged_commit_changed(steps: Steps, locked: str, catalog: Catalog) -> None:
    bogus = "0123456789" * 4
    steps.lock_path.write_text(locked.replace(catalog.commits["v1.2.7"], bogus))

    failed = steps.fails("sync", "--frozen")

    assert failed.error == (
        f"template 'greet': tag v1.2.7 moved upstream: steps.lock has {bogus}, "
        f"{catalog.repo.file_url} now has {catalog.commits['v1.2.7']}; "
        "if the change is expected, run `steps lock --upgrade-template greet`"
    )


# --- upstream changes -------------------------------------------------------------------------


def test_tag_moved_upstream(steps: Steps, new_catalog: Catalog) -> None:
    repo = new_catalog.repo
    steps.use(greet={"git": repo.git_url, "version": "^1.0"})
    steps.ok("sync")
    old = new_catalog.commits["v1.2.7"]
    write_template(repo, name="greet", script="echo retagged\n")
    new = repo.commit("retag")
    repo.move_tag("v1.2.7", message="moved")
    steps.ok("sync", "--frozen")  # the cache still has the locked commit: nothing to fetch
    shutil.rmtree(cache_root())

    failed = steps.fails("sync", "--frozen")

    assert failed.error == (
        f"template 'greet': tag v1.2.7 moved upstream: steps.lock has {old}, "
        f"{repo.git_url} now has {new}; "
        "if the change is expected, run `steps lock --upgrade-template greet`"
    )
    steps.ok("lock", "--upgrade-template", "greet")
    assert steps.lock()["greet"]["commit"] == new
    steps.ok("sync", "--frozen")


def test_tag_deleted_upstream(steps: Steps, new_catalog: Catalog) -> None:
    repo = new_catalog.repo
    steps.use(greet={"git": repo.http_url, "tag": "v1.0.0"})
    steps.ok("sync")
    repo.git("tag", "--delete", "v1.0.0")
    shutil.rmtree(cache_root())

    failed = steps.fails("sync")

    assert failed.error == (
        f"template 'greet': tag v1.0.0 no longer exists in {repo.http_url} "
        f"(steps.lock pins commit {new_catalog.commits['v1.0.0']}); "
        "pick another version and run `steps lock`"
    )


def test_subdirectory_of_the_catalog(steps: Steps, catalog: Catalog) -> None:
    steps.use(other={"git": catalog.repo.file_url, "subdir": f"./{OTHER}/"})

    steps.ok("lock")

    assert steps.lock()["other"]["subdir"] == OTHER


def test_sync_from_a_server_that_went_away(
    steps: Steps, catalog: Catalog, git_served_root: Path
) -> None:
    with SmartHttpServer(git_served_root) as server:
        url = server.url(catalog.repo.name)
        steps.use(greet={"git": url, "version": "^1.0"})
        steps.ok("lock")
    shutil.rmtree(cache_root())

    failed = steps.fails("sync")

    assert failed.error == (
        f"template 'greet': cannot reach git repository {url}: connection refused "
        "(is the URL right and the server up?); check its URL in steps.toml and steps.lock"
    )
