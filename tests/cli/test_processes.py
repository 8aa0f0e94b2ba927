"""`steps` as a separate process: exit codes, Ctrl-C, and two processes sharing one cache."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from steptemplates.cache import mirror_key
from tests.support.gitserver import SmartHttpServer
from tests.support.projects import (
    OTHER,
    Catalog,
    assert_cache_consistent,
    cache_entries,
    cache_root,
    run_steps,
    steps_env,
)


def make_project(directory: Path, manifest: str) -> Path:
    directory.mkdir()
    (directory / "steps.toml").write_text(manifest)
    return directory


def test_exit_codes(tmp_path: Path, catalog: Catalog) -> None:
    good = make_project(tmp_path / "good", f'[templates.greet]\ngit = "{catalog.repo.file_url}"\n')
    bad = make_project(tmp_path / "bad", '[templates.greet]\ngit = "x"\nversion = "^1\n')

    done = run_steps("lock", cwd=good)
    failed = run_steps("lock", cwd=bad)

    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.startswith("Resolved 1 template in ")
    assert failed.returncode == 2
    assert failed.stderr == "error: steps.toml:3:14: invalid TOML: illegal character '\\n'\n"
    assert not (bad / "steps.lock").exists()


@pytest.fixture
def stalled_fetches(git_served_root: Path) -> Iterator[tuple[SmartHttpServer, threading.Event]]:
    """A smart HTTP server whose fetches hang, and an event set once one is under way."""
    with SmartHttpServer(git_served_root) as server:
        server.stall_seconds = 60
        server.stall_command = "fetch"
        fetching = threading.Event()
        stall = server.maybe_stall

        def noting_fetches(command: str | None) -> None:
            if command == "fetch":
                fetching.set()
            stall(command)

        server.maybe_stall = noting_fetches  # type: ignore[method-assign]
        yield server, fetching


def interrupt_lock(project: Path, fetching: threading.Event) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "steptemplates", "lock"],
        cwd=project,
        env=steps_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert fetching.wait(30), "steps lock never started fetching"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_ctrl_c_while_fetching_writes_nothing(
    tmp_path: Path, catalog: Catalog, stalled_fetches: tuple[SmartHttpServer, threading.Event]
) -> None:
    server, fetching = stalled_fetches
    project = make_project(
        tmp_path / "project", f'[templates.greet]\ngit = "{server.url(catalog.repo.name)}"\n'
    )

    interrupted = interrupt_lock(project, fetching)

    assert interrupted.returncode == 130
    assert interrupted.stderr == "error: interrupted\n"
    assert not (project / "steps.lock").exists()
    assert not (cache_root() / "templates").exists()
    assert_cache_consistent()
    # The interrupted fetch left the mirror usable.
    server.stall_seconds = 0
    assert run_steps("lock", cwd=project).returncode == 0
    assert (project / "steps.lock").exists()


def test_ctrl_c_while_fetching_keeps_the_old_lock(
    tmp_path: Path,
    catalog: Catalog,
    stalled_fetches: tuple[SmartHttpServer, threading.Event],
) -> None:
    server, fetching = stalled_fetches
    first = f'[templates.first]\ngit = "{catalog.repo.http_url}"\nversion = "^1.0"\n'
    project = make_project(tmp_path / "project", first)
    assert run_steps("lock", cwd=project).returncode == 0
    locked = (project / "steps.lock").read_bytes()
    entries = set(cache_entries())
    # Two templates now, so resolution runs on worker threads.
    (project / "steps.toml").write_text(
        first + f'[templates.second]\ngit = "{server.url(catalog.repo.name)}"\ntag = "v0.9.0"\n'
    )

    interrupted = interrupt_lock(project, fetching)

    assert interrupted.returncode == 130
    assert interrupted.stderr == "error: interrupted\n"
    assert (project / "steps.lock").read_bytes() == locked
    assert set(cache_entries()) == entries
    assert_cache_consistent()


def test_two_locks_at_once_share_the_cache(
    tmp_path: Path, catalog: Catalog, git_served_root: Path
) -> None:
    with SmartHttpServer(git_served_root) as server:
        # Slow answers keep both processes inside the cache at the same time.
        server.stall_seconds = 0.03
        url = server.url(catalog.repo.name)
        manifest = "".join(
            f'[templates.{name}]\ngit = "{source}"\n{pin}\n\n'
            for name, source, pin in [
                ("a", url, 'version = "^1.0"'),
                ("b", url, f'version = "^1.0"\nsubdir = "{OTHER}"'),
                ("c", url, 'tag = "v0.9.0"'),
                ("d", url, f'rev = "{catalog.untagged}"'),
                ("e", catalog.repo.git_url, 'version = "~1.1"'),
                # The same files as "c" through another mirror: two writers of one entry.
                ("f", catalog.repo.git_url, 'tag = "v0.9.0"'),
            ]
        )
        projects = [make_project(tmp_path / name, manifest) for name in ("one", "two")]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "steptemplates", "lock"],
                cwd=project,
                env=steps_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for project in projects
        ]
        results = [process.communicate(timeout=60) for process in processes]

    assert [p.returncode for p in processes] == [0, 0], results
    one, two = ((project / "steps.lock").read_text() for project in projects)
    assert one == two
    mirrors = sorted(p.name for p in (cache_root() / "git").iterdir() if p.is_dir())
    assert mirrors == sorted([mirror_key(url), mirror_key(catalog.repo.git_url)])
    assert len(cache_entries()) == 5
    assert_cache_consistent()
    registered = (cache_root() / "projects.txt").read_text().splitlines()
    assert sorted(registered) == sorted(str(p.resolve() / "steps.lock") for p in projects)
    for project in projects:
        synced = run_steps("sync", "--offline", cwd=project)
        assert synced.returncode == 0, synced.stderr


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    """`steps list | head -1`: the reader leaves early; no traceback, the shell's SIGPIPE code."""
    project = make_project(
        tmp_path / "project",
        "".join(f'[[steps]]\nname = "step {n}"\ntemplate = "t"\n' for n in range(2000))
        + '[templates.t]\npath = "t"\n',
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "steptemplates", "list"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=steps_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    error = process.stderr.read().decode()
    assert process.wait(timeout=30) == 141
    assert error == ""
