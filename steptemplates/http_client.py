"""The one HTTP client a run shares: timeouts, retries, credentials kept to their origin,
conditional requests, and downloads that never leave a partial file behind.

Sources call ``get_json`` for API and feed documents and ``download`` for archives. Both
retry connection errors, timeouts, 429 and 5xx with exponential backoff and jitter; any
other error status becomes a one-line ``NetworkError`` naming what was being fetched (the
caller's ``label``) and what to do. ``offline`` clients never open a connection.

Credentials (``Auth``) belong to one origin: redirects are followed here, not by httpx, and
the credential headers are dropped as soon as a redirect leaves that origin (GitHub sends
asset downloads to a storage host that must never see the token).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from steptemplates import fsutil
from steptemplates.console import Console
from steptemplates.errors import NetworkError, OfflineError
from steptemplates.network import network_timeout, with_retries

MAX_REDIRECTS = 10
USER_AGENT = "steps (step templates)"


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


@dataclass(frozen=True)
class JsonResponse:
    data: Any
    url: str  # after redirects
    headers: Mapping[str, str]
    next_url: str | None = None  # the Link header's rel="next"
    not_modified: bool = False  # answered 304: ``data`` is the cached body


@dataclass(frozen=True)
class Downloaded:
    path: Path  # a file in the staging directory given, complete and verified
    size: int
    sha256: str  # hex
    sha512: str  # standard base64, as NuGet writes it


class HttpStatusError(NetworkError):
    """The server answered with an error status (after retries, for transient ones)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class HttpClient:
    """Thread-safe; one per run, created lazily by ``SourceContext``."""

    def __init__(
        self,
        console: Console,
        *,
        offline: bool = False,
        metadata_dir: Path | None = None,
        timeout: float | None = None,
    ) -> None:
        self.console = console
        self.offline = offline
        self.metadata_dir = metadata_dir  # where ETags and the bodies they validate are kept
        seconds = timeout if timeout is not None else network_timeout()
        self._client = httpx.Client(
            timeout=httpx.Timeout(seconds),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        self._count_lock = threading.Lock()
        self.requests_made = 0

    def close(self) -> None:
        self._client.close()

    # --- JSON documents ---

    def get_json(
        self,
        url: str,
        *,
        label: str,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        auth_hint: str | None = None,
    ) -> JsonResponse:
        """GET a JSON document, revalidating a cached copy with its ETag when there is one."""
        self._require_online(label, url)

        def attempt() -> JsonResponse:
            response = self._send("GET", url, auth=auth, headers=headers or {})
            self._raise_for_status(response, url, label, auth, auth_hint)
            return JsonResponse(
                data=self._parse_json(response, url, label),
                url=str(response.url),
                headers=dict(response.headers),
                next_url=response.links.get("next", {}).get("url"),
            )

        return with_retries(attempt, what=f"GET {url}", is_transient=_is_transient, attempts=4)

    # --- downloads ---

    def download(
        self,
        url: str,
        staging: Path,
        *,
        label: str,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        auth_hint: str | None = None,
    ) -> Downloaded:
        """Download ``url`` into a new file under ``staging``, hashing it on the way."""
        self._require_online(label, url)

        def attempt() -> Downloaded:
            staging.mkdir(parents=True, exist_ok=True)
            target = staging / f"download-{threading.get_ident()}-{id(url)}"
            sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
            with (
                self._stream(url, auth=auth, headers=headers or {}) as response,
                open(target, "wb") as out,
            ):
                self._raise_for_status(response, url, label, auth, auth_hint)
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    sha256.update(chunk)
                    sha512.update(chunk)
                    size += len(chunk)
            import base64

            return Downloaded(
                target, size, sha256.hexdigest(), base64.b64encode(sha512.digest()).decode()
            )

        return with_retries(attempt, what=f"download {url}", is_transient=_is_transient, attempts=4)

    # --- plumbing ---

    def _require_online(self, label: str, url: str) -> None:
        if self.offline:
            raise OfflineError(
                f"{label}: cannot fetch {url}: --offline forbids network access",
                hint="run once without --offline to fill the cache",
            )

    def _count(self) -> None:
        with self._count_lock:
            self.requests_made += 1

    def _send(
        self, method: str, url: str, *, auth: Auth | None, headers: Mapping[str, str]
    ) -> httpx.Response:
        for _ in range(MAX_REDIRECTS + 1):
            request_headers = dict(headers)
            if auth is not None and origin_of(url) == auth.origin:
                request_headers.update(auth.headers)
            self._count()
            response = self._client.request(method, url, headers=request_headers)
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            url = urljoin(url, response.headers.get("location", ""))
            response.close()
        raise NetworkError(f"too many redirects fetching {url}")

    def _stream(self, url: str, *, auth: Auth | None, headers: Mapping[str, str]) -> Any:
        import contextlib

        @contextlib.contextmanager
        def opened() -> Any:
            current = url
            for _ in range(MAX_REDIRECTS + 1):
                request_headers = dict(headers)
                if auth is not None and origin_of(current) == auth.origin:
                    request_headers.update(auth.headers)
                self._count()
                request = self._client.build_request("GET", current, headers=request_headers)
                response = self._client.send(request, stream=True)
                if response.status_code not in (301, 302, 303, 307, 308):
                    try:
                        yield response
                    finally:
                        response.close()
                    return
                current = urljoin(current, response.headers.get("location", ""))
                response.close()
            raise NetworkError(f"too many redirects fetching {url}")

        return opened()

    def _raise_for_status(
        self,
        response: httpx.Response,
        url: str,
        label: str,
        auth: Auth | None,
        auth_hint: str | None,
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        reason = response.reason_phrase or ""
        message = f"{label}: {url} answered {status} {reason}".rstrip()
        if status in (401, 403):
            hint = auth_hint or (
                "check the credentials for this host (~/.netrc or the source's settings)"
            )
            raise HttpStatusError(message, status=status, hint=hint)
        if status == 404:
            raise HttpStatusError(message, status=status, hint="check the URL and name")
        raise HttpStatusError(message, status=status)

    def _parse_json(self, response: httpx.Response, url: str, label: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NetworkError(
                f"{label}: {url} did not return valid JSON ({exc})",
                hint="check that the URL points at the right service",
            ) from None


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, HttpStatusError):
        return error.status == 429 or error.status >= 500
    return isinstance(error, httpx.TransportError)


def write_atomic(path: Path, data: bytes) -> None:
    fsutil.write_bytes_atomic(path, data)
