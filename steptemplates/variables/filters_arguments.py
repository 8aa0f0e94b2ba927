"""What every filter shares: its signature, the FilterRejected error, and checks on the argument
and options it was given."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Filter = Callable[[str | None, Sequence[str]], str | None]


class FilterRejected(Exception):
    """The filter cannot produce a value for this argument and these options. The engine then
    echoes the whole expression (as Octostache does) and reports str(error) as the reason,
    e.g. "Substring takes a length, or a start and a length, as non-negative integers"."""


def needs_argument(name: str, argument: str | None) -> str:
    if argument is None:
        raise FilterRejected(f"{name} needs a value to work on")
    return argument


def no_options(name: str, options: Sequence[str]) -> None:
    if options:
        raise FilterRejected(f"{name} takes no options")


def one_option(name: str, options: Sequence[str], what: str) -> str:
    if len(options) != 1:
        raise FilterRejected(f"{name} takes exactly one option: {what}")
    return options[0]
