"""Reading TOML files people write by hand, with errors that point at the file and line.

``tomllib`` reports syntax errors with a line and column but knows nothing about our
schema; ``Table`` checks types and unknown keys and finds the line a key is on, so a typo in
``steps.toml`` or ``steptemplate.toml`` is reported as ``steps.toml:12: ...``.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import tomllib
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steptemplates.errors import StepsError

KeyPath = tuple[str | int, ...]

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = " (at end of document)"


@dataclass(frozen=True)
class TomlDocument:
    """A parsed file plus the text, kept to locate keys for error messages."""

    path: Path
    display: str
    text: str
    data: dict[str, Any]

    def error(self, key_path: KeyPath, message: str, *, hint: str | None = None) -> StepsError:
        # key_lines also knows the elements of inline arrays (one per line in an index);
        # locate_key finds the nearest enclosing key when the exact one is not written.
        line = key_lines(self.text).get(tuple(key_path)) or locate_key(self.text, key_path)
        where = f"{self.display}:{line}" if line else self.display
        return StepsError(f"{where}: {message}", hint=hint)

    def root(self) -> Table:
        return Table(self, (), self.data)


def load(path: Path, *, display: str | None = None) -> TomlDocument:
    """Parse ``path``; a missing file or a syntax error becomes a one-line StepsError."""
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StepsError(f"{shown}: file not found") from None
    except UnicodeDecodeError as exc:
        raise StepsError(f"{shown}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise StepsError(f"{shown}: cannot read ({exc.strerror})") from None
    return parse(text, path=path, display=shown)


def parse(text: str, *, path: Path, display: str) -> TomlDocument:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _POSITION.search(message)
        if match:
            line, column = match.groups()
            message = message[: match.start()]
            raise StepsError(
                f"{display}:{line}:{column}: invalid TOML: {message[0].lower()}{message[1:]}"
            ) from None
        if message.endswith(_AT_END):
            message = message.removesuffix(_AT_END)
            last = max(len(text.splitlines()), 1)
            raise StepsError(
                f"{display}:{last}: invalid TOML at the end of the file: "
                f"{message[0].lower()}{message[1:]}"
            ) from None
        raise StepsError(f"{display}: invalid TOML: {message}") from None
    return TomlDocument(path=path, display=display, text=text, data=data)


class Table:
    """Typed, checked access to one TOML table; every error names file, line and key."""

    def __init__(self, doc: TomlDocument, key_path: KeyPath, data: dict[str, Any]) -> None:
        self.doc = doc
        self.key_path = key_path
        self.data = data
        self._seen: set[str] = set()

    @property
    def label(self) -> str:
        return format_key_path(self.key_path)

    def error(self, key: str | None, message: str, *, hint: str | None = None) -> StepsError:
        path = (*self.key_path, key) if key is not None else self.key_path
        return self.doc.error(path, message, hint=hint)

    def _get(self, key: str) -> Any:
        self._seen.add(key)
        return self.data.get(key)

    def _describe(self, key: str) -> str:
        return format_key_path((*self.key_path, key))

    def string(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self._get(key)
        if value is None:
            if required:
                raise self.error(None, f"'{self._describe(key)}' is required")
            return default
        if not isinstance(value, str):
            raise self.error(key, f"'{self._describe(key)}' must be a string")
        return value

    def required_string(self, key: str) -> str:
        value = self.string(key, required=True)
        assert value is not None
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"'{self._describe(key)}' must be true or false")
        return value

    def scalar_text(self, key: str) -> str | None:
        """A string, number or boolean value as text (booleans as ``True``/``False``)."""
        value = self._get(key)
        if value is None:
            return None
        text = scalar_to_text(value)
        if text is None:
            raise self.error(key, f"'{self._describe(key)}' must be a string, number or boolean")
        return text

    def strings(self, key: str) -> tuple[str, ...]:
        """An array of non-empty strings; absent means empty."""
        value = self._get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"'{self._describe(key)}' must be an array of strings")
        if not all(v.strip() for v in value):
            raise self.error(key, f"'{self._describe(key)}' holds an empty string")
        return tuple(value)

    def raw(self, key: str) -> Any:
        return self._get(key)

    def table(self, key: str) -> Table | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"'{self._describe(key)}' must be a table")
        return Table(self.doc, (*self.key_path, key), value)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``); absent means empty."""
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(key, f"'{self._describe(key)}' must be an array of tables")
        return [Table(self.doc, (*self.key_path, key, i), v) for i, v in enumerate(value)]

    def subtables(self) -> Iterator[tuple[str, Table]]:
        """Every key of this table, each of which must itself be a table."""
        for key, value in self.data.items():
            self._seen.add(key)
            if not isinstance(value, dict):
                raise self.error(key, f"'{self._describe(key)}' must be a table")
            yield key, Table(self.doc, (*self.key_path, key), value)

    def reject_unknown(self, allowed: Sequence[str] | None = None) -> None:
        """Fail on a key that was not read (or not in ``allowed``), suggesting close matches."""
        known = set(allowed) if allowed is not None else self._seen
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f"did you mean '{close[0]}'?" if close else None
                where = f" in [{self.label}]" if self.key_path else ""
                expected = ", ".join(sorted(known)) or "none"
                raise self.error(
                    key,
                    f"unknown key '{key}'{where}",
                    hint=hint or f"expected one of: {expected}",
                )


def scalar_to_text(value: Any) -> str | None:
    """How TOML scalars become variable values: booleans as .NET prints them."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None


def quote(value: str) -> str:
    """A TOML basic string; escapes only what TOML requires, so output is canonical."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def format_key_path(key_path: KeyPath) -> str:
    parts: list[str] = []
    for part in key_path:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            parts.append(part)
        else:
            parts.append(f'"{part}"')
    return ".".join(parts)


# --- locating keys in the text (best effort; only used to put a line number in errors) ---

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(?:#.*)?$")


def _split_key(text: str) -> list[str]:
    """Split a (possibly dotted, possibly quoted) TOML key into its parts."""
    parts: list[str] = []
    current = ""
    quote: str | None = None
    for char in text:
        if quote:
            if char == quote:
                quote = None
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _key_of_line(line: str) -> list[str] | None:
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "=":
            key = line[:index].strip()
            return _split_key(key) if key and not key.startswith("#") else None
    return None


def locate_key(text: str, key_path: KeyPath) -> int | None:
    """The 1-based line where ``key_path`` is defined, or the closest enclosing line found."""
    target = tuple(key_path)
    array_counts: dict[tuple[str, ...], int] = {}
    current: KeyPath = ()
    best: tuple[int, int] | None = None  # (matched prefix length, line)

    def consider(candidate: KeyPath, line_no: int) -> None:
        nonlocal best
        # A table known only through its subtables' headers is where the first of them is.
        matched = len(target) if candidate[: len(target)] == target else len(candidate)
        if candidate[:matched] == target[:matched] and (best is None or matched > best[0]):
            best = (matched, line_no)

    def with_indexes(names: list[str]) -> KeyPath:
        # A table header below an array of tables refers to the array's latest element.
        result: list[str | int] = []
        for i in range(len(names)):
            result.append(names[i])
            prefix = tuple(names[: i + 1])
            if prefix in array_counts and i < len(names) - 1:
                result.append(array_counts[prefix] - 1)
        return tuple(result)

    for line_no, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            names = _split_key(header.group(2))
            if header.group(1) == "[[":
                array_key = tuple(names)
                array_counts[array_key] = array_counts.get(array_key, 0) + 1
                current = (*with_indexes(names), array_counts[array_key] - 1)
            else:
                current = with_indexes(names)
            consider(current, line_no)
            continue
        parts = _key_of_line(line)
        if parts is not None:
            consider((*current, *parts), line_no)
    return best[1] if best and best[0] > 0 else None


# --- the line of every key at once (for files with many entries, and array elements) -------

_TOKEN = re.compile(
    r'''(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""(?:"{0,2})'''
    r"|'''(?:[^']|'(?!''))*'''(?:'{0,2})"
    r"""|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
    r"|(?P<comment>#[^\n]*)|(?P<newline>\n)|(?P<punct>[\[\]{}=,.])|(?P<space>[ \t\r]+)"
    r"|(?P<bare>[^\s\[\]{}=,.\"'#]+)",
    re.DOTALL,
)
_Token = tuple[str, str, int]  # kind, text, offset


def key_lines(text: str) -> dict[KeyPath, int]:
    """The 1-based line of every key, table header and array element of valid TOML.

    ``locate_key`` scans the whole text per key, which is fine for one error; this reads the
    text once, so a file with thousands of variables can keep the line of each, and it
    knows the elements of inline arrays (``X = [ {...}, {...} ]``), one per line or not.
    Best effort: on text it cannot follow it returns what it found so far.
    """
    index = _LineIndex(text)
    with contextlib.suppress(IndexError):  # only for messages: partial is better than none
        index.document()
    return index.lines


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.tokens: list[_Token] = [
            (match.lastgroup or "", match.group(), match.start())
            for match in _TOKEN.finditer(text)
            if match.lastgroup not in ("space", "comment")
        ]
        self.breaks = [match.start() for match in re.finditer("\n", text)]
        self.pos = 0
        self.lines: dict[KeyPath, int] = {}
        self.array_counts: dict[tuple[str, ...], int] = {}

    def document(self) -> None:
        table: KeyPath = ()
        while self.pos < len(self.tokens):
            if self._at("newline"):
                self.pos += 1
            elif self._at("punct", "["):
                table = self._header()
            else:
                self._pair(table, top=True)

    def _at(self, kind: str, text: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        token = self.tokens[self.pos]
        return token[0] == kind and (text is None or token[1] == text)

    def _line(self) -> int:
        return bisect_left(self.breaks, self.tokens[self.pos][2]) + 1

    def _record(self, path: KeyPath, line: int) -> None:
        self.lines.setdefault(path, line)

    def _header(self) -> KeyPath:
        line = self._line()
        start = self.tokens[self.pos][2]
        self.pos += 1
        double = self._at("punct", "[") and self.tokens[self.pos][2] == start + 1
        if double:
            self.pos += 1
        names = self._key()
        self.pos += 2 if double else 1  # the closing bracket(s)
        path = self._with_indexes(names)
        if double:
            array = tuple(names)
            self.array_counts[array] = self.array_counts.get(array, 0) + 1
            path = (*path, self.array_counts[array] - 1)
        self._record(path, line)
        return path

    def _with_indexes(self, names: list[str]) -> KeyPath:
        # A header below an array of tables refers to the array's latest element.
        result: list[str | int] = []
        for i, name in enumerate(names):
            result.append(name)
            prefix = tuple(names[: i + 1])
            if prefix in self.array_counts and i < len(names) - 1:
                result.append(self.array_counts[prefix] - 1)
        return tuple(result)

    def _key(self) -> list[str]:
        parts = [self._key_part()]
        while self._at("punct", "."):
            self.pos += 1
            parts.append(self._key_part())
        return parts

    def _key_part(self) -> str:
        kind, text, _ = self.tokens[self.pos]
        self.pos += 1
        if kind != "string":
            return text
        if text.startswith('"') and "\\" in text:
            return str(tomllib.loads(f"k = {text}")["k"])  # escapes: let tomllib decode them
        return text[1:-1]

    def _pair(self, table: KeyPath, *, top: bool) -> None:
        line = self._line()
        path = (*table, *self._key())
        self._record(path, line)
        self.pos += 1  # "="
        self._value(path, top=top)

    def _value(self, path: KeyPath, *, top: bool) -> None:
        if self._at("punct", "["):
            self._array(path)
        elif self._at("punct", "{"):
            self._inline_table(path)
        elif self._at("string"):
            self.pos += 1
        else:
            # Numbers, booleans and dates: tokens up to the end of the line, or of the element.
            while self.pos < len(self.tokens) and not (
                self._at("newline") or (not top and self.tokens[self.pos][1] in ",]}")
            ):
                self.pos += 1

    def _array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self._skip_newlines()
            if self._at("punct", "]"):
                self.pos += 1
                return
            self._record((*path, index), self._line())
            self._value((*path, index), top=False)
            self._skip_newlines()
            if self._at("punct", ","):
                self.pos += 1
            index += 1

    def _inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while True:
            self._skip_newlines()
            if self._at("punct", "}"):
                self.pos += 1
                return
            self._pair(path, top=False)
            self._skip_newlines()
            if self._at("punct", ","):
                self.pos += 1

    def _skip_newlines(self) -> None:
        while self._at("newline"):
            self.pos += 1
