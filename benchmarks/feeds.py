"""Cold and warm `steps lock` and `steps sync` of templates from a NuGet feed and from GitHub.

A static NuGet v3 feed and a GitHub-compatible API are served on 127.0.0.1 and log every
answer, with its status and whether the request carried If-None-Match. N templates are
packages in a feed written by `steps publish` (some with several versions, so the range has
to choose) and N are GitHub releases with a zip asset (every fifth one the source archive
at the release's tag instead). Each round runs, as separate processes:

- a cold `steps lock`: empty cache, no steps.lock;
- a warm `steps lock` and a warm `steps sync`, with a fresh lock: no request at all;
- `steps lock --upgrade` with nothing changed on the servers: only conditional requests;
- a cold `steps sync`: cache wiped, steps.lock kept;
- for reference, `steps lock --upgrade` again, on the cache that sync filled.

    python3 benchmarks/feeds.py [--templates N] [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import statistics
import threading
import time
import tomllib
import zipfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import Figure

from steptemplates.nuget.pack import pack
from steptemplates.nuget.static_feed import publish
from tests.support.githubserver import GitHubServer, StorageServer
from tests.support.gitserver import make_repo
from tests.support.httpserver import Response, StaticServer

NAME = "feeds"
OWNER = "bench"
FEED_PATH = "feed"  # where the feed directory is served
RANGE = "^1"
# Each GitHub template whose index is a multiple of this uses the source archive, not an asset.
SOURCE_ARCHIVE_EVERY = 5
# Servers, as the request counts name them.
FEED, API, STORAGE = "feed", "github api", "github storage"
SERVERS = (FEED, API, STORAGE)


# --- what the servers answered ----------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    server: str
    method: str
    path: str  # with the query
    status: int
    conditional: bool  # the request carried If-None-Match


class AnswerLog:
    """Every answer of the benchmark's servers, shared by their handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: list[Answer] = []

    def add(
        self, server: str, method: str, path: str, headers: dict[str, str], status: int
    ) -> None:
        answer = Answer(server, method, path, status, "if-none-match" in headers)
        with self._lock:
            self._answers.append(answer)

    def take(self) -> list[Answer]:
        """The answers since the last call."""
        with self._lock:
            taken, self._answers = self._answers, []
        return taken


class _FeedServer(StaticServer):
    def __init__(self, root: Path, log: AnswerLog) -> None:
        super().__init__(root)
        self.log = log

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        response = super().respond(method, path, headers)
        self.log.add(FEED, method, path, headers, response.status)
        return response


class _StorageServer(StorageServer):
    def __init__(self, log: AnswerLog) -> None:
        super().__init__()
        self.log = log

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        response = super().respond(method, path, headers)
        self.log.add(STORAGE, method, path, headers, response.status)
        return response


class _GitHubServer(GitHubServer):
    def __init__(self, log: AnswerLog) -> None:
        super().__init__()
        self.log = log
        unused, self.storage = self.storage, _StorageServer(log)
        # Started and stopped at once: how an HttpServer that never served closes its socket.
        with unused:
            pass
        # A whole run's requests, anonymous, must not meet the rate limit.
        self.limit_rate(10**9, limit=10**9)

    def respond(self, method: str, path: str, headers: dict[str, str]) -> Response:
        response = super().respond(method, path, headers)
        self.log.add(API, method, path, headers, response.status)
        return response


# --- the templates ----------------------------------------------------------------------------


def versions_of(index: int) -> list[str]:
    """What template ``index`` is published at: 1.0.0, and for some 1.1.0, 2.0.0, a prerelease."""
    versions = ["1.0.0"]
    if index % 3 != 0:
        versions.append("1.1.0")
    if index % 4 == 0:
        versions.append("2.0.0")
    if index % 5 == 0:
        versions.append("1.2.0-beta.1")
    return versions


def expected_version(index: int) -> str:
    """What RANGE selects: the newest stable 1.x."""
    return "1.1.0" if "1.1.0" in versions_of(index) else "1.0.0"


@dataclass(frozen=True)
class FeedTemplate:
    name: str
    package_id: str
    expected: str


@dataclass(frozen=True)
class GitHubTemplate:
    name: str
    repo: str  # owner/name
    subdir: str  # set when the template comes from the source archive
    expected: str


def build_feed(work: Path, feed_dir: Path, base_url: str, count: int) -> list[FeedTemplate]:
    """Pack every version of ``count`` templates and publish them into ``feed_dir``."""
    templates = []
    packages = work / "packages"
    for index in range(1, count + 1):
        name = f"feed-template-{index:02d}"
        package_id = f"Bench.Feed.Template{index:02d}"
        for version in versions_of(index):
            source = work / "sources" / name / version
            _write_template(source, name, version)
            package = pack(source, packages, version=version, package_id=package_id)
            publish(package, feed_dir, base_url=base_url)
        templates.append(FeedTemplate(name, package_id, expected_version(index)))
    return templates


def _write_template(directory: Path, name: str, release: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for file, text in harness.template_files(name, release).items():
        (directory / file).write_text(text, encoding="utf-8")
    (directory / harness.TEMPLATE_SCRIPT).chmod(0o755)


def build_github(root: Path, github: GitHubServer, count: int) -> list[GitHubTemplate]:
    """``count`` repositories, one template each, with a release (and a zip asset) per version."""
    root.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda i: _github_repo(root, github, i), range(1, count + 1)))


def _github_repo(root: Path, github: GitHubServer, index: int) -> GitHubTemplate:
    name = f"gh-template-{index:02d}"
    subdir = f"steps/{name}"
    repo = make_repo(root / name)
    repo.write("README.md", f"# {name}\n")
    github.add_repo(OWNER, name, repo.path)
    for version in versions_of(index):
        for file, text in harness.template_files(name, version).items():
            mode = 0o755 if file == harness.TEMPLATE_SCRIPT else 0o644
            repo.write(f"{subdir}/{file}", text, mode=mode)
        repo.commit(f"Release {version}")
        tag = f"v{version}"
        repo.tag(tag, message=f"Release {version}")
        asset = {f"{name}-{version}.zip": _asset_zip(name, version)}
        github.add_release(OWNER, name, tag, prerelease="-" in version, assets=asset)
    from_archive = index % SOURCE_ARCHIVE_EVERY == 0
    return GitHubTemplate(
        name, f"{OWNER}/{name}", subdir if from_archive else "", expected_version(index)
    )


def _asset_zip(name: str, version: str) -> bytes:
    """A release asset as a build makes it: the template under one top directory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, text in harness.template_files(name, version).items():
            entry = zipfile.ZipInfo(f"{name}-{version}/{file}", date_time=(2024, 1, 1, 0, 0, 0))
            mode = 0o755 if file == harness.TEMPLATE_SCRIPT else 0o644
            entry.external_attr = (0o100000 | mode) << 16
            archive.writestr(entry, text)
    return buffer.getvalue()


def manifest(
    feed_templates: Sequence[FeedTemplate], github_templates: Sequence[GitHubTemplate], index: str
) -> str:
    lines = ['[project]\nname = "feeds"\n']
    for package in feed_templates:
        lines.append(
            f"\n[templates.{package.name}]\n"
            f'nuget = "{index}"\nid = "{package.package_id}"\nversion = "{RANGE}"\n'
        )
    for release in github_templates:
        artifact = f'subdir = "{release.subdir}"' if release.subdir else 'asset = "*.zip"'
        lines.append(
            f'\n[templates.{release.name}]\ngithub = "{release.repo}"\n{artifact}\n'
            f'version = "{RANGE}"\n'
        )
    return "".join(lines)


def check_lock(lock_text: str, expected: dict[str, str]) -> None:
    """Fail loudly if steps.lock did not pick the expected version of every template."""
    entries = {t["name"]: t for t in tomllib.loads(lock_text).get("template", [])}
    wrong = [
        f"{name}: {entries.get(name, {}).get('version')} (expected {version})"
        for name, version in sorted(expected.items())
        if entries.get(name, {}).get("version") != version
    ]
    if wrong:
        raise RuntimeError("steps.lock does not hold the expected versions: " + "; ".join(wrong))


# --- the rounds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command of a round, and whether it starts from an empty cache or no lock."""

    label: str
    args: tuple[str, ...]
    wipe_cache: bool = False
    remove_lock: bool = False


COLD_LOCK = Step("cold lock", ("lock",), wipe_cache=True, remove_lock=True)
WARM_LOCK = Step("warm lock", ("lock",))
WARM_SYNC = Step("warm sync", ("sync",))
RELOCK = Step("relock", ("lock", "--upgrade"))
COLD_SYNC = Step("cold sync", ("sync",), wipe_cache=True)
# Not a goal: a cache filled by `sync` alone holds no validators (ETags) to make requests with.
RELOCK_AFTER_SYNC = Step("relock after sync", ("lock", "--upgrade"))
# The relock that has a goal comes right after the cold lock, which left validators behind.
ROUND = (COLD_LOCK, WARM_LOCK, WARM_SYNC, RELOCK, COLD_SYNC, RELOCK_AFTER_SYNC)


@dataclass(frozen=True)
class Measured:
    seconds: float
    answers: list[Answer]
    lock_unchanged: bool


@dataclass
class Bench:
    steps: list[str]
    project: Path
    cache: Path
    env: dict[str, str]
    log: AnswerLog
    expected: dict[str, str]

    def run(self, step: Step) -> Measured:
        if step.wipe_cache:
            shutil.rmtree(self.cache, ignore_errors=True)
        lock = self.project / "steps.lock"
        if step.remove_lock:
            lock.unlink(missing_ok=True)
        before = lock.read_bytes() if lock.exists() else None
        self.log.take()
        done = harness.run_timed([*self.steps, *step.args], cwd=self.project, env=self.env)
        answers = self.log.take()
        after = lock.read_bytes()
        check_lock(after.decode(), self.expected)
        return Measured(done.seconds, answers, after == before)


def run(templates: int = 50, rounds: int = 3) -> list[Figure]:
    harness.heading(
        f"{NAME}: {templates} templates from a static NuGet feed and {templates} from GitHub"
    )
    log = AnswerLog()
    with harness.scratch("feeds") as tmp:
        (tmp / "www").mkdir()
        with _FeedServer(tmp / "www", log) as feed, _GitHubServer(log) as github:
            started = time.perf_counter()
            index = f"{feed.url}/{FEED_PATH}/index.json"
            feed_templates = build_feed(
                tmp / "packing", tmp / "www" / FEED_PATH, f"{feed.url}/{FEED_PATH}", templates
            )
            github_templates = build_github(tmp / "repos", github, templates)
            harness.report(
                "servers",
                f"{FEED} {feed.url}, {API} {github.api_url}, {STORAGE} {github.storage.url}",
            )
            harness.report(
                "built feed and repositories",
                f"{sum(len(versions_of(i)) for i in range(1, templates + 1))} packages and "
                f"{templates} repositories in {time.perf_counter() - started:.1f} s",
            )
            bench = _bench(tmp, github, log, feed_templates, github_templates, index)
            results = _rounds(bench, rounds)
    return _summary(results, templates)


def _bench(
    tmp: Path,
    github: GitHubServer,
    log: AnswerLog,
    feed_templates: list[FeedTemplate],
    github_templates: list[GitHubTemplate],
    index: str,
) -> Bench:
    project = tmp / "project"
    project.mkdir()
    (project / "steps.toml").write_text(manifest(feed_templates, github_templates, index))
    cache = tmp / "cache"
    env = harness.environment(tmp, cache)
    env["STEPS_GITHUB_API_URL"] = github.api_url
    env["STEPS_CONFIG_DIR"] = str(tmp / "config")
    # A token of the user's would reach the test server, which refuses any it does not know.
    for name in ("GITHUB_TOKEN", "STEPS_GITHUB_TOKEN", "STEPS_RATE_LIMIT_WAIT"):
        env.pop(name, None)
    expected = {t.name: t.expected for t in feed_templates}
    expected.update({t.name: t.expected for t in github_templates})
    steps = harness.steps_command()
    # Untimed: fills the bytecode cache, so no round pays for compiling modules.
    warm_cache = tmp / "cache-warm-up"
    warm_env = {**env, "STEPS_CACHE_DIR": str(warm_cache)}
    Bench(steps, project, warm_cache, warm_env, log, expected).run(COLD_LOCK)
    shutil.rmtree(warm_cache, ignore_errors=True)
    return Bench(steps, project, cache, env, log, expected)


def _rounds(bench: Bench, rounds: int) -> dict[Step, list[Measured]]:
    results: dict[Step, list[Measured]] = {step: [] for step in ROUND}
    for number in range(1, rounds + 1):
        for step in ROUND:
            measured = bench.run(step)
            results[step].append(measured)
            harness.report(
                f"round {number}: {step.label}",
                f"{measured.seconds:6.3f} s  {_per_server(measured.answers)}",
            )
    return results


# --- reporting --------------------------------------------------------------------------------


def _per_server(answers: Sequence[Answer]) -> str:
    """``feed 150 (200:150) | github api ...``: requests and their statuses, per server."""
    if not answers:
        return "no requests"
    parts = []
    for server in SERVERS:
        mine = [a for a in answers if a.server == server]
        if mine:
            statuses = Counter(a.status for a in mine)
            shown = ", ".join(f"{status}:{n}" for status, n in sorted(statuses.items()))
            parts.append(f"{server} {len(mine)} ({shown})")
    return " | ".join(parts)


# What varies from one template to the next, so that one line stands for 50 requests.
_VARYING = (
    (re.compile(r"\?X-Amz-[^ ]*$"), "?{signature}"),
    (re.compile(r"bench\.feed\.template\d+"), "{id}"),
    (re.compile(r"gh-template-\d+"), "{repo}"),
    (re.compile(r"/blobs/[0-9a-f]{64}/"), "/blobs/{sha256}/"),
    (re.compile(r"/releases/assets/\d+"), "/releases/assets/{asset}"),
    (re.compile(r"/tarball/[0-9a-f]{40}"), "/tarball/{commit}"),
    (re.compile(r"-[0-9a-f]{7}\.tar\.gz"), "-{commit}.tar.gz"),
    (re.compile(r"(?<=[/.v-])\d+\.\d+\.\d+(?=[/.]|$)"), "{version}"),
)


def _pattern(path: str) -> str:
    for varying, replacement in _VARYING:
        path = varying.sub(replacement, path)
    return path


def _request_kinds(answers: Sequence[Answer]) -> list[str]:
    """One line per kind of request: count, server, path pattern, status, conditional or not."""
    kinds = Counter(
        (a.server, a.method, _pattern(a.path), a.status, a.conditional) for a in answers
    )
    return [
        f"{n:4d} x {server}: {method} {path} -> {status}"
        + (" (If-None-Match)" if conditional else "")
        for (server, method, path, status, conditional), n in sorted(
            kinds.items(), key=lambda item: (SERVERS.index(item[0][0]), item[0][2])
        )
    ]


def _not_not_modified(answers: Sequence[Answer]) -> list[Answer]:
    return [a for a in answers if not (a.conditional and a.status == 304)]


def _summary(results: dict[Step, list[Measured]], templates: int) -> list[Figure]:
    figures = []
    for step, measured in results.items():
        times = [m.seconds for m in measured]
        counts = [len(m.answers) for m in measured]
        harness.report(f"{step.label}: steps {' '.join(step.args)}", harness.spread(times))
        harness.report(
            "  requests per round",
            ", ".join(map(str, counts)) + f"  (last: {_per_server(measured[-1].answers)})",
        )
        if not (step.remove_lock or step.wipe_cache):
            unchanged = all(m.lock_unchanged for m in measured)
            harness.report("  steps.lock unchanged", str(unchanged))
        for line in _request_kinds(measured[-1].answers):
            print(f"      {line}", flush=True)
        figures += _figures(step, measured, templates)
    return figures


def _figures(step: Step, measured: list[Measured], templates: int) -> list[Figure]:
    median = statistics.median(m.seconds for m in measured)
    timed = Figure(NAME, f"{step.label}, {2 * templates} templates", median, "s")
    most = max(len(m.answers) for m in measured)
    if step in (WARM_LOCK, WARM_SYNC):
        requests = Figure(NAME, f"{step.label}: requests", most, "count", "0 requests", most == 0)
    elif step is RELOCK:
        other = max(len(_not_not_modified(m.answers)) for m in measured)
        requests = Figure(
            NAME,
            f"{step.label}: requests not 304",
            other,
            "count",
            "only conditional",
            other == 0,
        )
    else:
        requests = Figure(NAME, f"{step.label}: requests", most, "count")
    return [timed, requests]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--templates", type=int, default=50, help="templates from each of the two sources"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    harness.print_table(run(args.templates, args.rounds))


if __name__ == "__main__":
    main()
