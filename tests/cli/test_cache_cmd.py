"""The shared cache through the CLI: layout, `steps cache`, and verification on every use."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from steptemplates import integrity
from steptemplates.cache import mirror_key
from tests.support.gitserver import SmartHttpServer
from tests.support.projects import (
    OTHER,
    Catalog,
    Steps,
    assert_cache_consistent,
    cache_entries,
    cache_root,
)


def tamper(entry: Path) -> None:
    script = entry / "run.sh"
    script.chmod(0o755)
    script.write_text("echo tampered\n")


def test_cache_dir_honours_the_override(steps: Steps) -> None:
    shown = steps.ok("cache", "dir")

    assert shown.out == f"{cache_root()}\n"


def test_cache_layout(steps: Steps, catalog: Catalog) -> None:
    url = catalog.repo.http_url
    steps.use(
        a={"git": url, "version": "^1.0"},
        b={"git": url, "version": "^1.0", "subdir": OTHER},
        c={"git": url, "tag": "v1.0.0"},
        d={"git": catalog.repo.git_url, "tag": "v1.0.0"},
    )

    steps.ok("lock")

    mirrors = sorted(p.name for p in (cache_root() / "git").iterdir() if p.is_dir())
    assert mirrors == sorted([mirror_key(url), mirror_key(catalog.repo.git_url)])
    for mirror in mirrors:
        bare = cache_root() / "git" / mirror
        assert (bare / "HEAD").is_file() and (bare / "objects").is_dir()
        assert not (bare / ".git").exists()
    lock = steps.lock()
    assert set(cache_entries()) == {entry["integrity"] for entry in lock.values()}
    assert lock["c"]["integrity"] == lock["d"]["integrity"]
    for name, entry in cache_entries().items():
        assert integrity.tree_integrity(entry) == name
        assert not os.stat(entry / "run.sh").st_mode & stat.S_IWUSR
        assert os.stat(entry / "run.sh").st_mode & stat.S_IXUSR
    registry = (cache_root() / "projects.txt").read_text()
    assert registry == f"{steps.lock_path.resolve()}\n"
    assert_cache_consistent()


def test_cache_clean(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url})
    steps.ok("sync")

    cleaned = steps.ok("cache", "clean")

    assert not cache_root().exists()
    assert f"Removed {cache_root()}" in cleaned.err
    steps.ok("sync")
    assert steps.lock()["greet"]["integrity"] in cache_entries()


def test_cache_prune_keeps_what_registered_lockfiles_use(
    steps: Steps,
    catalog: Catalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other_project = tmp_path / "other"
    other_project.mkdir()
    other = Steps(other_project, capsys, monkeypatch)
    steps.use(
        kept={"git": catalog.repo.file_url, "tag": "v1.0.0"},
        dropped={"git": catalog.repo.file_url, "tag": "v1.1.0"},
    )
    steps.ok("sync")
    other.use(
        shared={"git": catalog.repo.file_url, "tag": "v1.2.0"},
        gone={"git": catalog.repo.git_url, "tag": "v2.0.0"},
    )
    other.ok("sync")
    leftover = cache_root() / "tmp" / "entry-leftover"
    leftover.mkdir(parents=True)
    os.utime(leftover, (0, 0))
    # One project drops a template; the other project is deleted altogether.
    steps.use(kept={"git": catalog.repo.file_url, "tag": "v1.0.0"})
    steps.ok("lock")
    used = {steps.lock()["kept"]["integrity"]}
    shutil.rmtree(other_project)

    pruned = steps.ok("cache", "prune")

    assert set(cache_entries()) == used
    assert [p.name for p in (cache_root() / "git").iterdir() if p.is_dir()] == [
        mirror_key(catalog.repo.file_url)
    ]
    assert not leftover.exists()
    assert "Removed 3 template entries, 0 downloaded archives, 1 git mirror and 1 leftover staging directory" in (
        pruned.err
    )
    assert (cache_root() / "projects.txt").read_text() == f"{steps.lock_path.resolve()}\n"
    steps.ok("sync", "--offline")


def test_prune_warns_about_an_unreadable_lockfile(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url})
    steps.ok("sync")
    steps.lock_path.write_text("version = [\n")

    pruned = steps.ok("cache", "prune")

    assert pruned.warnings == [
        f"ignoring {steps.lock_path.resolve()} while pruning: steps.lock:1: invalid TOML at "
        "the end of the file: invalid value"
    ]


# --- verification on every use ---------------------------------------------------------------


def test_a_modified_entry_is_restored_from_the_mirror(
    steps: Steps, catalog: Catalog, git_http: SmartHttpServer
) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("sync")
    entry = cache_entries()[steps.lock()["greet"]["integrity"]]
    tamper(entry)
    before = git_http.requests

    synced = steps.ok("sync")

    assert synced.warnings == [
        "template 'greet': the cached copy was modified on disk; "
        "restoring it from the git mirror in the cache"
    ]
    assert (entry / "run.sh").read_text() == "echo greet v1.2.7\n"
    assert git_http.requests == before
    assert_cache_consistent()


def test_a_modified_entry_without_its_mirror_is_fetched_again(
    steps: Steps, catalog: Catalog, git_http: SmartHttpServer
) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("sync")
    entry = cache_entries()[steps.lock()["greet"]["integrity"]]
    tamper(entry)
    shutil.rmtree(cache_root() / "git")
    before = git_http.requests

    synced = steps.ok("sync", "--frozen")

    assert synced.warnings == [
        "template 'greet': the cached copy was modified on disk; fetching it again from "
        f"{catalog.repo.http_url}"
    ]
    assert (entry / "run.sh").read_text() == "echo greet v1.2.7\n"
    assert git_http.requests > before


def test_a_modified_entry_is_restored_offline_from_the_mirror(
    steps: Steps, catalog: Catalog, git_http: SmartHttpServer
) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("sync")
    entry = cache_entries()[steps.lock()["greet"]["integrity"]]
    tamper(entry)
    before = git_http.requests

    synced = steps.ok("sync", "--offline")

    assert len(synced.warnings) == 1
    assert (entry / "run.sh").read_text() == "echo greet v1.2.7\n"
    assert git_http.requests == before


def test_a_modified_entry_is_refused_offline_without_the_commit(
    steps: Steps, catalog: Catalog
) -> None:
    steps.use(greet={"git": catalog.repo.http_url, "version": "^1.0"})
    steps.ok("sync")
    tamper(cache_entries()[steps.lock()["greet"]["integrity"]])
    shutil.rmtree(cache_root() / "git")

    failed = steps.fails("sync", "--offline")

    assert failed.error == (
        f"template 'greet': the cached copy of {catalog.repo.http_url}@v1.2.7 was modified on "
        "disk, the git mirror in the cache lacks its commit, and --offline forbids fetching it; "
        "run `steps sync` without --offline"
    )
    assert failed.warnings == []
    # The modified copy is gone rather than used.
    assert cache_entries() == {}


def test_an_added_file_counts_as_a_modification(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url, "version": "^1.0"})
    steps.ok("sync")
    entry = cache_entries()[steps.lock()["greet"]["integrity"]]
    entry.chmod(0o755)
    (entry / "extra.sh").write_text("echo extra\n")

    synced = steps.ok("sync")

    assert len(synced.warnings) == 1
    assert not (entry / "extra.sh").exists()


def test_show_verifies_the_entry_too(steps: Steps, catalog: Catalog) -> None:
    steps.use(greet={"git": catalog.repo.file_url, "version": "^1.0"})
    steps.ok("sync")
    entry = cache_entries()[steps.lock()["greet"]["integrity"]]
    tamper(entry)

    shown = steps.ok("show", "greet")

    assert len(shown.warnings) == 1
    assert (entry / "run.sh").read_text() == "echo greet v1.2.7\n"
    assert "greet: greet" in shown.out
    assert "versions: v0.9.0, v1.0.0, v1.1.0, v1.2.0, v1.2.3, v1.2.7, v1.3.0-beta.1" in shown.out
