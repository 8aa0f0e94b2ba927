"""Fixtures for running real bash and python3 scripts through the execution core."""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from steptemplates.console import Console, Level
from steptemplates.execution.languages import get_language
from steptemplates.execution.script import ScriptRequest, ScriptResult, run_script


class RecordingConsole(Console):
    """A real Console on StringIO that also keeps each script line with its level."""

    def __init__(self) -> None:
        super().__init__(io.StringIO(), io.StringIO(), verbose=True)
        self.lines: list[tuple[Level, str]] = []

    def line(self, level: Level, text: str) -> None:
        self.lines.append((level, self.masker.mask(text)))
        super().line(level, text)

    @property
    def stdout(self) -> str:
        return self.out.getvalue()  # type: ignore[attr-defined]

    @property
    def stderr(self) -> str:
        return self.err.getvalue()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Ran:
    result: ScriptResult
    console: RecordingConsole


RunScript = Callable[..., Ran]


def wait_for_pid(path: Path, within: float = 10.0) -> int:
    """The pid a script writes into ``path`` once it is running."""
    deadline = time.monotonic() + within
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path.name} was never written"
        time.sleep(0.02)
    return int(path.read_text())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def run(workdir: Path) -> RunScript:
    """Run script text through ``run_script`` in ``workdir``."""

    def run_text(
        syntax: str,
        text: str,
        *,
        variables: Mapping[str, str] | None = None,
        parameters: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Ran:
        script = workdir / f"script{get_language(syntax).extension}"
        script.write_text(text, encoding="utf-8")
        console = RecordingConsole()
        request = ScriptRequest(syntax, script, workdir, variables or {}, parameters, timeout)
        return Ran(run_script(request, console), console)

    return run_text


RunRaw = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_raw(tmp_path: Path, workdir: Path) -> RunRaw:
    """Run script text through a language's bootstrap only, keeping its raw output."""

    def run_text(
        syntax: str,
        text: str,
        *,
        variables: Mapping[str, str] | None = None,
        parameters: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        language = get_language(syntax)
        script = workdir / f"script{language.extension}"
        script.write_text(text, encoding="utf-8")
        private = tmp_path / "private"
        private.mkdir(mode=0o700)
        argv = language.prepare(script, private, variables or {}, parameters)
        return subprocess.run(
            argv,
            cwd=workdir,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=30,
        )

    return run_text
