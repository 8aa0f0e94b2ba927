"""Credentials that belong to one origin, and URLs fit for messages: what keeps secrets where
they were meant to go."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_QUERY_KEY = re.compile(r"token|key|sig|secret|password|passwd|auth|credential", re.I)


@dataclass(frozen=True)
class Auth:
    """Headers that authenticate to one origin (``scheme://host:port``); never sent elsewhere."""

    origin: str
    headers: Mapping[str, str] = field(repr=False)
    description: str = ""  # where they came from, for messages: "$GITHUB_TOKEN", "~/.netrc"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def shown_url(url: str) -> str:
    """``url`` fit for messages: no user name or password, secret-looking query values hidden."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(_SECRET_QUERY_KEY.search(name) for name, _ in pairs):
        hidden = [(n, "***" if _SECRET_QUERY_KEY.search(n) else v) for n, v in pairs]
        query = urlencode(hidden, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
