"""Python scripts (``.py``): run as ``__main__`` by a bootstrap that adds Calamari's helpers.

Variable values reach the script through a JSON file that only the user can read and that
the bootstrap deletes right after loading it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

# A module object, not its names: execution.modules imports this package in turn.
from steptemplates.execution import modules as module_files
from steptemplates.execution.languages.base import (
    ModuleFile,
    bootstrap_resource,
    require_executable,
    write_private,
)


class Python:
    syntax = "python"
    extension = ".py"

    def check_available(self) -> None:
        require_executable(self.syntax, "python3", "install Python 3")

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        variables_file = private_dir / "variables.json"
        write_private(variables_file, json.dumps(dict(variables)))
        written = module_files.write_modules(script, modules, self.syntax, self.extension)
        # Importing a module must not leave a __pycache__ beside it once it is removed.
        call = f"run({str(script)!r}, {str(variables_file)!r}, keep_bytecode={not written})"
        bootstrap = private_dir / "bootstrap.py"
        bootstrap.write_text(bootstrap_resource("helpers.py") + f"\n{call}\n", encoding="utf-8")
        return ["python3", "-u", str(bootstrap), *parameters]


LANGUAGE = Python()
