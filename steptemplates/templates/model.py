"""What a step template is, whatever format it was written in."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

# The script languages a template may be written in (docs/template-format.md).
SCRIPT_SYNTAXES = ("bash", "python", "powershell", "csharp", "fsharp")


class ParameterType(enum.Enum):
    TEXT = "text"
    MULTILINE = "multiline"
    CHECKBOX = "checkbox"
    SELECT = "select"
    SENSITIVE = "sensitive"


@dataclass(frozen=True)
class SelectOption:
    value: str
    label: str


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    help: str
    type: ParameterType
    default: str | None
    required: bool
    options: tuple[SelectOption, ...] = ()

    @property
    def sensitive(self) -> bool:
        return self.type is ParameterType.SENSITIVE


@dataclass(frozen=True)
class Script:
    syntax: str
    body: str
    # Path of the script inside the template when it came from a file, so it runs under its
    # own name (and can find files next to it); None for an inline body.
    file: str | None


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    category: str
    parameters: tuple[Parameter, ...]
    script: Script
    root: Path

    def parameter(self, name: str) -> Parameter | None:
        folded = name.casefold()
        return next((p for p in self.parameters if p.name.casefold() == folded), None)
