"""steps.lock: the canonical writer, the strict reader, and what it takes for an entry to fit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from steptemplates import lockfile
from steptemplates.errors import StepsError
from steptemplates.lockfile import LockedTemplate, Lockfile

COMMIT = "a" * 40
INTEGRITY = "sha256-" + "b" * 64


def git_entry(name: str, **fields: str | None) -> LockedTemplate:
    values = {
        "requested": "^1.0",
        "url": "https://example.com/t.git",
        "version": "1.2.0",
        "tag": "v1.2.0",
        "commit": COMMIT,
        "integrity": INTEGRITY,
        **fields,
    }
    return LockedTemplate(name=name, source="git", **values)  # type: ignore[arg-type]


def by_name(entries: list[LockedTemplate]) -> lockfile.Lockfile:
    return lockfile.Lockfile({entry.name: entry for entry in entries})


def test_render_is_sorted_and_fixed(tmp_path: Path) -> None:
    lock = by_name(
        [
            git_entry("zeta", subdir="x/y"),
            LockedTemplate(name="alpha", source="path", requested="path", path="../a"),
        ]
    )

    assert lock.render() == (
        "# This file is written by `steps lock`. Do not edit it by hand.\n"
        "version = 1\n"
        '\n[[template]]\nname = "alpha"\nsource = "path"\npath = "../a"\nrequested = "path"\n'
        '\n[[template]]\nname = "zeta"\nsource = "git"\nurl = "https://example.com/t.git"\n'
        'subdir = "x/y"\nrequested = "^1.0"\nversion = "1.2.0"\ntag = "v1.2.0"\n'
        f'commit = "{COMMIT}"\nintegrity = "{INTEGRITY}"\n'
    )


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "steps.lock"
    odd = 'a "quoted" \\ back\tslash \x7f é 💥'
    lock = by_name(
        [git_entry("a", url=f"file:///srv/{odd}"), git_entry("b", tag=None, version=None)]
    )

    assert lockfile.write(path, lock) is True

    assert lockfile.load(path) == lock
    assert tomllib.loads(path.read_text())["template"][0]["url"] == f"file:///srv/{odd}"


def test_write_leaves_an_unchanged_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "steps.lock"
    lock = by_name([git_entry("a")])
    lockfile.write(path, lock)
    path.chmod(0o444)  # a rewrite would have to replace it

    assert lockfile.write(path, lock) is False


def test_no_lockfile_yet(tmp_path: Path) -> None:
    assert lockfile.load(tmp_path / "steps.lock") is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "steps.lock"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "steps.lock: unknown lockfile format None"),
        ('version = "1"\n', "steps.lock:1: unknown lockfile format '1'"),
        ("version = 1\n[[template]]\nsource = 'git'\n", "steps.lock:2: entry without a name"),
        (
            "version = 1\n[[template]]\nname = 'a'\nsource = 'svn'\n",
            "steps.lock:4: template 'a': unknown source 'svn'",
        ),
        (
            "version = 1\n[[template]]\nname = 'a'\nsource = 'git'\n",
            "steps.lock:2: template 'a': a git entry needs 'url'",
        ),
        (
            "version = 1\n[[template]]\nname = 'a'\nsource = 'git'\nurl = 'u'\n",
            "steps.lock:2: template 'a': a git entry needs 'requested'",
        ),
        (
            "version = 1\n[[template]]\nname = 'a'\nsource = 'path'\n",
            "steps.lock:2: template 'a': a path entry needs 'path'",
        ),
        (
            "version = 1\n[[template]]\nname = 'a'\nsource = 'path'\npath = 1\n",
            "steps.lock:5: 'template[0].path' must be a string",
        ),
    ],
)
def test_entries_the_writer_cannot_produce(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(StepsError) as raised:
        lockfile.load(write(tmp_path, body))

    assert str(raised.value).startswith(expected)
    assert "\n" not in str(raised.value)


def test_stale_reason() -> None:
    entry = git_entry("a")

    assert lockfile.stale_reason(None, {}) == "not locked yet"
    assert lockfile.stale_reason(entry, {"requested": "^1.0", "subdir": ""}) is None
    assert lockfile.stale_reason(entry, {"requested": "^2"}) == (
        "requested changed from '^1.0' to '^2'"
    )


def test_describe() -> None:
    assert git_entry("a", subdir="t/x").describe() == "https://example.com/t.git//t/x@v1.2.0"
    assert git_entry("a", tag="").describe() == f"https://example.com/t.git@{COMMIT[:12]}"
    assert LockedTemplate("p", "path", "path", path="../p").describe() == "../p"
    assert Lockfile({}).render().endswith("version = 1\n")
