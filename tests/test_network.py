import pytest

from steptemplates.errors import StepsError
from steptemplates.network import network_timeout, with_retries


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e300", "soon"])
def test_bad_timeouts_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", value)
    with pytest.raises(StepsError, match=r"^STEPS_NETWORK_TIMEOUT must be a number of seconds"):
        network_timeout()


def test_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPS_NETWORK_TIMEOUT", "2.5")
    assert network_timeout() == 2.5
    monkeypatch.delenv("STEPS_NETWORK_TIMEOUT")
    assert network_timeout() == 30.0


def test_transient_failures_are_retried_then_given_up() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset")
        return "done"

    assert with_retries(flaky, what="x", is_transient=lambda e: True) == "done"
    assert len(calls) == 3

    calls.clear()
    with pytest.raises(ConnectionResetError):
        with_retries(flaky, what="x", is_transient=lambda e: True, attempts=2)
    assert len(calls) == 2

    calls.clear()
    with pytest.raises(ConnectionResetError):
        with_retries(flaky, what="x", is_transient=lambda e: False)
    assert len(calls) == 1
