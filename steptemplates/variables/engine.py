"""Variable substitution: ``#{Name}`` references and ``##{`` escapes, as Octostache does them.

A variable's value is itself a template, so references nest (``A = "#{B}"``). A reference
that cannot be resolved is left exactly as written, which is what Octopus does and what
real templates rely on (``case "$V" in "#{"*) ...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from steptemplates.errors import StepsError
from steptemplates.variables.collection import VariableSet

# A run of `#` before `{`: each pair is one literal `#`; an odd one left over starts a
# reference (`#{A}` is A's value, `##{A}` is the text `#{A}`, `###{A}` is `#` and A's value).
_OPENING = re.compile(r"(#+)\{")


class Evaluator:
    """Evaluates templates against one variable set, remembering evaluated values."""

    def __init__(self, variables: VariableSet) -> None:
        self.variables = variables
        self._evaluated: dict[str, str | None] = {}

    @classmethod
    def of_values(cls, values: Mapping[str, str]) -> Evaluator:
        """An evaluator over values that are already evaluated: they are used as they are."""
        evaluator = cls(VariableSet())
        evaluator._evaluated = {name.casefold(): value for name, value in values.items()}
        return evaluator

    def render(self, text: str) -> str:
        return self._render(text, ())

    def value(self, name: str) -> str | None:
        """The evaluated value of ``name``, or None when it is not defined."""
        return self._value(name, ())

    def _render(self, text: str, chain: tuple[str, ...]) -> str:
        if "#{" not in text:
            return text
        out: list[str] = []
        position = 0
        while match := _OPENING.search(text, position):
            out.append(text[position : match.start()])
            hashes = len(match.group(1))
            out.append("#" * (hashes // 2))
            position = match.end()
            if hashes % 2 == 0:
                out.append("{")
                continue
            close = text.find("}", position)
            if close < 0:
                out.append("#{")
                continue
            value = self._value(text[position:close].strip(), chain)
            out.append("#{" + text[position : close + 1] if value is None else value)
            position = close + 1
        out.append(text[position:])
        return "".join(out)

    def _value(self, name: str, chain: tuple[str, ...]) -> str | None:
        key = name.casefold()
        if key in self._evaluated:
            return self._evaluated[key]
        if key in (c.casefold() for c in chain):
            cycle = " -> ".join((*chain, name))
            raise StepsError(f"variable '{name}' refers to itself ({cycle})")
        raw = self.variables.get(name)
        value = None if raw is None else self._render(raw, (*chain, name))
        self._evaluated[key] = value
        return value
