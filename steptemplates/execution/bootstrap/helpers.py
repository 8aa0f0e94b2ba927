"""Helpers for python step scripts, with the names and output of Octopus Calamari's.

The python language writes this file, followed by a call to ``run``, as the bootstrap.
Importing it has no effect; it must run on any python3 >= 3.7.
"""

from __future__ import annotations

import base64
import json
import os
import runpy
import sys
import types
from typing import Any

octopusvariables: dict[str, str] = {}
octopus_parameters = types.MappingProxyType(octopusvariables)


def encode(value: object) -> str:
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def get_octopusvariable(key: str) -> str:
    return octopusvariables[key]


def set_octopusvariable(name: str, value: str, sensitive: bool = False) -> None:
    octopusvariables[name] = value
    message = "##octopus[setVariable"
    if name:
        message += f" name='{encode(name)}'"
    if value:
        message += f" value='{encode(value)}'"
    if sensitive:
        message += f" sensitive='{encode('True')}'"
    print(message + "]")


# `fileName` is Calamari's spelling, and scripts pass it by keyword.
def createartifact(path: str, fileName: str | None = None) -> None:
    print(f"Collecting {path} as an artifact...")
    path = os.path.abspath(path)
    name = os.path.basename(path) if fileName is None else fileName
    length = os.path.getsize(path) if os.path.isfile(path) else 0
    printverbose(f"Artifact {name} will be collected from {path} after this step completes")
    print(
        f"##octopus[createArtifact path='{encode(path)}' name='{encode(name)}'"
        f" length='{encode(length)}']"
    )


def updateprogress(progress: object, message: str | None = None) -> None:
    text = f"##octopus[progress percentage='{encode(progress)}'"
    if message is not None:
        text += f" message='{encode(message)}'"
    print(text + "]")


def failstep(message: str | None = None) -> None:
    if message:
        print(f"##octopus[resultMessage message='{encode(message)}']")
    sys.exit(-1)


def _print_in_mode(mode: str, message: object) -> None:
    print(f"##octopus[stdout-{mode}]")
    print(message)
    print("##octopus[stdout-default]")


def printverbose(message: object) -> None:
    _print_in_mode("verbose", message)


def printhighlight(message: object) -> None:
    _print_in_mode("highlight", message)


def printwait(message: object) -> None:
    _print_in_mode("wait", message)


def printwarning(message: object) -> None:
    _print_in_mode("warning", message)


def run(script: str, variables_file: str) -> None:
    """Load and delete the variables file, then run ``script`` as ``__main__`` with the helpers."""
    with open(variables_file, encoding="utf-8") as file:
        octopusvariables.update(json.load(file))
    os.remove(variables_file)
    sys.argv = [script, *sys.argv[1:]]
    # Imports resolve in the working directory, where Calamari puts the script and its
    # modules, rather than in the private directory holding this bootstrap.
    sys.path[0] = os.getcwd()
    script_globals: dict[str, Any] = {
        "sys": sys,
        "os": os,
        "base64": base64,
        "octopusvariables": octopusvariables,
        "octopus_parameters": octopus_parameters,
        "OctopusParameters": octopus_parameters,
        "get_octopusvariable": get_octopusvariable,
        "set_octopusvariable": set_octopusvariable,
        "createartifact": createartifact,
        "updateprogress": updateprogress,
        "failstep": failstep,
        "printverbose": printverbose,
        "printhighlight": printhighlight,
        "printwait": printwait,
        "printwarning": printwarning,
    }
    runpy.run_path(script, init_globals=script_globals, run_name="__main__")
