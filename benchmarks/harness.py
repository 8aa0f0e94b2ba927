"""What the benchmark scripts share: an isolated environment, the `steps` command, timing,
realistic template repositories, and a git daemon that counts the connections it accepts.

The scripts print figures; nothing here asserts on a time.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.gitserver import GitRepo, git_env, make_repo  # noqa: E402

# --- environment and commands --------------------------------------------------------------


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary directory removed afterwards, read-only cache entries included."""
    path = Path(tempfile.mkdtemp(prefix=f"steps-bench-{prefix}-"))
    try:
        yield path
    finally:
        # Cache entries are made read-only; directories stay writable, so rmtree copes.
        shutil.rmtree(path, ignore_errors=True)


def environment(tmp: Path, cache: Path | None = None) -> dict[str, str]:
    """What `steps` and git run with: this checkout, a private cache and HOME, no git config."""
    env = git_env()
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    env["STEPS_CACHE_DIR"] = str(cache or tmp / "cache")
    env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    # An installed steps has bytecode; a shell with PYTHONDONTWRITEBYTECODE would recompile
    # every module at every start. The bytecode goes to the scratch dir, not the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    for name in ("NETRC", "STEPS_NETWORK_TIMEOUT", "STEPS_RETRY_BACKOFF", "FORCE_COLOR"):
        env.pop(name, None)
    return env


def without_bytecode(env: dict[str, str]) -> dict[str, str]:
    """``env`` where Python neither reads nor writes a private bytecode cache."""
    changed = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    changed.pop("PYTHONPYCACHEPREFIX", None)
    return changed


def steps_command() -> list[str]:
    """`steps` as a user runs it: the installed entry point of this interpreter if there is one.

    A version manager's shim (pyenv) in front of it would add its own start-up, so it is skipped.
    """
    script = Path(sys.executable).with_name("steps")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "steptemplates"]


def describe_command(command: Sequence[str]) -> str:
    return " ".join(command)


@dataclass(frozen=True)
class Completed:
    seconds: float
    stdout: str
    stderr: str


def run_timed(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], check: bool = True
) -> Completed:
    """Run a command to completion and return its wall-clock time, spawn included."""
    started = time.perf_counter()
    done = subprocess.run(
        list(command),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {done.returncode} in {cwd}:\n"
            f"{done.stderr.strip()}\n{done.stdout.strip()}"
        )
    return Completed(seconds, done.stdout, done.stderr)


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One line of the summary table: a measured value against its goal."""

    benchmark: str
    label: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None  # None when there is no goal to meet

    def row(self) -> tuple[str, str, str, str, str]:
        if self.unit == "s":
            shown = f"{self.value:.3f} s"
        elif self.unit == "ms":
            shown = f"{self.value:.1f} ms"
        elif self.unit == "count":
            shown = f"{self.value:.0f}"
        else:
            shown = f"{self.value:.2f}"
        met = "" if self.met is None else "yes" if self.met else "NO"
        return (self.benchmark, self.label, shown, self.goal, met)


def spread(values: Sequence[float], unit: str = "s", scale: float = 1.0) -> str:
    """``median (min-max, n runs)`` for a list of times."""
    shown = [v * scale for v in values]
    digits = 1 if unit == "ms" else 3
    return (
        f"median {statistics.median(shown):.{digits}f} {unit} "
        f"(min {min(shown):.{digits}f}, max {max(shown):.{digits}f}, n={len(shown)})"
    )


def report(label: str, text: str) -> None:
    """One aligned line of a benchmark's detailed output."""
    print(f"  {label:40} {text}", flush=True)


def print_table(figures: Sequence[Figure]) -> None:
    header = ("benchmark", "measure", "value", "goal", "met")
    rows = [header, *(f.row() for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


# --- template repositories -----------------------------------------------------------------

_FILLER = (
    "Steps in this repository are used by several deployment projects. Change them through a "
    "pull request and tag a release; projects pick new versions up with `steps lock`.\n"
)


@dataclass(frozen=True)
class TemplateRepo:
    """A served repository holding one template, and what a given range should resolve to."""

    name: str
    path: Path
    subdir: str
    version_range: str
    expected_tag: str


def _template_toml(name: str, release: str) -> str:
    return (
        f'name = "{name}"\n'
        f'description = "Benchmark template {name}, release {release}."\n'
        'category = "benchmark"\n\n'
        "[[parameters]]\n"
        'name = "Message"\n'
        'label = "Message"\n'
        f'default = "hello from {name}"\n\n'
        "[script]\n"
        'syntax = "bash"\n'
        'file = "run.sh"\n'
    )


def _script(release: str) -> str:
    return (
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        f'echo "$(get_octopusvariable Message) ({release})"\n'
    )


TEMPLATE_SCRIPT = "run.sh"


def template_files(name: str, release: str) -> dict[str, str]:
    """The files of a small native template: its steptemplate.toml and its bash script."""
    return {"steptemplate.toml": _template_toml(name, release), TEMPLATE_SCRIPT: _script(release)}


# Each range is satisfied by a different kind of tag: annotated, lightweight, and a stable
# release with a newer prerelease beside it.
_RANGES = (("^1.0", "v1.2.0"), ("~1.1", "v1.1.0"), (">=2.0, <3", "v2.0.0"))


def build_template_repo(root: Path, index: int) -> TemplateRepo:
    """A small, realistic repository: unrelated files, five commits, a branch, six tags.

    Tags: v1.0.0 annotated, v1.1.0 lightweight, v1.2.0 annotated or lightweight (by index),
    v2.0.0 annotated, v2.1.0-rc.1 lightweight, and a non-version tag.
    """
    name = f"template-{index:02d}"
    subdir = f"steps/{name}"
    repo = make_repo(root / name)
    _write_release(repo, name, subdir, "1.0.0", with_project_files=True)
    repo.commit("First release")
    repo.tag("v1.0.0", message="Release 1.0.0")
    _write_release(repo, name, subdir, "1.1.0")
    repo.commit("Add a message parameter")
    repo.tag("v1.1.0")
    repo.tag("ci-passed")
    _write_release(repo, name, subdir, "1.2.0")
    repo.write("docs/usage.md", _FILLER * 40 + "\nMore examples.\n")
    repo.commit("Document usage")
    repo.tag("v1.2.0", message="Release 1.2.0" if index % 2 == 0 else None)
    repo.branch("release-1.x")
    _write_release(repo, name, subdir, "2.0.0")
    repo.write("src/lib.sh", "log() { printf '%s\\n' \"$*\" >&2; }\n" * 20)
    repo.commit("Breaking: new script layout")
    repo.tag("v2.0.0", message="Release 2.0.0")
    _write_release(repo, name, subdir, "2.1.0-rc.1")
    repo.commit("Work towards 2.1")
    repo.tag("v2.1.0-rc.1")
    version_range, expected = _RANGES[index % len(_RANGES)]
    return TemplateRepo(name, repo.path, subdir, version_range, expected)


def _write_release(
    repo: GitRepo, name: str, subdir: str, release: str, *, with_project_files: bool = False
) -> None:
    if with_project_files:
        repo.write("README.md", f"# {name}\n\n" + _FILLER * 20)
        repo.write("LICENSE", "Apache License, Version 2.0\n" + _FILLER * 60)
        repo.write(".gitignore", "*.log\n.steps/\n")
        repo.write("docs/usage.md", _FILLER * 40)
        repo.write("ci/check.sh", "#!/usr/bin/env bash\nshellcheck steps/*/*.sh\n", mode=0o755)
    repo.write(f"{subdir}/steptemplate.toml", _template_toml(name, release))
    repo.write(f"{subdir}/run.sh", _script(release), mode=0o755)
    repo.write("CHANGELOG.md", f"## {release}\n\n- changes for {release}\n")


def build_template_repos(root: Path, count: int) -> list[TemplateRepo]:
    root.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda i: build_template_repo(root, i), range(1, count + 1)))


def git_manifest(project_name: str, repos: Sequence[TemplateRepo], url_of: dict[str, str]) -> str:
    """A steps.toml naming every repository's template with its version range."""
    lines = [f'[project]\nname = "{project_name}"\n\n[templates]\n']
    for repo in repos:
        lines.append(
            f'{repo.name} = {{ git = "{url_of[repo.name]}", subdir = "{repo.subdir}", '
            f'version = "{repo.version_range}" }}\n'
        )
    return "".join(lines)


def check_lock(lock_text: str, repos: Sequence[TemplateRepo]) -> None:
    """Fail loudly if steps.lock did not pick the expected tag for every template."""
    import tomllib

    entries = {t["name"]: t for t in tomllib.loads(lock_text).get("template", [])}
    wrong = [
        f"{r.name}: {entries.get(r.name, {}).get('tag')} (expected {r.expected_tag})"
        for r in repos
        if entries.get(r.name, {}).get("tag") != r.expected_tag
    ]
    if wrong:
        raise RuntimeError("steps.lock does not hold the expected versions: " + "; ".join(wrong))


def import_self_times(
    arguments: Sequence[str], cwd: Path, env: dict[str, str], *, own_depth: int = 1
) -> dict[str, float]:
    """Median over a few runs of each package's summed import self time (``-X importtime``)
    in ``python ARGUMENTS``; steptemplates' own modules are grouped ``own_depth`` levels deep
    (2: by subpackage), everything else by top-level package."""
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *arguments],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        totals: dict[str, float] = defaultdict(float)
        for line in done.stderr.splitlines():
            found = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
            if found:
                parts = found.group(2).split(".")
                depth = own_depth if parts[0] == "steptemplates" else 1
                totals[".".join(parts[:depth])] += int(found.group(1)) / 1e6
        for package, seconds in totals.items():
            samples[package].append(seconds)
    return {package: statistics.median(values) for package, values in samples.items()}
