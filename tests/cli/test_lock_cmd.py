"""`steps lock` and `steps sync` against real repositories over every transport."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from steptemplates import integrity
from tests.support.gitserver import SmartHttpServer
from tests.support.projects import (
    OTHER,
    Catalog,
    Steps,
    cache_entries,
    cache_root,
    release,
    write_template,
)

TRANSPORTS = ["file", "path", "git", "http"]


def expected_integrity(repo_path: Path, commit: str, subdir: str, scratch: Path) -> str:
    """The integrity of ``subdir`` at ``commit``, from a `git archive` export."""
    scratch.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(repo_path), "archive", commit, *([subdir] if subdir else [])],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive.stdout, check=True)
    return integrity.tree_integrity(scratch / subdir if subdir else scratch)


# --- sources and pins ----------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lock_and_sync_over_each_transport(
    steps: Steps, catalog: Catalog, transport: str, tmp_path: Path
) -> None:
    url = catalog.urls[transport]
    steps.use(
        annotated={"git": url, "version": "^1.0"},
        lightweight={"git": url, "tag": "v1.2.3"},
        other={"git": url, "version": "~1.1", "subdir": OTHER},
    )

    locked = steps.ok("lock")
    synced = steps.ok("sync")

    lock = steps.lock()
    assert lock["annotated"] == {
        "name": "annotated",
        "source": "git",
        "url": url,
        "requested": "^1.0",
        "version": "1.2.7",
        "tag": "v1.2.7",
        "commit": catalog.commits["v1.2.7"],
        "integrity": expected_integrity(
            catalog.repo.path, catalog.commits["v1.2.7"], "", tmp_path / "a"
        ),
    }
    assert lock["lightweight"]["commit"] == catalog.commits["v1.2.3"]
    assert (lock["lightweight"]["tag"], lock["lightweight"]["version"]) == ("v1.2.3", "1.2.3")
    assert lock["lightweight"]["requested"] == "tag=v1.2.3"
    assert lock["other"]["subdir"] == OTHER
    assert lock["other"]["commit"] == catalog.commits["v1.1.0"]
    assert lock["other"]["integrity"] == expected_integrity(
        catalog.repo.path, catalog.commits["v1.1.0"], OTHER, tmp_path / "o"
    )
    entries = cache_entries()
    assert (entries[lock["annotated"]["integrity"]] / "run.sh").read_text() == "echo greet v1.2.7\n"
    assert (entries[lock["other"]["integrity"]] / "run.sh").read_text() == "echo other v1.1.0\n"
    assert "Resolved 3 templates" in locked.err
    assert "Synced 3 templates" in synced.err


@pytest.mark.parametrize(
    ("keys", "version"),
    [
        ({"version": "^1.2"}, "1.2.7"),
        ({"version": "~1.2.3"}, "1.2.7"),
        ({"version": "~1.1"}, "1.1.0"),
        ({"version": ">=1.0,<2"}, "1.2.7"),
        ({"version": ">=1.0, <1.2.3"}, "1.2.0"),
        ({"version": "1.*"}, "1.2.7"),
        ({"version": "1.1.0"}, "1.1.0"),
        ({"version": "==1.2.3"}, "1.2.3"),
        ({"version": "^0.9"}, "0.9.0"),
        ({"version": "*"}, "2.0.0"),
        # Prereleases only when asked for or pinned.
        ({"version": "^1.2", "prerelease": True}, "1.3.0-beta.1"),
        ({"version": "*", "prerelease": True}, "2.1.0-rc.1"),
        ({"version": "2.1.0-rc.1"}, "2.1.0-rc.1"),
        ({"version": ">=2.1.0-rc.1"}, "2.1.0-rc.1"),
        ({"tag": "v1.3.0-beta.1"}, "1.3.0-beta.1"),
    ],
)
def test_version_ranges(
    steps: Steps, catalog: Catalog, keys: dict[str, str | bool], version: str
) -> None:
    steps.use(greet={"git": catalog.repo.file_url, **keys})

    steps.ok("lock")

    entry = steps.lock()["greet"]
    assert entry["version"] == version
    assert entry["tag"] == f"v{version}"
    assert entry["commit"] == catalog.commits[f"v{version}"]


def test_branch_is_locked_to_its_commit_until_upgraded(steps: Steps, new_catalog: Catalog) -> None:
    repo = new_catalog.repo
    steps.use(
        dev={"git": repo.http_url, "branch": "develop"},
        stable={"git": repo.http_url, "version": "^1.0"},
    )
    steps.ok("lock")
    first = steps.lock_path.read_bytes()
    entry = steps.lock()["dev"]
    assert entry["commit"] == new_catalog.develop
    assert entry["requested"] == "branch=develop"
    assert "tag" not in entry and "version" not in entry

    repo.checkout("develop")
    write_template(repo, name="greet", script="echo moved\n")
    moved = repo.commit("move develop")
    repo.checkout("main")

    steps.ok("lock")
    steps.ok("sync")
    assert steps.lock_path.read_bytes() == first
    steps.ok("lock", "--upgrade-template", "stable")
    assert steps.lock_path.read_bytes() == first
    upgraded = steps.ok("lock", "--upgrade")
    assert steps.lock()["dev"]["commit"] == moved
    assert f"updated dev {new_catalog.develop[:12]} -> {moved[:12]}" in upgraded.err
    assert steps.lock()["stable"] == {**steps.lock()["stable"], "version": "1.2.7"}
    steps.ok("sync")
    assert (cache_entries()[steps.lock()["dev"]["integrity"]] / "run.sh").read_text() == (
        "echo moved\n"
    )


@pytest.mark.parametrize("transport", ["file", "http"])
def test_rev_pins_full_and_abbreviated(steps: Steps, catalog: Catalog, transport: str) -> None:
    url = catalog.urls[transport]
    abbreviated = catalog.commits["v1.1.0"][:7]
    steps.use(
        full={"git": url, "rev": catalog.untagged},
        short={"git": url, "rev": abbreviated, "subdir": OTHER},
    )

    steps.ok("lock")
    steps.ok("sync")

    lock = steps.lock()
    assert lock["full"]["commit"] == catalog.untagged
    assert lock["full"]["requested"] == f"rev={catalog.untagged}"
    assert lock["short"]["commit"] == catalog.commits["v1.1.0"]
    assert lock["short"]["requested"] == f"rev={abbreviated}"
    assert "tag" not in lock["full"] and "tag" not in lock["short"]
    assert (cache_entries()[lock["full"]["integrity"]] / "run.sh").read_text() == "echo first\n"


def test_upgrade_moves_within_ranges_and_leaves_the_rest(
    steps: Steps, new_catalog: Catalog
) -> None:
    url = new_catalog.repo.git_url
    steps.use(
        caret={"git": url, "version": "^1.0"},
        tilde={"git": url, "version": "~1.2.0", "subdir": OTHER},
        pinned={"git": url, "tag": "v1.0.0"},
    )
    steps.ok("lock")
    before = steps.lock()
    assert before["caret"]["version"] == before["tilde"]["version"] == "1.2.7"
    release(new_catalog.repo, "v1.2.9", annotated=False)
    release(new_catalog.repo, "v1.4.0")

    steps.ok("lock")
    assert steps.lock() == before

    one = steps.ok("lock", "--upgrade-template", "caret")
    after_one = steps.lock()
    assert after_one["caret"]["version"] == "1.4.0"
    assert after_one["tilde"] == before["tilde"]
    assert after_one["pinned"] == before["pinned"]
    assert "updated caret 1.2.7 -> 1.4.0" in one.err

    everything = steps.ok("lock", "--upgrade")
    after_all = steps.lock()
    assert after_all["tilde"]["version"] == "1.2.9"
    assert after_all["caret"] == after_one["caret"]
    assert after_all["pinned"] == before["pinned"]
    assert "updated tilde 1.2.7 -> 1.2.9" in everything.err
    assert "pinned" not in everything.err


def test_upgrade_of_an_unknown_template(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url})
    steps.ok("lock")

    failed = steps.fails("lock", "--upgrade-template", "gret")

    assert failed.error == (
        "cannot upgrade gret: not a template, package or script module in steps.toml; "
        "see `steps list`"
    )


# --- the lockfile ----------------------------------------------------------------------------


def test_lock_file_contents(steps: Steps, catalog: Catalog, tmp_path: Path) -> None:
    url = catalog.repo.http_url
    steps.write(
        f'[templates.zeta]\ngit = "{url}"\nversion = "^1.0"\nsubdir = "{OTHER}"\n\n'
        f'[templates.alpha]\ngit = "{url}"\nbranch = "develop"\n\n'
        f'[templates.local]\npath = "local"\n'
    )
    write_template_dir(steps.directory / "local")

    steps.ok("lock")

    commit = catalog.commits["v1.2.7"]
    zeta = expected_integrity(catalog.repo.path, commit, OTHER, tmp_path / "z")
    alpha = expected_integrity(catalog.repo.path, catalog.develop, "", tmp_path / "a")
    assert steps.lock_path.read_text() == (
        "# This file is written by `steps lock`. Do not edit it by hand.\n"
        "version = 1\n"
        "\n[[template]]\n"
        'name = "alpha"\n'
        'source = "git"\n'
        f'url = "{url}"\n'
        'requested = "branch=develop"\n'
        f'commit = "{catalog.develop}"\n'
        f'integrity = "{alpha}"\n'
        "\n[[template]]\n"
        'name = "local"\n'
        'source = "path"\n'
        'path = "local"\n'
        'requested = "path"\n'
        "\n[[template]]\n"
        'name = "zeta"\n'
        'source = "git"\n'
        f'url = "{url}"\n'
        f'subdir = "{OTHER}"\n'
        'requested = "^1.0"\n'
        'version = "1.2.7"\n'
        'tag = "v1.2.7"\n'
        f'commit = "{commit}"\n'
        f'integrity = "{zeta}"\n'
    )


def write_template_dir(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "steptemplate.toml").write_text(
        'name = "local"\n[script]\nsyntax = "bash"\nbody = "echo local"\n'
    )


def test_relocking_is_byte_identical(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.http_url
    steps.use(
        b={"git": url, "version": "^1.0", "subdir": OTHER},
        a={"git": catalog.repo.git_url, "tag": "v0.9.0"},
        c={"git": url, "rev": catalog.untagged},
    )
    steps.ok("lock")
    first = steps.lock_path.read_bytes()

    steps.ok("lock")
    assert steps.lock_path.read_bytes() == first
    shutil.rmtree(cache_root())
    steps.ok("lock")
    assert steps.lock_path.read_bytes() == first
    steps.ok("lock", "--upgrade")
    assert steps.lock_path.read_bytes() == first
    shutil.rmtree(cache_root())
    steps.lock_path.unlink()
    steps.ok("lock")
    assert steps.lock_path.read_bytes() == first


def test_unchanged_lock_uses_no_network(
    steps: Steps, catalog: Catalog, git_http: SmartHttpServer
) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("lock")
    before = git_http.requests

    steps.ok("lock")
    steps.ok("sync")

    assert git_http.requests == before


def test_locked_passes_when_nothing_changed(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url, "version": "^1.0"})
    steps.ok("lock")

    steps.ok("lock", "--locked")
    steps.ok("sync", "--locked")


@pytest.mark.parametrize("command", ["lock", "sync"])
def test_locked_fails_when_the_manifest_changed(
    steps: Steps, catalog: Catalog, command: str
) -> None:
    url = catalog.repo.file_url
    steps.use(greet={"git": url, "version": "^1.0"})
    steps.ok("lock")
    steps.use(greet={"git": url, "version": "^1.0"}, other={"git": url, "subdir": OTHER})

    failed = steps.fails(command, "--locked")

    assert failed.error == (
        "steps.lock is out of date with steps.toml (other: not locked yet); "
        "run `steps lock` and commit the result"
    )


def test_locked_names_a_changed_requirement(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.file_url
    steps.use(greet={"git": url, "version": "^1.0"})
    steps.ok("lock")
    steps.use(greet={"git": url, "version": "^1.2"})

    failed = steps.fails("lock", "--locked")

    assert "(greet: requested changed from '^1.0' to '^1.2')" in failed.error


def test_locked_without_a_lockfile(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url})

    failed = steps.fails("lock", "--locked")

    assert "steps.lock is out of date with steps.toml (there is no steps.lock)" in failed.error
    assert not steps.lock_path.exists()


def test_sync_locks_a_changed_manifest_first(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.git_url
    steps.use(greet={"git": url, "version": "^1.0"})
    steps.ok("sync")
    steps.use(greet={"git": url, "version": "^1.0"}, other={"git": url, "subdir": OTHER})

    synced = steps.ok("sync")

    assert "added other 2.0.0" in synced.err
    assert set(steps.lock()) == {"greet", "other"}
    assert {e["integrity"] for e in steps.lock().values()} <= set(cache_entries())


# --- offline --------------------------------------------------------------------------------


def test_offline_works_from_the_cache_alone(
    steps: Steps, catalog: Catalog, git_http: SmartHttpServer
) -> None:
    url = catalog.repo.http_url
    steps.use(greet={"git": url, "version": "^1.0"})
    steps.ok("lock")
    before = git_http.requests

    # A new requirement the cached refs and mirror can answer: same commit, other directory.
    steps.use(
        greet={"git": url, "version": "^1.0"}, other={"git": url, "tag": "v1.2.7", "subdir": OTHER}
    )
    steps.ok("lock", "--offline")
    shutil.rmtree(cache_root() / "templates")
    steps.ok("sync", "--offline")
    steps.ok("show", "other", "--offline")

    assert git_http.requests == before
    assert steps.lock()["other"]["commit"] == catalog.commits["v1.2.7"]
    assert {e["integrity"] for e in steps.lock().values()} == set(cache_entries())


def test_offline_lock_needs_a_commit_the_cache_has(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.http_url
    steps.use(greet={"git": url, "version": "^1.0"})
    steps.ok("lock")
    steps.use(greet={"git": url, "version": "^1.0"}, old={"git": url, "tag": "v1.0.0"})

    failed = steps.fails("lock", "--offline")

    assert failed.error == (
        "template 'old': cannot fetch it: --offline forbids network access; "
        "run once without --offline to fill the cache"
    )


def test_offline_lock_of_a_remote_never_fetched(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.git_url
    steps.use(greet={"git": url})

    failed = steps.fails("lock", "--offline")

    assert failed.error == (
        f"template 'greet': {url} is not in the cache and --offline forbids fetching it; "
        "run the command once without --offline"
    )


def test_offline_sync_of_a_template_not_in_the_cache(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("lock")
    shutil.rmtree(cache_root())

    failed = steps.fails("sync", "--offline")

    assert failed.error == (
        f"template 'greet': the cached copy of {catalog.repo.http_url}@v1.2.7 is missing, the "
        "git mirror in the cache lacks its commit, and --offline forbids fetching it; "
        "run `steps sync` without --offline"
    )


def test_frozen_sync_uses_the_lock_as_it_is(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("lock")
    locked = steps.lock_path.read_bytes()
    shutil.rmtree(cache_root())
    steps.write("")  # the manifest no longer asks for anything

    steps.ok("sync", "--frozen")

    assert steps.lock_path.read_bytes() == locked
    assert steps.lock()["greet"]["integrity"] in cache_entries()


def test_annotated_and_lightweight_routes_to_one_tree_share_an_entry(
    steps: Steps, catalog: Catalog
) -> None:
    url = catalog.repo.file_url
    steps.use(
        by_tag={"git": url, "tag": "v1.2.7"},
        by_rev={"git": url, "rev": catalog.commits["v1.2.7"]},
    )

    steps.ok("sync")

    lock = steps.lock()
    assert lock["by_tag"]["integrity"] == lock["by_rev"]["integrity"]
    assert list(cache_entries()) == [lock["by_tag"]["integrity"]]
