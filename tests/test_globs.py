from pathlib import Path

import pytest

from steptemplates.globs import glob_files, glob_many, matches, split_lines


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("a.json", "*.json", True),
        ("x/a.json", "*.json", False),
        ("x/a.json", "**/*.json", True),
        ("a.json", "**/*.json", True),
        ("x/y/z/a.json", "x/**/a.json", True),
        ("Web.Config", "*.config", True),  # case-insensitive, as Octopus on Windows
        ("web.json", "{appsettings,web}.json", True),
        ("other.json", "{appsettings,web}.json", False),
        ("b1", "b[0-9]", True),
        ("bx", "b[!0-9]", True),
        ("b1", "b[!0-9]", False),
        ("ab", "a?", True),
        ("a/b", "a?b", False),  # ? never matches a separator
        ("logs/2026/app.log", "logs/**", True),
    ],
)
def test_matches(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, pattern) is expected


def make(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)


def test_glob_files_returns_files_only_sorted(tmp_path: Path) -> None:
    make(tmp_path, "b.json", "a.json", "sub/c.json", "sub/d.txt")
    (tmp_path / "dir.json").mkdir()

    assert glob_files(tmp_path, "*.json") == [tmp_path / "a.json", tmp_path / "b.json"]
    assert glob_files(tmp_path, "**/*.json") == [
        tmp_path / "a.json", tmp_path / "b.json", tmp_path / "sub/c.json"
    ]  # fmt: skip
    assert glob_files(tmp_path, "sub/d.txt") == [tmp_path / "sub/d.txt"]
    assert glob_files(tmp_path, "sub\\*.txt") == [tmp_path / "sub/d.txt"]
    assert glob_files(tmp_path, "missing/*.json") == []
    assert glob_files(tmp_path, "  ") == []


def test_absolute_patterns_and_additional_roots(tmp_path: Path) -> None:
    make(tmp_path, "one/app.config", "two/app.config")

    assert glob_files(tmp_path / "one", f"{tmp_path}/two/*.config") == [
        tmp_path / "two/app.config"
    ]
    both = glob_many([tmp_path / "one", tmp_path / "two", tmp_path / "one"], "*.config")
    assert both == [tmp_path / "one/app.config", tmp_path / "two/app.config"]


def test_symlinked_directories_are_not_walked(tmp_path: Path) -> None:
    make(tmp_path, "outside/secret.json", "root/a.json")
    (tmp_path / "root/link").symlink_to(tmp_path / "outside")

    assert glob_files(tmp_path / "root", "**/*.json") == [tmp_path / "root/a.json"]


def test_split_lines_drops_blanks() -> None:
    assert split_lines("a.json\n\n  b/*.yaml  \r\n") == ["a.json", "b/*.yaml"]
