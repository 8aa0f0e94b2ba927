"""JSON-valued variables: lenient parsing and compact output, as Octostache reads and prints them.

Octopus users write variable values like ``{Name: "web", Port: 8080}`` (unquoted keys,
as Newtonsoft.Json accepts), so the parser is lenient about keys, single quotes and trailing
commas. Numbers keep the text they were written with, so ``15.21`` prints as ``15.21``.
"""

from __future__ import annotations

import functools
import json
from typing import Any


class JsonNumber(str):
    """A number, kept as written."""


class _Invalid(Exception):
    pass


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}  # fmt: skip
_KEY_STOPS = frozenset(":,{}[]\"' \t\r\n")


@functools.lru_cache(maxsize=512)
def parse_container(text: str) -> dict[str, Any] | list[Any] | None:
    """The object or array ``text`` holds, or None when it is not one (or not valid JSON)."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    parser = _Parser(stripped)
    try:
        value = parser.value()
        parser.skip()
    except (_Invalid, IndexError):
        return None
    if parser.pos != len(stripped):
        return None
    return value


def child(container: Any, key: str) -> tuple[bool, Any]:
    """(found, value) for a property or an array index; a null property counts as found."""
    if isinstance(container, dict):
        if key in container:
            return True, container[key]
        folded = key.casefold()
        for name, value in container.items():
            if name.casefold() == folded:
                return True, value
        return False, None
    if isinstance(container, list):
        if not key.isdigit():
            return False, None
        position = int(key)
        return (True, container[position]) if position < len(container) else (True, None)
    return False, None


def to_text(value: Any) -> str:
    """A value as a variable's text: scalars plainly, containers as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return str(value)
    return _compact(value)


def _compact(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, JsonNumber):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    items = (json.dumps(k, ensure_ascii=False) + ":" + _compact(v) for k, v in value.items())
    return "{" + ",".join(items) + "}"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos] in " \t\r\n":
            self.pos += 1

    def value(self) -> Any:
        self.skip()
        char = self.text[self.pos]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char in "\"'":
            return self.string()
        return self.bare()

    def object(self) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            self.skip()
            if self.text[self.pos] == "}":
                self.pos += 1
                return result
            key = self.string() if self.text[self.pos] in "\"'" else self.key()
            self.skip()
            if self.text[self.pos] != ":":
                raise _Invalid
            self.pos += 1
            result[key] = self.value()
            if not self.separator("}"):
                return result

    def array(self) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            self.skip()
            if self.text[self.pos] == "]":
                self.pos += 1
                return result
            result.append(self.value())
            if not self.separator("]"):
                return result

    def separator(self, closing: str) -> bool:
        """After an item: True when another may follow, False after the closing bracket."""
        self.skip()
        char = self.text[self.pos]
        self.pos += 1
        if char == ",":
            return True
        if char == closing:
            return False
        raise _Invalid

    def key(self) -> str:
        start = self.pos
        while self.text[self.pos] not in _KEY_STOPS:
            self.pos += 1
        if self.pos == start:
            raise _Invalid
        return self.text[start : self.pos]

    def string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while True:
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char != "\\":
                out.append(char)
                continue
            escape = self.text[self.pos]
            self.pos += 1
            if escape == "u":
                out.append(chr(int(self.text[self.pos : self.pos + 4], 16)))
                self.pos += 4
            elif escape in _ESCAPES:
                out.append(_ESCAPES[escape])
            else:
                raise _Invalid

    def bare(self) -> Any:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",}] \t\r\n":
            self.pos += 1
        word = self.text[start : self.pos]
        if word == "true":
            return True
        if word == "false":
            return False
        if word == "null":
            return None
        try:
            float(word)
        except ValueError:
            raise _Invalid from None
        if "_" in word or word.lower() in ("nan", "inf", "infinity", "-inf", "+inf"):
            raise _Invalid
        return JsonNumber(word)
