"""Run every benchmark and print one table of figures against their goals.

    python3 benchmarks/run_all.py

Takes a few minutes, most of them building and extracting the 200 MB package; each
benchmark can also run on its own (see benchmarks/README.md).
"""

from __future__ import annotations

import time

import cold_lock
import extract
import feeds
import harness
import registry_build
import registry_search
import render
import run_overhead
import structured
import warm_noop


def main() -> None:
    started = time.perf_counter()
    figures = [
        *cold_lock.run(),
        *warm_noop.run(),
        *feeds.run(),
        *run_overhead.run(),
        *registry_search.run(),
        *registry_build.run(),
        *render.run(),
        *structured.run(),
        *extract.run(),
    ]
    harness.heading(f"summary ({time.perf_counter() - started:.0f} s)")
    harness.print_table(figures)


if __name__ == "__main__":
    main()
