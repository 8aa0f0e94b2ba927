"""Which scripts a package deployment runs at a stage, found by Calamari's rules.

Packaged scripts: files named ``<Stage>.<ext>`` at the top of the package (the stage name
compared case-insensitively). When several languages are present exactly one runs: the
first, in the platform's order of preference, whose interpreter is installed (on Linux and
macOS: Bash, Python, C#, PowerShell, F#; on Windows: PowerShell, Python, C#, Bash, F#).

Configured scripts: the values of ``Octopus.Action.CustomScripts.<Stage>.<ext>`` (Octopus's
"custom deployment scripts" feature), all of those present, in the order ps1, csx, sh, py.
steps accepts the same variables for the hook stages as well (``AfterSubstituteInFiles``...).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from steptemplates.errors import StepsError
from steptemplates.execution.languages import get_language, syntax_for_extension

CUSTOM_SCRIPTS_PREFIX = "Octopus.Action.CustomScripts."
_CONFIGURED_ORDER = (".ps1", ".csx", ".sh", ".py")
_PREFERENCE_POSIX = (".sh", ".py", ".csx", ".ps1", ".fsx")
_PREFERENCE_WINDOWS = (".ps1", ".py", ".csx", ".sh", ".fsx")


@dataclass(frozen=True)
class StageScript:
    path: Path
    syntax: str
    configured: bool  # written from a variable (deleted afterwards) rather than packaged


def preference() -> tuple[str, ...]:
    return _PREFERENCE_WINDOWS if sys.platform == "win32" else _PREFERENCE_POSIX


def packaged_candidates(directory: Path, stage: str) -> list[Path]:
    """Every ``<stage>.<ext>`` file at the top of ``directory`` with a script extension."""
    if not directory.is_dir():
        return []
    wanted = stage.casefold()
    found = []
    for entry in os.scandir(directory):
        stem, dot, extension = entry.name.rpartition(".")
        is_script = dot and f".{extension.lower()}" in _PREFERENCE_POSIX
        if is_script and stem.casefold() == wanted and entry.is_file():
            found.append(Path(entry.path))
    return sorted(found)


def choose_packaged(candidates: list[Path], stage: str) -> StageScript | None:
    """The one packaged script that runs, or None when there is none.

    StepsError when scripts exist but none of their interpreters is installed: skipping the
    stage silently would deploy without the team's PreDeploy checks.
    """
    if not candidates:
        return None
    by_extension = {path.suffix.lower(): path for path in candidates}
    problems = []
    for extension in preference():
        path = by_extension.get(extension)
        if path is None:
            continue
        syntax = syntax_for_extension(extension)
        if syntax is None:
            continue
        try:
            get_language(syntax).check_available()
        except StepsError as error:
            problems.append(f"{path.name}: {error}")
            continue
        return StageScript(path, syntax, configured=False)
    names = ", ".join(p.name for p in candidates)
    raise StepsError(
        f"{stage}: the package has {names}, but none of them can run here ({'; '.join(problems)})",
        hint="add a Bash or Python version of the script, or install its interpreter",
    )


def configured_scripts(
    variables: Mapping[str, str], stage: str, directory: Path
) -> list[tuple[Path, str, str]]:
    """(file to write, syntax, body) for each non-blank custom script of ``stage``."""
    folded = {name.casefold(): value for name, value in variables.items()}
    scripts = []
    for extension in _CONFIGURED_ORDER:
        name = f"{CUSTOM_SCRIPTS_PREFIX}{stage}{extension}"
        body = folded.get(name.casefold(), "")
        if body.strip():
            syntax = syntax_for_extension(extension)
            assert syntax is not None
            scripts.append((directory / name, syntax, body))
    return scripts


def write_configured(path: Path, syntax: str, body: str) -> None:
    """Bash without a byte-order mark (bash would run it as a command), others with one."""
    bom = "" if syntax == "bash" else "\ufeff"
    if syntax == "python":
        bom = ""  # python3 accepts a BOM, but a shebang line after one is ignored; keep none
    path.write_text(bom + body.replace("\r\n", "\n"), encoding="utf-8", newline="\n")
