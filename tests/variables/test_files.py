import json
from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.variables.collection import Variable
from steptemplates.variables.files import load_variables_file


def test_flat_json_object(tmp_path: Path) -> None:
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({"A": "1", "B": 2, "C": True, "D": None}))
    assert load_variables_file(path) == [
        Variable("A", "1"),
        Variable("B", "2"),
        Variable("C", "True"),
        Variable("D", ""),
    ]


def test_calamari_array_with_sensitive_flags(tmp_path: Path) -> None:
    path = tmp_path / "vars.json"
    path.write_text(
        json.dumps([{"k": "A", "v": "1", "s": False}, {"k": "Key", "v": "x", "s": True}])
    )
    assert load_variables_file(path) == [Variable("A", "1"), Variable("Key", "x", sensitive=True)]


def test_toml_with_nested_tables(tmp_path: Path) -> None:
    path = tmp_path / "vars.toml"
    path.write_text('Name = "web"\nPort = 8080\n[Database]\nHost = "db"\n')
    assert load_variables_file(path) == [
        Variable("Name", "web"),
        Variable("Port", "8080"),
        Variable("Database.Host", "db"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("v.json", "{", r"v.json:1:2: invalid JSON"),
        ("v.json", "[1]", r'entry 0 must be an object with a string "k"'),
        ("v.json", '[{"k": "a", "x": 1}]', r"entry 0 has unknown keys: x"),
        ("v.json", '{"a": [1]}', r"variable 'a' must be a string, number, boolean or null"),
        ("v.json", '"text"', r"a variables file holds a JSON object"),
        ("v.toml", "a = [1]\n", r"v.toml:1: variable 'a' must be a string"),
        ("v.toml", "a = \n", r"v.toml:1:\d+: invalid TOML"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(StepsError, match=message):
        load_variables_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StepsError, match=r"variables file not found"):
        load_variables_file(tmp_path / "nope.json")
