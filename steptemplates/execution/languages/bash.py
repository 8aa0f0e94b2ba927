"""Bash scripts (``.sh``): sourced by a bootstrap that defines Calamari's helper functions.

Variable values reach the script through a generated file of bash code that only the user
can read and that the bootstrap deletes right after sourcing it. Every name and value in
it is ANSI-C quoted (``$'...'``), so none is ever expanded, globbed or executed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

# A module object, not its names: execution.modules imports this package in turn.
from steptemplates.execution import modules as module_files
from steptemplates.execution.bootstrap.helpers import parse_path
from steptemplates.execution.languages.base import (
    ModuleFile,
    bootstrap_resource,
    require_executable,
    write_private,
)


class Bash:
    syntax = "bash"
    extension = ".sh"

    def check_available(self) -> None:
        require_executable(self.syntax, "bash", "install it")

    def prepare(
        self,
        script: Path,
        private_dir: Path,
        variables: Mapping[str, str],
        parameters: Sequence[str],
        modules: Sequence[ModuleFile] = (),
    ) -> list[str]:
        source = _with_lf_endings(script, private_dir)
        helpers = private_dir / "helpers.sh"
        helpers.write_text(bootstrap_resource("helpers.sh"), encoding="utf-8")
        variables_file = private_dir / "variables.sh"
        write_private(variables_file, variables_script(variables))
        # Calamari leaves sourcing a module to the script; autoload ones are sourced here.
        written = module_files.write_modules(
            script, modules, self.syntax, self.extension, _lf_endings
        )
        autoloaded = [path for module, path in written if module.autoload]
        bootstrap = private_dir / "bootstrap.sh"
        bootstrap.write_text(
            f"source {quote(str(helpers))}\n"
            f"source {quote(str(variables_file))}\n"
            f"rm -f -- {quote(str(variables_file))}\n"
            + "".join(f"source {quote(str(path))}\n" for path in autoloaded)
            # With no arguments, source passes on the bootstrap's own: the parameters.
            + f"source {quote(str(source))}\n",
            encoding="utf-8",
        )
        # `bash -c` makes $0 the script's own path, so `dirname "$0"` finds the files next
        # to it, as when the script is run directly.
        command = f"source {quote(str(bootstrap))}"
        return ["bash", "--noprofile", "--norc", "-c", command, str(script), *parameters]


LANGUAGE = Bash()


def quote(text: str) -> str:
    """``text`` as a bash ANSI-C quoted word that stands for exactly its UTF-8 bytes."""
    # Bash strings end at NUL; Calamari's scripts lose NULs the same way.
    parts = ["$'"]
    for byte in text.replace("\0", "").encode("utf-8"):
        if byte in b"\\'":
            parts.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            parts.append(chr(byte))
        else:
            parts.append(f"\\{byte:03o}")
    parts.append("'")
    return "".join(parts)


def variables_script(variables: Mapping[str, str]) -> str:
    """Bash code defining the variable lookups and, on bash 4+, ``octopus_parameters``."""
    # Associative arrays arrived in bash 4; macOS still ships 3.2, which gets a `case`.
    lines = ['if [ "${BASH_VERSINFO[0]}" -ge 4 ]; then', "    declare -A octopus_parameters"]
    # An empty subscript is an error in bash, so an unnamed variable stays out of the array.
    lines += [f"    octopus_parameters[{quote(n)}]={quote(v)}" for n, v in variables.items() if n]
    # A hash lookup: the `case` below tries every name in turn, milliseconds per call at
    # thousands of variables.
    lines += ["    get_octopusvariable() {", '        if [ -n "${1:-}" ]; then']
    lines += ["            printf '%s' \"${octopus_parameters[$1]-}\""]
    if "" in variables:
        lines += ["        else", f"            printf '%s' {quote(variables[''])}"]
    lines += ["        fi", "    }", "else"]
    lines += ["    get_octopusvariable() {", '        case "${1:-}" in']
    # Quoted case patterns match literally, so `*` or `[` in a name is no pattern.
    lines += [f"        {quote(n)}) printf '%s' {quote(v)} ;;" for n, v in variables.items()]
    lines += ["        esac", "    }", "fi"]
    lines += _collection_indexes_function(variables)
    return "\n".join(lines) + "\n"


def _collection_indexes_function(variables: Mapping[str, str]) -> list[str]:
    """``_octopus_collection_indexes PATH``: the index keys under PATH, one a line.

    The caller sets `nocasematch` and spells PATH as ``_spell`` does (helpers.sh's
    ``_octopus_normalize_path``).
    """
    lines = ["_octopus_collection_indexes() {", '    case "${1:-}" in']
    for path, keys in collection_indexes(variables).items():
        arguments = " ".join(quote(key) for key in keys)
        lines.append(f"    {quote(path)}) printf '%s\\n' {arguments} ;;")
    lines += ["    esac", "}"]
    return lines


def collection_indexes(names: Iterable[str]) -> dict[str, list[str]]:
    """Each collection's case-folded path (``site``) -> its index keys, first seen first.

    Reading every name in bash would cost seconds at thousands of variables, so the names
    are read here, by the python bootstrap's own parser.
    """
    collections: dict[str, dict[str, str]] = {}
    for name in names:
        steps = parse_path(name) if "[" in name else None
        if steps is None:
            continue
        for position, (is_index, key) in enumerate(steps):
            if is_index:
                parent = _spell(steps[:position]).casefold()
                collections.setdefault(parent, {}).setdefault(key.casefold(), key)
    return {path: list(keys.values()) for path, keys in collections.items()}


def _spell(steps: Sequence[tuple[bool, str]]) -> str:
    """A parsed path written back without the whitespace the parser dropped."""
    return "".join(
        f"[{text}]" if is_index else f".{text}" if position else text
        for position, (is_index, text) in enumerate(steps)
    )


def _lf_endings(text: str) -> str:
    return text.replace("\r\n", "\n")


def _with_lf_endings(script: Path, private_dir: Path) -> Path:
    """The script, or an LF copy of it if it has CRLF endings, which bash would choke on.

    Calamari converts the file in place; a copy leaves a file the user may own untouched.
    """
    content = script.read_bytes()
    if b"\r\n" not in content:
        return script
    copy = private_dir / "script.sh"
    copy.write_bytes(content.replace(b"\r\n", b"\n"))
    return copy
