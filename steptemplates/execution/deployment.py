"""Deploying a package: extraction, then Calamari's conventions in their documented order.

 1 BeforePreDeploy   2 PreDeploy   3 AfterPreDeploy   4 delete temporary package files
 5 substitute variables in files   6 XML configuration transforms   7 XML configuration
 variables   8 structured configuration variables   9 custom installation folder
10 BeforeDeploy   11 Deploy   12 AfterDeploy   13 IIS web site   14 BeforePostDeploy
15 PostDeploy   16 AfterPostDeploy

If a stage fails the rest are skipped and the DeployFailed scripts run. A script that sets
``Octopus.Action.SkipRemainingConventions`` to True ends the deployment, successfully, after
its stage. The Before*/After* stages run the step's hook scripts; the configuration stages
(4 to 9, 13) take hooks too, as ``Before<Stage>`` and ``After<Stage>``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from steptemplates import deploy_settings
from steptemplates.console import Console, Level
from steptemplates.errors import StepsError
from steptemplates.execution import deploy_scripts, features, package_features
from steptemplates.execution.report import StageRecord
from steptemplates.execution.script import (
    ArtifactRequest,
    Outcome,
    OutputVariable,
    ScriptRequest,
    run_script,
)
from steptemplates.packages.identity import PackageIdentity

SKIP_REMAINING = "Octopus.Action.SkipRemainingConventions"
FAIL_ON_ERROR_OUTPUT = "Octopus.Action.FailScriptOnErrorOutput"


class StageKind(enum.Enum):
    HOOKS = "hooks"  # Before*/After*: the step's hook scripts (Octopus's feature scripts)
    SCRIPTS = "scripts"  # PreDeploy/Deploy/PostDeploy: configured and packaged scripts
    FEATURE = "feature"  # a configuration feature, with Before<Name>/After<Name> hooks


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    kind: StageKind


STAGES: tuple[Stage, ...] = (
    Stage("BeforePreDeploy", "BeforePreDeploy scripts", StageKind.HOOKS),
    Stage("PreDeploy", "PreDeploy scripts", StageKind.SCRIPTS),
    Stage("AfterPreDeploy", "AfterPreDeploy scripts", StageKind.HOOKS),
    Stage("DeletePackageFiles", "delete temporary package files", StageKind.FEATURE),
    Stage("SubstituteInFiles", "substitute variables in files", StageKind.FEATURE),
    Stage("ConfigurationTransforms", "XML configuration transforms", StageKind.FEATURE),
    Stage("ConfigurationVariables", "XML configuration variables", StageKind.FEATURE),
    Stage(
        "StructuredConfigurationVariables", "structured configuration variables", StageKind.FEATURE
    ),
    Stage("CustomInstallationDirectory", "custom installation folder", StageKind.FEATURE),
    Stage("BeforeDeploy", "BeforeDeploy scripts", StageKind.HOOKS),
    Stage("Deploy", "Deploy scripts", StageKind.SCRIPTS),
    Stage("AfterDeploy", "AfterDeploy scripts", StageKind.HOOKS),
    Stage("IisWebSite", "IIS web site", StageKind.FEATURE),
    Stage("BeforePostDeploy", "BeforePostDeploy scripts", StageKind.HOOKS),
    Stage("PostDeploy", "PostDeploy scripts", StageKind.SCRIPTS),
    Stage("AfterPostDeploy", "AfterPostDeploy scripts", StageKind.HOOKS),
)
DEPLOY_FAILED = deploy_settings.DEPLOY_FAILED
assert tuple(stage.name for stage in STAGES) == deploy_settings.STAGE_NAMES


@dataclass(frozen=True)
class DeploymentRequest:
    step_name: str
    package: Path  # an archive, or a directory holding the package's files
    identity: PackageIdentity
    applications_root: Path
    retention_set: str
    project: str
    variables: Mapping[str, str]  # final, evaluated values
    sensitive_values: Sequence[str] = ()
    timeout: float | None = None
    staged: bool = False  # the package file is a temporary copy made for this deployment


@dataclass
class DeploymentResult:
    outcome: Outcome
    exit_code: int | None
    message: str | None
    stages: list[StageRecord] = field(default_factory=list)
    output_variables: dict[str, OutputVariable] = field(default_factory=dict)
    artifacts: list[ArtifactRequest] = field(default_factory=list)
    installation_directory: str | None = None
    deployment_id: int | None = None


class StageFailed(Exception):
    def __init__(
        self, message: str, exit_code: int | None = None, outcome: Outcome = Outcome.FAILED
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.outcome = outcome


class _Stop(Exception):
    """SkipRemainingConventions became true."""


class Deployment:
    """One package deployment; ``run`` goes through the stages and records the result."""

    def __init__(self, request: DeploymentRequest, console: Console) -> None:
        self.request = request
        self.console = console
        self.variables: dict[str, str] = dict(request.variables)
        self.result = DeploymentResult(Outcome.SUCCEEDED, 0, None)
        self.extracted: Path | None = None
        self.current: Path | None = None  # where later stages work: extraction or custom dir
        self.skip_journal = False  # already installed: nothing new to record
        self.deadline = None if request.timeout is None else time.monotonic() + request.timeout

    # --- the pipeline ---

    def run(self) -> DeploymentResult:
        from steptemplates.execution import package_install

        try:
            self.extracted = package_install.install(self)
            self.current = self.extracted
            self._record(0, "ExtractPackage", "succeeded", str(self.extracted))
        except StepsError as error:
            self._record(0, "ExtractPackage", "failed", str(error))
            return self._failed(StageFailed(str(error)), rollback=False)
        completed = 0
        try:
            self._check_skip()
            for number, stage in enumerate(STAGES, start=1):
                self._run_stage(number, stage)
                completed = number
                self._check_skip()
        except _Stop:
            self.console.line(
                Level.INFO, f"{SKIP_REMAINING} is True: the remaining stages are skipped"
            )
            self._skip_from(completed + 1, "skipped")
        except StageFailed as failure:
            return self._failed(failure, rollback=failure.outcome is Outcome.FAILED)
        except KeyboardInterrupt:
            interrupted = StageFailed("interrupted", None, Outcome.INTERRUPTED)
            return self._failed(interrupted, rollback=False)
        self._cleanup_rollback_scripts()
        package_install.finish(self, successful=True)
        return self.result

    def _run_stage(self, number: int, stage: Stage) -> None:
        self.console.line(Level.VERBOSE, f"--> stage {number}/16: {stage.title}")
        runner = _STAGE_RUNNERS[stage.kind]
        try:
            detail = runner(self, stage)
        except StepsError as error:
            self._record(number, stage.name, "failed", str(error))
            raise StageFailed(f"stage {number} ({stage.title}) failed: {error}") from None
        except StageFailed as failure:
            self._record(number, stage.name, "failed", failure.message)
            raise StageFailed(
                f"stage {number} ({stage.title}) failed: {failure.message}",
                failure.exit_code,
                failure.outcome,
            ) from None
        self._record(number, stage.name, "succeeded" if detail != "skipped" else "skipped", detail)

    def _check_skip(self) -> None:
        if features.flag(self.variables, SKIP_REMAINING):
            raise _Stop

    def _skip_from(self, first: int, status: str) -> None:
        recorded = {r.number for r in self.result.stages}
        for number, stage in enumerate(STAGES, start=1):
            if number >= first and number not in recorded:
                self._record(number, stage.name, status)

    def _failed(self, failure: StageFailed, *, rollback: bool) -> DeploymentResult:
        self.result.outcome = failure.outcome
        self.result.exit_code = failure.exit_code
        self.result.message = failure.message
        self._skip_from(1, "not-run")
        if rollback and self.current is not None:
            self.variables["OctopusLastError"] = failure.message
            self.variables["OctopusLastErrorMessage"] = failure.message
            self.console.error(f"{failure.message}; running the DeployFailed scripts")
            problem = self._rollback()
            if problem:
                self.result.message = f"{failure.message}; {problem}"
        if self.extracted is not None:
            from steptemplates.execution import package_install

            package_install.finish(self, successful=False)
        return self.result

    def _rollback(self) -> str | None:
        assert self.current is not None
        try:
            ran = self._packaged(DEPLOY_FAILED)
            ran += self._configured(DEPLOY_FAILED)
        except StageFailed as failure:
            self._record(17, DEPLOY_FAILED, "failed", failure.message)
            return f"the DeployFailed script also failed: {failure.message}"
        except StepsError as error:
            self._record(17, DEPLOY_FAILED, "failed", str(error))
            return f"the DeployFailed script could not run: {error}"
        self._record(17, DEPLOY_FAILED, "succeeded" if ran else "skipped")
        return None

    def _record(self, number: int, name: str, status: str, detail: str | None = None) -> None:
        self.result.stages.append(StageRecord(number, name, status, detail))

    # --- scripts ---

    def _hooks(self, stage: Stage) -> str | None:
        ran = self._configured(stage.name)
        return None if ran else "skipped"

    def _scripts(self, stage: Stage) -> str | None:
        if stage.name == "PreDeploy":
            ran = self._configured(stage.name) + self._packaged(stage.name)
        else:
            ran = self._packaged(stage.name) + self._configured(stage.name)
        return None if ran else "skipped"

    def _packaged(self, stage: str) -> int:
        assert self.current is not None
        if stage != DEPLOY_FAILED and not features.flag(
            self.variables, "Octopus.Action.Package.RunScripts", default=True
        ):
            return 0
        candidates = deploy_scripts.packaged_candidates(self.current, stage)
        script = deploy_scripts.choose_packaged(candidates, stage)
        if script is None:
            return 0
        try:
            self._run_script(stage, script.path, script.syntax)
        finally:
            self._delete_packaged(stage)
        return 1

    def _delete_packaged(self, stage: str) -> None:
        """The stage's scripts, from the package and from its copy in the custom folder."""
        if not features.delete_scripts(self.variables):
            return
        for directory in {self.current, self.extracted} - {None}:
            assert directory is not None
            for path in deploy_scripts.packaged_candidates(directory, stage):
                path.unlink(missing_ok=True)

    def _configured(self, stage: str) -> int:
        assert self.current is not None
        if not features.enabled(self.variables, features.CUSTOM_SCRIPTS):
            return 0
        scripts = deploy_scripts.configured_scripts(self.variables, stage, self.current)
        for path, syntax, body in scripts:
            deploy_scripts.write_configured(path, syntax, body)
            self._run_script(stage, path, syntax)
            # Kept when it failed, so that the failure can be investigated, as Calamari does.
            if features.delete_scripts(self.variables):
                path.unlink(missing_ok=True)
        return len(scripts)

    def _run_script(self, stage: str, path: Path, syntax: str) -> None:
        assert self.current is not None
        self.console.line(Level.INFO, f"{stage}: running {path.name}")
        result = run_script(
            ScriptRequest(
                syntax=syntax,
                script=path,
                workdir=self.current,
                variables=self.variables,
                timeout=self._remaining(),
            ),
            self.console,
        )
        for output in result.output_variables:
            self._set_output(output)
        self.result.artifacts.extend(result.artifacts)
        if result.outcome is Outcome.SUCCEEDED:
            if result.error_output and features.flag(self.variables, FAIL_ON_ERROR_OUTPUT):
                raise StageFailed(
                    f"script {path.name} returned zero exit code but had error output"
                )
            return
        if result.outcome is Outcome.FAILED:
            reason = result.result_message or f"exited with code {result.exit_code}"
            raise StageFailed(f"script {path.name} {reason}", result.exit_code)
        raise StageFailed(f"script {path.name} {result.outcome.value}", None, result.outcome)

    def _set_output(self, output: OutputVariable) -> None:
        """Visible to the later stages of this step at once, and to later steps."""
        self.result.output_variables[output.name] = output
        action = self.request.step_name
        self.variables[output.name] = output.value
        self.variables[f"Octopus.Action[{action}].Output.{output.name}"] = output.value

    def set_system_output(self, name: str, value: str) -> None:
        self._set_output(OutputVariable(name, value, False))

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise StageFailed("the step's timeout was reached", None, Outcome.TIMED_OUT)
        return remaining

    # --- features ---

    def _feature(self, stage: Stage) -> str | None:
        ran_hooks = self._configured(f"Before{stage.name}")
        detail = _FEATURES[stage.name](self)
        ran_hooks += self._configured(f"After{stage.name}")
        if detail == "skipped" and ran_hooks:
            return "hooks only"
        return detail

    def info(self, text: str) -> None:
        self.console.line(Level.INFO, text)

    def verbose(self, text: str) -> None:
        self.console.line(Level.VERBOSE, text)

    def warn(self, text: str) -> None:
        self.console.warning(text)

    def _cleanup_rollback_scripts(self) -> None:
        self._delete_packaged(DEPLOY_FAILED)


_FEATURES: dict[str, Callable[[Deployment], str]] = {
    "DeletePackageFiles": package_features.delete_package_files,
    "SubstituteInFiles": package_features.substitute_in_files,
    "ConfigurationTransforms": package_features.configuration_transforms,
    "ConfigurationVariables": package_features.configuration_variables,
    "StructuredConfigurationVariables": package_features.structured_variables,
    "CustomInstallationDirectory": package_features.custom_installation_directory,
    "IisWebSite": package_features.iis_web_site,
}

_STAGE_RUNNERS: dict[StageKind, Callable[[Deployment, Stage], str | None]] = {
    StageKind.HOOKS: Deployment._hooks,
    StageKind.SCRIPTS: Deployment._scripts,
    StageKind.FEATURE: Deployment._feature,
}

