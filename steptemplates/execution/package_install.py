"""Putting a package in place before the stages run, and recording it after they ran.

The package is extracted to ``<applications root>/<tenant>/<environment>/<id>/<version>``
(``_1``, ``_2``... when that exists: a directory is never reused), the package variables are
set, and afterwards the deployment is written to the journal and old ones are removed.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from steptemplates import deployments, fsutil
from steptemplates.errors import StepsError
from steptemplates.execution import features
from steptemplates.packages.archive import extract

if TYPE_CHECKING:
    from steptemplates.execution.deployment import Deployment

KEEP_DEPLOYMENTS = "Steps.Package.KeepDeployments"
DEFAULT_KEEP = 5
_INSTALLED = (
    "Octopus.Action.Package.InstallationDirectoryPath",
    "Package.InstallationDirectoryPath",
)


def install(deployment: Deployment) -> Path:
    request = deployment.request
    variables = deployment.variables
    identity = request.identity
    journal = deployments.Journal(request.applications_root)
    _previous_installation(deployment, journal)
    variables["Octopus.Action.Package.PackageId"] = identity.id
    variables["Octopus.Action.Package.PackageVersion"] = identity.version
    variables["Octopus.Tentacle.CurrentDeployment.PackageFilePath"] = str(request.package)
    variables["Octopus.Tentacle.CurrentDeployment.RetentionPolicySet"] = request.retention_set
    if features.flag(variables, "Octopus.Action.Package.SkipIfAlreadyInstalled"):
        installed = _already_installed(deployment, journal)
        if installed is not None:
            return installed
    target = deployments.installation_directory(
        request.applications_root,
        tenant=features.get(variables, "Octopus.Deployment.Tenant.Name"),
        environment=features.get(variables, "Octopus.Environment.Name"),
        package_id=identity.id,
        version=identity.version,
    )
    deployment.info(f"extracting {request.package.name} to {target}")
    count = _place(request.package, target)
    variables["OctopusOriginalPackageDirectoryPath"] = str(target)
    for name in _INSTALLED:
        deployment.set_system_output(name, str(target))
    deployment.set_system_output("Package.ExtractedFileCount", str(count))
    deployment.result.installation_directory = str(target)
    return target


def _already_installed(deployment: Deployment, journal: deployments.Journal) -> Path | None:
    """Octopus's "skip if already installed": the same version deployed successfully last
    time is left as it is, and every stage is skipped."""
    request = deployment.request
    latest = journal.latest(request.retention_set, request.identity.id)
    if latest is None or not latest.successful or latest.version != request.identity.version:
        return None
    if not Path(latest.extracted_to).is_dir():
        return None
    deployment.info(
        f"{request.identity.id} {request.identity.version} is already installed at "
        f"{latest.extracted_to}; skipping the deployment"
    )
    installed = latest.custom_directory or latest.extracted_to
    for name in _INSTALLED:
        deployment.set_system_output(name, installed)
    deployment.variables["Octopus.Action.SkipRemainingConventions"] = "True"
    deployment.skip_journal = True
    deployment.result.installation_directory = latest.extracted_to
    deployment.result.deployment_id = latest.id
    return Path(latest.extracted_to)


def _place(package: Path, target: Path) -> int:
    if package.is_dir():
        return _copy_directory(package, target)
    if not package.is_file():
        raise StepsError(f"package {package} does not exist", hint="check the package path")
    return extract(package, target).file_count


def _copy_directory(source: Path, target: Path) -> int:
    """A directory package (from git or a local folder), copied whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        fsutil.copy_tree(source, partial)
        os.replace(partial, target)
    except BaseException as error:
        fsutil.remove_tree(partial)
        if isinstance(error, OSError):
            raise StepsError(
                f"cannot copy the package {source} to {target}: {error.strerror or error}",
                hint="check the disk has room and the applications directory is writable",
            ) from None
        raise
    return sum(len(files) for _d, _s, files in os.walk(target))


def _previous_installation(deployment: Deployment, journal: deployments.Journal) -> None:
    """``Octopus.Tentacle.Previous[Successful]Installation.*`` from the journal."""
    request = deployment.request
    for prefix, successful_only in (
        ("Octopus.Tentacle.PreviousInstallation.", False),
        ("Octopus.Tentacle.PreviousSuccessfulInstallation.", True),
    ):
        previous = journal.latest(
            request.retention_set, request.identity.id, successful_only=successful_only
        )
        if previous is None:
            continue
        deployment.variables[prefix + "OriginalInstalledPath"] = previous.extracted_to
        deployment.variables[prefix + "CustomInstallationDirectory"] = previous.custom_directory
        deployment.variables[prefix + "PackageVersion"] = previous.version


def finish(deployment: Deployment, *, successful: bool) -> None:
    """Record the deployment in the journal; after a success, apply retention."""
    request = deployment.request
    extracted = deployment.extracted
    if extracted is None or deployment.skip_journal:
        return
    variables = deployment.variables
    journal = deployments.Journal(request.applications_root)
    custom = features.get(variables, "Octopus.Action.Package.CustomInstallationDirectory").strip()
    entry = journal.record(
        package_id=request.identity.id,
        version=request.identity.version,
        retention_set=request.retention_set,
        project=request.project,
        step=request.step_name,
        environment=features.get(variables, "Octopus.Environment.Name"),
        tenant=features.get(variables, "Octopus.Deployment.Tenant.Name"),
        installed_on=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        extracted_to=str(extracted),
        custom_directory=custom,
        successful=successful,
        sensitive_lines=deployments.sensitive_lines(extracted, request.sensitive_values),
    )
    deployment.result.deployment_id = entry.id
    if not successful:
        return
    keep_text = features.get(variables, KEEP_DEPLOYMENTS).strip() or str(DEFAULT_KEEP)
    try:
        keep = int(keep_text)
    except ValueError:
        deployment.warn(f"{KEEP_DEPLOYMENTS} '{keep_text}' is not a number; keeping {DEFAULT_KEEP}")
        keep = DEFAULT_KEEP
    for removed in deployments.apply_retention(
        journal, request.retention_set, keep, protect=extracted, warn=deployment.warn
    ):
        deployment.verbose(
            f"retention: removed deployment {removed.id} ({removed.version}) "
            f"at {removed.extracted_to}"
        )
