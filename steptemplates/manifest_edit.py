"""Editing ``steps.toml`` (and the user config's registries) through tomlkit, so comments,
order and formatting survive.

Kept apart from ``manifest`` because only the commands that edit (``steps init``, ``steps
add``, ``steps registry add``) need tomlkit, and every other command would pay for
importing it.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit
import tomlkit.items

from steptemplates import fsutil, tomlfile
from steptemplates.errors import StepsError
from steptemplates.manifest import FILE_NAME, Requirement, TemplateRef, ref_fields
from steptemplates.registries.location import RegistryLocation

_Trivia = tomlkit.items.Whitespace | tomlkit.items.Comment
_TRIVIA = (tomlkit.items.Whitespace, tomlkit.items.Comment)

INITIAL = """\
# steps.toml: the step templates this project uses and the process that runs them.
# The format is described in the steps documentation (docs/manifest.md).

[project]
name = {name}

# Templates, by the name steps refer to them with. Add one with `steps add SOURCE`.
[templates]

# Variables every step can read as #{{Name}}.
[variables]

# The process: steps run in this order.
# [[steps]]
# name = "Check the site"
# template = "http-health-check"
# [steps.parameters]
# Url = "https://example.com/health"
"""


def write_initial(path: Path, project_name: str) -> None:
    fsutil.write_text_atomic(path, INITIAL.format(name=tomlfile.quote(project_name)))


_TABLES = {"template": "templates", "package": "packages", "module": "modules"}


def with_template(text: str, name: str, requirement: Requirement) -> str:
    """``text`` (a steps.toml) with template ``name`` added or replaced, formatting kept."""
    return with_ref(text, TemplateRef(name, requirement))


def with_ref(text: str, ref: TemplateRef) -> str:
    """``text`` with ``ref`` added to (or replaced in) the table of its kind: templates,
    packages or modules; formatting kept."""
    name, table_name = ref.name, _TABLES[ref.kind]
    document = tomlkit.parse(text)
    templates = document.get(table_name)
    if templates is None:
        templates = tomlkit.table()
        document[table_name] = templates
    if not isinstance(templates, tomlkit.items.Table):
        raise StepsError(f"{FILE_NAME}: '{table_name}' must be a table to add '{name}' to it")
    entry = tomlkit.table()
    for key, value in ref_fields(ref).items():
        entry[key] = value
    if name in templates:
        templates[name] = entry
    else:
        # Comments above the next table's header stay above it, after the new entry.
        entry.add(tomlkit.nl())
        for item in _detach_trailing_comments(templates):
            entry.add(item)
        templates.add(name, entry)
    return tomlkit.dumps(document)


def _detach_trailing_comments(table: tomlkit.items.Table) -> list[_Trivia]:
    """Remove and return the comments (and blank lines between them) ending ``table``.

    tomlkit keeps a comment written above a table header as the end of the table before it,
    which for ``[templates]`` may be its last subtable.
    """
    body = table.value.body
    if body and isinstance(body[-1][1], tomlkit.items.Table):
        return _detach_trailing_comments(body[-1][1])
    end = len(body)
    while end and body[end - 1][0] is None and isinstance(body[end - 1][1], _TRIVIA):
        end -= 1
    # Blank lines before the first comment stay where they are.
    while end < len(body) and isinstance(body[end][1], tomlkit.items.Whitespace):
        end += 1
    trailing = [item for _key, item in body[end:] if isinstance(item, _TRIVIA)]
    del body[end:]
    return trailing


# --- registries: [registries.NAME] in steps.toml or the user config -----------------------


def with_registry(text: str, location: RegistryLocation, *, display: str) -> str:
    """``text`` (steps.toml or the user config) with ``[registries.NAME]`` for ``location``
    added or replaced, formatting kept; ``display`` names the file in errors."""
    document = tomlkit.parse(text)
    registries = document.get("registries")
    if registries is None:
        # A super table: only the [registries.NAME] headers are written, not [registries].
        registries = tomlkit.table(is_super_table=True)
        document["registries"] = registries
    if not isinstance(registries, tomlkit.items.Table):
        raise StepsError(f"{display}: 'registries' must be a table to add '{location.name}' to it")
    entry = tomlkit.table()
    for key, value in location.fields().items():
        entry[key] = value
    if location.name in registries:
        registries[location.name] = entry
    else:
        entry.add(tomlkit.nl())
        for item in _detach_trailing_comments(registries):
            entry.add(item)
        registries.add(location.name, entry)
    return tomlkit.dumps(document)


def without_registry(text: str, name: str) -> str:
    """``text`` without ``[registries.NAME]``; the whole table goes when it was the last."""
    document = tomlkit.parse(text)
    registries = document.get("registries")
    if isinstance(registries, tomlkit.items.Table) and name in registries:
        del registries[name]
        if not registries:
            del document["registries"]
    return tomlkit.dumps(document)
