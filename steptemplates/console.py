"""Where steps writes what people read: script output by level, and its own status lines.

Every line goes through the run's ``Masker``, so a sensitive value cannot reach the
terminal whatever path it took (script output, an error message, a status line).
"""

from __future__ import annotations

import enum
import os
import sys
from typing import TextIO

from steptemplates.masking import Masker


class Level(enum.Enum):
    VERBOSE = "verbose"
    INFO = "info"
    HIGHLIGHT = "highlight"
    WAIT = "wait"
    WARNING = "warning"
    ERROR = "error"


_COLOURS = {
    Level.VERBOSE: "\033[2m",
    Level.HIGHLIGHT: "\033[1;36m",
    Level.WAIT: "\033[35m",
    Level.WARNING: "\033[33m",
    Level.ERROR: "\033[31m",
}
_RESET = "\033[0m"


def _wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


class Console:
    """Prints masked lines: script output to stdout, warnings, errors and status to stderr."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        verbose: bool = False,
        quiet: bool = False,
        masker: Masker | None = None,
    ) -> None:
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.verbose = verbose
        self.quiet = quiet
        self.masker = masker if masker is not None else Masker()
        self._colour_out = _wants_colour(self.out)
        self._colour_err = _wants_colour(self.err)

    def line(self, level: Level, text: str) -> None:
        """One line of script output at the given level."""
        if level is Level.VERBOSE and not self.verbose:
            return
        to_err = level in (Level.WARNING, Level.ERROR)
        self._write(to_err, _COLOURS.get(level), self.masker.mask(text))

    def status(self, text: str) -> None:
        """One of steps' own progress lines (suppressed by --quiet)."""
        if not self.quiet:
            self._write(True, None, self.masker.mask(text))

    def warning(self, text: str) -> None:
        self._write(True, _COLOURS[Level.WARNING], "warning: " + self.masker.mask(text))

    def error(self, text: str) -> None:
        self._write(True, _COLOURS[Level.ERROR], "error: " + self.masker.mask(text))

    def _write(self, to_err: bool, colour: str | None, text: str) -> None:
        stream = self.err if to_err else self.out
        if colour and (self._colour_err if to_err else self._colour_out):
            text = f"{colour}{text}{_RESET}"
        stream.write(text + "\n")
        stream.flush()
