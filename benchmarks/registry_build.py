"""`steps registry build` over 600 Octopus-format templates in a local git repository.

The repository is laid out like Octopus's community library: `step-templates/*.json`, one
ActionTemplate each (parameters of every common control type, a script of a few dozen lines
in Bash, PowerShell or Python, `$Meta`, a logo-sized `Packages` list), built up over a few
commits and never tagged, so every template follows the branch. The registry reads it
through a file:// URL. Cold runs start from an empty cache (the mirror is filled by the
build); warm runs keep the cache, once with the index already current and once without it.

    python3 benchmarks/registry_build.py [--templates N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
import uuid
from pathlib import Path

import harness
from harness import Figure

NAME = "registry build"
CATEGORIES = ("azure", "aws", "iis", "sql-server", "kubernetes", "notifications", "files", "http")
SYNTAXES = ("Bash", "PowerShell", "Python")
CONTROLS = (
    ("SingleLineText", "text"),
    ("MultiLineText", "lines\nof text"),
    ("Checkbox", "False"),
    ("Select", "normal"),
    ("Sensitive", ""),
    ("Package", ""),
)


def _script(syntax: str, name: str, lines: int) -> str:
    if syntax == "PowerShell":
        body = [f'Write-Host "{name}: step {i}"' for i in range(lines)]
        return "$ErrorActionPreference = 'Stop'\n" + "\n".join(body) + "\n"
    if syntax == "Python":
        body = [f'print("{name}: step {i}")' for i in range(lines)]
        return "import sys\n" + "\n".join(body) + "\n"
    body = [f'echo "{name}: step {i}"' for i in range(lines)]
    return "set -euo pipefail\n" + "\n".join(body) + "\n"


def action_template(number: int, revision: int) -> dict[str, object]:
    """An ActionTemplate as Octopus exports them, varied by ``number``."""
    name = f"Library Step {number:04d}"
    syntax = SYNTAXES[number % len(SYNTAXES)]
    parameters = []
    for index in range(3 + number % 6):
        control, default = CONTROLS[(number + index) % len(CONTROLS)]
        settings = {"Octopus.ControlType": control}
        if control == "Select":
            settings["Octopus.SelectOptions"] = "normal|Normal\nfast|Fast\nsafe|Safe"
        parameters.append(
            {
                "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{number}/{index}")),
                "Name": f"Step{number}.Parameter{index}",
                "Label": f"Parameter {index}",
                "HelpText": f"What parameter {index} of step {number} does, in a sentence or two.",
                "DefaultValue": default,
                "DisplaySettings": settings,
            }
        )
    return {
        "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, str(number))),
        "Name": name,
        "Description": f"{name}: does one deployment job well (revision {revision}).",
        "ActionType": "Octopus.Script",
        "Version": revision,
        "CommunityActionTemplateId": None,
        "Packages": [],
        "Properties": {
            "Octopus.Action.Script.ScriptSource": "Inline",
            "Octopus.Action.Script.Syntax": syntax,
            "Octopus.Action.Script.ScriptBody": _script(syntax, name, 20 + number % 40),
            "Octopus.Action.RunOnServer": "false",
        },
        "Parameters": parameters,
        "LastModifiedBy": "library-bot",
        "$Meta": {
            "ExportedAt": "2026-01-01T00:00:00.000Z",
            "OctopusVersion": "2025.1.0",
            "Type": "ActionTemplate",
        },
        "Category": CATEGORIES[number % len(CATEGORIES)],
    }


def build_library(path: Path, templates: int) -> None:
    """The library: a first batch, a second, then a revision of every tenth template."""
    repo = harness.make_repo(path, branch="master")
    repo.write("README.md", "Community step templates\n")

    def write(number: int, revision: int) -> None:
        data = json.dumps(action_template(number, revision), indent=2)
        repo.write(f"step-templates/library-step-{number:04d}.json", data + "\n")

    first = templates * 2 // 3
    for number in range(first):
        write(number, 1)
    repo.commit("first batch")
    for number in range(first, templates):
        write(number, 1)
    repo.commit("second batch")
    for number in range(0, templates, 10):
        write(number, 2)
    repo.commit("revisions")


def _registry(directory: Path, library: Path) -> None:
    directory.mkdir()
    (directory / "registry.toml").write_text(
        'name = "library"\n\n[[collection]]\n'
        f'git = "{library.as_uri()}"\n'
        'include = ["step-templates/*.json"]\nbranch = "master"\n',
        encoding="utf-8",
    )


def run(templates: int = 600, runs: int = 3) -> list[Figure]:
    harness.heading(f"{NAME}: {templates} Octopus JSON templates in a local git repository")
    steps = harness.steps_command()
    with harness.scratch("registry-build") as tmp:
        started = time.perf_counter()
        build_library(tmp / "library", templates)
        harness.report("built the library", f"{time.perf_counter() - started:.1f} s, 3 commits")
        registry = tmp / "registry"
        _registry(registry, tmp / "library")
        command = [*steps, "registry", "build", str(registry)]
        # Untimed: fills the bytecode cache, so no run pays for compiling modules.
        harness.run_timed(command, cwd=tmp, env=harness.environment(tmp, tmp / "warm-up"))
        cold = []
        for number in range(runs):
            (registry / "index.toml").unlink()
            env = harness.environment(tmp, tmp / f"cache-{number}")
            cold.append(harness.run_timed(command, cwd=tmp, env=env).seconds)
        env = harness.environment(tmp, tmp / "cache-0")
        current = [harness.run_timed(command, cwd=tmp, env=env).seconds for _ in range(runs)]
        rebuilt = []
        for _ in range(runs):
            (registry / "index.toml").unlink()
            rebuilt.append(harness.run_timed(command, cwd=tmp, env=env).seconds)
        entries = (registry / "index.toml").read_text(encoding="utf-8").count("[[template]]")
        harness.report("command", harness.describe_command(command))
        harness.report("templates in the index", str(entries))
        harness.report("cold (empty cache)", harness.spread(cold))
        harness.report("warm, index current", harness.spread(current))
        harness.report("warm, index removed", harness.spread(rebuilt))
        for number in range(runs):
            shutil.rmtree(tmp / f"cache-{number}", ignore_errors=True)
    return [
        Figure(NAME, f"{templates} Octopus templates, cold cache", statistics.median(cold), "s"),
        Figure(NAME, "warm cache, index current", statistics.median(current), "s"),
        Figure(NAME, "warm cache, index removed", statistics.median(rebuilt), "s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--templates", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    harness.print_table(run(args.templates, args.runs))


if __name__ == "__main__":
    main()
