"""`steps list` and `steps show`."""

from __future__ import annotations

import argparse

from steptemplates import project
from steptemplates.cli.common import Command, find_project, table
from steptemplates.console import Console, Level
from steptemplates.lockfile import LockedTemplate
from steptemplates.manifest import (
    GitHubRequirement,
    GitRequirement,
    HttpRequirement,
    NuGetRequirement,
    PathRequirement,
    Requirement,
    TemplateRef,
)


def _configure_list(parser: argparse.ArgumentParser) -> None:
    del parser  # no options of its own


def _list(args: argparse.Namespace, console: Console) -> int:
    del args
    current_project = find_project()
    current = current_project.manifest()
    locked = current_project.lockfile()
    for kind, title in (("template", "TEMPLATE"), ("package", "PACKAGE"), ("module", "MODULE")):
        wanted = current.refs(kind)
        if kind != "template" and not wanted:
            continue  # most projects have none: no empty table
        entries = locked.entries(kind) if locked else {}
        rows: list[tuple[str, ...]] = [(title, "SOURCE", "REQUESTED", "LOCKED")]
        for name in sorted(wanted):
            rows.append(_row(name, wanted[name], entries.get(name)))
        if kind != "template":
            console.line(Level.INFO, "")
        for row in table(rows):
            console.line(Level.INFO, row)
    if current.steps:
        console.line(Level.INFO, "")
        console.line(Level.INFO, "PROCESS")
        for index, step in enumerate(current.steps, start=1):
            condition = "" if step.condition.value == "success" else f" [{step.condition.value}]"
            what = step.template if step.package is None else f"package {step.package}"
            console.line(Level.INFO, f"  {index}. {step.name} -> {what}{condition}")
    return 0


def _row(name: str, ref: TemplateRef, entry: LockedTemplate | None) -> tuple[str, ...]:
    where = describe_requirement(ref.source) + (f" [{ref.template}]" if ref.template else "")
    # A module's lock records every range asked of it, not only steps.toml's.
    requested = entry.requested if entry is not None and ref.kind == "module" else None
    pin = "(not locked)"
    if entry is not None and entry.source == "path":
        pin = " ".join(p for p in (entry.template_version, entry.version) if p) or "path"
    elif entry is not None:
        pin = entry.shown
    if ref.autoload:
        pin += " (autoload)"
    return (name, where, requested or ref.source.requested, pin)


def describe_requirement(source: Requirement) -> str:
    """Where a requirement points, in a few words: a URL, ``github:o/r``, ``nuget:Id``."""
    if isinstance(source, PathRequirement):
        return source.path
    subdir = f" ({source.subdir})" if source.subdir else ""
    if isinstance(source, GitRequirement | HttpRequirement):
        return source.url + subdir
    if isinstance(source, GitHubRequirement):
        asset = f" [{source.asset}]" if source.asset else ""
        return f"github:{source.repo}{asset}{subdir}"
    if isinstance(source, NuGetRequirement):
        return f"nuget:{source.source_name or source.feed}#{source.package_id}{subdir}"
    raise AssertionError(source)


LIST = Command(
    "list",
    "list the project's templates and packages, their pins and the process",
    "List every template in steps.toml with its source, requested version and locked version,\n"
    "then the steps of the process in order.",
    _configure_list,
    _list,
)


def _configure_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="a template name from steps.toml")
    parser.add_argument(
        "--offline", action="store_true", help="never use the network; work from the cache"
    )


def _show(args: argparse.Namespace, console: Console) -> int:
    info = project.show(find_project(), args.name, console, offline=args.offline)
    template = info.template
    out = console.line
    out(Level.INFO, f"{info.name}: {template.name}")
    for line in template.description.strip().splitlines():
        out(Level.INFO, f"  {line}")
    out(Level.INFO, f"  category: {template.category}")
    out(Level.INFO, f"  script:   {template.script.syntax}")
    out(Level.INFO, f"  source:   {info.source}")
    out(Level.INFO, f"  locked:   {info.locked}")
    if info.versions is not None:
        shown = ", ".join(info.versions[-15:]) or "no version tags"
        more = f" (and {len(info.versions) - 15} older)" if len(info.versions) > 15 else ""
        out(Level.INFO, f"  versions: {shown}{more}")
    out(Level.INFO, "")
    rows = [("PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "LABEL")]
    for parameter in template.parameters:
        default = (
            "********" if parameter.sensitive and parameter.default else (parameter.default or "")
        )
        default = default if len(default) <= 30 else default[:27] + "..."
        kind = parameter.type.value
        if parameter.options:
            kind += " (" + "|".join(o.value for o in parameter.options) + ")"
        rows.append(
            (
                parameter.name,
                kind,
                "yes" if parameter.required else "",
                default.replace("\n", " "),
                parameter.label,
            )
        )
    for row in table(rows) if template.parameters else ["(no parameters)"]:
        out(Level.INFO, row)
    return 0


SHOW = Command(
    "show",
    "show a template's parameters, versions and source",
    "Show a template's description, parameters, source, locked version and the versions its\n"
    "source offers (from the remote, or from the cache with --offline).",
    _configure_show,
    _show,
)
