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
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from steptemplates import fsutil
from steptemplates.console import Console
from steptemplates.errors import NetworkError, OfflineError, StepsError
from steptemplates.network import network_timeout, rate_limit_wait, retry_delay
from steptemplates.progress import ProgressLine, Transfer

ATTEMPTS = 4
"""Tries per request before a transient failure (timeout, reset, 5xx) is reported."""

MAX_REDIRECTS = 10
MAX_RATE_LIMIT_WAITS = 3  # sleeps for one request, so a server that keeps saying "soon" ends
USER_AGENT = "steps (step templates)"
CHUNK_SIZE = 64 * 1024

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Response headers kept with a cached JSON body: enough to answer offline and to paginate.
_KEPT_HEADERS = ("content-type", "etag", "last-modified", "link", "date")
_SECRET_QUERY_KEY = re.compile(r"token|key|sig|secret|password|passwd|auth|credential", re.I)

T = TypeVar("T")
_log = logging.getLogger(__name__)


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
    headers: Mapping[str, str]  # names lowercased
    next_url: str | None = None  # the Link header's rel="next"
    not_modified: bool = False  # answered 304 (or offline): ``data`` is the cached body


@dataclass(frozen=True)
class Downloaded:
    path: Path  # a file in the staging directory given, complete (not verified: the caller does)
    size: int
    sha256: str  # hex
    sha512: str  # standard base64, as NuGet writes it


class HttpStatusError(NetworkError):
    """The server answered with an error status (after retries, for transient ones)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class RateLimitError(NetworkError):
    """A host's rate limit is used up and resets later than steps is willing to wait."""

    def __init__(
        self, message: str, *, hint: str | None = None, resets_at: datetime | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.resets_at = resets_at


@dataclass(frozen=True)
class _Call:
    """One ``get_json`` or ``download``: what it fetches and how to talk about failures."""

    url: str
    label: str
    auth: Auth | None
    headers: Mapping[str, str]
    auth_hint: str | None
    rate_limit_hint: str | None

    @property
    def shown(self) -> str:
        return shown_url(self.url)

    def sends_auth_to(self, url: str) -> bool:
        return self.auth is not None and origin_of(url) == self.auth.origin


class _Transient(Exception):
    """A failure another attempt may cure; ``what`` says what happened, for the last message."""

    def __init__(self, what: str, *, status: int | None = None, host: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.host = host  # set for a rate limit whose reset time is unknown


class _RateLimited(Exception):
    def __init__(self, host: str, wait: float) -> None:
        super().__init__(host)
        self.host = host
        self.wait = wait


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
        self._files = httpx.Client(transport=_FileTransport(), trust_env=False)
        self._stored = _JsonStore(metadata_dir) if metadata_dir is not None else None
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
        call = _Call(url, label, auth, headers or {}, auth_hint, rate_limit_hint)
        key = (url, call.sends_auth_to(url))
        cached = self._stored.load(*key) if self._stored is not None else None
        if self.offline:
            if cached is not None:
                return cached.response()
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
                    return cached.response()
                body = answer.read()
            data = _parse_json(body, call)
            fetched = JsonResponse(
                data=data,
                url=_public_url(str(answer.url)),
                headers=dict(answer.headers),
                next_url=answer.links.get("next", {}).get("url"),
            )
            if self._stored is not None:
                self._stored.save(*key, fetched)
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
        call = _Call(url, label, auth, headers or {}, auth_hint, rate_limit_hint)
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

    def _download_once(self, call: _Call, partial: _Partial, transfer: Transfer) -> Downloaded:
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
                raise _Transient("the server refused to resume the download")
            if answer.status_code == 206 and resuming and _range_start(answer) == partial.size:
                total = _range_total(answer)
            elif answer.status_code == 206:
                partial.restart()
                raise _Transient("the server sent a part of the file that was not asked for")
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
                raise _Transient(f"the connection closed after {received} of {announced} bytes")
            if total is not None and partial.size != total:
                partial.restart()
                raise _Transient(f"the file came to {partial.size} bytes, not {total}")
        return partial.complete()

    # --- retries and rate limits ---

    def _retrying(self, call: _Call, attempt: Callable[[], T]) -> T:
        failures = 0
        rate_limit_waits = 0
        while True:
            try:
                return _converting_httpx_errors(call, self.timeout, attempt)
            except _Transient as failure:
                failures += 1
                if failures >= ATTEMPTS:
                    raise _gave_up(call, failure, failures) from None
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
            except _RateLimited as limited:
                rate_limit_waits += 1
                self._wait_for_reset(call, limited, rate_limit_waits)

    def _wait_for_reset(self, call: _Call, limited: _RateLimited, waits: int) -> None:
        wait = max(limited.wait, 0.0)
        if wait > rate_limit_wait() or waits > MAX_RATE_LIMIT_WAITS:
            raise _rate_limit_error(call, limited.host, wait)
        self.console.warning(
            f"{call.label}: the rate limit of {limited.host} is used up; "
            f"waiting {math.ceil(wait)} s for it to reset"
        )
        time.sleep(wait)

    # --- requests and redirects ---

    @contextlib.contextmanager
    def _open(
        self,
        call: _Call,
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
                _raise_for_status(call, answer, sent_auth)
            yield answer
        finally:
            answer.close()

    def _follow_redirects(
        self, call: _Call, headers: Mapping[str, str]
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
        request = client.build_request("GET", _sendable_url(url), headers=headers)
        return client.send(request, stream=True)


# --- statuses and failures ---


def _raise_for_status(call: _Call, answer: httpx.Response, sent_auth: bool) -> None:
    status = answer.status_code
    answered = f"answered {status} {answer.reason_phrase}".rstrip()
    _raise_if_rate_limited(answer, answered)
    if status in (408, 429) or status >= 500:
        raise _Transient(answered, status=status)
    message = f"{call.label}: {call.shown} {answered}"
    if status in (401, 403):
        if not sent_auth:
            message += " (no credentials were sent)"
        elif call.auth is not None and call.auth.description:
            message += f" (credentials from {call.auth.description} were sent)"
        hint = call.auth_hint or (
            "check the credentials for this host (~/.netrc or the source's settings in steps.toml)"
        )
        raise HttpStatusError(message, status=status, hint=hint)
    if status == 404:
        raise HttpStatusError(message, status=status, hint="check the URL and the name")
    raise HttpStatusError(message, status=status, hint="check the URL; the server refused it")


def _raise_if_rate_limited(answer: httpx.Response, answered: str) -> None:
    """GitHub's rules: a 429, or a 403 with no requests remaining or a Retry-After."""
    status, headers = answer.status_code, answer.headers
    limited = status == 429 or (
        status == 403 and (headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers)
    )
    if not limited:
        return
    host = urlsplit(str(answer.url)).netloc.rpartition("@")[2]
    wait = _seconds_until_reset(headers, time.time())
    if wait is None:
        # No word on when it resets: back off like any transient failure.
        raise _Transient(answered, status=status, host=host)
    raise _RateLimited(host, wait)


def _seconds_until_reset(headers: httpx.Headers, now: float) -> float | None:
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        with contextlib.suppress(TypeError, ValueError):
            return email.utils.parsedate_to_datetime(retry_after).timestamp() - now
    reset = headers.get("x-ratelimit-reset", "").strip()
    with contextlib.suppress(ValueError):
        seconds = float(reset) - now
        return seconds if math.isfinite(seconds) else None
    return None


def _rate_limit_error(call: _Call, host: str, wait: float | None) -> RateLimitError:
    hint = call.rate_limit_hint or (
        "try again later, or set STEPS_RATE_LIMIT_WAIT to the seconds steps may wait for it"
    )
    if wait is None:
        return RateLimitError(
            f"{call.label}: the rate limit of {host} is used up and it did not say when it "
            f"resets ({ATTEMPTS} attempts)",
            hint=hint,
        )
    resets_at = datetime.fromtimestamp(time.time() + wait, UTC)
    minutes = max(1, math.ceil(wait / 60))
    return RateLimitError(
        f"{call.label}: the rate limit of {host} is used up; it resets at "
        f"{resets_at:%H:%M:%S} UTC (in about {minutes} minute{'s' if minutes > 1 else ''})",
        hint=hint,
        resets_at=resets_at,
    )


def _gave_up(call: _Call, failure: _Transient, attempts: int) -> NetworkError:
    if failure.host:
        return _rate_limit_error(call, failure.host, None)
    if failure.status is not None:
        return NetworkError(
            f"{call.label}: {call.shown} {failure.what} after {attempts} attempts",
            hint="the server is having trouble; try again later",
        )
    return NetworkError(
        f"{call.label}: {call.shown}: {failure.what} ({attempts} attempts)",
        hint="check the network connection and that the server is up, then try again",
    )


def _converting_httpx_errors(call: _Call, timeout: float, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` with httpx's exceptions turned into ours: none may reach the user."""
    try:
        return attempt()
    except httpx.UnsupportedProtocol:
        raise NetworkError(
            f"{call.label}: cannot fetch {call.shown}: only http, https and file URLs work",
            hint="check the URL",
        ) from None
    except httpx.TransportError as error:
        raise _Transient(_describe(error, timeout)) from None
    except httpx.DecodingError:
        raise _Transient("the answer could not be decoded") from None
    except (httpx.InvalidURL, httpx.HTTPError) as error:
        raise NetworkError(
            f"{call.label}: cannot fetch {call.shown}: {type(error).__name__}",
            hint="check the URL",
        ) from None


def _describe(error: httpx.TransportError, timeout: float) -> str:
    """What went wrong, in words; httpx's own text can be long and says little."""
    text = str(error).lower()
    if isinstance(error, httpx.ConnectTimeout):
        return f"could not connect within {timeout:g} s"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out after {timeout:g} s"
    if "reset" in text:
        return "connection reset"
    if isinstance(error, httpx.ConnectError):
        if "refused" in text:
            return "connection refused"
        if "name" in text or "address" in text or "resolution" in text:
            return "the host name could not be resolved"
        return "could not connect"
    if isinstance(error, httpx.RemoteProtocolError):
        if "without sending a response" in text:
            return "the server closed the connection without answering"
        return "the connection closed before the whole answer arrived"
    if isinstance(error, httpx.ProxyError):
        return "the proxy failed"
    return "the connection failed"


def _parse_json(body: bytes, call: _Call) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        start = " ".join(body[:60].decode("utf-8", "replace").split())
        said = f"it starts with {start!r}" if start else "the answer was empty"
        raise NetworkError(
            f"{call.label}: {call.shown} did not answer with valid JSON ({said})",
            hint="check that the URL points at the right service (an API or feed, not a page)",
        ) from None


# --- URLs ---


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


def _redirect_target(call: _Call, current: str, location: str) -> str:
    target = urljoin(_public_url(current), location)
    if urlsplit(target).scheme not in ("http", "https"):
        # A web server must not be able to send the client to read local files.
        raise NetworkError(
            f"{call.label}: {call.shown} redirected to a {urlsplit(target).scheme or 'relative'} "
            "URL, which is not followed",
            hint="check the URL",
        )
    return target


def _sendable_url(url: str) -> str:
    # httpx takes a URL without a host for a relative one: name the local host explicitly.
    return "file://localhost/" + url[len("file:///") :] if url.startswith("file:///") else url


def _public_url(url: str) -> str:
    prefix = "file://localhost/"
    return "file:///" + url[len(prefix) :] if url.startswith(prefix) else url


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


# --- conditional requests ---


@dataclass(frozen=True)
class _StoredJson:
    """A JSON body kept with the validators that let the server answer 304 for it."""

    data: Any
    url: str
    headers: Mapping[str, str]
    next_url: str | None

    def validators(self) -> dict[str, str]:
        validators = {}
        if etag := self.headers.get("etag"):
            validators["If-None-Match"] = etag
        if last_modified := self.headers.get("last-modified"):
            validators["If-Modified-Since"] = last_modified
        return validators

    def response(self) -> JsonResponse:
        return JsonResponse(self.data, self.url, dict(self.headers), self.next_url, True)


class _JsonStore:
    """One small JSON file per URL (and whether credentials went with it) in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, url: str, with_auth: bool) -> Path:
        # Hashed: a URL may hold anything, and a file name must not.
        key = hashlib.sha256(f"{url}\n{'auth' if with_auth else 'anonymous'}".encode())
        return self.directory / f"{key.hexdigest()}.json"

    def load(self, url: str, with_auth: bool) -> _StoredJson | None:
        try:
            record = json.loads(self._path(url, with_auth).read_bytes())
            headers, next_url = record["headers"], record["next_url"]
            if record["request"] != url or not isinstance(headers, dict):
                return None
            if not all(isinstance(value, str) for value in headers.values()):
                return None
            next_url = next_url if isinstance(next_url, str) else None
            return _StoredJson(record["data"], str(record["url"]), headers, next_url)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: fetch afresh

    def save(self, url: str, with_auth: bool, fetched: JsonResponse) -> None:
        kept = {name: fetched.headers[name] for name in _KEPT_HEADERS if name in fetched.headers}
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


# --- file:// URLs ---


class _FileTransport(httpx.BaseTransport):
    """``file://`` URLs: 200 with the file's bytes, 404 when there is no such file."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw_path = request.url.raw_path.decode("ascii").partition("?")[0]
        path = Path(url2pathname(raw_path))
        if request.url.host not in ("", "localhost") or not path.is_file():
            return httpx.Response(404, headers={"Content-Type": "text/plain"}, content=b"")
        try:
            handle = path.open("rb")
        except OSError:
            return httpx.Response(403, headers={"Content-Type": "text/plain"}, content=b"")
        size = os.fstat(handle.fileno()).st_size
        return httpx.Response(
            200, headers={"Content-Length": str(size)}, stream=_FileStream(handle)
        )


class _FileStream(httpx.SyncByteStream):
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._handle.read(CHUNK_SIZE):
            yield chunk

    def close(self) -> None:
        self._handle.close()
