"""`steps exec`: run one template with parameters, to try it without writing a process.

TEMPLATE is a path: a template directory, a ``steptemplate.toml`` or an Octopus JSON file;
the current directory then stands in for a project, and the step gets exactly the script
modules given with ``--module``. Inside a project, when no such path exists, TEMPLATE may
name a template of ``steps.toml``: it is synced first, and the project's variables, modules
and settings apply as for ``steps run``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from steptemplates import fsutil, manifest, project, variable_sources
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.execution.languages import get_language
from steptemplates.execution.languages.base import ModuleFile
from steptemplates.execution.runner import Runner, RunOutcome, StepPlan
from steptemplates.templates import (
    ParameterType,
    ScriptModule,
    Template,
    find_template_file,
    load_module,
    load_template,
)
from steptemplates.variables import scoping

_MODULE_FORMS = (
    'a module directory, a steptemplate.toml with kind = "module" or Octopus module JSON'
)


@dataclass(frozen=True)
class ExecRequest:
    template: str  # a path, or (inside a project) a template name from steps.toml
    variables_files: Sequence[Path] = ()
    overrides: Sequence[tuple[str, str]] = ()
    modules: Sequence[Path] = ()  # script modules for the step (--module)
    context: scoping.Context = field(default_factory=scoping.Context)
    strict_variables: bool = False
    keep_workdir: bool = False
    report_path: Path | None = None
    offline: bool = False


def execute(request: ExecRequest, console: Console) -> RunOutcome:
    """Run the template ``request`` names as a single step; the outcome of ``steps run``."""
    path = Path(request.template).expanduser()
    if path.exists():
        return _execute_path(path, request, console)
    found = _project_here()
    if found is None:
        raise StepsError(
            f"{request.template}: no such template file or directory",
            hint="give a template directory, a steptemplate.toml or an Octopus JSON file "
            "(or, inside a project, the name of a template in steps.toml)",
        )
    current = found.manifest()
    if request.template not in current.templates:
        known = ", ".join(sorted(current.templates)) or "none are declared"
        raise StepsError(
            f"{request.template}: no such file or directory, nor a template in "
            f"{found.manifest_path}",
            hint=f"give a template's path or one of the project's templates ({known})",
        )
    return _execute_named(found, current, request, console)


# --- a template given by its path ------------------------------------------------------------


def _execute_path(path: Path, request: ExecRequest, console: Console) -> RunOutcome:
    template = _template_at(path)
    _warn(console, f"template '{template.name}'", template.warnings)
    get_language(template.script.syntax).check_available()
    modules = _modules_at(request.modules, console)
    files = _module_files(template, modules)
    gathered = _gather(None, request)
    _check_required(template, gathered)
    settings = replace(
        project.settings_here(gathered),
        strict_variables=request.strict_variables,
        keep_workdir=request.keep_workdir,
        report_path=request.report_path,
        process_steps=_given_step_names(template, gathered),
    )
    with _isolated(template, path) as runnable:
        plan = StepPlan(
            name=template.name, template=runnable, template_label=str(path), modules=files
        )
        return Runner(settings, console).run([plan])


def _template_at(path: Path) -> Template:
    if path.is_file():
        return load_template(path.parent, file=path.name)
    try:
        found = find_template_file(path)
    except StepsError as error:
        raise StepsError(error.message, hint="pass the path of the file to run") from None
    if found is None:
        raise StepsError(
            f"{path} holds no steptemplate.toml or Octopus step template JSON file",
            hint="give a template directory, a steptemplate.toml or an Octopus JSON file",
        )
    return load_template(path, file=found.name)


@contextmanager
def _isolated(template: Template, path: Path) -> Iterator[Template]:
    """The template as the step gets it. An Octopus JSON file with an inline script runs on
    its own: the folder it was found in (often Downloads) is not the template's."""
    if not path.is_file() or template.format != "octopus" or template.script.from_package:
        yield template
        return
    with fsutil.temporary_directory(Path(tempfile.gettempdir()), "steps-exec-") as staging:
        shutil.copy2(path, staging / path.name)
        yield replace(template, root=staging)


def _given_step_names(
    template: Template, gathered: variable_sources.VariableInputs
) -> tuple[str, ...]:
    """The step itself and the steps its step-name parameters name: without a project there
    is no process to check those names against, so the names given are taken as they are."""
    wanted = {p.name.casefold() for p in template.parameters if p.type is ParameterType.STEP_NAME}
    defaults = [
        p.default for p in template.parameters if p.type is ParameterType.STEP_NAME and p.default
    ]
    given = [v.value for v in gathered.files if v.name.casefold() in wanted]
    given += [v.value for v in gathered.overrides if v.name.casefold() in wanted]
    return tuple(dict.fromkeys((template.name, *defaults, *given)))


# --- a template of the project, by name ------------------------------------------------------


def _project_here() -> project.Project | None:
    try:
        return project.Project.find()
    except StepsError:
        return None


def _execute_named(
    found: project.Project, current: manifest.Manifest, request: ExecRequest, console: Console
) -> RunOutcome:
    # As `steps run` does: variables first, so that a misspelt --environment fails at once;
    # load warnings told once, as the template is loaded.
    gathered = _gather(current, request)
    synced = project.sync(
        found, console, offline=request.offline, current=current, show_warnings=False
    )
    entry = synced.lockfile.templates[request.template]
    template = project.load_locked_template(synced, entry, console)
    get_language(template.script.syntax).check_available()
    given = _modules_at(request.modules, console)
    files = _project_modules(current, synced, template, given)
    _check_required(template, gathered)
    settings = replace(
        project.run_settings(found, current, gathered, project.package_plans(found, synced)),
        strict_variables=request.strict_variables,
        keep_workdir=request.keep_workdir,
        report_path=request.report_path,
    )
    plan = StepPlan(
        name=template.name,
        template=template,
        template_label=project.entry_label(entry),
        modules=files,
    )
    return Runner(settings, console).run([plan])


def _project_modules(
    current: manifest.Manifest,
    synced: project.SyncResult,
    template: Template,
    given: Mapping[str, ScriptModule],
) -> tuple[ModuleFile, ...]:
    """The project's modules, a --module taking the place of the project's module of the
    same name; a need that a --module meets is not looked for in the project."""
    unmet = tuple(need for need in template.modules if need.name not in given)
    locked = project.modules_for_step(current, synced, replace(template, modules=unmet))
    autoload = {need.name for need in template.modules if need.autoload}
    autoload |= {module.name for module in locked if module.autoload}
    kept = [module for module in locked if module.name not in given]
    added = [ModuleFile(m.name, m.syntax, m.body, m.name in autoload) for m in given.values()]
    return (*kept, *added)


# --- shared ----------------------------------------------------------------------------------


def _gather(
    current: manifest.Manifest | None, request: ExecRequest
) -> variable_sources.VariableInputs:
    return variable_sources.gather(
        current,
        files=request.variables_files,
        overrides=request.overrides,
        context=request.context,
    )


def _warn(console: Console, who: str, warnings: Iterable[str]) -> None:
    for warning in warnings:
        console.warning(f"{who}: {warning}")


def _modules_at(paths: Sequence[Path], console: Console) -> dict[str, ScriptModule]:
    """The --module modules by name."""
    modules: dict[str, ScriptModule] = {}
    for path in paths:
        module = _module_at(path)
        _warn(console, f"script module '{module.name}'", module.warnings)
        if module.name in modules:
            raise StepsError(
                f"--module {path}: script module '{module.name}' is given twice",
                hint="pass each module once",
            )
        modules[module.name] = module
    return modules


def _module_at(path: Path) -> ScriptModule:
    if path.is_file():
        return load_module(path.parent, file=path.name, origin=f"--module {path}")
    if not path.is_dir():
        raise StepsError(
            f"--module {path}: no such file or directory", hint=f"give {_MODULE_FORMS}"
        )
    if find_template_file(path) is None:
        raise StepsError(
            f"--module {path}: the directory holds no steptemplate.toml or Octopus module JSON",
            hint=f"give {_MODULE_FORMS}",
        )
    return load_module(path, origin=f"--module {path}")


def _module_files(
    template: Template, modules: Mapping[str, ScriptModule]
) -> tuple[ModuleFile, ...]:
    """The --module modules as the step gets them, once every need is met. A module given by
    its path is used as it is: the version ranges of needs apply to locked modules only."""
    needs = [(f"template '{template.name}'", need) for need in template.modules]
    needs += [(f"script module '{m.name}'", need) for m in modules.values() for need in m.needs]
    for who, need in needs:
        if need.name not in modules:
            raise StepsError(
                f"{who} needs script module '{need.name}'",
                hint=f"pass it with --module PATH ({_MODULE_FORMS})",
            )
    autoloaded = {need.name for _who, need in needs if need.autoload}
    return tuple(
        ModuleFile(m.name, m.syntax, m.body, m.name in autoloaded) for m in modules.values()
    )


def _check_required(template: Template, gathered: variable_sources.VariableInputs) -> None:
    """Every required parameter has a value (a default, a variables file or -v), checked for
    all of them at once so that one try names everything that is missing."""
    (from_files,) = scoping.select_layers([gathered.files], gathered.context, template.name)
    given = {v.name.casefold(): v.value for v in (*from_files, *gathered.overrides)}
    missing = [
        p.name
        for p in template.parameters
        if p.required and not given.get(p.name.casefold(), p.default or "")
    ]
    if not missing:
        return
    names = ", ".join(f"'{name}'" for name in missing)
    verb = "has" if len(missing) == 1 else "have"
    noun = "parameter" if len(missing) == 1 else "parameters"
    raise StepsError(
        f"template '{template.name}': required {noun} {names} {verb} no value",
        hint="pass " + " ".join(f"-v {name}=VALUE" for name in missing),
    )
