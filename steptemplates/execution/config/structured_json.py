"""Structured configuration variables in JSON files, edited in place.

A variable named ``Servers:0:Port`` (case-insensitive) replaces the value at that path. Only
the bytes of replaced values change: key order, whitespace, ``//`` and ``/* */`` comments,
trailing commas, number spellings, escapes and line endings stay as written.

The new value keeps the type of the token it replaces: a number stays a number when the
value parses as one, a boolean stays a boolean for ``true``/``false`` in any case, an object
or array takes the value parsed as JSON, and anything else becomes a JSON string.

Subtrees that no variable can reach are skipped with the C scanner of the ``json`` module,
so a large file costs less than ``json.loads`` + ``json.dumps``. Comments and trailing
commas stop that scanner: the first time one does, it reads a copy of the text with them
blanked out (every value where it was) from then on. Where it still fails, the small
scanner here walks the subtree and reports the error with its line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from steptemplates.encodings import DecodedText, decode
from steptemplates.execution.config.structured_base import (
    NotThisFormat,
    Replaced,
    Warn,
    casefold_index,
)
from steptemplates.variables.jsontext import JsonNumber, parse_container

# Whitespace and comments between tokens; an unterminated /* is left for the caller to report.
_GAP = re.compile(r"(?:[ \t\r\n]+|//[^\r\n]*|/\*.*?\*/)*", re.DOTALL)
_COMMENT = re.compile(r"//[^\r\n]*|/\*.*?\*/", re.DOTALL)
# A stretch of text without comments or trailing commas: it stops at a "/" that may open a
# comment, at a comma that may be trailing, and at a string that is not closed.
_PLAIN_RUN = re.compile(
    r'(?:[^"/,]+|"[^"\\]*(?:\\.[^"\\]*)*"|/(?![/*])|,(?![ \t\r\n]*(?:[\]}]|/)))*'
)
_DECODER = json.JSONDecoder(strict=False)
_scan_once = _DECODER.scan_once  # type: ignore[attr-defined]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def replace(data: bytes, variables: Mapping[str, str], *, warn: Warn) -> Replaced:
    """Replace the values whose path matches a variable; raise NotThisFormat if not JSON."""
    decoded = decode(data)
    scanner = _Scanner(decoded, config_variables(variables))
    try:
        scanner.document()
    except RecursionError:
        raise NotThisFormat("the document is nested too deeply to edit") from None
    for message in scanner.warnings:
        warn(message)
    if not scanner.edits:
        return Replaced(data, ())
    text = _splice(decoded.text, scanner.edits)
    names = tuple(dict.fromkeys(edit.name for edit in scanner.edits))
    return Replaced(decoded.encode(text), names)


def config_variables(variables: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Variables by case-folded path -> (name, value), without Octopus's own variables
    (``Octopus...``, unless written ``Octopus:...``); the YAML format uses the same rule."""
    return {
        path: entry
        for path, entry in casefold_index(variables).items()
        if path and (not path.startswith("octopus") or path.startswith("octopus:"))
    }


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str
    name: str


def _splice(text: str, edits: list[_Edit]) -> str:
    pieces: list[str] = []
    position = 0
    for edit in edits:
        pieces.append(text[position : edit.start])
        pieces.append(edit.text)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def leading_paths(paths: Iterable[str]) -> frozenset[str]:
    """Every path that leads to a variable: "" (the root) and each ``a``, ``a:b`` of ``a:b:c``."""
    found = {""}
    for path in paths:
        index = path.find(":")
        while index != -1:
            found.add(path[:index])
            index = path.find(":", index + 1)
    return frozenset(found)


class _Scanner:
    """One pass over the document, recording the spans of values to replace."""

    def __init__(self, decoded: DecodedText, targets: dict[str, tuple[str, str]]) -> None:
        self.decoded = decoded
        self.text = decoded.text
        # What the C scanner reads: the text until it meets a comment or a trailing comma,
        # then the text with those blanked out, so that it can skip every subtree again.
        self.scanned = decoded.text
        self.blanked = False
        self.targets = targets
        self.prefixes = leading_paths(targets) if targets else frozenset()
        self.edits: list[_Edit] = []
        self.warnings: list[str] = []

    # --- structure ---------------------------------------------------------------------

    def document(self) -> None:
        position = self.gap(0)
        if position == len(self.text):
            return  # an empty file is an empty object: nothing to replace
        position = self.value(position, "")
        position = self.gap(position)
        if position != len(self.text):
            self.fail("unexpected text after the end of the JSON document", position)

    def gap(self, position: int) -> int:
        end = _GAP.match(self.text, position).end()  # type: ignore[union-attr]
        if self.text.startswith("/*", end):
            self.fail("a /* comment is not closed", end)
        return end

    def value(self, position: int, path: str | None) -> int:
        """Handle the value at ``position`` whose path is ``path`` (None: no variable is
        interested); return the index just after it."""
        if path is None:
            return self.skip(position)
        if path in self.targets:
            return self.target(position, path)
        if path in self.prefixes:
            return self.walk(position, path)
        return self.skip(position)

    def skip(self, position: int) -> int:
        try:
            return int(_scan_once(self.scanned, position)[1])
        except (StopIteration, json.JSONDecodeError):
            if not self.blanked:
                self.scanned, self.blanked = _blank_comments(self.text), True
                return self.skip(position)
            return self.walk(position, None)

    def walk(self, position: int, path: str | None) -> int:
        char = self.text[position : position + 1]
        if char == "{":
            return self.walk_object(position, path)
        if char == "[":
            return self.walk_array(position, path)
        return self.scalar(position)[1]

    def walk_object(self, position: int, path: str | None) -> int:
        text = self.text
        position = self.gap(position + 1)
        if text.startswith("}", position):
            return position + 1
        while True:
            if not text.startswith('"', position):
                self.fail("expected a property name in double quotes", position)
            key, position = self.string(position)
            position = self.gap(position)
            if not text.startswith(":", position):
                self.fail("expected ':' after the property name", position)
            position = self.gap(position + 1)
            position = self.value(position, _child(path, key.casefold()))
            position = self.gap(position)
            if text.startswith(",", position):
                position = self.gap(position + 1)
                if text.startswith("}", position):  # a trailing comma, as .NET accepts
                    return position + 1
            elif text.startswith("}", position):
                return position + 1
            else:
                self.fail("expected ',' or '}' after the property value", position)

    def walk_array(self, position: int, path: str | None) -> int:
        text = self.text
        position = self.gap(position + 1)
        if text.startswith("]", position):
            return position + 1
        index = 0
        while True:
            position = self.value(position, _child(path, str(index)))
            index += 1
            position = self.gap(position)
            if text.startswith(",", position):
                position = self.gap(position + 1)
                if text.startswith("]", position):
                    return position + 1
            elif text.startswith("]", position):
                return position + 1
            else:
                self.fail("expected ',' or ']' after the array element", position)

    def string(self, position: int) -> tuple[str, int]:
        try:
            value, end = _scanstring(self.text, position + 1, False)
        except json.JSONDecodeError as error:
            self.fail(error.msg.lower(), error.pos)
        return value, end

    def scalar(self, position: int) -> tuple[Any, int]:
        """The scalar at ``position`` and the index after it."""
        if self.text.startswith('"', position):
            return self.string(position)
        try:
            value, end = _scan_once(self.text, position)
        except StopIteration:
            self.fail("expected a value", position)
        except json.JSONDecodeError as error:
            self.fail(error.msg.lower(), error.pos)
        return value, end

    def fail(self, problem: str, position: int) -> NoReturn:
        if position >= len(self.text):
            line = _line(self.text, position)
            raise NotThisFormat(f"{problem}: the file ends early (line {line})")
        line, column = _line(self.text, position), _column(self.text, position)
        raise NotThisFormat(f"{problem} at line {line}, column {column}")

    # --- replacement -------------------------------------------------------------------

    def target(self, position: int, path: str) -> int:
        name, value = self.targets[path]
        if self.text[position : position + 1] in ("{", "["):
            return self.replace_container(position, path, name, value)
        original, end = self.scalar(position)
        self.record(position, end, self.scalar_text(original, value), name)
        return end

    def replace_container(self, position: int, path: str, name: str, value: str) -> int:
        parsed = _parse_json(value)
        if parsed is _INVALID:
            self.warnings.append(
                f"Unable to set value for {name}: the value is not valid JSON for an object/array"
            )
            # Variables under this path may still apply to the object as it stands.
            return self.walk(position, path) if path in self.prefixes else self.skip(position)
        end = self.skip(position)
        layout = _Layout.of(self.text, position, end)
        self.record(position, end, _render(parsed, layout, layout.base), name)
        return end

    def scalar_text(self, original: Any, value: str) -> str:
        if isinstance(original, bool):
            word = value.strip().lower()
            if word in ("true", "false"):
                return word
        elif isinstance(original, (int, float)):
            number = _number_text(value)
            if number is not None:
                return number
        return json.dumps(value, ensure_ascii=False)

    def record(self, start: int, end: int, text: str, name: str) -> None:
        self.edits.append(_Edit(start, end, _encodable(text, self.decoded), name))


def _blank_comments(text: str) -> str:
    """``text`` with comments and trailing commas replaced by spaces: standard JSON with
    every value where it was."""
    pieces: list[str] = []
    copied = position = 0
    while True:
        position = _PLAIN_RUN.match(text, position).end()  # type: ignore[union-attr]
        if position >= len(text):
            break
        if text[position] == ",":
            after = _GAP.match(text, position + 1).end()  # type: ignore[union-attr]
            blank_end = position + 1 if text.startswith(("]", "}"), after) else position
        elif text[position] == "/":
            comment = _COMMENT.match(text, position)
            blank_end = comment.end() if comment else position
        else:
            break  # a string that is not closed: the walker reports it
        if blank_end == position:
            position += 1
            continue
        pieces += [text[copied:position], " " * (blank_end - position)]
        copied = position = blank_end
    pieces.append(text[copied:])
    return "".join(pieces)


def _child(path: str | None, segment: str) -> str | None:
    if path is None:
        return None
    return f"{path}:{segment}" if path else segment


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _column(text: str, position: int) -> int:
    return position - text.rfind("\n", 0, position)


def _number_text(value: str) -> str | None:
    """The value as a JSON number, or None when it is not one (.NET's long, then double).

    A value already spelled as JSON keeps its spelling (``1.50``, ``1e5``)."""
    stripped = value.strip()
    if _INTEGER.fullmatch(stripped):
        if _JSON_NUMBER.fullmatch(stripped):
            return stripped
        digits = stripped.lstrip("+-").lstrip("0") or "0"
        return "-" + digits if stripped.startswith("-") else digits
    if _DECIMAL.fullmatch(stripped) and math.isfinite(float(stripped)):
        return stripped if _JSON_NUMBER.fullmatch(stripped) else repr(float(stripped))
    return None


_INVALID = object()


def _parse_json(value: str) -> Any:
    """The value as JSON: an object or array written as leniently as .NET accepts, or any
    strict JSON value; ``_INVALID`` otherwise."""
    container = parse_container(value)
    if container is not None:
        return container
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError):
        return _INVALID


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class _Layout:
    """How the replaced object or array was laid out: on one line, or indented."""

    multiline: bool
    base: str  # the indentation of the line it starts on
    unit: str  # one level of indentation inside it
    newline: str

    @classmethod
    def of(cls, text: str, start: int, end: int) -> _Layout:
        span = text[start:end]
        line_start = text.rfind("\n", 0, start) + 1
        base = re.match(r"[ \t]*", text[line_start:start]).group()  # type: ignore[union-attr]
        newline = "\r\n" if "\r\n" in span else "\n"
        inner = re.search(r"\n([ \t]*)\S", span)
        unit = "  "
        if inner and inner.group(1).startswith(base) and len(inner.group(1)) > len(base):
            unit = inner.group(1)[len(base) :]
        return cls("\n" in span, base, unit, newline)


def _render(value: Any, layout: _Layout, indent: str) -> str:
    """JSON text for a parsed value, laid out like the text it replaces."""
    if isinstance(value, dict):
        items = [f"{json.dumps(k, ensure_ascii=False)}: " for k in value]
        children = list(value.values())
        opening, closing = "{", "}"
    elif isinstance(value, list):
        items = ["" for _ in value]
        children = value
        opening, closing = "[", "]"
    else:
        return _render_scalar(value)
    if not children:
        return opening + closing
    inner = indent + layout.unit
    pairs = zip(items, children, strict=True)
    rendered = [key + _render(child, layout, inner) for key, child in pairs]
    if not layout.multiline:
        return opening + ", ".join(rendered) + closing
    newline = layout.newline
    body = f",{newline}{inner}".join(rendered)
    return f"{opening}{newline}{inner}{body}{newline}{indent}{closing}"


def _render_scalar(value: Any) -> str:
    if isinstance(value, JsonNumber):
        return str(value) if _JSON_NUMBER.fullmatch(value) else _number_text(value) or "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def _encodable(text: str, decoded: DecodedText) -> str:
    """``text`` with \\u escapes for what the file's encoding cannot hold; JSON text only
    has non-ASCII characters inside strings, where the escapes mean the same."""
    if text.isascii():
        return text
    try:
        decoded.encode(text)
    except UnicodeEncodeError:
        return "".join(char if _can_encode(char, decoded) else _escape(char) for char in text)
    return text


def _can_encode(char: str, decoded: DecodedText) -> bool:
    try:
        decoded.encode(char)
    except UnicodeEncodeError:
        return False
    return True


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
