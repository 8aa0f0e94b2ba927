"""Running one step script: bootstrap, process, and the meaning of its output."""

from __future__ import annotations

import enum
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from steptemplates.console import Console, Level
from steptemplates.execution.languages import Language, get_language
from steptemplates.execution.languages.base import ModuleFile
from steptemplates.execution.modules import module_file
from steptemplates.execution.process import Ending, run_process
from steptemplates.execution.service_messages import ServiceMessage, parse_message


@dataclass(frozen=True)
class ScriptRequest:
    syntax: str
    script: Path  # the script file, already substituted; normally inside workdir
    workdir: Path  # the process's working directory; exists
    variables: Mapping[str, str]  # final values, names as spelled
    parameters: Sequence[str] = ()
    timeout: float | None = None
    # Script modules, bodies substituted; the script's language writes those of its syntax.
    modules: Sequence[ModuleFile] = ()


@dataclass(frozen=True)
class OutputVariable:
    name: str
    value: str
    sensitive: bool


@dataclass(frozen=True)
class ArtifactRequest:
    """A file the script asked to keep; ``name`` comes from the script and is untrusted."""

    path: Path
    name: str
    length: int | None


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class ScriptResult:
    outcome: Outcome
    exit_code: int | None  # None when the script was stopped (timed out, interrupted)
    output_variables: tuple[OutputVariable, ...]
    artifacts: tuple[ArtifactRequest, ...]
    result_message: str | None
    # Any non-blank stderr line other than a service message, as Calamari counts it for
    # Octopus.Action.FailScriptOnErrorOutput.
    error_output: bool = False


def run_script(request: ScriptRequest, console: Console) -> ScriptResult:
    """Run the script, showing its output on ``console``; bootstrap files never outlive it."""
    language = get_language(request.syntax)
    language.check_available()
    output = _ScriptOutput(console, request.workdir.absolute())
    script = request.script.absolute()
    # Calamari deletes module files after the script; only those prepare created go.
    before = _module_files(script, request.modules, language)
    created: set[Path] = set()
    try:
        with tempfile.TemporaryDirectory(prefix="steps-") as private_dir:
            try:
                argv = language.prepare(
                    script, Path(private_dir), request.variables, request.parameters,
                    request.modules,
                )  # fmt: skip
            finally:
                created = _module_files(script, request.modules, language) - before
            result = run_process(
                argv, request.workdir, output.stdout, output.stderr, request.timeout
            )
    finally:
        for path in created:
            path.unlink(missing_ok=True)
    if result.output_cut_off and result.ending is Ending.EXITED:
        console.line(
            Level.VERBOSE,
            "a background process still holds the script's output open; its output is not shown",
        )
    return ScriptResult(
        outcome=_outcome(result.ending, result.exit_code),
        exit_code=result.exit_code,
        output_variables=tuple(output.variables.values()),
        artifacts=tuple(output.artifacts),
        result_message=output.result_message,
        error_output=output.error_output,
    )


def _module_files(script: Path, modules: Sequence[ModuleFile], language: Language) -> set[Path]:
    """The module files of the script's syntax that exist beside it now."""
    paths = (module_file(script, m, language.extension) for m in modules
             if m.syntax == language.syntax)  # fmt: skip
    return {path for path in paths if path.is_symlink() or path.exists()}


def _outcome(ending: Ending, exit_code: int | None) -> Outcome:
    if ending is Ending.TIMED_OUT:
        return Outcome.TIMED_OUT
    if ending is Ending.INTERRUPTED:
        return Outcome.INTERRUPTED
    return Outcome.SUCCEEDED if exit_code == 0 else Outcome.FAILED


# None: the lines are discarded.
_STDOUT_MODES: dict[str, Level | None] = {
    "stdout-default": Level.INFO,
    "stdout-verbose": Level.VERBOSE,
    "stdout-warning": Level.WARNING,
    "stdout-highlight": Level.HIGHLIGHT,
    "stdout-wait": Level.WAIT,
    "stdout-error": Level.ERROR,
    "stdout-ignore": None,
}
_STDERR_MODES: dict[str, Level | None] = {
    "stderr-default": Level.ERROR,
    "stderr-error": Level.ERROR,
    "stderr-progress": Level.VERBOSE,
    "stderr-ignore": None,
}


class _ScriptOutput:
    """Shows the script's lines at their current level and acts on its service messages."""

    def __init__(self, console: Console, workdir: Path) -> None:
        self._console = console
        self._workdir = workdir
        self._stdout_level: Level | None = Level.INFO
        self._stderr_level: Level | None = Level.ERROR
        self.variables: dict[str, OutputVariable] = {}
        self.artifacts: list[ArtifactRequest] = []
        self.result_message: str | None = None
        self.error_output = False

    def stdout(self, line: str) -> None:
        message = parse_message(line)
        if message is None:
            self._show(self._stdout_level, line)
        else:
            self._handle(message)

    def stderr(self, line: str) -> None:
        if line.strip() and not line.startswith("##octopus"):
            self.error_output = True
        self._show(self._stderr_level, line)

    def _show(self, level: Level | None, text: str) -> None:
        if level is not None:
            self._console.line(level, text)

    def _handle(self, message: ServiceMessage) -> None:
        name, attributes = message.name, message.attributes
        if name in _STDOUT_MODES:
            self._stdout_level = _STDOUT_MODES[name]
        elif name in _STDERR_MODES:
            self._stderr_level = _STDERR_MODES[name]
        elif name == "setVariable":
            self._set_variable(attributes)
        elif name == "createArtifact":
            self._create_artifact(attributes)
        elif name == "resultMessage":
            self.result_message = attributes.get("message", "")
        elif name == "progress":
            text = f"progress: {attributes.get('percentage', '')}% {attributes.get('message', '')}"
            self._console.line(Level.INFO, text.rstrip())
        elif name == "mask":
            self._console.masker.add(attributes.get("value", ""))
        else:
            self._console.line(Level.VERBOSE, f"service message {name!r} is not supported; ignored")

    def _set_variable(self, attributes: Mapping[str, str]) -> None:
        name = attributes.get("name", "")
        if not name.strip():
            self._console.line(Level.VERBOSE, "setVariable without a name ignored")
            return
        value = attributes.get("value", "")
        # Calamari reads the flag with .NET's bool.TryParse.
        sensitive = attributes.get("sensitive", "").strip().lower() == "true"
        if sensitive:
            # At once: the script's next line may print the value.
            self._console.masker.add(value)
        self.variables[name] = OutputVariable(name, value, sensitive)
        self._console.line(Level.VERBOSE, f"output variable {name} set")

    def _create_artifact(self, attributes: Mapping[str, str]) -> None:
        path = attributes.get("path", "")
        if not path:
            self._console.line(Level.VERBOSE, "createArtifact without a path ignored")
            return
        resolved = self._workdir / path
        name = attributes.get("name") or resolved.name
        length = attributes.get("length", "")
        self.artifacts.append(
            ArtifactRequest(resolved, name, int(length) if _is_count(length) else None)
        )
        self._console.line(Level.VERBOSE, f"artifact {name} requested from {resolved}")


def _is_count(text: str) -> bool:
    return text.isascii() and text.isdigit()
