"""Running independent jobs at once: order, errors, and the worker bound."""

from __future__ import annotations

import threading
import time

import pytest

from steptemplates.parallel import run_all


def test_results_come_back_in_job_order() -> None:
    def job(n: int) -> int:
        time.sleep(0.01 * (5 - n))
        return n * n

    assert run_all([lambda n=n: job(n) for n in range(6)]) == [0, 1, 4, 9, 16, 25]  # type: ignore[misc]


def test_a_single_job_runs_on_the_calling_thread() -> None:
    assert run_all([threading.get_ident]) == [threading.get_ident()]


def test_the_first_error_is_raised_and_the_rest_are_not_started() -> None:
    started: list[int] = []

    def job(n: int) -> int:
        started.append(n)
        if n == 0:
            raise ValueError("job 0 failed")
        time.sleep(0.05)
        return n

    with pytest.raises(ValueError, match="job 0 failed"):
        run_all([lambda n=n: job(n) for n in range(20)], workers=2)  # type: ignore[misc]

    time.sleep(0.1)
    assert len(started) < 20


def test_at_most_workers_run_at_once() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    run_all([job] * 12, workers=3)

    assert peak == 3
