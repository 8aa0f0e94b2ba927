"""One progress line for the downloads of a run, shown on a terminal only.

Sources download in parallel threads, so every transfer reports to one shared line that
shows them all, redrawn under a lock at most ten times a second and erased when the last
visible transfer ends. Small downloads never show: a line that flashes for a moment is noise.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from steptemplates.console import Console

VISIBLE_FROM = 1_000_000
"""Bytes a transfer must announce (or pass, when its size is unknown) to be shown."""

REDRAW_EVERY = 0.1
"""Seconds between redraws while nothing appears or disappears."""


@dataclass
class _State:
    label: str
    done: int = 0
    total: int | None = None

    @property
    def visible(self) -> bool:
        size = self.total if self.total is not None else self.done
        return size > VISIBLE_FROM


class ProgressLine:
    """The line on ``stream``; with ``enabled`` false every call does nothing."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool,
        mask: Callable[[str], str] = str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.enabled = enabled
        self._mask = mask
        self._clock = clock
        self._lock = threading.Lock()
        self._transfers: dict[int, _State] = {}
        self._next_key = 0
        self._drawn_width = 0  # characters on screen now; 0 when the line is erased
        self._drawn_count = 0  # visible transfers when it was last drawn
        self._drawn_at = 0.0

    @classmethod
    def for_console(cls, console: Console) -> ProgressLine:
        """Enabled when the console's error stream is a terminal and it is not quiet."""
        stream = console.err
        is_terminal = hasattr(stream, "isatty") and stream.isatty()
        return cls(stream, enabled=is_terminal and not console.quiet, mask=console.masker.mask)

    def start(self, label: str) -> Transfer:
        with self._lock:
            key = self._next_key
            self._next_key += 1
            self._transfers[key] = _State(label)
        return Transfer(self, key)

    def _update(self, key: int, done: int, total: int | None) -> None:
        with self._lock:
            state = self._transfers.get(key)
            if state is None:
                return
            state.done, state.total = done, total
            self._redraw(force=False)

    def _finish(self, key: int) -> None:
        with self._lock:
            if self._transfers.pop(key, None) is not None:
                self._redraw(force=True)

    def _redraw(self, *, force: bool) -> None:
        if not self.enabled:
            return
        visible = [state for state in self._transfers.values() if state.visible]
        if not visible:
            self._erase()
            return
        now = self._clock()
        appeared = len(visible) != self._drawn_count
        if not (force or appeared or now - self._drawn_at >= REDRAW_EVERY):
            return
        text = self._mask(describe(visible))
        width = max(shutil.get_terminal_size().columns - 1, 20)
        text = text[:width]
        self.stream.write("\r" + text.ljust(self._drawn_width))
        self.stream.flush()
        self._drawn_width = len(text)
        self._drawn_count = len(visible)
        self._drawn_at = now

    def _erase(self) -> None:
        if self._drawn_width:
            self.stream.write("\r" + " " * self._drawn_width + "\r")
            self.stream.flush()
        self._drawn_width = 0
        self._drawn_count = 0


class Transfer:
    """One download's share of the line; ``finish`` (or leaving ``with``) removes it."""

    def __init__(self, line: ProgressLine, key: int) -> None:
        self._line = line
        self._key = key

    def update(self, done: int, total: int | None) -> None:
        """``done`` bytes of ``total`` (None: unknown) so far; ``done`` may go back to 0."""
        self._line._update(self._key, done, total)

    def finish(self) -> None:
        self._line._finish(self._key)

    def __enter__(self) -> Transfer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finish()


def describe(visible: list[_State]) -> str:
    """The line's text for the transfers shown."""
    done = sum(state.done for state in visible)
    totals = [state.total for state in visible]
    if len(visible) == 1:
        subject = f"downloading {visible[0].label}"
    else:
        subject = f"downloading {len(visible)} files"
    if any(total is None for total in totals):
        return f"{subject}: {format_size(done)}"
    total = sum(t for t in totals if t is not None)
    percent = min(100, done * 100 // total) if total else 100
    return f"{subject}: {format_size(done)} of {format_size(total)} ({percent}%)"


def format_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    if size < 1_000_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1_000_000_000:.2f} GB"
