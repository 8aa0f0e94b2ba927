"""Helpers for python step scripts, with the names and output of Octopus Calamari's.

The python language writes this file, followed by a call to ``run``, as the bootstrap.
Importing it has no effect; it must run on any python3 >= 3.7. The bash language imports
``parse_path`` from it too, so both languages read variable names the same way.
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


def get_octopusvariable_indexes(name: str) -> list[str]:
    """The index keys directly under ``name`` (``Site`` in ``Site[App1].Url``), first seen first."""
    return [spelling for spelling, _ in _collection(name).values()]


def get_octopusvariable_collection(name: str) -> dict[str, Any]:
    """The collection under ``name`` as new nested dicts, one per index key.

    Each step of a name below the key becomes a dict key (``Site[App1].Db.Host`` is
    ``{"App1": {"Db": {"Host": value}}}``). A node that has children and a value of its own
    keeps that value under the key ``""``, unless a child is named ``""`` (an empty index).
    """
    return {spelling: _plain(node) for spelling, node in _collection(name).values()}


class _Node:
    def __init__(self) -> None:
        self.value: str | None = None
        # Case-folded step text -> (first spelling, child): names are case-insensitive.
        self.children: dict[str, tuple[str, _Node]] = {}


def _collection(name: str) -> dict[str, tuple[str, _Node]]:
    """The index children of the node ``name`` names, built afresh from the variables."""
    wanted = parse_path(name)
    items = _Node()
    if wanted is None:
        return items.children
    wanted_key = [(is_index, text.casefold()) for is_index, text in wanted]
    depth = len(wanted)
    for variable, value in octopusvariables.items():
        # Only a name with an index can be in a collection; this skips most names cheaply.
        steps = _cached_path(variable) if "[" in variable else None
        if steps is None or len(steps) <= depth or not steps[depth][0]:
            continue
        if [(is_index, text.casefold()) for is_index, text in steps[:depth]] != wanted_key:
            continue
        node = items
        for _, text in steps[depth:]:
            node = node.children.setdefault(text.casefold(), (text, _Node()))[1]
        # A later name for the same path wins, as in Octostache.
        node.value = value
    return items.children


def _plain(node: _Node) -> Any:
    if not node.children:
        return node.value or ""
    plain: dict[str, Any] = {} if node.value is None else {"": node.value}
    for spelling, child in node.children.values():
        plain[spelling] = _plain(child)
    return plain


_paths: dict[str, list[tuple[bool, str]] | None] = {}


def _cached_path(name: str) -> list[tuple[bool, str]] | None:
    if name not in _paths:
        _paths[name] = parse_path(name)
    return _paths[name]


def parse_path(name: str) -> list[tuple[bool, str]] | None:
    """``name`` as Octostache reads a variable name: ``Ident(.Ident|[Index])*``, else None.

    Each step is ``(is_index, text)``. Identifiers are letters, digits, whitespace and
    ``_-:/~()@``, trimmed. An index is the literal text between brackets, which may hold
    balanced brackets (``Package[containers[0].container]``) or nothing (``[]``).
    """
    steps: list[tuple[bool, str]] = []
    position = 0
    while True:
        end = position
        while end < len(name) and _is_identifier_char(name, end):
            end += 1
        if end == position:
            return None
        steps.append((False, name[position:end].strip()))
        position = end
        while position < len(name) and name[position] == "[":
            close = _closing_bracket(name, position)
            if close is None:
                return None
            steps.append((True, name[position + 1 : close]))
            position = close + 1
        if position == len(name):
            return steps
        if name[position] != ".":
            return None
        position += 1


def _is_identifier_char(name: str, position: int) -> bool:
    char = name[position]
    if char.isspace():
        # Octostache ends an identifier at whitespace before `in `, the keyword of #{each}.
        keyword = name.startswith("in", position + 1) and name[position + 3 : position + 4]
        return not (keyword and keyword.isspace())
    # .NET's char.IsLetter and char.IsDigit are Python's isalpha and isdecimal.
    return char.isalpha() or char.isdecimal() or char in "_-:/~()@"


def _closing_bracket(name: str, start: int) -> int | None:
    """The position of the `]` that closes the `[` at ``name[start]``."""
    depth = 0
    for position in range(start, len(name)):
        if name[position] == "[":
            depth += 1
        elif name[position] == "]":
            depth -= 1
            if depth == 0:
                return position
    return None


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


def run(script: str, variables_file: str, keep_bytecode: bool = True) -> None:
    """Load and delete the variables file, then run ``script`` as ``__main__`` with the helpers.

    ``keep_bytecode=False`` stops imports writing ``__pycache__`` directories.
    """
    with open(variables_file, encoding="utf-8") as file:
        octopusvariables.update(json.load(file))
    os.remove(variables_file)
    sys.argv = [script, *sys.argv[1:]]
    if not keep_bytecode:
        sys.dont_write_bytecode = True
    # Imports resolve in the working directory, where Calamari puts the script and its
    # modules, and beside the script, rather than in the private directory holding this
    # bootstrap.
    sys.path[0] = os.getcwd()
    script_directory = os.path.dirname(os.path.abspath(script))
    if script_directory != sys.path[0]:
        sys.path.insert(1, script_directory)
    script_globals: dict[str, Any] = {
        "sys": sys,
        "os": os,
        "base64": base64,
        "octopusvariables": octopusvariables,
        "octopus_parameters": octopus_parameters,
        "OctopusParameters": octopus_parameters,
        "get_octopusvariable": get_octopusvariable,
        "get_octopusvariable_indexes": get_octopusvariable_indexes,
        "get_octopusvariable_collection": get_octopusvariable_collection,
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
