"""Hand-written TOML: syntax errors and schema errors located by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates import tomlfile
from steptemplates.errors import StepsError

TEXT = """\
# comment = "not a key"
top = 1

[a]
x = "has = inside"
"quoted.key" = 2
dotted.inner = 3

[[list]]
name = "first"

[[list]]
name = "second"
[list.sub]
deep = 4

[parent.child]
y = 5
"""


@pytest.mark.parametrize(
    ("key_path", "line"),
    [
        (("top",), 2),
        (("a",), 4),
        (("a", "x"), 5),
        (("a", "quoted.key"), 6),
        (("a", "dotted", "inner"), 7),
        (("list", 0), 9),
        (("list", 0, "name"), 10),
        (("list", 1, "name"), 13),
        (("list", 1, "sub", "deep"), 15),
        (("a", "missing"), 4),  # the closest enclosing line
        (("parent",), 17),  # only named by its subtable's header
        (("parent", "child", "y"), 18),
        (("nowhere",), None),
    ],
)
def test_locate_key(key_path: tomlfile.KeyPath, line: int | None) -> None:
    assert tomlfile.locate_key(TEXT, key_path) == line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = 1\nb = \n", "f.toml:2:5: invalid TOML: invalid value"),
        ("a = 1\na = 2\n", "f.toml:2:6: invalid TOML: cannot overwrite a value"),
        ("a = [\n", "f.toml:1: invalid TOML at the end of the file: "),
    ],
)
def test_syntax_errors(text: str, expected: str) -> None:
    with pytest.raises(StepsError) as raised:
        tomlfile.parse(text, path=Path("f.toml"), display="f.toml")

    assert str(raised.value).startswith(expected)


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "latin1.toml").write_bytes(b'a = "\xe9"\n')

    with pytest.raises(StepsError, match=r"^missing\.toml: file not found$"):
        tomlfile.load(tmp_path / "missing.toml", display="missing.toml")
    with pytest.raises(StepsError, match=r"^latin1\.toml: not valid UTF-8 "):
        tomlfile.load(tmp_path / "latin1.toml", display="latin1.toml")


def test_unknown_keys_suggest_the_closest() -> None:
    doc = tomlfile.parse('[t]\nname = "x"\nnmae = "y"\n', path=Path("f"), display="f")
    table = doc.root().table("t")
    assert table is not None
    table.string("name")

    with pytest.raises(StepsError) as raised:
        table.reject_unknown()

    assert str(raised.value) == "f:3: unknown key 'nmae' in [t]; did you mean 'name'?"
