"""What a step template and a script module are, whatever format they were written in."""

from __future__ import annotations

import enum
import keyword
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The script languages a template may be written in (docs/template-format.md).
SCRIPT_SYNTAXES = ("bash", "python", "powershell", "csharp", "fsharp")

# Octopus's spelling of each syntax (Octopus.Action.Script.Syntax, Octopus.Script.Module.Language).
OCTOPUS_SYNTAX_NAMES = {
    "bash": "Bash",
    "python": "Python",
    "powershell": "PowerShell",
    "csharp": "CSharp",
    "fsharp": "FSharp",
}


class ParameterType(enum.Enum):
    """A parameter's type; the value is its name in ``steptemplate.toml``."""

    TEXT = "text"
    MULTILINE = "multiline"
    CHECKBOX = "checkbox"
    SELECT = "select"
    SENSITIVE = "sensitive"
    # The value names a package; the step gets Octopus.Action.Package[<param>].* too.
    PACKAGE = "package"
    # The value names another step of the process.
    STEP_NAME = "step-name"
    # Accounts and certificates: the value names the account, and the step reads the
    # account's fields from the variables <param>.<Field> (VARIABLE_GROUPS).
    AZURE_ACCOUNT = "azure-account"
    AWS_ACCOUNT = "aws-account"
    GOOGLE_CLOUD_ACCOUNT = "google-cloud-account"
    GENERIC_OIDC_ACCOUNT = "oidc-account"
    USERNAME_PASSWORD_ACCOUNT = "username-password-account"
    TOKEN_ACCOUNT = "token-account"
    CERTIFICATE = "certificate"
    WORKER_POOL = "worker-pool"


# Octopus.ControlType -> native type. An unknown control type is warned about and read as text.
OCTOPUS_CONTROL_TYPES: Mapping[str, ParameterType] = {
    "SingleLineText": ParameterType.TEXT,
    "MultiLineText": ParameterType.MULTILINE,
    "Checkbox": ParameterType.CHECKBOX,
    "Select": ParameterType.SELECT,
    "Sensitive": ParameterType.SENSITIVE,
    "Package": ParameterType.PACKAGE,
    "StepName": ParameterType.STEP_NAME,
    "AzureAccount": ParameterType.AZURE_ACCOUNT,
    "AmazonWebServicesAccount": ParameterType.AWS_ACCOUNT,
    "GoogleCloudAccount": ParameterType.GOOGLE_CLOUD_ACCOUNT,
    "GenericOidcAccount": ParameterType.GENERIC_OIDC_ACCOUNT,
    "UsernamePasswordAccount": ParameterType.USERNAME_PASSWORD_ACCOUNT,
    "TokenAccount": ParameterType.TOKEN_ACCOUNT,
    "Certificate": ParameterType.CERTIFICATE,
    "WorkerPool": ParameterType.WORKER_POOL,
}
CONTROL_TYPE_OF: Mapping[ParameterType, str] = {t: c for c, t in OCTOPUS_CONTROL_TYPES.items()}


@dataclass(frozen=True)
class GroupMember:
    """One variable of an account or certificate group: ``<param>.<suffix>``."""

    suffix: str
    sensitive: bool = False


# The variables Octopus derives from an account or certificate parameter, as documented for
# Octopus's account and certificate variables. A step supplies them itself (steps has no
# account store): ``[steps.parameters.AwsAccount]`` with ``AccessKey`` and ``SecretKey``.
VARIABLE_GROUPS: Mapping[ParameterType, tuple[GroupMember, ...]] = {
    ParameterType.AZURE_ACCOUNT: (
        GroupMember("SubscriptionNumber"),
        GroupMember("Client"),
        GroupMember("Password", sensitive=True),
        GroupMember("TenantId"),
        GroupMember("AzureEnvironment"),
        GroupMember("ResourceManagementEndpointBaseUri"),
        GroupMember("ActiveDirectoryEndpointBaseUri"),
    ),
    ParameterType.AWS_ACCOUNT: (
        GroupMember("AccessKey"),
        GroupMember("SecretKey", sensitive=True),
    ),
    ParameterType.GOOGLE_CLOUD_ACCOUNT: (GroupMember("JsonKey", sensitive=True),),
    ParameterType.GENERIC_OIDC_ACCOUNT: (
        GroupMember("Audience"),
        GroupMember("OpenIdConnect.Jwt", sensitive=True),
    ),
    ParameterType.USERNAME_PASSWORD_ACCOUNT: (
        GroupMember("Username"),
        GroupMember("Password", sensitive=True),
    ),
    ParameterType.TOKEN_ACCOUNT: (GroupMember("Token", sensitive=True),),
    ParameterType.CERTIFICATE: (
        GroupMember("Name"),
        GroupMember("Thumbprint"),
        GroupMember("Subject"),
        GroupMember("Issuer"),
        GroupMember("NotBefore"),
        GroupMember("NotAfter"),
        GroupMember("Certificate"),
        GroupMember("Pfx", sensitive=True),
        GroupMember("PrivateKey", sensitive=True),
        GroupMember("ChainPem"),
    ),
}

# What a package parameter adds, as Octopus.Action.Package[<param>].<suffix>.
PACKAGE_VARIABLES = (
    "PackageId",
    "PackageVersion",
    "FeedId",
    "PackageFilePath",
    "OriginalPath",
    "ExtractedPath",
)


@dataclass(frozen=True)
class SelectOption:
    value: str
    label: str
    # Written as a bare value (no label): kept so that a conversion writes it back that way.
    bare: bool = False


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str
    help: str
    type: ParameterType
    default: str | None
    required: bool
    options: tuple[SelectOption, ...] = ()
    # Octopus's parameter Id (a GUID), kept so that an export is recognised as the same.
    id: str | None = None
    # The default was written as a number (Octopus DefaultValue 5, not "5").
    number_default: bool = False
    # Keys of an Octopus parameter that steps does not use (Links, Type, other
    # DisplaySettings), as JSON values, kept for a lossless round trip.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sensitive(self) -> bool:
        return self.type is ParameterType.SENSITIVE


@dataclass(frozen=True)
class Script:
    syntax: str
    body: str
    # Path of the script inside the template when it came from a file, so it runs under its
    # own name (and can find files next to it); None for an inline body.
    file: str | None
    # Octopus.Action.Script.ScriptParameters: raw command-line text, #{} evaluated, then
    # given to the script as its positional parameters.
    parameters: str | None = None
    # Octopus.Action.Script.ScriptSource "Package": the script is ScriptFileName inside the
    # directory or package that holds the template.
    from_package: bool = False


@dataclass(frozen=True)
class ModuleNeed:
    """A script module a template, step or module needs: its name and a version range."""

    name: str
    version: str | None = None  # a range; None is any version
    # Bash only: source <name>.sh before the script (others load modules themselves).
    autoload: bool = False


@dataclass(frozen=True)
class OctopusMetadata:
    """What an Octopus ActionTemplate holds beyond the script and parameters, kept so that
    a template converts to steptemplate.toml and back without loss."""

    action_type: str = "Octopus.Script"
    # Properties other than the script's own (ScriptBody, Syntax, ScriptParameters,
    # ScriptFileName): Octopus.Action.RunOnServer, ...; every value is a string.
    properties: Mapping[str, str] = field(default_factory=dict)
    # Every other top-level key ($Meta, LastModifiedBy, Packages, Author, ...) as JSON values.
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    category: str
    parameters: tuple[Parameter, ...]
    script: Script
    root: Path
    # "native" (steptemplate.toml) or "octopus" (an ActionTemplate JSON file).
    format: str = "native"
    # The template file inside root: steptemplate.toml, or the JSON file's relative path.
    file: str = "steptemplate.toml"
    # Octopus's template Id (a GUID) and integer Version, when the template has them.
    id: str | None = None
    version: int | None = None
    modules: tuple[ModuleNeed, ...] = ()
    octopus: OctopusMetadata = field(default_factory=OctopusMetadata)
    # Problems that do not stop the template from running (an unknown control type, a
    # Select default outside its options), for the command that loaded it to show.
    warnings: tuple[str, ...] = ()

    def parameter(self, name: str) -> Parameter | None:
        folded = name.casefold()
        return next((p for p in self.parameters if p.name.casefold() == folded), None)


@dataclass(frozen=True)
class ScriptModule:
    """A script module: code in one language that scripts of that language load by name."""

    name: str
    syntax: str
    body: str
    root: Path
    description: str = ""
    format: str = "native"
    file: str = "steptemplate.toml"
    needs: tuple[ModuleNeed, ...] = ()
    warnings: tuple[str, ...] = ()


MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def module_name_problem(name: str, syntax: str | None = None) -> str | None:
    """Why ``name`` cannot be a module's name (it becomes a file name and an import), or None."""
    if not MODULE_NAME.fullmatch(name):
        return (
            f"script module name '{name}' is not safe as a file name and import name; "
            "use letters, digits and _ (not starting with a digit)"
        )
    if syntax in (None, "python") and (name in sys.stdlib_module_names or keyword.iskeyword(name)):
        return (
            f"script module name '{name}' would hide Python's own '{name}' module "
            "(or is a keyword); choose another name"
        )
    return None
