"""Variables files: every format, scoped values, and errors that name the file and line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.variables import files
from steptemplates.variables.files import (
    load_variables_file,
    parse_variables_json,
    parse_variables_toml,
    parse_variables_yaml,
)
from steptemplates.variables.scoping import Scope, ScopedVariable


def var(
    name: str, value: str, origin: str, *, sensitive: bool = False, **scope: tuple[str, ...]
) -> ScopedVariable:
    return ScopedVariable(name, value, sensitive, Scope(**scope), origin)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- JSON -------------------------------------------------------------------------------------


def test_flat_json_object(tmp_path: Path) -> None:
    path = write(tmp_path, "vars.json", json.dumps({"A": "1", "B": 2, "C": True, "D": None}))
    o = str(path)
    assert load_variables_file(path) == [
        var("A", "1", o),
        var("B", "2", o),
        var("C", "True", o),
        var("D", "", o),
    ]


def test_flat_json_with_scoped_values(tmp_path: Path) -> None:
    text = """{
  "LogLevel": "Info",
  "Conn": [
    {"value": "Server=uat", "environment": "UAT"},
    {"value": "Server=prod", "environment": ["Production", "DR"], "role": "web", "tenant": null}
  ]
}"""
    loaded = load_variables_file(write(tmp_path, "vars.json", text))
    o = str(tmp_path / "vars.json")

    assert loaded == [
        var("LogLevel", "Info", o),
        var("Conn", "Server=uat", o, environment=("UAT",)),
        var("Conn", "Server=prod", o, environment=("Production", "DR"), role=("web",)),
    ]
    assert [v.line for v in loaded] == [2, 4, 5]


def test_calamari_array_with_sensitive_flags_and_scopes(tmp_path: Path) -> None:
    text = json.dumps(
        [
            {"k": "A", "v": "1", "s": False},
            {"k": "Key", "v": "x", "s": True},
            {"k": "Url", "v": None, "scope": {"environment": ["UAT"], "step": "Deploy"}},
        ],
        indent=1,
    )
    loaded = load_variables_file(write(tmp_path, "vars.json", text))
    o = str(tmp_path / "vars.json")

    assert loaded == [
        var("A", "1", o),
        var("Key", "x", o, sensitive=True),
        var("Url", "", o, environment=("UAT",), step=("Deploy",)),
    ]
    assert [v.line for v in loaded] == [2, 7, 12]


def test_json_text_can_be_parsed_without_a_file() -> None:
    loaded = parse_variables_json('\ufeff[{"k": "A", "v": 1}]', "secret.json (decrypted)")

    assert loaded == [var("A", "1", "secret.json (decrypted)")]


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "vars.json"
    path.write_bytes(b'\xef\xbb\xbf{"A": "1"}')

    assert load_variables_file(path) == [var("A", "1", str(path))]


# --- TOML -------------------------------------------------------------------------------------


def test_toml_with_nested_tables_and_scoped_values(tmp_path: Path) -> None:
    text = """Name = "web"
Port = 8080
"Site[App1].Url" = "https://a"
Conn = [
  { value = "Server=uat", environment = "UAT" },
  { value = "Server=prod", environment = ["Production", "DR"], role = "web" },
]
[Database]
Host = "db"
Hosts = [{ value = "db-uat", environment = "UAT", target = ["db-01"], step = "Migrate" }]
"""
    loaded = load_variables_file(write(tmp_path, "vars.toml", text))
    o = str(tmp_path / "vars.toml")

    assert loaded == [
        var("Name", "web", o),
        var("Port", "8080", o),
        var("Site[App1].Url", "https://a", o),
        var("Conn", "Server=uat", o, environment=("UAT",)),
        var("Conn", "Server=prod", o, environment=("Production", "DR"), role=("web",)),
        var("Database.Host", "db", o),
        var(
            "Database.Hosts",
            "db-uat",
            o,
            environment=("UAT",),
            target=("db-01",),
            step=("Migrate",),
        ),
    ]
    assert [v.line for v in loaded] == [1, 2, 3, 5, 6, 9, 10]


# --- YAML -------------------------------------------------------------------------------------

YAML_TEXT = """\
# Variables for the shop
LogLevel: Info
Port: 8080
Ratio: 1.50
Debug: true
Empty:
Quoted: "a: b # not a comment"
Single: 'it''s'
Site[App1].Url: https://shop.example.com/#top  # a comment
Conn:
  - value: Server=uat
    environment: UAT
  - value: Server=prod
    environment: [Production, "DR"]
    role: web
Database:
  Host: db
  Hosts:
  - value: db-uat
    target: [db-01]
    step: Migrate
"""


def test_yaml_with_nested_mappings_and_scoped_values(tmp_path: Path) -> None:
    for suffix in ("yaml", "yml"):
        path = write(tmp_path, f"vars.{suffix}", YAML_TEXT)
        loaded = load_variables_file(path)
        o = str(path)

        assert loaded == [
            var("LogLevel", "Info", o),
            var("Port", "8080", o),
            var("Ratio", "1.5", o),
            var("Debug", "True", o),
            var("Empty", "", o),
            var("Quoted", "a: b # not a comment", o),
            var("Single", "it's", o),
            var("Site[App1].Url", "https://shop.example.com/#top", o),
            var("Conn", "Server=uat", o, environment=("UAT",)),
            var("Conn", "Server=prod", o, environment=("Production", "DR"), role=("web",)),
            var("Database.Host", "db", o),
            var("Database.Hosts", "db-uat", o, target=("db-01",), step=("Migrate",)),
        ]
        assert [v.line for v in loaded] == [2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 17, 19]


def test_the_usual_yaml_is_read_without_ruamel_and_reads_the_same_with_it() -> None:
    # The fast reader is what keeps ten thousand scoped values well under a second.
    fast = files._FastYaml(YAML_TEXT).document()

    assert fast is not None
    assert fast == files._composed_yaml(YAML_TEXT, "v.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: true\nc: ~\nd: 1.50\ne: yes\nf: 'it''s'\ng: \"q\"\nh: -5\ni: x # c\nj: a#b\n",
        "a: True\nb: FALSE\nc: Null\nd: on\ne: +12\nf: 0\ng: '1'\n",
        "Site[App1].Url: http://x:80/p\n'quoted key': v\n\"dq\": 2\na b c: d e f\n",
        "Conn:\n- value: a\n  environment: [UAT]\n-   value: b\n    role: [a, b, ]\n",
        "x:\n  - a: 1\n    b: 2\n  - c: 3\n  -\n    d: 4\n  - null\n",
        "---\n# c\na: 1\n\n  # indented comment\nb: []\nc:\n",
        "a: [x y, 'it''s', \"z\"] # c\nb: 'x' # c\nc: 1\r\n",
        "list:\n  - x\n  - y\nnext: 1\n",
    ],
)
def test_the_fast_reader_agrees_with_ruamel(text: str) -> None:
    fast = files._FastYaml(text).document()

    assert fast is not None
    assert fast == files._composed_yaml(text.replace("\r\n", "\n"), "v.yaml")


def test_other_yaml_goes_to_ruamel(tmp_path: Path) -> None:
    text = """\
Hex: 0x1F
Date: 2024-01-01
Folded: >
  one
  two
Multi: first
  second
Flow: {a: 1}
Conn:
  - {value: p, environment: &prod [Production, DR]}
  - value: q
    tenant: *prod
Escaped: "tab\\there"
"""
    assert files._FastYaml(text).document() is None
    loaded = parse_variables_yaml(text, "v.yaml")

    assert [(v.name, v.value, v.scope.describe()) for v in loaded] == [
        ("Hex", "31", "unscoped"),
        ("Date", "2024-01-01", "unscoped"),
        ("Folded", "one two\n", "unscoped"),
        ("Multi", "first second", "unscoped"),
        ("Flow.a", "1", "unscoped"),
        ("Conn", "p", "environment=Production,DR"),
        ("Conn", "q", "tenant=Production,DR"),
        ("Escaped", "tab\there", "unscoped"),
    ]
    assert [v.line for v in loaded[-3:]] == [10, 11, 13]


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_ten_thousand_scoped_variables_load_well_under_a_second(
    tmp_path: Path, suffix: str
) -> None:
    flat: dict[str, object] = {}
    for i in range(10_000):
        flat[f"Var{i}"] = [
            {"value": f"uat-{i}", "environment": ["UAT", "Test"]},
            {"value": f"prod-{i}", "environment": "Production", "role": "web"},
        ]
    if suffix == "json":
        text = json.dumps(flat, indent=2)
    else:
        text = "".join(
            f"Var{i}:\n  - value: uat-{i}\n    environment: [UAT, Test]\n"
            f"  - value: prod-{i}\n    environment: Production\n    role: web\n"
            for i in range(10_000)
        )
    path = write(tmp_path, f"big.{suffix}", text)

    started = time.perf_counter()
    loaded = load_variables_file(path)
    elapsed = time.perf_counter() - started

    assert len(loaded) == 20_000
    last = text.splitlines()[(loaded[-1].line or 0) - 1]
    assert last.strip() == ("{" if suffix == "json" else "- value: prod-9999")
    assert elapsed < 1.0


def test_an_empty_yaml_file_has_no_variables(tmp_path: Path) -> None:
    assert load_variables_file(write(tmp_path, "v.yaml", "# nothing yet\n")) == []


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        # JSON
        (
            "v.json",
            "{",
            "v.json:1:2: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        ("v.json", '"text"', "v.json: a variables file holds a JSON object of names to values"),
        (
            "v.json",
            "[\n  1\n]",
            'v.json:2:3: entry 0 must be an object with a string "k" (the name)',
        ),
        (
            "v.json",
            '[{"k": "a"},\n {"k": "b", "x": 1}]',
            "v.json:2:13: entry 1 (\"b\"): unknown key 'x'; expected one of: k, v, s, scope",
        ),
        (
            "v.json",
            '[{"k": "a", "s": "yes"}]',
            'v.json:1:13: entry 0 ("a"): "s" must be true or false',
        ),
        (
            "v.json",
            '[{"k": "a", "v": [1]}]',
            'v.json:1:13: entry 0 ("a"): "v" must be a string, number, boolean or null',
        ),
        (
            "v.json",
            '[{"k": "a", "scope": ["UAT"]}]',
            'v.json:1:13: entry 0 ("a"): "scope" must be an object like {"environment": ["UAT"]}',
        ),
        (
            "v.json",
            '[{"k": "a", "scope": {"enviroment": "UAT"}}]',
            "v.json:1:13: entry 0 (\"a\"): unknown scope 'enviroment'; did you mean 'environment'?",
        ),
        (
            "v.json",
            '{"a": {"b": 1}}',
            "v.json:1:2: variable 'a' must be a string, number, boolean or null, or an array of scoped values",
        ),
        (
            "v.json",
            '{"a": 1,\n "b": [1]}',
            "v.json:2:8: variable 'b', scoped value 1: expected an object with 'value'",
        ),
        (
            "v.json",
            '{"b": []}',
            "v.json:1:2: variable 'b' has an empty array of scoped values; give it at least one value, or remove it",
        ),
        (
            "v.json",
            '{"b": [{"value": "x", "role": []}]}',
            "v.json:1:8: variable 'b', scoped value 1: 'role' is an empty list; remove it to leave the value open",
        ),
        (
            "v.json",
            '{"b": [{"value": "x", "role": [1]}]}',
            "v.json:1:8: variable 'b', scoped value 1: 'role' must be a name or a list of names",
        ),
        (
            "v.json",
            '{"b": [{"value": "x", "role": " "}]}',
            "v.json:1:8: variable 'b', scoped value 1: 'role' holds an empty name",
        ),
        (
            "v.json",
            '{"b": [{"environment": "UAT"}]}',
            "v.json:1:8: variable 'b', scoped value 1: 'value' is required",
        ),
        ("v.json", '{"": "x"}', "v.json:1:2: a variable name cannot be empty"),
        # TOML
        ("v.toml", "a = \n", r"v.toml:1:5: invalid TOML"),
        (
            "v.toml",
            "x = 1\na = [1]\n",
            "v.toml:2: variable 'a', scoped value 1: expected a table with 'value' and any of environment, target, role, tenant, step",
        ),
        (
            "v.toml",
            "a = 1979-05-27\n",
            "v.toml:1: variable 'a' must be a string, number or boolean, or an array of scoped values",
        ),
        (
            "v.toml",
            'a = [\n  { value = "x" },\n  { value = "y", enviroment = "UAT" },\n]\n',
            "v.toml:3: variable 'a', scoped value 2: unknown key 'enviroment'; did you mean 'environment'?",
        ),
        (
            "v.toml",
            "a = [\n  { value = [1] },\n]\n",
            "v.toml:2: variable 'a', scoped value 1: 'value' must be a string, number or boolean",
        ),
        (
            "v.toml",
            '[Db]\nHost = [{ value = "x", step = 1 }]\n',
            "v.toml:2: variable 'Db.Host', scoped value 1: 'step' must be a name or a list of names",
        ),
        # YAML
        ("v.yaml", "a: b: c\n", "v.yaml:1:5: invalid YAML: mapping values are not allowed here"),
        (
            "v.yaml",
            "a: [1, 2\n",
            "v.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        ("v.yaml", "a: 1\nb: 2\na: 3\n", "v.yaml:3:1: duplicate key 'a'"),
        (
            "v.yaml",
            "- a\n- b\n",
            "v.yaml:1:1: a YAML variables file holds a mapping of names to values",
        ),
        (
            "v.yaml",
            "base: &b {value: x}\nc:\n  <<: *b\n",
            "v.yaml:3:3: merge keys (<<) are not supported; write the keys out",
        ),
        (
            "v.yaml",
            "a:\n  - value: x\n    enviroment: UAT\n",
            "v.yaml:3:5: variable 'a', scoped value 1: unknown key 'enviroment'; did you mean 'environment'?",
        ),
        (
            "v.yaml",
            "a:\n  - value: x\n  - [UAT]\n",
            "v.yaml:3:5: variable 'a', scoped value 2: expected a mapping with 'value'",
        ),
        (
            "v.yaml",
            "a:\n  - value: x\n    role: {x: 1}\n",
            "v.yaml:3:5: variable 'a', scoped value 1: 'role' must be a name or a list of names",
        ),
        (
            "v.yaml",
            "a:\n  b: []\n",
            "v.yaml:2:3: variable 'a.b' has an empty array of scoped values",
        ),
        ("v.yaml", "a: &x [*x]\n", "v.yaml:1:4: an alias refers to itself"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = write(tmp_path, name, content)

    with pytest.raises(StepsError) as raised:
        load_variables_file(path)

    text = str(raised.value).replace(str(tmp_path) + "/", "")
    assert "\n" not in text
    assert text.startswith(message)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StepsError, match=r"nope.json: variables file not found"):
        load_variables_file(tmp_path / "nope.json")


def test_the_toml_function_names_the_source() -> None:
    with pytest.raises(StepsError, match=r"^from-secret:1: variable 'a'"):
        parse_variables_toml("a = 1979-05-27\n", "from-secret")
