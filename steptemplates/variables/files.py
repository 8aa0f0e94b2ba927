"""Variables files, and the shape ``[variables]`` shares with them (docs/variables.md).

Formats: a flat JSON object, Calamari's JSON array ``[{"k", "v", "s"}]``, TOML and YAML. In
all but Calamari's array a name maps to a value, or to an array of scoped values
(``{value, environment, target, role, tenant, step}``); in TOML and YAML a nested table
prefixes its names (``[Database] Host`` is ``Database.Host``).

Every error names the file and the line (and column where the format gives one). Lines are
found in one pass over the text, and YAML in its usual block style is read without
ruamel's pure-Python scanner, which needs seconds for ten thousand scoped values; anything
else in YAML goes to ruamel, which also words the syntax errors.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steptemplates import tomlfile
from steptemplates.errors import StepsError
from steptemplates.variables.scoping import UNSCOPED, Scope, ScopedVariable

KeyPath = tomlfile.KeyPath
Spot = tuple[int, int]  # 1-based line and column; column 0 when the format gives none

# The scope keys in the order the docs list them.
SCOPE_KEYS = ("environment", "target", "role", "tenant", "step")
_ENTRY_KEYS = ("value", *SCOPE_KEYS)
_CALAMARI_KEYS = ("k", "v", "s", "scope")
_YAML_SUFFIXES = (".yaml", ".yml")


def load_variables_file(path: Path) -> list[ScopedVariable]:
    """Variables from ``path``: TOML (``.toml``), YAML (``.yaml``, ``.yml``), else JSON."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StepsError(f"{path}: variables file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StepsError(f"{path}: cannot read variables file ({exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return parse_variables_toml(text, str(path))
    if suffix in _YAML_SUFFIXES:
        return parse_variables_yaml(text, str(path))
    return parse_variables_json(text, str(path))


# --- where things are, and the shape every format shares -------------------------------------


@dataclass(frozen=True)
class Located:
    """One file as messages name it, with the position of its keys and array items."""

    display: str
    spots: Mapping[KeyPath, Spot]
    container: str = "a table"  # what the format calls a mapping: a table, an object, a mapping
    nulls: bool = False  # whether the format has null (TOML has not)
    origin: str | None = None  # ScopedVariable.origin; the display name by default

    def spot(self, path: KeyPath) -> Spot | None:
        """The position of ``path``, or of the closest enclosing key that has one."""
        for end in range(len(path), -1, -1):
            spot = self.spots.get(path[:end])
            if spot is not None:
                return spot
        return None

    def line(self, path: KeyPath) -> int | None:
        spot = self.spot(path)
        return spot[0] if spot else None

    def error(self, path: KeyPath, message: str, *, hint: str | None = None) -> StepsError:
        spot = self.spot(path)
        where = self.display
        if spot:
            where += f":{spot[0]}:{spot[1]}" if spot[1] else f":{spot[0]}"
        return StepsError(f"{where}: {message}", hint=hint)

    @property
    def scalars(self) -> str:
        return "a string, number, boolean or null" if self.nulls else "a string, number or boolean"


def variables_from_mapping(
    data: Mapping[str, Any], at: Located, *, base: KeyPath = (), nested: bool = True
) -> list[ScopedVariable]:
    """The variables of ``data`` (found at ``base`` in the file), in the order written.

    With ``nested``, a table's names are prefixed with its own (TOML and YAML); without, a
    table is an error (a flat JSON object).
    """
    found: list[ScopedVariable] = []
    _collect(data, at, base, "", nested, found)
    return found


def _collect(
    data: Mapping[str, Any],
    at: Located,
    path: KeyPath,
    prefix: str,
    nested: bool,
    found: list[ScopedVariable],
) -> None:
    origin = at.origin or at.display
    for key, value in data.items():
        name = prefix + key
        key_path = (*path, key)
        if not key.strip():
            raise at.error(key_path, "a variable name cannot be empty")
        if isinstance(value, dict) and nested:
            _collect(value, at, key_path, f"{name}.", nested, found)
        elif isinstance(value, list):
            if not value:
                raise at.error(
                    key_path,
                    f"variable '{name}' has an empty array of scoped values",
                    hint="give it at least one value, or remove it",
                )
            found.extend(
                _scoped_value(name, index, entry, at, (*key_path, index))
                for index, entry in enumerate(value)
            )
        else:
            text = _text(value, at.nulls)
            if text is None:
                raise at.error(
                    key_path,
                    f"variable '{name}' must be {at.scalars}, or an array of scoped values",
                )
            found.append(ScopedVariable(name, text, origin=origin, line=at.line(key_path)))


def _scoped_value(name: str, index: int, entry: Any, at: Located, path: KeyPath) -> ScopedVariable:
    label = f"variable '{name}', scoped value {index + 1}"
    if not isinstance(entry, dict):
        raise at.error(
            path,
            f"{label}: expected {at.container} with 'value' and any of {', '.join(SCOPE_KEYS)}",
        )
    for key in entry:
        if key not in _ENTRY_KEYS:
            raise at.error(
                (*path, key), f"{label}: unknown key '{key}'", hint=_expected(key, _ENTRY_KEYS)
            )
    if "value" not in entry:
        raise at.error(path, f"{label}: 'value' is required")
    text = _text(entry["value"], at.nulls)
    if text is None:
        raise at.error((*path, "value"), f"{label}: 'value' must be {at.scalars}")
    return ScopedVariable(
        name,
        text,
        scope=_scope(entry, at, path, label),
        origin=at.origin or at.display,
        line=at.line(path),
    )


def _scope(entry: Mapping[str, Any], at: Located, path: KeyPath, label: str) -> Scope:
    names: dict[str, tuple[str, ...]] = {}
    for dimension in SCOPE_KEYS:
        raw = entry.get(dimension)
        if raw is not None:  # a null scope key (JSON, YAML) leaves that dimension open
            names[dimension] = _names(raw, at, (*path, dimension), f"{label}: '{dimension}'")
    return Scope(**names) if names else UNSCOPED


def _names(raw: Any, at: Located, path: KeyPath, label: str) -> tuple[str, ...]:
    names = (raw,) if isinstance(raw, str) else raw
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise at.error(path, f"{label} must be a name or a list of names")
    if not names:
        raise at.error(path, f"{label} is an empty list", hint="remove it to leave the value open")
    if not all(name.strip() for name in names):
        raise at.error(path, f"{label} holds an empty name")
    return tuple(names)


def _text(value: Any, nulls: bool) -> str | None:
    if value is None:
        return "" if nulls else None  # Octopus stores a null value as an empty string
    return tomlfile.scalar_to_text(value)


def _expected(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(allowed)}"


# --- TOML ------------------------------------------------------------------------------------


def located_toml(doc: tomlfile.TomlDocument, *, origin: str | None = None) -> Located:
    spots = {path: (line, 0) for path, line in tomlfile.key_lines(doc.text).items()}
    return Located(doc.display, spots, origin=origin)


def parse_variables_toml(text: str, source: str) -> list[ScopedVariable]:
    doc = tomlfile.parse(text, path=Path(source), display=source)
    return variables_from_mapping(doc.data, located_toml(doc))


# --- JSON ------------------------------------------------------------------------------------

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_DECODER = json.JSONDecoder()


def parse_variables_json(text: str, source: str) -> list[ScopedVariable]:
    """Variables from JSON text (a flat object or Calamari's array); ``source`` names it."""
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StepsError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict | list):
        raise StepsError(
            f"{source}: a variables file holds a JSON object of names to values, "
            'or an array of {"k": name, "v": value, "s": sensitive}'
        )
    at = Located(source, _json_spots(text), container="an object", nulls=True)
    if isinstance(data, dict):
        return variables_from_mapping(data, at, nested=False)
    return [_calamari_entry(index, entry, at) for index, entry in enumerate(data)]


def _calamari_entry(index: int, entry: Any, at: Located) -> ScopedVariable:
    path: KeyPath = (index,)
    if not isinstance(entry, dict) or not isinstance(entry.get("k"), str):
        raise at.error(path, f'entry {index} must be an object with a string "k" (the name)')
    name = entry["k"]
    label = f'entry {index} ("{name}")'
    for key in entry:
        if key not in _CALAMARI_KEYS:
            raise at.error(
                (*path, key), f"{label}: unknown key '{key}'", hint=_expected(key, _CALAMARI_KEYS)
            )
    sensitive = entry.get("s", False)
    if not isinstance(sensitive, bool):
        raise at.error((*path, "s"), f'{label}: "s" must be true or false')
    text = _text(entry.get("v"), nulls=True)
    if text is None:
        raise at.error((*path, "v"), f'{label}: "v" must be {at.scalars}')
    return ScopedVariable(
        name,
        text,
        sensitive=sensitive,
        scope=_calamari_scope(entry.get("scope"), at, (*path, "scope"), label),
        origin=at.display,
        line=at.line(path),
    )


def _calamari_scope(raw: Any, at: Located, path: KeyPath, label: str) -> Scope:
    if raw is None:
        return UNSCOPED
    if not isinstance(raw, dict):
        raise at.error(path, f'{label}: "scope" must be an object like {{"environment": ["UAT"]}}')
    for key in raw:
        if key not in SCOPE_KEYS:
            raise at.error(
                (*path, key), f"{label}: unknown scope '{key}'", hint=_expected(key, SCOPE_KEYS)
            )
    return _scope(raw, at, path, label)


def _json_spots(text: str) -> dict[KeyPath, Spot]:
    """Positions of the top two levels of valid JSON: entries, and their keys or items.

    ``json`` gives no positions, so this walks the text again, decoding each value below
    the second level in one call of the C decoder.
    """
    offsets: dict[KeyPath, int] = {}
    with contextlib.suppress(IndexError, ValueError):  # only for messages: partial will do
        _json_walk(text, _skip_space(text, 0), (), 2, offsets)
    breaks = [match.start() for match in re.finditer("\n", text)]
    spots: dict[KeyPath, Spot] = {}
    for path, offset in offsets.items():
        line = bisect_left(breaks, offset)
        start = breaks[line - 1] + 1 if line else 0
        spots[path] = (line + 1, offset - start + 1)
    return spots


def _json_walk(text: str, pos: int, path: KeyPath, depth: int, offsets: dict[KeyPath, int]) -> int:
    """Record where each member or item of the value at ``pos`` starts; return its end."""
    opener = text[pos]
    if depth == 0 or opener not in "[{":
        return _JSON_DECODER.raw_decode(text, pos)[1]
    closer = "}" if opener == "{" else "]"
    pos = _skip_space(text, pos + 1)
    index = 0
    while text[pos] != closer:
        start = pos
        child: KeyPath
        if opener == "{":
            key, pos = _JSON_DECODER.raw_decode(text, pos)
            pos = _skip_space(text, _skip_space(text, pos) + 1)  # past the colon
            child = (*path, key)
        else:
            child = (*path, index)
        offsets[child] = start
        pos = _skip_space(text, _json_walk(text, pos, child, depth - 1, offsets))
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        index += 1
    return pos + 1


def _skip_space(text: str, pos: int) -> int:
    match = _JSON_SPACE.match(text, pos)
    return match.end() if match else pos


# --- YAML ------------------------------------------------------------------------------------


def parse_variables_yaml(text: str, source: str) -> list[ScopedVariable]:
    """Variables from YAML text: the same shape as TOML's, mappings nesting names."""
    text = text.removeprefix("\ufeff")
    parsed = _FastYaml(text).document()
    data, spots = parsed if parsed is not None else _composed_yaml(text, source)
    if data is None:
        return []  # an empty document
    at = Located(source, spots, container="a mapping", nulls=True)
    if not isinstance(data, dict):
        raise at.error((), "a YAML variables file holds a mapping of names to values")
    return variables_from_mapping(data, at)


_YAML = "tag:yaml.org,2002:"
_CONSTRUCTED_TAGS = {f"{_YAML}{tag}" for tag in ("bool", "int", "float", "null")}
_MERGE_TAG = f"{_YAML}merge"


def _composed_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, Spot]]:
    """Any YAML, through ruamel's node graph, which keeps the position of every node."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(exc.problem or exc.context or "").split())
        raise StepsError(f"{where}: invalid YAML: {problem}") from None
    except YAMLError as exc:
        raise StepsError(f"{source}: invalid YAML: {' '.join(str(exc).split())}") from None
    spots: dict[KeyPath, Spot] = {}
    if root is None:
        return None, spots
    spots[()] = _mark(root)
    return _YamlNodes(source, yaml.constructor, spots).value(root, ()), spots


def _mark(node: Any) -> Spot:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _YamlNodes:
    """Plain data from ruamel's nodes, recording where each key and item is."""

    def __init__(self, source: str, constructor: Any, spots: dict[KeyPath, Spot]) -> None:
        self.source = source
        self.constructor = constructor
        self.spots = spots
        self.open: set[int] = set()  # nodes being converted, to stop on a recursive alias

    def error(self, node: Any, message: str) -> StepsError:
        line, column = _mark(node)
        return StepsError(f"{self.source}:{line}:{column}: {message}")

    def value(self, node: Any, path: KeyPath) -> Any:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if id(node) in self.open:
            raise self.error(node, "an alias refers to itself")
        if isinstance(node, MappingNode):
            self.open.add(id(node))
            result = self.mapping(node, path)
            self.open.discard(id(node))
            return result
        if isinstance(node, SequenceNode):
            self.open.add(id(node))
            items = []
            for index, item in enumerate(node.value):
                self.spots[(*path, index)] = _mark(item)
                items.append(self.value(item, (*path, index)))
            self.open.discard(id(node))
            return items
        if node.tag in _CONSTRUCTED_TAGS:
            return self.constructor.construct_object(node)
        return node.value  # strings, and dates and other tags as written

    def mapping(self, node: Any, path: KeyPath) -> dict[str, Any]:
        from ruamel.yaml.nodes import ScalarNode

        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise self.error(key_node, "merge keys (<<) are not supported; write the keys out")
            if not isinstance(key_node, ScalarNode):
                raise self.error(key_node, "a key must be a name, not a list or mapping")
            key = str(key_node.value)
            if key in result:
                raise self.error(key_node, f"duplicate key '{key}'")
            self.spots[(*path, key)] = _mark(key_node)
            result[key] = self.value(value_node, (*path, key))
        return result


class _NotSimple(Exception):
    """The fast reader met YAML it does not handle; ruamel reads the file instead."""


# Tabs, lone carriage returns, other line breaks, and what ruamel's reader refuses: files
# holding any of them go to ruamel.
_UNSUITABLE = re.compile(
    "[^\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029]"
)
_INDICATORS = frozenset("[]{},#&*!|>'\"%@`?:-")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+")


class _FastYaml:
    """Block-style YAML as people write variables files, read line by line.

    It takes block mappings and sequences, single-line plain and quoted scalars (without
    escapes), flow lists of such scalars, and comments; plain scalars are typed by ruamel's
    own resolver, so a file reads the same either way. On anything else (anchors, tags,
    block scalars, multi-line scalars, flow mappings, tabs, errors) it gives up, and the
    file goes to ruamel.
    """

    def __init__(self, text: str) -> None:
        text = text.replace("\r\n", "\n")
        self.lines = text.split("\n")
        self.suitable = not _UNSUITABLE.search(text)
        self.row = 0
        self.spots: dict[KeyPath, Spot] = {}
        self.tags: dict[str, str] = {}
        self.resolver: Any = None

    def document(self) -> tuple[Any, dict[KeyPath, Spot]] | None:
        if not self.suitable:
            return None
        try:
            return self._document()
        except (_NotSimple, IndexError):  # ruamel reads it either way, and is the authority
            return None

    def _document(self) -> tuple[Any, dict[KeyPath, Spot]]:
        self._skip()
        if self.row < len(self.lines) and self.lines[self.row].rstrip() == "---":
            self.row += 1
            self._skip()
        if self.row == len(self.lines):
            return None, {}
        indent, content = self._peek()
        if indent or content.startswith("-"):
            raise _NotSimple
        self.spots[()] = (self.row + 1, 1)
        data = self._mapping(0, ())
        self._skip()
        if self.row != len(self.lines):
            raise _NotSimple
        return data, self.spots

    # lines

    def _skip(self) -> None:
        """Past blank lines and comment lines."""
        while self.row < len(self.lines):
            content = self.lines[self.row].lstrip(" ")
            if content and not content.startswith("#"):
                return
            self.row += 1

    def _peek(self) -> tuple[int, str]:
        line = self.lines[self.row]
        content = line.lstrip(" ")
        return len(line) - len(content), content

    def _more_indented_follows(self, indent: int) -> bool:
        self._skip()
        return self.row < len(self.lines) and self._peek()[0] > indent

    # blocks

    def _block(self, indent: int, path: KeyPath) -> Any:
        if _is_item(self._peek()[1]):
            return self._sequence(indent, path)
        return self._mapping(indent, path)

    def _mapping(self, indent: int, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self._skip()
            if self.row == len(self.lines):
                return result
            at, content = self._peek()
            if at < indent or (at == indent and _is_item(content)):
                return result
            if at > indent:
                raise _NotSimple
            key, rest, rest_column = _split_key(content, at)
            if key in result or key == "<<":
                raise _NotSimple  # ruamel words the error, or merges
            child = (*path, key)
            self.spots[child] = (self.row + 1, at + 1)
            result[key] = self._value(rest, rest_column, indent, child)

    def _value(self, rest: str, column: int, indent: int, path: KeyPath) -> Any:
        """The value after ``key:``: on the same line, or the block below it."""
        if rest and not rest.startswith("#"):
            value = self._inline(rest, column, path)
            self.row += 1
            if self._more_indented_follows(indent):
                raise _NotSimple  # a multi-line scalar
            return value
        self.row += 1
        self._skip()
        if self.row < len(self.lines):
            at, content = self._peek()
            if at > indent:
                return self._block(at, path)
            if at == indent and _is_item(content):
                return self._sequence(at, path)  # YAML lets a key's list start at its indent
        return None

    def _sequence(self, indent: int, path: KeyPath) -> list[Any]:
        items: list[Any] = []
        while True:
            self._skip()
            if self.row == len(self.lines):
                return items
            at, content = self._peek()
            if at != indent or not _is_item(content):
                if at > indent:
                    raise _NotSimple
                return items
            child = (*path, len(items))
            after = content[1:].lstrip(" ")
            column = at + len(content) - len(after)
            self.spots[child] = (self.row + 1, column + 1)
            if not after or after.startswith("#"):
                self.row += 1
                items.append(self._item_below(indent, child))
            elif _is_item(after):
                raise _NotSimple
            elif _is_key(after):
                # The item is a mapping whose keys line up with its first one.
                self.lines[self.row] = " " * column + after
                items.append(self._mapping(column, child))
            else:
                items.append(self._inline(after, column, child))
                self.row += 1
                if self._more_indented_follows(indent):
                    raise _NotSimple

    def _item_below(self, indent: int, path: KeyPath) -> Any:
        """The value of a ``-`` alone on its line: the block below it, or null."""
        if not self._more_indented_follows(indent):
            return None
        at = self._peek()[0]
        self.spots[path] = (self.row + 1, at + 1)  # where the value starts, as ruamel says
        return self._block(at, path)

    # scalars

    def _inline(self, text: str, column: int, path: KeyPath) -> Any:
        """A scalar or flow list that ends on this line; ``column`` is where it starts."""
        first = text[0]
        if first == "[":
            return self._flow(text, column, path)
        if first in "\"'":
            value, end = _quoted(text, 0)
            _comment_only(text[end:])
            return value
        plain = text.split(" #", 1)[0].rstrip()
        if first in _INDICATORS and not (first == "-" and len(plain) > 1 and plain[1] != " "):
            raise _NotSimple
        if ": " in plain or plain.endswith(":"):
            raise _NotSimple
        return self._plain(plain)

    def _flow(self, text: str, column: int, path: KeyPath) -> list[Any]:
        items: list[Any] = []
        pos = _skip_spaces(text, 1)
        while pos >= len(text) or text[pos] != "]":
            if pos >= len(text):
                raise _NotSimple  # a flow list over several lines
            self.spots[(*path, len(items))] = (self.row + 1, column + pos + 1)
            if text[pos] in "\"'":
                value, pos = _quoted(text, pos)
            else:
                end = min(
                    (i for i in (text.find(",", pos), text.find("]", pos)) if i >= 0), default=-1
                )
                plain = text[pos:end].rstrip() if end >= 0 else ""
                if not plain or plain[0] in _INDICATORS or any(c in plain for c in "#:[]{}\"'"):
                    raise _NotSimple
                value, pos = self._plain(plain), end
            items.append(value)
            pos = _skip_spaces(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos = _skip_spaces(text, pos + 1)
            elif pos >= len(text) or text[pos] != "]":
                raise _NotSimple
        _comment_only(text[pos + 1 :])
        return items

    def _plain(self, text: str) -> Any:
        tag = self.tags.get(text)
        if tag is None:
            tag = self.tags[text] = self._resolve(text)
        if tag == f"{_YAML}str":
            return text
        if tag == f"{_YAML}null":
            return None
        if tag == f"{_YAML}bool":
            return text.lower() == "true"
        if tag == f"{_YAML}int" and _INT.fullmatch(text):
            return int(text)
        if tag == f"{_YAML}float" and _FLOAT.fullmatch(text):
            return float(text)
        raise _NotSimple  # hex, octal, .inf, dates: ruamel knows them

    def _resolve(self, text: str) -> str:
        if self.resolver is None:
            from ruamel.yaml.resolver import VersionedResolver

            self.resolver = VersionedResolver()
        from ruamel.yaml.nodes import ScalarNode

        return str(self.resolver.resolve(ScalarNode, text, (True, False)))


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _is_key(content: str) -> bool:
    try:
        _split_key(content, 0)
    except _NotSimple:
        return False
    return True


def _split_key(content: str, column: int) -> tuple[str, str, int]:
    """``key: rest`` into the key, the rest and the rest's column."""
    if content[0] in "\"'":
        key, end = _quoted(content, 0)
        if content[end : end + 1] != ":" or content[end + 1 : end + 2] not in ("", " "):
            raise _NotSimple
        colon = end
    else:
        colon = content.find(": ")
        if colon < 0:
            colon = len(content) - 1 if content.rstrip().endswith(":") else -1
        key = content[: max(colon, 0)].rstrip()
        if colon < 0 or not key or key[0] in _INDICATORS or "#" in key:
            raise _NotSimple
    rest = content[colon + 1 :]
    stripped = rest.lstrip(" ")
    return key, stripped.rstrip(" "), column + colon + 1 + len(rest) - len(stripped)


def _quoted(text: str, start: int) -> tuple[str, int]:
    """A quoted scalar without escapes that ends on this line: its value and end."""
    quote = text[start]
    if quote == '"':
        end = text.find('"', start + 1)
        if end < 0 or "\\" in text[start:end]:
            raise _NotSimple
        return text[start + 1 : end], end + 1
    pos = start + 1
    while True:
        end = text.find("'", pos)
        if end < 0:
            raise _NotSimple
        if text[end + 1 : end + 2] != "'":
            return text[start + 1 : end].replace("''", "'"), end + 1
        pos = end + 2


def _comment_only(tail: str) -> None:
    """What follows a value on its line must be nothing, or a comment after a space."""
    if tail.strip(" ") and not (tail.startswith(" ") and tail.lstrip(" ").startswith("#")):
        raise _NotSimple


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos
