"""The download progress line: when it shows, what it says, and that it cleans up after itself."""

from __future__ import annotations

import io
import threading

from steptemplates.console import Console
from steptemplates.masking import Masker
from steptemplates.progress import ProgressLine, format_size

MB = 1_000_000


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames(stream: io.StringIO) -> list[str]:
    """What each redraw left on the line, in order."""
    return [part.rstrip() for part in stream.getvalue().split("\r") if part.strip()]


def test_a_big_transfer_is_shown_then_erased() -> None:
    stream, clock = TtyStream(), FakeClock()
    line = ProgressLine(stream, enabled=True, clock=clock)
    with line.start("template 'web'") as transfer:
        transfer.update(0, 4 * MB)
        clock.now += 1
        transfer.update(1 * MB, 4 * MB)
    assert frames(stream) == [
        "downloading template 'web': 0 B of 4.0 MB (0%)",
        "downloading template 'web': 1.0 MB of 4.0 MB (25%)",
    ]
    # Blanked out over its whole width, the cursor back at the start of the line.
    width = len("downloading template 'web': 1.0 MB of 4.0 MB (25%)")
    assert stream.getvalue().endswith("(25%)\r" + " " * width + "\r")


def test_a_small_transfer_never_shows() -> None:
    stream = TtyStream()
    line = ProgressLine(stream, enabled=True)
    with line.start("template 'web'") as transfer:
        transfer.update(500_000, MB)
        transfer.update(MB, MB)
    assert stream.getvalue() == ""


def test_a_transfer_of_unknown_size_shows_once_past_a_megabyte() -> None:
    stream, clock = TtyStream(), FakeClock()
    line = ProgressLine(stream, enabled=True, clock=clock)
    transfer = line.start("feed 'x'")
    transfer.update(900_000, None)
    assert stream.getvalue() == ""
    transfer.update(1_200_000, None)
    assert frames(stream) == ["downloading feed 'x': 1.2 MB"]
    transfer.finish()
    transfer.finish()  # twice is harmless
    assert stream.getvalue().endswith("\r")


def test_redraws_are_limited_to_ten_a_second() -> None:
    stream, clock = TtyStream(), FakeClock()
    line = ProgressLine(stream, enabled=True, clock=clock)
    transfer = line.start("template 'web'")
    for done in range(0, 2 * MB, 100_000):
        transfer.update(done, 2 * MB)  # the clock stands still
    assert len(frames(stream)) == 1
    clock.now += 0.2
    transfer.update(2 * MB, 2 * MB)
    assert frames(stream)[-1] == "downloading template 'web': 2.0 MB of 2.0 MB (100%)"


def test_several_transfers_share_one_line() -> None:
    stream, clock = TtyStream(), FakeClock()
    line = ProgressLine(stream, enabled=True, clock=clock)
    first, second = line.start("a"), line.start("b")
    first.update(1 * MB, 2 * MB)
    second.update(1 * MB, 3 * MB)
    assert frames(stream)[-1] == "downloading 2 files: 2.0 MB of 5.0 MB (40%)"
    first.finish()
    assert frames(stream)[-1] == "downloading b: 1.0 MB of 3.0 MB (33%)"
    second.finish()
    assert stream.getvalue().endswith("\r")


def test_restarting_a_transfer_goes_back_to_zero() -> None:
    stream, clock = TtyStream(), FakeClock()
    line = ProgressLine(stream, enabled=True, clock=clock)
    transfer = line.start("a")
    transfer.update(3 * MB, 4 * MB)
    clock.now += 1
    transfer.update(0, 4 * MB)
    assert frames(stream)[-1] == "downloading a: 0 B of 4.0 MB (0%)"


def test_a_disabled_line_writes_nothing() -> None:
    stream = TtyStream()
    line = ProgressLine(stream, enabled=False)
    with line.start("a") as transfer:
        transfer.update(3 * MB, 4 * MB)
    assert stream.getvalue() == ""


def test_only_a_terminal_that_is_not_quiet_gets_a_line() -> None:
    assert ProgressLine.for_console(Console(io.StringIO(), TtyStream())).enabled
    assert not ProgressLine.for_console(Console(io.StringIO(), io.StringIO())).enabled
    assert not ProgressLine.for_console(Console(io.StringIO(), TtyStream(), quiet=True)).enabled


def test_labels_are_masked() -> None:
    stream = TtyStream()
    console = Console(io.StringIO(), stream, masker=Masker(["hunter2"]))
    line = ProgressLine.for_console(console)
    with line.start("template 'hunter2'") as transfer:
        transfer.update(2 * MB, 2 * MB)
    assert "hunter2" not in stream.getvalue()
    assert "downloading template '" in stream.getvalue()


def test_transfers_from_many_threads() -> None:
    stream = TtyStream()
    line = ProgressLine(stream, enabled=True)

    def run(index: int) -> None:
        with line.start(f"file {index}") as transfer:
            for done in range(0, 3 * MB, 50_000):
                transfer.update(done, 3 * MB)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "downloading" in stream.getvalue()
    assert stream.getvalue().endswith("\r")
    assert line.start("after").update(2 * MB, 2 * MB) is None  # still usable afterwards


def test_sizes_read_naturally() -> None:
    assert [format_size(n) for n in (999, 1500, 2_500_000, 3_210_000_000)] == [
        "999 B",
        "1.5 kB",
        "2.5 MB",
        "3.21 GB",
    ]
