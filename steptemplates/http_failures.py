"""How a fetch fails: error statuses, rate limits and httpx's exceptions become one-line
``NetworkError``s naming what was being fetched, or ``Transient`` failures worth retrying."""

from __future__ import annotations

import contextlib
import email.utils
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from steptemplates.errors import NetworkError
from steptemplates.http_auth import Auth, origin_of, shown_url

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
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


class Transient(Exception):
    """A failure another attempt may cure; ``what`` says what happened, for the last message."""

    def __init__(self, what: str, *, status: int | None = None, host: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.host = host  # set for a rate limit whose reset time is unknown


class RateLimited(Exception):
    """A rate limit that resets in ``wait`` seconds: the client decides whether to wait."""

    def __init__(self, host: str, wait: float) -> None:
        super().__init__(host)
        self.host = host
        self.wait = wait


# --- error statuses ---


def raise_for_status(call: Call, answer: httpx.Response, sent_auth: bool) -> None:
    """Raise what an error status means: ``Transient``, ``RateLimited`` or ``HttpStatusError``."""
    status = answer.status_code
    answered = f"answered {status} {answer.reason_phrase}".rstrip()
    _raise_if_rate_limited(answer, answered)
    if status in (408, 429) or status >= 500:
        raise Transient(answered, status=status)
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


# --- rate limits ---


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
        raise Transient(answered, status=status, host=host)
    raise RateLimited(host, wait)


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


def rate_limit_error(call: Call, host: str, wait: float) -> RateLimitError:
    """The limit resets in ``wait`` seconds, longer than steps will wait."""
    resets_at = datetime.fromtimestamp(time.time() + wait, UTC)
    minutes = max(1, math.ceil(wait / 60))
    return RateLimitError(
        f"{call.label}: the rate limit of {host} is used up; it resets at "
        f"{resets_at:%H:%M:%S} UTC (in about {minutes} minute{'s' if minutes > 1 else ''})",
        hint=_rate_limit_hint(call),
        resets_at=resets_at,
    )


def _rate_limit_hint(call: Call) -> str:
    return call.rate_limit_hint or (
        "try again later, or set STEPS_RATE_LIMIT_WAIT to the seconds steps may wait for it"
    )


# --- giving up ---


def gave_up(call: Call, failure: Transient, attempts: int) -> NetworkError:
    """The error for the last of ``attempts`` transient failures."""
    if failure.host:
        return RateLimitError(
            f"{call.label}: the rate limit of {failure.host} is used up and it did not say "
            f"when it resets ({attempts} attempts)",
            hint=_rate_limit_hint(call),
        )
    if failure.status is not None:
        return NetworkError(
            f"{call.label}: {call.shown} {failure.what} after {attempts} attempts",
            hint="the server is having trouble; try again later",
        )
    return NetworkError(
        f"{call.label}: {call.shown}: {failure.what} ({attempts} attempts)",
        hint="check the network connection and that the server is up, then try again",
    )


# --- httpx's exceptions ---


def converting_httpx_errors(call: Call, timeout: float, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` with httpx's exceptions turned into ours: none may reach the user."""
    try:
        return attempt()
    except httpx.UnsupportedProtocol:
        raise NetworkError(
            f"{call.label}: cannot fetch {call.shown}: only http, https and file URLs work",
            hint="check the URL",
        ) from None
    except httpx.TransportError as error:
        raise Transient(_describe(error, timeout)) from None
    except httpx.DecodingError:
        raise Transient("the answer could not be decoded") from None
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
