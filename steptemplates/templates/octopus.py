"""Octopus's step-template format: an ActionTemplate exported as JSON (docs/octopus.md).

Reading keeps whatever steps does not use (other properties, top-level keys such as ``$Meta``,
parameter keys such as ``Links``) in the records, so that an export reproduces the file.
For the same reason a ``null`` where steps reads an empty text (Description, Label,
HelpText, a parameter's Id), and a missing Category (read as "other"), are kept in the
record's ``extra`` as ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steptemplates.errors import StepsError
from steptemplates.templates.model import (
    CONTROL_TYPE_OF,
    OCTOPUS_CONTROL_TYPES,
    OCTOPUS_SYNTAX_NAMES,
    OctopusMetadata,
    Parameter,
    ParameterType,
    Script,
    ScriptModule,
    SelectOption,
    Template,
    module_name_problem,
)

SCRIPT_BODY = "Octopus.Action.Script.ScriptBody"
SYNTAX = "Octopus.Action.Script.Syntax"
SCRIPT_SOURCE = "Octopus.Action.Script.ScriptSource"
SCRIPT_FILE_NAME = "Octopus.Action.Script.ScriptFileName"
SCRIPT_PARAMETERS = "Octopus.Action.Script.ScriptParameters"
CONTROL_TYPE = "Octopus.ControlType"
SELECT_OPTIONS = "Octopus.SelectOptions"
DEFAULT_ACTION_TYPE = "Octopus.Script"

# The file extension of each syntax: how a package script's syntax is recognised, and the
# name an imported script is written under.
SCRIPT_EXTENSIONS = {
    "bash": ".sh",
    "python": ".py",
    "powershell": ".ps1",
    "csharp": ".csx",
    "fsharp": ".fsx",
}

# Top-level keys read into Template fields; every other key goes to OctopusMetadata.extra.
TEMPLATE_KEYS = (
    "Id", "Name", "Description", "ActionType", "Version", "Category", "Properties", "Parameters",
)  # fmt: skip
# Parameter keys read into Parameter fields; every other key goes to Parameter.extra.
PARAMETER_KEYS = ("Id", "Name", "Label", "HelpText", "DefaultValue", "DisplaySettings")

# Script steps that Octopus runs inside a cloud tool's context (a logged-in CLI, a kubectl
# configuration); steps runs their script as a plain script step.
_TOOLING_CONTEXTS = {
    "Octopus.AzurePowerShell": "the Azure login",
    "Octopus.AwsRunScript": "the AWS credentials and region",
    "Octopus.KubernetesRunScript": "the kubectl configuration",
    "Octopus.GoogleCloudScripting": "the gcloud login",
}

_MODULE_BODY = re.compile(r"Octopus\.Script\.Module\[(.*)\]", re.DOTALL)
_MODULE_LANGUAGE = "Octopus.Script.Module.Language[{}]"
_SYNTAX_BY_OCTOPUS_NAME = {name.casefold(): syntax for syntax, name in OCTOPUS_SYNTAX_NAMES.items()}
_CONTROL_TYPES_FOLDED = {name.casefold(): kind for name, kind in OCTOPUS_CONTROL_TYPES.items()}
_ACCEPTED_SYNTAXES = ", ".join(OCTOPUS_SYNTAX_NAMES.values())


# --- detection -------------------------------------------------------------------------------


def looks_like_json(path: Path) -> bool:
    """Whether ``path`` is an Octopus ActionTemplate or script-module JSON file (cheaply)."""
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and (is_action_template(data) or bool(_module_bodies(data)))


def is_action_template(data: Mapping[str, Any]) -> bool:
    meta = data.get("$Meta")
    return (
        "ActionType" in data
        or ("Properties" in data and "Parameters" in data)
        or (isinstance(meta, dict) and meta.get("Type") == "ActionTemplate")
    )


# --- select options, shared with the export ----------------------------------------------------


def parse_select_options(text: str) -> tuple[SelectOption, ...]:
    """``Octopus.SelectOptions``: one option a line, ``value|Label`` or a bare value."""
    options = []
    for line in text.split("\n"):
        entry = line.removesuffix("\r")
        if not entry.strip():
            continue
        value, bar, label = entry.partition("|")
        options.append(SelectOption(value, label if bar else value, bare=not bar))
    return tuple(options)


def format_select_options(options: tuple[SelectOption, ...]) -> str:
    return "\n".join(o.value if o.bare else f"{o.value}|{o.label}" for o in options)


# --- reading ---------------------------------------------------------------------------------


class _Reader:
    """Reads one JSON file: errors name it (and the key), warnings are collected."""

    def __init__(self, path: Path, root: Path, origin: str | None) -> None:
        self.path = path
        self.file = _relative(path, root)
        self.display = f"{origin}: {self.file}" if origin else str(path)
        self.warnings: list[str] = []

    def error(self, where: str | None, message: str, *, hint: str | None = None) -> StepsError:
        prefix = f"{self.display}: {where}" if where else self.display
        return StepsError(f"{prefix}: {message}", hint=hint)

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.file}: {message}")

    def json_object(self, expected: str) -> dict[str, Any]:
        """The file's JSON object; ``expected`` says what it should be, for other JSON."""
        try:
            text = self.path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise StepsError(f"{self.display}: file not found") from None
        except UnicodeDecodeError as exc:
            raise self.error(None, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise self.error(None, f"cannot read ({exc.strerror})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StepsError(
                f"{self.display}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        except RecursionError:
            raise self.error(None, "invalid JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise self.error(None, f"a JSON {_json_kind(data)}, not {expected}")
        return data


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "object"


def load(path: Path, root: Path, *, origin: str | None = None) -> Template:
    """The ActionTemplate in ``path``; ``root`` is the directory (or package) holding it,
    where a package script (ScriptSource "Package") is read from."""
    reader = _Reader(path, root, origin)
    data = reader.json_object(
        "an Octopus step template (an object with ActionType, Properties and Parameters)"
    )
    _check_is_template(reader, data)
    extra = {key: value for key, value in data.items() if key not in TEMPLATE_KEYS}
    name = data.get("Name")
    if name is not None and not isinstance(name, str):
        raise reader.error("Name", "must be a string")
    if not name or not name.strip():
        raise reader.error("Name", "missing or empty; a step template needs a name")
    description = _nullable_text(reader, data, "Description", extra)
    category = _category(reader, data, extra)
    action_type = data.get("ActionType", DEFAULT_ACTION_TYPE)
    if not isinstance(action_type, str):
        raise reader.error("ActionType", "must be a string")
    properties = _properties(reader, data.get("Properties", {}))
    script, kept_properties = _script(reader, properties, action_type, root)
    _warn_about_action_type(reader, action_type)
    parameters = _parameters(reader, data.get("Parameters", []))
    return Template(
        name=name,
        description=description,
        category=category,
        parameters=parameters,
        script=script,
        root=root,
        format="octopus",
        file=reader.file,
        id=_template_id(reader, data.get("Id")),
        version=_version(reader, data.get("Version")),
        octopus=OctopusMetadata(action_type, kept_properties, extra),
        warnings=tuple(reader.warnings),
    )


def _check_is_template(reader: _Reader, data: dict[str, Any]) -> None:
    if is_action_template(data):
        return
    modules = _module_bodies(data)
    if modules:
        name = next(iter(modules))
        raise reader.error(
            None,
            f"an Octopus script module ('{name}'), not a step template",
            hint=f"use it under [modules.{name}] in steps.toml",
        )
    if "Variables" in data:
        raise reader.error(None, "an Octopus variable set, not a step template")
    raise reader.error(
        None,
        "not an Octopus step template: it has no ActionType, Properties or Parameters",
    )


def _nullable_text(
    reader: _Reader, data: Mapping[str, Any], key: str, extra: dict[str, Any]
) -> str:
    """A text that may be null: null reads as "" and is remembered in ``extra``."""
    value = data.get(key, "")
    if value is None:
        extra[key] = None
        return ""
    if not isinstance(value, str):
        raise reader.error(key, "must be a string or null")
    return value


def _category(reader: _Reader, data: Mapping[str, Any], extra: dict[str, Any]) -> str:
    """Category; absent reads as "other" (as the library's site shows it), remembered as
    None in ``extra`` so that an export leaves it out again."""
    category = data.get("Category")
    if category is None:
        extra["Category"] = None
        return "other"
    if not isinstance(category, str):
        raise reader.error("Category", "must be a string")
    return category


def _template_id(reader: _Reader, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise reader.error("Id", "must be a string (a GUID)")


def _version(reader: _Reader, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise reader.error(
        "Version", f"must be a whole number (the template's version), not {json.dumps(value)}"
    )


def _properties(reader: _Reader, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise reader.error("Properties", "must be an object mapping names to strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise reader.error(
                "Properties",
                f"must map names to strings; '{key}' is a {_json_kind(item)}",
                hint='Octopus writes every property as a string, e.g. "true"',
            )
    return dict(value)


def _warn_about_action_type(reader: _Reader, action_type: str) -> None:
    if action_type == DEFAULT_ACTION_TYPE:
        return
    context = _TOOLING_CONTEXTS.get(action_type)
    if context is not None:
        reader.warn(
            f"ActionType {action_type}: steps runs the script but does not set up {context} "
            "the step gets in Octopus; the script must do it (or the variables supply it)"
        )
    else:
        reader.warn(f"ActionType {action_type}: steps runs only the step's script")


# --- the script ------------------------------------------------------------------------------


def _script(
    reader: _Reader, properties: dict[str, str], action_type: str, root: Path
) -> tuple[Script, dict[str, str]]:
    """The script, and the properties left once the script's own are taken out."""
    source = properties.get(SCRIPT_SOURCE, "Inline")
    if source not in ("Inline", "Package"):
        raise reader.error(
            SCRIPT_SOURCE, f"unknown script source '{source}'; use Inline or Package"
        )
    kept = {k: v for k, v in properties.items() if k not in (SYNTAX, SCRIPT_PARAMETERS)}
    parameters = properties.get(SCRIPT_PARAMETERS)
    if source == "Package":
        file, body = _package_script(reader, properties, root)
        del kept[SCRIPT_FILE_NAME]
        syntax = _syntax(reader, properties.get(SYNTAX), file)
        return Script(syntax, body, file, parameters, from_package=True), kept
    inline = properties.get(SCRIPT_BODY)
    if inline is None:
        raise reader.error(
            "Properties",
            f"the template has no {SCRIPT_BODY}; "
            f"steps runs script step templates (ActionType {action_type})",
        )
    del kept[SCRIPT_BODY]
    return Script(_syntax(reader, properties.get(SYNTAX), None), inline, None, parameters), kept


def _syntax(reader: _Reader, written: str | None, package_file: str | None) -> str:
    if written is None:
        # Octopus runs a package script by its extension, and an inline one by the OS.
        by_extension = {ext: syntax for syntax, ext in SCRIPT_EXTENSIONS.items()}
        if package_file is not None and Path(package_file).suffix.lower() in by_extension:
            return by_extension[Path(package_file).suffix.lower()]
        raise reader.error(
            "Properties",
            f"{SYNTAX} is missing (Octopus picks one by the worker's OS; steps does not)",
            hint=f"set it to one of: {_ACCEPTED_SYNTAXES}",
        )
    syntax = _SYNTAX_BY_OCTOPUS_NAME.get(written.casefold())
    if syntax is None:
        raise reader.error(
            SYNTAX,
            f"unknown script syntax '{written}'",
            hint=f"use one of: {_ACCEPTED_SYNTAXES}",
        )
    return syntax


def _package_script(reader: _Reader, properties: dict[str, str], root: Path) -> tuple[str, str]:
    """ScriptSource "Package": the file named by ScriptFileName, inside ``root``."""
    written = properties.get(SCRIPT_FILE_NAME)
    if not written:
        raise reader.error(
            "Properties",
            f"{SCRIPT_SOURCE} is Package but {SCRIPT_FILE_NAME} is missing",
            hint="name the script's path inside the package",
        )
    relative = written.replace("\\", "/")
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise reader.error(SCRIPT_FILE_NAME, f"'{written}' is outside {root}")
    try:
        body = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise reader.error(
            SCRIPT_FILE_NAME,
            f"the script '{written}' is not in {root}",
            hint="the script comes from the package holding the template; add it there",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise reader.error(
            SCRIPT_FILE_NAME, f"the script '{written}' cannot be read as UTF-8 text ({exc})"
        ) from None
    return path.relative_to(root.resolve()).as_posix(), body


# --- parameters ------------------------------------------------------------------------------


def _parameters(reader: _Reader, value: Any) -> tuple[Parameter, ...]:
    if not isinstance(value, list):
        raise reader.error("Parameters", "must be a list of parameter objects")
    parameters: list[Parameter] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        parameter = _parameter(reader, f"Parameters[{index}]", item)
        folded = parameter.name.casefold()
        if folded in seen:
            raise reader.error(
                f"Parameters[{index}]",
                f"parameter '{parameter.name}' is declared twice (names are case-insensitive)",
            )
        seen.add(folded)
        parameters.append(parameter)
    return tuple(parameters)


def _parameter(reader: _Reader, where: str, raw: Any) -> Parameter:
    if not isinstance(raw, dict):
        raise reader.error(where, "must be an object with Name, Label, HelpText and so on")
    name = raw.get("Name")
    if not isinstance(name, str) or not name.strip():
        raise reader.error(where, "Name must be a non-empty string")
    where = f"{where} ('{name}')"
    extra = {key: value for key, value in raw.items() if key not in PARAMETER_KEYS}
    label = _nullable_text(reader, raw, "Label", extra) if "Label" in raw else name
    help_text = _nullable_text(reader, raw, "HelpText", extra)
    parameter_id = raw.get("Id")
    if parameter_id is not None and not isinstance(parameter_id, str):
        raise reader.error(where, "Id must be a string (a GUID)")
    if parameter_id is None and "Id" in raw:
        extra["Id"] = None
    display = raw.get("DisplaySettings") or {}
    if not isinstance(display, dict):
        raise reader.error(where, "DisplaySettings must be an object")
    kind, kept_display = _control_type(reader, name, display)
    options = _options(reader, where, kind, display)
    if SELECT_OPTIONS in display and format_select_options(options) != display[SELECT_OPTIONS]:
        # Another layout (CRLF, a trailing newline), or options on a type that has none.
        kept_display[SELECT_OPTIONS] = display[SELECT_OPTIONS]
    if kept_display:
        extra["DisplaySettings"] = kept_display
    default, number_default = _default(reader, where, kind, raw.get("DefaultValue"))
    _check_default(reader, name, kind, default, options)
    return Parameter(
        name=name,
        label=label,
        help=help_text,
        type=kind,
        default=default,
        required=False,  # Octopus has no such flag
        options=options,
        id=parameter_id,
        number_default=number_default,
        extra=extra,
    )


def parameter_type_of(control_type: str) -> ParameterType | None:
    """The type an ``Octopus.ControlType`` stands for (any case), or None when unknown."""
    return _CONTROL_TYPES_FOLDED.get(control_type.casefold())


def _control_type(
    reader: _Reader, name: str, display: Mapping[str, Any]
) -> tuple[ParameterType, dict[str, Any]]:
    """The parameter's type, and the DisplaySettings to keep as written (everything but
    the control type and select options, plus a control type not spelt as steps writes it)."""
    kept = {k: v for k, v in display.items() if k not in (CONTROL_TYPE, SELECT_OPTIONS)}
    written = display.get(CONTROL_TYPE)
    if written is None:
        return ParameterType.TEXT, kept
    kind = parameter_type_of(written) if isinstance(written, str) else None
    if kind is None:
        reader.warn(
            f"parameter '{name}' has an unknown control type {json.dumps(written)}; "
            "it is treated as text"
        )
        kind = ParameterType.TEXT
    if written != CONTROL_TYPE_OF[kind]:
        kept[CONTROL_TYPE] = written
    return kind, kept


def _options(
    reader: _Reader, where: str, kind: ParameterType, display: Mapping[str, Any]
) -> tuple[SelectOption, ...]:
    if kind is not ParameterType.SELECT:
        return ()
    text = display.get(SELECT_OPTIONS)
    if not isinstance(text, str):
        raise reader.error(
            where, f"a Select parameter needs {SELECT_OPTIONS} (one 'value|Label' a line)"
        )
    options = parse_select_options(text)
    if not options:
        raise reader.error(where, f"a Select parameter needs at least one of {SELECT_OPTIONS}")
    return options


def _default(
    reader: _Reader, where: str, kind: ParameterType, value: Any
) -> tuple[str | None, bool]:
    """DefaultValue as text, and whether it was written as a number."""
    if value is None or isinstance(value, str):
        return value, False
    if isinstance(value, bool):
        if kind is ParameterType.CHECKBOX:
            return ("True" if value else "False"), False
        raise reader.error(where, "DefaultValue true/false is only for a Checkbox parameter")
    if isinstance(value, int | float):
        return str(value), True
    raise reader.error(where, "DefaultValue must be a string, a number or null")


def _check_default(
    reader: _Reader,
    name: str,
    kind: ParameterType,
    default: str | None,
    options: tuple[SelectOption, ...],
) -> None:
    """Octopus accepts these defaults; a step that keeps one fails, so say so now."""
    if not default or "#{" in default:
        return
    if kind is ParameterType.SELECT and default not in {o.value for o in options}:
        values = ", ".join(o.value for o in options)
        reader.warn(f"parameter '{name}': default '{default}' is not one of its options ({values})")
    if kind is ParameterType.CHECKBOX and default.casefold() not in ("true", "false"):
        reader.warn(f"parameter '{name}': checkbox default '{default}' is not True or False")


# --- script modules --------------------------------------------------------------------------


def load_module(path: Path, root: Path, *, origin: str | None = None) -> ScriptModule:
    """Octopus's script module: a variable set holding ``Octopus.Script.Module[<Name>]`` (as
    the API returns it, or flat as {name: value}) and optionally its language."""
    reader = _Reader(path, root, origin)
    data = reader.json_object(
        "an Octopus script module (an object holding Octopus.Script.Module[NAME])"
    )
    if is_action_template(data):
        raise reader.error(
            None,
            "an Octopus step template, not a script module",
            hint="use it under [templates.NAME] in steps.toml",
        )
    content_type = data.get("ContentType", "ScriptModule")
    if content_type != "ScriptModule":
        raise reader.error(
            "ContentType", f"{json.dumps(content_type)}: a variable set, not a script module"
        )
    variables = _module_variables(reader, data)
    bodies = _module_bodies(data)
    if not bodies:
        raise reader.error(
            None,
            "holds no Octopus.Script.Module[NAME] variable",
            hint="a script module's code is the value of Octopus.Script.Module[NAME]",
        )
    if len(bodies) > 1:
        raise reader.error(
            None,
            f"holds {len(bodies)} script modules ({', '.join(bodies)}); one file holds one",
        )
    name, body = next(iter(bodies.items()))
    if not isinstance(body, str):
        raise reader.error(f"Octopus.Script.Module[{name}]", "the module's code must be a string")
    syntax = _module_syntax(reader, name, variables.get(_MODULE_LANGUAGE.format(name)))
    problem = module_name_problem(name, syntax)
    if problem:
        raise reader.error(f"Octopus.Script.Module[{name}]", problem)
    return ScriptModule(
        name=name,
        syntax=syntax,
        body=body,
        root=root,
        description=_module_description(reader, data),
        format="octopus",
        file=reader.file,
        warnings=tuple(reader.warnings),
    )


def _module_variables(reader: _Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    """The variables as {name: value}: from a variable set's Variables list, or the object."""
    listed = data.get("Variables")
    if listed is None:
        return dict(data)
    if not isinstance(listed, list) or not all(
        isinstance(v, dict) and isinstance(v.get("Name"), str) for v in listed
    ):
        raise reader.error("Variables", "must be a list of objects with Name and Value")
    return {v["Name"]: v.get("Value") for v in listed}


def _module_bodies(data: Mapping[str, Any]) -> dict[str, Any]:
    """Module name -> code, for every Octopus.Script.Module[<Name>] variable (never raises)."""
    listed = data.get("Variables")
    if isinstance(listed, list):
        pairs = [(v.get("Name"), v.get("Value")) for v in listed if isinstance(v, dict)]
    else:
        pairs = list(data.items())
    found: dict[str, Any] = {}
    for key, value in pairs:
        match = _MODULE_BODY.fullmatch(key) if isinstance(key, str) else None
        if match:
            found[match.group(1)] = value
    return found


def _module_syntax(reader: _Reader, name: str, written: Any) -> str:
    if written is None:
        return "powershell"  # what Calamari assumes
    syntax = _SYNTAX_BY_OCTOPUS_NAME.get(written.casefold()) if isinstance(written, str) else None
    if syntax is None:
        raise reader.error(
            _MODULE_LANGUAGE.format(name),
            f"unknown language {json.dumps(written)}",
            hint=f"use one of: {_ACCEPTED_SYNTAXES}",
        )
    return syntax


def _module_description(reader: _Reader, data: Mapping[str, Any]) -> str:
    if "Variables" not in data:
        return ""
    return _nullable_text(reader, data, "Description", {})
