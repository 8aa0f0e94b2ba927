""".NET regular expressions in Python's ``re``: the pattern spellings that differ, and .NET's
replacement strings (``$1``, ``${name}``, ``$&``), for the ``Replace`` and ``Match`` filters."""

from __future__ import annotations

import re
from collections.abc import Callable


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a .NET regular expression; raises re.error when Python cannot."""
    return re.compile(_python_pattern(pattern))


def _python_pattern(pattern: str) -> str:
    """Rewrite the .NET-only spellings of a regular expression in Python's."""
    rewritten: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escape = pattern[index : index + 2]
            if escape == "\\z":
                rewritten.append("\\Z")
            elif escape == "\\Z":
                rewritten.append("(?=\\n?\\Z)")  # .NET's \Z also allows a final newline
            elif escape == "\\k" and pattern.startswith("<", index + 2):
                close = pattern.find(">", index)
                rewritten.append(f"(?P={pattern[index + 3 : close]})")
                index = close + 1
                continue
            else:
                rewritten.append(escape)
            index += 2
            continue
        named = re.match(r"\(\?(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')", pattern[index:])
        if named:
            rewritten.append(f"(?P<{named.group(1) or named.group(2)}>")
            index += named.end()
            continue
        rewritten.append(char)
        index += 1
    return "".join(rewritten)


_ReplacementPart = str | Callable[[re.Match[str]], str]


class Replacement:
    """A .NET replacement string: ``$1``, ``${name}``, ``$$``, ``$&``, ``$``` and ``$'``;
    backslashes are ordinary characters."""

    _TOKEN = re.compile(r"\$(?:(\d+)|\{([^}]*)\}|([$&`'+_]))")

    def __init__(self, pattern: re.Pattern[str], template: str) -> None:
        self._groups = _group_numbers(pattern)
        self._names = pattern.groupindex
        self._parts: list[_ReplacementPart] = []
        position = 0
        for token in self._TOKEN.finditer(template):
            part = self._part(token)
            if part is None:
                continue
            self._parts.append(template[position : token.start()])
            if isinstance(part, tuple):  # a group number followed by literal digits
                self._parts.extend(part)
            else:
                self._parts.append(part)
            position = token.end()
        self._parts.append(template[position:])

    def _part(self, token: re.Match[str]) -> _ReplacementPart | tuple[_ReplacementPart, str] | None:
        """What a ``$`` token stands for; None when .NET would keep it as literal text."""
        digits, name, special = token.groups()
        if digits is not None:
            # .NET reads the longest prefix of the digits that names a group.
            for length in range(len(digits), 0, -1):
                number = int(digits[:length])
                if number in self._groups:
                    return (self._group(self._groups[number]), digits[length:])
            return None
        if name is not None:
            if name.isdigit() and int(name) in self._groups:
                return self._group(self._groups[int(name)])
            return self._group(name) if name in self._names else None
        specials: dict[str, _ReplacementPart] = {
            "$": "$",
            "&": self._group(0),
            "`": lambda match: match.string[: match.start()],
            "'": lambda match: match.string[match.end() :],
            "+": lambda match: match.group(match.lastindex or 0) or "",
            "_": lambda match: match.string,
        }
        return specials[special]

    @staticmethod
    def _group(key: int | str) -> Callable[[re.Match[str]], str]:
        return lambda match: match.group(key) or ""

    def expand(self, match: re.Match[str]) -> str:
        return "".join(part if isinstance(part, str) else part(match) for part in self._parts)


def _group_numbers(pattern: re.Pattern[str]) -> dict[int, int]:
    """.NET numbers unnamed groups first, then named ones; map its numbers to Python's."""
    named = sorted(pattern.groupindex.values())
    unnamed = [i for i in range(1, pattern.groups + 1) if i not in named]
    numbers = {0: 0}
    for dotnet_number, python_number in enumerate(unnamed + named, start=1):
        numbers[dotnet_number] = python_number
    return numbers
