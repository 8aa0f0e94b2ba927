"""The one HTTP client a run shares: timeouts, retries, rate limits, credentials kept to their
origin, conditional requests, and downloads that resume and never leave a partial file behind.

Sources call ``get_json`` for API and feed documents and ``download`` for archives. Both
retry connection errors, timeouts, 408, 429 and 5xx with exponential backoff and jitter, wait
for a rate limit that resets soon, and turn every other failure into a one-line
``NetworkError`` naming what was being fetched (the caller's ``label``) and what to do.
``offline`` clients never open a connection.

Credentials (``Auth``) belong to one origin: redirects are followed here, not by httpx, and
the credential headers stop for good once a redirect leaves that origin (GitHub sends asset
downloads to a storage host that must never see the token).

Around it: ``http_auth`` (credentials and URLs fit for messages), ``http_failures`` (what
statuses, rate limits and httpx's exceptions mean), ``http_store`` (bodies kept for
conditional requests) and ``file_transport`` (``file://`` URLs).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.cookiejar
import json
import logging
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from steptemplates.console import Console
from steptemplates.errors import NetworkError, OfflineError, StepsError
from steptemplates.file_transport import CHUNK_SIZE, FileTransport, public_url, sendable_url
from steptemplates.http_auth import Auth, origin_of, shown_url
from steptemplates.http_failures import (
    Call,
    HttpStatusError,
    RateLimited,
    RateLimitError,
    Transient,
    converting_httpx_errors,
    gave_up,
    raise_for_status,
    rate_limit_error,
)
from steptemplates.http_store import JsonStore, StoredJson
from steptemplates.network import network_timeout, rate_limit_wait, retry_delay
from steptemplates.progress import ProgressLine, Transfer

__all__ = [
    "ATTEMPTS",
    "CHUNK_SIZE",
    "MAX_RATE_LIMIT_WAITS",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "Auth",
    "Downloaded",
    "HttpClient",
    "HttpStatusError",
    "JsonResponse",
    "RateLimitError",
    "origin_of",
    "shown_url",
]

ATTEMPTS = 4
"""Tries per request before a transient failure (timeout, reset, 5xx) is reported."""

MAX_REDIRECTS = 10
MAX_RATE_LIMIT_WAITS = 3  # sleeps for one request, so a server that keeps saying "soon" ends
USER_AGENT = "steps (step templates)"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})

T = TypeVar("T")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JsonResponse:
    data: Any
    url: str  # after redirects
    headers: Mapping[str, str]  # names lowercased
    next_url: str | None = None  # the Link header's rel="next"
    not_modified: bool = False  # answered 304 (or offline): ``data`` is the cached body

    @classmethod
    def from_store(cls, stored: StoredJson) -> JsonResponse:
        return cls(stored.data, stored.url, dict(stored.headers), stored.next_url, True)


@dataclass(frozen=True)
class Downloaded:
    path: Path  # a file in the staging directory given, complete (not verified: the caller does)
    size: int
    sha256: str  # hex
    sha512: str  # standard base64, as NuGet writes it


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
        self.timeout = timeout if timeout is not None else network_timeout()
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            # Cookies are matched by host, not port: one server's cookie must not reach another.
            cookies=http.cookiejar.CookieJar(
                http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
        )
        # Its own client: proxy settings (no_proxy=localhost) would take file://localhost URLs.
        self._files = httpx.Client(transport=FileTransport(), trust_env=False)
        self._stored = JsonStore(metadata_dir) if metadata_dir is not None else None
        self._progress = ProgressLine.for_console(console)
        self._count_lock = threading.Lock()
        self.requests_made = 0

    def close(self) -> None:
        self._client.close()
        self._files.close()

    # --- JSON documents ---

    def get_json(
        self,
        url: str,
        *,
        label: str,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        auth_hint: str | None = None,
        rate_limit_hint: str | None = None,
    ) -> JsonResponse:
        """GET a JSON document, revalidating a cached copy with its ETag when there is one."""
        call = Call(url, label, auth, headers or {}, auth_hint, rate_limit_hint)
        key = (url, call.sends_auth_to(url))
        cached = self._stored.load(*key) if self._stored is not None else None
        if self.offline:
            if cached is not None:
                return JsonResponse.from_store(cached)
            raise OfflineError(
                f"{label}: {call.shown} is not in the cache and --offline forbids fetching it",
                hint="run once without --offline to fill the cache",
            )

        def attempt() -> JsonResponse:
            request_headers = {"Accept": "application/json", **call.headers}
            if cached is not None:
                request_headers.update(cached.validators())
            with self._open(call, request_headers, not_modified_ok=cached is not None) as answer:
                if answer.status_code == 304 and cached is not None:
                    return JsonResponse.from_store(cached)
                body = answer.read()
            data = _parse_json(body, call)
            fetched = JsonResponse(
                data=data,
                url=public_url(str(answer.url)),
                headers=dict(answer.headers),
                next_url=answer.links.get("next", {}).get("url"),
            )
            if self._stored is not None:
                stored = StoredJson(fetched.data, fetched.url, fetched.headers, fetched.next_url)
                self._stored.save(*key, stored)
            return fetched

        return self._retrying(call, attempt)

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
        rate_limit_hint: str | None = None,
    ) -> Downloaded:
        """Download ``url`` into a new file under ``staging``, hashing it on the way."""
        call = Call(url, label, auth, headers or {}, auth_hint, rate_limit_hint)
        if self.offline:
            raise OfflineError(
                f"{label}: cannot download {call.shown}: --offline forbids network access",
                hint="run once without --offline to fill the cache",
            )
        partial = _Partial.create(staging, label)
        try:
            with self._progress.start(label) as transfer:
                return self._retrying(call, lambda: self._download_once(call, partial, transfer))
        except BaseException:
            partial.discard()
            raise

    def _download_once(self, call: Call, partial: _Partial, transfer: Transfer) -> Downloaded:
        # Identity: the Content-Length then counts the file's own bytes, and ranges resume it.
        request_headers = {
            **call.headers,
            "Accept-Encoding": "identity",
            **partial.resume_headers(),
        }
        resuming = "Range" in request_headers
        with self._open(call, request_headers, range_refusal_ok=resuming) as answer:
            if answer.status_code == 416:
                partial.restart()
                raise Transient("the server refused to resume the download")
            if answer.status_code == 206 and resuming and _range_start(answer) == partial.size:
                total = _range_total(answer)
            elif answer.status_code == 206:
                partial.restart()
                raise Transient("the server sent a part of the file that was not asked for")
            else:
                partial.restart()
                partial.etag = answer.headers.get("etag")
                partial.resumable = _can_resume(answer)
                # A compressed answer's length says nothing about the file's own size.
                total = _content_length(answer) if not _is_encoded(answer) else None
            announced = _content_length(answer)
            # As received, not re-chunked: bytes held back in a buffer would be lost to a resume.
            for chunk in answer.iter_bytes():
                partial.append(chunk)
                transfer.update(partial.size, total)
            received = answer.num_bytes_downloaded
            if announced is not None and received < announced:
                raise Transient(f"the connection closed after {received} of {announced} bytes")
            if total is not None and partial.size != total:
                partial.restart()
                raise Transient(f"the file came to {partial.size} bytes, not {total}")
        return partial.complete()

    # --- retries and rate limits ---

    def _retrying(self, call: Call, attempt: Callable[[], T]) -> T:
        failures = 0
        rate_limit_waits = 0
        while True:
            try:
                return converting_httpx_errors(call, self.timeout, attempt)
            except Transient as failure:
                failures += 1
                if failures >= ATTEMPTS:
                    raise gave_up(call, failure, failures) from None
                delay = retry_delay(failures)
                _log.info(
                    "%s: %s: %s (attempt %d of %d); retrying in %.2f s",
                    call.label,
                    call.shown,
                    failure.what,
                    failures,
                    ATTEMPTS,
                    delay,
                )
                time.sleep(delay)
            except RateLimited as limited:
                rate_limit_waits += 1
                self._wait_for_reset(call, limited, rate_limit_waits)

    def _wait_for_reset(self, call: Call, limited: RateLimited, waits: int) -> None:
        wait = max(limited.wait, 0.0)
        if wait > rate_limit_wait() or waits > MAX_RATE_LIMIT_WAITS:
            raise rate_limit_error(call, limited.host, wait)
        self.console.warning(
            f"{call.label}: the rate limit of {limited.host} is used up; "
            f"waiting {math.ceil(wait)} s for it to reset"
        )
        time.sleep(wait)

    # --- requests and redirects ---

    @contextlib.contextmanager
    def _open(
        self,
        call: Call,
        headers: Mapping[str, str],
        *,
        not_modified_ok: bool = False,
        range_refusal_ok: bool = False,
    ) -> Iterator[httpx.Response]:
        """The final answer to a GET of ``call.url``, redirects followed, error statuses raised."""
        answer, sent_auth = self._follow_redirects(call, headers)
        try:
            status = answer.status_code
            accepted = (
                200 <= status < 300
                or (status == 304 and not_modified_ok)
                or (status == 416 and range_refusal_ok)
            )
            if not accepted:
                raise_for_status(call, answer, sent_auth)
            yield answer
        finally:
            answer.close()

    def _follow_redirects(
        self, call: Call, headers: Mapping[str, str]
    ) -> tuple[httpx.Response, bool]:
        """The first answer that is not a redirect, and whether credentials went with it."""
        url = call.url
        with_auth = call.sends_auth_to(url)
        for _ in range(MAX_REDIRECTS + 1):
            request_headers = dict(headers)
            if with_auth and call.auth is not None:
                request_headers.update(call.auth.headers)
            answer = self._send(url, request_headers)
            location = answer.headers.get("location")
            if answer.status_code not in _REDIRECTS or not location:
                return answer, with_auth
            answer.close()
            url = _redirect_target(call, url, location)
            # Once off the credentials' origin, never again: a storage host may redirect back.
            with_auth = with_auth and call.sends_auth_to(url)
        raise NetworkError(
            f"{call.label}: {call.shown} redirected more than {MAX_REDIRECTS} times",
            hint="the server is misconfigured (a redirect loop?); check the URL or tell its owner",
        )

    def _send(self, url: str, headers: Mapping[str, str]) -> httpx.Response:
        with self._count_lock:
            self.requests_made += 1
        client = self._files if url.startswith("file:") else self._client
        request = client.build_request("GET", sendable_url(url), headers=headers)
        return client.send(request, stream=True)


# --- JSON bodies and redirects ---


def _parse_json(body: bytes, call: Call) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        start = " ".join(body[:60].decode("utf-8", "replace").split())
        said = f"it starts with {start!r}" if start else "the answer was empty"
        raise NetworkError(
            f"{call.label}: {call.shown} did not answer with valid JSON ({said})",
            hint="check that the URL points at the right service (an API or feed, not a page)",
        ) from None


def _redirect_target(call: Call, current: str, location: str) -> str:
    target = urljoin(public_url(current), location)
    if urlsplit(target).scheme not in ("http", "https"):
        # A web server must not be able to send the client to read local files.
        raise NetworkError(
            f"{call.label}: {call.shown} redirected to a {urlsplit(target).scheme or 'relative'} "
            "URL, which is not followed",
            hint="check the URL",
        )
    return target


# --- download headers ---


def _content_length(answer: httpx.Response) -> int | None:
    value = answer.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _range_start(answer: httpx.Response) -> int | None:
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", answer.headers.get("content-range", ""))
    return int(match.group(1)) if match else None


def _range_total(answer: httpx.Response) -> int | None:
    match = re.fullmatch(r"bytes \d+-\d+/(\d+)", answer.headers.get("content-range", ""))
    return int(match.group(1)) if match else None


def _is_encoded(answer: httpx.Response) -> bool:
    return answer.headers.get("content-encoding", "identity").lower() != "identity"


def _can_resume(answer: httpx.Response) -> bool:
    return answer.headers.get("accept-ranges", "").lower() == "bytes" and not _is_encoded(answer)


# --- the partial download ---


class _Partial:
    """The file a download is written to, with hashes always covering exactly its bytes."""

    def __init__(self, path: Path, handle: BinaryIO, label: str) -> None:
        self.path = path
        self._handle = handle
        self._label = label
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._sha512 = hashlib.sha512()
        self.etag: str | None = None
        self.resumable = False  # the server takes byte ranges for this file

    @classmethod
    def create(cls, staging: Path, label: str) -> _Partial:
        try:
            staging.mkdir(parents=True, exist_ok=True)
            # A unique name per download: several threads may fetch the same URL at once.
            fd, name = tempfile.mkstemp(prefix="download-", suffix=".part", dir=staging)
        except OSError as error:
            raise _cannot_write(label, staging, error) from None
        return cls(Path(name), os.fdopen(fd, "wb"), label)

    def resume_headers(self) -> dict[str, str]:
        if not (self.size and self.resumable):
            return {}
        headers = {"Range": f"bytes={self.size}-"}
        if self.etag:
            headers["If-Range"] = self.etag
        return headers

    def restart(self) -> None:
        if self.size:
            self._handle.seek(0)
            self._handle.truncate()
        self.size = 0
        self._sha256, self._sha512 = hashlib.sha256(), hashlib.sha512()

    def append(self, chunk: bytes) -> None:
        try:
            self._handle.write(chunk)
        except OSError as error:
            raise _cannot_write(self._label, self.path.parent, error) from None
        self._sha256.update(chunk)
        self._sha512.update(chunk)
        self.size += len(chunk)

    def complete(self) -> Downloaded:
        try:
            self._handle.close()
        except OSError as error:
            raise _cannot_write(self._label, self.path.parent, error) from None
        sha512 = base64.b64encode(self._sha512.digest()).decode("ascii")
        return Downloaded(self.path, self.size, self._sha256.hexdigest(), sha512)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        self.path.unlink(missing_ok=True)


def _cannot_write(label: str, directory: Path, error: OSError) -> StepsError:
    return StepsError(
        f"{label}: cannot write a download into {directory}: {error.strerror or error}",
        hint="check that the cache directory is writable and the disk has room",
    )
