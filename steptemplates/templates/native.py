"""The native template format: a directory with ``steptemplate.toml`` (docs/template-format.md)."""

from __future__ import annotations

from pathlib import Path

from steptemplates import tomlfile
from steptemplates.templates.model import (
    SCRIPT_SYNTAXES,
    Parameter,
    ParameterType,
    Script,
    ScriptModule,
    SelectOption,
    Template,
)

FILE_NAME = "steptemplate.toml"

_TOP_KEYS = ("name", "description", "category", "parameters", "script")
_PARAMETER_KEYS = ("name", "label", "help", "type", "default", "required", "options")
_SCRIPT_KEYS = ("syntax", "file", "body")


def load(path: Path, *, origin: str | None = None) -> Template:
    display = f"{origin}: {FILE_NAME}" if origin else str(path)
    doc = tomlfile.load(path, display=display)
    root = doc.root()
    name = root.required_string("name")
    if not name.strip():
        raise root.error("name", "'name' must not be empty")
    parameters = tuple(_parameter(table) for table in root.tables("parameters"))
    _check_unique_names(parameters, root.tables("parameters"))
    script_table = root.table("script")
    if script_table is None:
        raise root.error(
            None, "a [script] table is required", hint="give a syntax and a file or body"
        )
    script = _script(script_table, path.parent)
    template = Template(
        name=name,
        description=root.string("description", default="") or "",
        category=root.string("category", default="other") or "other",
        parameters=parameters,
        script=script,
        root=path.parent,
    )
    root.reject_unknown(_TOP_KEYS)
    return template


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
    if default is not None:
        default = _check_default(table, name, kind, default, options)
    parameter = Parameter(
        name=name,
        label=table.string("label", default=name) or name,
        help=table.string("help", default="") or "",
        type=kind,
        default=default,
        required=table.boolean("required", default=False),
        options=options,
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
    options = []
    for item in raw:
        if isinstance(item, str):
            options.append(SelectOption(value=item, label=item))
        elif (
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
            options.append(SelectOption(value=value, label=label))
        else:
            raise table.error(
                "options",
                f"parameter '{name}': each option is a string or a table with value and label",
            )
    return tuple(options)


def _check_default(
    table: tomlfile.Table,
    name: str,
    kind: ParameterType,
    default: str,
    options: tuple[SelectOption, ...],
) -> str:
    if "#{" in default:
        return default  # evaluated at run time, checked then
    if kind is ParameterType.CHECKBOX:
        if default.casefold() not in ("true", "false"):
            raise table.error("default", f"parameter '{name}': a checkbox default is true or false")
        return "True" if default.casefold() == "true" else "False"
    if kind is ParameterType.SELECT and default not in {o.value for o in options}:
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


def _script(table: tomlfile.Table, root: Path) -> Script:
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
    table.reject_unknown(_SCRIPT_KEYS)
    if body is not None:
        return Script(syntax=syntax, body=body, file=None)
    assert file is not None
    script_path = (root / file).resolve()
    if not script_path.is_relative_to(root.resolve()):
        raise table.error("file", f"script file '{file}' is outside the template directory")
    try:
        text = script_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise table.error("file", f"script file '{file}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        message = f"script file '{file}' cannot be read as UTF-8 text ({exc})"
        raise table.error("file", message) from None
    return Script(syntax=syntax, body=text, file=script_path.relative_to(root.resolve()).as_posix())


def load_module(path: Path, *, origin: str | None = None) -> ScriptModule:
    """A script module: ``kind = "module"`` with a [script] and optional [modules]."""
    raise NotImplementedError
