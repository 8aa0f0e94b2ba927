"""What every structured-configuration format (JSON, YAML, XML, Java properties) provides.

Each format module has one function::

    def replace(data: bytes, variables: Mapping[str, str], *, warn: Warn) -> Replaced

It parses ``data`` as its format (raising ``NotThisFormat`` when the file is not written in
it, so that the caller can try the next format), replaces the values whose path matches a
variable name, and returns the new bytes. Values that match nothing are left alone and no
key is ever added. A value that cannot be applied (for example text that is not valid JSON
for an object) is a warning, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Replaced:
    data: bytes  # the file's new content (identical to the input when nothing matched)
    replaced: tuple[str, ...]  # the variable names applied, in document order


class NotThisFormat(Exception):
    """The data does not parse as this format; the message says where and why."""


def casefold_index(variables: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Variables by case-folded name -> (name as spelled, value); later spellings win."""
    return {name.casefold(): (name, value) for name, value in variables.items()}
