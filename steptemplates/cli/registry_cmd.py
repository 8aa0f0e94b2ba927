"""`steps registry`: build an index, configure the registries to search, write a catalogue."""

from __future__ import annotations

import argparse

from steptemplates.cli import catalogue_cmd, registry_build_cmd, registry_config_cmd
from steptemplates.cli.common import Command
from steptemplates.console import Console

_ACTIONS = (
    registry_build_cmd.BUILD,
    registry_config_cmd.ADD,
    registry_config_cmd.LIST,
    registry_config_cmd.REMOVE,
    catalogue_cmd.SITE,
)


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action in _ACTIONS:
        action.register(actions)


def _unreachable(args: argparse.Namespace, console: Console) -> int:
    raise AssertionError("every action sets its own handler")


REGISTRY = Command(
    "registry",
    "build, configure and publish registries of templates",
    "Registries index templates wherever they live (git repositories, GitHub releases,\n"
    "NuGet feeds), so that teams find them with `steps search` and add them by short name.",
    _configure,
    _unreachable,
)
