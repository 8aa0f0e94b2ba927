"""The built-in filters of the Octostache variable language: ``#{Value | Filter option ...}``.

Each filter is a small function from the argument (None when the expression has none, as in
``#{ | NowDate}``) and the evaluated option strings to the result. Where Octostache gives up
and returns null, so that the engine echoes the whole expression, a filter raises
FilterRejected with the reason, which the engine can report.

Octostache runs on .NET, so several filters reproduce .NET behaviour rather than Python's:
regular expressions and their replacement syntax, UTF-16 escapes, whitespace, and (in
``dotnet_format``) ``Uri`` parts and number and date formats.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from steptemplates.variables import dotnet_format as dotnet
from steptemplates.variables.filter_versions import (
    OctopusVersion,
    VersionParseError,
    parse_octopus_version,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token


class FilterRejected(Exception):
    """The filter cannot produce a value for this argument and these options. The engine then
    echoes the whole expression (as Octostache does) and reports str(error) as the reason,
    e.g. "Substring takes a length, or a start and a length, as non-negative integers"."""


class UnknownFilter(FilterRejected):
    """No filter of that name; the message suggests close names (difflib) when there are any."""


Filter = Callable[[str | None, Sequence[str]], str | None]

_FILTERS: dict[str, tuple[str, Filter]] = {}


def _filter(*names: str) -> Callable[[Filter], Filter]:
    """Register a filter under its canonical spelling(s); lookups ignore case."""

    def register(function: Filter) -> Filter:
        for name in names:
            _FILTERS[name.lower()] = (name, function)
        return function

    return register


def apply_filter(name: str, argument: str | None, options: Sequence[str]) -> str | None:
    """Apply built-in filter `name` (case-insensitive) to `argument` (None when the expression
    had no argument, e.g. `#{ | NowDate}`), with already-evaluated option strings.
    Returns the text; returns None only for the `null` filter. Raises FilterRejected (or
    UnknownFilter) whenever Octostache would return null / echo."""
    entry = _FILTERS.get(name.lower())
    if entry is None:
        raise UnknownFilter(_unknown_filter_message(name))
    return entry[1](argument, options)


def _unknown_filter_message(name: str) -> str:
    by_lower = {canonical.lower(): canonical for canonical, _ in _FILTERS.values()}
    close = difflib.get_close_matches(name.lower(), by_lower, n=3, cutoff=0.6)
    message = f"there is no filter named '{name}'"
    if close:
        message += "; did you mean " + " or ".join(f"'{by_lower[c]}'" for c in close) + "?"
    return message


# ---------------------------------------------------------------------------------------------
# Shared checks and .NET string rules

# What .NET's String.Trim removes (char.IsWhiteSpace), which is not quite Python's str.strip.
_DOTNET_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _needs_argument(name: str, argument: str | None) -> str:
    if argument is None:
        raise FilterRejected(f"{name} needs a value to work on")
    return argument


def _no_options(name: str, options: Sequence[str]) -> None:
    if options:
        raise FilterRejected(f"{name} takes no options")


def _one_option(name: str, options: Sequence[str], what: str) -> str:
    if len(options) != 1:
        raise FilterRejected(f"{name} takes exactly one option: {what}")
    return options[0]


def _well_formed(text: str) -> str:
    """Text as .NET encoders see it: a lone surrogate becomes U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _utf16_units(text: str) -> list[int]:
    """.NET strings are UTF-16: per-character escapes see both halves of a surrogate pair."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _text_encoding(name: str, option: str) -> str:
    encoding = {"utf8": "utf-8", "utf-8": "utf-8", "unicode": "utf-16-le"}.get(option.lower())
    if encoding is None:
        raise FilterRejected(f"{name} supports the encodings utf8 and unicode, not '{option}'")
    return encoding


def _from_base64(name: str, text: str) -> bytes:
    # Convert.FromBase64String ignores whitespace but insists on complete, padded groups.
    compact = re.sub(r"[\t\n\r ]", "", text)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise FilterRejected(f"{name} could not decode '{text}' as base64") from error


def _compile_regex(name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(_dotnet_pattern(pattern))
    except re.error as error:
        message = f"{name} could not use the regular expression '{pattern}': {error}"
        raise FilterRejected(message) from error


def _dotnet_pattern(pattern: str) -> str:
    """Rewrite the .NET-only spellings of a regular expression in Python's."""
    rewritten: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escape = pattern[index : index + 2]
            if escape == "\\z":
                rewritten.append("\\Z")
            elif escape == "\\Z":
                rewritten.append("(?=\\n?\\Z)")  # .NET's \Z also allows a final newline
            elif escape == "\\k" and pattern.startswith("<", index + 2):
                close = pattern.find(">", index)
                rewritten.append(f"(?P={pattern[index + 3 : close]})")
                index = close + 1
                continue
            else:
                rewritten.append(escape)
            index += 2
            continue
        named = re.match(r"\(\?(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')", pattern[index:])
        if named:
            rewritten.append(f"(?P<{named.group(1) or named.group(2)}>")
            index += named.end()
            continue
        rewritten.append(char)
        index += 1
    return "".join(rewritten)


# ---------------------------------------------------------------------------------------------
# Case and encoding


def _per_character(text: str, convert: Callable[[str], str]) -> str:
    # .NET changes case one character at a time ('ß' stays 'ß' in upper case).
    return "".join(mapped if len(mapped := convert(c)) == 1 else c for c in text)


@_filter("ToUpper")
def _to_upper(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("ToUpper", options)
    return _per_character(_needs_argument("ToUpper", argument), str.upper)


@_filter("ToLower")
def _to_lower(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("ToLower", options)
    return _per_character(_needs_argument("ToLower", argument), str.lower)


@_filter("ToBase64")
def _to_base64(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("ToBase64", argument)
    if len(options) > 1:
        raise FilterRejected("ToBase64 takes at most one option, the encoding")
    encoding = _text_encoding("ToBase64", options[0] if options else "utf8")
    return base64.b64encode(_well_formed(text).encode(encoding)).decode("ascii")


@_filter("FromBase64")
def _from_base64_filter(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("FromBase64", argument)
    if len(options) > 1:
        raise FilterRejected("FromBase64 takes at most one option, the encoding")
    data = _from_base64("FromBase64", text)
    encoding = _text_encoding("FromBase64", options[0] if options else "utf8")
    return data.decode(encoding, "replace")


# ---------------------------------------------------------------------------------------------
# Escaping

_HTML_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "/": "&#x2F;"}
)
_XML_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
)
# Only these: Octostache leaves other control characters alone.
_JSON_ESCAPES = str.maketrans({'"': '\\"', "\r": "\\r", "\t": "\\t", "\n": "\\n", "\\": "\\\\"})
_C_STYLE = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\"}
_NEWLINE_RUN = re.compile(r"(?:\r?\n)+")


def _escape_with(name: str, table: dict[int, str]) -> Filter:
    def escape(argument: str | None, options: Sequence[str]) -> str | None:
        _no_options(name, options)
        return _needs_argument(name, argument).translate(table)

    return escape


_filter("HtmlEscape")(_escape_with("HtmlEscape", _HTML_ENTITIES))
_filter("XmlEscape")(_escape_with("XmlEscape", _XML_ENTITIES))
_filter("JsonEscape")(_escape_with("JsonEscape", _JSON_ESCAPES))


@_filter("YamlSingleQuoteEscape")
def _yaml_single_quote_escape(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("YamlSingleQuoteEscape", options)
    text = _needs_argument("YamlSingleQuoteEscape", argument)
    # In a single-quoted YAML scalar one line break reads as a space, so each run of line
    # breaks gets one more, of the same style as the run.
    doubled = _NEWLINE_RUN.sub(
        lambda run: ("\r\n" if run.group().startswith("\r") else "\n") + run.group(), text
    )
    return doubled.replace("'", "''")


def _unicode_escape(unit: int) -> str:
    return f"\\u{unit:04x}"


@_filter("YamlDoubleQuoteEscape")
def _yaml_double_quote_escape(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("YamlDoubleQuoteEscape", options)
    escapes = {**_C_STYLE, 0x22: '\\"'}
    units = _utf16_units(_needs_argument("YamlDoubleQuoteEscape", argument))
    return "".join(
        escapes.get(u) or (chr(u) if 0x20 <= u <= 0x7E else _unicode_escape(u)) for u in units
    )


def _properties_escape(text: str, escape_space: Callable[[int], bool], key: bool) -> str:
    out: list[str] = []
    for position, unit in enumerate(_utf16_units(text)):
        if unit == 0x20 and escape_space(position):
            out.append("\\ ")
        elif key and unit in (0x3A, 0x3D):
            out.append("\\" + chr(unit))
        elif unit in _C_STYLE:
            out.append(_C_STYLE[unit])
        else:
            # Properties files are ISO-8859-1; anything from U+00FF up is written as \uXXXX.
            out.append(chr(unit) if unit < 0xFF else _unicode_escape(unit))
    return "".join(out)


@_filter("PropertiesKeyEscape")
def _properties_key_escape(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("PropertiesKeyEscape", options)
    text = _needs_argument("PropertiesKeyEscape", argument)
    return _properties_escape(text, lambda _position: True, key=True)


@_filter("PropertiesValueEscape")
def _properties_value_escape(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("PropertiesValueEscape", options)
    text = _needs_argument("PropertiesValueEscape", argument)
    # Only a leading space would be lost: the reader skips whitespace before a value.
    return _properties_escape(text, lambda position: position == 0, key=False)


_URI_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_URI_RESERVED = ":/?#[]@!$&'()*+,;="


def _percent_encode(name: str, text: str, keep: str) -> str:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise FilterRejected(f"{name} cannot escape text with a lone surrogate") from error
    return "".join(chr(b) if chr(b) in keep else f"%{b:02X}" for b in data)


@_filter("UriEscape")
def _uri_escape(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("UriEscape", options)
    text = _needs_argument("UriEscape", argument)
    return _percent_encode("UriEscape", text, _URI_UNRESERVED + _URI_RESERVED)


@_filter("UriDataEscape")
def _uri_data_escape(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("UriDataEscape", options)
    text = _needs_argument("UriDataEscape", argument)
    return _percent_encode("UriDataEscape", text, _URI_UNRESERVED)


# ---------------------------------------------------------------------------------------------
# Markdown (Octostache uses Markdig with pipe tables and bare-URL links)


@_filter("Markdown", "MarkdownToHtml")
def _markdown(argument: str | None, options: Sequence[str]) -> str | None:
    _no_options("Markdown", options)
    text = _needs_argument("Markdown", argument)
    return _markdown_renderer().render(text.strip(_DOTNET_WHITESPACE)) + "\n"


@cache
def _markdown_renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt  # imported on first use: most runs never render Markdown

    renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    renderer.core.ruler.push("bare_links", _link_bare_urls)
    renderer.add_render_rule("s_open", lambda *_args: "<del>")
    renderer.add_render_rule("s_close", lambda *_args: "</del>")
    for cell in ("th_open", "td_open"):
        renderer.add_render_rule(cell, _render_table_cell)
    return renderer


def _render_table_cell(
    renderer: object, tokens: Sequence[Token], index: int, *_settings: object
) -> str:
    # Markdig writes alignment as "text-align: left;", markdown-it as "text-align:left".
    token = tokens[index]
    style = str(token.attrGet("style") or "")
    attribute = f' style="{style.replace(":", ": ")};"' if style else ""
    return f"<{token.tag}{attribute}>"


# Markdig links bare URLs starting like these when they follow a space or one of `*_~(`.
_BARE_URL = re.compile(r"(?<![^\s*_~(])(?:https?://|ftp://|mailto:|www\.)[^\s<]+", re.IGNORECASE)
_URL_PREFIX = re.compile(r"(?:https?://|ftp://|mailto:[^@]*@|www\.)", re.IGNORECASE)
_TRAILING_PUNCTUATION = "?!.,:*_~;'\""


def _link_bare_urls(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        inside_link = 0
        for token in block.children:
            inside_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and not inside_link:
                children.extend(_split_bare_urls(token))
            else:
                children.append(token)
        block.children = children


def _split_bare_urls(token: Token) -> list[Token]:
    from markdown_it.token import Token

    pieces: list[Token] = []
    text = token.content
    position = 0
    for match in _BARE_URL.finditer(text):
        url = _trim_url(match.group())
        if not _has_domain(url):
            continue
        href = "http://" + url if url.lower().startswith("www.") else url
        label = url[len("mailto:") :] if url.lower().startswith("mailto:") else url
        pieces += [
            Token("text", "", 0, content=text[position : match.start()]),
            Token("link_open", "a", 1, attrs={"href": href}),
            Token("text", "", 0, content=label),
            Token("link_close", "a", -1),
        ]
        position = match.start() + len(url)
    if not pieces:
        return [token]
    pieces.append(Token("text", "", 0, content=text[position:]))
    return [piece for piece in pieces if piece.type != "text" or piece.content]


def _trim_url(url: str) -> str:
    while url and (url[-1] in _TRAILING_PUNCTUATION or _unbalanced_close(url)):
        url = url[:-1]
    return url


def _unbalanced_close(url: str) -> bool:
    return url.endswith(")") and url.count(")") > url.count("(")


def _has_domain(url: str) -> bool:
    """Markdig only links a URL whose host looks like a domain name with a dot in it."""
    prefix = _URL_PREFIX.match(url)
    rest = url[prefix.end() :] if prefix else url
    labels = re.split(r"[/?#:]", rest, maxsplit=1)[0].split(".")
    return len(labels) > 1 and all(re.fullmatch(r"[\w-]+", label) for label in labels)


# ---------------------------------------------------------------------------------------------
# Dates and numbers


def _now(name: str, argument: str | None, options: Sequence[str]) -> str:
    if argument is not None:
        raise FilterRejected(f"{name} takes no value: write #{{ | {name}}}")
    if len(options) > 1:
        raise FilterRejected(f"{name} takes at most one option, the format")
    moment = dotnet.now_utc() if name == "NowDateUtc" else dotnet.now_local()
    return _format_date(name, moment, options[0] if options else "O")


@_filter("NowDate")
def _now_date(argument: str | None, options: Sequence[str]) -> str | None:
    return _now("NowDate", argument, options)


@_filter("NowDateUtc")
def _now_date_utc(argument: str | None, options: Sequence[str]) -> str | None:
    return _now("NowDateUtc", argument, options)


def _format_date(name: str, value: dotnet.DotnetDateTime, fmt: str) -> str:
    try:
        return dotnet.format_datetime(value, fmt)
    except dotnet.DotnetFormatError as error:
        raise FilterRejected(f"{name} cannot use the format '{fmt}': {error}") from error


def _add_time(name: str, unit: timedelta, argument: str | None, options: Sequence[str]) -> str:
    amount_text = _one_option(name, options, "the amount to add")
    amount = dotnet.parse_double(amount_text, allow_thousands=False)
    if amount is None or amount != amount or abs(amount) == float("inf"):
        raise FilterRejected(f"{name} needs a number to add, not '{amount_text}'")
    text = _needs_argument(name, argument)
    # A time without a zone stays without one and a 'Z' time stays UTC; an explicit offset
    # is kept as written rather than converted to this machine's.
    moment = dotnet.parse_datetime(text, keep_utc=True)
    if moment is None or moment.kind is dotnet.DateKind.LOCAL:
        moment = dotnet.parse_datetime_offset(text)
    if moment is None:
        raise FilterRejected(f"{name} needs a date, not '{text}'")
    try:
        return dotnet.format_datetime(dotnet.shift(moment, unit * amount), "O")
    except OverflowError as error:
        raise FilterRejected(f"{name} would go beyond the years 1 to 9999") from error


@_filter("AddHours")
def _add_hours(argument: str | None, options: Sequence[str]) -> str | None:
    return _add_time("AddHours", timedelta(hours=1), argument, options)


@_filter("AddDays")
def _add_days(argument: str | None, options: Sequence[str]) -> str | None:
    return _add_time("AddDays", timedelta(days=1), argument, options)


def _number_reader(
    parse: Callable[[str], int | float | Decimal | None], kind: dotnet.NumberKind
) -> Callable[[str, str], str | None]:
    def read(text: str, fmt: str) -> str | None:
        value = parse(text)
        return None if value is None else dotnet.format_number(value, kind, fmt)

    return read


def _date_reader(
    parse: Callable[[str], dotnet.DotnetDateTime | None],
) -> Callable[[str, str], str | None]:
    def read(text: str, fmt: str) -> str | None:
        value = parse(text)
        return None if value is None else dotnet.format_datetime(value, fmt)

    return read


# `Format <type> <format>`: how each type reads the value; None when it cannot.
_FORMAT_READERS: dict[str, Callable[[str, str], str | None]] = {
    "int32": _number_reader(dotnet.parse_int32, dotnet.NumberKind.INT32),
    "int": _number_reader(dotnet.parse_int32, dotnet.NumberKind.INT32),
    "double": _number_reader(dotnet.parse_double, dotnet.NumberKind.DOUBLE),
    "decimal": _number_reader(dotnet.parse_decimal, dotnet.NumberKind.DECIMAL),
    "date": _date_reader(dotnet.parse_datetime),
    "datetime": _date_reader(dotnet.parse_datetime),
    "datetimeoffset": _date_reader(dotnet.parse_datetime_offset),
}


@_filter("Format")
def _format(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("Format", argument)
    readers: tuple[str, ...]
    if len(options) == 1:
        # Without a type: a number if it reads as a decimal, otherwise a date.
        fmt, readers, what = options[0], ("decimal", "datetimeoffset"), "a number or a date"
    elif len(options) == 2:
        type_name, fmt = options
        readers, what = (type_name.lower(),), f"a {type_name}"
        if readers[0] not in _FORMAT_READERS:
            raise FilterRejected(
                f"Format cannot convert to '{type_name}'; "
                "use Int32, Int, Double, Decimal, Date, DateTime or DateTimeOffset"
            )
    else:
        raise FilterRejected("Format takes a format, or a type and a format")
    for reader in readers:
        try:
            result = _FORMAT_READERS[reader](text, fmt)
        except dotnet.DotnetFormatError as error:
            raise FilterRejected(f"Format cannot use the format '{fmt}': {error}") from error
        if result is not None:
            return result
    raise FilterRejected(f"Format could not read '{text}' as {what}")


# ---------------------------------------------------------------------------------------------
# Text manipulation


@_filter("Replace")
def _replace(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("Replace", argument)
    if not options:
        raise FilterRejected("Replace needs a regular expression and, optionally, a replacement")
    pattern = _compile_regex("Replace", options[0])
    replacement = _DotnetReplacement(pattern, options[1] if len(options) > 1 else "")
    return pattern.sub(replacement.expand, text)


_ReplacementPart = str | Callable[[re.Match[str]], str]


class _DotnetReplacement:
    """A .NET replacement string: ``$1``, ``${name}``, ``$$``, ``$&``, ``$``` and ``$'``;
    backslashes are ordinary characters."""

    _TOKEN = re.compile(r"\$(?:(\d+)|\{([^}]*)\}|([$&`'+_]))")

    def __init__(self, pattern: re.Pattern[str], template: str) -> None:
        self._groups = _dotnet_group_numbers(pattern)
        self._names = pattern.groupindex
        self._parts: list[_ReplacementPart] = []
        position = 0
        for token in self._TOKEN.finditer(template):
            part = self._part(token)
            if part is None:
                continue
            self._parts.append(template[position : token.start()])
            if isinstance(part, tuple):  # a group number followed by literal digits
                self._parts.extend(part)
            else:
                self._parts.append(part)
            position = token.end()
        self._parts.append(template[position:])

    def _part(self, token: re.Match[str]) -> _ReplacementPart | tuple[_ReplacementPart, str] | None:
        """What a ``$`` token stands for; None when .NET would keep it as literal text."""
        digits, name, special = token.groups()
        if digits is not None:
            # .NET reads the longest prefix of the digits that names a group.
            for length in range(len(digits), 0, -1):
                number = int(digits[:length])
                if number in self._groups:
                    return (self._group(self._groups[number]), digits[length:])
            return None
        if name is not None:
            if name.isdigit() and int(name) in self._groups:
                return self._group(self._groups[int(name)])
            return self._group(name) if name in self._names else None
        specials: dict[str, _ReplacementPart] = {
            "$": "$",
            "&": self._group(0),
            "`": lambda match: match.string[: match.start()],
            "'": lambda match: match.string[match.end() :],
            "+": lambda match: match.group(match.lastindex or 0) or "",
            "_": lambda match: match.string,
        }
        return specials[special]

    @staticmethod
    def _group(key: int | str) -> Callable[[re.Match[str]], str]:
        return lambda match: match.group(key) or ""

    def expand(self, match: re.Match[str]) -> str:
        return "".join(part if isinstance(part, str) else part(match) for part in self._parts)


def _dotnet_group_numbers(pattern: re.Pattern[str]) -> dict[int, int]:
    """.NET numbers unnamed groups first, then named ones; map its numbers to Python's."""
    named = sorted(pattern.groupindex.values())
    unnamed = [i for i in range(1, pattern.groups + 1) if i not in named]
    numbers = {0: 0}
    for dotnet_number, python_number in enumerate(unnamed + named, start=1):
        numbers[dotnet_number] = python_number
    return numbers


@_filter("Trim")
def _trim(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("Trim", argument)
    if len(options) > 1:
        raise FilterRejected("Trim takes at most one option: Start or End")
    side = options[0].lower() if options else "both"
    if side == "start":
        return text.lstrip(_DOTNET_WHITESPACE)
    if side == "end":
        return text.rstrip(_DOTNET_WHITESPACE)
    if side == "both":
        return text.strip(_DOTNET_WHITESPACE)
    raise FilterRejected(f"Trim trims at the Start or End, not '{options[0]}'")


def _non_negative(text: str) -> int | None:
    number = dotnet.parse_int32(text)
    return number if number is not None and number >= 0 else None


@_filter("Substring")
def _substring(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("Substring", argument)
    numbers = [_non_negative(option) for option in options]
    if not 1 <= len(numbers) <= 2 or None in numbers:
        raise FilterRejected(
            "Substring takes a length, or a start and a length, as non-negative integers"
        )
    start, length = (0, numbers[0]) if len(numbers) == 1 else numbers
    assert start is not None and length is not None
    if start > len(text):
        raise FilterRejected(f"Substring cannot start at {start}: the text is {len(text)} long")
    return text[start : start + length]


@_filter("Truncate")
def _truncate(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("Truncate", argument)
    length = _non_negative(options[0]) if options else None
    if length is None or len(options) > 2:
        raise FilterRejected("Truncate takes a length (a non-negative integer) and a suffix")
    suffix = options[1] if len(options) > 1 else "..."
    return text[:length] + suffix if length < len(text) else text


_INDENT_SIZES = re.compile(r"(?:([0-9]{1,3})?(/))?([0-9]{1,3})")


@_filter("Indent")
def _indent(argument: str | None, options: Sequence[str]) -> str | None:
    text = _needs_argument("Indent", argument)
    if not text:
        return ""  # nothing to indent, whatever the options say
    if len(options) > 2:
        raise FilterRejected("Indent takes at most two options: the first and later indents")
    first, later = _indents(options)
    return first + text.replace("\n", "\n" + later)


def _indents(options: Sequence[str]) -> tuple[str, str]:
    if not options:
        return "    ", "    "
    if len(options) == 2:
        return options[0], options[1]
    sizes = _INDENT_SIZES.fullmatch(options[0])
    # Sizes are spaces up to 255 ("3", "/2", "3/2"); anything else is the indent text itself.
    if sizes is not None:
        first, slash, later = sizes.groups()
        numbers = [int(n) for n in (first or "0", later)]
        if all(n <= 255 for n in numbers):
            if slash:
                return " " * numbers[0], " " * numbers[1]
            return " " * numbers[1], " " * numbers[1]
    return options[0], options[0]


@_filter("UriPart")
def _uri_part(argument: str | None, options: Sequence[str]) -> str | None:
    # Octostache reports UriPart problems in the output rather than echoing the expression.
    text = _needs_argument("UriPart", argument)
    if not options:
        return "[UriPart error: no argument given]"
    part = options[0]
    uri = dotnet.parse_uri(text)
    if uri is None:
        return text  # not an address .NET can read: the value passes through
    try:
        return uri.part(part)
    except KeyError:
        return f"[UriPart {part} error: argument '{part}' not supported]"
    except dotnet.UriOperationError as error:
        return f"[UriPart {part} error: {error}]"


@_filter("Append")
def _append(argument: str | None, options: Sequence[str]) -> str | None:
    if not options:
        raise FilterRejected("Append needs at least one option to append")
    return (argument or "") + "".join(options)


@_filter("Prepend")
def _prepend(argument: str | None, options: Sequence[str]) -> str | None:
    if not options:
        raise FilterRejected("Prepend needs at least one option to prepend")
    return "".join(options) + (argument or "")


# ---------------------------------------------------------------------------------------------
# Comparisons


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


@_filter("Match")
def _match(argument: str | None, options: Sequence[str]) -> str | None:
    pattern = _compile_regex("Match", _one_option("Match", options, "a regular expression"))
    return _bool_text(pattern.search(_needs_argument("Match", argument)) is not None)


@_filter("StartsWith")
def _starts_with(argument: str | None, options: Sequence[str]) -> str | None:
    prefix = _one_option("StartsWith", options, "the text to look for")
    return _bool_text(_needs_argument("StartsWith", argument).startswith(prefix))


@_filter("EndsWith")
def _ends_with(argument: str | None, options: Sequence[str]) -> str | None:
    suffix = _one_option("EndsWith", options, "the text to look for")
    return _bool_text(_needs_argument("EndsWith", argument).endswith(suffix))


@_filter("Contains")
def _contains(argument: str | None, options: Sequence[str]) -> str | None:
    part = _one_option("Contains", options, "the text to look for")
    return _bool_text(part in _needs_argument("Contains", argument))


# ---------------------------------------------------------------------------------------------
# Hashes


@dataclass(frozen=True)
class _HashOptions:
    to_bytes: Callable[[str], bytes]
    digest_bytes: int | None  # None: the whole digest


def _hash_encoding(name: str, option: str) -> Callable[[str], bytes] | None:
    encoding = option.lower()
    if encoding == "base64":
        return lambda text: _from_base64(name, text)
    if encoding in ("utf8", "utf-8"):
        return lambda text: _well_formed(text).encode("utf-8")
    if encoding == "unicode":
        return lambda text: _well_formed(text).encode("utf-16-le")
    return None


def _hash_options(name: str, options: Sequence[str]) -> _HashOptions:
    """An encoding and a digest size in bytes, each optional, in either order."""
    rejected = FilterRejected(
        f"{name} takes an encoding (utf8, unicode or base64) and a size in bytes, each at most once"
    )
    if len(options) > 2:
        raise rejected
    to_bytes: Callable[[str], bytes] | None = None
    size: int | None = None
    for option in options:
        number = dotnet.parse_int32(option)
        if number is not None and number > 0 and size is None:
            size = number
            continue
        encoding = _hash_encoding(name, option)
        if encoding is None or to_bytes is not None:
            raise rejected
        to_bytes = encoding
    return _HashOptions(to_bytes or (lambda text: _well_formed(text).encode("utf-8")), size)


def _hash_filter(name: str, algorithm: str) -> Filter:
    def digest(argument: str | None, options: Sequence[str]) -> str | None:
        text = _needs_argument(name, argument)
        settings = _hash_options(name, options)
        hashed = hashlib.new(algorithm, settings.to_bytes(text)).digest()
        return hashed[: settings.digest_bytes].hex()

    return digest


for _name, _algorithm in (
    ("Md5", "md5"),
    ("Sha1", "sha1"),
    ("Sha256", "sha256"),
    ("Sha384", "sha384"),
    ("Sha512", "sha512"),
):
    _filter(_name)(_hash_filter(_name, _algorithm))


# ---------------------------------------------------------------------------------------------
# Versions


def _version_filter(name: str, part: Callable[[OctopusVersion], object]) -> Filter:
    def version_part(argument: str | None, options: Sequence[str]) -> str | None:
        text = _needs_argument(name, argument)
        try:
            return str(part(parse_octopus_version(text)))
        except VersionParseError as error:
            raise FilterRejected(f"{name} could not read a version: {error}") from error

    return version_part


for _name, _part in (
    ("VersionMajor", lambda v: v.major),
    ("VersionMinor", lambda v: v.minor),
    ("VersionPatch", lambda v: v.patch),
    ("VersionRevision", lambda v: v.revision),
    ("VersionPreRelease", lambda v: v.prerelease),
    ("VersionPreReleasePrefix", lambda v: v.prerelease_prefix),
    ("VersionPreReleaseCounter", lambda v: v.prerelease_counter),
    ("VersionMetadata", lambda v: v.metadata),
):
    _filter(_name)(_version_filter(_name, _part))


# ---------------------------------------------------------------------------------------------
# null


@_filter("null")
def _null(argument: str | None, options: Sequence[str]) -> str | None:
    # Evaluating to null makes Octostache return null for the whole template.
    return None


FILTER_NAMES: tuple[str, ...] = tuple(sorted(canonical for canonical, _ in _FILTERS.values()))
