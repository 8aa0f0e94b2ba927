"""Structured configuration variables in Java ``.properties`` files, edited in place.

A variable replaces the value of the key it names exactly (compared case-insensitively);
variables whose name starts with ``Octopus`` are never applied. The file is parsed the way
``java.util.Properties.load`` reads it: ``#`` and ``!`` comment lines, keys ending at an
unescaped ``=``, ``:`` or whitespace, backslash escapes, and lines continued by a trailing
backslash. Only the replaced values change; the new value is written on one line, escaped
so that Java reads it back as given. A key written without a separator (``key``) becomes
``key:value``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from steptemplates.encodings import DecodedText, decode
from steptemplates.execution.config.structured_base import (
    NotThisFormat,
    Replaced,
    Warn,
    casefold_index,
)

_NATURAL_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")
_WHITESPACE = " \t\f"
_KEY_ENDS = "=: \t\f"
_ESCAPED = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}


def replace(data: bytes, variables: Mapping[str, str], *, warn: Warn) -> Replaced:
    """Replace the values of keys named by a variable; raise NotThisFormat on a malformed
    file (a bad ``\\uXXXX`` escape, binary content)."""
    decoded = decode(data)
    text = decoded.text
    targets = {
        key: entry
        for key, entry in casefold_index(variables).items()
        if not key.startswith("octopus")
    }
    pieces: list[str] = []
    names: list[str] = []
    position = 0
    for entry in _entries(text):
        if entry.key.casefold() not in targets:
            continue
        name, value = targets[entry.key.casefold()]
        names.append(name)
        escaped = _escape_value(value, decoded)
        if not entry.separated and escaped:
            escaped = ":" + escaped
        pieces += [text[position : entry.value_start], escaped]
        position = entry.value_end
    if not names:
        return Replaced(data, ())
    pieces.append(text[position:])
    return Replaced(decoded.encode("".join(pieces)), tuple(dict.fromkeys(names)))


@dataclass(frozen=True)
class _Entry:
    key: str  # unescaped
    value_start: int  # where the value is written (or would be, when it is empty)
    value_end: int  # the end of the logical line, before its line break
    separated: bool  # whether anything (=, : or whitespace) follows the key


@dataclass(frozen=True)
class _LogicalLine:
    """A key-value line with its continuation lines joined, as Java reads it, and where
    each of its characters is written in the file."""

    text: str
    offsets: list[int]
    end: int  # the end of its last natural line, before the line break
    number: int  # the line number where it starts


def _entries(text: str) -> Iterator[_Entry]:
    for line in _logical_lines(text):
        yield _entry(line)


def _logical_lines(text: str) -> Iterator[_LogicalLine]:
    chars: list[str] = []
    offsets: list[int] = []
    start_number = 0
    continuing = False
    for number, match in enumerate(_NATURAL_LINE.finditer(text), start=1):
        content_start, content_end = match.span(1)
        if "\0" in match.group(1):
            raise NotThisFormat(f"binary content (a NUL character) at line {number}")
        position = content_start
        while position < content_end and text[position] in _WHITESPACE:
            position += 1
        if not continuing:
            if position == content_end or text[position] in "#!":
                if match.end() == len(text):
                    break
                continue  # a blank or comment line; it never continues
            chars, offsets, start_number = [], [], number
        content = text[position:content_end]
        continuing = _ends_with_continuation(content)
        if continuing:
            content = content[:-1]
        chars.append(content)
        offsets.extend(range(position, position + len(content)))
        if not continuing or match.end() == len(text):
            yield _LogicalLine("".join(chars), offsets, content_end, start_number)
            continuing = False
        if match.end() == len(text):
            break


def _ends_with_continuation(content: str) -> bool:
    """An odd number of trailing backslashes: the last one joins the next line."""
    trailing = len(content) - len(content.rstrip("\\"))
    return trailing % 2 == 1


def _entry(line: _LogicalLine) -> _Entry:
    text = line.text
    key: list[str] = []
    position = 0
    while position < len(text) and text[position] not in _KEY_ENDS:
        if text[position] == "\\":
            char, position = _unescape(line, position)
            key.append(char)
        else:
            key.append(text[position])
            position += 1
    key_end = position
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    if position < len(text) and text[position] in "=:":
        position += 1
        while position < len(text) and text[position] in _WHITESPACE:
            position += 1
    value_start = position
    while position < len(text):  # the value is not needed, but Java rejects a bad \u
        position = _unescape(line, position)[1] if text[position] == "\\" else position + 1
    start = line.offsets[value_start] if value_start < len(text) else line.end
    return _Entry("".join(key), start, line.end, key_end < len(text))


def _unescape(line: _LogicalLine, position: int) -> tuple[str, int]:
    """The character a backslash escape at ``position`` stands for, and the index after it."""
    text = line.text
    if position + 1 >= len(text):
        return "", position + 1
    char = text[position + 1]
    if char != "u":
        return _ESCAPED.get(char, char), position + 2
    digits = text[position + 2 : position + 6]
    if len(digits) < 4 or not all(digit in "0123456789abcdefABCDEF" for digit in digits):
        raise NotThisFormat(f"malformed \\uXXXX escape '\\u{digits}' at line {line.number}")
    return chr(int(digits, 16)), position + 6


def _escape_value(value: str, decoded: DecodedText) -> str:
    pieces = []
    for index, char in enumerate(value):
        if char in _ESCAPES:
            pieces.append(_ESCAPES[char])
        elif char == " " and index == 0:
            pieces.append("\\ ")  # a leading space would be read as part of the separator
        elif char.isprintable() and (char.isascii() or _fits(char, decoded)):
            pieces.append(char)
        else:
            pieces.append(_unicode_escape(char))
    return "".join(pieces)


def _fits(char: str, decoded: DecodedText) -> bool:
    try:
        decoded.encode(char)
    except UnicodeEncodeError:
        return False
    return True


def _unicode_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # Java strings are UTF-16: a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
