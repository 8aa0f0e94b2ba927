"""Octopus service messages: ``##octopus[name attr='base64' ...]`` lines in a script's stdout."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_MESSAGE = re.compile(r"##octopus\[([^\]]*)\]")
_XML_NAME = r"[^\W\d][\w.:-]*"
_ATTRIBUTE = rf"({_XML_NAME})\s*=\s*(?:'([^']*)'|\"([^\"]*)\")"
_BODY = re.compile(rf"({_XML_NAME})((?:\s+{_ATTRIBUTE})*)\s*")


@dataclass(frozen=True)
class ServiceMessage:
    """One parsed message; attribute names are lower-cased, values decoded."""

    name: str
    attributes: Mapping[str, str]


def parse_message(line: str) -> ServiceMessage | None:
    """The first service message in ``line``, or None if there is none or it is malformed."""
    found = _MESSAGE.search(line)
    if found is None:
        return None
    # Calamari parses the body as an XML element, where line breaks are insignificant.
    body = _BODY.fullmatch(found.group(1).replace("\r", "").replace("\n", ""))
    if body is None:
        return None
    attributes: dict[str, str] = {}
    for match in re.finditer(_ATTRIBUTE, body.group(2)):
        key = match.group(1).lower()
        value = _decode(match.group(2) if match.group(2) is not None else match.group(3))
        if value is None or key in attributes:
            return None
        attributes[key] = value
    return ServiceMessage(body.group(1), MappingProxyType(attributes))


def format_message(name: str, /, **attributes: str) -> str:
    """The line a script prints to send a message, quoted the way script helpers quote it."""
    encoded = "".join(f" {key}='{_encode(value)}'" for key, value in attributes.items())
    return f"##octopus[{name}{encoded}]"


def _encode(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def _decode(value: str) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    # Calamari decodes with .NET's UTF-8 decoder, which replaces invalid bytes.
    return raw.decode("utf-8", errors="replace")
