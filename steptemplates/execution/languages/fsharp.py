"""F# scripts (``.fsx``), run by ``dotnet fsi`` from the .NET SDK: ``#load``ed after a file
that defines Calamari's ``Octopus`` module.

Variable values and the script's parameters reach that module through the values file
(base.py) that only the user can read and that it deletes as soon as it has read it; the
generated files hold nothing but paths. The parameters become ``fsi.CommandLineArgs``
after the script's path: fsi would rewrite some of them (``-r x`` to ``-r:x``) if they
were passed on its command line. Script modules of this syntax are written beside the
script as ``<Name>.fsx``, for the script to ``#load``, as Calamari writes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from steptemplates.errors import StepsError

# A module object, not its names: execution.modules imports this package in turn.
from steptemplates.execution import modules as module_files
from steptemplates.execution.languages.base import (
    ModuleFile,
    bootstrap_resource,
    load_directive_path,
    require_executable,
    verbatim_string,
    write_records,
)


class FSharp:
    syntax = "fsharp"
    extension = ".fsx"

    def check_available(self) -> None:
        require_executable(self.syntax, "dotnet", "install the .NET SDK")

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        if script.suffix.lower() != ".fsx":
            # fsi loads a file by its extension, and takes nothing else for a script.
            raise StepsError(f"{script.name}: F# scripts must be named *.fsx", hint="rename it")
        values = private_dir / "variables.dat"
        configure = private_dir / "configure.fsx"
        loads = [load_directive_path(path, self.syntax) for path in (configure, script)]
        write_records(values, values_records(variables, parameters))
        call = f"load {verbatim_string(str(values))} {verbatim_string(str(script))}"
        configure.write_text(bootstrap_resource("helpers.fsx") + f"\n{call}\n", encoding="utf-8")
        bootstrap = private_dir / "bootstrap.fsx"
        # Verbatim strings keep a Windows path's backslashes; loaded files run in order, so
        # the variables are there before the script starts.
        bootstrap.write_text("".join(f'#load @"{path}"\n' for path in loads), encoding="utf-8")
        module_files.write_modules(script, modules, self.syntax, self.extension)
        return ["dotnet", "fsi", str(bootstrap)]


LANGUAGE = FSharp()


def values_records(
    variables: Mapping[str, str], parameters: Sequence[str]
) -> Iterator[tuple[str, ...]]:
    """The values file's records: every variable, then the parameters in order."""
    for name, value in variables.items():
        yield ("variable", name, value)
    for parameter in parameters:
        yield ("parameter", parameter)
