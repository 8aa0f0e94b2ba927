"""Variable substitution: ``#{Name}`` references and ``##{`` escapes, as Octostache does them.

A variable's value is itself a template, so references nest (``A = "#{B}"``). A reference
that cannot be resolved is left exactly as written, which is what Octopus does and what
real templates rely on (``case "$V" in "#{"*) ...``).
"""

from __future__ import annotations

import re

from steptemplates.errors import StepsError
from steptemplates.variables.collection import VariableSet

# `##{` is an escaped `#{`; otherwise `#{...}` up to the first `}` is a reference.
_TOKEN = re.compile(r"##\{|#\{([^}]*)\}")


class Evaluator:
    """Evaluates templates against one variable set, remembering evaluated values."""

    def __init__(self, variables: VariableSet) -> None:
        self.variables = variables
        self._evaluated: dict[str, str | None] = {}

    def render(self, text: str) -> str:
        return self._render(text, ())

    def value(self, name: str) -> str | None:
        """The evaluated value of ``name``, or None when it is not defined."""
        return self._value(name, ())

    def _render(self, text: str, chain: tuple[str, ...]) -> str:
        if "#{" not in text:
            return text

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "##{":
                return "#{"
            name = match.group(1).strip()
            value = self._value(name, chain)
            return match.group(0) if value is None else value

        return _TOKEN.sub(substitute, text)

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


def render(text: str, variables: VariableSet) -> str:
    return Evaluator(variables).render(text)
