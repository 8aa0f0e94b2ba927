"""Structured configuration variables in YAML files, edited in place.

Paths are flattened as for JSON (``Servers:0:Port``, case-insensitive). The file is composed
with ruamel.yaml only to learn where each value is written; the new text is spliced into
those spans, so comments, key order, indentation and everything not replaced stay as written.

- A scalar keeps its style: plain, single-quoted, double-quoted, literal ``|`` or folded
  ``>``. When the value cannot be written in that style (a plain ``a: b``, a line break in
  a single-quoted scalar, a character the file's encoding lacks) it is double-quoted. An
  empty value in place of a plain scalar is written ``null``, as an empty plain scalar
  means; inside a flow collection it is ``''``.
- A mapping or sequence is replaced by the value parsed as YAML, written in flow style on
  one line (``{a: 1, b: [x]}``): no indentation to get wrong. A value that is not a mapping
  or sequence is written as a double-quoted string.
- Anchors stay: a replaced anchored node keeps its ``&name``, so every alias of it sees the
  new value. A path that reaches a node through an alias (``*name``) is not replaced, since
  that would change the anchored node elsewhere in the file; a warning says so.
- Every document of a multi-document file is treated alike: a path is replaced in each
  document where it exists.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from steptemplates.encodings import DecodedText, decode
from steptemplates.execution.config.structured_base import NotThisFormat, Replaced, Warn
from steptemplates.execution.config.structured_json import config_variables, leading_paths

_NULL_TAG = "tag:yaml.org,2002:null"
_COLON = re.compile(r"\s*:")
_SPACE_OR_COMMENT = re.compile(r"(?:[ \t\r\n]+|#[^\r\n]*)*")
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*")
_INDENTED_LINE = re.compile(r"\n([ ]*)[^ \r\n]")
_LINE_OPENING = re.compile(r"[ ]*(?:-[ ]+)*")
_DOUBLE_QUOTED_ESCAPES = {
    "\\": "\\\\", '"': '\\"', "\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n",
    "\v": "\\v", "\f": "\\f", "\r": "\\r", "\x1b": "\\e", "\x85": "\\N", "\u2028": "\\L",
    "\u2029": "\\P",
}  # fmt: skip


def replace(data: bytes, variables: Mapping[str, str], *, warn: Warn) -> Replaced:
    """Replace the values whose path matches a variable; raise NotThisFormat if not YAML."""
    decoded = decode(data)
    documents = _compose_all(decoded.text)
    targets = config_variables(variables)
    if not targets:
        return Replaced(data, ())
    editor = _Editor(decoded, targets)
    for document in documents:
        editor.visit(document, "", _Place())
    for message in editor.warnings:
        warn(message)
    if not editor.matched:
        return Replaced(data, ())
    text = decoded.text
    pieces: list[str] = []
    position = 0
    for edit in sorted(editor.edits, key=lambda edit: edit.start):
        pieces += [text[position : edit.start], edit.text]
        position = edit.end
    pieces.append(text[position:])
    return Replaced(decoded.encode("".join(pieces)), tuple(dict.fromkeys(editor.matched)))


def _compose_all(text: str) -> list[Node]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel warns about reused anchors; they are valid
            return [node for node in _loader().compose_all(text) if node is not None]
    except YAMLError as error:
        raise NotThisFormat(_describe(error)) from None


def _loader() -> YAML:
    return YAML(typ="safe", pure=True)


def _describe(error: YAMLError) -> str:
    if isinstance(error, MarkedYAMLError):
        problem = error.problem or error.context or "invalid YAML"
        mark = error.problem_mark or error.context_mark
        if mark is not None:
            return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
        return str(problem)
    return " ".join(str(error).split())


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Place:
    """Where a node sits: the key it is the value of (None in a sequence or at the root),
    whether it is a sequence item, and whether it is inside a flow collection."""

    key: ScalarNode | None = None
    in_sequence: bool = False
    flow: bool = False


class _Editor:
    def __init__(self, decoded: DecodedText, targets: dict[str, tuple[str, str]]) -> None:
        self.decoded = decoded
        self.text = decoded.text
        self.targets = targets
        self.prefixes = leading_paths(targets)
        self.edits: list[_Edit] = []
        self.matched: list[str] = []
        self.warnings: list[str] = []

    # --- walking -----------------------------------------------------------------------

    def visit(self, node: Node, path: str, place: _Place) -> None:
        if path in self.targets:
            self.replace(node, path, place)
        elif path in self.prefixes:
            if isinstance(node, MappingNode):
                self.visit_mapping(node, path, place.flow or bool(node.flow_style))
            elif isinstance(node, SequenceNode):
                self.visit_sequence(node, path, place.flow or bool(node.flow_style))

    def visit_mapping(self, node: MappingNode, path: str, flow: bool) -> None:
        # A node written here starts after everything before it; one that starts earlier is
        # an alias of a node written elsewhere.
        floor = node.start_mark.index
        for key, value in node.value:
            if key.start_mark.index >= floor:
                floor = key.end_mark.index
            if not isinstance(key, ScalarNode):
                continue
            child = _join(path, key.value.casefold())
            if value.start_mark.index < floor:
                self.alias(child, value)
                continue
            floor = value.end_mark.index
            self.visit(value, child, _Place(key=key, flow=flow))

    def visit_sequence(self, node: SequenceNode, path: str, flow: bool) -> None:
        floor = node.start_mark.index
        for index, item in enumerate(node.value):
            child = _join(path, str(index))
            if item.start_mark.index <= floor:
                self.alias(child, item)
                continue
            floor = item.end_mark.index
            self.visit(item, child, _Place(in_sequence=True, flow=flow))

    def alias(self, path: str, node: Node) -> None:
        reached = [name for key, (name, _) in self.targets.items() if _within(key, path)]
        for name in reached:
            self.warnings.append(
                f"Unable to set value for {name}: it is reached through the alias "
                f"*{node.anchor}; set it where &{node.anchor} is defined instead"
            )

    # --- replacing ---------------------------------------------------------------------

    def replace(self, node: Node, path: str, place: _Place) -> None:
        name, value = self.targets[path]
        self.matched.append(name)
        if isinstance(node, ScalarNode):
            self.replace_scalar(node, value, place)
        elif isinstance(node, (MappingNode, SequenceNode)):
            self.replace_collection(node, value, place)

    def replace_scalar(self, node: ScalarNode, value: str, place: _Place) -> None:
        start = _after_properties(self.text, node.start_mark.index, node.end_mark.index)
        end = node.end_mark.index
        if node.value == value:
            return
        if node.style in ("|", ">"):
            self.replace_block(node, value, start)
        elif start == end:
            self.insert_empty(node, self.plain(value, place.flow), start, place)
        elif node.style == "'" and value.isprintable() and self.fits(value):
            self.edit(start, end, "'" + value.replace("'", "''") + "'")
        elif node.style is None:
            self.edit(start, end, self.plain(value, place.flow))
        else:
            self.edit(start, end, self.double_quoted(value))

    def plain(self, value: str, flow: bool) -> str:
        if not value:
            return "''" if flow else "null"
        if _plain_tag(value, flow) is not None and self.fits(value):
            return value
        return self.double_quoted(value)

    def insert_empty(self, node: ScalarNode, rendered: str, start: int, place: _Place) -> None:
        """A value left empty (``key:``): its position is after the ``:`` or ``-``."""
        text = self.text
        position = start
        if start == node.start_mark.index and place.key is not None:
            colon = _COLON.match(text, place.key.end_mark.index)
            if colon is None:  # ``{a, b: 1}``: a key without ``:``
                self.edit(place.key.end_mark.index, place.key.end_mark.index, ": " + rendered)
                return
            position = colon.end()
        elif start == node.start_mark.index and place.in_sequence:
            back = position
            while back > 0 and text[back - 1] in " \t\r\n":
                back -= 1
            if text[back - 1 : back] == "-":
                position = back
        separator = "" if text[position - 1 : position] in (" ", "\t") else " "
        self.edit(position, position, separator + rendered)

    def replace_block(self, node: ScalarNode, value: str, start: int) -> None:
        text = self.text
        end = node.end_mark.index
        header_end = text.find("\n", start, end)
        header_end = end if header_end == -1 else header_end
        header = text[start:header_end]
        newline = "\r\n" if header.endswith("\r") else "\n"
        content_end = _last_content_line_end(text, header_end, end)
        # At the end of a file without a final line break, nothing may add one.
        unterminated = content_end == len(text) and not text.endswith(("\n", "\r"))
        block = _block_lines(value, folded=node.style == ">")
        if block is None or not self.fits(value):
            rendered = self.double_quoted(value) + ("" if unterminated else newline)
            self.edit(start, content_end, rendered)
            return
        style = ">" if block.folded else "|"
        comment = header[_BLOCK_HEADER.match(header).end() :].rstrip("\r")  # type: ignore[union-attr]
        indent = _content_indent(text, start, header_end, end)
        body = "".join((indent + line if line else "") + newline for line in block.lines)
        rendered = f"{style}{block.chomp}{comment}{newline}{body}"
        if block.chomp == "+":
            content_end = end  # the blank lines after the old value belonged to it
        elif block.chomp == "-" and unterminated:
            rendered = rendered.removesuffix(newline)
        self.edit(start, content_end, rendered)

    def replace_collection(
        self, node: MappingNode | SequenceNode, value: str, place: _Place
    ) -> None:
        text = self.text
        rendered = self.fragment(value)
        start = _after_properties(text, node.start_mark.index, node.end_mark.index)
        if node.flow_style:
            self.edit(start, node.end_mark.index, rendered)
            return
        end = _trim_trailing(text, start, node.end_mark.index)
        joined = self.join_point(node, start, place)
        if joined is not None:
            self.edit(joined, end, " " + rendered)
            return
        # A block sequence may sit at its key's column; a flow one must be indented past it.
        padding = ""
        if place.key is not None:
            shortfall = place.key.start_mark.column + 2 - _column(text, start)
            padding = " " * max(shortfall, 0)
        self.edit(start, end, padding + rendered)

    def join_point(self, node: Node, start: int, place: _Place) -> int | None:
        """Where a block collection's replacement can go on the line of its key (``key:``
        or its ``&anchor``), or None when a comment stands in between."""
        if place.key is None:
            return None
        text = self.text
        properties = node.start_mark.index
        if properties < start:  # an anchor or tag: keep it, and write after it
            if "#" in text[properties:start]:
                return None
            position = start
            while text[position - 1] in " \t\r\n":
                position -= 1
            return position
        colon = _COLON.match(text, place.key.end_mark.index)
        if colon is None or text[colon.end() : start].strip():
            return None
        return colon.end()

    # --- rendering ---------------------------------------------------------------------

    def double_quoted(self, value: str) -> str:
        pieces = []
        for char in value:
            if char in _DOUBLE_QUOTED_ESCAPES:
                pieces.append(_DOUBLE_QUOTED_ESCAPES[char])
            elif char.isprintable() and (char.isascii() or self.fits(char)):
                pieces.append(char)
            else:
                pieces.append(_escape(char))
        return '"' + "".join(pieces) + '"'

    def fragment(self, value: str) -> str:
        """The value parsed as YAML, as a one-line flow mapping or sequence; a double-quoted
        string when it is not one."""
        node = _compose_fragment(value)
        if isinstance(node, (MappingNode, SequenceNode)):
            try:
                return self.flow(node)
            except RecursionError:  # an alias inside itself: ``&a [*a]``
                pass
        return self.double_quoted(value)

    def flow(self, node: Node) -> str:
        if isinstance(node, MappingNode):
            pairs = (f"{self.flow(key)}: {self.flow(value)}" for key, value in node.value)
            return "{" + ", ".join(pairs) + "}"
        if isinstance(node, SequenceNode):
            return "[" + ", ".join(self.flow(item) for item in node.value) + "]"
        assert isinstance(node, ScalarNode)  # the composer makes nothing else
        if node.style is None and node.tag == _NULL_TAG and not node.value:
            return "null"
        plain = node.style is None and _plain_tag(node.value, True) == node.tag
        return node.value if plain and self.fits(node.value) else self.double_quoted(node.value)

    def fits(self, text: str) -> bool:
        if text.isascii():
            return True
        try:
            self.decoded.encode(text)
        except UnicodeEncodeError:
            return False
        return True

    def edit(self, start: int, end: int, text: str) -> None:
        self.edits.append(_Edit(start, end, text))


def _join(path: str, segment: str) -> str:
    return f"{path}:{segment}" if path else segment


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ":")


def _column(text: str, position: int) -> int:
    return position - text.rfind("\n", 0, position) - 1


def _after_properties(text: str, start: int, end: int) -> int:
    """Where a node's content starts, after its ``&anchor`` and ``!tag``."""
    position = start
    while position < end and text[position] in "&!":
        if text.startswith("!<", position):
            position = text.index(">", position) + 1
        else:
            while position < end and text[position] not in " \t\r\n,[]{}":
                position += 1
        position = min(_SPACE_OR_COMMENT.match(text, position).end(), end)  # type: ignore[union-attr]
    return position


def _trim_trailing(text: str, start: int, end: int) -> int:
    """The end of a block collection's last value: without the blank and comment-only
    lines that the parser counts as part of it."""
    while True:
        while end > start and text[end - 1] in " \t\r\n":
            end -= 1
        line_start = text.rfind("\n", start, end) + 1
        if line_start > start and text[line_start:end].lstrip(" \t").startswith("#"):
            end = line_start
            continue
        return end


def _last_content_line_end(text: str, header_end: int, end: int) -> int:
    """After the line break of a block scalar's last non-blank line (or of its header)."""
    position = end
    while position > header_end and text[position - 1] in " \t\r\n":
        position -= 1
    line_break = text.find("\n", position, end)
    return end if line_break == -1 else line_break + 1


def _content_indent(text: str, start: int, header_end: int, end: int) -> str:
    """The indentation of a block scalar's content; for an empty one, two more than the
    node it belongs to (past any ``- `` entries that open its line)."""
    found = _INDENTED_LINE.search(text, header_end, end)
    if found:
        return found.group(1)
    line_start = text.rfind("\n", 0, start) + 1
    opening = _LINE_OPENING.match(text, line_start, start)
    return " " * (opening.end() - line_start + 2)  # type: ignore[union-attr]


@dataclass(frozen=True)
class _BlockLines:
    lines: list[str]
    chomp: str  # "-" strip, "" clip, "+" keep
    folded: bool


def _block_lines(value: str, *, folded: bool) -> _BlockLines | None:
    """The content lines of a block scalar holding ``value``, or None when a block scalar
    cannot hold it (control characters, a leading space, nothing but line breaks)."""
    core = value.rstrip("\n")
    trailing = len(value) - len(core)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    if (not core and trailing) or not all(char.isprintable() or char in "\t\n" for char in value):
        return None
    lines = core.split("\n")
    if next((line for line in lines if line), "").startswith(" "):
        return None  # the parser would take the leading space for indentation
    if folded and any(line.startswith((" ", "\t")) for line in lines):
        folded = False  # more-indented lines do not fold; a literal block says it plainly
    if folded:
        # In a folded scalar a single line break reads as a space: n line breaks are
        # written as n empty lines.
        lines = []
        for piece in re.split(r"(\n+)", core):
            lines.extend([""] * len(piece) if piece.startswith("\n") else [piece])
    return _BlockLines(lines + [""] * max(trailing - 1, 0), chomp, folded)


@functools.lru_cache(maxsize=1024)
def _plain_tag(value: str, flow: bool) -> str | None:
    """The tag ``value`` resolves to when written plain, or None when it cannot be written
    plain in that context (the parser would read something else)."""
    if not value or value != value.strip() or not value.isprintable():
        return None
    node = _compose_fragment(f"[{value}]" if flow else f"- {value}")
    if not isinstance(node, SequenceNode) or len(node.value) != 1:
        return None
    item = node.value[0]
    if isinstance(item, ScalarNode) and item.style is None and item.value == value:
        return str(item.tag)
    return None


def _compose_fragment(text: str) -> Node | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node: Node | None = _loader().compose(text)
    except YAMLError:
        return None
    return node


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
