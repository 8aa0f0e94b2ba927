"""YAML structured configuration variables: styles kept, anchors intact, nothing else touched."""

from __future__ import annotations

import codecs
import copy
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from steptemplates.execution.config.structured_base import NotThisFormat, Replaced
from steptemplates.execution.config.structured_yaml import replace

DATA = Path(__file__).parent / "data" / "structured"


def run(text: str, variables: dict[str, str]) -> tuple[str, Replaced, list[str]]:
    warnings: list[str] = []
    result = replace(text.encode("utf-8"), variables, warn=warnings.append)
    return result.data.decode("utf-8"), result, warnings


def load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def test_a_commented_file_changes_only_the_replaced_values() -> None:
    variables = {
        "service:name": "shop-prod",
        "Service:Port": "9090",
        "service:greeting": "it's live",
        "service:banner": "tab\there",
        "service:motd": "Maintenance at 22:00\nBack soon\n",
        "service:summary": "short",
        "endpoints:1:url": "https://b.example.com/api",
        "tags:0": "prod",
        "tags:1": "a, b",
        "empty": "filled",
        "endpoints:2:url": "nowhere",  # no such item: nothing is added
    }
    result = replace((DATA / "config.yaml").read_bytes(), variables, warn=pytest.fail)
    assert result.data.decode() == (DATA / "config.expected.yaml").read_text()
    assert load(result.data.decode())["service"]["motd"] == "Maintenance at 22:00\nBack soon\n"
    assert result.replaced[:2] == ("service:name", "Service:Port")
    assert "endpoints:2:url" not in result.replaced


@pytest.mark.parametrize(
    ("original", "value", "written"),
    [
        ("plain", "other", "other"),
        ("plain", "8080", "8080"),
        ("plain", "a: b", '"a: b"'),
        ("plain", "x # y", '"x # y"'),
        ("plain", "- item", '"- item"'),
        ("plain", "*ref", '"*ref"'),
        ("plain", " padded ", '" padded "'),
        ("plain", "two\nlines", '"two\\nlines"'),
        ("plain", "", "null"),
        ("'single'", "it's", "'it''s'"),
        ("'single'", "a: b # c", "'a: b # c'"),
        ("'single'", "line\nbreak", '"line\\nbreak"'),
        ('"double"', 'say "hi"\\', '"say \\"hi\\"\\\\"'),
        ('"double"', "tab\tand\x07bell", '"tab\\tand\\abell"'),
        ('"double"', "", '""'),
        ("~", "set", "set"),
        ("null", "set", "set"),
    ],
)
def test_a_scalar_keeps_its_style_when_the_value_allows_it(
    original: str, value: str, written: str
) -> None:
    text, result, _ = run(f"key: {original}  # note\nnext: 1\n", {"key": value})
    assert text == f"key: {written}  # note\nnext: 1\n"
    loaded = load(text)["key"]
    if value == "" and original == "plain":
        assert loaded is None  # an empty plain scalar is null
    else:
        assert str(loaded) == value
    assert result.replaced == ("key",)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("x", "[x, b]"),
        ("a, b", '["a, b", b]'),
        ("[1]", '["[1]", b]'),
        ("", "['', b]"),
    ],
)
def test_plain_scalars_in_flow_collections_follow_flow_rules(value: str, written: str) -> None:
    text, _, _ = run("list: [a, b]\n", {"list:0": value})
    assert text == f"list: {written}\n"
    assert load(text)["list"] == [value, "b"]


def test_an_empty_value_is_filled_after_its_colon() -> None:
    text, _, _ = run("a:\nb:   # note\nc: 1\n", {"a": "one", "b": "two words"})
    assert text == "a: one\nb: two words   # note\nc: 1\n"


def test_literal_and_folded_blocks_keep_their_style_and_indentation() -> None:
    source = "run:\n  script: |\n      old\n  text: >\n      old\n\nafter: 1\n"
    variables = {"run:script": "echo a\n  indented\necho b", "run:text": "one\ntwo\n\nthree\n"}
    text, _, _ = run(source, variables)
    assert text == (
        "run:\n  script: |-\n      echo a\n        indented\n      echo b\n"
        "  text: >\n      one\n\n      two\n\n\n      three\n\nafter: 1\n"
    )
    loaded = load(text)
    assert loaded["run"] == {"script": variables["run:script"], "text": variables["run:text"]}
    assert loaded["after"] == 1


def test_a_block_keeps_trailing_line_breaks_with_the_keep_indicator() -> None:
    text, _, _ = run("a: |\n  x\n\nb: 1\n", {"a": "y\n\n\n"})
    assert text == "a: |+\n  y\n\n\nb: 1\n"
    assert load(text) == {"a": "y\n\n\n", "b": 1}


def test_a_block_at_the_end_of_a_file_without_a_line_break_gets_none() -> None:
    text, _, _ = run("a: |\n  x", {"a": "y"})
    assert text == "a: |-\n  y"


def test_a_value_a_block_cannot_hold_is_double_quoted() -> None:
    text, _, _ = run("a: |\n  x\nb: 1\n", {"a": "  leading space"})
    assert text == 'a: "  leading space"\nb: 1\n'


def test_a_block_mapping_is_replaced_by_a_flow_mapping_on_its_key_line() -> None:
    source = "logging:\n  level: info\n  sinks:\n    - console\n# about next\nnext: 1\n"
    text, result, _ = run(source, {"Logging": "{level: debug, sinks: [file, 'a b']}"})
    assert text == 'logging: {level: debug, sinks: [file, "a b"]}\n# about next\nnext: 1\n'
    assert load(text)["logging"] == {"level": "debug", "sinks": ["file", "a b"]}
    assert result.replaced == ("Logging",)


def test_a_block_value_parsed_as_block_yaml_becomes_flow() -> None:
    text, _, _ = run("servers:\n- a\n- b\nport: 1\n", {"servers": "- x\n- y: 1\n"})
    assert text == "servers: [x, {y: 1}]\nport: 1\n"


def test_a_sequence_with_a_comment_before_it_is_indented_past_its_key() -> None:
    source = "servers:  # the pool\n- a\n- b\nport: 1\n"
    text, _, _ = run(source, {"servers": "[x]"})
    assert text == "servers:  # the pool\n  [x]\nport: 1\n"
    assert load(text) == {"servers": ["x"], "port": 1}


def test_a_collection_replaced_by_a_scalar_value_becomes_a_quoted_string() -> None:
    text, _, _ = run("a: [1, 2]\nb: {c: d}\n", {"a": "plain text", "b": "true"})
    assert text == 'a: "plain text"\nb: "true"\n'


def test_an_anchored_value_keeps_its_anchor_and_its_aliases_follow() -> None:
    source = "base: &base\n  port: 80\n  host: &h local\nweb: *base\nalso: *h\n"
    text, result, warnings = run(source, {"base:port": "81", "base:host": "remote"})
    assert text == "base: &base\n  port: 81\n  host: &h remote\nweb: *base\nalso: *h\n"
    assert load(text)["web"] == {"port": 81, "host": "remote"}
    assert load(text)["also"] == "remote"
    assert warnings == []
    assert result.replaced == ("base:port", "base:host")


def test_an_anchored_mapping_replaced_whole_keeps_its_anchor() -> None:
    source = "base: &base\n  port: 80\nweb: *base\n"
    text, _, _ = run(source, {"base": "{port: 90}"})
    assert text == "base: &base {port: 90}\nweb: *base\n"
    assert load(text)["web"] == {"port": 90}


def test_a_path_through_an_alias_is_not_replaced_and_says_why() -> None:
    source = "defaults: &d\n  port: 80\nweb:\n  <<: *d\nother: *d\n"
    text, result, warnings = run(source, {"other:port": "81", "web:<<": "x"})
    assert text == source
    assert result.replaced == ()
    assert warnings == [
        "Unable to set value for web:<<: it is reached through the alias *d; "
        "set it where &d is defined instead",
        "Unable to set value for other:port: it is reached through the alias *d; "
        "set it where &d is defined instead",
    ]


def test_an_alias_defined_later_in_a_skipped_part_is_still_recognised() -> None:
    source = "list: [&x 1, *x]\n"
    text, _, warnings = run(source, {"list:0": "2", "list:1": "3"})
    assert text == "list: [&x 2, *x]\n"
    assert len(warnings) == 1


def test_every_document_of_a_stream_is_replaced() -> None:
    source = "---\nkind: A\nport: 1\n---\nkind: B\n---\nkind: C\nport: 3\n...\n"
    text, result, _ = run(source, {"port": "9"})
    assert text == "---\nkind: A\nport: 9\n---\nkind: B\n---\nkind: C\nport: 9\n...\n"
    assert result.replaced == ("port",)


def test_octopus_variables_are_ignored_unless_written_with_a_colon() -> None:
    source = "Octopus:\n  Url: a\nOctopusUrl: b\noctopus.action: c\n"
    variables = {"Octopus:Url": "A", "OctopusUrl": "B", "Octopus.Action": "C"}
    text, result, _ = run(source, variables)
    assert text == "Octopus:\n  Url: A\nOctopusUrl: b\noctopus.action: c\n"
    assert result.replaced == ("Octopus:Url",)


def test_keys_are_never_added() -> None:
    source = "a:\n  b: 1\n"
    text, result, _ = run(source, {"a:c": "2", "z": "3", "a:b:c": "4"})
    assert text == source
    assert result.replaced == ()


def test_line_endings_and_byte_order_mark_are_kept() -> None:
    source = codecs.BOM_UTF8 + b"a: 1\r\nb: |\r\n  x\r\n  y\r\nc: 'z'\r\n"
    result = replace(source, {"a": "2", "b": "p\nq\n", "c": "w"}, warn=pytest.fail)
    assert result.data == codecs.BOM_UTF8 + b"a: 2\r\nb: |\r\n  p\r\n  q\r\nc: 'w'\r\n"


@pytest.mark.parametrize("source", ["", "# just a comment\n", "---\n...\n"])
def test_an_empty_file_has_nothing_to_replace(source: str) -> None:
    text, result, _ = run(source, {"a": "1"})
    assert text == source
    assert result.replaced == ()


def test_unicode_values_are_written_as_is_in_utf8() -> None:
    text, _, _ = run("greeting: hi\n", {"greeting": "grüß dich 😀"})
    assert text == "greeting: grüß dich 😀\n"


def test_a_windows_1252_file_gets_double_quoted_escapes_for_what_it_cannot_hold() -> None:
    source = "name: caf\xe9\nother: x\n".encode("cp1252")
    result = replace(source, {"other": "€ 😀"}, warn=pytest.fail)
    assert result.data == b'name: caf\xe9\nother: "\x80 \\U0001f600"\n'
    assert load(result.data.decode("cp1252"))["other"] == "€ 😀"


def test_an_unchanged_value_is_not_rewritten() -> None:
    source = "a: 'x'\nb: ~\n"
    text, result, _ = run(source, {"a": "x", "b": "~"})
    assert text == source
    assert result.replaced == ("a", "b")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a: 1\n  b: 2\n", "mapping values are not allowed here at line 2, column 4"),
        ("a: 'open\n", "found unexpected end of stream at line 2, column 1"),
        ("a:\n\tb: 1\n", "found character '\\t' that cannot start any token at line 2, column 1"),
        ("a: [1, 2\n", "expected ',' or ']', but got '<stream end>' at line 2, column 1"),
        ("a: *missing\n", "found undefined alias 'missing' at line 1, column 4"),
    ],
)
def test_text_that_is_not_yaml_is_reported_with_its_line(source: str, reason: str) -> None:
    with pytest.raises(NotThisFormat) as raised:
        replace(source.encode(), {"a": "1"}, warn=pytest.fail)
    assert str(raised.value).startswith(reason)
    assert "line" in str(raised.value)


# --- property: a replaced string reads back exactly, and nothing else changes --------------

_WORDS = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=8).map(str.strip).filter(bool)
_DOCUMENTS = st.recursive(
    _WORDS,
    lambda children: (
        st.lists(children, min_size=1, max_size=3)
        | st.dictionaries(_WORDS, children, min_size=1, max_size=3)
    ),
    max_leaves=12,
).filter(lambda document: isinstance(document, (dict, list)))
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


def _string_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _string_paths(child, (*path, key))]
    if isinstance(node, list):
        return [p for index, child in enumerate(node) for p in _string_paths(child, (*path, index))]
    return [path]


@settings(max_examples=150, deadline=None)
@given(
    document=_DOCUMENTS,
    value=_TEXT | st.sampled_from(["a\nb\n", "x\n\n", "\n", " lead", "it's", "a: b"]),
    style=st.sampled_from(["'", '"', "|", ">"]),
    flow=st.sampled_from([False, True]),
    data=st.data(),
)
def test_a_quoted_or_block_string_reads_back_exactly(
    document: Any, value: str, style: str, flow: bool, data: st.DataObject
) -> None:
    dumper = YAML(typ="safe", pure=True)
    dumper.default_style = style  # type: ignore[assignment]
    dumper.default_flow_style = flow
    stream = io.StringIO()
    dumper.dump(document, stream)
    source = stream.getvalue()
    path = data.draw(st.sampled_from(_string_paths(document)))
    name = ":".join(str(segment).upper() for segment in path)

    result = replace(source.encode(), {name: value}, warn=pytest.fail)

    expected = copy.deepcopy(document)
    parent = expected
    for segment in path[:-1]:
        parent = parent[segment]
    parent[path[-1]] = value
    assert load(result.data.decode()) == expected
