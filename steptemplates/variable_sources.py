"""Gathering a run's variables from where users keep them, checked before anything runs.

``steps run``, ``steps run-script`` and ``steps render`` read the same places: the project's
steps.toml ``[variables]`` and steps.secrets, ``--variables`` files, ``-v`` values, and
Calamari's encrypted sensitive-variables files. Scope names are checked here, once, so a
misspelt ``--environment`` fails before the first step instead of silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.manifest import Manifest
from steptemplates.variables import scoping, secrets
from steptemplates.variables.collection import Variable
from steptemplates.variables.files import load_variables_file, parse_variables_json


@dataclass(frozen=True)
class EncryptedFile:
    """A Calamari variables file encrypted with a password (``--sensitive-variables``)."""

    path: Path
    password: str


@dataclass(frozen=True)
class VariableInputs:
    project: tuple[scoping.ScopedVariable, ...] = ()  # steps.toml, then steps.secrets
    files: tuple[scoping.ScopedVariable, ...] = ()  # --variables and encrypted files, in order
    overrides: tuple[Variable, ...] = ()
    context: scoping.Context = field(default_factory=scoping.Context)

    def sensitive_values(self) -> list[str]:
        every: list[Variable | scoping.ScopedVariable] = [
            *self.project, *self.files, *self.overrides
        ]
        return [v.value for v in every if v.sensitive and v.value]


def gather(
    manifest: Manifest | None,
    *,
    files: Sequence[Path] = (),
    encrypted: Sequence[EncryptedFile] = (),
    overrides: Sequence[tuple[str, str]] = (),
    context: scoping.Context | None = None,
    password: Callable[[], str] | None = None,
) -> VariableInputs:
    """Every variable source, with the context checked against the names the project knows."""
    project: list[scoping.ScopedVariable] = []
    if manifest is not None:
        project.extend(manifest.variables)
        getter = password or (lambda: secrets.secrets_password())
        project.extend(secrets.project_secrets(manifest.directory, getter))
    from_files: list[scoping.ScopedVariable] = []
    for path in files:
        from_files.extend(load_variables_file(path))
    for item in encrypted:
        from_files.extend(_decrypted(item))
    known = _known_names(manifest, [*project, *from_files])
    scoping.check_scopes([*project, *from_files], known)
    checked = scoping.check_context(context or scoping.Context(), known)
    return VariableInputs(
        tuple(project),
        tuple(from_files),
        tuple(Variable(name, value) for name, value in overrides),
        checked,
    )


def _decrypted(item: EncryptedFile) -> list[scoping.ScopedVariable]:
    # Imported here: cryptography is slow to import and most runs have no such file.
    from steptemplates.variables.calamari_crypto import decrypt_variables

    try:
        data = item.path.read_bytes()
    except OSError as error:
        raise StepsError(f"{item.path}: cannot read ({error.strerror})") from None
    text = decrypt_variables(data, item.password, source=str(item.path))
    # Everything in a sensitive-variables file is a secret, whatever its entries say.
    return [replace(v, sensitive=True) for v in parse_variables_json(text, str(item.path))]


def _known_names(
    manifest: Manifest | None, variables: Sequence[scoping.ScopedVariable]
) -> scoping.KnownNames:
    if manifest is None:
        return scoping.KnownNames.build(variables=variables)
    return manifest.known_names(variables)
