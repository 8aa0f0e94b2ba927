"""What changed between two versions of a template or script module, as a reviewer reads it:
parameters added, removed and changed, and unified diffs of the files it runs. Plain
functions over loaded templates; ``updates`` prints them for `steps update`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from steptemplates.execution.languages import get_language
from steptemplates.masking import MASK
from steptemplates.sources import Loaded
from steptemplates.templates import Parameter, ScriptModule


@dataclass(frozen=True)
class ParameterChange:
    """A parameter added, removed or changed between two versions of a template."""

    change: str  # "added", "removed" or "changed"
    name: str
    details: tuple[str, ...] = ()  # what changed, or (added, removed) what it is
    # For an added parameter: the removed one it looks renamed from, and why.
    renamed_from: tuple[str, str] | None = None

    def describe(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.change]
        text = f"{sign} {self.name}"
        if self.details:
            text += (": " if self.change == "changed" else " (") + ", ".join(self.details)
            text += "" if self.change == "changed" else ")"
        if self.renamed_from is not None:
            text += f" (looks renamed from {self.renamed_from[0]}: {self.renamed_from[1]})"
        return text


@dataclass(frozen=True)
class FileDiff:
    path: str  # inside the template, as the diff names it
    lines: tuple[str, ...]  # the unified diff (or one line saying binary files differ)


def parameter_changes(
    old: Sequence[Parameter], new: Sequence[Parameter]
) -> tuple[ParameterChange, ...]:
    """Parameters added, removed and changed (type, label, required, options, default),
    matched by name as Octopus does (ignoring case). A removed and an added parameter with
    the same label or default are said to look renamed."""
    before = {p.name.casefold(): p for p in old}
    after = {p.name.casefold(): p for p in new}
    removed = [p for key, p in before.items() if key not in after]
    changes: list[ParameterChange] = []
    for key, parameter in after.items():
        was = before.get(key)
        if was is None:
            continue
        details = _differences(was, parameter)
        if details:
            changes.append(ParameterChange("changed", parameter.name, details))
    for parameter in removed:
        changes.append(ParameterChange("removed", parameter.name, _summary(parameter)))
    unmatched = list(removed)
    for key, parameter in after.items():
        if key in before:
            continue
        renamed = _looks_renamed(parameter, unmatched)
        if renamed is not None:
            unmatched = [p for p in unmatched if p.name != renamed[0]]
        changes.append(ParameterChange("added", parameter.name, _summary(parameter), renamed))
    return tuple(changes)


def _differences(old: Parameter, new: Parameter) -> tuple[str, ...]:
    details = []
    if old.type != new.type:
        details.append(f"type {old.type.value} -> {new.type.value}")
    if old.label != new.label:
        details.append(f"label {_quoted(old.label)} -> {_quoted(new.label)}")
    if old.required != new.required:
        details.append("now required" if new.required else "no longer required")
    if old.options != new.options:
        details.append(f"options {_options(old)} -> {_options(new)}")
    if old.default != new.default:
        masked = old.sensitive or new.sensitive
        details.append(f"default {_default(old, masked)} -> {_default(new, masked)}")
    return tuple(details)


def _summary(parameter: Parameter) -> tuple[str, ...]:
    shown = [parameter.type.value]
    if parameter.required:
        shown.append("required")
    if parameter.default is not None:
        shown.append(f"default {_default(parameter, parameter.sensitive)}")
    return tuple(shown)


def _looks_renamed(added: Parameter, removed: Sequence[Parameter]) -> tuple[str, str] | None:
    for gone in removed:
        if added.label and added.label != added.name and added.label == gone.label:
            return gone.name, "same label"
        if added.default and added.default == gone.default:
            return gone.name, "same default"
    return None


def _default(parameter: Parameter, masked: bool) -> str:
    if parameter.default is None:
        return "(none)"
    return MASK if masked and parameter.default else _quoted(parameter.default)


def _quoted(text: str) -> str:
    shown = text.replace("\n", "\\n")
    return f'"{shown[:57]}..."' if len(shown) > 60 else f'"{shown}"'


def _options(parameter: Parameter) -> str:
    return "|".join(option.value for option in parameter.options) or "(none)"


def script_files(loaded: Loaded) -> dict[str, bytes]:
    """The files a reviewer reads to see what a version runs, by path: a module's body; a
    template's script, and for a native template the other files of its directory."""
    if isinstance(loaded, ScriptModule):
        extension = get_language(loaded.syntax).extension
        return {f"{loaded.name}{extension}": loaded.body.encode("utf-8")}
    script = loaded.script
    extension = get_language(script.syntax).extension
    if loaded.format == "octopus" or script.file is None:
        files = {f"script{extension}": script.body.encode("utf-8")}
        if loaded.format == "octopus":
            return files  # the JSON file holds everything it runs
    else:
        files = {}
    folder = (loaded.root / loaded.file).parent
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path != loaded.root / loaded.file:
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def file_diffs(
    old: Mapping[str, bytes], new: Mapping[str, bytes], old_at: str, new_at: str
) -> tuple[FileDiff, ...]:
    """Unified diffs of the files that differ; ``old_at`` and ``new_at`` prefix their names."""
    diffs = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        from_name = f"{old_at}/{path}" if before is not None else "/dev/null"
        to_name = f"{new_at}/{path}" if after is not None else "/dev/null"
        old_text, new_text = _text(before), _text(after)
        if old_text is None or new_text is None:
            lines: tuple[str, ...] = (f"Binary files {from_name} and {to_name} differ",)
        else:
            lines = tuple(
                difflib.unified_diff(
                    old_text.splitlines(),
                    new_text.splitlines(),
                    from_name,
                    to_name,
                    lineterm="",
                )
            )
        diffs.append(FileDiff(path, lines))
    return tuple(diffs)


def _text(data: bytes | None) -> str | None:
    if data is None:
        return ""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
