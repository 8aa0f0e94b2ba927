"""Timeouts and retries shared by every source that talks to the network."""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from steptemplates.errors import StepsError

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
"""Seconds any single network operation may wait for the other side (``STEPS_NETWORK_TIMEOUT``)."""

DEFAULT_BACKOFF = 0.5
"""Seconds before the first retry, doubled each time (``STEPS_RETRY_BACKOFF``)."""

DEFAULT_RATE_LIMIT_WAIT = 20.0
"""The longest sleep for a rate limit to reset before giving up (``STEPS_RATE_LIMIT_WAIT``)."""

_MAX_SECONDS = 86400.0

_log = logging.getLogger(__name__)


def _seconds_from_env(name: str, default: float, *, allow_zero: bool = False) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
        lowest_ok = seconds >= 0 if allow_zero else seconds > 0
        if not (lowest_ok and seconds <= _MAX_SECONDS):  # also refuses nan and inf
            raise ValueError(value)
    except ValueError:
        raise StepsError(
            f"{name} must be a number of seconds between 0 and {_MAX_SECONDS:g}, not {value!r}"
        ) from None
    return seconds


def network_timeout() -> float:
    """The timeout for network operations: ``STEPS_NETWORK_TIMEOUT`` or ``DEFAULT_TIMEOUT``."""
    return _seconds_from_env("STEPS_NETWORK_TIMEOUT", DEFAULT_TIMEOUT)


def rate_limit_wait() -> float:
    """The longest wait for a rate limit to reset: ``STEPS_RATE_LIMIT_WAIT`` (0: never wait)."""
    return _seconds_from_env("STEPS_RATE_LIMIT_WAIT", DEFAULT_RATE_LIMIT_WAIT, allow_zero=True)


def retry_delay(attempt: int) -> float:
    """Seconds to sleep after failed attempt number ``attempt`` (1-based) before the next."""
    base = _seconds_from_env("STEPS_RETRY_BACKOFF", DEFAULT_BACKOFF)
    # Jitter keeps parallel resolves of one host from retrying in lockstep.
    return base * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)


def with_retries(
    operation: Callable[[], T],
    *,
    what: str,
    is_transient: Callable[[BaseException], bool],
    attempts: int = 3,
) -> T:
    """Run ``operation``, retrying transient failures with exponential backoff and jitter.

    ``what`` names the operation in log lines. The last error is re-raised once ``attempts`` are
    used up, or as soon as one is not transient.
    """
    attempt = 1
    while True:
        try:
            return operation()
        except Exception as exc:
            if attempt >= attempts or not is_transient(exc):
                raise
            delay = retry_delay(attempt)
            _log.info(
                "%s failed (%s), attempt %d of %d; retrying in %.2f s",
                what,
                exc,
                attempt,
                attempts,
                delay,
            )
            time.sleep(delay)
            attempt += 1
