"""What a template's parameter values mean when a step runs (docs/running.md).

Checkbox, select and step-name values are checked; a package parameter's package is found
and extracted, and described by ``Octopus.Action.Package[<param>].*``; an account or
certificate parameter's fields are the variables ``<param>.<Field>``. A project variable
named like a parameter never gives the parameter its value: the step (or the template's
default) does, and the run warns about it once.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates.errors import StepsError
from steptemplates.packages import archive
from steptemplates.packages.identity import PackageIdentity, identify, split_extension
from steptemplates.templates.model import (
    PACKAGE_VARIABLES,
    VARIABLE_GROUPS,
    Parameter,
    ParameterType,
    Template,
)
from steptemplates.variables import scoping
from steptemplates.variables.collection import Variable, VariableSet
from steptemplates.variables.engine import Evaluator, Unresolved

if TYPE_CHECKING:
    from steptemplates.execution.runner import PackagePlan, StepPlan

# The version of a package given as a directory or an unversioned archive, as for a local
# folder in steps.toml (project.py).
_UNVERSIONED = "0.0.0-local"


def accepts_name(template: Template, name: str) -> bool:
    """A value the step may give: a parameter, or a field of an account parameter."""
    return template.parameter(name) is not None or _account_field(template, name) is not None


def _account_field(template: Template, name: str) -> Parameter | None:
    """The account or certificate parameter whose field ``name`` is (``Aws.SecretKey``)."""
    folded = name.casefold()
    for parameter in template.parameters:
        for member in VARIABLE_GROUPS.get(parameter.type, ()):
            if folded == f"{parameter.name}.{member.suffix}".casefold():
                return parameter
    return None


def field_names(parameter: Parameter) -> list[str]:
    """The variables an account or certificate parameter's fields are read from."""
    return [f"{parameter.name}.{member.suffix}" for member in VARIABLE_GROUPS[parameter.type]]


def without_parameters(
    variables: Iterable[scoping.ScopedVariable], declared: Sequence[Parameter]
) -> list[scoping.ScopedVariable]:
    """The project variables left once those named like a parameter are taken out."""
    names = {parameter.name.casefold() for parameter in declared}
    return [variable for variable in variables if variable.name.casefold() not in names]


def finish_layers(declared: Sequence[Parameter], variables: VariableSet) -> None:
    """Sensitive parameters and account fields masked; an account given only by its fields
    is named after its parameter."""
    for parameter in declared:
        value = variables.get(parameter.name) or ""
        if parameter.sensitive:
            variables.set(parameter.name, value, sensitive=True)
        members = VARIABLE_GROUPS.get(parameter.type, ())
        for member in members:
            name = f"{parameter.name}.{member.suffix}"
            if member.sensitive and name in variables:
                variables.set(name, variables.get(name) or "", sensitive=True)
        if not value and any(variables.get(f"{parameter.name}.{m.suffix}") for m in members):
            variables.set(parameter.name, parameter.name)


def collision_warnings(
    plans: Sequence[StepPlan], project_variables: Iterable[scoping.ScopedVariable | Variable]
) -> list[str]:
    """One warning per project variable and template whose parameter it is named like."""
    spelling: dict[str, str] = {}
    for variable in project_variables:
        spelling.setdefault(variable.name.casefold(), variable.name)
    found: dict[tuple[str, str], tuple[Parameter, list[str]]] = {}
    for plan in plans:
        if plan.template is None:
            continue
        for parameter in plan.template.parameters:
            folded = parameter.name.casefold()
            if folded in spelling:
                key = (folded, plan.template.name)
                found.setdefault(key, (parameter, []))[1].append(plan.name)
    warnings = []
    for (folded, template), (parameter, steps) in found.items():
        listed = ", ".join(f"'{step}'" for step in steps)
        warnings.append(
            f"project variable '{spelling[folded]}' has the name of parameter "
            f"'{parameter.name}' of template '{template}' (steps {listed}); the parameter "
            "keeps the step's value or the template's default. Rename the variable and pass "
            f'it as the step\'s parameter: {parameter.name} = "#{{NewName}}"'
        )
    return warnings


# --- checks on evaluated values -----------------------------------------------------------


def checked_value(step: str, parameter: Parameter, value: str, steps: Sequence[str]) -> str:
    """A parameter's evaluated value in canonical form; StepsError when it is not allowed."""
    if parameter.type is ParameterType.CHECKBOX:
        folded = value.strip().casefold()
        if folded in ("", "false"):
            return "False"
        if folded == "true":
            return "True"
        raise StepsError(
            f"step '{step}': parameter '{parameter.name}' is a checkbox; "
            f"its value must be True or False, not '{value}'"
        )
    if parameter.type is ParameterType.SELECT and value and value != parameter.default:
        # Octopus templates sometimes default to a value outside their options: it stands.
        allowed = [option.value for option in parameter.options]
        if value not in allowed:
            raise StepsError(
                f"step '{step}': parameter '{parameter.name}' must be one of "
                f"{', '.join(allowed)}, not '{value}'"
            )
    if parameter.type is ParameterType.STEP_NAME and value:
        _check_step_name(step, parameter, value, steps)
    return value


def _check_step_name(step: str, parameter: Parameter, value: str, steps: Sequence[str]) -> None:
    if value.casefold() not in {name.casefold() for name in steps}:
        raise StepsError(
            f"step '{step}': parameter '{parameter.name}' names step '{value}', "
            "which is not a step of the process",
            hint=f"steps: {', '.join(steps)}",
        )


def check_accounts(step: str, declared: Sequence[Parameter], values: Mapping[str, str]) -> None:
    """An account parameter with a value needs at least one of its fields."""
    folded = {name.casefold(): value for name, value in values.items()}
    for parameter in declared:
        if parameter.type not in VARIABLE_GROUPS:
            continue
        account = folded.get(parameter.name.casefold(), "")
        fields = field_names(parameter)
        if account and not any(folded.get(name.casefold()) for name in fields):
            raise StepsError(
                f"step '{step}': parameter '{parameter.name}' names account '{account}', "
                "but none of its fields is set",
                hint=f"give them under [steps.parameters.{parameter.name}] or as variables: "
                f"{', '.join(fields)}",
            )


def script_parameters(
    template: Template, evaluator: Evaluator, unresolved: list[Unresolved]
) -> tuple[str, ...]:
    """The template's ScriptParameters, evaluated and split into words as a POSIX shell does."""
    text = template.script.parameters
    if not text:
        return ()
    result = evaluator.evaluate(text, source=f"template '{template.name}' script parameters")
    unresolved.extend(result.unresolved)
    try:
        return tuple(shlex.split(result.text or "", posix=True))
    except ValueError as error:
        # The text is not shown: it may hold a secret.
        raise StepsError(
            f"template '{template.name}': its script parameters cannot be split into words "
            f"({error})",
            hint="check the quotes in Octopus.Action.Script.ScriptParameters",
        ) from None


# --- package parameters -------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """The package a package parameter names, before it is extracted."""

    path: Path
    identity: PackageIdentity
    feed_id: str


def package_variables(
    step: str,
    declared: Sequence[Parameter],
    variables: VariableSet,
    packages: Mapping[str, PackagePlan],
    extract_into: Path,
) -> list[Variable]:
    """``Octopus.Action.Package[<param>].*`` for each package parameter with a value, its
    archive extracted into ``extract_into/<param>`` (a directory is used where it is)."""
    wanted = [p for p in declared if p.type is ParameterType.PACKAGE]
    if not wanted:
        return []
    evaluator = Evaluator(variables)
    found = []
    for parameter in wanted:
        value = (evaluator.value(parameter.name) or "").strip()
        if value:
            found.append((parameter, _find_package(step, parameter, value, packages)))
    result = []
    for parameter, package in found:
        values = _describe(package, _extracted(package, parameter, extract_into))
        prefix = f"Octopus.Action.Package[{parameter.name}]."
        result += [Variable(prefix + suffix, values[suffix]) for suffix in PACKAGE_VARIABLES]
    return result


def _find_package(
    step: str, parameter: Parameter, value: str, packages: Mapping[str, PackagePlan]
) -> _Found:
    reference = _octopus_reference(value)
    if reference is not None:
        package_id, feed_id = reference
        for plan in packages.values():
            if plan.identity.id.casefold() == package_id.casefold():
                return _Found(plan.path, plan.identity, feed_id)
    else:
        named = packages.get(value) or _by_folded_name(packages, value)
        if named is not None:
            return _Found(named.path, named.identity, "")
        path = Path(value).expanduser()
        if path.is_dir() or (path.is_file() and split_extension(path.name) is not None):
            return _Found(path.absolute(), _identity_of(path), "")
    known = ", ".join(packages) or "none in [packages]"
    raise StepsError(
        f"step '{step}': package parameter '{parameter.name}' names '{value}', which is not a "
        "package of the project, nor a package file or directory",
        hint=f"known packages: {known}",
    )


def _octopus_reference(value: str) -> tuple[str, str] | None:
    """(PackageId, FeedId) of Octopus's JSON form of a package parameter's value."""
    if not value.startswith("{"):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("PackageId"), str):
        return None
    feed = parsed.get("FeedId")
    return parsed["PackageId"], feed if isinstance(feed, str) else ""


def _by_folded_name(packages: Mapping[str, PackagePlan], name: str) -> PackagePlan | None:
    folded = name.casefold()
    return next((plan for key, plan in packages.items() if key.casefold() == folded), None)


def _identity_of(path: Path) -> PackageIdentity:
    """An archive's id and version from its name; a directory or an unversioned archive is
    named after itself."""
    if path.is_file():
        try:
            return identify(path)
        except StepsError:
            split = split_extension(path.name)
            return PackageIdentity(split[0] if split else path.name, _UNVERSIONED)
    return PackageIdentity(path.name, _UNVERSIONED)


def _extracted(package: _Found, parameter: Parameter, extract_into: Path) -> Path:
    if package.path.is_dir():
        return package.path
    folder = _free_folder(extract_into, _folder_name(parameter.name))
    archive.extract(package.path, folder)
    return folder


def _folder_name(name: str) -> str:
    """A parameter name as one safe directory name (``Web App`` -> ``Web_App``)."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip(".")
    return safe or "package"


def _free_folder(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name_1``, ``name_2``... when taken (as Calamari numbers them)."""
    candidate, number = parent / name, 0
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = parent / f"{name}_{number}"
    return candidate


def _describe(package: _Found, extracted: Path) -> dict[str, str]:
    is_file = package.path.is_file()
    return {
        "PackageId": package.identity.id,
        "PackageVersion": package.identity.version,
        "FeedId": package.feed_id,
        "PackageFilePath": str(package.path) if is_file else "",
        "OriginalPath": str(package.path),
        "ExtractedPath": str(extracted),
    }
