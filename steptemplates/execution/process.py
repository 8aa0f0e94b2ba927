"""Running a script's process: output line by line, a bounded wait, group termination.

Calamari waits for the script to exit and then for its output pipes to close, so a
background child that inherits them (``nohup svc &``) holds the step until it exits. Here
the step ends when the script's own process exits: the pipes get ``GRACE_PERIOD`` to close,
then output still arriving is read and discarded so the child can keep writing.
"""

from __future__ import annotations

import codecs
import contextlib
import enum
import os
import queue
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from steptemplates.errors import StepsError

GRACE_PERIOD = 1.0
"""Seconds the output pipes get to close after the script's process exits."""

TERMINATE_WAIT = 3.0
"""Seconds between SIGTERM and SIGKILL when a process group is stopped."""

_CHUNK = 64 * 1024
# Longer lines are passed on in pieces, so output without newlines cannot exhaust memory.
_MAX_LINE = 8 * 1024 * 1024

LineHandler = Callable[[str], None]


class Ending(enum.Enum):
    EXITED = "exited"
    TIMED_OUT = "timed out"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class ProcessResult:
    """How the process ended; ``exit_code`` is set only when it exited by itself."""

    ending: Ending
    exit_code: int | None
    output_cut_off: bool  # output was still arriving (from a background child) when reading stopped


def run_process(
    argv: Sequence[str],
    cwd: Path,
    on_stdout: LineHandler,
    on_stderr: LineHandler,
    timeout: float | None = None,
) -> ProcessResult:
    """Run ``argv`` in its own session, handing each output line to a handler on this thread."""
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,
        )
    except OSError as error:
        raise StepsError(
            f"could not start `{argv[0]}` in {cwd}: {error.strerror}",
            hint="check that it is installed and on PATH",
        ) from error
    output = _Output(process, on_stdout, on_stderr)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        exited = output.deliver_until_exit(deadline)
        if not exited:
            _terminate_group(process.pid)
        complete = output.drain(GRACE_PERIOD)
    except KeyboardInterrupt:
        _terminate_group(process.pid)
        output.abandon()
        return ProcessResult(Ending.INTERRUPTED, None, output_cut_off=True)
    except BaseException:
        _terminate_group(process.pid)
        output.abandon()
        raise
    if exited:
        return ProcessResult(Ending.EXITED, process.returncode, output_cut_off=not complete)
    return ProcessResult(Ending.TIMED_OUT, None, output_cut_off=not complete)


class _Output:
    """Reads both pipes on one daemon thread and queues their lines for the caller's thread.

    Whatever a script wrote to stdout before writing to stderr is handled first (a mode
    change, a value to mask): each round reads stderr, then stdout, and queues stdout first.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], on_stdout: LineHandler, on_stderr: LineHandler
    ) -> None:
        assert process.stdout is not None and process.stderr is not None
        self._events: queue.Queue[tuple[LineHandler, str] | None] = queue.Queue()
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._exited = threading.Event()
        self._closed = threading.Event()
        pipes = [(process.stdout, on_stdout), (process.stderr, on_stderr)]
        threading.Thread(target=self._pump, args=(pipes,), daemon=True).start()
        threading.Thread(target=self._wait, args=(process,), daemon=True).start()

    def deliver_until_exit(self, deadline: float | None) -> bool:
        """Hand lines to handlers until the process exits (True) or ``deadline`` passes (False)."""
        while not self._exited.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            try:
                event = self._events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event is not None:
                event[0](event[1])
        return True

    def drain(self, grace: float) -> bool:
        """Wait up to ``grace`` for both pipes to close, deliver what was read, stop forwarding.

        Returns whether both pipes closed; the grace period bounds the wait for the pipes,
        not the delivery of lines already read.
        """
        complete = self._closed.wait(grace)
        self._forwarding.clear()
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return complete
            if event is not None:
                event[0](event[1])

    def abandon(self) -> None:
        """Stop forwarding; lines already read are dropped."""
        self._forwarding.clear()

    def _pump(self, pipes: list[tuple[IO[bytes], LineHandler]]) -> None:
        streams = [(pipe, handler, _LineSplitter()) for pipe, handler in pipes]
        with selectors.DefaultSelector() as selector:
            for pipe, _, _ in streams:
                os.set_blocking(pipe.fileno(), False)
                selector.register(pipe, selectors.EVENT_READ)
            while streams:
                selector.select()
                # stderr first: stdout, read after it, then holds all written before it.
                chunks = {pipe: _read(pipe) for pipe, _, _ in reversed(streams)}
                for pipe, handler, splitter in list(streams):
                    chunk = chunks[pipe]
                    if chunk is None:
                        continue
                    if not chunk:
                        selector.unregister(pipe)
                        pipe.close()
                        streams.remove((pipe, handler, splitter))
                    for line in splitter.feed(chunk):
                        if self._forwarding.is_set():
                            self._events.put((handler, line))
        self._closed.set()

    def _wait(self, process: subprocess.Popen[bytes]) -> None:
        process.wait()
        self._exited.set()
        self._events.put(None)  # wakes deliver_until_exit


class _LineSplitter:
    """Turns chunks of UTF-8 output into lines without their endings."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []
        self._pending_size = 0

    def feed(self, chunk: bytes) -> list[str]:
        """The lines ``chunk`` completes; an empty chunk (EOF) also ends an unterminated line."""
        *complete, rest = self._decoder.decode(chunk, final=not chunk).split("\n")
        lines = []
        for piece in complete:
            lines.append(_strip_cr("".join([*self._pending, piece])))
            self._pending, self._pending_size = [], 0
        self._pending.append(rest)
        self._pending_size += len(rest)
        if self._pending_size and (not chunk or self._pending_size > _MAX_LINE):
            lines.append(_strip_cr("".join(self._pending)))
            self._pending, self._pending_size = [], 0
        return lines


def _read(pipe: IO[bytes]) -> bytes | None:
    """What the pipe holds now (``b""`` at EOF), or None if it is empty but still open."""
    try:
        return os.read(pipe.fileno(), _CHUNK)
    except BlockingIOError:
        return None


def _strip_cr(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def _terminate_group(pgid: int) -> None:
    """SIGTERM to the whole process group, SIGKILL to whatever is left after TERMINATE_WAIT."""
    _signal_group(pgid, signal.SIGTERM)
    end = time.monotonic() + TERMINATE_WAIT
    try:
        while time.monotonic() < end:
            if not _group_exists(pgid):
                return
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass  # a second Ctrl-C skips the wait
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
