"""The cache on its own: where it lives, atomic entries, verification, registry and pruning."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from steptemplates import integrity
from steptemplates.cache import Cache, EntryStatus, default_root, mirror_key


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def fill_with(files: dict[str, str]):  # type: ignore[no-untyped-def]
    def fill(directory: Path) -> None:
        for relpath, content in files.items():
            (directory / relpath).parent.mkdir(parents=True, exist_ok=True)
            (directory / relpath).write_text(content)

    return fill


def test_the_override_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STEPS_CACHE_DIR", str(tmp_path / "over" / ".." / "cache"))

    assert default_root() == tmp_path / "cache"


def test_then_the_platform_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STEPS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert default_root() == tmp_path / "xdg" / "steps"


def test_store_publishes_a_read_only_entry_under_its_integrity(cache: Cache) -> None:
    name, path = cache.store(fill_with({"a.txt": "a", "sub/b.txt": "b"}))

    assert path == cache.entries_dir / name
    assert integrity.tree_integrity(path) == name
    assert (path / "sub/b.txt").read_text() == "b"
    assert not stat.S_IMODE((path / "a.txt").stat().st_mode) & 0o222
    assert cache.check(name) is EntryStatus.OK
    assert list(cache.staging_dir.iterdir()) == []


def test_storing_the_same_content_again_reuses_the_entry(cache: Cache) -> None:
    first = cache.store(fill_with({"a.txt": "a"}))

    assert cache.store(fill_with({"a.txt": "a"})) == first
    assert len(list(cache.entries_dir.iterdir())) == 1


@pytest.mark.parametrize("error", [RuntimeError("broken"), KeyboardInterrupt()])
def test_a_failed_fill_leaves_nothing(cache: Cache, error: BaseException) -> None:
    def fill(directory: Path) -> None:
        (directory / "half.txt").write_text("half")
        raise error

    with pytest.raises(type(error)):
        cache.store(fill)

    assert not cache.entries_dir.exists()
    assert list(cache.staging_dir.iterdir()) == []


def test_check_finds_missing_and_modified_entries(cache: Cache) -> None:
    name, path = cache.store(fill_with({"a.txt": "a"}))
    (path / "a.txt").chmod(0o644)
    (path / "a.txt").write_text("changed")

    assert cache.check("sha256-" + "0" * 64) is EntryStatus.MISSING
    assert cache.check(name) is EntryStatus.MODIFIED
    # A modified entry is removed at once, so nothing can use it afterwards.
    assert not path.exists()
    assert cache.check(name) is EntryStatus.MISSING


def test_entries_appear_whole_or_not_at_all(cache: Cache) -> None:
    files = {f"dir{i}/file{j}.txt": f"{i}-{j}" * 200 for i in range(10) for j in range(20)}
    stop = threading.Event()
    seen: dict[str, str] = {}

    def watch() -> None:
        while not stop.is_set():
            for path in cache.entries_dir.glob("sha256-*"):
                seen.setdefault(path.name, integrity.tree_integrity(path))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        stored = [cache.store(fill_with({**files, "round": str(n)}))[0] for n in range(5)]
    finally:
        stop.set()
        watcher.join()

    assert seen
    assert all(name == found for name, found in seen.items())
    assert set(seen) <= set(stored)


def test_the_registry_remembers_each_lockfile_once(cache: Cache, tmp_path: Path) -> None:
    locks = [tmp_path / f"p{i}" / "steps.lock" for i in range(8)]
    for lock in locks:
        lock.parent.mkdir()
        lock.write_text("")
    threads = [threading.Thread(target=cache.register, args=(lock,)) for lock in locks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cache.register(locks[0])

    assert sorted(cache.registered_lockfiles()) == sorted(locks)
    locks[3].unlink()
    assert sorted(cache.forget_missing_lockfiles()) == sorted(locks[:3] + locks[4:])
    assert len(cache.registered_lockfiles()) == 7


def test_prune(cache: Cache) -> None:
    kept, kept_path = cache.store(fill_with({"a": "kept"}))
    dropped, _ = cache.store(fill_with({"a": "dropped"}))
    for url in ("https://example.com/kept.git", "https://example.com/dropped.git"):
        with cache.locked_mirror(url) as mirror:
            (mirror / "HEAD").parent.mkdir(parents=True)
            (mirror / "HEAD").write_text("ref: refs/heads/main\n")
    fresh = cache.staging_dir / "entry-fresh"
    stale = cache.staging_dir / "entry-stale"
    trash = cache.staging_dir / "trash-old"
    for directory in (fresh, stale, trash):
        directory.mkdir()
    os.utime(stale, (time.time() - 7200,) * 2)

    report = cache.prune({kept}, {"https://example.com/kept.git"})

    assert (report.entries, report.mirrors, report.staging) == (1, 1, 2)
    assert [p.name for p in cache.entries_dir.iterdir()] == [kept]
    assert kept_path.is_dir() and (kept_path / "a").read_text() == "kept"
    assert [p.name for p in cache.mirrors_dir.iterdir() if p.is_dir()] == [
        mirror_key("https://example.com/kept.git")
    ]
    assert sorted(p.name for p in cache.staging_dir.iterdir()) == ["entry-fresh"]
    assert dropped not in {p.name for p in cache.entries_dir.iterdir()}


def test_clean_removes_everything(cache: Cache) -> None:
    cache.store(fill_with({"a": "a"}))
    with cache.locked_mirror("https://example.com/x.git") as mirror:
        mirror.mkdir(parents=True)

    cache.clean()

    assert not cache.root.exists()


def test_mirror_keys_are_readable_and_distinct() -> None:
    urls = [
        "https://example.com/org/templates.git",
        "http://example.com/org/templates.git",
        "https://example.com:8443/org/templates.git",
        "https://example.com/other/templates.git",
        "git://example.com/org/templates.git",
        "file:///srv/git/templates.git",
    ]

    keys = [mirror_key(url) for url in urls]

    assert len(set(keys)) == len(urls)
    assert keys[0].startswith("example.com-templates.git-")
    assert keys[5].startswith("local-templates.git-")
    assert all(key.replace("-", "").replace(".", "").replace("_", "").isalnum() for key in keys)
