"""Template formats: find the template (or script module) in a directory and load it.

Two formats are read: the native ``steptemplate.toml`` (native.py) and Octopus's
ActionTemplate JSON (octopus.py). Which one a directory holds is detected: an explicit
file first, then ``steptemplate.toml``, then the one Octopus JSON file at its top.
"""

from __future__ import annotations

from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.templates import native, octopus
from steptemplates.templates.model import (
    ModuleNeed,
    Parameter,
    ParameterType,
    Script,
    ScriptModule,
    SelectOption,
    Template,
)

__all__ = [
    "ModuleNeed",
    "Parameter",
    "ParameterType",
    "Script",
    "ScriptModule",
    "SelectOption",
    "Template",
    "find_template_file",
    "load_module",
    "load_template",
]


def find_template_file(root: Path, file: str | None = None) -> Path | None:
    """The template file in ``root``: ``file`` when given, else steptemplate.toml, else the
    single Octopus JSON file at the top of ``root``. None when there is none; StepsError when
    ``file`` escapes ``root`` or several JSON files could be meant."""
    if file is not None:
        candidate = (root / file).resolve()
        if not candidate.is_relative_to(root.resolve()):
            raise StepsError(f"template file '{file}' is outside {root}")
        return candidate if candidate.is_file() else None
    candidate = root / native.FILE_NAME
    if candidate.is_file():
        return candidate
    found = sorted(p for p in root.glob("*.json") if p.is_file() and octopus.looks_like_json(p))
    if len(found) > 1:
        names = ", ".join(p.name for p in found[:5]) + (", ..." if len(found) > 5 else "")
        raise StepsError(
            f"{root} holds several Octopus JSON files ({names})",
            hint="name the one to use with --template FILE (or 'template' in steps.toml)",
        )
    return found[0] if found else None


def _template_path(root: Path, file: str | None, origin: str | None, what: str) -> Path:
    described = origin or str(root)
    if not root.is_dir():
        raise StepsError(f"{described}: {what} directory does not exist")
    try:
        path = find_template_file(root, file)
    except StepsError as error:
        raise StepsError(f"{described}: {error.message}", hint=error.hint) from None
    if path is None:
        if file is not None:
            raise StepsError(
                f"{described}: there is no file '{file}'",
                hint="check 'template' in steps.toml (a path inside the source, after 'subdir')",
            )
        raise StepsError(
            f"{described}: no {native.FILE_NAME} or Octopus step template JSON file found",
            hint="point the source at the directory holding the template (use --subdir for "
            "git), or name the file with --template",
        )
    return path


def load_template(root: Path, *, file: str | None = None, origin: str | None = None) -> Template:
    """Load the template in ``root`` (``file`` names it inside ``root``); ``origin`` says
    where it came from, for errors."""
    path = _template_path(root, file, origin, "template")
    if path.suffix.lower() == ".json":
        return octopus.load(path, root, origin=origin)
    return native.load(path, origin=origin)


def load_module(
    root: Path, *, file: str | None = None, origin: str | None = None
) -> ScriptModule:
    """Load the script module in ``root``: a steptemplate.toml with ``kind = "module"``, or
    Octopus's form (JSON holding ``Octopus.Script.Module[<Name>]``)."""
    path = _template_path(root, file, origin, "module")
    if path.suffix.lower() == ".json":
        return octopus.load_module(path, root, origin=origin)
    return native.load_module(path, origin=origin)
