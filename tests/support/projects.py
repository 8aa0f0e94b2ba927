"""Step-template repositories and `steps` projects for the resolution tests.

A catalog is a served repository with a template at its root and another under
``templates/other``, released under tags of both kinds; ``Steps`` runs the real CLI entry
point in-process in a project directory and checks the shape of its failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from steptemplates import integrity
from steptemplates.cli import main
from tests.support.gitserver import GitRepo

REPO_ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """\
name = "{name}"
description = "Says hello"
category = "test"

[[parameters]]
name = "Greeting"
default = "hello"

[script]
syntax = "bash"
file = "run.sh"
"""

# Tag, whether it is annotated. Every release changes both templates.
RELEASES = (
    ("v0.9.0", True),
    ("v1.0.0", True),
    ("v1.1.0", False),
    ("v1.2.0", True),
    ("v1.2.3", False),
    ("v1.2.7", True),
    ("v1.3.0-beta.1", True),
    ("v2.0.0", False),
    ("v2.1.0-rc.1", True),
)
OTHER = "templates/other"


def write_template(repo: GitRepo, directory: str = "", *, name: str, script: str) -> None:
    """Write a bash template (steptemplate.toml and run.sh) into ``directory`` of the work tree."""
    prefix = f"{directory}/" if directory else ""
    repo.write(f"{prefix}steptemplate.toml", TEMPLATE.format(name=name))
    repo.write(f"{prefix}run.sh", script, mode=0o755)


def release(repo: GitRepo, tag: str, *, annotated: bool = True) -> str:
    """Commit a new revision of both templates and tag it; returns the commit."""
    write_template(repo, name="greet", script=f"echo greet {tag}\n")
    write_template(repo, OTHER, name="other", script=f"echo other {tag}\n")
    commit = repo.commit(f"release {tag}")
    repo.tag(tag, message=f"release {tag}" if annotated else None)
    return commit


@dataclass
class Catalog:
    """A repository released as ``RELEASES``, plus a ``develop`` branch and a ``nightly`` tag."""

    repo: Any  # a ServedRepo
    commits: dict[str, str] = field(default_factory=dict)  # tag -> commit
    develop: str = ""
    untagged: str = ""  # a commit on main no ref points to

    @property
    def urls(self) -> dict[str, str]:
        return {
            "file": self.repo.file_url,
            "path": str(self.repo.path),
            "git": self.repo.git_url,
            "http": self.repo.http_url,
        }


def build_catalog(repo: Any) -> Catalog:
    catalog = Catalog(repo)
    write_template(repo, name="greet", script="echo first\n")
    catalog.untagged = repo.commit("before any release")
    for tag, annotated in RELEASES:
        catalog.commits[tag] = release(repo, tag, annotated=annotated)
    repo.tag("nightly")
    repo.checkout("develop")
    write_template(repo, name="greet", script="echo develop\n")
    catalog.develop = repo.commit("develop work")
    repo.checkout("main")
    return catalog


# --- running the CLI -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The one ``error:`` line on stderr (without the prefix); fails unless there is one."""
        lines = [line for line in self.err.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1, self.err
        return lines[0].removeprefix("error: ")

    @property
    def warnings(self) -> list[str]:
        return [
            line.removeprefix("warning: ")
            for line in self.err.splitlines()
            if line.startswith("warning: ")
        ]


def cache_root() -> Path:
    return Path(os.environ["STEPS_CACHE_DIR"])


def cache_entries() -> dict[str, Path]:
    """The template entries in the cache, by name."""
    directory = cache_root() / "templates"
    return {p.name: p for p in directory.iterdir()} if directory.is_dir() else {}


def assert_cache_consistent() -> None:
    """Every visible entry is complete and matches its name; no staging is left over."""
    for name, path in cache_entries().items():
        assert integrity.tree_integrity(path) == name
    staging = cache_root() / "tmp"
    assert not staging.exists() or not list(staging.iterdir())


class Steps:
    """Runs ``steps`` in-process in a project directory."""

    def __init__(
        self, directory: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.directory = directory
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    @property
    def manifest(self) -> Path:
        return self.directory / "steps.toml"

    @property
    def lock_path(self) -> Path:
        return self.directory / "steps.lock"

    def __call__(self, *args: str) -> Outcome:
        self._monkeypatch.chdir(self.directory)
        self._capsys.readouterr()
        code = main(list(args))
        out, err = self._capsys.readouterr()
        return Outcome(code, out, err)

    def ok(self, *args: str) -> Outcome:
        outcome = self(*args)
        assert outcome.code == 0, outcome.err
        assert "error:" not in outcome.err
        return outcome

    def fails(self, *args: str) -> Outcome:
        """Run a command that must fail cleanly: exit 2, one error line, nothing half-written."""
        before = self._files()
        outcome = self(*args)
        assert outcome.code == 2, outcome.err
        assert "Traceback" not in outcome.err
        assert outcome.error  # exactly one error line
        assert len(outcome.err.strip().splitlines()) == 1 + len(outcome.warnings), outcome.err
        assert self._files() == before, "a failed command changed steps.toml or steps.lock"
        assert_cache_consistent()
        return outcome

    def _files(self) -> dict[str, bytes | None]:
        return {
            path.name: path.read_bytes() if path.exists() else None
            for path in (self.manifest, self.lock_path)
        }

    def write(self, text: str) -> None:
        """Replace steps.toml."""
        self.manifest.write_text(text, encoding="utf-8")

    def use(self, **templates: dict[str, str | bool]) -> None:
        """Write a steps.toml declaring ``templates`` (name -> keys)."""
        lines = []
        for name, keys in templates.items():
            lines.append(f'[templates."{name}"]')
            for key, value in keys.items():
                shown = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
                lines.append(f"{key} = {shown}")
            lines.append("")
        self.write("\n".join(lines))

    def lock(self) -> dict[str, dict[str, str]]:
        """steps.lock's entries by name."""
        data = tomllib.loads(self.lock_path.read_text(encoding="utf-8"))
        return {entry["name"]: entry for entry in data.get("template", [])}


def run_steps(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m steptemplates ARGS`` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "steptemplates", *args],
        cwd=cwd,
        env=env or steps_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def steps_env() -> dict[str, str]:
    """The test environment (cache, HOME) for a `steps` subprocess, able to import the package."""
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{path}" if path else str(REPO_ROOT),
    }
