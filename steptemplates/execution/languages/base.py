"""What every script syntax provides, and the pieces the syntaxes share."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
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


# --- the private file the .NET languages (powershell, csharp, fsharp) read ----------------
#
# One record a line: a kind word, then its fields, each the base64 of the field's UTF-16
# code units, separated by single spaces. Base64 holds no space or line break, so the
# bootstraps split lines and fields without any quoting rules, and UTF-16 is what .NET
# strings are made of, so every value arrives exactly, NULs included; only a lone surrogate,
# which .NET will not decode, arrives as U+FFFD.


def dotnet_field(text: str) -> str:
    """``text`` as a field of the values file."""
    return base64.b64encode(text.encode("utf-16-le", "surrogatepass")).decode("ascii")


def write_records(path: Path, records: Iterable[tuple[str, ...]]) -> None:
    """Write the values file: each record is ``(kind, field, ...)``; only the user can read it."""
    lines = [" ".join([kind, *map(dotnet_field, fields)]) for kind, *fields in records]
    write_private(path, "".join(line + "\n" for line in lines))


def verbatim_string(text: str) -> str:
    """``text`` as a C# and F# verbatim string literal (``@"..."``, quotes doubled)."""
    return '@"' + text.replace('"', '""') + '"'


def load_directive_path(path: Path, syntax: str) -> str:
    """``path`` for a ``#load "..."`` line, which has no way to hold a quote or line break."""
    text = str(path)
    if '"' in text or "\n" in text or "\r" in text:
        raise StepsError(
            f"{syntax} cannot load {text!r}: its path holds a double quote or line break",
            hint="rename it or run it from a directory whose path has neither",
        )
    return text
