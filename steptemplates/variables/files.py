"""Variable files: Calamari's JSON formats and TOML (docs/variables.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from steptemplates import tomlfile
from steptemplates.errors import StepsError
from steptemplates.variables.collection import Variable


def load_variables_file(path: Path) -> list[Variable]:
    """Variables from ``path``: a flat JSON object, Calamari's JSON array, or TOML."""
    if path.suffix.lower() == ".toml":
        return _from_toml(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise StepsError(f"{path}: variables file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StepsError(f"{path}: cannot read variables file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StepsError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if isinstance(data, dict):
        return [Variable(name, _text(path, name, value)) for name, value in data.items()]
    if isinstance(data, list):
        return [_from_entry(path, index, entry) for index, entry in enumerate(data)]
    raise StepsError(
        f"{path}: a variables file holds a JSON object of names to values, "
        'or an array of {"k": name, "v": value, "s": sensitive}'
    )


def _from_entry(path: Path, index: int, entry: Any) -> Variable:
    if not isinstance(entry, dict) or not isinstance(entry.get("k"), str):
        raise StepsError(f'{path}: entry {index} must be an object with a string "k" (the name)')
    unknown = set(entry) - {"k", "v", "s"}
    if unknown:
        raise StepsError(f"{path}: entry {index} has unknown keys: {', '.join(sorted(unknown))}")
    sensitive = entry.get("s", False)
    if not isinstance(sensitive, bool):
        raise StepsError(f'{path}: entry {index} ("{entry["k"]}"): "s" must be true or false')
    return Variable(entry["k"], _text(path, entry["k"], entry.get("v")), sensitive)


def _text(path: Path, name: str, value: Any) -> str:
    if value is None:
        return ""  # Octopus stores a null value as an empty string
    text = tomlfile.scalar_to_text(value)
    if text is None:
        raise StepsError(f"{path}: variable '{name}' must be a string, number, boolean or null")
    return text


def _from_toml(path: Path) -> list[Variable]:
    doc = tomlfile.load(path)
    return [
        Variable(name, value) for name, value in tomlfile.variables_of(doc, (), doc.data).items()
    ]
