"""Choosing a file's format for structured variables, and writing it back only when it changed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.execution.config.structured import (
    NO_MATCH,
    StructuredResult,
    replace_structured,
)


class Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.infos: list[str] = []


def apply(
    path: Path, variables: dict[str, str], *, json_only: bool = False
) -> tuple[StructuredResult, Log]:
    log = Log()
    result = replace_structured(
        path, variables, json_only=json_only, warn=log.warnings.append, info=log.infos.append
    )
    return result, log


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def needs_xml() -> None:
    pytest.importorskip("steptemplates.execution.config.structured_xml")


@pytest.mark.parametrize(
    ("name", "text", "format_name"),
    [
        ("appsettings.json", '{"a": 1}', "JSON"),
        ("config.yaml", '{"a": 1}', "JSON"),
        ("config.yml", "a: 1\n", "YAML"),
        ("config.YAML", "a: 1\n", "YAML"),
        ("app.properties", '{"a": 1}', "JSON"),
        ("app.properties", "a=1\n", "Java properties"),
        ("settings", '{"a": 1}', "JSON"),
    ],
)
def test_the_extension_decides_which_formats_are_tried(
    tmp_path: Path, name: str, text: str, format_name: str
) -> None:
    path = write(tmp_path, name, text)
    result, log = apply(path, {"a": "2"})
    assert result.format == format_name
    assert result.replaced == ("a",)
    assert result.changed
    assert log.infos == []


def test_a_json_file_is_only_ever_json(tmp_path: Path) -> None:
    path = write(tmp_path, "appsettings.json", "a: 1\n")
    with pytest.raises(StepsError) as raised:
        apply(path, {"a": "2"})
    assert str(raised.value) == (
        f"Structured variable replacement failed on {path}: it is not valid JSON "
        "(expected a value at line 1, column 1); fix the file or remove it from the target files"
    )
    assert path.read_text() == "a: 1\n"


def test_the_json_only_flag_reads_every_file_as_json(tmp_path: Path) -> None:
    path = write(tmp_path, "config.yaml", "a: 1\n")
    with pytest.raises(StepsError, match=r"it is not valid JSON \(expected a value"):
        apply(path, {"a": "2"}, json_only=True)
    json_path = write(tmp_path, "other.yaml", '{"a": 1}')
    result, _ = apply(json_path, {"a": "2"}, json_only=True)
    assert result.format == "JSON"


def test_an_unparseable_file_names_the_last_format_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "config.yml", "a: 1\nb: [unclosed\n")
    with pytest.raises(StepsError) as raised:
        apply(path, {"a": "2"})
    assert str(raised.value) == (
        f"Structured variable replacement failed on {path}: it is not valid YAML "
        "(expected ',' or ']', but got '<stream end>' at line 3, column 1); "
        "fix the file or remove it from the target files"
    )


def test_a_broken_properties_file_is_reported_as_properties(tmp_path: Path) -> None:
    path = write(tmp_path, "app.properties", "a=\\uZZZZ\n")
    with pytest.raises(StepsError, match=r"it is not valid Java properties \(malformed"):
        apply(path, {"a": "2"})


def test_nothing_matched_is_reported_and_the_file_left_alone(tmp_path: Path) -> None:
    path = write(tmp_path, "config.yaml", "a: 1\n")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    result, log = apply(path, {"b": "2"})
    assert result == StructuredResult("YAML", (), False)
    assert log.infos == [NO_MATCH]
    assert NO_MATCH == (
        "No structures have been found that match variable names, so no structured "
        "variable replacements have been applied."
    )
    assert path.stat().st_mtime_ns == 1_000_000_000


def test_a_match_that_changes_no_byte_does_not_rewrite_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "appsettings.json", '{"a": 1}')
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    result, log = apply(path, {"A": "1"})
    assert result == StructuredResult("JSON", ("A",), False)
    assert log.infos == []
    assert path.stat().st_mtime_ns == 1_000_000_000


def test_a_changed_file_is_rewritten_with_its_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "app.properties", "a=1\n")
    path.chmod(0o640)
    result, _ = apply(path, {"a": "2"})
    assert result.changed
    assert path.read_text() == "a=2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["app.properties"]


def test_warnings_come_only_from_the_format_that_wins(tmp_path: Path) -> None:
    # JSON would warn about "a" before finding the stray text; the file is properties.
    path = write(tmp_path, "app.properties", '{"a": {"b": 1}}\nx\n')
    result, log = apply(path, {"a": "not json"})
    assert result.format == "Java properties"
    assert log.warnings == []
    assert log.infos == [NO_MATCH]


def test_warnings_of_the_winning_format_are_passed_on(tmp_path: Path) -> None:
    path = write(tmp_path, "appsettings.json", '{"a": {"b": 1}}')
    result, log = apply(path, {"a": "not json"})
    assert log.warnings == [
        "Unable to set value for a: the value is not valid JSON for an object/array"
    ]
    assert log.infos == [NO_MATCH]
    assert not result.changed


def test_a_missing_file_is_an_empty_json_object_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    result, log = apply(path, {"a": "1"})
    assert result == StructuredResult("JSON", (), False)
    assert log.infos == [NO_MATCH]
    assert not path.exists()


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.mkdir()
    with pytest.raises(StepsError, match=r"^cannot read .*config\.json for structured variable"):
        apply(path, {"a": "1"})


def test_an_unknown_extension_tries_json_xml_yaml_then_properties(tmp_path: Path) -> None:
    needs_xml()
    cases = {
        "json.conf": ('{"a": 1}', "JSON"),
        "xml.conf": ('<?xml version="1.0"?>\n<config><a>1</a></config>\n', "XML"),
        "yaml.conf": ("a: 1\n", "YAML"),
        "properties.conf": ("a=1\n\tb=2\n", "Java properties"),
    }
    for name, (text, format_name) in cases.items():
        result, _ = apply(write(tmp_path, name, text), {"a": "2"})
        assert result.format == format_name, name


def test_an_xml_file_is_tried_as_json_then_xml(tmp_path: Path) -> None:
    needs_xml()
    json_result, _ = apply(write(tmp_path, "a.xml", '{"a": 1}'), {"a": "2"})
    assert json_result.format == "JSON"
    xml_result, _ = apply(write(tmp_path, "b.xml", "<config><a>1</a></config>"), {})
    assert xml_result.format == "XML"
    with pytest.raises(StepsError, match=r"it is not valid XML \("):
        apply(write(tmp_path, "c.xml", "a: 1\n"), {})
