"""A package step's ``[steps.deploy]`` and ``[steps.scripts.<Stage>]`` tables, as the
Calamari variables they stand for (docs/packages.md).

The deployment itself reads only variables, so that a step written in steps.toml and an
Octopus variables file given to ``steps deploy-package`` behave the same.
"""

from __future__ import annotations

from pathlib import Path

from steptemplates import tomlfile

# The 16 stages of a package deployment, in order (execution/deployment.py runs them).
STAGE_NAMES = (
    "BeforePreDeploy",
    "PreDeploy",
    "AfterPreDeploy",
    "DeletePackageFiles",
    "SubstituteInFiles",
    "ConfigurationTransforms",
    "ConfigurationVariables",
    "StructuredConfigurationVariables",
    "CustomInstallationDirectory",
    "BeforeDeploy",
    "Deploy",
    "AfterDeploy",
    "IisWebSite",
    "BeforePostDeploy",
    "PostDeploy",
    "AfterPostDeploy",
)
SCRIPT_STAGES = ("PreDeploy", "Deploy", "PostDeploy")
DEPLOY_FAILED = "DeployFailed"


def _is_feature(stage: str) -> bool:
    return stage not in SCRIPT_STAGES and not stage.startswith(("Before", "After"))


# Where a step may attach its own scripts: the Before*/After* stages, PreDeploy, Deploy,
# PostDeploy and DeployFailed, and before or after each configuration stage.
HOOK_STAGES: tuple[str, ...] = (
    *(
        name
        for stage in STAGE_NAMES
        for name in ((f"Before{stage}", f"After{stage}") if _is_feature(stage) else (stage,))
    ),
    DEPLOY_FAILED,
)

_PACKAGE = "Octopus.Action.Package."
_FEATURES = {
    "scripts": "Octopus.Features.CustomScripts",
    "substitute": "Octopus.Features.SubstituteInFiles",
    "transforms": "Octopus.Features.ConfigurationTransforms",
    "config-variables": "Octopus.Features.ConfigurationVariables",
    "structured": "Octopus.Features.JsonConfigurationVariables",
    "custom-directory": "Octopus.Features.CustomDirectory",
}
_LISTS = {  # key -> (feature, variable)
    "substitute-files": ("substitute", "Octopus.Action.SubstituteInFiles.TargetFiles"),
    "additional-transforms": ("transforms", _PACKAGE + "AdditionalXmlConfigurationTransforms"),
    "structured-files": ("structured", _PACKAGE + "JsonConfigurationVariablesTargets"),
    "purge-exclude": ("custom-directory", _PACKAGE + "CustomInstallationDirectoryPurgeExclusions"),
}
_FLAGS = {  # key -> (feature or None, variable)
    "transforms": ("transforms", _PACKAGE + "AutomaticallyRunConfigurationTransformationFiles"),
    "config-variables": (
        "config-variables",
        _PACKAGE + "AutomaticallyUpdateAppSettingsAndConnectionStrings",
    ),
    "purge": (
        "custom-directory",
        _PACKAGE + "CustomInstallationDirectoryShouldBePurgedBeforeDeployment",
    ),
    "package-scripts": (None, _PACKAGE + "RunScripts"),
    "skip-if-installed": (None, _PACKAGE + "SkipIfAlreadyInstalled"),
}
_STRINGS = {
    "output-encoding": ("substitute", "Octopus.Action.SubstituteInFiles.OutputEncoding"),
    "custom-directory": ("custom-directory", _PACKAGE + "CustomInstallationDirectory"),
}
KEEP_DEPLOYMENTS = "Steps.Package.KeepDeployments"
_SCRIPT_KEYS = {"bash": ".sh", "python": ".py", "powershell": ".ps1", "csharp": ".csx"}
_EXTENSIONS = {".sh": ".sh", ".py": ".py", ".ps1": ".ps1", ".csx": ".csx"}


def step_variables(step: tomlfile.Table, name: str, base: Path) -> dict[str, str]:
    """The variables a package step's deploy and scripts tables stand for."""
    enabled: list[str] = []
    variables: dict[str, str] = {}
    deploy = step.table("deploy")
    if deploy is not None:
        _deploy_variables(deploy, name, enabled, variables)
    scripts = step.table("scripts")
    if scripts is not None:
        _script_variables(scripts, name, base, enabled, variables)
    if enabled:
        variables["Octopus.Action.EnabledFeatures"] = ",".join(_FEATURES[f] for f in enabled)
    return variables


def _deploy_variables(
    deploy: tomlfile.Table, step: str, enabled: list[str], variables: dict[str, str]
) -> None:
    def enable(feature: str | None) -> None:
        if feature is not None and feature not in enabled:
            enabled.append(feature)

    for key, (feature, variable) in _LISTS.items():
        if deploy.raw(key) is not None:
            variables[variable] = "\n".join(deploy.strings(key))
            enable(feature)
    for key, (maybe, variable) in _FLAGS.items():
        if deploy.raw(key) is not None:
            on = deploy.boolean(key, default=False)
            variables[variable] = "True" if on else "False"
            if on:
                enable(maybe)
    for key, (feature, variable) in _STRINGS.items():
        value = deploy.string(key)
        if value is not None:
            variables[variable] = value
            enable(feature)
    keep = deploy.raw("keep-deployments")
    if keep is not None:
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
            raise deploy.error(
                "keep-deployments",
                f"step '{step}': keep-deployments must be a whole number (0 keeps them all)",
            )
        variables[KEEP_DEPLOYMENTS] = str(keep)
    deploy.reject_unknown((*_LISTS, *_FLAGS, *_STRINGS, "keep-deployments"))


def _script_variables(
    scripts: tomlfile.Table,
    step: str,
    base: Path,
    enabled: list[str],
    variables: dict[str, str],
) -> None:
    canonical = {stage.casefold(): stage for stage in HOOK_STAGES}
    for stage_key, table in scripts.subtables():
        stage = canonical.get(stage_key.casefold())
        if stage is None:
            raise table.error(
                None,
                f"step '{step}': '{stage_key}' is not a stage scripts can be attached to",
                hint="use one of " + ", ".join(HOOK_STAGES),
            )
        for extension, body in _stage_scripts(table, step, stage, base):
            variables[f"Octopus.Action.CustomScripts.{stage}{extension}"] = body
        table.reject_unknown((*_SCRIPT_KEYS, "file"))
    if "scripts" not in enabled:
        enabled.append("scripts")


def _stage_scripts(
    table: tomlfile.Table, step: str, stage: str, base: Path
) -> list[tuple[str, str]]:
    scripts = []
    for key, extension in _SCRIPT_KEYS.items():
        text = table.string(key)
        if text is not None:
            scripts.append((extension, text))
    file = table.string("file")
    if file is not None:
        path = base / file
        file_extension = _EXTENSIONS.get(path.suffix.lower())
        if file_extension is None:
            raise table.error(
                "file", f"step '{step}': cannot tell the language of {file} from its extension",
                hint="name it .sh, .py, .ps1 or .csx",
            )  # fmt: skip
        try:
            scripts.append((file_extension, path.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as error:
            raise table.error("file", f"step '{step}': cannot read {file} ({error})") from None
    if not scripts:
        raise table.error(
            None, f"step '{step}': scripts.{stage} gives no script",
            hint="give bash = \"...\", python = \"...\" or file = \"path\"",
        )  # fmt: skip
    return scripts
