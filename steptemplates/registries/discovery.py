"""Finding the templates in a collection's files at one commit, and what the index says
about each: a directory holding ``steptemplate.toml``, or an Octopus ActionTemplate JSON file.

Script modules are not templates and are passed over. Without ``include`` globs only JSON
files that look like ActionTemplates count (a repository holds other JSON too); with them,
every file they match is meant to be a template, so one that does not load is reported.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from steptemplates import globs
from steptemplates.errors import StepsError
from steptemplates.registries.index import IndexParameter
from steptemplates.sources import needs_text
from steptemplates.templates import Template, load_template, native, octopus

NATIVE = "native"
OCTOPUS = "octopus"


@dataclass(frozen=True)
class Candidate:
    """A template found by its files, not yet loaded."""

    path: str  # from the repository's top: the template's directory, or the JSON file
    format: str
    own_name: str | None  # as a short name; None when a quick read could not tell


@dataclass(frozen=True)
class Found:
    """A template as loaded at one commit: what the index lists about it."""

    path: str
    format: str
    own_name: str
    description: str
    category: str
    parameters: tuple[IndexParameter, ...]
    modules: tuple[str, ...]
    template_version: int | None


def slug(text: str) -> str:
    """``text`` as a short name: lower case, runs of other characters as one '-'."""
    return re.sub(r"[^a-z0-9._]+", "-", text.strip().lower()).strip("-._")


def find(root: Path, subdir: str, include: tuple[str, ...]) -> list[Candidate]:
    """The templates under ``root/subdir``, where ``root`` holds the repository's files."""
    base = root / subdir if subdir else root
    files = _files(base)
    if include:
        files = [f for f in files if any(globs.matches(f, pattern) for pattern in include)]
    prefix = f"{subdir}/" if subdir else ""
    manifests = [PurePosixPath(f) for f in files if PurePosixPath(f).name == native.FILE_NAME]
    native_dirs = sorted({m.parent.as_posix() for m in manifests})
    found: list[Candidate] = []
    for directory in native_dirs:
        kind, name = _peek_native(base / directory / native.FILE_NAME)
        if kind != "module":
            path = _join(subdir, "" if directory == "." else directory)
            found.append(Candidate(path, NATIVE, slug(name) if name else None))
    for file in files:
        if not file.lower().endswith(".json") or _inside(file, native_dirs):
            continue
        if _json_kind(base / file, explicit=bool(include)) == "template":
            found.append(Candidate(prefix + file, OCTOPUS, slug(PurePosixPath(file).stem)))
    return sorted(found, key=lambda c: c.path)


def _files(base: Path) -> list[str]:
    if not base.is_dir():
        return []
    found = []
    for directory, subdirs, names in os.walk(base):
        subdirs.sort()
        relative = Path(directory).relative_to(base).as_posix()
        for name in names:
            found.append(name if relative == "." else f"{relative}/{name}")
    return sorted(found)


def _join(subdir: str, relative: str) -> str:
    return "/".join(part for part in (subdir, relative) if part)


def _inside(file: str, directories: list[str]) -> bool:
    parents = {p.as_posix() for p in PurePosixPath(file).parents}
    return any(directory in parents for directory in directories)


def _peek_native(path: Path) -> tuple[str, str | None]:
    """The kind and name a steptemplate.toml declares, read quickly; on any problem
    ("template", None), so that loading it reports the problem properly."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "template", None
    kind, name = data.get("kind", "template"), data.get("name")
    if not isinstance(kind, str):
        kind = "template"
    return kind, (name if isinstance(name, str) else None)


def _json_kind(path: Path, *, explicit: bool) -> str:
    """What a JSON file holds: "template", "module" or "other". A file an ``include`` glob
    names is taken for a template unless it is plainly a script module."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return "template" if explicit else "other"
    if isinstance(data, dict) and octopus.is_action_template(data):
        return "template"
    if isinstance(data, dict) and octopus.looks_like_json(path):
        return "module"
    return "template" if explicit else "other"


def load(root: Path, candidate: Candidate, origin: str) -> Found:
    """Load ``candidate`` from ``root`` (the repository's files); StepsError when it does not
    load or gives no usable short name. ``origin`` says where and at which version."""
    if candidate.format == NATIVE:
        where = candidate.path or "."
        template = load_template(root / candidate.path, origin=f"{origin}: {where}")
        own_name = slug(template.name)
    else:
        template = load_template(root, file=candidate.path, origin=origin)
        own_name = candidate.own_name or ""
    if not own_name:
        raise StepsError(
            f"{origin}: {candidate.path or '.'}: the name '{template.name}' gives no short name",
            hint="name the template with letters or digits",
        )
    return Found(
        path=candidate.path,
        format=candidate.format,
        own_name=own_name,
        description=template.description.strip(),
        category=template.category.strip(),
        parameters=summarise_parameters(template),
        modules=needs_text(template.modules),
        template_version=template.version,
    )


def summarise_parameters(template: Template) -> tuple[IndexParameter, ...]:
    """The parameters as the index lists them; a sensitive parameter's default is left out."""
    return tuple(
        IndexParameter(
            name=parameter.name,
            label=parameter.label,
            type=parameter.type.value,
            required=parameter.required,
            default=None if parameter.sensitive else parameter.default,
            help=parameter.help.strip(),
            options=tuple(option.value for option in parameter.options),
        )
        for parameter in template.parameters
    )
