from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from steptemplates.console import Level
from steptemplates.errors import StepsError
from steptemplates.execution import process
from steptemplates.execution.process import Ending, run_process
from steptemplates.execution.script import Outcome

from .conftest import RunScript, wait_for_pid


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def reap(workdir: Path) -> Iterator[list[int]]:
    """Pids of background processes a test started; killed afterwards whatever happened."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _run(
    argv: list[str], cwd: Path, timeout: float | None = None
) -> tuple[process.ProcessResult, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    return run_process(argv, cwd, out.append, err.append, timeout), out, err


def test_lines_arrive_in_order_per_stream(workdir: Path) -> None:
    writer = (
        "import sys\n"
        "out, err = sys.stdout.buffer, sys.stderr.buffer\n"
        "for i in range(1000): out.write(b'line %d\\n' % i)\n"
        "out.write(b'bad \\xff byte\\ncrlf\\r\\n' + b'x' * 200000 + b'\\n\\nsplit \\xc3')\n"
        "out.flush(); out.write(b'\\xa9 char\\nno newline at end')\n"
        "err.write(b'e1\\ne2')\n"
    )
    result, out, err = _run([sys.executable, "-c", writer], workdir)
    assert (result.ending, result.exit_code, result.output_cut_off) == (Ending.EXITED, 0, False)
    assert out[:1000] == [f"line {i}" for i in range(1000)]
    assert out[1000:] == [
        "bad \ufffd byte",
        "crlf",
        "x" * 200000,
        "",
        "split é char",
        "no newline at end",
    ]
    assert err == ["e1", "e2"]


def test_a_line_without_end_is_passed_on_in_pieces(workdir: Path) -> None:
    size = 9 * 1024 * 1024
    writer = f"import sys; sys.stdout.write('y' * {size})"
    result, out, _ = _run([sys.executable, "-c", writer], workdir)
    assert result.exit_code == 0
    assert len(out) == 2
    assert "".join(out) == "y" * size


def test_stdin_is_empty_and_the_process_leads_its_own_session(workdir: Path) -> None:
    probe = (
        "import os, sys\n"
        "print(repr(sys.stdin.read()))\n"
        "print(os.getsid(0) == os.getpid() == os.getpgid(0))\n"
    )
    _, out, _ = _run([sys.executable, "-c", probe], workdir)
    assert out == ["''", "True"]


def test_a_program_that_cannot_start_is_a_steps_error(workdir: Path) -> None:
    with pytest.raises(StepsError, match="could not start `/no/such/interpreter`"):
        _run(["/no/such/interpreter"], workdir)


def test_background_child_holding_the_output_does_not_hold_the_step(
    run: RunScript, workdir: Path, reap: list[int]
) -> None:
    started = time.monotonic()
    ran = run("bash", "nohup sleep 30 &\necho $! > sleeper\necho started\n")
    elapsed = time.monotonic() - started
    reap.append(wait_for_pid(workdir / "sleeper"))
    assert ran.result.outcome is Outcome.SUCCEEDED
    assert process.GRACE_PERIOD * 0.9 < elapsed < 2.0
    assert _alive(reap[0]), "the background child is left running"
    assert ran.console.lines == [
        (Level.INFO, "started"),
        (
            Level.VERBOSE,
            "a background process still holds the script's output open; its output is not shown",
        ),
    ]


def test_output_within_the_grace_period_is_still_shown(
    workdir: Path, reap: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "GRACE_PERIOD", 0.5)
    script = "(sleep 0.2; echo late; exec sleep 30) &\necho $! > sleeper\necho early\n"
    result, out, _ = _run(["bash", "-c", script], workdir)
    reap.append(wait_for_pid(workdir / "sleeper"))
    assert (result.ending, result.exit_code, result.output_cut_off) == (Ending.EXITED, 0, True)
    assert out == ["early", "late"]


def test_a_background_child_can_keep_writing_after_the_step(
    workdir: Path, reap: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "GRACE_PERIOD", 0.2)
    script = "(while true; do echo tick; sleep 0.02; done) &\necho $! > ticker\n"
    result, out, _ = _run(["bash", "-c", script], workdir)
    reap.append(wait_for_pid(workdir / "ticker"))
    assert result.output_cut_off
    count = len(out)
    time.sleep(0.3)
    assert len(out) == count, "output is no longer forwarded"
    assert _alive(reap[0]), "the child's writes still succeed (no SIGPIPE)"


def test_timeout_stops_the_whole_process_group(
    workdir: Path, reap: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the reaper of orphans is slow, their zombies keep the group alive until SIGKILL.
    monkeypatch.setattr(process, "TERMINATE_WAIT", 0.3)
    script = "sleep 30 &\necho $! > grandchild\necho waiting\nsleep 30\n"
    started = time.monotonic()
    result, out, _ = _run(["bash", "-c", script], workdir, timeout=0.5)
    elapsed = time.monotonic() - started
    reap.append(wait_for_pid(workdir / "grandchild"))
    assert (result.ending, result.exit_code) == (Ending.TIMED_OUT, None)
    assert out == ["waiting"]
    assert elapsed < 0.5 + 0.3 + 0.5
    assert _gone(reap[0])


def test_a_group_ignoring_sigterm_is_killed(
    workdir: Path, reap: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "TERMINATE_WAIT", 0.3)
    script = "trap '' TERM\nsleep 30 &\necho $! > grandchild\nsleep 30\n"
    started = time.monotonic()
    result, _, _ = _run(["bash", "-c", script], workdir, timeout=0.5)
    elapsed = time.monotonic() - started
    reap.append(wait_for_pid(workdir / "grandchild"))
    assert result.ending is Ending.TIMED_OUT
    assert elapsed < 0.5 + 0.3 + 0.5
    assert _gone(reap[0])


HARNESS = """
import sys
from pathlib import Path
from steptemplates.console import Console
from steptemplates.execution.script import ScriptRequest, run_script

workdir = Path(sys.argv[1])
result = run_script(ScriptRequest("bash", workdir / "script.sh", workdir, {}), Console())
print("OUTCOME", result.outcome.name, result.exit_code, flush=True)
"""


def test_ctrl_c_stops_the_group_and_reports_interrupted(workdir: Path, reap: list[int]) -> None:
    (workdir / "script.sh").write_text(
        'echo "$(dirname "${BASH_SOURCE[1]}")" > private\n'
        "sleep 30 &\necho $! > grandchild\necho $$ > script\nsleep 30\n"
    )
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        script_pid = wait_for_pid(workdir / "script")
        reap.extend([script_pid, wait_for_pid(workdir / "grandchild")])
        harness.send_signal(signal.SIGINT)
        out, err = harness.communicate(timeout=10)
    finally:
        harness.kill()
    assert harness.returncode == 0, err
    assert out.splitlines()[-1] == "OUTCOME INTERRUPTED None"
    assert _gone(reap[0])
    assert _gone(reap[1])
    assert not Path((workdir / "private").read_text().strip()).exists()


def test_stdout_written_before_stderr_is_delivered_first(workdir: Path) -> None:
    writer = (
        "import sys\n"
        "for i in range(300):\n"
        "    sys.stdout.write(f'{i}\\n'); sys.stdout.flush()\n"
        "    sys.stderr.write(f'{i}\\n'); sys.stderr.flush()\n"
    )
    events: list[tuple[str, str]] = []
    run_process(
        [sys.executable, "-c", writer],
        workdir,
        lambda line: events.append(("out", line)),
        lambda line: events.append(("err", line)),
    )
    assert len(events) == 600
    for i in range(300):
        assert events.index(("out", str(i))) < events.index(("err", str(i)))
