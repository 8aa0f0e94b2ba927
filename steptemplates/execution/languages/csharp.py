"""C# scripts (``.csx``), run by ``dotnet-script``: ``#load``ed after a file that defines
Calamari's static ``Octopus`` class.

Variable values reach that class through the values file (base.py) that only the user can
read and that it deletes as soon as it has read it; the generated files hold nothing but
paths. The script's parameters are its ``Args``. Script modules of this syntax are written
beside the script as ``<Name>.csx``, for the script to ``#load``, as Calamari writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

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


class CSharp:
    syntax = "csharp"
    extension = ".csx"

    def check_available(self) -> None:
        require_executable(
            self.syntax,
            "dotnet-script",
            "install it with `dotnet tool install --global dotnet-script`",
        )

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        values = private_dir / "variables.dat"
        configure = private_dir / "configure.csx"
        # Strings in C# directives have no escapes: these paths go in as they are.
        loads = [load_directive_path(path, self.syntax) for path in (configure, script)]
        write_records(values, (("variable", name, value) for name, value in variables.items()))
        call = f"Octopus.Load({verbatim_string(str(values))});"
        configure.write_text(bootstrap_resource("helpers.csx") + f"\n{call}\n", encoding="utf-8")
        bootstrap = private_dir / "bootstrap.csx"
        # Loaded files run in order, so the variables are there before the script starts.
        bootstrap.write_text("".join(f'#load "{path}"\n' for path in loads), encoding="utf-8")
        module_files.write_modules(script, modules, self.syntax, self.extension)
        # Everything after `--` is the script's Args, options included.
        return ["dotnet-script", str(bootstrap), "--", *parameters]


LANGUAGE = CSharp()
