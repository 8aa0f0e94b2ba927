"""A set of variables as Octopus keeps them: names are case-insensitive, values are text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    value: str
    sensitive: bool = False


class VariableSet:
    """Later ``set`` calls win; the first spelling of a name is kept (as .NET dictionaries do).

    Keeping the first spelling matters: a template reads ``get_octopusvariable "Url"`` with
    exact case, so ``-v url=...`` must override the value without renaming the variable.
    """

    def __init__(self, variables: Iterable[Variable] = ()) -> None:
        self._entries: dict[str, Variable] = {}
        for variable in variables:
            self.add(variable)

    def set(self, name: str, value: str, *, sensitive: bool = False) -> None:
        self.add(Variable(name, value, sensitive))

    def add(self, variable: Variable) -> None:
        key = variable.name.casefold()
        existing = self._entries.get(key)
        name = existing.name if existing else variable.name
        # Once a name is sensitive it stays so: a plain override must not unmask it.
        sensitive = variable.sensitive or bool(existing and existing.sensitive)
        self._entries[key] = Variable(name, variable.value, sensitive)

    def update(self, variables: Iterable[Variable]) -> None:
        for variable in variables:
            self.add(variable)

    def get(self, name: str) -> str | None:
        entry = self._entries.get(name.casefold())
        return entry.value if entry else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.casefold() in self._entries

    def __iter__(self) -> Iterator[Variable]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def sensitive_values(self) -> list[str]:
        return [v.value for v in self._entries.values() if v.sensitive and v.value]
