"""Filters that change or test text: case, regular expressions, trimming, cutting, indenting,
joining, comparisons and ``UriPart``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from steptemplates.variables.dotnet import regex, uri
from steptemplates.variables.dotnet.numbers import parse_int32
from steptemplates.variables.dotnet.strings import WHITESPACE
from steptemplates.variables.filters_arguments import (
    FilterRejected,
    needs_argument,
    no_options,
    one_option,
)


def _per_character(text: str, convert: Callable[[str], str]) -> str:
    # .NET changes case one character at a time ('ß' stays 'ß' in upper case).
    return "".join(mapped if len(mapped := convert(c)) == 1 else c for c in text)


def to_upper(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("ToUpper", options)
    return _per_character(needs_argument("ToUpper", argument), str.upper)


def to_lower(argument: str | None, options: Sequence[str]) -> str | None:
    no_options("ToLower", options)
    return _per_character(needs_argument("ToLower", argument), str.lower)


def _compile_regex(name: str, pattern: str) -> re.Pattern[str]:
    try:
        return regex.compile_pattern(pattern)
    except re.error as error:
        message = f"{name} could not use the regular expression '{pattern}': {error}"
        raise FilterRejected(message) from error


def replace(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("Replace", argument)
    if not options:
        raise FilterRejected("Replace needs a regular expression and, optionally, a replacement")
    pattern = _compile_regex("Replace", options[0])
    replacement = regex.Replacement(pattern, options[1] if len(options) > 1 else "")
    return pattern.sub(replacement.expand, text)


def trim(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("Trim", argument)
    if len(options) > 1:
        raise FilterRejected("Trim takes at most one option: Start or End")
    side = options[0].lower() if options else "both"
    if side == "start":
        return text.lstrip(WHITESPACE)
    if side == "end":
        return text.rstrip(WHITESPACE)
    if side == "both":
        return text.strip(WHITESPACE)
    raise FilterRejected(f"Trim trims at the Start or End, not '{options[0]}'")


def _non_negative(text: str) -> int | None:
    number = parse_int32(text)
    return number if number is not None and number >= 0 else None


def substring(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("Substring", argument)
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


def truncate(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("Truncate", argument)
    length = _non_negative(options[0]) if options else None
    if length is None or len(options) > 2:
        raise FilterRejected("Truncate takes a length (a non-negative integer) and a suffix")
    suffix = options[1] if len(options) > 1 else "..."
    return text[:length] + suffix if length < len(text) else text


_INDENT_SIZES = re.compile(r"(?:([0-9]{1,3})?(/))?([0-9]{1,3})")


def indent(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("Indent", argument)
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


def uri_part(argument: str | None, options: Sequence[str]) -> str | None:
    # Octostache reports UriPart problems in the output rather than echoing the expression.
    text = needs_argument("UriPart", argument)
    if not options:
        return "[UriPart error: no argument given]"
    part = options[0]
    address = uri.parse_uri(text)
    if address is None:
        return text  # not an address .NET can read: the value passes through
    try:
        return address.part(part)
    except KeyError:
        return f"[UriPart {part} error: argument '{part}' not supported]"
    except uri.UriOperationError as error:
        return f"[UriPart {part} error: {error}]"


def append(argument: str | None, options: Sequence[str]) -> str | None:
    if not options:
        raise FilterRejected("Append needs at least one option to append")
    return (argument or "") + "".join(options)


def prepend(argument: str | None, options: Sequence[str]) -> str | None:
    if not options:
        raise FilterRejected("Prepend needs at least one option to prepend")
    return "".join(options) + (argument or "")


# ---------------------------------------------------------------------------------------------
# Comparisons


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def match(argument: str | None, options: Sequence[str]) -> str | None:
    pattern = _compile_regex("Match", one_option("Match", options, "a regular expression"))
    return _bool_text(pattern.search(needs_argument("Match", argument)) is not None)


def starts_with(argument: str | None, options: Sequence[str]) -> str | None:
    prefix = one_option("StartsWith", options, "the text to look for")
    return _bool_text(needs_argument("StartsWith", argument).startswith(prefix))


def ends_with(argument: str | None, options: Sequence[str]) -> str | None:
    suffix = one_option("EndsWith", options, "the text to look for")
    return _bool_text(needs_argument("EndsWith", argument).endswith(suffix))


def contains(argument: str | None, options: Sequence[str]) -> str | None:
    part = one_option("Contains", options, "the text to look for")
    return _bool_text(part in needs_argument("Contains", argument))
