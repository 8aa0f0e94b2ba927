"""The one user-facing error type, caught once by the CLI and printed as a single line."""

from __future__ import annotations


class StepsError(Exception):
    """A failure the user can act on: bad input, a missing version, an unreachable source.

    The message is complete on its own: it names the file, key or source involved and says
    what to do. The CLI prints it as one line and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class NetworkError(StepsError):
    """A remote could not be reached or answered with an error after retries."""


class OfflineError(StepsError):
    """Something needs the network but ``--offline`` forbids it."""


class LockMismatchError(StepsError):
    """The lockfile disagrees with the manifest, the cache or the remote."""


class NoMatchingVersionError(StepsError):
    """No version a source offers satisfies a range (module resolution reports who asked)."""
