"""Octopus ActionTemplate JSON <-> the native layout (steptemplate.toml and a script file).

``steps import`` and ``steps export`` (docs/octopus.md). Both directions are lossless for
what the records keep: an Octopus file imported and exported again gives the same JSON, and
a native template with an ``[octopus] id`` and ``version`` exported and imported again gives
the same values and script bytes.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steptemplates import fsutil, tomlfile
from steptemplates.errors import StepsError
from steptemplates.templates import load_template, native, octopus
from steptemplates.templates.model import (
    CONTROL_TYPE_OF,
    OCTOPUS_SYNTAX_NAMES,
    ModuleNeed,
    Parameter,
    ParameterType,
    SelectOption,
    Template,
)

# Where an exported template's Id comes from when it has none: its name, in this namespace.
_ID_NAMESPACE = uuid.UUID("5b0e7c2a-8d4f-4b61-9a3e-2f6c1d8e7a90")

# The order Octopus writes an ActionTemplate's keys in; other keys follow as they were.
_KEY_ORDER = (
    "Id", "Name", "Description", "ActionType", "Version", "CommunityActionTemplateId",
    "Packages", "GitDependencies", "Properties", "Parameters", "StepPackageId", "$Meta",
    "LastModifiedBy", "Category",
)  # fmt: skip

# Texts read from a JSON null: exported as null again while they are still empty.
_NULLABLE_PARAMETER_KEYS = ("Label", "HelpText")


@dataclass(frozen=True)
class NativeFiles:
    """A template in the native layout: steptemplate.toml's text and the other files."""

    toml: str
    files: Mapping[str, bytes]  # path inside the template directory -> content


@dataclass(frozen=True)
class Imported:
    path: Path  # the template directory written
    template: Template  # as read from the JSON file
    files: tuple[str, ...]  # the files written, steptemplate.toml first
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Exported:
    text: str  # the JSON document
    warnings: tuple[str, ...]


# --- to the native layout ----------------------------------------------------------------------


def to_native(template: Template) -> NativeFiles:
    """steptemplate.toml and the script file; an inline script becomes ``script.<ext>``."""
    script = template.script
    file = script.file or f"script{octopus.SCRIPT_EXTENSIONS[script.syntax]}"
    sections = [
        _header(template),
        *(_parameter_lines(p) for p in template.parameters),
        _script_lines(template, file),
        _module_lines(template.modules),
        _octopus_lines(template),
    ]
    text = "\n".join("\n".join(lines) + "\n" for lines in sections if lines)
    return NativeFiles(text, {file: script.body.encode("utf-8")})


def _header(template: Template) -> list[str]:
    lines = [f"name = {tomlfile.quote(template.name)}"]
    if template.description:
        lines.append(f"description = {toml_string(template.description)}")
    lines.append(f"category = {tomlfile.quote(template.category)}")
    return lines


def _parameter_lines(parameter: Parameter) -> list[str]:
    lines = ["[[parameters]]", f"name = {tomlfile.quote(parameter.name)}"]
    if parameter.label != parameter.name:
        lines.append(f"label = {toml_string(parameter.label)}")
    if parameter.help:
        lines.append(f"help = {toml_string(parameter.help)}")
    if parameter.type is not ParameterType.TEXT:
        lines.append(f"type = {tomlfile.quote(parameter.type.value)}")
    if parameter.required:
        lines.append("required = true")
    if parameter.default is not None:
        lines.append(f"default = {_default_toml(parameter)}")
    if parameter.options:
        lines.extend(_option_lines(parameter.options))
    if parameter.id is not None:
        lines.append(f"id = {tomlfile.quote(parameter.id)}")
    if parameter.extra:
        lines.append(f"extra = {_json_toml(json.dumps(parameter.extra, ensure_ascii=False))}")
    return lines


def _default_toml(parameter: Parameter) -> str:
    assert parameter.default is not None
    if parameter.number_default:
        number = _number(parameter.default)
        if number is not None:
            return repr(number)
    return toml_string(parameter.default)


def _option_lines(options: tuple[SelectOption, ...]) -> list[str]:
    items = [
        tomlfile.quote(o.value)
        if o.bare
        else f"{{ value = {tomlfile.quote(o.value)}, label = {tomlfile.quote(o.label)} }}"
        for o in options
    ]
    return ["options = [", *(f"  {item}," for item in items), "]"]


def _script_lines(template: Template, file: str) -> list[str]:
    script = template.script
    lines = ["[script]", f"syntax = {tomlfile.quote(script.syntax)}"]
    lines.append(f"file = {tomlfile.quote(file)}")
    if script.from_package:
        lines.append("package = true")
    if script.parameters is not None:
        lines.append(f"parameters = {toml_string(script.parameters)}")
    return lines


def _module_lines(modules: tuple[ModuleNeed, ...]) -> list[str]:
    if not modules:
        return []
    lines = ["[modules]"]
    for need in modules:
        version = tomlfile.quote(need.version or "*")
        value = f"{{ version = {version}, autoload = true }}" if need.autoload else version
        lines.append(f"{need.name} = {value}")
    return lines


def _octopus_lines(template: Template) -> list[str]:
    metadata = template.octopus
    lines = ["[octopus]"]
    if template.id is not None:
        lines.append(f"id = {tomlfile.quote(template.id)}")
    if template.version is not None:
        lines.append(f"version = {template.version}")
    if metadata.action_type != octopus.DEFAULT_ACTION_TYPE:
        lines.append(f"action-type = {tomlfile.quote(metadata.action_type)}")
    if metadata.extra:
        text = json.dumps(metadata.extra, indent=2, ensure_ascii=False) + "\n"
        lines.append(f"extra = {_json_toml(text)}")
    if metadata.properties:
        lines.extend(["", "[octopus.properties]"])
        lines.extend(
            f"{tomlfile.quote(k)} = {toml_string(v)}" for k, v in metadata.properties.items()
        )
    return lines if len(lines) > 1 else []


# --- TOML strings --------------------------------------------------------------------------------


def toml_string(value: str) -> str:
    """A TOML string that reads back as exactly ``value``: a multi-line text as a literal
    block when it can be one, else with escapes."""
    if "\n" not in value:
        return tomlfile.quote(value)
    if _literal_block_safe(value):
        return f"'''\n{value}'''"
    return f'"""\n{_escape_block(value)}"""'


def _json_toml(text: str) -> str:
    """JSON text: a literal string when possible, so its quotes need no escapes."""
    if "\n" not in text and "'" not in text and not _has_control(text, allowed="\t"):
        return f"'{text}'"
    return toml_string(text)


def _literal_block_safe(value: str) -> bool:
    # TOML reads \r\n in a block as \n, and a block cannot hold ''' or end in a quote.
    return (
        "'''" not in value and not value.endswith("'") and not _has_control(value, allowed="\t\n")
    )


def _has_control(value: str, *, allowed: str) -> bool:
    return any((ord(c) < 0x20 or ord(c) == 0x7F) and c not in allowed for c in value)


def _escape_block(value: str) -> str:
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\r":
            out.append("\\r")
        elif char not in "\t\n" and (code < 0x20 or code == 0x7F):
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return "".join(out)


# --- to Octopus JSON -----------------------------------------------------------------------------


def derived_id(name: str) -> str:
    """The Id a template without ``[octopus] id`` is exported with: the same for the same name."""
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def to_octopus(template: Template, *, exported_at: datetime | None = None) -> dict[str, Any]:
    """The ActionTemplate object, keys in Octopus's order."""
    extra = template.octopus.extra
    data: dict[str, Any] = {
        "Id": template.id if template.id is not None else derived_id(template.name),
        "Name": template.name,
        "Description": _kept_null(template.description, extra, "Description"),
        "ActionType": template.octopus.action_type,
        "Version": template.version if template.version is not None else 1,
        "Properties": _properties(template),
        "Parameters": [_parameter_json(p) for p in template.parameters],
        "Category": template.category,
    }
    if template.category == "other" and "Category" in extra and extra["Category"] is None:
        del data["Category"]  # the file had none
    for key, value in extra.items():
        if key not in octopus.TEMPLATE_KEYS:
            data.setdefault(key, value)
    if "$Meta" not in data:
        data["$Meta"] = {"ExportedAt": _timestamp(exported_at), "Type": "ActionTemplate"}
    first = [key for key in _KEY_ORDER if key in data]
    return {key: data[key] for key in (*first, *(k for k in data if k not in _KEY_ORDER))}


def _kept_null(value: str, extra: Mapping[str, Any], key: str) -> str | None:
    return None if value == "" and key in extra and extra[key] is None else value


def _properties(template: Template) -> dict[str, str]:
    script = template.script
    kept = template.octopus.properties
    properties: dict[str, str] = {}
    if script.from_package:
        properties[octopus.SCRIPT_SOURCE] = "Package"
    elif octopus.SCRIPT_SOURCE in kept:
        properties[octopus.SCRIPT_SOURCE] = kept[octopus.SCRIPT_SOURCE]
    properties[octopus.SYNTAX] = OCTOPUS_SYNTAX_NAMES[script.syntax]
    if script.from_package:
        assert script.file is not None
        properties[octopus.SCRIPT_FILE_NAME] = script.file
    else:
        properties[octopus.SCRIPT_BODY] = script.body
    if script.parameters is not None:
        properties[octopus.SCRIPT_PARAMETERS] = script.parameters
    for key, value in kept.items():
        properties.setdefault(key, value)
    return properties


def _parameter_json(parameter: Parameter) -> dict[str, Any]:
    extra = parameter.extra
    data: dict[str, Any] = {}
    if parameter.id is not None or ("Id" in extra and extra["Id"] is None):
        data["Id"] = parameter.id
    data["Name"] = parameter.name
    data["Label"] = _kept_null(parameter.label, extra, "Label")
    data["HelpText"] = _kept_null(parameter.help, extra, "HelpText")
    data["DefaultValue"] = _default_json(parameter)
    data["DisplaySettings"] = _display_settings(parameter)
    for key, value in extra.items():
        data.setdefault(key, value)
    return data


def _default_json(parameter: Parameter) -> str | int | float | None:
    if parameter.default is not None and parameter.number_default:
        number = _number(parameter.default)
        if number is not None:
            return number
    return parameter.default


def _number(text: str) -> int | float | None:
    try:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return None


def _display_settings(parameter: Parameter) -> dict[str, Any]:
    """Octopus.ControlType and SelectOptions from the parameter; what was kept as written
    (another spelling, an unknown control type, options with CRLF) while it still says the
    same, and the other settings as they were."""
    kept = parameter.extra.get("DisplaySettings")
    kept = kept if isinstance(kept, dict) else {}
    control = kept.get(octopus.CONTROL_TYPE)
    if (
        not isinstance(control, str)
        or (octopus.parameter_type_of(control) or ParameterType.TEXT) is not parameter.type
    ):
        control = CONTROL_TYPE_OF[parameter.type]
    settings: dict[str, Any] = {octopus.CONTROL_TYPE: control}
    if parameter.type is ParameterType.SELECT:
        written = kept.get(octopus.SELECT_OPTIONS)
        same = (
            isinstance(written, str) and octopus.parse_select_options(written) == parameter.options
        )
        settings[octopus.SELECT_OPTIONS] = (
            written if same else octopus.format_select_options(parameter.options)
        )
    for key, value in kept.items():
        settings.setdefault(key, value)
    return settings


def _timestamp(exported_at: datetime | None) -> str:
    """$Meta.ExportedAt: the given time, else SOURCE_DATE_EPOCH (reproducible builds), else now."""
    if exported_at is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is not None and not epoch.strip().isdigit():
            raise StepsError(
                f"SOURCE_DATE_EPOCH is '{epoch}'; it must be a whole number of seconds"
            )
        exported_at = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    moment = exported_at.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def export_warnings(template: Template) -> tuple[str, ...]:
    """What the JSON cannot say, or says only because steps made it up."""
    return tuple(_export_warnings(template))


def _export_warnings(template: Template) -> Iterator[str]:
    if template.id is None:
        made = derived_id(template.name)
        yield (
            f"'{template.name}' has no [octopus] id; exported with Id {made}, made from its "
            f'name: add id = "{made}" under [octopus] so that the Id survives a rename'
        )
    if template.version is None:
        yield (
            f"'{template.name}' has no [octopus] version; exported as Version 1: set it under "
            "[octopus] (or pass --version) and raise it with every change, since Octopus "
            "offers an update only for a higher Version"
        )
    for parameter in template.parameters:
        if parameter.required:
            yield (
                f"parameter '{parameter.name}' is required here; Octopus has no required "
                "parameters, so that is not carried over"
            )
    if template.modules:
        names = ", ".join(need.name for need in template.modules)
        yield (
            f"'{template.name}' needs script modules ({names}); Octopus has no per-template "
            "modules: include them in the Octopus project"
        )


def export_template(
    template: Template, *, version: int | None = None, exported_at: datetime | None = None
) -> Exported:
    """The template as Octopus JSON text (2-space indent), with what to tell the user."""
    if version is not None:
        template = replace(template, version=version)
    data = to_octopus(template, exported_at=exported_at)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return Exported(text, (*template.warnings, *export_warnings(template)))


def export_dir(template_dir: Path, *, version: int | None = None) -> Exported:
    """Export the template in ``template_dir`` (or the template file it names)."""
    if version is not None and version < 0:
        raise StepsError(f"--version {version}: Octopus's Version is a whole number >= 0")
    if template_dir.is_file():
        template = load_template(template_dir.parent, file=template_dir.name)
    else:
        template = load_template(template_dir)
    return export_template(template, version=version)


# --- import ------------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A directory name from a template name, as the Octopus library names its files."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "template"


def import_json(
    json_path: Path, target_dir: Path | None = None, *, force: bool = False
) -> Imported:
    """Write the Octopus template in ``json_path`` as a native template directory (by
    default a slug of its name). An existing non-empty directory needs ``force``; then
    the template's files are replaced and other files are left alone."""
    if not json_path.is_file():
        raise StepsError(f"{json_path}: file not found")
    template = octopus.load(json_path, json_path.parent)
    target = target_dir if target_dir is not None else Path(slug(template.name))
    _check_target(target, force)
    files = to_native(template)
    warnings = list(template.warnings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with fsutil.temporary_directory(target.parent, f".{target.name}.import-") as temporary:
        staging = temporary / "template"  # made by mkdir, so with the usual permissions
        staging.mkdir()
        _write_files(staging, files)
        problem = _load_problem(staging, target)
        if problem:
            warnings.append(problem)
        _move_into_place(staging, target, files)
    return Imported(target, template, (native.FILE_NAME, *files.files), tuple(warnings))


def _check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise StepsError(f"{target} exists and is not a directory", hint="choose another --to")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise StepsError(
            f"{target} is not empty",
            hint="choose another --to, or pass --force to replace the template's files there",
        )


def _write_files(staging: Path, files: NativeFiles) -> None:
    (staging / native.FILE_NAME).write_bytes(files.toml.encode("utf-8"))
    for relative, content in files.files.items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _load_problem(staging: Path, target: Path) -> str | None:
    """Why the written template would not load (an Octopus file may hold what a native
    file may not, such as a select default outside its options), or None."""
    try:
        native.load(staging / native.FILE_NAME, origin=str(target))
    except StepsError as error:
        return f"{error}; edit it before use"
    return None


def _move_into_place(staging: Path, target: Path, files: NativeFiles) -> None:
    if not target.exists() or not any(target.iterdir()):
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
        return
    for relative in (native.FILE_NAME, *files.files):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / relative, destination)
