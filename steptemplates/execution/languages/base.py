"""What every script syntax provides, and the pieces the syntaxes share."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

from steptemplates.errors import StepsError


@dataclass(frozen=True)
class ModuleFile:
    """A script module for one script run: written where Calamari writes it (docs/modules.md)."""

    name: str  # a safe name (templates.model.module_name_problem); the file's base name
    syntax: str
    body: str  # #{...} already substituted
    autoload: bool = False  # bash: source it before the script


class Language(Protocol):
    """One script syntax: how to check for its interpreter and how to launch a script."""

    @property
    def syntax(self) -> str: ...

    @property
    def extension(self) -> str: ...

    def check_available(self) -> None:
        """Raise StepsError naming the interpreter if it cannot be found."""

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        """Write the bootstrap files into ``private_dir`` and this syntax's ``modules`` where
        scripts find them; return the argv that runs ``script``."""


def require_executable(syntax: str, executable: str, install: str) -> None:
    """Raise StepsError unless ``executable`` is on PATH."""
    if shutil.which(executable) is None:
        raise StepsError(f"{syntax} scripts need `{executable}` on PATH; {install}")


def bootstrap_resource(name: str) -> str:
    """The text of a file shipped in ``steptemplates/execution/bootstrap/``."""
    return (resources.files("steptemplates.execution") / "bootstrap" / name).read_text("utf-8")


def write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by the user only; it holds variable values."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)


@dataclass(frozen=True)
class Unsupported:
    """A syntax whose interpreter steps can detect but cannot run scripts for yet."""

    syntax: str
    extension: str
    executable: str
    install: str

    def check_available(self) -> None:
        require_executable(self.syntax, self.executable, self.install)
        raise self._unsupported()

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        raise self._unsupported()

    def _unsupported(self) -> StepsError:
        return StepsError(
            f"running {self.syntax} scripts is not supported yet by this version of steps",
            hint=f"{self.executable} is installed, but steps has no {self.syntax} bootstrap yet",
        )
