"""Filters that encode or escape text: base64, and escapes for HTML, XML, JSON, YAML, Java
properties files and URIs."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence

from steptemplates.variables.dotnet import uri
from steptemplates.variables.dotnet.strings import utf16_units, well_formed
from steptemplates.variables.filters_arguments import (
    Filter,
    FilterRejected,
    needs_argument,
    no_options,
)

# ---------------------------------------------------------------------------------------------
# Base64


def _text_encoding(name: str, option: str) -> str:
    encoding = {"utf8": "utf-8", "utf-8": "utf-8", "unicode": "utf-16-le"}.get(option.lower())
    if encoding is None:
        raise FilterRejected(f"{name} supports the encodings utf8 and unicode, not '{option}'")
    return encoding


def decode_base64(name: str, text: str) -> bytes:
    # Convert.FromBase64String ignores whitespace but insists on complete, padded groups.
    compact = re.sub(r"[\t\n\r ]", "", text)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise FilterRejected(f"{name} could not decode '{text}' as base64") from error


def to_base64(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("ToBase64", argument)
    if len(options) > 1:
        raise FilterRejected("ToBase64 takes at most one option, the encoding")
    encoding = _text_encoding("ToBase64", options[0] if options else "utf8")
    return base64.b64encode(well_formed(text).encode(encoding)).decode("ascii")


def from_base64(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("FromBase64", argument)
    if len(options) > 1:
        raise FilterRejected("FromBase64 takes at most one option, the encoding")
    data = decode_base64("FromBase64", text)
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
        no_options(name, options)
        return needs_argument(name, argument).translate(table)

    return escape


html_escape = _escape_with("HtmlEscape", _HTML_ENTITIES)
xml_escape = _escape_with("XmlEscape", _XML_ENTITIES)
json_escape = _escape_with("JsonEscape", _JSON_ESCAPES)


def yaml_single_quote_escape(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("YamlSingleQuoteEscape", options)
    text = needs_argument("YamlSingleQuoteEscape", argument)
    # In a single-quoted YAML scalar one line break reads as a space, so each run of line
    # breaks gets one more, of the same style as the run.
    doubled = _NEWLINE_RUN.sub(
        lambda run: ("\r\n" if run.group().startswith("\r") else "\n") + run.group(), text
    )
    return doubled.replace("'", "''")


def _unicode_escape(unit: int) -> str:
    return f"\\u{unit:04x}"


def yaml_double_quote_escape(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("YamlDoubleQuoteEscape", options)
    escapes = {**_C_STYLE, 0x22: '\\"'}
    units = utf16_units(needs_argument("YamlDoubleQuoteEscape", argument))
    return "".join(
        escapes.get(u) or (chr(u) if 0x20 <= u <= 0x7E else _unicode_escape(u)) for u in units
    )


def _properties_escape(text: str, escape_space: Callable[[int], bool], key: bool) -> str:
    out: list[str] = []
    for position, unit in enumerate(utf16_units(text)):
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


def properties_key_escape(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("PropertiesKeyEscape", options)
    text = needs_argument("PropertiesKeyEscape", argument)
    return _properties_escape(text, lambda _position: True, key=True)


def properties_value_escape(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("PropertiesValueEscape", options)
    text = needs_argument("PropertiesValueEscape", argument)
    # Only a leading space would be lost: the reader skips whitespace before a value.
    return _properties_escape(text, lambda position: position == 0, key=False)


def _percent_encoded(name: str, text: str, escape: Callable[[str], str]) -> str:
    try:
        return escape(text)
    except UnicodeEncodeError as error:
        raise FilterRejected(f"{name} cannot escape text with a lone surrogate") from error


def uri_escape(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("UriEscape", options)
    text = needs_argument("UriEscape", argument)
    return _percent_encoded("UriEscape", text, uri.escape_uri_string)


def uri_data_escape(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("UriDataEscape", options)
    text = needs_argument("UriDataEscape", argument)
    return _percent_encoded("UriDataEscape", text, uri.escape_data_string)
