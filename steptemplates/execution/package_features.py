"""The configuration stages of a package deployment, each turned on by Calamari's variables.

Each function takes the running ``Deployment`` (its variables and current directory) and
returns a short detail for the stage record, or "skipped" when the feature is off.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates import globs
from steptemplates.execution import features
from steptemplates.execution.config import custom_directory
from steptemplates.variables.engine import Evaluator

if TYPE_CHECKING:
    from steptemplates.execution.deployment import Deployment

SKIPPED = "skipped"
_PACKAGE = "Octopus.Action.Package."


def _roots(deployment: Deployment) -> list[Path]:
    """The current directory, then each of ``Octopus.Action.AdditionalPaths``."""
    assert deployment.current is not None
    extra = features.split_list(
        features.get(deployment.variables, "Octopus.Action.AdditionalPaths")
    )
    return [deployment.current, *(Path(p) for p in extra)]


def _files(deployment: Deployment, pattern: str) -> list[Path]:
    return globs.glob_many(_roots(deployment), pattern)


def delete_package_files(deployment: Deployment) -> str:
    request = deployment.request
    if not request.staged or not request.package.is_file():
        return SKIPPED
    request.package.unlink(missing_ok=True)
    deployment.verbose(f"deleted the staged package {request.package}")
    return f"deleted {request.package.name}"


def substitute_in_files(deployment: Deployment) -> str:
    variables = deployment.variables
    if not features.enabled(variables, features.SUBSTITUTE_IN_FILES):
        return SKIPPED
    from steptemplates.execution.config.substitution import substitute_file

    targets = globs.split_lines(
        features.get(variables, "Octopus.Action.SubstituteInFiles.TargetFiles")
    )
    warn_no_match = features.flag(
        variables, "Octopus.Action.SubstituteInFiles.EnableNoMatchWarning", default=True
    )
    evaluator = Evaluator.of_values(variables)
    output_encoding = features.get(variables, "Octopus.Action.SubstituteInFiles.OutputEncoding")
    fail = features.flag(variables, "OctopusShouldFailDeploymentOnSubstitutionFails")
    done = 0
    for target in targets:
        files = _files(deployment, target)
        if not files and warn_no_match:
            deployment.warn(
                f"No files were found in {deployment.current} that match the substitution "
                f"target pattern '{target}'"
            )
        for path in files:
            result = substitute_file(
                path, evaluator, output_encoding=output_encoding, fail_on_error=fail,
                warn=deployment.warn,
            )  # fmt: skip
            for problem in result.problems:
                deployment.verbose(f"substituting {path}: left as written at {problem}")
            done += 1
            deployment.verbose(f"substituted variables in {path}")
    return f"{done} file(s)"


def configuration_transforms(deployment: Deployment) -> str:
    variables = deployment.variables
    if not features.enabled(variables, features.CONFIGURATION_TRANSFORMS):
        return SKIPPED
    from steptemplates.execution.config import xdt

    assert deployment.current is not None
    applied_variable = "OctopusAppliedXmlConfigTransforms"
    applied = {Path(p) for p in features.get(variables, applied_variable).split("|") if p}
    pairs = xdt.transform_pairs(
        deployment.current,
        environment=features.get(variables, "Octopus.Environment.Name") or None,
        tenant=features.get(variables, "Octopus.Deployment.Tenant.Name") or None,
        automatic=features.flag(
            variables, _PACKAGE + "AutomaticallyRunConfigurationTransformationFiles"
        ),
        additional=xdt.parse_additional_transforms(
            features.get(variables, _PACKAGE + "AdditionalXmlConfigurationTransforms")
        ),
        already_applied=applied,
    )
    strict = features.flag(
        variables, _PACKAGE + "TreatConfigTransformationWarningsAsErrors", default=True
    ) and not features.flag(variables, _PACKAGE + "IgnoreConfigTransformationErrors")
    for pair in pairs:
        deployment.info(f"transforming {pair.target} with {pair.transform.name}")
        xdt.apply_transform(
            pair.target, pair.transform, warn=deployment.warn, warnings_as_errors=strict
        )
        applied.add(pair.transform)
    deployment.variables[applied_variable] = "|".join(sorted(str(p) for p in applied))
    return f"{len(pairs)} transform(s)"


def configuration_variables(deployment: Deployment) -> str:
    variables = deployment.variables
    if not features.enabled(variables, features.CONFIGURATION_VARIABLES) or not features.flag(
        variables, _PACKAGE + "AutomaticallyUpdateAppSettingsAndConnectionStrings"
    ):
        return SKIPPED
    from steptemplates.execution.config.xml_variables import replace_config_variables

    replaced = 0
    for path in _files(deployment, "**/*.config"):
        names = replace_config_variables(path, variables)
        if names:
            deployment.verbose(f"{path}: replaced {', '.join(names)}")
        replaced += len(names)
    return f"{replaced} value(s)"


def structured_variables(deployment: Deployment) -> str:
    variables = deployment.variables
    if not features.enabled(variables, features.STRUCTURED_VARIABLES):
        return SKIPPED
    from steptemplates.execution.config.structured import replace_structured

    targets = globs.split_lines(
        features.get(variables, _PACKAGE + "JsonConfigurationVariablesTargets")
    )
    json_only = features.flag(variables, "Octopus.Action.StructuredConfigurationFallbackFlag")
    files = 0
    for target in targets:
        matched = _files(deployment, target)
        if not matched:
            deployment.warn(
                f"No files were found that match the replacement target pattern '{target}'"
            )
        for path in matched:
            result = replace_structured(
                path, variables, json_only=json_only, warn=deployment.warn, info=deployment.info
            )
            deployment.verbose(f"{path} ({result.format}): replaced {len(result.replaced)}")
            files += 1
    return f"{files} file(s)"


def custom_installation_directory(deployment: Deployment) -> str:
    variables = deployment.variables
    folder_text = features.get(variables, custom_directory.VARIABLE).strip()
    if not folder_text:
        return SKIPPED
    assert deployment.extracted is not None
    folder = custom_directory.check_folder(folder_text, deployment.extracted)
    if features.flag(
        variables, _PACKAGE + "CustomInstallationDirectoryShouldBePurgedBeforeDeployment"
    ):
        exclusions = globs.split_lines(
            features.get(variables, _PACKAGE + "CustomInstallationDirectoryPurgeExclusions")
        )
        removed = custom_directory.purge(folder, exclusions)
        deployment.info(f"purged {removed} file(s) from {folder}")
    copied = custom_directory.copy_package(deployment.extracted, folder)
    deployment.info(f"copied {copied} file(s) to {folder}")
    deployment.current = folder
    for name in (_PACKAGE + "InstallationDirectoryPath", "Package.InstallationDirectoryPath"):
        deployment.set_system_output(name, str(folder))
    deployment.set_system_output("Package.CopiedFileCount", str(copied))
    return f"{copied} file(s) to {folder}"


def iis_web_site(deployment: Deployment) -> str:
    deployment.verbose("IIS web site: there is no IIS on this platform; nothing to do")
    return SKIPPED
