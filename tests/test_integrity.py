"""Content hashes of template trees: what they cover, what they ignore, and the exact format."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from steptemplates import integrity
from steptemplates.errors import StepsError


def make_tree(root: Path, files: dict[str, str], *, executable: tuple[str, ...] = ()) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(0o755 if relpath in executable else 0o644)
    return root


FILES = {"steptemplate.toml": 'name = "x"\n', "run.sh": "echo hi\n", "lib/util.sh": "true\n"}


def test_the_serialisation_is_pinned(tmp_path: Path) -> None:
    make_tree(tmp_path, {"b.txt": "bee", "a/x": "ex"}, executable=("b.txt",))
    (tmp_path / "link").symlink_to("b.txt")

    expected = hashlib.sha256(
        b"steps-tree-v1\0file a/x\x002\x00exexec b.txt\x003\x00beelink link\x005\x00b.txt"
    ).hexdigest()
    assert integrity.tree_integrity(tmp_path) == f"sha256-{expected}"


def test_what_varies_between_checkouts_is_ignored(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", FILES, executable=("run.sh",))
    two = tmp_path / "two"
    # Other creation order, timestamps, write bits and an empty directory.
    for relpath in reversed(list(FILES)):
        make_tree(two, {relpath: FILES[relpath]}, executable=("run.sh",))
    (two / "empty").mkdir()
    os.utime(two / "run.sh", (0, 0))
    (two / "steptemplate.toml").chmod(0o444)
    (two / "run.sh").chmod(0o555)

    assert integrity.tree_integrity(one) == integrity.tree_integrity(two)


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "run.sh").write_text("echo bye\n"),
        lambda root: (root / "run.sh").chmod(0o755),
        lambda root: (root / "lib/util.sh").rename(root / "lib/other.sh"),
        lambda root: (root / "lib/new.sh").write_text(""),
        lambda root: (root / "lib/util.sh").unlink(),
        lambda root: ((root / "run.sh").unlink(), (root / "run.sh").symlink_to("lib/util.sh")),
    ],
)
def test_what_a_template_is_made_of_is_covered(tmp_path: Path, change: object) -> None:
    root = make_tree(tmp_path, FILES)
    before = integrity.tree_integrity(root)

    change(root)  # type: ignore[operator]

    assert integrity.tree_integrity(root) != before


def test_a_symlinked_directory_is_hashed_as_a_link(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", FILES)
    (root / "alias").symlink_to("lib")

    with_link = integrity.tree_integrity(root)
    (root / "alias").unlink()

    assert with_link != integrity.tree_integrity(root)


def test_special_files_are_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path, FILES)
    os.mkfifo(root / "pipe")

    with pytest.raises(StepsError, match="templates hold only regular files and symlinks"):
        integrity.tree_integrity(root)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("sha256-" + "0" * 64, True),
        ("sha256-" + "A" * 64, False),
        ("sha256-" + "0" * 63, False),
        ("sha512-" + "0" * 64, False),
        ("0" * 64, False),
    ],
)
def test_is_valid(text: str, valid: bool) -> None:
    assert integrity.is_valid(text) is valid
