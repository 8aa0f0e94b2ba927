"""``steps render``: the variable engine as a tool, substituting a file or stdin.

The same variables and the same engine as ``steps run``: a file rendered here is exactly what
a step would see. The input's encoding, byte-order mark and line endings are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from steptemplates import encodings, fsutil, manifest, variable_sources
from steptemplates.console import Console
from steptemplates.errors import StepsError
from steptemplates.variables import scoping
from steptemplates.variables.collection import Variable, VariableSet
from steptemplates.variables.engine import Evaluator, UnresolvedVariablesError


@dataclass(frozen=True)
class RenderRequest:
    data: bytes
    source: str  # the file name, or "<stdin>", for messages
    variables_files: Sequence[Path] = ()
    overrides: Sequence[tuple[str, str]] = ()
    context: scoping.Context = field(default_factory=scoping.Context)
    strict: bool = False
    use_project: bool = True
    directory: Path | None = None  # where to look for steps.toml (default: the current one)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StepsError(f"{path}: no such file") from None
    except OSError as error:
        raise StepsError(f"{path}: cannot read it ({error.strerror})") from None


def render(request: RenderRequest, console: Console) -> bytes:
    """The rendered text, encoded like the input."""
    found = _manifest(request) if request.use_project else None
    gathered = variable_sources.gather(
        found,
        files=request.variables_files,
        overrides=request.overrides,
        context=request.context,
    )
    for value in gathered.sensitive_values():
        console.masker.add(value)
    decoded = encodings.decode(request.data)
    result = Evaluator(_variables(gathered, found)).evaluate(decoded.text, source=request.source)
    if result.unresolved:
        if request.strict:
            raise UnresolvedVariablesError(request.source, result.unresolved)
        if not console.quiet:  # -q: the text is left as written all the same
            for unresolved in result.unresolved:
                console.warning(f"unresolved: {unresolved.describe()}; left as written")
    text = result.text or ""
    try:
        return decoded.encode(text)
    except UnicodeEncodeError:
        console.warning(
            f"{request.source}: the result cannot be written as {decoded.encoding}; "
            "writing UTF-8 instead"
        )
        return text.encode("utf-8")


def write_output(path: Path, data: bytes) -> None:
    fsutil.write_bytes_atomic(path, data)


def _manifest(request: RenderRequest) -> manifest.Manifest | None:
    start = request.directory or Path.cwd()
    try:
        path = manifest.find(start)
    except StepsError:
        return None  # outside a project: files and -v only
    return manifest.load(path)


def _variables(
    gathered: variable_sources.VariableInputs, found: manifest.Manifest | None
) -> VariableSet:
    context = gathered.context
    system = scoping.context_variables(context, found.project_name if found else "")
    variables = VariableSet(Variable(name, value) for name, value in system.items())
    for layer in scoping.select_layers([gathered.project, gathered.files], context):
        variables.update(layer)
    variables.update(gathered.overrides)
    return variables
