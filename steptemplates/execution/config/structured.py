"""Structured configuration variables: choose a file's format, replace the values whose path
a variable names, and write the file back only when its bytes changed.

The format follows Calamari: a ``.json`` file is JSON; ``.xml``, ``.yml``/``.yaml`` and
``.properties`` files are tried as JSON first, then as their own format; any other file is
tried as JSON, XML, YAML and Java properties in that order. The first format that parses
the file wins, which matters because YAML reads most JSON and nearly anything reads as
properties.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from steptemplates.errors import StepsError
from steptemplates.execution.config.structured_base import NotThisFormat, Replaced, Warn
from steptemplates.fsutil import write_bytes_atomic

NO_MATCH = (
    "No structures have been found that match variable names, so no structured variable "
    "replacements have been applied."
)

JSON = "JSON"
XML = "XML"
YAML = "YAML"
PROPERTIES = "Java properties"

# Each format's module, imported only when a file is tried as that format.
_MODULES = {
    JSON: "steptemplates.execution.config.structured_json",
    XML: "steptemplates.execution.config.structured_xml",
    YAML: "steptemplates.execution.config.structured_yaml",
    PROPERTIES: "steptemplates.execution.config.structured_properties",
}
_BY_EXTENSION = {
    ".json": (JSON,),
    ".xml": (JSON, XML),
    ".yml": (JSON, YAML),
    ".yaml": (JSON, YAML),
    ".properties": (JSON, PROPERTIES),
}
_ANY = (JSON, XML, YAML, PROPERTIES)


@dataclass(frozen=True)
class StructuredResult:
    format: str  # the format the file was read as: JSON, XML, YAML or Java properties
    replaced: tuple[str, ...]  # the variable names applied, in document order
    changed: bool  # whether the file was rewritten


class _Replace(Protocol):
    def __call__(self, data: bytes, variables: Mapping[str, str], *, warn: Warn) -> Replaced: ...


def replace_structured(
    path: Path,
    variables: Mapping[str, str],
    *,
    json_only: bool = False,
    warn: Warn,
    info: Callable[[str], None],
) -> StructuredResult:
    """Replace the values in ``path`` whose path matches a variable name.

    ``json_only`` (Octopus.Action.StructuredConfigurationFallbackFlag) reads every file as
    JSON, as Octopus did before the other formats existed.
    """
    data = _read(path)
    candidates = (JSON,) if json_only else _candidates(path)
    for position, candidate in enumerate(candidates):
        # A format's warnings count only if the file turns out to be in that format.
        warnings: list[str] = []
        try:
            result = _replacer(candidate)(data, variables, warn=warnings.append)
        except NotThisFormat as error:
            if position < len(candidates) - 1:
                continue
            reason = " ".join(str(error).split())
            raise StepsError(
                f"Structured variable replacement failed on {path}: it is not valid "
                f"{candidate} ({reason})",
                hint="fix the file or remove it from the target files",
            ) from None
        for message in warnings:
            warn(message)
        return _finish(path, data, candidate, result, info)
    raise AssertionError("every file has at least one candidate format")


def _candidates(path: Path) -> tuple[str, ...]:
    return _BY_EXTENSION.get(path.suffix.lower(), _ANY)


def _replacer(format_name: str) -> _Replace:
    module = importlib.import_module(_MODULES[format_name])
    replace: _Replace = module.replace
    return replace


def _read(path: Path) -> bytes:
    """The file's bytes; a missing file reads as empty, which JSON takes for ``{}``."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as error:
        raise StepsError(
            f"cannot read {path} for structured variable replacement: {error.strerror or error}",
            hint="check that it is a readable file",
        ) from None


def _finish(
    path: Path, data: bytes, format_name: str, result: Replaced, info: Callable[[str], None]
) -> StructuredResult:
    if not result.replaced:
        info(NO_MATCH)
    changed = result.data != data
    if changed:
        write_bytes_atomic(path, result.data)  # keeps the file's mode
    return StructuredResult(format_name, result.replaced, changed)
