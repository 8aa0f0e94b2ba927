"""Template formats: find the template in a directory and load it into a ``Template``."""

from __future__ import annotations

from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.templates import native
from steptemplates.templates.model import Parameter, ParameterType, Script, SelectOption, Template

__all__ = [
    "Parameter",
    "ParameterType",
    "Script",
    "SelectOption",
    "Template",
    "find_template_file",
    "load_template",
]


def find_template_file(root: Path) -> Path | None:
    candidate = root / native.FILE_NAME
    return candidate if candidate.is_file() else None


def load_template(root: Path, *, origin: str | None = None) -> Template:
    """Load the template in ``root``; ``origin`` says where it came from, for errors."""
    described = origin or str(root)
    if not root.is_dir():
        raise StepsError(f"{described}: template directory does not exist")
    path = find_template_file(root)
    if path is None:
        raise StepsError(
            f"{described}: no {native.FILE_NAME} found",
            hint="point the source at the directory holding the template (use --subdir for git)",
        )
    return native.load(path, origin=origin)
