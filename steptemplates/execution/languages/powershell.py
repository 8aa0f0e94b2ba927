"""PowerShell scripts (``.ps1``): dot-sourced by PowerShell 7 (``pwsh``) from a bootstrap that
defines Calamari's helper functions.

Variable values and the script's parameters reach the bootstrap through the values file
(base.py) that only the user can read and that the bootstrap deletes as soon as it has
read it; the bootstrap's own text holds nothing but paths. Script modules of this syntax
are written to the private directory as ``<Name>.psm1`` and imported before the script
runs, as Calamari imports them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from steptemplates.errors import StepsError

# A module object, not its names: execution.modules imports this package in turn.
from steptemplates.execution import modules as module_files
from steptemplates.execution.languages.base import (
    ModuleFile,
    bootstrap_resource,
    require_executable,
    write_records,
)

# PowerShell's automatic variables (about_Automatic_Variables), lower case. The bootstrap
# also leaves alone any variable that already exists, which covers preference variables
# and the rest of these, but these are set per scope, so they may not exist yet.
# fmt: off
AUTOMATIC_VARIABLES = frozenset({
    "_", "args", "consolefilename", "enabledexperimentalfeatures", "error", "event",
    "eventargs", "eventsubscriber", "executioncontext", "false", "foreach", "home", "host",
    "input", "iscoreclr", "islinux", "ismacos", "iswindows", "lastexitcode", "matches",
    "myinvocation", "nestedpromptlevel", "null", "octopusparameters", "pid", "profile",
    "psboundparameters", "pscmdlet", "pscommandpath", "psculture", "psdebugcontext",
    "psedition", "pshome", "psitem", "psscriptroot", "pssenderinfo", "psuiculture",
    "psversiontable", "pwd", "sender", "shellid", "stacktrace", "switch", "this", "true",
})
# fmt: on

# .NET's char.IsLetterOrDigit: the Unicode letter categories and decimal digits.
_LETTER_OR_DIGIT = frozenset(("Lu", "Ll", "Lt", "Lm", "Lo", "Nd"))


class PowerShell:
    syntax = "powershell"
    extension = ".ps1"

    def check_available(self) -> None:
        require_executable(self.syntax, "pwsh", "install PowerShell 7")

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        if script.suffix.lower() != ".ps1":
            # pwsh runs only .ps1 files as scripts; it would open anything else as a document.
            raise StepsError(
                f"{script.name}: PowerShell scripts must be named *.ps1", hint="rename it"
            )
        values = private_dir / "variables.dat"
        write_records(values, values_records(variables, parameters))
        imports = "".join(
            f"Import-OctopusScriptModule {quote(module.name)} {quote(str(path))}\n"
            for module, path in self._write_modules(private_dir, modules)
        )
        bootstrap = private_dir / "bootstrap.ps1"
        bootstrap.write_text(
            bootstrap_resource("helpers.ps1")
            + f"\n$__OctopusArguments = @(Initialize-OctopusScript {quote(str(values))})\n"
            + imports
            + "try {\n"
            + f"    . {quote(str(script))} @__OctopusArguments\n"
            + "}\ncatch {\n    Write-OctopusError $_\n    exit 1\n}\n",
            encoding="utf-8",
        )
        # pwsh -Command turns a script's exit code other than 0 and 1 into 1 unless the
        # command itself exits with it.
        command = (
            f"try {{ . {quote(str(bootstrap))}; if (Test-Path variable:global:LASTEXITCODE)"
            " { exit $LASTEXITCODE } } catch { throw }"
        )
        return [
            "pwsh",
            "-NoLogo",
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Unrestricted",
            "-Command",
            command,
        ]

    def _write_modules(
        self, private_dir: Path, modules: Sequence[ModuleFile]
    ) -> list[tuple[ModuleFile, Path]]:
        """Write this syntax's modules as ``modules/<Name>.psm1``: the file's base name is the
        name PowerShell gives the module."""
        mine = [module for module in modules if module.syntax == self.syntax]
        if not mine:
            return []
        directory = private_dir / "modules"
        directory.mkdir()
        written = []
        for module in mine:
            path = directory / f"{module.name}.psm1"
            path.write_text(module.body, encoding="utf-8")
            written.append((module, path))
        return written


LANGUAGE = PowerShell()


def quote(text: str) -> str:
    """``text`` as a PowerShell single-quoted string, which expands nothing."""
    # PowerShell also ends a single-quoted string at the typographic single quotes.
    for mark in "'\u2018\u2019\u201a\u201b":
        text = text.replace(mark, mark * 2)
    return f"'{text}'"


def values_records(
    variables: Mapping[str, str], parameters: Sequence[str]
) -> Iterator[tuple[str, ...]]:
    """The values file's records: the variables (script modules' left out, as Calamari does),
    the script variables to declare, then the parameters, in the order the bootstrap acts."""
    visible = module_files.script_visible(variables)
    for name, value in visible.items():
        yield ("variable", name, value)
    for name in visible:
        for key in local_names(name):
            yield ("local", key, name)
    for parameter in parameters:
        yield ("parameter", parameter)


def local_names(name: str) -> list[str]:
    """The PowerShell variables Calamari declares for the variable ``name``.

    ``Octopus.Environment.Name`` becomes ``$OctopusEnvironmentName``: the name's letters,
    digits and ``_``, and also, for older scripts, its letters and digits alone. Names with
    an index (``[``) and names of automatic variables get none.
    """
    if "[" in name:
        return []
    smart = "".join(c for c in name if c == "_" or _is_letter_or_digit(c))
    legacy = smart.replace("_", "")
    keys = [legacy, smart] if legacy != smart else [smart]
    return [key for key in keys if key and key.lower() not in AUTOMATIC_VARIABLES]


def _is_letter_or_digit(char: str) -> bool:
    # .NET tests UTF-16 code units: half of a surrogate pair is neither.
    return ord(char) <= 0xFFFF and unicodedata.category(char) in _LETTER_OR_DIGIT
