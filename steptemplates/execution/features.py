"""Which package features a step has turned on, read from the variables Calamari reads.

``Octopus.Action.EnabledFeatures`` is a comma-separated list of feature names; flags are
.NET booleans (``True``/``False`` in any case; anything else is the default).
"""

from __future__ import annotations

from collections.abc import Mapping

ENABLED_FEATURES = "Octopus.Action.EnabledFeatures"
CUSTOM_SCRIPTS = "Octopus.Features.CustomScripts"
SUBSTITUTE_IN_FILES = "Octopus.Features.SubstituteInFiles"
CONFIGURATION_TRANSFORMS = "Octopus.Features.ConfigurationTransforms"
CONFIGURATION_VARIABLES = "Octopus.Features.ConfigurationVariables"
# Octopus names the structured-variables feature after its first format.
STRUCTURED_VARIABLES = "Octopus.Features.JsonConfigurationVariables"
CUSTOM_DIRECTORY = "Octopus.Features.CustomDirectory"
ALL_FEATURES = (
    CUSTOM_SCRIPTS,
    SUBSTITUTE_IN_FILES,
    CONFIGURATION_TRANSFORMS,
    CONFIGURATION_VARIABLES,
    STRUCTURED_VARIABLES,
    CUSTOM_DIRECTORY,
)


def get(variables: Mapping[str, str], name: str) -> str:
    """A variable's value by case-insensitive name ("" when unset)."""
    value = variables.get(name)
    if value is not None:
        return value
    folded = name.casefold()
    return next((v for k, v in variables.items() if k.casefold() == folded), "")


def flag(variables: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    value = get(variables, name).strip().casefold()
    if value == "true":
        return True
    if value == "false":
        return False
    return default


def enabled(variables: Mapping[str, str], feature: str) -> bool:
    listed = get(variables, ENABLED_FEATURES).split(",")
    return feature.casefold() in {item.strip().casefold() for item in listed}


def delete_scripts(variables: Mapping[str, str]) -> bool:
    """Whether deployment scripts are removed from the package after they ran."""
    return flag(variables, "OctopusDeleteScriptsOnCleanup", default=True)


def split_list(text: str) -> list[str]:
    """Comma- or newline-separated items, trimmed, blanks dropped."""
    return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]
