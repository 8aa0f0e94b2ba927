"""Warm `steps lock` and `steps sync --frozen` with nothing changed, as a user runs them.

A project of 50 git templates is locked and synced once (cold); then each command runs
several times as a fresh process, interpreter start-up included. The git daemon logs every
connection it accepts, so the script shows that the warm runs used no network; then the
daemon is stopped and both commands run once more with no server at all. Last, where the
time of a warm command goes: interpreter, imports (by package), and the same commands
without a bytecode cache.

    python3 benchmarks/warm_noop.py [--templates N] [--runs N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

import harness
from harness import Figure

from tests.support.gitserver import GitDaemon

NAME = "warm no-op"
GOAL_SECONDS = 0.25
COMMANDS = (("steps lock", ["lock"]), ("steps sync --frozen", ["sync", "--frozen"]))


def run(templates: int = 50, runs: int = 9) -> list[Figure]:
    harness.heading(f"{NAME}: steps lock / steps sync --frozen, {templates} git templates cached")
    steps = harness.steps_command()
    figures: list[Figure] = []
    with harness.scratch("warm") as tmp:
        repos = harness.build_template_repos(tmp / "served", templates)
        env = harness.environment(tmp)
        project = tmp / "project"
        project.mkdir()
        with GitDaemon(tmp / "served", tmp / "daemon.log") as daemon:
            urls = {r.name: daemon.url(r.name) for r in repos}
            (project / "steps.toml").write_text(harness.git_manifest("warm", repos, urls))
            harness.run_timed([*steps, "lock"], cwd=project, env=env)
            harness.run_timed([*steps, "sync"], cwd=project, env=env)
            lock_before = (project / "steps.lock").read_bytes()
            harness.check_lock(lock_before.decode(), repos)
            harness.report("cold lock + sync (setup)", f"{daemon.connections()} connections")
            for label, args in COMMANDS:
                before = daemon.connections()
                done = [
                    harness.run_timed([*steps, *args], cwd=project, env=env) for _ in range(runs)
                ]
                used = daemon.connections() - before
                times = [d.seconds for d in done]
                median = statistics.median(times)
                harness.report("command", harness.describe_command([*steps, *args]))
                harness.report(label, harness.spread(times))
                harness.report(
                    "  after start-up (steps' own figure)",
                    harness.spread([_reported_seconds(d.stderr) for d in done]),
                )
                harness.report("  git daemon connections", str(used))
                figures.append(
                    Figure(NAME, label, median, "s", f"< {GOAL_SECONDS} s", median < GOAL_SECONDS)
                )
                figures.append(Figure(NAME, f"{label}: connections", used, "count", "0", used == 0))
            unchanged = (project / "steps.lock").read_bytes() == lock_before
            harness.report("steps.lock unchanged by warm runs", str(unchanged))
        # With the daemon gone, any attempt to reach it would fail the command.
        for label, args in COMMANDS:
            code = subprocess.run(
                [*steps, *args], cwd=project, env=env, capture_output=True, check=False
            ).returncode
            harness.report(f"{label}, daemon stopped", f"exit code {code}")
            figures.append(
                Figure(NAME, f"{label}, no server: exit code", code, "count", "0", code == 0)
            )
        _startup_breakdown(steps, project, env, runs)
    return figures


def _reported_seconds(stderr: str) -> float:
    """The duration in steps' own summary line ("Resolved/Synced N templates in 0.05s")."""
    found = re.search(r"templates? in ([0-9.]+)s", stderr)
    return float(found.group(1)) if found else float("nan")


def _startup_breakdown(steps: list[str], project: Path, env: dict[str, str], runs: int) -> None:
    """How much of a warm command is the interpreter and the imports, before any work."""
    print("  where the time goes:")
    probes = (
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (
            "python -c 'import steptemplates.cli'",
            [sys.executable, "-c", "import steptemplates.cli"],
        ),
        ("steps --version", [*steps, "--version"]),
    )
    for label, command in probes:
        times = [harness.run_timed(command, cwd=project, env=env).seconds for _ in range(runs)]
        harness.report(f"  {label}", harness.spread(times, "ms", 1000))
    by_package = harness.import_self_times(["-m", "steptemplates", "lock"], project, env)
    total = sum(by_package.values())
    harness.report(
        "  imports of `steps lock`, by package",
        f"self times from -X importtime, total {total * 1000:.0f} ms:",
    )
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:10]:
        harness.report(f"    {package}", f"{seconds * 1000:5.1f} ms")
    slow_env = harness.without_bytecode(env)
    print("  without a bytecode cache for steptemplates (PYTHONDONTWRITEBYTECODE=1):")
    for label, args in (("steps --version", ["--version"]), *COMMANDS):
        times = [
            harness.run_timed([*steps, *args], cwd=project, env=slow_env).seconds
            for _ in range(runs)
        ]
        harness.report(f"    {label}", harness.spread(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=50)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    harness.print_table(run(args.templates, args.runs))


if __name__ == "__main__":
    main()
