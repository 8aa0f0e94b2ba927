"""`steps run` of 20 one-line bash steps, against running the same scripts with bash directly.

Each template is a local directory whose script is one `echo`. The baseline runs the 20
scripts with `bash script.sh`, one after another, each as its own process. The project is
locked and run once before timing, so the timed runs find everything in place. The figure
is the per-step overhead: (steps total - bash total) / 20. Rounds alternate the two.

    python3 benchmarks/run_overhead.py [--steps N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import harness
from harness import Figure

NAME = "run overhead"
GOAL_MS = 40.0


def run(steps_count: int = 20, runs: int = 7) -> list[Figure]:
    harness.heading(f"{NAME}: steps run of {steps_count} one-line bash steps vs bash script.sh")
    steps = harness.steps_command()
    with harness.scratch("run") as tmp:
        project = tmp / "project"
        scripts = _write_project(project, steps_count)
        env = harness.environment(tmp)
        harness.run_timed([*steps, "lock"], cwd=project, env=env)
        harness.run_timed([*steps, "run"], cwd=project, env=env)  # warm-up
        first = _step_name(1)
        steps_times: list[float] = []
        bash_times: list[float] = []
        single_times: list[float] = []
        in_process: list[float] = []
        for round_number in range(runs):
            order = ("steps", "bash") if round_number % 2 == 0 else ("bash", "steps")
            for which in order:
                if which == "steps":
                    done = harness.run_timed([*steps, "run"], cwd=project, env=env)
                    steps_times.append(done.seconds)
                    in_process.append(_reported_run_seconds(done.stderr))
                else:
                    bash_times.append(_bash_scripts(scripts, env))
            single = harness.run_timed([*steps, "run", first], cwd=project, env=env)
            single_times.append(single.seconds)
        startup = [
            harness.run_timed([*steps, "--version"], cwd=project, env=env).seconds
            for _ in range(runs)
        ]
    steps_median = statistics.median(steps_times)
    bash_median = statistics.median(bash_times)
    per_step = [(s - b) / steps_count * 1000 for s, b in zip(steps_times, bash_times, strict=True)]
    overhead = (steps_median - bash_median) / steps_count * 1000
    single_median = statistics.median(single_times)
    bash_each = bash_median / steps_count
    marginal = ((steps_median - single_median) / (steps_count - 1) - bash_each) * 1000
    harness.report("command", harness.describe_command([*steps, "run"]))
    harness.report(f"steps run ({steps_count} steps)", harness.spread(steps_times))
    harness.report("  steps' own figure (Run ... in)", harness.spread(in_process))
    harness.report(f"bash script.sh x{steps_count}", harness.spread(bash_times))
    harness.report(f"steps run '{first}' (1 step)", harness.spread(single_times))
    harness.report("steps --version (start-up only)", harness.spread(startup))
    harness.report(
        f"per-step overhead (steps-bash)/{steps_count}",
        f"{overhead:.1f} ms (per round: {', '.join(f'{v:.1f}' for v in per_step)}; "
        f"goal < {GOAL_MS:g} ms)",
    )
    harness.report(
        "  start-up share per step",
        f"{(single_median - bash_each) / steps_count * 1000:.1f} ms (1-step run spread over "
        f"{steps_count})",
    )
    harness.report("  marginal cost of a step beyond bash", f"{marginal:.1f} ms")
    return [
        Figure(NAME, f"steps run, {steps_count} steps", steps_median, "s"),
        Figure(NAME, f"bash script.sh x{steps_count}", bash_median, "s"),
        Figure(NAME, "per-step overhead", overhead, "ms", f"< {GOAL_MS:g} ms", overhead < GOAL_MS),
        Figure(NAME, "marginal cost per extra step", marginal, "ms"),
    ]


def _step_name(index: int) -> str:
    return f"step {index:02d}"


def _write_project(project: Path, count: int) -> list[Path]:
    """A project of ``count`` local templates, one step each; returns their scripts."""
    lines = ['[project]\nname = "overhead"\n\n[templates]\n']
    steps = []
    scripts = []
    for index in range(1, count + 1):
        name = f"echo-{index:02d}"
        directory = project / "templates" / name
        directory.mkdir(parents=True)
        (directory / "steptemplate.toml").write_text(
            f'name = "{name}"\ndescription = "Print one line."\ncategory = "benchmark"\n\n'
            '[script]\nsyntax = "bash"\nfile = "script.sh"\n'
        )
        script = directory / "script.sh"
        script.write_text(f'echo "{name} says hello"\n')
        scripts.append(script)
        lines.append(f'{name} = {{ path = "templates/{name}" }}\n')
        steps.append(f'\n[[steps]]\nname = "{_step_name(index)}"\ntemplate = "{name}"\n')
    (project / "steps.toml").write_text("".join(lines + steps))
    return scripts


def _bash_scripts(scripts: list[Path], env: dict[str, str]) -> float:
    started = time.perf_counter()
    for script in scripts:
        harness.run_timed(["bash", script.name], cwd=script.parent, env=env)
    return time.perf_counter() - started


def _reported_run_seconds(stderr: str) -> float:
    for line in stderr.splitlines():
        if line.startswith("Run ") and " in " in line:
            return float(line.split(" in ", 1)[1].split("s;", 1)[0])
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    harness.print_table(run(args.steps, args.runs))


if __name__ == "__main__":
    main()
