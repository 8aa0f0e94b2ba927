from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.execution.config.custom_directory import check_folder, copy_package, purge


def test_folder_must_be_absolute_and_apart_from_the_package(tmp_path: Path) -> None:
    extracted = tmp_path / "apps" / "web" / "1.0.0"
    with pytest.raises(StepsError, match="is not an absolute path"):
        check_folder("relative/site", extracted)
    with pytest.raises(StepsError, match="contains the extracted package"):
        check_folder(str(tmp_path / "apps"), extracted)
    with pytest.raises(StepsError, match="is inside the extracted package"):
        check_folder(str(extracted / "site"), extracted)
    assert check_folder(str(tmp_path / "site" / ".." / "site2"), extracted) == tmp_path / "site2"


def test_purge_keeps_exclusions_and_never_follows_links(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    for name in ("old.txt", "bin/app.dll", "logs/2026/app.log", "logs/today.log"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    (folder / "link").symlink_to(outside)
    (folder / "file-link").symlink_to(outside / "precious.txt")

    removed = purge(folder, ["logs/**", ""])

    remaining = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    assert remaining == ["logs", "logs/2026", "logs/2026/app.log", "logs/today.log"]
    assert removed == 4  # old.txt, bin/app.dll and the two links themselves
    assert (outside / "precious.txt").read_text() == "keep me"


def test_purge_refuses_the_root_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(StepsError, match="refusing to purge /"):
        purge(Path("/"), [])
    with pytest.raises(StepsError, match="refusing to purge"):
        purge(tmp_path / "home", [])
    with pytest.raises(StepsError, match="refusing to purge"):
        purge(tmp_path, [])  # a parent of home


def test_purge_of_a_missing_folder_is_nothing_and_a_file_is_refused(tmp_path: Path) -> None:
    assert purge(tmp_path / "new", []) == 0
    (tmp_path / "file").write_text("x")
    with pytest.raises(StepsError, match="is not a directory"):
        purge(tmp_path / "file", [])


def test_copy_merges_and_overwrites(tmp_path: Path) -> None:
    source = tmp_path / "pkg"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("new a")
    (source / "sub" / "b.txt").write_text("b")
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "a.txt").write_text("old a")
    (folder / "kept.txt").write_text("kept")

    assert copy_package(source, folder) == 2
    assert (folder / "a.txt").read_text() == "new a"
    assert (folder / "sub" / "b.txt").read_text() == "b"
    assert (folder / "kept.txt").read_text() == "kept"
