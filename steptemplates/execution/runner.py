"""Running a process of steps: variables, a fresh working directory, the script, the report.

Variables for a step, lowest precedence first: environment variables (``env:NAME``), system
variables, template defaults, project variables and secrets, the step's parameter values,
``--variables`` files, ``-v`` values, and the output variables of earlier steps
(``Octopus.Action[<step>].Output.<name>``). A project variable named like one of the
template's parameters is left out (parameter_values.py). Project variables, secrets and
files may hold scoped values; the run's context (environment, target, roles, tenant) and
the step pick one (variables/scoping.py).
"""

from __future__ import annotations

import datetime
import getpass
import secrets
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from steptemplates import fsutil
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.execution import features, modules, parameter_values
from steptemplates.execution.artifacts import collect_artifacts
from steptemplates.execution.deployment import (
    FAIL_ON_ERROR_OUTPUT,
    Deployment,
    DeploymentRequest,
)
from steptemplates.execution.languages import get_language
from steptemplates.execution.languages.base import ModuleFile
from steptemplates.execution.report import ArtifactRecord, RunRecord, StepRecord, write_report
from steptemplates.execution.script import (
    ArtifactRequest,
    Outcome,
    OutputVariable,
    ScriptRequest,
    ScriptResult,
    run_script,
)
from steptemplates.manifest import Condition
from steptemplates.masking import MASK
from steptemplates.packages.identity import PackageIdentity
from steptemplates.templates import Parameter, ParameterType, Template
from steptemplates.variables import scoping
from steptemplates.variables.collection import Variable, VariableSet
from steptemplates.variables.engine import Evaluator, Unresolved, UnresolvedVariablesError

EXIT_TIMED_OUT = 124
EXIT_INTERRUPTED = 130
EXIT_STEP_ERROR = 2  # the step could not run as configured (steps' own error code)
_SPACE_ID = "Spaces-1"  # Octopus's default space


@dataclass(frozen=True)
class PackagePlan:
    """The package a package step deploys (docs/packages.md)."""

    path: Path  # an archive, or a directory holding the package's files
    identity: PackageIdentity
    applications_root: Path  # unless Octopus.Tentacle.Agent.ApplicationDirectoryPath is set
    staged: bool = False  # a temporary copy made for this run, deleted after extraction


@dataclass(frozen=True)
class StepPlan:
    """One step to run: its template (already verified) or its package, and the values the
    step gives (template parameters, or a package step's own variables)."""

    name: str
    template: Template | None
    template_label: str  # for headers and the report, e.g. "health 1.2.0"
    condition: Condition = Condition.SUCCESS
    parameters: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    package: PackagePlan | None = None
    # The locked script modules this step gets, bodies as written: #{...} is substituted
    # with the step's variables when it runs (execution/modules.py).
    modules: tuple[ModuleFile, ...] = ()

    @property
    def declared(self) -> tuple[Parameter, ...]:
        return self.template.parameters if self.template is not None else ()


@dataclass(frozen=True)
class RunSettings:
    project_name: str
    project_dir: Path
    state_dir: Path  # where runs/ and artifacts/ go (the project's .steps/)
    project_variables: Sequence[Variable | scoping.ScopedVariable] = ()
    file_variables: Sequence[Variable | scoping.ScopedVariable] = ()
    overrides: Sequence[Variable] = ()
    context: scoping.Context = field(default_factory=scoping.Context)
    release_number: str | None = None  # default: the run id
    strict_variables: bool = False
    keep_workdir: bool = False
    report_path: Path | None = None
    # run-script runs a script where it is, in the caller's directory, like Calamari does.
    in_place: Path | None = None
    substitute_script: bool = True
    script_parameters: Sequence[str] = ()
    # [project] server-uri and space: Octopus.Web.ServerUri (and BaseUrl, "" without it)
    # and Octopus.Space.Name ("Default" without it).
    server_uri: str | None = None
    space: str | None = None
    # The project's [packages] by name: what a package parameter's value may name (besides
    # an archive or directory path, relative to the current directory).
    packages: Mapping[str, PackagePlan] = field(default_factory=dict)
    # Every step name of the process, which a step-name parameter's value must be one of;
    # when empty, the names of the plans being run.
    process_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    report_path: Path
    record: RunRecord


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def check_plans(plans: Sequence[StepPlan], settings: RunSettings) -> None:
    """Fail before anything runs: unknown or missing parameters, interpreters not installed."""
    for plan in plans:
        if plan.template is None:
            continue  # a package step: its values are plain variables
        for name in plan.parameters:
            if not parameter_values.accepts_name(plan.template, name):
                declared = ", ".join(p.name for p in plan.template.parameters) or "none"
                raise StepsError(
                    f"step '{plan.name}': template '{plan.template.name}' has no parameter "
                    f"'{name}'",
                    hint=f"its parameters are: {declared}",
                )
        layered = _layers(plan, settings, {}, system={})
        for parameter in plan.template.parameters:
            if parameter.required and not layered.get(parameter.name):
                raise StepsError(
                    f"step '{plan.name}': required parameter '{parameter.name}' has no value",
                    hint=f"set it under the step's parameters in steps.toml "
                    f"or pass -v {parameter.name}=VALUE",
                )
        get_language(plan.template.script.syntax).check_available()


def _layers(
    plan: StepPlan,
    settings: RunSettings,
    outputs: Mapping[str, Variable],
    system: Mapping[str, str],
) -> VariableSet:
    variables = VariableSet(Variable(k, v) for k, v in system.items())
    for parameter in plan.declared:
        variables.set(parameter.name, parameter.default or "", sensitive=parameter.sensitive)
    # A parameter's value comes from the step or the template, never from a project
    # variable of the same name (Runner.run warns about those).
    project = parameter_values.without_parameters(
        _scoped(settings.project_variables), plan.declared
    )
    from_project, from_files = scoping.select_layers(
        [project, _scoped(settings.file_variables)], settings.context, plan.name
    )
    variables.update(from_project)
    variables.update(Variable(k, v) for k, v in plan.parameters.items())
    variables.update(from_files)
    variables.update(settings.overrides)
    variables.update(outputs.values())
    parameter_values.finish_layers(plan.declared, variables)
    return variables


def _scoped(
    variables: Sequence[Variable | scoping.ScopedVariable],
) -> list[scoping.ScopedVariable]:
    return [
        v if isinstance(v, scoping.ScopedVariable)
        else scoping.ScopedVariable(v.name, v.value, v.sensitive)
        for v in variables
    ]  # fmt: skip


class Runner:
    def __init__(self, settings: RunSettings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.run_id = new_run_id()
        self.artifacts_dir = settings.state_dir / "artifacts" / self.run_id
        self.outputs: dict[str, Variable] = {}
        self.first_failure: StepRecord | None = None
        # Directories a step needs outside its working directory, removed when it ends.
        self._step_dirs: list[Path] = []
        self._step_names: tuple[str, ...] = ()
        self._run_variables: dict[str, str] = {}

    def run(self, plans: Sequence[StepPlan]) -> RunOutcome:
        check_plans(plans, self.settings)
        for warning in parameter_values.collision_warnings(plans, self.settings.project_variables):
            self.console.warning(warning)
        self._step_names = self.settings.process_steps or tuple(p.name for p in plans)
        self._run_variables = self._shared_variables()
        report = self.settings.report_path
        if report is not None and report.is_dir():
            raise StepsError(f"--report {report} is a directory", hint="give a file name")
        _prepare_state_dir(self.settings.state_dir)
        started = time.time()
        records: list[StepRecord] = []
        interrupted = False
        for index, plan in enumerate(plans, start=1):
            if interrupted or not self._should_run(plan):
                records.append(StepRecord(plan.name, plan.template_label, "skipped"))
                continue
            self.console.status(f"==> [{index}/{len(plans)}] {plan.name} ({plan.template_label})")
            try:
                record = self._run_step(index, plan)
            except KeyboardInterrupt:
                record = StepRecord(plan.name, plan.template_label, "interrupted", None)
            records.append(record)
            self._summarise(record)
            if record.status == "interrupted":
                interrupted = True
            elif record.status != "succeeded" and self.first_failure is None:
                self.first_failure = record
        return self._finish(records, started, interrupted)

    def _should_run(self, plan: StepPlan) -> bool:
        failed = self.first_failure is not None
        if plan.condition is Condition.ALWAYS:
            return True
        return failed if plan.condition is Condition.FAILURE else not failed

    def _shared_variables(self) -> dict[str, str]:
        """The system variables every step of the run gets (docs/running.md)."""
        settings = self.settings
        system = scoping.context_variables(settings.context, settings.project_name)
        release = settings.release_number or self.run_id
        release_id = "Releases-" + scoping.slug(release)
        environment = settings.context.environment
        server = (settings.server_uri or "").rstrip("/")
        # steps knows one space; links use the id of Octopus's default space.
        app = f"/app#/{_SPACE_ID}"
        return system | {
            "Octopus.Space.Id": _SPACE_ID,
            "Octopus.Space.Name": settings.space or "Default",
            "Octopus.Release.Number": release,
            "Octopus.Release.Id": release_id,
            "Octopus.Release.Notes": "",
            "Octopus.Deployment.Id": self.run_id,
            "Octopus.Deployment.Name": f"Deploy to {environment}" if environment else "Deploy",
            "Octopus.Deployment.Created": datetime.datetime.now().astimezone().isoformat(),
            "Octopus.Deployment.CreatedBy.Username": _user_name(),
            "Octopus.Task.Id": f"ServerTasks-{self.run_id}",
            "Octopus.Web.ServerUri": server,
            "Octopus.Web.BaseUrl": server,
            "Octopus.Web.ProjectLink": f"{app}/projects/{system['Octopus.Project.Slug']}",
            "Octopus.Web.ReleaseLink": f"{app}/releases/{release_id}",
            "Octopus.Web.DeploymentLink": f"{app}/deployments/{self.run_id}",
            "OriginalWorkingDirectory": str(Path.cwd()),
            "Steps.Project.Directory": str(settings.project_dir),
            "Steps.Run.Id": self.run_id,
            "Steps.Artifacts.Directory": str(self.artifacts_dir),
        }

    def _system_variables(
        self, index: int, plan: StepPlan, workdir: Path | None
    ) -> dict[str, str]:
        system = self._run_variables | {
            "Octopus.Action.Name": plan.name,
            "Octopus.Step.Name": plan.name,
            "Octopus.Action.Number": str(index),
            "Octopus.Step.Number": str(index),
        }
        if workdir is not None:
            system["Steps.Step.WorkingDirectory"] = str(workdir)
        if plan.template is not None:
            system["Octopus.Action.Template.Name"] = plan.template.name
            system["Octopus.Action.Script.Syntax"] = plan.template.script.syntax
            system["Steps.Template.Directory"] = str(plan.template.root)
        if self.first_failure is not None:
            failure = self.first_failure
            system["Octopus.Deployment.Error"] = failure.message or f"step '{failure.name}' failed"
            system["Octopus.Deployment.ErrorDetail"] = system["Octopus.Deployment.Error"]
        return system

    def _run_step(self, index: int, plan: StepPlan) -> StepRecord:
        started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        clock = time.monotonic()
        if plan.package is not None:
            return self._deploy(index, plan, plan.package, started_at, clock)
        workdir = self.settings.in_place or Path(
            tempfile.mkdtemp(prefix=f"steps-{self.run_id}-{index:02d}-")
        )
        try:
            try:
                request = self._prepare(index, plan, workdir)
                result = run_script(request, self.console)
            except StepsError as error:
                # A value the template rejects, a reference cycle, a module that would
                # overwrite a file: this step fails, and the steps after it still run
                # according to their conditions.
                return StepRecord(
                    plan.name,
                    plan.template_label,
                    "failed",
                    EXIT_STEP_ERROR,
                    started_at,
                    round(time.monotonic() - clock, 3),
                    self.console.masker.mask(str(error)),
                )
            if result.error_output and features.flag(request.variables, FAIL_ON_ERROR_OUTPUT):
                # Calamari's run-script reports such a script as exit code -1.
                result = replace(result, outcome=Outcome.FAILED, exit_code=255, result_message=(
                    "the script returned zero exit code but had error output "
                    f"({FAIL_ON_ERROR_OUTPUT} is True)"))  # fmt: skip
            return self._record(plan, result, started_at, clock, workdir)
        finally:
            if self.settings.in_place is None and not self.settings.keep_workdir:
                fsutil.remove_tree(workdir)
            for directory in self._step_dirs:
                fsutil.remove_tree(directory)
            self._step_dirs.clear()

    def _prepare(self, index: int, plan: StepPlan, workdir: Path) -> ScriptRequest:
        """The step's script placed and substituted, with its variables, parameters and
        modules."""
        template = plan.template
        assert template is not None
        if self.settings.in_place is None:
            fsutil.copy_tree(template.root, workdir)
        system = self._system_variables(index, plan, workdir)
        variables = _layers(plan, self.settings, self.outputs, system)
        if any(p.type is ParameterType.PACKAGE for p in plan.declared):
            extract_into = workdir if self.settings.in_place is None else self._step_dir("pkg")
            packages = self.settings.packages
            variables.update(parameter_values.package_variables(
                plan.name, plan.declared, variables, packages, extract_into))  # fmt: skip
        unresolved: list[Unresolved] = []
        final = self._evaluate(plan, variables, unresolved)
        # The script sees the values the helpers return (checkbox values as True/False),
        # and a value is never evaluated twice (an escaped ##{X} stays literal).
        evaluator = Evaluator.of_values(final)
        script_modules = modules.step_modules(plan.modules, final, evaluator, unresolved)
        script = self._place_script(plan, workdir, evaluator, unresolved)
        arguments = parameter_values.script_parameters(template, evaluator, unresolved)
        if self.settings.strict_variables and unresolved:
            raise UnresolvedVariablesError("", unresolved)
        return ScriptRequest(
            syntax=template.script.syntax,
            script=script,
            workdir=workdir,
            variables=modules.script_visible(final),
            parameters=arguments + tuple(self.settings.script_parameters),
            timeout=plan.timeout,
            modules=script_modules,
        )

    def _step_dir(self, purpose: str) -> Path:
        directory = Path(tempfile.mkdtemp(prefix=f"steps-{self.run_id}-{purpose}-"))
        self._step_dirs.append(directory)
        return directory

    def _evaluate(
        self, plan: StepPlan, variables: VariableSet, unresolved: list[Unresolved]
    ) -> dict[str, str]:
        evaluator = Evaluator(variables)
        sensitive = [v for v in variables if v.sensitive]
        # Every sensitive value is known to the masker before any value is checked, so an
        # error quoting a value built from a secret cannot show it.
        for variable in sensitive:
            self.console.masker.add(variable.value)
        final = {}
        for variable in variables:
            result = evaluator.value_of(variable.name)
            final[variable.name] = result.text or ""
            unresolved.extend(result.unresolved)
        for variable in sensitive:
            self.console.masker.add(final[variable.name])
        if plan.template is None:
            return final
        for name, value in final.items():
            parameter = plan.template.parameter(name)
            if parameter is not None:
                final[name] = parameter_values.checked_value(
                    plan.name, parameter, value, self._step_names
                )
        parameter_values.check_accounts(plan.name, plan.declared, final)
        return final

    def _place_script(
        self, plan: StepPlan, workdir: Path, evaluator: Evaluator, unresolved: list[Unresolved]
    ) -> Path:
        """Put the (substituted) script where it will run and return its path."""
        assert plan.template is not None
        script = plan.template.script
        if not self.settings.substitute_script and script.file is not None:
            return plan.template.root / script.file
        body = script.body
        if self.settings.substitute_script:
            result = evaluator.evaluate(body, source=_script_source(plan))
            body = result.text or ""
            unresolved.extend(result.unresolved)
        if self.settings.in_place is not None:
            # Never rewrite the user's own file: the substituted copy goes to a private dir.
            target = self._step_dir("script") / Path(script.file or "script").name
        else:
            extension = get_language(script.syntax).extension
            target = workdir / (script.file or f"script{extension}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        return target

    def _record(
        self, plan: StepPlan, result: ScriptResult, started_at: str, clock: float, workdir: Path
    ) -> StepRecord:
        status, exit_code, message = _status_of(plan, result)
        kept = self.settings.keep_workdir and self.settings.in_place is None
        return StepRecord(
            name=plan.name,
            template=plan.template_label,
            status=status,
            exit_code=exit_code,
            started=started_at,
            duration_seconds=round(time.monotonic() - clock, 3),
            message=self.console.masker.mask(message) if message else None,
            output_variables=self._keep_outputs(plan, result.output_variables),
            artifacts=self._collect(plan, result.artifacts),
            workdir=str(workdir) if kept else None,
        )

    def _collect(self, plan: StepPlan, requests: Sequence[ArtifactRequest]) -> list[ArtifactRecord]:
        artifacts = []
        for artifact in collect_artifacts(requests, self.artifacts_dir):
            if artifact.problem:
                self.console.warning(f"step '{plan.name}': {artifact.problem}")
            else:
                artifacts.append(ArtifactRecord(artifact.name, str(artifact.path), artifact.size))
        return artifacts

    def _keep_outputs(
        self, plan: StepPlan, variables: Iterable[OutputVariable]
    ) -> dict[str, str]:
        """Output variables for later steps; the report's copy has sensitive ones masked."""
        outputs = {}
        for output in variables:
            name = f"Octopus.Action[{plan.name}].Output.{output.name}"
            self.outputs[name.casefold()] = Variable(name, output.value, output.sensitive)
            outputs[output.name] = MASK if output.sensitive else output.value
        return outputs

    def _deploy(
        self, index: int, plan: StepPlan, package: PackagePlan, started_at: str, clock: float
    ) -> StepRecord:
        """A package step: the package extracted and deployed through Calamari's stages."""
        def failed(message: str) -> StepRecord:
            return StepRecord(
                plan.name, plan.template_label, "failed", EXIT_STEP_ERROR, started_at,
                round(time.monotonic() - clock, 3), self.console.masker.mask(message),
            )  # fmt: skip

        # A package step works in its installation directory, known once it is extracted
        # (Octopus.Action.Package.InstallationDirectoryPath).
        system = self._system_variables(index, plan, None)
        variables = _layers(plan, self.settings, self.outputs, system)
        unresolved: list[Unresolved] = []
        try:
            final = self._evaluate(plan, variables, unresolved)
            if self.settings.strict_variables and unresolved:
                raise UnresolvedVariablesError("", unresolved)
        except StepsError as error:
            return failed(str(error))
        explicit = final.get("Octopus.Tentacle.Agent.ApplicationDirectoryPath", "").strip()
        request = DeploymentRequest(
            step_name=plan.name,
            package=package.path,
            identity=package.identity,
            applications_root=Path(explicit) if explicit else package.applications_root,
            retention_set=f"{self.settings.project_name}/{plan.name}",
            project=self.settings.project_name,
            variables=final,
            sensitive_values=[final[v.name] for v in variables if v.sensitive and final[v.name]],
            timeout=plan.timeout,
            staged=package.staged,
        )
        result = Deployment(request, self.console).run()
        status, exit_code = _deployment_status(result.outcome, result.exit_code)
        return StepRecord(
            name=plan.name,
            template=plan.template_label,
            status=status,
            exit_code=exit_code,
            started=started_at,
            duration_seconds=round(time.monotonic() - clock, 3),
            message=self.console.masker.mask(result.message) if result.message else None,
            output_variables=self._keep_outputs(plan, result.output_variables.values()),
            artifacts=self._collect(plan, result.artifacts),
            stages=result.stages,
            installation_directory=result.installation_directory,
            deployment_id=result.deployment_id,
        )

    def _summarise(self, record: StepRecord) -> None:
        took = f" in {record.duration_seconds:.2f}s" if record.duration_seconds is not None else ""
        if record.status == "succeeded":
            self.console.status(f"    succeeded{took}")
        else:
            detail = f": {record.message}" if record.message else ""
            self.console.error(
                f"step '{record.name}' {record.status.replace('-', ' ')}{took}{detail}"
            )
        if record.workdir:
            self.console.status(f"    working directory kept at {record.workdir}")

    def _finish(self, records: list[StepRecord], started: float, interrupted: bool) -> RunOutcome:
        if interrupted:
            status, exit_code = "interrupted", EXIT_INTERRUPTED
        elif self.first_failure is not None:
            status, exit_code = "failed", _exit_code_of(self.first_failure)
        else:
            status, exit_code = "succeeded", 0
        finished = time.time()
        record = RunRecord(
            run_id=self.run_id,
            project=self.settings.project_name,
            status=status,
            exit_code=exit_code,
            started=_iso(started),
            finished=_iso(finished),
            duration_seconds=round(finished - started, 3),
            artifacts_dir=str(self.artifacts_dir),
            steps=records,
        )
        path = self.settings.report_path or (
            self.settings.state_dir / "runs" / f"{self.run_id}.json"
        )
        write_report(path, record, self.console.masker)
        return RunOutcome(exit_code, path, record)


def _user_name() -> str:
    """Who started the run (Octopus.Deployment.CreatedBy.Username); "" when unknown."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


def _script_source(plan: StepPlan) -> str:
    """How errors name the script: its file, or the template file that holds it inline."""
    assert plan.template is not None
    script = plan.template.script
    if script.file is not None:
        return str(plan.template.root / script.file)
    return f"{plan.template.name} script"


def _prepare_state_dir(state_dir: Path) -> None:
    """Create .steps/ so that git ignores it: runs and artifacts are not project sources."""
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        fsutil.write_text_atomic(ignore, "# Written by steps: run reports and artifacts.\n*\n")


def _status_of(plan: StepPlan, result: ScriptResult) -> tuple[str, int | None, str | None]:
    if result.outcome is Outcome.SUCCEEDED:
        return "succeeded", 0, None
    if result.outcome is Outcome.TIMED_OUT:
        message = f"timed out after {_seconds(plan.timeout)}; its processes were stopped"
        return "timed-out", None, message
    if result.outcome is Outcome.INTERRUPTED:
        return "interrupted", None, "interrupted; its processes were stopped"
    message = result.result_message or f"the script exited with code {result.exit_code}"
    return "failed", result.exit_code, message


def _deployment_status(outcome: Outcome, exit_code: int | None) -> tuple[str, int | None]:
    if outcome is Outcome.SUCCEEDED:
        return "succeeded", 0
    if outcome is Outcome.TIMED_OUT:
        return "timed-out", None
    if outcome is Outcome.INTERRUPTED:
        return "interrupted", None
    return "failed", exit_code if exit_code else EXIT_STEP_ERROR


def _exit_code_of(record: StepRecord) -> int:
    if record.status == "timed-out":
        return EXIT_TIMED_OUT
    code = record.exit_code
    # A code the shell cannot report (0 after a failure, or out of range) becomes 1.
    return code if code is not None and 0 < code < 256 else 1


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}s"


def _iso(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="milliseconds")
