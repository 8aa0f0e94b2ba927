"""Masking of sensitive values in everything steps prints or writes."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"


class Masker:
    """Replaces every known sensitive value in a text with ``MASK``.

    Values are added as they become known (variables marked sensitive, output variables a
    script sets with ``-sensitive``). Output is handled line by line, so each line of a
    multi-line value is also masked on its own.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        candidates = {value, *value.splitlines()}
        new = {c for c in candidates if c.strip() and c not in self._values}
        if new:
            self._values |= new
            self._pattern = None

    def mask(self, text: str) -> str:
        if not self._values:
            return text
        if self._pattern is None:
            # Longest first, so a value containing another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        return self._pattern.sub(MASK, text)
