"""Extracting a 200 MB zip package of 20,000 files, against `unzip -q -o ARCHIVE -d DIR`.

The package is built once: mostly small files (a third text, the rest random bytes, some
executable) in nested directories, plus a few large random files that make up the bulk of
the size, compressed with deflate. After one untimed run of each (whose file count is
checked), each run extracts into a fresh directory, removed afterwards, with `sync` before
it; rounds alternate the order of `extract()` and unzip, and the figure is the ratio of the
medians (goal <= 1.5). Creating 20,000 files is mostly kernel time, which varies from run
to run on a virtual machine; the user-CPU ratio is printed too, for the part each controls.

    python3 benchmarks/extract.py [--runs N] [--files N --megabytes M]

Needs the `unzip` command.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import Figure

NAME = "extract"
GOAL_RATIO = 1.5
LARGE_FILES = 100
SMALL_MAX_BYTES = 16 * 1024
_WORDS = b"deploy package step template variable octopus calamari script config release "


def build_package(path: Path, files: int, megabytes: int, seed: int = 20) -> int:
    """Write the benchmark package to ``path``; returns the bytes it holds uncompressed."""
    rng = random.Random(seed)
    large = min(LARGE_FILES, max(files // 200, 1))
    small = files - large
    small_sizes = [rng.randint(200, SMALL_MAX_BYTES) for _ in range(small)]
    remaining = max(megabytes * 1024 * 1024 - sum(small_sizes), large)
    large_sizes = [remaining // large] * large
    total = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for index, size in enumerate(small_sizes):
            total += _add(package, _small_name(index), _content(rng, size, index), index)
        for index, size in enumerate(large_sizes):
            total += _add(package, f"app/data/blob{index:03d}.bin", rng.randbytes(size), 1)
    return total


def _small_name(index: int) -> str:
    extension = (".js", ".dll", ".json", ".sh", ".css", ".png")[index % 6]
    return f"app/module{index % 40:02d}/part{index % 7}/file{index:05d}{extension}"


def _content(rng: random.Random, size: int, index: int) -> bytes:
    if index % 3 == 0:
        return (_WORDS * (size // len(_WORDS) + 1))[:size]
    return rng.randbytes(size)


def _add(package: zipfile.ZipFile, name: str, data: bytes, index: int) -> int:
    info = zipfile.ZipInfo(name, date_time=(2024, 5, 1, 12, 0, index % 60))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
    package.writestr(info, data)
    return len(data)


@dataclass(frozen=True)
class Timing:
    seconds: float
    user_cpu: float  # of the process doing the extraction, which is where the two differ


def _time_extract(archive: Path, destination: Path) -> Timing:
    from steptemplates.packages import extract

    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    started = time.perf_counter()
    extract(archive, destination)
    seconds = time.perf_counter() - started
    return Timing(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu)


def _time_unzip(archive: Path, destination: Path) -> Timing:
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    started = time.perf_counter()
    subprocess.run(
        ["unzip", "-q", "-o", str(archive), "-d", str(destination)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    return Timing(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu)


_TIMERS = {"steps": _time_extract, "unzip": _time_unzip}


def _count_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*") if path.is_file())


def _measure(archive: Path, tmp: Path, runs: int, files: int) -> dict[str, list[Timing]]:
    """A checked warm-up of each, then ``runs`` timed rounds in alternating order."""
    timings: dict[str, list[Timing]] = {"steps": [], "unzip": []}
    for which, timer in _TIMERS.items():
        destination = tmp / f"warm-up-{which}"
        timer(archive, destination)
        if _count_files(destination) != files:
            raise SystemExit(f"{which} did not extract {files} files; the benchmark is broken")
        shutil.rmtree(destination)
    for round_number in range(runs):
        order = ("steps", "unzip") if round_number % 2 == 0 else ("unzip", "steps")
        for which in order:
            destination = tmp / f"out-{which}-{round_number}"
            os.sync()  # start each run without the previous one's writeback still going on
            timings[which].append(_TIMERS[which](archive, destination))
            shutil.rmtree(destination)
    return timings


def run(runs: int = 5, files: int = 20_000, megabytes: int = 200) -> list[Figure]:
    harness.heading(f"{NAME}: a {megabytes} MB zip of {files} files vs unzip -q -o")
    if shutil.which("unzip") is None:
        raise SystemExit("unzip is not installed; the benchmark needs it as its baseline")
    with harness.scratch("extract") as tmp:
        archive = tmp / "webapp.1.0.0.zip"
        started = time.perf_counter()
        total = build_package(archive, files, megabytes)
        harness.report(
            "package",
            f"{archive.stat().st_size / 1e6:.0f} MB zipped, {total / 1e6:.0f} MB of files, "
            f"built in {time.perf_counter() - started:.1f} s",
        )
        timings = _measure(archive, tmp, runs, files)
    ours = [t.seconds for t in timings["steps"]]
    theirs = [t.seconds for t in timings["unzip"]]
    harness.report("extract()", harness.spread(ours))
    harness.report("unzip -q -o", harness.spread(theirs))
    ratio = statistics.median(ours) / statistics.median(theirs)
    cpu_ratio = statistics.median(t.user_cpu for t in timings["steps"]) / max(
        statistics.median(t.user_cpu for t in timings["unzip"]), 1e-6
    )
    harness.report("ratio extract/unzip", f"{ratio:.2f} (goal <= {GOAL_RATIO})")
    harness.report("user CPU ratio extract/unzip", f"{cpu_ratio:.2f} (the rest is the kernel's)")
    label = f"{megabytes} MB zip, {files} files, extract/unzip"
    return [
        Figure(NAME, label, ratio, "ratio", f"<= {GOAL_RATIO}", ratio <= GOAL_RATIO),
        Figure(NAME, "same, user CPU only", cpu_ratio, "ratio"),
        Figure(NAME, "extract() median", statistics.median(ours), "s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    harness.print_table(run(args.runs, args.files, args.megabytes))


if __name__ == "__main__":
    main()
