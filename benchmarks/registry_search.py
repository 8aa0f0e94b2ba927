"""`steps search` over a registry of 5,000 templates served by `git daemon` on 127.0.0.1.

The index is realistic: descriptions of a few sentences, three to eight parameters with
labels and help, three to six versions with dates and release notes each, written by
`index.render` into `registry/index.toml` of a git repository. Each `steps search` is a
separate process, as a user runs it:

- cold: the registry configured but never fetched (empty cache): ls-remote, a shallow
  fetch, the TOML parsed, its JSON form kept;
- warm: the copy is fresh, so no connection is made (the daemon's log is counted), and the
  JSON form is read instead of the TOML; median of several runs, several queries;
- warm with --offline, and the same search with the daemon stopped.

Then where a warm search's time goes: the interpreter, importing the CLI, and in one
process the parts of the search itself (reading the cached copy, ranking).

    python3 benchmarks/registry_search.py [--templates N] [--runs N]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import harness
from harness import Figure

from steptemplates.registries import index
from steptemplates.registries.index import (
    IndexEntry,
    IndexParameter,
    IndexSource,
    IndexVersion,
    RegistryIndex,
)
from tests.support.gitserver import GitDaemon, make_repo

NAME = "registry search"
GOAL_SECONDS = 0.2
QUERIES = (("one word", ["deploy"]), ("two words", ["sql", "backup"]), ("rare", ["certificate"]))

_ACTIONS = (
    "Deploy", "Back up", "Restore", "Restart", "Notify", "Check", "Rotate", "Migrate",
    "Scale", "Publish", "Clean up", "Warm up", "Configure", "Validate", "Tag",
)  # fmt: skip
_THINGS = (
    "an IIS web site", "a SQL Server database", "a Kubernetes deployment", "an Azure web app",
    "an AWS Lambda function", "a Windows service", "a systemd unit", "a Redis cache",
    "a RabbitMQ queue", "an S3 bucket", "a DNS record", "a TLS certificate", "a Helm release",
    "a Docker container", "a Slack channel", "a Teams channel", "an Nginx site",
    "a PostgreSQL database", "a blob container", "a feature flag",
)  # fmt: skip
_DETAILS = (
    "Retries transient failures with a delay between attempts.",
    "Fails the step when the target does not answer within the timeout.",
    "Sets output variables that later steps can read.",
    "Works on Windows and Linux targets.",
    "Keeps a copy of what it replaced, so that a rollback can restore it.",
    "Writes a summary of what changed to the task log.",
    "Needs credentials with permission to change the target.",
)
_CATEGORIES = (
    "iis", "sql-server", "kubernetes", "azure", "aws", "windows", "linux", "notifications",
    "dns", "certificates", "http", "files", "database", "containers",
)  # fmt: skip
_PARAMETERS = (
    ("Name", "Name"), ("ServerName", "Server"), ("DatabaseName", "Database"),
    ("TimeoutSeconds", "Timeout (seconds)"), ("Retries", "Retries"), ("Url", "URL"),
    ("WebhookUrl", "Webhook URL"), ("Namespace", "Namespace"), ("Region", "Region"),
    ("BackupPath", "Backup folder"), ("Message", "Message"), ("ApiKey", "API key"),
    ("Environment", "Environment"), ("Port", "Port"), ("CertificateThumbprint", "Thumbprint"),
)  # fmt: skip


def build_index(count: int) -> RegistryIndex:
    """``count`` entries, the same for the same count."""
    rng = random.Random(count)
    entries = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(count):
        action, thing = rng.choice(_ACTIONS), rng.choice(_THINGS)
        words = re.sub(r"^(an?|the) ", "", thing).lower().replace(" ", "-")
        name = f"{action.lower().replace(' ', '-')}-{words}-{number:04d}"
        details = " ".join(rng.sample(_DETAILS, rng.randint(1, 3)))
        versions = []
        for minor in range(rng.randint(3, 6), 0, -1):
            published = start + timedelta(days=number % 300 + minor * 20)
            versions.append(
                IndexVersion(
                    f"1.{minor}.0",
                    f"v1.{minor}.0",
                    f"{rng.getrandbits(160):040x}",
                    published,
                    f"{rng.choice(_ACTIONS)} handling improved; {rng.choice(_DETAILS).lower()}",
                )
            )
        parameters = tuple(
            IndexParameter(
                pname,
                label,
                "sensitive" if pname == "ApiKey" else "text",
                required=index_ == 0,
                default=None if pname == "ApiKey" else str(rng.randint(1, 100)),
                help=f"The {label.lower()} to use.",
            )
            for index_, (pname, label) in enumerate(rng.sample(_PARAMETERS, rng.randint(3, 8)))
        )
        entries.append(
            IndexEntry(
                name=name,
                description=f"{action} {thing}. {details}",
                category=rng.choice(_CATEGORIES),
                source=IndexSource("git", ".", subdir=f"step-templates/{name}"),
                maintainers=("Platform team <platform@example.com>",),
                versions=tuple(versions),
                parameters=parameters,
            )
        )
    return RegistryIndex("bench", "A large registry for the search benchmark", tuple(entries))


def run(templates: int = 5000, runs: int = 9) -> list[Figure]:
    harness.heading(f"{NAME}: steps search over a registry of {templates} templates")
    steps = harness.steps_command()
    figures: list[Figure] = []
    with harness.scratch("search") as tmp:
        text = index.render(build_index(templates))
        repo = make_repo(tmp / "served" / "registry")
        repo.write("registry/index.toml", text)
        repo.commit("the index")
        harness.report("index.toml", f"{len(text) / 1e6:.1f} MB, {templates} templates")
        env = harness.environment(tmp)
        env["STEPS_CONFIG_DIR"] = str(tmp / "config")
        project = tmp / "project"
        project.mkdir()
        with GitDaemon(tmp / "served", tmp / "daemon.log") as daemon:
            url = daemon.url("registry")
            add = [*steps, "registry", "add", "bench", url, "--subdir", "registry"]
            harness.run_timed([*add, "--offline"], cwd=project, env=env)
            cold = harness.run_timed([*steps, "search", "deploy"], cwd=project, env=env)
            harness.report("cold (fetch, parse, keep)", f"{cold.seconds:.3f} s")
            figures.append(Figure(NAME, "cold search", cold.seconds, "s"))
            for label, words in QUERIES:
                before = daemon.connections()
                done = [
                    harness.run_timed([*steps, "search", *words], cwd=project, env=env)
                    for _ in range(runs)
                ]
                used = daemon.connections() - before
                times = [d.seconds for d in done]
                median = statistics.median(times)
                hits = len(done[0].stdout.splitlines()) - 1
                harness.report(f"warm, {label} ({' '.join(words)})", harness.spread(times))
                harness.report("  hits shown, daemon connections", f"{hits}, {used}")
                met = median < GOAL_SECONDS
                goal = f"< {GOAL_SECONDS} s"
                figures.append(Figure(NAME, f"warm search, {label}", median, "s", goal, met))
                connections = f"warm search, {label}: connections"
                figures.append(Figure(NAME, connections, used, "count", "0", used == 0))
            offline = [
                harness.run_timed([*steps, "search", "deploy", "--offline"], cwd=project, env=env)
                for _ in range(runs)
            ]
            harness.report("warm, --offline", harness.spread([d.seconds for d in offline]))
        stopped = subprocess.run(
            [*steps, "search", "deploy"], cwd=project, env=env, capture_output=True, check=False
        )
        harness.report("warm, daemon stopped", f"exit code {stopped.returncode}")
        figures.append(
            Figure(NAME, "warm search, no server: exit code", stopped.returncode, "count", "0",
                   stopped.returncode == 0)
        )  # fmt: skip
        _breakdown(steps, project, env, runs)
    return figures


def _breakdown(steps: list[str], project: Path, env: dict[str, str], runs: int) -> None:
    """Where a warm search's time goes: start-up, imports, and the search's own parts."""
    print("  where the time goes:")
    probes = (
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("import steptemplates.cli", [sys.executable, "-c", "import steptemplates.cli"]),
        ("steps --version", [*steps, "--version"]),
    )
    for label, command in probes:
        times = [harness.run_timed(command, cwd=project, env=env).seconds for _ in range(runs)]
        harness.report(f"  {label}", harness.spread(times, "ms", 1000))
    parts = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in parts.stdout.splitlines():
        label, _, value = line.partition("=")
        harness.report(f"  in one process: {label}", f"{float(value) * 1000:.1f} ms")
    search = ["-m", "steptemplates", "search", "deploy"]
    by_package = harness.import_self_times(search, project, env, own_depth=2)
    harness.report("  imports of `steps search`, by package", "self times from -X importtime:")
    for package, seconds in sorted(by_package.items(), key=lambda item: -item[1])[:8]:
        harness.report(f"    {package}", f"{seconds * 1000:5.1f} ms")


# The parts of a warm search, timed inside one process (imports excluded).
_IN_PROCESS = """
import time
from pathlib import Path
from steptemplates.cache import default_root
from steptemplates.registries import config, fetch, search
started = time.perf_counter()
locations = list(config.configured_at(Path.cwd()).values())
configured = time.perf_counter()
gathered = fetch.fetch_all(locations, default_root(), lambda: None, offline=True)
rows = [len(fetched.rows) for fetched in gathered.indexes]
read = time.perf_counter()
hits = search.search(gathered.indexes, ["deploy"], limit=20)
ranked = time.perf_counter()
print(f"configuration={configured - started}")
print(f"cached copy read (search rows)={read - configured}")
print(f"ranking={ranked - read}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    harness.print_table(run(args.templates, args.runs))


if __name__ == "__main__":
    main()
