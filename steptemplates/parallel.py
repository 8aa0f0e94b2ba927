"""Running independent network-bound jobs at once, without blocking Ctrl-C."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

MAX_WORKERS = 8


def run_all(jobs: Sequence[Callable[[], T]], *, workers: int = MAX_WORKERS) -> list[T]:
    """Run ``jobs`` on up to ``workers`` threads; results in order, or the first error raised.

    Daemon threads rather than ``concurrent.futures``: on Ctrl-C the main thread must be able
    to stop at once instead of waiting for every fetch in flight to finish. Anything a job
    leaves behind is in the cache's staging area, which is never mistaken for an entry.
    """
    if len(jobs) <= 1 or workers <= 1:
        return [job() for job in jobs]
    pending: queue.Queue[int] = queue.Queue()
    for index in range(len(jobs)):
        pending.put(index)
    done: queue.Queue[tuple[int, T | None, BaseException | None]] = queue.Queue()

    def worker() -> None:
        while True:
            try:
                index = pending.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((index, jobs[index](), None))
            except BaseException as exc:  # handed to the main thread, which re-raises it
                done.put((index, None, exc))

    for _ in range(min(workers, len(jobs))):
        threading.Thread(target=worker, daemon=True).start()
    results: dict[int, T] = {}
    for _ in range(len(jobs)):
        index, result, error = done.get()
        if error is not None:
            # Stop handing out work; jobs already running finish on their own.
            while not pending.empty():
                pending.get_nowait()
            raise error
        results[index] = result  # type: ignore[assignment]
    return [results[i] for i in range(len(jobs))]
