"""Java properties structured configuration variables: parsed as Java reads them, edited in place."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from steptemplates.execution.config.structured_base import NotThisFormat, Replaced
from steptemplates.execution.config.structured_properties import replace

DATA = Path(__file__).parent / "data" / "structured"


def run(text: str, variables: dict[str, str]) -> tuple[str, Replaced]:
    result = replace(text.encode("utf-8"), variables, warn=pytest.fail)
    return result.data.decode("utf-8"), result


def test_a_commented_file_changes_only_the_replaced_values() -> None:
    variables = {
        "db.url": "jdbc:postgresql://db.prod/shop",
        "DB.USER": "deploy",
        "db.password": "s3cr\\et",
        "app.name": "Shop Production",
        "app.description": "Online shop",
        "path with spaces": "new",
        "db.missing": "x",  # no such key: nothing is added
    }
    result = replace((DATA / "app.properties").read_bytes(), variables, warn=pytest.fail)
    assert result.data == (DATA / "app.expected.properties").read_bytes()
    assert result.replaced == (
        "db.url",
        "DB.USER",
        "db.password",
        "app.name",
        "app.description",
        "path with spaces",
    )


@pytest.mark.parametrize(
    ("line", "written"),
    [
        ("key=old", "key=new"),
        ("key = old", "key = new"),
        ("key:old", "key:new"),
        ("key : old", "key : new"),
        ("key old", "key new"),
        ("key\t\told", "key\t\tnew"),
        ("   key=old", "   key=new"),
        ("key=", "key=new"),
        ("key", "key:new"),
        ("key ", "key new"),
        ("key=old # not a comment", "key=new"),
    ],
)
def test_every_separator_is_understood(line: str, written: str) -> None:
    text, result = run(f"{line}\nother=1\n", {"key": "new"})
    assert text == f"{written}\nother=1\n"
    assert result.replaced == ("key",)


def test_a_value_continued_over_lines_is_replaced_whole() -> None:
    source = "list = one, \\\n       two, \\\n       three\nnext = 1\n"
    text, _ = run(source, {"list": "four"})
    assert text == "list = four\nnext = 1\n"


def test_an_escaped_backslash_at_the_end_does_not_continue() -> None:
    source = "dir = C:\\\\temp\\\\\nkey = old\n"
    text, result = run(source, {"key": "new", "dir": "D:\\data"})
    assert text == "dir = D:\\\\data\nkey = new\n"
    assert result.replaced == ("dir", "key")


def test_a_key_continued_over_lines_and_escaped_keys_are_read_as_java_does() -> None:
    source = "long\\\n   key = a\nweird\\=key\\:x\\ y = b\nuni\\u00e9 = c\n"
    text, _ = run(source, {"longkey": "A", "weird=key:x y": "B", "unié": "C"})
    assert text == "long\\\n   key = A\nweird\\=key\\:x\\ y = B\nuni\\u00e9 = C\n"


def test_comment_lines_are_never_keys_even_when_they_end_with_a_backslash() -> None:
    source = "# key = a \\\nkey = b\n  ! key = c\n#key\n"
    text, result = run(source, {"key": "new", "# key": "x", "#key": "y"})
    assert text == "# key = a \\\nkey = new\n  ! key = c\n#key\n"
    assert result.replaced == ("key",)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("C:\\dir", "C:\\\\dir"),
        ("  two leading", "\\  two leading"),
        ("line\nbreak\r\tand\ftab", "line\\nbreak\\r\\tand\\ftab"),
        ("a=b:c #d !e", "a=b:c #d !e"),
        ("trailing  ", "trailing  "),
        ("bell\x07", "bell\\u0007"),
        ("", ""),
    ],
)
def test_values_are_escaped_so_java_reads_them_back(value: str, written: str) -> None:
    text, _ = run("key=old\n", {"key": value})
    assert text == f"key={written}\n"


def test_lookup_is_case_insensitive_and_every_occurrence_is_replaced() -> None:
    text, result = run("Port=1\nport=2\n", {"PORT": "3"})
    assert text == "Port=3\nport=3\n"
    assert result.replaced == ("PORT",)


def test_octopus_variables_are_never_applied() -> None:
    source = "Octopus.Action.Name=a\nOctopus:Url=b\noctopusx=c\n"
    variables = {"Octopus.Action.Name": "A", "Octopus:Url": "B", "OctopusX": "C"}
    text, result = run(source, variables)
    assert text == source
    assert result.replaced == ()


def test_line_endings_and_byte_order_mark_are_kept() -> None:
    source = codecs.BOM_UTF8 + b"a=1\r\nb = \\\r\n  2\r\nc:3\rd=4"
    result = replace(source, {"a": "x", "b": "y", "c": "z", "d": "w"}, warn=pytest.fail)
    # b's value starts on its continuation line, and is replaced there.
    assert result.data == codecs.BOM_UTF8 + b"a=x\r\nb = \\\r\n  y\r\nc:z\rd=w"


@pytest.mark.parametrize("source", ["", "\n\n", "# only comments\n! here\n"])
def test_a_file_without_entries_has_nothing_to_replace(source: str) -> None:
    text, result = run(source, {"a": "1"})
    assert text == source
    assert result.replaced == ()


def test_unicode_values_are_written_as_is_in_utf8() -> None:
    text, _ = run("greeting=hi\n", {"greeting": "grüß dich 😀"})
    assert text == "greeting=grüß dich 😀\n"


def test_a_windows_1252_file_gets_unicode_escapes_for_what_it_cannot_hold() -> None:
    source = "name=caf\xe9\nother=x\n".encode("cp1252")
    result = replace(source, {"other": "€ 😀"}, warn=pytest.fail)
    assert result.data == b"name=caf\xe9\nother=\x80 \\ud83d\\ude00\n"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a=1\nb=\\u12g4\n", "malformed \\uXXXX escape '\\u12g4' at line 2"),
        ("a=1\nb\\u00=2\n", "malformed \\uXXXX escape '\\u00=2' at line 2"),
        ("a=1\n\n\x00\x01binary\n", "binary content (a NUL character) at line 3"),
    ],
)
def test_a_malformed_file_is_reported_with_its_line(source: str, reason: str) -> None:
    with pytest.raises(NotThisFormat) as raised:
        replace(source.encode(), {"a": "1"}, warn=pytest.fail)
    assert str(raised.value) == reason
