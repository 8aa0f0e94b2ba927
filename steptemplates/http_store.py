"""The conditional-request store: JSON bodies kept with the validators (ETag, Last-Modified)
that let a server answer 304 for them, and that answer offline runs."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steptemplates import fsutil
from steptemplates.errors import StepsError
from steptemplates.http_auth import shown_url

# Response headers kept with a body: enough to revalidate it, answer offline and paginate.
KEPT_HEADERS = ("content-type", "etag", "last-modified", "link", "date")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredJson:
    """A JSON body as fetched: the URL it came from after redirects, its headers (lowercased)."""

    data: Any
    url: str
    headers: Mapping[str, str]
    next_url: str | None  # the Link header's rel="next"

    def validators(self) -> dict[str, str]:
        """The request headers that ask the server to answer 304 if this body is still current."""
        validators = {}
        if etag := self.headers.get("etag"):
            validators["If-None-Match"] = etag
        if last_modified := self.headers.get("last-modified"):
            validators["If-Modified-Since"] = last_modified
        return validators


class JsonStore:
    """One small JSON file per URL (and whether credentials went with it) in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, url: str, with_auth: bool) -> Path:
        # Hashed: a URL may hold anything, and a file name must not.
        key = hashlib.sha256(f"{url}\n{'auth' if with_auth else 'anonymous'}".encode())
        return self.directory / f"{key.hexdigest()}.json"

    def load(self, url: str, with_auth: bool) -> StoredJson | None:
        try:
            record = json.loads(self._path(url, with_auth).read_bytes())
            headers, next_url = record["headers"], record["next_url"]
            if record["request"] != url or not isinstance(headers, dict):
                return None
            if not all(isinstance(value, str) for value in headers.values()):
                return None
            next_url = next_url if isinstance(next_url, str) else None
            return StoredJson(record["data"], str(record["url"]), headers, next_url)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: fetch afresh

    def save(self, url: str, with_auth: bool, fetched: StoredJson) -> None:
        kept = {name: fetched.headers[name] for name in KEPT_HEADERS if name in fetched.headers}
        record = {
            "request": url,
            "url": fetched.url,
            "headers": kept,
            "next_url": fetched.next_url,
            "data": fetched.data,
        }
        try:
            fsutil.write_bytes_atomic(self._path(url, with_auth), json.dumps(record).encode())
        except StepsError as error:
            # Only a lost optimisation: the next run fetches the whole body again.
            _log.info("cannot keep the answer of %s: %s", shown_url(url), error)
