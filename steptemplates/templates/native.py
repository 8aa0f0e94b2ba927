"""The native template format: a directory with ``steptemplate.toml`` (docs/template-format.md).

The same file holds a script module when it says ``kind = "module"``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# manifest as a module, not its module_needs: manifest imports the template model, so when
# it is imported first it is only partly loaded while this module is.
from steptemplates import manifest, tomlfile
from steptemplates.templates import octopus
from steptemplates.templates.model import (
    SCRIPT_SYNTAXES,
    OctopusMetadata,
    Parameter,
    ParameterType,
    Script,
    ScriptModule,
    SelectOption,
    Template,
    module_name_problem,
)

FILE_NAME = "steptemplate.toml"

_KINDS = ("template", "module")
_TOP_KEYS = (
    "kind", "name", "description", "category", "parameters", "script", "modules", "octopus",
)  # fmt: skip
_MODULE_TOP_KEYS = ("kind", "name", "description", "script", "modules")
_PARAMETER_KEYS = (
    "name", "label", "help", "type", "default", "required", "options", "id", "extra",
)  # fmt: skip
_SCRIPT_KEYS = ("syntax", "file", "body", "parameters", "package")
_MODULE_SCRIPT_KEYS = ("syntax", "file", "body")
_OCTOPUS_KEYS = ("id", "version", "action-type", "properties", "extra")


def _document(path: Path, origin: str | None) -> tomlfile.TomlDocument:
    display = f"{origin}: {path.name}" if origin else str(path)
    return tomlfile.load(path, display=display)


def _kind(root: tomlfile.Table) -> str:
    kind = root.string("kind", default="template") or "template"
    if kind not in _KINDS:
        raise root.error("kind", f"unknown kind '{kind}'", hint="use 'template' or 'module'")
    return kind


def load(path: Path, *, origin: str | None = None) -> Template:
    root = _document(path, origin).root()
    if _kind(root) == "module":
        raise root.error(
            "kind",
            'this is a script module (kind = "module"), not a step template',
            hint="use it under [modules.NAME] in steps.toml",
        )
    name = root.required_string("name")
    if not name.strip():
        raise root.error("name", "'name' must not be empty")
    parameters = tuple(_parameter(table) for table in root.tables("parameters"))
    _check_unique_names(parameters, root.tables("parameters"))
    script = _script(_script_table(root), path.parent, _SCRIPT_KEYS)
    octopus_table = root.table("octopus")
    metadata = (
        _octopus_metadata(octopus_table, script) if octopus_table is not None else OctopusMetadata()
    )
    template = Template(
        name=name,
        description=root.string("description", default="") or "",
        category=root.string("category", default="other") or "",
        parameters=parameters,
        script=script,
        root=path.parent,
        file=path.name,
        id=_octopus_id(octopus_table),
        version=_octopus_version(octopus_table),
        modules=manifest.module_needs(root, "modules", f"template '{name}'"),
        octopus=metadata,
    )
    root.reject_unknown(_TOP_KEYS)
    return template


def _script_table(root: tomlfile.Table) -> tomlfile.Table:
    table = root.table("script")
    if table is None:
        raise root.error(
            None, "a [script] table is required", hint="give a syntax and a file or body"
        )
    return table


# --- parameters ------------------------------------------------------------------------------


def _parameter(table: tomlfile.Table) -> Parameter:
    name = table.required_string("name").strip()
    if not name:
        raise table.error("name", "parameter name must not be empty")
    if "#{" in name:
        raise table.error("name", f"parameter name '{name}' must not contain '#{{'")
    type_text = table.string("type", default="text") or "text"
    try:
        kind = ParameterType(type_text)
    except ValueError:
        allowed = ", ".join(t.value for t in ParameterType)
        raise table.error(
            "type", f"parameter '{name}': unknown type '{type_text}'", hint=f"use one of: {allowed}"
        ) from None
    options = _options(table, name) if kind is ParameterType.SELECT else ()
    if kind is not ParameterType.SELECT and table.raw("options") is not None:
        raise table.error("options", f"parameter '{name}': 'options' only applies to type 'select'")
    default = table.scalar_text("default")
    raw_default = table.raw("default")
    if default is not None:
        default = _check_default(table, name, kind, raw_default, default, options)
    parameter = Parameter(
        name=name,
        label=table.string("label", default=name) or "",
        help=table.string("help", default="") or "",
        type=kind,
        default=default,
        required=table.boolean("required", default=False),
        options=options,
        id=table.string("id"),
        number_default=isinstance(raw_default, int | float) and not isinstance(raw_default, bool),
        extra=_json_object(table, "extra", f"parameter '{name}': "),
    )
    table.reject_unknown(_PARAMETER_KEYS)
    return parameter


def _options(table: tomlfile.Table, name: str) -> tuple[SelectOption, ...]:
    raw = table.raw("options")
    if not isinstance(raw, list) or not raw:
        raise table.error(
            "options" if raw is not None else None,
            f"parameter '{name}': a select parameter needs a non-empty 'options' list",
        )
    return tuple(_option(table, name, item) for item in raw)


def _option(table: tomlfile.Table, name: str, item: Any) -> SelectOption:
    if isinstance(item, str):
        return SelectOption(value=item, label=item, bare=True)
    if (
        isinstance(item, dict)
        and isinstance(item.get("value"), str)
        and set(item)
        <= {
            "value",
            "label",
        }
    ):
        value = item["value"]
        label = item.get("label", value)
        if not isinstance(label, str):
            raise table.error("options", f"parameter '{name}': option labels must be strings")
        return SelectOption(value=value, label=label)
    raise table.error(
        "options",
        f"parameter '{name}': each option is a string or a table with value and label",
    )


def _check_default(
    table: tomlfile.Table,
    name: str,
    kind: ParameterType,
    raw: Any,
    default: str,
    options: tuple[SelectOption, ...],
) -> str:
    """The default as the template holds it: checkbox strings keep their spelling (an
    Octopus template's "false" converts back as "false")."""
    if "#{" in default:
        return default  # evaluated at run time, checked then
    if kind is ParameterType.CHECKBOX:
        if isinstance(raw, bool) or (
            isinstance(raw, str) and raw.casefold() in ("true", "false", "")
        ):
            return default
        raise table.error("default", f"parameter '{name}': a checkbox default is true or false")
    if kind is ParameterType.SELECT and default and default not in {o.value for o in options}:
        values = ", ".join(o.value for o in options)
        raise table.error(
            "default", f"parameter '{name}': default '{default}' is not an option ({values})"
        )
    return default


def _check_unique_names(parameters: tuple[Parameter, ...], tables: list[tomlfile.Table]) -> None:
    seen: set[str] = set()
    for parameter, table in zip(parameters, tables, strict=True):
        folded = parameter.name.casefold()
        if folded in seen:
            raise table.error(
                "name",
                f"parameter '{parameter.name}' is declared twice (names are case-insensitive)",
            )
        seen.add(folded)


def _json_object(table: tomlfile.Table, key: str, who: str) -> dict[str, Any]:
    """A key holding JSON text for an object (Octopus keys steps keeps but does not use)."""
    text = table.string(key)
    if text is None:
        return {}
    label = tomlfile.format_key_path((*table.key_path, key))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise table.error(
            key,
            f"{who}'{label}' is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
        ) from None
    if not isinstance(value, dict):
        raise table.error(key, f"{who}'{label}' must be a JSON object ({{...}})")
    return value


# --- the script ------------------------------------------------------------------------------


def _script(table: tomlfile.Table, root: Path, keys: tuple[str, ...]) -> Script:
    table.reject_unknown(keys)
    syntax = table.required_string("syntax")
    if syntax not in SCRIPT_SYNTAXES:
        raise table.error(
            "syntax",
            f"unsupported script syntax '{syntax}'",
            hint=f"use one of: {', '.join(SCRIPT_SYNTAXES)}",
        )
    file = table.string("file")
    body = table.string("body")
    if (file is None) == (body is None):
        raise table.error(None, "[script] needs exactly one of 'file' or 'body'")
    parameters = table.string("parameters")
    from_package = table.boolean("package", default=False)
    if from_package and file is None:
        raise table.error("package", "'package = true' needs 'file': the script's path in it")
    if body is not None:
        return Script(syntax=syntax, body=body, file=None, parameters=parameters)
    assert file is not None
    relative, text = _read_script(table, root, file)
    return Script(syntax, text, relative, parameters, from_package)


def _read_script(table: tomlfile.Table, root: Path, file: str) -> tuple[str, str]:
    """The script file's path inside ``root`` and its text, line endings as they are (so a
    conversion to Octopus JSON and back is byte-exact)."""
    script_path = (root / file).resolve()
    if not script_path.is_relative_to(root.resolve()):
        raise table.error("file", f"script file '{file}' is outside the template directory")
    try:
        text = script_path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise table.error("file", f"script file '{file}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        message = f"script file '{file}' cannot be read as UTF-8 text ({exc})"
        raise table.error("file", message) from None
    return script_path.relative_to(root.resolve()).as_posix(), text


# --- [octopus] -------------------------------------------------------------------------------


def _octopus_id(table: tomlfile.Table | None) -> str | None:
    if table is None:
        return None
    value = table.string("id")
    if value is not None and not value.strip():
        raise table.error("id", "'octopus.id' must not be empty (it is the template's GUID)")
    return value


def _octopus_version(table: tomlfile.Table | None) -> int | None:
    if table is None:
        return None
    value = table.raw("version")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise table.error(
            "version", "'octopus.version' must be a whole number >= 0 (Octopus's Version)"
        )
    return value


def _octopus_metadata(table: tomlfile.Table, script: Script) -> OctopusMetadata:
    action_type = table.string("action-type", default=octopus.DEFAULT_ACTION_TYPE)
    if not action_type:
        raise table.error("action-type", "'octopus.action-type' must not be empty")
    metadata = OctopusMetadata(
        action_type=action_type,
        properties=_properties(table, script),
        extra=_json_object(table, "extra", ""),
    )
    table.reject_unknown(_OCTOPUS_KEYS)
    return metadata


def _properties(table: tomlfile.Table, script: Script) -> dict[str, str]:
    properties = table.table("properties")
    if properties is None:
        return {}
    # What [script] says is written there only, so the two cannot disagree.
    owned = {octopus.SYNTAX: "syntax", octopus.SCRIPT_PARAMETERS: "parameters"}
    if script.from_package:
        owned[octopus.SCRIPT_FILE_NAME] = "file"
    else:
        owned[octopus.SCRIPT_BODY] = "file or body"
    for key, value in properties.data.items():
        if not isinstance(value, str):
            raise properties.error(key, f"Octopus property '{key}' must be a string")
        if key in owned:
            raise properties.error(
                key, f"'{key}' comes from [script]: set '{owned[key]}' there instead"
            )
    source = properties.data.get(octopus.SCRIPT_SOURCE)
    if source is not None and (source == "Package") != script.from_package:
        raise properties.error(
            octopus.SCRIPT_SOURCE,
            f"'{octopus.SCRIPT_SOURCE}' is '{source}' but [script] package is "
            f"{'true' if script.from_package else 'false'}",
            hint="remove the property; [script] package = true says the script is in a package",
        )
    return dict(properties.data)


# --- script modules --------------------------------------------------------------------------


def load_module(path: Path, *, origin: str | None = None) -> ScriptModule:
    """A script module: ``kind = "module"`` with a [script] and optional [modules]."""
    root = _document(path, origin).root()
    if _kind(root) != "module":
        raise root.error(
            None,
            "this is a step template, not a script module",
            hint='a module file says kind = "module"; a template goes under [templates.NAME]',
        )
    name = root.required_string("name")
    script = _script(_script_table(root), path.parent, _MODULE_SCRIPT_KEYS)
    problem = module_name_problem(name, script.syntax)
    if problem:
        raise root.error("name", problem)
    module = ScriptModule(
        name=name,
        syntax=script.syntax,
        body=script.body,
        root=path.parent,
        description=root.string("description", default="") or "",
        file=path.name,
        needs=manifest.module_needs(root, "modules", f"module '{name}'"),
    )
    root.reject_unknown(_MODULE_TOP_KEYS)
    return module
