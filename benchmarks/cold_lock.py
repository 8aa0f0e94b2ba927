"""Cold `steps lock` of 50 templates in 50 git daemon repositories, against `git clone`.

The baseline is what a shell script would do without steps: `git clone --depth 1 --branch TAG`
of the same 50 versions, one after another. Each round starts from an empty cache (and empty
clone directory); the order of the two alternates between rounds. steps resolves on up to 8
threads; git clones one at a time. For reference, the same clones over file:// (no daemon)
show how much of git's time is its git:// transport on loopback.

    python3 benchmarks/cold_lock.py [--templates N] [--rounds N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import time
from pathlib import Path

import harness
from harness import Figure

from tests.support.gitserver import GitDaemon

NAME = "cold lock"


def run(templates: int = 50, rounds: int = 3) -> list[Figure]:
    harness.heading(f"{NAME}: {templates} templates in {templates} repositories over git://")
    steps = harness.steps_command()
    with harness.scratch("cold") as tmp:
        started = time.perf_counter()
        repos = harness.build_template_repos(tmp / "served", templates)
        harness.report(
            "built repositories", f"{len(repos)} in {time.perf_counter() - started:.1f} s"
        )
        with GitDaemon(tmp / "served", tmp / "daemon.log") as daemon:
            urls = {r.name: daemon.url(r.name) for r in repos}
            project = tmp / "project"
            project.mkdir()
            (project / "steps.toml").write_text(harness.git_manifest("cold", repos, urls))
            # Untimed: fills the bytecode cache, so no round pays for compiling modules.
            _steps_lock(steps, tmp, project, tmp / "cache-warm-up", repos)
            steps_times: list[float] = []
            git_times: list[float] = []
            steps_connections: list[int] = []
            git_connections: list[int] = []
            in_process: list[float] = []
            for round_number in range(rounds):
                order = ("steps", "git") if round_number % 2 == 0 else ("git", "steps")
                for which in order:
                    before = daemon.connections()
                    if which == "steps":
                        cache = tmp / f"cache-{round_number + 1}"
                        seconds, reported = _steps_lock(steps, tmp, project, cache, repos)
                        steps_times.append(seconds)
                        in_process.append(reported)
                        steps_connections.append(daemon.connections() - before)
                    else:
                        git_times.append(_git_clones(tmp, repos, urls))
                        git_connections.append(daemon.connections() - before)
                harness.report(
                    f"round {round_number + 1}",
                    f"steps lock {steps_times[-1]:.3f} s ({steps_connections[-1]} connections), "
                    f"git clone x{templates} {git_times[-1]:.3f} s "
                    f"({git_connections[-1]} connections)",
                )
            # Not a goal: git without its git:// transport, to show what that costs it.
            local = _git_clones(tmp, repos, {r.name: r.path.as_uri() for r in repos})
    steps_median = statistics.median(steps_times)
    git_median = statistics.median(git_times)
    ratio = steps_median / git_median
    harness.report("command", f"{harness.describe_command(steps)} lock  (empty STEPS_CACHE_DIR)")
    harness.report("steps lock", harness.spread(steps_times))
    harness.report("  after start-up (steps' own figure)", harness.spread(in_process))
    harness.report(f"git clone --depth 1 x{templates}", harness.spread(git_times))
    harness.report("  per clone", f"{git_median / templates * 1000:.1f} ms")
    harness.report("ratio steps/git (medians)", f"{ratio:.2f}  (goal <= 1.0)")
    harness.report(
        f"for reference: git clone file:// x{templates}",
        f"{local:.3f} s ({local / templates * 1000:.1f} ms per clone, no daemon, one run)",
    )
    return [
        Figure(NAME, f"steps lock, {templates} templates", steps_median, "s"),
        Figure(NAME, f"git clone --depth 1 x{templates}", git_median, "s"),
        Figure(NAME, "ratio steps/git", ratio, "", "<= 1.0", ratio <= 1.0),
    ]


def _steps_lock(
    steps: list[str],
    tmp: Path,
    project: Path,
    cache: Path,
    repos: list[harness.TemplateRepo],
) -> tuple[float, float]:
    """Time one `steps lock` from nothing; return wall-clock and the time steps prints."""
    (project / "steps.lock").unlink(missing_ok=True)
    done = harness.run_timed([*steps, "lock"], cwd=project, env=harness.environment(tmp, cache))
    harness.check_lock((project / "steps.lock").read_text(encoding="utf-8"), repos)
    shutil.rmtree(cache, ignore_errors=True)
    found = re.search(r"Resolved \d+ templates? in ([0-9.]+)s", done.stderr)
    return done.seconds, float(found.group(1)) if found else float("nan")


def _git_clones(tmp: Path, repos: list[harness.TemplateRepo], urls: dict[str, str]) -> float:
    """Time cloning every expected tag, shallow, one after another."""
    clones = tmp / "clones"
    env = harness.environment(tmp)
    started = time.perf_counter()
    for repo in repos:
        harness.run_timed(
            [
                "git",
                "clone",
                "--quiet",
                "--depth",
                "1",
                "--branch",
                repo.expected_tag,
                urls[repo.name],
                str(clones / repo.name),
            ],
            cwd=tmp,
            env=env,
        )
    seconds = time.perf_counter() - started
    shutil.rmtree(clones)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    harness.print_table(run(args.templates, args.rounds))


if __name__ == "__main__":
    main()
