"""The script modules a step's script gets (docs/modules.md).

They come from the step's plan (locked ``[modules]``) and from variables in Octopus's form,
``Octopus.Script.Module[<Name>]`` with ``Octopus.Script.Module.Language[<Name>]``, as
Calamari receives them from an Octopus server. A plan module wins over a variable module of
the same name. Each language writes the modules of its own syntax where its scripts find
them; the files are removed when the script ends.
"""

from __future__ import annotations

import keyword
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.execution.languages.base import ModuleFile
from steptemplates.templates.model import OCTOPUS_SYNTAX_NAMES
from steptemplates.variables.engine import Evaluator, Unresolved

_BODY_PREFIX = "octopus.script.module["
_LANGUAGE_PREFIX = "octopus.script.module.language["
_SYNTAX_OF_LANGUAGE = {
    octopus.casefold(): syntax for syntax, octopus in OCTOPUS_SYNTAX_NAMES.items()
}
# Calamari's default when a module variable names no language.
_DEFAULT_LANGUAGE = "PowerShell"


def is_module_variable(name: str) -> bool:
    """A module body or language variable: Calamari keeps these out of what scripts list."""
    folded = name.casefold()
    return folded.startswith((_BODY_PREFIX, _LANGUAGE_PREFIX)) and folded.endswith("]")


def script_visible(variables: Mapping[str, str]) -> dict[str, str]:
    """The variables a script can read, module variables left out."""
    return {name: value for name, value in variables.items() if not is_module_variable(name)}


def file_name(name: str) -> str:
    """A module's file base name as Calamari makes it: the letters, digits and _ of ``name``."""
    return "".join(c for c in name if c.isalpha() or c.isdecimal() or c == "_")


def module_file(script: Path, module: ModuleFile, extension: str) -> Path:
    """Where a module goes for the languages that keep modules beside the script:
    ``<name><extension>``."""
    return script.parent / f"{module.name}{extension}"


def step_modules(
    planned: Sequence[ModuleFile],
    variables: Mapping[str, str],
    evaluator: Evaluator,
    unresolved: list[Unresolved],
) -> tuple[ModuleFile, ...]:
    """The step's modules, bodies substituted, plan modules first; StepsError for a name
    that cannot be a file name (or a Python import) and for two modules sharing a file."""
    chosen: list[tuple[ModuleFile, str]] = []
    for module in planned:
        described = f"script module '{module.name}'"
        _check_name(module.name, module.syntax, described, planned=True)
        result = evaluator.evaluate(module.body, source=described)
        unresolved.extend(result.unresolved)
        substituted = ModuleFile(module.name, module.syntax, result.text or "", module.autoload)
        chosen.append((substituted, described))
    planned_names = {module.name.casefold() for module in planned}
    for name, syntax, body in _variable_modules(variables):
        if name.casefold() in planned_names:
            continue  # the locked module of that name wins
        described = f"script module '{name}' (Octopus.Script.Module[{name}])"
        safe = file_name(name)
        _check_name(safe, syntax, described, planned=False)
        chosen.append((ModuleFile(safe, syntax, body), described))
    _check_distinct_files(chosen)
    return tuple(module for module, _ in chosen)


def _variable_modules(variables: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(name, syntax, body) of each ``Octopus.Script.Module[<Name>]`` variable."""
    languages = {
        name[len(_LANGUAGE_PREFIX) : -1].casefold(): value
        for name, value in variables.items()
        if name.casefold().startswith(_LANGUAGE_PREFIX) and name.endswith("]")
    }
    found = []
    for name, body in variables.items():
        if not (name.casefold().startswith(_BODY_PREFIX) and name.endswith("]")):
            continue
        module = name[len(_BODY_PREFIX) : -1]
        language = languages.get(module.casefold(), "").strip() or _DEFAULT_LANGUAGE
        syntax = _SYNTAX_OF_LANGUAGE.get(language.casefold())
        if syntax is None:
            raise StepsError(
                f"script module '{module}': unknown language '{language}' in "
                f"Octopus.Script.Module.Language[{module}]",
                hint=f"use one of {', '.join(OCTOPUS_SYNTAX_NAMES.values())}",
            )
        found.append((module, syntax, body))
    return found


def _check_name(name: str, syntax: str, described: str, *, planned: bool) -> None:
    if not name or (planned and file_name(name) != name):
        raise StepsError(
            f"{described}: the name cannot be a file name",
            hint="name modules with letters, digits and _",
        )
    if syntax == "python" and (
        not name.isidentifier() or name in sys.stdlib_module_names or keyword.iskeyword(name)
    ):
        raise StepsError(
            f"{described}: '{name}' cannot be imported as a module of its own "
            "(it is a Python keyword or standard module, or not an identifier)",
            hint="rename the module",
        )


def _check_distinct_files(chosen: Sequence[tuple[ModuleFile, str]]) -> None:
    # Case-insensitive: on macOS and Windows Helpers.sh and helpers.sh are one file.
    seen: dict[tuple[str, str], str] = {}
    for module, described in chosen:
        key = (module.syntax, module.name.casefold())
        if key in seen:
            raise StepsError(
                f"{seen[key]} and {described} would both be written to the file '{module.name}'",
                hint="rename one of them",
            )
        seen[key] = described


def write_modules(
    script: Path,
    modules: Sequence[ModuleFile],
    syntax: str,
    extension: str,
    text_of: Callable[[str], str] = str,
) -> list[tuple[ModuleFile, Path]]:
    """Write the modules of ``syntax`` beside ``script`` (UTF-8), never over an existing
    file: StepsError naming both, with nothing left behind."""
    written: list[tuple[ModuleFile, Path]] = []
    try:
        for module in modules:
            if module.syntax != syntax:
                continue
            path = module_file(script, module, extension)
            _write_new(path, text_of(module.body), module)
            written.append((module, path))
    except BaseException:
        for _, path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def _write_new(path: Path, text: str, module: ModuleFile) -> None:
    try:
        with open(path, "x", encoding="utf-8", newline="") as file:
            file.write(text)
    except FileExistsError:
        raise StepsError(
            f"script module '{module.name}' would overwrite {path}",
            hint="rename the module or that file",
        ) from None
    except OSError as error:
        raise StepsError(
            f"script module '{module.name}': cannot write {path}: {error.strerror or error}"
        ) from None
