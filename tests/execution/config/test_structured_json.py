"""JSON structured configuration variables: paths, types, and edits that touch nothing else."""

from __future__ import annotations

import codecs
import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from steptemplates.execution.config.structured_base import NotThisFormat, Replaced
from steptemplates.execution.config.structured_json import replace

DATA = Path(__file__).parent / "data" / "structured"


def run(text: str, variables: dict[str, str]) -> tuple[str, Replaced, list[str]]:
    warnings: list[str] = []
    result = replace(text.encode("utf-8"), variables, warn=warnings.append)
    return result.data.decode("utf-8"), result, warnings


def test_appsettings_with_comments_and_trailing_commas_changes_only_the_values() -> None:
    original = (DATA / "appsettings.json").read_bytes()
    variables = {
        "ConnectionStrings:Default": "Server=db.prod;Database=shop",
        "Logging:LogLevel:Default": "Warning",
        "logging:loglevel:microsoft": "Error",
        "Servers:1:Port": "9090",
        "Features:Beta": "True",
        "Cache": "redis:6379",
        "Servers:7:Port": "1",  # no such element: nothing is added
    }
    result = replace(original, variables, warn=pytest.fail)
    assert result.data == (DATA / "appsettings.expected.json").read_bytes()
    assert result.replaced == (
        "ConnectionStrings:Default",
        "Logging:LogLevel:Default",
        "logging:loglevel:microsoft",
        "Servers:1:Port",
        "Features:Beta",
        "Cache",
    )


def test_paths_are_case_insensitive_and_reach_into_arrays() -> None:
    text, result, _ = run('{"A": [{"b": [1, {"C": "x"}]}]}', {"a:0:B:1:c": "y"})
    assert text == '{"A": [{"b": [1, {"C": "y"}]}]}'
    assert result.replaced == ("a:0:B:1:c",)


def test_a_root_array_is_addressed_by_index() -> None:
    text, _, _ = run('[{"name": "a"}, {"name": "b"}]', {"1:name": "c"})
    assert text == '[{"name": "a"}, {"name": "c"}]'


@pytest.mark.parametrize(
    ("original", "value", "written"),
    [
        ("8080", "9090", "9090"),
        ("8080", " 42 ", "42"),
        ("8080", "+7", "7"),
        ("8080", "007", "7"),
        ("8080", "1.5", "1.5"),
        ("8080", "1.50", "1.50"),
        ("8080", "1e5", "1e5"),
        ("8080", ".5", "0.5"),
        ("8080", "1e999", '"1e999"'),
        ("8080", "abc", '"abc"'),
        ("8080", "NaN", '"NaN"'),
        ("8080", "", '""'),
        ("1.0", "2", "2"),
        ("true", "False", "false"),
        ("false", " TRUE ", "true"),
        ("true", "yes", '"yes"'),
        ("true", "1", '"1"'),
        ('"text"', "5", '"5"'),
        ('"text"', "true", '"true"'),
        ('"text"', 'say "hi"\n', '"say \\"hi\\"\\n"'),
        ("null", "5", '"5"'),
        ("null", "null", '"null"'),
        ("{}", '{"a": 1}', '{"a": 1}'),
        ("[1]", "[true, null, 2.50]", "[true, null, 2.50]"),
        ("{}", "{a: 'b', c: [1,],}", '{"a": "b", "c": [1]}'),
        ("{}", "5", "5"),
        ("[]", '"text"', '"text"'),
    ],
)
def test_the_new_value_keeps_the_type_of_the_token_it_replaces(
    original: str, value: str, written: str
) -> None:
    text, _, warnings = run(f'{{"key": {original}, "next": 1}}', {"Key": value})
    assert text == f'{{"key": {written}, "next": 1}}'
    assert json.loads(text)["next"] == 1
    assert warnings == []


def test_a_value_that_is_not_json_leaves_an_object_alone_with_a_warning() -> None:
    source = '{"Logging": {"Level": "Info"}}'
    text, result, warnings = run(source, {"Logging": "not json {"})
    assert text == source
    assert result.replaced == ()
    assert warnings == [
        "Unable to set value for Logging: the value is not valid JSON for an object/array"
    ]


def test_variables_below_an_object_apply_when_the_object_itself_cannot_be_replaced() -> None:
    source = '{"Logging": {"Level": "Info"}}'
    text, _, warnings = run(source, {"Logging": "oops", "Logging:Level": "Debug"})
    assert text == '{"Logging": {"Level": "Debug"}}'
    assert len(warnings) == 1


def test_an_object_replacement_wins_over_variables_below_it() -> None:
    source = '{"Logging": {"Level": "Info"}}'
    text, result, _ = run(source, {"Logging": '{"Level": "Trace"}', "Logging:Level": "Debug"})
    assert text == '{"Logging": {"Level": "Trace"}}'
    assert result.replaced == ("Logging",)


def test_a_replaced_object_is_laid_out_like_the_one_it_replaces() -> None:
    source = '{\r\n    "Logging": {\r\n        "Level": "Info"\r\n    },\r\n    "x": 1\r\n}'
    text, _, _ = run(source, {"Logging": '{"Level": "Debug", "Sinks": ["console", {}]}'})
    assert text == (
        '{\r\n    "Logging": {\r\n        "Level": "Debug",\r\n        "Sinks": [\r\n'
        '            "console",\r\n            {}\r\n        ]\r\n    },\r\n    "x": 1\r\n}'
    )


def test_octopus_variables_are_ignored_unless_written_with_a_colon() -> None:
    source = '{"Octopus": {"Url": "a"}, "OctopusUrl": "b", "octopus.action": "c"}'
    variables = {"Octopus:Url": "A", "OctopusUrl": "B", "Octopus.Action": "C"}
    text, result, _ = run(source, variables)
    assert text == '{"Octopus": {"Url": "A"}, "OctopusUrl": "b", "octopus.action": "c"}'
    assert result.replaced == ("Octopus:Url",)


def test_keys_are_never_added() -> None:
    source = '{"a": {"b": 1}}'
    text, result, _ = run(source, {"a:c": "2", "z": "3", "a:b:c": "4"})
    assert text == source
    assert result.replaced == ()


def test_every_spelling_of_a_duplicated_key_is_replaced() -> None:
    text, result, _ = run('{"port": 1, "Port": 2}', {"PORT": "3"})
    assert text == '{"port": 3, "Port": 3}'
    assert result.replaced == ("PORT",)


def test_everything_that_is_not_replaced_stays_byte_for_byte() -> None:
    source = (
        '{ "n" : 1.0e+2 , "s" : "\\u00e9\\/\\t" ,\n'
        '\t"deep": {"a": [1, 2 ,3,], /* note */ "b": "x"}, // end\n'
        '  "big": 123456789012345678901234567890 }\n'
    )
    text, _, _ = run(source, {"deep:b": "y"})
    assert text == source.replace('"b": "x"', '"b": "y"')


def test_comments_inside_skipped_and_walked_subtrees_are_accepted() -> None:
    source = '{"skip": {"a": 1 /* c */, "b": [2, // c\n 3]}, "walk": {/* c */ "v": 1}}'
    text, _, _ = run(source, {"walk:v": "2"})
    assert text == source.replace('"v": 1', '"v": 2')


def test_comment_marks_and_commas_inside_strings_are_text() -> None:
    source = (
        '{"skip": {"url": "http://x/*y*/", "s": ",]", "list": [1, 2, /* c */ ],},\n'
        ' "walk": {"v": "//", "w": [0, 1,],},}'
    )
    text, _, _ = run(source, {"walk:w:1": "5", "walk:v": "x"})
    assert text == source.replace('"v": "//"', '"v": "x"').replace("[0, 1,]", "[0, 5,]")


def test_an_error_after_comments_is_still_reported_where_it_is() -> None:
    source = '{"a": [1, /* c */ 2,],\n "b": {"c": 1 "d": 2}}'
    with pytest.raises(
        NotThisFormat, match=r"^expected ',' or '}' after the property value at line 2, column 15$"
    ):
        replace(source.encode(), {"x": "1"}, warn=pytest.fail)


def test_line_endings_and_byte_order_mark_are_kept() -> None:
    source = codecs.BOM_UTF8 + b'{\r\n  "a": "x",\r\n  "b": 1\r\n}\r\n'
    result = replace(source, {"a": "y"}, warn=pytest.fail)
    assert result.data == codecs.BOM_UTF8 + b'{\r\n  "a": "y",\r\n  "b": 1\r\n}\r\n'


def test_a_utf16_file_is_written_back_in_utf16() -> None:
    source = codecs.BOM_UTF16_LE + '{"a": "x"}'.encode("utf-16-le")
    result = replace(source, {"a": "é"}, warn=pytest.fail)
    assert result.data == codecs.BOM_UTF16_LE + '{"a": "é"}'.encode("utf-16-le")


@pytest.mark.parametrize("source", ["", "   \n", "// nothing here\n"])
def test_an_empty_file_is_an_empty_object(source: str) -> None:
    text, result, _ = run(source, {"a": "1"})
    assert text == source
    assert result.replaced == ()


def test_unicode_values_are_written_as_is_in_utf8() -> None:
    text, _, _ = run('{"greeting": "hi"}', {"greeting": "grüß dich 😀"})
    assert text == '{"greeting": "grüß dich 😀"}'


def test_a_windows_1252_file_gets_escapes_for_what_it_cannot_hold() -> None:
    source = '{"a": "caf\xe9", "b": "x"}'.encode("cp1252")
    result = replace(source, {"b": "€ and 😀"}, warn=pytest.fail)
    assert result.data == b'{"a": "caf\xe9", "b": "\x80 and \\ud83d\\ude00"}'
    assert json.loads(result.data.decode("cp1252"))["b"] == "€ and 😀"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ('{"a": 1,\n "b" 2}', "expected ':' after the property name at line 2, column 6"),
        ('{"a": [1, 2}\n', "expected ',' or ']' after the array element at line 1, column 12"),
        ("{'a': 1}", "expected a property name in double quotes at line 1, column 2"),
        ('{"a": tru}', "expected a value at line 1, column 7"),
        ('{"a": 1} x', "unexpected text after the end of the JSON document at line 1, column 10"),
        ('{"a": 1 /* open', "a /* comment is not closed at line 1, column 9"),
        ('{"a": {"b": 1}', "expected ',' or '}' after the property value: the file ends early"),
        ("key: value\n", "expected a value at line 1, column 1"),
    ],
)
def test_text_that_is_not_json_is_reported_with_its_line(source: str, reason: str) -> None:
    with pytest.raises(NotThisFormat) as raised:
        replace(source.encode(), {"a": "1"}, warn=pytest.fail)
    assert str(raised.value).startswith(reason)


def test_an_unchanged_value_keeps_the_bytes_identical() -> None:
    source = b'{"a": 5}'
    result = replace(source, {"a": "5"}, warn=pytest.fail)
    assert result.data == source
    assert result.replaced == ("a",)


# --- property: replacing one scalar changes exactly that scalar, typed by the rules --------

_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_ .", min_size=1, max_size=6)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=20,
).filter(lambda document: isinstance(document, (dict, list)))
_VALUES = (
    st.text(max_size=10)
    | st.integers().map(str)
    | st.floats(allow_nan=False).map(repr)
    | st.sampled_from(["true", "False", " TRUE ", "1e5", "+12", "007", ".5", "1.50", "-0"])
)


def _scalar_paths(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _scalar_paths(child, (*path, key))]
    if isinstance(node, list):
        return [p for index, child in enumerate(node) for p in _scalar_paths(child, (*path, index))]
    return [path]


def _typed(original: Any, value: str) -> Any:
    """What the rules say the value becomes in place of ``original``."""
    stripped = value.strip()
    if isinstance(original, bool):
        return stripped.lower() == "true" if stripped.lower() in ("true", "false") else value
    if isinstance(original, (int, float)):
        if re.fullmatch(r"[+-]?[0-9]+", stripped):
            return int(stripped)
        if re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", stripped):
            number = float(stripped)
            if math.isfinite(number):
                return number
    return value


@settings(max_examples=150, deadline=None)
@given(
    document=_DOCUMENTS,
    value=_VALUES,
    indent=st.sampled_from([None, 2, "\t"]),
    ascii_only=st.booleans(),
    data=st.data(),
)
def test_replacing_one_scalar_changes_only_that_scalar(
    document: Any, value: str, indent: Any, ascii_only: bool, data: st.DataObject
) -> None:
    paths = _scalar_paths(document)
    assume(paths and () not in paths)
    path = data.draw(st.sampled_from(paths))
    source = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    name = ":".join(str(segment).upper() for segment in path)

    result = replace(source.encode(), {name: value}, warn=pytest.fail)

    expected = copy.deepcopy(document)
    parent = expected
    for segment in path[:-1]:
        parent = parent[segment]
    parent[path[-1]] = _typed(parent[path[-1]], value)
    assert json.loads(result.data) == expected
    assert result.replaced == (name,)
